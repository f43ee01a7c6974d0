/* test_ingest.c — normalizing Iris answers into the intel tables (store/ingest.c): recorded
 * Investigate, Enrich and legacy answers land in the right columns (expected values read by
 * hand from ../shared/iris/responses, file named beside each check), history is extended and
 * old answers never overwrite newer ones, account and error answers are refused, and hostile
 * input (every field removed, every type swapped, truncated JSON, huge lists, deep nesting,
 * a failure half-way) is refused or tolerated without a crash, leaving no row once the
 * caller's savepoint is rolled back. */
#include "../../store/jtree_int.h"
#include "../../store/store_int.h"
#include "check.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Times used throughout, with their UTC text as the store writes it. */
#define T0 1699913600LL /* 2023-11-13 22:13:20 */
#define T1 1700000000LL /* 2023-11-14 22:13:20 */
#define T2 1700086400LL /* 2023-11-15 22:13:20 */
#define T3 1700172800LL /* 2023-11-16 22:13:20 */
#define T0S "2023-11-13 22:13:20"
#define T1S "2023-11-14 22:13:20"
#define T2S "2023-11-15 22:13:20"
#define T3S "2023-11-16 22:13:20"

#define NONE LLONG_MIN /* qi(): NULL or no row */

#define F_DOMAINTOOLS                                                                              \
    "iris-investigate__inner-response__domain=domaintools.com__200__python_api-tests-responses@"   \
    "2b05d75.json"
#define F_INV_AG                                                                                   \
    "iris-investigate__POST__domain=amazon.com,google.com__200__python_api@e44e2f1.json"
#define F_ENRICH "iris-enrich__POST__domain=google.com__200__python_api@e44e2f1.json"
#define F_LEGACY_2018 "iris-legacy__GET__domain=google.com__200__python_api@15411dd.json"
#define F_LEGACY_STR "iris-legacy__GET__domain=google.com__200__python_api@5ecf1f4.json"
#define F_LEGACY_2022 "iris-legacy__GET__domain=google.com__200__python_api@e44e2f1.json"
#define F_LIMIT "iris-investigate__POST__ip=8.8.8.8__200__python_api@e1499d7.json"
#define F_INV_2018                                                                                 \
    "iris-investigate__GET__domain=amazon.com,google.com__200__python_api@5ecf1f4.json"
#define F_INV_2019                                                                                 \
    "iris-investigate__POST__domain=amazon.com,google.com__200__python_api@6109253.json"
#define F_INV_2022                                                                                 \
    "iris-investigate__POST__domain=amazon.com,google.com__200__python_api@2f931b4.json"
#define F_ENRICH_2018 "iris-enrich__GET__domain=google.com__200__python_api@5ecf1f4.json"
#define F_ENRICH_2021 "iris-enrich__POST__domain=google.com__200__python_api@04c7908.json"
#define F_ENRICH_2022 "iris-enrich__POST__domain=google.com__200__python_api@1483a15.json"

static const char *const tables[] = {
    "domains",  "domain_raw", "ips",           "name_servers",    "mail_servers",
    "contacts", "emails",     "ssl",           "risk_components", "tracking_codes",
    "tags",     "pivots",     "domain_pivots", "domain_history",  "risk_history"};
#define NTABLES ((int)(sizeof(tables) / sizeof(tables[0])))

/* ---- helpers -------------------------------------------------------------------------------- */

static const char *responses_dir(void) {
    static char dir[1024];
    const char *s = getenv("IG_SHARED_DIR");
    snprintf(dir, sizeof(dir), "%s/iris/responses", s ? s : "../shared");
    return dir;
}

static char *read_path(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!s) return NULL;
    s[got] = '\0';
    *len = got;
    return s;
}

static char *fixture(const char *name, size_t *len) {
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", responses_dir(), name);
    char *s = read_path(path, len);
    if (!s) fprintf(stderr, "cannot read fixture %s\n", path);
    return s;
}

static sqlite3 *open_db(void) {
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return NULL;
    char *e = NULL;
    ig_db_register_functions(db);
    /* the intel tables as irisgate migrates them: version 2, then version 4 */
    if (sqlite3_exec(db, ig_schema_intel, NULL, NULL, &e) != SQLITE_OK ||
        sqlite3_exec(db, ig_schema_intel_v4, NULL, NULL, &e) != SQLITE_OK) {
        fprintf(stderr, "schema: %s\n", e ? e : "?");
        sqlite3_free(e);
    }
    return db;
}

/* What the writer does: one savepoint per answer, rolled back when the ingest fails. */
static int ingest(sqlite3 *db, const char *endpoint, const char *body, size_t len, int64_t t,
                  size_t *n, char *err, size_t errlen) {
    sqlite3_exec(db, "SAVEPOINT ingest", NULL, NULL, NULL);
    int rc = ig_ingest_answer(db, endpoint, body, len, t, n, err, errlen);
    if (rc != IG_OK) sqlite3_exec(db, "ROLLBACK TO ingest", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE ingest", NULL, NULL, NULL);
    return rc;
}

static int ingest_fixture(sqlite3 *db, const char *endpoint, const char *name, int64_t t,
                          size_t *n) {
    size_t len;
    char *body = fixture(name, &len);
    if (!body) return -1;
    char err[256];
    int rc = ingest(db, endpoint, body, len, t, n, err, sizeof(err));
    if (rc != IG_OK) fprintf(stderr, "%s: %s\n", name, err);
    free(body);
    return rc;
}

/* As `irisgate import` does: each result at its data_updated_timestamp when it has one,
 * else at t; endpoint NULL: told by the answer's shape. */
static int import_at(sqlite3 *db, const char *endpoint, const char *body, size_t len, int64_t t,
                     size_t *n) {
    ig_ingest_t *g = ig_ingest_new();
    ig_ingest_opts_t o = {.endpoint = endpoint, .observed_at = t, .result_times = true};
    char err[256] = "";
    sqlite3_exec(db, "SAVEPOINT ingest", NULL, NULL, NULL);
    int rc = ig_ingest_run(g, db, body, len, &o, n, err, sizeof(err));
    if (rc != IG_OK) {
        fprintf(stderr, "import: %s\n", err);
        sqlite3_exec(db, "ROLLBACK TO ingest", NULL, NULL, NULL);
    }
    sqlite3_exec(db, "RELEASE ingest", NULL, NULL, NULL);
    ig_ingest_free(g);
    return rc;
}

static int import_fixture(sqlite3 *db, const char *endpoint, const char *name, int64_t t,
                          size_t *n) {
    size_t len;
    char *body = fixture(name, &len);
    if (!body) return -1;
    int rc = import_at(db, endpoint, body, len, t, n);
    free(body);
    return rc;
}

static int ingest_str(sqlite3 *db, const char *endpoint, const char *body, int64_t t, size_t *n) {
    char err[256];
    return ingest(db, endpoint, body, strlen(body), t, n, err, sizeof(err));
}

/* The first column of the first row of a query, as text (NULL: no row or NULL). */
static const char *qs(sqlite3 *db, const char *fmt, ...) {
    static char bufs[8][1024];
    static int next;
    char *buf = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    const char *out = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fprintf(stderr, "bad test query %s: %s\n", sql, sqlite3_errmsg(db));
    else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        snprintf(buf, sizeof(bufs[0]), "%s", (const char *)sqlite3_column_text(st, 0));
        out = buf;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return out;
}

static long long qi(sqlite3 *db, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    long long out = NONE;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fprintf(stderr, "bad test query %s: %s\n", sql, sqlite3_errmsg(db));
    else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return out;
}

static long long total_rows(sqlite3 *db) {
    long long n = 0;
    for (int i = 0; i < NTABLES; i++)
        n += qi(db, "SELECT count(*) FROM %s", tables[i]);
    return n;
}

/* The vendor count stored for a pivot value, and its domain link's times. */
#define PIVOT_COUNT(db, f, v) qi(db, "SELECT count FROM pivots WHERE field=%Q AND value=%Q", f, v)
#define LINK(db, col, f, v, d)                                                                     \
    qs(db,                                                                                         \
       "SELECT dp." col " FROM domain_pivots dp JOIN pivots p USING (pivot_id) JOIN domains d"     \
       " USING (domain_id) WHERE p.field=%Q AND p.value=%Q AND d.domain=%Q",                       \
       f, v, d)

/* A value's stored count, its links (every interval), and its intervals [first, last]. */
#define STORED(db, f, v)                                                                           \
    qi(db, "SELECT stored_count FROM pivots WHERE field = %Q AND value = %Q", f, v)
#define LINKS(db, f, v)                                                                            \
    qi(db,                                                                                         \
       "SELECT count(*) FROM domain_pivots dp JOIN pivots p USING (pivot_id)"                      \
       " WHERE p.field = %Q AND p.value = %Q",                                                     \
       f, v)
#define INTERVALS(db, f, v, first, last)                                                           \
    qi(db,                                                                                         \
       "SELECT count(*) FROM domain_pivots dp JOIN pivots p USING (pivot_id)"                      \
       " WHERE p.field = %Q AND p.value = %Q AND dp.first_seen = %Q AND dp.last_seen = %Q",        \
       f, v, first, last)

static char *replace_all(const char *s, const char *from, const char *to);

/* What must hold after any sequence of answers: stored counts as the counting query says,
 * intervals inside the domain's fetches and never overlapping, every boundary a fetch, the
 * current raw result and its fetch, no dangling reference. */
static void check_invariants(sqlite3 *db) {
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots p WHERE stored_count <> (SELECT count(*)"
                        " FROM domain_pivots dp JOIN domains d ON d.domain_id = dp.domain_id"
                        " WHERE dp.pivot_id = p.pivot_id AND dp.last_seen = d.last_fetched)"),
                 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    static const char *const iv[] = {"domain_pivots", "domain_history"};
    static const char *const key[] = {"a.pivot_id = b.pivot_id",
                                      "a.attr = b.attr AND a.value = b.value"};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(qi(db,
                        "SELECT count(*) FROM %s x JOIN domains d USING (domain_id) WHERE"
                        " x.first_seen > x.last_seen OR x.first_seen < d.first_fetched OR"
                        " x.last_seen > d.last_fetched",
                        iv[i]),
                     0);
        CHECK_EQ_INT(qi(db,
                        "SELECT count(*) FROM %s a JOIN %s b ON a.domain_id = b.domain_id AND"
                        " %s AND a.first_seen < b.first_seen AND a.last_seen >= b.first_seen",
                        iv[i], iv[i], key[i]),
                     0);
        CHECK_EQ_INT(qi(db,
                        "SELECT count(*) FROM %s x WHERE NOT EXISTS (SELECT 1 FROM fetches f"
                        " WHERE f.domain_id = x.domain_id AND f.observed_at = x.first_seen)"
                        " OR NOT EXISTS (SELECT 1 FROM fetches f WHERE f.domain_id ="
                        " x.domain_id AND f.observed_at = x.last_seen)",
                        iv[i]),
                     0);
    }
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains d LEFT JOIN domain_raw r ON"
                        " r.raw_id = d.raw_id WHERE r.domain_id IS NOT d.domain_id"),
                 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains d WHERE NOT EXISTS (SELECT 1 FROM"
                        " fetches f WHERE f.domain_id = d.domain_id AND"
                        " f.observed_at = d.last_fetched AND f.raw_id = d.raw_id)"),
                 0);
    /* the current tables agree with the current links */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips i JOIN domains d USING (domain_id) WHERE"
                        " NOT EXISTS (SELECT 1 FROM domain_pivots dp JOIN pivots p USING"
                        " (pivot_id) WHERE dp.domain_id = i.domain_id AND p.field = 'ip' AND"
                        " p.value = i.address AND dp.last_seen = d.last_fetched)"),
                 0);
}

/* ---- recorded answers ----------------------------------------------------------------------- */

