/* tuning: the recommended memory settings for a machine's size — the
 * profiles `memwarden tune` applies and `memwarden doctor` checks against.
 * Pure: a RAM size in, values out. Every number names its source. */
#ifndef MW_TUNING_H
#define MW_TUNING_H

#include <stdint.h>

enum mw_profile {
    MW_PROFILE_SMALL,       /* <= 1 GiB: the 480 MB device, the 512 MiB VM */
    MW_PROFILE_EMBEDDED_4G, /* 1 .. 4 GiB boards: the RK3588 seed */
    MW_PROFILE_DESKTOP,     /* 4 .. 32 GiB, zram swap */
    MW_PROFILE_SERVER,      /* disk swap (or none), throughput first */
    MW_PROFILE_COUNT
};

/* One profile's values. -1: left as the kernel has it. */
struct mw_profile_spec {
    const char *name, *fits;
    int swappiness, page_cluster, watermark_scale_factor, watermark_boost_factor;
    int dirty_ratio, dirty_background_ratio;
    int zram_pct;          /* zram disksize, percent of RAM (0: no zram) */
    uint64_t zram_max;     /* cap on the disksize, bytes (0: none) */
    const char *zram_algo; /* preferred; the kernel's own when it lacks it */
    int zram_priority;     /* swapon priority */
    const char *source;    /* where the values come from */
};

/* The profile's table row. P must be < MW_PROFILE_COUNT. */
const struct mw_profile_spec *mw_profile_get(enum mw_profile p);

/* The profile for a machine of MEM_TOTAL_KB: small up to 1 GiB (+ 64 MiB
 * for what firmware reserves), embedded-4g up to 4 GiB, desktop above.
 * (server is chosen only by name: RAM size does not tell a server.) */
enum mw_profile mw_profile_for_ram(uint64_t mem_total_kb);

/* Parses a profile name ("small", "embedded-4g", "desktop", "server").
 * Returns 0 or -EINVAL (OUT untouched). */
int mw_profile_parse(const char *s, enum mw_profile *out);

/* The zram disksize SPEC gives for MEM_TOTAL_KB, in bytes, rounded down
 * to a MiB (0 when the profile has no zram). */
uint64_t mw_profile_zram_size(const struct mw_profile_spec *spec, uint64_t mem_total_kb);

#endif
