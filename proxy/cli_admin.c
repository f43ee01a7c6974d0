/* cli_admin.c — the admin commands of the irisgate binary: `user add|list|remove|set` and
 * `upstream set|show`, which edit the secrets file through secrets.c.
 *
 * Owns: argument parsing and messages of those commands, finding the secrets path (--secrets,
 * else the 'secrets' key of --config, else the default), and reading the vendor key from
 * standard input (without echo on a terminal, restoring the terminal even on a signal).
 * Never: prints the vendor key, or any key but the one `user add` just made (that is its job);
 * exits the process (it returns the exit status to main); touches the secrets file unless the
 * whole command is valid.
 * Life cycle: each command loads the secrets, changes them, saves them and frees them.
 */
#include "irisgate/cli_admin.h"
#include "irisgate/config.h"
#include "irisgate/limiter.h"
#include "irisgate/secrets.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_KEY_BYTES 1024 /* as secrets.c accepts */

typedef struct {
    const char *secrets;
    const char *config;
    const char *pos[4];
    int npos;
    int help;
    const char *limit[IG_EP_COUNT]; /* --investigate/--enrich/--account SPEC, by ig_endpoint_t */
    int nlimits;
} args_t;

/* Parses argv[1..argc) (argv[0] is the command). Returns 0, or 2 after printing why. */
static int parse_args(const char *cmd, int argc, char **argv, args_t *a) {
    memset(a, 0, sizeof(*a));
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == '\0') {
            if (a->npos == (int)(sizeof(a->pos) / sizeof(a->pos[0]))) {
                fprintf(stderr, "irisgate %s: too many arguments\n", cmd);
                return 2;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = 1;
            continue;
        }
        const char **dst = NULL;
        size_t n = 0;
        if (strncmp(s, "--secrets", 9) == 0 && (s[9] == '\0' || s[9] == '=')) {
            dst = &a->secrets;
            n = 9;
        } else if (strncmp(s, "--config", 8) == 0 && (s[8] == '\0' || s[8] == '=')) {
            dst = &a->config;
            n = 8;
        } else if (s[0] == '-' && s[1] == '-') {
            n = strcspn(s + 2, "=");
            char prod[16];
            ig_endpoint_t ep = IG_EP_UNKNOWN;
            if (n < sizeof(prod)) {
                memcpy(prod, s + 2, n);
                prod[n] = '\0';
                ep = ig_limit_product(prod);
            }
            if (ep == IG_EP_UNKNOWN) {
                fprintf(stderr, "irisgate %s: unknown option '%s'\n", cmd, s);
                return 2;
            }
            if (a->limit[ep]) {
                fprintf(stderr, "irisgate %s: --%s given twice\n", cmd, prod);
                return 2;
            }
            dst = &a->limit[ep];
            a->nlimits++;
            n += 2;
        } else {
            fprintf(stderr, "irisgate %s: unknown option '%s'\n", cmd, s);
            return 2;
        }
        const char *v;
        if (s[n] == '=') {
            v = s + n + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "irisgate %s: %s needs a value\n", cmd, s);
            return 2;
        }
        if (*v == '\0') {
            fprintf(stderr, "irisgate %s: %.*s: empty value\n", cmd, (int)n, s);
            return 2;
        }
        *dst = v;
    }
    return 0;
}

/* The secrets path to use, into out. Returns 0, or 1 after printing why. */
static int secrets_path(const args_t *a, char *out, size_t outlen) {
    ig_config_t cfg;
    char err[1024];
    ig_config_defaults(&cfg);
    if (!a->secrets && a->config && ig_config_load_file(&cfg, a->config, err, sizeof(err))) {
        fprintf(stderr, "irisgate: %s\n", err);
        return 1;
    }
    const char *p = a->secrets ? a->secrets : cfg.secrets;
    if ((size_t)snprintf(out, outlen, "%s", p) >= outlen) {
        fprintf(stderr, "irisgate: secrets path too long\n");
        return 1;
    }
    return 0;
}

/* Loads the secrets; a missing file is an empty set when missing_ok. Returns 0, or 1 after
 * printing why. */
static int load(ig_secrets_t *s, const char *path, int missing_ok, int *missing) {
    char err[1024];
    int rc = ig_secrets_load(s, path, err, sizeof(err));
    if (missing) *missing = rc == IG_ENOENT;
    if (rc == IG_OK || (rc == IG_ENOENT && missing_ok)) return 0;
    fprintf(stderr, "irisgate: %s\n", err);
    return 1;
}

