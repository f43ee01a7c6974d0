#!/usr/bin/env bash
# tools/bench/sql/run.sh — the SQL module on a store of 1,000,000 synthetic domains: iris_pivot
# and iris_guided_pivots p50 (goal < 1 ms), iris_distribution over 10,000 domains (goal
# < 50 ms), each against the same answer in hand-written indexed SQL (goal: ≤ 1.2×).
# Run by hand (not a test):  tools/bench/sql/run.sh [BUILD_DIR]   (default: build)
# Needs a Release/RelWithDebInfo build (irisgate, irisgate_sql.so), sqlite3, cc, libsqlite3-dev.
# The store is kept in $IG_BENCH_DIR (default /tmp/irisgate-bench-sql) and reused when present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
work="${IG_BENCH_DIR:-/tmp/irisgate-bench-sql}"
db="$work/bench.db"
fixture="$root/../shared/iris/responses/iris-investigate__POST__domain=amazon.com,google.com__200__python_api@e44e2f1.json"
mkdir -p "$work"

# Rebuilt when missing, incomplete, or older than populate.sql.
if [ ! -s "$db" ] || [ "$here/populate.sql" -nt "$db" ] ||
   [ "$(sqlite3 "$db" 'SELECT count(*) FROM domains' 2>/dev/null)" != 1000000 ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    echo "== schema: irisgate import of one fixture (the real migrations)"
    "$build/irisgate" import --db "$db" "$fixture" >/dev/null
    echo "== 1,000,000 synthetic domains (a few minutes)"
    t0=$(date +%s)
    sqlite3 "$db" < "$here/populate.sql" >/dev/null
    echo "   built in $(( $(date +%s) - t0 )) s: $(du -h "$db" | cut -f1)," \
         "$(sqlite3 "$db" 'SELECT count(*) FROM domain_pivots') links," \
         "$(sqlite3 "$db" 'SELECT count(*) FROM pivots') values"
fi

cc -O2 -o "$work/bench" "$here/bench.c" -lsqlite3
# One of the 50 domains of the planted IP: its values are as skewed as anyone's.
guided="bench7.com"
echo "== $(sqlite3 --version | cut -d' ' -f1-2), $(nproc) CPUs, $(uname -m); guided pivots of $guided"
"$work/bench" "$db" "$build/irisgate_sql.so" "$guided"
# The 10,000-domain queries touch ~20,000 scattered pages: more than SQLite's default 2 MB page
# cache holds, so each run reads them again from the OS. Again with the file mapped (what
# irisgate sql sets; one PRAGMA in the sqlite3 shell).
pragma="PRAGMA mmap_size = 1073741824"
echo "== $pragma"
IG_BENCH_PRAGMA="$pragma" "$work/bench" "$db" "$build/irisgate_sql.so" "$guided" 5,6,7
