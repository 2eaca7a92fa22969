#!/bin/sh
# Live test of the daemon's runaway rule on a fork storm, confined to a
# cgroup v1 memory cgroup (256 MiB, memory+swap 512 MiB) with zram swap:
# a protected process at adj 0 touching 64 MiB, then `hog --procs 16` whose
# parent stays at adj 0 while its 16 children (adj 800, same parent and
# name, seconds old) each take 32 MiB at once -- 512 MiB, more than memory
# plus swap: with the runaway rule off (runaway_fill_time = 0) the daemon
# kills them one by one and the memcg OOM killer still fires. The daemon,
# --scope on that cgroup only, must kill the storm as ONE unit: a single
# kill line with runaway=yes and group=K/N, the lead plus K >= half the
# storm signalled, every child gone within seconds, the memcg OOM killer
# silent, the protected process and the storm's parent alive, and the
# history line carrying "runaway":{..."group":N...}.
# Changes the system (cgroup; a zram swap unless one with 512 MiB free is
# there: tests/lib.sh zram_swap_on) and restores it on any exit.
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T=daemon_storm
CGROOT=/sys/fs/cgroup/memory
PROCS=16 MIB=32

[ "$(id -u)" -eq 0 ] || { skip $T "needs root"; exit 0; }
[ -f $CGROOT/memory.limit_in_bytes ] || { skip $T "no cgroup v1 memory controller"; exit 0; }
[ -x "$BUILD/progs/hog" ] && [ -x "$BUILD/progs/lt_touch" ] ||
    { skip $T "$BUILD/progs/hog, lt_touch not built (make $BUILD/progs/hog $BUILD/progs/lt_touch)"
      exit 0; }

CG=$CGROOT/memwarden-storm-$$
TMP=$(mktemp -d)
PIDS="" storm_pid=""
cleanup() {
    # the storm's parent first: on SIGTERM it SIGKILLs and reaps its own workers
    [ -n "$storm_pid" ] && stop_pids "$storm_pid"
    stop_pids -9 $PIDS
    # only processes this test started can be in its cgroup
    [ -d "$CG" ] && for p in $(cat "$CG/cgroup.procs"); do kill -9 "$p" 2>/dev/null; done
    cg_remove "$CG"
    zram_swap_off
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

zram_swap_on $T 512M || exit 0
cg_v1_make $T "$CG" 256M 512M || exit 0

oom_kills() { awk '/^oom_kill /{print $2}' "$CG/memory.oom_control"; }
children() { cat "/proc/$1/task/$1/children" 2>/dev/null; }
uptime_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
nkids() { [ "$(children "$storm_pid" | wc -w)" -eq "$1" ]; }

log=$TMP/daemon.log hist=$TMP/hist.jsonl st=$TMP/touch
"$BUILD/progs/lt_touch" 64 "$st" "$CG" 0 2>"$TMP/touch.err" &
touch_pid=$!
PIDS="$PIDS $touch_pid"
wait_for 20 test -s "$st" || { fail $T "protected process did not start"; exit 0; }
before=$(oom_kills)
"$MW_BIN" daemon --foreground --scope "$CG" --history "$hist" \
    --state-file "$TMP/state.json" 2>"$log" &
mw_pid=$!
PIDS="$PIDS $mw_pid"
wait_for 10 grep -q 'started:' "$log" || { fail $T "daemon did not start"; cat "$log" >&2; exit 0; }

# The storm: the wrapper joins the cgroup at adj 0 and becomes the hog
# parent; the children inherit the cgroup, set their own adj and then
# append "PID 800 hog" to the registry (the parent "PID 0 storm-parent").
t0=$(uptime_ms)
MW_REGISTRY=$TMP/registry sh -c \
    'echo $$ >"$1/cgroup.procs" && echo 0 >/proc/self/oom_score_adj && shift && exec "$@"' \
    sh "$CG" "$BUILD/progs/hog" --procs $PROCS --max ${MIB}M --adj 800 \
    >"$TMP/storm.out" 2>"$TMP/storm.err" &
storm_pid=$!
wait_for 30 grep -q '^<[0-9]>kill pid=' "$log" &&
    seen="kill line seen $(($(uptime_ms) - t0)) ms after the storm started (0.1 s polls)" ||
    seen="no kill line within 30 s"
# all storm children dead and reaped by their parent
wait_for 5 nkids 0
kids_gone=$?
sleep 1 # a second kill (a leftover runaway, the parent) would show by now
after=$(oom_kills)

lines=$(grep -c '^<[0-9]>kill pid=' "$log")
line=$(grep '^<[0-9]>kill pid=' "$log" | head -1)
lead=$(echo "$line" | sed -n 's/^<[0-9]>kill pid=\([0-9]*\) .*/\1/p')
g_k=$(echo "$line" | sed -n 's|.* group=\([0-9]*\)/\([0-9]*\).*|\1|p')
g_n=$(echo "$line" | sed -n 's|.* group=\([0-9]*\)/\([0-9]*\).*|\2|p')
lead_in_storm=no
kids=$(awk '$2 == 800 {print $1}' "$TMP/registry" 2>/dev/null)
for p in $kids; do [ "$p" = "$lead" ] && lead_in_storm=yes; done
if [ "$lines" -eq 1 ] && echo "$line" | grep -q ' runaway=yes ' && [ -n "$g_k" ] &&
    [ $lead_in_storm = yes ] && [ $((2 * (g_k + 1))) -ge $PROCS ]; then
    ok $T.one_kill_line
else
    fail $T.one_kill_line "kill lines: $lines, first: '$line'," \
        "lead in storm: $lead_in_storm ($(echo $kids | wc -w) children registered)," \
        "group: ${g_k:-?}/${g_n:-?} (+1 lead, want >= $PROCS/2)"
    cat "$log" >&2
fi
if [ $kids_gone -eq 0 ]; then ok $T.children_gone; else
    fail $T.children_gone "storm children still there: $(children "$storm_pid")"; fi
check $T.no_memcg_oom [ "$before" = "$after" ]
check $T.protected_alive alive "$touch_pid"
check $T.parent_alive alive "$storm_pid"
check $T.history [ "$(grep -c '"runaway":{.*"group":'"${g_n:-x}"',' "$hist")" -eq 1 ]
stop_pids "$mw_pid" "$touch_pid"
stop_pids "$storm_pid" # prints its summary: "killed" = workers that died of a signal
storm_pid=
# Timings: hog's "settled in" is from before its first fork to the last
# worker's death (every worker died before reaching --max) or --max.
echo "storm: ${line#<?>}" >&2
echo "storm: $seen;" \
    "$(sed -n 's/^hog: storm //p' "$TMP/storm.err" | grep . || echo 'storm never settled');" \
    "hog parent: $(cat "$TMP/storm.out"); protected: $(cat "$st");" \
    "memcg oom_kill $before -> $after" >&2
