/* world_render.c — one Investigate or Enrich result as the vendor writes it: the 2023+ key
 * order (domain ... tracking-code lists ... contacts ... ssl_info ... first_seen, tags), the
 * value/count pairs ("VC"), '/' escaped as "\/", and the documented shape variations
 * (bare "" for an absent title, server type or registrar; MX priority as a string; upper-
 * case IP country codes; "" for unknown ranks; the 2022 four-key ssl_info).
 *
 * Writes by hand into the caller's ig_buf_t through fi_out_t, whose rc is sticky: the
 * first failed append is remembered and later writes are skipped. Never allocates except
 * through the buffer. Enrich differs only in that every VC loses its "count".
 */
#include "world_int.h"

#include <string.h>

/* The fast paths write in place when the buffer has room (the common case: results reserve
 * ahead); otherwise they fall back to the buffer's own growing functions. */
void fi_out_raw(fi_out_t *o, const char *s, size_t n) {
    ig_buf_t *b = o->b;
    if (!o->rc && b->data && b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    if (!o->rc) o->rc = ig_buf_append(b, s, n);
}

void fi_out_str(fi_out_t *o, const char *s, size_t n) {
    ig_buf_t *b = o->b;
    if (o->rc) return;
    if (b->data && b->len + 2 * n + 2 < b->cap) {
        /* plain bytes copy as they are; '/' and '"' and '\\' get a backslash; anything
         * rarer goes through ig_buf_json_str so there is one escaping rule */
        char *p = b->data + b->len;
        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20) {
                o->rc = ig_buf_json_str(b, s, n);
                return;
            }
            if (c == '"' || c == '\\' || c == '/') *p++ = '\\';
            *p++ = (char)c;
        }
        *p++ = '"';
        b->len = (size_t)(p - b->data);
        b->data[b->len] = '\0';
        return;
    }
    o->rc = ig_buf_json_str(b, s, n);
}

