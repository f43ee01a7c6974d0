/* gw_domains.c — Investigate and Enrich questions that are only a domain list, answered
 * domain by domain, on the loop thread:
 *
 *   each domain: per-domain memory (fresh) → the store's latest result (thread pool)
 *     → a fetch of that domain already in flight (join it) → upstream, the missing
 *     domains batched up to 100 per question → the vendor's envelope assembled in the
 *     order asked.
 *
 * Every result of every data answer (domain lists and pivot pages alike) fills the
 * per-domain memory (gw_domains_learn), so a domain seen anywhere costs nothing while
 * fresh; an Enrich question is answered from a fresh Investigate result with its counts
 * removed (never the reverse). When every domain of a question must be fetched, the
 * upstream question is the client's own and its answer is passed on byte for byte.
 *
 * Owns the per-domain flight table and each list's state (dlist_t), which lives until
 * the client is answered and every fetch or read it waits on has reported. Results are cut
 * out of answers with jscan (no parse on the loop). Never sees a credential.
 */
#include "gateway_int.h"
#include "irisgate/canon.h"
#include "irisgate/jscan.h"
#include "irisgate/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MISSING_CTYPE "x-irisgate/missing" /* a per-domain entry: the vendor has no data */
#define MAX_DOMAIN_LEN 253

typedef struct dlist dlist_t;

typedef struct {
    const char *name; /* into dlist_t.names */
    size_t len;
    ig_blob_t *json;  /* the result object, or NULL */
    bool strip;       /* an Investigate result answering Enrich: remove the counts */
    bool missing;     /* the vendor has no data for it */
    bool done;
    bool fetched;     /* came from upstream for this list */
    bool joined;      /* came from another question's fetch */
    bool stale;
    int64_t fetched_at;
    ig_blob_t *old;   /* a stale result, kept in case the upstream fails */
    bool old_strip;
    int64_t old_at;
} dpart_t;

struct dlist {
    ig_gateway_t *g;
    greq_t *r; /* NULL once answered */
    ig_endpoint_t ep;
    char *names;
    dpart_t *parts;
    size_t n;
    size_t pending; /* parts not done */
    size_t refs;    /* waiters, reads and the setup in progress */
    const void *whole; /* the batch asking exactly this question, if any */
    char user[72];     /* who asked (for the quota rules) */
    int spent;         /* upstream queries sent for this list */
    bool queued, refused;
    /* the first upstream failure a part met */
    bool failed;
    int fail_status; /* 0: no answer */
    bool fail_timed_out;
    char *fail_ctype;
    char fail_error[200];
    ig_blob_t *fail_body;
};

typedef struct dwaiter {
    dlist_t *dl;
    size_t idx;
    struct dwaiter *next;
} dwaiter_t;

struct dflight {
    char *key;
    size_t key_len;
    uint64_t hash;
    dwaiter_t *waiters;
    dflight_t *next;
};

typedef struct {
    ig_gateway_t *g;
    ig_endpoint_t ep;
    ig_buf_t list; /* the domains asked, comma-separated */
    size_t n;
    char **names; /* each domain, in the order asked */
    dlist_t *owner; /* the list that sent it: alive until its parts here are resolved */
    dlist_t *whole;
} dbatch_t;

/* ---- per-domain memory ----------------------------------------------------------------- */

static int dkey(ig_buf_t *out, ig_endpoint_t ep, const char *d, size_t n) {
    ig_buf_reset(out);
    if (ig_buf_puts(out, "d/") || ig_buf_puts(out, ig_endpoint_name(ep)) ||
        ig_buf_putc(out, '/') || ig_buf_append(out, d, n))
        return IG_ENOMEM;
    return IG_OK;
}

static int64_t max_stale(const ig_gateway_t *g) {
    return g->cfg->max_stale;
}

/* The per-domain entry of d: the result b (a reference is taken). */
static void remember_blob(ig_gateway_t *g, ig_endpoint_t ep, const char *d, size_t n,
                          const char *ctype, int64_t at, ig_blob_t *b) {
    ig_buf_t k = {0};
    if (!dkey(&k, ep, d, n)) ig_hotcache_put(g->hot, k.data, k.len, ctype, at, b);
    ig_buf_free(&k);
}

