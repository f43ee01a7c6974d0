/* test_limiter.c — the upstream limiter: sliding minute and hour windows (with their second
 * of margin), the UTC calendar month and the absolute limit, the fair queue (round robin across
 * users, one heavy user cannot starve the others), deadlines, cancel, the cool-off after a
 * vendor 503, preload after a restart, stats, freeing with waiters; and limit specs and the
 * vendor's /v1/account answers, every recorded one (expected values read from the files).
 *
 * The window clock is replaced by fake_now (window_int.h's test hook) and the limiter is
 * kicked after the test moves it; deadlines run on the real loop clock. */
#include "check.h"
#include "irisgate/limiter.h"

#include "../../proxy/window_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int64_t fake_now;
static int64_t fake_clock(void) {
    return fake_now;
}

/* 2026-03-10T12:00:00Z */
#define T0 1773144000000LL

typedef struct {
    int called, rc, order;
    const char *user;
} rec_t;

static int order_seq;
static const char *served[512];
static int nserved;

static void on_done(void *arg, int rc) {
    rec_t *r = arg;
    r->called++;
    r->rc = rc;
    r->order = ++order_seq;
    if (rc == 0 && nserved < 512) served[nserved++] = r->user;
}

static uv_loop_t loop;

static ig_limiter_t *setup(const ig_limits_t *lim, ig_endpoint_t ep) {
    uv_loop_init(&loop);
    ig_clock_set_for_tests(fake_clock);
    fake_now = T0;
    order_seq = 0;
    nserved = 0;
    ig_limiter_t *l = NULL;
    CHECK_EQ_INT(ig_limiter_new(&loop, &l), IG_OK);
    if (lim) ig_limiter_set(l, ep, lim);
    uv_run(&loop, UV_RUN_NOWAIT);
    return l;
}

static void teardown(ig_limiter_t *l) {
    ig_limiter_free(l);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    ig_clock_set_for_tests(NULL);
}

/* Moves the fake clock to t and lets the limiter look at its queues. */
static void advance_to(ig_limiter_t *l, int64_t t) {
    fake_now = t;
    ig_limiter_kick_for_tests(l);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static uint64_t far(void) {
    return uv_now(&loop) + 1000000000ULL;
}

static void test_minute_window_grants_limit_then_waits_61s(void) {
    ig_limits_t lim = {.minute = 3};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w = NULL;
    rec_t r = {0};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "alice", far(), on_done, &r, &w), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "alice", far(), on_done, &r, &w), 0);
    CHECK(w != NULL);
    CHECK_EQ_INT(r.called, 0); /* never from inside acquire */
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ_INT(r.called, 0);
    /* Other products are not affected. */
    rec_t r2 = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "alice", far(), on_done, &r2, &w), 1);
    advance_to(l, T0 + 60000); /* the vendor's minute is over, ours has a second of margin */
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, T0 + 60999);
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, T0 + 61000);
    CHECK_EQ_INT(r.called, 1);
    CHECK_EQ_INT(r.rc, 0);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_INVESTIGATE, &st);
    CHECK_EQ_INT(st.used_minute, 1); /* the three at T0 left the window */
    CHECK_EQ_INT(st.used_hour, 4);
    CHECK_EQ_INT(st.used_month, 4);
    CHECK_EQ_INT(st.used_absolute, 4);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.waited, 1);
    teardown(l);
}

static void test_hour_window_slides_with_margin(void) {
    ig_limits_t lim = {.hour = 2};
    ig_limiter_t *l = setup(&lim, IG_EP_ENRICH);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "a", far(), on_done, &r, &w), 1);
    fake_now = T0 + 10000;
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "a", far(), on_done, &r, &w), 1);
    fake_now = T0 + 20000;
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "a", far(), on_done, &r, &w), 0);
    advance_to(l, T0 + 3600000);
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, T0 + 3601000); /* the first send leaves the 3601 s window */
    CHECK_EQ_INT(r.called, 1);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_ENRICH, &st);
    CHECK_EQ_INT(st.used_hour, 2);
    teardown(l);
}

