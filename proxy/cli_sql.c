/* cli_sql.c — `irisgate sql [--db PATH] [--config PATH] [SQL]`: the intel database with the
 * SQL module (sql/, docs/sql.md) registered, for analysts without the sqlite3 shell.
 *
 * With SQL: runs every statement in it and exits (stops at the first error). Without:
 * reads statements from standard input, each run once sqlite3_complete says it is whole,
 * with a prompt only when standard input is a terminal; `.quit` or end of input ends it.
 * Rows print as the sqlite3 shell's default list mode: columns joined by '|', NULL empty.
 * Errors go to standard error as "irisgate sql: MESSAGE"; exit 1 if any, 2 for bad usage.
 * The database is opened read-only (TEMP tables still work): analysts never take the write
 * lock from a running irisgate; iris_fetch asks irisgate, which does the writing. The file is
 * memory-mapped (up to 1 GiB) so the pages of big values are not read again on every call.
 */
#include "irisgate/cli_sql.h"
#include "irisgate/config.h"
#include "irisgate/sqlmod.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IG_SQL_MMAP_SIZE "1073741824" /* bytes of the database file mapped: 1 GiB */

static void sql_usage(FILE *f) {
    fprintf(f, "usage: irisgate sql [--db PATH] [--config PATH] [SQL]\n"
               "\n"
               "Runs SQL on the intel database (read-only) with iris_pivot, iris_guided_pivots,\n"
               "iris_distribution, iris_fetch and iris_config available (docs/sql.md). Without\n"
               "SQL, reads statements from standard input. Rows print as 'a|b|c'.\n");
}

static void print_row(sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i) fputc('|', stdout);
        const unsigned char *t = sqlite3_column_text(st, i);
        if (t) fwrite(t, 1, (size_t)sqlite3_column_bytes(st, i), stdout);
    }
    fputc('\n', stdout);
}

/* Runs every statement of sql; stops at the first error (reported) and returns 1. */
static int run_sql(sqlite3 *db, const char *sql) {
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        int rc = sqlite3_prepare_v2(db, tail, -1, &st, &next);
        if (rc != SQLITE_OK) {
            fprintf(stderr, "irisgate sql: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        if (st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                print_row(st);
            if (rc != SQLITE_DONE) fprintf(stderr, "irisgate sql: %s\n", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) return 1;
        }
        tail = next;
    }
    fflush(stdout);
    return 0;
}

static int only_space(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
    return 1;
}

/* Statements from standard input. Returns 1 when any failed. */
static int run_stdin(sqlite3 *db) {
    int tty = isatty(STDIN_FILENO);
    char *line = NULL, *buf = NULL;
    size_t cap = 0, len = 0, bcap = 0;
    ssize_t got;
    int status = 0;
    for (;;) {
        if (tty) {
            fputs(len ? "     ...> " : "irisgate> ", stdout);
            fflush(stdout);
        }
        if ((got = getline(&line, &cap, stdin)) < 0) break;
        if (len == 0 && line[0] == '.') { /* the shell's dot commands: only leaving */
            if (strncmp(line, ".quit", 5) == 0 || strncmp(line, ".exit", 5) == 0) break;
            fprintf(stderr, "irisgate sql: unknown command %s", line);
            if (line[got - 1] != '\n') fputc('\n', stderr);
            status = 1;
            continue;
        }
        if (len + (size_t)got + 1 > bcap) {
            size_t nc = bcap ? bcap : 4096;
            while (nc < len + (size_t)got + 1)
                nc *= 2;
            char *b = realloc(buf, nc);
            if (!b) {
                fprintf(stderr, "irisgate sql: out of memory\n");
                status = 1;
                break;
            }
            buf = b;
            bcap = nc;
        }
        memcpy(buf + len, line, (size_t)got + 1);
        len += (size_t)got;
        if (sqlite3_complete(buf)) {
            status |= run_sql(db, buf);
            len = 0;
        }
    }
    if (len && !only_space(buf)) status |= run_sql(db, buf); /* the last one, unterminated */
    if (tty) fputc('\n', stdout);
    free(line);
    free(buf);
    return status;
}

int ig_cli_sql(int argc, char **argv) {
    ig_config_t cfg;
    ig_config_defaults(&cfg);
    char err[512];
    char *flags[argc > 0 ? argc : 1];
    int nflags = 0;
    const char *sql = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            sql_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "irisgate sql: %s needs a value\n", a);
                return 2;
            }
            flags[nflags++] = argv[i++];
            flags[nflags++] = argv[i];
        } else if (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--config=", 9) == 0) {
            flags[nflags++] = argv[i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "irisgate sql: unknown option %s\n", a);
            sql_usage(stderr);
            return 2;
        } else if (sql) {
            fprintf(stderr, "irisgate sql: give the SQL as one argument (quote it)\n");
            return 2;
        } else {
            sql = a;
        }
    }
    if (ig_config_parse_args(&cfg, nflags, flags, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate sql: %s\n", err);
        return 2;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(cfg.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "irisgate sql: cannot open %s: %s\n", cfg.db,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    /* A value with thousands of domains touches thousands of scattered pages, more than the
     * default page cache keeps: mapped, they are read from memory instead of read(2) each
     * time. Only a setting of this connection; a failure leaves the default. */
    sqlite3_exec(db, "PRAGMA mmap_size = " IG_SQL_MMAP_SIZE, NULL, NULL, NULL);
    int rc = ig_sql_register(db);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "irisgate sql: %s\n", sqlite3_errstr(rc));
        sqlite3_close(db);
        return 1;
    }
    int status = sql ? run_sql(db, sql) : run_stdin(db);
    sqlite3_close(db);
    return status;
}
