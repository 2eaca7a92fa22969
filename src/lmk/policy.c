#include "lmk/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* lmkd: THRASHING_RESET_INTERVAL_MS, the window refaults are measured over. */
#define THRASHING_WINDOW_MS 1000
/* lmkd: PERCEPTIBLE_APP_ADJ, the class "do not kill unless it is bad". */
#define PERCEPTIBLE_ADJ 200
/* lmkd: CACHED_APP_MIN_ADJ, the lowest adj of the cached class. */
#define CACHED_ADJ 900

static const char *const reason_names[] = {
    [MW_REASON_NONE] = "none",
    [MW_REASON_PRESSURE_AFTER_KILL] = "pressure_after_kill",
    [MW_REASON_CRITICAL_STALL] = "critical_stall",
    [MW_REASON_LOW_SWAP_AND_THRASHING] = "low_swap_and_thrashing",
    [MW_REASON_LOW_MEM_AND_SWAP] = "low_mem_and_swap",
    [MW_REASON_LOW_MEM_AND_SWAP_UTIL] = "low_mem_and_swap_util",
    [MW_REASON_LOW_MEM_AND_THRASHING] = "low_mem_and_thrashing",
    [MW_REASON_DIRECT_RECLAIM_AND_THRASHING] = "direct_reclaim_and_thrashing",
    [MW_REASON_LOW_MEM] = "low_mem",
    [MW_REASON_MINFREE] = "minfree",
    [MW_REASON_RUNAWAY] = "low_mem_and_runaway",
    [MW_REASON_LAST_LINE] = "last_line",
};

const char *mw_reason_name(enum mw_reason r)
{
    if ((unsigned)r >= MW_ARRAY_SIZE(reason_names) || !reason_names[r])
        return "unknown";
    return reason_names[r];
}

void mw_state_from_system(struct mw_mem_state *st, const struct mw_meminfo *mi,
                          const struct mw_vmstat *vs, const struct mw_zoneinfo *zi,
                          const struct mw_psi *psi, uint64_t page_size, uint64_t now_ms)
{
    memset(st, 0, sizeof(*st));
    st->now_ms = now_ms;
    st->page_size = page_size;
    uint64_t page_kb = page_size / 1024;
    st->total_kb = mi->kb[MI_MEM_TOTAL];
    /* lmkd subtracts free CMA: movable-only pages cannot serve most
     * allocations. */
    st->free_kb = mw_sub0(mi->kb[MI_MEM_FREE], mi->kb[MI_CMA_FREE]);
    st->available_kb = mi->have[MI_MEM_AVAILABLE] ? mi->kb[MI_MEM_AVAILABLE] : st->free_kb;
    st->file_kb = mi->kb[MI_ACTIVE_FILE] + mi->kb[MI_INACTIVE_FILE];
    st->anon_kb = mi->kb[MI_ACTIVE_ANON] + mi->kb[MI_INACTIVE_ANON];
    st->shmem_kb = mi->kb[MI_SHMEM];
    st->unevictable_kb = mi->kb[MI_UNEVICTABLE];
    st->swap_total_kb = mi->kb[MI_SWAP_TOTAL];
    st->swap_free_kb = mi->kb[MI_SWAP_FREE];
    if (zi && zi->nr_zones > 0) {
        st->wmark_min_kb = zi->min * page_kb;
        st->wmark_low_kb = zi->low * page_kb;
        /* lmkd's zone_watermarks: high plus the largest lowmem reserve */
        st->wmark_high_kb =
            (zi->high_plus_protection ? zi->high_plus_protection : zi->high) * page_kb;
    }
    if (vs) {
        st->refault_file = vs->workingset_refault_file;
        st->pgscan_direct = vs->pgscan_direct;
        st->pgscan_kswapd = vs->pgscan_kswapd;
        st->file_lru_pages = vs->nr_active_file + vs->nr_inactive_file;
    } else {
        st->file_lru_pages = page_kb ? st->file_kb / page_kb : 0;
    }
    if (psi) {
        st->psi_some_avg10 = psi->some.avg10;
        st->psi_full_avg10 = psi->full.avg10;
        st->have_psi = true;
    }
    /* Mapped counts every mapped file page, shmem ones included: what
     * Shmem has beyond it is surely mapped by nobody (a lower bound). */
    st->held_shmem_kb = mw_sub0(mi->kb[MI_SHMEM], mi->kb[MI_MAPPED]);
    st->held_slab_kb = mi->kb[MI_SUNRECLAIM];
    st->held_hugetlb_kb = mi->have[MI_HUGETLB]
                              ? mi->kb[MI_HUGETLB]
                              : mi->kb[MI_HUGEPAGES_TOTAL] * mi->kb[MI_HUGEPAGESIZE];
}

