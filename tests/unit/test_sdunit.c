/* The victim choice beside systemd (lmk/sdunit.h) on a captured systemd
 * machine (tests/fixtures/daemon-systemd, made by its make.py): what
 * ManagedOOMPreference=omit and =avoid spare and when, the system's own
 * processes (journald, dbus, logind, systemd --user, a session's leader)
 * kept until the last line, and a runaway killed as its unit -- each rule
 * with a case on each side of its line. */
#include "harness.h"

#include <fcntl.h>
#include <unistd.h>

#include "lmk/config.h"
#include "lmk/policy.h"
#include "lmk/sdunit.h"
#include "lmk/victim.h"

#define TOTAL_KB (448 * 1024)

/* Chooses on the fixture; OUT->stat_fd is closed. */
static int choose(const struct mw_config *cfg, const struct mw_choice *c, struct mw_victim *out)
{
    struct mw_root r;
    if (mw_root_open(&r, MW_FIXTURES "/daemon-systemd") < 0)
        return -100;
    struct mw_scan_ws ws;
    int rc = mw_scan_ws_init(&ws, &r, -1, 128);
    if (rc == 0) {
        rc = mw_victim_choose(&ws, cfg, c, out);
        if (rc > 0)
            close(out->stat_fd);
        mw_scan_ws_free(&ws);
    }
    mw_root_close(&r);
    return rc;
}

/* The flat order (the most points first), no runaways, everything but
 * the system's own, the databases, the subgroup process, the fake
 * systemd and the session's two protected by name. */
static void flat_cfg(struct mw_config *cfg)
{
    char err[200];
    mw_config_defaults(cfg);
    cfg->runaway_fill_ms = 0;
    CHECK(mw_config_parse_buf(cfg,
                              "protect = renderer*\nprotect = eater\nprotect = leaker\n"
                              "protect = hog*\nprotect = cc1*\nprotect = make*\n"
                              "protect = browser\nprotect = worker\nprotect = helper\n",
                              err, sizeof(err)) == 0);
}

static int flat_choice(const struct mw_config *cfg, const int *excl, int n, bool last_line,
                       struct mw_victim *v)
{
    struct mw_choice c = {.min_adj = 0,
                          .flat = true,
                          .exclude = excl,
                          .exclude_n = n,
                          .total_kb = TOTAL_KB,
                          .last_line = last_line,
                          .now_ms = 1000};
    return choose(cfg, &c, v);
}

/* omit: never, not even at the last line; avoid: only at the last line,
 * after everyone else; a mark is its own cgroup's (systemd-oomd's rule). */
static void test_omit_and_avoid(void)
{
    struct mw_config cfg;
    flat_cfg(&cfg);
    struct mw_victim v;
    /* the most points: dbomit (90 MiB, omit), dbavoid (80, avoid), then
     * the program moved into systemd --user's scope (30 MiB + adj 100) */
    CHECK_EQ_INT(flat_choice(&cfg, NULL, 0, false, &v), 1);
    CHECK_EQ_INT(v.pid, 501);
    CHECK_EQ_INT(v.keep, MW_KEEP_NONE);
    CHECK_STR(v.unit, "init.scope");
    /* the omitted unit's subgroup carries no mark: killable */
    int ex1[] = {501};
    CHECK_EQ_INT(flat_choice(&cfg, ex1, 1, false, &v), 1);
    CHECK_EQ_INT(v.pid, 430);
    CHECK_STR(v.unit, "db-omit.service");
    /* the same at the last line: nobody kept dies while others are left */
    CHECK_EQ_INT(flat_choice(&cfg, ex1, 1, true, &v), 1);
    CHECK_EQ_INT(v.pid, 430);
    /* only the kept ones left: nobody outside the last line ... */
    int ex2[] = {501, 430, 420, 521};
    CHECK_EQ_INT(flat_choice(&cfg, ex2, 4, false, &v), 0);
    /* ... at it, the avoided database first (the most points), never the
     * omitted one */
    CHECK_EQ_INT(flat_choice(&cfg, ex2, 4, true, &v), 1);
    CHECK_EQ_INT(v.pid, 410);
    CHECK_EQ_INT(v.keep, MW_KEEP_AVOID);
    CHECK_STR(v.keep_why, "ManagedOOMPreference=avoid");
    CHECK_STR(v.unit, "db-avoid.service");
    int ex3[] = {501, 430, 420, 521, 410, 500, 300, 310, 320, 520};
    CHECK_EQ_INT(flat_choice(&cfg, ex3, 10, true, &v), 0); /* dbomit alone: nobody */
    /* oomd_preference = false: the marks are not read */
    cfg.oomd_preference = false;
    CHECK_EQ_INT(flat_choice(&cfg, NULL, 0, false, &v), 1);
    CHECK_EQ_INT(v.pid, 400);
    CHECK_EQ_INT(v.keep, MW_KEEP_NONE);
}

