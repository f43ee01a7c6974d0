/* test_gzip.c — gzip answers: which Accept-Encoding values accept gzip (q-values, "*",
 * refusals), that a compressed body inflates (with zlib's own inflate) to the same bytes,
 * that an incompressible body is left alone, and that the hot cache keeps the gzip variant
 * beside its body: counted in its bytes, dropped with it, never attached to a newer answer,
 * and reported safely to a cache freed while a job held it. */
#include "check.h"
#include "irisgate/gzip.h"
#include "irisgate/hotcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void test_gzip_accepts_what_the_header_allows(void) {
    static const struct {
        const char *v;
        bool want;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"gzip", true},
        {"GZIP", true},
        {"x-gzip", true},
        {"gzip, deflate, br", true}, /* what Python's httpx and requests send */
        {"deflate, br", false},
        {"identity", false},
        {"gzips", false},
        {"deflate;q=0, gzip", true},
        {"gzip;q=0", false},
        {"gzip; q=0", false},
        {"gzip;q=0.0", false},
        {"gzip;Q=0.000", false},
        {"gzip;q=0.001", true},
        {"gzip;q=0.5", true},
        {"gzip;q=1", true},
        {"gzip;q=1.000", true},
        {"gzip;q=1.5", false}, /* malformed: identity is the safe choice */
        {"gzip;q=abc", false},
        {"*", true},
        {"*;q=0", false},
        {"gzip;q=0, *", false}, /* a named refusal beats the wildcard */
        {"*;q=0, gzip", true},  /* a named coding beats the wildcard */
        {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = ig_gzip_accepted(cases[i].v);
        if (got != cases[i].want)
            fprintf(stderr, "  Accept-Encoding: %s\n", cases[i].v ? cases[i].v : "(none)");
        CHECK(got == cases[i].want);
    }
}

/* zlib's inflate, told to expect the gzip wrapper: an independent reading of the output. */
static size_t gunzip(const char *in, size_t n, char *out, size_t cap) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK) return 0;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    int rc = inflate(&zs, Z_FINISH);
    size_t got = cap - zs.avail_out;
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? got : 0;
}

static char *read_fixture(const char *name, size_t *len) {
    const char *shared = getenv("IG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/iris/responses/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static void test_gzip_body_inflates_to_the_same_bytes(void) {
    size_t n = 0;
    char *body = read_fixture(
        "iris-investigate__POST__domain=amazon.com,google.com__200__python_api@04c7908.json", &n);
    CHECK(body != NULL);
    if (!body) return;
    CHECK_EQ_INT(n, 10951); /* ls -l of the fixture */
    ig_blob_t *gz = NULL;
    CHECK_EQ_INT(ig_gzip_blob(body, n, IG_GZIP_LEVEL, &gz), IG_OK);
    CHECK(gz != NULL);
    if (gz) {
        CHECK(gz->len < n / 2); /* JSON shrinks a lot */
        CHECK((unsigned char)gz->data[0] == 0x1f && (unsigned char)gz->data[1] == 0x8b);
        CHECK_EQ_INT(gz->data[2], 8); /* deflate */
        CHECK_EQ_INT(gz->refs, 1);
        char *back = malloc(n + 16);
        size_t m = back ? gunzip(gz->data, gz->len, back, n + 16) : 0;
        CHECK_EQ_INT(m, n);
        CHECK(m == n && memcmp(back, body, n) == 0);
        free(back);
    }
    ig_blob_unref(gz);
    free(body);
}

static void test_gzip_leaves_an_incompressible_body_alone(void) {
    char noise[4096];
    uint32_t x = 2463534242u; /* xorshift: bytes deflate cannot shrink */
    for (size_t i = 0; i < sizeof(noise); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[i] = (char)(x >> 24);
    }
    ig_blob_t *gz = (ig_blob_t *)1;
    CHECK_EQ_INT(ig_gzip_blob(noise, sizeof(noise), IG_GZIP_LEVEL, &gz), IG_OK);
    CHECK(gz == NULL);
}

static ig_blob_t *blob_of(char c, size_t n) {
    char *tmp = malloc(n);
    memset(tmp, c, n);
    ig_blob_t *b = ig_blob_new(tmp, n);
    free(tmp);
    return b;
}

static void test_hotcache_keeps_the_gzip_variant_beside_its_body(void) {
    ig_hotcache_t *c = ig_hotcache_new(1 << 20);
    ig_blob_t *body = blob_of('a', 3000), *gz = blob_of('z', 40);
    ig_hotcache_put(c, "k", 1, "application/json", 100, body);
    const ig_hot_entry_t *e = ig_hotcache_get(c, "k", 1);
    CHECK(e && e->gz == NULL && e->gz_state == IG_GZ_UNKNOWN);
    ig_hotcache_stats_t before, after;
    ig_hotcache_stats(c, &before);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k", 1, body, IG_GZ_READY, gz), IG_OK);
    ig_hotcache_stats(c, &after);
    CHECK_EQ_INT(after.bytes - before.bytes, sizeof(ig_blob_t) + 40);
    CHECK_EQ_INT(gz->refs, 2); /* ours and the cache's */
    e = ig_hotcache_get(c, "k", 1);
    CHECK(e && e->gz == gz && e->gz_state == IG_GZ_READY);

    /* A newer answer for the key: the old variant goes, and is never attached to it. */
    ig_blob_t *body2 = blob_of('b', 3000);
    ig_hotcache_put(c, "k", 1, "application/json", 200, body2);
    CHECK_EQ_INT(gz->refs, 1);
    e = ig_hotcache_get(c, "k", 1);
    CHECK(e && e->gz == NULL && e->gz_state == IG_GZ_UNKNOWN);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k", 1, body, IG_GZ_READY, gz), IG_ENOENT);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "nope", 4, body2, IG_GZ_READY, gz), IG_ENOENT);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k", 1, body2, IG_GZ_PENDING, NULL), IG_OK);
    e = ig_hotcache_get(c, "k", 1);
    CHECK(e && e->gz_state == IG_GZ_PENDING);
    ig_hotcache_stats(c, &after);
    CHECK_EQ_INT(after.bytes, before.bytes); /* same sizes, no variant */
    ig_blob_unref(body);
    ig_blob_unref(body2);
    ig_blob_unref(gz);
    ig_hotcache_free(c);
}

