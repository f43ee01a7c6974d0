"""test_clients.py — every way the vendor's clients send a request, replayed byte for byte
over a raw socket (so the exact bytes are the test's): the official Python SDK's signed form
POST (HMAC-SHA256, and SHA-1), the open key in a GET query string, Polarity's credentials in
the query string of a POST, X-Api-Key, HTTP Basic, with and without the trailing slash,
Expect: 100-continue, HTTP/1.0 with and without keep-alive, chunked request bodies. Each
costs exactly one upstream query for a new question (fakeiris' counters are the referee) and
is a HIT when asked again in another style. Then gzip answers (a HIT is gzip too, q=0 is a
refusal), format=json cached while xml and html pass through uncached and unstored, and the
error shapes the SDK maps to its exceptions, each in the vendor's JSON envelope.

docs/clients.md points here for the SDK-like request styles (STYLES below)."""
import base64
import gzip
import json
import os
import shutil
import socket
import ssl
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, db_query, db_wait_for, hmac_params  # noqa: E402

INV = "/v1/iris-investigate/"
JSON_CTYPE = "application/json;charset=utf-8"
SDK_VERSION = "2.7.2"
SUPPORT = {"support": "https://docs.domaintools.com"}
MALFORMED = ("We could not understand your request. It may be missing important parameters or "
             "is simply malformed. Consult the API documentation for more details.")
BAD_CREDENTIALS = "The credentials you entered do not match an active account."
NOT_AUTHORIZED = "Your API user account is not authorized to access this product."


# -- a raw HTTP client: the bytes on the wire are exactly the test's ---------------------------