/* Values from F_DOMAINTOOLS (the bare response object, no {"response":} wrapper). */
static void test_investigate_domaintools_columns_and_pivots(void) {
    sqlite3 *db = open_db();
    size_t n = 99;
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_DOMAINTOOLS, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    const char *D = "SELECT %s FROM domains WHERE domain='domaintools.com'";
    CHECK_EQ_STR(qs(db, D, "create_date"), "1998-08-02");
    CHECK_EQ_STR(qs(db, D, "expiration_date"), "2027-08-01");
    CHECK_EQ_STR(qs(db, D, "registrar"), "ENOM, INC.");
    CHECK_EQ_STR(qs(db, D, "registrar_status"), "clienttransferprohibited");
    CHECK_EQ_STR(qs(db, D, "registrant_name"), "REDACTED FOR PRIVACY");
    CHECK_EQ_STR(qs(db, D, "tld"), "com");
    CHECK_EQ_INT(qi(db, D, "active"), 1);
    CHECK_EQ_INT(qi(db, D, "website_response"), 500);
    CHECK_EQ_INT(qi(db, D, "alexa"), 2558);
    CHECK_EQ_INT(qi(db, D, "popularity_rank"), 4043);
    CHECK_EQ_INT(qi(db, D, "risk_score"), 0);
    CHECK_EQ_STR(qs(db, D, "data_updated"), "2022-06-09T16:05:01.373000");
    CHECK_EQ_STR(qs(db, D, "whois_url"), "https://whois.domaintools.com/domaintools.com");
    CHECK_EQ_STR(qs(db, D, "source"), "iris-investigate");
    CHECK_EQ_STR(qs(db, D, "first_fetched"), T1S);
    CHECK_EQ_STR(qs(db, D, "last_fetched"), T1S);
    /* empty VCs ({"value":"","count":0}) and "" are absent */
    CHECK_EQ_INT(qi(db, D, "redirect IS NULL AND redirect_domain IS NULL AND spf_info IS NULL"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='adsense' OR value=''"), 0);

    /* ip[0]: 199.30.228.112 (count 4), asn 17318 (count 111), "US", "DomainTools LLC" (222) */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 1);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips WHERE position=0"), "199.30.228.112");
    CHECK_EQ_INT(qi(db, "SELECT asn FROM ips WHERE position=0"), 17318);
    CHECK_EQ_STR(qs(db, "SELECT asns FROM ips WHERE position=0"), "17318");
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips WHERE position=0"), "us");
    CHECK_EQ_STR(qs(db, "SELECT isp FROM ips WHERE position=0"), "DomainTools LLC");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "199.30.228.112"), 4);
    CHECK_EQ_STR(qs(db, "SELECT count_at FROM pivots WHERE field='ip'"), T1S);
    CHECK_EQ_INT(PIVOT_COUNT(db, "asn", "17318"), 111);
    CHECK_EQ_INT(PIVOT_COUNT(db, "isp_name", "DomainTools LLC"), 222);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", "199.30.228.112", "domaintools.com"), T1S);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", "199.30.228.112", "domaintools.com"), T1S);

    /* name_server: 4 hosts, all in nsone.net (count 2983519) */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM name_servers"), 4);
    CHECK_EQ_STR(qs(db, "SELECT host FROM name_servers WHERE position=0"), "dns4.p04.nsone.net");
    CHECK_EQ_STR(qs(db, "SELECT domain FROM name_servers WHERE position=0"), "nsone.net");
    CHECK_EQ_STR(qs(db, "SELECT ips FROM name_servers WHERE position=0"), "198.51.45.68");
    CHECK_EQ_STR(qs(db, "SELECT host FROM name_servers WHERE position=3"), "dns3.p04.nsone.net");
    CHECK_EQ_INT(PIVOT_COUNT(db, "nameserver_host", "dns1.p04.nsone.net"), 367050);
    CHECK_EQ_INT(PIVOT_COUNT(db, "nameserver_domain", "nsone.net"), 2983519);
    CHECK_EQ_INT(PIVOT_COUNT(db, "nameserver_ip", "198.51.44.4"), 367054);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='nameserver_domain'"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_pivots JOIN pivots USING (pivot_id)"
                        " WHERE field='nameserver_domain'"),
                 1);

    /* mx: 6 servers; mx[1] aspmx3.googlemail.com priority 10, ip 142.250.115.26 */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM mail_servers"), 6);
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers WHERE position=1"), "aspmx3.googlemail.com");
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers WHERE position=1"), 10);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers WHERE position=1"), "142.250.115.26");
    CHECK_EQ_INT(PIVOT_COUNT(db, "mailserver_domain", "googlemail.com"), 8166213);

    /* domain_risk: risk_score 0, one component zerolist 0 */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 1);
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM risk_components WHERE name='zerolist'"), 0);
    CHECK_EQ_INT(qi(db,
                    "SELECT count(*) FROM risk_history WHERE observed_at=%Q AND"
                    " risk_score=0 AND proximity IS NULL",
                    T1S),
                 1);

    /* ssl_info[0] */
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl WHERE position=0"),
                 "f8bf8d63eef2c146533bc705d78815a188db8dde");
    CHECK_EQ_STR(qs(db, "SELECT organization FROM ssl WHERE position=0"), "DomainTools, LLC");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "f8bf8d63eef2c146533bc705d78815a188db8dde"), 1);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_org", "DomainTools, LLC"), 1);

    /* emails: soa hostmaster@nsone.net (4884279), additional abuse@enom.com (12707979) */
    CHECK_EQ_STR(qs(db, "SELECT email FROM emails WHERE source='soa'"), "hostmaster@nsone.net");
    CHECK_EQ_STR(qs(db, "SELECT email FROM emails WHERE source='additional_whois'"),
                 "abuse@enom.com");
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "hostmaster@nsone.net"), 4884279);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email", "abuse@enom.com"), 12707979);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_domain", "enom.com"), 22145613);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM emails"), 2);

    /* contacts: billing is all empty, so 3 rows; registrant state WA, country us */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM contacts"), 3);
    CHECK_EQ_STR(qs(db, "SELECT state FROM contacts WHERE role='registrant'"), "WA");
    CHECK_EQ_STR(qs(db, "SELECT country FROM contacts WHERE role='registrant'"), "us");
    CHECK_EQ_INT(qi(db, "SELECT phone IS NULL FROM contacts WHERE role='admin'"), 1);
    CHECK_EQ_INT(PIVOT_COUNT(db, "contact_name", "REDACTED FOR PRIVACY"), 92404141);
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrant", "REDACTED FOR PRIVACY"), 92696177);
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrant_org", "REDACTED FOR PRIVACY"), 35243392);
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrar", "ENOM, INC."), 4040099);

    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM tracking_codes"), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM tags"), 0);
    /* a first fetch: every value is 'initial'; domain_history waits for a change */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history"), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM v_domain_changes WHERE change <> 'initial'"), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM v_domain_changes WHERE attr='ip' AND"
                        " value='199.30.228.112' AND current = 1 AND added_at IS NULL"
                        " AND removed_at IS NULL"),
                 1);
    /* the result kept as sent, the fetch that brought it */
    CHECK_EQ_INT(qi(db,
                    "SELECT instr(json, '\"domain\":\"domaintools.com\"') > 0 FROM"
                    " domain_raw r JOIN domains d ON r.raw_id = d.raw_id"
                    " WHERE r.endpoint='iris-investigate' AND r.first_seen=%Q",
                    T1S),
                 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches f JOIN domains d USING (domain_id)"
                        " WHERE f.observed_at = d.last_fetched AND f.raw_id = d.raw_id"
                        " AND f.endpoint = 'iris-investigate'"),
                 1);
    /* the BI view reads it back */
    CHECK_EQ_STR(qs(db, "SELECT ip FROM v_domains WHERE domain='domaintools.com'"),
                 "199.30.228.112");
    ig_db_close(db);
}

/* Values from F_INV_AG (POST, wrapped in {"response":}). */
static void test_investigate_amazon_google_post(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_INV_AG, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains"), 2);
    CHECK_EQ_STR(qs(db, "SELECT create_date FROM domains WHERE domain='amazon.com'"), "1994-11-01");
    CHECK_EQ_STR(qs(db, "SELECT create_date FROM domains WHERE domain='google.com'"), "1997-09-15");
    CHECK_EQ_INT(qi(db, "SELECT website_response FROM domains WHERE domain='amazon.com'"), 308);
    CHECK_EQ_INT(qi(db, "SELECT popularity_rank FROM domains WHERE domain='amazon.com'"), 27);
    CHECK_EQ_INT(qi(db, "SELECT alexa FROM domains WHERE domain='amazon.com'"), 8);
    /* amazon: 4 IPs, 6 name servers, 1 mx */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com'"),
                 4);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com' AND position=3"),
                 "99.84.76.105");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "99.84.76.105"), 5);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "142.251.33.78"), 847);
    CHECK_EQ_INT(PIVOT_COUNT(db, "asn", "16509"), 57795795);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM name_servers JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com'"),
                 6);
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com'"),
                 "amazon-smtp.amazon.com");
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com'"),
                 5);
    /* shared values: one pivot, two domains */
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrar", "MarkMonitor, Inc."), 834849);
    CHECK_EQ_INT(qi(db, "SELECT stored_count FROM v_pivot_counts WHERE field='registrar' AND"
                        " value='MarkMonitor, Inc.'"),
                 2);
    CHECK_EQ_INT(qi(db, "SELECT stored_count FROM v_pivot_counts WHERE field='email' AND"
                        " value='abusecomplaints@markmonitor.com'"),
                 2);
    /* amazon's registrant contact */
    CHECK_EQ_STR(qs(db, "SELECT name FROM contacts JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com' AND role='registrant'"),
                 "Hostmaster, Amazon Legal Dept.");
    CHECK_EQ_STR(qs(db, "SELECT emails FROM contacts JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com' AND role='registrant'"),
                 "hostmaster@amazon.com");
    CHECK_EQ_INT(PIVOT_COUNT(db, "contact_phone", "12062664064"), 35715);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email", "hostmaster@amazon.com"), 38463);
    CHECK_EQ_STR(qs(db, "SELECT email FROM emails JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com' AND emails.source='soa'"),
                 "root@amazon.com");
    /* risk: 0 with zerolist and four threat_profile* components, each 0 */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 10);
    CHECK_EQ_INT(qi(db, "SELECT risk_threat_profile FROM v_domains WHERE domain='amazon.com'"), 0);
    CHECK_EQ_INT(qi(db, "SELECT threat_profile_phishing FROM risk_history JOIN domains USING"
                        " (domain_id) WHERE domain='google.com'"),
                 0);
    CHECK_EQ_INT(qi(db, "SELECT proximity IS NULL FROM risk_history JOIN domains USING"
                        " (domain_id) WHERE domain='google.com'"),
                 1);
    /* ssl: amazon's hash (count 6) and subject */
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl JOIN domains d USING (domain_id) WHERE"
                        " d.domain='amazon.com'"),
                 "08040755c8b6852a5db945a2b380571111defd2d");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_subject", "CN=*.peg.a2z.com"), 6);
    CHECK_EQ_STR(qs(db, "SELECT registrar_status FROM domains WHERE domain='google.com'"),
                 "clientdeleteprohibited,clienttransferprohibited,clientupdateprohibited,"
                 "serverdeleteprohibited,servertransferprohibited,serverupdateprohibited");
    ig_db_close(db);
}

/* F_ENRICH: the same keys as Investigate, VCs without "count". Ip 142.251.33.78 has count
 * 847 in F_INV_AG. */
static void test_enrich_never_touches_counts(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(ingest_fixture(db, "iris-enrich", F_ENRICH, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(qs(db, "SELECT source FROM domains"), "iris-enrich");
    CHECK_EQ_STR(qs(db, "SELECT registrar FROM domains"), "MarkMonitor, Inc.");
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips WHERE position=1"), "142.251.33.68");
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips WHERE position=0"), "us");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "142.251.33.78"), NONE);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE count IS NOT NULL OR"
                        " count_at IS NOT NULL"),
                 0);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", "142.251.33.78", "google.com"), T1S);
    CHECK_EQ_STR(qs(db, "SELECT emails FROM contacts WHERE role='admin'"),
                 "select request email form at https://domains.markmonitor.com/whois/google.com");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM contacts"), 3); /* billing is empty */

    /* an Investigate count, then a later Enrich: the count stays */
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_INV_AG, T2, &n), IG_OK);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "142.251.33.78"), 847);
    CHECK_EQ_INT(ingest_fixture(db, "iris-enrich", F_ENRICH, T3, &n), IG_OK);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "142.251.33.78"), 847);
    CHECK_EQ_STR(qs(db, "SELECT count_at FROM pivots WHERE field='ip' AND value='142.251.33.78'"),
                 T2S);
    CHECK_EQ_STR(qs(db, "SELECT source FROM domains WHERE domain='google.com'"), "iris-enrich");
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", "142.251.33.78", "google.com"), T3S);
    ig_db_close(db);
}

