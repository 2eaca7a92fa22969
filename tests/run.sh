#!/bin/sh
# The test runner behind `make test` and `make check`: runs every unit-test
# program in $MW_BUILD/tests, then every tests/golden/cli_*.sh and tests/live/live_*.sh,
# and for make test (MW_CROSS) the ARM builds' unit and golden tests under
# qemu-user; counts their "ok"/"FAIL"/"skip" lines and ends with "N passed,
# N failed, N skipped".
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
# one NAME KIND CMD...: runs a test program (KIND unit) or script (KIND
# script) with its output in $out/NAME.log and .err, its status in .st.
one() {
    _n=$1 _k=$2; shift 2
    "$@" >"$out/$_n.log" 2>"$out/$_n.err"
    echo "$? $_k" >"$out/$_n.st"
}
# report NAME: counts what test NAME said, and shows why when it failed: a
# program's stderr, or the reasons a script wrote to stderr (fail()) without
# the shell's "Killed" notes for the hogs a test ends, which once hid them.
report() {
    read -r _st _k <"$out/$1.st"
    tally "$1" "$out/$1.log" "$_st"
    if [ "$_k" = unit ]; then
        [ "$_st" -ne 0 ] && sed 's/^/    /' "$out/$1.err" | head -40
    else
        grep -q '^FAIL ' "$out/$1.log" && grep -v '^Killed$' "$out/$1.err" | sed 's/^/    /' | head -80
    fi
    return 0
}
# The ARM builds (make test sets MW_CROSS="aarch64 armhf"; the Makefile's
# cross-bins made build-ARCH/): their unit tests and the golden tests under
# qemu-user, niced, in the background while the native tests run (most of
# those wait on events); reported after them, in order ($out/cross.list).
# Live tests stay native: qemu-user passes syscalls to this kernel, so they
# would prove nothing new. MW_TIME_SCALE=10 widens the unit tests' time bounds.
cross() {
    for a in "$@"; do
        case $a in
        aarch64) q=qemu-aarch64-static cc=aarch64-linux-gnu-gcc pkg=gcc-aarch64-linux-gnu ;;
        armhf) q=qemu-arm-static cc=arm-linux-gnueabihf-gcc pkg=gcc-arm-linux-gnueabihf ;;
        *) continue ;;
        esac
        why=
        command -v "$cc" >/dev/null 2>&1 || why="$cc not installed ($pkg)"
        command -v "$q" >/dev/null 2>&1 || why=${why:-"$q not installed (qemu-user-static)"}
        [ -n "$why" ] || [ -x "build-$a/memwarden" ] || why="build-$a/memwarden not built (make cross-bins)"
        if [ -n "$why" ]; then
            one "$a" script echo "skip $a: $why"
            echo "$a" >>"$out/cross.list"
            continue
        fi
        printf '#!/bin/sh\nexec %s %s "$@"\n' "$q" "$(pwd)/build-$a/memwarden" >"$out/mw-$a"
        chmod +x "$out/mw-$a"
        for t in "build-$a"/tests/test_*; do
            [ -x "$t" ] || continue
            one "$a:${t##*/}" unit env MW_TIME_SCALE=10 "$q" "$t"
            echo "$a:${t##*/}" >>"$out/cross.list"
        done
        for t in tests/golden/cli_*.sh; do
            one "$a:$(basename "$t" .sh)" script env MW_BIN="$out/mw-$a" sh "$t"
            echo "$a:$(basename "$t" .sh)" >>"$out/cross.list"
        done
    done
}
: >"$out/cross.list"
xpid=
if [ -n "${MW_CROSS:-}" ]; then
    (
        trap 'exit 1' INT TERM
        renice -n 10 -p "$(exec sh -c 'echo $PPID')" >/dev/null 2>&1
        cross $MW_CROSS
    ) </dev/null &
    xpid=$!
    trap 'kill "$xpid" 2>/dev/null; rm -rf "$out"' EXIT
fi
for t in "$MW_BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    one "${t##*/}" unit "$t"
    report "${t##*/}"
done
for t in tests/golden/cli_*.sh tests/live/live_*.sh; do
    [ -f "$t" ] || continue
    one "$(basename "$t" .sh)" script sh "$t"
    report "$(basename "$t" .sh)"
done
if [ -n "$xpid" ]; then
    t=$(date +%s)
    wait "$xpid"
    while read -r n; do report "$n"; done <"$out/cross.list"
    echo "(the ARM builds' tests ended $(($(date +%s) - t)) s after the native ones)"
fi
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
