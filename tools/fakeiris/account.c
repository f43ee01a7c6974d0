/* account.c — the users fakeiris knows and what they have used: keys for authentication,
 * per-product usage counters (today and this month, UTC, counted by this process), the
 * per-minute window and the monthly quota, and the /v1/account body that reports them with
 * the vendor's string-or-null limits.
 *
 * The per-minute window is fixed and anchored at the first request after the previous
 * window ended, so N+1 quick requests always trip a limit of N. Requests refused with 503
 * are not counted as usage.
 *
 * Never logs a key. Users are added before the server starts and live until
 * fi_account_free; the handful of users makes a linear lookup the fastest one.
 */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irisgate/vendor.h"

typedef struct {
    uint64_t today, month;
    int64_t day_id, month_id; /* which day and month the counters are for */
    uint64_t win_start_ms;
    uint32_t win_count;
    int win_open;
} usage_t;

typedef struct {
    char *name;
    char *key;
    usage_t use[FI_PROD_COUNT];
} user_t;

struct fi_account {
    user_t *users;
    size_t n, cap;
    uint32_t rate, month_limit;
};

static const char *const product_ids[FI_PROD_COUNT] = {"account-information", "iris-investigate",
                                                       "iris-enrich"};

int fi_account_new(uint32_t rate_per_minute, uint32_t month_limit, fi_account_t **out) {
    fi_account_t *a = calloc(1, sizeof(*a));
    if (!a) return IG_ENOMEM;
    a->rate = rate_per_minute;
    a->month_limit = month_limit;
    *out = a;
    return IG_OK;
}

void fi_account_free(fi_account_t *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->users[i].name);
        free(a->users[i].key);
    }
    free(a->users);
    free(a);
}

void fi_account_set_limits(fi_account_t *a, uint32_t rate_per_minute, uint32_t month_limit) {
    a->rate = rate_per_minute;
    a->month_limit = month_limit;
}

static user_t *find(const fi_account_t *a, const char *name) {
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->users[i].name, name) == 0) return &a->users[i];
    return NULL;
}

int fi_account_add_user(fi_account_t *a, const char *name, const char *key) {
    if (!*name || !*key || find(a, name)) return IG_EINVAL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        user_t *p = realloc(a->users, cap * sizeof(*p));
        if (!p) return IG_ENOMEM;
        a->users = p;
        a->cap = cap;
    }
    user_t *u = &a->users[a->n];
    memset(u, 0, sizeof(*u));
    u->name = strdup(name);
    u->key = strdup(key);
    if (!u->name || !u->key) {
        free(u->name);
        free(u->key);
        return IG_ENOMEM;
    }
    a->n++;
    return IG_OK;
}

size_t fi_account_nusers(const fi_account_t *a) {
    return a->n;
}

uint32_t fi_account_rate(const fi_account_t *a) {
    return a->rate;
}

const char *fi_account_key(void *ctx, const char *username) {
    user_t *u = find(ctx, username);
    return u ? u->key : NULL;
}

/* Rolls the usage counters over when the UTC day or month has changed. */
static void roll(usage_t *u, int64_t now) {
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    int64_t day = now / 86400, month = (int64_t)tm.tm_year * 12 + tm.tm_mon;
    if (u->month_id != month) {
        u->month = 0;
        u->month_id = month;
    }
    if (u->day_id != day) {
        u->today = 0;
        u->day_id = day;
    }
}

/* The 503 texts are the recorded ones (account 2021, whois-history 2021); like every error
 * fakeiris sends, their support URL is the current era's (fake_faults.h). */
int fi_account_rate_body(uint32_t n, ig_buf_t *out) {
    char msg[160];
    snprintf(msg, sizeof(msg),
             "You have exceeded the maximum number of requests per minute allowed under your "
             "service level (%u/min).",
             n);
    return ig_vendor_error(out, 503, msg);
}

int fi_account_admit(fi_account_t *a, const char *user, fi_product_t p, uint64_t now_ms,
                     int64_t now, ig_buf_t *err_body) {
    user_t *usr = find(a, user);
    if (!usr || (unsigned)p >= FI_PROD_COUNT) {
        ig_vendor_error(err_body, 403, IG_MSG_BAD_CREDENTIALS);
        return 403;
    }
    usage_t *u = &usr->use[p];
    roll(u, now);
    if (a->rate) {
        if (!u->win_open || now_ms - u->win_start_ms >= 60000) {
            u->win_open = 1;
            u->win_start_ms = now_ms;
            u->win_count = 0;
        }
        if (u->win_count >= a->rate) {
            fi_account_rate_body(a->rate, err_body);
            return 503;
        }
    }
    if (a->month_limit && p != FI_PROD_ACCOUNT && u->month >= a->month_limit) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "You have exceeded the maximum number of requests allowed under your service "
                 "level (%u).",
                 a->month_limit);
        ig_vendor_error(err_body, 503, msg);
        return 503;
    }
    u->win_count++;
    u->today++;
    u->month++;
    return 200;
}

static int put_limit(ig_buf_t *out, const char *name, uint32_t v) {
    if (!v) return ig_buf_printf(out, "\"%s\":null,", name);
    return ig_buf_printf(out, "\"%s\":\"%u\",", name, v);
}

int fi_account_render(fi_account_t *a, const char *user, int64_t now, ig_buf_t *out) {
    user_t *usr = find(a, user);
    if (!usr) return IG_ENOENT;
    int rc = ig_buf_puts(out, "{\"response\":{\"account\":{\"api_username\":");
    if (!rc) rc = ig_buf_json_str(out, usr->name, strlen(usr->name));
    if (!rc) rc = ig_buf_puts(out, ",\"active\":true},\"products\":[");
    for (int p = 0; p < FI_PROD_COUNT && !rc; p++) {
        usage_t *u = &usr->use[p];
        roll(u, now);
        rc = ig_buf_printf(out, "%s{\"id\":\"%s\",", p ? "," : "", product_ids[p]);
        if (!rc) rc = put_limit(out, "per_month_limit", p == FI_PROD_ACCOUNT ? 0 : a->month_limit);
        if (!rc) rc = ig_buf_puts(out, "\"per_hour_limit\":null,");
        if (!rc) rc = put_limit(out, "per_minute_limit", a->rate);
        if (!rc)
            rc = ig_buf_printf(out,
                               "\"absolute_limit\":null,\"usage\":{\"today\":\"%llu\",\"month\":"
                               "\"%llu\"},\"expiration_date\":null}",
                               (unsigned long long)u->today, (unsigned long long)u->month);
    }
    if (!rc) rc = ig_buf_puts(out, "]}}");
    return rc;
}

void fi_account_reset(fi_account_t *a) {
    for (size_t i = 0; i < a->n; i++)
        memset(a->users[i].use, 0, sizeof(a->users[i].use));
}
