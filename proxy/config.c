/* config.c — irisgate's settings: the compiled-in defaults, the "key = value" config file and
 * the command-line flags, with the parsers for durations, sizes and host:port they share.
 *
 * Owns: the one table of settings (key, flag, kind, default, help) that the file parser, the
 * flag parser and `serve --help` all read, so the three can never disagree.
 * Never: truncates a value that does not fit (that is an error), leaves a half-applied file or
 * command line in the caller's config (work happens on a copy that is committed on success),
 * or exits; every error is a message naming the file and line, or the flag.
 * Life cycle: ig_config_t is a plain value with no heap memory; copy it freely.
 * Relative paths in values are relative to the working directory, not the config file.
 */
#include "irisgate/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* Longest duration any setting accepts: ten years. Callers add durations to the clock and
 * cast hmac_skew to int, so an unbounded value would overflow far from here. */
#define MAX_DURATION ((int64_t)3650 * 86400)
/* Longest config file line; anything longer is a mistake, not a setting. */
#define MAX_LINE 4096

typedef enum {
    K_HOSTPORT,
    K_HOSTPORT_OPT, /* HOST:PORT or empty (unset) */
    K_STRING,
    K_URL,
    K_PATH_OPT,
    K_DURATION,
    K_SIZE,
    K_UPSTREAM_LIMIT, /* a limit spec or "auto" */
    K_USER_LIMIT      /* a limit spec without absolute, or "none" */
} kind_t;

typedef struct {
    const char *key;
    const char *flag;
    kind_t kind;
    const char *dflt; /* as written in a config file */
    const char *help;
    size_t off;  /* field in ig_config_t (strings, durations, sizes) */
    size_t size;     /* size of a string field */
    size_t port_off; /* K_HOSTPORT*: the int port beside the host string at off */
} opt_t;

#define STR_FIELD(f) offsetof(ig_config_t, f), sizeof(((ig_config_t *)0)->f), 0
#define NUM_FIELD(f) offsetof(ig_config_t, f), 0, 0
#define HOSTPORT_FIELD(h, p)                                                                       \
    offsetof(ig_config_t, h), sizeof(((ig_config_t *)0)->h), offsetof(ig_config_t, p)
#define SPEC_FIELD(f, ep) offsetof(ig_config_t, f) + (ep) * sizeof(ig_limit_spec_t), 0, 0

