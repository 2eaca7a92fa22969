#!/bin/sh
# The cost of metrics: two daemons (--dry-run: kills nothing) side by side
# for MW_BENCH_METRICS_S seconds (default 60) on a calm machine, one without
# metrics, one with the textfile every 15 s and HTTP on 127.0.0.1 (a random
# port). Counted after start-up: context switches (wake-ups) of the daemon
# and of its metrics process, and their RSS at the end; then 200 scrapes
# timed with curl. Timings are information, never pass/fail.
SECS=${MW_BENCH_METRICS_S:-60}
BIN=$MW_BIN
TMP=$(mktemp -d)
off= on=
cleanup() {
    for p in $off $on; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ctxt() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {print s + 0}' "/proc/$1/status" 2>/dev/null; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }

mkdir "$TMP/tf"
cat >"$TMP/on.conf" <<EOF2
[metrics]
metrics_textfile = $TMP/tf
metrics_interval = 15s
metrics_listen = 127.0.0.1:0
EOF2
"$BIN" daemon --foreground --dry-run --state-file "$TMP/off.json" 2>"$TMP/off.log" &
off=$!
"$BIN" daemon --foreground --dry-run --config "$TMP/on.conf" --state-file "$TMP/on.json" 2>"$TMP/on.log" &
on=$!
sleep 2
child=$(ps -o pid= --ppid $on | head -1 | tr -d ' ')
port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/on.log")
if [ -z "$child" ] || [ -z "$port" ]; then
    echo "metrics process did not start:"; cat "$TMP/on.log"; exit 0
fi
o0=$(ctxt $off) n0=$(ctxt $on) c0=$(ctxt $child)
sleep "$SECS"
o1=$(ctxt $off) n1=$(ctxt $on) c1=$(ctxt $child)
echo "over $SECS s, idle (no scrapes; textfile every 15 s):"
echo "  metrics off: daemon $((o1 - o0)) context switches, RSS $(rss $off) kB"
echo "  metrics on:  daemon $((n1 - n0)) context switches, RSS $(rss $on) kB;" \
    "metrics process $((c1 - c0)) context switches, RSS $(rss $child) kB (PSS $(pss $child) kB: shares the daemon's pages)"
i=0
: >"$TMP/t"
while [ $i -lt 200 ]; do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" >>"$TMP/t"
    i=$((i + 1))
done
sort -n "$TMP/t" | awk '{t[NR]=$1} END {printf "  200 scrapes (curl time_total): median %.2f ms, p99 %.2f ms, max %.2f ms\n", t[int(NR/2)]*1000, t[int(NR*0.99)]*1000, t[NR]*1000}'
echo "  exposition: $(curl -s "http://127.0.0.1:$port/metrics" | wc -c) bytes; after the scrapes: metrics process RSS $(rss $child) kB," \
    "daemon $(($(ctxt $on) - n1)) context switches during them"
echo "  (command: MW_BENCH_METRICS_S=$SECS sh tests/bench/bench_metrics.sh)"
