#!/bin/sh
# Live checks of `memwarden status` on this machine: its six memory columns
# agree with procps `free -b` (between a reading just before and one just
# after, widened by 0.5 % or 1 MiB; up to three tries), and a
# snapshot taken now reproduces the same JSON through --root.
. tests/lib.sh

jget() { # SECTION KEY < pretty json: the number of "KEY" inside "SECTION": {...}
    awk -v sec="\"$1\": {" -v key="\"$2\":" '
        index($0, sec) { inside = 1; next }
        inside && /^  [}]/ { inside = 0 }
        inside && index($0, key) { gsub(/[^0-9]/, "", $2); print $2; exit }'
}

if ! command -v free >/dev/null 2>&1; then
    skip "status agrees with free" "procps free is not installed"
else
    agree=no
    # free(1) is read just before and just after memwarden: on a busy machine
    # memory moves between reads, so memwarden's figure must lie between the
    # two readings, widened by the tolerance.
    for try in 1 2 3; do
        fr1=$(free -b | awk '/^Mem:/ {print $2, $3, $4, $5, $6, $7}')
        js=$("$MW_BIN" status --json)
        fr2=$(free -b | awk '/^Mem:/ {print $2, $3, $4, $5, $6, $7}')
        ok_all=yes why=""
        i=0
        for col in total used free shared buff_cache available; do
            i=$((i + 1))
            a=$(echo $fr1 | cut -d' ' -f$i); b=$(echo $fr2 | cut -d' ' -f$i)
            mine=$(printf '%s\n' "$js" | jget memory "$col")
            if ! awk -v m="$mine" -v a="$a" -v b="$b" 'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a;
                    t = hi * 0.005; if (t < 1048576) t = 1048576;
                    exit !(m >= lo - t && m <= hi + t) }'; then
                ok_all=no why="$why $col: memwarden $mine vs free $a..$b;"
            fi
        done
        [ $ok_all = yes ] && { agree=yes; break; }
        sleep 1
    done
    if [ $agree = yes ]; then ok "status agrees with free"; else fail "status agrees with free" "$why"; fi
fi

# A snapshot of this machine shows the same picture through --root (the
# parts that do not move: total, and the free columns within 2 %).
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
if "$MW_BIN" snapshot --no-procs "$d/snap" >/dev/null 2>&1; then
    live=$("$MW_BIN" status --json | jget memory total)
    capt=$("$MW_BIN" --root "$d/snap" status --json | jget memory total)
    check "snapshot reproduces MemTotal" [ "$live" = "$capt" ]
    a=$("$MW_BIN" --root "$d/snap" status --json); b=$("$MW_BIN" --root "$d/snap" status --json)
    check "snapshot json is byte-identical run to run" [ "$a" = "$b" ]
    "$MW_BIN" snapshot "$d/snap" >/dev/null 2>&1
    check "snapshot refuses a non-empty directory" [ $? -eq 1 ]
else
    fail "snapshot of this machine"
fi

# With a daemon running (dry run: it can kill nothing), status names it and
# its pressure source; when it has stopped, status says so.
t=$(mktemp -d)
"$MW_BIN" daemon --foreground --dry-run --state-file "$t/state.json" 2>"$t/log" &
dpid=$!
wait_for 10 test -s "$t/state.json" || echo "note: no state file in 10 s" >&2
out=$("$MW_BIN" status --state "$t/state.json")
case "$out" in *"running (pid $dpid), dry run"*"pressure source: "*) ok "status shows the running daemon";;
    *) fail "status shows the running daemon" "$out" "$(cat "$t/log")";; esac
"$MW_BIN" status --json --state "$t/state.json" | grep -q '"running": true'
check "status --json shows the running daemon" [ $? -eq 0 ]
stop_pids "$dpid"
out=$("$MW_BIN" status --state "$t/state.json")
case "$out" in *"NOT running"*|*"not running"*) ok "status notices the daemon stopped";;
    *) fail "status notices the daemon stopped" "$out";; esac
rm -rf "$t"
