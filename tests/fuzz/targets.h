/* targets: every parser memwarden runs on input it does not control, as
 * one table. Each entry takes a NUL-terminated copy of the input (exactly
 * its size + 1 bytes, so a sanitizer sees any read past it).
 *
 * `make fuzz` builds one libFuzzer harness per entry (tests/fuzz/harness.c
 * with -DFUZZ_TARGET=N) and runs each for FUZZ_S seconds; `make test` runs
 * test_fuzz_replay, which feeds every file under tests/fuzz/corpus/<name>/
 * (crashes found and interesting inputs, kept as regression fixtures)
 * through the same entry, without clang. */
#ifndef MW_FUZZ_TARGETS_H
#define MW_FUZZ_TARGETS_H

#include <stddef.h>

struct fuzz_target {
    const char *name;
    void (*run)(const char *buf, size_t len);
    const char *seeds; /* fixture files (relative to tests/fixtures, glob) to start from */
};

extern const struct fuzz_target fuzz_targets[];
extern const size_t fuzz_target_count;

#endif
