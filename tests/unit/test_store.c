/* test_store.c — the store: answers round-trip byte for byte (NUL bytes included), survive
 * close and reopen, are read on the thread pool for the loop, writes are group-committed
 * with each job isolated in its savepoint, other readers (the sqlite3 shell, BI tools) see
 * committed rows while irisgate runs, the database is WAL and versioned, and a newer schema
 * or a file that is not a database is refused with a message naming the file. */
#include "check.h"
#include "irisgate/store.h"
/* The generic job queue later writers use (store/writer_int.h): tested here too. */
#include "../../store/writer_int.h"
#include "../../store/store_int.h" /* the migration texts, to build a version-3 file */

#include <pthread.h>
#include <semaphore.h>
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
    snprintf(dir, sizeof dir, "%s/store-%d", t ? t : "/tmp", (int)getpid());
    mkdir(t ? t : "/tmp", 0700);
    mkdir(dir, 0700);
    snprintf(dbpath, sizeof dbpath, "%s/%s.db", dir, name);
    teardown_files();
}

static ig_cached_t answer(const char *key, const char *body, size_t len) {
    return (ig_cached_t){.key = (char *)key,
                         .endpoint = "iris-investigate",
                         .status = 200,
                         .content_type = "application/json;charset=utf-8",
                         .body = (char *)body,
                         .body_len = len,
                         .fetched_at = 1000,
                         .expires_at = 2000};
}

static void test_store_round_trip_binary_body_and_replace(void) {
    setup("rt");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_cached_t a = answer("k1", "ab\0cd", 5);
    CHECK_EQ_INT(ig_store_put_response(s, &a), 0);
    ig_store_flush(s);
    ig_cached_t *got = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "k1", &got), 0);
    CHECK(got && got->body_len == 5 && memcmp(got->body, "ab\0cd", 5) == 0);
    CHECK(got && got->fetched_at == 1000 && got->status == 200);
    if (got) CHECK_EQ_STR(got->content_type, "application/json;charset=utf-8");
    ig_cached_free(got);
    ig_cached_t b = answer("k1", "new", 3);
    ig_store_put_response(s, &b);
    ig_store_flush(s);
    CHECK_EQ_INT(ig_store_get_response(s, "k1", &got), 0);
    CHECK(got && got->body_len == 3 && memcmp(got->body, "new", 3) == 0);
    ig_cached_free(got);
    ig_store_delete_response(s, "k1");
    ig_store_flush(s);
    CHECK_EQ_INT(ig_store_get_response(s, "k1", &got), IG_ENOENT);
    CHECK(got == NULL);
    ig_store_close(s);
    teardown();
}

static void test_store_survives_close_and_reopen(void) {
    setup("persist");
    ig_store_t *s;
    char err[256];
    ig_store_open(dbpath, &s, err, sizeof err);
    ig_cached_t a = answer("persist", "{\"response\":{}}", 15);
    ig_store_put_response(s, &a);
    ig_store_close(s); /* close drains the queue: no flush needed */
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_cached_t *got = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "persist", &got), 0);
    CHECK(got && got->body_len == 15);
    ig_cached_free(got);
    ig_store_close(s);
    teardown();
}

static int async_calls, async_found;
static void on_get(void *arg, int rc, ig_cached_t *c) {
    (void)arg;
    async_calls++;
    if (rc == 0 && c && c->body_len == 5) async_found++;
    ig_cached_free(c);
}

