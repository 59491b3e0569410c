#!/bin/sh
# Build pod and run every test suite. On a fresh Debian 12 machine this installs the
# build and test dependencies first (scripts/install-deps.sh, idempotent).
#
#   scripts/test.sh              release build in build/, then ctest
#   scripts/test.sh --sanitize   the same under AddressSanitizer + UBSan, in build-asan/
set -eu

cd "$(dirname "$0")/.."
sh scripts/install-deps.sh

build=build
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOD_SANITIZE=OFF"
if [ "${1:-}" = "--sanitize" ]; then
        build="build-asan"
        flags="-DCMAKE_BUILD_TYPE=Debug -DPOD_SANITIZE=ON"
        # Fail on the first report; leaks are caught by ctest's output check as well.
        ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:strict_string_checks=1"
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
        export ASAN_OPTIONS UBSAN_OPTIONS
fi

jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086 # flags is a list of words
cmake -S . -B "$build" $flags >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"
