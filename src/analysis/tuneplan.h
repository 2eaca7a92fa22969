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
 * "zram.algo=zstd", "zram.priority=10", "zram.device=1"). An item whose
 * value already holds is left out. Returns 0, or -EINVAL with *BAD set to
 * the override that is malformed or names a file the tree lacks (OUT then
 * undefined). */
int mw_tune_plan_build(const struct mw_doc_in *in, const struct mw_tune_env *env,
                       enum mw_profile profile, char *const *sets, int nsets,
                       struct mw_tune_plan *out, const char **bad);

#endif
