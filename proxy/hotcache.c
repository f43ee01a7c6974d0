/* hotcache.c — the in-memory LRU of ready answers: a chained hash table for the lookup and
 * a doubly linked list for recency, bounded by bytes (keys, bodies and bookkeeping).
 *
 * Loop-thread only. Never touches disk: the durable copy is the store's. Entries own their
 * key and content type and hold one reference to their body blob, and one to its gzip
 * variant once the gateway made it (counted in the entry's cost). The table itself is
 * reference counted (ig_hotcache_hold) so a thread-pool job can report to a freed cache.
 */
#include "irisgate/hotcache.h"

#include <stdlib.h>
#include <string.h>

ig_blob_t *ig_blob_new(const void *p, size_t n) {
    ig_blob_t *b = malloc(sizeof(*b) + n + 1);
    if (!b) return NULL;
    b->refs = 1;
    b->len = n;
    if (n) memcpy(b->data, p, n);
    b->data[n] = '\0';
    return b;
}

ig_blob_t *ig_blob_ref(ig_blob_t *b) {
    b->refs++;
    return b;
}

void ig_blob_unref(void *p) {
    ig_blob_t *b = p;
    if (b && --b->refs == 0) free(b);
}

typedef struct node {
    ig_hot_entry_t e;
    size_t key_len;
    uint64_t hash;
    size_t cost;
    struct node *hnext;             /* hash chain */
    struct node *prev, *next;       /* recency list, head = most recent */
} node_t;

struct ig_hotcache {
    node_t **buckets;
    size_t nbuckets; /* power of two */
    node_t *head, *tail;
    ig_hotcache_stats_t st;
    uint32_t holders; /* ig_hotcache_new's caller + ig_hotcache_hold's */
};

ig_hotcache_t *ig_hotcache_new(size_t max_bytes) {
    ig_hotcache_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof(node_t *));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->st.max_bytes = max_bytes;
    c->holders = 1;
    return c;
}

static void list_unlink(ig_hotcache_t *c, node_t *n) {
    if (n->prev) n->prev->next = n->next; else c->head = n->next;
    if (n->next) n->next->prev = n->prev; else c->tail = n->prev;
    n->prev = n->next = NULL;
}

static void list_push_front(ig_hotcache_t *c, node_t *n) {
    n->prev = NULL;
    n->next = c->head;
    if (c->head) c->head->prev = n;
    c->head = n;
    if (!c->tail) c->tail = n;
}

static node_t **find_slot(ig_hotcache_t *c, const char *key, size_t len, uint64_t h) {
    node_t **pp = &c->buckets[h & (c->nbuckets - 1)];
    while (*pp) {
        node_t *n = *pp;
        if (n->hash == h && n->key_len == len && memcmp(n->e.key, key, len) == 0) return pp;
        pp = &n->hnext;
    }
    return pp;
}

static void drop(ig_hotcache_t *c, node_t **slot) {
    node_t *n = *slot;
    *slot = n->hnext;
    list_unlink(c, n);
    c->st.entries--;
    c->st.bytes -= n->cost;
    ig_blob_unref(n->e.body);
    ig_blob_unref(n->e.gz);
    free(n);
}

