"""test_sql.py — the SQL module (sql/, docs/sql.md) in the real sqlite3 shell and in
`irisgate sql`: iris_pivot, iris_guided_pivots and iris_distribution agree with plain SQL
over the intel tables (stored counts counted from the links, so the column ingest maintains is
checked too) and with the vendor's answers, on a database filled through irisgate
from fixtures and fakeiris's synthetic world; plans without the arguments are refused; a
database used with the module stays a plain SQLite file; the planner sizes each call from the
store; every example of docs/sql.md runs; ages and risk scores at every bucket boundary land
where a plain-SQL CASE puts them; iris_fetch fills the store through irisgate, costs no
upstream query the second time within the TTL, takes answers irisgate served from its cache
in whole or in part (HIT, PARTIAL, STALE) as stored, and carries the vendor's message on
errors.

Environment (CMake): IRISGATE_SQL_EXT (the built irisgate_sql.so); in the sanitizer build
IG_SQL_PRELOAD (the ASan runtime, preloaded into Debian's uninstrumented sqlite3 so it can
load our instrumented extension; leak checking stays on: the shell itself leaks nothing).
"""
import datetime
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, IRISGATE, run  # noqa: E402

INV = "/v1/iris-investigate/"
EXT = os.environ.get("IRISGATE_SQL_EXT", "build/irisgate_sql.so")
RESPONSES = os.path.join(harness.SHARED, "iris", "responses")
DOCS_SQL = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "sql.md")

# Written from the Iris apps' attribute names, not from sql/fields.c.
LABELS = {"ip": "IP address", "nameserver_host": "Name server", "registrar": "Registrar",
          "ssl_hash": "SSL hash", "google_analytics": "Google Analytics",
          "mailserver_host": "Mail server", "email_domain": "Email domain"}



def shell_env(extra=None):
    env = dict(os.environ)
    pre = os.environ.get("IG_SQL_PRELOAD")
    if pre:
        env["LD_PRELOAD"] = pre
    for k in ("IRISGATE_URL", "IRISGATE_USER", "IRISGATE_KEY"):
        env.pop(k, None)
    env.update(extra or {})
    return env


def shell(db, script, load=True, env=None, args=("-batch",)):
    """Runs script in the sqlite3 shell on db; returns (exit status, stdout, stderr)."""
    pre = ".load %s\n" % EXT if load else ""
    p = subprocess.run(["sqlite3"] + list(args) + [db], input=(pre + script).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       env=shell_env(env))
    err = p.stderr.decode("utf-8", "replace")
    assert not harness._sanitizer_report(err), err
    return p.returncode, p.stdout.decode(), err


def rows(db, sql):
    """One statement's rows through the shell with the module loaded, as dicts."""
    rc, out, err = shell(db, ".mode json\n" + sql + "\n", args=("-bail", "-batch"))
    assert rc == 0 and err == "", (sql, err)
    return json.loads(out) if out.strip() else []


def plain(db, sql, args=()):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    c.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in c.execute(sql, args).fetchall()]
    finally:
        c.close()


def wait_for(db, sql, args, want, timeout=15.0):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        try:
            got = plain(db, sql, args)[0]
            got = list(got.values())[0]
        except (sqlite3.OperationalError, IndexError):
            got = None
        if got == want:
            return
        time.sleep(0.05)
    raise AssertionError("waited for %r = %r, last saw %r" % (sql, want, got))


def universe(env, limit=300):
    c = env.fake_conn()
    c.request("GET", "/_fake/domains?offset=0&limit=%d" % limit)
    names = json.loads(c.getresponse().read())
    c.close()
    return names


def find_value(env, field, lo, hi, through_gate=True):
    """(value, vendor count) of a nameserver_host or registrar shared by lo..hi domains, read
    from domain lookups (through irisgate, or straight from fakeiris so irisgate stays cold)."""
    where = {"nameserver_host": ("name_server", "host"), "registrar": (None, "registrar")}[field]
    for name in universe(env):
        if through_gate:
            s, _, b = env.ask(INV, {"domain": name})
        else:
            s, _, b = env.fake_direct(INV, {"domain": name})
        assert s == 200, b
        r = json.loads(b)["response"]["results"][0]
        vcs = [x[where[1]] for x in r[where[0]]] if where[0] else [r[where[1]]]
        for vc in vcs:
            if lo <= vc["count"] <= hi:
                return vc["value"], vc["count"]
    raise AssertionError("no %s shared by %d..%d domains" % (field, lo, hi))


def walk_pivot(env, params, page_size=100):
    seen, position = set(), None
    while True:
        p = dict(params, page_size=str(page_size))
        if position:
            p["position"] = position
        s, _, b = env.ask(INV, p)
        assert s == 200, b
        r = json.loads(b)["response"]
        seen.update(x["domain"] for x in r["results"])
        if not r["has_more_results"]:
            return seen, r["total_count"]
        position = r["position"]


CURRENT_LINKS = """SELECT count(*) FROM pivots p JOIN domain_pivots dp USING (pivot_id)
                   JOIN domains d USING (domain_id)
                   WHERE p.field = ? AND p.value = ? AND dp.last_seen = d.last_fetched"""

# The stored domains that currently hold pivot p, counted from the links as docs/schema.md
# defines them: not the maintained pivots.stored_count the module reads, so every comparison
# below also checks that ingest kept that column right.
COUNTED_STORED = """(SELECT count(*) FROM domain_pivots cl JOIN domains cd ON cd.domain_id = cl.domain_id
                     WHERE cl.pivot_id = p.pivot_id AND cl.last_seen = cd.last_fetched)"""

# The expected answers, written from docs/schema.md's tables and views.
PLAIN_PIVOT = """SELECT v.domain, v.risk_score, v.create_date, v.age_days, v.first_seen, v.active,
                        v.last_fetched, c.vendor_count, %s AS stored_count
                 FROM v_pivot_counts c JOIN pivots p ON p.field = c.field AND p.value = c.value
                 JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id
                 JOIN v_domains v ON v.domain_id = dp.domain_id
                 WHERE c.field = ? AND c.value = ? AND dp.last_seen = v.last_fetched
                 ORDER BY v.domain""" % COUNTED_STORED
