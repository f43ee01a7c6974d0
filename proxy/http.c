/* http.c — the HTTP/1.1 server of irisgate and fakeiris: a libuv listener, one llhttp parser
 * per connection, requests handed to the handler when complete, answers written strictly in
 * request order (pipelining), keep-alive, HTTP/1.0, chunked bodies, Expect: 100-continue,
 * and the vendor's JSON error for what it refuses itself (400, 413, 414, 431).
 *
 * Never blocks, never copies a response body (head and body leave in one writev), never
 * parses past a request it cannot queue (over IG_MAX_PIPELINE outstanding it stops reading
 * and keeps the unparsed rest of its read buffer). Starting a server ignores SIGPIPE.
 *
 * Life cycle: the server owns its connections and is freed once the listener and every
 * connection handle are closed (then done() runs). A connection owns its requests and
 * outlives every one of them: when it closes with requests unanswered it is marked aborted,
 * detached from the server, and freed by the last ig_http_respond() into the void.
 *
 * TLS (a server started with ig_http_server_start_tls): a connection then owns an
 * ig_tls_conn_t (proxy/tls.c). Reads feed it ciphertext and the plaintext it gives goes to
 * llhttp from the same rbuf; answers are encrypted as they leave the queue (head and a small
 * body as one record) and the ciphertext of every answer ready at once leaves in one write.
 * The plain path only pays `if (c->tls)` tests. A TLS failure (a bad hello, plain HTTP to
 * the port, a broken record) ends only its own connection: the alert (or, for plain HTTP,
 * a vendor-shaped 400) is written, then the connection half-closes and drains like any last
 * answer; a client gone mid-handshake is an ordinary end of stream.
 */
#include "irisgate/http.h"

#include "irisgate/tls.h"
#include "irisgate/vendor.h"

#include <llhttp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_BUF_BYTES (64 * 1024)
#define BACKLOG 1024
/* After the last answer on a connection we half-close and drain what the client still sends
 * for this long, so that a refused upload sees our 413 rather than a reset. */
#define LINGER_MS 2000
/* A connection with nothing outstanding that sends nothing for this long is closed, as
 * nginx's keepalive_timeout does, so idle or stalled clients cannot hold descriptors. */
#define IDLE_MS 75000
/* A recycled request keeps its buffers unless they grew past these. */
#define SPARE_TEXT_MAX (16 * 1024)
#define SPARE_BODY_MAX (64 * 1024)
/* Over TLS, an answer whose head and body together fit this is encrypted as one record. */
#define TLS_ONE_RECORD_MAX (16 * 1024 - 256)

typedef struct req {
    ig_http_req_t pub; /* first: the handler's pointer is ours */
    uv_write_t wr;
    ig_buf_t text; /* URL NUL, then name NUL value NUL for each header */
    ig_buf_t body;
    ig_buf_t head; /* the response head, written before the body */
    size_t url_len;
    size_t header_bytes;
    size_t nh; /* headers completed */
    bool in_field;
    bool head_only; /* HEAD: no body on the wire */
    uint32_t name_off[IG_MAX_HEADERS];
    uint32_t value_off[IG_MAX_HEADERS];
    ig_http_header_t hdrs[IG_MAX_HEADERS];
} req_t;

struct ig_http_conn {
    uv_tcp_t tcp;
    uv_timer_t linger;
    uv_shutdown_t shut;
    llhttp_t parser;
    ig_http_server_t *srv; /* NULL once closed */
    ig_http_conn_t *prev, *next;
    req_t *cur;                   /* being parsed */
    req_t *spare;                 /* one recycled request */
    ig_http_req_t *qhead, *qtail; /* handed to the handler, not yet being written */
    unsigned nqueued, nwrites;
    const char *rest; /* unparsed input kept in rbuf while paused */
    size_t rest_len;
    int err_status; /* why a callback refused the input */
    int nhandles;
    bool reading, paused, input_done, close_idle, aborted, closing, closed, lingering;
    bool continue_owed, in_execute, timer_init;
    bool tls_pumping, tls_dead;
    ig_tls_conn_t *tls; /* NULL on a plain connection */
    char peer[64];
    char rbuf[READ_BUF_BYTES];
};

struct ig_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    ig_tls_ctx_t *tls; /* not owned; NULL: plain HTTP */
    ig_http_handler_fn handler;
    void *ctx;
    int port;
    ig_http_conn_t *conns;
    size_t nconns;
    bool stopping, listener_closed;
    void (*done)(void *);
    void *done_arg;
    time_t date_sec;
    char date[64];
};

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
static char empty_str[1];

