/* ingest.c — one Iris answer (Investigate, Enrich or legacy /v1/iris, wrapped or not) into
 * the intel tables of schema_intel.c, writing only what changed. Per answer: parse (jtree.c:
 * an unparseable answer is refused before anything is written), check every result has a
 * domain, then normalize each result (normalize.c) and apply it at its observation time t:
 *   - a new domain: its domains row, current rows, links, raw result, fetch;
 *   - t at or after the domain's last_fetched L: a current table is rewritten only when its
 *     rows differ; what is still held has last_seen moved to t (one statement per table),
 *     what appeared starts an interval, what went away keeps its last_seen; domain_history
 *     is written once an attribute changes (docs/schema.md);
 *   - t before L (an old file imported late): history only, through history.c.
 * Pivot values are looked up once per answer (pivcache.c across answers); new pivots rows,
 * changed counts and stored counts are written at the end. Never begins, commits or rolls
 * back: the caller holds the transaction and undoes it on a non-OK return.
 */
#include "ingest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- statements ------------------------------------------------------------------------- */

#define DOM_COLS                                                                                   \
    "tld, active, create_date, expiration_date, first_seen, registrar, registrar_status,"         \
    " registrant_name, registrant_org, website_title, website_response, server_type, redirect,"   \
    " redirect_domain, spf_info, popularity_rank, alexa, risk_score, data_updated, whois_url"

enum {
    S_DOM_SEL,
    S_DOM_INS,
    S_DOM_UPD,
    S_DOM_OLD,
    S_MAX_DOM,
    S_MAX_PIV,
    S_RAW_FIND,
    S_RAW_INS,
    S_RAW_SEEN,
    S_FETCH_NEW,
    S_FETCH_OLD,
    S_FETCH_KNOWN,
    S_FETCH_PREV,
    S_FETCH_NEXT,
    S_RISKH,
    S_LINKS_CUR,
    S_LINKS_BUMP,
    S_LINK_SET_LAST,
    S_LINK_DEL,
    S_LINK_INS,
    S_LINK_ENDED,
    S_HIST_BUMP,
    S_HIST_ANY,
    S_HIST_CUR,
    S_HIST_SET_LAST,
    S_HIST_DEL,
    S_HIST_INS,
    S_PIV_SEL,
    S_PIV_INS,
    S_PIV_UPD,
    S_PIV_DELTA,
    S_DATA_VERSION,
    S_N
};

static const char *const SQL[S_N] = {
    [S_DOM_SEL] = "SELECT domain_id, first_fetched, last_fetched, " DOM_COLS
                  " FROM domains WHERE domain = ?1",
    [S_DOM_INS] = "INSERT INTO domains(domain_id, domain, " DOM_COLS
                  ", source, first_fetched, last_fetched, raw_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
                  " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
                  " ?23, ?24, ?24, ?25)",
    [S_DOM_UPD] = "UPDATE domains SET tld = ?3, active = ?4, create_date = ?5,"
                  " expiration_date = ?6, first_seen = ?7, registrar = ?8, registrar_status = ?9,"
                  " registrant_name = ?10, registrant_org = ?11, website_title = ?12,"
                  " website_response = ?13, server_type = ?14, redirect = ?15,"
                  " redirect_domain = ?16, spf_info = ?17, popularity_rank = ?18, alexa = ?19,"
                  " risk_score = ?20, data_updated = ?21, whois_url = ?22, source = ?23,"
                  " first_fetched = min(first_fetched, ?24), last_fetched = ?24, raw_id = ?25"
                  " WHERE domain_id = ?1",
    [S_DOM_OLD] = "UPDATE domains SET first_fetched = min(first_fetched, ?2) WHERE domain_id = ?1",
    [S_MAX_DOM] = "SELECT coalesce(max(domain_id), 0) FROM domains",
    [S_MAX_PIV] = "SELECT coalesce(max(pivot_id), 0) FROM pivots",
    [S_RAW_FIND] = "SELECT raw_id, endpoint, json FROM domain_raw WHERE domain_id = ?1 AND hash = ?2",
    [S_RAW_INS] = "INSERT INTO domain_raw(domain_id, endpoint, hash, first_seen, json)"
                  " VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_RAW_SEEN] = "UPDATE domain_raw SET first_seen = ?2 WHERE raw_id = ?1 AND first_seen > ?2",
    [S_FETCH_NEW] = "INSERT OR REPLACE INTO fetches(domain_id, observed_at, endpoint, raw_id)"
                    " VALUES(?1, ?2, ?3, ?4)",
    [S_FETCH_OLD] = "INSERT OR IGNORE INTO fetches(domain_id, observed_at, endpoint, raw_id)"
                    " VALUES(?1, ?2, ?3, ?4)",
    [S_FETCH_KNOWN] = "SELECT 1 FROM fetches WHERE domain_id = ?1 AND observed_at = ?2",
    [S_FETCH_PREV] =
        "SELECT max(observed_at) FROM fetches WHERE domain_id = ?1 AND observed_at < ?2",
    [S_FETCH_NEXT] =
        "SELECT min(observed_at) FROM fetches WHERE domain_id = ?1 AND observed_at > ?2",
    [S_RISKH] = "INSERT INTO risk_history(domain_id, observed_at, risk_score, proximity,"
                " threat_profile, threat_profile_malware, threat_profile_phishing,"
                " threat_profile_spam) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                " ON CONFLICT(domain_id, observed_at) DO UPDATE SET"
                " risk_score = excluded.risk_score, proximity = excluded.proximity,"
                " threat_profile = excluded.threat_profile,"
                " threat_profile_malware = excluded.threat_profile_malware,"
                " threat_profile_phishing = excluded.threat_profile_phishing,"
                " threat_profile_spam = excluded.threat_profile_spam",
    [S_LINKS_CUR] =
        "SELECT pivot_id, first_seen FROM domain_pivots WHERE domain_id = ?1 AND last_seen = ?2",
    [S_LINKS_BUMP] =
        "UPDATE OR FAIL domain_pivots SET last_seen = ?3 WHERE domain_id = ?1 AND last_seen = ?2",
    [S_LINK_SET_LAST] = "UPDATE domain_pivots SET last_seen = ?4"
                        " WHERE domain_id = ?1 AND pivot_id = ?2 AND first_seen = ?3",
    [S_LINK_DEL] =
        "DELETE FROM domain_pivots WHERE domain_id = ?1 AND pivot_id = ?2 AND first_seen = ?3",
    /* No conflict is possible: an interval starting at t would be current, so not new. */
    [S_LINK_INS] = "INSERT OR FAIL INTO domain_pivots(pivot_id, domain_id, first_seen, last_seen)"
                   " SELECT value, ?2, ?3, ?3 FROM json_each(?1)",
    [S_LINK_ENDED] = "SELECT first_seen FROM domain_pivots"
                     " WHERE domain_id = ?1 AND pivot_id = ?2 AND last_seen = ?3",
    [S_HIST_BUMP] =
        "UPDATE OR FAIL domain_history SET last_seen = ?3 WHERE domain_id = ?1 AND last_seen = ?2",
    [S_HIST_ANY] = "SELECT 1 FROM domain_history WHERE domain_id = ?1 AND attr = ?2 LIMIT 1",
    [S_HIST_CUR] = "SELECT first_seen FROM domain_history"
                   " WHERE domain_id = ?1 AND attr = ?2 AND value = ?3 AND last_seen = ?4",
    [S_HIST_SET_LAST] = "UPDATE domain_history SET last_seen = ?5 WHERE domain_id = ?1"
                        " AND attr = ?2 AND value = ?3 AND first_seen = ?4",
    [S_HIST_DEL] = "DELETE FROM domain_history WHERE domain_id = ?1 AND attr = ?2 AND value = ?3"
                   " AND first_seen = ?4",
    [S_HIST_INS] = "INSERT INTO domain_history(domain_id, attr, value, first_seen, last_seen)"
                   " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET"
                   " last_seen = max(last_seen, excluded.last_seen)",
    [S_PIV_SEL] = "SELECT pivot_id, count, count_at FROM pivots WHERE field = ?1 AND value = ?2",
    [S_PIV_INS] = "INSERT INTO pivots(pivot_id, field, value, count, count_at, stored_count)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_PIV_UPD] = "UPDATE pivots SET count = ?2, count_at = ?3,"
                  " stored_count = stored_count + ?4 WHERE pivot_id = ?1",

    [S_PIV_DELTA] = "UPDATE pivots SET stored_count = stored_count + ?2 WHERE pivot_id = ?1",
    [S_DATA_VERSION] = "PRAGMA data_version",
};

