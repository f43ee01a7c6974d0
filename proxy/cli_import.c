/* cli_import.c — `irisgate import [--db PATH] [--config PATH] [--observed-at TIME] FILE...`:
 * stores saved Iris answers (Investigate, Enrich or legacy Iris JSON, with or without the
 * {"response": ...} wrapper) in the intel tables, as if they had come through the proxy.
 *
 * Owns: argument parsing, reading each file (bounded size), when each answer was observed
 * (--observed-at; else each result's data_updated_timestamp; else the file's modification
 * time), and one line per file, in order, on standard output ("FILE: N domains") or standard
 * error (why it was refused). Files are queued to the store's writer a few at a time, so they
 * share group commits as answers through the proxy do; each file is its own unit: a refused
 * file leaves nothing behind, and the others still go in.
 * Exit status: 0 when every file went in, 1 when any was refused, 2 for bad arguments.
 * Never touches the network or the secrets file.
 */
#include "irisgate/cli_import.h"
#include "irisgate/config.h"
#include "irisgate/hmac.h"
#include "irisgate/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_IMPORT_BYTES (256u * 1024 * 1024)
#define MAX_QUEUED_FILES 16                 /* files queued to the writer at once */
#define MAX_QUEUED_BYTES (128u * 1024 * 1024) /* and their bytes */

static void import_usage(FILE *f) {
    fprintf(f, "usage: irisgate import [--db PATH] [--config PATH] [--observed-at TIME] FILE...\n"
               "\n"
               "Stores saved Iris Investigate, Enrich or legacy Iris JSON answers (with or\n"
               "without the {\"response\": ...} wrapper) in the intel database. '-' reads\n"
               "standard input. Prints how many domains each file held.\n"
               "\n"
               "Each result is dated by its data_updated_timestamp; a result without one (the\n"
               "legacy /v1/iris shape) by the file's modification time (standard input: now).\n"
               "--observed-at dates every result of every file instead: YYYY-MM-DD,\n"
               "'YYYY-MM-DD HH:MM:SS' (UTC) or ISO 8601 with a zone. An answer older than what\n"
               "is stored adds to history and leaves the current rows alone.\n");
}

/* --observed-at: a date, our 'YYYY-MM-DD HH:MM:SS' (UTC), or ISO 8601 with a zone. */
static int parse_observed_at(const char *s, int64_t *out) {
    char buf[64];
    size_t n = strlen(s);
    if (n == 10)
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
    else if (n == 19)
        snprintf(buf, sizeof(buf), "%sZ", s);
    else
        snprintf(buf, sizeof(buf), "%s", s);
    if (n >= sizeof(buf) - 12 || ig_time_parse_iso8601(buf, out) != IG_OK || *out < 0)
        return IG_EINVAL;
    return IG_OK;
}

/* Reads the whole file (or stdin for "-"); *mtime its modification time (0: unknown). */
static int read_all(const char *path, char **out, size_t *len, int64_t *mtime, char *err,
                    size_t errlen) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return IG_EIO;
    }
    struct stat st;
    *mtime = f != stdin && fstat(fileno(f), &st) == 0 ? (int64_t)st.st_mtime : 0;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? IG_OK : IG_ENOMEM;
    while (rc == IG_OK) {
        if (n == cap) {
            if (cap >= MAX_IMPORT_BYTES) {
                snprintf(err, errlen, "larger than %u MiB", MAX_IMPORT_BYTES >> 20);
                rc = IG_ETOOBIG;
                break;
            }
            char *b = realloc(buf, cap * 2);
            if (!b) {
                rc = IG_ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s", strerror(errno));
                rc = IG_EIO;
            }
            break;
        }
    }
    if (f != stdin) fclose(f);
    if (rc != IG_OK) {
        if (rc == IG_ENOMEM) snprintf(err, errlen, "out of memory");
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return IG_OK;
}

/* Files queued to the writer, oldest first, and what was reported so far. */
typedef struct {
    const char *const *files;
    ig_import_t *im[MAX_QUEUED_FILES];
    size_t len[MAX_QUEUED_FILES];
    int file[MAX_QUEUED_FILES];
    int head, n;
    size_t bytes, total;
    int status;
} window_t;

