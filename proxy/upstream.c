/* upstream.c — the client toward the vendor: one libcurl multi handle driven by the caller's
 * libuv loop. curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION → one uv_poll_t
 * per socket) and when to wake it (CURLMOPT_TIMERFUNCTION → one uv_timer_t); both wake-ups
 * call curl_multi_socket_action and then collect finished transfers with curl_multi_info_read.
 *
 * Never blocks the loop, never starts a thread (DNS is curl's own threaded resolver), never
 * calls curl_multi_socket_action or user code from inside a curl callback, never logs a
 * request body (it carries the signature and the vendor user name).
 *
 * Life cycle: ig_upstream_new → ig_upstream_request (each owns a req_t until its callback has
 * run, exactly once, on the loop) → ig_upstream_free, which cancels what is in flight, cleans
 * the multi handle up and closes the timer and poll handles. The struct is freed by the last
 * close callback, so it stays valid for the rest of the loop iteration that freed it.
 */
#include "irisgate/upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decoded answer larger than this is a broken or hostile upstream (or a gzip bomb). */
#define UPSTREAM_MAX_BODY ((size_t)64 * 1024 * 1024)
#define UPSTREAM_CT_MAX 256

typedef struct poll_ctx poll_ctx_t;
typedef struct req req_t;

struct poll_ctx {
    uv_poll_t poll;
    ig_upstream_t *u;
    curl_socket_t fd;
    int closing;
    poll_ctx_t *prev, *next;
};

struct req {
    ig_upstream_t *u;
    CURL *easy;
    req_t *prev, *next;
    ig_upstream_cb cb;
    void *arg;
    char *body; /* our copy: CURLOPT_POSTFIELDS does not copy */
    ig_buf_t out;
    char content_type[UPSTREAM_CT_MAX];
    int have_ct;
    int too_big;
    uint64_t start_ns;
    char errbuf[CURL_ERROR_SIZE];
};

struct ig_upstream {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct curl_slist *headers; /* shared by every easy handle; freed after the multi */
    char *base_url;
    char *ca_file;
    long timeout_ms;
    long connect_timeout_ms;
    unsigned active;
    unsigned open_handles; /* timer + poll contexts whose close callback has not run */
    int closing;
    req_t *reqs;
    poll_ctx_t *polls;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void) {
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void maybe_free_struct(ig_upstream_t *u) {
    if (u->closing && u->open_handles == 0) {
        free(u->base_url);
        free(u->ca_file);
        free(u);
    }
}

/* ---- poll contexts ---------------------------------------------------------------------- */

static void poll_close_cb(uv_handle_t *h) {
    poll_ctx_t *c = h->data;
    ig_upstream_t *u = c->u;
    if (c->prev)
        c->prev->next = c->next;
    else
        u->polls = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
    u->open_handles--;
    maybe_free_struct(u);
}

static void poll_ctx_close(poll_ctx_t *c) {
    if (c->closing) return;
    c->closing = 1;
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, poll_close_cb);
}

/* ---- finishing a transfer --------------------------------------------------------------- */

static void req_unlink(req_t *r) {
    ig_upstream_t *u = r->u;
    if (r->prev)
        r->prev->next = r->next;
    else
        u->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    u->active--;
}

static void req_destroy(req_t *r) {
    ig_buf_free(&r->out);
    free(r->body);
    free(r);
}

/* Detaches r from curl and from u, calls the user back, frees r. error non-NULL forces a
 * transport failure (cancel); otherwise the outcome is read from result and the handle. */
static void req_finish(req_t *r, CURLcode result, const char *error) {
    ig_upstream_t *u = r->u;
    ig_upstream_resp_t resp;
    memset(&resp, 0, sizeof(resp));

    long code = 0;
    if (!error) {
        if (r->too_big)
            error = "upstream answer larger than 64 MiB";
        else if (result != CURLE_OK)
            error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
        else if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code <= 0)
            error = "no HTTP status in upstream answer";
    }
    if (!error) {
        resp.status = (int)code;
        resp.content_type = r->have_ct ? r->content_type : NULL;
        resp.body = r->out.data ? r->out.data : "";
        resp.body_len = r->out.len;
    } else {
        resp.status = 0;
        resp.error = error;
        resp.timed_out = result == CURLE_OPERATION_TIMEDOUT;
        resp.body = "";
    }
    resp.total_ms = (double)(ig_mono_ns() - r->start_ns) / 1e6;

    req_unlink(r);
    if (u->multi) curl_multi_remove_handle(u->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;

    /* errbuf may be what resp.error points at: r lives until after the callback. */
    r->cb(r->arg, &resp);
    req_destroy(r);
}

