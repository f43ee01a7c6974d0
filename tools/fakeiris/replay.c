/* replay.c — the table of recorded Iris answers: which recording answers which canonical
 * question, read once from the fixtures' INDEX_python_api.json.
 *
 * For each Investigate or Enrich entry with status 200, the question is the entry's query
 * string and form body merged, reduced by ig_canon_params/ig_canon_key exactly as a live
 * request is; per question the newest recording (commit_date) wins, and among recordings
 * of the same day the later one in the index. The inner Investigate object recorded for
 * domain=domaintools.com is wrapped as {"response":...} and answers that question.
 *
 * Never touches the disk after fi_replay_load; entries are immutable until fi_replay_free,
 * which must only run once no answer borrowing a body can still be written.
 */
#include "replay.h"

#include "irisgate/gzip.h"
#include "irisgate/canon.h"
#include "irisgate/form.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_NAME "INDEX_python_api.json"
#define INNER_NAME                                                                                 \
    "iris-investigate__inner-response__domain=domaintools.com__200__python_api-tests-responses@"   \
    "2b05d75.json"
#define INNER_QUESTION "domain=domaintools.com"
#define MAX_FIXTURE_BYTES (64u * 1024 * 1024)

struct fi_replay {
    fi_replay_entry_t *v;
    size_t n, cap;
};

/* A candidate while the index is read: the winner so far for its key. */
typedef struct {
    char *key;
    size_t key_len;
    char date[16];
    char *name;
} cand_t;

static int read_file(const char *path, ig_buf_t *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? IG_ENOENT : IG_EIO;
    char chunk[65536];
    size_t n;
    int rc = IG_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out->len + n > MAX_FIXTURE_BYTES) {
            rc = IG_ETOOBIG;
            break;
        }
        if (ig_buf_append(out, chunk, n)) {
            rc = IG_ENOMEM;
            break;
        }
    }
    if (rc == IG_OK && ferror(f)) rc = IG_EIO;
    fclose(f);
    if (rc == IG_OK && !out->data) rc = ig_buf_reserve(out, 0); /* empty file: "" */
    return rc;
}

/* The canonical key of the question (query + body) asked of ep. */
static int question_key(ig_endpoint_t ep, const char *query, const char *body, ig_buf_t *key) {
    ig_params_t raw = {0}, canon = {0};
    int rc = ig_params_parse(&raw, query, strlen(query));
    if (!rc) rc = ig_params_parse(&raw, body, strlen(body));
    if (!rc) rc = ig_canon_params(&raw, &canon);
    if (!rc) rc = ig_canon_key(ep, &canon, key);
    ig_params_free(&raw);
    ig_params_free(&canon);
    return rc;
}

static const char *json_str(const cJSON *o, const char *name) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void cands_free(cand_t *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(c[i].key);
        free(c[i].name);
    }
    free(c);
}

/* Adds or replaces the candidate for key; takes key->data. */
static int cand_offer(cand_t **cs, size_t *n, size_t *cap, ig_buf_t *key, const char *date,
                      const char *name) {
    for (size_t i = 0; i < *n; i++) {
        cand_t *c = &(*cs)[i];
        if (c->key_len == key->len && memcmp(c->key, key->data, key->len) == 0) {
            if (strcmp(date, c->date) < 0) return IG_OK; /* older: keep ours */
            char *nm = strdup(name);
            if (!nm) return IG_ENOMEM;
            free(c->name);
            c->name = nm;
            snprintf(c->date, sizeof(c->date), "%s", date);
            return IG_OK;
        }
    }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        cand_t *p = realloc(*cs, ncap * sizeof(*p));
        if (!p) return IG_ENOMEM;
        *cs = p;
        *cap = ncap;
    }
    cand_t *c = &(*cs)[*n];
    c->name = strdup(name);
    if (!c->name) return IG_ENOMEM;
    c->key_len = key->len;
    c->key = ig_buf_take(key);
    snprintf(c->date, sizeof(c->date), "%s", date);
    (*n)++;
    return IG_OK;
}

/* Appends an entry; takes key and body. */
static int table_add(fi_replay_t *r, char *key, size_t key_len, ig_buf_t *body, const char *name) {
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        fi_replay_entry_t *p = realloc(r->v, ncap * sizeof(*p));
        if (!p) return IG_ENOMEM;
        r->v = p;
        r->cap = ncap;
    }
    ig_blob_t *gz = NULL;
    char *src = strdup(name);
    char *gzcopy = NULL;
    if (!src || ig_gzip_blob(body->data, body->len, 9, &gz) != IG_OK ||
        (gz && !(gzcopy = malloc(gz->len)))) {
        free(src);
        ig_blob_unref(gz);
        return IG_ENOMEM;
    }
    if (gz) memcpy(gzcopy, gz->data, gz->len);
    fi_replay_entry_t *e = &r->v[r->n++];
    e->key = key;
    e->key_len = key_len;
    e->body_len = body->len;
    e->body = ig_buf_take(body);
    e->gz_len = gz ? gz->len : 0;
    e->gz = gzcopy; /* NULL when compressing does not make it smaller */
    ig_blob_unref(gz);
    e->source = src;
    return IG_OK;
}

