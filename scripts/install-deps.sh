#!/bin/sh
# Install the Debian packages pod needs to build and test, when missing.
# Idempotent: a machine that has them all is left untouched and nothing is fetched.
set -eu

PACKAGES="build-essential cmake pkg-config git \
libseccomp-dev libjansson-dev libyaml-dev libpcre2-dev libcurl4-openssl-dev libcriterion-dev \
shellcheck python3 dash help2man clang-format"

missing=""
for p in $PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                missing="$missing $p"
        fi
done

# Node and npm for the tests that use the official MCP SDK (tests/mcp-sdk): from Debian, only
# when no node is installed (a machine may have its own build of it, which Debian's npm
# would conflict with).
if ! command -v node >/dev/null 2>&1; then
        missing="$missing nodejs npm"
fi

if [ -z "$missing" ]; then
        exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
