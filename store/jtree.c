/* jtree.c — the strict JSON parser of jtree_int.h: one pass over the text, an explicit stack
 * for nesting (never recursion: depth is bounded by JT_MAX_DEPTH, not by the C stack), nodes
 * appended to one array, strings with escapes decoded into chunks that never move.
 *
 * Never reads outside [p, p+len), never trusts a length it did not compute, never allocates
 * per value. A failed parse leaves the document reusable. Life cycle: a zeroed jt_doc_t →
 * jt_parse (any number of times) → jt_free.
 */
#include "jtree_int.h"

#include <stdlib.h>
#include <string.h>

struct jt_chunk {
    struct jt_chunk *next;
    size_t cap, used;
    char data[];
};

#define CHUNK_MIN (64 * 1024)

void jt_free(jt_doc_t *d) {
    free(d->nodes);
    for (struct jt_chunk *c = d->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    memset(d, 0, sizeof(*d));
}

/* Room for n decoded bytes that stay where they are until the next parse. */
static char *chunk_alloc(jt_doc_t *d, size_t n) {
    for (struct jt_chunk *c = d->cur; c; c = c->next) {
        if (c->cap - c->used >= n) {
            d->cur = c;
            char *p = c->data + c->used;
            c->used += n;
            return p;
        }
    }
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    struct jt_chunk *c = malloc(sizeof(*c) + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = n;
    c->next = NULL;
    /* appended at the end, so the chunks after cur (all empty) stay usable */
    struct jt_chunk **tail = &d->chunks;
    while (*tail)
        tail = &(*tail)->next;
    *tail = c;
    d->cur = c;
    return c->data;
}

static int new_node(jt_doc_t *d, uint8_t type, uint32_t *out) {
    if (d->nnodes == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        if (cap > UINT32_MAX) return -2;
        jt_node_t *n = realloc(d->nodes, cap * sizeof(*n));
        if (!n) return -2;
        d->nodes = n;
        d->cap = cap;
    }
    *out = (uint32_t)d->nnodes;
    d->nodes[d->nnodes++] = (jt_node_t){.type = type};
    return 0;
}

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int hex4(const char *p, const char *e, unsigned *out) {
    if (e - p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* The bytes a string scan stops at: the quote, the backslash, control characters. */
static const unsigned char stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00-0x0f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10-0x1f */
    ['"'] = 1, ['\\'] = 1,
};

/* p at the opening quote. The decoded string in *s, *n (a span of the text when it holds no
 * escape), *nul when it holds a NUL; returns the byte after the closing quote, or NULL
 * (*oom set when memory ran out). */

static const char *string(jt_doc_t *d, const char *p, const char *e, const char **s, uint32_t *n,
                          bool *nul, bool *oom) {
    const char *q = ++p;
    bool esc = false;
    for (;;) {
        while (q < e && !stop[(unsigned char)*q])
            q++;
        if (q >= e || *q == '"') break;
        if ((unsigned char)*q < 0x20) return NULL;
        esc = true; /* a backslash: the next byte is escaped */
        if ((q += 2) > e) return NULL;
    }
    if (q >= e || (size_t)(q - p) > UINT32_MAX) return NULL;
    *nul = false;
    if (!esc) {
        *s = p;
        *n = (uint32_t)(q - p);
        return q + 1;
    }
    /* Decoded is never longer than the text: \uXXXX (6 bytes) gives at most 3, a pair
     * (12 bytes) 4. */
    char *out = chunk_alloc(d, (size_t)(q - p));
    if (!out) {
        *oom = true;
        return NULL;
    }
    char *o = out;
    for (const char *r = p; r < q;) {
        if (*r != '\\') {
            *o++ = *r++;
            continue;
        }
        r++;
        switch (*r++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned u;
            if (hex4(r, q, &u)) return NULL;
            r += 4;
            if (u >= 0xDC00 && u <= 0xDFFF) return NULL; /* a low surrogate alone */
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (q - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, q, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return NULL;
                r += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (u == 0) *nul = true;
            if (u < 0x80) {
                *o++ = (char)u;
            } else if (u < 0x800) {
                *o++ = (char)(0xC0 | (u >> 6));
                *o++ = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                *o++ = (char)(0xE0 | (u >> 12));
                *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
                *o++ = (char)(0x80 | (u & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (u >> 18));
                *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
                *o++ = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default:
            return NULL;
        }
    }
    *s = out;
    *n = (uint32_t)(o - out);
    return q + 1;
}

static const char *number(const char *p, const char *e) {
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < e && *p == '.') {
        const char *f = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == f) return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        const char *x = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == x) return NULL;
    }
    return p;
}

typedef struct {
    uint32_t node, last; /* the container, its last child so far (0: none) */
} frame_t;

int jt_parse(jt_doc_t *d, const char *text, size_t len) {
    d->nnodes = 0;
    d->err_off = 0;
    for (struct jt_chunk *c = d->chunks; c; c = c->next)
        c->used = 0;
    d->cur = d->chunks;
    if (!text) text = "";
    const char *p = text, *e = text + len;
    frame_t stack[JT_MAX_DEPTH];
    int sp = 0;
    int rc = -1;
    bool oom = false;

    /* Reads one value at p into a new node linked under the top frame (or the root). For
     * containers, pushes a frame and returns: the loop below reads their contents. */
    const char *key = NULL;
    uint32_t klen = 0;
    p = ws(p, e);
    for (;;) {
        /* ---- a value ---- */
        if (p >= e) goto out;
        uint8_t type;
        switch (*p) {
        case '{': type = JT_OBJ; break;
        case '[': type = JT_ARR; break;
        case '"': type = JT_STR; break;
        case 't': type = JT_TRUE; break;
        case 'f': type = JT_FALSE; break;
        case 'n': type = JT_NULL; break;
        default:
            if (*p != '-' && (*p < '0' || *p > '9')) goto out;
            type = JT_NUM;
        }
        uint32_t id;
        if (new_node(d, type, &id)) {
            oom = true;
            goto out;
        }
        jt_node_t *nd = &d->nodes[id];
        nd->key = key;
        nd->klen = klen;
        key = NULL;
        if (sp > 0) {
            frame_t *f = &stack[sp - 1];
            if (f->last)
                d->nodes[f->last].next = id;
            else
                d->nodes[f->node].child = id;
            f->last = id;
        }
        const char *q = NULL;
        switch (type) {
        case JT_STR: {
            const char *s;
            uint32_t n;
            bool nul;
            q = string(d, p, e, &s, &n, &nul, &oom);
            if (!q) goto out;
            nd = &d->nodes[id];
            nd->s = s;
            nd->n = n;
            nd->nul = nul;
            break;
        }
        case JT_NUM:
            if (!(q = number(p, e))) goto out;
            nd->s = p;
            nd->n = (uint32_t)(q - p);
            break;
        case JT_TRUE:
        case JT_FALSE:
        case JT_NULL: {
            const char *lit = type == JT_TRUE ? "true" : type == JT_FALSE ? "false" : "null";
            size_t ll = strlen(lit);
            if ((size_t)(e - p) < ll || memcmp(p, lit, ll) != 0) goto out;
            q = p + ll;
            break;
        }
        default: /* a container */
            if (sp == JT_MAX_DEPTH) goto out;
            nd->s = p;
            stack[sp++] = (frame_t){id, 0};
            q = p + 1;
            q = ws(q, e);
            if (q < e && *q == (type == JT_OBJ ? '}' : ']')) {
                p = q; /* empty: closed below */
                goto close;
            }
            p = q;
            if (type == JT_OBJ) goto member;
            continue; /* the first element */
        }
        p = ws(q, e);

        /* ---- after a value: a separator, or the end of containers ---- */
        for (;;) {
            if (sp == 0) {
                if (p != e) goto out; /* data after the value */
                rc = 0;
                goto out;
            }
            if (p >= e) goto out;
            frame_t *f = &stack[sp - 1];
            bool obj = d->nodes[f->node].type == JT_OBJ;
            if (*p == ',') {
                p = ws(p + 1, e);
                if (obj) goto member;
                break; /* the next element */
            }
            if (*p != (obj ? '}' : ']')) goto out;
        close:
            f = &stack[--sp];
            d->nodes[f->node].n = (uint32_t)(p + 1 - d->nodes[f->node].s);
            p = ws(p + 1, e);
        }
        continue;

    member: /* p at a member's name */
        if (p >= e || *p != '"') goto out;
        {
            bool nul;
            const char *q2 = string(d, p, e, &key, &klen, &nul, &oom);
            if (!q2) goto out;
            p = ws(q2, e);
            if (p >= e || *p != ':') goto out;
            p = ws(p + 1, e);
        }
    }
out:
    if (rc) {
        d->err_off = (size_t)(p - text);
        d->nnodes = 0;
        if (oom) rc = -2;
    }
    return rc;
}

const jt_node_t *jt_get(const jt_doc_t *d, const jt_node_t *o, const char *name) {
    if (!o || o->type != JT_OBJ) return NULL;
    size_t n = strlen(name);
    for (const jt_node_t *c = jt_first(d, o); c; c = jt_next(d, c))
        if (c->klen == n && memcmp(c->key, name, n) == 0) return c;
    return NULL;
}
