/* world_values.c — the value spaces of the synthetic world: what string (or integer) an id
 * of each kind stands for, the contact identities, the certificates and the mailboxes.
 *
 * Every space is either a fixed table, an interned table built with the world, or a pure
 * function of (seed, id). Each is injective — two ids never render the same string
 * (ignoring case) — so a count per id is a count per value; the world's lookup build
 * checks it. Never allocates; renders into the caller's buffer (cap >= 512).
 */
#include "world_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const fi_kind_info_t fi_kinds[K_COUNT] = {
    [K_IP] = {"ip", 1, 0},
    [K_ASN] = {"asn", 1, 1},
    [K_ISP] = {"isp", 1, 0},
    [K_IPCC] = {"ip_country_code", 0, 0},
    [K_EMAIL] = {"email", 1, 0},
    [K_EMAIL_DOMAIN] = {"email_domain", 1, 0},
    [K_SOA_EMAIL] = {"email_dns_soa", 1, 0},
    [K_SSL_EMAIL] = {"ssl_email", 1, 0},
    [K_REG_NAME] = {"registrant", 1, 0},
    [K_REG_ORG] = {"registrant_org", 1, 0},
    [K_REGISTRAR] = {"registrar", 1, 0},
    [K_C_NAME] = {"contact_name", 1, 0},
    [K_C_ORG] = {"contact_org", 1, 0},
    [K_C_STREET] = {"contact_street", 1, 0},
    [K_C_CITY] = {"contact_city", 1, 0},
    [K_C_STATE] = {"contact_state", 1, 0},
    [K_C_POSTAL] = {"contact_postal", 1, 0},
    [K_C_COUNTRY] = {"contact_country", 1, 0},
    [K_C_PHONE] = {"contact_phone", 1, 0},
    [K_C_FAX] = {"contact_fax", 1, 0},
    [K_NS_HOST] = {"nameserver_host", 1, 0},
    [K_NS_DOMAIN] = {"nameserver_domain", 1, 0},
    [K_NS_IP] = {"nameserver_ip", 1, 0},
    [K_MX_HOST] = {"mailserver_host", 1, 0},
    [K_MX_DOMAIN] = {"mailserver_domain", 1, 0},
    [K_MX_IP] = {"mailserver_ip", 1, 0},
    [K_REDIRECT] = {"redirect", 0, 0},
    [K_REDIRECT_DOMAIN] = {"redirect_domain", 1, 0},
    [K_SSL_HASH] = {"ssl_hash", 1, 0},
    [K_SSL_SUBJECT] = {"ssl_subject", 1, 0},
    [K_SSL_ORG] = {"ssl_org", 1, 0},
    [K_SSL_CN] = {"ssl_common_name", 1, 0},
    [K_SSL_ALT] = {"ssl_alt_names", 1, 0},
    [K_SSL_ISSUER] = {"ssl_issuer_common_name", 1, 0},
    [K_SSL_DURATION] = {"ssl_duration", 1, 1},
    [K_SSL_NA] = {"ssl_not_after", 0, 1},
    [K_SSL_NB] = {"ssl_not_before", 0, 1},
    [K_CREATE] = {"create_date", 0, 0},
    [K_EXPIRE] = {"expiration_date", 0, 0},
    [K_GA] = {"google_analytics", 1, 0},
    [K_ADSENSE] = {"adsense", 1, 0},
    [K_GA4] = {"ga4", 1, 0},
    [K_GTM] = {"google_tag_manager", 1, 0},
    [K_FB] = {"facebook", 1, 0},
    [K_HOTJAR] = {"hotjar", 1, 0},
    [K_BAIDU] = {"baidu_analytics", 1, 0},
    [K_YANDEX] = {"yandex_metrica", 1, 0},
    [K_MATOMO] = {"matomo", 1, 0},
    [K_SCP] = {"statcounter_project", 1, 0},
    [K_SCS] = {"statcounter_security", 1, 0},
    [K_SERVER] = {"server_type", 1, 0},
    [K_TITLE] = {"website_title", 1, 0},
};

