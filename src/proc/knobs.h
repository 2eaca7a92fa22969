/* knobs: writing kernel tunables under a root (/proc/sys, /sys) and the
 * zram device controls (hot_add, reset, hot_remove), plus mkswap and
 * swapon/swapoff for a zram device on the live system. The one writer
 * `tune` and `zram` use: every write goes through the root, so tests can
 * apply into a scratch copy of a captured tree. */
#ifndef MW_KNOBS_H
#define MW_KNOBS_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Writes DATA (LEN bytes) to PATH under ROOT: opened O_WRONLY | O_TRUNC
 * beneath the root with no symlink followed in any component
 * (mw_beneath_open: -ELOOP for a link, so a tree whose proc/ is a link
 * cannot lead the write out of it), never created (a tunable that does
 * not exist is -ENOENT; a directory in its place is -EISDIR), one write.
 * A zram attribute, sys/block/zramN/ATTR, is written through
 * sys/devices/virtual/block/zramN/ATTR when that exists (on a live kernel
 * sys/block/zramN is the kernel's link to it). Returns 0 or -errno (the
 * kernel's refusal of a value: usually -EINVAL). */
int mw_knob_write(const struct mw_root *root, const char *path, const char *data, size_t len);

/* Writes the string S (no newline added) as above. */
int mw_knob_write_str(const struct mw_root *root, const char *path, const char *s);

/* Reads sys/class/zram-control/hot_add under ROOT, which makes a new
 * device and prints its number. Returns the number (>= 0) or -errno. */
int mw_zram_hot_add(const struct mw_root *root);

/* Writes N to sys/class/zram-control/hot_remove. Returns 0 or -errno. */
int mw_zram_hot_remove(const struct mw_root *root, int n);

/* Writes a swap signature (mkswap's version-1 header, no UUID, no label)
 * for a device of SIZE bytes with PAGE_SIZE pages to the live /dev/zramN.
 * Returns 0 or -errno (-EINVAL when SIZE holds under 10 pages). */
int mw_mkswap_zram(int n, uint64_t size, uint64_t page_size);

/* swapon /dev/zramN at PRIORITY (-1: the kernel's default); swapoff.
 * Live system only. Return 0 or -errno. */
int mw_swapon_zram(int n, int priority);
int mw_swapoff_zram(int n);

#endif
