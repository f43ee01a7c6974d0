/* window_int.h — private to proxy/: what the upstream limiter (limiter.c) and the per-user
 * quota (quota.c) share: a sliding window of send times, calendar arithmetic in UTC, and the
 * epoch clock in milliseconds that tests may replace.
 */
#ifndef IRISGATE_WINDOW_INT_H
#define IRISGATE_WINDOW_INT_H

#include <stddef.h>
#include <stdint.h>

/* Send times (epoch ms) with counts, oldest first; equal times share one entry. */
typedef struct {
    int64_t t;
    int64_t n;
} ig_win_ent_t;

typedef struct {
    ig_win_ent_t *e; /* ring of cap entries */
    size_t cap, head, len;
} ig_window_t;

void ig_window_init(ig_window_t *w);
void ig_window_free(ig_window_t *w);
void ig_window_clear(ig_window_t *w);
/* Adds n sends at time t (in order, or sorted in when older than the newest). */
int ig_window_add(ig_window_t *w, int64_t t, int64_t n);
/* Takes back up to n sends recorded at exactly time t. */
void ig_window_take(ig_window_t *w, int64_t t, int64_t n);
/* Forgets the sends at or before t. */
void ig_window_prune(ig_window_t *w, int64_t t);
/* Sends after since (t > since). */
int64_t ig_window_count(const ig_window_t *w, int64_t since);
/* The earliest time T >= now at which fewer than limit sends lie in (T - span, T], counting
 * the sends recorded so far; limit 0 means none (now). */
int64_t ig_window_opens(const ig_window_t *w, int64_t now, int64_t span, int64_t limit);

/* Calendar (UTC): the first ms of the month or day holding ms, and of the month after. */
int64_t ig_month_start_ms(int64_t ms);
int64_t ig_next_month_ms(int64_t ms);
int64_t ig_day_start_ms(int64_t ms);

/* Epoch milliseconds: CLOCK_REALTIME, or the test's clock. */
int64_t ig_clock_ms(void);
/* Test hook: replaces the clock (NULL restores the real one). */
void ig_clock_set_for_tests(int64_t (*fn)(void));

/* Test hook of limiter.c: re-examines the queues now (after a test moved its clock). */
struct ig_limiter;
void ig_limiter_kick_for_tests(struct ig_limiter *l);

#endif
