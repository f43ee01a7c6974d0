/* test_upstream.c — the curl-on-libuv client against a tiny HTTP/1.1 server living in the same
 * loop (127.0.0.1, port 0): what the vendor receives, what the caller gets back, gzip, errors,
 * timeouts, connection reuse, and cancellation by ig_upstream_free. A SIGALRM watchdog bounds
 * the whole run; every case closes all its handles (uv_loop_close must succeed). */
#include "irisgate/upstream.h"

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

/* ---- the canned server ------------------------------------------------------------------ */

#define JSON_CT "application/json; charset=utf-8"
#define OK_BODY "{\"response\":{\"results_count\":1}}"
#define MISSING_BODY "{\"error\":{\"code\":404,\"message\":\"Not Found\"}}"

typedef struct srv srv_t;

typedef struct sconn {
    uv_tcp_t tcp;
    srv_t *s;
    ig_buf_t in;
    struct sconn *prev, *next;
} sconn_t;

struct srv {
    uv_tcp_t listener;
    int port;
    int accepted; /* TCP connections */
    int requests; /* complete requests parsed */
    sconn_t *conns;
    /* the last request seen */
    char method[16];
    ig_buf_t target;
    ig_buf_t body;
    char ctype[256];
    char accept_enc[256];
    char ua[128];
    int saw_expect;
    /* canned gzip answers */
    ig_buf_t gz_plain, gz_packed, bomb_packed;
};

typedef struct {
    uv_write_t w;
    char *data;
} swrite_t;

static void sconn_close_cb(uv_handle_t *h) {
    sconn_t *c = h->data;
    ig_buf_free(&c->in);
    free(c);
}

static void sconn_close(sconn_t *c) {
    srv_t *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, sconn_close_cb);
}

static void swrite_cb(uv_write_t *w, int status) {
    (void)status;
    swrite_t *sw = (swrite_t *)w;
    free(sw->data);
    free(sw);
}

static void sconn_write(sconn_t *c, const char *p, size_t n) {
    swrite_t *sw = calloc(1, sizeof(*sw));
    sw->data = malloc(n ? n : 1);
    memcpy(sw->data, p, n);
    uv_buf_t ub = uv_buf_init(sw->data, (unsigned)n);
    if (uv_write(&sw->w, (uv_stream_t *)&c->tcp, &ub, 1, swrite_cb) != 0) {
        free(sw->data);
        free(sw);
    }
}

static void sconn_answer(sconn_t *c, int status, const char *reason, const char *ctype,
                         const char *extra, const void *body, size_t len) {
    ig_buf_t b = {0};
    ig_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                  "Server: fake\r\n\r\n",
                  status, reason, ctype, len, extra);
    ig_buf_append(&b, body, len);
    sconn_write(c, b.data, b.len);
    ig_buf_free(&b);
}

