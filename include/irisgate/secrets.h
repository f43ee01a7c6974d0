/* secrets.h — the secrets file: proxy users and their keys, the vendor credential, the
 * admin token. The only place keys live (never the intel database, a log or a response).
 *
 * Format, one entry per line ('#' comments):
 *     upstream <username> <key>
 *     user <name> <key>
 *     admin_token <token>
 *     limit <name> <product> <spec>
 * A limit line overrides the config's user_limit_<product> for a user named on an earlier
 * user line: product is investigate, enrich or account; spec as in irisgate/limiter.h, without
 * absolute (e.g. "minute=5,month=1000"; keys left out keep the config default; "default" sets
 * none). At most one per user and product. Saving writes each user's limit lines after all
 * the user lines.
 * The file must be a regular file with no group or other permission bits (0600); loading
 * refuses anything else. Saving writes a temporary file with mode 0600 and renames it.
 */
#ifndef IRISGATE_SECRETS_H
#define IRISGATE_SECRETS_H

#include "irisgate/common.h"
#include "irisgate/limiter.h"

typedef struct {
    char *name;
    char *key;
    ig_limit_spec_t limits[IG_EP_COUNT]; /* overrides by ig_endpoint_t; set == 0: none */
} ig_secret_user_t;

typedef struct {
    char *upstream_username;
    char *upstream_key;
    char *admin_token;
    ig_secret_user_t *users;
    size_t nusers;
} ig_secrets_t;

/* Loads path into s (zeroed first). A missing file is IG_ENOENT with s empty. */
int ig_secrets_load(ig_secrets_t *s, const char *path, char *err, size_t errlen);
int ig_secrets_save(const ig_secrets_t *s, const char *path, char *err, size_t errlen);
void ig_secrets_free(ig_secrets_t *s);

/* Key of user name, or NULL (usable as an ig_auth_lookup_fn with ctx = s). */
const char *ig_secrets_user_key(void *s, const char *name);
/* Adds a user with a fresh random key; IG_EINVAL if the name exists or is not
 * [A-Za-z0-9_.@-]{1,64}. *key_out points into s. */
int ig_secrets_add_user(ig_secrets_t *s, const char *name, const char **key_out);
int ig_secrets_remove_user(ig_secrets_t *s, const char *name);
int ig_secrets_set_upstream(ig_secrets_t *s, const char *username, const char *key);
/* Sets user name's override for product (IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT);
 * NULL or a spec setting no key removes it. IG_ENOENT no such user; IG_EINVAL another product
 * or a spec setting absolute. */
int ig_secrets_set_limit(ig_secrets_t *s, const char *name, ig_endpoint_t product,
                         const ig_limit_spec_t *spec);
/* User name's overrides, indexed by ig_endpoint_t (IG_EP_COUNT entries), or NULL. */
const ig_limit_spec_t *ig_secrets_user_limits(const ig_secrets_t *s, const char *name);

/* Writes n random bytes as 2n lower-case hex characters and a NUL. */
int ig_random_hex(char *out, size_t nbytes);

#endif
