#!/bin/sh
# Dependencies between the modules under src/ run downward only (DESIGN §2,
# docs/development.md): each module may include the public headers of the modules listed
# for it below and its own files, nothing else. Fails naming every include that runs upward
# or sideways, and every module header that is not the one public header or an internal one.
set -u
root=${1:-.}
status=0

allowed() {
        case $1 in
        base) echo "" ;;
        manifest) echo "base" ;;
        prompt) echo "base manifest" ;;
        sandbox) echo "base manifest" ;;
        tools) echo "base manifest sandbox" ;;
        llm) echo "base manifest" ;;
        rpc) echo "base" ;;
        pod) echo "base manifest prompt sandbox tools llm rpc" ;;
        mcp) echo "base manifest prompt sandbox tools llm rpc pod" ;;
        cli) echo "base manifest prompt sandbox tools llm rpc pod mcp" ;;
        *) echo "?" ;;
        esac
}

for dir in "$root"/src/*/; do
        mod=$(basename "$dir")
        ok=$(allowed "$mod")
        if [ "$ok" = "?" ]; then
                echo "src/$mod: not a module of DESIGN §2"
                status=1
                continue
        fi
        for f in "$dir"*.c "$dir"*.h; do
                [ -e "$f" ] || continue
                name=$(basename "$f")
                case $name in
                *.h)
                        case $name in
                        "$mod.h" | *-internal.h) ;;
                        template.h) # prompt's template engine: a library of its own (pod_template)
                                [ "$mod" = prompt ] || {
                                        echo "src/$mod/$name: a module has one public header ($mod.h)"
                                        status=1
                                }
                                ;;
                        *)
                                echo "src/$mod/$name: a module has one public header ($mod.h) and internal ones (*-internal.h)"
                                status=1
                                ;;
                        esac
                        ;;
                esac
                # #include "other/header.h": other must be below this module.
                while read -r inc; do
                        [ -z "$inc" ] || [ "$inc" = "$mod" ] && continue
                        case " $ok " in
                        *" $inc "*) ;;
                        *)
                                echo "src/$mod/$name: includes $inc/, which is not below $mod"
                                status=1
                                ;;
                        esac
                done <<EOF
$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z]*\)\/[^"]*".*/\1/p' "$f")
EOF
                # #include "x.h" without a folder: a file of this module (or one it generates).
                while read -r inc; do
                        [ -z "$inc" ] || [ -e "$dir$inc" ] || [ "$inc" = prompt-keys.h ] || {
                                echo "src/$mod/$name: includes \"$inc\", which is not in src/$mod"
                                status=1
                        }
                done <<EOF
$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"/]*\)".*/\1/p' "$f")
EOF
        done
done
# Benchmarks run a pod through pod's public header: cli has no host of its own.
if [ -e "$root/src/cli/host.h" ] || grep -q 'include "cli/host.h"' "$root"/bench/*.c; then
        echo "bench: a benchmark runs a pod through pod/pod.h (host_start_top), not cli"
        status=1
fi
[ $status = 0 ] && echo "layout: every include runs downward"
exit $status
