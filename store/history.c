/* history.c — an observation older than a domain's latest (an old file imported late),
 * woven into the intervals of domain_pivots and domain_history without touching what is
 * current: an interval is one row per stretch of consecutive fetches that held a value, so
 * an observation at t between fetches prev and next may extend an interval ending at prev,
 * start one beginning at next earlier, join the two, add [t, t], or — for a value it did not
 * hold — cut an interval spanning t in two.
 *
 * Rare and small (one domain, a few rows per key), so plain statements, one per change.
 * Never begins or commits: runs inside ingest's transaction; the first failure is kept in
 * the sqlctx_t and everything after it is a no-op.
 */
#include "ingest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL helpers shared by the ingest files --------------------------------------------- */

void ig_q_fail(sqlctx_t *q, int sqlrc) {
    if (q->rc) return;
    q->rc = sqlrc == SQLITE_NOMEM ? IG_ENOMEM : IG_EIO;
    if (q->err && q->errlen) snprintf(q->err, q->errlen, "database: %s", sqlite3_errmsg(q->db));
}

sqlite3_stmt *ig_q(sqlctx_t *q, const char *sql) {
    if (q->rc) return NULL;
    sqlite3_stmt *s = ig_db_stmt(q->db, sql);
    if (!s) ig_q_fail(q, sqlite3_errcode(q->db));
    return s;
}

bool ig_q_done(sqlctx_t *q, sqlite3_stmt *s) {
    if (!s) return false;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    if (r != SQLITE_DONE) ig_q_fail(q, r);
    return r == SQLITE_DONE;
}

bool ig_q_row(sqlctx_t *q, sqlite3_stmt *s) {
    if (!s) return false;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) return true;
    sqlite3_reset(s);
    if (r != SQLITE_DONE) ig_q_fail(q, r);
    return false;
}

void ig_bind_text(sqlite3_stmt *s, int i, const char *p, size_t n) {
    if (p)
        sqlite3_bind_text64(s, i, p, n, SQLITE_STATIC, SQLITE_UTF8);
    else
        sqlite3_bind_null(s, i);
}

/* ---- statements, for links (L) and history rows (H) ---------------------------------------- */

/* ?1 domain, key ?2 (links) or ?2 ?3 (history) */
static const char L_LIST[] = "SELECT first_seen, last_seen FROM domain_pivots"
                             " WHERE domain_id = ?1 AND pivot_id = ?2 ORDER BY first_seen";
static const char H_LIST[] = "SELECT first_seen, last_seen FROM domain_history"
                             " WHERE domain_id = ?1 AND attr = ?2 AND value = ?3"
                             " ORDER BY first_seen";
/* set last_seen ?5 of the interval starting at ?4 */
static const char L_SET_LAST[] = "UPDATE domain_pivots SET last_seen = ?5"
                                 " WHERE domain_id = ?1 AND pivot_id = ?2 AND first_seen = ?4";
static const char H_SET_LAST[] = "UPDATE domain_history SET last_seen = ?5"
                                 " WHERE domain_id = ?1 AND attr = ?2 AND value = ?3"
                                 " AND first_seen = ?4";
/* set first_seen ?5 of the interval starting at ?4 */
static const char L_SET_FIRST[] = "UPDATE domain_pivots SET first_seen = ?5"
                                  " WHERE domain_id = ?1 AND pivot_id = ?2 AND first_seen = ?4";
static const char H_SET_FIRST[] = "UPDATE domain_history SET first_seen = ?5"
                                  " WHERE domain_id = ?1 AND attr = ?2 AND value = ?3"
                                  " AND first_seen = ?4";
static const char L_DEL[] = "DELETE FROM domain_pivots"
                            " WHERE domain_id = ?1 AND pivot_id = ?2 AND first_seen = ?4";
static const char H_DEL[] = "DELETE FROM domain_history"
                            " WHERE domain_id = ?1 AND attr = ?2 AND value = ?3 AND first_seen = ?4";
/* a new interval [?4, ?5] */
static const char L_INS[] = "INSERT INTO domain_pivots(domain_id, pivot_id, first_seen, last_seen)"
                            " VALUES(?1, ?2, ?4, ?5)";
static const char H_INS[] = "INSERT INTO domain_history(domain_id, attr, value, first_seen,"
                            " last_seen) VALUES(?1, ?2, ?3, ?4, ?5)";
/* intervals spanning (?2, ?3): first_seen <= prev and last_seen >= next */
static const char L_SPAN[] = "SELECT pivot_id, first_seen, last_seen FROM domain_pivots"
                             " WHERE domain_id = ?1 AND first_seen <= ?2 AND last_seen >= ?3";
static const char H_SPAN[] = "SELECT attr, value, first_seen, last_seen FROM domain_history"
                             " WHERE domain_id = ?1 AND first_seen <= ?2 AND last_seen >= ?3";

static void bind_key(sqlite3_stmt *s, int64_t domain_id, const ikey_t *k) {
    sqlite3_bind_int64(s, 1, domain_id);
    if (k->attr) {
        ig_bind_text(s, 2, k->attr, k->alen);
        ig_bind_text(s, 3, k->p, k->n);
    } else {
        sqlite3_bind_int64(s, 2, k->pivot_id);
    }
}

