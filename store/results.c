/* results.c — reads the result each domain's current rows come from (domain_raw via
 * domains.raw_id, as the vendor sent it, with its endpoint and the domain's last_fetched)
 * for the gateway's per-domain answers: one
 * read-only connection from the pool, on libuv's thread pool, the callback on the loop.
 *
 * Never writes; an absent domain is a row with json NULL. Rows handed to the callback are
 * owned by it (ig_stored_results_free).
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static const char sql_get[] =
    "SELECT r.endpoint, CAST(strftime('%s', d.last_fetched) AS INTEGER), r.json"
    " FROM domains d JOIN domain_raw r ON r.raw_id = d.raw_id WHERE d.domain = ?1";

typedef struct {
    uv_work_t work;
    ig_store_t *s;
    ig_stored_result_t *rows;
    size_t n;
    ig_store_results_cb cb;
    void *arg;
    int rc;
} results_req_t;

void ig_stored_results_free(ig_stored_result_t *rows, size_t n) {
    if (!rows) return;
    for (size_t i = 0; i < n; i++) {
        free(rows[i].domain);
        free(rows[i].endpoint);
        free(rows[i].json);
    }
    free(rows);
}

static int read_rows(ig_store_t *s, ig_stored_result_t *rows, size_t n) {
    sqlite3 *db = ig_db_reader_get(s);
    if (!db) return IG_EIO;
    sqlite3_stmt *st = ig_db_stmt(db, sql_get);
    int rc = st ? IG_OK : IG_EIO;
    /* One read transaction, so the rows are one consistent view. */
    if (rc == IG_OK && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) rc = IG_EIO;
    for (size_t i = 0; i < n && rc == IG_OK; i++) {
        sqlite3_bind_text(st, 1, rows[i].domain, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const char *ep = (const char *)sqlite3_column_text(st, 0);
            const char *json = (const char *)sqlite3_column_text(st, 2);
            size_t len = (size_t)sqlite3_column_bytes(st, 2);
            rows[i].fetched_at = sqlite3_column_int64(st, 1);
            rows[i].endpoint = strdup(ep ? ep : "");
            rows[i].json = json ? malloc(len + 1) : NULL;
            if (!rows[i].endpoint || (json && !rows[i].json)) rc = IG_ENOMEM;
            if (rows[i].json) {
                memcpy(rows[i].json, json, len);
                rows[i].json[len] = '\0';
                rows[i].json_len = len;
            }
        } else if (step != SQLITE_DONE) {
            rc = IG_EIO;
        }
        sqlite3_reset(st);
    }
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    ig_db_reader_put(s, db);
    return rc;
}

static void results_work(uv_work_t *w) {
    results_req_t *q = w->data;
    q->rc = read_rows(q->s, q->rows, q->n);
    ig_db_read_end(q->s); /* last touch of the store: it may be closed from here on */
    q->s = NULL;
}

static void results_after(uv_work_t *w, int status) {
    results_req_t *q = w->data;
    if (status != 0) { /* cancelled: results_work never ran */
        ig_db_read_end(q->s);
        q->rc = status;
    }
    q->cb(q->arg, q->rc, q->rows, q->n);
    free(q);
}

int ig_store_get_results_async(ig_store_t *s, uv_loop_t *loop, const char *const *domains,
                               size_t n, ig_store_results_cb cb, void *arg) {
    if (!s || !loop || !domains || !n || !cb) return IG_EINVAL;
    results_req_t *q = calloc(1, sizeof(*q));
    ig_stored_result_t *rows = calloc(n, sizeof(*rows));
    if (!q || !rows) {
        free(q);
        free(rows);
        return IG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (!(rows[i].domain = strdup(domains[i]))) {
            ig_stored_results_free(rows, n);
            free(q);
            return IG_ENOMEM;
        }
    *q = (results_req_t){.s = s, .rows = rows, .n = n, .cb = cb, .arg = arg};
    q->work.data = q;
    ig_db_read_begin(s);
    int rc = uv_queue_work(loop, &q->work, results_work, results_after);
    if (rc) {
        ig_db_read_end(s);
        ig_stored_results_free(rows, n);
        free(q);
    }
    return rc;
}
