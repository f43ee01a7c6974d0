/* cli_sql.h — `irisgate sql`: SQL over the intel database with the SQL module loaded. */
#ifndef IRISGATE_CLI_SQL_H
#define IRISGATE_CLI_SQL_H

/* argv[0] is "sql". Returns the exit status: 0 ok, 1 an SQL error, 2 usage. */
int ig_cli_sql(int argc, char **argv);

#endif
