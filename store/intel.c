/* intel.c — the store's door to the intel tables: queues Iris answers for normalization
 * on the writer thread (ig_store_ingest), imports saved answers (ig_store_import*: queued
 * like any answer, then waited for), and reports rejected answers to the log hook.
 *
 * The normalization itself is ingest.c; this file owns the jobs, their copies of the
 * answer, the writer's ingest state and the ingest counters. Never blocks the caller's loop:
 * ig_store_ingest copies and returns; only the import waits, and it is for the command line
 * and tests. Counters and messages are updated once per job, when its batch is over (a job
 * may run twice: writer_int.h).
 */
#include "writer_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ig_import {
    ig_store_t *s;
    char endpoint[32]; /* "" : told by the answer's shape */
    char *body;
    size_t len;
    ig_ingest_opts_t opts;
    bool quiet; /* an import: its caller reports a rejection */
    /* results */
    bool finished, committed;
    int rc;
    size_t ndomains;
    char err[256];
};
typedef struct ig_import ingest_job_t;

void ig_store_log(ig_store_t *s, const char *msg) {
    void (*fn)(const char *) = s ? s->log : NULL;
    if (fn)
        fn(msg);
    else
        fprintf(stderr, "irisgate store: %s\n", msg);
}

void ig_store_set_log(ig_store_t *s, void (*fn)(const char *msg)) {
    pthread_mutex_lock(&s->mu);
    s->log = fn;
    pthread_mutex_unlock(&s->mu);
}

static int run_ingest(sqlite3 *db, void *arg) {
    ingest_job_t *j = arg;
    ig_store_t *s = j->s;
    if (!s->ingest) {
        if (!(s->ingest = ig_ingest_new())) {
            snprintf(j->err, sizeof(j->err), "out of memory");
            return j->rc = IG_ENOMEM;
        }
        /* a rolled-back answer's pivot rows are gone: the ingest state must forget them */
        ig_writer_on_rollback(s, ig_ingest_forget, s->ingest);
    }
    j->err[0] = '\0';
    j->opts.endpoint = j->endpoint[0] ? j->endpoint : NULL;
    j->rc = ig_ingest_run(s->ingest, db, j->body, j->len, &j->opts, &j->ndomains, j->err,
                          sizeof(j->err));
    return j->rc;
}

static void done_ingest(void *arg, int rc, bool committed) {
    ingest_job_t *j = arg;
    ig_store_t *s = j->s;
    pthread_mutex_lock(&s->mu);
    if (rc == IG_OK && committed) {
        s->st.ingested_answers++;
        s->st.ingested_domains += j->ndomains;
    } else if (rc != IG_OK) {
        s->st.ingest_rejected++;
    }
    j->committed = committed;
    j->rc = rc;
    pthread_mutex_unlock(&s->mu);
    if (rc != IG_OK && !j->quiet) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s answer not stored in the intel tables: %s",
                 j->endpoint[0] ? j->endpoint : "an", j->err[0] ? j->err : "database error");
        ig_store_log(s, msg);
    }
    /* last: the waiter may free the job as soon as it sees this */
    pthread_mutex_lock(&s->mu);
    j->finished = true;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
}

static void free_job(void *arg) {
    ingest_job_t *j = arg;
    free(j->body);
    free(j);
}

/* A job around body, which it takes. */
static ingest_job_t *new_job(ig_store_t *s, const char *endpoint, char *body, size_t len) {
    ingest_job_t *j = calloc(1, sizeof(*j));
    if (!j) return NULL;
    j->s = s;
    j->body = body;
    j->len = len;
    j->rc = IG_EIO;
    snprintf(j->endpoint, sizeof(j->endpoint), "%s", endpoint ? endpoint : "");
    return j;
}

int ig_store_ingest(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at) {
    if (!s || !endpoint || !*endpoint || !body) return IG_EINVAL;
    char *copy = malloc(len ? len : 1);
    if (!copy) return IG_ENOMEM;
    memcpy(copy, body, len);
    ingest_job_t *j = new_job(s, endpoint, copy, len);
    if (!j) {
        free(copy);
        return IG_ENOMEM;
    }
    j->opts.observed_at = observed_at;
    return ig_writer_submit_done(s, run_ingest, done_ingest, j, free_job);
}

int ig_store_import_take(ig_store_t *s, char *body, size_t len, const ig_import_opts_t *o,
                         ig_import_t **out) {
    *out = NULL;
    if (!s || !body || !o) {
        free(body);
        return IG_EINVAL;
    }
    ingest_job_t *j = new_job(s, o->endpoint, body, len);
    if (!j) {
        free(body);
        return IG_ENOMEM;
    }
    j->quiet = true;
    j->opts.observed_at = o->observed_at;
    j->opts.result_times = o->result_times;
    j->opts.now = o->now;
    /* The job stays ours (no free_arg) so its results can be read after the commit. */
    int rc = ig_writer_submit_done(s, run_ingest, done_ingest, j, NULL);
    if (rc != IG_OK) {
        free_job(j);
        return rc;
    }
    *out = j;
    return IG_OK;
}

int ig_store_import_wait(ig_import_t *j, size_t *ndomains, char *err, size_t errlen) {
    ig_store_t *s = j->s;
    pthread_mutex_lock(&s->mu);
    while (!j->finished && s->writer_started)
        pthread_cond_wait(&s->done, &s->mu);
    bool finished = j->finished;
    pthread_mutex_unlock(&s->mu);
    int rc = finished ? j->rc : IG_EIO;
    if (rc == IG_OK && !j->committed) rc = IG_EIO; /* the commit failed */
    *ndomains = rc == IG_OK ? j->ndomains : 0;
    if (rc != IG_OK)
        snprintf(err, errlen, "%s", j->err[0] ? j->err : "the database refused the write");
    free_job(j);
    return rc;
}

int ig_store_import(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at, size_t *ndomains, char *err, size_t errlen) {
    *ndomains = 0;
    if (!s || !body) return IG_EINVAL;
    char *copy = malloc(len ? len : 1);
    if (!copy) return IG_ENOMEM;
    memcpy(copy, body, len);
    ig_import_opts_t o = {.endpoint = endpoint, .observed_at = observed_at};
    ig_import_t *im;
    int rc = ig_store_import_take(s, copy, len, &o, &im);
    if (rc != IG_OK) return rc;
    return ig_store_import_wait(im, ndomains, err, errlen);
}
