/* intel.c — the store's door to the intel tables: queues Iris answers for normalization
 * on the writer thread (ig_store_ingest), imports saved answers and waits for the commit
 * (ig_store_import), and reports rejected answers to the log hook.
 *
 * The normalization itself is ingest.c; this file only owns the jobs, their copies of the
 * answer and the ingest counters. Never blocks the caller's loop: ig_store_ingest copies
 * and returns; only ig_store_import waits, and it is for the command line and tests.
 */
#include "writer_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ig_store_t *s;
    char endpoint[32];
    char *body;
    size_t len;
    int64_t observed_at;
    bool quiet; /* an import: its caller reports a rejection */
    /* results, for ig_store_import */
    int rc;
    size_t ndomains;
    char err[256];
} ingest_job_t;

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
    j->err[0] = '\0';
    j->rc = ig_ingest_answer(db, j->endpoint, j->body, j->len, j->observed_at, &j->ndomains,
                             j->err, sizeof(j->err));
    pthread_mutex_lock(&j->s->mu);
    if (j->rc == IG_OK) {
        j->s->st.ingested_answers++;
        j->s->st.ingested_domains += j->ndomains;
    } else {
        j->s->st.ingest_rejected++;
    }
    pthread_mutex_unlock(&j->s->mu);
    if (j->rc != IG_OK && !j->quiet) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s answer not stored in the intel tables: %s", j->endpoint,
                 j->err[0] ? j->err : "database error");
        ig_store_log(j->s, msg);
    }
    return j->rc;
}

static void free_job(void *arg) {
    ingest_job_t *j = arg;
    free(j->body);
    free(j);
}

static ingest_job_t *new_job(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                             int64_t observed_at) {
    ingest_job_t *j = calloc(1, sizeof(*j));
    if (!j) return NULL;
    j->body = malloc(len ? len : 1);
    if (!j->body) {
        free(j);
        return NULL;
    }
    memcpy(j->body, body, len);
    j->s = s;
    j->len = len;
    j->observed_at = observed_at;
    snprintf(j->endpoint, sizeof(j->endpoint), "%s", endpoint);
    return j;
}

int ig_store_ingest(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at) {
    if (!s || !endpoint || !body) return IG_EINVAL;
    ingest_job_t *j = new_job(s, endpoint, body, len, observed_at);
    if (!j) return IG_ENOMEM;
    return ig_writer_submit(s, run_ingest, j, free_job);
}

/* Which endpoint a saved answer came from, when nobody says: value/count pairs are
 * Investigate, values without counts Enrich, flat values the legacy Iris endpoint. */
static const char *guess_endpoint(const char *body, size_t len) {
    if (memmem(body, len, "\"count\":", 8)) return "iris-investigate";
    if (memmem(body, len, "{\"value\":", 9)) return "iris-enrich";
    return "iris";
}

int ig_store_import(ig_store_t *s, const char *endpoint, const char *body, size_t len,
                    int64_t observed_at, size_t *ndomains, char *err, size_t errlen) {
    *ndomains = 0;
    if (!s || !body) return IG_EINVAL;
    if (!endpoint) endpoint = guess_endpoint(body, len);
    ingest_job_t *j = new_job(s, endpoint, body, len, observed_at);
    if (!j) return IG_ENOMEM;
    j->rc = IG_EIO;
    j->quiet = true;
    ig_store_stats_t before, after;
    ig_store_stats(s, &before);
    /* The job stays ours (no free_arg) so its results can be read after the commit. */
    int rc = ig_writer_submit(s, run_ingest, j, NULL);
    if (rc != IG_OK) {
        free_job(j);
        return rc;
    }
    ig_store_flush(s);
    ig_store_stats(s, &after);
    rc = j->rc;
    if (rc == IG_OK && after.failed != before.failed) rc = IG_EIO; /* the commit failed */
    if (rc == IG_OK)
        *ndomains = j->ndomains;
    else
        snprintf(err, errlen, "%s", j->err[0] ? j->err : "the database refused the write");
    free_job(j);
    return rc;
}
