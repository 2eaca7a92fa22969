#include "analysis/doctor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "model/daemonstate.h"
#include "proc/cgroup.h"
#include "proc/procs.h"
#include "proc/psi.h"
#include "proc/vmstat.h"

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)

/* The sources, named once. */
static const char SRC_VMRST[] = "kernel Documentation/admin-guide/sysctl/vm.rst";
static const char SRC_RECIPE[] = "zram recipe (swappiness=180, watermark_boost_factor=0, "
                                 "watermark_scale_factor=125, page-cluster=0)";
static const char SRC_ZRAMGEN[] = "zram-generator / Fedora defaults (min(ram/2, 4 GiB), prio 100)";
static const char SRC_LMKD[] = "lmkd seed: min_free_kbytes = 4*sqrt(lowmem kB), low = 5/4 min, "
                               "high = 3/2 min";
static const char SRC_RK3588[] = "RK3588 seed (zram lz4 1 GiB priority 10, dirty 15/5)";
static const char SRC_MGLRU[] = "kernel Documentation/admin-guide/mm/multigen_lru.rst";
static const char SRC_THP[] = "kernel Documentation/admin-guide/mm/transhuge.rst";
static const char SRC_PSI[] = "kernel Documentation/accounting/psi.rst";
static const char SRC_MW[] = "memwarden (issue 11; the seeds' devices)";
static const char SRC_CG[] = "kernel Documentation/admin-guide/cgroup-v2.rst";

static void __attribute__((format(printf, 3, 4))) put(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* Appends a check (the last slot is reused when full: never happens with
 * the checks below, MW_DOC_MAX leaves room). */
static struct mw_doc_check *add(struct mw_doc_report *r, const char *id, const char *what,
                                const char *source)
{
    struct mw_doc_check *c = &r->c[r->n < MW_DOC_MAX ? r->n++ : MW_DOC_MAX - 1];
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->what = what;
    c->source = source;
    c->verdict = MW_DOC_OK;
    return c;
}

static void na(struct mw_doc_check *c, const char *why)
{
    c->verdict = MW_DOC_NA;
    put(c->value, sizeof(c->value), "n/a: %s", why);
}

static char *sz(char *buf, uint64_t v)
{
    return mw_fmt_size(buf, 32, v);
}

static uint64_t kb(const struct mw_doc_in *in, enum mw_mi_field f)
{
    return in->mi.have[f] ? in->mi.kb[f] : 0;
}

/* Swap kind: bytes of zram swap and of other swap, from /proc/swaps. */
static void swap_kinds(const struct mw_doc_in *in, uint64_t *zram, uint64_t *disk)
{
    *zram = *disk = 0;
    for (int i = 0; in->have_swaps && i < in->swaps.count; i++) {
        const struct mw_swap_dev *d = &in->swaps.dev[i];
        if (strstr(d->name, "/zram"))
            *zram += d->size_kb * 1024;
        else
            *disk += d->size_kb * 1024;
    }
}

static void check_swap(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "swap", "swap / zram present", SRC_ZRAMGEN);
    const struct mw_profile_spec *p = mw_profile_get(r->profile);
    uint64_t ram = kb(in, MI_MEM_TOTAL) * 1024, zram, disk, total = kb(in, MI_SWAP_TOTAL) * 1024;
    uint64_t used = mw_sub0(total, kb(in, MI_SWAP_FREE) * 1024);
    char a[32], b[32], d[32];
    swap_kinds(in, &zram, &disk);
    if (total == 0) {
        put(c->value, sizeof(c->value), "none");
        c->verdict = MW_DOC_ADVICE;
        uint64_t want = mw_profile_zram_size(mw_profile_get(MW_PROFILE_SMALL), ram / 1024);
        if (p->zram_pct)
            want = mw_profile_zram_size(p, ram / 1024);
        put(c->fix, sizeof(c->fix), "memwarden zram setup --size %lluM --algo %s --priority %d",
            (unsigned long long)(want / MIB), p->zram_algo[0] ? p->zram_algo : "lz4",
            p->zram_priority ? p->zram_priority : 100);
        put(c->reason, sizeof(c->reason),
            "without swap, anonymous memory that is touched once (leaked, idle) stays in RAM "
            "and reclaim can only drop file cache: the thrashing starts earlier");
        return;
    }
    put(c->value, sizeof(c->value), "%s (%.0f%% of RAM: zram %s, other %s), %.0f%% used",
        sz(a, total), mw_pct(total, ram), sz(b, zram), sz(d, disk), mw_pct(used, total));
    if (mw_pct(used, total) >= 90) {
        c->verdict = MW_DOC_PROBLEM;
        c->source = SRC_MW;
        put(c->fix, sizeof(c->fix),
            "memwarden top   # find who holds it; then a killer "
            "(memwarden daemon) or more swap");
        put(c->reason, sizeof(c->reason),
            "swap nearly full: the next burst has nowhere to go but the OOM killer (the 5.6 GB "
            "seed device at 98%% swap used)");
    } else {
        put(c->reason, sizeof(c->reason), "swap present and not near full");
    }
}

