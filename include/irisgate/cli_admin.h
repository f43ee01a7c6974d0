/* cli_admin.h — the irisgate binary's admin commands, which edit the secrets file:
 *     irisgate user add NAME | list | remove NAME   [--secrets PATH] [--config PATH]
 *     irisgate upstream set USERNAME | show         [--secrets PATH] [--config PATH]
 * The secrets path comes from --secrets, else from the config file given by --config, else the
 * default (irisgate.secrets). Each returns the process exit status: 0 success, 1 failure
 * (message on stderr), 2 bad usage (help on stderr); --help prints help on stdout, returns 0.
 */
#ifndef IRISGATE_CLI_ADMIN_H
#define IRISGATE_CLI_ADMIN_H

/* argv[0] is "user". `user add` prints "api_username=NAME" and "api_key=KEY" on stdout. */
int ig_cli_user(int argc, char **argv);
/* argv[0] is "upstream". `upstream set` reads the vendor key from standard input (one line;
 * without echo when it is a terminal) and never prints it. */
int ig_cli_upstream(int argc, char **argv);

#endif
