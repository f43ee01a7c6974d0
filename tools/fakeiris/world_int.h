/* world_int.h — private to the synthetic world: world.c (universe, names, indices),
 * world_data.c (the fixed tables), world_strtab.c (interned strings), world_values.c (value
 * spaces: id → string), profile.c (a domain's profile), world_render.c (one result as JSON),
 * whois_text.c (the WHOIS record as free text) and search.c (questions and answers).
 *
 * Model: every guided-pivot field is a value space ("kind") of integer ids; a profile holds
 * ids, a value string is rendered from (kind, id) on demand, and the index maps (kind, id)
 * to the sorted universe domains holding it. One profile function (fi_profile) feeds both
 * the index build and the rendering, so counts and pivots cannot disagree.
 */
#ifndef FAKEIRIS_WORLD_INT_H
#define FAKEIRIS_WORLD_INT_H

#include "world.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FI_NONE 0xFFFFFFFFu
/* "Now" of the world, fixed so answers never depend on the wall clock: 2025-10-01T00:00:00Z. */
#define FI_NOW 1759276800LL
#define FI_NOW_DAY 20362 /* FI_NOW / 86400 */
#define FI_DAY_1985 5479 /* 1985-01-01 in days since 1970: compact day numbers start here */
#define FI_MAX_DAY 31000 /* day-valued spaces hold days 0..FI_MAX_DAY-1 (to 2054) */

