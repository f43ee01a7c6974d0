/* test_metrics.c — the /metrics registry, its output parsed line by line as a Prometheus
 * scraper would: every family has its HELP and TYPE before its samples, counters add up
 * per label set, histogram buckets are cumulative and end with +Inf equal to _count, the
 * hit ratio counts HIT/STALE/COALESCED over those plus MISS/PARTIAL/QUEUED, label values
 * escape quotes, backslashes and line feeds, and the series cap drops and counts. */
#include "check.h"
#include "irisgate/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 40000

typedef struct {
    char *series; /* name{labels} as written */
    double value;
} sample_t;

static sample_t samples[MAX_LINES];
static size_t nsamples;
static char *helps[64], *types[64]; /* "name" and "name type" */
static size_t nhelps, ntypes;
static int format_errors;

static void clear(void) {
    for (size_t i = 0; i < nsamples; i++)
        free(samples[i].series);
    for (size_t i = 0; i < nhelps; i++)
        free(helps[i]);
    for (size_t i = 0; i < ntypes; i++)
        free(types[i]);
    nsamples = nhelps = ntypes = 0;
    format_errors = 0;
}

/* The metric name a sample belongs to (histograms: without _bucket/_sum/_count). */
static int has_type_for(const char *series) {
    size_t len = strcspn(series, "{ ");
    for (size_t i = 0; i < ntypes; i++) {
        size_t nl = strcspn(types[i], " ");
        if (nl > len || strncmp(types[i], series, nl) != 0) continue;
        const char *rest = series + nl;
        size_t rl = len - nl;
        if (rl == 0) return 1;
        if (strstr(types[i], " histogram") && ((rl == 7 && strncmp(rest, "_bucket", 7) == 0) ||
                                               (rl == 4 && strncmp(rest, "_sum", 4) == 0) ||
                                               (rl == 6 && strncmp(rest, "_count", 6) == 0)))
            return 1;
    }
    return 0;
}

/* Splits the exposition into lines; checks each is a comment or "series value". */
static void parse(const char *text) {
    clear();
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL); /* every line ends with a line feed */
        if (!nl) break;
        size_t len = (size_t)(nl - p);
        char *line = strndup(p, len);
        if (strncmp(line, "# HELP ", 7) == 0) {
            helps[nhelps++] = strndup(line + 7, strcspn(line + 7, " "));
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            types[ntypes++] = strdup(line + 7);
            /* HELP comes first for the same name */
            size_t n = strcspn(line + 7, " ");
            if (nhelps == 0 || strlen(helps[nhelps - 1]) != n ||
                strncmp(helps[nhelps - 1], line + 7, n) != 0)
                format_errors++;
        } else if (line[0] == '#' || len == 0) {
            format_errors++;
        } else {
            char *sp = strrchr(line, ' ');
            if (!sp || !has_type_for(line)) {
                format_errors++;
                fprintf(stderr, "bad sample line: %s\n", line);
            } else if (nsamples < MAX_LINES) {
                char *end;
                samples[nsamples].value = strtod(sp + 1, &end);
                if (*end) format_errors++;
                samples[nsamples++].series = strndup(line, (size_t)(sp - line));
            }
        }
        free(line);
        p = nl + 1;
    }
}

/* The value of one series, written exactly as Prometheus would print it; NaN if absent. */
static double get(const char *series) {
    for (size_t i = 0; i < nsamples; i++)
        if (strcmp(samples[i].series, series) == 0) return samples[i].value;
    fprintf(stderr, "no sample %s\n", series);
    return NAN;
}

static const char *type_of(const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < ntypes; i++)
        if (strncmp(types[i], name, n) == 0 && types[i][n] == ' ') return types[i] + n + 1;
    return "";
}

static int has_help(const char *name) {
    for (size_t i = 0; i < nhelps; i++)
        if (strcmp(helps[i], name) == 0) return 1;
    return 0;
}

static void render(ig_metrics_t *m, const ig_metrics_gauges_t *g) {
    ig_buf_t out = {0};
    CHECK_EQ_INT(ig_metrics_render(m, g, &out), 0);
    parse(out.data ? out.data : "");
    ig_buf_free(&out);
    CHECK_EQ_INT(format_errors, 0);
}

