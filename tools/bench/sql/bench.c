/* bench.c — times the SQL module against the equivalent hand-written SQL on one database:
 * each query prepared once, then run (stepped to the end, reset) many times; reports p50, p90
 * and mean per query and the ratio of each function to its plain-SQL twin. Built and run by
 * run.sh; not a test. Usage: bench DB EXTENSION GUIDED_DOMAIN
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CURRENT " AND dp.last_seen = d.last_fetched"
#define LINKS                                                                                      \
    " FROM pivots p JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id"                             \
    " JOIN domains d ON d.domain_id = dp.domain_id"
#define PIVOT_COLS                                                                                 \
    "d.domain, d.risk_score, d.create_date,"                                                       \
    " CAST(julianday('now') - julianday(d.create_date) AS INTEGER) AS age_days, d.first_seen,"     \
    " d.active, d.last_fetched, p.count AS vendor_count"
#define RISK_BUCKETS                                                                               \
    "WITH b(k) AS (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9),(10)),"                          \
    " r AS (SELECT CASE WHEN d.risk_score IS NULL THEN 10 WHEN d.risk_score >= 90 THEN 9"          \
    "  WHEN d.risk_score < 0 THEN 0 ELSE d.risk_score / 10 END AS k" LINKS                         \
    "  WHERE p.field = 'nameserver_host' AND p.value = 'ns1.shared10k.example'" CURRENT ")"        \
    " SELECT CASE WHEN b.k = 10 THEN 'unknown' ELSE (b.k * 10) || '-' ||"                          \
    "  (CASE WHEN b.k = 9 THEN 100 ELSE b.k * 10 + 9 END) END AS bucket,"                          \
    " count(r.k) AS domains, count(r.k) * 1.0 / (SELECT count(*) FROM r) AS share"                 \
    " FROM b LEFT JOIN r ON r.k = b.k GROUP BY b.k ORDER BY b.k"

typedef struct {
    const char *name, *sql;
    int iters;
} query_t;

static const query_t queries[][2] = {
    {{"iris_pivot, 50-domain ip (columns but stored_count)",
      "SELECT domain, risk_score, create_date, age_days, first_seen, active, last_fetched,"
      " vendor_count FROM iris_pivot('ip', '10.50.50.50')",
      2000},
     {"plain SQL",
      "SELECT " PIVOT_COLS LINKS " WHERE p.field = 'ip' AND p.value = '10.50.50.50'" CURRENT,
      2000}},
    {{"iris_pivot, 50-domain ip, SELECT *", "SELECT * FROM iris_pivot('ip', '10.50.50.50')", 2000},
     {"plain SQL",
      "SELECT " PIVOT_COLS ", count(*) OVER () AS stored_count" LINKS
      " WHERE p.field = 'ip' AND p.value = '10.50.50.50'" CURRENT,
      2000}},
    {{"iris_guided_pivots (columns but stored_count)",
      "SELECT label, field, value, vendor_count, guided, query FROM iris_guided_pivots(?1)", 2000},
     {"plain SQL",
      "SELECT p.field, p.value, p.count, p.count > 1 AND p.count <= 500 AS guided,"
      " p.field || '=' || p.value AS query"
      " FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"
      " JOIN pivots p ON p.pivot_id = dp.pivot_id"
      " WHERE d.domain = ?1" CURRENT " ORDER BY p.field, p.value",
      2000}},
    {{"iris_guided_pivots, SELECT * (stored_count of every value)",
      "SELECT * FROM iris_guided_pivots(?1)", 20},
     {"plain SQL",
      "SELECT p.field, p.value, p.count, (SELECT count(*) FROM domain_pivots dp2"
      " JOIN domains d2 ON d2.domain_id = dp2.domain_id WHERE dp2.pivot_id ="
      " p.pivot_id AND dp2.last_seen = d2.last_fetched) AS stored_count"
      " FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"
      " JOIN pivots p ON p.pivot_id = dp.pivot_id"
      " WHERE d.domain = ?1" CURRENT " ORDER BY p.field, p.value",
      20}},
    {{"iris_distribution risk, 10,000-domain name server",
      "SELECT * FROM iris_distribution('nameserver_host', 'ns1.shared10k.example', 'risk')", 100},
     {"plain SQL", RISK_BUCKETS, 100}},
    {{"iris_pivot, 10,000-domain name server, count(*)",
      "SELECT count(*) FROM iris_pivot('nameserver_host', 'ns1.shared10k.example')", 100},
     {"plain SQL",
      "SELECT count(*)" LINKS " WHERE p.field = 'nameserver_host'"
      " AND p.value = 'ns1.shared10k.example'" CURRENT,
      100}},
};

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs q iters times; fills p50 (µs) and the row count of one run. */
static int time_query(sqlite3 *db, const query_t *q, const char *domain, double *p50, double *p90,
                      double *mean, int *nrows) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, q->sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", q->name, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_bind_parameter_count(s) > 0) sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
    double *t = malloc(sizeof(double) * (size_t)q->iters);
    int warm = q->iters / 10 + 1;
    for (int i = -warm; i < q->iters; i++) {
        double t0 = now_us();
        int n = 0, rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            n++;
        double dt = now_us() - t0;
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "%s: %s\n", q->name, sqlite3_errmsg(db));
            free(t);
            sqlite3_finalize(s);
            return -1;
        }
        *nrows = n;
        if (i >= 0) t[i] = dt;
    }
    double sum = 0;
    for (int i = 0; i < q->iters; i++)
        sum += t[i];
    qsort(t, (size_t)q->iters, sizeof(double), cmp);
    *p50 = t[q->iters / 2];
    *p90 = t[q->iters * 9 / 10];
    *mean = sum / q->iters;
    free(t);
    sqlite3_finalize(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench DB EXTENSION GUIDED_DOMAIN\n");
        return 2;
    }
    sqlite3 *db;
    char *err = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, argv[2], NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], err);
        return 1;
    }
    printf("| query | rows | p50 µs | p90 µs | mean µs | vtab / plain (p50) |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < sizeof(queries) / sizeof(queries[0]); k++) {
        double p50[2], p90[2], mean[2];
        int rows[2];
        for (int j = 0; j < 2; j++)
            if (time_query(db, &queries[k][j], argv[3], &p50[j], &p90[j], &mean[j], &rows[j]))
                return 1;
        for (int j = 0; j < 2; j++)
            printf("| %s%s | %d | %.1f | %.1f | %.1f | %s |\n", j ? "&nbsp;&nbsp;" : "",
                   queries[k][j].name, rows[j], p50[j], p90[j], mean[j], "");
        printf("| &nbsp;&nbsp;**ratio** | | | | | **%.2f×** |\n", p50[0] / p50[1]);
    }
    sqlite3_close(db);
    return 0;
}
