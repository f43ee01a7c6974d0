/* gateway_int.h — what the gateway's two files share: gateway.c (routing, the whole
 * question: hot cache, store, flight table, upstream, stale answers) and gw_domains.c
 * (domain lists answered domain by domain). Only proxy/gateway*.c and gw_*.c include it.
 */
#ifndef IRISGATE_GATEWAY_INT_H
#define IRISGATE_GATEWAY_INT_H

#include "irisgate/form.h"
#include "irisgate/gateway.h"
#include "irisgate/hotcache.h"
#include "irisgate/limiter.h"
#include "irisgate/metrics.h"
#include "irisgate/quota.h"
#include "irisgate/store.h"
#include "irisgate/upstream.h"
#include "irisgate/vendor.h"

#include <stdbool.h>

#define FLIGHT_BUCKETS 1024
/* Who irisgate's own upstream queries (the account's limits) are recorded under: a name no
 * proxy user can have (secrets.c allows letters, digits and ._@-). */
#define IG_SELF_USER "(irisgate)"

typedef struct greq greq_t;
typedef struct dflight dflight_t;
struct dlist;

typedef struct {
    bool queued;  /* waited in the limiter's queue */
    bool refused; /* never sent: over a limit, or queued past the deadline */
    int spent;    /* upstream queries sent (retries included) */
} gw_call_info_t;

typedef struct flight {
    char *key;
    size_t key_len;
    uint64_t hash;
    ig_gateway_t *gw;
    ig_endpoint_t ep;
    greq_t *waiters;
    greq_t *initiator; /* the request that started the fetch (also among the waiters) */
    int page;          /* of a pivot walk (gw_pages.c): 1 first, 0 unknown */
    bool rewalked;     /* the vendor refused the cursor once: walked again from page 1 */
    gw_call_info_t info; /* what it cost so far (a walk again costs more) */
    struct flight *next;
} flight_t;

struct ig_gateway {
    uv_loop_t *loop;
    const ig_config_t *cfg;
    const ig_secrets_t *secrets;
    ig_store_t *store;
    ig_upstream_t *up;
    ig_hotcache_t *hot;
    char *up_user;
    char *up_key;
    flight_t *flights[FLIGHT_BUCKETS];    /* whole questions being fetched */
    dflight_t *dflights[FLIGHT_BUCKETS];  /* single domains being fetched (gw_domains.c) */
    ig_limiter_t *limiter;                /* the shared upstream limits (gw_admit.c) */
    ig_quota_t *quota;                    /* per-user limits and spend */
    ig_metrics_t *metrics;
    void *retrying;                       /* calls in a rate cool-off (gw_admit.c) */
    uv_timer_t *audit_timer;              /* flushes the requests rows */
    ig_request_row_t *audit;              /* rows not yet handed to the store */
    size_t naudit, capaudit;
    uv_timer_t *account_timer;            /* refreshes the upstream limits */
    bool closing;
};

struct greq {
    ig_gateway_t *gw;
    ig_http_req_t *req;
    ig_endpoint_t ep;
    char user[72];
    ig_params_t canon;
    ig_buf_t key;
    bool no_cache;
    const char *outcome;
    int spent;   /* upstream queries sent on its behalf */
    bool queued; /* waited for the shared limit */
    greq_t *next_waiter;
};

/* gateway.c */
void gw_greq_free(greq_t *r);
/* Sends body (a reference is taken) with the cache headers (age < 0: no Age), logs,
 * frees r. */
void gw_answer(greq_t *r, int status, const char *ctype, ig_blob_t *body, int64_t age);
void gw_answer_error(greq_t *r, int status, const char *message);
/* An upstream failure (no answer) as the vendor-shaped 502/504. */
void gw_answer_upstream_failure(greq_t *r, const ig_upstream_resp_t *resp);
int64_t gw_ttl(const ig_gateway_t *g, ig_endpoint_t ep);
bool gw_fresh(const ig_gateway_t *g, ig_endpoint_t ep, int64_t fetched_at);
bool gw_is_data(int status, const char *ctype, const char *body, size_t len);
/* Keeps a data answer for its question, after the hot cache has it and the clients were
 * answered: the store, the intel tables, and (learn) the per-domain cache. */
void gw_keep(ig_gateway_t *g, const char *key, size_t key_len, ig_endpoint_t ep,
             const char *ctype, int64_t fetched_at, ig_blob_t *body, bool learn);
/* True when the question adds fields to every result (parsed_whois, parsed_domain_rdap):
 * such results are not what a plain lookup of their domain would get. */
bool gw_shapes_results(const ig_params_t *canon);
int gw_send_upstream(ig_gateway_t *g, ig_endpoint_t ep, const ig_params_t *canon,
                     ig_upstream_cb cb, void *arg);

/* gw_admit.c: one upstream query under the quota rules (user limits, the shared limiter,
 * retries after a vendor rate answer). cb gets the vendor's answer, or irisgate's refusal as
 * the vendor-shaped 503; it may run before gw_call returns. */
typedef void (*gw_call_cb)(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info);
int gw_call(ig_gateway_t *g, ig_endpoint_t ep, const char *user, const ig_params_t *q,
            gw_call_cb cb, void *arg);
/* Refuses the calls waiting out a cool-off (shutdown). */
void gw_admit_shutdown(ig_gateway_t *g);

/* gw_pages.c: position tokens irisgate mints, and walking a pivot again. */
typedef struct {
    ig_endpoint_t ep;
    bool tls;         /* the client's connection: the scheme of a rebuilt `next` URL */
    const char *host; /* the client's Host */
} pages_origin_t;
/* irisgate's token for page (>= 2) of a walk, reached with the vendor's cursor. */
int gw_pages_mint(int page, const char *vendor, size_t len, ig_buf_t *out);
/* A token irisgate minted: its page and the vendor's cursor. False for any other text. */
bool gw_pages_parse(const char *tok, size_t len, int *page, ig_buf_t *vendor);
/* canon as the vendor must get it (irisgate's token replaced by the vendor's cursor), and
 * the page asked: 1 without a position, 0 for a position irisgate did not mint. */
int gw_pages_upstream(const ig_params_t *canon, ig_params_t *out, int *page);
/* The answer to page of canon's question with its position (and `next`) made irisgate's:
 * a new reference (body's own when there is nothing to change). */
ig_blob_t *gw_pages_rewrite(ig_blob_t *body, int page, const ig_params_t *canon,
                            const pages_origin_t *o);
/* Asks the question canon again from its first page up to page target (>= 2), keeping the
 * pages on the way; cb gets the answer for page target (or the one where the walk stopped)
 * with what all of them cost, exactly once, possibly before this returns. */
int gw_pages_walk(ig_gateway_t *g, ig_endpoint_t ep, const char *user, const ig_params_t *canon,
                  int target, const pages_origin_t *origin, gw_call_cb cb, void *arg);

/* gw_domains.c */
/* Answers r (an Investigate or Enrich question that is only a domain list) domain by
 * domain: true when it took r (it will answer it), false when r is not such a question. */
bool gw_domains_try(greq_t *r);
/* Every result of a data answer of ep (a domain list or a pivot page) fills the per-domain
 * cache: a later question for that domain costs nothing while fresh. */
void gw_domains_learn(ig_gateway_t *g, ig_endpoint_t ep, const char *body, size_t len,
                      int64_t fetched_at);

#endif
