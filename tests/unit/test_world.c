/* test_world.c — fakeiris' synthetic Iris world: determinism, guided-pivot counts that equal
 * what a pivot returns, pagination, the limit_exceeded answer, Enrich without counts, the
 * 400s, the contract's keys in the vendor's order, and the documented shape variations.
 *
 * The world's sources live in tools/fakeiris and are linked only into the fakeiris binary,
 * so this test compiles them in directly (a unity build of the eight files). Expected
 * values come from the contract (key lists of the recorded 2023+ answers) or from another
 * question to the same world (a pivot checks a count), never from printing what it says.
 */
#include "check.h"

#include "../../tools/fakeiris/profile.c"
#include "../../tools/fakeiris/search.c"
#include "../../tools/fakeiris/whois_text.c"
#include "../../tools/fakeiris/world.c"
#include "../../tools/fakeiris/world_data.c"
#include "../../tools/fakeiris/world_render.c"
#include "../../tools/fakeiris/world_strtab.c"
#include "../../tools/fakeiris/world_values.c"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DOMAINS 20000u

static fi_world_t *W; /* seed 7, N_DOMAINS, default cap */

/* ---- helpers ---- */

typedef struct {
    int status;
    ig_buf_t raw;
    cJSON *json;
    cJSON *resp; /* json.response, or NULL */
} answer_t;

static void answer_free(answer_t *a) {
    cJSON_Delete(a->json);
    ig_buf_free(&a->raw);
    memset(a, 0, sizeof(*a));
}

/* Asks w with key/value pairs (NULL-terminated varargs of const char *). */
static answer_t askv(fi_world_t *w, int enrich, const char *k1, va_list ap) {
    answer_t a = {0};
    ig_params_t p = {0};
    for (const char *k = k1; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        ig_params_add(&p, k, v, strlen(v));
    }
    int rc = fi_world_answer(w, enrich, &p, &a.raw, &a.status);
    CHECK_EQ_INT(rc, IG_OK);
    ig_params_free(&p);
    a.json = cJSON_ParseWithLength(a.raw.data ? a.raw.data : "", a.raw.len);
    CHECK(a.json != NULL);
    a.resp = cJSON_GetObjectItemCaseSensitive(a.json, "response");
    return a;
}

static answer_t ask(fi_world_t *w, int enrich, const char *k1, ...) {
    va_list ap;
    va_start(ap, k1);
    answer_t a = askv(w, enrich, k1, ap);
    va_end(ap);
    return a;
}

static cJSON *get(const cJSON *o, const char *k) {
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static long num(const cJSON *o, const char *k) {
    const cJSON *x = get(o, k);
    return cJSON_IsNumber(x) ? (long)x->valuedouble : -1;
}

static void name_of(uint32_t i, char *buf) {
    CHECK_EQ_INT(fi_world_domain_name(W, i, buf, 64), IG_OK);
}

/* The value of a VC as a question would send it. */
static const char *vc_text(const cJSON *vcj, char *buf, size_t cap) {
    const cJSON *v = get(vcj, "value");
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.0f", v->valuedouble);
        return buf;
    }
    return "";
}

static bool keys_are(const cJSON *o, const char *const *want, size_t n) {
    size_t i = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next, i++)
        if (i >= n || strcmp(c->string, want[i]) != 0) {
            fprintf(stderr, "  key %zu is \"%s\", expected \"%s\"\n", i, c->string,
                    i < n ? want[i] : "(end)");
            return false;
        }
    if (i != n) fprintf(stderr, "  %zu keys, expected %zu\n", i, n);
    return i == n;
}
#define KEYS_ARE(o, arr) keys_are((o), (arr), sizeof(arr) / sizeof((arr)[0]))

/* Investigate result keys of the 2023+ recordings, in order. */
static const char *const result_keys[] = {"domain",
                                          "whois_url",
                                          "adsense",
                                          "alexa",
                                          "popularity_rank",
                                          "active",
                                          "google_analytics",
                                          "ga4",
                                          "gtm_codes",
                                          "fb_codes",
                                          "hotjar_codes",
                                          "baidu_codes",
                                          "yandex_codes",
                                          "matomo_codes",
                                          "statcounter_project_codes",
                                          "statcounter_security_codes",
                                          "admin_contact",
                                          "billing_contact",
                                          "registrant_contact",
                                          "technical_contact",
                                          "create_date",
                                          "expiration_date",
                                          "email_domain",
                                          "soa_email",
                                          "ssl_email",
                                          "additional_whois_email",
                                          "ip",
                                          "mx",
                                          "name_server",
                                          "domain_risk",
                                          "redirect",
                                          "redirect_domain",
                                          "registrant_name",
                                          "registrant_org",
                                          "registrar",
                                          "registrar_status",
                                          "spf_info",
                                          "ssl_info",
                                          "tld",
                                          "website_response",
                                          "data_updated_timestamp",
                                          "website_title",
                                          "server_type",
                                          "first_seen",
                                          "tags"};

/* ---- cases ---- */

static void test_world_same_seed_same_bytes(void) {
    fi_world_opts_t o = {.seed = 7, .ndomains = N_DOMAINS};
    fi_world_t *b = NULL, *c = NULL;
    CHECK_EQ_INT(fi_world_new(&o, &b), IG_OK);
    o.seed = 8;
    CHECK_EQ_INT(fi_world_new(&o, &c), IG_OK);
    if (!b || !c) goto out;
    char n[64];
    name_of(123, n);
    const char *qs[][4] = {{"domain", n, NULL, NULL},
                           {"nameserver_domain", "domaincontrol.com", "page_size", "50"},
                           {"registrar", "GoDaddy.com, LLC", "page_size", "20"}};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        answer_t x = ask(W, 0, qs[i][0], qs[i][1], qs[i][2], qs[i][3], NULL);
        answer_t y = ask(b, 0, qs[i][0], qs[i][1], qs[i][2], qs[i][3], NULL);
        CHECK(x.raw.len > 100 && x.raw.len == y.raw.len &&
              memcmp(x.raw.data, y.raw.data, x.raw.len) == 0);
        answer_free(&x);
        answer_free(&y);
    }
    /* another seed is another world */
    char n8[64];
    CHECK_EQ_INT(fi_world_domain_name(c, 123, n8, sizeof(n8)), IG_OK);
    answer_t x = ask(W, 0, "domain", n, NULL);
    answer_t y = ask(c, 0, "domain", n8, NULL);
    CHECK(x.raw.len != y.raw.len || memcmp(x.raw.data, y.raw.data, x.raw.len) != 0);
    answer_free(&x);
    answer_free(&y);
out:
    fi_world_free(b);
    fi_world_free(c);
}

