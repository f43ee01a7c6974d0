/* cli_stats.c — `irisgate stats [--db PATH] [--config PATH] [--since DAY] [--until DAY]`: the
 * request log (`requests`, docs/schema.md) summed per user, for the person who has to say
 * who spent the month's Iris queries.
 *
 * Owns argument parsing and one table on standard output: per user the requests in the
 * range (all time by default; --since and --until are UTC days, both included), hits,
 * misses, hit ratio and upstream queries per product, then the upstream queries spent today
 * and this calendar month (UTC) whatever the range. Hits and misses are split as in the
 * v_spend_per_user_day view. Opens the database read-only: never takes the write lock
 * from a running irisgate, never migrates; a file without the request log (an older
 * irisgate's) or with no rows is said so and exits 0. Never touches the network.
 */
#include "irisgate/cli_stats.h"
#include "irisgate/config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void stats_usage(FILE *f) {
    fprintf(f, "usage: irisgate stats [--db PATH] [--config PATH] [--since YYYY-MM-DD]\n"
               "                      [--until YYYY-MM-DD]\n"
               "\n"
               "Prints, per user, the requests irisgate answered (all time, or the UTC days\n"
               "from --since to --until, both included): hits (HIT, STALE, COALESCED), misses\n"
               "(MISS, PARTIAL, QUEUED), hit ratio, upstream queries per product; and the\n"
               "upstream queries spent today and this month (UTC). Requests without a user\n"
               "show as (anonymous). Reads the database only.\n");
}

/* True when s is a real calendar day written YYYY-MM-DD. */
static int valid_day(const char *s) {
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10) return 0;
    if (s[4] != '-' || s[7] != '-') return 0;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back)) return 0;
    return back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d;
}

/* ?1 first `at` in the range, ?2 first `at` after it (text comparison is time order). */
static const char sql_per_user[] =
    "SELECT coalesce(user, '(anonymous)'),"
    "  sum(inr),"
    "  sum(inr AND outcome IN ('HIT', 'STALE', 'COALESCED')),"
    "  sum(inr AND outcome IN ('MISS', 'PARTIAL', 'QUEUED')),"
    "  sum(CASE WHEN inr AND endpoint = 'iris-investigate' THEN upstream_queries ELSE 0 END),"
    "  sum(CASE WHEN inr AND endpoint = 'iris-enrich' THEN upstream_queries ELSE 0 END),"
    "  sum(CASE WHEN inr AND endpoint = 'account' THEN upstream_queries ELSE 0 END),"
    "  sum(CASE WHEN at >= date('now') THEN upstream_queries ELSE 0 END),"
    "  sum(CASE WHEN at >= strftime('%Y-%m-01', 'now') THEN upstream_queries ELSE 0 END)"
    " FROM (SELECT user, at, outcome, endpoint, upstream_queries,"
    "         at >= ?1 AND at < ?2 AS inr FROM requests"
    "       WHERE (at >= ?1 AND at < ?2) OR at >= strftime('%Y-%m-01', 'now'))"
    " GROUP BY user HAVING sum(inr) > 0 OR sum(upstream_queries) > 0"
    " ORDER BY user IS NULL, user";

enum { C_REQ, C_HIT, C_MISS, C_INV, C_ENR, C_ACC, C_TODAY, C_MONTH, NCOLS };

typedef struct {
    char *user;
    long long v[NCOLS];
} line_t;

static void print_line(const char *user, int width, const long long *v) {
    char ratio[16] = "-";
    if (v[C_HIT] + v[C_MISS] > 0)
        snprintf(ratio, sizeof(ratio), "%.1f%%", 100.0 * v[C_HIT] / (v[C_HIT] + v[C_MISS]));
    printf("%-*s %9lld %8lld %8lld %8s %12lld %8lld %8lld %8lld %8lld\n", width, user, v[C_REQ],
           v[C_HIT], v[C_MISS], ratio, v[C_INV], v[C_ENR], v[C_ACC], v[C_TODAY], v[C_MONTH]);
}

/* Whether the request log is there: 1 yes, 0 no, -1 the file cannot be read. */
static int has_log(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int r = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'requests'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        r = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return r;
}

