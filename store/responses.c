/* responses.c — the store's public face (ig_store_open/close) and the `responses` table:
 * cached answers, written through the writer thread and read either blocking (command
 * line, tests) or on libuv's thread pool for the loop.
 *
 * A put is visible to readers once the writer has committed it (at most one batch later).
 * Reads return an entry whatever its age: freshness is the caller's judgement. Knows
 * nothing of HTTP: status and content type are just columns.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

int ig_store_open(const char *path, ig_store_t **out, char *err, size_t errlen) {
    ig_store_t *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return IG_ENOMEM;
    }
    int rc = ig_db_open_rw(path, &s->wdb, err, errlen);
    if (rc) {
        free(s->path);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->committed, NULL);
    rc = ig_writer_start(s);
    if (rc) {
        snprintf(err, errlen, "cannot start the database writer thread");
        ig_store_close(s);
        return rc;
    }
    *out = s;
    return IG_OK;
}

void ig_store_close(ig_store_t *s) {
    if (!s) return;
    ig_writer_stop(s);
    ig_db_readers_close(s);
    sqlite3_close_v2(s->wdb);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->committed);
    free(s->path);
    free(s);
}

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

static int run_put(sqlite3 *db, void *arg) {
    const ig_cached_t *c = arg;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(db,
                                "INSERT OR REPLACE INTO responses(key, endpoint, status, "
                                "content_type, body, fetched_at, expires_at) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->endpoint, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, c->status);
        if (c->content_type)
            sqlite3_bind_text(st, 4, c->content_type, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_blob64(st, 5, c->body, c->body_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, c->fetched_at);
        sqlite3_bind_int64(st, 7, c->expires_at);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? IG_OK : IG_EIO;
}

static void free_cached(void *arg) {
    ig_cached_free(arg);
}

int ig_store_put_response(ig_store_t *s, const ig_cached_t *c) {
    ig_cached_t *copy = cached_copy(c);
    if (!copy) return IG_ENOMEM;
    return ig_writer_submit(s, run_put, copy, free_cached);
}

static int run_delete(sqlite3 *db, void *arg) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "DELETE FROM responses WHERE key = ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? IG_OK : IG_EIO;
}

int ig_store_delete_response(ig_store_t *s, const char *key) {
    char *k = strdup(key);
    if (!k) return IG_ENOMEM;
    return ig_writer_submit(s, run_delete, k, free);
}

/* Reads key with a pooled read-only connection. */
static int get_with(ig_store_t *s, const char *key, ig_cached_t **out) {
    *out = NULL;
    sqlite3 *db = ig_db_reader_get(s);
    if (!db) return IG_EIO;
    sqlite3_stmt *st = NULL;
    int rc = IG_EIO;
    if (sqlite3_prepare_v2(db,
                           "SELECT endpoint, status, content_type, body, fetched_at, expires_at "
                           "FROM responses WHERE key = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            ig_cached_t row = {
                .key = (char *)key,
                .endpoint = (char *)sqlite3_column_text(st, 0),
                .status = sqlite3_column_int(st, 1),
                .content_type = (char *)sqlite3_column_text(st, 2),
                .body = (char *)sqlite3_column_blob(st, 3),
                .body_len = (size_t)sqlite3_column_bytes(st, 3),
                .fetched_at = sqlite3_column_int64(st, 4),
                .expires_at = sqlite3_column_int64(st, 5),
            };
            if (!row.endpoint) row.endpoint = "";
            *out = cached_copy(&row);
            rc = *out ? IG_OK : IG_ENOMEM;
        } else {
            rc = step == SQLITE_DONE ? IG_ENOENT : IG_EIO;
        }
    }
    sqlite3_finalize(st);
    ig_db_reader_put(s, db);
    return rc;
}

int ig_store_get_response(ig_store_t *s, const char *key, ig_cached_t **out) {
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
}

static void get_after(uv_work_t *w, int status) {
    get_req_t *g = w->data;
    if (status != 0 && g->rc == IG_OK) g->rc = IG_EIO; /* cancelled */
    g->cb(g->arg, g->rc, g->result);
    free(g->key);
    free(g);
}

int ig_store_get_response_async(ig_store_t *s, uv_loop_t *loop, const char *key,
                                ig_store_get_cb cb, void *arg) {
    get_req_t *g = calloc(1, sizeof(*g));
    if (!g || !(g->key = strdup(key))) {
        free(g);
        return IG_ENOMEM;
    }
    g->s = s;
    g->cb = cb;
    g->arg = arg;
    g->work.data = g;
    int rc = uv_queue_work(loop, &g->work, get_work, get_after);
    if (rc) {
        free(g->key);
        free(g);
    }
    return rc;
}
