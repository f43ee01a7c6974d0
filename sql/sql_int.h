/* sql_int.h — what the files of sql/ share: the SQLite API (direct calls inside irisgate,
 * the extension's routine table inside irisgate_sql.so), the pivot field vocabulary,
 * the argument plan of the table-valued functions, and prepared-statement reuse.
 * Only the files of sql/ include this.
 */
#ifndef IRISGATE_SQL_INT_H
#define IRISGATE_SQL_INT_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include <stddef.h>
#include <stdint.h>

/* ---- the pivot fields (fields.c) ---- */

enum {
    IG_SQLF_KNOWN = 0, /* one of the Iris search parameters we know */
    IG_SQLF_OTHER,     /* not ours to judge: look in pivots */
    IG_SQLF_DOMAIN,    /* "domain": a lookup, not a pivot */
    IG_SQLF_BAD        /* empty or absurdly long */
};
#define IG_SQLF_MAX 64 /* bytes of a field name, with its NUL */

/* Lower-cases in and resolves aliases (gtm, fb, google_analytics_4) into out. */
int ig_sqlf_resolve(const char *in, char out[IG_SQLF_MAX]);
/* The label the Iris apps show for a field ("IP address"); the field itself if unknown. */
const char *ig_sqlf_label(const char *field);
/* Display order of the field among a domain's attributes (unknown fields last). */
int ig_sqlf_rank(const char *field);
/* "field=percent-encoded value", the Iris Investigate query; sqlite3_malloc'd. */
char *ig_sqlf_query(const char *field, const char *value);
/* Percent-encodes s (RFC 3986 unreserved characters kept) into a sqlite3_malloc'd string. */
char *ig_sqlf_escape(const char *s);

/* Checks the (field, value) arguments of iris_pivot and iris_distribution: field resolved
 * into out (an unknown field must occur in pivots), value normalized where the vendor
 * would (ssl_hash: lower case, no ':') into *value_out (sqlite3_malloc'd). On error,
 * *errmsg gets a sqlite3_mprintf'd message naming fn. */
int ig_sqlf_pivot_args(sqlite3 *db, const char *fn, sqlite3_value *field, sqlite3_value *value,
                       char out[IG_SQLF_MAX], char **value_out, char **errmsg);

/* ---- the arguments of a table-valued function (args.c) ---- */

/* xBestIndex for a function whose arguments are the nargs HIDDEN columns from column
 * first_arg on, the first nrequired of them required: usable equality constraints become
 * argv in column order and idxNum is the bitmask of the arguments given. A plan missing a
 * required argument, or holding an argument's constraint it cannot use, is refused with
 * SQLITE_CONSTRAINT. rows and cost are the estimates of a plan that has them all. */
int ig_sqla_best_index(sqlite3_index_info *info, int first_arg, int nargs, int nrequired,
                       double rows, double cost);
/* The xFilter side: args[i] = the value of argument i, or NULL when it was not given. */
void ig_sqla_args(int idxNum, int argc, sqlite3_value **argv, int nargs, sqlite3_value **args);

/* ---- prepared statements kept between calls (stmt.c) ---- */

/* A statement from *slot when one is kept there, else freshly prepared (persistent). */
int ig_sqls_take(sqlite3 *db, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out);
/* Resets s and keeps it in *slot when that is empty; finalizes it otherwise. NULL is fine. */
void ig_sqls_give(sqlite3_stmt **slot, sqlite3_stmt *s);
/* Column col of s's current row as the result of ctx (a copy). */
void ig_sqls_result_column(sqlite3_context *ctx, sqlite3_stmt *s, int col);

/* ---- one module per file ---- */

int ig_sql_register_pivot(sqlite3 *db);
int ig_sql_register_guided(sqlite3 *db);
int ig_sql_register_distribution(sqlite3 *db);
int ig_sql_register_fetch(sqlite3 *db);

#endif
