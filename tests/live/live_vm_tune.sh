#!/bin/sh
# Live test (issue 11): memwarden tune / zram / drop-caches for real, in a
# fresh 512 MiB guest (make vm-script, tests/vm/scripts/tune.sh): apply
# --profile small, values as planned, revert, every readable file of
# /proc/sys/vm and /sys/block/zram*/ byte for byte as before (also with a
# zram device tune created and removed); a write the kernel refuses midway
# rolls back; zram setup/off on device 1. Nothing changes on the host.
# Skips with a reason when the VM bed's packages are missing.
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
[ -z "$why" ] && [ -n "${MW_SANITIZED:-}" ] && why="sanitizer run: the guest runs the static binary"
if [ -n "$why" ]; then
    skip vm_tune "$why; 'make vm-deps' installs the VM test bed"
    exit 0
fi
mkdir -p "$B/vm"
log=$B/vm/tune-script.log
make -s vm-script SCRIPT=tests/vm/scripts/tune.sh BUILD="$B" VM_KVER="$kver" > "$log" 2>&1
st=$?
# the guest's own ok/FAIL lines are this test's results
grep -E '^(ok   vm:|FAIL vm:)' "$log"
grep -A4 '^FAIL vm:' "$log" | grep '^  ' >&2 # the reasons, as fail() gives them
grep -q '^ok   vm: apply + revert: ' "$log" || fail "vm_tune: the guest script did not run (exit $st)" \
    "see $log" "$(tail -5 "$log")"
[ $st -eq 0 ] || grep -q '^FAIL' "$log" || fail "vm_tune: exit $st without a FAIL line" "see $log"
