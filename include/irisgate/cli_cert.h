/* cli_cert.h — `irisgate cert`: a key and a certificate to try HTTPS with.
 *     irisgate cert --self-signed --out DIR [--host NAME...] [--days N] [--force]
 */
#ifndef IRISGATE_CLI_CERT_H
#define IRISGATE_CLI_CERT_H

/* argv[0] is "cert". Writes DIR/key.pem (EC P-256, PKCS#8, mode 0600) and DIR/cert.pem (a
 * self-signed certificate for the hosts, default localhost and 127.0.0.1, valid N days,
 * default 365) and prints how to trust it. Refuses to overwrite either file without --force.
 * Returns the exit status: 0, 1 when a file cannot be written, 2 for bad usage. */
int ig_cli_cert(int argc, char **argv);

#endif
