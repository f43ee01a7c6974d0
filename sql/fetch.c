/* fetch.c — iris_fetch(field, value) and iris_config(name [, value]): the one way the SQL
 * module reaches the network, only through a running irisgate, so its cache, quota and
 * ingest rules apply (a second fetch within the TTL costs no upstream query).
 *   SELECT iris_config('user', 'alice'), iris_config('key', '...');  -- or IRISGATE_*
 *   SELECT iris_fetch('nameserver_host', 'ns1.example.com');          -- domains stored
 * iris_fetch POSTs to URL/v1/iris-investigate/ (libcurl easy, blocking, in the analyst's
 * process): 'domain' is a lookup (up to 100, comma-separated), any other field a pivot walked
 * page by page. It then waits (iris_config('timeout'), 15 s) on a read-only connection of its
 * own until each domain is in `domains` fetched no earlier than its answer: the answer's Age
 * when irisgate served it from its cache (HIT, PARTIAL, STALE, ...), else the call's start.
 * Errors (HTTP, limit_exceeded, X-Cache: BYPASS at once, domains still missing) are SQL errors
 * with the vendor's message or the count. Settings live per connection (freed with it); the
 * key is never returned, logged or put in a message, and the request body is wiped.
 */
#include "sql_int.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_URL "http://127.0.0.1:8800"
#define DEFAULT_TIMEOUT 15.0
#define PAGE_SIZE "500"
#define MAX_PAGES 1000                /* 500,000 domains: far past the vendor's cap */
#define MAX_BODY (256u * 1024 * 1024) /* bytes of one answer */
#define POLL_MS 50
#define KEY_SHOWN "********"

typedef struct {
    int refs; /* one per function registered with it */
    char *url, *user, *key;
    double timeout;
} settings_t;

static void settings_unref(void *p) {
    settings_t *s = p;
    if (--s->refs > 0) return;
    if (s->key) memset(s->key, 0, strlen(s->key));
    sqlite3_free(s->url);
    sqlite3_free(s->user);
    sqlite3_free(s->key);
    sqlite3_free(s);
}

static const char *setting(const char *mine, const char *env, const char *def) {
    if (mine) return mine;
    const char *e = getenv(env);
    return e && *e ? e : def;
}

/* ---- iris_config ---- */

static void config_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    settings_t *s = sqlite3_user_data(ctx);
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    char **slot = NULL;
    const char *env = NULL;
    if (name && sqlite3_stricmp(name, "url") == 0) {
        slot = &s->url;
        env = "IRISGATE_URL";
    } else if (name && sqlite3_stricmp(name, "user") == 0) {
        slot = &s->user;
        env = "IRISGATE_USER";
    } else if (name && sqlite3_stricmp(name, "key") == 0) {
        slot = &s->key;
        env = "IRISGATE_KEY";
    } else if (!(name && sqlite3_stricmp(name, "timeout") == 0)) {
        sqlite3_result_error(ctx, "iris_config: the setting is 'url', 'user', 'key' or 'timeout'",
                             -1);
        return;
    }
    if (!slot) { /* timeout, seconds */
        if (argc == 2 && sqlite3_value_type(argv[1]) != SQLITE_NULL) {
            double t = sqlite3_value_double(argv[1]);
            if (!(t > 0 && t <= 3600)) {
                sqlite3_result_error(ctx, "iris_config: the timeout is seconds, 0 to 3600", -1);
                return;
            }
            s->timeout = t;
        } else if (argc == 2) {
            s->timeout = DEFAULT_TIMEOUT;
        }
        sqlite3_result_double(ctx, s->timeout);
        return;
    }
    if (argc == 2) {
        char *v = NULL;
        if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
            v = sqlite3_mprintf("%s", (const char *)sqlite3_value_text(argv[1]));
            if (!v) {
                sqlite3_result_error_nomem(ctx);
                return;
            }
        }
        if (*slot && slot == &s->key) memset(*slot, 0, strlen(*slot));
        sqlite3_free(*slot);
        *slot = v; /* NULL: back to the environment */
    }
    const char *now = setting(*slot, env, slot == &s->url ? DEFAULT_URL : NULL);
    if (!now) return; /* NULL: not set anywhere */
    sqlite3_result_text(ctx, slot == &s->key ? KEY_SHOWN : now, -1, SQLITE_TRANSIENT);
}

/* ---- one HTTP exchange with irisgate ---- */

