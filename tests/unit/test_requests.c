/* test_requests.c — the request log: batches of rows land whole (or, when one row fails,
 * not at all) with their times as UTC text, usage sums per user and endpoint for this month,
 * today and ever with last month's spend left out of the month, the times of the last
 * hour's queries (a row spending n counts n times), the month boundary at a year's end, the
 * spend view, and a version-2 file migrated with its data kept. Times in the expectations
 * were converted to epoch seconds with Python's calendar.timegm, not by the code under test.
 */
#include "../../store/store_int.h" /* the migration texts, to build a version-2 file */
#include "check.h"
#include "irisgate/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[512], dbpath[600];

static void teardown_files(void) {
    char p[700];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
        unlink(p);
    }
}

static void teardown(void) {
    teardown_files();
    rmdir(dir);
}

static void setup(const char *name) {
    const char *t = getenv("IG_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/requests-%d", t ? t : "/tmp", (int)getpid());
    mkdir(t ? t : "/tmp", 0700);
    mkdir(dir, 0700);
    snprintf(dbpath, sizeof dbpath, "%s/%s.db", dir, name);
    teardown_files();
}

/* The first column of the first row of sql, as an integer (-1: no row or error). */
static long long query_int(const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    long long n = -1;
    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* The first column of the first row of sql, as text ("" when none). */
static const char *query_text(const char *sql) {
    static char out[512];
    sqlite3 *db;
    sqlite3_stmt *q;
    out[0] = '\0';
    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(out, sizeof out, "%s", t ? t : "(null)");
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
}

static ig_request_row_t row(int64_t at_ms, const char *user, const char *endpoint,
                            const char *outcome, int upstream) {
    return (ig_request_row_t){.at_ms = at_ms,
                              .user = user,
                              .endpoint = endpoint,
                              .key = "iris-investigate?domain=example.com",
                              .outcome = outcome,
                              .upstream_queries = upstream,
                              .status = 200,
                              .latency_ms = 1.5};
}

static void quiet(const char *msg) {
    (void)msg;
}

#define INV "iris-investigate"
#define ENR "iris-enrich"

/* 2024-03-15 11:30:00.250 UTC is 1710502200 s + 250 ms. */
#define AT_1130_250 1710502200250LL

static void test_requests_batches_land_whole(void) {
    setup("batches");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_request_row_t batch[100];
    for (int i = 0; i < 100; i++)
        batch[i] = row(AT_1130_250 + i, "alice", INV, "MISS", 1);
    CHECK_EQ_INT(ig_store_log_requests(s, batch, 100), 0);
    ig_request_row_t one = {.at_ms = AT_1130_250,
                            .user = NULL,
                            .endpoint = "account",
                            .key = NULL,
                            .outcome = "REJECTED",
                            .status = 403,
                            .latency_ms = 0.25};
    CHECK_EQ_INT(ig_store_log_requests(s, &one, 1), 0);
    CHECK_EQ_INT(ig_store_log_requests(s, NULL, 0), 0);
    /* A row without its outcome: refused, and nothing of its batch queued. */
    ig_request_row_t bad[2] = {row(AT_1130_250, "bob", INV, "HIT", 0),
                               row(AT_1130_250, "bob", INV, NULL, 0)};
    CHECK_EQ_INT(ig_store_log_requests(s, bad, 2), IG_EINVAL);
    ig_store_flush(s);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM requests"), 101);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM requests WHERE user = 'bob'"), 0);
    CHECK_EQ_STR(query_text("SELECT at FROM requests WHERE user = 'alice' ORDER BY id LIMIT 1"),
                 "2024-03-15 11:30:00.250");
    CHECK_EQ_STR(query_text("SELECT at FROM requests WHERE user = 'alice' ORDER BY id DESC"),
                 "2024-03-15 11:30:00.349");
    CHECK_EQ_STR(query_text("SELECT key FROM requests LIMIT 1"),
                 "iris-investigate?domain=example.com");
    CHECK_EQ_STR(query_text("SELECT quote(user) || ',' || endpoint || ',' || quote(key) || ',' "
                            "|| outcome || ',' || upstream_queries || ',' || status || ',' || "
                            "latency_ms FROM requests WHERE user IS NULL"),
                 "NULL,account,NULL,REJECTED,0,403,0.25");

    /* A batch whose third row the database refuses leaves none of its rows behind, and the
     * batches around it still land. */
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    CHECK_EQ_INT(sqlite3_exec(db,
                              "CREATE TRIGGER refuse BEFORE INSERT ON requests WHEN "
                              "NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    ig_store_set_log(s, quiet);
    ig_request_row_t before = row(AT_1130_250, "carol", INV, "HIT", 0);
    ig_request_row_t mixed[4] = {
        row(AT_1130_250, "dave", INV, "HIT", 0), row(AT_1130_250, "dave", INV, "MISS", 1),
        row(AT_1130_250, "dave", INV, "MISS", 1), row(AT_1130_250, "dave", INV, "HIT", 0)};
    mixed[2].key = "boom";
    ig_request_row_t after = row(AT_1130_250, "erin", INV, "HIT", 0);
    ig_store_stats_t st0, st1;
    ig_store_stats(s, &st0);
    CHECK_EQ_INT(ig_store_log_requests(s, &before, 1), 0);
    CHECK_EQ_INT(ig_store_log_requests(s, mixed, 4), 0);
    CHECK_EQ_INT(ig_store_log_requests(s, &after, 1), 0);
    ig_store_flush(s);
    ig_store_stats(s, &st1);
    CHECK_EQ_INT(st1.failed - st0.failed, 1);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM requests WHERE user = 'dave'"), 0);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM requests WHERE user IN ('carol', 'erin')"), 2);
    ig_store_close(s);
    teardown();
}