PLAIN_GUIDED = """SELECT p.field, p.value, p.count AS vendor_count, %s AS stored_count
                  FROM domains d
                  JOIN domain_pivots dp ON dp.domain_id = d.domain_id AND dp.last_seen = d.last_fetched
                  JOIN pivots p ON p.pivot_id = dp.pivot_id
                  WHERE d.domain = ?""" % COUNTED_STORED


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def doc_text():
    with open(DOCS_SQL) as f:
        return f.read()


def doc_field_order():
    """The pivot fields in the order docs/sql.md lists them (Conventions, **Fields**): the
    order iris_guided_pivots promises for a domain's values."""
    text = doc_text()
    para = text[text.index("**Fields**"):text.index("Field names are case-insensitive")]
    fields = re.findall(r"`([a-z0-9_]+)`", para.split(":", 1)[1])
    assert len(fields) > 30 and fields[0] == "ip", fields
    return fields


def doc_sql_blocks():
    return re.findall(r"```sql\n(.*?)```", doc_text(), re.S)


def plain_guided_ordered():
    """A domain's current values in the documented order, by plain SQL."""
    rank = " ".join("WHEN %s THEN %d" % (sql_str(f), i) for i, f in enumerate(doc_field_order()))
    return PLAIN_GUIDED + " ORDER BY CASE p.field %s ELSE %d END, p.field, p.value" % (
        rank, len(doc_field_order()))


# The value's current domains, as docs/schema.md defines them, for the histograms below.
VALUE_DOMAINS = """SELECT v.domain, v.risk_score, v.age_days FROM pivots p
                   JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id
                   JOIN v_domains v ON v.domain_id = dp.domain_id
                   WHERE p.field = :field AND p.value = :value AND dp.last_seen = v.last_fetched"""

# docs/sql.md's risk buckets: :w points wide from 0, the last one cut at 100, 'unknown' last.
PLAIN_RISK_BUCKETS = """
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE (i + 1) * :w <= 100),
b AS (SELECT i AS ord, i * :w AS low, min(i * :w + :w - 1, 100) AS high FROM k
      UNION ALL SELECT 1000, NULL, NULL),
doms AS (%s),
r AS (SELECT CASE WHEN risk_score IS NULL THEN 1000
                  ELSE min(max(risk_score, 0), 100) / :w END AS ord FROM doms)
SELECT CASE WHEN b.ord = 1000 THEN 'unknown' WHEN low = high THEN CAST(low AS TEXT)
            ELSE low || '-' || high END AS bucket, low, high,
       (SELECT count(*) FROM r WHERE r.ord = b.ord) AS domains,
       coalesce((SELECT count(*) FROM r WHERE r.ord = b.ord) * 1.0
                / nullif((SELECT count(*) FROM doms), 0), 0.0) AS share
FROM b ORDER BY b.ord""" % VALUE_DOMAINS

# docs/sql.md's age buckets, a CASE over v_domains.age_days.
PLAIN_AGE_BUCKETS = """
WITH b(ord, bucket, low, high) AS (VALUES (0, 'under a week', 0, 6), (1, 'under a month', 7, 29),
       (2, 'under 3 months', 30, 89), (3, 'under 6 months', 90, 179),
       (4, 'under a year', 180, 364), (5, 'under 2 years', 365, 729),
       (6, 'under 5 years', 730, 1824), (7, 'older', 1825, NULL), (8, 'unknown', NULL, NULL)),
doms AS (%s),
r AS (SELECT CASE WHEN age_days IS NULL THEN 8 WHEN age_days < 7 THEN 0 WHEN age_days < 30 THEN 1
                  WHEN age_days < 90 THEN 2 WHEN age_days < 180 THEN 3 WHEN age_days < 365 THEN 4
                  WHEN age_days < 730 THEN 5 WHEN age_days < 1825 THEN 6 ELSE 7 END AS ord
      FROM doms)
SELECT bucket, low, high, (SELECT count(*) FROM r WHERE r.ord = b.ord) AS domains,
       coalesce((SELECT count(*) FROM r WHERE r.ord = b.ord) * 1.0
                / nullif((SELECT count(*) FROM doms), 0), 0.0) AS share
FROM b ORDER BY b.ord""" % VALUE_DOMAINS


def plain_distribution(db, field, value, metric, width=10):
    if metric == "risk":
        return plain(db, PLAIN_RISK_BUCKETS, {"field": field, "value": value, "w": width})
    return plain(db, PLAIN_AGE_BUCKETS, {"field": field, "value": value})


def assert_same_distribution(test, got, want):
    test.assertEqual([{k: r[k] for k in r if k != "share"} for r in got],
                     [{k: r[k] for k in r if k != "share"} for r in want])
    for g, w in zip(got, want):
        test.assertTrue(math.isclose(g["share"], w["share"], abs_tol=1e-9), (g, w))


def first_scans(plan):
    """The aliases of EXPLAIN QUERY PLAN's SCAN/SEARCH lines, outermost first."""
    return re.findall(r"(?:SCAN|SEARCH) (\w+)", plan)


