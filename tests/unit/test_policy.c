/* Policy tests: for every kill reason, a snapshot that triggers it and one
 * just short of it. The base snapshot is this machine's real meminfo,
 * vmstat, zoneinfo and PSI (tests/fixtures/daemon-host), parsed as the
 * daemon parses them; each test then moves the numbers that matter to the
 * edge of a rule. The scope tests start from a real v1 memory cgroup
 * captured near its 64 MiB limit (tests/fixtures/daemon-scope-v1). */
#include <unistd.h>

#include "harness.h"
#include "cli/cli.h"

#include "proc/cgroup.h"
#include "lmk/config.h"
#include "proc/meminfo.h"
#include "lmk/policy.h"
#include "model/snapshot.h"
#include "proc/psi.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"

static struct mw_meminfo host_mi;
static struct mw_vmstat host_vs;
static struct mw_zoneinfo host_zi;
static struct mw_psi host_psi;
static int loaded = -1;

static int load_host(void)
{
    if (loaded >= 0)
        return loaded;
    struct mw_root r;
    loaded = 0;
    if (mw_root_open(&r, MW_FIXTURES "/daemon-host") < 0)
        return 0;
    loaded = mw_meminfo_read(&r, &host_mi, NULL) == 0 && mw_vmstat_read(&r, &host_vs, NULL) == 0 &&
             mw_zoneinfo_read(&r, &host_zi, NULL) == 0 &&
             mw_psi_read(&r, "/proc/pressure/memory", &host_psi, NULL) == 0;
    mw_root_close(&r);
    return loaded;
}

/* The real snapshot as a state at time NOW_MS. */
static void base(struct mw_mem_state *st, uint64_t now_ms)
{
    mw_state_from_system(st, &host_mi, &host_vs, &host_zi, &host_psi, 4096, now_ms);
}

/* Runs a first (baseline) sample and then ST through the policy. */
static void decide2(const struct mw_config *cfg, struct mw_mem_state *first,
                    struct mw_mem_state *st, struct mw_thrash *t, struct mw_decision *d)
{
    mw_thrash_init(t, cfg);
    mw_policy_decide(cfg, first, t, d);
    mw_policy_decide(cfg, st, t, d);
}

static void test_real_snapshot_is_calm(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    base(&a, 1000);
    base(&b, 1500);
    CHECK(a.wmark_min_kb > 0 && a.wmark_min_kb < a.wmark_low_kb &&
          a.wmark_low_kb < a.wmark_high_kb);
    CHECK_EQ_INT(mw_state_wmark(&a), MW_WMARK_NONE);
    struct mw_thrash t;
    struct mw_decision d;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    CHECK_EQ_INT(d.reason, MW_REASON_NONE);
    /* calm: sleep the full period */
    CHECK_EQ_U64(mw_policy_interval_ms(&cfg, &b), cfg.poll_interval_ms);
}

/* Free memory between min and low; swap configured (1 GiB). */
static void low_mem_with_swap(struct mw_mem_state *st, uint64_t now, uint64_t swap_free_kb)
{
    base(st, now);
    st->free_kb = st->wmark_min_kb + 1; /* below low, above min */
    st->swap_total_kb = 1048576;
    st->swap_free_kb = swap_free_kb;
}

static void test_low_mem_and_swap(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    uint64_t thr = 1048576 * 20 / 100; /* swap_free_low_percentage 20 */
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    low_mem_with_swap(&a, 1000, thr - 1);
    low_mem_with_swap(&b, 1100, thr - 1);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
    CHECK_EQ_INT(d.min_adj, 201); /* above min: perceptible spared */
    CHECK_CONTAINS(d.detail, "low watermark breached");
    /* below the min watermark: down to the critical adj */
    b.free_kb = b.wmark_min_kb - 1;
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK_EQ_INT(d.min_adj, 0);
    /* just short: swap free exactly at the threshold */
    low_mem_with_swap(&a, 1000, thr);
    low_mem_with_swap(&b, 1100, thr);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    /* just short: swap low but free memory at the high watermark */
    low_mem_with_swap(&a, 1000, thr - 1);
    low_mem_with_swap(&b, 1100, thr - 1);
    b.free_kb = b.wmark_low_kb;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

/* Thrashing of exactly PCT percent (file LRU 999 pages, so +1 = 1000). */
static void thrash_pair(struct mw_mem_state *a, struct mw_mem_state *b, uint64_t refault_pct10)
{
    a->file_lru_pages = 999;
    b->file_lru_pages = 999;
    b->refault_file = a->refault_file + refault_pct10; /* pages; 1000 pages = 100 % */
    /* tasks really stall: PSI full at the thrashing_psi_full default */
    a->have_psi = b->have_psi = true;
    a->psi_full_avg10 = b->psi_full_avg10 = 20.0;
}

static void test_low_swap_and_thrashing(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.swap_total_kb = 1048576;
    a.swap_free_kb = 1000; /* swap low, memory plentiful */
    b = a;
    b.now_ms = 1500;
    thrash_pair(&a, &b, 1010); /* 101 % > 100 */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_swap_and_thrashing");
    CHECK_EQ_INT(d.thrashing_pct, 101);
    CHECK_EQ_INT(d.min_adj, 201);
    thrash_pair(&a, &b, 1009); /* 100 %: not above the limit */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    CHECK_EQ_INT(d.thrashing_pct, 100);
}

static void test_low_mem_and_swap_util(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.swap_util_max_pct = 50;
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.free_kb = a.wmark_low_kb - 1; /* below low */
    a.swap_total_kb = 4000000;
    a.swap_free_kb = 3000000; /* 1000000 used: not low */
    a.anon_kb = 999999;       /* util = 1000000 / 1999999 = 50.0 % -> 50 */
    b = a;
    b.now_ms = 1100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);                 /* just short: 50 % is not above 50 % */
    a.anon_kb = b.anon_kb = 900000; /* 52 % */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap_util");
}

