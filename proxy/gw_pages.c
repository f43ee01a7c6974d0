/* gw_pages.c — a pivot's pages as one walk whose position tokens irisgate mints.
 *
 * The vendor's `position` is an opaque cursor that probably expires long before irisgate's
 * cached pages do. So irisgate never hands it out: every page it passes on carries, instead,
 * a token of its own, "ig" + the page it leads to (4 hex digits) + the vendor's cursor in
 * hex. The next page's question (the same parameters and that token) is an ordinary
 * canonical key: cached, it is a hit like any other; not cached, it goes upstream with the
 * vendor's cursor put back. Should the vendor refuse that cursor (expired), the gateway walks
 * the pivot again from its first page to the one asked (gw_pages_walk), keeping every page
 * it passes, so a token irisgate handed out stays good as long as the page that carried it is
 * cached. A `next` URL is rebuilt to point at irisgate, never carrying a credential.
 *
 * Tokens are stateless (nothing to store, they survive a restart with the pages). Loop
 * thread only; a walk lives from gw_pages_walk until its callback returns.
 */
#include "gateway_int.h"
#include "irisgate/canon.h"
#include "irisgate/jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "ig"
#define MAX_PAGE 0xffff
#define MAX_VENDOR_TOKEN 256

static const char HEX[] = "0123456789abcdef";

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int gw_pages_mint(int page, const char *vendor, size_t len, ig_buf_t *out) {
    if (page < 1 || page > MAX_PAGE || len == 0 || len > MAX_VENDOR_TOKEN) return IG_EINVAL;
    if (ig_buf_printf(out, TOKEN_PREFIX "%04x", (unsigned)page)) return IG_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)vendor[i];
        if (ig_buf_putc(out, HEX[c >> 4]) || ig_buf_putc(out, HEX[c & 15])) return IG_ENOMEM;
    }
    return IG_OK;
}

bool gw_pages_parse(const char *tok, size_t len, int *page, ig_buf_t *vendor) {
    size_t pre = sizeof(TOKEN_PREFIX) - 1;
    if (len < pre + 4 + 2 || (len - pre - 4) % 2 || memcmp(tok, TOKEN_PREFIX, pre) != 0)
        return false;
    int p = 0;
    for (size_t i = pre; i < pre + 4; i++) {
        int v = hexval(tok[i]);
        if (v < 0) return false;
        p = p * 16 + v;
    }
    if (p < 2) return false; /* page 1 is asked without a position */
    ig_buf_reset(vendor);
    for (size_t i = pre + 4; i < len; i += 2) {
        int hi = hexval(tok[i]), lo = hexval(tok[i + 1]);
        if (hi < 0 || lo < 0 || ig_buf_putc(vendor, (char)(hi * 16 + lo))) return false;
    }
    *page = p;
    return true;
}

int gw_pages_upstream(const ig_params_t *canon, ig_params_t *out, int *page) {
    *page = 1;
    const ig_param_t *pos = ig_params_find(canon, "position");
    ig_buf_t vendor = {0};
    bool ours = pos && gw_pages_parse(pos->val, pos->val_len, page, &vendor);
    if (pos && !ours) *page = 0; /* someone else's token: passed on as it is */
    int rc = IG_OK;
    for (size_t i = 0; !rc && i < canon->n; i++) {
        const ig_param_t *p = &canon->v[i];
        rc = ours && p == pos ? ig_params_add(out, "position", vendor.data, vendor.len)
                              : ig_params_add(out, p->key, p->val, p->val_len);
    }
    ig_buf_free(&vendor);
    return rc;
}

/* ---- rewriting an answer ---------------------------------------------------------------- */

typedef struct {
    const char *from, *to; /* the value's bytes in the answer */
    ig_buf_t with;         /* what replaces them */
} splice_t;

/* The URL of the next page, at irisgate: the question (no credential, no telemetry) and the
 * new token. */
