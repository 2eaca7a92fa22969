/* zram: compressed RAM block devices (/sys/block/zramN). */
#ifndef MW_ZRAM_H
#define MW_ZRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

#define MW_MAX_ZRAM 16

/* One device. mm_stat columns (Documentation/admin-guide/blockdev/zram.rst):
 * orig_data_size compr_data_size mem_used_total mem_limit mem_used_max
 * same_pages pages_compacted huge_pages [huge_pages_since]. Bytes except
 * the *_pages counts. */
struct mw_zram_dev {
    int index;
    uint64_t disksize;
    char algorithm[32]; /* the selected one, "[lz4] lzo" -> "lz4" */
    uint64_t orig_data_size, compr_data_size, mem_used_total, mem_limit, mem_used_max;
    uint64_t same_pages, pages_compacted, huge_pages;
    bool have_mm_stat;
    /* bd_stat (writeback to a backing device, CONFIG_ZRAM_WRITEBACK):
     * bd_count bd_reads bd_writes, in 4 KiB units whatever the page size */
    uint64_t bd_count, bd_reads, bd_writes;
    bool have_bd_stat;
    char backing_dev[64]; /* "" or "none": no writeback */
};

struct mw_zram {
    int count;
    struct mw_zram_dev dev[MW_MAX_ZRAM];
};

/* Parses mm_stat text into DEV. Returns 0 or -EINVAL (fewer than 5 numbers). */
int mw_zram_mm_stat_parse_buf(struct mw_zram_dev *dev, const char *buf);

/* Copies the bracketed (selected) name of comp_algorithm text
 * ("lzo [lz4] zstd") into OUT. Returns 0 or -EINVAL when none is selected. */
int mw_zram_algorithm_parse_buf(char *out, size_t cap, const char *buf);

/* Parses bd_stat text ("       0        0        0"). Returns 0 or
 * -EINVAL (fewer than 3 numbers). */
int mw_zram_bd_stat_parse_buf(struct mw_zram_dev *dev, const char *buf);

/* Reads every ROOT/sys/block/zramN. Devices whose files cannot be read keep
 * have_mm_stat false. Returns the number of devices (0: none) or -errno. */
int mw_zram_read(const struct mw_root *root, struct mw_zram *out);

/* Who uses /dev/zramN under ROOT: a swap in /proc/swaps ("swap, 51% of
 * 256 MiB used") or a mount in /proc/mounts ("mounted on /tmp"), written
 * into WHO (CAP bytes). Returns 1 when in use, 0 when not. */
int mw_zram_user(const struct mw_root *root, int n, char *who, size_t cap);

/* Compression ratio orig/compressed (0 when nothing is stored). */
double mw_zram_ratio(const struct mw_zram_dev *dev);

#endif
