#!/bin/sh
# `make bench`: runs every tests/bench/bench_*.sh. Benchmarks print what
# they measured and the command that measures it; they never pass or fail
# on a timing.
cd "$(dirname "$0")/../.." || exit 1
: "${MW_BUILD:=build}" "${MW_BIN:=$(pwd)/memwarden}"
export MW_BUILD MW_BIN
for b in tests/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b" .sh)"
    sh "$b" || echo "(benchmark $b exited with status $?)"
    echo
done
