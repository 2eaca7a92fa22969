# Guest script (make vm-script ARCH=arm64 SCRIPT=tests/vm/scripts/camera.sh
# VM_DEADLINE=1200; docs/arm.md): the RK3588 guide's dual-camera pipeline
# under the guide's budget scaled to the guest. The guide's 4 GB board
# gives the application 200 MB (4.9 %); this guest has 512 MiB, so 25 MiB.
# Its pipeline: two 640x480 streams at 30 fps, frames of 640x480x3 bytes,
# a pool of FRAME_BUFFER_COUNT x 2 = 6 frames per stream (the guide's
# MEMORY_POOL_MAX_BLOCKS). examples/camera.c stands for it (--fill: every
# frame written and read whole). With the daemon guarding the machine:
#   1. memwarden run --limit 25M for CAM_RUN_S (default 120) seconds:
#      peak, OOM events, time above 85 % of the limit;
#   2. memwarden soak --limit 25M for SOAK (default 10m), sampled every
#      10 s (RSS within 20 MiB, 6 MiB of the budget always available), with
#      status, top, top --pools and doctor taken mid-soak;
#   3. the daemon's kills (none expected: nothing here is short of memory).
# Leaves every output in $OUT; prints ok/FAIL lines.
T=vm_camera
ok() { echo "ok   $T.$1"; }
fail() { echo "FAIL $T.$1"; shift; for l in "$@"; do echo "  $l"; done; }
: "${CAM_RUN_S:=120}" "${SOAK:=10m}"
LIMIT=25M
CAM="camera --streams 2 --frames 6 --frame-size 921600 --fps 30 --fill"
mkdir -p /sys/fs/cgroup /run/mwpool
mount -t cgroup2 none /sys/fs/cgroup || { fail mount "cannot mount cgroup2"; exit 1; }
uname -a > $OUT/uname.txt
memwarden daemon --foreground --history $OUT/daemon.hist 2> $OUT/daemon.log &
mw=$!
sleep 2
kill -0 $mw 2>/dev/null && ok daemon_up || fail daemon_up "$(cat $OUT/daemon.log)"

# 1. run --limit
memwarden run --limit $LIMIT --json -- $CAM --seconds "$CAM_RUN_S" > $OUT/run.json 2> $OUT/run.err
rc=$?
[ $rc = 0 ] && ok "run_exit_0" || fail run_exit_0 "rc $rc" "$(tail -5 $OUT/run.err)"
cat $OUT/run.err

# 2. soak, with the views taken 60 s in
(
    sleep 60
    memwarden status > $OUT/status.txt 2>&1
    memwarden top > $OUT/top.txt 2>&1
    memwarden top --pools > $OUT/top-pools.txt 2>&1
    memwarden doctor > $OUT/doctor.txt 2>&1
) &
views=$!
# the guide's criteria scaled: the pipeline's RSS within 20 MiB, and its
# use of the budget at most 75 % ("内存使用率 <= 75%"): 25 % of 25 MiB,
# 6 MiB, always available in the cgroup (soak checks MemAvailable too)
memwarden soak --duration "$SOAK" --interval 10s --limit $LIMIT --max-rss 20M --min-available 6M \
    --junit $OUT/soak.xml --record $OUT/soak.jsonl -- $CAM > $OUT/soak.txt 2> $OUT/soak.err
rc=$?
wait $views
[ $rc = 0 ] && ok soak_passed || fail soak_passed "rc $rc" "$(cat $OUT/soak.txt)"
cat $OUT/soak.txt

# 3. the daemon saw nothing to do
kill -TERM $mw; wait $mw
n=$(grep -c '"event":"kill"' $OUT/daemon.hist 2>/dev/null)
[ "${n:-0}" = 0 ] && ok no_daemon_kills || fail no_daemon_kills "$n kills: $(cat $OUT/daemon.hist)"
grep -q 'oom_kill [1-9]' /proc/vmstat && fail no_kernel_oom "$(grep oom_kill /proc/vmstat)" || ok no_kernel_oom
