/* The kill cycle (cycle.h) driven through recorded sequences: the samples
 * a daemon would take (a 457 MiB machine with 256 MiB of swap, the VM
 * bed's), a fake victim scan standing in for /proc, and the kills told
 * back as the daemon would. No root, no /proc, no sleeps: the clock is the
 * samples' now_ms. Each test follows one rule from the pressure to the
 * kill and what the cycle remembers after it. */
#include "harness.h"

#include <stdint.h>

#include "lmk/config.h"
#include "lmk/cycle.h"

#define VM_TOTAL_KB 468144             /* the bed's MemTotal */
#define VM_SWAP_KB  262140             /* its zram swap */
#define VM_LINE_KB  (VM_TOTAL_KB / 10) /* available_low_percentage 10 */

/* ---- a fake victim scan ------------------------------------------------ */

struct fproc {
    int pid, adj;
    const char *comm;
    uint64_t rss_kb, swap_kb;
    uint64_t start;   /* starttime (what group_start carries) */
    bool runaway;     /* chosen as a runaway unit ... */
    uint64_t unit_kb; /* ... of this footprint ... */
    int group_n;      /* ... with these members after it: pid + 1 .. pid + group_n */
    bool alive;
    bool kept; /* kept until the last line (lmk/sdunit.h: avoid, the system's own) */
};

struct fake {
    struct fproc p[64];
    int n;
    int open; /* stat descriptors the cycle holds (choose opens, put or the kill closes) */
    int chose, refreshed, forgot;
    bool flat;
    uint64_t sampled_ms;           /* when the footprints were last sampled (0: never) */
    int64_t procs_swap_kb;         /* their VmSwap summed */
    int swap_sums;                 /* how often the cycle asked for that sum */
    struct mw_choice last_refresh; /* what the last refresh was asked */
};

static struct fake fk;

static struct fproc *fake_add(int pid, int adj, const char *comm, uint64_t rss_kb)
{
    struct fproc *p = &fk.p[fk.n++];
    *p = (struct fproc){.pid = pid, .adj = adj, .comm = comm, .rss_kb = rss_kb, .alive = true};
    p->start = (uint64_t)pid;
    return p;
}

static struct fproc *fake_find(int pid)
{
    for (int i = 0; i < fk.n; i++)
        if (fk.p[i].pid == pid)
            return &fk.p[i];
    return NULL;
}

static bool excluded(const struct mw_choice *c, int pid)
{
    for (int i = 0; i < c->exclude_n; i++)
        if (c->exclude[i] == pid)
            return true;
    return false;
}

/* The loop penalty of COMM at C->now_ms (INT32_MAX: left alone). */
static int penalty(const struct mw_choice *c, const char *comm)
{
    for (int i = 0; c->pen && i < c->pen->n; i++)
        if (strcmp(c->pen->p[i].comm, comm) == 0 && c->pen->p[i].until_ms > c->now_ms)
            return c->pen->p[i].adj_shift;
    return 0;
}

/* Better victim: a runaway first (the larger unit), then the higher
 * effective adj, then the larger RSS -- the victim.h orders, reduced. A
 * program with a loop penalty is no runaway (victim.c: rcand.penalized). */
static bool better(const struct fproc *a, int a_eff, bool a_run, const struct fproc *b, int b_eff,
                   bool b_run)
{
    if (!b)
        return true;
    if (a_run != b_run)
        return a_run;
    if (a_run && a->unit_kb != b->unit_kb)
        return a->unit_kb > b->unit_kb;
    if (a_eff != b_eff)
        return a_eff > b_eff;
    return a->rss_kb > b->rss_kb;
}

/* The best of the candidates, the kept ones only when KEPT_OK (victim.c:
 * a second pass at the last line, when nobody else is left). */
static const struct fproc *f_best(const struct mw_choice *c, bool kept_ok, int *best_eff_out)
{
    const struct fproc *best = NULL;
    int best_eff = 0;
    bool best_run = false;
    for (int i = 0; i < fk.n; i++) {
        const struct fproc *p = &fk.p[i];
        int shift = penalty(c, p->comm);
        if (!p->alive || excluded(c, p->pid) || shift == INT32_MAX || (p->kept && !kept_ok))
            continue;
        int eff = p->adj - shift;
        bool run = p->runaway && shift == 0;
        if ((c->runaway_only && !run) || eff < c->min_adj)
            continue;
        if (better(p, eff, run, best, best_eff, best_run)) {
            best = p;
            best_eff = eff;
            best_run = run;
        }
    }
    *best_eff_out = best_eff;
    return best;
}

