/* metrics.c — the metrics registry behind `/metrics` (metrics.h lists the families): label
 * sets to counters and histograms, and their rendering in Prometheus text format 0.0.4.
 *
 * Each family is a small open-addressing hash table of series keyed by its (at most two)
 * label values, copied on first use and capped at IG_METRICS_MAX_SERIES, so a flood of
 * user names cannot grow memory without bound. Histograms keep one count per bucket and
 * render them cumulatively, ending with le="+Inf" equal to _count. Rendering sorts the
 * series so scrapes are stable and diffable. Loop thread only: no locks, no I/O, never
 * blocks; the caller sends the rendered text.
 */
#include "irisgate/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *v[2];       /* label values (v[1] NULL for one-label families) */
    uint64_t hash;    /* of the label values */
    double value;     /* a counter's value, or a histogram's _sum */
    uint64_t count;   /* a histogram's _count */
    uint64_t *bucket; /* a histogram's per-bucket counts (not cumulative) */
} series_t;

typedef struct {
    const char *name, *help, *type; /* type: "counter" or "histogram" */
    const char *label[2];           /* label names; label[1] NULL for one label */
    const double *bounds;           /* histogram upper bounds, ascending; +Inf implied */
    size_t nbounds;
    series_t **slot; /* open addressing; NULL = empty */
    size_t cap, n;
} family_t;

static const double duration_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60};
static const double wait_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                     5,    10,   20,  30,   45,  60, 120};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

enum { F_REQUESTS, F_DURATION, F_UPSTREAM, F_WAIT, F_SPEND, NFAMILIES };

struct ig_metrics {
    family_t f[NFAMILIES];
    uint64_t hits, misses; /* for irisgate_cache_hit_ratio */
    uint64_t dropped;      /* observations of series past the cap */
};

ig_metrics_t *ig_metrics_new(void) {
    ig_metrics_t *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->f[F_REQUESTS] = (family_t){.name = "irisgate_requests_total",
                                  .help = "Client requests answered, by endpoint and outcome.",
                                  .type = "counter",
                                  .label = {"endpoint", "outcome"}};
    m->f[F_DURATION] = (family_t){.name = "irisgate_request_duration_seconds",
                                  .help = "Time from a client request to its answer.",
                                  .type = "histogram",
                                  .label = {"endpoint", NULL},
                                  .bounds = duration_bounds,
                                  .nbounds = NB(duration_bounds)};
    m->f[F_UPSTREAM] =
        (family_t){.name = "irisgate_upstream_queries_total",
                   .help = "Queries sent to the upstream Iris API, by product and HTTP status.",
                   .type = "counter",
                   .label = {"product", "status"}};
    m->f[F_WAIT] = (family_t){.name = "irisgate_queue_wait_seconds",
                              .help = "Time requests waited in the upstream limiter's queue.",
                              .type = "histogram",
                              .label = {"product", NULL},
                              .bounds = wait_bounds,
                              .nbounds = NB(wait_bounds)};
    m->f[F_SPEND] = (family_t){.name = "irisgate_user_upstream_queries_total",
                               .help = "Upstream queries spent on behalf of each user.",
                               .type = "counter",
                               .label = {"user", "product"}};
    return m;
}

void ig_metrics_free(ig_metrics_t *m) {
    if (!m) return;
    for (int i = 0; i < NFAMILIES; i++) {
        family_t *f = &m->f[i];
        for (size_t k = 0; k < f->cap; k++) {
            series_t *s = f->slot[k];
            if (!s) continue;
            free(s->v[0]);
            free(s->v[1]);
            free(s->bucket);
            free(s);
        }
        free(f->slot);
    }
    free(m);
}

/* ---- series lookup ------------------------------------------------------------------------ */

static uint64_t hash_labels(const char *a, const char *b) {
    uint64_t h = ig_hash64(a, strlen(a) + 1); /* the NUL keeps ("ab","c") apart from ("a","bc") */
    return b ? h ^ (ig_hash64(b, strlen(b)) * 0x9E3779B97F4A7C15ull) : h;
}