static void test_low_mem_and_thrashing_and_decay(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.free_kb = a.wmark_low_kb - 1; /* just below low */
    b = a;
    b.now_ms = 1400;
    thrash_pair(&a, &b, 1010);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_thrashing");
    CHECK(d.cut_thrashing_limit);
    CHECK_EQ_INT(d.min_adj, 201);
    /* the kill cuts the limit by the decay: 100 -> 90 */
    mw_policy_killed(&cfg, &t, &d);
    CHECK_EQ_INT(t.limit_pct, 90);
    CHECK(t.kill_pending_check);
    /* just short: free at the low watermark */
    b.free_kb = b.wmark_low_kb;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    /* heavy thrashing (>= twice the limit) lets foreground die */
    b.free_kb = b.wmark_low_kb - 1;
    thrash_pair(&a, &b, 2000);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_EQ_INT(d.min_adj, 0);
}

static void test_direct_reclaim_and_thrashing(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    b = a; /* memory plentiful */
    b.now_ms = 1300;
    thrash_pair(&a, &b, 1500);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill); /* just short: no direct reclaim seen */
    b.pgscan_direct = a.pgscan_direct + 32;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "direct_reclaim_and_thrashing");
    CHECK(d.direct_reclaim);
}

/* A reader streaming a file larger than RAM refaults all the time but
 * stalls nobody: thrashing with PSI full under thrashing_psi_full (20 %)
 * kills nothing, at 20 % it does. */
static void test_thrashing_without_stalls(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    b = a;
    b.now_ms = 1300;
    thrash_pair(&a, &b, 1500);
    b.pgscan_direct = a.pgscan_direct + 32;
    a.psi_full_avg10 = b.psi_full_avg10 = 19.9;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    CHECK_EQ_INT(d.thrashing_pct, 150);
    a.psi_full_avg10 = b.psi_full_avg10 = 20.0;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "direct_reclaim_and_thrashing");
}

/* Free memory above every watermark (kswapd keeps it there) but
 * MemAvailable under 10 % and swap low: memory is short all the same. */
static void test_low_mem_and_swap_by_available(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.free_kb = a.wmark_high_kb + 1000;
    a.swap_total_kb = 262144;
    a.swap_free_kb = 262144 / 5 - 1;  /* just under 20 % */
    a.available_kb = a.total_kb / 10; /* exactly 10 %: not under */
    b = a;
    b.now_ms = 1100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    a.available_kb = b.available_kb = a.total_kb / 10 - 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
    CHECK_EQ_INT(d.min_adj, 201);
    CHECK_CONTAINS(d.detail, "available");
    a.swap_free_kb = b.swap_free_kb = 262144 / 5 + 1; /* swap not low */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

static void test_critical_stall(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    b = a;
    b.now_ms = 1200;
    b.free_kb = b.wmark_low_kb - 1; /* short of memory, but no other rule fires */
    b.file_kb = b.wmark_high_kb * 10;
    b.swap_total_kb = 0;
    uint64_t line_kb = b.total_kb * (uint64_t)cfg.available_low_pct / 100;
    b.available_kb = 2 * line_kb - 1; /* under twice the available line */
    cfg.lowmem_min_adj = 1001;        /* lmkd's plain low_mem off: the stall decides */
    b.events = MW_EV_PARTIAL_STALL;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill || d.runaway_only); /* a partial stall is not enough (but for a runaway) */
    b.events = MW_EV_COMPLETE_STALL;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "critical_stall");
    CHECK_EQ_INT(d.min_adj, 0); /* a complete stall allows kills down to adj 0 */
    CHECK(d.runaway_any_adj);   /* ... and a runaway at 0 before idle cached apps */
    /* just short: free pages under the low watermark but MemAvailable at
     * twice the line (a file stream keeps free pages there: the arm64
     * guest's s3-cache lost two idle cached apps with 53 % available) */
    b.available_kb = 2 * line_kb;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill || d.runaway_only); /* only a runaway may go (decide_runaway) */
    /* just short: the same stall with free memory at the high watermark
     * (a stall at some cgroup's own limit, not the machine's) */
    b.available_kb = 2 * line_kb - 1;
    b.free_kb = b.wmark_low_kb;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

static void test_pressure_after_kill(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.swap_total_kb = 0;
    b = a;
    b.now_ms = 1100;
    b.free_kb = b.wmark_min_kb - 1;
    b.file_kb = b.wmark_high_kb * 10; /* plenty of cache, no pressure event: not low_mem */
    b.shmem_kb = 0;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    struct mw_decision killed = {.kill = true, .reason = MW_REASON_LOW_MEM};
    mw_policy_killed(&cfg, &t, &killed);
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "pressure_after_kill");
    /* just short: the kill helped, free is back at the min watermark */
    mw_policy_killed(&cfg, &t, &killed);
    b.free_kb = b.wmark_min_kb;
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(!d.kill);
}

static void test_low_mem_without_swap(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.swap_total_kb = a.swap_free_kb = 0;
    a.free_kb = a.wmark_min_kb - 1;
    a.shmem_kb = 0;
    a.file_kb = a.wmark_high_kb - 1; /* cache nearly gone */
    b = a;
    b.now_ms = 1100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem");
    CHECK_EQ_INT(d.min_adj, 0);
    b.free_kb = b.wmark_low_kb - 1; /* between min and low: medium adj */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_EQ_INT(d.min_adj, 800);
    b.file_kb = b.wmark_high_kb; /* just short: cache left to reclaim */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

static void test_low_mem_under_pressure(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.free_kb = a.wmark_low_kb - 1; /* below low, cache plentiful */
    a.file_kb = a.wmark_high_kb * 10;
    a.swap_total_kb = 0;
    a.available_kb = a.total_kb * 19 / 100; /* under twice the 10 % line */
    b = a;
    b.now_ms = 1100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill); /* a calm sample: kswapd is at it, no stall */
    b.events = MW_EV_PARTIAL_STALL;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem");
    CHECK_EQ_INT(d.min_adj, 701); /* cached processes only (lmkd DEF_LOWMEM_MIN_SCORE) */
    /* just short: the VM's s3 in a guest tuned by the zram recipe
     * (watermark_scale_factor 125): a file stream keeps free pages at the
     * high low watermark with 47 % of RAM available -- nobody goes */
    b.available_kb = b.total_kb * 20 / 100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.reason != MW_REASON_LOW_MEM);
    b.available_kb = b.total_kb * 47 / 100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.reason != MW_REASON_LOW_MEM && (!d.kill || d.runaway_only)); /* a runaway only */
    b.available_kb = b.total_kb * 19 / 100;
    b.events = MW_EV_PRESSURE_WINDOW; /* the samples after the event count too */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    b.free_kb = b.wmark_low_kb; /* just short: at the low watermark */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    cfg.lowmem_min_adj = 1001; /* off: only a runaway may die now */
    b.free_kb = b.wmark_low_kb - 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.runaway_only);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_runaway");
    cfg.runaway_fill_ms = 0;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

