/* form.h — application/x-www-form-urlencoded decoding and encoding (query strings and
 * form bodies), the parameter list every request is reduced to.
 *
 * Decoding: '&' separates pairs, the first '=' separates key and value, '+' is a space,
 * %XX is a byte. A malformed escape (%G1, a lone % at the end) is IG_EINVAL. Empty pairs
 * ("a=1&&b=2") are skipped. Repeated keys are kept in order; ig_params_get returns the
 * last one, as the vendor's (PHP) server does.
 */
#ifndef IRISGATE_FORM_H
#define IRISGATE_FORM_H

#include "irisgate/common.h"
#include <stdbool.h>

typedef struct {
    char *key; /* decoded, NUL-terminated */
    char *val; /* decoded, NUL-terminated (may contain NUL bytes: see val_len) */
    size_t key_len;
    size_t val_len;
} ig_param_t;

typedef struct {
    ig_param_t *v;
    size_t n;
    size_t cap;
} ig_params_t;

/* Appends the pairs decoded from s[0..len) to p. IG_ETOOBIG past IG_MAX_PARAMS. */
int ig_params_parse(ig_params_t *p, const char *s, size_t len);
int ig_params_add(ig_params_t *p, const char *key, const char *val, size_t val_len);
/* Last value of key, or NULL. */
const char *ig_params_get(const ig_params_t *p, const char *key);
const ig_param_t *ig_params_find(const ig_params_t *p, const char *key);
/* Removes every pair with that key. */
void ig_params_remove(ig_params_t *p, const char *key);
void ig_params_free(ig_params_t *p);

/* Percent-decodes in place; returns the new length or IG_EINVAL. plus_is_space for forms. */
long ig_url_decode(char *s, size_t len, bool plus_is_space);
/* Appends s form-encoded (unreserved bytes as is, space as %20, everything else %XX). */
int ig_url_encode(ig_buf_t *out, const char *s, size_t len);

#endif
