#!/bin/sh
# Idle cost: the static daemon (PSI triggers, --dry-run: kills nothing) and
# earlyoom (--dryrun) side by side for 60 s on a calm machine: context
# switches (voluntary + nonvoluntary, from /proc/PID/status) counted after
# start-up, and RSS / RssAnon at the end. memwarden should wake only for its
# own sampling (every 10 s by default); earlyoom polls about once a second.
SECS=${MW_BENCH_IDLE_S:-60}
BIN=$(pwd)/memwarden-static
if [ ! -x "$BIN" ]; then
    echo "note: $BIN missing ('make static'); measuring $MW_BIN instead"
    BIN=$MW_BIN
fi
TMP=$(mktemp -d)
mw=
eo=
cleanup() {
    for p in $mw $eo; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ctxt() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {print s}' "/proc/$1/status"; }
mem() { awk '/^(VmRSS|RssAnon):/ {printf "%s %s kB  ", $1, $2}' "/proc/$1/status"; }

"$BIN" daemon --foreground --dry-run --state-file "$TMP/state.json" 2>"$TMP/mw.log" &
mw=$!
eo_ok=0
if command -v earlyoom >/dev/null 2>&1; then
    earlyoom --dryrun >"$TMP/eo.log" 2>&1 &
    eo=$!
    eo_ok=1
fi
sleep 2 # start-up done
mw0=$(ctxt $mw)
[ $eo_ok = 1 ] && eo0=$(ctxt $eo)
sleep "$SECS"
echo "over ${SECS} s on a calm machine:"
echo "$(basename "$BIN") daemon --foreground --dry-run: $(($(ctxt $mw) - mw0)) context switches; $(mem $mw)"
kill -USR1 $mw
sleep 0.3
timer=$(sed -n 's/.*"wakeups_timer":\([0-9]*\).*/\1/p' "$TMP/state.json")
psi=$(sed -n 's/.*"wakeups_pressure":\([0-9]*\).*/\1/p' "$TMP/state.json")
echo "  source: $(sed -n 's/.*"source":"\([^"]*\)".*/\1/p' "$TMP/state.json")"
echo "  wake-ups since start: $timer timer, $psi PSI events"
[ "${psi:-0}" -gt 0 ] && echo "  (after each PSI event it samples every 100 ms for one window: the machine was not calm;" \
    "PSI now: $(head -1 /proc/pressure/memory))"
if [ $eo_ok = 1 ]; then
    echo "earlyoom --dryrun:                              $(($(ctxt $eo) - eo0)) context switches; $(mem $eo)"
fi
