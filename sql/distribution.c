/* distribution.c — iris_distribution(field, value, metric [, bucket_size]): how the domains
 * of iris_pivot(field, value) spread over risk score or age, the Iris apps' histograms.
 *   SELECT bucket, domains, share FROM iris_distribution('ip', '1.2.3.4', 'risk');
 * Arguments (HIDDEN): field, value (as iris_pivot), metric ('risk' or 'age'), bucket_size
 * (risk only: 1 to 100 points, default 10). A NULL field, value or metric gives no rows; a
 * NULL bucket_size is the default. Columns: bucket (label), low, high (inclusive, NULL where
 * open), domains, share (of the value's domains). Every bucket is listed, 'unknown' last:
 *   risk: [0, w-1], [w, 2w-1], ... up to the one holding 100, cut at 100 (w = 10: 0-9 ...
 *         90-99 and 100; a label is "low-high", or "low" when low = high);
 *   age (days since create_date, as v_domains.age_days): under a week (0-6), a month (7-29),
 *         3 months (30-89), 6 months (90-179), a year (180-364), 2 years (365-729), 5 years
 *         (730-1824), older; a future create_date counts as under a week.
 * One call: the value's current links read in one walk (links.c), one column per domain,
 * counted into the buckets here. Never writes.
 */
#include "sql_int.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_WIDTH 10
#define MAX_SCORE 100
#define MAX_BUCKETS (MAX_SCORE + 1) /* width 1: one bucket per score */

enum {
    COL_BUCKET,
    COL_LOW,
    COL_HIGH,
    COL_DOMAINS,
    COL_SHARE,
    COL_FIELD, /* HIDDEN: arguments 1-4 */
    COL_VALUE,
    COL_METRIC,
    COL_BUCKET_SIZE,
};
#define NARGS 4

typedef struct {
    char label[32];
    sqlite3_int64 low, high;
    int has_low, has_high;
    sqlite3_int64 domains;
} bucket_t;

static const struct {
    const char *label;
    int low, high; /* days; high -1: open */
} age_buckets[] = {
    {"under a week", 0, 6},       {"under a month", 7, 29},   {"under 3 months", 30, 89},
    {"under 6 months", 90, 179},  {"under a year", 180, 364}, {"under 2 years", 365, 729},
    {"under 5 years", 730, 1824}, {"older", 1825, -1},
};
#define NAGE ((int)(sizeof(age_buckets) / sizeof(age_buckets[0])))

typedef struct {
    sqlite3_vtab base;
    sqlite3 *db;
    ig_sqll_t links;
    sqlite3_stmt *spare_age;
} dist_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    sqlite3_value *args[NARGS];
    bucket_t b[MAX_BUCKETS + 1]; /* and 'unknown' */
    int n, i;
    ig_sqll_batch_t batch; /* the value's domains, kept for the next call's buffers */
    sqlite3_int64 total;
} dist_cursor;