static int next_url(const pages_origin_t *o, const ig_params_t *canon, const char *tok,
                    ig_buf_t *out) {
    int rc = ig_buf_printf(out, "%s://%s%s", o->tls ? "https" : "http", o->host,
                           ig_endpoint_path(o->ep));
    char sep = '?';
    for (size_t i = 0; !rc && i < canon->n; i++) {
        const ig_param_t *p = &canon->v[i];
        if (strcmp(p->key, "position") == 0) continue;
        rc = ig_buf_putc(out, sep);
        sep = '&';
        if (!rc) rc = ig_url_encode(out, p->key, p->key_len);
        if (!rc) rc = ig_buf_putc(out, '=');
        if (!rc) rc = ig_url_encode(out, p->val, p->val_len);
    }
    if (!rc) rc = ig_buf_printf(out, "%cposition=%s", sep, tok);
    return rc;
}

ig_blob_t *gw_pages_rewrite(ig_blob_t *body, int page, const ig_params_t *canon,
                            const pages_origin_t *o) {
    const char *e = body->data + body->len;
    const char *resp = ig_jscan_member(body->data, e, "response");
    const char *pv = resp ? ig_jscan_member(resp, e, "position") : NULL;
    const char *vendor;
    size_t vlen;
    if (page < 1 || page >= MAX_PAGE || !pv || !ig_jscan_plain_string(pv, e, &vendor, &vlen) ||
        vlen == 0 || vlen > MAX_VENDOR_TOKEN)
        return ig_blob_ref(body); /* nothing to mint, or a cursor we cannot carry */
    ig_buf_t tok = {0};
    splice_t sp[2] = {{pv, ig_jscan_skip(pv, e), {0}}, {0}};
    int n = 1, rc = gw_pages_mint(page + 1, vendor, vlen, &tok);
    if (!rc) rc = ig_buf_json_str(&sp[0].with, tok.data, tok.len);
    const char *nv = ig_jscan_member(resp, e, "next");
    if (!rc && nv && (sp[1].to = ig_jscan_skip(nv, e)) != NULL) {
        ig_buf_t url = {0};
        sp[1].from = nv;
        rc = next_url(o, canon, tok.data, &url);
        if (!rc) rc = ig_buf_json_str(&sp[1].with, url.data, url.len);
        ig_buf_free(&url);
        n = 2;
    }
    ig_blob_t *out = NULL;
    if (!rc && sp[0].to) {
        if (n == 2 && sp[1].from < sp[0].from) {
            splice_t t = sp[0];
            sp[0] = sp[1];
            sp[1] = t;
        }
        ig_buf_t b = {0};
        const char *at = body->data;
        for (int i = 0; i < n && !rc; i++) {
            rc = ig_buf_append(&b, at, (size_t)(sp[i].from - at));
            if (!rc) rc = ig_buf_append(&b, sp[i].with.data, sp[i].with.len);
            at = sp[i].to;
        }
        if (!rc) rc = ig_buf_append(&b, at, (size_t)(e - at));
        if (!rc) out = ig_blob_new(b.data, b.len);
        ig_buf_free(&b);
    }
    ig_buf_free(&tok);
    for (int i = 0; i < 2; i++)
        ig_buf_free(&sp[i].with);
    return out ? out : ig_blob_ref(body);
}

/* ---- walking again ---------------------------------------------------------------------- */

typedef struct {
    ig_gateway_t *g;
    ig_endpoint_t ep;
    char user[72];
    ig_params_t base; /* the question without its position */
    pages_origin_t origin;
    char host[256];
    int target, page; /* the page asked; the page being fetched */
    ig_buf_t vendor;  /* the cursor of the page being fetched (empty for page 1) */
    gw_call_info_t info;
    gw_call_cb cb;
    void *arg;
} walk_t;

static void walk_free(walk_t *w) {
    ig_params_free(&w->base);
    ig_buf_free(&w->vendor);
    free(w);
}

static void walk_step(walk_t *w);

/* The question of page w->page as a client asks it (with irisgate's token). */
static int page_question(const walk_t *w, int page, const char *vendor, size_t vlen,
                         ig_params_t *canon) {
    ig_params_t p = {0};
    int rc = IG_OK;
    for (size_t i = 0; !rc && i < w->base.n; i++)
        rc = ig_params_add(&p, w->base.v[i].key, w->base.v[i].val, w->base.v[i].val_len);
    if (!rc && page > 1) {
        ig_buf_t tok = {0};
        rc = gw_pages_mint(page, vendor, vlen, &tok);
        if (!rc) rc = ig_params_add(&p, "position", tok.data, tok.len);
        ig_buf_free(&tok);
    }
    if (!rc) rc = ig_canon_params(&p, canon);
    ig_params_free(&p);
    return rc;
}

