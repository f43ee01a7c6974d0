/* test_tls.c — the HTTP server over TLS seen from an OpenSSL client: a uv loop runs the
 * server (ig_http_server_start_tls on 127.0.0.1:0, with a certificate `irisgate cert` wrote
 * into IG_TEST_TMP) in the main thread while a client thread speaks TLS over a blocking,
 * time-bounded socket, verifying the certificate against that file. Pipelined requests on
 * one keep-alive connection must come back complete and in order, also when the handler
 * answers them out of order, past the pipeline limit (the server pauses with plaintext
 * still inside the TLS engine), and with an answer larger than a TLS record. A watchdog
 * stops the server if a case runs away. */
#include "check.h"
#include "irisgate/cli_cert.h"
#include "irisgate/http.h"
#include "irisgate/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define BIG_BYTES (200 * 1024) /* over twelve TLS records */

static char CERT[1024], KEY[1024];
static char BIG[BIG_BYTES];

typedef struct fixture fixture_t;
typedef void (*client_fn)(fixture_t *fx);

struct fixture {
    uv_loop_t loop;
    ig_tls_ctx_t *tls;
    ig_http_server_t *srv;
    int port;
    uv_async_t client_done;
    uv_timer_t watchdog;
    pthread_t thread;
    client_fn client;
    int stopped, handled, watchdog_fired;
};

/* ---- loop side ------------------------------------------------------------------------ */

typedef struct {
    uv_timer_t t;
    ig_http_req_t *req;
} later_t;

static void free_later(uv_handle_t *h) {
    free(h->data);
}

static void answer_path(ig_http_req_t *req) {
    char body[256];
    int n = snprintf(body, sizeof(body), "ok:%s", req->path);
    ig_http_respond_copy(req, 200, "text/plain", body, (size_t)n);
}

static void on_later(uv_timer_t *t) {
    later_t *l = t->data;
    answer_path(l->req);
    uv_close((uv_handle_t *)&l->t, free_later);
}

static void handler(void *ctx, ig_http_req_t *req) {
    fixture_t *fx = ctx;
    fx->handled++;
    /* /slowN answers after N*10 ms: later requests are ready before earlier ones. */
    if (strncmp(req->path, "/slow", 5) == 0) {
        later_t *l = calloc(1, sizeof(*l));
        l->req = req;
        uv_timer_init(&fx->loop, &l->t);
        l->t.data = l;
        uv_timer_start(&l->t, on_later, (uint64_t)atoi(req->path + 5) * 10, 0);
        return;
    }
    if (strcmp(req->path, "/big") == 0) {
        ig_http_respond(req, 200, NULL, 0, BIG, sizeof(BIG), NULL, NULL);
        return;
    }
    if (strcmp(req->path, "/echo") == 0) {
        ig_http_respond_copy(req, 200, "text/plain", req->body, req->body_len);
        return;
    }
    answer_path(req);
}

static void on_stopped(void *arg) {
    ((fixture_t *)arg)->stopped++;
}

static void on_client_done(uv_async_t *a) {
    fixture_t *fx = a->data;
    uv_close((uv_handle_t *)&fx->client_done, NULL);
    uv_close((uv_handle_t *)&fx->watchdog, NULL);
    ig_http_server_stop(fx->srv, on_stopped, fx);
}

static void on_watchdog(uv_timer_t *t) {
    fixture_t *fx = t->data;
    fx->watchdog_fired = 1;
    ig_http_server_stop(fx->srv, on_stopped, fx);
}

static void *client_main(void *arg) {
    fixture_t *fx = arg;
    fx->client(fx);
    uv_async_send(&fx->client_done);
    return NULL;
}

static fixture_t FX;

static void run_case(client_fn fn) {
    fixture_t *fx = &FX;
    memset(fx, 0, sizeof(*fx));
    char err[512] = "";
    int rc = ig_tls_ctx_new(CERT, KEY, &fx->tls, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    uv_loop_init(&fx->loop);
    rc = ig_http_server_start_tls(&fx->loop, "127.0.0.1", 0, fx->tls, handler, fx, &fx->srv);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        uv_loop_close(&fx->loop);
        ig_tls_ctx_free(fx->tls);
        return;
    }
    fx->port = ig_http_server_port(fx->srv);
    uv_async_init(&fx->loop, &fx->client_done, on_client_done);
    fx->client_done.data = fx;
    uv_timer_init(&fx->loop, &fx->watchdog);
    fx->watchdog.data = fx;
    uv_timer_start(&fx->watchdog, on_watchdog, 20000, 0);
    fx->client = fn;
    pthread_create(&fx->thread, NULL, client_main, fx);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    pthread_join(fx->thread, NULL);
    CHECK(!fx->watchdog_fired);
    CHECK_EQ_INT(fx->stopped, 1);
    CHECK_EQ_INT(uv_loop_close(&fx->loop), 0);
    ig_tls_ctx_free(fx->tls);
}

