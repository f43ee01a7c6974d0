/* test_http.c — the HTTP/1.1 server seen from a client: a uv loop runs the server on
 * 127.0.0.1:0 in the main thread while a client thread speaks raw HTTP over blocking
 * sockets (poll-bounded, so nothing hangs) and checks the exact bytes that come back. A
 * watchdog timer stops the server if a case runs away. */
#include "check.h"
#include "irisgate/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Independent copies of what the vendor says (docs/iris-api.md), not the code's macros. */
#define ENVELOPE(code, msg)                                                                        \
    "{\"error\":{\"code\":" #code ",\"message\":\"" msg "\"},\"resources\":{\"support\":"          \
    "\"https:\\/\\/docs.domaintools.com\"}}"
#define MALFORMED                                                                                  \
    "We could not understand your request. It may be missing important parameters or is simply "   \
    "malformed. Consult the API documentation for more details."

static const char STATIC_BODY[] = "hello world";
static char BIG_BODY[512 * 1024]; /* large enough that writes are still queued at a reset */

typedef struct fixture fixture_t;
typedef void (*client_fn)(fixture_t *fx);

struct fixture {
    uv_loop_t loop;
    ig_http_server_t *srv;
    int port;
    uv_async_t client_done;
    uv_timer_t watchdog;
    pthread_t thread;
    client_fn client;
    bool signaled;       /* client thread: the async was sent */
    bool stop_called;    /* loop thread from here on */
    int stopped;         /* done callback ran */
    int handled;         /* handler calls */
    int released;        /* release callbacks */
    int late_answers;    /* late answers given */
    int late_aborted;    /* ... of which to an aborted request */
    int late_after_stop; /* ... of which after the server was gone */
    int late_released;   /* late bodies let go */
    int watchdog_fired;
    char order[512];   /* paths in the order they were answered */
    char peer[64];     /* of the last request */
    uint64_t start_ns; /* of the last request */
};

/* ---- loop side ------------------------------------------------------------------------ */

typedef struct {
    uv_timer_t t;
    fixture_t *fx;
    ig_http_req_t *req;
} later_t;

static void count_release(void *arg) {
    ((fixture_t *)arg)->released++;
}

static void note_answer(fixture_t *fx, const char *path) {
    size_t n = strlen(fx->order);
    snprintf(fx->order + n, sizeof(fx->order) - n, "%s ", path);
}

typedef struct {
    fixture_t *fx;
    char text[64];
} late_body_t;

static void late_release(void *arg) {
    late_body_t *b = arg;
    b->fx->late_released++;
    free(b);
}

static void free_later(uv_handle_t *h) {
    free(h->data);
}

static void on_later(uv_timer_t *t) {
    later_t *l = t->data;
    fixture_t *fx = l->fx;
    fx->late_answers++;
    if (ig_http_req_aborted(l->req)) fx->late_aborted++;
    if (fx->stopped) fx->late_after_stop++;
    note_answer(fx, l->req->path);
    /* Through the zero-copy path, so release proves the body is let go even into the void. */
    late_body_t *b = malloc(sizeof(*b));
    b->fx = fx;
    int n = snprintf(b->text, sizeof(b->text), "late:%s", l->req->path);
    ig_http_respond(l->req, 200, "Content-Type: text/plain\r\n", 26, b->text, (size_t)n,
                    late_release, b);
    uv_close((uv_handle_t *)&l->t, free_later);
}

static void answer_later(fixture_t *fx, ig_http_req_t *req, uint64_t ms) {
    later_t *l = calloc(1, sizeof(*l));
    l->fx = fx;
    l->req = req;
    uv_timer_init(&fx->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_later, ms, 0);
}

