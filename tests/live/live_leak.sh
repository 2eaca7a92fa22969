#!/bin/sh
# Live: processes with known memory patterns (tests/progs/lk_pattern.c) get
# the right verdict from `memwarden leak`, and the right region. Sampling is
# scaled down (200 ms for 3 s) so the test takes seconds; each pattern
# holds at most 40 MiB and exits by itself.
. tests/lib.sh
PROG=${MW_BUILD:-build}/progs/lk_pattern
[ -x "$PROG" ] || { skip live_leak "no $PROG (run make)"; exit 0; }
[ -r /proc/self/smaps ] || { skip live_leak "no /proc/PID/smaps"; exit 0; }
tmp=$(mktemp -d)
pids=""
CG=""
cleanup() {
    stop_pids $pids
    [ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for pat in heap mmap sawtooth flat step; do
    "$PROG" --pattern "$pat" --rate 5242880 --cap 41943040 --seconds 15 >"$tmp/$pat.pid" &
    pids="$pids $!"
done
for pat in heap mmap sawtooth flat step; do
    # the PID is printed once the pattern started (flat: once it allocated)
    pid=$(pid_from "$tmp/$pat.pid") || fail "leak_$pat" "lk_pattern --pattern $pat wrote no PID in 10 s"
    "$MW_BIN" leak -p "$pid" --interval 200ms --duration 3s --json >"$tmp/$pat.json" 2>"$tmp/$pat.err" &
    echo $! >"$tmp/$pat.leakpid"
done
for pat in heap mmap sawtooth flat step; do
    wait "$(cat "$tmp/$pat.leakpid")"
    echo $? >"$tmp/$pat.rc"
done

# top-level JSON member (two-space indent in the pretty output)
member() { grep -m1 "^  \"$2\": " "$1" | sed 's/^  "[^"]*": //; s/,$//; s/"//g'; }
expect() { # NAME PATTERN VERDICT RC [WHERE]
    f="$tmp/$2.json"
    v=$(member "$f" verdict); rc=$(cat "$tmp/$2.rc"); w=$(member "$f" where_summary)
    if [ "$v" = "$3" ] && [ "$rc" = "$4" ] && { [ -z "$5" ] || [ "$w" = "$5" ]; }; then
        ok "$1"
    else
        fail "$1" "verdict=$v rc=$rc where='$w' (want $3 $4 '$5')" "$(cat "$tmp/$2.err")"
    fi
}
expect leak_heap_is_leak_in_heap heap leak 3 "all of it in [heap]"
expect leak_mmap_is_leak_in_anon mmap leak 3 "all of it in anon mmap"
# what does not grow is no leak; in 3 s it is "too short to judge" (issue
# 26: a slow leak would not have left the band yet), never "stable"
expect leak_sawtooth_is_no_leak sawtooth too_short 0
expect leak_flat_is_no_leak flat too_short 0
expect leak_step_is_no_leak step too_short 0
if grep -q '"shape": "step"' "$tmp/step.json" && grep -q '"shape": "sawtooth"' "$tmp/sawtooth.json"; then
    ok leak_shapes_named
else
    fail leak_shapes_named "$(grep shape "$tmp/step.json" "$tmp/sawtooth.json")"
fi
if grep -q '"samples": \[' "$tmp/heap.json" && grep -q '"slope_bytes_per_hour": [1-9]' "$tmp/heap.json" &&
    grep -q '"time_to_exhaustion_s": [0-9]' "$tmp/heap.json"; then
    ok leak_json_fields
else
    fail leak_json_fields
fi

# a process that exits during the watch ends with a note, not a crash
"$PROG" --pattern heap --seconds 1 >"$tmp/short.pid" &
spid=$!; pids="$pids $spid"
pid_from "$tmp/short.pid" >/dev/null || fail leak_exit_during_watch "lk_pattern wrote no PID in 10 s"
"$MW_BIN" leak -p "$spid" --interval 200ms --duration 2s >"$tmp/short.out" 2>&1
rc=$?
if [ $rc -le 3 ] && [ $rc -ne 1 ] && [ $rc -ne 2 ] && grep -q "exited" "$tmp/short.out"; then
    ok leak_exit_during_watch
else
    fail leak_exit_during_watch "rc=$rc" "$(cat "$tmp/short.out")"
fi

# the time to exhaustion counts against the process's memory cgroup limit
# when that leaves less than MemAvailable (a cgroup v1 memory controller
# here; the test's own cgroup, removed afterwards)
CG=""
for base in /sys/fs/cgroup/memory /sys/fs/cgroup; do
    if [ -w "$base" ] && { [ -e "$base/memory.limit_in_bytes" ] || [ -e "$base/cgroup.subtree_control" ]; }; then
        CG=$base/mw-overtime-$$; break
    fi
done
if [ -z "$CG" ] || ! mkdir "$CG" 2>/dev/null; then
    skip leak_headroom_cgroup_limit "no writable memory cgroup"
else
    if [ -e "$CG/memory.limit_in_bytes" ]; then lim=$CG/memory.limit_in_bytes; else lim=$CG/memory.max; fi
    if echo 67108864 >"$lim" 2>/dev/null; then
        "$PROG" --pattern heap --rate 2097152 --cap 16777216 --seconds 10 >"$tmp/cg.pid" &
        cpid=$!; pids="$pids $cpid"
        pid_from "$tmp/cg.pid" >/dev/null # started: lk_pattern, not the shell that forks it
        echo "$cpid" >"$CG/cgroup.procs" 2>/dev/null
        "$MW_BIN" leak -p "$cpid" --interval 200ms --duration 1s --json >"$tmp/cg.json" 2>&1
        src=$(grep -m1 '"headroom_source"' "$tmp/cg.json" | sed 's/.*: "//; s/".*//')
        hb=$(grep -m1 '"headroom_bytes"' "$tmp/cg.json" | sed 's/.*: //; s/,//')
        if [ "$src" = "cgroup limit" ] && [ "$hb" -le 67108864 ]; then
            ok leak_headroom_cgroup_limit
        else
            fail leak_headroom_cgroup_limit "source='$src' headroom=$hb"
        fi
        stop_pids "$cpid"
    else
        skip leak_headroom_cgroup_limit "cannot set a memory limit"
    fi
    rmdir "$CG" 2>/dev/null
fi

# watch: a process that exits ends its line with a note, the watch goes on
"$PROG" --pattern flat --cap 4194304 --seconds 1 >"$tmp/w.pid" &
wpid=$!; pids="$pids $wpid"
pid_from "$tmp/w.pid" >/dev/null || fail watch_exit_note "lk_pattern wrote no PID in 10 s"
"$MW_BIN" watch -p "$wpid" -p $$ -i 300ms -n 6 >"$tmp/watch.out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^.*| $wpid .*exited after" "$tmp/watch.out" &&
    [ "$(grep -c "| $$ " "$tmp/watch.out")" = 6 ]; then
    ok watch_exit_note
else
    fail watch_exit_note "rc=$rc" "$(cat "$tmp/watch.out")"
fi

# leak --system over all of used memory (issue 16): a process growing its
# heap 40 MiB/s is named among the growers with its growth; other
# processes on the machine may grow too, so it need not be first
"$PROG" --pattern heap --rate 41943040 --cap 104857600 --seconds 8 >"$tmp/sys.pid" &
pids="$pids $!"
spid=$(pid_from "$tmp/sys.pid") || fail leak_system_names_user_grower "lk_pattern wrote no PID in 10 s"
"$MW_BIN" leak --system --interval 300ms --duration 2s --json >"$tmp/sys.json" 2>"$tmp/sys.err"
# its own growth as the growers list gives it: the machine's anon delta is
# everyone's (a 390 MiB VM that exited in the window once made it negative)
grew=$(grep -A3 "\"pid\": $spid," "$tmp/sys.json" | grep -m1 rss_delta_bytes | sed 's/.*: //; s/,//')
if [ "${grew:-0}" -ge 31457280 ]; then
    ok leak_system_names_user_grower
else
    fail leak_system_names_user_grower "pid $spid grew ${grew:-not named}" "$(grep -A40 growers "$tmp/sys.json" | head -40)"
fi

# a long watch ended early (issue 16, Long runs): SIGINT or SIGTERM after
# ~2 s of a 10 min watch gives the verdict on what was collected, with the
# verdict's exit status (3: the heap grows), and says it was cut short
"$PROG" --pattern heap --rate 5242880 --cap 41943040 --seconds 20 >"$tmp/long.pid" &
lpat=$!
pids="$pids $lpat"
pid_from "$tmp/long.pid" >/dev/null || fail leak_sig_ends_with_verdict "lk_pattern wrote no PID in 10 s"
for sig in INT TERM; do
    "$MW_BIN" leak -p "$lpat" --interval 200ms --duration 10m \
        >"$tmp/long.$sig.out" 2>"$tmp/long.$sig.err" &
    lpid=$!
    sleep 2 # the watch runs 2 s of its 10 min (about 10 samples), then is cut short
    kill -"$sig" "$lpid"
    # a watch that ignores the signal would run 10 min: give it 10 s
    wait_for 10 gone "$lpid" || echo "leak ignored SIG$sig for 10 s" >>"$tmp/long.$sig.err"
    kill -KILL "$lpid" 2>/dev/null
    wait "$lpid"; rc=$?
    if [ $rc = 3 ] && grep -q "(rss): leak: " "$tmp/long.$sig.out" &&
        grep -q "the verdict is on the [0-9]* samples taken" "$tmp/long.$sig.err"; then
        ok "leak_sig${sig}_ends_with_verdict"
    else
        fail "leak_sig${sig}_ends_with_verdict" "rc=$rc" "$(cat "$tmp/long.$sig.out" "$tmp/long.$sig.err")"
    fi
done