/* journald, dbus, logind, systemd --user and a session's leader: only at
 * the last line; the user's shell in the same session, and a program
 * moved into the manager's scope, are no such thing. */
static void test_system_processes(void)
{
    struct mw_config cfg;
    flat_cfg(&cfg);
    struct mw_victim v;
    int ex[] = {501, 430, 420, 410};
    /* outside the last line: the shell of session 2, not its leader */
    CHECK_EQ_INT(flat_choice(&cfg, ex, 4, false, &v), 1);
    CHECK_EQ_INT(v.pid, 521);
    CHECK_STR(v.unit, "session-2.scope");
    int ex2[] = {501, 430, 420, 410, 521};
    CHECK_EQ_INT(flat_choice(&cfg, ex2, 5, false, &v), 0);
    /* at the last line: systemd --user (10 MiB + adj 100) has the most
     * points, then journald, logind, dbus, the leader */
    static const struct {
        int pid;
        const char *why;
    } order[] = {
        {500, "systemd --user (user@1000.service)"},
        {300, "systemd-journald.service"},
        {310, "systemd-logind.service"},
        {320, "dbus.service"},
        {520, "the leader of session 2"},
    };
    int excl[16];
    int n = 0;
    for (int i = 0; i < 5; i++)
        excl[n++] = ex2[i];
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        CHECK_EQ_INT(flat_choice(&cfg, excl, n, true, &v), 1);
        CHECK_EQ_INT(v.pid, order[i].pid);
        CHECK_EQ_INT(v.keep, MW_KEEP_SYSTEM);
        CHECK_STR(v.keep_why, order[i].why);
        excl[n++] = order[i].pid;
    }
}

/* The runaway choice with every culprit of the fixture protected but
 * KEEP (cc1*, hog, worker, renderer*, eater or leaker), under CFG (its
 * defaults, changed by the caller). */
static int runaway_of(struct mw_config *cfg, const char *keep, struct mw_victim *v)
{
    static const char *const culprits[] = {"cc1*", "hog", "worker", "renderer*", "eater", "leaker"};
    char text[256] = "", err[200];
    for (size_t i = 0; i < sizeof(culprits) / sizeof(culprits[0]); i++)
        if (strcmp(culprits[i], keep) != 0)
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "protect = %s\n",
                     culprits[i]);
    CHECK(mw_config_parse_buf(cfg, text, err, sizeof(err)) == 0);
    struct mw_choice c = {.min_adj = 0,
                          .runaway_only = true,
                          .runaway_any_adj = true,
                          .total_kb = TOTAL_KB,
                          .now_ms = 1000};
    return choose(cfg, &c, v);
}

/* A runaway is its unit as a whole when the unit holds nothing else of
 * weight and nobody who must live: the build's scope (an old make beside
 * eight jobs), a service's fork storm, a lone leaker -- not the browser
 * (its parent and renderers beside the tab), not a unit with a process
 * at -1000, not a login session. */
