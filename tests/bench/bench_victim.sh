#!/bin/sh
# Victim-choice benchmark: time to choose a victim among 5,000 extra
# sleeping processes (plus whatever runs on the machine), memwarden
# (`daemon --choose-once`, dry: reads, kills nothing) side by side with
# earlyoom (`earlyoom -d --dryrun` with thresholds that trigger at once;
# it logs "selecting victim took N ms" with -d). Both only read /proc.
# Timings are reported, never judged.
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

if command -v earlyoom >/dev/null 2>&1; then
    # -m 99,99 -s 100,100: "low memory" at once, so it selects every 100 ms
    timeout 4 earlyoom -d --dryrun -m 99,99 -s 100,100 -r 0 >"$TMP/eo" 2>&1
    sed -n 's/^selecting victim took \([0-9.]*\) ms.*/\1/p' "$TMP/eo" >"$TMP/eot"
    echo "earlyoom $(earlyoom -v 2>&1 | head -1 | awk '{print $2}'): median $(median <"$TMP/eot") ms," \
        "min $(minimum <"$TMP/eot") ms over $(wc -l <"$TMP/eot") selections"
    echo "  command: earlyoom -d --dryrun -m 99,99 -s 100,100 -r 0 (its -d also prints a line per process)"
    grep -m1 '^sending .* to process' "$TMP/eo" | sed 's/^/  /'
else
    echo "earlyoom: not installed (apt-get install earlyoom) -- no comparison"
fi