typedef struct {
    char *data;
    size_t len, cap;
    int too_big;
} buf_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    buf_t *b = arg;
    size_t add = size * n;
    if (b->len + add + 1 > MAX_BODY) {
        b->too_big = 1;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* What irisgate says about where an answer came from: X-Cache and Age. */
typedef struct {
    char cache[16]; /* HIT, MISS, STALE, PARTIAL, COALESCED, QUEUED, BYPASS, ... */
    long age;       /* seconds; -1: no Age header */
} origin_t;

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    size_t len = size * n;
    origin_t *o = arg;
    const char *end = p + len;
    const char *v = memchr(p, ':', len);
    if (!v) return len;
    size_t nlen = (size_t)(v - p);
    for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    size_t vlen = (size_t)(end - v);
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (nlen == 7 && strncasecmp(p, "x-cache", 7) == 0) {
        snprintf(o->cache, sizeof(o->cache), "%.*s", (int)(vlen < 15 ? vlen : 15), v);
    } else if (nlen == 3 && strncasecmp(p, "age", 3) == 0 && vlen > 0 && vlen < 12) {
        long a = 0;
        size_t i = 0;
        while (i < vlen && v[i] >= '0' && v[i] <= '9')
            a = a * 10 + (v[i++] - '0');
        if (i == vlen) o->age = a;
    }
    return len;
}

typedef struct {
    char *name;
    time_t not_before; /* its stored copy must be fetched at or after this */
    char when[20];     /* not_before as the store writes times */
    int stored;
} found_t;

typedef struct {
    sqlite3_context *ctx;
    settings_t *s;
    CURL *curl;
    char url[2048];
    time_t since; /* the call's start, a second early: our store's times are whole seconds */
    found_t *found;
    size_t n, cap;
} fetch_t;

static void fetch_error(sqlite3_context *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (msg) {
        sqlite3_result_error(ctx, msg, -1);
    } else {
        sqlite3_result_error_nomem(ctx);
    }
    sqlite3_free(msg);
}

/* The vendor's message out of {"error":{"message":...}} (or {"error":"..."}), if any. */
static const char *error_message(cJSON *root) {
    cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(e)) return e->valuestring;
    cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int add_found(fetch_t *f, const char *name, time_t not_before) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 512;
        found_t *d = realloc(f->found, cap * sizeof(*d));
        if (!d) return -1;
        f->found = d;
        f->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    for (char *p = copy; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    f->found[f->n].name = copy;
    f->found[f->n].not_before = not_before;
    f->found[f->n].stored = 0;
    f->n++;
    return 0;
}

/* How old a stored copy of this answer's domains may be. An answer served from irisgate's
 * cache, whole or in part (PARTIAL: some domains cached, the rest fetched; STALE: the vendor
 * failed and an older copy was served), says how old its oldest part is in Age; every part
 * was stored when it was fetched, so a copy fetched since then is the one. An answer
 * without Age was fetched for this call. */
static time_t not_before(const fetch_t *f, const origin_t *o) {
    if (o->age >= 0) {
        time_t t = time(NULL) - (time_t)o->age - 1; /* irisgate's second and ours may differ */
        return t < f->since ? t : f->since;
    }
    if (strcasecmp(o->cache, "HIT") == 0 || strcasecmp(o->cache, "STALE") == 0)
        return 0; /* cached, age unknown: any stored copy */
    return f->since;
}

/* One page: returns 1 when there is another (position set), 0 when done, -1 on error (the
 * SQL error already set). */
