/* limiter.c — the upstream limiter (irisgate/limiter.h): per product, the windows of queries
 * sent to the vendor and the queue of requests waiting for a slot.
 *
 * Owns: per product the limits, a window of send times (epoch ms, last 3601 s), the month and
 * absolute counts, the cool-off after a vendor 503, and the waiters: one FIFO per user, the
 * users with waiters in a circle served round robin, all waiters in one heap by deadline. One
 * uv_timer for the whole limiter fires when the earliest of "a slot opens for a product with
 * waiters" and "the earliest deadline" comes; callbacks run only from that timer (or from
 * ig_limiter_free), never from ig_limiter_acquire.
 * Never: blocks or polls the loop (the timer is stopped when nobody waits), grants a query its
 * windows do not allow, or calls a waiter's callback twice.
 * Time: window times are epoch ms (ig_clock_ms, replaceable by tests) so a restart can preload
 * them; deadlines and wait times are loop time (uv_now).
 * Life cycle: ig_limiter_new; ig_limiter_free answers every waiter IG_EINVAL, then closes the
 * timer; the memory goes in the close callback.
 */
#include "irisgate/limiter.h"

#include "window_int.h"

#include <stdlib.h>
#include <string.h>

/* The vendor counts at arrival, we at sending: a second of margin keeps us under its windows. */
#define MINUTE_SPAN 61000
#define HOUR_SPAN 3601000
#define COOL_FIRST_MS 1000
#define COOL_BASE_CAP_MS 40000 /* base of the pause; with up to 50 % jitter: at most 60 s */
#define TIMER_CAP_MS 3600000   /* re-examine at least hourly (the month may roll over) */
#define NEVER INT64_MAX

typedef struct wuser wuser_t;

struct ig_limiter_wait {
    ig_limiter_t *l;
    ig_endpoint_t product;
    wuser_t *u;
    ig_limiter_wait_t *prev, *next; /* in u's FIFO */
    size_t heap_idx;
    uint64_t deadline, enqueued; /* loop time */
    ig_limiter_cb cb;
    void *arg;
};

/* A user with waiters for one product; in the product's round-robin circle. */
struct wuser {
    char *name;
    ig_limiter_wait_t *head, *tail;
    wuser_t *prev, *next;
};

typedef struct {
    ig_limits_t lim;
    ig_window_t win;
    int64_t month_start; /* the month month_used counts */
    int64_t month_used, abs_used;
    int64_t cool_until;
    int cool_k;
    wuser_t *rr; /* served next */
    size_t queued;
    uint64_t waited, timed_out;
    double wait_sum;
    uint64_t buckets[8];
} prod_t;

struct ig_limiter {
    uv_loop_t *loop;
    uv_timer_t timer;
    prod_t prod[IG_EP_COUNT];
    ig_limiter_wait_t **heap;
    size_t nheap, capheap;
    int dispatching, closing;
    uint64_t rng;
};

static int product_ok(ig_endpoint_t p) {
    return p > IG_EP_UNKNOWN && p < IG_EP_COUNT;
}

/* ---- deadline heap ---------------------------------------------------------------------- */

static void heap_set(ig_limiter_t *l, size_t i, ig_limiter_wait_t *w) {
    l->heap[i] = w;
    w->heap_idx = i;
}

static void heap_up(ig_limiter_t *l, size_t i) {
    ig_limiter_wait_t *w = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->deadline <= w->deadline) break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, w);
}

static void heap_down(ig_limiter_t *l, size_t i) {
    ig_limiter_wait_t *w = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap) break;
        if (c + 1 < l->nheap && l->heap[c + 1]->deadline < l->heap[c]->deadline) c++;
        if (w->deadline <= l->heap[c]->deadline) break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, w);
}

static int heap_push(ig_limiter_t *l, ig_limiter_wait_t *w) {
    if (l->nheap == l->capheap) {
        size_t ncap = l->capheap ? l->capheap * 2 : 64;
        ig_limiter_wait_t **nh = realloc(l->heap, ncap * sizeof(*nh));
        if (!nh) return IG_ENOMEM;
        l->heap = nh;
        l->capheap = ncap;
    }
    heap_set(l, l->nheap++, w);
    heap_up(l, l->nheap - 1);
    return IG_OK;
}

static void heap_remove(ig_limiter_t *l, ig_limiter_wait_t *w) {
    size_t i = w->heap_idx;
    ig_limiter_wait_t *last = l->heap[--l->nheap];
    if (i == l->nheap) return;
    heap_set(l, i, last);
    heap_up(l, i);
    heap_down(l, last->heap_idx);
}

/* ---- queues ----------------------------------------------------------------------------- */