static void test_month_is_the_utc_calendar_month(void) {
    ig_limits_t lim = {.month = 2};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    const int64_t jan31_2359 = 1769903940000LL; /* 2026-01-31T23:59:00Z */
    const int64_t feb01 = 1769904000000LL;      /* 2026-02-01T00:00:00Z */
    fake_now = jan31_2359;
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "a", far(), on_done, &r, &w), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "a", far(), on_done, &r, &w), 1);
    /* Spent, and the month turns in 60 s: a 100 ms deadline cannot be met. */
    CHECK_EQ_INT(
        ig_limiter_acquire(l, IG_EP_INVESTIGATE, "a", uv_now(&loop) + 100, on_done, &r, &w),
        IG_ELIMIT);
    CHECK(w == NULL);
    /* A 2 minute deadline can: it waits for February. */
    CHECK_EQ_INT(
        ig_limiter_acquire(l, IG_EP_INVESTIGATE, "a", uv_now(&loop) + 120000, on_done, &r, &w), 0);
    advance_to(l, feb01 - 1);
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, feb01);
    CHECK_EQ_INT(r.called, 1);
    CHECK_EQ_INT(r.rc, 0);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_INVESTIGATE, &st);
    CHECK_EQ_INT(st.used_month, 1);
    CHECK_EQ_INT(st.used_absolute, 3);
    teardown(l);
}

static void test_absolute_limit_refuses_at_once(void) {
    ig_limits_t lim = {.absolute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_ACCOUNT);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ACCOUNT, "a", far(), on_done, &r, &w), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ACCOUNT, "a", far(), on_done, &r, &w), IG_ELIMIT);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_UNKNOWN, "a", far(), on_done, &r, &w), IG_EINVAL);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_COUNT, "a", far(), on_done, &r, &w), IG_EINVAL);
    teardown(l);
    CHECK_EQ_INT(r.called, 0);
}

static void test_fair_three_users_heavy_one_cannot_starve_others(void) {
    ig_limits_t lim = {.minute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w;
    static rec_t heavy[100], alice[2], bob[2];
    memset(heavy, 0, sizeof(heavy));
    memset(alice, 0, sizeof(alice));
    memset(bob, 0, sizeof(bob));
    rec_t first = {.user = "heavy"};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "heavy", far(), on_done, &first, &w), 1);
    for (int i = 0; i < 100; i++) {
        heavy[i].user = "heavy";
        CHECK_EQ_INT(
            ig_limiter_acquire(l, IG_EP_INVESTIGATE, "heavy", far(), on_done, &heavy[i], &w), 0);
    }
    for (int i = 0; i < 2; i++) {
        alice[i].user = "alice";
        bob[i].user = "bob";
        CHECK_EQ_INT(
            ig_limiter_acquire(l, IG_EP_INVESTIGATE, "alice", far(), on_done, &alice[i], &w), 0);
        CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "bob", far(), on_done, &bob[i], &w),
                     0);
    }
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_INVESTIGATE, &st);
    CHECK_EQ_INT(st.queued, 104);
    /* One slot a window: each step serves exactly one, in turn heavy, alice, bob. */
    int64_t t = T0;
    for (int step = 1; step <= 10; step++) {
        t += 61000;
        advance_to(l, t);
        CHECK_EQ_INT(nserved, step);
    }
    const char *want[10] = {"heavy", "alice", "bob",   "heavy", "alice",
                            "bob",   "heavy", "heavy", "heavy", "heavy"};
    for (int i = 0; i < 10; i++)
        CHECK_EQ_STR(served[i], want[i]);
    /* Each user's own requests in order. */
    CHECK(alice[0].order < alice[1].order && bob[0].order < bob[1].order);
    CHECK(heavy[0].order < heavy[1].order && heavy[1].order < heavy[2].order);
    CHECK_EQ_INT(heavy[5].called, 1);
    CHECK_EQ_INT(heavy[6].called, 0);
    ig_limiter_stats(l, IG_EP_INVESTIGATE, &st);
    CHECK_EQ_INT(st.queued, 94);
    CHECK_EQ_INT(st.waited, 10);
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum += st.wait_buckets[i];
    CHECK_EQ_INT(sum, 10);
    /* A user arriving now joins at the end of the round: after the heavy user's turn. */
    rec_t carol = {.user = "carol"};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "carol", far(), on_done, &carol, &w), 0);
    t += 61000;
    advance_to(l, t);
    CHECK_EQ_INT(carol.called, 0);
    CHECK_EQ_INT(heavy[6].called, 1);
    t += 61000;
    advance_to(l, t);
    CHECK_EQ_INT(carol.called, 1);
    CHECK_EQ_INT(heavy[7].called, 0);
    teardown(l); /* the 94 left get IG_EINVAL */
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(heavy[i].called, 1);
    CHECK_EQ_INT(heavy[99].rc, IG_EINVAL);
}

