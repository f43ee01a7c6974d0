/* test_quota.c — per-user limits and accounting: defaults and per-user overrides, the sliding
 * minute and hour (exactly 60 s and 3600 s), the UTC day and calendar month, which limit a
 * refusal names, preload after a restart, and the /v1/account body irisgate answers with
 * (the vendor's shape and types, limits capped by the upstream's). */
#include "check.h"
#include "irisgate/quota.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* 2026-03-10T12:00:00Z */
#define T0 1773144000000LL
#define JAN31_2359 1769903940000LL /* 2026-01-31T23:59:00Z */
#define FEB01 1769904000000LL      /* 2026-02-01T00:00:00Z */

static ig_limit_spec_t spec(const char *s) {
    ig_limit_spec_t out;
    char err[256];
    int rc = ig_limit_spec_parse(s, "none", 0, &out, err, sizeof(err));
    CHECK_EQ_INT(rc, IG_OK);
    if (rc) fprintf(stderr, "  %s: %s\n", s, err);
    return out;
}

static void test_quota_defaults_and_per_user_overrides(void) {
    ig_quota_t *q;
    CHECK_EQ_INT(ig_quota_new(&q), IG_OK);
    ig_limit_spec_t d = spec("minute=2,month=100");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    ig_limit_spec_t o = spec("minute=5,hour=50");
    CHECK_EQ_INT(ig_quota_set_user(q, "alice", IG_EP_INVESTIGATE, &o), IG_OK);
    ig_quota_usage_t u;
    CHECK_EQ_INT(ig_quota_usage(q, "alice", IG_EP_INVESTIGATE, T0, &u), IG_OK);
    CHECK_EQ_INT(u.limits.minute, 5);
    CHECK_EQ_INT(u.limits.hour, 50);
    CHECK_EQ_INT(u.limits.month, 100); /* not overridden: the default */
    CHECK_EQ_INT(ig_quota_usage(q, "bob", IG_EP_INVESTIGATE, T0, &u), IG_OK);
    CHECK_EQ_INT(u.limits.minute, 2);
    CHECK_EQ_INT(u.limits.hour, 0);
    CHECK_EQ_INT(u.limits.month, 100);
    CHECK_EQ_INT(u.today + u.month + u.minute + u.hour, 0);
    /* Enrich has no default: no limit. */
    CHECK_EQ_INT(ig_quota_usage(q, "alice", IG_EP_ENRICH, T0, &u), IG_OK);
    CHECK_EQ_INT(u.limits.minute + u.limits.hour + u.limits.month, 0);
    /* An override may lift a default: 0 = no limit. */
    ig_limit_spec_t lift = spec("month=0");
    ig_quota_set_user(q, "carol", IG_EP_INVESTIGATE, &lift);
    ig_quota_usage(q, "carol", IG_EP_INVESTIGATE, T0, &u);
    CHECK_EQ_INT(u.limits.month, 0);
    CHECK_EQ_INT(u.limits.minute, 2);
    /* Removing the override brings the default back. */
    CHECK_EQ_INT(ig_quota_set_user(q, "alice", IG_EP_INVESTIGATE, NULL), IG_OK);
    ig_quota_usage(q, "alice", IG_EP_INVESTIGATE, T0, &u);
    CHECK_EQ_INT(u.limits.minute, 2);
    CHECK_EQ_INT(u.limits.hour, 0);
    CHECK_EQ_INT(ig_quota_usage(q, "alice", IG_EP_UNKNOWN, T0, &u), IG_EINVAL);
    const char *which = "x";
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_COUNT, T0, &which), IG_EINVAL);
    CHECK_EQ_INT(ig_quota_set_user(q, "alice", IG_EP_UNKNOWN, &o), IG_EINVAL);
    ig_quota_free(q);
}

static void test_quota_minute_window_is_exactly_60s(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=2");
    ig_quota_set_default(q, IG_EP_ENRICH, &d);
    const char *which = NULL;
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_ENRICH, T0, &which), IG_OK);
    CHECK(which == NULL);
    ig_quota_spend(q, "alice", IG_EP_ENRICH, T0, 1);
    ig_quota_spend(q, "alice", IG_EP_ENRICH, T0 + 1000, 1);
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_ENRICH, T0 + 1000, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "minute");
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_ENRICH, T0 + 59999, &which), IG_ELIMIT);
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_ENRICH, T0 + 60000, &which), IG_OK);
    /* Another user and another product are unaffected. */
    CHECK_EQ_INT(ig_quota_check(q, "bob", IG_EP_ENRICH, T0 + 1000, &which), IG_OK);
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_INVESTIGATE, T0 + 1000, &which), IG_OK);
    ig_quota_free(q);
}

static void test_quota_hour_window_and_batches(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("hour=3");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    const char *which = NULL;
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, T0, 2); /* two upstream queries at once */
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, T0 + 1800000, 1);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, T0 + 1800000, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "hour");
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, T0 + 3599999, &which), IG_ELIMIT);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, T0 + 3600000, &which), IG_OK);
    ig_quota_usage_t u;
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, T0 + 3600000, &u);
    CHECK_EQ_INT(u.hour, 1);
    CHECK_EQ_INT(u.minute, 0);
    CHECK_EQ_INT(u.today, 3);
    CHECK_EQ_INT(u.month, 3);
    CHECK_EQ_INT(ig_quota_spend(q, "u", IG_EP_INVESTIGATE, T0, -1), IG_EINVAL);
    ig_quota_free(q);
}

