/* world.h — fakeiris' deterministic synthetic Iris data: a fixed universe of domains built
 * from a seed, with inverted indices so every guided-pivot count is the true number of
 * universe domains a pivot on that value returns, and the Investigate/Enrich answers
 * rendered from it in the vendor's exact shapes (docs/fakeiris.md, ../shared/docs/iris-api.md).
 *
 * Universe naming: domain i (0 <= i < ndomains) is "<word><i>.<tld>", where word (an
 * adjective and a noun, lower-case letters only) and tld (e.g. "com", "co.uk") are drawn
 * from the seed and i; a name parses back to i in O(1). Any other well-formed domain name
 * gets a deterministic profile from a hash of the name, drawn from the same value pools
 * (so its counts are real universe counts), but is never itself returned by a pivot.
 *
 * Not thread-safe: one world per thread, or calls serialized by the caller (the fake server
 * runs on one libuv loop).
 */
#ifndef FAKEIRIS_WORLD_H
#define FAKEIRIS_WORLD_H

#include "irisgate/common.h"
#include "irisgate/form.h"
#include <stddef.h>
#include <stdint.h>

typedef struct fi_world fi_world_t;

typedef struct {
    uint64_t seed;        /* same seed → same world, byte for byte */
    uint32_t ndomains;    /* size of the universe, default (0) 100000 */
    uint32_t max_results; /* over this many matches: the limit_exceeded answer; default (0) 10000 */
} fi_world_opts_t;

#define FI_WORLD_DEFAULT_DOMAINS 100000u
#define FI_WORLD_DEFAULT_MAX_RESULTS 10000u
#define FI_WORLD_MAX_DOMAINS 20000000u /* IG_ETOOBIG above this */

/* Builds the universe and its indices (about 1 s per million domains). o may be NULL for
 * all defaults. */
int fi_world_new(const fi_world_opts_t *o, fi_world_t **out);
void fi_world_free(fi_world_t *w);

/* Answers one Investigate (enrich=0) or Enrich (enrich=1) question. params are the decoded
 * request parameters (credentials and app_* are ignored; the last value of a repeated key
 * wins). Writes the JSON body to out and the HTTP status to *status: 200 with
 * {"response":{...}} (also for the limit_exceeded answer), or 400 with the vendor error
 * envelope for a malformed question. Returns IG_OK, or IG_ENOMEM (out is then unspecified). */
int fi_world_answer(fi_world_t *w, int enrich, const ig_params_t *params, ig_buf_t *out,
                    int *status);

/* Name of universe domain i (0 <= i < ndomains), for tests and benchmarks. IG_EINVAL for an
 * i out of range, IG_ETOOBIG when outlen is too small (names are under 64 bytes). */
int fi_world_domain_name(const fi_world_t *w, uint32_t i, char *out, size_t outlen);
uint32_t fi_world_size(const fi_world_t *w);

/* The universe index of name (lower-case, as fi_world_domain_name writes it), or -1 when
 * name is not a universe domain. O(1). */
int64_t fi_world_domain_index(const fi_world_t *w, const char *name, size_t len);

/* Bytes held by the world's tables and indices (for the startup log and tests). */
size_t fi_world_memory(const fi_world_t *w);

#endif