/* Legacy /v1/iris: flat strings. Values from F_LEGACY_2018, F_LEGACY_STR, F_LEGACY_2022. */
static void test_legacy_flat_answers(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(ingest_fixture(db, "iris", F_LEGACY_2018, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(qs(db, "SELECT source FROM domains"), "iris");
    CHECK_EQ_STR(qs(db, "SELECT registrar FROM domains"), "EMARKMONITOR, INC");
    CHECK_EQ_STR(qs(db, "SELECT registrar_status FROM domains"), "clientUpdateProhibited");
    CHECK_EQ_STR(qs(db, "SELECT spf_info FROM domains"), "v=spf1 include:_spf.google.com ~all");
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM domains"), 0);
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl"), "693cb5a2f583a62ea2c86472cb1bcd90");
    CHECK_EQ_STR(qs(db, "SELECT organization FROM ssl"), "Google Inc");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "693cb5a2f583a62ea2c86472cb1bcd90"), NONE);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='ssl_hash'"), 1);
    /* ip: 172.217.3.174 then 172.217.3.206 twice: three rows, two ip pivots */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 3);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips WHERE position=0"), "172.217.3.174");
    CHECK_EQ_INT(qi(db, "SELECT asn FROM ips WHERE position=0"), 15169);
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips WHERE position=0"), "us");
    CHECK_EQ_STR(qs(db, "SELECT isp FROM ips WHERE position=0"), "Google Inc");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_pivots JOIN pivots USING (pivot_id)"
                        " WHERE field='ip'"),
                 2);
    /* mx[0] alt4.aspmx.l.google.com priority 50, ip 74.125.141.27 */
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers WHERE position=0"),
                 "alt4.aspmx.l.google.com");
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers WHERE position=0"), 50);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM name_servers WHERE position=1"), "216.239.34.10");
    /* dns-admin@google.com: in three contacts and the SOA */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM emails WHERE email='dns-admin@google.com'"), 4);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE value='dns-admin@google.com'"), 2);
    CHECK_EQ_STR(qs(db, "SELECT street FROM contacts WHERE role='technical'"),
                 "2400 E. Bayshore Pkwy");
    CHECK_EQ_INT(PIVOT_COUNT(db, "contact_name", "DNS Admin"), NONE);
    CHECK_EQ_STR(LINK(db, "first_seen", "contact_name", "DNS Admin", "google.com"), T1S);

    /* 2022: country "US", threat_profile all "" (no components), risk_score 0 */
    CHECK_EQ_INT(ingest_fixture(db, "iris", F_LEGACY_2022, T2, &n), IG_OK);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips WHERE position=0"), "142.251.33.78");
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips WHERE position=0"), "us");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ssl"), 0); /* ssl_hash "" */
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM risk_history WHERE observed_at=%Q", T2S), 0);
    CHECK_EQ_INT(qi(db, "SELECT popularity_rank FROM domains"), 1);

    /* risk_score "" and mx priority "20" */
    CHECK_EQ_INT(ingest_fixture(db, "iris", F_LEGACY_STR, T3, &n), IG_OK);
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM domains"), NONE);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_history WHERE observed_at=%Q", T3S), 0);
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers"), 20);
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips WHERE position=1"), "nl");
    ig_db_close(db);
}

/* A legacy threat_profile with scores (none is recorded; int-chase.com's values from
 * iris-api.md 4.2 in the legacy shape): proximity 38, spam "71", malware "" skipped. */
static void test_legacy_threat_profile_components(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    const char *body =
        "{\"response\":{\"results\":[{\"domain\":\"Int-Chase.com\",\"risk_score\":71,"
        "\"threat_profile\":{\"proximity\":38,\"spam\":\"71\",\"malware\":\"\","
        "\"evidence\":[\"registrant\",\"domain name\"]},"
        "\"ssl_hash\":\"ab12\",\"ssl_org\":\"\",\"ssl_email\":\"x@int-chase.com\"}]}}";
    CHECK_EQ_INT(ingest_str(db, "iris", body, T1, &n), IG_OK);
    CHECK_EQ_STR(qs(db, "SELECT domain FROM domains"), "int-chase.com");
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM domains"), 71);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 2);
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM risk_components WHERE name='proximity'"), 38);
    CHECK_EQ_INT(qi(db, "SELECT risk_score FROM risk_components WHERE name='threat_profile_spam'"),
                 71);
    CHECK_EQ_STR(qs(db, "SELECT evidence FROM risk_components WHERE name='proximity'"),
                 "registrant,domain name");
    CHECK_EQ_INT(qi(db, "SELECT proximity FROM risk_history"), 38);
    CHECK_EQ_INT(qi(db, "SELECT threat_profile_spam FROM risk_history"), 71);
    CHECK_EQ_INT(qi(db, "SELECT threat_profile_malware FROM risk_history"), NONE);
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl"), "ab12");
    CHECK_EQ_STR(qs(db, "SELECT email FROM ssl"), "x@int-chase.com");
    CHECK_EQ_STR(qs(db, "SELECT email FROM emails WHERE source='ssl'"), "x@int-chase.com");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='ssl_email'"), 1);
    ig_db_close(db);
}

/* Shapes of iris-api.md 4.2 no recorded answer has: tracking codes, tags, full ssl_info,
 * domain_risk with threats and evidence, and the shape variants. */
static void test_shape_variants_and_newer_fields(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    const char *body =
        "{\"response\":{\"limit_exceeded\":false,\"results\":[{\"domain\":\"EXAMPLE.Com\","
        "\"active\":\"true\",\"website_response\":\"200\",\"popularity_rank\":12.5,"
        "\"alexa\":\"\",\"website_title\":\"\",\"server_type\":{\"value\":\"nginx\",\"count\":"
        "\"77\"},\"first_seen\":{\"value\":\"2001-02-03T04:05:06Z\",\"count\":0},"
        "\"redirect\":\"www.example.com\",\"redirect_domain\":{\"value\":\"example.com\"},"
        "\"registrar\":null,\"adsense\":{\"value\":\"pub-123\",\"count\":3},"
        "\"google_analytics\":\"UA-1\",\"ga4\":[{\"value\":\"G-ABC\",\"count\":2},\"G-DEF\"],"
        "\"gtm_codes\":[\"GTM-1\"],\"fb_codes\":[\"fb1\"],\"hotjar_codes\":[\"hj1\"],"
        "\"baidu_codes\":[\"bd1\"],\"yandex_codes\":[\"ya1\"],\"matomo_codes\":[\"mt1\"],"
        "\"statcounter_project_codes\":[\"sp1\"],\"statcounter_security_codes\":[\"ss1\"],"
        "\"ip\":[{\"address\":\"192.0.2.1\",\"asn\":[\"64500\",64501],\"country_code\":{\"value\":"
        "\"DE\",\"count\":5},\"isp\":null},{\"address\":{\"value\":\"\",\"count\":0}}],"
        "\"mx\":[{\"host\":\"mx.example.com\",\"domain\":\"example.com\",\"ip\":[\"192.0.2.2\","
        "{\"value\":\"192.0.2.3\"}],\"priority\":\"x\"}],"
        "\"name_server\":[{\"host\":{\"value\":\"ns1.example.com\",\"count\":\"12\"},"
        "\"ip\":\"192.0.2.4\"}],"
        "\"ssl_info\":[{\"hash\":{\"value\":\"aa\",\"count\":1},\"common_name\":{\"value\":"
        "\"example.com\",\"count\":2},\"issuer_common_name\":{\"value\":\"R3\",\"count\":9},"
        "\"alt_names\":[{\"value\":\"example.com\",\"count\":0},{\"value\":\"www.example.com\","
        "\"count\":0}],\"not_before\":{\"value\":20240726,\"count\":0},\"not_after\":"
        "{\"value\":\"20241024\",\"count\":0},\"duration\":{\"value\":90,\"count\":0},"
        "\"email\":[\"ssl@example.com\"]}],"
        "\"domain_risk\":{\"risk_score\":\"71\",\"components\":[{\"name\":\"proximity\","
        "\"risk_score\":38},{\"name\":\"threat_profile\",\"risk_score\":71,\"threats\":"
        "[\"spam\"],\"evidence\":[\"registrant\",\"domain name\",\"name server\"]},"
        "{\"name\":\"threat_profile_phishing\",\"risk_score\":68},{\"risk_score\":5}]},"
        "\"tags\":[{\"label\":\"blocklist\",\"scope\":\"group\",\"tagged_at\":"
        "\"2023-09-13T14:59:07Z\"},{\"scope\":\"x\"}],"
        "\"registrant_contact\":{\"name\":\"\",\"country\":\"FR\",\"email\":[]},"
        "\"billing_contact\":\"oops\"}]}}";
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", body, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    const char *D = "SELECT %s FROM domains WHERE domain='example.com'";
    CHECK_EQ_INT(qi(db, D, "active"), 1);
    CHECK_EQ_INT(qi(db, D, "website_response"), 200);
    CHECK_EQ_STR(qs(db, D, "popularity_rank"), "12.5");
    CHECK_EQ_INT(qi(db, D, "alexa"), NONE);
    CHECK_EQ_INT(qi(db, D, "website_title IS NULL AND registrar IS NULL"), 1);
    CHECK_EQ_STR(qs(db, D, "server_type"), "nginx");
    CHECK_EQ_STR(qs(db, D, "first_seen"), "2001-02-03T04:05:06Z");
    CHECK_EQ_STR(qs(db, D, "redirect"), "www.example.com");
    CHECK_EQ_INT(qi(db, D, "risk_score"), 71);
    CHECK_EQ_INT(PIVOT_COUNT(db, "server_type", "nginx"), 77);
    CHECK_EQ_INT(PIVOT_COUNT(db, "redirect_domain", "example.com"), NONE);
    /* tracking codes: 11 kinds, ga4 twice */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM tracking_codes"), 12);
    CHECK_EQ_INT(qi(db, "SELECT count(DISTINCT kind) FROM tracking_codes"), 11);
    CHECK_EQ_STR(qs(db, "SELECT code FROM tracking_codes WHERE kind='google_tag_manager'"),
                 "GTM-1");
    CHECK_EQ_STR(qs(db, "SELECT code FROM tracking_codes WHERE kind='yandex_metrica'"), "ya1");
    CHECK_EQ_INT(PIVOT_COUNT(db, "adsense", "pub-123"), 3);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ga4", "G-ABC"), 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='ga4'"), 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='statcounter_security'"), 1);
    /* ips: the empty address is no row; ASNs as string and number */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 1);
    CHECK_EQ_INT(qi(db, "SELECT asn FROM ips"), 64500);
    CHECK_EQ_STR(qs(db, "SELECT asns FROM ips"), "64500,64501");
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips"), "de");
    CHECK_EQ_INT(qi(db, "SELECT isp IS NULL FROM ips"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='asn'"), 2);
    /* mx priority "x" is absent; ips joined */
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers"), NONE);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers"), "192.0.2.2,192.0.2.3");
    CHECK_EQ_STR(qs(db, "SELECT ips FROM name_servers"), "192.0.2.4");
    CHECK_EQ_INT(PIVOT_COUNT(db, "nameserver_host", "ns1.example.com"), 12);
    /* ssl */
    CHECK_EQ_STR(qs(db, "SELECT not_before FROM ssl"), "2024-07-26");
    CHECK_EQ_STR(qs(db, "SELECT not_after FROM ssl"), "2024-10-24");
    CHECK_EQ_INT(qi(db, "SELECT duration FROM ssl"), 90);
    CHECK_EQ_STR(qs(db, "SELECT alt_names FROM ssl"), "example.com,www.example.com");
    CHECK_EQ_STR(qs(db, "SELECT common_name FROM ssl"), "example.com");
    CHECK_EQ_STR(qs(db, "SELECT email FROM ssl"), "ssl@example.com");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_issuer_common_name", "R3"), 9);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_alt_names", "www.example.com"), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='ssl_email'"), 1);
    /* risk: the component without a name is dropped */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 3);
    CHECK_EQ_STR(qs(db, "SELECT threats FROM risk_components WHERE name='threat_profile'"), "spam");
    CHECK_EQ_STR(qs(db, "SELECT evidence FROM risk_components WHERE name='threat_profile'"),
                 "registrant,domain name,name server");
    CHECK_EQ_INT(qi(db, "SELECT threat_profile_phishing FROM risk_history"), 68);
    CHECK_EQ_INT(qi(db, "SELECT threat_profile FROM risk_history"), 71);
    CHECK_EQ_INT(qi(db, "SELECT risk_phishing FROM v_domains"), 68);
    /* tags: the one without a label is dropped */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM tags"), 1);
    CHECK_EQ_STR(qs(db, "SELECT scope FROM tags WHERE label='blocklist'"), "group");
    CHECK_EQ_STR(qs(db, "SELECT tagged_at FROM tags"), "2023-09-13T14:59:07Z");
    /* contacts: a country alone is a row; a string contact is absent */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM contacts"), 1);
    CHECK_EQ_STR(qs(db, "SELECT country FROM contacts WHERE role='registrant'"), "fr");
    /* history of scalars: written once they change, the earlier value included */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history"), 0);
    char *b2 = replace_all(body, "\"popularity_rank\":12.5", "\"popularity_rank\":13.25");
    char *b3 = replace_all(b2, "\"active\":\"true\"", "\"active\":false");
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", b3, T2, &n), IG_OK);
    CHECK_EQ_STR(qs(db, "SELECT last_seen FROM domain_history WHERE attr='popularity_rank'"
                        " AND value='12.5'"),
                 T1S);
    CHECK_EQ_STR(qs(db, "SELECT first_seen FROM domain_history WHERE attr='popularity_rank'"
                        " AND value='13.25'"),
                 T2S);
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE attr='active' AND value='1'"),
                 "removed");
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE attr='active' AND value='0'"),
                 "added");
    /* unchanged: still no row */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history WHERE attr='risk_score'"), 0);
    free(b2);
    free(b3);
    check_invariants(db);
    ig_db_close(db);
}

