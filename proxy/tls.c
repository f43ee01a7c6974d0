/* tls.c — OpenSSL behind the HTTP server's listener: the SSL_CTX built from a PEM chain and
 * key (TLS 1.2/1.3, ALPN http/1.1, session tickets and a server-side session cache), and one
 * SSL per connection whose input and output are memory BIOs.
 *
 * Never touches a socket, never blocks, never prompts (an encrypted key is an error, not a
 * passphrase question on the terminal). The socket side (proxy/http.c) feeds what it reads,
 * takes plaintext, queues answers and writes out whatever ciphertext is waiting; the
 * handshake is driven by the same reads, so a slow or hostile client costs only its own
 * connection. OpenSSL's thread-local error queue is cleared before every call whose result
 * is read, so one connection's failure never shows up as another's.
 * Life cycle: ctx outlives every conn made from it; conn is freed by its connection.
 */
#include "irisgate/tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a resumable session stays valid (tickets and the server-side cache). */
#define SESSION_TIMEOUT_S 3600
#define SESSION_CACHE_SIZE 20480
/* How much of a PEM file is read to see what it holds. */
#define PEM_HEAD_MAX (64 * 1024)

struct ig_tls_ctx {
    SSL_CTX *ssl;
};

struct ig_tls_conn {
    SSL *ssl;
    BIO *in, *out; /* owned by ssl */
    bool dead, plain_http;
};

/* The protocol we speak, in ALPN wire format. */
static const unsigned char ALPN_HTTP11[] = "\x08http/1.1";

/* Picks http/1.1 when offered; a client offering only others (h2) gets no ALPN at all and
 * may carry on with HTTP/1.1 or give up, rather than a fatal alert. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned char *sel = NULL;
    unsigned char sellen = 0;
    if (SSL_select_next_proto(&sel, &sellen, ALPN_HTTP11, sizeof(ALPN_HTTP11) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    *outlen = sellen;
    return SSL_TLSEXT_ERR_OK;
}

/* An encrypted key: refuse rather than ask for a passphrase on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* OpenSSL's error queue, emptied: the reasons in it (oldest first) and the newest in words. */
typedef struct {
    int reasons[16];
    int n;
    const char *text;
} errs_t;

static void take_errors(errs_t *e) {
    unsigned long code, last = 0;
    e->n = 0;
    while ((code = ERR_get_error()) != 0) {
        if (e->n < (int)(sizeof(e->reasons) / sizeof(e->reasons[0])))
            e->reasons[e->n++] = ERR_GET_REASON(code);
        last = code;
    }
    e->text = last ? ERR_reason_error_string(last) : NULL;
    if (!e->text) e->text = "unknown error";
}

static bool has_reason(const errs_t *e, int reason) {
    for (int i = 0; i < e->n; i++)
        if (e->reasons[i] == reason) return true;
    return false;
}

/* Reads the start of a PEM file into buf (NUL-terminated), with a message if it cannot. */
static int read_head(const char *what, const char *path, char *buf, size_t cap, char *err,
                     size_t errlen) {
    if (!path || !*path) {
        snprintf(err, errlen, "%s: no file given", what);
        return IG_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(errno));
        return IG_ENOENT;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < n; i++) /* a NUL would hide what follows from strstr */
        if (!buf[i]) buf[i] = ' ';
    return IG_OK;
}

/* What OpenSSL 3's decoders say about a file that is not PEM ("unsupported", "PEM lib") does
 * not tell a person what to fix, so the files' headers are looked at first. */