static int grow(family_t *f) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    series_t **slot = calloc(cap, sizeof(*slot));
    if (!slot) return IG_ENOMEM;
    for (size_t k = 0; k < f->cap; k++) {
        series_t *s = f->slot[k];
        if (!s) continue;
        size_t i = s->hash & (cap - 1);
        while (slot[i])
            i = (i + 1) & (cap - 1);
        slot[i] = s;
    }
    free(f->slot);
    f->slot = slot;
    f->cap = cap;
    return IG_OK;
}

/* The series of (a, b) in f, created on first use. NULL with *rc set when it cannot be. */
static series_t *series(ig_metrics_t *m, family_t *f, const char *a, const char *b, int *rc) {
    if (!a) a = "";
    if (f->label[1] && !b) b = "";
    if (!f->label[1]) b = NULL;
    uint64_t h = hash_labels(a, b);
    size_t i = 0;
    if (f->cap) {
        for (i = h & (f->cap - 1); f->slot[i]; i = (i + 1) & (f->cap - 1)) {
            series_t *s = f->slot[i];
            if (s->hash == h && strcmp(s->v[0], a) == 0 && (!b || strcmp(s->v[1], b) == 0))
                return s;
        }
    }
    if (f->n >= IG_METRICS_MAX_SERIES) {
        m->dropped++;
        *rc = IG_ETOOBIG;
        return NULL;
    }
    if ((f->n + 1) * 2 > f->cap) { /* keep the load under one half */
        if (grow(f) != IG_OK) {
            *rc = IG_ENOMEM;
            return NULL;
        }
        for (i = h & (f->cap - 1); f->slot[i]; i = (i + 1) & (f->cap - 1))
            ;
    }
    series_t *s = calloc(1, sizeof(*s));
    if (s) {
        s->hash = h;
        s->v[0] = strdup(a);
        s->v[1] = b ? strdup(b) : NULL;
        if (f->nbounds) s->bucket = calloc(f->nbounds, sizeof(*s->bucket));
    }
    if (!s || !s->v[0] || (b && !s->v[1]) || (f->nbounds && !s->bucket)) {
        if (s) {
            free(s->v[0]);
            free(s->v[1]);
            free(s->bucket);
            free(s);
        }
        *rc = IG_ENOMEM;
        return NULL;
    }
    f->slot[i] = s;
    f->n++;
    return s;
}

static void observe(const family_t *f, series_t *s, double v) {
    if (!(v >= 0)) v = 0; /* negative or NaN: a clock step, not a real duration */
    size_t b = 0;
    while (b < f->nbounds && v > f->bounds[b])
        b++;
    if (b < f->nbounds) s->bucket[b]++;
    s->count++;
    s->value += v;
}

/* ---- observations ------------------------------------------------------------------------- */

static bool is_hit(const char *o) {
    return strcmp(o, "HIT") == 0 || strcmp(o, "STALE") == 0 || strcmp(o, "COALESCED") == 0;
}

static bool is_miss(const char *o) {
    return strcmp(o, "MISS") == 0 || strcmp(o, "PARTIAL") == 0 || strcmp(o, "QUEUED") == 0;
}

int ig_metrics_request(ig_metrics_t *m, const char *endpoint, const char *outcome, double seconds) {
    if (!m) return IG_EINVAL;
    if (!outcome) outcome = "";
    int rc = IG_OK;
    series_t *s = series(m, &m->f[F_REQUESTS], endpoint, outcome, &rc);
    if (s) s->value += 1;
    series_t *d = series(m, &m->f[F_DURATION], endpoint, NULL, &rc);
    if (d) observe(&m->f[F_DURATION], d, seconds);
    if (is_hit(outcome)) m->hits++;
    if (is_miss(outcome)) m->misses++;
    return rc;
}

int ig_metrics_upstream(ig_metrics_t *m, const char *product, int status) {
    if (!m) return IG_EINVAL;
    char st[16];
    if (status > 0)
        snprintf(st, sizeof(st), "%d", status);
    else
        snprintf(st, sizeof(st), "error");
    int rc = IG_OK;
    series_t *s = series(m, &m->f[F_UPSTREAM], product, st, &rc);
    if (s) s->value += 1;
    return rc;
}

