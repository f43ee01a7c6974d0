/* window.c — the sliding windows, calendar arithmetic and clock that the upstream limiter and
 * the per-user quota share (private: proxy/window_int.h).
 *
 * Owns: ig_window_t, a ring of (send time, count) pairs in time order, grown on demand and
 * pruned by its user; the UTC month and day boundaries; the epoch clock in ms, replaceable by
 * tests so windows of an hour or a month can be checked without waiting.
 * Never: allocates except when a window grows, or looks at the loop (callers bring the time).
 * Life cycle: ig_window_init, then add/prune/count, then ig_window_free (which leaves it empty
 * and usable again).
 */
#include "window_int.h"

#include "irisgate/common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t (*test_clock)(void);

int64_t ig_clock_ms(void) {
    if (test_clock) return test_clock();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ig_clock_set_for_tests(int64_t (*fn)(void)) {
    test_clock = fn;
}

void ig_window_init(ig_window_t *w) {
    memset(w, 0, sizeof(*w));
}

void ig_window_free(ig_window_t *w) {
    free(w->e);
    memset(w, 0, sizeof(*w));
}

void ig_window_clear(ig_window_t *w) {
    w->head = w->len = 0;
}

static ig_win_ent_t *at(const ig_window_t *w, size_t i) {
    return &w->e[(w->head + i) % w->cap];
}

static int grow(ig_window_t *w) {
    size_t ncap = w->cap ? w->cap * 2 : 16;
    ig_win_ent_t *ne = malloc(ncap * sizeof(*ne));
    if (!ne) return IG_ENOMEM;
    for (size_t i = 0; i < w->len; i++)
        ne[i] = *at(w, i);
    free(w->e);
    w->e = ne;
    w->cap = ncap;
    w->head = 0;
    return IG_OK;
}

int ig_window_add(ig_window_t *w, int64_t t, int64_t n) {
    if (n <= 0) return IG_OK;
    /* Find the place: usually the end, so search from there. */
    size_t i = w->len;
    while (i > 0 && at(w, i - 1)->t > t)
        i--;
    if (i > 0 && at(w, i - 1)->t == t) {
        at(w, i - 1)->n += n;
        return IG_OK;
    }
    if (w->len == w->cap && grow(w) != IG_OK) return IG_ENOMEM;
    for (size_t j = w->len; j > i; j--)
        *at(w, j) = *at(w, j - 1);
    *at(w, i) = (ig_win_ent_t){t, n};
    w->len++;
    return IG_OK;
}

void ig_window_take(ig_window_t *w, int64_t t, int64_t n) {
    for (size_t i = w->len; i > 0 && n > 0; i--) {
        ig_win_ent_t *x = at(w, i - 1);
        if (x->t < t) break;
        if (x->t == t) {
            int64_t k = x->n < n ? x->n : n;
            x->n -= k; /* an entry of 0 counts nothing and is pruned in time */
            n -= k;
        }
    }
}

void ig_window_prune(ig_window_t *w, int64_t t) {
    while (w->len > 0 && at(w, 0)->t <= t) {
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    if (w->len == 0) w->head = 0;
}

int64_t ig_window_count(const ig_window_t *w, int64_t since) {
    int64_t c = 0;
    for (size_t i = w->len; i > 0 && at(w, i - 1)->t > since; i--)
        c += at(w, i - 1)->n;
    return c;
}

int64_t ig_window_opens(const ig_window_t *w, int64_t now, int64_t span, int64_t limit) {
    if (limit <= 0) return now;
    int64_t c = ig_window_count(w, now - span);
    if (c < limit) return now;
    int64_t drop = c - limit + 1, seen = 0;
    for (size_t i = 0; i < w->len; i++) {
        const ig_win_ent_t *e = at(w, i);
        if (e->t <= now - span) continue;
        seen += e->n;
        if (seen >= drop) return e->t + span > now ? e->t + span : now;
    }
    return now; /* not reached: drop <= c */
}

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t month_start_s(int64_t sec, int months_after) {
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += months_after;
    tm.tm_isdst = 0;
    return (int64_t)timegm(&tm);
}

int64_t ig_month_start_ms(int64_t ms) {
    return month_start_s(floor_div(ms, 1000), 0) * 1000;
}

int64_t ig_next_month_ms(int64_t ms) {
    return month_start_s(floor_div(ms, 1000), 1) * 1000;
}

int64_t ig_day_start_ms(int64_t ms) {
    return floor_div(ms, 86400000) * 86400000;
}
