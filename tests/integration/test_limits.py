"""test_limits.py — the shared quota under load and per user, fakeiris's counters as the
referee: a burst of 300 distinct questions from 3 users against a 20/min upstream limit gets
no vendor 503 through and shares the waits fairly; a per-user month cap holds across a
restart; /v1/account tells each user its own limits and spend; every request is accounted in
the requests table, /metrics and `irisgate stats`."""
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Env, IRISGATE, run  # noqa: E402

INV = "/v1/iris-investigate/"




def ask_as(env, user, key, params):
    """One request as user, with a client patient enough for the queue's deadline."""
    conn = http.client.HTTPConnection("127.0.0.1", env.gate.port, timeout=150)
    try:
        return env.ask(INV, dict(params, api_username=user, api_key=key), auth=False, conn=conn)
    finally:
        conn.close()


class LimitsTest(unittest.TestCase):

    def test_burst_against_the_minute_limit_queues_fairly_and_lets_no_vendor_503_through(self):
        # The vendor allows 20 a minute; irisgate learns it from /v1/account at start. The
        # deadline lets the queue live just past one window, so a second window is served.
        with Env(fake_args=["--rate-per-minute", "20"], gate_args=["--queue-deadline", "66s"]) as env:
            users = [env.add_user(n) for n in ("ann", "bob", "cyd")]
            env.stop_gate()
            env.start_gate()
            names = env.universe(300, offset=4000)
            results = {u: [] for u, _ in users}
            lock = threading.Lock()

            def client(user, key, name):
                s, h, b = ask_as(env, user, key, {"domain": name})
                with lock:
                    results[user].append((s, h.get("x-cache"), b))

            # All at once: one connection per question, the users' questions interleaved.
            threads = [threading.Thread(target=client, args=users[i % 3] + (name,))
                       for i, name in enumerate(names)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(180)
            answered = sum(len(v) for v in results.values())
            self.assertEqual(answered, 300)
            served = {u: 0 for u in results}
            waited = {u: 0 for u in results}
            for user, rows in results.items():
                for s, x, b in rows:
                    if s == 200:
                        served[user] += 1
                        waited[user] += x == "QUEUED"
                        continue
                    self.assertEqual(s, 503, b)
                    msg = json.loads(b)["error"]["message"]
                    self.assertIn("queued", msg)  # irisgate's deadline answer, not the vendor's
            stats = env.fake_stats()
            self.assertNotIn("503", stats["statuses"])
            self.assertEqual(sum(served.values()), env.upstream_queries())
            self.assertGreaterEqual(sum(served.values()), 20)
            self.assertLessEqual(sum(served.values()), 40)
            # Served from the queue in turns: no user got more than one more than another.
            self.assertGreaterEqual(sum(waited.values()), 15, waited)
            self.assertLessEqual(max(waited.values()) - min(waited.values()), 1, waited)

    def test_user_month_cap_holds_across_a_restart(self):
        with Env(gate_args=["--user-limit-investigate", "month=3"]) as env:
            bob, bob_key = env.add_user("bob")
            env.stop_gate()
            env.start_gate()
            names = env.universe(6, offset=5000)
            for name in names[:3]:
                s, h, _ = env.ask(INV, {"domain": name})
                self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            s, _, b = env.ask(INV, {"domain": names[3]})
            self.assertEqual(s, 503)
            err = json.loads(b)["error"]
            self.assertEqual(err["code"], 503)
            self.assertIn("per month", err["message"])
            s, h, _ = env.ask(INV, {"domain": names[0]})  # a hit spends nothing
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            s, _, b = env.ask("/v1/account", {}, method="GET")
            inv = [p for p in json.loads(b)["response"]["products"] if p["id"] == "iris-investigate"][0]
            self.assertEqual((inv["per_month_limit"], inv["usage"]["month"]), ("3", "3"))
            env.stop_gate()
            env.start_gate()
            s, _, b = env.ask(INV, {"domain": names[4]})
            self.assertEqual(s, 503, b)
            s, _, _ = ask_as(env, bob, bob_key, {"domain": names[4]})
            self.assertEqual(s, 200)
            self.assertEqual(env.upstream_queries(), 4)

    def test_queued_requests_meet_the_user_cap_and_a_vendor_503_is_not_charged(self):
        with Env(gate_args=["--user-limit-investigate", "month=2", "--user-limit-enrich",
                            "month=1"]) as env:
            names = env.universe(9, offset=5200)
            # One vendor 503 for rate: irisgate cools off, and what comes meanwhile queues.
            env.fake_control("/_fake/fail?status=503&count=1")
            results = {}

            def ask(name):
                results[name] = ask_as(env, env.user, env.key, {"domain": name})

            first = threading.Thread(target=ask, args=(names[0],))
            first.start()
            deadline = time.monotonic() + 10
            while env.fake_stats()["statuses"].get("503", 0) < 1:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.01)
            rest = [threading.Thread(target=ask, args=(n,)) for n in names[1:6]]
            for t in rest:
                t.start()
            for t in [first] + rest:
                t.join(60)
            statuses = sorted(s for s, _, _ in results.values())
            # The refused try was not alice's spend: her month of 2 holds exactly 2 answers,
            # the one that met the 503 among them; the queued ones over it are refused.
            self.assertEqual(statuses, [200, 200, 503, 503, 503, 503], results)
            self.assertEqual(results[names[0]][0], 200)
            for s, _, b in results.values():
                if s == 503:
                    self.assertIn("per month allowed for your irisgate user",
                                  json.loads(b)["error"]["message"])
            self.assertEqual(env.upstream_queries(), 1 + 2)
            s, _, b = env.ask("/v1/account", {}, method="GET")
            inv = [p for p in json.loads(b)["response"]["products"] if p["id"] == "iris-investigate"][0]
            self.assertEqual(inv["usage"]["month"], "2")
            # `irisgate user set` lifts it for alice alone (a restart reads the secrets).
            run([IRISGATE, "user", "set", env.user, "--investigate", "month=3",
                 "--secrets", env.secrets])
            env.stop_gate()
            env.start_gate()
            s, _, _ = env.ask(INV, {"domain": names[6]})
            self.assertEqual(s, 200)
            s, _, b = env.ask(INV, {"domain": names[5]})
            self.assertEqual(s, 503, b)
            # Enrich has its own cap of one (names never asked: no Investigate profile serves).
            s, _, _ = env.ask("/v1/iris-enrich/", {"domain": names[7]})
            self.assertEqual(s, 200)
            s, _, b = env.ask("/v1/iris-enrich/", {"domain": names[8]})
            self.assertEqual(s, 503, b)

    def test_every_request_is_accounted(self):
        with Env() as env:
            a, b = env.universe(2, offset=6000)
            env.ask(INV, {"domain": a})
            env.ask(INV, {"domain": a})
            env.ask(INV, {"domain": "%s,%s" % (a, b)})
            env.ask(INV, {"domain": a}, auth=False)
            url = "http://127.0.0.1:%d/metrics" % env.gate.port
            with urllib.request.urlopen(url, timeout=30) as r:
                text = r.read().decode()
                self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
            self.assertIn('irisgate_requests_total{endpoint="iris-investigate",outcome="MISS"} 1', text)
            self.assertIn('irisgate_requests_total{endpoint="iris-investigate",outcome="HIT"} 1', text)
            self.assertIn('irisgate_requests_total{endpoint="iris-investigate",outcome="PARTIAL"} 1', text)
            self.assertIn('irisgate_user_upstream_queries_total{user="alice",product="iris-investigate"} 2',
                          text)
            env.stop_gate()  # flushes the rows
            db = sqlite3.connect(env.db)
            rows = db.execute("SELECT user, outcome, upstream_queries, status FROM requests "
                              "WHERE endpoint = 'iris-investigate' ORDER BY id").fetchall()
            db.close()
            self.assertEqual(rows, [("alice", "MISS", 1, 200), ("alice", "HIT", 0, 200),
                                    ("alice", "PARTIAL", 1, 200), (None, "REJECTED", 0, 403)])
            out = run([IRISGATE, "stats", "--db", env.db])
            self.assertIn("alice", out)
            env.start_gate()


if __name__ == "__main__":
    unittest.main(verbosity=2)