/* Memory short, swap plentiful, no thrashing, someone stalls: a runaway
 * (and only a runaway) may die. Each condition just short: no kill. */
static void test_low_mem_and_runaway(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.free_kb = a.wmark_high_kb + 1000; /* watermarks fine */
    a.swap_total_kb = a.swap_free_kb = 262144;
    a.available_kb = a.total_kb / 10 - 1; /* under 10 % */
    b = a;
    b.now_ms = 1100;
    b.events = MW_EV_PARTIAL_STALL;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK(d.runaway_only);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_runaway");
    CHECK_EQ_INT(d.min_adj, 201);
    CHECK_CONTAINS(d.detail, "under pressure");
    b.events = 0; /* nobody waits: swap may take it */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    a.available_kb = b.available_kb =
        a.total_kb / 20 - 1; /* under half the line: no stall needed */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.runaway_only);
    CHECK_CONTAINS(d.detail, "under half the available_low line");
    a.available_kb = b.available_kb = a.total_kb / 20 + 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    /* the sampling reaches that line in time: 1 GiB/s from here */
    b.available_kb = a.total_kb / 20 + 50 * 1024;
    CHECK(mw_policy_interval_ms(&cfg, &b) <= 50);
    a.available_kb = a.total_kb / 10 - 1;
    b.events = MW_EV_PARTIAL_STALL;
    a.available_kb = b.available_kb = a.total_kb / 10; /* exactly 10 % */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    /* swap low as well: lmkd's low_mem_and_swap, any victim */
    a.available_kb = b.available_kb = a.total_kb / 10 - 1;
    b.swap_free_kb = 262144 / 5 - 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.runaway_only);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
}

static void test_minfree_levels(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.strategy = MW_STRATEGY_MINFREE;
    int n;
    CHECK(mw_minfree_parse("18432:0,23040:100,27648:200,32256:250,36864:900,46080:950", cfg.minfree,
                           &n) == 6);
    cfg.minfree_n = n;
    struct mw_mem_state a;
    struct mw_thrash t;
    struct mw_decision d;
    base(&a, 1000);
    a.shmem_kb = a.unevictable_kb = 0;
    a.free_kb = 36864 * 4 - 1;
    a.file_kb = 36864 * 4 - 1;
    mw_thrash_init(&t, &cfg);
    mw_policy_decide(&cfg, &a, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "minfree");
    CHECK_EQ_INT(d.min_adj, 900);
    a.file_kb = 36864 * 4; /* just short: file at the 900 level, below 950's */
    mw_policy_decide(&cfg, &a, &t, &d);
    CHECK_EQ_INT(d.min_adj, 950);
    a.free_kb = a.file_kb = 46080 * 4; /* above every level */
    mw_policy_decide(&cfg, &a, &t, &d);
    CHECK(!d.kill);
    a.free_kb = 100; /* nearly nothing: adj 0 may die */
    a.file_kb = 100;
    mw_policy_decide(&cfg, &a, &t, &d);
    CHECK_EQ_INT(d.min_adj, 0);
}

static void test_thrashing_window_decay(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state s;
    memset(&s, 0, sizeof(s));
    struct mw_thrash t;
    struct mw_decision d;
    mw_thrash_init(&t, &cfg);
    s.file_lru_pages = 999;
    s.now_ms = 0;
    mw_policy_decide(&cfg, &s, &t, &d);
    s.refault_file = 800; /* 80 % within the first window */
    s.now_ms = 900;
    mw_policy_decide(&cfg, &s, &t, &d);
    CHECK_EQ_INT(d.thrashing_pct, 80);
    /* one window passed: the 80 % carries over halved (below the limit) */
    s.now_ms = 1100;
    mw_policy_decide(&cfg, &s, &t, &d);
    CHECK_EQ_INT(t.prev_growth_pct, 40);
    /* three windows later without new refaults: the last window grew 0 */
    s.now_ms = 4200;
    mw_policy_decide(&cfg, &s, &t, &d);
    CHECK_EQ_INT(t.prev_growth_pct, 0); /* the window itself had no growth */
}

static void test_low_ram_profile_thrashing(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    char err[200];
    CHECK(mw_config_parse_buf(&cfg, "low_ram = true\n", err, sizeof(err)) == 0);
    struct mw_mem_state a;
    memset(&a, 0, sizeof(a));
    a.file_lru_pages = 999;
    a.wmark_min_kb = 100;
    a.wmark_low_kb = 200;
    a.wmark_high_kb = 300;
    a.free_kb = 150;   /* below low */
    a.file_kb = 10000; /* cache left: not the exhausted low_mem */
    struct mw_mem_state b = a;
    b.now_ms = 500;
    b.refault_file = 310; /* 31 % > low-RAM limit 30 */
    struct mw_thrash t;
    struct mw_decision d;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_thrashing");
    mw_policy_killed(&cfg, &t, &d);
    CHECK_EQ_INT(t.limit_pct, 15); /* decay 50 % */
    b.refault_file = 300;          /* 30 %: just short */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
}

