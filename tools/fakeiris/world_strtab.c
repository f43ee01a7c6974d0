/* world_strtab.c — interned strings of the synthetic world (external domains, mailboxes,
 * host names, states): dense ids from 0 in insertion order, case-insensitive lookup.
 *
 * Owns its arena, offsets and hash slots; never shrinks; strings are never removed. A
 * table is filled once while the world is built and only read afterwards. Also the
 * case-insensitive hash and comparison every lookup of the world uses.
 */
#include "world_int.h"

#include <stdlib.h>
#include <string.h>

static inline unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

uint64_t fi_hash_ci(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= lower((unsigned char)s[i]);
        h *= 0x100000001b3ULL;
    }
    return fi_mix64(h);
}

bool fi_eq_ci(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

static int grow_slots(fi_strtab_t *t) {
    uint32_t cap = t->mask ? (t->mask + 1) * 2 : 64;
    uint32_t *slot = calloc(cap, sizeof(*slot));
    if (!slot) return IG_ENOMEM;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t len;
        const char *s = fi_strtab_get(t, id, &len);
        uint32_t i = (uint32_t)fi_hash_ci(s, len) & (cap - 1);
        while (slot[i])
            i = (i + 1) & (cap - 1);
        slot[i] = id + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->mask = cap - 1;
    return IG_OK;
}

uint32_t fi_strtab_find(const fi_strtab_t *t, const char *s, size_t n) {
    if (!t->mask) return FI_NONE;
    uint32_t i = (uint32_t)fi_hash_ci(s, n) & t->mask;
    while (t->slot[i]) {
        uint32_t id = t->slot[i] - 1;
        size_t len;
        const char *v = fi_strtab_get(t, id, &len);
        if (fi_eq_ci(v, len, s, n)) return id;
        i = (i + 1) & t->mask;
    }
    return FI_NONE;
}

int fi_strtab_add(fi_strtab_t *t, const char *s, size_t n, uint32_t *id) {
    uint32_t found = fi_strtab_find(t, s, n);
    if (found != FI_NONE) {
        *id = found;
        return IG_OK;
    }
    if ((t->n + 1) * 2 > t->mask + 1 && grow_slots(t)) return IG_ENOMEM;
    if (t->n + 2 > t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        uint32_t *off = realloc(t->off, cap * sizeof(*off));
        if (!off) return IG_ENOMEM;
        if (!t->off) off[0] = 0;
        t->off = off;
        t->cap = cap;
    }
    if (t->arena_len + n + 1 > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap * 2 : 1024;
        while (cap < t->arena_len + n + 1)
            cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a) return IG_ENOMEM;
        t->arena = a;
        t->arena_cap = cap;
    }
    memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = '\0';
    t->arena_len += n + 1;
    t->off[t->n + 1] = (uint32_t)t->arena_len;
    uint32_t i = (uint32_t)fi_hash_ci(s, n) & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = t->n + 1;
    *id = t->n++;
    return IG_OK;
}

void fi_strtab_free(fi_strtab_t *t) {
    free(t->arena);
    free(t->off);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

size_t fi_strtab_memory(const fi_strtab_t *t) {
    return t->arena_cap + (size_t)t->cap * sizeof(uint32_t) +
           (t->mask ? (size_t)(t->mask + 1) * sizeof(uint32_t) : 0);
}