static const opt_t opts[] = {
    {"listen", "--listen", K_HOSTPORT, "127.0.0.1:8800",
     "address to accept clients on (HOST:PORT, [IPv6]:PORT; port 0 picks a free one); "
     "HTTPS when tls_cert is set and tls_listen is not",
     HOSTPORT_FIELD(listen_host, listen_port)},
    {"tls_listen", "--tls-listen", K_HOSTPORT_OPT, "",
     "address of the HTTPS listener, beside the plain one on listen (needs tls_cert, tls_key)",
     HOSTPORT_FIELD(tls_listen_host, tls_listen_port)},
    {"tls_cert", "--tls-cert", K_PATH_OPT, "",
     "PEM certificate of the HTTPS listener, chain after it (`irisgate cert` makes one)",
     STR_FIELD(tls_cert)},
    {"tls_key", "--tls-key", K_PATH_OPT, "", "PEM private key of tls_cert (unencrypted, 0600)",
     STR_FIELD(tls_key)},
    {"db", "--db", K_STRING, "irisgate.db", "SQLite database of cached intel", STR_FIELD(db)},
    {"upstream", "--upstream", K_URL, "https://api.domaintools.com",
     "base URL of the Iris API (http:// or https://)", STR_FIELD(upstream)},
    {"secrets", "--secrets", K_STRING, "irisgate.secrets",
     "secrets file (proxy users, vendor credential); must be mode 0600", STR_FIELD(secrets)},
    {"log", "--log", K_STRING, "-", "request log file, or - for standard error", STR_FIELD(log)},
    {"upstream_ca_file", "--upstream-ca-file", K_PATH_OPT, "",
     "CA bundle to verify the upstream with (empty: system store)", STR_FIELD(ca_file)},
    {"ttl_investigate", "--ttl-investigate", K_DURATION, "24h",
     "how long an Investigate answer stays fresh (0 disables its cache)",
     NUM_FIELD(ttl_investigate)},
    {"ttl_enrich", "--ttl-enrich", K_DURATION, "24h",
     "how long an Enrich answer stays fresh (0 disables its cache)", NUM_FIELD(ttl_enrich)},
    {"cache_memory", "--cache-memory", K_SIZE, "256M",
     "memory for ready responses (bytes, K, M, G)", NUM_FIELD(cache_memory)},
    {"upstream_timeout", "--upstream-timeout", K_DURATION, "30s",
     "give up on an upstream call after this long", NUM_FIELD(upstream_timeout)},
    {"hmac_skew", "--hmac-skew", K_DURATION, "5m",
     "accepted clock difference of HMAC-signed requests", NUM_FIELD(hmac_skew)},
    {"queue_deadline", "--queue-deadline", K_DURATION, "60s",
     "longest a request waits for an upstream slot (then: 503, queued too long)",
     NUM_FIELD(queue_deadline)},
    {"upstream_limit_investigate", "--upstream-limit-investigate", K_UPSTREAM_LIMIT, "auto",
     "Investigate queries sent upstream: auto (/v1/account) or e.g. minute=20,month=10000",
     SPEC_FIELD(upstream_limit, IG_EP_INVESTIGATE)},
    {"upstream_limit_enrich", "--upstream-limit-enrich", K_UPSTREAM_LIMIT, "auto",
     "the same for Enrich", SPEC_FIELD(upstream_limit, IG_EP_ENRICH)},
    {"upstream_limit_account", "--upstream-limit-account", K_UPSTREAM_LIMIT, "auto",
     "the same for /v1/account", SPEC_FIELD(upstream_limit, IG_EP_ACCOUNT)},
    {"user_limit_investigate", "--user-limit-investigate", K_USER_LIMIT, "none",
     "each user's Investigate queries upstream: none or e.g. minute=5,month=1000",
     SPEC_FIELD(user_limit, IG_EP_INVESTIGATE)},
    {"user_limit_enrich", "--user-limit-enrich", K_USER_LIMIT, "none", "the same for Enrich",
     SPEC_FIELD(user_limit, IG_EP_ENRICH)},
    {"user_limit_account", "--user-limit-account", K_USER_LIMIT, "none", "the same for /v1/account",
     SPEC_FIELD(user_limit, IG_EP_ACCOUNT)},
    {"max_stale", "--max-stale", K_DURATION, "7d",
     "oldest cached answer served when the upstream fails (0: never)", NUM_FIELD(max_stale)},
    {"account_refresh", "--account-refresh", K_DURATION, "1h",
     "how often the upstream's /v1/account limits are read (0: at start only)",
     NUM_FIELD(account_refresh)},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const opt_t *find_key(const char *key) {
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].key, key) == 0) return &opts[i];
    return NULL;
}

/* Parses a non-negative decimal integer prefix of s; *end points after the digits. */
static int parse_uint(const char *s, const char **end, int64_t *out) {
    int64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9') return IG_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10) return IG_ETOOBIG;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return IG_OK;
}

int ig_parse_duration(const char *s, int64_t *out) {
    const char *end;
    int64_t v, mul;
    if (!s) return IG_EINVAL;
    int rc = parse_uint(s, &end, &v);
    if (rc != IG_OK) return rc;
    if (end[0] == '\0' || (end[0] == 's' && end[1] == '\0'))
        mul = 1;
    else if (end[0] == 'm' && end[1] == '\0')
        mul = 60;
    else if (end[0] == 'h' && end[1] == '\0')
        mul = 3600;
    else if (end[0] == 'd' && end[1] == '\0')
        mul = 86400;
    else
        return IG_EINVAL;
    if (v > INT64_MAX / mul) return IG_ETOOBIG;
    *out = v * mul;
    return IG_OK;
}