static void grow(ig_hotcache_t *c) {
    size_t nb = c->nbuckets * 2;
    node_t **b = calloc(nb, sizeof(node_t *));
    if (!b) return; /* keep working with longer chains */
    for (size_t i = 0; i < c->nbuckets; i++) {
        node_t *n = c->buckets[i];
        while (n) {
            node_t *next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

const ig_hot_entry_t *ig_hotcache_get(ig_hotcache_t *c, const char *key, size_t key_len) {
    node_t **slot = find_slot(c, key, key_len, ig_hash64(key, key_len));
    if (!*slot) return NULL;
    node_t *n = *slot;
    if (c->head != n) {
        list_unlink(c, n);
        list_push_front(c, n);
    }
    return &n->e;
}

void ig_hotcache_remove(ig_hotcache_t *c, const char *key, size_t key_len) {
    node_t **slot = find_slot(c, key, key_len, ig_hash64(key, key_len));
    if (*slot) drop(c, slot);
}

int ig_hotcache_put(ig_hotcache_t *c, const char *key, size_t key_len, const char *content_type,
                    int64_t fetched_at, ig_blob_t *body) {
    uint64_t h = ig_hash64(key, key_len);
    node_t **slot = find_slot(c, key, key_len, h);
    if (*slot) drop(c, slot);
    size_t ctlen = strlen(content_type);
    size_t cost = sizeof(node_t) + key_len + ctlen + 2 + sizeof(ig_blob_t) + body->len;
    if (cost > c->st.max_bytes) return IG_ETOOBIG;
    while (c->st.bytes + cost > c->st.max_bytes && c->tail) {
        node_t *t = c->tail;
        drop(c, find_slot(c, t->e.key, t->key_len, t->hash));
        c->st.evictions++;
    }
    node_t *n = malloc(sizeof(*n) + key_len + 1 + ctlen + 1);
    if (!n) return IG_ENOMEM;
    char *k = (char *)(n + 1);
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    char *ct = k + key_len + 1;
    memcpy(ct, content_type, ctlen + 1);
    n->e = (ig_hot_entry_t){k, ct, fetched_at, ig_blob_ref(body), NULL, IG_GZ_UNKNOWN};
    n->key_len = key_len;
    n->hash = h;
    n->cost = cost;
    slot = &c->buckets[h & (c->nbuckets - 1)];
    n->hnext = *slot;
    *slot = n;
    list_push_front(c, n);
    c->st.entries++;
    c->st.bytes += cost;
    if (c->st.entries > c->nbuckets) grow(c);
    return IG_OK;
}

int ig_hotcache_set_gz(ig_hotcache_t *c, const char *key, size_t key_len, const ig_blob_t *body,
                       ig_gz_state_t state, ig_blob_t *gz) {
    node_t **slot = find_slot(c, key, key_len, ig_hash64(key, key_len));
    node_t *n = *slot;
    if (!n || n->e.body != body) return IG_ENOENT;
    if (n->e.gz) { /* replaced: give its bytes back first */
        size_t old = sizeof(ig_blob_t) + n->e.gz->len;
        n->cost -= old;
        c->st.bytes -= old;
        ig_blob_unref(n->e.gz);
        n->e.gz = NULL;
    }
    if (state != IG_GZ_READY || !gz) {
        n->e.gz_state = state == IG_GZ_READY ? IG_GZ_NONE : state;
        return IG_OK;
    }
    size_t extra = sizeof(ig_blob_t) + gz->len;
    if (n->cost + extra > c->st.max_bytes) {
        n->e.gz_state = IG_GZ_NONE;
        return IG_OK;
    }
    while (c->st.bytes + extra > c->st.max_bytes && c->tail) {
        node_t *t = c->tail == n ? n->prev : c->tail;
        if (!t) break;
        drop(c, find_slot(c, t->e.key, t->key_len, t->hash));
        c->st.evictions++;
    }
    n->e.gz = ig_blob_ref(gz);
    n->e.gz_state = IG_GZ_READY;
    n->cost += extra;
    c->st.bytes += extra;
    return IG_OK;
}

void ig_hotcache_stats(const ig_hotcache_t *c, ig_hotcache_stats_t *out) {
    *out = c->st;
}

ig_hotcache_t *ig_hotcache_hold(ig_hotcache_t *c) {
    c->holders++;
    return c;
}

void ig_hotcache_release(ig_hotcache_t *c) {
    if (!c || --c->holders) return;
    free(c->buckets);
    free(c);
}

void ig_hotcache_free(ig_hotcache_t *c) {
    if (!c) return;
    node_t *n = c->head;
    while (n) {
        node_t *next = n->next;
        ig_blob_unref(n->e.body);
        ig_blob_unref(n->e.gz);
        free(n);
        n = next;
    }
    /* Empty but usable: a job still holding it finds no entry. */
    memset(c->buckets, 0, c->nbuckets * sizeof(node_t *));
    c->head = c->tail = NULL;
    c->st.entries = c->st.bytes = 0;
    ig_hotcache_release(c);
}
