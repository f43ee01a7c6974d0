/* test_secrets.c — the secrets file and the admin commands that edit it: round trips through
 * save and load, mode 0600, refusal of unsafe permissions, errors that never show a key,
 * user name rules, random keys, per-user limit lines, and `irisgate user` (add, list, remove,
 * set) / `irisgate upstream` end to end (stdout and stdin redirected to files). */
#include "check.h"
#include "irisgate/cli_admin.h"
#include "irisgate/secrets.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[1024];

static void tmp_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, mode_t mode) {
    unlink(path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
}

static size_t read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf[0] = '\0';
        return 0;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static int is_lower_hex(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static void test_secrets_round_trip_add_remove_list(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "rt.secrets");
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    const char *ka = NULL, *kb = NULL;
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", &ka), IG_OK);
    CHECK_EQ_INT(ig_secrets_add_user(&s, "bob@example.com", &kb), IG_OK);
    CHECK_EQ_INT(ig_secrets_set_upstream(&s, "vendor_user", "VENDOR-key-123"), IG_OK);
    char keya[128], keyb[128];
    snprintf(keya, sizeof(keya), "%s", ka ? ka : "");
    snprintf(keyb, sizeof(keyb), "%s", kb ? kb : "");
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    ig_secrets_free(&s);

    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(s.nusers, 2);
    CHECK_EQ_STR(ig_secrets_user_key(&s, "alice"), keya);
    CHECK_EQ_STR(ig_secrets_user_key(&s, "bob@example.com"), keyb);
    CHECK(ig_secrets_user_key(&s, "carol") == NULL);
    CHECK_EQ_STR(s.upstream_username, "vendor_user");
    CHECK_EQ_STR(s.upstream_key, "VENDOR-key-123");

    CHECK_EQ_INT(ig_secrets_remove_user(&s, "bob@example.com"), IG_OK);
    CHECK_EQ_INT(ig_secrets_remove_user(&s, "bob@example.com"), IG_ENOENT);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    ig_secrets_free(&s);
    ig_secrets_free(&s); /* freeing twice is harmless */

    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(s.nusers, 1);
    if (s.nusers == 1) CHECK_EQ_STR(s.users[0].name, "alice");
    CHECK_EQ_STR(ig_secrets_user_key(&s, "alice"), keya);
    CHECK(ig_secrets_user_key(&s, "bob@example.com") == NULL);
    CHECK_EQ_STR(s.upstream_username, "vendor_user");
    ig_secrets_free(&s);
    unlink(path);
}

static void test_secrets_keys_with_punctuation_survive(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "punct.secrets");
    const char *key = "#k!\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~9";
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(ig_secrets_set_upstream(&s, "me@corp.example", key), IG_OK);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    ig_secrets_free(&s);
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(s.upstream_username, "me@corp.example");
    CHECK_EQ_STR(s.upstream_key, key);
    ig_secrets_free(&s);
    unlink(path);
}

static void test_secrets_hand_written_file_with_comments_loads(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "hand.secrets");
    write_file(path,
               "# vendor\n"
               "upstream  vend   k1\r\n"
               "\n"
               "   # users\n"
               "user\talice\tka\n"
               "admin_token tok\n",
               0600);
    ig_secrets_t s;
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_STR(s.upstream_username, "vend");
    CHECK_EQ_STR(s.upstream_key, "k1");
    CHECK_EQ_STR(ig_secrets_user_key(&s, "alice"), "ka");
    CHECK_EQ_STR(s.admin_token, "tok");
    ig_secrets_free(&s);
    unlink(path);
}

static void test_secrets_saved_file_is_mode_0600_whatever_the_umask(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "mode.secrets");
    write_file(path, "user old k\n", 0644); /* an existing, too-open file is replaced */
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", NULL), IG_OK);
    mode_t old = umask(0);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    umask(old);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    CHECK(S_ISREG(st.st_mode));
    ig_secrets_free(&s);
    unlink(path);
}

static void test_secrets_save_removes_stale_tmp(void) {
    char path[1100], tmp[1200], err[512] = "";
    tmp_path(path, sizeof(path), "stale.secrets");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    write_file(tmp, "half-written junk", 0644);
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", NULL), IG_OK);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    CHECK(access(tmp, F_OK) != 0);
    ig_secrets_free(&s);
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(s.nusers, 1);
    ig_secrets_free(&s);
    unlink(path);
}

