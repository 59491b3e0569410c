#!/bin/sh
# tickets.sh: work items kept in the repository, one Markdown file per ticket, so that
# agents and people share them (DESIGN §15, docs/tickets.md). POSIX sh; needs coreutils,
# flock, sed and awk. Every write takes a lock and replaces its file atomically, so many
# pods may use it at once.
set -u

TITLE_MAX=300     # bytes of a title (one line)
TEXT_MAX=65536    # bytes of a body, comment or reason
TAGS_MAX=32       # tags (or depends) on one ticket
LOCK_WAIT=60      # seconds to wait for another writer
SECTIONS="Decision Plan Review Log"
STATUSES="open in-progress review done"

prog=tickets.sh
root=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P) || exit 1
dir=${TICKETS_DIR:-$root/tickets}

die() { # message [exit status]
        printf '%s: %s\n' "$prog" "$1" >&2
        exit "${2:-1}"
}

usage_die() {
        die "$1 (see '$prog help')" 2
}

usage() {
        cat <<'EOF'
Usage: tickets.sh COMMAND [ARGS...]

Work items kept in the repository: one Markdown file per ticket in $TICKETS_DIR
(default: tickets/ beside this script), named <ID>-<slug>.md.

  create TITLE [--body TEXT] [--tag T]... [--depends ID]...
                        a new ticket; prints its ID (T-<n>)
  list [--status S] [--tag T] [--json]
                        the tickets, one line each (or a JSON array)
  show ID               one ticket with its comments
  comment ID TEXT [--section Decision|Plan|Review|Log]
                        add a timestamped entry (default section: Log)
  status ID open|in-progress|review|done
                        move a ticket along
  close ID [--reason TEXT]
                        mark a ticket done
  doctor                check every ticket (file:line for each problem), then run
                        'pod doctor' when pod is on PATH; exits 1 on any problem
  help                  this text

A ticket's owner is $POD_NAME when it is set. Exit status: 0 success, 1 failure,
2 usage error. docs/tickets.md describes the file format.
EOF
}

now() {
        date -u +%Y-%m-%dT%H:%M:%SZ
}

# ---- input -------------------------------------------------------------------------------

# One line: every control character (newlines included) becomes a space.
one_line() {
        printf '%s' "$1" | tr '\000-\037\177' ' '
}

# Text: control characters but tab and newline become spaces; carriage returns too.
clean_text() {
        printf '%s' "$1" | tr '\000-\010\013-\037\177' ' '
}

check_size() { # what value max
        [ "${#2}" -le "$3" ] || usage_die "$1 is ${#2} bytes; the limit is $3"
}

# A known value of a space-separated list, or a usage error.
check_in() { # what value list
        for v in $3; do
                [ "$2" = "$v" ] && return 0
        done
        usage_die "$1 '$(one_line "$2" | cut -c1-40)' is not one of: $3"
}

check_tag() {
        case $1 in
        '' | *[!A-Za-z0-9._-]*) usage_die "tag '$(one_line "$1" | cut -c1-40)': letters, digits, '.', '_' and '-' only" ;;
        esac
}

# T-<n> from "T-<n>" or "<n>".
norm_id() {
        case $1 in
        T-[1-9]* | [1-9]*)
                n=${1#T-}
                case $n in *[!0-9]*) ;; *)
                        [ "${#n}" -le 9 ] && {
                                printf 'T-%s' "$n"
                                return 0
                        }
                        ;;
                esac
                ;;
        esac
        usage_die "'$(one_line "$1" | cut -c1-40)' is not a ticket ID (T-<n>)"
}

# ---- the tickets dir ----------------------------------------------------------------------

# The dir must be readable; a pod whose scope leaves it out is told so.
need_readable() {
        if [ -e "$dir" ] && [ ! -d "$dir" ]; then
                die "$dir is not a directory (TICKETS_DIR names where tickets live)"
        fi
        [ -d "$dir" ] || return 1
        ls -a "$dir" >/dev/null 2>&1 ||
                die "cannot read $dir: permission denied. A pod whose scope does not include the tickets dir cannot use them; report what you would have read or changed instead"
        return 0
}

