#!/bin/sh
# Install npm packages into a build-local prefix (never globally, never into the source
# tree), for the tests and benchmarks that run them: the official SDKs that validate the
# mock model server (tests/mock/validate), the MCP SDK and the Claude Code CLI as clients of
# `pod mcp` (tests/e2e), and the agent-loop benchmark's peers (bench/).
#
#   sh scripts/npm-install.sh PREFIX PACKAGE[@VERSION]...
#
# A version pins what a caller relies on (`@modelcontextprotocol/sdk@1`); a package already
# under PREFIX/node_modules is not fetched again, whatever its version. Concurrent runs on
# one prefix (ctest -j) take turns (flock). Exits 0 when every package is there; otherwise
# prints one line saying why on stderr and exits 1 (no node or npm, the registry
# unreachable, ...), so a caller can skip with that reason.
set -eu

if [ $# -lt 2 ]; then
        echo "usage: npm-install.sh PREFIX PACKAGE[@VERSION]..." >&2
        exit 2
fi
prefix=$1
shift

# The name a spec installs as: a trailing @VERSION dropped (a scope's leading @ kept).
name_of() {
        case $1 in
        ?*@*) echo "${1%@*}" ;;
        *) echo "$1" ;;
        esac
}

missing_of() {
        m=""
        for p in "$@"; do
                [ -f "$prefix/node_modules/$(name_of "$p")/package.json" ] || m="$m $p"
        done
        echo "$m"
}

missing=$(missing_of "$@")
[ -z "$missing" ] && exit 0

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "npm-install: node and npm are not installed (Debian: apt-get install nodejs npm)" >&2
        exit 1
fi
mkdir -p "$prefix"
# npm's cache in the prefix unless the caller chose one (a test's HOME is gone after it).
npm_config_cache=${npm_config_cache:-$prefix/.npm-cache}
export npm_config_cache
# One install at a time on a prefix: take the lock, then look again.
if [ -z "${POD_NPM_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
        POD_NPM_LOCKED=1 exec flock "$prefix/.install.lock" sh "$0" "$prefix" "$@"
fi
missing=$(missing_of "$@")
[ -z "$missing" ] && exit 0
# A package.json of its own, so npm installs here and never climbs to a parent project.
[ -f "$prefix/package.json" ] || echo '{"name": "pod-build-npm", "private": true}' >"$prefix/package.json"
log="$prefix/npm-install.log"
echo "npm-install: installing$missing into $prefix" >&2
# Few retries and a short fetch timeout: an unreachable registry is a reason to skip, soon.
# shellcheck disable=SC2086 # the package list is split on purpose
if ! (cd "$prefix" && timeout 900 npm install --no-audit --no-fund --loglevel=error \
        --fetch-retries=1 --fetch-timeout=30000 $missing) >"$log" 2>&1; then
        echo "npm-install: npm install$missing failed (registry unreachable?): $(grep -m1 -i 'err' "$log" || tail -n1 "$log")" >&2
        exit 1
fi
missing=$(missing_of "$@")
if [ -n "$missing" ]; then
        echo "npm-install:$missing missing after npm install (see $log)" >&2
        exit 1
fi
