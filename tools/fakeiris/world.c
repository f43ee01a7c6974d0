/* world.c — the synthetic world's life cycle: the universe and its names, the interned
 * tables (external domains, mailboxes, A-record IPs, name and mail servers), and the
 * inverted indices that make every guided-pivot count exact.
 *
 * fi_world_new builds everything from the seed in two passes over the universe (count,
 * then fill: each domain's profile is generated twice rather than stored), then a value
 * lookup table per pivotable kind; fi_world_free releases it all. Afterwards the world is
 * read-only. Nothing here reads the clock or the environment: same seed, same bytes.
 * Never aborts: a failed allocation is IG_ENOMEM and frees what was built.
 */
#include "world_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_NAME 0x6e616d65u
#define SALT_IP 0x6970u

/* ---- universe names ---- */

typedef struct {
    uint32_t tld, adj, noun;
} name_parts_t;

static name_parts_t name_parts(const fi_world_t *w, uint32_t i) {
    fi_rng_t r = fi_rng(w->seed, i, SALT_NAME);
    name_parts_t p;
    p.tld = fi_pick(w->tld_cum, fi_ntlds, &r);
    p.adj = fi_below(&r, fi_nadj);
    p.noun = fi_below(&r, fi_nnoun);
    return p;
}

uint32_t fi_tld_of(const fi_world_t *w, uint32_t i) {
    return name_parts(w, i).tld;
}

size_t fi_name(const fi_world_t *w, uint32_t i, char *buf) {
    name_parts_t p = name_parts(w, i);
    size_t n = 0;
    for (const char *s = fi_adj[p.adj]; *s;)
        buf[n++] = *s++;
    for (const char *s = fi_noun[p.noun]; *s;)
        buf[n++] = *s++;
    char t[12];
    int k = 0;
    do {
        t[k++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    while (k)
        buf[n++] = t[--k];
    buf[n++] = '.';
    for (const char *s = fi_tlds[p.tld].s; *s;)
        buf[n++] = *s++;
    buf[n] = '\0';
    return n;
}

int fi_world_domain_name(const fi_world_t *w, uint32_t i, char *out, size_t outlen) {
    if (!w || i >= w->n) return IG_EINVAL;
    char buf[64];
    size_t n = fi_name(w, i, buf);
    if (n + 1 > outlen) return IG_ETOOBIG;
    memcpy(out, buf, n + 1);
    return IG_OK;
}

uint32_t fi_world_size(const fi_world_t *w) {
    return w ? w->n : 0;
}

size_t fi_world_memory(const fi_world_t *w) {
    return w ? w->memory : 0;
}

int64_t fi_world_domain_index(const fi_world_t *w, const char *s, size_t len) {
    size_t i = 0;
    while (i < len && s[i] >= 'a' && s[i] <= 'z')
        i++;
    size_t d0 = i;
    if (d0 == 0 || d0 > 32) return -1;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && i - d0 < 10)
        v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == d0 || i >= len || s[i] != '.') return -1;
    if (s[d0] == '0' && i - d0 > 1) return -1;
    if (v >= w->n) return -1;
    char buf[64];
    size_t n = fi_name(w, (uint32_t)v, buf);
    return n == len && memcmp(buf, s, len) == 0 ? (int64_t)v : -1;
}

/* ---- build helpers ---- */

static uint32_t *cum_of(const uint16_t *weights, size_t stride, uint32_t n) {
    uint32_t *cum = malloc(n * sizeof(*cum));
    if (!cum) return NULL;
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        acc += *(const uint16_t *)((const char *)weights + i * stride);
        cum[i] = acc;
    }
    return cum;
}

static uint32_t country_id(const char *cc) {
    for (uint32_t i = 1; i < fi_ncountries; i++)
        if (strcmp(fi_countries[i], cc) == 0) return i;
    return 1;
}

static uint32_t city_id(const char *name) {
    for (uint32_t i = 0; i < fi_ncities; i++)
        if (strcmp(fi_cities[i].city, name) == 0) return i;
    return 0;
}

static int add_apex(fi_world_t *w, const char *s, uint32_t *id) {
    return fi_strtab_add(&w->apex, s, strlen(s), id);
}

/* Interns a mailbox; *email is its email-space id. */
static int add_xemail(fi_world_t *w, const char *s, uint32_t *email) {
    uint32_t apex = FI_NONE, xid;
    const char *at = strchr(s, '@');
    if (at && add_apex(w, at + 1, &apex)) return IG_ENOMEM;
    if (fi_strtab_add(&w->xemail, s, strlen(s), &xid)) return IG_ENOMEM;
    if (xid >= w->xemail_apex_cap) {
        uint32_t cap = w->xemail_apex_cap ? w->xemail_apex_cap * 2 : 64;
        uint32_t *a = realloc(w->xemail_apex, cap * sizeof(*a));
        if (!a) return IG_ENOMEM;
        w->xemail_apex = a;
        w->xemail_apex_cap = cap;
    }
    w->xemail_apex[xid] = apex;
    *email = fi_email_x(w, xid);
    return IG_OK;
}

/* A set of IPv4 addresses, so each table's addresses are distinct. */
typedef struct {
    uint32_t *slot;
    uint32_t mask, n;
} addrset_t;

