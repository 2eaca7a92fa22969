/* memwarden status: one screen that explains the machine's (or one
 * cgroup's) memory. Gathers every reader's result first, then renders it as
 * text or JSON; a section whose file is missing or malformed says why and
 * the rest still prints. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/cgroup.h"
#include "proc/cgunit.h"
#include "base/text.h"
#include "cli/cli.h"
#include "model/daemonstate.h"
#include "base/json.h"
#include "proc/meminfo.h"
#include "model/proctable.h"
#include "proc/psi.h"
#include "proc/swaps.h"
#include "model/top.h"
#include "model/verdict.h"
#include "proc/vmstat.h"
#include "proc/vmtune.h"
#include "proc/zoneinfo.h"
#include "proc/zram.h"

#define REASON_LEN 160

static const char *const psi_names[3] = {"memory", "io", "cpu"};

/* The largest systemd units status names (top --by unit has them all). */
#define STATUS_UNITS 5
struct status_unit {
    char name[2 * MW_CGUNIT_NAME + 1]; /* mw_cgunit_label */
    uint64_t pss;
    size_t procs;
    bool estimated; /* some PSS from statm (smaps not readable) */
};

struct status {
    const char *scope;
    bool live;                /* the root is this machine's "/" */
    uint64_t min_free_cap_kb; /* the kernel's cap of min_free_kbytes (zoneinfo.h), 0 unknown */
    struct mw_meminfo mi;
    struct mw_free fr;
    struct mw_cache_split cs;
    struct mw_cgroup_mem cg;
    uint64_t page_size;

    struct mw_zoneinfo zi;
    bool have_zi;
    char zi_err[REASON_LEN];

    struct mw_vmtune vm;

    struct mw_swaps sw;
    bool have_sw;
    char sw_err[REASON_LEN];

    struct mw_zram zr;
    char zr_err[REASON_LEN];

    struct mw_psi psi[3];
    bool have_psi[3];
    char psi_err[3][REASON_LEN];
    bool scope_psi; /* psi[0] is the cgroup's memory.pressure */

    struct mw_pss_totals pss;
    bool have_pss;
    struct status_unit units[STATUS_UNITS]; /* the largest systemd units by PSS */
    int nunits;
    char pss_err[REASON_LEN];
    struct mw_dumpsys ds;
    uint64_t zram_used;

    struct mw_verdict verdict;

    const char *state_path; /* the daemon's state file */
    struct mw_daemon_state daemon;
    bool have_daemon, daemon_running;
    char daemon_err[REASON_LEN];
};

/* Words for a reader's failure: what a person can act on. */
static void describe(char *buf, size_t cap, const char *file, int rc, int bad_line, bool live)
{
    if (rc == -ENOENT && !live)
        snprintf(buf, cap, "%s: not in this capture", file);
    else if (rc == -EINVAL && bad_line > 0)
        snprintf(buf, cap, "%s line %d: malformed", file, bad_line);
    else if (rc == -EINVAL || rc == -ENODATA)
        snprintf(buf, cap, "%s: no usable data", file);
    else if (rc == -ENOENT)
        snprintf(buf, cap, "%s: not present", file);
    else if (rc == -EOPNOTSUPP)
        snprintf(buf, cap, "%s: not supported by this kernel", file);
    else
        snprintf(buf, cap, "%s: %s", file, mw_strerror(-rc));
}

/* The largest systemd units of table PT by PSS into ST->units (top's
 * view by unit: the same sums as `top --by unit`). */
static void largest_units(const struct mw_proctable *pt, struct status *st)
{
    struct mw_top_filter f = {.sort = MW_TOP_SORT_PSS, .by = MW_TOP_BY_UNIT};
    struct mw_top_view v;
    memset(&v, 0, sizeof(v));
    if (mw_top_view_build(&v, pt, &f) < 0)
        return;
    for (size_t i = 0; i < v.ngroups && st->nunits < STATUS_UNITS; i++) {
        const struct mw_top_group *g = &v.groups[i];
        if (strcmp(g->name, MW_TOP_NO_UNIT) == 0)
            continue;
        struct status_unit *u = &st->units[st->nunits++];
        snprintf(u->name, sizeof(u->name), "%s", g->name);
        u->pss = g->sum.pss;
        u->procs = g->sum.count;
        u->estimated = g->sum.estimated > 0;
    }
    mw_top_view_free(&v);
}

/* Sums PSS over every process (and the PSS of those at adj >= 900, the
 * "cached" ones) for the dumpsys view, from the process table `top` uses,
 * and names the largest systemd units (ST->units). Only measured PSS
 * counts in the sums (smaps_rollup or smaps): statm estimates would pass
 * RSS off as PSS. Returns the number of processes counted, -EACCES when
 * none could be measured for lack of privilege, -ENOENT when the tree has
 * none to measure, or another -errno. */
