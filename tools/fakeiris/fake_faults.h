/* fake_faults.h — injected failures: a random fraction of /v1 requests (--fail-rate) and
 * the next N requests planned through /_fake/fail. */
#ifndef FAKEIRIS_FAKE_FAULTS_H
#define FAKEIRIS_FAKE_FAULTS_H

#include "irisgate/common.h"
#include "irisgate/vendor.h"

typedef enum {
    FI_FAULT_NONE = 0,
    FI_FAULT_ANSWER, /* answer with the failure status at once */
    FI_FAULT_DROP,   /* close the connection without answering */
    FI_FAULT_HANG    /* answer nothing for FI_HANG_MS (or until the client leaves) */
} fi_fault_mode_t;

#define FI_HANG_MS 60000

typedef struct {
    fi_fault_mode_t mode;
    int status;
} fi_fault_t;

typedef struct {
    uint64_t rng;
    double rate;
    fi_fault_t planned;
    uint64_t planned_left;
} fi_faults_t;

/* rate in [0, 1]; the draws are a deterministic sequence of seed. */
void fi_faults_init(fi_faults_t *f, uint64_t seed, double rate);
/* The next count requests fail this way (count 0 cancels the plan). */
void fi_faults_plan(fi_faults_t *f, fi_fault_mode_t mode, int status, uint64_t count);
/* The fate of the next /v1 request (mode NONE: answer it normally). */
fi_fault_t fi_faults_next(fi_faults_t *f);

/* "answer", "drop", "hang" → mode; IG_EINVAL otherwise. */
int fi_fault_mode_parse(const char *s, fi_fault_mode_t *out);
const char *fi_fault_mode_name(fi_fault_mode_t m);

/* The body and Content-Type of an injected failure with status (400..599): 500 is the
 * recorded "Internal Error" (text/html), 503 the per-minute limit of rate (or 20 when
 * rate is 0), others the vendor's envelope. */
int fi_fault_body(int status, uint32_t rate, ig_buf_t *out, const char **content_type);

/* The vendor's recorded 500 body (served as text/html), in the era fakeiris speaks for.
 * Every error fakeiris sends carries the support URL of the current era (IG_SUPPORT_URL,
 * "https:\/\/docs.domaintools.com", recorded from September 2025 on with the 400, 403 and
 * 404 it also sends). The only 500s recorded (2021, 2022) are of the earlier era and say
 * "https:\/\/www.domaintools.com\/support\/"; the rest of their bytes are kept. */
#define FI_RECORDED_500                                                                            \
    "{\"error\":\"Internal Error #3264\",\"resources\":{\"support\":\"" IG_SUPPORT_URL "\"}}"

#endif
