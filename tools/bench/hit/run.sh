#!/usr/bin/env bash
# tools/bench/hit/run.sh — cache-hit throughput and latency of irisgate against nginx
# proxy_cache, both in front of the same fakeiris, asked the same URL with the same wrk
# settings, alternating per connection count so machine noise hits both. Three modes in one
# run: plain HTTP keep-alive, HTTPS keep-alive, and new HTTPS connections (a full TLS
# handshake per request, `Connection: close`), both servers on the same certificate (an
# ECDSA P-256 one from `irisgate cert`). Run by hand, never by a test (docs/benchmarks.md
# says how to read it).
#
# Environment (all optional):
#   BUILD_DIR   where irisgate and fakeiris are (default build; built there if missing)
#   DURATION    seconds per wrk run (default 10)
#   CONNS       connection counts (default "1 50 200")
#   THREADS     wrk threads (default 2; never more than the connection count)
#   ROUNDS      repeat every measurement; the table shows medians (default 1)
#   DOMAIN      the domain asked (default domaintools.com, a recorded ~5 KB answer)
#   NGINX_AUTO  1: also measure nginx with worker_processes auto, reported apart (default 0)
#   PERF        1: afterwards, profile irisgate and the nginx worker with perf, and count
#               their system calls per answer with strace if installed (default 0)
#   MODES       which of plain, tls, tls-new to measure (default "plain tls tls-new")
#   RESULTS     the markdown results file (default $BUILD_DIR/bench-hit-results.md)
# Only 127.0.0.1 and free ports are used; everything started is stopped on exit, and the
# temporary directory is removed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/tools/bench/hit"
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
DURATION=${DURATION:-10}
CONNS=${CONNS:-"1 50 200"}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
DOMAIN=${DOMAIN:-domaintools.com}
NGINX_AUTO=${NGINX_AUTO:-0}
PERF=${PERF:-0}
MODES=${MODES:-"plain tls tls-new"}
RESULTS=${RESULTS:-$BUILD_DIR/bench-hit-results.md}

NAME=hit
# shellcheck source=../common.sh
. "$ROOT/tools/bench/common.sh"
is_uint "$DURATION" && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 600 ] ||
    die "DURATION must be 1..600 seconds"
is_uint "$THREADS" && [ "$THREADS" -ge 1 ] || die "THREADS must be a positive number"
is_uint "$ROUNDS" && [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || die "ROUNDS must be 1..20"
for c in $CONNS; do
    is_uint "$c" && [ "$c" -ge 1 ] && [ "$c" -le 2000 ] || die "CONNS: '$c' is not 1..2000"
done
[ -n "${CONNS// /}" ] || die "CONNS is empty"
[[ "$DOMAIN" =~ ^[A-Za-z0-9.-]+$ ]] || die "DOMAIN must be a plain domain name"
for m in $MODES; do
    case "$m" in plain | tls | tls-new) ;; *) die "MODES: '$m' is not plain, tls or tls-new" ;; esac
done

for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run tools/install-deps.sh"
done
if [ "$PERF" = 1 ]; then command -v perf >/dev/null || die "PERF=1 needs perf (linux-perf)"; fi

IRISGATE="$BUILD_DIR/irisgate"
FAKEIRIS="$BUILD_DIR/fakeiris"
ensure_built "$BUILD_DIR" RelWithDebInfo irisgate fakeiris
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
case "$BUILD_TYPE" in
    Release | RelWithDebInfo) ;;
    *) note "warning: $BUILD_DIR is a '${BUILD_TYPE:-unknown}' build; numbers will not mean much" ;;
esac

# ---------------------------------------------------------------------------------------
# Secrets: one proxy user (its key is what clients put in the query) and the vendor key.
SECRETS="$TMP/irisgate.secrets"
creds=$("$IRISGATE" user add bench --secrets "$SECRETS") || die "irisgate user add failed"
USER_KEY=$(printf '%s\n' "$creds" | sed -n 's/^api_key=//p')
[ -n "$USER_KEY" ] || die "irisgate user add printed no api_key"
VENDOR_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$VENDOR_KEY" | "$IRISGATE" upstream set benchvendor --secrets "$SECRETS" >/dev/null ||
    die "irisgate upstream set failed"