static int fetch_page(fetch_t *f, const char *field, const char *value, int lookup, char *position,
                      size_t poslen) {
    char *u = curl_easy_escape(f->curl, setting(f->s->user, "IRISGATE_USER", ""), 0);
    char *k = curl_easy_escape(f->curl, setting(f->s->key, "IRISGATE_KEY", ""), 0);
    char *v = curl_easy_escape(f->curl, value, 0);
    char *p = position[0] ? curl_easy_escape(f->curl, position, 0) : NULL;
    char *form = NULL;
    if (u && k && v)
        form = sqlite3_mprintf("api_username=%s&api_key=%s&%s=%s%s%s%s", u, k, field, v,
                               lookup ? "" : "&page_size=" PAGE_SIZE, p ? "&position=" : "",
                               p ? p : "");
    if (k) memset(k, 0, strlen(k));
    curl_free(u);
    curl_free(k);
    curl_free(v);
    curl_free(p);
    if (!form) {
        sqlite3_result_error_nomem(f->ctx);
        return -1;
    }
    buf_t body = {0};
    origin_t origin = {.cache = "", .age = -1};
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(f->curl, CURLOPT_URL, f->url);
    curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, &origin);
    curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(f->curl);
    memset(form, 0, strlen(form));
    sqlite3_free(form);
    curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, NULL);
    long status = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
    int ret = -1;
    cJSON *root = NULL;
    if (cc != CURLE_OK) {
        if (body.too_big)
            fetch_error(f->ctx, "iris_fetch: irisgate's answer is larger than %u MiB",
                        MAX_BODY >> 20);
        else
            fetch_error(f->ctx, "iris_fetch: cannot reach irisgate at %s: %s", f->url,
                        cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    root = body.data ? cJSON_ParseWithLength(body.data, body.len) : NULL;
    if (status != 200) {
        const char *m = root ? error_message(root) : NULL;
        fetch_error(f->ctx, "iris_fetch: %s (HTTP %ld)", m ? m : "irisgate answered an error",
                    status);
        goto out;
    }
    cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "response");
    if (!cJSON_IsObject(r)) {
        fetch_error(f->ctx, "iris_fetch: the answer is not an Iris answer");
        goto out;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "limit_exceeded"))) {
        const char *m = error_message(r);
        cJSON *msg = cJSON_GetObjectItemCaseSensitive(r, "message");
        if (!m && cJSON_IsString(msg)) m = msg->valuestring;
        fetch_error(f->ctx, "iris_fetch: limit exceeded: %s",
                    m ? m : "too many domains match; refine the query");
        goto out;
    }
    if (strcasecmp(origin.cache, "BYPASS") == 0) {
        /* Passed on uncached (a TTL of 0): irisgate will not store it, waiting is futile. */
        fetch_error(f->ctx, "iris_fetch: irisgate passed the question on without keeping the "
                            "answer (X-Cache: BYPASS; is its Investigate TTL 0?)");
        goto out;
    }
    time_t nb = not_before(f, &origin);
    cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "results"), *it;
    cJSON_ArrayForEach(it, res) {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "domain");
        if (cJSON_IsString(d) && d->valuestring[0] && add_found(f, d->valuestring, nb) != 0) {
            sqlite3_result_error_nomem(f->ctx);
            goto out;
        }
    }
    cJSON *pos = cJSON_GetObjectItemCaseSensitive(r, "position");
    if (!lookup && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "has_more_results"))) {
        if (!cJSON_IsString(pos) || !pos->valuestring[0] || strlen(pos->valuestring) >= poslen ||
            strcmp(pos->valuestring, position) == 0) {
            fetch_error(f->ctx, "iris_fetch: the answer has more pages but no new position");
            goto out;
        }
        snprintf(position, poslen, "%s", pos->valuestring);
        ret = 1;
    } else {
        ret = 0;
    }
out:
    cJSON_Delete(root);
    free(body.data);
    return ret;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const found_t *)a)->name, ((const found_t *)b)->name);
}

/* Sorts and merges duplicates (a domain on several pages: the oldest copy any of them
 * allows will do). */
static void dedupe(fetch_t *f) {
    if (f->n < 2) return;
    qsort(f->found, f->n, sizeof(*f->found), by_name);
    size_t w = 0;
    for (size_t i = 1; i < f->n; i++) {
        if (strcmp(f->found[i].name, f->found[w].name) == 0) {
            if (f->found[i].not_before < f->found[w].not_before)
                f->found[w].not_before = f->found[i].not_before;
            free(f->found[i].name);
        } else {
            f->found[++w] = f->found[i];
        }
    }
    f->n = w + 1;
}

/* Waits until every domain found is in `domains`, fetched no earlier than its answer allows,
 * polling a read-only connection of our own: the caller's connection may be inside a
 * statement whose snapshot would never see irisgate's commits. Returns the number of
 * domains still missing when the time ran out (0: all stored), -1 on error. */
static long wait_stored(fetch_t *f, sqlite3 *db) {
    const char *path = sqlite3_db_filename(db, "main");
    if (!path || !path[0]) {
        fetch_error(f->ctx, "iris_fetch: the database is not a file irisgate writes to");
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) {
        struct tm tm;
        gmtime_r(&f->found[i].not_before, &tm);
        strftime(f->found[i].when, sizeof(f->found[i].when), "%Y-%m-%d %H:%M:%S", &tm);
    }
    sqlite3 *rdb = NULL;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_open_v2(path, &rdb, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(rdb, 2000);
        rc = sqlite3_prepare_v2(rdb, "SELECT last_fetched >= ?2 FROM domains WHERE domain = ?1", -1,
                                &s, NULL);
    }
    if (rc != SQLITE_OK) {
        fetch_error(f->ctx, "iris_fetch: cannot read %s: %s", path,
                    rdb ? sqlite3_errmsg(rdb) : "out of memory");
        sqlite3_close(rdb);
        return -1;
    }
    double timeout = f->s->timeout;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long missing = -1;
    for (;;) {
        long left = 0;
        for (size_t i = 0; i < f->n; i++) {
            found_t *d = &f->found[i];
            if (d->stored) continue;
            sqlite3_bind_text(s, 1, d->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, d->when, -1, SQLITE_STATIC);
            rc = sqlite3_step(s);
            d->stored = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
            sqlite3_reset(s);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_BUSY) {
                fetch_error(f->ctx, "iris_fetch: %s", sqlite3_errmsg(rdb));
                goto out;
            }
            left += !d->stored;
        }
        if (left == 0) {
            missing = 0;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (waited >= timeout) {
            missing = left;
            break;
        }
        sqlite3_sleep(POLL_MS);
    }
out:
    sqlite3_finalize(s);
    sqlite3_close(rdb);
    return missing;
}

