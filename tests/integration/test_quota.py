"""test_quota.py — spending the fewest upstream queries, with fakeiris's counters as the
referee: identical misses share one fetch, domain lists are answered domain by domain (only
the unknown ones go upstream, and the assembled answer is what the vendor sends for the whole
list), a pivot's results and an Investigate answer serve later lookups and Enrich, and when
the upstream is down fresh answers still HIT, stale ones are served as STALE and the rest get
the vendor-shaped error."""
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Env  # noqa: E402

INV = "/v1/iris-investigate/"
ENR = "/v1/iris-enrich/"




def response(body):
    return json.loads(body)["response"]


def by_domain(resp):
    return {r["domain"]: r for r in resp["results"]}


def envelope(resp):
    return {k: v for k, v in resp.items() if k != "results"}


def reference(env, path, params):
    """fakeiris's own answer (the reference), not counted as irisgate's spending."""
    env.direct = getattr(env, "direct", 0) + 1
    return env.fake_direct(path, params)


def spent(env):
    """Upstream queries irisgate made (fakeiris's count minus the references asked)."""
    return env.upstream_queries() - getattr(env, "direct", 0)


def last_question(env):
    return env.fake_stats()["last"]["params"]


def shared_ip(env, names):
    """An IP of one of names that a few domains share (so its pivot is one page)."""
    for name in names:
        s, _, b = reference(env, INV, {"domain": name})
        for ip in response(b)["results"][0]["ip"]:
            if 2 <= ip["address"]["count"] <= 60:
                return ip["address"]["value"], ip["address"]["count"]
    raise AssertionError("no IP shared by 2..60 domains")


