#!/bin/sh
# ctest mock/validate-sdk: the mock model server's streams read by the official SDKs
# (validate.mjs). Installs `openai` and `@anthropic-ai/sdk` into BUILD_DIR/npm first
# (scripts/npm-install.sh, idempotent); exits 77 (skipped) with the reason when node, npm
# or the registry is not there.
#
#   sh tests/mock/validate/run.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2

skip() {
        echo "SKIPPED mock/validate-sdk: $*"
        exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || skip "node $major is too old for the SDKs (18 or later)"
reason=$(sh "$src/scripts/npm-install.sh" "$build/npm" openai @anthropic-ai/sdk 2>&1) ||
        skip "cannot install the SDKs from npm: $(printf '%s\n' "$reason" | tail -n 1)"
POD_NPM_PREFIX="$build/npm" exec node --test "$src/tests/mock/validate/validate.mjs"
