/* upstream.c — the HTTP client toward the vendor: libcurl's multi interface driven by the
 * caller's libuv loop. CURLMOPT_SOCKETFUNCTION starts and stops one uv_poll_t per socket,
 * CURLMOPT_TIMERFUNCTION arms one uv_timer_t; both lead to curl_multi_socket_action, after
 * which finished transfers are collected with curl_multi_info_read.
 *
 * Never blocks and never starts a thread of its own (curl's threaded resolver does DNS).
 * Owns the multi handle, one easy handle per transfer (xfer_t, freed when its callback has
 * run), the poll contexts (freed in their close callbacks: curl may reuse an fd number at
 * once, so each CURL_POLL_REMOVE closes its context and a later add makes a new one) and
 * the timer. ig_upstream_free fails what is in flight, then frees the struct in the last
 * close callback. Request bodies carry signatures: they are never logged, and wiped.
 */
#include "irisgate/upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BODY_BYTES (64u * 1024 * 1024)

typedef struct poll_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    ig_upstream_t *u;
    struct poll_ctx *prev, *next; /* open contexts, closed at free if curl did not */
} poll_ctx_t;

typedef struct xfer {
    CURL *easy;
    ig_upstream_t *u;
    ig_upstream_cb cb;
    void *arg;
    char *url;
    char *post;
    size_t post_len;
    ig_buf_t body;
    char *content_type;
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];
    struct xfer *prev, *next;
} xfer_t;

struct ig_upstream {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *base_url;
    char *ca_file;
    long timeout_ms, connect_timeout_ms;
    xfer_t *xfers; /* in flight */
    poll_ctx_t *polls;
    unsigned active;
    unsigned open_handles; /* timer + polls not yet closed */
    bool freeing;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void maybe_free(ig_upstream_t *u) {
    if (u->freeing && u->open_handles == 0) {
        free(u->base_url);
        free(u->ca_file);
        free(u);
    }
}

static void on_handle_closed(uv_handle_t *h) {
    ig_upstream_t *u;
    if (h->type == UV_POLL) {
        poll_ctx_t *pc = h->data;
        u = pc->u;
        free(pc);
    } else {
        u = h->data;
    }
    u->open_handles--;
    maybe_free(u);
}

static void xfer_free(xfer_t *x) {
    if (x->post) memset(x->post, 0, x->post_len);
    free(x->post);
    free(x->url);
    free(x->content_type);
    ig_buf_free(&x->body);
    free(x);
}

static void xfer_unlink(ig_upstream_t *u, xfer_t *x) {
    if (x->prev) x->prev->next = x->next; else u->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
    x->prev = x->next = NULL;
    u->active--;
}

/* Removes x from the multi and reports its result exactly once. */
static void xfer_finish(ig_upstream_t *u, xfer_t *x, CURLcode res) {
    xfer_unlink(u, x);
    ig_upstream_resp_t r = {0};
    long code = 0;
    double secs = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs);
    curl_multi_remove_handle(u->multi, x->easy);
    curl_easy_cleanup(x->easy);
    r.total_ms = secs * 1000.0;
    if (res == CURLE_OK && code > 0) {
        r.status = (int)code;
        r.content_type = x->content_type;
        r.body = x->body.data ? x->body.data : "";
        r.body_len = x->body.len;
    } else {
        r.status = 0;
        r.error = x->too_big ? "answer larger than 64 MiB"
                  : x->errbuf[0] ? x->errbuf
                                 : curl_easy_strerror(res);
    }
    x->cb(x->arg, &r);
    xfer_free(x);
}

static void check_done(ig_upstream_t *u) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(u->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        xfer_t *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = m->data.result;
        if (x) xfer_finish(u, x, res);
    }
}

static void on_poll(uv_poll_t *h, int status, int events) {
    poll_ctx_t *pc = h->data;
    ig_upstream_t *u = pc->u;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(u->multi, pc->fd, flags, &running);
    check_done(u);
}

static void on_timer(uv_timer_t *t) {
    ig_upstream_t *u = t->data;
    int running;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(u);
}

