#!/bin/sh
# Live test: the VM test bed (tests/vm/) in its CI-sized form. Builds the
# initramfs, boots the guest once (zram swap, PSI, results disk), then runs
# scenario 1 (runaway hog) with the memwarden daemon as the guardian. About a
# minute under TCG. Skips with a reason when the bed's packages are missing
# ('make vm-deps' installs them) or memwarden has no daemon command yet.
. tests/lib.sh
B=${MW_BUILD:-build}
vm_check
kver=$VM_KVER
if [ -n "$VM_WHY" ]; then
    skip vm_smoke "$VM_WHY"
    exit 0
fi
vm=$B/vm
mkdir -p "$vm"
if ! make -s vm-initramfs BUILD="$B" VM_KVER="$kver" > "$vm/smoke-build.log" 2>&1; then
    fail vm_initramfs "make vm-initramfs failed; see $vm/smoke-build.log"
    exit 0
fi
ok vm_initramfs
python3 tests/vm/bench.py --smoke --kernel "/boot/vmlinuz-$kver" --initramfs "$vm/initramfs.cpio" \
    --work "$vm" --memwarden "$(pwd)/memwarden-static" 2> "$vm/smoke.log"