static void test_store_async_get_on_the_loop(void) {
    setup("async");
    ig_store_t *s;
    char err[256];
    ig_store_open(dbpath, &s, err, sizeof err);
    ig_cached_t a = answer("there", "hello", 5);
    ig_store_put_response(s, &a);
    ig_store_flush(s);
    uv_loop_t loop;
    uv_loop_init(&loop);
    async_calls = async_found = 0;
    CHECK_EQ_INT(ig_store_get_response_async(s, &loop, "there", on_get, NULL), 0);
    CHECK_EQ_INT(ig_store_get_response_async(s, &loop, "absent", on_get, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    CHECK_EQ_INT(async_calls, 2);
    CHECK_EQ_INT(async_found, 1);
    ig_store_close(s);
    teardown();
}

static void test_store_group_commits_many_puts(void) {
    setup("batch");
    ig_store_t *s;
    char err[256];
    ig_store_open(dbpath, &s, err, sizeof err);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        ig_cached_t a = answer(key, "x", 1);
        ig_store_put_response(s, &a);
    }
    ig_store_flush(s);
    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT(st.committed, 10000);
    CHECK_EQ_INT(st.failed, 0);
    CHECK(st.transactions < 1000); /* batched, not one commit per put */
    /* Another reader (a BI tool) sees the committed rows while irisgate has the file open. */
    sqlite3 *db;
    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM responses", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(q, 0), 10000);
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL);
    sqlite3_step(q);
    CHECK_EQ_STR((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    sqlite3_step(q);
    CHECK(sqlite3_column_int(q, 0) >= 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    ig_store_close(s);
    teardown();
}

static void test_store_refuses_a_newer_schema(void) {
    setup("newer");
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL);
    sqlite3_close(db);
    ig_store_t *s = NULL;
    char err[256] = "";
    CHECK(ig_store_open(dbpath, &s, err, sizeof err) != 0);
    CHECK(s == NULL);
    CHECK(strstr(err, dbpath) != NULL);
    CHECK(strstr(err, "newer") != NULL);
    /* Refused without being touched: still version 999. */
    sqlite3_open(dbpath, &db);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 999);
    sqlite3_finalize(q);
    sqlite3_close(db);
    teardown();
}

static void test_store_open_error_names_the_file(void) {
    ig_store_t *s = NULL;
    char err[256] = "";
    CHECK(ig_store_open("/nonexistent-dir/x/y.db", &s, err, sizeof err) != 0);
    CHECK(s == NULL);
    CHECK_EQ_STR(err, "cannot open /nonexistent-dir/x/y.db: unable to open database file");
}

/* Counts rows of responses with key, through a connection of the test's own. */
static int count_key(sqlite3 *db, const char *key) {
    sqlite3_stmt *q;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM responses WHERE key = ?", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    return n;
}

static void test_store_empty_body_and_invalid_puts(void) {
    setup("empty");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_cached_t a = answer("empty", NULL, 0);
    a.content_type = NULL;
    CHECK_EQ_INT(ig_store_put_response(s, &a), 0);
    ig_cached_t nokey = answer(NULL, "x", 1);
    CHECK_EQ_INT(ig_store_put_response(s, &nokey), IG_EINVAL);
    ig_cached_t nobody = answer("k", NULL, 3);
    CHECK_EQ_INT(ig_store_put_response(s, &nobody), IG_EINVAL);
    ig_store_flush(s);
    ig_cached_t *got = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "empty", &got), 0);
    CHECK(got && got->body_len == 0 && got->body && got->content_type == NULL);
    if (got) CHECK_EQ_STR(got->endpoint, "iris-investigate");
    ig_cached_free(got);
    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT(st.queued, 1);
    CHECK_EQ_INT(st.failed, 0);
    ig_store_close(s);
    teardown();
}

/* A job that holds the writer until the test lets it go, so the next jobs queue up and
 * are taken as one batch. */
static sem_t job_started, job_release;
static int run_block(sqlite3 *db, void *arg) {
    (void)db;
    (void)arg;
    sem_post(&job_started);
    sem_wait(&job_release);
    return IG_OK;
}

/* Runs arg (SQL), then fails: whatever it wrote must be rolled back. */
static int run_sql_then_fail(sqlite3 *db, void *arg) {
    sqlite3_exec(db, arg, NULL, NULL, NULL);
    return IG_EIO;
}

/* Runs arg (SQL) and claims success. */
static int run_sql(sqlite3 *db, void *arg) {
    return sqlite3_exec(db, arg, NULL, NULL, NULL) == SQLITE_OK ? IG_OK : IG_EIO;
}

static int freed_args;
static void count_free(void *arg) {
    (void)arg;
    freed_args++;
}

static void hold_writer(ig_store_t *s) {
    CHECK_EQ_INT(ig_writer_submit(s, run_block, NULL, count_free), 0);
    sem_wait(&job_started); /* the writer has taken the batch holding only this job */
}

