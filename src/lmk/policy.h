/* policy: the kill decision, pure. A memory state (built from parsed
 * meminfo/vmstat/zoneinfo/PSI, or from a cgroup's files in scope mode) and
 * the explicit thrashing state go in; a decision comes out: kill or not,
 * the named reason, and the lowest oom_score_adj that may be killed.
 * Nothing here reads a file or the clock, so tests replay recorded
 * snapshots and get the daemon's exact answer. */
#ifndef MW_POLICY_H
#define MW_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "proc/cgroup.h"
#include "proc/cgunit.h"
#include "lmk/config.h"
#include "lmk/pressure.h" /* MW_EV_*: what woke the daemon */
#include "proc/meminfo.h"
#include "proc/psi.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"

/* Shortest sampling interval while memory is nearly gone (lmkd polls
 * every 10 ms after a PSI event: PSI_POLL_PERIOD_SHORT_MS). */
#define MW_POLL_MIN_MS 10
/* The rate at which memory may be eaten between two samples, as the
 * sampling assumes it (mw_policy_interval_ms): twice what the headroom
 * fell by lately (mw_mem_state.fall_kb_s), at least the machine filled
 * in MW_POLL_FILL_S or MW_POLL_RATE_MIN_KB_S, at most MW_POLL_RATE_MAX_KB_S
 * (1 GiB/s, about 1 kB a microsecond: the daemon's first assumption, and
 * still the bound of a machine of 8 GiB or more). Held still just above its
 * line in the bed's 1 GiB guest, 1 GiB/s meant a sample every 20 ms where
 * earlyoom sleeps 100 ms (issue 27); a hog that grows is seen growing, and
 * the samples close in on the line as before. */
#define MW_POLL_RATE_MAX_KB_S (1024 * 1024)
#define MW_POLL_RATE_MIN_KB_S (128 * 1024)
#define MW_POLL_FILL_S        8

/* The memory state one decision looks at; sizes in kB, counters as the
 * kernel counts them (pages/events since boot). */
struct mw_mem_state {
    uint64_t now_ms;    /* monotonic */
    uint64_t page_size; /* bytes per page of the machine (root->page_size):
                         * the builders below turned page counts with it */
    uint64_t total_kb, free_kb, available_kb, file_kb, anon_kb, shmem_kb, unevictable_kb;
    uint64_t swap_total_kb, swap_free_kb;
    uint64_t wmark_min_kb, wmark_low_kb, wmark_high_kb; /* 0: unknown */
    uint64_t refault_file;                              /* workingset_refault_file */
    uint64_t pgscan_direct; /* system: pgscan_direct; scope: failcnt / max events */
    uint64_t pgscan_kswapd;
    uint64_t file_lru_pages; /* active + inactive file, pages */
    double psi_some_avg10, psi_full_avg10;
    bool have_psi;
    bool is_scope;
    /* oom_score_adj carries no classes on this machine (most processes at
     * 0: victim.h, mw_adj_layout; or adj_mode = flat): lmkd's class floors
     * fall to 0 and the victim is chosen like the kernel's oom_badness. */
    bool adj_flat;
    /* Memory no kill can free (kB): shmem/tmpfs no process maps (at least
     * Shmem - Mapped), unreclaimable slab, the hugetlb pool. */
    uint64_t held_shmem_kb, held_slab_kb, held_hugetlb_kb;
    /* Swap no process holds (swap used minus the processes' VmSwap, from
     * the daemon's footprint sample): swapped-out tmpfs/shmem leaves Shmem
     * but is held all the same. held_swap_known: that sample is fresh;
     * without it held_swap_kb is 0 and the held growth keeps its last
     * verdict a while. */
    uint64_t held_swap_kb;
    bool held_swap_known;
    /* How fast available memory plus free swap fell lately (kB/s; 0: it
     * did not), from the samples before (lmk/memsource.h). */
    uint64_t fall_kb_s;
    unsigned events; /* MW_EV_* */
};

