/* fake_server.c — the stand-in for api.domaintools.com: one handler for every request the
 * HTTP server completes.
 *
 * /v1 requests go through, in order: the endpoint (404), the method (405), the parameters
 * (query string merged with a form body; 400), the four vendor credential schemes (403), an
 * injected failure, the user's per-minute and monthly limits (503), and then the
 * answer: a recording whose canonical question matches, byte for byte, else the synthetic
 * world, or the generated /v1/account. Answers are gzipped for clients that accept it and
 * held back --latency ms on a timer. The /_fake/ paths are the unauthenticated control
 * plane of tests.
 *
 * Never blocks and never sleeps: delays and hangs are uv timers on the loop. Never logs a
 * key, a signature or a query string. A pending (delayed or hanging) answer owns its timer
 * and body until it is sent or dropped; fi_server_shutdown settles every one of them.
 */
#include "fake_server.h"

#include "fake_faults.h"
#include "irisgate/format.h"
#include "irisgate/gzip.h"
#include "fake_stats.h"
#include "irisgate/auth.h"
#include "irisgate/canon.h"
#include "irisgate/form.h"
#include "irisgate/vendor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DOMAINS_LISTED 100000u
#define HEAD_MAX 256
#define GZIP_LEVEL 1 /* dynamic answers: speed over ratio, this is a benchmark upstream */

#define MSG_NOT_FOUND "The resource you requested could not be found."

struct fi_server {
    uv_loop_t *loop;
    fi_server_opts_t o;
    fi_world_t *world;
    fi_replay_t *replay;
    fi_account_t *acct;
    fi_stats_t *stats;
    fi_faults_t faults;
    struct pending *pending; /* delayed and hanging answers */
    int stopping;
};

/* One answer on its way out. body is released by release(arg) once written (or dropped). */
typedef struct {
    int status;
    const char *ctype;
    const char *body;
    size_t len;
    void (*release)(void *);
    void *arg;
    int gz;    /* body is gzip-compressed */
    ig_format_t fmt; /* the format asked for: bodies are built as JSON, then rendered */
    int v1;    /* a /v1 answer: delayed by --latency, counted in the statuses */
    int allow; /* add "Allow: GET, POST" (405) */
} answer_t;

typedef enum { P_LATENCY, P_HANG } pending_kind_t;

typedef struct pending {
    uv_timer_t timer;
    fi_server_t *srv;
    ig_http_req_t *req;
    struct pending *prev, *next;
    pending_kind_t kind;
    answer_t a;
    char head[HEAD_MAX];
    size_t head_len;
    char user[64];
    unsigned ticks;
} pending_t;

int fi_server_new(uv_loop_t *loop, const fi_server_opts_t *o, fi_world_t *world,
                  fi_replay_t *replay, fi_account_t *account, fi_server_t **out) {
    fi_server_t *s = calloc(1, sizeof(*s));
    if (!s) return IG_ENOMEM;
    if (fi_stats_new(&s->stats) != IG_OK) {
        free(s);
        return IG_ENOMEM;
    }
    s->loop = loop;
    s->o = *o;
    s->world = world;
    s->replay = replay;
    s->acct = account;
    fi_faults_init(&s->faults, o->seed, o->fail_rate);
    *out = s;
    return IG_OK;
}

void fi_server_free(fi_server_t *s) {
    if (!s) return;
    fi_stats_free(s->stats);
    free(s);
}

/* -- sending ------------------------------------------------------------------------------ */

static void release_answer(answer_t *a) {
    if (a->release) a->release(a->arg);
    a->release = NULL;
}

static void log_line(const fi_server_t *s, const ig_http_req_t *req, int status, const char *user,
                     size_t bytes) {
    if (s->o.quiet) return;
    double ms = (double)(ig_mono_ns() - req->start_ns) / 1e6;
    fprintf(stderr, "fakeiris: %s %.*s %d %s %zu %.3fms\n", req->method_str,
            (int)(req->path_len > 200 ? 200 : req->path_len), req->path, status,
            user && *user ? user : "-", bytes, ms);
}

static void send_now(fi_server_t *s, ig_http_req_t *req, answer_t *a, const char *head,
                     size_t head_len, const char *user) {
    log_line(s, req, a->status, user, a->len);
    ig_http_respond(req, a->status, head, head_len, a->body, a->len, a->release, a->arg);
    a->release = NULL; /* the HTTP server owns it now */
}

/* Closes the connection of req without an answer. */
static void drop_now(fi_server_t *s, ig_http_req_t *req, const char *user) {
    log_line(s, req, 0, user, 0);
    ig_http_drop(req);
}