static void remember(ig_gateway_t *g, ig_endpoint_t ep, const char *d, size_t n, const char *ctype,
                     int64_t at, const char *json, size_t len) {
    ig_blob_t *b = ig_blob_new(json, len);
    if (b) remember_blob(g, ep, d, n, ctype, at, b);
    ig_blob_unref(b);
}

/* Lower-cases a plain domain string into buf (MAX_DOMAIN_LEN + 1); false when too long. */
static bool lower(const char *s, size_t n, char *buf) {
    if (!n || n > MAX_DOMAIN_LEN) return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    buf[n] = '\0';
    return true;
}

void gw_domains_learn(ig_gateway_t *g, ig_endpoint_t ep, const char *body, size_t len,
                      int64_t fetched_at) {
    if (ep != IG_EP_INVESTIGATE && ep != IG_EP_ENRICH) return;
    const char *e = body + len, *resp = ig_jscan_member(body, e, "response");
    if (!resp) return;
    ig_jscan_iter_t it;
    const char *v, *s;
    size_t vn, sn;
    char name[MAX_DOMAIN_LEN + 1];
    if (ig_jscan_array(&it, ig_jscan_member(resp, e, "results"), e))
        while (ig_jscan_next(&it, &v, &vn))
            if (*v == '{' && ig_jscan_plain_string(ig_jscan_member(v, v + vn, "domain"), v + vn,
                                                   &s, &sn) &&
                lower(s, sn, name))
                remember(g, ep, name, sn, IG_JSON_CTYPE, fetched_at, v, vn);
    if (ig_jscan_array(&it, ig_jscan_member(resp, e, "missing_domains"), e))
        while (ig_jscan_next(&it, &v, &vn))
            if (ig_jscan_plain_string(v, v + vn, &s, &sn) && lower(s, sn, name))
                remember(g, ep, name, sn, MISSING_CTYPE, fetched_at, "", 0);
}

/* ---- a list's parts -------------------------------------------------------------------- */

static void part_set(dpart_t *p, ig_blob_t *json, bool strip, bool missing, int64_t at) {
    p->json = json ? ig_blob_ref(json) : NULL;
    p->strip = strip;
    p->missing = missing;
    p->fetched_at = at;
    p->done = true;
}

static void part_keep_old(dpart_t *p, ig_blob_t *json, bool strip, int64_t at) {
    if (p->old && p->old_at >= at) return;
    ig_blob_unref(p->old);
    p->old = ig_blob_ref(json);
    p->old_strip = strip;
    p->old_at = at;
}

/* From memory: the entry of ep, or for Enrich a fresh Investigate result. Stale entries
 * young enough are kept aside for an upstream failure. */
static bool part_from_memory(dlist_t *dl, dpart_t *p) {
    ig_gateway_t *g = dl->g;
    ig_buf_t k = {0};
    ig_endpoint_t eps[2] = {dl->ep, IG_EP_INVESTIGATE};
    int neps = dl->ep == IG_EP_ENRICH ? 2 : 1;
    bool found = false;
    for (int i = 0; i < neps && !found; i++) {
        if (dkey(&k, eps[i], p->name, p->len)) break;
        const ig_hot_entry_t *e = ig_hotcache_get(g->hot, k.data, k.len);
        if (!e) continue;
        bool missing = strcmp(e->content_type, MISSING_CTYPE) == 0;
        bool strip = eps[i] != dl->ep;
        if (gw_fresh(g, dl->ep, e->fetched_at)) {
            /* An Investigate "no data" says nothing certain of Enrich: ask. */
            if (missing && strip) continue;
            part_set(p, missing ? NULL : e->body, strip, missing, e->fetched_at);
            found = true;
        } else if (!missing && ig_now() - e->fetched_at < max_stale(g)) {
            part_keep_old(p, e->body, strip, e->fetched_at);
        }
    }
    ig_buf_free(&k);
    return found;
}

/* ---- answering ------------------------------------------------------------------------- */

/* Copies an Investigate result without its guided-pivot counts: every `,"count":N` that
 * closes an object, outside strings, is left out — what Enrich sends for the same data. */
