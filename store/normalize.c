/* normalize.c — one Iris result (Investigate, Enrich or legacy /v1/iris) as rows: the domains
 * row's columns, the current tables' rows, the pivot values, the risk scores, and the
 * history values derived from rows (ig_hvals). Pure: no SQLite, no I/O; what to write is
 * ingest.c's business.
 *
 * Tolerance (iris-api.md 4): a value may be a VC ({"value":..,"count":..}) or a bare scalar;
 * a field missing, null or of the wrong type is absent; a single value where a list is
 * expected is a list of one; "" and {"value":""} are absent. Hostile input: a list stops
 * after MAX_LIST elements; stored strings are cut at MAX_STR bytes on a UTF-8 boundary (and
 * at a NUL); visiting more than MAX_VALUES values in one answer rejects it (the caller's
 * budget). Text points into the JSON tree or the arena given: never a copy that outlives it.
 */
#include "ingest_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tables ---------------------------------------------------------------------------- */

const table_desc_t ig_tables[NTABLES] = {
    [T_IPS] = {"ips", 6, 1, false, "position, address, asn, asns, country_code, isp"},
    [T_NS] = {"name_servers", 4, 1, false, "position, host, domain, ips"},
    [T_MX] = {"mail_servers", 5, 1, false, "position, host, domain, priority, ips"},
    [T_CONTACTS] = {"contacts", 11, 1, true,
                    "role, name, org, street, city, state, postal, country, phone, fax, emails"},
    [T_EMAILS] = {"emails", 2, 2, false, "source, email"},
    [T_SSL] = {"ssl", 11, 1, false,
               "position, hash, subject, organization, email, common_name, issuer_common_name,"
               " alt_names, not_before, not_after, duration"},
    [T_RISK] = {"risk_components", 4, 1, true, "name, risk_score, evidence, threats"},
    [T_TRACK] = {"tracking_codes", 2, 2, false, "kind, code"},
    [T_TAGS] = {"tags", 3, 1, true, "label, scope, tagged_at"},
};

const char *const ig_domain_cols[ND] = {
    [D_TLD] = "tld",
    [D_ACTIVE] = "active",
    [D_CREATE] = "create_date",
    [D_EXPIRE] = "expiration_date",
    [D_FIRST_SEEN] = "first_seen",
    [D_REGISTRAR] = "registrar",
    [D_STATUS] = "registrar_status",
    [D_RNAME] = "registrant_name",
    [D_RORG] = "registrant_org",
    [D_TITLE] = "website_title",
    [D_RESPONSE] = "website_response",
    [D_SERVER] = "server_type",
    [D_REDIRECT] = "redirect",
    [D_RDOMAIN] = "redirect_domain",
    [D_SPF] = "spf_info",
    [D_POPULARITY] = "popularity_rank",
    [D_ALEXA] = "alexa",
    [D_RISK] = "risk_score",
    [D_UPDATED] = "data_updated",
    [D_WHOIS] = "whois_url",
};

const char *const ig_risk_names[NRISK] = {"proximity", "threat_profile", "threat_profile_malware",
                                          "threat_profile_phishing", "threat_profile_spam"};

/* ---- state --------------------------------------------------------------------------------- */

typedef struct {
    const jt_doc_t *d;
    obs_t *o;
    arena_t *a;
    long *budget;
    int rc;
    char *err;
    size_t errlen;
    /* a joined list being built */
    char *jb;
    size_t jn, jcap;
} norm_t;

static void nomem(norm_t *c) {
    if (c->rc) return;
    c->rc = IG_ENOMEM;
    snprintf(c->err, c->errlen, "out of memory");
}

static int spend(norm_t *c) {
    if (c->rc) return 0;
    if (--*c->budget < 0) {
        c->rc = IG_EINVAL;
        snprintf(c->err, c->errlen, "answer too large to import: over %d values", MAX_VALUES);
        return 0;
    }
    return 1;
}