/* Waits for the oldest queued file and prints its line. */
static void report_oldest(window_t *w) {
    char err[512];
    size_t n = 0;
    int k = w->head;
    int rc = ig_store_import_wait(w->im[k], &n, err, sizeof(err));
    w->bytes -= w->len[k];
    w->head = (w->head + 1) % MAX_QUEUED_FILES;
    w->n--;
    if (rc != IG_OK) {
        fflush(stdout);
        fprintf(stderr, "irisgate import: %s: %s\n", w->files[w->file[k]], err);
        w->status = 1;
        return;
    }
    w->total += n;
    printf("%s: %zu domain%s\n", w->files[w->file[k]], n, n == 1 ? "" : "s");
}

int ig_cli_import(int argc, char **argv) {
    ig_config_t cfg;
    ig_config_defaults(&cfg);
    char err[512];
    const char *files[argc > 0 ? argc : 1];
    int nfiles = 0;
    int64_t observed_at = -1; /* --observed-at */
    /* Split the files from the flags, which go to the config parser (--db, --config). */
    char *flags[argc > 0 ? argc : 1];
    int nflags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            import_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--observed-at") == 0 || strncmp(a, "--observed-at=", 14) == 0) {
            const char *v = a[13] == '=' ? a + 14 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || parse_observed_at(v, &observed_at) != IG_OK) {
                fprintf(stderr, "irisgate import: --observed-at needs a time: YYYY-MM-DD, "
                                "'YYYY-MM-DD HH:MM:SS' or ISO 8601 with a zone\n");
                return 2;
            }
        } else if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "irisgate import: %s needs a value\n", a);
                return 2;
            }
            flags[nflags++] = argv[i++];
            flags[nflags++] = argv[i];
        } else if (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--config=", 9) == 0) {
            flags[nflags++] = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "irisgate import: unknown option %s\n", a);
            import_usage(stderr);
            return 2;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        import_usage(stderr);
        return 2;
    }
    if (ig_config_parse_args(&cfg, nflags, flags, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate import: %s\n", err);
        return 2;
    }
    ig_store_t *store = NULL;
    if (ig_store_open(cfg.db, &store, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate import: %s\n", err);
        return 1;
    }
    /* A window of queued files: read ahead while the writer ingests, report in order. */
    window_t w = {.files = files};
    int64_t now = ig_now();
    for (int i = 0; i < nfiles; i++) {
        while (w.n > 0 && (w.n == MAX_QUEUED_FILES || w.bytes >= MAX_QUEUED_BYTES))
            report_oldest(&w);
        char *body = NULL;
        size_t len = 0;
        int64_t mtime = 0;
        int rc = read_all(files[i], &body, &len, &mtime, err, sizeof(err));
        ig_import_t *im = NULL;
        if (rc == IG_OK) {
            ig_import_opts_t o = {.observed_at = observed_at >= 0           ? observed_at
                                                 : mtime > 0 && mtime < now ? mtime
                                                                            : now,
                                  .result_times = observed_at < 0,
                                  .now = now};
            rc = ig_store_import_take(store, body, len, &o, &im); /* takes body */
            if (rc != IG_OK)
                snprintf(err, sizeof(err), "%s",
                         rc == IG_ENOMEM ? "out of memory" : "the database is closing");
        }
        if (rc != IG_OK) {
            while (w.n > 0) /* earlier files first, so the lines stay in order */
                report_oldest(&w);
            fflush(stdout);
            fprintf(stderr, "irisgate import: %s: %s\n", files[i], err);
            w.status = 1;
            continue;
        }
        int k = (w.head + w.n++) % MAX_QUEUED_FILES;
        w.im[k] = im;
        w.len[k] = len;
        w.file[k] = i;
        w.bytes += len;
    }
    while (w.n > 0)
        report_oldest(&w);
    int status = w.status;
    size_t total = w.total;
    if (nfiles > 1) printf("%zu domain%s in %s\n", total, total == 1 ? "" : "s", cfg.db);
    ig_store_close(store);
    return status;
}