static void handler(void *ctx, ig_http_req_t *req) {
    fixture_t *fx = ctx;
    fx->handled++;
    memcpy(fx->peer, req->peer, sizeof(fx->peer));
    fx->start_ns = req->start_ns;
    if (strcmp(req->path, "/late") == 0) {
        answer_later(fx, req, 100);
        return;
    }
    if (strcmp(req->path, "/hold") == 0) {
        answer_later(fx, req, 300);
        return;
    }
    note_answer(fx, req->path);
    if (strcmp(req->path, "/static") == 0) {
        ig_http_respond(req, 200, "Content-Type: text/plain\r\n", 26, STATIC_BODY,
                        sizeof(STATIC_BODY) - 1, count_release, fx);
        return;
    }
    if (strcmp(req->path, "/drop") == 0) {
        ig_http_drop(req);
        return;
    }
    if (strcmp(req->path, "/big") == 0) {
        ig_http_respond(req, 200, NULL, 0, BIG_BODY, sizeof(BIG_BODY), count_release, fx);
        return;
    }
    if (strcmp(req->path, "/echo") == 0) {
        const char *t = ig_http_header(req, "x-test");
        const char *e = ig_http_header(req, "x-empty");
        char out[512];
        int n =
            snprintf(out, sizeof(out), "%s %s q=%s t=%s e=%s%s%s b=%s", req->method_str, req->path,
                     req->query, t ? t : "-", e ? "[" : "", e ? e : "-", e ? "]" : "", req->body);
        if (n < 0 || (size_t)n >= sizeof(out)) n = 0;
        ig_http_respond_copy(req, 200, "text/plain", out, (size_t)n);
        return;
    }
    size_t cap = req->path_len + 8;
    char *out = malloc(cap);
    int n = snprintf(out, cap, "ok:%s", req->path);
    ig_http_respond_copy(req, 200, "text/plain", out, (size_t)n);
    free(out);
}

static void on_stopped(void *arg) {
    ((fixture_t *)arg)->stopped++;
}

static void stop_server(fixture_t *fx) {
    if (fx->stop_called) return;
    fx->stop_called = true;
    ig_http_server_stop(fx->srv, on_stopped, fx);
}

static void on_client_done(uv_async_t *a) {
    fixture_t *fx = a->data;
    uv_close((uv_handle_t *)&fx->client_done, NULL);
    uv_close((uv_handle_t *)&fx->watchdog, NULL);
    stop_server(fx);
}

static void on_watchdog(uv_timer_t *t) {
    fixture_t *fx = t->data;
    fx->watchdog_fired = 1;
    stop_server(fx); /* the client then sees its sockets close and finishes */
}

static void signal_done(fixture_t *fx) {
    if (fx->signaled) return;
    fx->signaled = true;
    uv_async_send(&fx->client_done);
}

static void *client_main(void *arg) {
    fixture_t *fx = arg;
    fx->client(fx);
    signal_done(fx);
    return NULL;
}

static fixture_t FX;

static fixture_t *run_case(client_fn fn) {
    fixture_t *fx = &FX;
    memset(fx, 0, sizeof(*fx));
    uv_loop_init(&fx->loop);
    int rc = ig_http_server_start(&fx->loop, "127.0.0.1", 0, handler, fx, &fx->srv);
    CHECK_EQ_INT(rc, 0);
    if (rc) {
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_loop_close(&fx->loop);
        return fx;
    }
    fx->port = ig_http_server_port(fx->srv);
    CHECK(fx->port > 0);
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
    return fx;
}

/* ---- client side ---------------------------------------------------------------------- */

static int cl_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct {
    char *buf;
    size_t len, cap;
    bool eof;
} rx_t;

typedef struct {
    int status;
    const char *head; /* status line through the blank line */
    size_t head_len;
    const char *body;
    size_t body_len;
} resp_t;

static bool head_has(const resp_t *r, const char *line) {
    char want[256];
    snprintf(want, sizeof(want), "\r\n%s\r\n", line);
    return memmem(r->head, r->head_len, want, strlen(want)) != NULL;
}

/* Complete responses at the start of buf; bit i of head_mask: the i-th answers a HEAD. 1xx
 * interim answers are skipped. */
