"""harness.py — starts fakeiris and irisgate as real processes on free loopback ports for
the integration tests, talks to them, and always cleans up (processes killed, files
removed), including after a failure. Python standard library only.

Environment (set by CMake/ctest): FAKEIRIS_BIN, IRISGATE_BIN, IG_SHARED_DIR, IG_TEST_TMP.
"""
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse

FAKEIRIS = os.environ.get("FAKEIRIS_BIN", "build/fakeiris")
IRISGATE = os.environ.get("IRISGATE_BIN", "build/irisgate")
SHARED = os.environ.get("IG_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
TMP_ROOT = os.environ.get("IG_TEST_TMP", tempfile.gettempdir())
START_TIMEOUT = 30.0

VENDOR_USER = "vendor_team"
VENDOR_KEY = "VENDOR-SECRET-" + os.urandom(8).hex()


def _sanitizer_report(text):
    return any(m in text for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer"))


class Proc:
    """A child process whose first stdout line announces 'listening on ...:PORT'."""

    def __init__(self, argv, name, env=None, log_path=None):
        self.name = name
        self.argv = argv
        self.stderr_path = log_path or os.path.join(TMP_ROOT, "%s-%d-%d.stderr" % (name, os.getpid(), time.monotonic_ns()))
        self.stderr_f = open(self.stderr_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr_f,
                                  stdin=subprocess.DEVNULL, env=full_env)
        self.port = self._read_port()

    def _read_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            if b"listening on" in line:
                return int(line.strip().rsplit(b":", 1)[1].rstrip(b"/"))
        self.kill()
        raise RuntimeError("%s did not start: %r\n%s" % (self.name, line, self.stderr()))

    def stderr(self):
        if not self.stderr_f.closed:
            self.stderr_f.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=20.0):
        """SIGTERM, wait, and fail loudly on a sanitizer report or a bad exit."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("%s did not stop on SIGTERM" % self.name)
        self.p.stdout.close()
        self.stderr_f.close()
        err = self.stderr()
        if _sanitizer_report(err):
            raise AssertionError("%s sanitizer report:\n%s" % (self.name, err[-6000:]))
        if self.p.returncode != 0:
            raise AssertionError("%s exited %d:\n%s" % (self.name, self.p.returncode, err[-3000:]))

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        try:
            self.p.stdout.close()
        except Exception:
            pass
        self.stderr_f.close()


class Env:
    """One test's world: a scratch directory, a fakeiris, an irisgate, a proxy user."""

    def __init__(self, fake_args=(), gate_args=(), fixtures=True):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="ig-", dir=TMP_ROOT)
        self.db = os.path.join(self.dir, "intel.db")
        self.secrets = os.path.join(self.dir, "irisgate.secrets")
        self.log = os.path.join(self.dir, "irisgate.log")
        self.procs = []
        self.fake = None
        self.gate = None
        self.fake_args = list(fake_args)
        self.gate_args = list(gate_args)
        self.fixtures = fixtures

    def __enter__(self):
        try:
            self.start_fake()
            self.user, self.key = self.add_user("alice")
            run([IRISGATE, "upstream", "set", VENDOR_USER, "--secrets", self.secrets],
                stdin=VENDOR_KEY + "\n")
            self.start_gate()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        errors = []
        for p in reversed(self.procs):
            try:
                p.stop() if exc[0] is None else p.kill()
            except AssertionError as e:
                errors.append(str(e))
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)
        if errors and exc[0] is None:
            raise AssertionError("\n".join(errors))
        return False

    def start_fake(self):
        argv = [FAKEIRIS, "--listen", "127.0.0.1:0", "--user", "%s:%s" % (VENDOR_USER, VENDOR_KEY),
                "--seed", "7", "--domains", "20000"]
        if not self.fixtures:
            argv += ["--fixtures", "none"]
        argv += self.fake_args
        self.fake = Proc(argv, "fakeiris")
        self.procs.append(self.fake)

    def start_gate(self, extra=()):
        argv = [IRISGATE, "serve", "--listen", "127.0.0.1:0", "--db", self.db,
                "--secrets", self.secrets, "--log", self.log,
                "--upstream", "http://127.0.0.1:%d" % self.fake.port] + self.gate_args + list(extra)
        before = self.upstream_queries("account") if self.fake and self.fake.p.poll() is None else None
        self.gate = Proc(argv, "irisgate")
        self.procs.append(self.gate)
        if before is not None:
            # irisgate asks the vendor's /v1/account for its limits as it starts: wait for
            # that, so a test's injected failure is not spent on it.
            deadline = time.monotonic() + 10
            while self.upstream_queries("account") == before and time.monotonic() < deadline:
                time.sleep(0.02)
        return self.gate

    def stop_gate(self):
        self.gate.stop()
        self.procs.remove(self.gate)
        self.gate = None

    def add_user(self, name):
        out = run([IRISGATE, "user", "add", name, "--secrets", self.secrets])
        lines = out.strip().splitlines()
        assert len(lines) == 2, out
        assert lines[0] == "api_username=" + name, out
        assert lines[1].startswith("api_key="), out
        return name, lines[1][len("api_key="):]

    # -- talking to them --------------------------------------------------------------

    def gate_conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.gate.port, timeout=30)

    def fake_conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=30)

    def ask(self, path, params=None, method="POST", headers=None, auth=True, conn=None, body=None):
        """One request to irisgate; returns (status, headers dict (lower-case), body bytes)."""
        params = dict(params or {})
        if auth:
            params.setdefault("api_username", self.user)
            params.setdefault("api_key", self.key)
        return request(conn or self.gate_conn(), method, path, params, headers, body, close=conn is None)

    def fake_stats(self):
        c = self.fake_conn()
        c.request("GET", "/_fake/stats")
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
        return data

    def upstream_queries(self, product=None):
        """Queries fakeiris answered for product, or for Investigate and Enrich together (the
        account queries irisgate makes to learn its limits are its own business)."""
        q = self.fake_stats()["queries"]
        return q.get(product, 0) if product else q.get("iris-investigate", 0) + q.get("iris-enrich", 0)

    def fake_control(self, path):
        c = self.fake_conn()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 200, (path, r.status)

    def universe(self, n, offset=0):
        """n names of fakeiris' synthetic universe from offset (each a full profile, and what
        pivots on their values return)."""
        c = self.fake_conn()
        c.request("GET", "/_fake/domains?offset=%d&limit=%d" % (offset, n))
        names = json.loads(c.getresponse().read())
        c.close()
        return names

    def fake_direct(self, path, params, method="POST"):
        """Asks fakeiris itself with the vendor credential: the reference answer."""
        params = dict(params)
        params["api_username"] = VENDOR_USER
        params["api_key"] = VENDOR_KEY
        return request(self.fake_conn(), method, path, params, None, None, close=True)