static int read_pss_totals(const struct mw_root *root, struct status *st, struct mw_pss_totals *out)
{
    struct mw_proctable pt;
    int rc = mw_proctable_open(&pt, root, MW_PT_MEM | MW_PT_ADJ | MW_PT_UNIT);
    if (rc >= 0)
        rc = mw_proctable_scan(&pt);
    if (rc < 0) {
        mw_proctable_close(&pt);
        return rc;
    }
    struct mw_pss_totals t = {0};
    int n = 0;
    for (size_t i = 0; i < pt.n; i++) {
        const struct mw_proc *p = &pt.procs[i];
        if (p->flags & (MW_PROC_MEM_EST | MW_PROC_NO_MEM))
            continue;
        t.pss += p->pss_bytes;
        if (!(p->flags & MW_PROC_SWAP_EST))
            t.swap_pss += p->swap_bytes;
        if (p->oom_score_adj >= 900)
            t.cached_pss += p->pss_bytes;
        n++;
    }
    if (!st->scope)
        largest_units(&pt, st);
    bool unmeasured = pt.n > 0;
    mw_proctable_close(&pt);
    if (n == 0)
        return unmeasured && st->live && geteuid() != 0 ? -EACCES : -ENOENT;
    *out = t;
    return n;
}

/* The `free` view of a cgroup seen as a machine (mw_cgroup_machine has
 * the formula). */
static void scope_free(const struct mw_cgroup_mem *cg, const struct mw_meminfo *host,
                       struct mw_free *out)
{
    struct mw_cg_machine m;
    mw_cgroup_machine(cg, host, &m);
    struct mw_free f;
    memset(&f, 0, sizeof(f));
    f.total = m.total;
    f.used = m.used;
    f.free = m.headroom;
    f.shared = m.shared;
    f.cache = f.buff_cache = m.cache;
    f.available = m.available;
    f.swap_total = m.swap_total;
    f.swap_used = m.swap_used;
    f.swap_free = m.swap_free;
    *out = f;
}

/* Swap devices and zram. */
static void gather_devices(const struct mw_root *root, struct status *st)
{
    int bad = 0;
    int rc = mw_swaps_read(root, &st->sw, &bad);
    st->have_sw = rc == 0;
    if (rc < 0)
        describe(st->sw_err, REASON_LEN, "/proc/swaps", rc, bad, st->live);

    rc = mw_zram_read(root, &st->zr);
    if (rc < 0)
        describe(st->zr_err, REASON_LEN, "/sys/block", rc, 0, st->live);
    for (int i = 0; i < st->zr.count; i++)
        st->zram_used += st->zr.dev[i].mem_used_total;
}

/* PSI of memory, io and cpu, each with its reason when unreadable. */
static void gather_psi(const struct mw_root *root, struct status *st)
{
    for (int i = 0; i < 3; i++) {
        char path[40];
        snprintf(path, sizeof(path), "/proc/pressure/%s", psi_names[i]);
        int bad = 0;
        int rc = mw_psi_read(root, path, &st->psi[i], &bad);
        st->have_psi[i] = rc == 0;
        if (rc == -ENOENT && st->live)
            snprintf(st->psi_err[i], REASON_LEN, "%s: not present (kernel without CONFIG_PSI)",
                     path);
        else if (rc == -EOPNOTSUPP)
            snprintf(st->psi_err[i], REASON_LEN, "%s: PSI is disabled (boot with psi=1)", path);
        else if (rc < 0)
            describe(st->psi_err[i], REASON_LEN, path, rc, bad, st->live);
    }
}

/* --scope: the cgroup's files, and the machine it is seen as (its free
 * view replaces the host's; its PSI the host's memory PSI). Returns 0, or
 * -errno after saying why. */
static int gather_scope(const struct mw_root *root, struct status *st)
{
    int rc = mw_cgroup_mem_read(root, st->scope, &st->cg);
    if (rc < 0) {
        if (rc == -ENOENT)
            mw_err("--scope %s: not a memory cgroup (no memory.current or "
                   "memory.usage_in_bytes)",
                   st->scope);
        else
            mw_err("--scope %s: %s", st->scope, mw_strerror(-rc));
        return rc;
    }
    scope_free(&st->cg, &st->mi, &st->fr);
    if (st->cg.have_psi) {
        st->psi[0] = st->cg.psi;
        st->have_psi[0] = st->scope_psi = true;
    }
    return 0;
}

/* The daemon's state file, and whether its process still runs. */
static void gather_daemon(const struct mw_root *root, struct status *st)
{
    int rc = mw_daemon_state_read(root, st->state_path, &st->daemon);
    st->have_daemon = rc == 0;
    if (rc == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", st->daemon.pid);
        char *buf;
        st->daemon_running = mw_read_file(root, path, &buf, NULL) == 0;
        if (st->daemon_running)
            free(buf);
    } else if (rc == -ENOENT) {
        snprintf(st->daemon_err, REASON_LEN, "not running (no state file %s)", st->state_path);
    } else {
        describe(st->daemon_err, REASON_LEN, st->state_path, rc, 0, st->live);
    }
}

