/* main.c — the fakeiris binary: the stand-in for the DomainTools Iris API in tests, demos
 * and benchmarks. Parses the command line, loads the recordings and builds the synthetic
 * world, listens, announces the port (stdout line and --port-file), and on SIGINT/SIGTERM
 * settles pending answers, stops the HTTP server and frees everything before exiting 0.
 *
 * Flag errors exit 2 with the usage; start-up failures exit 1. Everything on the loop
 * belongs to fake_server.c; this file only wires and tears down, in that order.
 */
#include "account.h"
#include "fake_server.h"
#include "irisgate/http.h"
#include "replay.h"
#include "world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IG_DEFAULT_FIXTURES
#define IG_DEFAULT_FIXTURES "../shared/iris/responses"
#endif

typedef struct {
    char host[256];
    int port;
    const char *fixtures;
    uint64_t seed;
    uint32_t domains, max_results, rate, month_limit, latency_ms;
    double fail_rate;
    int skew;
    const char *port_file;
    int quiet;
} opts_t;

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    ig_http_server_t *http;
    fi_server_t *srv;
    int stopping;
} app_t;

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: fakeiris --listen HOST:PORT --user NAME:KEY [--user NAME:KEY ...] [options]\n"
        "\n"
        "The stand-in for the DomainTools Iris API (Investigate, Enrich, Account).\n"
        "\n"
        "  --listen HOST:PORT      address to listen on (PORT 0 picks a free one;\n"
        "                          default 127.0.0.1:0)\n"
        "  --user NAME:KEY         an account (repeatable; at least one is required)\n"
        "  --fixtures DIR|none     recorded answers to replay (default %s)\n"
        "  --seed N                seed of the synthetic world and of --fail-rate (default 1)\n"
        "  --domains N             domains in the synthetic world (default 100000)\n"
        "  --max-results N         pivot results before limit_exceeded (default 10000)\n"
        "  --rate-per-minute N     requests per user, product and minute (default 0: none)\n"
        "  --month-limit N         Investigate/Enrich requests per user and month (0: none)\n"
        "  --latency MS            answer /v1 requests after MS milliseconds\n"
        "  --fail-rate P           answer a fraction P (0..1) of /v1 requests with a 500\n"
        "  --skew SECONDS          accepted HMAC timestamp skew (default 300)\n"
        "  --port-file PATH        write the port number to PATH once listening\n"
        "  --quiet                 no notes and no log line per request on stderr\n"
        "  --help                  this text\n"
        "\n"
        "Control (no credentials): GET /_fake/stats, /_fake/reset, /_fake/domains?offset=&limit=,\n"
        "/_fake/fail?status=S&count=N&mode=answer|drop|hang.\n",
        IG_DEFAULT_FIXTURES);
}

static int parse_u32(const char *v, uint32_t max, uint32_t *out) {
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-' || n > max) return -1;
    *out = (uint32_t)n;
    return 0;
}

static int parse_listen(const char *v, opts_t *o) {
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof(o->host)) return -1;
    uint32_t port;
    if (parse_u32(colon + 1, 65535, &port)) return -1;
    memcpy(o->host, v, (size_t)(colon - v));
    o->host[colon - v] = '\0';
    o->port = (int)port;
    return 0;
}

static int bad_flag(const char *flag, const char *v, const char *why) {
    fprintf(stderr, "fakeiris: %s %s: %s\n\n", flag, v ? v : "", why);
    usage(stderr);
    return 2;
}

