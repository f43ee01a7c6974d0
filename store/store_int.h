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
    void (*log)(const char *msg); /* ig_store_set_log; NULL: stderr */
    void (*on_rollback)(void *arg); /* ig_writer_on_rollback; writer thread only */
    void *on_rollback_arg;
    struct ig_ingest *ingest;       /* the writer's ingest state (intel.c), or NULL */

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
/* An async read queued on the thread pool, and its end: ig_store_close waits for them. */
void ig_db_read_begin(ig_store_t *s);
void ig_db_read_end(ig_store_t *s);

/* Reports msg through the log hook (ig_store_set_log), or to stderr. Any thread. */
void ig_store_log(ig_store_t *s, const char *msg);

/* The intel tables' schema (schema_intel.c), applied by migrations in db.c: the tables of
 * user_version 2, and their change to version 4 (which needs irisgate_hash, below). */
extern const char ig_schema_intel[];
extern const char ig_schema_intel_v4[];
/* Registers irisgate_hash(text) on db: the hash domain_raw.hash holds (ig_raw_hash). */
int ig_db_register_functions(sqlite3 *db);
/* The 64-bit hash of a result's bytes stored in domain_raw.hash: stable across versions. */
int64_t ig_raw_hash(const char *p, size_t n);
/* The request log's table, indexes and view (requests.c), applied by a migration in db.c. */
extern const char ig_schema_requests[];

/* Normalizes one Iris answer into the intel tables on db (ingest.c): the caller holds a
 * transaction or savepoint and rolls it back on failure, so a rejected answer leaves no
 * row. Returns IG_OK and the number of domain results in *ndomains, IG_EINVAL with a
 * message in err (never holding a secret) for an answer that is not Iris JSON, or
 * IG_EIO/IG_ENOMEM for SQLite or memory failures.
 *
 * An ig_ingest_t keeps what one answer leaves for the next (prepared statements, buffers)
 * for one connection at a time; it is not shared between threads. */
typedef struct ig_ingest ig_ingest_t;
ig_ingest_t *ig_ingest_new(void);
void ig_ingest_free(ig_ingest_t *g);
/* Forgets what g knows of the database's rows (its pivot cache): the writer's rollback hook
 * (ig_writer_on_rollback), arg being g. */
void ig_ingest_forget(void *g);

typedef struct {
    const char *endpoint; /* iris-investigate, iris-enrich, iris; NULL: told by the shape */
    int64_t observed_at;  /* epoch seconds: when the answer was fetched */
    bool result_times;    /* a result's data_updated_timestamp, when it has one, is its time */
    int64_t now;          /* result times after now are not believed (0: no bound) */
} ig_ingest_opts_t;

int ig_ingest_run(ig_ingest_t *g, sqlite3 *db, const char *body, size_t len,
                  const ig_ingest_opts_t *opt, size_t *ndomains, char *err, size_t errlen);
/* The same with a state of its own, endpoint given, observed_at for every result. */
int ig_ingest_answer(sqlite3 *db, const char *endpoint, const char *body, size_t len,
                     int64_t observed_at, size_t *ndomains, char *err, size_t errlen);

#endif