static char *copy(norm_t *c, const char *p, size_t n) {
    char *q = arena_alloc(c->a, n + 1);
    if (!q) {
        nomem(c);
        return NULL;
    }
    memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

static const jt_node_t *key(norm_t *c, const jt_node_t *o, const char *k) {
    return jt_get(c->d, o, k);
}

static bool is_obj(const jt_node_t *n) {
    return n && n->type == JT_OBJ;
}

/* ---- values: a VC object or a bare scalar -------------------------------------------------- */

typedef struct {
    const char *p; /* NULL: absent */
    uint32_t n;
    bool has_count;
    int64_t count;
} val_t;

/* The length of [s, s+n) to keep: at most MAX_STR bytes, never cutting a UTF-8 sequence. */
static uint32_t cap_len(const char *s, uint32_t n) {
    if (n > MAX_STR) {
        n = MAX_STR;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

int ig_fmt_num(double d, char *out, size_t outlen) {
    if (!isfinite(d)) return 0;
    if (d == floor(d) && fabs(d) < 9e15) {
        snprintf(out, outlen, "%lld", (long long)d);
    } else {
        snprintf(out, outlen, "%.15g", d);
        if (strtod(out, NULL) != d) snprintf(out, outlen, "%.17g", d);
    }
    return 1;
}

/* A number node's text, NUL-terminated in buf (numbers are short; a longer one is refused). */
static bool num_text(const jt_node_t *n, char *buf, size_t len) {
    if (n->n >= len) return false;
    memcpy(buf, n->s, n->n);
    buf[n->n] = '\0';
    return true;
}

static bool is_int_literal(const jt_node_t *n) {
    for (uint32_t i = 0; i < n->n; i++)
        if (n->s[i] == '.' || n->s[i] == 'e' || n->s[i] == 'E') return false;
    return true;
}

/* An integer from a number (integral) or a decimal string. */
static bool int_scalar(const jt_node_t *n, int64_t *out) {
    char buf[64];
    if (!n) return false;
    if (n->type == JT_NUM) {
        if (!num_text(n, buf, sizeof(buf))) return false;
        if (is_int_literal(n)) {
            errno = 0;
            long long x = strtoll(buf, NULL, 10);
            if (errno) return false;
            *out = x;
            return true;
        }
        double d = strtod(buf, NULL);
        if (!isfinite(d) || d != floor(d) || fabs(d) >= 9.2e18) return false;
        *out = (int64_t)d;
        return true;
    }
    if (n->type == JT_STR && n->n > 0 && n->n < sizeof(buf) && !n->nul) {
        memcpy(buf, n->s, n->n);
        buf[n->n] = '\0';
        char *end;
        errno = 0;
        long long x = strtoll(buf, &end, 10);
        if (errno || *end || end == buf) return false;
        *out = x;
        return true;
    }
    return false;
}

static bool scalar_val(norm_t *c, const jt_node_t *n, val_t *v) {
    if (!n) return false;
    if (n->type == JT_STR) {
        uint32_t k = n->nul ? (uint32_t)strnlen(n->s, n->n) : n->n;
        k = cap_len(n->s, k);
        if (k == 0) return false;
        v->p = n->s;
        v->n = k;
        return true;
    }
    if (n->type == JT_NUM) {
        char out[40];
        int64_t x;
        if (is_int_literal(n) && int_scalar(n, &x)) {
            snprintf(out, sizeof(out), "%lld", (long long)x);
        } else {
            /* the longest JSON number worth keeping is far below 400 digits */
            char big[400];
            if (!num_text(n, big, sizeof(big))) return false;
            if (!ig_fmt_num(strtod(big, NULL), out, sizeof(out))) return false;
        }
        size_t k = strlen(out);
        if (!(v->p = copy(c, out, k))) return false;
        v->n = (uint32_t)k;
        return true;
    }
    return false;
}

/* A VC's value (and count when it carries one), or the bare scalar n. false when absent. */
static bool get_val(norm_t *c, const jt_node_t *n, val_t *v) {
    *v = (val_t){0};
    if (!n) return false;
    if (n->type == JT_OBJ) {
        if (!scalar_val(c, key(c, n, "value"), v)) return false;
        v->has_count = int_scalar(key(c, n, "count"), &v->count);
        return true;
    }
    return scalar_val(c, n, v);
}

static const jt_node_t *unwrap(norm_t *c, const jt_node_t *n) {
    return is_obj(n) ? key(c, n, "value") : n;
}

static bool get_int(norm_t *c, const jt_node_t *n, int64_t *out) {
    return int_scalar(unwrap(c, n), out);
}

static bool get_real(norm_t *c, const jt_node_t *n, double *out) {
    n = unwrap(c, n);
    char buf[400];
    if (!n) return false;
    if (n->type == JT_NUM) {
        if (!num_text(n, buf, sizeof(buf))) return false;
    } else if (n->type == JT_STR && n->n > 0 && n->n < sizeof(buf) && !n->nul) {
        memcpy(buf, n->s, n->n);
        buf[n->n] = '\0';
    } else {
        return false;
    }
    char *end;
    double d = strtod(buf, &end);
    if (*end || end == buf || !isfinite(d)) return false;
    *out = d;
    return true;
}

static bool get_bool(norm_t *c, const jt_node_t *n, int64_t *out) {
    n = unwrap(c, n);
    if (!n) return false;
    if (n->type == JT_TRUE || n->type == JT_FALSE) {
        *out = n->type == JT_TRUE;
        return true;
    }
    int64_t x;
    if (n->type == JT_NUM && int_scalar(n, &x)) {
        *out = x != 0;
        return true;
    }
    if (n->type == JT_STR) {
        if ((n->n == 4 && !memcmp(n->s, "true", 4)) || (n->n == 1 && n->s[0] == '1'))
            return *out = 1, true;
        if ((n->n == 5 && !memcmp(n->s, "false", 5)) || (n->n == 1 && n->s[0] == '0'))
            return *out = 0, true;
    }
    return false;
}

/* ---- cells and rows ------------------------------------------------------------------------ */

static void set_text(cell_t *x, const char *p, uint32_t n) {
    if (p && n)
        *x = (cell_t){.t = C_TEXT, .p = p, .n = n};
    else
        *x = (cell_t){.t = C_NULL};
}

static void set_val(cell_t *x, const val_t *v) {
    set_text(x, v->p, v->n);
}

static void set_int(cell_t *x, bool has, int64_t i) {
    *x = has ? (cell_t){.t = C_INT, .i = i} : (cell_t){.t = C_NULL};
}

/* A new row of table t, every cell NULL; valid until the next row of t. */
static cell_t *row_add(norm_t *c, int t) {
    rows_t *r = &c->o->rows[t];
    size_t nc = (size_t)ig_tables[t].ncols;
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        cell_t *p = realloc(r->cells, cap * nc * sizeof(*p));
        if (!p) {
            nomem(c);
            return NULL;
        }
        r->cells = p;
        r->cap = cap;
    }
    cell_t *row = r->cells + r->nrows++ * nc;
    memset(row, 0, nc * sizeof(*row));
    return row;
}

static void pivot(norm_t *c, const char *field, const val_t *v) {
    if (c->rc || !v->p || !spend(c)) return;
    obs_t *o = c->o;
    if (o->npv == o->pvcap) {
        size_t cap = o->pvcap ? o->pvcap * 2 : 64;
        pval_t *p = realloc(o->pv, cap * sizeof(*p));
        if (!p) {
            nomem(c);
            return;
        }
        o->pv = p;
        o->pvcap = cap;
    }
    o->pv[o->npv++] = (pval_t){field, v->p, v->n, v->has_count, v->count};
}

static void text_row(norm_t *c, int t, const char *a, const val_t *v) {
    if (c->rc || !v->p) return;
    cell_t *row = row_add(c, t);
    if (!row) return;
    set_text(&row[0], a, (uint32_t)strlen(a));
    set_val(&row[1], v);
}

/* ---- lists: an array, or a single value counted as a list of one --------------------------- */

typedef struct {
    const jt_node_t *list, *cur;
    int i;
} iter_t;

static void it_init(iter_t *it, const jt_node_t *n) {
    *it = (iter_t){n, NULL, -1};
}

static const jt_node_t *it_next(norm_t *c, iter_t *it) {
    if (c->rc || !it->list || it->list->type == JT_NULL) return NULL;
    if (it->list->type != JT_ARR) {
        if (it->i >= 0) return NULL;
        it->i = 0;
        it->cur = it->list;
    } else {
        it->cur = it->i < 0 ? jt_first(c->d, it->list) : (it->cur ? jt_next(c->d, it->cur) : NULL);
        it->i++;
        if (!it->cur || it->i >= MAX_LIST) return NULL;
    }
    return spend(c) ? it->cur : NULL;
}

/* ---- joined lists ("a,b,c", at most MAX_STR bytes) ----------------------------------------- */

static void join_start(norm_t *c) {
    c->jn = 0;
}

static void join_add(norm_t *c, const char *p, size_t n) {
    if (c->rc || !p || !n || c->jn + n + 1 > MAX_STR) return;
    if (c->jn + n + 2 > c->jcap) {
        size_t cap = c->jcap ? c->jcap : 256;
        while (cap < c->jn + n + 2)
            cap *= 2;
        char *b = realloc(c->jb, cap);
        if (!b) {
            nomem(c);
            return;
        }
        c->jb = b;
        c->jcap = cap;
    }
    if (c->jn) c->jb[c->jn++] = ',';
    memcpy(c->jb + c->jn, p, n);
    c->jn += n;
}

/* The joined text, in the arena (NULL when empty). */
static void join_done(norm_t *c, const char **p, uint32_t *n) {
    *p = NULL;
    *n = 0;
    if (c->rc || !c->jn) return;
    if ((*p = copy(c, c->jb, c->jn))) *n = (uint32_t)c->jn;
}

/* Every value of a list: pivoted under field and field2 (when not NULL), an emails row from
 * email_source, a tracking_codes row of kind, joined into *jp, *jn (when jp). */
static void each_value(norm_t *c, const jt_node_t *list, const char *field, const char *field2,
                       const char *email_source, const char *kind, const char **jp,
                       uint32_t *jn) {
    iter_t it;
    it_init(&it, list);
    if (jp) join_start(c);
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        val_t v;
        if (!get_val(c, e, &v)) continue;
        if (field) pivot(c, field, &v);
        if (field2) { /* the VC's count is field's, not field2's: none for field2 */
            val_t w = {v.p, v.n, false, 0};
            pivot(c, field2, &w);
        }
        if (email_source) text_row(c, T_EMAILS, email_source, &v);
        if (kind) text_row(c, T_TRACK, kind, &v);
        if (jp) join_add(c, v.p, v.n);
    }
    if (jp) join_done(c, jp, jn);
}

/* ---- the multi-valued attributes ----------------------------------------------------------- */

static void do_ips(norm_t *c, const jt_node_t *r) {
    iter_t it;
    it_init(&it, key(c, r, "ip"));
    int64_t pos = 0;
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        val_t addr, cc, isp;
        bool obj = is_obj(e) && !key(c, e, "value");
        get_val(c, obj ? key(c, e, "address") : e, &addr);
        get_val(c, key(c, e, "country_code"), &cc);
        get_val(c, key(c, e, "isp"), &isp);
        pivot(c, "ip", &addr);
        pivot(c, "isp_name", &isp);
        bool has_asn = false;
        int64_t asn = 0;
        iter_t ia;
        it_init(&ia, key(c, e, "asn"));
        join_start(c);
        for (const jt_node_t *a; (a = it_next(c, &ia));) {
            val_t v;
            if (!get_val(c, a, &v)) continue;
            if (!has_asn && get_int(c, a, &asn)) has_asn = true;
            pivot(c, "asn", &v);
            join_add(c, v.p, v.n);
        }
        const char *asns;
        uint32_t asnsn;
        join_done(c, &asns, &asnsn);
        if (!addr.p || c->rc) continue;
        char *low = NULL;
        if (cc.p && (low = copy(c, cc.p, cc.n)))
            for (uint32_t i = 0; i < cc.n; i++)
                if (low[i] >= 'A' && low[i] <= 'Z') low[i] = (char)(low[i] - 'A' + 'a');
        cell_t *row = row_add(c, T_IPS);
        if (!row) return;
        set_int(&row[0], true, pos++);
        set_val(&row[1], &addr);
        set_int(&row[2], has_asn, asn);
        set_text(&row[3], asns, asnsn);
        set_text(&row[4], low, cc.n);
        set_val(&row[5], &isp);
    }
}

