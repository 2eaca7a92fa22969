#!/bin/sh
# Live: two `memwarden snapshot` captures around a process that grows its
# heap by 8 MiB/s (tests/progs/lk_pattern); `diff` must show it grew, matched by PID
# and start time. Skips while the snapshot command is not in the tree.
. tests/lib.sh
PROG=${MW_BUILD:-build}/progs/lk_pattern
[ -x "$PROG" ] || { skip live_diff "no $PROG (run make)"; exit 0; }
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if ! "$MW_BIN" snapshot "$tmp/probe" >/dev/null 2>&1 || [ ! -f "$tmp/probe/proc/meminfo" ]; then
    skip live_diff "memwarden snapshot is not available in this tree"; exit 0
fi
# Snapshot A once the program has started (it prints its PID), snapshot B
# once its RSS really grew by 12 MiB after A: no fixed sleeps, so a loaded machine
# only makes the test slower, not wrong.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
"$PROG" --pattern heap --rate 8388608 --cap 41943040 --seconds 30 >"$tmp/pid" &
pid=$!
wait_for 10 test -s "$tmp/pid"
"$MW_BIN" snapshot "$tmp/a" >/dev/null 2>&1
start=$(awk '/^VmRSS:/ {print $2}' "$tmp/a/proc/$pid/status" 2>/dev/null)
grew() { now=$(rss_kb "$pid"); [ -n "$now" ] && [ -n "$start" ] && [ $((now - start)) -ge 12288 ]; }
wait_for 20 grew
"$MW_BIN" snapshot "$tmp/b" >/dev/null 2>&1
"$MW_BIN" diff "$tmp/a" "$tmp/b" --all --json >"$tmp/j" 2>"$tmp/err"; rc=$?
tr -d ' \n' <"$tmp/j" >"$tmp/flat"
entry=$(grep -o "{\"change\":\"same\",\"comm\":\"lk_pattern\"[^}]*\"pid_a\":$pid,\"pid_b\":$pid[^}]*}" "$tmp/flat")
d=$(echo "$entry" | sed -n 's/.*"delta_rss_bytes":\([0-9-]*\).*/\1/p')
if [ "$rc" = 0 ] && [ -n "$d" ] && [ "$d" -ge 10485760 ]; then
    ok diff_snapshots_show_growth
else
    fail diff_snapshots_show_growth "rc=$rc entry='$entry'" "$(cat "$tmp/err")"
fi