class Raw:
    """A connection to irisgate: plain, or TLS when the test's Env has env.tls (an
    ssl.SSLContext trusting irisgate's certificate); the bytes written are the same."""

    def __init__(self, env):
        self.s = socket.create_connection(("127.0.0.1", env.gate.port), timeout=30)
        if getattr(env, "tls", None):
            self.s = env.tls.wrap_socket(self.s, server_hostname="localhost")
        self.port = env.gate.port
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self):
        """One response: (status, version, headers with lower-case names, raw body bytes).
        Close-delimited when the answer has no Content-Length."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise AssertionError("connection closed before a response: %r" % self.buf)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ")[0], int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            assert name.lower() not in headers, "header %s twice" % name
            headers[name.lower()] = value.strip()
        if status == 100:
            return status, version, headers, b""
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                if not self._fill():
                    raise AssertionError("body cut short")
            body, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self._fill():
                pass
            body, self.buf = self.buf, b""
        return status, version, headers, body

    def at_eof(self):
        """True when the server closed the connection (nothing more to read)."""
        self.s.settimeout(5)
        try:
            return not self.buf and not self._fill()
        except (ConnectionResetError, ssl.SSLEOFError):
            return True


def decoded(status, headers, body):
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, headers, body


def exchange(env, data, **kw):
    r = Raw(env)
    try:
        r.send(data)
        status, _, headers, body = r.response()
        return decoded(status, headers, body)
    finally:
        r.close()


def form(pairs):
    """The form encoding httpx and requests use (urllib's, with quote_plus)."""
    return urllib.parse.urlencode(pairs).encode()


def sdk_auth(env, path, alg):
    """The SDK's signed credentials, in its order: api_username, timestamp, signature."""
    p = hmac_params(env.user, env.key, path, alg=alg)
    return [("api_username", p["api_username"]), ("timestamp", p["timestamp"]),
            ("signature", p["signature"])]


def httpx_post(env, path, body, extra=b""):
    """A POST as httpx (the SDK's HTTP client) writes it, headers in its order."""
    return (b"POST " + path.encode() + b" HTTP/1.1\r\n"
            b"Host: 127.0.0.1:%d\r\n" % env.gate.port +
            b"Accept: */*\r\n"
            b"Accept-Encoding: gzip, deflate\r\n"
            b"Connection: keep-alive\r\n"
            b"User-Agent: python-httpx/0.27.2\r\n" + extra +
            b"Content-Length: %d\r\n" % len(body) +
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + body)


def sdk_defaults():
    return [("app_name", "python_wrapper"), ("app_version", SDK_VERSION)]


# -- the request styles: each asks irisgate about one domain, returns (status, headers, body) --

def style_sdk_hmac_sha256(env, domain):
    """The SDK's default (v2.x): form POST, HMAC-SHA256 over username + timestamp + path."""
    body = form(sdk_defaults() + sdk_auth(env, INV, "sha256") + [("domain", domain)])
    return exchange(env, httpx_post(env, INV, body))


def style_sdk_hmac_sha1(env, domain):
    """API(..., key_sign_hash="sha1"): the same form, a 40-hex signature."""
    body = form(sdk_defaults() + sdk_auth(env, INV, "sha1") + [("domain", domain)])
    return exchange(env, httpx_post(env, INV, body))


def style_open_key_get(env, domain):
    """The SDK before HMAC (always_sign_api_key=False) and before POST: open key in a GET."""
    qs = form(sdk_defaults() + [("api_username", env.user), ("api_key", env.key),
                                ("domain", domain)])
    return exchange(env, b"GET " + INV.encode() + b"?" + qs + b" HTTP/1.1\r\n"
                    b"Host: 127.0.0.1:%d\r\n" % env.gate.port +
                    b"User-Agent: python-requests/2.31.0\r\n"
                    b"Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")


def style_polarity(env, domain):
    """Credentials in the query string of a POST to the path without its slash; the search
    in the form body."""
    qs = form([("api_username", env.user), ("api_key", env.key)])
    body = form([("domain", domain)])
    return exchange(env, b"POST /v1/iris-investigate?" + qs + b" HTTP/1.1\r\n"
                    b"Host: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def style_x_api_key(env, domain):
    """The SDK's header authentication: X-Api-Key, with api_username still in the form."""
    body = form(sdk_defaults() + [("api_username", env.user), ("domain", domain)])
    return exchange(env, httpx_post(env, INV, body, extra=b"X-Api-Key: " + env.key.encode() + b"\r\n"))


def style_basic(env, domain):
    """HTTP Basic (api_username:api_key), a GET without the trailing slash."""
    cred = base64.b64encode(("%s:%s" % (env.user, env.key)).encode())
    return exchange(env, b"GET /v1/iris-investigate?" + form([("domain", domain)]) +
                    b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + cred +
                    b"\r\nConnection: close\r\n\r\n")


def style_signed_without_slash(env, domain):
    """HMAC signed over the path as sent, here without the trailing slash."""
    path = INV.rstrip("/")
    body = form(sdk_auth(env, path, "sha256") + [("domain", domain)])
    return exchange(env, httpx_post(env, path, body))


def style_expect_continue(env, domain):
    """curl's way with a body: headers with Expect: 100-continue, the body only after the
    interim 100."""
    body = form([("api_username", env.user), ("api_key", env.key), ("domain", domain)])
    r = Raw(env)
    try:
        r.send(b"POST " + INV.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"User-Agent: curl/8.5.0\r\nAccept: */*\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        status, version, _, _ = r.response()
        assert (status, version) == (100, "HTTP/1.1"), (status, version)
        r.send(body)
        status, _, headers, data = r.response()
        return decoded(status, headers, data)
    finally:
        r.close()


def style_http10_close(env, domain):
    """HTTP/1.0 without keep-alive: answered, then the connection ends."""
    body = form([("api_username", env.user), ("api_key", env.key), ("domain", domain)])
    r = Raw(env)
    try:
        r.send(b"POST " + INV.encode() + b" HTTP/1.0\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status, _, headers, data = r.response()
        assert headers.get("connection", "close").lower() == "close", headers
        assert r.at_eof(), "HTTP/1.0 without keep-alive: the connection should end"
        return decoded(status, headers, data)
    finally:
        r.close()


def style_http10_keep_alive(env, domain):
    """HTTP/1.0 with Connection: keep-alive: answered with a length and kept open (a second
    request on it, which costs nothing, proves it)."""
    qs = form([("api_username", env.user), ("api_key", env.key), ("domain", domain)])
    r = Raw(env)
    try:
        r.send(b"GET " + INV.encode() + b"?" + qs + b" HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, _, headers, data = r.response()
        assert headers.get("connection", "").lower() == "keep-alive", headers
        assert "content-length" in headers, headers
        r.send(b"GET /nothing HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert r.response()[0] == 404
        return decoded(status, headers, data)
    finally:
        r.close()


def style_chunked(env, domain):
    """A chunked request body, cut mid-parameter, with a trailer section."""
    body = form([("api_username", env.user), ("api_key", env.key), ("domain", domain)])
    cuts = [body[:7], body[7:len(body) // 2], body[len(body) // 2:]]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in cuts) + b"0\r\nX-Trailer: 1\r\n\r\n"
    return exchange(env, b"POST " + INV.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)


STYLES = [style_sdk_hmac_sha256, style_sdk_hmac_sha1, style_open_key_get, style_polarity,
          style_x_api_key, style_basic, style_signed_without_slash, style_expect_continue,
          style_http10_close, style_http10_keep_alive, style_chunked]








def envelope(code, message):
    return {"error": {"code": code, "message": message}, "resources": SUPPORT}


def each_style_then_the_next(test, env, offset):
    """Asks a new domain in each style (one query, MISS), then again in the next style (HIT,
    the same bytes), and compares every answer with the vendor's own."""
    names = env.universe(len(STYLES), offset=offset)
    answers = []
    for i, style in enumerate(STYLES):
        nxt = STYLES[(i + 1) % len(STYLES)]
        before = env.upstream_queries()
        s, h, b = style(env, names[i])
        test.assertEqual((s, h.get("x-cache")), (200, "MISS"), (style.__name__, b[:300]))
        test.assertEqual(h["content-type"], JSON_CTYPE, style.__name__)
        test.assertEqual(env.upstream_queries(), before + 1, style.__name__)
        s2, h2, b2 = nxt(env, names[i])
        test.assertEqual((s2, h2.get("x-cache")), (200, "HIT"), (nxt.__name__, b2[:300]))
        test.assertEqual(b2, b, "%s then %s" % (style.__name__, nxt.__name__))
        test.assertEqual(h2["content-type"], JSON_CTYPE)
        test.assertIn("age", h2)
        test.assertEqual(env.upstream_queries(), before + 1, nxt.__name__)
        answers.append(b)
    # The vendor's own answers, asked last so they do not muddle the counts above.
    for name, b in zip(names, answers):
        s, _, direct = env.fake_direct(INV, {"domain": name})
        test.assertEqual((s, b), (200, direct), name)
    # The SDK's client (httpx) sends Accept-Encoding: gzip, deflate: it got gzip.
    s, h, _ = style_sdk_hmac_sha256(env, names[0])
    test.assertEqual((s, h.get("content-encoding"), h.get("x-cache")), (200, "gzip", "HIT"))


class ClientsTest(unittest.TestCase):

    def test_every_style_costs_one_query_then_hits_in_the_next_style(self):
        with Env() as env:
            each_style_then_the_next(self, env, offset=7000)

    def test_every_style_over_tls(self):
        """The same bytes over HTTPS, as the SDK (which refuses plain http) sends them:
        irisgate's certificate from `irisgate cert`, trusted by the client."""
        certs = os.path.join(harness.TMP_ROOT, "clients-tls-%d" % os.getpid())
        harness.run([harness.IRISGATE, "cert", "--self-signed", "--out", certs, "--force"])
        try:
            with Env(gate_args=["--tls-cert", os.path.join(certs, "cert.pem"),
                                "--tls-key", os.path.join(certs, "key.pem")]) as env:
                env.tls = ssl.create_default_context(cafile=os.path.join(certs, "cert.pem"))
                each_style_then_the_next(self, env, offset=7600)
        finally:
            shutil.rmtree(certs, ignore_errors=True)

    def test_gzip_answers_decompress_to_the_identity_bytes(self):
        with Env() as env:
            a, b = env.universe(2, offset=7100)
            gz = {"Accept-Encoding": "gzip"}
            s, h, plain = env.ask(INV, {"domain": a})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertNotIn("content-encoding", h)
            self.assertEqual(h["vary"], "Accept-Encoding")
            self.assertGreater(len(plain), 1024)
            s, h, packed = env.ask(INV, {"domain": a}, headers=gz)
            self.assertEqual((s, h["x-cache"], h["content-encoding"]), (200, "HIT", "gzip"))
            self.assertEqual(h["vary"], "Accept-Encoding")
            self.assertEqual(h["content-type"], JSON_CTYPE)
            self.assertIn("age", h)
            self.assertEqual(int(h["content-length"]), len(packed))
            self.assertLess(len(packed), len(plain))
            self.assertEqual(gzip.decompress(packed), plain)
            s, h, again = env.ask(INV, {"domain": a}, method="GET",
                                  headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8, *;q=0.1"})
            self.assertEqual((s, h["x-cache"], h["content-encoding"], again), (200, "HIT", "gzip", packed))
            for refusal in ("gzip;q=0", "gzip;q=0.000, deflate", "identity", "deflate, br", "*;q=0"):
                s, h, body = env.ask(INV, {"domain": a}, headers={"Accept-Encoding": refusal})
                self.assertEqual((s, h["x-cache"]), (200, "HIT"), refusal)
                self.assertNotIn("content-encoding", h, refusal)
                self.assertEqual(body, plain, refusal)
            # Asked compressed first: the miss is compressed too, and the same bytes as identity.
            s, h, packed = env.ask(INV, {"domain": b}, headers=gz)
            self.assertEqual((s, h["x-cache"], h["content-encoding"]), (200, "MISS", "gzip"))
            s, h, plain = env.ask(INV, {"domain": b})
            self.assertEqual((s, h["x-cache"]), (200, "HIT"))
            self.assertEqual(gzip.decompress(packed), plain)
            _, _, direct = env.fake_direct(INV, {"domain": b})
            self.assertEqual(plain, direct)
            self.assertEqual(env.upstream_queries(), 2 + 1)  # + the reference question

    def test_large_answer_is_compressed_off_the_loop_then_served_gzip(self):
        with Env() as env:
            names = env.universe(20, offset=7200)  # about 95 KB: over the on-loop limit
            q = {"domain": ",".join(names)}
            gz = {"Accept-Encoding": "gzip"}
            s, h, plain = env.ask(INV, q)
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            self.assertGreater(len(plain), 64 * 1024)
            deadline = time.monotonic() + 10
            while True:
                s, h, body = env.ask(INV, q, headers=gz)
                self.assertEqual((s, h["x-cache"]), (200, "HIT"))
                if h.get("content-encoding") == "gzip":
                    self.assertEqual(gzip.decompress(body), plain)
                    break
                self.assertEqual(body, plain)  # identity until the variant is ready
                self.assertLess(time.monotonic(), deadline, "never served gzip")
                time.sleep(0.05)
            self.assertEqual(env.upstream_queries(), 1)

    def test_format_json_is_cached_xml_and_html_pass_through_unstored(self):
        with Env() as env:
            a, x, sentinel = env.universe(3, offset=7300)
            s, h, b = env.ask(INV, {"domain": a, "format": "json"})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            s, h, b2 = env.ask(INV, {"domain": a})
            self.assertEqual((s, h["x-cache"], b2), (200, "HIT", b))
            self.assertEqual(env.upstream_queries(), 1)
            for fmt in ("xml", "html", "xml"):
                before = env.upstream_queries()
                s, h, body = env.ask(INV, {"domain": x, "format": fmt})
                self.assertEqual((s, h["x-cache"]), (200, "BYPASS"), fmt)
                self.assertEqual(env.upstream_queries(), before + 1, fmt)
            _, _, direct = env.fake_direct(INV, {"domain": x, "format": "xml"})
            self.assertEqual(body, direct)  # passed through unchanged
            # The store's writer works in order: once the sentinel is in, anything asked
            # before it would be too.
            env.ask(INV, {"domain": sentinel})
            db_wait_for(env.db, "SELECT count(*) FROM domains WHERE domain = ?", (sentinel,), 1)
            db_wait_for(env.db, "SELECT count(*) FROM domains WHERE domain = ?", (a,), 1)
            self.assertEqual(db_query(env.db, "SELECT count(*) FROM domains WHERE domain = ?", (x,)), [(0,)])
            self.assertEqual(db_query(env.db, "SELECT count(*) FROM responses WHERE key LIKE ?",
                                   ("%" + x + "%",)), [(0,)])
            self.assertEqual(db_query(env.db, "SELECT count(*) FROM responses"), [(2,)])

    def test_error_shapes_the_sdk_maps_to_exceptions(self):
        with Env(gate_args=["--user-limit-investigate", "month=1"]) as env:
            bob, bob_key = env.add_user("bob")  # his month goes on the 400 below
            env.stop_gate()
            env.start_gate()
            one, two = env.universe(2, offset=7400)

            def check(status, message, s, h, b, what):
                self.assertEqual(s, status, (what, b[:300]))
                self.assertEqual(h["content-type"], JSON_CTYPE, what)
                self.assertEqual(json.loads(b), envelope(status, message), what)

            # 400 (BadRequestException): no search parameter, the vendor's answer passed on,
            # and irisgate's own for a form it cannot decode.
            s, h, b = env.ask(INV, {"app_name": "python_wrapper", "api_username": bob,
                                    "api_key": bob_key})
            check(400, MALFORMED, s, h, b, "no search parameter")
            s, h, b = env.ask(INV, {}, auth=False, body=b"api_username=%s&api_key=%s&domain=%%zz" % (
                env.user.encode(), env.key.encode()), headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            check(400, MALFORMED, s, h, b, "bad percent-encoding")
            # 403 (NotAuthorizedException): bad credentials, and a product irisgate does not
            # relay (the vendor's words for an account without it).
            s, h, b = env.ask(INV, {"domain": one, "api_key": "wrong"})
            check(403, BAD_CREDENTIALS, s, h, b, "wrong key")
            p = hmac_params(env.user, "not-the-key", INV)
            s, h, b = env.ask(INV, dict(p, domain=one), auth=False)
            check(403, BAD_CREDENTIALS, s, h, b, "bad signature")
            for path in ("/v1/iris", "/v1/iris-detect/monitors/", "/v1/risk/evidence/"):
                s, h, b = env.ask(path, {"domain": one}, method="GET")
                check(403, NOT_AUTHORIZED, s, h, b, path)
                s, h, b = env.ask(path, {"domain": one, "api_key": "wrong"}, method="GET")
                check(403, BAD_CREDENTIALS, s, h, b, path + " with a wrong key")
            # 404 (NotFoundException): a path that is no product.
            for path in ("/nothing", "/v1/nope/", "/v2/iris-investigate/"):
                s, h, b = env.ask(path, {"domain": one})
                self.assertEqual(s, 404, path)
                self.assertEqual(h["content-type"], JSON_CTYPE, path)
                self.assertEqual(json.loads(b)["error"]["code"], 404, path)
                self.assertEqual(json.loads(b)["resources"], SUPPORT, path)
            self.assertEqual(env.upstream_queries(), 1)  # only the 400 went upstream
            # 503 (ServiceUnavailableException): the user's month of Investigate is spent.
            s, h, _ = env.ask(INV, {"domain": one})
            self.assertEqual((s, h["x-cache"]), (200, "MISS"))
            s, h, b = env.ask(INV, {"domain": two})
            self.assertEqual(s, 503, b)
            self.assertEqual(h["content-type"], JSON_CTYPE)
            err = json.loads(b)
            self.assertEqual((err["error"]["code"], err["resources"]), (503, SUPPORT))
            self.assertEqual(sorted(err), ["error", "resources"])
            self.assertEqual(env.upstream_queries(), 2)
            # 414 (RequestUriTooLongException): a GET whose URL is over 8 KB.
            long_list = ",".join("d%05d.example.com" % i for i in range(600))
            r = Raw(env)
            try:
                r.send(b"GET " + INV.encode() + b"?" + form([("domain", long_list)]) +
                       b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                s, _, h, b = r.response()
            finally:
                r.close()
            self.assertEqual(s, 414)
            self.assertEqual(h["content-type"], JSON_CTYPE)
            self.assertEqual(json.loads(b)["error"]["code"], 414)
            self.assertEqual(json.loads(b)["resources"], SUPPORT)
            # 413: a body over 1 MB, refused from its Content-Length before a byte is sent,
            # and a chunked one refused as it grows.
            r = Raw(env)
            try:
                r.send(b"POST " + INV.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\n"
                       b"Content-Length: 2000000\r\nExpect: 100-continue\r\n\r\n")
                s, _, h, b = r.response()
            finally:
                r.close()
            self.assertEqual(s, 413)
            self.assertEqual(h["content-type"], JSON_CTYPE)
            self.assertEqual(json.loads(b)["error"]["code"], 413)
            r = Raw(env)
            try:
                r.send(b"POST " + INV.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n")
                chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
                try:
                    for _ in range(20):
                        r.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused mid-upload: the answer is already there to read
                s, _, h, b = r.response()
            finally:
                r.close()
            self.assertEqual(s, 413)
            self.assertEqual(json.loads(b)["error"]["code"], 413)
            self.assertEqual(env.upstream_queries(), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
