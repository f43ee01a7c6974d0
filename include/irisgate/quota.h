/* quota.h — per-user limits and accounting: how many upstream queries each proxy user may
 * spend per product (iris-investigate, iris-enrich, account) per minute, hour and calendar
 * month, what each has spent, and the /v1/account answer irisgate gives a user about itself.
 *
 * A user's limits are the config defaults (user_limit_*), with the keys its override (the
 * secrets file's `limit` lines) sets replaced; 0 = no limit. Minute and hour are sliding
 * windows of exactly 60 s and 3600 s; "today" and "month" are the UTC day and calendar month.
 * All times are epoch milliseconds passed in by the caller. Loop thread only (no locking).
 */
#ifndef IRISGATE_QUOTA_H
#define IRISGATE_QUOTA_H

#include "irisgate/common.h"
#include "irisgate/limiter.h"
#include "irisgate/vendor.h"

typedef struct ig_quota ig_quota_t;

typedef struct {
    ig_limits_t limits; /* the user's own: minute, hour, month (absolute is always 0) */
    int64_t minute;     /* upstream queries spent in the last 60 s */
    int64_t hour;       /* in the last 3600 s */
    int64_t today;      /* this UTC day */
    int64_t month;      /* this UTC calendar month */
} ig_quota_usage_t;

int ig_quota_new(ig_quota_t **out);
void ig_quota_free(ig_quota_t *q);

/* Every user's default for product (config user_limit_*): the keys spec sets; the others
 * have no limit. absolute is ignored. */
void ig_quota_set_default(ig_quota_t *q, ig_endpoint_t product, const ig_limit_spec_t *spec);
/* user's override for product: the keys spec sets replace the default (absolute ignored);
 * NULL or a spec setting nothing removes the override. IG_EINVAL bad product, IG_ENOMEM. */
int ig_quota_set_user(ig_quota_t *q, const char *user, ig_endpoint_t product,
                      const ig_limit_spec_t *spec);
/* The shared upstream limits of product (as the limiter enforces them). They never limit a
 * user here; they only cap what ig_quota_account_json advertises, so a client pacing itself
 * by /v1/account (the official SDK does) never outruns the shared limit alone. */
void ig_quota_set_upstream(ig_quota_t *q, ig_endpoint_t product, const ig_limits_t *lim);

/* May user spend one more upstream query of product now? 0, or IG_ELIMIT with *which set to
 * the spent window, the one that clears last: "month", then "hour", then "minute".
 * IG_EINVAL bad product. */
int ig_quota_check(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   const char **which);
/* Counts n upstream queries of product for user at now_ms. */
int ig_quota_spend(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   int64_t n);
/* Takes back n queries counted by ig_quota_spend at spent_ms (one the vendor did not count:
 * its 503 for rate). A day or month that has ended since keeps its count. */
void ig_quota_refund(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t spent_ms,
                     int64_t now_ms, int64_t n);
/* Restores after a restart (replacing what was counted): queries spent this calendar month
 * and this day, and the send times (epoch ms, any order) of those in the last hour. */
int ig_quota_preload(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                     int64_t month_used, int64_t today_used, const int64_t *recent_ms, size_t n);
/* The user's limits and spend of product at now_ms. */
int ig_quota_usage(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   ig_quota_usage_t *out);
/* Appends the vendor's /v1/account body for user (no trailing newline):
 *   {"response":{"account":{"api_username":USER,"active":true},"products":[
 *     {"id":"iris-investigate","per_month_limit":"N"|null,"per_hour_limit":..,
 *      "per_minute_limit":..,"absolute_limit":null,"usage":{"today":"N","month":"N"},
 *      "expiration_date":null}, iris-enrich, account-information]}}
 * Limits are the user's, capped by the upstream's (the smaller non-zero one); numbers are
 * strings as in the vendor's answers. */
int ig_quota_account_json(ig_quota_t *q, const char *user, int64_t now_ms, ig_buf_t *out);

#endif