/* the current tables' statements, made from ig_tables at ig_ingest_new */
enum { TS_SEL, TS_DEL, TS_N };
#define MAX_MULTI 8 /* rows in one INSERT of a current table */

/* ---- state kept from one answer to the next --------------------------------------------- */

/* A (field, value) of this answer: its pivot row as stored, what the answer changes. */
typedef struct {
    uint64_t h;
    const char *field; /* static text */
    const char *v;     /* in the answer arena */
    uint32_t vn;
    bool used, is_new, has_count, has_at, dirty;
    bool counted; /* a count of this answer was kept: later ones of the same time are not */
    uint64_t h2;  /* a second hash of the key, for the pivot cache */
    unsigned dom_seq; /* the last result linked to it */
    int64_t pivot_id, count, delta;
    char at[20], cts[20]; /* count_at; the time of the count kept from this answer */
} slot_t;

typedef struct {
    int64_t pivot_id;
    char first[20];
    bool kept;
} link_t;

struct ig_ingest {
    sqlite3 *db; /* the connection st[] were prepared on */
    sqlite3_stmt *st[S_N];
    sqlite3_stmt *ts[NTABLES][TS_N];
    char *tsql[NTABLES][TS_N];
    sqlite3_stmt *ins[NTABLES][MAX_MULTI + 1]; /* insert_stmt */
    jt_doc_t doc;
    arena_t ra, aa; /* per result, per answer */
    obs_t obs;
    rows_t old[NTABLES];
    cell_t olddom[ND];
    hvals_t hnew, hold;
    slot_t *set;
    size_t setcap, setn;
    link_t *links;
    size_t nlinks, linkcap;
    uint32_t *ids; /* the result's slots, one per distinct value */
    size_t nids, idcap;
    size_t *order;
    size_t ordcap;
    char *jbuf; /* a JSON list of pivot ids */
    size_t jn, jcap;
    ig_pivcache_t *pc;
    int64_t data_version; /* -1: not read yet */
};

/* ---- one answer's state ----------------------------------------------------------------- */

typedef struct {
    ig_ingest_t *ing;
    sqlctx_t q;
    const char *endpoint;
    long budget;
    unsigned dom_seq;
    int64_t next_domain, next_pivot; /* 0: not read yet */
    int64_t t;
    char ts[20]; /* t as 'YYYY-MM-DD HH:MM:SS' */
} ctx_t;

static void fail_einval(ctx_t *c, const char *fmt, const char *a) {
    if (c->q.rc) return;
    c->q.rc = IG_EINVAL;
    if (c->q.err && c->q.errlen) snprintf(c->q.err, c->q.errlen, fmt, a);
}

static void fail_nomem(ctx_t *c) {
    if (c->q.rc) return;
    c->q.rc = IG_ENOMEM;
    if (c->q.err && c->q.errlen) snprintf(c->q.err, c->q.errlen, "out of memory");
}

static sqlite3_stmt *prep(ctx_t *c, sqlite3_stmt **slot, const char *sql) {
    if (c->q.rc) return NULL;
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    return *slot = ig_q(&c->q, sql);
}

static sqlite3_stmt *stmt(ctx_t *c, int id) {
    return prep(c, &c->ing->st[id], SQL[id]);
}

static sqlite3_stmt *tstmt(ctx_t *c, int t, int kind) {
    return prep(c, &c->ing->ts[t][kind], c->ing->tsql[t][kind]);
}

static bool run(ctx_t *c, sqlite3_stmt *s) {
    return ig_q_done(&c->q, s);
}

static void bind_ts(sqlite3_stmt *s, int i, const char *t) {
    sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
}

static void bind_cell(sqlite3_stmt *s, int i, const cell_t *x) {
    switch (x->t) {
    case C_INT:
        sqlite3_bind_int64(s, i, x->i);
        break;
    case C_REAL:
        sqlite3_bind_double(s, i, x->r);
        break;
    case C_TEXT:
        sqlite3_bind_text64(s, i, x->p, x->n, SQLITE_STATIC, SQLITE_UTF8);
        break;
    default:
        sqlite3_bind_null(s, i);
    }
}

/* Column i of the current row of s as a cell; text copied into the result arena. */
static void read_cell(ctx_t *c, sqlite3_stmt *s, int i, cell_t *x) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
        *x = (cell_t){.t = C_INT, .i = sqlite3_column_int64(s, i)};
        break;
    case SQLITE_FLOAT:
        *x = (cell_t){.t = C_REAL, .r = sqlite3_column_double(s, i)};
        break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        const char *p = (const char *)sqlite3_column_text(s, i);
        size_t n = (size_t)sqlite3_column_bytes(s, i);
        char *q = arena_alloc(&c->ing->ra, n + 1);
        if (!q) {
            fail_nomem(c);
            *x = (cell_t){.t = C_NULL};
            return;
        }
        if (n) memcpy(q, p, n);
        q[n] = '\0';
        *x = (cell_t){.t = C_TEXT, .p = q, .n = (uint32_t)n};
        break;
    }
    default:
        *x = (cell_t){.t = C_NULL};
    }
}

static bool same_cell(const cell_t *a, const cell_t *b) {
    if (a->t != b->t) return false;
    switch (a->t) {
    case C_INT:
        return a->i == b->i;
    case C_REAL:
        return a->r == b->r;
    case C_TEXT:
        return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
    default:
        return true;
    }
}

static int cmp_cell(const cell_t *a, const cell_t *b) {
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    if (a->t == C_INT) return a->i < b->i ? -1 : a->i > b->i;
    if (a->t == C_REAL) return a->r < b->r ? -1 : a->r > b->r;
    if (a->t != C_TEXT) return 0;
    size_t n = a->n < b->n ? a->n : b->n;
    int r = memcmp(a->p, b->p, n);
    return r ? r : (a->n < b->n ? -1 : a->n > b->n);
}

/* ---- the answer's pivot values ---------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static bool set_grow(ig_ingest_t *g) {
    size_t cap = g->setcap ? g->setcap * 2 : 1024;
    slot_t *s = calloc(cap, sizeof(*s));
    if (!s) return false;
    for (size_t i = 0; i < g->setcap; i++) {
        if (!g->set[i].used) continue;
        size_t j = (size_t)g->set[i].h & (cap - 1);
        while (s[j].used)
            j = (j + 1) & (cap - 1);
        s[j] = g->set[i];
    }
    free(g->set);
    g->set = s;
    g->setcap = cap;
    return true;
}

static int64_t next_id(ctx_t *c, int64_t *counter, int sql) {
    if (!*counter) {
        sqlite3_stmt *s = stmt(c, sql);
        if (!s) return 0;
        if (ig_q_row(&c->q, s)) {
            *counter = sqlite3_column_int64(s, 0) + 1;
            sqlite3_reset(s);
        }
        if (c->q.rc || !*counter) return 0;
    }
    return (*counter)++;
}

/* The slot of (field, value) in this answer's set, added when new (pivot_id 0: not yet
 * looked up in pivots). The set has room: resolve_pivots grew it first. */
