#!/bin/sh
# Live test: the VM test bed's arm64 guest (ARCH=arm64, issue 28) in its
# CI-sized form, as live_vm_smoke does for x86-64: builds the arm64
# initramfs, boots Debian's arm64 kernel under qemu-system-aarch64 -M virt
# once (zram swap, PSI, results disk), then runs scenario 1 (runaway hog, at
# half the x86 rate) with the memwarden daemon as the guardian. About two
# minutes under TCG, under /tmp/mw-vm.lock. Skips with a reason when the
# bed's arm64 packages are missing ('make vm-deps ARCH=arm64' installs and
# unpacks them) or another guest held the lock for 5 minutes.
. tests/lib.sh
B=${MW_BUILD:-build}
S=$B/vm-arm64/sysroot
why=
command -v qemu-system-aarch64 >/dev/null 2>&1 || why="qemu-system-aarch64 not installed (qemu-system-arm)"
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || why=${why:-"aarch64-linux-gnu-gcc not installed"}
command -v qemu-aarch64-static >/dev/null 2>&1 || why=${why:-"qemu-aarch64-static not installed (qemu-user-static)"}
kver=$(ls "$S"/boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | grep -v -- -rt- | sort -V | tail -n1)
[ -n "$kver" ] && [ -f "$S/lib/modules/$kver/modules.dep" ] || why=${why:-"no arm64 kernel under $S"}
[ -n "${MW_SANITIZED:-}" ] && why=${why:-"sanitizer run: the guest runs the static aarch64 binary, covered by make test"}
if [ -n "$why" ]; then
    skip vm_smoke_arm64 "$why; 'make vm-deps ARCH=arm64' installs the arm64 bed"
    exit 0
fi
vm=$B/vm-arm64
if ! make -s vm-initramfs ARCH=arm64 BUILD="$B" VM_KVER="$kver" >"$vm/smoke-build.log" 2>&1; then
    fail vm_arm64_initramfs "make vm-initramfs ARCH=arm64 failed; see $vm/smoke-build.log"
    exit 0
fi
ok vm_arm64_initramfs
# One bench guest at a time on a shared host (tests/vm/arm64-proof.sh and
# the distro bed take the same lock); flock's status 75 (-E) is its wait
# running out.
flock -w 300 -E 75 /tmp/mw-vm.lock python3 tests/vm/bench.py --smoke --arch arm64 --rate-pct 50 \
    --kernel "$S/boot/vmlinuz-$kver" --initramfs "$vm/initramfs.cpio" --work "$vm" \
    --memwarden "$(pwd)/memwarden-aarch64" >"$vm/smoke.out" 2>"$vm/smoke.log"
st=$?
sed 's/^\(ok  *\|FAIL \|skip \)vm_/\1vm_arm64_/' "$vm/smoke.out"
if [ $st = 75 ]; then
    skip vm_arm64_smoke "another bench guest held /tmp/mw-vm.lock for 5 minutes"
elif [ $st != 0 ] && ! grep -q '^FAIL ' "$vm/smoke.out"; then
    fail vm_arm64_smoke "exit status $st; see $vm/smoke.log"
fi
exit 0