static int f_choose(void *ctx, const struct mw_choice *c, struct mw_victim *out)
{
    (void)ctx;
    fk.chose++;
    int best_eff;
    const struct fproc *best = f_best(c, false, &best_eff);
    if (!best && c->last_line)
        best = f_best(c, true, &best_eff);
    if (!best)
        return 0;
    memset(out, 0, sizeof(*out));
    out->pid = best->pid;
    out->adj = best->adj;
    out->eff_adj = best_eff;
    snprintf(out->comm, sizeof(out->comm), "%s", best->comm);
    out->rss_kb = best->rss_kb;
    out->swap_kb = best->swap_kb;
    out->starttime = best->start;
    out->runaway = best->runaway && penalty(c, best->comm) == 0;
    out->keep = best->kept ? MW_KEEP_SYSTEM : MW_KEEP_NONE;
    out->unit_kb = best->unit_kb;
    out->group_n = best->group_n;
    for (int i = 0; i < best->group_n; i++) {
        out->group_pid[i] = best->pid + 1 + i;
        out->group_start[i] = best->start;
    }
    out->stat_fd = 1000 + best->pid;
    fk.open++;
    return 1;
}

static void f_put(void *ctx, struct mw_victim *v)
{
    (void)ctx;
    CHECK(v->stat_fd >= 1000);
    v->stat_fd = -1;
    fk.open--;
}

static int f_refresh(void *ctx, const struct mw_choice *c)
{
    (void)ctx;
    fk.refreshed++;
    fk.sampled_ms = c->now_ms;
    fk.last_refresh = *c;
    return fk.n;
}

static void f_forget(void *ctx)
{
    (void)ctx;
    fk.forgot++;
}

static bool f_scan_flat(void *ctx)
{
    (void)ctx;
    return fk.flat;
}

static uint64_t f_sampled_ms(void *ctx)
{
    (void)ctx;
    return fk.sampled_ms;
}

static int64_t f_procs_swap_kb(void *ctx)
{
    (void)ctx;
    fk.swap_sums++;
    return fk.procs_swap_kb;
}

static const struct mw_cycle_ops ops = {.choose = f_choose,
                                        .put = f_put,
                                        .refresh = f_refresh,
                                        .forget = f_forget,
                                        .scan_flat = f_scan_flat,
                                        .sampled_ms = f_sampled_ms,
                                        .procs_swap_kb = f_procs_swap_kb};

/* ---- samples and kills ---------------------------------------------- */

/* The bed's machine at NOW_MS with AVAIL_KB available and SWAP_FREE_KB of
 * swap free; watermarks far below (free memory above them), no thrashing,
 * nothing held. */
static struct mw_mem_state vm(uint64_t now_ms, uint64_t avail_kb, uint64_t swap_free_kb,
                              unsigned events)
{
    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    st.now_ms = now_ms;
    st.page_size = 4096;
    st.total_kb = VM_TOTAL_KB;
    st.available_kb = avail_kb;
    st.free_kb = avail_kb < 20000 ? avail_kb : 20000;
    st.file_kb = 8000;
    st.anon_kb = VM_TOTAL_KB - avail_kb;
    st.swap_total_kb = VM_SWAP_KB;
    st.swap_free_kb = swap_free_kb;
    st.wmark_min_kb = 1000;
    st.wmark_low_kb = 1250;
    st.wmark_high_kb = 1500;
    st.events = events;
    return st;
}

static void setup(struct mw_config *cfg, struct mw_cycle *c, bool dry_run)
{
    memset(&fk, 0, sizeof(fk));
    fk.procs_swap_kb = VM_SWAP_KB; /* the processes hold every swapped page */
    mw_config_defaults(cfg);
    mw_cycle_init(c, cfg, dry_run, false);
}

static struct mw_cycle_out out; /* 4 KiB: off the stack */

