/* secrets.c — the secrets file: proxy users and their keys, the vendor credential, the admin
 * token, and each user's limit overrides (format in include/irisgate/secrets.h).
 *
 * Owns: reading the file (refusing anything but a regular file of mode 0600 or stricter),
 * writing it atomically (PATH.tmp created 0600 with O_EXCL, fsync, rename, fsync of the
 * directory), and the in-memory ig_secrets_t.
 * Never: prints a key, a token or the content of a line (error messages give the line number
 * only), leaves key bytes in freed memory (everything is cleansed before free), or writes a
 * file that load would refuse.
 * Life cycle: ig_secrets_load fills a zeroed ig_secrets_t (empty on every error);
 * ig_secrets_add_user/remove_user/set_upstream change it; ig_secrets_free cleanses and frees
 * it and leaves it empty, so it may be freed twice.
 */
#include "irisgate/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (16 * 1024 * 1024)
#define MAX_TOKEN_BYTES 1024 /* a username, key or token */
#define MAX_NAME_BYTES 64    /* a proxy user's name */
#define USER_KEY_BYTES 20    /* random bytes of a new user's key: 40 hex characters */
#define MAX_SPEC_BYTES 128   /* a formatted limit spec */
#define USER_LIMIT_KEYS (IG_LIMIT_MINUTE | IG_LIMIT_HOUR | IG_LIMIT_MONTH)

/* Frees a string after overwriting it, so keys do not linger in the heap. */
static void wipe_free(char *p) {
    if (!p) return;
    OPENSSL_cleanse(p, strlen(p));
    free(p);
}

/* Printable ASCII other than space: what a key, token or vendor username may contain. */
static int token_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f) return 0;
    return n > 0 && n <= MAX_TOKEN_BYTES;
}

static int name_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '@' || ch == '-'))
            return 0;
    }
    return n >= 1 && n <= MAX_NAME_BYTES;
}

void ig_secrets_free(ig_secrets_t *s) {
    if (!s) return;
    wipe_free(s->upstream_username);
    wipe_free(s->upstream_key);
    wipe_free(s->admin_token);
    for (size_t i = 0; i < s->nusers; i++) {
        wipe_free(s->users[i].name);
        wipe_free(s->users[i].key);
    }
    free(s->users);
    memset(s, 0, sizeof(*s));
}

static ig_secret_user_t *find_user(const ig_secrets_t *s, const char *name) {
    for (size_t i = 0; i < s->nusers; i++)
        if (strcmp(s->users[i].name, name) == 0) return &s->users[i];
    return NULL;
}

const char *ig_secrets_user_key(void *s, const char *name) {
    if (!s || !name) return NULL;
    ig_secret_user_t *u = find_user(s, name);
    return u ? u->key : NULL;
}

/* Appends a user, taking ownership of name and key (freed on failure too). */
static int push_user(ig_secrets_t *s, char *name, char *key) {
    ig_secret_user_t *u = realloc(s->users, (s->nusers + 1) * sizeof(*u));
    if (!u) {
        wipe_free(name);
        wipe_free(key);
        return IG_ENOMEM;
    }
    s->users = u;
    memset(&s->users[s->nusers], 0, sizeof(s->users[0]));
    s->users[s->nusers].name = name;
    s->users[s->nusers].key = key;
    s->nusers++;
    return IG_OK;
}

int ig_random_hex(char *out, size_t nbytes) {
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[64];
    size_t done = 0;
    while (done < nbytes) {
        size_t n = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
        if (RAND_bytes(buf, (int)n) != 1) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return IG_EIO;
        }
        for (size_t i = 0; i < n; i++) {
            out[2 * (done + i)] = hex[buf[i] >> 4];
            out[2 * (done + i) + 1] = hex[buf[i] & 15];
        }
        done += n;
    }
    out[2 * nbytes] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return IG_OK;
}

int ig_secrets_add_user(ig_secrets_t *s, const char *name, const char **key_out) {
    if (!name || !name_ok(name) || find_user(s, name)) return IG_EINVAL;
    char *key = malloc(2 * USER_KEY_BYTES + 1);
    char *n = strdup(name);
    if (!key || !n) {
        free(key);
        free(n);
        return IG_ENOMEM;
    }
    int rc = ig_random_hex(key, USER_KEY_BYTES);
    if (rc != IG_OK) {
        free(key);
        free(n);
        return rc;
    }
    if ((rc = push_user(s, n, key)) != IG_OK) return rc;
    if (key_out) *key_out = key;
    return IG_OK;
}

