/* gw_admit.c — every upstream query irisgate sends for a client goes through here, under
 * the quota rules, on the loop thread:
 *
 *   the user's own limits (quota.c: spent → the vendor-shaped 503 naming the limit, at once)
 *     → the shared upstream limiter (limiter.c: a slot now, or a wait in the fair queue up
 *       to queue_deadline; past it the vendor-shaped 503 "queued too long")
 *     → the query (re-signed, gw_send_upstream) → counted for the user and in the metrics
 *     → a vendor 503 for the per-minute rate: a cool-off, and the query again, at most
 *       RATE_RETRIES times and never past the queue deadline; then irisgate's own 503.
 *
 * The user's limits are checked when the question is admitted and again when a queued one
 * gets its slot (what the user spent meanwhile counts); a retry after a vendor 503 is the
 * same admitted question and is not checked again.
 * The caller gets exactly one answer: the vendor's, or the refusal in the vendor's shape
 * (status 503), with how it went (waited, spent). Owns each call (ucall_t) from gw_call
 * until its callback returns. Never sees a key; the form is built by gw_send_upstream.
 */
#include "gateway_int.h"
#include "irisgate/log.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_RETRIES 3 /* vendor 503s for rate tolerated in a row before passing one on */

typedef struct ucall {
    ig_gateway_t *g;
    ig_endpoint_t ep;
    char user[72];
    ig_params_t q; /* the question (a copy) */
    gw_call_cb cb;
    void *arg;
    gw_call_info_t info;
    int rate_tries;
    uint64_t admitted_at; /* loop time of the first admission: the deadline runs from it */
    int64_t sent_ms;      /* when the query was counted for the user (epoch ms) */
    bool reserved;        /* counted for the user and not yet answered (or cooling off) */
    uint64_t queued_at;   /* loop time */
    ig_limiter_wait_t *wait;
    uv_timer_t *retry; /* the cool-off before asking again */
    struct ucall *prev, *next; /* in g->retrying while retry is set */
} ucall_t;

static void ucall_free(ucall_t *c) {
    ig_params_free(&c->q);
    free(c);
}

/* Gives the user back a query counted but never counted by the vendor. */
static void release(ucall_t *c) {
    if (!c->reserved) return;
    c->reserved = false;
    if (c->user[0]) ig_quota_refund(c->g->quota, c->user, c->ep, c->sent_ms, ig_now_ms(), 1);
}

/* The caller's answer when irisgate itself refuses: the vendor's 503 envelope. */
static void refuse(ucall_t *c, const char *message) {
    release(c);
    ig_buf_t b = {0};
    ig_vendor_error(&b, 503, message);
    ig_upstream_resp_t resp = {.status = 503,
                               .content_type = IG_JSON_CTYPE,
                               .body = b.data ? b.data : "",
                               .body_len = b.len};
    c->info.refused = true;
    c->cb(c->arg, &resp, &c->info);
    ig_buf_free(&b);
    ucall_free(c);
}

static bool rate_answer(const ig_upstream_resp_t *resp) {
    return resp->status == 503 && resp->body &&
           memmem(resp->body, resp->body_len, "requests per minute", 19) != NULL;
}

static void admit(ucall_t *c);

static void on_retry_closed(uv_handle_t *h) {
    free(h);
}

static void unlink_retry(ucall_t *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        c->g->retrying = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    uv_timer_stop(c->retry);
    uv_close((uv_handle_t *)c->retry, on_retry_closed);
    c->retry = NULL;
}

static void on_retry_timer(uv_timer_t *t) {
    ucall_t *c = t->data;
    unlink_retry(c);
    admit(c);
}

/* The vendor's own words in its error envelope, for irisgate's refusal after retries (a
 * rare path: a real parse, as the message holds escapes such as \/). */
static void vendor_message(const ig_upstream_resp_t *resp, char *out, size_t cap) {
    out[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(resp->body, resp->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "error"), "message");
    if (cJSON_IsString(m)) snprintf(out, cap, "%s", m->valuestring);
    cJSON_Delete(root);
}

/* Asks again after the cool-off, unless that would end past the deadline. */
static bool retry_later(ucall_t *c) {
    ig_gateway_t *g = c->g;
    int64_t ms = ig_limiter_cooloff(g->limiter, c->ep);
    uv_update_time(g->loop);
    uint64_t deadline = c->admitted_at + (uint64_t)g->cfg->queue_deadline * 1000;
    if (uv_now(g->loop) + (uint64_t)ms >= deadline) return false;
    uv_timer_t *t = malloc(sizeof(*t));
    if (!t || uv_timer_init(g->loop, t) != 0) {
        free(t);
        return false;
    }
    ig_log("upstream: %s rate limit answered; asking again in %lld ms", ig_endpoint_name(c->ep),
           (long long)ms);
    t->data = c;
    c->retry = t;
    c->next = g->retrying;
    if (c->next) ((ucall_t *)c->next)->prev = c;
    g->retrying = c;
    /* Loop time lags the clock the cool-off is measured on by however long this iteration
     * has run: updated above, and a millisecond for rounding, so the retry does not wake
     * just before the cool-off ends and get queued behind it. */
    uv_timer_start(t, on_retry_timer, (uint64_t)ms + 1, 0);
    return true;
}

void gw_admit_shutdown(ig_gateway_t *g) {
    while (g->retrying) {
        ucall_t *c = g->retrying;
        unlink_retry(c);
        refuse(c, "irisgate is shutting down.");
    }
}

