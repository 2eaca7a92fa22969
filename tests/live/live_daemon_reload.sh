#!/bin/sh
# Live: the daemon on this machine in --dry-run (it kills nothing): it
# starts with PSI triggers (or says why not), writes its state file,
# rejects an invalid config on SIGHUP keeping the old one, accepts a valid
# one, and removes its state file on SIGTERM. The watchdog legs kill, in a
# cgroup of their own only (--scope), a sleep this test started.
. tests/lib.sh
T=daemon_reload
[ -r /proc/pressure/memory ] || { skip $T "no PSI"; exit 0; }
TMP=$(mktemp -d)
pid=
cleanup() { stop_pids $pid; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# started_or_gone LOG PID: the daemon said "started:" or has ended
started_or_gone() { grep -q 'started:' "$1" || gone "$2"; }
printf '[killer]\nkill_timeout_ms = 100\n' >"$TMP/c.conf"
"$MW_BIN" daemon --foreground --dry-run --config "$TMP/c.conf" \
    --state-file "$TMP/state.json" 2>"$TMP/log" &
pid=$!
wait_for 5 grep -q 'started:' "$TMP/log"
check $T.started grep -q 'started: whole machine, strategy psi' "$TMP/log"
check $T.source_in_state grep -q '"source":"psi trigger /proc/pressure/memory' "$TMP/state.json"
if grep -q 'fallback' "$TMP/state.json"; then
    check $T.fallback_logged_once [ "$(grep -c 'refused a 1000 ms window' "$TMP/log")" -eq 1 ]
fi
printf '[killer]\nkill_timeout_ms = soon\n' >"$TMP/c.conf"
kill -HUP $pid
wait_for 5 grep -q 'reload rejected' "$TMP/log"
check $T.invalid_reload_rejected grep -q 'reload rejected, the old configuration stays in force: .*line 2: kill_timeout_ms' "$TMP/log"
check $T.still_running kill -0 $pid
printf '[killer]\nstrategy = minfree\n' >"$TMP/c.conf"
kill -HUP $pid
wait_for 5 grep -q 'configuration reloaded' "$TMP/log"
check $T.valid_reload grep -q '"strategy":"minfree"' "$TMP/state.json"
kill $pid; wait $pid; st=$?; pid=
check $T.clean_exit [ $st -eq 0 ]
check $T.state_removed [ ! -e "$TMP/state.json" ]

# The watchdog: a cycle stuck past watchdog_ms (500 ms) is reported at each
# strike. Under a supervisor (systemd's NOTIFY_SOCKET set) the daemon exits
# (70) at the third so it gets restarted; without one it keeps running.
# Hooks no longer hold a cycle (issue 24: live_daemon_hooks.sh), so the
# stuck cycle is a kill that waits: a victim that ignores SIGTERM
# (term_first, term_grace_ms 3 s) alone in a v1 memory cgroup of this
# test, chosen at once by a minfree level above the cgroup's size.
WCG=/sys/fs/cgroup/memory/memwarden-wd-$$
victim=
wd_cleanup() {
    [ -n "$victim" ] && stop_pids -9 $victim
    [ -d "$WCG" ] && for p in $(cat "$WCG/cgroup.procs"); do kill -9 "$p" 2>/dev/null; done
    cg_remove "$WCG"
}
cleanup() { stop_pids $pid; wd_cleanup; rm -rf "$TMP"; }
# stubborn: a sleep at adj 900 in the cgroup that ignores SIGTERM.
stubborn() {
    sh -c 'echo $$ >"$1/cgroup.procs" && echo 900 >/proc/self/oom_score_adj && trap "" TERM &&
        exec sleep 60' sh "$WCG" &
    victim=$!
    wait_for 5 grep -qx "$victim" "$WCG/cgroup.procs"
}
if [ "$(id -u)" -eq 0 ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && mkdir "$WCG"; then
    echo 256M >"$WCG/memory.limit_in_bytes"
    printf '[killer]\npoll_interval_ms = 100\nwatchdog_ms = 500\nstrategy = minfree\nminfree_levels = 1G:900\n[victims]\nterm_first = *sleep*\nterm_grace_ms = 3s\n' >"$TMP/w.conf"
    stubborn
    NOTIFY_SOCKET="$TMP/no-such-socket" "$MW_BIN" daemon --foreground --scope "$WCG" \
        --config "$TMP/w.conf" --state-file "$TMP/w.json" 2>"$TMP/wlog" &
    pid=$!
    wait_for 20 gone $pid || kill $pid # it exits at the third strike (about 1.5 s)
    wait $pid; st=$?; pid=
    check $T.watchdog_exit_70 [ $st -eq 70 ]
    check $T.watchdog_reported grep -q 'watchdog: a cycle is stuck' "$TMP/wlog"
    stop_pids -9 $victim
    stubborn
    "$MW_BIN" daemon --foreground --scope "$WCG" --config "$TMP/w.conf" \
        --state-file "$TMP/w2.json" 2>"$TMP/wlog2" &
    pid=$!
    # a fourth strike's report: it outlived the third, where a supervised one exits
    strikes() { [ "$(grep -c 'watchdog: a cycle is stuck' "$TMP/wlog2")" -ge 4 ]; }
    if wait_for 20 strikes && alive $pid; then
        ok $T.watchdog_unsupervised_keeps_running
    else
        fail $T.watchdog_unsupervised_keeps_running "$(grep -c 'watchdog: a cycle is stuck' "$TMP/wlog2") strikes reported, then $(alive $pid && echo running || echo gone)"
    fi
    kill $pid 2>/dev/null; wait $pid; pid=
    check $T.watchdog_unsupervised_reported grep -q 'watchdog: a cycle is stuck' "$TMP/wlog2"
    wd_cleanup
else
    skip $T.watchdog "needs root and a cgroup v1 memory controller (a cgroup of its own)"
fi

# /proc/zoneinfo over 64 KiB (256 CPUs' pagesets; about 120 CPUs on a 6.x
# kernel already pass it): in a private mount namespace a generated copy is
# bind-mounted over /proc/zoneinfo. The daemon must start with the real
# watermarks, not 0/0/0 (the fixed 64 KiB buffer read nothing). A zoneinfo
# it cannot read whole (over 16 MiB) is said loudly, in the log and the
# state file. Dry run; nothing outside the namespace sees the mount.
# zoneinfo_daemon FILE LOG STATE: runs the daemon on FILE for a second.
zoneinfo_daemon() {
    : >"$2"
    unshare -m sh -c 'mount --bind "$1" /proc/zoneinfo && exec "$2" daemon --foreground --dry-run --state-file "$3"' \
        sh "$1" "$MW_BIN" "$3" 2>"$2" &
    pid=$!
    wait_for 5 started_or_gone "$2" $pid
    [ -e "$3" ] && cp "$3" "$3.seen"
    kill $pid 2>/dev/null; wait $pid; pid=
}
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
    awk '{print} /^  pagesets$/ {for (c = 0; c < 256; c++) printf "    cpu: %d\n              count:    0\n              high:     0\n              batch:    1\n  vm stats threshold: 4\n", c}' \
        /proc/zoneinfo >"$TMP/zoneinfo"
    check $T.zoneinfo_over_64k [ "$(wc -c <"$TMP/zoneinfo")" -gt 65536 ]
    zoneinfo_daemon "$TMP/zoneinfo" "$TMP/zlog" "$TMP/z.json"
    if grep -q 'started:.*watermarks min/low/high [1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]* kB' "$TMP/zlog"; then
        ok $T.zoneinfo_large_watermarks
    else
        fail $T.zoneinfo_large_watermarks "$(grep started: "$TMP/zlog")"
    fi
    check $T.zoneinfo_large_no_warning sh -c '! grep -q warning "$1"' sh "$TMP/z.json.seen"
    head -c $((17 << 20)) /dev/zero | tr '\0' ' ' >"$TMP/zhuge"
    zoneinfo_daemon "$TMP/zhuge" "$TMP/zlog2" "$TMP/z2.json"
    check $T.zoneinfo_unreadable_logged grep -q '<2>/proc/zoneinfo cannot be read whole (File too large)' "$TMP/zlog2"
    check $T.zoneinfo_unreadable_in_state grep -q '"warning":"/proc/zoneinfo cannot be read whole' "$TMP/z2.json.seen"
else
    skip $T.zoneinfo_large "needs root and unshare -m"
fi

# The history and state files (dry run): a symlink planted at the history
# path is refused with a message naming the history file, so is a history
# in a missing directory (it used to blame the scope); the history is
# created 0600 (it holds command lines); a symlink planted at the state
# file's PATH.tmp is not written through. SIGHUP reopens the history file
# (logrotate) and takes history_file / state_file from the reloaded config.
# start_daemon LOG ARGS...: starts it, waits for "started:" or its exit.
start_daemon() {
    log=$1; shift
    : >"$log"
    "$MW_BIN" daemon --foreground --dry-run "$@" 2>"$log" &
    pid=$!
    wait_for 5 started_or_gone "$log" $pid
}
stop_daemon() { kill $pid 2>/dev/null; wait $pid; st=$?; pid=; }
printf 'precious\n' >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/hist.link"
start_daemon "$TMP/hl.log" --history "$TMP/hist.link" --state-file "$TMP/hl.json"
stop_daemon
check $T.history_symlink_refused grep -q "cannot open the history file $TMP/hist.link: it is a symbolic link" "$TMP/hl.log"
check $T.history_symlink_exit_1 [ "$st" -eq 1 ]
start_daemon "$TMP/hd.log" --history "$TMP/no-such-dir/h.jsonl" --state-file "$TMP/hd.json"
stop_daemon
check $T.history_error_names_file grep -q "cannot open the history file $TMP/no-such-dir/h.jsonl: No such file" "$TMP/hd.log"
ln -s "$TMP/victim" "$TMP/s.json.tmp"
start_daemon "$TMP/hm.log" --history "$TMP/h.jsonl" --state-file "$TMP/s.json"
check $T.history_mode_0600 [ "$(stat -c %a "$TMP/h.jsonl")" = 600 ]
check $T.state_mode_0644 [ "$(stat -c %a "$TMP/s.json")" = 644 ]
check $T.state_tmp_symlink_not_followed [ "$(cat "$TMP/victim")" = precious ]
stop_daemon
printf '[killer]\nhistory_file = %s\nstate_file = %s\n' "$TMP/h1.jsonl" "$TMP/st1.json" >"$TMP/o.conf"
start_daemon "$TMP/ho.log" --config "$TMP/o.conf"
check $T.config_history_created [ -f "$TMP/h1.jsonl" ]
mv "$TMP/h1.jsonl" "$TMP/h1.jsonl.1"
kill -HUP $pid
wait_for 5 test -e "$TMP/h1.jsonl"
check $T.sighup_reopens_history [ -f "$TMP/h1.jsonl" ]
printf '[killer]\nhistory_file = %s\nstate_file = %s\n' "$TMP/h2.jsonl" "$TMP/st2.json" >"$TMP/o.conf"
kill -HUP $pid
wait_for 5 test -e "$TMP/st2.json"
check $T.sighup_takes_history_file [ -f "$TMP/h2.jsonl" ]
check $T.sighup_takes_state_file [ -f "$TMP/st2.json" ]
check $T.sighup_old_state_removed [ ! -e "$TMP/st1.json" ]
stop_daemon
check $T.outputs_clean_exit [ "$st" -eq 0 ]
