/* search.c — answers one Investigate or Enrich question from the synthetic world: base
 * (search) parameters, filters and shaping; intersects index lists, filters, sorts, cuts a
 * page and writes the vendor's envelope. Semantics (docs/fakeiris.md):
 *   - several base parameters are ANDed; a value no universe domain holds matches nothing;
 *   - domain= is answered in request order, duplicates dropped, malformed names listed in
 *     missing_domains, outside names profiled and checked like any other;
 *   - pivots answer universe domains only, ascending by index unless sort_by;
 *   - whois / historical_free_text: every word of the text (split at white space) occurs,
 *     ignoring case, in the domain's WHOIS text (whois_text.c); the world keeps no history,
 *     so the historical pivots search the current record;
 *   - domain= with a pivot: a named domain matches when its profile holds the value (by
 *     its rendering, so an outside domain matches values no universe domain holds);
 *   - search_hash: a deterministic pivot on one value of a domain chosen by the token;
 *   - *_within filters count from the world's fixed "now" (2025-10-01);
 *   - position: 32 hex digits, a hash of the question and the page offset, so a token of
 *     another question is a 400.
 * Keeps no state between calls; frees everything it allocates before returning.
 */
#include "world_int.h"

#include "irisgate/canon.h"
#include "irisgate/vendor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ALT 12
#define MAX_TERMS 64
#define PAGE_DEFAULT 500
#define PAGE_MAX 500

enum { T_STR, T_IP, T_INT, T_ASN, T_IANA, T_SHA1, T_PHONE, T_FREE, T_HASH };

typedef struct {
    const char *param;
    fi_kind_t kind;
    uint8_t type;
} base_def_t;

static const base_def_t bases[] = {
    {"ip", K_IP, T_IP},
    {"email", K_EMAIL, T_STR},
    {"email_domain", K_EMAIL_DOMAIN, T_STR},
    {"email_dns_soa", K_SOA_EMAIL, T_STR},
    {"registrant", K_REG_NAME, T_STR},
    {"historical_registrant", K_REG_NAME, T_STR},
    {"registrant_org", K_REG_ORG, T_STR},
    {"registrar", K_REGISTRAR, T_STR},
    {"iana_id", K_REGISTRAR, T_IANA},
    {"contact_name", K_C_NAME, T_STR},
    {"contact_phone", K_C_PHONE, T_PHONE},
    {"contact_street", K_C_STREET, T_STR},
    {"whois", K_COUNT, T_FREE},
    {"historical_free_text", K_COUNT, T_FREE},
    {"nameserver_host", K_NS_HOST, T_STR},
    {"nameserver_domain", K_NS_DOMAIN, T_STR},
    {"nameserver_ip", K_NS_IP, T_IP},
    {"mailserver_host", K_MX_HOST, T_STR},
    {"mailserver_domain", K_MX_DOMAIN, T_STR},
    {"mailserver_ip", K_MX_IP, T_IP},
    {"redirect_domain", K_REDIRECT_DOMAIN, T_STR},
    {"ssl_hash", K_SSL_HASH, T_SHA1},
    {"ssl_subject", K_SSL_SUBJECT, T_STR},
    {"ssl_email", K_SSL_EMAIL, T_STR},
    {"ssl_org", K_SSL_ORG, T_STR},
    {"ssl_common_name", K_SSL_CN, T_STR},
    {"ssl_alt_names", K_SSL_ALT, T_STR},
    {"ssl_duration", K_SSL_DURATION, T_INT},
    {"ssl_issuer_common_name", K_SSL_ISSUER, T_STR},
    {"google_analytics", K_GA, T_STR},
    {"google_analytics_4", K_GA4, T_STR},
    {"ga4", K_GA4, T_STR},
    {"google_tag_manager", K_GTM, T_STR},
    {"adsense", K_ADSENSE, T_STR},
    {"facebook", K_FB, T_STR},
    {"hotjar", K_HOTJAR, T_STR},
    {"baidu_analytics", K_BAIDU, T_STR},
    {"yandex_metrica", K_YANDEX, T_STR},
    {"matomo", K_MATOMO, T_STR},
    {"statcounter_project", K_SCP, T_STR},
    {"statcounter_security", K_SCS, T_STR},
    {"server_type", K_SERVER, T_STR},
    {"website_title", K_TITLE, T_STR},
    {"asn", K_ASN, T_ASN},
    {"isp_name", K_ISP, T_STR},
    {"search_hash", K_COUNT, T_HASH},
};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

/* How a term tests one profile (domain= questions). */
enum {
    M_IDS,   /* holds one of the (kind, id) alternatives */
    M_VALUE, /* holds a value of kind vk rendering as val (ignoring case) */
    M_TEXT   /* its WHOIS text holds the word val */
};

/* One base parameter (or one word of a free text): the values it accepts (any of) and their
 * domains in the universe. */
typedef struct {
    fi_kind_t k[MAX_ALT];
    uint32_t id[MAX_ALT];
    int nalt;
    uint8_t match;
    fi_kind_t vk;
    char val[512];
    size_t vlen;
    const uint32_t *list; /* ascending universe indices */
    uint32_t n;
    uint32_t *own; /* list when it had to be built (a union, a text search) */
} term_t;

