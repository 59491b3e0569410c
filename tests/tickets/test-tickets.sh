#!/bin/sh
# tickets.sh end to end (DESIGN §15): each command, each doctor finding, 20 racing creates,
# hostile input, a missing or corrupt tickets dir. Run under dash:
#   dash tests/tickets/test-tickets.sh path/to/tickets.sh
set -u

tk=${1:?usage: test-tickets.sh TICKETS_SH}
sh=${TEST_SHELL:-dash}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0
tests=0

fail() {
        printf 'FAIL %s: %s\n' "$name" "$1"
        failures=$((failures + 1))
}

# run ARGS...: tickets.sh under the shell being tested; sets $out, $err and $rc.
run() {
        "$sh" "$tk" "$@" >"$root/out" 2>"$root/err"
        rc=$?
        out=$(cat "$root/out")
        err=$(cat "$root/err")
}

start() {
        name=$1
        tests=$((tests + 1))
        TICKETS_DIR=$root/$name/tickets
        export TICKETS_DIR
        mkdir -p "$root/$name"
}

expect_rc() {
        [ "$rc" = "$1" ] || fail "exit $rc, not $1 (stdout: $out; stderr: $err)"
}

contains() { # haystack needle what
        case $1 in *"$2"*) ;; *) fail "${3:-output} lacks '$2': $1" ;; esac
}

lacks() {
        case $1 in *"$2"*) fail "${3:-output} has '$2': $1" ;; esac
}

json_ok() {
        if command -v jq >/dev/null 2>&1; then
                printf '%s' "$1" | jq -e . >/dev/null 2>&1 || fail "not JSON: $1"
        fi
}

# A PATH without pod on it (doctor runs pod doctor only when pod is there).
PATH=/usr/local/bin:/usr/bin:/bin
export PATH
unset POD_NAME

# ---- each command ---------------------------------------------------------------------------

start help
run help
expect_rc 0
for c in create list show comment status close doctor; do contains "$out" "$c"; done
run frobnicate
expect_rc 2
contains "$err" "unknown command"

start create
run create "Fix the build" --body "It fails on arm64." --tag ci --tag build
expect_rc 0
[ "$out" = T-1 ] || fail "the first ID is $out"
f=$(ls "$TICKETS_DIR"/T-1-*.md 2>/dev/null)
[ "$f" = "$TICKETS_DIR/T-1-fix-the-build.md" ] || fail "file name: $f"
text=$(cat "$f")
for k in 'id: T-1' 'title: "Fix the build"' 'status: open' 'tags: [ci, build]' 'depends: []' '## Decision' '## Plan' '## Review' '## Log' 'It fails on arm64.'; do
        contains "$text" "$k" "the ticket"
done
POD_NAME=coder run create "Second" --depends T-1
expect_rc 0
[ "$out" = T-2 ] || fail "the second ID is $out"
contains "$(cat "$TICKETS_DIR"/T-2-*.md)" "owner: coder" "the ticket"
contains "$(cat "$TICKETS_DIR"/T-2-*.md)" "depends: [T-1]" "the ticket"
run create "Third" --depends T-9
expect_rc 1
contains "$err" "no ticket T-9"
run create
expect_rc 2
run create "x" --tag 'bad tag'
expect_rc 2
run create "x" --bogus
expect_rc 2

start list
run create "Alpha" --tag ui
run create "Beta"
run status T-2 "done"
run list
expect_rc 0
contains "$out" "T-1"
contains "$out" "Alpha"
contains "$out" "[ui]"
run list --status "done"
expect_rc 0
contains "$out" "Beta"
lacks "$out" "Alpha"
run list --tag ui
contains "$out" "Alpha"
lacks "$out" "Beta"
run list --json
expect_rc 0
json_ok "$out"
contains "$out" '"id": "T-1"'
contains "$out" '"tags": ["ui"]'
contains "$out" '"status": "done"'
run list --status closed
expect_rc 2

start order
i=1
while [ $i -le 11 ]; do
        run create "Ticket $i"
        i=$((i + 1))
done
run list
first=$(printf '%s\n' "$out" | head -n 1 | cut -d' ' -f1)
last=$(printf '%s\n' "$out" | tail -n 1 | cut -d' ' -f1)
{ [ "$first" = T-1 ] && [ "$last" = T-11 ]; } || fail "tickets are listed by number: $out"

start show
run create "Shown"
run show T-1
expect_rc 0
contains "$out" 'title: "Shown"'
run show 1
expect_rc 0
run show T-7
expect_rc 1
contains "$err" "no ticket T-7"
run show 'T-1; rm -rf /'
expect_rc 2

