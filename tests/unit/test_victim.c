/* Victim choice on a captured /proc tree (tests/fixtures/daemon-procs):
 * init, kthreadd, a kworker, sshd at -1000, four cached apps at 900 (one
 * with its argv cleared, one named "foo) Z 1" to fake a zombie state), a
 * service at 800, a foreground process at 0 and a real zombie at 950. */
#include "harness.h"
#include "cli/cli.h"

#include <unistd.h>

#include "lmk/config.h"
#include "lmk/victim.h"

static int choose_in(const char *tree, struct mw_config *cfg, const struct mw_choice *c,
                     struct mw_victim *v, struct mw_scan_ws *stats)
{
    struct mw_root r;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", MW_FIXTURES, tree);
    if (mw_root_open(&r, path) < 0)
        return -100;
    struct mw_scan_ws ws;
    int rc = mw_scan_ws_init(&ws, &r, -1, 64);
    if (rc == 0) {
        rc = mw_victim_choose(&ws, cfg, c, v);
        if (rc > 0)
            close(v->stat_fd);
        if (stats)
            *stats = ws;
        mw_scan_ws_free(&ws);
    }
    mw_root_close(&r);
    return rc;
}

static int choose(struct mw_config *cfg, int min_adj, const struct mw_penalties *pen,
                  struct mw_victim *v, struct mw_scan_ws *stats)
{
    /* a total, so the runaway pass runs: this tree has no proc/uptime,
     * and without a process's age there are no runaways */
    struct mw_choice c = {.min_adj = min_adj, .total_kb = 24684084, .pen = pen, .now_ms = 1000};
    return choose_in("daemon-procs", cfg, &c, v, stats);
}

static void test_youngest_at_highest_adj(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    struct mw_scan_ws st;
    CHECK_EQ_INT(choose(&cfg, -999, NULL, &v, &st), 1);
    /* the zombie at 950 is skipped; among the 900s the youngest */
    CHECK_EQ_INT(v.pid, 4303);
    CHECK_STR(v.comm, "foo) Z 1");
    CHECK_EQ_INT(v.adj, 900);
    CHECK_EQ_INT(v.uid, 1001);
    CHECK_EQ_INT(st.scanned, 11);
    /* details were read only for the top levels (950, then 900) */
    CHECK(st.detailed <= 5);
}

static void test_heaviest(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.kill_heaviest_task = true;
    struct mw_victim v;
    CHECK_EQ_INT(choose(&cfg, -999, NULL, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4302);
    CHECK_EQ_U64(v.rss_kb, 200000); /* VmRSS from status */
}

static void test_protect_prefer_avoid(void)
{
    struct mw_config cfg;
    char err[200];
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "protect = *foo*\n", err, sizeof(err)) == 0);
    CHECK_EQ_INT(choose(&cfg, -999, NULL, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4301); /* youngest unprotected 900 */
    CHECK_STR(v.cmdline, "/usr/bin/app --cache");
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "prefer = */usr/lib/service*\n", err, sizeof(err)) == 0);
    CHECK_EQ_INT(choose(&cfg, -999, NULL, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4401);
    CHECK_EQ_INT(v.eff_adj, 1100);
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "avoid = ./foo*\navoid = /usr/bin/app*\n", err, sizeof(err)) ==
          0);
    CHECK_EQ_INT(choose(&cfg, -999, NULL, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4302); /* the only 900 not avoided */
}

static void test_min_adj_and_never(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    /* above 900 only the zombie: nobody */
    CHECK_EQ_INT(choose(&cfg, 901, NULL, &v, NULL), 0);
    /* protect everything but init, kernel threads, sshd(-1000): still nobody */
    char err[200];
    CHECK(mw_config_parse_buf(
              &cfg, "protect = /usr/*\nprotect = ./*\nprotect = /opt/*\nprotect = argv*\n", err,
              sizeof(err)) == 0);
    CHECK_EQ_INT(choose(&cfg, -1000, NULL, &v, NULL), 0);
}

