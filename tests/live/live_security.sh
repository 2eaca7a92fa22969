#!/bin/sh
# Live security (issue 17): replays the attacks a local user could mount on
# memwarden running as root -- symlinks, races, FIFOs, a spoofed process
# name, oversized files -- inside private mount, IPC and PID namespaces
# (unshare -m -i -p, a /proc of its own) on fresh tmpfs mounts, so no real
# file and no real SysV segment is ever at risk; the namespaces and their
# mounts go when the test ends. The spoofed-name leg makes one memory
# cgroup (v1) for its two processes and removes it on exit.
#   shm --remove-orphans --yes:
#   - cut path: a directory whose name is 112 characters beside a symlink
#     named after its first 111 characters, pointing outside;
#   - a symlinked subdirectory pointing outside;
#   - the race: a directory and a symlink to the outside exchanged
#     atomically in a loop (tests/progs/swapdir) while removal runs,
#     MW_SHM_RACE_N times (default 200), at most MW_SHM_RACE_S seconds
#     (default 60); files removed outside must be 0;
#   - non-root: a file held open by a root process is left in place.
#   snapshot DIR:
#   - a racer that turns DIR/proc into a symlink gets nothing written
#     outside DIR; a DIR others may write, another user owns, or that is a
#     symlink is refused; a DIR it creates is 0700; per-process files are
#     not readable by others; --scope with '..' is refused; a symlink in a
#     --root tree does not lead out of that tree.
#   FIFOs: as the config, the log, the record and a --root tree's file --
#     a clear error within seconds, never a hang.
#   A spoofed name: nobody's process calling itself "/usr/sbin/sshd -D"
#     wins a name match (documented) but not a trusted one (exe: + uid:).
#   Oversized files: a 64 MiB meminfo in a --root tree, /dev/zero as a
#     record -- refused, in bounded memory.
. tests/lib.sh
N=live_security
BUILD=${MW_BUILD:-build}
if [ -z "${MW_SEC_IN_NS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { skip $N "needs root (unshare -m, mount)"; exit 0; }
    command -v unshare >/dev/null || { skip $N "no unshare"; exit 0; }
    [ -x "$BUILD/progs/swapdir" ] || { skip $N "$BUILD/progs/swapdir not built"; exit 0; }
    unshare -m -i -p -f --mount-proc true 2>/dev/null ||
        { skip $N "unshare -m -i -p not permitted here"; exit 0; }
    MW_SEC_IN_NS=1 exec unshare -m -i -p -f --mount-proc --propagation private sh "$0" "$@"
fi

scratch
CG=
trap 'stop_pids $PIDS; [ -n "$CG" ] && cg_remove "$CG"; umount "$T/out" "$T/w" 2>/dev/null; rm -rf "$T"' EXIT
mount -t tmpfs -o mode=1777,size=64m mw-shm /dev/shm 2>/dev/null ||
    { skip $N "cannot mount a tmpfs on /dev/shm in the namespace"; exit 0; }
mkdir "$T/out" "$T/w" && mount -t tmpfs -o size=16m mw-out "$T/out" &&
    mount -t tmpfs -o mode=0755,size=160m mw-sec "$T/w" ||
    { skip $N "cannot mount a scratch tmpfs"; exit 0; }
S=/dev/shm
OUT=$T/out
SW=$T/w

# ---- shm --remove-orphans ------------------------------------------------
# 1. The cut path: /dev/shm/A*111 + B holds "victim"; /dev/shm/A*111 is a
# symlink to OUT, which holds a victim of its own.
a111=$(printf '%0111d' 0 | tr 0 A)
mkdir "$S/${a111}B"
echo x >"$S/${a111}B/victim"
echo keep >"$OUT/victim"
ln -s "$OUT" "$S/$a111"
"$MW_BIN" shm --remove-orphans --yes >"$T/cut.out" 2>&1
if [ ! -e "$OUT/victim" ]; then
    fail shm_cut_path_stays_inside "removed $OUT/victim:" "$(cat "$T/cut.out")"
elif [ -e "$S/${a111}B/victim" ]; then
    fail shm_cut_path_stays_inside "the orphan inside was not removed:" "$(cat "$T/cut.out")"
else
    ok shm_cut_path_stays_inside
fi
rm -rf "${S:?}"/* "${OUT:?}"/*

# 2. A symlinked subdirectory is not walked.
mkdir "$OUT/d" && echo keep >"$OUT/d/f"
ln -s "$OUT/d" "$S/linked"
echo x >"$S/plain"
"$MW_BIN" shm --remove-orphans --yes >"$T/link.out" 2>&1
if [ -e "$OUT/d/f" ] && [ ! -e "$S/plain" ] && [ -L "$S/linked" ]; then
    ok shm_symlinked_subdir_not_walked
else
    fail shm_symlinked_subdir_not_walked "$(cat "$T/link.out")"
fi
rm -rf "${S:?}"/* "${OUT:?}"/*

# 3. The race: "race" (a directory holding f) and "lnk" (a symlink to OUT,
# which holds f too) trade names all the time; swapdir puts f back in the
# real directory when a removal took it.
runs=${MW_SHM_RACE_N:-200}
limit_s=${MW_SHM_RACE_S:-60}
mkdir "$S/race" && echo x >"$S/race/f" && echo keep >"$OUT/f"
ln -s "$OUT" "$S/lnk"
"$BUILD/progs/swapdir" "$S" race lnk $((limit_s + 30)) f 2>"$T/swap.err" &
PIDS="$PIDS $!"
i=0 lost=0 inside=0
start=$(date +%s)
while [ $i -lt "$runs" ] && [ $(($(date +%s) - start)) -lt "$limit_s" ]; do
    "$MW_BIN" shm --remove-orphans --yes >"$T/race.out" 2>&1
    grep -q '^removed ' "$T/race.out" && inside=$((inside + 1))
    if [ ! -e "$OUT/f" ]; then
        lost=$((lost + 1))
        echo keep >"$OUT/f"
    fi
    i=$((i + 1))
done
stop_pids $PIDS
PIDS=
echo "race: $i runs in $(($(date +%s) - start)) s, $inside removed inside, $lost removed outside ($(cat "$T/swap.err"))" >&2
if [ "$lost" -eq 0 ] && [ "$i" -gt 0 ]; then
    ok "shm_race_stays_inside ($i runs, $inside removals inside, 0 outside)"
else
    fail shm_race_stays_inside "$lost of $i runs removed $OUT/f"
fi
rm -rf "${S:?}"/* "${OUT:?}"/*

# 4. Without root: a root process holds a file owned by nobody; nobody's
# memwarden cannot read root's fds and maps, so it must not call the file
# an orphan and must say why it leaves it.
if command -v setpriv >/dev/null; then
    echo x >"$S/held" && chown 65534:65534 "$S/held"
    sleep 60 <"$S/held" &
    PIDS="$PIDS $!"
    wait_for 10 holds $! "$S/held" || fail shm_nonroot_keeps_unseen_holder "the holder did not open $S/held in 10 s"
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$MW_BIN" shm --remove-orphans --yes >"$T/nr.out" 2>&1
    rc=$?
    if [ -e "$S/held" ] && grep -q 'held' "$T/nr.out" && grep -q 'root' "$T/nr.out"; then
        ok "shm_nonroot_keeps_unseen_holder (exit $rc)"
    else
        fail shm_nonroot_keeps_unseen_holder "rc=$rc" "$(cat "$T/nr.out")"
    fi
    stop_pids $PIDS
    PIDS=
else
    skip shm_nonroot_keeps_unseen_holder "no setpriv"
fi

# ---- snapshot DIR ----------------------------------------------------------
RACER=
mkdir "$SW/outside"

# 1. The race: DIR/proc turned into a symlink to $SW/outside, again and again.
# cond NAME 'SHELL TEST': ok when the test holds.
cond() { if eval "$2"; then ok "$1"; else fail "$1" "$(cat "$SW/out" 2>/dev/null)"; fi; }
# Once the snapshot made DIR/proc, move it aside and put the symlink there.
racer() {
    while [ ! -e "$SW/stop" ]; do
        if [ -d "$SW/d/proc" ] && [ ! -L "$SW/d/proc" ]; then
            mv "$SW/d/proc" "$SW/d/moved.$$" 2>/dev/null && ln -s "$SW/outside" "$SW/d/proc" 2>/dev/null
        fi
    done
}
mkdir -m 700 "$SW/d"
racer & RACER=$!
PIDS="$PIDS $RACER"
i=0
while [ $i -lt 30 ]; do
    "$MW_BIN" snapshot --smaps "$SW/d" >/dev/null 2>&1
    rm -rf "$SW/d" 2>/dev/null; mkdir -m 700 "$SW/d" 2>/dev/null
    i=$((i + 1))
done
touch "$SW/stop"; stop_pids "$RACER"; RACER= PIDS=
n=$(find "$SW/outside" -mindepth 1 | wc -l)
check "snapshot: a racer's symlink DIR/proc gets nothing written outside DIR ($n files)" [ "$n" -eq 0 ]
rm -rf "$SW/d" "$SW/stop"

# 2. DIRs it must refuse, leaving them empty.
mkdir -m 1777 "$SW/ww"
"$MW_BIN" snapshot --no-procs "$SW/ww" >"$SW/out" 2>&1; st=$?
cond "snapshot refuses a world-writable DIR" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$SW/ww")" ] && grep -q "writable" "$SW/out"'
mkdir -m 755 "$SW/other"; chown 65534 "$SW/other"
"$MW_BIN" snapshot --no-procs "$SW/other" >"$SW/out" 2>&1; st=$?
cond "snapshot refuses a DIR another user owns" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$SW/other")" ] && grep -q "owned" "$SW/out"'
mkdir -m 700 "$SW/real"; ln -s "$SW/real" "$SW/link"
"$MW_BIN" snapshot --no-procs "$SW/link" >"$SW/out" 2>&1; st=$?
cond "snapshot refuses a DIR that is a symlink" '[ "$st" -eq 1 ] && [ -z "$(ls -A "$SW/real")" ]'

# 3. A DIR it creates is 0700; per-process files are not for others.
"$MW_BIN" snapshot --smaps "$SW/new" >"$SW/out" 2>&1; st=$?
mode=$(stat -c %a "$SW/new" 2>/dev/null)
cond "snapshot creates a missing DIR with mode 0700 ($mode)" '[ "$st" -eq 0 ] && [ "$mode" = 700 ]'
loose=$(find "$SW/new/proc" -path "$SW/new/proc/[0-9]*" -type f -perm /044 | wc -l)
total=$(find "$SW/new/proc" -path "$SW/new/proc/[0-9]*/smaps" -type f | wc -l)
cond "snapshot: per-process files (smaps of $total) are not readable by others ($loose are)" '[ "$total" -gt 0 ] && [ "$loose" -eq 0 ]'

# 4. --scope with '..' is refused.
"$MW_BIN" snapshot --no-procs --scope /sys/fs/cgroup/../../../tmp "$SW/sc" >"$SW/out" 2>&1; st=$?
cond "snapshot refuses --scope with '..'" '[ "$st" -eq 2 ] && [ ! -e "$SW/sc/tmp" ]'

# 5. A --root tree whose files are symlinks out of it.
mkdir -p "$SW/src/proc" "$SW/src/etc"
printf 'SECRET\n' >"$SW/secret"; chmod 600 "$SW/secret"
cp /proc/meminfo "$SW/src/proc/meminfo"
ln -s "$SW/secret" "$SW/src/etc/passwd"
ln -s ../../../secret "$SW/src/proc/vmstat"
"$MW_BIN" --root "$SW/src" snapshot --no-procs "$SW/s2" >"$SW/out" 2>&1; st=$?
cond "snapshot --root: symlinks do not lead out of the tree" '[ "$st" -eq 0 ] && [ -f "$SW/s2/proc/meminfo" ] && ! grep -rq SECRET "$SW/s2"'

# ---- FIFOs: an error within seconds, never a hang ---------------------------
mkfifo "$SW/fifo"
mkdir -p "$SW/fifotree/proc"
cp /proc/meminfo /proc/vmstat "$SW/fifotree/proc/" 2>/dev/null
rm -f "$SW/fifotree/proc/meminfo" && mkfifo "$SW/fifotree/proc/meminfo"
fifo_case() { # NAME EXPECTED-TEXT COMMAND...
    _n=$1 _want=$2; shift 2
    timeout 10 "$@" >"$SW/out" 2>&1; _st=$?
    if [ $_st -ne 124 ] && [ $_st -ne 0 ] && grep -q "$_want" "$SW/out"; then ok "$_n (exit $_st)"
    else fail "$_n" "exit $_st" "$(head -3 "$SW/out")"; fi
}
fifo_case fifo_config_refused 'not a regular file' "$MW_BIN" daemon --check-config "$SW/fifo"
fifo_case fifo_log_refused 'not a regular file' "$MW_BIN" analyze "$SW/fifo"
fifo_case fifo_record_refused 'not a regular file' "$MW_BIN" leak --from "$SW/fifo"
fifo_case fifo_in_root_tree_refused 'meminfo' "$MW_BIN" --root "$SW/fifotree" status

# ---- a spoofed name -----------------------------------------------------------
# Two processes in a memory cgroup of this test: nobody's 32 MiB, exec'd
# as "/usr/sbin/sshd -D" (the heavier: it dies unless protected), and
# root's 8 MiB. --choose-once only names the victim (no signal is sent),
# confined by --scope to that cgroup.
CGROOT=/sys/fs/cgroup/memory
if [ -f $CGROOT/memory.limit_in_bytes ] && command -v setpriv >/dev/null &&
    command -v bash >/dev/null; then
    CG=$CGROOT/memwarden-sec-$$
    cg_v1_make $N "$CG" 256M 512M
    mkdir -m 777 "$SW/spoof"
    # root joins the cgroup, then becomes nobody calling itself sshd
    sh -c 'echo $$ >"$1/cgroup.procs" && exec setpriv --reuid=65534 --regid=65534 --clear-groups \
        bash -c "exec -a \"/usr/sbin/sshd -D\" \"\$0\" 32 \"\$1\"" "$2" "$3"' \
        sh "$CG" "$BUILD/progs/lt_touch" "$SW/spoof/st" 2>/dev/null &
    spoof=$!
    "$BUILD/progs/lt_touch" 8 "$SW/root.st" "$CG" 0 2>/dev/null &
    rootp=$!
    PIDS="$PIDS $spoof $rootp"
    wait_for 20 test -s "$SW/spoof/st" && wait_for 20 test -s "$SW/root.st"
    choose() { printf '%s\n' "$1" >"$SW/c.conf"
        "$MW_BIN" daemon --choose-once --scope "$CG" --config "$SW/c.conf" >"$SW/out" 2>&1; }
    choose 'protect = *sshd*'
    if grep -q "^victim pid=$rootp " "$SW/out"; then ok spoof_name_match_is_forged
    else fail spoof_name_match_is_forged "want root's $rootp:" "$(cat "$SW/out")"; fi
    choose 'protect = exe:/usr/sbin/sshd uid:0'
    if grep -q "^victim pid=$spoof uid=65534 " "$SW/out"; then ok spoof_trusted_match_holds
    else fail spoof_trusted_match_holds "want nobody's $spoof:" "$(cat "$SW/out")"; fi
    stop_pids $spoof $rootp
    PIDS=
else
    skip spoof_name "no cgroup v1 memory controller or no setpriv"
fi

# ---- oversized files: refused in bounded memory -------------------------------
mkdir -p "$SW/big/proc"
cp /proc/vmstat "$SW/big/proc/" 2>/dev/null
{ cat /proc/meminfo; head -c 67108864 /dev/zero | tr '\0' 'x'; } >"$SW/big/proc/meminfo"
# (under ASan, MW_SANITIZED, no address-space limit: ASan reserves
# terabytes of it at start; the refusal is checked there, the bound by the
# plain build's run)
big_vlimit=262144
[ -n "${MW_SANITIZED:-}" ] && big_vlimit=unlimited
big_case() { # NAME COMMAND...: exit non-zero and not killed, under 256 MiB of address space
    _n=$1; shift
    (ulimit -v $big_vlimit 2>/dev/null; exec timeout 20 "$@") >"$SW/out" 2>&1; _st=$?
    if [ $_st -ne 0 ] && [ $_st -ne 124 ] && [ $_st -lt 128 ] && [ -s "$SW/out" ]; then ok "$_n (exit $_st)"
    else fail "$_n" "exit $_st" "$(head -3 "$SW/out")"; fi
}
big_case oversized_meminfo_refused "$MW_BIN" --root "$SW/big" status
big_case dev_zero_record_refused "$MW_BIN" leak --from /dev/zero
rm -rf "$SW/big"

# ---- tune --revert trusts no backup it did not write (issue 24) ----------------
# Every leg runs on a copy of a captured tree (--root), never on the host's
# sysctls. bk FILE TEXT [OWNER] [MODE]: writes a backup.
bk() { printf '%s\n' "$2" >"$1"; chown "${3:-0}" "$1"; chmod "${4:-600}" "$1"; }
revert() { # ROOT BACKUP: tune --revert, output in $SW/out, status in $st
    "$MW_BIN" --root "$1" tune --revert --backup "$2" >"$SW/out" 2>&1; st=$?
}
cp -a "$FIX/doctor-480m" "$SW/tt"
mkdir -m 755 "$SW/bkd" && mkdir -m 1777 "$SW/pub"
swap1='{"version":1,"items":[{"path":"proc/sys/vm/swappiness","old":"1\n"}]}'
# 1. a backup another user owns (in root's directory), and root's own
# backup in a directory others may write: refused, nothing written.
bk "$SW/bkd/other.json" "$swap1" 65534 644
revert "$SW/tt" "$SW/bkd/other.json"
cond "tune --revert refuses a backup another user owns" \
    '[ "$st" -eq 1 ] && grep -q "owned by uid 65534" "$SW/out" && [ "$(cat "$SW/tt/proc/sys/vm/swappiness")" = 60 ]'
bk "$SW/pub/root.json" "$swap1"
revert "$SW/tt" "$SW/pub/root.json"
cond "tune --revert refuses a backup in a world-writable directory" \
    '[ "$st" -eq 1 ] && grep -q "writable by others" "$SW/out" && [ "$(cat "$SW/tt/proc/sys/vm/swappiness")" = 60 ]'
# ... and --apply does not tell root to revert it
"$MW_BIN" --root "$SW/tt" tune --apply --backup "$SW/bkd/other.json" >"$SW/out" 2>&1; st=$?
cond "tune --apply over an untrusted backup: not called a backup, nothing applied" \
    '[ "$st" -eq 1 ] && ! grep -q "run .memwarden tune --revert" "$SW/out" && grep -q "not a backup tune trusts" "$SW/out" && diff -r "$FIX/doctor-480m" "$SW/tt" >/dev/null'
# 2. root's backup naming files tune never writes: a cron job created, a
# victim deleted ("absent"), /etc/shadow-like content: refused whole.
mkdir -p "$SW/tt/etc/cron.d" && echo keep >"$SW/tt/etc/victim"
bk "$SW/bkd/evil.json" '{"version":1,"items":[{"path":"proc/sys/vm/swappiness","old":"1\n"},{"path":"etc/victim","absent":true},{"path":"etc/cron.d/job","old":"* * * * * root sh -c id\n"}]}'
revert "$SW/tt" "$SW/bkd/evil.json"
cond "tune --revert refuses paths tune never writes (cron job, absent victim)" \
    '[ "$st" -eq 1 ] && grep -q "not a file tune writes" "$SW/out" && [ -f "$SW/tt/etc/victim" ] && [ ! -e "$SW/tt/etc/cron.d/job" ] && [ "$(cat "$SW/tt/proc/sys/vm/swappiness")" = 60 ]'
# 3. --root with a link in a middle component: DIR/proc -> a copy outside,
# DIR/etc -> an empty directory outside. Apply and revert write nothing there.
cp -a "$FIX/doctor-480m" "$SW/tl" && mv "$SW/tl/proc" "$SW/outproc" && ln -s "$SW/outproc" "$SW/tl/proc"
cp -a "$SW/outproc" "$SW/outproc.before"
mkdir -m 700 "$SW/bkl"
"$MW_BIN" --root "$SW/tl" tune --apply --backup "$SW/bkl/bk.json" >"$SW/out" 2>&1; st=$?
cond "tune --apply --root: a link in a middle component (DIR/proc) is not followed" \
    '[ "$st" -eq 1 ] && grep -q "rolled back" "$SW/out" && diff -r "$SW/outproc.before" "$SW/outproc" >/dev/null'
bk "$SW/bkl/bk.json" "$swap1"
revert "$SW/tl" "$SW/bkl/bk.json"
cond "tune --revert --root: a link in a middle component (DIR/proc) is not followed" \
    '[ "$st" -eq 1 ] && diff -r "$SW/outproc.before" "$SW/outproc" >/dev/null'
cp -a "$FIX/doctor-480m" "$SW/te" && mkdir "$SW/oute" && ln -s "$SW/oute" "$SW/te/etc"
"$MW_BIN" --root "$SW/te" tune --apply --persist --backup "$SW/bkl/bk2.json" >"$SW/out" 2>&1; st=$?
cond "tune --apply --persist --root: DIR/etc a link: no boot file written through it" \
    '[ "$st" -eq 1 ] && [ -z "$(ls -A "$SW/oute")" ] && diff -r "$FIX/doctor-480m/proc" "$SW/te/proc" >/dev/null'
# 4. zram: a "zram" part for a device the backup's apply did not set up
# would swapoff, reset and hot_remove it; and a device set up anew since.
cp -a "$FIX/doctor-480m" "$SW/tz" && mkdir -p "$SW/tz/sys/class/zram-control" &&
    : >"$SW/tz/sys/class/zram-control/hot_remove"
bk "$SW/bkd/z.json" '{"version":1,"items":[],"zram":{"device":0,"hot_add":true,"swapon":true,"old_algo":"lzo-rle"}}'
revert "$SW/tz" "$SW/bkd/z.json"
cond "tune --revert refuses a zram entry for a device its apply did not set up" \
    '[ "$st" -eq 1 ] && grep -q "not a device this backup" "$SW/out" && [ ! -s "$SW/tz/sys/class/zram-control/hot_remove" ]'
bk "$SW/bkd/z2.json" '{"version":1,"items":[{"path":"sys/block/zram0/comp_algorithm","old":"lzo [lzo-rle] lz4 lz4hc zstd"},{"path":"sys/block/zram0/disksize","old":"0"}],"zram":{"device":0,"hot_add":true,"swapon":true,"old_algo":"lzo-rle","disksize":251658240}}'
revert "$SW/tz" "$SW/bkd/z2.json"
cond "tune --revert leaves a zram device that is not the one its apply set up" \
    '[ "$st" -eq 1 ] && grep -q "another device now" "$SW/out" && [ ! -s "$SW/tz/sys/class/zram-control/hot_remove" ]'

# ---- output files follow no link (issue 24) ----------------------------------
# A directory a user owns (root writing its output there, e.g. the user's
# home): the user plants links to a file of root's; report -o, soak --junit
# and watch --record must not write through them.
mkdir -m 755 "$SW/user" && chown 65534:65534 "$SW/user"
printf 'ROOT SECRET\n' >"$SW/rootfile" && chmod 600 "$SW/rootfile"
# plant NAME: nobody's symlink NAME -> root's file (made here, then given to
# nobody: the scratch directory above is root's 0700)
plant() { rm -f "$SW/user/$1"; ln -s "$SW/rootfile" "$SW/user/$1" && chown -h 65534:65534 "$SW/user/$1"; }
untouched() { [ "$(cat "$SW/rootfile")" = "ROOT SECRET" ]; }
plant r.html
"$MW_BIN" report "$FIX/records/dentry-1h.jsonl" -o "$SW/user/r.html" >"$SW/out" 2>&1; st=$?
cond "report -o: a planted link is replaced, not written through" \
    'untouched && [ "$st" -eq 0 ] && [ -f "$SW/user/r.html" ] && [ ! -L "$SW/user/r.html" ]'
plant j.xml
"$MW_BIN" soak --name mwsec-$$ --duration 2s --interval 1s --junit "$SW/user/j.xml" -- sleep 30 >"$SW/out" 2>&1; st=$?
cond "soak --junit: a planted link is replaced, not written through (exit $st)" \
    'untouched && [ -f "$SW/user/j.xml" ] && [ ! -L "$SW/user/j.xml" ] && grep -q "<testsuite" "$SW/user/j.xml"'
plant rec.jsonl
"$MW_BIN" watch --system --record "$SW/user/rec.jsonl" -n 1 -i 1s >"$SW/out" 2>&1; st=$?
cond "watch --record: a planted link is refused" \
    'untouched && [ "$st" -ne 0 ] && grep -q "symbolic link" "$SW/out"'
rm -f "$SW/user/rec.jsonl" && ln "$SW/rootfile" "$SW/user/rec.jsonl"
"$MW_BIN" watch --system --record "$SW/user/rec.jsonl" -n 1 -i 1s >"$SW/out" 2>&1; st=$?
cond "watch --record: a hard link to root's file is refused" \
    'untouched && [ "$st" -ne 0 ] && grep -q "hard link" "$SW/out"'
rm -f "$SW/user/rec.jsonl" && touch "$SW/user/rec.jsonl" && chown 65534:65534 "$SW/user/rec.jsonl"
"$MW_BIN" watch --system --record "$SW/user/rec.jsonl" -n 1 -i 1s >"$SW/out" 2>&1; st=$?
cond "watch --record: a file another user owns is not appended to" \
    '[ "$st" -ne 0 ] && [ ! -s "$SW/user/rec.jsonl" ] && grep -q "another user" "$SW/out"'
rm -f "$SW/user/rec.jsonl"
"$MW_BIN" watch --system --record "$SW/user/rec.jsonl" -n 2 -i 1s >"$SW/out" 2>&1; st=$?
cond "watch --record: a new file is written (2 samples)" \
    '[ "$st" -eq 0 ] && [ "$(wc -l <"$SW/user/rec.jsonl")" -eq 2 ]'