static int save(ig_secrets_t *s, const char *path) {
    char err[1024];
    if (ig_secrets_save(s, path, err, sizeof(err)) == IG_OK) return 0;
    fprintf(stderr, "irisgate: %s\n", err);
    return 1;
}

static void user_usage(FILE *f) {
    fprintf(f,
            "usage: irisgate user add NAME    [--secrets PATH] [--config PATH]\n"
            "       irisgate user list        [--secrets PATH] [--config PATH]\n"
            "       irisgate user remove NAME [--secrets PATH] [--config PATH]\n"
            "       irisgate user set NAME [--investigate SPEC] [--enrich SPEC] [--account SPEC]\n"
            "                              [--secrets PATH] [--config PATH]\n"
            "\n"
            "Manages the proxy's users in the secrets file: --secrets PATH, else the 'secrets'\n"
            "setting of the config file, else irisgate.secrets. The file is created (mode 0600)\n"
            "when absent and refused when group or others may access it.\n"
            "\n"
            "  add NAME     makes a user with a fresh random key and prints its credentials:\n"
            "                 api_username=NAME\n"
            "                 api_key=KEY\n"
            "               NAME is 1-64 characters of A-Z a-z 0-9 _ . @ -\n"
            "  list         prints one line per user: the name, then its limit overrides as\n"
            "               `user set` takes them (never keys)\n"
            "  remove NAME  deletes a user, its key and its limits\n"
            "  set NAME     overrides the config's user_limit_* for one user: upstream queries\n"
            "               the user may spend per product, SPEC = minute=N,hour=N,month=N\n"
            "               (any subset; 0 = no limit; keys left out keep the config\n"
            "               default), or 'default' to drop the override. A running daemon\n"
            "               keeps the limits it loaded at start.\n");
}

/* One line of `user list`: the name and its overrides, as `user set` takes them. */
static void print_user(const ig_secret_user_t *u) {
    printf("%s", u->name);
    for (int ep = 1; ep < IG_EP_COUNT; ep++) {
        char spec[128];
        if (u->limits[ep].set &&
            ig_limit_spec_format(&u->limits[ep], "default", spec, sizeof(spec)) == IG_OK)
            printf(" --%s %s", ig_limit_product_name((ig_endpoint_t)ep), spec);
    }
    printf("\n");
}

static int user_set(const args_t *a, const char *path) {
    const char *name = a->pos[1];
    ig_limit_spec_t spec[IG_EP_COUNT];
    for (int ep = 1; ep < IG_EP_COUNT; ep++) {
        char why[512];
        if (!a->limit[ep]) continue;
        if (ig_limit_spec_parse(a->limit[ep], "default", 0, &spec[ep], why, sizeof(why)) != IG_OK) {
            fprintf(stderr, "irisgate user set: --%s: %s\n",
                    ig_limit_product_name((ig_endpoint_t)ep), why);
            return 2;
        }
    }
    ig_secrets_t s;
    int missing = 0, status = 1;
    if (load(&s, path, 1, &missing) != 0) return 1;
    const ig_secret_user_t *u = NULL;
    for (size_t i = 0; i < s.nusers; i++)
        if (strcmp(s.users[i].name, name) == 0) u = &s.users[i];
    if (!u) {
        fprintf(stderr, "irisgate: no user '%s' in %s%s\n", name, path,
                missing ? " (the file does not exist)" : "");
    } else {
        for (int ep = 1; ep < IG_EP_COUNT; ep++)
            if (a->limit[ep]) ig_secrets_set_limit(&s, name, (ig_endpoint_t)ep, &spec[ep]);
        if (save(&s, path) == 0) {
            print_user(u);
            status = 0;
        }
    }
    fflush(stdout);
    ig_secrets_free(&s);
    return status;
}

