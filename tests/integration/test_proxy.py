"""test_proxy.py — irisgate end to end in front of fakeiris, whose counters are the
referee: equivalent questions cost one upstream query, hits survive a restart, no-cache
refreshes, errors pass through and are never kept, bad keys cost nothing, 200 keep-alive
clients are all answered right, and the vendor key leaks nowhere."""
import base64
import glob
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, hmac_params  # noqa: E402

INV = "/v1/iris-investigate/"
ENR = "/v1/iris-enrich/"


class ProxyTest(unittest.TestCase):

    def test_equivalent_questions_cost_one_upstream_query(self):
        with Env() as env:
            s1, h1, b1 = env.ask(INV, {"domain": "amazon.com,google.com", "app_name": "python_wrapper"})
            self.assertEqual(s1, 200)
            self.assertEqual(h1["x-cache"], "MISS")
            self.assertIn(b1, harness.newest_fixtures("iris-investigate", "domain=amazon.com,google.com"))
            self.assertEqual(env.upstream_queries("iris-investigate"), 1)
            bob, bob_key = env.add_user("bob")
            env.stop_gate()
            env.start_gate()
            basic = base64.b64encode(("%s:%s" % (bob, bob_key)).encode()).decode()
            # GET or POST, reordered, telemetry, other case, trailing slash or not, and each
            # of the four credential schemes, by another user too: the same question.
            variants = [
                ("GET", INV, {"domain": "amazon.com,google.com"}, {}, True),
                ("POST", INV.rstrip("/"), {"app_version": "9", "domain": "amazon.com,google.com"}, {}, True),
                ("POST", INV, {"domain": "Amazon.COM, google.com", "format": "json"}, {}, True),
                ("GET", INV.rstrip("/"), {"domain": "AMAZON.com,GOOGLE.com"}, {}, True),
                ("POST", INV, dict(hmac_params(bob, bob_key, INV), domain="amazon.com,google.com"), {}, False),
                ("GET", INV, {"api_username": bob, "domain": "amazon.com,google.com"}, {"X-Api-Key": bob_key}, False),
                ("POST", INV, {"domain": "amazon.com,google.com"}, {"Authorization": "Basic " + basic}, False),
            ]
            for method, path, params, hdrs, auth in variants:
                s, h, b = env.ask(path, params, method=method, headers=hdrs, auth=auth)
                self.assertEqual(s, 200, (method, path, params))
                self.assertEqual(h["x-cache"], "HIT", (method, path, params))
                self.assertEqual(b, b1)
                self.assertIn("age", h)
                self.assertTrue(h["content-type"].startswith("application/json"))
            self.assertEqual(env.upstream_queries("iris-investigate"), 1)

    def test_hmac_signed_client_request_is_cached_like_open_key(self):
        with Env() as env:
            p = hmac_params(env.user, env.key, ENR)
            p["domain"] = "google.com"
            s, h, b = env.ask(ENR, p, auth=False)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertIn(b, harness.newest_fixtures("iris-enrich", "domain=google.com"))
            p = hmac_params(env.user, env.key, ENR.rstrip("/"), alg="sha1")
            p["domain"] = "google.com"
            s, h, b2 = env.ask(ENR.rstrip("/"), p, auth=False, method="GET")
            self.assertEqual((s, h["x-cache"], b2), (200, "HIT", b))
            self.assertEqual(env.upstream_queries(), 1)

    def test_hit_survives_restart(self):
        with Env() as env:
            q = {"domain": "example-one.com"}
            s, h, b = env.ask(INV, q)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            time.sleep(1.1)
            env.stop_gate()
            env.start_gate()
            s, h, b2 = env.ask(INV, q, method="GET")
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual(b2, b)
            self.assertGreaterEqual(int(h["age"]), 1)  # its age, not the restart's
            self.assertEqual(env.upstream_queries(), 1)
            # Killed outright (no orderly stop): what it had answered is still there.
            q2 = {"domain": "example-one-b.com"}
            s, h, b = env.ask(INV, q2)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            time.sleep(0.5)  # the writer's group commit
            env.gate.kill()
            env.procs.remove(env.gate)
            env.start_gate()
            for params in (q, q2):
                s, h, _ = env.ask(INV, params)
                self.assertEqual((s, h["x-cache"]), (200, "HIT"), params)
            self.assertEqual(env.upstream_queries(), 2)

    def test_no_cache_costs_one_more_query_and_refreshes(self):
        with Env() as env:
            q = {"domain": "example-two.com"}
            env.ask(INV, q)
            s, h, _ = env.ask(INV, q, headers={"Cache-Control": "no-cache"})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual(env.upstream_queries(), 2)
            s, h, _ = env.ask(INV, q)
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual(int(h["age"]), 0)
            self.assertEqual(env.upstream_queries(), 2)

    def test_upstream_errors_reach_the_caller_unchanged_and_are_not_cached(self):
        with Env() as env:
            q = {"domain": "example-three.com"}
            env.fake_control("/_fake/fail?status=500&count=1")
            s, h, b = env.ask(INV, q)
            self.assertEqual(s, 500)
            with open(os.path.join(harness.SHARED, "iris/responses/errors/"
                                   "error_500__GET_v1_reverse-ip-whois__python_api@8f74a6e.json"), "rb") as f:
                # Recorded in 2022; fakeiris sends it with the current era's support URL.
                self.assertEqual(b, f.read().replace(b"https:\\/\\/www.domaintools.com\\/support\\/",
                                                     b"https:\\/\\/docs.domaintools.com"))
            self.assertTrue(h["content-type"].startswith("text/html"))
            # 4xx: the vendor's status, body and type, byte for byte, and nothing kept.
            for status in (400, 403, 404):
                env.fake_control("/_fake/fail?status=%d&count=1" % status)
                s, h, b = env.ask(INV, q)
                self.assertEqual(s, status)
                self.assertEqual(h["content-type"], "application/json;charset=utf-8")
                self.assertEqual(json.loads(b)["error"]["code"], status)
                self.assertEqual(h["x-cache"], "MISS")
            env.fake_control("/_fake/fail?status=403&count=1")
            s, h, b403 = env.ask(INV, q)
            env.fake_control("/_fake/fail?status=403&count=1")
            _, _, direct = env.fake_direct(INV, q)
            self.assertEqual(b403, direct)
            self.assertEqual(env.upstream_queries(), 6)  # the direct reference included
            # The vendor's 503 for rate: irisgate cools off and asks again (at most 3 times)...
            env.fake_control("/_fake/fail?status=503&count=1")
            s, h, b = env.ask(INV, q)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual(env.upstream_queries(), 8)
            # ... and when it does not clear, refuses in the vendor's shape, quoting the vendor
            # (the vendor's own 503 never reaches a client), keeping nothing.
            q = {"domain": "example-four.com"}
            env.fake_control("/_fake/fail?status=503&count=4")
            s, h, b = env.ask(INV, q)
            self.assertEqual(s, 503)
            self.assertEqual(h["content-type"], "application/json;charset=utf-8")
            err = json.loads(b)
            self.assertEqual(sorted(err), ["error", "resources"])
            self.assertEqual(err["error"]["code"], 503)
            self.assertIn("4 times", err["error"]["message"])
            self.assertIn("maximum number of requests per minute", err["error"]["message"])
            self.assertEqual(env.upstream_queries(), 12)
            s, h, b = env.ask(INV, q)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual(env.upstream_queries(), 13)

    def test_limit_exceeded_answers_are_passed_on_and_not_cached(self):
        with Env() as env:
            for _ in range(2):
                s, h, b = env.ask(INV, {"ip": "8.8.8.8"})
                self.assertEqual((s, h["x-cache"]), (200, "MISS"))
                self.assertTrue(json.loads(b)["response"]["limit_exceeded"])
            self.assertEqual(env.upstream_queries(), 2)

    def test_bad_proxy_key_gets_403_and_costs_nothing(self):
        with Env() as env:
            cases = [
                {"api_username": env.user, "api_key": "wrong"},
                {"api_username": "mallory", "api_key": env.key},
                {"api_username": env.user, "api_key": harness.VENDOR_KEY},
                {"api_username": harness.VENDOR_USER, "api_key": harness.VENDOR_KEY},
                {},
            ]
            for creds in cases:
                p = dict(creds, domain="example.com")
                s, h, b = env.ask(INV, p, auth=False)
                self.assertEqual(s, 403, creds)
                self.assertEqual(json.loads(b), {"error": {"code": 403, "message":
                                 "The credentials you entered do not match an active account."},
                                 "resources": {"support": "https://docs.domaintools.com"}})
                self.assertTrue(h["content-type"].startswith("application/json"))
            # Every scheme, wrong: a signature with another key or too old, a wrong X-Api-Key,
            # wrong Basic credentials. Each gets the vendor's recorded 403, byte for byte.
            with open(os.path.join(harness.SHARED, "iris/responses/errors/"
                                   "error_403__GET_v2_domain-search__python_api@bd1f844.json"), "rb") as f:
                recorded = f.read()
            wrong_basic = base64.b64encode(("%s:nope" % env.user).encode()).decode()
            schemes = [
                (dict(hmac_params(env.user, "not-the-key", INV), domain="example.com"), {}),
                (dict(hmac_params(env.user, env.key, INV, alg="md5", when=0), domain="example.com"), {}),
                (dict(hmac_params(env.user, env.key, INV, when=0), domain="example.com"), {}),
                ({"api_username": env.user, "domain": "example.com"}, {"X-Api-Key": "nope"}),
                ({"domain": "example.com"}, {"Authorization": "Basic " + wrong_basic}),
                ({"domain": "example.com"}, {"Authorization": "Basic !!notbase64"}),
            ]
            for params, hdrs in schemes:
                s, h, b = env.ask(INV, params, auth=False, headers=hdrs)
                self.assertEqual((s, b), (403, recorded), (params, hdrs))
            self.assertEqual(env.upstream_queries(), 0)

    def test_vendor_credential_from_the_environment(self):
        with Env() as env:
            env.stop_gate()
            secrets = os.path.join(env.dir, "users-only.secrets")
            out = harness.run([harness.IRISGATE, "user", "add", "carol", "--secrets", secrets])
            carol_key = out.split("api_key=", 1)[1].strip()
            argv = [harness.IRISGATE, "serve", "--listen", "127.0.0.1:0", "--db", env.db,
                    "--secrets", secrets, "--log", env.log,
                    "--upstream", "http://127.0.0.1:%d" % env.fake.port]
            # No vendor credential anywhere: a clear refusal to start.
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"IRISGATE_UPSTREAM_KEY", p.stderr)
            accounts = env.upstream_queries("account")
            env.gate = harness.Proc(argv, "irisgate", env={
                "IRISGATE_UPSTREAM_USERNAME": harness.VENDOR_USER,
                "IRISGATE_UPSTREAM_KEY": harness.VENDOR_KEY})
            env.procs.append(env.gate)
            deadline = time.monotonic() + 10  # its start-up read of the account's limits
            while env.upstream_queries("account") == accounts and time.monotonic() < deadline:
                time.sleep(0.02)
            used = env.fake_stats().get("users", {}).get(harness.VENDOR_USER, 0)
            s, h, _ = env.ask(INV, {"domain": "env-cred.com", "api_username": "carol",
                                    "api_key": carol_key}, auth=False)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual(env.fake_stats()["users"][harness.VENDOR_USER], used + 1)
            with open(secrets) as f:
                self.assertNotIn(harness.VENDOR_KEY, f.read())

    def test_unknown_path_is_404_in_the_vendor_shape(self):
        with Env() as env:
            s, h, b = env.ask("/v1/nope/", {"domain": "x.com"})
            self.assertEqual(s, 404)
            self.assertEqual(json.loads(b)["error"]["code"], 404)
            self.assertEqual(env.upstream_queries(), 0)

    def test_account_is_answered_by_irisgate_for_the_caller(self):
        with Env() as env:
            env.ask(INV, {"domain": "account-spend.com"})
            before = env.upstream_queries("account")
            for _ in range(2):
                s, h, b = env.ask("/v1/account", {}, method="GET")
                self.assertEqual(s, 200)
                resp = json.loads(b)["response"]
                self.assertEqual(resp["account"], {"api_username": env.user, "active": True})
                products = {p["id"]: p for p in resp["products"]}
                self.assertEqual(set(products), {"iris-investigate", "iris-enrich", "account-information"})
                # The vendor's types: usage counts are strings; this user spent one query.
                self.assertEqual(products["iris-investigate"]["usage"]["month"], "1")
                self.assertEqual(products["iris-enrich"]["usage"]["month"], "0")
            self.assertEqual(env.upstream_queries("account"), before)
            # In the vendor's other formats too, and still never the vendor's own account
            # (which would show every user the team's shared username and spend).
            s, h, b = env.ask("/v1/account", {"format": "xml"}, method="GET")
            self.assertEqual((s, h["content-type"]), (200, "application/xml;charset=utf-8"))
            self.assertIn(b"<api_username>%s</api_username>" % env.user.encode(), b)
            self.assertIn(b"<id>iris-investigate</id>", b)
            self.assertNotIn(harness.VENDOR_USER.encode(), b)
            s, h, b = env.ask("/v1/account", {"format": "html"}, method="GET")
            self.assertEqual((s, h["content-type"]), (200, "text/html"))
            self.assertTrue(b.startswith(b"<html><head><title>DomainTools API</title>"))
            s, _, b = env.ask("/v1/account", {"format": "yaml"}, method="GET")
            self.assertEqual((s, json.loads(b)["error"]["code"]), (400, 400))
            self.assertEqual(env.upstream_queries("account"), before)

    def test_pipelined_requests_are_answered_in_order(self):
        with Env() as env:
            # Warm one answer so the pipeline mixes a hit with misses.
            env.ask(INV, {"domain": "pipe-a.com"})
            reqs = b""
            for d in ("pipe-a.com", "pipe-b.com", "pipe-a.com", "pipe-c.com"):
                body = "domain=%s&api_username=%s&api_key=%s" % (d, env.user, env.key)
                reqs += ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                         "\r\nContent-Length: %d\r\n\r\n%s" % (INV, len(body), body)).encode()
            with socket.create_connection(("127.0.0.1", env.gate.port), timeout=30) as s:
                s.sendall(reqs)
                f = s.makefile("rb")
                got = []
                for _ in range(4):
                    status = f.readline()
                    hdrs = {}
                    while True:
                        line = f.readline().strip()
                        if not line:
                            break
                        k, v = line.decode().split(":", 1)
                        hdrs[k.lower()] = v.strip()
                    body = json.loads(f.read(int(hdrs["content-length"])))
                    got.append((status.split()[1], hdrs["x-cache"], body["response"]["results"][0]["domain"]))
            self.assertEqual([g[2] for g in got], ["pipe-a.com", "pipe-b.com", "pipe-a.com", "pipe-c.com"])
            self.assertEqual([g[1] for g in got], ["HIT", "MISS", "HIT", "MISS"])

    def test_200_concurrent_keepalive_clients_get_correct_answers(self):
        with Env(fake_args=["--latency", "5"]) as env:
            domains = ["conc%d.com" % i for i in range(40)]
            expected = {}
            for d in domains:
                s, _, b = env.fake_direct(INV, {"domain": d})
                self.assertEqual(s, 200)
                expected[d] = b
            before = env.upstream_queries()
            errors = []
            barrier = threading.Barrier(200)

            def client(n):
                try:
                    conn = env.gate_conn()
                    barrier.wait(30)
                    sock = None
                    for i in range(5):
                        d = domains[(n + i * 7) % len(domains)]
                        s, h, b = env.ask(INV, {"domain": d}, conn=conn)
                        if s != 200 or b != expected[d]:
                            errors.append((n, d, s))
                        # http.client would reconnect unseen: the socket must stay the same.
                        if conn.sock is None or (sock is not None and conn.sock is not sock):
                            errors.append((n, "connection not kept alive"))
                        sock = conn.sock
                    conn.close()
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append((n, repr(e)))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(errors, [])
            # Every distinct question cost exactly one upstream query, however many asked it.
            self.assertEqual(env.upstream_queries() - before, len(domains))

    def test_answers_never_wait_for_the_store(self):
        """Another process holds the database's write lock: irisgate still answers misses and
        hits at once (the copies for the cache and the intel tables wait in the writer's
        queue), and they are all stored once the lock goes."""
        with Env() as env:
            env.ask(INV, {"domain": "lock-warm.com"})
            db = sqlite3.connect(env.db, timeout=1, isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            try:
                for name in ("lock-a.com", "lock-b.com", "lock-a.com"):
                    t = time.monotonic()
                    s, h, _ = env.ask(INV, {"domain": name})
                    self.assertEqual(s, 200, name)
                    # Far under the writer's busy wait: the answer did not queue behind it.
                    self.assertLess(time.monotonic() - t, 2.0, name)
                self.assertEqual(h["x-cache"], "HIT")
                time.sleep(1)
            finally:
                db.execute("COMMIT")
                db.close()
            for name in ("lock-a.com", "lock-b.com"):
                harness.db_wait_for(env.db, "SELECT count(*) FROM domains WHERE domain = ?",
                                    (name,), 1)
                harness.db_wait_for(env.db, "SELECT count(*) FROM responses WHERE key = ?",
                                    ("iris-investigate?domain=" + name,), 1)

    def test_vendor_key_appears_nowhere(self):
        with Env() as env:
            env.ask(INV, {"domain": "amazon.com,google.com"})
            env.ask(ENR, {"domain": "google.com"})
            env.ask(INV, {"domain": "leak-check.com"})
            env.ask("/v1/account", {}, method="GET")
            env.fake_control("/_fake/fail?status=500&count=1")
            responses = [env.ask(INV, {"domain": "leak-fail.com"})]
            responses.append(env.ask(INV, {"domain": "x.com", "api_key": "bad"}, auth=False))
            responses.append(env.ask(INV, {"domain": "amazon.com,google.com"}))
            stderr = env.gate.stderr_path
            env.stop_gate()  # flushes the log and the database
            key = harness.VENDOR_KEY.encode()
            for s, h, b in responses:
                self.assertNotIn(key, b)
                self.assertNotIn(harness.VENDOR_KEY, json.dumps(h))
            files = glob.glob(env.db + "*") + [env.log, stderr]
            self.assertTrue(os.path.getsize(env.db) > 0)
            for path in files:
                with open(path, "rb") as f:
                    data = f.read()
                self.assertNotIn(key, data, path)
                self.assertNotIn(env.key.encode(), data, path)
            with open(env.log) as f:
                log = f.read()
            self.assertIn("alice", log)
            self.assertIn("MISS", log)
            self.assertIn("HIT", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
