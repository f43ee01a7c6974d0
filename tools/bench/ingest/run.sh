#!/usr/bin/env bash
# tools/bench/ingest/run.sh — how fast the intel store normalizes Iris Investigate results,
# and how many bytes of database each domain costs. Run by hand, never by a test
# (docs/benchmarks.md says how to read it).
#
# fakeiris (synthetic world only) answers pivots of page_size 500; the pages are saved as
# files, then `irisgate import` ingests them into a fresh database (one transaction per
# answer, the same code path as answers coming through the proxy) and is timed: wall
# clock, and CPU time of the process (user + system) to show it runs on one core. A second
# import of the same pages measures a re-fetch (current rows replaced, history extended).
#
# Environment (all optional):
#   BUILD_DIR  where irisgate and fakeiris are (default build; built there if missing)
#   RESULTS_N  domain results to ingest (default 20000)
#   WORLD      domains in fakeiris' synthetic world (default 200000)
#   ROUNDS     repeat the measurement on fresh databases; medians are reported (default 3)
# Only 127.0.0.1 and a free port are used; fakeiris is stopped and the temporary directory
# removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
export RESULTS_N=${RESULTS_N:-20000} WORLD=${WORLD:-200000} ROUNDS=${ROUNDS:-3}
[[ "$RESULTS_N" =~ ^[0-9]+$ && "$WORLD" =~ ^[0-9]+$ && "$ROUNDS" =~ ^[0-9]+$ ]] ||
    { echo "bench-ingest: RESULTS_N, WORLD and ROUNDS must be numbers" >&2; exit 1; }

if [ ! -x "$BUILD_DIR/irisgate" ] || [ ! -x "$BUILD_DIR/fakeiris" ]; then
    echo "bench-ingest: building irisgate and fakeiris in $BUILD_DIR" >&2
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc 2>/dev/null || echo 2)" --target irisgate fakeiris
fi
command -v sqlite3 >/dev/null || { echo "bench-ingest: sqlite3 not found: run tools/install-deps.sh" >&2; exit 1; }
export IRISGATE="$BUILD_DIR/irisgate" FAKEIRIS="$BUILD_DIR/fakeiris"

exec python3 - <<'PY'
import http.client, json, os, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.parse

N, WORLD, ROUNDS = int(os.environ["RESULTS_N"]), int(os.environ["WORLD"]), max(1, int(os.environ["ROUNDS"]))
IRISGATE, FAKEIRIS = os.environ["IRISGATE"], os.environ["FAKEIRIS"]
PAGE = 500

def note(msg):
    print("bench-ingest: " + msg, file=sys.stderr, flush=True)