void mw_state_from_scope(struct mw_mem_state *st, const struct mw_cgroup_mem *cg,
                         const struct mw_meminfo *host, const struct mw_config *cfg,
                         uint64_t page_size, uint64_t now_ms)
{
    memset(st, 0, sizeof(*st));
    st->now_ms = now_ms;
    st->page_size = page_size;
    st->is_scope = true;
    struct mw_cg_machine m;
    mw_cgroup_machine(cg, host, &m);
    const struct mw_cg_stat *s = &cg->stat;
    uint64_t file = s->active_file + s->inactive_file;
    st->total_kb = m.total / 1024;
    /* A memory cgroup has no kswapd keeping a free reserve: it fills to its
     * limit and reclaims there. Its "free" is therefore the headroom plus
     * the file cache reclaim can take without I/O (clean file pages). */
    st->free_kb = (m.headroom + m.clean_file) / 1024;
    st->available_kb = m.available / 1024;
    st->file_kb = file / 1024;
    st->anon_kb = (s->active_anon + s->inactive_anon) / 1024;
    st->shmem_kb = s->shmem / 1024;
    st->unevictable_kb = s->unevictable / 1024;
    st->swap_total_kb = m.swap_total / 1024;
    st->swap_free_kb = m.swap_free / 1024;
    st->wmark_min_kb = st->total_kb * (uint64_t)cfg->scope_min_pct / 100;
    st->wmark_low_kb = st->total_kb * (uint64_t)cfg->scope_low_pct / 100;
    st->wmark_high_kb = st->total_kb * (uint64_t)cfg->scope_high_pct / 100;
    st->refault_file = s->workingset_refault_file;
    /* Every charge that hits the limit reclaims in the allocating task:
     * the cgroup's failcnt (v1) / "max" events (v2) are its direct reclaim. */
    st->pgscan_direct = cg->ev_max;
    st->pgscan_kswapd = 0;
    st->file_lru_pages = page_size ? file / page_size : 0;
    if (cg->have_psi) {
        st->psi_some_avg10 = cg->psi.some.avg10;
        st->psi_full_avg10 = cg->psi.full.avg10;
        st->have_psi = true;
    }
}

int mw_state_wmark(const struct mw_mem_state *st)
{
    if (st->wmark_high_kb == 0)
        return MW_WMARK_NONE; /* unknown watermarks: never "below" */
    if (st->free_kb < st->wmark_min_kb)
        return MW_WMARK_MIN;
    if (st->free_kb < st->wmark_low_kb)
        return MW_WMARK_LOW;
    if (st->free_kb < st->wmark_high_kb)
        return MW_WMARK_HIGH;
    return MW_WMARK_NONE;
}

void mw_thrash_init(struct mw_thrash *t, const struct mw_config *cfg)
{
    memset(t, 0, sizeof(*t));
    t->limit_pct = cfg->thrashing_limit_pct;
}

/* Thrashing as lmkd measures it: the file pages refaulted in the current
 * 1 s window as a percentage of the file LRU size at the window's start,
 * plus the previous window's value halved for every window that passed
 * (so a burst fades out instead of vanishing at a window edge). */
static int64_t thrash_update(struct mw_thrash *t, const struct mw_mem_state *st,
                             const struct mw_config *cfg)
{
    if (!t->started) {
        t->started = true;
        t->window_start_ms = st->now_ms;
        t->window_refault = st->refault_file;
        t->window_file_lru = st->file_lru_pages;
        t->last_pgscan_direct = st->pgscan_direct;
        t->last_pgscan_kswapd = st->pgscan_kswapd;
        t->prev_growth_pct = 0;
        return 0; /* the limit stays: a kill's cut lasts until the window ends */
    }
    int64_t thrashing = 0;
    uint64_t since = st->now_ms - t->window_start_ms;
    if (st->refault_file < t->window_refault) /* counter reset (cgroup recreated) */
        t->window_refault = st->refault_file;
    if (since > THRASHING_WINDOW_MS) {
        uint64_t windows = since / THRASHING_WINDOW_MS;
        int64_t growth =
            (int64_t)((st->refault_file - t->window_refault) * 100 / (t->window_file_lru + 1));
        /* lmkd keeps an over-the-limit value for one window when nothing
         * could be killed, so a new candidate is still killed. */
        if (windows > 1 || growth < t->limit_pct)
            growth = windows >= 63 ? 0 : growth >> windows;
        t->prev_growth_pct = growth;
        t->window_file_lru = st->file_lru_pages;
        t->window_refault = st->refault_file;
        t->window_start_ms = st->now_ms;
        t->limit_pct = cfg->thrashing_limit_pct; /* a new window forgives the cuts */
    } else {
        thrashing =
            (int64_t)((st->refault_file - t->window_refault) * 100 / (t->window_file_lru + 1));
    }
    return thrashing + t->prev_growth_pct;
}

