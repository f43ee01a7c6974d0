/* form.c — decodes query strings and x-www-form-urlencoded bodies into an ordered
 * parameter list, and encodes values back for forwarding.
 *
 * Never trusts a length it did not compute: every pair is bounded by the input, every
 * escape is checked. The list owns its keys and values (one allocation per pair).
 */
#include "irisgate/form.h"

#include <stdlib.h>
#include <string.h>

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long ig_url_decode(char *s, size_t len, bool plus_is_space) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) return IG_EINVAL;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return IG_EINVAL;
            s[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            s[o++] = ' ';
        } else {
            s[o++] = c;
        }
    }
    return (long)o;
}

int ig_params_add(ig_params_t *p, const char *key, const char *val, size_t val_len) {
    if (p->n >= IG_MAX_PARAMS) return IG_ETOOBIG;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        ig_param_t *v = realloc(p->v, cap * sizeof(*v));
        if (!v) return IG_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    size_t klen = strlen(key);
    char *mem = malloc(klen + 1 + val_len + 1);
    if (!mem) return IG_ENOMEM;
    memcpy(mem, key, klen + 1);
    memcpy(mem + klen + 1, val, val_len);
    mem[klen + 1 + val_len] = '\0';
    p->v[p->n++] = (ig_param_t){mem, mem + klen + 1, klen, val_len};
    return IG_OK;
}

int ig_params_parse(ig_params_t *p, const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&') end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=') eq++;
            size_t klen = eq - i;
            size_t vlen = eq < end ? end - eq - 1 : 0;
            char *tmp = malloc(klen + vlen + 2);
            if (!tmp) return IG_ENOMEM;
            memcpy(tmp, s + i, klen);
            long kd = ig_url_decode(tmp, klen, true);
            char *v = tmp + klen + 1;
            if (vlen) memcpy(v, s + eq + 1, vlen);
            long vd = kd < 0 ? kd : ig_url_decode(v, vlen, true);
            if (kd < 0 || vd < 0 || memchr(tmp, '\0', (size_t)kd)) {
                free(tmp);
                return IG_EINVAL;
            }
            tmp[kd] = '\0';
            int rc = kd > 0 ? ig_params_add(p, tmp, v, (size_t)vd) : IG_OK;
            free(tmp);
            if (rc) return rc;
        }
        i = end + 1;
    }
    return IG_OK;
}

const ig_param_t *ig_params_find(const ig_params_t *p, const char *key) {
    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->v[i].key, key) == 0) return &p->v[i];
    return NULL;
}

const char *ig_params_get(const ig_params_t *p, const char *key) {
    const ig_param_t *f = ig_params_find(p, key);
    return f ? f->val : NULL;
}

void ig_params_remove(ig_params_t *p, const char *key) {
    size_t o = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].key, key) == 0)
            free(p->v[i].key);
        else
            p->v[o++] = p->v[i];
    }
    p->n = o;
}

void ig_params_free(ig_params_t *p) {
    for (size_t i = 0; i < p->n; i++) free(p->v[i].key);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

int ig_url_encode(ig_buf_t *out, const char *s, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    if (ig_buf_reserve(out, len * 3) != IG_OK) return IG_ENOMEM;
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return IG_OK;
}
