#!/bin/sh
# Live security: `shm --remove-orphans --yes` as root must delete nothing
# outside the /dev/shm it scanned, and without root it must not delete a
# file whose holders it cannot see (issue 17).
#
# Everything runs in private mount, IPC and PID namespaces (unshare -m -i
# -p, a /proc of its own) with a fresh tmpfs on /dev/shm and another on the
# "outside" directory, so no real file and no real SysV segment is ever at
# risk, and memwarden sees only the processes that could hold the files
# (on a host where root cannot inspect every process, e.g. a container
# whose pid 1 refuses ptrace, memwarden rightly keeps every file); the
# namespaces (and their mounts) go when the test ends.
#   - cut path: a directory whose name is 112 characters beside a symlink
#     named after its first 111 characters, pointing outside;
#   - a symlinked subdirectory pointing outside;
#   - the race: a directory and a symlink to the outside exchanged
#     atomically in a loop (tests/progs/swapdir) while removal runs,
#     MW_SHM_RACE_N times (default 200), at most MW_SHM_RACE_S seconds
#     (default 60); files removed outside must be 0;
#   - non-root: a file held open by a root process is left in place.
. tests/lib.sh
N=live_security_shm
BUILD=${MW_BUILD:-build}
if [ -z "${MW_SHM_IN_NS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { skip $N "needs root (unshare -m, mount)"; exit 0; }
    command -v unshare >/dev/null || { skip $N "no unshare"; exit 0; }
    [ -x "$BUILD/progs/swapdir" ] || { skip $N "$BUILD/progs/swapdir not built"; exit 0; }
    unshare -m -i -p -f --mount-proc true 2>/dev/null ||
        { skip $N "unshare -m -i -p not permitted here"; exit 0; }
    MW_SHM_IN_NS=1 exec unshare -m -i -p -f --mount-proc --propagation private sh "$0" "$@"
fi

scratch
trap 'stop_pids $PIDS; umount "$T/out" 2>/dev/null; rm -rf "$T"' EXIT
mount -t tmpfs -o mode=1777,size=64m mw-shm /dev/shm 2>/dev/null ||
    { skip $N "cannot mount a tmpfs on /dev/shm in the namespace"; exit 0; }
mkdir "$T/out" && mount -t tmpfs -o size=16m mw-out "$T/out" ||
    { skip $N "cannot mount a scratch tmpfs"; exit 0; }
S=/dev/shm
OUT=$T/out

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
    sleep 0.2
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
