#!/bin/sh
# Live test: `memwarden run` on cgroup v2, in a fresh guest of the VM test
# bed (tests/vm/scripts/run.sh): the OOM kill of the main process (137,
# memory.events), the peak against memory.peak, --swap 0 against a real
# zram swap, memory.high, cleanup on SIGTERM. Skips with a reason when the
# bed's packages are missing ('make vm-deps').
. tests/lib.sh
vm_check
if [ -n "$VM_WHY" ]; then
    skip vm_run "$VM_WHY"
    exit 0
fi
# the guest's ok/FAIL lines are the result
out=$(vm_script vm_run tests/vm/scripts/run.sh 240)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -qE '^(ok|FAIL|skip) ' || fail vm_run "no results from the guest"
