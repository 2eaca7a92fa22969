#!/bin/sh
# live_prio: memwarden prio on processes this test starts (and ends, by
# PID): set by class name and number, --dry-run, --match, apply a rules
# file, PID 1 refused, lowering below 0 without CAP_SYS_RESOURCE refused
# with nothing changed.
. tests/lib.sh
scratch
if [ ! -w /proc/self/oom_score_adj ]; then
    skip live_prio "/proc/self/oom_score_adj is not writable"; exit 0
fi
# A duration no other process on the machine uses, to match on.
sleep 987.654321 & A=$!
sleep 987.654322 & B=$!
PIDS="$A $B"
# started: each runs sleep (not yet the shell that forks it) with its duration
execd() { grep -q "987.65432$2" "/proc/$1/cmdline" 2>/dev/null; }
wait_for 10 execd "$A" 1 && wait_for 10 execd "$B" 2 || fail "live_prio setup" "the two sleeps did not start in 10 s"
adj() { cat "/proc/$1/oom_score_adj"; }
# A check joins its conditions into one string: "check NAME [ x ] && [ y ]"
# would leave [ y ] outside the check, unjudged.
M=$MW_BIN

"$M" prio set cached "$A" >"$T/out" 2>&1
check "prio set cached" [ "$(adj "$A")" = 900 ]
grep -q "0 (foreground) -> 900 (cached)" "$T/out" || fail "prio set prints the change" "$(cat "$T/out")"

"$M" prio set foreground "$A" "$B" --dry-run >"$T/out" 2>&1
check "prio --dry-run changes nothing" [ "$(adj "$A")" = 900 ]
grep -q "1 would change, 1 already" "$T/out" || fail "prio --dry-run report" "$(cat "$T/out")"

"$M" prio set 250 --match 'sleep 987\.65432[12]' >"$T/out" 2>&1
check "prio set --match" [ "$(adj "$A") $(adj "$B")" = "250 250" ]

"$M" prio set 0 "$A" >/dev/null 2>&1
check "prio set lowers back to 0" [ "$(adj "$A")" = 0 ]

printf '# test rules\nsleep 987\\.654321 -> cached\nsleep 987 = visible\n' >"$T/rules"
"$M" prio apply "$T/rules" >"$T/out" 2>&1; st=$?
check "prio apply: first matching rule wins" [ "$st $(adj "$A") $(adj "$B")" = "0 900 100" ]
"$M" prio apply "$T/rules" >"$T/out" 2>&1
grep -q "0 changed, 2 already" "$T/out" && ok "prio apply twice changes nothing" ||
    fail "prio apply twice changes nothing" "$(cat "$T/out")"
"$M" prio apply "$T/rules" --json >"$T/out" 2>&1
grep -q '"unchanged": 2' "$T/out" && ok "prio apply --json" || fail "prio apply --json" "$(cat "$T/out")"

before1=$(adj 1)
"$M" prio set cached 1 >"$T/out" 2>&1; st=$?
check "prio refuses PID 1 without --force" [ "$st $(adj 1) $(grep -q "PID 1" "$T/out" && echo said)" = "1 $before1 said" ]

"$M" prio set 1500 "$A" >"$T/out" 2>&1; st=$?
check "prio refuses 1500" [ "$st $(adj "$A")" = "2 900" ]

# All or nothing: a PID that does not exist stops the whole change.
"$M" prio set service "$A" 4194305 >"$T/out" 2>&1; st=$?
check "prio: one bad PID, nothing changed" [ "$st $(adj "$A")" = "1 900" ]

if grep -q '^CapEff:.*' /proc/self/status &&
    [ $(( 0x$(awk '/^CapEff/{print $2}' /proc/self/status) >> 24 & 1 )) -eq 0 ]; then
    # Without CAP_SYS_RESOURCE the kernel refuses values below the floor (0).
    "$M" prio set -500 "$A" "$B" >"$T/out" 2>&1; st=$?
    check "prio below 0 without CAP_SYS_RESOURCE: refused, nothing changed" \
        [ "$st $(adj "$A") $(adj "$B") $(grep -q CAP_SYS_RESOURCE "$T/out" && echo said)" = "1 900 100 said" ]
else
    "$M" prio set -500 "$A" >"$T/out" 2>&1; st=$?
    check "prio below 0 with CAP_SYS_RESOURCE" [ "$st $(adj "$A")" = "0 -500" ]
fi
"$M" prio "$A" --json >"$T/out" 2>&1
grep -q '"pid": '"$A" "$T/out" && ok "prio show --json" || fail "prio show --json" "$(cat "$T/out")"