static void test_store_failed_job_is_rolled_back_alone(void) {
    setup("savepoint");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    sem_init(&job_started, 0, 0);
    sem_init(&job_release, 0, 0);
    freed_args = 0;
    hold_writer(s);
    ig_cached_t a = answer("before", "a", 1), c = answer("after", "c", 1);
    ig_store_put_response(s, &a);
    CHECK_EQ_INT(ig_writer_submit(s, run_sql_then_fail,
                                  "INSERT INTO responses VALUES('half','e',200,NULL,x'00',1,2)",
                                  count_free),
                 0);
    ig_store_put_response(s, &c);
    sem_post(&job_release);
    ig_store_flush(s);

    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT(st.queued, 4);
    CHECK_EQ_INT(st.committed, 3);
    CHECK_EQ_INT(st.failed, 1);
    CHECK_EQ_INT(st.transactions, 2); /* the held job, then the three others together */
    CHECK_EQ_INT(freed_args, 2);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    CHECK_EQ_INT(count_key(db, "before"), 1);
    CHECK_EQ_INT(count_key(db, "half"), 0);
    CHECK_EQ_INT(count_key(db, "after"), 1);
    sqlite3_close(db);
    ig_store_close(s);
    sem_destroy(&job_started);
    sem_destroy(&job_release);
    teardown();
}

static void test_store_counts_jobs_lost_with_their_transaction(void) {
    /* A job that ends the transaction (as SQLITE_FULL or an I/O error does) takes the jobs
     * before it in the batch along: they are counted failed, the rest still commits. */
    setup("lost");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    sem_init(&job_started, 0, 0);
    sem_init(&job_release, 0, 0);
    hold_writer(s);
    ig_cached_t a = answer("lost", "a", 1), c = answer("kept", "c", 1);
    ig_store_put_response(s, &a);
    ig_writer_submit(s, run_sql, "ROLLBACK", NULL);
    ig_store_put_response(s, &c);
    sem_post(&job_release);
    ig_store_flush(s);
    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT(st.committed, 2); /* the held job and "kept" */
    CHECK_EQ_INT(st.failed, 2);    /* "lost" and the job that rolled back */
    ig_cached_t *got = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "lost", &got), IG_ENOENT);
    CHECK_EQ_INT(ig_store_get_response(s, "kept", &got), 0);
    ig_cached_free(got);
    ig_store_close(s);
    sem_destroy(&job_started);
    sem_destroy(&job_release);
    teardown();
}

static void test_store_plain_sqlite3_reader_and_schema(void) {
    setup("reader");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    /* The sqlite3 shell's default: a read-write connection, opened while irisgate writes. */
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK_EQ_INT(count_key(db, "r1"), 0);
    ig_cached_t a = answer("r1", "{}", 2);
    ig_store_put_response(s, &a);
    ig_store_flush(s);
    CHECK_EQ_INT(count_key(db, "r1"), 1);
    /* The column names BI tools rely on. */
    sqlite3_stmt *q;
    const char *want[] = {"key",  "endpoint",   "status",    "content_type",
                          "body", "fetched_at", "expires_at"};
    int i = 0;
    sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('responses') ORDER BY cid", -1, &q,
                       NULL);
    while (sqlite3_step(q) == SQLITE_ROW && i < 7) {
        CHECK_EQ_STR((const char *)sqlite3_column_text(q, 0), want[i]);
        i++;
    }
    sqlite3_finalize(q);
    CHECK_EQ_INT(i, 7);
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM sqlite_schema WHERE type='index' AND "
                       "tbl_name='responses' AND sql LIKE '%expires_at%'",
                       -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    ig_store_close(s);
    teardown();
}

static void test_store_close_waits_for_reads_in_flight(void) {
    setup("inflight");
    ig_store_t *s;
    char err[256];
    ig_store_open(dbpath, &s, err, sizeof err);
    ig_cached_t a = answer("there", "hello", 5);
    ig_store_put_response(s, &a);
    ig_store_flush(s);
    uv_loop_t loop;
    uv_loop_init(&loop);
    async_calls = async_found = 0;
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(ig_store_get_response_async(s, &loop, "there", on_get, NULL), 0);
    ig_store_close(s); /* the reads still run on the pool; their callbacks come on uv_run */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    CHECK_EQ_INT(async_calls, 20);
    CHECK_EQ_INT(async_found, 20);
    teardown();
}

static void test_store_refuses_a_file_that_is_not_a_database(void) {
    setup("garbage");
    FILE *f = fopen(dbpath, "w");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 64; i++)
            fputs("this is not a database file. ", f);
        fclose(f);
    }
    ig_store_t *s = NULL;
    char err[256] = "";
    CHECK(ig_store_open(dbpath, &s, err, sizeof err) != 0);
    CHECK(s == NULL);
    CHECK(strstr(err, dbpath) != NULL);
    CHECK(strstr(err, "not a database") != NULL);
    teardown();
}