typedef struct {
    int active; /* -1: any */
    int cd_op;  /* 0 none, 1 =, 2 >, 3 >=, 4 <, 5 <= */
    int32_t cd_day;
    bool has_cd_within;
    int32_t cd_from;
    bool has_exp;
    int32_t exp_day;
    bool has_fs_since, has_fs_within;
    int64_t fs_since, fs_from;
    const char *tld;
    size_t tld_len;
    uint32_t tld_id; /* FI_NONE: no universe domain has it */
    bool has_tld;
    bool has_any, has_all, has_not_any, has_not_all;
    uint16_t any, all, not_any, not_all;
    bool impossible;
    int risk_above; /* -1: none */
    bool has_ipcc;
    uint32_t ipcc;
    uint32_t rank_max; /* 0: none */
    bool has_updated;
    int64_t updated_from;
    bool has_ssl_na, has_ssl_nb;
    int32_t ssl_na, ssl_nb;
} filt_t;

typedef struct {
    const fi_world_t *w;
    const ig_params_t *p;
    ig_buf_t *out;
    int enrich;
    term_t terms[MAX_TERMS];
    int nterms;
    bool any_base;
    filt_t f;
    uint32_t page_size, offset;
    int sort; /* 0 none, 1 first_seen, 2 create_date, 3 domain, 4 risk */
    bool desc;
    bool next;
    unsigned rflags;
    uint64_t qhash;
    /* domain= */
    bool has_domains;
    char (*names)[256];
    size_t *name_len;
    uint32_t nnames;
    const char **missing;
    size_t *missing_len;
    uint32_t nmissing;
} q_t;

/* ---- small parsers ---- */

static const char *param(const q_t *q, const char *key, size_t *len) {
    const ig_param_t *f = ig_params_find(q->p, key);
    if (!f) return NULL;
    const char *s = f->val;
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return s;
}

static bool parse_u64(const char *s, size_t n, uint64_t *v) {
    if (!n || n > 18) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return true;
}

static bool parse_ip(const char *s, size_t n, char *canon) {
    uint32_t part = 0, parts = 0, digits = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!digits || part > 255) return false;
            parts++;
            part = digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
            part = part * 10 + (uint32_t)(s[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    if (parts != 4) return false;
    /* canonical form drops leading zeros */
    size_t at = 0;
    part = 0;
    digits = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            at += (size_t)snprintf(canon + at, 8, "%u%s", part, i == n ? "" : ".");
            part = 0;
        } else {
            part = part * 10 + (uint32_t)(s[i] - '0');
        }
    }
    return true;
}

static bool parse_date(const char *s, size_t n, int32_t *day) {
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    uint64_t y, m, d;
    if (!parse_u64(s, 4, &y) || !parse_u64(s + 5, 2, &m) || !parse_u64(s + 8, 2, &d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    *day = fi_days((int)y, (unsigned)m, (unsigned)d);
    return true;
}

/* RFC 3339 (Z or +00:00, optional fraction), a plain date, or negative relative seconds. */
static bool parse_time(const char *s, size_t n, int64_t *t) {
    if (n && s[0] == '-') {
        uint64_t v;
        if (!parse_u64(s + 1, n - 1, &v)) return false;
        *t = FI_NOW - (int64_t)v;
        return true;
    }
    int32_t day;
    if (n < 10 || !parse_date(s, 10, &day)) return false;
    *t = (int64_t)day * 86400;
    if (n == 10) return true;
    if (n < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return false;
    uint64_t hh, mm, ss;
    if (!parse_u64(s + 11, 2, &hh) || !parse_u64(s + 14, 2, &mm) || !parse_u64(s + 17, 2, &ss) ||
        hh > 23 || mm > 59 || ss > 60)
        return false;
    *t += (int64_t)(hh * 3600 + mm * 60 + ss);
    size_t i = 19;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i == n) return true;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) return true;
    if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':') {
        uint64_t oh, om;
        if (!parse_u64(s + i + 1, 2, &oh) || !parse_u64(s + i + 4, 2, &om)) return false;
        int64_t off = (int64_t)(oh * 3600 + om * 60);
        *t -= s[i] == '+' ? off : -off;
        return true;
    }
    return false;
}

static bool parse_bool(const char *s, size_t n, bool *v) {
    if ((n == 4 && strncasecmp(s, "true", 4) == 0) || (n == 1 && s[0] == '1')) {
        *v = true;
        return true;
    }
    if ((n == 5 && strncasecmp(s, "false", 5) == 0) || (n == 1 && s[0] == '0')) {
        *v = false;
        return true;
    }
    return false;
}

static bool flag(const q_t *q, const char *key, bool *bad) {
    size_t n;
    const char *s = param(q, key, &n);
    bool v = false;
    if (s && n && !parse_bool(s, n, &v)) *bad = true;
    return v;
}

/* ---- terms ---- */

