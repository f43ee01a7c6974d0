/* requests.c — the request log: one row per client request in `requests` (who asked what,
 * how it was answered, how many upstream queries it spent), the BI view of spend per user
 * and day, and the usage sums the limiter restores at start (month usage is never forgotten).
 *
 * Owns the SQL text of the "request log" migration (db.c applies it once), the writer job
 * that inserts one batch of rows (ig_store_log_requests copies the rows and returns at once:
 * the loop batches them, e.g. every 100 ms, so a busy proxy costs one job per batch), and
 * the blocking usage read (ig_store_usage: start-up and the command line, never the loop).
 * `key` is the canonical question, never a credential: callers pass what canon.c built.
 * Times are UTC text 'YYYY-MM-DD HH:MM:SS.mmm' (SQLite's strftime('%Y-%m-%d %H:%M:%f')), so
 * text comparison is time order and `at >= date('now')` works as written. docs/schema.md
 * documents the table and the view; keep the two in step.
 */
#include "writer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Never edit this text once shipped: a change is a new migration appended in db.c. */
const char ig_schema_requests[] =
    "CREATE TABLE requests ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"                            /* UTC 'YYYY-MM-DD HH:MM:SS.mmm' */
    "  user TEXT,"                                   /* NULL: not authenticated */
    "  endpoint TEXT NOT NULL,"                      /* iris-investigate, iris-enrich, account */
    "  key TEXT,"                                    /* the canonical question */
    "  outcome TEXT NOT NULL,"                       /* HIT, MISS, PARTIAL, COALESCED, ... */
    "  upstream_queries INTEGER NOT NULL DEFAULT 0," /* spent on this request's behalf */
    "  status INTEGER NOT NULL,"                     /* HTTP status sent to the client */
    "  latency_ms REAL"
    ");"
    "CREATE INDEX requests_at ON requests(at);"
    "CREATE INDEX requests_user_at ON requests(user, at);"
    /* Only the rows that spent something, covering the usage sums. */
    "CREATE INDEX requests_spend ON requests(user, endpoint, at, upstream_queries)"
    "  WHERE upstream_queries > 0;"

    /* hits: answered without an upstream query of their own; misses: needed one. */
    "CREATE VIEW v_spend_per_user_day AS SELECT"
    "  user, substr(at, 1, 10) AS day, endpoint,"
    "  count(*) AS requests,"
    "  sum(outcome IN ('HIT', 'STALE', 'COALESCED')) AS hits,"
    "  sum(outcome IN ('MISS', 'PARTIAL', 'QUEUED')) AS misses,"
    "  sum(outcome = 'REJECTED') AS rejected,"
    "  sum(outcome = 'ERROR') AS errors,"
    "  sum(upstream_queries) AS upstream_queries,"
    "  round(1.0 * sum(outcome IN ('HIT', 'STALE', 'COALESCED'))"
    "    / nullif(sum(outcome IN ('HIT', 'STALE', 'COALESCED', 'MISS', 'PARTIAL', 'QUEUED')), 0),"
    "    4) AS hit_ratio,"
    "  round(avg(latency_ms), 3) AS avg_latency_ms,"
    "  round(max(latency_ms), 3) AS max_latency_ms"
    " FROM requests GROUP BY user, day, endpoint;";

#define MS_PER_HOUR 3600000
#define TS_MAX 80 /* fmt_ms text: 23 bytes, room for what the compiler cannot rule out */
#define MAX_RECENT_PER_ROW 100000 /* a row claiming more is corrupt, not spend to replay */

/* 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) of epoch milliseconds. */
static void fmt_ms(int64_t ms, char out[TS_MAX]) {
    int64_t sec = ms / 1000, milli = ms % 1000;
    if (milli < 0) {
        milli += 1000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof(tm));
    snprintf(out, TS_MAX, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)milli);
}