static void test_world_names_parse_back(void) {
    char n[64];
    for (uint32_t i = 0; i < N_DOMAINS; i += 997) {
        name_of(i, n);
        CHECK_EQ_INT(fi_world_domain_index(W, n, strlen(n)), i);
        CHECK(strchr(n, '.') && strlen(n) < 64);
    }
    name_of(N_DOMAINS - 1, n);
    CHECK_EQ_INT(fi_world_domain_index(W, n, strlen(n)), N_DOMAINS - 1);
    CHECK_EQ_INT(fi_world_domain_index(W, "example.com", 11), -1);
    CHECK_EQ_INT(fi_world_domain_name(W, N_DOMAINS, n, sizeof(n)), IG_EINVAL);
    /* a name with another index's digits is not a universe name */
    name_of(5, n);
    char *dot = strchr(n, '.');
    char forged[80];
    snprintf(forged, sizeof(forged), "%.*s6%s", (int)(dot - n - 1), n, dot);
    CHECK_EQ_INT(fi_world_domain_index(W, forged, strlen(forged)), -1);
}

static void test_world_result_has_every_contract_key(void) {
    static const char *const env_keys[] = {"limit_exceeded", "has_more_results", "message",
                                           "results_count",  "total_count",      "results",
                                           "missing_domains"};
    static const char *const contact_keys[] = {"name",   "org",     "street", "city", "state",
                                               "postal", "country", "phone",  "fax",  "email"};
    static const char *const ip_keys[] = {"address", "asn", "country_code", "isp"};
    static const char *const mx_keys[] = {"host", "domain", "ip", "priority"};
    static const char *const ns_keys[] = {"host", "domain", "ip"};
    static const char *const ssl_keys[] = {
        "hash",      "subject",    "organization", "email",
        "alt_names", "sources",    "common_name",  "issuer_common_name",
        "not_after", "not_before", "duration"};
    static const char *const risk_keys[] = {"risk_score", "components"};
    /* 100 domains at a time until every nested shape was seen */
    bool seen_ip = false, seen_mx = false, seen_ns = false, seen_ssl = false, seen_tag = false;
    char list[100 * 64];
    for (uint32_t base = 0; base < 2000 && !(seen_ip && seen_mx && seen_ns && seen_ssl && seen_tag);
         base += 100) {
        size_t at = 0;
        for (uint32_t i = base; i < base + 100; i++) {
            char n[64];
            name_of(i, n);
            at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", at ? "," : "", n);
        }
        answer_t a = ask(W, 0, "domain", list, NULL);
        CHECK_EQ_INT(a.status, 200);
        CHECK(KEYS_ARE(a.resp, env_keys));
        CHECK_EQ_INT(num(a.resp, "results_count"), 100);
        CHECK_EQ_INT(num(a.resp, "total_count"), 100);
        const cJSON *r;
        int i = 0;
        cJSON_ArrayForEach(r, get(a.resp, "results")) {
            char n[64];
            name_of(base + (uint32_t)i++, n);
            CHECK_EQ_STR(get(r, "domain")->valuestring, n);
            CHECK(KEYS_ARE(r, result_keys));
            static const char *const cs[] = {"admin_contact", "billing_contact",
                                             "registrant_contact", "technical_contact"};
            for (int c = 0; c < 4; c++)
                CHECK(KEYS_ARE(get(r, cs[c]), contact_keys));
            CHECK(KEYS_ARE(get(r, "domain_risk"), risk_keys));
            const cJSON *x;
            cJSON_ArrayForEach(x, get(r, "ip")) {
                CHECK(KEYS_ARE(x, ip_keys));
                CHECK(cJSON_IsNumber(get(cJSON_GetArrayItem(get(x, "asn"), 0), "value")));
                seen_ip = true;
            }
            cJSON_ArrayForEach(x, get(r, "mx")) {
                CHECK(KEYS_ARE(x, mx_keys));
                seen_mx = true;
            }
            cJSON_ArrayForEach(x, get(r, "name_server")) {
                CHECK(KEYS_ARE(x, ns_keys));
                seen_ns = true;
            }
            cJSON_ArrayForEach(x, get(r, "ssl_info")) {
                if (cJSON_GetArraySize(x) == 4) continue; /* the 2022 shape */
                CHECK(KEYS_ARE(x, ssl_keys));
                const char *h = get(get(x, "hash"), "value")->valuestring;
                CHECK(strlen(h) == 40 && strspn(h, "0123456789abcdef") == 40);
                long na = (long)get(get(x, "not_after"), "value")->valuedouble;
                CHECK(na > 19000000 && na < 21000000);
                CHECK(cJSON_IsNumber(get(get(x, "duration"), "value")));
                seen_ssl = true;
            }
            cJSON_ArrayForEach(x, get(r, "tags")) {
                static const char *const tag_keys[] = {"label", "scope", "tagged_at"};
                CHECK(KEYS_ARE(x, tag_keys));
                seen_tag = true;
            }
            cJSON_ArrayForEach(x, get(r, "registrar_status")) {
                CHECK(cJSON_IsString(x));
                for (const char *p = x->valuestring; *p; p++)
                    CHECK(!(*p >= 'A' && *p <= 'Z'));
            }
            CHECK_EQ_INT(num(get(r, "first_seen"), "count"), 0);
            char url[128];
            snprintf(url, sizeof(url), "https://whois.domaintools.com/%s", n);
            CHECK_EQ_STR(get(r, "whois_url")->valuestring, url);
        }
        /* the vendor escapes '/' */
        CHECK(strstr(a.raw.data, "https:\\/\\/whois.domaintools.com\\/") != NULL);
        answer_free(&a);
    }
    CHECK(seen_ip && seen_mx && seen_ns && seen_ssl && seen_tag);
}

/* Which question pivots on a VC at this place of a result. */
typedef struct {
    const char *path; /* key, or key[] for a list of VCs, key[].sub for objects in a list */
    const char *param;
} pivot_t;

