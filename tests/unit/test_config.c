/* test_config.c — settings: the defaults, duration/size/host:port parsing, the config file
 * (comments, quotes, errors naming the line) and the command-line flags (both forms, --config
 * wherever it stands, flags over the file, unknown flags refused); the queue, staleness and
 * account settings and the upstream and per-user limit specs. */
#include "check.h"
#include "irisgate/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[1024];

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void tmp_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void test_config_defaults_are_documented_values(void) {
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK_EQ_STR(c.listen_host, "127.0.0.1");
    CHECK_EQ_INT(c.listen_port, 8800);
    CHECK_EQ_STR(c.db, "irisgate.db");
    CHECK_EQ_STR(c.upstream, "https://api.domaintools.com");
    CHECK_EQ_STR(c.secrets, "irisgate.secrets");
    CHECK_EQ_STR(c.log, "-");
    CHECK_EQ_STR(c.ca_file, "");
    CHECK_EQ_INT(c.ttl_investigate, 86400);
    CHECK_EQ_INT(c.ttl_enrich, 86400);
    CHECK_EQ_INT(c.cache_memory, 268435456);
    CHECK_EQ_INT(c.upstream_timeout, 30);
    CHECK_EQ_INT(c.hmac_skew, 300);
    CHECK_EQ_INT(c.queue_deadline, 60);
    CHECK_EQ_INT(c.max_stale, 7 * 86400);
    CHECK_EQ_INT(c.account_refresh, 3600);
    for (int ep = 0; ep < IG_EP_COUNT; ep++) {
        CHECK_EQ_INT(c.upstream_limit[ep].set, 0); /* auto */
        CHECK_EQ_INT(c.user_limit[ep].set, 0);     /* none */
    }
}

