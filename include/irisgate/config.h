/* config.h — irisgate's settings: compiled-in defaults, then the config file, then
 * command-line flags, each later source overriding the earlier. Every config key has a
 * flag of the same name with '-' for '_' (cache_memory → --cache-memory).
 *
 * File format: one "key = value" per line; '#' starts a comment; blank lines are skipped.
 * Durations take s, m, h, d suffixes (bare numbers are seconds); sizes take K, M, G
 * (bare numbers are bytes). An unknown key or a bad value is an error naming the line.
 * Limits are specs (irisgate/limiter.h): "minute=20,hour=0,month=10000,absolute=0", any subset
 * of the keys, 0 = no limit; upstream_limit_* also take "auto" (learn everything from the
 * upstream's /v1/account; keys a spec leaves out are learned too), user_limit_* take "none"
 * (no per-user limit; keys a spec leaves out have none) and refuse absolute.
 */
#ifndef IRISGATE_CONFIG_H
#define IRISGATE_CONFIG_H

#include "irisgate/common.h"
#include "irisgate/limiter.h"

#include <stdio.h>

typedef struct {
    char listen_host[64]; /* listen = 127.0.0.1:8800 */
    int listen_port;
    char tls_listen_host[64]; /* tls_listen = (none): "" when unset */
    int tls_listen_port;
    char tls_cert[512]; /* tls_cert = (none): PEM chain, leaf first */
    char tls_key[512];  /* tls_key = (none): PEM key of tls_cert */
    char db[512];             /* db = irisgate.db */
    char upstream[512];       /* upstream = https://api.domaintools.com */
    char secrets[512];        /* secrets = irisgate.secrets */
    char log[512];            /* log = - (standard error) or a file path */
    char ca_file[512];        /* upstream_ca_file = (system store) */
    int64_t ttl_investigate;  /* seconds; ttl_investigate = 24h */
    int64_t ttl_enrich;       /* seconds; ttl_enrich = 24h */
    int64_t cache_memory;     /* bytes of hot cache; cache_memory = 256M */
    int64_t upstream_timeout; /* seconds; upstream_timeout = 30s */
    int64_t hmac_skew;        /* seconds; hmac_skew = 5m */
    int64_t queue_deadline;   /* seconds; queue_deadline = 60s */
    int64_t max_stale;        /* seconds; max_stale = 7d */
    int64_t account_refresh;  /* seconds; account_refresh = 1h */
    /* Indexed by ig_endpoint_t (IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT; the
     * IG_EP_UNKNOWN entry is unused). upstream_limit_investigate = auto (set == 0). */
    ig_limit_spec_t upstream_limit[IG_EP_COUNT];
    /* user_limit_investigate = none (set == 0): every user's default, before overrides. */
    ig_limit_spec_t user_limit[IG_EP_COUNT];
} ig_config_t;

void ig_config_defaults(ig_config_t *c);
/* Reads a config file over c. err gets "file:line: what is wrong". */
int ig_config_load_file(ig_config_t *c, const char *path, char *err, size_t errlen);
/* Sets one key (as in the file) to value. */
int ig_config_set(ig_config_t *c, const char *key, const char *value, char *err, size_t errlen);
/* Applies flags argv[0..argc) ("--key value" or "--key=value"); "--config PATH" is read
 * first wherever it stands. Unknown flags are errors. */
int ig_config_parse_args(ig_config_t *c, int argc, char **argv, char *err, size_t errlen);

/* Checks settings that only make sense together (tls_cert with tls_key, tls_listen with
 * both). Which listeners follow: no tls_cert: plain HTTP on listen; tls_cert without
 * tls_listen: HTTPS on listen (and no plain listener); both: plain on listen, HTTPS on
 * tls_listen. */
int ig_config_check(const ig_config_t *c, char *err, size_t errlen);

/* Prints every flag, its config key and its default (for `irisgate serve --help`). */
void ig_config_usage(FILE *f);

/* "90" "90s" "5m" "24h" "7d" → seconds. */
int ig_parse_duration(const char *s, int64_t *out);
/* "1048576" "512K" "256M" "1G" → bytes. */
int ig_parse_size(const char *s, int64_t *out);
/* "127.0.0.1:8800" → host, port. */
int ig_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