static void copy_header(char *dst, size_t cap, const char *v, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Parses every complete request in c->in and answers each according to its path. */
static void sconn_process(sconn_t *c) {
    srv_t *s = c->s;
    for (;;) {
        char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
        if (!end) return;
        size_t head_len = (size_t)(end - c->in.data) + 4;
        size_t clen = 0;
        char method[16] = "", ctype[256] = "", aenc[256] = "", ua[128] = "";
        int expect = 0;
        ig_buf_t target = {0};

        char *line = c->in.data, *stop = end + 2;
        char *eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
        char *sp1 = memchr(line, ' ', (size_t)(eol - line));
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
        if (!sp1 || !sp2) return;
        copy_header(method, sizeof(method), line, (size_t)(sp1 - line));
        ig_buf_append(&target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
        for (line = eol + 2; line < stop; line = eol + 2) {
            eol = memmem(line, (size_t)(stop - line), "\r\n", 2);
            char *colon = memchr(line, ':', (size_t)(eol - line));
            if (!colon) continue;
            size_t nl = (size_t)(colon - line);
            char *v = colon + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            if (nl == 14 && strncasecmp(line, "content-length", nl) == 0)
                clen = strtoul(v, NULL, 10);
            else if (nl == 12 && strncasecmp(line, "content-type", nl) == 0)
                copy_header(ctype, sizeof(ctype), v, vl);
            else if (nl == 15 && strncasecmp(line, "accept-encoding", nl) == 0)
                copy_header(aenc, sizeof(aenc), v, vl);
            else if (nl == 10 && strncasecmp(line, "user-agent", nl) == 0)
                copy_header(ua, sizeof(ua), v, vl);
            else if (nl == 6 && strncasecmp(line, "expect", nl) == 0)
                expect = 1;
        }
        if (c->in.len < head_len + clen) {
            ig_buf_free(&target);
            return;
        }
        s->requests++;
        memcpy(s->method, method, sizeof(method));
        memcpy(s->ctype, ctype, sizeof(ctype));
        memcpy(s->accept_enc, aenc, sizeof(aenc));
        memcpy(s->ua, ua, sizeof(ua));
        s->saw_expect |= expect;
        ig_buf_reset(&s->target);
        ig_buf_append(&s->target, target.data, target.len);
        ig_buf_reset(&s->body);
        ig_buf_append(&s->body, c->in.data + head_len, clen);

        if (strncmp(target.data, "/hang", 5) == 0) {
            /* never answers */
        } else if (strncmp(target.data, "/gzip", 5) == 0) {
            sconn_answer(c, 200, "OK", JSON_CT, "Content-Encoding: gzip\r\n", s->gz_packed.data,
                         s->gz_packed.len);
        } else if (strncmp(target.data, "/bomb", 5) == 0) {
            sconn_answer(c, 200, "OK", JSON_CT, "Content-Encoding: gzip\r\n", s->bomb_packed.data,
                         s->bomb_packed.len);
        } else if (strncmp(target.data, "/missing", 8) == 0) {
            sconn_answer(c, 404, "Not Found", JSON_CT, "", MISSING_BODY, strlen(MISSING_BODY));
        } else {
            sconn_answer(c, 200, "OK", JSON_CT, "", OK_BODY, strlen(OK_BODY));
        }
        ig_buf_free(&target);
        size_t used = head_len + clen;
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
    }
}

static void salloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void sread_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    sconn_t *c = st->data;
    if (n > 0) {
        ig_buf_append(&c->in, buf->base, (size_t)n);
        sconn_process(c);
    } else if (n < 0) {
        sconn_close(c);
    }
    free(buf->base);
}

static void saccept_cb(uv_stream_t *l, int status) {
    srv_t *s = l->data;
    if (status < 0) return;
    sconn_t *c = calloc(1, sizeof(*c));
    c->s = s;
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, sconn_close_cb);
        return;
    }
    s->accepted++;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, salloc_cb, sread_cb);
}

static void gzip_into(ig_buf_t *out, const void *p, size_t n, size_t repeat) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    unsigned char chunk[65536];
    for (size_t i = 0; i <= repeat; i++) {
        int last = i == repeat;
        z.next_in = (Bytef *)(last ? "" : p);
        z.avail_in = last ? 0 : (uInt)n;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof(chunk);
            deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
            ig_buf_append(out, chunk, sizeof(chunk) - z.avail_out);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
}

static int srv_start(srv_t *s, uv_loop_t *loop) {
    memset(s, 0, sizeof(*s));
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0) != 0) return -1;
    if (uv_listen((uv_stream_t *)&s->listener, 128, saccept_cb) != 0) return -1;
    int alen = sizeof(a);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&a, &alen);
    s->port = ntohs(a.sin_port);
    return 0;
}

static void srv_stop(srv_t *s) {
    while (s->conns)
        sconn_close(s->conns);
    uv_close((uv_handle_t *)&s->listener, NULL);
    ig_buf_free(&s->target);
    ig_buf_free(&s->body);
    ig_buf_free(&s->gz_plain);
    ig_buf_free(&s->gz_packed);
    ig_buf_free(&s->bomb_packed);
}

/* ---- fixture ---------------------------------------------------------------------------- */

typedef struct {
    uv_loop_t loop;
    uv_timer_t tick; /* keeps UV_RUN_ONCE from sleeping past a deadline */
    srv_t srv;
    ig_upstream_t *u;
    char base[64];
} fx_t;

typedef struct {
    int calls;
    int status;
    char *ctype;
    ig_buf_t body;
    char *error;
    double total_ms;
} result_t;

static int g_done;

static void tick_cb(uv_timer_t *t) {
    (void)t;
}

static void result_free(result_t *r) {
    free(r->ctype);
    free(r->error);
    ig_buf_free(&r->body);
}

static void on_resp(void *arg, const ig_upstream_resp_t *resp) {
    result_t *r = arg;
    r->calls++;
    r->status = resp->status;
    free(r->ctype);
    r->ctype = resp->content_type ? strdup(resp->content_type) : NULL;
    ig_buf_reset(&r->body);
    ig_buf_append(&r->body, resp->body, resp->body_len);
    free(r->error);
    r->error = resp->error ? strdup(resp->error) : NULL;
    r->total_ms = resp->total_ms;
    g_done++;
}

