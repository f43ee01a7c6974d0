/* ingest.c — normalizes one Iris answer (Investigate, Enrich or legacy /v1/iris JSON, with or
 * without the {"response": ...} wrapper) into the intel tables of schema_intel.c.
 *
 * Never begins, commits or rolls back: the caller holds a transaction or savepoint and rolls
 * it back on a non-OK return, so rows are written as we go. Per answer: parse, check every
 * result has a domain, then per result the `domains` row and the current tables (replaced,
 * unless a newer fetch is stored: then only first_fetched = min), then history
 * (domain_pivots, domain_history, risk_history: only extended). Pivot ids are cached per answer.
 * Tolerance (iris-api.md 4): a value may be a VC or a bare scalar; a field missing, null or of
 * the wrong type is absent; a single value where a list is expected is a list of one.
 * Hostile input: a list stops after MAX_LIST elements (rest ignored); stored strings are cut
 * at MAX_STR bytes on a UTF-8 boundary; over MAX_LIST results, a domain over MAX_DOMAIN bytes
 * or over MAX_VALUES elements visited reject the answer (IG_EINVAL); cJSON refuses nesting
 * past 1000 levels.
 */
#include "irisgate/jscan.h"
#include "store_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST 10000                /* elements walked in one list, results in one answer */
#define MAX_STR (64 * 1024)           /* bytes kept of one stored string or joined list */
#define MAX_DOMAIN 1024               /* bytes of a result's domain name */
#define MAX_VALUES 1000000            /* list elements and pivot values visited in one answer */
#define MAX_YEAR_EPOCH 253402300799LL /* 9999-12-31 23:59:59: times stay 19 characters */

/* ---- statements: fixed text, prepared once per connection by ig_db_stmt ------------------- */

enum {
    S_DOM_SEL,
    S_DOM_INS,
    S_DOM_UPD,
    S_DOM_OLD,
    S_DEL_IPS,
    S_DEL_NS,
    S_DEL_MX,
    S_DEL_CONTACTS,
    S_DEL_EMAILS,
    S_DEL_SSL,
    S_DEL_RISK,
    S_DEL_TRACK,
    S_DEL_TAGS,
    S_RAW,
    S_IP,
    S_NS,
    S_MX,
    S_CONTACT,
    S_EMAIL,
    S_SSL,
    S_RISK,
    S_TRACK,
    S_TAG,
    S_PIVOT_SEL,
    S_PIVOT_INS,
    S_PIVOT_COUNT,
    S_DPIVOT,
    S_HIST,
    S_RISKH,
    S_N
};

static const char *const SQL[S_N] = {
    [S_DOM_SEL] = "SELECT domain_id, last_fetched FROM domains WHERE domain = ?1",
    /* Whether the domain exists is known (S_DOM_SEL): no upsert, no RETURNING. */
    [S_DOM_INS] =
        "INSERT INTO domains(domain, tld, active, create_date, expiration_date, first_seen,"
        " registrar, registrar_status, registrant_name, registrant_org, website_title,"
        " website_response, server_type, redirect, redirect_domain, spf_info, popularity_rank,"
        " alexa, risk_score, data_updated, whois_url, source, first_fetched, last_fetched)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?23)",
    [S_DOM_UPD] =
        "UPDATE domains SET tld = ?2, active = ?3, create_date = ?4, expiration_date = ?5,"
        " first_seen = ?6, registrar = ?7, registrar_status = ?8, registrant_name = ?9,"
        " registrant_org = ?10, website_title = ?11, website_response = ?12, server_type = ?13,"
        " redirect = ?14, redirect_domain = ?15, spf_info = ?16, popularity_rank = ?17,"
        " alexa = ?18, risk_score = ?19, data_updated = ?20, whois_url = ?21, source = ?22,"
        " first_fetched = min(first_fetched, ?23), last_fetched = ?23 WHERE domain_id = ?24",
    [S_DOM_OLD] = "UPDATE domains SET first_fetched = min(first_fetched, ?2) WHERE domain_id = ?1",
    [S_DEL_IPS] = "DELETE FROM ips WHERE domain_id = ?1",
    [S_DEL_NS] = "DELETE FROM name_servers WHERE domain_id = ?1",
    [S_DEL_MX] = "DELETE FROM mail_servers WHERE domain_id = ?1",
    [S_DEL_CONTACTS] = "DELETE FROM contacts WHERE domain_id = ?1",
    [S_DEL_EMAILS] = "DELETE FROM emails WHERE domain_id = ?1",
    [S_DEL_SSL] = "DELETE FROM ssl WHERE domain_id = ?1",
    [S_DEL_RISK] = "DELETE FROM risk_components WHERE domain_id = ?1",
    [S_DEL_TRACK] = "DELETE FROM tracking_codes WHERE domain_id = ?1",
    [S_DEL_TAGS] = "DELETE FROM tags WHERE domain_id = ?1",
    [S_RAW] = "INSERT OR REPLACE INTO domain_raw(domain_id, endpoint, fetched_at, json)"
              " VALUES(?1, ?2, ?3, ?4)",
    [S_IP] = "INSERT INTO ips(domain_id, position, address, asn, asns, country_code, isp)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_NS] = "INSERT INTO name_servers(domain_id, position, host, domain, ips)"
             " VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_MX] = "INSERT INTO mail_servers(domain_id, position, host, domain, priority, ips)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CONTACT] = "INSERT OR REPLACE INTO contacts(domain_id, role, name, org, street, city,"
                  " state, postal, country, phone, fax, emails)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_EMAIL] = "INSERT OR IGNORE INTO emails(domain_id, source, email) VALUES(?1, ?2, ?3)",
    [S_SSL] = "INSERT INTO ssl(domain_id, position, hash, subject, organization, email,"
              " common_name, issuer_common_name, alt_names, not_before, not_after, duration)"
              " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_RISK] = "INSERT OR REPLACE INTO risk_components(domain_id, name, risk_score, evidence,"
               " threats) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_TRACK] = "INSERT OR IGNORE INTO tracking_codes(domain_id, kind, code) VALUES(?1, ?2, ?3)",
    [S_TAG] = "INSERT OR REPLACE INTO tags(domain_id, label, scope, tagged_at)"
              " VALUES(?1, ?2, ?3, ?4)",
    /* Select first: most values are already known (registrars, name servers, ASNs...). */
    [S_PIVOT_SEL] = "SELECT pivot_id, count_at FROM pivots WHERE field = ?1 AND value = ?2",
    [S_PIVOT_INS] = "INSERT INTO pivots(field, value, count, count_at) VALUES(?1, ?2, ?3, ?4)",
    [S_PIVOT_COUNT] = "UPDATE pivots SET count = ?2, count_at = ?3 WHERE pivot_id = ?1",
    [S_DPIVOT] = "INSERT INTO domain_pivots(pivot_id, domain_id, first_seen, last_seen)"
                 " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(domain_id, pivot_id) DO UPDATE SET"
                 " first_seen = min(domain_pivots.first_seen, excluded.first_seen),"
                 " last_seen = max(domain_pivots.last_seen, excluded.last_seen)",
    [S_HIST] = "INSERT INTO domain_history(domain_id, attr, value, first_seen, last_seen)"
               " VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(domain_id, attr, value) DO UPDATE SET"
               " first_seen = min(domain_history.first_seen, excluded.first_seen),"
               " last_seen = max(domain_history.last_seen, excluded.last_seen)",
    [S_RISKH] = "INSERT INTO risk_history(domain_id, observed_at, risk_score, proximity,"
                " threat_profile, threat_profile_malware, threat_profile_phishing,"
                " threat_profile_spam) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                " ON CONFLICT(domain_id, observed_at) DO UPDATE SET"
                " risk_score = excluded.risk_score, proximity = excluded.proximity,"
                " threat_profile = excluded.threat_profile,"
                " threat_profile_malware = excluded.threat_profile_malware,"
                " threat_profile_phishing = excluded.threat_profile_phishing,"
                " threat_profile_spam = excluded.threat_profile_spam",
};

