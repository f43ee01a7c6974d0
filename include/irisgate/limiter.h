/* limiter.h — the upstream limiter: how many queries irisgate may send the vendor, per product
 * (iris-investigate, iris-enrich, account), and the fair queue of requests waiting for a slot.
 *
 * Windows per product: a sliding minute and hour (counted as 61 s and 3601 s, because the
 * vendor counts at arrival and our clock is not its clock), the calendar month (UTC) and an
 * absolute total. A limit of 0 means none. Over a limit, a request waits in its user's FIFO;
 * users are served round robin, so one heavy user cannot starve another. Everything runs on
 * one libuv loop and never blocks it: one uv_timer wakes the limiter when the next slot opens
 * or the next deadline passes.
 *
 * Limit specs (config keys upstream_limit_* and user_limit_*, `irisgate user set`, the
 * secrets file) are written "minute=20,hour=0,month=10000,absolute=0", any subset of the keys
 * in any order, no spaces. A spec says which keys it sets: the keys it leaves out come from
 * elsewhere (the upstream's /v1/account for upstream limits, the config default for a user's
 * override). One keyword ("auto", "none" or "default", chosen by the caller) means "no key set".
 */
#ifndef IRISGATE_LIMITER_H
#define IRISGATE_LIMITER_H

#include "irisgate/common.h"
#include "irisgate/vendor.h"

#include <uv.h>

typedef struct {
    int64_t minute, hour, month, absolute; /* 0 = no limit */
} ig_limits_t;

/* ---- limit specs ------------------------------------------------------------------------- */

#define IG_LIMIT_MINUTE 1u
#define IG_LIMIT_HOUR 2u
#define IG_LIMIT_MONTH 4u
#define IG_LIMIT_ABSOLUTE 8u
#define IG_LIMIT_MAX_VALUE 1000000000000LL /* largest value a spec may give */

typedef struct {
    ig_limits_t v; /* values of the keys in set; the others are 0 */
    unsigned set;  /* IG_LIMIT_* bits of the keys the spec gives */
} ig_limit_spec_t;

/* Parses s into out (zeroed first). empty_word ("auto", "none", "default") is the keyword for
 * "no key set"; absolute=... is refused unless allow_absolute. On error, err gets a message
 * starting with the offending part (never a prefix naming the setting; callers add that). */
int ig_limit_spec_parse(const char *s, const char *empty_word, int allow_absolute,
                        ig_limit_spec_t *out, char *err, size_t errlen);
/* Writes the spec in canonical order (minute, hour, month, absolute), or empty_word when it
 * sets no key. IG_ETOOBIG if it does not fit in n bytes. */
int ig_limit_spec_format(const ig_limit_spec_t *s, const char *empty_word, char *out, size_t n);
/* Replaces the keys s sets in *inout; the others stay. */
void ig_limit_spec_apply(const ig_limit_spec_t *s, ig_limits_t *inout);
/* The short product names of config keys, flags and the secrets file: "investigate",
 * "enrich", "account" <-> IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT. Unknown names give
 * IG_EP_UNKNOWN, other endpoints NULL. */
ig_endpoint_t ig_limit_product(const char *name);
const char *ig_limit_product_name(ig_endpoint_t product);

/* Parses the vendor's /v1/account answer ({"response":{"products":[...]}}; limits are strings,
 * ints or null, per_hour_limit may be absent) into limits per product, indexed by
 * ig_endpoint_t: iris-investigate, iris-enrich, and account-information → IG_EP_ACCOUNT. A
 * null or absent limit is 0 (none); a product absent from the answer gets all zeros. IG_EINVAL
 * for anything that is not such an answer (an error envelope, bad JSON, a limit that is not a
 * non-negative integer). out is written only on success. */
int ig_limits_from_account(const char *json, size_t len, ig_limits_t out[IG_EP_COUNT]);
/* From the same answer: usage.month per product (what the vendor counted this month for the
 * whole account, the Iris UI included), for ig_limiter_preload. Absent or null: 0. */
int ig_usage_from_account(const char *json, size_t len, int64_t month_used[IG_EP_COUNT]);

/* ---- the limiter ------------------------------------------------------------------------- */

