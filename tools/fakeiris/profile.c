/* profile.c — one domain's synthetic profile: which values of each space it holds (IPs,
 * name and mail servers, registrar, contacts, certificates, trackers, risk, dates...),
 * drawn from its own random stream with Zipf-like skew so that values are shared.
 *
 * A universe domain's stream is keyed by its index, any other name's by a hash of the
 * name; both draw from the same pools, so an outside name's counts are real universe
 * counts. fi_profile_pairs lists the (kind, id) pairs a profile holds: the index build and
 * the pivot filters use it, the renderer reads the same profile, so a count shown is
 * always the number of domains a pivot on it returns. Pure: no allocation, no state.
 */
#include "world_int.h"

#include <string.h>

#define SALT_PROFILE 0x70726f66u

/* Relative weights of the name-server and mail-server providers (see world.c). */
static const uint16_t ns_weight[10] = {28, 16, 10, 10, 3, 5, 4, 4, 2, 18};
static const uint16_t mx_weight[11] = {30, 5, 10, 12, 3, 3, 4, 4, 6, 3, 20};

static uint32_t pick_small(const uint16_t *wt, uint32_t n, fi_rng_t *r) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += wt[i];
    uint32_t x = fi_below(r, total);
    for (uint32_t i = 0; i < n; i++) {
        if (x < wt[i]) return i;
        x -= wt[i];
    }
    return n - 1;
}

static void contact_clear(fi_contact_t *c) {
    for (int i = 0; i < 9; i++)
        c->f[i] = FI_NONE;
    c->nemail = 0;
}

static void contact_identity(const fi_world_t *w, uint32_t k, uint32_t form, fi_contact_t *c) {
    uint8_t company;
    fi_identity_fields(w, k, c->f, &company);
    c->nemail = 1;
    c->email[0] = form != FI_NONE ? form : k; /* identity k's own mailbox is email id k */
}

static void contact_redacted(fi_contact_t *c, uint32_t state, uint32_t country) {
    contact_clear(c);
    c->f[0] = FI_NAME_REDACTED;
    c->f[1] = FI_ORG_REDACTED;
    c->f[2] = 0;
    c->f[3] = 0;
    c->f[4] = state;
    c->f[5] = 0;
    c->f[6] = country;
}

static void contact_privacy(const fi_world_t *w, uint32_t svc, uint32_t email, fi_contact_t *c) {
    contact_clear(c);
    uint32_t city = w->privacy_city[svc];
    c->f[0] = 4 + svc; /* fi_name_special / fi_org_special line up with fi_privacy */
    c->f[1] = 1 + svc;
    c->f[2] = 1 + svc;
    c->f[3] = 1 + city;
    c->f[4] = w->city_state[city];
    c->f[5] = w->privacy_postal[svc];
    c->f[6] = w->city_country[city];
    c->f[7] = fi_privacy[svc].phone[0] ? svc : FI_NONE;
    c->email[0] = email;
    c->nemail = 1;
}

static void add_edom(const fi_world_t *w, fi_dom_t *d, uint32_t email) {
    uint32_t a = fi_email_apex(w, email);
    if (a == FI_NONE) return;
    for (uint8_t i = 0; i < d->nedom; i++)
        if (d->edom[i] == a) return;
    if (d->nedom < 8) d->edom[d->nedom++] = a;
}

