/* limits.c — limit values as people and the vendor write them: limit specs
 * ("minute=20,month=10000", declared in irisgate/limiter.h), the short product names of
 * config keys and commands, and the limits and usage in the vendor's /v1/account answer.
 *
 * Owns: parsing and printing specs (canonical order minute, hour, month, absolute), and
 * reading /v1/account answers whose numbers are strings, ints or null.
 * Never: guesses a limit it cannot read (a malformed answer is IG_EINVAL and changes nothing),
 * or keeps state: every function is pure.
 */
#include "irisgate/limiter.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
    size_t off;
} keys[] = {
    {"minute", IG_LIMIT_MINUTE, offsetof(ig_limits_t, minute)},
    {"hour", IG_LIMIT_HOUR, offsetof(ig_limits_t, hour)},
    {"month", IG_LIMIT_MONTH, offsetof(ig_limits_t, month)},
    {"absolute", IG_LIMIT_ABSOLUTE, offsetof(ig_limits_t, absolute)},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int64_t *field(ig_limits_t *l, size_t k) {
    return (int64_t *)((char *)l + keys[k].off);
}

int ig_limit_spec_parse(const char *s, const char *empty_word, int allow_absolute,
                        ig_limit_spec_t *out, char *err, size_t errlen) {
    ig_limit_spec_t r;
    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    if (!empty_word) empty_word = "a spec";
    if (!s || !*s) {
        snprintf(err, errlen, "empty limit spec (use %s or e.g. minute=20,month=10000)",
                 empty_word);
        return IG_EINVAL;
    }
    if (strcmp(s, empty_word) == 0) return IG_OK;
    const char *p = s;
    for (;;) {
        const char *item = p, *eq = NULL;
        while (*p && *p != ',') {
            if (*p == '=' && !eq) eq = p;
            p++;
        }
        size_t klen = eq ? (size_t)(eq - item) : (size_t)(p - item);
        size_t k = 0;
        for (; k < NKEYS; k++)
            if (strlen(keys[k].name) == klen && strncmp(keys[k].name, item, klen) == 0) break;
        if (!eq || k == NKEYS || (keys[k].bit == IG_LIMIT_ABSOLUTE && !allow_absolute)) {
            snprintf(err, errlen, "bad limit '%.*s' in '%s' (use %s or %s=N, e.g. %s)",
                     (int)(p - item), item, s, empty_word,
                     allow_absolute ? "minute|hour|month|absolute" : "minute|hour|month",
                     "minute=20,hour=0,month=10000");
            return IG_EINVAL;
        }
        if (r.set & keys[k].bit) {
            snprintf(err, errlen, "'%s' given twice in '%s'", keys[k].name, s);
            return IG_EINVAL;
        }
        const char *d = eq + 1;
        int64_t v = 0;
        if (d == p) {
            snprintf(err, errlen, "missing number after '%s=' in '%s'", keys[k].name, s);
            return IG_EINVAL;
        }
        for (; d < p; d++) {
            if (*d < '0' || *d > '9') {
                snprintf(err, errlen, "bad number for '%s' in '%s' (a whole number, 0 = none)",
                         keys[k].name, s);
                return IG_EINVAL;
            }
            v = v * 10 + (*d - '0');
            if (v > IG_LIMIT_MAX_VALUE) {
                snprintf(err, errlen, "'%s' too large in '%s' (max %lld)", keys[k].name, s,
                         (long long)IG_LIMIT_MAX_VALUE);
                return IG_EINVAL;
            }
        }
        *field(&r.v, k) = v;
        r.set |= keys[k].bit;
        if (!*p) break;
        p++; /* the comma; an item must follow */
        if (!*p) {
            snprintf(err, errlen, "trailing ',' in '%s'", s);
            return IG_EINVAL;
        }
    }
    *out = r;
    return IG_OK;
}

int ig_limit_spec_format(const ig_limit_spec_t *s, const char *empty_word, char *out, size_t n) {
    if (n == 0) return IG_ETOOBIG;
    size_t len = 0;
    out[0] = '\0';
    if (!(s->set & (IG_LIMIT_MINUTE | IG_LIMIT_HOUR | IG_LIMIT_MONTH | IG_LIMIT_ABSOLUTE))) {
        int w = snprintf(out, n, "%s", empty_word ? empty_word : "");
        return w < 0 || (size_t)w >= n ? IG_ETOOBIG : IG_OK;
    }
    ig_limits_t v = s->v;
    for (size_t k = 0; k < NKEYS; k++) {
        if (!(s->set & keys[k].bit)) continue;
        int w = snprintf(out + len, n - len, "%s%s=%lld", len ? "," : "", keys[k].name,
                         (long long)*field(&v, k));
        if (w < 0 || (size_t)w >= n - len) return IG_ETOOBIG;
        len += (size_t)w;
    }
    return IG_OK;
}

void ig_limit_spec_apply(const ig_limit_spec_t *s, ig_limits_t *inout) {
    ig_limits_t v = s->v;
    for (size_t k = 0; k < NKEYS; k++)
        if (s->set & keys[k].bit) *field(inout, k) = *field(&v, k);
}

ig_endpoint_t ig_limit_product(const char *name) {
    if (!name) return IG_EP_UNKNOWN;
    if (strcmp(name, "investigate") == 0) return IG_EP_INVESTIGATE;
    if (strcmp(name, "enrich") == 0) return IG_EP_ENRICH;
    if (strcmp(name, "account") == 0) return IG_EP_ACCOUNT;
    return IG_EP_UNKNOWN;
}

const char *ig_limit_product_name(ig_endpoint_t product) {
    switch (product) {
    case IG_EP_INVESTIGATE:
        return "investigate";
    case IG_EP_ENRICH:
        return "enrich";
    case IG_EP_ACCOUNT:
        return "account";
    default:
        return NULL;
    }
}

/* ---- /v1/account ------------------------------------------------------------------------ */

/* A limit or usage value: a string of digits, a non-negative integer, null or absent (0). */
static int json_count(const cJSON *v, int64_t *out) {
    *out = 0;
    if (!v || cJSON_IsNull(v)) return IG_OK;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d < 0 || d > (double)IG_LIMIT_MAX_VALUE || d != (double)(int64_t)d) return IG_EINVAL;
        *out = (int64_t)d;
        return IG_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring || !v->valuestring[0]) return IG_EINVAL;
    int64_t x = 0;
    for (const char *p = v->valuestring; *p; p++) {
        if (*p < '0' || *p > '9') return IG_EINVAL;
        x = x * 10 + (*p - '0');
        if (x > IG_LIMIT_MAX_VALUE) return IG_EINVAL;
    }
    *out = x;
    return IG_OK;
}