/* name_server (mx = false) and mx (mx = true): the same shape, mx adds priority. */
static void do_servers(norm_t *c, const jt_node_t *r, bool mx) {
    iter_t it;
    it_init(&it, key(c, r, mx ? "mx" : "name_server"));
    int64_t pos = 0;
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        val_t host, dom;
        bool obj = is_obj(e) && !key(c, e, "value");
        get_val(c, obj ? key(c, e, "host") : e, &host);
        get_val(c, key(c, e, "domain"), &dom);
        pivot(c, mx ? "mailserver_host" : "nameserver_host", &host);
        pivot(c, mx ? "mailserver_domain" : "nameserver_domain", &dom);
        const char *ips;
        uint32_t nips;
        each_value(c, obj ? key(c, e, "ip") : NULL, mx ? "mailserver_ip" : "nameserver_ip", NULL,
                   NULL, NULL, &ips, &nips);
        if (!host.p || c->rc) continue;
        int64_t prio = 0;
        bool has_prio = mx && get_int(c, key(c, e, "priority"), &prio);
        cell_t *row = row_add(c, mx ? T_MX : T_NS);
        if (!row) return;
        int i = 0;
        set_int(&row[i++], true, pos++);
        set_val(&row[i++], &host);
        set_val(&row[i++], &dom);
        if (mx) set_int(&row[i++], has_prio, prio);
        set_text(&row[i], ips, nips);
    }
}