static void test_empty_cmdline_is_a_candidate(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    char err[200];
    CHECK(mw_config_parse_buf(&cfg, "protect = /usr/*\nprotect = ./*\n", err, sizeof(err)) == 0);
    struct mw_victim v;
    CHECK_EQ_INT(choose(&cfg, 850, NULL, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4304); /* argv cleared, but a user process at 900 */
    CHECK_STR(v.cmdline, "");
    /* a pattern can still name it by its program name */
    CHECK(mw_config_parse_buf(&cfg, "protect = argv*\n", err, sizeof(err)) == 0);
    CHECK_EQ_INT(choose(&cfg, 850, NULL, &v, NULL), 0);
}

static void test_loop_penalties(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_penalties pen = {.n = 1};
    snprintf(pen.p[0].comm, sizeof(pen.p[0].comm), "foo) Z 1");
    pen.p[0].until_ms = 5000;
    pen.p[0].adj_shift = INT32_MAX; /* cool-down: left alone */
    struct mw_victim v;
    CHECK_EQ_INT(choose(&cfg, -999, &pen, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4301);
    pen.p[0].until_ms = 999; /* expired */
    CHECK_EQ_INT(choose(&cfg, -999, &pen, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4303);
    pen.p[0].until_ms = 5000;
    pen.p[0].adj_shift = 300; /* protected by 300: 600 < the other 900s */
    CHECK_EQ_INT(choose(&cfg, -999, &pen, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 4301);
}

/* tests/fixtures/daemon-runaway (written by its make.py): 448 MiB, uptime
 * 1000 s; culprit (900, 320 MiB, 10 s old), leaker (500, 160 MiB, 20 s),
 * a storm of twelve 16 MiB "hog"s at 800 aged 2 s with one old sibling,
 * idle cached apps at 960/930, a young heartbeat at 0. */
#define RUNAWAY_TOTAL 458752

static int choose_runaway(struct mw_config *cfg, int min_adj, bool only, struct mw_victim *v)
{
    struct mw_choice c = {
        .min_adj = min_adj, .runaway_only = only, .total_kb = RUNAWAY_TOTAL, .now_ms = 1000};
    return choose_in("daemon-runaway", cfg, &c, v, NULL);
}

static void test_runaway_before_cached(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    CHECK_EQ_INT(choose_runaway(&cfg, 0, false, &v), 1);
    CHECK_EQ_INT(v.pid, 300);
    CHECK(v.runaway);
    CHECK_EQ_U64(v.unit_kb, 320 * 1024);
    CHECK_EQ_U64(v.growth_kb_s, 32 * 1024); /* 320 MiB in 10 s */
    CHECK_EQ_INT(v.group_n, 0);
    CHECK_STR(v.cmdline, "/usr/bin/culprit --eat"); /* read for the log */
    /* lmkd's order when runaways are off: the idle cached app at 960 */
    cfg.runaway_fill_ms = 0;
    CHECK_EQ_INT(choose_runaway(&cfg, 0, false, &v), 1);
    CHECK_EQ_INT(v.pid, 200);
    CHECK(!v.runaway);
}

static void test_runaway_group(void)
{
    struct mw_config cfg;
    char err[200];
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "protect = *culprit*\n", err, sizeof(err)) == 0);
    struct mw_victim v;
    CHECK_EQ_INT(choose_runaway(&cfg, 0, false, &v), 1);
    /* the storm (12 x 16 MiB = 192 MiB in 2 s) outweighs the leaker */
    CHECK(v.runaway);
    CHECK_STR(v.comm, "hog");
    CHECK_EQ_INT(v.adj, 800);
    CHECK_EQ_U64(v.unit_kb, 192 * 1024);
    CHECK_EQ_INT(v.group_n, 11);
    bool old_sibling = false, parent = false;
    for (int i = 0; i < v.group_n; i++) {
        old_sibling |= v.group_pid[i] == 613;
        parent |= v.group_pid[i] == 600;
        CHECK(v.group_pid[i] != v.pid);
    }
    CHECK(!old_sibling); /* 100 s old: not part of the storm */
    CHECK(!parent);      /* adj 0 */
    /* with the storm protected too, the leaker at 500 */
    cfg.runaway_min_adj = 400;
    CHECK(mw_config_parse_buf(&cfg, "protect = hog\n", err, sizeof(err)) == 0);
    CHECK_EQ_INT(choose_runaway(&cfg, 0, false, &v), 1);
    CHECK_EQ_INT(v.pid, 400);
    CHECK_EQ_U64(v.unit_kb, 160 * 1024); /* RSS + swap */
}

static void test_runaway_floor(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    /* the young heartbeat (48 MiB in 5 s) sits at 0: never a runaway */
    cfg.runaway_min_adj = -999;
    char err[200];
    CHECK(mw_config_parse_buf(&cfg, "protect = *culprit*\nprotect = hog\nprotect = *leaker\n", err,
                              sizeof(err)) == 0);
    CHECK_EQ_INT(choose_runaway(&cfg, 0, true, &v), 1);
    CHECK_EQ_INT(v.pid, 500); /* ... unless the floor is lowered to it */
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "protect = *culprit*\nprotect = hog\nprotect = *leaker\n", err,
                              sizeof(err)) == 0);
    /* runaway only: no runaway above the floor means nobody */
    CHECK_EQ_INT(choose_runaway(&cfg, 0, true, &v), 0);
    /* a decision's min_adj above the culprit: no runaway, lmkd's order */
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(choose_runaway(&cfg, 901, true, &v), 0);
    CHECK_EQ_INT(choose_runaway(&cfg, 901, false, &v), 1);
    CHECK_EQ_INT(v.pid, 200);
    /* a loop penalty that pushes the culprit under the floor spares it */
    struct mw_penalties pen = {.n = 1};
    snprintf(pen.p[0].comm, sizeof(pen.p[0].comm), "culprit");
    pen.p[0].until_ms = 5000;
    pen.p[0].adj_shift = 800;
    struct mw_choice c = {.min_adj = 0, .total_kb = RUNAWAY_TOTAL, .pen = &pen, .now_ms = 1000};
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK(v.pid != 300);
}

