#!/bin/sh
# Live: the lmkd seed's slow kernel "leak" — a program that opens, writes,
# closes and deletes files all day fills the dentry cache. tests/progs/
# lk_files does it 120000 times in a temporary directory on a disk
# filesystem (tmpfs keeps no negative dentries); `slab --interval`,
# `leak --system` and a `watch --system --record` read back by `slab --from`
# and `leak --from` must all name dentry as the growing cache. Removing the
# directory frees its dentries again (no drop_caches).
# The machine need not be idle (issue 16: under disk load buffer_head grew
# more than dentry): each check wants dentry among the top TOP growers
# with at least 60 % of the expected growth (N negative dentries of the
# cache's object size), not necessarily first.
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
trap cleanup EXIT
trap 'exit 1' INT TERM

# Enough files that their ~23 MB of negative dentries stand above what
# others on the machine free meanwhile (a removed scratch tree: ~8 MB seen).
N=120000
TOP=5
# dentry's object size here (192 bytes on 64-bit kernels) sizes the growth.
obj=$("$MW_BIN" slab --json --top 100000 2>/dev/null |
    awk '/"name": "dentry"/ { f = 1 } f && /"objsize_bytes"/ { gsub(/[^0-9]/, ""); print; exit }')
[ -n "$obj" ] || obj=192
PAGE=$(getconf PAGESIZE)
# dentry_bytes: the dentry cache's size now as slabtop counts it (num_slabs
# x pages per slab x page size), from /proc/slabinfo; empty if unreadable.
dentry_bytes() {
    awk -v pg="$PAGE" '$1 == "dentry" { print $15 * $6 * pg; exit }' /proc/slabinfo 2>/dev/null
}

# records: the lines (samples) in watch's record so far.
records() { cat "$tmp"/rec* 2>/dev/null | wc -l; }
records_at_least() { [ "$(records)" -ge "$1" ]; }

