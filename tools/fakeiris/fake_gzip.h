/* fake_gzip.h — gzip (RFC 1952) compression of whole answer bodies, as the vendor sends
 * them to clients that accept it. */
#ifndef FAKEIRIS_FAKE_GZIP_H
#define FAKEIRIS_FAKE_GZIP_H

#include "irisgate/common.h"

/* Appends the gzip member of in[0..n) to out (level 1..9). IG_ENOMEM or IG_EIO on failure. */
int fi_gzip(const char *in, size_t n, int level, ig_buf_t *out);

/* True when an Accept-Encoding header value (may be NULL) accepts gzip: a "gzip" or "x-gzip"
 * token (or "*") whose q is not 0. */
int fi_gzip_accepted(const char *accept_encoding);

#endif
