"""test_intel.py — the intel tables filled through the proxy and by `irisgate import`: a
pivot walked page by page lands whole with the vendor's count; every example query of
docs/schema.md runs in the plain sqlite3 shell on a store that saw a domain twice, and the
history examples answer what changed; a reader in another process querying in a loop
while the proxy ingests never sees an error, a torn domain or part of a page; import dates
each result by its own time, keeps every result as sent, and refuses what is not an Iris
answer."""
import calendar
import email.utils
import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import (Env, FAKEIRIS, IRISGATE, VENDOR_KEY, VENDOR_USER, Proc, db_query,  # noqa: E402
                     db_wait_for, run)

INV = "/v1/iris-investigate/"
ENR = "/v1/iris-enrich/"
DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema.md")
RESPONSES = os.path.join(harness.SHARED, "iris", "responses")
DOMAINTOOLS = ("iris-investigate__inner-response__domain=domaintools.com__200__"
               "python_api-tests-responses@2b05d75.json")




def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)




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


def pivot_value_direct(env, field, lo, hi):
    """A (value, count) of a single-valued field shared by lo..hi domains, asked of fakeiris
    itself, so that the store holds none of those domains yet."""
    c = env.fake_conn()
    c.request("GET", "/_fake/domains?offset=0&limit=300")
    names = json.loads(c.getresponse().read())
    c.close()
    for name in names:
        s, _, b = env.fake_direct(INV, {"domain": name})
        assert s == 200, b
        vc = json.loads(b)["response"]["results"][0][field]
        if isinstance(vc, dict) and lo <= vc["count"] <= hi:
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


def refetch_domaintools_changed(env):
    """Points irisgate at a second fakeiris whose domaintools.com moved to 203.0.113.7, got a
    tag, another alexa rank and risk score 12, and asks for it again (no-cache): the store's
    second observation of the domain, more than a second after the first."""
    fx = os.path.join(env.dir, "fixtures2")
    os.makedirs(fx)
    with open(os.path.join(fx, "INDEX_python_api.json"), "w") as f:
        f.write("[]")
    with open(os.path.join(RESPONSES, DOMAINTOOLS), encoding="utf-8") as f:
        body = f.read()
    tag = '"tags":[{"label":"watchlist","scope":"group","tagged_at":"2025-01-02T03:04:05Z"}]'
    for old, new in (("199.30.228.112", "203.0.113.7"), ('"tags":[]', tag),
                     ('"alexa":2558', '"alexa":2600'),
                     ('"domain_risk":{"risk_score":0,', '"domain_risk":{"risk_score":12,')):
        assert old in body, old
        body = body.replace(old, new)
    with open(os.path.join(fx, DOMAINTOOLS), "w", encoding="utf-8") as f:
        f.write(body)
    time.sleep(1.1)  # our times are whole seconds
    fake2 = Proc([FAKEIRIS, "--listen", "127.0.0.1:0", "--user", "%s:%s" % (VENDOR_USER, VENDOR_KEY),
                  "--fixtures", fx], "fakeiris2")
    env.procs.append(fake2)
    env.stop_gate()
    env.fake = fake2
    env.start_gate()
    s, _, b = env.ask(INV, {"domain": "domaintools.com"}, headers={"Cache-Control": "no-cache"})
    assert s == 200 and b"203.0.113.7" in b, b[:200]
    db_wait_for(env.db, "SELECT count(*) FROM fetches JOIN domains USING (domain_id)"
                     " WHERE domain = 'domaintools.com'", (), 2)


def schema_examples():
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Example queries"):]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