static slot_t *slot_find(ctx_t *c, const char *field, const char *v, uint32_t vn) {
    ig_ingest_t *g = c->ing;
    size_t flen = strlen(field);
    uint64_t h = fnv(fnv(14695981039346656037ULL, field, flen + 1), v, vn);
    size_t j = (size_t)h & (g->setcap - 1);
    for (; g->set[j].used; j = (j + 1) & (g->setcap - 1)) {
        slot_t *s = &g->set[j];
        if (s->h == h && s->vn == vn && strcmp(s->field, field) == 0 && memcmp(s->v, v, vn) == 0)
            return s;
    }
    char *copy = arena_alloc(&g->aa, vn ? vn : 1);
    if (!copy) {
        fail_nomem(c);
        return NULL;
    }
    memcpy(copy, v, vn);
    g->set[j] = (slot_t){.h = h,
                         .h2 = (uint64_t)ig_raw_hash(v, vn) ^ ((uint64_t)ig_raw_hash(field, flen) * 31),
                         .field = field,
                         .v = copy,
                         .vn = vn,
                         .used = true};
    g->setn++;
    return &g->set[j];
}

/* ---- a JSON list of integers handed to a statement (json_each): one execution, many rows */

static bool jb_room(ctx_t *c, size_t n) {
    ig_ingest_t *g = c->ing;
    if (g->jn + n <= g->jcap) return true;
    size_t cap = g->jcap ? g->jcap : 4096;
    while (cap < g->jn + n)
        cap *= 2;
    char *p = realloc(g->jbuf, cap);
    if (!p) {
        fail_nomem(c);
        return false;
    }
    g->jbuf = p;
    g->jcap = cap;
    return true;
}

static void jb_raw(ctx_t *c, const char *p, size_t n) {
    if (c->q.rc || !jb_room(c, n)) return;
    memcpy(c->ing->jbuf + c->ing->jn, p, n);
    c->ing->jn += n;
}

static void jb_int(ctx_t *c, int64_t x) {
    char b[24];
    jb_raw(c, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)x));
}

/* A count the vendor gave at our time ts: kept when it is the newest and differs. The same
 * value may come with different counts in one result (a contact email under each role):
 * the first of a time is kept. */
static void count_seen(slot_t *s, const pval_t *v, const char *ts) {
    if (!v->has_count) return;
    if (s->counted && strcmp(ts, s->cts) <= 0) return;
    if (s->has_at && strcmp(ts, s->at) < 0) return; /* older than the count stored */
    s->counted = true;
    snprintf(s->cts, sizeof(s->cts), "%s", ts);
    if (s->has_count && s->count == v->count) return; /* unchanged: count_at stays */
    s->has_count = s->has_at = s->dirty = true;
    s->count = v->count;
    snprintf(s->at, sizeof(s->at), "%s", ts);
}

/* The result's distinct values as slots in g->ids: a value this answer has not met yet is
 * looked up in pivots; one not there gets a new id (its row is written by flush_pivots). */
static void resolve_pivots(ctx_t *c, const obs_t *o) {
    ig_ingest_t *g = c->ing;
    g->nids = 0;
    /* room for every value first: slot positions are kept, which a rehash would move */
    while ((g->setn + o->npv + 1) * 2 > g->setcap)
        if (!set_grow(g)) {
            fail_nomem(c);
            return;
        }
    if (o->npv > g->idcap) {
        uint32_t *p = realloc(g->ids, o->npv * sizeof(*p));
        if (!p) {
            fail_nomem(c);
            return;
        }
        g->ids = p;
        g->idcap = o->npv;
    }
    for (size_t i = 0; i < o->npv && !c->q.rc; i++) {
        const pval_t *v = &o->pv[i];
        slot_t *s = slot_find(c, v->field, v->p, v->n);
        if (!s) return;
        g->ids[i] = (uint32_t)(s - g->set); /* for now: the slot of every value */
        if (s->pivot_id) continue;
        ig_pivrow_t row;
        if (ig_pivcache_get(g->pc, s->h, s->h2, &row)) {
            s->pivot_id = row.pivot_id;
            s->count = row.count;
            s->has_count = row.has_count;
            if ((s->has_at = row.has_at)) memcpy(s->at, row.at, sizeof(s->at));
            continue;
        }
        sqlite3_stmt *st = stmt(c, S_PIV_SEL);
        if (!st) return;
        sqlite3_bind_text(st, 1, v->field, -1, SQLITE_STATIC);
        sqlite3_bind_text64(st, 2, v->p, v->n, SQLITE_STATIC, SQLITE_UTF8);
        if (ig_q_row(&c->q, st)) {
            s->pivot_id = sqlite3_column_int64(st, 0);
            s->has_count = sqlite3_column_type(st, 1) != SQLITE_NULL;
            s->count = sqlite3_column_int64(st, 1);
            const char *at = (const char *)sqlite3_column_text(st, 2);
            if ((s->has_at = at != NULL)) snprintf(s->at, sizeof(s->at), "%s", at);
            sqlite3_reset(st);
        } else if (!c->q.rc) {
            s->is_new = true;
            if (!(s->pivot_id = next_id(c, &c->next_pivot, S_MAX_PIV))) return;
        }
    }
    if (c->q.rc) return;
    size_t w = 0;
    for (size_t i = 0; i < o->npv; i++) {
        slot_t *s = &g->set[g->ids[i]];
        count_seen(s, &o->pv[i], c->ts);
        if (s->dom_seq == c->dom_seq) continue;
        s->dom_seq = c->dom_seq;
        g->ids[w++] = g->ids[i];
    }
    g->nids = w;
}

static int cmp_slot_id(const void *a, const void *b) {
    const slot_t *x = *(slot_t *const *)a, *y = *(slot_t *const *)b;
    return x->pivot_id < y->pivot_id ? -1 : x->pivot_id > y->pivot_id;
}

/* The answer's pivots rows, in pivot_id order: new ones inserted, changed counts and stored
 * counts updated. (Packing the stored-count changes into one json_each statement saved
 * nothing measurable: the cost is the rows, not the statements.) */
static void flush_pivots(ctx_t *c) {
    ig_ingest_t *g = c->ing;
    if (c->q.rc || !g->setn) return;
    slot_t **v = malloc(g->setn * sizeof(*v));
    if (!v) {
        fail_nomem(c);
        return;
    }
    /* what the pivots rows will hold once written: known to the next answers */
    for (size_t i = 0; i < g->setcap; i++) {
        const slot_t *s = &g->set[i];
        if (!s->used || !s->pivot_id) continue;
        ig_pivrow_t row = {.pivot_id = s->pivot_id, .count = s->count, .has_count = s->has_count,
                           .has_at = s->has_at};
        if (s->has_at) memcpy(row.at, s->at, sizeof(row.at));
        ig_pivcache_put(g->pc, s->h, s->h2, &row);
    }
    size_t n = 0;
    for (size_t i = 0; i < g->setcap; i++)
        if (g->set[i].used && (g->set[i].is_new || g->set[i].dirty || g->set[i].delta))
            v[n++] = &g->set[i];
    if (n > 1) qsort(v, n, sizeof(*v), cmp_slot_id);
    for (size_t i = 0; i < n && !c->q.rc; i++) {
        slot_t *s = v[i];
        sqlite3_stmt *st;
        if (s->is_new) {
            if (!(st = stmt(c, S_PIV_INS))) break;
            sqlite3_bind_int64(st, 1, s->pivot_id);
            sqlite3_bind_text(st, 2, s->field, -1, SQLITE_STATIC);
            sqlite3_bind_text64(st, 3, s->v, s->vn, SQLITE_STATIC, SQLITE_UTF8);
            if (s->has_count) sqlite3_bind_int64(st, 4, s->count);
            if (s->has_at) sqlite3_bind_text(st, 5, s->at, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 6, s->delta);
        } else if (s->dirty) {
            if (!(st = stmt(c, S_PIV_UPD))) break;
            sqlite3_bind_int64(st, 1, s->pivot_id);
            if (s->has_count) sqlite3_bind_int64(st, 2, s->count);
            if (s->has_at) sqlite3_bind_text(st, 3, s->at, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, s->delta);
        } else {
            if (!(st = stmt(c, S_PIV_DELTA))) break;
            sqlite3_bind_int64(st, 1, s->pivot_id);
            sqlite3_bind_int64(st, 2, s->delta);
        }
        run(c, st);
    }
    free(v);
}

/* ---- rows ------------------------------------------------------------------------------- */

