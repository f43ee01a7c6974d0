/* jscan.c — byte-level walking of JSON text (include/irisgate/jscan.h): white space,
 * skipping a value (strings with escapes, nested objects and arrays by depth), members,
 * arrays, plain strings. No allocation, no state, no tree; bounded by [p, e) everywhere.
 */
#include "irisgate/jscan.h"

#include <string.h>

const char *ig_jscan_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *e) {
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

const char *ig_jscan_skip(const char *p, const char *e) {
    if (!p || p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p != '{' && *p != '[') {
        const char *s = p;
        while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t' && *p != ':')
            p++;
        return p > s ? p : NULL;
    }
    size_t depth = 0;
    while (p < e) {
        if (*p == '"') {
            if (!(p = skip_string(p, e))) return NULL;
            continue;
        }
        if (*p == '{' || *p == '[') depth++;
        if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
        p++;
    }
    return NULL;
}

const char *ig_jscan_member(const char *p, const char *e, const char *name) {
    size_t nlen = strlen(name);
    if (!p || (p = ig_jscan_ws(p, e)) >= e || *p != '{') return NULL;
    p = ig_jscan_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p + 1, *ke = skip_string(p, e);
        if (!ke) return NULL;
        p = ig_jscan_ws(ke, e);
        if (p >= e || *p != ':') return NULL;
        p = ig_jscan_ws(p + 1, e);
        if ((size_t)(ke - 1 - k) == nlen && memcmp(k, name, nlen) == 0) return p < e ? p : NULL;
        if (!(p = ig_jscan_skip(p, e))) return NULL;
        p = ig_jscan_ws(p, e);
        if (p < e && *p == ',') p = ig_jscan_ws(p + 1, e);
    }
    return NULL;
}

bool ig_jscan_array(ig_jscan_iter_t *it, const char *p, const char *e) {
    it->bad = false;
    it->e = e;
    if (!p || (p = ig_jscan_ws(p, e)) >= e || *p != '[') {
        it->p = NULL;
        return false;
    }
    it->p = ig_jscan_ws(p + 1, e);
    return true;
}

bool ig_jscan_next(ig_jscan_iter_t *it, const char **v, size_t *n) {
    if (!it->p) return false;
    if (it->p >= it->e) {
        it->bad = true;
        it->p = NULL;
        return false;
    }
    if (*it->p == ']') return false;
    const char *q = ig_jscan_skip(it->p, it->e);
    if (!q) {
        it->bad = true;
        it->p = NULL;
        return false;
    }
    *v = it->p;
    *n = (size_t)(q - it->p);
    const char *r = ig_jscan_ws(q, it->e);
    if (r < it->e && *r == ',')
        r = ig_jscan_ws(r + 1, it->e);
    else if (r >= it->e || *r != ']') {
        it->bad = true;
        r = NULL;
    }
    it->p = r;
    return true;
}

bool ig_jscan_plain_string(const char *p, const char *e, const char **s, size_t *n) {
    if (!p || p >= e || *p != '"') return false;
    const char *q = p + 1;
    while (q < e && *q != '"' && *q != '\\')
        q++;
    if (q >= e || *q != '"') return false;
    *s = p + 1;
    *n = (size_t)(q - p - 1);
    return true;
}