static void test_quota_refund_takes_back_a_query_the_vendor_refused(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=1,month=2");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    const char *which = NULL;
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, T0, 1);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, T0 + 10, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "minute");
    ig_quota_refund(q, "u", IG_EP_INVESTIGATE, T0, T0 + 10, 1);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, T0 + 10, &which), IG_OK);
    ig_quota_usage_t u;
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, T0 + 10, &u);
    CHECK_EQ_INT(u.minute + u.hour + u.today + u.month, 0);
    /* Only what was spent at that time, and never below zero. */
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, T0 + 20, 1);
    ig_quota_refund(q, "u", IG_EP_INVESTIGATE, T0 + 5, T0 + 30, 1);
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, T0 + 30, &u);
    CHECK_EQ_INT(u.minute, 1);
    ig_quota_refund(q, "u", IG_EP_INVESTIGATE, T0 + 20, T0 + 30, 5);
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, T0 + 30, &u);
    CHECK_EQ_INT(u.minute + u.today + u.month, 0);
    /* A query of last month refunded this month leaves this month's count alone. */
    ig_quota_spend(q, "v", IG_EP_INVESTIGATE, JAN31_2359, 1);
    ig_quota_spend(q, "v", IG_EP_INVESTIGATE, FEB01 + 1000, 1);
    ig_quota_refund(q, "v", IG_EP_INVESTIGATE, JAN31_2359, FEB01 + 2000, 1);
    ig_quota_usage(q, "v", IG_EP_INVESTIGATE, FEB01 + 2000, &u);
    CHECK_EQ_INT(u.month, 1);
    CHECK_EQ_INT(u.today, 1);
    ig_quota_free(q);
}

static void test_quota_month_and_day_follow_the_utc_calendar(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("month=2");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    const char *which = NULL;
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, JAN31_2359 - 86400000LL, 1); /* Jan 30 */
    ig_quota_spend(q, "u", IG_EP_INVESTIGATE, JAN31_2359, 1);
    ig_quota_usage_t u;
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, JAN31_2359, &u);
    CHECK_EQ_INT(u.today, 1);
    CHECK_EQ_INT(u.month, 2);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, JAN31_2359 + 59999, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "month");
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_INVESTIGATE, FEB01, &which), IG_OK);
    ig_quota_usage(q, "u", IG_EP_INVESTIGATE, FEB01, &u);
    CHECK_EQ_INT(u.today, 0);
    CHECK_EQ_INT(u.month, 0);
    CHECK_EQ_INT(u.hour, 1); /* the sliding hour does not care about the calendar */
    ig_quota_free(q);
}

static void test_quota_refusal_names_the_limit_that_clears_last(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=1,hour=1,month=1");
    ig_quota_set_default(q, IG_EP_ENRICH, &d);
    ig_quota_spend(q, "u", IG_EP_ENRICH, T0, 1);
    const char *which = NULL;
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_ENRICH, T0, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "month");
    ig_limit_spec_t o = spec("month=0");
    ig_quota_set_user(q, "u", IG_EP_ENRICH, &o);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_ENRICH, T0, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "hour");
    o = spec("month=0,hour=0");
    ig_quota_set_user(q, "u", IG_EP_ENRICH, &o);
    CHECK_EQ_INT(ig_quota_check(q, "u", IG_EP_ENRICH, T0, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "minute");
    ig_quota_free(q);
}

static void test_quota_preload_after_restart_keeps_the_month_cap(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=10,month=100");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    int64_t recent[] = {T0 - 10000, T0 - 70000, T0 - 2 * 3600000LL, T0 - 30000};
    CHECK_EQ_INT(ig_quota_preload(q, "alice", IG_EP_INVESTIGATE, T0, 99, 7, recent, 4), IG_OK);
    ig_quota_usage_t u;
    ig_quota_usage(q, "alice", IG_EP_INVESTIGATE, T0, &u);
    CHECK_EQ_INT(u.month, 99);
    CHECK_EQ_INT(u.today, 7);
    CHECK_EQ_INT(u.minute, 2); /* -10 s, -30 s */
    CHECK_EQ_INT(u.hour, 3);   /* and -70 s; -2 h is forgotten */
    const char *which = NULL;
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_INVESTIGATE, T0, &which), IG_OK);
    ig_quota_spend(q, "alice", IG_EP_INVESTIGATE, T0, 1);
    CHECK_EQ_INT(ig_quota_check(q, "alice", IG_EP_INVESTIGATE, T0 + 86400000LL, &which), IG_ELIMIT);
    CHECK_EQ_STR(which, "month");
    /* Preload replaces: a second preload does not add. */
    ig_quota_preload(q, "alice", IG_EP_INVESTIGATE, T0, 5, 1, NULL, 0);
    ig_quota_usage(q, "alice", IG_EP_INVESTIGATE, T0, &u);
    CHECK_EQ_INT(u.month, 5);
    CHECK_EQ_INT(u.minute, 0);
    ig_quota_free(q);
}