static void term_add(term_t *t, fi_kind_t k, uint32_t id) {
    if (id == FI_NONE || t->nalt >= MAX_ALT) return;
    for (int i = 0; i < t->nalt; i++)
        if (t->k[i] == k && t->id[i] == id) return;
    t->k[t->nalt] = k;
    t->id[t->nalt] = id;
    t->nalt++;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The term's domain list: one index slice, the sorted union of several, or the domains a
 * word of free text finds. */
static int term_list(const fi_world_t *w, term_t *t) {
    if (t->match == M_TEXT) {
        int rc = fi_whois_word_domains(w, t->val, t->vlen, &t->own, &t->n);
        t->list = t->own;
        return rc;
    }
    if (t->nalt == 0) {
        t->list = NULL;
        t->n = 0;
        return IG_OK;
    }
    if (t->nalt == 1) {
        t->list = fi_list(w, t->k[0], t->id[0], &t->n);
        return IG_OK;
    }
    uint64_t total = 0;
    for (int i = 0; i < t->nalt; i++) {
        uint32_t n;
        fi_list(w, t->k[i], t->id[i], &n);
        total += n;
    }
    t->own = malloc((total ? total : 1) * sizeof(uint32_t));
    if (!t->own) return IG_ENOMEM;
    uint32_t at = 0;
    for (int i = 0; i < t->nalt; i++) {
        uint32_t n;
        const uint32_t *l = fi_list(w, t->k[i], t->id[i], &n);
        if (n) memcpy(t->own + at, l, n * sizeof(uint32_t));
        at += n;
    }
    qsort(t->own, at, sizeof(uint32_t), cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < at; i++)
        if (!u || t->own[u - 1] != t->own[i]) t->own[u++] = t->own[i];
    t->list = t->own;
    t->n = u;
    return IG_OK;
}

typedef struct {
    fi_kind_t k;
    uint32_t id;
} first_t;

static void first_of(void *ctx, fi_kind_t k, uint32_t id) {
    first_t *f = ctx;
    if (k == f->k && f->id == FI_NONE) f->id = id;
}

/* search_hash: an exported Iris search; here a deterministic pivot on one value of one
 * domain chosen by the token. */
static void term_search_hash(const fi_world_t *w, const char *s, size_t n, term_t *t) {
    static const fi_kind_t kinds[] = {K_IP,      K_NS_HOST,      K_REG_ORG, K_SSL_HASH,
                                      K_C_PHONE, K_EMAIL_DOMAIN, K_MX_HOST, K_GA4};
    uint64_t h = fi_hash_ci(s, n);
    fi_dom_t *d = malloc(sizeof(*d));
    if (!d) return;
    for (uint32_t a = 0; a < 64 && !t->nalt; a++) {
        fi_profile(w, (uint32_t)((h + a * 7919ULL) % w->n), d);
        first_t f = {kinds[(h >> 32 ^ a) % (sizeof(kinds) / sizeof(kinds[0]))], FI_NONE};
        fi_profile_pairs(w, d, first_of, &f);
        term_add(t, f.k, f.id);
    }
    free(d);
}

/* A pivot on one value of kind k: the id holding it in the universe (if any), and the
 * value itself for profiles outside it. */
static void lookup_into(const fi_world_t *w, fi_kind_t k, const char *s, size_t n, term_t *t) {
    term_add(t, k, fi_lookup(w, k, s, n));
    if (n >= sizeof(t->val)) return; /* longer than any value: matches nothing */
    t->match = M_VALUE;
    t->vk = k;
    memcpy(t->val, s, n);
    t->val[n] = '\0';
    t->vlen = n;
}

/* One word of a free-text pivot. */
static bool text_term(const char *s, size_t n, term_t *t) {
    if (n >= sizeof(t->val)) return false;
    t->match = M_TEXT;
    memcpy(t->val, s, n);
    t->val[n] = '\0';
    t->vlen = n;
    return true;
}

/* Fills the term of base parameter def from its value; false for a malformed value. */
static bool make_term(const fi_world_t *w, const base_def_t *def, const char *s, size_t n,
                      term_t *t) {
    char buf[512];
    uint64_t v;
    switch (def->type) {
    case T_IP:
        if (n > 15 || !parse_ip(s, n, buf)) return false;
        lookup_into(w, def->kind, buf, strlen(buf), t);
        return true;
    case T_INT:
        if (!parse_u64(s, n, &v) || v < 1) return false;
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
        lookup_into(w, def->kind, buf, strlen(buf), t);
        return true;
    case T_ASN:
        if (n > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) s += 2, n -= 2;
        if (!parse_u64(s, n, &v)) return false;
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
        lookup_into(w, def->kind, buf, strlen(buf), t);
        return true;
    case T_IANA:
        if (!parse_u64(s, n, &v)) return false;
        for (uint32_t r = 0; r < fi_nregistrars; r++)
            if (fi_registrars[r].iana == v) term_add(t, K_REGISTRAR, r);
        return true;
    case T_SHA1: {
        size_t m = 0;
        for (size_t i = 0; i < n && m < sizeof(buf) - 1; i++) {
            if (s[i] == ':') continue;
            char c = s[i];
            bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!hex) return false;
            buf[m++] = c;
        }
        if (m != 40) return false;
        lookup_into(w, def->kind, buf, m, t);
        return true;
    }
    case T_PHONE: {
        size_t m = 0;
        for (size_t i = 0; i < n && m < sizeof(buf) - 1; i++) {
            if (s[i] >= '0' && s[i] <= '9')
                buf[m++] = s[i];
            else if (!strchr("+.-() ", s[i]))
                return false;
        }
        if (m) lookup_into(w, def->kind, buf, m, t);
        return true;
    }
    case T_HASH:
        term_search_hash(w, s, n, t);
        return true;
    default:
        lookup_into(w, def->kind, s, n, t);
        return true;
    }
}

/* ---- filters ---- */

static uint16_t tag_mask(const char *s, size_t n, bool *unknown) {
    uint16_t m = 0;
    *unknown = false;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        if (b > a) {
            uint32_t t;
            for (t = 0; t < fi_ntags; t++)
                if (fi_eq_ci(fi_tags[t], strlen(fi_tags[t]), s + a, b - a)) break;
            if (t < fi_ntags)
                m |= (uint16_t)(1u << t);
            else
                *unknown = true;
        }
        i = j + 1;
    }
    return m;
}

