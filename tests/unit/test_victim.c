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
    int rc = mw_scan_ws_init(&ws, r.fd, -1, 64);
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
    return TESTS_DONE();
}
