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
/* The same into out (room for 3 * strlen(s) + 1 bytes); returns the length written. */
size_t ig_sqlf_escape_into(const char *s, char *out);

/* Checks the (field, value) arguments of iris_pivot and iris_distribution: field resolved
 * into out (an unknown field must occur in pivots), value normalized where the vendor
 * would (ssl_hash: lower case, no ':') into *value_out (sqlite3_malloc'd). On error,
 * *errmsg gets a sqlite3_mprintf'd message naming fn. */
int ig_sqlf_pivot_args(sqlite3 *db, const char *fn, sqlite3_value *field, sqlite3_value *value,
                       char out[IG_SQLF_MAX], char **value_out, char **errmsg);

/* Normalizes a value where the vendor would (ssl_hash: lower case, no ':') into a
 * sqlite3_malloc'd copy; NULL when out of memory. field is resolved. */
char *ig_sqlf_value(const char *field, const char *value);
/* A domain as stored (lower case, no root dot) into out (n bytes); 0 when it does not fit. */
int ig_sqlf_domain(const char *in, char *out, size_t n);

/* ---- the arguments of a table-valued function (args.c) ---- */

#define IG_SQLA_MAX 16 /* arguments of one function, at most */

/* xBestIndex for a function whose arguments are the nargs HIDDEN columns from column
 * first_arg on, the first nrequired of them required: usable equality constraints become
 * argv in column order, idxNum is the bitmask of the arguments given, which[i] the
 * constraint giving argument i (-1: none). A plan missing a required argument, or holding
 * an argument's constraint it cannot use, is refused with SQLITE_CONSTRAINT. The caller sets
 * the estimates. */
int ig_sqla_plan(sqlite3_index_info *info, int first_arg, int nargs, int nrequired, int *which);
/* Argument arg's value when the query gives it as a constant (sqlite3_vtab_rhs_value), else
 * NULL: what xBestIndex may look at to size the call. */
sqlite3_value *ig_sqla_constant(sqlite3_index_info *info, const int *which, int arg);
/* Passes the columns the plan reads (colUsed bits) to xFilter as idxStr. */
void ig_sqla_set_columns(sqlite3_index_info *info, sqlite3_uint64 used);
/* xFilter's side: the columns read (every column when idxStr is missing). */
sqlite3_uint64 ig_sqla_columns(const char *idxStr);
/* The xFilter side: args[i] = the value of argument i, or NULL when it was not given. */
void ig_sqla_args(int idxNum, int argc, sqlite3_value **argv, int nargs, sqlite3_value **args);

/* ---- sizing a call for the planner (estimate.c) ---- */

typedef struct ig_sqll ig_sqll_t;
/* Rows of iris_pivot(field, value) (field, value: constants or NULL when unknown at plan
 * time): one probe of pivots, its stored_count. */
double ig_sqle_value_rows(sqlite3 *db, ig_sqll_t *c, sqlite3_value *field, sqlite3_value *value);
/* Rows of iris_guided_pivots(domain): a count of the domain's current links. */
double ig_sqle_domain_rows(sqlite3 *db, sqlite3_stmt **slot, sqlite3_value *domain);
/* estimatedCost of visiting rows links of a value (one probe, then two keyed lookups each). */
double ig_sqle_walk_cost(double rows);

/* ---- a value's current domains (links.c) ---- */

enum { /* the domain columns a walk can read */
       IG_SQLL_DOMAIN,
       IG_SQLL_RISK,
       IG_SQLL_CREATE,
       IG_SQLL_FIRST_SEEN,
       IG_SQLL_ACTIVE,
       IG_SQLL_LAST_FETCHED,
       IG_SQLL_NCOLS
};
#define IG_SQLL_ALL ((1u << IG_SQLL_NCOLS) - 1)

/* Where iris_sql_batch puts the rows of the walk running on its connection. */
typedef struct {
    struct ig_sqll_batch *current;
} ig_sqll_sink_t;

struct ig_sqll {          /* statements kept by one virtual table */
    ig_sqll_sink_t *sink; /* the connection's (module.c), for walks */
    sqlite3_stmt *probe, *upper;
    sqlite3_stmt *walk[2][IG_SQLL_ALL + 1]; /* whole or by chunk, by column set */
};

