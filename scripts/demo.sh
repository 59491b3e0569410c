#!/bin/sh
# Install what is missing, build pod, and run `pod demo`: a throwaway project where an
# orchestrator pod gives a coder the write lease on src/ and a reviewer read access, on the
# scripted model (no API key, no network). Arguments go to `pod demo` (e.g. --dir DIR).
set -eu

cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec build/pod demo "$@"