/* A program in a kill-restart loop is protected (its adj less
 * loop_protect_adj) for the cool-down: the runaway pass, which passes
 * over the adj order, must not take it either. On a flat adj layout
 * (everything at 0: the runaway floor is the decision's min_adj) a 300
 * shift never put it under the floor, and each restart grows from nothing,
 * fast: a runaway again -- "KILL LOOP ... protected for 300000 ms" and 43
 * more kills of it in 11 s (issue 26). */
static void test_runaway_not_a_penalized_program(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    struct mw_choice c = {
        .min_adj = 0, .total_kb = RUNAWAY_TOTAL, .now_ms = 1000, .runaway_any_adj = true};
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK(v.runaway);
    CHECK_EQ_INT(v.pid, 300); /* the culprit, unpenalized */
    struct mw_penalties pen = {.n = 1};
    snprintf(pen.p[0].comm, sizeof(pen.p[0].comm), "culprit");
    pen.p[0].until_ms = 5000;
    pen.p[0].adj_shift = cfg.loop_protect_adj; /* 300: 900 -> 600, still over the floor */
    c.pen = &pen;
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK(v.pid != 300); /* was: the culprit again, as a runaway */
    CHECK(!v.runaway || strcmp(v.comm, "culprit") != 0);
    /* the penalty over: a runaway again */
    c.now_ms = 5000;
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK_EQ_INT(v.pid, 300);
    CHECK(v.runaway);
}

static void test_runaway_scale(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    struct mw_victim v;
    /* on a machine 16x larger the same processes are no runaways */
    struct mw_choice c = {.min_adj = 0, .total_kb = RUNAWAY_TOTAL * 16, .now_ms = 1000};
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK(!v.runaway);
    CHECK_EQ_INT(v.pid, 200);
    /* a stricter bar (fill RAM within 10 s): the culprit (32 MiB/s) is too slow */
    cfg.runaway_fill_ms = 10000;
    c.total_kb = RUNAWAY_TOTAL;
    CHECK_EQ_INT(choose_in("daemon-runaway", &cfg, &c, &v, NULL), 1);
    CHECK(v.runaway);
    CHECK_STR(v.comm, "hog"); /* the storm: 96 MiB/s */
}

/* ---- generated trees: bursts, two-sample growth, the flat order ------- */

#include <sys/stat.h>

static char tree[32];

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tree, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A process in the scratch tree: RSS and swap in kB, started AGE_S
 * seconds before UPTIME_S. */
static void proc(int pid, int ppid, const char *comm, int adj, uint64_t rss_kb, uint64_t swap_kb,
                 double age_s, double uptime_s)
{
    char dir[96], rel[96], text[1024];
    snprintf(dir, sizeof(dir), "%s/proc/%d", tree, pid);
    mkdir(dir, 0755);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long start = (unsigned long long)((uptime_s - age_s) * (double)hz);
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
    snprintf(text, sizeof(text),
             "%d (%s) S %d %d %d 0 -1 4194560 120 0 0 0 5 3 0 0 20 0 1 0 %llu 1000 %llu "
             "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
             pid, comm, ppid, pid, pid, start,
             (unsigned long long)rss_kb / (unsigned long long)page_kb);
    put(rel, text);
    snprintf(rel, sizeof(rel), "proc/%d/status", pid);
    snprintf(text, sizeof(text),
             "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t0\t0\t0\t0\n"
             "VmRSS:\t%llu kB\nVmPTE:\t0 kB\nVmSwap:\t%llu kB\n",
             comm, pid, pid, ppid, (unsigned long long)rss_kb, (unsigned long long)swap_kb);
    put(rel, text);
    snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
    snprintf(text, sizeof(text), "%d\n", adj);
    put(rel, text);
    snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
    put(rel, comm);
    /* statm: size resident shared text lib data dt (pages): what a visit
     * reads first (a changed text means stat and status are read too) */
    unsigned long long pages = (unsigned long long)(rss_kb / (uint64_t)page_kb);
    snprintf(rel, sizeof(rel), "proc/%d/statm", pid);
    snprintf(text, sizeof(text), "%llu %llu 100 10 0 %llu 0\n", pages + 1000, pages, pages + 50);
    put(rel, text);
}