need_writable() {
        if [ -e "$dir" ] && [ ! -d "$dir" ]; then
                die "$dir is not a directory (TICKETS_DIR names where tickets live)"
        fi
        # true, not ':': a failed redirection of a special builtin would end the shell.
        { mkdir -p "$dir" && true >>"$dir/.lock"; } 2>/dev/null || refuse_write
}

refuse_write() {
        die "cannot write in $dir: permission denied. A pod whose scope does not let it write the tickets dir cannot change tickets; report the update you would have made instead"
}

# Run "$@" holding the tickets dir's lock (in a subshell: its exit ends only the command).
locked() {
        need_writable
        (
                flock -w "$LOCK_WAIT" 9 || die "another writer has held $dir/.lock for ${LOCK_WAIT}s"
                "$@"
        ) 9>>"$dir/.lock"
}

# The file of ticket ID (one, or an error).
ticket_file() {
        need_readable || die "no ticket $1: $dir does not exist yet"
        set -- "$1" "$dir/$1"-*.md
        [ -e "$2" ] || die "no ticket $1 in $dir"
        [ $# -eq 2 ] || die "$# files claim ticket $1 (run '$prog doctor')"
        printf '%s' "$2"
}

# A temporary file in the tickets dir, with the mode a new file would get.
tmp_file() {
        t=$(mktemp "$dir/.tmp.XXXXXX" 2>/dev/null) || refuse_write
        chmod "$(printf '%o' $((0666 & ~$(umask))))" "$t"
        printf '%s' "$t"
}

# Replace file with what the edit program makes of it (atomically: rename).
edit_file() { # file
        tmp=$(tmp_file) || exit 1
        if awk "$EDIT_AWK" "$1" >"$tmp"; then
                mv -f "$tmp" "$1" || {
                        rm -f "$tmp"
                        die "cannot replace $1"
                }
        else
                rm -f "$tmp"
                die "$1: its front matter is broken; fix it first ('$prog doctor' says where)"
        fi
}

owner() {
        case ${POD_NAME:-} in
        '' | *[!a-z0-9-]*) ;;
        *) printf '%s' "$POD_NAME" ;;
        esac
}

# ---- the edit program: update the front matter, add an entry to a section -------------------
# ENVIRON: TK_NOW, TK_STATUS ("" keeps it), TK_SECTION, TK_TEXT (the entry), TK_BY.

