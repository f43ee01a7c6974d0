/* hotcache.h — the bounded in-memory LRU of ready answers, keyed by canonical question,
 * and the reference-counted byte blob an answer body lives in.
 *
 * Loop-thread only (no locks). A blob is shared by the cache, by the HTTP writes sending
 * it and by the requests waiting on one upstream answer; whoever holds a reference drops
 * it with ig_blob_unref, and the last one frees it, so eviction never pulls a body out
 * from under a write in progress.
 *
 * An entry may also hold the gzip variant of its body (made once, when a client first asks
 * for gzip), so a gzip hit is as cheap as an identity hit. A cache outlives
 * ig_hotcache_free while a thread-pool job holds it (ig_hotcache_hold): the entries go at
 * once, the table when the last holder lets go.
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

typedef enum {
    IG_GZ_UNKNOWN = 0, /* not made yet */
    IG_GZ_PENDING,     /* being made on the thread pool */
    IG_GZ_READY,       /* gz holds it */
    IG_GZ_NONE,        /* not worth it (too small, or compressing did not shrink it) */
} ig_gz_state_t;

typedef struct {
    const char *key;
    const char *content_type;
    int64_t fetched_at;
    ig_blob_t *body;
    ig_blob_t *gz; /* the gzip variant of body when gz_state is IG_GZ_READY, else NULL */
    ig_gz_state_t gz_state;
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
/* Records the gzip state of the entry for key, only while that entry still holds body (a
 * replaced answer keeps nothing of the old one's). With IG_GZ_READY a new reference to gz is
 * taken and its bytes count toward max_bytes (least recently used other entries are evicted
 * to make room; when it cannot fit, the entry stays IG_GZ_NONE). IG_ENOENT when the entry is
 * gone or holds another body. */
int ig_hotcache_set_gz(ig_hotcache_t *c, const char *key, size_t key_len, const ig_blob_t *body,
                       ig_gz_state_t state, ig_blob_t *gz);
/* Keeps c's table alive past ig_hotcache_free until a matching ig_hotcache_release (for a
 * thread-pool job that reports back to it). Returns c. */
ig_hotcache_t *ig_hotcache_hold(ig_hotcache_t *c);
void ig_hotcache_release(ig_hotcache_t *c);

typedef struct {
    uint64_t entries, bytes, max_bytes, evictions;
} ig_hotcache_stats_t;
void ig_hotcache_stats(const ig_hotcache_t *c, ig_hotcache_stats_t *out);

#endif
