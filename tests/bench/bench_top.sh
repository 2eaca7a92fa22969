#!/bin/sh
# bench_top: `memwarden top` against `smem -t` with 5,000 extra sleeping
# processes (MW_BENCH_SLEEPERS to change). The sleepers are started by
# build/progs/sleepers in a session of their own and ended by that process
# group; the script checks that none is left.
. tests/lib.sh
N=${MW_BENCH_SLEEPERS:-5000}
SLEEPERS=${MW_BUILD:-build}/progs/sleepers
if ! command -v smem >/dev/null 2>&1; then
    skip bench_top "smem not installed (apt-get install smem)"
    exit 0
fi
[ -x "$SLEEPERS" ] || { skip bench_top "$SLEEPERS not built"; exit 0; }
T=$(mktemp -d)
LEADER=
cleanup() {
    if [ -n "$LEADER" ]; then
        kill -TERM "-$LEADER" 2>/dev/null
        wait "$LEADER" 2>/dev/null
        left=0
        for p in $(cat "$T/pids" 2>/dev/null); do
            # gone, or the PID was reused by something outside our session
            if [ -r "/proc/$p/stat" ] &&
                [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f4)" = "$LEADER" ]; then
                left=$((left + 1))
            fi
        done
        echo "sleepers ended: $left of $(wc -l <"$T/pids") left"
        LEADER=
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ms() { echo $(( ($2 - $1) / 1000000 )); }

"$SLEEPERS" "$N" "$T/pids" >"$T/ready" 2>"$T/sleepers.err" &
LEADER=$!
i=0
while [ ! -s "$T/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
started=$(cat "$T/ready")
total=$(ls -d /proc/[0-9]* | wc -l)
echo "bench_top: $started sleepers started (session $LEADER); $total processes in /proc"

best=
for run in 1 2 3 4 5; do
    t0=$(date +%s%N); "$MW_BIN" top >"$T/top.out"; t1=$(date +%s%N)
    t=$(ms "$t0" "$t1")
    [ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
    all="$all $t"
done
rows=$(grep -c '' "$T/top.out")
t0=$(date +%s%N); "$MW_BIN" top --json >/dev/null; t1=$(date +%s%N)
json_ms=$(ms "$t0" "$t1")
t0=$(date +%s%N); smem -t >"$T/smem.out" 2>&1; t1=$(date +%s%N)
smem_ms=$(ms "$t0" "$t1")
smem_rows=$(grep -c '' "$T/smem.out")
echo "memwarden top:        ${best} ms (best of 5:${all} ms), $rows lines"
echo "memwarden top --json: ${json_ms} ms"
echo "smem -t:              ${smem_ms} ms, $smem_rows lines"
# CPU time (user + system) too: on a loaded machine it varies less than
# the wall clock.
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%U %S" -o "$T/cpu.mw" "$MW_BIN" top >/dev/null
    /usr/bin/time -f "%U %S" -o "$T/cpu.smem" smem -t >/dev/null 2>&1
    awk -v a="$(cat "$T/cpu.mw")" -v b="$(cat "$T/cpu.smem")" 'BEGIN {
        split(a, x, " "); split(b, y, " "); m = x[1] + x[2]; s = y[1] + y[2]
        printf "cpu time (user+sys): memwarden top %.2f s, smem -t %.2f s, ratio %.1fx\n",
            m, s, (m > 0 ? s / m : 0) }'
fi
if [ "$best" -gt 0 ]; then
    echo "ratio: smem / memwarden = $(awk "BEGIN{printf \"%.1f\", $smem_ms / $best}")x"
else
    echo "ratio: smem / memwarden > ${smem_ms}x (memwarden under 1 ms)"
fi
