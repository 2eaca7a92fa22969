#!/bin/sh
# Runs as root in a fresh 512 MiB guest (make vm-script SCRIPT=this; see
# tests/live/live_vm_tune.sh): memwarden tune applies and reverts for real,
# and every readable file of /proc/sys/vm and /sys/block/zram*/ is back
# byte for byte; a write the kernel refuses midway rolls back; zram setup
# and off on a second device. Prints ok/FAIL lines, exits with the FAILs.
MW=${MW:-memwarden}
OUT=${OUT:-/tmp}
fails=0
pass() { echo "ok   vm: $1"; }
bad() { echo "FAIL vm: $1"; shift; for l in "$@"; do echo "  $l"; done; fails=$((fails + 1)); }

# snap DIR: every readable /proc/sys/vm and /sys/block/zram*/ file, but the
# counters the running system moves (I/O and memory statistics).
snap() {
    rm -rf "$1"; mkdir -p "$1"
    for f in /proc/sys/vm/* /sys/block/zram*/*; do
        [ -f "$f" ] || continue
        case ${f##*/} in stat | io_stat | mm_stat | bd_stat | debug_stat | uevent | mem_used_max | \
            inflight | stat_refresh | drop_caches | compact_memory) continue ;; esac
        cat "$f" > "$1/$(echo "$f" | tr / _)" 2>/dev/null || rm -f "$1/$(echo "$f" | tr / _)"
    done
}
same() { # NAME DIR1 DIR2
    if d=$(diff -r "$2" "$3" 2>&1); then pass "$1"; else bad "$1" "$d"; fi
}
# planned: every "set /PATH: OLD -> NEW" line of an apply holds now
planned() { # NAME OUTFILE
    n=0 wrong=
    while read -r _ path rest; do
        path=${path%:} new=${rest##* } # "set /PATH: OLD (maybe words) -> NEW"
        [ "$(cat "$path")" = "$new" ] || case $(cat "$path") in *"[$new]"*) ;; *) wrong="$wrong $path" ;; esac
        n=$((n + 1))
    done <<EOT
$(grep '^set /' "$2")
EOT
    if [ $n -gt 0 ] && [ -z "$wrong" ]; then pass "$1 ($n values as planned)"; else bad "$1" "n=$n wrong:$wrong"; fi
}

echo "guest: $(uname -r), $(grep MemTotal /proc/meminfo)"; cat /proc/swaps
$MW doctor --sample 1s > "$OUT/doctor.txt"; echo "doctor exit $?"; sed "s/^/    /" "$OUT/doctor.txt"

# 1. zram0 is the guest's swap: tune keeps it, changes sysctls only.
snap "$OUT/a0"
$MW tune --apply --profile small > "$OUT/apply1.txt" 2>&1 || bad "tune --apply (zram kept)" "$(cat "$OUT/apply1.txt")"
cat "$OUT/apply1.txt"
planned "tune --apply --profile small" "$OUT/apply1.txt"
$MW tune --revert > "$OUT/revert1.txt" 2>&1 || bad "tune --revert" "$(cat "$OUT/revert1.txt")"
snap "$OUT/a1"
same "apply + revert: /proc/sys/vm and zram files byte for byte" "$OUT/a0" "$OUT/a1"

# 2. A device in use is never reset without --force, and says who.
$MW zram setup --device 0 > "$OUT/refuse.txt" 2>&1
if [ $? -eq 1 ] && grep -q 'in use (swap' "$OUT/refuse.txt"; then pass "zram setup on zram0 in use: refused"
else bad "zram setup on zram0 in use: refused" "$(cat "$OUT/refuse.txt")"; fi

