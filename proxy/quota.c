/* quota.c — per-user limits and accounting (irisgate/quota.h).
 *
 * Owns: the default limits per product, each user's overrides, and per user and product the
 * spend: a window of send times (last hour), the count of the current UTC day and month. Users
 * live in a small hash table, created on first override or spend and kept until
 * ig_quota_free; a user never seen spends nothing and has the defaults.
 * Never: enforces anything itself (the caller asks ig_quota_check before sending upstream and
 * answers the refusal), reads a clock (times come in), or blocks.
 * Life cycle: ig_quota_new, set defaults and overrides, check/spend per request, ig_quota_free.
 */
#include "irisgate/quota.h"

#include "window_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
#define HOUR_MS 3600000
#define NBUCKETS 64 /* hash buckets; a team has tens of users */
#define USER_KEYS (IG_LIMIT_MINUTE | IG_LIMIT_HOUR | IG_LIMIT_MONTH)

typedef struct {
    ig_window_t win;
    int64_t day_start, day_used;
    int64_t month_start, month_used;
} spend_t;

typedef struct quser {
    char *name;
    ig_limit_spec_t over[IG_EP_COUNT];
    spend_t sp[IG_EP_COUNT];
    struct quser *next;
} quser_t;

struct ig_quota {
    ig_limit_spec_t dflt[IG_EP_COUNT];
    ig_limits_t upstream[IG_EP_COUNT];
    quser_t *bucket[NBUCKETS];
};

static int product_ok(ig_endpoint_t p) {
    return p > IG_EP_UNKNOWN && p < IG_EP_COUNT;
}

static quser_t **slot(ig_quota_t *q, const char *name) {
    return &q->bucket[ig_hash64(name, strlen(name)) % NBUCKETS];
}

static quser_t *find(ig_quota_t *q, const char *name) {
    for (quser_t *u = *slot(q, name); u; u = u->next)
        if (strcmp(u->name, name) == 0) return u;
    return NULL;
}

static quser_t *get(ig_quota_t *q, const char *name) {
    quser_t *u = find(q, name);
    if (u) return u;
    if (!(u = calloc(1, sizeof(*u)))) return NULL;
    if (!(u->name = strdup(name))) {
        free(u);
        return NULL;
    }
    for (int i = 0; i < IG_EP_COUNT; i++)
        ig_window_init(&u->sp[i].win);
    quser_t **s = slot(q, name);
    u->next = *s;
    *s = u;
    return u;
}

int ig_quota_new(ig_quota_t **out) {
    *out = calloc(1, sizeof(**out));
    return *out ? IG_OK : IG_ENOMEM;
}

void ig_quota_free(ig_quota_t *q) {
    if (!q) return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        quser_t *u = q->bucket[b];
        while (u) {
            quser_t *next = u->next;
            for (int i = 0; i < IG_EP_COUNT; i++)
                ig_window_free(&u->sp[i].win);
            free(u->name);
            free(u);
            u = next;
        }
    }
    free(q);
}

static ig_limit_spec_t user_keys(const ig_limit_spec_t *spec) {
    ig_limit_spec_t s = *spec;
    s.set &= USER_KEYS;
    s.v.absolute = 0;
    return s;
}

void ig_quota_set_default(ig_quota_t *q, ig_endpoint_t product, const ig_limit_spec_t *spec) {
    if (!product_ok(product) || !spec) return;
    q->dflt[product] = user_keys(spec);
}

int ig_quota_set_user(ig_quota_t *q, const char *user, ig_endpoint_t product,
                      const ig_limit_spec_t *spec) {
    if (!product_ok(product) || !user) return IG_EINVAL;
    quser_t *u = spec && (spec->set & USER_KEYS) ? get(q, user) : find(q, user);
    if (!u) return spec && (spec->set & USER_KEYS) ? IG_ENOMEM : IG_OK;
    if (spec)
        u->over[product] = user_keys(spec);
    else
        memset(&u->over[product], 0, sizeof(u->over[product]));
    return IG_OK;
}

void ig_quota_set_upstream(ig_quota_t *q, ig_endpoint_t product, const ig_limits_t *lim) {
    if (product_ok(product) && lim) q->upstream[product] = *lim;
}

static ig_limits_t limits_of(const ig_quota_t *q, const quser_t *u, ig_endpoint_t product) {
    ig_limits_t l = {0, 0, 0, 0};
    ig_limit_spec_apply(&q->dflt[product], &l);
    if (u) ig_limit_spec_apply(&u->over[product], &l);
    l.absolute = 0;
    return l;
}

/* Starts a new day or month when now_ms is past the counted one. */
static void roll(spend_t *s, int64_t now_ms) {
    int64_t d = ig_day_start_ms(now_ms), m = ig_month_start_ms(now_ms);
    if (d != s->day_start) {
        s->day_start = d;
        s->day_used = 0;
    }
    if (m != s->month_start) {
        s->month_start = m;
        s->month_used = 0;
    }
}

/* Spend of u at now_ms without changing it (u may be NULL: nothing spent). */
static void usage_of(const quser_t *u, ig_endpoint_t product, int64_t now_ms,
                     ig_quota_usage_t *out) {
    out->minute = out->hour = out->today = out->month = 0;
    if (!u) return;
    const spend_t *s = &u->sp[product];
    out->minute = ig_window_count(&s->win, now_ms - MINUTE_MS);
    out->hour = ig_window_count(&s->win, now_ms - HOUR_MS);
    out->today = s->day_start == ig_day_start_ms(now_ms) ? s->day_used : 0;
    out->month = s->month_start == ig_month_start_ms(now_ms) ? s->month_used : 0;
}