static int load_scope(struct mw_cgroup_mem *cg)
{
    struct mw_root r;
    if (mw_root_open(&r, MW_FIXTURES "/daemon-scope-v1") < 0)
        return 0;
    int ok = mw_cgroup_mem_read(&r, "/sys/fs/cgroup/memory/app", cg) == 0;
    mw_root_close(&r);
    return ok;
}

static void test_scope_v1_snapshot(void)
{
    struct mw_cgroup_mem cg;
    if (!load_scope(&cg))
        FAIL_FIXTURE("daemon-scope-v1");
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_meminfo host = host_mi;
    host.kb[MI_SWAP_TOTAL] = host.kb[MI_SWAP_FREE] = 0; /* captured without swap */
    struct mw_mem_state a, b;
    mw_state_from_scope(&a, &cg, &host, &cfg, 4096, 1000);
    CHECK(a.is_scope);
    CHECK_EQ_U64(a.total_kb, 65536);
    CHECK_EQ_U64(a.free_kb, (67108864 - 61341696) / 1024); /* headroom, no file cache */
    CHECK_EQ_U64(a.wmark_high_kb, 65536 * 4 / 100);
    CHECK_EQ_INT(mw_state_wmark(&a), MW_WMARK_NONE); /* 5632 kB > high 2621 kB */
    struct mw_thrash t;
    struct mw_decision d;
    b = a;
    b.now_ms = 1100;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill); /* just short */
    /* 4 MiB more charged: below the low mark, no swap, no cache: low_mem */
    cg.usage += 4 << 20;
    mw_state_from_scope(&b, &cg, &host, &cfg, 4096, 1200);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem");
    /* near the limit the daemon samples fast */
    CHECK(mw_policy_interval_ms(&cfg, &b) <= 20);
}

static void test_scope_swap_allowance(void)
{
    struct mw_cgroup_mem cg;
    if (!load_scope(&cg))
        FAIL_FIXTURE("daemon-scope-v1");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_meminfo host;
    memset(&host, 0, sizeof(host));
    host.kb[MI_MEM_TOTAL] = 24000000;
    host.kb[MI_SWAP_TOTAL] = 524288;
    host.kb[MI_SWAP_FREE] = 500000;
    cg.swap_limit = 256 << 20; /* memsw - limit */
    cg.stat.swap = 200 << 20;
    cg.have_stat = true;
    struct mw_mem_state s;
    mw_state_from_scope(&s, &cg, &host, &cfg, 4096, 0);
    CHECK_EQ_U64(s.swap_total_kb, 262144);
    CHECK_EQ_U64(s.swap_free_kb, 262144 - 204800);
    host.kb[MI_SWAP_FREE] = 1000; /* the host's swap is the tighter bound */
    mw_state_from_scope(&s, &cg, &host, &cfg, 4096, 0);
    CHECK_EQ_U64(s.swap_free_kb, 1000);
}

/* A 64 KiB-page kernel (arm64): zoneinfo's watermarks are pages of 64 KiB.
 * The state uses the page size carried from the capture, 16x what a
 * 4 KiB constant gives; the scope state counts its file LRU in them too. */
static void test_page_size_64k(void)
{
    struct mw_root r;
    struct mw_meminfo mi;
    struct mw_zoneinfo zi;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/arm64-64k"), 0);
    mw_snapshot_root_page_size(&r);
    CHECK_EQ_U64(r.page_size, 65536);
    CHECK_EQ_INT(mw_meminfo_read(&r, &mi, NULL), 0);
    CHECK_EQ_INT(mw_zoneinfo_read(&r, &zi, NULL), 0);
    struct mw_mem_state s64, s4;
    mw_state_from_system(&s64, &mi, NULL, &zi, NULL, r.page_size, 0);
    mw_state_from_system(&s4, &mi, NULL, &zi, NULL, 4096, 0);
    mw_root_close(&r);
    CHECK_EQ_U64(s64.page_size, 65536);
    CHECK(s4.wmark_min_kb > 0);
    CHECK_EQ_U64(s64.wmark_min_kb, s4.wmark_min_kb * 16);
    CHECK_EQ_U64(s64.wmark_low_kb, s4.wmark_low_kb * 16);
    CHECK_EQ_U64(s64.wmark_high_kb, s4.wmark_high_kb * 16);
    CHECK_EQ_U64(s64.wmark_min_kb, zi.min * 64);
    /* the same machine as vm-512m (4 KiB pages): the same watermarks */
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/vm-512m"), 0);
    CHECK_EQ_INT(mw_zoneinfo_read(&r, &zi, NULL), 0);
    mw_root_close(&r);
    CHECK_CLOSE(s64.wmark_min_kb, zi.min * 4, 2);
    /* without vmstat the file LRU is counted in the carried pages */
    CHECK_EQ_U64(s64.file_lru_pages, s64.file_kb / 64);
    struct mw_cgroup_mem cg;
    memset(&cg, 0, sizeof(cg));
    cg.limit = cg.swap_limit = MW_CG_UNLIMITED;
    cg.stat.inactive_file = 64ull << 20;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    mw_state_from_scope(&s64, &cg, &mi, &cfg, 65536, 0);
    CHECK_EQ_U64(s64.file_lru_pages, 1024);
}

/* `memwarden --root FIX status --json --scope CG` run in-process; returns
 * memory.total from its output, or 0. */
