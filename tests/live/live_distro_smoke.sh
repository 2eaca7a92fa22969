#!/bin/sh
# Live test: the distro bed (tests/distro, issue 23) in its CI-sized form.
# Builds the saved Debian guest when build/distro has none for this tree
# (mmdebstrap from Debian's mirror, mkfs.ext4 -d, one boot under TCG and
# savevm: about 1-2 minutes here), restores it and runs one draw, a leaking
# service, with memwarden installed as a systemd unit: the unit is active,
# the heartbeat measured, the leak gone within the draw (by whoever). About
# a minute with the guest cached. Runs under /tmp/mw-vm.lock (one bench guest
# at a time on the shared host) and skips when another holds it for 5 min.
# Skips with a reason when qemu, the kernel, musl-gcc or (for a first build)
# root and mmdebstrap are missing.
. tests/lib.sh
B=${MW_BUILD:-build}
vm_check
if [ -n "$VM_WHY" ]; then
    skip distro_smoke "$VM_WHY"
    exit 0
fi
for t in qemu-img python3 flock; do
    command -v $t > /dev/null 2>&1 || { skip distro_smoke "$t not installed"; exit 0; }
done
if [ ! -r "/boot/initrd.img-$VM_KVER" ]; then
    skip distro_smoke "no readable /boot/initrd.img-$VM_KVER"
    exit 0
fi
work=$B/distro
if [ ! -f "$work/guest.stamp" ]; then
    # a first build: mmdebstrap in root mode, chroot
    if [ "$(id -u)" != 0 ]; then
        skip distro_smoke "no cached guest in $work and not root (mmdebstrap, chroot)"
        exit 0
    fi
    command -v mmdebstrap > /dev/null 2>&1 ||
        { skip distro_smoke "no cached guest in $work and mmdebstrap not installed"; exit 0; }
fi
mkdir -p "$work"
if ! make -s static distro-progs BUILD="$B" > "$work/smoke-build.log" 2>&1; then
    fail distro_smoke_build "make static distro-progs failed; see $work/smoke-build.log"
    exit 0
fi
# flock's status 1 with -w means the wait timed out; the smoke's own
# failures come back as FAIL lines on stdout.
flock -w 300 -E 75 /tmp/mw-vm.lock python3 tests/distro/bed.py smoke --work "$work" --kver "$VM_KVER" \
    --progs "$work/progs" --memwarden "$(pwd)/memwarden-static" 2> "$work/smoke.log"
st=$?
[ $st = 75 ] && skip distro_smoke "another bench guest held /tmp/mw-vm.lock for 5 minutes"
[ $st != 0 ] && [ $st != 75 ] && fail distro_smoke "bed.py exited with $st; see $work/smoke.log"
exit 0