int ig_secrets_remove_user(ig_secrets_t *s, const char *name) {
    for (size_t i = 0; i < s->nusers; i++) {
        if (strcmp(s->users[i].name, name) != 0) continue;
        wipe_free(s->users[i].name);
        wipe_free(s->users[i].key);
        memmove(&s->users[i], &s->users[i + 1], (s->nusers - i - 1) * sizeof(s->users[0]));
        s->nusers--;
        return IG_OK;
    }
    return IG_ENOENT;
}

int ig_secrets_set_upstream(ig_secrets_t *s, const char *username, const char *key) {
    if (!username || !key || !token_ok(username) || !token_ok(key)) return IG_EINVAL;
    char *u = strdup(username), *k = strdup(key);
    if (!u || !k) {
        free(u);
        wipe_free(k);
        return IG_ENOMEM;
    }
    wipe_free(s->upstream_username);
    wipe_free(s->upstream_key);
    s->upstream_username = u;
    s->upstream_key = k;
    return IG_OK;
}

int ig_secrets_set_limit(ig_secrets_t *s, const char *name, ig_endpoint_t product,
                         const ig_limit_spec_t *spec) {
    if (!ig_limit_product_name(product)) return IG_EINVAL;
    if (spec && (spec->set & ~USER_LIMIT_KEYS)) return IG_EINVAL;
    ig_secret_user_t *u = name ? find_user(s, name) : NULL;
    if (!u) return IG_ENOENT;
    if (spec)
        u->limits[product] = *spec;
    else
        memset(&u->limits[product], 0, sizeof(u->limits[product]));
    return IG_OK;
}

const ig_limit_spec_t *ig_secrets_user_limits(const ig_secrets_t *s, const char *name) {
    ig_secret_user_t *u = name ? find_user(s, name) : NULL;
    return u ? u->limits : NULL;
}

/* Reads all of fd into a NUL-terminated heap buffer. */
static int read_all(int fd, char **out, size_t *outlen) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return IG_ENOMEM;
    for (;;) {
        if (len + 1 == cap) {
            if (cap >= MAX_FILE_BYTES) {
                OPENSSL_cleanse(buf, len);
                free(buf);
                return IG_ETOOBIG;
            }
            /* realloc would leave a copy of the keys behind; move them ourselves. */
            char *nb = malloc(cap * 2);
            if (!nb) {
                OPENSSL_cleanse(buf, len);
                free(buf);
                return IG_ENOMEM;
            }
            memcpy(nb, buf, len);
            OPENSSL_cleanse(buf, len);
            free(buf);
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            OPENSSL_cleanse(buf, len);
            free(buf);
            return IG_EIO;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return IG_OK;
}

/* Splits line into at most max blank-separated tokens, in place; returns the count, or max+1
 * when there are more. */
static size_t tokenize(char *line, char **tok, size_t max) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) return n;
        if (n == max) return max + 1;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p) *p++ = '\0';
    }
}