/* ---- client side ---------------------------------------------------------------------- */

typedef struct {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char *buf; /* what was read, not yet parsed */
    size_t len, cap;
    bool eof, close_notify;
} cl_t;

/* Connects and completes the handshake, verifying the server against CERT as "localhost". */
static bool cl_open(cl_t *c, int port) {
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) return false;
    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(c->ctx, CERT, NULL) != 1) return false;
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) {
        ERR_print_errors_fp(stderr);
        return false;
    }
    const unsigned char *proto = NULL;
    unsigned int plen = 0;
    SSL_get0_alpn_selected(c->ssl, &proto, &plen);
    CHECK(plen == 8 && memcmp(proto, "http/1.1", 8) == 0);
    CHECK_EQ_INT(SSL_get_verify_result(c->ssl), X509_V_OK);
    return true;
}

static void cl_close(cl_t *c) {
    if (c->ssl) SSL_free(c->ssl);
    if (c->ctx) SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
}

static bool cl_send(cl_t *c, const char *data, size_t len) {
    size_t done = 0;
    return SSL_write_ex(c->ssl, data, len, &done) == 1 && done == len;
}

/* Reads more plaintext; false at the end of the stream or on a timeout. */
static bool cl_fill(cl_t *c) {
    if (c->cap - c->len < 16384) {
        c->cap = c->cap ? c->cap * 2 : 65536;
        c->buf = realloc(c->buf, c->cap);
    }
    size_t got = 0;
    if (SSL_read_ex(c->ssl, c->buf + c->len, c->cap - c->len - 1, &got) == 1) {
        c->len += got;
        return true;
    }
    c->eof = true;
    c->close_notify = SSL_get_error(c->ssl, 0) == SSL_ERROR_ZERO_RETURN;
    return false;
}

typedef struct {
    int status;
    char head[1024];
    char *body;
    size_t body_len;
} resp_t;

/* The next answer (status line to the end of its Content-Length body). */
static bool cl_response(cl_t *c, resp_t *r) {
    for (;;) {
        if (c->buf) c->buf[c->len] = '\0';
        char *end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
        if (end) {
            size_t hlen = (size_t)(end - c->buf) + 4;
            const char *cl = strstr(c->buf, "Content-Length: ");
            size_t blen = cl && cl < end ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            if (c->len >= hlen + blen) {
                r->status = atoi(c->buf + 9);
                snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, c->buf);
                r->body = malloc(blen + 1);
                memcpy(r->body, c->buf + hlen, blen);
                r->body[blen] = '\0';
                r->body_len = blen;
                memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
                c->len -= hlen + blen;
                return true;
            }
        }
        if (!cl_fill(c)) return false;
    }
}

static bool ask_ok(cl_t *c, const char *path) {
    resp_t r;
    if (!cl_response(c, &r)) return false;
    char want[128];
    snprintf(want, sizeof(want), "ok:%s", path);
    bool ok = r.status == 200 && strcmp(r.body, want) == 0;
    if (!ok) fprintf(stderr, "  answer to %s: %d '%s'\n", path, r.status, r.body);
    free(r.body);
    return ok;
}

/* ---- cases ---------------------------------------------------------------------------- */