/* The verdict from what was gathered (the cgroup's numbers with --scope). */
static void status_verdict(struct status *st)
{
    struct mw_verdict_input in;
    mw_verdict_input_machine(&st->mi, &st->fr, &st->cs, st->have_psi[0] ? &st->psi[0] : NULL, &in);
    if (st->scope) { /* the cgroup's: no slab of its own, no watermarks */
        in.reclaimable = mw_cgroup_reclaimable(&st->cg);
        in.slab = in.slab_unreclaimable = 0;
    } else if (st->have_zi) {
        in.low_wmark = st->zi.low * st->page_size;
    }
    mw_verdict_compute(&in, &st->verdict);
}

static int gather(struct mw_ctx *ctx, struct status *st)
{
    const struct mw_root *root = &ctx->root;
    int bad = 0, rc;
    st->live = mw_root_is_live(root);
    rc = mw_meminfo_read(root, &st->mi, &bad);
    if (rc < 0) {
        char why[REASON_LEN];
        describe(why, sizeof(why), "/proc/meminfo", rc, bad, st->live);
        mw_err("%s", why);
        return MW_EXIT_FAIL;
    }
    st->page_size = root->page_size;

    bad = 0;
    rc = mw_zoneinfo_read(root, &st->zi, &bad);
    st->have_zi = rc == 0;
    if (rc < 0)
        describe(st->zi_err, REASON_LEN, "/proc/zoneinfo", rc, bad, st->live);
    mw_vmtune_read(root, &st->vm);
    st->min_free_cap_kb = mw_min_free_cap_read(root);

    /* MemAvailable's estimate needs the low watermark in kB. */
    uint64_t low_kb = 0;
    if (st->have_zi)
        low_kb = st->zi.low * st->page_size / 1024;
    else if (st->vm.have[VM_MIN_FREE_KBYTES])
        low_kb = (uint64_t)st->vm.value[VM_MIN_FREE_KBYTES] * 5 / 4;
    mw_free_compute(&st->mi, low_kb, &st->fr);
    mw_cache_split_compute(&st->mi, &st->cs);

    gather_devices(root, st);
    gather_psi(root, st);

    rc = read_pss_totals(root, st, &st->pss);
    st->have_pss = rc > 0;
    if (rc == -EACCES)
        snprintf(st->pss_err, REASON_LEN, "per-process PSS needs root");
    else if (rc < 0)
        snprintf(st->pss_err, REASON_LEN, "no process smaps_rollup in this tree");
    mw_dumpsys_compute(&st->mi, st->have_pss ? &st->pss : NULL, st->zram_used, &st->ds);

    if (st->scope && gather_scope(root, st) < 0)
        return MW_EXIT_FAIL;

    gather_daemon(root, st);
    status_verdict(st);
    return MW_EXIT_OK;
}

/* ---- text ------------------------------------------------------------ */

static const char *sz(char *buf, uint64_t v)
{
    return mw_fmt_size(buf, 32, v);
}

/* 1234567 -> "1,234,567" (dumpsys prints kB with thousands separators). */
static const char *kgroup(char *buf, int64_t bytes)
{
    int64_t kb = bytes / 1024;
    char tmp[32];
    uint64_t mag = kb < 0 ? (uint64_t)(-kb) : (uint64_t)kb;
    snprintf(tmp, sizeof(tmp), "%" PRIu64, mag);
    size_t n = strlen(tmp), o = 0;
    if (kb < 0)
        buf[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o++] = 'K';
    buf[o] = '\0';
    return buf;
}

/* The free(1) table: the machine's, or the cgroup's seen as a machine. */
static void text_memory(const struct status *st)
{
    char a[32], b[32], c[32], d[32], e[32], f[32];
    const struct mw_free *fr = &st->fr;
    if (st->scope)
        printf("cgroup %s (v%d), seen as a machine: its limit is the total\n\n", st->scope,
               st->cg.version);
    printf("%-6s %10s %10s %10s %10s %11s %10s\n", "", "total", "used", "free", "shared",
           "buff/cache", "available");
    printf("%-6s %10s %10s %10s %10s %11s %10s\n", "Mem:", sz(a, fr->total), sz(b, fr->used),
           sz(c, fr->free), sz(d, fr->shared), sz(e, fr->buff_cache), sz(f, fr->available));
    printf("%-6s %10s %10s %10s\n", "Swap:", sz(a, fr->swap_total), sz(b, fr->swap_used),
           sz(c, fr->swap_free));
    if (fr->available_estimated)
        printf("(this kernel has no MemAvailable: available is estimated as the kernel does)\n");
}

/* The cgroup's own numbers (--scope). */
static void text_scope(const struct status *st)
{
    char a[32], b[32], c[32], d[32], e[32], f[32];
    const struct mw_cgroup_mem *cg = &st->cg;
    printf("\nusage %s of limit %s", sz(a, cg->usage),
           cg->limit == MW_CG_UNLIMITED ? "none" : sz(b, cg->limit));
    if (cg->version == 2 && cg->high != MW_CG_UNLIMITED)
        printf(", high %s", sz(c, cg->high));
    printf("; anon %s, file %s (%s reclaimable), shmem %s\n", sz(d, cg->stat.anon),
           sz(e, cg->stat.file), sz(f, mw_cgroup_reclaimable(cg)), sz(a, cg->stat.shmem));
    if (cg->version == 2)
        printf("events: max %" PRIu64 ", oom %" PRIu64 ", oom_kill %" PRIu64 "\n", cg->ev_max,
               cg->ev_oom, cg->ev_oom_kill);
    else
        printf("events: failcnt %" PRIu64 ", memsw.failcnt %" PRIu64 ", oom_kill %" PRIu64 "%s%s\n",
               cg->failcnt, cg->memsw_failcnt, cg->ev_oom_kill, cg->under_oom ? ", UNDER OOM" : "",
               cg->oom_kill_disable ? ", oom killer disabled" : "");
}

