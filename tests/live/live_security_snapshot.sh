#!/bin/sh
# live_security_snapshot: `memwarden snapshot DIR` as root in a private mount
# namespace on a fresh tmpfs (no real file is ever at risk): a racer that
# turns DIR/proc into a symlink makes nothing appear outside DIR; a DIR
# that others may write, that another user owns, or that is a symlink is
# refused; a DIR it creates is 0700; per-process files are not readable by
# others; --scope with '..' is refused; a symlink in a --root tree does not
# lead out of that tree.
. tests/lib.sh
if [ "${1:-}" != --inner ]; then
    [ "$(id -u)" = 0 ] || { skip live_security_snapshot "needs root (unshare -m)"; exit 0; }
    command -v unshare >/dev/null || { skip live_security_snapshot "no unshare"; exit 0; }
    unshare -m --propagation private sh "$0" --inner; exit $?
fi
W=$(mktemp -d)
mount -t tmpfs -o mode=0755 mw-sec "$W" || { skip live_security_snapshot "cannot mount tmpfs"; rmdir "$W"; exit 0; }
RACER=
trap '[ -n "$RACER" ] && stop_pids "$RACER"; umount "$W"; rmdir "$W"' EXIT
trap 'exit 1' INT TERM
M=$MW_BIN
mkdir "$W/outside"

# 1. The race: DIR/proc turned into a symlink to $W/outside, again and again.
# cond NAME 'SHELL TEST': ok when the test holds.
cond() { if eval "$2"; then ok "$1"; else fail "$1" "$(cat "$W/out" 2>/dev/null)"; fi; }
# Once the snapshot made DIR/proc, move it aside and put the symlink there.
racer() {
    while [ ! -e "$W/stop" ]; do
        if [ -d "$W/d/proc" ] && [ ! -L "$W/d/proc" ]; then
            mv "$W/d/proc" "$W/d/moved.$$" 2>/dev/null && ln -s "$W/outside" "$W/d/proc" 2>/dev/null
        fi
    done
}
mkdir -m 700 "$W/d"
racer & RACER=$!
i=0
while [ $i -lt 30 ]; do
    "$M" snapshot --smaps "$W/d" >/dev/null 2>&1
    rm -rf "$W/d" 2>/dev/null; mkdir -m 700 "$W/d" 2>/dev/null
    i=$((i + 1))
done
touch "$W/stop"; stop_pids "$RACER"; RACER=
n=$(find "$W/outside" -mindepth 1 | wc -l)
check "snapshot: a racer's symlink DIR/proc gets nothing written outside DIR ($n files)" [ "$n" -eq 0 ]
rm -rf "$W/d" "$W/stop"

# 2. DIRs it must refuse, leaving them empty.
mkdir -m 1777 "$W/ww"
"$M" snapshot --no-procs "$W/ww" >"$W/out" 2>&1; st=$?
cond "snapshot refuses a world-writable DIR" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$W/ww")" ] && grep -q "writable" "$W/out"'
mkdir -m 755 "$W/other"; chown 65534 "$W/other"
"$M" snapshot --no-procs "$W/other" >"$W/out" 2>&1; st=$?
cond "snapshot refuses a DIR another user owns" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$W/other")" ] && grep -q "owned" "$W/out"'
mkdir -m 700 "$W/real"; ln -s "$W/real" "$W/link"
"$M" snapshot --no-procs "$W/link" >"$W/out" 2>&1; st=$?
cond "snapshot refuses a DIR that is a symlink" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$W/real")" ]'

# 3. A DIR it creates is 0700; per-process files are not for others.
"$M" snapshot --smaps "$W/new" >"$W/out" 2>&1; st=$?
mode=$(stat -c %a "$W/new" 2>/dev/null)
cond "snapshot creates a missing DIR with mode 0700 ($mode)" '[ "$st" -eq 0 ] && [ "$mode" = 700 ]'
loose=$(find "$W/new/proc" -path "$W/new/proc/[0-9]*" -type f -perm /044 | wc -l)
total=$(find "$W/new/proc" -path "$W/new/proc/[0-9]*/smaps" -type f | wc -l)
cond "snapshot: per-process files (smaps of $total) are not readable by others ($loose are)" '[ "$total" -gt 0 ] && [ "$loose" -eq 0 ]'

# 4. --scope with '..' is refused.
"$M" snapshot --no-procs --scope /sys/fs/cgroup/../../../tmp "$W/sc" >"$W/out" 2>&1; st=$?
cond "snapshot refuses --scope with '..'" '[ "$st" -eq 2 ] && [ ! -e "$W/sc/tmp" ]'

# 5. A --root tree whose files are symlinks out of it.
mkdir -p "$W/src/proc" "$W/src/etc"
printf 'SECRET\n' >"$W/secret"; chmod 600 "$W/secret"
cp /proc/meminfo "$W/src/proc/meminfo"
ln -s "$W/secret" "$W/src/etc/passwd"
ln -s ../../../secret "$W/src/proc/vmstat"
"$M" --root "$W/src" snapshot --no-procs "$W/s2" >"$W/out" 2>&1; st=$?
cond "snapshot --root: symlinks do not lead out of the tree" '[ "$st" -eq 0 ] && [ -f "$W/s2/proc/meminfo" ] && ! grep -rq SECRET "$W/s2"'