static void check_zram(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "zram", "zram size, algorithm, ratio", SRC_ZRAMGEN);
    uint64_t ram = kb(in, MI_MEM_TOTAL) * 1024, disk = 0, orig = 0, compr = 0, used = 0;
    const char *algo = "";
    int n = 0;
    char a[32], b[32], d[32];
    for (int i = 0; i < in->zram.count; i++) {
        const struct mw_zram_dev *z = &in->zram.dev[i];
        if (!z->disksize)
            continue;
        n++;
        disk += z->disksize;
        orig += z->orig_data_size;
        compr += z->compr_data_size;
        used += z->mem_used_total;
        algo = z->algorithm;
    }
    if (n == 0) {
        na(c, in->zram.count ? "zram devices exist but none is set up" : "no zram device");
        return;
    }
    double ratio = compr ? (double)orig / (double)compr : 0;
    put(c->value, sizeof(c->value), "%d dev, %s (%.0f%% of RAM), %s, %.2f:1 (%s in %s)", n,
        sz(a, disk), mw_pct(disk, ram), algo[0] ? algo : "?", ratio, sz(b, orig), sz(d, used));
    if (mw_pct(disk, ram) < 10) {
        c->verdict = MW_DOC_ADVICE;
        put(c->reason, sizeof(c->reason),
            "below 10%% of RAM the zram swap fills before it helps; zram-generator uses "
            "ram/2, the RK3588 seed 1 GiB on 4 GB");
    } else if (mw_pct(disk, ram) > 200) {
        c->verdict = MW_DOC_ADVICE;
        put(c->reason, sizeof(c->reason),
            "above 200%% of RAM, at a typical 2-3:1 ratio the compressed data alone would "
            "fill RAM");
    } else if (orig >= 16 * MIB && ratio < 1.5) {
        c->verdict = MW_DOC_ADVICE;
        put(c->reason, sizeof(c->reason),
            "ratio below 1.5:1 on %s stored: the data is poorly compressible (encrypted, "
            "media) or the algorithm weak; lz4 reaches ~2:1, zstd ~3:1 on typical anon pages",
            sz(a, orig));
    } else {
        put(c->reason, sizeof(c->reason), "sized between 10%% and 200%% of RAM%s",
            orig >= 16 * MIB ? ", compressing well" : " (too little data to judge the ratio)");
    }
    if (c->verdict != MW_DOC_OK)
        put(c->fix, sizeof(c->fix), "memwarden zram setup --size 50%% --force");
}

static void check_swappiness(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "swappiness", "vm.swappiness for the swap kind", SRC_VMRST);
    if (!in->vm.have[VM_SWAPPINESS]) {
        na(c, "no /proc/sys/vm/swappiness");
        return;
    }
    int64_t v = in->vm.value[VM_SWAPPINESS];
    uint64_t zram, disk;
    swap_kinds(in, &zram, &disk);
    const struct mw_profile_spec *p = mw_profile_get(r->profile);
    const char *kind = zram && !disk   ? "zram"
                       : disk && !zram ? "disk"
                       : zram          ? "zram+disk"
                                       : "none";
    put(c->value, sizeof(c->value), "%" PRId64 " (swap: %s)", v, kind);
    if (zram && !disk && v < 100) {
        c->verdict = MW_DOC_ADVICE;
        c->source = SRC_RECIPE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.swappiness=%d",
            p->swappiness >= 100 ? p->swappiness : 100);
        put(c->reason, sizeof(c->reason),
            "zram swap-in is a decompression, cheaper than a file read from flash: vm.rst says "
            "values above 100 suit swap faster than the file system; the recipe uses 180 "
            "(followed for <= 1 GiB and desktops; 100 for 1-4 GiB boards)");
    } else if (disk && !zram && v > 100) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.swappiness=60");
        put(c->reason, sizeof(c->reason),
            "swap on disk is slower than re-reading files: values above 100 make reclaim "
            "prefer the slow side");
    } else {
        put(c->reason, sizeof(c->reason), "fits the swap kind");
    }
}