# fakeiris knows the vendor account (for irisgate) and the proxy user too: nginx forwards the
# client's URL as it is, so the same query must be a valid one upstream.
"$FAKEIRIS" --listen 127.0.0.1:0 --user "benchvendor:$VENDOR_KEY" --user "bench:$USER_KEY" \
    --quiet >"$TMP/fakeiris.out" 2>"$TMP/fakeiris.err" &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
line=$(wait_line "$TMP/fakeiris.out" 'listening on' "$FAKE_PID") ||
    { cat "$TMP/fakeiris.err" >&2; die "fakeiris did not start"; }
FAKE_PORT=${line##*:}

# One certificate for both servers' HTTPS listeners.
"$IRISGATE" cert --self-signed --out "$TMP/tls" --host localhost --host 127.0.0.1 >/dev/null ||
    die "irisgate cert failed"
CERT="$TMP/tls/cert.pem"
KEY="$TMP/tls/key.pem"

"$IRISGATE" serve --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert "$CERT" \
    --tls-key "$KEY" --db "$TMP/irisgate.db" --secrets "$SECRETS" \
    --upstream "http://127.0.0.1:$FAKE_PORT" --log "$TMP/irisgate.log" \
    >"$TMP/irisgate.out" 2>"$TMP/irisgate.err" &
GATE_PID=$!
PIDS+=("$GATE_PID")
line=$(wait_line "$TMP/irisgate.out" 'irisgate listening on http://' "$GATE_PID") ||
    { cat "$TMP/irisgate.err" "$TMP/irisgate.log" >&2 2>/dev/null; die "irisgate did not start"; }
GATE_PORT=${line##*:}
line=$(wait_line "$TMP/irisgate.out" 'irisgate listening on https://' "$GATE_PID") ||
    die "irisgate did not start its HTTPS listener"
GATE_TLS_PORT=${line##*:}

# start_nginx NAME WORKERS: writes the config into $TMP/NAME and starts nginx in the
# foreground of a background job; sets NGINX_PID, NGINX_PORT and NGINX_TLS_PORT.
start_nginx() {
    local port tls_port
    port=$(free_port)
    tls_port=$(free_port)
    nginx_start "$TMP/$1" "$HERE/nginx.conf.in" "http://127.0.0.1:$port/_ready" \
        -e "s|@WORKERS@|$2|g" -e "s|@PORT@|$port|g" -e "s|@TLS_PORT@|$tls_port|g" \
        -e "s|@CERT@|$CERT|g" -e "s|@KEY@|$KEY|g" -e "s|@UPSTREAM@|127.0.0.1:$FAKE_PORT|g"
    NGINX_PORT=$port
    NGINX_TLS_PORT=$tls_port
}

start_nginx nginx 1
NGX1_PID=$NGINX_PID
NGX1_PORT=$NGINX_PORT
NGX1_TLS_PORT=$NGINX_TLS_PORT
SERVERS=(irisgate nginx)
declare -A PORT_OF=([irisgate]=$GATE_PORT [nginx]=$NGX1_PORT)
declare -A TLS_PORT_OF=([irisgate]=$GATE_TLS_PORT [nginx]=$NGX1_TLS_PORT)
declare -A PID_OF=([irisgate]=$GATE_PID [nginx]=$NGX1_PID)
if [ "$NGINX_AUTO" = 1 ]; then
    start_nginx nginx-auto auto
    SERVERS+=(nginx-auto)
    PORT_OF[nginx-auto]=$NGINX_PORT
    TLS_PORT_OF[nginx-auto]=$NGINX_TLS_PORT
    PID_OF[nginx-auto]=$NGINX_PID
fi

PATHQ="/v1/iris-investigate/?domain=$DOMAIN&api_username=bench&api_key=$USER_KEY"
# url_of SERVER [MODE]: plain HTTP, or HTTPS for the tls modes.
url_of() {
    case "${2:-plain}" in
        plain) printf 'http://127.0.0.1:%s%s' "${PORT_OF[$1]}" "$PATHQ" ;;
        *) printf 'https://127.0.0.1:%s%s' "${TLS_PORT_OF[$1]}" "$PATHQ" ;;
    esac
}

# ---------------------------------------------------------------------------------------
# Warm and verify: each server's first answer fills its cache, the second must be a HIT,
# and the bodies must be byte for byte the same.
header_of() { tr -d '\r' <"$1" | sed -n "s/^$2: *//Ip" | head -n1; }
for s in "${SERVERS[@]}"; do
    for i in 1 2; do
        code=$(curl -s -o "$TMP/$s.body$i" -D "$TMP/$s.head$i" \
            -w '%{http_code} %{size_header}' "$(url_of "$s")") || die "$s: curl failed"
        [ "${code%% *}" = 200 ] ||
            { head -c 600 "$TMP/$s.body$i" >&2; echo >&2; die "$s answered HTTP ${code%% *}"; }
    done
    echo "${code#* }" >"$TMP/$s.headsize"
    case "$s" in
        irisgate) got=$(header_of "$TMP/$s.head2" X-Cache) ;;
        *) got=$(header_of "$TMP/$s.head2" X-Cache-Status) ;;
    esac
    [ "$got" = HIT ] || die "$s: second answer is not a cache HIT (got '${got:-nothing}')"
    cmp -s "$TMP/$s.body1" "$TMP/$s.body2" || die "$s: its MISS and HIT bodies differ"