static const pivot_t pivots[] = {
    {"ip[].address", "ip"},
    {"ip[].asn[]", "asn"},
    {"ip[].isp", "isp_name"},
    {"email_domain[]", "email_domain"},
    {"soa_email[]", "email_dns_soa"},
    {"ssl_email[]", "ssl_email"},
    {"additional_whois_email[]", "email"},
    {"registrant_contact.email[]", "email"},
    {"admin_contact.email[]", "email"},
    {"registrant_contact.name", "contact_name"},
    {"technical_contact.name", "contact_name"},
    {"registrant_contact.street", "contact_street"},
    {"registrant_contact.phone", "contact_phone"},
    {"registrant_name", "registrant"},
    {"registrant_org", "registrant_org"},
    {"registrar", "registrar"},
    {"name_server[].host", "nameserver_host"},
    {"name_server[].domain", "nameserver_domain"},
    {"name_server[].ip[]", "nameserver_ip"},
    {"mx[].host", "mailserver_host"},
    {"mx[].domain", "mailserver_domain"},
    {"mx[].ip[]", "mailserver_ip"},
    {"redirect_domain", "redirect_domain"},
    {"ssl_info[].hash", "ssl_hash"},
    {"ssl_info[].subject", "ssl_subject"},
    {"ssl_info[].organization", "ssl_org"},
    {"ssl_info[].common_name", "ssl_common_name"},
    {"ssl_info[].issuer_common_name", "ssl_issuer_common_name"},
    {"ssl_info[].duration", "ssl_duration"},
    {"google_analytics", "google_analytics"},
    {"adsense", "adsense"},
    {"ga4[]", "ga4"},
    {"gtm_codes[]", "google_tag_manager"},
    {"fb_codes[]", "facebook"},
    {"hotjar_codes[]", "hotjar"},
    {"baidu_codes[]", "baidu_analytics"},
    {"yandex_codes[]", "yandex_metrica"},
    {"matomo_codes[]", "matomo"},
    {"statcounter_project_codes[]", "statcounter_project"},
    {"statcounter_security_codes[]", "statcounter_security"},
    {"website_title", "website_title"},
    {"server_type", "server_type"},
};

typedef struct {
    const char *domain;
    const char *param;
    int outside; /* 1: the domain is not in the universe, so no pivot returns it */
    int checked, big, lone;
} pv_ctx_t;

/* A VC's count against the pivot on its value: total_count (plus the domain itself when it
 * is outside the universe, which a pivot cannot return), or limit_exceeded above the cap;
 * and the domain itself holds the value (the pivot ANDed with domain= finds it). */
static void check_vc(pv_ctx_t *c, const cJSON *vcj) {
    if (!cJSON_IsObject(vcj)) return; /* a bare "" */
    char buf[32];
    const char *v = vc_text(vcj, buf, sizeof(buf));
    long count = num(vcj, "count");
    if (!*v) {
        CHECK_EQ_INT(count, 0);
        return;
    }
    CHECK(count >= 1); /* at least the domain itself */
    if (count == 1 && c->outside) c->lone++;
    count -= c->outside;
    answer_t a = ask(W, 0, c->param, v, "page_size", "1", NULL);
    CHECK_EQ_INT(a.status, 200);
    if (count > (long)FI_WORLD_DEFAULT_MAX_RESULTS) {
        CHECK(cJSON_IsTrue(get(a.resp, "limit_exceeded")));
        c->big++;
    } else {
        long total = num(a.resp, "total_count");
        if (total != count)
            fprintf(stderr, "  %s=%s: count %ld, pivot %ld (%s)\n", c->param, v, count, total,
                    c->domain);
        CHECK_EQ_INT(total, count);
    }
    answer_free(&a);
    a = ask(W, 0, c->param, v, "domain", c->domain, NULL);
    CHECK_EQ_INT(num(a.resp, "total_count"), 1);
    answer_free(&a);
    c->checked++;
}

static void walk(pv_ctx_t *c, const cJSON *o, const char *path) {
    const char *dot = strchr(path, '.');
    const char *br = strstr(path, "[]");
    size_t klen = strlen(path);
    if (dot && (!br || dot < br)) klen = (size_t)(dot - path);
    if (br && (!dot || br < dot)) klen = (size_t)(br - path);
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)klen, path);
    const cJSON *x = get(o, key);
    const char *rest = path + klen;
    if (!x) {
        if (get(o, "hash") && !get(o, "alt_names")) return; /* the 2022 four-key ssl_info */
        fprintf(stderr, "  no %s in %s\n", key, c->domain);
        CHECK(x != NULL);
        return;
    }
    if (strncmp(rest, "[]", 2) == 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, x) {
            if (rest[2] == '.')
                walk(c, e, rest + 3);
            else
                check_vc(c, e);
        }
    } else if (*rest == '.') {
        walk(c, x, rest + 1);
    } else {
        check_vc(c, x);
    }
}

static void test_world_every_count_is_what_its_pivot_returns(void) {
    pv_ctx_t c = {0};
    for (uint32_t i = 3; i < N_DOMAINS; i += N_DOMAINS / 40) {
        char n[64];
        name_of(i, n);
        answer_t a = ask(W, 0, "domain", n, NULL);
        const cJSON *r = cJSON_GetArrayItem(get(a.resp, "results"), 0);
        c.domain = n;
        for (size_t p = 0; p < sizeof(pivots) / sizeof(pivots[0]); p++) {
            c.param = pivots[p].param;
            walk(&c, r, pivots[p].path);
        }
        answer_free(&a);
    }
    fprintf(stderr, "  %d counts checked, %d over the cap\n", c.checked, c.big);
    CHECK(c.checked > 500);
}

/* All pages of a question, following position; returns the domains in order. */
static int walk_pages(fi_world_t *w, const char *k, const char *v, const char *page,
                      const char *sort, char (*out)[64], int cap, long *total) {
    int n = 0, pages = 0;
    char pos[40] = "";
    *total = -1;
    for (;;) {
        answer_t a =
            *pos ? ask(w, 0, k, v, "page_size", page, "sort_by", sort, "position", pos, NULL)
                 : ask(w, 0, k, v, "page_size", page, "sort_by", sort, NULL);
        CHECK_EQ_INT(a.status, 200);
        if (*total < 0) *total = num(a.resp, "total_count");
        CHECK_EQ_INT(num(a.resp, "total_count"), *total);
        const cJSON *r;
        cJSON_ArrayForEach(r, get(a.resp, "results")) {
            if (n < cap) snprintf(out[n], 64, "%s", get(r, "domain")->valuestring);
            n++;
        }
        bool more = cJSON_IsTrue(get(a.resp, "has_more_results"));
        const cJSON *p = get(a.resp, "position");
        CHECK_EQ_STR(get(a.resp, "message")->valuestring,
                     more ? "There is more data for you to enjoy." : "Enjoy your data.");
        CHECK(more == (p != NULL));
        if (more) {
            CHECK(strlen(p->valuestring) == 32 && strspn(p->valuestring, "0123456789abcdef") == 32);
            snprintf(pos, sizeof(pos), "%s", p->valuestring);
        }
        answer_free(&a);
        if (!more || ++pages > 1000) break;
    }
    return n;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(a, b);
}