static size_t build_head(const fi_server_t *s, const ig_http_req_t *req, const answer_t *a,
                         char *head) {
    unsigned long long us = (ig_mono_ns() - req->start_ns) / 1000;
    int n = snprintf(head, HEAD_MAX, "Content-Type: %s\r\n%s%s%sX-TIME: %llu\r\n", a->ctype,
                     a->v1 ? "Vary: Accept-Encoding\r\n" : "",
                     a->gz ? "Content-Encoding: gzip\r\n" : "",
                     a->allow ? "Allow: GET, POST\r\n" : "", us);
    (void)s;
    return n < 0 ? 0 : (size_t)n >= HEAD_MAX ? HEAD_MAX - 1 : (size_t)n;
}

static void unlink_pending(pending_t *p) {
    fi_server_t *s = p->srv;
    if (p->prev)
        p->prev->next = p->next;
    else
        s->pending = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void on_pending_closed(uv_handle_t *h) {
    free(h->data);
}

static void finish_pending(pending_t *p) {
    unlink_pending(p);
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_pending_closed);
}

static void on_latency(uv_timer_t *t) {
    pending_t *p = t->data;
    send_now(p->srv, p->req, &p->a, p->head, p->head_len, p->user);
    finish_pending(p);
}

static void on_hang_tick(uv_timer_t *t) {
    pending_t *p = t->data;
    p->ticks++;
    int gone = ig_http_req_aborted(p->req);
    if (!gone && (uint64_t)p->ticks * 1000 < FI_HANG_MS) return;
    /* Bounded: the hung request is finally answered with its failure (or into the void
     * when its client has already given up). */
    if (!gone) fi_stats_status(p->srv->stats, p->a.status);
    p->head_len = build_head(p->srv, p->req, &p->a, p->head);
    send_now(p->srv, p->req, &p->a, p->head, p->head_len, p->user);
    finish_pending(p);
}

static pending_t *pending_new(fi_server_t *s, ig_http_req_t *req, const answer_t *a,
                              const char *user, pending_kind_t kind) {
    pending_t *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    if (uv_timer_init(s->loop, &p->timer) != 0) {
        free(p);
        return NULL;
    }
    p->timer.data = p;
    p->srv = s;
    p->req = req;
    p->kind = kind;
    p->a = *a;
    snprintf(p->user, sizeof(p->user), "%s", user ? user : "-");
    p->next = s->pending;
    if (s->pending) s->pending->prev = p;
    s->pending = p;
    return p;
}

/* Sends a now, or after --latency for /v1 answers. Takes a's body. */
static void deliver(fi_server_t *s, ig_http_req_t *req, answer_t *a, const char *user) {
    if (a->v1) fi_stats_status(s->stats, a->status);
    char head[HEAD_MAX];
    size_t head_len = build_head(s, req, a, head);
    if (a->v1 && s->o.latency_ms && !s->stopping) {
        pending_t *p = pending_new(s, req, a, user, P_LATENCY);
        if (p) {
            memcpy(p->head, head, head_len);
            p->head_len = head_len;
            uv_timer_start(&p->timer, on_latency, s->o.latency_ms, 0);
            return;
        }
        /* Out of memory for the delay: answer at once rather than not at all. */
    }
    send_now(s, req, a, head, head_len, user);
}

void fi_server_shutdown(fi_server_t *s) {
    s->stopping = 1;
    while (s->pending) {
        pending_t *p = s->pending;
        if (p->kind == P_LATENCY) {
            send_now(s, p->req, &p->a, p->head, p->head_len, p->user);
        } else {
            release_answer(&p->a);
            drop_now(s, p->req, p->user);
        }
        finish_pending(p);
    }
}

/* -- building answers ------------------------------------------------------------------- */

/* Makes a own b's bytes, a JSON answer: rendered in a->fmt, then gzipped when gz_ok; b is
 * left empty. */
static void answer_take(answer_t *a, int status, const char *ctype, ig_buf_t *b, int gz_ok) {
    a->status = status;
    a->ctype = ctype;
    a->gz = 0;
    if (a->fmt != IG_FMT_JSON) {
        ig_buf_t page = {0};
        if (ig_format_render(a->fmt, b->data ? b->data : "", b->len, &page) == IG_OK) {
            ig_buf_free(b);
            *b = page;
            a->ctype = ig_format_ctype(a->fmt, ctype);
        } else {
            ig_buf_free(&page); /* not JSON (cannot happen): sent as it is */
        }
    }
    ig_blob_t *z = NULL;
    if (gz_ok && b->len && ig_gzip_blob(b->data, b->len, GZIP_LEVEL, &z) == IG_OK && z) {
        ig_buf_reset(b);
        if (ig_buf_append(b, z->data, z->len) == IG_OK) a->gz = 1;
    }
    ig_blob_unref(z);
    a->len = b->len;
    a->body = ig_buf_take(b);
    a->release = free;
    a->arg = (void *)a->body;
}

