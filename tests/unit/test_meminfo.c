#include <errno.h>

#include "harness.h"
#include "proc/meminfo.h"
#include "model/verdict.h"

static int read_fixture(const char *dir, struct mw_meminfo *mi, int *bad)
{
    struct mw_root r;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", MW_FIXTURES, dir);
    if (mw_root_open(&r, path) < 0)
        return -ENOENT;
    int rc = mw_meminfo_read(&r, mi, bad);
    mw_root_close(&r);
    return rc;
}

/* The 5.6 GB device of the lmkd seed: swap nearly exhausted. */
static void test_seed_lowswap_free_columns(void)
{
    struct mw_meminfo mi;
    CHECK_EQ_INT(read_fixture("seed-5g6-lowswap", &mi, NULL), 0);
    struct mw_free f;
    mw_free_compute(&mi, 0, &f);
    CHECK_EQ_U64(f.total, 5630104ull * 1024);
    CHECK_EQ_U64(f.available, 864172ull * 1024);
    CHECK_EQ_U64(f.used, (5630104ull - 864172) * 1024);
    CHECK_EQ_U64(f.free, 148928ull * 1024);
    CHECK_EQ_U64(f.shared, 7284ull * 1024);
    CHECK_EQ_U64(f.buff_cache, (28464ull + 1003144 + 72320) * 1024);
    CHECK_EQ_U64(f.swap_total, 2097148ull * 1024);
    CHECK_EQ_U64(f.swap_used, (2097148ull - 42576) * 1024);
    CHECK(!f.available_estimated);
}

static void verdict_of(const char *dir, struct mw_verdict *v)
{
    struct mw_meminfo mi;
    memset(v, 0, sizeof(*v));
    CHECK_EQ_INT(read_fixture(dir, &mi, NULL), 0);
    struct mw_free f;
    struct mw_cache_split cs;
    mw_free_compute(&mi, 0, &f);
    mw_cache_split_compute(&mi, &cs);
    struct mw_verdict_input in;
    mw_verdict_input_machine(&mi, &f, &cs, NULL, &in);
    mw_verdict_compute(&in, v);
}

/* status's cache line names its parts: they add up to the total (issue
 * 26: "650 MiB reclaimable (file pages 550 MiB, slab 204 MiB)", the dirty
 * pages taken out without a word). */
static void test_cache_split_adds_up(void)
{
    struct mw_meminfo mi;
    memset(&mi, 0, sizeof(mi));
    mi.kb[MI_ACTIVE_FILE] = 300 << 10;
    mi.kb[MI_INACTIVE_FILE] = 250 << 10;
    mi.kb[MI_SRECLAIMABLE] = 204 << 10;
    mi.kb[MI_DIRTY] = 100 << 10;
    mi.kb[MI_WRITEBACK] = 4 << 10;
    struct mw_cache_split cs;
    mw_cache_split_compute(&mi, &cs);
    CHECK_EQ_U64(cs.dirty_taken, 104ull << 20);
    CHECK_EQ_U64(cs.reclaimable_total, 650ull << 20);
    CHECK_EQ_U64(cs.file_reclaimable + cs.slab_reclaimable - cs.dirty_taken, cs.reclaimable_total);
    /* more dirty than file pages (tmpfs writeback, a count caught mid-way):
     * only the file pages are taken out */
    mi.kb[MI_DIRTY] = 900 << 10;
    mw_cache_split_compute(&mi, &cs);
    CHECK_EQ_U64(cs.dirty_taken, 550ull << 20);
    CHECK_EQ_U64(cs.reclaimable_total, 204ull << 20);
}

static void test_seed_lowswap_verdict(void)
{
    struct mw_verdict v;
    verdict_of("seed-5g6-lowswap", &v);
    CHECK_EQ_INT(v.level, MW_LEVEL_LOW);
    CHECK_STR(v.text, "low memory: available 15 % and swap 98 % used");
}

/* The 480 MB device of the lmkd seed: plenty free, 30 MB of slab. */
static void test_seed_slab_verdict(void)
{
    struct mw_verdict v;
    verdict_of("seed-480m-slab", &v);
    CHECK_EQ_INT(v.level, MW_LEVEL_OK);
    CHECK_STR(v.text, "no pressure: 19.9 MiB of cache is reclaimable");
    CHECK_EQ_INT(v.nr_notes, 1);
    CHECK_CONTAINS(v.notes[0], "slab holds 29.8 MiB (6 % of RAM, 16.2 MiB unreclaimable)");
}

/* Kernels before 3.14 have no MemAvailable: estimate it as the kernel's
 * si_mem_available() does. low = 5488 * 5/4 = 6860 kB;
 * 111004 - 6860 + (400808 - 6860) + (60204 - 6860) = 551436 kB. */