/* Epoch milliseconds of fmt_ms's text (seconds and milliseconds optional); -1 if malformed. */
static int64_t parse_ms(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int ms = 0, n = 0;
    if (!s) return -1;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    if (s[n] == '.') {
        int digits = 0;
        for (const char *p = s + n + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return (int64_t)t * 1000 + ms;
}

/* ---- writes ------------------------------------------------------------------------------- */

typedef struct {
    size_t n;
    ig_request_row_t *rows; /* strings point into the same allocation */
} log_job_t;

static const char sql_insert[] =
    "INSERT INTO requests (at, user, endpoint, key, outcome, upstream_queries, status,"
    " latency_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static int run_log(sqlite3 *db, void *arg) {
    log_job_t *j = arg;
    sqlite3_stmt *st = ig_db_stmt(db, sql_insert);
    if (!st) return IG_EIO;
    for (size_t i = 0; i < j->n; i++) {
        const ig_request_row_t *r = &j->rows[i];
        char at[TS_MAX];
        fmt_ms(r->at_ms, at);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC); /* NULL binds NULL */
        sqlite3_bind_text(st, 3, r->endpoint, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->outcome, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, r->upstream_queries);
        sqlite3_bind_int(st, 7, r->status);
        sqlite3_bind_double(st, 8, r->latency_ms);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_reset(st);
            return IG_EIO; /* the writer rolls the whole batch back: it lands whole or not */
        }
    }
    sqlite3_reset(st);
    return IG_OK;
}

static const char *col(sqlite3_stmt *st, int i) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static size_t slen(const char *s) {
    return s ? strlen(s) + 1 : 0;
}

/* Copies s into *p (advancing it); NULL stays NULL. */
static const char *put(char **p, const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    const char *at = *p;
    *p += n;
    return at;
}

int ig_store_log_requests(ig_store_t *s, const ig_request_row_t *rows, size_t n) {
    if (!s || (!rows && n)) return IG_EINVAL;
    if (n == 0) return IG_OK;
    size_t bytes = sizeof(log_job_t) + n * sizeof(ig_request_row_t);
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].endpoint || !rows[i].outcome) return IG_EINVAL; /* NOT NULL columns */
        bytes +=
            slen(rows[i].user) + slen(rows[i].endpoint) + slen(rows[i].key) + slen(rows[i].outcome);
    }
    /* One allocation: the job, its rows, then their strings. */
    log_job_t *j = malloc(bytes);
    if (!j) return IG_ENOMEM;
    j->n = n;
    j->rows = (ig_request_row_t *)(j + 1);
    char *p = (char *)(j->rows + n);
    for (size_t i = 0; i < n; i++) {
        ig_request_row_t *r = &j->rows[i];
        *r = rows[i];
        r->user = put(&p, rows[i].user);
        r->endpoint = put(&p, rows[i].endpoint);
        r->key = put(&p, rows[i].key);
        r->outcome = put(&p, rows[i].outcome);
    }
    return ig_writer_submit(s, run_log, j, free);
}

/* ---- usage (blocking) --------------------------------------------------------------------- */

/* ?1 month start, ?2 next month, ?3 today, ?4 tomorrow (fmt_ms text). */
static const char sql_usage[] =
    "SELECT coalesce(user, ''), endpoint, sum(upstream_queries),"
    "  sum(CASE WHEN at >= ?1 AND at < ?2 THEN upstream_queries ELSE 0 END),"
    "  sum(CASE WHEN at >= ?3 AND at < ?4 THEN upstream_queries ELSE 0 END)"
    " FROM requests WHERE upstream_queries > 0"
    " GROUP BY 1, 2 ORDER BY 1, 2";

/* ?1 an hour before now (excluded), ?2 now (included). */
static const char sql_recent[] =
    "SELECT coalesce(user, ''), endpoint, at, upstream_queries FROM requests"
    " WHERE upstream_queries > 0 AND at > ?1 AND at <= ?2 ORDER BY 1, 2, 3";

void ig_usage_free(ig_usage_t *u, size_t n) {
    if (!u) return;
    for (size_t i = 0; i < n; i++)
        free(u[i].recent_ms);
    free(u);
}

/* The entry for (user, endpoint) in u[0..n), both sorted by the same ORDER BY; *from is the
 * cursor of the previous match (recent rows come in the same order). */
static ig_usage_t *find_usage(ig_usage_t *u, size_t n, size_t *from, const char *user,
                              const char *endpoint) {
    ig_usage_t want;
    snprintf(want.user, sizeof(want.user), "%s", user);
    snprintf(want.endpoint, sizeof(want.endpoint), "%s", endpoint);
    for (size_t k = 0; k < n; k++) {
        size_t i = (*from + k) % n;
        if (strcmp(u[i].user, want.user) == 0 && strcmp(u[i].endpoint, want.endpoint) == 0) {
            *from = i;
            return &u[i];
        }
    }
    return NULL;
}

