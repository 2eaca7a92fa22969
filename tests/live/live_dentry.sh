#!/bin/sh
# Live: the lmkd seed's slow kernel "leak" — a program that opens, writes,
# closes and deletes files all day fills the dentry cache. tests/progs/
# lk_files does it 50000 times in a temporary directory on a disk
# filesystem (tmpfs keeps no negative dentries); `slab --interval`,
# `leak --system` and a `watch --system --record` read back by `slab --from`
# and `leak --from` must all name dentry as the growing cache. Removing the
# directory frees its dentries again (no drop_caches).
. tests/lib.sh
PROG=${MW_BUILD:-build}/progs/lk_files
[ -x "$PROG" ] || { skip live_dentry "no $PROG (run make)"; exit 0; }
if [ ! -r /proc/slabinfo ] && [ ! -d /sys/kernel/slab/dentry ]; then
    skip live_dentry "neither /proc/slabinfo nor /sys/kernel/slab readable"; exit 0
fi
dir=""
for base in /var/tmp /tmp "$(pwd)"; do
    d=$(mktemp -d "$base/mw-dentry.XXXXXX" 2>/dev/null) || continue
    if [ "$(stat -f -c %T "$d")" = tmpfs ]; then rmdir "$d"; continue; fi
    dir=$d; break
done
[ -n "$dir" ] || { skip live_dentry "no disk filesystem to create files on"; exit 0; }
tmp=$(mktemp -d)
bg=""
cleanup() {
    for p in $bg; do kill "$p" 2>/dev/null; done
    rm -rf "$dir" "$tmp"
}
trap cleanup EXIT INT TERM

# One measurement: the samplers start, the files are made once each has
# taken its first sample, and each sampler's window spans the whole run.
measure() {
    rm -f "$tmp"/rec* "$tmp"/*.json "$tmp"/*.err
    "$MW_BIN" watch --system -i 500ms --record "$tmp/rec" >/dev/null 2>&1 &
    wpid=$!; bg="$wpid"
    "$MW_BIN" leak --system --duration 8s --interval 500ms --json >"$tmp/leak.json" 2>"$tmp/leak.err" &
    lpid=$!; bg="$bg $lpid"
    "$MW_BIN" slab --interval 7s --json --top 5 >"$tmp/slab.json" 2>"$tmp/slab.err" &
    spid=$!; bg="$bg $spid"
    # The record's first line shows the samplers are running; give the
    # others a second to take their first sample too.
    i=0; while [ ! -s "$tmp/rec" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 1
    mkdir -p "$dir/$1"
    "$PROG" "$dir/$1" 50000 >/dev/null
    sleep 0.6
    kill -INT "$wpid"
    wait "$wpid" "$spid" "$lpid"
}

measure run1

first_growth() { sed -n '/"growth": \[/,$p' "$1" | grep -m1 '"name":' | sed 's/.*"name": "//; s/".*//'; }
g=$(first_growth "$tmp/slab.json")
if [ "$g" = dentry ] && grep -q '"advice": "directory entries' "$tmp/slab.json"; then
    ok slab_interval_names_dentry
else
    fail slab_interval_names_dentry "first grower: '$g'" "$(head -c 1500 "$tmp/slab.json")"
fi
w=$(grep -m1 '^  "where_summary":' "$tmp/leak.json")
case "$w" in
*"slab dentry"*) ok leak_system_names_dentry ;;
*) fail leak_system_names_dentry "$w" "$(cat "$tmp/leak.err")" ;;
esac
"$MW_BIN" slab --from "$tmp/rec" --json >"$tmp/slabrec.json" 2>&1
g=$(first_growth "$tmp/slabrec.json")
check slab_from_record_names_dentry test "$g" = dentry
"$MW_BIN" leak --from "$tmp/rec" --system >"$tmp/leakrec.txt" 2>&1
check leak_from_record_names_dentry grep -q "slab dentry" "$tmp/leakrec.txt"