static void check_page_cluster(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "page_cluster", "vm.page-cluster (swap readahead)", SRC_RECIPE);
    uint64_t zram, disk;
    swap_kinds(in, &zram, &disk);
    if (!in->vm.have[VM_PAGE_CLUSTER]) {
        na(c, "no /proc/sys/vm/page-cluster");
        return;
    }
    int64_t v = in->vm.value[VM_PAGE_CLUSTER];
    put(c->value, sizeof(c->value), "%" PRId64 " (%d page%s per swap-in)", v, 1 << (v & 15),
        v ? "s" : "");
    if (zram && !disk && v != 0) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.page-cluster=0");
        put(c->reason, sizeof(c->reason),
            "readahead exists to amortise disk seeks; zram has none, so the extra pages are "
            "decompressed for nothing (vm.rst: 0 for swap without seek cost)");
    } else {
        put(c->reason, sizeof(c->reason), zram ? "0 on zram" : "readahead helps disk swap");
    }
}

static void check_min_free(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "min_free_kbytes", "vm.min_free_kbytes, watermarks", SRC_LMKD);
    if (!in->vm.have[VM_MIN_FREE_KBYTES]) {
        na(c, "no /proc/sys/vm/min_free_kbytes");
        return;
    }
    uint64_t v = (uint64_t)in->vm.value[VM_MIN_FREE_KBYTES], ram_kb = kb(in, MI_MEM_TOTAL);
    uint64_t want = mw_default_min_free_kbytes(ram_kb, in->min_free_cap_kb);
    char a[32], b[32], d[32];
    if (in->have_zi)
        put(c->value, sizeof(c->value), "%" PRIu64 " (formula %" PRIu64 "); min %s low %s high %s",
            v, want, sz(a, in->zi.min * in->page_size), sz(b, in->zi.low * in->page_size),
            sz(d, in->zi.high * in->page_size));
    else
        put(c->value, sizeof(c->value),
            "%" PRIu64 " (formula %" PRIu64 "; low %" PRIu64 " high %" PRIu64 " kB)", v, want,
            v * 5 / 4, v * 3 / 2);
    if (v < want * 3 / 4) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.min_free_kbytes=%" PRIu64, want);
        put(c->reason, sizeof(c->reason),
            "below the kernel's own default for this RAM: atomic allocations (network, "
            "interrupts) may fail and kswapd starts too late");
    } else if (v * 1024 > ram_kb * 1024 / 20) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.min_free_kbytes=%" PRIu64, want);
        put(c->reason, sizeof(c->reason),
            "more than 5%% of RAM held free for the kernel (the seed's 836787 kB example): "
            "applications get less; low/high (5/4, 3/2 of min) rise with it");
    } else {
        put(c->reason, sizeof(c->reason),
            "near 4*sqrt(RAM kB) (the kernel caps it at 65536, 262144 since 5.7; khugepaged "
            "raises it with THP on)");
    }
}

static void check_watermarks(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c =
        add(r, "watermarks", "vm.watermark_scale_factor / boost_factor", SRC_RECIPE);
    bool hs = in->vm.have[VM_WATERMARK_SCALE_FACTOR], hb = in->vm.have[VM_WATERMARK_BOOST_FACTOR];
    if (!hs && !hb) {
        na(c, "kernel < 4.6 (no watermark_scale_factor)");
        return;
    }
    int64_t s = hs ? in->vm.value[VM_WATERMARK_SCALE_FACTOR] : -1;
    int64_t b = hb ? in->vm.value[VM_WATERMARK_BOOST_FACTOR] : -1;
    uint64_t zram, disk;
    swap_kinds(in, &zram, &disk);
    char bs[24] = "n/a";
    if (hb)
        snprintf(bs, sizeof(bs), "%" PRId64, b);
    put(c->value, sizeof(c->value), "scale %" PRId64 ", boost %s", s, bs);
    bool small = r->profile <= MW_PROFILE_EMBEDDED_4G;
    if (zram && ((hs && small && s < 125) || (hb && b != 0))) {
        c->verdict = MW_DOC_ADVICE;
        size_t o = 0;
        if (hs && small && s < 125)
            o +=
                (size_t)snprintf(c->fix, sizeof(c->fix), "sysctl -w vm.watermark_scale_factor=125");
        if (hb && b != 0)
            snprintf(c->fix + o, sizeof(c->fix) - o, "%ssysctl -w vm.watermark_boost_factor=0",
                     o ? "; " : "");
        put(c->reason, sizeof(c->reason),
            "scale 125 puts 1.25%% of RAM between low and high so kswapd swaps to zram ahead of "
            "the allocations (<= 4 GiB: the default 0.1%% is a few MiB); boost reclaims extra "
            "after fragmentation events, churn zram pays for");
    } else {
        put(c->reason, sizeof(c->reason), zram ? "as the recipe" : "kernel defaults fit disk swap");
    }
}