static int strip_counts(ig_buf_t *out, const char *s, size_t n) {
    static const char pat[] = ",\"count\":";
    const size_t plen = sizeof(pat) - 1;
    size_t from = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            continue;
        }
        if (c != ',' || n - i < plen || memcmp(s + i, pat, plen) != 0) continue;
        size_t j = i + plen;
        while (j < n && (s[j] == '-' || s[j] == '+' || s[j] == '.' || s[j] == 'e' ||
                         s[j] == 'E' || (s[j] >= '0' && s[j] <= '9')))
            j++;
        if (j == i + plen || j >= n || s[j] != '}') continue;
        if (ig_buf_append(out, s + from, i - from)) return IG_ENOMEM;
        from = j;
        i = j - 1;
    }
    return ig_buf_append(out, s + from, n - from);
}

static int assemble(const dlist_t *dl, ig_buf_t *out) {
    size_t nres = 0;
    for (size_t i = 0; i < dl->n; i++)
        nres += dl->parts[i].json != NULL;
    bool inv = dl->ep == IG_EP_INVESTIGATE;
    int rc = ig_buf_printf(out,
                           "{\"response\":{\"limit_exceeded\":false,%s\"message\":\"Enjoy your "
                           "data.\",\"results_count\":%zu",
                           inv ? "\"has_more_results\":false," : "", nres);
    if (!rc && inv) rc = ig_buf_printf(out, ",\"total_count\":%zu", nres);
    if (!rc) rc = ig_buf_puts(out, ",\"results\":[");
    bool first = true;
    for (size_t i = 0; i < dl->n && !rc; i++) {
        const dpart_t *p = &dl->parts[i];
        if (!p->json) continue;
        if (!first) rc = ig_buf_putc(out, ',');
        first = false;
        if (!rc)
            rc = p->strip ? strip_counts(out, p->json->data, p->json->len)
                          : ig_buf_append(out, p->json->data, p->json->len);
    }
    if (!rc) rc = ig_buf_puts(out, "],\"missing_domains\":[");
    first = true;
    for (size_t i = 0; i < dl->n && !rc; i++) {
        const dpart_t *p = &dl->parts[i];
        if (p->json) continue;
        if (!first) rc = ig_buf_putc(out, ',');
        first = false;
        if (!rc) rc = ig_buf_json_str(out, p->name, p->len);
    }
    if (!rc) rc = ig_buf_puts(out, "]}}");
    return rc;
}

static void dlist_unref(dlist_t *dl) {
    if (--dl->refs) return;
    for (size_t i = 0; i < dl->n; i++) {
        ig_blob_unref(dl->parts[i].json);
        ig_blob_unref(dl->parts[i].old);
    }
    ig_blob_unref(dl->fail_body);
    free(dl->fail_ctype);
    free(dl->parts);
    free(dl->names);
    free(dl);
}

static void answer_failure(dlist_t *dl) {
    greq_t *r = dl->r;
    dl->r = NULL;
    r->spent = dl->spent;
    r->outcome = dl->refused ? "REJECTED" : "MISS";
    if (dl->fail_status == 0) {
        ig_upstream_resp_t resp = {.status = 0, .error = dl->fail_error,
                                   .timed_out = dl->fail_timed_out};
        gw_answer_upstream_failure(r, &resp);
    } else {
        gw_answer(r, dl->fail_status, dl->fail_ctype ? dl->fail_ctype : IG_JSON_CTYPE,
                  dl->fail_body, -1);
    }
}

/* Every part is known: the assembled envelope, or the failure when a part has nothing. */
static void finish(dlist_t *dl) {
    if (!dl->r) return;
    bool any_cached = false, any_fetched = false, any_joined = false, any_stale = false;
    int64_t oldest = ig_now();
    for (size_t i = 0; i < dl->n; i++) {
        dpart_t *p = &dl->parts[i];
        if (!p->json && !p->missing) {
            if (p->old && dl->failed) { /* the upstream failed: a stale copy will do */
                part_set(p, p->old, p->old_strip, false, p->old_at);
                p->stale = true;
            } else {
                answer_failure(dl);
                return;
            }
        }
        any_stale |= p->stale;
        any_fetched |= p->fetched;
        any_joined |= p->joined;
        any_cached |= !p->fetched && !p->joined && !p->stale;
        if (p->fetched_at < oldest) oldest = p->fetched_at;
    }
    ig_buf_t out = {0};
    ig_blob_t *body = NULL;
    if (assemble(dl, &out) == IG_OK) body = ig_blob_new(out.data, out.len);
    ig_buf_free(&out);
    greq_t *r = dl->r;
    dl->r = NULL;
    if (!body) {
        gw_answer_error(r, 500, "irisgate is out of memory.");
        return;
    }
    r->spent = dl->spent;
    r->outcome = any_stale                     ? "STALE"
                 : dl->queued                  ? "QUEUED"
                 : any_fetched && any_cached   ? "PARTIAL"
                 : any_fetched                 ? "MISS"
                 : any_joined && !any_cached   ? "COALESCED"
                 : any_joined                  ? "PARTIAL"
                                               : "HIT";
    if (!any_stale)
        ig_hotcache_put(dl->g->hot, r->key.data, r->key.len, IG_JSON_CTYPE, oldest, body);
    gw_answer(r, 200, IG_JSON_CTYPE, body, ig_now() - oldest);
    ig_blob_unref(body);
}

