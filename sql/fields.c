/* fields.c — the vocabulary of pivots: which Iris Investigate search parameters a value can
 * be stored under (pivots.field, docs/schema.md), their aliases (gtm, fb, ...), the label
 * the Iris apps show for each, the order a domain's attributes are listed in, and how a
 * (field, value) becomes the query string that pivots on it in Iris Investigate.
 *
 * Pure functions over static tables and the caller's strings; the one database read is
 * ig_sqlf_pivot_args asking whether a field it does not know occurs in pivots (an indexed
 * probe). Never writes anything.
 */
#include "sql_int.h"

#include <string.h>

typedef struct {
    const char *field;
    const char *label;
} field_t;

/* In the order a domain's attributes are listed: infrastructure, registration, contacts,
 * certificates, tracking codes, web. */
static const field_t fields[] = {
    {"ip", "IP address"},
    {"asn", "ASN"},
    {"isp_name", "ISP"},
    {"nameserver_host", "Name server"},
    {"nameserver_domain", "Name server domain"},
    {"nameserver_ip", "Name server IP"},
    {"mailserver_host", "Mail server"},
    {"mailserver_domain", "Mail server domain"},
    {"mailserver_ip", "Mail server IP"},
    {"registrar", "Registrar"},
    {"registrant", "Registrant"},
    {"registrant_org", "Registrant org"},
    {"email", "Email"},
    {"email_domain", "Email domain"},
    {"email_dns_soa", "SOA email"},
    {"contact_name", "Contact name"},
    {"contact_phone", "Contact phone"},
    {"contact_street", "Contact street"},
    {"ssl_hash", "SSL hash"},
    {"ssl_subject", "SSL subject"},
    {"ssl_org", "SSL org"},
    {"ssl_email", "SSL email"},
    {"ssl_common_name", "SSL common name"},
    {"ssl_issuer_common_name", "SSL issuer common name"},
    {"ssl_alt_names", "SSL alt name"},
    {"google_analytics", "Google Analytics"},
    {"ga4", "Google Analytics 4"},
    {"google_tag_manager", "Google Tag Manager"},
    {"adsense", "AdSense"},
    {"facebook", "Facebook pixel"},
    {"hotjar", "Hotjar"},
    {"baidu_analytics", "Baidu Analytics"},
    {"yandex_metrica", "Yandex Metrica"},
    {"matomo", "Matomo"},
    {"statcounter_project", "StatCounter project"},
    {"statcounter_security", "StatCounter security"},
    {"redirect_domain", "Redirect domain"},
    {"website_title", "Website title"},
    {"server_type", "Server type"},
};
#define NFIELDS ((int)(sizeof(fields) / sizeof(fields[0])))

/* Short names analysts type, and the older spec's name for ga4. */
static const char *const aliases[][2] = {
    {"gtm", "google_tag_manager"},
    {"fb", "facebook"},
    {"google_analytics_4", "ga4"},
    {"ga", "google_analytics"},
};

static int find(const char *field) {
    for (int i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].field, field) == 0) return i;
    return -1;
}

int ig_sqlf_resolve(const char *in, char out[IG_SQLF_MAX]) {
    size_t n = in ? strlen(in) : 0;
    if (n == 0 || n >= IG_SQLF_MAX) return IG_SQLF_BAD;
    for (size_t i = 0; i <= n; i++) {
        char c = in[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(out, aliases[i][0]) == 0) {
            strcpy(out, aliases[i][1]);
            break;
        }
    }
    if (strcmp(out, "domain") == 0) return IG_SQLF_DOMAIN;
    return find(out) >= 0 ? IG_SQLF_KNOWN : IG_SQLF_OTHER;
}

const char *ig_sqlf_label(const char *field) {
    int i = find(field);
    return i >= 0 ? fields[i].label : field;
}

int ig_sqlf_rank(const char *field) {
    int i = find(field);
    return i >= 0 ? i : NFIELDS;
}

size_t ig_sqlf_escape_into(const char *s, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

char *ig_sqlf_escape(const char *s) {
    char *out = sqlite3_malloc64(3 * (sqlite3_uint64)strlen(s) + 1);
    if (out) ig_sqlf_escape_into(s, out);
    return out;
}

char *ig_sqlf_query(const char *field, const char *value) {
    char *v = ig_sqlf_escape(value);
    if (!v) return NULL;
    char *q = sqlite3_mprintf("%s=%s", field, v);
    sqlite3_free(v);
    return q;
}

/* Does any stored value have this field? One probe of pivots' (field, value) index. */
static int field_stored(sqlite3 *db, const char *field, char **errmsg) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM pivots WHERE field = ?1 LIMIT 1", -1, &s, NULL);
    if (rc != SQLITE_OK) {
        *errmsg = sqlite3_mprintf("%s (is this an irisgate database?)", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(s, 1, field, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *errmsg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        return -1;
    }
    return rc == SQLITE_ROW;
}

int ig_sqlf_pivot_args(sqlite3 *db, const char *fn, sqlite3_value *field, sqlite3_value *value,
                       char out[IG_SQLF_MAX], char **value_out, char **errmsg) {
    *value_out = NULL;
    out[0] = '\0';
    /* NULL compares equal to nothing: no rows, as `=` would give, so joins over tables with
     * missing values just skip them. */
    if (!field || !value || sqlite3_value_type(field) == SQLITE_NULL ||
        sqlite3_value_type(value) == SQLITE_NULL)
        return SQLITE_OK;
    const char *f = (const char *)sqlite3_value_text(field);
    switch (ig_sqlf_resolve(f, out)) {
    case IG_SQLF_BAD:
        *errmsg = sqlite3_mprintf("%s: the field must be an Iris search parameter such as 'ip' "
                                  "or 'nameserver_host'",
                                  fn);
        return SQLITE_ERROR;
    case IG_SQLF_DOMAIN:
        *errmsg = sqlite3_mprintf("%s: 'domain' is not a pivot field (a domain's own row is in "
                                  "domains and v_domains; its pivots in iris_guided_pivots)",
                                  fn);
        return SQLITE_ERROR;
    case IG_SQLF_OTHER: {
        char *e = NULL;
        int st = field_stored(db, out, &e);
        if (st <= 0) {
            *errmsg = st < 0 ? sqlite3_mprintf("%s: %s", fn, e)
                             : sqlite3_mprintf("%s: unknown pivot field '%s' (no stored value "
                                               "has it; see docs/sql.md for the fields)",
                                               fn, out);
            sqlite3_free(e);
            return SQLITE_ERROR;
        }
        break;
    }
    default:
        break;
    }
    const char *v = (const char *)sqlite3_value_text(value);
    *value_out = ig_sqlf_value(out, v ? v : "");
    return *value_out ? SQLITE_OK : SQLITE_NOMEM;
}

char *ig_sqlf_value(const char *field, const char *value) {
    char *copy = sqlite3_mprintf("%s", value);
    if (copy && strcmp(field, "ssl_hash") == 0) { /* the vendor's CLI strips ':' */
        char *w = copy;
        for (char *r = copy; *r; r++) {
            if (*r == ':') continue;
            *w++ = (*r >= 'A' && *r <= 'Z') ? (char)(*r - 'A' + 'a') : *r;
        }
        *w = '\0';
    }
    return copy;
}

int ig_sqlf_domain(const char *in, char *out, size_t n) {
    size_t len = strlen(in);
    if (len > 0 && in[len - 1] == '.') len--; /* the root's dot */
    if (len >= n) return 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    out[len] = '\0';
    return 1;
}
