/* cli_cert.c — `irisgate cert --self-signed --out DIR [--host NAME...] [--days N] [--force]`:
 * a private key and a self-signed certificate to try irisgate's HTTPS with, made with the
 * OpenSSL API (no `openssl` program is run), and how to make clients trust it.
 *
 * Owns: DIR/key.pem (EC P-256, PKCS#8 PEM, created 0600) and DIR/cert.pem (X.509 v3 signed
 * by that key with SHA-256: CN the first host, subjectAltName every host — DNS names, or IP
 * addresses for what parses as one — basicConstraints CA:TRUE critical so it can be its own
 * trust anchor, keyUsage digitalSignature+keyCertSign, extendedKeyUsage serverAuth, subject
 * and authority key identifiers, valid from an hour ago for N days). Never overwrites a file
 * unless --force, never leaves a key readable by others, never touches the network.
 */
#include "irisgate/cli_cert.h"
#include "irisgate/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOSTS 32
#define MAX_DAYS 3650

static void cert_usage(FILE *f) {
    fprintf(f,
            "usage: irisgate cert --self-signed --out DIR [--host NAME...] [--days N] [--force]\n"
            "\n"
            "Writes DIR/key.pem (EC P-256 private key, mode 0600) and DIR/cert.pem (a\n"
            "self-signed certificate for the hosts: DNS names or IP addresses, default\n"
            "localhost and 127.0.0.1; valid --days days, default 365), then prints how to\n"
            "serve HTTPS with them and how to make clients trust cert.pem. For trials: in\n"
            "production use a certificate from your CA. --force overwrites existing files.\n");
}

static bool is_ip(const char *h) {
    unsigned char buf[16];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

static bool host_ok(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > 253) return false;
    if (is_ip(h)) return true;
    for (const char *p = h; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || (c == '*' && p == h && p[1] == '.')))
            return false;
    }
    return true;
}

static const char *ossl_reason(void) {
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "unknown error";
}

static int add_ext(X509 *x, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* The certificate for hosts, signed by key. */
static X509 *make_cert(EVP_PKEY *key, char **hosts, int nhosts, long days) {
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    ig_buf_t san = {0};
    bool ok = x && serial && X509_set_version(x, 2) &&
              BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
              BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) && X509_set_pubkey(x, key);
    if (ok) {
        X509_NAME *name = X509_get_subject_name(x);
        ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                        (const unsigned char *)"irisgate (self-signed)", -1, -1,
                                        0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hosts[0],
                                        -1, -1, 0) &&
             X509_set_issuer_name(x, name);
    }
    for (int i = 0; ok && i < nhosts; i++)
        ok = ig_buf_printf(&san, "%s%s:%s", i ? "," : "", is_ip(hosts[i]) ? "IP" : "DNS",
                           hosts[i]) == IG_OK;
    ok = ok && add_ext(x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
         add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") == 0 &&
         add_ext(x, NID_ext_key_usage, "serverAuth") == 0 &&
         add_ext(x, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(x, NID_authority_key_identifier, "keyid:always") == 0 &&
         add_ext(x, NID_subject_alt_name, san.data) == 0 && X509_sign(x, key, EVP_sha256()) > 0;
    ig_buf_free(&san);
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Opens path for writing with mode (refusing an existing file unless force). */
static FILE *open_out(const char *path, mode_t mode, bool force) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (force ? 0 : O_EXCL) | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "irisgate cert: %s exists (--force overwrites it)\n", path);
        else
            fprintf(stderr, "irisgate cert: cannot create %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fchmod(fd, mode) != 0) { /* an existing file keeps its old mode otherwise */
        fprintf(stderr, "irisgate cert: cannot set the mode of %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) close(fd);
    return f;
}

static int close_out(FILE *f, const char *path, bool written) {
    bool ok = written && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "irisgate cert: cannot write %s: %s\n", path,
                written ? strerror(errno) : ossl_reason());
        unlink(path);
        return 1;
    }
    return 0;
}

