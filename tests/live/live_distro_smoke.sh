#!/bin/sh
# Live test: the distro bed (tests/distro, issue 23) in its CI-sized form.
#   1. The saved Debian guest: built when $B/distro has none for this tree
#      (mmdebstrap from Debian's mirror, mkfs.ext4 -d, one boot under TCG,
#      savevm: 1-2 minutes here), else restored as it is.
#   2. memwarden's package: `make deb` (nocheck) into $B/distro/deb, reused
#      while it is newer than the sources (about a minute to build).
#   3. One draw, a leaking service beside the desktop session, with memwarden
#      installed by dpkg -i: the unit is active, the heartbeat measured, the
#      leak gone within the draw (by whoever).
#   4. tests/distro/guest/pkg_lifecycle.sh in a fresh restore of the guest:
#      install, upgrade, remove, purge under a real systemd (its own lines).
# About 3 minutes with the guest cached. Runs under /tmp/mw-vm.lock (one
# bench guest at a time on the shared host); skips when another holds it
# for 5 minutes. Skips with a reason when qemu, the kernel, musl-gcc or (for
# a first build) root and mmdebstrap are missing; without debhelper the
# draw runs the static binary with contrib/'s unit and step 4 is skipped.
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
if [ ! -f "$work/guest.stamp" ]; then # a first build: mmdebstrap's root mode, chroot
    if [ "$(id -u)" != 0 ]; then
        skip distro_smoke "no saved guest in $work and not root (mmdebstrap, chroot)"
        exit 0
    fi
    command -v mmdebstrap > /dev/null 2>&1 ||
        { skip distro_smoke "no saved guest in $work and mmdebstrap not installed"; exit 0; }
fi
mkdir -p "$work"
if ! make -s static distro-progs BUILD="$B" > "$work/smoke-build.log" 2>&1; then
    fail distro_smoke_build "make static distro-progs failed; see $work/smoke-build.log"
    exit 0
fi
deb=
if command -v dpkg-buildpackage > /dev/null 2>&1 && command -v dh > /dev/null 2>&1; then
    deb=$(ls "$work"/deb/memwarden_"$(cat VERSION)"_*.deb 2> /dev/null | head -n1)
    if [ -z "$deb" ] || [ -n "$(find src debian contrib VERSION Makefile -newer "$deb" -type f | head -n1)" ]; then
        if ! DEB_BUILD_OPTIONS=nocheck make --no-print-directory deb BUILD="$work" \
            > "$work/smoke-deb.log" 2>&1; then
            fail distro_smoke_deb "make deb failed; see $work/smoke-deb.log"
            exit 0
        fi
        deb=$(ls "$work"/deb/memwarden_"$(cat VERSION)"_*.deb 2> /dev/null | head -n1)
    fi
fi
bed="python3 tests/distro/bed.py --work $work --kver $VM_KVER --progs $work/progs"
bed="$bed --memwarden $(pwd)/memwarden-static ${deb:+--deb $deb}"
if [ -n "$deb" ]; then
    life="$bed script tests/distro/guest/pkg_lifecycle.sh"
else
    life="echo 'skip distro_pkg_lifecycle: no memwarden .deb (dpkg-buildpackage, debhelper)'"
fi
# flock's status 75 (-E) is its wait running out; the bed prints its own
# ok/FAIL lines, a crash shows as a status without them.
flock -w 300 -E 75 /tmp/mw-vm.lock sh -c "$bed smoke && $life" > "$work/smoke.out" 2> "$work/smoke.log"
st=$?
cat "$work/smoke.out"
if [ $st = 75 ]; then
    skip distro_smoke "another bench guest held /tmp/mw-vm.lock for 5 minutes"
elif [ $st != 0 ] && ! grep -q '^FAIL ' "$work/smoke.out"; then
    fail distro_smoke "exit status $st; see $work/smoke.log"
fi
exit 0
