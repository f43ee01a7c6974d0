/* pivcache.c — what ingest knows of pivots rows from one answer to the next: (field, value)
 * → pivot_id, count, count_at, so a value seen in an earlier answer costs no lookup.
 *
 * A cache of database content, so it must never say what the database does not: ingest
 * puts only rows it read or wrote; the writer's rollback hook empties it (a rolled-back
 * answer's new rows are gone); a write by another connection (PRAGMA data_version) empties
 * it. Keys are two independent 64-bit hashes of "field\0value" (a wrong hit would need both
 * to collide). Open addressing, at most 70% full, growing from 4,096 slots to 2^18 (14 MB);
 * when full it is emptied (the values that matter come back within an answer). Writer
 * thread only.
 */
#include "ingest_int.h"

#include <stdlib.h>
#include <string.h>

#define PC_MIN (1u << 12)
#define PC_MAX (1u << 18) /* 14 MB */

typedef struct {
    uint64_t k1, k2; /* k1 == 0: empty */
    int64_t pivot_id, count;
    char at[20];
    bool has_count, has_at;
} pc_entry_t;

struct ig_pivcache {
    pc_entry_t *v; /* cap slots, allocated on first put */
    size_t n, cap;
};

ig_pivcache_t *ig_pivcache_new(void) {
    return calloc(1, sizeof(ig_pivcache_t));
}

void ig_pivcache_free(ig_pivcache_t *pc) {
    if (!pc) return;
    free(pc->v);
    free(pc);
}

void ig_pivcache_clear(ig_pivcache_t *pc) {
    if (!pc || !pc->n) return;
    memset(pc->v, 0, pc->cap * sizeof(*pc->v));
    pc->n = 0;
}

static pc_entry_t *find(pc_entry_t *v, size_t cap, uint64_t k1, uint64_t k2, bool *found) {
    k1 |= 1; /* never 0 */
    size_t j = (size_t)(k1 >> 7) & (cap - 1);
    for (;; j = (j + 1) & (cap - 1)) {
        pc_entry_t *e = &v[j];
        if (!e->k1) {
            *found = false;
            return e;
        }
        if (e->k1 == k1 && e->k2 == k2) {
            *found = true;
            return e;
        }
    }
}

bool ig_pivcache_get(ig_pivcache_t *pc, uint64_t k1, uint64_t k2, ig_pivrow_t *out) {
    if (!pc || !pc->v || !pc->n) return false;
    bool found;
    pc_entry_t *e = find(pc->v, pc->cap, k1, k2, &found);
    if (!found) return false;
    out->pivot_id = e->pivot_id;
    out->count = e->count;
    out->has_count = e->has_count;
    out->has_at = e->has_at;
    memcpy(out->at, e->at, sizeof(out->at));
    return true;
}

/* Twice the slots (none at first), or false (then the cache stays as it is). */
static bool grow(ig_pivcache_t *pc) {
    size_t cap = pc->cap ? pc->cap * 2 : PC_MIN;
    pc_entry_t *v = calloc(cap, sizeof(*v));
    if (!v) return false;
    for (size_t i = 0; i < pc->cap; i++) {
        if (!pc->v[i].k1) continue;
        bool found;
        *find(v, cap, pc->v[i].k1, pc->v[i].k2, &found) = pc->v[i];
    }
    free(pc->v);
    pc->v = v;
    pc->cap = cap;
    return true;
}

void ig_pivcache_put(ig_pivcache_t *pc, uint64_t k1, uint64_t k2, const ig_pivrow_t *row) {
    if (!pc) return;
    if (pc->n + 1 > pc->cap / 10 * 7) {
        if (pc->cap >= PC_MAX || !grow(pc)) ig_pivcache_clear(pc);
        if (!pc->v) return; /* no memory for a cache: fine, it is one */
    }
    bool found;
    pc_entry_t *e = find(pc->v, pc->cap, k1, k2, &found);
    if (!found) pc->n++;
    e->k1 = k1 | 1;
    e->k2 = k2;
    e->pivot_id = row->pivot_id;
    e->count = row->count;
    e->has_count = row->has_count;
    e->has_at = row->has_at;
    memcpy(e->at, row->at, sizeof(e->at));
}