start comment
run create "Commented"
run comment T-1 "first finding"
expect_rc 0
run comment T-1 "the plan
in two lines" --section Plan
expect_rc 0
run comment T-1 "x" --section Ideas
expect_rc 2
run comment T-1 ""
expect_rc 2
text=$(cat "$TICKETS_DIR"/T-1-*.md)
contains "$text" "first finding"
contains "$text" "  in two lines"
# The plan entry is under ## Plan, before ## Review.
plan=$(sed -n '/^## Plan$/,/^## Review$/p' "$TICKETS_DIR"/T-1-*.md)
contains "$plan" "the plan" "the Plan section"
POD_NAME=reviewer run comment T-1 "looked" --section Review
contains "$(cat "$TICKETS_DIR"/T-1-*.md)" "[reviewer] looked"

start status
run create "Moving"
run status T-1 in-progress
expect_rc 0
contains "$(cat "$TICKETS_DIR"/T-1-*.md)" "status: in-progress"
contains "$(cat "$TICKETS_DIR"/T-1-*.md)" "status: in-progress" "the Log"
run status T-1 finished
expect_rc 2
run status T-1 review
contains "$(cat "$TICKETS_DIR"/T-1-*.md)" "status: review"

start close
run create "Closing"
run close T-1 --reason "verified with ctest"
expect_rc 0
text=$(cat "$TICKETS_DIR"/T-1-*.md)
contains "$text" "status: done"
contains "$text" "closed: verified with ctest"
run doctor
expect_rc 0

# ---- hostile input ----------------------------------------------------------------------------

start hostile
run create "He said \"stop\" and \\left 'now'"
expect_rc 0
run create "two
lines"
expect_rc 0
run create "\$(touch $root/pwned) \`touch $root/pwned2\`" --body "\$(touch $root/pwned3)"
expect_rc 0
{ [ ! -e "$root/pwned" ] && [ ! -e "$root/pwned2" ] && [ ! -e "$root/pwned3" ]; } || fail "a title ran a command"
long=$(printf '%10000s' '' | tr ' ' a)
run create "$long"
expect_rc 2
contains "$err" "10000 bytes"
run create "Esc $(printf '\033')]0;pwned$(printf '\007')"
expect_rc 0
n=$(find "$TICKETS_DIR" -name "T-*.md" | wc -l)
[ "$n" -eq 4 ] || fail "$n tickets, not 4: the long title made none"
run list --json
json_ok "$out"
contains "$out" 'He said \"stop\" and \\left'
contains "$out" "two lines"
contains "$out" "\$(touch"
lacks "$out" "$(printf '\033')" "list --json"
run list
lacks "$out" "$(printf '\033')" "list"
run show T-2
[ "$(printf '%s\n' "$out" | grep -c '^title:')" -eq 1 ] || fail "a newline in a title made a line"
run doctor
expect_rc 0

# ---- 20 racing creates -------------------------------------------------------------------------

start race
i=1
while [ $i -le 20 ]; do
        "$sh" "$tk" create "Racer $i" >"$root/race.$i" 2>&1 &
        i=$((i + 1))
done
wait
ids=$(cat "$root"/race.* | sort -u | wc -l)
[ "$ids" -eq 20 ] || fail "20 creates gave $ids distinct IDs: $(cat "$root"/race.*)"
files=$(find "$TICKETS_DIR" -name "T-*.md" | wc -l)
[ "$files" -eq 20 ] || fail "20 creates made $files files"
for i in $(seq 1 20); do
        [ -e "$(ls "$TICKETS_DIR"/T-"$i"-*.md 2>/dev/null)" ] || fail "T-$i is missing"
done
leftovers=$(find "$TICKETS_DIR" -name '.tmp.*' | wc -l)
[ "$leftovers" -eq 0 ] || fail "$leftovers temporary files left"
i=1
while [ $i -le 20 ]; do
        "$sh" "$tk" comment T-1 "note $i" >/dev/null 2>&1 &
        i=$((i + 1))
done
wait
notes=$(grep -c 'note [0-9]' "$TICKETS_DIR"/T-1-*.md)
[ "$notes" -eq 20 ] || fail "20 racing comments left $notes"
run doctor
expect_rc 0

# ---- a missing or corrupt tickets dir -----------------------------------------------------------

start missing
run list
expect_rc 0
contains "$err" "no tickets yet"
run list --json
[ "$out" = "[]" ] || fail "list --json of no dir: $out"
run show T-1
expect_rc 1
run doctor
expect_rc 0
run create "First"
expect_rc 0
[ -d "$TICKETS_DIR" ] || fail "create made no tickets dir"

start notadir
printf 'x' >"$root/notadir/tickets"
run list
expect_rc 1
contains "$err" "not a directory"
run create "x"
expect_rc 1
contains "$err" "not a directory"