typedef struct {
    int found;
    sqlite3_int64 pivot_id;
    int has_count;
    sqlite3_int64 count;  /* the vendor's */
    sqlite3_int64 stored; /* pivots.stored_count: stored domains holding it now */
} ig_sqll_value_t;

/* One value of a row read by a walk: its type, and the number, or the bytes in the batch's
 * text (offset, length). */
typedef struct {
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    int len;
    union {
        sqlite3_int64 i;
        double r;
        size_t off;
    } u;
} ig_sqll_cell_t;

/* The rows of a walk, read a chunk at a time; the buffers are kept from chunk to chunk and
 * call to call (ig_sqll_batch_free releases them). */
typedef struct ig_sqll_batch {
    unsigned cols; /* IG_SQLL_* bits read */
    int ncols;
    sqlite3_int64 pivot_id;
    sqlite3_int64 after;   /* the walk goes on after this domain_id */
    sqlite3_int64 chunk;   /* links to read next time; 0: all that are left */
    int done;              /* no links left after this chunk */
    int n;                 /* rows of this chunk */
    ig_sqll_cell_t *cells; /* row r's k-th column: cells[r * ncols + k] */
    size_t cell_cap;
    char *text;
    size_t len, text_cap;
    int nomem;
} ig_sqll_batch_t;

/* The value's row in pivots (out->found 0 when it is not stored), with its stored_count.
 * field is resolved, value normalized. */
int ig_sqll_probe(sqlite3 *db, ig_sqll_t *c, const char *field, const char *value,
                  ig_sqll_value_t *out);
/* Starts a walk over the value's current domains (pv: its probe) reading the columns cols
 * (IG_SQLL_* bits; ig_sqll_column gives a column's place in a row), first_chunk links at
 * first (0: all). */
void ig_sqll_batch_start(ig_sqll_batch_t *b, unsigned cols, const ig_sqll_value_t *pv,
                         sqlite3_int64 first_chunk);
/* Reads the next rows into b (b->n; 0 with b->done at the end). */
int ig_sqll_batch_next(sqlite3 *db, ig_sqll_t *c, ig_sqll_batch_t *b);
void ig_sqll_batch_free(ig_sqll_batch_t *b);
/* The place of IG_SQLL_* col in a row of a walk over cols; -1 when not read. */
int ig_sqll_column(unsigned cols, int col);
static inline const ig_sqll_cell_t *ig_sqll_cell(const ig_sqll_batch_t *b, int row, int k) {
    return &b->cells[(size_t)row * (size_t)b->ncols + (size_t)k];
}
/* A cell as the result of ctx (a copy). */
void ig_sqll_result(sqlite3_context *ctx, const ig_sqll_batch_t *b, const ig_sqll_cell_t *cell);
void ig_sqll_free(ig_sqll_t *c);
/* Registers the walks' internal aggregate on db; *sink (owned by the registration) is what
 * the virtual tables' ig_sqll_t must point at. */
int ig_sqll_register(sqlite3 *db, ig_sqll_sink_t **sink);

/* ---- domain age (age.c) ---- */

/* Now, in Julian-day milliseconds, the clock of SQLite's 'now'. */
sqlite3_int64 ig_sqld_now(void);
/* Whole days from a create_date cell to now, as v_domains.age_days: 1 and *days, 0 for
 * NULL, -1 on error. slot keeps the statement for dates not in YYYY-MM-DD form. */
int ig_sqld_age(sqlite3 *db, sqlite3_stmt **slot, sqlite3_int64 now, const ig_sqll_batch_t *b,
                const ig_sqll_cell_t *date, sqlite3_int64 *days);

/* ---- prepared statements kept between calls (stmt.c) ---- */

/* A statement from *slot when one is kept there, else freshly prepared (persistent). */
int ig_sqls_take(sqlite3 *db, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out);
/* Resets s and keeps it in *slot when that is empty; finalizes it otherwise. NULL is fine. */
void ig_sqls_give(sqlite3_stmt **slot, sqlite3_stmt *s);

/* ---- one module per file ---- */

int ig_sql_register_pivot(sqlite3 *db, ig_sqll_sink_t *sink);
int ig_sql_register_guided(sqlite3 *db);
int ig_sql_register_distribution(sqlite3 *db, ig_sqll_sink_t *sink);
int ig_sql_register_fetch(sqlite3 *db);

#endif