# shellcheck disable=SC2016 # an awk program: its $ are awk's
EDIT_AWK='
{ L[++n] = $0 }
END {
        if (L[1] != "---") exit 3
        for (i = 2; i <= n; i++) if (L[i] == "---") { fm = i; break }
        if (!fm) exit 3
        for (i = 2; i < fm; i++) {
                if (L[i] ~ /^updated:/) L[i] = "updated: " ENVIRON["TK_NOW"]
                if (ENVIRON["TK_STATUS"] != "" && L[i] ~ /^status:/) L[i] = "status: " ENVIRON["TK_STATUS"]
        }
        sec = "## " ENVIRON["TK_SECTION"]
        for (i = fm + 1; i <= n; i++) if (L[i] == sec) { s = i; break }
        if (!s) { L[++n] = ""; L[++n] = sec; s = n }
        e = n + 1
        for (i = s + 1; i <= n; i++) if (L[i] ~ /^## /) { e = i; break }
        k = e - 1
        while (k > s && L[k] == "") k--
        for (i = 1; i <= k; i++) print L[i]
        if (k == s) print ""
        m = split(ENVIRON["TK_TEXT"], T, "\n")
        by = ENVIRON["TK_BY"] != "" ? " [" ENVIRON["TK_BY"] "]" : ""
        print "- " ENVIRON["TK_NOW"] by " " T[1]
        for (j = 2; j <= m; j++) print (T[j] == "" ? "" : "  " T[j])
        if (e <= n) print ""
        for (i = e; i <= n; i++) print L[i]
}'

add_entry() { # file section status text
        TK_NOW=$(now) TK_SECTION=$2 TK_STATUS=$3 TK_TEXT=$4 TK_BY=$(owner) edit_file "$1"
}

# ---- commands ------------------------------------------------------------------------------

next_id() {
        last=0
        for f in "$dir"/T-*.md; do
                n=${f##*/T-}
                n=${n%%-*}
                case $n in '' | *[!0-9]*) continue ;; esac
                [ "${#n}" -le 9 ] && [ "$n" -gt "$last" ] && last=$n
        done
        printf '%s' $((last + 1))
}

slug_of() {
        s=$(printf '%s' "$1" | LC_ALL=C tr '[:upper:]' '[:lower:]' | LC_ALL=C tr -c 'a-z0-9' '-' | tr -s '-' | cut -c1-40 |
                sed 's/^-//; s/-$//')
        printf '%s' "${s:-ticket}"
}

write_new() { # title body tags depends
        id=T-$(next_id)
        ts=$(now)
        file=$dir/$id-$(slug_of "$1").md
        tmp=$(tmp_file) || exit 1
        qtitle=$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')
        {
                printf -- '---\nid: %s\ntitle: "%s"\nstatus: open\n' "$id" "$qtitle"
                printf 'created: %s\nupdated: %s\ntags: [%s]\n' "$ts" "$ts" "$3"
                printf 'owner:%s\ndepends: [%s]\n---\n' "$(owner | sed 's/^./ &/')" "$4"
                # A body line that looks like a section heading is escaped (Markdown shows it).
                [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^##/\\##/'
                for s in $SECTIONS; do
                        printf '\n## %s\n' "$s"
                done
                printf '\n- %s created\n' "$ts"
        } >"$tmp" || {
                rm -f "$tmp"
                die "cannot write $tmp"
        }
        if ! mv -f "$tmp" "$file"; then
                rm -f "$tmp"
                die "cannot write $file"
        fi
        printf '%s\n' "$id"
}

cmd_create() {
        title='' body='' tags='' deps='' ntags=0 got_title=''
        while [ $# -gt 0 ]; do
                case $1 in
                --body) [ $# -ge 2 ] || usage_die "--body needs TEXT"; body=$2; shift ;;
                --tag)
                        [ $# -ge 2 ] || usage_die "--tag needs T"
                        check_tag "$2"
                        ntags=$((ntags + 1))
                        tags=${tags:+$tags, }$2
                        shift
                        ;;
                --depends)
                        [ $# -ge 2 ] || usage_die "--depends needs an ID"
                        d=$(norm_id "$2") || exit 2
                        ntags=$((ntags + 1))
                        deps=${deps:+$deps, }$d
                        shift
                        ;;
                --) shift; [ $# -ge 1 ] && { title=$1; got_title=1; shift; }; continue ;;
                -?*) usage_die "create: unknown option '$(one_line "$1" | cut -c1-40)'" ;;
                *)
                        [ -z "$got_title" ] || usage_die "create: one TITLE (quote it)"
                        title=$1 got_title=1
                        ;;
                esac
                shift
        done
        [ -n "$got_title" ] || usage_die "create: a TITLE is required"
        [ "$ntags" -le "$TAGS_MAX" ] || usage_die "more than $TAGS_MAX tags and depends"
        check_size "the title" "$title" "$TITLE_MAX"
        check_size "the body" "$body" "$TEXT_MAX"
        title=$(one_line "$title" | sed 's/^ *//; s/ *$//')
        [ -n "$title" ] || usage_die "create: the TITLE is empty"
        body=$(clean_text "$body")
        for d in $(printf '%s' "$deps" | tr ',' ' '); do
                ticket_file "$d" >/dev/null || exit 1
        done
        locked write_new "$title" "$body" "$tags" "$deps"
}

# The tickets as records, sorted by number, filtered by TK_STATUS and TK_TAG; as a table, or
# JSON with TK_JSON=1.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
LIST_AWK='
BEGIN { for (i = 1; i < 32; i++) ctrl[sprintf("%c", i)] = i; ctrl[sprintf("%c", 127)] = 127 }
function unquote(v,   out, i, c) {
        if (v !~ /^".*"$/) return v
        v = substr(v, 2, length(v) - 2)
        for (i = 1; i <= length(v); i++) {
                c = substr(v, i, 1)
                if (c == "\\" && i < length(v)) { i++; c = substr(v, i, 1) }
                out = out c
        }
        return out
}
function json(s,   out, i, c) {
        for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "\\") out = out "\\\\"
                else if (c == "\"") out = out "\\\""
                else if (c in ctrl) out = out sprintf("\\u%04x", ctrl[c])
                else out = out c
        }
        return "\"" out "\""
}
function shown(s,   out, i, c) {
        for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out ((c in ctrl) ? "?" : c) }
        return out
}
function list(v,   a, n, i, out) {
        gsub(/^\[|\]$/, "", v)
        n = split(v, a, ",")
        for (i = 1; i <= n; i++) { gsub(/^ +| +$/, "", a[i]); if (a[i] != "") out = out (out == "" ? "" : "\034") a[i] }
        return out
}
function jlist(v,   a, n, i, out) {
        n = split(v, a, "\034")
        for (i = 1; i <= n; i++) out = out (i > 1 ? ", " : "") json(a[i])
        return "[" out "]"
}
function flush() {
        if (file == "") return
        if (!fm_ok) { printf "%s: %s: no valid front matter (run tickets.sh doctor)\n", prog, file > "/dev/stderr"; return }
        num = K["id"]; sub(/^T-/, "", num)
        if (ENVIRON["TK_STATUS"] != "" && K["status"] != ENVIRON["TK_STATUS"]) return
        if (ENVIRON["TK_TAG"] != "" && index("\034" list(K["tags"]) "\034", "\034" ENVIRON["TK_TAG"] "\034") == 0) return
        R[++nr] = file; N[nr] = num + 0
        for (k in K) V[nr, k] = K[k]
}
FNR == 1 { flush(); file = FILENAME; fm = 0; fm_ok = 0; split("", K) }
FNR == 1 && $0 == "---" { fm = 1; next }
fm && $0 == "---" { fm = 0; fm_ok = 1; next }
fm && match($0, /^[a-z]+:/) { K[substr($0, 1, RLENGTH - 1)] = substr($0, RLENGTH + 2) }
END {
        flush()
        for (i = 2; i <= nr; i++) for (j = i; j > 1 && N[j - 1] > N[j]; j--) {
                t = N[j]; N[j] = N[j - 1]; N[j - 1] = t; t = R[j]; R[j] = R[j - 1]; R[j - 1] = t
                for (k in Kn) { t = V[j, k]; V[j, k] = V[j - 1, k]; V[j - 1, k] = t }
        }
        if (ENVIRON["TK_JSON"] == "1") printf "["
        for (i = 1; i <= nr; i++) {
                id = V[i, "id"]; st = V[i, "status"]; ti = unquote(V[i, "title"]); tg = list(V[i, "tags"])
                if (ENVIRON["TK_JSON"] != "1") {
                        t = tg; gsub(/\034/, ",", t)
                        printf "%-7s %-12s %s%s\n", shown(id), shown(st), shown(ti), (t == "" ? "" : "  [" shown(t) "]")
                        continue
                }
                printf "%s\n  {\"id\": %s, \"title\": %s, \"status\": %s, \"created\": %s, \"updated\": %s, \"tags\": %s, \"owner\": %s, \"depends\": %s, \"file\": %s}", (i > 1 ? "," : ""), json(id), json(ti), json(st), json(V[i, "created"]), json(V[i, "updated"]), jlist(tg), json(V[i, "owner"]), jlist(list(V[i, "depends"])), json(R[i])
        }
        if (ENVIRON["TK_JSON"] == "1") printf "%s]\n", (nr ? "\n" : "")
}'