static void test_duration_accepts_units_and_zero(void) {
    int64_t v = -1;
    CHECK_EQ_INT(ig_parse_duration("90", &v), IG_OK);
    CHECK_EQ_INT(v, 90);
    CHECK_EQ_INT(ig_parse_duration("90s", &v), IG_OK);
    CHECK_EQ_INT(v, 90);
    CHECK_EQ_INT(ig_parse_duration("5m", &v), IG_OK);
    CHECK_EQ_INT(v, 300);
    CHECK_EQ_INT(ig_parse_duration("24h", &v), IG_OK);
    CHECK_EQ_INT(v, 86400);
    CHECK_EQ_INT(ig_parse_duration("7d", &v), IG_OK);
    CHECK_EQ_INT(v, 604800);
    CHECK_EQ_INT(ig_parse_duration("0", &v), IG_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(ig_parse_duration("0h", &v), IG_OK);
    CHECK_EQ_INT(v, 0);
}

static void test_duration_refuses_garbage_negative_and_overflow(void) {
    const char *bad[] = {"",
                         "abc",
                         "-5",
                         "-5m",
                         "5x",
                         "5 m",
                         "1.5h",
                         " 5",
                         "5s ",
                         "m",
                         "5ms",
                         "+5",
                         "5M",
                         "99999999999999999999",
                         "9223372036854775807d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 42;
        int rc = ig_parse_duration(bad[i], &v);
        CHECK(rc < 0);
        if (rc >= 0) fprintf(stderr, "  accepted '%s'\n", bad[i]);
    }
}

static void test_size_accepts_units(void) {
    int64_t v = -1;
    CHECK_EQ_INT(ig_parse_size("1048576", &v), IG_OK);
    CHECK_EQ_INT(v, 1048576);
    CHECK_EQ_INT(ig_parse_size("512K", &v), IG_OK);
    CHECK_EQ_INT(v, 512 * 1024);
    CHECK_EQ_INT(ig_parse_size("256M", &v), IG_OK);
    CHECK_EQ_INT(v, 256LL * 1024 * 1024);
    CHECK_EQ_INT(ig_parse_size("1G", &v), IG_OK);
    CHECK_EQ_INT(v, 1073741824LL);
    CHECK_EQ_INT(ig_parse_size("256MB", &v), IG_OK);
    CHECK_EQ_INT(v, 256LL * 1024 * 1024);
    CHECK_EQ_INT(ig_parse_size("2KB", &v), IG_OK);
    CHECK_EQ_INT(v, 2048);
    CHECK_EQ_INT(ig_parse_size("3GB", &v), IG_OK);
    CHECK_EQ_INT(v, 3LL * 1073741824LL);
    CHECK_EQ_INT(ig_parse_size("0", &v), IG_OK);
    CHECK_EQ_INT(v, 0);
}

static void test_size_refuses_garbage_negative_and_overflow(void) {
    const char *bad[] = {"",
                         "M",
                         "-1",
                         "-1M",
                         "1T",
                         "1.5G",
                         "12 M",
                         "1e6",
                         "9223372036854775807K",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 42;
        int rc = ig_parse_size(bad[i], &v);
        CHECK(rc < 0);
        if (rc >= 0) fprintf(stderr, "  accepted '%s'\n", bad[i]);
    }
}

static void test_hostport_ipv4_ipv6_and_names(void) {
    char host[64];
    int port = -1;
    CHECK_EQ_INT(ig_parse_hostport("127.0.0.1:8800", host, sizeof(host), &port), IG_OK);
    CHECK_EQ_STR(host, "127.0.0.1");
    CHECK_EQ_INT(port, 8800);
    CHECK_EQ_INT(ig_parse_hostport("[::1]:8800", host, sizeof(host), &port), IG_OK);
    CHECK_EQ_STR(host, "::1");
    CHECK_EQ_INT(port, 8800);
    CHECK_EQ_INT(ig_parse_hostport("localhost:8800", host, sizeof(host), &port), IG_OK);
    CHECK_EQ_STR(host, "localhost");
    CHECK_EQ_INT(ig_parse_hostport("0.0.0.0:0", host, sizeof(host), &port), IG_OK);
    CHECK_EQ_STR(host, "0.0.0.0");
    CHECK_EQ_INT(port, 0);
    CHECK_EQ_INT(ig_parse_hostport("[::]:65535", host, sizeof(host), &port), IG_OK);
    CHECK_EQ_STR(host, "::");
    CHECK_EQ_INT(port, 65535);
}

static void test_hostport_refuses_bad_forms(void) {
    const char *bad[] = {
        "127.0.0.1", "127.0.0.1:", ":8800",   "127.0.0.1:65536", "::1:8800", "[::1]8800", "[::1]",
        "[]:80",     "host:abc",   "host:-1", "host:+80",        "ho st:80", "host:80 ",  ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char host[64] = "unchanged";
        int port = 7;
        int rc = ig_parse_hostport(bad[i], host, sizeof(host), &port);
        CHECK(rc < 0);
        if (rc >= 0) fprintf(stderr, "  accepted '%s'\n", bad[i]);
    }
    char small[8];
    int port;
    CHECK(ig_parse_hostport("averylonghostname:80", small, sizeof(small), &port) < 0);
}

static void test_set_bad_duration_message_names_key_and_forms(void) {
    ig_config_t c;
    char err[256] = "";
    ig_config_defaults(&c);
    CHECK(ig_config_set(&c, "ttl_enrich", "abc", err, sizeof(err)) < 0);
    CHECK_EQ_STR(err, "ttl_enrich: bad duration 'abc' (use 90s, 5m, 24h, 7d)");
    CHECK_EQ_INT(c.ttl_enrich, 86400);
    CHECK(ig_config_set(&c, "ttl_enrich", "-1h", err, sizeof(err)) < 0);
    CHECK_EQ_INT(ig_config_set(&c, "ttl_enrich", "0", err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(c.ttl_enrich, 0);
    CHECK_EQ_INT(ig_config_set(&c, "cache_memory", "64M", err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(c.cache_memory, 64LL * 1024 * 1024);
}

static void test_set_string_too_long_is_an_error_not_truncation(void) {
    ig_config_t c;
    char err[256] = "", big[700];
    ig_config_defaults(&c);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(ig_config_set(&c, "db", big, err, sizeof(err)) < 0);
    CHECK_EQ_STR(c.db, "irisgate.db");
    CHECK(strstr(err, "db") == err);
    CHECK(strstr(err, "too long") != NULL);
    char host[80];
    memset(host, 'h', 70);
    snprintf(host + 70, sizeof(host) - 70, ":80");
    CHECK(ig_config_set(&c, "listen", host, err, sizeof(err)) < 0);
    CHECK_EQ_STR(c.listen_host, "127.0.0.1");
}

static void test_set_unknown_key_and_bad_upstream_refused(void) {
    ig_config_t c;
    char err[256] = "";
    ig_config_defaults(&c);
    CHECK(ig_config_set(&c, "colour", "red", err, sizeof(err)) < 0);
    CHECK(strstr(err, "colour") != NULL);
    CHECK(ig_config_set(&c, "upstream", "api.domaintools.com", err, sizeof(err)) < 0);
    CHECK_EQ_STR(c.upstream, "https://api.domaintools.com");
    CHECK_EQ_INT(ig_config_set(&c, "upstream", "http://127.0.0.1:9", err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(c.upstream, "http://127.0.0.1:9");
    CHECK(ig_config_set(&c, "db", "", err, sizeof(err)) < 0);
    CHECK_EQ_INT(ig_config_set(&c, "upstream_ca_file", "", err, sizeof(err)), IG_OK);
}

static void test_file_comments_quotes_and_whitespace(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "good.conf");
    write_file(path, "# irisgate settings\n"
                     "\n"
                     "listen = [::1]:9900   # loopback v6\n"
                     "  db=intel.db\t \n"
                     "log = \"/var/log/iris # gate.log\"  # quoted '#' stays\n"
                     "upstream_ca_file = \"\"\n"
                     "ttl_investigate = 7d\r\n"
                     "ttl_enrich = 0\n"
                     "cache_memory = 1G\n"
                     "upstream_timeout = 90\n"
                     "hmac_skew = 2m\n"
                     "secrets = \"my secrets\"\n"
                     "upstream = https://example.test/base#frag\n");
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_load_file(&c, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(c.listen_host, "::1");
    CHECK_EQ_INT(c.listen_port, 9900);
    CHECK_EQ_STR(c.db, "intel.db");
    CHECK_EQ_STR(c.log, "/var/log/iris # gate.log");
    CHECK_EQ_STR(c.ca_file, "");
    CHECK_EQ_INT(c.ttl_investigate, 7 * 86400);
    CHECK_EQ_INT(c.ttl_enrich, 0);
    CHECK_EQ_INT(c.cache_memory, 1073741824LL);
    CHECK_EQ_INT(c.upstream_timeout, 90);
    CHECK_EQ_INT(c.hmac_skew, 120);
    CHECK_EQ_STR(c.secrets, "my secrets");
    CHECK_EQ_STR(c.upstream, "https://example.test/base"); /* unquoted '#' is a comment */
    unlink(path);
}

static void test_file_bad_value_names_file_and_line(void) {
    char path[1100], err[512] = "", want[1300];
    tmp_path(path, sizeof(path), "irisgate.conf");
    write_file(path, "# comment\ndb = x.db\nttl_enrich = abc\n");
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK(ig_config_load_file(&c, path, err, sizeof(err)) < 0);
    snprintf(want, sizeof(want), "%s:3: ttl_enrich: bad duration 'abc' (use 90s, 5m, 24h, 7d)",
             path);
    CHECK_EQ_STR(err, want);
    CHECK_EQ_STR(c.db, "irisgate.db"); /* a failed file changes nothing */
    unlink(path);
}

static void test_file_unknown_key_names_line(void) {
    char path[1100], err[512] = "", prefix[1200];
    tmp_path(path, sizeof(path), "unknown.conf");
    write_file(path, "listen = 127.0.0.1:1\n\ncolour = red\n");
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK(ig_config_load_file(&c, path, err, sizeof(err)) < 0);
    snprintf(prefix, sizeof(prefix), "%s:3: ", path);
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    CHECK(strstr(err, "unknown key 'colour'") != NULL);
    CHECK_EQ_INT(c.listen_port, 8800);
    unlink(path);
}

static void test_file_syntax_errors_name_line(void) {
    const char *texts[] = {"db = a\njust words\n", "db = a\n= value\n", "db = a\nlog = \"open\n",
                           "db = a\nlog = \"x\" trailing\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char path[1100], err[512] = "", prefix[1200];
        tmp_path(path, sizeof(path), "syntax.conf");
        write_file(path, texts[i]);
        ig_config_t c;
        ig_config_defaults(&c);
        CHECK(ig_config_load_file(&c, path, err, sizeof(err)) < 0);
        snprintf(prefix, sizeof(prefix), "%s:2: ", path);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        unlink(path);
    }
}

static void test_file_missing_is_an_error_naming_it(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "absent.conf");
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK(ig_config_load_file(&c, path, err, sizeof(err)) < 0);
    CHECK(strstr(err, path) == err);
}

static void test_flags_both_forms(void) {
    char *argv[] = {"--listen",           "127.0.0.1:0", "--db=a.db",
                    "--ttl-investigate",  "1h",          "--cache-memory=16M",
                    "--upstream-ca-file", "/etc/ca.pem", "--log=-"};
    ig_config_t c;
    char err[512] = "";
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_parse_args(&c, 9, argv, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(c.listen_port, 0);
    CHECK_EQ_STR(c.db, "a.db");
    CHECK_EQ_INT(c.ttl_investigate, 3600);
    CHECK_EQ_INT(c.cache_memory, 16LL * 1024 * 1024);
    CHECK_EQ_STR(c.ca_file, "/etc/ca.pem");
    CHECK_EQ_STR(c.log, "-");
}

static void test_flags_override_file_and_config_read_first_wherever_it_stands(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "over.conf");
    write_file(path, "db = file.db\nhmac_skew = 1m\nttl_enrich = 1h\n");
    /* --db before --config still wins over the file. */
    char *argv1[] = {"--db", "flag.db", "--config", path, "--ttl-enrich=2h"};
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_parse_args(&c, 5, argv1, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(c.db, "flag.db");
    CHECK_EQ_INT(c.hmac_skew, 60);
    CHECK_EQ_INT(c.ttl_enrich, 7200);

    char cfgeq[1200];
    snprintf(cfgeq, sizeof(cfgeq), "--config=%s", path);
    char *argv2[] = {"--hmac-skew", "10s", cfgeq};
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_parse_args(&c, 3, argv2, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(c.db, "file.db");
    CHECK_EQ_INT(c.hmac_skew, 10);
    unlink(path);
}

static void test_flags_unknown_missing_value_and_positional_refused(void) {
    ig_config_t c;
    char err[512] = "";
    ig_config_defaults(&c);
    char *a1[] = {"--db", "x.db", "--colour", "red"};
    CHECK(ig_config_parse_args(&c, 4, a1, err, sizeof(err)) < 0);
    CHECK(strstr(err, "--colour") != NULL);
    CHECK_EQ_STR(c.db, "irisgate.db"); /* nothing applied */

    char *a2[] = {"--db"};
    CHECK(ig_config_parse_args(&c, 1, a2, err, sizeof(err)) < 0);
    CHECK(strstr(err, "--db") != NULL);

    char *a3[] = {"--db", "--listen", "127.0.0.1:1"};
    CHECK(ig_config_parse_args(&c, 3, a3, err, sizeof(err)) < 0);

    char *a4[] = {"stray"};
    CHECK(ig_config_parse_args(&c, 1, a4, err, sizeof(err)) < 0);
    CHECK(strstr(err, "stray") != NULL);

    char *a5[] = {"--ttl_enrich", "1h"}; /* the key's spelling is not a flag */
    CHECK(ig_config_parse_args(&c, 2, a5, err, sizeof(err)) < 0);
}

static void test_flags_bad_value_names_flag(void) {
    ig_config_t c;
    char err[512] = "";
    ig_config_defaults(&c);
    char *a[] = {"--ttl-enrich", "abc"};
    CHECK(ig_config_parse_args(&c, 2, a, err, sizeof(err)) < 0);
    CHECK_EQ_STR(err, "--ttl-enrich: bad duration 'abc' (use 90s, 5m, 24h, 7d)");
    char *b[] = {"--listen=127.0.0.1:99999"};
    CHECK(ig_config_parse_args(&c, 1, b, err, sizeof(err)) < 0);
    CHECK(strstr(err, "--listen") == err);
}

static void test_flags_config_error_propagates_with_line(void) {
    char path[1100], err[512] = "", prefix[1200];
    tmp_path(path, sizeof(path), "broken.conf");
    write_file(path, "bogus = 1\n");
    char *a[] = {"--config", path};
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK(ig_config_parse_args(&c, 2, a, err, sizeof(err)) < 0);
    snprintf(prefix, sizeof(prefix), "%s:1: ", path);
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    unlink(path);
}

static void test_usage_lists_every_key_flag_and_default(void) {
    char path[1100];
    tmp_path(path, sizeof(path), "usage.txt");
    FILE *f = fopen(path, "w+");
    CHECK(f != NULL);
    if (!f) return;
    ig_config_usage(f);
    rewind(f);
    char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    const char *want[] = {"--config",
                          "--listen",
                          "listen = 127.0.0.1:8800",
                          "--db",
                          "db = irisgate.db",
                          "--upstream ",
                          "upstream = https://api.domaintools.com",
                          "--secrets",
                          "secrets = irisgate.secrets",
                          "--log",
                          "log = -",
                          "--upstream-ca-file",
                          "upstream_ca_file",
                          "--ttl-investigate",
                          "ttl_investigate = 24h",
                          "--ttl-enrich",
                          "ttl_enrich = 24h",
                          "--cache-memory",
                          "cache_memory = 256M",
                          "--upstream-timeout",
                          "upstream_timeout = 30s",
                          "--hmac-skew",
                          "hmac_skew = 5m",
                          "--queue-deadline DURATION",
                          "queue_deadline = 60s",
                          "--upstream-limit-investigate SPEC",
                          "upstream_limit_investigate = auto",
                          "--upstream-limit-enrich SPEC",
                          "upstream_limit_enrich = auto",
                          "--upstream-limit-account SPEC",
                          "upstream_limit_account = auto",
                          "--user-limit-investigate SPEC",
                          "user_limit_investigate = none",
                          "--user-limit-enrich SPEC",
                          "user_limit_enrich = none",
                          "--user-limit-account SPEC",
                          "user_limit_account = none",
                          "--max-stale DURATION",
                          "max_stale = 7d",
                          "--account-refresh DURATION",
                          "account_refresh = 1h"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        CHECK(strstr(text, want[i]) != NULL);
        if (!strstr(text, want[i])) fprintf(stderr, "  missing '%s'\n", want[i]);
    }
}

static void test_limits_and_queue_settings_from_file_and_flags(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "limits.conf");
    write_file(path, "queue_deadline = 2m\n"
                     "upstream_limit_investigate = minute=20,hour=0,month=10000,absolute=0\n"
                     "upstream_limit_enrich = month=5000   # the rest learned\n"
                     "upstream_limit_account = auto\n"
                     "user_limit_investigate = minute=5,month=1000\n"
                     "user_limit_account = \"hour=10\"\n"
                     "max_stale = 1d\n"
                     "account_refresh = 30m\n");
    ig_config_t c;
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_load_file(&c, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(c.queue_deadline, 120);
    CHECK_EQ_INT(c.max_stale, 86400);
    CHECK_EQ_INT(c.account_refresh, 1800);
    const ig_limit_spec_t *ui = &c.upstream_limit[IG_EP_INVESTIGATE];
    CHECK_EQ_INT(ui->set, IG_LIMIT_MINUTE | IG_LIMIT_HOUR | IG_LIMIT_MONTH | IG_LIMIT_ABSOLUTE);
    CHECK_EQ_INT(ui->v.minute, 20);
    CHECK_EQ_INT(ui->v.hour, 0);
    CHECK_EQ_INT(ui->v.month, 10000);
    CHECK_EQ_INT(ui->v.absolute, 0);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_ENRICH].set, IG_LIMIT_MONTH);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_ENRICH].v.month, 5000);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_ACCOUNT].set, 0);
    CHECK_EQ_INT(c.user_limit[IG_EP_INVESTIGATE].set, IG_LIMIT_MINUTE | IG_LIMIT_MONTH);
    CHECK_EQ_INT(c.user_limit[IG_EP_INVESTIGATE].v.minute, 5);
    CHECK_EQ_INT(c.user_limit[IG_EP_INVESTIGATE].v.month, 1000);
    CHECK_EQ_INT(c.user_limit[IG_EP_ENRICH].set, 0);
    CHECK_EQ_INT(c.user_limit[IG_EP_ACCOUNT].set, IG_LIMIT_HOUR);
    CHECK_EQ_INT(c.user_limit[IG_EP_ACCOUNT].v.hour, 10);

    /* Flags over the file, both forms; "auto" and "none" reset. */
    char conf[1200];
    snprintf(conf, sizeof(conf), "--config=%s", path);
    char *a[] = {"--upstream-limit-investigate",
                 "auto",
                 conf,
                 "--user-limit-investigate=none",
                 "--user-limit-enrich",
                 "minute=2",
                 "--queue-deadline",
                 "5s"};
    ig_config_defaults(&c);
    CHECK_EQ_INT(ig_config_parse_args(&c, 8, a, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_INVESTIGATE].set, 0);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_ENRICH].v.month, 5000); /* from the file */
    CHECK_EQ_INT(c.user_limit[IG_EP_INVESTIGATE].set, 0);
    CHECK_EQ_INT(c.user_limit[IG_EP_ENRICH].set, IG_LIMIT_MINUTE);
    CHECK_EQ_INT(c.user_limit[IG_EP_ENRICH].v.minute, 2);
    CHECK_EQ_INT(c.queue_deadline, 5);
    unlink(path);
}