static uint64_t status_scope_total(const char *fix, const char *cg)
{
    struct mw_ctx ctx = {.root = {.fd = -1}, .prog = "memwarden"};
    if (mw_root_open(&ctx.root, fix) < 0)
        return 0;
    FILE *out = tmpfile();
    int saved = dup(1);
    if (!out || saved < 0) {
        mw_root_close(&ctx.root);
        return 0;
    }
    fflush(stdout);
    dup2(fileno(out), 1);
    char *argv[] = {"status", "--json", "--scope", (char *)cg, "--state", "/nonexistent", NULL};
    int rc = cli_status(&ctx, 6, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    mw_root_close(&ctx.root);
    char buf[16384];
    rewind(out);
    size_t n = fread(buf, 1, sizeof(buf) - 1, out);
    fclose(out);
    buf[n] = '\0';
    const char *mem = strstr(buf, "\"memory\": {");
    const char *tot = mem ? strstr(mem, "\"total\": ") : NULL;
    if (rc != 0 || !tot)
        return 0;
    return strtoull(tot + 9, NULL, 10);
}

/* One cgroup, a v2 memory.max of 64 GiB on a 23.5 GiB host: status --scope
 * and the daemon's scope state see the same machine, the host's RAM, and
 * the daemon's watermarks are percentages of that, not of 64 GiB. */
static void test_scope_above_ram_status_and_daemon_agree(void)
{
    const char *fix = MW_FIXTURES "/cgroup-v2-above-ram";
    const char *path = "/sys/fs/cgroup/system.slice/app.service";
    struct mw_root r;
    struct mw_cgroup_mem cg;
    struct mw_meminfo host;
    if (mw_root_open(&r, fix) < 0)
        FAIL_FIXTURE("cgroup-v2-above-ram");
    int rc = mw_cgroup_mem_read(&r, path, &cg);
    if (rc == 0)
        rc = mw_meminfo_read(&r, &host, NULL);
    mw_root_close(&r);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_U64(cg.limit, 64ull << 30);
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state st;
    mw_state_from_scope(&st, &cg, &host, &cfg, 4096, 0);
    CHECK_EQ_U64(st.total_kb, 24684084);
    CHECK_EQ_U64(status_scope_total(fix, path), st.total_kb * 1024);
    uint64_t high_kb = 24684084 * (uint64_t)cfg.scope_high_pct / 100;
    CHECK_EQ_U64(st.wmark_high_kb, high_kb);
    CHECK_EQ_U64(st.swap_total_kb, 2097152); /* memory.swap.max 2 GiB */
    CHECK_EQ_U64(st.swap_free_kb, 1572864);
}

static void test_kill_visible(void)
{
    struct mw_mem_state before, now;
    memset(&before, 0, sizeof(before));
    before.available_kb = 100;
    before.swap_free_kb = 50000;
    now = before;
    /* the seed-like case from the live test: 197 MB RSS, 210 MB swap */
    CHECK(!mw_policy_kill_visible(&before, &now, 197000, 210000));
    now.available_kb = 100 + 98500; /* memory back, swap not yet */
    CHECK(!mw_policy_kill_visible(&before, &now, 197000, 210000));
    now.swap_free_kb = 50000 + 105000;
    CHECK(mw_policy_kill_visible(&before, &now, 197000, 210000));
    now.swap_free_kb = 50000 + 104999; /* just short */
    CHECK(!mw_policy_kill_visible(&before, &now, 197000, 210000));
    /* a victim without swap: memory alone */
    now = before;
    now.available_kb += 1000;
    CHECK(mw_policy_kill_visible(&before, &now, 2000, 0));
    CHECK(!mw_policy_kill_visible(&before, &now, 2002, 0));
}

/* The VM guest of issue 15 (tests/fixtures/vm-512m: MemTotal 468144 kB,
 * 256 MiB zram) at the moment its log said "low_mem_and_swap (available
 * 12508kB < 10% and swap free 52220kB < 52428kB) but no process at adj >=
 * 201 may be killed" and the kernel's OOM killer fired. */
static int vm_state(struct mw_mem_state *st, uint64_t now_ms)
{
    struct mw_root r;
    struct mw_meminfo mi;
    struct mw_zoneinfo zi;
    if (mw_root_open(&r, MW_FIXTURES "/vm-512m") < 0)
        return 0;
    int ok = mw_meminfo_read(&r, &mi, NULL) == 0 && mw_zoneinfo_read(&r, &zi, NULL) == 0;
    mw_root_close(&r);
    if (!ok)
        return 0;
    mw_state_from_system(st, &mi, NULL, &zi, NULL, 4096, now_ms);
    st->available_kb = 12508;
    st->free_kb = st->wmark_low_kb + 100; /* kswapd kept free above low */
    st->swap_total_kb = 262140;
    st->swap_free_kb = 52220;
    return 1;
}

static void test_last_line(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    if (!vm_state(&a, 1000) || !vm_state(&b, 1100))
        FAIL_FIXTURE("vm-512m");
    CHECK_EQ_U64(a.total_kb, 468144);
    CHECK(mw_policy_last_line(&cfg, &b, false));
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
    CHECK_EQ_INT(d.min_adj, 0); /* was 201: nobody on a flat machine */
    CHECK(d.last_line && d.runaway_any_adj && !d.runaway_only);
    CHECK_CONTAINS(d.detail, "last line: adj 201 -> 0");
    /* the deficit: back to 10 % available and 20 % free swap */
    CHECK_EQ_U64(d.deficit_kb, (468144 / 10 - 12508) + (262140 / 5 - 52220));
    /* just short: available at 5 % of the total -- lmkd's floor stays */
    a.available_kb = b.available_kb = 468144 / 20;
    CHECK(!mw_policy_last_line(&cfg, &b, false));
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.last_line && !d.runaway_any_adj);
    CHECK_EQ_INT(d.min_adj, 201);
    /* just short: free swap at its 20 % line -- no reason, no last line */
    vm_state(&a, 1000);
    vm_state(&b, 1100);
    a.swap_free_kb = b.swap_free_kb = 262140 / 5;
    CHECK(!mw_policy_last_line(&cfg, &b, false));
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.last_line);
    CHECK(d.min_adj > 0); /* a runaway above perceptible at most */
    /* no swap at all counts as gone; a never-set reason becomes last_line */
    vm_state(&a, 1000);
    vm_state(&b, 1100);
    a.swap_total_kb = b.swap_total_kb = a.swap_free_kb = b.swap_free_kb = 0;
    b.free_kb = b.wmark_high_kb + 1; /* no watermark breached */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.last_line && !d.runaway_only); /* a runaway first, else anyone >= 0 */
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_runaway");
    CHECK_EQ_INT(d.min_adj, 0);
    cfg.runaway_fill_ms = 0;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    CHECK_STR(mw_reason_name(d.reason), "last_line");
    CHECK_EQ_INT(d.min_adj, 0);
    /* the minfree strategy is an explicit per-adj table: no last line */
    cfg.strategy = MW_STRATEGY_MINFREE;
    vm_state(&b, 1200);
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(!d.last_line);
}

