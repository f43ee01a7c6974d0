#!/usr/bin/env bash
# Builds irisgate twice — a normal build and an ASan+UBSan build — and runs every test
# (unit and integration, through ctest) in both. Installs the Debian packages first.
# This is README command (2) and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
status=0
for variant in release asan; do
    dir=build
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    if [ "$variant" = asan ]; then
        dir=build-asan
        flags=(-DCMAKE_BUILD_TYPE=Debug -DIG_SANITIZE=ON)
    fi
    echo "== $variant build ($dir)"
    cmake -S . -B "$dir" "${flags[@]}" >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "== $variant tests"
    # Sanitizer reports fail the run: a leak or UB is an error, never a warning.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$dir" --output-on-failure --timeout 600 -j 2 || status=1
done
exit $status
