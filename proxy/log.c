/* log.c — the process's one log stream: a timestamp and a line per call, buffered in
 * memory and flushed by a one-second loop timer, so a request costs no write(2).
 *
 * Owns the FILE and the timer. Never receives secrets (see log.h). Not thread-safe by
 * design: only the loop thread logs requests.
 */
#include "irisgate/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static FILE *log_f;
static int log_owned;
static uv_timer_t log_timer;
static int log_timer_on;
static char log_buf[64 * 1024];

static void on_flush_timer(uv_timer_t *t) {
    (void)t;
    if (log_f) fflush(log_f);
}

int ig_log_open(const char *path, uv_loop_t *loop, char *err, size_t errlen) {
    if (!path || !*path || strcmp(path, "-") == 0) {
        log_f = stderr;
        log_owned = 0;
    } else {
        log_f = fopen(path, "a");
        if (!log_f) {
            snprintf(err, errlen, "cannot open log %s: %s", path, strerror(errno));
            log_f = stderr;
            return IG_EIO;
        }
        log_owned = 1;
    }
    if (loop) {
        setvbuf(log_f, log_buf, _IOFBF, sizeof(log_buf));
        uv_timer_init(loop, &log_timer);
        uv_timer_start(&log_timer, on_flush_timer, 1000, 1000);
        uv_unref((uv_handle_t *)&log_timer);
        log_timer_on = 1;
    } else {
        setvbuf(log_f, NULL, _IOLBF, 0);
    }
    return IG_OK;
}

void ig_log(const char *fmt, ...) {
    FILE *f = log_f ? log_f : stderr;
    /* The loop thread and the store's writer both log: the stream's lock keeps lines whole
     * and guards the timestamp, whose seconds part is formatted once per second. */
    flockfile(f);
    static char ts[32];
    static time_t ts_sec = -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != ts_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        ts_sec = now.tv_sec;
    }
    fprintf(f, "%s.%03ldZ ", ts, now.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    putc_unlocked('\n', f);
    funlockfile(f);
}

void ig_log_flush(void) {
    if (log_f) fflush(log_f);
}

void ig_log_close(void) {
    if (log_timer_on) {
        uv_timer_stop(&log_timer);
        uv_close((uv_handle_t *)&log_timer, NULL);
        log_timer_on = 0;
    }
    if (log_f) {
        fflush(log_f);
        if (log_owned) fclose(log_f);
    }
    log_f = NULL;
}
