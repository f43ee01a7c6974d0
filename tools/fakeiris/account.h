/* account.h — fakeiris' accounts: the configured users and their keys, what each has used
 * of each product (today, this month), the per-minute and monthly limits, and the
 * /v1/account answer built from them in the vendor's shape.
 */
#ifndef FAKEIRIS_ACCOUNT_H
#define FAKEIRIS_ACCOUNT_H

#include "irisgate/common.h"

typedef struct fi_account fi_account_t;

typedef enum {
    FI_PROD_ACCOUNT = 0, /* "account-information" */
    FI_PROD_INVESTIGATE, /* "iris-investigate" */
    FI_PROD_ENRICH,      /* "iris-enrich" */
    FI_PROD_COUNT
} fi_product_t;

/* rate_per_minute: requests per user, product and minute (0 = no limit, also for
 * account-information). month_limit: Investigate and Enrich requests per user and calendar
 * month (0 = none; account-information never has one). */
int fi_account_new(uint32_t rate_per_minute, uint32_t month_limit, fi_account_t **out);
void fi_account_free(fi_account_t *a);
/* Changes the limits (as in fi_account_new). */
void fi_account_set_limits(fi_account_t *a, uint32_t rate_per_minute, uint32_t month_limit);

/* Adds a user. IG_EINVAL for an empty name or key, or a name already added. */
int fi_account_add_user(fi_account_t *a, const char *name, const char *key);
size_t fi_account_nusers(const fi_account_t *a);

/* ig_auth_lookup_fn: the key of username, or NULL. ctx is the fi_account_t. */
const char *fi_account_key(void *ctx, const char *username);

/* Admits one request of user (who must exist) for product at monotonic time now_ms and wall
 * time now (epoch seconds; days and months are UTC). Returns 200 and counts it in the
 * user's usage, or 503 with the vendor's error envelope appended to err_body. */
int fi_account_admit(fi_account_t *a, const char *user, fi_product_t p, uint64_t now_ms,
                     int64_t now, ig_buf_t *err_body);

/* Appends the vendor's 503 body for a per-minute limit of n requests. */
int fi_account_rate_body(uint32_t n, ig_buf_t *out);

/* Appends the /v1/account answer of user as of wall time now. */
int fi_account_render(fi_account_t *a, const char *user, int64_t now, ig_buf_t *out);

/* Forgets all usage and rate windows. */
void fi_account_reset(fi_account_t *a);

uint32_t fi_account_rate(const fi_account_t *a);

#endif