static int count_rows(const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    int n = -1;
    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void test_store_migrates_a_version_1_file_keeping_its_answers(void) {
    setup("v1");
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    /* The schema of user_version 1, as shipped. */
    CHECK_EQ_INT(sqlite3_exec(db,
                              "CREATE TABLE responses (key TEXT PRIMARY KEY, endpoint TEXT NOT "
                              "NULL, status INTEGER NOT NULL, content_type TEXT, body BLOB NOT "
                              "NULL, fetched_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) "
                              "WITHOUT ROWID; INSERT INTO responses VALUES ('k', "
                              "'iris-enrich', 200, 'application/json', 'body', 1, 2); PRAGMA "
                              "user_version=1;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_cached_t *c = NULL;
    CHECK_EQ_INT(ig_store_get_response(s, "k", &c), 0);
    CHECK(c && c->body_len == 4 && memcmp(c->body, "body", 4) == 0);
    ig_cached_free(c);
    ig_store_close(s);
    CHECK(count_rows("PRAGMA user_version") >= 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domains"), 0);
    teardown();
}

static char logged[512];
static void capture_log(const char *msg) {
    snprintf(logged, sizeof logged, "%s", msg);
}

static void test_store_ingest_queues_answers_and_logs_rejections(void) {
    setup("ingest");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_store_set_log(s, capture_log);
    const char *good = "{\"response\":{\"limit_exceeded\":false,\"results_count\":2,\"results\":["
                       "{\"domain\":\"One.example\",\"ip\":[{\"address\":{\"value\":\"192.0.2.1\","
                       "\"count\":2}}]},{\"domain\":\"two.example\",\"ip\":[{\"address\":"
                       "{\"value\":\"192.0.2.1\",\"count\":2}}]}],\"missing_domains\":[]}}";
    CHECK_EQ_INT(ig_store_ingest(s, "iris-investigate", good, strlen(good), 1700000000), 0);
    const char *bad = "{\"response\":{\"results\":[{\"domain\":\"three.example\"";
    CHECK_EQ_INT(ig_store_ingest(s, "iris-investigate", bad, strlen(bad), 1700000000), 0);
    ig_store_flush(s);
    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT((int)st.ingested_answers, 1);
    CHECK_EQ_INT((int)st.ingested_domains, 2);
    CHECK_EQ_INT((int)st.ingest_rejected, 1);
    CHECK(strstr(logged, "iris-investigate answer not stored") != NULL);

    size_t n = 99;
    CHECK_EQ_INT(ig_store_import(s, NULL, good, strlen(good), 1700000100, &n, err, sizeof err), 0);
    CHECK_EQ_INT((int)n, 2);
    CHECK(ig_store_import(s, NULL, bad, strlen(bad), 1700000100, &n, err, sizeof err) == IG_EINVAL);
    CHECK_EQ_INT((int)n, 0);
    CHECK(err[0] != '\0');
    ig_store_close(s);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domains"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domains WHERE domain = 'three.example'"), 0);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_pivots JOIN pivots USING (pivot_id) "
                            "WHERE field = 'ip' AND value = '192.0.2.1'"),
                 2);
    teardown();
}

/* An answer that fails after writing (over the work budget at its 101st result) between two
 * good ones in one batch: the writer undoes it and keeps the others, in one transaction. */