static void test_secrets_load_refuses_group_or_other_bits(void) {
    const mode_t modes[] = {0644, 0640, 0604, 0660, 0601};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char path[1100], err[1024] = "";
        tmp_path(path, sizeof(path), "open.secrets");
        write_file(path, "user alice SuperSecretKey42\nupstream v VendorSecret99\n", modes[i]);
        ig_secrets_t s;
        int rc = ig_secrets_load(&s, path, err, sizeof(err));
        CHECK_EQ_INT(rc, IG_EPERM);
        CHECK(s.nusers == 0 && s.users == NULL && s.upstream_key == NULL);
        char fix[1200];
        snprintf(fix, sizeof(fix), "chmod 600 %s", path);
        CHECK(strstr(err, fix) != NULL);
        CHECK(strstr(err, "SuperSecretKey42") == NULL);
        CHECK(strstr(err, "VendorSecret99") == NULL);
        ig_secrets_free(&s);
        unlink(path);
    }
}

static void test_secrets_load_refuses_a_directory(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "dir.secrets");
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    ig_secrets_t s;
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_EPERM);
    CHECK(strstr(err, "not a regular file") != NULL);
    ig_secrets_free(&s);
    rmdir(path);
}

static void test_secrets_missing_file_is_enoent_and_empty(void) {
    char path[1100], err[512] = "";
    tmp_path(path, sizeof(path), "absent.secrets");
    ig_secrets_t s;
    memset(&s, 0xff, sizeof(s)); /* load must zero it */
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_ENOENT);
    CHECK(s.users == NULL && s.nusers == 0 && s.upstream_username == NULL &&
          s.upstream_key == NULL && s.admin_token == NULL);
    ig_secrets_free(&s);
}

/* Each bad file has its error on line 3 and a secret that must not be quoted. */
static void test_secrets_parse_errors_name_line_never_the_key(void) {
    const char *texts[] = {
        "# c\nuser alice ka\nuser bob LeakyKey77 extra\n",
        "# c\nuser alice ka\nLeakyKey77\n",
        "# c\nuser alice ka\nuser alice LeakyKey77\n",
        "# c\nuser alice ka\nuser b/ad LeakyKey77\n",
        "# c\nupstream u ka\nupstream v LeakyKey77\n",
        "# c\nuser alice ka\nuser bob LeakyKey77\xc3\xa9\n",
        "# c\nuser alice ka\nadmin_token LeakyKey77 more\n",
        "# c\nuser alice ka\nuser LeakyKey77\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char path[1100], err[1024] = "", prefix[1200];
        tmp_path(path, sizeof(path), "bad.secrets");
        write_file(path, texts[i], 0600);
        ig_secrets_t s;
        CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_EINVAL);
        snprintf(prefix, sizeof(prefix), "%s:3: ", path);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        CHECK(strstr(err, "LeakyKey77") == NULL);
        CHECK(strstr(err, " ka") == NULL);
        CHECK(s.nusers == 0 && s.users == NULL && s.upstream_key == NULL);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, "LeakyKey77"))
            fprintf(stderr, "  case %zu: %s\n", i, err);
        ig_secrets_free(&s);
        unlink(path);
    }
}

