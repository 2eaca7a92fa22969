#!/bin/sh
# libmwpool against malloc/free: get/put pairs per second (1 and 2
# threads; 64 B, 4 KiB, 3 MiB = 1080p NV12) for the pool, glibc malloc and
# musl malloc (bench_pool built with musl-gcc -static, when musl-gcc
# exists), then the frame workload (tests/bench/bench_pool.c) for
# BENCH_POOL_S seconds (default 60) with and without the pool, RSS at the
# end. Prints a Markdown table; never pass/fail.
#   make bench   or   BENCH_POOL_S=10 MW_BUILD=build sh tests/bench/bench_pool.sh
: "${MW_BUILD:=build}" "${BENCH_POOL_S:=60}" "${BENCH_POOL_CELL_S:=0.5}"
B=$MW_BUILD/bench/bench_pool
[ -x "$B" ] || { echo "bench_pool: no $B (make bench builds it)"; exit 0; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$B" pairs all "$BENCH_POOL_CELL_S" >"$out"
if [ -x "$B"_musl ]; then
    "$B"_musl pairs malloc "$BENCH_POOL_CELL_S" | sed 's/alloc=malloc/alloc=musl/' >>"$out"
fi
rate() { sed -n "s/^pairs size=$1 threads=$2 alloc=$3 rate=//p" "$out"; }
m() { [ -n "$1" ] && awk -v r="$1" 'BEGIN { if (r >= 1e6) printf "%.1f M", r / 1e6; else printf "%.0f k", r / 1e3 }' || printf -- '-'; }
x() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf (a / b >= 10 ? "%.0fx" : "%.2fx"), a / b }' || printf -- '-'; }
echo "get/put pairs per second ($BENCH_POOL_CELL_S s a cell; the pool's ratio to each malloc):"
echo
echo "| block | threads | libmwpool | glibc malloc | musl malloc | pool/glibc | pool/musl |"
echo "|---|---|---|---|---|---|---|"
for s in 64 4096 3110400; do
    for t in 1 2; do
        p=$(rate $s $t pool) g=$(rate $s $t malloc) u=$(rate $s $t musl)
        name=$s; [ $s = 4096 ] && name="4 KiB"; [ $s = 3110400 ] && name="3 MiB (NV12 1080p)"
        [ $s = 64 ] && name="64 B"
        echo "| $name | $t | $(m "$p") | $(m "$g") | $(m "$u") | $(x "$p" "$g") | $(x "$p" "$u") |"
    done
done
echo
echo "frame workload, $BENCH_POOL_S s, 2 threads, glibc (RSS in MiB):"
echo
echo "| frames from | frames done | RSS at half time | RSS at the end | RSS after all returned | peak RSS |"
echo "|---|---|---|---|---|---|"
for a in malloc pool; do
    "$B" frames $a "$BENCH_POOL_S" | awk -v a=$a '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "| %s | %s | %.1f | %.1f | %.1f | %.1f |\n", a == "pool" ? "libmwpool" : "glibc malloc",
            v["frames"], v["rss_half_kb"] / 1024, v["rss_end_kb"] / 1024,
            v["rss_returned_kb"] / 1024, v["hwm_kb"] / 1024 }'
done