# The reader, a process of its own. Every loop is one read transaction that counts the
# domains currently linked to the walked value (pages land whole, so that is a multiple of
# the page size until the last page) and checks every stored domain's rows against the
# result they came from.
READER = r"""
import json, os, sqlite3, sys
db, field, value, page, total, stop = sys.argv[1:7]
page, total = int(page), int(total)
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10, isolation_level=None)
LINKED = ("SELECT count(DISTINCT dp.domain_id) FROM pivots p JOIN domain_pivots dp USING (pivot_id)"
          " JOIN domains d USING (domain_id)"
          " WHERE p.field = ? AND p.value = ? AND dp.last_seen = d.last_fetched")
TORN = ("SELECT count(*) FROM domains d LEFT JOIN domain_raw r ON r.raw_id = d.raw_id"
        " WHERE r.json IS NULL"
        " OR (SELECT count(*) FROM ips i WHERE i.domain_id = d.domain_id)"
        "    <> json_array_length(r.json, '$.ip')"
        " OR (SELECT count(*) FROM name_servers n WHERE n.domain_id = d.domain_id)"
        "    <> json_array_length(r.json, '$.name_server')"
        " OR NOT EXISTS (SELECT 1 FROM fetches f WHERE f.domain_id = d.domain_id"
        "    AND f.observed_at = d.last_fetched AND f.raw_id = d.raw_id)")
reads, bad, seen = 0, [], set()
try:
    while not os.path.exists(stop):
        c.execute("BEGIN")
        (n,), = c.execute(LINKED, (field, value)).fetchall()
        (t,), = c.execute(TORN).fetchall()
        c.execute("COMMIT")
        if n % page and n != total:
            bad.append("%d domains linked: part of a page" % n)
        if t:
            bad.append("%d torn domains" % t)
        seen.add(n)
        reads += 1
except Exception as e:  # any error is the failure looked for
    bad.append(repr(e))
print(json.dumps({"reads": reads, "bad": bad[:10], "seen": sorted(seen)}))
"""


def recorded_at(index, name):
    """When a fixture was recorded: its response's Date header, else its commit date."""
    for e in index:
        if e["file"].endswith("/" + name):
            date = e["response_headers"].get("date")
            if date:
                return email.utils.parsedate_to_datetime(date[0]).timestamp()
            return calendar.timegm(time.strptime(e["commit_date"], "%Y-%m-%d"))
    return None


def result_spans(text):
    """The exact text of each result of an answer, found with Python's own JSON decoder."""
    dec = json.JSONDecoder()
    doc, _ = dec.raw_decode(text)
    resp = doc.get("response", doc)
    if not resp.get("results"):
        return []
    i = text.index('"results"') + len('"results"')
    i = text.index("[", i) + 1
    spans = []
    while True:
        while text[i] in " \t\r\n,":
            i += 1
        if text[i] == "]":
            return spans
        _, end = dec.raw_decode(text, i)
        spans.append(text[i:end])
        i = end


