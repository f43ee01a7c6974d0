"""test_sql.py — the SQL module (sql/, docs/sql.md) in the real sqlite3 shell and in
`irisgate sql`: iris_pivot, iris_guided_pivots and iris_distribution agree with plain SQL
over the intel tables (and with the vendor's answers) on a database filled through irisgate
from fixtures and fakeiris's synthetic world; plans without the arguments are refused; a
database used with the module stays a plain SQLite file; iris_fetch fills the store through
irisgate, costs no upstream query the second time within the TTL, and carries the vendor's
message on errors.

Environment (CMake): IRISGATE_SQL_EXT (the built irisgate_sql.so); in the sanitizer build
IG_SQL_PRELOAD (the ASan runtime, preloaded into Debian's uninstrumented sqlite3 so it can
load our instrumented extension; leak checking stays on: the shell itself leaks nothing).
"""
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, IRISGATE, run  # noqa: E402

INV = "/v1/iris-investigate/"
EXT = os.environ.get("IRISGATE_SQL_EXT", "build/irisgate_sql.so")
RESPONSES = os.path.join(harness.SHARED, "iris", "responses")

# Written from the Iris apps' attribute names, not from sql/fields.c.
LABELS = {"ip": "IP address", "nameserver_host": "Name server", "registrar": "Registrar",
          "ssl_hash": "SSL hash", "google_analytics": "Google Analytics",
          "mailserver_host": "Mail server", "email_domain": "Email domain"}
AGE_BUCKETS = [("under a week", 0, 6), ("under a month", 7, 29), ("under 3 months", 30, 89),
               ("under 6 months", 90, 179), ("under a year", 180, 364),
               ("under 2 years", 365, 729), ("under 5 years", 730, 1824), ("older", 1825, None)]


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

# The expected answers, written from docs/schema.md's tables and views.
PLAIN_PIVOT = """SELECT v.domain, v.risk_score, v.create_date, v.age_days, v.first_seen, v.active,
                        v.last_fetched, c.vendor_count, c.stored_count
                 FROM v_pivot_counts c JOIN pivots p ON p.field = c.field AND p.value = c.value
                 JOIN domain_pivots dp ON dp.pivot_id = p.pivot_id
                 JOIN v_domains v ON v.domain_id = dp.domain_id
                 WHERE c.field = ? AND c.value = ? AND dp.last_seen = v.last_fetched
                 ORDER BY v.domain"""
PLAIN_GUIDED = """SELECT p.field, p.value, p.count AS vendor_count, c.stored_count
                  FROM domains d
                  JOIN domain_pivots dp ON dp.domain_id = d.domain_id AND dp.last_seen = d.last_fetched
                  JOIN pivots p ON p.pivot_id = dp.pivot_id
                  JOIN v_pivot_counts c ON c.field = p.field AND c.value = p.value
                  WHERE d.domain = ?"""


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def expected_distribution(domains, metric, width=10):
    """Buckets computed here from the plain-SQL rows of the value's domains."""
    if metric == "risk":
        n = (100 + width - 1) // width
        buckets = [("%d-%d" % (k * width, 100 if k == n - 1 else (k + 1) * width - 1),
                    k * width, 100 if k == n - 1 else (k + 1) * width - 1) for k in range(n)]
    else:
        buckets = list(AGE_BUCKETS)
    counts = [0] * (len(buckets) + 1)
    for d in domains:
        x = d["risk_score"] if metric == "risk" else d["age_days"]
        if x is None:
            counts[-1] += 1
            continue
        x = max(x, 0)
        for i, (_, low, high) in enumerate(buckets):
            if high is None or x <= high:
                counts[i] += 1
                break
    total = len(domains)
    out = [{"bucket": b[0], "low": b[1], "high": b[2], "domains": counts[i],
            "share": counts[i] / total if total else 0.0} for i, b in enumerate(buckets)]
    out.append({"bucket": "unknown", "low": None, "high": None, "domains": counts[-1],
                "share": counts[-1] / total if total else 0.0})
    return out


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
        self.assertEqual(rows(db, "SELECT count(*) AS n FROM iris_pivot('ip', '203.0.113.254')"), [{"n": 0}])

    def test_guided_pivots_match_plain_sql_and_the_fixture(self):
        db = self.env.db
        for threshold in (None, 100000):
            args = "'google.com'" if threshold is None else "'GOOGLE.com', %d" % threshold
            got = rows(db, "SELECT * FROM iris_guided_pivots(%s)" % args)
            want = plain(db, PLAIN_GUIDED, ("google.com",))
            self.assertGreater(len(want), 10)
            t = 500 if threshold is None else threshold
            for w in want:
                w["guided"] = 1 if w["vendor_count"] is not None and 1 < w["vendor_count"] <= t else 0
                w["query"] = w["field"] + "=" + urllib.parse.quote(w["value"], safe="-._~")
            key = lambda r: (r["field"], r["value"])  # noqa: E731
            self.assertEqual(sorted(({k: r[k] for k in r if k != "label"} for r in got), key=key),
                             sorted(want, key=key))
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

    def test_distributions_count_every_bucket_as_plain_sql_does(self):
        db = self.env.db
        domains = plain(db, PLAIN_PIVOT, ("nameserver_host", self.ns))
        self.assertEqual(len(domains), self.ns_count)
        for metric, width in (("risk", None), ("risk", 25), ("age", None)):
            args = "'nameserver_host', %s, '%s'" % (sql_str(self.ns), metric)
            if width:
                args += ", %d" % width
            got = rows(db, "SELECT * FROM iris_distribution(%s)" % args)
            want = expected_distribution(domains, metric, width or 10)
            self.assertEqual([{k: r[k] for k in r if k != "share"} for r in got],
                             [{k: r[k] for k in r if k != "share"} for r in want])
            for g, w in zip(got, want):
                self.assertTrue(math.isclose(g["share"], w["share"], abs_tol=1e-9), (g, w))
            self.assertEqual(sum(r["domains"] for r in got), self.ns_count)
        rc, _, err = shell(db, "SELECT * FROM iris_distribution('ip', '1.2.3.4', 'size');")
        self.assertNotEqual(rc, 0)
        self.assertIn("unknown metric 'size'", err)
        empty = rows(db, "SELECT domains FROM iris_distribution('ip', '203.0.113.254', 'age')")
        self.assertEqual(empty, [{"domains": 0}] * (len(AGE_BUCKETS) + 1))

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
        rc, _, err = shell(db, "CREATE VIRTUAL TABLE x USING iris_pivot;\n")
        self.assertNotEqual(rc, 0)  # eponymous only: nothing can be stored
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
            ever = plain(db, "SELECT ever_count FROM v_pivot_counts WHERE field = 'ip' AND value = ?", (old_ip,))
            self.assertGreaterEqual(ever[0]["ever_count"], 1)
            self.assertEqual([r["domain"] for r in rows(db, "SELECT domain FROM iris_pivot('ip', '192.0.2.77')")],
                             ["google.com"])


class SqlFetchTest(unittest.TestCase):

    def config(self, env, key=None):
        return ("SELECT iris_config('url', 'http://127.0.0.1:%d');\n"
                "SELECT iris_config('user', %s);\nSELECT iris_config('key', %s);\n"
                % (env.gate.port, sql_str(env.user), sql_str(key or env.key)))

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