static ig_endpoint_t product_of_id(const char *id) {
    if (!id) return IG_EP_UNKNOWN;
    if (strcmp(id, "iris-investigate") == 0) return IG_EP_INVESTIGATE;
    if (strcmp(id, "iris-enrich") == 0) return IG_EP_ENRICH;
    if (strcmp(id, "account-information") == 0) return IG_EP_ACCOUNT;
    return IG_EP_UNKNOWN;
}

/* Reads the products we know from an account answer into lim and month (either may be NULL). */
static int parse_account(const char *json, size_t len, ig_limits_t lim[IG_EP_COUNT],
                         int64_t month[IG_EP_COUNT]) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return IG_EINVAL;
    int rc = IG_EINVAL;
    ig_limits_t l[IG_EP_COUNT];
    int64_t m[IG_EP_COUNT];
    memset(l, 0, sizeof(l));
    memset(m, 0, sizeof(m));
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    const cJSON *products = cJSON_GetObjectItemCaseSensitive(resp, "products");
    if (!cJSON_IsArray(products)) goto out;
    const cJSON *p;
    cJSON_ArrayForEach(p, products) {
        if (!cJSON_IsObject(p)) goto out;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        ig_endpoint_t ep = product_of_id(cJSON_IsString(id) ? id->valuestring : NULL);
        if (ep == IG_EP_UNKNOWN) continue;
        const cJSON *usage = cJSON_GetObjectItemCaseSensitive(p, "usage");
        if (json_count(cJSON_GetObjectItemCaseSensitive(p, "per_minute_limit"), &l[ep].minute) ||
            json_count(cJSON_GetObjectItemCaseSensitive(p, "per_hour_limit"), &l[ep].hour) ||
            json_count(cJSON_GetObjectItemCaseSensitive(p, "per_month_limit"), &l[ep].month) ||
            json_count(cJSON_GetObjectItemCaseSensitive(p, "absolute_limit"), &l[ep].absolute) ||
            json_count(cJSON_GetObjectItemCaseSensitive(usage, "month"), &m[ep]))
            goto out;
    }
    if (lim) memcpy(lim, l, sizeof(l));
    if (month) memcpy(month, m, sizeof(m));
    rc = IG_OK;
out:
    cJSON_Delete(root);
    return rc;
}

int ig_limits_from_account(const char *json, size_t len, ig_limits_t out[IG_EP_COUNT]) {
    if (!json || !out) return IG_EINVAL;
    return parse_account(json, len, out, NULL);
}

int ig_usage_from_account(const char *json, size_t len, int64_t month_used[IG_EP_COUNT]) {
    if (!json || !month_used) return IG_EINVAL;
    return parse_account(json, len, NULL, month_used);
}
