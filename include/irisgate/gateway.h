/* gateway.h — irisgate's request handling: authenticate the proxy user, canonicalize the
 * question, answer from the hot cache or the store when fresh, otherwise fetch once from
 * the upstream (identical questions in flight share the fetch), answer, and keep the
 * answer when it is data (not an error, a rate-limit answer or limit_exceeded).
 *
 * Life cycle: ig_gateway_new() → ig_gateway_handle() as the HTTP handler →
 * ig_gateway_shutdown() (fails what is in flight, frees the upstream client) →
 * ig_gateway_free() once the HTTP server has stopped.
 */
#ifndef IRISGATE_GATEWAY_H
#define IRISGATE_GATEWAY_H

#include "irisgate/config.h"
#include "irisgate/http.h"
#include "irisgate/secrets.h"
#include "irisgate/store.h"

typedef struct ig_gateway ig_gateway_t;

/* cfg, secrets and store are borrowed and must outlive the gateway. The vendor credential
 * is upstream_user/upstream_key (copied). */
int ig_gateway_new(uv_loop_t *loop, const ig_config_t *cfg, const ig_secrets_t *secrets,
                   const char *upstream_user, const char *upstream_key, ig_store_t *store,
                   ig_gateway_t **out, char *err, size_t errlen);
void ig_gateway_handle(void *gateway, ig_http_req_t *req);
void ig_gateway_shutdown(ig_gateway_t *g);
void ig_gateway_free(ig_gateway_t *g);

#endif
