/* common.c — the growable byte buffer, clocks, hashing and constant-time comparison that
 * every module shares.
 *
 * ig_buf_t owns its memory; it grows geometrically and is always NUL-terminated so its
 * contents can be handed to C string functions. No function here blocks or logs.
 */
#include "irisgate/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ig_buf_reserve(ig_buf_t *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return IG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) return IG_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) return IG_ENOMEM;
    b->data = p;
    b->cap = cap;
    return IG_OK;
}

int ig_buf_append(ig_buf_t *b, const void *p, size_t n) {
    if (ig_buf_reserve(b, n) != IG_OK) return IG_ENOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return IG_OK;
}

int ig_buf_puts(ig_buf_t *b, const char *s) {
    return ig_buf_append(b, s, strlen(s));
}

int ig_buf_putc(ig_buf_t *b, char c) {
    return ig_buf_append(b, &c, 1);
}

int ig_buf_vprintf(ig_buf_t *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return IG_EINVAL;
    if (ig_buf_reserve(b, (size_t)n) != IG_OK) return IG_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return IG_OK;
}

int ig_buf_printf(ig_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = ig_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int ig_buf_json_str(ig_buf_t *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (ig_buf_reserve(b, n * 6 + 2) != IG_OK) return IG_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '/': *o++ = '\\'; *o++ = '/'; break; /* the vendor escapes '/' */
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) {
                *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return IG_OK;
}

char *ig_buf_take(ig_buf_t *b) {
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void ig_buf_reset(ig_buf_t *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void ig_buf_free(ig_buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int64_t ig_now(void) {
    return (int64_t)time(NULL);
}

int64_t ig_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t ig_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ig_ct_equal(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen != blen) return 0;
    unsigned char d = 0;
    for (size_t i = 0; i < alen; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

uint64_t ig_hash64(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}
