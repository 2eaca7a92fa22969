# tests/distro/distro.mk — the distro bed (issue 23), included by the
# Makefile: a Debian bookworm guest with systemd under qemu TCG, booted once
# and saved, restored for every run; see docs/distro-bed.md.
#
#   make bench-distro    DRAWS generated draws x {none, earlyoom, nohang,
#                        systemd-oomd, memwarden}; build/distro/bench.md + .json
#                        (DRAWS=20 DSEED=23); memwarden is installed with
#                        dpkg -i of `make deb`'s package (DEB=file.deb for
#                        another; DEB= for the static binary and contrib/'s unit)
#   make distro-image    only build and save the guest (build/distro/guest.qcow2)
#   make distro-smoke    one draw with memwarden (part of `make test` when possible)
#   make distro-script SCRIPT=f.sh   run f.sh as root in the restored guest

DISTRO_OUT   ?= $(BUILD)/distro
DISTRO_PROGS := hog heartbeat leaker browser
DISTRO_BIN   := $(DISTRO_PROGS:%=$(DISTRO_OUT)/progs/%)
DISTRO_BED    = python3 tests/distro/bed.py --work $(DISTRO_OUT) --kver $(VM_KVER) \
                --progs $(DISTRO_OUT)/progs --memwarden $(CURDIR)/memwarden-static
DISTRO_DEB   := $(BUILD)/deb/memwarden_$(shell cat VERSION)_amd64.deb
DRAWS ?= 20
DSEED ?= 23

.PHONY: bench-distro distro-image distro-smoke distro-script distro-progs

$(DISTRO_OUT)/progs/%: tests/progs/%.c tests/progs/progs.h
	@mkdir -p $(DISTRO_OUT)/progs
	musl-gcc -static $(CPPFLAGS) -std=gnu11 $(WARN) -Os -o $@ $<

distro-progs: $(DISTRO_BIN)

distro-image:
	$(DISTRO_BED) image

# DEB unset: `make deb`'s package; DEB= (empty): the static binary.
bench-distro: static distro-progs $(if $(filter undefined,$(origin DEB)),deb)
	$(DISTRO_BED) bench --gen $(DRAWS) --seed $(DSEED) --md $(DISTRO_OUT)/bench.md \
	    --json $(DISTRO_OUT)/bench.json $(if $(filter undefined,$(origin DEB)),--deb $(DISTRO_DEB),$(if $(DEB),--deb $(DEB)))

distro-smoke:
	MW_BUILD=$(CURDIR)/$(BUILD) sh tests/live/live_distro_smoke.sh

distro-script: static distro-progs
	@test -n "$(SCRIPT)" || { echo "usage: make distro-script SCRIPT=file.sh [DEB=file.deb]"; exit 2; }
	$(DISTRO_BED) script $(SCRIPT) $(if $(DEB),--deb $(DEB))