/* Where buff/cache goes, and the Android (dumpsys) view. */
/* The largest systemd units, on a machine that has them. */
static void text_units(const struct status *st)
{
    if (st->nunits == 0)
        return;
    size_t w = 4;
    for (int i = 0; i < st->nunits; i++)
        if (strlen(st->units[i].name) > w)
            w = strlen(st->units[i].name);
    printf("\nLargest units (systemd, by PSS; all: memwarden top --by unit)\n");
    for (int i = 0; i < st->nunits; i++) {
        const struct status_unit *u = &st->units[i];
        char a[32];
        printf("  ");
        mw_text_put(stdout, u->name, strlen(u->name), 0);
        printf("%*s %s%9s  %zu process%s\n", (int)(w - strlen(u->name)), "",
               u->estimated ? "~" : " ", sz(a, u->pss), u->procs, u->procs == 1 ? "" : "es");
    }
}

static void text_host(const struct status *st)
{
    char a[32], b[32], c[32], d[32], e[32], f[32];
    const struct mw_free *fr = &st->fr;
    const struct mw_cache_split *cs = &st->cs;
    /* the parts add up: what was taken out is said (the dirty pages were
     * taken out in silence: "650 MiB (file pages 550 MiB, slab 204 MiB)") */
    printf("\nbuff/cache %s: %s reclaimable (file pages %s + slab %s", sz(a, fr->buff_cache),
           sz(b, cs->reclaimable_total), sz(c, cs->file_reclaimable), sz(d, cs->slab_reclaimable));
    if (cs->dirty_taken)
        printf(" - dirty or under writeback %s", sz(a, cs->dirty_taken));
    printf("), %s is not (shmem/tmpfs %s)\n", sz(e, cs->shmem), sz(f, cs->shmem));
    printf("kernel, not reclaimable: slab %s, stacks %s, page tables %s\n",
           sz(a, cs->slab_unreclaimable), sz(b, cs->kernel_stack), sz(c, cs->page_tables));
    if (cs->dirty_writeback)
        printf("dirty or under writeback: %s (reclaimable once written)\n",
               sz(a, cs->dirty_writeback));

    const struct mw_dumpsys *ds = &st->ds;
    char k1[32], k2[32], k3[32], k4[32];
    printf("\nAndroid view (dumpsys meminfo)\n");
    printf("  Total RAM: %s (status %s)\n", kgroup(k1, (int64_t)ds->total_ram),
           st->verdict.level == MW_LEVEL_OK ? "normal" : mw_level_name(st->verdict.level));
    if (ds->have_pss) {
        printf("  Free RAM: %s (%s cached pss + %s cached kernel + %s free)\n",
               kgroup(k1, (int64_t)ds->free_ram), kgroup(k2, (int64_t)st->pss.cached_pss),
               kgroup(k3, (int64_t)ds->cached_kernel),
               kgroup(k4, (int64_t)mw_meminfo_bytes(&st->mi, MI_MEM_FREE)));
        printf("  Used RAM: %s (%s used pss + %s kernel)\n", kgroup(k1, (int64_t)ds->used_ram),
               kgroup(k2, (int64_t)(st->pss.pss - st->pss.cached_pss)),
               kgroup(k3, (int64_t)ds->kernel));
        printf("  Lost RAM: %s\n", kgroup(k1, ds->lost_ram));
    } else {
        printf("  Free RAM: %s (%s cached kernel + %s free)\n", kgroup(k1, (int64_t)ds->free_ram),
               kgroup(k2, (int64_t)ds->cached_kernel),
               kgroup(k3, (int64_t)mw_meminfo_bytes(&st->mi, MI_MEM_FREE)));
        printf("  Used RAM: %s (anon + mapped + kernel; %s)\n", kgroup(k1, (int64_t)ds->used_ram),
               st->pss_err);
        printf("  Lost RAM: unavailable: %s\n", st->pss_err);
    }
    printf("  ZRAM: %s physical used for %s in swap (%s total swap)\n",
           kgroup(k1, (int64_t)st->zram_used), kgroup(k2, (int64_t)fr->swap_used),
           kgroup(k3, (int64_t)fr->swap_total));
    text_units(st);
}