static void client_pipelined(fixture_t *fx) {
    cl_t c;
    CHECK(cl_open(&c, fx->port));
    /* Slow ones first: the later answers are ready first and must wait their turn. */
    const char *paths[] = {"/slow5", "/slow1", "/a", "/slow3", "/b", "/c"};
    size_t n = sizeof(paths) / sizeof(paths[0]);
    char req[2048];
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(req + len, sizeof(req) - len, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
                                paths[i]);
    CHECK(cl_send(&c, req, len));
    for (size_t i = 0; i < n; i++)
        CHECK(ask_ok(&c, paths[i]));
    /* The same connection goes on: a POST, then a last request with Connection: close. */
    static const char post[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                               "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK(cl_send(&c, post, sizeof(post) - 1));
    resp_t r;
    CHECK(cl_response(&c, &r) && r.status == 200 && strcmp(r.body, "hello") == 0);
    free(r.body);
    CHECK(cl_response(&c, &r) && strcmp(r.body, "ok:/last") == 0);
    CHECK(strstr(r.head, "Connection: close\r\n") != NULL);
    free(r.body);
    /* Then the server's close_notify, and nothing else. */
    CHECK(!cl_fill(&c));
    CHECK(c.close_notify);
    CHECK_EQ_INT(c.len, 0);
    cl_close(&c);
}

static void test_tls_pipelined_keepalive_in_order(void) {
    run_case(client_pipelined);
    CHECK_EQ_INT(FX.handled, 8);
}

/* More requests in one write than the server queues: it pauses with the rest still in the
 * TLS engine, and must resume from there without a new socket read. */
static void client_many(fixture_t *fx) {
    enum { N = IG_MAX_PIPELINE * 3 };
    cl_t c;
    CHECK(cl_open(&c, fx->port));
    /* Padded so that the requests span several TLS records. */
    static const char PAD[] =
        "0123456789012345678901234567890123456789012345678901234567890123456789";
    char *req = malloc(N * 160);
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(req + len, "GET /%s%d HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n",
                               i % 7 == 0 ? "slow" : "p", i % 7 == 0 ? 1 : i, PAD);
    CHECK(cl_send(&c, req, len));
    free(req);
    int good = 0;
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/%s%d", i % 7 == 0 ? "slow" : "p", i % 7 == 0 ? 1 : i);
        if (ask_ok(&c, path)) good++;
    }
    CHECK_EQ_INT(good, N);
    cl_close(&c);
}

static void test_tls_pipeline_over_limit_resumes(void) {
    run_case(client_many);
    CHECK_EQ_INT(FX.handled, IG_MAX_PIPELINE * 3);
}

/* An answer of many records between small ones, and Expect: 100-continue over TLS. */
static void client_big_and_continue(fixture_t *fx) {
    cl_t c;
    CHECK(cl_open(&c, fx->port));
    static const char reqs[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(cl_send(&c, reqs, sizeof(reqs) - 1));
    CHECK(ask_ok(&c, "/a"));
    resp_t r;
    CHECK(cl_response(&c, &r) && r.status == 200);
    CHECK_EQ_INT(r.body_len, BIG_BYTES);
    CHECK(r.body_len == BIG_BYTES && memcmp(r.body, BIG, BIG_BYTES) == 0);
    free(r.body);
    CHECK(ask_ok(&c, "/b"));
    static const char expect[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                 "Expect: 100-continue\r\n\r\n";
    CHECK(cl_send(&c, expect, sizeof(expect) - 1));
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    while (c.len < sizeof(cont) - 1 && cl_fill(&c))
        ;
    bool got_continue = c.len >= sizeof(cont) - 1 && memcmp(c.buf, cont, sizeof(cont) - 1) == 0;
    CHECK(got_continue);
    if (!got_continue) {
        cl_close(&c);
        return;
    }
    memmove(c.buf, c.buf + sizeof(cont) - 1, c.len - (sizeof(cont) - 1));
    c.len -= sizeof(cont) - 1;
    CHECK(cl_send(&c, "abc", 3));
    CHECK(cl_response(&c, &r) && r.status == 200 && strcmp(r.body, "abc") == 0);
    free(r.body);
    cl_close(&c);
}

static void test_tls_big_answer_and_expect_continue(void) {
    run_case(client_big_and_continue);
}

int main(void) {
    const char *tmp = getenv("IG_TEST_TMP");
    char dir[900];
    snprintf(dir, sizeof(dir), "%s/unit-tls-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (tmp && *tmp) mkdir(tmp, 0755);
    char *argv[] = {"cert", "--self-signed", "--out", dir, "--force", NULL};
    int rc = ig_cli_cert(5, argv);
    CHECK_EQ_INT(rc, 0);
    snprintf(CERT, sizeof(CERT), "%s/cert.pem", dir);
    snprintf(KEY, sizeof(KEY), "%s/key.pem", dir);
    for (size_t i = 0; i < sizeof(BIG); i++)
        BIG[i] = (char)('a' + (i * 7 + i / 251) % 26);
    if (rc == 0) {
        RUN(test_tls_pipelined_keepalive_in_order);
        RUN(test_tls_pipeline_over_limit_resumes);
        RUN(test_tls_big_answer_and_expect_continue);
    }
    unlink(CERT);
    unlink(KEY);
    rmdir(dir);
    return check_summary();
}
