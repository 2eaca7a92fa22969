/* zoneinfo: per-zone free pages and watermarks from /proc/zoneinfo. */
#ifndef MW_ZONEINFO_H
#define MW_ZONEINFO_H

#include <stdint.h>

#include "base/util.h"

#define MW_MAX_ZONES 32

struct mw_zone {
    int node;
    char name[16];
    uint64_t free, min, low, high, managed, present; /* pages */
    uint64_t protection_max;                         /* largest lowmem_reserve entry, pages */
};

struct mw_zoneinfo {
    int nr_zones;
    struct mw_zone zones[MW_MAX_ZONES];
    /* Sums over the zones with managed pages, in pages. */
    uint64_t free, min, low, high, managed;
    /* lmkd's zone_watermarks: high watermark plus the largest protection,
     * summed over populated zones (what kswapd wants free to stop). */
    uint64_t high_plus_protection;
};

/* Parses the text of /proc/zoneinfo:
 *   Node 0, zone   Normal
 *     pages free     3840
 *           min      66
 *           low      82
 *           high     98
 *           spanned  4095
 *           present  3998
 *           managed  3840
 *           protection: (0, 2633, 23761, 23761, 23761)
 * Returns 0, -EINVAL on a malformed zone header or value (*bad_line gets
 * its number), -ENODATA without zones. OUT is untouched on failure. */
int mw_zoneinfo_parse_buf(struct mw_zoneinfo *out, const char *buf, int *bad_line);

/* Reads ROOT/proc/zoneinfo. Returns 0 or -errno as above. */
int mw_zoneinfo_read(const struct mw_root *root, struct mw_zoneinfo *out, int *bad_line);

/* /proc/zoneinfo kept open by the daemon: the descriptor (not owned) and a
 * buffer sized once at setup, so that re-reads allocate nothing. Its size
 * grows with CPUs (a pageset block per CPU and zone) and NUMA nodes: about
 * 120 CPUs on a 6.x kernel already give more than 64 KiB. */
struct mw_zoneinfo_src {
    int fd;
    char *buf;
    size_t cap;
};

/* The largest zoneinfo mw_zoneinfo_src_init accepts (bytes). */
#define MW_ZONEINFO_MAX (16u << 20)

/* Reads FD (an open /proc/zoneinfo) once, whole, with a growing buffer, and
 * parses it into OUT; keeps a buffer of the file's size plus a margin
 * (half again, at least 16 KiB: CPUs and memory hot-plugged later) for
 * mw_zoneinfo_src_read. Returns the file's size in bytes, or -errno:
 * -EFBIG over MW_ZONEINFO_MAX, -ENOMEM, the parser's errors. On failure
 * S holds no buffer and OUT is untouched. */
long mw_zoneinfo_src_init(struct mw_zoneinfo_src *s, int fd, struct mw_zoneinfo *out);

/* Re-reads and parses into OUT without allocating. Returns 0 or -errno:
 * -EFBIG when the file grew past the buffer (nothing parsed: a cut
 * zoneinfo gives wrong sums), the parser's errors. OUT untouched on
 * failure. */
int mw_zoneinfo_src_read(struct mw_zoneinfo_src *s, struct mw_zoneinfo *out);

/* Frees the buffer (the descriptor is the caller's). */
void mw_zoneinfo_src_free(struct mw_zoneinfo_src *s);

/* The caps of the kernel's default min_free_kbytes (mm/page_alloc.c):
 * 65536 kB before 5.7, 262144 kB since (commit "mm: increase the
 * min_free_kbytes cap", 5.7). */
#define MW_MIN_FREE_CAP_KB_OLD 65536
#define MW_MIN_FREE_CAP_KB_5_7 262144

/* The cap for the kernel release OSRELEASE ("6.18.44-fc-v1272"): 262144
 * from 5.7 on, 65536 before, 0 when it does not read as N.M. Pure. */
uint64_t mw_min_free_cap_kb(const char *osrelease);

/* The same for the kernel of ROOT (its proc/sys/kernel/osrelease); 0
 * unknown (a capture without it). */
uint64_t mw_min_free_cap_read(const struct mw_root *root);

/* The kernel's default min_free_kbytes for LOWMEM_KB of low memory
 * (mm/page_alloc.c: int_sqrt(lowmem_kbytes * 16), clamped to [128,
 * CAP_KB]; CAP_KB 0, unknown, takes the older MW_MIN_FREE_CAP_KB_OLD). */
uint64_t mw_default_min_free_kbytes(uint64_t lowmem_kb, uint64_t cap_kb);

#endif