static void conn_close(ig_http_conn_t *c);
static void feed(ig_http_conn_t *c, const char *data, size_t len);
static void flush(ig_http_conn_t *c);
static void tls_pump(ig_http_conn_t *c);
static void tls_send(ig_http_conn_t *c, bool last);

/* ---- requests ------------------------------------------------------------------------- */

static req_t *req_new(ig_http_conn_t *c) {
    req_t *r = c->spare;
    if (r) {
        c->spare = NULL;
    } else {
        r = malloc(sizeof(*r));
        if (!r) return NULL;
        memset(&r->text, 0, sizeof(r->text));
        memset(&r->body, 0, sizeof(r->body));
        memset(&r->head, 0, sizeof(r->head));
    }
    memset(&r->pub, 0, sizeof(r->pub));
    ig_buf_reset(&r->text);
    ig_buf_reset(&r->body);
    ig_buf_reset(&r->head);
    r->url_len = 0;
    r->header_bytes = 0;
    r->nh = 0;
    r->in_field = false;
    r->head_only = false;
    r->pub.conn = c;
    return r;
}

static void req_destroy(req_t *r) {
    ig_buf_free(&r->text);
    ig_buf_free(&r->body);
    ig_buf_free(&r->head);
    free(r);
}

static void req_release(req_t *r) {
    void (*fn)(void *) = r->pub.release;
    r->pub.release = NULL;
    if (fn) fn(r->pub.release_arg);
}

static void req_recycle(ig_http_conn_t *c, req_t *r) {
    if (c->spare || c->closed) {
        req_destroy(r);
        return;
    }
    if (r->text.cap > SPARE_TEXT_MAX) ig_buf_free(&r->text);
    if (r->body.cap > SPARE_BODY_MAX) ig_buf_free(&r->body);
    if (r->head.cap > SPARE_TEXT_MAX) ig_buf_free(&r->head);
    c->spare = r;
}

static void enqueue(ig_http_conn_t *c, req_t *r) {
    r->pub.next = NULL;
    if (c->qtail)
        c->qtail->next = &r->pub;
    else
        c->qhead = &r->pub;
    c->qtail = &r->pub;
    c->nqueued++;
}

static void dequeue(ig_http_conn_t *c, ig_http_req_t *q) {
    ig_http_req_t *prev = NULL;
    for (ig_http_req_t *it = c->qhead; it; prev = it, it = it->next) {
        if (it != q) continue;
        if (prev)
            prev->next = it->next;
        else
            c->qhead = it->next;
        if (c->qtail == it) c->qtail = prev;
        c->nqueued--;
        it->next = NULL;
        return;
    }
}

/* Offset of header lname's value in r->text while still parsing, or -1. */
static long find_header_off(const req_t *r, const char *lname) {
    for (size_t i = 0; i < r->nh; i++)
        if (strcmp(r->text.data + r->name_off[i], lname) == 0) return (long)r->value_off[i];
    return -1;
}

/* ---- connections ---------------------------------------------------------------------- */

static void conn_free(ig_http_conn_t *c) {
    if (c->spare) req_destroy(c->spare);
    ig_tls_conn_free(c->tls);
    free(c);
}

/* A closed connection goes once no request of the handler's points at it. */
static void conn_maybe_free(ig_http_conn_t *c) {
    if (c->closed && !c->qhead) conn_free(c);
}

static void server_maybe_done(ig_http_server_t *s) {
    if (!(s->stopping && s->listener_closed && s->nconns == 0)) return;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    free(s);
    if (done) done(arg);
}

static void on_conn_close(uv_handle_t *h) {
    ig_http_conn_t *c = h->data;
    if (--c->nhandles > 0) return;
    c->closed = true;
    if (c->cur) {
        req_destroy(c->cur);
        c->cur = NULL;
    }
    ig_http_server_t *s = c->srv;
    c->srv = NULL;
    if (s) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        s->nconns--;
    }
    conn_maybe_free(c);
    if (s) server_maybe_done(s);
}

/* Closes at once: unanswered requests become aborted, answered but unwritten ones are dropped. */
static void conn_close(ig_http_conn_t *c) {
    if (c->closing) return;
    c->closing = c->aborted = c->input_done = true;
    ig_http_req_t *q = c->qhead;
    while (q) {
        ig_http_req_t *next = q->next;
        if (q->answered) {
            dequeue(c, q);
            req_release((req_t *)q);
            req_destroy((req_t *)q);
        }
        q = next;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_close);
    if (c->timer_init) uv_close((uv_handle_t *)&c->linger, on_conn_close);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    ig_http_conn_t *c = h->data;
    buf->base = c->rbuf;
    buf->len = sizeof(c->rbuf);
}

