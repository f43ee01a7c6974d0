/* fake_gzip.c — compresses answer bodies with zlib in one shot (deflate with a gzip
 * wrapper, windowBits 15+16) and reads Accept-Encoding.
 *
 * Owns no state: every call sets up and ends its own z_stream. Never blocks beyond the CPU
 * time of the compression itself; bodies are at most a few megabytes.
 */
#include "fake_gzip.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int fi_gzip(const char *in, size_t n, int level, ig_buf_t *out) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return IG_ENOMEM;
    uLong bound = deflateBound(&zs, (uLong)n);
    if (ig_buf_reserve(out, (size_t)bound) != IG_OK) {
        deflateEnd(&zs);
        return IG_ENOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = (size_t)bound - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) return IG_EIO;
    out->len += produced;
    out->data[out->len] = '\0';
    return IG_OK;
}

/* Walks the comma list of codings; "gzip;q=0" is a refusal. */
int fi_gzip_accepted(const char *v) {
    if (!v) return 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t tlen = (size_t)(p - tok);
        double q = 1.0;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if ((*p == 'q' || *p == 'Q') && p[1] == '=') q = strtod(p + 2, NULL);
            } else {
                p++;
            }
        }
        int match = (tlen == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
                    (tlen == 6 && strncasecmp(tok, "x-gzip", 6) == 0) ||
                    (tlen == 1 && tok[0] == '*');
        if (match) return q > 0.0;
    }
    return 0;
}
