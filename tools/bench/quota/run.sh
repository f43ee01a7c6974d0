#!/usr/bin/env bash
# tools/bench/quota/run.sh — how many upstream queries a team's workload costs through
# irisgate, through nginx proxy_cache (a URL-keyed cache), and at the least (an ideal cache
# with the same TTL, modelled offline). Each server sits in front of its own fresh fakeiris,
# whose /_fake/stats counts the queries; quota.py sends every request to both and writes
# the report. Run by hand, never by a test (docs/benchmarks.md says how to read it).
#
# Environment (all optional):
#   BUILD_DIR         where irisgate and fakeiris are (default build; built there if missing)
#   DAYS              simulated days (default 6)
#   USERS             users (default 5: analyst, soar, misp, pivoter, hunter; more cycle)
#   REQUESTS_PER_DAY  client requests a day, all users together, roughly (default 400)
#   DAY_SECONDS       wall seconds per simulated day = the TTL of both caches (default 10)
#   SEED              workload seed (default 1)
#   ZIPF_S            Zipf exponent of domain popularity (default 1.0)
#   PIVOT_MAX         pivots are run on values with at most this many domains (default 1500)
#   FAKE_LATENCY_MS   fakeiris answers after this many ms (default 20)
#   RESULTS           the markdown results file (default $BUILD_DIR/bench-quota-results.md);
#                     the per-request TSV and irisgate's log are written next to it
# Only 127.0.0.1 and free ports are used; everything started is stopped on exit, and the
# temporary directory (credentials included) is removed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/tools/bench/quota"
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
DAYS=${DAYS:-6}
USERS=${USERS:-5}
REQUESTS_PER_DAY=${REQUESTS_PER_DAY:-400}
DAY_SECONDS=${DAY_SECONDS:-10}
SEED=${SEED:-1}
ZIPF_S=${ZIPF_S:-1.0}
PIVOT_MAX=${PIVOT_MAX:-1500}
FAKE_LATENCY_MS=${FAKE_LATENCY_MS:-20}
RESULTS=${RESULTS:-$BUILD_DIR/bench-quota-results.md}

NAME=quota
# shellcheck source=../common.sh
. "$ROOT/tools/bench/common.sh"
is_uint "$DAYS" && [ "$DAYS" -ge 1 ] && [ "$DAYS" -le 60 ] || die "DAYS must be 1..60"
is_uint "$USERS" && [ "$USERS" -ge 1 ] && [ "$USERS" -le 50 ] || die "USERS must be 1..50"
is_uint "$REQUESTS_PER_DAY" && [ "$REQUESTS_PER_DAY" -ge 5 ] && [ "$REQUESTS_PER_DAY" -le 100000 ] ||
    die "REQUESTS_PER_DAY must be 5..100000"
is_uint "$DAY_SECONDS" && [ "$DAY_SECONDS" -ge 3 ] && [ "$DAY_SECONDS" -le 3600 ] ||
    die "DAY_SECONDS must be 3..3600 (whole seconds: it is the TTL)"
