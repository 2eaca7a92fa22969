#!/bin/sh
# Live test of the daemon beside systemd (lmk/sdunit.h, docs/design.md
# "Living with systemd"), in cgroups of its own and with --scope on its own
# memory cgroup, never system-wide. The test lays out a systemd-like tree
# under the cgroup2 mount (a slice of its own, units below it), marks units
# as ManagedOOMPreference= does (setfattr user.oomd_omit / user.oomd_avoid,
# what systemd writes) and puts every process both there and in the memory
# cgroup the daemon guards (v1 memory on a hybrid host, v2 when the memory
# controller is there).
# - keep: four idle programs of one size at adj 900 -- in plain.service,
#   db-omit.service (omit), db-avoid.service (avoid) and a unit named
#   systemd-logind.service -- beside a hog that grows without bound: the
#   plain one dies (the line's other side), the marked ones live, the hog
#   dies, the memory cgroup's OOM killer never fires.
# - unit: a fork storm (hog --procs 6) in storm.service beside an idle
#   process started before it: the storm is killed as its unit
#   (cgroup_killed=yes unit=storm.service; the idle one dies with it), a
#   bystander in another unit lives.
# - unit-protected: the same storm with a protected process in its unit:
#   the workers die one by one, not the unit; the protected one lives.
# Changes the system (cgroups, a zram swap unless one with 512 MiB free is
# there) and restores it on any exit.
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T=daemon_units

[ "$(id -u)" -eq 0 ] || { skip $T "needs root"; exit 0; }
V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$V2" ] || { skip $T "no cgroup2 mount"; exit 0; }
command -v setfattr >/dev/null || { skip $T "setfattr not installed (the attr package; .ci/run installs it)"; exit 0; }
for p in lt_touch lt_hog hog; do
    [ -x "$BUILD/progs/$p" ] || { skip $T "$BUILD/progs/$p not built"; exit 0; }
done

