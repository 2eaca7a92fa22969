#!/bin/sh
# tests/distro/mkimage.sh OUTDIR KVER: the distro bed's root disk (issue 23).
#
# 1. A Debian bookworm root from Debian's packages (mmdebstrap, minbase plus
#    systemd, the three peer guardians and what the bed needs), cached as
#    OUTDIR/rootfs-KEY.tar where KEY hashes the package list: it is built
#    once (about 35 s here) and reused until the list changes.
# 2. That root, unpacked and customised (tests/distro/guest/: the control
#    agent, the zram swap unit, the autologin of uid 1000; the kernel's
#    modules from this host; the peers disabled until their run starts), is
#    written as an ext4 image with mkfs.ext4 -d: OUTDIR/root.ext4.
#
# Root only (mmdebstrap's root mode, chroot for useradd and depmod). The
# guest boots this host's /boot/vmlinuz-KVER and initrd.img-KVER.
set -eu
OUT=$1 KVER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# systemd-oomd, earlyoom, nohang: the peers. kmod (modprobe zram), udev
# (/dev/virtio-ports/NAME), dbus + libpam-systemd (logind sessions), passwd
# (useradd), make (the parallel build), attr (getfattr: the oomd xattrs).
PKGS=systemd,systemd-sysv,systemd-oomd,earlyoom,nohang,procps,util-linux,kmod,udev,dbus,libpam-systemd,passwd,make,attr
SUITE=bookworm
mkdir -p "$OUT"
key=$(printf '%s %s\n' "$SUITE" "$PKGS" | sha256sum | cut -c1-12)
tarball=$OUT/rootfs-$key.tar
if [ ! -s "$tarball" ]; then
    t0=$(date +%s)
    mmdebstrap --quiet --format=tar --variant=minbase --include="$PKGS" "$SUITE" "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    echo "mkimage: $tarball from Debian's packages in $(($(date +%s) - t0)) s"
fi

root=$(mktemp -d "$OUT/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
trap 'exit 1' INT TERM
tar -C "$root" -xf "$tarball"

# The kernel's modules the guest loads after the initrd (zram, lz4,
# virtio_console for the control port, ...): the storage, crypto, library and
# virtio parts of this host's tree, then depmod in the guest root.
mods=/lib/modules/$KVER
mkdir -p "$root$mods/kernel/drivers"
for d in arch block crypto fs lib mm; do
    [ -d "$mods/kernel/$d" ] && cp -a "$mods/kernel/$d" "$root$mods/kernel/"
done
rm -rf "$root$mods/kernel/arch/x86/kvm" # no nested virtualisation under TCG
for d in block char virtio input hid; do
    [ -d "$mods/kernel/drivers/$d" ] && cp -a "$mods/kernel/drivers/$d" "$root$mods/kernel/drivers/"
done
cp -a "$mods"/modules.order "$mods"/modules.builtin* "$root$mods/" 2>/dev/null || true
chroot "$root" depmod "$KVER"

# uid 1000, the desktop user; logged in on tty1 by getty's autologin
# (docs/distro-bed.md says why autologin and not lingering).
chroot "$root" useradd -m -u 1000 -s /bin/bash mwuser
echo mwguest > "$root/etc/hostname"
printf '127.0.1.1 mwguest\n' >> "$root/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"

G=$HERE/guest
install -D -m 0755 "$G/mw-agent" "$root/usr/local/sbin/mw-agent"
install -D -m 0755 "$G/mw-zram-setup" "$root/usr/local/sbin/mw-zram-setup"
install -D -m 0644 "$G/mw-agent.service" "$root/etc/systemd/system/mw-agent.service"
install -D -m 0644 "$G/mw-zram.service" "$root/etc/systemd/system/mw-zram.service"
install -D -m 0644 "$G/autologin.conf" "$root/etc/systemd/system/getty@tty1.service.d/autologin.conf"

# The peers stay installed with their packaged configuration but start only
# in their own runs. systemd-oomd is masked, not just disabled: Debian's
# systemd-oomd package puts ManagedOOMMemoryPressure=kill on user@.service,
# and systemd gives every unit with a ManagedOOM setting Wants= on
# systemd-oomd.service, so the first login would start it (seen in the
# guest: WantedBy=user@1000.service); its run unmasks it. Timers that would
# fire in the middle of a draw (apt, dpkg backup, e2scrub, fstrim) are
# masked: every run restores the same booted state, so a timer due then
# would run in every draw. No getty on the serial console (kernel log only).
systemctl --root="$root" disable earlyoom.service nohang.service nohang-desktop.service \
    systemd-oomd.service systemd-oomd.socket >/dev/null 2>&1
systemctl --root="$root" mask systemd-oomd.service systemd-oomd.socket \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    fstrim.timer serial-getty@ttyS0.service >/dev/null 2>&1
systemctl --root="$root" enable mw-agent.service mw-zram.service >/dev/null 2>&1

rm -f "$OUT/root.ext4"
mkfs.ext4 -q -F -L mwroot -d "$root" "$OUT/root.ext4" 1536M
echo "mkimage: $OUT/root.ext4 ($(du -sh "$root" | cut -f1) of files)"
