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
 */
#include "irisgate/gateway.h"
#include "irisgate/auth.h"
#include "irisgate/canon.h"
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

#define FLIGHT_BUCKETS 1024

typedef struct greq greq_t;

typedef struct flight {
    char *key;
    size_t key_len;
    uint64_t hash;
    ig_gateway_t *gw;
    ig_endpoint_t ep;
    greq_t *waiters;
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
    flight_t *flights[FLIGHT_BUCKETS];
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
    greq_t *next_waiter;
};

static const char *const MSG_NOT_FOUND = "The requested URL was not found on this server.";

/* ---- answering ------------------------------------------------------------------------ */

static void greq_free(greq_t *r) {
    ig_params_free(&r->canon);
    ig_buf_free(&r->key);
    free(r);
}

static void log_request(greq_t *r, int status, size_t bytes) {
    const ig_http_req_t *q = r->req;
    uint64_t us = (ig_mono_ns() - q->start_ns) / 1000;
    int klen = r->key.len > 300 ? 300 : (int)r->key.len;
    ig_log("%s %s %s %s %s %d %llu.%02llums %zuB \"%.*s%s\"", q->peer, r->user[0] ? r->user : "-",
           q->method_str, ig_endpoint_name(r->ep), r->outcome ? r->outcome : "-", status,
           (unsigned long long)(us / 1000), (unsigned long long)(us % 1000 / 10),
           bytes, klen, r->key.data ? r->key.data : "", r->key.len > 300 ? "..." : "");
}

/* Sends body (a reference is taken) with the cache headers, logs, frees r. */
static void answer(greq_t *r, int status, const char *ctype, ig_blob_t *body, int64_t age) {
    char head[512];
    int n;
    if (age >= 0)
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\nX-Cache: %s\r\nAge: %lld\r\n",
                     ctype, r->outcome, (long long)age);
    else
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\nX-Cache: %s\r\n", ctype,
                     r->outcome);
    if (n < 0 || (size_t)n >= sizeof(head)) n = 0;
    log_request(r, status, body->len);
    ig_http_respond(r->req, status, head, (size_t)n, body->data, body->len, ig_blob_unref,
                    ig_blob_ref(body));
    greq_free(r);
}

static void answer_error(greq_t *r, int status, const char *message) {
    ig_buf_t b = {0};
    ig_vendor_error(&b, status, message);
    log_request(r, status, b.len);
    ig_http_respond_copy(r->req, status, IG_JSON_CTYPE, b.data, b.len);
    ig_buf_free(&b);
    greq_free(r);
}

/* ---- what may be kept ----------------------------------------------------------------- */

static int64_t ttl_of(const ig_gateway_t *g, ig_endpoint_t ep) {
    if (ep == IG_EP_INVESTIGATE) return g->cfg->ttl_investigate;
    if (ep == IG_EP_ENRICH) return g->cfg->ttl_enrich;
    return 0;
}

/* An answer is data when it is a 200 JSON envelope {"response": ...} that is not a
 * limit_exceeded answer. A byte scan, not a parse: this runs on the loop for every miss. */