enum { MW_WMARK_MIN = 0, MW_WMARK_LOW = 1, MW_WMARK_HIGH = 2, MW_WMARK_NONE = 3 };

enum mw_reason {
    MW_REASON_NONE,
    MW_REASON_PRESSURE_AFTER_KILL,
    MW_REASON_CRITICAL_STALL,
    MW_REASON_LOW_SWAP_AND_THRASHING,
    MW_REASON_LOW_MEM_AND_SWAP,
    MW_REASON_LOW_MEM_AND_SWAP_UTIL,
    MW_REASON_LOW_MEM_AND_THRASHING,
    MW_REASON_DIRECT_RECLAIM_AND_THRASHING,
    MW_REASON_LOW_MEM,
    MW_REASON_MINFREE,
    MW_REASON_RUNAWAY,
    MW_REASON_LAST_LINE, /* memory and swap nearly gone (mw_policy_last_line) */
};

/* Thrashing bookkeeping that survives between samples (lmkd keeps these
 * as statics in mp_event_psi; here they are a value the caller owns). */
/* Used and held memory at one sample (held: where no kill frees it). */
struct mw_held_mark {
    uint64_t ms, used_kb, held_kb; /* ms 0: none yet */
};

struct mw_thrash {
    bool started;
    uint64_t window_start_ms, window_refault, window_file_lru;
    int64_t prev_growth_pct;
    int limit_pct; /* current limit: cut by the decay after a thrashing kill */
    uint64_t last_pgscan_direct, last_pgscan_kswapd;
    bool kill_pending_check; /* the previous cycle killed: check it helped */
    int vain_kills;          /* kills in a row that freed (almost) nothing */
    /* marks MW_HELD_WINDOW_MS apart: what the memory grew into lately */
    struct mw_held_mark held_old, held_new;
    bool held_grew;        /* the last verdict measured with swap known ... */
    uint64_t held_grew_ms; /* ... and when (kept MW_HELD_KEEP_MS while unknown) */
};

#define MW_HELD_WINDOW_MS 10000
#define MW_HELD_KEEP_MS   5000

struct mw_decision {
    bool kill;
    enum mw_reason reason;
    int min_adj; /* kill only processes at or above this oom_score_adj */
    int wmark;   /* MW_WMARK_* */
    int64_t thrashing_pct;
    bool direct_reclaim, swap_low, cut_thrashing_limit;
    bool runaway_only;     /* kill a runaway (see victim.h) or nobody */
    bool runaway_any_adj;  /* runaways at any adj >= min_adj, not only runaway_min_adj
                            * (flat, or min_adj <= 0: critical reasons, the last line) */
    bool last_line;        /* memory and swap nearly gone: min_adj is at most 0 */
    uint64_t deficit_kb;   /* to free for available (and free swap) to reach their lines */
    bool held;             /* a kill was due, but the memory is held where no kill reaches */
    char held_detail[224]; /* what holds it, how much (also when no kill was due) */
    char detail[160];      /* the numbers behind the reason, for the log */
};

/* Name of a reason as logged ("low_mem_and_swap"). */
const char *mw_reason_name(enum mw_reason r);

/* Builds the state of the whole machine. VS, ZI and PSI may be NULL
 * (unknown watermarks never count as breached). PAGE_SIZE (bytes, the
 * root's: struct mw_root) converts zoneinfo's page counts. */
void mw_state_from_system(struct mw_mem_state *st, const struct mw_meminfo *mi,
                          const struct mw_vmstat *vs, const struct mw_zoneinfo *zi,
                          const struct mw_psi *psi, uint64_t page_size, uint64_t now_ms);

/* Builds the state of a memory cgroup treated as a machine, its sizes
 * from mw_cgroup_machine (proc/cgroup.h: total = min(limit, host RAM),
 * swap bounded by the cgroup's swap limit and the host's swap): "free" is
 * the headroom plus clean file cache, watermarks are cfg->scope_*_percent
 * of the total, failcnt / "max" events stand for direct reclaim. HOST, the
 * host's /proc/meminfo, is required. PAGE_SIZE (bytes, the root's) counts
 * the file LRU in pages. */
