/* meminfo: /proc/meminfo, and the numbers `free` and `dumpsys meminfo`
 * derive from it. */
#ifndef MW_MEMINFO_H
#define MW_MEMINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

/* The fields memwarden uses. Values are kB as the file gives them. */
enum mw_mi_field {
    MI_MEM_TOTAL,
    MI_MEM_FREE,
    MI_MEM_AVAILABLE,
    MI_BUFFERS,
    MI_CACHED,
    MI_SWAP_CACHED,
    MI_ACTIVE,
    MI_INACTIVE,
    MI_ACTIVE_ANON,
    MI_INACTIVE_ANON,
    MI_ACTIVE_FILE,
    MI_INACTIVE_FILE,
    MI_UNEVICTABLE,
    MI_MLOCKED,
    MI_SWAP_TOTAL,
    MI_SWAP_FREE,
    MI_ZSWAP,
    MI_ZSWAPPED,
    MI_DIRTY,
    MI_WRITEBACK,
    MI_ANON_PAGES,
    MI_MAPPED,
    MI_SHMEM,
    MI_KRECLAIMABLE,
    MI_SLAB,
    MI_SRECLAIMABLE,
    MI_SUNRECLAIM,
    MI_KERNEL_STACK,
    MI_PAGE_TABLES,
    MI_SEC_PAGE_TABLES,
    MI_COMMIT_LIMIT,
    MI_COMMITTED_AS,
    MI_VMALLOC_USED,
    MI_PERCPU,
    MI_ANON_HUGE_PAGES,
    MI_SHMEM_HUGE_PAGES,
    MI_CMA_TOTAL,
    MI_CMA_FREE,
    MI_HUGEPAGES_TOTAL, /* a count of pages, not kB */
    MI_HUGEPAGESIZE,
    MI_HUGETLB,
    MI_FIELD_COUNT
};

struct mw_meminfo {
    uint64_t kb[MI_FIELD_COUNT];
    bool have[MI_FIELD_COUNT];
};

/* Name of a field as /proc/meminfo spells it ("MemTotal", "Active(file)"). */
const char *mw_meminfo_name(enum mw_mi_field f);

/* Parses the text of /proc/meminfo. Unknown lines are ignored; a line that
 * names a known field but has no number is an error: *bad_line (may be
 * NULL) gets its 1-based number and -EINVAL is returned. MemTotal missing
 * is -ENODATA. Returns 0 on success; OUT is untouched on failure. */
int mw_meminfo_parse_buf(struct mw_meminfo *out, const char *buf, int *bad_line);

/* Reads and parses ROOT/proc/meminfo. Returns 0 or -errno as above. */
int mw_meminfo_read(const struct mw_root *root, struct mw_meminfo *out, int *bad_line);

/* Every field of /proc/meminfo as the kernel gives it, in its order: the
 * named fields above are those memwarden computes with; this is for the
 * exporters (metrics), which owe every field, those of kernels still to
 * come too. */
#define MW_MEMINFO_MAX_FIELDS 128
struct mw_meminfo_field {
    char name[32]; /* as the file spells it: "Active(file)", "HugePages_Free" */
    uint64_t value;
    bool kb; /* the line says "kB" (a size); else a count (HugePages_*) */
};
struct mw_meminfo_all {
    int n;
    struct mw_meminfo_field f[MW_MEMINFO_MAX_FIELDS];
};

/* Parses every "Name: N" or "Name: N kB" line of BUF into OUT, in order.
 * A line whose name is not 1-31 of [A-Za-z0-9_()], or whose value is not
 * a number with nothing or "kB" after it, is skipped and counted in
 * *SKIPPED (may be NULL); fields past MW_MEMINFO_MAX_FIELDS too. Returns
 * the field count (0: none; OUT then has n 0). Pure. */
int mw_meminfo_parse_all_buf(struct mw_meminfo_all *out, const char *buf, int *skipped);

/* Value of field F in bytes (0 when absent). */
uint64_t mw_meminfo_bytes(const struct mw_meminfo *mi, enum mw_mi_field f);

/* The six columns of procps-ng 4 `free`, in bytes, computed as it does:
 *   buff_cache = Buffers + Cached + SReclaimable
 *   used       = MemTotal - MemAvailable (MemTotal - MemFree if negative)
 *   shared     = Shmem.  */
struct mw_free {
    uint64_t total, used, free, shared, buffers, cache, buff_cache, available;
    uint64_t swap_total, swap_used, swap_free;
    bool available_estimated; /* the kernel has no MemAvailable (< 3.14) */
};

/* Computes the `free` view. When MemAvailable is absent it is estimated as
 * the kernel's si_mem_available() does (and procps did):
 *   free - low + file - min(file/2, low) + SReclaimable - min(SReclaimable/2, low)
 * with LOW_WMARK_KB the sum of the zones' low watermarks (or
 * min_free_kbytes * 5/4 when zoneinfo is unreadable; pass 0 if unknown). */
void mw_free_compute(const struct mw_meminfo *mi, uint64_t low_wmark_kb, struct mw_free *out);

/* Where buff/cache goes: what reclaim can take and what it cannot. */
struct mw_cache_split {
    uint64_t file_reclaimable; /* Active(file)+Inactive(file) - Shmem-in-LRU... see .c */
    uint64_t slab_reclaimable; /* SReclaimable */
    uint64_t shmem;            /* tmpfs, /dev/shm, SysV: looks like cache, is not */
    uint64_t dirty_writeback;  /* reclaimable only after I/O */
    uint64_t slab_unreclaimable, kernel_stack, page_tables; /* kernel, not reclaimable */
    uint64_t dirty_taken;         /* the dirty/writeback taken out of the file pages */
    uint64_t reclaimable_total;   /* file + slab reclaimable - dirty_taken */
    uint64_t unreclaimable_total; /* shmem + slab unreclaimable + stacks + page tables */
};

/* Splits buff/cache and kernel memory; all in bytes. */
void mw_cache_split_compute(const struct mw_meminfo *mi, struct mw_cache_split *out);

/* Android `dumpsys meminfo` summary (ActivityManagerService's formulas):
 *   cached     = Buffers + SReclaimable + Cached - Mapped
 *   kernel     = Shmem + SUnreclaim + VmallocUsed + PageTables + KernelStack
 *   Free RAM   = cached_pss + cached + MemFree
 *   Used RAM   = (total_pss - cached_pss) + kernel
 *   Lost RAM   = MemTotal - (total_pss - swap_pss) - MemFree - cached - kernel - zram
 * where cached_pss is the PSS of processes at oom_score_adj >= 900. Without
 * per-process PSS (not root, captured tree without processes), anonymous
 * pages stand in for total_pss and Lost RAM is not computed. */
struct mw_dumpsys {
    uint64_t total_ram, free_ram, used_ram, cached_kernel, kernel;
    int64_t lost_ram;
    bool have_pss; /* false: used_ram counts AnonPages, lost_ram is 0 */
};

/* Per-process totals the dumpsys view needs, in bytes. */
struct mw_pss_totals {
    uint64_t pss, swap_pss, cached_pss;
};

/* Computes the dumpsys view. PSS may be NULL. ZRAM_USED_BYTES is the
 * physical memory zram uses (mm_stat mem_used_total). */
void mw_dumpsys_compute(const struct mw_meminfo *mi, const struct mw_pss_totals *pss,
                        uint64_t zram_used_bytes, struct mw_dumpsys *out);

#endif