static int parse_responses(const char *buf, size_t len, unsigned head_mask, resp_t *out, int max) {
    size_t off = 0;
    int n = 0;
    while (off < len) {
        const char *start = buf + off;
        const char *e = memmem(start, len - off, "\r\n\r\n", 4);
        if (!e) break;
        size_t hl = (size_t)(e + 4 - start);
        int status = (hl > 12 && memcmp(start, "HTTP/1.1 ", 9) == 0) ? atoi(start + 9) : 0;
        if (status / 100 == 1) {
            off += hl;
            continue;
        }
        size_t cl = 0;
        const char *h = memmem(start, hl, "\r\nContent-Length: ", 18);
        if (h) cl = strtoul(h + 18, NULL, 10);
        size_t bl = (n < 32 && (head_mask & (1u << n))) ? 0 : cl;
        if (len - off - hl < bl) break;
        if (out && n < max) {
            out[n].status = status;
            out[n].head = start;
            out[n].head_len = hl;
            out[n].body = start + hl;
            out[n].body_len = bl;
        }
        n++;
        off += hl + bl;
    }
    return n;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends out while reading, until `want` responses are complete (want < 0: until EOF), the
 * peer closes, or timeout_ms pass. Bytes accumulate in rx. */
static void cl_exchange(int fd, const char *out, size_t outlen, rx_t *rx, int want,
                        unsigned head_mask, int timeout_ms) {
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    size_t sent = 0;
    while (!rx->eof) {
        if (want >= 0 && parse_responses(rx->buf, rx->len, head_mask, NULL, 0) >= want) break;
        uint64_t now = now_ms();
        if (now >= deadline) break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < outlen ? POLLOUT : 0)};
        if (poll(&pfd, 1, (int)(deadline - now)) <= 0) continue;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (rx->cap - rx->len < 65536) {
                rx->cap = rx->cap ? rx->cap * 2 + 65536 : 65536 * 2;
                rx->buf = realloc(rx->buf, rx->cap + 1);
            }
            ssize_t n = recv(fd, rx->buf + rx->len, rx->cap - rx->len, MSG_DONTWAIT);
            if (n > 0) {
                rx->len += (size_t)n;
                rx->buf[rx->len] = '\0';
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                rx->eof = true;
            }
        }
        if (sent < outlen && (pfd.revents & POLLOUT)) {
            ssize_t n = send(fd, out + sent, outlen - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (errno != EAGAIN && errno != EINTR)
                sent = outlen; /* the server stopped listening to us */
        }
    }
}

static void cl_send_all2(int fd, const char *s, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t k = send(fd, s + off, n - off, MSG_NOSIGNAL);
        if (k <= 0) return;
        off += (size_t)k;
    }
}

static void cl_send_all(int fd, const char *s) {
    cl_send_all2(fd, s, strlen(s));
}

static void rx_free(rx_t *rx) {
    free(rx->buf);
    memset(rx, 0, sizeof(*rx));
}

/* One request on fd, one response parsed into *r (pointing into rx). */
static bool ask(int fd, const char *request, rx_t *rx, resp_t *r) {
    rx->len = 0;
    cl_exchange(fd, request, strlen(request), rx, 1, 0, 5000);
    return parse_responses(rx->buf, rx->len, 0, r, 1) == 1;
}

static bool body_is(const resp_t *r, const char *want) {
    return r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0;
}

static bool status_line_is(const resp_t *r, const char *want) {
    size_t n = strlen(want);
    return r->head_len > n + 2 && memcmp(r->head, want, n) == 0 && r->head[n] == '\r';
}

static bool date_ok(const resp_t *r) {
    const char *d = memmem(r->head, r->head_len, "\r\nDate: ", 8);
    if (!d) return false;
    d += 8;
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" — 29 characters */
    const char *end = memmem(d, (size_t)(r->head + r->head_len - d), "\r\n", 2);
    if (!end || end - d != 29) return false;
    static const char *days = "Mon,Tue,Wed,Thu,Fri,Sat,Sun,";
    char day[5];
    memcpy(day, d, 4);
    day[4] = '\0';
    return strstr(days, day) != NULL && memcmp(d + 25, " GMT", 4) == 0 && d[4] == ' ' &&
           d[7] == ' ' && d[11] == ' ' && d[16] == ' ' && d[19] == ':' && d[22] == ':';
}

