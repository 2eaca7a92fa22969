#!/bin/sh
# Live test of `memwarden daemon --scope` on a cgroup v1 memory cgroup:
# a 256 MiB cgroup (memory+swap 512 MiB) with zram swap, a protected
# process touching 64 MiB (adj -900 when allowed, else the lowest this
# machine allows) and a hog at adj 900 that allocates without bound.
# Legs: psi strategy (lmkd's low_mem under pressure), psi strategy with
# that rule off (so zram swap fills: low_mem_and_swap), minfree strategy,
# --dry-run, and a kill-restart loop. Each real leg must
# kill the hog with a logged reason before the memcg OOM killer fires
# (oom_kill unchanged) and leave the protected process alone; the dry run
# must kill nothing (the test then ends the hog itself).
# Changes the system (cgroup; a zram swap unless one with 512 MiB free is
# there: tests/lib.sh zram_swap_on) and restores it on any exit.
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T=daemon_scope
CGROOT=/sys/fs/cgroup/memory

[ "$(id -u)" -eq 0 ] || { skip $T "needs root"; exit 0; }
[ -f $CGROOT/memory.limit_in_bytes ] || { skip $T "no cgroup v1 memory controller"; exit 0; }
[ -x "$BUILD/progs/lt_hog" ] && [ -x "$BUILD/progs/lt_touch" ] ||
    { skip $T "build/progs/lt_hog, lt_touch not built"; exit 0; }

CG=$CGROOT/memwarden-test-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    stop_pids -9 $PIDS
    cg_remove "$CG/grp"
    cg_remove "$CG"
    zram_swap_off
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

zram_swap_on $T 512M || exit 0
cg_v1_make $T "$CG" 256M 512M || exit 0

oom_kills() { awk '/^oom_kill /{print $2}' "$CG/memory.oom_control"; }
# leg NAME DRY(0/1) DAEMON-ARGS...
leg() {
    name=$1 dry=$2; shift 2
    log=$TMP/$name.log hist=$TMP/$name.hist st=$TMP/$name.touch
    "$BUILD/progs/lt_touch" 64 "$st" "$CG" -900 2>"$TMP/$name.touch.err" &
    touch_pid=$!
    PIDS="$PIDS $touch_pid"
    wait_for 20 test -s "$st" || { fail "$T.$name" "protected process did not start"; return; }
    before=$(oom_kills)
    "$MW_BIN" daemon --foreground --scope "$CG" --history "$hist" \
        --state-file "$TMP/$name.state" "$@" 2>"$log" &
    mw_pid=$!
    PIDS="$PIDS $mw_pid"
    wait_for 10 grep -q 'started:' "$log" || { fail "$T.$name" "daemon did not start"; cat "$log" >&2; return; }
    "$BUILD/progs/lt_hog" "$CG" 900 >"$TMP/$name.hog" 2>&1 &
    hog_pid=$!
    PIDS="$PIDS $hog_pid"
    if [ "$dry" = 1 ]; then
        wait_for 30 grep -q "would-kill pid=$hog_pid " "$log"
        saw=$?
        kill -9 "$hog_pid" 2>/dev/null; wait "$hog_pid" 2>/dev/null
        if [ $saw -eq 0 ] && ! grep -q '^<[0-9]>kill pid=' "$log" && alive "$touch_pid"; then
            ok "$T.$name"
        else
            fail "$T.$name" "dry run: would-kill seen=$((1 - saw)), real kills: $(grep -c '^<[0-9]>kill pid=' "$log")"
            cat "$log" >&2
        fi
    else
        wait_for 60 sh -c "! kill -0 $hog_pid 2>/dev/null || grep -q '^State:.*Z' /proc/$hog_pid/status 2>/dev/null"
        wait "$hog_pid" 2>/dev/null
        after=$(oom_kills)
        line=$(grep "kill pid=$hog_pid " "$log" | head -1)
        if [ -n "$line" ] && [ "$before" = "$after" ] && alive "$touch_pid" &&
            grep -q "\"pid\":$hog_pid," "$hist" && ! grep -q "kill pid=$touch_pid " "$log"; then
            ok "$T.$name"
        else
            fail "$T.$name" "hog kill line: '${line}', oom_kill $before -> $after," \
                "protected alive: $(alive "$touch_pid" && echo yes || echo no)"
            cat "$log" >&2
        fi
        echo "$name: ${line#<?>}" >&2
    fi
    stop_pids "$mw_pid"
    stop_pids "$touch_pid"
    echo "$name: protected process $(cat "$st"), hog reached $(tail -1 "$TMP/$name.hog") MiB," \
        "memcg oom_kill $before -> $(oom_kills)" >&2
    # let the cgroup drain before the next leg
    wait_for 10 sh -c "[ \$(cat $CG/memory.usage_in_bytes) -lt 100000000 ]"
}

cat >"$TMP/minfree.conf" <<EOF
[killer]
# 4096 pages = 16 MiB: kill adj >= 900 when headroom and file cache are both below it
strategy = minfree
minfree_levels = 4096:900,2048:0
[victims]
protect = *lt_touch*
EOF

