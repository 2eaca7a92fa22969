#!/bin/sh
# Live: `slab` on this machine, and its fallback when /proc/slabinfo is
# unreadable: as an unprivileged user (setpriv) it reads /sys/kernel/slab,
# or, where those files are root-only too (kernel 6.x here), says so.
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
if [ -r /proc/slabinfo ]; then
    "$MW_BIN" slab --json >"$tmp/j" 2>&1; rc=$?
    if [ $rc = 0 ] && grep -q '"source": "/proc/slabinfo"' "$tmp/j" && grep -q '"name": "dentry"' "$tmp/j"; then
        ok slab_live_slabinfo
    else
        fail slab_live_slabinfo "rc=$rc" "$(head -5 "$tmp/j")"
    fi
else
    skip slab_live_slabinfo "/proc/slabinfo not readable"
fi
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    skip slab_unprivileged_fallback "needs root and setpriv to drop privileges"; exit 0
fi
cp "$MW_BIN" "$tmp/mw" && chmod 755 "$tmp" "$tmp/mw"
setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/mw" slab --json >"$tmp/o" 2>&1; rc=$?
if setpriv --reuid=65534 --regid=65534 --clear-groups cat /sys/kernel/slab/dentry/objects >/dev/null 2>&1; then
    check slab_unprivileged_fallback sh -c "test $rc = 0 && grep -q '\"source\": \"/sys/kernel/slab\"' '$tmp/o'"
else
    check slab_unprivileged_fallback sh -c "test $rc = 1 && grep -q 'root-only' '$tmp/o'"
fi