static void part_done(dlist_t *dl) {
    if (--dl->pending == 0) finish(dl);
}

/* ---- fetching -------------------------------------------------------------------------- */

static dflight_t **dflight_slot(ig_gateway_t *g, const char *key, size_t len, uint64_t h) {
    dflight_t **pp = &g->dflights[h & (FLIGHT_BUCKETS - 1)];
    while (*pp && !((*pp)->hash == h && (*pp)->key_len == len && !memcmp((*pp)->key, key, len)))
        pp = &(*pp)->next;
    return pp;
}

/* Resolves the flight of one domain: every waiting part gets json (a result), or missing,
 * or, when neither, the batch's failure. */
static void resolve(ig_gateway_t *g, ig_endpoint_t ep, const char *name, ig_blob_t *json,
                    bool missing, int64_t at, const ig_upstream_resp_t *fail, ig_blob_t *fbody) {
    ig_buf_t k = {0};
    if (dkey(&k, ep, name, strlen(name))) {
        ig_buf_free(&k);
        return;
    }
    uint64_t h = ig_hash64(k.data, k.len);
    dflight_t **slot = dflight_slot(g, k.data, k.len, h), *f = *slot;
    ig_buf_free(&k);
    if (!f) return;
    *slot = f->next;
    for (dwaiter_t *w = f->waiters, *next; w; w = next) {
        next = w->next;
        dlist_t *dl = w->dl;
        dpart_t *p = &dl->parts[w->idx];
        if (json || missing) {
            part_set(p, json, false, missing, at);
        } else {
            p->done = true;
            if (!dl->failed) {
                dl->failed = true;
                dl->fail_status = fail->status;
                dl->fail_timed_out = fail->timed_out;
                snprintf(dl->fail_error, sizeof(dl->fail_error), "%s",
                         fail->error ? fail->error : "no answer");
                if (fail->content_type) dl->fail_ctype = strdup(fail->content_type);
                if (fbody) dl->fail_body = ig_blob_ref(fbody);
            }
        }
        part_done(dl);
        dlist_unref(dl);
        free(w);
    }
    free(f->key);
    free(f);
}

static void batch_free(dbatch_t *b) {
    for (size_t i = 0; b->names && i < b->n; i++)
        free(b->names[i]);
    free(b->names);
    ig_buf_free(&b->list);
    free(b);
}

/* The canonical key of a batch's question, for keeping its answer like any other. */
static int batch_key(const dbatch_t *b, ig_buf_t *key) {
    ig_params_t p = {0};
    int rc = ig_params_add(&p, "domain", b->list.data, b->list.len);
    if (!rc) rc = ig_canon_key(b->ep, &p, key);
    ig_params_free(&p);
    return rc;
}

