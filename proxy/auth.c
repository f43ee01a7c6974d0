/* auth.c — judges a request's credentials by the vendor's four schemes (open key, HMAC,
 * X-Api-Key, HTTP Basic) against a lookup of user → key supplied by the caller.
 *
 * Holds no state and never logs: a key only ever meets ig_ct_equal or HMAC. Basic
 * credentials are base64-decoded into the caller's ig_auth_creds_t.
 */
#include "irisgate/auth.h"
#include "irisgate/hmac.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

static int nonempty(const char *s) {
    return s && *s;
}

static int decode_basic(const char *authorization, ig_auth_creds_t *out) {
    const char *p = authorization;
    while (*p == ' ') p++;
    if (strncasecmp(p, "Basic ", 6) != 0) return IG_EAUTH;
    p += 6;
    while (*p == ' ') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof(out->basic)) return IG_EAUTH;
    int len = EVP_DecodeBlock((unsigned char *)out->basic, (const unsigned char *)p, (int)n);
    if (len < 0) return IG_EAUTH;
    /* EVP_DecodeBlock counts padding bytes as output: take them off. */
    if (n >= 1 && p[n - 1] == '=') len--;
    if (n >= 2 && p[n - 2] == '=') len--;
    out->basic[len] = '\0';
    if ((int)strlen(out->basic) != len) return IG_EAUTH; /* embedded NUL */
    char *colon = strchr(out->basic, ':');
    if (!colon || colon == out->basic) return IG_EAUTH;
    *colon = '\0';
    out->username = out->basic;
    out->key = colon + 1;
    return nonempty(out->key) ? IG_OK : IG_EAUTH;
}

int ig_auth_extract(const ig_params_t *params, const char *x_api_key, const char *authorization,
                    ig_auth_creds_t *out) {
    memset(out, 0, sizeof(*out));
    const char *user = ig_params_get(params, "api_username");
    const char *ts = ig_params_get(params, "timestamp");
    const char *sig = ig_params_get(params, "signature");
    const char *key = ig_params_get(params, "api_key");
    if (nonempty(user) && nonempty(ts) && nonempty(sig)) {
        out->scheme = IG_AUTH_HMAC;
        out->username = user;
        out->timestamp = ts;
        out->signature = sig;
        return IG_OK;
    }
    if (nonempty(user) && nonempty(key)) {
        out->scheme = IG_AUTH_OPEN_KEY;
        out->username = user;
        out->key = key;
        return IG_OK;
    }
    if (nonempty(x_api_key) && nonempty(user)) {
        out->scheme = IG_AUTH_HEADER;
        out->username = user;
        out->key = x_api_key;
        return IG_OK;
    }
    if (nonempty(authorization) && decode_basic(authorization, out) == IG_OK) {
        out->scheme = IG_AUTH_BASIC;
        return IG_OK;
    }
    memset(out, 0, sizeof(*out));
    return IG_EAUTH;
}

int ig_auth_check(const ig_auth_creds_t *c, const char *path, int64_t now, int max_skew,
                  ig_auth_lookup_fn lookup, void *ctx) {
    if (c->scheme == IG_AUTH_NONE || !c->username) return IG_EAUTH;
    const char *want = lookup(ctx, c->username);
    if (!want) return IG_EAUTH;
    if (c->scheme == IG_AUTH_HMAC) {
        int64_t t;
        if (ig_time_parse_iso8601(c->timestamp, &t) != IG_OK) return IG_EAUTH;
        if (t < now - max_skew || t > now + max_skew) return IG_EAUTH;
        return ig_hmac_verify(want, c->username, c->timestamp, path, c->signature);
    }
    return ig_ct_equal(want, strlen(want), c->key, strlen(c->key)) ? IG_OK : IG_EAUTH;
}

const char *ig_auth_scheme_name(ig_auth_scheme_t s) {
    switch (s) {
    case IG_AUTH_OPEN_KEY: return "open-key";
    case IG_AUTH_HMAC: return "hmac";
    case IG_AUTH_HEADER: return "x-api-key";
    case IG_AUTH_BASIC: return "basic";
    default: return "none";
    }
}
