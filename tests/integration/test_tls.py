"""test_tls.py — irisgate's HTTPS listener seen by real clients: curl --cacert and Python's
ssl/http.client trusting the certificate `irisgate cert --self-signed` wrote; ALPN http/1.1,
TLS 1.2 and 1.3, session resumption, TLS 1.1 refused; a client sending garbage, one speaking
plain HTTP to the TLS port and one dropping mid-handshake each end only their own connection
while a good keep-alive client goes on being answered; a bad certificate or key stops the
start with a clear message; and the warning for plain HTTP beyond loopback."""
import http.client
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Env, IRISGATE, TMP_ROOT, run  # noqa: E402

INV = "/v1/iris-investigate/"
CERTS = None  # the directory of setUpModule's certificates


def setUpModule():
    global CERTS
    os.makedirs(TMP_ROOT, exist_ok=True)
    CERTS = tempfile.mkdtemp(prefix="ig-tls-", dir=TMP_ROOT)
    run([IRISGATE, "cert", "--self-signed", "--out", os.path.join(CERTS, "a")])
    run([IRISGATE, "cert", "--self-signed", "--out", os.path.join(CERTS, "b"),
         "--host", "other.example"])


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert(name="a"):
    return os.path.join(CERTS, name, "cert.pem")


def key(name="a"):
    return os.path.join(CERTS, name, "key.pem")


def tls_args(listen="127.0.0.1:0"):
    return ["--tls-cert", cert(), "--tls-key", key(), "--tls-listen", listen]


def tls_port(env):
    """The HTTPS port: the line after the plain one harness.Proc read."""
    line = env.gate.p.stdout.readline().decode()
    assert line.startswith("irisgate listening on https://127.0.0.1:"), line
    return int(line.strip().rsplit(":", 1)[1])


def client_ctx(**kw):
    ctx = ssl.create_default_context(cafile=cert())
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def creds(env, **extra):
    p = {"api_username": env.user, "api_key": env.key}
    p.update(extra)
    return urllib.parse.urlencode(p)


def raw_request(env, path="/v1/account", params=None, close=False):
    qs = creds(env, **(params or {}))
    return ("GET %s?%s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" %
            (path, qs, "Connection: close\r\n" if close else "")).encode()


def read_response(sock_file):
    """One HTTP/1.1 answer from a file object: (status, headers dict, body)."""
    status_line = sock_file.readline()
    if not status_line:
        raise EOFError("connection closed before an answer")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = sock_file.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = sock_file.read(int(headers.get("content-length", "0")))
    return status, headers, body