static void on_idle_timeout(uv_timer_t *t) {
    ig_http_conn_t *c = t->data;
    if (c->qhead || c->nwrites) /* waiting on us, not on the client */
        uv_timer_start(&c->linger, on_idle_timeout, IDLE_MS, 0);
    else
        conn_close(c);
}

/* The client will send nothing more (eof: it said so cleanly). */
static void input_end(ig_http_conn_t *c, bool eof) {
    c->input_done = true;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    /* A client that hangs up with questions outstanding is gone: nginx's view, and the
     * one that lets the handler stop caring. Answers already being written may finish. */
    if (eof && !c->lingering && !c->qhead && !c->cur && c->nwrites)
        c->close_idle = true;
    else
        conn_close(c);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    (void)buf;
    ig_http_conn_t *c = st->data;
    if (nread == 0) return;
    if (nread < 0) {
        input_end(c, nread == UV_EOF);
        return;
    }
    if (c->lingering || c->input_done) return;
    if (c->timer_init) uv_timer_start(&c->linger, on_idle_timeout, IDLE_MS, 0);
    if (c->tls) {
        /* The ciphertext is copied into the TLS engine, so rbuf is free for plaintext. */
        if (ig_tls_feed(c->tls, c->rbuf, (size_t)nread) != IG_OK) {
            conn_close(c);
            return;
        }
        tls_pump(c);
        return;
    }
    feed(c, c->rbuf, (size_t)nread);
}

static void set_reading(ig_http_conn_t *c, bool on) {
    if (c->closing || c->reading == on) return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
            conn_close(c);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    c->reading = on;
}

static void on_linger_timeout(uv_timer_t *t) {
    conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *sr, int status) {
    ig_http_conn_t *c = sr->data;
    if (c->closing) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    c->lingering = true;
    uv_timer_start(&c->linger, on_linger_timeout, LINGER_MS, 0);
    set_reading(c, true); /* read_cb discards while lingering */
}

/* The last answer is out: half-close, then drain until the client closes or time is up. */
static void begin_linger(ig_http_conn_t *c) {
    c->input_done = true;
    if (c->closing) return;
    set_reading(c, false);
    if (c->tls && !c->tls_dead) {
        c->tls_dead = true; /* nothing is encrypted after close_notify */
        ig_tls_close_notify(c->tls);
        tls_send(c, false);
        if (c->closing) return;
    }
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) conn_close(c);
}

static void resume(ig_http_conn_t *c) {
    if (c->in_execute || !c->paused || c->input_done || c->closing) return;
    c->paused = false;
    llhttp_resume(&c->parser);
    const char *d = c->rest;
    size_t n = c->rest_len;
    c->rest = NULL;
    c->rest_len = 0;
    feed(c, d ? d : c->rbuf, n);
    /* Over TLS more plaintext may wait in the engine, with no socket read to fetch it. */
    if (c->tls) tls_pump(c);
}

static void after_write(ig_http_conn_t *c, int status, bool last) {
    c->nwrites--;
    if (c->closing) return;
    if (status < 0) {
        conn_close(c);
    } else if (last) {
        begin_linger(c);
    } else if (c->close_idle) {
        if (!c->nwrites && !c->qhead) conn_close(c);
    } else if (c->paused && c->nqueued + c->nwrites <= IG_MAX_PIPELINE / 2) {
        resume(c);
    }
}

static void on_write(uv_write_t *wr, int status) {
    req_t *r = (req_t *)((char *)wr - offsetof(req_t, wr));
    ig_http_conn_t *c = r->pub.conn;
    bool last = !r->pub.keep_alive;
    req_release(r);
    req_recycle(c, r);
    after_write(c, status, last);
}

static void on_continue_written(uv_write_t *wr, int status) {
    ig_http_conn_t *c = wr->data;
    free(wr);
    after_write(c, status, false);
}

static void send_continue(ig_http_conn_t *c) {
    c->continue_owed = false;
    if (c->tls) {
        if (ig_tls_write(c->tls, CONTINUE_100, sizeof(CONTINUE_100) - 1) != IG_OK) {
            conn_close(c);
            return;
        }
        tls_send(c, false);
        return;
    }
    uv_write_t *wr = malloc(sizeof(*wr));
    if (!wr) {
        conn_close(c);
        return;
    }
    wr->data = c;
    uv_buf_t b = uv_buf_init((char *)CONTINUE_100, sizeof(CONTINUE_100) - 1);
    if (uv_write(wr, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written) != 0) {
        free(wr);
        conn_close(c);
        return;
    }
    c->nwrites++;
}

/* Writes what the socket takes now; true when nothing is left, otherwise *bufs and *n
 * describe the rest (partly written buffers are advanced in place). */