int ig_parse_size(const char *s, int64_t *out) {
    const char *end;
    int64_t v, mul;
    if (!s) return IG_EINVAL;
    int rc = parse_uint(s, &end, &v);
    if (rc != IG_OK) return rc;
    /* K/M/G are 1024-based; KB/MB/GB and KiB/MiB/GiB mean the same here, since a memory
     * budget is what people mean by them. */
    if (strcasecmp(end, "") == 0 || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 || strcasecmp(end, "kib") == 0)
        mul = 1024;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 || strcasecmp(end, "mib") == 0)
        mul = 1024 * 1024;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0 || strcasecmp(end, "gib") == 0)
        mul = 1024 * 1024 * 1024;
    else
        return IG_EINVAL;
    if (v > INT64_MAX / mul) return IG_ETOOBIG;
    *out = v * mul;
    return IG_OK;
}

static int host_char_ok(char ch, int bracketed) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return 1;
    if (ch == '.' || ch == '-' || ch == '_') return 1;
    return bracketed && (ch == ':' || ch == '%');
}

int ig_parse_hostport(const char *s, char *host, size_t hostlen, int *port) {
    if (!s || !host || hostlen == 0 || !port) return IG_EINVAL;
    const char *h, *hend, *colon;
    int bracketed = s[0] == '[';
    if (bracketed) {
        h = s + 1;
        hend = strchr(h, ']');
        if (!hend || hend[1] != ':') return IG_EINVAL;
        colon = hend + 1;
    } else {
        h = s;
        colon = strrchr(s, ':');
        if (!colon) return IG_EINVAL;
        hend = colon;
    }
    size_t n = (size_t)(hend - h);
    if (n == 0) return IG_EINVAL;
    for (const char *p = h; p < hend; p++)
        if (!host_char_ok(*p, bracketed)) return IG_EINVAL; /* also: unbracketed IPv6 */
    const char *end;
    int64_t v;
    if (parse_uint(colon + 1, &end, &v) != IG_OK || *end != '\0' || v > 65535) return IG_EINVAL;
    if (n >= hostlen) return IG_ETOOBIG;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)v;
    return IG_OK;
}

/* Applies value to o in c. name is how the user wrote the setting ("ttl_enrich" or
 * "--ttl-enrich"); messages start with it. */
