#!/bin/sh
# Build in release mode and run every benchmark; each prints medians and a ratio against
# the budget of DESIGN §16. Extra arguments (e.g. --runs 50) go to the timing benchmarks.
# Every benchmark runs even when one before it failed; the script names the ones that failed
# at the end and exits 1 if any did.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
# bubblewrap is the peer SpawnPod is measured against (DESIGN §16); only the benchmarks use it.
command -v bwrap >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq bubblewrap >/dev/null; } || true
# claude -p and codex exec are the agent loop's peers (DESIGN §16): from npm, into the build's
# own prefix; the agent loop says which it skips when they cannot be installed.
sh scripts/npm-install.sh build/npm @anthropic-ai/claude-code @openai/codex ||
        echo "bench: the agent loop's peers could not all be installed from npm" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOD_SANITIZE=OFF >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
# The machine's load weighs on every figure: said before and after.
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
failed=""
bench() {
        name=$1
        shift
        "build/bench/$name" "$@" || {
                echo "bench: $name FAILED (exit $?)" >&2
                failed="$failed $name"
        }
}
bench bench-startup build/pod "$@"
bench bench-profile-list build/pod "$@"
bench bench-spawn-description "$@"
bench bench-bash "$@"
bench bench-spawn build/pod "$@"
bench bench-mcp build/pod "$@"
bench bench-idle-rss build/pod
bench bench-agent-loop build/pod "$@"
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
if [ -n "$failed" ]; then
        echo "bench: failed:$failed" >&2
        exit 1
fi