static void on_batch_done(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info) {
    dbatch_t *b = arg;
    ig_gateway_t *g = b->g;
    b->owner->spent += info->spent;
    b->owner->queued |= info->queued;
    b->owner->refused |= info->refused;
    int64_t now = ig_now();
    const char *ctype = resp->content_type ? resp->content_type : IG_JSON_CTYPE;
    ig_blob_t *body = resp->status ? ig_blob_new(resp->body, resp->body_len) : NULL;
    bool data = body && gw_is_data(resp->status, ctype, body->data, body->len);
    ig_buf_t key = {0};
    if (data && batch_key(b, &key) == IG_OK)
        ig_hotcache_put(g->hot, key.data, key.len, ctype, now, body);
    dlist_t *whole = b->whole;
    if (whole && whole->r) {
        /* The client's own question: its answer, whatever it is, goes back unchanged. */
        bool stale_ok = !data && (resp->status == 0 || resp->status >= 500);
        bool have_old = true;
        for (size_t i = 0; i < whole->n && stale_ok; i++)
            have_old &= whole->parts[i].old != NULL || whole->parts[i].done;
        if (!(stale_ok && have_old) && body) {
            greq_t *r = whole->r;
            whole->r = NULL;
            r->spent = whole->spent;
            r->outcome = whole->refused ? "REJECTED" : whole->queued ? "QUEUED" : "MISS";
            gw_answer(r, resp->status, ctype, body, -1);
        }
    }

    /* Cut the answer into its results, and let every waiting list have its domains. */
    const char *e = body ? body->data + body->len : NULL;
    const char *resp_obj = data ? ig_jscan_member(body->data, e, "response") : NULL;
    ig_blob_t **found = calloc(b->n ? b->n : 1, sizeof(*found));
    bool *gone = calloc(b->n ? b->n : 1, sizeof(*gone));
    ig_jscan_iter_t it;
    const char *v, *s;
    size_t vn, sn;
    if (resp_obj && found && gone) {
        if (ig_jscan_array(&it, ig_jscan_member(resp_obj, e, "results"), e))
            while (ig_jscan_next(&it, &v, &vn))
                if (*v == '{' && ig_jscan_plain_string(ig_jscan_member(v, v + vn, "domain"),
                                                       v + vn, &s, &sn))
                    for (size_t i = 0; i < b->n; i++)
                        if (!found[i] && strlen(b->names[i]) == sn &&
                            strncasecmp(b->names[i], s, sn) == 0)
                            found[i] = ig_blob_new(v, vn);
        for (size_t i = 0; i < b->n; i++)
            gone[i] = !found[i]; /* not in the results: the vendor has no data for it */
    }
    for (size_t i = 0; i < b->n; i++)
        resolve(g, b->ep, b->names[i], found ? found[i] : NULL, data && gone && gone[i], now,
                resp, body);
    /* The per-domain cache takes the results just cut out (no second scan of the answer). */
    for (size_t i = 0; data && found && gone && i < b->n; i++) {
        size_t n = strlen(b->names[i]);
        if (found[i])
            remember_blob(g, b->ep, b->names[i], n, IG_JSON_CTYPE, now, found[i]);
        else if (gone[i])
            remember(g, b->ep, b->names[i], n, MISSING_CTYPE, now, "", 0);
    }
    for (size_t i = 0; found && i < b->n; i++)
        ig_blob_unref(found[i]);
    free(found);
    free(gone);
    /* Every waiting list has its parts: now the copies for the store and the intel tables. */
    if (key.data) gw_keep(g, key.data, key.len, b->ep, ctype, now, body, false);
    ig_buf_free(&key);
    ig_blob_unref(body);
    batch_free(b);
}

/* A part that cannot be fetched at all (out of memory): the list fails with it. */
static void fail_part(dlist_t *dl, size_t idx, const char *why) {
    dl->parts[idx].done = true;
    if (!dl->failed) {
        dl->failed = true;
        dl->fail_status = 0;
        snprintf(dl->fail_error, sizeof(dl->fail_error), "%s", why);
    }
    part_done(dl);
}

static dflight_t *new_flight(dlist_t *dl, size_t idx) {
    const dpart_t *p = &dl->parts[idx];
    ig_buf_t k = {0};
    dwaiter_t *w = calloc(1, sizeof(*w));
    dflight_t *f = calloc(1, sizeof(*f));
    if (!w || !f || dkey(&k, dl->ep, p->name, p->len)) {
        free(w);
        free(f);
        ig_buf_free(&k);
        return NULL;
    }
    *w = (dwaiter_t){dl, idx, NULL};
    f->waiters = w;
    f->key_len = k.len;
    f->key = ig_buf_take(&k);
    f->hash = ig_hash64(f->key, f->key_len);
    return f;
}