/* Parses one line into s. why gets a reason that never quotes the line. */
static int parse_line(ig_secrets_t *s, char *line, size_t len, const char **why) {
    size_t lead = strspn(line, " \t");
    if (line[lead] == '\0' || line[lead] == '#') return IG_OK;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch != '\t' && (ch < 0x20 || ch >= 0x7f)) {
            *why = "contains a character that is not printable ASCII";
            return IG_EINVAL;
        }
    }
    char *tok[5];
    size_t n = tokenize(line, tok, 4);
    for (size_t i = 0; i < n && i < 4; i++) {
        if (strlen(tok[i]) > MAX_TOKEN_BYTES) {
            *why = "entry longer than 1024 characters";
            return IG_EINVAL;
        }
    }
    if (strcmp(tok[0], "user") == 0) {
        if (n != 3) {
            *why = "expected 'user NAME KEY'";
            return IG_EINVAL;
        }
        if (!name_ok(tok[1])) {
            *why = "bad user name (use 1-64 of A-Z a-z 0-9 _ . @ -)";
            return IG_EINVAL;
        }
        if (find_user(s, tok[1])) {
            *why = "duplicate user";
            return IG_EINVAL;
        }
        char *name = strdup(tok[1]), *key = strdup(tok[2]);
        if (!name || !key) {
            free(name);
            wipe_free(key);
            *why = "out of memory";
            return IG_ENOMEM;
        }
        return push_user(s, name, key);
    }
    if (strcmp(tok[0], "upstream") == 0) {
        if (n != 3) {
            *why = "expected 'upstream USERNAME KEY'";
            return IG_EINVAL;
        }
        if (s->upstream_username) {
            *why = "second upstream entry (only one vendor credential is allowed)";
            return IG_EINVAL;
        }
        int rc = ig_secrets_set_upstream(s, tok[1], tok[2]);
        if (rc != IG_OK) *why = "out of memory";
        return rc;
    }
    if (strcmp(tok[0], "admin_token") == 0) {
        if (n != 2) {
            *why = "expected 'admin_token TOKEN'";
            return IG_EINVAL;
        }
        if (s->admin_token) {
            *why = "second admin_token entry";
            return IG_EINVAL;
        }
        if (!(s->admin_token = strdup(tok[1]))) {
            *why = "out of memory";
            return IG_ENOMEM;
        }
        return IG_OK;
    }
    if (strcmp(tok[0], "limit") == 0) {
        if (n != 4) {
            *why = "expected 'limit NAME PRODUCT SPEC'";
            return IG_EINVAL;
        }
        ig_secret_user_t *u = find_user(s, tok[1]);
        if (!u) {
            *why = "limit for a user not named on an earlier 'user' line";
            return IG_EINVAL;
        }
        ig_endpoint_t ep = ig_limit_product(tok[2]);
        if (ep == IG_EP_UNKNOWN) {
            *why = "bad limit product (use investigate, enrich or account)";
            return IG_EINVAL;
        }
        if (u->limits[ep].set) {
            *why = "second limit line for the same user and product";
            return IG_EINVAL;
        }
        char spec_err[256];
        ig_limit_spec_t spec;
        if (ig_limit_spec_parse(tok[3], "default", 0, &spec, spec_err, sizeof(spec_err)) != IG_OK) {
            *why = "bad limit spec (use e.g. minute=5,hour=100,month=1000; keys minute, hour, "
                   "month)";
            return IG_EINVAL;
        }
        u->limits[ep] = spec;
        return IG_OK;
    }
    *why = "unknown entry (expected 'user', 'upstream', 'admin_token' or 'limit')";
    return IG_EINVAL;
}

