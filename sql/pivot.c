/* pivot.c — iris_pivot(field, value): the stored domains that currently hold a value, the
 * Iris Investigate pivot answered from the intel tables (docs/sql.md).
 *   SELECT domain, risk_score, age_days FROM iris_pivot('ip', '199.30.228.112');
 * Arguments (HIDDEN): field (an Iris search parameter; aliases gtm, fb; not 'domain'), value
 * (exact, as the vendor sends it); a NULL one gives no rows. Columns: domain, risk_score,
 * create_date, age_days (as v_domains), first_seen, active, last_fetched, vendor_count (Iris's
 * count, NULL if no answer had one), stored_count (how many rows this call returns: the
 * value's pivots.stored_count, which ingest keeps).
 * A domain is listed when its link is current (domain_pivots.last_seen = domains.last_fetched).
 * One call: a probe of pivots(field, value), then the value's links (links.c), in one walk or
 * by chunks, reading only the columns the query uses (colUsed; age_days from create_date by
 * age.c); vendor_count and stored_count come with the probe. xBestIndex sizes the call from
 * the store when the arguments are constants (estimate.c).
 * The cursor owns its rows until the next call or xClose. Never writes.
 */
#include "sql_int.h"

#include <string.h>

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
    NCOLS
};
#define NARGS 2

/* The walk column (links.c) each of our columns reads; -1: none. */
static const int walk_col[NCOLS] = {
    [COL_DOMAIN] = IG_SQLL_DOMAIN,
    [COL_RISK] = IG_SQLL_RISK,
    [COL_CREATE] = IG_SQLL_CREATE,
    [COL_AGE] = IG_SQLL_CREATE,
    [COL_FIRST_SEEN] = IG_SQLL_FIRST_SEEN,
    [COL_ACTIVE] = IG_SQLL_ACTIVE,
    [COL_LAST_FETCHED] = IG_SQLL_LAST_FETCHED,
    [COL_VENDOR_COUNT] = -1,
    [COL_STORED_COUNT] = -1,
    [COL_FIELD] = -1,
    [COL_VALUE] = -1,
};

typedef struct {
    sqlite3_vtab base;
    sqlite3 *db;
    ig_sqll_t links;
    sqlite3_stmt *spare_age;
} pivot_vtab;

#define SMALL_VALUE 256 /* vendor count up to which a call reads all links in one walk */
#define FIRST_CHUNK 64  /* else, links read by the first chunk */

typedef struct {
    sqlite3_vtab_cursor base;
    ig_sqll_batch_t batch;
    int row;                    /* in the batch */
    signed char at[NCOLS];      /* our column -> its place in a row of the walk, -1 */
    sqlite3_value *args[NARGS]; /* as given, for the hidden columns (when read) */
    char field[IG_SQLF_MAX];
    char *value;
    ig_sqll_value_t pv;
    sqlite3_int64 now; /* for age_days */
    int eof;
    sqlite3_int64 rowid;
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
    v->links.sink = aux;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int pv_disconnect(sqlite3_vtab *vt) {
    pivot_vtab *v = (pivot_vtab *)vt;
    ig_sqll_free(&v->links);
    sqlite3_finalize(v->spare_age);
    sqlite3_free(v);
    return SQLITE_OK;
}

static int pv_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    pivot_vtab *v = (pivot_vtab *)vt;
    int which[NARGS];
    int rc = ig_sqla_plan(info, COL_FIELD, NARGS, NARGS, which);
    if (rc != SQLITE_OK) return rc;
    /* The value's own size when the query names it; rows also cost their domain lookups. */
    double rows = ig_sqle_value_rows(v->db, &v->links, ig_sqla_constant(info, which, 0),
                                     ig_sqla_constant(info, which, 1));
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = ig_sqle_walk_cost(rows);
    ig_sqla_set_columns(info, info->colUsed);
    return SQLITE_OK;
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
    c->batch.n = c->row = 0;
    for (int i = 0; i < NARGS; i++) {
        sqlite3_value_free(c->args[i]);
        c->args[i] = NULL;
    }
    sqlite3_free(c->value);
    c->value = NULL;
    c->eof = 1;
    c->rowid = 0;
}

