/* test_request.c — request decoding (percent-encoding, '+', repeated keys), canonical
 * keys (what makes two requests the same question) and credential extraction and
 * checking for the four vendor schemes. */
#include "check.h"
#include "irisgate/auth.h"
#include "irisgate/canon.h"
#include "irisgate/hmac.h"

#include <string.h>

static void test_form_percent_plus_and_repeated_keys(void) {
    ig_params_t p = {0};
    const char *q = "domain=amazon.com%2Cgoogle.com&q=a+b%20c&x=1&x=2&&empty=&flag";
    CHECK_EQ_INT(ig_params_parse(&p, q, strlen(q)), 0);
    CHECK_EQ_STR(ig_params_get(&p, "domain"), "amazon.com,google.com");
    CHECK_EQ_STR(ig_params_get(&p, "q"), "a b c");
    CHECK_EQ_STR(ig_params_get(&p, "x"), "2"); /* last wins */
    CHECK_EQ_STR(ig_params_get(&p, "empty"), "");
    CHECK_EQ_STR(ig_params_get(&p, "flag"), "");
    CHECK(ig_params_get(&p, "missing") == NULL);
    CHECK_EQ_INT(p.n, 6);
    ig_params_free(&p);
}

static void test_form_bad_escapes_refused(void) {
    ig_params_t p = {0};
    CHECK_EQ_INT(ig_params_parse(&p, "a=%G1", 5), IG_EINVAL);
    ig_params_free(&p);
    CHECK_EQ_INT(ig_params_parse(&p, "a=%4", 4), IG_EINVAL);
    ig_params_free(&p);
    CHECK_EQ_INT(ig_params_parse(&p, "a=%", 3), IG_EINVAL);
    ig_params_free(&p);
    CHECK_EQ_INT(ig_params_parse(&p, "a%00b=1", 7), IG_EINVAL); /* NUL in a key */
    ig_params_free(&p);
}

static void test_form_binary_value_keeps_length(void) {
    ig_params_t p = {0};
    CHECK_EQ_INT(ig_params_parse(&p, "v=a%00b", 7), 0);
    CHECK_EQ_INT(p.v[0].val_len, 3);
    CHECK(memcmp(p.v[0].val, "a\0b", 3) == 0);
    ig_params_free(&p);
}

static void test_form_too_many_params(void) {
    ig_buf_t b = {0};
    for (int i = 0; i <= IG_MAX_PARAMS; i++) ig_buf_printf(&b, "k%d=v&", i);
    ig_params_t p = {0};
    CHECK_EQ_INT(ig_params_parse(&p, b.data, b.len), IG_ETOOBIG);
    ig_params_free(&p);
    ig_buf_free(&b);
}

static void test_url_encode_round_trip(void) {
    ig_buf_t b = {0};
    ig_url_encode(&b, "a b/c,d~é", strlen("a b/c,d~é"));
    CHECK_EQ_STR(b.data, "a%20b%2Fc%2Cd~%C3%A9");
    char tmp[64];
    memcpy(tmp, b.data, b.len);
    long n = ig_url_decode(tmp, b.len, true);
    tmp[n] = '\0';
    CHECK_EQ_STR(tmp, "a b/c,d~é");
    ig_buf_free(&b);
}

/* The cache key of a raw query on an endpoint. */
static void key_of(ig_endpoint_t ep, const char *q, char *out, size_t outlen) {
    ig_params_t in = {0}, c = {0};
    ig_buf_t k = {0};
    ig_params_parse(&in, q, strlen(q));
    ig_canon_params(&in, &c);
    ig_canon_key(ep, &c, &k);
    snprintf(out, outlen, "%s", k.data ? k.data : "");
    ig_buf_free(&k);
    ig_params_free(&c);
    ig_params_free(&in);
}