typedef struct ig_limiter ig_limiter_t;
typedef struct ig_limiter_wait ig_limiter_wait_t;
/* rc: 0 go (the query is counted), IG_ETIMEDOUT past the deadline, IG_EINVAL the limiter is
 * being freed. */
typedef void (*ig_limiter_cb)(void *arg, int rc);

int ig_limiter_new(uv_loop_t *loop, ig_limiter_t **out);
/* Sets product's limits (all four; 0 = none) and serves waiters that now fit. */
void ig_limiter_set(ig_limiter_t *l, ig_endpoint_t product, const ig_limits_t *lim);
void ig_limiter_get(const ig_limiter_t *l, ig_endpoint_t product, ig_limits_t *out);
/* Restores after a restart: the queries already spent this calendar month (UTC) and ever, and
 * the send times (epoch ms, any order) of those in the last hour. Replaces what the limiter
 * counted for product. */
void ig_limiter_preload(ig_limiter_t *l, ig_endpoint_t product, int64_t month_used,
                        int64_t absolute_used, const int64_t *recent_ms, size_t n);
/* One upstream query of product for user. Granted now: returns 1 (counted; cb never called).
 * Else queued: returns 0 and sets *w; cb is called later on the loop exactly once (never from
 * inside this call), unless ig_limiter_cancel comes first. deadline_ms is loop time
 * (uv_now(loop)). *w is invalid once cb has been called or the wait cancelled.
 * Errors (cb never called): IG_ELIMIT when the month or absolute limit is spent and no slot
 * opens before the deadline (waiting cannot help), IG_EINVAL for a bad product or a limiter
 * being freed, IG_ENOMEM. */
/* The vendor's own count of product this month (its /v1/account usage.month, which includes
 * what the Iris UI and other clients of the account spent): the limiter's month count is
 * raised to it, never lowered. */
void ig_limiter_floor_month(ig_limiter_t *l, ig_endpoint_t product, int64_t vendor_month_used);
int ig_limiter_acquire(ig_limiter_t *l, ig_endpoint_t product, const char *user,
                       uint64_t deadline_ms, ig_limiter_cb cb, void *arg, ig_limiter_wait_t **w);
/* Takes a waiter out of the queue; its cb is never called. */
void ig_limiter_cancel(ig_limiter_wait_t *w);
/* The vendor answered 503 for rate: pause granting product for a cool-off, exponential with
 * jitter: the k-th in a row lasts b..1.5b with b = 1 s, 2 s, 4 s, ... capped at 40 s (so never
 * over 60 s). Returns the pause in ms. A 503 while a pause runs (another answer of the same
 * burst) neither extends nor escalates it: it returns what is left. ig_limiter_ok (after a
 * success) resets the backoff. */
int64_t ig_limiter_cooloff(ig_limiter_t *l, ig_endpoint_t product);
void ig_limiter_ok(ig_limiter_t *l, ig_endpoint_t product);

/* Upper bounds (seconds) of wait_buckets[0..6]; wait_buckets[7] counts longer waits. The
 * buckets are not cumulative. */
#define IG_LIMITER_WAIT_BOUNDS                                                                     \
    { 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0 }

typedef struct {
    size_t queued;       /* waiting now */
    int64_t used_minute; /* queries in the minute window (61 s) now */
    int64_t used_hour;   /* in the hour window (3601 s) */
    int64_t used_month;  /* this calendar month (UTC) */
    int64_t used_absolute;
    uint64_t waited;          /* granted after waiting in the queue */
    uint64_t timed_out;       /* gave up at their deadline */
    double wait_seconds_sum;  /* of the waited ones */
    uint64_t wait_buckets[8]; /* of the waited ones; bounds in IG_LIMITER_WAIT_BOUNDS */
} ig_limiter_stats_t;

void ig_limiter_stats(const ig_limiter_t *l, ig_endpoint_t product, ig_limiter_stats_t *out);
/* Every waiter's cb gets IG_EINVAL, synchronously; then the timer is closed and the limiter
 * freed in its close callback (run the loop to finish). May be called from inside a cb. */
void ig_limiter_free(ig_limiter_t *l);

#endif