/* now: 2024-03-15 12:00:00.000 UTC = 1710504000 s. */
#define NOW 1710504000000LL
#define HOUR 3600000LL

static void test_requests_usage_sums_month_today_total_and_last_hour(void) {
    setup("usage");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_request_row_t rows[] = {
        /* 2024-02-29 23:59:59.999: last month, counted only in total */
        row(1709251199999LL, "alice", INV, "MISS", 5),
        /* 2024-03-01 00:00:00.000: the month's first millisecond */
        row(1709251200000LL, "alice", INV, "MISS", 2),
        /* 2024-03-14 23:59:59.999: yesterday */
        row(NOW - 12 * HOUR - 1, "alice", INV, "MISS", 1),
        /* 2024-03-15 00:00:00.000: today's first millisecond */
        row(NOW - 12 * HOUR, "alice", INV, "PARTIAL", 3),
        /* exactly an hour before now: not in the last hour */
        row(NOW - HOUR, "alice", INV, "MISS", 1),
        /* 2024-03-15 11:30:00.250, two queries: twice in recent_ms */
        row(AT_1130_250, "alice", INV, "MISS", 2),
        row(NOW - 1, "alice", INV, "HIT", 0),
        /* now itself is in the last hour */
        row(NOW, "alice", ENR, "MISS", 1),
        row(NOW - 3 * HOUR, "bob", INV, "QUEUED", 4),
        row(NOW - 2 * HOUR, "carol", INV, "HIT", 0),
        row(NOW - 2 * HOUR, "carol", ENR, "COALESCED", 0),
        /* 2024-03-01 00:00:00.000 - 10 days: an unauthenticated row that spent (never
         * happens in practice, but must not be lost or crash) */
        row(1709251200000LL - 240 * HOUR, NULL, INV, "MISS", 1),
    };
    size_t nrows = sizeof(rows) / sizeof(rows[0]);
    /* In two batches, as the loop would send them. */
    CHECK_EQ_INT(ig_store_log_requests(s, rows, 5), 0);
    CHECK_EQ_INT(ig_store_log_requests(s, rows + 5, nrows - 5), 0);
    ig_store_flush(s);

    ig_usage_t *u = NULL;
    size_t n = 0;
    CHECK_EQ_INT(ig_store_usage(s, NOW, &u, &n), 0);
    CHECK_EQ_INT(n, 4); /* carol never spent: absent */
    if (n == 4) {
        CHECK_EQ_STR(u[0].user, "");
        CHECK_EQ_STR(u[0].endpoint, INV);
        CHECK_EQ_INT(u[0].total, 1);
        CHECK_EQ_INT(u[0].month, 0);
        CHECK_EQ_INT(u[0].today, 0);
        CHECK_EQ_INT(u[0].nrecent, 0);

        CHECK_EQ_STR(u[1].user, "alice");
        CHECK_EQ_STR(u[1].endpoint, ENR);
        CHECK_EQ_INT(u[1].total, 1);
        CHECK_EQ_INT(u[1].month, 1);
        CHECK_EQ_INT(u[1].today, 1);
        CHECK_EQ_INT(u[1].nrecent, 1);
        if (u[1].nrecent == 1) CHECK_EQ_INT(u[1].recent_ms[0], NOW);

        CHECK_EQ_STR(u[2].user, "alice");
        CHECK_EQ_STR(u[2].endpoint, INV);
        CHECK_EQ_INT(u[2].total, 5 + 2 + 1 + 3 + 1 + 2);
        CHECK_EQ_INT(u[2].month, 2 + 1 + 3 + 1 + 2);
        CHECK_EQ_INT(u[2].today, 3 + 1 + 2);
        CHECK_EQ_INT(u[2].nrecent, 2);
        if (u[2].nrecent == 2) {
            CHECK_EQ_INT(u[2].recent_ms[0], AT_1130_250);
            CHECK_EQ_INT(u[2].recent_ms[1], AT_1130_250);
        }

        CHECK_EQ_STR(u[3].user, "bob");
        CHECK_EQ_STR(u[3].endpoint, INV);
        CHECK_EQ_INT(u[3].total, 4);
        CHECK_EQ_INT(u[3].month, 4);
        CHECK_EQ_INT(u[3].today, 4);
        CHECK_EQ_INT(u[3].nrecent, 0);
    }
    ig_usage_free(u, n);

    /* A day later (2024-03-16 12:00): today is empty, the month is not. */
    CHECK_EQ_INT(ig_store_usage(s, NOW + 24 * HOUR, &u, &n), 0);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_INT(u[2].today, 0);
        CHECK_EQ_INT(u[2].month, 9);
        CHECK_EQ_INT(u[2].nrecent, 0);
    }
    ig_usage_free(u, n);

    /* The view: alice's Investigate on 2024-03-15 is 4 requests (PARTIAL, MISS, MISS, HIT),
     * 1 hit, 3 misses, 6 queries. */
    CHECK_EQ_STR(query_text("SELECT requests || ',' || hits || ',' || misses || ',' || "
                            "upstream_queries || ',' || hit_ratio FROM v_spend_per_user_day "
                            "WHERE user = 'alice' AND day = '2024-03-15' AND endpoint = "
                            "'iris-investigate'"),
                 "4,1,3,6,0.25");
    CHECK_EQ_STR(query_text("SELECT hits || ',' || misses || ',' || quote(hit_ratio) FROM "
                            "(SELECT sum(hits) AS hits, sum(misses) AS misses, "
                            "min(hit_ratio) AS hit_ratio FROM v_spend_per_user_day "
                            "WHERE user = 'carol')"),
                 "2,0,1.0");
    ig_store_close(s);
    teardown();
}

