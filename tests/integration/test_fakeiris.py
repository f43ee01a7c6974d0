"""test_fakeiris.py — fakeiris, the stand-in for api.domaintools.com, as a client of the real
API would see it: recorded answers byte for byte, the four credential schemes, the vendor's
error bodies, the synthetic world's pivots and pages, limits, injected failures, gzip and
the control endpoints.

Expected values come from the fixtures (read here, independently of fakeiris), from HMAC
signatures computed here, and from one fakeiris answer checked against another.

Environment: FAKEIRIS_BIN (the binary), IG_SHARED_DIR (../shared), IG_TEST_TMP (scratch).
Python standard library only. Every fakeiris started here is stopped in a finally / tearDown.
"""
import base64
import gzip
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEIRIS = os.environ.get("FAKEIRIS_BIN", os.path.join(HERE, "../../build/fakeiris"))
SHARED = os.environ.get("IG_SHARED_DIR", os.path.join(HERE, "../../../shared"))
TMP_ROOT = os.environ.get("IG_TEST_TMP", tempfile.gettempdir())
RESPONSES = os.path.join(SHARED, "iris", "responses")

INV = "/v1/iris-investigate/"
ENR = "/v1/iris-enrich/"
ACC = "/v1/account"

ALICE, ALICE_KEY = "alice", "alice-key-" + os.urandom(6).hex()
BOB, BOB_KEY = "bob", "bob-key-" + os.urandom(6).hex()

RECORDED_500 = os.path.join(RESPONSES, "errors", "error_500__GET_v1_reverse-ip-whois__python_api@8f74a6e.json")
JSON_CTYPE = "application/json;charset=utf-8"

# The support URL of error bodies changed with time: "https:\/\/www.domaintools.com\/support\/"
# in recordings up to April 2024, "https:\/\/docs.domaintools.com" from September 2025. fakeiris
# speaks for the current era throughout; era() moves an older recording into it.
OLD_SUPPORT = b'"support":"https:\\/\\/www.domaintools.com\\/support\\/"'
SUPPORT = b'"support":"https:\\/\\/docs.domaintools.com"'


def fixture(name):
    with open(os.path.join(RESPONSES, name), "rb") as f:
        return f.read()


def era(recorded):
    assert OLD_SUPPORT in recorded or SUPPORT in recorded, recorded
    return recorded.replace(OLD_SUPPORT, SUPPORT)


# Recorded in 2025 (the current era): byte for byte what fakeiris must say.
BAD_CREDENTIALS = fixture("account__GET__403__python_api@7020a61.json")
MALFORMED = fixture("errors/error_400__GET_v1_ss_reverse-ip__python_api@bd1f844.json")


