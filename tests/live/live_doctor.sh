#!/bin/sh
# Live test (issue 11), read only: doctor on this machine (a table of 16
# checks, exit 0/1/2, valid JSON), and a snapshot of it diagnosed with
# --root gives the same verdicts for the settings it holds. Changes nothing.
. tests/lib.sh
scratch
"$MW_BIN" doctor --sample 1s >"$T/live.txt" 2>"$T/err"; st=$?
n=$(grep -cE '^(ok|n/a|advice|problem) ' "$T/live.txt")
if { [ $st -eq 0 ] || [ $st -eq 3 ]; } && [ "$n" -eq 16 ]; then ok "doctor live: 16 checks, exit $st"
else fail "doctor live" "exit $st, $n checks" "$(cat "$T/err")"; fi
if command -v python3 >/dev/null 2>&1; then
    "$MW_BIN" doctor --sample 0 --json | python3 -m json.tool >/dev/null &&
        ok "doctor live --json: valid JSON" || fail "doctor live --json: valid JSON"
fi
verdicts() { # the settings' checks: id verdict
    "$MW_BIN" "$@" doctor --sample 0 --json | tr -d ' ",' | awk -F: '
        $1 == "id" { id = $2 } $1 == "verdict" { print id, $2 }' |
        grep -E '^(swap|zram|swappiness|page_cluster|min_free_kbytes|watermarks|overcommit|dirty|thp|mglru|psi) '
}
mkdir "$T/snap" && chmod 700 "$T/snap"
if "$MW_BIN" snapshot --no-procs "$T/snap" >/dev/null 2>&1; then
    a=$(verdicts); b=$(verdicts --root "$T/snap")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "doctor --root on a fresh snapshot: same verdicts"
    else fail "doctor --root on a fresh snapshot: same verdicts" "$(printf '%s\n' "$a" > "$T/a"; printf '%s\n' "$b" | diff "$T/a" -)"; fi
else skip "doctor on a snapshot" "memwarden snapshot failed here"; fi