static int fx_setup(fx_t *f, const ig_upstream_opts_t *extra) {
    memset(f, 0, sizeof(*f));
    g_done = 0;
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 20, 20);
    if (srv_start(&f->srv, &f->loop) != 0) return -1;
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d/", f->srv.port);
    ig_upstream_opts_t o = {0};
    if (extra) o = *extra;
    if (!o.base_url) o.base_url = f->base;
    if (!o.timeout_ms) o.timeout_ms = 10000;
    if (!o.connect_timeout_ms) o.connect_timeout_ms = 5000;
    return ig_upstream_new(&f->loop, &o, &f->u);
}

static int fx_run_until(fx_t *f, int *counter, int target, unsigned ms) {
    uint64_t deadline = ig_mono_ns() + (uint64_t)ms * 1000000u;
    while (*counter < target && ig_mono_ns() < deadline)
        uv_run(&f->loop, UV_RUN_ONCE);
    return *counter >= target;
}

/* Frees everything and checks that no handle was left open. */
static void fx_teardown(fx_t *f) {
    if (f->u) ig_upstream_free(f->u);
    f->u = NULL;
    srv_stop(&f->srv);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&f->loop), 0);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_upstream_post_round_trip(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    const char *body = "domain=example.com&api_username=alice&signature=ab%2Fcd&timestamp=t";
    result_t r = {0};
    CHECK_EQ_INT(
        ig_upstream_request(f.u, "POST", "/v1/iris-investigate/", body, strlen(body), on_resp, &r),
        0);
    CHECK_EQ_INT(ig_upstream_active(f.u), 1);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_STR(f.srv.method, "POST");
    CHECK_EQ_STR(f.srv.target.data, "/v1/iris-investigate/");
    CHECK_EQ_STR(f.srv.ctype, "application/x-www-form-urlencoded");
    CHECK_EQ_STR(f.srv.body.data, body);
    CHECK_EQ_STR(f.srv.ua, "irisgate/" IG_VERSION);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.ctype, JSON_CT);
    CHECK_EQ_STR(r.body.data, OK_BODY);
    CHECK_EQ_INT(r.body.len, strlen(OK_BODY));
    CHECK(r.error == NULL);
    CHECK(r.total_ms >= 0.0 && r.total_ms < 10000.0);
    CHECK_EQ_INT(ig_upstream_active(f.u), 0);
    result_free(&r);
    fx_teardown(&f);
}

