/* http.h — the HTTP/1.1 server both irisgate and fakeiris listen with: libuv TCP, llhttp,
 * keep-alive, pipelining (answers leave in request order), HTTP/1.0, chunked request
 * bodies, Expect: 100-continue, and vendor-shaped errors for what it refuses itself
 * (400 malformed, 413 body, 414 URL, 431 headers).
 *
 * Life cycle: the server owns its connections; a connection owns its requests. The handler
 * is called once per complete request and must eventually call ig_http_respond() exactly
 * once (possibly later, from another loop callback). A request whose client went away is
 * still valid until it is answered; its answer is then dropped.
 */
#ifndef IRISGATE_HTTP_H
#define IRISGATE_HTTP_H

#include "irisgate/common.h"
#include "irisgate/tls.h"
#include <stdbool.h>
#include <uv.h>

typedef struct ig_http_server ig_http_server_t;
typedef struct ig_http_conn ig_http_conn_t;

typedef struct {
    char *name; /* lower-cased */
    char *value;
} ig_http_header_t;

typedef struct ig_http_req {
    /* The request, valid until ig_http_respond() returns. */
    int method;             /* llhttp_method_t: HTTP_GET, HTTP_POST, ... */
    const char *method_str; /* "GET" */
    char *path;             /* before '?', NUL-terminated, not decoded */
    size_t path_len;
    char *query; /* after '?', NUL-terminated ("" when none) */
    size_t query_len;
    ig_http_header_t *headers;
    size_t nheaders;
    char *body; /* NUL-terminated, decoded from chunked if it was */
    size_t body_len;
    int http_major, http_minor;
    char peer[64];     /* client address, "127.0.0.1" */
    bool tls;          /* it came over HTTPS */
    uint64_t start_ns; /* ig_mono_ns() when the request was complete */
    void *data;        /* for the handler */

    /* Private to http.c. */
    ig_http_conn_t *conn;
    struct ig_http_req *next;
    bool keep_alive;
    bool answered;
    uv_buf_t out[2];
    void (*release)(void *);
    void *release_arg;
} ig_http_req_t;

typedef void (*ig_http_handler_fn)(void *ctx, ig_http_req_t *req);

/* Listens on host:port (port 0 picks a free one; see ig_http_server_port). */
int ig_http_server_start(uv_loop_t *loop, const char *host, int port, ig_http_handler_fn handler,
                         void *ctx, ig_http_server_t **out);
/* The same speaking TLS (irisgate/tls.h) on every connection: tls is not owned and must
 * outlive the server (free it after done() has run). Requests look the same to the handler. */
int ig_http_server_start_tls(uv_loop_t *loop, const char *host, int port, ig_tls_ctx_t *tls,
                             ig_http_handler_fn handler, void *ctx, ig_http_server_t **out);
int ig_http_server_port(const ig_http_server_t *s);
/* Stops listening and closes every connection; done(arg) runs once all handles are closed
 * and the server is freed. Requests not yet answered are answered into the void. */
void ig_http_server_stop(ig_http_server_t *s, void (*done)(void *), void *arg);

/* Value of a header by lower-case name, or NULL. */
const char *ig_http_header(const ig_http_req_t *req, const char *lname);

/* Answers req. head_extra holds complete header lines ("Name: value\r\n"), copied; the
 * server adds the status line, Date, Content-Length and Connection. body is not copied:
 * release(release_arg) is called once it is written or dropped (release may be NULL, then
 * body must stay valid until the connection is done with it — use it for static data). */
void ig_http_respond(ig_http_req_t *req, int status, const char *head_extra, size_t head_len,
                     const char *body, size_t body_len, void (*release)(void *),
                     void *release_arg);
/* Convenience: copies body and sets Content-Type. */
void ig_http_respond_copy(ig_http_req_t *req, int status, const char *content_type,
                          const char *body, size_t body_len);
/* The vendor's JSON error envelope with this status and message. */
void ig_http_respond_error(ig_http_req_t *req, int status, const char *message);

/* Ends req without an answer: its connection is closed at once (fault injection). Requests
 * before it on that connection become aborted; req itself is done. */
void ig_http_drop(ig_http_req_t *req);

/* True when the client of req has gone away. */
bool ig_http_req_aborted(const ig_http_req_t *req);

#endif