static void test_requests_usage_month_rolls_over_at_the_year_end(void) {
    setup("yearend");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_request_row_t rows[] = {
        row(1733011200000LL, "alice", INV, "MISS", 1),     /* 2024-12-01 00:00:00.000 */
        row(1733011200000LL - 1, "alice", INV, "MISS", 1), /* 2024-11-30 23:59:59.999 */
        row(1735689600000LL, "alice", INV, "MISS", 1),     /* 2025-01-01 00:00:00.000 */
    };
    CHECK_EQ_INT(ig_store_log_requests(s, rows, 3), 0);
    ig_store_flush(s);
    ig_usage_t *u = NULL;
    size_t n = 0;
    /* 2024-12-31 23:30:00: December only; the first of January is next month */
    CHECK_EQ_INT(ig_store_usage(s, 1735687800000LL, &u, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(u[0].month, 1);
        CHECK_EQ_INT(u[0].today, 0);
        CHECK_EQ_INT(u[0].total, 3);
    }
    ig_usage_free(u, n);
    /* 2025-01-01 00:30:00: January */
    CHECK_EQ_INT(ig_store_usage(s, 1735687800000LL + HOUR, &u, &n), 0);
    if (n == 1) {
        CHECK_EQ_INT(u[0].month, 1);
        CHECK_EQ_INT(u[0].today, 1);
        CHECK_EQ_INT(u[0].nrecent, 1);
    }
    ig_usage_free(u, n);
    ig_store_close(s);
    teardown();
}

static void test_requests_usage_of_an_empty_log(void) {
    setup("empty");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_usage_t *u = (ig_usage_t *)1;
    size_t n = 99;
    CHECK_EQ_INT(ig_store_usage(s, NOW, &u, &n), 0);
    CHECK(u == NULL);
    CHECK_EQ_INT(n, 0);
    ig_usage_free(u, n);
    ig_store_close(s);
    teardown();
}

static void test_requests_migration_from_version_2_keeps_data(void) {
    setup("v2");
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    /* The schema of user_version 2, as shipped: migration 1's text (as in test_store.c),
     * then the intel tables. */
    CHECK_EQ_INT(sqlite3_exec(db,
                              "CREATE TABLE responses (key TEXT PRIMARY KEY, endpoint TEXT NOT "
                              "NULL, status INTEGER NOT NULL, content_type TEXT, body BLOB NOT "
                              "NULL, fetched_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) "
                              "WITHOUT ROWID; CREATE INDEX responses_expires_at ON "
                              "responses(expires_at);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, ig_schema_intel, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(
        sqlite3_exec(db,
                     "INSERT INTO responses VALUES ('k', 'iris-enrich', 200, "
                     "'application/json', 'body', 1, 2);"
                     "INSERT INTO domains (domain, source, first_fetched, last_fetched) VALUES "
                     "('example.com', 'iris', '2024-01-01 00:00:00', '2024-01-01 00:00:00');"
                     "PRAGMA user_version=2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'requests'"), 0);

    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_cached_t *c = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "k", &c), 0);
    CHECK(c && c->body_len == 4 && memcmp(c->body, "body", 4) == 0);
    ig_cached_free(c);
    ig_request_row_t r = row(NOW, "alice", INV, "MISS", 1);
    CHECK_EQ_INT(ig_store_log_requests(s, &r, 1), 0);
    ig_store_close(s);
    CHECK(query_int("PRAGMA user_version") >= 3); /* later migrations may follow */
    CHECK_EQ_INT(query_int("SELECT count(*) FROM domains WHERE domain = 'example.com'"), 1);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM requests"), 1);
    CHECK_EQ_INT(query_int("SELECT count(*) FROM v_spend_per_user_day"), 1);
    teardown();
}

int main(void) {
    RUN(test_requests_batches_land_whole);
    RUN(test_requests_usage_sums_month_today_total_and_last_hour);
    RUN(test_requests_usage_month_rolls_over_at_the_year_end);
    RUN(test_requests_usage_of_an_empty_log);
    RUN(test_requests_migration_from_version_2_keeps_data);
    return check_summary();
}