int ig_secrets_load(ig_secrets_t *s, const char *path, char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    /* O_NONBLOCK so a FIFO in the secrets path is refused instead of hanging the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            snprintf(err, errlen, "%s: no such file", path);
            return IG_ENOENT;
        }
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return IG_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return IG_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; the secrets file must be a plain file",
                 path);
        close(fd);
        return IG_EPERM;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "%s: unsafe permissions %04o: the secrets file must not be accessible by group "
                 "or others (fix: chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return IG_EPERM;
    }
    char *buf;
    size_t len;
    int rc = read_all(fd, &buf, &len);
    close(fd);
    if (rc != IG_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == IG_ETOOBIG  ? "file too large"
                 : rc == IG_ENOMEM ? "out of memory"
                                   : "read error");
        return rc;
    }
    int lineno = 0;
    char *p = buf, *end = buf + len;
    while (p < end) {
        lineno++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = '\0';
        size_t n = (size_t)(eol - p);
        if (n > 0 && p[n - 1] == '\r') p[--n] = '\0';
        const char *why = "";
        rc = parse_line(s, p, n, &why);
        if (rc != IG_OK) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            break;
        }
        p = eol + 1;
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (rc != IG_OK) ig_secrets_free(s);
    return rc;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the rename durable: without it a crash can bring back the old file. */
static int fsync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ig_secrets_save(const ig_secrets_t *s, const char *path, char *err, size_t errlen) {
    /* Refuse what load would refuse, so a saved file always loads. */
    if ((s->upstream_username || s->upstream_key) &&
        !(s->upstream_username && s->upstream_key && token_ok(s->upstream_username) &&
          token_ok(s->upstream_key))) {
        snprintf(err, errlen,
                 "%s: not saved: the upstream credential is incomplete or has "
                 "characters other than printable ASCII",
                 path);
        return IG_EINVAL;
    }
    if (s->admin_token && !token_ok(s->admin_token)) {
        snprintf(err, errlen,
                 "%s: not saved: the admin token has characters other than "
                 "printable ASCII",
                 path);
        return IG_EINVAL;
    }
    for (size_t i = 0; i < s->nusers; i++) {
        if (!s->users[i].name || !name_ok(s->users[i].name) || !s->users[i].key ||
            !token_ok(s->users[i].key) || find_user(s, s->users[i].name) != &s->users[i]) {
            snprintf(err, errlen, "%s: not saved: user entry %zu is invalid or a duplicate", path,
                     i + 1);
            return IG_EINVAL;
        }
    }
    /* Limit lines, formatted first: they hold no key, so an ordinary buffer will do. */
    ig_buf_t limits = {0};
    for (size_t i = 0; i < s->nusers; i++) {
        for (int ep = 1; ep < IG_EP_COUNT; ep++) {
            const ig_limit_spec_t *spec = &s->users[i].limits[ep];
            char text_spec[MAX_SPEC_BYTES];
            if (!spec->set) continue;
            if ((spec->set & ~USER_LIMIT_KEYS) ||
                ig_limit_spec_format(spec, "default", text_spec, sizeof(text_spec)) != IG_OK) {
                ig_buf_free(&limits);
                snprintf(err, errlen, "%s: not saved: a limit of user entry %zu is invalid", path,
                         i + 1);
                return IG_EINVAL;
            }
            if (ig_buf_printf(&limits, "limit %s %s %s\n", s->users[i].name,
                              ig_limit_product_name((ig_endpoint_t)ep), text_spec) != IG_OK) {
                ig_buf_free(&limits);
                snprintf(err, errlen, "%s: not saved: out of memory", path);
                return IG_ENOMEM;
            }
        }
    }

    /* One exact-size allocation: a growing buffer would leave copies of keys in memory that
     * realloc freed without cleansing. */
    static const char header[] = "# irisgate secrets: keep this file mode 0600.\n"
                                 "# Managed by `irisgate user` and `irisgate upstream`.\n";
    size_t total = sizeof(header) - 1;
    if (s->upstream_username)
        total += strlen("upstream   \n") + strlen(s->upstream_username) + strlen(s->upstream_key);
    if (s->admin_token) total += strlen("admin_token  \n") + strlen(s->admin_token);
    for (size_t i = 0; i < s->nusers; i++)
        total += strlen("user   \n") + strlen(s->users[i].name) + strlen(s->users[i].key);
    total += limits.len;
    char *text = malloc(total + 1);
    if (!text) {
        ig_buf_free(&limits);
        snprintf(err, errlen, "%s: not saved: out of memory", path);
        return IG_ENOMEM;
    }
    size_t len = (size_t)snprintf(text, total + 1, "%s", header);
    if (s->upstream_username)
        len += (size_t)snprintf(text + len, total + 1 - len, "upstream %s %s\n",
                                s->upstream_username, s->upstream_key);
    if (s->admin_token)
        len += (size_t)snprintf(text + len, total + 1 - len, "admin_token %s\n", s->admin_token);
    for (size_t i = 0; i < s->nusers; i++)
        len += (size_t)snprintf(text + len, total + 1 - len, "user %s %s\n", s->users[i].name,
                                s->users[i].key);
    if (limits.len) {
        memcpy(text + len, limits.data, limits.len);
        len += limits.len;
        text[len] = '\0';
    }
    ig_buf_free(&limits);

    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        OPENSSL_cleanse(text, total);
        free(text);
        snprintf(err, errlen, "%s: path too long", path);
        return IG_EINVAL;
    }
    int rc = IG_EIO;
    const char *what = "";
    int e = 0;
    if (unlink(tmp) != 0 && errno != ENOENT) {
        e = errno;
        what = "cannot remove stale";
        goto fail;
    }
    int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        e = errno;
        what = "cannot create";
        goto fail;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        what = "cannot write";
        goto fail;
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        what = "cannot write";
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        what = "cannot rename into place";
        goto fail;
    }
    /* Some file systems cannot sync a directory (EINVAL); the rename is still done. */
    if (fsync_dir_of(path) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "saved %s, but cannot sync its directory: %s", path, strerror(errno));
        rc = IG_EIO;
        goto out;
    }
    rc = IG_OK;
    goto out;
fail:
    snprintf(err, errlen, "%s %s: %s", what, tmp, strerror(e));
out:
    OPENSSL_cleanse(text, total);
    free(text);
    return rc;
}
