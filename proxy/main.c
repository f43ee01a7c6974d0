/* main.c — the irisgate binary: the daemon (`irisgate serve`) and the admin commands
 * (`user`, `upstream`, `cert`, `version`, ...). Parses the command line, wires config,
 * secrets, TLS, store, gateway and the HTTP listeners (plain, HTTPS, or both) together on one
 * libuv loop, and tears them down in order on SIGINT/SIGTERM. The only place that calls exit
 * status into being. Its first stdout line is "irisgate listening on http(s)://HOST:PORT"
 * (the HTTPS line follows the plain one when there are both): scripts and tests read it.
 */
#include "irisgate/cli_admin.h"
#include "irisgate/cli_cert.h"
#include "irisgate/cli_import.h"
#include "irisgate/cli_sql.h"
#include "irisgate/cli_stats.h"
#include "irisgate/config.h"
#include "irisgate/gateway.h"
#include "irisgate/http.h"
#include "irisgate/log.h"
#include "irisgate/secrets.h"
#include "irisgate/store.h"
#include "irisgate/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The store's reports (writer thread) go to the request log; ig_log is thread-safe. */
static void store_log(const char *msg) {
    ig_log("store: %s", msg);
}

static void usage(FILE *f) {
    fprintf(f,
            "irisgate %s — caching proxy for the DomainTools Iris API\n"
            "\n"
            "usage:\n"
            "  irisgate serve [--config PATH] [--listen HOST:PORT] [--db PATH] [--upstream URL]\n"
            "                 [--secrets PATH] [options]   run the proxy (serve --help lists all)\n"
            "  irisgate user add|list|remove [NAME] [--secrets PATH]\n"
            "                                              manage the proxy's users\n"
            "  irisgate upstream set USERNAME [--secrets PATH]\n"
            "                                              store the vendor credential (key on stdin)\n"
            "  irisgate import [--db PATH] FILE...         store saved Iris answers in the database\n"
            "  irisgate sql [--db PATH] [SQL]              query it with the SQL module (docs/sql.md)\n"
            "  irisgate stats [--db PATH] [--since DAY] [--until DAY]\n"
            "                                              upstream spend per user\n"
            "  irisgate cert --self-signed --out DIR [--host NAME...]\n"
            "                                              a key and certificate for HTTPS trials\n"
            "  irisgate version\n",
            IG_VERSION);
}

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    ig_http_server_t *http, *https;
    ig_gateway_t *gw;
    int stopping;
} serve_t;

static void on_http_stopped(void *arg) {
    (void)arg;
}

static void on_signal(uv_signal_t *s, int signum) {
    serve_t *sv = s->data;
    if (sv->stopping) return;
    sv->stopping = 1;
    ig_log("received signal %d, stopping", signum);
    ig_gateway_shutdown(sv->gw);
    ig_http_server_stop(sv->http, on_http_stopped, sv);
    ig_http_server_stop(sv->https, on_http_stopped, sv);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
}

/* True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
static bool is_loopback(const char *host) {
    if (strcmp(host, "localhost") == 0) return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        if (memcmp(a6.s6_addr, one, 16) == 0) return true;
        /* ::ffff:127.x.x.x */
        static const unsigned char v4map[12] = {[10] = 0xff, [11] = 0xff};
        return memcmp(a6.s6_addr, v4map, 12) == 0 && a6.s6_addr[12] == 127;
    }
    return false;
}

static int start_listener(serve_t *sv, const char *host, int port, ig_tls_ctx_t *tls,
                          ig_http_server_t **out) {
    int rc = ig_http_server_start_tls(&sv->loop, host, port, tls, ig_gateway_handle, sv->gw, out);
    if (rc != 0)
        fprintf(stderr, "irisgate: cannot listen on %s:%d: %s\n", host, port,
                rc < -10000 ? "invalid address" : uv_strerror(rc));
    return rc;
}

