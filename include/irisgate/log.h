/* log.h — irisgate's log: one line per request (who, what, cache outcome, status,
 * latency) and operational messages, to standard error or a file.
 *
 * Lines are buffered and flushed at least once a second by a loop timer (and at close),
 * so logging never costs a system call per request. Callers never pass a secret: the log
 * takes only user names, canonical keys (which hold no credentials) and numbers.
 */
#ifndef IRISGATE_LOG_H
#define IRISGATE_LOG_H

#include "irisgate/common.h"
#include <uv.h>

/* path "-" or "" is standard error. loop may be NULL (then every line is flushed). */
int ig_log_open(const char *path, uv_loop_t *loop, char *err, size_t errlen);
void ig_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ig_log_flush(void);
void ig_log_close(void);

#endif