/* A two-letter country code is lower-cased (the vendor sent "US" and "us" in different
 * years); anything else ("REDACTED FOR PRIVACY") is kept as sent. */
static bool country_code(const val_t *v) {
    if (v->n != 2) return false;
    for (int i = 0; i < 2; i++) {
        char ch = v->p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))) return false;
    }
    return true;
}

static void do_contacts(norm_t *c, const jt_node_t *r) {
    static const char *const keys[] = {"registrant_contact", "admin_contact", "billing_contact",
                                       "technical_contact"};
    static const char *const roles[] = {"registrant", "admin", "billing", "technical"};
    static const char *const fields[] = {"name",   "org",     "street", "city", "state",
                                         "postal", "country", "phone",  "fax"};
    for (int k = 0; k < 4 && !c->rc; k++) {
        const jt_node_t *ct = key(c, r, keys[k]);
        if (!is_obj(ct)) continue;
        val_t f[9];
        bool any = false;
        for (int i = 0; i < 9; i++)
            any |= get_val(c, key(c, ct, fields[i]), &f[i]);
        pivot(c, "contact_name", &f[0]);
        pivot(c, "contact_street", &f[2]);
        pivot(c, "contact_phone", &f[7]);
        const char *emails;
        uint32_t nemails;
        each_value(c, key(c, ct, "email"), "email", NULL, roles[k], NULL, &emails, &nemails);
        if (!(any || nemails) || c->rc) continue;
        if (f[6].p && country_code(&f[6])) {
            char *low = copy(c, f[6].p, 2);
            if (!low) return;
            for (int i = 0; i < 2; i++)
                if (low[i] >= 'A' && low[i] <= 'Z') low[i] = (char)(low[i] - 'A' + 'a');
            f[6].p = low;
        }
        cell_t *row = row_add(c, T_CONTACTS);
        if (!row) return;
        set_text(&row[0], roles[k], (uint32_t)strlen(roles[k]));
        for (int i = 0; i < 9; i++)
            set_val(&row[1 + i], &f[i]);
        set_text(&row[10], emails, nemails);
    }
}