/* ---- small growable text ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
} sbuf_t;

static int sb_add(sbuf_t *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return IG_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return IG_OK;
}

/* ---- the results' own bytes ---------------------------------------------------------------
 * domain_raw keeps each result as the vendor sent it. Re-serializing the parsed tree would
 * cost as much as parsing it again, so the answer (already known to be valid JSON) is
 * scanned for the spans of its results. Anything unexpected (escaped keys, a count that
 * does not match the parsed tree) gives up and the caller re-serializes instead. */

/* Fills spans[0..n) with the results' bytes; false when the scan does not find exactly n
 * objects where the parsed tree has them. */
static bool raw_results(const char *body, size_t len, bool wrapped, size_t n, const char **at,
                        size_t *alen) {
    const char *e = body + len, *p = body;
    if (wrapped && !(p = ig_jscan_member(p, e, "response"))) return false;
    ig_jscan_iter_t it;
    if (!ig_jscan_array(&it, ig_jscan_member(p, e, "results"), e)) return false;
    size_t i = 0;
    const char *v;
    size_t vn;
    while (ig_jscan_next(&it, &v, &vn)) {
        if (i == n || *v != '{') return false;
        at[i] = v;
        alen[i++] = vn;
    }
    return i == n && !it.bad;
}

/* ---- one answer's state ------------------------------------------------------------------- */

/* A (field, value) pivoted in this answer: its pivot_id, and the last domain linked to it,
 * so a value shared by many results of one answer is looked up once. */
typedef struct {
    uint64_t h;
    size_t off; /* of "field\0value" in the arena */
    size_t flen, vlen;
    int64_t pivot_id;
    unsigned dom_seq; /* 0: empty slot */
} slot_t;

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *st[S_N]; /* from ig_db_stmt, reset when the answer is done */
    const char *endpoint;
    char t[24]; /* observed_at as 'YYYY-MM-DD HH:MM:SS' */
    int rc;     /* first failure; everything is a no-op once set */
    char *err;
    size_t errlen;
    long budget; /* MAX_VALUES, counted down */

    int64_t domain_id;
    unsigned dom_seq; /* the result being ingested, from 1 */
    int current;      /* this fetch is the domain's latest: replace the current tables */

    /* (field, value) pairs pivoted in this answer */
    slot_t *set;
    size_t setcap, setn;
    sbuf_t arena;

    sbuf_t dom, status, ja, jb, low; /* scratch text */

    /* The current result's own bytes in the answer (raw_results), or NULL: re-serialize. */
    const char *raw;
    size_t raw_len;
} ctx_t;

static void fail_einval(ctx_t *c, const char *fmt, const char *a) {
    if (c->rc) return;
    c->rc = IG_EINVAL;
    if (c->err && c->errlen) snprintf(c->err, c->errlen, fmt, a);
}

static void fail_nomem(ctx_t *c) {
    if (c->rc) return;
    c->rc = IG_ENOMEM;
    if (c->err && c->errlen) snprintf(c->err, c->errlen, "out of memory");
}

static void fail_db(ctx_t *c, int sqlrc) {
    if (c->rc) return;
    c->rc = (sqlrc == SQLITE_NOMEM) ? IG_ENOMEM : IG_EIO;
    if (c->err && c->errlen) snprintf(c->err, c->errlen, "database: %s", sqlite3_errmsg(c->db));
}

static void add(ctx_t *c, sbuf_t *b, const char *s, size_t n) {
    if (!c->rc && sb_add(b, s, n) != IG_OK) fail_nomem(c);
}

static int spend(ctx_t *c) {
    if (c->rc) return 0;
    if (--c->budget < 0) {
        c->rc = IG_EINVAL;
        if (c->err && c->errlen)
            snprintf(c->err, c->errlen, "answer too large to import: over %d values", MAX_VALUES);
        return 0;
    }
    return 1;
}

static sqlite3_stmt *stmt(ctx_t *c, int id) {
    if (c->rc) return NULL;
    sqlite3_stmt *s = c->st[id];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    s = ig_db_stmt(c->db, SQL[id]);
    if (!s) {
        fail_db(c, sqlite3_errcode(c->db));
        return NULL;
    }
    c->st[id] = s;
    return s;
}

/* Steps s to its end; 1 when done. For statements that return no row. */
static int run(ctx_t *c, sqlite3_stmt *s) {
    if (!s) return 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        ;
    if (r != SQLITE_DONE) fail_db(c, r);
    sqlite3_reset(s);
    return r == SQLITE_DONE;
}

/* ---- values: a VC object or a bare scalar ------------------------------------------------- */

/* One value as text. p points into the cJSON tree or at num: never copy a val_t. */
typedef struct {
    const char *p; /* NULL: absent */
    size_t n;
    int has_count;
    int64_t count;
    char num[40];
} val_t;