static int pv_close(sqlite3_vtab_cursor *cur) {
    pivot_cursor *c = (pivot_cursor *)cur;
    pv_reset(c);
    ig_sqll_batch_free(&c->batch);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int vt_error(sqlite3_vtab *vt, char *msg) {
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int db_error(sqlite3_vtab_cursor *cur) {
    pivot_vtab *v = (pivot_vtab *)cur->pVtab;
    return vt_error(cur->pVtab, sqlite3_mprintf("iris_pivot: %s (is this an irisgate database?)",
                                                sqlite3_errmsg(v->db)));
}

/* The next chunk of rows, when the current one is used up. */
static int next_chunk(pivot_cursor *c) {
    pivot_vtab *v = (pivot_vtab *)c->base.pVtab;
    c->row = 0;
    if (c->batch.done) {
        c->batch.n = 0;
    } else {
        int rc = ig_sqll_batch_next(v->db, &v->links, &c->batch);
        if (rc != SQLITE_OK) {
            c->eof = 1;
            return rc == SQLITE_NOMEM ? rc : db_error(&c->base);
        }
    }
    c->eof = c->batch.n == 0;
    return SQLITE_OK;
}

static int pv_next(sqlite3_vtab_cursor *cur) {
    pivot_cursor *c = (pivot_cursor *)cur;
    c->rowid++;
    if (++c->row < c->batch.n) return SQLITE_OK;
    return next_chunk(c);
}

static int pv_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv) {
    pivot_cursor *c = (pivot_cursor *)cur;
    pivot_vtab *v = (pivot_vtab *)cur->pVtab;
    pv_reset(c);
    sqlite3_uint64 used = ig_sqla_columns(idxStr);
    sqlite3_value *args[NARGS];
    ig_sqla_args(idxNum, argc, argv, NARGS, args);
    for (int i = 0; i < NARGS; i++) {
        if (args[i] && (used & ((sqlite3_uint64)1 << (COL_FIELD + i))) &&
            !(c->args[i] = sqlite3_value_dup(args[i])))
            return SQLITE_NOMEM;
    }
    char *err = NULL;
    int rc = ig_sqlf_pivot_args(v->db, "iris_pivot", args[0], args[1], c->field, &c->value, &err);
    if (rc != SQLITE_OK) return err ? vt_error(cur->pVtab, err) : rc;
    if (!c->value) return SQLITE_OK; /* a NULL argument: no rows */
    unsigned cols = 0;
    for (int k = 0; k < NCOLS; k++)
        if (walk_col[k] >= 0 && (used & ((sqlite3_uint64)1 << k))) cols |= 1u << walk_col[k];
    for (int k = 0; k < NCOLS; k++)
        c->at[k] = (signed char)(walk_col[k] >= 0 ? ig_sqll_column(cols, walk_col[k]) : -1);
    if (used & ((sqlite3_uint64)1 << COL_AGE)) c->now = ig_sqld_now();
    c->rowid = 1;
    c->row = 0;
    if (ig_sqll_probe(v->db, &v->links, c->field, c->value, &c->pv) != SQLITE_OK)
        return db_error(cur);
    if (!c->pv.found) return SQLITE_OK;
    /* A value Iris counts few domains for has no more stored: one walk reads them all. A
     * bigger one goes a chunk at a time, so a query that stops early stops reading early. */
    int small = c->pv.has_count && c->pv.count <= SMALL_VALUE;
    ig_sqll_batch_start(&c->batch, cols, &c->pv, small ? 0 : FIRST_CHUNK);
    if ((rc = next_chunk(c)) != SQLITE_OK) return rc;
    c->eof = c->batch.n == 0;
    return SQLITE_OK;
}

static int pv_eof(sqlite3_vtab_cursor *cur) {
    return ((pivot_cursor *)cur)->eof;
}

static int pv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    pivot_cursor *c = (pivot_cursor *)cur;
    pivot_vtab *v = (pivot_vtab *)cur->pVtab;
    if (col < 0 || col >= NCOLS) return SQLITE_OK;
    int k = c->at[col];
    if (k >= 0 && col != COL_AGE) { /* a domain column, as read: most calls */
        const ig_sqll_cell_t *cell = ig_sqll_cell(&c->batch, c->row, k);
        if (cell->type == SQLITE_TEXT)
            sqlite3_result_text(ctx, c->batch.text + cell->u.off, cell->len, SQLITE_TRANSIENT);
        else if (cell->type == SQLITE_INTEGER)
            sqlite3_result_int64(ctx, cell->u.i);
        else
            ig_sqll_result(ctx, &c->batch, cell);
        return SQLITE_OK;
    }
    switch (col) {
    case COL_FIELD:
    case COL_VALUE:
        if (c->args[col - COL_FIELD]) sqlite3_result_value(ctx, c->args[col - COL_FIELD]);
        return SQLITE_OK;
    case COL_VENDOR_COUNT:
        if (c->pv.has_count) sqlite3_result_int64(ctx, c->pv.count);
        return SQLITE_OK;
    case COL_STORED_COUNT:
        sqlite3_result_int64(ctx, c->pv.stored);
        return SQLITE_OK;
    case COL_AGE: {
        sqlite3_int64 days = 0;
        int got = k < 0 ? 0
                        : ig_sqld_age(v->db, &v->spare_age, c->now, &c->batch,
                                      ig_sqll_cell(&c->batch, c->row, k), &days);
        if (got < 0) {
            sqlite3_result_error(ctx, sqlite3_errmsg(v->db), -1);
            return SQLITE_ERROR;
        }
        if (got) sqlite3_result_int64(ctx, days);
        return SQLITE_OK;
    }
    default:
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

int ig_sql_register_pivot(sqlite3 *db, ig_sqll_sink_t *sink) {
    return sqlite3_create_module(db, "iris_pivot", &pivot_module, sink);
}
