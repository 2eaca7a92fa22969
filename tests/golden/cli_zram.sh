#!/bin/sh
# `memwarden zram` and `memwarden drop-caches` on captured trees (issue 11):
# the status table, the refusal to reset a device in use (and who uses
# it), the drop-caches estimate; on the live host only what reads.
# MW_UPDATE_GOLDEN=1 rewrites the golden files.
. tests/lib.sh
G=tests/golden/zram
scratch

for fx in vm-512m doctor-5g6-swap98 doctor-480m; do
    golden_run "zram status $fx" "$G/status-$fx.txt" 0 "$MW_BIN" --root "$FIX/$fx" zram status
    golden_run "zram status --json $fx" "$G/status-$fx.json" 0 "$MW_BIN" --root "$FIX/$fx" zram --json
    golden_run "drop-caches $fx" "$G/drop-$fx.txt" 0 "$MW_BIN" --root "$FIX/$fx" drop-caches
done
# writeback to a backing device; a device whose mm_stat is unreadable (JSON null)
golden_run "zram status zram-writeback" "$G/status-zram-writeback.txt" 0 \
    "$MW_BIN" --root "$FIX/zram-writeback" zram status
golden_run "zram status --json zram-writeback" "$G/status-zram-writeback.json" 0 \
    "$MW_BIN" --root "$FIX/zram-writeback" zram status --json
golden_run "drop-caches --level 2 vm-512m" "$G/drop-vm-512m-2.txt" 0 \
    "$MW_BIN" --root "$FIX/vm-512m" drop-caches --level 2
golden_run "drop-caches --json --level 2 vm-512m" "$G/drop-vm-512m-2.json" 0 \
    "$MW_BIN" --root "$FIX/vm-512m" drop-caches --level 2 --json

# zram0 is swap in the capture: setup and off refuse, and say who uses it.
cp -a "$FIX/vm-512m" "$T/t"
for cmd in "setup --device 0" "off"; do
    "$MW_BIN" --root "$T/t" zram $cmd >"$T/out" 2>&1; st=$?
    if [ $st -eq 1 ] && grep -q 'in use (swap /dev/zram0, 51% of 262140 kB used)' "$T/out" &&
        diff -r "$FIX/vm-512m" "$T/t" >/dev/null; then ok "zram $cmd: refused, device in use"
    else fail "zram $cmd: refused, device in use" "exit $st" "$(cat "$T/out")"; fi
done
# A free device in a tree: set up (sysfs files written, no swapon off the live root).
cp -a "$FIX/doctor-480m" "$T/u"
if "$MW_BIN" --root "$T/u" zram setup --size 64M --algo zstd >"$T/out" 2>&1 &&
    [ "$(cat "$T/u/sys/block/zram0/disksize")" = 67108864 ] &&
    [ "$(cat "$T/u/sys/block/zram0/comp_algorithm")" = zstd ]; then ok "zram setup into a tree"
else fail "zram setup into a tree" "$(cat "$T/out")"; fi
"$MW_BIN" zram bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "zram bogus: usage" || fail "zram bogus: usage"
"$MW_BIN" zram off --json >/dev/null 2>&1; [ $? -eq 2 ] && ok "zram off --json: usage" || fail "zram off --json: usage"
"$MW_BIN" drop-caches --level 4 >/dev/null 2>&1
[ $? -eq 2 ] && ok "drop-caches --level 4: usage" || fail "drop-caches --level 4: usage"
"$MW_BIN" --root "$FIX/vm-512m" drop-caches --yes >/dev/null 2>&1
[ $? -eq 1 ] && ok "drop-caches --yes on a tree: refused" || fail "drop-caches --yes on a tree: refused"
# Live, read only: status and the estimate (never --yes on the host).
"$MW_BIN" zram status >/dev/null && ok "zram status live" || fail "zram status live"
"$MW_BIN" drop-caches | grep -q 'Nothing done' && ok "drop-caches live: estimate only" ||
    fail "drop-caches live: estimate only"