/* Swap devices and zram. */
static void text_devices(const struct status *st)
{
    char a[32], b[32], c[32], d[32];
    printf("\nSwap devices\n");
    if (!st->have_sw)
        printf("  unavailable: %s\n", st->sw_err);
    else if (st->sw.count == 0)
        printf("  none configured\n");
    for (int i = 0; i < st->sw.count; i++) {
        const struct mw_swap_dev *s = &st->sw.dev[i];
        printf("  %-20s %-9s %10s used %10s  priority %d\n", s->name, s->type,
               sz(a, s->size_kb * 1024), sz(b, s->used_kb * 1024), s->priority);
    }
    printf("zram\n");
    if (st->zr_err[0])
        printf("  unavailable: %s\n", st->zr_err);
    else if (st->zr.count == 0)
        printf("  no zram devices\n");
    for (int i = 0; i < st->zr.count; i++) {
        const struct mw_zram_dev *z = &st->zr.dev[i];
        if (!z->disksize) {
            printf("  zram%d: not set up (disksize 0)\n", z->index);
            continue;
        }
        printf("  zram%d: %s, disksize %s", z->index, z->algorithm[0] ? z->algorithm : "?",
               sz(a, z->disksize));
        if (z->have_mm_stat && z->orig_data_size)
            printf(", %s stored in %s (ratio %.2f), RAM used %s\n", sz(b, z->orig_data_size),
                   sz(c, z->compr_data_size), mw_zram_ratio(z), sz(d, z->mem_used_total));
        else
            printf(", empty\n");
    }
}

static void text_psi(const struct status *st)
{
    printf("\nPressure (PSI, %% of time stalled)    avg10  avg60 avg300\n");
    for (int i = 0; i < 3; i++) {
        const char *label = i == 0 && st->scope_psi ? "memory (cgroup)" : psi_names[i];
        if (!st->have_psi[i]) {
            printf("  %-15s unavailable: %s\n", psi_names[i], st->psi_err[i]);
            continue;
        }
        const struct mw_psi *p = &st->psi[i];
        printf("  %-15s some %18.2f %6.2f %6.2f\n", label, p->some.avg10, p->some.avg60,
               p->some.avg300);
        if (p->have_full)
            printf("  %-15s full %18.2f %6.2f %6.2f\n", "", p->full.avg10, p->full.avg60,
                   p->full.avg300);
    }
}

/* Zone watermarks, min_free_kbytes and the vm knobs (the machine only). */
static void text_tuning(const struct status *st)
{
    char a[32], b[32], c[32], d[32];
    printf("\nWatermarks (summed over zones)\n");
    if (!st->have_zi) {
        printf("  unavailable: %s\n", st->zi_err);
    } else {
        uint64_t ps = st->page_size;
        printf("  min %s, low %s, high %s; free in zones %s\n", sz(a, st->zi.min * ps),
               sz(b, st->zi.low * ps), sz(c, st->zi.high * ps), sz(d, st->zi.free * ps));
        printf("  lmkd seed relation: low = min*5/4 = %s, high = min*3/2 = %s\n",
               sz(a, st->zi.min * ps * 5 / 4), sz(b, st->zi.min * ps * 3 / 2));
    }
    if (st->vm.have[VM_MIN_FREE_KBYTES]) {
        uint64_t lowmem_kb = st->mi.kb[MI_MEM_TOTAL];
        uint64_t def = mw_default_min_free_kbytes(lowmem_kb, st->min_free_cap_kb);
        int64_t cur = st->vm.value[VM_MIN_FREE_KBYTES];
        char clamp[80];
        if (st->min_free_cap_kb)
            snprintf(clamp, sizeof(clamp), "clamped to 128..%" PRIu64 " on this kernel",
                     st->min_free_cap_kb);
        else
            snprintf(clamp, sizeof(clamp),
                     "clamped to 128..65536, 262144 since 5.7; kernel "
                     "release unknown");
        printf("  min_free_kbytes %" PRId64 " (kernel default for this RAM: %" PRIu64
               " = 4*sqrt(%" PRIu64 " kB), %s)\n",
               cur, def, lowmem_kb, clamp);
        if (cur > (int64_t)def * 11 / 10)
            printf("  raised above the default: by a sysctl, or by khugepaged when transparent "
                   "hugepages are enabled\n");
    }
    printf("vm:");
    int shown = 0;
    for (int k = 0; k < VM_KNOB_COUNT; k++) {
        if (!st->vm.have[k] || k == VM_MIN_FREE_KBYTES)
            continue;
        printf("%s %s=%" PRId64, shown++ ? "," : "", mw_vm_knob_name((enum mw_vm_knob)k),
               st->vm.value[k]);
    }
    printf("%s\n", shown ? "" : " unavailable: /proc/sys/vm not readable");
}