static int addrset_add(addrset_t *s, uint32_t a) {
    if ((s->n + 1) * 2 > s->mask + 1) {
        uint32_t cap = s->mask ? (s->mask + 1) * 2 : 1024;
        uint32_t *slot = calloc(cap, sizeof(*slot));
        if (!slot) return IG_ENOMEM;
        for (uint32_t i = 0; s->mask && i <= s->mask; i++) {
            if (!s->slot[i]) continue;
            uint32_t j = (uint32_t)fi_mix64(s->slot[i]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->mask = cap - 1;
    }
    uint32_t j = (uint32_t)fi_mix64(a) & s->mask;
    while (s->slot[j]) {
        if (s->slot[j] == a) return 1;
        j = (j + 1) & s->mask;
    }
    s->slot[j] = a;
    s->n++;
    return IG_OK;
}

/* Next free address in prefix a.b.0.0/16, walking a scrambled order from *ctr. */
static int alloc_addr(addrset_t *s, uint8_t a, uint8_t b, uint32_t *ctr, uint32_t *out) {
    for (;;) {
        uint32_t x = *ctr;
        (*ctr)++;
        uint32_t lo = ((x & 0xFFFF) * 40503u + 7919u * ((uint32_t)a + b)) & 0xFFFF;
        uint32_t hi = (x >> 16) & 0xFF; /* past 65536: spill into the next /16 */
        uint32_t addr = ((uint32_t)a << 24) | ((((uint32_t)b + hi) & 0xFF) << 16) | lo;
        if ((addr & 0xFF) == 0 || (addr & 0xFF) == 255) continue;
        int rc = addrset_add(s, addr);
        if (rc < 0) return rc;
        if (rc == 0) {
            *out = addr;
            return IG_OK;
        }
    }
}

/* ---- A-record IPs ---- */

static int build_ips(fi_world_t *w) {
    w->nasn = 0;
    for (uint32_t i = 0; i < fi_nnetworks; i++)
        for (int j = 0; j < 2; j++) {
            uint32_t a = fi_networks[i].asn[j], k;
            if (!a) continue;
            for (k = 0; k < w->nasn && w->asn_ids[k] != a; k++) {
            }
            if (k == w->nasn && w->nasn < 64) w->asn_ids[w->nasn++] = a;
        }
    w->ip_addr = malloc(w->nip * sizeof(uint32_t));
    w->ip_asn = malloc(w->nip);
    w->ip_isp = malloc(w->nip);
    w->ip_cc = malloc(w->nip);
    uint32_t *ctr = calloc(fi_nnetworks, sizeof(uint32_t));
    addrset_t set = {0};
    int rc = (!w->ip_addr || !w->ip_asn || !w->ip_isp || !w->ip_cc || !ctr) ? IG_ENOMEM : IG_OK;
    for (uint32_t k = 0; !rc && k < w->nip; k++) {
        fi_rng_t r = fi_rng(w->seed, k, SALT_IP);
        uint32_t net = fi_pick(w->network_cum, fi_nnetworks, &r);
        const fi_network_t *nw = &fi_networks[net];
        uint32_t np = 0;
        while (np < 4 && nw->prefix[np][0])
            np++;
        uint32_t which = fi_below(&r, np);
        rc =
            alloc_addr(&set, nw->prefix[which][0], nw->prefix[which][1], &ctr[net], &w->ip_addr[k]);
        if (rc) break;
        uint32_t slot = nw->asn[1] && fi_pct(&r, 25) ? 1 : 0, a;
        for (a = 0; a < w->nasn && w->asn_ids[a] != nw->asn[slot]; a++) {
        }
        w->ip_asn[k] = (uint8_t)a;
        const char *isp = nw->isp[nw->isp[1] && fi_pct(&r, 30) ? 1 : 0];
        uint32_t ispid;
        rc = fi_strtab_add(&w->isps, isp, strlen(isp), &ispid);
        w->ip_isp[k] = (uint8_t)ispid;
        uint32_t roll = fi_below(&r, 100);
        const char *cc = nw->cc[0];
        if (roll >= 75 && nw->cc[1]) cc = (roll >= 90 && nw->cc[2]) ? nw->cc[2] : nw->cc[1];
        w->ip_cc[k] = (uint8_t)country_id(cc);
    }
    free(ctr);
    free(set.slot);
    return rc;
}

/* ---- name servers and mail servers ---- */

typedef struct {
    fi_world_t *w;
    addrset_t set;
    uint32_t ctr;
    int mx;
    uint32_t hcap, gcap, ipcap;
} hostb_t;

static int host_add(hostb_t *b, const char *name, const char *apex, uint8_t pa, uint8_t pb,
                    uint32_t nip, uint8_t prio, uint32_t *id) {
    fi_world_t *w = b->w;
    uint32_t before = w->hosts.n, hid, aid;
    if (fi_strtab_add(&w->hosts, name, strlen(name), &hid) || add_apex(w, apex, &aid))
        return IG_ENOMEM;
    if (w->hosts.n == before) return IG_EINVAL; /* the tables below must not repeat a host */
    fi_host_t **arr = b->mx ? &w->mxh : &w->nsh;
    uint32_t *n = b->mx ? &w->nmxh : &w->nnsh;
    if (*n == b->hcap) {
        uint32_t cap = b->hcap ? b->hcap * 2 : 256;
        fi_host_t *a = realloc(*arr, cap * sizeof(*a));
        if (!a) return IG_ENOMEM;
        *arr = a;
        b->hcap = cap;
    }
    fi_host_t *h = &(*arr)[*n];
    memset(h, 0, sizeof(*h));
    h->host = hid;
    h->apex = aid;
    h->prio = prio;
    uint32_t **ips = b->mx ? &w->mx_ip : &w->ns_ip;
    uint32_t *nips = b->mx ? &w->nmx_ip : &w->nns_ip;
    for (uint32_t j = 0; j < nip && j < 3; j++) {
        if (*nips == b->ipcap) {
            uint32_t cap = b->ipcap ? b->ipcap * 2 : 256;
            uint32_t *a = realloc(*ips, cap * sizeof(*a));
            if (!a) return IG_ENOMEM;
            *ips = a;
            b->ipcap = cap;
        }
        int rc = alloc_addr(&b->set, pa, pb, &b->ctr, &(*ips)[*nips]);
        if (rc) return rc;
        h->ip[h->nip++] = (*nips)++;
    }
    *id = (*n)++;
    return IG_OK;
}

static int group_add(hostb_t *b, const uint32_t *hosts, uint32_t nh, uint32_t soa, uint8_t spf) {
    fi_world_t *w = b->w;
    fi_group_t **arr = b->mx ? &w->mxg : &w->nsg;
    uint32_t *n = b->mx ? &w->nmxg : &w->nnsg;
    if (*n == b->gcap) {
        uint32_t cap = b->gcap ? b->gcap * 2 : 256;
        fi_group_t *a = realloc(*arr, cap * sizeof(*a));
        if (!a) return IG_ENOMEM;
        *arr = a;
        b->gcap = cap;
    }
    fi_group_t *g = &(*arr)[*n];
    memset(g, 0, sizeof(*g));
    for (uint32_t i = 0; i < nh && i < 5; i++)
        g->host[g->nhost++] = hosts[i];
    g->soa = soa;
    g->spf = spf;
    (*n)++;
    return IG_OK;
}

static uint32_t clampu(uint32_t v, uint32_t lo, uint32_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

static int build_ns(fi_world_t *w) {
    hostb_t b = {.w = w};
    char name[160];
    uint32_t h[8], soa;
    int rc = IG_OK;
#define PROV_BEGIN(p) w->ns_prov_first[p] = w->nnsg
#define PROV_END(p) w->ns_prov_n[p] = w->nnsg - w->ns_prov_first[p]
    /* 0: Cloudflare — 40 named hosts, a domain gets a pair */
    PROV_BEGIN(0);
    if ((rc = add_xemail(w, "dns@cloudflare.com", &soa))) goto out;
    uint32_t cf[64];
    for (uint32_t i = 0; i < fi_ncf_names; i++) {
        snprintf(name, sizeof(name), "%s.ns.cloudflare.com", fi_cf_names[i]);
        if ((rc = host_add(&b, name, "cloudflare.com", 173, 245, 1, 0, &cf[i]))) goto out;
    }
    uint32_t npairs = fi_ncf_names * (fi_ncf_names - 1) / 2;
    uint32_t ncfg = clampu(w->n / 50, 40, npairs);
    uint32_t off = (uint32_t)(w->seed % npairs);
    for (uint32_t g = 0; g < ncfg; g++) {
        uint32_t p = (uint32_t)(((uint64_t)g * 7919 + off) % npairs), a = 0;
        while (p >= fi_ncf_names - 1 - a)
            p -= fi_ncf_names - 1 - a++;
        h[0] = cf[a];
        h[1] = cf[a + 1 + p];
        if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    }
    PROV_END(0);
    /* 1: GoDaddy's domaincontrol.com */
    PROV_BEGIN(1);
    if ((rc = add_xemail(w, "dns@jomax.net", &soa))) goto out;
    for (uint32_t g = 0; g < 40; g++) {
        for (uint32_t j = 0; j < 2; j++) {
            snprintf(name, sizeof(name), "ns%02u.domaincontrol.com", 2 * g + j + 1);
            if ((rc = host_add(&b, name, "domaincontrol.com", 97, 74, 1, 0, &h[j]))) goto out;
        }
        if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    }
    PROV_END(1);
    /* 2: Namecheap */
    PROV_BEGIN(2);
    if ((rc = add_xemail(w, "hostmaster@registrar-servers.com", &soa))) goto out;
    {
        static const char *const nc[] = {"dns1", "dns2", "dns101", "dns102", "pdns1", "pdns2"};
        for (uint32_t g = 0; g < 3; g++) {
            for (uint32_t j = 0; j < 2; j++) {
                snprintf(name, sizeof(name), "%s.registrar-servers.com", nc[2 * g + j]);
                if ((rc = host_add(&b, name, "registrar-servers.com", 156, 154, 1, 0, &h[j])))
                    goto out;
            }
            if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
        }
    }
    PROV_END(2);
    /* 3: Route 53 — each host under its own awsdns-NN domain */
    PROV_BEGIN(3);
    if ((rc = add_xemail(w, "awsdns-hostmaster@amazon.com", &soa))) goto out;
    {
        static const char *const tl[] = {"com", "net", "org", "co.uk"};
        uint32_t ng = clampu(w->n / 200, 16, 512);
        for (uint32_t g = 0; g < ng; g++) {
            for (uint32_t j = 0; j < 4; j++) {
                char apex[64];
                snprintf(apex, sizeof(apex), "awsdns-%02u.%s", (g + j * 16) % 64, tl[j]);
                snprintf(name, sizeof(name), "ns-%u.%s", 4 * g + j + 1, apex);
                if ((rc = host_add(&b, name, apex, 205, 251, 1, 0, &h[j]))) goto out;
            }
            if ((rc = group_add(&b, h, 4, soa, 0))) goto out;
        }
    }
    PROV_END(3);
    /* 4: Google Cloud DNS */
    PROV_BEGIN(4);
    if ((rc = add_xemail(w, "cloud-dns-hostmaster@google.com", &soa))) goto out;
    for (uint32_t g = 0; g < 5; g++) {
        for (uint32_t j = 0; j < 4; j++) {
            snprintf(name, sizeof(name), "ns-cloud-%c%u.googledomains.com", 'a' + g, j + 1);
            if ((rc = host_add(&b, name, "googledomains.com", 216, 239, 1, 0, &h[j]))) goto out;
        }
        if ((rc = group_add(&b, h, 4, soa, 0))) goto out;
    }
    PROV_END(4);
    /* 5: Hostinger */
    PROV_BEGIN(5);
    if ((rc = add_xemail(w, "dns@hostinger.com", &soa))) goto out;
    for (uint32_t j = 0; j < 2; j++) {
        snprintf(name, sizeof(name), "ns%u.dns-parking.com", j + 1);
        if ((rc = host_add(&b, name, "dns-parking.com", 162, 159, 1, 0, &h[j]))) goto out;
    }
    if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    PROV_END(5);
    /* 6: OVH */
    PROV_BEGIN(6);
    if ((rc = add_xemail(w, "tech@ovh.net", &soa))) goto out;
    for (uint32_t g = 0, ng = clampu(w->n / 500, 8, 200); g < ng; g++) {
        snprintf(name, sizeof(name), "dns%u.ovh.net", g + 10);
        if ((rc = host_add(&b, name, "ovh.net", 213, 186, 1, 0, &h[0]))) goto out;
        snprintf(name, sizeof(name), "ns%u.ovh.net", g + 10);
        if ((rc = host_add(&b, name, "ovh.net", 213, 251, 1, 0, &h[1]))) goto out;
        if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    }
    PROV_END(6);
    /* 7: Alibaba Cloud DNS */
    PROV_BEGIN(7);
    if ((rc = add_xemail(w, "hostmaster@hichina.com", &soa))) goto out;
    for (uint32_t g = 0, ng = clampu(w->n / 1000, 4, 40); g < ng; g++) {
        for (uint32_t j = 0; j < 2; j++) {
            snprintf(name, sizeof(name), "dns%u.hichina.com", 2 * g + j + 1);
            if ((rc = host_add(&b, name, "hichina.com", 140, 205, 1, 0, &h[j]))) goto out;
        }
        if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    }
    PROV_END(7);
    /* 8: NS1 */
    PROV_BEGIN(8);
    if ((rc = add_xemail(w, "hostmaster@nsone.net", &soa))) goto out;
    for (uint32_t g = 0, ng = clampu(w->n / 1000, 4, 100); g < ng; g++) {
        for (uint32_t j = 0; j < 4; j++) {
            snprintf(name, sizeof(name), "dns%u.p%02u.nsone.net", j + 1, g);
            if ((rc = host_add(&b, name, "nsone.net", 198, 51, 1, 0, &h[j]))) goto out;
        }
        if ((rc = group_add(&b, h, 4, soa, 0))) goto out;
    }
    PROV_END(8);
    /* 9: the small hosting companies, each its own pair */
    PROV_BEGIN(9);
    for (uint32_t g = 0; g < w->nhosting; g++) {
        const char *apex = fi_strtab_get(&w->apex, w->hosting_apex[g], NULL);
        char mbox[160];
        snprintf(mbox, sizeof(mbox), "hostmaster@%s", apex);
        if ((rc = add_xemail(w, mbox, &soa))) goto out;
        for (uint32_t j = 0; j < 2; j++) {
            snprintf(name, sizeof(name), "ns%u.%s", j + 1, apex);
            if ((rc = host_add(&b, name, apex, 185, (uint8_t)(g % 200), 1, 0, &h[j]))) goto out;
        }
        if ((rc = group_add(&b, h, 2, soa, 0))) goto out;
    }
    PROV_END(9);
#undef PROV_BEGIN
#undef PROV_END
out:
    free(b.set.slot);
    return rc;
}

static int build_mx(fi_world_t *w) {
    hostb_t b = {.w = w, .mx = 1};
    char name[160];
    uint32_t h[8];
    int rc = IG_OK;
    typedef struct {
        const char *host, *apex;
        uint8_t prio, nip;
    } mxdef_t;
    static const struct {
        mxdef_t hosts[6];
        uint8_t pa, pb, spf, prov;
    } fixed[] = {
        {{{"aspmx.l.google.com", "google.com", 1, 1},
          {"alt1.aspmx.l.google.com", "google.com", 5, 1},
          {"alt2.aspmx.l.google.com", "google.com", 5, 1},
          {"alt3.aspmx.l.google.com", "google.com", 10, 1},
          {"alt4.aspmx.l.google.com", "google.com", 10, 1}},
         142,
         250,
         1,
         0},
        {{{"smtp.google.com", "google.com", 1, 2}}, 74, 125, 1, 0},
        {{{"aspmx2.googlemail.com", "googlemail.com", 10, 1},
          {"aspmx3.googlemail.com", "googlemail.com", 10, 1}},
         64,
         233,
         1,
         0},
        {{{"mx.zoho.com", "zoho.com", 10, 2},
          {"mx2.zoho.com", "zoho.com", 20, 2},
          {"mx3.zoho.com", "zoho.com", 50, 1}},
         204,
         141,
         2,
         1},
        {{{"mailstore1.secureserver.net", "secureserver.net", 10, 1},
          {"smtp.secureserver.net", "secureserver.net", 0, 2}},
         68,
         178,
         3,
         2},
        {{{"eforward1.registrar-servers.com", "registrar-servers.com", 10, 1},
          {"eforward2.registrar-servers.com", "registrar-servers.com", 10, 1},
          {"eforward3.registrar-servers.com", "registrar-servers.com", 10, 1},
          {"eforward4.registrar-servers.com", "registrar-servers.com", 15, 1},
          {"eforward5.registrar-servers.com", "registrar-servers.com", 20, 1}},
         162,
         255,
         4,
         3},
        {{{"mxa.mailgun.org", "mailgun.org", 10, 2}, {"mxb.mailgun.org", "mailgun.org", 10, 2}},
         69,
         72,
         5,
         4},
        {{{"mail.protonmail.ch", "protonmail.ch", 10, 1},
          {"mailsec.protonmail.ch", "protonmail.ch", 20, 1}},
         185,
         70,
         6,
         5},
        {{{"mx.yandex.net", "yandex.net", 10, 2}}, 77, 88, 7, 6},
        {{{"mx1.mail.ovh.net", "ovh.net", 1, 1},
          {"mx2.mail.ovh.net", "ovh.net", 5, 1},
          {"mx3.mail.ovh.net", "ovh.net", 100, 1}},
         188,
         165,
         8,
         7},
        {{{"mx1.hostinger.com", "hostinger.com", 5, 1},
          {"mx2.hostinger.com", "hostinger.com", 10, 1}},
         172,
         65,
         9,
         8},
        {{{"us-smtp-inbound-1.mimecast.com", "mimecast.com", 10, 2},
          {"us-smtp-inbound-2.mimecast.com", "mimecast.com", 10, 2}},
         205,
         139,
         10,
         9}};
    uint32_t google_a[5] = {0}, google_c[2] = {0};
    uint32_t prev_prov = FI_NONE;
    for (uint32_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
        uint32_t nh = 0;
        for (; nh < 6 && fixed[f].hosts[nh].host; nh++)
            if ((rc = host_add(&b, fixed[f].hosts[nh].host, fixed[f].hosts[nh].apex, fixed[f].pa,
                               fixed[f].pb, fixed[f].hosts[nh].nip, fixed[f].hosts[nh].prio,
                               &h[nh])))
                goto out;
        if (f == 0) memcpy(google_a, h, sizeof(google_a));
        if (f == 2) memcpy(google_c, h, sizeof(google_c));
        if (fixed[f].prov != prev_prov) {
            if (prev_prov != FI_NONE)
                w->mx_prov_n[prev_prov] = w->nmxg - w->mx_prov_first[prev_prov];
            w->mx_prov_first[fixed[f].prov] = w->nmxg;
            prev_prov = fixed[f].prov;
        }
        if (f == 2) {
            /* the classic G Suite set: three google.com hosts and two googlemail.com */
            uint32_t mix[5] = {google_a[0], google_a[1], google_a[2], google_c[0], google_c[1]};
            if ((rc = group_add(&b, mix, 5, FI_NONE, fixed[f].spf))) goto out;
        } else if ((rc = group_add(&b, h, nh, FI_NONE, fixed[f].spf))) {
            goto out;
        }
    }
    w->mx_prov_n[prev_prov] = w->nmxg - w->mx_prov_first[prev_prov];
    /* 10: the hosting companies' own mail servers */
    w->mx_prov_first[10] = w->nmxg;
    for (uint32_t g = 0; g < w->nhosting; g++) {
        const char *apex = fi_strtab_get(&w->apex, w->hosting_apex[g], NULL);
        snprintf(name, sizeof(name), "mail.%s", apex);
        if ((rc = host_add(&b, name, apex, 91, (uint8_t)(g % 200), 1, 10, &h[0]))) goto out;
        uint32_t nh = 1;
        if (g % 2 == 0) {
            snprintf(name, sizeof(name), "mx2.%s", apex);
            if ((rc = host_add(&b, name, apex, 91, (uint8_t)(g % 200), 1, 20, &h[1]))) goto out;
            nh = 2;
        }
        if ((rc = group_add(&b, h, nh, FI_NONE, 11))) goto out;
    }
    w->mx_prov_n[10] = w->nmxg - w->mx_prov_first[10];
out:
    free(b.set.slot);
    return rc;
}

/* ---- external tables ---- */

static int build_tables(fi_world_t *w) {
    uint32_t id;
    /* states: 0 is REDACTED */
    TRY(fi_strtab_add(&w->states, FI_REDACTED, strlen(FI_REDACTED), &id));
    w->city_state = malloc(fi_ncities * sizeof(uint32_t));
    w->city_country = malloc(fi_ncities * sizeof(uint32_t));
    if (!w->city_state || !w->city_country) return IG_ENOMEM;
    for (uint32_t c = 0; c < fi_ncities; c++) {
        TRY(fi_strtab_add(&w->states, fi_cities[c].state, strlen(fi_cities[c].state),
                          &w->city_state[c]));
        w->city_country[c] = country_id(fi_cities[c].cc);
    }
    /* apex space, in a fixed order so ids do not depend on anything but the code */
    w->freemail_apex = malloc(fi_nfreemail * sizeof(uint32_t));
    w->registrar_apex = malloc(fi_nregistrars * sizeof(uint32_t));
    w->privacy_apex = malloc(fi_nprivacy * sizeof(uint32_t));
    w->hosting_apex = malloc(w->nhosting * sizeof(uint32_t));
    w->registrar_email = malloc(fi_nregistrars * sizeof(uint32_t));
    w->registrar_form = malloc(fi_nregistrars * sizeof(uint32_t));
    w->privacy_email = malloc(fi_nprivacy * sizeof(uint32_t));
    w->privacy_postal = malloc(fi_nprivacy * sizeof(uint32_t));
    w->privacy_city = malloc(fi_nprivacy * sizeof(uint32_t));
    if (!w->freemail_apex || !w->registrar_apex || !w->privacy_apex || !w->hosting_apex ||
        !w->registrar_email || !w->registrar_form || !w->privacy_email || !w->privacy_postal ||
        !w->privacy_city)
        return IG_ENOMEM;
    for (uint32_t i = 0; i < fi_nfreemail; i++)
        TRY(add_apex(w, fi_freemail[i], &w->freemail_apex[i]));
    for (uint32_t i = 0; i < fi_nregistrars; i++)
        TRY(add_apex(w, fi_registrars[i].domain, &w->registrar_apex[i]));
    for (uint32_t i = 0; i < fi_nprivacy; i++)
        TRY(add_apex(w, fi_privacy[i].domain, &w->privacy_apex[i]));
    static const char *const hsuf[] = {"-hosting", "-host", "-cloud", "-web", "-servers"};
    static const char *const htld[] = {"net", "com", "io"};
    for (uint32_t g = 0; g < w->nhosting; g++) {
        fi_rng_t r = fi_rng(w->seed, g, 0x686f7374u);
        char name[96];
        snprintf(name, sizeof(name), "%s%s%s%u.%s", fi_adj[fi_below(&r, fi_nadj)],
                 fi_noun[fi_below(&r, fi_nnoun)], hsuf[g % 5], g + 1, htld[g % 3]);
        TRY(add_apex(w, name, &w->hosting_apex[g]));
    }
    /* mailboxes */
    for (uint32_t i = 0; i < fi_nregistrars; i++) {
        char mbox[160];
        snprintf(mbox, sizeof(mbox), "abuse@%s", fi_registrars[i].domain);
        TRY(add_xemail(w, mbox, &w->registrar_email[i]));
        w->registrar_form[i] = FI_NONE;
        if (fi_registrars[i].corporate) {
            snprintf(mbox, sizeof(mbox), "select request email form at https://domains.%s/whois",
                     fi_registrars[i].domain);
            TRY(add_xemail(w, mbox, &w->registrar_form[i]));
        }
    }
    for (uint32_t i = 0; i < fi_nprivacy; i++) {
        char mbox[160];
        snprintf(mbox, sizeof(mbox), "contact@%s", fi_privacy[i].domain);
        TRY(add_xemail(w, mbox, &w->privacy_email[i]));
        uint32_t c = city_id(fi_privacy[i].city);
        w->privacy_city[i] = c;
        /* a privacy service's postal code is a city code when it can be one, so no two
         * ids ever render the same code */
        const char *pc = fi_privacy[i].postal;
        if (fi_cities[c].postal) {
            w->privacy_postal[i] = FI_NONE; /* resolved once postal_sp is complete */
        } else {
            uint32_t sp;
            TRY(fi_strtab_add(&w->postal_sp, pc, strlen(pc), &sp));
            w->privacy_postal[i] = 1 + sp;
        }
    }
    TRY(fi_postal_canon_build(w));
    for (uint32_t i = 0; i < fi_nprivacy; i++)
        if (w->privacy_postal[i] == FI_NONE)
            w->privacy_postal[i] = w->postal_canon[w->privacy_city[i] * 20];
    /* the special names and orgs of the privacy services sit at fixed offsets */
    for (uint32_t i = 0; i < fi_nprivacy; i++)
        if (strcmp(fi_name_special[4 + i], fi_privacy[i].name) != 0 ||
            strcmp(fi_org_special[1 + i], fi_privacy[i].org) != 0)
            return IG_EINVAL;
    return IG_OK;
}

/* ---- indices ---- */

typedef struct {
    fi_world_t *w;
    uint32_t dom;
    int fill;
} pass_t;

static void pass_pair(void *ctx, fi_kind_t k, uint32_t id) {
    pass_t *p = ctx;
    fi_index_t *x = &p->w->idx[k];
    if (id >= p->w->pool[k]) return;
    if (!fi_kinds[k].list) {
        if (!p->fill) x->off[id]++;
    } else if (!p->fill) {
        x->off[id + 1]++;
    } else {
        x->dom[x->off[id]++] = p->dom;
    }
}

static uint16_t day16(int32_t day) {
    int32_t v = day - FI_DAY_1985;
    return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

static int build_index(fi_world_t *w) {
    for (int k = 0; k < K_COUNT; k++) {
        size_t n = (size_t)w->pool[k] + (fi_kinds[k].list ? 1 : 0);
        w->idx[k].off = calloc(n ? n : 1, sizeof(uint32_t));
        if (!w->idx[k].off) return IG_ENOMEM;
        w->memory += n * sizeof(uint32_t);
    }
    uint32_t n = w->n;
    w->d_create = malloc(n * sizeof(uint16_t));
    w->d_expire = malloc(n * sizeof(uint16_t));
    w->d_first = malloc(n * sizeof(uint32_t));
    w->d_updated = malloc(n * sizeof(uint32_t));
    w->d_rank = malloc(n * sizeof(uint32_t));
    w->d_risk = malloc(n);
    w->d_tld = malloc(n);
    w->d_flags = malloc(n);
    w->d_tags = malloc(n * sizeof(uint16_t));
    if (!w->d_create || !w->d_expire || !w->d_first || !w->d_updated || !w->d_rank || !w->d_risk ||
        !w->d_tld || !w->d_flags || !w->d_tags)
        return IG_ENOMEM;
    w->memory += (size_t)n * 21;
    fi_dom_t *d = malloc(sizeof(*d));
    if (!d) return IG_ENOMEM;
    pass_t p = {.w = w};
    for (uint32_t i = 0; i < n; i++) {
        fi_profile(w, i, d);
        p.dom = i;
        fi_profile_pairs(w, d, pass_pair, &p);
        w->d_create[i] = day16(d->create_day);
        w->d_expire[i] = day16(d->expire_day);
        w->d_first[i] = (uint32_t)d->first_seen;
        w->d_updated[i] = (uint32_t)(d->updated_ms / 1000);
        w->d_rank[i] = d->rank;
        w->d_risk[i] = d->risk;
        w->d_tld[i] = (uint8_t)d->tld_id;
        w->d_flags[i] = d->active ? FI_DF_ACTIVE : 0;
        w->d_tags[i] = d->tags;
    }
    for (int k = 0; k < K_COUNT; k++) {
        if (!fi_kinds[k].list) continue;
        fi_index_t *x = &w->idx[k];
        uint64_t acc = 0;
        for (uint32_t id = 0; id <= w->pool[k]; id++) {
            acc += x->off[id];
            if (acc > UINT32_MAX) {
                free(d);
                return IG_ETOOBIG;
            }
            x->off[id] = (uint32_t)acc; /* counts sat at id + 1: this is id's start */
        }
        x->dom = malloc((acc ? acc : 1) * sizeof(uint32_t));
        if (!x->dom) {
            free(d);
            return IG_ENOMEM;
        }
        w->memory += acc * sizeof(uint32_t);
    }
    p.fill = 1;
    for (uint32_t i = 0; i < n; i++) {
        fi_profile(w, i, d);
        p.dom = i;
        fi_profile_pairs(w, d, pass_pair, &p);
    }
    free(d);
    for (int k = 0; k < K_COUNT; k++) {
        if (!fi_kinds[k].list) continue;
        fi_index_t *x = &w->idx[k];
        /* filling advanced each start to the next id's start: shift back */
        for (uint32_t id = w->pool[k]; id > 0; id--)
            x->off[id] = x->off[id - 1];
        x->off[0] = 0;
    }
    return IG_OK;
}

/* Value lookup: every id with at least one domain, by its rendering. Two ids rendering the
 * same string would make counts lie, so that is an error, not a merge. */
static int build_lookup(fi_world_t *w, fi_kind_t k) {
    fi_index_t *x = &w->idx[k];
    uint32_t used = 0;
    for (uint32_t id = 0; id < w->pool[k]; id++)
        used += x->off[id + 1] > x->off[id];
    uint32_t cap = 16;
    while (cap < used * 2)
        cap *= 2;
    x->lut = calloc(cap, sizeof(uint32_t));
    if (!x->lut) return IG_ENOMEM;
    x->mask = cap - 1;
    w->memory += cap * sizeof(uint32_t);
    char a[512], b[512];
    for (uint32_t id = 0; id < w->pool[k]; id++) {
        if (x->off[id + 1] == x->off[id]) continue;
        size_t n = fi_value(w, k, id, a, sizeof(a));
        uint32_t s = (uint32_t)fi_hash_ci(a, n) & x->mask;
        while (x->lut[s]) {
            size_t m = fi_value(w, k, x->lut[s] - 1, b, sizeof(b));
            if (fi_eq_ci(a, n, b, m)) return IG_EINVAL;
            s = (s + 1) & x->mask;
        }
        x->lut[s] = id + 1;
    }
    return IG_OK;
}

uint32_t fi_lookup(const fi_world_t *w, fi_kind_t k, const char *s, size_t n) {
    const fi_index_t *x = &w->idx[k];
    if (!fi_kinds[k].list || !x->lut) return FI_NONE;
    char b[512];
    uint32_t i = (uint32_t)fi_hash_ci(s, n) & x->mask;
    while (x->lut[i]) {
        uint32_t id = x->lut[i] - 1;
        size_t m = fi_value(w, k, id, b, sizeof(b));
        if (fi_eq_ci(s, n, b, m)) return id;
        i = (i + 1) & x->mask;
    }
    return FI_NONE;
}

/* ---- life cycle ---- */

static uint32_t gcd32(uint32_t a, uint32_t b) {
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int build(fi_world_t *w) {
    uint32_t n = w->n;
    /* a bijection of [0, n) to scatter identities' company domains */
    w->perm_a = n > 1 ? (uint32_t)(fi_mix64(w->seed ^ 0x7065726dULL) % n) : 1;
    if (w->perm_a == 0) w->perm_a = 1;
    while (n > 1 && gcd32(w->perm_a, n) != 1)
        w->perm_a = w->perm_a + 1 < n ? w->perm_a + 1 : 1;
    w->perm_b = (uint32_t)(fi_mix64(w->seed ^ 0x62ULL) % n);

    if (fi_ntlds > 64) return IG_EINVAL;
    uint32_t acc = 0;
    for (uint32_t i = 0; i < fi_ntlds; i++)
        w->tld_cum[i] = acc += fi_tlds[i].weight;
    w->city_cum = cum_of(&fi_cities[0].weight, sizeof(fi_city_t), fi_ncities);
    w->issuer_cum = cum_of(&fi_issuers[0].weight, sizeof(fi_issuer_t), fi_nissuers);
    w->registrar_cum = cum_of(&fi_registrars[0].weight, sizeof(fi_registrar_t), fi_nregistrars);
    w->network_cum = cum_of(&fi_networks[0].weight, sizeof(fi_network_t), fi_nnetworks);
    w->server_cum = cum_of(&fi_servers[0].weight, sizeof(fi_weighted_t), fi_nservers);
    if (!w->city_cum || !w->issuer_cum || !w->registrar_cum || !w->network_cum || !w->server_cum)
        return IG_ENOMEM;

    /* pool shapes: fan-out grows with the universe */
    w->nid = n / 2 > 256 ? n / 2 : 256;
    w->norg = w->nid / 4 > 200 ? w->nid / 4 : 200;
    w->nhosting = clampu(n / 300, 16, 5000);
    w->ncert_sh = 2 * w->nhosting;
    w->ncodes = n / 30 > 50 ? n / 30 : 50;
    w->ntitles = fi_ntitles_fixed + (n / 15 > 200 ? n / 15 : 200);
    w->nip = n / 4 > 64 ? n / 4 : 64;

    TRY(build_tables(w));
    TRY(build_ips(w));
    TRY(build_ns(w));
    TRY(build_mx(w));

    uint32_t *P = w->pool;
    P[K_IP] = w->nip;
    P[K_ASN] = w->nasn;
    P[K_ISP] = w->isps.n;
    P[K_IPCC] = fi_ncountries;
    P[K_EMAIL] = P[K_SOA_EMAIL] = P[K_SSL_EMAIL] = w->nid + w->xemail.n + n;
    P[K_EMAIL_DOMAIN] = P[K_REDIRECT_DOMAIN] = w->apex.n + n;
    P[K_NS_DOMAIN] = P[K_MX_DOMAIN] = w->apex.n;
    P[K_REG_NAME] = P[K_C_NAME] = fi_nname_special + fi_nfirst * fi_nlast;
    P[K_REG_ORG] = P[K_C_ORG] = P[K_SSL_ORG] = fi_norg_special + w->norg;
    P[K_REGISTRAR] = fi_nregistrars;
    P[K_C_STREET] = 1 + fi_nprivacy + w->nid;
    P[K_C_CITY] = 1 + fi_ncities;
    P[K_C_STATE] = w->states.n;
    P[K_C_POSTAL] = 1 + w->postal_sp.n + fi_ncities * 20;
    P[K_C_COUNTRY] = fi_ncountries;
    P[K_C_PHONE] = fi_nprivacy + w->nid;
    P[K_C_FAX] = w->nid;
    P[K_NS_HOST] = w->nnsh;
    P[K_NS_IP] = w->nns_ip;
    P[K_MX_HOST] = w->nmxh;
    P[K_MX_IP] = w->nmx_ip;
    P[K_REDIRECT] = 3 * n;
    P[K_SSL_HASH] = n + 3 * w->ncert_sh;
    P[K_SSL_SUBJECT] = P[K_SSL_CN] = n + w->ncert_sh;
    P[K_SSL_ALT] = 2 * (n + w->ncert_sh);
    P[K_SSL_ISSUER] = fi_nissuers;
    P[K_SSL_DURATION] = 1000;
    P[K_SSL_NA] = P[K_SSL_NB] = P[K_CREATE] = P[K_EXPIRE] = FI_MAX_DAY;
    for (int k = K_GA; k <= K_SCS; k++)
        P[k] = w->ncodes;
    P[K_SERVER] = fi_nservers;
    P[K_TITLE] = w->ntitles;

    TRY(build_index(w));
    for (int k = 0; k < K_COUNT; k++)
        if (fi_kinds[k].list) TRY(build_lookup(w, (fi_kind_t)k));
    w->memory += fi_strtab_memory(&w->apex) + fi_strtab_memory(&w->xemail) +
                 fi_strtab_memory(&w->hosts) + (size_t)w->nip * 7 +
                 ((size_t)w->nnsh + w->nmxh) * sizeof(fi_host_t) +
                 ((size_t)w->nnsg + w->nmxg) * sizeof(fi_group_t);
    return IG_OK;
}

int fi_world_new(const fi_world_opts_t *o, fi_world_t **out) {
    *out = NULL;
    fi_world_t *w = calloc(1, sizeof(*w));
    if (!w) return IG_ENOMEM;
    w->seed = o ? o->seed : 0;
    w->n = o && o->ndomains ? o->ndomains : FI_WORLD_DEFAULT_DOMAINS;
    w->max_results = o && o->max_results ? o->max_results : FI_WORLD_DEFAULT_MAX_RESULTS;
    if (w->n > FI_WORLD_MAX_DOMAINS) {
        free(w);
        return IG_ETOOBIG;
    }
    w->memory = sizeof(*w);
    int rc = build(w);
    if (rc) {
        fi_world_free(w);
        return rc;
    }
    *out = w;
    return IG_OK;
}

void fi_world_free(fi_world_t *w) {
    if (!w) return;
    for (int k = 0; k < K_COUNT; k++) {
        free(w->idx[k].off);
        free(w->idx[k].dom);
        free(w->idx[k].lut);
    }
    free(w->city_cum);
    free(w->issuer_cum);
    free(w->registrar_cum);
    free(w->network_cum);
    free(w->server_cum);
    fi_strtab_free(&w->apex);
    fi_strtab_free(&w->xemail);
    fi_strtab_free(&w->states);
    fi_strtab_free(&w->postal_sp);
    fi_strtab_free(&w->isps);
    fi_strtab_free(&w->hosts);
    free(w->xemail_apex);
    free(w->privacy_postal);
    free(w->postal_canon);
    free(w->privacy_city);
    free(w->registrar_email);
    free(w->registrar_form);
    free(w->privacy_email);
    free(w->privacy_apex);
    free(w->city_state);
    free(w->city_country);
    free(w->hosting_apex);
    free(w->freemail_apex);
    free(w->registrar_apex);
    free(w->ip_addr);
    free(w->ip_asn);
    free(w->ip_isp);
    free(w->ip_cc);
    free(w->nsh);
    free(w->mxh);
    free(w->ns_ip);
    free(w->mx_ip);
    free(w->nsg);
    free(w->mxg);
    free(w->d_create);
    free(w->d_expire);
    free(w->d_first);
    free(w->d_updated);
    free(w->d_rank);
    free(w->d_risk);
    free(w->d_tld);
    free(w->d_flags);
    free(w->d_tags);
    free(w);
}
