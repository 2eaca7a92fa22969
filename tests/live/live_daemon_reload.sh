#!/bin/sh
# Live: the daemon on this machine in --dry-run (it kills nothing): it
# starts with PSI triggers (or says why not), writes its state file,
# rejects an invalid config on SIGHUP keeping the old one, accepts a valid
# one, and removes its state file on SIGTERM.
. tests/lib.sh
T=daemon_reload
[ -r /proc/pressure/memory ] || { skip $T "no PSI"; exit 0; }
TMP=$(mktemp -d)
pid=
cleanup() { stop_pids $pid; rm -rf "$TMP"; }
trap cleanup EXIT
printf '[killer]\nkill_timeout_ms = 100\n' >"$TMP/c.conf"
"$MW_BIN" daemon --foreground --dry-run --config "$TMP/c.conf" \
    --state-file "$TMP/state.json" 2>"$TMP/log" &
pid=$!
n=0; while ! grep -q 'started:' "$TMP/log" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check $T.started grep -q 'started: whole machine, strategy psi' "$TMP/log"
check $T.source_in_state grep -q '"source":"psi trigger /proc/pressure/memory' "$TMP/state.json"
if grep -q 'fallback' "$TMP/state.json"; then
    check $T.fallback_logged_once [ "$(grep -c 'refused a 1000 ms window' "$TMP/log")" -eq 1 ]
fi
printf '[killer]\nkill_timeout_ms = soon\n' >"$TMP/c.conf"
kill -HUP $pid
n=0; while ! grep -q 'reload rejected' "$TMP/log" && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
check $T.invalid_reload_rejected grep -q 'reload rejected, the old configuration stays in force: .*line 2: kill_timeout_ms' "$TMP/log"
check $T.still_running kill -0 $pid
printf '[killer]\nstrategy = minfree\n' >"$TMP/c.conf"
kill -HUP $pid
n=0; while ! grep -q 'configuration reloaded' "$TMP/log" && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
check $T.valid_reload grep -q '"strategy":"minfree"' "$TMP/state.json"
kill $pid; wait $pid; st=$?; pid=
check $T.clean_exit [ $st -eq 0 ]
check $T.state_removed [ ! -e "$TMP/state.json" ]

# The watchdog: a cycle stuck in a slow alert hook (sleep 3 with a 10 s hook
# limit) is reported at each 500 ms strike. Under a supervisor (systemd's
# NOTIFY_SOCKET set) the daemon exits (70) at the third so it gets
# restarted; without one it keeps running. Dry run: nothing is killed.
printf '[killer]\npoll_interval_ms = 100\nwatchdog_ms = 500\n[alerts]\nalert_mem_used_percent = 1\nalert_hook = /bin/sleep 3\n[hooks]\nhook_timeout_ms = 10s\n' >"$TMP/w.conf"
NOTIFY_SOCKET="$TMP/no-such-socket" "$MW_BIN" daemon --foreground --dry-run --config "$TMP/w.conf" \
    --state-file "$TMP/w.json" 2>"$TMP/wlog" &
pid=$!
n=0; while kill -0 $pid 2>/dev/null && [ $n -lt 60 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 $pid 2>/dev/null && kill $pid
wait $pid; st=$?; pid=
check $T.watchdog_exit_70 [ $st -eq 70 ]
check $T.watchdog_reported grep -q 'watchdog: a cycle is stuck' "$TMP/wlog"
"$MW_BIN" daemon --foreground --dry-run --config "$TMP/w.conf" \
    --state-file "$TMP/w2.json" 2>"$TMP/wlog2" &
pid=$!
sleep 3
if kill -0 $pid 2>/dev/null; then ok $T.watchdog_unsupervised_keeps_running; else fail $T.watchdog_unsupervised_keeps_running; fi
kill $pid 2>/dev/null; wait $pid; pid=
check $T.watchdog_unsupervised_reported grep -q 'watchdog: a cycle is stuck' "$TMP/wlog2"