static void check_overcommit(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "overcommit", "vm.overcommit_memory, commit", SRC_VMRST);
    if (!in->vm.have[VM_OVERCOMMIT_MEMORY]) {
        na(c, "no /proc/sys/vm/overcommit_memory");
        return;
    }
    int64_t m = in->vm.value[VM_OVERCOMMIT_MEMORY];
    uint64_t lim = kb(in, MI_COMMIT_LIMIT) * 1024, as = kb(in, MI_COMMITTED_AS) * 1024;
    char a[32], b[32];
    put(c->value, sizeof(c->value), "mode %" PRId64 ", Committed_AS %s of CommitLimit %s", m,
        sz(a, as), sz(b, lim));
    if (m == 2 && lim && as * 10 > lim * 9) {
        c->verdict = MW_DOC_PROBLEM;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.overcommit_memory=0");
        put(c->reason, sizeof(c->reason),
            "mode 2 refuses allocations past CommitLimit and Committed_AS is above 90%% of it: "
            "malloc and fork are about to fail");
    } else if (m == 1) {
        c->verdict = MW_DOC_ADVICE;
        c->source = SRC_RK3588;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.overcommit_memory=0");
        put(c->reason, sizeof(c->reason),
            "mode 1 (the RK3588 seed's setting, not followed) never refuses: a leak is stopped "
            "only by a kill; mode 0 (kernel default) still refuses the absurd");
    } else {
        put(c->reason, sizeof(c->reason), "heuristic (0) or strict with room");
    }
}

static void check_dirty(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "dirty", "vm.dirty_ratio / dirty_background_ratio", SRC_VMRST);
    if (!in->vm.have[VM_DIRTY_RATIO] || !in->vm.have[VM_DIRTY_BACKGROUND_RATIO]) {
        na(c, "no /proc/sys/vm/dirty_ratio");
        return;
    }
    int64_t d = in->vm.value[VM_DIRTY_RATIO], bg = in->vm.value[VM_DIRTY_BACKGROUND_RATIO];
    uint64_t avail = kb(in, MI_MEM_AVAILABLE) ? kb(in, MI_MEM_AVAILABLE) : kb(in, MI_MEM_TOTAL);
    uint64_t lim = avail * 1024 / 100 * (uint64_t)(d > 0 ? d : 0);
    char a[32];
    put(c->value, sizeof(c->value), "%" PRId64 " / %" PRId64 " (%% of available: up to %s dirty)",
        d, bg, sz(a, lim));
    if (d > 0 && bg >= d) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.dirty_background_ratio=%" PRId64, d / 2);
        put(c->reason, sizeof(c->reason),
            "background writeback at or above the blocking limit: writers block before "
            "the flusher starts (the kernel then uses half of dirty_ratio)");
    } else if (lim > GIB) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "sysctl -w vm.dirty_bytes=%llu vm.dirty_background_bytes=%llu",
            (unsigned long long)(512 * MIB), (unsigned long long)(128 * MIB));
        put(c->reason, sizeof(c->reason),
            "over 1 GiB may be dirty before writers block: at SD/eMMC/USB speeds that is "
            "tens of seconds of stall on sync; vm.rst offers dirty_bytes for large RAM");
    } else {
        put(c->reason, sizeof(c->reason), "dirty limit under 1 GiB");
        if (r->profile == MW_PROFILE_EMBEDDED_4G)
            c->source = SRC_RK3588;
    }
}

static void check_thp(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "thp", "transparent hugepages", SRC_THP);
    if (!in->thp[0]) {
        na(c, "no /sys/kernel/mm/transparent_hugepage/enabled");
        return;
    }
    put(c->value, sizeof(c->value), "%s", in->thp);
    if (strcmp(in->thp, "always") == 0 && r->profile == MW_PROFILE_SMALL) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
        put(c->reason, sizeof(c->reason),
            "on <= 1 GiB a 2 MiB page per touched region bloats RSS and khugepaged raises "
            "min_free_kbytes; madvise keeps THP for programs that ask");
    } else {
        put(c->reason, sizeof(c->reason), "fits the RAM size");
    }
}