static void test_secrets_duplicate_and_bad_names_refused(void) {
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", NULL), IG_OK);
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", NULL), IG_EINVAL);
    char n64[65], n65[66];
    memset(n64, 'x', 64);
    n64[64] = '\0';
    memset(n65, 'x', 65);
    n65[65] = '\0';
    CHECK_EQ_INT(ig_secrets_add_user(&s, n64, NULL), IG_OK);
    CHECK_EQ_INT(ig_secrets_add_user(&s, "A.b@c-d_E9", NULL), IG_OK);
    const char *bad[] = {"", n65, "a b", "a/b", "a:b", "caf\xc3\xa9", "a\tb", "a\nb", "a#b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(ig_secrets_add_user(&s, bad[i], NULL), IG_EINVAL);
    CHECK_EQ_INT(s.nusers, 3);
    CHECK_EQ_INT(ig_secrets_set_upstream(&s, "u", "has space"), IG_EINVAL);
    CHECK_EQ_INT(ig_secrets_set_upstream(&s, "u", ""), IG_EINVAL);
    CHECK_EQ_INT(ig_secrets_set_upstream(&s, "", "k"), IG_EINVAL);
    CHECK(s.upstream_username == NULL);
    ig_secrets_free(&s);
}

static void test_random_keys_differ_and_have_right_length(void) {
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    const char *k1 = NULL, *k2 = NULL;
    CHECK_EQ_INT(ig_secrets_add_user(&s, "one", &k1), IG_OK);
    CHECK_EQ_INT(ig_secrets_add_user(&s, "two", &k2), IG_OK);
    CHECK(k1 && k2);
    if (k1 && k2) {
        CHECK(is_lower_hex(k1, 40));
        CHECK(is_lower_hex(k2, 40));
        CHECK(strcmp(k1, k2) != 0);
    }
    ig_secrets_free(&s);

    char a[200], b[200];
    memset(a, 'Z', sizeof(a));
    memset(b, 'Z', sizeof(b));
    CHECK_EQ_INT(ig_random_hex(a, 16), IG_OK);
    CHECK_EQ_INT(ig_random_hex(b, 16), IG_OK);
    CHECK(is_lower_hex(a, 32));
    CHECK_EQ_INT(a[33], 'Z'); /* nothing written past the NUL */
    CHECK(strcmp(a, b) != 0);
    CHECK_EQ_INT(ig_random_hex(a, 90), IG_OK); /* more than one internal chunk */
    CHECK(is_lower_hex(a, 180));
    CHECK_EQ_INT(ig_random_hex(a, 0), IG_OK);
    CHECK_EQ_STR(a, "");
}

static ig_limit_spec_t spec(const char *text) {
    ig_limit_spec_t out;
    char err[256];
    CHECK_EQ_INT(ig_limit_spec_parse(text, "default", 0, &out, err, sizeof(err)), IG_OK);
    return out;
}

static void test_secrets_limit_lines_round_trip(void) {
    char path[1100], err[512] = "", text[4096], want[1024];
    tmp_path(path, sizeof(path), "limits.secrets");
    ig_secrets_t s;
    memset(&s, 0, sizeof(s));
    const char *ka = NULL, *kb = NULL;
    CHECK_EQ_INT(ig_secrets_add_user(&s, "alice", &ka), IG_OK);
    CHECK_EQ_INT(ig_secrets_add_user(&s, "bob", &kb), IG_OK);
    char keya[64], keyb[64];
    snprintf(keya, sizeof(keya), "%s", ka ? ka : "");
    snprintf(keyb, sizeof(keyb), "%s", kb ? kb : "");
    ig_limit_spec_t inv = spec("month=1000,minute=5"), acct = spec("hour=10"),
                    enr = spec("month=0");
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "alice", IG_EP_INVESTIGATE, &inv), IG_OK);
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "alice", IG_EP_ACCOUNT, &acct), IG_OK);
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "bob", IG_EP_ENRICH, &enr), IG_OK);
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "carol", IG_EP_ENRICH, &enr), IG_ENOENT);
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "bob", IG_EP_UNKNOWN, &enr), IG_EINVAL);
    ig_limit_spec_t abs_ = {.v = {.absolute = 5}, .set = IG_LIMIT_ABSOLUTE};
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "bob", IG_EP_ENRICH, &abs_), IG_EINVAL);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    ig_secrets_free(&s);

    read_file(path, text, sizeof(text));
    snprintf(want, sizeof(want),
             "user alice %s\nuser bob %s\n"
             "limit alice investigate minute=5,month=1000\n"
             "limit alice account hour=10\n"
             "limit bob enrich month=0\n",
             keya, keyb);
    CHECK(strstr(text, want) != NULL);
    if (!strstr(text, want)) fprintf(stderr, "  file:\n%s", text);

    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    const ig_limit_spec_t *la = ig_secrets_user_limits(&s, "alice");
    CHECK(la != NULL);
    if (la) {
        CHECK_EQ_INT(la[IG_EP_INVESTIGATE].set, IG_LIMIT_MINUTE | IG_LIMIT_MONTH);
        CHECK_EQ_INT(la[IG_EP_INVESTIGATE].v.minute, 5);
        CHECK_EQ_INT(la[IG_EP_INVESTIGATE].v.month, 1000);
        CHECK_EQ_INT(la[IG_EP_ENRICH].set, 0);
        CHECK_EQ_INT(la[IG_EP_ACCOUNT].set, IG_LIMIT_HOUR);
        CHECK_EQ_INT(la[IG_EP_ACCOUNT].v.hour, 10);
    }
    const ig_limit_spec_t *lb = ig_secrets_user_limits(&s, "bob");
    CHECK(lb && lb[IG_EP_ENRICH].set == IG_LIMIT_MONTH && lb[IG_EP_ENRICH].v.month == 0);
    CHECK(ig_secrets_user_limits(&s, "carol") == NULL);
    CHECK_EQ_STR(ig_secrets_user_key(&s, "alice"), keya);

    /* Clearing one, removing a user: their lines go. */
    CHECK_EQ_INT(ig_secrets_set_limit(&s, "alice", IG_EP_ACCOUNT, NULL), IG_OK);
    CHECK_EQ_INT(ig_secrets_remove_user(&s, "bob"), IG_OK);
    CHECK_EQ_INT(ig_secrets_save(&s, path, err, sizeof(err)), IG_OK);
    ig_secrets_free(&s);
    read_file(path, text, sizeof(text));
    CHECK(strstr(text, "limit alice investigate minute=5,month=1000\n") != NULL);
    CHECK(strstr(text, "limit alice account") == NULL);
    CHECK(strstr(text, "bob") == NULL);
    unlink(path);
}