static bool has_u32(const uint32_t *v, uint8_t n, uint32_t x) {
    for (uint8_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

static void gen(const fi_world_t *w, fi_dom_t *d) {
    fi_rng_t r = fi_rng(w->seed, d->key, SALT_PROFILE);
    bool universe = d->index != FI_NONE;
    d->variant = 0;
    if (fi_pct(&r, 15)) d->variant |= FI_V_CC_UPPER;
    d->active = fi_pct(&r, 88);
    d->alexa = fi_pct(&r, 20) ? (int32_t)(1 + fi_skew(&r, 10000000, 2.0)) : -1;
    uint32_t roll = fi_below(&r, 100);
    d->rank = roll < 65 ? 1 + fi_skew(&r, 50000000, 2.0) : 0;
    d->rank_float = (uint8_t)(roll >= 60 && roll < 65 ? 1 + fi_below(&r, 9) : 0);

    /* registration */
    int32_t age = (int32_t)fi_skew(&r, 40 * 365, 2.0);
    d->create_day = FI_NOW_DAY - 1 - age;
    int32_t periods = age / 365 + 1 + (int32_t)fi_below(&r, 3);
    d->expire_day = d->create_day + 365 * periods + periods / 4;
    if (fi_pct(&r, 4)) {
        d->expire_day = FI_NOW_DAY - 1 - (int32_t)fi_below(&r, 60);
        if (d->expire_day <= d->create_day) d->expire_day = d->create_day + 365;
    }
    d->registrar = fi_pick(w->registrar_cum, fi_nregistrars, &r);
    if (fi_pct(&r, 2)) {
        d->registrar = FI_NONE;
        if (fi_pct(&r, 50)) d->variant |= FI_V_REGISTRAR_BARE;
    }
    roll = fi_below(&r, 100);
    static const uint8_t status_at[] = {5, 40, 60, 68, 75, 82, 88, 91, 94, 97, 100};
    d->status = 0;
    while (d->status + 1u < fi_nstatus_sets && roll >= status_at[d->status])
        d->status++;
    /* sets 5 (addperiod), 8 and 10 (redemption) belong to new and expired domains */
    bool expired = d->expire_day < FI_NOW_DAY;
    if ((d->status == 5 && age > 5) || ((d->status == 8 || d->status == 10) && !expired))
        d->status = 1;
    if (expired && fi_pct(&r, 60)) d->status = fi_pct(&r, 50) ? 8 : 10;

    /* contacts: GDPR-redacted, behind a privacy service, or a real identity */
    uint32_t form = d->registrar != FI_NONE ? w->registrar_form[d->registrar] : FI_NONE;
    uint32_t k = fi_skew(&r, w->nid, 1.5);
    roll = fi_below(&r, 100);
    int real = 0;
    if (roll < 35) {
        uint32_t f[9];
        uint8_t company;
        fi_identity_fields(w, k, f, &company);
        fi_contact_t *reg = &d->c[FI_C_REGISTRANT];
        contact_redacted(reg, f[4], f[6]);
        if (universe && fi_pct(&r, 30)) {
            reg->email[0] = fi_email_privacy(w, d->index);
            reg->nemail = 1;
        }
        if (fi_pct(&r, 50)) {
            contact_redacted(&d->c[FI_C_ADMIN], 0, 0);
            contact_redacted(&d->c[FI_C_TECH], 0, 0);
        } else {
            contact_clear(&d->c[FI_C_ADMIN]);
            contact_clear(&d->c[FI_C_TECH]);
        }
        contact_clear(&d->c[FI_C_BILLING]);
    } else if (roll < 55) {
        uint32_t svc = universe ? fi_privacy_of(w, d->index) : fi_below(&r, fi_nprivacy);
        uint32_t email = universe ? fi_email_privacy(w, d->index) : w->privacy_email[svc];
        contact_privacy(w, svc, email, &d->c[FI_C_REGISTRANT]);
        d->c[FI_C_ADMIN] = d->c[FI_C_REGISTRANT];
        d->c[FI_C_TECH] = d->c[FI_C_REGISTRANT];
        if (fi_pct(&r, 30))
            d->c[FI_C_BILLING] = d->c[FI_C_REGISTRANT];
        else
            contact_clear(&d->c[FI_C_BILLING]);
    } else {
        real = 1;
        contact_identity(w, k, form, &d->c[FI_C_REGISTRANT]);
        if (fi_pct(&r, 70))
            d->c[FI_C_ADMIN] = d->c[FI_C_REGISTRANT];
        else
            contact_identity(w, fi_skew(&r, w->nid, 1.5), form, &d->c[FI_C_ADMIN]);
        if (fi_pct(&r, 60))
            d->c[FI_C_TECH] = d->c[FI_C_ADMIN];
        else
            contact_identity(w, fi_skew(&r, w->nid, 1.5), form, &d->c[FI_C_TECH]);
        if (fi_pct(&r, 20))
            d->c[FI_C_BILLING] = d->c[FI_C_REGISTRANT];
        else
            contact_clear(&d->c[FI_C_BILLING]);
    }
    d->reg_name = d->c[FI_C_REGISTRANT].f[0];
    d->reg_org = d->c[FI_C_REGISTRANT].f[1];
    d->naddl = 0;
    if (d->registrar != FI_NONE && fi_pct(&r, 95))
        d->addl[d->naddl++] = w->registrar_email[d->registrar];

    /* DNS */
    uint32_t nip_roll = fi_below(&r, 100);
    d->nip = (uint8_t)(nip_roll < 6    ? 0
                       : nip_roll < 78 ? 1
                       : nip_roll < 90 ? 2
                       : nip_roll < 96 ? 3
                                       : 4);
    if (!d->active && fi_pct(&r, 70)) d->nip = 0;
    uint8_t nip = 0;
    for (uint8_t j = 0; j < d->nip; j++) {
        uint32_t ip = fi_skew(&r, w->nip, 2.5);
        if (!has_u32(d->ip, nip, ip)) d->ip[nip++] = ip;
    }
    d->nip = nip;
    d->nns = 0;
    d->nsoa = 0;
    if (fi_pct(&r, d->active ? 95 : 60)) {
        uint32_t p = pick_small(ns_weight, 10, &r);
        uint32_t gn = w->ns_prov_n[p];
        if (gn) {
            const fi_group_t *g = &w->nsg[w->ns_prov_first[p] + fi_skew(&r, gn, 2.0)];
            for (uint8_t j = 0; j < g->nhost && j < 5; j++)
                d->ns[d->nns++] = g->host[j];
            if (g->soa != FI_NONE) d->soa[d->nsoa++] = g->soa;
        }
    }
    d->nmx = 0;
    d->spf = 0;
    if (fi_pct(&r, 82)) {
        uint32_t p = pick_small(mx_weight, 11, &r);
        uint32_t gn = w->mx_prov_n[p];
        if (gn) {
            const fi_group_t *g = &w->mxg[w->mx_prov_first[p] + fi_skew(&r, gn, 2.0)];
            for (uint8_t j = 0; j < g->nhost && j < 5; j++)
                d->mx[d->nmx++] = g->host[j];
            roll = fi_below(&r, 100);
            d->spf = roll < 70 ? g->spf : roll < 85 ? (uint8_t)(11 + fi_below(&r, 2)) : 0;
        }
        if (fi_pct(&r, 4)) d->variant |= FI_V_PRIO_STRING;
    } else if (fi_pct(&r, 10)) {
        d->spf = 12;
    }

    /* certificates */
    d->nssl = 0;
    d->nssl_email = 0;
    roll = fi_below(&r, 100);
    uint32_t first = FI_NONE;
    if (universe && roll < 55)
        first = d->index;
    else if (roll < (universe ? 78u : 60u))
        first = w->n + 3 * fi_skew(&r, w->ncert_sh, 2.0) + fi_below(&r, 3);
    if (first != FI_NONE) {
        d->ssl[d->nssl++].cert = first;
        if (fi_pct(&r, 8)) {
            uint32_t c2 = w->n + 3 * fi_skew(&r, w->ncert_sh, 2.0) + fi_below(&r, 3);
            if (c2 != first) d->ssl[d->nssl++].cert = c2;
        }
    }
    for (uint8_t j = 0; j < d->nssl; j++) {
        fi_ssl_t *s = &d->ssl[j];
        s->short_shape = fi_pct(&r, 5);
        roll = fi_below(&r, 100);
        s->sources = roll < 65 ? 1 : roll < 90 ? 2 : 3;
        s->seen_ms = (FI_NOW - (int64_t)fi_below(&r, 30 * 86400)) * 1000 + fi_below(&r, 1000);
        s->email = FI_NONE;
        fi_cert_t c;
        fi_cert(w, s->cert, &c);
        if (j == 0 && real && c.org != FI_NONE && s->cert < w->n && fi_pct(&r, 50)) {
            s->email = d->c[FI_C_REGISTRANT].email[0];
            d->ssl_email[d->nssl_email++] = s->email;
        }
    }

    /* email domains: of the abuse mailboxes, the contacts, the SOA and the certificates */
    d->nedom = 0;
    for (uint8_t j = 0; j < d->naddl; j++)
        add_edom(w, d, d->addl[j]);
    static const int corder[4] = {FI_C_REGISTRANT, FI_C_ADMIN, FI_C_TECH, FI_C_BILLING};
    for (int c = 0; c < 4; c++)
        for (uint8_t j = 0; j < d->c[corder[c]].nemail; j++)
            add_edom(w, d, d->c[corder[c]].email[j]);
    for (uint8_t j = 0; j < d->nsoa; j++)
        add_edom(w, d, d->soa[j]);
    for (uint8_t j = 0; j < d->nssl_email; j++)
        add_edom(w, d, d->ssl_email[j]);

    /* web */
    d->redirect = d->redirect_domain = FI_NONE;
    if (w->n > 1 && fi_pct(&r, 8)) {
        uint32_t j = fi_skew(&r, w->n, 3.0);
        if (universe && j == d->index) j = (j + 1) % w->n;
        d->redirect_domain = fi_apex_universe(w, j);
        d->redirect = 3 * j + fi_below(&r, 3);
    }
    roll = fi_below(&r, 100);
    if (d->redirect != FI_NONE) {
        static const uint16_t rc[3] = {301, 302, 308};
        d->website_response = rc[fi_below(&r, 3)];
    } else {
        d->website_response = roll < 72   ? 200
                              : roll < 80 ? 403
                              : roll < 86 ? 404
                              : roll < 91 ? 500
                              : roll < 94 ? 503
                              : roll < 97 ? 520
                                          : 301;
    }
    d->title = fi_pct(&r, d->active ? 70 : 20) ? fi_skew(&r, w->ntitles, 2.0) : FI_NONE;
    if (d->title == FI_NONE && fi_pct(&r, 50)) d->variant |= FI_V_TITLE_BARE;
    d->server = fi_pct(&r, d->active ? 88 : 30) ? fi_pick(w->server_cum, fi_nservers, &r) : FI_NONE;
    if (d->server == FI_NONE && fi_pct(&r, 50)) d->variant |= FI_V_SERVER_BARE;
    d->updated_ms = (FI_NOW - (int64_t)fi_below(&r, 45 * 86400)) * 1000 + fi_below(&r, 1000);
    int64_t fs = (int64_t)d->create_day * 86400 + fi_below(&r, 20 * 86400);
    int64_t floor_fs = (int64_t)fi_days(2010, 6, 24) * 86400 + fi_below(&r, 86400);
    if (fs < floor_fs) fs = floor_fs;
    if (fs > FI_NOW - 1) fs = FI_NOW - 1 - fi_below(&r, 3600);
    d->first_seen = fs;

    /* tags */
    d->tags = 0;
    if (fi_pct(&r, 8)) {
        uint32_t nt = fi_pct(&r, 30) ? 2 : 1;
        for (uint32_t j = 0; j < nt; j++) {
            uint32_t t = fi_skew(&r, fi_ntags, 2.0);
            d->tags |= (uint16_t)(1u << t);
            d->tag_at[t] = FI_NOW - (int64_t)fi_below(&r, 400 * 86400);
        }
    }

    /* tracking codes: most domains have none; those that do share them in clusters */
    d->ga = fi_pct(&r, 6) ? fi_skew(&r, w->ncodes, 2.0) : FI_NONE;
    d->adsense = fi_pct(&r, 4) ? fi_skew(&r, w->ncodes, 2.0) : FI_NONE;
    bool ru = d->tld_len == 2 && memcmp(d->tld, "ru", 2) == 0;
    bool cn = d->tld_len == 2 && memcmp(d->tld, "cn", 2) == 0;
    const uint8_t pct[FI_NCODES] = {10, 8, 5, 3, (uint8_t)(cn ? 30 : 1), (uint8_t)(ru ? 30 : 2),
                                    1,  1, 0};
    for (int c = 0; c < FI_NCODES; c++) {
        d->ncodes[c] = 0;
        uint32_t p = pct[c];
        if (c == FI_NCODES - 1) p = d->ncodes[c - 1] ? 80 : 0; /* statcounter: project + security */
        if (!fi_pct(&r, p)) continue;
        d->codes[c][d->ncodes[c]++] = fi_skew(&r, w->ncodes, 2.0);
        if (fi_pct(&r, 10)) {
            uint32_t x = fi_skew(&r, w->ncodes, 2.0);
            if (x != d->codes[c][0]) d->codes[c][d->ncodes[c]++] = x;
        }
    }

    /* domain_risk */
    d->prox = -1;
    d->tp = d->tp_mal = d->tp_phish = d->tp_spam = 0;
    d->threats = d->evidence = d->prox_evidence = 0;
    if (fi_pct(&r, 3)) {
        d->risk_shape = (uint8_t)fi_below(&r, 2);
        d->risk = 0;
    } else {
        d->risk_shape = 2;
        if (fi_pct(&r, 65)) d->prox = (int16_t)(100.0 * fi_unit(&r) * fi_unit(&r) * fi_unit(&r));
        double u = fi_unit(&r);
        d->tp_mal = (uint8_t)(99.0 * u * u * u);
        u = fi_unit(&r);
        d->tp_phish = (uint8_t)(99.0 * u * u * u);
        u = fi_unit(&r);
        d->tp_spam = (uint8_t)(99.0 * u * u);
        d->tp = d->tp_mal > d->tp_phish ? d->tp_mal : d->tp_phish;
        if (d->tp_spam > d->tp) d->tp = d->tp_spam;
        if (d->tp >= 50) {
            if (d->tp_mal >= 50) d->threats |= 1;
            if (d->tp_phish >= 50) d->threats |= 2;
            if (d->tp_spam >= 50) d->threats |= 4;
        }
        if (d->tp >= 30) d->evidence = (uint8_t)(1 + fi_below(&r, 63));
        if (d->prox >= 30 && fi_pct(&r, 50)) d->prox_evidence = (uint8_t)(1u << fi_below(&r, 7));
        d->risk = (uint8_t)(d->prox > d->tp ? d->prox : d->tp);
        if (d->risk > 100) d->risk = 100;
    }
}

void fi_profile(const fi_world_t *w, uint32_t i, fi_dom_t *d) {
    d->index = i;
    d->key = i;
    d->name_len = fi_name(w, i, d->name);
    d->tld_id = fi_tld_of(w, i);
    d->tld = fi_tlds[d->tld_id].s;
    d->tld_len = strlen(d->tld);
    gen(w, d);
}

void fi_profile_name(const fi_world_t *w, const char *name, size_t len, fi_dom_t *d) {
    int64_t ix = fi_world_domain_index(w, name, len);
    if (ix >= 0) {
        fi_profile(w, (uint32_t)ix, d);
        return;
    }
    if (len >= sizeof(d->name)) len = sizeof(d->name) - 1;
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    d->name_len = len;
    d->index = FI_NONE;
    d->key = fi_hash_ci(name, len) | (1ULL << 63);
    /* the TLD is the longest known suffix, else the last label */
    d->tld_id = FI_NONE;
    size_t best = 0;
    for (uint32_t t = 0; t < fi_ntlds; t++) {
        size_t tl = strlen(fi_tlds[t].s);
        if (tl + 1 < len && tl > best && name[len - tl - 1] == '.' &&
            memcmp(name + len - tl, fi_tlds[t].s, tl) == 0) {
            best = tl;
            d->tld_id = t;
        }
    }
    if (d->tld_id != FI_NONE) {
        d->tld = fi_tlds[d->tld_id].s;
        d->tld_len = best;
    } else {
        const char *dot = memrchr(name, '.', len);
        d->tld = dot ? d->name + (dot - name) + 1 : d->name;
        d->tld_len = dot ? len - (size_t)(dot - name) - 1 : len;
    }
    gen(w, d);
}

/* ---- pairs ---- */

typedef struct {
    uint64_t slot[512];
    fi_pair_fn fn;
    void *ctx;
} pairset_t;

static void emit(pairset_t *s, fi_kind_t k, uint32_t id) {
    if (id == FI_NONE) return;
    uint64_t key = ((uint64_t)k << 32 | id) + 1;
    uint32_t i = (uint32_t)fi_mix64(key) & 511;
    while (s->slot[i]) {
        if (s->slot[i] == key) return;
        i = (i + 1) & 511;
    }
    s->slot[i] = key;
    s->fn(s->ctx, k, id);
}

void fi_profile_pairs(const fi_world_t *w, const fi_dom_t *d, fi_pair_fn fn, void *ctx) {
    pairset_t s;
    memset(s.slot, 0, sizeof(s.slot));
    s.fn = fn;
    s.ctx = ctx;
    for (uint8_t j = 0; j < d->nip; j++) {
        uint32_t ip = d->ip[j];
        emit(&s, K_IP, ip);
        emit(&s, K_ASN, w->ip_asn[ip]);
        emit(&s, K_ISP, w->ip_isp[ip]);
        emit(&s, K_IPCC, w->ip_cc[ip]);
    }
    for (int c = 0; c < 4; c++) {
        const fi_contact_t *ct = &d->c[c];
        for (uint8_t j = 0; j < ct->nemail; j++)
            emit(&s, K_EMAIL, ct->email[j]);
        emit(&s, K_C_NAME, ct->f[0]);
        emit(&s, K_C_ORG, ct->f[1]);
        emit(&s, K_C_STREET, ct->f[2]);
        emit(&s, K_C_CITY, ct->f[3]);
        emit(&s, K_C_STATE, ct->f[4]);
        emit(&s, K_C_POSTAL, ct->f[5]);
        emit(&s, K_C_COUNTRY, ct->f[6]);
        emit(&s, K_C_PHONE, ct->f[7]);
        emit(&s, K_C_FAX, ct->f[8]);
    }
    for (uint8_t j = 0; j < d->naddl; j++)
        emit(&s, K_EMAIL, d->addl[j]);
    for (uint8_t j = 0; j < d->nsoa; j++) {
        emit(&s, K_EMAIL, d->soa[j]);
        emit(&s, K_SOA_EMAIL, d->soa[j]);
    }
    for (uint8_t j = 0; j < d->nssl_email; j++) {
        emit(&s, K_EMAIL, d->ssl_email[j]);
        emit(&s, K_SSL_EMAIL, d->ssl_email[j]);
    }
    for (uint8_t j = 0; j < d->nedom; j++)
        emit(&s, K_EMAIL_DOMAIN, d->edom[j]);
    emit(&s, K_REG_NAME, d->reg_name);
    emit(&s, K_REG_ORG, d->reg_org);
    emit(&s, K_REGISTRAR, d->registrar);
    for (uint8_t j = 0; j < d->nns; j++) {
        const fi_host_t *h = &w->nsh[d->ns[j]];
        emit(&s, K_NS_HOST, d->ns[j]);
        emit(&s, K_NS_DOMAIN, h->apex);
        for (uint8_t q = 0; q < h->nip; q++)
            emit(&s, K_NS_IP, h->ip[q]);
    }
    for (uint8_t j = 0; j < d->nmx; j++) {
        const fi_host_t *h = &w->mxh[d->mx[j]];
        emit(&s, K_MX_HOST, d->mx[j]);
        emit(&s, K_MX_DOMAIN, h->apex);
        for (uint8_t q = 0; q < h->nip; q++)
            emit(&s, K_MX_IP, h->ip[q]);
    }
    emit(&s, K_REDIRECT, d->redirect);
    emit(&s, K_REDIRECT_DOMAIN, d->redirect_domain);
    for (uint8_t j = 0; j < d->nssl; j++) {
        fi_cert_t c;
        fi_cert(w, d->ssl[j].cert, &c);
        emit(&s, K_SSL_HASH, d->ssl[j].cert);
        emit(&s, K_SSL_SUBJECT, c.subject);
        emit(&s, K_SSL_ORG, c.org);
        emit(&s, K_SSL_CN, c.subject);
        emit(&s, K_SSL_ALT, 2 * c.subject);
        emit(&s, K_SSL_ALT, 2 * c.subject + 1);
        emit(&s, K_SSL_ISSUER, c.issuer);
        emit(&s, K_SSL_DURATION, c.duration);
        emit(&s, K_SSL_NA, (uint32_t)c.not_after);
        emit(&s, K_SSL_NB, (uint32_t)c.not_before);
    }
    emit(&s, K_CREATE, (uint32_t)d->create_day);
    emit(&s, K_EXPIRE, (uint32_t)d->expire_day);
    emit(&s, K_GA, d->ga);
    emit(&s, K_ADSENSE, d->adsense);
    for (int c = 0; c < FI_NCODES; c++)
        for (uint8_t j = 0; j < d->ncodes[c]; j++)
            emit(&s, (fi_kind_t)(K_GA4 + c), d->codes[c][j]);
    emit(&s, K_SERVER, d->server);
    emit(&s, K_TITLE, d->title);
}

typedef struct {
    fi_kind_t k;
    uint32_t id;
    bool found;
} has_t;

static void has_pair(void *ctx, fi_kind_t k, uint32_t id) {
    has_t *h = ctx;
    if (k == h->k && id == h->id) h->found = true;
}

bool fi_profile_has(const fi_world_t *w, const fi_dom_t *d, fi_kind_t k, uint32_t id) {
    has_t h = {k, id, false};
    fi_profile_pairs(w, d, has_pair, &h);
    return h.found;
}