static void poll_close(ig_upstream_t *u, poll_ctx_t *pc) {
    if (pc->prev) pc->prev->next = pc->next; else u->polls = pc->next;
    if (pc->next) pc->next->prev = pc->prev;
    uv_poll_stop(&pc->poll);
    uv_close((uv_handle_t *)&pc->poll, on_handle_closed);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy;
    ig_upstream_t *u = userp;
    poll_ctx_t *pc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (pc) {
            poll_close(u, pc);
            curl_multi_assign(u->multi, s, NULL);
        }
        return 0;
    }
    if (!pc) {
        pc = calloc(1, sizeof(*pc));
        if (!pc) return -1;
        pc->fd = s;
        pc->u = u;
        if (uv_poll_init_socket(u->loop, &pc->poll, s) != 0) {
            free(pc);
            return -1;
        }
        pc->poll.data = pc;
        pc->next = u->polls;
        if (u->polls) u->polls->prev = pc;
        u->polls = pc;
        u->open_handles++;
        curl_multi_assign(u->multi, s, pc);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
    uv_poll_start(&pc->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    ig_upstream_t *u = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&u->timer);
    else /* 0 means "soon": from the timer, never recursively from here */
        uv_timer_start(&u->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userdata) {
    xfer_t *x = userdata;
    size_t len = size * n;
    if (x->body.len + len > MAX_BODY_BYTES) {
        x->too_big = true;
        return 0; /* fails the transfer */
    }
    return ig_buf_append(&x->body, p, len) == IG_OK ? len : 0;
}

static size_t header_cb(char *p, size_t size, size_t n, void *userdata) {
    xfer_t *x = userdata;
    size_t len = size * n;
    /* A new status line (a redirect or 100 Continue) starts a new header block. */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        free(x->content_type);
        x->content_type = NULL;
    } else if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
        size_t a = 13, b = len;
        while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
        while (b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' ')) b--;
        free(x->content_type);
        x->content_type = strndup(p + a, b - a);
    }
    return len;
}

int ig_upstream_new(uv_loop_t *loop, const ig_upstream_opts_t *o, ig_upstream_t **out) {
    pthread_once(&curl_once, curl_init_once);
    ig_upstream_t *u = calloc(1, sizeof(*u));
    if (!u) return IG_ENOMEM;
    u->loop = loop;
    u->base_url = strdup(o->base_url ? o->base_url : "https://api.domaintools.com");
    u->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
    u->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    u->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    size_t bl = u->base_url ? strlen(u->base_url) : 0;
    while (bl && u->base_url[bl - 1] == '/') u->base_url[--bl] = '\0';
    u->multi = curl_multi_init();
    if (!u->base_url || !u->multi || (o->ca_file && !u->ca_file)) {
        if (u->multi) curl_multi_cleanup(u->multi);
        free(u->base_url);
        free(u->ca_file);
        free(u);
        return IG_ENOMEM;
    }
    long maxconn = o->max_host_connections > 0 ? o->max_host_connections : 32;
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxconn);
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, maxconn);
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    u->open_handles = 1;
    *out = u;
    return IG_OK;
}

int ig_upstream_request(ig_upstream_t *u, const char *method, const char *path, const char *body,
                        size_t body_len, ig_upstream_cb cb, void *arg) {
    if (u->freeing) return IG_EINVAL;
    bool get = strcmp(method, "GET") == 0;
    xfer_t *x = calloc(1, sizeof(*x));
    if (!x) return IG_ENOMEM;
    ig_buf_t url = {0};
    int rc = ig_buf_puts(&url, u->base_url);
    if (!rc) rc = ig_buf_puts(&url, path);
    if (!rc && get && body_len) rc = ig_buf_putc(&url, '?') || ig_buf_append(&url, body, body_len);
    x->easy = curl_easy_init();
    if (!rc && !get) {
        x->post = malloc(body_len + 1);
        if (x->post) {
            memcpy(x->post, body, body_len);
            x->post[body_len] = '\0';
            x->post_len = body_len;
        }
    }
    if (rc || !x->easy || (!get && !x->post)) {
        if (url.data) memset(url.data, 0, url.len); /* a GET query holds a signature */
        ig_buf_free(&url);
        if (x->easy) curl_easy_cleanup(x->easy);
        free(x->post);
        free(x);
        return IG_ENOMEM;
    }
    x->url = ig_buf_take(&url);
    x->u = u;
    x->cb = cb;
    x->arg = arg;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl can undo */
    curl_easy_setopt(e, CURLOPT_USERAGENT, "irisgate/" IG_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, u->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    if (u->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, u->ca_file);
    if (!get) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->post);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->post_len);
    }
    x->next = u->xfers;
    if (u->xfers) u->xfers->prev = x;
    u->xfers = x;
    u->active++;
    if (curl_multi_add_handle(u->multi, e) != CURLM_OK) {
        xfer_unlink(u, x);
        curl_easy_cleanup(e);
        x->easy = NULL;
        xfer_free(x);
        return IG_ENOMEM;
    }
    return IG_OK;
}

unsigned ig_upstream_active(const ig_upstream_t *u) {
    return u->active;
}

void ig_upstream_free(ig_upstream_t *u) {
    if (!u || u->freeing) return;
    u->freeing = true;
    while (u->xfers) {
        xfer_t *x = u->xfers;
        xfer_unlink(u, x);
        curl_multi_remove_handle(u->multi, x->easy); /* CURL_POLL_REMOVE closes its polls */
        curl_easy_cleanup(x->easy);
        ig_upstream_resp_t r = {.status = 0, .error = "cancelled"};
        x->cb(x->arg, &r);
        xfer_free(x);
    }
    curl_multi_cleanup(u->multi);
    u->multi = NULL;
    while (u->polls) poll_close(u, u->polls);
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, on_handle_closed);
}
