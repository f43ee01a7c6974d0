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

void ig_sqls_result_column(sqlite3_context *ctx, sqlite3_stmt *s, int col) {
    /* One sqlite3_column_value (one mutex round trip), then typed results: text is copied
     * into the result register's own buffer, which SQLite reuses from row to row, where
     * sqlite3_result_value would allocate and free a copy per column per row. */
    sqlite3_value *v = sqlite3_column_value(s, col);
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        sqlite3_result_int64(ctx, sqlite3_value_int64(v));
        break;
    case SQLITE_FLOAT:
        sqlite3_result_double(ctx, sqlite3_value_double(v));
        break;
    case SQLITE_TEXT:
        sqlite3_result_text(ctx, (const char *)sqlite3_value_text(v), sqlite3_value_bytes(v),
                            SQLITE_TRANSIENT);
        break;
    case SQLITE_NULL:
        break;
    default:
        sqlite3_result_value(ctx, v);
        break;
    }
}
