/* writer_int.h — the writer thread's job queue, for store/ files that write.
 *
 * A job is a function run on the writer's connection inside the current group-commit
 * transaction: returning non-zero (or failing in SQLite) rolls back that job alone and counts
 * it in stats.failed. A job must not BEGIN/COMMIT, must reset the statements it steps, must
 * not call ig_store_flush (it runs on the writer thread), and must not rely on deferred
 * constraints (a deferred violation fails the whole batch at COMMIT). Statements should come
 * from ig_db_stmt (store_int.h), cached per connection.
 *
 * A job may run more than once: when a job fails after writing, the transaction is rolled
 * back and the jobs before it in the batch are run again. So run() keeps no effect outside
 * the database; what must happen once (counters, messages) goes in done(), called once per
 * job on the writer thread when its batch is over, committed or not.
 */
#ifndef IRISGATE_WRITER_INT_H
#define IRISGATE_WRITER_INT_H

#include "store_int.h"

/* Queues run(db, arg) and returns at once. Takes ownership of arg: free_arg(arg) (when
 * not NULL) is called once, on the writer thread after the job ran, or here at once when
 * queueing fails (IG_ENOMEM, or IG_EINVAL once the store is closing). */
int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *db, void *arg), void *arg,
                     void (*free_arg)(void *arg));
/* The same, with done(arg, rc, committed) (not NULL) called once before free_arg: rc is the
 * last run()'s return (IG_EIO when it never ran), committed whether its writes are in the
 * database. */
int ig_writer_submit_done(ig_store_t *s, int (*run)(sqlite3 *db, void *arg),
                          void (*done)(void *arg, int rc, bool committed), void *arg,
                          void (*free_arg)(void *arg));

/* fn(arg) is called on the writer thread whenever writes are rolled back (a failed job, a
 * failed commit), before anything else runs: for caches of what the database holds. */
void ig_writer_on_rollback(ig_store_t *s, void (*fn)(void *arg), void *arg);

/* Used by ig_store_open/close (db.c). stop drains the queue, commits, joins. */
int ig_writer_start(ig_store_t *s);
void ig_writer_stop(ig_store_t *s);

#endif
