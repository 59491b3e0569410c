#!/bin/sh
# Install npm packages into a build-local prefix (never globally, never into the source
# tree), for the tests and benchmarks that run them: the SDK validation of the mock model
# server (tests/mock/) and the agent-loop benchmark's peers (bench/).
#
#   sh scripts/npm-install.sh PREFIX PACKAGE...
#
# Idempotent: a package already under PREFIX/node_modules is not fetched again. Exits 0
# when every package is there; otherwise prints one line saying why and exits 1 (no npm,
# the registry unreachable, ...), so a caller can skip with that reason.
set -eu

if [ $# -lt 2 ]; then
        echo "usage: npm-install.sh PREFIX PACKAGE..." >&2
        exit 2
fi
prefix=$1
shift

missing=""
for p in "$@"; do
        [ -f "$prefix/node_modules/$p/package.json" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
        echo "npm-install: npm is not installed (apt-get install npm, or nodejs from nodesource)" >&2
        exit 1
fi
mkdir -p "$prefix"
# A package.json of its own, so npm installs here and never climbs to a parent project.
[ -f "$prefix/package.json" ] || echo '{"name": "pod-build-npm", "private": true}' >"$prefix/package.json"
log="$prefix/npm-install.log"
echo "npm-install: installing$missing into $prefix" >&2
# shellcheck disable=SC2086 # the package list is split on purpose
if ! (cd "$prefix" && timeout 600 npm install --no-audit --no-fund --loglevel=error \
        $missing) >"$log" 2>&1; then
        echo "npm-install: npm install$missing failed: $(grep -m1 -i 'err' "$log" || tail -n1 "$log")" >&2
        exit 1
fi
for p in $missing; do
        if [ ! -f "$prefix/node_modules/$p/package.json" ]; then
                echo "npm-install: $p is missing after npm install (see $log)" >&2
                exit 1
        fi
done
