# Guest script (make vm-script; tests/live/live_vm_scope_v2.sh): the daemon
# guarding one cgroup v2 group (memory.max 128 MiB, memory.swap.max 64 MiB)
# kills a hog in it before the kernel's memcg OOM killer does, leaves the
# protected process (adj -900) alone, and with kill_cgroup takes a whole
# child group through cgroup.kill. v2 keeps processes out of a group that
# hands controllers down, so they live in children: keep/ (the protected
# one), work/ (the hog) and grp/ (hog + helper). Prints ok/FAIL lines.
T=vm_scope_v2
ok() { echo "ok   $T.$1"; }
fail() { echo "FAIL $T.$1"; shift; for l in "$@"; do echo "  $l"; done; }
wait_for() { _n=$(($1 * 10)); shift; while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done; return 1; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup || { fail mount "cannot mount cgroup2"; exit 1; }
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
CG=/sys/fs/cgroup/mwtest
mkdir $CG && echo 128M > $CG/memory.max && echo 64M > $CG/memory.swap.max &&
    echo +memory > $CG/cgroup.subtree_control && mkdir $CG/keep $CG/work $CG/grp ||
    { fail setup "cannot create $CG"; exit 1; }
ev() { awk -v k="$1" '$1 == k { print $2 }' $CG/memory.events; }

# leg NAME CONFIG-or-empty HOG-CGROUP: protected toucher, daemon, hog.
leg() {
    name=$1 conf=$2 hcg=$3
    log=$OUT/$name.log
    lt_touch 24 /tmp/$name.touch $CG/keep -900 2>/tmp/$name.touch.err &
    keep=$!
    helper=
    if [ "$hcg" = "$CG/grp" ]; then
        lt_touch 4 /tmp/$name.helper "$hcg" 2>/dev/null &
        helper=$!
    fi
    wait_for 20 test -s /tmp/$name.touch ||
        { fail $name "protected process did not start" "$(cat /tmp/$name.touch.err)"; return; }
    before=$(ev oom_kill)
    memwarden daemon --foreground --scope $CG ${conf:+--config $conf} --history $OUT/$name.hist \
        --state-file /tmp/$name.state 2> $log &
    mw=$!
    wait_for 10 grep -q 'started:' $log || { fail $name "daemon did not start" "$(cat $log)"; return; }
    lt_hog "$hcg" 900 4 64 > /tmp/$name.hog 2>&1 &
    hog=$!
    wait_for 90 gone $hog
    wait $hog 2>/dev/null
    line=$(grep "kill pid=$hog " $log | head -1)
    after=$(ev oom_kill)
    why=""
    [ -n "$line" ] || why="no kill line for the hog (pid $hog)"
    [ "$before" = "$after" ] || why="$why; memcg oom_kill $before -> $after"
    alive $keep || why="$why; the protected process died"
    if [ -n "$helper" ]; then
        wait_for 5 gone $helper || why="$why; the helper in the killed group lives"
        echo "$line" | grep -q 'cgroup_killed=yes' || why="$why; no cgroup_killed=yes"
    fi
    if [ -z "$why" ]; then ok $name; else fail $name "$why" "$(tail -5 $log)"; fi
    echo "$name: ${line#<?>}"
    echo "$name: hog reached $(tail -1 /tmp/$name.hog) MiB, memory.peak $(cat $CG/memory.peak 2>/dev/null)," \
        "swap peak $(cat $CG/memory.swap.peak 2>/dev/null), events: $(tr '\n' ' ' < $CG/memory.events)"
    kill -TERM $mw $keep $helper 2>/dev/null
    wait $mw $keep $helper 2>/dev/null
    wait_for 10 sh -c "[ \$(cat $CG/memory.current) -lt 50000000 ]"
}

leg plain "" $CG/work
printf '[victims]\nkill_cgroup = /mwtest/grp\n' > /tmp/group.conf
leg group /tmp/group.conf $CG/grp
