#!/bin/sh
# The VM test bed's guest for a foreign architecture, from Debian's packages
# for it, unpacked (never installed) under a directory of the build:
#
#   tests/vm/sysroot.sh ARCH DIR      (ARCH: a Debian architecture, arm64)
#
# Adds ARCH to dpkg's architectures when missing (then apt-get update),
# downloads the kernels that linux-image-ARCH and linux-image-rt-ARCH point
# to, busybox-static, earlyoom and libc6 (earlyoom's one library) with
# apt-get download into DIR/debs, unpacks them with dpkg-deb -x into
# DIR/sysroot and runs depmod -b there (the packages ship no modules.dep:
# their postinst makes it). Nothing lands in this host's /boot or /lib.
set -eu
arch=$1 dir=$2
die() { echo "sysroot: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null && command -v apt-get >/dev/null || die "needs dpkg-deb and apt-get (Debian)"
command -v depmod >/dev/null || die "needs depmod (kmod)"
if ! dpkg --print-foreign-architectures | grep -qx "$arch" && [ "$(dpkg --print-architecture)" != "$arch" ]; then
    [ "$(id -u)" = 0 ] || die "dpkg has no $arch architecture: as root, dpkg --add-architecture $arch && apt-get update"
    dpkg --add-architecture "$arch"
    apt-get update -qq
fi
# the image package a metapackage depends on (linux-image-6.1.0-57-arm64)
image_of() { apt-cache depends "$1:$arch" | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1; }
pkgs="busybox-static earlyoom libc6"
for meta in "linux-image-$arch" "linux-image-rt-$arch"; do
    img=$(image_of "$meta")
    [ -n "$img" ] && pkgs="$pkgs $img" || echo "sysroot: warning: no $meta for $arch" >&2
done
mkdir -p "$dir/debs"
rm -rf "$dir/sysroot"
mkdir -p "$dir/sysroot"
(cd "$dir/debs" && rm -f ./*.deb && apt-get download $(for p in $pkgs; do echo "$p:$arch"; done) 2>&1 |
    grep -v '^W: Download is performed unsandboxed' || true)
for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/sysroot"; done
for m in "$dir"/sysroot/lib/modules/*; do
    [ -d "$m/kernel" ] && depmod -b "$dir/sysroot" "${m##*/}"
done
echo "sysroot: $dir/sysroot for $arch: $(cd "$dir/sysroot/boot" && ls vmlinuz-* | tr '\n' ' ')"
