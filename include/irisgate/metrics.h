/* metrics.h — irisgate's counters and histograms for `/metrics`, rendered in the Prometheus
 * text exposition format 0.0.4 (serve with IG_METRICS_CONTENT_TYPE).
 *
 * The registry lives on the loop thread: no locks, every call is a few additions. Label
 * values are copied on first use; each family holds at most IG_METRICS_MAX_SERIES series
 * (endpoint, outcome and product are small fixed sets, users the configured ones): an
 * observation for a new series past the cap is dropped and counted in
 * irisgate_metrics_series_dropped_total. Families:
 *   irisgate_requests_total{endpoint,outcome}               counter
 *   irisgate_request_duration_seconds{endpoint}             histogram
 *   irisgate_upstream_queries_total{product,status}         counter (status "error": no answer)
 *   irisgate_queue_depth{product}                           gauge (from ig_metrics_gauges_t)
 *   irisgate_queue_wait_seconds{product}                    histogram
 *   irisgate_cache_entries, irisgate_cache_bytes            gauges (from ig_metrics_gauges_t)
 *   irisgate_cache_hit_ratio                                gauge: hits / (hits + misses)
 *   irisgate_user_upstream_queries_total{user,product}      counter
 * A hit is a request with outcome HIT, STALE or COALESCED (answered without an upstream
 * query of its own), a miss one with MISS, PARTIAL or QUEUED: the same split as the
 * v_spend_per_user_day view and `irisgate stats`. The ratio is 0 before the first of either.
 * Life cycle: ig_metrics_new → observe/render on the loop thread → ig_metrics_free.
 */
#ifndef IRISGATE_METRICS_H
#define IRISGATE_METRICS_H

#include "irisgate/common.h"

#include <stdbool.h>

#define IG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define IG_METRICS_MAX_SERIES 10000 /* per family */

typedef struct ig_metrics ig_metrics_t;

ig_metrics_t *ig_metrics_new(void); /* NULL: out of memory */
void ig_metrics_free(ig_metrics_t *m);

/* Every call returns IG_OK, IG_ENOMEM, or IG_ETOOBIG when the series was dropped (cap). */

/* One client request answered: endpoint "iris-investigate", "iris-enrich", "account", ...;
 * outcome as in the requests table (HIT, MISS, ...); seconds from request to answer. */
int ig_metrics_request(ig_metrics_t *m, const char *endpoint, const char *outcome, double seconds);
/* One upstream query sent for product, answered with HTTP status (0 or less: no answer —
 * timeout, refused connection — rendered as status="error"). */
int ig_metrics_upstream(ig_metrics_t *m, const char *product, int status);
/* A request waited seconds in product's limiter queue (0 when it did not wait). */
int ig_metrics_queue_wait(ig_metrics_t *m, const char *product, double seconds);
/* user spent n upstream queries of product. */
int ig_metrics_spend(ig_metrics_t *m, const char *user, const char *product, int64_t n);

/* What the registry does not count itself: read by the caller at render time. */
typedef struct {
    const char *product;
    int64_t depth; /* requests waiting in its queue now */
} ig_metrics_queue_t;
typedef struct {
    int64_t cache_entries, cache_bytes; /* the hot cache's */
    const ig_metrics_queue_t *queues;   /* one per product */
    size_t nqueues;
} ig_metrics_gauges_t;

/* Appends the whole exposition to out. g NULL: the gauges are left out. */
int ig_metrics_render(const ig_metrics_t *m, const ig_metrics_gauges_t *g, ig_buf_t *out);

/* Who may read /metrics: a client on the loopback (peer "127.0.0.1" or "::1"), or one whose
 * Authorization header (may be NULL) is "Bearer TOKEN" with the admin token (NULL or empty:
 * none is set), compared in constant time. */
bool ig_metrics_admin(const char *peer, const char *authorization, const char *token);

#endif
