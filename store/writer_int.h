/* writer_int.h — the writer thread's job queue, for store/ files that write.
 *
 * A job is a function run on the writer's connection inside the current group-commit
 * transaction, in its own SAVEPOINT: returning non-zero (or failing in SQLite) rolls back
 * that job alone and counts it in stats.failed. A job must not BEGIN/COMMIT, must reset the
 * statements it steps, must not call ig_store_flush (it runs on the writer thread), and
 * must not rely on deferred constraints (a deferred violation fails the whole batch at
 * COMMIT). Statements should come from ig_db_stmt (store_int.h), cached per connection.
 */
#ifndef IRISGATE_WRITER_INT_H
#define IRISGATE_WRITER_INT_H

#include "store_int.h"

/* Queues run(db, arg) and returns at once. Takes ownership of arg: free_arg(arg) (when
 * not NULL) is called once, on the writer thread after the job ran, or here at once when
 * queueing fails (IG_ENOMEM, or IG_EINVAL once the store is closing). */
int ig_writer_submit(ig_store_t *s, int (*run)(sqlite3 *db, void *arg), void *arg,
                     void (*free_arg)(void *arg));

/* Used by ig_store_open/close (db.c). stop drains the queue, commits, joins. */
int ig_writer_start(ig_store_t *s);
void ig_writer_stop(ig_store_t *s);

#endif