static void test_secrets_hand_written_limit_lines(void) {
    char path[1100], err[1024] = "";
    tmp_path(path, sizeof(path), "hand-limits.secrets");
    write_file(path,
               "user alice ka\n"
               "limit\talice  enrich   hour=7,minute=1\n"
               "limit alice investigate default\n",
               0600);
    ig_secrets_t s;
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_OK);
    const ig_limit_spec_t *l = ig_secrets_user_limits(&s, "alice");
    CHECK(l && l[IG_EP_ENRICH].set == (IG_LIMIT_HOUR | IG_LIMIT_MINUTE));
    CHECK(l && l[IG_EP_ENRICH].v.hour == 7 && l[IG_EP_ENRICH].v.minute == 1);
    CHECK(l && l[IG_EP_INVESTIGATE].set == 0);
    ig_secrets_free(&s);

    const char *bad[] = {
        "# c\nuser alice SecretKey9\nlimit bob enrich minute=1\n",     /* unknown user */
        "# c\nuser alice SecretKey9\nlimit alice iris minute=1\n",     /* bad product */
        "# c\nuser alice SecretKey9\nlimit alice enrich absolute=1\n", /* no absolute */
        "# c\nuser alice SecretKey9\nlimit alice enrich SecretKey9\n", /* not a spec */
        "# c\nuser alice SecretKey9\nlimit alice enrich\n",            /* arity */
        "# c\nlimit alice enrich minute=1\nuser alice SecretKey9\n",   /* before the user */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char prefix[1200];
        write_file(path, bad[i], 0600);
        CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_EINVAL);
        snprintf(prefix, sizeof(prefix), "%s:%d: ", path, i == 5 ? 2 : 3);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        CHECK(strstr(err, "SecretKey9") == NULL);
        if (strncmp(err, prefix, strlen(prefix)) != 0) fprintf(stderr, "  case %zu: %s\n", i, err);
        ig_secrets_free(&s);
    }
    write_file(path, "user alice k\nlimit alice enrich minute=1\nlimit alice enrich hour=2\n",
               0600);
    CHECK_EQ_INT(ig_secrets_load(&s, path, err, sizeof(err)), IG_EINVAL);
    CHECK(strstr(err, ":3: ") != NULL);
    unlink(path);
}

/* ---- the admin commands ------------------------------------------------------------------ */

/* Runs a command with stdout and stderr captured into out/errbuf, and stdin from in (or
 * /dev/null). Returns its exit status. */
