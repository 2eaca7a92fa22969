#!/bin/sh
# make fuzz: one libFuzzer harness per parser of tests/fuzz/targets.c, built
# with clang (ASan + UBSan), seeded from the fixtures and the kept corpus,
# each run for FUZZ_S seconds (default 60). A crash is saved into
# tests/fuzz/corpus/NAME/ (test_fuzz_replay replays it in `make test`), and
# the run's new coverage is merged back into that directory.
# Usage: tools/fuzz.sh [NAME...]     env: FUZZ_S, FUZZ_BUILD (build-fuzz), CLANG
cd "$(dirname "$0")/.." || exit 2
: "${FUZZ_S:=60}" "${FUZZ_BUILD:=build-fuzz}" "${CLANG:=clang}"
command -v "$CLANG" >/dev/null 2>&1 || { echo "fuzz: $CLANG not installed (apt-get install clang)"; exit 2; }
san="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined"
# the library objects, instrumented for coverage
make -s BUILD="$FUZZ_BUILD" CC="$CLANG" CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $san" fuzz-lib-objs >/dev/null || exit 1
objs=$(find "$FUZZ_BUILD/obj" -name '*.o' ! -path '*/cli/main.o' | sort)
names=${*:-$(sed -n 's/^    {"\([a-z_0-9]*\)", f_.*/\1/p' tests/fuzz/targets.c)}
total=0 crashes=0
for n in $names; do
    bin=$FUZZ_BUILD/fuzz_$n
    "$CLANG" -D_GNU_SOURCE -Isrc -Itests/fuzz -std=gnu11 -O1 -g -fsanitize=fuzzer $san \
        -DFUZZ_NAME="\"$n\"" -o "$bin" tests/fuzz/harness.c tests/fuzz/targets.c $objs -lm || exit 1
    keep=tests/fuzz/corpus/$n work=$FUZZ_BUILD/corpus/$n
    mkdir -p "$keep" "$work"
    seeds=$(sed -n "s/^    {\"$n\", f_[a-z_0-9]*, \"\(.*\)\"},/\1/p" tests/fuzz/targets.c)
    if [ -n "$seeds" ]; then
        for f in tests/fixtures/$seeds; do [ -f "$f" ] && cp "$f" "$work/seed-$(echo "$f" | cksum | cut -d' ' -f1)"; done
    fi
    cp "$keep"/* "$work"/ 2>/dev/null
    log=$FUZZ_BUILD/fuzz_$n.log
    "$bin" -max_total_time="$FUZZ_S" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$keep/crash-" "$work" > "$log" 2>&1
    st=$?
    execs=$(sed -n 's/.*stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -z "$execs" ] && execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$log" | tail -1)
    # keep only inputs that add coverage (small, reviewable)
    "$bin" -merge=1 -artifact_prefix="$keep/crash-" "$keep" "$work" > /dev/null 2>&1
    if [ $st -ne 0 ]; then
        crashes=$((crashes + 1))
        echo "fuzz $n: CRASH (exit $st); input kept in $keep/, log $log"
    else
        echo "fuzz $n: ${execs:-?} executions in ${FUZZ_S} s, 0 crashes, corpus $(ls "$keep" | wc -l)"
    fi
    total=$((total + ${execs:-0}))
done
echo "fuzz: $total executions, $crashes targets crashed"
[ $crashes -eq 0 ]
