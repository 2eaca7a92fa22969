# reaction_guest.sh: the guest half of the killer's-cost benchmark (issue
# 27). tests/bench/reaction.py puts its parameters in front of this text and
# runs it as root in a fresh VM bed guest (tests/vm/bench.py's --script
# mode: BusyBox, the static memwarden, earlyoom, build/vm/progs in /bin):
#
#   NPROCS     sleeping processes beside the hog (lt_sleepers, adj 0)
#   RUNS       hog runs per guardian
#   RATE       the hog's fixed growth rate (hog --rate)
#   GUARDIANS  e.g. "floor memwarden earlyoom" (floor: no guardian, the
#              observer kills the hog itself the moment it sees the line
#              crossed -- what the hog's exit alone costs)
#   LINE_<g>_PCT  each guardian's own line (percent of MemTotal; from its
#              defaults, read on the host)
#   HOLD_S     seconds of sustained pressure just above each line (0: none)
#   HOLD_MARGIN_PCT  how far above the line the ballast holds
#   SETTLE_S   wait after the sleepers and the guardian started
#
# Per guardian it writes to $OUT: G.reaction.jsonl (one `reaction hog` line
# a run), G.hold.jsonl (`reaction hold` for the guardian's PID), G.log, and
# for memwarden G.history.jsonl (its kill records with their timings).
# Everything started here is ended by the PID it recorded.
set -u
: "${OUT:=/out}"
TOTAL_KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
echo "guest: MemTotal ${TOTAL_KB} kB, $(nproc) CPUs, kernel $(uname -r)"
# The lines are on available memory alone: no swap in this bed (the
# guest's zram swap is turned off, so earlyoom's swap condition holds).
swapoff -a 2>/dev/null
grep -q zram /proc/swaps && echo "guest: swap still on" && cat /proc/swaps
# A daemon started by a distribution's service manager may hold many
# descriptors (systemd's default LimitNOFILE: 524288 hard); BusyBox's
# init gives 4096. The guardians start under the larger limit.
ulimit -Hn 524288 2>/dev/null && ulimit -n 524288 2>/dev/null
echo "guest: RLIMIT_NOFILE $(ulimit -n)"

SLEEPERS=
GPID=
HOLDPID=
cleanup() {
    [ -n "$HOLDPID" ] && kill "$HOLDPID" 2>/dev/null && wait "$HOLDPID" 2>/dev/null
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
    [ -n "$SLEEPERS" ] && kill "$SLEEPERS" 2>/dev/null && wait "$SLEEPERS" 2>/dev/null
    GPID= SLEEPERS= HOLDPID=
}
trap 'cleanup; exit 1' INT TERM
trap cleanup EXIT

start_sleepers() {
    lt_sleepers "$NPROCS" 0 >/tmp/sleepers.ready &
    SLEEPERS=$!
    i=0
    while ! grep -q '^ready' /tmp/sleepers.ready 2>/dev/null && [ $i -lt 1200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    echo "guest: $(cat /tmp/sleepers.ready) sleepers in $((i / 10)) s;" \
        "$(ls -d /proc/[0-9]* | wc -l) processes; MemAvailable" \
        "$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) kB"
}

start_guardian() {
    case $1 in
    floor)
        GPID=
        return 0
        ;;
    memwarden)
        memwarden daemon --foreground --history "$OUT/$1.history.jsonl" 2>"$OUT/$1.log" &
        ;;
    earlyoom)
        # Debian's unit: earlyoom -r 3600 (its defaults otherwise: -m 10 -s 10)
        earlyoom -r 3600 >"$OUT/$1.log" 2>&1 &
        ;;
    *)
        echo "guest: unknown guardian $1"
        return 1
        ;;
    esac
    GPID=$!
}

# the guardian's PID, or the observer's own kill for the floor
kill_opt() { [ "$1" = floor ] && echo --kill-at-line; }

line_pct() { eval "echo \${LINE_$1_PCT}"; }

start_sleepers
for g in $GUARDIANS; do
    line_kb=$(awk -v t="$TOTAL_KB" -v p="$(line_pct "$g")" 'BEGIN {printf "%d", t * p / 100}')
    start_guardian "$g" || continue
    [ -n "$GPID" ] && sleep "$SETTLE_S"
    [ -n "$GPID" ] && echo "guest: $g (pid $GPID) line ${line_kb} kB; RSS" \
        "$(awk '/^VmRSS:/ {print $2}' /proc/$GPID/status) kB, $(ls /proc/$GPID/fd | wc -l) descriptors"
    r=0
    while [ "$r" -lt "$RUNS" ]; do
        r=$((r + 1))
        sync
        echo 3 >/proc/sys/vm/drop_caches
        reaction hog --line-kb "$line_kb" --timeout 120 $(kill_opt "$g") -- \
            hog --rate "$RATE" --name hog >>"$OUT/$g.reaction.jsonl"
        tail -n 1 "$OUT/$g.reaction.jsonl"
        [ -z "$GPID" ] || kill -0 "$GPID" 2>/dev/null || { echo "guest: $g is gone"; break; }
        sleep 2 # the guardian's own recovery (memwarden: its kill settle) before the next hog
    done
    if [ "$HOLD_S" -gt 0 ] && [ -n "$GPID" ] && kill -0 "$GPID" 2>/dev/null; then
        hold_kb=$(awk -v t="$TOTAL_KB" -v p="$(line_pct "$g")" -v m="$HOLD_MARGIN_PCT" \
            'BEGIN {printf "%d", t * (p + m) / 100}')
        reaction hold --target-kb "$hold_kb" --seconds "$HOLD_S" --watch "$GPID" >>"$OUT/$g.hold.jsonl" &
        HOLDPID=$!
        wait "$HOLDPID"
        HOLDPID=
        tail -n 1 "$OUT/$g.hold.jsonl"
        # where its memory is (its RSS beside the table's)
        cat "/proc/$GPID/status" >"$OUT/$g.status" 2>/dev/null
        cat "/proc/$GPID/smaps" >"$OUT/$g.smaps" 2>/dev/null
    fi
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
    GPID=
done
echo "guest: done"