static void answer_error(answer_t *a, int status, const char *message, int gz_ok) {
    ig_buf_t b = {0};
    if (ig_vendor_error(&b, status, message) != IG_OK) ig_buf_free(&b);
    answer_take(a, status, IG_JSON_CTYPE, &b, gz_ok);
}

static void answer_fault(fi_server_t *s, answer_t *a, int status, int gz_ok) {
    ig_buf_t b = {0};
    const char *ctype = IG_JSON_CTYPE;
    if (fi_fault_body(status, fi_account_rate(s->acct), &b, &ctype) != IG_OK) ig_buf_free(&b);
    answer_take(a, status, ctype, &b, gz_ok);
}

static int is_form_or_none(const ig_http_req_t *req) {
    const char *ct = ig_http_header(req, "content-type");
    return !ct || !*ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* The query string, then a form body (so a body value wins over a query value). */
static int parse_params(const ig_http_req_t *req, ig_params_t *out) {
    int rc = ig_params_parse(out, req->query, req->query_len);
    if (rc) return rc;
    if (req->body_len == 0) return IG_OK;
    if (!is_form_or_none(req)) return IG_EINVAL;
    return ig_params_parse(out, req->body, req->body_len);
}

/* The canonical key of the question asked in JSON (format is only how it is written). */
static int canon_key_without_format(ig_endpoint_t ep, const ig_params_t *canon, ig_buf_t *out) {
    ig_params_t json = {0};
    int rc = IG_OK;
    for (size_t i = 0; i < canon->n && !rc; i++)
        if (strcmp(canon->v[i].key, "format") != 0)
            rc = ig_params_add(&json, canon->v[i].key, canon->v[i].val, canon->v[i].val_len);
    if (!rc) rc = ig_canon_key(ep, &json, out);
    ig_params_free(&json);
    return rc;
}

static int is_method(const ig_http_req_t *req, const char *m) {
    return strcmp(req->method_str, m) == 0;
}

/* The answer to an authenticated, admitted question. key is the question's canonical key
 * without its format (recordings answer every format). */
static void answer_question(fi_server_t *s, ig_endpoint_t ep, const char *user,
                            const ig_params_t *canon, const ig_buf_t *key, int gz_ok, answer_t *a) {
    ig_buf_t b = {0};
    if (ep == IG_EP_ACCOUNT) {
        if (fi_account_render(s->acct, user, ig_now(), &b) != IG_OK) {
            ig_buf_free(&b);
            answer_fault(s, a, 500, gz_ok);
            return;
        }
        answer_take(a, 200, IG_JSON_CTYPE, &b, gz_ok);
        return;
    }
    const fi_replay_entry_t *e = fi_replay_find(s->replay, key->data, key->len);
    if (e && a->fmt != IG_FMT_JSON) {
        /* No recording in xml or html exists: rendered from the recorded JSON. */
        ig_buf_t copy = {0};
        if (ig_buf_append(&copy, e->body, e->body_len) != IG_OK) {
            ig_buf_free(&copy);
            answer_fault(s, a, 500, gz_ok);
            return;
        }
        answer_take(a, 200, IG_JSON_CTYPE, &copy, gz_ok);
        return;
    }
    if (e) {
        /* The recording outlives the server: lent without a copy, nothing to release. */
        a->status = 200;
        a->ctype = IG_JSON_CTYPE;
        a->gz = gz_ok && e->gz;
        a->body = a->gz ? e->gz : e->body;
        a->len = a->gz ? e->gz_len : e->body_len;
        a->release = NULL;
        return;
    }
    int status = 200;
    if (fi_world_answer(s->world, ep == IG_EP_ENRICH, canon, &b, &status) != IG_OK) {
        ig_buf_free(&b);
        answer_fault(s, a, 500, gz_ok);
        return;
    }
    answer_take(a, status, IG_JSON_CTYPE, &b, gz_ok);
}

static void handle_v1(fi_server_t *s, ig_http_req_t *req, ig_endpoint_t ep) {
    int gz_ok = ig_gzip_accepted(ig_http_header(req, "accept-encoding"));
    answer_t a = {.v1 = 1};
    ig_params_t raw = {0}, canon = {0};
    ig_buf_t key = {0}, jkey = {0};
    char user[64] = "";
    ig_auth_creds_t creds;

    fi_stats_request(s->stats, ep);
    /* Read first, so that even a 404 or 405 comes in the format asked for. */
    int rc = parse_params(req, &raw);
    if (!rc && ig_format_parse(ig_params_get(&raw, "format"), &a.fmt) != IG_OK)
        a.fmt = IG_FMT_JSON;
    if (ep == IG_EP_UNKNOWN || (!is_method(req, "GET") && !is_method(req, "POST")))
        fi_stats_last(s->stats, req->method_str, req->path, req->path_len, "", 0);
    if (ep == IG_EP_UNKNOWN) {
        answer_error(&a, 404, MSG_NOT_FOUND, gz_ok);
        goto send;
    }
    if (!is_method(req, "GET") && !is_method(req, "POST")) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "The method %s is not allowed on this endpoint: use GET or POST.",
                 req->method_str);
        answer_error(&a, 405, msg, gz_ok);
        a.allow = 1;
        goto send;
    }
    if (!rc) rc = ig_canon_params(&raw, &canon);
    if (!rc) rc = ig_canon_key(ep, &canon, &key);
    fi_stats_last(s->stats, req->method_str, req->path, req->path_len, rc ? "" : key.data,
                  rc ? 0 : key.len);
    /* A format other than json, xml or html is a question we cannot understand. */
    if (!rc) rc = ig_format_parse(ig_params_get(&canon, "format"), &a.fmt);
    if (!rc) rc = canon_key_without_format(ep, &canon, &jkey);
    if (rc) {
        a.fmt = IG_FMT_JSON;
        answer_error(&a, 400, IG_MSG_MALFORMED, gz_ok);
        goto send;
    }

    if (ig_auth_extract(&raw, ig_http_header(req, "x-api-key"),
                        ig_http_header(req, "authorization"), &creds) != IG_OK ||
        ig_auth_check(&creds, req->path, ig_now(), s->o.max_skew, fi_account_key, s->acct) !=
            IG_OK) {
        answer_error(&a, 403, IG_MSG_BAD_CREDENTIALS, gz_ok);
        goto send;
    }
    snprintf(user, sizeof(user), "%s", creds.username);
    fi_stats_user(s->stats, creds.username);

    /* Planned and random failures stand for the vendor failing an admitted caller, so they
     * come after the credentials: a refused request neither spends nor sees one. */
    fi_fault_t f = fi_faults_next(&s->faults);
    if (f.mode == FI_FAULT_DROP) {
        drop_now(s, req, user);
        goto done;
    }
    if (f.mode != FI_FAULT_NONE) {
        answer_fault(s, &a, f.status, gz_ok);
        if (f.mode == FI_FAULT_HANG && !s->stopping) {
            pending_t *p = pending_new(s, req, &a, user, P_HANG);
            if (p) {
                uv_timer_start(&p->timer, on_hang_tick, 1000, 1000);
                goto done;
            }
        }
        goto send;
    }

    fi_product_t prod = ep == IG_EP_ACCOUNT  ? FI_PROD_ACCOUNT
                        : ep == IG_EP_ENRICH ? FI_PROD_ENRICH
                                             : FI_PROD_INVESTIGATE;
    ig_buf_t err = {0};
    int st =
        fi_account_admit(s->acct, creds.username, prod, req->start_ns / 1000000, ig_now(), &err);
    if (st != 200) {
        answer_take(&a, st, IG_JSON_CTYPE, &err, gz_ok);
        goto send;
    }
    answer_question(s, ep, creds.username, &canon, &jkey, gz_ok, &a);