/* Runs one change statement on the intervals of k: a (start) and b (new time), each may be
 * NULL when the statement does not use it. */
static void change(sqlctx_t *q, const char *sql, int64_t domain_id, const ikey_t *k,
                   const char *a, const char *b) {
    sqlite3_stmt *s = ig_q(q, sql);
    if (!s) return;
    bind_key(s, domain_id, k);
    if (a) sqlite3_bind_text(s, 4, a, -1, SQLITE_TRANSIENT);
    if (b) sqlite3_bind_text(s, 5, b, -1, SQLITE_TRANSIENT);
    ig_q_done(q, s);
}

typedef struct {
    char first[24], last[24];
} span_t;

void ig_hist_held(sqlctx_t *q, const when_t *w, const ikey_t *k) {
    bool h = k->attr != NULL;
    sqlite3_stmt *s = ig_q(q, h ? H_LIST : L_LIST);
    if (!s) return;
    bind_key(s, w->domain_id, k);
    span_t a = {{0}, {0}}, b = {{0}, {0}};
    bool has_a = false, has_b = false;
    while (ig_q_row(q, s)) {
        const char *f = (const char *)sqlite3_column_text(s, 0);
        const char *l = (const char *)sqlite3_column_text(s, 1);
        if (!f || !l) continue;
        if (strcmp(f, w->t) <= 0 && strcmp(w->t, l) <= 0) { /* already covered */
            sqlite3_reset(s);
            return;
        }
        if (w->prev && strcmp(l, w->prev) == 0) {
            has_a = true;
            snprintf(a.first, sizeof(a.first), "%s", f);
            snprintf(a.last, sizeof(a.last), "%s", l);
        }
        if (w->next && strcmp(f, w->next) == 0) {
            has_b = true;
            snprintf(b.first, sizeof(b.first), "%s", f);
            snprintf(b.last, sizeof(b.last), "%s", l);
        }
    }
    if (q->rc) return;
    if (has_a && has_b) { /* t was the gap between them: one interval */
        change(q, h ? H_DEL : L_DEL, w->domain_id, k, b.first, NULL);
        change(q, h ? H_SET_LAST : L_SET_LAST, w->domain_id, k, a.first, b.last);
    } else if (has_a) {
        change(q, h ? H_SET_LAST : L_SET_LAST, w->domain_id, k, a.first, w->t);
    } else if (has_b) {
        change(q, h ? H_SET_FIRST : L_SET_FIRST, w->domain_id, k, b.first, w->t);
    } else {
        change(q, h ? H_INS : L_INS, w->domain_id, k, w->t, w->t);
    }
}

typedef struct {
    ikey_t k;
    char *attr, *value; /* copies (history) */
    char first[24], last[24];
} cut_t;

void ig_hist_split(sqlctx_t *q, const when_t *w, bool links,
                   bool (*held)(void *arg, const ikey_t *k), void *arg) {
    if (w->known || !w->prev || !w->next || q->rc) return;
    sqlite3_stmt *s = ig_q(q, links ? L_SPAN : H_SPAN);
    if (!s) return;
    sqlite3_bind_int64(s, 1, w->domain_id);
    sqlite3_bind_text(s, 2, w->prev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, w->next, -1, SQLITE_TRANSIENT);
    /* Read them all first: the cuts write to the table being read. */
    cut_t *cuts = NULL;
    size_t n = 0, cap = 0;
    while (ig_q_row(q, s)) {
        int c = links ? 1 : 2;
        const char *f = (const char *)sqlite3_column_text(s, c);
        const char *l = (const char *)sqlite3_column_text(s, c + 1);
        if (!f || !l) continue;
        cut_t x = {.k = {0}};
        if (links) {
            x.k.pivot_id = sqlite3_column_int64(s, 0);
        } else {
            const char *at = (const char *)sqlite3_column_text(s, 0);
            const char *v = (const char *)sqlite3_column_text(s, 1);
            x.attr = strdup(at ? at : "");
            x.value = strdup(v ? v : "");
            if (!x.attr || !x.value) {
                free(x.attr);
                free(x.value);
                q->rc = IG_ENOMEM;
                break;
            }
            x.k.attr = x.attr;
            x.k.alen = (uint32_t)strlen(x.attr);
            x.k.p = x.value;
            x.k.n = (uint32_t)strlen(x.value);
        }
        snprintf(x.first, sizeof(x.first), "%s", f);
        snprintf(x.last, sizeof(x.last), "%s", l);
        if (held(arg, &x.k)) {
            free(x.attr);
            free(x.value);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cut_t *p = realloc(cuts, nc * sizeof(*p));
            if (!p) {
                free(x.attr);
                free(x.value);
                q->rc = IG_ENOMEM;
                break;
            }
            cuts = p;
            cap = nc;
        }
        cuts[n++] = x;
    }
    if (q->rc) sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        const char *ins = links ? L_INS : H_INS, *set = links ? L_SET_LAST : H_SET_LAST;
        change(q, set, w->domain_id, &cuts[i].k, cuts[i].first, w->prev);
        change(q, ins, w->domain_id, &cuts[i].k, w->next, cuts[i].last);
        free(cuts[i].attr);
        free(cuts[i].value);
    }
    free(cuts);
}
