/* bench.c — times the SQL module against the equivalent hand-written SQL on one database:
 * each query and its plain-SQL twin prepared once, then run (stepped to the end, reset) in
 * turns, a block of 50 runs of one then 50 of the other, so both meet the same noise of a
 * shared machine and each runs warm as it would when repeated alone; reports
 * p50, p90 and mean per query and the ratio of each function to its twin. Built and run by
 * run.sh; not a test. Usage: bench DB EXTENSION GUIDED_DOMAIN [QUERY-NUMBERS]
 * (comma-separated, from 0). IG_BENCH_PRAGMA: a setting to run first (run.sh's mmap pass);
 * IG_BENCH_SIDE (0 the function, 1 its twin) with IG_BENCH_RUNS: run one side that many
 * times and print nothing but the table's head (instructions.sh counts it under callgrind).
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
/* Buckets 0-9 ... 90-99, 100, unknown (k = 11). */
#define RISK_BUCKETS                                                                               \
    "WITH b(k) AS (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11)),"                     \
    " r AS (SELECT CASE WHEN d.risk_score IS NULL THEN 11 WHEN d.risk_score >= 100 THEN 10"        \
    "  WHEN d.risk_score < 0 THEN 0 ELSE d.risk_score / 10 END AS k" LINKS                         \
    "  WHERE p.field = 'nameserver_host' AND p.value = 'ns1.shared10k.example'" CURRENT ")"        \
    " SELECT CASE WHEN b.k = 11 THEN 'unknown' WHEN b.k = 10 THEN '100'"                           \
    "  ELSE (b.k * 10) || '-' || (b.k * 10 + 9) END AS bucket,"                                    \
    " count(r.k) AS domains, count(r.k) * 1.0 / (SELECT count(*) FROM r) AS share"                 \
    " FROM b LEFT JOIN r ON r.k = b.k GROUP BY b.k ORDER BY b.k"
/* The age buckets of docs/sql.md over v_domains' age_days formula. */
#define AGE_BUCKETS                                                                                \
    "WITH b(k, label) AS (VALUES (0, 'under a week'), (1, 'under a month'),"                       \
    "  (2, 'under 3 months'), (3, 'under 6 months'), (4, 'under a year'), (5, 'under 2 years'),"   \
    "  (6, 'under 5 years'), (7, 'older'), (8, 'unknown')),"                                       \
    " a AS (SELECT CAST(julianday('now') - julianday(d.create_date) AS INTEGER) AS days" LINKS     \
    "  WHERE p.field = 'nameserver_host' AND p.value = 'ns1.shared10k.example'" CURRENT "),"       \
    " r AS (SELECT CASE WHEN days IS NULL THEN 8 WHEN days < 7 THEN 0 WHEN days < 30 THEN 1"       \
    "  WHEN days < 90 THEN 2 WHEN days < 180 THEN 3 WHEN days < 365 THEN 4"                        \
    "  WHEN days < 730 THEN 5 WHEN days < 1825 THEN 6 ELSE 7 END AS k FROM a)"                     \
    " SELECT b.label AS bucket, count(r.k) AS domains,"                                            \
    " count(r.k) * 1.0 / (SELECT count(*) FROM r) AS share"                                        \
    " FROM b LEFT JOIN r ON r.k = b.k GROUP BY b.k ORDER BY b.k"

typedef struct {
    const char *name, *sql;
    int iters;
} query_t;

/* Each twin reads what its function reads: stored_count is pivots.stored_count, which ingest
 * keeps (populate.sql computes it), in both. */
static const query_t queries[][2] = {
    {{"iris_pivot, 50-domain ip (columns but stored_count)",
      "SELECT domain, risk_score, create_date, age_days, first_seen, active, last_fetched,"
      " vendor_count FROM iris_pivot('ip', '10.50.50.50')",
      2000},
     {"plain SQL",
      "SELECT " PIVOT_COLS LINKS " WHERE p.field = 'ip' AND p.value = '10.50.50.50'" CURRENT,
      2000}},
    {{"iris_pivot, 50-domain ip, domain and risk_score",
      "SELECT domain, risk_score FROM iris_pivot('ip', '10.50.50.50')", 2000},
     {"plain SQL",
      "SELECT d.domain, d.risk_score" LINKS
      " WHERE p.field = 'ip' AND p.value = '10.50.50.50'" CURRENT,
      2000}},
    {{"iris_pivot, 50-domain ip, SELECT *", "SELECT * FROM iris_pivot('ip', '10.50.50.50')", 2000},
     {"plain SQL",
      "SELECT " PIVOT_COLS ", p.stored_count" LINKS
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
      "SELECT * FROM iris_guided_pivots(?1)", 2000},
     {"plain SQL",
      "SELECT p.field, p.value, p.count, p.stored_count,"
      " p.count > 1 AND p.count <= 500 AS guided, p.field || '=' || p.value AS query"
      " FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"
      " JOIN pivots p ON p.pivot_id = dp.pivot_id"
      " WHERE d.domain = ?1" CURRENT " ORDER BY p.field, p.value",
      2000}},
    {{"iris_distribution risk, 10,000-domain name server",
      "SELECT * FROM iris_distribution('nameserver_host', 'ns1.shared10k.example', 'risk')", 100},
     {"plain SQL", RISK_BUCKETS, 100}},
    {{"iris_distribution age, 10,000-domain name server",
      "SELECT * FROM iris_distribution('nameserver_host', 'ns1.shared10k.example', 'age')", 100},
     {"plain SQL", AGE_BUCKETS, 100}},
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

typedef struct {
    sqlite3_stmt *s;
    double *t;
    int rows;
} run_t;

/* One run of s to the end; the time in µs, or -1 on error. */
static double run_once(sqlite3 *db, run_t *r, const char *name) {
    double t0 = now_us();
    int n = 0, rc;
    while ((rc = sqlite3_step(r->s)) == SQLITE_ROW)
        n++;
    double dt = now_us() - t0;
    sqlite3_reset(r->s);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "%s: %s\n", name, sqlite3_errmsg(db));
        return -1;
    }
    r->rows = n;
    return dt;
}

