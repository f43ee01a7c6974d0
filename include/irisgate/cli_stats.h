/* cli_stats.h — `irisgate stats`: who asked how much, and what it cost, from the request log.
 *     irisgate stats [--db PATH] [--config PATH] [--since YYYY-MM-DD] [--until YYYY-MM-DD]
 */
#ifndef IRISGATE_CLI_STATS_H
#define IRISGATE_CLI_STATS_H

/* argv[0] is "stats". Prints one line per user (requests, hits, misses, hit ratio, upstream
 * queries per product in the range; upstream queries today and this month, UTC) on standard
 * output. Returns the exit status: 0 (also for a database with no request log yet, which
 * is said so), 1 when the database cannot be read, 2 for bad usage. */
int ig_cli_stats(int argc, char **argv);

#endif
