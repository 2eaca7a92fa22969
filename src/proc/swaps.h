/* swaps: the swap devices of /proc/swaps. */
#ifndef MW_SWAPS_H
#define MW_SWAPS_H

#include <stdint.h>

#include "base/util.h"

#define MW_MAX_SWAPS 32

struct mw_swap_dev {
    char name[128]; /* /dev/zram0, /swapfile (spaces in paths are \040 as the kernel writes) */
    char type[16];  /* partition, file */
    uint64_t size_kb, used_kb;
    int priority;
};

struct mw_swaps {
    int count;
    struct mw_swap_dev dev[MW_MAX_SWAPS];
};

/* Parses the text of /proc/swaps:
 *   Filename        Type        Size      Used   Priority
 *   /dev/zram0      partition   262140    1024   100
 * The header line is required. Returns 0, -EINVAL on a malformed line
 * (*bad_line gets its number). Devices past MW_MAX_SWAPS are ignored. */
int mw_swaps_parse_buf(struct mw_swaps *out, const char *buf, int *bad_line);

/* Reads ROOT/proc/swaps. Returns 0 or -errno as above. */
int mw_swaps_read(const struct mw_root *root, struct mw_swaps *out, int *bad_line);

#endif