typedef struct {
    const cell_t *cells;
    int nc, nkey;
} rowcmp_t;

static int cmp_row_idx(const void *a, const void *b, void *arg) {
    const rowcmp_t *k = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const cell_t *rx = k->cells + x * (size_t)k->nc;
    const cell_t *ry = k->cells + y * (size_t)k->nc;
    for (int i = 0; i < k->nkey; i++) {
        int r = cmp_cell(&rx[i], &ry[i]);
        if (r) return r;
    }
    return x < y ? -1 : x > y;
}

/* Rows in primary-key order, one per key (the first or the last given, as INSERT OR IGNORE
 * or INSERT OR REPLACE would keep): the order SELECT ... ORDER BY key reads them back in. */
static void sort_rows(ctx_t *c, int t) {
    ig_ingest_t *g = c->ing;
    rows_t *r = &c->ing->obs.rows[t];
    const table_desc_t *d = &ig_tables[t];
    size_t n = r->nrows, nc = (size_t)d->ncols;
    if (n < 2) return;
    if (n > g->ordcap) {
        size_t *p = realloc(g->order, n * sizeof(*p));
        if (!p) {
            fail_nomem(c);
            return;
        }
        g->order = p;
        g->ordcap = n;
    }
    rowcmp_t k = {r->cells, d->ncols, d->nkey};
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        g->order[i] = i;
        if (i && sorted) {
            size_t a = i - 1, b = i;
            if (cmp_row_idx(&a, &b, &k) >= 0) sorted = false;
        }
    }
    if (sorted) return; /* positions in order, distinct keys: the usual case */
    qsort_r(g->order, n, sizeof(*g->order), cmp_row_idx, &k);
    cell_t *out = malloc(n * nc * sizeof(*out));
    if (!out) {
        fail_nomem(c);
        return;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const cell_t *row = r->cells + g->order[i] * nc;
        bool dup_next = false;
        if (i + 1 < n) {
            const cell_t *nx = r->cells + g->order[i + 1] * nc;
            dup_next = true;
            for (int col = 0; col < d->nkey && dup_next; col++)
                dup_next = cmp_cell(&row[col], &nx[col]) == 0;
        }
        bool dup_prev = false;
        if (w) {
            dup_prev = true;
            for (int col = 0; col < d->nkey && dup_prev; col++)
                dup_prev = cmp_cell(&out[(w - 1) * nc + col], &row[col]) == 0;
        }
        if (d->keep_last ? dup_next : dup_prev) continue;
        memcpy(out + w * nc, row, nc * sizeof(*row));
        w++;
    }
    memcpy(r->cells, out, w * nc * sizeof(*out));
    r->nrows = w;
    free(out);
}

static bool rows_grow(ctx_t *c, rows_t *r, size_t nc) {
    if (r->nrows < r->cap) return true;
    size_t cap = r->cap ? r->cap * 2 : 8;
    cell_t *p = realloc(r->cells, cap * nc * sizeof(*p));
    if (!p) {
        fail_nomem(c);
        return false;
    }
    r->cells = p;
    r->cap = cap;
    return true;
}

/* The stored rows of table t for the domain, in key order, into g->old[t]. */
static void read_rows(ctx_t *c, int t, int64_t domain_id) {
    rows_t *r = &c->ing->old[t];
    size_t nc = (size_t)ig_tables[t].ncols;
    r->nrows = 0;
    sqlite3_stmt *s = tstmt(c, t, TS_SEL);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    while (ig_q_row(&c->q, s)) {
        if (!rows_grow(c, r, nc)) {
            sqlite3_reset(s);
            return;
        }
        cell_t *row = r->cells + r->nrows++ * nc;
        for (size_t i = 0; i < nc; i++)
            read_cell(c, s, (int)i, &row[i]);
    }
}

static bool same_column(sqlite3_stmt *s, int i, const cell_t *x) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
        return x->t == C_NULL;
    case SQLITE_INTEGER:
        return x->t == C_INT && x->i == sqlite3_column_int64(s, i);
    case SQLITE_FLOAT:
        return x->t == C_REAL && x->r == sqlite3_column_double(s, i);
    case SQLITE_TEXT: {
        if (x->t != C_TEXT) return false;
        const unsigned char *p = sqlite3_column_text(s, i);
        return (uint32_t)sqlite3_column_bytes(s, i) == x->n && (!x->n || memcmp(p, x->p, x->n) == 0);
    }
    default:
        return false;
    }
}

/* Whether the stored rows of table t for the domain are the result's rows, compared as they
 * are read (nothing copied: usually they are the same). */
static bool same_as_stored(ctx_t *c, int t, int64_t domain_id) {
    const rows_t *r = &c->ing->obs.rows[t];
    size_t nc = (size_t)ig_tables[t].ncols, i = 0;
    sqlite3_stmt *s = tstmt(c, t, TS_SEL);
    if (!s) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    bool same = true;
    while (same && ig_q_row(&c->q, s)) {
        if (i == r->nrows) {
            same = false;
            break;
        }
        for (size_t k = 0; k < nc && same; k++)
            same = same_column(s, (int)k, &r->cells[i * nc + k]);
        i++;
    }
    sqlite3_reset(s);
    return same && i == r->nrows && !c->q.rc;
}

/* The statement inserting k rows (1..MAX_MULTI) of table t: "INSERT OR FAIL ... VALUES
 * (...), (...)", so a domain's rows of one table are one execution (OR FAIL: no statement
 * journal; a failure fails the answer, which is then undone whole). */
static sqlite3_stmt *insert_stmt(ctx_t *c, int t, size_t k) {
    ig_ingest_t *g = c->ing;
    if (g->ins[t][k]) {
        sqlite3_reset(g->ins[t][k]);
        return g->ins[t][k];
    }
    const table_desc_t *d = &ig_tables[t];
    char sql[4096];
    int n = snprintf(sql, sizeof(sql), "INSERT OR FAIL INTO %s(domain_id, %s) VALUES", d->name,
                     d->cols);
    int p = 1;
    for (size_t r = 0; r < k; r++) {
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s(?%d", r ? ", " : "", p++);
        for (int col = 0; col < d->ncols; col++)
            n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", ?%d", p++);
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
    }
    return g->ins[t][k] = ig_q(&c->q, sql);
}

static void insert_rows(ctx_t *c, int t, int64_t domain_id) {
    const rows_t *r = &c->ing->obs.rows[t];
    size_t nc = (size_t)ig_tables[t].ncols;
    for (size_t i = 0; i < r->nrows && !c->q.rc;) {
        size_t k = r->nrows - i < MAX_MULTI ? r->nrows - i : MAX_MULTI;
        sqlite3_stmt *s = insert_stmt(c, t, k);
        if (!s) return;
        int p = 1;
        for (size_t row = 0; row < k; row++, i++) {
            sqlite3_bind_int64(s, p++, domain_id);
            for (size_t col = 0; col < nc; col++)
                bind_cell(s, p++, &r->cells[i * nc + col]);
        }
        run(c, s);
    }
}

/* ---- the raw result, the fetch, the risk --------------------------------------------------- */

/* The raw_id of the result's bytes for the domain: found when seen before, else stored. */
static int64_t raw_id(ctx_t *c, int64_t domain_id, bool maybe_known) {
    const obs_t *o = &c->ing->obs;
    int64_t h = ig_raw_hash(o->raw, o->raw_len);
    sqlite3_stmt *s;
    if (maybe_known && (s = stmt(c, S_RAW_FIND))) {
        sqlite3_bind_int64(s, 1, domain_id);
        sqlite3_bind_int64(s, 2, h);
        while (ig_q_row(&c->q, s)) {
            const char *ep = (const char *)sqlite3_column_text(s, 1);
            const char *json = (const char *)sqlite3_column_text(s, 2);
            size_t n = (size_t)sqlite3_column_bytes(s, 2);
            if (ep && json && strcmp(ep, c->endpoint) == 0 && n == o->raw_len &&
                memcmp(json, o->raw, n) == 0) {
                int64_t id = sqlite3_column_int64(s, 0);
                sqlite3_reset(s);
                /* seen again, maybe in an older answer imported late */
                if ((s = stmt(c, S_RAW_SEEN))) {
                    sqlite3_bind_int64(s, 1, id);
                    bind_ts(s, 2, c->ts);
                    run(c, s);
                }
                return id;
            }
        }
    }
    if (!(s = stmt(c, S_RAW_INS))) return 0;
    sqlite3_bind_int64(s, 1, domain_id);
    sqlite3_bind_text(s, 2, c->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, h);
    bind_ts(s, 4, c->ts);
    sqlite3_bind_text64(s, 5, o->raw, o->raw_len, SQLITE_STATIC, SQLITE_UTF8);
    return run(c, s) ? sqlite3_last_insert_rowid(c->q.db) : 0;
}

