/* gateway.c — what irisgate does with one client request, on the loop thread:
 *
 *   route → decode params → authenticate the proxy user → canonical key
 *     → hot cache (fresh: HIT) → store, on the thread pool (fresh: HIT, warms the hot cache)
 *     → flight table (same key already being fetched: wait for it) → upstream, re-signed
 *     → answer every waiter → keep it (hot cache + store writer) when it is data.
 *
 * Never blocks: the store is read on the thread pool and written by its writer thread, the
 * upstream is curl multi on this loop. Owns the hot cache, the flight table and each
 * request's context (greq_t), which lives from ig_gateway_handle until its answer is sent.
 * Never logs, stores or returns a key: the upstream form body is built here, sent, freed.
 * Answers go out gzip-encoded to clients that accept it: a cached answer's gzip variant is
 * made once and kept beside it in the hot cache, so a gzip hit is still one lookup and one
 * write (gzip_variant).
 */
#include "gateway_int.h"
#include "irisgate/auth.h"
#include "irisgate/canon.h"
#include "irisgate/format.h"
#include "irisgate/gzip.h"
#include "irisgate/hmac.h"
#include "irisgate/hotcache.h"
#include "irisgate/log.h"
#include "irisgate/upstream.h"
#include "irisgate/vendor.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const MSG_NOT_FOUND = "The requested URL was not found on this server.";

/* The vendor's other products (docs: iris-api.md section 1): irisgate does not relay them, so
 * a proxy user is, as the vendor would say, not authorized for them (403, not 404). */
static bool other_product(const char *path, size_t len) {
    static const char *const names[] = {"iris", "iris-detect", "risk", "reputation"};
    if (len < 4 || memcmp(path, "/v1/", 4) != 0) return false;
    const char *p = path + 4;
    size_t n = len - 4;
    const char *slash = memchr(p, '/', n);
    size_t first = slash ? (size_t)(slash - p) : n;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == first && memcmp(p, names[i], first) == 0) return true;
    return false;
}

/* ---- answering ------------------------------------------------------------------------ */

void gw_greq_free(greq_t *r) {
    ig_params_free(&r->canon);
    ig_buf_free(&r->key);
    free(r);
}

/* One row for the requests table, queued in memory; the audit timer hands them over. */
static void audit(greq_t *r, int status, uint64_t us) {
    ig_gateway_t *g = r->gw;
    if (g->naudit == g->capaudit) {
        size_t cap = g->capaudit ? g->capaudit * 2 : 256;
        ig_request_row_t *a = realloc(g->audit, cap * sizeof(*a));
        if (!a) return;
        g->audit = a;
        g->capaudit = cap;
    }
    ig_request_row_t *row = &g->audit[g->naudit];
    *row = (ig_request_row_t){.at_ms = ig_now_ms(),
                              .user = r->user[0] ? strdup(r->user) : NULL,
                              .endpoint = ig_endpoint_name(r->ep),
                              .key = r->key.data ? strndup(r->key.data, r->key.len) : NULL,
                              .outcome = r->outcome,
                              .upstream_queries = r->spent,
                              .status = status,
                              .latency_ms = (double)us / 1000.0};
    if (r->user[0] && !row->user) return;
    g->naudit++;
}

static void audit_flush(ig_gateway_t *g) {
    if (!g->naudit) return;
    if (ig_store_log_requests(g->store, g->audit, g->naudit) != IG_OK)
        ig_log("store: could not queue %zu request rows", g->naudit);
    for (size_t i = 0; i < g->naudit; i++) {
        free((char *)g->audit[i].user);
        free((char *)g->audit[i].key);
    }
    g->naudit = 0;
}

static void on_audit_timer(uv_timer_t *t) {
    audit_flush(t->data);
}

static void log_request(greq_t *r, int status, size_t bytes) {
    const ig_http_req_t *q = r->req;
    uint64_t us = (ig_mono_ns() - q->start_ns) / 1000;
    if (!r->outcome) r->outcome = status >= 500 && status != 503 ? "ERROR" : "REJECTED";
    if (r->ep != IG_EP_UNKNOWN) {
        audit(r, status, us);
        ig_metrics_request(r->gw->metrics, ig_endpoint_name(r->ep), r->outcome,
                           (double)us / 1e6);
    }
    int klen = r->key.len > 300 ? 300 : (int)r->key.len;
    ig_log("%s %s %s %s %s %d %llu.%02llums %zuB \"%.*s%s\"", q->peer, r->user[0] ? r->user : "-",
           q->method_str, ig_endpoint_name(r->ep), r->outcome ? r->outcome : "-", status,
           (unsigned long long)(us / 1000), (unsigned long long)(us % 1000 / 10),
           bytes, klen, r->key.data ? r->key.data : "", r->key.len > 300 ? "..." : "");
}

/* ---- gzip ------------------------------------------------------------------------------ */

/* A cached answer too large to compress on the loop, being compressed on the thread pool.
 * It holds the hot cache (which may be freed meanwhile) and a reference to the body. */
