#!/bin/sh
# Victim-choice benchmark: time to choose a victim among 5,000 extra
# sleeping processes (plus whatever runs on the machine), memwarden
# (`daemon --choose-once`, dry: reads, kills nothing) side by side with
# earlyoom (`earlyoom -d --dryrun` with thresholds that trigger at once;
# it logs "selecting victim took N ms" with -d). Both only read /proc.
# In the same run, with the same sleepers: the footprint refresh beside
# the plain-C floor (build/bench/bench_refresh, issue 27) and the ratios
# the issue asks for. Timings are reported, never judged.
BUILD=${MW_BUILD:-build}
N=${MW_BENCH_PROCS:-5000}
RUNS=${MW_BENCH_RUNS:-15}
SLEEPERS=$BUILD/progs/lt_sleepers
[ -x "$SLEEPERS" ] || { echo "skip: $SLEEPERS not built (make $SLEEPERS)"; exit 0; }
TMP=$(mktemp -d)
spid=
cleanup() {
    # end only what this benchmark started, by the PID it recorded
    if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$SLEEPERS" "$N" >"$TMP/ready" &
spid=$!
i=0
while ! grep -q '^ready' "$TMP/ready" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
nprocs=$(ls /proc | grep -c '^[0-9]')
echo "processes on the machine: $nprocs ($(cut -d' ' -f2 "$TMP/ready") started by this benchmark)"

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
minimum() { sort -n | head -1; }

for bin in "$MW_BIN" "$(pwd)/memwarden-static"; do
    [ -x "$bin" ] || continue
    : >"$TMP/mw"
    : >"$TMP/mwr"
    r=0
    while [ $r -lt "$RUNS" ]; do
        "$bin" daemon --choose-once >"$TMP/out" 2>&1
        sed -n 's/.* in \([0-9.]*\) ms .*/\1/p' "$TMP/out" >>"$TMP/mw"
        sed -n 's/.*sampled before the choice in \([0-9.]*\) ms.*/\1/p' "$TMP/out" >>"$TMP/mwr"
        r=$((r + 1))
    done
    echo "memwarden $(basename "$bin"): choose among $(sed -n 's/^scanned \([0-9]*\) processes, read details of \([0-9]*\).*/\1 (details of \2)/p' "$TMP/out"):" \
        "median $(median <"$TMP/mw") ms, min $(minimum <"$TMP/mw") ms over $RUNS runs"
    # the sample the daemon takes while pressure builds (not on the kill path)
    [ -s "$TMP/mwr" ] && echo "  footprint cache sampled before each choice (as the daemon does while" \
        "pressure builds): median $(median <"$TMP/mwr") ms, min $(minimum <"$TMP/mwr") ms"
    echo "  command: $bin daemon --choose-once"
    head -1 "$TMP/out" | sed 's/^/  /'
done

REFRESH=$BUILD/bench/bench_refresh
if [ -x "$REFRESH" ]; then
    echo "footprint refresh (median of 15 passes 250 ms apart; load average $(cut -d' ' -f1-3 /proc/loadavg)):"
    "$REFRESH" 15 250 >"$TMP/refresh" || echo "  ($REFRESH exited with status $?)"
    v() { sed -n "s/^$1 //p" "$TMP/refresh"; }
    [ "$(v floor_unopened)$(v floor_held_unopened)" = 00 ] ||
        echo "  (descriptors: $(v floor_unopened) adj and $(v floor_held_unopened) statm files could not be held open)"
    echo "  floor, the refresh's fields (readdir; statm opened/read/closed, oom_score_adj pread held): $(v floor_fields_ms) ms"
    echo "  floor, every file opened/read/closed: $(v floor_per_read_ms) ms;" \
        "both held and pread (lmkd's reread_file): $(v floor_held_ms) ms, SUnreclaim +$(v floor_held_sunreclaim_kb) kB"
    echo "  floor, the old refresh's fields (stat + status + oom_score_adj, opened/read/closed): $(v floor_old_ms) ms"
    echo "  memwarden, first refresh (every process new): $(v mw_cold_ms) ms; $(v mw_fds) adj descriptors held," \
        "$(v mw_entry_bytes) bytes an entry, RSS +$(v mw_rss_growth_kb) kB"
    echo "  memwarden, whole cycles (every candidate read): $(v mw_whole_ms) ms (max $(v mw_whole_max_ms)), $(v mw_whole_visits) visits a pass"
    echo "  memwarden as the daemon runs it (headroom and slice given): $(v mw_daemon_ms) ms" \
        "(max $(v mw_daemon_max_ms)), $(v mw_daemon_visits) visits a pass"
    echo "  command: $REFRESH 15 250"
else
    echo "footprint refresh: $REFRESH not built (make $REFRESH)"
    v() { :; }
fi

if command -v earlyoom >/dev/null 2>&1; then
    # -m 99,99 -s 100,100: "low memory" at once, so it selects every 100 ms
    timeout 4 earlyoom -d --dryrun -m 99,99 -s 100,100 -r 0 >"$TMP/eo" 2>&1
    sed -n 's/^selecting victim took \([0-9.]*\) ms.*/\1/p' "$TMP/eo" >"$TMP/eot"
    echo "earlyoom $(earlyoom -v 2>&1 | head -1 | awk '{print $2}'): median $(median <"$TMP/eot") ms," \
        "min $(minimum <"$TMP/eot") ms over $(wc -l <"$TMP/eot") selections"
    echo "  command: earlyoom -d --dryrun -m 99,99 -s 100,100 -r 0 (its -d also prints a line per process)"
    grep -m1 '^sending .* to process' "$TMP/eo" | sed 's/^/  /'
    # the same without -d (no line per process): its CPU time per selection
    earlyoom --dryrun -m 99,99 -s 100,100 -r 0 >"$TMP/eo2" 2>&1 &
    epid=$!
    sleep 4
    cpu=$(awk '{print $14 + $15}' "/proc/$epid/stat" 2>/dev/null)
    kill -TERM "$epid" 2>/dev/null
    wait "$epid" 2>/dev/null
    sel=$(grep -c '^sending ' "$TMP/eo2")
    [ -n "$cpu" ] && [ "$sel" -gt 0 ] && echo "  without -d: $(awk -v c="$cpu" -v s="$sel" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.1f", c * 1000 / hz / s}') ms of CPU a selection ($sel selections in 4 s)"
    eo=$(median <"$TMP/eot")
    if [ -n "$(v mw_whole_ms)" ] && [ -n "$eo" ] && [ "$eo" != - ]; then
        echo "ratios (issue 27; same run):"
        awk -v d="$(v mw_daemon_ms)" -v w="$(v mw_whole_ms)" -v f="$(v floor_fields_ms)" -v e="$eo" 'BEGIN {
            printf "  refresh as the daemon runs it / earlyoom selection: %.3fx (goal <= 0.5)\n", d / e
            printf "  whole refresh cycle / earlyoom selection: %.2fx\n", w / e
            printf "  whole refresh cycle / plain-C floor of its fields: %.2fx (goal <= 1.5)\n", w / f }'
    fi
else
    echo "earlyoom: not installed (apt-get install earlyoom) -- no comparison"
fi

# nohang (Python) has no dry run: only its read-only listing of the
# victim candidates (--tasks) runs here; it times its own choice
if command -v nohang >/dev/null 2>&1 && [ -r /etc/nohang/nohang.conf ] && [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e s %M kB' nohang -c /etc/nohang/nohang.conf --tasks >"$TMP/nh" 2>"$TMP/nht"
    echo "nohang $(dpkg-query -W -f '${Version}' nohang 2>/dev/null): $(sed -n 's/.*found in \([0-9]*\)ms.*/\1/p' "$TMP/nh") ms" \
        "to find its victim, $(tail -n 1 "$TMP/nht") (wall, max RSS) for the whole listing"
    echo "  command: nohang -c /etc/nohang/nohang.conf --tasks (read-only; its daemon kills for real)"
fi