send:
    deliver(s, req, &a, user);
done:
    ig_params_free(&raw);
    ig_params_free(&canon);
    ig_buf_free(&key);
    ig_buf_free(&jkey);
}

/* -- /_fake: the control plane ---------------------------------------------------------- */

/* Strict decimal in [0, max]. */
static int parse_u64(const char *v, uint64_t max, uint64_t *out) {
    if (!v || !*v) return IG_EINVAL;
    uint64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9') return IG_EINVAL;
        if (n > (max - (uint64_t)(*p - '0')) / 10) return IG_EINVAL;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = n;
    return IG_OK;
}

static void control_json(fi_server_t *s, ig_http_req_t *req, int status, ig_buf_t *b) {
    answer_t a = {0};
    answer_take(&a, status, IG_JSON_CTYPE, b, 0);
    deliver(s, req, &a, NULL);
}

static void control_error(fi_server_t *s, ig_http_req_t *req, int status, const char *msg) {
    answer_t a = {0};
    answer_error(&a, status, msg, 0);
    if (status == 405) a.allow = 1;
    deliver(s, req, &a, NULL);
}

static void control_fail(fi_server_t *s, ig_http_req_t *req, const ig_params_t *p) {
    uint64_t status = 500, count = 1;
    fi_fault_mode_t mode = FI_FAULT_ANSWER;
    const char *v;
    if (((v = ig_params_get(p, "status")) && (parse_u64(v, 599, &status) || status < 400)) ||
        ((v = ig_params_get(p, "count")) && parse_u64(v, 1000000000, &count)) ||
        ((v = ig_params_get(p, "mode")) && fi_fault_mode_parse(v, &mode))) {
        control_error(s, req, 400,
                      "Use /_fake/fail?status=400..599&count=N&mode=answer|drop|hang.");
        return;
    }
    fi_faults_plan(&s->faults, mode, (int)status, count);
    ig_buf_t b = {0};
    ig_buf_printf(&b, "{\"ok\":true,\"status\":%d,\"count\":%llu,\"mode\":\"%s\"}", (int)status,
                  (unsigned long long)count, fi_fault_mode_name(mode));
    control_json(s, req, 200, &b);
}