static void test_canon_ignores_param_order_auth_and_telemetry(void) {
    char a[256], b[256], c[256];
    key_of(IG_EP_INVESTIGATE, "domain=amazon.com%2Cgoogle.com&page_size=10", a, sizeof a);
    key_of(IG_EP_INVESTIGATE,
           "app_name=python_wrapper&app_version=2.7.2&api_username=u&timestamp=2020-02-01T22%3A37%"
           "3A59Z&signature=abc&page_size=10&domain=amazon.com,google.com",
           b, sizeof b);
    key_of(IG_EP_INVESTIGATE, "api_key=secret&page_size=10&domain=AMAZON.com%2C%20Google.COM ",
           c, sizeof c);
    CHECK_EQ_STR(a, "iris-investigate?domain=amazon.com%2Cgoogle.com&page_size=10");
    CHECK_EQ_STR(b, a);
    CHECK_EQ_STR(c, a);
    CHECK(strstr(c, "secret") == NULL);
}

static void test_canon_distinguishes_what_changes_the_answer(void) {
    char a[256], b[256];
    key_of(IG_EP_INVESTIGATE, "domain=a.com", a, sizeof a);
    key_of(IG_EP_ENRICH, "domain=a.com", b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    key_of(IG_EP_INVESTIGATE, "ip=1.2.3.4&position=abc", a, sizeof a);
    key_of(IG_EP_INVESTIGATE, "ip=1.2.3.4&position=abd", b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    key_of(IG_EP_INVESTIGATE, "domain=a.com,b.com", a, sizeof a);
    key_of(IG_EP_INVESTIGATE, "domain=b.com,a.com", b, sizeof b);
    CHECK(strcmp(a, b) != 0); /* the order of results follows the list */
    key_of(IG_EP_INVESTIGATE, "registrant=ACME", a, sizeof a);
    key_of(IG_EP_INVESTIGATE, "registrant=acme", b, sizeof b);
    CHECK(strcmp(a, b) != 0); /* only domain names are case-insensitive */
}

static void test_canon_format_json_is_the_default(void) {
    char a[256], b[256], c[256];
    key_of(IG_EP_ENRICH, "domain=a.com", a, sizeof a);
    key_of(IG_EP_ENRICH, "domain=a.com&format=json", b, sizeof b);
    key_of(IG_EP_ENRICH, "format=xml&domain=a.com&format=json", c, sizeof c);
    CHECK_EQ_STR(b, a);
    CHECK_EQ_STR(c, a);
    key_of(IG_EP_ENRICH, "format=json&domain=a.com&format=xml", c, sizeof c);
    CHECK_EQ_STR(c, "iris-enrich?domain=a.com&format=xml");
}

static void test_canon_default_page_size_and_hash_spellings(void) {
    char a[256], b[256], c[256];
    key_of(IG_EP_INVESTIGATE, "ip=1.2.3.4", a, sizeof a);
    key_of(IG_EP_INVESTIGATE, "page_size=500&ip=1.2.3.4", b, sizeof b);
    CHECK_EQ_STR(b, a);
    key_of(IG_EP_INVESTIGATE, "page_size=100&ip=1.2.3.4", b, sizeof b);
    CHECK_EQ_STR(b, "iris-investigate?ip=1.2.3.4&page_size=100");
    key_of(IG_EP_INVESTIGATE, "ssl_hash=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", a, sizeof a);
    key_of(IG_EP_INVESTIGATE, "ssl_hash=0A1B2C3D4E5F60718293A4B5C6D7E8F901234567", b, sizeof b);
    key_of(IG_EP_INVESTIGATE,
           "ssl_hash=0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:01:23:45:67", c, sizeof c);
    CHECK_EQ_STR(a, "iris-investigate?ssl_hash=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
    CHECK_EQ_STR(b, a);
    CHECK_EQ_STR(c, a);
}

static void test_endpoint_paths_with_and_without_slash(void) {
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/iris-investigate/", 21), IG_EP_INVESTIGATE);
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/iris-investigate", 20), IG_EP_INVESTIGATE);
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/iris-enrich?domain=x", 24), IG_EP_ENRICH);
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/account/", 12), IG_EP_ACCOUNT);
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/account", 11), IG_EP_ACCOUNT);
    CHECK_EQ_INT(ig_endpoint_from_path("/v1/iris", 8), IG_EP_UNKNOWN);
    CHECK_EQ_INT(ig_endpoint_from_path("/v2/account", 11), IG_EP_UNKNOWN);
    CHECK_EQ_INT(ig_endpoint_from_path("/", 1), IG_EP_UNKNOWN);
}

static const char *lookup(void *ctx, const char *user) {
    (void)ctx;
    return strcmp(user, "alice") == 0 ? "alicekey" : NULL;
}

static int check_query(const char *q, const char *xkey, const char *authz, const char *path,
                       int64_t now) {
    ig_params_t p = {0};
    ig_params_parse(&p, q, strlen(q));
    ig_auth_creds_t c;
    int rc = ig_auth_extract(&p, xkey, authz, &c);
    if (rc == 0) rc = ig_auth_check(&c, path, now, 300, lookup, NULL);
    ig_params_free(&p);
    return rc;
}

static void test_auth_four_schemes(void) {
    int64_t now = 1580596679;
    const char *path = "/v1/iris-investigate/";
    CHECK_EQ_INT(check_query("api_username=alice&api_key=alicekey", NULL, NULL, path, now), 0);
    CHECK_EQ_INT(check_query("api_username=alice&api_key=wrong", NULL, NULL, path, now), IG_EAUTH);
    CHECK_EQ_INT(check_query("api_username=bob&api_key=alicekey", NULL, NULL, path, now), IG_EAUTH);
    CHECK_EQ_INT(check_query("api_username=alice", "alicekey", NULL, path, now), 0);
    CHECK_EQ_INT(check_query("api_username=alice", "nope", NULL, path, now), IG_EAUTH);
    /* "alice:alicekey" in base64 */
    CHECK_EQ_INT(check_query("", NULL, "Basic YWxpY2U6YWxpY2VrZXk=", path, now), 0);
    CHECK_EQ_INT(check_query("", NULL, "Basic YWxpY2U6d3Jvbmc=", path, now), IG_EAUTH);
    CHECK_EQ_INT(check_query("", NULL, "Bearer xyz", path, now), IG_EAUTH);
    CHECK_EQ_INT(check_query("", NULL, NULL, path, now), IG_EAUTH);

    char sig[65], q[512];
    const char *ts = "2020-02-01T22:37:59Z";
    ig_hmac_sign(IG_HMAC_SHA256, "alicekey", "alice", ts, path, sig);
    snprintf(q, sizeof q, "api_username=alice&timestamp=2020-02-01T22%%3A37%%3A59Z&signature=%s",
             sig);
    CHECK_EQ_INT(check_query(q, NULL, NULL, path, now), 0);
    CHECK_EQ_INT(check_query(q, NULL, NULL, path, now + 301), IG_EAUTH); /* stale */
    CHECK_EQ_INT(check_query(q, NULL, NULL, path, now - 301), IG_EAUTH); /* from the future */
    CHECK_EQ_INT(check_query(q, NULL, NULL, "/v1/iris-enrich/", now), IG_EAUTH);
    ig_hmac_sign(IG_HMAC_SHA1, "alicekey", "alice", ts, path, sig);
    snprintf(q, sizeof q, "api_username=alice&timestamp=%s&signature=%s", ts, sig);
    CHECK_EQ_INT(check_query(q, NULL, NULL, path, now), 0);
    ig_hmac_sign(IG_HMAC_MD5, "alicekey", "alice", ts, path, sig);
    snprintf(q, sizeof q, "api_username=alice&timestamp=%s&signature=%s", ts, sig);
    CHECK_EQ_INT(check_query(q, NULL, NULL, path, now), 0);
}

int main(void) {
    RUN(test_form_percent_plus_and_repeated_keys);
    RUN(test_form_bad_escapes_refused);
    RUN(test_form_binary_value_keeps_length);
    RUN(test_form_too_many_params);
    RUN(test_url_encode_round_trip);
    RUN(test_canon_ignores_param_order_auth_and_telemetry);
    RUN(test_canon_distinguishes_what_changes_the_answer);
    RUN(test_canon_format_json_is_the_default);
    RUN(test_canon_default_page_size_and_hash_spellings);
    RUN(test_endpoint_paths_with_and_without_slash);
    RUN(test_auth_four_schemes);
    return check_summary();
}