static int new_tree(double uptime_s)
{
    snprintf(tree, sizeof(tree), "/tmp/mw-victim-XXXXXX");
    if (!mkdtemp(tree))
        return 0;
    char dir[96], text[64];
    snprintf(dir, sizeof(dir), "%s/proc", tree);
    mkdir(dir, 0755);
    snprintf(text, sizeof(text), "%.2f 100.00\n", uptime_s);
    put("proc/uptime", text);
    return 1;
}

static void drop_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", tree);
}

#define GEN_TOTAL (448 * 1024) /* kB: the VM bed's machine */

/* A flat machine (every process at 0): an old sshd, a big old database,
 * a young cron job, and BURST workers (children of PID 1 and of different
 * shells: no common parent) started within SPAN_S seconds, 20 to 20 +
 * SPAN_S seconds ago, WORKER_KB each. */
static void flat_machine(double up, int burst, double span_s, uint64_t worker_kb)
{
    proc(100, 1, "sshd", 0, 8 * 1024, 0, up - 5, up);
    proc(200, 1, "postgres", 0, 96 * 1024, 16 * 1024, 900, up);
    proc(300, 100, "cron-job", 0, 4 * 1024, 0, 2, up);
    for (int i = 0; i < burst; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, worker_kb, 0,
             20 + span_s - span_s * i / (burst > 1 ? burst - 1 : 1), up);
}

static int choose_tree(struct mw_scan_ws *ws, struct mw_config *cfg, const struct mw_choice *c,
                       struct mw_victim *v)
{
    int rc = mw_victim_choose(ws, cfg, c, v);
    if (rc > 0)
        close(v->stat_fd);
    return rc;
}

static void test_flat_badness_not_youngest(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    struct mw_choice c = {.min_adj = 0, .total_kb = GEN_TOTAL, .now_ms = 1000, .flat = true};
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK(mw_scan_adj_flat(&ws));
    CHECK_EQ_INT(v.pid, 200); /* the most points: 112 MiB */
    CHECK(!v.runaway);
    /* just short: lmkd's order on the same tree takes the youngest at 0 */
    c.flat = false;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 300);
    /* adj weighs as in the kernel: 300 x 448 MiB / 1000 = 134 MiB > 112 MiB */
    put("proc/100/oom_score_adj", "300\n");
    c.flat = true;
    c.now_ms = 1000 + MW_FP_FRESH_MS; /* the cached adj is stale */
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 100);
    put("proc/100/oom_score_adj", "200\n"); /* 89 MiB: just short */
    c.now_ms += MW_FP_FRESH_MS;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 200);
    /* the adjs cached, and moved since: the chosen one's moved too (still
     * eligible), so every adj is read and the choice made again --
     * sshd at 600 now (8 + 269 MiB) beats postgres at 1 */
    put("proc/100/oom_score_adj", "600\n");
    put("proc/200/oom_score_adj", "1\n");
    c.now_ms += 100;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 100);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();
}

/* The swap processes hold, for "swap nobody holds" (tmpfs swapped out):
 * a protected process's swap is owned too; once it counted as nobody's,
 * and a protected database in swap looked like tmpfs to the policy. */
static void test_swap_owned_by_protected(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    proc(100, 1, "app", 0, 8 * 1024, 1000, 50, 1000);
    proc(200, 1, "database", 0, 96 * 1024, 5000, 900, 1000);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    char err[256];
    mw_config_defaults(&cfg);
    CHECK(mw_config_parse_buf(&cfg, "protect = database\n", err, sizeof(err)) == 0);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    CHECK_EQ_INT((int)mw_victim_swap_kb(&ws), -1); /* no refresh yet */
    struct mw_choice c = {.min_adj = -999, .total_kb = GEN_TOTAL, .now_ms = 1000};
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 2);
    CHECK_EQ_INT((int)mw_victim_swap_kb(&ws), 6000);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();
}