void fi_out_u64(fi_out_t *o, uint64_t v) {
    char t[24];
    int k = 24;
    do {
        t[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fi_out_raw(o, t + k, (size_t)(24 - k));
}

static void out_2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

static void fmt_date(char *p, int32_t day) {
    int y;
    unsigned m, d;
    fi_civil(day, &y, &m, &d);
    out_2(p, (unsigned)y / 100);
    out_2(p + 2, (unsigned)y % 100);
    p[4] = '-';
    out_2(p + 5, m);
    p[7] = '-';
    out_2(p + 8, d);
}

void fi_out_date(fi_out_t *o, int32_t day) {
    char b[12];
    b[0] = '"';
    fmt_date(b + 1, day);
    b[11] = '"';
    fi_out_raw(o, b, 12);
}

/* "YYYY-MM-DDTHH:MM:SS" into p (19 bytes). */
static void fmt_time(char *p, int64_t t) {
    int32_t day = (int32_t)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
    unsigned sec = (unsigned)(t - (int64_t)day * 86400);
    fmt_date(p, day);
    p[10] = 'T';
    out_2(p + 11, sec / 3600);
    p[13] = ':';
    out_2(p + 14, sec / 60 % 60);
    p[16] = ':';
    out_2(p + 17, sec % 60);
}

void fi_out_time(fi_out_t *o, int64_t t) {
    char b[22];
    b[0] = '"';
    fmt_time(b + 1, t);
    b[20] = 'Z';
    b[21] = '"';
    fi_out_raw(o, b, 22);
}

typedef struct {
    const fi_world_t *w;
    fi_out_t *o;
    bool enrich;
    uint32_t self; /* 1 for a domain outside the universe: its counts include itself */
} r_t;

/* The count shown next to a value the domain holds: the universe domains holding it, and
 * the domain itself when it is not one of them (the index only knows the universe). */
static uint64_t count_of(const r_t *r, fi_kind_t k, uint32_t id) {
    return (uint64_t)fi_count(r->w, k, id) + r->self;
}

/* A VC of (k, id); counted=false for the values the vendor shows with count 0. */
static void vc(r_t *r, fi_kind_t k, uint32_t id, bool counted) {
    fi_out_t *o = r->o;
    if (id == FI_NONE) {
        if (r->enrich)
            FI_OUT_LIT(o, "{\"value\":\"\"}");
        else
            FI_OUT_LIT(o, "{\"value\":\"\",\"count\":0}");
        return;
    }
    char buf[512];
    size_t n = fi_value(r->w, k, id, buf, sizeof(buf));
    FI_OUT_LIT(o, "{\"value\":");
    if (fi_kinds[k].is_int)
        fi_out_raw(o, buf, n);
    else
        fi_out_str(o, buf, n);
    if (!r->enrich) {
        FI_OUT_LIT(o, ",\"count\":");
        fi_out_u64(o, counted ? count_of(r, k, id) : 0);
    }
    FI_OUT_LIT(o, "}");
}

static void vc_list(r_t *r, fi_kind_t k, const uint32_t *ids, uint8_t n) {
    FI_OUT_LIT(r->o, "[");
    for (uint8_t i = 0; i < n; i++) {
        if (i) FI_OUT_LIT(r->o, ",");
        vc(r, k, ids[i], true);
    }
    FI_OUT_LIT(r->o, "]");
}

static void out_key(r_t *r, const char *lit, size_t n) {
    fi_out_raw(r->o, lit, n);
}
#define KEY(r, lit) out_key((r), (lit), sizeof(lit) - 1)

static void contact(r_t *r, const fi_contact_t *c) {
    static const char *const names[9] = {
        "{\"name\":",   ",\"org\":",     ",\"street\":", ",\"city\":", ",\"state\":",
        ",\"postal\":", ",\"country\":", ",\"phone\":",  ",\"fax\":"};
    static const fi_kind_t kinds[9] = {K_C_NAME,   K_C_ORG,     K_C_STREET, K_C_CITY, K_C_STATE,
                                       K_C_POSTAL, K_C_COUNTRY, K_C_PHONE,  K_C_FAX};
    for (int i = 0; i < 9; i++) {
        fi_out_raw(r->o, names[i], strlen(names[i]));
        vc(r, kinds[i], c->f[i], true);
    }
    KEY(r, ",\"email\":");
    vc_list(r, K_EMAIL, c->email, c->nemail);
    KEY(r, "}");
}

static void risk(r_t *r, const fi_dom_t *d) {
    static const char *const ev[7] = {"registrant", "domain name", "name server", "ip",
                                      "mx",         "ssl",         "dns"};
    static const char *const th[3] = {"malware", "phishing", "spam"};
    fi_out_t *o = r->o;
    KEY(r, "{\"risk_score\":");
    fi_out_u64(o, d->risk);
    KEY(r, ",\"components\":[");
    if (d->risk_shape < 2) {
        KEY(r, "{\"name\":\"zerolist\",\"risk_score\":0}");
        if (d->risk_shape == 1)
            KEY(r, ",{\"name\":\"threat_profile\",\"risk_score\":0},{\"name\":\"threat_profile_"
                   "malware\",\"risk_score\":0},{\"name\":\"threat_profile_phishing\",\"risk_"
                   "score\":0},{\"name\":\"threat_profile_spam\",\"risk_score\":0}");
        KEY(r, "]}");
        return;
    }
    bool any = false;
    if (d->prox >= 0) {
        KEY(r, "{\"name\":\"proximity\",\"risk_score\":");
        fi_out_u64(o, (uint64_t)d->prox);
        if (d->prox_evidence) {
            KEY(r, ",\"evidence\":[");
            bool f = true;
            for (int i = 0; i < 7; i++)
                if (d->prox_evidence & (1u << i)) {
                    if (!f) KEY(r, ",");
                    fi_out_str(o, ev[i], strlen(ev[i]));
                    f = false;
                }
            KEY(r, "]");
        }
        KEY(r, "}");
        any = true;
    }
    if (any) KEY(r, ",");
    KEY(r, "{\"name\":\"threat_profile\",\"risk_score\":");
    fi_out_u64(o, d->tp);
    if (d->threats) {
        KEY(r, ",\"threats\":[");
        bool f = true;
        for (int i = 0; i < 3; i++)
            if (d->threats & (1u << i)) {
                if (!f) KEY(r, ",");
                fi_out_str(o, th[i], strlen(th[i]));
                f = false;
            }
        KEY(r, "]");
    }
    if (d->evidence) {
        KEY(r, ",\"evidence\":[");
        bool f = true;
        for (int i = 0; i < 6; i++)
            if (d->evidence & (1u << i)) {
                if (!f) KEY(r, ",");
                fi_out_str(o, ev[i], strlen(ev[i]));
                f = false;
            }
        KEY(r, "]");
    }
    KEY(r, "}");
    static const char *const sub[3] = {",{\"name\":\"threat_profile_malware\",\"risk_score\":",
                                       ",{\"name\":\"threat_profile_phishing\",\"risk_score\":",
                                       ",{\"name\":\"threat_profile_spam\",\"risk_score\":"};
    const uint8_t score[3] = {d->tp_mal, d->tp_phish, d->tp_spam};
    for (int i = 0; i < 3; i++) {
        fi_out_raw(o, sub[i], strlen(sub[i]));
        fi_out_u64(o, score[i]);
        if (score[i] >= 50) {
            KEY(r, ",\"threats\":[");
            fi_out_str(o, th[i], strlen(th[i]));
            KEY(r, "]");
        }
        KEY(r, "}");
    }
    KEY(r, "]}");
}

static void ssl(r_t *r, const fi_ssl_t *s) {
    fi_out_t *o = r->o;
    fi_cert_t c;
    fi_cert(r->w, s->cert, &c);
    KEY(r, "{\"hash\":");
    vc(r, K_SSL_HASH, s->cert, true);
    KEY(r, ",\"subject\":");
    vc(r, K_SSL_SUBJECT, c.subject, true);
    KEY(r, ",\"organization\":");
    vc(r, K_SSL_ORG, c.org, true);
    KEY(r, ",\"email\":[");
    if (s->email != FI_NONE) {
        char buf[512];
        size_t n = fi_value(r->w, K_EMAIL, s->email, buf, sizeof(buf));
        fi_out_str(o, buf, n);
    }
    KEY(r, "]");
    if (s->short_shape) {
        KEY(r, "}");
        return;
    }
    KEY(r, ",\"alt_names\":[");
    vc(r, K_SSL_ALT, 2 * c.subject, false);
    KEY(r, ",");
    vc(r, K_SSL_ALT, 2 * c.subject + 1, false);
    KEY(r, "],\"sources\":{");
    if (s->sources & 1) {
        KEY(r, "\"active\":");
        fi_out_u64(o, (uint64_t)s->seen_ms);
    }
    if (s->sources & 2) {
        if (s->sources & 1) KEY(r, ",");
        KEY(r, "\"passive\":");
        fi_out_u64(o, (uint64_t)(s->seen_ms - 86400000 * 3));
    }
    KEY(r, "},\"common_name\":");
    vc(r, K_SSL_CN, c.subject, true);
    KEY(r, ",\"issuer_common_name\":");
    vc(r, K_SSL_ISSUER, c.issuer, true);
    KEY(r, ",\"not_after\":");
    vc(r, K_SSL_NA, (uint32_t)c.not_after, true);
    KEY(r, ",\"not_before\":");
    vc(r, K_SSL_NB, (uint32_t)c.not_before, true);
    KEY(r, ",\"duration\":");
    vc(r, K_SSL_DURATION, c.duration, true);
    KEY(r, "}");
}

static void status_list(r_t *r, const fi_dom_t *d, bool as_vc) {
    KEY(r, "[");
    const char *const *st = fi_status_sets[d->status];
    for (int i = 0; i < 7 && st[i]; i++) {
        if (i) KEY(r, ",");
        if (as_vc) KEY(r, "{\"value\":");
        fi_out_str(r->o, st[i], strlen(st[i]));
        if (as_vc) {
            if (r->enrich)
                KEY(r, "}");
            else
                KEY(r, ",\"count\":0}");
        }
    }
    KEY(r, "]");
}

/* parsed_whois / parsed_domain_rdap: the same facts again, in the spec's smaller objects. */
static void parsed(r_t *r, const fi_dom_t *d, bool rdap) {
    if (rdap) {
        KEY(r, ",\"parsed_domain_rdap\":{\"registrant_contact\":");
        contact(r, &d->c[FI_C_REGISTRANT]);
        KEY(r, ",\"admin_contact\":");
        contact(r, &d->c[FI_C_ADMIN]);
        KEY(r, ",\"technical_contact\":");
        contact(r, &d->c[FI_C_TECH]);
        KEY(r, ",\"registrant_name\":");
        vc(r, K_REG_NAME, d->reg_name, true);
        KEY(r, ",\"registrar_iana_id\":");
        if (d->registrar == FI_NONE) {
            vc(r, K_REGISTRAR, FI_NONE, false);
        } else {
            KEY(r, "{\"value\":");
            char b[16];
            int n = 0;
            uint32_t v = fi_registrars[d->registrar].iana;
            char t[12];
            do {
                t[n++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            for (int i = 0; i < n; i++)
                b[i] = t[n - 1 - i];
            fi_out_str(r->o, b, (size_t)n);
            if (!r->enrich) {
                KEY(r, ",\"count\":");
                fi_out_u64(r->o, count_of(r, K_REGISTRAR, d->registrar));
            }
            KEY(r, "}");
        }
        KEY(r, ",\"additional_whois_email\":");
        vc_list(r, K_EMAIL, d->addl, d->naddl);
        KEY(r, ",\"registrar\":");
        vc(r, K_REGISTRAR, d->registrar, true);
        KEY(r, ",\"create_date\":");
        vc(r, K_CREATE, (uint32_t)d->create_day, true);
        KEY(r, ",\"expiration_date\":");
        vc(r, K_EXPIRE, (uint32_t)d->expire_day, true);
        KEY(r, ",\"registrar_status\":");
        status_list(r, d, true);
        KEY(r, ",\"email_domain\":");
        vc_list(r, K_EMAIL_DOMAIN, d->edom, d->nedom);
        KEY(r, "}");
        return;
    }
    KEY(r, ",\"parsed_whois\":{\"technical_contact\":");
    contact(r, &d->c[FI_C_TECH]);
    KEY(r, ",\"registrant_contact\":");
    contact(r, &d->c[FI_C_REGISTRANT]);
    KEY(r, ",\"admin_contact\":");
    contact(r, &d->c[FI_C_ADMIN]);
    KEY(r, ",\"additional_whois_email\":");
    vc_list(r, K_EMAIL, d->addl, d->naddl);
    KEY(r, ",\"registrar\":");
    vc(r, K_REGISTRAR, d->registrar, true);
    KEY(r, ",\"create_date\":");
    vc(r, K_CREATE, (uint32_t)d->create_day, true);
    KEY(r, ",\"expiration_date\":");
    vc(r, K_EXPIRE, (uint32_t)d->expire_day, true);
    KEY(r, ",\"registrant_name\":");
    vc(r, K_REG_NAME, d->reg_name, true);
    KEY(r, ",\"registrant_org\":");
    vc(r, K_REG_ORG, d->reg_org, true);
    KEY(r, ",\"registrar_status\":");
    status_list(r, d, true);
    KEY(r, "}");
}

void fi_render_result(const fi_world_t *w, const fi_dom_t *d, unsigned flags, fi_out_t *o) {
    if (!o->rc) o->rc = ig_buf_reserve(o->b, 16384);
    r_t rr = {w, o, (flags & FI_R_ENRICH) != 0, d->index == FI_NONE ? 1u : 0u};
    r_t *r = &rr;
    char buf[512];

    KEY(r, "{\"domain\":");
    fi_out_str(o, d->name, d->name_len);
    KEY(r, ",\"whois_url\":");
    memcpy(buf, "https://whois.domaintools.com/", 30);
    memcpy(buf + 30, d->name, d->name_len);
    fi_out_str(o, buf, 30 + d->name_len);
    KEY(r, ",\"adsense\":");
    vc(r, K_ADSENSE, d->adsense, true);
    KEY(r, ",\"alexa\":");
    if (d->alexa < 0)
        KEY(r, "\"\"");
    else
        fi_out_u64(o, (uint64_t)d->alexa);
    KEY(r, ",\"popularity_rank\":");
    if (!d->rank) {
        KEY(r, "\"\"");
    } else {
        fi_out_u64(o, d->rank);
        if (d->rank_float) {
            char f[2] = {'.', (char)('0' + d->rank_float)};
            fi_out_raw(o, f, 2);
        }
    }
    if (d->active)
        KEY(r, ",\"active\":true");
    else
        KEY(r, ",\"active\":false");
    KEY(r, ",\"google_analytics\":");
    vc(r, K_GA, d->ga, true);
    static const char *const code_keys[FI_NCODES] = {",\"ga4\":",
                                                     ",\"gtm_codes\":",
                                                     ",\"fb_codes\":",
                                                     ",\"hotjar_codes\":",
                                                     ",\"baidu_codes\":",
                                                     ",\"yandex_codes\":",
                                                     ",\"matomo_codes\":",
                                                     ",\"statcounter_project_codes\":",
                                                     ",\"statcounter_security_codes\":"};
    for (int c = 0; c < FI_NCODES; c++) {
        fi_out_raw(o, code_keys[c], strlen(code_keys[c]));
        vc_list(r, (fi_kind_t)(K_GA4 + c), d->codes[c], d->ncodes[c]);
    }
    KEY(r, ",\"admin_contact\":");
    contact(r, &d->c[FI_C_ADMIN]);
    KEY(r, ",\"billing_contact\":");
    contact(r, &d->c[FI_C_BILLING]);
    KEY(r, ",\"registrant_contact\":");
    contact(r, &d->c[FI_C_REGISTRANT]);
    KEY(r, ",\"technical_contact\":");
    contact(r, &d->c[FI_C_TECH]);
    KEY(r, ",\"create_date\":");
    vc(r, K_CREATE, (uint32_t)d->create_day, true);
    KEY(r, ",\"expiration_date\":");
    vc(r, K_EXPIRE, (uint32_t)d->expire_day, true);
    KEY(r, ",\"email_domain\":");
    vc_list(r, K_EMAIL_DOMAIN, d->edom, d->nedom);
    KEY(r, ",\"soa_email\":");
    vc_list(r, K_SOA_EMAIL, d->soa, d->nsoa);
    KEY(r, ",\"ssl_email\":");
    vc_list(r, K_SSL_EMAIL, d->ssl_email, d->nssl_email);
    KEY(r, ",\"additional_whois_email\":");
    vc_list(r, K_EMAIL, d->addl, d->naddl);

    KEY(r, ",\"ip\":[");
    for (uint8_t j = 0; j < d->nip; j++) {
        uint32_t ip = d->ip[j];
        if (j) KEY(r, ",");
        KEY(r, "{\"address\":");
        vc(r, K_IP, ip, true);
        KEY(r, ",\"asn\":[");
        vc(r, K_ASN, w->ip_asn[ip], true);
        KEY(r, "],\"country_code\":");
        if (d->variant & FI_V_CC_UPPER) {
            const char *cc = fi_countries[w->ip_cc[ip]];
            char up[3] = {(char)(cc[0] - 32), (char)(cc[1] - 32), 0};
            KEY(r, "{\"value\":");
            fi_out_str(o, up, 2);
            if (!r->enrich) {
                KEY(r, ",\"count\":");
                fi_out_u64(o, count_of(r, K_IPCC, w->ip_cc[ip]));
            }
            KEY(r, "}");
        } else {
            vc(r, K_IPCC, w->ip_cc[ip], true);
        }
        KEY(r, ",\"isp\":");
        vc(r, K_ISP, w->ip_isp[ip], true);
        KEY(r, "}");
    }
    KEY(r, "],\"mx\":[");
    for (uint8_t j = 0; j < d->nmx; j++) {
        const fi_host_t *h = &w->mxh[d->mx[j]];
        if (j) KEY(r, ",");
        KEY(r, "{\"host\":");
        vc(r, K_MX_HOST, d->mx[j], true);
        KEY(r, ",\"domain\":");
        vc(r, K_MX_DOMAIN, h->apex, true);
        KEY(r, ",\"ip\":");
        vc_list(r, K_MX_IP, h->ip, h->nip);
        KEY(r, ",\"priority\":");
        if (d->variant & FI_V_PRIO_STRING) KEY(r, "\"");
        fi_out_u64(o, h->prio);
        if (d->variant & FI_V_PRIO_STRING) KEY(r, "\"");
        KEY(r, "}");
    }
    KEY(r, "],\"name_server\":[");
    for (uint8_t j = 0; j < d->nns; j++) {
        const fi_host_t *h = &w->nsh[d->ns[j]];
        if (j) KEY(r, ",");
        KEY(r, "{\"host\":");
        vc(r, K_NS_HOST, d->ns[j], true);
        KEY(r, ",\"domain\":");
        vc(r, K_NS_DOMAIN, h->apex, true);
        KEY(r, ",\"ip\":");
        vc_list(r, K_NS_IP, h->ip, h->nip);
        KEY(r, "}");
    }
    KEY(r, "],\"domain_risk\":");
    risk(r, d);
    KEY(r, ",\"redirect\":");
    vc(r, K_REDIRECT, d->redirect, true);
    KEY(r, ",\"redirect_domain\":");
    vc(r, K_REDIRECT_DOMAIN, d->redirect_domain, true);
    KEY(r, ",\"registrant_name\":");
    vc(r, K_REG_NAME, d->reg_name, true);
    KEY(r, ",\"registrant_org\":");
    vc(r, K_REG_ORG, d->reg_org, true);
    KEY(r, ",\"registrar\":");
    if (d->registrar == FI_NONE && (d->variant & FI_V_REGISTRAR_BARE))
        KEY(r, "\"\"");
    else
        vc(r, K_REGISTRAR, d->registrar, true);
    KEY(r, ",\"registrar_status\":");
    status_list(r, d, false);
    KEY(r, ",\"spf_info\":");
    fi_out_str(o, fi_spf[d->spf], strlen(fi_spf[d->spf]));
    KEY(r, ",\"ssl_info\":[");
    for (uint8_t j = 0; j < d->nssl; j++) {
        if (j) KEY(r, ",");
        ssl(r, &d->ssl[j]);
    }
    KEY(r, "],\"tld\":");
    fi_out_str(o, d->tld, d->tld_len);
    KEY(r, ",\"website_response\":");
    fi_out_u64(o, d->website_response);
    KEY(r, ",\"data_updated_timestamp\":\"");
    fmt_time(buf, d->updated_ms / 1000);
    unsigned ms = (unsigned)(d->updated_ms % 1000);
    buf[19] = '.';
    buf[20] = (char)('0' + ms / 100);
    out_2(buf + 21, ms % 100);
    memcpy(buf + 23, "000\"", 4);
    fi_out_raw(o, buf, 27);
    KEY(r, ",\"website_title\":");
    if (d->title == FI_NONE && (d->variant & FI_V_TITLE_BARE))
        KEY(r, "\"\"");
    else
        vc(r, K_TITLE, d->title, true);
    KEY(r, ",\"server_type\":");
    if (d->server == FI_NONE && (d->variant & FI_V_SERVER_BARE))
        KEY(r, "\"\"");
    else
        vc(r, K_SERVER, d->server, true);
    KEY(r, ",\"first_seen\":{\"value\":");
    fi_out_time(o, d->first_seen);
    if (!r->enrich) KEY(r, ",\"count\":0");
    KEY(r, "},\"tags\":[");
    bool first = true;
    for (uint32_t t = 0; t < fi_ntags; t++) {
        if (!(d->tags & (1u << t))) continue;
        if (!first) KEY(r, ",");
        first = false;
        KEY(r, "{\"label\":");
        fi_out_str(o, fi_tags[t], strlen(fi_tags[t]));
        KEY(r, ",\"scope\":\"group\",\"tagged_at\":");
        fi_out_time(o, d->tag_at[t]);
        KEY(r, "}");
    }
    KEY(r, "]");
    if (flags & FI_R_PARSED_WHOIS) parsed(r, d, false);
    if (flags & FI_R_PARSED_RDAP) parsed(r, d, true);
    KEY(r, "}");
}
