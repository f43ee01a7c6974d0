/* arena.c — the ingest arena (ingest_int.h): text made while normalizing one result (lower
 * case copies, joined lists, formatted numbers) lives in blocks that never move, so a pointer
 * stays valid until arena_reset. Blocks are kept and reused from one result to the next.
 * Never shared between threads: the writer thread owns it.
 */
#include "ingest_int.h"

#include <stdlib.h>

struct arena_block {
    arena_block_t *next;
    size_t cap, used;
    char data[];
};

#define BLOCK_MIN (64 * 1024)

char *arena_alloc(arena_t *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    for (arena_block_t *b = a->cur; b; b = b->next) {
        if (b->cap - b->used >= n) {
            a->cur = b;
            char *p = b->data + b->used;
            b->used += n;
            return p;
        }
    }
    size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
    arena_block_t *b = malloc(sizeof(*b) + cap);
    if (!b) return NULL;
    *b = (arena_block_t){NULL, cap, n};
    arena_block_t **tail = &a->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = b;
    a->cur = b;
    return b->data;
}

void arena_reset(arena_t *a) {
    for (arena_block_t *b = a->head; b; b = b->next)
        b->used = 0;
    a->cur = a->head;
}

void arena_trim(arena_t *a, size_t keep) {
    arena_block_t **b = &a->head;
    size_t kept = 0;
    while (*b && kept + (*b)->cap <= keep) {
        kept += (*b)->cap;
        b = &(*b)->next;
    }
    for (arena_block_t *x = *b, *n; x; x = n) {
        n = x->next;
        free(x);
    }
    *b = NULL;
    arena_reset(a);
}

void arena_free(arena_t *a) {
    for (arena_block_t *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    a->head = a->cur = NULL;
}
