/* links.c — the current domains of one stored value, the lookup iris_pivot and
 * iris_distribution share: a probe of pivots(field, value) for the pivot_id, the vendor count
 * and stored_count (kept by ingest; never counted here), then the value's domain_pivots links
 * in key order, each joined to its domain and kept only when current (last_seen =
 * domains.last_fetched); nothing assumes (domain_id, pivot_id) is unique, only the current
 * link is. A walk reads all the links in one statement run, or a chunk per run (bounded by the
 * domain_id of the chunk's last link, four times bigger each time), handing every row to
 * iris_sql_batch, an internal aggregate that copies it into the ig_sqll_batch_t the
 * connection's sink points at during the run: one sqlite3_step per chunk, not per domain.
 * iris_sql_batch outside a walk is an error (the sink is empty). Each set of columns
 * (IG_SQLL_* bits) has its own statements, prepared on first use and kept in the caller's
 * ig_sqll_t (one per virtual table, finalized when SQLite disconnects it); a batch's buffers
 * are the caller's, kept from call to call. Read-only; never writes.
 */
#include "sql_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHUNK 4096

static const char *const col_sql[IG_SQLL_NCOLS] = {
    [IG_SQLL_DOMAIN] = "d.domain",      [IG_SQLL_RISK] = "d.risk_score",
    [IG_SQLL_CREATE] = "d.create_date", [IG_SQLL_FIRST_SEEN] = "d.first_seen",
    [IG_SQLL_ACTIVE] = "d.active",      [IG_SQLL_LAST_FETCHED] = "d.last_fetched",
};

static void column_list(char *sql, size_t size, size_t n, unsigned cols) {
    for (int k = 0, first = 1; k < IG_SQLL_NCOLS; k++) {
        if (!(cols & (1u << k))) continue;
        n += (size_t)snprintf(sql + n, size - n, "%s%s", first ? "" : ", ", col_sql[k]);
        first = 0;
    }
}

#define PROBE_SQL "SELECT pivot_id, count, stored_count FROM pivots WHERE field = ?1 AND value = ?2"
/* A chunk's rows, in domain_id order (CROSS JOIN: the value's links drive, whatever the
 * statistics say), each link's domain found by key to tell whether the link is current
 * (schema 4 has no index on domains(last_fetched) that could answer it from denser pages). */
#define WALK_FROM                                                                                  \
    " FROM domain_pivots dp CROSS JOIN domains d"                                                  \
    " WHERE dp.pivot_id = ?1 AND d.domain_id = dp.domain_id AND dp.last_seen = d.last_fetched"
/* A chunk: the links after domain_id ?2 up to ?3. */
#define CHUNK_WHERE " AND dp.domain_id > ?2 AND dp.domain_id <= ?3"
/* Where a chunk of ?3 links after domain_id ?2 ends: an index-only read. */
#define UPPER_SQL                                                                                  \
    "SELECT domain_id FROM domain_pivots WHERE pivot_id = ?1 AND domain_id > ?2"                   \
    " ORDER BY domain_id LIMIT 1 OFFSET ?3"

int ig_sqll_probe(sqlite3 *db, ig_sqll_t *c, const char *field, const char *value,
                  ig_sqll_value_t *out) {
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(db, &c->probe, PROBE_SQL, &s);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_text(s, 1, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->found = 1;
        out->pivot_id = sqlite3_column_int64(s, 0);
        out->has_count = sqlite3_column_type(s, 1) != SQLITE_NULL;
        out->count = sqlite3_column_int64(s, 1);
        out->stored = sqlite3_column_int64(s, 2);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    ig_sqls_give(&c->probe, s);
    return rc;
}

/* ---- the internal aggregate: one call per row of a chunk ---- */

static int grow(void **p, size_t *cap, size_t need, size_t unit) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *q = sqlite3_realloc64(*p, (sqlite3_uint64)n * unit);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static void batch_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    ig_sqll_batch_t *b = ((ig_sqll_sink_t *)sqlite3_user_data(ctx))->current;
    if (!b || argc != b->ncols) {
        sqlite3_result_error(ctx, "iris_sql_batch is internal to the irisgate SQL module", -1);
        return;
    }
    size_t need = ((size_t)b->n + 1) * (size_t)b->ncols;
    if (need > b->cell_cap && grow((void **)&b->cells, &b->cell_cap, need, sizeof(*b->cells)))
        goto nomem;
    ig_sqll_cell_t *cell = &b->cells[(size_t)b->n * (size_t)b->ncols];
    for (int k = 0; k < argc; k++, cell++) {
        sqlite3_value *v = argv[k];
        int type = sqlite3_value_type(v);
        cell->type = type;
        if (type == SQLITE_INTEGER) {
            cell->u.i = sqlite3_value_int64(v);
        } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
            /* The bytes as they are: sqlite3_value_text would first copy a string read from
             * a page to give it a terminating NUL. */
            const void *p = sqlite3_value_blob(v);
            size_t n = (size_t)sqlite3_value_bytes(v), at = b->len;
            if (at + n + 1 > b->text_cap && grow((void **)&b->text, &b->text_cap, at + n + 1, 1))
                goto nomem;
            if (n) memcpy(b->text + at, p, n);
            b->text[at + n] = '\0';
            cell->u.off = at;
            cell->len = (int)n;
            b->len = at + n + 1;
        } else if (type == SQLITE_FLOAT) {
            cell->u.r = sqlite3_value_double(v);
        } else {
            cell->type = SQLITE_NULL;
        }
    }
    b->n++;
    return;
nomem:
    b->nomem = 1;
    sqlite3_result_error_nomem(ctx);
}

