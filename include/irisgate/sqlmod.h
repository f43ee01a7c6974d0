/* sqlmod.h — the SQL module (sql/): Iris pivots, guided pivots and distributions as
 * eponymous table-valued functions over the intel tables, plus iris_fetch/iris_config.
 *
 * The same code is built twice: into irisgate (`irisgate sql`, which calls
 * ig_sql_register on its connection) and as the loadable extension irisgate_sql.so, whose
 * entry point sqlite3_irisgatesql_init does the same for `.load irisgate_sql`. Nothing is
 * ever written to the database: no CREATE VIRTUAL TABLE, no table of our own.
 * docs/sql.md is the manual.
 */
#ifndef IRISGATE_SQLMOD_H
#define IRISGATE_SQLMOD_H

#include <sqlite3.h>

/* Registers iris_pivot, iris_guided_pivots, iris_distribution, iris_fetch and iris_config
 * on db. Returns SQLITE_OK or an SQLite error code. */
int ig_sql_register(sqlite3 *db);

#endif