static void check_mglru(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "mglru", "multi-gen LRU, min_ttl_ms", SRC_MGLRU);
    if (in->lru_gen < 0) {
        na(c, "no /sys/kernel/mm/lru_gen (kernel < 6.1 or not built)");
        return;
    }
    put(c->value, sizeof(c->value), "enabled 0x%04x, min_ttl_ms %" PRId64, in->lru_gen,
        in->min_ttl_ms);
    if (in->lru_gen == 0) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "echo y > /sys/kernel/mm/lru_gen/enabled");
        put(c->reason, sizeof(c->reason),
            "built but off: MGLRU picks cold pages better under pressure (fewer refaults), "
            "the reason it is the default on Android and ChromeOS");
    } else if (in->min_ttl_ms == 0 && !in->killers[0] && in->have_procs) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "echo 1000 > /sys/kernel/mm/lru_gen/min_ttl_ms");
        put(c->reason, sizeof(c->reason),
            "no userspace killer: min_ttl_ms=1000 lets the kernel OOM-kill when the working "
            "set of the last second cannot be kept (multigen_lru.rst, thrashing prevention)");
    } else {
        put(c->reason, sizeof(c->reason), "on%s",
            in->min_ttl_ms == 0 ? "; min_ttl_ms 0: the killer decides" : "");
    }
}

static void check_psi(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "psi", "pressure stall information", SRC_PSI);
    if (in->have_psi) {
        put(c->value, sizeof(c->value), "/proc/pressure/memory");
        put(c->reason, sizeof(c->reason), "the killer can wait on PSI triggers");
        return;
    }
    put(c->value, sizeof(c->value), "%s", in->psi_why[0] ? in->psi_why : "absent");
    c->verdict = MW_DOC_ADVICE;
    /* no command: the kernel's command line is the boot loader's */
    put(c->reason, sizeof(c->reason),
        "without PSI a killer cannot see stalls, only free memory: memwarden falls back to "
        "minfree levels and polling; boot with psi=1 (CONFIG_PSI=y, kernel >= 4.20)");
}

static void check_killer(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "killer", "a low-memory killer running", SRC_MW);
    if (!in->have_procs) {
        na(c, "no processes in this tree");
        return;
    }
    if (!in->killers[0]) {
        put(c->value, sizeof(c->value), "none (memwarden, earlyoom, systemd-oomd, lmkd)");
        c->verdict = MW_DOC_PROBLEM;
        put(c->fix, sizeof(c->fix), "memwarden daemon   # or enable earlyoom / systemd-oomd");
        put(c->reason, sizeof(c->reason),
            "the kernel's OOM killer acts only when reclaim fails completely, after minutes "
            "of thrashing on zram/flash; a userspace killer acts on pressure");
        return;
    }
    put(c->value, sizeof(c->value), "%s", in->killers);
    if (in->have_daemon_state && in->daemon_dry_run) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "memwarden daemon");
        put(c->reason, sizeof(c->reason),
            "memwarden runs in dry-run: it reports, never kills; restart it without --dry-run");
    } else if (in->have_daemon_state && in->daemon_warning[0]) {
        c->verdict = MW_DOC_ADVICE;
        put(c->reason, sizeof(c->reason), "memwarden says: %s", in->daemon_warning);
    } else {
        put(c->reason, sizeof(c->reason), "running%s",
            in->have_daemon_state ? "; memwarden's state file is current" : "");
    }
}

static void check_unkillable(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "unkillable", "large processes at oom_score_adj -1000", SRC_MW);
    if (!in->have_procs) {
        na(c, "no processes in this tree");
        return;
    }
    if (in->big_unkillable == 0) {
        put(c->value, sizeof(c->value), "none holds >= 5%% of RAM");
        put(c->reason, sizeof(c->reason), "every large process can be chosen");
        return;
    }
    char a[32];
    put(c->value, sizeof(c->value), "%d, largest %s (%s)", in->big_unkillable,
        in->big_unkillable_name, sz(a, in->big_unkillable_rss));
    c->verdict = MW_DOC_ADVICE;
    put(c->fix, sizeof(c->fix), "memwarden prio set -900 %d   # or OOMScoreAdjust=-900 in its unit",
        in->big_unkillable_pid);
    put(c->reason, sizeof(c->reason),
        "no killer (kernel or userspace) may pick it: if it leaks, everything else dies first");
}

static void check_kills(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "kills", "OOM kills since boot", SRC_MW);
    if (!in->have_vmstat) {
        na(c, "no /proc/vmstat oom_kill (kernel < 4.13)");
        return;
    }
    char d[64] = "";
    if (in->have_history || in->have_daemon_state)
        snprintf(d, sizeof(d), ", memwarden %" PRIu64,
                 in->have_history ? in->history_kills : in->daemon_kills);
    put(c->value, sizeof(c->value), "kernel %" PRIu64 "%s", in->oom_kill, d);
    if (in->oom_kill > 0) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "memwarden oom   # what it killed, and why");
        put(c->reason, sizeof(c->reason),
            "the kernel had to kill: reclaim failed completely at least once, the killer "
            "above did not act first");
    } else {
        put(c->reason, sizeof(c->reason), "the kernel never had to kill");
    }
}