class SqlModuleTest(unittest.TestCase):
    """One store filled through irisgate (fixtures + a synthetic pivot), many questions."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env().__enter__()
        try:
            env = cls.env
            s, _, b = env.ask(INV, {"domain": "amazon.com,google.com"})
            assert s == 200, b
            cls.ns, cls.ns_count = find_value(env, "nameserver_host", 12, 400)
            cls.ns_domains, total = walk_pivot(env, {"nameserver_host": cls.ns})
            assert total == cls.ns_count
            wait_for(env.db, CURRENT_LINKS, ("nameserver_host", cls.ns), cls.ns_count)
            wait_for(env.db, "SELECT count(*) FROM domains WHERE domain IN ('amazon.com', 'google.com')",
                     (), 2)
        except BaseException:
            cls.env.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def test_pivot_lists_the_domains_the_vendor_returned_as_plain_sql_does(self):
        db = self.env.db
        got = rows(db, "SELECT * FROM iris_pivot('nameserver_host', %s) ORDER BY domain" % sql_str(self.ns))
        want = plain(db, PLAIN_PIVOT, ("nameserver_host", self.ns))
        self.assertEqual(got, want)
        self.assertEqual({r["domain"] for r in got}, self.ns_domains)  # the vendor's answer
        self.assertEqual({r["vendor_count"] for r in got}, {self.ns_count})
        self.assertEqual({r["stored_count"] for r in got}, {self.ns_count})
        # Upper-case field names and the ip of a fixture domain work the same way.
        ip = plain(db, "SELECT address FROM ips JOIN domains USING (domain_id) "
                       "WHERE domain = 'google.com' AND position = 0")[0]["address"]
        got = rows(db, "SELECT domain, stored_count FROM iris_pivot('IP', %s) ORDER BY domain" % sql_str(ip))
        want = plain(db, "SELECT domain, stored_count FROM (%s)" % PLAIN_PIVOT, ("ip", ip))
        self.assertEqual(got, want)
        self.assertIn("google.com", [r["domain"] for r in got])

    def test_pivot_aliases_unknown_fields_and_nulls(self):
        db = self.env.db
        code = plain(db, "SELECT value FROM pivots WHERE field = 'google_tag_manager' LIMIT 1")
        if code:
            v = sql_str(code[0]["value"])
            self.assertEqual(rows(db, "SELECT domain FROM iris_pivot('gtm', %s) ORDER BY 1" % v),
                             rows(db, "SELECT domain FROM iris_pivot('google_tag_manager', %s) ORDER BY 1" % v))
        rc, _, err = shell(db, "SELECT * FROM iris_pivot('domain', 'google.com');")
        self.assertNotEqual(rc, 0)
        self.assertIn("'domain' is not a pivot field", err)
        rc, _, err = shell(db, "SELECT * FROM iris_pivot('nameserver_hots', 'x');")
        self.assertNotEqual(rc, 0)
        self.assertIn("unknown pivot field 'nameserver_hots'", err)
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_pivot('ip', NULL)"), [{"n": 0}])
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_pivot(NULL, 'x')"), [{"n": 0}])
        # The walks' internal aggregate is of no use on its own.
        rc, _, err = shell(db, "SELECT iris_sql_batch(domain) FROM domains;")
        self.assertNotEqual(rc, 0)
        self.assertIn("internal to the irisgate SQL module", err)
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_pivot('ip', '203.0.113.254')"), [{"n": 0}])

    def test_guided_pivots_match_plain_sql_and_the_fixture(self):
        db = self.env.db
        for threshold in (None, 100000):
            args = "'google.com'" if threshold is None else "'GOOGLE.com', %d" % threshold
            got = rows(db, "SELECT * FROM iris_guided_pivots(%s)" % args)
            want = plain(db, plain_guided_ordered(), ("google.com",))
            self.assertGreater(len(want), 10)
            t = 500 if threshold is None else threshold
            for w in want:
                w["guided"] = 1 if w["vendor_count"] is not None and 1 < w["vendor_count"] <= t else 0
                w["query"] = w["field"] + "=" + urllib.parse.quote(w["value"], safe="-._~")
            # In the documented order, without an ORDER BY.
            self.assertEqual([{k: r[k] for k in r if k != "label"} for r in got], want)
            for r in got:
                if r["field"] in LABELS:
                    self.assertEqual(r["label"], LABELS[r["field"]])
        # Vendor counts as the newest recorded answer for google.com has them.
        bodies = harness.newest_fixtures("iris-investigate", "domain=amazon.com,google.com")
        expect = set()
        for b in bodies:
            for r in json.loads(b)["response"]["results"]:
                if r["domain"] == "google.com":
                    expect.add((r["ip"][0]["address"]["value"], r["ip"][0]["address"]["count"]))
        got = rows(db, "SELECT value, vendor_count FROM iris_guided_pivots('google.com') WHERE field = 'ip'")
        self.assertTrue({(r["value"], r["vendor_count"]) for r in got} & expect, (got, expect))
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_guided_pivots('not-stored.example')"),
                         [{"n": 0}])
        # A NULL domain is no rows; a NULL threshold is the default.
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_guided_pivots(NULL)"), [{"n": 0}])
        self.assertEqual(rows(db, "SELECT guided FROM iris_guided_pivots('google.com', NULL)"),
                         rows(db, "SELECT guided FROM iris_guided_pivots('google.com')"))

    def test_distributions_count_every_bucket_as_plain_sql_does(self):
        db = self.env.db
        for metric, width in (("risk", None), ("risk", 25), ("risk", 1), ("risk", 30), ("age", None)):
            args = "'nameserver_host', %s, '%s'" % (sql_str(self.ns), metric)
            if width:
                args += ", %d" % width
            got = rows(db, "SELECT * FROM iris_distribution(%s)" % args)
            want = plain_distribution(db, "nameserver_host", self.ns, metric, width or 10)
            assert_same_distribution(self, got, want)
            self.assertEqual(sum(r["domains"] for r in got), self.ns_count)
        # Width 1: a bucket per score, 0 to 100, then 'unknown'.
        got = rows(db, "SELECT bucket FROM iris_distribution('nameserver_host', %s, 'risk', 1)" % sql_str(self.ns))
        self.assertEqual([r["bucket"] for r in got], [str(i) for i in range(101)] + ["unknown"])
        rc, _, err = shell(db, "SELECT * FROM iris_distribution('ip', '1.2.3.4', 'size');")
        self.assertNotEqual(rc, 0)
        self.assertIn("unknown metric 'size'", err)
        for bad in ("0", "101", "2.5", "'x'"):
            rc, _, err = shell(db, "SELECT * FROM iris_distribution('ip', '1.2.3.4', 'risk', %s);" % bad)
            self.assertNotEqual(rc, 0, bad)
            self.assertIn("bucket size must be a whole number", err)
        # A value nobody stored: every bucket, empty.
        empty = rows(db, "SELECT domains FROM iris_distribution('ip', '203.0.113.254', 'age')")
        self.assertEqual(empty, [{"domains": 0}] * 9)
        # A NULL field, value or metric: no rows, as iris_pivot; a NULL bucket size: the default.
        for args in ("NULL, '1.2.3.4', 'risk'", "'ip', NULL, 'risk'", "'ip', NULL, 'age'",
                     "'nameserver_host', %s, NULL" % sql_str(self.ns)):
            self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_distribution(%s)" % args), [{"n": 0}], args)
        self.assertEqual(
            rows(db, "SELECT * FROM iris_distribution('nameserver_host', %s, 'risk', NULL)" % sql_str(self.ns)),
            rows(db, "SELECT * FROM iris_distribution('nameserver_host', %s, 'risk')" % sql_str(self.ns)))

    def test_the_planner_puts_the_smaller_pivot_outside(self):
        """Sized from the store: a value with one stored domain drives a join with one that has
        many, whichever is written first."""
        db = self.env.db
        small = plain(db, "SELECT field, value FROM v_pivot_counts WHERE field = 'ip' AND stored_count = 1 "
                          "ORDER BY value LIMIT 1")[0]
        big = ("nameserver_host", self.ns)
        self.assertGreaterEqual(self.ns_count, 12)
        s_args = "%s, %s" % (sql_str(small["field"]), sql_str(small["value"]))
        b_args = "%s, %s" % (sql_str(big[0]), sql_str(big[1]))
        for sql in ("SELECT big.domain FROM iris_pivot(%s) big JOIN iris_pivot(%s) small "
                    "ON small.domain = big.domain" % (b_args, s_args),
                    "SELECT big.domain FROM iris_pivot(%s) small JOIN iris_pivot(%s) big "
                    "ON small.domain = big.domain" % (s_args, b_args)):
            rc, out, err = shell(db, "EXPLAIN QUERY PLAN %s;\n" % sql)
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(first_scans(out), ["small", "big"], out)
        # And the guided pivots of a domain drive the pivots on its values.
        rc, out, err = shell(db, "EXPLAIN QUERY PLAN SELECT p.domain FROM iris_pivot(%s) p "
                                 "JOIN iris_guided_pivots('google.com') g ON g.domain = p.domain;\n" % b_args)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(first_scans(out)[0], "g", out)

    def test_every_example_of_the_manual_runs(self):
        """Each ```sql block of docs/sql.md, in the sqlite3 shell with the module, against this
        store and its irisgate (the manual's placeholder key replaced by the test user's)."""
        env = self.env
        blocks = doc_sql_blocks()
        self.assertGreaterEqual(len(blocks), 7)
        for sql in blocks:
            script = ".bail on\n" + sql.replace("KEY-FROM-irisgate-user-add", env.key)
            rc, out, err = shell(env.db, script, env={"IRISGATE_URL": "http://127.0.0.1:%d" % env.gate.port},
                                 args=("-batch", "-bail"))
            self.assertEqual((rc, err), (0, ""), sql)


    def test_plans_without_the_arguments_are_refused_and_joins_bind_them(self):
        db = self.env.db
        for sql in ("SELECT * FROM iris_pivot;", "SELECT * FROM iris_pivot WHERE field = 'ip';",
                    "SELECT * FROM iris_guided_pivots;",
                    "SELECT * FROM iris_distribution('ip', '1.2.3.4');"):
            rc, out, err = shell(db, sql)
            self.assertNotEqual(rc, 0, sql)
            self.assertIn("no query solution", err, sql)
        ips = [r["address"] for r in plain(db, "SELECT DISTINCT address FROM ips ORDER BY address LIMIT 8")]
        self.assertGreater(len(ips), 3)
        script = ("CREATE TEMP TABLE watch(ip TEXT);\n"
                  + "".join("INSERT INTO watch VALUES (%s);\n" % sql_str(ip) for ip in ips)
                  + ".mode list\n"
                  "SELECT w.ip, p.domain FROM watch w JOIN iris_pivot('ip', w.ip) p ORDER BY 1, 2;\n"
                  "SELECT w.ip, p.domain FROM iris_pivot p JOIN watch w ON p.field = 'ip' AND p.value = w.ip "
                  "ORDER BY 1, 2;\n"
                  "EXPLAIN QUERY PLAN SELECT * FROM watch w JOIN iris_pivot('ip', w.ip) p;\n")
        rc, out, err = shell(db, script)
        self.assertEqual((rc, err), (0, ""))
        want = plain(db, """SELECT p.value, d.domain FROM pivots p JOIN domain_pivots dp USING (pivot_id)
                            JOIN domains d USING (domain_id)
                            WHERE p.field = 'ip' AND dp.last_seen = d.last_fetched AND p.value IN (%s)
                            ORDER BY 1, 2""" % ",".join("?" * len(ips)), ips)
        lines = ["%s|%s" % (r["value"], r["domain"]) for r in want]
        got = out.splitlines()
        self.assertEqual(got[:2 * len(lines)], lines + lines)
        plan = "\n".join(got[2 * len(lines):])
        self.assertIn("SCAN w", plan)
        self.assertRegex(plan, r"SCAN p VIRTUAL TABLE INDEX 3")

    def test_a_database_used_with_the_module_needs_nothing_without_it(self):
        db = self.env.db
        schema = plain(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name")
        for fn, args in (("iris_pivot", ""), ("iris_guided_pivots", ""), ("iris_distribution", ""),
                         ("iris_pivot", "('ip', '1.2.3.4')")):
            rc, _, err = shell(db, "CREATE VIRTUAL TABLE main.x USING %s%s;\n" % (fn, args))
            self.assertNotEqual(rc, 0, fn)  # eponymous only: nothing can be stored
            self.assertIn("no such module", err)
        self.assertEqual(plain(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name"), schema)
        rc, out, err = shell(db, "SELECT count(*) FROM iris_pivot('nameserver_host', %s);\n"
                                 "SELECT count(*) FROM iris_guided_pivots('google.com');\n" % sql_str(self.ns))
        self.assertEqual(rc, 0, err)
        rc, out, err = shell(db, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%iris_%' "
                                 "OR name LIKE 'iris_%';\nPRAGMA integrity_check;\n"
                                 "SELECT count(*) > 0 FROM domains;\n", load=False)
        self.assertEqual((rc, out, err), (0, "0\nok\n1\n", ""))
        rc, _, err = shell(db, "SELECT * FROM iris_pivot('ip', '1.2.3.4');\n", load=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("no such table: iris_pivot", err)

    def test_irisgate_sql_one_shot_and_stdin(self):
        db = self.env.db
        ns = sql_str(self.ns)
        out = run([IRISGATE, "sql", "--db", db,
                   "SELECT count(*) FROM iris_pivot('nameserver_host', %s); "
                   "SELECT 'a', NULL, 2.5; SELECT domain FROM iris_pivot('nameserver_host', %s) "
                   "ORDER BY domain LIMIT 2" % (ns, ns)])
        first = sorted(self.ns_domains)[:2]
        self.assertEqual(out, "%d\na||2.5\n%s\n" % (self.ns_count, "\n".join(first)))
        p = subprocess.run([IRISGATE, "sql", "--db", db, "SELECT * FROM nope"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.decode(), "irisgate sql: no such table: nope\n")
        script = ("SELECT bucket, domains\n  FROM iris_distribution('nameserver_host',\n  %s, 'risk')\n"
                  "  WHERE bucket = 'unknown';\n"
                  "SELECT 1; SELECT\n 'x;y';\nSELECT * FROM nope;\nSELECT 2;\n" % ns)
        domains = plain(db, PLAIN_PIVOT, ("nameserver_host", self.ns))
        unknown = sum(1 for d in domains if d["risk_score"] is None)
        p = subprocess.run([IRISGATE, "sql", "--db", db], input=script.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.stdout.decode(), "unknown|%d\n1\nx;y\n2\n" % unknown)
        self.assertEqual(p.stderr.decode(), "irisgate sql: no such table: nope\n")
        self.assertEqual(p.returncode, 1)
        # Read-only: the analyst's shell never writes to irisgate's file.
        p = subprocess.run([IRISGATE, "sql", "--db", db, "DELETE FROM domains"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("readonly", p.stderr.decode())


class SqlBoundaryTest(unittest.TestCase):
    """Domains whose ages and risk scores sit on every bucket boundary, imported from a
    fixture answer rewritten with create dates counted back from today (the fixtures are from
    the 1990s and fakeiris's synthetic dates from 2025-10-01, so neither reaches the young
    buckets). Every histogram must put each domain where a plain-SQL CASE over v_domains does."""

    AGES = [0, 1, 6, 7, 8, 29, 30, 31, 89, 90, 179, 180, 364, 365, 366, 729, 730, 1824, 1825, 9000]
    RISKS = [0, 1, 9, 10, 11, 24, 25, 29, 30, 49, 50, 74, 75, 89, 90, 98, 99, 100, None]
    IP = "192.0.2.50"
    MANY, MANY_IP = 300, "192.0.2.60"

    @classmethod
    def setUpClass(cls):
        os.makedirs(harness.TMP_ROOT, exist_ok=True)
        cls.dir = tempfile.mkdtemp(prefix="ig-sqlb-", dir=harness.TMP_ROOT)
        cls.db = os.path.join(cls.dir, "boundary.db")
        body = harness.newest_fixtures("iris-investigate", "domain=amazon.com,google.com")[0]
        doc = json.loads(body)
        template = [r for r in doc["response"]["results"] if r["domain"] == "google.com"][0]
        today = datetime.datetime.now(datetime.timezone.utc).date()
        dates = [(today - datetime.timedelta(days=a)).isoformat() for a in cls.AGES]
        dates += [(today + datetime.timedelta(days=3)).isoformat(),  # in the future
                  "", "2020-02-30", "2019-03-04 10:00:00"]  # none; days past the month; a time
        results = []
        for n, date in enumerate(dates):
            r = json.loads(json.dumps(template))
            r["domain"] = "boundary%02d.example" % n
            r["create_date"] = {"value": date, "count": 1}
            risk = cls.RISKS[n % len(cls.RISKS)]
            r["domain_risk"] = {"risk_score": risk, "components": []} if risk is not None else {}
            r["ip"][0]["address"] = {"value": cls.IP, "count": len(dates)}
            results.append(r)
        doc["response"]["results"] = results
        doc["response"]["results_count"] = doc["response"]["total_count"] = len(results)
        path = os.path.join(cls.dir, "boundary.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        run([IRISGATE, "import", "--db", cls.db, path])
        cls.n = len(dates)
        # A value Iris counts many domains for (so calls read it a chunk at a time), 300 of
        # them stored; a later fetch moves every third off it (their links become history).
        many = []
        for n in range(cls.MANY):
            r = json.loads(json.dumps(template))
            r["domain"] = "many%03d.example" % n
            r["ip"][0]["address"] = {"value": cls.MANY_IP, "count": 100000}
            many.append(r)
        cls.import_results(doc, many, "many1.json")
        time.sleep(1.1)  # our times are whole seconds
        for r in many[::3]:
            r["ip"][0]["address"] = {"value": "192.0.2.61", "count": 1}
        cls.import_results(doc, many[::3], "many2.json")

    @classmethod
    def import_results(cls, doc, results, name):
        doc = dict(doc, response=dict(doc["response"], results=results, results_count=len(results),
                                      total_count=len(results)))
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        run([IRISGATE, "import", "--db", cls.db, path])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_the_store_holds_every_boundary(self):
        got = plain(self.db, "SELECT age_days, risk_score FROM v_domains WHERE domain LIKE 'boundary%'")
        self.assertEqual(len(got), self.n)
        ages = {r["age_days"] for r in got}
        self.assertTrue(set(self.AGES) <= ages, ages)
        self.assertIn(None, ages)
        self.assertEqual({r["risk_score"] for r in got}, set(self.RISKS))

    def test_pivot_ages_are_v_domains_ages(self):
        got = rows(self.db, "SELECT domain, create_date, age_days, risk_score FROM iris_pivot('ip', %s) "
                            "ORDER BY domain" % sql_str(self.IP))
        want = plain(self.db, "SELECT domain, create_date, age_days, risk_score FROM v_domains "
                              "WHERE domain LIKE 'boundary%' ORDER BY domain")
        self.assertEqual(got, want)

    def test_a_big_value_is_read_a_chunk_at_a_time_as_plain_sql_reads_it(self):
        """Over the chunks (64 links, then 256), with the history links among them skipped."""
        ip = sql_str(self.MANY_IP)
        want = plain(self.db, "SELECT domain, age_days, vendor_count, stored_count FROM (%s)" % PLAIN_PIVOT,
                     ("ip", self.MANY_IP))
        self.assertEqual(len(want), self.MANY - len(range(0, self.MANY, 3)))
        got = rows(self.db, "SELECT domain, age_days, vendor_count, stored_count FROM iris_pivot('ip', %s) "
                            "ORDER BY domain" % ip)
        self.assertEqual(got, want)
        got = rows(self.db, "SELECT domain FROM iris_pivot('ip', %s)" % ip)  # the walk's own order
        self.assertEqual(len(got), len(want))
        self.assertEqual(len({r["domain"] for r in got}), len(want))
        self.assertEqual(rows(self.db, "SELECT count(*) AS n FROM iris_pivot('ip', %s)" % ip), [{"n": len(want)}])
        first = rows(self.db, "SELECT domain FROM iris_pivot('ip', %s) LIMIT 70" % ip)
        self.assertEqual(first, got[:70])
        self.assertEqual(rows(self.db, "SELECT EXISTS (SELECT 1 FROM iris_pivot('ip', %s)) AS e" % ip), [{"e": 1}])
        self.assertEqual(rows(self.db, "SELECT count(*) AS n FROM iris_pivot('ip', '192.0.2.61')"),
                         [{"n": len(range(0, self.MANY, 3))}])
        assert_same_distribution(self, rows(self.db, "SELECT * FROM iris_distribution('ip', %s, 'risk', 7)" % ip),
                                 plain_distribution(self.db, "ip", self.MANY_IP, "risk", 7))

    def test_age_buckets_as_a_plain_case_puts_them(self):
        got = rows(self.db, "SELECT * FROM iris_distribution('ip', %s, 'age')" % sql_str(self.IP))
        want = plain_distribution(self.db, "ip", self.IP, "age")
        assert_same_distribution(self, got, want)
        # Two on each side of every boundary but the last: no bucket is empty.
        self.assertTrue(all(r["domains"] > 0 for r in got), got)

    def test_risk_buckets_of_every_width_as_a_plain_case_puts_them(self):
        for width in (1, 2, 7, 10, 25, 30, 33, 50, 99, 100):
            got = rows(self.db, "SELECT * FROM iris_distribution('ip', %s, 'risk', %d)" % (sql_str(self.IP), width))
            want = plain_distribution(self.db, "ip", self.IP, "risk", width)
            assert_same_distribution(self, got, want)
            self.assertEqual(len(got), 100 // width + 2, width)
            self.assertEqual((got[-2]["high"], got[-1]["bucket"]), (100, "unknown"))
        got = rows(self.db, "SELECT bucket, low, high FROM iris_distribution('ip', %s, 'risk')" % sql_str(self.IP))
        self.assertEqual([r["bucket"] for r in got],
                         ["%d-%d" % (k, k + 9) for k in range(0, 100, 10)] + ["100", "unknown"])


class SqlHistoryTest(unittest.TestCase):

    def test_a_domain_that_moved_off_a_value_is_no_longer_listed(self):
        """Two saved answers for google.com, the later with another IP: the pivot on the old
        IP forgets it, as plain SQL's current links do, while history keeps the link."""
        with Env() as env:
            db = os.path.join(env.dir, "moved.db")
            body = harness.newest_fixtures("iris-investigate", "domain=amazon.com,google.com")[0]
            doc = json.loads(body)
            old_ip = [r for r in doc["response"]["results"] if r["domain"] == "google.com"][0]["ip"][0]["address"]["value"]
            first = os.path.join(env.dir, "first.json")
            with open(first, "wb") as f:
                f.write(body)
            run([IRISGATE, "import", "--db", db, first])
            time.sleep(1.1)  # our times are whole seconds
            for r in doc["response"]["results"]:
                if r["domain"] == "google.com":
                    r["ip"][0]["address"]["value"] = "192.0.2.77"
                    # a later fetch: import dates each result by its data_updated_timestamp
                    r["data_updated_timestamp"] = "2022-06-17T00:00:00"
            second = os.path.join(env.dir, "second.json")
            with open(second, "w") as f:
                json.dump(doc, f)
            run([IRISGATE, "import", "--db", db, second])
            got = [r["domain"] for r in rows(db, "SELECT domain FROM iris_pivot('ip', %s)" % sql_str(old_ip))]
            self.assertNotIn("google.com", got)
            self.assertEqual(got, [r["domain"] for r in plain(db, PLAIN_PIVOT, ("ip", old_ip))])
            # The stored counts followed the move: google.com left the old IP's count and is
            # the new one's, as counting the current links says.
            for ip in (old_ip, "192.0.2.77"):
                want = plain(db, "SELECT %s AS n FROM pivots p WHERE field = 'ip' AND value = ?"
                             % COUNTED_STORED, (ip,))[0]["n"]
                got = rows(db, "SELECT DISTINCT stored_count FROM iris_pivot('ip', %s)" % sql_str(ip))
                self.assertEqual(got, [{"stored_count": want}] if want else [], ip)
            self.assertEqual(plain(db, "SELECT %s AS n FROM pivots p WHERE value = '192.0.2.77'"
                                   % COUNTED_STORED), [{"n": 1}])
            got = rows(db, "SELECT field, value, vendor_count, stored_count FROM iris_guided_pivots('google.com') "
                           "ORDER BY field, value")
            want = plain(db, PLAIN_GUIDED + " ORDER BY p.field, p.value", ("google.com",))
            self.assertEqual(got, want)
            self.assertIn(("ip", "192.0.2.77", 1), {(r["field"], r["value"], r["stored_count"]) for r in got})
            ever = plain(db, "SELECT ever_count FROM v_pivot_counts WHERE field = 'ip' AND value = ?", (old_ip,))
            self.assertGreaterEqual(ever[0]["ever_count"], 1)
            self.assertEqual([r["domain"] for r in rows(db, "SELECT domain FROM iris_pivot('ip', '192.0.2.77')")],
                             ["google.com"])


class SqlFetchTest(unittest.TestCase):

    def config(self, env, key=None):
        return ("SELECT iris_config('url', 'http://127.0.0.1:%d');\n"
                "SELECT iris_config('user', %s);\nSELECT iris_config('key', %s);\n"
                % (env.gate.port, sql_str(env.user), sql_str(key or env.key)))

    def fetch(self, env, sql, db=None, timeout=None, key=None):
        """Runs sql after configuring iris_fetch (settings echo silenced); returns (exit status,
        output, errors, seconds)."""
        script = (".output /dev/null\n" + self.config(env, key)
                  + ("SELECT iris_config('timeout', %s);\n" % timeout if timeout else "")
                  + ".output stdout\n" + sql)
        t0 = time.monotonic()
        rc, out, err = shell(db or env.db, script)
        return rc, out, err, time.monotonic() - t0

    def logged(self, env, n):
        """Waits until irisgate has logged its n Investigate answers so far (the request log is
        written a moment after the answers); returns n."""
        wait_for(env.db, "SELECT count(*) FROM requests WHERE endpoint = 'iris-investigate'", (), n)
        return n

    def outcomes(self, env, since, n):
        """The outcomes of the n Investigate answers logged after the first `since`."""
        deadline = time.monotonic() + 10
        got = []
        while time.monotonic() < deadline:
            got = [r["outcome"] for r in plain(
                env.db, "SELECT outcome FROM requests WHERE endpoint = 'iris-investigate' "
                        "ORDER BY id LIMIT -1 OFFSET ?", (since,))]
            if len(got) >= n:
                break
            time.sleep(0.05)
        return got

    def test_fetch_fills_the_store_and_the_second_call_is_free(self):
        with Env() as env:
            value, count = find_value(env, "nameserver_host", 12, 400, through_gate=False)
            before = env.upstream_queries("iris-investigate")
            script = (self.config(env)
                      + "SELECT iris_fetch('nameserver_host', %s);\n" % sql_str(value)
                      + "SELECT count(*) FROM iris_pivot('nameserver_host', %s);\n" % sql_str(value))
            rc, out, err = shell(env.db, script)
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(out.splitlines(), ["http://127.0.0.1:%d" % env.gate.port, env.user,
                                                "********", str(count), str(count)])
            self.assertNotIn(env.key, out)
            pages = env.upstream_queries("iris-investigate") - before
            self.assertEqual(pages, math.ceil(count / 500))
            want = plain(env.db, "SELECT count(*) AS n FROM v_pivot_counts WHERE field = 'nameserver_host' "
                                 "AND value = ? AND stored_count = ? AND vendor_count = ?", (value, count, count))
            self.assertEqual(want, [{"n": 1}])

            # Again, configured from the environment this time: irisgate's cache answers.
            env_vars = {"IRISGATE_URL": "http://127.0.0.1:%d/" % env.gate.port,
                        "IRISGATE_USER": env.user, "IRISGATE_KEY": env.key}
            rc, out, err = shell(env.db, "SELECT iris_fetch('nameserver_host', %s);\n"
                                         "SELECT iris_config('key');\n" % sql_str(value), env=env_vars)
            self.assertEqual((rc, out, err), (0, "%d\n********\n" % count, ""))
            self.assertEqual(env.upstream_queries("iris-investigate") - before, pages)

            # A domain lookup (a fixture answer): the domain is there when the call returns.
            rc, out, err = shell(env.db, "SELECT iris_fetch('domain', 'domaintools.com');\n"
                                         "SELECT count(*) FROM domains WHERE domain = 'domaintools.com';\n",
                                 env=env_vars)
            self.assertEqual((rc, out, err), (0, "1\n1\n", ""))

            # Inside a statement that reads a table (its snapshot fixed), it still returns.
            other = sorted(set(universe(env, 40)) - set(r["domain"] for r in plain(env.db, "SELECT domain FROM domains")))[0]
            rc, out, err = shell(env.db, "SELECT iris_fetch('domain', %s) FROM (SELECT count(*) FROM domains);\n"
                                 % sql_str(other), env=env_vars)
            self.assertEqual((rc, out, err), (0, "1\n", ""))

    def test_fetch_errors_carry_the_vendors_message(self):
        with Env(fake_args=["--max-results", "50"]) as env:
            # The vendor's 403 text, as fakeiris (the vendor's stand-in) words it for a bad key.
            c = env.fake_conn()
            status, _, body = harness.request(c, "POST", INV, {"api_username": "nobody", "api_key": "wrong",
                                                               "domain": "google.com"})
            self.assertEqual(status, 403)
            vendor_403 = json.loads(body)["error"]["message"]
            rc, out, err = shell(env.db, self.config(env, key="not-the-key")
                                 + "SELECT iris_fetch('domain', 'google.com');\n")
            self.assertNotEqual(rc, 0)
            self.assertIn(vendor_403, err)
            self.assertIn("HTTP 403", err)
            self.assertNotIn("not-the-key", out + err)

            # More than --max-results domains: limit_exceeded, with the vendor's message.
            value, count = find_value(env, "registrar", 51, 100000, through_gate=False)
            s, _, b = env.fake_direct(INV, {"registrar": value})
            vendor = json.loads(b)["response"]
            self.assertTrue(vendor["limit_exceeded"])
            rc, out, err = shell(env.db, self.config(env) + "SELECT iris_fetch('registrar', %s);\n" % sql_str(value))
            self.assertNotEqual(rc, 0)
            self.assertIn(vendor.get("error", {}).get("message") or vendor["message"], err)

            rc, out, err = shell(env.db, "SELECT iris_config('url', 'http://127.0.0.1:1');\n"
                                         "SELECT iris_config('user', 'u'); SELECT iris_config('key', 'k');\n"
                                         "SELECT iris_fetch('ip', '1.2.3.4');\n")
            self.assertNotEqual(rc, 0)
            self.assertIn("cannot reach irisgate at http://127.0.0.1:1/", err)
            rc, out, err = shell(env.db, "SELECT iris_fetch('ip', '1.2.3.4');\n")
            self.assertNotEqual(rc, 0)
            self.assertIn("no irisgate user", err)

    def test_fetch_takes_answers_served_partly_or_stale_from_the_cache(self):
        """PARTIAL (a domain cached seconds ago, another fetched now) and STALE (the vendor
        failing, older copies served) answers are stored answers: iris_fetch returns at once."""
        with Env(gate_args=["--ttl-investigate", "4s"]) as env:
            a, b = universe(env, 2)
            value, count = find_value(env, "nameserver_host", 2, 400, through_gate=False)
            s, h, _ = env.ask(INV, {"domain": a})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            rc, out, err, _ = self.fetch(env, "SELECT iris_fetch('nameserver_host', %s);\n" % sql_str(value))
            self.assertEqual((rc, out, err), (0, "%d\n" % count, ""))
            time.sleep(2.2)  # a was stored seconds before this call: its copy predates the call
            sql = "SELECT iris_fetch('domain', %s);\n" % sql_str(a + "," + b)
            since = self.logged(env, 2)  # the domain asked and the pivot's one page
            rc, out, err, took = self.fetch(env, sql, timeout=8)
            self.assertEqual((rc, out, err), (0, "2\n", ""))
            self.assertLess(took, 5)
            self.assertEqual(self.outcomes(env, since, 1), ["PARTIAL"])

            time.sleep(4.2)  # every answer is stale now; the vendor fails, irisgate serves them
            env.fake_control("/_fake/fail?status=500&count=50")
            before = env.upstream_queries("iris-investigate")
            since = self.logged(env, 3)
            rc, out, err, took = self.fetch(env, sql, timeout=8)
            self.assertEqual((rc, out, err), (0, "2\n", ""))
            self.assertLess(took, 5)
            rc, out, err, took = self.fetch(env, "SELECT iris_fetch('nameserver_host', %s);\n" % sql_str(value),
                                            timeout=8)
            self.assertEqual((rc, out, err), (0, "%d\n" % count, ""))
            self.assertLess(took, 5)
            self.assertEqual(self.outcomes(env, since, 2), ["STALE", "STALE"])
            self.assertEqual(env.upstream_queries("iris-investigate") - before, 2)  # both tried
            env.fake_control("/_fake/fail?status=500&count=0")

    def test_fetch_passes_the_vendors_errors_on(self):
        """A vendor 4xx or 5xx that irisgate passes on is an SQL error with the vendor's words."""
        with Env() as env:
            names = universe(env, 10)
            value, _ = find_value(env, "nameserver_host", 2, 400, through_gate=False)
            for n, (status, field, v) in enumerate(((500, "domain", names[0]), (404, "domain", names[1]),
                                                     (502, "nameserver_host", value))):
                env.fake_control("/_fake/fail?status=%d&count=1" % status)
                s, _, body = env.fake_direct(INV, {field: v})
                self.assertEqual(s, status)
                e = json.loads(body)["error"]
                vendor = e if isinstance(e, str) else e["message"]
                env.fake_control("/_fake/fail?status=%d&count=1" % status)
                rc, out, err, _ = self.fetch(env, "SELECT iris_fetch(%s, %s);\n" % (sql_str(field), sql_str(v)))
                self.assertNotEqual(rc, 0, status)
                self.assertIn("iris_fetch: %s (HTTP %d)" % (vendor, status), err)
            # Nothing was kept: once the vendor answers again, so does iris_fetch.
            rc, out, err, _ = self.fetch(env, "SELECT iris_fetch('domain', %s);\n" % sql_str(names[0]))
            self.assertEqual((rc, out, err), (0, "1\n", ""))

    def test_fetch_counts_each_domain_it_misses(self):
        """On a database irisgate does not write to, the error counts exactly the domains that
        are missing there, not every one after the first."""
        with Env() as env:
            a, b, c = sorted(universe(env, 30))[:3]
            env.ask(INV, {"domain": b + "," + c})
            wait_for(env.db, "SELECT count(*) FROM domains WHERE domain IN (?, ?)", (b, c), 2)
            other = os.path.join(env.dir, "copy.db")
            src = sqlite3.connect("file:%s?mode=ro" % env.db, uri=True)
            dst = sqlite3.connect(other)
            src.backup(dst)
            src.close()
            dst.close()
            time.sleep(2.2)  # b and c predate the call: served from irisgate's cache
            since = self.logged(env, 1)
            rc, out, err, _ = self.fetch(env, "SELECT iris_fetch('domain', %s);\n" % sql_str(",".join((a, b, c))),
                                         db=other, timeout=1)
            self.assertNotEqual(rc, 0)
            self.assertIn("irisgate answered 3 domains but 1 is not stored after 1 s", err)
            self.assertEqual(self.outcomes(env, since, 1), ["PARTIAL"])

    def test_fetch_refuses_at_once_what_irisgate_does_not_keep(self):
        with Env(gate_args=["--ttl-investigate", "0"]) as env:
            rc, out, err, took = self.fetch(env, "SELECT iris_fetch('domain', 'google.com');\n", timeout=10)
            self.assertNotEqual(rc, 0)
            self.assertIn("X-Cache: BYPASS", err)
            self.assertLess(took, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