static int cmd_serve(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: irisgate serve [flags]\n\nEvery config file key has a flag of the "
                   "same name ('_' written '-'):\n\n");
            ig_config_usage(stdout);
            return 0;
        }
    }
    ig_config_t cfg;
    char err[512] = "";
    ig_config_defaults(&cfg);
    if (ig_config_parse_args(&cfg, argc, argv, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate: %s\n", err);
        return 2;
    }
    if (ig_config_check(&cfg, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate: %s\n", err);
        return 2;
    }
    /* The listeners: plain on listen, unless TLS is configured without its own address. */
    bool want_tls = cfg.tls_cert[0] != '\0';
    const char *plain_host = NULL, *tls_host = NULL;
    int plain_port = 0, tls_port = 0;
    if (!want_tls || cfg.tls_listen_host[0]) {
        plain_host = cfg.listen_host;
        plain_port = cfg.listen_port;
    }
    if (want_tls) {
        tls_host = cfg.tls_listen_host[0] ? cfg.tls_listen_host : cfg.listen_host;
        tls_port = cfg.tls_listen_host[0] ? cfg.tls_listen_port : cfg.listen_port;
    }
    ig_tls_ctx_t *tls = NULL;
    if (want_tls && ig_tls_ctx_new(cfg.tls_cert, cfg.tls_key, &tls, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate: %s\n", err);
        return 1;
    }

    ig_secrets_t sec;
    int rc = ig_secrets_load(&sec, cfg.secrets, err, sizeof(err));
    if (rc != IG_OK && rc != IG_ENOENT) {
        fprintf(stderr, "irisgate: %s\n", err);
        ig_tls_ctx_free(tls);
        return 1;
    }
    const char *up_user = getenv("IRISGATE_UPSTREAM_USERNAME");
    const char *up_key = getenv("IRISGATE_UPSTREAM_KEY");
    if (!(up_user && *up_user && up_key && *up_key)) {
        up_user = sec.upstream_username;
        up_key = sec.upstream_key;
    }
    if (!up_user || !up_key) {
        fprintf(stderr,
                "irisgate: no vendor credential: run `irisgate upstream set USERNAME --secrets %s`"
                " (the key is read from standard input) or set IRISGATE_UPSTREAM_USERNAME and "
                "IRISGATE_UPSTREAM_KEY\n",
                cfg.secrets);
        ig_secrets_free(&sec);
        ig_tls_ctx_free(tls);
        return 1;
    }
    if (sec.nusers == 0) {
        fprintf(stderr,
                "irisgate: no proxy users in %s: add one with `irisgate user add NAME --secrets "
                "%s`\n",
                cfg.secrets, cfg.secrets);
        ig_secrets_free(&sec);
        ig_tls_ctx_free(tls);
        return 1;
    }

    serve_t sv;
    memset(&sv, 0, sizeof(sv));
    uv_loop_init(&sv.loop);
    if (ig_log_open(cfg.log, &sv.loop, err, sizeof(err)) != IG_OK)
        fprintf(stderr, "irisgate: %s (logging to standard error)\n", err);

    ig_store_t *store = NULL;
    int status = 1;
    if (ig_store_open(cfg.db, &store, err, sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate: %s\n", err);
        goto out;
    }
    ig_store_set_log(store, store_log);
    if (ig_gateway_new(&sv.loop, &cfg, &sec, up_user, up_key, store, &sv.gw, err,
                       sizeof(err)) != IG_OK) {
        fprintf(stderr, "irisgate: %s\n", err);
        goto out;
    }
    if (plain_host && start_listener(&sv, plain_host, plain_port, NULL, &sv.http) != 0) goto out;
    if (tls_host && start_listener(&sv, tls_host, tls_port, tls, &sv.https) != 0) goto out;
    uv_signal_init(&sv.loop, &sv.sigint);
    uv_signal_init(&sv.loop, &sv.sigterm);
    sv.sigint.data = sv.sigterm.data = &sv;
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);

    char where[300];
    if (sv.http && sv.https)
        snprintf(where, sizeof(where), "http://%s:%d and https://%s:%d", plain_host,
                 ig_http_server_port(sv.http), tls_host, ig_http_server_port(sv.https));
    else if (sv.http)
        snprintf(where, sizeof(where), "http://%s:%d", plain_host, ig_http_server_port(sv.http));
    else
        snprintf(where, sizeof(where), "https://%s:%d", tls_host, ig_http_server_port(sv.https));
    ig_log("irisgate %s listening on %s, upstream %s, database %s, %zu users", IG_VERSION, where,
           cfg.upstream, cfg.db, sec.nusers);
    if (sv.http && !is_loopback(plain_host)) {
        static const char warn[] =
            "plain HTTP on %s:%d is reachable beyond this machine: API keys and answers cross "
            "the network in clear; serve HTTPS instead (tls_cert, tls_key; irisgate cert "
            "--self-signed makes a pair)";
        fprintf(stderr, "irisgate: warning: ");
        fprintf(stderr, warn, plain_host, ig_http_server_port(sv.http));
        fprintf(stderr, "\n");
        ig_log(warn, plain_host, ig_http_server_port(sv.http));
    }
    if (sv.http)
        printf("irisgate listening on http://%s:%d\n", plain_host, ig_http_server_port(sv.http));
    if (sv.https)
        printf("irisgate listening on https://%s:%d\n", tls_host, ig_http_server_port(sv.https));
    fflush(stdout);
    ig_log_flush();

    uv_run(&sv.loop, UV_RUN_DEFAULT);
    status = 0;
out:
    if (sv.gw) ig_gateway_shutdown(sv.gw);
    if (!sv.stopping) {
        ig_http_server_stop(sv.http, on_http_stopped, &sv);
        ig_http_server_stop(sv.https, on_http_stopped, &sv);
    }
    uv_run(&sv.loop, UV_RUN_DEFAULT);
    ig_gateway_free(sv.gw);
    if (store) ig_store_close(store);
    ig_log("stopped");
    ig_log_close();
    uv_run(&sv.loop, UV_RUN_DEFAULT);
    uv_loop_close(&sv.loop);
    ig_tls_ctx_free(tls); /* after every TLS connection is gone */
    ig_secrets_free(&sec);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "user") == 0) return ig_cli_user(argc - 1, argv + 1);
    if (strcmp(cmd, "upstream") == 0) return ig_cli_upstream(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0) return ig_cli_import(argc - 1, argv + 1);
    if (strcmp(cmd, "sql") == 0) return ig_cli_sql(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0) return ig_cli_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "cert") == 0) return ig_cli_cert(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("irisgate %s\n", IG_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "irisgate: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
