/* fake_stats.c — the counters behind /_fake/stats: /v1 requests per endpoint (whatever
 * their answer), answers per HTTP status, authenticated requests per user, and the last
 * request's method, path and canonical question.
 *
 * Counts only; never sees credentials (the canonical key has none). Lives as long as the
 * server; fi_stats_reset zeroes everything but keeps the memory.
 */
#include "fake_stats.h"

#include <stdlib.h>
#include <string.h>

#define MIN_STATUS 100
#define MAX_STATUS 599

typedef struct {
    char *name;
    uint64_t n;
} user_count_t;

struct fi_stats {
    uint64_t requests;
    uint64_t queries[IG_EP_COUNT];
    uint64_t statuses[MAX_STATUS - MIN_STATUS + 1];
    user_count_t *users;
    size_t nusers, capusers;
    char method[16];
    ig_buf_t path, key;
    int has_last;
};

int fi_stats_new(fi_stats_t **out) {
    *out = calloc(1, sizeof(**out));
    return *out ? IG_OK : IG_ENOMEM;
}

void fi_stats_free(fi_stats_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nusers; i++)
        free(s->users[i].name);
    free(s->users);
    ig_buf_free(&s->path);
    ig_buf_free(&s->key);
    free(s);
}

void fi_stats_request(fi_stats_t *s, ig_endpoint_t ep) {
    s->requests++;
    if (ep > IG_EP_UNKNOWN && ep < IG_EP_COUNT) s->queries[ep]++;
}

void fi_stats_status(fi_stats_t *s, int status) {
    if (status >= MIN_STATUS && status <= MAX_STATUS) s->statuses[status - MIN_STATUS]++;
}

int fi_stats_user(fi_stats_t *s, const char *user) {
    for (size_t i = 0; i < s->nusers; i++) {
        if (strcmp(s->users[i].name, user) == 0) {
            s->users[i].n++;
            return IG_OK;
        }
    }
    if (s->nusers == s->capusers) {
        size_t cap = s->capusers ? s->capusers * 2 : 4;
        user_count_t *p = realloc(s->users, cap * sizeof(*p));
        if (!p) return IG_ENOMEM;
        s->users = p;
        s->capusers = cap;
    }
    char *name = strdup(user);
    if (!name) return IG_ENOMEM;
    s->users[s->nusers++] = (user_count_t){name, 1};
    return IG_OK;
}

int fi_stats_last(fi_stats_t *s, const char *method, const char *path, size_t path_len,
                  const char *key, size_t key_len) {
    size_t m = strlen(method);
    if (m >= sizeof(s->method)) m = sizeof(s->method) - 1;
    memcpy(s->method, method, m);
    s->method[m] = '\0';
    ig_buf_reset(&s->path);
    ig_buf_reset(&s->key);
    s->has_last = 1;
    if (ig_buf_append(&s->path, path, path_len) || ig_buf_append(&s->key, key, key_len))
        return IG_ENOMEM;
    return IG_OK;
}

int fi_stats_render(const fi_stats_t *s, ig_buf_t *out) {
    static const ig_endpoint_t eps[] = {IG_EP_INVESTIGATE, IG_EP_ENRICH, IG_EP_ACCOUNT};
    int rc = ig_buf_puts(out, "{\"queries\":{");
    for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]) && !rc; i++)
        rc = ig_buf_printf(out, "%s\"%s\":%llu", i ? "," : "", ig_endpoint_name(eps[i]),
                           (unsigned long long)s->queries[eps[i]]);
    if (!rc) rc = ig_buf_puts(out, "},\"statuses\":{");
    int first = 1;
    for (int st = MIN_STATUS; st <= MAX_STATUS && !rc; st++) {
        uint64_t n = s->statuses[st - MIN_STATUS];
        if (!n) continue;
        rc = ig_buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", st, (unsigned long long)n);
        first = 0;
    }
    if (!rc) rc = ig_buf_puts(out, "},\"users\":{");
    for (size_t i = 0; i < s->nusers && !rc; i++) {
        if (i && ig_buf_putc(out, ',')) rc = IG_ENOMEM;
        if (!rc) rc = ig_buf_json_str(out, s->users[i].name, strlen(s->users[i].name));
        if (!rc) rc = ig_buf_printf(out, ":%llu", (unsigned long long)s->users[i].n);
    }
    if (!rc)
        rc = ig_buf_printf(out, "},\"requests\":%llu,\"last\":", (unsigned long long)s->requests);
    if (!rc && !s->has_last) rc = ig_buf_puts(out, "null");
    if (!rc && s->has_last) {
        rc = ig_buf_puts(out, "{\"method\":");
        if (!rc) rc = ig_buf_json_str(out, s->method, strlen(s->method));
        if (!rc) rc = ig_buf_puts(out, ",\"path\":");
        if (!rc) rc = ig_buf_json_str(out, s->path.data ? s->path.data : "", s->path.len);
        if (!rc) rc = ig_buf_puts(out, ",\"params\":");
        if (!rc) rc = ig_buf_json_str(out, s->key.data ? s->key.data : "", s->key.len);
        if (!rc) rc = ig_buf_putc(out, '}');
    }
    if (!rc) rc = ig_buf_puts(out, "}");
    return rc;
}

void fi_stats_reset(fi_stats_t *s) {
    s->requests = 0;
    memset(s->queries, 0, sizeof(s->queries));
    memset(s->statuses, 0, sizeof(s->statuses));
    for (size_t i = 0; i < s->nusers; i++)
        free(s->users[i].name);
    s->nusers = 0;
    s->has_last = 0;
    s->method[0] = '\0';
    ig_buf_reset(&s->path);
    ig_buf_reset(&s->key);
}
