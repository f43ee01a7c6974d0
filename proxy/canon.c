/* canon.c — reduces a request's parameters to the canonical question: no credentials, no
 * telemetry, no defaults (format=json, page_size=500), one value per key, keys sorted, domain
 * names lower-cased, SSL hashes as lower-case hex without colons. The
 * same question asked by GET or POST, in any order, with any credentials, gives the same
 * key, and the same parameters are forwarded upstream.
 *
 * Pure functions over ig_params_t; the caller owns every list.
 */
#include "irisgate/canon.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool ig_canon_ignored(const char *key) {
    return strcmp(key, "api_username") == 0 || strcmp(key, "api_key") == 0 ||
           strcmp(key, "timestamp") == 0 || strcmp(key, "signature") == 0 ||
           strncmp(key, "app_", 4) == 0;
}

/* Parameters whose values are host or domain names: case does not matter. */
static bool domain_valued(const char *key) {
    static const char *const names[] = {"domain",           "nameserver_host", "nameserver_domain",
                                        "mailserver_host",  "mailserver_domain", "email_domain",
                                        "redirect_domain",  "tld"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(key, names[i]) == 0) return true;
    return false;
}

/* Lower-cases a comma list, trims each item, drops empty items. */
static int normalize_list(const char *v, size_t n, ig_buf_t *out) {
    size_t i = 0;
    bool first = true;
    while (i <= n) {
        size_t end = i;
        while (end < n && v[end] != ',') end++;
        size_t a = i, b = end;
        while (a < b && isspace((unsigned char)v[a])) a++;
        while (b > a && isspace((unsigned char)v[b - 1])) b--;
        if (b > a) {
            if (!first && ig_buf_putc(out, ',')) return IG_ENOMEM;
            for (size_t k = a; k < b; k++)
                if (ig_buf_putc(out, (char)tolower((unsigned char)v[k]))) return IG_ENOMEM;
            first = false;
        }
        i = end + 1;
    }
    return IG_OK;
}

/* An SSL hash as hex, however it was written: lower case, without the colons some tools put
 * between the bytes (the SDK's CLI strips them too). */
static int normalize_hash(const char *v, size_t n, ig_buf_t *out) {
    for (size_t k = 0; k < n; k++)
        if (v[k] != ':' && !isspace((unsigned char)v[k]) &&
            ig_buf_putc(out, (char)tolower((unsigned char)v[k])))
            return IG_ENOMEM;
    return IG_OK;
}

/* A parameter given its default value asks the same question as no parameter. */
static bool is_default(const char *key, const char *val) {
    return (strcmp(key, "format") == 0 && strcmp(val, "json") == 0) ||
           (strcmp(key, "page_size") == 0 && strcmp(val, "500") == 0);
}

static int cmp_param(const void *a, const void *b) {
    return strcmp(((const ig_param_t *)a)->key, ((const ig_param_t *)b)->key);
}

int ig_canon_params(const ig_params_t *in, ig_params_t *out) {
    ig_buf_t tmp = {0};
    for (size_t i = in->n; i-- > 0;) {
        const ig_param_t *p = &in->v[i];
        /* The last value of a repeated key wins, as on the vendor's server. */
        if (ig_canon_ignored(p->key) || ig_params_find(in, p->key) != p) continue;
        if (is_default(p->key, p->val)) continue;
        const char *val = p->val;
        size_t len = p->val_len;
        bool hash = strcmp(p->key, "ssl_hash") == 0;
        if (domain_valued(p->key) || hash) {
            ig_buf_reset(&tmp);
            if (hash ? normalize_hash(p->val, p->val_len, &tmp)
                     : normalize_list(p->val, p->val_len, &tmp))
                goto nomem;
            val = tmp.data ? tmp.data : "";
            len = tmp.len;
        }
        int rc = ig_params_add(out, p->key, val, len);
        if (rc) {
            ig_buf_free(&tmp);
            return rc;
        }
    }
    ig_buf_free(&tmp);
    if (out->n > 1) qsort(out->v, out->n, sizeof(out->v[0]), cmp_param);
    return IG_OK;
nomem:
    ig_buf_free(&tmp);
    return IG_ENOMEM;
}

int ig_canon_form(const ig_params_t *canon, ig_buf_t *out) {
    for (size_t i = 0; i < canon->n; i++) {
        if (i && ig_buf_putc(out, '&')) return IG_ENOMEM;
        if (ig_url_encode(out, canon->v[i].key, canon->v[i].key_len) || ig_buf_putc(out, '=') ||
            ig_url_encode(out, canon->v[i].val, canon->v[i].val_len))
            return IG_ENOMEM;
    }
    return IG_OK;
}

int ig_canon_key(ig_endpoint_t ep, const ig_params_t *canon, ig_buf_t *out) {
    if (ig_buf_puts(out, ig_endpoint_name(ep)) || ig_buf_putc(out, '?')) return IG_ENOMEM;
    return ig_canon_form(canon, out);
}