static int ds_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err) {
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(bucket TEXT, low INTEGER, high INTEGER,"
                                      " domains INTEGER, share REAL,"
                                      " field HIDDEN, value HIDDEN, metric HIDDEN,"
                                      " bucket_size HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    dist_vtab *v = sqlite3_malloc(sizeof(*v));
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    v->db = db;
    v->links.sink = aux;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int ds_disconnect(sqlite3_vtab *vt) {
    dist_vtab *v = (dist_vtab *)vt;
    ig_sqll_free(&v->links);
    sqlite3_finalize(v->spare_age);
    sqlite3_free(v);
    return SQLITE_OK;
}

/* 1 risk, 0 age, -1 neither. */
static int metric_kind(sqlite3_value *m) {
    const char *s = (const char *)sqlite3_value_text(m);
    if (!s) return -1;
    if (sqlite3_stricmp(s, "risk") == 0 || sqlite3_stricmp(s, "risk_score") == 0) return 1;
    if (sqlite3_stricmp(s, "age") == 0) return 0;
    return -1;
}

static int risk_bucket_count(int w) {
    return MAX_SCORE / w + 1;
}

static int ds_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    dist_vtab *v = (dist_vtab *)vt;
    int which[NARGS];
    int rc = ig_sqla_plan(info, COL_FIELD, NARGS, 3, which);
    if (rc != SQLITE_OK) return rc;
    /* A row per bucket, but every domain of the value is read to fill them. */
    double rows = risk_bucket_count(DEFAULT_WIDTH) + 1;
    sqlite3_value *m = ig_sqla_constant(info, which, 2), *w = ig_sqla_constant(info, which, 3);
    if (m && sqlite3_value_type(m) == SQLITE_NULL) {
        rows = 0;
    } else if (m && metric_kind(m) == 0) {
        rows = NAGE + 1;
    } else if (w && sqlite3_value_numeric_type(w) == SQLITE_INTEGER) {
        sqlite3_int64 x = sqlite3_value_int64(w);
        if (x >= 1 && x <= MAX_SCORE) rows = risk_bucket_count((int)x) + 1;
    }
    double links = ig_sqle_value_rows(v->db, &v->links, ig_sqla_constant(info, which, 0),
                                      ig_sqla_constant(info, which, 1));
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = ig_sqle_walk_cost(links) + rows;
    return SQLITE_OK;
}

static int ds_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    dist_cursor *c = sqlite3_malloc(sizeof(*c));
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static void ds_reset(dist_cursor *c) {
    for (int i = 0; i < NARGS; i++) {
        sqlite3_value_free(c->args[i]);
        c->args[i] = NULL;
    }
    c->n = c->i = 0;
    c->total = 0;
}

static int ds_close(sqlite3_vtab_cursor *cur) {
    dist_cursor *c = (dist_cursor *)cur;
    ds_reset(c);
    ig_sqll_batch_free(&c->batch);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int vt_error(sqlite3_vtab *vt, char *msg) {
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static void set_bucket(bucket_t *b, const char *label, sqlite3_int64 low, int has_low,
                       sqlite3_int64 high, int has_high) {
    snprintf(b->label, sizeof(b->label), "%s", label);
    b->low = low;
    b->high = high;
    b->has_low = has_low;
    b->has_high = has_high;
    b->domains = 0;
}

static void risk_buckets(dist_cursor *c, int w) {
    int n = risk_bucket_count(w);
    for (int k = 0; k < n; k++) {
        int low = k * w, high = low + w - 1 > MAX_SCORE ? MAX_SCORE : low + w - 1;
        char label[32];
        if (low == high)
            snprintf(label, sizeof(label), "%d", low);
        else
            snprintf(label, sizeof(label), "%d-%d", low, high);
        set_bucket(&c->b[k], label, low, 1, high, 1);
    }
    set_bucket(&c->b[n], "unknown", 0, 0, 0, 0);
    c->n = n + 1;
}

static void age_buckets_init(dist_cursor *c) {
    for (int k = 0; k < NAGE; k++)
        set_bucket(&c->b[k], age_buckets[k].label, age_buckets[k].low, 1, age_buckets[k].high,
                   age_buckets[k].high >= 0);
    set_bucket(&c->b[NAGE], "unknown", 0, 0, 0, 0);
    c->n = NAGE + 1;
}

/* The bucket of a risk score; scores outside 0-100 (never sent) go to the nearest end. */
static int risk_bucket_of(sqlite3_int64 x, int w) {
    if (x < 0) x = 0;
    if (x > MAX_SCORE) x = MAX_SCORE;
    return (int)(x / w);
}

static int age_bucket_of(sqlite3_int64 days) {
    for (int k = 0; k < NAGE; k++)
        if (age_buckets[k].high < 0 || days <= age_buckets[k].high) return k;
    return NAGE - 1;
}

static int ds_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv) {
    dist_cursor *c = (dist_cursor *)cur;
    dist_vtab *v = (dist_vtab *)cur->pVtab;
    ds_reset(c);
    sqlite3_value *args[NARGS];
    ig_sqla_args(idxNum, argc, argv, NARGS, args);
    for (int i = 0; i < NARGS; i++) {
        if (args[i] && !(c->args[i] = sqlite3_value_dup(args[i]))) return SQLITE_NOMEM;
    }
    /* A wrong argument is an error even beside a NULL one; a NULL one then gives no rows. */
    int null_metric = !args[2] || sqlite3_value_type(args[2]) == SQLITE_NULL;
    int risk = null_metric ? 1 : metric_kind(args[2]);
    if (risk < 0) {
        const char *metric = (const char *)sqlite3_value_text(args[2]);
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: unknown metric '%s' "
                                                    "(use 'risk' or 'age')",
                                                    metric ? metric : ""));
    }
    int w = DEFAULT_WIDTH;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        if (!risk)
            return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: the bucket size "
                                                        "applies to metric 'risk' only"));
        sqlite3_int64 x = sqlite3_value_int64(args[3]);
        if (sqlite3_value_numeric_type(args[3]) != SQLITE_INTEGER || x < 1 || x > MAX_SCORE)
            return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: the bucket size "
                                                        "must be a whole number of points "
                                                        "from 1 to 100"));
        w = (int)x;
    }
    char field[IG_SQLF_MAX], *value = NULL, *err = NULL;
    int rc = ig_sqlf_pivot_args(v->db, "iris_distribution", args[0], args[1], field, &value, &err);
    if (rc != SQLITE_OK) return err ? vt_error(cur->pVtab, err) : rc;
    if (!value || null_metric) { /* a NULL argument: no rows */
        sqlite3_free(value);
        return SQLITE_OK;
    }
    if (risk) {
        risk_buckets(c, w);
    } else {
        age_buckets_init(c);
    }
    ig_sqll_value_t pv;
    rc = ig_sqll_probe(v->db, &v->links, field, value, &pv);
    sqlite3_free(value);
    if (rc != SQLITE_OK || !pv.found) {
        if (rc == SQLITE_OK) return SQLITE_OK; /* not stored: every bucket empty */
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: %s (is this an "
                                                    "irisgate database?)",
                                                    sqlite3_errmsg(v->db)));
    }
    /* One walk over every link (no chunks: the buckets need them all). */
    ig_sqll_batch_start(&c->batch, 1u << (risk ? IG_SQLL_RISK : IG_SQLL_CREATE), &pv, 0);
    if ((rc = ig_sqll_batch_next(v->db, &v->links, &c->batch)) != SQLITE_OK) {
        c->n = 0;
        if (rc == SQLITE_NOMEM) return rc;
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: %s (is this an "
                                                    "irisgate database?)",
                                                    sqlite3_errmsg(v->db)));
    }
    sqlite3_int64 now = risk ? 0 : ig_sqld_now();
    int unknown = c->n - 1;
    for (int r = 0; r < c->batch.n; r++) {
        const ig_sqll_cell_t *cell = ig_sqll_cell(&c->batch, r, 0);
        int k = unknown;
        if (risk) {
            if (cell->type == SQLITE_INTEGER) {
                k = risk_bucket_of(cell->u.i, w);
            } else if (cell->type == SQLITE_FLOAT) { /* as SQLite's integer division would */
                k = risk_bucket_of((sqlite3_int64)cell->u.r, w);
            }
        } else {
            sqlite3_int64 days = 0;
            int got = ig_sqld_age(v->db, &v->spare_age, now, &c->batch, cell, &days);
            if (got < 0) {
                c->n = 0;
                return vt_error(cur->pVtab,
                                sqlite3_mprintf("iris_distribution: %s", sqlite3_errmsg(v->db)));
            }
            if (got) k = age_bucket_of(days);
        }
        c->b[k].domains++;
        c->total++;
    }
    return SQLITE_OK;
}

