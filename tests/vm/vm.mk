# tests/vm/vm.mk — the small-device VM test bed (issue 5), included by the
# Makefile. Guests boot Debian's linux-image-amd64 under qemu TCG with 512 MiB
# RAM, 2 vCPUs and a 256 MiB zram swap; see tests/vm/README.md.
#
#   make vm-deps        install what the bed needs (apt-get; the one command)
#   make vm-initramfs   build build/vm/initramfs.cpio
#   make bench-vm       every scenario x guardian; markdown table + JSON
#   make bench-vm-gen   30 generated draws x {none, earlyoom, memwarden} (issue 15;
#                       GEN=N SEED=S to change; ~1.5 h on 2 CPUs)
#   make vm-smoke       the CI-sized form (also run by `make test` when possible)
#   make vm-capture     regenerate tests/fixtures/vm-512m from a guest
#   make vm-script SCRIPT=F  run the shell script F as root in a fresh guest
#   make bench-vm-tuned the scenarios x memwarden, untuned and tuned (profile small)
#   make bench-reaction the killer's own cost (issue 27): reaction, sustained
#                       pressure and RSS with 100 and 5,000 processes, memwarden
#                       against earlyoom (tests/bench/reaction.py; ~40 min)
#   ARCH=arm64          any of them on the arm64 guest (make vm-deps ARCH=arm64 first)

# ARCH=arm64: the same bed, same scenarios and judge, on an arm64 guest
# (qemu-system-aarch64 -M virt -cpu max, TCG) with Debian's arm64 kernel
# (VM_KVER=...-rt-arm64 for PREEMPT_RT), busybox-static and earlyoom,
# unpacked by tests/vm/sysroot.sh under $(BUILD)/vm-arm64/sysroot (make
# vm-deps ARCH=arm64), the static aarch64 build and test programs; the
# storms' rates at VM_RATE_PCT % (docs/arm.md: the emulation is slower).
VM_ARCH     := $(if $(filter arm64 aarch64,$(ARCH)),arm64,x86_64)
ifeq ($(VM_ARCH),arm64)
VM_OUT      ?= $(BUILD)/vm-arm64
VM_SYSROOT  := $(BUILD)/vm-arm64/sysroot
VM_KVER     ?= $(shell ls $(VM_SYSROOT)/boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | grep -v -- -rt- | sort -V | tail -n1)
VM_KERNEL   ?= $(VM_SYSROOT)/boot/vmlinuz-$(VM_KVER)
VM_MW       := $(CURDIR)/memwarden-aarch64
VM_MW_MAKE  := aarch64
VM_PROG_CC  := aarch64-linux-gnu-gcc -static
VM_RATE_PCT ?= 50
VM_DEPS     := qemu-system-arm gcc-aarch64-linux-gnu qemu-user-static cpio file python3 kmod
VM_BENCH    = python3 tests/vm/bench.py --arch arm64 --rate-pct $(VM_RATE_PCT) --kernel $(VM_KERNEL) \
              --initramfs $(VM_OUT)/initramfs.cpio --work $(VM_OUT) --memwarden $(VM_MW)
else
VM_OUT      ?= $(BUILD)/vm
VM_SYSROOT  :=
VM_KVER     ?= $(shell ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n1)
VM_KERNEL   ?= /boot/vmlinuz-$(VM_KVER)
VM_MW       := $(CURDIR)/memwarden-static
VM_MW_MAKE  := static
VM_PROG_CC  := musl-gcc -static
VM_DEPS     := qemu-system-x86 linux-image-amd64 busybox-static musl-tools earlyoom cpio file python3
VM_BENCH    = python3 tests/vm/bench.py --kernel $(VM_KERNEL) --initramfs $(VM_OUT)/initramfs.cpio --work $(VM_OUT)
endif
VM_PROGS    := hog heartbeat leaker restarter streamer lt_hog lt_touch lt_sleepers reaction
VM_PROG_BIN := $(VM_PROGS:%=$(VM_OUT)/progs/%)