uint32_t fi_skew(fi_rng_t *r, uint32_t n, double k) {
    double u = fi_unit(r), p;
    if (k == 1.0)
        p = u;
    else if (k == 1.5)
        p = u * sqrt(u);
    else if (k == 2.0)
        p = u * u;
    else if (k == 2.5)
        p = u * u * sqrt(u);
    else if (k == 3.0)
        p = u * u * u;
    else
        p = pow(u, k);
    uint32_t v = (uint32_t)(p * (double)n);
    return v >= n ? n - 1 : v;
}

uint32_t fi_perm(const fi_world_t *w, uint32_t x) {
    return (uint32_t)(((uint64_t)x * w->perm_a + w->perm_b) % w->n);
}

/* ---- small formatting helpers ---- */

static size_t put(char *buf, size_t at, size_t cap, const char *s) {
    size_t n = strlen(s);
    if (at + n >= cap) n = at < cap ? cap - 1 - at : 0;
    memcpy(buf + at, s, n);
    buf[at + n] = '\0';
    return at + n;
}

static size_t put_u64(char *buf, size_t at, size_t cap, uint64_t v) {
    char t[24];
    int k = 0;
    do {
        t[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k && at + 1 < cap)
        buf[at++] = t[--k];
    buf[at] = '\0';
    return at;
}

static size_t put_hex(char *buf, size_t at, size_t cap, uint64_t v, int digits) {
    static const char hx[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0 && at + 1 < cap; i--)
        buf[at++] = hx[(v >> (4 * i)) & 15];
    buf[at] = '\0';
    return at;
}

static size_t put_lower(char *buf, size_t at, size_t cap, const char *s) {
    for (; *s && at + 1 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c == ' ') continue;
        buf[at++] = c;
    }
    buf[at] = '\0';
    return at;
}

static size_t put_cap(char *buf, size_t at, size_t cap, const char *s) {
    size_t start = at;
    at = put(buf, at, cap, s);
    if (at > start && buf[start] >= 'a' && buf[start] <= 'z') buf[start] = (char)(buf[start] - 32);
    return at;
}

static size_t put_ip(char *buf, size_t at, size_t cap, uint32_t a) {
    at = put_u64(buf, at, cap, a >> 24);
    at = put(buf, at, cap, ".");
    at = put_u64(buf, at, cap, (a >> 16) & 255);
    at = put(buf, at, cap, ".");
    at = put_u64(buf, at, cap, (a >> 8) & 255);
    at = put(buf, at, cap, ".");
    return put_u64(buf, at, cap, a & 255);
}

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ---- */

