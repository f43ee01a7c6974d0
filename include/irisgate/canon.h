/* canon.h — the canonical form of an Iris question: what makes two requests "the same
 * question" for the cache, and the parameters forwarded upstream.
 *
 * Ignored: api_username, api_key, timestamp, signature, app_* telemetry; format=json (the
 * default). Irrelevant: parameter order, GET vs POST, the trailing slash, repeated keys
 * (the last wins), the case of domain names and whitespace around list items.
 * Key form: "<endpoint>?k1=v1&k2=v2" with keys sorted and values form-encoded.
 */
#ifndef IRISGATE_CANON_H
#define IRISGATE_CANON_H

#include "irisgate/form.h"
#include "irisgate/vendor.h"
#include <stdbool.h>

/* True for credential and telemetry parameters, which never reach the key or upstream. */
bool ig_canon_ignored(const char *key);

/* Builds the canonical, deduplicated, sorted parameter list of a request (values of
 * domain-valued parameters lower-cased and trimmed). out must be empty; caller frees. */
int ig_canon_params(const ig_params_t *in, ig_params_t *out);

/* Appends the cache key of (ep, canonical params) to out. */
int ig_canon_key(ig_endpoint_t ep, const ig_params_t *canon, ig_buf_t *out);

/* Appends canon as a form body ("k=v&k=v"), without a leading '&'. */
int ig_canon_form(const ig_params_t *canon, ig_buf_t *out);

#endif
