#!/bin/sh
# Live: two `memwarden snapshot` captures around a process that leaks
# 20 MiB (tests/progs/lk_pattern); `diff` must show it grew, matched by PID
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
trap cleanup EXIT INT TERM
if ! "$MW_BIN" snapshot "$tmp/probe" >/dev/null 2>&1 || [ ! -f "$tmp/probe/proc/meminfo" ]; then
    skip live_diff "memwarden snapshot is not available in this tree"; exit 0
fi
"$PROG" --pattern heap --rate 20971520 --cap 20971520 --seconds 10 >"$tmp/pid" &
pid=$!
sleep 0.1
"$MW_BIN" snapshot "$tmp/a" >/dev/null 2>&1
sleep 1.5
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