class QuotaTest(unittest.TestCase):

    def test_100_concurrent_identical_misses_cost_one_query(self):
        with Env(fake_args=["--latency", "150"]) as env:
            name = env.universe(1, offset=500)[0]
            ip, _ = shared_ip(env, env.universe(20, offset=600))
            env.fake_control("/_fake/reset")
            env.direct = 0
            for params in ({"domain": name}, {"ip": ip}):
                results = []

                def ask():
                    s, h, b = env.ask(INV, params)
                    results.append((s, h.get("x-cache"), b))

                threads = [threading.Thread(target=ask) for _ in range(100)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                self.assertEqual(len(results), 100)
                self.assertEqual({s for s, _, _ in results}, {200})
                self.assertEqual(len({b for _, _, b in results}), 1)
                self.assertEqual(sum(1 for _, x, _ in results if x == "MISS"), 1, params)
            self.assertEqual(spent(env), 2)

    def test_overlapping_domain_lists_fetch_only_what_is_new(self):
        with Env() as env:
            a, b, c = env.universe(3, offset=1000)
            s, h, body_ab = env.ask(INV, {"domain": "%s,%s" % (a, b)})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual(spent(env), 1)
            s, h, body_bc = env.ask(INV, {"domain": "%s,%s" % (b, c)})
            self.assertEqual((s, h["x-cache"]), (200, "PARTIAL"))
            self.assertEqual(spent(env), 2)
            self.assertEqual(last_question(env), "iris-investigate?domain=%s" % c)
            # What the vendor would have sent for the whole list.
            _, _, ref = reference(env, INV, {"domain": "%s,%s" % (b, c)})
            got, want = response(body_bc), response(ref)
            self.assertEqual(by_domain(got), by_domain(want))
            self.assertEqual(envelope(got), envelope(want))
            self.assertEqual([r["domain"] for r in got["results"]], [b, c])
            # The same list in another order, and a list of known domains: nothing more.
            s, h, body = env.ask(INV, {"domain": "%s,%s,%s" % (c, a, b)})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual([r["domain"] for r in response(body)["results"]], [c, a, b])
            self.assertEqual(spent(env), 2)

    def test_concurrent_overlapping_lists_fetch_a_shared_domain_once(self):
        with Env(fake_args=["--latency", "400"]) as env:
            a, b, c = env.universe(3, offset=1200)
            out = {}

            def ask(key, names):
                out[key] = env.ask(INV, {"domain": ",".join(names)})

            t1 = threading.Thread(target=ask, args=("ab", (a, b)))
            t1.start()
            deadline = time.monotonic() + 10
            while env.fake_stats()["requests"] < 1 + env.fake_stats()["queries"].get("account", 0):
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.01)
            t2 = threading.Thread(target=ask, args=("bc", (b, c)))
            t2.start()
            t1.join(30)
            t2.join(30)
            # b was on its way with a: the second list waited for it and asked for c alone.
            self.assertEqual(spent(env), 2)
            self.assertEqual(last_question(env), "iris-investigate?domain=%s" % c)
            for key, names in (("ab", (a, b)), ("bc", (b, c))):
                s, _, body = out[key]
                self.assertEqual(s, 200)
                _, _, ref = reference(env, INV, {"domain": ",".join(names)})
                self.assertEqual(by_domain(response(body)), by_domain(response(ref)))
                self.assertEqual(envelope(response(body)), envelope(response(ref)))

    def test_missing_domains_are_answered_and_remembered(self):
        with Env() as env:
            a = env.universe(1, offset=1500)[0]
            s, _, body = env.ask(INV, {"domain": "%s,no_such_domain" % a})
            self.assertEqual(s, 200)
            self.assertEqual(response(body)["missing_domains"], ["no_such_domain"])
            s, h, body = env.ask(INV, {"domain": "no_such_domain,%s" % a})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            _, _, ref = reference(env, INV, {"domain": "no_such_domain,%s" % a})
            self.assertEqual(response(body), response(ref))
            self.assertEqual(spent(env), 1)

    def test_pivot_results_serve_lookups_and_enrich_from_investigate(self):
        with Env() as env:
            ip, count = shared_ip(env, env.universe(20, offset=2000))
            env.fake_control("/_fake/reset")
            env.direct = 0
            s, _, body = env.ask(INV, {"ip": ip})
            self.assertEqual(s, 200)
            domains = [r["domain"] for r in response(body)["results"]]
            self.assertEqual(len(domains), count)
            self.assertEqual(spent(env), 1)
            s, h, body = env.ask(INV, {"domain": domains[-1]})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual(response(body)["results"][0], response(
                reference(env, INV, {"ip": ip})[2])["results"][-1])
            # Enrich is Investigate without the counts: answered from what is held.
            s, h, body = env.ask(ENR, {"domain": ",".join(domains[:2])})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            _, _, ref = reference(env, ENR, {"domain": ",".join(domains[:2])})
            self.assertEqual(response(body), response(ref))
            self.assertEqual(spent(env), 1)
            # Never the reverse: an Enrich answer does not answer Investigate.
            other = env.universe(1, offset=2500)[0]
            env.ask(ENR, {"domain": other})
            s, h, _ = env.ask(INV, {"domain": other})
            self.assertEqual(h["x-cache"], "MISS")
            self.assertEqual(spent(env), 3)

    def test_upstream_down_fresh_hits_stale_served_rest_errors(self):
        with Env(gate_args=["--ttl-investigate", "2s"]) as env:
            old, new, never = env.universe(3, offset=3000)
            ip, _ = shared_ip(env, env.universe(20, offset=3100))
            env.ask(INV, {"domain": old})
            env.ask(INV, {"ip": ip})
            time.sleep(2.5)  # both are stale now
            env.ask(INV, {"domain": new})
            env.fake.kill()
            s, h, _ = env.ask(INV, {"domain": new})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            for params in ({"domain": old}, {"ip": ip}):
                s, h, body = env.ask(INV, params)
                self.assertEqual((s, h["x-cache"]), (200, "STALE"), params)
                self.assertIn("110", h.get("warning", ""))
                self.assertTrue(response(body)["results"])
            for params in ({"domain": never}, {"domain": "%s,%s" % (never, new)}, {"ip": "192.0.2.1"}):
                s, h, body = env.ask(INV, params)
                self.assertIn(s, (502, 504), params)
                err = json.loads(body)["error"]
                self.assertEqual(err["code"], s)
                self.assertIn("Iris API", err["message"])
            env.procs.remove(env.fake)

    def test_upstream_5xx_and_timeouts_serve_stale_or_the_vendor_shaped_error(self):
        with Env(gate_args=["--ttl-investigate", "2s", "--upstream-timeout", "1s"]) as env:
            old, never = env.universe(2, offset=3200)
            _, _, first = env.ask(INV, {"domain": old})
            time.sleep(2.5)
            for mode in ("status=500&count=1", "status=502&count=1", "status=500&count=1&mode=hang"):
                env.fake_control("/_fake/fail?" + mode)
                s, h, body = env.ask(INV, {"domain": old})
                self.assertEqual((s, h["x-cache"]), (200, "STALE"), mode)
                self.assertIn("110", h["warning"])
                self.assertEqual(body, first, mode)
            env.fake_control("/_fake/fail?status=500&count=1")
            s, _, body = env.ask(INV, {"domain": never})
            self.assertEqual(s, 500)  # no copy to fall back on: the vendor's answer
            env.fake_control("/_fake/fail?status=500&count=1&mode=hang")
            s, h, body = env.ask(INV, {"domain": never})
            self.assertEqual(s, 504, body)
            self.assertEqual(h["content-type"], "application/json;charset=utf-8")
            err = json.loads(body)
            self.assertEqual(err["error"], {"code": 504, "message":
                                            "irisgate got no answer from the Iris API in time."})
            self.assertNotIn(b"127.0.0.1", body)
            # Upstream back: the stale domain is fetched afresh.
            s, h, _ = env.ask(INV, {"domain": old})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
