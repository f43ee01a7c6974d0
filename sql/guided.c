/* guided.c — iris_guided_pivots(domain [, threshold]): a domain's pivotable attribute
 * values with the vendor's counts, the "guided pivots" of the Iris Investigate domain
 * profile.
 *
 *   SELECT label, value, vendor_count, query FROM iris_guided_pivots('domaintools.com')
 *   WHERE guided;
 *
 * Arguments (HIDDEN columns): domain (case-insensitive), threshold (default 500; a value is
 * guided when 1 < vendor_count <= threshold: shared, but few enough to pivot on).
 * Columns: label ("IP address", "Name server", ...), field (the Iris search parameter),
 * value, vendor_count (Iris's count, NULL when only Enrich showed the value),
 * stored_count (stored domains currently holding the value), guided (1 or 0), query (the
 * Iris Investigate query that pivots on the value, percent-encoded: field=value).
 * One row per value the domain's latest fetch holds (a current domain_pivots link), in the
 * order of fields.c, then by value. One call: the domain by its unique index, its links by
 * the primary key of domain_pivots; stored_count is one count per row, only when the column is asked
 * for. The rows (tens) are read whole at xFilter and sorted here. Never writes.
 */
#include "sql_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_THRESHOLD 500

#define ROWS_SQL                                                                                   \
    "SELECT p.pivot_id, p.field, p.value, p.count"                                                 \
    " FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"                          \
    " JOIN pivots p ON p.pivot_id = dp.pivot_id"                                                   \
    " WHERE d.domain = ?1 AND dp.last_seen = d.last_fetched"

#define COUNT_SQL                                                                                  \
    "SELECT count(*) FROM domain_pivots dp JOIN domains d ON d.domain_id = dp.domain_id"           \
    " WHERE dp.pivot_id = ?1 AND dp.last_seen = d.last_fetched"

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
    sqlite3_int64 pivot_id;
    char *field, *value;
    sqlite3_int64 count;
    int has_count;
    int rank;
    sqlite3_int64 stored; /* -1 until asked for */
} grow_t;

typedef struct {
    sqlite3_vtab base;
    sqlite3 *db;
    sqlite3_stmt *spare_rows, *spare_count;
} guided_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    sqlite3_value *args[NARGS];
    grow_t *rows;
    int n, cap, i;
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
    sqlite3_finalize(v->spare_count);
    sqlite3_free(v);
    return SQLITE_OK;
}

static int gp_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    /* A domain holds a few dozen values: one unique-index probe, then its links. */
    return ig_sqla_best_index(info, COL_DOMAIN, NARGS, 1, 40, 50);
}

static int gp_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    guided_cursor *c = sqlite3_malloc(sizeof(*c));
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static void gp_reset(guided_cursor *c) {
    for (int i = 0; i < c->n; i++) {
        sqlite3_free(c->rows[i].field);
        sqlite3_free(c->rows[i].value);
    }
    sqlite3_free(c->rows);
    c->rows = NULL;
    c->n = c->cap = c->i = 0;
    for (int i = 0; i < NARGS; i++) {
        sqlite3_value_free(c->args[i]);
        c->args[i] = NULL;
    }
}

static int gp_close(sqlite3_vtab_cursor *cur) {
    gp_reset((guided_cursor *)cur);
    sqlite3_free(cur);
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

static int add_row(guided_cursor *c, sqlite3_stmt *s) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        grow_t *r = sqlite3_realloc64(c->rows, (sqlite3_uint64)cap * sizeof(*r));
        if (!r) return SQLITE_NOMEM;
        c->rows = r;
        c->cap = cap;
    }
    grow_t *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    r->pivot_id = sqlite3_column_int64(s, 0);
    r->field = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(s, 1));
    r->value = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(s, 2));
    if (!r->field || !r->value) {
        sqlite3_free(r->field);
        sqlite3_free(r->value);
        return SQLITE_NOMEM;
    }
    r->has_count = sqlite3_column_type(s, 3) != SQLITE_NULL;
    r->count = sqlite3_column_int64(s, 3);
    r->rank = ig_sqlf_rank(r->field);
    r->stored = -1;
    c->n++;
    return SQLITE_OK;
}

static int gp_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv) {
    guided_cursor *c = (guided_cursor *)cur;
    guided_vtab *v = (guided_vtab *)cur->pVtab;
    gp_reset(c);
    sqlite3_value *args[NARGS];
    ig_sqla_args(idxNum, argc, argv, NARGS, args);
    for (int i = 0; i < NARGS; i++) {
        if (args[i] && !(c->args[i] = sqlite3_value_dup(args[i]))) return SQLITE_NOMEM;
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

    /* Stored names are lower case, without the root's dot. */
    char *domain = sqlite3_mprintf("%s", (const char *)sqlite3_value_text(args[0]));
    if (!domain) return SQLITE_NOMEM;
    size_t len = strlen(domain);
    for (size_t i = 0; i < len; i++)
        if (domain[i] >= 'A' && domain[i] <= 'Z') domain[i] = (char)(domain[i] - 'A' + 'a');
    if (len > 0 && domain[len - 1] == '.') domain[len - 1] = '\0';

    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(v->db, &v->spare_rows, ROWS_SQL, &s);
    if (rc != SQLITE_OK) {
        sqlite3_free(domain);
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_guided_pivots: %s (is this an "
                                                    "irisgate database?)",
                                                    sqlite3_errmsg(v->db)));
    }
    sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = add_row(c, s)) != SQLITE_OK) break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_NOMEM)
        vt_error(cur->pVtab, sqlite3_mprintf("iris_guided_pivots: %s", sqlite3_errmsg(v->db)));
    ig_sqls_give(&v->spare_rows, s);
    sqlite3_free(domain);
    if (rc != SQLITE_DONE) return rc == SQLITE_NOMEM ? rc : SQLITE_ERROR;
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

static int stored_count(guided_cursor *c, grow_t *r) {
    if (r->stored >= 0) return SQLITE_OK;
    guided_vtab *v = (guided_vtab *)c->base.pVtab;
    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(v->db, &v->spare_count, COUNT_SQL, &s);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(s, 1, r->pivot_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) r->stored = sqlite3_column_int64(s, 0);
    ig_sqls_give(&v->spare_count, s);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
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
        sqlite3_result_text(ctx, r->value, -1, SQLITE_TRANSIENT);
        break;
    case COL_VENDOR_COUNT:
        if (r->has_count) sqlite3_result_int64(ctx, r->count);
        break;
    case COL_STORED_COUNT: {
        int rc = stored_count(c, r);
        if (rc != SQLITE_OK) {
            guided_vtab *v = (guided_vtab *)cur->pVtab;
            sqlite3_result_error(ctx, sqlite3_errmsg(v->db), -1);
            return rc;
        }
        sqlite3_result_int64(ctx, r->stored);
        break;
    }
    case COL_GUIDED:
        sqlite3_result_int(ctx, r->has_count && r->count > 1 && r->count <= c->threshold);
        break;
    case COL_QUERY: {
        char *q = ig_sqlf_query(r->field, r->value);
        if (!q) {
            sqlite3_result_error_nomem(ctx);
            return SQLITE_NOMEM;
        }
        sqlite3_result_text(ctx, q, -1, sqlite3_free);
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
