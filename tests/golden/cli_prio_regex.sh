#!/bin/sh
# Hostile --match and rules patterns: glibc's regcomp took 2.7 GB for a
# short one. prio refuses them before compiling them, with the reason: run
# under a 1 GB address-space limit, so a regression (regcomp taking GBs)
# fails here instead of eating RAM. Not timed: a pass/fail test judges
# what it controls, and a busy machine makes any time limit flaky. Under
# ASan (MW_SANITIZED) the limit cannot be used (ASan reserves terabytes of
# address space at start) and a 60 s timeout bounds a regression instead.
. tests/lib.sh
T=cli_prio_regex
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
F="$FIX/protect-spoof"
AS=$(as_limit)
[ "$AS" = unlimited ] && skip "$T.address_space_bound" "$MW_BIN cannot start under ulimit -v (ASan's reservation, or qemu-user for a 32-bit guest)"
if [ -n "${MW_SANITIZED:-}" ] || [ "$AS" = unlimited ]; then
    run() { timeout 60 "$MW_BIN" --root "$F" "$@" >"$TMP/out" 2>&1; }
else
    run() { (ulimit -v "$AS"; "$MW_BIN" --root "$F" "$@") >"$TMP/out" 2>&1; }
fi
n=0
for p in '((a{1,1000}){1,1000}){1,1000}' '((a{1,100}){1,100}){1,100}' '((a{,255}){,255}){,255}'; do
    n=$((n + 1))
    run prio set 0 --match "$p" --dry-run; st=$?
    check "$T.refused_$n" test "$st" -eq 2
    check "$T.says_why_$n" grep -q 'too large\|above 255' "$TMP/out"
done
run prio --match '((a{1,100}){1,100}){1,100}'
check $T.show_refuses grep -q 'too large' "$TMP/out"
printf 'exe:/usr/sbin/sshd uid:0 -> native\n((a{1,100}){1,100}){1,100} -> cached\n' >"$TMP/rules"
run prio apply "$TMP/rules" --dry-run; st=$?
check $T.rules_refused test "$st" -eq 1
check $T.rules_says_line grep -q "rules:2: bad pattern.*too large" "$TMP/out"
run prio set 100 --match 'sshd' --dry-run
check $T.plain_pattern_works grep -q '5001 would set' "$TMP/out"
