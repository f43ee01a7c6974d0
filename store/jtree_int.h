/* jtree_int.h — a strict JSON parser that builds a read-only tree in two growable arrays
 * (nodes, and the bytes of strings that held escapes), for ingest on the writer thread.
 *
 * Why not cJSON: an Iris answer of 500 results is ~150,000 values; cJSON allocates each node
 * and copies each string, and finds a member by strcmp over every sibling. Here a node is an
 * array slot, a string without escapes is a span of the body (no copy), member names are
 * compared by length first, and the arrays are reused from one answer to the next.
 *
 * Strict RFC 8259 (what SQLite's json functions accept, since results are stored as sent):
 * no trailing commas, no control characters in strings, valid escapes and surrogate pairs,
 * the number grammar, nesting at most JT_MAX_DEPTH. Only store/ includes this.
 */
#ifndef IRISGATE_JTREE_INT_H
#define IRISGATE_JTREE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JT_MAX_DEPTH 1000 /* as cJSON's limit, which older irisgate used */

typedef enum { JT_NULL, JT_FALSE, JT_TRUE, JT_NUM, JT_STR, JT_ARR, JT_OBJ } jt_type_t;

/* One value. Indexes are into jt_doc_t.nodes; 0 is the root, so 0 also means "none" for
 * child and next (the root is nobody's child or sibling). */
typedef struct {
    uint8_t type;
    uint32_t next;  /* the next element or member of the parent, 0: last */
    uint32_t child; /* the first element or member (arrays, objects), 0: empty */
    uint32_t klen;  /* member name length (decoded); key NULL for array elements and root */
    const char *key;
    const char *s; /* strings: the decoded bytes (no quotes); numbers: their text;
                      arrays and objects: their whole text, brackets included */
    uint32_t n;
    bool nul; /* a string whose decoded bytes hold a NUL (\u0000) */
} jt_node_t;

typedef struct {
    jt_node_t *nodes;
    size_t nnodes, cap;
    /* decoded strings (those with escapes), in chunks that never move */
    struct jt_chunk *chunks, *cur;
    size_t err_off; /* where parsing stopped, for the message */
} jt_doc_t;

/* Parses [p, p+len): the whole text must be one JSON value with only white space around it.
 * Returns 0, -1 for invalid JSON (doc->err_off says where), -2 when out of memory. The
 * document keeps pointers into p: p must outlive it. A doc may be parsed into again (its
 * arrays are reused); jt_free releases it. */
int jt_parse(jt_doc_t *doc, const char *p, size_t len);
void jt_free(jt_doc_t *doc);

static inline const jt_node_t *jt_node(const jt_doc_t *d, uint32_t i) {
    return &d->nodes[i];
}

/* The first member named name of the object node o (NULL when o is not an object, or has
 * no such member). */
const jt_node_t *jt_get(const jt_doc_t *d, const jt_node_t *o, const char *name);

/* Children in order: for (c = jt_first(d, n); c; c = jt_next(d, c)). */
static inline const jt_node_t *jt_first(const jt_doc_t *d, const jt_node_t *n) {
    return n && (n->type == JT_ARR || n->type == JT_OBJ) && n->child ? &d->nodes[n->child]
                                                                      : NULL;
}
static inline const jt_node_t *jt_next(const jt_doc_t *d, const jt_node_t *n) {
    return n->next ? &d->nodes[n->next] : NULL;
}

#endif