static void fetch_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return; /* NULL in, NULL out, like any SQL function */
    fetch_t f;
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.s = sqlite3_user_data(ctx);
    char field[IG_SQLF_MAX];
    int kind = ig_sqlf_resolve((const char *)sqlite3_value_text(argv[0]), field);
    const char *value = (const char *)sqlite3_value_text(argv[1]);
    if (kind == IG_SQLF_BAD || !value || !value[0]) {
        sqlite3_result_error(ctx,
                             "iris_fetch: needs a field ('domain' or an Iris search "
                             "parameter such as 'ip') and a value",
                             -1);
        return;
    }
    for (const char *p = field; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            sqlite3_result_error(ctx, "iris_fetch: a field is letters, digits and '_'", -1);
            return;
        }
    }
    const char *user = setting(f.s->user, "IRISGATE_USER", NULL);
    const char *key = setting(f.s->key, "IRISGATE_KEY", NULL);
    if (!user || !key) {
        sqlite3_result_error(ctx,
                             "iris_fetch: no irisgate user: SELECT iris_config('user', "
                             "NAME), iris_config('key', KEY), or set IRISGATE_USER and "
                             "IRISGATE_KEY",
                             -1);
        return;
    }
    const char *base = setting(f.s->url, "IRISGATE_URL", DEFAULT_URL);
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (blen + sizeof("/v1/iris-investigate/") > sizeof(f.url)) {
        sqlite3_result_error(ctx, "iris_fetch: the irisgate URL is too long", -1);
        return;
    }
    snprintf(f.url, sizeof(f.url), "%.*s/v1/iris-investigate/", (int)blen, base);
    f.curl = curl_easy_init();
    if (!f.curl) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    curl_easy_setopt(f.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f.curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(f.curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(f.curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(f.curl, CURLOPT_USERAGENT, "irisgate-sql");

    /* Our store's times are whole seconds; a second of slack for irisgate's clock read. */
    f.since = time(NULL) - 1;

    int lookup = kind == IG_SQLF_DOMAIN;
    char position[256] = "";
    int more = 1, pages = 0, failed = 0;
    while (more == 1) {
        if (++pages > MAX_PAGES) {
            fetch_error(ctx, "iris_fetch: more than %d pages", MAX_PAGES);
            failed = 1;
            break;
        }
        more = fetch_page(&f, field, value, lookup, position, sizeof(position));
        if (more < 0) failed = 1;
    }
    curl_easy_cleanup(f.curl);
    if (!failed) {
        dedupe(&f);
        long missing = wait_stored(&f, sqlite3_context_db_handle(ctx));
        if (missing > 0)
            fetch_error(ctx,
                        "iris_fetch: irisgate answered %ld domains but %ld %s not stored "
                        "after %g s: is irisgate writing to %s?",
                        (long)f.n, missing, missing == 1 ? "is" : "are", f.s->timeout,
                        sqlite3_db_filename(sqlite3_context_db_handle(ctx), "main"));
        else if (missing == 0)
            sqlite3_result_int64(ctx, (sqlite3_int64)f.n);
    }
    for (size_t i = 0; i < f.n; i++)
        free(f.found[i].name);
    free(f.found);
}

int ig_sql_register_fetch(sqlite3 *db) {
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {{"iris_config", 1, config_func},
               {"iris_config", 2, config_func},
               {"iris_fetch", 2, fetch_func}};
    const int nfns = (int)(sizeof(fns) / sizeof(fns[0]));
    settings_t *s = sqlite3_malloc(sizeof(*s));
    if (!s) return SQLITE_NOMEM;
    memset(s, 0, sizeof(*s));
    s->timeout = DEFAULT_TIMEOUT;
    s->refs = nfns; /* each registration's destructor drops one */
    /* Side effects on the network: never from a trigger or a view of an untrusted schema. */
    for (int i = 0; i < nfns; i++) {
        int rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].nargs,
                                            SQLITE_UTF8 | SQLITE_DIRECTONLY, s, fns[i].fn, NULL,
                                            NULL, settings_unref);
        if (rc != SQLITE_OK) { /* SQLite ran the destructor for this one; drop the rest */
            for (int j = i + 1; j < nfns; j++)
                settings_unref(s);
            return rc;
        }
    }
    return SQLITE_OK;
}
