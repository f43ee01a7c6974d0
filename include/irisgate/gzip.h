/* gzip.h — gzip (RFC 1952) bodies for clients that send Accept-Encoding: gzip, and the
 * reading of that header.
 *
 * Pure functions, no state: safe on the loop and on the thread pool alike. A gzip variant
 * is worth making only for a 200 answer of at least IG_GZIP_MIN_BYTES; up to
 * IG_GZIP_LOOP_MAX_BYTES it is made on the loop (64 KiB of Iris JSON takes about 0.6 ms at
 * level 6 here, once per cached answer), larger ones on the thread pool while the first asker
 * gets the identity body.
 */
#ifndef IRISGATE_GZIP_H
#define IRISGATE_GZIP_H

#include "irisgate/hotcache.h"

#include <stdbool.h>

#define IG_GZIP_MIN_BYTES 1024             /* smaller bodies go out as they are */
#define IG_GZIP_LOOP_MAX_BYTES (64 * 1024) /* larger: compressed off the loop */
#define IG_GZIP_LEVEL 6                    /* zlib's default: made once per cached answer */

/* True when an Accept-Encoding value (may be NULL) accepts gzip: a "gzip" or "x-gzip" coding
 * with a q-value above 0 or, with neither named, a "*" above 0. "gzip;q=0" (or 0.0, 0.000)
 * refuses; a malformed q-value counts as a refusal (identity is always acceptable). */
bool ig_gzip_accepted(const char *accept_encoding);

/* The gzip member of in[0..n) at level 1..9, as a new blob (one reference) in *out; NULL
 * in *out when compressing does not make it smaller. IG_ENOMEM or IG_EIO on failure. */
int ig_gzip_blob(const char *in, size_t n, int level, ig_blob_t **out);

#endif
