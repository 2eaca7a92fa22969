#!/bin/sh
# The README's examples work as shown (issue 25). Every command line in the
# README's code blocks ("memwarden ...", "$ memwarden ..." or "make ...") is
# listed below, either run or listed as not run with the reason:
#   - run on a fixture tree (--root), in a fresh directory of its own (also
#     $HOME) holding the files it names, and checked for the exit status
#     given here, which the README's "Exit status" table must give for its
#     command; a long-running example is ended with SIGTERM once it has done
#     its first piece of work; a "$ " example's output lines shown in the
#     README (but "...") must be in the output;
#   - "make" examples are run as make -n (the target exists and would run);
#   - not run: what it would change on this machine, and which test runs it.
# An example missing from the list, or listed but gone from the README, is
# a FAIL; so is an option an example uses (run or not) that its command's
# --help does not know. And the README's "Layout" names every module.
. tests/lib.sh
scratch
README=${MW_README:-README.md}
ROOT=$(pwd)
export MW_BIN FIX
n=0
LISTED="$T/listed"
: >"$LISTED"

# The examples: one a line, as written in the README's code blocks.
awk '/^```/ { inb = !inb; next }
     inb && /^(\$ )?(memwarden|make) / { sub(/^\$ /, ""); sub(/[ \t]+#.*$/, ""); print }' \
    "$README" >"$T/examples"
# The output a "$ memwarden ..." example shows, for example_output.
shown_output() { # EXAMPLE: the lines after "$ EXAMPLE" up to the block's end
    awk -v ex="\$ $1" '/^```/ { if (on) exit; next } on { print } $0 == ex { on = 1 }' "$README"
}
# The exit codes the README gives COMMAND: one table for every command, so
# a row of "## Exit status"'s table whose first cell is RC.
doc_rc_ok() { # COMMAND RC
    sed -n '/^## Exit status/,/^## /p' "$README" |
        awk -F'|' -v rc="$2" '$2 ~ /[0-9]/ && $2 + 0 == rc { f = 1 } END { exit !f }'
}
# The command word of EXAMPLE ("memwarden [--root DIR] CMD ..."): CMDWORD.
command_of() {
    set -- $1
    [ "$1" = make ] && { CMDWORD=make-$2; return; }
    shift
    [ "$1" = --root ] && shift 2
    CMDWORD=$1
}
# Every option EXAMPLE uses is in its command's --help (or the global help).
options_known() { # NAME EXAMPLE
    command_of "$2"
    "$MW_BIN" help "$CMDWORD" >"$T/help" 2>&1 || { fail "$1.options" "no help for '$CMDWORD'"; return; }
    "$MW_BIN" --help >>"$T/help" 2>&1
    unknown=""
    for tok in $(printf '%s\n' "$2" | sed 's/ -- .*//'); do
        case $tok in
        --) break ;;
        -*) tok=${tok%%=*}
            grep -Eq -- "(^|[^a-z-])$tok([^a-z-]|$)" "$T/help" || unknown="$unknown $tok" ;;
        esac
    done
    if [ -z "$unknown" ]; then ok "$1.options"; else fail "$1.options" "not in '$CMDWORD --help':$unknown"; fi
}
listed() { # EXAMPLE: counts it, names it (NAME), fails it when the README does not show it
    n=$((n + 1))
    command_of "$1"
    NAME="readme.$n.$CMDWORD"
    printf '%s\n' "$1" >>"$LISTED"
    grep -qxF -- "$1" "$T/examples" || { fail "$NAME" "listed here but not in $README: $1"; return 1; }
}
# ex EXAMPLE RC HOW [SETUP [WHEN]]: HOW is "root:FIXTURE" (run with --root
# tests/fixtures/FIXTURE, or --root ./DIR, a tree SETUP made), "asis" (run
# as written), "term:FIXTURE" (as root:, then SIGTERM once WHEN holds) or
# "make" (make -n). SETUP runs first in the example's directory ($FIX is
# the fixtures).
ex() {
    listed "$1" || return 0
    name=$NAME
    d="$T/ex.$n"
    mkdir -p "$d/home"
    case $3 in
    make) (unset MAKEFLAGS MAKELEVEL MFLAGS; cd "$ROOT" && eval "$1 -n") >"$d/out" 2>"$d/err"
          rc=$? ;;
    *)  fix=${3#*:}
        case $3 in
        asis) pre='"$MW_BIN"' ;;
        *:./*) pre='"$MW_BIN" --root "'$fix'"' ;;
        *) pre='"$MW_BIN" --root "$FIX/'$fix'"' ;;
        esac
        cmd="exec $pre ${1#memwarden }"
        options_known "$name" "$1"
        if [ -n "${4:-}" ]; then (cd "$d" && eval "$4") || { fail "$name" "setup failed: $4"; return 0; }; fi
        case $3 in
        term:*)
            (cd "$d" && HOME="$d/home" exec sh -c "$cmd") >"$d/out" 2>"$d/err" &
            pid=$!
            PIDS="$PIDS $pid"
            if ! (cd "$d" && wait_for 10 sh -c "$5"); then
                fail "$name" "$1: '$5' did not come true within 10 s" "$(head -5 "$d/err")"
            fi
            kill -TERM "$pid" 2>/dev/null
            wait "$pid"; rc=$? ;;
        *)  (cd "$d" && HOME="$d/home" exec sh -c "$cmd") >"$d/out" 2>"$d/err"
            rc=$? ;;
        esac
        command_of "$1"
        doc_rc_ok "$CMDWORD" "$2" || fail "$name.documented" "$README's exit table gives $CMDWORD no exit $2"
        ;;
    esac
    if [ "$rc" != "$2" ]; then
        fail "$name" "$1: exit $rc, want $2" "$(head -5 "$d/err")"
        return 0
    fi
    missing=$(shown_output "$1" | grep -vx '\.\.\.' | while IFS= read -r l; do
        grep -qxF -- "$l" "$d/out" || printf '%s\n' "$l"; done)
    if [ -n "$missing" ]; then fail "$name" "$1: output lines the README shows are not in the output:" "$missing"; return 0; fi
    ok "$name"
}
# notrun EXAMPLE REASON: listed as not run, its options still checked.
notrun() {
    listed "$1" || return 0
    options_known "$NAME" "$1"
    echo "not run: $1 -- $2" >&2
}

ex 'make run' 0 make
ex 'make test' 0 make
ex 'make install PREFIX=/usr' 0 make
ex 'make static' 0 make
ex 'make deb' 0 make
ex 'memwarden status' 0 root:host-24g
ex 'memwarden top --by class' 0 root:procs-hostile
ex 'memwarden prio apply prio.rules --dry-run' 0 root:procs-hostile 'cp "$FIX/procs-hostile.rules" prio.rules'
ex 'memwarden watch --system -i 5s --record mem.jsonl' 0 term:host-24g '' 'test -s mem.jsonl'
ex 'memwarden leak --from mem.jsonl --system' 3 root:host-24g 'cp "$FIX/records/sunreclaim-1h.jsonl" mem.jsonl'
ex 'memwarden slab --top 5' 0 root:host-24g
ex 'memwarden shm' 0 root:shm-a
ex 'memwarden snapshot ~/mw-before' 0 root:host-24g
ex 'memwarden diff ~/mw-before ~/mw-after' 0 asis \
    'cp -r "$FIX/diff-a" home/mw-before && cp -r "$FIX/diff-b" home/mw-after'
ex 'memwarden analyze serial.log --danger 200K' 3 asis 'cp "$FIX/logs/luat-decline.log" serial.log'
ex 'memwarden oom' 3 root:./kroot 'mkdir -p kroot/dev && cp "$FIX/oom/6.18-memcg-v1.kmsg" kroot/dev/kmsg'
ex 'memwarden doctor' 3 root:doctor-rk3588-4g
ex 'memwarden tune --profile embedded-4g' 0 root:doctor-rk3588-4g
ex 'memwarden zram status' 0 root:vm-512m
ex 'memwarden drop-caches' 0 root:host-24g
notrun 'memwarden run --limit 512M -- ./app --config prod.yaml' \
    'makes a memory cgroup on this machine (tests/live/live_run.sh, live_vm_run.sh run it)'
notrun 'memwarden soak --duration 24h --limit 4G --max-pss 3G --junit soak.xml -- ./app' \
    'runs for a day in a cgroup of its own (tests/live/live_soak.sh runs 20 s soaks)'
notrun 'memwarden daemon --foreground --dry-run' \
    'runs until stopped and writes /run/memwarden (tests/live/live_daemon_reload.sh runs it in --dry-run)'
ex 'memwarden metrics' 0 root:host-24g
ex 'memwarden report mem.jsonl -o mem.html' 0 asis 'cp "$FIX/records/visioncore-2h.jsonl" mem.jsonl'

# every README example is listed above
new=$(grep -vxF -f "$LISTED" "$T/examples")
if [ -z "$new" ]; then ok readme_examples_listed; else fail readme_examples_listed "README examples not listed in $0:" "$new"; fi

# the options the "Commands" prose names (`--opt` in a **command**'s
# paragraph) are in that paragraph's commands' --help
sed -n '/^## Commands/,/^## Exit/p' "$README" | awk '
    /^\*\*/ { names = ""; s = $0
               while (match(s, /\*\*[a-z-]+\*\*/)) { names = names " " substr(s, RSTART + 2, RLENGTH - 4); s = substr(s, RSTART + RLENGTH) } }
    /^$/ { names = "" }
    names != "" { s = $0
                  while (match(s, /`-[-a-zA-Z]+/)) { print names "|" substr(s, RSTART + 1, RLENGTH - 1); s = substr(s, RSTART + RLENGTH) } }' \
    >"$T/prose"
unknown=""
while IFS='|' read -r cmds tok; do
    "$MW_BIN" --help >"$T/help" 2>&1
    for c in $cmds; do "$MW_BIN" help "$c" >>"$T/help" 2>&1; done
    grep -Eq -- "(^|[^a-z-])$tok([^a-z-]|$)" "$T/help" || unknown="$unknown $tok ($cmds)"
done <"$T/prose"
if [ -s "$T/prose" ] && [ -z "$unknown" ]; then ok readme_prose_options
else fail readme_prose_options "options the README names that --help does not know:${unknown:- (none found: the parse broke)}"; fi

# every command of `memwarden --help` has its paragraph ("**command**") in
# the README's "Commands"
sed -n '/^## Commands/,/^## Exit/p' "$README" >"$T/commands"
nodoc=""
for c in $("$MW_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ { print $1 }'); do
    grep -qF -- "**$c**" "$T/commands" || nodoc="$nodoc $c"
done
if [ -z "$nodoc" ]; then ok readme_every_command; else fail readme_every_command "commands the README's Commands does not describe:$nodoc"; fi

# "Layout" names every module (src/LAYER/NAME.c or .h; cli_<command>.c as a kind)
sed -n '/^## Layout/,/^## /p' "$README" >"$T/layout"
unnamed=""
for f in src/*/*.c src/*/*.h; do
    m=$(basename "$f"); m=${m%.[ch]}
    case $m in cli_*) continue ;; esac
    grep -qw -- "$m" "$T/layout" || unnamed="$unnamed $f"
done
if [ -z "$unnamed" ]; then ok readme_layout_every_module; else fail readme_layout_every_module "not named in Layout:$unnamed"; fi
