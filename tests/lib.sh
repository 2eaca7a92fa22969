# Shell helpers for golden, CLI and live tests. Each test prints one line:
# "ok   NAME", "FAIL NAME" or "skip NAME: reason" (tests/run.sh counts them).
MW_BIN=${MW_BIN:-$(pwd)/memwarden}
FIX=${FIX:-$(pwd)/tests/fixtures}
ok()   { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@" >&2; return 0; }
skip() { printf 'skip %s: %s\n' "$1" "$2"; }
# stop_pids [-SIGNAL] PID...: ends the processes this test started, by the
# PIDs it recorded (never by name), SIGTERM unless told, and reaps them.
# (sh has no locals: the _sp_ names keep off the callers' variables.)
stop_pids() {
    _sp_sig=-TERM
    case $1 in -*) _sp_sig=$1; shift ;; esac
    for _sp_p in "$@"; do kill "$_sp_sig" "$_sp_p" 2>/dev/null; done
    for _sp_p in "$@"; do wait "$_sp_p" 2>/dev/null; done
}
# scratch: T, a temporary directory, and PIDS, the processes the test
# starts (append "$!" to it); at exit, also on INT/TERM, the processes are
# ended with stop_pids and the directory removed.
scratch() {
    T=$(mktemp -d)
    PIDS=
    trap 'stop_pids $PIDS; rm -rf "$T"' EXIT
    trap 'exit 1' INT TERM
}
# golden_run NAME GOLDEN WANT_RC CMD...: runs CMD; ok NAME when it exits
# with WANT_RC and its stdout equals the file GOLDEN, else FAIL with the
# diff and CMD's stderr. MW_UPDATE_GOLDEN=1 (any value but 0) first
# rewrites GOLDEN with the output, after a deliberate change.
golden_run() {
    _g_name=$1 _g_file=$2 _g_want=$3; shift 3
    _g_out=$(mktemp) _g_err=$(mktemp)
    "$@" >"$_g_out" 2>"$_g_err"; _g_rc=$?
    case ${MW_UPDATE_GOLDEN:-0} in 0) ;; *) cp "$_g_out" "$_g_file" ;; esac
    if [ "$_g_rc" != "$_g_want" ]; then
        fail "$_g_name" "exit status $_g_rc, want $_g_want" "$(head -20 "$_g_err")"
    elif ! cmp -s "$_g_out" "$_g_file"; then
        fail "$_g_name" "stdout differs from $_g_file:" "$(diff "$_g_file" "$_g_out" | head -20)"
    else
        ok "$_g_name"
    fi
    rm -f "$_g_out" "$_g_err"
}
# check NAME CMD...: ok when CMD succeeds. CMD's stdout goes to stderr, so
# what it prints is never counted as a result line (and a caller's
# "check ... >/dev/null" cannot silence the ok/FAIL line itself).
check() { _ck_n=$1; shift; if "$@" >&2; then ok "$_ck_n"; else fail "$_ck_n"; fi; }
# wait_for SECONDS CMD...: polls every 0.1 s until CMD succeeds.
wait_for() {
    _wf_n=$(($1 * 10)); shift
    while [ $_wf_n -gt 0 ]; do "$@" && return 0; sleep 0.1; _wf_n=$((_wf_n - 1)); done
    return 1
}
# as_limit: "1048576" (KiB) when $MW_BIN starts under a 1 GiB address-space
# limit (ulimit -v), else "unlimited": qemu-user running a 32-bit ARM build
# reserves the guest's whole 4 GiB first and cannot start under one (make
# test's ARM runs), so those runs go without the bound.
as_limit() { if (ulimit -v 1048576; "$MW_BIN" --version) >/dev/null 2>&1; then echo 1048576; else echo unlimited; fi; }
# alive PID: running and not a zombie.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# gone PID: ended (a zombie not yet reaped counts as ended).
gone() { ! alive "$1"; }
# holds PID FILE: PID has FILE open, on some descriptor.
holds() {
    _h_f=$(readlink -f "$2")
    for _h_fd in /proc/"$1"/fd/*; do [ "$(readlink "$_h_fd")" = "$_h_f" ] && return 0; done
    return 1
}
# pid_from FILE [SECONDS]: prints the PID a background program writes to
# FILE once it started (10 s at most); prints nothing, and returns 1, when
# FILE stays empty.
pid_from() { wait_for "${2:-10}" test -s "$1" && head -n1 "$1"; }

# ---- live tests that change the system: zram swap and v1 memory cgroups ----
# zram_swap_on NAME SIZE: makes sure the machine has a swap with SIZE free
# for the test. An active swap with that much free is used as it is (Fedora
# and many boards swap to zram already: a swap is a swap); else zram0 when
# unused, else a new device from /sys/class/zram-control/hot_add, as swap of
# SIZE (lz4 when the kernel has it). What it set up is recorded (ZRAM_DEV,
# ZRAM_HOT) so zram_swap_off in the cleanup undoes exactly that. Prints
# "skip NAME: reason" and returns 1 when none of these is possible.
zram_swap_on() {
    ZRAM_DEV= ZRAM_HOT=0
    _zs_want=$(size_kb "$2")
    _zs_free=$(awk 'NR > 1 { f += $3 - $4 } END { print f + 0 }' /proc/swaps)
    if [ "$_zs_free" -ge "$_zs_want" ]; then
        echo "note: using the swap that is there ($((_zs_free / 1024)) MiB free)" >&2
        return 0
    fi
    command -v mkswap >/dev/null && command -v swapon >/dev/null ||
        { skip "$1" "mkswap/swapon missing"; return 1; }
    if [ -f /sys/block/zram0/disksize ] && [ "$(cat /sys/block/zram0/disksize)" = 0 ]; then
        ZRAM_DEV=0
    elif [ -w /sys/class/zram-control/hot_add ]; then
        ZRAM_DEV=$(cat /sys/class/zram-control/hot_add 2>/dev/null) ||
            { skip "$1" "zram-control/hot_add failed"; return 1; }
        ZRAM_HOT=1
    else
        skip "$1" "no swap with $2 free, zram0 in use and no zram-control/hot_add"
        return 1
    fi
    _zr=/sys/block/zram$ZRAM_DEV
    echo lz4 >$_zr/comp_algorithm 2>/dev/null
    echo "$2" >$_zr/disksize || { skip "$1" "cannot size zram$ZRAM_DEV"; return 1; }
    mkswap /dev/zram$ZRAM_DEV >/dev/null 2>&1 && swapon -p 100 /dev/zram$ZRAM_DEV ||
        { skip "$1" "swapon /dev/zram$ZRAM_DEV failed"; return 1; }
}
zram_swap_off() {
    [ -n "${ZRAM_DEV:-}" ] || return 0
    swapoff /dev/zram$ZRAM_DEV 2>/dev/null
    echo 1 >/sys/block/zram$ZRAM_DEV/reset 2>/dev/null
    [ "${ZRAM_HOT:-0}" = 1 ] && echo "$ZRAM_DEV" >/sys/class/zram-control/hot_remove 2>/dev/null
    ZRAM_DEV= ZRAM_HOT=0
}
# size_kb SIZE: 256M, 1G, 4096K or plain bytes, in KiB.
size_kb() {
    case $1 in
    *K) echo $((${1%K})) ;;
    *M) echo $((${1%M} * 1024)) ;;
    *G) echo $((${1%G} * 1024 * 1024)) ;;
    *) echo $(($1 / 1024)) ;;
    esac
}
# cg_v1_make NAME DIR LIMIT MEMSW: a v1 memory cgroup with these limits.
cg_v1_make() {
    mkdir "$2" || { skip "$1" "cannot create $2"; return 1; }
    echo "$3" >"$2/memory.limit_in_bytes"
    echo "$4" >"$2/memory.memsw.limit_in_bytes" 2>/dev/null ||
        echo "note: memory.memsw.limit_in_bytes not settable (swapaccount off?)" >&2
}
# cg_remove DIR: waits (5 s at most) for the cgroup to empty, removes it.
cg_remove() {
    [ -d "$1" ] || return 0
    wait_for 5 test ! -s "$1/cgroup.procs"
    rmdir "$1" 2>/dev/null || echo "warning: could not remove $1" >&2
}
# vm_check: sets VM_WHY to the reason the VM test bed (tests/vm) cannot run
# here, empty when it can, and VM_KVER to the guest's kernel version.
vm_check() {
    VM_KVER=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n1)
    VM_WHY=""
    command -v qemu-system-x86_64 >/dev/null 2>&1 || VM_WHY="qemu-system-x86_64 not installed"
    [ -z "$VM_WHY" ] && { [ -n "$VM_KVER" ] && [ -r "/boot/vmlinuz-$VM_KVER" ]; } ||
        VM_WHY=${VM_WHY:-"no readable /boot/vmlinuz-* (linux-image-amd64)"}
    [ -z "$VM_WHY" ] && ! [ -f "/lib/modules/$VM_KVER/modules.dep" ] && VM_WHY="no modules for kernel $VM_KVER"
    [ -z "$VM_WHY" ] && ! command -v musl-gcc >/dev/null 2>&1 && VM_WHY="musl-gcc not installed (musl-tools)"
    [ -z "$VM_WHY" ] && ! command -v python3 >/dev/null 2>&1 && VM_WHY="python3 not installed"
    [ -z "$VM_WHY" ] && ! { file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; } &&
        VM_WHY="busybox-static not installed"
    [ -z "$VM_WHY" ] && [ -n "${MW_SANITIZED:-}" ] &&
        VM_WHY="sanitizer run: the guest runs the static binary, covered by make test"
    [ -z "$VM_WHY" ] || VM_WHY="$VM_WHY; 'make vm-deps' installs the VM test bed"
}
# vm_script NAME FILE [DEADLINE_S]: runs the shell script FILE as root in a
# fresh guest (make vm-script; tests/vm/README.md) and prints what it
# printed: a guest script says ok/FAIL/skip lines itself. Builds the
# initramfs first. FAIL NAME when the guest gave no result. Call vm_check
# first (and skip on VM_WHY).
vm_script() {
    _vs_b=${MW_BUILD:-build}
    mkdir -p "$_vs_b/vm"
    if ! make -s vm-initramfs BUILD="$_vs_b" VM_KVER="$VM_KVER" >"$_vs_b/vm/$1-build.log" 2>&1; then
        fail "$1" "make vm-initramfs failed; see $_vs_b/vm/$1-build.log"
        return 1
    fi
    python3 tests/vm/bench.py --kernel "/boot/vmlinuz-$VM_KVER" --initramfs "$_vs_b/vm/initramfs.cpio" \
        --work "$_vs_b/vm" --memwarden "$(pwd)/memwarden-static" --script "$2" \
        ${3:+--deadline "$3"} 2>"$_vs_b/vm/$1.log"
    _vs_rc=$?
    [ $_vs_rc -eq 125 ] && fail "$1" "no result from the guest; see $_vs_b/vm/$1.log"
    return $_vs_rc
}