cmd_list() {
        st='' tag='' json=0
        while [ $# -gt 0 ]; do
                case $1 in
                --status) [ $# -ge 2 ] || usage_die "--status needs S"; check_in "status" "$2" "$STATUSES"; st=$2; shift ;;
                --tag) [ $# -ge 2 ] || usage_die "--tag needs T"; check_tag "$2"; tag=$2; shift ;;
                --json) json=1 ;;
                *) usage_die "list: unexpected argument '$(one_line "$1" | cut -c1-40)'" ;;
                esac
                shift
        done
        if ! need_readable; then
                [ "$json" = 1 ] && printf '[]\n'
                printf '%s: no tickets yet (%s does not exist)\n' "$prog" "$dir" >&2
                return 0
        fi
        set -- "$dir"/T-*.md
        if [ ! -e "$1" ]; then
                [ "$json" = 1 ] && printf '[]\n'
                return 0
        fi
        # The sort swaps whole records: every key a record may hold is listed here.
        TK_STATUS=$st TK_TAG=$tag TK_JSON=$json awk -v prog="$prog" \
                "BEGIN { split(\"id title status created updated tags owner depends\", a, \" \"); for (i in a) Kn[a[i]] = 1 } $LIST_AWK" "$@"
}

cmd_show() {
        [ $# -eq 1 ] || usage_die "show: one ID"
        id=$(norm_id "$1") || exit 2
        file=$(ticket_file "$id") || exit 1
        # Whatever a hand edit left in it, no control character reaches the terminal.
        tr '\000-\010\013-\037\177' '?' <"$file"
}

cmd_comment() {
        id='' text='' sec=Log got=0
        while [ $# -gt 0 ]; do
                case $1 in
                --section) [ $# -ge 2 ] || usage_die "--section needs a name"; check_in "section" "$2" "$SECTIONS"; sec=$2; shift ;;
                --) shift; continue ;;
                *)
                        case $got in
                        0) id=$(norm_id "$1") || exit 2 ;;
                        1) text=$1 ;;
                        *) usage_die "comment: ID and one TEXT (quote it)" ;;
                        esac
                        got=$((got + 1))
                        ;;
                esac
                shift
        done
        [ "$got" -eq 2 ] || usage_die "comment: ID and TEXT are required"
        check_size "the comment" "$text" "$TEXT_MAX"
        text=$(clean_text "$text")
        [ -n "$(one_line "$text" | tr -d ' ')" ] || usage_die "comment: the TEXT is empty"
        file=$(ticket_file "$id") || exit 1
        locked add_entry "$file" "$sec" "" "$text"
}