static int run_cli(int (*fn)(int, char **), char **argv, int argc, const char *in, char *out,
                   size_t outcap, char *errbuf, size_t errcap) {
    char opath[1100], epath[1100], ipath[1100];
    tmp_path(opath, sizeof(opath), "cli.out");
    tmp_path(epath, sizeof(epath), "cli.err");
    tmp_path(ipath, sizeof(ipath), "cli.in");
    write_file(ipath, in ? in : "", 0600);
    fflush(stdout);
    fflush(stderr);
    int save_out = dup(1), save_err = dup(2), save_in = dup(0);
    int ofd = open(opath, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    int efd = open(epath, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    int ifd = open(ipath, O_RDONLY);
    dup2(ofd, 1);
    dup2(efd, 2);
    dup2(ifd, 0);
    close(ofd);
    close(efd);
    close(ifd);
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, 1);
    dup2(save_err, 2);
    dup2(save_in, 0);
    close(save_out);
    close(save_err);
    close(save_in);
    read_file(opath, out, outcap);
    read_file(epath, errbuf, errcap);
    unlink(opath);
    unlink(epath);
    unlink(ipath);
    return rc;
}

static void test_cli_user_add_list_remove(void) {
    char path[1100], out[4096], err[4096];
    tmp_path(path, sizeof(path), "cli.secrets");
    unlink(path);
    char *add[] = {"user", "add", "alice", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, add, 5, NULL, out, sizeof(out), err, sizeof(err)), 0);
    /* Exactly two lines: api_username=alice, api_key=<40 hex>. */
    char *nl1 = strchr(out, '\n');
    CHECK(strncmp(out, "api_username=alice\napi_key=", 27) == 0);
    char key[128] = "";
    if (nl1 && strncmp(nl1 + 1, "api_key=", 8) == 0) {
        snprintf(key, sizeof(key), "%s", nl1 + 9);
        char *nl2 = strchr(key, '\n');
        CHECK(nl2 != NULL && nl2[1] == '\0');
        if (nl2) *nl2 = '\0';
    }
    CHECK(is_lower_hex(key, 40));
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);

    char sec[1200], add2[4096];
    snprintf(sec, sizeof(sec), "--secrets=%s", path);
    char *addb[] = {"user", "add", sec, "bob"};
    CHECK_EQ_INT(run_cli(ig_cli_user, addb, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    snprintf(add2, sizeof(add2), "%s", out);

    char *dup_[] = {"user", "add", "alice", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, dup_, 5, NULL, out, sizeof(out), err, sizeof(err)), 1);
    CHECK_EQ_STR(out, "");
    CHECK(strstr(err, "already exists") != NULL);

    char *badname[] = {"user", "add", "no/slash", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, badname, 5, NULL, out, sizeof(out), err, sizeof(err)), 1);
    CHECK(strstr(err, "bad user name") != NULL);

    char *list[] = {"user", "list", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, list, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "alice\nbob\n");

    char *rm[] = {"user", "remove", "alice", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, rm, 5, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK(strstr(out, key) == NULL);
    CHECK_EQ_INT(run_cli(ig_cli_user, rm, 5, NULL, out, sizeof(out), err, sizeof(err)), 1);
    CHECK(strstr(err, "alice") != NULL);
    CHECK_EQ_INT(run_cli(ig_cli_user, list, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "bob\n");

    /* The file holds bob's key as printed by `user add`. */
    ig_secrets_t s;
    char e[512];
    CHECK_EQ_INT(ig_secrets_load(&s, path, e, sizeof(e)), IG_OK);
    const char *bk = ig_secrets_user_key(&s, "bob");
    char want[256];
    snprintf(want, sizeof(want), "api_username=bob\napi_key=%s\n", bk ? bk : "?");
    CHECK_EQ_STR(add2, want);
    ig_secrets_free(&s);
    unlink(path);
}

static void test_cli_user_refuses_unsafe_file_and_bad_usage(void) {
    char path[1100], out[4096], err[4096];
    tmp_path(path, sizeof(path), "cli-open.secrets");
    write_file(path, "user alice SecretSecret1\n", 0644);
    char *list[] = {"user", "list", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, list, 4, NULL, out, sizeof(out), err, sizeof(err)), 1);
    CHECK_EQ_STR(out, "");
    CHECK(strstr(err, "chmod 600") != NULL);
    CHECK(strstr(err, "SecretSecret1") == NULL);
    unlink(path);

    char *none[] = {"user"};
    CHECK(run_cli(ig_cli_user, none, 1, NULL, out, sizeof(out), err, sizeof(err)) != 0);
    CHECK(strstr(err, "usage") != NULL);
    char *bogus[] = {"user", "frobnicate"};
    CHECK(run_cli(ig_cli_user, bogus, 2, NULL, out, sizeof(out), err, sizeof(err)) != 0);
    char *flag[] = {"user", "list", "--colour"};
    CHECK(run_cli(ig_cli_user, flag, 3, NULL, out, sizeof(out), err, sizeof(err)) != 0);
    char *help[] = {"user", "--help"};
    CHECK_EQ_INT(run_cli(ig_cli_user, help, 2, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK(strstr(out, "user add NAME") != NULL);
}

static void test_cli_user_set_and_list_show_limits_never_keys(void) {
    char path[1100], out[4096], err[4096];
    tmp_path(path, sizeof(path), "cli-limits.secrets");
    unlink(path);
    char *add_a[] = {"user", "add", "alice", "--secrets", path};
    char *add_b[] = {"user", "add", "bob", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, add_a, 5, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_INT(run_cli(ig_cli_user, add_b, 5, NULL, out, sizeof(out), err, sizeof(err)), 0);

    char *set[] = {
        "user",      "set", "alice", "--investigate", "month=1000,minute=5", "--account=hour=10",
        "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, set, 8, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "alice --investigate minute=5,month=1000 --account hour=10\n");
    char *list[] = {"user", "list", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, list, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "alice --investigate minute=5,month=1000 --account hour=10\nbob\n");

    /* "default" drops one override; the others stay. */
    char *reset[] = {"user", "set", "alice", "--investigate", "default", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, reset, 7, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "alice --account hour=10\n");

    /* Refusals leave the file alone. */
    char before[4096], after[4096];
    read_file(path, before, sizeof(before));
    char *nobody[] = {"user", "set", "carol", "--enrich", "minute=1", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, nobody, 7, NULL, out, sizeof(out), err, sizeof(err)), 1);
    CHECK(strstr(err, "no user 'carol'") != NULL);
    char *noflag[] = {"user", "set", "alice", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, noflag, 5, NULL, out, sizeof(out), err, sizeof(err)), 2);
    char *absol[] = {"user", "set", "alice", "--enrich", "absolute=1", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, absol, 7, NULL, out, sizeof(out), err, sizeof(err)), 2);
    CHECK(strstr(err, "--enrich") != NULL);
    char *twice[] = {"user",     "set",      "alice",     "--enrich", "minute=1",
                     "--enrich", "minute=2", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, twice, 9, NULL, out, sizeof(out), err, sizeof(err)), 2);
    char *onlist[] = {"user", "list", "--enrich", "minute=1", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_user, onlist, 6, NULL, out, sizeof(out), err, sizeof(err)), 2);
    read_file(path, after, sizeof(after));
    CHECK_EQ_STR(after, before);

    /* Keys never appear in list or set output. */
    ig_secrets_t s;
    char e[512];
    CHECK_EQ_INT(ig_secrets_load(&s, path, e, sizeof(e)), IG_OK);
    const char *ka = ig_secrets_user_key(&s, "alice");
    CHECK_EQ_INT(run_cli(ig_cli_user, list, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK(ka && strstr(out, ka) == NULL);
    ig_secrets_free(&s);
    char *help[] = {"user", "--help"};
    CHECK_EQ_INT(run_cli(ig_cli_user, help, 2, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK(strstr(out, "user set NAME") != NULL);
    unlink(path);
}

static void test_cli_secrets_path_from_config(void) {
    char path[1100], conf[1100], text[1300], out[4096], err[4096];
    tmp_path(path, sizeof(path), "from-conf.secrets");
    tmp_path(conf, sizeof(conf), "admin.conf");
    unlink(path);
    snprintf(text, sizeof(text), "secrets = \"%s\"  # where keys live\n", path);
    write_file(conf, text, 0644);
    char *add[] = {"user", "add", "carol", "--config", conf};
    CHECK_EQ_INT(run_cli(ig_cli_user, add, 5, NULL, out, sizeof(out), err, sizeof(err)), 0);
    ig_secrets_t s;
    char e[512];
    CHECK_EQ_INT(ig_secrets_load(&s, path, e, sizeof(e)), IG_OK);
    CHECK(ig_secrets_user_key(&s, "carol") != NULL);
    ig_secrets_free(&s);
    unlink(path);
    unlink(conf);
}

static void test_cli_upstream_set_reads_stdin_and_never_prints_key(void) {
    char path[1100], out[4096], err[4096], want[1300];
    tmp_path(path, sizeof(path), "up.secrets");
    unlink(path);
    char *set[] = {"upstream", "set", "vendor_bob", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_upstream, set, 5, "VendorKey-XYZ-987\r\n", out, sizeof(out), err,
                         sizeof(err)),
                 0);
    snprintf(want, sizeof(want), "upstream credential for vendor_bob saved to %s\n", path);
    CHECK_EQ_STR(out, want);
    CHECK(strstr(err, "VendorKey") == NULL);
    ig_secrets_t s;
    char e[512];
    CHECK_EQ_INT(ig_secrets_load(&s, path, e, sizeof(e)), IG_OK);
    CHECK_EQ_STR(s.upstream_username, "vendor_bob");
    CHECK_EQ_STR(s.upstream_key, "VendorKey-XYZ-987");
    ig_secrets_free(&s);

    char *show[] = {"upstream", "show", "--secrets", path};
    CHECK_EQ_INT(run_cli(ig_cli_upstream, show, 4, NULL, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, "vendor_bob\n");

    /* An empty line is refused and the stored credential stays. */
    CHECK_EQ_INT(run_cli(ig_cli_upstream, set, 5, "\n", out, sizeof(out), err, sizeof(err)), 1);
    CHECK(strstr(err, "no key") != NULL);
    char *sp[] = {"upstream", "set", "other", "--secrets", path};
    CHECK_EQ_INT(
        run_cli(ig_cli_upstream, sp, 5, "has a space\n", out, sizeof(out), err, sizeof(err)), 1);
    CHECK(strstr(err, "has a space") == NULL);
    CHECK_EQ_INT(ig_secrets_load(&s, path, e, sizeof(e)), IG_OK);
    CHECK_EQ_STR(s.upstream_username, "vendor_bob");
    CHECK_EQ_STR(s.upstream_key, "VendorKey-XYZ-987");
    ig_secrets_free(&s);
    unlink(path);

    /* Without a file: show says none is set. */
    CHECK(run_cli(ig_cli_upstream, show, 4, NULL, out, sizeof(out), err, sizeof(err)) != 0);
    CHECK_EQ_STR(out, "");
    CHECK(strstr(err, "no upstream credential") != NULL);
    CHECK(access(path, F_OK) != 0); /* show never creates the file */
}

int main(void) {
    const char *base = getenv("IG_TEST_TMP");
    snprintf(tmpdir, sizeof(tmpdir), "%s/secrets-%d", base && *base ? base : "/tmp", (int)getpid());
    if (base && *base) mkdir(base, 0700);
    if (mkdir(tmpdir, 0700) != 0) {
        perror(tmpdir);
        return 1;
    }
    RUN(test_secrets_round_trip_add_remove_list);
    RUN(test_secrets_keys_with_punctuation_survive);
    RUN(test_secrets_hand_written_file_with_comments_loads);
    RUN(test_secrets_saved_file_is_mode_0600_whatever_the_umask);
    RUN(test_secrets_save_removes_stale_tmp);
    RUN(test_secrets_load_refuses_group_or_other_bits);
    RUN(test_secrets_load_refuses_a_directory);
    RUN(test_secrets_missing_file_is_enoent_and_empty);
    RUN(test_secrets_parse_errors_name_line_never_the_key);
    RUN(test_secrets_duplicate_and_bad_names_refused);
    RUN(test_random_keys_differ_and_have_right_length);
    RUN(test_secrets_limit_lines_round_trip);
    RUN(test_secrets_hand_written_limit_lines);
    RUN(test_cli_user_add_list_remove);
    RUN(test_cli_user_refuses_unsafe_file_and_bad_usage);
    RUN(test_cli_user_set_and_list_show_limits_never_keys);
    RUN(test_cli_secrets_path_from_config);
    RUN(test_cli_upstream_set_reads_stdin_and_never_prints_key);
    if (rmdir(tmpdir) != 0) perror(tmpdir);
    return check_summary();
}