static int apply(ig_config_t *c, const opt_t *o, const char *name, const char *value, char *err,
                 size_t errlen) {
    size_t len = strlen(value);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
            snprintf(err, errlen, "%s: value contains a control character", name);
            return IG_EINVAL;
        }
    }
    if (len == 0 && o->kind != K_PATH_OPT && o->kind != K_HOSTPORT_OPT) {
        snprintf(err, errlen, "%s: empty value", name);
        return IG_EINVAL;
    }
    switch (o->kind) {
    case K_HOSTPORT_OPT:
        if (len == 0) {
            memset((char *)c + o->off, 0, o->size);
            memset((char *)c + o->port_off, 0, sizeof(int));
            return IG_OK;
        }
        /* fall through */
    case K_HOSTPORT: {
        char host[sizeof(c->listen_host)];
        int port, rc = ig_parse_hostport(value, host, sizeof(host), &port);
        if (rc == IG_ETOOBIG) {
            snprintf(err, errlen, "%s: host name too long (max %zu bytes)", name, sizeof(host) - 1);
            return IG_EINVAL;
        }
        if (rc != IG_OK) {
            snprintf(err, errlen,
                     "%s: bad address '%s' (use HOST:PORT, e.g. 127.0.0.1:8800, [::1]:8800 or "
                     "localhost:8800; port 0-65535)",
                     name, value);
            return IG_EINVAL;
        }
        memcpy((char *)c + o->off, host, sizeof(host));
        memcpy((char *)c + o->port_off, &port, sizeof(port));
        return IG_OK;
    }
    case K_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
            snprintf(err, errlen, "%s: bad URL '%s' (must start with http:// or https://)", name,
                     value);
            return IG_EINVAL;
        }
        /* fall through */
    case K_STRING:
    case K_PATH_OPT:
        if (len >= o->size) {
            snprintf(err, errlen, "%s: value too long (%zu bytes, max %zu)", name, len,
                     o->size - 1);
            return IG_EINVAL;
        }
        memcpy((char *)c + o->off, value, len + 1);
        return IG_OK;
    case K_DURATION: {
        int64_t v;
        int rc = ig_parse_duration(value, &v);
        if (rc == IG_OK && v > MAX_DURATION) rc = IG_ETOOBIG;
        if (rc == IG_ETOOBIG) {
            snprintf(err, errlen, "%s: duration '%s' too large (max 3650d)", name, value);
            return IG_EINVAL;
        }
        if (rc != IG_OK) {
            snprintf(err, errlen, "%s: bad duration '%s' (use 90s, 5m, 24h, 7d)", name, value);
            return IG_EINVAL;
        }
        memcpy((char *)c + o->off, &v, sizeof(v));
        return IG_OK;
    }
    case K_SIZE: {
        int64_t v;
        int rc = ig_parse_size(value, &v);
        if (rc == IG_ETOOBIG) {
            snprintf(err, errlen, "%s: size '%s' too large", name, value);
            return IG_EINVAL;
        }
        if (rc != IG_OK) {
            snprintf(err, errlen, "%s: bad size '%s' (use bytes or 512K, 256M, 1G)", name, value);
            return IG_EINVAL;
        }
        memcpy((char *)c + o->off, &v, sizeof(v));
        return IG_OK;
    }
    case K_UPSTREAM_LIMIT:
    case K_USER_LIMIT: {
        ig_limit_spec_t spec;
        char why[400];
        int up = o->kind == K_UPSTREAM_LIMIT;
        if (ig_limit_spec_parse(value, up ? "auto" : "none", up, &spec, why, sizeof(why)) !=
            IG_OK) {
            snprintf(err, errlen, "%s: %s", name, why);
            return IG_EINVAL;
        }
        memcpy((char *)c + o->off, &spec, sizeof(spec));
        return IG_OK;
    }
    }
    return IG_EINVAL;
}

void ig_config_defaults(ig_config_t *c) {
    char err[256];
    memset(c, 0, sizeof(*c));
    /* The defaults are the table's, as a user would write them, so --help cannot lie. */
    for (size_t i = 0; i < NOPTS; i++)
        apply(c, &opts[i], opts[i].key, opts[i].dflt, err, sizeof(err));
}

int ig_config_set(ig_config_t *c, const char *key, const char *value, char *err, size_t errlen) {
    const opt_t *o = find_key(key);
    if (!o) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return IG_EINVAL;
    }
    ig_config_t tmp = *c;
    int rc = apply(&tmp, o, key, value, err, errlen);
    if (rc == IG_OK) *c = tmp;
    return rc;
}

static int is_blank(char ch) {
    return ch == ' ' || ch == '\t';
}

/* Splits one line (NUL-terminated, no newline) into key and value in place. *key is NULL for a
 * blank or comment line. On error, err gets the reason without the file/line prefix. */