done
for s in "${SERVERS[@]}"; do
    if ! cmp -s "$TMP/irisgate.body2" "$TMP/$s.body2"; then
        same_json=$(python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); print("yes" if a==b else "no")' \
            "$TMP/irisgate.body2" "$TMP/$s.body2" 2>/dev/null || echo "n/a")
        die "irisgate and $s serve different bodies ($(wc -c <"$TMP/irisgate.body2") vs $(wc -c <"$TMP/$s.body2") bytes; same JSON: $same_json)"
    fi
done
# Over HTTPS (trusting the one certificate): the same body, a hit, ALPN http/1.1.
for s in "${SERVERS[@]}"; do
    code=$(curl -s --cacert "$CERT" -o "$TMP/$s.tlsbody" -D "$TMP/$s.tlshead" \
        -w '%{http_code}' "$(url_of "$s" tls)") || die "$s: curl over HTTPS failed"
    [ "$code" = 200 ] || die "$s answered HTTP $code over HTTPS"
    cmp -s "$TMP/irisgate.body2" "$TMP/$s.tlsbody" || die "$s: its HTTPS body differs"
done
[ "$(header_of "$TMP/irisgate.tlshead" X-Cache)" = HIT ] || die "irisgate: HTTPS answer is not a HIT"
[ "$(header_of "$TMP/nginx.tlshead" X-Cache-Status)" = HIT ] || die "nginx: HTTPS answer is not a HIT"
BODY_BYTES=$(wc -c <"$TMP/irisgate.body2")
BODY_SHA=$(sha256sum "$TMP/irisgate.body2" | cut -c1-16)
fake_requests() { curl -s "http://127.0.0.1:$FAKE_PORT/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])' 2>/dev/null || echo "?"; }
UP_BEFORE=$(fake_requests)
note "verified: same ${BODY_BYTES}-byte body (sha256 $BODY_SHA...), second answers are HITs"

# ---------------------------------------------------------------------------------------
# Measure.
RAW="$TMP/raw.tsv"
: >"$RAW"
# parse_wrk FILE: "rps p50_us p99_us requests errors" (errors: socket errors + non-2xx).
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0;
            if (v ~ /ms$/) return (v + 0) * 1000;
            if (v ~ /m$/) return (v + 0) * 60e6;
            if (v ~ /s$/) return (v + 0) * 1e6;
            return v + 0;
        }
        /Requests\/sec:/ { rps = $2 }
        /^ +50% / { p50 = us($2) }
        /^ +99% / { p99 = us($2) }
        / requests in / { n = $1 }
        /Non-2xx or 3xx responses:/ { err += $NF }
        /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
        END { printf "%s %s %s %s %d\n", rps, p50, p99, n, err }
    ' "$1"
}
# mode_args MODE: sets MODE_ARGS, wrk's extra arguments: tls-new asks every request on a new
# connection (wrk reconnects after an answer saying Connection: close), a full handshake each.
mode_args() {
    MODE_ARGS=()
    [ "$1" = tls-new ] && MODE_ARGS=(-H "Connection: close")
    return 0
}
run_wrk() {  # server conns out-file [mode]
    local t=$THREADS mode=${4:-plain}
    [ "$2" -lt "$t" ] && t=$2
    mode_args "$mode"
    timeout $((DURATION + 30)) wrk -t"$t" -c"$2" -d"${DURATION}s" --timeout 5s --latency \
        "${MODE_ARGS[@]}" "$(url_of "$1" "$mode")" >"$3" 2>&1 ||
        { cat "$3" >&2; die "wrk against $1 ($mode) failed"; }
}