.PHONY: vm-deps vm-progs vm-initramfs bench-vm bench-vm-gen vm-smoke vm-capture vm-help vm-script bench-vm-tuned bench-reaction

vm-help:
	@sed -n '2,17p' tests/vm/vm.mk | sed 's/^# \{0,1\}//'

vm-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(VM_DEPS)
	$(if $(VM_SYSROOT),sh tests/vm/sysroot.sh arm64 $(BUILD)/vm-arm64)

# The guest programs: the same sources as build/progs, static (musl on
# x86-64, the cross compiler's glibc on arm64).
$(VM_OUT)/progs/%: tests/progs/%.c tests/progs/progs.h tests/progs/lt_common.h
	@mkdir -p $(VM_OUT)/progs
	$(VM_PROG_CC) $(CPPFLAGS) -std=gnu11 $(WARN) -Os -o $@ $<

# and the camera pipeline on libmwpool (examples/camera.c; docs/arm.md)
$(VM_OUT)/progs/camera: examples/camera.c lib/mwpool/mwpool.c lib/mwpool/mwpool.h
	@mkdir -p $(VM_OUT)/progs
	$(VM_PROG_CC) -std=c11 -D_GNU_SOURCE $(WARN) -Os -pthread -Ilib/mwpool -o $@ examples/camera.c lib/mwpool/mwpool.c

vm-progs: $(VM_PROG_BIN) $(VM_OUT)/progs/camera

vm-initramfs: $(VM_MW_MAKE) vm-progs
	@test -n "$(VM_KVER)" || { echo "no guest kernel (/boot/vmlinuz-* or $(VM_SYSROOT)/boot): run 'make vm-deps$(if $(VM_SYSROOT), ARCH=arm64)'"; exit 1; }
	SYSROOT=$(VM_SYSROOT) sh tests/vm/mkinitramfs.sh $(VM_OUT) $(VM_KVER) $(VM_OUT)/progs $(VM_MW)

bench-vm: vm-initramfs
	$(VM_BENCH) --md $(VM_OUT)/bench.md --json $(VM_OUT)/bench.json

GEN  ?= 30
SEED ?= 15
bench-vm-gen: vm-initramfs
	$(VM_BENCH) --gen $(GEN) --seed $(SEED) --md $(VM_OUT)/gen.md --json $(VM_OUT)/gen.json

vm-smoke:
	MW_BUILD=$(CURDIR)/$(BUILD) sh tests/live/live_vm_smoke.sh

vm-capture: vm-initramfs
	$(VM_BENCH) --capture tests/fixtures/$(if $(VM_SYSROOT),vm-arm64-512m,vm-512m)

vm-script: vm-initramfs
	@test -n "$(SCRIPT)" || { echo "usage: make vm-script SCRIPT=file.sh [VM_DEADLINE=S]"; exit 2; }
	$(VM_BENCH) --script $(SCRIPT) $(if $(VM_DEADLINE),--deadline $(VM_DEADLINE))

# issue 11: the scenarios with memwarden, in a guest tuned by
# 'memwarden tune --apply --profile small' and in an untuned one
bench-vm-tuned: vm-initramfs
	$(VM_BENCH) --guardians memwarden --md $(VM_OUT)/untuned.md --json $(VM_OUT)/untuned.json
	$(subst --work $(VM_OUT),--work $(VM_OUT)-tuned,$(VM_BENCH)) --tune small --guardians memwarden \
	    --md $(VM_OUT)/tuned.md --json $(VM_OUT)/tuned.json

# issue 27: the killer's own cost in the bed, one guest per process count
# (RUNS hog runs per guardian, HOLD s of sustained pressure), each guest
# under the VM lock other benches share (released between them)
RUNS ?= 20
HOLD ?= 60
bench-reaction: vm-initramfs
	python3 tests/bench/reaction.py --kernel $(VM_KERNEL) --initramfs $(VM_OUT)/initramfs.cpio \
	    --work $(VM_OUT) --runs $(RUNS) --hold $(HOLD) --lock /tmp/mw-vm.lock \
	    --json $(VM_OUT)/reaction.json