static void test_unit_whole(void)
{
    struct mw_config cfg;
    struct mw_victim v;
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(runaway_of(&cfg, "cc1*", &v), 1);
    CHECK_STR(v.comm, "cc1");
    CHECK_EQ_INT(v.group_n, 7); /* make is 40 s old and still: not of the burst */
    CHECK(v.unit_whole && v.kill_cgroup && !v.cgroup_v1);
    CHECK_STR(v.cgroup, "/user.slice/user-1000.slice/user@1000.service/app.slice/mw-build.scope");
    CHECK_STR(v.unit, "mw-build.scope");
    /* kill_units = false: the burst's processes only */
    mw_config_defaults(&cfg);
    cfg.kill_units = false;
    CHECK_EQ_INT(runaway_of(&cfg, "cc1*", &v), 1);
    CHECK(!v.unit_whole && !v.kill_cgroup);
    /* the fork storm of a system service, its parent with it */
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(runaway_of(&cfg, "hog", &v), 1);
    CHECK_STR(v.comm, "hog");
    CHECK_EQ_INT(v.group_n, 12);
    CHECK(v.unit_whole);
    CHECK_STR(v.cgroup, "/system.slice/mw-storm.service");
    /* the same burst beside a process at -1000: the processes, not the unit */
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(runaway_of(&cfg, "worker", &v), 1);
    CHECK_STR(v.comm, "worker");
    CHECK_EQ_INT(v.group_n, 5);
    CHECK(!v.unit_whole && !v.kill_cgroup);
    CHECK_STR(v.unit, "mw-guarded.service");
    /* the growing tab: its browser's other processes are innocents */
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(runaway_of(&cfg, "renderer*", &v), 1);
    CHECK_EQ_INT(v.pid, 809);
    CHECK(!v.unit_whole);
    CHECK_STR(v.unit, "mw-browser.service");
    /* a runaway in a login session: never the session */
    mw_config_defaults(&cfg);
    CHECK_EQ_INT(runaway_of(&cfg, "eater", &v), 1);
    CHECK_EQ_INT(v.pid, 522);
    CHECK(!v.unit_whole);
    /* a lone leaker (a runaway within 120 s): its service */
    mw_config_defaults(&cfg);
    cfg.runaway_fill_ms = 120000;
    CHECK_EQ_INT(runaway_of(&cfg, "leaker", &v), 1);
    CHECK_EQ_INT(v.pid, 900);
    CHECK(v.unit_whole);
    CHECK_STR(v.cgroup, "/system.slice/mw-leak.service");
}

/* The decision alone, on both sides of each of its lines. */
static void test_unit_whole_rule(void)
{
    struct mw_cgunit u;
    struct mw_unit_census c = {.procs = 9, .members_in = 8, .others_kb = 2048};
    mw_cgunit_parse("/system.slice/mw-storm.service", &u);
    CHECK(mw_policy_unit_whole(&u, &c, 8, 8 * 2048));
    CHECK(!mw_policy_unit_whole(&u, &c, 8, 8 * 2048 - 1)); /* the rest above 1/8 */
    CHECK(!mw_policy_unit_whole(&u, &c, 9, 1 << 20));      /* a member outside the unit */
    c.unsafe = true;
    CHECK(!mw_policy_unit_whole(&u, &c, 8, 1 << 20));
    c.unsafe = false;
    c.cut = true;
    CHECK(!mw_policy_unit_whole(&u, &c, 8, 1 << 20));
    c.cut = false;
    static const char *const never[] = {
        "/system.slice",
        "/init.scope",
        "/user.slice/user-1000.slice/session-2.scope",
        "/user.slice/user-1000.slice/user@1000.service",
        "/user.slice/user-1000.slice/user@1000.service/init.scope",
        "/system.slice/foo.socket",
        "/",
    };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        mw_cgunit_parse(never[i], &u);
        CHECK(!mw_policy_unit_whole(&u, &c, 8, 1 << 20));
    }
    mw_cgunit_parse("/user.slice/user-1000.slice/user@1000.service/app.slice/b.scope", &u);
    CHECK(mw_policy_unit_whole(&u, &c, 8, 1 << 20));
}

/* A refresh samples the kept processes too (their swap is owned: the
 * swap nobody holds must not grow by theirs), also once the choice has
 * learnt that they are kept. */