static void test_deadline_passes_with_etimedout_on_the_loop(void) {
    ig_limits_t lim = {.minute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_ENRICH);
    ig_limiter_wait_t *w;
    rec_t a = {0}, soon = {0}, later = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "u", far(), on_done, &a, &w), 1);
    uint64_t start = uv_now(&loop);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "u", start + 200, on_done, &later, &w), 0);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "v", start + 50, on_done, &soon, &w), 0);
    /* Runs until both have timed out; then nothing is armed and uv_run returns. */
    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t took = uv_now(&loop) - start;
    CHECK_EQ_INT(soon.rc, IG_ETIMEDOUT);
    CHECK_EQ_INT(later.rc, IG_ETIMEDOUT);
    CHECK(soon.order < later.order);
    CHECK(took >= 200 && took < 5000);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_ENRICH, &st);
    CHECK_EQ_INT(st.timed_out, 2);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.waited, 0);
    /* An already past deadline still answers from the loop, not from acquire. */
    rec_t past = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "u", 0, on_done, &past, &w), 0);
    CHECK_EQ_INT(past.called, 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ_INT(past.rc, IG_ETIMEDOUT);
    teardown(l);
}

static void test_cancelled_wait_is_never_called_back(void) {
    ig_limits_t lim = {.minute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w1, *w2;
    rec_t a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &a, &w1), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &b, &w1), 0);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &c, &w2), 0);
    ig_limiter_cancel(w1);
    advance_to(l, T0 + 61000);
    CHECK_EQ_INT(b.called, 0);
    CHECK_EQ_INT(c.called, 1); /* the next in line got the slot */
    teardown(l);
    CHECK_EQ_INT(b.called, 0);
}

static void test_raising_a_limit_serves_the_queue(void) {
    ig_limits_t lim = {.minute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w;
    rec_t a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &a, &w), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &b, &w), 0);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "v", far(), on_done, &c, &w), 0);
    ig_limits_t more = {.minute = 3, .month = 1000};
    ig_limiter_set(l, IG_EP_INVESTIGATE, &more);
    ig_limits_t got;
    ig_limiter_get(l, IG_EP_INVESTIGATE, &got);
    CHECK_EQ_INT(got.minute, 3);
    CHECK_EQ_INT(got.month, 1000);
    CHECK_EQ_INT(b.called + c.called, 0); /* from the loop, not from ig_limiter_set */
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ_INT(b.called, 1);
    CHECK_EQ_INT(c.called, 1);
    teardown(l);
}