/* One sample through the cycle. */
static enum mw_cycle_act step(struct mw_cycle *c, const struct mw_config *cfg,
                              struct mw_mem_state st)
{
    mw_cycle_step(c, cfg, &ops, &st, &out);
    return out.act;
}

/* The daemon's part of a KILL at SIG_MS: the signal (SIGNALLED), the
 * victims gone when it went out, the stat descriptor closed; then the
 * cycle is told. The victim started at START_BOOT_MS (ms since boot; the
 * boot clock is the samples' clock + 100 s here). */
static bool kill_it(struct mw_cycle *c, const struct mw_config *cfg, uint64_t sig_ms,
                    bool signalled, uint64_t start_boot_ms)
{
    CHECK_EQ_INT(out.act, MW_CYCLE_KILL);
    fk.open--;
    if (signalled) {
        fake_find(out.victim.pid)->alive = false;
        for (int i = 0; i < out.victim.group_n; i++) {
            struct fproc *p = fake_find(out.victim.group_pid[i]);
            if (p)
                p->alive = false;
        }
    }
    struct mw_cycle_kill k = {.signalled = signalled,
                              .sig_ms = sig_ms,
                              .sig_boot_ms = 100000 + sig_ms,
                              .start_boot_ms = start_boot_ms,
                              .now_ms = sig_ms + 1};
    return mw_cycle_killed(c, cfg, &ops, &k, &out);
}

/* ---- the sequences ---------------------------------------------------- */

/* A fork storm as the bed's s5 and g05 have it: memory falls, the
 * footprints are sampled once pressure builds (and not before, and not
 * more often than MW_FP_RATE_MIN_MS), then available memory is under half
 * the line with swap still free: a runaway and only a runaway may die.
 * The storm's units (bursts of young, growing processes) die together
 * until the deficit is covered, the foreground app (adj 0) and the idle
 * cached app are spared, and the next decision waits for the memory. */