/* F_LIMIT: {"response":{"limit_exceeded":true,...}} without results. */
static void test_limit_exceeded_is_zero_domains(void) {
    sqlite3 *db = open_db();
    size_t n = 99;
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_LIMIT, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total_rows(db), 0);
    ig_db_close(db);
}

/* ---- more recorded answers: values read from the files by hand ------------------------------ */

#define DQ(col, dom) "SELECT " col " FROM domains WHERE domain = '" dom "'"
#define OF(dom) " JOIN domains d USING (domain_id) WHERE d.domain = '" dom "'"

/* F_INV_2018: GET, July 2018, "total_count":0 with two results. */
static void test_investigate_2018_get_answer(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_INV_2018, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(qs(db, DQ("create_date", "amazon.com")), "1994-10-31");
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "amazon.com")), "2022-10-30");
    CHECK_EQ_INT(qi(db, DQ("alexa", "amazon.com")), 8);
    CHECK_EQ_STR(qs(db, DQ("registrar", "amazon.com")), "MarkMonitor, Inc.");
    CHECK_EQ_STR(qs(db, DQ("registrar_status", "amazon.com")), "clientUpdateProhibited");
    CHECK_EQ_STR(qs(db, DQ("spf_info", "amazon.com")),
                 "spf2.0/pra include:spf1.amazon.com include:spf2.amazon.com include:amazonses.com"
                 " -all v=spf1 include:spf1.amazon.com include:spf2.amazon.com"
                 " include:amazonses.com -all");
    CHECK_EQ_STR(qs(db, DQ("data_updated", "amazon.com")), "2018-07-20T11:41:52.634353");
    CHECK_EQ_INT(qi(db, DQ("first_seen IS NULL AND popularity_rank IS NULL", "amazon.com")), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips" OF("amazon.com")), 4);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips" OF("amazon.com") " AND position = 0"),
                 "176.32.103.205");
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips" OF("amazon.com") " AND position = 3"),
                 "23.74.61.104");
    CHECK_EQ_INT(qi(db, "SELECT asn FROM ips" OF("amazon.com") " AND position = 3"), 20940);
    CHECK_EQ_STR(qs(db, "SELECT isp FROM ips" OF("amazon.com") " AND position = 3"),
                 "Akamai Technologies Inc.");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "176.32.103.205"), 10);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "23.74.61.104"), 12);
    CHECK_EQ_INT(PIVOT_COUNT(db, "asn", "16509"), 9997528);
    CHECK_EQ_INT(PIVOT_COUNT(db, "isp_name", "Amazon.com Inc."), 4174942);
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers" OF("amazon.com")),
                 "amazon-smtp.amazon.com");
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers" OF("amazon.com")), 5);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers" OF("amazon.com")), "207.171.188.9");
    CHECK_EQ_INT(PIVOT_COUNT(db, "mailserver_host", "amazon-smtp.amazon.com"), 149);
    CHECK_EQ_STR(qs(db, "SELECT host FROM name_servers" OF("amazon.com") " AND position = 0"),
                 "ns1.p31.dynect.net");
    CHECK_EQ_STR(qs(db, "SELECT ips FROM name_servers" OF("amazon.com") " AND position = 0"),
                 "208.78.70.31");
    CHECK_EQ_INT(PIVOT_COUNT(db, "nameserver_domain", "dynect.net"), 340556);
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl" OF("amazon.com")),
                 "0e6bdcae568e3613c6d173c9b112c357ff5967b2");
    CHECK_EQ_STR(qs(db, "SELECT subject FROM ssl" OF("amazon.com")),
                 "CN=www.amazon.com,O=Amazon.com\\, Inc.,L=Seattle,ST=Washington,C=US");
    CHECK_EQ_STR(qs(db, "SELECT organization FROM ssl" OF("amazon.com")), "Amazon.com, Inc.");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "0e6bdcae568e3613c6d173c9b112c357ff5967b2"), 200);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_org", "Amazon.com, Inc."), 24338);
    CHECK_EQ_STR(qs(db, "SELECT name FROM risk_components" OF("amazon.com")), "whitelist");
    CHECK_EQ_INT(qi(db, DQ("risk_score", "amazon.com")), 0);
    const char *R = "SELECT %s FROM contacts JOIN domains d USING (domain_id)"
                    " WHERE d.domain = 'amazon.com' AND role = 'registrant'";
    CHECK_EQ_STR(qs(db, R, "org"), "Amazon Technologies, Inc.");
    CHECK_EQ_STR(qs(db, R, "city"), "Reno");
    CHECK_EQ_STR(qs(db, R, "state"), "NV");
    CHECK_EQ_STR(qs(db, R, "postal"), "89507");
    CHECK_EQ_STR(qs(db, R, "country"), "us"); /* sent "US" */
    CHECK_EQ_STR(qs(db, R, "fax"), "12062667010");
    CHECK_EQ_STR(qs(db, R, "emails"), "hostmaster@amazon.com");
    /* the same email with a count under each role (registrant 37479, admin 36754, technical
     * 33579) and in the SOA (0): the registrant's, the first, is kept */
    CHECK_EQ_INT(PIVOT_COUNT(db, "email", "hostmaster@amazon.com"), 37479);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "hostmaster@amazon.com"), 0);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_domain", "amazon.com"), 2402646);
    /* google.com: priority sent as the string "20", an odd MX domain, two certificates */
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers" OF("google.com")), 20);
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers" OF("google.com")),
                 "alt1.aspmx.l.google.com");
    CHECK_EQ_STR(qs(db, "SELECT mail_servers.domain FROM mail_servers" OF("google.com")), "200.27");
    CHECK_EQ_STR(qs(db, "SELECT group_concat(address) FROM (SELECT address FROM ips" OF(
                            "google.com") " ORDER BY position)"),
                 "216.58.217.36,216.58.217.46");
    CHECK_EQ_STR(qs(db, "SELECT group_concat(DISTINCT country_code) FROM ips" OF("google.com")),
                 "nl");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "216.58.217.46"), 943);
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl" OF("google.com") " AND position = 1"),
                 "dc6d32f5994c4e37d3ccdb285903569d387c5456");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "f8491ec0dc64a110ceeb36badfeb05e875574841"), 17);
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrant_org", "Google LLC"), 1268);
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "google.com")), "2020-09-13");
    CHECK_EQ_INT(qi(db, DQ("alexa", "google.com")), 1);
    /* shared by both: one value, two current domains */
    CHECK_EQ_INT(qi(db, "SELECT stored_count FROM pivots WHERE field = 'registrar' AND"
                        " value = 'MarkMonitor, Inc.'"),
                 2);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email", "abusecomplaints@markmonitor.com"), 1048778);
    check_invariants(db);
    ig_db_close(db);
}

/* F_INV_2019: POST, December 2019, data_updated_timestamp "" and registrar_status as one
 * space-separated string. */
static void test_investigate_2019_answer(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(import_fixture(db, "iris-investigate", F_INV_2019, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 2);
    /* no time in the results: at the time given */
    CHECK_EQ_STR(qs(db, DQ("last_fetched", "amazon.com")), T1S);
    CHECK_EQ_INT(qi(db, DQ("data_updated IS NULL", "amazon.com")), 1);
    CHECK_EQ_STR(qs(db, DQ("registrar_status", "amazon.com")),
                 "clientdeleteprohibited,clienttransferprohibited,clientupdateprohibited,"
                 "serverdeleteprohibited,servertransferprohibited,serverupdateprohibited");
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "amazon.com")), "2024-10-30");
    CHECK_EQ_INT(qi(db, DQ("alexa", "amazon.com")), 13);
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl" OF("amazon.com") " AND position = 0"),
                 "ccf7ad348f75f83b31f4fd315b458f071ae6ccf4");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "ccf7ad348f75f83b31f4fd315b458f071ae6ccf4"), 124);
    CHECK_EQ_INT(PIVOT_COUNT(db, "ssl_hash", "0e6bdcae568e3613c6d173c9b112c357ff5967b2"), 118);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers" OF("amazon.com")),
                 "207.171.188.4,207.171.188.200,52.94.124.7,52.119.213.148,207.171.188.180,"
                 "207.171.188.182");
    CHECK_EQ_STR(qs(db, "SELECT email FROM emails" OF("amazon.com") " AND emails.source = 'soa'"),
                 "root@amazon.com");
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "root@amazon.com"), 7225);
    /* the SOA email is an `email` pivot too, without the SOA search's count */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field = 'email' AND"
                        " value = 'root@amazon.com' AND count IS NULL"),
                 1);
    CHECK(LINK(db, "first_seen", "email", "root@amazon.com", "amazon.com") != NULL);
    CHECK_EQ_STR(qs(db, "SELECT country FROM contacts" OF("amazon.com") " AND role = 'admin'"),
                 "us");
    static const char *const mx[][2] = {{"alt1.aspmx.l.google.com", "20"},
                                        {"alt2.aspmx.l.google.com", "30"},
                                        {"alt3.aspmx.l.google.com", "40"},
                                        {"alt4.aspmx.l.google.com", "50"}};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_STR(
            qs(db, "SELECT host FROM mail_servers" OF("google.com") " AND position = %d", i),
            mx[i][0]);
        CHECK_EQ_STR(
            qs(db, "SELECT priority FROM mail_servers" OF("google.com") " AND position = %d", i),
            mx[i][1]);
        CHECK_EQ_INT(
            qi(db, "SELECT ips IS NULL FROM mail_servers" OF("google.com") " AND position = %d", i),
            1); /* "ip": [] */
    }
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips" OF("google.com") " AND position = 0"),
                 "172.217.14.238");
    CHECK_EQ_INT(PIVOT_COUNT(db, "ip", "172.217.14.238"), 508);
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrant_org", "Google LLC"), 8065);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "dns-admin@google.com"), 236395);
    check_invariants(db);
    ig_db_close(db);
}

/* F_INV_2022: POST, May 2022, each result at its own data_updated_timestamp. */
static void test_investigate_2022_answer_at_its_own_times(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(import_fixture(db, NULL, F_INV_2022, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(qs(db, DQ("source", "amazon.com")), "iris-investigate");
    CHECK_EQ_STR(qs(db, DQ("last_fetched", "amazon.com")), "2022-05-25 21:58:11");
    CHECK_EQ_STR(qs(db, DQ("last_fetched", "google.com")), "2022-05-26 07:04:50");
    CHECK_EQ_STR(qs(db, DQ("registrar", "amazon.com")), "MARKMONITOR, INC.,MARKMONITOR INC");
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrar", "MARKMONITOR, INC.,MARKMONITOR INC"), 805505);
    CHECK_EQ_STR(qs(db, "SELECT count_at FROM pivots WHERE field = 'registrar' AND"
                        " value = 'MARKMONITOR, INC.,MARKMONITOR INC'"),
                 "2022-05-25 21:58:11");
    CHECK_EQ_STR(qs(db, DQ("registrant_name", "amazon.com")), "Hostmaster, Amazon Legal Dept");
    CHECK_EQ_INT(PIVOT_COUNT(db, "registrant", "Hostmaster, Amazon Legal Dept"), 32396);
    CHECK_EQ_STR(qs(db, DQ("create_date", "amazon.com")), "1994-11-01");
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "amazon.com")), "2024-10-31");
    CHECK_EQ_INT(qi(db, DQ("spf_info IS NULL", "amazon.com")), 1); /* "" */
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl" OF("amazon.com") " AND position = 0"),
                 "08040755c8b6852a5db945a2b380571111defd2d");
    CHECK_EQ_STR(qs(db, "SELECT subject FROM ssl" OF("amazon.com") " AND position = 0"),
                 "CN=*.peg.a2z.com");
    CHECK_EQ_INT(
        qi(db, "SELECT organization IS NULL FROM ssl" OF("amazon.com") " AND position = 0"), 1);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "root@amazon.com"), 7110);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components" OF("amazon.com")), 5);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_dns_soa", "dns-admin@google.com"), 206248);
    CHECK_EQ_INT(PIVOT_COUNT(db, "email_domain",
                             "select request email form at"
                             " https://domains.markmonitor.com/whois/google.com"),
                 1);
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers" OF("google.com")), "smtp.google.com");
    CHECK_EQ_INT(qi(db, "SELECT priority FROM mail_servers" OF("google.com")), 10);
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers" OF("google.com")),
                 "74.125.197.26,74.125.195.27,74.125.142.27,74.125.142.26,74.125.195.26");
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "google.com")), "2028-09-13");
    CHECK_EQ_STR(qs(db, "SELECT observed_at FROM fetches" OF("google.com")), "2022-05-26 07:04:50");
    check_invariants(db);
    ig_db_close(db);
}