static void test_quota_account_body_is_the_vendors_shape_exactly(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=5,month=1000");
    ig_quota_set_default(q, IG_EP_INVESTIGATE, &d);
    ig_quota_spend(q, "alice", IG_EP_INVESTIGATE, T0 - 86400000LL, 4); /* yesterday */
    ig_quota_spend(q, "alice", IG_EP_INVESTIGATE, T0, 2);
    ig_quota_spend(q, "alice", IG_EP_ENRICH, T0, 1);
    ig_buf_t b = {0};
    CHECK_EQ_INT(ig_quota_account_json(q, "alice", T0, &b), IG_OK);
    const char *want =
        "{\"response\":{\"account\":{\"api_username\":\"alice\",\"active\":true},\"products\":["
        "{\"id\":\"iris-investigate\",\"per_month_limit\":\"1000\",\"per_hour_limit\":null,"
        "\"per_minute_limit\":\"5\",\"absolute_limit\":null,"
        "\"usage\":{\"today\":\"2\",\"month\":\"6\"},\"expiration_date\":null},"
        "{\"id\":\"iris-enrich\",\"per_month_limit\":null,\"per_hour_limit\":null,"
        "\"per_minute_limit\":null,\"absolute_limit\":null,"
        "\"usage\":{\"today\":\"1\",\"month\":\"1\"},\"expiration_date\":null},"
        "{\"id\":\"account-information\",\"per_month_limit\":null,\"per_hour_limit\":null,"
        "\"per_minute_limit\":null,\"absolute_limit\":null,"
        "\"usage\":{\"today\":\"0\",\"month\":\"0\"},\"expiration_date\":null}]}}";
    CHECK_EQ_STR(b.data, want);
    /* irisgate's own parser of the vendor's answer reads it back. */
    ig_limits_t lim[IG_EP_COUNT];
    CHECK_EQ_INT(ig_limits_from_account(b.data, b.len, lim), IG_OK);
    CHECK_EQ_INT(lim[IG_EP_INVESTIGATE].minute, 5);
    CHECK_EQ_INT(lim[IG_EP_INVESTIGATE].month, 1000);
    ig_buf_free(&b);
    ig_quota_free(q);
}

static void test_quota_account_body_caps_limits_by_the_upstreams(void) {
    ig_quota_t *q;
    ig_quota_new(&q);
    ig_limit_spec_t d = spec("minute=50,hour=100");
    ig_quota_set_default(q, IG_EP_ENRICH, &d);
    ig_limits_t up = {.minute = 20, .month = 10000, .absolute = 7};
    ig_quota_set_upstream(q, IG_EP_ENRICH, &up);
    ig_buf_t b = {0};
    CHECK_EQ_INT(ig_quota_account_json(q, "team.user@example-1", T0, &b), IG_OK);
    cJSON *root = cJSON_Parse(b.data);
    CHECK(root != NULL);
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    cJSON *acct = cJSON_GetObjectItemCaseSensitive(resp, "account");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(acct, "api_username")),
                 "team.user@example-1");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acct, "active")));
    cJSON *products = cJSON_GetObjectItemCaseSensitive(resp, "products");
    CHECK_EQ_INT(cJSON_GetArraySize(products), 3);
    cJSON *enrich = cJSON_GetArrayItem(products, 1);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(enrich, "id")),
                 "iris-enrich");
    /* min(user 50, upstream 20); user 100 (upstream none); upstream 10000 (user none). */
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(enrich, "per_minute_limit")),
                 "20");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(enrich, "per_hour_limit")),
                 "100");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(enrich, "per_month_limit")),
                 "10000");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(enrich, "absolute_limit")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(enrich, "expiration_date")));
    cJSON *usage = cJSON_GetObjectItemCaseSensitive(enrich, "usage");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(usage, "today")), "0");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(usage, "month")), "0");
    /* The cap is only advertised: the user's own check still uses 50/min. */
    ig_quota_usage_t u;
    ig_quota_usage(q, "team.user@example-1", IG_EP_ENRICH, T0, &u);
    CHECK_EQ_INT(u.limits.minute, 50);
    cJSON_Delete(root);
    ig_buf_free(&b);
    ig_quota_free(q);
}

int main(void) {
    RUN(test_quota_defaults_and_per_user_overrides);
    RUN(test_quota_minute_window_is_exactly_60s);
    RUN(test_quota_hour_window_and_batches);
    RUN(test_quota_refund_takes_back_a_query_the_vendor_refused);
    RUN(test_quota_month_and_day_follow_the_utc_calendar);
    RUN(test_quota_refusal_names_the_limit_that_clears_last);
    RUN(test_quota_preload_after_restart_keeps_the_month_cap);
    RUN(test_quota_account_body_is_the_vendors_shape_exactly);
    RUN(test_quota_account_body_caps_limits_by_the_upstreams);
    return check_summary();
}