void mw_state_from_scope(struct mw_mem_state *st, const struct mw_cgroup_mem *cg,
                         const struct mw_meminfo *host, const struct mw_config *cfg,
                         uint64_t page_size, uint64_t now_ms);

/* The lowest zone watermark free memory is below: MW_WMARK_MIN, _LOW or
 * _HIGH, else MW_WMARK_NONE (also when the watermarks are unknown). */
int mw_state_wmark(const struct mw_mem_state *st);

/* Starts thrashing bookkeeping with the configured limit. */
void mw_thrash_init(struct mw_thrash *t, const struct mw_config *cfg);

/* The decision for one sample: lmkd's new strategy (reasons in lmkd's
 * order of precedence) or the minfree levels. Updates T (thrashing
 * windows, reclaim counters). D is always filled. */
void mw_policy_decide(const struct mw_config *cfg, const struct mw_mem_state *st,
                      struct mw_thrash *t, struct mw_decision *d);

/* True when memory and swap are both nearly gone (the kernel's OOM
 * killer is next): MemAvailable under half the available_low line (or
 * under the high watermark when that line is off), and no swap or free swap under
 * swap_free_low_percentage -- a quarter of it when HELD (memory held in
 * tmpfs, which goes on into swap to its end). mw_policy_decide then kills
 * down to adj 0 whatever the reason (the "last line"), never below 0. */
bool mw_policy_last_line(const struct mw_config *cfg, const struct mw_mem_state *st, bool held);

/* Tells the policy a kill was made for decision D: the next sample checks
 * whether it helped, and a thrashing kill cuts the limit by the decay. */
void mw_policy_killed(const struct mw_config *cfg, struct mw_thrash *t,
                      const struct mw_decision *d);

/* Swap no process holds: swap in use minus PROCS_SWAP_KB (the sum of
 * every process's VmSwap), 0 when PROCS_SWAP_KB is unknown (-1). */
uint64_t mw_state_unowned_swap_kb(const struct mw_mem_state *st, int64_t procs_swap_kb);

/* Tells the policy what a kill freed: FREED_KB (growth of available
 * memory after it) against VICTIM_KB (what the victim held). A kill that
 * freed less than a quarter of it freed nothing the shortage needed. */
void mw_policy_kill_freed(struct mw_thrash *t, int64_t freed_kb, uint64_t victim_kb);

/* The lowest adj the more victims of one cycle may have (cover_deficit:
 * "until enough is freed") after a lead victim at LEAD_ADJ that is not a
 * runaway: its own class, never a more important one -- all cached apps
 * (900+) for a cached lead, else the lead's adj or above. A deficit does
 * not reach into the service class in the same cycle; the next decision
 * looks again. In the bed's g23 the deficit to 10 % available and 20 %
 * free swap took the three cached apps and the service (adj 500) at once
 * where earlyoom took the three cached apps. MIN_ADJ: the decision's own
 * floor; a flat layout has no classes (MIN_ADJ stays). */
int mw_policy_cover_floor(int lead_adj, int min_adj, bool flat);

/* Can killing the chosen victim help? VICTIM_KB is what it frees (its
 * footprint, or its group's for a runaway unit). False when the kill is
 * bound to be in vain: not at the last line, not a runaway, and it frees
 * under 1/MW_KILL_USEFUL_DIV of D's deficit and under MW_KILL_USEFUL_KB
 * (the cap keeps lmkd's one-cached-app-at-a-time kills on big machines,
 * where a 50 MiB app is 1/24 of a 1.2 GiB deficit; in the VM's g03 fifteen
 * 1 MiB tmpfs writers were killed for a complete stall with a 40 MiB
 * deficit, and the stall went on; earlyoom and the bare kernel killed
 * nothing and the machine lived). Pure. */
