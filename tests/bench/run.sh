#!/bin/sh
# make bench: runs every tests/bench/bench_*.sh. Timings are reports, never
# pass/fail; a benchmark that cannot run prints "skip NAME: reason".
cd "$(dirname "$0")/../.." || exit 1
: "${MW_BUILD:=build}" "${MW_BIN:=$(pwd)/memwarden}"
export MW_BIN MW_BUILD
for b in tests/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b" .sh)"
    sh "$b"
done
