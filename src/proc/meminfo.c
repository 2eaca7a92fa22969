#include "proc/meminfo.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[MI_FIELD_COUNT] = {
    [MI_MEM_TOTAL] = "MemTotal",
    [MI_MEM_FREE] = "MemFree",
    [MI_MEM_AVAILABLE] = "MemAvailable",
    [MI_BUFFERS] = "Buffers",
    [MI_CACHED] = "Cached",
    [MI_SWAP_CACHED] = "SwapCached",
    [MI_ACTIVE] = "Active",
    [MI_INACTIVE] = "Inactive",
    [MI_ACTIVE_ANON] = "Active(anon)",
    [MI_INACTIVE_ANON] = "Inactive(anon)",
    [MI_ACTIVE_FILE] = "Active(file)",
    [MI_INACTIVE_FILE] = "Inactive(file)",
    [MI_UNEVICTABLE] = "Unevictable",
    [MI_MLOCKED] = "Mlocked",
    [MI_SWAP_TOTAL] = "SwapTotal",
    [MI_SWAP_FREE] = "SwapFree",
    [MI_ZSWAP] = "Zswap",
    [MI_ZSWAPPED] = "Zswapped",
    [MI_DIRTY] = "Dirty",
    [MI_WRITEBACK] = "Writeback",
    [MI_ANON_PAGES] = "AnonPages",
    [MI_MAPPED] = "Mapped",
    [MI_SHMEM] = "Shmem",
    [MI_KRECLAIMABLE] = "KReclaimable",
    [MI_SLAB] = "Slab",
    [MI_SRECLAIMABLE] = "SReclaimable",
    [MI_SUNRECLAIM] = "SUnreclaim",
    [MI_KERNEL_STACK] = "KernelStack",
    [MI_PAGE_TABLES] = "PageTables",
    [MI_SEC_PAGE_TABLES] = "SecPageTables",
    [MI_COMMIT_LIMIT] = "CommitLimit",
    [MI_COMMITTED_AS] = "Committed_AS",
    [MI_VMALLOC_USED] = "VmallocUsed",
    [MI_PERCPU] = "Percpu",
    [MI_ANON_HUGE_PAGES] = "AnonHugePages",
    [MI_SHMEM_HUGE_PAGES] = "ShmemHugePages",
    [MI_CMA_TOTAL] = "CmaTotal",
    [MI_CMA_FREE] = "CmaFree",
    [MI_HUGEPAGES_TOTAL] = "HugePages_Total",
    [MI_HUGEPAGESIZE] = "Hugepagesize",
    [MI_HUGETLB] = "Hugetlb",
};

const char *mw_meminfo_name(enum mw_mi_field f)
{
    return (unsigned)f < MI_FIELD_COUNT ? field_names[f] : "?";
}

/* The index of NAME (LEN bytes) among field_names, or -1. The kernel
 * writes the lines in the table's order: the search starts after the
 * last match (*HINT), and compares lengths before bytes. The daemon
 * parses the file at every sample (every 10 ms near the limit): a search
 * from the start with a strlen per name took 12 of the 20 us of a read
 * and parse on the build host (issue 27). */
static int field_by_name(const char *name, size_t len, int *hint)
{
    static unsigned char field_len[MI_FIELD_COUNT];
    if (field_len[0] == 0)
        for (int i = 0; i < MI_FIELD_COUNT; i++)
            field_len[i] = (unsigned char)strlen(field_names[i]);
    for (int k = 0; k < MI_FIELD_COUNT; k++) {
        int i = (*hint + k) % MI_FIELD_COUNT;
        if (field_len[i] == len && field_names[i][0] == name[0] &&
            memcmp(field_names[i], name, len) == 0) {
            *hint = i + 1;
            return i;
        }
    }
    return -1;
}

/*
 * A line of /proc/meminfo:
 *   MemAvailable:   24397988 kB
 *   HugePages_Total:       0
 */