cmd_status() {
        [ $# -eq 2 ] || usage_die "status: ID and one of: $STATUSES"
        id=$(norm_id "$1") || exit 2
        check_in "status" "$2" "$STATUSES"
        file=$(ticket_file "$id") || exit 1
        locked add_entry "$file" Log "$2" "status: $2"
}

cmd_close() {
        id='' reason=''
        while [ $# -gt 0 ]; do
                case $1 in
                --reason) [ $# -ge 2 ] || usage_die "--reason needs TEXT"; reason=$2; shift ;;
                *) [ -z "$id" ] || usage_die "close: one ID"; id=$(norm_id "$1") || exit 2 ;;
                esac
                shift
        done
        [ -n "$id" ] || usage_die "close: an ID is required"
        check_size "the reason" "$reason" "$TEXT_MAX"
        reason=$(clean_text "$reason")
        file=$(ticket_file "$id") || exit 1
        locked add_entry "$file" Log "done" "closed${reason:+: $reason}"
}

# ---- doctor ----------------------------------------------------------------------------------

# Every problem as "file:line: problem"; exits 1 when there was one.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
DOCTOR_AWK='
function bad(line, msg) { printf "%s:%d: %s\n", file, line, msg; problems++ }
function ts_ok(v) { return v ~ /^[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$/ }
function finish(   k, n, a, i, want) {
        if (file == "") return
        if (!opened) { bad(1, "no front matter: the first line must be ---"); return }
        if (!closed) { bad(1, "the front matter is not closed by a --- line"); return }
        n = split("id title status created updated tags owner depends", a, " ")
        for (i = 1; i <= n; i++) if (!(a[i] in K)) bad(fm_end, "front matter lacks " a[i] ":")
        if ("id" in K && named) {
                want = substr(base, 3); sub(/-.*/, "", want); want = "T-" want
                if (K["id"] !~ /^T-[1-9][0-9]*$/) bad(KL["id"], "id \"" K["id"] "\" is not T-<n>")
                else if (K["id"] != want) bad(KL["id"], "id " K["id"] " does not match the file name (" want ")")
                else if (K["id"] in seen) bad(KL["id"], "id " K["id"] " is also the id of " seen[K["id"]])
                else seen[K["id"]] = file
        }
        if ("title" in K && (K["title"] == "" || K["title"] == "\"\"")) bad(KL["title"], "the title is empty")
        if ("status" in K && K["status"] !~ /^(open|in-progress|review|done)$/) bad(KL["status"], "status \"" K["status"] "\" is not open, in-progress, review or done")
        if ("created" in K && !ts_ok(K["created"])) bad(KL["created"], "created is not an RFC 3339 UTC time (2026-01-31T12:00:00Z)")
        if ("updated" in K && !ts_ok(K["updated"])) bad(KL["updated"], "updated is not an RFC 3339 UTC time (2026-01-31T12:00:00Z)")
        if ("tags" in K && K["tags"] !~ /^\[[^][]*\]$/) bad(KL["tags"], "tags must be a list: [a, b]")
        if ("depends" in K) {
                if (K["depends"] !~ /^\[[^][]*\]$/) bad(KL["depends"], "depends must be a list: [T-1, T-2]")
                else {
                        v = K["depends"]; gsub(/^\[|\]$/, "", v); n = split(v, a, ",")
                        for (i = 1; i <= n; i++) { gsub(/^ +| +$/, "", a[i]); if (a[i] != "") { nd++; D[nd] = a[i]; DF[nd] = file; DL[nd] = KL["depends"] } }
                }
        }
}
FNR == 1 {
        finish(); file = FILENAME; base = file; sub(/.*\//, "", base)
        opened = ($0 == "---"); closed = 0; fm_end = 1; sec = ""; split("", K); split("", KL); split("", SEEN)
        named = base ~ /^T-[1-9][0-9]*-[a-z0-9-]*\.md$/
        if (!named) bad(1, "not a ticket file name: <ID>-<slug>.md (T-1-fix-the-build.md)")
        next
}
opened && !closed {
        if ($0 == "---") { closed = 1; fm_end = FNR; next }
        if (!match($0, /^[a-z_]+:/)) { bad(FNR, "front matter line is not \"key: value\""); next }
        k = substr($0, 1, RLENGTH - 1); v = substr($0, RLENGTH + 1); sub(/^ /, "", v)
        if (k in K) bad(FNR, "key " k " appears twice")
        else if (k !~ /^(id|title|status|created|updated|tags|owner|depends)$/) bad(FNR, "unknown key " k)
        K[k] = v; KL[k] = FNR
        next
}
!closed { next }
/^## / {
        sec = substr($0, 4)
        if (sec !~ /^(Decision|Plan|Review|Log)$/) { bad(FNR, "unknown section \"" sec "\" (Decision, Plan, Review, Log)"); sec = "?"; next }
        if (sec in SEEN) bad(FNR, "section " sec " appears twice (first at line " SEEN[sec] ")")
        SEEN[sec] = FNR; entry = 0
        next
}
sec != "" && sec != "?" {
        if ($0 == "") next
        if (substr($0, 1, 2) == "- ") {
                split(substr($0, 3), w, " ")
                if (!ts_ok(w[1])) bad(FNR, "entry in " sec " does not start with a timestamp (- 2026-01-31T12:00:00Z text)")
                entry = 1; next
        }
        if (entry && substr($0, 1, 2) == "  ") next
        bad(FNR, "line in " sec " is neither an entry (- TIMESTAMP text) nor its continuation (indented)")
}
END {
        finish()
        for (i = 1; i <= nd; i++) if (!(D[i] in seen)) { file = DF[i]; bad(DL[i], "depends names " D[i] ", which does not exist") }
        exit problems ? 1 : 0
}'

cmd_doctor() {
        [ $# -eq 0 ] || usage_die "doctor takes no arguments"
        status=0
        if ! need_readable; then
                printf '%s: ok: no tickets dir yet (%s)\n' "$prog" "$dir"
        else
                set -- "$dir"/*.md
                if [ -e "$1" ]; then
                        awk "$DOCTOR_AWK" "$@" || status=1
                fi
                [ -e "$1" ] && n=$# || n=0
                if [ "$status" = 0 ]; then
                        printf '%s: ok: %s ticket(s) in %s\n' "$prog" "$n" "$dir"
                else
                        printf '%s: problems found in %s (each line: file:line: problem)\n' "$prog" "$dir"
                fi
        fi
        if command -v pod >/dev/null 2>&1; then
                printf '%s: running pod doctor\n' "$prog"
                pod doctor || status=1
        fi
        return "$status"
}

# ---- main ----------------------------------------------------------------------------------

[ $# -ge 1 ] || {
        usage >&2
        exit 2
}
cmd=$1
shift
case $cmd in
create) cmd_create "$@" ;;
list) cmd_list "$@" ;;
show) cmd_show "$@" ;;
comment) cmd_comment "$@" ;;
status) cmd_status "$@" ;;
close) cmd_close "$@" ;;
doctor) cmd_doctor "$@" ;;
help | --help | -h) usage ;;
*) usage_die "unknown command '$(one_line "$cmd" | cut -c1-40)'" ;;
esac