/* not_before/not_after: an integer YYYYMMDD becomes 'YYYY-MM-DD'; other text stays. */
static void ssl_date(norm_t *c, const jt_node_t *n, val_t *v) {
    int64_t x;
    if (get_int(c, n, &x) && x >= 10000101 && x <= 99991231) {
        char b[16];
        snprintf(b, sizeof(b), "%04d-%02d-%02d", (int)(x / 10000), (int)(x / 100 % 100),
                 (int)(x % 100));
        *v = (val_t){.p = copy(c, b, 10), .n = 10};
        if (!v->p) v->n = 0;
        return;
    }
    get_val(c, n, v);
}

static void ssl_row(norm_t *c, int64_t pos, const val_t *hash, const val_t *subject,
                    const val_t *org, const char *emails, uint32_t nemails, const val_t *cn,
                    const val_t *icn, const char *alt, uint32_t nalt, const val_t *nb,
                    const val_t *na, bool has_dur, int64_t dur) {
    cell_t *row = row_add(c, T_SSL);
    if (!row) return;
    set_int(&row[0], true, pos);
    set_val(&row[1], hash);
    set_val(&row[2], subject);
    set_val(&row[3], org);
    set_text(&row[4], emails, nemails);
    set_val(&row[5], cn);
    set_val(&row[6], icn);
    set_text(&row[7], alt, nalt);
    set_val(&row[8], nb);
    set_val(&row[9], na);
    set_int(&row[10], has_dur, dur);
}

static void do_ssl(norm_t *c, const jt_node_t *r) {
    iter_t it;
    it_init(&it, key(c, r, "ssl_info"));
    int64_t pos = 0;
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        if (!is_obj(e)) continue;
        val_t hash, subj, org, cn, icn, nb, na;
        bool any = get_val(c, key(c, e, "hash"), &hash);
        any |= get_val(c, key(c, e, "subject"), &subj);
        any |= get_val(c, key(c, e, "organization"), &org);
        any |= get_val(c, key(c, e, "common_name"), &cn);
        any |= get_val(c, key(c, e, "issuer_common_name"), &icn);
        ssl_date(c, key(c, e, "not_before"), &nb);
        ssl_date(c, key(c, e, "not_after"), &na);
        any |= nb.p || na.p;
        int64_t dur = 0;
        bool has_dur = get_int(c, key(c, e, "duration"), &dur);
        pivot(c, "ssl_hash", &hash);
        pivot(c, "ssl_subject", &subj);
        pivot(c, "ssl_org", &org);
        pivot(c, "ssl_common_name", &cn);
        pivot(c, "ssl_issuer_common_name", &icn);
        const char *emails, *alt;
        uint32_t nemails, nalt;
        /* Iris' `email` search covers certificate emails too: linked under both */
        each_value(c, key(c, e, "email"), "ssl_email", "email", "ssl", NULL, &emails, &nemails);
        each_value(c, key(c, e, "alt_names"), "ssl_alt_names", NULL, NULL, NULL, &alt, &nalt);
        if (!(any || has_dur || nemails || nalt) || c->rc) continue;
        ssl_row(c, pos++, &hash, &subj, &org, emails, nemails, &cn, &icn, alt, nalt, &nb, &na,
                has_dur, dur);
    }
    /* Legacy /v1/iris: flat ssl_hash, ssl_org and ssl_email (a string or a list); in
     * Investigate, ssl_email is the list of every certificate's emails. */
    val_t hash, org, none = {0};
    get_val(c, key(c, r, "ssl_hash"), &hash);
    get_val(c, key(c, r, "ssl_org"), &org);
    pivot(c, "ssl_hash", &hash);
    pivot(c, "ssl_org", &org);
    const char *emails;
    uint32_t nemails;
    each_value(c, key(c, r, "ssl_email"), "ssl_email", "email", "ssl", NULL, &emails, &nemails);
    if ((hash.p || org.p) && !c->rc)
        ssl_row(c, pos, &hash, &none, &org, emails, nemails, &none, &none, NULL, 0, &none, &none,
                false, 0);
}

static void do_tracking(norm_t *c, const jt_node_t *r) {
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
        if (!get_val(c, key(c, r, single[i][0]), &v)) continue;
        pivot(c, single[i][1], &v);
        text_row(c, T_TRACK, single[i][1], &v);
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        each_value(c, key(c, r, lists[i][0]), lists[i][1], NULL, NULL, lists[i][1], NULL, NULL);
}

static void do_tags(norm_t *c, const jt_node_t *r) {
    iter_t it;
    it_init(&it, key(c, r, "tags"));
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        val_t label, scope, at;
        bool obj = is_obj(e) && !key(c, e, "value");
        if (!get_val(c, obj ? key(c, e, "label") : e, &label)) continue;
        get_val(c, key(c, e, "scope"), &scope);
        get_val(c, key(c, e, "tagged_at"), &at);
        cell_t *row = row_add(c, T_TAGS);
        if (!row) return;
        set_val(&row[0], &label);
        set_val(&row[1], &scope);
        set_val(&row[2], &at);
    }
}