static void test_burst_without_common_parent(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    /* 10 workers x 12 MiB = 120 MiB in 23 s: 5 MiB/s fills 448 MiB in 86 s
     * on average (no runaway); between two samples they grow 4 MiB each in
     * 0.5 s: 80 MiB/s together */
    flat_machine(1000, 10, 3, 12 * 1024);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    struct mw_choice c = {.min_adj = 0,
                          .total_kb = GEN_TOTAL,
                          .now_ms = 1000,
                          .runaway_only = true,
                          .runaway_any_adj = true};
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 13);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0); /* one sample: the average says no */
    for (int i = 0; i < 10; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, 16 * 1024, 0, 23.5 - 3.0 * i / 9, 1000.5);
    c.now_ms = 1500;
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 13);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK(v.runaway && v.burst);
    CHECK_EQ_INT(v.group_n, 9); /* every worker, whoever its parent */
    CHECK_EQ_U64(v.unit_kb, 160 * 1024);
    CHECK_EQ_U64(v.growth_kb_s, 80 * 1024);
    /* the choice under pressure read no adj but the victim's */
    CHECK_EQ_INT(ws.adj_read, 1);
    /* two more samples: worker 403 paused (it grows in steps), still a
     * member; an idle process started among them that never grew is none;
     * worker 421, a sibling of the odd workers (PID 1's "worker", same
     * uid) that reached its size before it was first sampled, is one;
     * just short: 422, the same but the child of another parent, is none */
    for (int i = 0; i < 10; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, (i == 3 ? 16 : 20) * 1024, 0,
             24 - 3.0 * i / 9, 1001);
    proc(420, 1, "idle", 0, 12 * 1024, 0, 22, 1001);
    proc(421, 1, "worker", 0, 30 * 1024, 0, 21, 1001);
    proc(422, 77, "worker", 0, 30 * 1024, 0, 21, 1001);
    c.now_ms = 2000;
    mw_victim_refresh(&ws, &cfg, &c);
    proc(420, 1, "idle", 0, 12 * 1024, 0, 22.5, 1001.5);
    proc(421, 1, "worker", 0, 30 * 1024, 0, 21.5, 1001.5);
    proc(422, 77, "worker", 0, 30 * 1024, 0, 21.5, 1001.5);
    for (int i = 0; i < 10; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, (i == 3 ? 16 : 24) * 1024, 0,
             24.5 - 3.0 * i / 9, 1001.5);
    c.now_ms = 2500;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK(v.burst);
    CHECK_EQ_INT(v.group_n, 10); /* worker 403 and 421 in, idle 420 out */
    bool has403 = v.pid == 403, has420 = v.pid == 420, has421 = v.pid == 421, has422 = v.pid == 422;
    for (int i = 0; i < v.group_n; i++) {
        has403 |= v.group_pid[i] == 403;
        has420 |= v.group_pid[i] == 420;
        has421 |= v.group_pid[i] == 421;
        has422 |= v.group_pid[i] == 422;
    }
    CHECK(has403 && !has420 && has421 && !has422);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();

    /* workers started one by one, 1.3 s apart (12 s in all): one burst */
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 10, 12, 12 * 1024);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    c.now_ms = 1000;
    mw_victim_refresh(&ws, &cfg, &c);
    for (int i = 0; i < 10; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, 16 * 1024, 0, 32.5 - 12.0 * i / 9, 1000.5);
    c.now_ms = 1500;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK(v.burst);
    CHECK_EQ_INT(v.group_n, 9);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();

    /* just short: the same workers started 6.7 s apart are no burst */
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 10, 60, 12 * 1024);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    c.now_ms = 1000;
    mw_victim_refresh(&ws, &cfg, &c);
    for (int i = 0; i < 10; i++)
        proc(400 + i, i % 2 ? 1 : 350 + i, "worker", 0, 16 * 1024, 0, 80.5 - 60.0 * i / 9, 1000.5);
    c.now_ms = 1500;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();
}

/* A sibling that stopped growing joins a growing one's burst when it is
 * alike (a storm's worker that reached its size first), not when it is a
 * small idle sibling: a browser's renderers beside the one tab that grows
 * (the distro bed's d05, eleven renderers killed with the tab). */