/* ---- cases ---------------------------------------------------------------------------- */

static void client_keepalive(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    CHECK(fd >= 0);
    rx_t rx = {0};
    resp_t r = {0};
    CHECK(ask(fd, "GET /echo?a=1&b=%2F HTTP/1.1\r\nHost: x\r\nX-TeSt: Hello\r\nX-Empty:\r\n\r\n",
              &rx, &r));
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK(body_is(&r, "GET /echo q=a=1&b=%2F t=Hello e=[] b="));
    CHECK(head_has(&r, "Content-Type: text/plain"));
    CHECK(head_has(&r, "Content-Length: 37"));
    CHECK(head_has(&r, "Connection: keep-alive"));
    CHECK(date_ok(&r));
    CHECK(ask(fd, "GET /second HTTP/1.1\r\nHost: x\r\n\r\n", &rx, &r));
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK(body_is(&r, "ok:/second"));
    CHECK(!rx.eof);
    rx_free(&rx);
    close(fd);
}

static void test_http_keepalive_two_requests(void) {
    uint64_t before = ig_mono_ns();
    fixture_t *fx = run_case(client_keepalive);
    CHECK_EQ_INT(fx->handled, 2);
    CHECK_EQ_STR(fx->peer, "127.0.0.1");
    CHECK(fx->start_ns > before && fx->start_ns < ig_mono_ns());
}

static void client_pipelined(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    const char *both = "GET /late HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n";
    cl_exchange(fd, both, strlen(both), &rx, 2, 0, 5000);
    resp_t r[2] = {{0}};
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r, 2), 2);
    CHECK(body_is(&r[0], "late:/late"));
    CHECK(body_is(&r[1], "ok:/now"));
    rx_free(&rx);
    close(fd);
}

static void test_http_pipelined_answers_in_order(void) {
    fixture_t *fx = run_case(client_pipelined);
    /* the handler really did answer the second first */
    CHECK_EQ_STR(fx->order, "/now /late ");
}

#define MANY 1000

static void client_pipeline_many(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    size_t cap = (size_t)MANY * 128, len = 0;
    char *out = malloc(cap);
    for (int i = 0; i < MANY; i++)
        len += (size_t)snprintf(out + len, cap - len,
                                "GET /n/%d HTTP/1.1\r\nHost: x\r\nX-Pad: "
                                "0123456789012345678901234567890123456789\r\n\r\n",
                                i);
    rx_t rx = {0};
    cl_exchange(fd, out, len, &rx, MANY, 0, 10000);
    resp_t *r = calloc(MANY, sizeof(*r));
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r, MANY), MANY);
    int in_order = 0;
    for (int i = 0; i < MANY; i++) {
        char want[32];
        snprintf(want, sizeof(want), "ok:/n/%d", i);
        if (r[i].body && body_is(&r[i], want)) in_order++;
    }
    CHECK_EQ_INT(in_order, MANY);
    free(r);
    free(out);
    rx_free(&rx);
    close(fd);
}

/* More pipelined requests than IG_MAX_PIPELINE, over more than one read buffer: the server
 * pauses, keeps the unparsed rest, and resumes without losing or reordering one. */
static void test_http_pipeline_over_limit_resumes(void) {
    fixture_t *fx = run_case(client_pipeline_many);
    CHECK_EQ_INT(fx->handled, MANY);
}