static void test_store_ingest_failing_half_way_in_a_batch_leaves_nothing(void) {
    setup("halfway");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    ig_store_set_log(s, capture_log);
    sem_init(&job_started, 0, 0);
    sem_init(&job_release, 0, 0);
    hold_writer(s);
    const char *a = "{\"results\":[{\"domain\":\"a.example\",\"ip\":[\"192.0.2.1\"]}]}";
    const char *c = "{\"results\":[{\"domain\":\"c.example\",\"ip\":[\"192.0.2.1\"]}]}";
    /* 101 results of 10,000 statuses each: over MAX_VALUES (1,000,000) at the 101st */
    size_t cap = 101 * 70000 + 64, o = 0;
    char *big = malloc(cap);
    o += (size_t)snprintf(big + o, cap - o, "{\"results\":[");
    for (int r = 0; r < 101; r++) {
        o += (size_t)snprintf(big + o, cap - o, "%s{\"domain\":\"b%d.example\",\"registrar_status\":[",
                              r ? "," : "", r);
        for (int i = 0; i < 10000; i++)
            o += (size_t)snprintf(big + o, cap - o, "%s\"s%d\"", i ? "," : "", i % 7);
        o += (size_t)snprintf(big + o, cap - o, "]}");
    }
    o += (size_t)snprintf(big + o, cap - o, "]}");
    CHECK_EQ_INT(ig_store_ingest(s, "iris-investigate", a, strlen(a), 1700000000), 0);
    CHECK_EQ_INT(ig_store_ingest(s, "iris-investigate", big, o, 1700000000), 0);
    CHECK_EQ_INT(ig_store_ingest(s, "iris-investigate", c, strlen(c), 1700000000), 0);
    sem_post(&job_release);
    ig_store_flush(s);
    ig_store_stats_t st;
    ig_store_stats(s, &st);
    CHECK_EQ_INT((int)st.ingested_answers, 2);
    CHECK_EQ_INT((int)st.ingest_rejected, 1);
    CHECK_EQ_INT((int)st.failed, 1);
    CHECK_EQ_INT((int)st.transactions, 2); /* the held job; then the batch, once */
    CHECK(strstr(logged, "too large") != NULL);
    ig_store_close(s);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domains"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domains WHERE domain LIKE 'b%'"), 0);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM fetches"), 2);
    CHECK_EQ_INT(count_rows("SELECT stored_count FROM pivots WHERE field = 'ip'"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM pivots"), 1);
    free(big);
    sem_destroy(&job_started);
    sem_destroy(&job_release);
    teardown();
}

/* What the writer remembers of pivots rows from earlier answers is forgotten when another
 * connection writes: a count changed by hand is compared with the next answer's again. */
static void test_store_ingest_sees_what_another_connection_wrote(void) {
    setup("other");
    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    const char *a = "{\"results\":[{\"domain\":\"a.example\",\"ip\":[{\"address\":"
                    "{\"value\":\"192.0.2.1\",\"count\":5}}]}]}";
    const char *b = "{\"results\":[{\"domain\":\"b.example\",\"ip\":[{\"address\":"
                    "{\"value\":\"192.0.2.1\",\"count\":5}}]}]}";
    size_t n = 0;
    CHECK_EQ_INT(ig_store_import(s, "iris-investigate", a, strlen(a), 1700000000, &n, err,
                                 sizeof err),
                 0);
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    sqlite3_busy_timeout(db, 5000);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE pivots SET count = 99, stored_count = stored_count",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(ig_store_import(s, "iris-investigate", b, strlen(b), 1700000100, &n, err,
                                 sizeof err),
                 0);
    ig_store_close(s);
    CHECK_EQ_INT(count_rows("SELECT count FROM pivots WHERE value = '192.0.2.1'"), 5);
    CHECK_EQ_INT(count_rows("SELECT stored_count FROM pivots WHERE value = '192.0.2.1'"), 2);
    teardown();
}

/* A version-3 file (intel tables of version 2, the request log of version 3) with a domain
 * fetched twice: migration 4 keeps every row and rebuilds what version 4 adds. */