static void test_sibling_alike(void)
{
    for (int alike = 0; alike < 2; alike++) {
        if (!new_tree(1000))
            SKIP("no scratch directory");
        uint64_t idle_kb = (alike ? 60 : 6) * 1024;
        proc(800, 1, "browser", 200, 32 * 1024, 0, 20, 1000);
        for (int i = 0; i < 11; i++)
            proc(801 + i, 800, "renderer", 300, idle_kb, 0, 20, 1000);
        proc(812, 800, "renderer", 300, 6 * 1024, 0, 20, 1000);
        struct mw_root r;
        struct mw_scan_ws ws;
        struct mw_config cfg;
        struct mw_victim v;
        mw_config_defaults(&cfg);
        CHECK_EQ_INT(mw_root_open(&r, tree), 0);
        CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
        struct mw_choice c = {.min_adj = 0, .total_kb = GEN_TOTAL, .now_ms = 1000};
        mw_victim_refresh(&ws, &cfg, &c);
        /* the tab grows 100 MiB in 0.5 s; its siblings stay as they were */
        proc(800, 1, "browser", 200, 32 * 1024, 0, 20.5, 1000.5);
        for (int i = 0; i < 11; i++)
            proc(801 + i, 800, "renderer", 300, idle_kb, 0, 20.5, 1000.5);
        proc(812, 800, "renderer", 300, 106 * 1024, 0, 20.5, 1000.5);
        c.now_ms = 1500;
        mw_victim_refresh(&ws, &cfg, &c);
        CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
        CHECK_EQ_INT(v.pid, 812);
        CHECK(v.runaway);
        CHECK_EQ_INT(v.group_n, alike ? 11 : 0);
        mw_scan_ws_free(&ws);
        mw_root_close(&r);
        drop_tree();
    }
}

/* A process that idled 100 s and now grows 40 MiB/s: its average since
 * start says nothing, two samples say runaway. */
static void test_two_sample_growth(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    proc(500, 1, "leaker", 0, 40 * 1024, 0, 100, 1000);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(mw_root_open(&r, tree), 0);
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 64), 0);
    struct mw_choice c = {.min_adj = 0,
                          .total_kb = GEN_TOTAL,
                          .now_ms = 1000,
                          .runaway_only = true,
                          .runaway_any_adj = true};
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    proc(500, 1, "leaker", 0, 60 * 1024, 0, 100.5, 1000.5); /* +20 MiB in 0.5 s */
    c.now_ms = 1500;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 500);
    CHECK(v.runaway && !v.burst);
    CHECK_EQ_U64(v.growth_kb_s, 40 * 1024);
    /* a kill marks the cache stale; the growth history survives it */
    mw_victim_forget(&ws);
    c.now_ms = 1600;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 500);
    CHECK(ws.adj_read > 1); /* every adj read again */
    /* just short: 3.5 MiB more in the next 0.5 s (7 MiB/s: 64 s to fill) */
    proc(500, 1, "leaker", 0, 60 * 1024 + 3584, 0, 101, 1001);
    c.now_ms = 2100; /* 0.5 s after the last sample */
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
    drop_tree();
}

/* ---- the refresh at the floor (issue 27) -------------------------------- */

/* Opens the scratch tree's scan: 0, or a failed check. */
static int open_tree(struct mw_root *r, struct mw_scan_ws *ws)
{
    if (mw_root_open(r, tree) < 0)
        return -1;
    if (mw_scan_ws_init(ws, r, -1, 64) < 0) {
        mw_root_close(r);
        return -1;
    }
    return 0;
}

static void close_tree(struct mw_root *r, struct mw_scan_ws *ws)
{
    mw_scan_ws_free(ws);
    mw_root_close(r);
    drop_tree();
}

/* A process whose statm text did not change is not read further: its
 * stat and status stay unread; one whose statm moved is sampled whole. */
static void test_statm_unchanged_reads_no_more(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    proc(500, 1, "leaker", 0, 40 * 1024, 0, 100, 1000);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(open_tree(&r, &ws), 0);
    struct mw_choice c = {.min_adj = -999, .total_kb = GEN_TOTAL, .now_ms = 1000};
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 4);
    CHECK_EQ_INT(ws.detailed, 4); /* every one new: stat and status read */
    CHECK_EQ_INT(ws.fpc.fds, 4);  /* their adj held open */
    c.now_ms = 1500;
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 4);
    CHECK_EQ_INT(ws.visits, 4);
    CHECK_EQ_INT(ws.detailed, 0);
    proc(500, 1, "leaker", 0, 60 * 1024, 0, 100.5, 1000.5);
    c.now_ms = 2000;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(ws.detailed, 1);
    close_tree(&r, &ws);
}

/* A PID given to another process is never taken for the old one: its
 * directory replaced (the held adj file unlinked), the entry starts
 * afresh; its stat rewritten in place with another start time (what the
 * held descriptor cannot see in a tree), the choice refuses it. */
