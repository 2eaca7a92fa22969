#!/bin/sh
# Live: a SysV segment whose creator is gone (ipcmk exits at once) and an
# unused /dev/shm file are found as orphans and removed only with --yes,
# only the ones named (--shmid/--path: the test never touches anything it
# did not create); a /dev/shm file held open by a process is no orphan.
. tests/lib.sh
command -v ipcmk >/dev/null 2>&1 || { skip live_shm "no ipcmk"; exit 0; }
[ -r /proc/sysvipc/shm ] || { skip live_shm "no /proc/sysvipc/shm"; exit 0; }
[ -d /dev/shm ] && [ -w /dev/shm ] || { skip live_shm "no writable /dev/shm"; exit 0; }
tmp=$(mktemp -d)
id=$(ipcmk -M 65536 2>/dev/null | sed -n 's/.*id: *\([0-9][0-9]*\).*/\1/p')
[ -n "$id" ] || { rm -rf "$tmp"; skip live_shm "ipcmk could not create a segment"; exit 0; }
f1=/dev/shm/mw-test-orphan.$$
f2=/dev/shm/mw-test-held.$$
holder=""
cleanup() {
    grep -q "^ *[-0-9][0-9]* *$id " /proc/sysvipc/shm && ipcrm -m "$id" 2>/dev/null
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    rm -f "$f1" "$f2"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
dd if=/dev/zero of="$f1" bs=4096 count=16 2>/dev/null
dd if=/dev/zero of="$f2" bs=4096 count=4 2>/dev/null
sleep 30 <"$f2" &
holder=$!
wait_for 10 holds "$holder" "$f2" || fail shm_setup "the holder of $f2 did not open it in 10 s"

"$MW_BIN" shm --json >"$tmp/j" 2>&1
seg=$(tr -d ' \n' <"$tmp/j" | grep -o "{\"shmid\":$id,[^}]*}")
case "$seg" in
*'"nattch":0'*'"creator_alive":false'*'"orphan":true'*) ok shm_finds_sysv_orphan ;;
*) fail shm_finds_sysv_orphan "$seg" ;;
esac
o1=$(tr -d ' \n' <"$tmp/j" | grep -o "{\"path\":\"$f1\",[^}]*}")
o2=$(tr -d ' \n' <"$tmp/j" | grep -o "{\"path\":\"$f2\",[^}]*}")
# Where root cannot inspect every process (a container whose pid 1 refuses
# ptrace), no /dev/shm file is an orphan: a holder may hide in that process.
unseen=$(tr -d ' \n' <"$tmp/j" | sed -n 's/.*"unreadable_processes":\([0-9]*\).*/\1/p')
if [ "${unseen:-0}" = 0 ]; then
    case "$o1" in *'"orphan":true'*) ok shm_finds_devshm_orphan ;; *) fail shm_finds_devshm_orphan "$o1" ;; esac
else
    skip shm_finds_devshm_orphan "$unseen processes cannot be inspected here (not even by root)"
    case "$o1" in
    *'"users":0,"holders_known":false,"orphan":false'*) ok shm_unseen_holder_not_orphan ;;
    *) fail shm_unseen_holder_not_orphan "$o1" ;;
    esac
fi
case "$o2" in *'"users":1,'*'"orphan":false'*) ok shm_held_file_not_orphan ;; *) fail shm_held_file_not_orphan "$o2" ;; esac

"$MW_BIN" shm --remove-orphans --shmid "$id" --path "$f1" >"$tmp/dry" 2>&1; rc=$?
if [ $rc = 3 ] && grep -q "would remove SysV segment shmid $id " "$tmp/dry" &&
    grep -q "^ *[-0-9][0-9]* *$id " /proc/sysvipc/shm && [ -e "$f1" ]; then
    ok shm_dry_run_keeps
else
    fail shm_dry_run_keeps "rc=$rc" "$(cat "$tmp/dry")"
fi
"$MW_BIN" shm --remove-orphans --yes --shmid "$id" --path "$f1" >"$tmp/rm" 2>&1; rc=$?
if [ "${unseen:-0}" != 0 ]; then
    # the segment goes (the kernel's attach count is exact); the file stays, and why is said
    if [ $rc = 3 ] && grep -q "removed SysV segment shmid $id " "$tmp/rm" &&
        grep -q "left $f1 in place: .* could not be inspected" "$tmp/rm" &&
        ! grep -q "^ *[-0-9][0-9]* *$id " /proc/sysvipc/shm && [ -e "$f1" ] && [ -e "$f2" ]; then
        ok shm_remove_keeps_unseen_file
    else
        fail shm_remove_keeps_unseen_file "rc=$rc" "$(cat "$tmp/rm")"
    fi
elif [ $rc = 0 ] && grep -q "removed SysV segment shmid $id " "$tmp/rm" && grep -q "removed $f1" "$tmp/rm" &&
    ! grep -q "^ *[-0-9][0-9]* *$id " /proc/sysvipc/shm && [ ! -e "$f1" ] && [ -e "$f2" ]; then
    ok shm_remove_orphans_yes
else
    fail shm_remove_orphans_yes "rc=$rc" "$(cat "$tmp/rm")"
fi
n=$(grep -c . "$tmp/rm")
check shm_removes_only_named test "$n" = 2
# issue 26: the dry run's count is what --yes removed (it said "2 orphans"
# where --yes removed 1: a file kept for an uninspectable process counted)
nd=$(sed -n 's/^\([0-9][0-9]*\) orphans\{0,1\}; run again with --yes.*/\1/p' "$tmp/dry")
nr=$(grep -c '^removed ' "$tmp/rm")
check shm_dry_run_counts_what_yes_removes test "${nd:-0}" = "$nr"
"$MW_BIN" --root "$FIX/shm-a" shm --remove-orphans --yes >"$tmp/o" 2>&1; rc=$?
check shm_remove_refuses_root test $rc = 1