# A restarter brings the hog back after every kill (the seed's QQ loop):
# the daemon must report the loop loudly and run the alert hook.
cat >"$TMP/loop.conf" <<EOF
[loops]
loop_kills = 3
loop_window_ms = 60s
loop_action = protect
[alerts]
alert_hook = /usr/bin/touch $TMP/alert-ran
EOF
loop_leg() {
    name=loop log=$TMP/loop.log st=$TMP/loop.touch
    "$BUILD/progs/lt_touch" 64 "$st" "$CG" -900 2>/dev/null &
    touch_pid=$!
    PIDS="$PIDS $touch_pid"
    wait_for 20 test -s "$st" || { fail "$T.$name" "protected process did not start"; return; }
    "$MW_BIN" daemon --foreground --scope "$CG" --config "$TMP/loop.conf" \
        --state-file "$TMP/loop.state" 2>"$log" &
    mw_pid=$!
    PIDS="$PIDS $mw_pid"
    wait_for 10 grep -q 'started:' "$log" || { fail "$T.$name" "daemon did not start"; return; }
    : >"$TMP/hogpids"
    (while [ ! -e "$TMP/stop" ]; do
        "$BUILD/progs/lt_hog" "$CG" 900 >/dev/null 2>&1 &
        echo $! >>"$TMP/hogpids"
        wait $!
    done) &
    loop_pid=$!
    PIDS="$PIDS $loop_pid"
    wait_for 60 grep -q 'KILL LOOP: lt_hog killed 3 times' "$log"
    saw=$?
    touch "$TMP/stop"
    for p in $(cat "$TMP/hogpids"); do kill -9 "$p" 2>/dev/null; done
    wait "$loop_pid" 2>/dev/null
    for p in $(cat "$TMP/hogpids"); do kill -9 "$p" 2>/dev/null; done
    if [ $saw -eq 0 ] && wait_for 5 test -e "$TMP/alert-ran" && alive "$touch_pid"; then
        ok "$T.$name"
    else
        fail "$T.$name" "loop seen: $((1 - saw)), hook ran: $(test -e "$TMP/alert-ran" && echo yes || echo no)"
        cat "$log" >&2
    fi
    grep 'KILL LOOP' "$log" | head -1 | sed 's/^<.>/loop: /' >&2
    stop_pids "$mw_pid"
    stop_pids "$touch_pid"
    wait_for 10 sh -c "[ \$(cat $CG/memory.usage_in_bytes) -lt 100000000 ]"
}

# lmkd's plain low_mem off: the cgroup swaps until swap runs low
printf '[killer]\nlowmem_min_adj = 1001\n[hooks]\npre_kill_hook = /usr/bin/touch %s/pre-ran\npost_kill_hook = /usr/bin/touch %s/post-ran\n' \
    "$TMP" "$TMP" >"$TMP/swap.conf"

# A child cgroup marked for whole-cgroup kill: the hog's death takes its
# sibling (a helper at adj 0) along, the protected process stays.
group_leg() {
    name=group log=$TMP/group.log st=$TMP/group.touch
    mkdir "$CG/grp" || { fail "$T.$name" "cannot create $CG/grp"; return; }
    printf '[victims]\nkill_cgroup = /memwarden-test-*/grp\n' >"$TMP/group.conf"
    "$BUILD/progs/lt_touch" 64 "$st" "$CG" -900 2>/dev/null &
    touch_pid=$!
    "$BUILD/progs/lt_touch" 8 "$TMP/helper" "$CG/grp" 2>/dev/null &
    helper_pid=$!
    PIDS="$PIDS $touch_pid $helper_pid"
    wait_for 20 test -s "$st" && wait_for 20 test -s "$TMP/helper" ||
        { fail "$T.$name" "processes did not start"; return; }
    before=$(oom_kills)
    "$MW_BIN" daemon --foreground --scope "$CG" --config "$TMP/group.conf" \
        --state-file "$TMP/group.state" 2>"$log" &
    mw_pid=$!
    PIDS="$PIDS $mw_pid"
    wait_for 10 grep -q 'started:' "$log" || { fail "$T.$name" "daemon did not start"; return; }
    "$BUILD/progs/lt_hog" "$CG/grp" 900 >/dev/null 2>&1 &
    hog_pid=$!
    PIDS="$PIDS $hog_pid"
    wait_for 60 sh -c "! kill -0 $hog_pid 2>/dev/null || grep -q '^State:.*Z' /proc/$hog_pid/status 2>/dev/null"
    wait "$hog_pid" 2>/dev/null
    wait_for 5 sh -c "! kill -0 $helper_pid 2>/dev/null || grep -q '^State:.*Z' /proc/$helper_pid/status 2>/dev/null"
    helper_gone=$?
    wait "$helper_pid" 2>/dev/null
    line=$(grep "kill pid=$hog_pid " "$log" | head -1)
    if echo "$line" | grep -q 'cgroup_killed=yes' && [ $helper_gone -eq 0 ] &&
        alive "$touch_pid" && [ "$before" = "$(oom_kills)" ]; then
        ok "$T.$name"
    else
        fail "$T.$name" "line: '$line', helper gone: $((1 - helper_gone))"
        cat "$log" >&2
    fi
    echo "$name: ${line#<?>}" >&2
    stop_pids "$mw_pid"
    stop_pids "$touch_pid"
    wait_for 10 sh -c "[ \$(cat $CG/memory.usage_in_bytes) -lt 100000000 ]"
}

leg psi 0
leg swap 0 --config "$TMP/swap.conf"
check $T.kill_hooks_ran test -e "$TMP/pre-ran" -a -e "$TMP/post-ran"
leg minfree 0 --config "$TMP/minfree.conf"
leg dryrun 1 --dry-run
loop_leg
group_leg
