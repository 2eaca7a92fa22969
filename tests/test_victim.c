/* Victim choice on a captured /proc tree (tests/fixtures/daemon-procs):
 * init, kthreadd, a kworker, sshd at -1000, four cached apps at 900 (one
 * with its argv cleared, one named "foo) Z 1" to fake a zombie state), a
 * service at 800, a foreground process at 0 and a real zombie at 950. */
#include "harness.h"
#include "cli.h"

#include <unistd.h>

#include "config.h"
#include "victim.h"

static int choose(struct mw_config *cfg, int min_adj, const struct mw_penalties *pen,
                  struct mw_victim *v, struct mw_scan_ws *stats)
{
    struct mw_root r;
    if (mw_root_open(&r, MW_FIXTURES "/daemon-procs") < 0)
        return -100;
    struct mw_scan_ws ws;
    int rc = mw_scan_ws_init(&ws, r.fd, -1, 64);
    if (rc == 0) {
        rc = mw_victim_choose(&ws, cfg, min_adj, pen, 1000, v);
        if (rc > 0)
            close(v->stat_fd);
        if (stats)
            *stats = ws;
        mw_scan_ws_free(&ws);
    }
    mw_root_close(&r);
    return rc;
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

int main(void)
{
    RUN(test_youngest_at_highest_adj);
    RUN(test_heaviest);
    RUN(test_protect_prefer_avoid);
    RUN(test_min_adj_and_never);
    RUN(test_empty_cmdline_is_a_candidate);
    RUN(test_loop_penalties);
    return TESTS_DONE();
}