/* A limit for the cgroup IN names: a systemd unit's by systemctl (a share
 * of RAM, systemd.resource-control(5)), another's written into its limit
 * file. 90 % keeps the rest of the machine a tenth of RAM when the group
 * is at its limit: its own OOM then comes before the machine's; MemoryHigh
 * at 80 % makes it reclaim (slow down) before that. */
static void cgroup_fix(const struct mw_doc_in *in, struct mw_doc_check *c)
{
    const char *dot = strrchr(in->cg_name, '.');
    if (dot && (strcmp(dot, ".slice") == 0 || strcmp(dot, ".service") == 0 ||
                strcmp(dot, ".scope") == 0)) {
        put(c->fix, sizeof(c->fix), "systemctl set-property %s MemoryHigh=80%% MemoryMax=90%%",
            in->cg_name);
        return;
    }
    put(c->fix, sizeof(c->fix), "echo %" PRIu64 " > %s/%s", kb(in, MI_MEM_TOTAL) * 1024 / 10 * 9,
        in->cg_dir, in->cg_v1 ? "memory.limit_in_bytes" : "memory.max");
}

static void check_cgroups(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "cgroups", "unlimited cgroups holding most of RAM", SRC_CG);
    if (!in->have_cgroups) {
        na(c, "no memory cgroup tree at /sys/fs/cgroup");
        return;
    }
    uint64_t ram = kb(in, MI_MEM_TOTAL) * 1024;
    char a[32];
    if (!in->cg_name[0]) {
        put(c->value, sizeof(c->value), "none without a limit");
        put(c->reason, sizeof(c->reason), "every top cgroup has memory.max or memory.high");
        return;
    }
    put(c->value, sizeof(c->value), "%s %s (%.0f%% of RAM)", in->cg_name, sz(a, in->cg_usage),
        mw_pct(in->cg_usage, ram));
    if (in->cg_usage * 2 > ram) {
        c->verdict = MW_DOC_ADVICE;
        cgroup_fix(in, c);
        put(c->reason, sizeof(c->reason),
            "one group without memory.max/high holds over half of RAM: a leak in it takes the "
            "whole machine; a limit makes it a group-local OOM");
    } else {
        put(c->reason, sizeof(c->reason), "the largest unlimited group holds under half of RAM");
    }
}

static void check_kswapd(const struct mw_doc_in *in, struct mw_doc_report *r)
{
    struct mw_doc_check *c = add(r, "kswapd", "reclaim rate over the sample", SRC_MW);
    if (!in->sample_ms) {
        na(c, "no sample (a captured tree, or --sample 0)");
        return;
    }
    uint64_t ps = in->page_size ? in->page_size : 4096, ram = kb(in, MI_MEM_TOTAL) * 1024;
    double s = (double)in->sample_ms / 1000.0;
    double scan = (double)(in->kswapd_scan_pages * ps) / s,
           steal = (double)(in->kswapd_steal_pages * ps) / s;
    double direct = (double)(in->direct_scan_pages * ps) / s;
    put(c->value, sizeof(c->value),
        "kswapd scan %.1f MiB/s steal %.1f MiB/s, direct %.1f MiB/s "
        "(%.0f s)",
        scan / MIB, steal / MIB, direct / MIB, s);
    if (direct > 0 || scan > (double)ram / 100) {
        c->verdict = MW_DOC_ADVICE;
        put(c->fix, sizeof(c->fix), "memwarden status; memwarden top   # who fills memory");
        put(c->reason, sizeof(c->reason),
            "%s: memory is being reclaimed right now; if it lasts, raise the watermarks "
            "(watermark_scale_factor) or free memory",
            direct > 0 ? "allocations reclaim directly (stall)" : "kswapd scans > 1%% of RAM/s");
    } else {
        put(c->reason, sizeof(c->reason), "little or no reclaim during the sample");
    }
}

void mw_doctor_run(const struct mw_doc_in *in, struct mw_doc_report *out)
{
    memset(out, 0, sizeof(*out));
    out->profile = mw_profile_for_ram(kb(in, MI_MEM_TOTAL));
    check_swap(in, out);
    check_zram(in, out);
    check_swappiness(in, out);
    check_page_cluster(in, out);
    check_min_free(in, out);
    check_watermarks(in, out);
    check_overcommit(in, out);
    check_dirty(in, out);
    check_thp(in, out);
    check_mglru(in, out);
    check_psi(in, out);
    check_killer(in, out);
    check_unkillable(in, out);
    check_kills(in, out);
    check_cgroups(in, out);
    check_kswapd(in, out);
}

const char *mw_doc_verdict_name(enum mw_doc_verdict v)
{
    static const char *const names[] = {"ok", "n/a", "advice", "problem"};
    return (unsigned)v < MW_ARRAY_SIZE(names) ? names[v] : "?";
}