def sanitizer_report(text):
    return any(m in text for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer"))


class Fake:
    """One fakeiris process on a free loopback port, found through --port-file."""

    def __init__(self, *args, users=((ALICE, ALICE_KEY), (BOB, BOB_KEY)), seed=42, domains=20000):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="fakeiris-", dir=TMP_ROOT)
        self.port_file = os.path.join(self.dir, "port")
        argv = [FAKEIRIS, "--listen", "127.0.0.1:0", "--port-file", self.port_file,
                "--seed", str(seed), "--domains", str(domains)]
        for u, k in users:
            argv += ["--user", "%s:%s" % (u, k)]
        argv += list(args)
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.stopped = False
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        try:
            self.port = self._wait_port()
        except BaseException:
            self.kill()
            raise

    def _wait_port(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    text = f.read()
                if text.endswith("\n"):
                    return int(text)
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("fakeiris did not start (exit %r): %s" % (self.p.poll(), self.stderr()))

    def stderr(self):
        self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        self.out.flush()
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, params=None, headers=None, body=None, conn=None):
        """Returns (status, headers (lower-case names), body bytes)."""
        headers = dict(headers or {})
        qs = urllib.parse.urlencode(params or {})
        if method == "POST" and body is None:
            url, body = path, qs
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            url = path + ("?" + qs if qs else "")
        c = conn or self.conn()
        try:
            c.request(method, url, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def ask(self, path, params, method="POST", user=ALICE, key=ALICE_KEY, headers=None):
        p = {"api_username": user, "api_key": key}
        p.update(params)
        return self.request(method, path, p, headers)

    def control(self, path):
        s, _, b = self.request("GET", path)
        assert s == 200, (path, s, b)
        return json.loads(b)

    def kill(self):
        self.stopped = True
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self._close()

    def _close(self):
        self.out.close()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        """SIGTERM; must exit 0 promptly with no sanitizer report. Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        try:
            if self.p.poll() is None:
                self.p.send_signal(signal.SIGTERM)
                try:
                    self.p.wait(20)
                except subprocess.TimeoutExpired:
                    self.p.kill()
                    self.p.wait()
                    raise AssertionError("fakeiris did not stop on SIGTERM")
            err = self.stderr()
            if sanitizer_report(err):
                raise AssertionError("fakeiris sanitizer report:\n" + err[-6000:])
            if self.p.returncode != 0:
                raise AssertionError("fakeiris exited %d:\n%s" % (self.p.returncode, err[-3000:]))
        finally:
            self._close()


def newest_recording(kind, question):
    """The body of the newest 200 recording of kind whose request (query + body) asks
    exactly question (a dict, auth and app_* fields ignored). Newest by commit_date; among
    the same date the later entry in the index."""
    with open(os.path.join(RESPONSES, "INDEX_python_api.json")) as f:
        index = json.load(f)
    best = None
    for pos, e in enumerate(index):
        if e["kind"] != kind or e["status"] != 200:
            continue
        asked = {}
        for part in (e["query"], e["request_body"]):
            asked.update(urllib.parse.parse_qsl(part))
        asked = {k: v for k, v in asked.items()
                 if k not in ("api_username", "api_key", "timestamp", "signature")
                 and not k.startswith("app_")}
        if asked != question:
            continue
        if best is None or (e["commit_date"], pos) > (best["commit_date"], best["pos"]):
            best = dict(e, pos=pos)
    assert best is not None, (kind, question)
    with open(os.path.join(RESPONSES, best["file"].split("/", 1)[1]), "rb") as f:
        return f.read()


def signed(user, key, path, alg="sha256", when=None):
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))
    sig = hmac.new(key.encode(), (user + ts + path).encode(), getattr(hashlib, alg)).hexdigest()
    return {"api_username": user, "timestamp": ts, "signature": sig}


FAKE = None


def setUpModule():
    global FAKE
    FAKE = Fake()


def tearDownModule():
    global FAKE
    if FAKE is not None:
        f, FAKE = FAKE, None
        f.stop()


class Replay(unittest.TestCase):
    def test_investigate_post_replays_the_newest_recording_byte_for_byte(self):
        want = newest_recording("iris-investigate", {"domain": "amazon.com,google.com"})
        s, h, b = FAKE.ask(INV, {"domain": "amazon.com,google.com"})
        self.assertEqual(s, 200)
        self.assertEqual(h["content-type"], JSON_CTYPE)
        self.assertEqual(b, want)

    def test_enrich_post_replays_the_newest_recording_byte_for_byte(self):
        want = newest_recording("iris-enrich", {"domain": "google.com"})
        s, h, b = FAKE.ask(ENR, {"domain": "google.com"})
        self.assertEqual((s, h["content-type"]), (200, JSON_CTYPE))
        self.assertEqual(b, want)

    def test_without_trailing_slash_and_by_get_the_answer_is_the_same(self):
        want = newest_recording("iris-investigate", {"domain": "amazon.com,google.com"})
        q = {"domain": "amazon.com,google.com"}
        self.assertEqual(FAKE.ask("/v1/iris-investigate", q)[2], want)
        self.assertEqual(FAKE.ask(INV, q, method="GET")[2], want)
        self.assertEqual(FAKE.ask("/v1/iris-investigate", q, method="GET")[2], want)
        # Order, case and app_* telemetry do not change the question.
        self.assertEqual(FAKE.ask(INV, {"app_name": "x", "domain": "Amazon.com, google.com"})[2], want)

    def test_credentials_in_the_query_of_a_post_are_accepted(self):
        qs = urllib.parse.urlencode({"api_username": ALICE, "api_key": ALICE_KEY, "domain": "google.com"})
        s, _, b = FAKE.request("POST", ENR + "?" + qs, body=b"")
        self.assertEqual(s, 200)
        self.assertEqual(b, newest_recording("iris-enrich", {"domain": "google.com"}))

    def test_ip_8_8_8_8_replays_the_limit_exceeded_recording(self):
        s, _, b = FAKE.ask(INV, {"ip": "8.8.8.8"})
        self.assertEqual(s, 200)
        self.assertEqual(b, newest_recording("iris-investigate", {"ip": "8.8.8.8"}))
        self.assertTrue(json.loads(b)["response"]["limit_exceeded"])

    def test_domaintools_com_answers_with_the_recorded_inner_response(self):
        with open(os.path.join(RESPONSES, "iris-investigate__inner-response__domain=domaintools.com"
                               "__200__python_api-tests-responses@2b05d75.json"), "rb") as f:
            inner = f.read()
        s, _, b = FAKE.ask(INV, {"domain": "domaintools.com"})
        self.assertEqual((s, b), (200, b'{"response":' + inner + b"}"))


class Auth(unittest.TestCase):
    Q = {"domain": "google.com"}

    def ok(self, status_headers_body):
        s, _, b = status_headers_body
        self.assertEqual(s, 200, b)

    def test_open_key_is_accepted(self):
        self.ok(FAKE.ask(ENR, self.Q))
        self.ok(FAKE.ask(ENR, self.Q, user=BOB, key=BOB_KEY, method="GET"))

    def test_hmac_sha256_sha1_and_md5_are_accepted(self):
        for alg in ("sha256", "sha1", "md5"):
            for path, method in ((ENR, "POST"), ("/v1/iris-enrich", "GET"), (ACC, "GET")):
                p = signed(ALICE, ALICE_KEY, path, alg)
                p.update(self.Q)
                s, _, b = FAKE.request(method, path, p)
                self.assertEqual(s, 200, (alg, path, b))

    def test_x_api_key_header_is_accepted(self):
        self.ok(FAKE.request("POST", ENR, dict(self.Q, api_username=ALICE), {"X-Api-Key": ALICE_KEY}))

    def test_basic_auth_is_accepted(self):
        token = base64.b64encode(("%s:%s" % (BOB, BOB_KEY)).encode()).decode()
        self.ok(FAKE.request("GET", ENR, self.Q, {"Authorization": "Basic " + token}))

    def assert_refused(self, r):
        s, h, b = r
        self.assertEqual(s, 403)
        self.assertEqual(h["content-type"], JSON_CTYPE)
        self.assertEqual(b, BAD_CREDENTIALS)

    def test_wrong_key_is_refused_with_the_vendor_body(self):
        self.assert_refused(FAKE.ask(ENR, self.Q, key=ALICE_KEY + "x"))
        self.assert_refused(FAKE.ask(ENR, self.Q, key=BOB_KEY))  # bob's key is not alice's
        self.assert_refused(FAKE.ask(ENR, self.Q, user="mallory"))
        self.assert_refused(FAKE.request("POST", ENR, self.Q))  # no credentials at all
        self.assert_refused(FAKE.request("POST", ENR, dict(self.Q, api_username=ALICE),
                                         {"X-Api-Key": "nope"}))

    def test_wrong_signature_is_refused(self):
        p = signed(ALICE, ALICE_KEY, ENR)
        p["signature"] = p["signature"][:-1] + ("0" if p["signature"][-1] != "0" else "1")
        self.assert_refused(FAKE.request("POST", ENR, dict(p, **self.Q)))
        # Signed for another path.
        p = signed(ALICE, ALICE_KEY, INV)
        self.assert_refused(FAKE.request("POST", ENR, dict(p, **self.Q)))
        # Signed with another user's key.
        p = signed(ALICE, BOB_KEY, ENR)
        self.assert_refused(FAKE.request("POST", ENR, dict(p, **self.Q)))

    def test_stale_timestamp_is_refused(self):
        for skew in (-3600, 3600):
            p = signed(ALICE, ALICE_KEY, ENR, when=time.time() + skew)
            self.assert_refused(FAKE.request("POST", ENR, dict(p, **self.Q)))
        # Within the default 300 s it passes.
        p = signed(ALICE, ALICE_KEY, ENR, when=time.time() - 120)
        self.assertEqual(FAKE.request("POST", ENR, dict(p, **self.Q))[0], 200)


def first_result(body):
    return json.loads(body)["response"]["results"][0]


class Synthetic(unittest.TestCase):
    def test_domains_endpoint_lists_the_universe(self):
        names = FAKE.control("/_fake/domains?offset=0&limit=50")
        self.assertEqual(len(names), 50)
        self.assertEqual(len(set(names)), 50)
        self.assertEqual(FAKE.control("/_fake/domains?offset=10&limit=5"), names[10:15])
        self.assertEqual(FAKE.control("/_fake/domains?offset=20000&limit=5"), [])

    def test_same_seed_gives_the_same_answers_in_another_process(self):
        names = FAKE.control("/_fake/domains?offset=123&limit=3")
        other = Fake("--fixtures", "none", "--quiet")
        try:
            self.assertEqual(other.control("/_fake/domains?offset=123&limit=3"), names)
            for d in names:
                a = FAKE.ask(INV, {"domain": d})
                b = other.ask(INV, {"domain": d})
                self.assertEqual(a[0], 200, a[2])
                self.assertEqual(a[2], b[2])
                self.assertEqual(first_result(a[2])["domain"], d)
                self.assertEqual(FAKE.ask(ENR, {"domain": d})[2], other.ask(ENR, {"domain": d})[2])
        finally:
            other.stop()

    def test_a_pivot_on_a_profile_ip_finds_count_domains_across_pages(self):
        names = FAKE.control("/_fake/domains?offset=0&limit=200")
        chosen = None
        for d in names:
            s, _, b = FAKE.ask(INV, {"domain": d})
            self.assertEqual(s, 200, b)
            for ip in first_result(b).get("ip", []):
                count = ip["address"]["count"]
                if 3 <= count <= 2000:
                    chosen = (d, ip["address"]["value"], count)
                    break
            if chosen:
                break
        self.assertIsNotNone(chosen, "no profile IP shared by 3..2000 domains in 200 profiles")
        domain, address, count = chosen
        page_size = max(1, (count + 2) // 3)
        seen, position, pages = [], None, 0
        while True:
            q = {"ip": address, "page_size": str(page_size)}
            if position:
                q["position"] = position
            s, _, b = FAKE.ask(INV, q)
            self.assertEqual(s, 200, b)
            r = json.loads(b)["response"]
            self.assertEqual(r["total_count"], count)
            self.assertLessEqual(r["results_count"], page_size)
            self.assertEqual(r["results_count"], len(r["results"]))
            seen += [x["domain"] for x in r["results"]]
            pages += 1
            self.assertLess(pages, count + 2, "pagination does not end")
            if not r["has_more_results"]:
                break
            position = r["position"]
        self.assertEqual(len(seen), count)
        self.assertEqual(len(set(seen)), count)
        self.assertIn(domain, seen)
        self.assertGreaterEqual(pages, 2 if count > page_size else 1)

    def test_a_domain_outside_the_universe_counts_itself(self):
        # Names irisgate's tests use: their values are shared with the universe, and each
        # count is the number of domains holding it, the named one included.
        for name in ("example-one.com", "example-two.com", "pipe-a.com"):
            r = first_result(FAKE.ask(INV, {"domain": name})[2])
            checked = 0
            for ip in r["ip"]:
                vc = ip["address"]
                self.assertGreaterEqual(vc["count"], 1)
                p = json.loads(FAKE.ask(INV, {"ip": vc["value"], "page_size": "1"})[2])["response"]
                if not p["limit_exceeded"]:
                    self.assertEqual(p["total_count"], vc["count"] - 1, (name, vc))
                both = json.loads(FAKE.ask(INV, {"ip": vc["value"], "domain": name})[2])["response"]
                self.assertEqual([x["domain"] for x in both["results"]], [name])
                checked += 1
            for ns in r["name_server"]:
                self.assertGreaterEqual(ns["host"]["count"], 1)
                self.assertGreaterEqual(ns["domain"]["count"], 1)
                checked += 1
            self.assertGreater(checked, 0, name)

    def test_page_size_over_500_is_a_400(self):
        s, h, b = FAKE.ask(INV, {"ip": "10.0.0.1", "page_size": "1000"})
        self.assertEqual((s, h["content-type"], b), (400, JSON_CTYPE, MALFORMED))


XML_CTYPE = "application/xml;charset=utf-8"
HTML_CTYPE = "text/html"


class Obj(list):
    """A JSON object as its (key, value) pairs, in order."""


def json_tree(body):
    """The JSON answer with every number as written (XML and HTML show its text)."""
    return json.loads(body, parse_int=str, parse_float=str, object_pairs_hook=Obj)


def scalar_text(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return "" if v is None else v


def xml_expected(tag, v):
    """The element(s) the documented convention makes of member tag = v, as
    (tag, text, [children]) tuples: objects nest, arrays repeat the tag (none when empty),
    an array in an array is one element of <item>s."""
    if isinstance(v, Obj):
        return [(tag, "", [e for k, x in v for e in xml_expected(k, x)])]
    if isinstance(v, list):
        out = []
        for x in v:
            if isinstance(x, list) and not isinstance(x, Obj):
                out.append((tag, "", [e for y in x for e in xml_expected("item", y)]))
            else:
                out += xml_expected(tag, x)
        return out
    return [(tag, scalar_text(v), [])]


def xml_actual(el):
    kids = [xml_actual(c) for c in el]
    return (el.tag, "" if kids else (el.text or ""), kids)


class HtmlTree(HTMLParser):
    """The page's body read back: <table> rows as (key, value) pairs, <ol> as lists, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.result, self.head = [[]], None, []

    def handle_starttag(self, tag, attrs):
        if tag in ("table", "ol", "tr", "th", "td", "li", "body"):
            self.stack.append([])

    def handle_endtag(self, tag):
        if tag not in ("table", "ol", "tr", "th", "td", "li", "body"):
            return
        items = self.stack.pop()
        if tag == "table":
            v = [(row[0], row[1]) for row in items]
        elif tag == "ol":
            v = items
        elif tag == "tr":
            v = items  # [key, value]
        elif tag in ("th", "td", "li", "body"):
            v = items[0] if len(items) == 1 and not isinstance(items[0], str) else "".join(
                x for x in items if isinstance(x, str))
            if tag == "body":
                self.result = v
                return
        self.stack[-1].append(v)

    def handle_data(self, data):
        if len(self.stack) > 1:
            self.stack[-1].append(data)


def html_expected(v):
    if isinstance(v, Obj):
        return [(k, html_expected(x)) for k, x in v]
    if isinstance(v, list):
        return [html_expected(x) for x in v]
    return scalar_text(v)


def html_actual(page):
    p = HtmlTree()
    p.feed(page.decode("utf-8"))
    return p.result


class Formats(unittest.TestCase):
    """format=xml and format=html: the same answer as the JSON one, in the documented
    conventions (docs/fakeiris.md), for recorded and synthetic answers, the account and
    errors."""

    def assert_same_tree(self, json_body, r, fmt, status=200):
        s, h, body = r
        self.assertEqual(s, status, body[:300])
        if fmt == "xml":
            self.assertEqual(h["content-type"], XML_CTYPE)
            self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<whoisapi>'), body[:80])
            self.assertEqual(xml_actual(ET.fromstring(body)), xml_expected("whoisapi", json_tree(json_body))[0])
        else:
            self.assertEqual(h["content-type"], HTML_CTYPE)
            self.assertTrue(body.startswith(b"<html><head><title>DomainTools API</title>"), body[:80])
            self.assertIn(b"<style>", body)
            self.assertEqual(html_actual(body), html_expected(json_tree(json_body)))

    def test_recorded_answers_in_xml_and_html(self):
        for path, q in ((INV, {"domain": "amazon.com,google.com"}), (ENR, {"domain": "google.com"}),
                        (INV, {"ip": "8.8.8.8"}), (INV, {"domain": "domaintools.com"})):
            want = FAKE.ask(path, q)[2]
            for fmt in ("xml", "html"):
                for method in ("POST", "GET"):  # in the form body for a POST
                    self.assert_same_tree(want, FAKE.ask(path, dict(q, format=fmt), method=method), fmt)
                self.assert_same_tree(want, FAKE.ask(path, dict(q, format=fmt.upper())), fmt)

    def test_synthetic_answers_in_xml_and_html(self):
        names = FAKE.control("/_fake/domains?offset=40&limit=3")
        for path, q in ((INV, {"domain": ",".join(names) + ",example-one.com,not_a_domain"}),
                        (ENR, {"domain": ",".join(names)}),
                        (INV, {"nameserver_domain": "domaincontrol.com", "page_size": "3"}),
                        (INV, {"domain": names[0], "parsed_whois": "true", "parsed_domain_rdap": "true"})):
            want = FAKE.ask(path, q)[2]
            for fmt in ("xml", "html"):
                self.assert_same_tree(want, FAKE.ask(path, dict(q, format=fmt)), fmt)
        # A page's position works in every format: it names the question, not its spelling.
        r = json.loads(FAKE.ask(INV, {"nameserver_domain": "domaincontrol.com", "page_size": "3"})[2])
        q = {"nameserver_domain": "domaincontrol.com", "page_size": "3",
             "position": r["response"]["position"]}
        self.assert_same_tree(FAKE.ask(INV, q)[2], FAKE.ask(INV, dict(q, format="xml")), "xml")
        # next=true: the link to the next page asks for it in the same format.
        q = {"nameserver_domain": "domaincontrol.com", "page_size": "3", "next": "true"}
        nxt = ET.fromstring(FAKE.ask(INV, dict(q, format="xml"))[2]).find("response/next").text
        self.assertTrue(nxt.startswith("https://api.domaintools.com/v1/iris-investigate/?"), nxt)
        self.assertEqual(urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query)["format"], ["xml"])

    def test_markup_characters_are_escaped(self):
        title = "Web Hosting, Domain Names & Email"
        want = FAKE.ask(INV, {"website_title": title, "page_size": "2"})[2]
        self.assertIn(b"& Email", want)
        s, h, body = FAKE.ask(INV, {"website_title": title, "page_size": "2", "format": "xml"})
        self.assertIn(b"Domain Names &amp; Email", body)
        self.assert_same_tree(want, (s, h, body), "xml")
        self.assert_same_tree(want, FAKE.ask(INV, {"website_title": title, "page_size": "2",
                                                   "format": "html"}), "html")

    def test_account_in_xml_and_html(self):
        for fmt in ("xml", "html"):
            want = FAKE.ask(ACC, {}, method="GET", user=BOB, key=BOB_KEY)[2]
            r = FAKE.ask(ACC, {"format": fmt}, method="GET", user=BOB, key=BOB_KEY)
            # usage moved on by one between the two: compare with the JSON asked after it
            after = json.loads(FAKE.ask(ACC, {}, method="GET", user=BOB, key=BOB_KEY)[2])
            for p in after["response"]["products"]:
                if p["id"] == "account-information":
                    p["usage"] = {k: str(int(v) - 1) for k, v in p["usage"].items()}
            self.assertEqual(json.loads(want)["response"]["account"], after["response"]["account"])
            self.assert_same_tree(json.dumps(after, separators=(",", ":")).encode(), r, fmt)

    def test_errors_in_xml_and_html(self):
        for fmt in ("xml", "html"):
            self.assert_same_tree(BAD_CREDENTIALS, FAKE.ask(INV, {"domain": "x.com", "format": fmt},
                                                            key="wrong"), fmt, 403)
            self.assert_same_tree(MALFORMED, FAKE.ask(INV, {"format": fmt, "app_name": "x"}), fmt, 400)
            want404 = FAKE.ask("/v1/nothing", {})[2]
            self.assert_same_tree(want404, FAKE.ask("/v1/nothing", {"format": fmt}), fmt, 404)
        # An unknown format is a question the vendor cannot understand, answered in JSON.
        s, h, b = FAKE.ask(INV, {"domain": "x.com", "format": "csv"})
        self.assertEqual((s, h["content-type"], b), (400, JSON_CTYPE, MALFORMED))

    def test_json_stays_byte_for_byte_and_gzip_carries_xml(self):
        q = {"domain": "amazon.com,google.com"}
        plain = FAKE.ask(INV, q)[2]
        self.assertEqual(FAKE.ask(INV, dict(q, format="json"))[2], plain)
        self.assertEqual(plain, newest_recording("iris-investigate", q))
        xml = FAKE.ask(INV, dict(q, format="xml"))[2]
        s, h, packed = FAKE.ask(INV, dict(q, format="xml"), headers={"Accept-Encoding": "gzip"})
        self.assertEqual((s, h["content-encoding"], h["content-type"]), (200, "gzip", XML_CTYPE))
        self.assertEqual(gzip.decompress(packed), xml)


