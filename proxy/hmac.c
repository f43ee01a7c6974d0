/* hmac.c — signs and verifies the vendor's HMAC scheme: lower-case hex of
 * HMAC_H(api_key, api_username + timestamp + path) with H one of MD5, SHA-1, SHA-256, and
 * parses the ISO 8601 timestamps that go with it.
 *
 * Verification tries only the algorithm the signature's length names and compares in
 * constant time. Keys are never copied or logged here.
 */
#include "irisgate/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const EVP_MD *md_of(ig_hmac_alg_t alg) {
    switch (alg) {
    case IG_HMAC_MD5: return EVP_md5();
    case IG_HMAC_SHA1: return EVP_sha1();
    default: return EVP_sha256();
    }
}

int ig_hmac_sign(ig_hmac_alg_t alg, const char *key, const char *username, const char *timestamp,
                 const char *path, char out[65]) {
    size_t ul = strlen(username), tl = strlen(timestamp), pl = strlen(path);
    unsigned char msg[4096];
    if (ul + tl + pl > sizeof(msg)) return IG_ETOOBIG;
    memcpy(msg, username, ul);
    memcpy(msg + ul, timestamp, tl);
    memcpy(msg + ul + tl, path, pl);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(md_of(alg), key, (int)strlen(key), msg, ul + tl + pl, mac, &maclen))
        return IG_EINVAL;
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < maclen; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * maclen] = '\0';
    return IG_OK;
}

int ig_hmac_verify(const char *key, const char *username, const char *timestamp, const char *path,
                   const char *sig) {
    size_t n = strlen(sig);
    ig_hmac_alg_t alg;
    if (n == 32)
        alg = IG_HMAC_MD5;
    else if (n == 40)
        alg = IG_HMAC_SHA1;
    else if (n == 64)
        alg = IG_HMAC_SHA256;
    else
        return IG_EAUTH;
    char want[65], got[65];
    if (ig_hmac_sign(alg, key, username, timestamp, path, want) != IG_OK) return IG_EAUTH;
    /* Accept upper-case hex too: compare lower-cased. */
    for (size_t i = 0; i < n; i++) got[i] = (char)((sig[i] >= 'A' && sig[i] <= 'F') ? sig[i] + 32 : sig[i]);
    got[n] = '\0';
    return ig_ct_equal(want, strlen(want), got, n) ? IG_OK : IG_EAUTH;
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ig_time_parse_iso8601(const char *s, int64_t *epoch) {
    int Y, M, D, h, m, sec;
    if (strlen(s) < 19 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
        s[7] != '-' || digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return IG_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return IG_EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return IG_EINVAL;
        while (*p >= '0' && *p <= '9') p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(p, 2, &oh)) return IG_EINVAL;
        p += 2;
        if (*p == ':') p++;
        if (*p) {
            if (digits(p, 2, &om)) return IG_EINVAL;
            p += 2;
        }
        if (oh > 14 || om > 59) return IG_EINVAL;
        off = sign * (oh * 3600L + om * 60L);
    } else {
        return IG_EINVAL; /* a timestamp without a zone is ambiguous */
    }
    if (*p) return IG_EINVAL;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return IG_EINVAL;
    *epoch = (int64_t)t - off;
    return IG_OK;
}

void ig_time_format_iso8601(int64_t epoch, char out[21]) {
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