/* A body over 1 KiB must not wait for "100 Continue" and must arrive byte for byte. */
static void test_upstream_large_post_body_arrives_intact(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    ig_buf_t body = {0};
    ig_buf_puts(&body, "domain=");
    for (int i = 0; i < 100; i++)
        ig_buf_printf(&body, "%sdomain-number-%03d.example", i ? "," : "", i);
    result_t r = {0};
    uint64_t t0 = ig_mono_ns();
    CHECK_EQ_INT(
        ig_upstream_request(f.u, "POST", "v1/iris-enrich/", body.data, body.len, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK((ig_mono_ns() - t0) / 1000000u < 900);
    CHECK_EQ_INT(f.srv.saw_expect, 0);
    CHECK_EQ_STR(f.srv.target.data, "/v1/iris-enrich/");
    CHECK_EQ_INT(f.srv.body.len, body.len);
    CHECK_EQ_STR(f.srv.body.data, body.data);
    CHECK_EQ_INT(r.status, 200);
    result_free(&r);
    ig_buf_free(&body);
    fx_teardown(&f);
}

static void test_upstream_get_puts_body_in_query(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    const char *q = "api_username=alice&timestamp=2024-01-01T00%3A00%3A00Z";
    result_t r = {0};
    CHECK_EQ_INT(ig_upstream_request(f.u, "GET", "/v1/account/", q, strlen(q), on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK_EQ_STR(f.srv.method, "GET");
    CHECK_EQ_STR(f.srv.target.data,
                 "/v1/account/?api_username=alice&timestamp=2024-01-01T00%3A00%3A00Z");
    CHECK_EQ_INT(f.srv.body.len, 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body.data, OK_BODY);
    result_free(&r);
    fx_teardown(&f);
}

static void test_upstream_http_error_is_an_answer(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    result_t r = {0};
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/missing", "a=b", 3, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK_EQ_INT(r.status, 404);
    CHECK(r.error == NULL);
    CHECK_EQ_STR(r.ctype, JSON_CT);
    CHECK_EQ_STR(r.body.data, MISSING_BODY);
    result_free(&r);
    fx_teardown(&f);
}

static void test_upstream_gzip_answer_is_decoded(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    ig_buf_puts(&f.srv.gz_plain, "{\"response\":{\"results\":[");
    for (int i = 0; i < 500; i++)
        ig_buf_printf(&f.srv.gz_plain, "%s{\"domain\":\"d%03d.example\",\"active\":true}",
                      i ? "," : "", i);
    ig_buf_puts(&f.srv.gz_plain, "]}}");
    gzip_into(&f.srv.gz_packed, f.srv.gz_plain.data, f.srv.gz_plain.len, 1);
    CHECK(f.srv.gz_packed.len < f.srv.gz_plain.len / 4);

    result_t r = {0};
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/gzip", "x=1", 3, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK(strstr(f.srv.accept_enc, "gzip") != NULL);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body.len, f.srv.gz_plain.len);
    CHECK_EQ_STR(r.body.data, f.srv.gz_plain.data);
    result_free(&r);
    fx_teardown(&f);
}

/* 65 MiB of zeros in ~64 KiB of gzip: the decoded cap must stop it, not memory. */
static void test_upstream_oversized_answer_fails(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    static char zeros[1024 * 1024];
    gzip_into(&f.srv.bomb_packed, zeros, sizeof(zeros), 65);
    result_t r = {0};
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/bomb", "x=1", 3, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 30000));
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.status, 0);
    CHECK(r.error != NULL && r.error[0] != '\0');
    CHECK_EQ_INT(r.body.len, 0);
    result_free(&r);
    fx_teardown(&f);
}

static void test_upstream_connection_refused(void) {
    /* A socket bound but not listening: connecting to its port is refused, and holding it
     * keeps anyone else from taking the port meanwhile. */
    int sfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ_INT(bind(sfd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    getsockname(sfd, (struct sockaddr *)&a, &alen);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", ntohs(a.sin_port));

    fx_t f;
    ig_upstream_opts_t o = {.base_url = base};
    CHECK_EQ_INT(fx_setup(&f, &o), 0);
    result_t r = {0};
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/v1/account", "a=b", 3, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.status, 0);
    CHECK(r.error != NULL && r.error[0] != '\0');
    CHECK(r.ctype == NULL);
    result_free(&r);
    fx_teardown(&f);
    close(sfd);
}

static void test_upstream_silent_server_times_out(void) {
    fx_t f;
    ig_upstream_opts_t o = {.timeout_ms = 300};
    CHECK_EQ_INT(fx_setup(&f, &o), 0);
    result_t r = {0};
    uint64_t t0 = ig_mono_ns();
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/hang", "a=b", 3, on_resp, &r), 0);
    CHECK(fx_run_until(&f, &g_done, 1, 10000));
    uint64_t ms = (ig_mono_ns() - t0) / 1000000u;
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.status, 0);
    CHECK(r.error != NULL && r.error[0] != '\0');
    CHECK(ms >= 250 && ms < 5000);
    CHECK(r.total_ms >= 250.0);
    CHECK_EQ_INT(f.srv.requests, 1);
    result_free(&r);
    fx_teardown(&f);
}

typedef struct {
    fx_t *f;
    int left;
    result_t r;
} chain_t;

static void on_chain(void *arg, const ig_upstream_resp_t *resp) {
    chain_t *c = arg;
    on_resp(&c->r, resp);
    if (resp->status == 200 && --c->left > 0)
        ig_upstream_request(c->f->u, "POST", "/v1/account", "a=b", 3, on_chain, c);
}

static void test_upstream_sequential_requests_share_one_connection(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    chain_t c = {.f = &f, .left = 5};
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/v1/account", "a=b", 3, on_chain, &c), 0);
    CHECK(fx_run_until(&f, &g_done, 5, 10000));
    CHECK_EQ_INT(c.r.calls, 5);
    CHECK_EQ_INT(f.srv.requests, 5);
    CHECK_EQ_INT(f.srv.accepted, 1);
    result_free(&c.r);
    fx_teardown(&f);
}

#define NCONC 50

static void test_upstream_concurrent_requests_reuse_connections(void) {
    fx_t f;
    ig_upstream_opts_t o = {.max_host_connections = 4};
    CHECK_EQ_INT(fx_setup(&f, &o), 0);
    static result_t r[NCONC];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < NCONC; i++) {
        char body[32];
        int n = snprintf(body, sizeof(body), "n=%d", i);
        CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/v1/iris-investigate/", body, (size_t)n,
                                         on_resp, &r[i]),
                     0);
    }
    CHECK_EQ_INT(ig_upstream_active(f.u), NCONC);
    CHECK(fx_run_until(&f, &g_done, NCONC, 20000));
    int ok = 0, once = 0;
    for (int i = 0; i < NCONC; i++) {
        ok += r[i].status == 200 && r[i].body.data && strcmp(r[i].body.data, OK_BODY) == 0;
        once += r[i].calls == 1;
        result_free(&r[i]);
    }
    CHECK_EQ_INT(ok, NCONC);
    CHECK_EQ_INT(once, NCONC);
    CHECK_EQ_INT(ig_upstream_active(f.u), 0);
    CHECK_EQ_INT(f.srv.requests, NCONC);
    CHECK(f.srv.accepted >= 1 && f.srv.accepted <= 4);
    fx_teardown(&f);
}

static void test_upstream_free_cancels_in_flight(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    result_t r[5] = {0};
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/hang", "a=b", 3, on_resp, &r[i]), 0);
    /* Wait until every transfer is really on the wire. */
    CHECK(fx_run_until(&f, &f.srv.requests, 5, 10000));
    CHECK_EQ_INT(g_done, 0);
    ig_upstream_free(f.u);
    f.u = NULL;
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(r[i].calls, 1);
        CHECK_EQ_INT(r[i].status, 0);
        CHECK_EQ_STR(r[i].error, "cancelled");
    }
    fx_teardown(&f);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(r[i].calls, 1);
        result_free(&r[i]);
    }
}