static void test_limit_specs_refused_with_the_key_named(void) {
    ig_config_t c;
    char err[512] = "";
    ig_config_defaults(&c);
    struct {
        const char *key, *value;
    } bad[] = {{"user_limit_enrich", "absolute=5"}, /* users have no absolute limit */
               {"user_limit_enrich", "auto"},       /* only upstream limits learn */
               {"upstream_limit_account", "none"},  /* auto, or say minute=0,... */
               {"upstream_limit_investigate", "minute=20,"},
               {"upstream_limit_investigate", "minute=twenty"},
               {"upstream_limit_investigate", "seconds=5"},
               {"upstream_limit_investigate", "minute=1,minute=2"},
               {"user_limit_investigate", "minute = 5"},
               {"queue_deadline", "soon"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(ig_config_set(&c, bad[i].key, bad[i].value, err, sizeof(err)) < 0);
        CHECK(strncmp(err, bad[i].key, strlen(bad[i].key)) == 0);
        if (strncmp(err, bad[i].key, strlen(bad[i].key)) != 0)
            fprintf(stderr, "  %s = %s: '%s'\n", bad[i].key, bad[i].value, err);
    }
    CHECK_EQ_INT(c.user_limit[IG_EP_ENRICH].set, 0);
    CHECK_EQ_INT(c.upstream_limit[IG_EP_INVESTIGATE].set, 0);
    CHECK_EQ_INT(c.queue_deadline, 60);
    char *a[] = {"--user-limit-account", "month=x"};
    CHECK(ig_config_parse_args(&c, 2, a, err, sizeof(err)) < 0);
    CHECK(strstr(err, "--user-limit-account: ") == err);
}

int main(void) {
    const char *base = getenv("IG_TEST_TMP");
    snprintf(tmpdir, sizeof(tmpdir), "%s/config-%d", base && *base ? base : "/tmp", (int)getpid());
    if (base && *base) mkdir(base, 0700);
    if (mkdir(tmpdir, 0700) != 0) {
        perror(tmpdir);
        return 1;
    }
    RUN(test_config_defaults_are_documented_values);
    RUN(test_duration_accepts_units_and_zero);
    RUN(test_duration_refuses_garbage_negative_and_overflow);
    RUN(test_size_accepts_units);
    RUN(test_size_refuses_garbage_negative_and_overflow);
    RUN(test_hostport_ipv4_ipv6_and_names);
    RUN(test_hostport_refuses_bad_forms);
    RUN(test_set_bad_duration_message_names_key_and_forms);
    RUN(test_set_string_too_long_is_an_error_not_truncation);
    RUN(test_set_unknown_key_and_bad_upstream_refused);
    RUN(test_file_comments_quotes_and_whitespace);
    RUN(test_file_bad_value_names_file_and_line);
    RUN(test_file_unknown_key_names_line);
    RUN(test_file_syntax_errors_name_line);
    RUN(test_file_missing_is_an_error_naming_it);
    RUN(test_flags_both_forms);
    RUN(test_flags_override_file_and_config_read_first_wherever_it_stands);
    RUN(test_flags_unknown_missing_value_and_positional_refused);
    RUN(test_flags_bad_value_names_flag);
    RUN(test_flags_config_error_propagates_with_line);
    RUN(test_usage_lists_every_key_flag_and_default);
    RUN(test_limits_and_queue_settings_from_file_and_flags);
    RUN(test_limit_specs_refused_with_the_key_named);
    rmdir(tmpdir);
    return check_summary();
}