static wuser_t *find_user(prod_t *p, const char *name) {
    wuser_t *u = p->rr;
    if (!u) return NULL;
    do {
        if (strcmp(u->name, name) == 0) return u;
        u = u->next;
    } while (u != p->rr);
    return NULL;
}

/* A new user joins at the end of the round: served after everyone already waiting. */
static void circle_insert(prod_t *p, wuser_t *u) {
    if (!p->rr) {
        u->prev = u->next = u;
        p->rr = u;
        return;
    }
    u->next = p->rr;
    u->prev = p->rr->prev;
    u->prev->next = u;
    p->rr->prev = u;
}

static void circle_remove(prod_t *p, wuser_t *u) {
    if (u->next == u) {
        p->rr = NULL;
    } else {
        u->prev->next = u->next;
        u->next->prev = u->prev;
        if (p->rr == u) p->rr = u->next;
    }
    free(u->name);
    free(u);
}

/* Takes w out of its FIFO, the circle (when its user has no more) and the heap. */
static void unlink_wait(ig_limiter_t *l, ig_limiter_wait_t *w) {
    prod_t *p = &l->prod[w->product];
    wuser_t *u = w->u;
    if (w->prev)
        w->prev->next = w->next;
    else
        u->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        u->tail = w->prev;
    if (!u->head) circle_remove(p, u);
    heap_remove(l, w);
    p->queued--;
}

/* The next waiter in round-robin order, unlinked; the turn passes to the next user. */
static ig_limiter_wait_t *pop_fair(ig_limiter_t *l, prod_t *p) {
    wuser_t *u = p->rr;
    ig_limiter_wait_t *w = u->head;
    p->rr = u->next; /* before unlink_wait, which may free u and fix rr itself */
    unlink_wait(l, w);
    return w;
}

/* ---- windows ---------------------------------------------------------------------------- */

static int64_t month_used_at(const prod_t *p, int64_t now) {
    return ig_month_start_ms(now) == p->month_start ? p->month_used : 0;
}

/* When product p may send next (>= now), NEVER when its absolute limit is spent. */
static int64_t next_open(const prod_t *p, int64_t now) {
    int64_t t = now, o;
    if (p->lim.absolute > 0 && p->abs_used >= p->lim.absolute) return NEVER;
    if (p->cool_until > t) t = p->cool_until;
    if ((o = ig_window_opens(&p->win, now, MINUTE_SPAN, p->lim.minute)) > t) t = o;
    if ((o = ig_window_opens(&p->win, now, HOUR_SPAN, p->lim.hour)) > t) t = o;
    if (p->lim.month > 0 && month_used_at(p, now) >= p->lim.month &&
        (o = ig_next_month_ms(now)) > t)
        t = o;
    return t;
}

static void record(prod_t *p, int64_t now) {
    int64_t ms = ig_month_start_ms(now);
    if (ms != p->month_start) {
        p->month_start = ms;
        p->month_used = 0;
    }
    p->month_used++;
    p->abs_used++;
    ig_window_prune(&p->win, now - HOUR_SPAN);
    /* Out of memory: this send goes uncounted in the sliding windows (month and absolute
     * still count it); the vendor's 503 and the cool-off are the backstop. */
    (void)ig_window_add(&p->win, now, 1);
}

/* ---- the timer -------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

static void rearm(ig_limiter_t *l) {
    if (l->closing || l->dispatching) return;
    int64_t now = ig_clock_ms(), delay = NEVER;
    for (int i = 1; i < IG_EP_COUNT; i++) {
        prod_t *p = &l->prod[i];
        if (!p->queued) continue;
        int64_t o = next_open(p, now);
        if (o != NEVER && o - now < delay) delay = o - now;
    }
    if (l->nheap) {
        uint64_t lnow = uv_now(l->loop), dl = l->heap[0]->deadline;
        int64_t d =
            dl <= lnow ? 0
                       : (dl - lnow > (uint64_t)TIMER_CAP_MS ? TIMER_CAP_MS : (int64_t)(dl - lnow));
        if (d < delay) delay = d;
    }
    if (delay == NEVER) {
        uv_timer_stop(&l->timer);
        return;
    }
    if (delay > TIMER_CAP_MS) delay = TIMER_CAP_MS;
    uv_timer_start(&l->timer, on_timer, (uint64_t)delay, 0);
}

static void on_close(uv_handle_t *h) {
    ig_limiter_t *l = h->data;
    for (int i = 0; i < IG_EP_COUNT; i++)
        ig_window_free(&l->prod[i].win);
    free(l->heap);
    free(l);
}

static void finish_close(ig_limiter_t *l) {
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, on_close);
}

static void note_wait(prod_t *p, double secs) {
    static const double bounds[] = IG_LIMITER_WAIT_BOUNDS;
    size_t b = 0;
    while (b < sizeof(bounds) / sizeof(bounds[0]) && secs > bounds[b])
        b++;
    p->buckets[b]++;
    p->waited++;
    p->wait_sum += secs;
}

/* Grants what fits, then answers expired waiters. A callback may acquire, cancel other
 * waiters or free the limiter; every step re-reads the queues. */