static void test_upstream_free_before_loop_runs(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    result_t r[3] = {0};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(ig_upstream_request(f.u, "GET", "/v1/account", "a=b", 3, on_resp, &r[i]), 0);
    ig_upstream_free(f.u);
    f.u = NULL;
    fx_teardown(&f);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(r[i].calls, 1);
        CHECK_EQ_STR(r[i].error, "cancelled");
        result_free(&r[i]);
    }
}

typedef struct {
    fx_t *f;
    result_t r;
} freer_t;

/* A caller may tear the client down from inside a callback (e.g. on shutdown). */
static void on_free_inside(void *arg, const ig_upstream_resp_t *resp) {
    freer_t *fr = arg;
    on_resp(&fr->r, resp);
    ig_upstream_free(fr->f->u);
    fr->f->u = NULL;
}

static void test_upstream_free_from_inside_a_callback(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    freer_t fr = {.f = &f};
    result_t hang[3] = {0};
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/hang", "a=b", 3, on_resp, &hang[i]), 0);
    CHECK(fx_run_until(&f, &f.srv.requests, 3, 10000));
    CHECK_EQ_INT(ig_upstream_request(f.u, "POST", "/v1/account", "a=b", 3, on_free_inside, &fr), 0);
    CHECK(fx_run_until(&f, &g_done, 4, 10000));
    CHECK_EQ_INT(fr.r.calls, 1);
    CHECK_EQ_INT(fr.r.status, 200);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(hang[i].calls, 1);
        CHECK_EQ_STR(hang[i].error, "cancelled");
    }
    fx_teardown(&f);
    result_free(&fr.r);
    for (int i = 0; i < 3; i++)
        result_free(&hang[i]);
}

static void test_upstream_rejects_unknown_method(void) {
    fx_t f;
    CHECK_EQ_INT(fx_setup(&f, NULL), 0);
    result_t r = {0};
    CHECK(ig_upstream_request(f.u, "DELETE", "/v1/account", "", 0, on_resp, &r) < 0);
    CHECK_EQ_INT(ig_upstream_active(f.u), 0);
    fx_teardown(&f);
    CHECK_EQ_INT(r.calls, 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    alarm(100); /* watchdog: a hung case kills the run instead of the CI slot */
    RUN(test_upstream_post_round_trip);
    RUN(test_upstream_large_post_body_arrives_intact);
    RUN(test_upstream_get_puts_body_in_query);
    RUN(test_upstream_http_error_is_an_answer);
    RUN(test_upstream_gzip_answer_is_decoded);
    RUN(test_upstream_oversized_answer_fails);
    RUN(test_upstream_connection_refused);
    RUN(test_upstream_silent_server_times_out);
    RUN(test_upstream_sequential_requests_share_one_connection);
    RUN(test_upstream_concurrent_requests_reuse_connections);
    RUN(test_upstream_free_cancels_in_flight);
    RUN(test_upstream_free_before_loop_runs);
    RUN(test_upstream_free_from_inside_a_callback);
    RUN(test_upstream_rejects_unknown_method);
    return check_summary();
}