static void fetch_row(ctx_t *c, int64_t domain_id, int64_t raw, bool newest) {
    sqlite3_stmt *s = stmt(c, newest ? S_FETCH_NEW : S_FETCH_OLD);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    bind_ts(s, 2, c->ts);
    sqlite3_bind_text(s, 3, c->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, raw);
    run(c, s);
}

static void risk_row(ctx_t *c, int64_t domain_id) {
    const obs_t *o = &c->ing->obs;
    if (!o->has_risk) return;
    sqlite3_stmt *s = stmt(c, S_RISKH);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    bind_ts(s, 2, c->ts);
    sqlite3_bind_int64(s, 3, o->risk);
    for (int i = 0; i < NRISK; i++)
        if (o->rhas[i])
            sqlite3_bind_int64(s, 4 + i, o->rscore[i]);
        else
            sqlite3_bind_null(s, 4 + i);
    run(c, s);
}

/* Our fetch time next to ts: the latest before (prev) or the earliest after; false: none. */
static bool fetch_near(ctx_t *c, int64_t domain_id, const char *ts, bool prev, char *out) {
    sqlite3_stmt *s = stmt(c, prev ? S_FETCH_PREV : S_FETCH_NEXT);
    if (!s) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    bind_ts(s, 2, ts);
    bool found = false;
    if (ig_q_row(&c->q, s)) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        if ((found = t != NULL)) snprintf(out, 20, "%s", t);
        sqlite3_reset(s);
    }
    return found;
}

/* ---- the domains row -------------------------------------------------------------------- */

static void domain_row(ctx_t *c, bool insert, int64_t domain_id, int64_t raw) {
    const obs_t *o = &c->ing->obs;
    sqlite3_stmt *s = stmt(c, insert ? S_DOM_INS : S_DOM_UPD);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    if (insert) sqlite3_bind_text64(s, 2, o->domain, o->domain_len, SQLITE_STATIC, SQLITE_UTF8);
    for (int i = 0; i < ND; i++)
        bind_cell(s, 3 + i, &o->dom[i]);
    sqlite3_bind_text(s, 23, c->endpoint, -1, SQLITE_STATIC);
    bind_ts(s, 24, c->ts);
    sqlite3_bind_int64(s, 25, raw);
    run(c, s);
}

/* ---- links at the newest time ----------------------------------------------------------- */

static int cmp_link(const void *a, const void *b) {
    const link_t *x = a, *y = b;
    return x->pivot_id < y->pivot_id ? -1 : x->pivot_id > y->pivot_id;
}

static link_t *find_link(ig_ingest_t *g, int64_t id) {
    link_t key = {.pivot_id = id};
    return bsearch(&key, g->links, g->nlinks, sizeof(*g->links), cmp_link);
}

/* When ts replaces the observation at L (same second), a value that observation lacked may
 * have been held at P, the fetch before: its interval then goes on to ts. */
static bool link_resume(ctx_t *c, int64_t domain_id, int64_t pivot_id, const char *P) {
    sqlite3_stmt *s = stmt(c, S_LINK_ENDED);
    if (!s) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    sqlite3_bind_int64(s, 2, pivot_id);
    bind_ts(s, 3, P);
    if (!ig_q_row(&c->q, s)) return false;
    char first[20];
    const char *f = (const char *)sqlite3_column_text(s, 0);
    snprintf(first, sizeof(first), "%s", f ? f : "");
    sqlite3_reset(s);
    if (!(s = stmt(c, S_LINK_SET_LAST))) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    sqlite3_bind_int64(s, 2, pivot_id);
    bind_ts(s, 3, first);
    bind_ts(s, 4, c->ts);
    return run(c, s);
}

/* The domain's links (every value of the result) at ts, the newest time; L its previous
 * last_fetched (NULL: a new domain), P the fetch before this one when ts replaces the
 * observation at L (same second), else L. */
static void links_newest(ctx_t *c, int64_t domain_id, const char *L, const char *P) {
    ig_ingest_t *g = c->ing;
    g->nlinks = 0;
    bool same = L && strcmp(L, c->ts) == 0;
    if (L) {
        sqlite3_stmt *s = stmt(c, S_LINKS_CUR);
        if (!s) return;
        sqlite3_bind_int64(s, 1, domain_id);
        bind_ts(s, 2, L);
        while (ig_q_row(&c->q, s)) {
            if (g->nlinks == g->linkcap) {
                size_t cap = g->linkcap ? g->linkcap * 2 : 64;
                link_t *p = realloc(g->links, cap * sizeof(*p));
                if (!p) {
                    sqlite3_reset(s);
                    fail_nomem(c);
                    return;
                }
                g->links = p;
                g->linkcap = cap;
            }
            link_t *l = &g->links[g->nlinks++];
            l->pivot_id = sqlite3_column_int64(s, 0);
            const char *f = (const char *)sqlite3_column_text(s, 1);
            snprintf(l->first, sizeof(l->first), "%s", f ? f : "");
            l->kept = false;
        }
        if (c->q.rc) return;
        if (g->nlinks > 1) qsort(g->links, g->nlinks, sizeof(*g->links), cmp_link);
        if (g->nlinks && !same) {
            sqlite3_stmt *b = stmt(c, S_LINKS_BUMP);
            if (!b) return;
            sqlite3_bind_int64(b, 1, domain_id);
            bind_ts(b, 2, L);
            bind_ts(b, 3, c->ts);
            run(c, b);
        }
    }
    /* the new links, in one statement: a JSON list of their pivot ids */
    g->jn = 0;
    size_t nnew = 0;
    for (size_t i = 0; i < g->nids && !c->q.rc; i++) {
        slot_t *sl = &g->set[g->ids[i]];
        link_t *l = g->nlinks ? find_link(g, sl->pivot_id) : NULL;
        if (l) {
            l->kept = true;
            continue;
        }
        if (same && P && link_resume(c, domain_id, sl->pivot_id, P)) {
            sl->delta++;
            continue;
        }
        jb_raw(c, nnew ? "," : "[", 1);
        jb_int(c, sl->pivot_id);
        sl->delta++;
        nnew++;
    }
    if (nnew && !c->q.rc) {
        jb_raw(c, "]", 1);
        sqlite3_stmt *s = stmt(c, S_LINK_INS);
        if (!s) return;
        sqlite3_bind_text64(s, 1, g->jbuf, g->jn, SQLITE_STATIC, SQLITE_UTF8);
        sqlite3_bind_int64(s, 2, domain_id);
        bind_ts(s, 3, c->ts);
        run(c, s);
    }
    /* values that went away: their interval ends at the fetch before */
    for (size_t i = 0; i < g->nlinks && !c->q.rc; i++) {
        link_t *l = &g->links[i];
        if (l->kept) continue;
        bool keep = P && strcmp(l->first, P) <= 0;
        sqlite3_stmt *s = stmt(c, keep ? S_LINK_SET_LAST : S_LINK_DEL);
        if (!s) return;
        sqlite3_bind_int64(s, 1, domain_id);
        sqlite3_bind_int64(s, 2, l->pivot_id);
        bind_ts(s, 3, l->first);
        if (keep) bind_ts(s, 4, P);
        if (!run(c, s)) return;
        /* the pivot's stored count: its slot when this answer has one, else directly */
        sqlite3_stmt *d = stmt(c, S_PIV_DELTA);
        if (!d) return;
        sqlite3_bind_int64(d, 1, l->pivot_id);
        sqlite3_bind_int64(d, 2, -1);
        run(c, d);
    }
}

