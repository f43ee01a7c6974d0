/* guided.c — iris_guided_pivots(domain [, threshold]): a domain's pivotable values with the
 * vendor's counts, the "guided pivots" of the Iris Investigate domain profile (docs/sql.md).
 *   SELECT label, value, vendor_count, query FROM iris_guided_pivots('domaintools.com');
 * Arguments (HIDDEN): domain (case-insensitive; NULL: no rows), threshold (default 500, also
 * when NULL). Columns: label ("IP address", ...), field, value, vendor_count (NULL when only
 * Enrich showed the value), stored_count (stored domains currently holding it), guided
 * (1 < vendor_count <= threshold), query (the percent-encoded Iris query: field=value).
 * One row per value the domain's latest fetch holds (a current link), in the order of
 * fields.c (docs/sql.md's field list), then by value, bytewise. One call: the domain by its
 * unique index, its links by domain_pivots' key, read whole at xFilter into buffers the
 * cursor keeps from call to call, and sorted here; stored_count is the value's
 * pivots.stored_count (ingest keeps it), read in the same join as its vendor count.
 * xBestIndex counts the domain's links to size the call (estimate.c). Never writes.
 */
#include "sql_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_THRESHOLD 500
#define MAX_DOMAIN 256 /* bytes of a stored name, with its NUL: DNS allows 253 */

#define ROWS_SQL                                                                                   \
    "SELECT p.field, p.value, p.count, p.stored_count"                                             \
    " FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"                          \
    " JOIN pivots p ON p.pivot_id = dp.pivot_id"                                                   \
    " WHERE d.domain = ?1 AND dp.last_seen = d.last_fetched"

enum {
    COL_LABEL,
    COL_FIELD,
    COL_VALUE,
    COL_VENDOR_COUNT,
    COL_STORED_COUNT,
    COL_GUIDED,
    COL_QUERY,
    COL_DOMAIN,    /* HIDDEN: argument 1 */
    COL_THRESHOLD, /* HIDDEN: argument 2 */
};
#define NARGS 2

typedef struct {
    size_t field_at, value_at; /* offsets into the cursor's text, while it grows */
    const char *field, *value; /* then pointers, once it is whole */
    size_t value_len;
    sqlite3_int64 count;
    int has_count;
    int rank;
    sqlite3_int64 stored; /* pivots.stored_count */
} grow_t;

typedef struct {
    sqlite3_vtab base;
    sqlite3 *db;
    sqlite3_stmt *spare_rows, *spare_estimate;
} guided_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    sqlite3_value *args[NARGS];
    grow_t *rows;
    int n, cap, i;
    char *text; /* every row's field and value, NUL-terminated */
    size_t len, text_cap;
    char *query; /* the current row's query column */
    size_t query_cap;
    sqlite3_int64 threshold;
} guided_cursor;

