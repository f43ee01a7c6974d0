/* cli_import.c — `irisgate import [--db PATH] [--config PATH] FILE...`: stores saved Iris
 * answers (Investigate, Enrich or legacy Iris JSON, with or without the {"response": ...}
 * wrapper) in the intel tables, as if they had come through the proxy.
 *
 * Owns: argument parsing, reading each file (bounded size), and one line per file on
 * standard output ("FILE: N domains") or standard error (why it was refused). Each file is
 * one transaction: a refused file leaves nothing behind, and the others still go in.
 * Exit status: 0 when every file went in, 1 when any was refused, 2 for bad arguments.
 * Never touches the network or the secrets file.
 */
#include "irisgate/cli_import.h"
#include "irisgate/config.h"
#include "irisgate/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMPORT_BYTES (256u * 1024 * 1024)

static void import_usage(FILE *f) {
    fprintf(f, "usage: irisgate import [--db PATH] [--config PATH] FILE...\n"
               "\n"
               "Stores saved Iris Investigate, Enrich or legacy Iris JSON answers (with or\n"
               "without the {\"response\": ...} wrapper) in the intel database. '-' reads\n"
               "standard input. Prints how many domains each file held.\n");
}

/* Reads the whole file (or stdin for "-"). */
static int read_all(const char *path, char **out, size_t *len, char *err, size_t errlen) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return IG_EIO;
    }
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

int ig_cli_import(int argc, char **argv) {
    ig_config_t cfg;
    ig_config_defaults(&cfg);
    char err[512];
    const char *files[argc > 0 ? argc : 1];
    int nfiles = 0;
    /* Split the files from the flags, which go to the config parser (--db, --config). */
    char *flags[argc > 0 ? argc : 1];
    int nflags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            import_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) {
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
    int status = 0;
    size_t total = 0;
    for (int i = 0; i < nfiles; i++) {
        char *body = NULL;
        size_t len = 0, n = 0;
        int rc = read_all(files[i], &body, &len, err, sizeof(err));
        if (rc == IG_OK)
            rc = ig_store_import(store, NULL, body, len, ig_now(), &n, err, sizeof(err));
        free(body);
        if (rc != IG_OK) {
            fprintf(stderr, "irisgate import: %s: %s\n", files[i], err);
            status = 1;
            continue;
        }
        total += n;
        printf("%s: %zu domain%s\n", files[i], n, n == 1 ? "" : "s");
    }
    if (nfiles > 1) printf("%zu domain%s in %s\n", total, total == 1 ? "" : "s", cfg.db);
    ig_store_close(store);
    return status;
}