# A short discarded run per server and mode so the first measured one does not pay for
# page faults.
for m in $MODES; do
    mode_args "$m"
    for s in "${SERVERS[@]}"; do
        timeout 30 wrk -t1 -c10 -d2s "${MODE_ARGS[@]}" "$(url_of "$s" "$m")" >/dev/null 2>&1 || true
    done
done

nconns=$(wc -w <<<"$CONNS")
nmodes=$(wc -w <<<"$MODES")
total=$((ROUNDS * nmodes * nconns * ${#SERVERS[@]}))
note "measuring: ${total} runs of ${DURATION}s (about $((total * DURATION / 60 + 1)) min)"
n=0
for ((r = 1; r <= ROUNDS; r++)); do
    i=0
    for m in $MODES; do
        for c in $CONNS; do
            # Rotate who goes first, so neither always runs on a machine the other just warmed.
            order=("${SERVERS[@]}")
            k=$(((i + r - 1) % ${#order[@]}))
            order=("${order[@]:k}" "${order[@]:0:k}")
            for s in "${order[@]}"; do
                n=$((n + 1))
                out="$TMP/wrk-$m-$s-$c-$r.txt"
                run_wrk "$s" "$c" "$out" "$m"
                read -r rps p50 p99 reqs errs < <(parse_wrk "$out")
                [ -n "$rps" ] || { cat "$out" >&2; die "could not read wrk's output"; }
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$s" "$c" "$r" "$rps" "$p50" \
                    "$p99" "$reqs" "$errs" >>"$RAW"
                note "[$n/$total] $m $s c=$c round $r: $rps req/s, p50 ${p50}us, p99 ${p99}us, errors $errs"
            done
            i=$((i + 1))
        done
    done
done
UP_AFTER=$(fake_requests)

# Peak resident memory, read before anything is stopped.
vmhwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo "?"; }
# nginx's worker processes (not its cache manager and loader), by their command line.
workers() {
    local cp
    for cp in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        grep -qa 'worker process' "/proc/$cp/cmdline" 2>/dev/null && echo "$cp"
    done
    return 0
}
RSS_LINES=("| irisgate | $(vmhwm "$GATE_PID") kB |")
for s in "${SERVERS[@]}"; do
    [ "$s" = irisgate ] && continue
    w=""
    for cp in $(workers "${PID_OF[$s]}"); do w="${w:+$w, }$(vmhwm "$cp") kB"; done
    RSS_LINES+=("| $s | master $(vmhwm "${PID_OF[$s]}") kB; worker(s) ${w:-?} |")
done

# ---------------------------------------------------------------------------------------
# Optional profile (PERF=1), under the largest connection count: perf samples irisgate, then
# the 1-worker nginx (flat profile, by symbol and by library); then, if strace is there, the
# system calls each makes per answer (strace slows them: only the counts mean anything).
PERF_NOTE=""
SYSCALL_LINES=()
if [ "$PERF" = 1 ]; then
    maxc=0
    for c in $CONNS; do [ "$c" -gt "$maxc" ] && maxc=$c; done
    perf_dir="${RESULTS%.md}-perf"
    mkdir -p "$perf_dir"
    ngx_worker=$(workers "$NGX1_PID" | head -n1)
    for target in "irisgate:$GATE_PID" "nginx:$ngx_worker"; do
        s=${target%%:*}
        pid=${target#*:}
        perf record -F 1999 -p "$pid" -o "$TMP/perf-$s.data" -- sleep "$DURATION" \
            >"$TMP/perf-$s.log" 2>&1 &
        perf_pid=$!
        PIDS+=("$perf_pid")
        sleep 0.5
        run_wrk "$s" "$maxc" "$TMP/wrk-perf-$s.txt"
        wait "$perf_pid" || true
        perf report -i "$TMP/perf-$s.data" --stdio --sort dso,symbol --percent-limit 0.5 \
            2>/dev/null | sed '/^$/d' >"$perf_dir/$s-flat.txt" || true
        perf report -i "$TMP/perf-$s.data" --stdio --sort dso --percent-limit 0.5 \
            2>/dev/null | sed '/^$/d' >"$perf_dir/$s-dso.txt" || true
        if command -v strace >/dev/null; then
            timeout 60 strace -c -f -p "$pid" -o "$perf_dir/$s-syscalls.txt" 2>/dev/null &
            st_pid=$!
            PIDS+=("$st_pid")
            sleep 0.5
            timeout 30 wrk -t"$THREADS" -c"$maxc" -d3s "$(url_of "$s")" >"$TMP/wrk-strace-$s.txt" 2>&1 || true
            sleep 0.3
            kill -INT "$st_pid" 2>/dev/null || true
            wait "$st_pid" 2>/dev/null || true
            reqs=$(awk '/ requests in / { print $1 }' "$TMP/wrk-strace-$s.txt")
            calls=$(awk '$NF == "total" { print $4 }' "$perf_dir/$s-syscalls.txt" 2>/dev/null)
            if [ -n "$reqs" ] && [ -n "$calls" ] && [ "$reqs" -gt 0 ]; then
                top=$(awk -v n="$reqs" '$1 ~ /^[0-9.]+$/ && $NF != "total" {
                        if ($4 / n >= 0.5) printf "%s %.1f, ", $NF, $4 / n }' \
                      "$perf_dir/$s-syscalls.txt")
                SYSCALL_LINES+=("| $s | $(awk -v c="$calls" -v n="$reqs" 'BEGIN { printf "%.1f", c / n }') | ${top%, } |")
            fi
        fi
    done
    PERF_NOTE="perf profiles (by symbol, by library) and strace counts in $perf_dir/"
    note "$PERF_NOTE"
fi

# ---------------------------------------------------------------------------------------
# Report.
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
REPORT="$TMP/report.md"
{
    echo "## irisgate vs nginx proxy_cache, cache hits ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "- machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $(uname -r)"
    echo "- irisgate build: $BUILD_DIR (${BUILD_TYPE:-unknown}); $(nginx -v 2>&1); $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "- request: GET /v1/iris-investigate/?domain=$DOMAIN&api_username=bench&api_key=…, body $BODY_BYTES bytes (sha256 $BODY_SHA…), identical from both"
    echo "- response headers: irisgate $(cat "$TMP/irisgate.headsize") bytes, nginx $(cat "$TMP/nginx.headsize") bytes"
    echo "- wrk: -t$THREADS (fewer if fewer connections), ${DURATION}s per run, rounds: $ROUNDS (medians shown), order alternated"
    echo "- nginx: worker_processes 1 (irisgate is one event-loop thread), access_log buffer=64k flush=1s"
    echo "- HTTPS: both on one ECDSA P-256 certificate from irisgate cert; TLS 1.2/1.3 (wrk negotiates $(openssl version 2>/dev/null | cut -d' ' -f1-2)'s default: TLS 1.3); nginx with ssl_session_cache and tickets, irisgate with its session cache and tickets"
    echo "- upstream (fakeiris) requests during measurement: $([ "$UP_BEFORE" != "?" ] && [ "$UP_AFTER" != "?" ] && echo $((UP_AFTER - UP_BEFORE)) || echo "?") (0 means every measured answer was a hit)"
    echo
    python3 - "$RAW" "$NGINX_AUTO" <<'PY'
import sys, statistics
from collections import defaultdict
rows = defaultdict(list)
conns, modes = [], []
for line in open(sys.argv[1]):
    m, s, c, r, rps, p50, p99, n, err = line.split("\t")
    c = int(c)
    if c not in conns:
        conns.append(c)
    if m not in modes:
        modes.append(m)
    rows[(m, s, c)].append((float(rps), float(p50), float(p99), int(n), int(err)))

def med(m, s, c, i):
    return statistics.median(v[i] for v in rows[(m, s, c)])

def lat(us):
    return f"{us:.0f} µs" if us < 1000 else f"{us / 1000:.2f} ms"

def errs(m, s, c):
    return sum(v[4] for v in rows[(m, s, c)])

def table(m, other):
    unit = "new connections/s" if m == "tls-new" else "req/s"
    print(f"| conns | irisgate {unit} | {other} {unit} | ratio | irisgate p50 | {other} p50 "
          f"| irisgate p99 | {other} p99 | p99 ratio | errors (irisgate/{other}) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in conns:
        a, b = med(m, "irisgate", c, 0), med(m, other, c, 0)
        a99, b99 = med(m, "irisgate", c, 2), med(m, other, c, 2)
        print(f"| {c} | {a:,.0f} | {b:,.0f} | **{a / b:.2f}** | {lat(med(m, 'irisgate', c, 1))} "
              f"| {lat(med(m, other, c, 1))} | {lat(a99)} | {lat(b99)} | {a99 / b99:.2f} "
              f"| {errs(m, 'irisgate', c)}/{errs(m, other, c)} |")
    print()

TITLES = {"plain": "Plain HTTP, keep-alive",
          "tls": "HTTPS, keep-alive (one handshake per connection)",
          "tls-new": "New HTTPS connections: a full TLS handshake and one answer each (Connection: close)"}
print("ratio = irisgate / nginx (above 1: irisgate serves more); "
      "p99 ratio = irisgate / nginx (below 1: irisgate answers sooner).")
print()
for m in modes:
    print(f"### {TITLES[m]}")
    print()
    table(m, "nginx")
    if sys.argv[2] == "1":
        print("nginx with worker_processes auto (as many workers as CPUs; not the like-for-like comparison):")
        print()
        table(m, "nginx-auto")
PY
    echo "Peak resident memory (VmHWM) after the run:"
    echo
    echo "| server | VmHWM |"
    echo "|---|---|"
    printf '%s\n' "${RSS_LINES[@]}"
    if [ ${#SYSCALL_LINES[@]} -gt 0 ]; then
        echo
        echo "System calls per answer (strace -c during a 3 s wrk run at the largest connection count):"
        echo
        echo "| server | syscalls per answer | the main ones (per answer) |"
        echo "|---|---:|---|"
        printf '%s\n' "${SYSCALL_LINES[@]}"
    fi
    [ -n "$PERF_NOTE" ] && { echo; echo "$PERF_NOTE"; }
    echo
    echo "Every run (mode, server, conns, round, req/s, p50 µs, p99 µs, requests, errors):"
    echo
    echo '```'
    cat "$RAW"
    echo '```'
} >"$REPORT"
mkdir -p "$(dirname "$RESULTS")"
cp "$REPORT" "$RESULTS"
echo
cat "$REPORT"
echo
note "results written to $RESULTS"