static int gp_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err) {
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(label TEXT, field TEXT, value TEXT,"
                                      " vendor_count INTEGER, stored_count INTEGER,"
                                      " guided INTEGER, query TEXT,"
                                      " domain HIDDEN, threshold HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    guided_vtab *v = sqlite3_malloc(sizeof(*v));
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->db = db;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int gp_disconnect(sqlite3_vtab *vt) {
    guided_vtab *v = (guided_vtab *)vt;
    sqlite3_finalize(v->spare_rows);
    sqlite3_finalize(v->spare_estimate);
    sqlite3_free(v);
    return SQLITE_OK;
}

static int gp_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    guided_vtab *v = (guided_vtab *)vt;
    int which[NARGS];
    int rc = ig_sqla_plan(info, COL_DOMAIN, NARGS, 1, which);
    if (rc != SQLITE_OK) return rc;
    double rows = ig_sqle_domain_rows(v->db, &v->spare_estimate, ig_sqla_constant(info, which, 0));
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = ig_sqle_walk_cost(rows);
    ig_sqla_set_columns(info, info->colUsed);
    return SQLITE_OK;
}

static int gp_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    guided_cursor *c = sqlite3_malloc(sizeof(*c));
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

/* Forgets the rows but keeps the buffers: the next call (the next outer row of a join)
 * reuses them. */
static void gp_reset(guided_cursor *c) {
    c->n = c->i = 0;
    c->len = 0;
    for (int i = 0; i < NARGS; i++) {
        sqlite3_value_free(c->args[i]);
        c->args[i] = NULL;
    }
}

static int gp_close(sqlite3_vtab_cursor *cur) {
    guided_cursor *c = (guided_cursor *)cur;
    gp_reset(c);
    sqlite3_free(c->rows);
    sqlite3_free(c->text);
    sqlite3_free(c->query);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int vt_error(sqlite3_vtab *vt, char *msg) {
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int row_order(const void *a, const void *b) {
    const grow_t *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    int d = strcmp(x->field, y->field);
    return d ? d : strcmp(x->value, y->value);
}

static int grow(void **p, size_t *cap, size_t need, size_t unit) {
    if (need <= *cap) return SQLITE_OK;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = sqlite3_realloc64(*p, (sqlite3_uint64)n * unit);
    if (!q) return SQLITE_NOMEM;
    *p = q;
    *cap = n;
    return SQLITE_OK;
}

/* Appends s (n bytes) and a NUL to the cursor's text; *at gets its offset. */
static int add_text(guided_cursor *c, const unsigned char *s, int n, size_t *at) {
    size_t len = n > 0 ? (size_t)n : 0;
    if (grow((void **)&c->text, &c->text_cap, c->len + len + 1, 1)) return SQLITE_NOMEM;
    if (len) memcpy(c->text + c->len, s, len);
    c->text[c->len + len] = '\0';
    *at = c->len;
    c->len += len + 1;
    return SQLITE_OK;
}

static int add_row(guided_cursor *c, sqlite3_stmt *s) {
    size_t cap = (size_t)c->cap;
    if (grow((void **)&c->rows, &cap, (size_t)c->n + 1, sizeof(*c->rows))) return SQLITE_NOMEM;
    c->cap = (int)cap;
    grow_t *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    /* The bytes, NUL-terminated in our own buffer (sqlite3_column_text would copy them
     * first to terminate them). */
    const unsigned char *f = sqlite3_column_blob(s, 0);
    int fn = sqlite3_column_bytes(s, 0);
    if (add_text(c, f, fn, &r->field_at)) return SQLITE_NOMEM;
    const unsigned char *v = sqlite3_column_blob(s, 1);
    int vn = sqlite3_column_bytes(s, 1);
    if (add_text(c, v, vn, &r->value_at)) return SQLITE_NOMEM;
    r->value_len = (size_t)vn;
    r->has_count = sqlite3_column_type(s, 2) != SQLITE_NULL;
    r->count = sqlite3_column_int64(s, 2);
    r->stored = sqlite3_column_int64(s, 3);
    c->n++;
    return SQLITE_OK;
}

static int gp_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv) {
    guided_cursor *c = (guided_cursor *)cur;
    guided_vtab *v = (guided_vtab *)cur->pVtab;
    gp_reset(c);
    sqlite3_uint64 used = ig_sqla_columns(idxStr);
    sqlite3_value *args[NARGS];
    ig_sqla_args(idxNum, argc, argv, NARGS, args);
    for (int i = 0; i < NARGS; i++) {
        if (args[i] && (used & ((sqlite3_uint64)1 << (COL_DOMAIN + i))) &&
            !(c->args[i] = sqlite3_value_dup(args[i])))
            return SQLITE_NOMEM;
    }
    c->threshold = DEFAULT_THRESHOLD;
    if (args[1] && sqlite3_value_type(args[1]) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(args[1]);
        if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
            return vt_error(cur->pVtab, sqlite3_mprintf("iris_guided_pivots: the threshold "
                                                        "must be a number"));
        c->threshold = sqlite3_value_int64(args[1]);
    }
    if (!args[0] || sqlite3_value_type(args[0]) == SQLITE_NULL) return SQLITE_OK;

    char domain[MAX_DOMAIN];
    const char *in = (const char *)sqlite3_value_text(args[0]);
    if (!in) return SQLITE_NOMEM;
    if (!ig_sqlf_domain(in, domain, sizeof(domain))) return SQLITE_OK; /* never stored */

    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(v->db, &v->spare_rows, ROWS_SQL, &s);
    if (rc != SQLITE_OK)
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_guided_pivots: %s (is this an "
                                                    "irisgate database?)",
                                                    sqlite3_errmsg(v->db)));
    sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = add_row(c, s)) != SQLITE_OK) break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_NOMEM)
        vt_error(cur->pVtab, sqlite3_mprintf("iris_guided_pivots: %s", sqlite3_errmsg(v->db)));
    ig_sqls_give(&v->spare_rows, s);
    if (rc != SQLITE_DONE) {
        c->n = 0;
        return rc == SQLITE_NOMEM ? rc : SQLITE_ERROR;
    }
    for (int i = 0; i < c->n; i++) {
        grow_t *r = &c->rows[i];
        r->field = c->text + r->field_at;
        r->value = c->text + r->value_at;
        r->rank = ig_sqlf_rank(r->field);
    }
    if (c->n > 1) qsort(c->rows, (size_t)c->n, sizeof(*c->rows), row_order);
    return SQLITE_OK;
}

