#!/bin/sh
# live_top_churn: processes that start and exit while memwarden top reads
# /proc are left out without a message; top never fails for it.
. tests/lib.sh
N=live_top_churn
T=$(mktemp -d)
LOOPS=
cleanup() {
    stop_pids $LOOPS
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# Two shells forking short-lived children as fast as they can.
for i in 1 2; do
    sh -c 'while :; do /bin/true; sleep 0 2>/dev/null; done' &
    LOOPS="$LOOPS $!"
done
bad=0
for i in $(seq 1 20); do
    "$MW_BIN" top --all >/dev/null 2>>"$T/err" || bad=$((bad + 1))
    "$MW_BIN" top --by class --json >/dev/null 2>>"$T/err" || bad=$((bad + 1))
done
if [ "$bad" -ne 0 ] || [ -s "$T/err" ]; then
    fail $N "$bad failed runs; stderr: $(head -5 "$T/err")"
else
    ok $N
fi