#define MW_KILL_USEFUL_DIV 16
#define MW_KILL_USEFUL_KB  (16 * 1024)
bool mw_policy_kill_helps(const struct mw_decision *d, uint64_t victim_kb, bool runaway);

/* Who is in a runaway's unit (lmk/sdunit.h, mw_sd_census counts it). */
struct mw_unit_census {
    int procs;          /* processes counted in the unit's cgroup and below */
    int members_in;     /* ... of them the runaway's own (its lead and group) */
    bool unsafe;        /* one that must not die with it: the daemon, PID 1, adj
                         * -1000, protected, or one memwarden keeps (sdunit.h) */
    bool cut;           /* more than the census counts, or deeper: not known whole */
    char why[64];       /* the unsafe one */
    uint64_t others_kb; /* the footprint of the processes that are not the runaway's */
};

/* Is a runaway (RUNAWAY_KB: its unit's footprint, N_MEMBERS processes)
 * its systemd unit U as a whole, to be killed with cgroup.kill? When U
 * is a service or a scope -- never a slice, a login session, init.scope
 * or a user's manager (user@UID.service) --, the census C holds every
 * member, nothing unsafe, and what else is there holds at most
 * 1/MW_UNIT_REST_DIV of what the runaway does: a build's make and shell
 * beside its jobs, a fork storm's parent beside its workers. A browser's
 * parent and renderers beside one growing tab hold more (in the distro
 * bed 64-172 MiB: over 1/8 of any tab its 439 MiB guest can hold), and
 * they are innocents: the tab dies alone. Pure. */
#define MW_UNIT_REST_DIV 8
bool mw_policy_unit_whole(const struct mw_cgunit *u, const struct mw_unit_census *c, int n_members,
                          uint64_t runaway_kb);

/* After a kill the counters lag behind the exit (a memory cgroup's swap
 * charges take ~100 ms to drop; measured with tests/live/live_daemon_scope.sh):
 * true once NOW shows the victim's memory back, i.e. available memory or
 * free swap grew by half of what the victim held (RSS, swap; kB) since
 * BEFORE, the state the kill was decided on. Until then, or until the
 * settle time passes, the daemon does not kill again. */
bool mw_policy_kill_visible(const struct mw_mem_state *before, const struct mw_mem_state *now,
                            uint64_t victim_rss_kb, uint64_t victim_swap_kb);

/* How long to sleep before the next sample when no event comes: the
 * calm period (cfg->poll_interval_ms) far from the limit, down to
 * MW_POLL_MIN_MS near it. */
uint64_t mw_policy_interval_ms(const struct mw_config *cfg, const struct mw_mem_state *st);

/* The daemon's own CPU paces its sampling: the wait before the next
 * sample is at least MW_SAMPLE_DUTY_DIV times what the last one cost
 * (COST_US: the daemon's CPU time over its last wakeup, refresh and
 * decision included), so sampling takes at most 1/MW_SAMPLE_DUTY_DIV of
 * a CPU -- but never past MW_SAMPLE_PACE_MAX_MS, and never shorter than
 * INTERVAL_MS (mw_policy_interval_ms). A fast machine keeps lmkd's 10 ms
 * near the limit (a wakeup costs ~0.1 ms natively, 2 ms with a footprint
 * refresh of 90 processes). In the distro bed's TCG guest, where a
 * wakeup costs tens of times more, the heartbeat stalled 109 times in a
 * tmpfs draw with memwarden sampling every 10 ms at SCHED_FIFO and
 * refusing every kill (held memory), 11 times without a guardian (d04).
 * PSI events still wake the daemon at once. Pure. */
#define MW_SAMPLE_DUTY_DIV    10
#define MW_SAMPLE_PACE_MAX_MS 500
uint64_t mw_policy_paced_ms(uint64_t interval_ms, uint64_t cost_us);

#endif
