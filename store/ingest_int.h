/* ingest_int.h — what the ingest files share: one result normalized into rows (obs_t, made
 * by normalize.c from the JSON tree, with no SQLite), the tables those rows go to, and the
 * interval operations of history.c. Only store/ includes it.
 *
 * Text in an obs_t points into the answer's JSON tree or into the result's arena: valid until
 * the next result is normalized. Nothing here is a secret: answers hold none.
 */
#ifndef IRISGATE_INGEST_INT_H
#define IRISGATE_INGEST_INT_H

#include "jtree_int.h"
#include "store_int.h"

#include <stdbool.h>
#include <stdint.h>

#define MAX_LIST 10000                /* elements walked in one list, results in one answer */
#define MAX_STR (64 * 1024)           /* bytes kept of one stored string or joined list */
#define MAX_DOMAIN 1024               /* bytes of a result's domain name */
#define MAX_VALUES 1000000            /* list elements and pivot values visited in one answer */
#define MAX_YEAR_EPOCH 253402300799LL /* 9999-12-31 23:59:59: times stay 19 characters */

/* ---- an arena whose blocks never move: reset per result ---- */
typedef struct arena_block arena_block_t;
typedef struct {
    arena_block_t *head, *cur;
} arena_t;
char *arena_alloc(arena_t *a, size_t n); /* NULL when out of memory */
void arena_reset(arena_t *a);
void arena_trim(arena_t *a, size_t keep); /* reset, and free the blocks past keep bytes */
void arena_free(arena_t *a);

/* ---- one column value ---- */
enum { C_NULL, C_INT, C_REAL, C_TEXT };
typedef struct {
    uint8_t t;
    uint32_t n; /* text length */
    const char *p;
    int64_t i;
    double r;
} cell_t;

/* ---- the current tables (their columns after domain_id, in the table's order) ---- */
enum { T_IPS, T_NS, T_MX, T_CONTACTS, T_EMAILS, T_SSL, T_RISK, T_TRACK, T_TAGS, NTABLES };
#define MAX_COLS 11

typedef struct {
    const char *name;
    int ncols;
    int nkey;           /* the primary key is domain_id and the first nkey columns */
    bool keep_last;     /* rows with the same key: the last wins (else the first) */
    const char *cols;   /* column list after domain_id, comma-separated */
} table_desc_t;
extern const table_desc_t ig_tables[NTABLES];

typedef struct {
    cell_t *cells; /* nrows * ncols */
    size_t nrows, cap;
} rows_t;

/* ---- the domains row's columns that come from the result ---- */
enum {
    D_TLD,
    D_ACTIVE,
    D_CREATE,
    D_EXPIRE,
    D_FIRST_SEEN,
    D_REGISTRAR,
    D_STATUS,
    D_RNAME,
    D_RORG,
    D_TITLE,
    D_RESPONSE,
    D_SERVER,
    D_REDIRECT,
    D_RDOMAIN,
    D_SPF,
    D_POPULARITY,
    D_ALEXA,
    D_RISK,
    D_UPDATED,
    D_WHOIS,
    ND
};
extern const char *const ig_domain_cols[ND];

/* ---- a pivot value: field is an Iris search parameter (static text) ---- */
typedef struct {
    const char *field;
    const char *p;
    uint32_t n;
    bool has_count;
    int64_t count;
} pval_t;

#define NRISK 5
extern const char *const ig_risk_names[NRISK]; /* the risk_history columns */

/* ---- one result, normalized ---- */
typedef struct {
    const char *domain; /* lower case */
    uint32_t domain_len;
    const char *raw; /* the result's bytes as sent */
    size_t raw_len;
    bool has_time; /* data_updated_timestamp parsed: time */
    int64_t time;
    cell_t dom[ND];
    rows_t rows[NTABLES];
    pval_t *pv;
    size_t npv, pvcap;
    bool has_risk;
    int64_t risk;
    bool rhas[NRISK];
    int64_t rscore[NRISK];
} obs_t;