static int split_line(char *line, char **key, char **value, char *err, size_t errlen) {
    *key = NULL;
    *value = NULL;
    char *p = line;
    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '#') return IG_OK;
    char *k = p;
    while (*p && *p != '=' && !is_blank(*p) && *p != '#')
        p++;
    char *kend = p;
    while (is_blank(*p))
        p++;
    if (*p != '=') {
        snprintf(err, errlen, "expected 'key = value'");
        return IG_EINVAL;
    }
    if (kend == k) {
        snprintf(err, errlen, "missing key before '='");
        return IG_EINVAL;
    }
    *kend = '\0';
    p++;
    while (is_blank(*p))
        p++;
    char *v = p;
    if (*p == '"') {
        /* Quoted: \" and \\ are the only escapes; '#' inside is data. */
        char *o = v;
        for (p++;; p++) {
            if (*p == '\0') {
                snprintf(err, errlen, "%s: missing closing '\"'", k);
                return IG_EINVAL;
            }
            if (*p == '"') break;
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
            *o++ = *p;
        }
        p++;
        *o = '\0';
        while (is_blank(*p))
            p++;
        if (*p != '\0' && *p != '#') {
            snprintf(err, errlen, "%s: unexpected text after the closing '\"'", k);
            return IG_EINVAL;
        }
    } else {
        char *hash = strchr(p, '#');
        if (hash) *hash = '\0';
        char *e = p + strlen(p);
        while (e > p && is_blank(e[-1]))
            e--;
        *e = '\0';
    }
    *key = k;
    *value = v;
    return IG_OK;
}

int ig_config_load_file(ig_config_t *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return e == ENOENT ? IG_ENOENT : IG_EIO;
    }
    ig_config_t tmp = *c;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = IG_OK;
    char why[600];
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)n > MAX_LINE) {
            snprintf(err, errlen, "%s:%d: line too long (max %d bytes)", path, lineno, MAX_LINE);
            rc = IG_EINVAL;
            break;
        }
        if (memchr(line, '\0', (size_t)n)) {
            snprintf(err, errlen, "%s:%d: NUL byte in line", path, lineno);
            rc = IG_EINVAL;
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *start = line;
        if (lineno == 1 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) start += 3; /* UTF-8 BOM */
        char *key, *value;
        rc = split_line(start, &key, &value, why, sizeof(why));
        if (rc == IG_OK && key) {
            const opt_t *o = find_key(key);
            if (!o) {
                snprintf(why, sizeof(why), "unknown key '%s'", key);
                rc = IG_EINVAL;
            } else {
                rc = apply(&tmp, o, key, value, why, sizeof(why));
            }
        }
        if (rc != IG_OK) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            break;
        }
    }
    if (rc == IG_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        rc = IG_EIO;
    }
    free(line);
    fclose(f);
    if (rc == IG_OK) *c = tmp;
    return rc;
}

/* The setting a flag names ("--ttl-enrich" or "--ttl-enrich=..."), or NULL. */
static const opt_t *find_flag(const char *arg, size_t namelen) {
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].flag) == namelen && strncmp(opts[i].flag, arg, namelen) == 0)
            return &opts[i];
    return NULL;
}

/* Splits argv[*i] into flag name length and value, consuming the next argument for the
 * "--key value" form. */
static int flag_value(int argc, char **argv, int *i, size_t *namelen, const char **value, char *err,
                      size_t errlen) {
    const char *a = argv[*i];
    const char *eq = strchr(a, '=');
    if (eq) {
        *namelen = (size_t)(eq - a);
        *value = eq + 1;
        return IG_OK;
    }
    *namelen = strlen(a);
    /* A value starting with "--" is almost always a forgotten value followed by the next
     * flag; "--key=--odd" still says it on purpose. */
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
        snprintf(err, errlen, "%s: missing value", a);
        return IG_EINVAL;
    }
    *value = argv[++*i];
    return IG_OK;
}