static int add_recent(ig_usage_t *e, int64_t at, int count, size_t *cap) {
    if (count > MAX_RECENT_PER_ROW) count = MAX_RECENT_PER_ROW;
    for (int c = 0; c < count; c++) {
        if (e->nrecent == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            int64_t *r = realloc(e->recent_ms, ncap * sizeof(*r));
            if (!r) return IG_ENOMEM;
            e->recent_ms = r;
            *cap = ncap;
        }
        e->recent_ms[e->nrecent++] = at;
    }
    return IG_OK;
}

static int usage_with(sqlite3 *db, int64_t now_ms, ig_usage_t **out, size_t *nout) {
    time_t now = (time_t)(now_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&now, &tm)) return IG_EINVAL;
    struct tm m0 = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = 1};
    struct tm m1 = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon + 1, .tm_mday = 1};
    struct tm d0 = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday};
    struct tm d1 = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday + 1};
    char month0[TS_MAX], month1[TS_MAX], day0[TS_MAX], day1[TS_MAX], hour_ago[TS_MAX],
        now_text[TS_MAX];
    fmt_ms((int64_t)timegm(&m0) * 1000, month0); /* timegm normalizes month 12 and day 32 */
    fmt_ms((int64_t)timegm(&m1) * 1000, month1);
    fmt_ms((int64_t)timegm(&d0) * 1000, day0);
    fmt_ms((int64_t)timegm(&d1) * 1000, day1);
    fmt_ms(now_ms - MS_PER_HOUR, hour_ago);
    fmt_ms(now_ms, now_text);

    ig_usage_t *u = NULL;
    size_t n = 0, cap = 0, *rcap = NULL;
    int rc = IG_OK;
    sqlite3_stmt *st = ig_db_stmt(db, sql_usage);
    if (!st) return IG_EIO;
    sqlite3_bind_text(st, 1, month0, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, month1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, day0, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, day1, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            ig_usage_t *nu = realloc(u, ncap * sizeof(*nu));
            if (!nu) {
                rc = IG_ENOMEM;
                break;
            }
            u = nu;
            cap = ncap;
        }
        ig_usage_t *e = &u[n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->user, sizeof(e->user), "%s", col(st, 0));
        snprintf(e->endpoint, sizeof(e->endpoint), "%s", col(st, 1));
        e->total = sqlite3_column_int64(st, 2);
        e->month = sqlite3_column_int64(st, 3);
        e->today = sqlite3_column_int64(st, 4);
    }
    if (rc == IG_OK && step != SQLITE_DONE) rc = IG_EIO;
    sqlite3_reset(st);

    if (rc == IG_OK && n && !(rcap = calloc(n, sizeof(*rcap)))) rc = IG_ENOMEM;
    if (rc == IG_OK && n) {
        st = ig_db_stmt(db, sql_recent);
        if (!st) rc = IG_EIO;
    }
    if (rc == IG_OK && n) {
        sqlite3_bind_text(st, 1, hour_ago, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, now_text, -1, SQLITE_STATIC);
        size_t cursor = 0;
        while (rc == IG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            ig_usage_t *e = find_usage(u, n, &cursor, col(st, 0), col(st, 1));
            int64_t at = parse_ms(col(st, 2));
            if (!e || at < 0) continue; /* read in the same transaction: cannot happen */
            rc = add_recent(e, at, sqlite3_column_int(st, 3), &rcap[e - u]);
        }
        if (rc == IG_OK && step != SQLITE_DONE) rc = IG_EIO;
        sqlite3_reset(st);
    }
    free(rcap);
    if (rc != IG_OK) {
        ig_usage_free(u, n);
        return rc;
    }
    *out = u;
    *nout = n;
    return IG_OK;
}

int ig_store_usage(ig_store_t *s, int64_t now_ms, ig_usage_t **out, size_t *n) {
    if (!out || !n) return IG_EINVAL;
    *out = NULL;
    *n = 0;
    if (!s) return IG_EINVAL;
    sqlite3 *db = ig_db_reader_get(s);
    if (!db) return IG_EIO;
    /* Both reads in one snapshot, so every recent row has its sums. */
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? IG_OK : IG_EIO;
    if (rc == IG_OK) {
        rc = usage_with(db, now_ms, out, n);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    ig_db_reader_put(s, db);
    return rc;
}