/* Normalizes result r of doc into o (cleared first), text in a; *budget counts visited
 * values down (MAX_VALUES per answer). IG_OK, or IG_EINVAL (over the budget) / IG_ENOMEM
 * with a message in err. The result is known to be an object with a string domain. */
int ig_normalize(const jt_doc_t *doc, const jt_node_t *r, obs_t *o, arena_t *a, long *budget,
                 char *err, size_t errlen);
void ig_obs_free(obs_t *o);

/* ---- history values: (attr, value) pairs that domain_history keeps over time ---- */
typedef struct {
    const char *attr; /* e.g. "create_date", "registrant_contact.org", "ip.country_code" */
    uint32_t alen;
    const char *p;
    uint32_t n;
} hval_t;
typedef struct {
    hval_t *v;
    size_t n, cap;
} hvals_t;

/* The domains columns whose values domain_history keeps (the others are pivots). */
#define NHIST_COLS 12
extern const int ig_hist_cols[NHIST_COLS];

/* The history values of a domains row (cells in ig_domain_cols order) and of the current
 * tables' rows, appended to out (text in a); then sorted by (attr, value), duplicates
 * removed. IG_OK or IG_ENOMEM. */
int ig_hvals(const cell_t *dom, const rows_t *rows, arena_t *a, hvals_t *out);

/* Formats a number the way stored text is compared: integers exactly, others shortest. */
int ig_fmt_num(double d, char *out, size_t outlen);

/* ---- pivots rows known from earlier answers (pivcache.c) ---- */
typedef struct ig_pivcache ig_pivcache_t;
typedef struct {
    int64_t pivot_id, count;
    char at[20]; /* count_at */
    bool has_count, has_at;
} ig_pivrow_t;
ig_pivcache_t *ig_pivcache_new(void);
void ig_pivcache_free(ig_pivcache_t *pc);
void ig_pivcache_clear(ig_pivcache_t *pc);
bool ig_pivcache_get(ig_pivcache_t *pc, uint64_t k1, uint64_t k2, ig_pivrow_t *out);
void ig_pivcache_put(ig_pivcache_t *pc, uint64_t k1, uint64_t k2, const ig_pivrow_t *row);

/* ---- SQL with the first failure remembered ---- */
typedef struct {
    sqlite3 *db;
    int rc; /* first failure; every call is a no-op once set */
    char *err;
    size_t errlen;
} sqlctx_t;
/* The cached statement for sql (ig_db_stmt), reset; NULL (and q->rc set) on failure. */
sqlite3_stmt *ig_q(sqlctx_t *q, const char *sql);
/* Steps s to its end and resets it; false (q->rc set) on failure. */
bool ig_q_done(sqlctx_t *q, sqlite3_stmt *s);
/* Steps s once: true for a row; false at the end or on failure (then q->rc is set). */
bool ig_q_row(sqlctx_t *q, sqlite3_stmt *s);
void ig_q_fail(sqlctx_t *q, int sqlrc);
void ig_bind_text(sqlite3_stmt *s, int i, const char *p, size_t n); /* NULL p: NULL */

/* ---- an observation older than the domain's latest (history.c) ---- */

/* A row's key in domain_pivots (pivot_id) or domain_history (attr, value). */
typedef struct {
    int64_t pivot_id; /* links */
    const char *attr; /* history: NULL for links */
    uint32_t alen;
    const char *p;
    uint32_t n;
} ikey_t;

/* When a domain was seen around time t (our text times; prev NULL: none before; next NULL:
 * none after), and whether t itself was already a fetch (then nothing is split). */
typedef struct {
    int64_t domain_id;
    const char *t, *prev, *next;
    bool known;
} when_t;

/* Records that the domain held k at w->t: extends, joins or adds its intervals. */
void ig_hist_held(sqlctx_t *q, const when_t *w, const ikey_t *k);
/* Records that the domain did not hold any key but those for which held(arg, key) is true at
 * w->t: an interval spanning t (from before prev to after next) is cut in two. Links when
 * links, else history rows. Nothing when w->known or prev or next is NULL. */
void ig_hist_split(sqlctx_t *q, const when_t *w, bool links,
                   bool (*held)(void *arg, const ikey_t *k), void *arg);

#endif
