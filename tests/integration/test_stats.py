"""test_stats.py — `irisgate stats` on a real database: the schema comes from `irisgate
import` (which opens the store, so every migration runs), the request log is filled with
the sqlite3 module, and the printed table is checked against sums the test computes itself
from the rows it wrote: per user requests, hits, misses, hit ratio, upstream queries per
product, today and this month; --since/--until; an empty log, a file from before the log,
a missing file and bad arguments."""
import datetime
import glob
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import IRISGATE, run  # noqa: E402

RESPONSES = os.path.join(harness.SHARED, "iris", "responses")
HITS = ("HIT", "STALE", "COALESCED")
MISSES = ("MISS", "PARTIAL", "QUEUED")
PRODUCTS = ("iris-investigate", "iris-enrich", "account")


def stats(*args, expect=0):
    p = subprocess.run([IRISGATE, "stats"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    err = p.stderr.decode()
    assert not harness._sanitizer_report(err), err
    assert p.returncode == expect, "exit %d, expected %d: %s" % (p.returncode, expect, err)
    return p.stdout.decode(), err


def table(out):
    """{user: [requests, hits, misses, hit%, investigate, enrich, account, today, month]}."""
    lines = out.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["user", "requests"]]
    assert len(head) == 1, out
    rows = {}
    for line in lines[head[0] + 1:]:
        if not line.strip():
            continue
        user, *cols = line.rsplit(None, 9)
        assert len(cols) == 9, line
        rows[user.strip()] = [c if c.endswith("%") or c == "-" else int(c) for c in cols]
    return rows


def expected(rows, lo=None, hi=None):
    """The table computed from the rows written, independently of irisgate's SQL."""
    now = datetime.datetime.now(datetime.timezone.utc)
    today, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
    want = {}
    for at, user, endpoint, outcome, spent in rows:
        u = user if user is not None else "(anonymous)"
        w = want.setdefault(u, [0] * 8)
        inr = (lo is None or at[:10] >= lo) and (hi is None or at[:10] <= hi)
        if inr:
            w[0] += 1
            w[1] += outcome in HITS
            w[2] += outcome in MISSES
            w[3 + PRODUCTS.index(endpoint)] += spent
        w[6] += spent if at[:10] == today else 0
        w[7] += spent if at[:7] == month else 0
    out = {}
    for u, w in want.items():
        if w[0] == 0 and w[7] == 0:
            continue
        ratio = "%.1f%%" % (100.0 * w[1] / (w[1] + w[2])) if w[1] + w[2] else "-"
        out[u] = w[:3] + [ratio] + w[3:]
    if len(out) > 1:
        out["total"] = [sum(v[i] for v in out.values()) if i != 3 else None for i in range(9)]
        h, m = out["total"][1], out["total"][2]
        out["total"][3] = "%.1f%%" % (100.0 * h / (h + m)) if h + m else "-"
    return out


class StatsTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(harness.TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="ig-stats-", dir=harness.TMP_ROOT)
        self.db = os.path.join(self.dir, "intel.db")
        p = subprocess.run([IRISGATE, "stats", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0 or b"irisgate stats" not in p.stdout:
            self.skipTest("`irisgate stats` is not dispatched by this binary")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_db(self):
        files = sorted(glob.glob(os.path.join(RESPONSES, "iris-investigate*__200__*.json")))
        run([IRISGATE, "import", "--db", self.db, files[0]])

    def fill(self, rows):
        c = sqlite3.connect(self.db)
        c.executemany("INSERT INTO requests (at, user, endpoint, key, outcome, upstream_queries, "
                      "status, latency_ms) VALUES (?, ?, ?, 'k', ?, ?, 200, 1.0)", rows)
        c.commit()
        c.close()

    def test_stats_sums_per_user_with_today_and_month(self):
        self.make_db()
        now = datetime.datetime.now(datetime.timezone.utc)
        ts = lambda d: d.strftime("%Y-%m-%d %H:%M:%S.000")  # noqa: E731
        first = now.replace(day=1, hour=0, minute=0, second=1)
        rows = [
            (ts(now), "alice", "iris-investigate", "MISS", 1),
            (ts(now), "alice", "iris-investigate", "HIT", 0),
            (ts(now), "alice", "iris-investigate", "HIT", 0),
            (ts(now), "alice", "iris-enrich", "PARTIAL", 2),
            (ts(first), "alice", "iris-investigate", "QUEUED", 3),
            ("2020-01-15 10:00:00.000", "alice", "iris-investigate", "MISS", 5),
            ("2020-01-16 10:00:00.000", "bob", "iris-enrich", "COALESCED", 0),
            ("2020-01-16 11:00:00.000", "bob", "iris-enrich", "MISS", 1),
            (ts(now), "bob", "iris-investigate", "REJECTED", 0),
            (ts(now), None, "iris-investigate", "ERROR", 0),
            (ts(now), "carol", "account", "STALE", 0),
        ]
        self.fill(rows)
        out, _ = stats("--db", self.db)
        self.assertIn(self.db, out)
        self.assertEqual(table(out), expected(rows))
        # alice by hand: 6 requests, 2 hits, 4 misses, 33.3 %, 1+3+5 Investigate, 2 Enrich.
        self.assertEqual(table(out)["alice"][:6], [6, 2, 4, "33.3%", 9, 2])

        out, _ = stats("--db", self.db, "--since", "2020-01-01", "--until", "2020-01-15")
        got = table(out)
        self.assertEqual(got, expected(rows, "2020-01-01", "2020-01-15"))
        self.assertEqual(got["alice"][:5], [1, 0, 1, "0.0%", 5])
        self.assertNotIn("bob", got)  # nothing in the range and nothing spent this month
        out, _ = stats("--db", self.db, "--until=2020-01-16")
        self.assertEqual(table(out)["bob"][:3], [2, 1, 1])

    def test_stats_of_an_empty_log_and_of_a_file_without_one(self):
        self.make_db()
        out, _ = stats("--db", self.db)
        self.assertIn("No requests recorded", out)
        self.fill([("2020-01-15 10:00:00.000", "alice", "iris-investigate", "MISS", 1)])
        out, _ = stats("--db", self.db, "--since", "2021-01-01")
        self.assertIn("No requests recorded", out)

        old = os.path.join(self.dir, "old.db")
        c = sqlite3.connect(old)
        c.executescript("CREATE TABLE responses (key TEXT PRIMARY KEY); PRAGMA user_version=2;")
        c.close()
        out, _ = stats("--db", old)
        self.assertIn("No request log", out)
        self.assertEqual(sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0], 2)

    def test_stats_refuses_bad_arguments_and_missing_files(self):
        _, err = stats("--db", os.path.join(self.dir, "absent.db"), expect=1)
        self.assertIn("absent.db", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "absent.db")))
        self.make_db()
        for bad in (["--since", "2024-02-30"], ["--until", "yesterday"], ["--since"],
                    ["--since", "2024-05-02", "--until", "2024-05-01"], ["--frobnicate"]):
            stats("--db", self.db, *bad, expect=2)


if __name__ == "__main__":
    unittest.main()