/* The daemon and the verdict. */
static void text_guardian(const struct status *st)
{
    printf("\nGuardian (memwarden daemon)\n");
    if (!st->have_daemon) {
        printf("  %s\n", st->daemon_err);
    } else {
        /* The state file is the daemon's, but its strings carry process
         * names: shown through the one sanitiser. */
        const struct mw_daemon_state *dm = &st->daemon;
        char strategy[sizeof(dm->strategy)], scope[sizeof(dm->scope)];
        char source[sizeof(dm->source)], last[sizeof(dm->last_kill)], warn[sizeof(dm->warning)];
        char held[sizeof(dm->held)];
        mw_text_clean(held, sizeof(held), dm->held, strlen(dm->held));
        mw_text_clean(strategy, sizeof(strategy), dm->strategy, strlen(dm->strategy));
        mw_text_clean(scope, sizeof(scope), dm->scope, strlen(dm->scope));
        mw_text_clean(source, sizeof(source), dm->source, strlen(dm->source));
        mw_text_clean(last, sizeof(last), dm->last_kill, strlen(dm->last_kill));
        mw_text_clean(warn, sizeof(warn), dm->warning, strlen(dm->warning));
        printf("  %s (pid %d)%s, %s strategy, watching %s\n",
               st->daemon_running ? "running" : "NOT running, state left", dm->pid,
               dm->dry_run ? ", dry run" : "", strategy, scope[0] ? scope : "the machine");
        printf("  pressure source: %s\n", source);
        printf("  kills: %" PRIu64 "%s%s\n", dm->kills, last[0] ? "; last: " : "", last);
        if (warn[0])
            printf("  WARNING: %s\n", warn);
        if (held[0])
            printf("  HELD: %s\n", held);
    }

    printf("\nVerdict: %s\n", st->verdict.text);
    for (int i = 0; i < st->verdict.nr_notes; i++)
        printf("Note: %s\n", st->verdict.notes[i]);
}

static void print_text(const struct status *st)
{
    text_memory(st);
    if (st->scope)
        text_scope(st);
    else
        text_host(st);
    text_devices(st);
    text_psi(st);
    if (!st->scope)
        text_tuning(st);
    text_guardian(st);
}

/* ---- JSON ------------------------------------------------------------ */

static void json_psi_line(struct mw_json *j, const char *key, const struct mw_psi_line *l)
{
    mw_json_object_begin(j, key);
    mw_json_fixed(j, "avg10", l->avg10, 2);
    mw_json_fixed(j, "avg60", l->avg60, 2);
    mw_json_fixed(j, "avg300", l->avg300, 2);
    mw_json_fixed(j, "total", (double)l->total_us / 1e6, 6);
    mw_json_object_end(j);
}

static void json_scope(struct mw_json *j, const struct status *st)
{
    mw_json_object_begin(j, "scope");
    mw_json_str(j, "path", st->scope);
    mw_json_u64(j, "version", (uint64_t)st->cg.version);
    mw_json_u64(j, "usage", st->cg.usage);
    if (st->cg.limit == MW_CG_UNLIMITED)
        mw_json_null(j, "limit");
    else
        mw_json_u64(j, "limit", st->cg.limit);
    mw_json_u64(j, "anon", st->cg.stat.anon);
    mw_json_u64(j, "file", st->cg.stat.file);
    mw_json_u64(j, "reclaimable", mw_cgroup_reclaimable(&st->cg));
    mw_json_u64(j, "oom_kill", st->cg.ev_oom_kill);
    mw_json_u64(j, "max_events", st->cg.ev_max);
    mw_json_object_end(j);
}

/* memory{} and swap{}: the free(1) view. */
static void json_memory(struct mw_json *j, const struct status *st)
{
    const struct mw_free *fr = &st->fr;
    mw_json_object_begin(j, "memory");
    mw_json_u64(j, "total", fr->total);
    mw_json_u64(j, "used", fr->used);
    mw_json_u64(j, "free", fr->free);
    mw_json_u64(j, "shared", fr->shared);
    mw_json_u64(j, "buff_cache", fr->buff_cache);
    mw_json_u64(j, "available", fr->available);
    mw_json_bool(j, "available_estimated", fr->available_estimated);
    mw_json_object_end(j);
    mw_json_object_begin(j, "swap");
    mw_json_u64(j, "total", fr->swap_total);
    mw_json_u64(j, "used", fr->swap_used);
    mw_json_u64(j, "free", fr->swap_free);
    mw_json_object_end(j);
}