static bool try_write_all(ig_http_conn_t *c, uv_buf_t **bufs, unsigned *n) {
    int w = uv_try_write((uv_stream_t *)&c->tcp, *bufs, *n);
    if (w < 0) return false;
    size_t left = (size_t)w;
    while (*n && left >= (*bufs)->len) {
        left -= (*bufs)->len;
        (*bufs)++;
        (*n)--;
    }
    if (!*n) return true;
    (*bufs)->base += left;
    (*bufs)->len -= (unsigned)left;
    return false;
}

/* ---- TLS ------------------------------------------------------------------------------ */

/* Bytes written as they are (ciphertext, or the plain-HTTP refusal), with their write. */
typedef struct {
    uv_write_t wr;
    ig_http_conn_t *c;
    bool last;
    char data[];
} tls_wr_t;

static void on_tls_written(uv_write_t *wr, int status) {
    tls_wr_t *w = (tls_wr_t *)wr;
    ig_http_conn_t *c = w->c;
    bool last = w->last;
    free(w);
    after_write(c, status, last);
}

/* What the socket took of data[0..len) at once: all of it or a part when nothing is in
 * flight (a write behind one in flight would overtake it), else nothing. */
static size_t try_now(ig_http_conn_t *c, const char *data, size_t len) {
    if (c->nwrites) return 0;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int k = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    return k > 0 ? (size_t)k : 0;
}

/* Queues a copy of data[0..len) behind the writes in flight. */
static void queue_copy(ig_http_conn_t *c, const char *data, size_t len, bool last) {
    tls_wr_t *w = malloc(sizeof(*w) + len);
    if (!w) {
        conn_close(c);
        return;
    }
    memcpy(w->data, data, len);
    w->c = c;
    w->last = last;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->wr, (uv_stream_t *)&c->tcp, &b, 1, on_tls_written) != 0) {
        free(w);
        conn_close(c);
        return;
    }
    c->nwrites++;
    if (last) c->input_done = true;
}

/* Writes data[0..len) (not kept): at once when the socket takes it all, else the rest is
 * copied and queued. Counts as one write either way. */
static void send_bytes(ig_http_conn_t *c, const char *data, size_t len, bool last) {
    size_t k = try_now(c, data, len);
    if (k == len) {
        c->nwrites++;
        after_write(c, 0, last);
        return;
    }
    queue_copy(c, data + k, len - k, last);
}

/* Sends the ciphertext waiting in the engine, straight from its buffer when the socket takes
 * it all (the usual case: no copy); last: it ends the connection's answers. The engine's
 * buffer is emptied before after_write can make more. */
static void tls_send(ig_http_conn_t *c, bool last) {
    if (c->closing) return;
    const char *p;
    size_t n = ig_tls_peek(c->tls, &p);
    if (n == 0) {
        if (last) begin_linger(c);
        return;
    }
    size_t k = try_now(c, p, n);
    if (k == n) {
        ig_tls_discard(c->tls);
        c->nwrites++;
        after_write(c, 0, last);
        return;
    }
    queue_copy(c, p + k, n - k, last);
    if (c->tls) ig_tls_discard(c->tls);
}

/* The engine refused the client's input: the alert (or a 400 to plain HTTP) goes out, then
 * the connection ends as after a last answer. Questions already asked make it end at once. */