static void client_post(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    resp_t r = {0};
    CHECK(ask(fd,
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
              "application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\ndomain=a.com",
              &rx, &r));
    CHECK(body_is(&r, "POST /echo q= t=- e=- b=domain=a.com"));
    /* chunked, split across two sends so the body arrives in pieces */
    cl_send_all(fd,
                "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    usleep(30000);
    CHECK(ask(fd, "lo\r\n6\r\n world\r\n0\r\n\r\n", &rx, &r));
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK(body_is(&r, "POST /echo q=x=1 t=- e=- b=hello world"));
    CHECK(ask(fd, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", &rx, &r));
    CHECK(body_is(&r, "ok:/after"));
    rx_free(&rx);
    close(fd);
}

static void test_http_post_body_and_chunked(void) {
    fixture_t *fx = run_case(client_post);
    CHECK_EQ_INT(fx->handled, 3);
}

static void client_expect(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    const char *h = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                    "11\r\n\r\n";
    /* nothing but the interim answer may come before the body is sent */
    cl_exchange(fd, h, strlen(h), &rx, 1, 0, 500);
    CHECK_EQ_STR(rx.buf, "HTTP/1.1 100 Continue\r\n\r\n");
    resp_t r = {0};
    rx.len = 0;
    cl_exchange(fd, "hello there", 11, &rx, 1, 0, 5000);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, &r, 1), 1);
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK(body_is(&r, "POST /echo q= t=- e=- b=hello there"));
    rx_free(&rx);
    close(fd);

    /* A body that would be refused is refused at once, without 100 Continue. */
    fd = cl_connect(fx->port);
    rx.len = 0;
    h = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n";
    cl_exchange(fd, h, strlen(h), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, &r, 1), 1);
    CHECK(rx.len >= 32 && memcmp(rx.buf, "HTTP/1.1 413 Payload Too Large\r\n", 32) == 0);
    CHECK(head_has(&r, "Connection: close"));
    rx_free(&rx);
    close(fd);

    /* Behind an unanswered request, 100 Continue waits for that answer to leave first. */
    fd = cl_connect(fx->port);
    h = "GET /late HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nExpect: "
        "100-continue\r\nContent-Length: 2\r\n\r\n";
    cl_exchange(fd, h, strlen(h), &rx, 1, 0, 5000);
    usleep(50000); /* room for a wrongly early 100 Continue to show up */
    cl_exchange(fd, NULL, 0, &rx, 2, 0, 50);
    static const char late_then_continue[] = "late:/lateHTTP/1.1 100 Continue\r\n\r\n";
    CHECK(rx.len > sizeof(late_then_continue) &&
          strcmp(rx.buf + rx.len - (sizeof(late_then_continue) - 1), late_then_continue) == 0);
    size_t first = rx.len;
    cl_exchange(fd, "ok", 2, &rx, 2, 0, 5000);
    resp_t r2[2] = {{0}};
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r2, 2), 2);
    CHECK(body_is(&r2[0], "late:/late"));
    CHECK(body_is(&r2[1], "POST /echo q= t=- e=- b=ok"));
    CHECK(rx.len > first);
    rx_free(&rx);
    close(fd);
}

static void test_http_expect_100_continue(void) {
    fixture_t *fx = run_case(client_expect);
    CHECK_EQ_INT(fx->handled, 3);
}

static void client_upgrade(fixture_t *fx) {
    /* Upgrade is not offered: the request is answered and HTTP/1.1 goes on. */
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    resp_t r[2] = {{0}};
    const char *q = "POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: "
                    "websocket\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: "
                    "x\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, 2, 0, 5000);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r, 2), 2);
    CHECK(body_is(&r[0], "ok:/up"));
    CHECK(body_is(&r[1], "ok:/next"));
    CHECK(head_has(&r[1], "Connection: keep-alive"));
    close(fd);
    /* After CONNECT comes another protocol: answer, close, parse nothing more. */
    fd = cl_connect(fx->port);
    rx.len = 0;
    q = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /no HTTP/1.1\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r, 2), 1);
    CHECK(head_has(&r[0], "Connection: close"));
    CHECK(body_is(&r[0], "ok:example.com:443"));
    rx_free(&rx);
    close(fd);
}

static void test_http_upgrade_ignored_connect_closes(void) {
    fixture_t *fx = run_case(client_upgrade);
    CHECK_EQ_INT(fx->handled, 3);
}