TMP=$(mktemp -d)
SLICE=$V2/memwarden-units-$$.slice
PIDS=""
SCOPE=""
cleanup() {
    stop_pids -9 $PIDS
    for d in "$SLICE"/*/; do [ -d "$d" ] && cg_remove "${d%/}"; done
    cg_remove "$SLICE"
    [ -n "$SCOPE" ] && [ "$SCOPE" != "$SLICE" ] && cg_remove "$SCOPE"
    zram_swap_off
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir "$SLICE" || { skip $T "cannot create $SLICE"; exit 0; }
mkdir "$SLICE/probe.service" && setfattr -n user.oomd_omit -v 1 "$SLICE/probe.service" 2>/dev/null ||
    { skip $T "no user.* extended attributes on cgroup2 (kernel < 5.7)"; exit 0; }
rmdir "$SLICE/probe.service"
[ -e "$SLICE/cgroup.kill" ] || echo "note: no cgroup.kill (kernel < 5.14): a unit dies member by member" >&2
zram_swap_on $T 512M || exit 0
if grep -qw memory "$V2/cgroup.controllers" && echo +memory >"$V2/cgroup.subtree_control" 2>/dev/null &&
    [ -e "$SLICE/memory.max" ]; then
    SCOPE=$SLICE # pure v2: the slice is the memory cgroup too
    echo 256M >"$SCOPE/memory.max"
    echo 256M >"$SCOPE/memory.swap.max"
    oom_kills() { awk '/^oom_kill /{print $2}' "$SCOPE/memory.events"; }
elif [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    SCOPE=/sys/fs/cgroup/memory/memwarden-units-$$
    cg_v1_make $T "$SCOPE" 256M 512M || exit 0
    oom_kills() { awk '/^oom_kill /{print $2}' "$SCOPE/memory.oom_control"; }
else
    skip $T "no memory cgroup to guard (neither v1 memory nor v2 with memory)"
    exit 0
fi

# in_unit UNIT CMD...: runs CMD in the guarded memory cgroup and in the
# unit's cgroup under the slice (made when missing). Started with '&', its
# $! is CMD's PID: the function's subshell execs into it.
in_unit() {
    _u=$SLICE/$1
    shift
    [ -d "$_u" ] || mkdir "$_u"
    exec sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' \
        sh "$SCOPE" "$_u" "$@"
}
gone() { ! alive "$1"; }
# workers PID: the live children of PID (a storm's workers)
workers() {
    _n=0
    for _c in $(pgrep -P "$1"); do alive "$_c" && _n=$((_n + 1)); done
    echo $_n
}
no_workers() { [ "$(workers "$1")" -eq 0 ]; }
kill_line() { grep "kill pid=$1 " "$2" | head -1 | sed 's/^<.>//'; }
# daemon NAME CONFIG: starts the daemon on the scope, sets MW
daemon() {
    : >"$TMP/$1.log"
    "$MW_BIN" daemon --foreground --scope "$SCOPE" --config "$2" --history "$TMP/$1.hist" \
        --state-file "$TMP/$1.state" 2>"$TMP/$1.log" &
    MW=$!
    PIDS="$PIDS $MW"
    wait_for 10 grep -q 'started:' "$TMP/$1.log"
}

# ---- keep: omit, avoid and the system's own live; the plain one dies ----
printf '[killer]\nadj_mode = android\n' >"$TMP/keep.conf"
for u in plain db-omit db-avoid systemd-logind; do
    in_unit $u.service "$BUILD/progs/lt_touch" 40 "$TMP/$u.st" "$SLICE/$u.service" 900 2>/dev/null &
    eval "P_$(echo $u | tr - _)=\$!"
    PIDS="$PIDS $!"
done
# in_unit makes the unit's cgroup in the background: mark it once it is there
wait_for 10 test -d "$SLICE/db-omit.service" && wait_for 10 test -d "$SLICE/db-avoid.service"
setfattr -n user.oomd_omit -v 1 "$SLICE/db-omit.service"
setfattr -n user.oomd_avoid -v 1 "$SLICE/db-avoid.service"
for u in plain db-omit db-avoid systemd-logind; do
    wait_for 20 test -s "$TMP/$u.st" || { fail "$T.keep" "$u did not start"; exit 0; }
done
# a capture keeps the marks memwarden honours, as files (git and tar keep
# no extended attributes: proc/cgunit.h)
"$MW_BIN" snapshot "$TMP/snap" >/dev/null 2>&1
check $T.snapshot_marks test -e "$TMP/snap$SLICE/db-omit.service/user.oomd_omit" \
    -a -e "$TMP/snap$SLICE/db-avoid.service/user.oomd_avoid" \
    -a ! -e "$TMP/snap$SLICE/plain.service/user.oomd_omit" \
    -a -s "$TMP/snap$SLICE/plain.service/cgroup.procs"
rm -rf "$TMP/snap"
before=$(oom_kills)
daemon keep "$TMP/keep.conf" || { fail "$T.keep" "daemon did not start"; cat "$TMP/keep.log" >&2; exit 0; }
in_unit job.service "$BUILD/progs/lt_hog" "" 0 4 40 >/dev/null 2>&1 &
hog=$!
PIDS="$PIDS $hog"
wait_for 60 gone "$hog"
wait "$hog" 2>/dev/null
wait "$P_plain" 2>/dev/null
if gone "$hog" && gone "$P_plain" && alive "$P_db_omit" && alive "$P_db_avoid" &&
    alive "$P_systemd_logind" && [ "$before" = "$(oom_kills)" ] &&
    kill_line "$P_plain" "$TMP/keep.log" | grep -q 'unit=plain.service' &&
    ! grep -Eq "kill pid=($P_db_omit|$P_db_avoid|$P_systemd_logind) " "$TMP/keep.log"; then
    ok "$T.keep"
else
    fail "$T.keep" "hog gone: $(gone $hog && echo yes || echo no), plain gone: $(gone $P_plain && echo yes || echo no)," \
        "omit/avoid/logind alive: $(alive $P_db_omit && echo y || echo n)/$(alive $P_db_avoid && echo y || echo n)/$(alive $P_systemd_logind && echo y || echo n)," \
        "memcg oom_kill $before -> $(oom_kills)"
    cat "$TMP/keep.log" >&2
fi
grep 'kill pid=' "$TMP/keep.log" | sed 's/^<.>/keep: /' >&2
stop_pids "$MW" $P_db_omit $P_db_avoid $P_systemd_logind
wait_for 10 sh -c "[ -z \"\$(cat $SCOPE/cgroup.procs)\" ]"

# ---- unit: a fork storm dies as its unit; a bystander lives ----
# storm_leg NAME PROTECT(0/1)
storm_leg() {
    name=$1 protect=$2
    printf '[victims]\nprotect = exe:%s\n' "$(readlink -f "$BUILD/progs/lt_touch")" >"$TMP/$name.conf"
    in_unit other.service "$BUILD/progs/hog" --max 32M --rate 64M/s >/dev/null 2>&1 &
    by=$!
    in_unit storm.service sleep 300 &
    idle=$!
    PIDS="$PIDS $idle $by"
    guard=""
    if [ "$protect" = 1 ]; then
        in_unit storm.service "$BUILD/progs/lt_touch" 8 "$TMP/$name.pr" "$SLICE/storm.service" 0 2>/dev/null &
        guard=$!
        PIDS="$PIDS $guard"
        wait_for 20 test -s "$TMP/$name.pr"
    fi
    sleep 2 # the bystander holds its 32 MiB, the idle process is older than the storm
    before=$(oom_kills)
    daemon "$name" "$TMP/$name.conf" || { fail "$T.$name" "daemon did not start"; return; }
    in_unit storm.service "$BUILD/progs/hog" --procs 6 --rate 12M/s --duration 60s >/dev/null 2>&1 &
    storm=$!
    PIDS="$PIDS $storm"
    wait_for 60 grep -q 'kill pid=' "$TMP/$name.log"
    wait_for 20 no_workers "$storm"
    workers_left=$(workers "$storm")
    line=$(grep 'kill pid=' "$TMP/$name.log" | head -1 | sed 's/^<.>//')
    if [ "$protect" = 0 ]; then
        wait_for 5 gone "$idle"
        if echo "$line" | grep -q 'unit=storm.service' && echo "$line" | grep -q 'cgroup_killed=yes' &&
            gone "$idle" && gone "$storm" && alive "$by" && [ "$before" = "$(oom_kills)" ]; then
            ok "$T.$name"
        else
            fail "$T.$name" "line: '$line', idle gone: $(gone $idle && echo yes || echo no)," \
                "bystander alive: $(alive $by && echo yes || echo no), memcg oom_kill $before -> $(oom_kills)"
            cat "$TMP/$name.log" >&2
        fi
    else
        if [ "$workers_left" -eq 0 ] && echo "$line" | grep -q 'unit=storm.service' &&
            ! grep -q 'cgroup_killed=yes' "$TMP/$name.log" && alive "$guard" && alive "$idle" &&
            alive "$by" && [ "$before" = "$(oom_kills)" ]; then
            ok "$T.$name"
        else
            fail "$T.$name" "line: '$line', workers left: $workers_left," \
                "protected alive: $(alive $guard && echo yes || echo no), memcg oom_kill $before -> $(oom_kills)"
            cat "$TMP/$name.log" >&2
        fi
    fi
    echo "$name: $line" >&2
    stop_pids "$MW"
    stop_pids -9 "$storm" $idle $by $guard
    wait_for 10 sh -c "[ -z \"\$(cat $SCOPE/cgroup.procs)\" ]"
}
storm_leg unit 0
storm_leg unit_protected 1
