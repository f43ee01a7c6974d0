/* estimate.c — how big a call of a table-valued function is, for the planner: xBestIndex
 * reads the arguments the query gives as constants (sqlite3_vtab_rhs_value) and sizes the
 * call from the store itself, so a join of a registrar with 100,000 stored domains and an IP
 * with 3 puts the IP outside. A value is sized by one probe of pivots(field, value): its
 * stored_count, which ingest keeps, is exactly the rows of iris_pivot; a domain by a count of
 * its current links (a few dozen index entries). Cheap enough to run at every prepare.
 *
 * The cost of a walk is counted from its rows: the history links it also passes over (a
 * value the domains moved off) are not known without counting them, and they do not change
 * which side of a join is smaller. Arguments unknown at plan time (a column of another table)
 * get typical sizes. An error here never fails a query: it gives the typical size. Read-only.
 */
#include "sql_int.h"

#define TYPICAL_VALUE_ROWS 50.0  /* a guided value: tens of domains */
#define TYPICAL_DOMAIN_ROWS 40.0 /* a domain holds a few dozen values */
#define PROBE_COST 20.0          /* one descent of a unique index */
#define LINK_COST 4.0            /* a link: its row, then its domain by key */

double ig_sqle_walk_cost(double rows) {
    return PROBE_COST + rows * LINK_COST;
}

double ig_sqle_value_rows(sqlite3 *db, ig_sqll_t *c, sqlite3_value *field, sqlite3_value *value) {
    if (!field || !value) return TYPICAL_VALUE_ROWS;
    if (sqlite3_value_type(field) == SQLITE_NULL || sqlite3_value_type(value) == SQLITE_NULL)
        return 0;
    char f[IG_SQLF_MAX];
    int kind = ig_sqlf_resolve((const char *)sqlite3_value_text(field), f);
    if (kind == IG_SQLF_BAD || kind == IG_SQLF_DOMAIN) return 0; /* an error at xFilter */
    const char *v = (const char *)sqlite3_value_text(value);
    char *norm = ig_sqlf_value(f, v ? v : "");
    if (!norm) return TYPICAL_VALUE_ROWS;
    ig_sqll_value_t pv;
    double rows = TYPICAL_VALUE_ROWS;
    if (ig_sqll_probe(db, c, f, norm, &pv) == SQLITE_OK) rows = pv.found ? (double)pv.stored : 0;
    sqlite3_free(norm);
    return rows;
}

#define DOMAIN_SQL                                                                                 \
    "SELECT count(*) FROM domains d JOIN domain_pivots dp ON dp.domain_id = d.domain_id"           \
    " WHERE d.domain = ?1 AND dp.last_seen = d.last_fetched"

double ig_sqle_domain_rows(sqlite3 *db, sqlite3_stmt **slot, sqlite3_value *domain) {
    if (!domain) return TYPICAL_DOMAIN_ROWS;
    if (sqlite3_value_type(domain) == SQLITE_NULL) return 0;
    char name[256];
    const char *in = (const char *)sqlite3_value_text(domain);
    if (!in || !ig_sqlf_domain(in, name, sizeof(name))) return 0; /* longer than any domain */
    sqlite3_stmt *s = NULL;
    double rows = TYPICAL_DOMAIN_ROWS;
    if (ig_sqls_take(db, slot, DOMAIN_SQL, &s) != SQLITE_OK) return rows;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) rows = (double)sqlite3_column_int64(s, 0);
    ig_sqls_give(slot, s);
    return rows;
}