tmp = tempfile.mkdtemp(prefix="bench-ingest-")
fake = subprocess.Popen([FAKEIRIS, "--listen", "127.0.0.1:0", "--user", "bench:benchkey", "--fixtures", "none",
                         "--domains", str(WORLD), "--max-results", str(WORLD), "--quiet"],
                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
try:
    line = fake.stdout.readline().decode()
    if "listening on" not in line:
        sys.exit("bench-ingest: fakeiris did not start: %r" % line)
    port = int(line.rsplit(":", 1)[1])

    def ask(params):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        body = urllib.parse.urlencode(dict(params, api_username="bench", api_key="benchkey"))
        c.request("POST", "/v1/iris-investigate/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 200:
            sys.exit("bench-ingest: fakeiris answered %d: %s" % (r.status, data[:200]))
        return data

    # Registrars are shared by many domains: walk the largest few until N results are saved.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/_fake/domains?offset=0&limit=300")
    names = json.loads(c.getresponse().read())
    c.close()
    registrars = {}
    for name in names:
        r = json.loads(ask({"domain": name}))["response"]["results"][0]["registrar"]
        if isinstance(r, dict) and r.get("value"):  # the world also sends bare "" variants
            registrars[r["value"]] = r["count"]
    files, saved, raw_bytes = [], 0, 0
    for value, count in sorted(registrars.items(), key=lambda kv: -kv[1]):
        position = None
        while saved < N:
            p = {"registrar": value, "page_size": str(min(PAGE, N - saved))}
            if position:
                p["position"] = position
            data = ask(p)
            resp = json.loads(data)["response"]
            path = os.path.join(tmp, "page-%05d.json" % len(files))
            with open(path, "wb") as f:
                f.write(data)
            files.append(path)
            saved += len(resp["results"])
            raw_bytes += len(data)
            if not resp["has_more_results"]:
                break
            position = resp["position"]
        if saved >= N:
            break
    note("saved %d results in %d answers (%.1f MB of JSON)" % (saved, len(files), raw_bytes / 1e6))

    def timed_import(db):
        t0 = time.monotonic()
        p = subprocess.Popen([IRISGATE, "import", "--db", db] + files, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        err = p.stderr.read().decode()
        p.stderr.close()
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit("bench-ingest: import failed: " + err[-2000:])
        return wall, ru.ru_utime + ru.ru_stime

    first, again, sizes = [], [], None
    for rnd in range(ROUNDS):
        db = os.path.join(tmp, "round%d.db" % rnd)
        w, cpu = timed_import(db)
        first.append((saved / w, saved / cpu, w, cpu))
        note("round %d: first ingest %.0f results/s (wall %.2f s, cpu %.2f s)" % (rnd + 1, saved / w, w, cpu))
        w, cpu = timed_import(db)
        again.append((saved / w, saved / cpu, w, cpu))
        note("round %d: re-ingest  %.0f results/s (wall %.2f s, cpu %.2f s)" % (rnd + 1, saved / w, w, cpu))
        if sizes is None:
            con = sqlite3.connect(db)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            ndom = con.execute("SELECT count(*) FROM domains").fetchone()[0]
            try:
                per_table = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
            except sqlite3.OperationalError:
                per_table = []
            con.close()
            sizes = (ndom, os.path.getsize(db), per_table)
        for f in (db, db + "-wal", db + "-shm"):
            if os.path.exists(f):
                os.unlink(f)

    def med(rows, i):
        return statistics.median(r[i] for r in rows)

    ndom, dbsize, per_table = sizes
    print("## Ingest: synthetic Investigate results into the intel tables (%s)" % time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()))
    print()
    print("- %d results (%d distinct domains) in %d answers of up to %d, %.1f MB of JSON; fakeiris world %d domains" %
          (saved, ndom, len(files), PAGE, raw_bytes / 1e6, WORLD))
    print("- `irisgate import` into a fresh database, one transaction per answer; medians of %d rounds" % ROUNDS)
    print()
    print("| run | results/s (wall) | results/s per CPU-second | wall | CPU (user+sys) |")
    print("|---|---:|---:|---:|---:|")
    for label, rows in (("first ingest", first), ("re-ingest (same pages again)", again)):
        print("| %s | %s | %s | %.2f s | %.2f s |" % (label, format(round(med(rows, 0)), ","), format(round(med(rows, 1)), ","),
                                                     med(rows, 2), med(rows, 3)))
    print()
    print("Database after the first ingest: %s bytes for %d domains = **%s bytes per domain** (the JSON was %s bytes per result)." %
          (format(dbsize, ","), ndom, format(round(dbsize / ndom), ","), format(round(raw_bytes / saved), ",")))
    if per_table:
        print()
        print("| table or index | bytes | bytes per domain |")
        print("|---|---:|---:|")
        for name, b in per_table[:14]:
            print("| %s | %s | %s |" % (name, format(b, ","), format(round(b / ndom), ",")))
finally:
    fake.send_signal(signal.SIGTERM)
    try:
        fake.wait(10)
    except subprocess.TimeoutExpired:
        fake.kill()
    shutil.rmtree(tmp, ignore_errors=True)
PY