static void test_recycled_pid(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    proc(500, 1, "leaker", 0, 40 * 1024, 0, 100, 1000);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(open_tree(&r, &ws), 0);
    struct mw_choice c = {.min_adj = 0,
                          .total_kb = GEN_TOTAL,
                          .now_ms = 1000,
                          .runaway_only = true,
                          .runaway_any_adj = true};
    mw_victim_refresh(&ws, &cfg, &c);
    proc(500, 1, "leaker", 0, 80 * 1024, 0, 100.5, 1000.5); /* +40 MiB in 0.5 s */
    c.now_ms = 1500;
    mw_victim_refresh(&ws, &cfg, &c);
    /* the leaker's PID goes to a new small process (another start) */
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/500'", tree);
    CHECK_EQ_INT(system(cmd), 0);
    proc(500, 1, "shell", 0, 120 * 1024, 0, 50, 1001);
    c.now_ms = 2000;
    mw_victim_refresh(&ws, &cfg, &c);
    /* 80 MiB/s if taken for the leaker (80 MiB at 1.5 s, 120 MiB now);
     * its own first sample: 120 MiB in 50 s, no runaway */
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    /* it grows 80 MiB/s: a runaway of its own ... */
    proc(500, 1, "shell", 0, 160 * 1024, 0, 50.5, 1001.5);
    c.now_ms = 2500;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 500);
    /* ... then stat says another process (60 s old), unseen by any refresh */
    proc(500, 1, "other", 0, 160 * 1024, 0, 60, 1001.6);
    c.now_ms = 2600;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    /* sampled afresh at the next look: its own first sample, no runaway */
    c.now_ms = 2700;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 0);
    close_tree(&r, &ws);
}

/* The motion gate: with the headroom given, a refresh after a whole cycle
 * reads only what moved while the memory no process took stays under
 * 1/MW_FP_MOTION_DIV of the total (the footprints are confirmed); a fall
 * beyond it that no footprint read explains starts a whole cycle again;
 * one that the growing process explains does not. */
static void test_motion_gate(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    proc(500, 1, "leaker", 0, 40 * 1024, 0, 100, 1000);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(open_tree(&r, &ws), 0);
    uint64_t room = 200 * 1024, step = GEN_TOTAL / MW_FP_MOTION_DIV;
    struct mw_choice c = {
        .min_adj = -999, .total_kb = GEN_TOTAL, .now_ms = 1000, .headroom_kb = room};
    mw_victim_refresh(&ws, &cfg, &c); /* the first: a whole cycle */
    CHECK_EQ_INT(ws.detailed, 4);
    c.now_ms = 1500;
    c.headroom_kb = room - step + 1; /* just short */
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(ws.visits, 1); /* the young cron job only */
    CHECK_EQ_INT(ws.adj_read, 1);
    /* 20 MiB gone that nobody read took: a whole cycle finds the leaker */
    proc(500, 1, "leaker", 0, 60 * 1024, 0, 100.5, 1000.5);
    c.now_ms = 2000;
    c.headroom_kb = room - 20 * 1024;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(ws.visits, 4);
    CHECK_EQ_INT(ws.detailed, 1);
    /* it grows on and the headroom falls with it: its own read explains it */
    proc(500, 1, "leaker", 0, 140 * 1024, 0, 101, 1001);
    c.now_ms = 2500;
    c.headroom_kb = room - 100 * 1024;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(ws.visits, 2); /* the leaker (it moved) and the cron job */
    /* the choice trusts what the gate confirmed: it reads no footprint */
    struct mw_victim v;
    c.flat = true;
    c.min_adj = 0;
    c.now_ms = 2600;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 500);
    CHECK_EQ_INT(ws.visits, 0);
    /* killed: no whole cycle after it, but the fall is counted afresh --
     * its 140 MiB back must not hide 20 MiB that postgres takes next */
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/500'", tree);
    CHECK_EQ_INT(system(cmd), 0);
    mw_victim_forget(&ws);
    c.flat = false;
    c.min_adj = -999;
    c.now_ms = 3000;
    c.headroom_kb = room + 40 * 1024;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK(ws.visits <= 2); /* the leaker found gone, the cron job */
    proc(200, 1, "postgres", 0, 116 * 1024, 16 * 1024, 902, 1002);
    c.now_ms = 3500;
    c.headroom_kb = room + 20 * 1024;
    mw_victim_refresh(&ws, &cfg, &c);
    CHECK_EQ_INT(ws.detailed, 1); /* a whole cycle found postgres growing */
    close_tree(&r, &ws);
}

