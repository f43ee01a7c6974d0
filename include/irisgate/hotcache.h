/* hotcache.h — the bounded in-memory LRU of ready answers, keyed by canonical question,
 * and the reference-counted byte blob an answer body lives in.
 *
 * Loop-thread only (no locks). A blob is shared by the cache, by the HTTP writes sending
 * it and by the requests waiting on one upstream answer; whoever holds a reference drops
 * it with ig_blob_unref, and the last one frees it, so eviction never pulls a body out
 * from under a write in progress.
 */
#ifndef IRISGATE_HOTCACHE_H
#define IRISGATE_HOTCACHE_H

#include "irisgate/common.h"

typedef struct ig_blob {
    uint32_t refs;
    size_t len;
    char data[]; /* NUL-terminated after len */
} ig_blob_t;

ig_blob_t *ig_blob_new(const void *p, size_t n); /* one reference */
ig_blob_t *ig_blob_ref(ig_blob_t *b);
void ig_blob_unref(void *b); /* void * so it can be an ig_http_respond release callback */

typedef struct {
    const char *key;
    const char *content_type;
    int64_t fetched_at;
    ig_blob_t *body;
} ig_hot_entry_t;

typedef struct ig_hotcache ig_hotcache_t;

ig_hotcache_t *ig_hotcache_new(size_t max_bytes);
void ig_hotcache_free(ig_hotcache_t *c);
/* The entry for key, made most recently used; valid until the next put or remove. */
const ig_hot_entry_t *ig_hotcache_get(ig_hotcache_t *c, const char *key, size_t key_len);
/* Inserts or replaces; takes a new reference to body. Evicts least recently used entries
 * until the cache fits max_bytes (an answer larger than max_bytes is not kept). */
int ig_hotcache_put(ig_hotcache_t *c, const char *key, size_t key_len, const char *content_type,
                    int64_t fetched_at, ig_blob_t *body);
void ig_hotcache_remove(ig_hotcache_t *c, const char *key, size_t key_len);

typedef struct {
    uint64_t entries, bytes, max_bytes, evictions;
} ig_hotcache_stats_t;
void ig_hotcache_stats(const ig_hotcache_t *c, ig_hotcache_stats_t *out);

#endif