int ig_cli_cert(int argc, char **argv) {
    bool self_signed = false, force = false;
    const char *out = NULL;
    char *hosts[MAX_HOSTS];
    int nhosts = 0;
    long days = 365;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cert_usage(stdout);
            return 0;
        } else if (strcmp(a, "--self-signed") == 0) {
            self_signed = true;
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if ((strcmp(a, "--out") == 0 || strcmp(a, "--host") == 0 ||
                    strcmp(a, "--days") == 0) &&
                   i + 1 < argc) {
            char *v = argv[++i];
            if (a[2] == 'o') {
                out = v;
            } else if (a[2] == 'h') {
                if (!host_ok(v)) {
                    fprintf(stderr, "irisgate cert: '%s' is not a host name or IP address\n", v);
                    return 2;
                }
                if (nhosts == MAX_HOSTS) {
                    fprintf(stderr, "irisgate cert: at most %d --host\n", MAX_HOSTS);
                    return 2;
                }
                hosts[nhosts++] = v;
            } else {
                char *end;
                days = strtol(v, &end, 10);
                if (*v < '0' || *v > '9' || *end || days < 1 || days > MAX_DAYS) {
                    fprintf(stderr, "irisgate cert: --days must be 1..%d\n", MAX_DAYS);
                    return 2;
                }
            }
        } else {
            fprintf(stderr, "irisgate cert: unexpected argument '%s'\n\n", a);
            cert_usage(stderr);
            return 2;
        }
    }
    if (!self_signed || !out || !*out) {
        fprintf(stderr, "irisgate cert: %s\n\n",
                !self_signed ? "only --self-signed certificates are made here"
                             : "--out DIR is required");
        cert_usage(stderr);
        return 2;
    }
    if (nhosts == 0) {
        hosts[nhosts++] = "localhost";
        hosts[nhosts++] = "127.0.0.1";
    }
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "irisgate cert: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    char key_path[4096], cert_path[4096];
    if ((size_t)snprintf(key_path, sizeof(key_path), "%s/key.pem", out) >= sizeof(key_path) ||
        (size_t)snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", out) >= sizeof(cert_path)) {
        fprintf(stderr, "irisgate cert: --out path too long\n");
        return 2;
    }
    ERR_clear_error();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? make_cert(key, hosts, nhosts, days) : NULL;
    if (!x) {
        fprintf(stderr, "irisgate cert: cannot make the %s: %s\n", key ? "certificate" : "key",
                ossl_reason());
        EVP_PKEY_free(key);
        return 1;
    }
    int status = 1;
    FILE *kf = NULL, *cf = NULL;
    /* Both are checked before either is written, so a refusal leaves nothing half done. */
    if (!force && (access(key_path, F_OK) == 0 || access(cert_path, F_OK) == 0)) {
        fprintf(stderr, "irisgate cert: %s exists (--force overwrites it)\n",
                access(key_path, F_OK) == 0 ? key_path : cert_path);
        goto done;
    }
    if (!(kf = open_out(key_path, 0600, force))) goto done;
    int rc = close_out(kf, key_path, PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) == 1);
    if (rc) goto done;
    if (!(cf = open_out(cert_path, 0644, force))) goto done;
    if (close_out(cf, cert_path, PEM_write_X509(cf, x) == 1)) goto done;

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char fp[EVP_MAX_MD_SIZE * 3 + 1] = "";
    if (X509_digest(x, EVP_sha256(), md, &mdlen))
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    printf("wrote %s (EC P-256 private key, mode 0600)\n", key_path);
    printf("wrote %s (self-signed for", cert_path);
    for (int i = 0; i < nhosts; i++)
        printf("%s %s", i ? "," : "", hosts[i]);
    printf("; valid %ld days)\nSHA-256 fingerprint: %s\n\n", days, fp);
    const char *h = hosts[0];
    bool v6 = strchr(h, ':') != NULL;
    printf("Serve HTTPS with it (plain HTTP stays on --listen when --tls-listen is given):\n"
           "  irisgate serve --tls-cert %s --tls-key %s --tls-listen 127.0.0.1:8443\n\n"
           "Trust it in clients (the certificate is its own CA: trust it for irisgate only):\n"
           "  curl:   curl --cacert %s "
           "'https://%s%s%s:8443/v1/account/?api_username=...&api_key=...'\n"
           "  Python: ssl.create_default_context(cafile=\"%s\")  (http.client, urllib);\n"
           "          requests/httpx: verify=\"%s\"\n"
           "  DomainTools SDK: API(username, key, api_url=\"https://%s%s%s\", api_port=8443, "
           "verify_ssl=\"%s\")\n",
           cert_path, key_path, cert_path, v6 ? "[" : "", h, v6 ? "]" : "", cert_path, cert_path,
           v6 ? "[" : "", h, v6 ? "]" : "", cert_path);
    status = 0;
done:
    X509_free(x);
    EVP_PKEY_free(key);
    return status;
}