int ig_cli_user(int argc, char **argv) {
    args_t a;
    if (parse_args("user", argc, argv, &a) != 0) {
        user_usage(stderr);
        return 2;
    }
    if (a.help) {
        user_usage(stdout);
        return 0;
    }
    const char *sub = a.npos > 0 ? a.pos[0] : "";
    int want = strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0 || strcmp(sub, "set") == 0 ? 2
               : strcmp(sub, "list") == 0                                                       ? 1
                                          : -1;
    if (a.nlimits && strcmp(sub, "set") != 0) {
        fprintf(stderr, "irisgate user: --investigate, --enrich and --account go with 'set'\n");
        user_usage(stderr);
        return 2;
    }
    if (strcmp(sub, "set") == 0 && a.npos == 2 && !a.nlimits) {
        fprintf(stderr, "irisgate user set: give at least one of --investigate, --enrich, "
                        "--account\n");
        user_usage(stderr);
        return 2;
    }
    if (want < 0 || a.npos != want) {
        if (want < 0 && a.npos > 0)
            fprintf(stderr, "irisgate user: unknown subcommand '%s'\n", sub);
        else if (want < 0)
            fprintf(stderr, "irisgate user: missing subcommand\n");
        else
            fprintf(stderr, "irisgate user %s: wrong number of arguments\n", sub);
        user_usage(stderr);
        return 2;
    }
    char path[1024];
    if (secrets_path(&a, path, sizeof(path)) != 0) return 1;

    ig_secrets_t s;
    int missing = 0, status = 1;
    if (strcmp(sub, "list") == 0) {
        if (load(&s, path, 1, &missing) != 0) return 1;
        if (missing) fprintf(stderr, "irisgate: %s does not exist yet: no users\n", path);
        for (size_t i = 0; i < s.nusers; i++)
            print_user(&s.users[i]);
        ig_secrets_free(&s);
        return 0;
    }

    if (strcmp(sub, "set") == 0) return user_set(&a, path);

    const char *name = a.pos[1];
    if (strcmp(sub, "add") == 0) {
        if (load(&s, path, 1, NULL) != 0) return 1;
        const char *key = NULL;
        int rc = ig_secrets_add_user(&s, name, &key);
        if (rc == IG_EINVAL && ig_secrets_user_key(&s, name))
            fprintf(stderr, "irisgate: user '%s' already exists in %s\n", name, path);
        else if (rc == IG_EINVAL)
            fprintf(stderr,
                    "irisgate: bad user name '%s': use 1-64 characters of A-Z a-z 0-9 "
                    "_ . @ -\n",
                    name);
        else if (rc != IG_OK)
            fprintf(stderr, "irisgate: cannot make a key for '%s'\n", name);
        else if (save(&s, path) == 0) {
            printf("api_username=%s\napi_key=%s\n", name, key);
            status = 0;
        }
    } else {
        if (load(&s, path, 1, &missing) != 0) return 1;
        if (ig_secrets_remove_user(&s, name) != IG_OK)
            fprintf(stderr, "irisgate: no user '%s' in %s%s\n", name, path,
                    missing ? " (the file does not exist)" : "");
        else if (save(&s, path) == 0) {
            printf("user %s removed from %s\n", name, path);
            status = 0;
        }
    }
    fflush(stdout);
    ig_secrets_free(&s);
    return status;
}

/* ---- upstream --------------------------------------------------------------------------- */

static struct termios saved_tio;
static struct sigaction saved_act[4];
static const int tty_signals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* A signal while echo is off must not leave the user's terminal silent. */
static void restore_tty_and_die(int sig) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int echo_off(void) {
    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_tty_and_die;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; i++)
        sigaction(tty_signals[i], &sa, &saved_act[i]);
    struct termios t = saved_tio;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    t.c_lflag |= ICANON;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0) {
        for (int i = 0; i < 4; i++)
            sigaction(tty_signals[i], &saved_act[i], NULL);
        return -1;
    }
    return 0;
}

static void echo_on(void) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
    for (int i = 0; i < 4; i++)
        sigaction(tty_signals[i], &saved_act[i], NULL);
}

/* Reads one line of standard input into buf with read(2), byte by byte, so no copy of the
 * key stays in a stdio buffer and nothing past the line is consumed. */
static int read_key_line(char *buf, size_t cap, size_t *len) {
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(STDIN_FILENO, &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return IG_EIO;
        if (r == 0 || ch == '\n') break;
        if (n + 1 >= cap) {
            OPENSSL_cleanse(&ch, 1);
            return IG_ETOOBIG;
        }
        buf[n++] = ch;
    }
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return IG_OK;
}

