/* auth.h — the vendor's four credential schemes, on the receiving side: open key
 * (api_username + api_key), HMAC (api_username + timestamp + signature), X-Api-Key header
 * (with api_username), HTTP Basic. Used by irisgate for its proxy users and by fakeiris
 * for its accounts, so both judge a request the same way.
 */
#ifndef IRISGATE_AUTH_H
#define IRISGATE_AUTH_H

#include "irisgate/form.h"

typedef enum {
    IG_AUTH_NONE = 0,
    IG_AUTH_OPEN_KEY,
    IG_AUTH_HMAC,
    IG_AUTH_HEADER,
    IG_AUTH_BASIC
} ig_auth_scheme_t;

typedef struct {
    ig_auth_scheme_t scheme;
    const char *username; /* points into params, or into basic[] */
    const char *key;      /* open key, header or basic; NULL for HMAC */
    const char *timestamp;
    const char *signature;
    char basic[512]; /* decoded "user:key" of a Basic header, split in place */
} ig_auth_creds_t;

/* Finds the credentials in a request. Header values may be NULL. Precedence: HMAC fields,
 * then api_key, then X-Api-Key, then Basic. IG_EAUTH when none is complete. */
int ig_auth_extract(const ig_params_t *params, const char *x_api_key, const char *authorization,
                    ig_auth_creds_t *out);

/* Returns the key of a user, or NULL when there is no such user. */
typedef const char *(*ig_auth_lookup_fn)(void *ctx, const char *username);

/* 0 when the credentials are valid for path (the request path as sent, used by HMAC) at
 * time now, with timestamps accepted within max_skew seconds either way. IG_EAUTH otherwise. */
int ig_auth_check(const ig_auth_creds_t *c, const char *path, int64_t now, int max_skew,
                  ig_auth_lookup_fn lookup, void *ctx);

const char *ig_auth_scheme_name(ig_auth_scheme_t s);

#endif