static bool is_data(int status, const char *ctype, const char *body, size_t len) {
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

static void keep(ig_gateway_t *g, const char *key, size_t key_len, ig_endpoint_t ep,
                 const char *ctype, int64_t fetched_at, ig_blob_t *body) {
    ig_hotcache_put(g->hot, key, key_len, ctype, fetched_at, body);
    ig_cached_t c = {.key = (char *)key,
                     .endpoint = (char *)ig_endpoint_name(ep),
                     .status = 200,
                     .content_type = (char *)ctype,
                     .body = body->data,
                     .body_len = body->len,
                     .fetched_at = fetched_at,
                     .expires_at = fetched_at + ttl_of(g, ep)};
    if (ig_store_put_response(g->store, &c) != IG_OK)
        ig_log("store: could not queue the answer for %.*s", (int)(key_len > 200 ? 200 : key_len),
               key);
    /* Normalized on the writer thread; the client's answer never waits for it. */
    if (ig_store_ingest(g->store, c.endpoint, body->data, body->len, fetched_at) != IG_OK)
        ig_log("store: could not queue the %s answer for the intel tables", c.endpoint);
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

static int send_upstream(ig_gateway_t *g, ig_endpoint_t ep, const ig_params_t *canon,
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

static void answer_upstream_failure(greq_t *r, const ig_upstream_resp_t *resp) {
    char msg[300];
    bool timeout = resp->error && strcasestr(resp->error, "timeout");
    snprintf(msg, sizeof(msg), "irisgate could not get an answer from the Iris API: %s",
             resp->error ? resp->error : "no answer");
    answer_error(r, timeout ? 504 : 502, msg);
}

static void answer_from_upstream(greq_t *r, const ig_upstream_resp_t *resp, ig_blob_t *body) {
    answer(r, resp->status, resp->content_type ? resp->content_type : IG_JSON_CTYPE, body, -1);
}

/* Uncached pass-through (the account, formats other than JSON, TTL 0). */
static void on_bypass_done(void *arg, const ig_upstream_resp_t *resp) {
    greq_t *r = arg;
    if (resp->status == 0) {
        answer_upstream_failure(r, resp);
        return;
    }
    ig_blob_t *body = ig_blob_new(resp->body, resp->body_len);
    if (!body) {
        answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    answer_from_upstream(r, resp, body);
    ig_blob_unref(body);
}

static void bypass(greq_t *r) {
    r->outcome = "BYPASS";
    if (send_upstream(r->gw, r->ep, &r->canon, on_bypass_done, r) != IG_OK)
        answer_error(r, 500, "irisgate could not start the upstream request.");
}

static flight_t **flight_slot(ig_gateway_t *g, const char *key, size_t len, uint64_t h) {
    flight_t **pp = &g->flights[h & (FLIGHT_BUCKETS - 1)];
    while (*pp && !((*pp)->hash == h && (*pp)->key_len == len && !memcmp((*pp)->key, key, len)))
        pp = &(*pp)->next;
    return pp;
}

static void on_fetch_done(void *arg, const ig_upstream_resp_t *resp) {
    flight_t *f = arg;
    ig_gateway_t *g = f->gw;
    *flight_slot(g, f->key, f->key_len, f->hash) = f->next;
    greq_t *w = f->waiters;
    if (resp->status == 0) {
        ig_log("upstream: %s for %s", resp->error ? resp->error : "no answer",
               ig_endpoint_name(f->ep));
        while (w) {
            greq_t *next = w->next_waiter;
            answer_upstream_failure(w, resp);
            w = next;
        }
    } else {
        ig_blob_t *body = ig_blob_new(resp->body, resp->body_len);
        const char *ctype = resp->content_type ? resp->content_type : IG_JSON_CTYPE;
        if (body && is_data(resp->status, ctype, resp->body, resp->body_len))
            keep(g, f->key, f->key_len, f->ep, ctype, ig_now(), body);
        while (w) {
            greq_t *next = w->next_waiter;
            if (body)
                answer_from_upstream(w, resp, body);
            else
                answer_error(w, 500, "irisgate is out of memory.");
            w = next;
        }
        ig_blob_unref(body);
    }
    free(f->key);
    free(f);
}

/* Joins the fetch of r's key in flight, or starts it. */
static void fetch(greq_t *r) {
    ig_gateway_t *g = r->gw;
    if (g->closing) {
        answer_error(r, 503, "irisgate is shutting down.");
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
        answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    memcpy(k, r->key.data, r->key.len + 1);
    *f = (flight_t){k, r->key.len, h, g, r->ep, r, NULL};
    r->outcome = "MISS";
    if (send_upstream(g, r->ep, &r->canon, on_fetch_done, f) != IG_OK) {
        free(k);
        free(f);
        answer_error(r, 500, "irisgate could not start the upstream request.");
        return;
    }
    *slot = f;
}

/* ---- cache lookups -------------------------------------------------------------------- */

static bool fresh(const ig_gateway_t *g, ig_endpoint_t ep, int64_t fetched_at) {
    return ig_now() - fetched_at < ttl_of(g, ep);
}

static bool answer_from_hot(greq_t *r) {
    ig_gateway_t *g = r->gw;
    const ig_hot_entry_t *e = ig_hotcache_get(g->hot, r->key.data, r->key.len);
    if (!e || !fresh(g, r->ep, e->fetched_at)) return false;
    r->outcome = "HIT";
    answer(r, 200, e->content_type, e->body, ig_now() - e->fetched_at);
    return true;
}

static void on_store_lookup(void *arg, int rc, ig_cached_t *c) {
    greq_t *r = arg;
    ig_gateway_t *g = r->gw;
    if (rc == IG_OK && c && c->status == 200 && fresh(g, r->ep, c->fetched_at) && !g->closing) {
        ig_blob_t *body = ig_blob_new(c->body, c->body_len);
        if (body) {
            const char *ctype = c->content_type ? c->content_type : IG_JSON_CTYPE;
            ig_hotcache_put(g->hot, r->key.data, r->key.len, ctype, c->fetched_at, body);
            r->outcome = "HIT";
            answer(r, 200, ctype, body, ig_now() - c->fetched_at);
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
    if (r->ep == IG_EP_UNKNOWN) {
        answer_error(r, 404, MSG_NOT_FOUND);
        return;
    }
    if (req->method != HTTP_GET && req->method != HTTP_POST && req->method != HTTP_HEAD) {
        answer_error(r, 405, "Use GET or POST.");
        return;
    }
    ig_params_t params = {0};
    int rc = ig_params_parse(&params, req->query, req->query_len);
    if (!rc && req->method == HTTP_POST && req->body_len && is_form(req))
        rc = ig_params_parse(&params, req->body, req->body_len);
    if (rc) {
        ig_params_free(&params);
        answer_error(r, 400, IG_MSG_MALFORMED);
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
        answer_error(r, 403, IG_MSG_BAD_CREDENTIALS);
        return;
    }
    snprintf(r->user, sizeof(r->user), "%s", creds.username);
    rc = ig_canon_params(&params, &r->canon);
    ig_params_free(&params);
    if (!rc) rc = ig_canon_key(r->ep, &r->canon, &r->key);
    if (rc) {
        answer_error(r, rc == IG_ENOMEM ? 500 : 400, IG_MSG_MALFORMED);
        return;
    }
    const char *fmt = ig_params_get(&r->canon, "format");
    if (r->ep == IG_EP_ACCOUNT || (fmt && strcmp(fmt, "json") != 0) || ttl_of(g, r->ep) <= 0) {
        bypass(r);
        return;
    }
    r->no_cache = header_has_token(ig_http_header(req, "cache-control"), "no-cache") ||
                  header_has_token(ig_http_header(req, "pragma"), "no-cache");
    lookup(r);
}

/* ---- life cycle ----------------------------------------------------------------------- */

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
    *out = g;
    return IG_OK;
}

void ig_gateway_shutdown(ig_gateway_t *g) {
    if (!g || g->closing) return;
    g->closing = true;
    /* Fails every transfer in flight: their waiters are answered (into the void when their
     * clients are gone) before the HTTP server closes the connections. */
    if (g->up) ig_upstream_free(g->up);
    g->up = NULL;
}

void ig_gateway_free(ig_gateway_t *g) {
    if (!g) return;
    ig_gateway_shutdown(g);
    ig_hotcache_free(g->hot);
    if (g->up_key) memset(g->up_key, 0, strlen(g->up_key));
    free(g->up_key);
    free(g->up_user);
    free(g);
}