/* After every socket action: hand finished transfers to their callbacks. A callback may call
 * ig_upstream_request or even ig_upstream_free; u itself stays valid (freed only by a close
 * callback), and u->multi == NULL tells us to stop. */
static void check_multi_info(ig_upstream_t *u) {
    CURLMsg *msg;
    int pending;
    while (u->multi && (msg = curl_multi_info_read(u->multi, &pending)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        char *priv = NULL;
        CURLcode result = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv) req_finish((req_t *)(void *)priv, result, NULL);
    }
}

/* ---- loop → curl ------------------------------------------------------------------------ */

static void on_poll(uv_poll_t *h, int status, int events) {
    poll_ctx_t *c = h->data;
    ig_upstream_t *u = c->u;
    if (!u->multi || c->closing) return;
    int flags = 0;
    if (status < 0) flags |= CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(u->multi, c->fd, flags, &running);
    check_multi_info(u);
}

static void on_timer(uv_timer_t *t) {
    ig_upstream_t *u = t->data;
    if (!u->multi) return;
    int running;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(u);
}

/* ---- curl → loop (these run inside curl: they only arm and disarm handles) ------------- */

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy;
    ig_upstream_t *u = userp;
    poll_ctx_t *c = socketp;

    if (what == CURL_POLL_REMOVE) {
        /* The fd number may come back at once for a new socket: this context is done. */
        if (c) {
            if (!u->closing) curl_multi_assign(u->multi, s, NULL);
            poll_ctx_close(c);
        }
        return 0;
    }
    if (u->closing) return 0;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) return -1;
        if (uv_poll_init_socket(u->loop, &c->poll, s) != 0) {
            free(c);
            return -1;
        }
        c->u = u;
        c->fd = s;
        c->poll.data = c;
        c->next = u->polls;
        if (u->polls) u->polls->prev = c;
        u->polls = c;
        u->open_handles++;
        curl_multi_assign(u->multi, s, c);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
    if (uv_poll_start(&c->poll, events, on_poll) != 0) return -1;
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    ig_upstream_t *u = userp;
    if (u->closing) return 0;
    if (timeout_ms < 0) {
        uv_timer_stop(&u->timer);
        return 0;
    }
    /* 0 means "as soon as possible": the timer fires on the next loop iteration, outside
     * curl, which is where socket_action may be called. */
    return uv_timer_start(&u->timer, on_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* ---- per-transfer curl callbacks -------------------------------------------------------- */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
    req_t *r = userdata;
    size_t n = size * nmemb;
    if (n > UPSTREAM_MAX_BODY - r->out.len) {
        r->too_big = 1;
        return 0; /* anything but n fails the transfer with CURLE_WRITE_ERROR */
    }
    if (ig_buf_append(&r->out, ptr, n) != 0) return 0;
    return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
    req_t *r = userdata;
    size_t n = size * nitems;
    static const char name[] = "content-type:";
    const size_t nl = sizeof(name) - 1;

    /* A new status line (after a 1xx) starts a new header set. */
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        r->have_ct = 0;
        r->content_type[0] = '\0';
    } else if (n > nl && strncasecmp(buf, name, nl) == 0) {
        const char *v = buf + nl, *end = buf + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t len = (size_t)(end - v);
        if (len >= sizeof(r->content_type)) len = sizeof(r->content_type) - 1;
        memcpy(r->content_type, v, len);
        r->content_type[len] = '\0';
        r->have_ct = 1;
    }
    return n;
}

/* ---- public API ------------------------------------------------------------------------- */

int ig_upstream_new(uv_loop_t *loop, const ig_upstream_opts_t *opts, ig_upstream_t **out) {
    if (!loop || !opts || !opts->base_url || !out) return IG_EINVAL;
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) return IG_EIO;

    ig_upstream_t *u = calloc(1, sizeof(*u));
    if (!u) return IG_ENOMEM;
    u->loop = loop;
    u->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    u->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    long max_host = opts->max_host_connections > 0 ? opts->max_host_connections : 32;

    size_t blen = strlen(opts->base_url);
    while (blen > 0 && opts->base_url[blen - 1] == '/')
        blen--;
    u->base_url = strndup(opts->base_url, blen);
    if (opts->ca_file) u->ca_file = strdup(opts->ca_file);
    /* Expect: off — a POST over 1 KiB would otherwise wait for a 100 Continue. */
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    if (h) {
        u->headers = h;
        h = curl_slist_append(h, "Expect:");
    }
    u->multi = curl_multi_init();
    if (!u->base_url || (opts->ca_file && !u->ca_file) || !h || !u->multi) {
        if (u->multi) curl_multi_cleanup(u->multi);
        curl_slist_free_all(u->headers);
        free(u->base_url);
        free(u->ca_file);
        free(u);
        return IG_ENOMEM;
    }

    int rc = uv_timer_init(loop, &u->timer);
    if (rc != 0) {
        curl_multi_cleanup(u->multi);
        curl_slist_free_all(u->headers);
        free(u->base_url);
        free(u->ca_file);
        free(u);
        return rc;
    }
    u->timer.data = u;
    u->open_handles = 1;

    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
    /* Idle connections kept for reuse: enough for every busy one to come back. */
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, max_host * 2);
    *out = u;
    return 0;
}