/* cache{} and dumpsys{} (the machine only). */
static void json_host(struct mw_json *j, const struct status *st)
{
    const struct mw_cache_split *cs = &st->cs;
    mw_json_object_begin(j, "cache");
    mw_json_u64(j, "reclaimable", cs->reclaimable_total);
    mw_json_u64(j, "file", cs->file_reclaimable);
    mw_json_u64(j, "slab_reclaimable", cs->slab_reclaimable);
    mw_json_u64(j, "dirty_writeback", cs->dirty_writeback);
    mw_json_u64(j, "dirty_taken", cs->dirty_taken);
    mw_json_u64(j, "unreclaimable", cs->unreclaimable_total);
    mw_json_u64(j, "shmem", cs->shmem);
    mw_json_u64(j, "slab_unreclaimable", cs->slab_unreclaimable);
    mw_json_u64(j, "kernel_stack", cs->kernel_stack);
    mw_json_u64(j, "page_tables", cs->page_tables);
    mw_json_object_end(j);

    const struct mw_dumpsys *ds = &st->ds;
    mw_json_object_begin(j, "dumpsys");
    mw_json_u64(j, "total_ram", ds->total_ram);
    mw_json_u64(j, "free_ram", ds->free_ram);
    mw_json_u64(j, "used_ram", ds->used_ram);
    if (ds->have_pss) {
        mw_json_i64(j, "lost_ram", ds->lost_ram);
        mw_json_u64(j, "pss", st->pss.pss);
        mw_json_u64(j, "cached_pss", st->pss.cached_pss);
    } else {
        mw_json_null(j, "lost_ram");
        mw_json_str(j, "unavailable", st->pss_err);
    }
    mw_json_u64(j, "cached_kernel", ds->cached_kernel);
    mw_json_u64(j, "kernel", ds->kernel);
    mw_json_u64(j, "zram_physical", st->zram_used);
    mw_json_object_end(j);
    mw_json_array_begin(j, "units"); /* the largest systemd units by PSS */
    for (int i = 0; i < st->nunits; i++) {
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "name", st->units[i].name);
        mw_json_u64(j, "processes", st->units[i].procs);
        mw_json_u64(j, "pss", st->units[i].pss);
        mw_json_bool(j, "estimated", st->units[i].estimated);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
}

