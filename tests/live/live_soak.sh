#!/bin/sh
# Live test of `memwarden soak`, kept short for `make test`: three 20 s
# soaks at 1 s (the issue asks 60 s; 20 samples are enough for the trend
# and keep the test under half a minute), run side by side, each in a cgroup of
# its own: a steady program passes; a leaking one (leaker, 2 MiB/s) fails
# with reason leak; one that dies after 3 s fails with reason exited. Each
# JUnit file must parse (python3 xml.etree) with one <failure> per failed
# criterion of the JSON report. Then Ctrl-C (SIGINT) ends a soak early:
# exit 130, INTERRUPTED, an <error> in its JUnit, and no cgroup left. The steady leg runs a --load
# command beside it, which must be gone at the end. Each soak judges what
# this test controls, its own cgroup: --no-system, since the host's slab
# and shmem grow with whatever else the machine runs (issue 26: soak_steady
# failed beside other work on its 'system' criterion).
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T0=soak
[ "$(id -u)" -eq 0 ] || { skip $T0 "needs root"; exit 0; }
[ -x "$BUILD/progs/hog" ] && [ -x "$BUILD/progs/leaker" ] || { skip $T0 "build/progs not built"; exit 0; }
command -v python3 >/dev/null 2>&1 || { skip $T0 "python3 missing (JUnit check)"; exit 0; }
TMP=$(mktemp -d)
PIDS=""
NAME=mwlive-soak-$$
cleanup() {
    stop_pids -9 $PIDS
    for d in $(find /sys/fs/cgroup -maxdepth 6 -type d -name "$NAME*" 2>/dev/null); do cg_remove "$d"; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
D=${MW_SOAK_S:-20}s
soak() { # LEG CMD... (LOAD: a --load command)
    _leg=$1; shift
    "$MW_BIN" soak --name $NAME-$_leg --duration $D --interval 1s --limit 256M --no-system \
        ${LOAD:+--load "$LOAD"} --junit "$TMP/$_leg.xml" --json -- "$@" >"$TMP/$_leg.json" 2>"$TMP/$_leg.err"
    echo $? >"$TMP/$_leg.rc"
}
LOAD="sleep 300 & echo \$! > $TMP/load.pid; wait" soak steady "$BUILD/progs/hog" --max 16M --rate 64M/s &
PIDS="$PIDS $!"
soak leak "$BUILD/progs/leaker" --rate 2M/s --start 8M &
PIDS="$PIDS $!"
soak dies sh -c 'sleep 3; exit 3' &
PIDS="$PIDS $!"
wait
# check LEG RC MUST-FAIL(criterion or -) DETAIL-WORD
check_leg() {
    leg=$1 want=$2 crit=$3 word=$4
    rc=$(cat "$TMP/$leg.rc")
    out=$(python3 - "$TMP/$leg.xml" "$TMP/$leg.json" "$crit" "$word" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
xml, js, crit, word = sys.argv[1:]
rep = json.load(open(js))
suite = ET.parse(xml).getroot().find("testsuite")
cases = suite.findall("testcase")
failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
names = [c.get("name") for c in cases]
bad = []
if len(cases) != len(rep["criteria"]):
    bad.append("testcases %d != criteria %d" % (len(cases), len(rep["criteria"])))
if sorted(failures) != sorted(rep["failed"]):
    bad.append("failures %s != failed %s" % (sorted(failures), rep["failed"]))
if int(suite.get("failures")) != len(failures):
    bad.append("failures attribute %s" % suite.get("failures"))
if crit != "-":
    if crit not in failures:
        bad.append("%s did not fail" % crit)
    elif word not in failures[crit].get("message"):
        bad.append("%s failed without '%s': %s" % (crit, word, failures[crit].get("message")))
elif rep["failed"]:
    bad.append("failed: %s" % rep["failed"])
print("; ".join(bad) if bad else "ok", "|", ", ".join("%s=%s" % (c["name"], c["result"]) for c in rep["criteria"]))
PY
)
    case $out in
    ok*) [ "$rc" = "$want" ] && ok "soak_$leg" || fail "soak_$leg" "exit $rc, want $want; $out" ;;
    *) fail "soak_$leg" "exit $rc; $out" "$(tail -5 "$TMP/$leg.err")" ;;
    esac
    echo "soak $leg: exit $rc ${out#*| }" >&2
}
check_leg steady 0 - -
check_leg leak 3 leak leak
check_leg dies 3 alive exited
grep -q "^soak: .* samples" "$TMP/steady.err" && ok soak_log_lines || fail soak_log_lines "$(head -3 "$TMP/steady.err")"
# the --load command (a shell and its background sleep) was stopped at the end
lp=$(cat "$TMP/load.pid" 2>/dev/null)
if [ -n "$lp" ] && ! alive "$lp"; then ok soak_load_stopped; else fail soak_load_stopped "load sleep pid '${lp}' still alive or never started"; fi

# Ctrl-C: not a pass (issue 26: it said "PASS (partial)", exit 0 and a
# JUnit with 0 failures, so a cancelled CI job passed): exit 130,
# INTERRUPTED with what was collected, an <error> in the JUnit; the
# cgroup gone
"$MW_BIN" soak --name $NAME-int --duration 1h --interval 1s --junit "$TMP/int.xml" \
    -- sleep 3600 >"$TMP/int.out" 2>"$TMP/int.err" &
mw=$!
PIDS="$PIDS $mw"
# two samples logged: the soak runs, its cgroup made (each sample logs a line)
two_samples() { grep -q '^soak: .*, 2 samples' "$TMP/int.err"; }
wait_for 30 two_samples || echo "note: the soak logged no second sample in 30 s" >&2
kill -INT $mw
wait $mw; rc=$?
if [ $rc = 130 ] && grep -q "^soak: INTERRUPTED: interrupted by SIGINT after .* samples); not a pass" \
    "$TMP/int.out" && ! grep -q "PASS" "$TMP/int.out" && grep -q "pass *alive" "$TMP/int.out" &&
    grep -q 'errors="1"' "$TMP/int.xml" && grep -q '<error message="interrupted by SIGINT' "$TMP/int.xml" &&
    [ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name $NAME-int)" ]; then
    ok soak_sigint_interrupted
else
    fail soak_sigint_interrupted "exit $rc (want 130)" "$(cat "$TMP/int.out")" \
        "$(cat "$TMP/int.xml" 2>&1)"
fi
exit 0
