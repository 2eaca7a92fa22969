#include "analysis/tuning.h"

#include <errno.h>
#include <string.h>

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)

/* Where sources disagree, the row says which one it follows:
 * - the zram recipe (Pop!_OS, Fedora's and ChromeOS's zram tuning): swappiness
 *   180, page-cluster 0, watermark_boost_factor 0, watermark_scale_factor 125;
 * - kernel Documentation/admin-guide/sysctl/vm.rst: swappiness above 100 is
 *   for swap faster than the file system (zram); page-cluster 0 when
 *   readahead of swap is pointless (zram: no seek);
 * - zram-generator's default (and Fedora's) size: min(RAM / 2, 4 GiB),
 *   swap priority 100, zstd on Fedora;
 * - the RK3588 seed: 1 GiB lz4 at priority 10, dirty 15 / 5, swappiness 60
 *   (the kernel default, written for disk swap: not followed with zram);
 * - tuned's throughput-performance profile: swappiness 10, dirty 40 / 10. */
static const struct mw_profile_spec profiles[MW_PROFILE_COUNT] = {
    [MW_PROFILE_SMALL] = {"small", "<= 1 GiB", 180, 0, 125, 0, 10, 5, 50, 0, "lz4", 100,
                          "zram recipe; zram-generator size ram/2; lz4 (RK3588 seed: cheap on "
                          "small CPUs); dirty 10/5: 10% of 512 MiB is ~50 MiB, ~1 s of eMMC"},
    [MW_PROFILE_EMBEDDED_4G] = {"embedded-4g", "1 .. 4 GiB", 100, 0, 125, 0, 15, 5, 50, GIB, "lz4",
                                10,
                                "RK3588 seed (zram 1 GiB lz4 priority 10, dirty 15/5); "
                                "swappiness 100 (vm.rst: zram as fast as the file system), "
                                "not the seed's 60 (for disk swap) nor the recipe's 180 (zram "
                                "is only a quarter of RAM here)"},
    [MW_PROFILE_DESKTOP] = {"desktop", "> 4 GiB", 180, 0, 125, 0, -1, -1, 50, 4 * GIB, "zstd", 100,
                            "zram recipe; zram-generator / Fedora default min(ram/2, 4 GiB) "
                            "zstd priority 100; dirty ratios: kernel defaults"},
    [MW_PROFILE_SERVER] = {"server", "any, disk swap", 10, -1, -1, -1, 40, 10, 0, 0, "", 0,
                           "tuned throughput-performance (swappiness 10, dirty 40/10); no zram"},
};

const struct mw_profile_spec *mw_profile_get(enum mw_profile p)
{
    return &profiles[p];
}

enum mw_profile mw_profile_for_ram(uint64_t mem_total_kb)
{
    if (mem_total_kb <= (GIB + 64 * MIB) / 1024)
        return MW_PROFILE_SMALL;
    if (mem_total_kb <= (4 * GIB + 64 * MIB) / 1024)
        return MW_PROFILE_EMBEDDED_4G;
    return MW_PROFILE_DESKTOP;
}

int mw_profile_parse(const char *s, enum mw_profile *out)
{
    for (int p = 0; p < MW_PROFILE_COUNT; p++)
        if (strcmp(s, profiles[p].name) == 0) {
            *out = (enum mw_profile)p;
            return 0;
        }
    return -EINVAL;
}

uint64_t mw_profile_zram_size(const struct mw_profile_spec *spec, uint64_t mem_total_kb)
{
    uint64_t size = mem_total_kb * 1024 / 100 * (uint64_t)spec->zram_pct;
    if (spec->zram_max && size > spec->zram_max)
        size = spec->zram_max;
    return size / MIB * MIB;
}