/* ---- history at the newest time --------------------------------------------------------- */

static int cmp_attr(const hval_t *a, const hval_t *b) {
    size_t n = a->alen < b->alen ? a->alen : b->alen;
    int r = memcmp(a->attr, b->attr, n);
    return r ? r : (a->alen < b->alen ? -1 : a->alen > b->alen);
}

static int cmp_hval(const hval_t *a, const hval_t *b) {
    int r = cmp_attr(a, b);
    if (r) return r;
    size_t n = a->n < b->n ? a->n : b->n;
    r = memcmp(a->p, b->p, n);
    return r ? r : (a->n < b->n ? -1 : a->n > b->n);
}

/* One step of a merge walk over two attribute-sorted lists a..ae and b..be: *k is the next
 * attribute in either, *a1 and *b1 the ends of its values in each; returns whether the two
 * sets of values are the same. */
static bool attr_group(const hval_t *a, const hval_t *ae, const hval_t *b, const hval_t *be,
                       const hval_t **k, const hval_t **a1, const hval_t **b1) {
    *k = a >= ae ? b : b >= be ? a : (cmp_attr(a, b) <= 0 ? a : b);
    *a1 = a;
    *b1 = b;
    while (*a1 < ae && cmp_attr(*a1, *k) == 0)
        (*a1)++;
    while (*b1 < be && cmp_attr(*b1, *k) == 0)
        (*b1)++;
    bool same = (*a1 - a) == (*b1 - b);
    for (ptrdiff_t i = 0; same && i < *a1 - a; i++)
        same = cmp_hval(&a[i], &b[i]) == 0;
    return same;
}

static bool hist_explicit(ctx_t *c, int64_t domain_id, const hval_t *v) {
    sqlite3_stmt *s = stmt(c, S_HIST_ANY);
    if (!s) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    bool any = ig_q_row(&c->q, s);
    if (any) sqlite3_reset(s);
    return any;
}

static void hist_ins(ctx_t *c, int64_t domain_id, const hval_t *v, const char *f, const char *l) {
    sqlite3_stmt *s = stmt(c, S_HIST_INS);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    ig_bind_text(s, 3, v->p, v->n);
    bind_ts(s, 4, f);
    bind_ts(s, 5, l);
    run(c, s);
}

/* A value that went away: its current row (last_seen ts by now) ends at P, or goes when it
 * began after P (it was only in the observation this one replaces). */
static void hist_close(ctx_t *c, int64_t domain_id, const hval_t *v, const char *P) {
    sqlite3_stmt *s = stmt(c, S_HIST_CUR);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    ig_bind_text(s, 3, v->p, v->n);
    bind_ts(s, 4, c->ts);
    char first[20];
    if (!ig_q_row(&c->q, s)) return;
    const char *f = (const char *)sqlite3_column_text(s, 0);
    snprintf(first, sizeof(first), "%s", f ? f : "");
    sqlite3_reset(s);
    bool keep = P && strcmp(first, P) <= 0;
    s = stmt(c, keep ? S_HIST_SET_LAST : S_HIST_DEL);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    ig_bind_text(s, 3, v->p, v->n);
    bind_ts(s, 4, first);
    if (keep) bind_ts(s, 5, P);
    run(c, s);
}

/* A value whose interval ended at P goes on to ts; false when it has none. */
static bool hist_resume(ctx_t *c, int64_t domain_id, const hval_t *v, const char *P) {
    sqlite3_stmt *s = stmt(c, S_HIST_CUR);
    if (!s) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    ig_bind_text(s, 3, v->p, v->n);
    bind_ts(s, 4, P);
    if (!ig_q_row(&c->q, s)) return false;
    char first[20];
    const char *f = (const char *)sqlite3_column_text(s, 0);
    snprintf(first, sizeof(first), "%s", f ? f : "");
    sqlite3_reset(s);
    if (!(s = stmt(c, S_HIST_SET_LAST))) return false;
    sqlite3_bind_int64(s, 1, domain_id);
    ig_bind_text(s, 2, v->attr, v->alen);
    ig_bind_text(s, 3, v->p, v->n);
    bind_ts(s, 4, first);
    bind_ts(s, 5, c->ts);
    return run(c, s);
}

/* One attribute whose values changed: old [a, ae), new [b, be), both sorted. */
static void hist_attr(ctx_t *c, int64_t domain_id, const char *ff, const char *P,
                      const hval_t *a, const hval_t *ae, const hval_t *b, const hval_t *be) {
    const hval_t *any = a < ae ? a : b;
    bool explicit_rows = hist_explicit(c, domain_id, any);
    while ((a < ae || b < be) && !c->q.rc) {
        int r = a >= ae ? 1 : b >= be ? -1 : cmp_hval(a, b);
        if (r == 0) { /* held before and now */
            if (!explicit_rows) hist_ins(c, domain_id, a, ff, c->ts);
            a++, b++;
        } else if (r < 0) { /* went away */
            if (explicit_rows)
                hist_close(c, domain_id, a, P);
            else if (P && strcmp(ff, P) <= 0)
                hist_ins(c, domain_id, a, ff, P);
            a++;
        } else { /* appeared (or, replacing the same second, resumed from P) */
            if (!(explicit_rows && P && strcmp(P, c->ts) < 0 &&
                  hist_resume(c, domain_id, b, P)))
                hist_ins(c, domain_id, b, c->ts, c->ts);
            b++;
        }
    }
}

static void history_newest(ctx_t *c, int64_t domain_id, const char *ff, const char *L,
                           const char *P) {
    ig_ingest_t *g = c->ing;
    bool same = strcmp(L, c->ts) == 0;
    if (same && !P) return; /* the only observation, replaced: nothing changed over time */
    if (!same) {
        sqlite3_stmt *s = stmt(c, S_HIST_BUMP);
        if (!s) return;
        sqlite3_bind_int64(s, 1, domain_id);
        bind_ts(s, 2, L);
        bind_ts(s, 3, c->ts);
        if (!run(c, s)) return;
    }
    const hval_t *a = g->hold.v, *ae = a + g->hold.n, *b = g->hnew.v, *be = b + g->hnew.n;
    while ((a < ae || b < be) && !c->q.rc) {
        const hval_t *k, *a1, *b1;
        if (!attr_group(a, ae, b, be, &k, &a1, &b1)) hist_attr(c, domain_id, ff, P, a, a1, b, b1);
        a = a1;
        b = b1;
    }
}

/* ---- an observation older than the latest (history.c does the intervals) --------------- */

typedef struct {
    ig_ingest_t *g;
} held_t;

static bool link_held(void *arg, const ikey_t *k) {
    ig_ingest_t *g = ((held_t *)arg)->g;
    for (size_t i = 0; i < g->nids; i++)
        if (g->set[g->ids[i]].pivot_id == k->pivot_id) return true;
    return false;
}

