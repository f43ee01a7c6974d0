/* writer.c — the store's single writer thread: the only connection that writes, fed by a
 * queue of jobs (writer_int.h), committing in batches: everything queued when the thread
 * wakes, up to BATCH_MAX jobs, goes into ONE transaction (group commit), so ten thousand
 * puts cost a handful of fsyncs.
 *
 * A failed job is rolled back alone; nothing is ever half-written. Jobs run optimistically
 * without a savepoint each (a savepoint copies every page a job touches into a journal,
 * which was the largest cost of ingest): a job that fails before writing anything needs no
 * undo; one that fails after writing rolls the transaction back, and the batch goes on in a
 * new transaction that replays the jobs before it, each in its own SAVEPOINT from then on.
 * Callers hold the queue's mutex only to link a job: they never wait on disk. Never logs
 * the data it writes (only SQLite's error text).
 * Life cycle: ig_writer_start (from ig_store_open) → ig_writer_submit* → ig_writer_stop
 * (from ig_store_close: drains the queue, commits, joins).
 */
#include "writer_int.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH_MAX 512
#define BEGIN_TRIES 3 /* each waits up to busy_timeout for another process's write */

enum { J_PENDING, J_OK, J_FAILED };

typedef struct ig_job {
    int (*run)(sqlite3 *db, void *arg);
    void (*done)(void *arg, int rc, bool committed);
    void *arg;
    void (*free_arg)(void *arg);
    struct ig_job *next;
    int state, rc;
} ig_job_t;

int ig_writer_submit_done(ig_store_t *s, int (*run)(sqlite3 *, void *),
                          void (*done)(void *, int, bool), void *arg, void (*free_arg)(void *)) {
    ig_job_t *j = s && run ? malloc(sizeof(*j)) : NULL;
    if (!j) {
        if (free_arg) free_arg(arg);
        return s && run ? IG_ENOMEM : IG_EINVAL;
    }
    *j = (ig_job_t){run, done, arg, free_arg, NULL, J_PENDING, IG_EIO};
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

int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *, void *), void *arg,
                     void (*free_arg)(void *)) {
    return ig_writer_submit_done(s, run, NULL, arg, free_arg);
}

void ig_writer_on_rollback(ig_store_t *s, void (*fn)(void *), void *arg) {
    s->on_rollback = fn;
    s->on_rollback_arg = arg;
}

static void rolled_back(ig_store_t *s) {
    if (s->on_rollback) s->on_rollback(s->on_rollback_arg);
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
    rolled_back(s);
    return false;
}

/* Runs one job in its own savepoint; true when it is part of the transaction. */
static bool run_in_savepoint(ig_store_t *s, ig_job_t *j) {
    sqlite3 *db = s->wdb;
    if (sqlite3_exec(db, "SAVEPOINT job", NULL, NULL, NULL) != SQLITE_OK) return false;
    j->rc = j->run(db, j->arg);
    if (j->rc == IG_OK && sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL) == SQLITE_OK)
        return true;
    if (!sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK TO job", NULL, NULL, NULL);
        sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL);
    }
    rolled_back(s);
    return false;
}

/* The jobs of the open transaction, from first up to (not including) stop, that are in it. */
static void fail_open(ig_job_t *first, ig_job_t *stop) {
    for (ig_job_t *k = first; k && k != stop; k = k->next)
        if (k->state == J_OK) k->state = J_FAILED;
}

/* Runs a batch: normally one transaction. Some errors (disk full, I/O, a job that ended the
 * transaction itself) roll back the whole transaction: the jobs already in it are counted
 * as failed and the rest of the batch goes on in a new one. */
static void run_batch(ig_store_t *s, ig_job_t *batch, uint64_t *txns) {
    sqlite3 *db = s->wdb;
    bool in_txn = false, safe = false;
    ig_job_t *first = NULL; /* the first job of the open transaction */
    for (ig_job_t *j = batch; j; j = j->next) {
        if (!in_txn) {
            if (!(in_txn = begin(s))) {
                j->state = J_FAILED;
                continue;
            }
            first = j;
        }
        bool good;
        sqlite3_int64 before = sqlite3_total_changes64(db);
        if (safe) {
            good = run_in_savepoint(s, j);
        } else {
            j->rc = j->run(db, j->arg);
            good = j->rc == IG_OK;
        }
        if (sqlite3_get_autocommit(db)) {
            report(s, "a write rolled back its whole transaction");
            rolled_back(s);
            fail_open(first, j);
            j->state = J_FAILED;
            in_txn = false;
            continue;
        }
        j->state = good ? J_OK : J_FAILED;
        if (good || safe || sqlite3_total_changes64(db) == before) continue;
        /* Failed after writing: undo the transaction, then redo the jobs before this one,
         * each in a savepoint, and go on with the rest in the same careful way. */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rolled_back(s);
        safe = true;
        if (!(in_txn = begin(s))) {
            fail_open(first, j);
            continue;
        }
        for (ig_job_t *k = first; k != j; k = k->next)
            if (k->state == J_OK && !run_in_savepoint(s, k)) k->state = J_FAILED;
        if (sqlite3_get_autocommit(db)) { /* a replay ended the transaction */
            fail_open(first, j);
            in_txn = false;
        }
    }
    if (!in_txn) return;
    if (commit(s))
        (*txns)++;
    else
        fail_open(first, NULL);
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
        run_batch(s, batch, &txns);
        while (batch) {
            ig_job_t *next = batch->next;
            bool committed = batch->state == J_OK;
            if (committed)
                ok++;
            else
                failed++;
            if (batch->done) batch->done(batch->arg, batch->rc, committed);
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