static void json_devices(struct mw_json *j, const struct status *st)
{
    mw_json_array_begin(j, "swap_devices");
    for (int i = 0; i < st->sw.count; i++) {
        const struct mw_swap_dev *s = &st->sw.dev[i];
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "name", s->name);
        mw_json_str(j, "type", s->type);
        mw_json_u64(j, "size", s->size_kb * 1024);
        mw_json_u64(j, "used", s->used_kb * 1024);
        mw_json_i64(j, "priority", s->priority);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    if (!st->have_sw)
        mw_json_str(j, "swap_devices_unavailable", st->sw_err);

    mw_json_array_begin(j, "zram");
    for (int i = 0; i < st->zr.count; i++) {
        const struct mw_zram_dev *z = &st->zr.dev[i];
        mw_json_object_begin(j, NULL);
        mw_json_u64(j, "index", (uint64_t)z->index);
        mw_json_str(j, "algorithm", z->algorithm);
        mw_json_u64(j, "disksize", z->disksize);
        mw_json_u64(j, "orig_data_size", z->orig_data_size);
        mw_json_u64(j, "compr_data_size", z->compr_data_size);
        mw_json_u64(j, "mem_used_total", z->mem_used_total);
        mw_json_fixed(j, "ratio", mw_zram_ratio(z), 2);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
}

static void json_psi(struct mw_json *j, const struct status *st)
{
    mw_json_object_begin(j, "psi");
    for (int i = 0; i < 3; i++) {
        if (!st->have_psi[i]) {
            mw_json_object_begin(j, psi_names[i]);
            mw_json_str(j, "unavailable", st->psi_err[i]);
            mw_json_object_end(j);
            continue;
        }
        mw_json_object_begin(j, psi_names[i]);
        if (i == 0 && st->scope_psi)
            mw_json_str(j, "source", "cgroup");
        json_psi_line(j, "some", &st->psi[i].some);
        if (st->psi[i].have_full)
            json_psi_line(j, "full", &st->psi[i].full);
        mw_json_object_end(j);
    }
    mw_json_object_end(j);
}

/* watermarks{} and vm{} (the machine only). */
static void json_tuning(struct mw_json *j, const struct status *st)
{
    mw_json_object_begin(j, "watermarks");
    if (st->have_zi) {
        uint64_t ps = st->page_size;
        mw_json_u64(j, "min", st->zi.min * ps);
        mw_json_u64(j, "low", st->zi.low * ps);
        mw_json_u64(j, "high", st->zi.high * ps);
        mw_json_u64(j, "free", st->zi.free * ps);
        mw_json_u64(j, "page_size", ps);
    } else {
        mw_json_str(j, "unavailable", st->zi_err);
    }
    if (st->vm.have[VM_MIN_FREE_KBYTES]) {
        mw_json_u64(j, "min_free", (uint64_t)st->vm.value[VM_MIN_FREE_KBYTES] * 1024);
        mw_json_u64(j, "min_free_default",
                    mw_default_min_free_kbytes(st->mi.kb[MI_MEM_TOTAL], st->min_free_cap_kb) *
                        1024);
    }
    mw_json_object_end(j);
    mw_json_object_begin(j, "vm");
    for (int k = 0; k < VM_KNOB_COUNT; k++)
        if (st->vm.have[k])
            mw_json_i64(j, mw_vm_knob_name((enum mw_vm_knob)k), st->vm.value[k]);
    mw_json_object_end(j);
}

/* daemon{} and verdict{}. */
static void json_guardian(struct mw_json *j, const struct status *st)
{
    mw_json_object_begin(j, "daemon");
    if (st->have_daemon) {
        mw_json_bool(j, "running", st->daemon_running);
        mw_json_i64(j, "pid", st->daemon.pid);
        mw_json_str(j, "source", st->daemon.source);
        mw_json_str(j, "strategy", st->daemon.strategy);
        mw_json_str(j, "scope", st->daemon.scope);
        mw_json_bool(j, "dry_run", st->daemon.dry_run);
        mw_json_u64(j, "kills", st->daemon.kills);
        mw_json_str(j, "last_kill", st->daemon.last_kill);
        if (st->daemon.warning[0])
            mw_json_str(j, "warning", st->daemon.warning);
        if (st->daemon.held[0])
            mw_json_str(j, "held", st->daemon.held);
    } else {
        mw_json_bool(j, "running", false);
        mw_json_str(j, "unavailable", st->daemon_err);
    }
    mw_json_object_end(j);
    mw_json_object_begin(j, "verdict");
    mw_json_str(j, "level", mw_level_name(st->verdict.level));
    mw_json_str(j, "text", st->verdict.text);
    mw_json_array_begin(j, "notes");
    for (int i = 0; i < st->verdict.nr_notes; i++)
        mw_json_str(j, NULL, st->verdict.notes[i]);
    mw_json_array_end(j);
    mw_json_object_end(j);
}

static void print_json(const struct status *st, bool live)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "source", live ? "live" : "captured");
    if (st->scope)
        json_scope(&j, st);
    json_memory(&j, st);
    if (!st->scope)
        json_host(&j, st);
    json_devices(&j, st);
    json_psi(&j, st);
    if (!st->scope)
        json_tuning(&j, st);
    json_guardian(&j, st);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static const struct mw_opt status_opts[] = {
    {"scope", 's', 0, "CGROUP",
     "show one cgroup (v1 or v2 directory, e.g.\n"
     "/sys/fs/cgroup/memory/app) as a machine: its limit (at\n"
     "most the host's RAM) is the total, its reclaimable file\n"
     "cache counts as available, its swap is bounded by its\n"
     "swap limit and the host's swap (the daemon's --scope\n"
     "sees the same machine)",
     NULL},
    {"state", 'S', 0, "FILE",
     "the daemon's state file (default " MW_DAEMON_STATE_FILE "):\n"
     "whether it runs, its pressure source, its kills",
     NULL},
    {"json", 'j', 0, NULL,
     "machine-readable output (bytes, seconds); the members\n"
     "memory{total,used,free,shared,buff_cache,available},\n"
     "swap{total,used,free} and verdict{level,text} are stable",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_status_doc = {
    .head = "NAME\n"
            "    memwarden status - memory at a glance, explained\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden [--root DIR] status [--scope CGROUP] [--state FILE] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    Shows total, used, free, shared, buff/cache and available exactly as procps\n"
            "    free(1) computes them (used = total - available), then splits buff/cache into\n"
            "    what reclaim can take (file pages, reclaimable slab) and what it cannot\n"
            "    (shmem/tmpfs, unreclaimable slab, kernel stacks, page tables); the Android\n"
            "    'dumpsys meminfo' view (Total/Free/Used/Lost RAM, ZRAM); on a systemd\n"
            "    machine the five largest units by PSS (named as systemd names them: all\n"
            "    of them with 'memwarden top --by unit'); swap devices and\n"
            "    zram compression; PSI for memory, io and cpu; zone watermarks beside\n"
            "    min_free_kbytes and the kernel's default 4*sqrt(lowmem kB); whether the\n"
            "    memwarden daemon runs and which pressure source it uses; and a verdict.\n"
            "\n"
            "    The verdict's rule: critical when available < 3 %, PSI memory full avg10\n"
            "    >= 10 %, or swap >= 95 % used with available < 10 %; low when available\n"
            "    < 10 %, PSI some >= 20 % or full >= 2 %, or swap >= 90 % used with\n"
            "    available < 20 %; moderate when available < 20 %, PSI some >= 5 %, swap\n"
            "    >= 50 % used, or free below the low watermark; ok otherwise.\n"
            "\n"
            "    A section whose file is missing or malformed says 'unavailable: <reason>'\n"
            "    and the rest still prints. Lost RAM needs every process's smaps_rollup\n"
            "    (root on a live system).\n",
    .opts = status_opts,
    .exit_ok = "shown",
    .exit_fail = "/proc/meminfo (or the scope) unreadable or malformed",
    .examples = "    memwarden status\n"
                "    memwarden --root ./field-capture status --json\n"
                "    memwarden status --scope /sys/fs/cgroup/unified/system.slice/app.service\n",
};

int cli_status(struct mw_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    int c;
    struct status *st = calloc(1, sizeof(*st));
    if (!st) {
        mw_err("out of memory");
        return MW_EXIT_FAIL;
    }
    int rc = MW_EXIT_OK;
    st->state_path = MW_DAEMON_STATE_FILE;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_status_doc)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 's':
            st->scope = optarg;
            break;
        case 'S':
            st->state_path = optarg;
            break;
        case 'h':
            mw_help(stdout, &cli_status_doc);
            goto out;
        default:
            rc = mw_opt_error("status", c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = mw_usage_error("status", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    rc = gather(ctx, st);
    if (rc != MW_EXIT_OK)
        goto out;
    if (json)
        print_json(st, st->live);
    else
        print_text(st);
out:
    free(st);
    return rc;
}
