# memwarden — plain GNU Make. `make help` lists the targets.
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -Isrc
MWCFLAGS := -std=gnu11 $(WARN) $(CFLAGS)
LDLIBS   += -lm
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

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
FORMAT_SRC := $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/progs/*.c tests/progs/*.h)

.PHONY: all run test check bench static aarch64 install format clean help layers lint man

all: memwarden

help:
	@echo "make            build ./memwarden"
	@echo "make run        build, then run 'memwarden status'"
	@echo "make test       unit, golden and live tests (ends with 'N passed, N failed')"
	@echo "make check      the same tests built with ASan + UBSan"
	@echo "make bench      benchmarks (timings are never pass/fail)"
	@echo "make static     static binary with musl-gcc: ./memwarden-static"
	@echo "make aarch64    static aarch64 binary: ./memwarden-aarch64"
	@echo "make install    install the binary and memwarden(8) to \$$DESTDIR\$$PREFIX"
	@echo "make man        build/memwarden.8 from the help texts"
	@echo "make format     clang-format every source file"
	@echo "make lint       clang-format clean, functions <= 120 lines, make layers"
	@echo "make layers     check that includes only run down the layers (base proc model analysis lmk cli)"

memwarden: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMW_VERSION='"$(VERSION)"' $(MWCFLAGS) -MMD -MP -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests $(BUILD)/progs

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/harness.h | $(BUILD)
	$(CC) $(CPPFLAGS) -DMW_FIXTURES='"$(CURDIR)/tests/fixtures"' $(MWCFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

$(BUILD)/progs/%: tests/progs/%.c | $(BUILD)
	$(CC) $(CPPFLAGS) $(MWCFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

layers:
	@sh tools/layers.sh

# The tree's shape, checked: clang-format clean, no function over 120 lines
# (tables exempt), includes only down the layers.
lint: layers
	@clang-format --dry-run -Werror $(FORMAT_SRC)
	@sh tools/funclen.sh 120
	@echo "lint: ok (clang-format, functions <= 120 lines, layers)"

run: memwarden
	./memwarden status

test: memwarden $(TEST_BIN) $(PROG_BIN)
	@MW_BIN=$(CURDIR)/memwarden MW_BUILD=$(CURDIR)/$(BUILD) sh tests/run.sh

check:
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" memwarden-san-tests
	@MW_BIN=$(CURDIR)/build-san/memwarden MW_BUILD=$(CURDIR)/build-san MW_SANITIZED=1 \
		ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh

.PHONY: memwarden-san-tests
memwarden-san-tests: $(OBJ) $(TEST_BIN) $(PROG_BIN)
	$(CC) $(LDFLAGS) -o $(BUILD)/memwarden $(OBJ) $(LDLIBS)

bench: memwarden $(PROG_BIN)
	@MW_BIN=$(CURDIR)/memwarden MW_BUILD=$(CURDIR)/$(BUILD) sh tests/bench/run.sh

static:
	$(MAKE) BUILD=build-static CC=musl-gcc LDFLAGS=-static CFLAGS="-Os -g0" build-static/memwarden
	cp build-static/memwarden memwarden-static
	strip memwarden-static

aarch64:
	$(MAKE) BUILD=build-aarch64 CC=aarch64-linux-gnu-gcc LDFLAGS=-static CFLAGS="-Os -g0" build-aarch64/memwarden
	cp build-aarch64/memwarden memwarden-aarch64

build-static/memwarden build-aarch64/memwarden: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# memwarden(8), generated from the help texts so it cannot drift from them.
$(BUILD)/memwarden.8: memwarden tools/mkman.sh | $(BUILD)
	sh tools/mkman.sh ./memwarden > $@

man: $(BUILD)/memwarden.8

install: memwarden $(BUILD)/memwarden.8
	install -D -m 0755 memwarden $(DESTDIR)$(PREFIX)/bin/memwarden
	install -D -m 0644 $(BUILD)/memwarden.8 $(DESTDIR)$(PREFIX)/share/man/man8/memwarden.8

format:
	clang-format -i $(FORMAT_SRC)

clean:
	rm -rf build build-san build-static build-aarch64 memwarden memwarden-static memwarden-aarch64 tests/out

-include $(OBJ:.o=.d)
include tests/vm/vm.mk