static void dispatch(ig_limiter_t *l) {
    l->dispatching = 1;
    int more = 1;
    while (more && !l->closing) {
        more = 0;
        int64_t now = ig_clock_ms();
        for (int i = 1; i < IG_EP_COUNT && !l->closing; i++) {
            prod_t *p = &l->prod[i];
            if (p->queued && next_open(p, now) <= now) {
                ig_limiter_wait_t *w = pop_fair(l, p);
                record(p, now);
                note_wait(p, (double)(uv_now(l->loop) - w->enqueued) / 1000.0);
                w->cb(w->arg, 0);
                free(w);
                more = 1;
            }
        }
        if (!more && !l->closing && l->nheap && l->heap[0]->deadline <= uv_now(l->loop)) {
            ig_limiter_wait_t *w = l->heap[0];
            unlink_wait(l, w);
            l->prod[w->product].timed_out++;
            w->cb(w->arg, IG_ETIMEDOUT);
            free(w);
            more = 1;
        }
    }
    l->dispatching = 0;
    if (l->closing)
        finish_close(l);
    else
        rearm(l);
}

static void on_timer(uv_timer_t *t) {
    dispatch(t->data);
}

/* Serve soon, from the loop (callbacks are never called from the caller's stack). */
static void kick(ig_limiter_t *l) {
    if (l->closing || l->dispatching) return;
    uv_timer_start(&l->timer, on_timer, 0, 0);
}

void ig_limiter_kick_for_tests(struct ig_limiter *l) {
    kick(l);
}

/* ---- public ----------------------------------------------------------------------------- */

int ig_limiter_new(uv_loop_t *loop, ig_limiter_t **out) {
    *out = NULL;
    ig_limiter_t *l = calloc(1, sizeof(*l));
    if (!l) return IG_ENOMEM;
    int rc = uv_timer_init(loop, &l->timer);
    if (rc != 0) {
        free(l);
        return rc;
    }
    l->loop = loop;
    l->timer.data = l;
    l->rng = (uint64_t)ig_clock_ms() ^ (uint64_t)(uintptr_t)l ^ 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < IG_EP_COUNT; i++)
        ig_window_init(&l->prod[i].win);
    *out = l;
    return IG_OK;
}

void ig_limiter_set(ig_limiter_t *l, ig_endpoint_t product, const ig_limits_t *lim) {
    if (!product_ok(product) || !lim) return;
    l->prod[product].lim = *lim;
    kick(l);
}

void ig_limiter_get(const ig_limiter_t *l, ig_endpoint_t product, ig_limits_t *out) {
    if (!product_ok(product)) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = l->prod[product].lim;
}

void ig_limiter_preload(ig_limiter_t *l, ig_endpoint_t product, int64_t month_used,
                        int64_t absolute_used, const int64_t *recent_ms, size_t n) {
    if (!product_ok(product)) return;
    prod_t *p = &l->prod[product];
    int64_t now = ig_clock_ms();
    ig_window_clear(&p->win);
    for (size_t i = 0; i < n; i++)
        if (recent_ms[i] > now - HOUR_SPAN) (void)ig_window_add(&p->win, recent_ms[i], 1);
    p->month_start = ig_month_start_ms(now);
    p->month_used = month_used > 0 ? month_used : 0;
    p->abs_used = absolute_used > 0 ? absolute_used : 0;
    kick(l);
}

void ig_limiter_floor_month(ig_limiter_t *l, ig_endpoint_t product, int64_t vendor_month_used) {
    if (!product_ok(product)) return;
    prod_t *p = &l->prod[product];
    int64_t now = ig_clock_ms();
    if (ig_month_start_ms(now) != p->month_start) {
        p->month_start = ig_month_start_ms(now);
        p->month_used = 0;
    }
    if (vendor_month_used > p->month_used) p->month_used = vendor_month_used;
}

