/* module.c — registers the SQL module on a connection: ig_sql_register() for irisgate
 * (`irisgate sql`), and sqlite3_irisgatesql_init(), the entry point SQLite derives from the
 * file name irisgate_sql.so, for `.load irisgate_sql` in the sqlite3 shell.
 *
 * The functions are eponymous virtual tables (no xCreate: nothing is ever written to
 * sqlite_schema, so a database used with the module opens the same without it) and scalar
 * functions, plus iris_sql_batch, an aggregate internal to the walks of links.c. Registration lasts
 * as long as the connection; the extension is loaded per connection, never made automatic for
 * others.
 */
#include "irisgate/sqlmod.h"
#include "sql_int.h"

#ifndef SQLITE_CORE
SQLITE_EXTENSION_INIT1
#endif

int ig_sql_register(sqlite3 *db) {
    ig_sqll_sink_t *sink = NULL;
    int rc = ig_sqll_register(db, &sink);
    if (rc == SQLITE_OK) rc = ig_sql_register_pivot(db, sink);
    if (rc == SQLITE_OK) rc = ig_sql_register_guided(db);
    if (rc == SQLITE_OK) rc = ig_sql_register_distribution(db, sink);
    if (rc == SQLITE_OK) rc = ig_sql_register_fetch(db);
    return rc;
}

#ifndef SQLITE_CORE
__attribute__((visibility("default"))) int
sqlite3_irisgatesql_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
    SQLITE_EXTENSION_INIT2(api);
    int rc = ig_sql_register(db);
    if (rc != SQLITE_OK) *err = sqlite3_mprintf("irisgate_sql: %s", sqlite3_errstr(rc));
    return rc;
}
#endif
