/* pivot.c — iris_pivot(field, value): the stored domains that currently hold a value, the
 * Iris Investigate pivot answered from the intel tables.
 *
 *   SELECT domain, risk_score, age_days FROM iris_pivot('ip', '199.30.228.112');
 *
 * Arguments (HIDDEN columns): field — an Iris search parameter (ip, nameserver_host,
 * ssl_hash, email, registrar, google_analytics, ...; aliases gtm, fb; 'domain' is not a
 * pivot), value — exact, as the vendor sends it. A NULL argument gives no rows.
 * Columns: domain, risk_score, create_date, age_days (whole days since create_date, today),
 * first_seen (vendor's), active, last_fetched (ours), vendor_count (Iris's count for the
 * value, NULL when no answer carried one), stored_count (how many rows this call returns).
 * A domain is listed when its link to the value is current: domain_pivots.last_seen equals
 * domains.last_fetched (docs/schema.md). One call is one lookup of pivots' (field, value)
 * index, then the value's links in key order; stored_count is counted only when asked for.
 * Reads with ordinary SQL on the caller's connection; never writes.
 */
#include "sql_int.h"

#include <string.h>

#define ROWS_SQL                                                                                   \
    "SELECT d.domain, d.risk_score, d.create_date,"                                                \
    " CAST(julianday('now') - julianday(d.create_date) AS INTEGER),"                               \
    " d.first_seen, d.active, d.last_fetched, p.count"                                             \
    " FROM pivots p JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id"                             \
    " JOIN domains d ON d.domain_id = dp.domain_id"                                                \
    " WHERE p.field = ?1 AND p.value = ?2 AND dp.last_seen = d.last_fetched"

#define COUNT_SQL                                                                                  \
    "SELECT count(*) FROM pivots p JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id"              \
    " JOIN domains d ON d.domain_id = dp.domain_id"                                                \
    " WHERE p.field = ?1 AND p.value = ?2 AND dp.last_seen = d.last_fetched"

enum {
    COL_DOMAIN,
    COL_RISK,
    COL_CREATE,
    COL_AGE,
    COL_FIRST_SEEN,
    COL_ACTIVE,
    COL_LAST_FETCHED,
    COL_VENDOR_COUNT,
    COL_STORED_COUNT,
    COL_FIELD, /* HIDDEN: argument 1 */
    COL_VALUE, /* HIDDEN: argument 2 */
};
#define NARGS 2

typedef struct {
    sqlite3_vtab base;
    sqlite3 *db;
    sqlite3_stmt *spare_rows, *spare_count;
} pivot_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    sqlite3_stmt *rows;
    sqlite3_value *args[NARGS]; /* as given, for the hidden columns */
    char field[IG_SQLF_MAX];
    char *value;
    int eof;
    sqlite3_int64 rowid;
    sqlite3_int64 stored; /* -1 until asked for */
} pivot_cursor;

static int pv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err) {
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(domain TEXT, risk_score INTEGER,"
                                      " create_date TEXT, age_days INTEGER, first_seen TEXT,"
                                      " active INTEGER, last_fetched TEXT, vendor_count INTEGER,"
                                      " stored_count INTEGER, field HIDDEN, value HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    pivot_vtab *v = sqlite3_malloc(sizeof(*v));
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->db = db;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int pv_disconnect(sqlite3_vtab *vt) {
    pivot_vtab *v = (pivot_vtab *)vt;
    sqlite3_finalize(v->spare_rows);
    sqlite3_finalize(v->spare_count);
    sqlite3_free(v);
    return SQLITE_OK;
}

static int pv_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    /* One index probe for the value, then its links: a typical guided pivot is tens of
     * domains (rows), each a primary-key lookup of domains. */
    return ig_sqla_best_index(info, COL_FIELD, NARGS, NARGS, 50, 60);
}

static int pv_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    pivot_cursor *c = sqlite3_malloc(sizeof(*c));
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    c->eof = 1;
    *out = &c->base;
    return SQLITE_OK;
}

static void pv_reset(pivot_cursor *c) {
    pivot_vtab *v = (pivot_vtab *)c->base.pVtab;
    ig_sqls_give(&v->spare_rows, c->rows);
    c->rows = NULL;
    for (int i = 0; i < NARGS; i++) {
        sqlite3_value_free(c->args[i]);
        c->args[i] = NULL;
    }
    sqlite3_free(c->value);
    c->value = NULL;
    c->eof = 1;
    c->rowid = 0;
    c->stored = -1;
}

