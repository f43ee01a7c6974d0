/* fake_server.h — fakeiris' request handler: routes /v1 and /_fake requests, judges
 * credentials and limits, answers from the recordings, the synthetic world or the account,
 * injects failures and latency, and keeps the counters. */
#ifndef FAKEIRIS_FAKE_SERVER_H
#define FAKEIRIS_FAKE_SERVER_H

#include "account.h"
#include "irisgate/http.h"
#include "replay.h"
#include "world.h"

typedef struct {
    int max_skew;        /* HMAC timestamp window, seconds either way */
    uint32_t latency_ms; /* delay of every /v1 answer (0 = none) */
    double fail_rate;    /* fraction of /v1 requests answered with the recorded 500 */
    uint64_t seed;       /* of the failure draws */
    int quiet;           /* no log line per request */
} fi_server_opts_t;

typedef struct fi_server fi_server_t;

/* Borrows loop, world, replay (may be NULL) and account: they must outlive the server. */
int fi_server_new(uv_loop_t *loop, const fi_server_opts_t *o, fi_world_t *world,
                  fi_replay_t *replay, fi_account_t *account, fi_server_t **out);

/* ig_http_handler_fn; ctx is the fi_server_t. */
void fi_server_handle(void *ctx, ig_http_req_t *req);

/* Answers (or drops) every request still waiting on a timer and closes the timers; call it
 * before ig_http_server_stop. New requests are answered at once from then on. */
void fi_server_shutdown(fi_server_t *s);

/* Frees the server once the loop has run the close callbacks fi_server_shutdown started. */
void fi_server_free(fi_server_t *s);

#endif
