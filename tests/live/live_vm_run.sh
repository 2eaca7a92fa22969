#!/bin/sh
# Live test: `memwarden run` on cgroup v2, in a fresh guest of the VM test
# bed (make vm-script SCRIPT=tests/vm/scripts/run.sh): the OOM kill of the
# main process (137, memory.events), the peak against memory.peak, --swap 0
# against a real zram swap, memory.high, cleanup on SIGTERM. Skips with a
# reason when the bed's packages are missing ('make vm-deps').
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
    skip vm_run "$why; 'make vm-deps' installs the VM test bed"
    exit 0
fi
mkdir -p "$B/vm"
log=$B/vm/run-script.log
make -s vm-script BUILD="$B" VM_KVER="$kver" SCRIPT=tests/vm/scripts/run.sh VM_DEADLINE=240 > "$log" 2>&1
rc=$?
grep -E '^(ok|FAIL|skip) ' "$log"
# the guest's ok/FAIL lines are the result (make exits 2 when one failed)
grep -qE '^(ok|FAIL|skip) ' "$log" || fail vm_run "no results (make exit $rc); see $log"
exit 0