static int read_key(const char *username, char *buf, size_t cap) {
    int tty = isatty(STDIN_FILENO);
    if (tty) {
        fprintf(stderr, "vendor API key for %s (not shown): ", username);
        fflush(stderr);
        if (echo_off() != 0) tty = 0; /* still readable, just echoed */
    }
    size_t len = 0;
    int rc = read_key_line(buf, cap, &len);
    if (tty) {
        echo_on();
        fputc('\n', stderr);
    }
    if (rc == IG_ETOOBIG) {
        fprintf(stderr, "irisgate: the key on standard input is too long (max %d characters)\n",
                MAX_KEY_BYTES);
        return 1;
    }
    if (rc != IG_OK) {
        fprintf(stderr, "irisgate: cannot read the key from standard input: %s\n", strerror(errno));
        return 1;
    }
    if (len == 0) {
        fprintf(stderr,
                "irisgate: no key given: write the vendor API key on standard input, "
                "e.g. `printf '%%s\\n' \"$KEY\" | irisgate upstream set %s`\n",
                username);
        return 1;
    }
    return 0;
}

static void upstream_usage(FILE *f) {
    fprintf(f,
            "usage: irisgate upstream set USERNAME [--secrets PATH] [--config PATH]\n"
            "       irisgate upstream show         [--secrets PATH] [--config PATH]\n"
            "\n"
            "Stores the vendor (DomainTools) credential that irisgate signs upstream calls with,\n"
            "in the secrets file: --secrets PATH, else the 'secrets' setting of the config file,\n"
            "else irisgate.secrets (created with mode 0600 when absent).\n"
            "\n"
            "  set USERNAME  reads the API key from standard input (one line; prompted without\n"
            "                echo on a terminal) and saves it; the key is never printed\n"
            "  show          prints the vendor username (never the key)\n");
}

static int token_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f) return 0;
    return n > 0 && n <= MAX_KEY_BYTES;
}

int ig_cli_upstream(int argc, char **argv) {
    args_t a;
    if (parse_args("upstream", argc, argv, &a) != 0) {
        upstream_usage(stderr);
        return 2;
    }
    if (a.help) {
        upstream_usage(stdout);
        return 0;
    }
    const char *sub = a.npos > 0 ? a.pos[0] : "";
    int want = strcmp(sub, "set") == 0 ? 2 : strcmp(sub, "show") == 0 ? 1 : -1;
    if (want < 0 || a.npos != want) {
        if (want < 0 && a.npos > 0)
            fprintf(stderr, "irisgate upstream: unknown subcommand '%s'\n", sub);
        else if (want < 0)
            fprintf(stderr, "irisgate upstream: missing subcommand\n");
        else
            fprintf(stderr, "irisgate upstream %s: wrong number of arguments\n", sub);
        upstream_usage(stderr);
        return 2;
    }
    char path[1024];
    if (secrets_path(&a, path, sizeof(path)) != 0) return 1;

    ig_secrets_t s;
    int missing = 0, status = 1;
    if (strcmp(sub, "show") == 0) {
        if (load(&s, path, 1, &missing) != 0) return 1;
        if (s.upstream_username) {
            printf("%s\n", s.upstream_username);
            status = 0;
        } else {
            fprintf(stderr, "irisgate: no upstream credential set in %s%s\n", path,
                    missing ? " (the file does not exist)" : "");
        }
        ig_secrets_free(&s);
        return status;
    }

    const char *username = a.pos[1];
    if (!token_ok(username)) {
        fprintf(stderr,
                "irisgate: bad vendor username: use printable ASCII without spaces "
                "(at most %d characters)\n",
                MAX_KEY_BYTES);
        return 1;
    }
    /* Load before prompting, so a refused file is reported before the key is typed. */
    if (load(&s, path, 1, NULL) != 0) return 1;
    char key[MAX_KEY_BYTES + 2];
    if (read_key(username, key, sizeof(key)) == 0) {
        int rc = ig_secrets_set_upstream(&s, username, key);
        if (rc == IG_EINVAL)
            fprintf(stderr, "irisgate: the key must be printable ASCII without spaces\n");
        else if (rc != IG_OK)
            fprintf(stderr, "irisgate: out of memory\n");
        else if (save(&s, path) == 0) {
            printf("upstream credential for %s saved to %s\n", username, path);
            status = 0;
        }
    }
    OPENSSL_cleanse(key, sizeof(key));
    fflush(stdout);
    ig_secrets_free(&s);
    return status;
}