static bool parse_filters(q_t *q) {
    filt_t *f = &q->f;
    memset(f, 0, sizeof(*f));
    f->active = -1;
    f->risk_above = -1;
    size_t n;
    const char *s;
    uint64_t v;
    bool b;
    if ((s = param(q, "active", &n)) && n) {
        if (!parse_bool(s, n, &b)) return false;
        f->active = b;
    }
    if ((s = param(q, "create_date", &n)) && n) {
        int op = 1;
        if (n > 1 && s[0] == '>' && s[1] == '=')
            op = 3, s += 2, n -= 2;
        else if (n > 1 && s[0] == '<' && s[1] == '=')
            op = 5, s += 2, n -= 2;
        else if (s[0] == '>')
            op = 2, s++, n--;
        else if (s[0] == '<')
            op = 4, s++, n--;
        if (!parse_date(s, n, &f->cd_day)) return false;
        f->cd_op = op;
    }
    if ((s = param(q, "create_date_within", &n)) && n) {
        if (!parse_u64(s, n, &v) || v > 100000) return false;
        f->has_cd_within = true;
        f->cd_from = FI_NOW_DAY - (int32_t)v;
    }
    if ((s = param(q, "expiration_date", &n)) && n) {
        if (!parse_date(s, n, &f->exp_day)) return false;
        f->has_exp = true;
    }
    if ((s = param(q, "first_seen_since", &n)) && n) {
        if (!parse_time(s, n, &f->fs_since)) return false;
        f->has_fs_since = true;
    }
    if ((s = param(q, "first_seen_within", &n)) && n) {
        if (!parse_u64(s, n, &v) || v < 1) return false;
        f->has_fs_within = true;
        f->fs_from = FI_NOW - (int64_t)v;
    }
    if ((s = param(q, "tld", &n)) && n) {
        while (n && s[0] == '.')
            s++, n--;
        f->has_tld = true;
        f->tld = s;
        f->tld_len = n;
        f->tld_id = FI_NONE;
        for (uint32_t t = 0; t < fi_ntlds; t++)
            if (fi_eq_ci(fi_tlds[t].s, strlen(fi_tlds[t].s), s, n)) f->tld_id = t;
    }
    bool unknown;
    if ((s = param(q, "tagged_with_any", &n)) && n) {
        f->has_any = true;
        f->any = tag_mask(s, n, &unknown);
    }
    if ((s = param(q, "tagged_with_all", &n)) && n) {
        f->has_all = true;
        f->all = tag_mask(s, n, &unknown);
        if (unknown) f->impossible = true;
    }
    if ((s = param(q, "not_tagged_with_any", &n)) && n) {
        if (n > 512) return false;
        f->has_not_any = true;
        f->not_any = tag_mask(s, n, &unknown);
    }
    if ((s = param(q, "not_tagged_with_all", &n)) && n) {
        if (n > 512) return false;
        f->has_not_all = true;
        f->not_all = tag_mask(s, n, &unknown);
        if (unknown) f->has_not_all = false; /* no domain carries an unknown tag */
    }
    if ((s = param(q, "risk_score", &n)) && n) {
        if (!parse_u64(s, n, &v) || v > 100) return false;
        f->risk_above = (int)v;
    }
    if ((s = param(q, "ip_country_code", &n)) && n) {
        if (n != 2) return false;
        char cc[3] = {(char)(s[0] | 0x20), (char)(s[1] | 0x20), 0};
        if (cc[0] < 'a' || cc[0] > 'z' || cc[1] < 'a' || cc[1] > 'z') return false;
        f->has_ipcc = true;
        f->ipcc = FI_NONE;
        for (uint32_t c = 1; c < fi_ncountries; c++)
            if (strcmp(fi_countries[c], cc) == 0) f->ipcc = c;
        if (f->ipcc == FI_NONE) f->impossible = true;
    }
    if ((s = param(q, "rank", &n)) && n) {
        if (!parse_u64(s, n, &v) || v < 1 || v > UINT32_MAX) return false;
        f->rank_max = (uint32_t)v;
    }
    if ((s = param(q, "data_updated_after", &n)) && n) {
        int32_t day;
        if (!parse_date(s, n, &day)) return false;
        f->has_updated = true;
        f->updated_from = (int64_t)day * 86400;
    }
    if ((s = param(q, "ssl_not_after", &n)) && n) {
        if (!parse_date(s, n, &f->ssl_na)) return false;
        f->has_ssl_na = true;
    }
    if ((s = param(q, "ssl_not_before", &n)) && n) {
        if (!parse_date(s, n, &f->ssl_nb)) return false;
        f->has_ssl_nb = true;
    }
    return true;
}

static bool filt_needs_profile(const filt_t *f) {
    return f->has_ipcc || f->has_ssl_na || f->has_ssl_nb;
}

static bool filt_any(const filt_t *f) {
    return f->active >= 0 || f->cd_op || f->has_cd_within || f->has_exp || f->has_fs_since ||
           f->has_fs_within || f->has_tld || f->has_any || f->has_all || f->has_not_any ||
           f->has_not_all || f->impossible || f->risk_above >= 0 || f->has_ipcc || f->rank_max ||
           f->has_updated || f->has_ssl_na || f->has_ssl_nb;
}

typedef struct {
    bool active;
    int32_t create, expire;
    int64_t first, updated;
    uint32_t risk, rank;
    uint16_t tags;
} facts_t;