static int report(sqlite3 *db, const char *path, const char *since, const char *until) {
    char lo[16] = "", hi[16] = "9999";
    if (since) snprintf(lo, sizeof(lo), "%s", since);
    if (until) {
        /* --until is included: the range ends where the next day starts. */
        struct tm tm = {0};
        sscanf(until, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        tm.tm_mday += 1;
        time_t t = timegm(&tm);
        gmtime_r(&t, &tm);
        strftime(hi, sizeof(hi), "%Y-%m-%d", &tm);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql_per_user, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "irisgate stats: %s: %s\n", path, sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    line_t *lines = NULL;
    size_t n = 0, cap = 0;
    int rc, status = 0, width = 4;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            line_t *nl = realloc(lines, nc * sizeof(*nl));
            if (!nl) break;
            lines = nl;
            cap = nc;
        }
        const char *u = (const char *)sqlite3_column_text(st, 0);
        line_t *l = &lines[n];
        if (!(l->user = strdup(u ? u : ""))) break;
        for (int c = 0; c < NCOLS; c++)
            l->v[c] = sqlite3_column_int64(st, c + 1);
        int len = (int)strlen(l->user);
        if (len > width) width = len > 64 ? 64 : len;
        n++;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "irisgate stats: %s: %s\n", path,
                rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(db));
        status = 1;
    }
    sqlite3_finalize(st);

    char range[64] = "all time";
    if (since || until)
        snprintf(range, sizeof(range), "%s to %s", since ? since : "the start",
                 until ? until : "now");
    long long total[NCOLS] = {0};
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < NCOLS; c++)
            total[c] += lines[i].v[c];
    if (status == 0 && n == 0) {
        printf("No requests recorded in %s%s%s.\n", path, since || until ? " from " : "",
               since || until ? range : "");
    } else if (status == 0) {
        printf("Requests in %s, %s (UTC). Upstream queries per product in that range;\n"
               "today and month: upstream queries spent today and this month (UTC).\n\n",
               path, range);
        printf("%-*s %9s %8s %8s %8s %12s %8s %8s %8s %8s\n", width, "user", "requests", "hits",
               "misses", "hit%", "investigate", "enrich", "account", "today", "month");
        for (size_t i = 0; i < n; i++)
            print_line(lines[i].user, width, lines[i].v);
        if (n > 1) print_line("total", width, total);
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i].user);
    free(lines);
    return status;
}

int ig_cli_stats(int argc, char **argv) {
    ig_config_t cfg;
    ig_config_defaults(&cfg);
    char err[512];
    char *flags[argc > 0 ? argc : 1];
    int nflags = 0;
    const char *since = NULL, *until = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            stats_usage(stdout);
            return 0;
        }
        const char **day = strncmp(a, "--since", 7) == 0   ? &since
                           : strncmp(a, "--until", 7) == 0 ? &until
                                                           : NULL;
        if (day && (a[7] == '\0' || a[7] == '=')) {
            if (a[7] == '=') {
                *day = a + 8;
            } else if (i + 1 < argc) {
                *day = argv[++i];
            } else {
                fprintf(stderr, "irisgate stats: %s needs a value\n", a);
                return 2;
            }
            if (!valid_day(*day)) {
                fprintf(stderr, "irisgate stats: %.7s: '%s' is not a day (YYYY-MM-DD)\n", a, *day);
                return 2;
            }
        } else if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "irisgate stats: %s needs a value\n", a);
                return 2;
            }
            flags[nflags++] = argv[i++];
            flags[nflags++] = argv[i];
        } else if (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--config=", 9) == 0) {
            flags[nflags++] = argv[i];
        } else {
            fprintf(stderr, "irisgate stats: unknown argument %s\n", a);
            stats_usage(stderr);
            return 2;
        }
    }
    if (since && until && strcmp(since, until) > 0) {
        fprintf(stderr, "irisgate stats: --since %s is after --until %s\n", since, until);
        return 2;
    }
    if (ig_config_parse_args(&cfg, nflags, flags, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate stats: %s\n", err);
        return 2;
    }
    if (access(cfg.db, F_OK) != 0) {
        fprintf(stderr, "irisgate stats: no database at %s (--db PATH names it)\n", cfg.db);
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(cfg.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "irisgate stats: cannot open %s: %s\n", cfg.db,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    int status;
    int log = has_log(db);
    if (log < 0) {
        fprintf(stderr, "irisgate stats: cannot read %s: %s\n", cfg.db, sqlite3_errmsg(db));
        status = 1;
    } else if (log == 0) {
        printf("No request log in %s yet: it was written by an irisgate without one. The\n"
               "next `irisgate serve` on it adds the log; requests are counted from then on.\n",
               cfg.db);
        status = 0;
    } else {
        status = report(db, cfg.db, since, until);
    }
    sqlite3_close(db);
    return status;
}
