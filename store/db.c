/* db.c — opening the intel database: pragmas (WAL, synchronous=NORMAL, busy timeout),
 * the schema as an ordered list of migrations tracked by PRAGMA user_version, and the pool
 * of read-only connections the thread pool borrows.
 *
 * To change the schema, append one string to `migrations` below: it runs once, in its own
 * transaction, on every database whose user_version is lower, and never again. A database
 * newer than this build is refused. Never touches HTTP or the network.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
    /* 1: cached answers, the exact bytes the upstream sent for a canonical question. */
    "CREATE TABLE responses ("
    "  key TEXT PRIMARY KEY,"
    "  endpoint TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  content_type TEXT,"
    "  body BLOB NOT NULL,"
    "  fetched_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX responses_expires ON responses(expires_at);",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int fail(sqlite3 *db, const char *path, const char *what, char *err, size_t errlen) {
    snprintf(err, errlen, "cannot %s %s: %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return IG_EIO;
}

static int pragmas(sqlite3 *db) {
    sqlite3_busy_timeout(db, 5000);
    return sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", NULL, NULL,
                        NULL);
}

int ig_db_open_rw(const char *path, sqlite3 **out, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                            SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) return fail(db, path, "open", err, errlen);
    char *mode = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        mode = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    bool wal = mode && strcmp(mode, "wal") == 0;
    free(mode);
    if (!wal) return fail(db, path, "use WAL mode on", err, errlen);
    if (pragmas(db) != SQLITE_OK) return fail(db, path, "configure", err, errlen);

    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail(db, path, "read the schema version of", err, errlen);
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > NMIGRATIONS) {
        snprintf(err, errlen,
                 "%s has schema version %d, newer than this irisgate knows (%d): use a newer "
                 "irisgate",
                 path, version, NMIGRATIONS);
        sqlite3_close_v2(db);
        return IG_EINVAL;
    }
    for (int v = version; v < NMIGRATIONS; v++) {
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version=%d;", v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof(what), "apply schema migration %d to", v + 1);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return fail(db, path, what, err, errlen);
        }
    }
    *out = db;
    return IG_OK;
}

sqlite3 *ig_db_reader_get(ig_store_t *s) {
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->rmu);
    if (s->nreaders) db = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->rmu);
    if (db) return db;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

void ig_db_reader_put(ig_store_t *s, sqlite3 *db) {
    pthread_mutex_lock(&s->rmu);
    if (s->nreaders == s->rcap) {
        size_t cap = s->rcap ? s->rcap * 2 : 8;
        sqlite3 **r = realloc(s->readers, cap * sizeof(*r));
        if (!r) {
            pthread_mutex_unlock(&s->rmu);
            sqlite3_close_v2(db);
            return;
        }
        s->readers = r;
        s->rcap = cap;
    }
    s->readers[s->nreaders++] = db;
    pthread_mutex_unlock(&s->rmu);
}

void ig_db_readers_close(ig_store_t *s) {
    pthread_mutex_lock(&s->rmu);
    for (size_t i = 0; i < s->nreaders; i++) sqlite3_close_v2(s->readers[i]);
    free(s->readers);
    s->readers = NULL;
    s->nreaders = s->rcap = 0;
    pthread_mutex_unlock(&s->rmu);
}