/* Three Enrich answers for google.com (2018, 2021, 2022), imported out of order at their
 * own times: the 2022 answer is current; the others are history. */
static void test_enrich_answers_imported_out_of_order(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2021, T1, &n), IG_OK);
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2022, T1, &n), IG_OK);
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2018, T1, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(qs(db, DQ("source", "google.com")), "iris-enrich");
    CHECK_EQ_STR(qs(db, DQ("first_fetched", "google.com")), "2018-07-20 12:03:22");
    CHECK_EQ_STR(qs(db, DQ("last_fetched", "google.com")), "2022-05-16 21:54:12");
    /* current: the 2022 answer */
    CHECK_EQ_STR(qs(db, DQ("registrar", "google.com")), "MARKMONITOR, INC.,MARKMONITOR INC");
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "google.com")), "2028-09-14");
    CHECK_EQ_STR(qs(db, "SELECT host FROM mail_servers"), "smtp.google.com");
    CHECK_EQ_STR(qs(db, "SELECT ips FROM mail_servers"),
                 "74.125.195.27,74.125.142.27,74.125.142.26,74.125.195.26,74.125.197.27");
    CHECK_EQ_STR(qs(db, "SELECT group_concat(address) FROM (SELECT address FROM ips"
                        " ORDER BY position)"),
                 "142.250.69.196,172.217.14.238");
    CHECK_EQ_STR(qs(db, "SELECT isp FROM ips WHERE position = 0"), "Google");
    CHECK_EQ_STR(qs(db, "SELECT hash FROM ssl WHERE position = 0"),
                 "383cb7050a7710f4ef512754fe3aa9efc1525ba6");
    /* Enrich carries no counts */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE count IS NOT NULL"), 0);
    /* history: each expiration date over its fetch */
    const char *H = "SELECT count(*) FROM domain_history WHERE attr = %Q AND value = %Q"
                    " AND first_seen = %Q AND last_seen = %Q";
    CHECK_EQ_INT(
        qi(db, H, "expiration_date", "2020-09-13", "2018-07-20 12:03:22", "2018-07-20 12:03:22"),
        1);
    CHECK_EQ_INT(
        qi(db, H, "expiration_date", "2028-09-13", "2021-10-13 06:15:45", "2021-10-13 06:15:45"),
        1);
    CHECK_EQ_INT(
        qi(db, H, "expiration_date", "2028-09-14", "2022-05-16 21:54:12", "2022-05-16 21:54:12"),
        1);
    /* IP country: "nl" in 2018, "us" since */
    CHECK_EQ_INT(qi(db, H, "ip.country_code", "nl", "2018-07-20 12:03:22", "2018-07-20 12:03:22"),
                 1);
    CHECK_EQ_INT(qi(db, H, "ip.country_code", "us", "2021-10-13 06:15:45", "2022-05-16 21:54:12"),
                 1);
    /* the 2018 and 2021 registrar, one value: from 2018 to 2021, then the 2022 spelling */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_pivots dp JOIN pivots p USING (pivot_id)"
                        " WHERE p.field = 'registrar' AND p.value = 'MarkMonitor, Inc.' AND"
                        " dp.first_seen = '2018-07-20 12:03:22' AND"
                        " dp.last_seen = '2021-10-13 06:15:45'"),
                 1);
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE attr = 'registrar' AND"
                        " value = 'MarkMonitor, Inc.'"),
                 "removed");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches"), 3);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_raw"), 3);
    check_invariants(db);
    /* the same files again, in another order: nothing new */
    long long rows = total_rows(db);
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2018, T1, &n), IG_OK);
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2022, T1, &n), IG_OK);
    CHECK_EQ_INT(import_fixture(db, NULL, F_ENRICH_2021, T1, &n), IG_OK);
    CHECK_EQ_INT(total_rows(db), rows);
    CHECK_EQ_STR(qs(db, DQ("expiration_date", "google.com")), "2028-09-14");
    check_invariants(db);
    ig_db_close(db);
}

/* An old answer imported after a newer one does not replace the current rows: a 2022
 * Investigate answer, then the 2018 one. */
static void test_old_answer_imported_late_keeps_current_rows(void) {
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(import_fixture(db, NULL, F_INV_AG, T1, &n), IG_OK);
    CHECK_EQ_INT(import_fixture(db, NULL, F_INV_2018, T1, &n), IG_OK);
    CHECK_EQ_STR(qs(db, DQ("create_date", "amazon.com")), "1994-11-01"); /* 2022's */
    CHECK_EQ_STR(qs(db, DQ("last_fetched", "amazon.com")), "2022-06-16 09:11:14");
    CHECK_EQ_STR(qs(db, DQ("first_fetched", "amazon.com")), "2018-07-20 11:41:52");
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips" OF("amazon.com")), 4);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips" OF("amazon.com") " AND position = 3"),
                 "99.84.76.105");
    /* 2018's create date is history */
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE domain = 'amazon.com' AND"
                        " attr = 'create_date' AND value = '1994-10-31'"),
                 "removed");
    CHECK_EQ_STR(qs(db, "SELECT removed_at FROM v_domain_changes WHERE domain = 'amazon.com'"
                        " AND attr = 'create_date' AND value = '1994-10-31'"),
                 "2022-06-16 09:11:14");
    /* the 2018 counts did not replace 2022's */
    CHECK_EQ_INT(PIVOT_COUNT(db, "email", "hostmaster@amazon.com"), 38463);
    check_invariants(db);
    ig_db_close(db);
}

/* Without an endpoint the answer's parsed shape tells it, however it is formatted. */
static void test_endpoint_told_by_the_parsed_shape(void) {
    static const struct {
        const char *file, *want;
    } cases[] = {
        {F_ENRICH_2021, "iris-enrich"}, {F_INV_AG, "iris-investigate"}, {F_LEGACY_2018, "iris"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len, n = 0;
        char *body = fixture(cases[i].file, &len);
        CHECK(body != NULL);
        if (!body) continue;
        cJSON *doc = cJSON_Parse(body);
        char *pretty = cJSON_Print(doc); /* newlines and tabs: no "{\"value\":" anywhere */
        CHECK(strstr(pretty, "{\"value\":") == NULL);
        sqlite3 *db = open_db();
        CHECK_EQ_INT(import_at(db, NULL, pretty, strlen(pretty), T1, &n), IG_OK);
        CHECK_EQ_STR(qs(db, "SELECT source FROM domains LIMIT 1"), cases[i].want);
        CHECK_EQ_STR(qs(db, "SELECT endpoint FROM fetches LIMIT 1"), cases[i].want);
        ig_db_close(db);
        cJSON_free(pretty);
        cJSON_Delete(doc);
        free(body);
    }
}

static int prefix(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

/* How many domains a fixture name asks for: the domain= list, 0 for other questions. */
static size_t named_domains(const char *name) {
    const char *d = strstr(name, "domain=");
    if (!d) return 0;
    size_t n = 1;
    for (const char *p = d; *p && !prefix(p, "__"); p++)
        n += *p == ',';
    return n;
}

static void test_every_recorded_iris_200_answer_imports(void) {
    DIR *dir = opendir(responses_dir());
    CHECK(dir != NULL);
    if (!dir) return;
    int files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        const char *f = e->d_name;
        if (!(prefix(f, "iris-investigate") || prefix(f, "iris-enrich") ||
              prefix(f, "iris-legacy")) ||
            !strstr(f, "__200__"))
            continue;
        const char *ep = prefix(f, "iris-legacy")   ? "iris"
                         : prefix(f, "iris-enrich") ? "iris-enrich"
                                                    : "iris-investigate";
        sqlite3 *db = open_db();
        size_t n = 99;
        int rc = ingest_fixture(db, ep, f, T1, &n);
        CHECK_EQ_INT(rc, IG_OK);
        CHECK_EQ_INT(n, named_domains(f));
        CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains"), named_domains(f));
        if (rc != IG_OK || n != named_domains(f)) fprintf(stderr, "  in %s\n", f);
        ig_db_close(db);
        files++;
    }
    closedir(dir);
    CHECK(files >= 29); /* 29 recorded at the time of writing */
}

static void expect_rejected_file(const char *path, const char *endpoint, const char *msg) {
    size_t len;
    char *body = read_path(path, &len);
    CHECK(body != NULL);
    if (!body) return;
    sqlite3 *db = open_db();
    size_t n = 99;
    char err[256] = "";
    int rc = ingest(db, endpoint, body, len, T1, &n, err, sizeof(err));
    CHECK_EQ_INT(rc, IG_EINVAL);
    CHECK(strstr(err, msg) != NULL);
    CHECK_EQ_INT(total_rows(db), 0);
    if (rc != IG_EINVAL || !strstr(err, msg)) fprintf(stderr, "  %s: %s\n", path, err);
    ig_db_close(db);
    free(body);
}

/* account__* are {"response":{"account":...}}; errors/ and the 403s are {"error":...}
 * envelopes, or {"response":{"error":...}} (errors/error_429__...). */
static void test_account_and_error_answers_are_refused(void) {
    char path[2048];
    int files = 0;
    DIR *dir = opendir(responses_dir());
    CHECK(dir != NULL);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        snprintf(path, sizeof(path), "%s/%s", responses_dir(), e->d_name);
        if (prefix(e->d_name, "account__") && strstr(e->d_name, "__200__"))
            expect_rejected_file(path, "iris-investigate", "not an Iris answer");
        else if (prefix(e->d_name, "account__") || strstr(e->d_name, "__403__"))
            expect_rejected_file(path, "iris-investigate", "an Iris error answer");
        else
            continue;
        files++;
    }
    if (dir) closedir(dir);
    snprintf(path, sizeof(path), "%s/errors", responses_dir());
    dir = opendir(path);
    CHECK(dir != NULL);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/errors/%s", responses_dir(), e->d_name);
        expect_rejected_file(path, "iris-investigate", "an Iris error answer");
        files++;
    }
    if (dir) closedir(dir);
    CHECK(files >= 80);
}

/* The parser is strict (RFC 8259), since results are stored as sent and read back with
 * SQLite's json functions; what it accepts, SQLite's json_valid accepts too. */
static void test_json_tree_is_strict(void) {
    static const char *const bad[] = {
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{a:1}",
        "'x'",
        "[01]",
        "[1.]",
        "[.5]",
        "[-]",
        "[1e]",
        "[+1]",
        "[\"\\x\"]",
        "[\"\\u12\"]",
        "[\"\\ud800\"]",
        "[\"\\udc00\"]",
        "[\"a\tb\"]",
        "[tru]",
        "[nul]",
        "[\"open]",
        "{\"a\":1",
        "[1] [2]",
        "\xef\xbb\xbf[1]",
        "[NaN]",
        "[Infinity]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jt_doc_t d = {0};
        int rc = jt_parse(&d, bad[i], strlen(bad[i]));
        CHECK_EQ_INT(rc, -1);
        if (rc != -1) fprintf(stderr, "  accepted: %s\n", bad[i]);
        jt_free(&d);
    }
    static const char *const good[] = {
        " [ 1 , -0.5e+3 , 0 , \"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\" , true ,"
        " false , null , { } , [ ] ] ",
        "{\"\\u0064omain\":\"a.example\"}",
    };
    sqlite3 *db = open_db();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        jt_doc_t d = {0};
        CHECK_EQ_INT(jt_parse(&d, good[i], strlen(good[i])), 0);
        CHECK_EQ_INT(qi(db, "SELECT json_valid(%Q)", good[i]), 1);
        jt_free(&d);
    }
    /* decoded strings, and a member name written with an escape still found */
    jt_doc_t d = {0};
    CHECK_EQ_INT(jt_parse(&d, good[0], strlen(good[0])), 0);
    const jt_node_t *str = jt_next(&d, jt_next(&d, jt_next(&d, jt_first(&d, jt_node(&d, 0)))));
    CHECK(str->type == JT_STR && str->n == 14 &&
          memcmp(str->s, "\xc3\xa9\xf0\x9f\x98\x80\"\\/\b\f\n\r\t", 14) == 0);
    CHECK_EQ_INT(jt_parse(&d, good[1], strlen(good[1])), 0);
    CHECK(jt_get(&d, jt_node(&d, 0), "domain") != NULL);
    size_t n = 0;
    CHECK_EQ_INT(ingest_str(db, "iris-investigate",
                            "{\"results\":[{\"\\u0064omain\":\"a.example\"}]}", T1, &n),
                 IG_OK);
    CHECK_EQ_INT(n, 1);
    jt_free(&d);
    ig_db_close(db);
}