int ig_config_parse_args(ig_config_t *c, int argc, char **argv, char *err, size_t errlen) {
    ig_config_t tmp = *c;
    const char *config_path = NULL;
    int rc;
    /* First pass: find --config and check that every argument is a known flag, so a typo is
     * reported before a file is read. */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (flags are --key value)", a);
            return IG_EINVAL;
        }
        size_t namelen;
        const char *value;
        if ((rc = flag_value(argc, argv, &i, &namelen, &value, err, errlen)) != IG_OK) return rc;
        if (namelen == 8 && strncmp(a, "--config", 8) == 0) {
            if (config_path) {
                snprintf(err, errlen, "--config given more than once");
                return IG_EINVAL;
            }
            if (!*value) {
                snprintf(err, errlen, "--config: empty value");
                return IG_EINVAL;
            }
            config_path = value;
        } else if (!find_flag(a, namelen)) {
            snprintf(err, errlen, "unknown flag '%.*s' (irisgate serve --help lists them)",
                     (int)namelen, a);
            return IG_EINVAL;
        }
    }
    if (config_path && (rc = ig_config_load_file(&tmp, config_path, err, errlen)) != IG_OK)
        return rc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t namelen;
        const char *value;
        if ((rc = flag_value(argc, argv, &i, &namelen, &value, err, errlen)) != IG_OK) return rc;
        const opt_t *o = find_flag(a, namelen);
        if (!o) continue; /* --config, already read */
        if ((rc = apply(&tmp, o, o->flag, value, err, errlen)) != IG_OK) return rc;
    }
    *c = tmp;
    return IG_OK;
}

int ig_config_check(const ig_config_t *c, char *err, size_t errlen) {
    if (!c->tls_cert[0] != !c->tls_key[0]) {
        snprintf(err, errlen, "%s is set but %s is not: HTTPS needs both (irisgate cert "
                 "--self-signed --out DIR makes a pair)",
                 c->tls_cert[0] ? "tls_cert" : "tls_key", c->tls_cert[0] ? "tls_key" : "tls_cert");
        return IG_EINVAL;
    }
    if (c->tls_listen_host[0] && !c->tls_cert[0]) {
        snprintf(err, errlen, "tls_listen is set but tls_cert and tls_key are not");
        return IG_EINVAL;
    }
    if (c->tls_listen_host[0] && strcmp(c->tls_listen_host, c->listen_host) == 0 &&
        c->tls_listen_port == c->listen_port && c->listen_port != 0) {
        snprintf(err, errlen, "tls_listen and listen are the same address (%s:%d)",
                 c->listen_host, c->listen_port);
        return IG_EINVAL;
    }
    return IG_OK;
}

void ig_config_usage(FILE *f) {
    fprintf(f, "  %-28s %s\n", "--config PATH",
            "read this config file first ('key = value' lines), then the flags");
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &opts[i];
        const char *meta = o->kind == K_HOSTPORT || o->kind == K_HOSTPORT_OPT       ? "HOST:PORT"
                           : o->kind == K_URL                                       ? "URL"
                           : o->kind == K_DURATION                                  ? "DURATION"
                           : o->kind == K_SIZE                                      ? "SIZE"
                           : o->kind == K_UPSTREAM_LIMIT || o->kind == K_USER_LIMIT ? "SPEC"
                                                                                    : "PATH";
        char flag[64];
        snprintf(flag, sizeof(flag), "%s %s", o->flag, meta);
        if (strlen(flag) >= 28) /* its own line, so the help column stays straight */
            fprintf(f, "  %s\n  %-28s %s\n  %-28s config: %s = %s\n", flag, "", o->help, "", o->key,
                    o->dflt[0] ? o->dflt : "\"\"");
        else
            fprintf(f, "  %-28s %s\n  %-28s config: %s = %s\n", flag, o->help, "", o->key,
                    o->dflt[0] ? o->dflt : "\"\"");
    }
    fprintf(f, "\nDurations: 90 or 90s, 5m, 24h, 7d (0 allowed, max 3650d). "
               "Sizes: bytes, or K, M, G (1024-based; KB, MB, GB also accepted).\n"
               "Limit specs: KEY=N joined by ',' (no spaces); keys minute, hour, month, and "
               "absolute for upstream\nlimits; 0 = no limit. Keys a spec leaves out are learned "
               "from /v1/account (upstream_limit_*)\nor unlimited (user_limit_*; "
               "`irisgate user set` overrides them per user).\n");
}
