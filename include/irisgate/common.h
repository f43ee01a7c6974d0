/* common.h — error codes, limits and the growable byte buffer every module uses.
 *
 * Errors are values: functions return 0 on success, a negative IG_E* (or libuv's UV_E*)
 * on failure. Every limit on untrusted input is a named constant here, so one place says
 * how large a request, a URL or a domain list may be.
 */
#ifndef IRISGATE_COMMON_H
#define IRISGATE_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define IG_VERSION "0.1.0"

enum {
    IG_OK = 0,
    IG_ENOMEM = -10001, /* allocation failed */
    IG_EINVAL = -10002, /* malformed input */
    IG_EAUTH = -10003,  /* credentials missing or wrong */
    IG_ENOENT = -10004, /* no such thing */
    IG_EIO = -10005,    /* file or database error */
    IG_EPERM = -10006,  /* file permissions unsafe */
    IG_ETOOBIG = -10007, /* input over a limit */
    IG_ETIMEDOUT = -10008, /* waited past a deadline */
    IG_ELIMIT = -10009,    /* a usage limit is spent */
};

/* Limits on what a client may send (see docs/architecture.md). */
#define IG_MAX_URL_BYTES 8192             /* request line target; over it: 414 */
#define IG_MAX_HEADER_BYTES (32 * 1024)   /* all header names and values; over it: 431 */
#define IG_MAX_HEADERS 64                 /* header count; over it: 431 */
#define IG_MAX_BODY_BYTES (1024 * 1024)   /* request body; over it: 413 */
#define IG_MAX_PARAMS 256                 /* decoded parameters in query + body */
#define IG_MAX_DOMAINS 100                /* domains in one Investigate/Enrich list */
#define IG_MAX_PIPELINE 64                /* requests queued on one connection */

/* A growable buffer. data is always NUL-terminated (for convenience); len excludes it. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} ig_buf_t;

int ig_buf_reserve(ig_buf_t *b, size_t extra);
int ig_buf_append(ig_buf_t *b, const void *p, size_t n);
int ig_buf_puts(ig_buf_t *b, const char *s);
int ig_buf_putc(ig_buf_t *b, char c);
int ig_buf_printf(ig_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ig_buf_vprintf(ig_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (with quotes), escaping '/' as '\/' like the vendor. */
int ig_buf_json_str(ig_buf_t *b, const char *s, size_t n);
/* Gives the data away (caller frees with free()); the buffer is left empty. */
char *ig_buf_take(ig_buf_t *b);
void ig_buf_reset(ig_buf_t *b); /* len = 0, keeps memory */
void ig_buf_free(ig_buf_t *b);

/* Wall clock in seconds and a monotonic clock in nanoseconds. */
int64_t ig_now(void);
int64_t ig_now_ms(void); /* wall clock, epoch milliseconds */
uint64_t ig_mono_ns(void);

/* Constant-time comparison of two byte strings (length leaks, contents do not). */
int ig_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* FNV-1a 64-bit hash. */
uint64_t ig_hash64(const void *p, size_t n);

#endif