static void risk_row(norm_t *c, const char *name, uint32_t nlen, bool has, int64_t score,
                     const char *ev, uint32_t nev, const char *th, uint32_t nth) {
    obs_t *o = c->o;
    for (int i = 0; i < NRISK; i++)
        if (has && strlen(ig_risk_names[i]) == nlen && memcmp(ig_risk_names[i], name, nlen) == 0) {
            o->rhas[i] = true;
            o->rscore[i] = score;
        }
    cell_t *row = row_add(c, T_RISK);
    if (!row) return;
    set_text(&row[0], name, nlen);
    set_int(&row[1], has, score);
    set_text(&row[2], ev, nev);
    set_text(&row[3], th, nth);
}

static void do_risk(norm_t *c, const jt_node_t *r) {
    iter_t it;
    it_init(&it, key(c, key(c, r, "domain_risk"), "components"));
    for (const jt_node_t *e; (e = it_next(c, &it));) {
        val_t name;
        if (!is_obj(e) || !get_val(c, key(c, e, "name"), &name)) continue;
        int64_t x = 0;
        bool has = get_int(c, key(c, e, "risk_score"), &x);
        const char *ev, *th;
        uint32_t nev, nth;
        each_value(c, key(c, e, "evidence"), NULL, NULL, NULL, NULL, &ev, &nev);
        each_value(c, key(c, e, "threats"), NULL, NULL, NULL, NULL, &th, &nth);
        risk_row(c, name.p, name.n, has, x, ev, nev, th, nth);
    }
    /* Legacy: threat_profile {proximity, spam, malware, evidence}. */
    const jt_node_t *tp = key(c, r, "threat_profile");
    if (is_obj(tp)) {
        static const char *const legacy[][2] = {{"proximity", "proximity"},
                                                {"spam", "threat_profile_spam"},
                                                {"malware", "threat_profile_malware"}};
        const char *ev;
        uint32_t nev;
        each_value(c, key(c, tp, "evidence"), NULL, NULL, NULL, NULL, &ev, &nev);
        for (int i = 0; i < 3; i++) {
            int64_t x;
            if (get_int(c, key(c, tp, legacy[i][0]), &x))
                risk_row(c, legacy[i][1], (uint32_t)strlen(legacy[i][1]), true, x, ev, nev, NULL,
                         0);
        }
    }
}

/* ---- the vendor's update time -------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *p, int n, int64_t *out) {
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS" (or a space for T), then an optional fraction and an optional "Z" or
 * "+00:00": the vendor writes UTC without a zone (iris-api.md 4.2). */