static void test_storm(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    cfg.alert_available_kb = 50000;
    fake_add(100, 0, "heartbeat", 49152);
    fake_add(200, 960, "cached-3", 24576);
    for (int u = 0; u < 4; u++) { /* four bursts of ten: 16 MiB each */
        struct fproc *p = fake_add(1000 + 100 * u, 800, "hog", 1638);
        p->runaway = true;
        p->unit_kb = 16384;
        p->group_n = 9;
        for (int m = 1; m <= 9; m++)
            fake_add(1000 + 100 * u + m, 800, "hog", 1638);
    }
    /* calm: nothing sampled */
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 200000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 0);
    /* a PSI event is pressure building, whatever is available */
    CHECK_EQ_INT(step(&c, &cfg, vm(1100, 200000, VM_SWAP_KB, MW_EV_PARTIAL_STALL)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 1);
    /* under twice the line: building; at most every MW_FP_RATE_MIN_MS */
    CHECK_EQ_INT(step(&c, &cfg, vm(1100 + MW_FP_RATE_MIN_MS, 2 * VM_LINE_KB - 1, VM_SWAP_KB, 0)),
                 MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 2);
    CHECK_EQ_INT(step(&c, &cfg, vm(1400, 80000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 2); /* 50 ms after the last */
    CHECK_EQ_INT(step(&c, &cfg, vm(1600, 2 * VM_LINE_KB, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 2); /* at twice the line: not building */
    CHECK_EQ_INT(step(&c, &cfg, vm(1700, 60000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 3);
    CHECK(out.alerts == 0);
    /* the storm: 5000 kB available, the deficit back to the line */
    CHECK_EQ_INT(step(&c, &cfg, vm(1800, 5000, VM_SWAP_KB, 0)), MW_CYCLE_KILL);
    CHECK(out.dec.runaway_only);
    CHECK_EQ_U64(out.dec.deficit_kb, VM_LINE_KB - 5000);
    CHECK(out.alerts == MW_ALERT_AVAILABLE);
    CHECK(out.victim.runaway);
    CHECK_EQ_INT(out.victim.pid, 1000);
    /* 41814 kB to free: three 16 MiB units, signalled together */
    CHECK_EQ_INT(out.cover_victims, 3);
    CHECK_EQ_U64(out.covered_kb, 3 * 16384);
    CHECK_EQ_INT(out.victim.group_n, 9 + 10 + 10);
    CHECK_EQ_INT(out.victim.group_pid[9], 1100);
    CHECK_EQ_INT(out.victim.group_pid[19], 1200);
    CHECK_EQ_INT(fk.open, 1);      /* the lead's descriptor, for the kill */
    CHECK_EQ_INT(fk.refreshed, 3); /* no refresh on a sample that signals */
    CHECK(kill_it(&c, &cfg, 1810, true, 0));
    CHECK_EQ_INT(fk.open, 0);
    CHECK_EQ_INT(fk.forgot, 1);
    CHECK(fake_find(1300)->alive && fake_find(100)->alive && fake_find(200)->alive);
    CHECK(mw_cycle_again(&c, &cfg, 1));
    /* the memory is on its way back: no decision, no choice, no new alert */
    int chose = fk.chose;
    CHECK_EQ_INT(step(&c, &cfg, vm(1820, 5500, VM_SWAP_KB, 0)), MW_CYCLE_SETTLING);
    CHECK_EQ_INT(fk.chose, chose);
    CHECK(out.alerts == 0); /* once per alert interval */
    /* back: half of what the lead held showed (mw_policy_kill_visible:
     * the lead's own memory, not its group's) */
    CHECK_EQ_INT(step(&c, &cfg, vm(1900, 150000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK(!out.dec.kill);
    CHECK_EQ_INT(c.thrash.vain_kills, 0);
}

/* Tmpfs takes what a kill frees (the bed's g03, g27): two kills whose
 * memory never showed, each waited for until kill_settle_ms passed, are
 * counted as in vain, and the third decision says the memory is held
 * instead of killing (outside the last line). The held note is said once,
 * and the state file's text is rewritten only when it changes. */
static void test_kill_freed_nothing(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fake_add(901, 900, "cached-1", 30720);
    fake_add(902, 900, "cached-2", 30000);
    fake_add(903, 900, "cached-3", 29000);
    /* short of memory, swap under its 20 % line: low_mem_and_swap */
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK_STR(mw_reason_name(out.dec.reason), "low_mem_and_swap");
    CHECK_EQ_INT(out.victim.pid, 901);
    CHECK(kill_it(&c, &cfg, 1000, true, 0));
    CHECK_EQ_INT(step(&c, &cfg, vm(1499, 30000, 40000, 0)), MW_CYCLE_SETTLING);
    /* kill_settle_ms passed, nothing came back: vain */
    CHECK_EQ_INT(step(&c, &cfg, vm(1500, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(c.thrash.vain_kills, 1);
    CHECK_EQ_INT(out.victim.pid, 902);
    CHECK(kill_it(&c, &cfg, 1500, true, 0));
    CHECK_EQ_INT(step(&c, &cfg, vm(2000, 30000, 40000, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(c.thrash.vain_kills, 2);
    CHECK(out.dec.held && !out.dec.kill);
    CHECK_CONTAINS(out.dec.held_detail, "the last kills freed nothing");
    CHECK(out.say_held && out.publish_held);
    CHECK_STR(c.held, out.dec.held_detail);
    CHECK(fake_find(903)->alive);
    /* 100 ms later: not said again; the text, whose "used" now counts the
     * swap (the footprints sampled at 2000 tell whose it is), is rewritten
     * -- and then not again within MW_CYCLE_NOTE_MS while it moves */
    CHECK_EQ_INT(step(&c, &cfg, vm(2100, 30000, 40000, 0)), MW_CYCLE_NONE);
    CHECK(out.dec.held && !out.say_held && out.publish_held);
    CHECK_EQ_INT(step(&c, &cfg, vm(2200, 31000, 40000, 0)), MW_CYCLE_NONE);
    CHECK(out.dec.held && !out.publish_held);
    CHECK_EQ_INT(step(&c, &cfg, vm(2100 + MW_CYCLE_NOTE_MS, 31000, 40000, 0)), MW_CYCLE_NONE);
    CHECK(out.say_held && out.publish_held);
    CHECK_STR(c.held, out.dec.held_detail);
}

/* A restarter brings its child back after every kill (the bed's s4, the
 * seed's QQ): the third kill of one program, each victim started after
 * the kill before it, within loop_window_ms is a loop. It is said (the
 * hook once an alert interval) and the program is protected
 * (loop_action = protect: its adj less loop_protect_adj) for
 * loop_cooldown_ms, so the next shortage takes the cached app instead. */
static void test_kill_restart_loop(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fake_add(500, 900, "cached-1", 24576);
    uint64_t t = 1000, started = 99000;
    for (int round = 1; round <= 3; round++) {
        fake_add(600 + round, 985, "hog", 40960);
        CHECK_EQ_INT(step(&c, &cfg, vm(t, 30000, 40000, 0)), MW_CYCLE_KILL);
        CHECK_EQ_INT(out.victim.pid, 600 + round);
        CHECK(kill_it(&c, &cfg, t, true, started));
        CHECK_EQ_INT(out.loop_kills, round < 3 ? 0 : 3);
        CHECK(out.loop_hook == (round == 3));
        started = 100000 + t + 80; /* restarted 80 ms after the kill */
        /* its memory came back; calm until the restarted child eats it */
        CHECK_EQ_INT(step(&c, &cfg, vm(t + 100, 70000, 40000, 0)), MW_CYCLE_NONE);
        CHECK_EQ_INT(c.thrash.vain_kills, 0);
        t += 1000;
    }
    CHECK_EQ_INT(c.pen.n, 1);
    CHECK_STR(c.pen.p[0].comm, "hog");
    CHECK_EQ_INT(c.pen.p[0].adj_shift, cfg.loop_protect_adj);
    CHECK_EQ_U64(c.pen.p[0].until_ms, 3000 + 1 + cfg.loop_cooldown_ms);
    /* the fourth copy: at 985 - 300 it ranks below the cached app */
    fake_add(604, 985, "hog", 40960);
    CHECK_EQ_INT(step(&c, &cfg, vm(t, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(out.victim.pid, 500);
    CHECK(kill_it(&c, &cfg, t, true, 0));
    CHECK_EQ_INT(out.loop_kills, 0);
}

/* Three copies of "hog" (adj 985; RUNAWAY: each a runaway unit), each
 * killed and restarted 80 ms later, memory back in between: a loop at the
 * third kill. Returns the time after it. */
static uint64_t hog_loop(struct mw_cycle *c, const struct mw_config *cfg, bool runaway)
{
    uint64_t t = 1000, started = 99000;
    for (int round = 1; round <= 3; round++) {
        struct fproc *h = fake_add(600 + round, 985, "hog", 40960);
        h->runaway = runaway;
        h->unit_kb = runaway ? 40960 : 0;
        CHECK_EQ_INT(step(c, cfg, vm(t, 30000, 40000, 0)), MW_CYCLE_KILL);
        CHECK_EQ_INT(out.victim.pid, 600 + round);
        CHECK(kill_it(c, cfg, t, true, started));
        started = 100000 + t + 80;
        CHECK_EQ_INT(step(c, cfg, vm(t + 100, 70000, 40000, 0)), MW_CYCLE_NONE);
        t += 1000;
    }
    return t;
}

/* The same loop of a runaway (each copy grows from nothing, fast: a
 * runaway each time, the unit of a flat layout): the penalty holds for
 * it too, the fourth copy is no runaway and the cached app goes (issue
 * 26: "KILL LOOP ... protected for 300000 ms" and 43 more kills of it in
 * 11 s). */
static void test_kill_restart_loop_runaway(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    c.adj_flat = fk.flat = true; /* runaways at any adj (victim.c: runaway_any_adj) */
    fake_add(500, 900, "cached-1", 24576);
    uint64_t t = hog_loop(&c, &cfg, true);
    struct fproc *h = fake_add(604, 985, "hog", 40960);
    h->runaway = true;
    h->unit_kb = 40960;
    CHECK_EQ_INT(step(&c, &cfg, vm(t, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(out.victim.pid, 500); /* was: the fourth hog, a runaway again */
    CHECK(!out.victim.runaway);
    CHECK(kill_it(&c, &cfg, t, true, 0));
}

/* A program penalized again (its loop goes on, alone) keeps one slot: the
 * slot search took the last of "its own or an expired one", so an expired
 * slot after its own got a second copy, and its adj was shifted twice. */
static void test_loop_penalty_one_slot(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    c.pen.n = 2;
    snprintf(c.pen.p[0].comm, sizeof(c.pen.p[0].comm), "hog");
    c.pen.p[0].until_ms = 1000000;
    c.pen.p[0].adj_shift = cfg.loop_protect_adj;
    snprintf(c.pen.p[1].comm, sizeof(c.pen.p[1].comm), "other"); /* expired */
    uint64_t t = hog_loop(&c, &cfg, false);                      /* alone: taken at 985 - 300 */
    CHECK_EQ_INT(out.loop_kills, 0); /* the last step's; the kill before said 3 */
    int slots = 0;
    for (int i = 0; i < c.pen.n; i++)
        slots += strcmp(c.pen.p[i].comm, "hog") == 0 && c.pen.p[i].until_ms > t;
    CHECK_EQ_INT(slots, 1);
    CHECK_EQ_U64(c.pen.p[0].until_ms, 3000 + 1 + cfg.loop_cooldown_ms); /* its own, renewed */
}

/* At the last line (available under 5 %, swap under 20 %) the deficit is
 * more than one cached app: more victims join the first in one kill --
 * only from its class (after a cached app, cached apps only: the bed's
 * g23, where the deficit also took the service), each chosen once, and
 * never more than MW_CYCLE_MAX_KILLS. */
static void test_multi_victim_cover(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fake_add(100, 0, "heartbeat", 49152);
    fake_add(200, 200, "perceptible", 24576);
    fake_add(300, 500, "service", 32768);
    fake_add(400, 900, "cached-1", 24576);
    fake_add(401, 930, "cached-2", 24576);
    fake_add(402, 960, "cached-3", 24576);
    /* deficit: (46814 - 5000) + (52428 - 10000) = 84242 kB > 3 x 24 MiB */
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 5000, 10000, 0)), MW_CYCLE_KILL);
    CHECK(out.dec.last_line);
    CHECK_EQ_INT(out.dec.min_adj, 0);
    CHECK_EQ_U64(out.dec.deficit_kb, 84242);
    CHECK_EQ_INT(out.victim.pid, 402);
    CHECK_EQ_INT(out.cover_victims, 3);
    CHECK_EQ_INT(out.victim.group_n, 2);
    CHECK_EQ_INT(out.victim.group_pid[0], 401);
    CHECK_EQ_INT(out.victim.group_pid[1], 400);
    CHECK_EQ_U64(out.covered_kb, 3 * 24576);
    CHECK_EQ_INT(fk.open, 1);
    CHECK(kill_it(&c, &cfg, 1000, true, 0));
    CHECK(fake_find(300)->alive);
    /* the bound: ten 4 MiB runaways at the last line, flat: 8 at most */
    setup(&cfg, &c, false);
    c.adj_flat = fk.flat = true;
    for (int i = 0; i < 10; i++) {
        struct fproc *p = fake_add(700 + i, 0, "leak", 4096);
        p->runaway = true;
        p->unit_kb = 4096 + (uint64_t)i;
    }
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 5000, 10000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(out.cover_victims, MW_CYCLE_MAX_KILLS);
    CHECK_EQ_INT(out.victim.group_n, MW_CYCLE_MAX_KILLS - 1);
    /* one_kill_at_a_time (the low-RAM profile): one victim, the next
     * decision looks again */
    setup(&cfg, &c, false);
    cfg.one_kill_at_a_time = true;
    fake_add(400, 900, "cached-1", 24576);
    fake_add(401, 930, "cached-2", 24576);
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 5000, 10000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(out.cover_victims, 1);
    CHECK(!mw_cycle_again(&c, &cfg, 1));
}

/* A victim that will not die: signalled, its memory never shows. The
 * cycle chooses nobody while it settles, tries it once more when
 * kill_settle_ms has passed, and after the second kill in vain calls the
 * memory held. A kill that failed (EPERM: not signalled, not gone) leaves
 * no settle: the next sample decides at once, and the failed sample
 * refreshes the footprints as one that killed nobody. */
static void test_victim_will_not_die(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fake_add(901, 900, "stuck", 30720);
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK(kill_it(&c, &cfg, 1000, true, 0));
    fake_find(901)->alive = true; /* in D state: the SIGKILL waits */
    int chose = fk.chose;
    for (uint64_t t = 1010; t < 1500; t += 100)
        CHECK_EQ_INT(step(&c, &cfg, vm(t, 30000, 40000, 0)), MW_CYCLE_SETTLING);
    CHECK_EQ_INT(fk.chose, chose);
    CHECK_EQ_INT(step(&c, &cfg, vm(1500, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK_EQ_INT(out.victim.pid, 901);
    CHECK(kill_it(&c, &cfg, 1500, true, 0));
    fake_find(901)->alive = true;
    CHECK_EQ_INT(step(&c, &cfg, vm(2000, 30000, 40000, 0)), MW_CYCLE_NONE);
    CHECK(out.dec.held);
    /* the kill fails: no settle, a refresh, and at once another try */
    setup(&cfg, &c, false);
    fake_add(901, 900, "other-user", 30720);
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 30000, 40000, 0)), MW_CYCLE_KILL);
    int refreshed = fk.refreshed;
    CHECK(!kill_it(&c, &cfg, 1000, false, 0));
    CHECK_EQ_INT(fk.refreshed, refreshed + 1);
    CHECK_EQ_INT(fk.forgot, 0);
    CHECK(!c.settling);
    CHECK_EQ_INT(step(&c, &cfg, vm(1010, 30000, 40000, 0)), MW_CYCLE_KILL);
    /* gone before the signal: its memory comes back, nothing to settle */
    struct mw_cycle_kill k = {.gone_before = true, .sig_ms = 1010, .now_ms = 1010};
    fk.open--;
    CHECK(mw_cycle_killed(&c, &cfg, &ops, &k, &out));
    CHECK(!c.settling);
}

/* A dry run chooses and kills nobody: the same victim is said once per
 * MW_CYCLE_DRY_REPEAT_MS, another one at once; no descriptor is kept,
 * and the cover (which only a real kill needs) is not looked for. */
static void test_dry_run_repeat(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, true);
    fake_add(901, 900, "cached-1", 30720);
    fake_add(902, 900, "cached-2", 20000);
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 5000, 10000, 0)), MW_CYCLE_WOULD_KILL);
    CHECK(out.say);
    CHECK_EQ_INT(out.victim.pid, 901);
    CHECK_EQ_INT(out.cover_victims, 0);
    CHECK_EQ_INT(fk.open, 0);
    CHECK_EQ_INT(step(&c, &cfg, vm(1999, 5000, 10000, 0)), MW_CYCLE_WOULD_KILL);
    CHECK(!out.say);
    CHECK_EQ_INT(step(&c, &cfg, vm(2000, 5000, 10000, 0)), MW_CYCLE_WOULD_KILL);
    CHECK(out.say);
    fake_find(901)->alive = false;
    CHECK_EQ_INT(step(&c, &cfg, vm(2010, 5000, 10000, 0)), MW_CYCLE_WOULD_KILL);
    CHECK(out.say && out.victim.pid == 902);
    CHECK(!mw_cycle_again(&c, &cfg, 1));
}

/* The swap nobody holds is known only from a footprint sample younger
 * than MW_CYCLE_SWAP_FRESH_MS (and only then summed); a layout change
 * found by a scan is said. */
static void test_swap_freshness(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fk.sampled_ms = 1000;
    fk.procs_swap_kb = 100000; /* of 162140 kB in swap */
    struct mw_mem_state st = vm(1000 + MW_CYCLE_SWAP_FRESH_MS - 1, 200000, 100000, 0);
    mw_cycle_step(&c, &cfg, &ops, &st, &out);
    CHECK(st.held_swap_known);
    CHECK_EQ_U64(st.held_swap_kb, VM_SWAP_KB - 100000 - 100000);
    CHECK_EQ_INT(fk.swap_sums, 1);
    st = vm(1000 + MW_CYCLE_SWAP_FRESH_MS, 200000, 100000, 0);
    mw_cycle_step(&c, &cfg, &ops, &st, &out);
    CHECK(!st.held_swap_known);
    CHECK_EQ_U64(st.held_swap_kb, 0);
    /* a stale sample is not summed: the sum reads the whole footprint
     * cache, and the samples come 10 ms apart near the limit */
    CHECK_EQ_INT(fk.swap_sums, 1);
    /* the scan finds the layout flat: said once, used by the next decision */
    fk.flat = true;
    st = vm(5000, 60000, VM_SWAP_KB, 0);
    mw_cycle_step(&c, &cfg, &ops, &st, &out);
    CHECK(out.layout_changed && c.adj_flat);
    st = vm(5300, 60000, VM_SWAP_KB, 0);
    mw_cycle_step(&c, &cfg, &ops, &st, &out);
    CHECK(!out.layout_changed && st.adj_flat);
    CHECK(mw_cycle_flat(&cfg, false) == false);
    cfg.adj_mode = MW_ADJ_FLAT;
    CHECK(mw_cycle_flat(&cfg, false));
}

/* The cycle tells the choice whether the decision is the last line: a
 * process memwarden keeps until then (lmk/sdunit.h: logind, a unit with
 * ManagedOOMPreference=avoid) is spared by the decisions before it, and
 * taken at it only when nobody else is left. */
static void test_kept_until_last_line(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    fake_add(310, 950, "systemd-logind", 65536)->kept = true;
    fake_add(400, 900, "cached", 24576);
    /* low memory, swap still free: the cached app, not logind */
    CHECK_EQ_INT(step(&c, &cfg, vm(1000, 30000, 40000, 0)), MW_CYCLE_KILL);
    CHECK(!out.dec.last_line);
    CHECK_EQ_INT(out.victim.pid, 400);
    CHECK(kill_it(&c, &cfg, 1000, true, 0));
    /* logind alone: nobody before the last line ... */
    CHECK_EQ_INT(step(&c, &cfg, vm(3000, 30000, 40000, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(out.note, MW_CYCLE_NOTE_NO_VICTIM);
    /* ... at it, logind, said as kept */
    CHECK_EQ_INT(step(&c, &cfg, vm(4000, 5000, 10000, 0)), MW_CYCLE_KILL);
    CHECK(out.dec.last_line);
    CHECK_EQ_INT(out.victim.pid, 310);
    CHECK_EQ_INT(out.victim.keep, MW_KEEP_SYSTEM);
    CHECK(kill_it(&c, &cfg, 4000, true, 0));
}

/* Calm, the footprints are refreshed once per MW_CYCLE_CALM_REFRESH_MS
 * (the cache is warm when pressure comes), with what the refresh needs
 * to read only what moved: the headroom, the total and the slice. */
static void test_calm_refresh(void)
{
    struct mw_config cfg;
    struct mw_cycle c;
    setup(&cfg, &c, false);
    uint64_t t = MW_CYCLE_CALM_REFRESH_MS;
    CHECK_EQ_INT(step(&c, &cfg, vm(t, 200000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 1);
    CHECK_EQ_U64(fk.last_refresh.headroom_kb, 200000 + VM_SWAP_KB);
    CHECK_EQ_U64(fk.last_refresh.total_kb, VM_TOTAL_KB);
    CHECK_EQ_U64(fk.last_refresh.slice_us, MW_FP_SLICE_US);
    CHECK_EQ_INT(step(&c, &cfg, vm(2 * t - 1, 200000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 1); /* just short */
    CHECK_EQ_INT(step(&c, &cfg, vm(2 * t, 200000, VM_SWAP_KB, 0)), MW_CYCLE_NONE);
    CHECK_EQ_INT(fk.refreshed, 2);
    /* memory and swap gone (nobody to kill): the headroom says 1 kB, not
     * "unknown" (0, which would read every process at every refresh) */
    step(&c, &cfg, vm(2 * t + MW_FP_RATE_MIN_MS, 0, 0, 0));
    CHECK_EQ_INT(fk.refreshed, 3);
    CHECK_EQ_U64(fk.last_refresh.headroom_kb, 1);
}

int main(void)
{
    RUN(test_storm);
    RUN(test_kill_freed_nothing);
    RUN(test_kill_restart_loop);
    RUN(test_kill_restart_loop_runaway);
    RUN(test_loop_penalty_one_slot);
    RUN(test_multi_victim_cover);
    RUN(test_victim_will_not_die);
    RUN(test_dry_run_repeat);
    RUN(test_swap_freshness);
    RUN(test_kept_until_last_line);
    RUN(test_calm_refresh);
    return TESTS_DONE();
}