static void test_malformed_answers_are_refused(void) {
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "42",
        "\"str\"",
        "{}",
        "{\"response\":5}",
        "{\"response\":null}",
        "{\"response\":{\"account\":{}}}",
        "{\"results\":\"x\"}",
        "{\"results\":{\"domain\":\"a.com\"}}",
        "{\"results\":[1]}",
        "{\"results\":[null]}",
        "{\"results\":[{\"domain\":\"\"}]}",
        "{\"results\":[{\"domain\":5}]}",
        "{\"results\":[{\"domain\":{\"value\":\"a.com\"}}]}",
        "{\"results\":[{\"x\":1}]}",
        "{\"response\":{\"results\":[{\"domain\":\"a.com\"},{\"nodomain\":1}]}}",
        "{\"results\":[{\"domain\":\"a.com\"}]} trailing",
        "{\"error\":{\"code\":403,\"message\":\"no\"}}",
        "{\"error\":\"Internal Error #3264\",\"resources\":{}}",
    };
    sqlite3 *db = open_db();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = 99;
        char err[256] = "";
        int rc = ingest(db, "iris-investigate", bad[i], strlen(bad[i]), T1, &n, err, sizeof(err));
        CHECK_EQ_INT(rc, IG_EINVAL);
        CHECK(err[0] != '\0');
        if (rc != IG_EINVAL) fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    CHECK_EQ_INT(total_rows(db), 0);
    /* the bare response object and a limit_exceeded with null results are fine */
    size_t n = 0;
    CHECK_EQ_INT(
        ingest_str(db, "iris-investigate", "{\"results\":[{\"domain\":\"a.com\"}]}", T1, &n),
        IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(
        ingest_str(db, "iris-investigate", "{\"limit_exceeded\":true,\"results\":null}", T1, &n),
        IG_OK);
    CHECK_EQ_INT(n, 0);
    char err[64];
    CHECK_EQ_INT(ig_ingest_answer(db, "iris", "{\"results\":[]}", 14, -5, &n, err, sizeof(err)),
                 IG_EINVAL);
    CHECK_EQ_INT(ig_ingest_answer(db, NULL, "{\"results\":[]}", 14, T1, &n, err, sizeof(err)),
                 IG_EINVAL);
    ig_db_close(db);
}

/* ---- history -------------------------------------------------------------------------------- */

static char *replace_all(const char *s, const char *from, const char *to) {
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = s; (p = strstr(p, from)); p += fl)
        n++;
    char *out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1), *o = out;
    for (const char *p = s, *q; out; p = q + fl) {
        q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
    }
    return out;
}

/* F_DOMAINTOOLS at T1, the same with another IP at T2, then the original again at T1 and T0. */
static void test_history_new_ip_and_late_old_answer(void) {
    sqlite3 *db = open_db();
    size_t len, n;
    char *v1 = fixture(F_DOMAINTOOLS, &len);
    CHECK(v1 != NULL);
    if (!v1) return;
    char *v2 = replace_all(v1, "199.30.228.112", "203.0.113.7");
    const char *OLD = "199.30.228.112", *NEW = "203.0.113.7", *D = "domaintools.com";

    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v1, T1, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v2, T2, &n), IG_OK);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", OLD, D), T1S);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", OLD, D), T1S);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", NEW, D), T2S);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", NEW, D), T2S);
    CHECK_EQ_STR(LINK(db, "first_seen", "nameserver_domain", "nsone.net", D), T1S);
    CHECK_EQ_STR(LINK(db, "last_seen", "nameserver_domain", "nsone.net", D), T2S);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains"), 1);
    CHECK_EQ_STR(qs(db, "SELECT first_fetched FROM domains"), T1S);
    CHECK_EQ_STR(qs(db, "SELECT last_fetched FROM domains"), T2S);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 1);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips"), NEW);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM name_servers"), 4); /* replaced, not doubled */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM mail_servers"), 6);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM contacts"), 3);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM emails"), 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_components"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ssl"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_history"), 2);
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE attr='ip' AND value=%Q", OLD),
                 "removed");
    CHECK_EQ_STR(
        qs(db, "SELECT removed_at FROM v_domain_changes WHERE attr='ip' AND value=%Q", OLD), T2S);
    CHECK_EQ_STR(qs(db, "SELECT change FROM v_domain_changes WHERE attr='ip' AND value=%Q", NEW),
                 "added");
    CHECK_EQ_STR(qs(db, "SELECT added_at FROM v_domain_changes WHERE attr='ip' AND value=%Q", NEW),
                 T2S);
    /* every distinct result kept; the current one is the T2 answer's */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_raw"), 2);
    CHECK_EQ_STR(qs(db, "SELECT r.first_seen FROM domain_raw r JOIN domains d ON"
                        " r.raw_id = d.raw_id"),
                 T2S);
    CHECK_EQ_INT(qi(db,
                    "SELECT instr(r.json, %Q) > 0 FROM domain_raw r JOIN domains d ON"
                    " r.raw_id = d.raw_id",
                    NEW),
                 1);
    /* the IP is the only change between the two answers' normalized values */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history"), 0);

    /* the T1 answer again, then one older than both: history only */
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v1, T1, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v1, T0, &n), IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips"), NEW);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 1);
    CHECK_EQ_STR(qs(db, "SELECT last_fetched FROM domains"), T2S);
    CHECK_EQ_STR(qs(db, "SELECT first_fetched FROM domains"), T0S);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", OLD, D), T0S);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", OLD, D), T1S);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", NEW, D), T2S);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", NEW, D), T2S);
    CHECK_EQ_STR(LINK(db, "first_seen", "nameserver_domain", "nsone.net", D), T0S);
    CHECK_EQ_STR(qs(db, "SELECT count_at FROM pivots WHERE field='ip' AND value=%Q", OLD), T1S);
    CHECK_EQ_STR(qs(db, "SELECT count_at FROM pivots WHERE field='ip' AND value=%Q", NEW), T2S);
    /* the same bytes again are the same raw row, first seen now at T0 */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_raw"), 2);
    CHECK_EQ_STR(qs(db, "SELECT min(first_seen) FROM domain_raw"), T0S);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches"), 3);
    CHECK_EQ_INT(qi(db, "SELECT count(DISTINCT raw_id) FROM fetches"), 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM risk_history"), 3);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history"), 0);
    check_invariants(db);
    free(v1);
    free(v2);
    ig_db_close(db);
}

/* A value that comes back is a new interval: IP A at T1, B at T2, A at T3. */
static void test_value_that_comes_back_is_a_new_interval(void) {
    sqlite3 *db = open_db();
    size_t len, n;
    char *a = fixture(F_DOMAINTOOLS, &len);
    CHECK(a != NULL);
    if (!a) return;
    char *b = replace_all(a, "199.30.228.112", "203.0.113.7");
    const char *A = "199.30.228.112", *B = "203.0.113.7";
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T1, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", b, T2, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T3, &n), IG_OK);
    CHECK_EQ_INT(LINKS(db, "ip", A), 2);
    CHECK_EQ_INT(INTERVALS(db, "ip", A, T1S, T1S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ip", A, T3S, T3S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ip", B, T2S, T2S), 1);
    CHECK_EQ_INT(qi(db,
                    "SELECT count(*) FROM v_domain_changes WHERE attr = 'ip' AND value = %Q"
                    " AND change = 'removed' AND removed_at = %Q",
                    A, T2S),
                 1);
    CHECK_EQ_INT(qi(db,
                    "SELECT count(*) FROM v_domain_changes WHERE attr = 'ip' AND value = %Q"
                    " AND change = 'added' AND added_at = %Q AND current = 1",
                    A, T3S),
                 1);
    CHECK_EQ_STR(qs(db,
                    "SELECT removed_at FROM v_domain_changes WHERE attr = 'ip' AND"
                    " value = %Q",
                    B),
                 T3S);
    /* the raw results: A's bytes once, B's once; three fetches */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_raw"), 2);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches"), 3);
    CHECK_EQ_INT(STORED(db, "ip", A), 1);
    CHECK_EQ_INT(STORED(db, "ip", B), 0);
    CHECK_EQ_INT(
        qi(db, "SELECT ever_count FROM v_pivot_counts WHERE field = 'ip' AND value = %Q", A), 1);
    check_invariants(db);
    free(a);
    free(b);
    ig_db_close(db);
}

/* Two answers for a domain in the same second: the later replaces the earlier. */
static void test_same_second_answer_replaces_the_earlier(void) {
    sqlite3 *db = open_db();
    size_t len, n;
    char *a = fixture(F_DOMAINTOOLS, &len);
    CHECK(a != NULL);
    if (!a) return;
    char *b = replace_all(a, "199.30.228.112", "203.0.113.7");
    const char *A = "199.30.228.112", *B = "203.0.113.7";
    /* the only fetch, replaced: no trace of A */
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T1, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", b, T1, &n), IG_OK);
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips"), B);
    CHECK_EQ_INT(LINKS(db, "ip", A), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches"), 1);
    check_invariants(db);
    /* A at T2, then B in the same second T2: A was never held, B from T1 to T2 */
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T2, &n), IG_OK);
    CHECK_EQ_STR(LINK(db, "first_seen", "ip", A, "domaintools.com"), T2S);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", b, T2, &n), IG_OK);
    CHECK_EQ_INT(LINKS(db, "ip", A), 0);
    CHECK_EQ_INT(INTERVALS(db, "ip", B, T1S, T2S), 1);
    CHECK_EQ_INT(STORED(db, "ip", A), 0);
    CHECK_EQ_INT(STORED(db, "ip", B), 1);
    check_invariants(db);
    free(a);
    free(b);
    ig_db_close(db);
}

/* An old answer between two fetches that held another value: the current value's interval
 * is cut around it, the old value gets [t, t], and nothing current changes. */