static int setup_easy(ig_upstream_t *u, req_t *r, int is_get, const char *url, size_t body_len) {
    CURL *e = r->easy;
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val);                                      \
    } while (0)
    SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    SET(CURLOPT_PRIVATE, (void *)r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, u->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    SET(CURLOPT_USERAGENT, "irisgate/" IG_VERSION);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 60L);
    SET(CURLOPT_TCP_KEEPINTVL, 30L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, (void *)r);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, (void *)r);
    if (u->ca_file) SET(CURLOPT_CAINFO, u->ca_file);
    if (is_get) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_HTTPHEADER, u->headers);
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        SET(CURLOPT_POSTFIELDS, r->body);
    }
#undef SET
    return c == CURLE_OK ? 0 : IG_EINVAL;
}

int ig_upstream_request(ig_upstream_t *u, const char *method, const char *path, const char *body,
                        size_t body_len, ig_upstream_cb cb, void *arg) {
    if (!u || !path || !cb || (body_len && !body)) return IG_EINVAL;
    if (u->closing || !u->multi) return UV_ECANCELED;
    int is_get;
    if (!method || strcmp(method, "POST") == 0)
        is_get = 0;
    else if (strcmp(method, "GET") == 0)
        is_get = 1;
    else
        return IG_EINVAL;

    req_t *r = calloc(1, sizeof(*r));
    if (!r) return IG_ENOMEM;
    r->u = u;
    r->cb = cb;
    r->arg = arg;
    r->start_ns = ig_mono_ns();

    ig_buf_t url = {0};
    int rc = ig_buf_puts(&url, u->base_url);
    if (rc == 0 && path[0] != '/') rc = ig_buf_putc(&url, '/');
    if (rc == 0) rc = ig_buf_puts(&url, path);
    if (rc == 0 && is_get && body_len) {
        rc = ig_buf_putc(&url, '?');
        if (rc == 0) rc = ig_buf_append(&url, body, body_len);
    }
    if (rc == 0 && !is_get) {
        r->body = malloc(body_len + 1);
        if (!r->body) {
            rc = IG_ENOMEM;
        } else {
            if (body_len) memcpy(r->body, body, body_len);
            r->body[body_len] = '\0';
        }
    }
    if (rc == 0 && !(r->easy = curl_easy_init())) rc = IG_ENOMEM;
    if (rc == 0) rc = setup_easy(u, r, is_get, url.data, body_len);
    ig_buf_free(&url); /* curl keeps its own copy of the URL */
    if (rc == 0 && curl_multi_add_handle(u->multi, r->easy) != CURLM_OK) rc = IG_ENOMEM;
    if (rc != 0) {
        if (r->easy) curl_easy_cleanup(r->easy);
        req_destroy(r);
        return rc;
    }
    r->next = u->reqs;
    if (u->reqs) u->reqs->prev = r;
    u->reqs = r;
    u->active++;
    return 0;
}

unsigned ig_upstream_active(const ig_upstream_t *u) {
    return u ? u->active : 0;
}

static void timer_close_cb(uv_handle_t *h) {
    ig_upstream_t *u = h->data;
    u->open_handles--;
    maybe_free_struct(u);
}

void ig_upstream_free(ig_upstream_t *u) {
    if (!u || u->closing) return;
    u->closing = 1;
    uv_timer_stop(&u->timer);

    /* Callbacks may call ig_upstream_request (refused now) but not touch the list we walk. */
    while (u->reqs)
        req_finish(u->reqs, CURLE_OK, "cancelled");

    curl_multi_cleanup(u->multi);
    u->multi = NULL;
    curl_slist_free_all(u->headers);
    u->headers = NULL;

    /* Whatever curl did not remove itself during cleanup is closed here. */
    for (poll_ctx_t *c = u->polls; c; c = c->next)
        poll_ctx_close(c);
    uv_close((uv_handle_t *)&u->timer, timer_close_cb);
}