start corrupt
run create "Good"
run create "Bad"
printf 'garbage without front matter\n' >"$TICKETS_DIR"/T-2-bad.md
run list
expect_rc 0
contains "$out" "Good"
contains "$err" "T-2-bad.md: no valid front matter"
before=$(cat "$TICKETS_DIR"/T-2-bad.md)
run comment T-2 "x"
expect_rc 1
contains "$err" "front matter is broken"
[ "$(cat "$TICKETS_DIR"/T-2-bad.md)" = "$before" ] || fail "a broken ticket was changed"
run create "Next"
[ "$out" = T-3 ] || fail "after a corrupt T-2, the next ID is $out"

# ---- each doctor finding --------------------------------------------------------------------------

start doctor
mkdir -p "$TICKETS_DIR"
good() { # id [extra front matter line]
        printf -- '---\nid: %s\ntitle: "t"\nstatus: open\ncreated: 2026-01-31T12:00:00Z\nupdated: 2026-01-31T12:00:00Z\ntags: []\nowner:\ndepends: []\n---\nbody\n\n## Log\n\n- 2026-01-31T12:00:00Z created\n' "$1"
}
good T-1 >"$TICKETS_DIR/T-1-ok.md"
run doctor
expect_rc 0
printf 'no front matter\n' >"$TICKETS_DIR/T-2-nofm.md"
printf -- '---\nid: T-3\ntitle: "t"\n' >"$TICKETS_DIR/T-3-open.md"
good T-4 | sed '/^status:/d' >"$TICKETS_DIR/T-4-nostatus.md"
good T-5 | sed 's/^status: open/status: finished/' >"$TICKETS_DIR/T-5-status.md"
good T-6 | sed 's/^created: .*/created: yesterday/' >"$TICKETS_DIR/T-6-time.md"
good T-99 >"$TICKETS_DIR/T-7-mismatch.md"
good T-8 >"$TICKETS_DIR/T-8-dup.md"
good T-8 >"$TICKETS_DIR/T-8-again.md"
good T-9 | sed 's/^depends: \[\]/depends: [T-404]/' >"$TICKETS_DIR/T-9-dep.md"
{ good T-10; printf '\n## Ideas\n'; } >"$TICKETS_DIR/T-10-section.md"
{ good T-11; printf '\n## Log\n'; } >"$TICKETS_DIR/T-11-twice.md"
{ good T-12; printf 'stray text in the log\n- not-a-time entry\n'; } >"$TICKETS_DIR/T-12-entry.md"
good T-13 >"$TICKETS_DIR/notes.md"
good T-14 | sed 's/^tags: \[\]/tags: ci/; s/^owner:/colour: red/' >"$TICKETS_DIR/T-14-keys.md"
run doctor
expect_rc 1
check() { # file:line and what
        contains "$out" "$TICKETS_DIR/$1: " "doctor"
        contains "$out" "$2" "doctor"
}
check T-2-nofm.md:1 "no front matter"
check T-3-open.md:1 "not closed"
check T-4-nostatus.md:9 "lacks status:"
check T-5-status.md:4 'status "finished"'
check T-6-time.md:5 "created is not an RFC 3339"
check T-7-mismatch.md:2 "does not match the file name (T-7)"
check T-8-dup.md:2 "id T-8 is also the id of $TICKETS_DIR/T-8-again.md"
check T-9-dep.md:9 "depends names T-404"
check T-10-section.md:17 'unknown section "Ideas"'
check T-11-twice.md:17 "section Log appears twice"
check T-12-entry.md:16 "neither an entry"
check T-12-entry.md:17 "does not start with a timestamp"
check notes.md:1 "not a ticket file name"
check T-14-keys.md:7 "tags must be a list"
check T-14-keys.md:8 "unknown key colour"
lacks "$out" "T-1-ok.md" "doctor"

# doctor runs pod doctor when pod is on PATH, and its failure fails doctor.
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "fake pod $*"\nexit 1\n' >"$root/bin/pod"
chmod +x "$root/bin/pod"
start doctor-pod
run create "Fine"
PATH=$root/bin:$PATH run doctor
expect_rc 1
contains "$out" "fake pod doctor"
printf '#!/bin/sh\necho "fake pod $*"\nexit 0\n' >"$root/bin/pod"
PATH=$root/bin:$PATH run doctor
expect_rc 0
run doctor
lacks "$out" "fake pod" "doctor without pod on PATH"

# ---- an unwritable tickets dir ------------------------------------------------------------------

start readonly
run create "Before"
if [ "$(id -u)" != 0 ]; then
        chmod 555 "$TICKETS_DIR"
        run create "After"
        expect_rc 1
        contains "$err" "cannot write in"
        contains "$err" "report the update you would have made"
        chmod 755 "$TICKETS_DIR"
else
        echo "SKIP readonly: root writes anywhere (the pod's scope case is in e2e/doctor-cli)"
fi

printf '%d tests, %d failures\n' "$tests" "$failures"
[ "$failures" -eq 0 ]
