/* cli_import.h — `irisgate import`: saved Iris answers into the intel database. */
#ifndef IRISGATE_CLI_IMPORT_H
#define IRISGATE_CLI_IMPORT_H

/* argv[0] is "import". Returns the exit status: 0 all stored, 1 a file refused, 2 usage. */
int ig_cli_import(int argc, char **argv);

#endif