class GoodClient:
    """A keep-alive HTTPS client asking on one connection in a thread until told to stop,
    counting answers and failures, to show bad clients do not disturb it."""

    def __init__(self, env, port):
        self.env, self.port = env, port
        self.ok = 0
        self.failures = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
                with client_ctx().wrap_socket(raw, server_hostname="localhost") as s:
                    f = s.makefile("rb")
                    while not self.stop.is_set():
                        s.sendall(raw_request(self.env, INV, {"domain": "domaintools.com"}))
                        status, _, body = read_response(f)
                        if status != 200 or not body.startswith(b"{"):
                            self.failures.append((status, body[:200]))
                        self.ok += 1
                        time.sleep(0.005)
        except Exception as e:  # noqa: BLE001 — reported by finish()
            self.failures.append(repr(e))

    def wait_for(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while self.ok < n and time.monotonic() < deadline and not self.failures:
            time.sleep(0.01)
        return self.ok >= n

    def finish(self):
        self.stop.set()
        self.t.join(15)
        return self.failures


class TlsTest(unittest.TestCase):

    def test_cert_command_writes_key_0600_and_cert_for_the_hosts(self):
        d = os.path.join(CERTS, "cmd")
        out = run([IRISGATE, "cert", "--self-signed", "--out", d, "--host", "gate.example",
                   "--host", "10.1.2.3", "--host", "::1"])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, "key.pem")).st_mode), 0o600)
        with open(os.path.join(d, "key.pem")) as f:
            self.assertIn("-----BEGIN PRIVATE KEY-----", f.read())
        info = ssl._ssl._test_decode_cert(os.path.join(d, "cert.pem"))
        self.assertEqual(info["subjectAltName"],
                         (("DNS", "gate.example"), ("IP Address", "10.1.2.3"),
                          ("IP Address", "0:0:0:0:0:0:0:1")))
        self.assertEqual(dict(x[0] for x in info["subject"])["commonName"], "gate.example")
        days = (ssl.cert_time_to_seconds(info["notAfter"]) - time.time()) / 86400
        self.assertTrue(360 < days < 366, days)
        # How to trust it: curl, Python and the SDK.
        self.assertIn("curl --cacert " + os.path.join(d, "cert.pem"), out)
        self.assertIn('cafile="%s"' % os.path.join(d, "cert.pem"), out)
        self.assertIn('verify_ssl="%s"' % os.path.join(d, "cert.pem"), out)
        # Never overwrites without --force; with it, a new key.
        p = subprocess.run([IRISGATE, "cert", "--self-signed", "--out", d],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists", p.stderr)
        with open(os.path.join(d, "key.pem")) as f:
            old = f.read()
        run([IRISGATE, "cert", "--self-signed", "--out", d, "--force"])
        with open(os.path.join(d, "key.pem")) as f:
            self.assertNotEqual(f.read(), old)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, "key.pem")).st_mode), 0o600)
        info = ssl._ssl._test_decode_cert(os.path.join(d, "cert.pem"))
        self.assertEqual(info["subjectAltName"], (("DNS", "localhost"), ("IP Address", "127.0.0.1")))
        p = subprocess.run([IRISGATE, "cert", "--out", d], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)

    def test_curl_get_post_keepalive_http10(self):
        with Env(gate_args=tls_args()) as env:
            port = tls_port(env)
            base = "https://localhost:%d" % port
            url = base + INV + "?" + creds(env, domain="domaintools.com")
            # The reference: the same question over plain HTTP.
            s0, _, plain_body = env.ask(INV, {"domain": "domaintools.com"}, method="GET")
            self.assertEqual(s0, 200)
            d = tempfile.mkdtemp(dir=env.dir)
            # GET twice on one connection (keep-alive: one connect), checked against our CA.
            p = subprocess.run(["curl", "-sS", "--cacert", cert(), "-o", d + "/1", url,
                                "-o", d + "/2", url, "-w", "%{http_code} %{num_connects} "
                                "%{http_version} %{scheme}\\n"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split("\n")[:2], ["200 1 1.1 HTTPS", "200 0 1.1 HTTPS"])
            for n in ("1", "2"):
                with open(d + "/" + n, "rb") as f:
                    self.assertEqual(f.read(), plain_body)
            # POST with a form body.
            p = subprocess.run(["curl", "-sS", "--cacert", cert(), "-o", d + "/3",
                                "-d", creds(env, domain="domaintools.com"), base + INV,
                                "-w", "%{http_code}"], capture_output=True, text=True, timeout=30)
            self.assertEqual((p.returncode, p.stdout), (0, "200"), p.stderr)
            with open(d + "/3", "rb") as f:
                self.assertEqual(f.read(), plain_body)
            # HTTP/1.0: answered, then closed.
            p = subprocess.run(["curl", "-sS", "--http1.0", "--cacert", cert(), "-D", "-",
                                "-o", d + "/4", url], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("200", p.stdout.split("\r\n")[0])
            self.assertIn("connection: close", p.stdout.lower())
            # Without our CA, curl refuses the certificate.
            p = subprocess.run(["curl", "-sS", "--capath", "/nonexistent", "--cacert",
                                cert("b"), url], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)

    def test_python_http_client_alpn_versions_and_resumption(self):
        with Env(gate_args=tls_args()) as env:
            port = tls_port(env)
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx = client_ctx(minimum_version=version, maximum_version=version)
                ctx.set_alpn_protocols(["h2", "http/1.1"])
                conn = http.client.HTTPSConnection("localhost", port, context=ctx,
                                                           timeout=30)
                for _ in range(3):  # keep-alive
                    s, h, body = harness.request(conn, "GET", INV,
                                                 {"api_username": env.user, "api_key": env.key,
                                                  "domain": "domaintools.com"}, close=False)
                    self.assertEqual(s, 200)
                s, h, body = harness.request(conn, "POST", INV,
                                             {"api_username": env.user, "api_key": env.key,
                                              "domain": "domaintools.com"}, close=False)
                self.assertEqual((s, h["x-cache"]), (200, "HIT"))
                self.assertEqual(conn.sock.selected_alpn_protocol(), "http/1.1")
                self.assertEqual(conn.sock.version(),
                                 "TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
                conn.close()

                # Resumption: a second connection offering the first one's session.
                ctx = client_ctx(minimum_version=version, maximum_version=version)
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost") as s1:
                        s1.sendall(raw_request(env))
                        self.assertEqual(read_response(s1.makefile("rb"))[0], 200)
                        self.assertFalse(s1.session_reused)
                        session = s1.session
                self.assertIsNotNone(session)
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost",
                                         session=session) as s2:
                        s2.sendall(raw_request(env))
                        self.assertEqual(read_response(s2.makefile("rb"))[0], 200)
                        self.assertTrue(s2.session_reused, version)

    def test_tls_1_1_refused(self):
        with Env(gate_args=tls_args()) as env:
            port = tls_port(env)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with self.assertRaises(ssl.SSLError) as cm:
                    ctx.wrap_socket(raw, server_hostname="localhost")
            # Refused by the server (its alert), not by the client's own policy.
            self.assertIn("PROTOCOL_VERSION", str(cm.exception).upper())
            self.assertEqual(env.ask("/v1/account", {}, method="GET")[0], 200)

    def test_bad_clients_do_not_disturb_a_good_one(self):
        with Env(gate_args=tls_args()) as env:
            port = tls_port(env)
            good = GoodClient(env, port)
            self.assertTrue(good.wait_for(3), good.failures)

            # 1. Garbage instead of a ClientHello: an alert or a close, never a hang.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(os.urandom(64) + b"\x16\x03\x01\x00\x05hello" + os.urandom(300))
                got = s.recv(4096)
                self.assertTrue(got == b"" or got[0] == 0x15, got[:16])  # 0x15: TLS alert
                s.settimeout(5)
                while s.recv(4096):
                    pass
            n = good.ok
            self.assertTrue(good.wait_for(n + 3), good.failures)

            # 2. Plain HTTP to the TLS port: a 400 that says so, then the close.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(raw_request(env))
                f = s.makefile("rb")
                status, headers, body = read_response(f)
                self.assertEqual(status, 400)
                self.assertIn(b"https", body)
                self.assertEqual(headers["connection"], "close")
                self.assertEqual(f.read(), b"")
            n = good.ok
            self.assertTrue(good.wait_for(n + 3), good.failures)

            # 3. Half a ClientHello, then gone; and half a ClientHello left hanging.
            def half_hello():
                incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
                obj = client_ctx().wrap_bio(incoming, outgoing, server_hostname="localhost")
                with self.assertRaises(ssl.SSLWantReadError):
                    obj.do_handshake()
                hello = outgoing.read()
                return hello[:len(hello) // 2]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(half_hello())
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(half_hello())
            # 4. A full handshake then an abrupt reset mid-request.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                t = client_ctx().wrap_socket(raw, server_hostname="localhost")
                t.sendall(b"GET /v1/account?api_user")
                t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            n = good.ok
            self.assertTrue(good.wait_for(n + 5), good.failures)
            # A new client is still welcome while the half hello hangs.
            ctx = client_ctx()
            conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
            st, _, _ = harness.request(conn, "GET", "/v1/account",
                                       {"api_username": env.user, "api_key": env.key})
            self.assertEqual(st, 200)
            s.close()
            self.assertEqual(good.finish(), [])
            self.assertEqual(env.gate.p.poll(), None)  # alive; stop() then checks a clean exit

    def test_bad_certificate_or_key_stops_the_start(self):
        d = tempfile.mkdtemp(dir=CERTS)
        not_pem = os.path.join(d, "not.pem")
        with open(not_pem, "w") as f:
            f.write("this is not a certificate\n")
        cases = [
            ([cert(), os.path.join(d, "missing.pem")], "cannot open"),
            ([os.path.join(d, "missing.pem"), key()], "cannot open"),
            ([not_pem, key()], "not a PEM certificate"),
            ([cert(), not_pem], "not a PEM private key"),
            ([key(), key()], "not a PEM certificate"),
            ([cert("a"), key("b")], "does not match"),
        ]
        for (c, k), want in cases:
            p = subprocess.run([IRISGATE, "serve", "--listen", "127.0.0.1:0", "--tls-cert", c,
                                "--tls-key", k, "--secrets", os.path.join(d, "none.secrets"),
                                "--db", os.path.join(d, "x.db")],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 1, (c, k, p.stderr))
            self.assertIn(want, p.stderr, (c, k))
            self.assertEqual(p.stdout, "")
            self.assertFalse(harness._sanitizer_report(p.stderr), p.stderr)
        # Half a pair, or an HTTPS address without one: a usage error.
        for args in (["--tls-cert", cert()], ["--tls-key", key()],
                     ["--tls-listen", "127.0.0.1:0"]):
            p = subprocess.run([IRISGATE, "serve", "--listen", "127.0.0.1:0"] + args,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("tls_", p.stderr)

    def test_tls_without_tls_listen_makes_listen_https(self):
        with Env(gate_args=["--tls-cert", cert(), "--tls-key", key()]) as env:
            # harness read the port from the first line; it is the HTTPS one.
            conn = http.client.HTTPSConnection("localhost", env.gate.port,
                                                       context=client_ctx(), timeout=10)
            st, _, _ = harness.request(conn, "GET", "/v1/account",
                                       {"api_username": env.user, "api_key": env.key})
            self.assertEqual(st, 200)
            self.assertNotIn("warning", env.gate.stderr())

    def test_warning_for_plain_http_beyond_loopback(self):
        with Env(gate_args=["--listen", "0.0.0.0:0"] + tls_args()) as env:
            tls_port(env)
            gate = env.gate
            env.stop_gate()
            with open(env.log) as f:
                log = f.read()
        self.assertIn("irisgate: warning: plain HTTP on 0.0.0.0:", gate.stderr())
        self.assertIn("plain HTTP on 0.0.0.0:", log)

    def test_no_warning_on_loopback(self):
        with Env(gate_args=tls_args()) as env:
            tls_port(env)
            env.stop_gate()
            with open(env.log) as f:
                self.assertNotIn("plain HTTP on", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