/* Returns 0, 1 for --help, 2 for a bad command line. */
static int parse_args(int argc, char **argv, opts_t *o, fi_account_t *acct) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return 1;
        if (strcmp(arg, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        /* --flag VALUE or --flag=VALUE */
        char flag[64];
        const char *v = NULL;
        const char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof(flag)) {
            memcpy(flag, arg, (size_t)(eq - arg));
            flag[eq - arg] = '\0';
            v = eq + 1;
        } else {
            snprintf(flag, sizeof(flag), "%s", arg);
            if (strncmp(arg, "--", 2) == 0 && i + 1 < argc) v = argv[++i];
        }
        if (strncmp(flag, "--", 2) != 0) return bad_flag(arg, NULL, "unexpected argument");
        if (!v) return bad_flag(flag, NULL, "needs a value");
        uint32_t n;
        if (strcmp(flag, "--listen") == 0) {
            if (parse_listen(v, o)) return bad_flag(flag, v, "expected HOST:PORT");
        } else if (strcmp(flag, "--user") == 0) {
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || !colon[1]) return bad_flag(flag, "", "expected NAME:KEY");
            char name[256];
            if ((size_t)(colon - v) >= sizeof(name)) return bad_flag(flag, "", "name too long");
            memcpy(name, v, (size_t)(colon - v));
            name[colon - v] = '\0';
            int rc = fi_account_add_user(acct, name, colon + 1);
            if (rc == IG_EINVAL) return bad_flag(flag, name, "user given twice");
            if (rc) return bad_flag(flag, name, "out of memory");
        } else if (strcmp(flag, "--fixtures") == 0) {
            o->fixtures = v;
        } else if (strcmp(flag, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || !*v || *end || v[0] == '-')
                return bad_flag(flag, v, "expected an integer");
            o->seed = s;
        } else if (strcmp(flag, "--domains") == 0) {
            if (parse_u32(v, FI_WORLD_MAX_DOMAINS, &n) || n == 0) {
                char why[64];
                snprintf(why, sizeof(why), "expected 1..%u", FI_WORLD_MAX_DOMAINS);
                return bad_flag(flag, v, why);
            }
            o->domains = n;
        } else if (strcmp(flag, "--max-results") == 0) {
            if (parse_u32(v, UINT32_MAX, &n) || n == 0) return bad_flag(flag, v, "expected N > 0");
            o->max_results = n;
        } else if (strcmp(flag, "--rate-per-minute") == 0) {
            if (parse_u32(v, UINT32_MAX, &o->rate)) return bad_flag(flag, v, "expected N >= 0");
        } else if (strcmp(flag, "--month-limit") == 0) {
            if (parse_u32(v, UINT32_MAX, &o->month_limit))
                return bad_flag(flag, v, "expected N >= 0");
        } else if (strcmp(flag, "--latency") == 0) {
            if (parse_u32(v, 3600000, &o->latency_ms))
                return bad_flag(flag, v, "expected milliseconds (0..3600000)");
        } else if (strcmp(flag, "--fail-rate") == 0) {
            char *end;
            errno = 0;
            double p = strtod(v, &end);
            if (errno || !*v || *end || !(p >= 0.0 && p <= 1.0))
                return bad_flag(flag, v, "expected a fraction between 0 and 1");
            o->fail_rate = p;
        } else if (strcmp(flag, "--skew") == 0) {
            if (parse_u32(v, 100000000, &n)) return bad_flag(flag, v, "expected seconds");
            o->skew = (int)n;
        } else if (strcmp(flag, "--port-file") == 0) {
            if (!*v) return bad_flag(flag, v, "expected a path");
            o->port_file = v;
        } else {
            return bad_flag(flag, NULL, "unknown flag");
        }
    }
    return 0;
}

/* Writes the port to path atomically (tmp + rename), so a reader never sees half of it. */
static int write_port_file(const char *path, int port) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        int w = fprintf(f, "%d\n", port);
        if (fclose(f) == 0 && w > 0 && rename(tmp, path) == 0) rc = 0;
        if (rc) unlink(tmp);
    }
    free(tmp);
    return rc;
}

static void on_http_stopped(void *arg) {
    app_t *app = arg;
    app->http = NULL;
}

static void on_signal(uv_signal_t *sig, int signum) {
    app_t *app = sig->data;
    (void)signum;
    if (app->stopping) return;
    app->stopping = 1;
    fi_server_shutdown(app->srv);
    ig_http_server_stop(app->http, on_http_stopped, app);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
}

