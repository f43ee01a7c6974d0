/* db.c — the intel database file and its connections: ig_store_open/close, the pragmas
 * (below), the schema as an ordered list of migrations tracked by PRAGMA user_version, the
 * per-connection statement cache and the read-only pool.
 *
 * Changing the schema = appending ONE line to `migrations[]` below, e.g.
 *     {"intel tables", ig_schema_intel},
 * where ig_schema_intel is the SQL text (a static here, or `extern const char
 * ig_schema_intel[];` declared in store_int.h by the file that owns those tables). Entry i
 * brings the database to user_version i+1; it runs once, in its own transaction, and never
 * again. Never edit or reorder a shipped entry. A database newer than this build is refused.
 *
 * Life cycle: the writer thread owns `wdb` until ig_store_close joins it; readers are opened
 * on first need, kept on a free list, closed by ig_store_close. Never touches the network.
 */
#include "writer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_responses[] =
    "CREATE TABLE responses ("
    "  key TEXT PRIMARY KEY,"        /* the canonical question */
    "  endpoint TEXT NOT NULL,"      /* iris-investigate, iris-enrich, ... */
    "  status INTEGER NOT NULL,"     /* the upstream's HTTP status */
    "  content_type TEXT,"           /* as the upstream sent it */
    "  body BLOB NOT NULL,"          /* the exact bytes the upstream sent */
    "  fetched_at INTEGER NOT NULL," /* unix seconds */
    "  expires_at INTEGER NOT NULL"  /* unix seconds */
    ") WITHOUT ROWID;"
    "CREATE INDEX responses_expires_at ON responses(expires_at);";

static const struct {
    const char *what; /* for error messages */
    const char *sql;
} migrations[] = {
    {"cached answers", schema_responses}, /* user_version 1 */
    {"intel tables", ig_schema_intel},    /* user_version 2 */
    {"request log", ig_schema_requests},  /* user_version 3 */
    {"intel history intervals, raw results, fetch log", ig_schema_intel_v4}, /* 4 */
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define BUSY_TIMEOUT_MS 5000

/* ---- functions ------------------------------------------------------------------------- */

/* Reads 8 bytes as a little-endian word, whatever the machine: the hash is stored. */
static uint64_t le64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

int64_t ig_raw_hash(const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        h = (h ^ mix(le64(s + i))) * 0x100000001b3ULL;
    unsigned char tail[8] = {0};
    if (i < n) {
        memcpy(tail, s + i, n - i);
        h = (h ^ mix(le64(tail))) * 0x100000001b3ULL;
    }
    return (int64_t)mix(h);
}

static void hash_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    const char *p = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (!p)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int64(ctx, ig_raw_hash(p, (size_t)n));
}

int ig_db_register_functions(sqlite3 *db) {
    return sqlite3_create_function(db, "irisgate_hash", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                   hash_fn, NULL, NULL) == SQLITE_OK
               ? IG_OK
               : IG_EIO;
}

/* ---- statements ------------------------------------------------------------------------ */

