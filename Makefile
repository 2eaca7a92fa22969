# memwarden — plain GNU Make. `make help` lists the targets.
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -Isrc
MWCFLAGS := -std=gnu11 $(WARN) $(CFLAGS)
LDLIBS   += -lm
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
DESTDIR  ?=
# Where the shells look for completions (Debian's zsh: vendor-completions)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# The release is said once, in VERSION: --version ("memwarden 0.1.0 (git
# HASH)"), the pkg-config file and the Debian package read it. GIT_REV names
# the commit built (make deb passes it in: its copy of the tree has no .git).
VERSION  := $(shell cat VERSION)
GIT_REV  ?= $(shell git describe --always --dirty --exclude='*' 2>/dev/null || echo unknown)

BUILD    ?= build
# The layers, lowest first (README "Layout"; `make layers` checks them).
LAYERS   := base proc model analysis lmk cli
SRC      := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIB_SRC  := $(filter-out src/cli/main.c,$(SRC))
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(PROG_SRC:tests/progs/%.c=$(BUILD)/progs/%)
FORMAT_SRC := $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/progs/*.c tests/progs/*.h tests/fuzz/*.c tests/fuzz/*.h lib/*/*.c lib/*/*.h examples/*.c tests/bench/*.c tests/pool/*.c)
# libmwpool (lib/mwpool): C11, libc + pthreads, built static and shared.
POOL_CFLAGS := -std=c11 -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 $(WARN) $(CFLAGS) -pthread
POOL_LIBS   := $(BUILD)/lib/libmwpool.a $(BUILD)/lib/libmwpool.so

.PHONY: all run test unit-test unit-bins check check-pool bench static aarch64 armhf install format clean help layers lint man pool deb completions

all: memwarden pool

help:
	@echo "make            build ./memwarden"
	@echo "make run        build, then run 'memwarden status'"
	@echo "make test       unit, golden and live tests (ends with 'N passed, N failed')"
	@echo "make check      the same tests built with ASan + UBSan, then make check-pool"
	@echo "make check-pool libmwpool's stress test under ThreadSanitizer (POOL_STRESS_S seconds)"
	@echo "make pool       build/lib/libmwpool.a, .so and mwpool.pc (part of make)"
	@echo "make bench      benchmarks (timings are never pass/fail)"
	@echo "make static     static binary with musl-gcc: ./memwarden-static"
	@echo "make aarch64    static aarch64 binary: ./memwarden-aarch64"
	@echo "make armhf      static 32-bit ARM (ARMv7 hard float) binary: ./memwarden-armhf"
	@echo "make install    install the binary, memwarden(8) and the shell completions to \$$DESTDIR\$$PREFIX"
	@echo "make deb        Debian packages build/deb/memwarden_*.deb, libmwpool-dev_*.deb"
	@echo "make unit-test  the unit tests alone (what the package build runs)"
	@echo "make man        build/memwarden.8 from the help texts"
	@echo "make completions build/completion/: bash, zsh and fish scripts from the option tables"
	@echo "make fuzz       a libFuzzer harness per parser, FUZZ_S seconds each (clang)"
	@echo "make format     clang-format every source file"
	@echo "make lint       clang-format clean, functions <= 80 lines (tools/funclen.exceptions), make layers"
	@echo "make layers     check that includes only run down the layers (base proc model analysis lmk cli)"

memwarden: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMW_VERSION='"$(VERSION) (git $(GIT_REV))"' $(MWCFLAGS) -MMD -MP -c -o $@ $<

# each output folder is its own target: build/ may exist already (the
# arm64 sysroot, the fuzz corpus) without build/tests in it
$(BUILD) $(BUILD)/tests $(BUILD)/progs:
	mkdir -p $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/harness.h | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -DMW_FIXTURES='"$(CURDIR)/tests/fixtures"' $(MWCFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

# The fuzzing corpus replayed through the parsers of tests/fuzz/targets.c.
$(BUILD)/tests/test_fuzz_replay: tests/unit/test_fuzz_replay.c tests/fuzz/targets.c tests/fuzz/targets.h $(LIB_OBJ) tests/unit/harness.h | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -DMW_FUZZ_CORPUS='"$(CURDIR)/tests/fuzz/corpus"' $(MWCFLAGS) -Itests/unit -o $@ $< tests/fuzz/targets.c $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

$(BUILD)/progs/%: tests/progs/%.c | $(BUILD)/progs
	$(CC) $(CPPFLAGS) $(MWCFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# ---- libmwpool ----
pool: $(POOL_LIBS) $(BUILD)/lib/mwpool.pc $(BUILD)/examples/camera

$(BUILD)/lib/mwpool.o: lib/mwpool/mwpool.c lib/mwpool/mwpool.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(POOL_CFLAGS) -fPIC -c -o $@ $<

# the debug build: every check, and who got each block
$(BUILD)/lib/mwpool-debug.o: lib/mwpool/mwpool.c lib/mwpool/mwpool.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(POOL_CFLAGS) -DMWPOOL_DEBUG -DMWPOOL_TRACE_CALLER -c -o $@ $<

$(BUILD)/lib/libmwpool.a: $(BUILD)/lib/mwpool.o
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/lib/libmwpool.so: $(BUILD)/lib/mwpool.o
	$(CC) $(LDFLAGS) -shared -pthread -Wl,-soname,libmwpool.so.1 -o $@ $^

$(BUILD)/lib/mwpool.pc: lib/mwpool/mwpool.pc.in VERSION
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/tests/test_mwpool: tests/unit/test_mwpool.c $(BUILD)/lib/mwpool-debug.o tests/unit/harness.h | $(BUILD)/tests
	$(CC) $(MWCFLAGS) -D_GNU_SOURCE -pthread -Ilib/mwpool -Itests/unit -o $@ $< $(BUILD)/lib/mwpool-debug.o $(LDFLAGS) -lm

# the release build's own checks (a double put is refused there too)
$(BUILD)/tests/test_mwpool_release: tests/unit/test_mwpool_release.c $(BUILD)/lib/mwpool.o tests/unit/harness.h | $(BUILD)/tests
	$(CC) $(MWCFLAGS) -D_GNU_SOURCE -pthread -Ilib/mwpool -Itests/unit -o $@ $< $(BUILD)/lib/mwpool.o $(LDFLAGS) -lm

$(BUILD)/examples/%: examples/%.c $(BUILD)/lib/libmwpool.a
	@mkdir -p $(dir $@)
	$(CC) $(POOL_CFLAGS) -D_GNU_SOURCE -Ilib/mwpool -o $@ $< $(BUILD)/lib/libmwpool.a $(LDFLAGS)

# bench_pool against glibc malloc, and against musl's when musl-gcc exists
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
BENCH_POOL := $(BUILD)/bench/bench_pool $(if $(MUSL_GCC),$(BUILD)/bench/bench_pool_musl)
$(BUILD)/bench/bench_pool: tests/bench/bench_pool.c $(BUILD)/lib/libmwpool.a
	@mkdir -p $(dir $@)
	$(CC) $(POOL_CFLAGS) -Ilib/mwpool -o $@ $< $(BUILD)/lib/libmwpool.a $(LDFLAGS)
$(BUILD)/bench/bench_pool_musl: tests/bench/bench_pool.c lib/mwpool/mwpool.c lib/mwpool/mwpool.h
	@mkdir -p $(dir $@)
	musl-gcc -static -std=c11 -O2 -pthread -Ilib/mwpool -o $@ $< lib/mwpool/mwpool.c
# the footprint refresh beside the plain-C floor (issue 27): links the scan's own objects
$(BUILD)/bench/bench_refresh: tests/bench/bench_refresh.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(MWCFLAGS) -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

# Many threads getting and putting at random for POOL_STRESS_S seconds,
# under ThreadSanitizer, against the release and the debug build.
POOL_STRESS_S ?= 3
TSAN := -fsanitize=thread -O1 -g
check-pool:
	@mkdir -p build-tsan
	$(CC) -std=c11 $(WARN) $(TSAN) -pthread -D_GNU_SOURCE -Ilib/mwpool -o build-tsan/stress_mwpool \
		tests/pool/stress_mwpool.c lib/mwpool/mwpool.c
	$(CC) -std=c11 $(WARN) $(TSAN) -pthread -D_GNU_SOURCE -DMWPOOL_DEBUG -Ilib/mwpool \
		-o build-tsan/stress_mwpool_debug tests/pool/stress_mwpool.c lib/mwpool/mwpool.c
	@mkdir -p build-tsan/pools
	MWPOOL_DIR=build-tsan/pools TSAN_OPTIONS=halt_on_error=1 build-tsan/stress_mwpool $(POOL_STRESS_S)
	MWPOOL_DIR=build-tsan/pools TSAN_OPTIONS=halt_on_error=1 build-tsan/stress_mwpool_debug $(POOL_STRESS_S)

layers:
	@sh tools/layers.sh

# The tree's shape, checked: clang-format clean, no function over 80 lines
# (tables exempt) but those tools/funclen.exceptions lists at their length
# today (a list that may only shrink), includes only down the layers, and no shell script
# whose INT/TERM trap returns into the script (dash runs the handler and
# goes on: a test that keeps looping after SIGTERM).
lint: layers
	@clang-format --dry-run -Werror $(FORMAT_SRC)
	@sh tools/funclen.sh --exceptions tools/funclen.exceptions 80
	@! grep -nE "^[[:space:]]*trap [^']*('[^']*')?[^']* (INT|TERM)" tests/*.sh tests/*/*.sh tests/*/*/*.sh tools/*.sh .ci/run \
		| grep -v "trap '[^']*exit[^']*' " || { echo "lint: a trap on INT/TERM must exit"; exit 1; }
	@echo "lint: ok (clang-format, functions <= 80 lines but $$(grep -c '^src/' tools/funclen.exceptions) listed, layers, traps exit)"

# Builds quietly (warnings and errors still show; V=1 shows the commands),
# then the status: what a new user sees first.
run:
	@$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) memwarden
	@./memwarden status

# The unit tests alone (fixtures: no root, nothing of this machine changed):
# what the Debian package build runs.
unit-test: $(TEST_BIN)
	@f=0; for t in $(TEST_BIN); do $$t || f=1; done; exit $$f

# The Debian packages (memwarden, libmwpool-dev) from the tree as it is, in
# $(BUILD)/deb/ (tools/mkdeb.sh, docs/packaging.md). Never part of make or
# make test (tests/live/live_deb.sh calls it).
deb:
	sh tools/mkdeb.sh $(BUILD)/deb

test: memwarden $(TEST_BIN) $(PROG_BIN) pool cross-bins
	@MW_BIN=$(CURDIR)/memwarden MW_BUILD=$(CURDIR)/$(BUILD) MW_CROSS="$(CROSS_ARCHES)" sh tests/run.sh

check:
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow" \
		LDFLAGS="-fsanitize=address,undefined,float-cast-overflow" memwarden-san-tests
	@MW_BIN=$(CURDIR)/build-san/memwarden MW_BUILD=$(CURDIR)/build-san MW_SANITIZED=1 \
		ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh
	$(MAKE) check-pool

.PHONY: memwarden-san-tests
memwarden-san-tests: $(OBJ) $(TEST_BIN) $(PROG_BIN) $(BUILD)/examples/camera $(BUILD)/lib/mwpool.pc
	$(CC) $(LDFLAGS) -o $(BUILD)/memwarden $(OBJ) $(LDLIBS)

# the VM bed's guest for bench_reaction.sh when qemu is there
BENCH_VM := $(if $(shell command -v qemu-system-x86_64 2>/dev/null),vm-initramfs)
bench: memwarden $(PROG_BIN) pool $(BENCH_POOL) $(BUILD)/bench/bench_refresh $(BENCH_VM)
	@MW_BIN=$(CURDIR)/memwarden MW_BUILD=$(CURDIR)/$(BUILD) sh tests/bench/run.sh

static:
	$(MAKE) BUILD=build-static CC=musl-gcc LDFLAGS=-static CFLAGS="-Os -g0" build-static/memwarden
	cp build-static/memwarden memwarden-static
	strip memwarden-static

# The ARM builds, static with the Debian cross compiler's glibc (docs/arm.md:
# why not musl): ./memwarden-aarch64 and, for 32-bit ARM boards (ARMv7,
# hard float), ./memwarden-armhf. CPPFLAGS gives every build 64-bit time_t
# and off_t (a no-op on 64-bit targets; glibc's default on armhf is 32-bit).
CROSS_ARCHES := aarch64 armhf
CROSS_aarch64 := aarch64-linux-gnu-
CROSS_armhf   := arm-linux-gnueabihf-
cross_make = $(MAKE) BUILD=build-$(1) CC=$(CROSS_$(1))gcc AR=$(CROSS_$(1))ar LDFLAGS=-static CFLAGS="-Os -g0"
aarch64 armhf:
	+$(call cross_make,$@) build-$@/memwarden
	cp build-$@/memwarden memwarden-$@

build-static/memwarden build-aarch64/memwarden build-armhf/memwarden: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make test's cross part (tests/run.sh, MW_CROSS): the unit tests and the
# binary built for each ARM target whose compiler and qemu-user are here,
# run by tests/run.sh under qemu-user; a missing one is a skip with a reason.
QEMU_aarch64 := qemu-aarch64-static
QEMU_armhf   := qemu-arm-static
CROSS_READY := $(foreach a,$(CROSS_ARCHES),$(if $(shell command -v $(CROSS_$(a))gcc && command -v $(QEMU_$(a))),$(a)))
.PHONY: cross-bins $(CROSS_ARCHES:%=cross-bins-%)
cross-bins: $(CROSS_READY:%=cross-bins-%)
$(CROSS_ARCHES:%=cross-bins-%): cross-bins-%:
	+@$(call cross_make,$*) -s build-$*/memwarden unit-bins
