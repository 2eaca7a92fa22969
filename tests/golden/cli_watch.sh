#!/bin/sh
# Golden outputs of `memwarden watch --count 2` on a captured tree (the
# clock column and the JSON "t" are the only things that change run to
# run; they are masked), its record, and its usage errors.
# MW_UPDATE_GOLDEN=1 rewrites the goldens.
. tests/lib.sh
G=tests/golden/watch
scratch

# norm CMD...: runs CMD, masks the time of day and the "t" field, keeps
# CMD's exit status.
norm() {
    "$@" >"$T/raw"; _n_rc=$?
    sed -e 's/^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] /HH:MM:SS /' \
        -e 's/"t":[0-9.]*/"t":T/' "$T/raw"
    return $_n_rc
}
H="$FIX/host-24g"
golden_run "golden watch-system.txt" "$G/system.txt" 0 norm "$MW_BIN" --root "$H" watch --count 2 -i 10ms
golden_run "golden watch-system.json" "$G/system.json" 0 norm "$MW_BIN" --root "$H" watch --count 2 -i 10ms --json
golden_run "golden watch-pid.txt" "$G/pid.txt" 0 norm "$MW_BIN" --root "$H" watch -p 3599 --count 2 -i 10ms
golden_run "golden watch-pid.json" "$G/pid.json" 0 norm "$MW_BIN" --root "$H" watch -p 3599 --count 2 -i 10ms --json
golden_run "golden watch-pid-gone-system.txt" "$G/pid-gone-system.txt" 0 \
    norm "$MW_BIN" --root "$H" watch -p 3599 -p 999999 --system --count 2 -i 10ms
"$MW_BIN" --root "$H" watch -p 3599 --system --count 2 -i 10ms --record "$T/rec" >/dev/null 2>&1
st=$?
check "watch --record exits 0" [ $st -eq 0 ]
golden_run "golden watch-record.jsonl" "$G/record.jsonl" 0 norm cat "$T/rec"

# The change marks: a copy of host-24g whose meminfo changes between the
# two samples shows "+"/"-" in the C locale and arrows in a UTF-8 one; the
# C locale's table is ASCII only. The change is made once watch printed
# its first row (the first sample is taken), not after a fixed sleep: it
# then has the 2 s interval to land before the second sample.
rows() { grep -c '^[0-9][0-9]:' "$1"; }
has_rows() { [ "$(rows "$1")" -ge "$2" ]; } # FILE N: FILE shows N rows or more
for loc in C C.UTF-8; do
    rm -rf "$T/h"
    cp -r "$H" "$T/h"
    LC_ALL=$loc LC_CTYPE= LANG= "$MW_BIN" --root "$T/h" watch --count 2 -i 2s >"$T/change-$loc" 2>&1 &
    wpid=$!
    PIDS="$PIDS $wpid"
    wait_for 30 has_rows "$T/change-$loc" 1 ||
        fail "watch change $loc" "no first row within 30 s" "$(cat "$T/change-$loc")"
    sed -e 's/^MemAvailable: .*/MemAvailable:   24235184 kB/' -e 's/^Slab: .*/Slab:             241316 kB/' \
        -e 's/^SUnreclaim: .*/SUnreclaim:        43124 kB/' "$H/proc/meminfo" >"$T/h/proc/meminfo.new"
    mv "$T/h/proc/meminfo.new" "$T/h/proc/meminfo"
    has_rows "$T/change-$loc" 2 &&
        fail "watch change $loc" "the second sample came before meminfo changed (2 s after the first)"
    wait "$wpid"
done
golden_run "golden watch-change-ascii.txt" "$G/change-ascii.txt" 0 norm cat "$T/change-C"
golden_run "golden watch-change-utf8.txt" "$G/change-utf8.txt" 0 norm cat "$T/change-C.UTF-8"
check "watch in the C locale prints ASCII only" sh -c "! LC_ALL=C grep -q '[^ -~]' '$T/change-C'"

"$MW_BIN" --root "$H" watch -p 999999 --count 1 -i 10ms >/dev/null 2>&1
check "watch of a missing process exits 1" [ $? -eq 1 ]
"$MW_BIN" watch --interval 0 >/dev/null 2>&1
check "watch --interval 0 exits 2" [ $? -eq 2 ]
"$MW_BIN" watch --match '(' >/dev/null 2>&1
check "watch --match with a bad regex exits 2" [ $? -eq 2 ]
"$MW_BIN" watch extra >/dev/null 2>&1
check "watch stray argument exits 2" [ $? -eq 2 ]
"$MW_BIN" watch --help | grep -q "EXIT STATUS"
check "watch --help has exit codes" [ $? -eq 0 ]
"$MW_BIN" --root "$H" watch --count 3 -i 10ms --record /nonexistent/dir/rec >"$T/o" 2>"$T/e"
st=$?
check "watch --record to an unwritable path exits 1 after one row" \
    sh -c "[ $st -eq 1 ] && [ \$(grep -c '^[0-9]' '$T/o') -eq 1 ] && grep -q 'cannot write' '$T/e'"