static void test_cooloff_pauses_and_backs_off_exponentially_with_jitter(void) {
    ig_limiter_t *l = setup(NULL, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    int64_t p = ig_limiter_cooloff(l, IG_EP_INVESTIGATE);
    CHECK(p >= 1000 && p <= 1500);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &r, &w), 0);
    advance_to(l, T0 + p - 1);
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, T0 + p);
    CHECK_EQ_INT(r.called, 1);
    /* Other products do not pause. */
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "u", far(), on_done, &r, &w), 1);
    /* A second 503 of the same burst, while the pause runs: no escalation. */
    int64_t t = T0 + p;
    p = ig_limiter_cooloff(l, IG_EP_INVESTIGATE);
    CHECK(p >= 2000 && p <= 3000);
    fake_now = t + 500;
    CHECK_EQ_INT(ig_limiter_cooloff(l, IG_EP_INVESTIGATE), p - 500);
    t += p;
    int64_t lo[] = {4000, 8000, 16000, 32000, 40000, 40000, 40000};
    for (size_t k = 0; k < sizeof(lo) / sizeof(lo[0]); k++) {
        fake_now = t;
        p = ig_limiter_cooloff(l, IG_EP_INVESTIGATE);
        CHECK(p >= lo[k] && p <= lo[k] + lo[k] / 2);
        if (!(p >= lo[k] && p <= lo[k] + lo[k] / 2))
            fprintf(stderr, "  k=%zu p=%lld\n", k, (long long)p);
        t += p;
    }
    int distinct = 0;
    int64_t prev = -1;
    for (int i = 0; i < 20; i++) {
        fake_now = t;
        p = ig_limiter_cooloff(l, IG_EP_INVESTIGATE);
        CHECK(p >= 40000 && p <= 60000);
        distinct += p != prev;
        prev = p;
        t += p;
    }
    CHECK(distinct > 1); /* jitter */
    fake_now = t;
    ig_limiter_ok(l, IG_EP_INVESTIGATE);
    p = ig_limiter_cooloff(l, IG_EP_INVESTIGATE);
    CHECK(p >= 1000 && p <= 1500);
    teardown(l);
}

/* With the real clock: the timer alone (no kick) grants when the cool-off ends. */
static void test_timer_grants_when_the_slot_opens_real_clock(void) {
    uv_loop_init(&loop);
    ig_clock_set_for_tests(NULL);
    order_seq = nserved = 0;
    ig_limiter_t *l;
    CHECK_EQ_INT(ig_limiter_new(&loop, &l), IG_OK);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    uv_update_time(&loop);
    uint64_t start = uv_now(&loop);
    int64_t p = ig_limiter_cooloff(l, IG_EP_ENRICH);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_ENRICH, "u", start + 10000, on_done, &r, &w), 0);
    int wakeups = 0; /* a busy loop would wake thousands of times */
    while (uv_run(&loop, UV_RUN_ONCE) != 0 && wakeups < 1000)
        wakeups++;
    CHECK(wakeups <= 3);
    uint64_t took = uv_now(&loop) - start;
    CHECK_EQ_INT(r.called, 1);
    CHECK_EQ_INT(r.rc, 0);
    CHECK(took + 5 >= (uint64_t)p && took < (uint64_t)p + 1000);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_ENRICH, &st);
    CHECK_EQ_INT(st.waited, 1);
    CHECK(st.wait_seconds_sum >= 0.9 && st.wait_seconds_sum < 2.6);
    CHECK_EQ_INT(st.wait_buckets[2] + st.wait_buckets[3], 1); /* (0.5 s, 5 s] */
    teardown(l);
}