/* A page on the way to the one asked: kept like any answer, and its cursor followed. */
static bool keep_and_follow(walk_t *w, const ig_upstream_resp_t *resp) {
    ig_gateway_t *g = w->g;
    const char *ctype = resp->content_type ? resp->content_type : IG_JSON_CTYPE;
    if (!gw_is_data(resp->status, ctype, resp->body, resp->body_len)) return false;
    const char *e = resp->body + resp->body_len;
    const char *r = ig_jscan_member(resp->body, e, "response");
    const char *v;
    size_t vn;
    if (!r || !ig_jscan_plain_string(ig_jscan_member(r, e, "position"), e, &v, &vn) || vn == 0 ||
        vn > MAX_VENDOR_TOKEN)
        return false; /* the walk ends before the page asked */
    ig_params_t canon = {0};
    ig_buf_t key = {0};
    ig_blob_t *raw = ig_blob_new(resp->body, resp->body_len);
    if (raw && page_question(w, w->page, w->vendor.data, w->vendor.len, &canon) == IG_OK &&
        ig_canon_key(w->ep, &canon, &key) == IG_OK) {
        ig_blob_t *body = gw_pages_rewrite(raw, w->page, &canon, &w->origin);
        int64_t now = ig_now();
        ig_hotcache_put(g->hot, key.data, key.len, ctype, now, body);
        gw_keep(g, key.data, key.len, w->ep, ctype, now, body, !gw_shapes_results(&canon));
        ig_blob_unref(body);
    }
    ig_blob_unref(raw);
    ig_buf_free(&key);
    ig_params_free(&canon);
    ig_buf_reset(&w->vendor);
    if (ig_buf_append(&w->vendor, v, vn)) return false;
    w->page++;
    return true;
}

static void on_walk_answer(void *arg, const ig_upstream_resp_t *resp, const gw_call_info_t *info) {
    walk_t *w = arg;
    w->info.spent += info->spent;
    w->info.queued |= info->queued;
    w->info.refused |= info->refused;
    if (w->page < w->target && !w->g->closing && keep_and_follow(w, resp)) {
        walk_step(w);
        return;
    }
    /* The page asked, or where the walk stopped (an error, or fewer pages than before):
     * that answer is the caller's. */
    w->cb(w->arg, resp, &w->info);
    walk_free(w);
}

static void walk_step(walk_t *w) {
    ig_params_t q = {0};
    int rc = IG_OK;
    for (size_t i = 0; !rc && i < w->base.n; i++)
        rc = ig_params_add(&q, w->base.v[i].key, w->base.v[i].val, w->base.v[i].val_len);
    if (!rc && w->page > 1) rc = ig_params_add(&q, "position", w->vendor.data, w->vendor.len);
    if (!rc) rc = gw_call(w->g, w->ep, w->user, &q, on_walk_answer, w);
    ig_params_free(&q);
    if (rc) {
        ig_upstream_resp_t fail = {.status = 0, .error = "could not start the upstream request"};
        w->cb(w->arg, &fail, &w->info);
        walk_free(w);
    }
}

int gw_pages_walk(ig_gateway_t *g, ig_endpoint_t ep, const char *user, const ig_params_t *canon,
                  int target, const pages_origin_t *origin, gw_call_cb cb, void *arg) {
    if (target < 2) return IG_EINVAL;
    walk_t *w = calloc(1, sizeof(*w));
    if (!w) return IG_ENOMEM;
    *w = (walk_t){.g = g, .ep = ep, .target = target, .page = 1, .cb = cb, .arg = arg};
    snprintf(w->user, sizeof(w->user), "%s", user);
    snprintf(w->host, sizeof(w->host), "%s", origin->host);
    w->origin = (pages_origin_t){.ep = ep, .tls = origin->tls, .host = w->host};
    for (size_t i = 0; i < canon->n; i++)
        if (strcmp(canon->v[i].key, "position") != 0 &&
            ig_params_add(&w->base, canon->v[i].key, canon->v[i].val, canon->v[i].val_len)) {
            walk_free(w);
            return IG_ENOMEM;
        }
    walk_step(w);
    return IG_OK;
}
