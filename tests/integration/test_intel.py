"""test_intel.py — the intel tables filled through the proxy and by `irisgate import`: a
pivot walked page by page lands whole with the vendor's count, every example query of
docs/schema.md runs in the plain sqlite3 shell, a reader querying in a loop while the
proxy ingests never sees an error or a torn answer, and import reports what it stored or
refuses what is not an Iris answer."""
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, IRISGATE, run  # noqa: E402

INV = "/v1/iris-investigate/"
ENR = "/v1/iris-enrich/"
DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema.md")
RESPONSES = os.path.join(harness.SHARED, "iris", "responses")


def query(db, sql, args=()):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def wait_for(db, sql, args, want, timeout=15.0):
    """Polls until sql's first value equals want (the writer commits within milliseconds)."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        try:
            got = query(db, sql, args)[0][0]
        except sqlite3.OperationalError:
            got = None  # the file or the tables are not there yet
        if got == want:
            return got
        time.sleep(0.05)
    raise AssertionError("waited for %r = %r, last saw %r" % (sql, want, got))


def pivot_value(env, field, lo, hi):
    """A (value, vendor count) of field, shared by lo..hi synthetic domains."""
    c = env.fake_conn()
    c.request("GET", "/_fake/domains?offset=0&limit=200")
    names = json.loads(c.getresponse().read())
    c.close()
    key = {"nameserver_host": ("name_server", "host"), "registrar": (None, "registrar")}[field]
    for name in names:
        s, _, b = env.ask(INV, {"domain": name})
        assert s == 200, b
        r = json.loads(b)["response"]["results"][0]
        vcs = [x[key[1]] for x in r[key[0]]] if key[0] else [r[key[1]]]
        for vc in vcs:
            if lo <= vc["count"] <= hi:
                return vc["value"], vc["count"]
    raise AssertionError("no %s shared by %d..%d domains" % (field, lo, hi))


def walk_pivot(env, params, page_size):
    """Every page of a pivot through the proxy; returns the set of domains and total_count."""
    seen, position, total = set(), None, None
    while True:
        p = dict(params, page_size=str(page_size))
        if position:
            p["position"] = position
        s, _, b = env.ask(INV, p)
        assert s == 200, b
        r = json.loads(b)["response"]
        total = r["total_count"]
        seen.update(x["domain"] for x in r["results"])
        if not r["has_more_results"]:
            return seen, total
        position = r["position"]


def schema_examples():
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Example queries"):]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


class IntelTest(unittest.TestCase):

    def test_pivot_pages_land_whole_with_the_vendor_count(self):
        with Env() as env:
            value, count = pivot_value(env, "nameserver_host", 12, 400)
            domains, total = walk_pivot(env, {"nameserver_host": value}, page_size=5)
            self.assertEqual(total, count)
            self.assertEqual(len(domains), count)
            linked = """SELECT count(*) FROM pivots p JOIN domain_pivots dp USING (pivot_id)
                        JOIN domains d USING (domain_id)
                        WHERE p.field = 'nameserver_host' AND p.value = ?
                          AND dp.last_seen = d.last_fetched"""
            wait_for(env.db, linked, (value,), count)
            rows = query(env.db, """SELECT d.domain FROM pivots p JOIN domain_pivots dp USING (pivot_id)
                                    JOIN domains d USING (domain_id)
                                    WHERE p.field = 'nameserver_host' AND p.value = ?""", (value,))
            self.assertEqual({r[0] for r in rows}, domains)
            (vendor_count,), = query(env.db, "SELECT count FROM pivots WHERE field = 'nameserver_host' AND value = ?",
                                     (value,))
            self.assertEqual(vendor_count, count)
            # The name server table agrees with the pivot links.
            (n,), = query(env.db, "SELECT count(DISTINCT domain_id) FROM name_servers WHERE host = ?", (value,))
            self.assertEqual(n, count)

    def test_every_schema_example_runs_in_the_plain_sqlite3_shell(self):
        examples = schema_examples()
        self.assertGreaterEqual(len(examples), 10)
        with Env() as env:
            env.ask(INV, {"domain": "domaintools.com"})
            env.ask(INV, {"domain": "amazon.com,google.com"})
            env.ask(ENR, {"domain": "enrich-only.example"})  # google.com's comes from its Investigate
            value, count = pivot_value(env, "nameserver_host", 3, 100)
            walk_pivot(env, {"nameserver_host": value}, page_size=50)
            wait_for(env.db, "SELECT count(*) FROM domains WHERE domain IN ('domaintools.com', 'google.com', 'amazon.com')",
                     (), 3)
            wait_for(env.db, "SELECT count(*) > 0 FROM domains WHERE source = 'iris-enrich'", (), 1)
            nonempty = 0
            for sql in examples:
                p = subprocess.run(["sqlite3", "-bail", "-batch", "-readonly", env.db], input=sql.encode(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 0, "%s\n%s" % (sql, err))
                self.assertEqual(err, "", sql)
                nonempty += bool(p.stdout.strip())
            # Most examples answer something on this data (the time-window ones may not).
            self.assertGreaterEqual(nonempty, len(examples) - 2)
            out = subprocess.run(["sqlite3", "-readonly", env.db, examples[0]], stdout=subprocess.PIPE,
                                 timeout=60).stdout.decode()
            self.assertTrue(out.startswith("domaintools.com|0|"), out)  # risk 0, per the fixture

    def test_reader_in_a_loop_never_sees_an_error_or_a_torn_answer(self):
        with Env() as env:
            value, count = pivot_value(env, "registrar", 300, 3000)
            env.ask(INV, {"domain": "domaintools.com"})
            wait_for(env.db, "SELECT count(*) > 0 FROM domains WHERE domain = 'domaintools.com'", (), 1)
            stop = threading.Event()
            failures, reads = [], [0]
            torn = """SELECT count(*) FROM domains d LEFT JOIN domain_raw r USING (domain_id)
                      WHERE r.json IS NULL
                         OR (SELECT count(*) FROM ips i WHERE i.domain_id = d.domain_id)
                            <> json_array_length(r.json, '$.ip')
                         OR (SELECT count(*) FROM name_servers n WHERE n.domain_id = d.domain_id)
                            <> json_array_length(r.json, '$.name_server')"""

            def reader():
                c = sqlite3.connect("file:%s?mode=ro" % env.db, uri=True, timeout=10)
                try:
                    while not stop.is_set():
                        (bad,), = c.execute(torn).fetchall()
                        if bad:
                            failures.append("%d torn domains" % bad)
                        reads[0] += 1
                except Exception as e:  # noqa: BLE001 — any error is the failure we look for
                    failures.append(repr(e))
                finally:
                    c.close()

            t = threading.Thread(target=reader)
            t.start()
            try:
                domains, total = walk_pivot(env, {"registrar": value}, page_size=100)
            finally:
                time.sleep(0.3)
                stop.set()
                t.join(30)
            self.assertEqual(len(domains), count)
            wait_for(env.db, """SELECT count(*) FROM pivots p JOIN domain_pivots USING (pivot_id)
                                WHERE p.field = 'registrar' AND p.value = ?""", (value,), count)
            self.assertEqual(failures, [])
            self.assertGreater(reads[0], 5)

    def test_import_reports_domains_and_refuses_what_is_not_an_iris_answer(self):
        with Env() as env:
            db = os.path.join(env.dir, "imported.db")
            files = sorted(glob.glob(os.path.join(RESPONSES, "iris-*__200__*.json")))
            self.assertGreater(len(files), 20)
            out = run([IRISGATE, "import", "--db", db] + files)
            lines = out.strip().splitlines()
            self.assertEqual(len(lines), len(files) + 1)
            for f, line in zip(files, lines):
                doc = read_json(f)
                n = len(doc.get("response", doc).get("results", []))
                self.assertEqual(line, "%s: %d domain%s" % (f, n, "" if n == 1 else "s"))
            self.assertEqual(query(db, "SELECT domain FROM domains ORDER BY domain"),
                             [("amazon.com",), ("domaintools.com",), ("google.com",)])
            # The result is kept exactly as the vendor sent it (escapes and key order included).
            (raw,), = query(db, "SELECT json FROM domain_raw JOIN domains USING (domain_id) "
                                "WHERE domain = 'domaintools.com'")
            inner = [f for f in files if "inner-response__domain=domaintools.com" in f][0]
            self.assertTrue(raw.startswith('{"domain":"domaintools.com","whois_url":"https:\\/\\/'), raw[:80])
            with open(inner, "rb") as fh:
                self.assertIn(raw.encode(), fh.read())
            # The same files again: no new domains.
            run([IRISGATE, "import", "--db", db] + files[:3])
            self.assertEqual(query(db, "SELECT count(*) FROM domains"), [(3,)])

            bad = [os.path.join(RESPONSES, "account__GET__200__python_api@04c7908.json"),
                   sorted(glob.glob(os.path.join(RESPONSES, "errors", "*.json")))[0]]
            truncated = os.path.join(env.dir, "truncated.json")
            with open(files[0], "rb") as src, open(truncated, "wb") as dst:
                dst.write(src.read()[:3000])
            before = query(db, "SELECT count(*) FROM domain_pivots")
            for path in bad + [truncated, os.path.join(env.dir, "absent.json")]:
                p = subprocess.run([IRISGATE, "import", "--db", db, path], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 1, path)
                err = p.stderr.decode()
                self.assertTrue(err.startswith("irisgate import: %s: " % path), err)
                self.assertFalse(harness._sanitizer_report(err), err)
            self.assertEqual(query(db, "SELECT count(*) FROM domain_pivots"), before)
            p = subprocess.run([IRISGATE, "import", "--db", db], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
