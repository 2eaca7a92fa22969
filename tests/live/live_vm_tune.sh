#!/bin/sh
# Live test (issue 11): memwarden tune / zram / drop-caches for real, in a
# fresh 512 MiB guest (tests/vm/scripts/tune.sh): apply --profile small,
# values as planned, revert, every readable file of /proc/sys/vm and
# /sys/block/zram*/ byte for byte as before (also with a zram device tune
# created and removed); a write the kernel refuses midway rolls back; zram
# setup/off on device 1. Nothing changes on the host. Skips with a reason
# when the VM bed's packages are missing.
. tests/lib.sh
vm_check
if [ -n "$VM_WHY" ]; then
    skip vm_tune "$VM_WHY"
    exit 0
fi
out=$(vm_script vm_tune tests/vm/scripts/tune.sh)
# the guest's own ok/FAIL lines (and the reasons under a FAIL) are the result
printf '%s\n' "$out" | awk '/^(ok   |FAIL )vm:/ { f = /^FAIL/; print; next } f && /^  / { print }'
printf '%s\n' "$out" | grep -q '^ok   vm: apply + revert: ' ||
    fail "vm_tune: the guest script did not run" "$(printf '%s\n' "$out" | tail -5)"