static void test_metrics_every_family_has_help_and_type(void) {
    ig_metrics_t *m = ig_metrics_new();
    ig_metrics_queue_t q[] = {{"iris-investigate", 3}, {"iris-enrich", 0}};
    ig_metrics_gauges_t g = {.cache_entries = 12, .cache_bytes = 3456, .queues = q, .nqueues = 2};
    render(m, &g);
    const char *want[][2] = {{"irisgate_requests_total", "counter"},
                             {"irisgate_request_duration_seconds", "histogram"},
                             {"irisgate_upstream_queries_total", "counter"},
                             {"irisgate_queue_depth", "gauge"},
                             {"irisgate_queue_wait_seconds", "histogram"},
                             {"irisgate_cache_entries", "gauge"},
                             {"irisgate_cache_bytes", "gauge"},
                             {"irisgate_cache_hit_ratio", "gauge"},
                             {"irisgate_user_upstream_queries_total", "counter"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        CHECK(has_help(want[i][0]));
        CHECK_EQ_STR(type_of(want[i][0]), want[i][1]);
    }
    CHECK(get("irisgate_cache_entries") == 12);
    CHECK(get("irisgate_cache_bytes") == 3456);
    CHECK(get("irisgate_queue_depth{product=\"iris-investigate\"}") == 3);
    CHECK(get("irisgate_queue_depth{product=\"iris-enrich\"}") == 0);
    CHECK(get("irisgate_cache_hit_ratio") == 0); /* nothing asked yet */
    clear();
    ig_metrics_free(m);
}

static void test_metrics_counters_add_up(void) {
    ig_metrics_t *m = ig_metrics_new();
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(ig_metrics_request(m, "iris-investigate", "HIT", 0.001), 0);
    for (int i = 0; i < 2; i++)
        ig_metrics_request(m, "iris-investigate", "MISS", 0.5);
    ig_metrics_request(m, "iris-enrich", "COALESCED", 0.2);
    ig_metrics_request(m, "iris-enrich", "STALE", 0.01);
    ig_metrics_request(m, "iris-enrich", "PARTIAL", 0.3);
    ig_metrics_request(m, "iris-enrich", "QUEUED", 2);
    ig_metrics_request(m, "account", "REJECTED", 0.001); /* neither hit nor miss */
    ig_metrics_request(m, "iris-enrich", "ERROR", 0.001);
    for (int i = 0; i < 4; i++)
        ig_metrics_upstream(m, "iris-investigate", 200);
    ig_metrics_upstream(m, "iris-investigate", 503);
    ig_metrics_upstream(m, "iris-enrich", 0);
    ig_metrics_spend(m, "alice", "iris-investigate", 2);
    ig_metrics_spend(m, "alice", "iris-investigate", 3);
    ig_metrics_spend(m, "bob", "iris-enrich", 1);
    render(m, NULL);
    CHECK(get("irisgate_requests_total{endpoint=\"iris-investigate\",outcome=\"HIT\"}") == 3);
    CHECK(get("irisgate_requests_total{endpoint=\"iris-investigate\",outcome=\"MISS\"}") == 2);
    CHECK(get("irisgate_requests_total{endpoint=\"iris-enrich\",outcome=\"COALESCED\"}") == 1);
    CHECK(get("irisgate_requests_total{endpoint=\"account\",outcome=\"REJECTED\"}") == 1);
    CHECK(get("irisgate_upstream_queries_total{product=\"iris-investigate\",status=\"200\"}") == 4);
    CHECK(get("irisgate_upstream_queries_total{product=\"iris-investigate\",status=\"503\"}") == 1);
    CHECK(get("irisgate_upstream_queries_total{product=\"iris-enrich\",status=\"error\"}") == 1);
    CHECK(
        get("irisgate_user_upstream_queries_total{user=\"alice\",product=\"iris-investigate\"}") ==
        5);
    CHECK(get("irisgate_user_upstream_queries_total{user=\"bob\",product=\"iris-enrich\"}") == 1);
    /* hits: 3 HIT + COALESCED + STALE = 5; misses: 2 MISS + PARTIAL + QUEUED = 4 */
    CHECK(fabs(get("irisgate_cache_hit_ratio") - 5.0 / 9.0) < 1e-12);
    /* Request counts agree with the duration histogram's _count per endpoint. */
    CHECK(get("irisgate_request_duration_seconds_count{endpoint=\"iris-investigate\"}") == 5);
    CHECK(get("irisgate_request_duration_seconds_count{endpoint=\"iris-enrich\"}") == 5);
    CHECK(fabs(get("irisgate_request_duration_seconds_sum{endpoint=\"iris-investigate\"}") -
               1.003) < 1e-9);
    /* No gauges given: none rendered. */
    CHECK(strcmp(type_of("irisgate_cache_entries"), "") == 0);
    clear();
    ig_metrics_free(m);
}

static void test_metrics_histogram_buckets_are_cumulative(void) {
    ig_metrics_t *m = ig_metrics_new();
    double waits[] = {0.005, 0.01, 0.7, 3, 59.9, 500};
    for (size_t i = 0; i < 6; i++)
        ig_metrics_queue_wait(m, "iris-investigate", waits[i]);
    render(m, NULL);
    /* le is an upper bound, included: 0.01 falls in le="0.01". */
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"0.01\"}") == 2);
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"0.5\"}") == 2);
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"1\"}") == 3);
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"5\"}") == 4);
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"60\"}") == 5);
    CHECK(get("irisgate_queue_wait_seconds_bucket{product=\"iris-investigate\",le=\"+Inf\"}") == 6);
    CHECK(get("irisgate_queue_wait_seconds_count{product=\"iris-investigate\"}") == 6);
    CHECK(fabs(get("irisgate_queue_wait_seconds_sum{product=\"iris-investigate\"}") - 563.615) <
          1e-9);
    /* Every bucket line, in order, never decreases, and the last is +Inf. */
    double last = -1;
    int nbuckets = 0, inf_last = 0;
    for (size_t i = 0; i < nsamples; i++) {
        if (strncmp(samples[i].series, "irisgate_queue_wait_seconds_bucket{", 35) != 0) continue;
        CHECK(samples[i].value >= last);
        last = samples[i].value;
        nbuckets++;
        inf_last = strstr(samples[i].series, "le=\"+Inf\"") != NULL;
    }
    CHECK(nbuckets > 5);
    CHECK(inf_last);
    clear();
    ig_metrics_free(m);
}