sqlite3_stmt *ig_db_stmt(sqlite3 *db, const char *sql) {
    /* SQLite already keeps the list of a connection's statements: that is the cache. A
     * connection holds a few dozen statements at most, so a linear search is cheap. */
    for (sqlite3_stmt *p = sqlite3_next_stmt(db, NULL); p; p = sqlite3_next_stmt(db, p)) {
        const char *text = sqlite3_sql(p);
        if (text && strcmp(text, sql) == 0) {
            sqlite3_reset(p);
            sqlite3_clear_bindings(p);
            return p;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

void ig_db_close(sqlite3 *db) {
    if (!db) return;
    sqlite3_stmt *p;
    while ((p = sqlite3_next_stmt(db, NULL)) != NULL)
        sqlite3_finalize(p);
    sqlite3_close_v2(db);
}

/* ---- opening and migrating -------------------------------------------------------------- */

static int fail(sqlite3 *db, const char *path, char *err, size_t errlen) {
    snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    ig_db_close(db);
    return IG_EIO;
}

/* An integer PRAGMA's value, or -1. */
static int pragma_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int refuse_newer(sqlite3 *db, const char *path, int version, char *err, size_t errlen) {
    snprintf(err, errlen,
             "cannot open %s: its schema version %d is newer than this irisgate knows (%d); "
             "use a newer irisgate",
             path, version, NMIGRATIONS);
    ig_db_close(db);
    return IG_EINVAL;
}

/* Applies the missing migrations, each in its own transaction. The version is read again
 * under the write lock, so two processes opening the same new file cannot both migrate. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen) {
    int v = pragma_int(db, "PRAGMA user_version");
    if (v < 0) return fail(db, path, err, errlen);
    if (v > NMIGRATIONS) return refuse_newer(db, path, v, err, errlen);
    while (v < NMIGRATIONS) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return fail(db, path, err, errlen);
        v = pragma_int(db, "PRAGMA user_version");
        if (v < 0 || v >= NMIGRATIONS) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (v < 0) return fail(db, path, err, errlen);
            if (v > NMIGRATIONS) return refuse_newer(db, path, v, err, errlen);
            break;
        }
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version=%d", v + 1);
        if (sqlite3_exec(db, migrations[v].sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot apply schema migration %d (%s) to %s: %s", v + 1,
                     migrations[v].what, path, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            ig_db_close(db);
            return IG_EIO;
        }
        v++;
    }
    return IG_OK;
}

static int open_rw(const char *path, sqlite3 **out, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    /* NOMUTEX: the connection is used by one thread at a time (this one, then the writer). */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return fail(db, path, err, errlen);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);

    sqlite3_stmt *st = NULL;
    char mode[16] = "";
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        snprintf(mode, sizeof(mode), "%s", m ? (const char *)m : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return fail(db, path, err, errlen);
    if (strcmp(mode, "wal") != 0) {
        /* e.g. ":memory:", or a file system without shared memory: readers would block. */
        snprintf(err, errlen, "cannot open %s: WAL journal mode is not available there (got %s)",
                 path, mode[0] ? mode : "nothing");
        ig_db_close(db);
        return IG_EIO;
    }
    /* WAL, so the sqlite3 shell and BI tools read while we write; synchronous=NORMAL, which
     * in WAL mode may lose the last commits on power loss, never the file's consistency.
     * Foreign keys are declared (BI tools draw relations from them) but not enforced here:
     * ingest, the only writer of the intel tables, keeps them by construction (tests run
     * PRAGMA foreign_key_check), and enforcing them cost a parent lookup and a statement
     * journal per row written. 64 MB of page cache: the pivot and link indexes are written
     * at random and must stay in memory; a checkpoint every 64 MB of WAL, not 4 MB. */
    if (sqlite3_exec(db,
                     "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
                     " PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16384;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        ig_db_register_functions(db) != IG_OK)
        return fail(db, path, err, errlen);
    int mrc = migrate(db, path, err, errlen);
    if (mrc != IG_OK) return mrc; /* migrate closed db */
    *out = db;
    return IG_OK;
}

/* ---- the read-only pool ------------------------------------------------------------------ */

void ig_db_read_begin(ig_store_t *s) {
    pthread_mutex_lock(&s->rmu);
    s->reads_inflight++;
    pthread_mutex_unlock(&s->rmu);
}

void ig_db_read_end(ig_store_t *s) {
    pthread_mutex_lock(&s->rmu);
    if (--s->reads_inflight == 0) pthread_cond_broadcast(&s->ridle);
    pthread_mutex_unlock(&s->rmu);
}

sqlite3 *ig_db_reader_get(ig_store_t *s) {
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->rmu);
    if (s->nreaders) db = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->rmu);
    if (db) return db;
    /* NOMUTEX: the pool hands a connection to one thread at a time. */
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ig_db_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    return db;
}

void ig_db_reader_put(ig_store_t *s, sqlite3 *db) {
    pthread_mutex_lock(&s->rmu);
    if (s->nreaders == s->rcap) {
        size_t cap = s->rcap ? s->rcap * 2 : 8;
        sqlite3 **r = realloc(s->readers, cap * sizeof(*r));
        if (!r) {
            pthread_mutex_unlock(&s->rmu);
            ig_db_close(db); /* the next read opens another */
            return;
        }
        s->readers = r;
        s->rcap = cap;
    }
    s->readers[s->nreaders++] = db;
    pthread_mutex_unlock(&s->rmu);
}

/* ---- the store ----------------------------------------------------------------------------- */

int ig_store_open(const char *path, ig_store_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (!path || !*path) {
        snprintf(err, errlen, "cannot open the database: no file name given");
        return IG_EINVAL;
    }
    ig_store_t *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "cannot open %s: out of memory", path);
        return IG_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->done, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->ridle, NULL);
    int rc = open_rw(path, &s->wdb, err, errlen);
    if (rc == IG_OK && (rc = ig_writer_start(s)) != IG_OK)
        snprintf(err, errlen, "cannot open %s: cannot start the writer thread", path);
    if (rc != IG_OK) {
        ig_store_close(s);
        return rc;
    }
    *out = s;
    return IG_OK;
}

void ig_store_close(ig_store_t *s) {
    if (!s) return;
    ig_writer_stop(s);
    /* A read on the thread pool still holds a connection and points at s. */
    pthread_mutex_lock(&s->rmu);
    while (s->reads_inflight)
        pthread_cond_wait(&s->ridle, &s->rmu);
    for (size_t i = 0; i < s->nreaders; i++)
        ig_db_close(s->readers[i]);
    pthread_mutex_unlock(&s->rmu);
    free(s->readers);
    ig_ingest_free(s->ingest);
    ig_db_close(s->wdb);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->ridle);
    free(s->path);
    free(s);
}