int mw_meminfo_parse_buf(struct mw_meminfo *out, const char *buf, int *bad_line)
{
    struct mw_meminfo mi;
    memset(&mi, 0, sizeof(mi));
    int line = 0, hint = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        const char *eol = p + len;
        line++;
        const char *colon = memchr(p, ':', len);
        if (colon) {
            int f = field_by_name(p, (size_t)(colon - p), &hint);
            if (f >= 0) {
                const char *q = colon + 1;
                uint64_t v;
                if (mw_scan_u64(&q, &v) < 0 || q > eol) {
                    if (bad_line)
                        *bad_line = line;
                    return -EINVAL;
                }
                mi.kb[f] = v;
                mi.have[f] = true;
            }
        }
    }
    if (!mi.have[MI_MEM_TOTAL] || mi.kb[MI_MEM_TOTAL] == 0)
        return -ENODATA;
    *out = mi;
    return 0;
}

static bool all_name_ok(const char *p, size_t n)
{
    if (n == 0 || n >= sizeof(((struct mw_meminfo_field *)0)->name))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && !strchr("_()", p[i]))
            return false;
    return true;
}

/* "Name:   N kB" or "Name:   N": the value and whether kB follows; false
 * for anything else after the number. */
static bool all_value(const char *q, const char *eol, uint64_t *v, bool *kb)
{
    if (mw_scan_u64(&q, v) < 0 || q > eol)
        return false;
    while (q < eol && *q == ' ')
        q++;
    *kb = eol - q >= 2 && q[0] == 'k' && q[1] == 'B';
    if (*kb)
        q += 2;
    while (q < eol && *q == ' ')
        q++;
    return q == eol;
}

/* The same lines as mw_meminfo_parse_buf, every one of them. */
int mw_meminfo_parse_all_buf(struct mw_meminfo_all *out, const char *buf, int *skipped)
{
    const char *c = buf, *p;
    size_t len;
    int bad = 0;
    out->n = 0;
    while (mw_next_line(&c, &p, &len)) {
        const char *colon = memchr(p, ':', len);
        struct mw_meminfo_field fl;
        if (!colon || !all_name_ok(p, (size_t)(colon - p)) || out->n == MW_MEMINFO_MAX_FIELDS ||
            !all_value(colon + 1, p + len, &fl.value, &fl.kb)) {
            bad += len > 0;
            continue;
        }
        memcpy(fl.name, p, (size_t)(colon - p));
        fl.name[colon - p] = '\0';
        out->f[out->n++] = fl;
    }
    if (skipped)
        *skipped = bad;
    return out->n;
}