int ig_limiter_acquire(ig_limiter_t *l, ig_endpoint_t product, const char *user,
                       uint64_t deadline_ms, ig_limiter_cb cb, void *arg, ig_limiter_wait_t **w) {
    if (w) *w = NULL;
    if (!l || l->closing || !product_ok(product) || !cb || !w) return IG_EINVAL;
    if (!user) user = "";
    prod_t *p = &l->prod[product];
    int64_t now = ig_clock_ms();
    int64_t open = next_open(p, now);
    if (!p->queued && open <= now) {
        record(p, now);
        return 1;
    }
    /* Month or absolute limit spent: say so now unless the month turns before the deadline. */
    uint64_t lnow = uv_now(l->loop);
    if (open == NEVER) return IG_ELIMIT;
    if (p->lim.month > 0 && month_used_at(p, now) >= p->lim.month &&
        (deadline_ms <= lnow || (uint64_t)(open - now) > deadline_ms - lnow))
        return IG_ELIMIT;

    ig_limiter_wait_t *nw = calloc(1, sizeof(*nw));
    if (!nw) return IG_ENOMEM;
    wuser_t *u = find_user(p, user), *fresh = NULL;
    if (!u) {
        fresh = u = calloc(1, sizeof(*u));
        if (!u || !(u->name = strdup(user))) {
            free(u);
            free(nw);
            return IG_ENOMEM;
        }
    }
    *nw = (ig_limiter_wait_t){.l = l,
                              .product = product,
                              .u = u,
                              .deadline = deadline_ms,
                              .enqueued = lnow,
                              .cb = cb,
                              .arg = arg};
    if (heap_push(l, nw) != IG_OK) {
        if (fresh) {
            free(fresh->name);
            free(fresh);
        }
        free(nw);
        return IG_ENOMEM;
    }
    if (fresh) circle_insert(p, fresh);
    nw->prev = u->tail;
    if (u->tail)
        u->tail->next = nw;
    else
        u->head = nw;
    u->tail = nw;
    p->queued++;
    *w = nw;
    rearm(l);
    return 0;
}

void ig_limiter_cancel(ig_limiter_wait_t *w) {
    if (!w) return;
    ig_limiter_t *l = w->l;
    unlink_wait(l, w);
    free(w);
    rearm(l);
}

static uint64_t next_rand(ig_limiter_t *l) {
    /* xorshift64*: jitter needs spread, not secrecy. */
    l->rng ^= l->rng >> 12;
    l->rng ^= l->rng << 25;
    l->rng ^= l->rng >> 27;
    return l->rng * 0x2545F4914F6CDD1DULL;
}

int64_t ig_limiter_cooloff(ig_limiter_t *l, ig_endpoint_t product) {
    if (!product_ok(product)) return 0;
    prod_t *p = &l->prod[product];
    int64_t now = ig_clock_ms();
    /* Answers to queries sent before the pause began are the same burst, not a new one. */
    if (p->cool_until > now) return p->cool_until - now;
    int64_t base = COOL_FIRST_MS;
    for (int k = 0; k < p->cool_k && base < COOL_BASE_CAP_MS; k++)
        base *= 2;
    if (base > COOL_BASE_CAP_MS) base = COOL_BASE_CAP_MS;
    int64_t pause = base + (int64_t)(next_rand(l) % (uint64_t)(base / 2 + 1));
    if (p->cool_k < 30) p->cool_k++;
    p->cool_until = now + pause;
    rearm(l);
    return pause;
}

void ig_limiter_ok(ig_limiter_t *l, ig_endpoint_t product) {
    if (product_ok(product)) l->prod[product].cool_k = 0;
}

void ig_limiter_stats(const ig_limiter_t *l, ig_endpoint_t product, ig_limiter_stats_t *out) {
    memset(out, 0, sizeof(*out));
    if (!product_ok(product)) return;
    const prod_t *p = &l->prod[product];
    int64_t now = ig_clock_ms();
    out->queued = p->queued;
    out->used_minute = ig_window_count(&p->win, now - MINUTE_SPAN);
    out->used_hour = ig_window_count(&p->win, now - HOUR_SPAN);
    out->used_month = month_used_at(p, now);
    out->used_absolute = p->abs_used;
    out->waited = p->waited;
    out->timed_out = p->timed_out;
    out->wait_seconds_sum = p->wait_sum;
    memcpy(out->wait_buckets, p->buckets, sizeof(out->wait_buckets));
}

void ig_limiter_free(ig_limiter_t *l) {
    if (!l || l->closing) return;
    l->closing = 1;
    for (int i = 1; i < IG_EP_COUNT; i++) {
        prod_t *p = &l->prod[i];
        while (p->queued) {
            ig_limiter_wait_t *w = pop_fair(l, p);
            w->cb(w->arg, IG_EINVAL);
            free(w);
        }
    }
    if (!l->dispatching) finish_close(l);
}