static const cJSON *key(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* The length of s to keep: at most MAX_STR bytes, never cutting a UTF-8 sequence. */
static size_t cap_len(const char *s) {
    size_t n = strnlen(s, MAX_STR + 1);
    if (n > MAX_STR) {
        n = MAX_STR;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

static int fmt_num(double d, char *out, size_t outlen) {
    if (!isfinite(d)) return 0;
    if (d == floor(d) && fabs(d) < 9e15) {
        snprintf(out, outlen, "%lld", (long long)d);
    } else {
        snprintf(out, outlen, "%.15g", d);
        if (strtod(out, NULL) != d) snprintf(out, outlen, "%.17g", d);
    }
    return 1;
}

static int scalar_val(const cJSON *n, val_t *v) {
    if (cJSON_IsString(n) && n->valuestring) {
        size_t k = cap_len(n->valuestring);
        if (k == 0) return 0;
        v->p = n->valuestring;
        v->n = k;
        return 1;
    }
    if (cJSON_IsNumber(n) && fmt_num(n->valuedouble, v->num, sizeof(v->num))) {
        v->p = v->num;
        v->n = strlen(v->num);
        return 1;
    }
    return 0;
}

/* An integer from a number (integral) or a decimal string. */
static int int_scalar(const cJSON *n, int64_t *out) {
    if (cJSON_IsNumber(n)) {
        double d = n->valuedouble;
        if (!isfinite(d) || d != floor(d) || fabs(d) >= 9.2e18) return 0;
        *out = (int64_t)d;
        return 1;
    }
    if (cJSON_IsString(n) && n->valuestring && n->valuestring[0]) {
        char *end;
        errno = 0;
        long long x = strtoll(n->valuestring, &end, 10);
        if (errno || *end || end == n->valuestring) return 0;
        *out = x;
        return 1;
    }
    return 0;
}

/* A VC's value (and count when it carries one), or the bare scalar n. 0 when absent. */
static int get_val(const cJSON *n, val_t *v) {
    v->p = NULL;
    v->n = 0;
    v->has_count = 0;
    v->count = 0;
    if (!n) return 0;
    if (cJSON_IsObject(n)) {
        if (!scalar_val(cJSON_GetObjectItemCaseSensitive(n, "value"), v)) return 0;
        v->has_count = int_scalar(cJSON_GetObjectItemCaseSensitive(n, "count"), &v->count);
        return 1;
    }
    return scalar_val(n, v);
}

static const cJSON *unwrap(const cJSON *n) {
    return cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, "value") : n;
}

static int get_int(const cJSON *n, int64_t *out) {
    return int_scalar(unwrap(n), out);
}

static int get_real(const cJSON *n, double *out) {
    n = unwrap(n);
    if (cJSON_IsNumber(n)) {
        if (!isfinite(n->valuedouble)) return 0;
        *out = n->valuedouble;
        return 1;
    }
    if (cJSON_IsString(n) && n->valuestring && n->valuestring[0]) {
        char *end;
        double d = strtod(n->valuestring, &end);
        if (*end || !isfinite(d)) return 0;
        *out = d;
        return 1;
    }
    return 0;
}

static int get_bool(const cJSON *n, int *out) {
    n = unwrap(n);
    if (cJSON_IsBool(n)) {
        *out = cJSON_IsTrue(n) ? 1 : 0;
        return 1;
    }
    int64_t x;
    if (cJSON_IsNumber(n) && int_scalar(n, &x)) {
        *out = x != 0;
        return 1;
    }
    if (cJSON_IsString(n) && n->valuestring) {
        const char *s = n->valuestring;
        if (!strcmp(s, "true") || !strcmp(s, "1")) return *out = 1, 1;
        if (!strcmp(s, "false") || !strcmp(s, "0")) return *out = 0, 1;
    }
    return 0;
}

/* ASCII lower case of v into b (scratch). */
static void lower(ctx_t *c, sbuf_t *b, const val_t *v) {
    b->n = 0;
    add(c, b, v->p, v->n);
    if (c->rc) return;
    for (size_t i = 0; i < b->n; i++)
        if (b->p[i] >= 'A' && b->p[i] <= 'Z') b->p[i] = (char)(b->p[i] - 'A' + 'a');
}

/* Appends v to a comma-separated list, unless that would pass MAX_STR. */
static void join(ctx_t *c, sbuf_t *b, const val_t *v) {
    if (!v->p || b->n + v->n + 1 > MAX_STR) return;
    if (b->n) add(c, b, ",", 1);
    add(c, b, v->p, v->n);
}

/* ---- binding ------------------------------------------------------------------------------ */

static void bind_text(sqlite3_stmt *s, int i, const char *p, size_t n) {
    if (p)
        sqlite3_bind_text(s, i, p, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_val(sqlite3_stmt *s, int i, const val_t *v) {
    bind_text(s, i, v->p, v->n);
}

static void bind_buf(sqlite3_stmt *s, int i, const sbuf_t *b) {
    bind_text(s, i, b->n ? b->p : NULL, b->n);
}

static void bind_opt_int(sqlite3_stmt *s, int i, int has, int64_t x) {
    if (has)
        sqlite3_bind_int64(s, i, x);
    else
        sqlite3_bind_null(s, i);
}

/* ---- lists: an array, or a single value counted as a list of one --------------------------- */

typedef struct {
    const cJSON *list, *cur;
    int i;
} iter_t;

static void it_init(iter_t *it, const cJSON *n) {
    it->list = n;
    it->cur = NULL;
    it->i = -1;
}

static const cJSON *it_next(ctx_t *c, iter_t *it) {
    if (c->rc || !it->list || cJSON_IsNull(it->list)) return NULL;
    if (!cJSON_IsArray(it->list)) {
        if (it->i >= 0) return NULL;
        it->i = 0;
        it->cur = it->list;
    } else {
        it->cur = it->i < 0 ? it->list->child : (it->cur ? it->cur->next : NULL);
        it->i++;
        if (!it->cur || it->i >= MAX_LIST) return NULL;
    }
    return spend(c) ? it->cur : NULL;
}

/* ---- pivots ------------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int set_grow(ctx_t *c) {
    size_t cap = c->setcap ? c->setcap * 2 : 256;
    slot_t *s = calloc(cap, sizeof(*s));
    if (!s) return IG_ENOMEM;
    for (size_t i = 0; i < c->setcap; i++) {
        if (!c->set[i].dom_seq) continue;
        size_t j = (size_t)c->set[i].h & (cap - 1);
        while (s[j].dom_seq)
            j = (j + 1) & (cap - 1);
        s[j] = c->set[i];
    }
    free(c->set);
    c->set = s;
    c->setcap = cap;
    return IG_OK;
}

/* The slot of (field, value) in this answer; a new one has pivot_id 0. NULL on failure. */
static slot_t *slot_of(ctx_t *c, const char *field, size_t flen, const val_t *v) {
    uint64_t h = fnv(fnv(14695981039346656037ULL, field, flen + 1), v->p, v->n);
    if ((c->setn + 1) * 2 > c->setcap && set_grow(c) != IG_OK) {
        fail_nomem(c);
        return NULL;
    }
    size_t j = (size_t)h & (c->setcap - 1);
    for (; c->set[j].dom_seq; j = (j + 1) & (c->setcap - 1)) {
        slot_t *s = &c->set[j];
        const char *a = c->arena.p + s->off;
        if (s->h == h && s->flen == flen && s->vlen == v->n && memcmp(a, field, flen) == 0 &&
            memcmp(a + flen + 1, v->p, v->n) == 0)
            return s;
    }
    size_t off = c->arena.n;
    add(c, &c->arena, field, flen + 1);
    add(c, &c->arena, v->p, v->n);
    if (c->rc) return NULL;
    c->set[j] = (slot_t){.h = h, .off = off, .flen = flen, .vlen = v->n, .dom_seq = UINT_MAX};
    c->setn++;
    return &c->set[j];
}

/* The pivot_id of (field, value), inserted when new; its count replaced when the VC
 * carries one at least as recent as the stored one. 0 on failure. */
static int64_t pivot_id(ctx_t *c, const char *field, const val_t *v) {
    sqlite3_stmt *s = stmt(c, S_PIVOT_SEL);
    if (!s) return 0;
    sqlite3_bind_text(s, 1, field, -1, SQLITE_STATIC);
    bind_val(s, 2, v);
    int r = sqlite3_step(s);
    int64_t id = 0;
    int newer = 0;
    if (r == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        const unsigned char *at = sqlite3_column_text(s, 1);
        newer = !at || strcmp((const char *)at, c->t) <= 0;
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        fail_db(c, r);
        return 0;
    }
    if (id) {
        if (!v->has_count || !newer) return id;
        s = stmt(c, S_PIVOT_COUNT);
        if (!s) return 0;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, v->count);
        sqlite3_bind_text(s, 3, c->t, -1, SQLITE_STATIC);
        return run(c, s) ? id : 0;
    }
    s = stmt(c, S_PIVOT_INS);
    if (!s) return 0;
    sqlite3_bind_text(s, 1, field, -1, SQLITE_STATIC);
    bind_val(s, 2, v);
    bind_opt_int(s, 3, v->has_count, v->count);
    if (v->has_count) sqlite3_bind_text(s, 4, c->t, -1, SQLITE_STATIC);
    return run(c, s) ? sqlite3_last_insert_rowid(c->db) : 0;
}

/* Records that this domain has value v in field: pivots (see pivot_id) and domain_pivots
 * (first_seen/last_seen), once per (field, value) and domain. */
static void pivot(ctx_t *c, const char *field, const val_t *v) {
    if (c->rc || !v->p || !spend(c)) return;
    slot_t *sl = slot_of(c, field, strlen(field), v);
    if (!sl || sl->dom_seq == c->dom_seq) return;
    if (!sl->pivot_id) {
        sl->pivot_id = pivot_id(c, field, v); /* touches the database only, not the set */
        if (!sl->pivot_id) return;
    }
    sl->dom_seq = c->dom_seq;
    sqlite3_stmt *s = stmt(c, S_DPIVOT);
    if (!s) return;
    sqlite3_bind_int64(s, 1, sl->pivot_id);
    sqlite3_bind_int64(s, 2, c->domain_id);
    sqlite3_bind_text(s, 3, c->t, -1, SQLITE_STATIC);
    run(c, s);
}

static void email_row(ctx_t *c, const char *source, const val_t *v) {
    if (!c->current || !v->p) return;
    sqlite3_stmt *s = stmt(c, S_EMAIL);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
    bind_val(s, 3, v);
    run(c, s);
}

static void track_row(ctx_t *c, const char *kind, const val_t *v) {
    if (!c->current || !v->p) return;
    sqlite3_stmt *s = stmt(c, S_TRACK);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
    bind_val(s, 3, v);
    run(c, s);
}

/* Every value of a list: pivoted under field (when not NULL), an emails row from
 * email_source, a tracking_codes row of kind, appended to join_to. */
static void each_value(ctx_t *c, const cJSON *list, const char *field, const char *email_source,
                       const char *kind, sbuf_t *join_to) {
    iter_t it;
    it_init(&it, list);
    for (const cJSON *e; (e = it_next(c, &it));) {
        val_t v;
        if (!get_val(e, &v)) continue;
        if (field) pivot(c, field, &v);
        if (email_source) email_row(c, email_source, &v);
        if (kind) track_row(c, kind, &v);
        if (join_to) join(c, join_to, &v);
    }
}

static void history(ctx_t *c, const char *attr, const char *p, size_t n) {
    if (c->rc || !p || !n) return;
    sqlite3_stmt *s = stmt(c, S_HIST);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    sqlite3_bind_text(s, 2, attr, -1, SQLITE_STATIC);
    bind_text(s, 3, p, n);
    sqlite3_bind_text(s, 4, c->t, -1, SQLITE_STATIC);
    run(c, s);
}

static void history_int(ctx_t *c, const char *attr, int has, int64_t x) {
    char b[32];
    if (!has) return;
    snprintf(b, sizeof(b), "%lld", (long long)x);
    history(c, attr, b, strlen(b));
}

/* ---- the multi-valued attributes ---------------------------------------------------------- */

static void do_ips(ctx_t *c, const cJSON *r) {
    iter_t it;
    it_init(&it, key(r, "ip"));
    int pos = 0;
    for (const cJSON *e; (e = it_next(c, &it));) {
        val_t addr, cc, isp;
        int obj = cJSON_IsObject(e) && !key(e, "value");
        get_val(obj ? key(e, "address") : e, &addr);
        get_val(key(e, "country_code"), &cc);
        get_val(key(e, "isp"), &isp);
        pivot(c, "ip", &addr);
        pivot(c, "isp_name", &isp);
        c->ja.n = 0;
        int has_asn = 0;
        int64_t asn = 0;
        iter_t ia;
        it_init(&ia, key(e, "asn"));
        for (const cJSON *a; (a = it_next(c, &ia));) {
            val_t v;
            if (!get_val(a, &v)) continue;
            if (!has_asn && get_int(a, &asn)) has_asn = 1;
            pivot(c, "asn", &v);
            join(c, &c->ja, &v);
        }
        if (!c->current || !addr.p) continue;
        if (cc.p) lower(c, &c->low, &cc);
        sqlite3_stmt *s = stmt(c, S_IP);
        if (!s) return;
        sqlite3_bind_int64(s, 1, c->domain_id);
        sqlite3_bind_int(s, 2, pos++);
        bind_val(s, 3, &addr);
        bind_opt_int(s, 4, has_asn, asn);
        bind_buf(s, 5, &c->ja);
        if (cc.p)
            bind_buf(s, 6, &c->low);
        else
            sqlite3_bind_null(s, 6);
        bind_val(s, 7, &isp);
        run(c, s);
    }
}

/* name_server (mx = 0) and mx (mx = 1): the same shape, mx adds priority. */
static void do_servers(ctx_t *c, const cJSON *r, int mx) {
    iter_t it;
    it_init(&it, key(r, mx ? "mx" : "name_server"));
    int pos = 0;
    for (const cJSON *e; (e = it_next(c, &it));) {
        val_t host, dom;
        int obj = cJSON_IsObject(e) && !key(e, "value");
        get_val(obj ? key(e, "host") : e, &host);
        get_val(key(e, "domain"), &dom);
        pivot(c, mx ? "mailserver_host" : "nameserver_host", &host);
        pivot(c, mx ? "mailserver_domain" : "nameserver_domain", &dom);
        c->ja.n = 0;
        each_value(c, obj ? key(e, "ip") : NULL, mx ? "mailserver_ip" : "nameserver_ip", NULL, NULL,
                   &c->ja);
        if (!c->current || !host.p) continue;
        int64_t prio = 0;
        int has_prio = mx && get_int(key(e, "priority"), &prio);
        sqlite3_stmt *s = stmt(c, mx ? S_MX : S_NS);
        if (!s) return;
        int i = 1;
        sqlite3_bind_int64(s, i++, c->domain_id);
        sqlite3_bind_int(s, i++, pos++);
        bind_val(s, i++, &host);
        bind_val(s, i++, &dom);
        if (mx) bind_opt_int(s, i++, has_prio, prio);
        bind_buf(s, i, &c->ja);
        run(c, s);
    }
}

static void do_contacts(ctx_t *c, const cJSON *r) {
    static const char *const keys[] = {"registrant_contact", "admin_contact", "billing_contact",
                                       "technical_contact"};
    static const char *const roles[] = {"registrant", "admin", "billing", "technical"};
    static const char *const fields[] = {"name",   "org",     "street", "city", "state",
                                         "postal", "country", "phone",  "fax"};
    for (int k = 0; k < 4 && !c->rc; k++) {
        const cJSON *ct = key(r, keys[k]);
        if (!cJSON_IsObject(ct)) continue;
        val_t f[9];
        int any = 0;
        for (int i = 0; i < 9; i++)
            any |= get_val(key(ct, fields[i]), &f[i]);
        pivot(c, "contact_name", &f[0]);
        pivot(c, "contact_street", &f[2]);
        pivot(c, "contact_phone", &f[7]);
        c->ja.n = 0;
        each_value(c, key(ct, "email"), "email", roles[k], NULL, &c->ja);
        if (!c->current || !(any || c->ja.n)) continue;
        if (f[6].p) lower(c, &c->low, &f[6]);
        sqlite3_stmt *s = stmt(c, S_CONTACT);
        if (!s) return;
        sqlite3_bind_int64(s, 1, c->domain_id);
        sqlite3_bind_text(s, 2, roles[k], -1, SQLITE_STATIC);
        for (int i = 0; i < 9; i++)
            bind_val(s, 3 + i, &f[i]);
        if (f[6].p) bind_buf(s, 9, &c->low);
        bind_buf(s, 12, &c->ja);
        run(c, s);
    }
}

/* not_before/not_after: an integer YYYYMMDD becomes 'YYYY-MM-DD'; other text stays. */
static void ssl_date(const cJSON *n, val_t *v) {
    int64_t x;
    if (get_int(n, &x) && x >= 10000101 && x <= 99991231) {
        snprintf(v->num, sizeof(v->num), "%04d-%02d-%02d", (int)(x / 10000), (int)(x / 100 % 100),
                 (int)(x % 100));
        v->p = v->num;
        v->n = 10;
        v->has_count = 0;
        return;
    }
    get_val(n, v);
}

static void ssl_row(ctx_t *c, int pos, const val_t *hash, const val_t *subject, const val_t *org,
                    const sbuf_t *emails, const val_t *cn, const val_t *icn, const sbuf_t *alt,
                    const val_t *nb, const val_t *na, int has_dur, int64_t dur) {
    sqlite3_stmt *s = stmt(c, S_SSL);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    sqlite3_bind_int(s, 2, pos);
    bind_val(s, 3, hash);
    bind_val(s, 4, subject);
    bind_val(s, 5, org);
    bind_buf(s, 6, emails);
    bind_val(s, 7, cn);
    bind_val(s, 8, icn);
    if (alt)
        bind_buf(s, 9, alt);
    else
        sqlite3_bind_null(s, 9);
    bind_val(s, 10, nb);
    bind_val(s, 11, na);
    bind_opt_int(s, 12, has_dur, dur);
    run(c, s);
}

static void do_ssl(ctx_t *c, const cJSON *r) {
    iter_t it;
    it_init(&it, key(r, "ssl_info"));
    int pos = 0;
    for (const cJSON *e; (e = it_next(c, &it));) {
        if (!cJSON_IsObject(e)) continue;
        val_t hash, subj, org, cn, icn, nb, na;
        int any = get_val(key(e, "hash"), &hash);
        any |= get_val(key(e, "subject"), &subj);
        any |= get_val(key(e, "organization"), &org);
        any |= get_val(key(e, "common_name"), &cn);
        any |= get_val(key(e, "issuer_common_name"), &icn);
        ssl_date(key(e, "not_before"), &nb);
        ssl_date(key(e, "not_after"), &na);
        any |= nb.p || na.p;
        int64_t dur = 0;
        int has_dur = get_int(key(e, "duration"), &dur);
        pivot(c, "ssl_hash", &hash);
        pivot(c, "ssl_subject", &subj);
        pivot(c, "ssl_org", &org);
        pivot(c, "ssl_common_name", &cn);
        pivot(c, "ssl_issuer_common_name", &icn);
        c->ja.n = c->jb.n = 0;
        each_value(c, key(e, "email"), "ssl_email", "ssl", NULL, &c->ja);
        each_value(c, key(e, "alt_names"), "ssl_alt_names", NULL, NULL, &c->jb);
        if (!c->current || !(any || has_dur || c->ja.n || c->jb.n)) continue;
        ssl_row(c, pos++, &hash, &subj, &org, &c->ja, &cn, &icn, &c->jb, &nb, &na, has_dur, dur);
    }
    /* Legacy /v1/iris: flat ssl_hash, ssl_org and ssl_email (a string or a list); in
     * Investigate, ssl_email is the list of every certificate's emails. */
    val_t hash, org, none = {0};
    get_val(key(r, "ssl_hash"), &hash);
    get_val(key(r, "ssl_org"), &org);
    pivot(c, "ssl_hash", &hash);
    pivot(c, "ssl_org", &org);
    c->ja.n = 0;
    each_value(c, key(r, "ssl_email"), "ssl_email", "ssl", NULL, &c->ja);
    if (c->current && (hash.p || org.p) && !c->rc)
        ssl_row(c, pos, &hash, &none, &org, &c->ja, &none, &none, NULL, &none, &none, 0, 0);
}

static void do_tracking(ctx_t *c, const cJSON *r) {
    static const char *const single[][2] = {{"adsense", "adsense"},
                                            {"google_analytics", "google_analytics"}};
    static const char *const lists[][2] = {
        {"ga4", "ga4"},
        {"gtm_codes", "google_tag_manager"},
        {"fb_codes", "facebook"},
        {"hotjar_codes", "hotjar"},
        {"baidu_codes", "baidu_analytics"},
        {"yandex_codes", "yandex_metrica"},
        {"matomo_codes", "matomo"},
        {"statcounter_project_codes", "statcounter_project"},
        {"statcounter_security_codes", "statcounter_security"},
    };
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        val_t v;
        if (!get_val(key(r, single[i][0]), &v)) continue;
        pivot(c, single[i][1], &v);
        track_row(c, single[i][1], &v);
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        each_value(c, key(r, lists[i][0]), lists[i][1], NULL, lists[i][1], NULL);
}

static void do_tags(ctx_t *c, const cJSON *r) {
    iter_t it;
    it_init(&it, key(r, "tags"));
    for (const cJSON *e; (e = it_next(c, &it));) {
        val_t label, scope, at;
        int obj = cJSON_IsObject(e) && !key(e, "value");
        if (!get_val(obj ? key(e, "label") : e, &label) || !c->current) continue;
        get_val(key(e, "scope"), &scope);
        get_val(key(e, "tagged_at"), &at);
        sqlite3_stmt *s = stmt(c, S_TAG);
        if (!s) return;
        sqlite3_bind_int64(s, 1, c->domain_id);
        bind_val(s, 2, &label);
        bind_val(s, 3, &scope);
        bind_val(s, 4, &at);
        run(c, s);
    }
}

/* ---- risk --------------------------------------------------------------------------------- */

static const char *const risk_names[] = {"proximity", "threat_profile", "threat_profile_malware",
                                         "threat_profile_phishing", "threat_profile_spam"};
#define NRISK 5

typedef struct {
    int has[NRISK];
    int64_t score[NRISK];
} risk_t;

static void risk_row(ctx_t *c, risk_t *rk, const char *name, size_t nlen, int has, int64_t score,
                     const sbuf_t *evidence, const sbuf_t *threats) {
    for (int i = 0; i < NRISK; i++)
        if (has && strlen(risk_names[i]) == nlen && memcmp(risk_names[i], name, nlen) == 0) {
            rk->has[i] = 1;
            rk->score[i] = score;
        }
    if (!c->current) return;
    sqlite3_stmt *s = stmt(c, S_RISK);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    bind_text(s, 2, name, nlen);
    bind_opt_int(s, 3, has, score);
    bind_buf(s, 4, evidence);
    if (threats)
        bind_buf(s, 5, threats);
    else
        sqlite3_bind_null(s, 5);
    run(c, s);
}

static void do_risk(ctx_t *c, const cJSON *r, int has_score, int64_t score) {
    risk_t rk = {{0}, {0}};
    iter_t it;
    it_init(&it, key(key(r, "domain_risk"), "components"));
    for (const cJSON *e; (e = it_next(c, &it));) {
        val_t name;
        if (!cJSON_IsObject(e) || !get_val(key(e, "name"), &name)) continue;
        int64_t x = 0;
        int has = get_int(key(e, "risk_score"), &x);
        c->ja.n = c->jb.n = 0;
        each_value(c, key(e, "evidence"), NULL, NULL, NULL, &c->ja);
        each_value(c, key(e, "threats"), NULL, NULL, NULL, &c->jb);
        risk_row(c, &rk, name.p, name.n, has, x, &c->ja, &c->jb);
    }
    /* Legacy: threat_profile {proximity, spam, malware, evidence}. */
    const cJSON *tp = key(r, "threat_profile");
    if (cJSON_IsObject(tp)) {
        static const char *const legacy[][2] = {{"proximity", "proximity"},
                                                {"spam", "threat_profile_spam"},
                                                {"malware", "threat_profile_malware"}};
        c->ja.n = 0;
        each_value(c, key(tp, "evidence"), NULL, NULL, NULL, &c->ja);
        for (int i = 0; i < 3; i++) {
            int64_t x;
            if (get_int(key(tp, legacy[i][0]), &x))
                risk_row(c, &rk, legacy[i][1], strlen(legacy[i][1]), 1, x, &c->ja, NULL);
        }
    }
    if (!has_score || c->rc) return;
    sqlite3_stmt *s = stmt(c, S_RISKH);
    if (!s) return;
    sqlite3_bind_int64(s, 1, c->domain_id);
    sqlite3_bind_text(s, 2, c->t, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, score);
    for (int i = 0; i < NRISK; i++)
        bind_opt_int(s, 4 + i, rk.has[i], rk.score[i]);
    run(c, s);
}

/* ---- one result --------------------------------------------------------------------------- */

static void ingest_result(ctx_t *c, const cJSON *r) {
    const cJSON *d = key(r, "domain");
    c->dom.n = 0;
    add(c, &c->dom, d->valuestring, strlen(d->valuestring));
    if (c->rc) return;
    for (size_t i = 0; i < c->dom.n; i++)
        if (c->dom.p[i] >= 'A' && c->dom.p[i] <= 'Z') c->dom.p[i] = (char)(c->dom.p[i] + 32);
    c->dom_seq++;

    /* The domains row's columns. */
    val_t tld, create, expire, fseen, registrar, rname, rorg, title, server, redirect, rdomain, spf,
        updated, whois;
    get_val(key(r, "tld"), &tld);
    get_val(key(r, "create_date"), &create);
    get_val(key(r, "expiration_date"), &expire);
    get_val(key(r, "first_seen"), &fseen);
    get_val(key(r, "registrar"), &registrar);
    get_val(key(r, "registrant_name"), &rname);
    get_val(key(r, "registrant_org"), &rorg);
    get_val(key(r, "website_title"), &title);
    get_val(key(r, "server_type"), &server);
    get_val(key(r, "redirect"), &redirect);
    get_val(key(r, "redirect_domain"), &rdomain);
    get_val(key(r, "spf_info"), &spf);
    get_val(key(r, "data_updated_timestamp"), &updated);
    get_val(key(r, "whois_url"), &whois);
    int active = 0, has_active = get_bool(key(r, "active"), &active);
    int64_t response = 0, alexa = 0, risk = 0;
    int has_response = get_int(key(r, "website_response"), &response);
    int has_alexa = get_int(key(r, "alexa"), &alexa);
    int has_risk = get_int(key(key(r, "domain_risk"), "risk_score"), &risk);
    if (!has_risk) has_risk = get_int(key(r, "risk_score"), &risk);
    double pop = 0;
    int has_pop = get_real(key(r, "popularity_rank"), &pop);
    c->status.n = 0;
    each_value(c, key(r, "registrar_status"), NULL, NULL, NULL, &c->status);
    if (c->rc) return;

    /* Current, or an old answer imported after a newer one: then history only. */
    sqlite3_stmt *s = stmt(c, S_DOM_SEL);
    if (!s) return;
    bind_buf(s, 1, &c->dom);
    int rr = sqlite3_step(s);
    int exists = rr == SQLITE_ROW;
    c->current = 1;
    if (exists) {
        c->domain_id = sqlite3_column_int64(s, 0);
        const unsigned char *last = sqlite3_column_text(s, 1);
        c->current = !last || strcmp((const char *)last, c->t) <= 0;
    }
    sqlite3_reset(s);
    if (rr != SQLITE_ROW && rr != SQLITE_DONE) {
        fail_db(c, rr);
        return;
    }

    if (!c->current) {
        s = stmt(c, S_DOM_OLD);
        if (!s) return;
        sqlite3_bind_int64(s, 1, c->domain_id);
        sqlite3_bind_text(s, 2, c->t, -1, SQLITE_STATIC);
        run(c, s);
    } else {
        s = stmt(c, exists ? S_DOM_UPD : S_DOM_INS);
        if (!s) return;
        bind_buf(s, 1, &c->dom);
        bind_val(s, 2, &tld);
        bind_opt_int(s, 3, has_active, active);
        bind_val(s, 4, &create);
        bind_val(s, 5, &expire);
        bind_val(s, 6, &fseen);
        bind_val(s, 7, &registrar);
        bind_buf(s, 8, &c->status);
        bind_val(s, 9, &rname);
        bind_val(s, 10, &rorg);
        bind_val(s, 11, &title);
        bind_opt_int(s, 12, has_response, response);
        bind_val(s, 13, &server);
        bind_val(s, 14, &redirect);
        bind_val(s, 15, &rdomain);
        bind_val(s, 16, &spf);
        if (has_pop)
            sqlite3_bind_double(s, 17, pop);
        else
            sqlite3_bind_null(s, 17);
        bind_opt_int(s, 18, has_alexa, alexa);
        bind_opt_int(s, 19, has_risk, risk);
        bind_val(s, 20, &updated);
        bind_val(s, 21, &whois);
        sqlite3_bind_text(s, 22, c->endpoint, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 23, c->t, -1, SQLITE_STATIC);
        if (exists) sqlite3_bind_int64(s, 24, c->domain_id);
        if (!run(c, s)) return;
        if (!exists) c->domain_id = sqlite3_last_insert_rowid(c->db);
        if (exists)
            for (int id = S_DEL_IPS; id <= S_DEL_TAGS && !c->rc; id++) {
                s = stmt(c, id);
                if (s) sqlite3_bind_int64(s, 1, c->domain_id);
                run(c, s);
            }
        char *json = c->raw ? NULL : cJSON_PrintUnformatted(r);
        if (!c->raw && !json) {
            fail_nomem(c);
            return;
        }
        s = stmt(c, S_RAW);
        if (s) {
            sqlite3_bind_int64(s, 1, c->domain_id);
            sqlite3_bind_text(s, 2, c->endpoint, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, c->t, -1, SQLITE_STATIC);
            if (c->raw)
                sqlite3_bind_text64(s, 4, c->raw, c->raw_len, SQLITE_STATIC, SQLITE_UTF8);
            else
                sqlite3_bind_text(s, 4, json, -1, SQLITE_STATIC);
            run(c, s);
        }
        cJSON_free(json);
    }

    /* Scalar history. */
    history(c, "tld", tld.p, tld.n);
    history_int(c, "active", has_active, active);
    history(c, "create_date", create.p, create.n);
    history(c, "expiration_date", expire.p, expire.n);
    history(c, "first_seen", fseen.p, fseen.n);
    history(c, "registrar_status", c->status.p, c->status.n);
    history_int(c, "website_response", has_response, response);
    history(c, "spf_info", spf.p, spf.n);
    if (has_pop) {
        char b[40];
        if (fmt_num(pop, b, sizeof(b))) history(c, "popularity_rank", b, strlen(b));
    }
    history(c, "redirect", redirect.p, redirect.n);
    history_int(c, "risk_score", has_risk, risk);

    /* Single-valued pivots. */
    pivot(c, "registrar", &registrar);
    pivot(c, "registrant", &rname);
    pivot(c, "registrant_org", &rorg);
    pivot(c, "redirect_domain", &rdomain);
    pivot(c, "website_title", &title);
    pivot(c, "server_type", &server);

    do_ips(c, r);
    do_servers(c, r, 0);
    do_servers(c, r, 1);
    do_contacts(c, r);
    each_value(c, key(r, "soa_email"), "email_dns_soa", "soa", NULL, NULL);
    each_value(c, key(r, "additional_whois_email"), "email", "additional_whois", NULL, NULL);
    each_value(c, key(r, "email_domain"), "email_domain", NULL, NULL, NULL);
    do_ssl(c, r);
    do_tracking(c, r);
    do_tags(c, r);
    do_risk(c, r, has_risk, risk);
}

/* ---- the answer --------------------------------------------------------------------------- */

/* The response object of an Iris answer, or NULL with the reason in c. */
static const cJSON *response_of(ctx_t *c, const cJSON *root) {
    if (!cJSON_IsObject(root)) {
        fail_einval(c, "not an Iris answer: %s", "the JSON is not an object");
        return NULL;
    }
    const cJSON *resp = key(root, "response");
    if (!resp) resp = root;
    if (!cJSON_IsObject(resp)) {
        fail_einval(c, "not an Iris answer: %s", "\"response\" is not an object");
        return NULL;
    }
    if (key(resp, "results") || key(resp, "limit_exceeded")) return resp;
    if (key(root, "error") || key(resp, "error"))
        fail_einval(c, "%s", "an Iris error answer, nothing to import");
    else
        fail_einval(c, "not an Iris answer: %s", "no \"results\" or \"limit_exceeded\"");
    return NULL;
}

/* Every result must be an object with a non-empty string domain, before anything is
 * written. Returns the number of results, or -1. */
static int check_results(ctx_t *c, const cJSON *results) {
    if (!results || cJSON_IsNull(results)) return 0;
    if (!cJSON_IsArray(results)) {
        fail_einval(c, "not an Iris answer: %s", "\"results\" is not a list");
        return -1;
    }
    int n = 0;
    char what[64];
    for (const cJSON *r = results->child; r; r = r->next, n++) {
        if (n >= MAX_LIST) {
            snprintf(what, sizeof(what), "more than %d results", MAX_LIST);
            fail_einval(c, "answer too large to import: %s", what);
            return -1;
        }
        const cJSON *d = key(r, "domain");
        const char *why = !cJSON_IsObject(r)                      ? "is not an object"
                          : !cJSON_IsString(d) || !d->valuestring ? "has no domain"
                          : !d->valuestring[0]                    ? "has an empty domain"
                          : strnlen(d->valuestring, MAX_DOMAIN + 1) > MAX_DOMAIN
                              ? "has a domain name too long"
                              : NULL;
        if (why) {
            snprintf(what, sizeof(what), "result %d %s", n, why);
            fail_einval(c, "not an Iris answer: %s", what);
            return -1;
        }
    }
    return n;
}

static void ctx_free(ctx_t *c) {
    for (int i = 0; i < S_N; i++)
        if (c->st[i]) {
            sqlite3_reset(c->st[i]);
            sqlite3_clear_bindings(c->st[i]);
        }
    free(c->set);
    free(c->arena.p);
    free(c->dom.p);
    free(c->status.p);
    free(c->ja.p);
    free(c->jb.p);
    free(c->low.p);
}

int ig_ingest_answer(sqlite3 *db, const char *endpoint, const char *body, size_t len,
                     int64_t observed_at, size_t *ndomains, char *err, size_t errlen) {
    ctx_t c = {.db = db, .endpoint = endpoint, .err = err, .errlen = errlen, .budget = MAX_VALUES};
    if (ndomains) *ndomains = 0;
    if (err && errlen) err[0] = '\0';
    if (!db || !endpoint || !*endpoint || (!body && len)) {
        fail_einval(&c, "%s", "ingest: no database, endpoint or body");
        return c.rc;
    }
    if (observed_at < 0 || observed_at > MAX_YEAR_EPOCH) {
        fail_einval(&c, "ingest: %s", "observed_at out of range");
        return c.rc;
    }
    time_t tt = (time_t)observed_at;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(c.t, sizeof(c.t), "%Y-%m-%d %H:%M:%S", &tm)) {
        fail_einval(&c, "ingest: %s", "observed_at out of range");
        return c.rc;
    }

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body ? body : "", len, &end, 0);
    if (!root) {
        char what[64];
        size_t off = end && end >= body ? (size_t)(end - body) : 0;
        snprintf(what, sizeof(what), "invalid JSON near byte %zu", off);
        fail_einval(&c, "not an Iris answer: %s", what);
        return c.rc;
    }
    for (const char *p = end; p && p < body + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            char what[64];
            snprintf(what, sizeof(what), "data after the JSON at byte %zu", (size_t)(p - body));
            fail_einval(&c, "not an Iris answer: %s", what);
            break;
        }

    const cJSON *resp = c.rc ? NULL : response_of(&c, root);
    const cJSON *results = key(resp, "results");
    int n = resp ? check_results(&c, results) : -1;
    size_t done = 0;
    const char **at = n > 0 ? calloc((size_t)n, sizeof(*at)) : NULL;
    size_t *alen = n > 0 ? calloc((size_t)n, sizeof(*alen)) : NULL;
    bool raw = at && alen && raw_results(body, len, resp != root, (size_t)n, at, alen);
    if (n > 0)
        for (const cJSON *r = results->child; r && !c.rc; r = r->next) {
            /* A span must at least hold its result's domain name, or it is not its span. */
            const char *dn = key(r, "domain")->valuestring;
            bool mine = raw && memmem(at[done], alen[done], dn, strlen(dn));
            c.raw = mine ? at[done] : NULL;
            c.raw_len = mine ? alen[done] : 0;
            ingest_result(&c, r);
            if (!c.rc) done++;
        }
    free(at);
    free(alen);
    ctx_free(&c);
    cJSON_Delete(root);
    if (c.rc == IG_OK && ndomains) *ndomains = done;
    return c.rc;
}
