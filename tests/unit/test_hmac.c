/* test_hmac.c — the vendor's HMAC signing against ../shared/iris/hmac_test_vectors.json
 * (recorded SDK signatures and computed Iris examples), verification by digest length,
 * and ISO 8601 timestamps. */
#include "check.h"
#include "irisgate/hmac.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *load_vectors(void) {
    const char *dir = getenv("IG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/iris/hmac_test_vectors.json", dir ? dir : "../shared");
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    fclose(f);
    s[got] = '\0';
    cJSON *j = cJSON_Parse(s);
    free(s);
    return j;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_hmac_recorded_sdk_vectors_verify(void) {
    cJSON *j = load_vectors();
    CHECK(j != NULL);
    if (!j) return;
    const cJSON *rec = cJSON_GetObjectItem(j, "recorded_vectors");
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, rec) {
        char sig[65];
        CHECK_EQ_INT(ig_hmac_sign(IG_HMAC_SHA256, "test_key", str(v, "api_username"),
                                  str(v, "timestamp"), str(v, "uri_signed"), sig),
                     0);
        CHECK_EQ_STR(sig, str(v, "signature"));
        CHECK_EQ_INT(ig_hmac_verify("test_key", str(v, "api_username"), str(v, "timestamp"),
                                    str(v, "uri_signed"), str(v, "signature")),
                     0);
        n++;
    }
    CHECK_EQ_INT(n, 8);
    cJSON_Delete(j);
}

static void test_hmac_computed_iris_examples_all_three_algorithms(void) {
    cJSON *j = load_vectors();
    if (!j) { CHECK(0); return; }
    const cJSON *v;
    int n = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "computed_examples_not_recorded")) {
        const char *u = str(v, "api_username"), *k = str(v, "api_key"), *t = str(v, "timestamp"),
                   *p = str(v, "uri_signed");
        char sig[65];
        ig_hmac_sign(IG_HMAC_SHA256, k, u, t, p, sig);
        CHECK_EQ_STR(sig, str(v, "sha256"));
        CHECK_EQ_INT(ig_hmac_verify(k, u, t, p, str(v, "sha256")), 0);
        if (*str(v, "sha1")) {
            ig_hmac_sign(IG_HMAC_SHA1, k, u, t, p, sig);
            CHECK_EQ_STR(sig, str(v, "sha1"));
            CHECK_EQ_INT(ig_hmac_verify(k, u, t, p, str(v, "sha1")), 0);
        }
        if (*str(v, "md5")) {
            ig_hmac_sign(IG_HMAC_MD5, k, u, t, p, sig);
            CHECK_EQ_STR(sig, str(v, "md5"));
            CHECK_EQ_INT(ig_hmac_verify(k, u, t, p, str(v, "md5")), 0);
        }
        n++;
    }
    CHECK(n >= 3);
    cJSON_Delete(j);
}

static void test_hmac_verify_refuses_wrong_key_path_and_length(void) {
    const char *good = "90504caeb1adfabd893fa9f192f7506dcd0665d75b1c77244190e0c0c5feca86";
    const char *ts = "2020-02-01T22:37:59Z";
    CHECK_EQ_INT(ig_hmac_verify("test_key", "test_user", ts, "/v1/iris-investigate/", good), 0);
    CHECK_EQ_INT(ig_hmac_verify("other", "test_user", ts, "/v1/iris-investigate/", good), IG_EAUTH);
    CHECK_EQ_INT(ig_hmac_verify("test_key", "test_user", ts, "/v1/iris-investigate", good), IG_EAUTH);
    CHECK_EQ_INT(ig_hmac_verify("test_key", "test_user", ts, "/v1/iris-investigate/", "abc"), IG_EAUTH);
    CHECK_EQ_INT(ig_hmac_verify("test_key", "test_user", ts, "/v1/iris-investigate/", ""), IG_EAUTH);
}

static void test_time_parse_zones(void) {
    int64_t t;
    CHECK_EQ_INT(ig_time_parse_iso8601("2020-02-01T22:37:59Z", &t), 0);
    CHECK_EQ_INT(t, 1580596679); /* date -u -d 2020-02-01T22:37:59Z +%s */
    CHECK_EQ_INT(ig_time_parse_iso8601("2011-02-01T14:37:59-0800", &t), 0);
    CHECK_EQ_INT(t, 1296599879); /* 2011-02-01T22:37:59Z */
    CHECK_EQ_INT(ig_time_parse_iso8601("2011-02-02T10:37:59+12:00", &t), 0);
    CHECK_EQ_INT(t, 1296599879);
    CHECK_EQ_INT(ig_time_parse_iso8601("2020-02-01T22:37:59.123Z", &t), 0);
    CHECK_EQ_INT(t, 1580596679);
    CHECK_EQ_INT(ig_time_parse_iso8601("2020-02-01T22:37:59", &t), IG_EINVAL);
    CHECK_EQ_INT(ig_time_parse_iso8601("2020-13-01T22:37:59Z", &t), IG_EINVAL);
    CHECK_EQ_INT(ig_time_parse_iso8601("yesterday", &t), IG_EINVAL);
    char out[21];
    ig_time_format_iso8601(1580596679, out);
    CHECK_EQ_STR(out, "2020-02-01T22:37:59Z");
}

int main(void) {
    RUN(test_hmac_recorded_sdk_vectors_verify);
    RUN(test_hmac_computed_iris_examples_all_three_algorithms);
    RUN(test_hmac_verify_refuses_wrong_key_path_and_length);
    RUN(test_time_parse_zones);
    return check_summary();
}