/* Flat adj (most processes at 0): lmkd's class floors mean nothing. */
static void test_flat_adj_floors(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    /* low_mem_and_swap above the min watermark, not yet the last line */
    low_mem_with_swap(&a, 1000, 1048576 / 5 - 1);
    low_mem_with_swap(&b, 1100, 1048576 / 5 - 1);
    b.available_kb = a.available_kb = b.total_kb / 2;
    b.adj_flat = true;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.last_line);
    CHECK_EQ_INT(d.min_adj, 0);
    b.adj_flat = false; /* just short: Android classes, perceptible spared */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_EQ_INT(d.min_adj, 201);
    /* lmkd's low_mem under pressure kills cached apps: a flat machine has
     * none, so nobody goes for it */
    low_mem_with_swap(&a, 1000, 1048576);
    low_mem_with_swap(&b, 1100, 1048576);
    b.file_kb = b.wmark_high_kb * 10;
    b.shmem_kb = 0;
    b.available_kb = b.total_kb * 19 / 100;
    b.events = MW_EV_PARTIAL_STALL;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_STR(mw_reason_name(d.reason), "low_mem");
    CHECK_EQ_INT(d.min_adj, 701);
    b.adj_flat = true;
    b.available_kb = b.total_kb / 2; /* not short by MemAvailable: no runaway either */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_runaway");
    CHECK(d.runaway_only && d.runaway_any_adj);
    CHECK_EQ_INT(d.min_adj, 0);
}

/* Never kill in vain: a tmpfs file nobody maps holds the memory. */
static void test_held_memory_no_kill(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    /* low_mem_and_swap above the min watermark, not yet the last line */
    low_mem_with_swap(&a, 1000, 1048576 / 5 - 1);
    low_mem_with_swap(&b, 1100, 1048576 / 5 - 1);
    a.available_kb = b.available_kb = b.total_kb / 10 - 1;
    /* used: the anon LRU (tmpfs on it) + slab + hugepages, not RAM minus
     * MemAvailable (zram's copies of swapped pages are not used twice) */
    b.anon_kb = b.total_kb / 2;
    b.held_slab_kb = 1000;
    b.held_hugetlb_kb = 0;
    uint64_t used = b.anon_kb + b.held_slab_kb;
    b.held_shmem_kb = (used + 1) / 2 - 1000; /* with the slab: half of used */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill && d.held);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
    CHECK_CONTAINS(d.held_detail, "held where no kill frees it (tmpfs/shmem unmapped");
    /* just short: 1 kB less held */
    b.held_shmem_kb -= 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.held);
    /* at the last line the kill goes ahead (the kernel would kill anyway);
     * with the memory held in tmpfs that line is a quarter of the free
     * swap line (tmpfs goes on into swap to its end: g12, g23, g03) */
    b.available_kb = b.total_kb / 20 - 1;
    b.held_shmem_kb = b.total_kb;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill && !d.last_line && d.held); /* 20 % of swap free: not yet */
    CHECK(mw_policy_last_line(&cfg, &b, false) && !mw_policy_last_line(&cfg, &b, true));
    b.swap_free_kb = 1048576 / 5 / 4 - 1;
    CHECK(mw_policy_last_line(&cfg, &b, true));
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.last_line && !d.held);
    b.swap_free_kb = 1048576 / 5 / 4; /* just short */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill && !d.last_line && d.held);
    /* kernel slab is not swappable: held in slab, the line stays at 20 % */
    b.held_slab_kb = b.held_shmem_kb + 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.last_line && !d.held);
    b.held_slab_kb = 1000;
    /* tmpfs swapped out leaves Shmem: swap nobody holds counts as held */
    low_mem_with_swap(&b, 1100, 1048576 / 5 - 1);
    b.available_kb = b.total_kb / 10 - 1;
    b.held_shmem_kb = b.held_slab_kb = b.held_hugetlb_kb = 0;
    uint64_t swap_used = 1048576 - b.swap_free_kb;
    CHECK_EQ_U64(mw_state_unowned_swap_kb(&b, 1000), swap_used - 1000);
    CHECK_EQ_U64(mw_state_unowned_swap_kb(&b, -1), 0); /* unknown */
    /* used counts the swap when the swap nobody holds is known */
    b.held_swap_known = true;
    /* g03: RAM - MemAvailable + swap would say under half is held (RAM
     * also holds zram's compressed copy of that swap) */
    b.anon_kb = b.total_kb / 4;
    b.held_swap_kb = (b.anon_kb + swap_used + 1) / 2;
    CHECK(b.held_swap_kb * 2 < b.total_kb - b.available_kb + swap_used);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill && d.held);
    b.held_swap_kb -= 1; /* just short */
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.held);
    b.held_swap_kb = 0;
    /* two kills in a row that freed nothing: no third */
    low_mem_with_swap(&b, 1100, 1048576 / 5 - 1);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill);
    mw_policy_kill_freed(&t, 100, 1000); /* < a quarter */
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(d.kill); /* just short: one vain kill */
    mw_policy_kill_freed(&t, 249, 1000);
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(!d.kill && d.held);
    CHECK_CONTAINS(d.held_detail, "the last kills freed nothing");
    mw_policy_kill_freed(&t, 250, 1000); /* a kill that helped resets it */
    mw_policy_decide(&cfg, &b, &t, &d);
    CHECK(d.kill);
}