static void client_http10(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    resp_t r = {0};
    const char *q = "GET /echo HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, &r, 1), 1);
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK(head_has(&r, "Connection: close"));
    CHECK(body_is(&r, "GET /echo q= t=- e=- b="));
    CHECK_EQ_INT(r.head_len + r.body_len, rx.len); /* nothing for the ignored request */
    close(fd);

    fd = cl_connect(fx->port);
    rx.eof = false;
    CHECK(ask(fd, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &rx, &r));
    CHECK(head_has(&r, "Connection: keep-alive"));
    CHECK(body_is(&r, "ok:/a"));
    CHECK(ask(fd, "GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &rx, &r));
    CHECK(body_is(&r, "ok:/b"));
    CHECK(!rx.eof);
    close(fd);

    /* HTTP/1.1 asking to close */
    fd = cl_connect(fx->port);
    rx.len = 0;
    q = "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, &r, 1), 1);
    CHECK(head_has(&r, "Connection: close"));
    CHECK(body_is(&r, "ok:/c"));
    rx_free(&rx);
    close(fd);
}

static void test_http_10_close_and_keepalive(void) {
    fixture_t *fx = run_case(client_http10);
    CHECK_EQ_INT(fx->handled, 4);
}

/* Sends q, expects one vendor-shaped refusal then the connection's end. */
static void expect_refusal(fixture_t *fx, const char *q, size_t qlen, const char *status_line,
                           const char *body) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    resp_t r = {0};
    cl_exchange(fd, q, qlen, &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, &r, 1), 1);
    CHECK(status_line_is(&r, status_line));
    CHECK(head_has(&r, "Content-Type: application/json;charset=utf-8"));
    CHECK(head_has(&r, "Connection: close"));
    CHECK(body_is(&r, body));
    if (!body_is(&r, body)) fprintf(stderr, "got: %.*s\n", (int)r.body_len, r.body);
    rx_free(&rx);
    close(fd);
}