class Http(unittest.TestCase):
    def test_gzip_answer_decodes_to_the_same_json(self):
        for path, q in ((INV, {"domain": "amazon.com,google.com"}),
                        (INV, {"domain": FAKE.control("/_fake/domains?offset=7&limit=1")[0]}),
                        (ACC, {})):
            method = "GET" if path == ACC else "POST"
            s1, h1, plain = FAKE.ask(path, q, method=method)
            s2, h2, packed = FAKE.ask(path, q, method=method, headers={"Accept-Encoding": "gzip, deflate"})
            self.assertEqual((s1, s2), (200, 200))
            self.assertNotIn("content-encoding", h1)
            self.assertEqual(h2["content-encoding"], "gzip")
            self.assertIn("Accept-Encoding", h2.get("vary", ""))
            if path == ACC:  # usage moved on by one between the two
                self.assertEqual(json.loads(gzip.decompress(packed))["response"]["account"],
                                 json.loads(plain)["response"]["account"])
            else:
                self.assertEqual(gzip.decompress(packed), plain)

    def test_unknown_path_is_a_404_in_the_vendor_envelope(self):
        for path in ("/v1/whois/google.com", "/nothing", "/v2/iris-investigate/"):
            s, h, b = FAKE.ask(path, {"domain": "x.com"})
            self.assertEqual(s, 404, path)
            self.assertEqual(h["content-type"], JSON_CTYPE)
            self.assertEqual(json.loads(b)["error"]["code"], 404)

    def test_other_methods_are_a_405_that_says_so(self):
        for method in ("PUT", "DELETE", "PATCH"):
            s, _, b = FAKE.request(method, INV, body=b"")
            self.assertEqual(s, 405)
            e = json.loads(b)["error"]
            self.assertEqual(e["code"], 405)
            self.assertIn(method, e["message"])

    def test_malformed_form_is_a_400(self):
        s, _, b = FAKE.request("POST", INV, body="domain=%zz&api_username=alice",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((s, b), (400, MALFORMED))
        # No search parameter at all: the same recorded answer.
        self.assertEqual(FAKE.ask(INV, {"app_name": "python_wrapper"})[:3:2], (400, MALFORMED))

    def test_every_error_is_of_one_support_url_era(self):
        bodies = [FAKE.ask(INV, {"domain": "x.com"}, key="wrong")[2],
                  FAKE.ask(INV, {"page_size": "0", "ip": "1.2.3.4"})[2],
                  FAKE.ask("/v1/nothing", {})[2],
                  FAKE.request("PUT", INV, body=b"")[2],
                  FAKE.request("GET", "/elsewhere")[2]]
        for b in bodies:
            self.assertIn(SUPPORT, b)
            self.assertNotIn(b"www.domaintools.com", b)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        c = FAKE.conn()
        try:
            want = newest_recording("iris-enrich", {"domain": "google.com"})
            for _ in range(20):
                s, _, b = FAKE.request("POST", ENR, {"api_username": ALICE, "api_key": ALICE_KEY,
                                                     "domain": "google.com"}, conn=c)
                self.assertEqual((s, b), (200, want))
        finally:
            c.close()

    def test_log_lines_carry_no_key_or_signature(self):
        p = signed(ALICE, ALICE_KEY, ENR)
        FAKE.request("POST", ENR, dict(p, domain="google.com"))
        FAKE.ask(ENR, {"domain": "google.com"}, method="GET")
        err = FAKE.stderr()
        self.assertIn("/v1/iris-enrich/", err)
        self.assertNotIn(ALICE_KEY, err)
        self.assertNotIn(p["signature"], err)


class Control(unittest.TestCase):
    """Uses its own fakeiris: these tests count and inject, which would disturb the others."""

    def setUp(self):
        self.fake = Fake("--quiet")

    def tearDown(self):
        self.fake.stop()

    def test_stdout_announces_the_port(self):
        self.assertEqual(self.fake.stdout(), "fakeiris listening on 127.0.0.1:%d\n" % self.fake.port)

    def test_stats_count_queries_statuses_users_and_the_last_question(self):
        f = self.fake
        f.ask(INV, {"domain": "amazon.com,google.com"})
        f.ask(INV, {"domain": "example.com"}, user=BOB, key=BOB_KEY)
        f.ask(ENR, {"domain": "google.com"}, key="wrong")
        f.ask(ACC, {}, method="GET")
        f.ask("/v1/nothing", {})
        st = f.control("/_fake/stats")
        self.assertEqual(st["queries"], {"iris-investigate": 2, "iris-enrich": 1, "account": 1})
        self.assertEqual(st["statuses"], {"200": 3, "403": 1, "404": 1})
        self.assertEqual(st["users"], {ALICE: 2, BOB: 1})
        self.assertEqual(st["requests"], 5)
        self.assertEqual(st["last"]["method"], "POST")
        self.assertEqual(st["last"]["path"], "/v1/nothing")
        f.ask(INV, {"domain": "Example.COM", "app_name": "t"}, method="GET")
        last = f.control("/_fake/stats")["last"]
        self.assertEqual(last, {"method": "GET", "path": INV, "params": "iris-investigate?domain=example.com"})
        f.control("/_fake/reset")
        st = f.control("/_fake/stats")
        self.assertEqual(st["queries"], {"iris-investigate": 0, "iris-enrich": 0, "account": 0})
        self.assertEqual((st["statuses"], st["users"], st["requests"]), ({}, {}, 0))

    def test_fail_makes_the_next_requests_fail_then_recovers(self):
        f = self.fake
        with open(RECORDED_500, "rb") as fh:
            recorded_500 = fh.read()
        self.assertEqual(f.control("/_fake/fail?status=500&count=2")["count"], 2)
        for _ in range(2):
            s, h, b = f.ask(INV, {"domain": "example.com"})
            self.assertEqual((s, b), (500, era(recorded_500)))
            self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertEqual(f.ask(INV, {"domain": "example.com"})[0], 200)
        f.request("POST", "/_fake/fail", {"status": "503", "count": "1"})
        s, h, b = f.ask(ENR, {"domain": "example.com"})
        self.assertEqual(s, 503)
        self.assertIn("maximum number of requests per minute", json.loads(b)["error"]["message"])
        self.assertIn(SUPPORT, b)
        f.control("/_fake/fail?status=502")
        s, _, b = f.ask(ACC, {}, method="GET")
        self.assertEqual((s, json.loads(b)["error"]["code"]), (502, 502))
        self.assertIn(SUPPORT, b)
        self.assertEqual(f.ask(ACC, {}, method="GET")[0], 200)
        self.assertEqual(f.request("GET", "/_fake/fail?status=200")[0], 400)

    def test_refused_credentials_do_not_spend_a_planned_failure(self):
        f = self.fake
        with open(RECORDED_500, "rb") as fh:
            recorded_500 = fh.read()
        f.control("/_fake/fail?status=500&count=1")
        # The vendor judges credentials first: bad ones get the 403, whatever is planned.
        for bad in (lambda: f.ask(INV, {"domain": "example.com"}, key="wrong"),
                    lambda: f.request("POST", INV, {"domain": "example.com"})):
            s, _, b = bad()
            self.assertEqual((s, b), (403, BAD_CREDENTIALS))
        s, _, b = f.ask(INV, {"domain": "example.com"})
        self.assertEqual((s, b), (500, era(recorded_500)))
        self.assertEqual(f.ask(INV, {"domain": "example.com"})[0], 200)
        # Nor a planned drop or hang.
        for mode in ("drop", "hang"):
            f.control("/_fake/fail?status=500&count=1&mode=" + mode)
            s, _, b = f.ask(INV, {"domain": "example.com"}, key="wrong")
            self.assertEqual((s, b), (403, BAD_CREDENTIALS), mode)
            f.control("/_fake/fail?status=500&count=0")
        st = f.control("/_fake/stats")
        self.assertEqual(st["statuses"], {"403": 4, "500": 1, "200": 1})

    def test_injected_failures_come_in_the_format_asked_for(self):
        f = self.fake
        with open(RECORDED_500, "rb") as fh:
            recorded_500 = era(fh.read())
        f.control("/_fake/fail?status=500&count=1")
        r = f.ask(INV, {"domain": "example.com", "format": "xml"})
        Formats.assert_same_tree(self, recorded_500, r, "xml", 500)
        f.control("/_fake/fail?status=503&count=1")
        s, h, b = f.ask(ENR, {"domain": "example.com", "format": "html"})
        self.assertEqual((s, h["content-type"]), (503, HTML_CTYPE))
        self.assertIn(b"maximum number of requests per minute", b)

    def test_fail_drop_closes_the_connection_without_an_answer(self):
        f = self.fake
        f.control("/_fake/fail?status=500&count=1&mode=drop")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            f.ask(INV, {"domain": "example.com"})
        self.assertEqual(f.ask(INV, {"domain": "example.com"})[0], 200)

    def test_fail_hang_answers_nothing_but_serves_others(self):
        f = self.fake
        f.control("/_fake/fail?status=500&count=1&mode=hang")
        c = f.conn(timeout=1.0)
        try:
            with self.assertRaises(socket.timeout):
                f.request("POST", INV, {"api_username": ALICE, "api_key": ALICE_KEY,
                                        "domain": "example.com"}, conn=c)
            # Meanwhile (the hung request still open) others are answered.
            self.assertEqual(f.ask(INV, {"domain": "example.com"})[0], 200)
        finally:
            c.close()
        # A hung request pending at SIGTERM does not stop fakeiris from exiting cleanly.
        f.control("/_fake/fail?status=500&count=1&mode=hang")
        c = f.conn(timeout=30)
        try:
            c.request("GET", INV + "?" + urllib.parse.urlencode(
                {"api_username": ALICE, "api_key": ALICE_KEY, "domain": "x.com"}))
            time.sleep(0.2)
            f.stop()
        finally:
            c.close()

    def test_fail_rate_one_fails_everything(self):
        other = Fake("--quiet", "--fail-rate", "1")
        try:
            s, h, b = other.ask(INV, {"domain": "example.com"})
            self.assertEqual(s, 500)
            self.assertTrue(h["content-type"].startswith("text/html"))
        finally:
            other.stop()


class Limits(unittest.TestCase):
    def test_account_rate_limit_is_the_recorded_account_503(self):
        # Recorded on /v1/account in 2021 with the account-information limit of 5/min.
        want = era(fixture("account__GET__503__python_api@04c7908.json"))
        f = Fake("--quiet", "--rate-per-minute", "5")
        try:
            for i in range(5):
                s, _, b = f.ask(ACC, {}, method="GET")
                self.assertEqual(s, 200, b)
            s, h, b = f.ask(ACC, {}, method="GET")
            self.assertEqual((s, h["content-type"], b), (503, JSON_CTYPE, want))
        finally:
            f.stop()

    def test_month_limit_is_the_recorded_quota_503(self):
        # Recorded on whois-history in 2021 for a service level of 500.
        want = era(fixture("errors/error_503__GET_v1_woot.com_whois_history__python_api@04c7908.json"))
        f = Fake("--quiet", "--month-limit", "500")
        try:
            c = f.conn()
            try:
                for i in range(500):
                    s, _, b = f.request("GET", ENR, {"api_username": ALICE, "api_key": ALICE_KEY,
                                                     "domain": "m%d.com" % i}, conn=c)
                    self.assertEqual(s, 200, b)
                s, h, b = f.request("GET", ENR, {"api_username": ALICE, "api_key": ALICE_KEY,
                                                 "domain": "over.com"}, conn=c)
            finally:
                c.close()
            self.assertEqual((s, h["content-type"], b), (503, JSON_CTYPE, want))
        finally:
            f.stop()

    def test_rate_limit_is_a_503_with_the_vendor_message(self):
        f = Fake("--quiet", "--rate-per-minute", "3")
        try:
            for i in range(3):
                self.assertEqual(f.ask(INV, {"domain": "d%d.com" % i})[0], 200)
            s, h, b = f.ask(INV, {"domain": "d9.com"})
            self.assertEqual(s, 503)
            self.assertEqual(h["content-type"], JSON_CTYPE)
            self.assertEqual(b, b'{"error":{"code":503,"message":"You have exceeded the maximum number of '
                                b'requests per minute allowed under your service level (3\\/min)."},'
                                b'"resources":{"support":"https:\\/\\/docs.domaintools.com"}}')
            # Per user and per product: bob and Enrich are untouched.
            self.assertEqual(f.ask(INV, {"domain": "d1.com"}, user=BOB, key=BOB_KEY)[0], 200)
            self.assertEqual(f.ask(ENR, {"domain": "d1.com"})[0], 200)
        finally:
            f.stop()

    def test_month_limit_is_a_503_with_the_quota_message(self):
        f = Fake("--quiet", "--month-limit", "2")
        try:
            self.assertEqual(f.ask(ENR, {"domain": "a.com"})[0], 200)
            self.assertEqual(f.ask(ENR, {"domain": "b.com"})[0], 200)
            s, _, b = f.ask(ENR, {"domain": "c.com"})
            self.assertEqual(s, 503)
            self.assertEqual(json.loads(b)["error"]["message"],
                             "You have exceeded the maximum number of requests allowed under your "
                             "service level (2).")
            self.assertEqual(f.ask(ACC, {}, method="GET")[0], 200)  # account has no quota
        finally:
            f.stop()

    def test_account_shows_string_limits_and_real_usage(self):
        f = Fake("--quiet", "--rate-per-minute", "50", "--month-limit", "1000")
        try:
            f.ask(INV, {"domain": "a.com"})
            f.ask(INV, {"domain": "b.com"})
            f.ask(ENR, {"domain": "a.com"})
            f.ask(INV, {"domain": "c.com"}, user=BOB, key=BOB_KEY)
            s, h, b = f.ask("/v1/account/", {}, method="GET")
            self.assertEqual((s, h["content-type"]), (200, JSON_CTYPE))
            r = json.loads(b)["response"]
            self.assertEqual(r["account"], {"api_username": ALICE, "active": True})
            prods = {p["id"]: p for p in r["products"]}
            inv = prods["iris-investigate"]
            self.assertEqual(inv["per_month_limit"], "1000")
            self.assertEqual(inv["per_minute_limit"], "50")
            self.assertIsNone(inv["per_hour_limit"])
            self.assertIsNone(inv["absolute_limit"])
            self.assertIsNone(inv["expiration_date"])
            self.assertEqual(inv["usage"], {"today": "2", "month": "2"})
            self.assertEqual(prods["iris-enrich"]["usage"], {"today": "1", "month": "1"})
            self.assertEqual(prods["account-information"]["usage"]["today"], "1")
            self.assertIsNone(prods["account-information"]["per_month_limit"])
            for p in r["products"]:
                for k in ("per_month_limit", "per_minute_limit"):
                    self.assertTrue(p[k] is None or isinstance(p[k], str), (p["id"], k))
        finally:
            f.stop()

    def test_without_limits_the_account_says_null(self):
        s, _, b = FAKE.ask(ACC, {}, method="GET", user=BOB, key=BOB_KEY)
        self.assertEqual(s, 200)
        inv = {p["id"]: p for p in json.loads(b)["response"]["products"]}["iris-investigate"]
        self.assertIsNone(inv["per_minute_limit"])
        self.assertIsNone(inv["per_month_limit"])
        self.assertIsInstance(inv["usage"]["today"], str)

    def test_latency_delays_answers_without_blocking_others(self):
        f = Fake("--quiet", "--latency", "400")
        try:
            results, t0 = [], time.monotonic()

            def one(i):
                results.append(f.ask(ENR, {"domain": "lat%d.com" % i})[0])

            threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            elapsed = time.monotonic() - t0
            self.assertEqual(results, [200] * 8)
            self.assertGreaterEqual(elapsed, 0.4)
            self.assertLess(elapsed, 2.5)  # eight 400 ms answers overlapped, not queued
            # A pending delayed answer does not prevent a clean stop.
            c = f.conn()
            try:
                c.request("GET", ENR + "?domain=x.com")
                f.stop()
            finally:
                c.close()
        finally:
            f.stop()


class Flags(unittest.TestCase):
    def test_skew_bounds_the_accepted_hmac_timestamps(self):
        f = Fake("--quiet", "--skew", "5")
        try:
            def status(offset):
                p = signed(ALICE, ALICE_KEY, ENR, when=time.time() + offset)
                return f.request("POST", ENR, dict(p, domain="google.com"))[0]
            self.assertEqual(status(0), 200)
            self.assertEqual(status(-60), 403)  # inside the default 300 s, outside 5 s
            self.assertEqual(status(60), 403)
        finally:
            f.stop()
        f = Fake("--quiet", "--skew", "7200")
        try:
            for offset, want in ((-3600, 200), (3600, 200), (-8000, 403)):
                p = signed(ALICE, ALICE_KEY, ENR, when=time.time() + offset)
                self.assertEqual(f.request("POST", ENR, dict(p, domain="google.com"))[0], want, offset)
        finally:
            f.stop()

    def test_max_results_sets_the_limit_exceeded_cap(self):
        f = Fake("--quiet", "--fixtures", "none", "--max-results", "50")
        try:
            names = f.control("/_fake/domains?offset=0&limit=100")
            small = None
            for d in names:
                for ip in first_result(f.ask(INV, {"domain": d})[2])["ip"]:
                    if 2 <= ip["address"]["count"] <= 50:
                        small = (ip["address"]["value"], ip["address"]["count"])
                if small:
                    break
            self.assertIsNotNone(small)
            r = json.loads(f.ask(INV, {"ip": small[0]})[2])["response"]
            self.assertEqual((r["limit_exceeded"], r["total_count"]), (False, small[1]))
            # Thousands use GoDaddy's name servers: over the cap.
            s, h, b = f.ask(INV, {"nameserver_domain": "domaincontrol.com"})
            self.assertEqual((s, h["content-type"]), (200, JSON_CTYPE))
            self.assertEqual(b, b'{"response":{"limit_exceeded":true,"has_more_results":true,'
                                b'"message":"Maximum 50 returned - you may need to refine your query.",'
                                b'"error":{"code":413,"message":"More than 50 matched - you may need '
                                b'to refine your query."},"missing_domains":[]}}')
            # A list of named domains is no pivot: not capped.
            r = json.loads(f.ask(INV, {"domain": ",".join(names[:60])})[2])["response"]
            self.assertEqual((r["limit_exceeded"], r["results_count"]), (False, 60))
        finally:
            f.stop()


class CommandLine(unittest.TestCase):
    def run_fake(self, *args):
        p = subprocess.run([FAKEIRIS] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
        self.assertFalse(sanitizer_report(p.stderr.decode("utf-8", "replace")), p.stderr)
        return p

    def test_help_exits_0(self):
        p = self.run_fake("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--user", p.stdout)

    def test_no_user_refuses_to_start(self):
        p = self.run_fake("--listen", "127.0.0.1:0")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--user", p.stderr)

    def test_bad_flags_exit_2_with_usage(self):
        for args in (["--bogus"], ["--user", "nokey"], ["--user", "a:b", "--fail-rate", "2"],
                     ["--user", "a:b", "--listen", "127.0.0.1"], ["--user", "a:b", "--latency"]):
            p = self.run_fake(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(b"usage:", p.stderr, args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
