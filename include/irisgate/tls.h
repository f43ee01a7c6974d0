/* tls.h — TLS for the HTTP server's listener, through OpenSSL memory BIOs: the server's
 * socket code moves ciphertext in and out, this module turns it into plaintext and back.
 * TLS 1.2 and 1.3 only, ALPN "http/1.1", session resumption (tickets and a server-side
 * session cache), PEM certificate chain and key.
 *
 * Life cycle: one ig_tls_ctx_t per listener (built at start, freed after the server is
 * stopped); one ig_tls_conn_t per accepted connection, owned by that connection. Nothing
 * here touches a socket or blocks: ig_tls_feed() takes what the socket read, ig_tls_read()
 * gives plaintext (driving the handshake as needed), ig_tls_write() queues plaintext, and
 * ig_tls_peek()/ig_tls_discard() hand over the ciphertext that must be written to the
 * socket — after every feed/read/write/close_notify, since each may produce output.
 */
#ifndef IRISGATE_TLS_H
#define IRISGATE_TLS_H

#include "irisgate/common.h"

#include <stdbool.h>

typedef struct ig_tls_ctx ig_tls_ctx_t;
typedef struct ig_tls_conn ig_tls_conn_t;

/* ig_tls_read() results other than a plaintext byte count. */
enum {
    IG_TLS_WANT = 0,   /* needs more ciphertext from the peer */
    IG_TLS_EOF = -1,   /* the peer sent close_notify */
    IG_TLS_ERROR = -2, /* fatal: handshake or record error; close after sending the alert */
};

/* Loads the PEM certificate chain (leaf first) and its PEM private key. On error, err says
 * which file and what is wrong (missing, not PEM, key encrypted, key not matching). */
int ig_tls_ctx_new(const char *cert_path, const char *key_path, ig_tls_ctx_t **out, char *err,
                   size_t errlen);
void ig_tls_ctx_free(ig_tls_ctx_t *ctx);

/* A server-side connection waiting for the client's hello; NULL when out of memory. */
ig_tls_conn_t *ig_tls_conn_new(ig_tls_ctx_t *ctx);
void ig_tls_conn_free(ig_tls_conn_t *t);

/* Ciphertext read from the socket (copied). */
int ig_tls_feed(ig_tls_conn_t *t, const char *data, size_t len);
/* Plaintext into buf: a byte count > 0, or IG_TLS_WANT / IG_TLS_EOF / IG_TLS_ERROR. */
int ig_tls_read(ig_tls_conn_t *t, char *buf, size_t cap);
/* Queues len bytes of plaintext (all of them; the ciphertext waits in memory). */
int ig_tls_write(ig_tls_conn_t *t, const char *data, size_t len);
/* The ciphertext waiting to be written, in place (valid until the next call on t), and
 * dropping all of it once written (or copied). */
size_t ig_tls_peek(ig_tls_conn_t *t, const char **p);
void ig_tls_discard(ig_tls_conn_t *t);
/* Queues close_notify (nothing after a fatal error). */
void ig_tls_close_notify(ig_tls_conn_t *t);

/* After IG_TLS_ERROR: the client spoke plain HTTP to the TLS port. */
bool ig_tls_plain_http(const ig_tls_conn_t *t);

#endif