static bool filt_facts(const filt_t *f, const facts_t *x) {
    if (f->impossible) return false;
    if (f->active >= 0 && x->active != (f->active == 1)) return false;
    switch (f->cd_op) {
    case 1:
        if (x->create != f->cd_day) return false;
        break;
    case 2:
        if (x->create <= f->cd_day) return false;
        break;
    case 3:
        if (x->create < f->cd_day) return false;
        break;
    case 4:
        if (x->create >= f->cd_day) return false;
        break;
    case 5:
        if (x->create > f->cd_day) return false;
        break;
    default:
        break;
    }
    if (f->has_cd_within && x->create < f->cd_from) return false;
    if (f->has_exp && x->expire != f->exp_day) return false;
    if (f->has_fs_since && x->first <= f->fs_since) return false;
    if (f->has_fs_within && x->first < f->fs_from) return false;
    if (f->has_any && !(x->tags & f->any)) return false;
    if (f->has_all && (x->tags & f->all) != f->all) return false;
    if (f->has_not_any && (x->tags & f->not_any)) return false;
    if (f->has_not_all && f->not_all && (x->tags & f->not_all) == f->not_all) return false;
    if (f->risk_above >= 0 && (int)x->risk <= f->risk_above) return false;
    if (f->rank_max && (!x->rank || x->rank > f->rank_max)) return false;
    if (f->has_updated && x->updated < f->updated_from) return false;
    return true;
}

static bool filt_profile(const fi_world_t *w, const filt_t *f, const fi_dom_t *d) {
    if (f->has_ipcc) {
        bool ok = false;
        for (uint8_t j = 0; j < d->nip; j++)
            ok |= w->ip_cc[d->ip[j]] == f->ipcc;
        if (!ok) return false;
    }
    if (f->has_ssl_na || f->has_ssl_nb) {
        bool ok = false;
        for (uint8_t j = 0; j < d->nssl; j++) {
            fi_cert_t c;
            fi_cert(w, d->ssl[j].cert, &c);
            ok |= (!f->has_ssl_na || c.not_after == f->ssl_na) &&
                  (!f->has_ssl_nb || c.not_before == f->ssl_nb);
        }
        if (!ok) return false;
    }
    if (f->has_tld && !fi_eq_ci(d->tld, d->tld_len, f->tld, f->tld_len)) return false;
    return true;
}

static void facts_of_profile(const fi_dom_t *d, facts_t *x) {
    x->active = d->active;
    x->create = d->create_day;
    x->expire = d->expire_day;
    x->first = d->first_seen;
    x->updated = d->updated_ms / 1000;
    x->risk = d->risk;
    x->rank = d->rank;
    x->tags = d->tags;
}

/* Universe domain i against the filters: columns first, the profile only when needed. */
static bool filt_index(const fi_world_t *w, const filt_t *f, uint32_t i, fi_dom_t *scratch) {
    facts_t x = {.active = (w->d_flags[i] & FI_DF_ACTIVE) != 0,
                 .create = FI_DAY_1985 + w->d_create[i],
                 .expire = FI_DAY_1985 + w->d_expire[i],
                 .first = w->d_first[i],
                 .updated = w->d_updated[i],
                 .risk = w->d_risk[i],
                 .rank = w->d_rank[i],
                 .tags = w->d_tags[i]};
    if (!filt_facts(f, &x)) return false;
    if (f->has_tld && (f->tld_id == FI_NONE || w->d_tld[i] != f->tld_id)) return false;
    if (filt_needs_profile(f)) {
        fi_profile(w, i, scratch);
        return filt_profile(w, f, scratch);
    }
    return true;
}

/* ---- the question ---- */

static uint64_t question_hash(const q_t *q) {
    uint64_t h = 0x51ab1e5ULL ^ (uint64_t)q->enrich;
    for (size_t i = 0; i < q->p->n; i++) {
        const ig_param_t *pp = &q->p->v[i];
        if (ig_canon_ignored(pp->key) || ig_params_find(q->p, pp->key) != pp) continue;
        /* a position is good for any page size and any format of the same question */
        if (!strcmp(pp->key, "position") || !strcmp(pp->key, "next") ||
            !strcmp(pp->key, "page_size") || !strcmp(pp->key, "format"))
            continue;
        h += fi_mix64(fi_hash_ci(pp->key, strlen(pp->key)) * 31 +
                      fi_hash_ci(pp->val, strlen(pp->val)));
    }
    return fi_mix64(h);
}

static void token(const q_t *q, uint32_t offset, char out[33]) {
    static const char hx[] = "0123456789abcdef";
    uint64_t a = fi_mix64(q->qhash ^ q->w->seed);
    uint64_t b = (uint64_t)offset ^ fi_mix64(q->qhash + 0x706f73ULL);
    for (int i = 0; i < 16; i++) {
        out[i] = hx[(a >> (60 - 4 * i)) & 15];
        out[16 + i] = hx[(b >> (60 - 4 * i)) & 15];
    }
    out[32] = '\0';
}

static bool untoken(const q_t *q, const char *s, size_t n, uint32_t *offset) {
    if (n != 32) return false;
    uint64_t v[2] = {0, 0};
    for (size_t i = 0; i < 32; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
    }
    if (v[0] != fi_mix64(q->qhash ^ q->w->seed)) return false;
    uint64_t off = v[1] ^ fi_mix64(q->qhash + 0x706f73ULL);
    if (off > UINT32_MAX) return false;
    *offset = (uint32_t)off;
    return true;
}