static void tls_failed(ig_http_conn_t *c) {
    c->tls_dead = true;
    c->input_done = true;
    if (c->qhead || c->nwrites || c->cur) {
        conn_close(c);
        return;
    }
    if (ig_tls_plain_http(c->tls)) {
        static const char head[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: " IG_JSON_CTYPE
                                   "\r\nConnection: close\r\nContent-Length: ";
        ig_buf_t b = {0};
        ig_buf_t body = {0};
        if (ig_vendor_error(&body, 400, "This port speaks HTTPS: ask with https://.") != IG_OK ||
            ig_buf_printf(&b, "%s%zu\r\n\r\n", head, body.len) != IG_OK ||
            ig_buf_append(&b, body.data, body.len) != IG_OK) {
            ig_buf_free(&b);
            ig_buf_free(&body);
            conn_close(c);
            return;
        }
        ig_buf_free(&body);
        send_bytes(c, b.data, b.len, true);
        ig_buf_free(&b);
        return;
    }
    tls_send(c, true); /* the alert, if the engine wrote one */
}

/* Takes plaintext out of the engine into rbuf and parses it, until the engine wants more
 * ciphertext, the parser pauses, input is done or the connection closes. Not reentrant:
 * a resume from inside (after a write completes at once) lets the running loop go on. */
static void tls_pump(ig_http_conn_t *c) {
    if (c->tls_pumping || c->tls_dead) return;
    c->tls_pumping = true;
    int n = IG_TLS_WANT;
    while (!c->closing && !c->paused && !c->input_done) {
        n = ig_tls_read(c->tls, c->rbuf, sizeof(c->rbuf));
        if (n <= 0) break;
        feed(c, c->rbuf, (size_t)n);
    }
    c->tls_pumping = false;
    if (c->closing) return;
    if (n == IG_TLS_ERROR) {
        tls_failed(c);
        return;
    }
    tls_send(c, false); /* handshake messages, tickets */
    if (n == IG_TLS_EOF && !c->closing) input_end(c, true);
}

/* Encrypts r's answer (head and body). */
static int tls_put_answer(ig_http_conn_t *c, req_t *r) {
    ig_http_req_t *q = &r->pub;
    size_t blen = r->head_only ? 0 : q->out[1].len;
    if (blen && r->head.len + blen <= TLS_ONE_RECORD_MAX &&
        ig_buf_append(&r->head, q->out[1].base, blen) == IG_OK)
        return ig_tls_write(c->tls, r->head.data, r->head.len);
    int rc = ig_tls_write(c->tls, r->head.data, r->head.len);
    if (rc == IG_OK && blen) rc = ig_tls_write(c->tls, q->out[1].base, blen);
    return rc;
}

/* flush() over TLS: every answer ready in order is encrypted, then all leave in one write. */
static void flush_tls(ig_http_conn_t *c) {
    bool wrote = false, last = false;
    while (c->qhead && c->qhead->answered && !c->closing && !c->tls_dead) {
        ig_http_req_t *q = c->qhead;
        req_t *r = (req_t *)q;
        dequeue(c, q);
        int rc = tls_put_answer(c, r);
        last = !q->keep_alive;
        req_release(r);
        req_recycle(c, r);
        if (rc != IG_OK) {
            conn_close(c);
            return;
        }
        wrote = true;
        if (last) {
            c->input_done = true;
            break;
        }
    }
    if (wrote) tls_send(c, last);
    if (c->continue_owed && !c->qhead && !c->closing && !c->input_done) send_continue(c);
}

/* Writes every answered request at the head of the queue, in order. */
static void flush(ig_http_conn_t *c) {
    if (c->tls) {
        flush_tls(c);
        return;
    }
    while (c->qhead && c->qhead->answered && !c->closing) {
        ig_http_req_t *q = c->qhead;
        req_t *r = (req_t *)q;
        dequeue(c, q);
        unsigned n = (r->head_only || q->out[1].len == 0) ? 1 : 2;
        uv_buf_t *bufs = q->out;
        /* Nothing else in flight: try the socket directly, most answers fit at once. */
        if (!c->nwrites && try_write_all(c, &bufs, &n)) {
            bool last = !q->keep_alive;
            c->nwrites++;
            req_release(r);
            req_recycle(c, r);
            after_write(c, 0, last);
            if (last) return;
            continue;
        }
        if (uv_write(&r->wr, (uv_stream_t *)&c->tcp, bufs, n, on_write) != 0) {
            req_release(r);
            req_destroy(r);
            conn_close(c);
            return;
        }
        c->nwrites++;
        if (!q->keep_alive) {
            c->input_done = true;
            return;
        }
    }
    if (c->continue_owed && !c->qhead && !c->closing && !c->input_done) send_continue(c);
}

/* ---- parser callbacks ----------------------------------------------------------------- */

static int refuse(ig_http_conn_t *c, int status) {
    c->err_status = status;
    return HPE_USER;
}

static int on_message_begin(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    if (c->cur) req_destroy(c->cur);
    c->cur = req_new(c);
    return c->cur ? 0 : refuse(c, 500);
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->text.len + len > IG_MAX_URL_BYTES) return refuse(c, 414);
    return ig_buf_append(&r->text, at, len) ? refuse(c, 500) : 0;
}

static int on_url_complete(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    r->url_len = r->text.len;
    return ig_buf_putc(&r->text, '\0') ? refuse(c, 500) : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (!r->in_field) {
        if (r->nh >= IG_MAX_HEADERS) return refuse(c, 431);
        r->name_off[r->nh] = (uint32_t)r->text.len;
        r->in_field = true;
    }
    if (r->header_bytes + len > IG_MAX_HEADER_BYTES) return refuse(c, 431);
    r->header_bytes += len;
    if (ig_buf_reserve(&r->text, len)) return refuse(c, 500);
    char *dst = r->text.data + r->text.len;
    for (size_t i = 0; i < len; i++) {
        char ch = at[i];
        dst[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + ('a' - 'A')) : ch;
    }
    r->text.len += len;
    r->text.data[r->text.len] = '\0';
    return 0;
}