static bool parse_time(const val_t *v, int64_t *out) {
    const char *p = v->p;
    if (!p || v->n < 19) return false;
    int64_t Y, M, D, h, m, s;
    if (!digits(p, 4, &Y) || p[4] != '-' || !digits(p + 5, 2, &M) || p[7] != '-' ||
        !digits(p + 8, 2, &D) || (p[10] != 'T' && p[10] != ' ') || !digits(p + 11, 2, &h) ||
        p[13] != ':' || !digits(p + 14, 2, &m) || p[16] != ':' || !digits(p + 17, 2, &s))
        return false;
    uint32_t i = 19;
    if (i < v->n && p[i] == '.')
        for (i++; i < v->n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
    if (i < v->n && (p[i] == 'Z' || (v->n - i == 6 && !memcmp(p + i, "+00:00", 6))))
        i = v->n;
    if (i != v->n) return false;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
        return false;
    *out = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + s;
    return true;
}

/* ---- one result ---------------------------------------------------------------------------- */

int ig_normalize(const jt_doc_t *doc, const jt_node_t *r, obs_t *o, arena_t *a, long *budget,
                 char *err, size_t errlen) {
    for (int t = 0; t < NTABLES; t++)
        o->rows[t].nrows = 0;
    o->npv = 0;
    o->has_risk = false;
    o->has_time = false;
    memset(o->rhas, 0, sizeof(o->rhas));
    norm_t c = {.d = doc, .o = o, .a = a, .budget = budget, .err = err, .errlen = errlen};

    const jt_node_t *d = key(&c, r, "domain");
    uint32_t dn = d->nul ? (uint32_t)strnlen(d->s, d->n) : d->n;
    char *dom = copy(&c, d->s, dn);
    if (dom)
        for (uint32_t i = 0; i < dn; i++)
            if (dom[i] >= 'A' && dom[i] <= 'Z') dom[i] = (char)(dom[i] + 32);
    o->domain = dom;
    o->domain_len = dn;
    o->raw = r->s;
    o->raw_len = r->n;

    static const struct {
        int col;
        const char *key;
    } texts[] = {{D_TLD, "tld"},
                 {D_CREATE, "create_date"},
                 {D_EXPIRE, "expiration_date"},
                 {D_FIRST_SEEN, "first_seen"},
                 {D_REGISTRAR, "registrar"},
                 {D_RNAME, "registrant_name"},
                 {D_RORG, "registrant_org"},
                 {D_TITLE, "website_title"},
                 {D_SERVER, "server_type"},
                 {D_REDIRECT, "redirect"},
                 {D_RDOMAIN, "redirect_domain"},
                 {D_SPF, "spf_info"},
                 {D_UPDATED, "data_updated_timestamp"},
                 {D_WHOIS, "whois_url"}};
    val_t v[ND];
    memset(v, 0, sizeof(v));
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        get_val(&c, key(&c, r, texts[i].key), &v[texts[i].col]);
        set_val(&o->dom[texts[i].col], &v[texts[i].col]);
    }
    o->has_time = parse_time(&v[D_UPDATED], &o->time);
    int64_t x = 0;
    bool has = get_bool(&c, key(&c, r, "active"), &x);
    set_int(&o->dom[D_ACTIVE], has, x);
    has = get_int(&c, key(&c, r, "website_response"), &x);
    set_int(&o->dom[D_RESPONSE], has, x);
    has = get_int(&c, key(&c, r, "alexa"), &x);
    set_int(&o->dom[D_ALEXA], has, x);
    o->has_risk = get_int(&c, key(&c, key(&c, r, "domain_risk"), "risk_score"), &o->risk);
    if (!o->has_risk) o->has_risk = get_int(&c, key(&c, r, "risk_score"), &o->risk);
    set_int(&o->dom[D_RISK], o->has_risk, o->risk);
    double pop;
    if (get_real(&c, key(&c, r, "popularity_rank"), &pop))
        o->dom[D_POPULARITY] = (cell_t){.t = C_REAL, .r = pop};
    else
        o->dom[D_POPULARITY] = (cell_t){.t = C_NULL};

    /* registrar_status: a list of statuses; legacy answers put them in one string,
     * space-separated. */
    iter_t it;
    it_init(&it, key(&c, r, "registrar_status"));
    join_start(&c);
    for (const jt_node_t *e; (e = it_next(&c, &it));) {
        val_t s;
        if (!get_val(&c, e, &s)) continue;
        for (uint32_t i = 0; i < s.n;) {
            while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\n' || s.p[i] == '\r'))
                i++;
            uint32_t j = i;
            while (j < s.n && s.p[j] != ' ' && s.p[j] != '\t' && s.p[j] != '\n' && s.p[j] != '\r')
                j++;
            join_add(&c, s.p + i, j - i);
            i = j;
        }
    }
    const char *st;
    uint32_t stn;
    join_done(&c, &st, &stn);
    set_text(&o->dom[D_STATUS], st, stn);

    /* Single-valued pivots. */
    pivot(&c, "registrar", &v[D_REGISTRAR]);
    pivot(&c, "registrant", &v[D_RNAME]);
    pivot(&c, "registrant_org", &v[D_RORG]);
    pivot(&c, "redirect_domain", &v[D_RDOMAIN]);
    pivot(&c, "website_title", &v[D_TITLE]);
    pivot(&c, "server_type", &v[D_SERVER]);

    do_ips(&c, r);
    do_servers(&c, r, false);
    do_servers(&c, r, true);
    do_contacts(&c, r);
    /* Iris' `email` search covers DNS SOA emails too: linked under both */
    each_value(&c, key(&c, r, "soa_email"), "email_dns_soa", "email", "soa", NULL, NULL, NULL);
    each_value(&c, key(&c, r, "additional_whois_email"), "email", NULL, "additional_whois", NULL,
               NULL, NULL);
    each_value(&c, key(&c, r, "email_domain"), "email_domain", NULL, NULL, NULL, NULL, NULL);
    do_ssl(&c, r);
    do_tracking(&c, r);
    do_tags(&c, r);
    do_risk(&c, r);
    free(c.jb);
    return c.rc;
}

void ig_obs_free(obs_t *o) {
    for (int t = 0; t < NTABLES; t++)
        free(o->rows[t].cells);
    free(o->pv);
    memset(o, 0, sizeof(*o));
}

/* ---- history values ------------------------------------------------------------------------ */

typedef struct {
    arena_t *a;
    hvals_t *out;
    int rc;
} hv_t;