def request(conn, method, path, params, headers=None, body=None, close=True):
    headers = dict(headers or {})
    qs = urllib.parse.urlencode(params) if params else ""
    if method == "GET" or body is not None:
        url = path + ("?" + qs if qs else "")
        payload = body
    else:
        url = path
        payload = qs
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    conn.request(method, url, body=payload, headers=headers)
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if close:
        conn.close()
    return r.status, hdrs, data


def db_query(db, sql, args=()):
    """Rows of sql on the database, opened read-only as a BI tool would."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def db_wait_for(db, sql, args, want, timeout=15.0):
    """Polls until sql's first value equals want (the writer commits within milliseconds)."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        try:
            got = db_query(db, sql, args)[0][0]
        except (sqlite3.OperationalError, IndexError):
            got = None  # the file or the tables are not there yet
        if got == want:
            return got
        time.sleep(0.05)
    raise AssertionError("waited for %r = %r, last saw %r" % (sql, want, got))


def run(argv, stdin=None, check=True):
    p = subprocess.run(argv, input=stdin.encode() if stdin is not None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (argv, p.returncode, p.stderr.decode()))
    if _sanitizer_report(p.stderr.decode("utf-8", "replace")):
        raise AssertionError("sanitizer report from %s:\n%s" % (argv, p.stderr.decode()))
    return p.stdout.decode()


def hmac_params(user, key, path, alg="sha256", when=None):
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when if when is not None else time.time()))
    sig = hmac.new(key.encode(), (user + ts + path).encode(), getattr(hashlib, alg)).hexdigest()
    return {"api_username": user, "timestamp": ts, "signature": sig}


def fixture_path(name):
    return os.path.join(SHARED, "iris", "responses", name)


def newest_fixtures(kind, request_contains):
    """The bodies of the newest recordings (by commit date; several when they tie) of kind
    whose request carries the given text, read from the index independently of fakeiris."""
    with open(fixture_path("INDEX_python_api.json")) as f:
        index = json.load(f)
    found = [e for e in index if e["kind"] == kind and e["status"] == 200
             and request_contains in urllib.parse.unquote(e["query"] + "&" + e["request_body"])]
    newest = max(e["commit_date"] for e in found)
    bodies = []
    for e in found:
        if e["commit_date"] == newest:
            with open(fixture_path(e["file"].split("/", 1)[1]), "rb") as f:
                bodies.append(f.read())
    return bodies