int ig_quota_usage(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   ig_quota_usage_t *out) {
    memset(out, 0, sizeof(*out));
    if (!product_ok(product) || !user) return IG_EINVAL;
    const quser_t *u = find(q, user);
    out->limits = limits_of(q, u, product);
    usage_of(u, product, now_ms, out);
    return IG_OK;
}

int ig_quota_check(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   const char **which) {
    if (which) *which = NULL;
    ig_quota_usage_t us;
    int rc = ig_quota_usage(q, user, product, now_ms, &us);
    if (rc != IG_OK) return rc;
    const char *w = NULL;
    if (us.limits.month > 0 && us.month >= us.limits.month)
        w = "month";
    else if (us.limits.hour > 0 && us.hour >= us.limits.hour)
        w = "hour";
    else if (us.limits.minute > 0 && us.minute >= us.limits.minute)
        w = "minute";
    if (!w) return IG_OK;
    if (which) *which = w;
    return IG_ELIMIT;
}

int ig_quota_spend(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                   int64_t n) {
    if (!product_ok(product) || !user || n < 0) return IG_EINVAL;
    if (n == 0) return IG_OK;
    quser_t *u = get(q, user);
    if (!u) return IG_ENOMEM;
    spend_t *s = &u->sp[product];
    roll(s, now_ms);
    s->day_used += n;
    s->month_used += n;
    ig_window_prune(&s->win, now_ms - HOUR_MS);
    return ig_window_add(&s->win, now_ms, n);
}

void ig_quota_refund(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t spent_ms,
                     int64_t now_ms, int64_t n) {
    if (!product_ok(product) || !user || n <= 0) return;
    quser_t *u = get(q, user);
    if (!u) return;
    spend_t *s = &u->sp[product];
    roll(s, now_ms);
    if (s->day_start == ig_day_start_ms(spent_ms)) s->day_used -= s->day_used < n ? s->day_used : n;
    if (s->month_start == ig_month_start_ms(spent_ms))
        s->month_used -= s->month_used < n ? s->month_used : n;
    ig_window_take(&s->win, spent_ms, n);
}

int ig_quota_preload(ig_quota_t *q, const char *user, ig_endpoint_t product, int64_t now_ms,
                     int64_t month_used, int64_t today_used, const int64_t *recent_ms, size_t n) {
    if (!product_ok(product) || !user || month_used < 0 || today_used < 0) return IG_EINVAL;
    quser_t *u = get(q, user);
    if (!u) return IG_ENOMEM;
    spend_t *s = &u->sp[product];
    roll(s, now_ms);
    s->month_used = month_used;
    s->day_used = today_used;
    ig_window_clear(&s->win);
    for (size_t i = 0; i < n; i++)
        if (recent_ms[i] > now_ms - HOUR_MS && ig_window_add(&s->win, recent_ms[i], 1) != IG_OK)
            return IG_ENOMEM;
    return IG_OK;
}

/* The smaller of two limits where 0 means none. */
static int64_t cap(int64_t a, int64_t b) {
    if (a <= 0) return b > 0 ? b : 0;
    if (b <= 0) return a;
    return a < b ? a : b;
}

static int put_limit(ig_buf_t *out, const char *key, int64_t v) {
    if (v > 0) return ig_buf_printf(out, ",\"%s\":\"%lld\"", key, (long long)v);
    return ig_buf_printf(out, ",\"%s\":null", key);
}

int ig_quota_account_json(ig_quota_t *q, const char *user, int64_t now_ms, ig_buf_t *out) {
    static const struct {
        ig_endpoint_t ep;
        const char *id;
    } products[] = {{IG_EP_INVESTIGATE, "iris-investigate"},
                    {IG_EP_ENRICH, "iris-enrich"},
                    {IG_EP_ACCOUNT, "account-information"}};
    if (!user) return IG_EINVAL;
    int rc = 0;
    rc |= ig_buf_puts(out, "{\"response\":{\"account\":{\"api_username\":");
    rc |= ig_buf_json_str(out, user, strlen(user));
    rc |= ig_buf_puts(out, ",\"active\":true},\"products\":[");
    for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++) {
        ig_quota_usage_t us;
        ig_quota_usage(q, user, products[i].ep, now_ms, &us);
        const ig_limits_t *up = &q->upstream[products[i].ep];
        rc |= ig_buf_printf(out, "%s{\"id\":\"%s\"", i ? "," : "", products[i].id);
        rc |= put_limit(out, "per_month_limit", cap(us.limits.month, up->month));
        rc |= put_limit(out, "per_hour_limit", cap(us.limits.hour, up->hour));
        rc |= put_limit(out, "per_minute_limit", cap(us.limits.minute, up->minute));
        rc |= ig_buf_printf(out,
                            ",\"absolute_limit\":null,\"usage\":{\"today\":\"%lld\",\"month\":"
                            "\"%lld\"},\"expiration_date\":null}",
                            (long long)us.today, (long long)us.month);
    }
    rc |= ig_buf_puts(out, "]}}");
    return rc ? IG_ENOMEM : IG_OK;
}
