# tools/bench/common.sh — what the benchmark scripts share, sourced by each run.sh after it
# has set NAME (its prefix in messages and temporary directory names): messages, the
# temporary directory, the record of processes started (stopped by pid on exit, TERM then
# KILL), waiting for a server's "listening on" line, a free loopback port, and building the
# binaries when they are missing. Only 127.0.0.1 is ever used.
# shellcheck shell=bash

die() { echo "bench-$NAME: $*" >&2; exit 1; }
note() { echo "bench-$NAME: $*" >&2; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# ensure_built BUILD_DIR BUILD_TYPE TARGET...: builds the targets there when one is missing.
ensure_built() {
    local dir=$1 type=$2 t missing=0
    shift 2
    for t in "$@"; do [ -x "$dir/$t" ] || missing=1; done
    [ "$missing" = 0 ] && return 0
    note "building $* in $dir"
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target "$@"
}

# Life cycle: every process started is recorded in PIDS and stopped on exit; TMP goes too.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/irisgate-bench-$NAME.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE REGEX PID: prints the first line of FILE matching REGEX, within 15 s,
# failing early if PID dies.
wait_line() {
    local line
    for _ in $(seq 150); do
        line=$(grep -E -m1 "$2" "$1" 2>/dev/null || true)
        if [ -n "$line" ]; then printf '%s\n' "$line"; return 0; fi
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# nginx_start DIR TEMPLATE READY_URL [SED_ARG...]: writes DIR/nginx.conf from TEMPLATE (its
# @DIR@ and @USER_LINE@ filled here, the other words by the sed arguments given), checks it,
# starts nginx in the foreground of a background job and waits until READY_URL answers; sets
# NGINX_PID.
nginx_start() {
    local dir=$1 template=$2 ready=$3 user_line=""
    shift 3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && user_line="user root root;"  # workers must write into $TMP (0700)
    sed -e "s|@DIR@|$dir|g" -e "s|@USER_LINE@|$user_line|g" "$@" "$template" >"$dir/nginx.conf"
    nginx -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/test.err" ||
        { cat "$dir/test.err" >&2; die "nginx rejected its config ($dir/nginx.conf)"; }
    nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    for _ in $(seq 100); do
        curl -s -o /dev/null "$ready" && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$dir/error.log" >&2; die "nginx ($dir) exited"; }
        sleep 0.1
    done
    die "nginx ($dir) did not answer $ready"
}