typedef struct {
    uv_work_t work;
    ig_hotcache_t *hot;
    ig_blob_t *body; /* read by the worker, never ref-counted there */
    ig_blob_t *gz;
    int rc;
    size_t key_len;
    char key[];
} gzjob_t;

static void gz_work(uv_work_t *w) {
    gzjob_t *j = w->data;
    j->rc = ig_gzip_blob(j->body->data, j->body->len, IG_GZIP_LEVEL, &j->gz);
}

static void gz_done(uv_work_t *w, int status) {
    gzjob_t *j = w->data;
    ig_gz_state_t st = status != 0 || j->rc != IG_OK ? IG_GZ_UNKNOWN /* try again later */
                       : j->gz                       ? IG_GZ_READY
                                                     : IG_GZ_NONE;
    ig_hotcache_set_gz(j->hot, j->key, j->key_len, j->body, st, j->gz);
    ig_blob_unref(j->gz);
    ig_blob_unref(j->body);
    ig_hotcache_release(j->hot);
    free(j);
}

static void gz_start(ig_gateway_t *g, const char *key, size_t key_len, ig_blob_t *body) {
    gzjob_t *j = malloc(sizeof(*j) + key_len + 1);
    if (!j) return;
    *j = (gzjob_t){.hot = g->hot, .body = body, .key_len = key_len};
    memcpy(j->key, key, key_len);
    j->key[key_len] = '\0';
    j->work.data = j;
    if (uv_queue_work(g->loop, &j->work, gz_work, gz_done) != 0) {
        free(j);
        return;
    }
    ig_hotcache_hold(g->hot);
    ig_blob_ref(body);
    ig_hotcache_set_gz(g->hot, key, key_len, body, IG_GZ_PENDING, NULL);
}

/* The gzip body to send r instead of body (a new reference), or NULL for the identity body.
 * When body is the hot cache's answer to r's question, its variant is made once and kept
 * beside it: now when small enough for the loop, else on the thread pool (identity until
 * then). Other answers (pass-through, a batch's own) are compressed for this client only. */
static ig_blob_t *gzip_variant(greq_t *r, int status, ig_blob_t *body) {
    if (status != 200 || body->len < IG_GZIP_MIN_BYTES ||
        !ig_gzip_accepted(ig_http_header(r->req, "accept-encoding")))
        return NULL;
    ig_gateway_t *g = r->gw;
    const ig_hot_entry_t *e = r->key.data ? ig_hotcache_get(g->hot, r->key.data, r->key.len) : NULL;
    ig_blob_t *gz = NULL;
    if (e && e->body == body) {
        if (e->gz_state == IG_GZ_READY) return ig_blob_ref(e->gz);
        if (e->gz_state != IG_GZ_UNKNOWN) return NULL;
        if (body->len > IG_GZIP_LOOP_MAX_BYTES) {
            if (!g->closing) gz_start(g, r->key.data, r->key.len, body);
            return NULL;
        }
        if (ig_gzip_blob(body->data, body->len, IG_GZIP_LEVEL, &gz) == IG_OK)
            ig_hotcache_set_gz(g->hot, r->key.data, r->key.len, body, gz ? IG_GZ_READY : IG_GZ_NONE,
                               gz);
        return gz;
    }
    if (body->len <= IG_GZIP_LOOP_MAX_BYTES)
        ig_gzip_blob(body->data, body->len, IG_GZIP_LEVEL, &gz);
    return gz;
}

/* Sends body (a reference is taken), gzip-encoded when gz, with the cache headers, logs,
 * frees r. */