static void test_preload_restores_month_absolute_and_recent_sends(void) {
    ig_limits_t lim = {.minute = 5, .month = 10, .absolute = 1000};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    int64_t recent[] = {T0 - 30000,  T0 - 2 * 3600000LL, T0 - 20000,
                        T0 - 600000, T0 - 10000,         T0 - 40000};
    ig_limiter_preload(l, IG_EP_INVESTIGATE, 9, 100, recent, 6);
    ig_limiter_stats_t st;
    ig_limiter_stats(l, IG_EP_INVESTIGATE, &st);
    CHECK_EQ_INT(st.used_minute, 4); /* -10 s, -20 s, -30 s, -40 s */
    CHECK_EQ_INT(st.used_hour, 5);   /* and -10 min; -2 h is forgotten */
    CHECK_EQ_INT(st.used_month, 9);
    CHECK_EQ_INT(st.used_absolute, 100);
    ig_limiter_wait_t *w;
    rec_t r = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &r, &w), 1);
    /* Now 5 in the minute: the next waits for the oldest (-40 s) to leave, 21 s from now. */
    fake_now = T0 + 1;
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &r, &w), IG_ELIMIT);
    ig_limits_t big = {.minute = 5, .month = 100};
    ig_limiter_set(l, IG_EP_INVESTIGATE, &big);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &r, &w), 0);
    advance_to(l, T0 + 20999);
    CHECK_EQ_INT(r.called, 0);
    advance_to(l, T0 + 21000);
    CHECK_EQ_INT(r.called, 1);
    teardown(l);
}

static ig_limiter_t *freeing;
static int freed_in_cb;
static void free_from_cb(void *arg, int rc) {
    on_done(arg, rc);
    if (rc == 0 && freeing) {
        ig_limiter_free(freeing);
        freeing = NULL;
        freed_in_cb = 1;
    }
}

static void test_free_answers_every_waiter_even_from_a_callback(void) {
    ig_limits_t lim = {.minute = 1};
    ig_limiter_t *l = setup(&lim, IG_EP_INVESTIGATE);
    ig_limiter_wait_t *w;
    rec_t a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), on_done, &a, &w), 1);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "u", far(), free_from_cb, &b, &w), 0);
    CHECK_EQ_INT(ig_limiter_acquire(l, IG_EP_INVESTIGATE, "v", far(), on_done, &c, &w), 0);
    freeing = l;
    advance_to(l, T0 + 61000); /* b is granted and frees the limiter: c gets IG_EINVAL */
    CHECK_EQ_INT(freed_in_cb, 1);
    CHECK_EQ_INT(b.rc, 0);
    CHECK_EQ_INT(c.called, 1);
    CHECK_EQ_INT(c.rc, IG_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    ig_clock_set_for_tests(NULL);
}

/* ---- specs --------------------------------------------------------------------------------- */

