#!/bin/sh
# Build pod and run every test suite. On a fresh Debian 12 machine this installs the
# build and test dependencies first (scripts/install-deps.sh, idempotent).
#
#   scripts/test.sh              release build in build/, then ctest; run as root, the
#                                same suites again as an unprivileged user (nobody), since
#                                the kernel treats root differently (RLIMIT_NPROC, signals,
#                                file modes): POD_TEST_UNPRIVILEGED=0 leaves that pass out
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
(cd "$build" && ctest --output-on-failure -j "$jobs")

# The same suites as user nobody, in a build of its own (its tests write beside their binaries).
if [ "$(id -u)" -eq 0 ] && [ "${1:-}" != "--sanitize" ] && [ "${POD_TEST_UNPRIVILEGED:-1}" != 0 ]; then
        as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
        if ! command -v setpriv >/dev/null 2>&1; then
                echo "test.sh: SKIPPED the unprivileged pass: setpriv (util-linux) is missing" >&2
        elif ! $as_nobody test -r "$PWD/CMakeLists.txt" -a -x "$PWD/../shared"; then
                echo "test.sh: SKIPPED the unprivileged pass: user nobody cannot read this tree" \
                        "and ../shared (clone it where every user may read it)" >&2
        else
                # Criterion's runner makes /dev/shm/bxfi_PID for each test process it starts
                # (the process removes it once started) and aborts ("Could not spawn test
                # instance: File exists") when root's run that was killed left that name:
                # nobody may not remove root's file from the sticky directory. Remove the
                # leftovers whose process is gone, or a reused pid aborts a whole suite.
                for f in /dev/shm/bxfi_*; do
                        if [ -f "$f" ] && ! kill -0 "${f##*_}" 2>/dev/null; then
                                rm -f "$f"
                        fi
                done
                home=$(mktemp -d)
                trap 'rm -rf "$home"' EXIT
                chown nobody:nogroup "$home"
                echo "test.sh: the suites again as user nobody" >&2
                # shellcheck disable=SC2086 # flags and as_nobody are lists of words
                $as_nobody env HOME="$home" sh -c "cmake -S . -B '$home/build' $flags >/dev/null &&
                        cmake --build '$home/build' -j $jobs >/dev/null &&
                        cd '$home/build' && ctest --output-on-failure -j $jobs"
        fi
fi