int main(int argc, char **argv) {
    opts_t o = {.host = "127.0.0.1",
                .port = 0,
                .fixtures = IG_DEFAULT_FIXTURES,
                .seed = 1,
                .domains = 100000,
                .max_results = 10000,
                .skew = 300};
    fi_account_t *acct = NULL;
    fi_replay_t *replay = NULL;
    fi_world_t *world = NULL;
    app_t app;
    memset(&app, 0, sizeof(app));
    int status = 1, loop_ok = 0;
    char err[512] = "";

    if (fi_account_new(0, 0, &acct) != IG_OK) {
        fprintf(stderr, "fakeiris: out of memory\n");
        return 1;
    }
    int prc = parse_args(argc, argv, &o, acct);
    if (prc == 1) {
        usage(stdout);
        fi_account_free(acct);
        return 0;
    }
    if (prc) {
        fi_account_free(acct);
        return 2;
    }
    if (fi_account_nusers(acct) == 0) {
        fprintf(stderr, "fakeiris: no --user NAME:KEY given: every /v1 request must be "
                        "authenticated, so fakeiris needs at least one account\n\n");
        usage(stderr);
        fi_account_free(acct);
        return 2;
    }
    fi_account_set_limits(acct, o.rate, o.month_limit);

    if (strcmp(o.fixtures, "none") != 0) {
        int rc = fi_replay_load(o.fixtures, &replay, err, sizeof(err));
        if (rc == IG_ENOENT) {
            if (!o.quiet)
                fprintf(stderr, "fakeiris: note: no recordings in %s: synthetic answers only\n",
                        o.fixtures);
        } else if (rc) {
            fprintf(stderr, "fakeiris: %s\n", err);
            goto out;
        }
    } else if (!o.quiet) {
        fprintf(stderr, "fakeiris: note: --fixtures none: synthetic answers only\n");
    }

    fi_world_opts_t wo = {.seed = o.seed, .ndomains = o.domains, .max_results = o.max_results};
    if (fi_world_new(&wo, &world) != IG_OK) {
        fprintf(stderr, "fakeiris: cannot build the synthetic world (%u domains)\n", o.domains);
        goto out;
    }

    if (uv_loop_init(&app.loop) != 0) {
        fprintf(stderr, "fakeiris: cannot create the event loop\n");
        goto out;
    }
    loop_ok = 1;
    fi_server_opts_t so = {.max_skew = o.skew,
                           .latency_ms = o.latency_ms,
                           .fail_rate = o.fail_rate,
                           .seed = o.seed,
                           .quiet = o.quiet};
    if (fi_server_new(&app.loop, &so, world, replay, acct, &app.srv) != IG_OK) {
        fprintf(stderr, "fakeiris: out of memory\n");
        goto out;
    }
    int rc = ig_http_server_start(&app.loop, o.host, o.port, fi_server_handle, app.srv, &app.http);
    if (rc != 0) {
        fprintf(stderr, "fakeiris: cannot listen on %s:%d: %s\n", o.host, o.port,
                rc < -10000 ? "invalid address" : uv_strerror(rc));
        app.http = NULL;
        goto out;
    }
    int port = ig_http_server_port(app.http);
    if (o.port_file && write_port_file(o.port_file, port) != 0) {
        fprintf(stderr, "fakeiris: cannot write the port file %s: %s\n", o.port_file,
                strerror(errno));
        goto out;
    }
    uv_signal_init(&app.loop, &app.sigint);
    uv_signal_init(&app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);

    if (!o.quiet)
        fprintf(stderr, "fakeiris: %zu recordings, %u synthetic domains, %zu users\n",
                fi_replay_count(replay), fi_world_size(world), fi_account_nusers(acct));
    printf("fakeiris listening on %s:%d\n", o.host, port);
    fflush(stdout);

    uv_run(&app.loop, UV_RUN_DEFAULT);
    status = 0;
out:
    if (loop_ok) {
        if (app.srv) fi_server_shutdown(app.srv);
        if (app.http) ig_http_server_stop(app.http, on_http_stopped, &app);
        uv_run(&app.loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&app.loop) != 0 && status == 0) {
            fprintf(stderr, "fakeiris: handles still open at exit\n");
            status = 1;
        }
    }
    fi_server_free(app.srv);
    fi_world_free(world);
    fi_replay_free(replay);
    fi_account_free(acct);
    return status;
}
