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

VM_OUT      ?= $(BUILD)/vm
VM_KVER     ?= $(shell ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n1)
VM_KERNEL   ?= /boot/vmlinuz-$(VM_KVER)
VM_PROGS    := hog heartbeat leaker restarter streamer lt_hog lt_touch
VM_PROG_BIN := $(VM_PROGS:%=$(VM_OUT)/progs/%)
VM_DEPS     := qemu-system-x86 linux-image-amd64 busybox-static musl-tools earlyoom cpio file python3
VM_BENCH    = python3 tests/vm/bench.py --kernel $(VM_KERNEL) --initramfs $(VM_OUT)/initramfs.cpio --work $(VM_OUT)

.PHONY: vm-deps vm-progs vm-initramfs bench-vm bench-vm-gen vm-smoke vm-capture vm-help vm-script bench-vm-tuned

vm-help:
	@sed -n '2,13p' tests/vm/vm.mk | sed 's/^# \{0,1\}//'

vm-deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(VM_DEPS)

# The guest programs: the same sources as build/progs, static with musl.
$(VM_OUT)/progs/%: tests/progs/%.c tests/progs/progs.h tests/progs/lt_common.h
	@mkdir -p $(VM_OUT)/progs
	musl-gcc -static $(CPPFLAGS) -std=gnu11 $(WARN) -Os -o $@ $<

vm-progs: $(VM_PROG_BIN)

vm-initramfs: static vm-progs
	@test -n "$(VM_KVER)" || { echo "no /boot/vmlinuz-*: run 'make vm-deps'"; exit 1; }
	sh tests/vm/mkinitramfs.sh $(VM_OUT) $(VM_KVER) $(VM_OUT)/progs $(CURDIR)/memwarden-static

bench-vm: vm-initramfs
	$(VM_BENCH) --md $(VM_OUT)/bench.md --json $(VM_OUT)/bench.json

GEN  ?= 30
SEED ?= 15
bench-vm-gen: vm-initramfs
	$(VM_BENCH) --gen $(GEN) --seed $(SEED) --md $(VM_OUT)/gen.md --json $(VM_OUT)/gen.json

vm-smoke:
	MW_BUILD=$(CURDIR)/$(BUILD) sh tests/live/live_vm_smoke.sh

vm-capture: vm-initramfs
	$(VM_BENCH) --capture tests/fixtures/vm-512m

vm-script: vm-initramfs
	@test -n "$(SCRIPT)" || { echo "usage: make vm-script SCRIPT=file.sh [VM_DEADLINE=S]"; exit 2; }
	$(VM_BENCH) --script $(SCRIPT) $(if $(VM_DEADLINE),--deadline $(VM_DEADLINE))

# issue 11: the scenarios with memwarden, in a guest tuned by
# 'memwarden tune --apply --profile small' and in an untuned one
bench-vm-tuned: vm-initramfs
	$(VM_BENCH) --guardians memwarden --md $(VM_OUT)/untuned.md --json $(VM_OUT)/untuned.json
	python3 tests/vm/bench.py --kernel $(VM_KERNEL) --initramfs $(VM_OUT)/initramfs.cpio \
	    --work $(VM_OUT)-tuned --tune small --guardians memwarden \
	    --md $(VM_OUT)/tuned.md --json $(VM_OUT)/tuned.json
