/* responses.c — the `responses` table: cached answers, the exact bytes the upstream sent
 * for a canonical question. Puts and deletes are copied into writer jobs and return at
 * once; reads run on a pooled read-only connection, blocking (command line, tests) or on
 * libuv's thread pool with the callback on the loop thread.
 *
 * A put is visible to readers only once the writer has committed it (the next batch, or
 * after ig_store_flush): a get right after a put may miss it, which callers accept (the
 * gateway keeps its own memory copy). Reads return an entry whatever its age: freshness is
 * the caller's judgement. Knows nothing of HTTP: status and content type are just columns.
 * Every ig_cached_t handed out is owned by the receiver (ig_cached_free).
 */
#include "writer_int.h"

#include <stdlib.h>
#include <string.h>

static const char sql_put[] =
    "INSERT OR REPLACE INTO responses(key, endpoint, status, content_type, body, fetched_at, "
    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_delete[] = "DELETE FROM responses WHERE key = ?1";
static const char sql_get[] = "SELECT endpoint, status, content_type, body, fetched_at, "
                              "expires_at FROM responses WHERE key = ?1";

void ig_cached_free(ig_cached_t *c) {
    if (!c) return;
    free(c->key);
    free(c->endpoint);
    free(c->content_type);
    free(c->body);
    free(c);
}

static char *dup_or_null(const char *p) {
    return p ? strdup(p) : NULL;
}

/* A deep copy; body is always allocated (NUL-terminated for convenience, never NULL). */
static ig_cached_t *cached_copy(const ig_cached_t *in) {
    ig_cached_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    *c = *in;
    c->key = dup_or_null(in->key);
    c->endpoint = dup_or_null(in->endpoint);
    c->content_type = dup_or_null(in->content_type);
    c->body = malloc(in->body_len + 1);
    if (!c->key || !c->endpoint || (in->content_type && !c->content_type) || !c->body) {
        ig_cached_free(c);
        return NULL;
    }
    if (in->body_len) memcpy(c->body, in->body, in->body_len);
    c->body[in->body_len] = '\0';
    return c;
}

/* ---- writes (on the writer thread) ------------------------------------------------------ */

static int step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? IG_OK : IG_EIO;
}

static int run_put(sqlite3 *db, void *arg) {
    const ig_cached_t *c = arg;
    sqlite3_stmt *st = ig_db_stmt(db, sql_put);
    if (!st) return IG_EIO;
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, c->status);
    if (c->content_type)
        sqlite3_bind_text(st, 4, c->content_type, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    /* c->body is never NULL (cached_copy), so an empty body is an empty blob, not NULL. */
    sqlite3_bind_blob64(st, 5, c->body, c->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, c->fetched_at);
    sqlite3_bind_int64(st, 7, c->expires_at);
    return step_done(st);
}

static void free_cached(void *arg) {
    ig_cached_free(arg);
}

int ig_store_put_response(ig_store_t *s, const ig_cached_t *c) {
    if (!s || !c || !c->key || !c->endpoint || (!c->body && c->body_len)) return IG_EINVAL;
    ig_cached_t *copy = cached_copy(c);
    if (!copy) return IG_ENOMEM;
    return ig_writer_submit(s, run_put, copy, free_cached);
}

static int run_delete(sqlite3 *db, void *arg) {
    sqlite3_stmt *st = ig_db_stmt(db, sql_delete);
    if (!st) return IG_EIO;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    return step_done(st);
}

int ig_store_delete_response(ig_store_t *s, const char *key) {
    if (!s || !key) return IG_EINVAL;
    char *k = strdup(key);
    if (!k) return IG_ENOMEM;
    return ig_writer_submit(s, run_delete, k, free);
}

/* ---- reads (any thread but the writer's) ------------------------------------------------ */

static int get_with(ig_store_t *s, const char *key, ig_cached_t **out) {
    *out = NULL;
    sqlite3 *db = ig_db_reader_get(s);
    if (!db) return IG_EIO;
    sqlite3_stmt *st = ig_db_stmt(db, sql_get);
    int rc = IG_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *endpoint = (const char *)sqlite3_column_text(st, 0);
            ig_cached_t row = {
                .key = (char *)key,
                .endpoint = (char *)(endpoint ? endpoint : ""),
                .status = sqlite3_column_int(st, 1),
                .content_type = (char *)sqlite3_column_text(st, 2),
                .body = (char *)sqlite3_column_blob(st, 3),
                .body_len = (size_t)sqlite3_column_bytes(st, 3),
                .fetched_at = sqlite3_column_int64(st, 4),
                .expires_at = sqlite3_column_int64(st, 5),
            };
            *out = cached_copy(&row);
            rc = *out ? IG_OK : IG_ENOMEM;
        } else {
            rc = step == SQLITE_DONE ? IG_ENOENT : IG_EIO;
        }
        sqlite3_reset(st); /* end the read snapshot, or the WAL could never be checkpointed */
    }
    ig_db_reader_put(s, db);
    return rc;
}

int ig_store_get_response(ig_store_t *s, const char *key, ig_cached_t **out) {
    if (!out) return IG_EINVAL;
    *out = NULL;
    if (!s || !key) return IG_EINVAL;
    return get_with(s, key, out);
}

typedef struct {
    uv_work_t work;
    ig_store_t *s;
    char *key;
    ig_store_get_cb cb;
    void *arg;
    int rc;
    ig_cached_t *result;
} get_req_t;

static void get_work(uv_work_t *w) {
    get_req_t *g = w->data;
    g->rc = get_with(g->s, g->key, &g->result);
    ig_db_read_end(g->s); /* last touch of the store: it may be closed from here on */
    g->s = NULL;
}

/* On the loop thread. Never touches the store: ig_store_close only waits for get_work. */
static void get_after(uv_work_t *w, int status) {
    get_req_t *g = w->data;
    if (status != 0) { /* cancelled: get_work never ran */
        ig_db_read_end(g->s);
        g->rc = status;
    }
    g->cb(g->arg, g->rc, g->result);
    free(g->key);
    free(g);
}

int ig_store_get_response_async(ig_store_t *s, uv_loop_t *loop, const char *key, ig_store_get_cb cb,
                                void *arg) {
    if (!s || !loop || !key || !cb) return IG_EINVAL;
    get_req_t *g = calloc(1, sizeof(*g));
    if (!g || !(g->key = strdup(key))) {
        free(g);
        return IG_ENOMEM;
    }
    g->s = s;
    g->cb = cb;
    g->arg = arg;
    g->work.data = g;
    ig_db_read_begin(s);
    int rc = uv_queue_work(loop, &g->work, get_work, get_after);
    if (rc) {
        ig_db_read_end(s);
        free(g->key);
        free(g);
    }
    return rc;
}