static int gp_next(sqlite3_vtab_cursor *cur) {
    ((guided_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int gp_eof(sqlite3_vtab_cursor *cur) {
    guided_cursor *c = (guided_cursor *)cur;
    return c->i >= c->n;
}

static int gp_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    guided_cursor *c = (guided_cursor *)cur;
    grow_t *r = &c->rows[c->i];
    switch (col) {
    case COL_LABEL:
        sqlite3_result_text(ctx, ig_sqlf_label(r->field), -1, SQLITE_STATIC);
        break;
    case COL_FIELD:
        sqlite3_result_text(ctx, r->field, -1, SQLITE_TRANSIENT);
        break;
    case COL_VALUE:
        sqlite3_result_text(ctx, r->value, (int)r->value_len, SQLITE_TRANSIENT);
        break;
    case COL_VENDOR_COUNT:
        if (r->has_count) sqlite3_result_int64(ctx, r->count);
        break;
    case COL_STORED_COUNT:
        sqlite3_result_int64(ctx, r->stored);
        break;
    case COL_GUIDED:
        sqlite3_result_int(ctx, r->has_count && r->count > 1 && r->count <= c->threshold);
        break;
    case COL_QUERY: {
        size_t fl = strlen(r->field);
        if (grow((void **)&c->query, &c->query_cap, fl + 2 + 3 * r->value_len, 1)) {
            sqlite3_result_error_nomem(ctx);
            return SQLITE_NOMEM;
        }
        memcpy(c->query, r->field, fl);
        c->query[fl] = '=';
        size_t n = fl + 1 + ig_sqlf_escape_into(r->value, c->query + fl + 1);
        sqlite3_result_text(ctx, c->query, (int)n, SQLITE_TRANSIENT);
        break;
    }
    case COL_DOMAIN:
    case COL_THRESHOLD:
        if (c->args[col - COL_DOMAIN]) sqlite3_result_value(ctx, c->args[col - COL_DOMAIN]);
        break;
    }
    return SQLITE_OK;
}

static int gp_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
    *rowid = ((guided_cursor *)cur)->i + 1;
    return SQLITE_OK;
}

static sqlite3_module guided_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = gp_connect,
    .xBestIndex = gp_best_index,
    .xDisconnect = gp_disconnect,
    .xDestroy = gp_disconnect,
    .xOpen = gp_open,
    .xClose = gp_close,
    .xFilter = gp_filter,
    .xNext = gp_next,
    .xEof = gp_eof,
    .xColumn = gp_column,
    .xRowid = gp_rowid,
};

int ig_sql_register_guided(sqlite3 *db) {
    return sqlite3_create_module(db, "iris_guided_pivots", &guided_module, NULL);
}