static void test_world_ip_count_walks_to_the_same_number(void) {
    /* the most shared IP among the first domains, and a few others */
    int walked = 0;
    for (uint32_t i = 0; i < 400 && walked < 6; i += 7) {
        char n[64];
        name_of(i, n);
        answer_t a = ask(W, 0, "domain", n, NULL);
        const cJSON *ip =
            cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(a.resp, "results"), 0), "ip"), 0);
        if (!ip) {
            answer_free(&a);
            continue;
        }
        const char *addr = get(get(ip, "address"), "value")->valuestring;
        long count = num(get(ip, "address"), "count");
        static char got[20000][64];
        long total;
        int k = walk_pages(W, "ip", addr, walked % 2 ? "7" : "500", "", got, 20000, &total);
        CHECK_EQ_INT(k, count);
        CHECK_EQ_INT(total, count);
        bool self = false;
        for (int j = 0; j < k && j < 20000; j++)
            self |= strcmp(got[j], n) == 0;
        CHECK(self);
        walked++;
        answer_free(&a);
    }
    CHECK(walked >= 3);
}

static void test_world_pages_cover_every_match_once(void) {
    static char got[20000][64];
    long total;
    /* a pivot of a few thousand: GoDaddy's name servers */
    int k = walk_pages(W, "nameserver_domain", "domaincontrol.com", "137", "", got, 20000, &total);
    CHECK(total > 500 && total < 10000);
    CHECK_EQ_INT(k, total);
    qsort(got, (size_t)k, 64, cmp_name);
    for (int j = 1; j < k; j++)
        CHECK(strcmp(got[j - 1], got[j]) != 0);
    /* sorted by domain: the pages are in order across their boundaries */
    int k2 = walk_pages(W, "nameserver_domain", "domaincontrol.com", "250", "domain", got, 20000,
                        &total);
    CHECK_EQ_INT(k2, k);
    for (int j = 1; j < k2; j++)
        CHECK(strcmp(got[j - 1], got[j]) < 0);
}

static void test_world_limit_exceeded_over_the_cap(void) {
    fi_world_opts_t o = {.seed = 7, .ndomains = N_DOMAINS, .max_results = 250};
    fi_world_t *w = NULL;
    CHECK_EQ_INT(fi_world_new(&o, &w), IG_OK);
    if (!w) return;
    answer_t a = ask(w, 0, "nameserver_domain", "domaincontrol.com", NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK_EQ_STR(
        a.raw.data,
        "{\"response\":{\"limit_exceeded\":true,\"has_more_results\":true,\"message\":"
        "\"Maximum 250 returned - you may need to refine your query.\",\"error\":{\"code\":"
        "413,\"message\":\"More than 250 matched - you may need to refine your query.\"},"
        "\"missing_domains\":[]}}");
    answer_free(&a);
    /* the same question under the cap answers normally */
    a = ask(W, 0, "nameserver_domain", "domaincontrol.com", "page_size", "1", NULL);
    CHECK(cJSON_IsFalse(get(a.resp, "limit_exceeded")));
    CHECK(num(a.resp, "total_count") > 250);
    answer_free(&a);
    fi_world_free(w);
    /* the default cap is 10000: about a third of 40000 domains are GDPR-redacted */
    o.ndomains = 40000;
    o.max_results = 0;
    CHECK_EQ_INT(fi_world_new(&o, &w), IG_OK);
    if (!w) return;
    a = ask(w, 0, "registrant_org", "REDACTED FOR PRIVACY", NULL);
    CHECK(strstr(a.raw.data, "\"Maximum 10000 returned - you may need to refine your query.\"") !=
          NULL);
    CHECK(get(a.resp, "results") == NULL);
    answer_free(&a);
    fi_world_free(w);
}

static bool has_count_key(const cJSON *o) {
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
        if (c->string && strcmp(c->string, "count") == 0) return true;
        if (has_count_key(c)) return true;
    }
    return false;
}

static void test_world_enrich_has_no_count(void) {
    static const char *const env[] = {"limit_exceeded", "message", "results_count", "results",
                                      "missing_domains"};
    char list[40 * 64];
    size_t at = 0;
    for (uint32_t i = 500; i < 540; i++) {
        char n[64];
        name_of(i, n);
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s,", n);
    }
    snprintf(list + at, sizeof(list) - at, "not_a_domain,Example.COM");
    answer_t a = ask(W, 1, "domain", list, NULL);
    CHECK_EQ_INT(a.status, 200);
    CHECK(KEYS_ARE(a.resp, env));
    CHECK_EQ_INT(num(a.resp, "results_count"), 41);
    CHECK(!has_count_key(a.json));
    CHECK(strstr(a.raw.data, "\"count\"") == NULL);
    const cJSON *r = cJSON_GetArrayItem(get(a.resp, "results"), 0);
    CHECK(KEYS_ARE(r, result_keys));
    CHECK(cJSON_IsObject(get(r, "first_seen")) && get(get(r, "first_seen"), "value"));
    CHECK_EQ_STR(get(cJSON_GetArrayItem(get(a.resp, "results"), 40), "domain")->valuestring,
                 "example.com");
    CHECK_EQ_STR(cJSON_GetArrayItem(get(a.resp, "missing_domains"), 0)->valuestring,
                 "not_a_domain");
    answer_free(&a);
}

/* Every VC with a value, wherever it sits, except those the vendor shows with count 0. */
static void check_counted(const cJSON *o, const char *key, int *n) {
    if (cJSON_IsObject(o) && get(o, "value") && get(o, "count")) {
        const cJSON *v = get(o, "value");
        bool set = cJSON_IsNumber(v) || (cJSON_IsString(v) && *v->valuestring);
        bool uncounted = key && (!strcmp(key, "first_seen") || !strcmp(key, "alt_names") ||
                                 !strcmp(key, "registrar_status"));
        if (set && !uncounted) {
            if (num(o, "count") < 1) fprintf(stderr, "  %s: count %ld\n", key, num(o, "count"));
            CHECK(num(o, "count") >= 1);
            (*n)++;
        }
        return;
    }
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
        check_counted(c, cJSON_IsArray(o) ? key : c->string, n);
}

