#!/bin/sh
# Live test: the VM test bed (tests/vm/) in its CI-sized form. Builds the
# initramfs, boots the guest once (zram swap, PSI, results disk), then runs
# scenario 1 (runaway hog) with the memwarden daemon as the guardian. About a
# minute under TCG. Skips with a reason when the bed's packages are missing
# ('make vm-deps' installs them) or memwarden has no daemon command yet.
. tests/lib.sh
B=${MW_BUILD:-build}
kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n1)
why=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || why="qemu-system-x86_64 not installed"
[ -z "$why" ] && { [ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ]; } || why=${why:-"no readable /boot/vmlinuz-* (linux-image-amd64)"}
[ -z "$why" ] && ! [ -f "/lib/modules/$kver/modules.dep" ] && why="no modules for kernel $kver"
[ -z "$why" ] && ! command -v musl-gcc >/dev/null 2>&1 && why="musl-gcc not installed (musl-tools)"
[ -z "$why" ] && ! command -v python3 >/dev/null 2>&1 && why="python3 not installed"
[ -z "$why" ] && ! { file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; } && why="busybox-static not installed"
[ -z "$why" ] && [ -n "${MW_SANITIZED:-}" ] && why="sanitizer run: the guest runs the static binary, covered by make test"
if [ -n "$why" ]; then
    skip vm_smoke "$why; 'make vm-deps' installs the VM test bed"
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