int mw_meminfo_read(const struct mw_root *root, struct mw_meminfo *out, int *bad_line)
{
    char *buf;
    int rc = mw_read_file(root, "/proc/meminfo", &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_meminfo_parse_buf(out, buf, bad_line);
    free(buf);
    return rc;
}

uint64_t mw_meminfo_bytes(const struct mw_meminfo *mi, enum mw_mi_field f)
{
    return mi->kb[f] * 1024u;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

void mw_free_compute(const struct mw_meminfo *mi, uint64_t low_wmark_kb, struct mw_free *out)
{
    const uint64_t *kb = mi->kb;
    struct mw_free f;
    memset(&f, 0, sizeof(f));
    uint64_t avail_kb;
    if (mi->have[MI_MEM_AVAILABLE]) {
        avail_kb = kb[MI_MEM_AVAILABLE];
    } else {
        /* The kernel's si_mem_available(), as procps applied it before 3.14. */
        uint64_t low = low_wmark_kb;
        uint64_t file = kb[MI_ACTIVE_FILE] + kb[MI_INACTIVE_FILE];
        uint64_t sr = kb[MI_SRECLAIMABLE];
        int64_t a = (int64_t)kb[MI_MEM_FREE] - (int64_t)low;
        a += (int64_t)(file - min_u64(file / 2, low));
        a += (int64_t)(sr - min_u64(sr / 2, low));
        avail_kb = a > 0 ? (uint64_t)a : 0;
        if (avail_kb > kb[MI_MEM_TOTAL])
            avail_kb = kb[MI_MEM_TOTAL];
        f.available_estimated = true;
    }
    f.total = kb[MI_MEM_TOTAL] * 1024;
    f.free = kb[MI_MEM_FREE] * 1024;
    f.shared = kb[MI_SHMEM] * 1024;
    f.buffers = kb[MI_BUFFERS] * 1024;
    f.cache = (kb[MI_CACHED] + kb[MI_SRECLAIMABLE]) * 1024;
    f.buff_cache = f.buffers + f.cache;
    f.available = avail_kb * 1024;
    /* procps-ng 4: used = total - available; when that underflows it falls
     * back to total - free. */
    f.used = f.total >= f.available ? f.total - f.available : mw_sub0(f.total, f.free);
    f.swap_total = kb[MI_SWAP_TOTAL] * 1024;
    f.swap_free = min_u64(kb[MI_SWAP_FREE], kb[MI_SWAP_TOTAL]) * 1024;
    f.swap_used = f.swap_total - f.swap_free;
    *out = f;
}

void mw_cache_split_compute(const struct mw_meminfo *mi, struct mw_cache_split *out)
{
    const uint64_t *kb = mi->kb;
    struct mw_cache_split s;
    memset(&s, 0, sizeof(s));
    /* Shmem pages sit on the anon LRU since 2.6.28, so the file LRU is the
     * page cache that reclaim can drop or write back. */
    s.file_reclaimable = (kb[MI_ACTIVE_FILE] + kb[MI_INACTIVE_FILE]) * 1024;
    s.slab_reclaimable = kb[MI_SRECLAIMABLE] * 1024;
    s.shmem = kb[MI_SHMEM] * 1024;
    s.dirty_writeback = (kb[MI_DIRTY] + kb[MI_WRITEBACK]) * 1024;
    s.slab_unreclaimable = kb[MI_SUNRECLAIM] * 1024;
    s.kernel_stack = kb[MI_KERNEL_STACK] * 1024;
    s.page_tables = (kb[MI_PAGE_TABLES] + kb[MI_SEC_PAGE_TABLES]) * 1024;
    s.dirty_taken = min_u64(s.dirty_writeback, s.file_reclaimable);
    s.reclaimable_total = s.file_reclaimable + s.slab_reclaimable - s.dirty_taken;
    s.unreclaimable_total = s.shmem + s.slab_unreclaimable + s.kernel_stack + s.page_tables;
    *out = s;
}

void mw_dumpsys_compute(const struct mw_meminfo *mi, const struct mw_pss_totals *pss,
                        uint64_t zram_used_bytes, struct mw_dumpsys *out)
{
    const uint64_t *kb = mi->kb;
    struct mw_dumpsys d;
    memset(&d, 0, sizeof(d));
    uint64_t total = kb[MI_MEM_TOTAL] * 1024;
    uint64_t free_b = kb[MI_MEM_FREE] * 1024;
    d.cached_kernel = mw_sub0((kb[MI_BUFFERS] + kb[MI_SRECLAIMABLE] + kb[MI_CACHED]) * 1024,
                              kb[MI_MAPPED] * 1024);
    d.kernel = (kb[MI_SHMEM] + kb[MI_SUNRECLAIM] + kb[MI_VMALLOC_USED] + kb[MI_PAGE_TABLES] +
                kb[MI_KERNEL_STACK]) *
               1024;
    d.total_ram = total;
    if (pss) {
        d.have_pss = true;
        d.free_ram = pss->cached_pss + d.cached_kernel + free_b;
        d.used_ram = mw_sub0(pss->pss, pss->cached_pss) + d.kernel;
        d.lost_ram = (int64_t)total - (int64_t)mw_sub0(pss->pss, pss->swap_pss) - (int64_t)free_b -
                     (int64_t)d.cached_kernel - (int64_t)d.kernel - (int64_t)zram_used_bytes;
    } else {
        d.free_ram = d.cached_kernel + free_b;
        d.used_ram = kb[MI_ANON_PAGES] * 1024 + kb[MI_MAPPED] * 1024 + d.kernel;
    }
    *out = d;
}