static void on_answer(void *arg, const ig_upstream_resp_t *resp) {
    ucall_t *c = arg;
    ig_gateway_t *g = c->g;
    const char *product = ig_endpoint_name(c->ep);
    ig_metrics_upstream(g->metrics, product, resp->status);
    bool rate = rate_answer(resp);
    if (!rate) { /* the reservation is spent */
        c->reserved = false;
        c->info.spent++;
        ig_metrics_spend(g->metrics, c->user[0] ? c->user : IG_SELF_USER, product, 1);
    }
    if (rate && !g->closing && g->limiter) {
        /* The vendor counted differently (or the Iris UI spent some): wait, ask again, on
         * the same reservation (so the user's room is not given to another meanwhile). The
         * vendor's 503 never reaches the client: past the retries, irisgate's own does. */
        if (c->rate_tries < RATE_RETRIES && retry_later(c)) {
            c->rate_tries++;
            return;
        }
        char said[200], msg[400];
        vendor_message(resp, said, sizeof(said));
        snprintf(msg, sizeof(msg),
                 "irisgate asked the Iris API %d times in %llu seconds and it still answers "
                 "that the shared %s limit is spent%s%s%s; try again later.",
                 c->rate_tries + 1,
                 (unsigned long long)((uv_now(g->loop) - c->admitted_at + 999) / 1000), product,
                 said[0] ? " (\"" : "", said, said[0] ? "\")" : "");
        refuse(c, msg);
        return;
    } else if (resp->status > 0 && resp->status < 500 && g->limiter) {
        ig_limiter_ok(g->limiter, c->ep);
    }
    release(c); /* a rate 503 passed on (irisgate is closing) was not the user's spend */
    c->cb(c->arg, resp, &c->info);
    ucall_free(c);
}

/* The user's spend is counted as the query first leaves (so queries in flight count against
 * the limits), kept through retries after a vendor rate 503, and taken back if the call ends
 * without the vendor counting it (release). */
static void send_now(ucall_t *c) {
    ig_gateway_t *g = c->g;
    if (!c->reserved) {
        c->sent_ms = ig_now_ms();
        c->reserved = true;
        if (c->user[0]) ig_quota_spend(g->quota, c->user, c->ep, c->sent_ms, 1);
    }
    if (gw_send_upstream(g, c->ep, &c->q, on_answer, c) != IG_OK) {
        release(c);
        ig_upstream_resp_t resp = {.status = 0, .error = "could not start the upstream request"};
        c->cb(c->arg, &resp, &c->info);
        ucall_free(c);
    }
}

/* Over one of the user's own limits: refused with the vendor-shaped 503 naming it. */
static bool refuse_over_user_limit(ucall_t *c) {
    const char *which = NULL;
    if (!c->user[0] ||
        ig_quota_check(c->g->quota, c->user, c->ep, ig_now_ms(), &which) != IG_ELIMIT)
        return false;
    char msg[240];
    snprintf(msg, sizeof(msg),
             "You have exceeded the maximum number of %s requests per %s allowed for your "
             "irisgate user.",
             ig_endpoint_name(c->ep), which);
    refuse(c, msg);
    return true;
}

static void on_slot(void *arg, int rc) {
    ucall_t *c = arg;
    c->wait = NULL;
    double waited = (double)(uv_now(c->g->loop) - c->queued_at) / 1000.0;
    ig_metrics_queue_wait(c->g->metrics, ig_endpoint_name(c->ep), waited);
    if (rc == 0) {
        /* What the user spent while this one waited counts (only the first admission was
         * checked; a retry is the same question). */
        if (c->rate_tries == 0 && refuse_over_user_limit(c)) return;
        send_now(c);
    } else if (rc == IG_ETIMEDOUT) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "irisgate queued this request for %lld seconds waiting for the shared %s "
                 "limit; try again later.",
                 (long long)c->g->cfg->queue_deadline, ig_endpoint_name(c->ep));
        refuse(c, msg);
    } else {
        refuse(c, "irisgate is shutting down.");
    }
}

static void admit(ucall_t *c) {
    ig_gateway_t *g = c->g;
    if (g->closing) {
        refuse(c, "irisgate is shutting down.");
        return;
    }
    if (c->rate_tries == 0 && refuse_over_user_limit(c)) return;
    c->queued_at = uv_now(g->loop);
    if (c->rate_tries == 0) c->admitted_at = c->queued_at;
    uint64_t deadline = c->admitted_at + (uint64_t)g->cfg->queue_deadline * 1000;
    int rc = ig_limiter_acquire(g->limiter, c->ep, c->user[0] ? c->user : "-", deadline, on_slot,
                                c, &c->wait);
    if (rc == 1) {
        send_now(c);
    } else if (rc == 0) {
        c->info.queued = true;
    } else if (rc == IG_ELIMIT) {
        char msg[240];
        snprintf(msg, sizeof(msg),
                 "You have exceeded the maximum number of requests allowed under your service "
                 "level for %s this month (shared by every irisgate user).",
                 ig_endpoint_name(c->ep));
        refuse(c, msg);
    } else {
        refuse(c, "irisgate could not queue this request.");
    }
}

int gw_call(ig_gateway_t *g, ig_endpoint_t ep, const char *user, const ig_params_t *q,
            gw_call_cb cb, void *arg) {
    ucall_t *c = calloc(1, sizeof(*c));
    if (!c) return IG_ENOMEM;
    *c = (ucall_t){.g = g, .ep = ep, .cb = cb, .arg = arg};
    snprintf(c->user, sizeof(c->user), "%s", user ? user : "");
    for (size_t i = 0; i < q->n; i++)
        if (ig_params_add(&c->q, q->v[i].key, q->v[i].val, q->v[i].val_len)) {
            ucall_free(c);
            return IG_ENOMEM;
        }
    admit(c);
    return IG_OK;
}
