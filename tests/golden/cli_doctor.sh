#!/bin/sh
# Golden outputs of `memwarden doctor` on the seeds' machines (issue 11):
# the 5.6 GB device at 98 % swap, the 480 MB device, the RK3588 4 GB board,
# the 512 MiB VM capture, an old kernel (no MemAvailable, no PSI); and the
# exit status each must give (0 ok, 3 advice or a problem: the exit table).
# MW_UPDATE_GOLDEN=1 rewrites the golden files.
. tests/lib.sh
G=tests/golden/doctor

for spec in doctor-5g6-swap98:3 doctor-480m:3 doctor-rk3588-4g:3 vm-512m:3 old-kernel-3.10:3; do
    fx=${spec%%:*} want=${spec#*:}
    golden_run "doctor $fx" "$G/$fx.txt" "$want" "$MW_BIN" --root "$FIX/$fx" doctor
done
golden_run "doctor --json doctor-5g6-swap98" "$G/doctor-5g6-swap98.json" 3 \
    "$MW_BIN" --root "$FIX/doctor-5g6-swap98" doctor --json

# Only the checks the tree lacks files for are n/a; a hostile tree does not crash it.
out=$("$MW_BIN" --root "$FIX/old-kernel-3.10" doctor --json)
case $out in *'"id": "psi"'*'"verdict": "advice"'*) ok "doctor old kernel: no PSI is advice" ;;
*) fail "doctor old kernel: no PSI is advice" "$out" ;; esac
for fx in hostile-garbage hostile-truncated hostile-malformed procs-hostile; do
    [ -d "$FIX/$fx" ] || continue
    "$MW_BIN" --root "$FIX/$fx" doctor >/dev/null 2>&1; st=$?
    if [ $st -le 1 ] || [ $st -eq 3 ]; then ok "doctor $fx: exit $st, no crash"; else fail "doctor $fx" "exit $st"; fi
done
"$MW_BIN" doctor --sample nonsense >/dev/null 2>&1
[ $? -eq 2 ] && ok "doctor bad --sample: usage" || fail "doctor bad --sample: usage"
