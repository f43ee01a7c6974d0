/* writer.c — the store's single writer thread: the only connection that writes, fed by a
 * queue of jobs, committing in batches (group commit: everything queued when the thread
 * wakes, up to BATCH_MAX jobs, in one transaction).
 *
 * Each job runs in its own SAVEPOINT, so a job that fails is rolled back alone and nothing
 * is ever half-written. Callers only lock the queue for a pointer swap: they never wait on
 * disk. Life cycle: ig_writer_start → ig_writer_submit* → ig_writer_stop (drains, joins).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH_MAX 512

int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *, void *), void *arg,
                     void (*free_arg)(void *)) {
    ig_job_t *j = malloc(sizeof(*j));
    if (!j) {
        if (free_arg) free_arg(arg);
        return IG_ENOMEM;
    }
    *j = (ig_job_t){run, arg, free_arg, NULL};
    pthread_mutex_lock(&s->mu);
    if (s->stop) {
        pthread_mutex_unlock(&s->mu);
        if (free_arg) free_arg(arg);
        free(j);
        return IG_EINVAL;
    }
    if (s->tail) s->tail->next = j; else s->head = j;
    s->tail = j;
    s->nqueued++;
    s->st.queued++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return IG_OK;
}

/* Runs one batch in one transaction; returns how many jobs committed and failed. */
static void run_batch(ig_store_t *s, ig_job_t *batch, uint64_t *ok, uint64_t *failed) {
    sqlite3 *db = s->wdb;
    int began = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    for (ig_job_t *j = batch; j; j = j->next) {
        if (!began) {
            (*failed)++;
            continue;
        }
        sqlite3_exec(db, "SAVEPOINT job", NULL, NULL, NULL);
        if (j->run(db, j->arg) == IG_OK) {
            sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL);
            (*ok)++;
        } else {
            sqlite3_exec(db, "ROLLBACK TO job", NULL, NULL, NULL);
            sqlite3_exec(db, "RELEASE job", NULL, NULL, NULL);
            (*failed)++;
        }
    }
    if (began && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "irisgate store: commit failed: %s\n", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        *failed += *ok;
        *ok = 0;
    }
}

static void *writer_main(void *arg) {
    ig_store_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop) pthread_cond_wait(&s->wake, &s->mu);
        if (!s->head && s->stop) break;
        /* Take up to BATCH_MAX jobs off the queue. */
        ig_job_t *batch = s->head, *last = s->head;
        size_t n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head) s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        uint64_t ok = 0, failed = 0;
        run_batch(s, batch, &ok, &failed);
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
        s->st.transactions++;
        pthread_cond_broadcast(&s->committed);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ig_writer_start(ig_store_t *s) {
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) return IG_ENOMEM;
    s->writer_started = true;
    return IG_OK;
}

void ig_writer_stop(ig_store_t *s) {
    if (!s->writer_started) return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    s->writer_started = false;
}

int ig_store_flush(ig_store_t *s) {
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->nqueued;
    while (s->ndone < target && s->writer_started) pthread_cond_wait(&s->committed, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return IG_OK;
}

void ig_store_stats(ig_store_t *s, ig_store_stats_t *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}