# 3. Without a zram swap, tune creates zram1 (hot_add) and revert removes it.
swapoff /dev/zram0
snap "$OUT/b0"
$MW tune --apply --profile small > "$OUT/apply2.txt" 2>&1 || bad "tune --apply (new zram)" "$(cat "$OUT/apply2.txt")"
cat "$OUT/apply2.txt"
planned "tune --apply with zram" "$OUT/apply2.txt"
if grep -q '^/dev/zram1 ' /proc/swaps; then pass "tune made zram1 and swapped on"
else bad "tune made zram1 and swapped on" "$(cat /proc/swaps)"; fi
$MW tune --revert > "$OUT/revert2.txt" 2>&1 || bad "tune --revert (zram)" "$(cat "$OUT/revert2.txt")"
[ -e /sys/block/zram1 ] && bad "revert removed zram1" || pass "revert removed zram1 (hot_remove)"
snap "$OUT/b1"
same "apply + revert with a new zram device: byte for byte" "$OUT/b0" "$OUT/b1"

# 4. Partial failure: a sysctl write refused after the other sysctls were
# written (dirty_ratio, the fifth, made read-only by a bind mount: tune
# --set refuses an out-of-range value before it writes anything, so the
# kernel's EINVAL cannot be had from one); and an unknown compressor after
# them and hot_add.
$MW tune --set vm.overcommit_memory=7 > "$OUT/range.txt" 2>&1
[ $? -eq 2 ] && grep -q 'out of range' "$OUT/range.txt" && pass "tune --set vm.overcommit_memory=7: refused at plan time" ||
    bad "tune --set vm.overcommit_memory=7: refused at plan time" "$(cat "$OUT/range.txt")"
cat /proc/sys/vm/dirty_ratio > "$OUT/ro_dirty"
if mount --bind "$OUT/ro_dirty" /proc/sys/vm/dirty_ratio && mount -o remount,bind,ro /proc/sys/vm/dirty_ratio; then
    $MW tune --apply --profile small > "$OUT/fail1.txt" 2>&1; st=$?
    umount /proc/sys/vm/dirty_ratio
else
    st=0; echo "cannot make dirty_ratio read-only" > "$OUT/fail1.txt"
fi
cat "$OUT/fail1.txt"
snap "$OUT/b2"
if [ $st -eq 1 ] && grep -q 'rolled back' "$OUT/fail1.txt" && [ ! -e /var/lib/memwarden/tune-backup.json ]; then
    pass "a refused sysctl rolls back"; else bad "a refused sysctl rolls back" "exit $st"; fi
same "after the sysctl rollback: byte for byte" "$OUT/b0" "$OUT/b2"
$MW tune --apply --profile small --set zram.algo=bogus > "$OUT/fail2.txt" 2>&1; st=$?
cat "$OUT/fail2.txt"
snap "$OUT/b3"
[ $st -eq 1 ] && grep -q 'rolled back' "$OUT/fail2.txt" && pass "a refused zram algorithm rolls back" ||
    bad "a refused zram algorithm rolls back" "exit $st"
same "after the zram rollback: byte for byte, no zram1" "$OUT/b0" "$OUT/b3"

# 5. zram setup / off on device 1.
$MW zram setup --device 1 --size 64M --algo lz4 --priority 50 > "$OUT/setup.txt" 2>&1
cat "$OUT/setup.txt"
if grep -q '^/dev/zram1 .*50$' /proc/swaps; then pass "zram setup --device 1: swap at priority 50"
else bad "zram setup --device 1" "$(cat "$OUT/setup.txt" /proc/swaps)"; fi
$MW zram status | tee "$OUT/status.txt"
$MW zram off --device 1 > "$OUT/off.txt" 2>&1
[ $? -eq 1 ] && grep -q 'in use' "$OUT/off.txt" && pass "zram off on a swap: refused without --force" ||
    bad "zram off without --force" "$(cat "$OUT/off.txt")"
$MW zram off --device 1 --force > "$OUT/off2.txt" 2>&1 && ! grep -q zram1 /proc/swaps &&
    [ "$(cat /sys/block/zram1/disksize)" = 0 ] && pass "zram off --force: swapoff + reset" ||
    bad "zram off --force" "$(cat "$OUT/off2.txt")"
$MW drop-caches --level 1 --yes > "$OUT/drop.txt" 2>&1 && grep -q '^dropped' "$OUT/drop.txt" &&
    pass "drop-caches --yes: $(grep '^dropped' "$OUT/drop.txt")" || bad "drop-caches --yes" "$(cat "$OUT/drop.txt")"
echo "guest tune tests: $fails failed"
exit $fails