/* g27: tmpfs writers grow the used memory while most of it is still the
 * apps': when at least half of the growth over the last 10-20 s went
 * where no kill frees it, a kill is refused (it only buys time); growth
 * of the apps' memory kills as before. Near misses on both sides. */
static void test_held_growth_no_kill(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state a, b;
    struct mw_thrash t;
    struct mw_decision d;
    low_mem_with_swap(&a, 1000, 1048576 / 5 - 1);
    a.available_kb = a.total_kb / 4; /* no reason yet */
    low_mem_with_swap(&b, 13000, 1048576 / 5 - 1);
    b.available_kb = b.total_kb / 10 - 1; /* low_mem_and_swap */
    a.held_swap_known = b.held_swap_known = true;
    uint64_t grown = a.available_kb - b.available_kb;
    a.anon_kb = a.total_kb / 2; /* the growth is on the anon LRU (tmpfs too) */
    b.anon_kb = a.anon_kb + grown;
    a.held_shmem_kb = 1000;
    b.held_shmem_kb = 1000 + (grown + 1) / 2; /* half of the growth, well under half of used */
    CHECK(b.held_shmem_kb * 2 < b.anon_kb);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
    CHECK(!d.kill && d.held);
    CHECK_CONTAINS(d.held_detail, "of the last");
    CHECK_CONTAINS(d.held_detail, "kB of growth went there");
    /* a sample whose swap nobody holds is stale keeps that verdict 5 s
     * (g03: swapped-out tmpfs looked freed and the heartbeat died) */
    struct mw_mem_state u = b;
    u.held_swap_known = false;
    u.held_shmem_kb = 1000; /* the tmpfs went to swap */
    u.now_ms = 18000;
    mw_policy_decide(&cfg, &u, &t, &d);
    CHECK(!d.kill && d.held);
    u.now_ms = 18001; /* just short: past the 5 s */
    mw_policy_decide(&cfg, &u, &t, &d);
    CHECK(d.kill && !d.held);
    /* just short: 1 kB less of the growth held */
    b.held_shmem_kb -= 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && !d.held);
    CHECK_STR(d.held_detail, "");
    /* the marks rotate every 10 s: 25 s later the growth is measured from
     * the mark at 13 s, and nothing grew since */
    b.held_shmem_kb += 1;
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(!d.kill);
    struct mw_mem_state c = b;
    c.now_ms = 25000;
    mw_policy_decide(&cfg, &c, &t, &d);
    c.now_ms = 26000;
    mw_policy_decide(&cfg, &c, &t, &d);
    CHECK(d.kill && !d.held);
    /* the last line goes ahead whatever the growth */
    decide2(&cfg, &a, &b, &t, &d);
    b.available_kb = b.total_kb / 40;
    b.swap_free_kb = 1000;
    b.anon_kb = a.anon_kb + (a.available_kb - b.available_kb);
    b.held_shmem_kb = 1000 + (a.available_kb - b.available_kb);
    decide2(&cfg, &a, &b, &t, &d);
    CHECK(d.kill && d.last_line && !d.held);
}

/* g23: more victims in one cycle come from the lead's class: all cached
 * apps after a cached lead (the service at 500 not), the lead's adj or
 * above otherwise; the decision's own floor when higher; no classes when
 * flat. Near misses at 899/900. */
static void test_cover_floor(void)
{
    CHECK_EQ_INT(mw_policy_cover_floor(960, 0, false), 900);
    CHECK_EQ_INT(mw_policy_cover_floor(900, 0, false), 900);
    CHECK_EQ_INT(mw_policy_cover_floor(899, 0, false), 899);
    CHECK_EQ_INT(mw_policy_cover_floor(500, 0, false), 500);
    CHECK_EQ_INT(mw_policy_cover_floor(500, 600, false), 600);
    CHECK_EQ_INT(mw_policy_cover_floor(960, 0, true), 0);
}

/* g10: 180 MB of apps started 15 s ago, then tmpfs grew: over the mark
 * 10-20 s old under half of the growth is held (the apps'), over the
 * newer one all of it -- refused; with the newer window's tmpfs 1 kB
 * under half of its growth, the kill goes ahead. */
static void test_held_growth_newer_window(void)
{
    if (!load_host())
        FAIL_FIXTURE("daemon-host");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_thrash t;
    struct mw_decision d;
    for (int shy = 0; shy <= 1; shy++) {
        struct mw_mem_state m0, m1, now;
        low_mem_with_swap(&m0, 1000, 1048576 / 5 - 1);
        m0.held_swap_known = true;
        m0.available_kb = m0.total_kb / 2;
        m0.anon_kb = m0.total_kb / 4;
        m0.held_shmem_kb = 1000;
        m1 = m0; /* 11 s: the apps took a quarter of RAM */
        m1.now_ms = 12000;
        m1.available_kb = m0.available_kb - m0.total_kb / 4;
        m1.anon_kb = m0.anon_kb + m0.total_kb / 4;
        now = m1; /* 19 s: tmpfs took what was left, to low_mem_and_swap */
        now.now_ms = 19000;
        now.available_kb = now.total_kb / 10 - 1;
        uint64_t newer = m1.available_kb - now.available_kb;
        now.anon_kb = m1.anon_kb + newer;
        now.held_shmem_kb = m1.held_shmem_kb + (newer + 1) / 2 - (uint64_t)shy;
        uint64_t older = m0.available_kb - now.available_kb;
        CHECK((now.held_shmem_kb - m0.held_shmem_kb) * 2 < older);
        CHECK(now.held_shmem_kb * 2 < now.anon_kb); /* not half of used */
        mw_thrash_init(&t, &cfg);
        mw_policy_decide(&cfg, &m0, &t, &d);
        mw_policy_decide(&cfg, &m1, &t, &d);
        mw_policy_decide(&cfg, &now, &t, &d);
        CHECK_STR(mw_reason_name(d.reason), "low_mem_and_swap");
        if (!shy) {
            CHECK(!d.kill && d.held);
            CHECK_CONTAINS(d.held_detail, "of growth went there");
        } else {
            CHECK(d.kill && !d.held);
        }
    }
}