static int pv_close(sqlite3_vtab_cursor *cur) {
    pv_reset((pivot_cursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int vt_error(sqlite3_vtab *vt, char *msg) {
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return SQLITE_ERROR;
}

static int pv_next(sqlite3_vtab_cursor *cur) {
    pivot_cursor *c = (pivot_cursor *)cur;
    int rc = sqlite3_step(c->rows);
    if (rc == SQLITE_ROW) {
        c->rowid++;
        return SQLITE_OK;
    }
    c->eof = 1;
    if (rc == SQLITE_DONE) return SQLITE_OK;
    pivot_vtab *v = (pivot_vtab *)cur->pVtab;
    return vt_error(cur->pVtab, sqlite3_mprintf("iris_pivot: %s", sqlite3_errmsg(v->db)));
}

static int pv_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv) {
    pivot_cursor *c = (pivot_cursor *)cur;
    pivot_vtab *v = (pivot_vtab *)cur->pVtab;
    pv_reset(c);
    sqlite3_value *args[NARGS];
    ig_sqla_args(idxNum, argc, argv, NARGS, args);
    for (int i = 0; i < NARGS; i++) {
        if (args[i] && !(c->args[i] = sqlite3_value_dup(args[i]))) return SQLITE_NOMEM;
    }
    char *err = NULL;
    int rc = ig_sqlf_pivot_args(v->db, "iris_pivot", args[0], args[1], c->field, &c->value, &err);
    if (rc != SQLITE_OK) return err ? vt_error(cur->pVtab, err) : rc;
    if (!c->value) return SQLITE_OK; /* a NULL argument: no rows */
    rc = ig_sqls_take(v->db, &v->spare_rows, ROWS_SQL, &c->rows);
    if (rc != SQLITE_OK)
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_pivot: %s (is this an irisgate "
                                                    "database?)",
                                                    sqlite3_errmsg(v->db)));
    sqlite3_bind_text(c->rows, 1, c->field, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->rows, 2, c->value, -1, SQLITE_STATIC);
    c->eof = 0;
    return pv_next(cur);
}

static int pv_eof(sqlite3_vtab_cursor *cur) {
    return ((pivot_cursor *)cur)->eof;
}

/* Counted on the first request of the column, not per row: a query that does not select
 * stored_count never pays for it. */
static int stored_count(pivot_cursor *c, sqlite3_int64 *out) {
    if (c->stored < 0) {
        pivot_vtab *v = (pivot_vtab *)c->base.pVtab;
        sqlite3_stmt *s = NULL;
        int rc = ig_sqls_take(v->db, &v->spare_count, COUNT_SQL, &s);
        if (rc != SQLITE_OK) return rc;
        sqlite3_bind_text(s, 1, c->field, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, c->value, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) c->stored = sqlite3_column_int64(s, 0);
        ig_sqls_give(&v->spare_count, s);
        if (rc != SQLITE_ROW) return rc;
    }
    *out = c->stored;
    return SQLITE_OK;
}

static int pv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    pivot_cursor *c = (pivot_cursor *)cur;
    switch (col) {
    case COL_FIELD:
    case COL_VALUE:
        if (c->args[col - COL_FIELD]) sqlite3_result_value(ctx, c->args[col - COL_FIELD]);
        return SQLITE_OK;
    case COL_STORED_COUNT: {
        sqlite3_int64 n = 0;
        int rc = stored_count(c, &n);
        if (rc != SQLITE_OK) {
            pivot_vtab *v = (pivot_vtab *)cur->pVtab;
            sqlite3_result_error(ctx, sqlite3_errmsg(v->db), -1);
            return rc;
        }
        sqlite3_result_int64(ctx, n);
        return SQLITE_OK;
    }
    default:
        ig_sqls_result_column(ctx, c->rows, col);
        return SQLITE_OK;
    }
}

static int pv_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
    *rowid = ((pivot_cursor *)cur)->rowid;
    return SQLITE_OK;
}

static sqlite3_module pivot_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: CREATE VIRTUAL TABLE ... USING iris_pivot is refused */
    .xConnect = pv_connect,
    .xBestIndex = pv_best_index,
    .xDisconnect = pv_disconnect,
    .xDestroy = pv_disconnect,
    .xOpen = pv_open,
    .xClose = pv_close,
    .xFilter = pv_filter,
    .xNext = pv_next,
    .xEof = pv_eof,
    .xColumn = pv_column,
    .xRowid = pv_rowid,
};

int ig_sql_register_pivot(sqlite3 *db) {
    return sqlite3_create_module(db, "iris_pivot", &pivot_module, NULL);
}