static void test_late_answer_between_fetches_cuts_intervals(void) {
    sqlite3 *db = open_db();
    size_t len, n;
    char *a = fixture(F_DOMAINTOOLS, &len);
    CHECK(a != NULL);
    if (!a) return;
    char *b1 = replace_all(a, "199.30.228.112", "203.0.113.7");
    char *b = replace_all(b1, "\"DomainTools, LLC\"", "\"Example Org\"");
    const char *A = "199.30.228.112", *B = "203.0.113.7", *D = "domaintools.com";
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T1, &n), IG_OK);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T3, &n), IG_OK);
    CHECK_EQ_STR(LINK(db, "last_seen", "ip", A, D), T3S);
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", b, T2, &n), IG_OK);
    CHECK_EQ_INT(INTERVALS(db, "ip", A, T1S, T1S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ip", A, T3S, T3S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ip", B, T2S, T2S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ssl_org", "DomainTools, LLC", T1S, T1S), 1);
    CHECK_EQ_INT(INTERVALS(db, "ssl_org", "Example Org", T2S, T2S), 1);
    /* name servers did not change: one interval over all three */
    CHECK_EQ_INT(INTERVALS(db, "nameserver_domain", "nsone.net", T1S, T3S), 1);
    /* current rows untouched */
    CHECK_EQ_STR(qs(db, "SELECT address FROM ips"), A);
    CHECK_EQ_STR(qs(db, "SELECT organization FROM ssl"), "DomainTools, LLC");
    CHECK_EQ_STR(qs(db, "SELECT last_fetched FROM domains"), T3S);
    CHECK_EQ_INT(STORED(db, "ip", A), 1);
    CHECK_EQ_INT(STORED(db, "ip", B), 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM fetches"), 3);
    /* a second late answer at T0, before everything: A is extended back */
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", a, T0, &n), IG_OK);
    CHECK_EQ_INT(INTERVALS(db, "ip", A, T0S, T1S), 1);
    CHECK_EQ_STR(qs(db, "SELECT first_fetched FROM domains"), T0S);
    check_invariants(db);
    free(a);
    free(b1);
    free(b);
    ig_db_close(db);
}

/* The attributes that are not pivots get history too: tags, contact org, city, state,
 * postal, country, fax, MX priority, IP country code, SSL dates and duration, risk
 * evidence and threats, alexa. */
static void test_history_of_attributes_that_are_not_pivots(void) {
    sqlite3 *db = open_db();
    size_t n;
    const char *v1 =
        "{\"results\":[{\"domain\":\"hist.example\",\"alexa\":100,"
        "\"tags\":[{\"label\":\"watch\",\"scope\":\"group\"}],"
        "\"registrant_contact\":{\"org\":{\"value\":\"Org A\"},\"city\":{\"value\":\"Reno\"},"
        "\"state\":\"NV\",\"postal\":\"89507\",\"country\":\"US\",\"fax\":\"111\"},"
        "\"ip\":[{\"address\":\"192.0.2.1\",\"country_code\":\"US\"}],"
        "\"mx\":[{\"host\":\"mx.hist.example\",\"priority\":10}],"
        "\"ssl_info\":[{\"hash\":\"aa\",\"not_before\":20240101,\"not_after\":20240401,"
        "\"duration\":90}],"
        "\"domain_risk\":{\"risk_score\":40,\"components\":[{\"name\":\"threat_profile\","
        "\"risk_score\":40,\"evidence\":[\"registrant\"],\"threats\":[\"spam\"]}]}}]}";
    const char *v2 =
        "{\"results\":[{\"domain\":\"hist.example\",\"alexa\":200,"
        "\"tags\":[{\"label\":\"blocklist\",\"scope\":\"group\"}],"
        "\"registrant_contact\":{\"org\":{\"value\":\"Org B\"},\"city\":{\"value\":\"Austin\"},"
        "\"state\":\"TX\",\"postal\":\"78701\",\"country\":\"REDACTED FOR PRIVACY\","
        "\"fax\":\"222\"},"
        "\"ip\":[{\"address\":\"192.0.2.1\",\"country_code\":\"DE\"}],"
        "\"mx\":[{\"host\":\"mx.hist.example\",\"priority\":20}],"
        "\"ssl_info\":[{\"hash\":\"aa\",\"not_before\":20240102,\"not_after\":20240501,"
        "\"duration\":120}],"
        "\"domain_risk\":{\"risk_score\":40,\"components\":[{\"name\":\"threat_profile\","
        "\"risk_score\":40,\"evidence\":[\"registrant\",\"name server\"],"
        "\"threats\":[\"phishing\"]}]}}]}";
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v1, T1, &n), IG_OK);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history"), 0);
    CHECK_EQ_STR(qs(db, "SELECT country FROM contacts"), "us");
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v2, T2, &n), IG_OK);
    /* free text in a country field is kept as sent; codes are lower-cased */
    CHECK_EQ_STR(qs(db, "SELECT country FROM contacts"), "REDACTED FOR PRIVACY");
    CHECK_EQ_STR(qs(db, "SELECT country_code FROM ips"), "de");
    static const char *const changes[][3] = {
        {"alexa", "100", "200"},
        {"tags", "watch", "blocklist"},
        {"registrant_contact.org", "Org A", "Org B"},
        {"registrant_contact.city", "Reno", "Austin"},
        {"registrant_contact.state", "NV", "TX"},
        {"registrant_contact.postal", "89507", "78701"},
        {"registrant_contact.country", "us", "REDACTED FOR PRIVACY"},
        {"registrant_contact.fax", "111", "222"},
        {"ip.country_code", "us", "de"},
        {"mx.priority", "10 mx.hist.example", "20 mx.hist.example"},
        {"ssl_info.not_before", "2024-01-01", "2024-01-02"},
        {"ssl_info.not_after", "2024-04-01", "2024-05-01"},
        {"ssl_info.duration", "90", "120"},
        {"domain_risk.threat_profile.evidence", "registrant", "registrant,name server"},
        {"domain_risk.threat_profile.threats", "spam", "phishing"},
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        const char *attr = changes[i][0];
        CHECK_EQ_INT(qi(db,
                        "SELECT count(*) FROM v_domain_changes WHERE domain = 'hist.example'"
                        " AND attr = %Q AND value = %Q AND change = 'removed'"
                        " AND first_seen = %Q AND last_seen = %Q AND removed_at = %Q",
                        attr, changes[i][1], T1S, T1S, T2S),
                     1);
        CHECK_EQ_INT(qi(db,
                        "SELECT count(*) FROM v_domain_changes WHERE domain = 'hist.example'"
                        " AND attr = %Q AND value = %Q AND change = 'added' AND added_at = %Q",
                        attr, changes[i][2], T2S),
                     1);
    }
    /* the risk score did not change: no row */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domain_history WHERE attr = 'risk_score'"), 0);
    /* a third fetch, unchanged: the current rows' last_seen follow */
    CHECK_EQ_INT(ingest_str(db, "iris-investigate", v2, T3, &n), IG_OK);
    CHECK_EQ_STR(qs(db, "SELECT last_seen FROM domain_history WHERE attr = 'alexa' AND"
                        " value = '200'"),
                 T3S);
    CHECK_EQ_STR(qs(db, "SELECT last_seen FROM domain_history WHERE attr = 'alexa' AND"
                        " value = '100'"),
                 T1S);
    check_invariants(db);
    ig_db_close(db);
}

/* ---- hostile input -------------------------------------------------------------------------- */

/* The k-th node (pre-order) under root, with its parent. */
static cJSON *nth_node(cJSON *root, int k, cJSON **parent) {
    int i = 0;
    cJSON *stack[2048], *pstack[2048];
    int sp = 0;
    stack[sp] = root;
    pstack[sp++] = NULL;
    while (sp) {
        cJSON *n = stack[--sp], *p = pstack[sp];
        if (i++ == k) {
            *parent = p;
            return n;
        }
        /* push children in reverse so they come out in order */
        int nc = 0;
        for (cJSON *c = n->child; c; c = c->next)
            nc++;
        if (sp + nc > 2048) continue;
        int j = sp + nc;
        for (cJSON *c = n->child; c; c = c->next) {
            stack[--j] = c;
            pstack[j] = n;
        }
        sp += nc;
    }
    return NULL;
}

/* A one-result answer: amazon.com of F_INV_AG. */
static cJSON *amazon_answer(void) {
    size_t len;
    char *body = fixture(F_INV_AG, &len);
    if (!body) return NULL;
    cJSON *doc = cJSON_Parse(body);
    free(body);
    cJSON *results = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "response"), "results");
    cJSON_DeleteItemFromArray(results, 1);
    return doc;
}

static cJSON *result0(cJSON *doc) {
    return cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "response"), "results"),
                              0);
}

static int is_domain_key(const cJSON *node, const cJSON *parent, const cJSON *r) {
    return parent == r && node->string && strcmp(node->string, "domain") == 0;
}

static void test_mutation_every_field_removed(void) {
    cJSON *doc = amazon_answer();
    CHECK(doc != NULL);
    if (!doc) return;
    sqlite3 *db = open_db();
    int runs = 0, bad = 0;
    for (int k = 1;; k++) {
        cJSON *copy = cJSON_Duplicate(doc, 1), *r = result0(copy), *parent = NULL;
        cJSON *node = nth_node(r, k, &parent);
        if (!node) {
            cJSON_Delete(copy);
            break;
        }
        int domain = is_domain_key(node, parent, r);
        cJSON_Delete(cJSON_DetachItemViaPointer(parent, node));
        char *body = cJSON_PrintUnformatted(copy);
        size_t n = 0;
        char err[256];
        int rc = ingest(db, "iris-investigate", body, strlen(body), T1 + k, &n, err, sizeof(err));
        if (rc != (domain ? IG_EINVAL : IG_OK) || (!domain && n != 1)) {
            bad++;
            fprintf(stderr, "  removing node %d: rc %d %s\n", k, rc, err);
        }
        free(body);
        cJSON_Delete(copy);
        runs++;
    }
    CHECK(runs > 300);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains"), 1);
    ig_db_close(db);
    cJSON_Delete(doc);
}

static cJSON *replacement(int i) {
    switch (i) {
    case 0:
        return cJSON_CreateString("str");
    case 1:
        return cJSON_CreateString("");
    case 2:
        return cJSON_Parse("{\"value\":{\"a\":[1]},\"count\":\"x\"}");
    case 3:
        return cJSON_Parse("[\"x\",{\"value\":\"y\",\"count\":\"7\"},null,[[]]]");
    case 4:
        return cJSON_CreateNumber(12345);
    case 5:
        return cJSON_CreateNumber(-1.5e300);
    case 6:
        return cJSON_CreateNull();
    default:
        return cJSON_CreateTrue();
    }
}
#define NREPLACEMENTS 8

static void test_mutation_types_swapped_at_every_node(void) {
    cJSON *doc = amazon_answer();
    CHECK(doc != NULL);
    if (!doc) return;
    sqlite3 *db = open_db();
    int runs = 0, bad = 0;
    for (int k = 1;; k++) {
        cJSON *probe = nth_node(result0(doc), k, &(cJSON *){NULL});
        if (!probe) break;
        for (int t = 0; t < NREPLACEMENTS; t++) {
            cJSON *copy = cJSON_Duplicate(doc, 1), *r = result0(copy), *parent = NULL;
            cJSON *node = nth_node(r, k, &parent);
            int domain = is_domain_key(node, parent, r);
            cJSON *with = replacement(t);
            if (node->string) /* keep the key: ReplaceItemViaPointer would drop it */
                cJSON_ReplaceItemInObjectCaseSensitive(parent, node->string, with);
            else
                cJSON_ReplaceItemViaPointer(parent, node, with);
            char *body = cJSON_PrintUnformatted(copy);
            size_t n = 0;
            char err[256];
            int rc = ingest(db, "iris-investigate", body, strlen(body), T1, &n, err, sizeof(err));
            int want = domain && t != 0 ? IG_EINVAL : IG_OK;
            if (rc != want) {
                bad++;
                fprintf(stderr, "  node %d replacement %d: rc %d %s\n", k, t, rc, err);
            }
            free(body);
            cJSON_Delete(copy);
            runs++;
        }
    }
    CHECK(runs > 2000);
    CHECK_EQ_INT(bad, 0);
    ig_db_close(db);
    cJSON_Delete(doc);
}

static void test_truncated_json_leaves_no_row(void) {
    size_t len;
    char *body = fixture(F_DOMAINTOOLS, &len);
    CHECK(body != NULL);
    if (!body) return;
    while (len && (body[len - 1] == '\n' || body[len - 1] == ' '))
        len--;
    sqlite3 *db = open_db();
    int bad = 0, runs = 0;
    for (size_t cut = 0; cut < len; cut++) { /* every prefix */
        char *copy = malloc(cut ? cut : 1);  /* exactly cut bytes: ASan sees any over-read */
        memcpy(copy, body, cut);
        size_t n = 0;
        char err[256];
        int rc = ingest(db, "iris-investigate", copy, cut, T1, &n, err, sizeof(err));
        if (rc != IG_EINVAL) bad++;
        free(copy);
        runs++;
    }
    CHECK(runs > 5000);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(total_rows(db), 0);
    ig_db_close(db);
    free(body);
}

/* Every row of every intel table, as text: two dumps are equal when nothing changed. */
static char *dump(sqlite3 *db) {
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int i = 0; i < NTABLES; i++) {
        char *sql = sqlite3_mprintf("SELECT * FROM %s ORDER BY 1, 2, 3", tables[i]);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
            while (sqlite3_step(st) == SQLITE_ROW)
                for (int c = 0; c < sqlite3_column_count(st); c++) {
                    const char *v = (const char *)sqlite3_column_text(st, c);
                    size_t k = v ? strlen(v) : 4;
                    if (n + k + 2 > cap) {
                        while (n + k + 2 > cap)
                            cap *= 2;
                        out = realloc(out, cap);
                    }
                    memcpy(out + n, v ? v : "NULL", k);
                    n += k;
                    out[n++] = '|';
                    out[n] = '\0';
                }
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    return out;
}

/* Mutations of a whole answer's second result (first result amazon.com, second google.com,
 * of F_INV_AG), into a database that already holds data: an accepted mutation stores both
 * results; a refused one (the domain gone or not a string) changes no row at all, although
 * the first result was written before the second was read. */