static void batch_final(sqlite3_context *ctx) {
    (void)ctx; /* the rows are in the batch; the aggregate's own value is NULL */
}

int ig_sqll_register(sqlite3 *db, ig_sqll_sink_t **out) {
    ig_sqll_sink_t *k = sqlite3_malloc(sizeof(*k));
    *out = k;
    if (!k) return SQLITE_NOMEM;
    k->current = NULL;
    /* The sink lives as long as the function, that is the connection (SQLite frees it, on
     * failure too). */
    int rc = sqlite3_create_function_v2(db, "iris_sql_batch", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                        k, NULL, batch_step, batch_final, sqlite3_free);
    if (rc != SQLITE_OK) *out = NULL;
    return rc;
}

/* ---- walks ---- */

void ig_sqll_batch_start(ig_sqll_batch_t *b, unsigned cols, const ig_sqll_value_t *pv,
                         sqlite3_int64 first_chunk) {
    b->cols = cols & IG_SQLL_ALL;
    b->ncols = 0;
    for (int k = 0; k < IG_SQLL_NCOLS; k++)
        b->ncols += (b->cols >> k) & 1;
    b->pivot_id = pv->pivot_id;
    b->after = INT64_MIN;
    b->chunk = first_chunk;
    b->done = 0;
    b->n = 0;
    b->len = 0;
    b->nomem = 0;
}

void ig_sqll_batch_free(ig_sqll_batch_t *b) {
    sqlite3_free(b->cells);
    sqlite3_free(b->text);
    memset(b, 0, sizeof(*b));
}

static int walk_stmt(sqlite3 *db, ig_sqll_t *c, int chunked, unsigned cols, sqlite3_stmt **out) {
    if (c->walk[chunked][cols]) {
        *out = c->walk[chunked][cols];
        c->walk[chunked][cols] = NULL;
        return SQLITE_OK;
    }
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "SELECT iris_sql_batch(");
    column_list(sql, sizeof(sql), n, cols);
    n = strlen(sql);
    snprintf(sql + n, sizeof(sql) - n, ")%s%s", WALK_FROM, chunked ? CHUNK_WHERE : "");
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
}

/* The domain_id that ends a chunk of b->chunk links, or INT64_MAX when fewer are left. */
static int chunk_end(sqlite3 *db, ig_sqll_t *c, const ig_sqll_batch_t *b, sqlite3_int64 *hi) {
    *hi = INT64_MAX;
    if (b->chunk <= 0) return SQLITE_OK;
    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(db, &c->upper, UPPER_SQL, &s);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(s, 1, b->pivot_id);
    sqlite3_bind_int64(s, 2, b->after);
    sqlite3_bind_int64(s, 3, b->chunk - 1);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *hi = sqlite3_column_int64(s, 0);
    ig_sqls_give(&c->upper, s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int ig_sqll_batch_next(sqlite3 *db, ig_sqll_t *c, ig_sqll_batch_t *b) {
    b->n = 0;
    b->len = 0;
    /* A chunk can hold only links that are history: go on to the next. */
    while (b->n == 0 && !b->done) {
        sqlite3_int64 hi;
        int rc = chunk_end(db, c, b, &hi);
        if (rc != SQLITE_OK) return rc;
        if (hi == INT64_MAX) b->done = 1;
        /* The whole walk at once has no bounds to check on every link. */
        int chunked = b->chunk > 0 || b->after != INT64_MIN || hi != INT64_MAX;
        sqlite3_stmt *s = NULL;
        rc = walk_stmt(db, c, chunked, b->cols, &s);
        if (rc != SQLITE_OK) return rc;
        sqlite3_bind_int64(s, 1, b->pivot_id);
        if (chunked) {
            sqlite3_bind_int64(s, 2, b->after);
            sqlite3_bind_int64(s, 3, hi);
        }
        c->sink->current = b;
        rc = sqlite3_step(s);
        c->sink->current = NULL;
        ig_sqls_give(&c->walk[chunked][b->cols], s);
        if (b->nomem) return SQLITE_NOMEM;
        if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
        b->after = hi;
        if (b->chunk > 0) b->chunk = b->chunk * 4 > MAX_CHUNK ? MAX_CHUNK : b->chunk * 4;
    }
    return SQLITE_OK;
}

void ig_sqll_result(sqlite3_context *ctx, const ig_sqll_batch_t *b, const ig_sqll_cell_t *cell) {
    switch (cell->type) {
    case SQLITE_INTEGER:
        sqlite3_result_int64(ctx, cell->u.i);
        break;
    case SQLITE_FLOAT:
        sqlite3_result_double(ctx, cell->u.r);
        break;
    case SQLITE_TEXT:
        sqlite3_result_text(ctx, b->text + cell->u.off, cell->len, SQLITE_TRANSIENT);
        break;
    case SQLITE_BLOB:
        sqlite3_result_blob(ctx, b->text + cell->u.off, cell->len, SQLITE_TRANSIENT);
        break;
    default:
        break;
    }
}

int ig_sqll_column(unsigned cols, int col) {
    if (!(cols & (1u << col))) return -1;
    int k = 0;
    for (int i = 0; i < col; i++)
        k += (cols >> i) & 1;
    return k;
}

void ig_sqll_free(ig_sqll_t *c) {
    sqlite3_finalize(c->probe);
    sqlite3_finalize(c->upper);
    for (unsigned i = 0; i <= IG_SQLL_ALL; i++) {
        sqlite3_finalize(c->walk[0][i]);
        sqlite3_finalize(c->walk[1][i]);
    }
    memset(c, 0, sizeof(*c));
}
