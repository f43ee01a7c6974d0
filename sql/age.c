/* age.c — a domain's age in whole days, exactly as v_domains.age_days computes it
 * (CAST(julianday('now') - julianday(create_date) AS INTEGER)), without running SQL for each
 * row: iris_pivot and iris_distribution read `create_date` and turn it into days here.
 *
 * "now" is read once per call from the default VFS, the clock SQLite's 'now' reads. A
 * create_date in the stored form (YYYY-MM-DD, docs/schema.md) is converted with SQLite's own
 * Julian-day arithmetic; any other value is handed to julianday() itself through a kept
 * statement (ig_sqld_age), so both paths give what the view gives. Pure arithmetic apart from
 * that statement; never writes.
 */
#include "sql_int.h"

#define MS_PER_DAY 86400000.0

sqlite3_int64 ig_sqld_now(void) {
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    sqlite3_int64 t = 0;
    if (vfs && vfs->iVersion >= 2 && vfs->xCurrentTimeInt64) {
        vfs->xCurrentTimeInt64(vfs, &t);
    } else if (vfs) {
        double r = 0;
        vfs->xCurrentTime(vfs, &r);
        t = (sqlite3_int64)(r * MS_PER_DAY);
    }
    return t;
}

static int digits(const unsigned char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* The Julian day (ms) of midnight of YYYY-MM-DD, as SQLite's computeJD has it (date.c), for
 * exactly the dates its parser accepts in that form (month 1-12, day 1-31). */
static int strict_jd(const unsigned char *s, int n, sqlite3_int64 *jd) {
    int Y, M, D;
    if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &Y) || !digits(s + 5, 2, &M) ||
        !digits(s + 8, 2, &D) || M < 1 || M > 12 || D < 1 || D > 31)
        return 0;
    if (M <= 2) {
        Y--;
        M += 12;
    }
    int A = Y / 100;
    int B = 2 - A + (A / 4);
    int X1 = 36525 * (Y + 4716) / 100;
    int X2 = 306001 * (M + 1) / 10000;
    *jd = (sqlite3_int64)((X1 + X2 + D + B - 1524.5) * MS_PER_DAY);
    return 1;
}

#define AGE_SQL "SELECT CAST(?1 - julianday(?2) AS INTEGER)"

int ig_sqld_age(sqlite3 *db, sqlite3_stmt **slot, sqlite3_int64 now, const ig_sqll_batch_t *b,
                const ig_sqll_cell_t *date, sqlite3_int64 *days) {
    if (date->type == SQLITE_NULL) return 0;
    const char *text =
        date->type == SQLITE_TEXT || date->type == SQLITE_BLOB ? b->text + date->u.off : NULL;
    sqlite3_int64 jd;
    if (date->type == SQLITE_TEXT && strict_jd((const unsigned char *)text, date->len, &jd)) {
        /* The same doubles the view subtracts, truncated as CAST truncates. */
        *days = (sqlite3_int64)((double)now / MS_PER_DAY - (double)jd / MS_PER_DAY);
        return 1;
    }
    sqlite3_stmt *s = NULL;
    int rc = ig_sqls_take(db, slot, AGE_SQL, &s);
    if (rc != SQLITE_OK) return -1;
    sqlite3_bind_double(s, 1, (double)now / MS_PER_DAY);
    switch (date->type) {
    case SQLITE_INTEGER:
        sqlite3_bind_int64(s, 2, date->u.i);
        break;
    case SQLITE_FLOAT:
        sqlite3_bind_double(s, 2, date->u.r);
        break;
    case SQLITE_TEXT:
        sqlite3_bind_text(s, 2, text, date->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_blob(s, 2, text, date->len, SQLITE_STATIC);
        break;
    }
    int ret = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        ret = sqlite3_column_type(s, 0) != SQLITE_NULL;
        *days = sqlite3_column_int64(s, 0);
    }
    ig_sqls_give(slot, s);
    return ret;
}
