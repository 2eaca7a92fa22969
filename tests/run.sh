#!/bin/sh
# The test runner behind `make test` and `make check`: runs every unit-test
# program in $MW_BUILD/tests, then every tests/golden/cli_*.sh and tests/live/live_*.sh,
# counts their "ok"/"FAIL"/"skip" lines and ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
: "${MW_BUILD:=build}" "${MW_BIN:=$(pwd)/memwarden}"
export MW_BIN MW_BUILD
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
trap 'exit 1' INT TERM
pass=0 failn=0 skipn=0
tally() { # NAME LOGFILE STATUS
    p=$(grep -c '^ok ' "$2"); f=$(grep -c '^FAIL ' "$2"); s=$(grep -c '^skip ' "$2")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $1 (exited with status $3)"; f=1
    fi
    grep -E '^(FAIL|skip) ' "$2" | sed 's/^/  /'
    pass=$((pass + p)); failn=$((failn + f)); skipn=$((skipn + s))
    printf '%-28s %3d ok %3d failed %3d skipped\n' "$1" "$p" "$f" "$s"
}
# The tree's shape: includes only run down the layers (tools/layers.sh).
sh tools/layers.sh >"$out/layers.log" 2>&1; st=$?
if [ $st -eq 0 ]; then echo "ok layers" >>"$out/layers.log"; else echo "FAIL layers" >>"$out/layers.log"; fi
tally layers "$out/layers.log" 0
[ $st -ne 0 ] && sed 's/^/    /' "$out/layers.log" | head -40
for t in "$MW_BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    "$t" >"$out/$name.log" 2>"$out/$name.err"; st=$?
    tally "$name" "$out/$name.log" "$st"
    [ "$st" -ne 0 ] && sed 's/^/    /' "$out/$name.err" | head -40
done
for t in tests/golden/cli_*.sh tests/live/live_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    sh "$t" >"$out/$name.log" 2>"$out/$name.err"; st=$?
    tally "$name" "$out/$name.log" "$st"
    # the reasons (fail() writes them to stderr), without the shell's
    # "Killed" notes for the hogs a test ends, which once hid them
    grep -q '^FAIL ' "$out/$name.log" && grep -v '^Killed$' "$out/$name.err" | sed 's/^/    /' | head -80
done
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