static int on_header_field_complete(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (!r->in_field) { /* an empty name never reaches here in strict llhttp; be safe */
        if (r->nh >= IG_MAX_HEADERS) return refuse(c, 431);
        r->name_off[r->nh] = (uint32_t)r->text.len;
    }
    r->in_field = false;
    if (ig_buf_putc(&r->text, '\0')) return refuse(c, 500);
    r->value_off[r->nh] = (uint32_t)r->text.len;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->header_bytes + len > IG_MAX_HEADER_BYTES) return refuse(c, 431);
    r->header_bytes += len;
    return ig_buf_append(&r->text, at, len) ? refuse(c, 500) : 0;
}

static int on_header_value_complete(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (ig_buf_putc(&r->text, '\0')) return refuse(c, 500);
    r->nh++;
    return 0;
}

static bool ascii_ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (x != y) return false;
    }
    return *a == *b;
}

static int on_headers_complete(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    bool has_len = (p->flags & F_CONTENT_LENGTH) != 0;
    /* Refused before a byte of the body is read (and before any 100 Continue). */
    if (has_len && p->content_length > IG_MAX_BODY_BYTES) return refuse(c, 413);
    if (has_len && p->content_length > 0 && ig_buf_reserve(&r->body, (size_t)p->content_length))
        return refuse(c, 500);
    bool body_expected = (p->flags & F_CHUNKED) || (has_len && p->content_length > 0);
    if (body_expected && (p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1))) {
        long off = find_header_off(r, "expect");
        if (off >= 0 && ascii_ieq(r->text.data + off, "100-continue")) {
            if (!c->qhead)
                send_continue(c);
            else
                c->continue_owed = true; /* after the answers ahead of it */
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->body.len + len > IG_MAX_BODY_BYTES) return refuse(c, 413);
    return ig_buf_append(&r->body, at, len) ? refuse(c, 500) : 0;
}

/* Points the public fields into the request's own buffers (they no longer move). */
static void req_finish(ig_http_conn_t *c, req_t *r) {
    ig_http_req_t *q = &r->pub;
    if (!r->text.data && ig_buf_putc(&r->text, '\0') != IG_OK) {
        q->path = q->query = empty_str;
    } else {
        char *url = r->text.data;
        char *qm = memchr(url, '?', r->url_len);
        q->path = url;
        if (qm) {
            *qm = '\0';
            q->path_len = (size_t)(qm - url);
            q->query = qm + 1;
            q->query_len = r->url_len - q->path_len - 1;
        } else {
            q->path_len = r->url_len;
            q->query = url + r->url_len; /* its NUL */
            q->query_len = 0;
        }
    }
    for (size_t i = 0; i < r->nh; i++) {
        r->hdrs[i].name = r->text.data + r->name_off[i];
        r->hdrs[i].value = r->text.data + r->value_off[i];
    }
    q->headers = r->hdrs;
    q->nheaders = r->nh;
    q->body = r->body.data ? r->body.data : empty_str;
    q->body_len = r->body.len;
    memcpy(q->peer, c->peer, sizeof(q->peer));
    q->tls = c->tls != NULL;
    q->start_ns = ig_mono_ns();
    q->conn = c;
}