static bool valid_name(const char *s, size_t n) {
    if (n < 4 || n > 253 || s[0] == '-' || s[0] == '.') return false;
    size_t label = 0, labels = 0, last = 0;
    bool alpha_last = true;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0 || label > 63) return false;
            labels++;
            last = label;
            label = 0;
            if (i < n) alpha_last = true;
            continue;
        }
        char c = s[i];
        bool alpha = c >= 'a' && c <= 'z';
        if (!alpha && !(c >= '0' && c <= '9') && c != '-') return false;
        if (!alpha) alpha_last = false;
        label++;
    }
    return labels >= 2 && last >= 2 && alpha_last;
}

/* domain=: splits, lower-cases, validates and de-duplicates; false past 100 names. */
static int parse_domains(q_t *q, const char *s, size_t n) {
    uint32_t items = 0;
    for (size_t i = 0; i < n; i++)
        items += s[i] == ',';
    items++;
    if (items > 4 * IG_MAX_DOMAINS) return IG_ETOOBIG;
    q->names = malloc(items * sizeof(*q->names));
    q->name_len = malloc(items * sizeof(size_t));
    q->missing = malloc(items * sizeof(char *));
    q->missing_len = malloc(items * sizeof(size_t));
    if (!q->names || !q->name_len || !q->missing || !q->missing_len) return IG_ENOMEM;
    uint32_t count = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (s[a] == ' ' || s[a] == '\t'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        i = j + 1;
        if (b == a) continue;
        if (++count > IG_MAX_DOMAINS) return IG_ETOOBIG;
        char low[256];
        size_t len = b - a;
        bool ok = len < sizeof(low);
        for (size_t k = 0; ok && k < len; k++) {
            char c = s[a + k];
            low[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        if (ok) {
            low[len] = '\0';
            ok = valid_name(low, len);
        }
        if (!ok) {
            q->missing[q->nmissing] = s + a;
            q->missing_len[q->nmissing++] = len;
            continue;
        }
        bool dup = false;
        for (uint32_t k = 0; k < q->nnames && !dup; k++)
            dup = q->name_len[k] == len && memcmp(q->names[k], low, len) == 0;
        if (dup) continue;
        memcpy(q->names[q->nnames], low, len + 1);
        q->name_len[q->nnames++] = len;
    }
    return count ? IG_OK : IG_EINVAL;
}

/* ---- matching ---- */

typedef struct {
    uint32_t *v; /* universe indices, or positions in names[] for domain= */
    uint32_t n, cap;
} vec_t;

static int vec_push(vec_t *v, uint32_t x) {
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 256;
        uint32_t *a = realloc(v->v, cap * sizeof(*a));
        if (!a) return IG_ENOMEM;
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return IG_OK;
}

static bool in_list(const uint32_t *l, uint32_t n, uint32_t x) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && l[lo] == x;
}

typedef struct {
    const fi_world_t *w;
    const term_t *t;
    bool found;
} vmatch_t;

static void vmatch_pair(void *ctx, fi_kind_t k, uint32_t id) {
    vmatch_t *m = ctx;
    if (m->found || k != m->t->vk) return;
    char buf[512];
    size_t n = fi_value(m->w, k, id, buf, sizeof(buf));
    m->found = fi_eq_ci(buf, n, m->t->val, m->t->vlen);
}

static bool term_holds(const fi_world_t *w, const term_t *t, const fi_dom_t *d) {
    if (t->match == M_TEXT) return fi_whois_word_in_profile(w, d, t->val, t->vlen);
    if (t->match == M_VALUE) {
        vmatch_t m = {w, t, false};
        fi_profile_pairs(w, d, vmatch_pair, &m);
        return m.found;
    }
    for (int a = 0; a < t->nalt; a++)
        if (fi_profile_has(w, d, t->k[a], t->id[a])) return true;
    return false;
}

/* Matches of a pivot: stops counting once past the cap (the answer is then limit_exceeded). */
static int match_pivot(q_t *q, vec_t *m, uint32_t cap, fi_dom_t *scratch) {
    const fi_world_t *w = q->w;
    int best = 0;
    for (int t = 0; t < q->nterms; t++) {
        if (!q->terms[t].n) return IG_OK;
        if (q->terms[t].n < q->terms[best].n) best = t;
    }
    const term_t *b = &q->terms[best];
    bool filters = filt_any(&q->f);
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t x = b->list[i];
        bool ok = true;
        for (int t = 0; t < q->nterms && ok; t++)
            if (t != best) ok = in_list(q->terms[t].list, q->terms[t].n, x);
        if (ok && filters) ok = filt_index(w, &q->f, x, scratch);
        if (!ok) continue;
        if (vec_push(m, x)) return IG_ENOMEM;
        if (m->n > cap) break;
    }
    return IG_OK;
}

static int match_domains(q_t *q, vec_t *m, fi_dom_t *d) {
    for (uint32_t i = 0; i < q->nnames; i++) {
        fi_profile_name(q->w, q->names[i], q->name_len[i], d);
        bool ok = true;
        for (int t = 0; t < q->nterms && ok; t++)
            ok = term_holds(q->w, &q->terms[t], d);
        if (ok && !q->enrich && filt_any(&q->f)) {
            facts_t x;
            facts_of_profile(d, &x);
            ok = filt_facts(&q->f, &x) && filt_profile(q->w, &q->f, d);
        }
        if (ok && vec_push(m, i)) return IG_ENOMEM;
    }
    return IG_OK;
}

/* ---- sorting ---- */

typedef struct {
    uint64_t key;
    uint32_t pos; /* position in the match list (its default order) */
    uint32_t x;
    const char *name;
} skey_t;

