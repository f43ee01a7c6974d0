/* store_int.h — what the store's files share: the store object, the writer's job queue
 * and the read-connection pool. Only store/ includes it. */
#ifndef IRISGATE_STORE_INT_H
#define IRISGATE_STORE_INT_H

#include "irisgate/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>

/* A unit of writing: run() executes inside the writer's transaction (in its own savepoint);
 * a non-zero return rolls that job back alone. free_arg(arg) runs after, whatever happened. */
typedef struct ig_job {
    int (*run)(sqlite3 *db, void *arg);
    void *arg;
    void (*free_arg)(void *arg);
    struct ig_job *next;
} ig_job_t;

struct ig_store {
    char *path;
    sqlite3 *wdb; /* the writer thread's connection, the only read-write one */
    pthread_t writer;
    bool writer_started;
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* jobs queued or stop */
    pthread_cond_t committed; /* a batch was committed */
    ig_job_t *head, *tail;
    uint64_t nqueued;    /* jobs ever queued */
    uint64_t ndone;      /* jobs ever finished (committed or failed) */
    bool stop;
    ig_store_stats_t st;

    pthread_mutex_t rmu; /* the read-connection pool */
    sqlite3 **readers;
    size_t nreaders, rcap;
};

/* Opens path read-write, sets the pragmas, applies migrations (db.c). */
int ig_db_open_rw(const char *path, sqlite3 **out, char *err, size_t errlen);
/* A read-only connection from the pool (opened on demand), and back (db.c). */
sqlite3 *ig_db_reader_get(ig_store_t *s);
void ig_db_reader_put(ig_store_t *s, sqlite3 *db);
void ig_db_readers_close(ig_store_t *s);

/* Queues a job for the writer thread (writer.c). Takes ownership of arg. */
int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *, void *), void *arg,
                     void (*free_arg)(void *));
int ig_writer_start(ig_store_t *s);
void ig_writer_stop(ig_store_t *s); /* drains the queue, commits, joins */

#endif