/* ---- randomness: splitmix64 ---- */
static inline uint64_t fi_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
typedef struct {
    uint64_t s;
} fi_rng_t;
static inline fi_rng_t fi_rng(uint64_t seed, uint64_t key, uint64_t salt) {
    fi_rng_t r = {fi_mix64(seed ^ fi_mix64(key * 0x9E3779B97F4A7C15ULL + salt))};
    return r;
}
static inline uint64_t fi_next(fi_rng_t *r) {
    r->s += 0x9E3779B97F4A7C15ULL;
    return fi_mix64(r->s);
}
/* Uniform in [0, n) (n > 0). */
static inline uint32_t fi_below(fi_rng_t *r, uint32_t n) {
    return (uint32_t)(((fi_next(r) >> 32) * (uint64_t)n) >> 32);
}
static inline double fi_unit(fi_rng_t *r) {
    return (double)(fi_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
/* Percent test: true with probability pct/100. */
static inline bool fi_pct(fi_rng_t *r, uint32_t pct) {
    return fi_below(r, 100) < pct;
}
/* Zipf-like draw in [0, n): floor(n * u^k), so low ids are shared by many. */
uint32_t fi_skew(fi_rng_t *r, uint32_t n, double k);

/* ---- value spaces ---- */
typedef enum {
    K_IP,
    K_ASN,
    K_ISP,
    K_IPCC,
    K_EMAIL,
    K_EMAIL_DOMAIN,
    K_SOA_EMAIL,
    K_SSL_EMAIL,
    K_REG_NAME,
    K_REG_ORG,
    K_REGISTRAR,
    K_C_NAME,
    K_C_ORG,
    K_C_STREET,
    K_C_CITY,
    K_C_STATE,
    K_C_POSTAL,
    K_C_COUNTRY,
    K_C_PHONE,
    K_C_FAX,
    K_NS_HOST,
    K_NS_DOMAIN,
    K_NS_IP,
    K_MX_HOST,
    K_MX_DOMAIN,
    K_MX_IP,
    K_REDIRECT,
    K_REDIRECT_DOMAIN,
    K_SSL_HASH,
    K_SSL_SUBJECT,
    K_SSL_ORG,
    K_SSL_CN,
    K_SSL_ALT,
    K_SSL_ISSUER,
    K_SSL_DURATION,
    K_SSL_NA,
    K_SSL_NB,
    K_CREATE,
    K_EXPIRE,
    K_GA,
    K_ADSENSE,
    K_GA4,
    K_GTM,
    K_FB,
    K_HOTJAR,
    K_BAIDU,
    K_YANDEX,
    K_MATOMO,
    K_SCP,
    K_SCS,
    K_SERVER,
    K_TITLE,
    K_COUNT
} fi_kind_t;

#define FI_NCODES 9 /* ga4 .. statcounter_security: the tracking-code lists, K_GA4 + i */

typedef struct {
    const char *name; /* for messages and tests */
    uint8_t list;     /* 1: domain lists + value lookup (pivotable, or WHOIS text); 0: counts */
    uint8_t is_int;   /* value is a JSON integer */
} fi_kind_info_t;
extern const fi_kind_info_t fi_kinds[K_COUNT];

/* ---- fixed tables (world_data.c) ---- */
typedef struct {
    const char *s;
    uint16_t weight;
} fi_weighted_t;
typedef struct {
    const char *name;
    uint32_t iana;
    const char *domain; /* its abuse mailbox lives here */
    uint16_t weight;
    uint8_t corporate; /* hides contact emails behind a web form */
} fi_registrar_t;
typedef struct {
    const char *isp[2];
    uint32_t asn[2];
    const char *cc[3];    /* lower-case ISO codes, first is the usual one */
    uint8_t prefix[4][2]; /* /16 prefixes, {0,0} ends */
    uint16_t weight;
} fi_network_t;
typedef struct {
    const char *city, *state, *cc;
    uint32_t postal; /* base of numeric postal codes, 0: none */
    uint8_t postal_digits;
    uint16_t weight;
} fi_city_t;
typedef struct {
    const char *name; /* issuer CN */
    uint16_t days;    /* validity */
    uint16_t weight;
} fi_issuer_t;
typedef struct {
    const char *name, *org, *street;
    const char *city; /* a city of fi_cities: state and country come from there */
    const char *postal, *phone, *domain;
} fi_privacy_t;

extern const char *const fi_adj[];
extern const char *const fi_noun[];
extern const uint32_t fi_nadj, fi_nnoun;
extern const fi_weighted_t fi_tlds[];
extern const uint32_t fi_ntlds;
extern const fi_registrar_t fi_registrars[];
extern const uint32_t fi_nregistrars;
extern const fi_network_t fi_networks[];
extern const uint32_t fi_nnetworks;
extern const fi_city_t fi_cities[];
extern const uint32_t fi_ncities;
extern const char *const fi_countries[]; /* lower-case ISO codes; id 0 is REDACTED */
extern const uint32_t fi_ncountries;
extern const fi_issuer_t fi_issuers[];
extern const uint32_t fi_nissuers;
extern const fi_weighted_t fi_servers[];
extern const uint32_t fi_nservers;
extern const char *const fi_titles_fixed[];
extern const uint32_t fi_ntitles_fixed;
extern const char *const fi_tags[];
extern const uint32_t fi_ntags;
extern const char *const fi_first[];
extern const char *const fi_last[];
extern const uint32_t fi_nfirst, fi_nlast;
extern const char *const fi_street_names[];
extern const uint32_t fi_nstreet_names;
extern const char *const fi_street_types[];
extern const uint32_t fi_nstreet_types;
extern const char *const fi_org_suffix[];
extern const uint32_t fi_norg_suffix;
extern const char *const fi_freemail[];
extern const uint32_t fi_nfreemail;
extern const fi_privacy_t fi_privacy[];
extern const uint32_t fi_nprivacy;
extern const char *const fi_status_sets[][7];
extern const uint32_t fi_nstatus_sets;
extern const char *const fi_spf[];
extern const uint32_t fi_nspf;
extern const char *const fi_cf_names[];
extern const uint32_t fi_ncf_names;

/* Special (table) values at the start of the name, org, street and phone spaces. */
#define FI_REDACTED "REDACTED FOR PRIVACY"
extern const char *const fi_name_special[];
extern const uint32_t fi_nname_special;
extern const char *const fi_org_special[];
extern const uint32_t fi_norg_special;
#define FI_NAME_REDACTED 0u
#define FI_NAME_DOMAIN_ADMIN 1u
#define FI_ORG_REDACTED 0u

/* ---- interned strings (world_strtab.c): case-insensitive, ids dense from 0 ---- */
typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *off; /* n + 1 offsets into arena (each string NUL-terminated) */
    uint32_t n, cap;
    uint32_t *slot; /* open addressing: id + 1, 0 = empty */
    uint32_t mask;
} fi_strtab_t;
int fi_strtab_add(fi_strtab_t *t, const char *s, size_t n, uint32_t *id);
uint32_t fi_strtab_find(const fi_strtab_t *t, const char *s, size_t n);
static inline const char *fi_strtab_get(const fi_strtab_t *t, uint32_t id, size_t *len) {
    if (len) *len = t->off[id + 1] - t->off[id] - 1;
    return t->arena + t->off[id];
}
void fi_strtab_free(fi_strtab_t *t);
size_t fi_strtab_memory(const fi_strtab_t *t);
uint64_t fi_hash_ci(const char *s, size_t n); /* FNV-1a over ASCII-lower-cased bytes */
bool fi_eq_ci(const char *a, size_t an, const char *b, size_t bn);

/* ---- world ---- */
typedef struct {
    uint32_t host;  /* strtab id in hosts */
    uint32_t apex;  /* apex-space id of its registered domain */
    uint32_t ip[3]; /* ids in the NS or MX IP table */
    uint8_t nip;
    uint8_t prio; /* MX priority */
} fi_host_t;
typedef struct {
    uint32_t host[5]; /* host ids */
    uint8_t nhost;
    uint8_t spf;  /* MX groups: index in fi_spf */
    uint32_t soa; /* NS groups: email id of the SOA RNAME */
} fi_group_t;

typedef struct {
    uint32_t *off; /* list kinds: P + 1 offsets into dom; count kinds: P counts */
    uint32_t *dom; /* list kinds: universe indices, ascending within a value */
    uint32_t *lut; /* list kinds: value lookup, open addressing of id + 1 */
    uint32_t mask;
} fi_index_t;

struct fi_world {
    uint64_t seed;
    uint32_t n, max_results;
    uint32_t perm_a, perm_b; /* x → (a*x + b) mod n is a bijection of [0, n) */

    uint32_t pool[K_COUNT]; /* ids of kind k are in [0, pool[k]) */
    fi_index_t idx[K_COUNT];

    /* pool shapes */
    uint32_t nid;      /* contact identities */
    uint32_t norg;     /* organisations in use (combinations) */
    uint32_t nhosting; /* synthetic hosting companies */
    uint32_t ncert_sh; /* shared-certificate subjects */
    uint32_t ncodes;   /* ids per tracking-code kind */
    uint32_t ntitles;  /* website titles */
    uint32_t tld_cum[64];
    uint32_t *city_cum, *issuer_cum, *registrar_cum, *network_cum, *server_cum;

    /* apex space: [0, apex.n) interned external domains, [apex.n, apex.n + n) universe */
    fi_strtab_t apex;
    /* email space: [0, nid) identities, [nid, nid + xemail.n) interned, then n per-domain
     * privacy mailboxes */
    fi_strtab_t xemail;
    uint32_t *xemail_apex; /* per interned mailbox: apex id, FI_NONE for a web form */
    uint32_t xemail_apex_cap;
    fi_strtab_t postal_sp;     /* postal space: 0 REDACTED, 1.. these, then city codes */
    uint32_t *privacy_postal;  /* per privacy service: postal id */
    uint32_t *postal_canon;    /* per city code (20 per city): the first id of its rendering */
    uint32_t *privacy_city;    /* per privacy service: index in fi_cities */
    fi_strtab_t isps;          /* ISP space */
    fi_strtab_t states;        /* state space: id 0 is REDACTED */
    uint32_t *registrar_email; /* per registrar: abuse mailbox (email id) */
    uint32_t *registrar_form;  /* per registrar: "email" of corporate registrars (email id) */
    uint32_t *privacy_email;   /* per privacy service: its generic mailbox (email id) */
    uint32_t *privacy_apex;    /* per privacy service: apex id */
    uint32_t *city_state;      /* per city: state id */
    uint32_t *city_country;    /* per city: country id */
    uint32_t *hosting_apex;    /* per hosting company: apex id */
    uint32_t *freemail_apex;   /* per free mail provider: apex id */
    uint32_t *registrar_apex;  /* per registrar: apex id */

    /* A-record IPs */
    uint32_t nip;
    uint32_t *ip_addr;
    uint8_t *ip_asn, *ip_isp, *ip_cc; /* asn-space, isp-space and country ids */
    uint32_t asn_ids[64];             /* asn space: distinct AS numbers */
    uint32_t nasn;

    /* name servers and mail servers */
    fi_strtab_t hosts;    /* every NS and MX host name */
    fi_host_t *nsh, *mxh; /* by NS-host id / MX-host id */
    uint32_t nnsh, nmxh;
    uint32_t *ns_ip, *mx_ip; /* addresses of NS-IP / MX-IP ids */
    uint32_t nns_ip, nmx_ip;
    fi_group_t *nsg, *mxg;
    uint32_t nnsg, nmxg;
    uint32_t ns_prov_first[16], ns_prov_n[16];
    uint32_t mx_prov_first[16], mx_prov_n[16];

    /* compact per-domain columns for filters and sorting */
    uint16_t *d_create, *d_expire; /* days since 1985-01-01 */
    uint32_t *d_first, *d_updated; /* epoch seconds */
    uint32_t *d_rank;              /* popularity rank, 0: none */
    uint8_t *d_risk, *d_tld, *d_flags;
    uint16_t *d_tags;

    size_t memory;
};

#define FI_DF_ACTIVE 1u

uint32_t fi_perm(const fi_world_t *w, uint32_t x); /* bijection of [0, n) */
/* Index drawn with the weights whose running sums are cum[0..n). */
uint32_t fi_pick(const uint32_t *cum, uint32_t n, fi_rng_t *r);
/* Contact fields (name org street city state postal country phone fax) of identity k. */
void fi_identity_fields(const fi_world_t *w, uint32_t k, uint32_t f[9], uint8_t *company);

/* Universe names (world.c). */
size_t fi_name(const fi_world_t *w, uint32_t i, char *buf); /* buf >= 64 */
uint32_t fi_tld_of(const fi_world_t *w, uint32_t i);        /* index in fi_tlds */

/* Renders value id of kind into buf (NUL-terminated); returns the length. cap >= 512. */
size_t fi_value(const fi_world_t *w, fi_kind_t k, uint32_t id, char *buf, size_t cap);
/* Lookup of a question's value: the id whose rendering equals s (case-insensitive), or
 * FI_NONE. Only for list kinds. */
uint32_t fi_lookup(const fi_world_t *w, fi_kind_t k, const char *s, size_t n);
static inline uint32_t fi_count(const fi_world_t *w, fi_kind_t k, uint32_t id) {
    if (id == FI_NONE || id >= w->pool[k]) return 0;
    const fi_index_t *x = &w->idx[k];
    return fi_kinds[k].list ? x->off[id + 1] - x->off[id] : x->off[id];
}
static inline const uint32_t *fi_list(const fi_world_t *w, fi_kind_t k, uint32_t id, uint32_t *n) {
    const fi_index_t *x = &w->idx[k];
    if (id == FI_NONE || id >= w->pool[k] || !fi_kinds[k].list) {
        *n = 0;
        return NULL;
    }
    *n = x->off[id + 1] - x->off[id];
    return x->dom + x->off[id];
}

/* Email-space helpers (world_values.c). */
uint32_t fi_email_apex(const fi_world_t *w, uint32_t email); /* FI_NONE: not a mailbox */
static inline uint32_t fi_email_x(const fi_world_t *w, uint32_t xid) {
    return w->nid + xid;
}
static inline uint32_t fi_email_privacy(const fi_world_t *w, uint32_t dom) {
    return w->nid + w->xemail.n + dom;
}
uint32_t fi_privacy_of(const fi_world_t *w, uint32_t dom); /* privacy service of a domain */
static inline uint32_t fi_apex_universe(const fi_world_t *w, uint32_t i) {
    return w->apex.n + i;
}

/* Fills w->postal_canon once postal_sp is complete: some cities' code ranges overlap
 * (100001 is Beijing's and Lagos'), and one code must be one id for its count to be exact. */
int fi_postal_canon_build(fi_world_t *w);

/* Certificates: ids [0, n) are the universe domains' own, then 3 per shared subject. */
typedef struct {
    uint32_t subject;              /* subject/CN id: [0, n) own, [n, n + ncert_sh) shared */
    uint32_t org;                  /* org-space id or FI_NONE */
    uint32_t issuer;               /* index in fi_issuers */
    int32_t not_before, not_after; /* days since 1970 */
    uint32_t duration;
} fi_cert_t;
void fi_cert(const fi_world_t *w, uint32_t cert, fi_cert_t *c);

/* ---- one domain's profile (profile.c) ---- */
typedef struct {
    uint32_t f[9]; /* name org street city state postal country phone fax */
    uint32_t email[2];
    uint8_t nemail;
} fi_contact_t;

enum { FI_C_ADMIN, FI_C_BILLING, FI_C_REGISTRANT, FI_C_TECH };

/* Shape variations a consumer must survive. */
#define FI_V_CC_UPPER (1u << 0)       /* ip country_code "US" rather than "us" */
#define FI_V_TITLE_BARE (1u << 1)     /* absent website_title as "" */
#define FI_V_SERVER_BARE (1u << 2)    /* absent server_type as "" */
#define FI_V_PRIO_STRING (1u << 3)    /* mx priority as "10" */
#define FI_V_REGISTRAR_BARE (1u << 4) /* absent registrar as "" */

typedef struct {
    uint32_t cert;
    uint8_t short_shape; /* 2022 shape: hash, subject, organization, email only */
    uint8_t sources;     /* 1: active, 2: passive, 3: both */
    int64_t seen_ms;
    uint32_t email; /* ssl_info[].email string (email id) or FI_NONE */
} fi_ssl_t;

typedef struct {
    uint64_t key;   /* the profile's stream */
    uint32_t index; /* universe index, or FI_NONE */
    char name[256];
    size_t name_len;
    const char *tld; /* into name, or a table string */
    size_t tld_len;
    uint32_t tld_id; /* index in fi_tlds, or FI_NONE */

    bool active;
    int32_t alexa; /* -1: "" */
    uint32_t rank; /* 0: "" */
    uint8_t rank_float;
    uint32_t ga, adsense;
    uint32_t codes[FI_NCODES][2];
    uint8_t ncodes[FI_NCODES];
    fi_contact_t c[4];
    int32_t create_day, expire_day;
    uint32_t edom[8];
    uint8_t nedom;
    uint32_t soa[1];
    uint8_t nsoa;
    uint32_t ssl_email[1];
    uint8_t nssl_email;
    uint32_t addl[2];
    uint8_t naddl;
    uint32_t ip[4];
    uint8_t nip;
    uint32_t mx[5];
    uint8_t nmx;
    uint32_t ns[5];
    uint8_t nns;
    /* domain_risk */
    uint8_t risk;
    uint8_t risk_shape; /* 0: zerolist only, 1: zerolist + four zero threat profiles, 2: scored */
    int16_t prox;       /* -1: no proximity component */
    uint8_t tp, tp_mal, tp_phish, tp_spam;
    uint8_t threats;  /* bit 0 malware, 1 phishing, 2 spam */
    uint8_t evidence; /* bits into the evidence list */
    uint8_t prox_evidence;
    uint32_t redirect, redirect_domain; /* ids or FI_NONE */
    uint32_t reg_name, reg_org, registrar;
    uint8_t status; /* index in fi_status_sets */
    uint8_t spf;    /* index in fi_spf, 0: "" */
    fi_ssl_t ssl[2];
    uint8_t nssl;
    uint16_t website_response;
    int64_t updated_ms;
    uint32_t title, server;
    int64_t first_seen;
    uint16_t tags;
    int64_t tag_at[16];
    uint32_t variant;
} fi_dom_t;

/* Profile of universe domain i. */
void fi_profile(const fi_world_t *w, uint32_t i, fi_dom_t *d);
/* Profile of any other well-formed name (lower-case); a universe name gets its own. */
void fi_profile_name(const fi_world_t *w, const char *name, size_t len, fi_dom_t *d);

/* Calls fn for every (kind, id) the profile holds, each distinct pair once. */
typedef void (*fi_pair_fn)(void *ctx, fi_kind_t k, uint32_t id);
void fi_profile_pairs(const fi_world_t *w, const fi_dom_t *d, fi_pair_fn fn, void *ctx);
bool fi_profile_has(const fi_world_t *w, const fi_dom_t *d, fi_kind_t k, uint32_t id);

/* ---- WHOIS free text (whois_text.c) ---- */
/* Whether the word occurs in the WHOIS text of the profile (ignoring ASCII case). */
bool fi_whois_word_in_profile(const fi_world_t *w, const fi_dom_t *d, const char *s, size_t n);
/* Every universe domain whose WHOIS text holds the word, ascending, in a list the caller
 * frees (NULL when none). IG_ENOMEM. */
int fi_whois_word_domains(const fi_world_t *w, const char *s, size_t n, uint32_t **out,
                          uint32_t *count);

/* ---- rendering (world_render.c) ---- */
typedef struct {
    ig_buf_t *b;
    int rc;
} fi_out_t;
#define FI_R_ENRICH 1u
#define FI_R_PARSED_WHOIS 2u
#define FI_R_PARSED_RDAP 4u
void fi_render_result(const fi_world_t *w, const fi_dom_t *d, unsigned flags, fi_out_t *o);
void fi_out_raw(fi_out_t *o, const char *s, size_t n);
#define FI_OUT_LIT(o, lit) fi_out_raw((o), (lit), sizeof(lit) - 1)
void fi_out_str(fi_out_t *o, const char *s, size_t n);
void fi_out_u64(fi_out_t *o, uint64_t v);
void fi_out_date(fi_out_t *o, int32_t day); /* "YYYY-MM-DD" with quotes */
void fi_out_time(fi_out_t *o, int64_t t);   /* "YYYY-MM-DDTHH:MM:SSZ" */

/* Calendar helpers. */
void fi_civil(int32_t day, int *y, unsigned *m, unsigned *d);
int32_t fi_days(int y, unsigned m, unsigned d);

#endif