enum mw_doc_verdict mw_doctor_worst(const struct mw_doc_report *r)
{
    enum mw_doc_verdict worst = MW_DOC_OK;
    for (int i = 0; i < r->n; i++)
        if (r->c[i].verdict > worst && r->c[i].verdict != MW_DOC_NA)
            worst = r->c[i].verdict;
    return worst;
}

/* ---- the readings ---------------------------------------------------- */

/* Killers by their comm; memwarden only as a daemon (not this doctor). */
static const char *const killer_names[] = {"memwarden", "earlyoom", "systemd-oomd", "lmkd", NULL};

static bool is_killer(int proc_fd, int pid, const char *comm)
{
    for (int i = 0; killer_names[i]; i++) {
        if (strcmp(comm, killer_names[i]) != 0)
            continue;
        if (i != 0)
            return true;
        char cmd[512];
        long n = mw_proc_read_pid_file(proc_fd, pid, "cmdline", cmd, sizeof(cmd) - 1);
        if (n <= 0)
            return false;
        mw_proc_cmdline_join(cmd, (size_t)n);
        return strstr(cmd, " daemon") != NULL;
    }
    return false;
}

/* One process: a killer? a large unkillable one? */
static void scan_one(int proc_fd, int pid, uint64_t ram, struct mw_doc_in *in)
{
    char buf[4096];
    struct mw_proc_stat st;
    if (mw_proc_read_pid_file(proc_fd, pid, "stat", buf, sizeof(buf)) <= 0 ||
        mw_proc_stat_parse_buf(&st, buf) < 0 || (st.flags & MW_PF_KTHREAD))
        return;
    in->have_procs = true;
    char name[64];
    mw_text_clean(name, sizeof(name), st.comm, strlen(st.comm));
    if (pid != (int)getpid() && is_killer(proc_fd, pid, st.comm)) {
        size_t o = strlen(in->killers);
        if (o + 40 < sizeof(in->killers))
            snprintf(in->killers + o, sizeof(in->killers) - o, "%s%s[%d]", o ? " " : "", name, pid);
    }
    int adj;
    if (mw_proc_read_pid_file(proc_fd, pid, "oom_score_adj", buf, sizeof(buf)) <= 0 ||
        mw_proc_adj_parse_buf(&adj, buf) < 0 || adj != -1000)
        return;
    struct mw_proc_status ps;
    if (mw_proc_read_pid_file(proc_fd, pid, "status", buf, sizeof(buf)) <= 0 ||
        mw_proc_status_parse_buf(&ps, buf) < 0 || ps.vm_rss_kb * 1024 * 20 < ram)
        return;
    in->big_unkillable++;
    if (ps.vm_rss_kb * 1024 > in->big_unkillable_rss) {
        in->big_unkillable_rss = ps.vm_rss_kb * 1024;
        snprintf(in->big_unkillable_name, sizeof(in->big_unkillable_name), "%s[%d]", name, pid);
        in->big_unkillable_pid = pid;
    }
}

static void gather_procs(const struct mw_root *root, struct mw_doc_in *in)
{
    struct mw_pid_iter it = {0};
    if (mw_pid_iter_open(&it, root) < 0)
        return;
    int proc_fd = dirfd(it.dir), pid;
    uint64_t ram = in->mi.kb[MI_MEM_TOTAL] * 1024;
    while (mw_pid_iter_next(&it, &pid) == 1)
        scan_one(proc_fd, pid, ram, in);
    mw_pid_iter_close(&it);
}

/* The largest top-level memory cgroup with no memory.max / memory.high
 * (v1: limit_in_bytes): cgroup2 at /sys/fs/cgroup, else the v1 memory
 * hierarchy at /sys/fs/cgroup/memory. */
static void gather_cgroups(const struct mw_root *root, struct mw_doc_in *in)
{
    static const char *const bases[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/memory"};
    static const char *const marks[] = {"sys/fs/cgroup/cgroup.controllers",
                                        "sys/fs/cgroup/memory/memory.usage_in_bytes"};
    DIR *d = NULL;
    int b = 0;
    for (; b < 2; b++)
        if (faccessat(root->fd, marks[b], F_OK, 0) == 0 &&
            mw_opendir_at(root->fd, mw_rel(bases[b]), 0, &d) == 0)
            break;
    if (!d)
        return;
    in->have_cgroups = true;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        char path[320];
        struct mw_cgroup_mem m;
        snprintf(path, sizeof(path), "%s/%s", bases[b], de->d_name);
        if (mw_cgroup_mem_read(root, path, &m) < 0 || m.limit != MW_CG_UNLIMITED ||
            m.high != MW_CG_UNLIMITED || m.usage <= in->cg_usage)
            continue;
        in->cg_usage = m.usage;
        mw_text_clean(in->cg_name, sizeof(in->cg_name), de->d_name, strlen(de->d_name));
        snprintf(in->cg_dir, sizeof(in->cg_dir), "%s/%s", bases[b], in->cg_name);
        in->cg_v1 = b == 1;
    }
    closedir(d);
}