static void test_metrics_label_values_are_escaped(void) {
    ig_metrics_t *m = ig_metrics_new();
    CHECK_EQ_INT(ig_metrics_spend(m, "o\"brien\\x\ny", "iris-investigate", 7), 0);
    ig_buf_t out = {0};
    ig_metrics_render(m, NULL, &out);
    CHECK(strstr(out.data, "irisgate_user_upstream_queries_total{user=\"o\\\"brien\\\\x\\ny\","
                           "product=\"iris-investigate\"} 7\n") != NULL);
    parse(out.data);
    CHECK_EQ_INT(format_errors, 0); /* the line feed did not split the sample */
    ig_buf_free(&out);
    clear();
    ig_metrics_free(m);
}

static void test_metrics_only_the_loopback_or_the_admin_token(void) {
    CHECK(ig_metrics_admin("127.0.0.1", NULL, NULL));
    CHECK(ig_metrics_admin("::1", "Bearer wrong", "s3cret"));
    CHECK(!ig_metrics_admin("10.0.0.7", NULL, "s3cret"));
    CHECK(!ig_metrics_admin("127.0.0.2", NULL, NULL)); /* only the addresses named */
    CHECK(ig_metrics_admin("10.0.0.7", "Bearer s3cret", "s3cret"));
    CHECK(ig_metrics_admin("10.0.0.7", "bearer s3cret", "s3cret"));
    CHECK(!ig_metrics_admin("10.0.0.7", "Bearer s3cre", "s3cret"));
    CHECK(!ig_metrics_admin("10.0.0.7", "Bearer s3crett", "s3cret"));
    CHECK(!ig_metrics_admin("10.0.0.7", "Basic s3cret", "s3cret"));
    CHECK(!ig_metrics_admin("10.0.0.7", "Bearer ", ""));  /* no token set: nobody remote */
    CHECK(!ig_metrics_admin("10.0.0.7", "Bearer x", NULL));
}

static void test_metrics_series_are_capped(void) {
    ig_metrics_t *m = ig_metrics_new();
    char user[32];
    int rc = 0;
    for (int i = 0; i < IG_METRICS_MAX_SERIES; i++) {
        snprintf(user, sizeof user, "user%05d", i);
        rc |= ig_metrics_spend(m, user, "iris-investigate", 1);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ig_metrics_spend(m, "one-too-many", "iris-investigate", 1), IG_ETOOBIG);
    CHECK_EQ_INT(ig_metrics_spend(m, "user00042", "iris-investigate", 1), 0); /* still counts */
    render(m, NULL);
    size_t n = 0;
    for (size_t i = 0; i < nsamples; i++)
        if (strncmp(samples[i].series, "irisgate_user_upstream_queries_total{", 37) == 0) n++;
    CHECK_EQ_INT(n, IG_METRICS_MAX_SERIES);
    CHECK(get("irisgate_user_upstream_queries_total{user=\"user00042\","
              "product=\"iris-investigate\"}") == 2);
    CHECK(get("irisgate_metrics_series_dropped_total") == 1);
    clear();
    ig_metrics_free(m);
}

int main(void) {
    RUN(test_metrics_every_family_has_help_and_type);
    RUN(test_metrics_counters_add_up);
    RUN(test_metrics_histogram_buckets_are_cumulative);
    RUN(test_metrics_label_values_are_escaped);
    RUN(test_metrics_series_are_capped);
    RUN(test_metrics_only_the_loopback_or_the_admin_token);
    return check_summary();
}