static void client_url_too_long(fixture_t *fx) {
    size_t cap = 10000;
    char *q = malloc(cap);
    memcpy(q, "GET /", 5);
    memset(q + 5, 'a', 9000);
    strcpy(q + 9005, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refusal(fx, q, strlen(q), "HTTP/1.1 414 URI Too Long",
                   ENVELOPE(414, "The request URI is too long."));
    /* just under the limit is fine */
    int fd = cl_connect(fx->port);
    memset(q + 5, 'b', 8000);
    strcpy(q + 8005, " HTTP/1.1\r\nHost: x\r\n\r\n");
    rx_t rx = {0};
    resp_t r = {0};
    CHECK(ask(fd, q, &rx, &r));
    CHECK(status_line_is(&r, "HTTP/1.1 200 OK"));
    CHECK_EQ_INT(r.body_len, 3 + 8001);
    rx_free(&rx);
    close(fd);
    free(q);
}

static void test_http_url_too_long_414(void) {
    fixture_t *fx = run_case(client_url_too_long);
    CHECK_EQ_INT(fx->handled, 1);
}

static void client_headers_too_large(fixture_t *fx) {
    char *q = malloc(64 * 1024);
    size_t n = (size_t)sprintf(q, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 70; i++)
        n += (size_t)sprintf(q + n, "X-H%d: v\r\n", i);
    strcpy(q + n, "\r\n");
    expect_refusal(fx, q, strlen(q), "HTTP/1.1 431 Request Header Fields Too Large",
                   ENVELOPE(431, "The request header fields are too large."));
    n = (size_t)sprintf(q, "GET / HTTP/1.1\r\nX-Big: ");
    memset(q + n, 'z', 40000);
    strcpy(q + n + 40000, "\r\n\r\n");
    expect_refusal(fx, q, strlen(q), "HTTP/1.1 431 Request Header Fields Too Large",
                   ENVELOPE(431, "The request header fields are too large."));
    free(q);
}

static void test_http_headers_too_large_431(void) {
    fixture_t *fx = run_case(client_headers_too_large);
    CHECK_EQ_INT(fx->handled, 0);
}

static void client_body_too_large(fixture_t *fx) {
    const char *q = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n";
    expect_refusal(fx, q, strlen(q), "HTTP/1.1 413 Payload Too Large",
                   ENVELOPE(413, "The request body is too large."));
    /* chunked: only counting shows it; the client is still sending when refused */
    size_t cap = 1300 * 1024, n = 0;
    char *big = malloc(cap);
    n += (size_t)sprintf(big,
                         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 20; i++) {
        n += (size_t)sprintf(big + n, "10000\r\n");
        memset(big + n, 'x', 0x10000);
        n += 0x10000;
        n += (size_t)sprintf(big + n, "\r\n");
    }
    n += (size_t)sprintf(big + n, "0\r\n\r\n");
    expect_refusal(fx, big, n, "HTTP/1.1 413 Payload Too Large",
                   ENVELOPE(413, "The request body is too large."));
    free(big);
}

static void test_http_body_too_large_413(void) {
    fixture_t *fx = run_case(client_body_too_large);
    CHECK_EQ_INT(fx->handled, 0);
}

static void client_garbage(fixture_t *fx) {
    const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
    expect_refusal(fx, tls, sizeof(tls) - 1, "HTTP/1.1 400 Bad Request", ENVELOPE(400, MALFORMED));
    const char *nocolon = "GET / HTTP/1.1\r\nHost x\r\n\r\n";
    expect_refusal(fx, nocolon, strlen(nocolon), "HTTP/1.1 400 Bad Request",
                   ENVELOPE(400, MALFORMED));
    /* a good request before the garbage is still answered, first */
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    resp_t r[2] = {{0}};
    const char *q = "GET /good HTTP/1.1\r\nHost: x\r\n\r\nBLAH BLAH\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 0, r, 2), 2);
    CHECK(body_is(&r[0], "ok:/good"));
    CHECK(status_line_is(&r[1], "HTTP/1.1 400 Bad Request"));
    CHECK(body_is(&r[1], ENVELOPE(400, MALFORMED)));
    rx_free(&rx);
    close(fd);
}

static void test_http_garbage_400_vendor_json(void) {
    fixture_t *fx = run_case(client_garbage);
    CHECK_EQ_INT(fx->handled, 1);
}

static void client_gone(fixture_t *fx) {
    /* one hangs up politely, one resets */
    int a = cl_connect(fx->port), b = cl_connect(fx->port);
    cl_send_all(a, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    cl_send_all(b, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100000); /* both reach the handler (answers come at 300 ms) */
    close(a);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(b);
    usleep(400000); /* the answers go into the void while the server still runs */
}

static void test_http_client_gone_before_answer(void) {
    fixture_t *fx = run_case(client_gone);
    CHECK_EQ_INT(fx->handled, 2);
    CHECK_EQ_INT(fx->late_answers, 2);
    CHECK_EQ_INT(fx->late_aborted, 2);
    CHECK_EQ_INT(fx->late_released, 2); /* bodies answered into the void are let go */
}

static void client_reset_mid_answer(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    char q[20 * 40];
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n += (size_t)sprintf(q + n, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    rx_t rx = {0};
    cl_exchange(fd, q, n, &rx, 1, 0, 5000); /* the first answer arrived; 19 more are coming */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    usleep(100000);
    /* the server (and this process: no SIGPIPE) is still there */
    fd = cl_connect(fx->port);
    resp_t r = {0};
    CHECK(fd >= 0 && ask(fd, "GET /still HTTP/1.1\r\nHost: x\r\n\r\n", &rx, &r));
    CHECK(body_is(&r, "ok:/still"));
    close(fd);

    /* Over IG_MAX_PIPELINE late requests: the server stops reading (so it cannot see the
     * reset) and then answers 64 at once into a reset socket — write after write fails. */
    fd = cl_connect(fx->port);
    char *many = malloc(70 * 40);
    n = 0;
    for (int i = 0; i < 70; i++)
        n += (size_t)sprintf(many + n, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    cl_send_all2(fd, many, n);
    free(many);
    usleep(30000);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    usleep(200000); /* the late answers (100 ms) have been tried */
    fd = cl_connect(fx->port);
    CHECK(fd >= 0 && ask(fd, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n", &rx, &r));
    CHECK(body_is(&r, "ok:/again"));
    rx_free(&rx);
    close(fd);
}

static void test_http_client_reset_mid_answer(void) {
    fixture_t *fx = run_case(client_reset_mid_answer);
    CHECK_EQ_INT(fx->handled, 21 + 64 + 1); /* parsing stopped at IG_MAX_PIPELINE */
    CHECK_EQ_INT(fx->released, 20);         /* written or dropped, every body is let go once */
    CHECK_EQ_INT(fx->late_released, 64);
}

static void client_drop(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    const char *q = "GET /late HTTP/1.1\r\nHost: x\r\n\r\nGET /drop HTTP/1.1\r\nHost: x\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(rx.len, 0); /* not even the answer to the request before it */
    rx_free(&rx);
    close(fd);
    usleep(200000); /* the late answer goes into the void */
}

static void test_http_drop_closes_without_answer(void) {
    fixture_t *fx = run_case(client_drop);
    CHECK_EQ_INT(fx->handled, 2);
    CHECK_EQ_INT(fx->late_answers, 1);
    CHECK_EQ_INT(fx->late_aborted, 1);
    CHECK_EQ_INT(fx->late_released, 1);
}

static void client_stop_pending(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    cl_send_all(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100000);
    signal_done(fx); /* the server stops with the request unanswered */
    rx_t rx = {0};
    cl_exchange(fd, NULL, 0, &rx, -1, 0, 5000);
    CHECK(rx.eof);
    CHECK_EQ_INT(rx.len, 0);
    rx_free(&rx);
    close(fd);
}

static void test_http_stop_with_request_pending(void) {
    fixture_t *fx = run_case(client_stop_pending);
    CHECK_EQ_INT(fx->late_answers, 1);
    CHECK_EQ_INT(fx->late_aborted, 1);
    CHECK_EQ_INT(fx->late_after_stop, 1); /* answered after the server was freed */
    CHECK_EQ_INT(fx->late_released, 1);
}

static void client_head(fixture_t *fx) {
    int fd = cl_connect(fx->port);
    rx_t rx = {0};
    const char *q =
        "HEAD /static HTTP/1.1\r\nHost: x\r\n\r\nGET /static HTTP/1.1\r\nHost: x\r\n\r\n";
    cl_exchange(fd, q, strlen(q), &rx, 2, 1u, 5000);
    resp_t r[2] = {{0}};
    CHECK_EQ_INT(parse_responses(rx.buf, rx.len, 1u, r, 2), 2);
    CHECK(status_line_is(&r[0], "HTTP/1.1 200 OK"));
    CHECK(head_has(&r[0], "Content-Length: 11"));
    CHECK_EQ_INT(r[0].body_len, 0);
    /* the GET's answer starts right after the HEAD's blank line */
    CHECK(status_line_is(&r[1], "HTTP/1.1 200 OK"));
    CHECK(body_is(&r[1], "hello world"));
    CHECK_EQ_INT(r[0].head_len + r[1].head_len + 11, rx.len);
    rx_free(&rx);
    close(fd);
}

static void test_http_head_request(void) {
    fixture_t *fx = run_case(client_head);
    CHECK_EQ_INT(fx->released, 2);
}

int main(void) {
    RUN(test_http_keepalive_two_requests);
    RUN(test_http_pipelined_answers_in_order);
    RUN(test_http_pipeline_over_limit_resumes);
    RUN(test_http_post_body_and_chunked);
    RUN(test_http_expect_100_continue);
    RUN(test_http_10_close_and_keepalive);
    RUN(test_http_upgrade_ignored_connect_closes);
    RUN(test_http_url_too_long_414);
    RUN(test_http_headers_too_large_431);
    RUN(test_http_body_too_large_413);
    RUN(test_http_garbage_400_vendor_json);
    RUN(test_http_client_gone_before_answer);
    RUN(test_http_client_reset_mid_answer);
    RUN(test_http_drop_closes_without_answer);
    RUN(test_http_stop_with_request_pending);
    RUN(test_http_head_request);
    return check_summary();
}