is_uint "$SEED" || die "SEED must be a number"
is_uint "$PIVOT_MAX" && [ "$PIVOT_MAX" -ge 2 ] || die "PIVOT_MAX must be 2 or more"
is_uint "$FAKE_LATENCY_MS" || die "FAKE_LATENCY_MS must be a number"
[[ "$ZIPF_S" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "ZIPF_S must be a number"

for tool in nginx curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run tools/install-deps.sh"
done

IRISGATE="$BUILD_DIR/irisgate"
FAKEIRIS="$BUILD_DIR/fakeiris"
ensure_built "$BUILD_DIR" Release irisgate fakeiris

# ---------------------------------------------------------------------------------------
# Users: the irisgate users, whose credentials the tools put in their URLs; the vendor key.
ROLES=(analyst soar misp pivoter hunter)
SECRETS="$TMP/irisgate.secrets"
CREDS="$TMP/creds.json"
FAKE_USERS=()
json="{"
for ((i = 0; i < USERS; i++)); do
    name=${ROLES[i % 5]}
    [ "$i" -ge 5 ] && name="$name$((i / 5 + 1))"
    out=$("$IRISGATE" user add "$name" --secrets "$SECRETS") || die "irisgate user add failed"
    key=$(printf '%s\n' "$out" | sed -n 's/^api_key=//p')
    [ -n "$key" ] || die "irisgate user add printed no api_key"
    FAKE_USERS+=(--user "$name:$key")
    [ "$i" -gt 0 ] && json+=","
    json+="\"$name\":\"$key\""
done
json+="}"
(umask 077 && printf '%s\n' "$json" >"$CREDS")
VENDOR_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$VENDOR_KEY" | "$IRISGATE" upstream set benchvendor --secrets "$SECRETS" >/dev/null ||
    die "irisgate upstream set failed"
chmod 600 "$SECRETS"

# Two fakeiris, same seed and users: one behind irisgate, one behind nginx. nginx forwards
# each client's URL as it is, so fakeiris must know every user's key.
start_fake() {  # NAME: sets FAKE_PID, FAKE_PORT
    "$FAKEIRIS" --listen 127.0.0.1:0 --seed 1 --latency "$FAKE_LATENCY_MS" \
        --user "benchvendor:$VENDOR_KEY" "${FAKE_USERS[@]}" --quiet \
        >"$TMP/$1.out" 2>"$TMP/$1.err" &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    local line
    line=$(wait_line "$TMP/$1.out" 'listening on' "$FAKE_PID") ||
        { cat "$TMP/$1.err" >&2; die "fakeiris ($1) did not start"; }
    FAKE_PORT=${line##*:}
}
start_fake fake-gate
FAKE_GATE_PORT=$FAKE_PORT
start_fake fake-nginx
FAKE_NGINX_PORT=$FAKE_PORT

"$IRISGATE" serve --listen 127.0.0.1:0 --db "$TMP/irisgate.db" --secrets "$SECRETS" \
    --upstream "http://127.0.0.1:$FAKE_GATE_PORT" --log "$TMP/irisgate.log" \
    --ttl-investigate "$DAY_SECONDS" --ttl-enrich "$DAY_SECONDS" \
    >"$TMP/irisgate.out" 2>"$TMP/irisgate.err" &
GATE_PID=$!
PIDS+=("$GATE_PID")
line=$(wait_line "$TMP/irisgate.out" 'irisgate listening on http://' "$GATE_PID") ||
    { cat "$TMP/irisgate.err" "$TMP/irisgate.log" >&2 2>/dev/null; die "irisgate did not start"; }
GATE_PORT=${line##*:}

NGINX_PORT=$(free_port)
nginx_start "$TMP/nginx" "$HERE/nginx.conf.in" "http://127.0.0.1:$NGINX_PORT/_fake/stats" \
    -e "s|@PORT@|$NGINX_PORT|g" -e "s|@TTL@|$DAY_SECONDS|g" \
    -e "s|@UPSTREAM@|127.0.0.1:$FAKE_NGINX_PORT|g"
# irisgate reads the upstream's /v1/account at start: wait for it, so it is counted apart.
for _ in $(seq 50); do
    grep -q 'upstream limits\|could not read the account' "$TMP/irisgate.log" 2>/dev/null && break
    sleep 0.1
done

# ---------------------------------------------------------------------------------------
mkdir -p "$(dirname "$RESULTS")"
TSV="${RESULTS%.md}.tsv"
CMD="DAYS=$DAYS USERS=$USERS REQUESTS_PER_DAY=$REQUESTS_PER_DAY DAY_SECONDS=$DAY_SECONDS SEED=$SEED ZIPF_S=$ZIPF_S PIVOT_MAX=$PIVOT_MAX FAKE_LATENCY_MS=$FAKE_LATENCY_MS tools/bench/quota/run.sh"
note "running: $CMD"
status=0
python3 "$HERE/quota.py" --gate-port "$GATE_PORT" --nginx-port "$NGINX_PORT" \
    --fake-gate-port "$FAKE_GATE_PORT" --fake-nginx-port "$FAKE_NGINX_PORT" \
    --days "$DAYS" --users "$USERS" --requests-per-day "$REQUESTS_PER_DAY" \
    --day-seconds "$DAY_SECONDS" --seed "$SEED" --zipf-s "$ZIPF_S" --pivot-max "$PIVOT_MAX" \
    --creds "$CREDS" --gate-db "$TMP/irisgate.db" --out "$TMP/report.md" --tsv "$TSV" \
    --command "$CMD" || status=$?

# irisgate flushes its log every second.
kill -TERM "$GATE_PID" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$GATE_PID" 2>/dev/null || break; sleep 0.1; done
cp "$TMP/irisgate.log" "${RESULTS%.md}-irisgate.log" 2>/dev/null || true
if [ -f "$TMP/report.md" ]; then
    {
        echo "## quota: irisgate vs nginx proxy_cache vs the minimum ($(date -u +%Y-%m-%dT%H:%MZ))"
        echo
        echo "Command: \`$CMD\` (build: $BUILD_DIR)"
        echo
        cat "$TMP/report.md"
    } >"$RESULTS"
    note "results in $RESULTS; per request: $TSV; irisgate's log: ${RESULTS%.md}-irisgate.log"
fi
[ "$status" = 0 ] || die "the run found problems (exit $status): see above"