/* Available memory under this counts as low (available_low_percentage
 * of the total; 0 when that is off). */
static uint64_t avail_line_kb(const struct mw_config *cfg, const struct mw_mem_state *st)
{
    return st->total_kb * (uint64_t)cfg->available_low_pct / 100;
}

static int swap_util_pct(const struct mw_mem_state *st)
{
    uint64_t used = mw_sub0(st->swap_total_kb, st->swap_free_kb);
    uint64_t swappable = used + st->anon_kb;
    return swappable ? (int)(used * 100 / swappable) : 0;
}

static void decide_minfree(const struct mw_config *cfg, const struct mw_mem_state *st,
                           struct mw_decision *d)
{
    /* lmkd's use_minfree_levels: other_free and other_file both below a
     * level's threshold allow kills at that level's adj. other_file is
     * the page cache that is not shmem or unevictable. */
    uint64_t other_file = mw_sub0(mw_sub0(st->file_kb, st->shmem_kb), st->unevictable_kb);
    if (st->is_scope)
        other_file = mw_sub0(st->file_kb, st->shmem_kb);
    uint64_t other_free = st->is_scope ? mw_sub0(st->free_kb, other_file) : st->free_kb;
    for (int i = 0; i < cfg->minfree_n; i++) {
        uint64_t minfree = cfg->minfree[i].free_kb;
        if (other_free < minfree && other_file < minfree) {
            d->kill = true;
            d->reason = MW_REASON_MINFREE;
            d->min_adj = cfg->minfree[i].adj;
            snprintf(d->detail, sizeof(d->detail),
                     "free %llukB and file %llukB below %llukB for adj %d",
                     (unsigned long long)other_free, (unsigned long long)other_file,
                     (unsigned long long)minfree, cfg->minfree[i].adj);
            return;
        }
    }
}

/* What one sample says, computed once for the reason ladder. */
struct decide_ctx {
    int wm;              /* MW_WMARK_* */
    const char *wm_name; /* "min" or "low" */
    bool low;            /* free below the low watermark */
    bool short_mem;      /* low, or MemAvailable under the available_low line */
    bool swap_low;
    uint64_t swap_low_kb, avail_line_kb;
    bool direct, after_kill, pressure;
    int64_t thrashing;
    bool thrashing_hurts;
    int thrash_critical;
    int soft_adj;   /* lmkd: above perceptible (thrashing_min_adj + 1) */
    int medium_adj; /* cfg->medium_adj */
};

static void decide_ctx_fill(const struct mw_config *cfg, const struct mw_mem_state *st,
                            struct mw_thrash *t, struct decide_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->wm = mw_state_wmark(st);
    c->wm_name = c->wm == MW_WMARK_MIN ? "min" : "low";
    c->direct = st->pgscan_direct != t->last_pgscan_direct;
    t->last_pgscan_direct = st->pgscan_direct;
    t->last_pgscan_kswapd = st->pgscan_kswapd;
    c->thrashing = thrash_update(t, st, cfg);
    c->swap_low_kb = st->swap_total_kb * (uint64_t)cfg->swap_free_low_pct / 100;
    c->swap_low = st->swap_total_kb > 0 && st->swap_free_kb < c->swap_low_kb;
    c->after_kill = t->kill_pending_check;
    t->kill_pending_check = false;
    c->thrash_critical = t->limit_pct * 2; /* lmkd ro.lmk.thrashing_limit_critical default */
    /* A flat adj layout (st->adj_flat) has no classes to spare: the
     * "above perceptible" and "medium" floors mean nothing there, and the
     * kernel's oom_badness order (victim.h) decides instead. */
    c->soft_adj = st->adj_flat ? 0 : cfg->thrashing_min_adj + 1;
    c->medium_adj = st->adj_flat ? 0 : cfg->medium_adj;
    /* lmkd's conditions say "wmark < WMARK_HIGH": free below the low
     * watermark, where kswapd is already behind. */
    c->low = c->wm < MW_WMARK_HIGH;
    /* Low memory also when MemAvailable is under available_low_percentage
     * of the total: see the default's comment in config.c. */
    c->avail_line_kb = avail_line_kb(cfg, st);
    c->short_mem = c->low || st->available_kb < c->avail_line_kb;
    /* Thrashing counts only when tasks really stall (PSI full). */
    bool stalled = !st->have_psi || cfg->thrashing_psi_full <= 0 ||
                   st->psi_full_avg10 >= cfg->thrashing_psi_full;
    c->thrashing_hurts = c->thrashing > t->limit_pct && stalled;
    c->pressure =
        (st->events & (MW_EV_PARTIAL_STALL | MW_EV_COMPLETE_STALL | MW_EV_PRESSURE_WINDOW)) != 0;
}