static bool hval_held(void *arg, const ikey_t *k) {
    ig_ingest_t *g = ((held_t *)arg)->g;
    hval_t key = {k->attr, k->alen, k->p, k->n};
    size_t lo = 0, hi = g->hnew.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = cmp_hval(&g->hnew.v[mid], &key);
        if (r == 0) return true;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void observe_old(ctx_t *c, int64_t domain_id, const char *ff, const char *L) {
    ig_ingest_t *g = c->ing;
    char prev[20], next[20];
    when_t w = {.domain_id = domain_id, .t = c->ts};
    sqlite3_stmt *s = stmt(c, S_FETCH_KNOWN);
    if (!s) return;
    sqlite3_bind_int64(s, 1, domain_id);
    bind_ts(s, 2, c->ts);
    if ((w.known = ig_q_row(&c->q, s))) sqlite3_reset(s);
    if (fetch_near(c, domain_id, c->ts, true, prev)) w.prev = prev;
    if (fetch_near(c, domain_id, c->ts, false, next)) w.next = next;
    if (c->q.rc) return;

    held_t h = {g};
    for (size_t i = 0; i < g->nids && !c->q.rc; i++)
        ig_hist_held(&c->q, &w, &(ikey_t){.pivot_id = g->set[g->ids[i]].pivot_id});
    ig_hist_split(&c->q, &w, true, link_held, &h);

    /* history: the current values (from the current rows) against the old observation's */
    const hval_t *a = g->hold.v, *ae = a + g->hold.n, *b = g->hnew.v, *be = b + g->hnew.n;
    while ((a < ae || b < be) && !c->q.rc) {
        const hval_t *k, *a1, *b1;
        bool same_set = attr_group(a, ae, b, be, &k, &a1, &b1);
        bool explicit_rows = hist_explicit(c, domain_id, k);
        if (!explicit_rows && !same_set) /* held since first_fetched until now: say so */
            for (const hval_t *x = a; x < a1; x++)
                hist_ins(c, domain_id, x, ff, L);
        if (explicit_rows || !same_set)
            for (const hval_t *x = b; x < b1; x++)
                ig_hist_held(&c->q, &w, &(ikey_t){.attr = x->attr, .alen = x->alen, .p = x->p,
                                                  .n = x->n});
        a = a1;
        b = b1;
    }
    ig_hist_split(&c->q, &w, false, hval_held, &h);
}

/* ---- one result ----------------------------------------------------------------------- */

static void ingest_result(ctx_t *c) {
    ig_ingest_t *g = c->ing;
    obs_t *o = &g->obs;
    c->dom_seq++;
    for (int t = 0; t < NTABLES && !c->q.rc; t++)
        sort_rows(c, t);
    resolve_pivots(c, o);
    if (c->q.rc) return;

    sqlite3_stmt *s = stmt(c, S_DOM_SEL);
    if (!s) return;
    sqlite3_bind_text64(s, 1, o->domain, o->domain_len, SQLITE_STATIC, SQLITE_UTF8);
    int64_t domain_id = 0;
    char ff[20] = "", L[20] = "";
    bool exists = ig_q_row(&c->q, s);
    if (exists) {
        domain_id = sqlite3_column_int64(s, 0);
        const char *f = (const char *)sqlite3_column_text(s, 1);
        const char *l = (const char *)sqlite3_column_text(s, 2);
        snprintf(ff, sizeof(ff), "%s", f ? f : "");
        snprintf(L, sizeof(L), "%s", l ? l : "");
        for (int i = 0; i < ND; i++)
            read_cell(c, s, 3 + i, &g->olddom[i]);
        sqlite3_reset(s);
    }
    if (c->q.rc) return;

    if (!exists) {
        domain_id = next_id(c, &c->next_domain, S_MAX_DOM);
        if (!domain_id) return;
        int64_t raw = raw_id(c, domain_id, false);
        domain_row(c, true, domain_id, raw);
        for (int t = 0; t < NTABLES && !c->q.rc; t++)
            insert_rows(c, t, domain_id);
        links_newest(c, domain_id, NULL, NULL);
        fetch_row(c, domain_id, raw, true);
        risk_row(c, domain_id);
        return;
    }

    /* What differs from the stored rows. When something does (or the observation is older
     * than the stored one), the history values of both. */
    bool older = strcmp(c->ts, L) < 0, changed[NTABLES], any = older;
    for (int t = 0; t < NTABLES && !c->q.rc; t++)
        any |= changed[t] = !older && !same_as_stored(c, t, domain_id);
    for (int i = 0; i < NHIST_COLS && !any; i++)
        any = !same_cell(&g->olddom[ig_hist_cols[i]], &o->dom[ig_hist_cols[i]]);
    g->hold.n = g->hnew.n = 0;
    if (any) {
        for (int t = 0; t < NTABLES && !c->q.rc; t++)
            read_rows(c, t, domain_id);
        if (c->q.rc) return;
        if (ig_hvals(g->olddom, g->old, &g->ra, &g->hold) != IG_OK ||
            ig_hvals(o->dom, o->rows, &g->ra, &g->hnew) != IG_OK) {
            fail_nomem(c);
            return;
        }
    }
    if (c->q.rc) return;

    if (older) { /* older than what is stored: history only */
        int64_t raw = raw_id(c, domain_id, true);
        s = stmt(c, S_DOM_OLD);
        if (!s) return;
        sqlite3_bind_int64(s, 1, domain_id);
        bind_ts(s, 2, c->ts);
        run(c, s);
        observe_old(c, domain_id, ff, L);
        fetch_row(c, domain_id, raw, false);
        risk_row(c, domain_id);
        return;
    }

    char prev[20];
    const char *P = L;
    if (strcmp(c->ts, L) == 0) P = fetch_near(c, domain_id, L, true, prev) ? prev : NULL;
    int64_t raw = raw_id(c, domain_id, true);
    domain_row(c, false, domain_id, raw);
    for (int t = 0; t < NTABLES && !c->q.rc; t++) {
        if (!changed[t]) continue;
        sqlite3_stmt *d = tstmt(c, t, TS_DEL);
        if (!d) return;
        sqlite3_bind_int64(d, 1, domain_id);
        run(c, d);
        insert_rows(c, t, domain_id);
    }
    links_newest(c, domain_id, L, P);
    history_newest(c, domain_id, ff, L, P);
    fetch_row(c, domain_id, raw, true);
    risk_row(c, domain_id);
}

/* ---- the answer ------------------------------------------------------------------------- */

/* The response object of an Iris answer, or NULL with the reason in c. */
static const jt_node_t *response_of(ctx_t *c, const jt_doc_t *d) {
    const jt_node_t *root = jt_node(d, 0);
    if (root->type != JT_OBJ) {
        fail_einval(c, "not an Iris answer: %s", "the JSON is not an object");
        return NULL;
    }
    const jt_node_t *resp = jt_get(d, root, "response");
    if (!resp) resp = root;
    if (resp->type != JT_OBJ) {
        fail_einval(c, "not an Iris answer: %s", "\"response\" is not an object");
        return NULL;
    }
    if (jt_get(d, resp, "results") || jt_get(d, resp, "limit_exceeded")) return resp;
    if (jt_get(d, root, "error") || jt_get(d, resp, "error"))
        fail_einval(c, "%s", "an Iris error answer, nothing to import");
    else
        fail_einval(c, "not an Iris answer: %s", "no \"results\" or \"limit_exceeded\"");
    return NULL;
}

/* Every result must be an object with a non-empty string domain, before anything is
 * written. Returns the number of results, or -1. */
static int check_results(ctx_t *c, const jt_doc_t *d, const jt_node_t *results) {
    if (!results || results->type == JT_NULL) return 0;
    if (results->type != JT_ARR) {
        fail_einval(c, "not an Iris answer: %s", "\"results\" is not a list");
        return -1;
    }
    int n = 0;
    char what[64];
    for (const jt_node_t *r = jt_first(d, results); r; r = jt_next(d, r), n++) {
        if (n >= MAX_LIST) {
            snprintf(what, sizeof(what), "more than %d results", MAX_LIST);
            fail_einval(c, "answer too large to import: %s", what);
            return -1;
        }
        const jt_node_t *dn = jt_get(d, r, "domain");
        size_t len = dn && dn->type == JT_STR ? (dn->nul ? strnlen(dn->s, dn->n) : dn->n) : 0;
        const char *why = r->type != JT_OBJ                ? "is not an object"
                          : !dn || dn->type != JT_STR      ? "has no domain"
                          : len == 0                       ? "has an empty domain"
                          : len > MAX_DOMAIN               ? "has a domain name too long"
                                                           : NULL;
        if (why) {
            snprintf(what, sizeof(what), "result %d %s", n, why);
            fail_einval(c, "not an Iris answer: %s", what);
            return -1;
        }
    }
    return n;
}

/* Which endpoint an answer came from, when nobody says: value/count pairs are Investigate,
 * values without counts Enrich, flat values the legacy Iris endpoint. */
static const char *guess_endpoint(const jt_doc_t *d, int nresults) {
    bool vc = false;
    for (size_t i = 0; i < d->nnodes; i++) {
        const jt_node_t *n = jt_node(d, (uint32_t)i);
        if (n->type != JT_OBJ || !jt_get(d, n, "value")) continue;
        if (jt_get(d, n, "count")) return "iris-investigate";
        vc = true;
    }
    return vc ? "iris-enrich" : nresults > 0 ? "iris" : "iris-investigate";
}

static bool our_time(int64_t t, char out[20]) {
    if (t < 0 || t > MAX_YEAR_EPOCH) return false;
    time_t tt = (time_t)t;
    struct tm tm;
    return gmtime_r(&tt, &tm) && strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 19;
}

static bool prepare_tables(ig_ingest_t *g) {
    for (int t = 0; t < NTABLES; t++) {
        const table_desc_t *d = &ig_tables[t];
        char key[256] = "";
        /* the first nkey columns of cols */
        const char *p = d->cols;
        for (int k = 0; k < d->nkey; k++) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s%.*s", k ? ", " : "",
                     (int)n, p);
            if (e) p = e + 1;
            while (*p == ' ')
                p++;
        }
        char buf[1024];
        snprintf(buf, sizeof(buf), "SELECT %s FROM %s WHERE domain_id = ?1 ORDER BY %s", d->cols,
                 d->name, key);
        g->tsql[t][TS_SEL] = strdup(buf);
        snprintf(buf, sizeof(buf), "DELETE FROM %s WHERE domain_id = ?1", d->name);
        g->tsql[t][TS_DEL] = strdup(buf);
        for (int k = 0; k < TS_N; k++)
            if (!g->tsql[t][k]) return false;
    }
    return true;
}

