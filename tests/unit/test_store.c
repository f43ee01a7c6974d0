/* test_store.c — the store: answers round-trip byte for byte (NUL bytes included), survive
 * close and reopen, are read on the thread pool for the loop, writes are group-committed,
 * the database is WAL and versioned, and a newer schema is refused. */
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
    CHECK(strstr(err, "newer") != NULL);
    teardown();
}

static void test_store_open_error_names_the_file(void) {
    ig_store_t *s = NULL;
    char err[256] = "";
    CHECK(ig_store_open("/nonexistent-dir/x/y.db", &s, err, sizeof err) != 0);
    CHECK(strstr(err, "/nonexistent-dir/x/y.db") != NULL);
}

int main(void) {
    RUN(test_store_round_trip_binary_body_and_replace);
    RUN(test_store_survives_close_and_reopen);
    RUN(test_store_async_get_on_the_loop);
    RUN(test_store_group_commits_many_puts);
    RUN(test_store_refuses_a_newer_schema);
    RUN(test_store_open_error_names_the_file);
    return check_summary();
}