void fi_civil(int32_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

int32_t fi_days(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    int32_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static size_t put_date(char *buf, size_t at, size_t cap, int32_t day, int dashes) {
    int y;
    unsigned m, d;
    fi_civil(day, &y, &m, &d);
    if (at + 11 > cap || y < 0 || y > 9999) return at;
    char *p = buf + at;
    p[0] = (char)('0' + y / 1000);
    p[1] = (char)('0' + y / 100 % 10);
    p[2] = (char)('0' + y / 10 % 10);
    p[3] = (char)('0' + y % 10);
    size_t k = 4;
    if (dashes) p[k++] = '-';
    p[k++] = (char)('0' + m / 10);
    p[k++] = (char)('0' + m % 10);
    if (dashes) p[k++] = '-';
    p[k++] = (char)('0' + d / 10);
    p[k++] = (char)('0' + d % 10);
    p[k] = '\0';
    return at + k;
}

/* ---- identities ---- */

typedef struct {
    uint8_t company;
    uint32_t city;
    uint32_t f[9]; /* name org street city state postal country phone fax */
    uint32_t first, last;
    uint32_t freemail;
} ident_t;

#define SALT_IDENT 0x1d3a7u
#define POSTAL_SPAN 20u

static uint32_t pick_cum(const uint32_t *cum, uint32_t n, fi_rng_t *r) {
    uint32_t x = fi_below(r, cum[n - 1]);
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint32_t fi_pick(const uint32_t *cum, uint32_t n, fi_rng_t *r) {
    return pick_cum(cum, n, r);
}

static uint32_t postal_func0(const fi_world_t *w) {
    return 1 + w->postal_sp.n;
}

static size_t render_postal(const fi_world_t *w, uint32_t id, char *buf, size_t cap);

int fi_postal_canon_build(fi_world_t *w) {
    uint32_t n = fi_ncities * POSTAL_SPAN;
    w->postal_canon = malloc(n * sizeof(uint32_t));
    uint32_t *first = malloc((n + w->postal_sp.n) * sizeof(uint32_t));
    fi_strtab_t seen = {0};
    int rc = w->postal_canon && first ? IG_OK : IG_ENOMEM;
    char buf[512];
    /* the fixed codes first, so a city code equal to one of them is that one */
    for (uint32_t id = 1; !rc && id < postal_func0(w) + n; id++) {
        if (id >= postal_func0(w) && !fi_cities[(id - postal_func0(w)) / POSTAL_SPAN].postal) {
            w->postal_canon[id - postal_func0(w)] = id; /* never drawn */
            continue;
        }
        size_t len = render_postal(w, id, buf, sizeof(buf));
        uint32_t before = seen.n, sid;
        rc = fi_strtab_add(&seen, buf, len, &sid);
        if (rc) break;
        if (seen.n != before) first[sid] = id;
        if (id >= postal_func0(w)) w->postal_canon[id - postal_func0(w)] = first[sid];
    }
    free(first);
    fi_strtab_free(&seen);
    return rc;
}

static void identity(const fi_world_t *w, uint32_t k, ident_t *id) {
    fi_rng_t r = fi_rng(w->seed, k, SALT_IDENT);
    id->company = fi_pct(&r, 40);
    id->city = pick_cum(w->city_cum, fi_ncities, &r);
    id->first = fi_skew(&r, fi_nfirst, 1.5);
    id->last = fi_skew(&r, fi_nlast, 1.5);
    id->freemail = fi_skew(&r, fi_nfreemail, 2.0);
    uint32_t person = fi_nname_special + id->first * fi_nlast + id->last;
    uint32_t roll = fi_below(&r, 100);
    if (id->company)
        id->f[0] = roll < 45 ? FI_NAME_DOMAIN_ADMIN : roll < 55 ? 2 : roll < 60 ? 3 : person;
    else
        id->f[0] = person;
    uint32_t org = fi_norg_special + fi_skew(&r, w->norg, 1.5);
    id->f[1] = id->company ? org : (fi_pct(&r, 20) ? org : FI_NONE);
    id->f[2] = 1 + fi_nprivacy + k; /* each identity its own street (see render_street) */
    id->f[3] = 1 + id->city;
    id->f[4] = w->city_state[id->city];
    id->f[5] = fi_cities[id->city].postal
                   ? w->postal_canon[id->city * POSTAL_SPAN + fi_below(&r, POSTAL_SPAN)]
                   : FI_NONE;
    id->f[6] = w->city_country[id->city];
    id->f[7] = fi_pct(&r, 85) ? fi_nprivacy + k : FI_NONE;
    id->f[8] = fi_pct(&r, 25) ? k : FI_NONE;
}

void fi_identity_fields(const fi_world_t *w, uint32_t k, uint32_t f[9], uint8_t *company) {
    ident_t id;
    identity(w, k, &id);
    memcpy(f, id.f, sizeof(id.f));
    *company = id.company;
}

uint32_t fi_privacy_of(const fi_world_t *w, uint32_t dom) {
    return (uint32_t)(fi_mix64(w->seed ^ 0x7072697661637973ULL ^ ((uint64_t)dom << 20)) %
                      fi_nprivacy);
}

uint32_t fi_email_apex(const fi_world_t *w, uint32_t e) {
    if (e < w->nid) {
        ident_t id;
        identity(w, e, &id);
        return id.company ? fi_apex_universe(w, fi_perm(w, e % w->n))
                          : w->freemail_apex[id.freemail];
    }
    e -= w->nid;
    if (e < w->xemail.n) return w->xemail_apex[e];
    e -= w->xemail.n;
    return w->privacy_apex[fi_privacy_of(w, e)];
}

/* ---- certificates ---- */

#define SALT_CERT 0xce27u
#define SALT_SUBJ 0x5b1ecu

typedef struct {
    uint32_t org; /* FI_NONE: DV */
    uint32_t city;
} subj_t;

static void subject(const fi_world_t *w, uint32_t s, subj_t *o) {
    fi_rng_t r = fi_rng(w->seed, s, SALT_SUBJ);
    o->org = FI_NONE;
    o->city = pick_cum(w->city_cum, fi_ncities, &r);
    if (s < w->n) {
        if (fi_pct(&r, 15)) o->org = fi_norg_special + fi_skew(&r, w->norg, 1.5);
    } else if (s - w->n < w->nhosting) {
        if (fi_pct(&r, 40)) o->org = fi_norg_special + fi_skew(&r, w->norg, 1.5);
    } else if (fi_pct(&r, 30)) {
        o->org = 9; /* "Cloudflare, Inc." in fi_org_special */
    }
}

void fi_cert(const fi_world_t *w, uint32_t cert, fi_cert_t *c) {
    c->subject = cert < w->n ? cert : w->n + (cert - w->n) / 3;
    subj_t s;
    subject(w, c->subject, &s);
    c->org = s.org;
    fi_rng_t r = fi_rng(w->seed, cert, SALT_CERT);
    uint32_t iss = pick_cum(w->issuer_cum, fi_nissuers, &r);
    for (int i = 0; i < 8 && s.org != FI_NONE && fi_issuers[iss].days < 365; i++)
        iss = pick_cum(w->issuer_cum, fi_nissuers, &r);
    c->issuer = iss;
    c->duration = fi_issuers[iss].days + (fi_issuers[iss].days == 89 ? fi_below(&r, 2) : 0);
    c->not_before = FI_NOW_DAY - (int32_t)fi_below(&r, c->duration + 30);
    c->not_after = c->not_before + (int32_t)c->duration;
}

/* ---- the renderers ---- */

/* A bijection of [0, m) (extended to all ids block by block) so that the popular low ids
 * of a combination space do not all share their last component. 7919 is prime and divides
 * none of the spaces' sizes. */
static uint32_t scramble(uint32_t id, uint32_t m) {
    return (uint32_t)(((uint64_t)(id % m) * 7919u + 104729u) % m + id / m * m);
}

static size_t render_name(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    (void)w;
    if (id < fi_nname_special) return put(buf, 0, cap, fi_name_special[id]);
    id -= fi_nname_special;
    size_t at = put(buf, 0, cap, fi_first[id / fi_nlast]);
    at = put(buf, at, cap, " ");
    return put(buf, at, cap, fi_last[id % fi_nlast]);
}

static size_t render_org(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    (void)w;
    if (id < fi_norg_special) return put(buf, 0, cap, fi_org_special[id]);
    id -= fi_norg_special;
    id = scramble(id, fi_nadj * fi_nnoun * fi_norg_suffix);
    uint32_t a = id % fi_nadj, nn = (id / fi_nadj) % fi_nnoun;
    uint32_t s = (id / (fi_nadj * fi_nnoun)) % fi_norg_suffix;
    uint32_t rep = id / (fi_nadj * fi_nnoun * fi_norg_suffix);
    size_t at = put_cap(buf, 0, cap, fi_adj[a]);
    at = put(buf, at, cap, " ");
    at = put_cap(buf, at, cap, fi_noun[nn]);
    at = put(buf, at, cap, " ");
    at = put(buf, at, cap, fi_org_suffix[s]);
    if (rep) {
        at = put(buf, at, cap, " ");
        at = put_u64(buf, at, cap, rep + 1);
    }
    return at;
}

static size_t render_street(uint64_t id, char *buf, size_t cap) {
    if (id == 0) return put(buf, 0, cap, FI_REDACTED);
    if (id <= fi_nprivacy) return put(buf, 0, cap, fi_privacy[id - 1].street);
    /* identity k's street: a bijection of k onto (number, name, type) */
    uint64_t k = id - 1 - fi_nprivacy;
    const uint64_t m = 9999ULL * fi_nstreet_names * fi_nstreet_types;
    id = (uint32_t)((k % m * 7919ULL + 104729ULL) % m + k / m * m);
    uint32_t t = id % fi_nstreet_types, nm = (id / fi_nstreet_types) % fi_nstreet_names;
    uint32_t num = id / (fi_nstreet_types * fi_nstreet_names) + 1;
    size_t at = put_u64(buf, 0, cap, num);
    at = put(buf, at, cap, " ");
    at = put(buf, at, cap, fi_street_names[nm]);
    at = put(buf, at, cap, " ");
    return put(buf, at, cap, fi_street_types[t]);
}

static size_t render_postal(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    if (id == 0) return put(buf, 0, cap, FI_REDACTED);
    if (id < postal_func0(w)) return put(buf, 0, cap, fi_strtab_get(&w->postal_sp, id - 1, NULL));
    id -= postal_func0(w);
    const fi_city_t *c = &fi_cities[id / POSTAL_SPAN];
    int n = snprintf(buf, cap, "%0*u", (int)c->postal_digits, c->postal + id % POSTAL_SPAN);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static const char *calling_code(const char *cc) {
    static const struct {
        const char *cc, *code;
    } t[] = {{"us", "1"},   {"ca", "1"},   {"gb", "44"},  {"de", "49"},  {"fr", "33"},
             {"nl", "31"},  {"es", "34"},  {"it", "39"},  {"se", "46"},  {"pl", "48"},
             {"ru", "7"},   {"ua", "380"}, {"tr", "90"},  {"cn", "86"},  {"hk", "852"},
             {"jp", "81"},  {"kr", "82"},  {"sg", "65"},  {"in", "91"},  {"au", "61"},
             {"br", "55"},  {"mx", "52"},  {"ar", "54"},  {"ng", "234"}, {"za", "27"},
             {"ae", "971"}, {"il", "972"}, {"is", "354"}, {"pa", "507"}, {"vg", "1"},
             {"cy", "357"}, {"lt", "370"}, {"id", "62"},  {"vn", "84"},  {"th", "66"},
             {"ie", "353"}, {"ch", "41"},  {"at", "43"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].cc, cc) == 0) return t[i].code;
    return "1";
}

/* cc + 9 digits (a bijection of the identity) + a check digit, so an identity's number
 * never equals one of the fixed privacy-service numbers (which fail the check). */
static size_t render_phone_digits(const fi_world_t *w, uint32_t k, uint64_t mul, uint64_t salt,
                                  char *buf, size_t cap) {
    ident_t id;
    identity(w, k, &id);
    uint64_t off = fi_mix64(w->seed ^ salt) % 900000000ULL;
    uint64_t v = 100000000ULL + ((uint64_t)k * mul + off) % 900000000ULL;
    size_t at = put(buf, 0, cap, calling_code(fi_cities[id.city].cc));
    size_t d0 = at;
    at = put_u64(buf, at, cap, v);
    unsigned sum = 0;
    for (size_t i = d0; i < at; i++)
        sum += (unsigned)(buf[i] - '0');
    char chk[2] = {(char)('0' + sum % 10), 0};
    return put(buf, at, cap, chk);
}

static size_t render_email(const fi_world_t *w, uint32_t e, char *buf, size_t cap) {
    if (e < w->nid) {
        ident_t id;
        identity(w, e, &id);
        size_t at;
        if (id.company) {
            at = put(buf, 0, cap, "domains");
            if (e >= w->n) at = put_u64(buf, at, cap, e / w->n);
            at = put(buf, at, cap, "@");
            return at + fi_name(w, fi_perm(w, e % w->n), buf + at);
        }
        at = put_lower(buf, 0, cap, fi_first[id.first]);
        at = put(buf, at, cap, ".");
        at = put_lower(buf, at, cap, fi_last[id.last]);
        at = put_u64(buf, at, cap, e);
        at = put(buf, at, cap, "@");
        return put(buf, at, cap, fi_freemail[id.freemail]);
    }
    e -= w->nid;
    if (e < w->xemail.n) return put(buf, 0, cap, fi_strtab_get(&w->xemail, e, NULL));
    e -= w->xemail.n;
    size_t at = put_hex(buf, 0, cap, fi_mix64(w->seed ^ ((uint64_t)e * 0xff51afd7ed558ccdULL)), 16);
    at = put_hex(buf, at, cap, fi_mix64(w->seed + e + 0x70726f74ULL), 16);
    at = put(buf, at, cap, ".protect@");
    return put(buf, at, cap, fi_privacy[fi_privacy_of(w, e)].domain);
}

static size_t render_apex(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    if (id < w->apex.n) return put(buf, 0, cap, fi_strtab_get(&w->apex, id, NULL));
    return fi_name(w, id - w->apex.n, buf);
}

/* The CN of a certificate subject (also its first alt name). */
static size_t render_cn(const fi_world_t *w, uint32_t s, char *buf, size_t cap) {
    if (s < w->n) return fi_name(w, s, buf);
    s -= w->n;
    if (s < w->nhosting) {
        size_t at = put(buf, 0, cap, "*.");
        return put(buf, at, cap, fi_strtab_get(&w->apex, w->hosting_apex[s], NULL));
    }
    size_t at = put(buf, 0, cap, "sni");
    at = put_u64(buf, at, cap, s - w->nhosting + 1);
    return put(buf, at, cap, ".cloudflaressl.com");
}

static size_t render_subject(const fi_world_t *w, uint32_t s, char *buf, size_t cap) {
    size_t at = put(buf, 0, cap, "CN=");
    at += render_cn(w, s, buf + at, cap - at);
    subj_t sj;
    subject(w, s, &sj);
    if (sj.org != FI_NONE) {
        const fi_city_t *c = &fi_cities[sj.city];
        char cc[3] = {(char)(c->cc[0] - 32), (char)(c->cc[1] - 32), 0};
        at = put(buf, at, cap, ",O=");
        at += render_org(w, sj.org, buf + at, cap - at);
        at = put(buf, at, cap, ",L=");
        at = put(buf, at, cap, c->city);
        at = put(buf, at, cap, ",ST=");
        at = put(buf, at, cap, c->state);
        at = put(buf, at, cap, ",C=");
        at = put(buf, at, cap, cc);
    }
    return at;
}

static size_t render_alt(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    uint32_t s = id / 2;
    if (id % 2 == 0) return render_cn(w, s, buf, cap);
    if (s < w->n) {
        size_t at = put(buf, 0, cap, "www.");
        return at + fi_name(w, s, buf + at);
    }
    if (s - w->n < w->nhosting)
        return put(buf, 0, cap, fi_strtab_get(&w->apex, w->hosting_apex[s - w->n], NULL));
    size_t at = put(buf, 0, cap, "*.");
    return at + render_cn(w, s, buf + at, cap - at);
}

static size_t render_title(const fi_world_t *w, uint32_t id, char *buf, size_t cap) {
    (void)w;
    if (id < fi_ntitles_fixed) return put(buf, 0, cap, fi_titles_fixed[id]);
    id = scramble(id - fi_ntitles_fixed, fi_nadj * fi_nnoun * 8);
    static const char *const pre[] = {"", "", "", "", "Welcome to ", "", "", ""};
    static const char *const post[] = {
        " | Home", " | Official Site", " Online Store", " Blog",
        "",        " - Login",         " News",         " Consulting"};
    uint32_t a = id % fi_nadj, nn = (id / fi_nadj) % fi_nnoun, p = (id / (fi_nadj * fi_nnoun)) % 8;
    uint32_t rep = id / (fi_nadj * fi_nnoun * 8);
    size_t at = put(buf, 0, cap, pre[p]);
    at = put_cap(buf, at, cap, fi_adj[a]);
    at = put(buf, at, cap, " ");
    at = put_cap(buf, at, cap, fi_noun[nn]);
    if (rep) {
        at = put(buf, at, cap, " ");
        at = put_u64(buf, at, cap, rep + 1);
    }
    return put(buf, at, cap, post[p]);
}

static size_t put_base36(char *buf, size_t at, size_t cap, uint64_t v, int digits) {
    static const char d36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char t[16];
    for (int i = digits - 1; i >= 0; i--) {
        t[i] = d36[v % 36];
        v /= 36;
    }
    for (int i = 0; i < digits && at + 1 < cap; i++)
        buf[at++] = t[i];
    buf[at] = '\0';
    return at;
}

/* Tracking codes: each kind a bijection of [0, ncodes) into its real-looking format. */
static size_t render_code(const fi_world_t *w, fi_kind_t k, uint32_t id, char *buf, size_t cap) {
    uint64_t salt = fi_mix64(w->seed ^ (0xc0de0000ULL + (uint64_t)k));
    uint64_t x = id;
    size_t at;
    switch (k) {
    case K_GA:
        at = put(buf, 0, cap, "UA-");
        at =
            put_u64(buf, at, cap, 10000000ULL + (x * 102947ULL + salt % 90000000ULL) % 90000000ULL);
        at = put(buf, at, cap, "-");
        return put_u64(buf, at, cap, 1 + x % 3);
    case K_ADSENSE:
        at = put(buf, 0, cap, "pub-");
        return put_u64(buf, at, cap,
                       1000000000000000ULL +
                           (x * 1000003ULL + salt % 9000000000000000ULL) % 9000000000000000ULL);
    case K_GA4: {
        const uint64_t m = 3656158440062976ULL; /* 36^10 */
        at = put(buf, 0, cap, "G-");
        return put_base36(buf, at, cap, (x * 1000003ULL + salt % m) % m, 10);
    }
    case K_GTM: {
        const uint64_t m = 78364164096ULL; /* 36^7 */
        at = put(buf, 0, cap, "GTM-");
        return put_base36(buf, at, cap, (x * 1000003ULL + salt % m) % m, 7);
    }
    case K_FB:
        return put_u64(buf, 0, cap,
                       100000000000000ULL +
                           (x * 1000003ULL + salt % 900000000000000ULL) % 900000000000000ULL);
    case K_HOTJAR:
        return put_u64(buf, 0, cap, 1000000ULL + (x * 7919ULL + salt % 9000000ULL) % 9000000ULL);
    case K_BAIDU:
        at = put_hex(buf, 0, cap, fi_mix64(salt ^ (x * 0x9E3779B97F4A7C15ULL)), 16);
        return put_hex(buf, at, cap, fi_mix64(salt + x + 1), 16);
    case K_YANDEX:
        return put_u64(buf, 0, cap, 10000000ULL + (x * 7919ULL + salt % 90000000ULL) % 90000000ULL);
    case K_MATOMO:
        return put_u64(buf, 0, cap, 100000ULL + (x * 7919ULL + salt % 900000ULL) % 900000ULL);
    case K_SCP:
        return put_u64(buf, 0, cap,
                       10000000ULL + (x * 104729ULL + salt % 90000000ULL) % 90000000ULL);
    case K_SCS:
        return put_hex(buf, 0, cap, (uint32_t)(x * 0x9E3779B1ULL + salt), 8);
    default:
        buf[0] = '\0';
        return 0;
    }
}

size_t fi_value(const fi_world_t *w, fi_kind_t k, uint32_t id, char *buf, size_t cap) {
    buf[0] = '\0';
    if (id == FI_NONE || id >= w->pool[k]) return 0;
    switch (k) {
    case K_IP:
        return put_ip(buf, 0, cap, w->ip_addr[id]);
    case K_ASN:
        return put_u64(buf, 0, cap, w->asn_ids[id]);
    case K_ISP:
        return put(buf, 0, cap, fi_strtab_get(&w->isps, id, NULL));
    case K_IPCC:
    case K_C_COUNTRY:
        return put(buf, 0, cap, fi_countries[id]);
    case K_EMAIL:
    case K_SOA_EMAIL:
    case K_SSL_EMAIL:
        return render_email(w, id, buf, cap);
    case K_EMAIL_DOMAIN:
    case K_NS_DOMAIN:
    case K_MX_DOMAIN:
    case K_REDIRECT_DOMAIN:
        return render_apex(w, id, buf, cap);
    case K_REG_NAME:
    case K_C_NAME:
        return render_name(w, id, buf, cap);
    case K_REG_ORG:
    case K_C_ORG:
    case K_SSL_ORG:
        return render_org(w, id, buf, cap);
    case K_REGISTRAR:
        return put(buf, 0, cap, fi_registrars[id].name);
    case K_C_STREET:
        return render_street(id, buf, cap);
    case K_C_CITY:
        return put(buf, 0, cap, id ? fi_cities[id - 1].city : FI_REDACTED);
    case K_C_STATE:
        return put(buf, 0, cap, fi_strtab_get(&w->states, id, NULL));
    case K_C_POSTAL:
        return render_postal(w, id, buf, cap);
    case K_C_PHONE:
        if (id < fi_nprivacy) return put(buf, 0, cap, fi_privacy[id].phone);
        return render_phone_digits(w, id - fi_nprivacy, 55433ULL, 0x70686f6eULL, buf, cap);
    case K_C_FAX:
        return render_phone_digits(w, id, 104729ULL, 0x666178ULL, buf, cap);
    case K_NS_HOST:
        return put(buf, 0, cap, fi_strtab_get(&w->hosts, w->nsh[id].host, NULL));
    case K_MX_HOST:
        return put(buf, 0, cap, fi_strtab_get(&w->hosts, w->mxh[id].host, NULL));
    case K_NS_IP:
        return put_ip(buf, 0, cap, w->ns_ip[id]);
    case K_MX_IP:
        return put_ip(buf, 0, cap, w->mx_ip[id]);
    case K_REDIRECT: {
        static const char *const pre[] = {"www.", "", "m."};
        size_t at = put(buf, 0, cap, pre[id % 3]);
        return at + fi_name(w, id / 3, buf + at);
    }
    case K_SSL_HASH: {
        size_t at =
            put_hex(buf, 0, cap, fi_mix64(w->seed ^ ((uint64_t)id * 0xd6e8feb86659fd93ULL)), 16);
        at = put_hex(buf, at, cap, fi_mix64(w->seed + id + 0x68617368ULL), 16);
        return put_hex(buf, at, cap, fi_mix64(w->seed + id + 0x32ULL) >> 32, 8);
    }
    case K_SSL_SUBJECT:
        return render_subject(w, id, buf, cap);
    case K_SSL_CN:
        return render_cn(w, id, buf, cap);
    case K_SSL_ALT:
        return render_alt(w, id, buf, cap);
    case K_SSL_ISSUER:
        return put(buf, 0, cap, fi_issuers[id].name);
    case K_SSL_DURATION:
        return put_u64(buf, 0, cap, id);
    case K_SSL_NA:
    case K_SSL_NB:
        return put_date(buf, 0, cap, (int32_t)id, 0);
    case K_CREATE:
    case K_EXPIRE:
        return put_date(buf, 0, cap, (int32_t)id, 1);
    case K_SERVER:
        return put(buf, 0, cap, fi_servers[id].s);
    case K_TITLE:
        return render_title(w, id, buf, cap);
    default:
        return render_code(w, k, id, buf, cap);
    }
}
