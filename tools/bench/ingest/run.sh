#!/usr/bin/env bash
# tools/bench/ingest/run.sh — how fast the intel store normalizes Iris Investigate results,
# and how many bytes of database each domain costs. Run by hand, never by a test
# (docs/benchmarks.md says how to read it).
#
# fakeiris (synthetic world only) answers pivots of page_size 500; the pages are saved as
# files, then `irisgate import` ingests them (the store's writer thread and ingest code, as
# answers through the proxy: each answer one writer job, group-committed) and is timed:
# wall clock, and CPU time of the process (user + system), which runs the work on one core.
# Three runs per round, on one database:
#   first     the pages into a fresh database, each result at its data_updated_timestamp;
#   same      the same pages seen a week later, unchanged (--observed-at);
#   changed   a re-fetch a week later where the world moved: every result's
#             data_updated_timestamp a week on, every VC count of a third of the results
#             different, 5% of the domains on a new IP, 3% with another risk score, 2% with
#             a new tag (pages rewritten by this script, deterministically).
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

    # The same pages a week later, after the world moved a little.
    import datetime, random
    rng = random.Random(20261203)
    changed_files, changes = [], {"ip": 0, "risk": 0, "tag": 0, "counts": 0}
    def later(stamp):
        t = datetime.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(days=7)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + stamp[19:]
    def recount(x):
        if isinstance(x, dict):
            if isinstance(x.get("count"), int) and x["count"] > 0:
                x["count"] += rng.choice((-1, 1)) * max(1, x["count"] // 50)
            for v in x.values():
                recount(v)
        elif isinstance(x, list):
            for v in x:
                recount(v)
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            doc = json.loads(f.read())
        for j, r in enumerate(doc["response"]["results"]):
            r["data_updated_timestamp"] = later(r["data_updated_timestamp"])
            if rng.random() < 1 / 3:
                recount(r)
                changes["counts"] += 1
            if rng.random() < 0.05 and r.get("ip"):
                r["ip"][0]["address"] = {"value": "10.%d.%d.%d" % (i, j // 256, j % 256), "count": 1}
                changes["ip"] += 1
            if rng.random() < 0.03 and isinstance(r.get("domain_risk"), dict):
                r["domain_risk"]["risk_score"] = (r["domain_risk"]["risk_score"] + 17) % 101
                changes["risk"] += 1
            if rng.random() < 0.02:
                r["tags"] = (r.get("tags") or []) + [{"label": "bench-watch", "scope": "group",
                                                     "tagged_at": "2025-10-01T00:00:00Z"}]
                changes["tag"] += 1
        out = os.path.join(tmp, "changed-%05d.json" % i)
        with open(out, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        changed_files.append(out)
    note("changed pages: %d results with other counts, %d moved IP, %d other risk, %d new tag" %
         (changes["counts"], changes["ip"], changes["risk"], changes["tag"]))

    def timed_import(db, pages=None, extra=()):
        t0 = time.monotonic()
        p = subprocess.Popen([IRISGATE, "import", "--db", db] + list(extra) + (pages or files),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        err = p.stderr.read().decode()
        p.stderr.close()
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit("bench-ingest: import failed: " + err[-2000:])
        return wall, ru.ru_utime + ru.ru_stime

    def measure(db):
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ndom = con.execute("SELECT count(*) FROM domains").fetchone()[0]
        try:
            per_table = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        except sqlite3.OperationalError:
            per_table = []
        con.close()
        return (ndom, os.path.getsize(db), per_table)

    first, same, moved, sizes, sizes_after = [], [], [], None, None
    for rnd in range(ROUNDS):
        db = os.path.join(tmp, "round%d.db" % rnd)
        for label, rows, pages, extra in (("first ingest", first, files, ()),
                                          ("same a week later", same, files, ("--observed-at", "2025-10-08")),
                                          ("changed a week later", moved, changed_files, ())):
            w, cpu = timed_import(db, pages, extra)
            rows.append((saved / w, saved / cpu, w, cpu))
            note("round %d: %-20s %5.0f results/s (wall %.2f s, cpu %.2f s)" % (rnd + 1, label, saved / w, w, cpu))
            if rows is first and sizes is None:
                sizes = measure(db)
        if sizes_after is None:
            sizes_after = measure(db)
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
    print("- `irisgate import` (the writer thread's group commits, as through the proxy); medians of %d rounds" % ROUNDS)
    print("- changed pages: %d results with other counts, %d moved IP, %d other risk score, %d new tag" %
          (changes["counts"], changes["ip"], changes["risk"], changes["tag"]))
    print()
    print("| run | results/s (wall) | results/s per CPU-second | wall | CPU (user+sys) |")
    print("|---|---:|---:|---:|---:|")
    for label, rows in (("first ingest (fresh database)", first), ("re-fetch a week later, unchanged", same),
                        ("re-fetch a week later, changed", moved)):
        print("| %s | %s | %s | %.2f s | %.2f s |" % (label, format(round(med(rows, 0)), ","), format(round(med(rows, 1)), ","),
                                                     med(rows, 2), med(rows, 3)))
    print()
    print("Database after the first ingest: %s bytes for %d domains = **%s bytes per domain** (the JSON was %s bytes per result)." %
          (format(dbsize, ","), ndom, format(round(dbsize / ndom), ","), format(round(raw_bytes / saved), ",")))
    print("After the two re-fetches (three observations per domain): %s bytes = %s bytes per domain." %
          (format(sizes_after[1], ","), format(round(sizes_after[1] / ndom), ",")))
    if per_table:
        after = dict(sizes_after[2])
        print()
        print("| table or index | bytes per domain, first ingest | after the re-fetches |")
        print("|---|---:|---:|")
        for name, b in per_table[:16]:
            print("| %s | %s | %s |" % (name, format(round(b / ndom), ","), format(round(after.get(name, 0) / ndom), ",")))
finally:
    fake.send_signal(signal.SIGTERM)
    try:
        fake.wait(10)
    except subprocess.TimeoutExpired:
        fake.kill()
    shutil.rmtree(tmp, ignore_errors=True)
PY