# One measurement: the samplers start, the files are made once each has
# taken its first sample, then every sampler is ended with SIGINT so its
# window spans the whole run however long the files take on a busy disk
# (1-3 s idle, more under load). leak's --duration is only a bound: a leak
# that does not end early on SIGINT (a background job here ignores it
# unless the command handles it) runs the full 40 s, still spanning it.
measure() {
    rm -f "$tmp"/rec* "$tmp"/*.json "$tmp"/*.err
    ref0=$(dentry_bytes)
    "$MW_BIN" watch --system -i 500ms --record "$tmp/rec" >/dev/null 2>&1 &
    wpid=$!; bg="$wpid"
    "$MW_BIN" leak --system --duration 40s --interval 500ms --json >"$tmp/leak.json" 2>"$tmp/leak.err" &
    lpid=$!; bg="$bg $lpid"
    "$MW_BIN" slab --interval 10m --json --top 20 >"$tmp/slab.json" 2>"$tmp/slab.err" &
    spid=$!; bg="$bg $spid"
    # The record's lines are watch's samples, 500 ms apart: three lines mean
    # the samplers have run a second, time for leak and slab (which show
    # nothing until they end) to take their first sample too, on a busy
    # machine as on an idle one; two more after the files, a sample of
    # each after them.
    wait_for 30 records_at_least 3 || echo "  watch recorded $(records) samples in 30 s" >&2
    mkdir -p "$dir/$1"
    t0=$(date +%s%N)
    "$PROG" "$dir/$1" $N >/dev/null
    ms=$((($(date +%s%N) - t0) / 1000000))
    _r=$(records)
    wait_for 30 records_at_least $((_r + 2)) || echo "  watch recorded no sample after the files" >&2
    kill -INT "$wpid" "$spid" "$lpid"
    wait "$wpid" "$spid" "$lpid"
    ref1=$(dentry_bytes)
    # The expected growth: what the kernel itself reports over a window
    # holding the samplers' (others on the machine free dentries too, e.g.
    # by removing their scratch trees), else N objects of the cache's size.
    if [ -n "$ref0" ] && [ -n "$ref1" ]; then REF=$((ref1 - ref0)); else REF=$((N * obj)); fi
    echo "  $N files in $ms ms; dentry +$REF bytes by /proc/slabinfo (N x obj: $((N * obj)))" >&2
}

# growers FILE KEY FIELD: "name delta_bytes" for each entry of the
# top-level array KEY (pretty JSON, two-space indent), biggest growth
# first. FIELD is "name" (slab) or "label" (leak, whose slab entries are
# "slab NAME"; other entries are left out).
growers() {
    awk -v key="  \"$2\": [" -v field="\"$3\":" '
        index($0, key) == 1 { on = 1; next }
        on && /^  \]/ { exit }
        on && index($0, field) {
            n = $0; sub(/^[^:]*: "/, "", n); sub(/",?$/, "", n)
            if (field == "\"label\":") { if (n !~ /^slab /) { n = ""; next } sub(/^slab /, "", n) }
        }
        on && n != "" && /"delta_bytes":/ { d = $0; gsub(/[^0-9-]/, "", d); print n, d; n = "" }
    ' "$1" | sort -k2,2 -nr
}

# grower_check NAME FILE KEY FIELD: ok when dentry is among the TOP
# biggest growers with at least MIN_BYTES.
grower_check() {
    _list=$(growers "$2" "$3" "$4")
    _rank=$(printf '%s\n' "$_list" | awk '$1 == "dentry" { print NR; exit }')
    _d=$(printf '%s\n' "$_list" | awk '$1 == "dentry" { print $2; exit }')
    if [ -n "$_rank" ] && [ "$_rank" -le $TOP ] && [ "$_d" -ge $MIN_BYTES ]; then
        ok "$1"
        printf '  %s: dentry #%s, +%s bytes (min %s); top: %s\n' "$1" "$_rank" "$_d" $MIN_BYTES \
            "$(printf '%s\n' "$_list" | head -3 | tr '\n' ' ')" >&2
    else
        fail "$1" "dentry rank '${_rank:-none}' (want <= $TOP), +${_d:-0} bytes (want >= $MIN_BYTES)" \
            "top growers: $(printf '%s\n' "$_list" | head -$TOP | tr '\n' ' ')"
    fi
}

measure run1
# Each tool's figure is at least 70 % of the kernel's own over the run (its
# window is wider, so background frees can only shave a little off).
MIN_BYTES=$((REF * 7 / 10))
MIN_OBJS=$((MIN_BYTES / obj))
if [ "$REF" -lt $((N * obj * 4 / 10)) ]; then
    skip live_dentry "dentry grew only $REF bytes for $N files (the machine freed dentries as fast)"
    exit 0
fi

grower_check slab_interval_names_dentry "$tmp/slab.json" growth name
objs=$(awk '/^  "growth": \[/ { g = 1 } g && /"name": "dentry"/ { f = 1 }
    f && /"delta_objs"/ { gsub(/[^0-9-]/, ""); print; exit }' "$tmp/slab.json")
if [ "${objs:-0}" -ge $MIN_OBJS ] && grep -q '"advice": "directory entries' "$tmp/slab.json" &&
    grep -q '"ended_by": "SIGINT"' "$tmp/slab.json"; then
    ok slab_interval_dentry_objects_and_advice
else
    fail slab_interval_dentry_objects_and_advice "delta_objs '${objs}' (want >= $MIN_OBJS)" \
        "$(head -c 1500 "$tmp/slab.json")"
fi
grower_check leak_system_names_dentry "$tmp/leak.json" where label
"$MW_BIN" slab --from "$tmp/rec" --json --top 20 >"$tmp/slabrec.json" 2>&1
grower_check slab_from_record_names_dentry "$tmp/slabrec.json" growth name
"$MW_BIN" leak --from "$tmp/rec" --system --json >"$tmp/leakrec.json" 2>&1
grower_check leak_from_record_names_dentry "$tmp/leakrec.json" where label