static void test_world_outside_domain_counts_itself(void) {
    answer_t a = ask(W, 0, "domain", "example.com", NULL);
    answer_t b = ask(W, 0, "domain", "EXAMPLE.com", NULL);
    CHECK(a.raw.len == b.raw.len && memcmp(a.raw.data, b.raw.data, a.raw.len) == 0);
    CHECK_EQ_STR(get(cJSON_GetArrayItem(get(a.resp, "results"), 0), "tld")->valuestring, "com");
    answer_free(&a);
    answer_free(&b);
    /* Names irisgate's tests use, and more: "count = number of domains sharing that exact
     * value" includes the domain itself, and only the universe domains come back from the
     * pivot (an outside name is not enumerable), so the pivot finds count - 1. */
    pv_ctx_t c = {.outside = 1};
    int counted = 0;
    for (int i = 0; i < 40; i++) {
        char n[64];
        if (i == 0)
            snprintf(n, sizeof(n), "example-one.com");
        else
            snprintf(n, sizeof(n), "outside-%d.example.org", i);
        a = ask(W, 0, "domain", n, "parsed_whois", "true", "parsed_domain_rdap", "true", NULL);
        const cJSON *r = cJSON_GetArrayItem(get(a.resp, "results"), 0);
        CHECK_EQ_STR(get(r, "domain")->valuestring, n);
        check_counted(r, NULL, &counted);
        c.domain = n;
        for (size_t p = 0; p < sizeof(pivots) / sizeof(pivots[0]); p++) {
            c.param = pivots[p].param;
            walk(&c, r, pivots[p].path);
        }
        /* its own IP: its pivot does not list it */
        const cJSON *ip = cJSON_GetArrayItem(get(r, "ip"), 0);
        if (ip) {
            answer_t pv = ask(W, 0, "ip", get(get(ip, "address"), "value")->valuestring,
                              "page_size", "500", NULL);
            char needle[96];
            snprintf(needle, sizeof(needle), "\"domain\":\"%s\"", n);
            CHECK(strstr(pv.raw.data, needle) == NULL);
            answer_free(&pv);
        }
        answer_free(&a);
    }
    fprintf(stderr, "  %d counts >= 1, %d pivots checked, %d values only the outside name holds\n",
            counted, c.checked, c.lone);
    CHECK(counted > 1000 && c.checked > 400);
}

/* ---- the other pivots ---- */

/* total_count of a one-parameter pivot (-1 when over the cap). */
static long pivot_total(fi_world_t *w, const char *k, const char *v) {
    answer_t a = ask(w, 0, k, v, "page_size", "1", NULL);
    CHECK_EQ_INT(a.status, 200);
    long t = cJSON_IsTrue(get(a.resp, "limit_exceeded")) ? -1 : num(a.resp, "total_count");
    answer_free(&a);
    return t;
}

static long pivot_with_domain(fi_world_t *w, const char *k, const char *v, const char *domain) {
    answer_t a = ask(w, 0, k, v, "domain", domain, NULL);
    long t = num(a.resp, "total_count");
    answer_free(&a);
    return t;
}

/* The first universe domain (from 0) whose result has a VC at key[] (a list) or key.sub[]. */
static const cJSON *find_result(answer_t *a, const char *key, const char *sub, char *name) {
    for (uint32_t i = 0; i < 2000; i++) {
        name_of(i, name);
        *a = ask(W, 0, "domain", name, "parsed_domain_rdap", "true", NULL);
        const cJSON *r = cJSON_GetArrayItem(get(a->resp, "results"), 0);
        const cJSON *x = get(r, key);
        if (sub) {
            const cJSON *e;
            cJSON_ArrayForEach(e, x) {
                if (cJSON_GetArraySize(get(e, sub)) > 0) return r;
            }
        } else if (cJSON_GetArraySize(x) > 0 ||
                   (cJSON_IsObject(x) && *vc_text(x, (char[32]){0}, 32))) {
            return r;
        }
        answer_free(a);
    }
    CHECK(!"no domain with that field");
    return NULL;
}

static void test_world_iana_id_pivots_on_the_registrar(void) {
    int checked = 0;
    for (uint32_t i = 0; i < 400 && checked < 8; i += 13) {
        char n[64];
        name_of(i, n);
        answer_t a = ask(W, 0, "domain", n, "parsed_domain_rdap", "true", NULL);
        const cJSON *r = cJSON_GetArrayItem(get(a.resp, "results"), 0);
        const cJSON *reg = get(r, "registrar");
        const cJSON *iana = get(get(r, "parsed_domain_rdap"), "registrar_iana_id");
        const char *id = get(iana, "value")->valuestring;
        if (!cJSON_IsObject(reg) || !*id) {
            answer_free(&a);
            continue;
        }
        const char *name = get(reg, "value")->valuestring;
        long total = pivot_total(W, "iana_id", id);
        CHECK_EQ_INT(total, num(iana, "count"));
        CHECK_EQ_INT(total, pivot_total(W, "registrar", name));
        CHECK_EQ_INT(pivot_with_domain(W, "iana_id", id, n), 1);
        /* every result of the pivot has that IANA id in its RDAP record */
        answer_t p =
            ask(W, 0, "iana_id", id, "parsed_domain_rdap", "true", "page_size", "100", NULL);
        const cJSON *x;
        cJSON_ArrayForEach(x, get(p.resp, "results")) {
            CHECK_EQ_STR(
                get(get(get(x, "parsed_domain_rdap"), "registrar_iana_id"), "value")->valuestring,
                id);
            CHECK_EQ_STR(get(get(x, "registrar"), "value")->valuestring, name);
        }
        answer_free(&p);
        answer_free(&a);
        checked++;
    }
    CHECK(checked >= 5);
    CHECK_EQ_INT(pivot_total(W, "iana_id", "999999"), 0);
}

static void test_world_historical_registrant_is_the_registrant(void) {
    int checked = 0;
    for (uint32_t i = 1; i < 3000 && checked < 6; i += 37) {
        char n[64];
        name_of(i, n);
        answer_t a = ask(W, 0, "domain", n, NULL);
        const char *reg =
            get(get(cJSON_GetArrayItem(get(a.resp, "results"), 0), "registrant_name"), "value")
                ->valuestring;
        long count =
            num(get(cJSON_GetArrayItem(get(a.resp, "results"), 0), "registrant_name"), "count");
        if (!*reg || count > 500) {
            answer_free(&a);
            continue;
        }
        CHECK_EQ_INT(pivot_total(W, "historical_registrant", reg), count);
        CHECK_EQ_INT(pivot_with_domain(W, "historical_registrant", reg, n), 1);
        answer_t p = ask(W, 0, "historical_registrant", reg, "page_size", "500", NULL);
        const cJSON *x;
        cJSON_ArrayForEach(x, get(p.resp, "results"))
            CHECK(strcasecmp(get(get(x, "registrant_name"), "value")->valuestring, reg) == 0);
        answer_free(&p);
        answer_free(&a);
        checked++;
    }
    CHECK(checked >= 3);
}

