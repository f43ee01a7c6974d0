/* fake_stats.h — what fakeiris has been asked and how it answered, for /_fake/stats: the
 * counters tests and benchmarks read to know how many questions reached the upstream. */
#ifndef FAKEIRIS_FAKE_STATS_H
#define FAKEIRIS_FAKE_STATS_H

#include "irisgate/common.h"
#include "irisgate/vendor.h"

typedef struct fi_stats fi_stats_t;

int fi_stats_new(fi_stats_t **out);
void fi_stats_free(fi_stats_t *s);

/* One /v1 request (ep may be IG_EP_UNKNOWN: counted in "requests" only). */
void fi_stats_request(fi_stats_t *s, ig_endpoint_t ep);
/* One /v1 answer with this HTTP status. */
void fi_stats_status(fi_stats_t *s, int status);
/* One authenticated /v1 request of user. */
int fi_stats_user(fi_stats_t *s, const char *user);
/* The last /v1 request: method, path (as sent) and canonical key ("" when undecodable). */
int fi_stats_last(fi_stats_t *s, const char *method, const char *path, size_t path_len,
                  const char *key, size_t key_len);

/* Appends the /_fake/stats JSON. */
int fi_stats_render(const fi_stats_t *s, ig_buf_t *out);
void fi_stats_reset(fi_stats_t *s);

#endif
