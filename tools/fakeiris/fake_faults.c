/* fake_faults.c — decides which /v1 requests fail on purpose and what the failure looks
 * like: the plan set through /_fake/fail is consumed first, then --fail-rate draws from a
 * splitmix64 sequence seeded by --seed, so a run can be repeated exactly.
 *
 * Plain state in a struct owned by the server; no allocation, no I/O.
 */
#include "fake_faults.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "irisgate/vendor.h"

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fi_faults_init(fi_faults_t *f, uint64_t seed, double rate) {
    memset(f, 0, sizeof(*f));
    f->rng = seed ^ 0x6661696c75726573ull; /* not the world's stream: "failures" */
    f->rate = rate;
}

void fi_faults_plan(fi_faults_t *f, fi_fault_mode_t mode, int status, uint64_t count) {
    f->planned = (fi_fault_t){mode, status};
    f->planned_left = count;
}

fi_fault_t fi_faults_next(fi_faults_t *f) {
    if (f->planned_left) {
        f->planned_left--;
        return f->planned;
    }
    if (f->rate > 0.0) {
        double u = (double)(splitmix64(&f->rng) >> 11) * 0x1.0p-53;
        if (u < f->rate) return (fi_fault_t){FI_FAULT_ANSWER, 500};
    }
    return (fi_fault_t){FI_FAULT_NONE, 0};
}

int fi_fault_mode_parse(const char *s, fi_fault_mode_t *out) {
    if (strcmp(s, "answer") == 0)
        *out = FI_FAULT_ANSWER;
    else if (strcmp(s, "drop") == 0)
        *out = FI_FAULT_DROP;
    else if (strcmp(s, "hang") == 0)
        *out = FI_FAULT_HANG;
    else
        return IG_EINVAL;
    return IG_OK;
}

const char *fi_fault_mode_name(fi_fault_mode_t m) {
    switch (m) {
    case FI_FAULT_ANSWER:
        return "answer";
    case FI_FAULT_DROP:
        return "drop";
    case FI_FAULT_HANG:
        return "hang";
    default:
        return "none";
    }
}

int fi_fault_body(int status, uint32_t rate, ig_buf_t *out, const char **content_type) {
    *content_type = IG_JSON_CTYPE;
    switch (status) {
    case 500:
        *content_type = "text/html";
        return ig_buf_puts(out, FI_RECORDED_500);
    case 503:
        return fi_account_rate_body(rate ? rate : 20, out);
    case 400:
        return ig_vendor_error(out, status, IG_MSG_MALFORMED);
    case 403:
        return ig_vendor_error(out, status, IG_MSG_BAD_CREDENTIALS);
    default: {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s (failure injected by fakeiris).", ig_http_reason(status));
        return ig_vendor_error(out, status, msg);
    }
    }
}