static int cmp_key(const void *a, const void *b, void *desc) {
    const skey_t *x = a, *y = b;
    int c;
    if (x->name)
        c = strcmp(x->name, y->name);
    else
        c = x->key < y->key ? -1 : x->key > y->key;
    if (*(const bool *)desc) c = -c;
    if (c) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int sort_matches(q_t *q, vec_t *m, fi_dom_t *d) {
    if (!q->sort || m->n < 2) return IG_OK;
    skey_t *k = malloc(m->n * sizeof(*k));
    char(*names)[64] = q->sort == 3 && !q->has_domains ? malloc((size_t)m->n * 64) : NULL;
    if (!k || (q->sort == 3 && !q->has_domains && !names)) {
        free(k);
        free(names);
        return IG_ENOMEM;
    }
    for (uint32_t i = 0; i < m->n; i++) {
        uint32_t x = m->v[i];
        k[i].pos = i;
        k[i].x = x;
        k[i].name = NULL;
        if (q->has_domains) {
            if (q->sort == 3) {
                k[i].name = q->names[x];
                continue;
            }
            fi_profile_name(q->w, q->names[x], q->name_len[x], d);
            k[i].key = q->sort == 1   ? (uint64_t)d->first_seen
                       : q->sort == 2 ? (uint64_t)(int64_t)d->create_day
                                      : d->risk;
            continue;
        }
        switch (q->sort) {
        case 1:
            k[i].key = q->w->d_first[x];
            break;
        case 2:
            k[i].key = q->w->d_create[x];
            break;
        case 3:
            fi_name(q->w, x, names[i]);
            k[i].name = names[i];
            break;
        default:
            k[i].key = q->w->d_risk[x];
            break;
        }
    }
    qsort_r(k, m->n, sizeof(*k), cmp_key, &q->desc);
    for (uint32_t i = 0; i < m->n; i++)
        m->v[i] = k[i].x;
    free(k);
    free(names);
    return IG_OK;
}

/* ---- the envelope ---- */

static void out_missing(const q_t *q, fi_out_t *o) {
    FI_OUT_LIT(o, "\"missing_domains\":[");
    for (uint32_t i = 0; i < q->nmissing; i++) {
        if (i) FI_OUT_LIT(o, ",");
        fi_out_str(o, q->missing[i], q->missing_len[i]);
    }
    FI_OUT_LIT(o, "]");
}

static void out_next(const q_t *q, fi_out_t *o, const char *tok) {
    ig_buf_t url = {0};
    int rc = ig_buf_puts(&url, "https://api.domaintools.com");
    if (!rc) rc = ig_buf_puts(&url, ig_endpoint_path(q->enrich ? IG_EP_ENRICH : IG_EP_INVESTIGATE));
    char sep = '?';
    for (size_t i = 0; !rc && i < q->p->n; i++) {
        const ig_param_t *pp = &q->p->v[i];
        if (ig_canon_ignored(pp->key) || ig_params_find(q->p, pp->key) != pp ||
            !strcmp(pp->key, "position"))
            continue;
        rc = ig_buf_putc(&url, sep);
        sep = '&';
        if (!rc) rc = ig_url_encode(&url, pp->key, pp->key_len);
        if (!rc) rc = ig_buf_putc(&url, '=');
        if (!rc) rc = ig_url_encode(&url, pp->val, pp->val_len);
    }
    if (!rc) rc = ig_buf_printf(&url, "%cposition=%s", sep, tok);
    if (rc) {
        o->rc = rc;
    } else {
        FI_OUT_LIT(o, ",\"next\":");
        fi_out_str(o, url.data, url.len);
    }
    ig_buf_free(&url);
}

static int answer_limit(const q_t *q, ig_buf_t *out) {
    return ig_buf_printf(out,
                         "{\"response\":{\"limit_exceeded\":true,\"has_more_results\":true,"
                         "\"message\":\"Maximum %u returned - you may need to refine your "
                         "query.\",\"error\":{\"code\":413,\"message\":\"More than %u matched - "
                         "you may need to refine your query.\"},\"missing_domains\":[]}}",
                         q->w->max_results, q->w->max_results);
}

static int render(q_t *q, const vec_t *m, fi_dom_t *d) {
    fi_out_t o = {q->out, 0};
    uint32_t total = m->n;
    uint32_t from = q->offset < total ? q->offset : total;
    uint32_t to = q->enrich ? total : (from + q->page_size < total ? from + q->page_size : total);
    bool more = to < total;
    if (q->enrich) {
        FI_OUT_LIT(&o, "{\"response\":{\"limit_exceeded\":false,\"message\":\"Enjoy your data.\","
                       "\"results_count\":");
        fi_out_u64(&o, to - from);
    } else {
        FI_OUT_LIT(&o, "{\"response\":{\"limit_exceeded\":false,\"has_more_results\":");
        if (more)
            FI_OUT_LIT(&o, "true,\"message\":\"There is more data for you to enjoy.\"");
        else
            FI_OUT_LIT(&o, "false,\"message\":\"Enjoy your data.\"");
        FI_OUT_LIT(&o, ",\"results_count\":");
        fi_out_u64(&o, to - from);
        FI_OUT_LIT(&o, ",\"total_count\":");
        fi_out_u64(&o, total);
        if (more) {
            char tok[33];
            token(q, to, tok);
            FI_OUT_LIT(&o, ",\"position\":\"");
            fi_out_raw(&o, tok, 32);
            FI_OUT_LIT(&o, "\"");
            if (q->next) out_next(q, &o, tok);
        }
    }
    FI_OUT_LIT(&o, ",\"results\":[");
    if (!o.rc) o.rc = ig_buf_reserve(q->out, (size_t)(to - from) * 6000);
    for (uint32_t i = from; i < to && !o.rc; i++) {
        if (i > from) FI_OUT_LIT(&o, ",");
        if (q->has_domains)
            fi_profile_name(q->w, q->names[m->v[i]], q->name_len[m->v[i]], d);
        else
            fi_profile(q->w, m->v[i], d);
        fi_render_result(q->w, d, q->rflags, &o);
    }
    FI_OUT_LIT(&o, "],");
    out_missing(q, &o);
    FI_OUT_LIT(&o, "}}");
    return o.rc;
}

static int bad(ig_buf_t *out, int *status) {
    *status = 400;
    ig_buf_reset(out);
    return ig_vendor_error(out, 400, IG_MSG_MALFORMED);
}

static int run(q_t *q, int *status) {
    const fi_world_t *w = q->w;
    size_t n;
    const char *s;
    bool badflag = false;
    *status = 200;

    if (flag(q, "parsed_whois", &badflag)) q->rflags |= FI_R_PARSED_WHOIS;
    if (flag(q, "parsed_domain_rdap", &badflag)) q->rflags |= FI_R_PARSED_RDAP;
    if (q->enrich) q->rflags |= FI_R_ENRICH;
    if (badflag) return bad(q->out, status);

    if ((s = param(q, "domain", &n)) && n) {
        int rc = parse_domains(q, s, n);
        if (rc == IG_ENOMEM) return rc;
        if (rc) return bad(q->out, status);
        q->has_domains = true;
        q->any_base = true;
    }
    if (q->enrich) {
        if (!q->has_domains) return bad(q->out, status);
    } else {
        for (size_t b = 0; b < NBASES; b++) {
            if (!(s = param(q, bases[b].param, &n)) || !n) continue;
            q->any_base = true;
            if (bases[b].type == T_FREE) {
                for (size_t i = 0; i < n;) {
                    while (i < n && (s[i] == ' ' || s[i] == '\t'))
                        i++;
                    size_t j = i;
                    while (j < n && s[j] != ' ' && s[j] != '\t')
                        j++;
                    if (j == i) break;
                    if (q->nterms == MAX_TERMS || !text_term(s + i, j - i, &q->terms[q->nterms++]))
                        return bad(q->out, status);
                    i = j;
                }
                continue;
            }
            if (q->nterms == MAX_TERMS) return bad(q->out, status);
            term_t *t = &q->terms[q->nterms++];
            if (!make_term(w, &bases[b], s, n, t)) return bad(q->out, status);
        }
        if (!q->any_base) return bad(q->out, status);
        if (!parse_filters(q)) return bad(q->out, status);
        q->page_size = PAGE_DEFAULT;
        if ((s = param(q, "page_size", &n))) {
            uint64_t v;
            if (!parse_u64(s, n, &v) || v < 1 || v > PAGE_MAX) return bad(q->out, status);
            q->page_size = (uint32_t)v;
        }
        if ((s = param(q, "sort_by", &n)) && n) {
            static const char *const sorts[] = {"first_seen_since", "create_date", "domain",
                                                "risk_score"};
            for (int i = 0; i < 4; i++)
                if (n == strlen(sorts[i]) && memcmp(s, sorts[i], n) == 0) q->sort = i + 1;
            if (!q->sort) return bad(q->out, status);
        }
        if ((s = param(q, "sort_direction", &n)) && n) {
            if (n == 3 && memcmp(s, "dsc", 3) == 0)
                q->desc = true;
            else if (!(n == 3 && memcmp(s, "asc", 3) == 0))
                return bad(q->out, status);
        }
        q->next = flag(q, "next", &badflag);
        if (badflag) return bad(q->out, status);
        q->qhash = question_hash(q);
        if ((s = param(q, "position", &n)) && n && !untoken(q, s, n, &q->offset))
            return bad(q->out, status);
    }
    /* domain= questions test each named profile instead (match_domains) */
    for (int t = 0; t < q->nterms && !q->has_domains; t++)
        if (term_list(w, &q->terms[t])) return IG_ENOMEM;

    fi_dom_t *d = malloc(sizeof(*d));
    vec_t m = {0};
    int rc = d ? IG_OK : IG_ENOMEM;
    if (!rc) rc = q->has_domains ? match_domains(q, &m, d) : match_pivot(q, &m, w->max_results, d);
    if (!rc && !q->has_domains && m.n > w->max_results) {
        rc = answer_limit(q, q->out);
    } else if (!rc) {
        if (q->offset && q->offset >= m.n) {
            rc = bad(q->out, status);
        } else {
            rc = sort_matches(q, &m, d);
            if (!rc) rc = render(q, &m, d);
        }
    }
    free(m.v);
    free(d);
    return rc;
}

int fi_world_answer(fi_world_t *w, int enrich, const ig_params_t *params, ig_buf_t *out,
                    int *status) {
    q_t *q = calloc(1, sizeof(*q));
    if (!q) return IG_ENOMEM;
    q->w = w;
    q->p = params;
    q->out = out;
    q->enrich = enrich;
    int rc = run(q, status);
    for (int t = 0; t < q->nterms; t++)
        free(q->terms[t].own);
    free(q->names);
    free(q->name_len);
    free(q->missing);
    free(q->missing_len);
    free(q);
    return rc;
}