static void send_answer(greq_t *r, int status, const char *ctype, ig_blob_t *body, bool gz,
                        int64_t age) {
    char head[600];
    char agebuf[48] = "";
    if (age >= 0) snprintf(agebuf, sizeof(agebuf), "Age: %lld\r\n", (long long)age);
    bool stale = r->outcome && strcmp(r->outcome, "STALE") == 0;
    int n = snprintf(head, sizeof(head),
                     "Content-Type: %s\r\nX-Cache: %s\r\n%s%s%sVary: Accept-Encoding\r\n", ctype,
                     r->outcome, agebuf,
                     stale ? "Warning: 110 irisgate \"Response is Stale\"\r\n" : "",
                     gz ? "Content-Encoding: gzip\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head)) n = 0;
    log_request(r, status, body->len);
    ig_http_respond(r->req, status, head, (size_t)n, body->data, body->len, ig_blob_unref,
                    ig_blob_ref(body));
    gw_greq_free(r);
}

void gw_answer(greq_t *r, int status, const char *ctype, ig_blob_t *body, int64_t age) {
    ig_blob_t *gz = gzip_variant(r, status, body);
    send_answer(r, status, ctype, gz ? gz : body, gz != NULL, age);
    ig_blob_unref(gz);
}

void gw_answer_error(greq_t *r, int status, const char *message) {
    ig_buf_t b = {0};
    ig_vendor_error(&b, status, message);
    log_request(r, status, b.len);
    ig_http_respond_copy(r->req, status, IG_JSON_CTYPE, b.data, b.len);
    ig_buf_free(&b);
    gw_greq_free(r);
}

/* ---- what may be kept ----------------------------------------------------------------- */

int64_t gw_ttl(const ig_gateway_t *g, ig_endpoint_t ep) {
    if (ep == IG_EP_INVESTIGATE) return g->cfg->ttl_investigate;
    if (ep == IG_EP_ENRICH) return g->cfg->ttl_enrich;
    return 0;
}

/* An answer is data when it is a 200 JSON envelope {"response": ...} that is not a
 * limit_exceeded answer. A byte scan, not a parse: this runs on the loop for every miss. */
bool gw_is_data(int status, const char *ctype, const char *body, size_t len) {
    if (status != 200 || !ctype || strncasecmp(ctype, "application/json", 16) != 0) return false;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i >= len || body[i] != '{' || !memmem(body, len, "\"response\"", 10)) return false;
    const char *p = body, *end = body + len;
    while ((p = memmem(p, (size_t)(end - p), "\"limit_exceeded\"", 16)) != NULL) {
        p += 16;
        while (p < end && (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t'))
            p++;
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) return false;
    }
    return true;
}

bool gw_shapes_results(const ig_params_t *canon) {
    static const char *const keys[] = {"parsed_whois", "parsed_domain_rdap"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = ig_params_get(canon, keys[i]);
        if (v && strcasecmp(v, "false") != 0) return true;
    }
    return false;
}

void gw_keep(ig_gateway_t *g, const char *key, size_t key_len, ig_endpoint_t ep,
             const char *ctype, int64_t fetched_at, ig_blob_t *body, bool learn) {
    ig_cached_t c = {.key = (char *)key,
                     .endpoint = (char *)ig_endpoint_name(ep),
                     .status = 200,
                     .content_type = (char *)ctype,
                     .body = body->data,
                     .body_len = body->len,
                     .fetched_at = fetched_at,
                     .expires_at = fetched_at + gw_ttl(g, ep)};
    if (ig_store_put_response(g->store, &c) != IG_OK)
        ig_log("store: could not queue the answer for %.*s", (int)(key_len > 200 ? 200 : key_len),
               key);
    /* Normalized on the writer thread; the client's answer never waits for it. */
    if (ig_store_ingest(g->store, c.endpoint, body->data, body->len, fetched_at) != IG_OK)
        ig_log("store: could not queue the %s answer for the intel tables", c.endpoint);
    if (learn) gw_domains_learn(g, ep, body->data, body->len, fetched_at);
}

/* ---- upstream ------------------------------------------------------------------------- */

/* The form body sent upstream: the canonical question, irisgate's telemetry, and the
 * vendor credential as an HMAC-SHA256 signature over the path (as the official SDK signs). */
static int signed_form(ig_gateway_t *g, ig_endpoint_t ep, const ig_params_t *canon,
                       ig_buf_t *out) {
    char ts[21], sig[65];
    ig_time_format_iso8601(ig_now(), ts);
    int rc = ig_hmac_sign(IG_HMAC_SHA256, g->up_key, g->up_user, ts, ig_endpoint_path(ep), sig);
    if (rc) return rc;
    rc = ig_canon_form(canon, out);
    if (!rc && out->len) rc = ig_buf_putc(out, '&');
    if (!rc) rc = ig_buf_puts(out, "app_name=irisgate&app_version=" IG_VERSION "&api_username=");
    if (!rc) rc = ig_url_encode(out, g->up_user, strlen(g->up_user));
    if (!rc) rc = ig_buf_puts(out, "&timestamp=");
    if (!rc) rc = ig_url_encode(out, ts, strlen(ts));
    if (!rc) rc = ig_buf_printf(out, "&signature=%s", sig);
    return rc;
}

int gw_send_upstream(ig_gateway_t *g, ig_endpoint_t ep, const ig_params_t *canon,
                         ig_upstream_cb cb, void *arg) {
    ig_buf_t form = {0};
    int rc = signed_form(g, ep, canon, &form);
    /* The vendor takes GET for the account and POST (form) for the Iris products. */
    if (!rc)
        rc = ig_upstream_request(g->up, ep == IG_EP_ACCOUNT ? "GET" : "POST",
                                 ig_endpoint_path(ep), form.data, form.len, cb, arg);
    if (form.data) memset(form.data, 0, form.len); /* it held a signature */
    ig_buf_free(&form);
    return rc;
}

/* The client learns what kind of failure it was; curl's own words (which name the upstream's
 * host and port) go to the log only. */
void gw_answer_upstream_failure(greq_t *r, const ig_upstream_resp_t *resp) {
    gw_answer_error(r, resp->timed_out ? 504 : 502,
                    resp->timed_out ? "irisgate got no answer from the Iris API in time."
                                    : "irisgate could not get an answer from the Iris API.");
}

static void answer_from_upstream(greq_t *r, const ig_upstream_resp_t *resp, ig_blob_t *body) {
    gw_answer(r, resp->status, resp->content_type ? resp->content_type : IG_JSON_CTYPE, body, -1);
}

/* Uncached pass-through (formats other than JSON, TTL 0). */
static void on_bypass_done(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info) {
    greq_t *r = arg;
    r->spent = info->spent;
    if (info->refused) r->outcome = "REJECTED";
    if (resp->status == 0) {
        gw_answer_upstream_failure(r, resp);
        return;
    }
    ig_blob_t *body = ig_blob_new(resp->body, resp->body_len);
    if (!body) {
        gw_answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    answer_from_upstream(r, resp, body);
    ig_blob_unref(body);
}

static void bypass(greq_t *r) {
    r->outcome = "BYPASS";
    ig_params_t up = {0};
    int page;
    if (gw_pages_upstream(&r->canon, &up, &page) ||
        gw_call(r->gw, r->ep, r->user, &up, on_bypass_done, r) != IG_OK)
        gw_answer_error(r, 500, "irisgate is out of memory.");
    ig_params_free(&up);
}

static flight_t **flight_slot(ig_gateway_t *g, const char *key, size_t len, uint64_t h) {
    flight_t **pp = &g->flights[h & (FLIGHT_BUCKETS - 1)];
    while (*pp && !((*pp)->hash == h && (*pp)->key_len == len && !memcmp((*pp)->key, key, len)))
        pp = &(*pp)->next;
    return pp;
}

/* Where the client asked: a `next` URL irisgate rebuilds points there. */
static pages_origin_t origin_of(const greq_t *r) {
    const char *host = ig_http_header(r->req, "host");
    return (pages_origin_t){.ep = r->ep, .tls = r->req->tls, .host = host && *host ? host
                                                                              : "localhost"};
}

static void on_fetch_done(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info) {
    flight_t *f = arg;
    ig_gateway_t *g = f->gw;
    f->info.spent += info->spent;
    f->info.queued |= info->queued;
    f->info.refused |= info->refused;
    if (resp->status == 400 && f->page >= 2 && !f->rewalked && !g->closing) {
        /* The vendor refused the cursor behind irisgate's token (it outlived it): walk the
         * pivot again up to this page, so the token stays good while its page is cached. */
        f->rewalked = true;
        pages_origin_t o = origin_of(f->initiator);
        ig_log("upstream: %s refused the cursor of page %d; walking the pivot again",
               ig_endpoint_name(f->ep), f->page);
        if (gw_pages_walk(g, f->ep, f->initiator->user, &f->initiator->canon, f->page, &o,
                          on_fetch_done, f) == IG_OK)
            return;
    }
    *flight_slot(g, f->key, f->key_len, f->hash) = f->next;
    greq_t *w = f->waiters;
    f->initiator->spent = f->info.spent;
    if (f->info.refused)
        f->initiator->outcome = "REJECTED";
    else if (f->info.queued)
        f->initiator->outcome = "QUEUED";
    if (resp->status == 0)
        ig_log("upstream: %s for %s", resp->error ? resp->error : "no answer",
               ig_endpoint_name(f->ep));
    if (resp->status == 0 || resp->status >= 500) {
        /* Down, failing or timed out: a stale copy young enough beats an error. */
        const ig_hot_entry_t *e = ig_hotcache_get(g->hot, f->key, f->key_len);
        ig_blob_t *old = e && ig_now() - e->fetched_at < g->cfg->max_stale ? ig_blob_ref(e->body)
                                                                             : NULL;
        int64_t old_at = e ? e->fetched_at : 0;
        char ctype[128];
        snprintf(ctype, sizeof(ctype), "%s", e ? e->content_type : IG_JSON_CTYPE);
        for (; old && w; w = f->waiters) {
            f->waiters = w->next_waiter;
            w->outcome = "STALE";
            gw_answer(w, 200, ctype, old, ig_now() - old_at);
        }
        ig_blob_unref(old);
    }
    if (resp->status == 0) {
        while (w) {
            greq_t *next = w->next_waiter;
            gw_answer_upstream_failure(w, resp);
            w = next;
        }
    } else {
        ig_blob_t *body = ig_blob_new(resp->body, resp->body_len);
        const char *ctype = resp->content_type ? resp->content_type : IG_JSON_CTYPE;
        bool data = body && gw_is_data(resp->status, ctype, resp->body, resp->body_len);
        int64_t now = ig_now();
        if (data) { /* the vendor's cursor never leaves irisgate: its own token does */
            pages_origin_t o = origin_of(f->initiator);
            ig_blob_t *minted = gw_pages_rewrite(body, f->page, &f->initiator->canon, &o);
            ig_blob_unref(body);
            body = minted;
        }
        /* In memory first (so a gzip answer below can keep its variant beside it), the
         * answers out, and only then the copies for the store and the intel tables. */
        if (data) ig_hotcache_put(g->hot, f->key, f->key_len, ctype, now, body);
        bool learn = data && !gw_shapes_results(&f->initiator->canon);
        while (w) {
            greq_t *next = w->next_waiter;
            if (body)
                answer_from_upstream(w, resp, body);
            else
                gw_answer_error(w, 500, "irisgate is out of memory.");
            w = next;
        }
        if (data) gw_keep(g, f->key, f->key_len, f->ep, ctype, now, body, learn);
        ig_blob_unref(body);
    }
    free(f->key);
    free(f);
}

/* Joins the fetch of r's key in flight, or starts it. */
static void fetch(greq_t *r) {
    ig_gateway_t *g = r->gw;
    if (g->closing) {
        gw_answer_error(r, 503, "irisgate is shutting down.");
        return;
    }
    uint64_t h = ig_hash64(r->key.data, r->key.len);
    flight_t **slot = flight_slot(g, r->key.data, r->key.len, h);
    if (*slot) {
        r->outcome = "COALESCED";
        r->next_waiter = (*slot)->waiters;
        (*slot)->waiters = r;
        return;
    }
    flight_t *f = calloc(1, sizeof(*f));
    char *k = f ? malloc(r->key.len + 1) : NULL;
    if (!k) {
        free(f);
        gw_answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    memcpy(k, r->key.data, r->key.len + 1);
    *f = (flight_t){.key = k, .key_len = r->key.len, .hash = h, .gw = g, .ep = r->ep,
                    .waiters = r, .initiator = r, .next = NULL};
    r->outcome = "MISS";
    ig_params_t up = {0};
    int rc = gw_pages_upstream(&r->canon, &up, &f->page);
    *slot = f; /* before the call: its answer may come at once (a refusal) */
    if (rc || gw_call(g, r->ep, r->user, &up, on_fetch_done, f) != IG_OK) {
        *flight_slot(g, k, f->key_len, h) = f->next;
        free(k);
        free(f);
        gw_answer_error(r, 500, "irisgate is out of memory.");
    }
    ig_params_free(&up);
}

/* ---- cache lookups -------------------------------------------------------------------- */

bool gw_fresh(const ig_gateway_t *g, ig_endpoint_t ep, int64_t fetched_at) {
    return ig_now() - fetched_at < gw_ttl(g, ep);
}

static bool answer_from_hot(greq_t *r) {
    ig_gateway_t *g = r->gw;
    const ig_hot_entry_t *e = ig_hotcache_get(g->hot, r->key.data, r->key.len);
    if (!e || !gw_fresh(g, r->ep, e->fetched_at)) return false;
    r->outcome = "HIT";
    /* A gzip hit sends the variant made when the answer was first asked for compressed. */
    if (e->gz_state == IG_GZ_READY && ig_gzip_accepted(ig_http_header(r->req, "accept-encoding")))
        send_answer(r, 200, e->content_type, e->gz, true, ig_now() - e->fetched_at);
    else
        gw_answer(r, 200, e->content_type, e->body, ig_now() - e->fetched_at);
    return true;
}

static void on_store_lookup(void *arg, int rc, ig_cached_t *c) {
    greq_t *r = arg;
    ig_gateway_t *g = r->gw;
    if (rc == IG_OK && c && c->status == 200 && !gw_fresh(g, r->ep, c->fetched_at) &&
        ig_now() - c->fetched_at < g->cfg->max_stale && !g->closing) {
        /* Stale: kept in memory in case the upstream fails (the fetch below replaces it). */
        ig_blob_t *body = ig_blob_new(c->body, c->body_len);
        if (body)
            ig_hotcache_put(g->hot, r->key.data, r->key.len,
                            c->content_type ? c->content_type : IG_JSON_CTYPE, c->fetched_at, body);
        ig_blob_unref(body);
    }
    if (rc == IG_OK && c && c->status == 200 && gw_fresh(g, r->ep, c->fetched_at) && !g->closing) {
        ig_blob_t *body = ig_blob_new(c->body, c->body_len);
        if (body) {
            const char *ctype = c->content_type ? c->content_type : IG_JSON_CTYPE;
            ig_hotcache_put(g->hot, r->key.data, r->key.len, ctype, c->fetched_at, body);
            r->outcome = "HIT";
            gw_answer(r, 200, ctype, body, ig_now() - c->fetched_at);
            ig_blob_unref(body);
            ig_cached_free(c);
            return;
        }
    }
    if (c) ig_cached_free(c);
    /* A fetch of the same key may have finished while the store was being read. */
    if (!g->closing && answer_from_hot(r)) return;
    fetch(r);
}

static void lookup(greq_t *r) {
    ig_gateway_t *g = r->gw;
    if (!r->no_cache) {
        if (answer_from_hot(r)) return;
        if (gw_domains_try(r)) return;
        /* Not in memory (or stale there): the store may hold a fresher copy. Skip the read
         * when a fetch of this key is already under way: the request will join it. */
        uint64_t h = ig_hash64(r->key.data, r->key.len);
        if (!*flight_slot(g, r->key.data, r->key.len, h) &&
            ig_store_get_response_async(g->store, g->loop, r->key.data, on_store_lookup, r) ==
                IG_OK)
            return;
    }
    fetch(r);
}

/* ---- what irisgate answers itself -------------------------------------------------------- */

/* /v1/account: the caller's own products, limits and spend, in the vendor's shape (and any
 * of its formats), so a client pacing itself by it (the official SDK does) follows
 * irisgate's rules. Never the vendor's: that would show the shared account to every user. */
static void answer_account(greq_t *r, const char *fmt) {
    ig_format_t f;
    if (ig_format_parse(fmt, &f) != IG_OK) {
        gw_answer_error(r, 400, IG_MSG_MALFORMED);
        return;
    }
    ig_buf_t b = {0}, page = {0};
    int rc = ig_quota_account_json(r->gw->quota, r->user, ig_now_ms(), &b);
    if (!rc && f != IG_FMT_JSON) rc = ig_format_render(f, b.data, b.len, &page);
    const ig_buf_t *out = f == IG_FMT_JSON ? &b : &page;
    ig_blob_t *body = rc == IG_OK ? ig_blob_new(out->data, out->len) : NULL;
    ig_buf_free(&b);
    ig_buf_free(&page);
    if (!body) {
        gw_answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    r->outcome = "HIT";
    gw_answer(r, 200, ig_format_ctype(f, IG_JSON_CTYPE), body, -1);
    ig_blob_unref(body);
}

/* /metrics, for the loopback or the admin token (Authorization: Bearer TOKEN). */
static void answer_metrics(greq_t *r) {
    ig_gateway_t *g = r->gw;
    if (!ig_metrics_admin(r->req->peer, ig_http_header(r->req, "authorization"),
                          g->secrets->admin_token)) {
        gw_answer_error(r, 403, IG_MSG_BAD_CREDENTIALS);
        return;
    }
    ig_hotcache_stats_t hs;
    ig_hotcache_stats(g->hot, &hs);
    static const ig_endpoint_t products[] = {IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT};
    ig_metrics_queue_t queues[3];
    for (size_t i = 0; i < 3; i++) {
        ig_limiter_stats_t ls = {0};
        if (g->limiter) ig_limiter_stats(g->limiter, products[i], &ls);
        queues[i] = (ig_metrics_queue_t){ig_endpoint_name(products[i]), (int64_t)ls.queued};
    }
    ig_metrics_gauges_t gauges = {.cache_entries = (int64_t)hs.entries,
                                  .cache_bytes = (int64_t)hs.bytes,
                                  .queues = queues,
                                  .nqueues = 3};
    ig_buf_t b = {0};
    ig_blob_t *body = ig_metrics_render(g->metrics, &gauges, &b) == IG_OK
                          ? ig_blob_new(b.data ? b.data : "", b.len)
                          : NULL;
    ig_buf_free(&b);
    if (!body) {
        gw_answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    r->outcome = "HIT";
    ig_http_respond(r->req, 200, "Content-Type: " IG_METRICS_CONTENT_TYPE "\r\n",
                    sizeof("Content-Type: " IG_METRICS_CONTENT_TYPE "\r\n") - 1, body->data,
                    body->len, ig_blob_unref, body);
    gw_greq_free(r);
}

/* ---- the handler ---------------------------------------------------------------------- */

static bool header_has_token(const char *v, const char *token) {
    if (!v) return false;
    size_t n = strlen(token);
    for (const char *p = v; (p = strcasestr(p, token)) != NULL; p += n) {
        char before = p == v ? ',' : p[-1], after = p[n];
        if ((before == ',' || before == ' ') && (after == '\0' || after == ',' || after == ' '))
            return true;
    }
    return false;
}

static bool is_form(const ig_http_req_t *req) {
    const char *ct = ig_http_header(req, "content-type");
    return !ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

void ig_gateway_handle(void *ctx, ig_http_req_t *req) {
    ig_gateway_t *g = ctx;
    greq_t *r = calloc(1, sizeof(*r));
    if (!r) {
        ig_http_respond_error(req, 500, "irisgate is out of memory.");
        return;
    }
    r->gw = g;
    r->req = req;
    r->ep = ig_endpoint_from_path(req->path, req->path_len);
    if (r->ep == IG_EP_UNKNOWN && req->path_len == 8 && memcmp(req->path, "/metrics", 8) == 0) {
        answer_metrics(r);
        return;
    }
    bool other = r->ep == IG_EP_UNKNOWN && other_product(req->path, req->path_len);
    if (r->ep == IG_EP_UNKNOWN && !other) {
        gw_answer_error(r, 404, MSG_NOT_FOUND);
        return;
    }
    if (!other && req->method != HTTP_GET && req->method != HTTP_POST && req->method != HTTP_HEAD) {
        gw_answer_error(r, 405, "Use GET or POST.");
        return;
    }
    ig_params_t params = {0};
    int rc = ig_params_parse(&params, req->query, req->query_len);
    if (!rc && req->method == HTTP_POST && req->body_len && is_form(req))
        rc = ig_params_parse(&params, req->body, req->body_len);
    if (rc) {
        ig_params_free(&params);
        gw_answer_error(r, 400, IG_MSG_MALFORMED);
        return;
    }
    ig_auth_creds_t creds;
    rc = ig_auth_extract(&params, ig_http_header(req, "x-api-key"),
                         ig_http_header(req, "authorization"), &creds);
    if (!rc)
        rc = ig_auth_check(&creds, req->path, ig_now(), (int)g->cfg->hmac_skew,
                           ig_secrets_user_key, (void *)g->secrets);
    if (rc) {
        ig_params_free(&params);
        gw_answer_error(r, 403, IG_MSG_BAD_CREDENTIALS);
        return;
    }
    snprintf(r->user, sizeof(r->user), "%s", creds.username);
    if (other) {
        ig_params_free(&params);
        gw_answer_error(r, 403, IG_MSG_NOT_AUTHORIZED);
        return;
    }
    rc = ig_canon_params(&params, &r->canon);
    ig_params_free(&params);
    if (!rc) rc = ig_canon_key(r->ep, &r->canon, &r->key);
    if (rc) {
        gw_answer_error(r, rc == IG_ENOMEM ? 500 : 400, IG_MSG_MALFORMED);
        return;
    }
    const char *fmt = ig_params_get(&r->canon, "format");
    if (r->ep == IG_EP_ACCOUNT) {
        answer_account(r, fmt);
        return;
    }
    if ((fmt && strcmp(fmt, "json") != 0) || gw_ttl(g, r->ep) <= 0) {
        bypass(r);
        return;
    }
    r->no_cache = header_has_token(ig_http_header(req, "cache-control"), "no-cache") ||
                  header_has_token(ig_http_header(req, "pragma"), "no-cache");
    lookup(r);
}

/* ---- life cycle ----------------------------------------------------------------------- */

/* ---- the quota rules' state ------------------------------------------------------------ */

static const ig_endpoint_t PRODUCTS[] = {IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT};
#define NPRODUCTS (sizeof(PRODUCTS) / sizeof(PRODUCTS[0]))
#define AUDIT_FLUSH_MS 100

/* The shared limits: what the upstream's /v1/account says (learned may be NULL), with the
 * keys the config's upstream_limit_* set on top. */
static void apply_upstream_limits(ig_gateway_t *g, const ig_limits_t *learned) {
    for (size_t i = 0; i < NPRODUCTS; i++) {
        ig_endpoint_t p = PRODUCTS[i];
        ig_limits_t lim = learned ? learned[p] : (ig_limits_t){0};
        ig_limit_spec_apply(&g->cfg->upstream_limit[p], &lim);
        ig_limiter_set(g->limiter, p, &lim);
        ig_quota_set_upstream(g->quota, p, &lim);
    }
}

static void on_account(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info) {
    ig_gateway_t *g = arg;
    /* irisgate's own query is spent like any other: recorded (under a name no proxy user
     * can have), so a restart counts it. */
    ig_request_row_t row = {.at_ms = ig_now_ms(), .user = IG_SELF_USER, .endpoint = "account",
                            .key = "account", .outcome = info->refused ? "REJECTED" : "BYPASS",
                            .upstream_queries = info->spent, .status = resp->status};
    if (info->spent) ig_store_log_requests(g->store, &row, 1);
    ig_limits_t lim[IG_EP_COUNT];
    int64_t used[IG_EP_COUNT];
    if (resp->status == 200 && ig_limits_from_account(resp->body, resp->body_len, lim) == IG_OK) {
        apply_upstream_limits(g, lim);
        /* What the account spent elsewhere (the Iris UI, other tools) counts too. */
        if (ig_usage_from_account(resp->body, resp->body_len, used) == IG_OK)
            for (size_t i = 0; i < NPRODUCTS; i++)
                ig_limiter_floor_month(g->limiter, PRODUCTS[i], used[PRODUCTS[i]]);
        ig_log("upstream limits: investigate %lld/min %lld/h %lld/month, enrich %lld/min "
               "%lld/h %lld/month (0: none)",
               (long long)lim[IG_EP_INVESTIGATE].minute, (long long)lim[IG_EP_INVESTIGATE].hour,
               (long long)lim[IG_EP_INVESTIGATE].month, (long long)lim[IG_EP_ENRICH].minute,
               (long long)lim[IG_EP_ENRICH].hour, (long long)lim[IG_EP_ENRICH].month);
    } else if (!g->closing) {
        ig_log("upstream: could not read the account's limits (status %d); keeping the "
               "configured ones",
               resp->status);
    }
}

static void on_account_timer(uv_timer_t *t) {
    ig_gateway_t *g = t->data;
    ig_params_t none = {0};
    if (!g->closing) gw_call(g, IG_EP_ACCOUNT, "", &none, on_account, g);
}

static void on_timer_closed(uv_handle_t *h) {
    free(h);
}

static uv_timer_t *start_timer(ig_gateway_t *g, uv_timer_cb cb, uint64_t first, uint64_t every) {
    uv_timer_t *t = malloc(sizeof(*t));
    if (!t || uv_timer_init(g->loop, t) != 0) {
        free(t);
        return NULL;
    }
    t->data = g;
    uv_timer_start(t, cb, first, every);
    uv_unref((uv_handle_t *)t); /* never keeps the loop alive on its own */
    return t;
}

static void stop_timer(uv_timer_t **t) {
    if (!*t) return;
    uv_timer_stop(*t);
    uv_close((uv_handle_t *)*t, on_timer_closed);
    *t = NULL;
}

/* What was spent before this start (the requests table): the month is not forgotten. */
static void preload_usage(ig_gateway_t *g) {
    ig_usage_t *u = NULL;
    size_t n = 0;
    int64_t now_ms = ig_now_ms();
    if (ig_store_usage(g->store, now_ms, &u, &n) != IG_OK) {
        ig_log("store: could not read past usage; limits start from zero");
        return;
    }
    for (size_t i = 0; i < NPRODUCTS; i++) {
        ig_endpoint_t p = PRODUCTS[i];
        int64_t month = 0, total = 0;
        size_t nrecent = 0;
        for (size_t j = 0; j < n; j++)
            if (strcmp(u[j].endpoint, ig_endpoint_name(p)) == 0) nrecent += u[j].nrecent;
        int64_t *recent = calloc(nrecent ? nrecent : 1, sizeof(*recent));
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(u[j].endpoint, ig_endpoint_name(p)) != 0) continue;
            month += u[j].month;
            total += u[j].total;
            for (size_t m = 0; recent && m < u[j].nrecent; m++)
                recent[k++] = u[j].recent_ms[m];
            if (u[j].user[0] && strcmp(u[j].user, IG_SELF_USER) != 0)
                ig_quota_preload(g->quota, u[j].user, p, now_ms, u[j].month, u[j].today,
                                 u[j].recent_ms, u[j].nrecent);
        }
        ig_limiter_preload(g->limiter, p, month, total, recent, recent ? k : 0);
        free(recent);
    }
    ig_usage_free(u, n);
}

static int setup_quota(ig_gateway_t *g) {
    if (ig_limiter_new(g->loop, &g->limiter) || ig_quota_new(&g->quota) ||
        !(g->metrics = ig_metrics_new()))
        return IG_ENOMEM;
    for (size_t i = 0; i < NPRODUCTS; i++)
        ig_quota_set_default(g->quota, PRODUCTS[i], &g->cfg->user_limit[PRODUCTS[i]]);
    for (size_t u = 0; u < g->secrets->nusers; u++)
        for (size_t i = 0; i < NPRODUCTS; i++)
            if (g->secrets->users[u].limits[PRODUCTS[i]].set &&
                ig_quota_set_user(g->quota, g->secrets->users[u].name, PRODUCTS[i],
                                  &g->secrets->users[u].limits[PRODUCTS[i]]))
                return IG_ENOMEM;
    apply_upstream_limits(g, NULL);
    preload_usage(g);
    g->audit_timer = start_timer(g, on_audit_timer, AUDIT_FLUSH_MS, AUDIT_FLUSH_MS);
    /* account_refresh 0: read at start only (a timer that does not repeat). */
    uint64_t every = g->cfg->account_refresh > 0 ? (uint64_t)g->cfg->account_refresh * 1000 : 0;
    g->account_timer = start_timer(g, on_account_timer, 0, every);
    return g->audit_timer && g->account_timer ? IG_OK : IG_ENOMEM;
}

int ig_gateway_new(uv_loop_t *loop, const ig_config_t *cfg, const ig_secrets_t *secrets,
                   const char *upstream_user, const char *upstream_key, ig_store_t *store,
                   ig_gateway_t **out, char *err, size_t errlen) {
    ig_gateway_t *g = calloc(1, sizeof(*g));
    if (!g) return IG_ENOMEM;
    g->loop = loop;
    g->cfg = cfg;
    g->secrets = secrets;
    g->store = store;
    g->up_user = strdup(upstream_user);
    g->up_key = strdup(upstream_key);
    g->hot = ig_hotcache_new((size_t)cfg->cache_memory);
    ig_upstream_opts_t uo = {.base_url = cfg->upstream,
                             .timeout_ms = (long)cfg->upstream_timeout * 1000,
                             .ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL};
    int rc = (!g->up_user || !g->up_key || !g->hot) ? IG_ENOMEM
                                                    : ig_upstream_new(loop, &uo, &g->up);
    if (rc) {
        snprintf(err, errlen, "cannot start the upstream client for %s", cfg->upstream);
        ig_gateway_free(g);
        return rc;
    }
    if ((rc = setup_quota(g)) != IG_OK) {
        snprintf(err, errlen, "cannot set up the quota rules: out of memory");
        ig_gateway_free(g);
        return rc;
    }
    *out = g;
    return IG_OK;
}

void ig_gateway_shutdown(ig_gateway_t *g) {
    if (!g || g->closing) return;
    g->closing = true;
    stop_timer(&g->account_timer);
    /* Refuses the queued and cooling-off calls, then fails every transfer in flight: their
     * waiters are answered (into the void when their clients are gone) before the HTTP
     * server closes the connections. */
    if (g->limiter) ig_limiter_free(g->limiter);
    g->limiter = NULL;
    gw_admit_shutdown(g);
    if (g->up) ig_upstream_free(g->up);
    g->up = NULL;
}

void ig_gateway_free(ig_gateway_t *g) {
    if (!g) return;
    ig_gateway_shutdown(g);
    audit_flush(g);
    stop_timer(&g->audit_timer);
    free(g->audit);
    ig_quota_free(g->quota);
    ig_metrics_free(g->metrics);
    ig_hotcache_free(g->hot);
    if (g->up_key) memset(g->up_key, 0, strlen(g->up_key));
    free(g->up_key);
    free(g->up_user);
    free(g);
}
