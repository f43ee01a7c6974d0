"""test_pages.py — a pivot's pages through irisgate: the position tokens it hands out are its
own (never the vendor's cursor), walking every page gives exactly the vendor's pages, each
page costs one upstream query once and is a HIT after (also after a restart), a `next` URL
points at irisgate without a credential, and a token whose vendor cursor was refused (here:
the vendor restarted with another world, so every old cursor is foreign to it) makes irisgate
walk the pivot again to that page, so the token it handed out still works."""
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Env  # noqa: E402

INV = "/v1/iris-investigate/"
PIVOT = {"nameserver_host": "kevin.ns.cloudflare.com", "page_size": "60"}


def vendor_walk(env, params):
    """Every page as fakeiris itself answers them: a list of result-domain lists."""
    pages, pos = [], None
    while True:
        q = dict(params, **({"position": pos} if pos else {}))
        s, _, b = env.fake_direct(INV, q)
        assert s == 200, b[:300]
        r = json.loads(b)["response"]
        pages.append([x["domain"] for x in r["results"]])
        if not r["has_more_results"]:
            return pages
        pos = r["position"]


def gate_walk(test, env, params, outcome=None, headers=None):
    """Walks every page through irisgate; returns (pages, tokens, outcomes)."""
    pages, tokens, outcomes, pos = [], [], [], None
    while True:
        q = dict(params, **({"position": pos} if pos else {}))
        s, h, b = env.ask(INV, q, headers=headers)
        test.assertEqual(s, 200, b[:300])
        outcomes.append(h["x-cache"])
        r = json.loads(b)["response"]
        pages.append([x["domain"] for x in r["results"]])
        if not r["has_more_results"]:
            test.assertNotIn("position", r)
            return pages, tokens, outcomes
        pos = r["position"]
        tokens.append(pos)


class PagesTest(unittest.TestCase):

    def test_walk_costs_a_query_per_page_once_and_tokens_are_irisgates(self):
        with Env(fixtures=False) as env:
            want = vendor_walk(env, PIVOT)
            self.assertGreaterEqual(len(want), 4)
            before = env.upstream_queries()
            pages, tokens, outcomes = gate_walk(self, env, PIVOT)
            self.assertEqual(pages, want)
            self.assertEqual(outcomes, ["MISS"] * len(want))
            self.assertEqual(env.upstream_queries(), before + len(want))
            # The vendor's cursors (32 hex digits) never reach the client.
            for t in tokens:
                self.assertTrue(t.startswith("ig"), t)
                self.assertGreater(len(t), 32)
            # Walked again, and again after a restart: every page from the cache.
            for restart in (False, True):
                if restart:
                    env.stop_gate()
                    env.start_gate()
                again, tokens2, outcomes = gate_walk(self, env, PIVOT)
                self.assertEqual((again, tokens2), (want, tokens))
                self.assertEqual(outcomes, ["HIT"] * len(want))
                self.assertEqual(env.upstream_queries(), before + len(want))

    def test_next_url_points_at_irisgate_without_credentials(self):
        with Env(fixtures=False) as env:
            q = dict(PIVOT, next="true")
            s, h, b = env.ask(INV, q)
            self.assertEqual(s, 200)
            r = json.loads(b)["response"]
            url = urllib.parse.urlsplit(r["next"])
            self.assertEqual((url.scheme, url.netloc, url.path),
                             ("http", "127.0.0.1:%d" % env.gate.port, INV))
            got = urllib.parse.parse_qs(url.query)
            self.assertEqual(got["position"], [r["position"]])
            self.assertEqual(got["nameserver_host"], [PIVOT["nameserver_host"]])
            for secret in ("api_key", "api_username", "signature", "timestamp"):
                self.assertNotIn(secret, got)
            self.assertNotIn(env.key.encode(), b)
            # Following it (with one's own credentials) gives the second page.
            s, h, b2 = env.ask(INV, {k: v[0] for k, v in got.items()})
            self.assertEqual(s, 200)
            vendor = vendor_walk(env, PIVOT)
            self.assertEqual([x["domain"] for x in json.loads(b2)["response"]["results"]],
                             vendor[1])

    def test_a_refused_cursor_is_walked_again_so_the_token_still_works(self):
        with Env(fixtures=False) as env:
            pages, tokens, _ = gate_walk(self, env, PIVOT)
            # The vendor starts over with another world: the cursors irisgate holds are
            # foreign to it now (a 400), as an expired one would be.
            env.stop_gate()
            env.fake.stop()
            env.procs.remove(env.fake)
            env.fake_args = ["--seed", "8"]
            env.start_fake()
            env.start_gate()
            want = vendor_walk(env, PIVOT)
            self.assertNotEqual(want[1], pages[1])
            before = env.upstream_queries()
            # Cached pages are still hits (their tokens were never the vendor's business)...
            s, h, _ = env.ask(INV, dict(PIVOT, position=tokens[0]))
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual(env.upstream_queries(), before)
            # ... and the second page asked afresh: the refused cursor, then pages 1 and 2
            # of a new walk; the answer is the vendor's second page now.
            s, h, b = env.ask(INV, dict(PIVOT, position=tokens[0]),
                              headers={"Cache-Control": "no-cache"})
            self.assertEqual(s, 200, b[:300])
            r = json.loads(b)["response"]
            self.assertEqual([x["domain"] for x in r["results"]], want[1])
            self.assertEqual(env.upstream_queries(), before + 3)
            # Its token leads on through the new walk.
            s, h, b = env.ask(INV, dict(PIVOT, position=r["position"]))
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertEqual([x["domain"] for x in json.loads(b)["response"]["results"]], want[2])
            self.assertEqual(env.upstream_queries(), before + 4)
            # The first page of the new walk was kept on the way.
            s, h, b = env.ask(INV, PIVOT)
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual([x["domain"] for x in json.loads(b)["response"]["results"]], want[0])
            self.assertEqual(env.upstream_queries(), before + 4)

    def test_a_token_irisgate_did_not_mint_is_passed_on(self):
        with Env(fixtures=False) as env:
            s, _, b = env.fake_direct(INV, PIVOT)
            vendor_token = json.loads(b)["response"]["position"]
            before = env.upstream_queries()
            s, h, b = env.ask(INV, dict(PIVOT, position=vendor_token))
            self.assertEqual((s, h["x-cache"]), (200, "MISS"), b[:300])
            self.assertEqual(env.upstream_queries(), before + 1)
            s, h, b = env.ask(INV, dict(PIVOT, position="0" * 32))
            self.assertEqual(s, 400)
            self.assertEqual(json.loads(b)["error"]["code"], 400)


if __name__ == "__main__":
    unittest.main(verbosity=2)