static void test_world_ssl_alt_names_pivot(void) {
    answer_t a;
    char n[64];
    const cJSON *r = find_result(&a, "ssl_info", "alt_names", n);
    if (!r) return;
    int checked = 0;
    const cJSON *cert;
    cJSON_ArrayForEach(cert, get(r, "ssl_info")) {
        const cJSON *alt;
        int k = 0;
        cJSON_ArrayForEach(alt, get(cert, "alt_names")) {
            const char *v = get(alt, "value")->valuestring;
            CHECK_EQ_INT(num(alt, "count"), 0); /* as recorded: alt names are not counted */
            long total = pivot_total(W, "ssl_alt_names", v);
            CHECK(total >= 1);
            /* the first alt name is the CN: the same certificates, the same domains */
            if (k++ == 0)
                CHECK_EQ_INT(total,
                             pivot_total(W, "ssl_common_name",
                                         get(get(cert, "common_name"), "value")->valuestring));
            CHECK_EQ_INT(pivot_with_domain(W, "ssl_alt_names", v, n), 1);
            answer_t p = ask(W, 0, "ssl_alt_names", v, "page_size", "100", NULL);
            const cJSON *x;
            cJSON_ArrayForEach(x, get(p.resp, "results")) {
                bool has = false;
                const cJSON *c2, *a2;
                cJSON_ArrayForEach(c2, get(x, "ssl_info")) {
                    cJSON_ArrayForEach(a2, get(c2, "alt_names")) {
                        has |= strcasecmp(get(a2, "value")->valuestring, v) == 0;
                    }
                    /* the 2022 four-key shape shows the same certificate without its alt
                     * names: its subject is the one of the certificate asked about */
                    if (!get(c2, "alt_names"))
                        has |= strcmp(get(get(c2, "subject"), "value")->valuestring,
                                      get(get(cert, "subject"), "value")->valuestring) == 0;
                }
                CHECK(has);
            }
            answer_free(&p);
            checked++;
        }
    }
    CHECK(checked >= 2);
    answer_free(&a);
}

static void test_world_ga4_under_both_names(void) {
    int checked = 0;
    for (uint32_t i = 0; i < N_DOMAINS && checked < 5; i += 11) {
        char n[64];
        name_of(i, n);
        answer_t a = ask(W, 0, "domain", n, NULL);
        const cJSON *code =
            cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(a.resp, "results"), 0), "ga4"), 0);
        if (code) {
            const char *v = get(code, "value")->valuestring;
            CHECK(strncmp(v, "G-", 2) == 0);
            long count = num(code, "count");
            CHECK_EQ_INT(pivot_total(W, "google_analytics_4", v), count);
            CHECK_EQ_INT(pivot_total(W, "ga4", v), count);
            CHECK_EQ_INT(pivot_with_domain(W, "google_analytics_4", v, n), 1);
            answer_t x = ask(W, 0, "google_analytics_4", v, "page_size", "500", NULL);
            answer_t y = ask(W, 0, "ga4", v, "page_size", "500", NULL);
            CHECK(cJSON_GetArraySize(get(x.resp, "results")) ==
                  cJSON_GetArraySize(get(y.resp, "results")));
            answer_free(&x);
            answer_free(&y);
            checked++;
        }
        answer_free(&a);
    }
    CHECK_EQ_INT(checked, 5);
}

static void test_world_search_hash_is_a_stable_pivot(void) {
    static const char *const tokens[] = {"6f1f7ad3c1ba4b1e9b0c3c3d2c8e9f00", "a1b2c3d4", "x",
                                         "0000000000000000", "Export-From-Iris-UI"};
    long totals[5];
    int distinct = 0;
    for (int i = 0; i < 5; i++) {
        answer_t a = ask(W, 0, "search_hash", tokens[i], "page_size", "50", NULL);
        answer_t b = ask(W, 0, "search_hash", tokens[i], "page_size", "50", NULL);
        CHECK_EQ_INT(a.status, 200);
        CHECK(a.raw.len == b.raw.len && memcmp(a.raw.data, b.raw.data, a.raw.len) == 0);
        totals[i] =
            cJSON_IsTrue(get(a.resp, "limit_exceeded")) ? 100000 : num(a.resp, "total_count");
        CHECK(totals[i] >= 1);
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= totals[j] == totals[i];
        distinct += !seen;
        answer_free(&a);
        answer_free(&b);
    }
    CHECK(distinct >= 2); /* another token, another search */
}

/* ---- WHOIS free text ---- */

/* The WHOIS text of each domain of a world, read from its Investigate answer (the fields
 * docs/fakeiris.md lists), joined by '\n'; and the digits of its phones and faxes. */
typedef struct {
    char name[64];
    ig_buf_t text, digits;
} whois_doc_t;

static void add_text(whois_doc_t *d, const cJSON *vc, bool phone) {
    const char *v = cJSON_IsObject(vc) ? get(vc, "value")->valuestring : NULL;
    if (!v || !*v) return;
    ig_buf_puts(&d->text, v);
    ig_buf_putc(&d->text, '\n');
    if (phone) {
        for (const char *p = v; *p; p++)
            if (*p >= '0' && *p <= '9') ig_buf_putc(&d->digits, *p);
        ig_buf_putc(&d->digits, '\n');
    }
}