ig_ingest_t *ig_ingest_new(void) {
    ig_ingest_t *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    g->data_version = -1;
    if (!prepare_tables(g) || !(g->pc = ig_pivcache_new())) {
        ig_ingest_free(g);
        return NULL;
    }
    return g;
}

void ig_ingest_forget(void *arg) {
    ig_ingest_t *g = arg;
    if (g) ig_pivcache_clear(g->pc);
}

void ig_ingest_free(ig_ingest_t *g) {
    if (!g) return;
    for (int t = 0; t < NTABLES; t++) {
        for (int k = 0; k < TS_N; k++)
            free(g->tsql[t][k]);
        free(g->old[t].cells);
    }
    jt_free(&g->doc);
    arena_free(&g->ra);
    arena_free(&g->aa);
    ig_obs_free(&g->obs);
    free(g->hnew.v);
    free(g->hold.v);
    free(g->set);
    free(g->links);
    free(g->ids);
    free(g->order);
    free(g->jbuf);
    ig_pivcache_free(g->pc);
    free(g);
}

/* Leaves the state an answer used ready for the next: statements reset (no read snapshot
 * held), the answer's slots emptied, big buffers given back. */
static void answer_done(ig_ingest_t *g, size_t len) {
    for (int i = 0; i < S_N; i++)
        if (g->st[i]) {
            sqlite3_reset(g->st[i]);
            sqlite3_clear_bindings(g->st[i]);
        }
    for (int t = 0; t < NTABLES; t++) {
        for (int k = 0; k < TS_N; k++)
            if (g->ts[t][k]) {
                sqlite3_reset(g->ts[t][k]);
                sqlite3_clear_bindings(g->ts[t][k]);
            }
        for (int k = 0; k <= MAX_MULTI; k++)
            if (g->ins[t][k]) sqlite3_reset(g->ins[t][k]);
    }
    if (g->setcap > 65536) {
        free(g->set);
        g->set = NULL;
        g->setcap = 0;
    } else if (g->set) {
        memset(g->set, 0, g->setcap * sizeof(*g->set));
    }
    g->setn = 0;
    arena_trim(&g->aa, 8u << 20); /* what an outsized answer needed is not kept */
    arena_trim(&g->ra, 8u << 20);
    if (len > (16u << 20) || g->doc.cap > (1u << 22)) jt_free(&g->doc);
}

int ig_ingest_run(ig_ingest_t *g, sqlite3 *db, const char *body, size_t len,
                  const ig_ingest_opts_t *opt, size_t *ndomains, char *err, size_t errlen) {
    ctx_t c = {.ing = g, .q = {.db = db, .err = err, .errlen = errlen}, .budget = MAX_VALUES};
    if (ndomains) *ndomains = 0;
    if (err && errlen) err[0] = '\0';
    if (!g || !db || !opt || (opt->endpoint && !*opt->endpoint) || (!body && len)) {
        fail_einval(&c, "%s", "ingest: no database, endpoint or body");
        return c.q.rc;
    }
    char ts[20];
    if (!our_time(opt->observed_at, ts)) {
        fail_einval(&c, "ingest: %s", "observed_at out of range");
        return c.q.rc;
    }
    if (g->db != db) { /* statements and what is known of rows belong to one connection */
        memset(g->st, 0, sizeof(g->st));
        memset(g->ts, 0, sizeof(g->ts));
        memset(g->ins, 0, sizeof(g->ins));
        ig_pivcache_clear(g->pc);
        g->data_version = -1;
        g->db = db;
    }
    /* another connection wrote since the last answer: what the cache knows may be old */
    sqlite3_stmt *dv = stmt(&c, S_DATA_VERSION);
    if (dv && ig_q_row(&c.q, dv)) {
        int64_t v = sqlite3_column_int64(dv, 0);
        sqlite3_reset(dv);
        if (v != g->data_version) ig_pivcache_clear(g->pc);
        g->data_version = v;
    }
    if (c.q.rc) return c.q.rc;
    int prc = jt_parse(&g->doc, body ? body : "", len);
    if (prc) {
        if (prc == -2) {
            fail_nomem(&c);
        } else {
            char what[64];
            snprintf(what, sizeof(what), "invalid JSON near byte %zu", g->doc.err_off);
            fail_einval(&c, "not an Iris answer: %s", what);
        }
        return c.q.rc;
    }
    const jt_node_t *resp = response_of(&c, &g->doc);
    const jt_node_t *results = resp ? jt_get(&g->doc, resp, "results") : NULL;
    int n = resp ? check_results(&c, &g->doc, results) : -1;
    c.endpoint = opt->endpoint ? opt->endpoint : guess_endpoint(&g->doc, n);
    size_t done = 0;
    if (n > 0)
        for (const jt_node_t *r = jt_first(&g->doc, results); r && !c.q.rc;
             r = jt_next(&g->doc, r)) {
            arena_reset(&g->ra);
            int nrc = ig_normalize(&g->doc, r, &g->obs, &g->ra, &c.budget, err, errlen);
            if (nrc != IG_OK) {
                c.q.rc = nrc;
                break;
            }
            int64_t t = opt->observed_at;
            if (opt->result_times && g->obs.has_time && g->obs.time <= MAX_YEAR_EPOCH &&
                (!opt->now || g->obs.time <= opt->now))
                t = g->obs.time;
            c.t = t;
            if (!our_time(t, c.ts)) snprintf(c.ts, sizeof(c.ts), "%s", ts);
            ingest_result(&c);
            if (!c.q.rc) done++;
        }
    flush_pivots(&c);
    answer_done(g, len);
    if (c.q.rc == IG_OK && ndomains) *ndomains = done;
    return c.q.rc;
}

int ig_ingest_answer(sqlite3 *db, const char *endpoint, const char *body, size_t len,
                     int64_t observed_at, size_t *ndomains, char *err, size_t errlen) {
    if (ndomains) *ndomains = 0;
    if (!endpoint || !*endpoint) {
        if (err && errlen) snprintf(err, errlen, "ingest: no database, endpoint or body");
        return IG_EINVAL;
    }
    ig_ingest_t *g = ig_ingest_new();
    if (!g) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return IG_ENOMEM;
    }
    ig_ingest_opts_t o = {.endpoint = endpoint, .observed_at = observed_at};
    int rc = ig_ingest_run(g, db, body, len, &o, ndomains, err, errlen);
    ig_ingest_free(g);
    return rc;
}
