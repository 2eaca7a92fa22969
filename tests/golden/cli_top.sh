#!/bin/sh
# memwarden top and prio on the hostile fixture tree: golden outputs (run
# with MW_UPDATE_GOLDEN=1 to rewrite them after a deliberate change), exit
# codes and messages.
. tests/lib.sh
ROOT=$FIX/procs-hostile
G=tests/golden
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

# golden NAME ARGS...: output of `memwarden --root ROOT ARGS` equals
# tests/golden/NAME (COLUMNS must not matter when stdout is not a tty).
golden() {
    name=$1; shift
    golden_run "golden $name" "$G/$name" 0 env COLUMNS=40 "$MW_BIN" --root "$ROOT" "$@"
}

golden top-procs-hostile.txt top
golden top-procs-hostile.json top --json
golden top-procs-hostile-all.txt top --all --sort pid --wide
golden top-procs-hostile-by-class.txt top --by class
golden top-procs-hostile-by-class.json top --by class --json
golden top-procs-hostile-by-program.txt top --by program
golden top-procs-hostile-by-cgroup.txt top --by cgroup --sort rss
golden top-procs-hostile-by-unit.txt top --by unit
# by systemd unit on a systemd machine: system units, a login session,
# user units named with their manager, PID 1's init.scope
for f in txt json; do
    j=; [ $f = json ] && j=--json
    golden_run "golden top-systemd-by-unit.$f" "$G/top-systemd-by-unit.$f" 0 \
        env COLUMNS=40 "$MW_BIN" --root "$FIX/daemon-systemd" top --by unit $j
done
golden prio-procs-hostile.txt prio
# top --pools on published libmwpool pages: a hostile name and comm are
# cleaned; a page with in use above its total, a torn write, a bad magic, a
# page naming another PID, a symlink and the page of a dead PID are skipped
for f in txt json; do
    j=; [ $f = json ] && j=--json
    golden_run "golden top-pools-hostile.$f" "$G/top-pools-hostile.$f" 0 \
        "$MW_BIN" --root "$FIX/pools-hostile" top --pools $j
done
golden prio-apply-procs-hostile.txt prio apply tests/fixtures/procs-hostile.rules --dry-run
golden prio-apply-procs-hostile.json prio apply tests/fixtures/procs-hostile.rules --dry-run --json

# expect NAME STATUS PATTERN ARGS...: exit status and a word of the message
expect() {
    name=$1 want=$2 pat=$3; shift 3
    "$MW_BIN" --root "$ROOT" "$@" >"$T/out" 2>"$T/err"; st=$?
    if [ "$st" -ne "$want" ]; then
        fail "$name" "exit $st, wanted $want: $(cat "$T/err")"
    elif [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out" "$T/err"; then
        fail "$name" "no '$pat' in: $(cat "$T/out" "$T/err")"
    else
        ok "$name"
    fi
}

expect "top bad option" 2 "" top --bogus
expect "top bad sort" 2 "not one of" top --sort vsz
expect "top bad by" 2 "not one of program cgroup class unit" top --by user
expect "top bad regex" 2 "match" top --match '('
expect "top unknown user" 2 "no user" top --user nobody
expect "top bad -n" 2 "" top -n 0
expect "top --help" 0 "EXAMPLES" top --help
expect "top -n 3 keeps the total" 0 "3 of 10 processes shown" top -n 3
expect "top --user by name" 0 "2 processes" top --user alice
expect "top --user by uid" 0 "1 process$" top --user 4242
expect "top --cgroup prefix" 0 "3 processes" top --cgroup /system.slice/app.service
expect "top --cgroup is whole components" 0 "0 processes" top --cgroup /system.slice/app
expect "top --match full cmdline" 0 "two words" top --match 'prog --name two' --wide
expect "top wide keeps long cmdline" 0 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" top --wide
expect "top kernel threads hidden" 0 "" top
grep -q kthreadd "$T/out" && fail "top kernel threads hidden" "kthreadd shown"
expect "prio set refused on a capture" 1 "captured tree" prio set cached 100
expect "prio set out of range" 2 "from -1000 to 1000" prio set 1001 100
expect "prio set unknown class" 2 "1001" prio set unknown 100
expect "prio set bad name" 2 "not a class" prio set Cached 100
expect "prio set needs targets" 2 "which processes" prio set cached --dry-run
expect "prio set missing pid" 1 "no process 999999" prio set cached 100 999999 --dry-run
expect "prio set kernel thread" 1 "kernel thread" prio set cached 104 --dry-run
expect "prio set zombie" 1 "zombie" prio set cached 105 --dry-run
expect "prio set dry run" 0 "would set 200 (perceptible) -> -500 (persistent_service)" prio set -500 100 --dry-run
expect "prio set dry run by match" 0 "1 would change, 1 already" prio set cached --match 'a\)b|^sleep' --dry-run
expect "prio set no match" 1 "no process matches" prio set cached --match 'no-such-thing' --dry-run
expect "prio apply on a capture" 1 "captured tree" prio apply tests/fixtures/procs-hostile.rules
printf 'ok -> cached\nbroken line\n' >"$T/bad.rules"
expect "prio apply bad rules" 1 "bad.rules:2" prio apply "$T/bad.rules" --dry-run
expect "prio apply missing rules" 1 "No such file" prio apply "$T/none.rules" --dry-run
expect "prio show one pid" 0 "camera-daemon" prio 111
expect "prio bad subcommand" 2 "unknown subcommand" prio frobnicate

if command -v python3 >/dev/null 2>&1; then
    for j in top-procs-hostile.json top-procs-hostile-by-class.json prio-apply-procs-hostile.json; do
        check "valid json $j" python3 -m json.tool "$G/$j"
    done
    # a process whose comm and cmdline hold bytes that are not UTF-8 (0xff,
    # 0xfe) and an escape sequence: every --json output still parses, and
    # the bad bytes read back as U+FFFD
    BAD=$FIX/procs-badbytes
    printf '.* -> cached\n' >"$T/all.rules"
    for args in "top --json" "top --all --json" "top --by program --json" "prio --json" \
        "prio apply $T/all.rules --dry-run --json"; do
        # shellcheck disable=SC2086
        "$MW_BIN" --root "$BAD" $args >"$T/bad.json" 2>"$T/bad.err"
        check "utf-8 json: $args" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
s = json.dumps(d, ensure_ascii=False)
assert "bad\ufffdname" in s, s
' "$T/bad.json"
    done
else
    skip "valid json" "no python3"
fi
