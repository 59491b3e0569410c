#!/bin/sh
# Man pages from the one source they share with the terminal: each command's --help text
# (help2man, README "Install"). One page for pod and one per command: pod-COMMAND.1.gz.
#   sh scripts/gen-man.sh path/to/pod OUTDIR
set -eu

pod=$1
out=$2
help2man=${HELP2MAN:-help2man}
version=$("$pod" --version | sed 's/^pod //')
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

page() { # name summary program
        "$help2man" --no-info --no-discard-stderr --section 1 --name "$2" \
                --version-string "$version" --output "$out/$1.1" "$3"
}

page pod "run LLM coding agents as a tree of kernel-confined pods" "$pod"
"$pod" --complete commands | while read -r cmd; do
        summary=$("$pod" --help | sed -n "s/^  $cmd  *//p" | sed 's/ (.*)$//' | head -n 1)
        # help2man runs a program with --help and --version: one that is `pod COMMAND`.
        # shellcheck disable=SC2016 # the $ are the wrapper's
        printf '#!/bin/sh\n[ "$1" = --version ] && exec "%s" --version\nexec "%s" %s "$@"\n' \
                "$pod" "$pod" "$cmd" >"$tmp/pod-$cmd"
        chmod +x "$tmp/pod-$cmd"
        page "pod-$cmd" "${summary:-pod $cmd}" "$tmp/pod-$cmd"
done
# Compressed, as Debian ships man pages (-n: no name or time inside, so builds repeat).
gzip -9nf "$out"/*.1
