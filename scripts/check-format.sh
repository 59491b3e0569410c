#!/bin/sh
# lint/format: every C source and header of the repository is as the repository's
# .clang-format (clang-format 14, Debian 12's) lays it out. Prints each file that is not
# and how to fix it; exits 77 (a skip, with the reason) when clang-format is not installed.
set -eu
root=${1:-.}
cd "$root"
cf=""
for c in clang-format-14 clang-format; do
        if command -v "$c" >/dev/null 2>&1; then
                cf=$c
                break
        fi
done
if [ -z "$cf" ]; then
        echo "SKIPPED: clang-format is not installed (scripts/install-deps.sh installs it)"
        exit 77
fi
# The tree as it is (git may refuse a checkout another user owns, as in the suite's second
# pass as nobody): every C file but the fuzz corpora, which are inputs, not code.
files=$(find src tests bench fuzz examples \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
        grep -v '/corpus/' | sort)
bad=""
for f in $files; do
        if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
                bad="$bad $f"
        fi
done
if [ -n "$bad" ]; then
        echo "not formatted:$bad"
        echo "fix: clang-format -i$bad"
        exit 1
fi
echo "every C file is formatted ($cf)"