static int check_pem_files(const char *cert_path, const char *key_path, char *head, char *err,
                           size_t errlen) {
    int rc = read_head("tls_cert", cert_path, head, PEM_HEAD_MAX, err, errlen);
    if (rc != IG_OK) return rc;
    if (!strstr(head, "-----BEGIN CERTIFICATE-----") &&
        !strstr(head, "-----BEGIN TRUSTED CERTIFICATE-----")) {
        snprintf(err, errlen, "tls_cert %s: not a PEM certificate (no BEGIN CERTIFICATE)",
                 cert_path);
        return IG_EINVAL;
    }
    rc = read_head("tls_key", key_path, head, PEM_HEAD_MAX, err, errlen);
    if (rc != IG_OK) return rc;
    if (strstr(head, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
        strstr(head, "Proc-Type: 4,ENCRYPTED")) {
        snprintf(err, errlen,
                 "tls_key %s: the key is encrypted (a passphrase-protected key is not supported: "
                 "write it without one, mode 0600)",
                 key_path);
        return IG_EINVAL;
    }
    if (!strstr(head, "PRIVATE KEY-----")) {
        snprintf(err, errlen, "tls_key %s: not a PEM private key (no BEGIN PRIVATE KEY)", key_path);
        return IG_EINVAL;
    }
    return IG_OK;
}

int ig_tls_ctx_new(const char *cert_path, const char *key_path, ig_tls_ctx_t **out, char *err,
                   size_t errlen) {
    *out = NULL;
    char *head = malloc(PEM_HEAD_MAX);
    if (!head) return IG_ENOMEM;
    int rc = check_pem_files(cert_path, key_path, head, err, errlen);
    free(head);
    if (rc != IG_OK) return rc;
    ig_tls_ctx_t *t = calloc(1, sizeof(*t));
    if (!t) return IG_ENOMEM;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        errs_t e;
        take_errors(&e);
        snprintf(err, errlen, "TLS: cannot create a context: %s", e.text);
        free(t);
        return IG_ENOMEM;
    }
    t->ssl = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    /* Resumption: stateless tickets (keys made per process by OpenSSL) and, for clients
     * that resume by session id (TLS 1.2 without tickets), the server-side cache. */
    static const unsigned char sid_ctx[] = "irisgate";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, SESSION_CACHE_SIZE);
    SSL_CTX_set_timeout(ctx, SESSION_TIMEOUT_S);
    /* One TLS 1.3 ticket per full handshake is enough for a client to resume (the default,
     * two, costs a second ticket's encryption on every new connection). */
    SSL_CTX_set_num_tickets(ctx, 1);

    errs_t e;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        take_errors(&e);
        const char *why = e.text;
        if (has_reason(&e, PEM_R_NO_START_LINE))
            snprintf(err, errlen, "tls_cert %s: not a PEM certificate (no BEGIN CERTIFICATE)",
                     cert_path);
        else
            snprintf(err, errlen, "tls_cert %s: cannot load the certificate: %s", cert_path, why);
        ig_tls_ctx_free(t);
        return IG_EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        take_errors(&e);
        const char *why = e.text;
        if (has_reason(&e, PEM_R_NO_START_LINE))
            snprintf(err, errlen, "tls_key %s: not a PEM private key (no BEGIN PRIVATE KEY)",
                     key_path);
        else if (has_reason(&e, PEM_R_BAD_PASSWORD_READ) ||
                 has_reason(&e, PEM_R_PROBLEMS_GETTING_PASSWORD) ||
                 has_reason(&e, PEM_R_BAD_DECRYPT))
            snprintf(err, errlen,
                     "tls_key %s: the key is encrypted (a passphrase-protected key is not "
                     "supported: write it without one, mode 0600)",
                     key_path);
        else if (has_reason(&e, X509_R_KEY_VALUES_MISMATCH) ||
                 has_reason(&e, X509_R_KEY_TYPE_MISMATCH))
            snprintf(err, errlen, "tls_key %s: does not match the certificate in %s", key_path,
                     cert_path);
        else
            snprintf(err, errlen, "tls_key %s: cannot load the key: %s", key_path, why);
        ig_tls_ctx_free(t);
        return IG_EINVAL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "tls_key %s: does not match the certificate in %s", key_path,
                 cert_path);
        ig_tls_ctx_free(t);
        return IG_EINVAL;
    }
    ERR_clear_error();
    *out = t;
    return IG_OK;
}

void ig_tls_ctx_free(ig_tls_ctx_t *ctx) {
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

ig_tls_conn_t *ig_tls_conn_new(ig_tls_ctx_t *ctx) {
    ig_tls_conn_t *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ssl);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        BIO_free(t->in);
        BIO_free(t->out);
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    /* An empty input BIO means "more later", not end of stream. */
    BIO_set_mem_eof_return(t->in, -1);
    BIO_set_mem_eof_return(t->out, -1);
    SSL_set_bio(t->ssl, t->in, t->out);
    SSL_set_accept_state(t->ssl);
    return t;
}

void ig_tls_conn_free(ig_tls_conn_t *t) {
    if (!t) return;
    SSL_free(t->ssl); /* frees both BIOs */
    free(t);
}

int ig_tls_feed(ig_tls_conn_t *t, const char *data, size_t len) {
    while (len) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = BIO_write(t->in, data, chunk);
        if (n <= 0) {
            ERR_clear_error();
            return IG_ENOMEM;
        }
        data += n;
        len -= (size_t)n;
    }
    return IG_OK;
}

static int fail(ig_tls_conn_t *t, int sslerr) {
    if (sslerr != SSL_ERROR_SYSCALL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_HTTP_REQUEST)
        t->plain_http = true;
    ERR_clear_error();
    t->dead = true;
    return IG_TLS_ERROR;
}

int ig_tls_read(ig_tls_conn_t *t, char *buf, size_t cap) {
    if (t->dead) return IG_TLS_ERROR;
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0) return n;
    int e = SSL_get_error(t->ssl, n);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* memory BIOs grow: only in name */
        return IG_TLS_WANT;
    case SSL_ERROR_ZERO_RETURN:
        return IG_TLS_EOF;
    default:
        return fail(t, e);
    }
}

int ig_tls_write(ig_tls_conn_t *t, const char *data, size_t len) {
    if (t->dead) return IG_EIO;
    if (len == 0) return IG_OK;
    ERR_clear_error();
    size_t done = 0;
    if (SSL_write_ex(t->ssl, data, len, &done) != 1 || done != len) {
        fail(t, SSL_get_error(t->ssl, 0));
        return IG_EIO;
    }
    return IG_OK;
}

size_t ig_tls_peek(ig_tls_conn_t *t, const char **p) {
    char *data = NULL;
    long n = BIO_get_mem_data(t->out, &data);
    *p = data;
    return n > 0 && data ? (size_t)n : 0;
}

void ig_tls_discard(ig_tls_conn_t *t) {
    (void)BIO_reset(t->out); /* a read-write memory BIO: its data is dropped */
}

void ig_tls_close_notify(ig_tls_conn_t *t) {
    if (t->dead || !SSL_is_init_finished(t->ssl)) return;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

bool ig_tls_plain_http(const ig_tls_conn_t *t) {
    return t->plain_http;
}
