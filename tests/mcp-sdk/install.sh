#!/bin/sh
# Install the official MCP TypeScript SDK (v1: @modelcontextprotocol/sdk, the initialize-based
# revision; v2: @modelcontextprotocol/client, the current one) into PREFIX, a build-local
# prefix (never global), for tests/e2e/test-mcp-sdk-cli.c. Idempotent: an installed prefix is
# left as it is. Exit 0 installed; 1 not installed, with the reason on stderr (npm missing or
# its registry unreachable), which the test reports as its reason to skip.
set -u

prefix=${1:?usage: install.sh PREFIX}
if [ -f "$prefix/node_modules/@modelcontextprotocol/sdk/package.json" ] &&
        [ -f "$prefix/node_modules/@modelcontextprotocol/client/package.json" ]; then
        exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "node and npm are not installed (Debian: apt-get install nodejs npm)" >&2
        exit 1
fi
mkdir -p "$prefix" || exit 1
if ! timeout 300 npm install --prefix "$prefix" --no-audit --no-fund --fetch-retries=1 \
        --fetch-timeout=30000 '@modelcontextprotocol/sdk@1' '@modelcontextprotocol/client@2' \
        >"$prefix/install.log" 2>&1; then
        echo "npm install of the MCP SDK failed (registry unreachable?): $(tail -n 3 "$prefix/install.log" | tr '\n' ' ')" >&2
        exit 1
fi
