/* distribution.c — iris_distribution(field, value, metric [, bucket]): how the domains of
 * iris_pivot(field, value) spread over risk score or domain age, the histograms of the Iris
 * apps.
 *
 *   SELECT bucket, domains, share FROM iris_distribution('ip', '1.2.3.4', 'risk');
 *
 * Arguments (HIDDEN columns): field, value (as iris_pivot), metric ('risk' or 'age'),
 * bucket_size (metric 'risk' only: the width of a bucket in points, default 10).
 * Columns: bucket (label), low, high (inclusive bounds: risk points or age in days; NULL
 * where open or unknown), domains, share (domains / all the value's domains, a real).
 * Every bucket is listed, empty ones with 0, in order, 'unknown' last.
 *   risk: [0, w-1], [w, 2w-1], ... the last one closed at 100 ('90-100' for w = 10); a
 *         domain without a risk score is 'unknown'.
 *   age (whole days since create_date, today): under a week (0-6), under a month (7-29),
 *         under 3 months (30-89), under 6 months (90-179), under a year (180-364), under 2
 *         years (365-729), under 5 years (730-1824), older (1825-), unknown (no or bad
 *         create_date). A create_date in the future counts as under a week.
 * One call: the value's current links read once (the iris_pivot lookup), one column per
 * domain, counted into the buckets here. Never writes.
 */
#include "sql_int.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_WIDTH 10
#define MAX_BUCKETS 101

#define FROM_SQL                                                                                   \
    " FROM pivots p JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id"                             \
    " JOIN domains d ON d.domain_id = dp.domain_id"                                                \
    " WHERE p.field = ?1 AND p.value = ?2 AND dp.last_seen = d.last_fetched"
#define RISK_SQL "SELECT d.risk_score" FROM_SQL
#define AGE_SQL "SELECT CAST(julianday('now') - julianday(d.create_date) AS INTEGER)" FROM_SQL

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
    sqlite3_stmt *spare_risk, *spare_age;
} dist_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    sqlite3_value *args[NARGS];
    bucket_t b[MAX_BUCKETS + 1];
    int n, i;
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
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int ds_disconnect(sqlite3_vtab *vt) {
    dist_vtab *v = (dist_vtab *)vt;
    sqlite3_finalize(v->spare_risk);
    sqlite3_finalize(v->spare_age);
    sqlite3_free(v);
    return SQLITE_OK;
}

static int ds_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    /* About ten buckets, but every domain of the value is read to fill them. */
    return ig_sqla_best_index(info, COL_FIELD, NARGS, 3, 10, 200);
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
    ds_reset((dist_cursor *)cur);
    sqlite3_free(cur);
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
    int n = (100 + w - 1) / w;
    if (n > MAX_BUCKETS) n = MAX_BUCKETS;
    for (int k = 0; k < n; k++) {
        int low = k * w, high = k == n - 1 ? 100 : (k + 1) * w - 1;
        char label[32];
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

/* The bucket of one domain's value (the last bucket is 'unknown'). */
static int bucket_of(const dist_cursor *c, int risk, int w, sqlite3_stmt *s) {
    if (sqlite3_column_type(s, 0) == SQLITE_NULL) return c->n - 1;
    sqlite3_int64 x = sqlite3_column_int64(s, 0);
    if (risk) {
        if (x < 0) x = 0;
        sqlite3_int64 k = x / w;
        return k >= c->n - 1 ? c->n - 2 : (int)k;
    }
    for (int k = 0; k < NAGE; k++)
        if (age_buckets[k].high < 0 || x <= age_buckets[k].high) return k;
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
    if (!args[2] || sqlite3_value_type(args[2]) == SQLITE_NULL) return SQLITE_OK;
    const char *metric = (const char *)sqlite3_value_text(args[2]);
    int risk;
    if (sqlite3_stricmp(metric, "risk") == 0 || sqlite3_stricmp(metric, "risk_score") == 0) {
        risk = 1;
    } else if (sqlite3_stricmp(metric, "age") == 0) {
        risk = 0;
    } else {
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
        if (sqlite3_value_numeric_type(args[3]) != SQLITE_INTEGER || x < 1 || x > 100)
            return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: the bucket size "
                                                        "must be a whole number of points "
                                                        "from 1 to 100"));
        w = (int)x;
    }
    if (risk) {
        risk_buckets(c, w);
    } else {
        age_buckets_init(c);
    }

    char field[IG_SQLF_MAX], *value = NULL, *err = NULL;
    int rc = ig_sqlf_pivot_args(v->db, "iris_distribution", args[0], args[1], field, &value, &err);
    if (rc != SQLITE_OK) return err ? vt_error(cur->pVtab, err) : rc;
    if (!value) return SQLITE_OK; /* a NULL argument: every bucket empty */
    sqlite3_stmt **slot = risk ? &v->spare_risk : &v->spare_age;
    sqlite3_stmt *s = NULL;
    rc = ig_sqls_take(v->db, slot, risk ? RISK_SQL : AGE_SQL, &s);
    if (rc != SQLITE_OK) {
        sqlite3_free(value);
        return vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: %s (is this an "
                                                    "irisgate database?)",
                                                    sqlite3_errmsg(v->db)));
    }
    sqlite3_bind_text(s, 1, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        c->b[bucket_of(c, risk, w, s)].domains++;
        c->total++;
    }
    if (rc != SQLITE_DONE)
        vt_error(cur->pVtab, sqlite3_mprintf("iris_distribution: %s", sqlite3_errmsg(v->db)));
    ig_sqls_give(slot, s);
    sqlite3_free(value);
    return rc == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
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

int ig_sql_register_distribution(sqlite3 *db) {
    return sqlite3_create_module(db, "iris_distribution", &dist_module, NULL);
}