def our_time(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


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
            db_wait_for(env.db, linked, (value,), count)
            rows = db_query(env.db, """SELECT d.domain FROM pivots p JOIN domain_pivots dp USING (pivot_id)
                                    JOIN domains d USING (domain_id)
                                    WHERE p.field = 'nameserver_host' AND p.value = ?""", (value,))
            self.assertEqual({r[0] for r in rows}, domains)
            (vendor_count, stored), = db_query(env.db, "SELECT count, stored_count FROM pivots"
                                                    " WHERE field = 'nameserver_host' AND value = ?", (value,))
            self.assertEqual(vendor_count, count)
            self.assertEqual(stored, count)
            # The name server table agrees with the pivot links.
            (n,), = db_query(env.db, "SELECT count(DISTINCT domain_id) FROM name_servers WHERE host = ?", (value,))
            self.assertEqual(n, count)

    def test_every_schema_example_runs_in_the_plain_sqlite3_shell(self):
        examples = schema_examples()
        self.assertGreaterEqual(len(examples), 12)
        with Env() as env:
            env.ask(INV, {"domain": "domaintools.com"})
            env.ask(INV, {"domain": "amazon.com,google.com"})
            env.ask(ENR, {"domain": "enrich-only.example"})  # google.com's comes from its Investigate
            value, count = pivot_value(env, "nameserver_host", 3, 100)
            walk_pivot(env, {"nameserver_host": value}, page_size=50)
            db_wait_for(env.db, "SELECT count(*) FROM domains WHERE domain IN"
                             " ('domaintools.com', 'google.com', 'amazon.com')", (), 3)
            db_wait_for(env.db, "SELECT count(*) > 0 FROM domains WHERE source = 'iris-enrich'", (), 1)
            refetch_domaintools_changed(env)
            outputs = {}
            for sql in examples:
                p = subprocess.run(["sqlite3", "-bail", "-batch", "-readonly", env.db], input=sql.encode(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 0, "%s\n%s" % (sql, err))
                self.assertEqual(err, "", sql)
                outputs[sql] = p.stdout.decode()
            # Every example answers something on this data (certificates expiring soon maybe not).
            empty = [sql for sql, out in outputs.items() if not out.strip() and "not_after" not in sql]
            self.assertEqual(empty, [])

            def output_of(marker):
                found = [out for sql, out in outputs.items() if marker in sql]
                self.assertEqual(len(found), 1, marker)
                return found[0].splitlines()

            # per the fixture, then the changed re-fetch: risk 12, components as recorded
            self.assertTrue(output_of("risk_proximity, risk_threat_profile")[0].startswith("domaintools.com|12|"))
            changes = output_of("What changed")
            for want in ("ip|203.0.113.7|added|", "ip|199.30.228.112|removed|", "tags|watchlist|added|",
                         "alexa|2600|added|", "alexa|2558|removed|", "risk_score|12|added|",
                         "risk_score|0|removed|"):
                self.assertTrue(any(line.startswith(want) for line in changes), (want, changes))
            self.assertFalse(any(line.startswith("registrar|") for line in changes), changes)  # unchanged
            moved = output_of("moved to")
            self.assertEqual([line.split("|")[0] for line in moved], ["domaintools.com"], moved)
            risk = output_of("FROM risk_history")
            self.assertEqual([line.split("|")[1] for line in risk], ["0", "12"], risk)
            raw = output_of("every distinct result")
            self.assertEqual(len(raw), 2, raw)
            guided = output_of("guided pivots")
            self.assertIn("ip|203.0.113.7|4|1", guided)  # the fixture's count 4; one stored domain

    def test_reader_in_another_process_never_sees_an_error_or_part_of_an_answer(self):
        with Env() as env:
            page = 100
            value, count = pivot_value_direct(env, "registrar", 350, 3000)
            env.ask(INV, {"domain": "domaintools.com"})  # the schema and one domain exist
            db_wait_for(env.db, "SELECT count(*) > 0 FROM domains WHERE domain = 'domaintools.com'", (), 1)
            stop = os.path.join(env.dir, "stop-reader")
            reader = subprocess.Popen([sys.executable, "-c", READER, env.db, "registrar", value, str(page),
                                       str(count), stop], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                domains, total = walk_pivot(env, {"registrar": value}, page_size=page)
                db_wait_for(env.db, """SELECT count(DISTINCT dp.domain_id) FROM pivots p
                                    JOIN domain_pivots dp USING (pivot_id)
                                    WHERE p.field = 'registrar' AND p.value = ?""", (value,), count)
                time.sleep(0.3)
            finally:
                open(stop, "w").close()
                out, err = reader.communicate(timeout=60)
            self.assertEqual(len(domains), count)
            self.assertEqual(total, count)
            self.assertEqual(reader.returncode, 0, err.decode())
            result = json.loads(out)
            self.assertEqual(result["bad"], [])
            self.assertGreater(result["reads"], 5)
            self.assertIn(count, result["seen"])
            self.assertGreater(len(result["seen"]), 2, result)  # it watched pages arrive

    def test_import_dates_results_keeps_every_result_and_refuses_what_is_not_an_iris_answer(self):
        with Env() as env:
            db = os.path.join(env.dir, "imported.db")
            index = read_json(os.path.join(RESPONSES, "INDEX_python_api.json"))
            # Copies dated when they were recorded, as files saved at fetch time would be: a
            # result without a time of its own is dated by its file.
            saved = os.path.join(env.dir, "saved")
            os.makedirs(saved)
            files = []
            for src in sorted(glob.glob(os.path.join(RESPONSES, "iris-*__200__*.json"))):
                dst = os.path.join(saved, os.path.basename(src))
                shutil.copyfile(src, dst)
                t = recorded_at(index, os.path.basename(src))
                if t is not None:
                    os.utime(dst, (t, t))
                files.append(dst)
            self.assertGreater(len(files), 20)
            out = run([IRISGATE, "import", "--db", db] + files)
            lines = out.strip().splitlines()
            self.assertEqual(len(lines), len(files) + 1)
            # What each file holds, worked out here: every result's bytes, endpoint and time.
            want_raw, times = set(), {}
            now = time.time()
            for f, line in zip(files, lines):
                with open(f, encoding="utf-8") as fh:
                    text = fh.read()
                doc = json.loads(text)
                results = doc.get("response", doc).get("results") or []
                self.assertEqual(line, "%s: %d domain%s" % (f, len(results), "" if len(results) == 1 else "s"))
                name = os.path.basename(f)
                endpoint = ("iris" if name.startswith("iris-legacy") else
                            "iris-enrich" if name.startswith("iris-enrich") else "iris-investigate")
                for r, span in zip(results, result_spans(text)):
                    want_raw.add((r["domain"], endpoint, span))
                    stamp = r.get("data_updated_timestamp") or ""
                    try:
                        t = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
                    except ValueError:
                        t = None
                    if t is None or t > now:
                        t = int(os.stat(f).st_mtime)
                    times.setdefault(r["domain"], []).append(t)
            self.assertEqual(db_query(db, "SELECT domain FROM domains ORDER BY domain"),
                             [("amazon.com",), ("domaintools.com",), ("google.com",)])
            # Each domain is current as of its newest result, and was first seen at its oldest.
            for domain, ts in times.items():
                self.assertEqual(db_query(db, "SELECT first_fetched, last_fetched FROM domains WHERE domain = ?",
                                       (domain,)), [(our_time(min(ts)), our_time(max(ts)))], domain)
                (n,), = db_query(db, "SELECT count(*) FROM fetches JOIN domains USING (domain_id) WHERE domain = ?",
                              (domain,))
                self.assertEqual(n, len(set(ts)), domain)
            # The newest google.com answer is the 2024 legacy one: its flat shape is current.
            self.assertEqual(db_query(db, "SELECT source, last_fetched FROM domains WHERE domain = 'google.com'"),
                             [("iris", "2024-04-10 15:37:51")])
            # Every distinct result as sent (escapes and key order included), nothing else.
            got = set(db_query(db, "SELECT d.domain, r.endpoint, r.json FROM domain_raw r"
                                " JOIN domains d USING (domain_id)"))
            self.assertEqual(got, want_raw)
            (raw,), = db_query(db, "SELECT r.json FROM domain_raw r JOIN domains d ON d.raw_id = r.raw_id"
                                " WHERE d.domain = 'domaintools.com'")
            self.assertTrue(raw.startswith('{"domain":"domaintools.com","whois_url":"https:\\/\\/'), raw[:80])
            # The same files again: nothing new.
            counts = db_query(db, "SELECT (SELECT count(*) FROM domain_raw), (SELECT count(*) FROM fetches),"
                               " (SELECT count(*) FROM domain_pivots), (SELECT count(*) FROM domain_history)")
            run([IRISGATE, "import", "--db", db] + files)
            self.assertEqual(db_query(db, "SELECT (SELECT count(*) FROM domain_raw), (SELECT count(*) FROM fetches),"
                                       " (SELECT count(*) FROM domain_pivots), (SELECT count(*) FROM domain_history)"),
                             counts)
            # --observed-at dates a file explicitly: the 2018 Enrich answer, said to be seen in 2030.
            enrich_2018 = [f for f in files if "iris-enrich__GET" in f][0]
            run([IRISGATE, "import", "--db", db, "--observed-at", "2030-01-02 03:04:05", enrich_2018])
            self.assertEqual(db_query(db, "SELECT source, last_fetched, expiration_date FROM domains"
                                       " WHERE domain = 'google.com'"),
                             [("iris-enrich", "2030-01-02 03:04:05", "2020-09-13")])
            p = subprocess.run([IRISGATE, "import", "--db", db, "--observed-at", "yesterday", enrich_2018],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 2)

            bad = [os.path.join(RESPONSES, "account__GET__200__python_api@04c7908.json"),
                   sorted(glob.glob(os.path.join(RESPONSES, "errors", "*.json")))[0]]
            truncated = os.path.join(env.dir, "truncated.json")
            with open(files[0], "rb") as src, open(truncated, "wb") as dst:
                dst.write(src.read()[:3000])
            before = db_query(db, "SELECT (SELECT count(*) FROM domain_pivots), (SELECT count(*) FROM fetches)")
            for path in bad + [truncated, os.path.join(env.dir, "absent.json")]:
                p = subprocess.run([IRISGATE, "import", "--db", db, path], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 1, path)
                err = p.stderr.decode()
                self.assertTrue(err.startswith("irisgate import: %s: " % path), err)
                self.assertFalse(harness._sanitizer_report(err), err)
            self.assertEqual(db_query(db, "SELECT (SELECT count(*) FROM domain_pivots), (SELECT count(*) FROM fetches)"),
                             before)
            p = subprocess.run([IRISGATE, "import", "--db", db], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