/* "always [madvise] never" -> "madvise"; a number file -> its value. */
static void gather_mm(const struct mw_root *root, struct mw_doc_in *in)
{
    char *buf;
    if (mw_read_file(root, "/sys/kernel/mm/transparent_hugepage/enabled", &buf, NULL) == 0) {
        mw_zram_algorithm_parse_buf(in->thp, sizeof(in->thp), buf); /* the same "[x]" form */
        free(buf);
    }
    in->lru_gen = -1;
    in->min_ttl_ms = -1;
    if (mw_read_file(root, "/sys/kernel/mm/lru_gen/enabled", &buf, NULL) == 0) {
        char *end;
        long v = strtol(buf, &end, 16);
        if (end != buf)
            in->lru_gen = (int)(v & 0xffff);
        free(buf);
    }
    uint64_t ttl;
    if (mw_read_u64(root, "/sys/kernel/mm/lru_gen/min_ttl_ms", &ttl) == 0)
        in->min_ttl_ms = (int64_t)ttl;
}

/* memwarden's own state file, and the lines of its kill history (one JSON
 * object a line: one kill each). */
static void gather_daemon(const struct mw_root *root, const struct mw_doc_sources *src,
                          struct mw_doc_in *in)
{
    struct mw_daemon_state s;
    if (src->state_path && mw_daemon_state_read(root, src->state_path, &s) == 0) {
        in->have_daemon_state = true;
        in->daemon_kills = s.kills;
        in->daemon_dry_run = s.dry_run;
        mw_text_clean(in->daemon_warning, sizeof(in->daemon_warning), s.warning, strlen(s.warning));
    }
    char *buf;
    if (!src->history_path || mw_read_file(root, src->history_path, &buf, NULL) < 0)
        return;
    in->have_history = true;
    for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
        in->history_kills++;
    free(buf);
}

/* The reclaim counters over SAMPLE_MS (live root only). */
static void gather_vmstat(const struct mw_root *root, uint64_t sample_ms, struct mw_doc_in *in)
{
    struct mw_vmstat a, b;
    if (mw_vmstat_read(root, &a, NULL) < 0)
        return;
    in->have_vmstat = true;
    in->oom_kill = a.oom_kill;
    if (!sample_ms || !mw_root_is_live(root))
        return;
    uint64_t t0 = mw_now_ms();
    mw_sleep_until_ms(t0 + sample_ms, NULL);
    if (mw_vmstat_read(root, &b, NULL) < 0)
        return;
    in->sample_ms = mw_now_ms() - t0;
    in->kswapd_scan_pages = mw_sub0(b.pgscan_kswapd, a.pgscan_kswapd);
    in->kswapd_steal_pages = mw_sub0(b.pgsteal_kswapd, a.pgsteal_kswapd);
    in->direct_scan_pages = mw_sub0(b.pgscan_direct, a.pgscan_direct);
}

int mw_doctor_gather(const struct mw_root *root, const struct mw_doc_sources *src,
                     struct mw_doc_in *in)
{
    int rc = mw_meminfo_read(root, &in->mi, NULL);
    if (rc < 0)
        return rc;
    mw_vmtune_read(root, &in->vm);
    if (mw_zram_read(root, &in->zram) < 0)
        in->zram.count = 0;
    in->have_swaps = mw_swaps_read(root, &in->swaps, NULL) == 0;
    in->have_zi = mw_zoneinfo_read(root, &in->zi, NULL) == 0;
    in->page_size = root->page_size;
    in->min_free_cap_kb = mw_min_free_cap_read(root);
    struct mw_psi psi;
    rc = mw_psi_read(root, "/proc/pressure/memory", &psi, NULL);
    in->have_psi = rc == 0;
    snprintf(in->psi_why, sizeof(in->psi_why), "%s",
             rc == -ENOENT       ? "no /proc/pressure/memory (kernel < 4.20 or no CONFIG_PSI)"
             : rc == -EOPNOTSUPP ? "PSI disabled (psi=0 on the command line)"
                                 : "unreadable /proc/pressure/memory");
    gather_mm(root, in);
    gather_procs(root, in);
    gather_cgroups(root, in);
    gather_daemon(root, src, in);
    gather_vmstat(root, src->sample_ms, in);
    return 0;
}