static void test_spec_parse_format_apply(void) {
    ig_limit_spec_t s;
    char err[256], out[128];
    CHECK_EQ_INT(ig_limit_spec_parse("minute=20,hour=0,month=10000,absolute=0", "auto", 1, &s, err,
                                     sizeof(err)),
                 IG_OK);
    CHECK_EQ_INT(s.set, IG_LIMIT_MINUTE | IG_LIMIT_HOUR | IG_LIMIT_MONTH | IG_LIMIT_ABSOLUTE);
    CHECK_EQ_INT(s.v.minute, 20);
    CHECK_EQ_INT(s.v.month, 10000);
    CHECK_EQ_INT(ig_limit_spec_parse("month=500,minute=5", "none", 0, &s, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(s.set, IG_LIMIT_MINUTE | IG_LIMIT_MONTH);
    CHECK_EQ_INT(ig_limit_spec_format(&s, "none", out, sizeof(out)), IG_OK);
    CHECK_EQ_STR(out, "minute=5,month=500");
    ig_limits_t l = {.minute = 20, .hour = 7, .month = 10000, .absolute = 3};
    ig_limit_spec_apply(&s, &l);
    CHECK_EQ_INT(l.minute, 5);
    CHECK_EQ_INT(l.hour, 7);
    CHECK_EQ_INT(l.month, 500);
    CHECK_EQ_INT(l.absolute, 3);
    CHECK_EQ_INT(ig_limit_spec_parse("auto", "auto", 1, &s, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(s.set, 0);
    CHECK_EQ_INT(ig_limit_spec_format(&s, "auto", out, sizeof(out)), IG_OK);
    CHECK_EQ_STR(out, "auto");
    CHECK_EQ_INT(ig_limit_spec_format(&s, "auto", out, 4), IG_ETOOBIG);
    const char *bad[] = {"",
                         "auto",
                         "minute",
                         "minute=",
                         "minute=-1",
                         "minute=1,",
                         ",minute=1",
                         "minute=1,,hour=2",
                         "sec=5",
                         "minute=5x",
                         "minute=1,minute=2",
                         "minute = 5",
                         "absolute=5",
                         "month=1000000000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = ig_limit_spec_parse(bad[i], "none", 0, &s, err, sizeof(err));
        CHECK_EQ_INT(rc, IG_EINVAL);
        CHECK(err[0] != '\0');
        if (rc != IG_EINVAL) fprintf(stderr, "  accepted '%s'\n", bad[i]);
    }
    CHECK_EQ_INT(ig_limit_product("investigate"), IG_EP_INVESTIGATE);
    CHECK_EQ_INT(ig_limit_product("enrich"), IG_EP_ENRICH);
    CHECK_EQ_INT(ig_limit_product("account"), IG_EP_ACCOUNT);
    CHECK_EQ_INT(ig_limit_product("iris"), IG_EP_UNKNOWN);
    CHECK_EQ_STR(ig_limit_product_name(IG_EP_ENRICH), "enrich");
    CHECK(ig_limit_product_name(IG_EP_UNKNOWN) == NULL);
}

/* ---- /v1/account ------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static const char *fixture_dir(char *out, size_t n) {
    const char *shared = getenv("IG_SHARED_DIR");
    snprintf(out, n, "%s/iris/responses", shared && *shared ? shared : "../shared");
    return out;
}

/* Every recorded 200 answer of /v1/account, as read from the files: per product (investigate,
 * enrich, account-information) minute, hour, month, absolute; null or absent is 0. */
static const struct {
    const char *rec;
    ig_limits_t want[3];
} accounts[] = {
    {"04c7908", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__10", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__11", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__12", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__2", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__3", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__4", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__5", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__6", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__7", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__8", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"04c7908__9", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"1483a15", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"1483a15__2", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"1484eb0", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"1484eb0__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"1b711ee", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"1b711ee__2", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"1b711ee__3", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"1b711ee__4", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"1b711ee__5", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"233fd00", {{20, 0, 100000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"2c7e1fb", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"368226c", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"368226c__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"4530751", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"4530751__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"4530751__3", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"48d2eef", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"4bba277", {{20, 0, 200000, 0}, {20, 0, 10000, 0}, {5, 0, 100000, 0}}},
    {"5580fce", {{20, 0, 1000, 0}, {120, 0, 100000, 0}, {5, 0, 100000, 0}}},
    {"599f3c4", {{0, 0, 0, 0}, {0, 0, 0, 0}, {5, 0, 100000, 0}}},
    {"5ecf1f4", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {10000, 0, 100000, 0}}},
    {"6109253", {{20, 0, 1000, 0}, {120, 0, 100000, 0}, {5, 0, 100000, 0}}},
    {"68ee214", {{20, 0, 1000, 0}, {120, 0, 100000, 0}, {5, 0, 100000, 0}}},
    {"7020a61", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"7843089", {{20, 0, 100000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"7927555", {{20, 1, 1000, 0}, {20, 1, 1000, 0}, {5, 1, 100000, 0}}},
    {"8a616f7", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"8d57119", {{0, 0, 0, 0}, {0, 0, 0, 0}, {5, 0, 100000, 0}}},
    {"8f74a6e", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"920017e", {{20, 0, 200000, 0}, {60, 0, 500000, 0}, {5, 0, 100000, 0}}},
    {"97b5ba1", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"983cb6a", {{20, 0, 1000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"983cb6a__2", {{20, 0, 1000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"983cb6a__3", {{20, 0, 1000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"a73b863", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"a73b863__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"b1f2e58", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"b1f2e58__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"b1f2e58__3", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"bb23bb9", {{20, 0, 1000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"bc187cc", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"bc187cc__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"bd1f844", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"bd1f844__2", {{20, 0, 10000, 0}, {60, 0, 20000, 0}, {5, 0, 100000, 0}}},
    {"c14299f", {{20, 0, 200000, 0}, {20, 0, 10000, 0}, {5, 0, 100000, 0}}},
    {"d3b0101", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"d3b0101__2", {{20, 0, 1000, 0}, {60, 0, 8000, 0}, {5, 0, 100000, 0}}},
    {"e44e2f1", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"e55d94f", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"e55d94f__2", {{20, 0, 1000, 0}, {20, 0, 1000, 0}, {5, 0, 100000, 0}}},
    {"e811459", {{20, 0, 200000, 0}, {20, 0, 10000, 0}, {5, 0, 100000, 0}}},
    {"f40db0e", {{20, 0, 200000, 0}, {20, 0, 10000, 0}, {5, 0, 100000, 0}}},
};
#define NACCOUNTS (sizeof(accounts) / sizeof(accounts[0]))

static void check_limits(const ig_limits_t *got, const ig_limits_t *want, const char *what) {
    int ok = got->minute == want->minute && got->hour == want->hour && got->month == want->month &&
             got->absolute == want->absolute;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: got %lld/%lld/%lld/%lld want %lld/%lld/%lld/%lld\n", what,
                (long long)got->minute, (long long)got->hour, (long long)got->month,
                (long long)got->absolute, (long long)want->minute, (long long)want->hour,
                (long long)want->month, (long long)want->absolute);
}

static void test_account_every_recorded_answer_parses(void) {
    char dir[1024], path[1400];
    fixture_dir(dir, sizeof(dir));
    for (size_t i = 0; i < NACCOUNTS; i++) {
        snprintf(path, sizeof(path), "%s/account__GET__200__python_api@%s.json", dir,
                 accounts[i].rec);
        size_t len;
        char *json = slurp(path, &len);
        CHECK(json != NULL);
        if (!json) {
            fprintf(stderr, "  cannot read %s\n", path);
            continue;
        }
        ig_limits_t out[IG_EP_COUNT];
        CHECK_EQ_INT(ig_limits_from_account(json, len, out), IG_OK);
        check_limits(&out[IG_EP_INVESTIGATE], &accounts[i].want[0], accounts[i].rec);
        check_limits(&out[IG_EP_ENRICH], &accounts[i].want[1], accounts[i].rec);
        check_limits(&out[IG_EP_ACCOUNT], &accounts[i].want[2], accounts[i].rec);
        free(json);
    }
    /* The table covers every recorded account answer. */
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    size_t n200 = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "account__GET__200__", 19) == 0) n200++;
    if (d) closedir(d);
    CHECK_EQ_INT(n200, NACCOUNTS);
}

static void test_account_errors_and_odd_values(void) {
    char dir[1024], path[1400];
    fixture_dir(dir, sizeof(dir));
    const char *errs[] = {"account__GET__403__python_api@7020a61.json",
                          "account__GET__503__python_api@04c7908.json"};
    ig_limits_t out[IG_EP_COUNT];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, errs[i]);
        size_t len;
        char *json = slurp(path, &len);
        CHECK(json != NULL);
        if (json) CHECK_EQ_INT(ig_limits_from_account(json, len, out), IG_EINVAL);
        free(json);
    }
    /* The docs' sample style: numbers as ints. */
    const char *ints = "{\"response\":{\"account\":{\"api_username\":\"x\",\"active\":true},"
                       "\"products\":[{\"id\":\"iris-enrich\",\"per_month_limit\":5000,"
                       "\"per_minute_limit\":60,\"absolute_limit\":null,"
                       "\"usage\":{\"today\":5,\"month\":7},\"expiration_date\":null}]}}";
    CHECK_EQ_INT(ig_limits_from_account(ints, strlen(ints), out), IG_OK);
    ig_limits_t want = {.minute = 60, .month = 5000};
    check_limits(&out[IG_EP_ENRICH], &want, "ints");
    int64_t used[IG_EP_COUNT];
    CHECK_EQ_INT(ig_usage_from_account(ints, strlen(ints), used), IG_OK);
    CHECK_EQ_INT(used[IG_EP_ENRICH], 7);
    CHECK_EQ_INT(used[IG_EP_INVESTIGATE], 0);
    const char *bad[] = {
        "{\"response\":{\"products\":[{\"id\":\"iris-enrich\",\"per_minute_limit\":\"ten\"}]}}",
        "{\"response\":{\"products\":[{\"id\":\"iris-enrich\",\"per_minute_limit\":-1}]}}",
        "{\"response\":{\"products\":[{\"id\":\"iris-enrich\",\"per_minute_limit\":1.5}]}}",
        "{\"response\":{\"products\":{}}}",
        "{\"response\":",
        "[]",
        ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(ig_limits_from_account(bad[i], strlen(bad[i]), out), IG_EINVAL);
}

static void test_account_usage_month_from_recordings(void) {
    char dir[1024], path[1400];
    fixture_dir(dir, sizeof(dir));
    int64_t used[IG_EP_COUNT];
    size_t len;
    snprintf(path, sizeof(path), "%s/account__GET__200__python_api@1484eb0.json", dir);
    char *json = slurp(path, &len);
    CHECK(json != NULL);
    if (json) {
        CHECK_EQ_INT(ig_usage_from_account(json, len, used), IG_OK);
        CHECK_EQ_INT(used[IG_EP_ACCOUNT], 15621);
        CHECK_EQ_INT(used[IG_EP_INVESTIGATE], 568);
        CHECK_EQ_INT(used[IG_EP_ENRICH], 3486);
    }
    free(json);
    /* usage of iris-investigate is {"today":null,"month":null} here. */
    snprintf(path, sizeof(path), "%s/account__GET__200__python_api@5ecf1f4.json", dir);
    json = slurp(path, &len);
    CHECK(json != NULL);
    if (json) {
        CHECK_EQ_INT(ig_usage_from_account(json, len, used), IG_OK);
        CHECK_EQ_INT(used[IG_EP_INVESTIGATE], 0);
        CHECK_EQ_INT(used[IG_EP_ENRICH], 19);
        CHECK_EQ_INT(used[IG_EP_ACCOUNT], 24);
    }
    free(json);
}

int main(void) {
    RUN(test_minute_window_grants_limit_then_waits_61s);
    RUN(test_hour_window_slides_with_margin);
    RUN(test_month_is_the_utc_calendar_month);
    RUN(test_absolute_limit_refuses_at_once);
    RUN(test_fair_three_users_heavy_one_cannot_starve_others);
    RUN(test_deadline_passes_with_etimedout_on_the_loop);
    RUN(test_cancelled_wait_is_never_called_back);
    RUN(test_raising_a_limit_serves_the_queue);
    RUN(test_cooloff_pauses_and_backs_off_exponentially_with_jitter);
    RUN(test_timer_grants_when_the_slot_opens_real_clock);
    RUN(test_preload_restores_month_absolute_and_recent_sends);
    RUN(test_free_answers_every_waiter_even_from_a_callback);
    RUN(test_spec_parse_format_apply);
    RUN(test_account_every_recorded_answer_parses);
    RUN(test_account_errors_and_odd_values);
    RUN(test_account_usage_month_from_recordings);
    return check_summary();
}
