#!/bin/sh
# Live: long runs end early on request, with the result of what they
# collected (issue 16 "Long runs"). `watch --duration 1m --interval 200ms
# --record F` (once it showed three rows) and `slab --interval 1m` (once it
# took its first sample and sleeps) get SIGINT, then SIGTERM: each must
# exit 0 on the signal, long before its minute, print its table (and for
# watch a summary on stderr), and F must hold every sample the table
# showed. On a terminal (script(1) gives one) a progress line is drawn on
# stderr; off one, never.
. tests/lib.sh
scratch

# run_stopped SIG OUT ERR READY CMD...: runs CMD in the background, sends
# SIG once READY (a command, given CMD's PID) holds (30 s at most), waits;
# RC is its exit status, SECS the seconds from signal to exit (a watchdog
# kills it after 10 s).
run_stopped() {
    _sig=$1 _out=$2 _err=$3 _ready=$4; shift 4
    # emptied here, before READY looks: the last run's rows are in them
    : >"$_out"
    : >"$_err"
    "$@" >"$_out" 2>"$_err" &
    _p=$!; PIDS="$PIDS $_p"
    wait_for 30 $_ready "$_p" || echo "note: $_ready did not hold in 30 s; signalled anyway" >&2
    _t0=$(date +%s%N)
    kill "-$_sig" "$_p"
    ( sleep 10; kill -KILL "$_p" 2>/dev/null ) &
    _w=$!; PIDS="$PIDS $_w"
    wait "$_p"; RC=$?
    SECS=$(( ($(date +%s%N) - _t0) / 1000000000 ))
    kill "$_w" 2>/dev/null; wait "$_w" 2>/dev/null
}

# within NAME: ok when the last run_stopped exited 0 on its signal (not
# killed by the watchdog 10 s later, nor at its planned minute).
within() {
    if [ "$RC" = 0 ] && [ "$SECS" -lt 10 ]; then ok "$1"; else fail "$1" "rc=$RC after ${SECS}s"; fi
}
# three_rows PID: the watch showed three rows (samples)
three_rows() { [ "$(grep -c '^[0-9][0-9]:' "$T/out")" -ge 3 ]; }
# napping PID: the process sleeps in nanosleep, between two samples (its
# first taken); /proc/PID/wchan names where a task waits
napping() { case $(cat "/proc/$1/wchan" 2>/dev/null) in *nanosleep*) return 0 ;; esac; return 1; }

for sig in INT TERM; do
    rm -f "$T/F"
    run_stopped $sig "$T/out" "$T/err" three_rows "$MW_BIN" watch --duration 1m --interval 200ms --record "$T/F"
    rows=$(grep -c '^[0-9][0-9]:' "$T/out")
    recs=$(grep -c '"kind":"system"' "$T/F" 2>/dev/null || echo 0)
    within "watch SIG$sig: exits 0 on the signal"
    if [ "$rows" -ge 3 ] && grep -q '^time ' "$T/out"; then ok "watch SIG$sig: table printed ($rows rows)"
    else fail "watch SIG$sig: table printed" "$rows rows" "$(cat "$T/out" "$T/err")"; fi
    if grep -q "^watch: ended by SIG$sig after [0-9.]* s: $rows samples, $recs recorded in $T/F\$" "$T/err"
    then ok "watch SIG$sig: summary names the signal and the record"
    else fail "watch SIG$sig: summary names the signal and the record" "$(cat "$T/err")"; fi
    check "watch SIG$sig: record holds every sample shown ($recs of $rows)" [ "$recs" = "$rows" ]
    check "watch SIG$sig: no progress line off a terminal" sh -c "! grep -q 'Ctrl-C ends early' '$T/err'"
done

# slab --interval: live when /proc/slabinfo is readable, else on a fixture.
root=
[ -r /proc/slabinfo ] || root="--root $FIX/host-24g"
for sig in INT TERM; do
    # shellcheck disable=SC2086
    run_stopped $sig "$T/out" "$T/err" napping "$MW_BIN" $root slab --interval 1m --top 5
    within "slab --interval SIG$sig: exits 0 on the signal"
    if grep -q "^Growth over [0-9.]* s (ended early by SIG$sig; 60.0 s planned):" "$T/out" &&
        grep -q '^cache ' "$T/out"; then
        ok "slab --interval SIG$sig: growth table over the time waited"
    else
        fail "slab --interval SIG$sig: growth table over the time waited" "$(cat "$T/out" "$T/err")"
    fi
    # shellcheck disable=SC2086
    run_stopped $sig "$T/out" "$T/err" napping "$MW_BIN" $root slab --interval 1m --top 5 --json
    if [ "$RC" = 0 ] && grep -q "\"ended_by\": \"SIG$sig\"" "$T/out" && grep -q '"growth": \[' "$T/out" &&
        grep -q '"planned_s": 60' "$T/out"; then
        ok "slab --interval --json SIG$sig: growth, ended_by, planned_s"
    else
        fail "slab --interval --json SIG$sig: growth, ended_by, planned_s" "rc=$RC" "$(cat "$T/out")"
    fi
done

# On a terminal: the progress line, then the result.
if command -v script >/dev/null 2>&1; then
    script -qec "timeout -s INT 2.5 '$MW_BIN' watch --duration 1m --interval 500ms --record '$T/G' >/dev/null" \
        /dev/null >"$T/tty" 2>&1 </dev/null
    if grep -q '0:0[0-9] / 1:00, [0-9]* samples\{0,1\}, used [0-9.]* [KMG]i\{0,1\}B' "$T/tty" &&
        grep -q 'Ctrl-C ends early' "$T/tty" && grep -q 'watch: ended by SIGINT' "$T/tty"; then
        ok "watch on a terminal: progress line, then the summary"
    else
        fail "watch on a terminal: progress line, then the summary" "$(tr '\r' '\n' <"$T/tty" | head)"
    fi
    # shellcheck disable=SC2086
    script -qec "timeout -s INT 2.5 '$MW_BIN' $root slab --interval 1m --top 3" /dev/null >"$T/tty" 2>&1 </dev/null
    if grep -q '0:0[0-9] / 1:00, 1 sample' "$T/tty" && grep -q 'ended early by SIGINT' "$T/tty"; then
        ok "slab --interval on a terminal: progress line, then the table"
    else
        fail "slab --interval on a terminal: progress line, then the table" "$(tr '\r' '\n' <"$T/tty" | head)"
    fi
else
    skip "progress line on a terminal" "no script(1)"
fi