static int load_index(const char *dir, cand_t **cs, size_t *n, size_t *cap, char *err,
                      size_t errlen) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, INDEX_NAME);
    ig_buf_t text = {0};
    int rc = read_file(path, &text);
    if (rc == IG_ENOENT) return IG_ENOENT;
    if (rc) {
        snprintf(err, errlen, "cannot read %s", path);
        ig_buf_free(&text);
        return IG_EIO;
    }
    cJSON *root = cJSON_ParseWithLength(text.data, text.len);
    ig_buf_free(&text);
    if (!cJSON_IsArray(root)) {
        snprintf(err, errlen, "%s is not a JSON array", path);
        cJSON_Delete(root);
        return IG_EINVAL;
    }
    ig_buf_t key = {0};
    const cJSON *e;
    rc = IG_OK;
    cJSON_ArrayForEach(e, root) {
        const char *kind = json_str(e, "kind");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(e, "status");
        ig_endpoint_t ep = IG_EP_UNKNOWN;
        if (kind && strcmp(kind, "iris-investigate") == 0) ep = IG_EP_INVESTIGATE;
        if (kind && strcmp(kind, "iris-enrich") == 0) ep = IG_EP_ENRICH;
        if (ep == IG_EP_UNKNOWN || !cJSON_IsNumber(status) || status->valueint != 200) continue;
        const char *query = json_str(e, "query"), *body = json_str(e, "request_body");
        const char *date = json_str(e, "commit_date"), *file = json_str(e, "file");
        if (!query || !body || !date || !file) {
            snprintf(err, errlen, "%s: an %s entry lacks query, request_body, commit_date or file",
                     path, kind);
            rc = IG_EINVAL;
            break;
        }
        /* "json/<name>" in the index; the files sit directly in dir. */
        const char *name = strncmp(file, "json/", 5) == 0 ? file + 5 : file;
        if (!*name || strstr(name, "..")) {
            snprintf(err, errlen, "%s: unusable file name \"%s\"", path, file);
            rc = IG_EINVAL;
            break;
        }
        ig_buf_reset(&key);
        rc = question_key(ep, query, body, &key);
        if (rc == IG_EINVAL) {
            snprintf(err, errlen, "%s: %s has a malformed query or body", path, file);
            break;
        }
        if (!rc) rc = cand_offer(cs, n, cap, &key, date, name);
        if (rc) {
            snprintf(err, errlen, "out of memory reading %s", path);
            break;
        }
    }
    ig_buf_free(&key);
    cJSON_Delete(root);
    return rc;
}

int fi_replay_load(const char *dir, fi_replay_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (errlen) err[0] = '\0';
    cand_t *cs = NULL;
    size_t n = 0, cap = 0;
    int rc = load_index(dir, &cs, &n, &cap, err, errlen);
    if (rc) {
        cands_free(cs, n);
        return rc;
    }
    fi_replay_t *r = calloc(1, sizeof(*r));
    if (!r) {
        cands_free(cs, n);
        snprintf(err, errlen, "out of memory");
        return IG_ENOMEM;
    }
    char path[4096];
    ig_buf_t body = {0}, key = {0};
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, cs[i].name);
        ig_buf_reset(&body);
        rc = read_file(path, &body);
        if (rc) {
            snprintf(err, errlen, "cannot read %s (named by the index)", path);
            rc = IG_EIO;
            break;
        }
        rc = table_add(r, cs[i].key, cs[i].key_len, &body, cs[i].name);
        if (rc) {
            snprintf(err, errlen, "out of memory");
            break;
        }
        cs[i].key = NULL; /* taken */
    }

    /* The recorded inner object for domaintools.com, unless the index answered it already. */
    if (!rc) rc = question_key(IG_EP_INVESTIGATE, INNER_QUESTION, "", &key);
    if (!rc && !fi_replay_find(r, key.data, key.len)) {
        snprintf(path, sizeof(path), "%s/%s", dir, INNER_NAME);
        ig_buf_t inner = {0};
        int frc = read_file(path, &inner);
        if (frc == IG_OK) {
            ig_buf_reset(&body);
            size_t klen = key.len;
            if (ig_buf_puts(&body, "{\"response\":") ||
                ig_buf_append(&body, inner.data, inner.len) || ig_buf_putc(&body, '}'))
                rc = IG_ENOMEM;
            if (!rc) rc = table_add(r, key.data, klen, &body, INNER_NAME);
            if (!rc) {
                key.data = NULL; /* taken */
                key.len = key.cap = 0;
            }
        } else if (frc != IG_ENOENT) {
            snprintf(err, errlen, "cannot read %s", path);
            rc = IG_EIO;
        }
        ig_buf_free(&inner);
    }
    ig_buf_free(&key);
    ig_buf_free(&body);
    cands_free(cs, n);
    if (rc) {
        if (!*err) snprintf(err, errlen, "out of memory");
        fi_replay_free(r);
        return rc;
    }
    *out = r;
    return IG_OK;
}

const fi_replay_entry_t *fi_replay_find(const fi_replay_t *r, const char *key, size_t key_len) {
    if (!r) return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].key_len == key_len && memcmp(r->v[i].key, key, key_len) == 0) return &r->v[i];
    return NULL;
}

size_t fi_replay_count(const fi_replay_t *r) {
    return r ? r->n : 0;
}

const fi_replay_entry_t *fi_replay_entry(const fi_replay_t *r, size_t i) {
    return r && i < r->n ? &r->v[i] : NULL;
}

void fi_replay_free(fi_replay_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->v[i].key);
        free((char *)r->v[i].body);
        free((char *)r->v[i].gz);
        free((char *)r->v[i].source);
    }
    free(r->v);
    free(r);
}
