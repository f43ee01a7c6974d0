/* hmac.h — the vendor's request signing: HMAC over api_username + timestamp + path,
 * lower-case hex, and the ISO 8601 timestamps it carries.
 *
 * Verification picks the hash by the signature's length (32 hex = MD5, 40 = SHA-1,
 * 64 = SHA-256) and compares in constant time.
 */
#ifndef IRISGATE_HMAC_H
#define IRISGATE_HMAC_H

#include "irisgate/common.h"

typedef enum { IG_HMAC_MD5, IG_HMAC_SHA1, IG_HMAC_SHA256 } ig_hmac_alg_t;

/* out receives lower-case hex and a NUL (at most 65 bytes). */
int ig_hmac_sign(ig_hmac_alg_t alg, const char *key, const char *username, const char *timestamp,
                 const char *path, char out[65]);
/* 0 when sig is a valid signature by any of the three algorithms, IG_EAUTH otherwise. */
int ig_hmac_verify(const char *key, const char *username, const char *timestamp, const char *path,
                   const char *sig);

/* Parses "2020-02-01T22:37:59Z", "2011-02-01T14:37:59-0800", "...+12:00" (fractional seconds
 * allowed) into seconds since the epoch. IG_EINVAL otherwise. */
int ig_time_parse_iso8601(const char *s, int64_t *epoch);
/* Formats epoch as "%Y-%m-%dT%H:%M:%SZ" in UTC (out: at least 21 bytes). */
void ig_time_format_iso8601(int64_t epoch, char out[21]);

#endif