/* Fetches the parts idx[0..n) of dl (none in flight) with one upstream question. */
static void send_batch(dlist_t *dl, const size_t *idx, size_t n) {
    ig_gateway_t *g = dl->g;
    dbatch_t *b = calloc(1, sizeof(*b));
    dflight_t **fl = calloc(n, sizeof(*fl));
    int rc = b && fl && (b->names = calloc(n, sizeof(char *))) ? IG_OK : IG_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        const dpart_t *p = &dl->parts[idx[i]];
        if (i) rc = ig_buf_putc(&b->list, ',');
        if (!rc) rc = ig_buf_append(&b->list, p->name, p->len);
        if (!rc && (!(b->names[i] = strndup(p->name, p->len)) || !(fl[i] = new_flight(dl, idx[i]))))
            rc = IG_ENOMEM;
    }
    if (rc) {
        for (size_t i = 0; fl && i < n; i++)
            if (fl[i]) {
                free(fl[i]->waiters);
                free(fl[i]->key);
                free(fl[i]);
            }
        free(fl);
        if (b) {
            b->n = n;
            batch_free(b);
        }
        for (size_t i = 0; i < n; i++)
            fail_part(dl, idx[i], "irisgate is out of memory");
        return;
    }
    b->g = g;
    b->ep = dl->ep;
    b->n = n;
    b->owner = dl;
    if (n == dl->n && dl->pending == dl->n) b->whole = dl; /* exactly the client's question */
    for (size_t i = 0; i < n; i++) {
        dflight_t **slot = dflight_slot(g, fl[i]->key, fl[i]->key_len, fl[i]->hash);
        fl[i]->next = *slot;
        *slot = fl[i];
        dl->parts[idx[i]].fetched = true;
        dl->refs++;
    }
    free(fl);
    ig_params_t q = {0};
    rc = ig_params_add(&q, "domain", b->list.data, b->list.len);
    if (!rc) rc = gw_call(g, dl->ep, dl->user, &q, on_batch_done, b);
    ig_params_free(&q);
    if (rc) {
        ig_upstream_resp_t fail = {.status = 0, .error = "could not start the upstream request"};
        for (size_t i = 0; i < n; i++)
            resolve(g, b->ep, b->names[i], NULL, false, 0, &fail, NULL);
        batch_free(b);
    }
}

/* Joins the fetch of part idx when one is in flight. */
static bool join(dlist_t *dl, size_t idx) {
    ig_gateway_t *g = dl->g;
    const dpart_t *p = &dl->parts[idx];
    ig_buf_t k = {0};
    if (dkey(&k, dl->ep, p->name, p->len)) {
        ig_buf_free(&k);
        return false;
    }
    dflight_t *f = *dflight_slot(g, k.data, k.len, ig_hash64(k.data, k.len));
    ig_buf_free(&k);
    dwaiter_t *w = f ? calloc(1, sizeof(*w)) : NULL;
    if (!w) return false;
    *w = (dwaiter_t){dl, idx, f->waiters};
    f->waiters = w;
    dl->parts[idx].joined = true;
    dl->refs++;
    return true;
}

/* The parts still unknown: joined to fetches in flight, the rest fetched in batches. */
static void fetch_rest(dlist_t *dl) {
    size_t *idx = calloc(dl->n, sizeof(*idx)), m = 0;
    if (!idx) {
        for (size_t i = 0; i < dl->n; i++)
            if (!dl->parts[i].done) fail_part(dl, i, "irisgate is out of memory");
        return;
    }
    if (dl->g->closing) {
        for (size_t i = 0; i < dl->n; i++)
            if (!dl->parts[i].done) fail_part(dl, i, "irisgate is shutting down");
        free(idx);
        return;
    }
    for (size_t i = 0; i < dl->n; i++)
        if (!dl->parts[i].done && !join(dl, i)) idx[m++] = i;
    for (size_t at = 0; at < m; at += IG_MAX_DOMAINS)
        send_batch(dl, idx + at, m - at < IG_MAX_DOMAINS ? m - at : IG_MAX_DOMAINS);
    free(idx);
}