int ig_metrics_queue_wait(ig_metrics_t *m, const char *product, double seconds) {
    if (!m) return IG_EINVAL;
    int rc = IG_OK;
    series_t *s = series(m, &m->f[F_WAIT], product, NULL, &rc);
    if (s) observe(&m->f[F_WAIT], s, seconds);
    return rc;
}

int ig_metrics_spend(ig_metrics_t *m, const char *user, const char *product, int64_t n) {
    if (!m || n < 0) return IG_EINVAL;
    int rc = IG_OK;
    series_t *s = series(m, &m->f[F_SPEND], user, product, &rc);
    if (s) s->value += (double)n;
    return rc;
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* A float the way Prometheus parses it back: the shortest text that round-trips. */
static int put_float(ig_buf_t *b, double v) {
    if (isnan(v)) return ig_buf_puts(b, "NaN");
    if (isinf(v)) return ig_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    char t[40];
    if (v == floor(v) && fabs(v) < 1e15) { /* counts and round bounds: "60", never "6e+01" */
        snprintf(t, sizeof(t), "%.0f", v);
        return ig_buf_puts(b, t);
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof(t), "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    return ig_buf_puts(b, t);
}

/* A label value: backslash, double quote and line feed escaped (format 0.0.4). */
static int put_label_value(ig_buf_t *b, const char *s) {
    int rc = ig_buf_putc(b, '"');
    for (; *s && rc == IG_OK; s++) {
        if (*s == '\\')
            rc = ig_buf_puts(b, "\\\\");
        else if (*s == '"')
            rc = ig_buf_puts(b, "\\\"");
        else if (*s == '\n')
            rc = ig_buf_puts(b, "\\n");
        else
            rc = ig_buf_putc(b, *s);
    }
    return rc == IG_OK ? ig_buf_putc(b, '"') : rc;
}

/* name{l0="v0",l1="v1"[,le="bound"]} — or name alone without labels. */
static int put_name(ig_buf_t *b, const family_t *f, const char *suffix, const series_t *s,
                    const char *le) {
    int rc = ig_buf_printf(b, "%s%s", f->name, suffix);
    if (!s && !le) return rc;
    char sep = '{';
    for (int i = 0; s && i < 2 && f->label[i] && rc == IG_OK; i++) {
        rc = ig_buf_printf(b, "%c%s=", sep, f->label[i]);
        if (rc == IG_OK) rc = put_label_value(b, s->v[i]);
        sep = ',';
    }
    if (le && rc == IG_OK) rc = ig_buf_printf(b, "%cle=\"%s\"", sep, le);
    return rc == IG_OK ? ig_buf_puts(b, "} ") : rc;
}

static int put_header(ig_buf_t *b, const char *name, const char *help, const char *type) {
    return ig_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int cmp_series(const void *x, const void *y) {
    const series_t *a = *(series_t *const *)x, *b = *(series_t *const *)y;
    int c = strcmp(a->v[0], b->v[0]);
    if (c || !a->v[1]) return c;
    return strcmp(a->v[1], b->v[1]);
}

static int render_family(const family_t *f, ig_buf_t *b) {
    int rc = put_header(b, f->name, f->help, f->type);
    if (rc != IG_OK || f->n == 0) return rc;
    series_t **all = malloc(f->n * sizeof(*all));
    if (!all) return IG_ENOMEM;
    size_t n = 0;
    for (size_t k = 0; k < f->cap; k++)
        if (f->slot[k]) all[n++] = f->slot[k];
    qsort(all, n, sizeof(*all), cmp_series);
    for (size_t i = 0; i < n && rc == IG_OK; i++) {
        const series_t *s = all[i];
        if (!f->nbounds) {
            rc = put_name(b, f, "", s, NULL);
            if (rc == IG_OK) rc = put_float(b, s->value);
            if (rc == IG_OK) rc = ig_buf_putc(b, '\n');
            continue;
        }
        uint64_t cum = 0;
        for (size_t k = 0; k <= f->nbounds && rc == IG_OK; k++) {
            ig_buf_t le = {0};
            if (k < f->nbounds) {
                cum += s->bucket[k];
                rc = put_float(&le, f->bounds[k]);
            } else {
                cum = s->count;
                rc = ig_buf_puts(&le, "+Inf");
            }
            if (rc == IG_OK) rc = put_name(b, f, "_bucket", s, le.data);
            if (rc == IG_OK) rc = ig_buf_printf(b, "%" PRIu64 "\n", cum);
            ig_buf_free(&le);
        }
        if (rc == IG_OK) rc = put_name(b, f, "_sum", s, NULL);
        if (rc == IG_OK) rc = put_float(b, s->value);
        if (rc == IG_OK) rc = ig_buf_putc(b, '\n');
        if (rc == IG_OK) rc = put_name(b, f, "_count", s, NULL);
        if (rc == IG_OK) rc = ig_buf_printf(b, "%" PRIu64 "\n", s->count);
    }
    free(all);
    return rc;
}

static int render_gauge(ig_buf_t *b, const char *name, const char *help, double v) {
    int rc = put_header(b, name, help, "gauge");
    if (rc == IG_OK) rc = ig_buf_printf(b, "%s ", name);
    if (rc == IG_OK) rc = put_float(b, v);
    return rc == IG_OK ? ig_buf_putc(b, '\n') : rc;
}

static int render_queues(ig_buf_t *b, const ig_metrics_gauges_t *g) {
    const char *name = "irisgate_queue_depth";
    int rc = put_header(b, name, "Requests waiting in the upstream limiter's queue now.", "gauge");
    for (size_t i = 0; i < g->nqueues && rc == IG_OK; i++) {
        rc = ig_buf_printf(b, "%s{product=", name);
        if (rc == IG_OK) rc = put_label_value(b, g->queues[i].product ? g->queues[i].product : "");
        if (rc == IG_OK) rc = ig_buf_printf(b, "} %" PRId64 "\n", g->queues[i].depth);
    }
    return rc;
}

bool ig_metrics_admin(const char *peer, const char *authorization, const char *token) {
    if (strcmp(peer, "127.0.0.1") == 0 || strcmp(peer, "::1") == 0) return true;
    if (!token || !*token || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    return ig_ct_equal(authorization + 7, strlen(authorization + 7), token, strlen(token));
}

int ig_metrics_render(const ig_metrics_t *m, const ig_metrics_gauges_t *g, ig_buf_t *out) {
    if (!m || !out) return IG_EINVAL;
    int rc = render_family(&m->f[F_REQUESTS], out);
    if (rc == IG_OK) rc = render_family(&m->f[F_DURATION], out);
    if (rc == IG_OK) rc = render_family(&m->f[F_UPSTREAM], out);
    if (rc == IG_OK && g) rc = render_queues(out, g);
    if (rc == IG_OK) rc = render_family(&m->f[F_WAIT], out);
    if (rc == IG_OK && g)
        rc = render_gauge(out, "irisgate_cache_entries", "Answers held in the hot cache.",
                          (double)g->cache_entries);
    if (rc == IG_OK && g)
        rc = render_gauge(out, "irisgate_cache_bytes", "Bytes held in the hot cache.",
                          (double)g->cache_bytes);
    uint64_t asked = m->hits + m->misses;
    if (rc == IG_OK)
        rc = render_gauge(out, "irisgate_cache_hit_ratio",
                          "Requests answered without an upstream query of their own (HIT, "
                          "STALE, COALESCED) over those plus misses (MISS, PARTIAL, QUEUED), "
                          "since start.",
                          asked ? (double)m->hits / (double)asked : 0.0);
    if (rc == IG_OK) rc = render_family(&m->f[F_SPEND], out);
    if (rc == IG_OK)
        rc = put_header(out, "irisgate_metrics_series_dropped_total",
                        "Observations dropped because their family had "
                        "reached its series limit.",
                        "counter");
    if (rc == IG_OK)
        rc = ig_buf_printf(out, "irisgate_metrics_series_dropped_total %" PRIu64 "\n", m->dropped);
    return rc;
}