static int on_message_complete(llhttp_t *p) {
    ig_http_conn_t *c = p->data;
    req_t *r = c->cur;
    c->cur = NULL;
    c->continue_owed = false;
    req_finish(c, r);
    ig_http_req_t *q = &r->pub;
    q->method = p->method;
    q->method_str = llhttp_method_name((llhttp_method_t)p->method);
    q->http_major = p->http_major;
    q->http_minor = p->http_minor;
    /* What follows a CONNECT is another protocol: answer it and close. */
    q->keep_alive = llhttp_should_keep_alive(p) && p->method != HTTP_CONNECT;
    r->head_only = p->method == HTTP_HEAD;
    if (!q->keep_alive) c->input_done = true;
    enqueue(c, r);
    ig_http_server_t *s = c->srv;
    s->handler(s->ctx, q); /* q may be gone from here on */
    if (c->input_done || c->closing) return HPE_PAUSED;
    if (c->nqueued + c->nwrites >= IG_MAX_PIPELINE) {
        c->paused = true;
        return HPE_PAUSED;
    }
    return 0;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static const char *refusal_message(int status) {
    switch (status) {
    case 413:
        return "The request body is too large.";
    case 414:
        return "The request URI is too long.";
    case 431:
        return "The request header fields are too large.";
    case 500:
        return "The server is out of memory.";
    default:
        return IG_MSG_MALFORMED;
    }
}

/* Input we refuse: answered in turn after the requests before it, then the connection ends. */
static void parse_error(ig_http_conn_t *c) {
    int status = c->err_status ? c->err_status : 400;
    c->input_done = true;
    req_t *r = c->cur;
    c->cur = NULL;
    if (!r) r = req_new(c);
    if (!r) {
        conn_close(c);
        return;
    }
    ig_http_req_t *q = &r->pub;
    r->nh = 0;
    r->url_len = 0;
    ig_buf_reset(&r->text);
    ig_buf_reset(&r->body);
    q->method = HTTP_GET;
    q->method_str = "";
    q->path = q->query = q->body = empty_str;
    q->path_len = q->query_len = q->body_len = 0;
    q->headers = NULL;
    q->nheaders = 0;
    memcpy(q->peer, c->peer, sizeof(q->peer));
    q->start_ns = ig_mono_ns();
    q->keep_alive = false;
    enqueue(c, r);
    ig_http_respond_error(q, status, refusal_message(status));
}

static void feed(ig_http_conn_t *c, const char *data, size_t len) {
    c->in_execute = true;
    const char *end = data + len;
    for (;;) {
        llhttp_errno_t e = llhttp_execute(&c->parser, data, (size_t)(end - data));
        if (e == HPE_OK) break;
        const char *pos = llhttp_get_error_pos(&c->parser);
        if (e == HPE_PAUSED_UPGRADE) {
            /* Upgrade (h2c, websocket) is not offered: carry on with HTTP/1.1. */
            llhttp_resume_after_upgrade(&c->parser);
            if (c->input_done || c->closing) break;
            data = pos ? pos : end;
            continue;
        }
        if (e == HPE_PAUSED) {
            if (c->paused && !c->input_done) {
                c->rest = pos ? pos : end;
                c->rest_len = (size_t)(end - c->rest);
            }
            break;
        }
        if (!c->closing) parse_error(c);
        break;
    }
    c->in_execute = false;
    set_reading(c, !(c->input_done || c->paused));
}

/* ---- server --------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *ls, int status) {
    ig_http_server_t *s = ls->data;
    if (status < 0 || s->stopping) return;
    ig_http_conn_t *c = malloc(sizeof(*c));
    if (!c) return; /* the pending connection waits in the backlog for a better moment */
    memset(c, 0, offsetof(ig_http_conn_t, rbuf));
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->tcp.data = c;
    c->nhandles = 1;
    c->srv = s;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    if (s->tls && !(c->tls = ig_tls_conn_new(s->tls))) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
    }
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    if (uv_timer_init(s->loop, &c->linger) == 0) {
        c->linger.data = c;
        c->timer_init = true;
        c->nhandles++;
        uv_timer_start(&c->linger, on_idle_timeout, IDLE_MS, 0);
    }
    set_reading(c, true);
}

static void on_listener_close(uv_handle_t *h) {
    ig_http_server_t *s = h->data;
    s->listener_closed = true;
    server_maybe_done(s);
}

static void on_failed_listener_close(uv_handle_t *h) {
    free(h->data);
}

int ig_http_server_start(uv_loop_t *loop, const char *host, int port, ig_http_handler_fn handler,
                         void *ctx, ig_http_server_t **out) {
    return ig_http_server_start_tls(loop, host, port, NULL, handler, ctx, out);
}

int ig_http_server_start_tls(uv_loop_t *loop, const char *host, int port, ig_tls_ctx_t *tls,
                             ig_http_handler_fn handler, void *ctx, ig_http_server_t **out) {
    *out = NULL;
    if (!loop || !host || !handler || port < 0 || port > 65535) return IG_EINVAL;
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
        return IG_EINVAL;
    /* A write to a client that has reset raises SIGPIPE, whose default kills the process;
     * the write's EPIPE is all we need. A disposition set by the program is left alone. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
    ig_http_server_t *s = calloc(1, sizeof(*s));
    if (!s) return IG_ENOMEM;
    s->loop = loop;
    s->tls = tls;
    s->handler = handler;
    s->ctx = ctx;
    int rc = uv_tcp_init(loop, &s->listener);
    if (rc) {
        free(s);
        return rc;
    }
    s->listener.data = s;
    /* libuv sets SO_REUSEADDR on every TCP bind on Unix. */
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (!rc) rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG, on_connection);
    if (!rc) {
        struct sockaddr_storage bound;
        int bl = sizeof(bound);
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &bl);
        if (!rc)
            s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    }
    if (rc) {
        uv_close((uv_handle_t *)&s->listener, on_failed_listener_close);
        return rc;
    }
    *out = s;
    return 0;
}

int ig_http_server_port(const ig_http_server_t *s) {
    return s ? s->port : 0;
}

void ig_http_server_stop(ig_http_server_t *s, void (*done)(void *), void *arg) {
    if (!s || s->stopping) return;
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    uv_close((uv_handle_t *)&s->listener, on_listener_close);
    for (ig_http_conn_t *c = s->conns; c; c = c->next)
        conn_close(c);
}

