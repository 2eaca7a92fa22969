# Guest script (make vm-script ARCH=arm64 SCRIPT=tests/vm/scripts/rt.sh
# VM_DEADLINE=900, on Debian's standard and PREEMPT_RT arm64 kernels;
# docs/arm.md): the killer's real-time priority (SCHED_FIFO 1, lmkd's) must
# not starve the pipeline, nor be starved. The pipeline is the camera of
# tests/vm/scripts/camera.sh (two 640x480 streams at 30 fps, whole frames);
# for each case it reports how late its producers woke (the worse of the two
# streams: max, p99, frames missed), and, where a storm runs (hog at 25 MiB/s,
# adj 900, from 5 s in), how long the hog lived and who killed it. Cases:
#   alone            the camera only
#   daemon-idle      the camera and the daemon, nothing to do
#   storm-kernel     a storm, no daemon: the kernel's OOM killer
#   storm-daemon     a storm, the daemon (SCHED_FIFO 1)
#   storm-cpu-rt     a storm and 4 CPU burners (nice 0), the daemon SCHED_FIFO 1
#   storm-cpu-nort   the same with realtime = false (the daemon at nice 0)
#   cam-fifo50       the camera's producers SCHED_FIFO 50, storm, burners, daemon
# Every case lasts RT_S seconds (default 45). Prints one line per case. The
# camera and the burners run at adj 0, the hog at 900.
: "${RT_S:=45}"
CAM="camera --streams 2 --frames 6 --frame-size 921600 --fps 30 --fill"
echo 'realtime = false' > /tmp/nort.conf
now() { cut -d' ' -f1 /proc/uptime; }
oomk() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
psi_full() { sed -n 's/^full .*total=\([0-9]*\)/\1/p' /proc/pressure/memory; }
echo "kernel $(uname -r) $(uname -v | grep -o 'PREEMPT[_A-Z]*' | head -1)"
printf '%-15s %9s %9s %7s %8s %-10s %8s\n' case late_max late_p99 missed hog_s killed_by psi_full
# one NAME DAEMON(none|rt|nort) STORM(0|1) BURNERS CAMRT
one() {
    name=$1 daemon=$2 storm=$3 burn=$4 camrt=$5
    k0=$(oomk) f0=$(psi_full) pids=
    case $daemon in
    rt) memwarden daemon --foreground --history $OUT/$name.hist 2> $OUT/$name.daemon & pids="$pids $!" ;;
    nort) memwarden daemon --foreground --config /tmp/nort.conf --history $OUT/$name.hist \
        2> $OUT/$name.daemon & pids="$pids $!" ;;
    esac
    i=0
    while [ $i -lt "$burn" ]; do
        (echo 0 > /proc/self/oom_score_adj; while :; do :; done) & pids="$pids $!"
        i=$((i + 1))
    done
    sleep 1
    (echo 0 > /proc/self/oom_score_adj; exec $CAM --seconds "$RT_S" ${camrt:+--rt $camrt}) \
        > $OUT/$name.cam 2>&1 &
    cam=$!
    hog_s=- by=-
    if [ "$storm" = 1 ]; then
        sleep 5
        t0=$(now)
        hog --rate 25M/s --adj 900 --name storm > /dev/null 2> $OUT/$name.hog &
        hog=$!
        end=$(( $(cut -d. -f1 /proc/uptime) + RT_S - 8 ))
        while kill -0 $hog 2>/dev/null && [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do sleep 0.2; done
        if kill -0 $hog 2>/dev/null; then
            kill -KILL $hog; hog_s=alive
        else
            hog_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        fi
        wait $hog 2>/dev/null
        d=0 k=0
        grep -q '"event":"kill"' $OUT/$name.hist 2>/dev/null && d=1
        [ "$(oomk)" != "$k0" ] && k=1
        case $d$k in 00) by=none ;; 10) by=daemon ;; 01) by=kernel ;; *) by=both ;; esac
    fi
    wait $cam
    for p in $pids; do kill -KILL $p 2>/dev/null; done
    for p in $pids; do wait $p 2>/dev/null; done
    awk -v n="$name" -v h="$hog_s" -v b="$by" -v f="$(( ($(psi_full) - f0) / 1000 ))" '
        { sub(/.*woke late max /, ""); split($0, a, /[ ,]+/)
          if (a[1] + 0 > mx) mx = a[1] + 0; if (a[4] + 0 > p) p = a[4] + 0; m += a[6] }
        END { printf "%-15s %6.1f ms %6.1f ms %7d %8s %-10s %5d ms\n", n, mx, p, m, h, b, f }' $OUT/$name.cam
    sleep 2
}
one alone none 0 0 ""
one daemon-idle rt 0 0 ""
one storm-kernel none 1 0 ""
one storm-daemon rt 1 0 ""
one storm-cpu-rt rt 1 4 ""
one storm-cpu-nort nort 1 4 ""
one cam-fifo50 rt 1 4 50