static void control_domains(fi_server_t *s, ig_http_req_t *req, const ig_params_t *p) {
    uint64_t offset = 0, limit = 100;
    const char *v;
    if (((v = ig_params_get(p, "offset")) && parse_u64(v, UINT32_MAX, &offset)) ||
        ((v = ig_params_get(p, "limit")) && parse_u64(v, MAX_DOMAINS_LISTED, &limit))) {
        control_error(s, req, 400, "Use /_fake/domains?offset=O&limit=L (L at most 100000).");
        return;
    }
    uint64_t size = fi_world_size(s->world);
    uint64_t end = offset + limit < size ? offset + limit : size;
    ig_buf_t b = {0};
    int rc = ig_buf_putc(&b, '[');
    char name[256];
    for (uint64_t i = offset; i < end && !rc; i++) {
        if (fi_world_domain_name(s->world, (uint32_t)i, name, sizeof(name)) != IG_OK) continue;
        if (i > offset) rc = ig_buf_putc(&b, ',');
        if (!rc) rc = ig_buf_json_str(&b, name, strlen(name));
    }
    if (!rc) rc = ig_buf_putc(&b, ']');
    if (rc) {
        ig_buf_free(&b);
        control_error(s, req, 500, "Out of memory.");
        return;
    }
    control_json(s, req, 200, &b);
}

static void handle_control(fi_server_t *s, ig_http_req_t *req) {
    const char *name = req->path + 7; /* after "/_fake/" */
    size_t n = req->path_len - 7;
    int get = is_method(req, "GET"), post = is_method(req, "POST");
    ig_params_t p = {0};
    if (parse_params(req, &p) != IG_OK) {
        control_error(s, req, 400, IG_MSG_MALFORMED);
        goto out;
    }
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
    if (IS("stats") || IS("domains")) {
        if (!get) {
            control_error(s, req, 405, "Use GET.");
        } else if (IS("domains")) {
            control_domains(s, req, &p);
        } else {
            ig_buf_t b = {0};
            if (fi_stats_render(s->stats, &b) != IG_OK) ig_buf_free(&b);
            control_json(s, req, 200, &b);
        }
    } else if (IS("fail") || IS("reset")) {
        if (!get && !post) {
            control_error(s, req, 405, "Use GET or POST.");
        } else if (IS("fail")) {
            control_fail(s, req, &p);
        } else {
            fi_stats_reset(s->stats);
            fi_account_reset(s->acct);
            fi_faults_plan(&s->faults, FI_FAULT_NONE, 0, 0);
            ig_buf_t b = {0};
            ig_buf_puts(&b, "{\"ok\":true}");
            control_json(s, req, 200, &b);
        }
    } else {
        control_error(s, req, 404, MSG_NOT_FOUND);
    }
#undef IS
out:
    ig_params_free(&p);
}

void fi_server_handle(void *ctx, ig_http_req_t *req) {
    fi_server_t *s = ctx;
    if (req->path_len >= 7 && memcmp(req->path, "/_fake/", 7) == 0) {
        handle_control(s, req);
        return;
    }
    if ((req->path_len >= 4 && memcmp(req->path, "/v1/", 4) == 0) ||
        (req->path_len == 3 && memcmp(req->path, "/v1", 3) == 0)) {
        handle_v1(s, req, ig_endpoint_from_path(req->path, req->path_len));
        return;
    }
    answer_t a = {0};
    answer_error(&a, 404, MSG_NOT_FOUND, 0);
    deliver(s, req, &a, NULL);
}
