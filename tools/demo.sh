#!/usr/bin/env bash
# README command (1): installs the Debian packages, builds, and runs irisgate on
# 127.0.0.1:8800 in front of fakeiris (the stand-in for api.domaintools.com) on
# 127.0.0.1:8801, with its database in demo/irisgate.db. Prints a curl line that gets an
# answer through irisgate. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"

GATE_PORT=${IRISGATE_DEMO_PORT:-8800}
FAKE_PORT=${FAKEIRIS_DEMO_PORT:-8801}
mkdir -p demo
chmod 700 demo
secrets=demo/irisgate.secrets
vendor_key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
rm -f "$secrets"
creds=$(./build/irisgate user add demo --secrets "$secrets")
user_key=${creds##*api_key=}
printf '%s\n' "$vendor_key" | ./build/irisgate upstream set demo_vendor --secrets "$secrets" >/dev/null

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# started PROGRAM OUTFILE PID: waits for its "listening on" line; fails if it exits first.
started() {
    for _ in $(seq 100); do
        grep -q 'listening on' "$2" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "demo: $1 did not start (see $2 and demo/$1.err)" >&2
    cat "demo/$1.err" >&2 2>/dev/null || true
    exit 1
}

./build/fakeiris --listen "127.0.0.1:$FAKE_PORT" --user "demo_vendor:$vendor_key" --quiet \
    >demo/fakeiris.out 2>demo/fakeiris.err &
pids+=($!)
started fakeiris demo/fakeiris.out $!
./build/irisgate serve --listen "127.0.0.1:$GATE_PORT" --db demo/irisgate.db \
    --secrets "$secrets" --upstream "http://127.0.0.1:$FAKE_PORT" --log demo/irisgate.log \
    >demo/irisgate.out 2>demo/irisgate.err &
pids+=($!)
started irisgate demo/irisgate.out $!
cat <<MSG

irisgate is running on http://127.0.0.1:$GATE_PORT in front of fakeiris (127.0.0.1:$FAKE_PORT).
Database: demo/irisgate.db   Log: demo/irisgate.log   Proxy user: demo

Ask it (run twice: the first answer is X-Cache: MISS, the second HIT):

  curl -si 'http://127.0.0.1:$GATE_PORT/v1/iris-investigate/?domain=domaintools.com&api_username=demo&api_key=$user_key'

Press Ctrl-C to stop.
MSG
wait