/* The store's latest results for the parts memory did not have. */
static void on_store_rows(void *arg, int rc, ig_stored_result_t *rows, size_t n) {
    dlist_t *dl = arg;
    ig_gateway_t *g = dl->g;
    for (size_t j = 0, i = 0; rc == IG_OK && j < n; j++) {
        ig_stored_result_t *row = &rows[j];
        while (i < dl->n && (dl->parts[i].done || strlen(row->domain) != dl->parts[i].len ||
                             memcmp(row->domain, dl->parts[i].name, dl->parts[i].len) != 0))
            i++;
        if (i == dl->n) break;
        dpart_t *p = &dl->parts[i];
        bool same = row->endpoint && strcmp(row->endpoint, ig_endpoint_name(dl->ep)) == 0;
        bool inv = row->endpoint && strcmp(row->endpoint, "iris-investigate") == 0;
        if (!row->json || !(same || (dl->ep == IG_EP_ENRICH && inv))) continue;
        ig_blob_t *b = ig_blob_new(row->json, row->json_len);
        if (!b) continue;
        ig_endpoint_t from = same ? dl->ep : IG_EP_INVESTIGATE;
        if (gw_fresh(g, dl->ep, row->fetched_at)) {
            remember(g, from, p->name, p->len, IG_JSON_CTYPE, row->fetched_at, b->data, b->len);
            part_set(p, b, !same, false, row->fetched_at);
            dl->pending--;
        } else if (ig_now() - row->fetched_at < max_stale(g)) {
            part_keep_old(p, b, !same, row->fetched_at);
        }
        ig_blob_unref(b);
    }
    ig_stored_results_free(rows, n);
    /* A fetch may have finished while the store was being read. */
    for (size_t i = 0; i < dl->n; i++)
        if (!dl->parts[i].done && part_from_memory(dl, &dl->parts[i])) dl->pending--;
    if (dl->pending == 0)
        finish(dl);
    else
        fetch_rest(dl);
    dlist_unref(dl);
}

/* ---- the entry -------------------------------------------------------------------------- */

/* A question of nothing but a list of at most IG_MAX_DOMAINS domains. */
static const char *only_domains(const greq_t *r) {
    if (r->ep != IG_EP_INVESTIGATE && r->ep != IG_EP_ENRICH) return NULL;
    if (r->canon.n != 1 || strcmp(r->canon.v[0].key, "domain") != 0) return NULL;
    const char *list = r->canon.v[0].val;
    if (!*list || strlen(list) != r->canon.v[0].val_len) return NULL;
    return list;
}

bool gw_domains_try(greq_t *r) {
    const char *list = only_domains(r);
    if (!list) return false;
    size_t count = 1;
    for (const char *c = list; *c; c++)
        count += *c == ',';
    if (count > IG_MAX_DOMAINS) return false; /* the vendor's own 400 will do */
    dlist_t *dl = calloc(1, sizeof(*dl));
    if (!dl || !(dl->names = strdup(list)) || !(dl->parts = calloc(count, sizeof(dpart_t)))) {
        if (dl) free(dl->names);
        free(dl);
        return false;
    }
    dl->g = r->gw;
    dl->r = r;
    snprintf(dl->user, sizeof(dl->user), "%s", r->user);
    dl->ep = r->ep;
    dl->refs = 1;
    /* The parts, in the order asked, each domain once. */
    for (char *c = dl->names, *end; c; c = end) {
        end = strchr(c, ',');
        if (end) *end++ = '\0';
        size_t len = strlen(c), i;
        if (!len || len > MAX_DOMAIN_LEN) {
            dlist_unref(dl);
            return false;
        }
        for (i = 0; i < dl->n; i++)
            if (dl->parts[i].len == len && memcmp(dl->parts[i].name, c, len) == 0) break;
        if (i == dl->n) dl->parts[dl->n++] = (dpart_t){.name = c, .len = len};
    }
    for (size_t i = 0; i < dl->n; i++)
        if (!part_from_memory(dl, &dl->parts[i])) dl->pending++;
    if (dl->pending == 0) {
        finish(dl);
        dlist_unref(dl);
        return true;
    }
    /* Memory does not have them all: the store may (after a restart, or an import). */
    const char **names = calloc(dl->pending, sizeof(*names));
    size_t m = 0;
    for (size_t i = 0; names && i < dl->n; i++)
        if (!dl->parts[i].done) names[m++] = dl->parts[i].name;
    dl->refs++;
    if (!names || ig_store_get_results_async(dl->g->store, dl->g->loop, names, m, on_store_rows,
                                             dl) != IG_OK) {
        dl->refs--;
        fetch_rest(dl);
    }
    free(names);
    dlist_unref(dl);
    return true;
}
