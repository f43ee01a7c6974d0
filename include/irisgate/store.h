/* store.h — the intel database (SQLite, WAL): schema and migrations, the single writer
 * thread that batches every write into group commits, and reads off the event loop.
 *
 * The store knows nothing of HTTP or the network: it keeps what it is given. Writes are
 * queued and return at once (the caller never waits on disk); reads for the loop run on
 * libuv's thread pool with their own read-only connections and report back on the loop.
 * Life cycle: ig_store_open() → use from one loop thread → ig_store_close() (drains the
 * write queue, commits, joins the writer, closes every connection).
 */
#ifndef IRISGATE_STORE_H
#define IRISGATE_STORE_H

#include "irisgate/common.h"
#include <stdbool.h>
#include <uv.h>

typedef struct ig_store ig_store_t;

/* Opens (creating when absent) the database at path, applies migrations, starts the
 * writer thread. On failure err receives a message for a person. */
int ig_store_open(const char *path, ig_store_t **out, char *err, size_t errlen);
/* Commits everything queued, stops the writer, closes the database. */
void ig_store_close(ig_store_t *s);

/* One cached answer: the exact bytes the upstream sent for a canonical question. */
typedef struct {
    char *key;
    char *endpoint; /* "iris-investigate" */
    int status;
    char *content_type;
    char *body;
    size_t body_len;
    int64_t fetched_at; /* epoch seconds */
    int64_t expires_at; /* epoch seconds */
} ig_cached_t;

void ig_cached_free(ig_cached_t *c);

/* Queues the answer for the writer (copies everything); a later put of the same key
 * replaces it. Never blocks on disk. */
int ig_store_put_response(ig_store_t *s, const ig_cached_t *c);
/* Queues removal of a key. */
int ig_store_delete_response(ig_store_t *s, const char *key);

/* Looks key up on the thread pool and calls cb on loop's thread with the answer (owned by
 * cb), whatever its age: freshness is the caller's judgement. NULL with rc IG_ENOENT when
 * absent. */
typedef void (*ig_store_get_cb)(void *arg, int rc, ig_cached_t *c);
int ig_store_get_response_async(ig_store_t *s, uv_loop_t *loop, const char *key,
                                ig_store_get_cb cb, void *arg);
/* The same, blocking: for the command line and tests, never on the loop. */
int ig_store_get_response(ig_store_t *s, const char *key, ig_cached_t **out);

/* ---- the intel tables (docs/schema.md) ---- */

/* Queues one Iris answer (Investigate, Enrich or legacy Iris JSON, with or without the
 * {"response": ...} wrapper) for normalization on the writer thread: every domain result
 * lands in the intel tables, or, when the answer cannot be parsed, none of it does (the
 * rejection is counted in stats.ingest_rejected and reported to the log hook). endpoint
 * is "iris-investigate", "iris-enrich" or "iris"; observed_at is epoch seconds. Copies
 * body; returns at once. */
int ig_store_ingest(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at);

/* The same, blocking until committed, for `irisgate import` and tests (never on the loop):
 * *ndomains receives how many domain results were stored. IG_EINVAL with a message in err
 * when body is not an Iris answer. endpoint NULL: guessed from the answer's shape (value/
 * count pairs: Investigate; values without counts: Enrich; flat values: legacy Iris). */
int ig_store_import(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at, size_t *ndomains, char *err, size_t errlen);

/* An import queued, to be waited for: several can be in the writer's queue at once, so
 * saved answers are ingested in group commits as answers through the proxy are. */
typedef struct {
    const char *endpoint; /* NULL: guessed from the answer's shape */
    int64_t observed_at;  /* epoch seconds: when the answer was fetched */
    bool result_times;    /* each result at its own data_updated_timestamp, when it has one
                             (not after now); observed_at for the others */
    int64_t now;          /* epoch seconds; 0: no bound */
} ig_import_opts_t;
typedef struct ig_import ig_import_t;
/* Takes body (malloc'ed; freed by the store whatever happens) and queues it. */
int ig_store_import_take(ig_store_t *s, char *body, size_t len, const ig_import_opts_t *o,
                         ig_import_t **out);
/* Waits for its commit (before ig_store_close) and frees it; as ig_store_import. */
int ig_store_import_wait(ig_import_t *im, size_t *ndomains, char *err, size_t errlen);

/* The result the current rows of each domain come from (as the vendor sent it), for answering per
 * domain: read on the thread pool, cb on loop's thread with one row per domain asked, in
 * order (json NULL when the store has none). cb owns the rows (ig_stored_results_free). */
typedef struct {
    char *domain;
    char *endpoint;     /* where it came from: iris-investigate, iris-enrich, iris */
    int64_t fetched_at; /* epoch seconds */
    char *json;         /* NUL-terminated; NULL: not stored */
    size_t json_len;
} ig_stored_result_t;
typedef void (*ig_store_results_cb)(void *arg, int rc, ig_stored_result_t *rows, size_t n);
int ig_store_get_results_async(ig_store_t *s, uv_loop_t *loop, const char *const *domains,
                               size_t n, ig_store_results_cb cb, void *arg);
void ig_stored_results_free(ig_stored_result_t *rows, size_t n);

/* Where the store reports what it could not keep (a rejected answer, a failed batch): fn
 * is called on the writer thread with a message that never holds a secret. NULL: stderr. */
void ig_store_set_log(ig_store_t *s, void (*fn)(const char *msg));

/* Blocks until everything queued so far is committed. Never on the loop. */
int ig_store_flush(ig_store_t *s);

/* Counters for logs and tests. */
typedef struct {
    uint64_t queued, committed, transactions, failed;
    uint64_t ingested_answers, ingested_domains, ingest_rejected;
} ig_store_stats_t;
void ig_store_stats(ig_store_t *s, ig_store_stats_t *out);

/* ---- the request log (docs/schema.md: `requests`, `v_spend_per_user_day`) ---- */

/* One client request. user NULL: not authenticated; key: the canonical question (never a
 * credential), NULL when there is none; outcome: HIT, MISS, PARTIAL, COALESCED, STALE,
 * QUEUED, REJECTED, BYPASS or ERROR; upstream_queries: spent on its behalf; status: the
 * HTTP status sent to the client. endpoint and outcome are required. */
typedef struct {
    int64_t at_ms; /* epoch milliseconds, when the request arrived */
    const char *user, *endpoint, *key, *outcome;
    int upstream_queries, status;
    double latency_ms;
} ig_request_row_t;

/* Copies the rows and queues ONE writer job for them, which lands whole or not at all (the
 * caller batches, e.g. every 100 ms). Never blocks on disk. IG_EINVAL when a row lacks its
 * endpoint or outcome (nothing is queued). */
int ig_store_log_requests(ig_store_t *s, const ig_request_row_t *rows, size_t n);

/* Upstream queries spent per (user, endpoint): this calendar month and today (UTC, the
 * month and day of now_ms), and ever; recent_ms holds the epoch-ms time of each query
 * spent in the hour before now_ms (now - 1 h excluded, now_ms included), oldest first, a
 * row that spent n queries appearing n times. user is "" for rows without a user. Sorted
 * by user, then endpoint; only pairs that ever spent a query. Blocking: start-up and the
 * command line, never on the loop. Free with ig_usage_free. */
typedef struct {
    char user[72];
    char endpoint[24];
    int64_t month, today, total;
    int64_t *recent_ms;
    size_t nrecent;
} ig_usage_t;
int ig_store_usage(ig_store_t *s, int64_t now_ms, ig_usage_t **out, size_t *n);
void ig_usage_free(ig_usage_t *u, size_t n);

#endif
