#!/bin/sh
# Build pod and show what it makes of a sample project: the profiles it discovers from
# every source, the default, and where each value of a resolved manifest comes from.
# (When `pod demo` exists, this script runs it instead.)
set -eu

cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

sample=examples/sample-project
pod=build/pod
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
[ -n "${NO_COLOR:-}" ] && step() { printf '\n$ %s\n' "$*"; }

step pod profile list --cwd "$sample"
"$pod" profile list --cwd "$sample"
step pod profile show project:fast-coder --cwd "$sample" --explain
"$pod" profile show project:fast-coder --cwd "$sample" --explain
step pod profile show --cwd "$sample" --prompt
"$pod" profile show --cwd "$sample" --prompt
step pod profile show coder --cwd "$sample"
"$pod" profile show coder --cwd "$sample" || true
step pod profile show builtin:reviewer --cwd "$sample" --resolved --scope write:/tmp
"$pod" profile show builtin:reviewer --cwd "$sample" --resolved --scope write:/tmp || true

# A running pod on the deterministic script model, in a throwaway HOME and runtime dir.
# This version has no kernel sandbox yet, so pod refuses to run unless told POD_SANDBOX=off.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step POD_SANDBOX=off pod run --profile project:scripted --cwd "$sample" "describe the project"
HOME="$tmp" POD_RUNTIME_DIR="$tmp/run" POD_SANDBOX=off \
        "$pod" run --profile project:scripted --cwd "$sample" "describe the project"
