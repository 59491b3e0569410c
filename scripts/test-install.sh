#!/bin/sh
# The install, end to end (README "Install"):
#   sh scripts/test-install.sh prefix BUILD_DIR   cmake --install into a temporary prefix:
#                                                 the files, the man pages, the completions
#   sh scripts/test-install.sh deb BUILD_DIR      cpack's .deb: its dependencies and files;
#                                                 as root with POD_TEST_DPKG=1 (CI), dpkg -i
set -u

mode=${1:?usage: test-install.sh prefix|deb BUILD_DIR}
build=${2:?usage: test-install.sh prefix|deb BUILD_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
        printf 'FAIL %s\n' "$1"
        failures=$((failures + 1))
}

has() { # file
        [ -e "$1" ] || fail "not installed: $1"
}

# Completion candidates bash offers for the words given (the last one is being completed).
complete_bash() {
        bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pod; printf "%s\n" "${COMPREPLY[@]}"' \
                _ "$tmp/p/share/bash-completion/completions/pod" "$@"
}

test_prefix() {
        cmake --install "$build" --prefix "$tmp/p" >/dev/null || fail "cmake --install"
        has "$tmp/p/bin/pod"
        has "$tmp/p/share/pod/tickets.sh"
        has "$tmp/p/share/bash-completion/completions/pod"
        has "$tmp/p/share/zsh/vendor-completions/_pod"
        has "$tmp/p/share/fish/vendor_completions.d/pod.fish"
        "$tmp/p/bin/pod" --version | grep -q '^pod ' || fail "the installed pod has no --version"
        "$tmp/p/share/pod/tickets.sh" help | grep -q create || fail "the installed tickets.sh"
        # A man page per command, each generated from its --help.
        for cmd in $("$tmp/p/bin/pod" --complete commands) ''; do
                page=$tmp/p/share/man/man1/pod${cmd:+-$cmd}.1.gz
                has "$page"
                [ -e "$page" ] && ! gzip -dc "$page" | grep -q '^\.TH' && fail "$page is not a man page"
        done
        gzip -dc "$tmp/p/share/man/man1/pod-doctor.1.gz" | grep -q -- 'fix' ||
                fail "pod-doctor.1 does not carry doctor's --help"
        # The bash completion offers commands, profile selectors and pod names from pod itself.
        export HOME="$tmp/home" POD_CONFIG_DIR="$tmp/config" POD_DATA_DIR="$tmp/data"
        export POD_RUNTIME_DIR="$tmp/run" PATH="$tmp/p/bin:$PATH"
        mkdir -p "$tmp/run/pods/busy-bee" "$tmp/proj"
        chmod 700 "$tmp/run"
        printf '{"name": "busy-bee"}\n' >"$tmp/run/pods/busy-bee/pod.json"
        complete_bash pod "do" | grep -qx doctor || fail "bash: pod do<TAB> is not doctor"
        complete_bash pod --profile builtin: | grep -qx builtin:coder ||
                fail "bash: --profile offers no builtin:coder"
        complete_bash pod logs bu | grep -qx busy-bee || fail "bash: pod logs offers no pod names"
        complete_bash pod doctor --f | grep -qx -- --fix || fail "bash: doctor --fix"
}

test_deb() {
        (cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null 2>&1) || {
                fail "cpack"
                return
        }
        deb=$(ls "$tmp"/deb/pod_*.deb)
        info=$(dpkg-deb -f "$deb" Depends Recommends)
        printf '%s\n' "$info" | grep -q 'libc6' || fail "Depends lacks libc6: $info"
        printf '%s\n' "$info" | grep -q 'libcurl4' || fail "Recommends lacks libcurl4: $info"
        printf '%s\n' "$info" | grep -Eq 'libjansson|libyaml|libseccomp|libpcre2' &&
                fail "a library linked statically is a dependency: $info"
        files=$(dpkg-deb -c "$deb")
        for f in ./usr/bin/pod ./usr/share/man/man1/pod.1.gz ./usr/share/man/man1/pod-doctor.1.gz \
                ./usr/share/pod/tickets.sh ./usr/share/bash-completion/completions/pod; do
                printf '%s\n' "$files" | grep -q " $f\$" || fail "the .deb lacks $f"
        done
        if [ -e /usr/bin/pod ] || dpkg -s pod >/dev/null 2>&1; then
                echo "dpkg -i not run: this system already has a pod in /usr/bin or a pod package"
        elif [ "$(id -u)" = 0 ] && [ "${POD_TEST_DPKG:-0}" = 1 ]; then
                dpkg -i "$deb" >/dev/null || fail "dpkg -i"
                /usr/bin/pod --version | grep -q '^pod ' || fail "the packaged pod does not run"
                dpkg -r pod >/dev/null || fail "dpkg -r"
        else
                echo "dpkg -i not run: it needs root and POD_TEST_DPKG=1 (CI sets both)"
        fi
}

case $mode in
prefix) test_prefix ;;
deb) test_deb ;;
*) fail "mode $mode" ;;
esac
[ "$failures" -eq 0 ] && echo "install ($mode): ok"
[ "$failures" -eq 0 ]