static void test_estimate_without_memavailable(void)
{
    struct mw_meminfo mi;
    CHECK_EQ_INT(read_fixture("old-kernel-3.10", &mi, NULL), 0);
    CHECK(!mi.have[MI_MEM_AVAILABLE]);
    struct mw_free f;
    mw_free_compute(&mi, 5488 * 5 / 4, &f);
    CHECK(f.available_estimated);
    CHECK_EQ_U64(f.available, 551436ull * 1024);
    CHECK_EQ_U64(f.used, (1882064ull - 551436) * 1024);
}

static void test_host_capture(void)
{
    struct mw_meminfo mi;
    CHECK_EQ_INT(read_fixture("host-24g", &mi, NULL), 0);
    CHECK_EQ_U64(mi.kb[MI_MEM_TOTAL], 24684084);
    CHECK(mi.have[MI_MEM_AVAILABLE]);
    CHECK(mi.have[MI_KRECLAIMABLE]);
    struct mw_cache_split cs;
    mw_cache_split_compute(&mi, &cs);
    CHECK_EQ_U64(cs.shmem, mi.kb[MI_SHMEM] * 1024);
    CHECK_EQ_U64(cs.unreclaimable_total,
                 cs.shmem + cs.slab_unreclaimable + cs.kernel_stack + cs.page_tables);
}

static void test_hostile(void)
{
    struct mw_meminfo mi;
    int bad = 0;
    CHECK_EQ_INT(read_fixture("hostile-empty", &mi, &bad), -ENODATA);
    bad = 0;
    CHECK_EQ_INT(read_fixture("hostile-truncated", &mi, &bad), -EINVAL);
    CHECK_EQ_INT(bad, 4);
    bad = 0;
    CHECK_EQ_INT(read_fixture("hostile-garbage", &mi, &bad), -EINVAL);
    CHECK_EQ_INT(bad, 1);
    /* Unknown lines and no trailing newline are fine. */
    CHECK_EQ_INT(mw_meminfo_parse_buf(&mi, "Foo: bar\nMemTotal: 100 kB", NULL), 0);
    CHECK_EQ_U64(mi.kb[MI_MEM_TOTAL], 100);
    CHECK_EQ_INT(mw_meminfo_parse_buf(&mi, "MemTotal: 99999999999999999999999 kB\n", &bad),
                 -EINVAL);
    /* A field name that is only a prefix of a known one is not that field. */
    CHECK_EQ_INT(mw_meminfo_parse_buf(&mi, "MemTotal: 8 kB\nMemFreeX: 5 kB\n", NULL), 0);
    CHECK(!mi.have[MI_MEM_FREE]);
}

/* Free columns never underflow when fields are sampled inconsistently. */
static void test_inconsistent_fields(void)
{
    struct mw_meminfo mi;
    CHECK_EQ_INT(mw_meminfo_parse_buf(&mi,
                                      "MemTotal: 1000 kB\nMemFree: 900 kB\nMemAvailable: 1200 kB\n"
                                      "SwapTotal: 10 kB\nSwapFree: 20 kB\n",
                                      NULL),
                 0);
    struct mw_free f;
    mw_free_compute(&mi, 0, &f);
    CHECK_EQ_U64(f.used, 100 * 1024);
    CHECK_EQ_U64(f.swap_used, 0);
}

static void test_dumpsys(void)
{
    struct mw_meminfo mi;
    CHECK_EQ_INT(read_fixture("seed-5g6-lowswap", &mi, NULL), 0);
    struct mw_pss_totals pss = {
        .pss = 4000000ull * 1024, .swap_pss = 500000ull * 1024, .cached_pss = 300000ull * 1024};
    struct mw_dumpsys d;
    mw_dumpsys_compute(&mi, &pss, 2608ull * 1024, &d);
    /* cached = Buffers + SReclaimable + Cached - Mapped = 28464+72320+1003144-996768 */
    CHECK_EQ_U64(d.cached_kernel, 107160ull * 1024);
    /* kernel = Shmem + SUnreclaim + VmallocUsed + PageTables + KernelStack */
    CHECK_EQ_U64(d.kernel, (7284ull + 234120 + 0 + 107572 + 89776) * 1024);
    CHECK_EQ_U64(d.free_ram, (300000ull + 107160 + 148928) * 1024);
    CHECK_EQ_U64(d.used_ram, (3700000ull + 438752) * 1024);
    CHECK_EQ_INT(d.lost_ram, (5630104ll - 3500000 - 148928 - 107160 - 438752 - 2608) * 1024);
}

int main(void)
{
    RUN(test_seed_lowswap_free_columns);
    RUN(test_seed_lowswap_verdict);
    RUN(test_cache_split_adds_up);
    RUN(test_seed_slab_verdict);
    RUN(test_estimate_without_memavailable);
    RUN(test_host_capture);
    RUN(test_hostile);
    RUN(test_inconsistent_fields);
    RUN(test_dumpsys);
    return TESTS_DONE();
}