/* Runs a pair in turns, a block of runs of one then a block of the other (each warm in its
 * block, both meeting the same noise of the machine), after a warm-up of each; prints both
 * lines and the ratio of the p50s. */
#define BLOCK 50
static int time_pair(sqlite3 *db, const query_t *q, const char *domain) {
    run_t r[2] = {{0}, {0}};
    int iters = q[0].iters, status = -1;
    for (int j = 0; j < 2; j++) {
        if (sqlite3_prepare_v2(db, q[j].sql, -1, &r[j].s, NULL) != SQLITE_OK) {
            fprintf(stderr, "%s: %s\n", q[j].name, sqlite3_errmsg(db));
            goto out;
        }
        if (sqlite3_bind_parameter_count(r[j].s) > 0)
            sqlite3_bind_text(r[j].s, 1, domain, -1, SQLITE_STATIC);
        r[j].t = malloc(sizeof(double) * (size_t)iters);
        if (!r[j].t) goto out;
    }
    /* One side alone, a given number of times, untimed: for counting instructions under
     * callgrind (instructions.sh), where time means nothing. */
    const char *side = getenv("IG_BENCH_SIDE"), *runs = getenv("IG_BENCH_RUNS");
    if (side && runs) {
        int j = atoi(side) ? 1 : 0;
        for (int i = atoi(runs); i > 0; i--)
            if (run_once(db, &r[j], q[j].name) < 0) goto out;
        status = 0;
        goto out;
    }
    int block = iters < 10 * BLOCK ? iters / 10 + 1 : BLOCK;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < iters / 10 + 1; i++)
            if (run_once(db, &r[j], q[j].name) < 0) goto out;
    for (int at = 0; at < iters; at += block) {
        for (int j = 0; j < 2; j++) {
            for (int i = at; i < at + block && i < iters; i++) {
                double dt = run_once(db, &r[j], q[j].name);
                if (dt < 0) goto out;
                r[j].t[i] = dt;
            }
        }
    }
    double p50[2];
    for (int j = 0; j < 2; j++) {
        double sum = 0;
        for (int i = 0; i < iters; i++)
            sum += r[j].t[i];
        qsort(r[j].t, (size_t)iters, sizeof(double), cmp);
        p50[j] = r[j].t[iters / 2];
        printf("| %s%s | %d | %.1f | %.1f | %.1f | |\n", j ? "&nbsp;&nbsp;" : "", q[j].name,
               r[j].rows, p50[j], r[j].t[iters * 9 / 10], sum / iters);
    }
    printf("| &nbsp;&nbsp;**ratio** | | | | | **%.2f×** |\n", p50[0] / p50[1]);
    fflush(stdout);
    status = 0;
out:
    for (int j = 0; j < 2; j++) {
        sqlite3_finalize(r[j].s);
        free(r[j].t);
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: bench DB EXTENSION GUIDED_DOMAIN [QUERY-NUMBERS]\n");
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
    /* A connection setting to measure with, e.g. "PRAGMA mmap_size = 1073741824". */
    const char *pragma = getenv("IG_BENCH_PRAGMA");
    if (pragma && *pragma && sqlite3_exec(db, pragma, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", pragma, err);
        return 1;
    }
    printf("| query | rows | p50 µs | p90 µs | mean µs | vtab / plain (p50) |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < sizeof(queries) / sizeof(queries[0]); k++) {
        if (argc == 5) { /* a comma-separated list of query numbers, from 0 */
            char want[16];
            snprintf(want, sizeof(want), ",%zu,", k);
            char list[256];
            snprintf(list, sizeof(list), ",%s,", argv[4]);
            if (!strstr(list, want)) continue;
        }
        if (time_pair(db, queries[k], argv[3])) return 1;
    }
    sqlite3_close(db);
    return 0;
}
