#!/bin/sh
# Issue 28's arm64 guest runs in one command (docs/arm.md):
#
#   sh tests/vm/arm64-proof.sh [STEP...]
#
# Steps, in this order by default (the must-show ones first):
#   camera    tests/vm/scripts/camera.sh: the dual-stream camera under 25 MiB
#             (run --limit, soak, status/top/doctor) on the standard kernel
#   scen      the five scenarios x {none, earlyoom, memwarden}, standard kernel
#   rt-rt     tests/vm/scripts/rt.sh on the PREEMPT_RT kernel
#   scen-rt   the five scenarios x {none, earlyoom, memwarden} on PREEMPT_RT
#   rt-std    tests/vm/scripts/rt.sh on the standard kernel
#   gen       generated draws (GEN_DRAWS, default g02,g05,g10,g13 of seed 15)
# Each guest boots under `flock /tmp/mw-vm.lock` (one bench guest at a time on
# the shared host; the lock is taken per scenario, so a long wait costs no
# finished result; LOCK_WAIT=S gives up a guest not started within S seconds
# and goes on with the next). Needs `make vm-deps ARCH=arm64` once. Results go to
# build/vm-arm64/proof/: STEP-*.json/.md per chunk, scen.md, scen-rt.md and
# gen.md merged (bench.py --merge), script-*.out for the guest scripts.
set -u
cd "$(dirname "$0")/../.." || exit 1
V=build/vm-arm64
P=$V/proof
STD=${VM_KVER:-6.1.0-57-arm64}
RT=${VM_KVER_RT:-6.1.0-57-rt-arm64}
GEN_DRAWS=${GEN_DRAWS:-g02,g05,g10,g13}
SCEN="s1-hog s2-leak s3-cache s4-restart s5-storm"
mkdir -p $P
log() { echo "arm64-proof: $(date -u +%T) $*"; }

# One initramfs per kernel (its modules), with this tree's binaries.
initramfs() { # KVER
    [ -f $V/sysroot/boot/vmlinuz-$1 ] || { log "no kernel $1: make vm-deps ARCH=arm64"; exit 1; }
    nice -n 10 make -s vm-initramfs ARCH=arm64 VM_KVER=$1 >$P/initramfs-$1.log 2>&1 ||
        { log "make vm-initramfs VM_KVER=$1 failed: $P/initramfs-$1.log"; exit 1; }
    cp $V/initramfs.cpio $V/initramfs-$1.cpio
}
bench() { # KVER TAG ARGS...
    k=$1 tag=$2
    shift 2
    flock ${LOCK_WAIT:+-w $LOCK_WAIT} /tmp/mw-vm.lock python3 tests/vm/bench.py --arch arm64 --rate-pct "${VM_RATE_PCT:-50}" \
        --kernel $V/sysroot/boot/vmlinuz-$k --initramfs $V/initramfs-$k.cpio --work $V/work-$tag \
        --memwarden memwarden-aarch64 "$@"
}
scenarios() { # KVER TAG
    for s in $SCEN; do
        log "$2 $s: waiting for /tmp/mw-vm.lock"
        bench $1 $2 --scenarios $s --guardians none,earlyoom,memwarden \
            --json $P/$2-$s.json --md $P/$2-$s.md 2>&1 | sed "s/^/  /"
    done
    python3 tests/vm/bench.py --merge $P/$2-s*.json --md $P/$2.md --json $P/$2.json
    cat $P/$2.md
}
script() { # KVER TAG FILE DEADLINE
    log "script $2: waiting for /tmp/mw-vm.lock"
    bench $1 $2 --script $3 --deadline $4 >$P/script-$2.out 2>$P/script-$2.err
    log "script $2: exit $? ($P/script-$2.out)"
    cat $P/script-$2.out
}

steps=${*:-camera scen rt-rt scen-rt rt-std gen}
initramfs $RT
initramfs $STD
for st in $steps; do
    case $st in
    camera) script $STD camera tests/vm/scripts/camera.sh 1200 ;;
    scen) scenarios $STD scen ;;
    scen-rt) scenarios $RT scen-rt ;;
    rt-rt) script $RT rt-rt tests/vm/scripts/rt.sh 900 ;;
    rt-std) script $STD rt-std tests/vm/scripts/rt.sh 900 ;;
    gen)
        for d in $(echo "$GEN_DRAWS" | tr , ' '); do
            log "gen $d: waiting for /tmp/mw-vm.lock"
            bench $STD gen --gen 30 --seed 15 --draws $d --guardians none,earlyoom,memwarden \
                --json $P/gen-$d.json --md $P/gen-$d.md 2>&1 | sed "s/^/  /"
        done
        python3 tests/vm/bench.py --merge $P/gen-g*.json --md $P/gen.md --json $P/gen.json
        cat $P/gen.md
        ;;
    *) log "unknown step $st (camera scen rt-rt scen-rt rt-std gen)"; exit 2 ;;
    esac
done
log "done: $P"