/* A slice too short for a whole cycle: the cycle goes on at the next
 * refreshes until every candidate was read once, and the enumeration
 * drops a process that is gone (its descriptor closed). */
static void test_cycle_in_slices(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 10, 3, 12 * 1024);
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(open_tree(&r, &ws), 0);
    struct mw_choice c = {.min_adj = -999, .total_kb = GEN_TOTAL, .now_ms = 1000};
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 13);
    int fds = ws.fpc.fds;
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/200'", tree); /* postgres exits */
    CHECK_EQ_INT(system(cmd), 0);
    c.slice_us = 1;
    c.headroom_kb = 200 * 1024; /* the headroom given: cycles by the gate from here */
    c.now_ms += 250;
    mw_victim_refresh(&ws, &cfg, &c);
    c.headroom_kb -= 20 * 1024; /* 20 MiB gone that nothing read explains */
    unsigned calls = 0, visits = 0;
    do {
        c.now_ms += 250;
        mw_victim_refresh(&ws, &cfg, &c);
        visits += ws.visits;
        calls++;
    } while (ws.cycling && calls < 1000);
    CHECK(calls > 1);
    CHECK(!ws.cycling);
    CHECK(visits >= 12);
    CHECK_EQ_INT(ws.fpc.fds, fds - 1);
    CHECK(mw_fpc_find(&ws.fpc, 200) == NULL);
    close_tree(&r, &ws);
}

/* New processes by PID: loadavg's last PID moved from 500 to 503 -- 501
 * a process (sampled at once: a new process may be the next hog), 502 a
 * thread of it (its own ROOT/proc/TID answers, its status says Tgid 501:
 * not a process), 503 gone before the look. No enumeration: a choice then
 * takes its candidates from the cache. */
static void test_births_by_pid(void)
{
    if (!new_tree(1000))
        SKIP("no scratch directory");
    flat_machine(1000, 0, 0, 0);
    put("proc/loadavg", "0.00 0.00 0.00 1/100 500\n");
    struct mw_root r;
    struct mw_scan_ws ws;
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(open_tree(&r, &ws), 0);
    struct mw_choice c = {
        .min_adj = -999, .total_kb = GEN_TOTAL, .now_ms = 1000, .headroom_kb = 200 * 1024};
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 3);
    proc(501, 1, "newcomer", 0, 30 * 1024, 0, 0.5, 1000.5);
    proc(502, 1, "newcomer", 0, 30 * 1024, 0, 0.5, 1000.5);
    put("proc/502/status", "Name:\tnewcomer\nTgid:\t501\nPid:\t502\nUid:\t0\t0\t0\t0\n");
    put("proc/loadavg", "0.00 0.00 0.00 2/102 503\n");
    c.now_ms = 1500;
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), 4);
    CHECK_EQ_INT(ws.scanned, 0); /* no directory listed */
    struct mw_fp *e = mw_fpc_find(&ws.fpc, 501);
    CHECK(e && e->detailed && e->kb == 30 * 1024);
    CHECK(mw_fpc_find(&ws.fpc, 502) == NULL);
    struct mw_victim v;
    c.flat = true;
    c.min_adj = 0;
    c.now_ms = 1600;
    CHECK_EQ_INT(choose_tree(&ws, &cfg, &c, &v), 1);
    CHECK_EQ_INT(v.pid, 200);    /* postgres, 112 MiB */
    CHECK_EQ_INT(ws.scanned, 4); /* from the cache: the four processes */
    close_tree(&r, &ws);
}

int main(void)
{
    RUN(test_youngest_at_highest_adj);
    RUN(test_heaviest);
    RUN(test_protect_prefer_avoid);
    RUN(test_min_adj_and_never);
    RUN(test_empty_cmdline_is_a_candidate);
    RUN(test_loop_penalties);
    RUN(test_runaway_before_cached);
    RUN(test_runaway_group);
    RUN(test_runaway_floor);
    RUN(test_runaway_scale);
    RUN(test_runaway_not_a_penalized_program);
    RUN(test_flat_badness_not_youngest);
    RUN(test_swap_owned_by_protected);
    RUN(test_burst_without_common_parent);
    RUN(test_two_sample_growth);
    RUN(test_sibling_alike);
    RUN(test_statm_unchanged_reads_no_more);
    RUN(test_recycled_pid);
    RUN(test_motion_gate);
    RUN(test_cycle_in_slices);
    RUN(test_births_by_pid);
    return TESTS_DONE();
}
