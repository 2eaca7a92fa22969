#!/bin/sh
# Live test of the config's watch list (issue 13): the daemon's metrics
# process samples the summed RSS of the processes each pattern matches and
# exports memwarden_leak_verdict / _slope for it, labelled with the pattern
# (never a PID). A leaker (4 MiB/s) and a steady process of this test's
# own are watched for 14 s with metrics_leak_window = 10s: the leaker is a
# leak (2); the steady one is too short to judge (-1: nothing left the
# band, but 14 s cannot tell a slow leak from it; issue 26). The daemon runs with --scope on a
# cgroup this test creates (it watches everywhere, it may kill only there).
# Changes the system (a cgroup) and restores it on any exit.
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T=metrics_watch
CGROOT=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { skip $T "needs root"; exit 0; }
[ -f $CGROOT/memory.limit_in_bytes ] || { skip $T "no cgroup v1 memory controller"; exit 0; }
[ -x "$BUILD/progs/leaker" ] && [ -x "$BUILD/progs/hog" ] || { skip $T "$BUILD/progs/leaker, hog not built"; exit 0; }

CG=$CGROOT/memwarden-watch-test-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    stop_pids -9 $PIDS
    cg_remove "$CG"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cg_v1_make $T "$CG" 256M 256M || exit 0
mkdir "$TMP/tf"
cat >"$TMP/mw.conf" <<EOF2
[metrics]
metrics_textfile = $TMP/tf
metrics_interval = 1s
metrics_leak_window = 10s
watch = *mwwatch-leak-$$*
watch = *mwwatch-steady-$$*
EOF2
"$BUILD/progs/leaker" --start 4M --rate 4M/s --max 200M --name "mwwatch-leak-$$" >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$BUILD/progs/hog" --max 16M --name "mwwatch-steady-$$" >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$MW_BIN" daemon --foreground --scope "$CG" --config "$TMP/mw.conf" \
    --state-file "$TMP/state.json" 2>"$TMP/log" &
PIDS="$PIDS $!"
prom=$TMP/tf/memwarden.prom
verdict() { sed -n "s/^memwarden_leak_verdict{object=\"\\*mwwatch-$1-$$\\*\"} //p" "$prom" 2>/dev/null; }
wait_for 40 sh -c "grep -q 'mwwatch-leak-$$' '$prom' 2>/dev/null && grep -q 'mwwatch-steady-$$' '$prom'"
check "$T.leaker_is_leak" [ "$(verdict leak)" = 2 ]
check "$T.steady_is_too_short" [ "$(verdict steady)" = -1 ]
check "$T.no_pid_label" sh -c "! grep -q 'pid=' '$prom'"
grep "mwwatch-" "$prom" >&2