static void test_refused_answer_changes_no_row(void) {
    size_t len;
    char *body = fixture(F_INV_AG, &len);
    CHECK(body != NULL);
    if (!body) return;
    cJSON *doc = cJSON_Parse(body);
    free(body);
    sqlite3 *db = open_db();
    size_t n = 0;
    CHECK_EQ_INT(ingest_fixture(db, "iris-investigate", F_DOMAINTOOLS, T0, &n), IG_OK);
    int refused = 0, bad = 0, runs = 0;
    for (int k = 1;; k++) {
        cJSON *copy = cJSON_Duplicate(doc, 1);
        cJSON *r = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(copy, "response"), "results"), 1);
        cJSON *parent = NULL, *node = nth_node(r, k, &parent);
        if (!node) {
            cJSON_Delete(copy);
            break;
        }
        for (int t = -1; t < NREPLACEMENTS; t++) {
            cJSON *c2 = cJSON_Duplicate(copy, 1);
            cJSON *r2 = cJSON_GetArrayItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(c2, "response"), "results"), 1);
            cJSON *p2 = NULL, *n2 = nth_node(r2, k, &p2);
            int domain = is_domain_key(n2, p2, r2);
            if (t < 0) { /* removed */
                cJSON_Delete(cJSON_DetachItemViaPointer(p2, n2));
            } else if (n2->string) {
                cJSON_ReplaceItemInObjectCaseSensitive(p2, n2->string, replacement(t));
            } else {
                cJSON_ReplaceItemViaPointer(p2, n2, replacement(t));
            }
            char *text = cJSON_PrintUnformatted(c2);
            char *before = dump(db);
            char err[256] = "";
            int rc =
                ingest(db, "iris-investigate", text, strlen(text), T1 + runs, &n, err, sizeof(err));
            bool want_refused = domain && t != 0; /* a string domain is still a domain */
            if (want_refused) {
                char *after = dump(db);
                refused++;
                if (rc != IG_EINVAL || strcmp(before, after) != 0) {
                    bad++;
                    fprintf(stderr, "  node %d mutation %d: rc %d, rows changed %d\n", k, t, rc,
                            strcmp(before, after) != 0);
                }
                free(after);
            } else if (rc != IG_OK || n != 2) {
                bad++;
                fprintf(stderr, "  node %d mutation %d: rc %d %s\n", k, t, rc, err);
            }
            free(before);
            free(text);
            cJSON_Delete(c2);
            runs++;
        }
        cJSON_Delete(copy);
        if (runs > 400) break; /* the result's top-level fields are covered by then */
    }
    CHECK(refused >= 8);
    CHECK_EQ_INT(bad, 0);
    check_invariants(db);
    ig_db_close(db);
    cJSON_Delete(doc);
}

/* Every field removed, every type swapped, every prefix cut, over Enrich and legacy answers:
 * no crash (the sanitizer build runs this), refusals leave nothing, acceptances one domain. */
static void mutate_fixture(const char *file, const char *endpoint) {
    size_t len;
    char *body = fixture(file, &len);
    CHECK(body != NULL);
    if (!body) return;
    cJSON *doc = cJSON_Parse(body);
    sqlite3 *db = open_db();
    int bad = 0, runs = 0;
    for (int k = 1;; k++) {
        cJSON *probe = nth_node(result0(doc), k, &(cJSON *){NULL});
        if (!probe) break;
        for (int t = -1; t < NREPLACEMENTS; t++) {
            cJSON *copy = cJSON_Duplicate(doc, 1), *r = result0(copy), *parent = NULL;
            cJSON *node = nth_node(r, k, &parent);
            int domain = is_domain_key(node, parent, r);
            if (t < 0)
                cJSON_Delete(cJSON_DetachItemViaPointer(parent, node));
            else if (node->string)
                cJSON_ReplaceItemInObjectCaseSensitive(parent, node->string, replacement(t));
            else
                cJSON_ReplaceItemViaPointer(parent, node, replacement(t));
            char *text = cJSON_PrintUnformatted(copy);
            size_t n = 0;
            char err[256];
            bool refuse = domain && t != 0;
            long long rows = refuse ? total_rows(db) : 0;
            int rc = ingest(db, endpoint, text, strlen(text), T1 + runs, &n, err, sizeof(err));
            if (refuse) {
                if (rc != IG_EINVAL || total_rows(db) != rows) bad++;
            } else if (rc != IG_OK || n != 1) {
                bad++;
                fprintf(stderr, "  %s node %d mutation %d: rc %d %s\n", file, k, t, rc, err);
            }
            free(text);
            cJSON_Delete(copy);
            runs++;
        }
    }
    CHECK(runs > 300);
    CHECK_EQ_INT(bad, 0);
    check_invariants(db);
    /* every prefix of the file: refused, nothing written */
    char *before = dump(db);
    int cuts_bad = 0;
    while (len && (body[len - 1] == '\n' || body[len - 1] == ' '))
        len--;
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any over-read */
        memcpy(copy, body, cut);
        size_t n = 0;
        char err[256];
        if (ingest(db, endpoint, copy, cut, T3, &n, err, sizeof(err)) != IG_EINVAL) cuts_bad++;
        free(copy);
    }
    char *after = dump(db);
    CHECK_EQ_INT(cuts_bad, 0);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    ig_db_close(db);
    cJSON_Delete(doc);
    free(body);
}

static void test_mutations_of_enrich_and_legacy_answers(void) {
    mutate_fixture(F_ENRICH_2021, "iris-enrich");
    mutate_fixture(F_LEGACY_2022, "iris");
    mutate_fixture(F_LEGACY_2018, "iris");
}

/* A database failure after the first result was written: the caller's rollback removes it. */
static void test_failure_half_way_rolls_back_everything(void) {
    sqlite3 *db = open_db();
    sqlite3_exec(db,
                 "CREATE TRIGGER boom BEFORE INSERT ON ips WHEN new.address = '192.0.2.66'"
                 " BEGIN SELECT RAISE(ABORT, 'boom'); END",
                 NULL, NULL, NULL);
    const char *body = "{\"results\":[{\"domain\":\"a.example\",\"ip\":[\"192.0.2.1\"],"
                       "\"registrar\":{\"value\":\"R\",\"count\":3}},"
                       "{\"domain\":\"b.example\",\"ip\":[\"192.0.2.66\"]}]}";
    size_t n = 0;
    char err[256] = "";
    CHECK_EQ_INT(ingest(db, "iris-investigate", body, strlen(body), T1, &n, err, sizeof(err)),
                 IG_EIO);
    CHECK(strstr(err, "boom") != NULL);
    CHECK_EQ_INT(total_rows(db), 0);
    ig_db_close(db);
}

static char *repeat_answer(const char *head, const char *item, int count, const char *tail) {
    size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    char *s = malloc(hl + (il + 1) * (size_t)count + tl + 1), *o = s;
    memcpy(o, head, hl);
    o += hl;
    for (int i = 0; i < count; i++) {
        if (i) *o++ = ',';
        memcpy(o, item, il);
        o += il;
    }
    memcpy(o, tail, tl + 1);
    return s;
}

static void test_huge_list_is_capped(void) {
    sqlite3 *db = open_db();
    /* 100,000 IPs, all different */
    size_t cap = 100000 * 128 + 256, o = 0;
    char *body = malloc(cap);
    o += (size_t)snprintf(body + o, cap - o, "{\"results\":[{\"domain\":\"big.example\",\"ip\":[");
    for (int i = 0; i < 100000; i++)
        o += (size_t)snprintf(body + o, cap - o,
                              "%s{\"address\":{\"value\":\"10.%d.%d.%d\",\"count\":1},"
                              "\"asn\":[{\"value\":1}]}",
                              i ? "," : "", i >> 16, (i >> 8) & 255, i & 255);
    o += (size_t)snprintf(body + o, cap - o, "]}]}");
    size_t n = 0;
    char err[256] = "";
    CHECK_EQ_INT(ingest(db, "iris-investigate", body, o, T1, &n, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 10000); /* MAX_LIST in ingest.c */
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM pivots WHERE field='ip'"), 10000);
    free(body);

    /* a list of 10,000 elements in each of 101 results: over the answer's work budget
     * (MAX_VALUES), refused after some results were written, and rolled back */
    char *list = repeat_answer("", "1", 10000, "");
    size_t il = strlen(list) + 64;
    char *item = malloc(il);
    snprintf(item, il, "{\"domain\":\"d.example\",\"registrar_status\":[%s]}", list);
    body = repeat_answer("{\"results\":[", item, 101, "]}");
    err[0] = '\0';
    CHECK_EQ_INT(ingest(db, "iris-investigate", body, strlen(body), T2, &n, err, sizeof(err)),
                 IG_EINVAL);
    CHECK(strstr(err, "too large") != NULL);
    CHECK_EQ_STR(qs(db, "SELECT last_fetched FROM domains"), T1S);
    free(body);
    free(item);
    free(list);

    /* one long string: cut at 64 KiB on a UTF-8 boundary */
    size_t big = 200000;
    body = malloc(big + 128);
    o = (size_t)snprintf(body, 128, "{\"results\":[{\"domain\":\"s.example\",\"registrar\":\"");
    for (size_t i = 0; i < big; i += 2) {
        body[o++] = (char)0xC3; /* é */
        body[o++] = (char)0xA9;
    }
    o += (size_t)snprintf(body + o, 64, "\"}]}");
    CHECK_EQ_INT(ingest(db, "iris-investigate", body, o, T1, &n, err, sizeof(err)), IG_OK);
    CHECK_EQ_INT(qi(db, "SELECT length(CAST(registrar AS BLOB)) FROM domains WHERE"
                        " domain='s.example'"),
                 65536);
    free(body);
    ig_db_close(db);
}

static void test_deep_nesting(void) {
    sqlite3 *db = open_db();
    for (int depth = 10000; depth >= 900; depth -= 9100) {
        size_t cap = (size_t)depth * 2 + 128, o = 0;
        char *body = malloc(cap);
        o += (size_t)snprintf(body, cap, "{\"results\":[{\"domain\":\"deep.example\",\"ip\":");
        for (int i = 0; i < depth; i++)
            body[o++] = '[';
        for (int i = 0; i < depth; i++)
            body[o++] = ']';
        o += (size_t)snprintf(body + o, cap - o, "}]}");
        size_t n = 0;
        char err[256];
        int rc = ingest(db, "iris-investigate", body, o, T1, &n, err, sizeof(err));
        /* cJSON refuses nesting past 1000 levels; below that it is an odd, empty ip list */
        CHECK_EQ_INT(rc, depth > 1000 ? IG_EINVAL : IG_OK);
        free(body);
    }
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM domains"), 1);
    CHECK_EQ_INT(qi(db, "SELECT count(*) FROM ips"), 0);
    ig_db_close(db);
}

int main(void) {
    RUN(test_investigate_domaintools_columns_and_pivots);
    RUN(test_investigate_amazon_google_post);
    RUN(test_enrich_never_touches_counts);
    RUN(test_legacy_flat_answers);
    RUN(test_legacy_threat_profile_components);
    RUN(test_shape_variants_and_newer_fields);
    RUN(test_limit_exceeded_is_zero_domains);
    RUN(test_investigate_2018_get_answer);
    RUN(test_investigate_2019_answer);
    RUN(test_investigate_2022_answer_at_its_own_times);
    RUN(test_enrich_answers_imported_out_of_order);
    RUN(test_old_answer_imported_late_keeps_current_rows);
    RUN(test_endpoint_told_by_the_parsed_shape);
    RUN(test_every_recorded_iris_200_answer_imports);
    RUN(test_account_and_error_answers_are_refused);
    RUN(test_json_tree_is_strict);
    RUN(test_malformed_answers_are_refused);
    RUN(test_history_new_ip_and_late_old_answer);
    RUN(test_value_that_comes_back_is_a_new_interval);
    RUN(test_same_second_answer_replaces_the_earlier);
    RUN(test_late_answer_between_fetches_cuts_intervals);
    RUN(test_history_of_attributes_that_are_not_pivots);
    RUN(test_mutation_every_field_removed);
    RUN(test_mutation_types_swapped_at_every_node);
    RUN(test_truncated_json_leaves_no_row);
    RUN(test_refused_answer_changes_no_row);
    RUN(test_mutations_of_enrich_and_legacy_answers);
    RUN(test_failure_half_way_rolls_back_everything);
    RUN(test_huge_list_is_capped);
    RUN(test_deep_nesting);
    return check_summary();
}
