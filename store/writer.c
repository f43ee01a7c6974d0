/* writer.c — the store's single writer thread: the only connection that writes, fed by a
 * queue of jobs (writer_int.h), committing in batches: everything queued when the thread
 * wakes, up to BATCH_MAX jobs, goes into ONE transaction (group commit), so ten thousand
 * puts cost a handful of fsyncs.
 *
 * Each job runs in its own SAVEPOINT: a job that fails is rolled back alone and counted in
 * stats.failed; nothing is ever half-written. Callers hold the queue's mutex only to link a
 * job: they never wait on disk. Never logs the data it writes (only SQLite's error text).
 * Life cycle: ig_writer_start (from ig_store_open) → ig_writer_submit* → ig_writer_stop
 * (from ig_store_close: drains the queue, commits, joins).
 */
#include "writer_int.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH_MAX 512
#define BEGIN_TRIES 3 /* each waits up to busy_timeout for another process's write */

typedef struct ig_job {
    int (*run)(sqlite3 *db, void *arg);
    void *arg;
    void (*free_arg)(void *arg);
    struct ig_job *next;
} ig_job_t;

int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *, void *), void *arg,
                     void (*free_arg)(void *)) {
    ig_job_t *j = s && run ? malloc(sizeof(*j)) : NULL;
    if (!j) {
        if (free_arg) free_arg(arg);
        return s && run ? IG_ENOMEM : IG_EINVAL;
    }
    *j = (ig_job_t){run, arg, free_arg, NULL};
    pthread_mutex_lock(&s->mu);
    if (s->stop || !s->writer_started) {
        pthread_mutex_unlock(&s->mu);
        if (free_arg) free_arg(arg);
        free(j);
        return IG_EINVAL;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    s->nqueued++;
    s->st.queued++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return IG_OK;
}

static void report(ig_store_t *s, const char *what) {
    char msg[300];
    snprintf(msg, sizeof(msg), "%s: %s", what, sqlite3_errmsg(s->wdb));
    ig_store_log(s, msg);
}

static bool begin(ig_store_t *s) {
    sqlite3 *db = s->wdb;
    for (int i = 0; i < BEGIN_TRIES; i++)
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) return true;
    report(s, "cannot begin a transaction");
    return false;
}

/* COMMIT; on failure the transaction is rolled back (its jobs are lost, and counted). */
static bool commit(ig_store_t *s) {
    sqlite3 *db = s->wdb;
    int rc = SQLITE_ERROR;
    for (int i = 0; i < BEGIN_TRIES; i++) {
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_BUSY) break; /* BUSY leaves the transaction open: try again */
    }
    if (rc == SQLITE_OK) return true;
    report(s, "commit failed");
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

/* Runs one job in its own savepoint; true when it is part of the transaction. */
static bool run_job(sqlite3 *db, ig_job_t *j) {
    if (sqlite3_exec(db, "SAVEPOINT job", NULL, NULL, NULL) != SQLITE_OK) return false;
    if (j->run(db, j->arg) == IG_OK &&
        sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL) == SQLITE_OK)
        return true;
    sqlite3_exec(db, "ROLLBACK TO job", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL);
    return false;
}

/* Runs a batch: normally one transaction. Some errors (disk full, I/O, a job that ended the
 * transaction itself) roll back the whole transaction: the jobs already in it are counted
 * as failed and the rest of the batch goes on in a new one. */
static void run_batch(ig_store_t *s, ig_job_t *batch, uint64_t *ok, uint64_t *failed,
                      uint64_t *txns) {
    sqlite3 *db = s->wdb;
    bool in_txn = false;
    uint64_t pending = 0; /* jobs in the open transaction */
    for (ig_job_t *j = batch; j; j = j->next) {
        if (!in_txn && !(in_txn = begin(s))) {
            (*failed)++;
            continue;
        }
        bool good = run_job(db, j);
        if (sqlite3_get_autocommit(db)) {
            report(s, "a write rolled back its whole transaction");
            *failed += pending + 1;
            pending = 0;
            in_txn = false;
            continue;
        }
        if (good)
            pending++;
        else
            (*failed)++;
    }
    if (!in_txn) return;
    if (commit(s)) {
        *ok += pending;
        (*txns)++;
    } else {
        *failed += pending;
    }
}

static void *writer_main(void *arg) {
    ig_store_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->wake, &s->mu);
        if (!s->head) break; /* stop, and the queue is drained */
        ig_job_t *batch = s->head, *last = s->head;
        uint64_t n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head) s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        uint64_t ok = 0, failed = 0, txns = 0;
        run_batch(s, batch, &ok, &failed, &txns);
        while (batch) {
            ig_job_t *next = batch->next;
            if (batch->free_arg) batch->free_arg(batch->arg);
            free(batch);
            batch = next;
        }

        pthread_mutex_lock(&s->mu);
        s->ndone += n;
        s->st.committed += ok;
        s->st.failed += failed;
        s->st.transactions += txns;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ig_writer_start(ig_store_t *s) {
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) return IG_ENOMEM;
    pthread_mutex_lock(&s->mu);
    s->writer_started = true;
    pthread_mutex_unlock(&s->mu);
    return IG_OK;
}

void ig_writer_stop(ig_store_t *s) {
    pthread_mutex_lock(&s->mu);
    bool started = s->writer_started;
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (!started) return;
    pthread_join(s->writer, NULL);
    pthread_mutex_lock(&s->mu);
    s->writer_started = false;
    pthread_mutex_unlock(&s->mu);
}

int ig_store_flush(ig_store_t *s) {
    if (!s) return IG_EINVAL;
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->nqueued;
    while (s->ndone < target && s->writer_started)
        pthread_cond_wait(&s->done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return IG_OK;
}

void ig_store_stats(ig_store_t *s, ig_store_stats_t *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}