static void test_refresh_samples_kept(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/daemon-systemd"), 0);
    struct mw_scan_ws ws;
    CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 128), 0);
    struct mw_config cfg;
    flat_cfg(&cfg);
    struct mw_choice c = {.min_adj = -999, .now_ms = 1000};
    int before = mw_victim_refresh(&ws, &cfg, &c);
    int excl[] = {501, 430, 420, 521};
    struct mw_choice k = {.min_adj = 0,
                          .flat = true,
                          .exclude = excl,
                          .exclude_n = 4,
                          .total_kb = TOTAL_KB,
                          .now_ms = 1000};
    struct mw_victim v;
    CHECK_EQ_INT(mw_victim_choose(&ws, &cfg, &k, &v), 0); /* met every kept one */
    CHECK_EQ_INT(mw_sd_known(ws.sd, 410, 1000), MW_KEEP_AVOID);
    CHECK(before > 0);
    CHECK_EQ_INT(mw_victim_refresh(&ws, &cfg, &c), before);
    mw_scan_ws_free(&ws);
    mw_root_close(&r);
}

/* What the scan remembers: a kept process is skipped without a read. */
static void test_known(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/daemon-systemd"), 0);
    struct mw_sd *sd = calloc(1, sizeof(*sd));
    CHECK_EQ_INT(mw_sd_init(sd, &r), 0);
    CHECK(sd->v2_fd >= 0);
    int proc_fd = openat(r.fd, "proc", O_RDONLY | O_DIRECTORY);
    struct mw_match_facts f = {.tried = 0};
    struct mw_sd_facts sf;
    CHECK_EQ_INT(mw_sd_facts_read(sd, proc_fd, 400, 1, true, 1000, &f, &sf), 0);
    CHECK_EQ_INT(sf.keep, MW_KEEP_OMIT);
    CHECK_STR(sf.path, "/system.slice/db-omit.service");
    CHECK_EQ_INT(mw_sd_known(sd, 400, 1000 + MW_SD_FRESH_MS - 1), MW_KEEP_OMIT);
    CHECK_EQ_INT(mw_sd_known(sd, 400, 1000 + MW_SD_FRESH_MS), MW_KEEP_NONE);
    CHECK_EQ_INT(mw_sd_known(sd, 410, 1000), MW_KEEP_NONE); /* never read */
    struct mw_match_facts g = {.tried = 0};
    CHECK_EQ_INT(mw_sd_facts_read(sd, proc_fd, 99999, 1, true, 1000, &g, &sf), -ENOENT);
    close(proc_fd);
    mw_sd_free(sd);
    free(sd);
    mw_root_close(&r);
}

/* The adj layout of a systemd machine is flat whatever its values (adj is
 * OOMScoreAdjust=, no class): the fixture's 100 / 200 / 300 read as
 * classes only once /run/systemd/system is gone from a copy of it. */
static void test_systemd_layout_flat(void)
{
    char dir[] = "/tmp/mw-sdflat-XXXXXX", cmd[600];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(cmd, sizeof(cmd), "cp -a '%s/daemon-systemd/.' '%s'", MW_FIXTURES, dir);
    CHECK_EQ_INT(system(cmd), 0);
    for (int booted = 1; booted >= 0; booted--) {
        struct mw_root r;
        CHECK_EQ_INT(mw_root_open(&r, dir), 0);
        struct mw_scan_ws ws;
        CHECK_EQ_INT(mw_scan_ws_init(&ws, &r, -1, 128), 0);
        struct mw_config cfg;
        mw_config_defaults(&cfg);
        struct mw_choice c = {.min_adj = -999, .now_ms = 1000};
        CHECK(mw_victim_refresh(&ws, &cfg, &c) > 0);
        CHECK(ws.pos_n >= 3 && ws.pos_two); /* classes by their values */
        CHECK_EQ_INT(ws.sd->booted, booted);
        CHECK_EQ_INT(mw_scan_adj_flat(&ws), booted);
        mw_scan_ws_free(&ws);
        mw_root_close(&r);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/run/systemd/system'", dir);
        CHECK_EQ_INT(system(cmd), 0);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_omit_and_avoid);
    RUN(test_system_processes);
    RUN(test_unit_whole);
    RUN(test_unit_whole_rule);
    RUN(test_known);
    RUN(test_refresh_samples_kept);
    RUN(test_systemd_layout_flat);
    return TESTS_DONE();
}
