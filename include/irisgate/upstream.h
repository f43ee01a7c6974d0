/* upstream.h — the client side toward the vendor: libcurl's multi interface driven by the
 * same libuv loop (one uv_poll_t per socket, one uv_timer_t), connection reuse, gzip.
 * Never blocks the loop, never starts a thread; DNS runs in curl's threaded resolver.
 *
 * Life cycle: ig_upstream_new() → any number of ig_upstream_request() → ig_upstream_free(),
 * which fails every transfer still running (callback with status 0) and closes its handles.
 */
#ifndef IRISGATE_UPSTREAM_H
#define IRISGATE_UPSTREAM_H

#include "irisgate/common.h"
#include <stdbool.h>
#include <uv.h>

typedef struct ig_upstream ig_upstream_t;

typedef struct {
    const char *base_url; /* "https://api.domaintools.com" (no trailing slash needed) */
    long timeout_ms;      /* whole transfer; 0 = 30000 */
    long connect_timeout_ms; /* 0 = 10000 */
    long max_host_connections; /* 0 = 32 */
    const char *ca_file;  /* NULL = system store */
} ig_upstream_opts_t;

typedef struct {
    int status;               /* HTTP status; 0 when no answer (error says why) */
    const char *content_type; /* NULL when none */
    const char *body;         /* decoded (gzip already undone) */
    size_t body_len;
    const char *error; /* transport error, NULL when status != 0 (may name the host: for logs) */
    bool timed_out;    /* status 0 because the transfer or the connect timed out */
    double total_ms;
} ig_upstream_resp_t;

/* resp and everything it points to are valid only during the call. */
typedef void (*ig_upstream_cb)(void *arg, const ig_upstream_resp_t *resp);

int ig_upstream_new(uv_loop_t *loop, const ig_upstream_opts_t *opts, ig_upstream_t **out);
/* POSTs body (application/x-www-form-urlencoded) to base_url + path; or, with method "GET",
 * requests base_url + path + "?" + body. cb is called exactly once, on the loop. */
int ig_upstream_request(ig_upstream_t *u, const char *method, const char *path, const char *body,
                        size_t body_len, ig_upstream_cb cb, void *arg);
/* Number of transfers in flight. */
unsigned ig_upstream_active(const ig_upstream_t *u);
void ig_upstream_free(ig_upstream_t *u);

#endif
