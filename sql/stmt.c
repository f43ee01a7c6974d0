/* stmt.c — prepared statements kept between calls of a table-valued function. A function
 * in a join is called once per outer row; preparing its inner query each time would cost
 * more than running it. Each virtual table keeps one spare statement per query text: a
 * cursor takes it (or prepares a new one when another cursor of the same function holds it,
 * as in a self-join) and gives it back reset when it closes. The vtab finalizes the spares
 * when SQLite disconnects it (at sqlite3_close at the latest).
 */
#include "sql_int.h"

int ig_sqls_take(sqlite3 *db, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out) {
    if (*slot) {
        *out = *slot;
        *slot = NULL;
        return SQLITE_OK;
    }
    *out = NULL;
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
}

void ig_sqls_give(sqlite3_stmt **slot, sqlite3_stmt *s) {
    if (!s) return;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (*slot) {
        sqlite3_finalize(s);
    } else {
        *slot = s;
    }
}