static void test_store_migrates_a_version_3_file_keeping_its_history(void) {
    setup("v3");
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    CHECK_EQ_INT(sqlite3_exec(db,
                              "CREATE TABLE responses (key TEXT PRIMARY KEY, endpoint TEXT NOT "
                              "NULL, status INTEGER NOT NULL, content_type TEXT, body BLOB NOT "
                              "NULL, fetched_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) "
                              "WITHOUT ROWID; CREATE INDEX responses_expires_at ON "
                              "responses(expires_at);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, ig_schema_intel, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, ig_schema_requests, NULL, NULL, NULL), SQLITE_OK);
    /* example.com fetched at T1 and T2; its IP moved from 192.0.2.1 to 192.0.2.2 */
    CHECK_EQ_INT(
        sqlite3_exec(
            db,
            "INSERT INTO domains (domain_id, domain, source, first_fetched, last_fetched) VALUES"
            " (1, 'example.com', 'iris-investigate', '2024-01-01 00:00:00',"
            " '2024-02-01 00:00:00');"
            "INSERT INTO domain_raw VALUES (1, 'iris-investigate', '2024-02-01 00:00:00',"
            " '{\"domain\":\"example.com\",\"ip\":[\"192.0.2.2\"]}');"
            "INSERT INTO ips VALUES (1, 0, '192.0.2.2', NULL, NULL, NULL, NULL);"
            "INSERT INTO pivots VALUES (1, 'ip', '192.0.2.1', 3, '2024-01-01 00:00:00'),"
            " (2, 'ip', '192.0.2.2', 5, '2024-02-01 00:00:00');"
            "INSERT INTO domain_pivots VALUES (1, 1, '2024-01-01 00:00:00',"
            " '2024-01-01 00:00:00'), (2, 1, '2024-02-01 00:00:00', '2024-02-01 00:00:00');"
            "INSERT INTO domain_history VALUES (1, 'create_date', '2000-01-01',"
            " '2024-01-01 00:00:00', '2024-02-01 00:00:00');"
            "INSERT INTO risk_history (domain_id, observed_at, risk_score) VALUES"
            " (1, '2024-01-01 00:00:00', 10), (1, '2024-02-01 00:00:00', 20);"
            "PRAGMA user_version=3;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    ig_store_t *s;
    char err[256];
    CHECK_EQ_INT(ig_store_open(dbpath, &s, err, sizeof err), 0);
    /* a later answer on the migrated file: the IP comes back to 192.0.2.1 */
    const char *later = "{\"results\":[{\"domain\":\"example.com\",\"ip\":[{\"address\":"
                        "{\"value\":\"192.0.2.1\",\"count\":4}}]}]}";
    size_t n = 0;
    CHECK_EQ_INT(ig_store_import(s, "iris-investigate", later, strlen(later),
                                 1709251200 /* 2024-03-01 */, &n, err, sizeof err),
                 0);
    ig_store_close(s);
    CHECK_EQ_INT(count_rows("PRAGMA user_version"), 4);
    /* the raw result kept, now with an id, a hash, and the domain pointing at the newest */
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_raw"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_raw WHERE raw_id = 1 AND"
                            " first_seen = '2024-02-01 00:00:00' AND hash = irisgate_hash(json)"),
                 -1); /* irisgate_hash exists on irisgate's connections only */
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_raw WHERE raw_id = 1 AND"
                            " first_seen = '2024-02-01 00:00:00' AND hash <> 0"),
                 1);
    CHECK_EQ_INT(count_rows("SELECT raw_id FROM domains"), 2);
    /* the fetch log from every time version 3 recorded */
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM fetches"), 3);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM fetches WHERE observed_at ="
                            " '2024-02-01 00:00:00' AND raw_id = 1"),
                 1);
    /* links: 192.0.2.1 held in January, again from March; 192.0.2.2 in February */
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_pivots WHERE pivot_id = 1"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_pivots WHERE pivot_id = 2 AND"
                            " last_seen = '2024-02-01 00:00:00'"),
                 1);
    CHECK_EQ_INT(count_rows("SELECT stored_count FROM pivots WHERE pivot_id = 1"), 1);
    CHECK_EQ_INT(count_rows("SELECT stored_count FROM pivots WHERE pivot_id = 2"), 0);
    CHECK_EQ_INT(count_rows("SELECT count FROM pivots WHERE pivot_id = 1"), 4);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM risk_history"), 2);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM domain_history"), 1);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM v_domain_changes WHERE attr = 'ip'"
                            " AND value = '192.0.2.2' AND removed_at = '2024-03-01 00:00:00'"),
                 1);
    /* the indexes that repeated pivots are gone, the one on links is there */
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM sqlite_master WHERE name IN ('ips_address',"
                            " 'emails_email', 'domains_last_fetched', 'ssl_hash')"),
                 0);
    CHECK_EQ_INT(count_rows("SELECT count(*) FROM sqlite_master WHERE name ="
                            " 'domain_pivots_pivot'"),
                 1);
    teardown();
}

int main(void) {
    RUN(test_store_round_trip_binary_body_and_replace);
    RUN(test_store_survives_close_and_reopen);
    RUN(test_store_async_get_on_the_loop);
    RUN(test_store_group_commits_many_puts);
    RUN(test_store_empty_body_and_invalid_puts);
    RUN(test_store_failed_job_is_rolled_back_alone);
    RUN(test_store_counts_jobs_lost_with_their_transaction);
    RUN(test_store_plain_sqlite3_reader_and_schema);
    RUN(test_store_close_waits_for_reads_in_flight);
    RUN(test_store_refuses_a_newer_schema);
    RUN(test_store_refuses_a_file_that_is_not_a_database);
    RUN(test_store_open_error_names_the_file);
    RUN(test_store_migrates_a_version_1_file_keeping_its_answers);
    RUN(test_store_ingest_queues_answers_and_logs_rejections);
    RUN(test_store_ingest_failing_half_way_in_a_batch_leaves_nothing);
    RUN(test_store_ingest_sees_what_another_connection_wrote);
    RUN(test_store_migrates_a_version_3_file_keeping_its_history);
    return check_summary();
}
