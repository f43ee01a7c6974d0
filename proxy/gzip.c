/* gzip.c — compresses answer bodies with zlib in one shot (deflate with the gzip wrapper,
 * windowBits 15+16) into a reference-counted blob, and reads Accept-Encoding with its
 * q-values.
 *
 * Owns no state: every call sets up and ends its own z_stream, so it may run on the loop or
 * on a thread-pool thread (it never touches a blob's reference count, only makes a new
 * blob). Deciding when and where to compress is the gateway's business (gateway.c).
 */
#include "irisgate/gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int ig_gzip_blob(const char *in, size_t n, int level, ig_blob_t **out) {
    *out = NULL;
    if (n > (size_t)UINT32_MAX / 2) return IG_ETOOBIG; /* zlib's uInt counts */
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return IG_ENOMEM;
    size_t bound = (size_t)deflateBound(&zs, (uLong)n);
    ig_blob_t *b = malloc(sizeof(*b) + bound + 1);
    if (!b) {
        deflateEnd(&zs);
        return IG_ENOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)b->data;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = bound - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(b);
        return IG_EIO;
    }
    if (produced >= n) { /* not worth a Content-Encoding */
        free(b);
        return IG_OK;
    }
    /* Give back what deflateBound over-reserved: the blob may live long in the cache. */
    ig_blob_t *shrunk = realloc(b, sizeof(*b) + produced + 1);
    if (shrunk) b = shrunk;
    b->refs = 1;
    b->len = produced;
    b->data[produced] = '\0';
    *out = b;
    return IG_OK;
}

/* A qvalue (RFC 9110 12.4.2): "0" ["." 0*3DIGIT] or "1" ["." 0*3("0")]. Returns 1 when it is
 * above 0, 0 when it is 0, -1 when malformed; *p moves past it. */
static int qvalue_positive(const char **p) {
    const char *s = *p;
    int positive;
    if (*s == '0')
        positive = 0;
    else if (*s == '1')
        positive = 1;
    else
        return -1;
    s++;
    if (*s == '.') {
        s++;
        for (int i = 0; i < 3 && *s >= '0' && *s <= '9'; i++, s++)
            if (*s != '0') {
                if (positive) return -1; /* "1.5" */
                positive = 1;
            }
    }
    *p = s;
    while (**p == ' ' || **p == '\t')
        (*p)++;
    return **p == '\0' || **p == ',' || **p == ';' ? positive : -1;
}

bool ig_gzip_accepted(const char *v) {
    if (!v) return false;
    int gzip = -2, star = -2; /* -2: not named; else as qvalue_positive */
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p) break;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        int q = 1;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if ((*p == 'q' || *p == 'Q') && p[1] == '=') {
                    p += 2;
                    q = qvalue_positive(&p);
                    if (q < 0) { /* skip the rest of this coding */
                        while (*p && *p != ',')
                            p++;
                    }
                    continue;
                }
            }
            if (*p && *p != ',') p++;
        }
        if ((tlen == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
            (tlen == 6 && strncasecmp(tok, "x-gzip", 6) == 0)) {
            if (gzip != 0) gzip = q; /* a refusal anywhere wins */
        } else if (tlen == 1 && tok[0] == '*') {
            if (star != 0) star = q;
        }
    }
    if (gzip != -2) return gzip == 1;
    return star == 1;
}
