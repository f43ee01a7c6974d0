/* store_int.h — what the store's files share: the store object, the per-connection
 * statement cache and the pool of read-only connections. Only store/ includes it. */
#ifndef IRISGATE_STORE_INT_H
#define IRISGATE_STORE_INT_H

#include "irisgate/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>

struct ig_job; /* writer.c */

struct ig_store {
    char *path;
    sqlite3 *wdb; /* the writer thread's connection, the only read-write one */

    /* The writer's queue (writer.c); everything below is under mu. */
    pthread_t writer;
    bool writer_started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* jobs queued, or stop */
    pthread_cond_t done; /* a batch finished (committed or failed) */
    struct ig_job *head, *tail;
    uint64_t nqueued; /* jobs ever queued */
    uint64_t ndone;   /* jobs ever finished, committed or failed */
    bool stop;
    ig_store_stats_t st;

    /* Read-only connections borrowed by the thread pool and blocking reads (db.c). */
    pthread_mutex_t rmu;
    pthread_cond_t ridle; /* reads_inflight fell to 0 */
    sqlite3 **readers;    /* the free list */
    size_t nreaders, rcap;
    size_t reads_inflight; /* async reads queued or running: close waits for them */
};

/* A prepared statement for sql on db, cached on the connection (found again by its text,
 * prepared once with SQLITE_PREPARE_PERSISTENT), reset and with its bindings cleared.
 * The caller resets it when done so it holds no read snapshot. NULL on error. */
sqlite3_stmt *ig_db_stmt(sqlite3 *db, const char *sql);
/* Finalizes every statement of db, then sqlite3_close_v2. NULL is fine. */
void ig_db_close(sqlite3 *db);

/* A read-only connection from the pool (opened on first need), and back. */
sqlite3 *ig_db_reader_get(ig_store_t *s);
void ig_db_reader_put(ig_store_t *s, sqlite3 *db);

#endif
