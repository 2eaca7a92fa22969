/* tuneplan: what `memwarden tune` would change — each sysctl (old -> new)
 * and the zram swap device to set up — from the readings doctor uses and a
 * profile. Pure: the CLI reads, this decides, the CLI writes. */
#ifndef MW_TUNEPLAN_H
#define MW_TUNEPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/doctor.h"
#include "analysis/tuning.h"

#define MW_TUNE_MAX 24

/* One file to write: PATH relative to the root, the value found (OLD, as
 * read, without the newline) and the one to write (NEW). */
struct mw_tune_item {
    char key[64]; /* "vm.swappiness", or the path for non-sysctl files */
    char path[128];
    char old[64];
    char new_val[64];
    const char *why; /* the profile row's or "--set" */
};

/* The zram swap device to create, or why none is. */
struct mw_tune_zram {
    bool wanted;   /* the plan sets one up */
    int device;    /* zramN */
    bool hot_add;  /* N does not exist yet: zram-control/hot_add makes it */
    uint64_t size; /* disksize, bytes */
    char algo[24];
    int priority;
    char note[128]; /* when not wanted: why ("zram0 already swap") */
};

struct mw_tune_plan {
    enum mw_profile profile;
    int n;
    struct mw_tune_item it[MW_TUNE_MAX];
    struct mw_tune_zram zram;
};

/* Extra facts the plan needs beyond the doctor's readings. */
struct mw_tune_env {
    bool have_hot_add;    /* ROOT/sys/class/zram-control/hot_add exists */
    const char *algos;    /* comp_algorithm text of the free device ("" unknown) */
    bool dirty_bytes_set; /* vm.dirty_bytes != 0: the ratios are not in use */
    bool zram_off;        /* no zram in the plan (--set zram=off) */
};

/* Builds the plan of PROFILE for the machine IN shows, then applies the
 * overrides SETS[0..NSETS) ("vm.swappiness=100", "zram.size=512M",
 * "zram.algo=zstd", "zram.priority=10"). Each value is checked as it is
 * taken: a vm.NAME value by mw_tune_knob_value_check, zram.algo by
 * mw_tune_algo_check, zram.size 1 MiB .. 1 PiB, zram.priority -1 .. 32767.
 * An item whose value already holds is left out. Returns 0, or with *BAD
 * set to the override (OUT then undefined): -EINVAL malformed (no KEY=V,
 * not an integer, a character no value has), -ERANGE out of the range,
 * -ENOENT a key tune does not know, a vm file the tree lacks, or zram.*
 * without zram in the plan. */
int mw_tune_plan_build(const struct mw_doc_in *in, const struct mw_tune_env *env,
                       enum mw_profile profile, char *const *sets, int nsets,
                       struct mw_tune_plan *out, const char **bad);

/* Whether V may be written to the tunable K: a decimal integer (digits
 * only: no sign, blank or newline, at most 10 of them) within what the
 * kernel accepts for it (its sysctl handler's bounds, Linux 6.x: e.g.
 * swappiness 0..200, dirty_ratio 0..100, overcommit_memory 0..2). The one
 * check of `tune --set` and of the values a backup gives back. Returns 0,
 * -EINVAL (not such an integer) or -ERANGE. */
int mw_tune_knob_value_check(enum mw_vm_knob k, const char *v);

/* Whether NAME may be a zram compressor name: 1..23 of [a-z0-9_-] (every
 * name in crypto/ and comp_algorithm is). Returns 0 or -EINVAL. */
int mw_tune_algo_check(const char *name);

#endif