static void test_hotcache_makes_room_for_a_variant_by_evicting_others(void) {
    ig_blob_t *b = blob_of('x', 1000), *gz = blob_of('g', 900);
    ig_hotcache_t *c = ig_hotcache_new(5000); /* about four 1000-byte bodies */
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int i = 0; i < 4; i++)
        ig_hotcache_put(c, keys[i], 2, "application/json", 1, b);
    /* k1 is the least recently used: it goes, the entry getting the variant stays. */
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k4", 2, b, IG_GZ_READY, gz), IG_OK);
    CHECK(ig_hotcache_get(c, "k1", 2) == NULL);
    const ig_hot_entry_t *e = ig_hotcache_get(c, "k4", 2);
    CHECK(e && e->gz_state == IG_GZ_READY);
    ig_hotcache_stats_t st;
    ig_hotcache_stats(c, &st);
    CHECK(st.bytes <= 5000);
    /* A variant that could never fit beside its body is not kept. */
    ig_blob_t *huge = blob_of('h', 4800);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k2", 2, b, IG_GZ_READY, huge), IG_OK);
    e = ig_hotcache_get(c, "k2", 2);
    CHECK(e && e->gz == NULL && e->gz_state == IG_GZ_NONE);
    CHECK_EQ_INT(huge->refs, 1);
    ig_blob_unref(huge);
    ig_hotcache_free(c);
    ig_blob_unref(b);
    ig_blob_unref(gz);
}

static void test_hotcache_held_past_free_takes_no_variant(void) {
    ig_hotcache_t *c = ig_hotcache_new(1 << 20);
    ig_blob_t *b = blob_of('x', 2000), *gz = blob_of('g', 100);
    ig_hotcache_put(c, "k", 1, "application/json", 1, b);
    ig_hotcache_hold(c); /* a compression job in flight */
    ig_hotcache_free(c); /* the gateway goes first */
    CHECK_EQ_INT(b->refs, 1);
    CHECK_EQ_INT(ig_hotcache_set_gz(c, "k", 1, b, IG_GZ_READY, gz), IG_ENOENT);
    CHECK_EQ_INT(gz->refs, 1);
    ig_hotcache_release(c); /* the job reports: now the table goes (ASan: no leak) */
    ig_blob_unref(b);
    ig_blob_unref(gz);
}

int main(void) {
    RUN(test_gzip_accepts_what_the_header_allows);
    RUN(test_gzip_body_inflates_to_the_same_bytes);
    RUN(test_gzip_leaves_an_incompressible_body_alone);
    RUN(test_hotcache_keeps_the_gzip_variant_beside_its_body);
    RUN(test_hotcache_makes_room_for_a_variant_by_evicting_others);
    RUN(test_hotcache_held_past_free_takes_no_variant);
    return check_summary();
}
