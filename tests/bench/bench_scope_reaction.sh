#!/bin/sh
# The killer's own cost on the host (issue 27): memwarden alone, as
# `daemon --scope` on a v1 memory cgroup this benchmark makes (1 GiB, the
# cgroup as the machine), with 5,000 sleepers in it. Three legs: the floor
# (no daemon; the observer itself sends SIGKILL the moment the cgroup's
# headroom crosses the line), 20 hogs at 200 MiB/s under memwarden (line
# crossed -> the hog's exit, its own timings from its history), and 60 s
# of a ballast held 2 % above the line (its CPU seconds, wake-ups, RSS).
# The line: half the available_low line of the cgroup (5 % of 1 GiB),
# where a runaway dies without a stall. earlyoom cannot be scoped: its
# reaction is the VM bed's (bench_reaction.sh); here only its cost under
# sustained pressure is measured beside memwarden's, as it runs near its
# line: `earlyoom --dryrun` (kills nothing) with its line (-M) 580 MiB
# under the host's MemAvailable -- any headroom under 586 MiB makes it
# poll every 100 ms, as 2 % above its line of a 1 GiB machine does --
# with the same 5,000 sleepers and the same ballast held in the cgroup. Every hog and
# kill stays inside the cgroup; the cgroup is removed on any exit. Takes
# /tmp/mw-live.lock (a cgroup changes the system). Timings are reported,
# never judged. MW_BENCH_SCOPE=0 skips it.
BUILD=${MW_BUILD:-build}
N=${MW_BENCH_PROCS:-5000}
RUNS=${MW_BENCH_RUNS:-20}
HOLD=${MW_BENCH_HOLD_S:-60}
CGROOT=/sys/fs/cgroup/memory
BIN=$(pwd)/memwarden-static
[ -x "$BIN" ] || BIN=$MW_BIN
[ "${MW_BENCH_SCOPE:-1}" = 0 ] && { echo "skip: MW_BENCH_SCOPE=0"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (a memory cgroup)"; exit 0; }
[ -f $CGROOT/memory.limit_in_bytes ] || { echo "skip: no cgroup v1 memory controller"; exit 0; }
for p in lt_sleepers reaction hog; do
    [ -x "$BUILD/progs/$p" ] || { echo "skip: $BUILD/progs/$p not built"; exit 0; }
done
if [ -z "$MW_SCOPE_LOCKED" ]; then
    # -o: the lock's descriptor is not inherited (a sleeper left behind
    # would hold the lock for everyone)
    MW_SCOPE_LOCKED=1 exec flock -o /tmp/mw-live.lock sh "$0" "$@"
fi

CG=$CGROOT/memwarden-cost-$$
T=$(mktemp -d)
spid= mpid= epid=
cleanup() {
    # only what this benchmark started, by the PID it recorded
    [ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
    [ -n "$epid" ] && kill "$epid" 2>/dev/null && wait "$epid" 2>/dev/null
    [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    i=0
    while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    # what is left in the cgroup this benchmark made is its own: sleepers
    # whose parent the daemon or the kernel's OOM killer took
    for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    i=0
    while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    i=0 # the last killed are still exiting for a moment: rmdir until it takes
    while [ -d "$CG" ] && ! rmdir "$CG" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir "$CG" || { echo "skip: cannot make $CG"; exit 0; }
echo 1G >"$CG/memory.limit_in_bytes"
echo 1G >"$CG/memory.memsw.limit_in_bytes" 2>/dev/null
TOTAL_KB=1048576
LINE_PCT=5
line_kb=$((TOTAL_KB * LINE_PCT / 100))
hold_kb=$((TOTAL_KB * (LINE_PCT + 2) / 100))
sh -c "echo \$\$ >$CG/cgroup.procs && exec $BUILD/progs/lt_sleepers $N 0" >"$T/ready" &
spid=$!
i=0
while ! grep -q '^ready' "$T/ready" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared with other jobs);" \
    "$(cut -d' ' -f2 "$T/ready") sleepers in $CG (1 GiB), line $line_kb kB"

# the floor: no daemon
r=0
while [ $r -lt "$RUNS" ]; do
    r=$((r + 1))
    "$BUILD/progs/reaction" hog --cgroup "$CG" --line-kb $line_kb --timeout 60 --kill-at-line -- \
        "$BUILD/progs/hog" --rate 200M/s --name hog >>"$T/floor.reaction.jsonl"
done
# memwarden
"$BIN" daemon --foreground --scope "$CG" --history "$T/memwarden.history.jsonl" \
    --state-file "$T/state.json" 2>"$T/memwarden.log" &
mpid=$!
sleep 35 # the sleepers older than a storm's members (MW_GROUP_AGE_S 30)
r=0
while [ $r -lt "$RUNS" ] && kill -0 "$mpid" 2>/dev/null; do
    r=$((r + 1))
    "$BUILD/progs/reaction" hog --cgroup "$CG" --line-kb $line_kb --timeout 60 -- \
        "$BUILD/progs/hog" --rate 200M/s --name hog >>"$T/memwarden.reaction.jsonl"
    sleep 2
done
"$BUILD/progs/reaction" hold --cgroup "$CG" --target-kb $hold_kb --seconds "$HOLD" --watch "$mpid" \
    >>"$T/memwarden.hold.jsonl"
echo "descriptors held by the daemon: $(ls /proc/$mpid/fd | wc -l)"
kill "$mpid" && wait "$mpid"
mpid=
guardians=floor,memwarden
if command -v earlyoom >/dev/null 2>&1; then
    eo_line=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) - 593920))
    earlyoom --dryrun -M $eo_line -r 0 >"$T/earlyoom.log" 2>&1 &
    epid=$!
    "$BUILD/progs/reaction" hold --cgroup "$CG" --target-kb $hold_kb --seconds "$HOLD" \
        --watch "$epid" >>"$T/earlyoom.hold.jsonl"
    echo "earlyoom $(earlyoom -v 2>&1 | awk '{print $2; exit}'): --dryrun -M $eo_line -r 0" \
        "(the host's MemAvailable - 580 MiB), $(grep -c '^sending' "$T/earlyoom.log") selections" \
        "(its line crossed) in the $HOLD s"
    guardians=$guardians,earlyoom
fi
python3 tests/bench/reaction.py --summarize "$T" --nprocs "$N" --guardians $guardians \
    --line-pct $LINE_PCT --hold "$HOLD"
grep -c '^<3>kill' "$T/memwarden.log" | sed 's/^/kills in the log: /'
echo "command: MW_BUILD=$BUILD sh tests/bench/bench_scope_reaction.sh (memwarden daemon --scope $CG)"
