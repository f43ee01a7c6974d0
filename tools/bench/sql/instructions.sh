#!/usr/bin/env bash
# tools/bench/sql/instructions.sh — the instructions (callgrind's Ir) one run of each query of
# bench.c costs, the function against its plain-SQL twin: a measure a shared, noisy machine
# cannot move, to check the timed ratios of run.sh against. Each side runs alone, R and then
# 2R times, and the difference divided by R cancels loading and preparing.
# Run by hand after run.sh (it reuses its store and its bench binary):
#   tools/bench/sql/instructions.sh [BUILD_DIR] [QUERY-NUMBERS]   (default: build 0,1,2,3,4)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
queries="${2:-0,1,2,3,4}"
work="${IG_BENCH_DIR:-/tmp/irisgate-bench-sql}"
runs=200
ir() { # ir QUERY SIDE RUNS: the program's total instructions
    IG_BENCH_SIDE=$2 IG_BENCH_RUNS=$3 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$work/bench" "$work/bench.db" "$build/irisgate_sql.so" bench7.com "$1" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| query | function Ir/run | plain SQL Ir/run | ratio |"
echo "|---|---:|---:|---:|"
for q in ${queries//,/ }; do
    per=()
    for side in 0 1; do
        a=$(ir "$q" $side $runs)
        b=$(ir "$q" $side $((2 * runs)))
        per+=($(( (b - a) / runs )))
    done
    name=$(grep -o '{{"[^"]*' "$here/bench.c" | sed -n "$((q + 1))p" | cut -c4-)
    echo "| $name | ${per[0]} | ${per[1]} | $(awk "BEGIN { printf \"%.2f×\", ${per[0]} / ${per[1]} }") |"
done