unit-bins: $(TEST_BIN)

# Fuzzing (clang + libFuzzer): FUZZ_S seconds per parser; see tools/fuzz.sh.
FUZZ_S ?= 60
fuzz:
	FUZZ_S=$(FUZZ_S) sh tools/fuzz.sh

.PHONY: fuzz-lib-objs
fuzz-lib-objs: $(LIB_OBJ)

# memwarden(8), generated from the help texts so it cannot drift from them.
$(BUILD)/memwarden.8: memwarden tools/mkman.sh | $(BUILD)
	sh tools/mkman.sh ./memwarden > $@

man: $(BUILD)/memwarden.8

# The shell completions, made by the binary from its option tables.
COMPLETIONS := $(BUILD)/completion/memwarden.bash $(BUILD)/completion/_memwarden \
               $(BUILD)/completion/memwarden.fish
$(BUILD)/completion/memwarden.bash: memwarden
	@mkdir -p $(@D)
	./memwarden completion bash > $@
$(BUILD)/completion/_memwarden: memwarden
	@mkdir -p $(@D)
	./memwarden completion zsh > $@
$(BUILD)/completion/memwarden.fish: memwarden
	@mkdir -p $(@D)
	./memwarden completion fish > $@

completions: $(COMPLETIONS)

install: memwarden $(BUILD)/memwarden.8 $(COMPLETIONS) $(POOL_LIBS) $(BUILD)/lib/mwpool.pc
	install -D -m 0755 memwarden $(DESTDIR)$(PREFIX)/bin/memwarden
	install -D -m 0644 $(BUILD)/memwarden.8 $(DESTDIR)$(PREFIX)/share/man/man8/memwarden.8
	install -D -m 0644 $(BUILD)/completion/memwarden.bash $(DESTDIR)$(BASHCOMPDIR)/memwarden
	install -D -m 0644 $(BUILD)/completion/_memwarden $(DESTDIR)$(ZSHCOMPDIR)/_memwarden
	install -D -m 0644 $(BUILD)/completion/memwarden.fish $(DESTDIR)$(FISHCOMPDIR)/memwarden.fish
	install -D -m 0644 lib/mwpool/mwpool.h $(DESTDIR)$(PREFIX)/include/mwpool.h
	install -D -m 0644 $(BUILD)/lib/libmwpool.a $(DESTDIR)$(LIBDIR)/libmwpool.a
	install -D -m 0755 $(BUILD)/lib/libmwpool.so $(DESTDIR)$(LIBDIR)/libmwpool.so.1
	ln -sf libmwpool.so.1 $(DESTDIR)$(LIBDIR)/libmwpool.so
	install -D -m 0644 $(BUILD)/lib/mwpool.pc $(DESTDIR)$(LIBDIR)/pkgconfig/mwpool.pc

format:
	clang-format -i $(FORMAT_SRC)

clean:
	rm -rf build build-san build-tsan build-static build-aarch64 build-armhf build-fuzz memwarden memwarden-static memwarden-aarch64 memwarden-armhf tests/out

-include $(OBJ:.o=.d)
include tests/vm/vm.mk
include tests/distro/distro.mk