static void hv_add(hv_t *h, const char *attr, size_t alen, const char *p, size_t n) {
    if (h->rc || !p || !n) return;
    hvals_t *o = h->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        hval_t *v = realloc(o->v, cap * sizeof(*v));
        if (!v) {
            h->rc = IG_ENOMEM;
            return;
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = (hval_t){attr, (uint32_t)alen, p, (uint32_t)n};
}

/* A cell as the text history keeps (integers in decimal, reals as ig_fmt_num). */
static void hv_cell(hv_t *h, const char *attr, const cell_t *x) {
    char b[48];
    if (x->t == C_TEXT) {
        hv_add(h, attr, strlen(attr), x->p, x->n);
        return;
    }
    if (x->t == C_INT)
        snprintf(b, sizeof(b), "%lld", (long long)x->i);
    else if (x->t != C_REAL || !ig_fmt_num(x->r, b, sizeof(b)))
        return;
    size_t n = strlen(b);
    char *p = arena_alloc(h->a, n);
    if (!p) {
        h->rc = IG_ENOMEM;
        return;
    }
    memcpy(p, b, n);
    hv_add(h, attr, strlen(attr), p, n);
}

/* attr made of parts, in the arena */
static const char *hv_attr(hv_t *h, const char *a, const char *b, size_t bn, const char *c,
                           size_t *len) {
    size_t an = strlen(a), cn = strlen(c);
    char *p = arena_alloc(h->a, an + bn + cn + 1);
    if (!p) {
        h->rc = IG_ENOMEM;
        return NULL;
    }
    memcpy(p, a, an);
    memcpy(p + an, b, bn);
    memcpy(p + an + bn, c, cn);
    p[an + bn + cn] = '\0';
    *len = an + bn + cn;
    return p;
}

static int hv_cmp(const void *x, const void *y) {
    const hval_t *a = x, *b = y;
    size_t n = a->alen < b->alen ? a->alen : b->alen;
    int r = memcmp(a->attr, b->attr, n);
    if (r || a->alen != b->alen) return r ? r : (a->alen < b->alen ? -1 : 1);
    n = a->n < b->n ? a->n : b->n;
    r = memcmp(a->p, b->p, n);
    return r ? r : (a->n < b->n ? -1 : a->n > b->n);
}

const int ig_hist_cols[NHIST_COLS] = {D_TLD,      D_ACTIVE, D_CREATE,     D_EXPIRE,
                                      D_FIRST_SEEN, D_STATUS, D_RESPONSE,   D_SPF,
                                      D_POPULARITY, D_REDIRECT, D_RISK,     D_ALEXA};

int ig_hvals(const cell_t *dom, const rows_t *rows, arena_t *a, hvals_t *out) {
    hv_t h = {a, out, IG_OK};
    out->n = 0;
    for (size_t i = 0; i < NHIST_COLS; i++)
        hv_cell(&h, ig_domain_cols[ig_hist_cols[i]], &dom[ig_hist_cols[i]]);

    const rows_t *r = &rows[T_IPS];
    for (size_t i = 0; i < r->nrows; i++)
        hv_cell(&h, "ip.country_code", &r->cells[i * 6 + 4]);
    r = &rows[T_MX];
    for (size_t i = 0; i < r->nrows; i++) {
        const cell_t *row = &r->cells[i * 5];
        if (row[3].t != C_INT || row[1].t != C_TEXT) continue;
        char b[32];
        int k = snprintf(b, sizeof(b), "%lld ", (long long)row[3].i);
        char *p = arena_alloc(a, (size_t)k + row[1].n);
        if (!p) return IG_ENOMEM;
        memcpy(p, b, (size_t)k);
        memcpy(p + k, row[1].p, row[1].n);
        hv_add(&h, "mx.priority", 11, p, (size_t)k + row[1].n);
    }
    r = &rows[T_CONTACTS];
    static const struct {
        int col;
        const char *name;
    } cf[] = {{2, ".org"}, {4, ".city"}, {5, ".state"}, {6, ".postal"}, {7, ".country"}, {9, ".fax"}};
    for (size_t i = 0; i < r->nrows; i++) {
        const cell_t *row = &r->cells[i * 11];
        if (row[0].t != C_TEXT) continue;
        for (size_t k = 0; k < sizeof(cf) / sizeof(cf[0]); k++) {
            if (row[cf[k].col].t == C_NULL) continue;
            size_t len;
            const char *attr = hv_attr(&h, "", row[0].p, row[0].n, "_contact", &len);
            const char *full = attr ? hv_attr(&h, attr, "", 0, cf[k].name, &len) : NULL;
            if (full) hv_cell(&h, full, &row[cf[k].col]);
        }
    }
    r = &rows[T_SSL];
    for (size_t i = 0; i < r->nrows; i++) {
        const cell_t *row = &r->cells[i * 11];
        hv_cell(&h, "ssl_info.not_before", &row[8]);
        hv_cell(&h, "ssl_info.not_after", &row[9]);
        hv_cell(&h, "ssl_info.duration", &row[10]);
    }
    r = &rows[T_RISK];
    for (size_t i = 0; i < r->nrows; i++) {
        const cell_t *row = &r->cells[i * 4];
        if (row[0].t != C_TEXT) continue;
        size_t len;
        if (row[2].t != C_NULL) {
            const char *attr = hv_attr(&h, "domain_risk.", row[0].p, row[0].n, ".evidence", &len);
            if (attr) hv_cell(&h, attr, &row[2]);
        }
        if (row[3].t != C_NULL) {
            const char *attr = hv_attr(&h, "domain_risk.", row[0].p, row[0].n, ".threats", &len);
            if (attr) hv_cell(&h, attr, &row[3]);
        }
    }
    r = &rows[T_TAGS];
    for (size_t i = 0; i < r->nrows; i++)
        hv_cell(&h, "tags", &r->cells[i * 3]);
    if (h.rc) return h.rc;

    if (out->n > 1) qsort(out->v, out->n, sizeof(*out->v), hv_cmp);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++)
        if (!w || hv_cmp(&out->v[w - 1], &out->v[i])) out->v[w++] = out->v[i];
    out->n = w;
    return IG_OK;
}