/* ---- answers -------------------------------------------------------------------------- */

const char *ig_http_header(const ig_http_req_t *req, const char *lname) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, lname) == 0) return req->headers[i].value;
    return NULL;
}

bool ig_http_req_aborted(const ig_http_req_t *req) {
    return req->conn->aborted;
}

static const char *http_date(ig_http_server_t *s) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now != s->date_sec || !s->date[0]) {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(s->date, sizeof(s->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->date_sec = now;
    }
    return s->date;
}

static char *put(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_uint(char *p, size_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static int build_head(ig_http_conn_t *c, req_t *r, int status, const char *extra, size_t extra_len,
                      size_t body_len) {
    if (status < 100 || status > 999) status = 500;
    const char *reason = ig_http_reason(status);
    const char *date = http_date(c->srv);
    size_t rlen = strlen(reason), dlen = strlen(date);
    ig_buf_t *h = &r->head;
    ig_buf_reset(h);
    if (ig_buf_reserve(h, 128 + rlen + dlen + extra_len)) return IG_ENOMEM;
    char *p = h->data;
    p = PUT_LIT(p, "HTTP/1.1 ");
    p = put_uint(p, (size_t)status);
    *p++ = ' ';
    p = put(p, reason, rlen);
    p = PUT_LIT(p, "\r\nDate: ");
    p = put(p, date, dlen);
    p = PUT_LIT(p, "\r\n");
    if (extra_len) p = put(p, extra, extra_len);
    if (status != 204 && status != 304) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put_uint(p, body_len);
        p = PUT_LIT(p, "\r\n");
    }
    if (r->pub.keep_alive)
        p = PUT_LIT(p, "Connection: keep-alive\r\n\r\n");
    else
        p = PUT_LIT(p, "Connection: close\r\n\r\n");
    h->len = (size_t)(p - h->data);
    h->data[h->len] = '\0';
    return 0;
}

void ig_http_respond(ig_http_req_t *req, int status, const char *head_extra, size_t head_len,
                     const char *body, size_t body_len, void (*release)(void *),
                     void *release_arg) {
    req_t *r = (req_t *)req;
    ig_http_conn_t *c = req->conn;
    if (req->answered) { /* a second answer is a caller bug: keep its body from leaking */
        if (release) release(release_arg);
        return;
    }
    req->release = release;
    req->release_arg = release_arg;
    if (c->aborted) {
        dequeue(c, req);
        req_release(r);
        req_destroy(r);
        conn_maybe_free(c);
        return;
    }
    if (!head_extra) head_len = 0;
    if (status == 204 || status == 304) body_len = 0;
    if (build_head(c, r, status, head_extra, head_len, body_len) != 0) {
        dequeue(c, req);
        req_release(r);
        req_destroy(r);
        conn_close(c);
        return;
    }
    req->out[0] = uv_buf_init(r->head.data, (unsigned)r->head.len);
    req->out[1] = uv_buf_init((char *)(body_len ? body : ""), (unsigned)body_len);
    req->answered = true;
    flush(c);
}

void ig_http_drop(ig_http_req_t *req) {
    ig_http_conn_t *c = req->conn;
    if (req->answered) return;
    dequeue(c, req);
    req_destroy((req_t *)req);
    conn_close(c);
    conn_maybe_free(c);
}

void ig_http_respond_copy(ig_http_req_t *req, int status, const char *content_type,
                          const char *body, size_t body_len) {
    char head[256];
    int n = 0;
    if (content_type) {
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\n", content_type);
        if (n < 0 || (size_t)n >= sizeof(head)) n = 0;
    }
    char *copy = NULL;
    if (body_len) {
        copy = malloc(body_len);
        if (!copy) {
            ig_http_respond(req, 500, NULL, 0, NULL, 0, NULL, NULL);
            return;
        }
        memcpy(copy, body, body_len);
    }
    ig_http_respond(req, status, head, (size_t)n, copy, body_len, copy ? free : NULL, copy);
}

void ig_http_respond_error(ig_http_req_t *req, int status, const char *message) {
    static const char ctype[] = "Content-Type: " IG_JSON_CTYPE "\r\n";
    ig_buf_t b = {0};
    if (ig_vendor_error(&b, status, message ? message : "") != IG_OK) {
        ig_buf_free(&b);
        ig_http_respond(req, status, ctype, sizeof(ctype) - 1, NULL, 0, NULL, NULL);
        return;
    }
    size_t len = b.len;
    char *data = ig_buf_take(&b);
    ig_http_respond(req, status, ctype, sizeof(ctype) - 1, data, len, free, data);
}
