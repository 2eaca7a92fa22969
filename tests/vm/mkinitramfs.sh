#!/bin/sh
# Builds the test bed's initramfs from what Debian installed on this host:
#   busybox-static, the kernel modules for zram/lz4/virtio-blk (with their
#   dependencies from modules.dep, decompressed when packed as .ko.xz/.ko.zst),
#   earlyoom with the shared libraries ldd lists, the static memwarden binary,
#   the static test programs, tests/vm/init as /init.
#
#   tests/vm/mkinitramfs.sh OUTDIR KVER PROGDIR [MEMWARDEN_STATIC]
#
# SYSROOT=DIR takes busybox, the modules and earlyoom (with the libraries its
# ELF header names, found under DIR) from DIR instead of this host: a foreign
# architecture's packages unpacked there (tests/vm/sysroot.sh, ARCH=arm64).
#
# Writes OUTDIR/initramfs.cpio (uncompressed: under TCG, unpacking gzip costs
# more boot time than loading the bigger file) and OUTDIR/root/.
set -eu
out=$1 kver=$2 progdir=$3 mw=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
sysroot=${SYSROOT:-}
moddir=$sysroot/lib/modules/$kver
bb=$sysroot/bin/busybox
root=$out/root

die() { echo "mkinitramfs: $*" >&2; exit 1; }
[ -x "$bb" ] || die "$bb missing (apt-get install busybox-static; see 'make vm-deps')"
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
    ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
    die "$bb is not static (install busybox-static)"
[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep (linux-image-$kver not installed?)"

rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/out" \
    "$root/etc" "$root/lib/modules"
cp "$bb" "$root/bin/busybox"
# the list of applets, from the host's busybox when the guest's cannot run here
list=$("$bb" --list 2>/dev/null || /bin/busybox --list)
for a in $list; do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
# /init uses /bin/sh from busybox; /sbin and /usr/bin point to /bin.
ln -s bin "$root/sbin"
mkdir -p "$root/usr"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
cp "$here/init" "$root/init"
chmod 0755 "$root/init"

# --- kernel modules, dependencies first ---
: > "$root/lib/modules/load.list"
seen=" "
add_module() { # NAME (as in modules.dep, without directory or .ko*)
    local line path deps d n base name
    line=$(grep -E "(^|/)$1\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" | head -n1) || true
    if [ -z "$line" ]; then
        # Built into the kernel (modules.builtin) is fine; otherwise say so.
        grep -qE "(^|/)$1\.ko$" "$moddir/modules.builtin" 2>/dev/null ||
            echo "mkinitramfs: warning: module $1 not found" >&2
        return 0
    fi
    path=${line%%:*}
    deps=${line#*:}
    for d in $deps; do
        n=$(basename "$d"); n=${n%%.ko*}
        add_module "$n"
    done
    base=$(basename "$path"); name=${base%%.ko*}
    case "$seen" in *" $name "*) return 0 ;; esac
    seen="$seen$name "
    case $path in
    *.ko.xz) xz -dc "$moddir/$path" > "$root/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -qdc "$moddir/$path" > "$root/lib/modules/$name.ko" ;;
    *.ko.gz) gzip -dc "$moddir/$path" > "$root/lib/modules/$name.ko" ;;
    *) cp "$moddir/$path" "$root/lib/modules/$name.ko" ;;
    esac
    echo "$name.ko" >> "$root/lib/modules/load.list"
}
# virtio_pci/virtio_blk: the results and stream disks; zram + lz4: the swap.
# (lzo-rle, the fallback compressor, is built into Debian's kernel.)
for m in virtio_pci virtio_blk zram lz4; do add_module "$m"; done

# --- earlyoom and its libraries, at the paths the dynamic loader expects ---
# elf_libs BIN: the libraries BIN loads, as paths inside the guest: ldd's
# answer on this host; under a SYSROOT, the ELF interpreter and the NEEDED
# names found in the sysroot's library directories.
elf_libs() {
    if [ -z "$sysroot" ]; then
        ldd "$1" | awk '/=>/ {print $3} /^\t\/.*ld-linux/ {print $1}'
        return
    fi
    readelf -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p'
    for n in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        for d in "$sysroot"/lib/*-linux-gnu* "$sysroot"/usr/lib/*-linux-gnu* "$sysroot"/lib; do
            d=${d#"$sysroot"}
            [ -e "$sysroot$d/$n" ] && { echo "$d/$n"; break; }
        done
    done
}
eo=$sysroot/usr/bin/earlyoom
[ -n "$sysroot" ] || eo=$(command -v earlyoom || true)
if [ -n "$eo" ] && [ -x "$eo" ]; then
    cp "$eo" "$root/bin/earlyoom"
    for lib in $(elf_libs "$eo"); do
        [ -e "$sysroot$lib" ] || continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$sysroot$lib" "$root$lib"
    done
else
    echo "mkinitramfs: warning: earlyoom not installed; that guardian will fail" >&2
fi

# --- memwarden and the test programs ---
if [ -n "$mw" ] && [ -x "$mw" ]; then
    cp "$mw" "$root/bin/memwarden"
fi
for p in hog heartbeat leaker restarter streamer; do
    [ -x "$progdir/$p" ] || die "missing static test program $progdir/$p"
done
# every program built for the guest (vm.mk's VM_PROGS), not only the bench's
for f in "$progdir"/*; do
    [ -f "$f" ] && [ -x "$f" ] && cp "$f" "$root/bin/${f##*/}"
done
printf '# memwarden low-RAM profile for the VM test bed\nlow_ram = true\n' \
    > "$root/etc/memwarden-lowram.conf"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out/initramfs.cpio"
echo "mkinitramfs: $out/initramfs.cpio ($(du -k "$out/initramfs.cpio" | cut -f1) KiB," \
    "modules: $(tr '\n' ' ' < "$root/lib/modules/load.list"))"