static int ds_next(sqlite3_vtab_cursor *cur) {
    ((dist_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int ds_eof(sqlite3_vtab_cursor *cur) {
    dist_cursor *c = (dist_cursor *)cur;
    return c->i >= c->n;
}

static int ds_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    dist_cursor *c = (dist_cursor *)cur;
    const bucket_t *b = &c->b[c->i];
    switch (col) {
    case COL_BUCKET:
        sqlite3_result_text(ctx, b->label, -1, SQLITE_TRANSIENT);
        break;
    case COL_LOW:
        if (b->has_low) sqlite3_result_int64(ctx, b->low);
        break;
    case COL_HIGH:
        if (b->has_high) sqlite3_result_int64(ctx, b->high);
        break;
    case COL_DOMAINS:
        sqlite3_result_int64(ctx, b->domains);
        break;
    case COL_SHARE:
        sqlite3_result_double(ctx, c->total ? (double)b->domains / (double)c->total : 0.0);
        break;
    default:
        if (c->args[col - COL_FIELD]) sqlite3_result_value(ctx, c->args[col - COL_FIELD]);
        break;
    }
    return SQLITE_OK;
}

static int ds_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
    *rowid = ((dist_cursor *)cur)->i + 1;
    return SQLITE_OK;
}

static sqlite3_module dist_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = ds_connect,
    .xBestIndex = ds_best_index,
    .xDisconnect = ds_disconnect,
    .xDestroy = ds_disconnect,
    .xOpen = ds_open,
    .xClose = ds_close,
    .xFilter = ds_filter,
    .xNext = ds_next,
    .xEof = ds_eof,
    .xColumn = ds_column,
    .xRowid = ds_rowid,
};

int ig_sql_register_distribution(sqlite3 *db, ig_sqll_sink_t *sink) {
    return sqlite3_create_module(db, "iris_distribution", &dist_module, sink);
}
