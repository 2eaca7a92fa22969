#!/bin/sh
# Live: one OOM kill provoked in a memory cgroup this test creates (cgroup
# v2 under /sys/fs/cgroup/unified when the memory controller is there, else
# v1), then read back from the kernel's log with `memwarden oom`: the
# newest event's victim is the hog's pid, in this cgroup. Run under
# `flock /tmp/mw-live.lock`. Skips only when it cannot run: not root, no
# memory cgroup, the kernel's log unreadable.
. tests/lib.sh
TN=live_oom
[ "$(id -u)" = 0 ] || { skip $TN "not root"; exit 0; }
HOG=${MW_BUILD:-build}/progs/hog
[ -x "$HOG" ] || { fail $TN "$HOG not built (make test builds it)"; exit 0; }
"$MW_BIN" oom --last 1 >/dev/null 2>&1
[ $? -eq 1 ] && { skip $TN "the kernel's log is unreadable here (memwarden oom exits 1)"; exit 0; }
NAME=mwlive-oom-$$
U=/sys/fs/cgroup/unified
if grep -qw memory "$U/cgroup.controllers" 2>/dev/null; then
    CG=$U/$NAME KIND=v2
elif [ -d /sys/fs/cgroup/memory ]; then
    CG=/sys/fs/cgroup/memory/$NAME KIND=v1
else
    skip $TN "no memory cgroup (neither v2 at $U nor v1)"; exit 0
fi
scratch
trap 'stop_pids -KILL $PIDS; cg_remove "$CG"; rm -rf "$T"' EXIT
mkdir "$CG" || { skip $TN "cannot create $CG"; exit 0; }
if [ $KIND = v2 ]; then
    echo 32M >"$CG/memory.max" && echo 0 >"$CG/memory.swap.max" 2>/dev/null
else
    echo 32M >"$CG/memory.limit_in_bytes"
    echo 32M >"$CG/memory.memsw.limit_in_bytes" 2>/dev/null
fi
# the shell moves itself into the cgroup, then becomes the hog (same pid)
sh -c "echo \$\$ > $CG/cgroup.procs && exec $HOG --adj 0 --max 128M" &
pid=$!
PIDS=$pid
wait $pid; st=$?
PIDS=
[ $st -eq 137 ] || { fail $TN "hog (pid $pid) ended with status $st, not SIGKILL (137)"; exit 0; }
out=$("$MW_BIN" oom --last 1 --json); st=$?
if [ $st -ne 3 ]; then
    fail "$TN read back" "memwarden oom exit $st, want 3 (events found)"
else
    case $out in
    *'"victim": {'*"\"pid\": $pid,"*'"comm": "hog"'*) ok "$TN victim pid $pid ($KIND)" ;;
    *) fail "$TN victim pid $pid ($KIND)" "$(echo "$out" | grep -A3 '"victim"')" ;;
    esac
    case $out in
    *"\"oom_memcg\": \""*"/$NAME\""*) ok "$TN cgroup $NAME ($KIND)" ;;
    *) fail "$TN cgroup $NAME ($KIND)" "$(echo "$out" | grep memcg)" ;;
    esac
fi
text=$("$MW_BIN" oom --last 1)
case $text in *"killed   hog (pid $pid"*"why      memcg_limit"*) ok "$TN text" ;;
*) fail "$TN text" "$text" ;; esac