static void set_reason(struct mw_decision *d, enum mw_reason r, int min_adj, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_reason(struct mw_decision *d, enum mw_reason r, int min_adj, const char *fmt, ...)
{
    va_list ap;
    d->reason = r;
    d->min_adj = min_adj;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
    va_end(ap);
}

/* lmkd's reasons that need a stall, swap or thrashing (first in its
 * order). Returns true when one applies. */
static bool ladder_stall_swap(const struct mw_config *cfg, const struct mw_mem_state *st,
                              const struct decide_ctx *c, struct mw_decision *d)
{
    unsigned long long swap_free = st->swap_free_kb, swap_line = c->swap_low_kb;
    if (c->after_kill && c->wm == MW_WMARK_MIN) {
        /* a process eats memory faster than the kill freed it */
        set_reason(d, MW_REASON_PRESSURE_AFTER_KILL, cfg->critical_adj,
                   "min watermark still breached after a kill");
    } else if ((st->events & MW_EV_COMPLETE_STALL) &&
               ((c->short_mem && st->available_kb < 2 * c->avail_line_kb) || c->swap_low ||
                c->thrashing_hurts)) {
        /* lmkd kills on a complete stall alone. Here the stall must come
         * with a sign of memory shortage: /proc/pressure/memory also counts
         * tasks stalled at their own cgroup's limit, and a machine-wide kill
         * would punish a process that has nothing to do with that limit.
         * Free pages under the low watermark are no such sign while
         * MemAvailable is above twice the available line (as for LOW_MEM
         * below): a file stream keeps them there, and on the arm64 guest
         * (slower emulated I/O: PSI full 12 s of s3's 30 s) its stalls
         * passed 700 ms a window with 53 % of RAM available, and two idle
         * cached apps died for nothing. */
        set_reason(d, MW_REASON_CRITICAL_STALL, cfg->critical_adj,
                   "complete stall above %llums per window: nothing runs",
                   (unsigned long long)cfg->psi_complete_stall_ms);
    } else if (c->swap_low && c->thrashing_hurts) {
        /* lmkd: spare perceptible processes unless below the min
         * watermark or thrashing at the critical level */
        int adj = c->wm != MW_WMARK_MIN && c->thrashing < c->thrash_critical ? c->soft_adj
                                                                             : cfg->critical_adj;
        set_reason(d, MW_REASON_LOW_SWAP_AND_THRASHING, adj,
                   "swap free %llukB < %llukB and thrashing %lld%%", swap_free, swap_line,
                   (long long)c->thrashing);
    } else if (c->swap_low && c->short_mem) {
        int adj = c->wm == MW_WMARK_MIN ? cfg->critical_adj : c->soft_adj;
        if (c->low)
            set_reason(d, MW_REASON_LOW_MEM_AND_SWAP, adj,
                       "%s watermark breached and swap free %llukB < %llukB", c->wm_name, swap_free,
                       swap_line);
        else
            set_reason(d, MW_REASON_LOW_MEM_AND_SWAP, adj,
                       "available %llukB < %d%% and swap free %llukB < %llukB",
                       (unsigned long long)st->available_kb, cfg->available_low_pct, swap_free,
                       swap_line);
    } else {
        return false;
    }
    return true;
}

/* lmkd's reasons that need the low watermark breached (the rest of its
 * order). Returns true when one applies. */
static bool ladder_low(const struct mw_config *cfg, const struct mw_mem_state *st,
                       const struct mw_thrash *t, const struct decide_ctx *c, struct mw_decision *d)
{
    bool crit = c->thrashing >= c->thrash_critical;
    if (c->low && cfg->swap_util_max_pct < 100 && swap_util_pct(st) > cfg->swap_util_max_pct) {
        set_reason(d, MW_REASON_LOW_MEM_AND_SWAP_UTIL,
                   c->wm == MW_WMARK_MIN ? cfg->critical_adj : c->soft_adj,
                   "%s watermark breached and swap utilization %d%% > %d%%", c->wm_name,
                   swap_util_pct(st), cfg->swap_util_max_pct);
    } else if (c->low && c->thrashing_hurts) {
        set_reason(d, MW_REASON_LOW_MEM_AND_THRASHING, crit ? cfg->critical_adj : c->soft_adj,
                   "%s watermark breached and thrashing %lld%% > %d%%", c->wm_name,
                   (long long)c->thrashing, t->limit_pct);
        d->cut_thrashing_limit = true;
    } else if (c->direct && c->thrashing_hurts) {
        set_reason(
            d, MW_REASON_DIRECT_RECLAIM_AND_THRASHING, crit ? cfg->critical_adj : c->soft_adj,
            "direct reclaim and thrashing %lld%% > %d%%", (long long)c->thrashing, t->limit_pct);
        d->cut_thrashing_limit = true;
    } else if (c->low) {
        /* No swap to fall back on and no page cache left to drop: the
         * next allocations fail -- anything but the critical few may go. */
        uint64_t cache_bar =
            cfg->filecache_min_kb > st->wmark_high_kb ? cfg->filecache_min_kb : st->wmark_high_kb;
        bool exhausted = (st->swap_total_kb == 0 || c->swap_low) &&
                         mw_sub0(st->file_kb, st->shmem_kb) < cache_bar;
        if (exhausted) {
            set_reason(d, MW_REASON_LOW_MEM,
                       c->wm == MW_WMARK_MIN ? cfg->critical_adj : c->medium_adj,
                       "%s watermark breached, file cache %llukB, no swap left", c->wm_name,
                       (unsigned long long)st->file_kb);
        } else if (c->pressure && cfg->lowmem_min_adj <= 1000 && !st->adj_flat &&
                   st->available_kb < 2 * st->total_kb * (uint64_t)cfg->available_low_pct / 100) {
            /* lmkd's LOW_MEM: under pressure with the low watermark
             * breached, cached processes go first (adj > previous app).
             * A flat layout has no cached class: nobody goes for this.
             * Only when memory is short too: with the zram recipe's
             * watermark_scale_factor = 125 the low watermark sits high and
             * a file stream keeps free pages at it -- the VM's s3 tuned
             * guest lost a cached app with 47 % of RAM available. */
            set_reason(d, MW_REASON_LOW_MEM, cfg->lowmem_min_adj,
                       "%s watermark breached under pressure", c->wm_name);
        }
    }
    return d->reason != MW_REASON_NONE;
}

/* Swap is still there and nothing thrashes, but memory is short and
 * someone waits for it (or it is half gone again): a process growing at
 * a runaway rate would take the swap too within seconds. On the VM bed's
 * small machine PSI stalls began only when free memory had reached the
 * min watermark, and the kill then waited for the kernel's own
 * allocations. Only a runaway may die for this (the victim chooser finds
 * one or kills nobody). */
static void decide_runaway(const struct mw_config *cfg, const struct mw_mem_state *st,
                           const struct decide_ctx *c, struct mw_decision *d)
{
    /* Half the available_low line: short enough to act without a stall. */
    bool avail_very_low = st->available_kb < c->avail_line_kb / 2;
    if (!c->short_mem || !(c->pressure || avail_very_low) || cfg->runaway_fill_ms == 0)
        return;
    set_reason(d, MW_REASON_RUNAWAY, st->adj_flat ? 0 : cfg->runaway_min_adj,
               "available %llukB%s%s", (unsigned long long)st->available_kb,
               c->low ? ", below the low watermark" : "",
               c->pressure ? " under pressure" : ", under half the available_low line");
    d->runaway_only = true;
    d->runaway_any_adj = st->adj_flat;
}

bool mw_policy_last_line(const struct mw_config *cfg, const struct mw_mem_state *st, bool held)
{
    /* Memory: MemAvailable under half the available_low line (5 % of the
     * total at the default 10 %: earlyoom's SIGKILL line is half its
     * SIGTERM line); with that line off, under the high watermark. Free
     * memory under the min watermark alone is not enough: with page cache
     * to reclaim (MemAvailable high) the kernel still finds memory. */
    uint64_t line = avail_line_kb(cfg, st) / 2;
    bool mem_gone = st->available_kb < (line ? line : st->wmark_high_kb);
    /* Swap: none, or under swap_free_low_percentage (20 %). With zram the
     * last fifth cannot be used once RAM is gone (zram keeps its pages in
     * RAM): the VM log has the kernel's OOM killer firing at
     * 52220 kB free of 262140 kB (19.9 %) and available 12508 kB (2.7 %). */
    uint64_t swap_low_kb = st->swap_total_kb * (uint64_t)cfg->swap_free_low_pct / 100;
    /* ... but memory held in tmpfs goes on into swap to its end: in the
     * bed's g12 and g23 (tmpfs writers, no guardian) the kernel's OOM
     * killer fired at 0 kB of swap free, and a kill at a fifth free only
     * made room for more tmpfs (g03: the heartbeat died in vain). */
    if (held)
        swap_low_kb /= 4;
    bool swap_gone = st->swap_total_kb == 0 || st->swap_free_kb < swap_low_kb;
    return st->total_kb > 0 && mem_gone && swap_gone; /* no total: nothing known */
}

/* The last line: memory and swap nearly gone means the kernel's OOM
 * killer is next, and it takes any process; the lowest killable adj falls
 * to 0 whatever the reason said (never below 0: a negative adj is an
 * owner's explicit wish, and -1000 is the kernel's own "never"). A runaway
 * at any adj >= 0 then goes first. */
static void apply_last_line(const struct mw_config *cfg, const struct mw_mem_state *st, bool held,
                            struct mw_decision *d)
{
    if (!mw_policy_last_line(cfg, st, held))
        return;
    d->last_line = true;
    if (d->reason == MW_REASON_NONE) {
        set_reason(d, MW_REASON_LAST_LINE, 0,
                   "available %llukB and swap free %llukB of %llukB: the kernel OOM killer is next",
                   (unsigned long long)st->available_kb, (unsigned long long)st->swap_free_kb,
                   (unsigned long long)st->swap_total_kb);
    } else if (d->min_adj > 0) {
        size_t n = strlen(d->detail);
        snprintf(d->detail + n, sizeof(d->detail) - n, "; last line: adj %d -> 0", d->min_adj);
        d->min_adj = 0;
    }
    if (d->min_adj > 0)
        d->min_adj = 0;
    d->runaway_only = false;
    d->runaway_any_adj = true;
}

/* The memory a deficit asks for: back up to the available_low line, and
 * the free swap back to its low line when that is crossed (kB). */
static uint64_t deficit_kb(const struct decide_ctx *c, const struct mw_mem_state *st)
{
    uint64_t def = mw_sub0(c->avail_line_kb, st->available_kb);
    if (c->swap_low)
        def += mw_sub0(c->swap_low_kb, st->swap_free_kb);
    return def;
}

/* Whether at least half of what used memory grew by since mark M (and
 * at least 1/32 of TOTAL) went where no kill frees it; the growth in
 * D_USED and D_HELD. */
static bool grew_held_since(const struct mw_held_mark *m, uint64_t used, uint64_t held,
                            uint64_t total, uint64_t *d_used, uint64_t *d_held)
{
    if (m->ms == 0 || used <= m->used_kb)
        return false;
    *d_used = used - m->used_kb;
    *d_held = mw_sub0(held, m->held_kb);
    return *d_used >= total / 32 && *d_held * 2 >= *d_used;
}

/* Whether the recent growth of used memory went mostly where no kill
 * frees it: since the mark 10 to 20 s old, or since the newer one (0 to
 * 10 s old) -- what started a while ago (the bed's g10: 180 MB of apps
 * starting up, then tmpfs) must not hide what grows now. Rotates the
 * marks. */
static bool held_growth(const struct mw_mem_state *st, struct mw_thrash *t, uint64_t used,
                        uint64_t held, uint64_t *d_used, uint64_t *d_held)
{
    struct mw_held_mark now = {st->now_ms ? st->now_ms : 1, used, held};
    if (t->held_new.ms == 0 || now.ms < t->held_new.ms) {
        t->held_old = (struct mw_held_mark){0, 0, 0};
        t->held_new = now;
        return false;
    }
    if (now.ms - t->held_new.ms >= MW_HELD_WINDOW_MS) {
        t->held_old = t->held_new;
        t->held_new = now;
    }
    return grew_held_since(&t->held_old, used, held, st->total_kb, d_used, d_held) ||
           grew_held_since(&t->held_new, used, held, st->total_kb, d_used, d_held);
}

/* Memory held where no kill frees it (tmpfs nobody maps, kernel slab,
 * hugepages), now and in the recent growth. */
struct held {
    uint64_t held, shmem, used; /* kB; used: anon LRU + slab + hugepages (+ swap): held_eval */
    uint64_t d_used, d_held;    /* the recent growth of used, and of held */
    bool dominant;              /* at least half of used is held */
    bool grew;                  /* at least half of the recent growth went there */
};

/* Fills H for ST (rotating T's marks: call once per sample). */
static void held_eval(const struct mw_mem_state *st, struct mw_thrash *t, struct held *h)
{
    memset(h, 0, sizeof(*h));
    uint64_t swap_used = mw_sub0(st->swap_total_kb, st->swap_free_kb);
    bool swap_known = swap_used == 0 || st->held_swap_known;
    h->shmem = st->held_shmem_kb + st->held_swap_kb;
    h->held = h->shmem + st->held_slab_kb + st->held_hugetlb_kb;
    /* used: what processes, tmpfs and the kernel hold, each page once at
     * its own size -- the anon LRU (resident tmpfs is on it), slab,
     * hugepages, and swap when the swap nobody holds is known (else RAM
     * alone on both sides). Not RAM minus MemAvailable: that also counts
     * zram's compressed copy of every page in swap, and in the bed's g03
     * (tmpfs pushed into zram) made half of the growth look like the
     * apps' while only tmpfs grew. */
    h->used = st->anon_kb + st->held_slab_kb + st->held_hugetlb_kb + (swap_known ? swap_used : 0);
    h->dominant = h->held > 0 && h->held * 2 >= h->used;
    /* growth: only from samples whose swap nobody holds is known: with
     * swap in use and that sample stale, swapped-out tmpfs would look
     * freed and the verdict flip (the bed's g03 lost its heartbeat so) --
     * the last known verdict holds for MW_HELD_KEEP_MS instead */
    if (!swap_known) {
        h->grew = t->held_grew_ms && st->now_ms >= t->held_grew_ms &&
                  st->now_ms - t->held_grew_ms <= MW_HELD_KEEP_MS && t->held_grew;
        return;
    }
    h->grew = held_growth(st, t, h->used, h->held, &h->d_used, &h->d_held);
    t->held_grew = h->grew;
    t->held_grew_ms = st->now_ms ? st->now_ms : 1;
}

/* Never kill in vain: when at least half of the used memory is held
 * where no kill reaches, or at least half of what used memory grew by
 * lately went there (tmpfs being written: a kill only buys time until it
 * fills again), or the last two kills freed nothing, a kill is refused --
 * except at the last line, where the kernel's OOM killer would kill
 * anyway. In the VM run a 330 MB tmpfs file cost three cached
 * apps their lives and the stall did not get shorter; in the bed's g27 31
 * tmpfs writers cost two while half of the used memory was still the
 * apps'. */
static void held_check(const struct held *h, const struct mw_mem_state *st,
                       const struct mw_thrash *t, struct mw_decision *d)
{
    char why[96] = "";
    if (t->vain_kills >= 2)
        snprintf(why, sizeof(why), "; the last kills freed nothing");
    else if (h->grew && !h->dominant)
        snprintf(why, sizeof(why), "; %llukB of the last %llukB of growth went there",
                 (unsigned long long)h->d_held, (unsigned long long)h->d_used);
    bool refuse = h->dominant || h->grew || t->vain_kills >= 2;
    if (refuse)
        snprintf(d->held_detail, sizeof(d->held_detail),
                 "%llukB of %llukB used is held where no kill frees it (tmpfs/shmem unmapped "
                 "%llukB, kernel slab %llukB, hugepages %llukB)%s",
                 (unsigned long long)h->held, (unsigned long long)h->used,
                 (unsigned long long)h->shmem, (unsigned long long)st->held_slab_kb,
                 (unsigned long long)st->held_hugetlb_kb, why);
    if (d->kill && !d->last_line && refuse) {
        d->kill = false;
        d->held = true;
    }
}

uint64_t mw_state_unowned_swap_kb(const struct mw_mem_state *st, int64_t procs_swap_kb)
{
    if (procs_swap_kb < 0)
        return 0;
    return mw_sub0(mw_sub0(st->swap_total_kb, st->swap_free_kb), (uint64_t)procs_swap_kb);
}

void mw_policy_kill_freed(struct mw_thrash *t, int64_t freed_kb, uint64_t victim_kb)
{
    if (freed_kb * 4 < (int64_t)victim_kb)
        t->vain_kills++;
    else
        t->vain_kills = 0;
}

int mw_policy_cover_floor(int lead_adj, int min_adj, bool flat)
{
    if (flat)
        return min_adj;
    int floor = lead_adj >= CACHED_ADJ ? CACHED_ADJ : lead_adj;
    return floor > min_adj ? floor : min_adj;
}

bool mw_policy_kill_helps(const struct mw_decision *d, uint64_t victim_kb, bool runaway)
{
    if (d->last_line || runaway || d->deficit_kb == 0)
        return true;
    return victim_kb >= MW_KILL_USEFUL_KB || victim_kb * MW_KILL_USEFUL_DIV >= d->deficit_kb;
}

void mw_policy_decide(const struct mw_config *cfg, const struct mw_mem_state *st,
                      struct mw_thrash *t, struct mw_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->min_adj = 1001;
    struct decide_ctx c;
    decide_ctx_fill(cfg, st, t, &c);
    struct held h;
    held_eval(st, t, &h);
    d->wmark = c.wm;
    d->thrashing_pct = c.thrashing;
    d->direct_reclaim = c.direct;
    d->swap_low = c.swap_low;
    if (cfg->strategy == MW_STRATEGY_MINFREE) {
        decide_minfree(cfg, st, d);
    } else if (!ladder_stall_swap(cfg, st, &c, d) && !ladder_low(cfg, st, t, &c, d)) {
        decide_runaway(cfg, st, &c, d);
    }
    if (cfg->strategy != MW_STRATEGY_MINFREE) {
        /* flat: no classes (decide_ctx_fill); the minfree table is an
         * explicit per-adj configuration and stays as written */
        if (st->adj_flat && d->reason != MW_REASON_NONE && d->min_adj > 0)
            d->min_adj = 0;
        /* the deeper line is for tmpfs/shmem (swappable), not slab */
        apply_last_line(cfg, st, (h.dominant || h.grew) && h.shmem * 2 >= h.held, d);
    }
    d->deficit_kb = deficit_kb(&c, st);
    if (d->reason != MW_REASON_NONE)
        d->kill = true;
    /* A decision that may kill at adj 0 kills a runaway there first: in
     * the VM's g25 a foreground leaker (adj 0, 45 MB/s) outlived three
     * idle cached apps that a complete stall killed one by one. */
    if (d->kill && d->min_adj <= 0)
        d->runaway_any_adj = true;
    held_check(&h, st, t, d);
}

void mw_policy_killed(const struct mw_config *cfg, struct mw_thrash *t, const struct mw_decision *d)
{
    (void)cfg;
    t->kill_pending_check = true;
    /* lmkd: after a kill, file LRU size and refaults are measured afresh */
    t->started = false;
    if (d->cut_thrashing_limit)
        t->limit_pct = t->limit_pct * (100 - cfg->thrashing_limit_decay_pct) / 100;
}

bool mw_policy_kill_visible(const struct mw_mem_state *before, const struct mw_mem_state *now,
                            uint64_t victim_rss_kb, uint64_t victim_swap_kb)
{
    bool mem_back =
        victim_rss_kb > 0 && now->available_kb >= before->available_kb + victim_rss_kb / 2;
    bool swap_back =
        victim_swap_kb > 0 && now->swap_free_kb >= before->swap_free_kb + victim_swap_kb / 2;
    if (victim_rss_kb == 0 && victim_swap_kb == 0)
        return true; /* nothing to wait for */
    /* both must be back when the victim held both: a low-swap decision
     * needs the swap, a low-memory one the memory */
    if (victim_rss_kb / 2 > 0 && victim_swap_kb / 2 > 0)
        return mem_back && swap_back;
    return mem_back || swap_back;
}

uint64_t mw_policy_interval_ms(const struct mw_config *cfg, const struct mw_mem_state *st)
{
    /* earlyoom's idea: sleep as long as memory cannot run out meanwhile.
     * The headroom is what may still be allocated before a kill is due
     * (memory above the min watermark, plus swap above its low mark),
     * eaten at the rate of MW_POLL_RATE_*. */
    uint64_t rate = 2 * st->fall_kb_s;
    if (rate < st->total_kb / MW_POLL_FILL_S)
        rate = st->total_kb / MW_POLL_FILL_S;
    if (rate < MW_POLL_RATE_MIN_KB_S)
        rate = MW_POLL_RATE_MIN_KB_S;
    if (rate > MW_POLL_RATE_MAX_KB_S)
        rate = MW_POLL_RATE_MAX_KB_S;
    uint64_t mem_head = mw_sub0(st->available_kb, st->wmark_min_kb);
    uint64_t swap_low_kb = st->swap_total_kb * (uint64_t)cfg->swap_free_low_pct / 100;
    uint64_t swap_head = mw_sub0(st->swap_free_kb, swap_low_kb);
    uint64_t ms = (mem_head + swap_head) * 1000 / rate;
    /* Runaways are looked for once available memory is under half the
     * available_low line: reach that line in time too. */
    uint64_t line = avail_line_kb(cfg, st) / 2;
    if (cfg->runaway_fill_ms > 0 && st->available_kb > line &&
        (st->available_kb - line) * 1000 / rate < ms)
        ms = (st->available_kb - line) * 1000 / rate;
    if (ms < MW_POLL_MIN_MS)
        ms = MW_POLL_MIN_MS;
    if (ms > cfg->poll_interval_ms)
        ms = cfg->poll_interval_ms;
    return ms;
}

uint64_t mw_policy_paced_ms(uint64_t interval_ms, uint64_t cost_us)
{
    uint64_t pace_ms = cost_us * MW_SAMPLE_DUTY_DIV / 1000;
    if (pace_ms > MW_SAMPLE_PACE_MAX_MS)
        pace_ms = MW_SAMPLE_PACE_MAX_MS;
    return pace_ms > interval_ms ? pace_ms : interval_ms;
}

bool mw_policy_unit_whole(const struct mw_cgunit *u, const struct mw_unit_census *c, int n_members,
                          uint64_t runaway_kb)
{
    char id[32];
    if (u->type != MW_UNIT_SERVICE && u->type != MW_UNIT_SCOPE)
        return false; /* a slice, a socket's or a mount's helper */
    if (strcmp(mw_cgunit_name(u), "init.scope") == 0 ||
        mw_cgunit_session_id(u->unit, id, sizeof(id)) == 0)
        return false; /* PID 1's or the user manager's own, a login (the user's shell) */
    if (!u->user_unit[0] && u->have_uid)
        return false; /* user@UID.service itself: every program of the user */
    if (c->unsafe || c->cut || c->members_in != n_members || n_members <= 0)
        return false;
    return c->others_kb * MW_UNIT_REST_DIV <= runaway_kb;
}