/* g03: fifteen 1 MiB tmpfs writers, a complete stall, a 40 MiB deficit:
 * killing one cannot help; a 24 MiB cached app can; the last line and a
 * runaway (its unit) always may; no deficit, no refusal. Near misses on
 * both sides of 1/16. */
static void test_kill_helps(void)
{
    struct mw_decision d;
    memset(&d, 0, sizeof(d));
    d.deficit_kb = 40000;
    CHECK(!mw_policy_kill_helps(&d, 1104, false));
    CHECK(!mw_policy_kill_helps(&d, 2499, false));
    CHECK(mw_policy_kill_helps(&d, 2500, false));
    CHECK(mw_policy_kill_helps(&d, 24576, false));
    CHECK(mw_policy_kill_helps(&d, 1104, true));
    /* a big machine: 1.2 GiB short, a 50 MiB cached app may go, 15 MiB not */
    d.deficit_kb = 1200 * 1024;
    CHECK(mw_policy_kill_helps(&d, 50 * 1024, false));
    CHECK(!mw_policy_kill_helps(&d, 15 * 1024, false));
    d.deficit_kb = 40000;
    d.last_line = true;
    CHECK(mw_policy_kill_helps(&d, 1104, false));
    d.last_line = false;
    d.deficit_kb = 0;
    CHECK(mw_policy_kill_helps(&d, 4, false));
}

/* The sampling's own CPU paces it: a cheap wakeup keeps the policy's
 * interval, a dear one waits MW_SAMPLE_DUTY_DIV times its cost, at most
 * MW_SAMPLE_PACE_MAX_MS; a long calm interval is never shortened. */
static void test_paced_by_own_cost(void)
{
    CHECK_EQ_U64(mw_policy_paced_ms(10, 0), 10);
    CHECK_EQ_U64(mw_policy_paced_ms(10, 999), 10);  /* 1 ms x 10 = 9.99: the 10 ms stay */
    CHECK_EQ_U64(mw_policy_paced_ms(10, 1001), 10); /* 10.01 ms: rounds down to 10 */
    CHECK_EQ_U64(mw_policy_paced_ms(10, 1100), 11); /* just past: paced */
    CHECK_EQ_U64(mw_policy_paced_ms(10, 8000), 80); /* a TCG guest's refresh */
    CHECK_EQ_U64(mw_policy_paced_ms(10, 49999), 499);
    CHECK_EQ_U64(mw_policy_paced_ms(10, 50000), MW_SAMPLE_PACE_MAX_MS);
    CHECK_EQ_U64(mw_policy_paced_ms(10, 5000000), MW_SAMPLE_PACE_MAX_MS);
    CHECK_EQ_U64(mw_policy_paced_ms(10000, 8000), 10000); /* calm: the 10 s stay */
}

/* The sampling's pace (issue 27): held still just above the runaway line
 * of a 1 GiB machine, the daemon samples about as often as earlyoom
 * (every 100 ms or less often), not every 20 ms; a hog that makes the
 * headroom fall is assumed twice as fast, and the samples close in on the
 * line; a big machine keeps the 1 GiB/s bound; and near the line it is
 * MW_POLL_MIN_MS either way. */
static void test_interval_follows_the_fall(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    st.total_kb = 1024 * 1024;
    st.wmark_min_kb = 16 * 1024;
    uint64_t line = st.total_kb * 5 / 100; /* half the available_low line */
    st.available_kb = line + 20 * 1024;    /* 20 MiB above it */
    CHECK_EQ_U64(mw_policy_interval_ms(&cfg, &st), 20 * 1024 * 1000 / (128 * 1024)); /* 156 */
    st.fall_kb_s = 200 * 1024; /* a hog at 200 MiB/s */
    CHECK_EQ_U64(mw_policy_interval_ms(&cfg, &st), 20 * 1024 * 1000 / (400 * 1024)); /* 50 */
    st.available_kb = line + 1024;
    CHECK_EQ_U64(mw_policy_interval_ms(&cfg, &st), MW_POLL_MIN_MS);
    /* 24 GiB: a machine filled in 8 s is faster than 1 GiB/s, which bounds it */
    st.total_kb = 24ull * 1024 * 1024;
    st.fall_kb_s = 0;
    st.available_kb = st.total_kb * 5 / 100 + 100 * 1024;
    CHECK_EQ_U64(mw_policy_interval_ms(&cfg, &st), 100 * 1000 / 1024); /* 97 */
}

int main(void)
{
    RUN(test_kill_helps);
    RUN(test_real_snapshot_is_calm);
    RUN(test_low_mem_and_swap);
    RUN(test_low_swap_and_thrashing);
    RUN(test_low_mem_and_swap_util);
    RUN(test_low_mem_and_thrashing_and_decay);
    RUN(test_direct_reclaim_and_thrashing);
    RUN(test_thrashing_without_stalls);
    RUN(test_low_mem_and_swap_by_available);
    RUN(test_critical_stall);
    RUN(test_pressure_after_kill);
    RUN(test_low_mem_without_swap);
    RUN(test_low_mem_under_pressure);
    RUN(test_low_mem_and_runaway);
    RUN(test_minfree_levels);
    RUN(test_thrashing_window_decay);
    RUN(test_low_ram_profile_thrashing);
    RUN(test_scope_v1_snapshot);
    RUN(test_scope_swap_allowance);
    RUN(test_scope_above_ram_status_and_daemon_agree);
    RUN(test_kill_visible);
    RUN(test_page_size_64k);
    RUN(test_last_line);
    RUN(test_flat_adj_floors);
    RUN(test_held_memory_no_kill);
    RUN(test_held_growth_no_kill);
    RUN(test_held_growth_newer_window);
    RUN(test_cover_floor);
    RUN(test_paced_by_own_cost);
    RUN(test_interval_follows_the_fall);
    return TESTS_DONE();
}