static whois_doc_t *whois_docs(fi_world_t *w, uint32_t n) {
    whois_doc_t *docs = calloc(n, sizeof(*docs));
    static const char *const cs[] = {"admin_contact", "billing_contact", "registrant_contact",
                                     "technical_contact"};
    static const char *const fs[] = {"name",   "org",     "street", "city", "state",
                                     "postal", "country", "phone",  "fax"};
    char list[100 * 64];
    for (uint32_t base = 0; base < n; base += 100) {
        size_t at = 0;
        for (uint32_t i = base; i < base + 100 && i < n; i++) {
            CHECK_EQ_INT(fi_world_domain_name(w, i, docs[i].name, 64), IG_OK);
            at +=
                (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", at ? "," : "", docs[i].name);
        }
        answer_t a = ask(w, 0, "domain", list, NULL);
        const cJSON *r;
        uint32_t i = base;
        cJSON_ArrayForEach(r, get(a.resp, "results")) {
            whois_doc_t *d = &docs[i++];
            ig_buf_puts(&d->text, "\n");
            ig_buf_puts(&d->digits, "\n");
            for (int c = 0; c < 4; c++) {
                for (int f = 0; f < 9; f++)
                    add_text(d, get(get(r, cs[c]), fs[f]), f >= 7);
                const cJSON *e;
                cJSON_ArrayForEach(e, get(get(r, cs[c]), "email")) add_text(d, e, false);
            }
            const cJSON *e;
            cJSON_ArrayForEach(e, get(r, "additional_whois_email")) add_text(d, e, false);
            add_text(d, get(r, "registrar"), false);
        }
        answer_free(&a);
    }
    return docs;
}

static bool doc_has(const whois_doc_t *d, const char *word) {
    if (strcasestr(d->text.data, word)) return true;
    char digits[64];
    size_t m = 0;
    for (const char *p = word; *p; p++) {
        if (*p >= '0' && *p <= '9' && m < 63)
            digits[m++] = *p;
        else if (!strchr("+.-()", *p))
            return false;
    }
    digits[m] = '\0';
    return m && strstr(d->digits.data, digits);
}

/* The domains a free-text pivot returns, all pages, as a 0/1 map over the universe. */
static long pivot_set(fi_world_t *w, const char *k, const char *v, uint8_t *in, uint32_t n) {
    memset(in, 0, n);
    long total = -1;
    char pos[40] = "";
    for (int pages = 0; pages < 100; pages++) {
        answer_t a = *pos ? ask(w, 0, k, v, "page_size", "500", "position", pos, NULL)
                          : ask(w, 0, k, v, "page_size", "500", NULL);
        CHECK_EQ_INT(a.status, 200);
        if (cJSON_IsTrue(get(a.resp, "limit_exceeded"))) {
            answer_free(&a);
            return -1;
        }
        total = num(a.resp, "total_count");
        const cJSON *r;
        cJSON_ArrayForEach(r, get(a.resp, "results")) {
            const char *d = get(r, "domain")->valuestring;
            int64_t i = fi_world_domain_index(w, d, strlen(d));
            CHECK(i >= 0);
            if (i >= 0) in[i] = 1;
        }
        const cJSON *p = get(a.resp, "position");
        if (p) snprintf(pos, sizeof(pos), "%s", p->valuestring);
        answer_free(&a);
        if (!p) break;
    }
    return total;
}

static void test_world_whois_is_free_text_over_the_record(void) {
    enum { N = 3000 };
    fi_world_opts_t o = {.seed = 7, .ndomains = N};
    fi_world_t *w = NULL;
    CHECK_EQ_INT(fi_world_new(&o, &w), IG_OK);
    if (!w) return;
    whois_doc_t *docs = whois_docs(w, N);
    static uint8_t got[N], got2[N];
    /* words as a user would type them: parts of fields, in any case */
    static const char *const words[] = {
        "reykjavik", "KALKOFNSVEGUR", "cheap",  "Markmonitor", "gmail.com", "select request",
        "privacy",   "Tempe",         "+1.480", "4806242599",  "llc",       "abuse@",
        "ionos se",  "Smith",         "de",     "M4K",         "zzzqqq",    "@outlook",
        "jomax",     "cloudflare",    "awsdns"};
    int nonempty = 0;
    for (size_t wi = 0; wi < sizeof(words) / sizeof(words[0]); wi++) {
        /* a phrase is its words ANDed */
        char copy[64];
        snprintf(copy, sizeof(copy), "%s", words[wi]);
        char *parts[4];
        int np = 0;
        for (char *t = strtok(copy, " "); t && np < 4; t = strtok(NULL, " "))
            parts[np++] = t;
        long want = 0;
        for (uint32_t i = 0; i < N; i++) {
            bool all = true;
            for (int k = 0; k < np; k++)
                all &= doc_has(&docs[i], parts[k]);
            want += all;
        }
        long total = pivot_set(w, "whois", words[wi], got, N);
        if (want > (long)FI_WORLD_DEFAULT_MAX_RESULTS) {
            CHECK_EQ_INT(total, -1);
            continue;
        }
        if (total != want)
            fprintf(stderr, "  whois=%s: %ld, expected %ld\n", words[wi], total, want);
        CHECK_EQ_INT(total, want);
        for (uint32_t i = 0; i < N; i++) {
            bool all = true;
            for (int k = 0; k < np; k++)
                all &= doc_has(&docs[i], parts[k]);
            if (all != (got[i] == 1)) {
                fprintf(stderr, "  whois=%s: %s %s\n", words[wi], docs[i].name,
                        all ? "missing" : "extra");
                CHECK(all == (got[i] == 1));
                break;
            }
        }
        nonempty += want > 0;
        /* no history in the world: the historical free text is the current record */
        CHECK_EQ_INT(pivot_set(w, "historical_free_text", words[wi], got2, N), total);
        CHECK(memcmp(got, got2, N) == 0);
        /* one domain asked by name with the same text */
        for (uint32_t i = 0; i < N && want; i++)
            if (got[i]) {
                answer_t a = ask(w, 0, "whois", words[wi], "domain", docs[i].name, NULL);
                CHECK_EQ_INT(num(a.resp, "total_count"), 1);
                answer_free(&a);
                break;
            }
    }
    CHECK(nonempty >= 12);
    /* case does not matter */
    CHECK_EQ_INT(pivot_set(w, "whois", "REYKJAVIK", got2, N),
                 pivot_set(w, "whois", "reykjavik", got, N));
    for (uint32_t i = 0; i < N; i++)
        free(docs[i].text.data), free(docs[i].digits.data);
    free(docs);
    /* outside the universe: its own record, by name */
    answer_t a = ask(w, 0, "domain", "example-one.com", NULL);
    const cJSON *r = cJSON_GetArrayItem(get(a.resp, "results"), 0);
    const cJSON *reg = get(r, "registrar");
    if (cJSON_IsObject(reg)) {
        char part[8];
        snprintf(part, sizeof(part), "%.5s", get(reg, "value")->valuestring);
        CHECK_EQ_INT(pivot_with_domain(w, "whois", part, "example-one.com"), 1);
    }
    CHECK_EQ_INT(pivot_with_domain(w, "whois", "zzzqqq", "example-one.com"), 0);
    answer_free(&a);
    fi_world_free(w);
}

static void check_400(answer_t a) {
    CHECK_EQ_INT(a.status, 400);
    CHECK_EQ_INT(num(get(a.json, "error"), "code"), 400);
    CHECK_EQ_STR(get(get(a.json, "error"), "message")->valuestring, IG_MSG_MALFORMED);
    CHECK(get(a.json, "resources") != NULL);
    answer_free(&a);
}

static void test_world_malformed_questions_are_400(void) {
    check_400(ask(W, 0, "tld", "com", NULL));                        /* no base parameter */
    check_400(ask(W, 0, "api_username", "u", "api_key", "k", NULL)); /* credentials only */
    check_400(ask(W, 0, "ip", "1.2.3.4", "page_size", "0", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "page_size", "501", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "page_size", "ten", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "position", "0123456789abcdef0123456789abcdef", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "position", "zz", NULL));
    check_400(ask(W, 0, "ip", "not-an-ip", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "sort_by", "popularity", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "sort_direction", "up", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "create_date", "2020/01/01", NULL));
    check_400(ask(W, 0, "ip", "1.2.3.4", "active", "maybe", NULL));
    check_400(ask(W, 1, "ip", "1.2.3.4", NULL)); /* Enrich needs domains */
    /* a position from another question */
    answer_t a = ask(W, 0, "nameserver_domain", "domaincontrol.com", "page_size", "10", NULL);
    const cJSON *p = get(a.resp, "position");
    CHECK(p != NULL);
    if (p) {
        check_400(ask(W, 0, "nameserver_domain", "registrar-servers.com", "page_size", "10",
                      "position", p->valuestring, NULL));
        answer_t ok = ask(W, 0, "nameserver_domain", "domaincontrol.com", "page_size", "10",
                          "position", p->valuestring, NULL);
        CHECK_EQ_INT(ok.status, 200);
        answer_free(&ok);
    }
    answer_free(&a);
    /* more than 100 domains */
    static char many[101 * 16];
    size_t at = 0;
    for (int i = 0; i < 101; i++)
        at += (size_t)snprintf(many + at, sizeof(many) - at, "d%d.com,", i);
    check_400(ask(W, 0, "domain", many, NULL));
    check_400(ask(W, 1, "domain", many, NULL));
}

static void test_world_shape_variations_occur(void) {
    int title_bare = 0, server_bare = 0, prio_string = 0, cc_upper = 0, cc_lower = 0,
        rank_empty = 0, rank_float = 0, alexa_empty = 0, alexa_int = 0, ssl_short = 0,
        registrar_bare = 0, zerolist = 0, threats = 0, codes = 0;
    char list[100 * 64];
    for (uint32_t base = 0; base < 3000; base += 100) {
        size_t at = 0;
        for (uint32_t i = base; i < base + 100; i++) {
            char n[64];
            name_of(i, n);
            at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", at ? "," : "", n);
        }
        answer_t a = ask(W, 0, "domain", list, NULL);
        const cJSON *r;
        cJSON_ArrayForEach(r, get(a.resp, "results")) {
            title_bare += cJSON_IsString(get(r, "website_title"));
            server_bare += cJSON_IsString(get(r, "server_type"));
            registrar_bare += cJSON_IsString(get(r, "registrar"));
            rank_empty += cJSON_IsString(get(r, "popularity_rank"));
            const cJSON *pr = get(r, "popularity_rank");
            rank_float += cJSON_IsNumber(pr) && pr->valuedouble != (double)(long)pr->valuedouble;
            alexa_empty += cJSON_IsString(get(r, "alexa"));
            alexa_int += cJSON_IsNumber(get(r, "alexa"));
            const cJSON *x;
            cJSON_ArrayForEach(x, get(r, "mx")) prio_string += cJSON_IsString(get(x, "priority"));
            cJSON_ArrayForEach(x, get(r, "ip")) {
                const char *cc = get(get(x, "country_code"), "value")->valuestring;
                cc_upper += cc[0] >= 'A' && cc[0] <= 'Z';
                cc_lower += cc[0] >= 'a' && cc[0] <= 'z';
            }
            cJSON_ArrayForEach(x, get(r, "ssl_info")) ssl_short += cJSON_GetArraySize(x) == 4;
            cJSON_ArrayForEach(x, get(get(r, "domain_risk"), "components")) {
                zerolist += strcmp(get(x, "name")->valuestring, "zerolist") == 0;
                threats += get(x, "threats") != NULL;
            }
            codes += cJSON_GetArraySize(get(r, "ga4")) + cJSON_GetArraySize(get(r, "gtm_codes"));
        }
        answer_free(&a);
    }
    fprintf(stderr,
            "  bare title %d, bare server %d, bare registrar %d, string priority %d, "
            "CC %d/%d, rank \"\" %d float %d, alexa \"\" %d, short ssl %d\n",
            title_bare, server_bare, registrar_bare, prio_string, cc_upper, cc_lower, rank_empty,
            rank_float, alexa_empty, ssl_short);
    CHECK(title_bare > 0 && server_bare > 0 && registrar_bare > 0 && prio_string > 0);
    CHECK(cc_upper > 0 && cc_lower > cc_upper);
    CHECK(rank_empty > 0 && rank_float > 0 && alexa_empty > alexa_int && alexa_int > 0);
    CHECK(ssl_short > 0 && zerolist > 0 && threats > 0 && codes > 0);
}

static void test_world_filters_narrow_a_pivot(void) {
    answer_t all = ask(W, 0, "nameserver_domain", "domaincontrol.com", "page_size", "1", NULL);
    long total = num(all.resp, "total_count");
    answer_free(&all);
    long parts = 0;
    static const char *const tlds[] = {
        "com",  "net",   "org",    "io",  "co",  "info", "xyz",    "online", "site",
        "shop", "store", "app",    "dev", "top", "club", "me",     "us",     "biz",
        "tech", "de",    "co.uk",  "fr",  "nl",  "ru",   "com.br", "adm.br", "jp",
        "cn",   "in",    "com.au", "ca",  "es",  "it",   "pl"};
    for (size_t t = 0; t < sizeof(tlds) / sizeof(tlds[0]); t++) {
        answer_t a = ask(W, 0, "nameserver_domain", "domaincontrol.com", "tld", tlds[t],
                         "page_size", "500", NULL);
        const cJSON *r;
        cJSON_ArrayForEach(r, get(a.resp, "results"))
            CHECK_EQ_STR(get(r, "tld")->valuestring, tlds[t]);
        parts += num(a.resp, "total_count");
        answer_free(&a);
    }
    CHECK_EQ_INT(parts, total); /* every domain has exactly one of these TLDs */
    answer_t a = ask(W, 0, "nameserver_domain", "domaincontrol.com", "risk_score", "60",
                     "create_date", ">=2020-01-01", "page_size", "500", NULL);
    const cJSON *r;
    int n = 0;
    cJSON_ArrayForEach(r, get(a.resp, "results")) {
        CHECK(num(get(r, "domain_risk"), "risk_score") > 60);
        CHECK(strcmp(get(get(r, "create_date"), "value")->valuestring, "2020-01-01") >= 0);
        n++;
    }
    CHECK(n > 0 && n < total);
    answer_free(&a);
}

int main(void) {
    fi_world_opts_t o = {.seed = 7, .ndomains = N_DOMAINS};
    if (fi_world_new(&o, &W) != IG_OK) {
        fprintf(stderr, "cannot build the world\n");
        return 1;
    }
    RUN(test_world_same_seed_same_bytes);
    RUN(test_world_names_parse_back);
    RUN(test_world_result_has_every_contract_key);
    RUN(test_world_every_count_is_what_its_pivot_returns);
    RUN(test_world_ip_count_walks_to_the_same_number);
    RUN(test_world_pages_cover_every_match_once);
    RUN(test_world_limit_exceeded_over_the_cap);
    RUN(test_world_enrich_has_no_count);
    RUN(test_world_outside_domain_counts_itself);
    RUN(test_world_iana_id_pivots_on_the_registrar);
    RUN(test_world_historical_registrant_is_the_registrant);
    RUN(test_world_ssl_alt_names_pivot);
    RUN(test_world_ga4_under_both_names);
    RUN(test_world_search_hash_is_a_stable_pivot);
    RUN(test_world_whois_is_free_text_over_the_record);
    RUN(test_world_malformed_questions_are_400);
    RUN(test_world_shape_variations_occur);
    RUN(test_world_filters_narrow_a_pivot);
    fi_world_free(W);
    return check_summary();
}
