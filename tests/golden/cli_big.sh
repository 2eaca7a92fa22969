#!/bin/sh
# Numbers past 2^32 and dates past 2038, on purpose (issue 28): a 64 GiB
# machine (tests/fixtures/big-64g: 40 GiB process, 8 GiB cgroup limit, PSI
# totals and vmstat counters past 2^32, an 8 GiB mwpool, a daemon's state
# and kill history of 2039), its records and free -b log, a kernel log of
# 2039 (all made by tests/fixtures/mkbig64g.py). make test runs this on the
# native build and on the ARM builds under qemu-user, where size_t and long
# are 32 bits: the same golden output from all three. The spot checks pin
# the goldens to the fixtures' numbers. MW_UPDATE_GOLDEN=1 rewrites them. Files named in
# the output are given relative to the tree, so the goldens hold no checkout's path.
. tests/lib.sh
G=tests/golden/big
B=$FIX/big-64g
APP=/sys/fs/cgroup/system.slice/app.service
g() { # NAME WANT_RC CMD...: golden_run with the golden named NAME
    _n=$1 _w=$2; shift 2
    golden_run "big $_n" "$G/$_n" "$_w" "$@"
}
g status.txt 0 "$MW_BIN" --root "$B" status
g status.json 0 "$MW_BIN" --root "$B" status --json
g status-scope.txt 0 "$MW_BIN" --root "$B" status --scope $APP
g status-scope.json 0 "$MW_BIN" --root "$B" status --scope $APP --json
g top.txt 0 "$MW_BIN" --root "$B" top
g top.json 0 "$MW_BIN" --root "$B" top --json
g top-pools.json 0 "$MW_BIN" --root "$B" top --pools --json
g shm.json 0 "$MW_BIN" --root "$B" shm --json
g slab.json 0 "$MW_BIN" --root "$B" slab --json
g zram.txt 0 "$MW_BIN" --root "$B" zram
g doctor.json 3 "$MW_BIN" --root "$B" doctor --json
g metrics.prom 0 "$MW_BIN" --root "$B" metrics --history /var/log/memwarden-history.jsonl
g leak-visioncore.json 3 "$MW_BIN" leak --from "$FIX/records/big-64g-visioncore.jsonl" --json
g leak-dentry.txt 3 "$MW_BIN" leak --from "$FIX/records/big-64g-dentry.jsonl"
g analyze-free-b.json 3 "$MW_BIN" analyze tests/fixtures/logs/free-b-64g.log --json
g oom-2039.json 3 "$MW_BIN" oom tests/fixtures/oom/2039-board.journal-iso --json
g diff-2039.txt 0 "$MW_BIN" diff tests/fixtures/host-24g tests/fixtures/big-64g

# spot checks: has NAME FILE TEXT...: every TEXT is in FILE
has() {
    _n=$1 _f=$2; shift 2
    for _t in "$@"; do
        grep -qF -- "$_t" "$_f" || { fail "$_n" "no '$_t' in $_f"; return; }
    done
    ok "$_n"
}
has "big: meminfo total and swap in bytes" $G/status.json '"total": 68182605824' '"total": 34359738368'
has "big: PSI total past 2^32 us" $G/status.json '"total": 9876543.210123'
has "big: cgroup limit 8 GiB, usage 6.5 GiB" $G/status-scope.json '"limit": 8589934592' '"usage": 6979321856'
has "big: a 40 GiB process" $G/top.json '"rss": 43264245760'
has "big: a pool of 8 GiB, 5000000000 failed gets" $G/top-pools.json '"max_blocks": 1024' '"failed_gets": 5000000000'
has "big: a 6 GiB SysV segment" $G/shm.json '"size_bytes": 6442450944'
has "big: 60M dentries" $G/slab.json '"active_objs": 62914560'
has "big: zram 12 GiB stored in 4.3" $G/zram.txt '32.0 GiB  lz4      12.0 GiB  4.3 GiB'
has "big: PSI counter to the microsecond" $G/metrics.prom 'waiting_seconds_total 9876543.210123'
has "big: kills of 2039, 52 GiB freed" $G/metrics.prom 'last_kill_time_seconds 2200003000' 'freed_bytes_total 55834574852'
# the killer's choice (its JSON holds the time it took: no golden)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MW_BIN" --root "$B" daemon --choose-once --json >"$T/c" 2>&1
has "big: the 40 GiB process chosen" "$T/c" '"pid":4000,' '"rss":43264245760,' '"swap":6442450944,'
"$MW_BIN" --root "$B" daemon --choose-once --json --scope $APP >"$T/c" 2>&1
has "big: in the 8 GiB cgroup, the camera" "$T/c" '"pid":4100,' '"rss":6547308544,'
has "big: the kernel log of 2039" $G/oom-2039.json '"epoch_s": 2187363901'
has "big: a snapshot of 2039" $G/diff-2039.txt '2039-09-18'
