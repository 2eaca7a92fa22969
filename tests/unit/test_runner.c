#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cli/runner.h"
#include "cli/soak.h"
#include "analysis/leakcore.h"
#include "model/sample.h"
#include "harness.h"

/* An OOM-killed run on v1: what the kernel and the samples said. */
static void oom_result(struct mw_run_result *r)
{
    memset(r, 0, sizeof(*r));
    r->who = "run";
    r->version = 1;
    snprintf(r->dir, sizeof(r->dir), "/sys/fs/cgroup/memory/memwarden-run-1");
    snprintf(r->cmd, sizeof(r->cmd), "hog --max 128M");
    r->swap_enforced = true;
    r->limit = 64ull << 20;
    r->swap_limit = 0;
    r->high = MW_CG_UNLIMITED;
    r->host_ram = 24ull << 30;
    r->pid = 42;
    r->reaped = true;
    r->wait_status = SIGKILL; /* as waitpid gives a SIGKILL death */
    r->wall_s = 1.5;
    r->peak = 64ull << 20;
    r->peak_source = "max_usage_in_bytes";
    r->peak_sampled = 60ull << 20;
    r->swap_peak_source = "highest sample";
    r->faults = 16387;
    r->faults_source = "memory.stat";
    r->ev_oom_kill = 1;
    r->ev_max = r->memsw_failcnt = 64; /* memsw refuses first: failcnt stays 0 */
    r->main_oom_killed = true;
    r->killer = MW_RUN_KILLER_KERNEL;
    snprintf(r->killer_why, sizeof(r->killer_why), "the kernel's log names it");
    r->above_alert_s = 1.0;
    r->samples = 2;
}

static char *render(const struct mw_run_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mw_run_print_text(f, r);
    fclose(f);
    return buf;
}

static void test_exit_status(void)
{
    struct mw_run_result r;
    oom_result(&r);
    CHECK_EQ_INT(mw_run_exit_status(&r), 137);
    r.wait_status = 3 << 8; /* exited 3 */
    CHECK_EQ_INT(mw_run_exit_status(&r), 3);
    r.exec_errno = ENOENT;
    CHECK_EQ_INT(mw_run_exit_status(&r), 127);
    r.exec_errno = EACCES;
    CHECK_EQ_INT(mw_run_exit_status(&r), 126);
    r.exec_in_cgroup = true;
    CHECK_EQ_INT(mw_run_exit_status(&r), 125);
}

static void test_text_oom(void)
{
    struct mw_run_result r;
    oom_result(&r);
    char *t = render(&r);
    CHECK_CONTAINS(t, "memwarden run: hog --max 128M\n");
    CHECK_CONTAINS(t, "killed by SIGKILL: the kernel's OOM killer killed the main process (the "
                      "kernel's log names it) -> exit 137");
    CHECK_CONTAINS(t, "peak          64.0 MiB (max_usage_in_bytes; highest sample 60.0 MiB)");
    CHECK_CONTAINS(t, "100.0% of the limit");
    CHECK_CONTAINS(t, "swap 0 B (memsw.limit_in_bytes = limit + swap)");
    CHECK_CONTAINS(t, "OOM kill      the main process itself");
    /* was "failcnt 0 (limit hit)" beside the OOM kills */
    CHECK_CONTAINS(t, "events        charges refused at the limit 64 (failcnt 0, memsw.failcnt "
                      "64), oom_kill 1");
    CHECK_CONTAINS(t, "memory.stat: every process of the cgroup");
    CHECK_CONTAINS(t, "too short to tell (2 samples, 10 needed)");
    free(t);
    /* killed by someone else: SIGKILL, but no OOM kill counted */
    r.main_oom_killed = false;
    r.ev_oom_kill = 0;
    r.killer = MW_RUN_KILLER_UNKNOWN;
    snprintf(r.killer_why, sizeof(r.killer_why), "not the OOM killer");
    t = render(&r);
    CHECK_CONTAINS(t, "killed by SIGKILL, sender unknown (not the OOM killer) -> exit 137");
    CHECK_CONTAINS(t, "OOM kill      none");
    free(t);
    /* OOM kills in the cgroup, but whose is not known */
    r.ev_oom_kill = 3;
    t = render(&r);
    CHECK_CONTAINS(t, "OOM kill      in the cgroup; of the main process or not: unknown");
    free(t);
}

static char *fixture(const char *name, size_t *len)
{
    char path[256], *buf = NULL;
    snprintf(path, sizeof(path), "%s/runblame/%s", MW_FIXTURES, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 20;
    buf = malloc(cap);
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return buf;
}

/* The run --daemon: the daemon killed the main process (its log
 * said so), the kernel killed only a child (its log said so), and the
 * cgroup counted that one OOM kill. The old rule "SIGKILL and an OOM kill
 * in the cgroup" blamed the kernel. From the recorded evidence of such a
 * run (tests/fixtures/runblame/README). */
static void test_blame_recorded(void)
{
    const int main_pid = 20562;
    const char *dir = "/sys/fs/cgroup/memory/process_api/bd8c/mwans-d";
    char hist[256], why[256];
    snprintf(hist, sizeof(hist), "%s/runblame/history.jsonl", MW_FIXTURES);
    struct mw_run_evidence e = {.sigkill = true, .have_oom_kill = true, .oom_kills = 1};
    if (mw_run_daemon_kills(hist, main_pid, &e.daemon_kills, &e.daemon_main) < 0)
        FAIL_FIXTURE(hist);
    CHECK_EQ_INT(e.daemon_kills, 1); /* the dry-run line and the garbage do not count */
    CHECK(e.daemon_main);
    size_t len;
    char *child = fixture("child-killed.kmsg", &len);
    if (!child)
        FAIL_FIXTURE("runblame/child-killed.kmsg");
    e.klog_kills = mw_run_klog_count(child, len, dir, main_pid, 2200, &e.klog_main);
    CHECK_EQ_INT(e.klog_kills, 1); /* the child; the earlier run's kill of 20562 is older */
    CHECK(!e.klog_main);
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_DAEMON);

    /* the same run without the daemon's record: the kernel's log shows its
     * one kill took another process, so nobody the evidence names */
    e.daemon_kills = 0;
    e.daemon_main = false;
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_UNKNOWN);
    CHECK_STR(why, "the kernel's 1 OOM kill in the cgroup took other processes; the daemon's "
                   "record has no kill of it");
    /* the log unreadable (dmesg_restrict): the counter alone cannot say whose */
    e.klog_kills = -1;
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_UNKNOWN);
    CHECK_CONTAINS(why, "is not readable");
    /* the kernel's log naming the main process: the kernel */
    char *mainb = fixture("main-killed.kmsg", &len);
    if (!mainb)
        FAIL_FIXTURE("runblame/main-killed.kmsg");
    e.klog_kills = mw_run_klog_count(mainb, len, dir, main_pid, 2200, &e.klog_main);
    CHECK_EQ_INT(e.klog_kills, 1);
    CHECK(e.klog_main);
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_KERNEL);
    /* another cgroup of the same tail is not ours */
    bool m;
    CHECK_EQ_INT(mw_run_klog_count(mainb, len, "/sys/fs/cgroup/memory/mwans-d", main_pid, 2200, &m),
                 0);
    /* the old report (1486 s) counts when the run began before it */
    CHECK_EQ_INT(mw_run_klog_count(child, len, dir, main_pid, 1000, &m), 2);
    CHECK(m);
    free(child);
    free(mainb);
    /* a history that is not there: no kills, not an error */
    CHECK_EQ_INT(mw_run_daemon_kills("/nonexistent/history", 1, &e.daemon_kills, &m), 0);
    CHECK_EQ_INT(e.daemon_kills, 0);
}

static void test_blame_rules(void)
{
    char why[256];
    struct mw_run_evidence e = {.sigkill = false, .daemon_kills = -1, .klog_kills = -1};
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_NONE);
    e.sigkill = true;
    e.have_oom_kill = true; /* counted none: not the OOM killer */
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_UNKNOWN);
    CHECK_STR(why, "not the OOM killer: the cgroup counted no OOM kill");
    e.run_killed = true; /* run's own SIGKILL after the grace period */
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_RUN);
    e.run_killed = false;
    e.have_oom_kill = false;
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_UNKNOWN);
    CHECK_CONTAINS(why, "could be read");
    /* more kills counted than the log holds (the ring lost some) */
    e.have_oom_kill = true;
    e.oom_kills = 3;
    e.klog_kills = 1;
    CHECK_EQ_INT(mw_run_blame(&e, why, sizeof(why)), MW_RUN_KILLER_UNKNOWN);
    CHECK_STR(why, "the cgroup counted 3 OOM kills, the kernel's log holds 1 and none of it");
}

static void test_text_swap_not_enforced_and_hostile(void)
{
    struct mw_run_result r;
    oom_result(&r);
    r.swap_enforced = false;
    r.version = 2;
    r.peak_source = "memory.peak";
    r.have_ev_high = r.have_ev_oom = true;
    r.ev_high = 7;
    snprintf(r.cmd, sizeof(r.cmd), "evil \x1b]0;pwned\x07 --x");
    r.ntop = 1;
    r.top[0] = (struct mw_run_proc){.pid = 9, .pss = 1 << 20};
    snprintf(r.top[0].comm, sizeof(r.top[0].comm), "a\x1b[2Jb");
    char *t = render(&r);
    CHECK_CONTAINS(t, "NOT enforced");
    CHECK_CONTAINS(t, "events        high 7, max 64, oom 0, oom_kill 1");
    CHECK(strchr(t, '\x1b') == NULL); /* no terminal escape gets through */
    CHECK(strchr(t, '\x07') == NULL);
    free(t);
}

static void test_json(void)
{
    struct mw_run_result r;
    oom_result(&r);
    char buf[4096];
    struct mw_json j;
    mw_json_init_buf(&j, buf, sizeof(buf), false);
    mw_json_object_begin(&j, NULL);
    mw_run_json_members(&j, &r);
    mw_json_object_end(&j);
    CHECK(!mw_json_truncated(&j));
    buf[mw_json_buf_len(&j) < sizeof(buf) ? mw_json_buf_len(&j) : sizeof(buf) - 1] = '\0';
    CHECK_CONTAINS(buf, "\"exit_status\":137");
    CHECK_CONTAINS(buf, "\"main_oom_killed\":true");
    CHECK_CONTAINS(buf, "\"high\":null"); /* v1: no memory.high, no high events */
    CHECK_CONTAINS(buf, "\"failcnt\":0,\"memsw_failcnt\":64");
    CHECK_CONTAINS(buf, "\"leak\":null");
    struct mw_json_val v;
    CHECK_EQ_INT(mw_json_parse(buf, strlen(buf), &v), 0);
}

static void steady_soak(struct mw_run_result *r)
{
    oom_result(r);
    r->who = "soak";
    r->wait_status = SIGTERM;
    r->main_oom_killed = false;
    r->ev_oom_kill = 0;
    r->ended_on_request = r->ended_by_duration = true;
    r->samples = 20;
    r->have_trend = true;
    r->trend.verdict = MW_TREND_STABLE;
    r->have_sys = true;
    r->sys_sunreclaim.verdict = MW_TREND_STABLE;
    r->sys_shmem.verdict = MW_TREND_STABLE;
    r->peak_rss_sum = 20ull << 20;
    r->peak_pss_sum = 18ull << 20;
    r->min_available = 40ull << 20;
}

static void test_judge(void)
{
    struct mw_run_result r;
    struct mw_soak_criteria c = {0};
    struct mw_criterion out[MW_SOAK_CRITERIA];
    steady_soak(&r);
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 0);
    CHECK_STR(out[0].name, "alive");
    CHECK_EQ_INT(out[2].result, MW_CRIT_SKIP); /* --max-rss not asked */
    /* a warning passes unless --strict */
    r.trend.verdict = MW_TREND_WARNING;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 0);
    c.strict = true;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 1);
    CHECK_EQ_INT(out[5].result, MW_CRIT_FAIL);
    /* the host's slab growing fails "system", unless --no-system */
    c.strict = false;
    r.trend.verdict = MW_TREND_STABLE;
    r.sys_sunreclaim.verdict = MW_TREND_LEAK;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 1);
    CHECK_EQ_INT(out[6].result, MW_CRIT_FAIL);
    c.no_system = true;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 0);
    CHECK_EQ_INT(out[6].result, MW_CRIT_SKIP);
    CHECK_STR(out[6].detail, "not asked (--no-system)");
    c.no_system = false;
    r.sys_sunreclaim.verdict = MW_TREND_STABLE;
    r.trend.verdict = MW_TREND_WARNING;
    /* limits: at the limit passes, above fails; available at the floor passes */
    c.strict = false;
    c.max_rss = 20ull << 20;
    c.max_pss = 17ull << 20;
    c.min_available = 40ull << 20;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 1);
    CHECK_EQ_INT(out[2].result, MW_CRIT_PASS);
    CHECK_EQ_INT(out[3].result, MW_CRIT_FAIL);
    CHECK_EQ_INT(out[4].result, MW_CRIT_PASS);
    /* died on its own: alive fails with "exited"; an OOM kill fails too */
    steady_soak(&r);
    memset(&c, 0, sizeof(c));
    r.ended_on_request = r.ended_by_duration = false;
    r.wait_status = SIGKILL;
    r.ev_oom_kill = 1;
    r.main_oom_killed = true;
    r.have_trend = r.have_sys = false;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 2);
    CHECK_EQ_INT(strncmp(out[0].detail, "exited", 6), 0);
    CHECK_EQ_INT(out[1].result, MW_CRIT_FAIL);
    CHECK_EQ_INT(out[5].result, MW_CRIT_SKIP);
    /* the system's Shmem leaking fails "system" and names Shmem */
    steady_soak(&r);
    r.sys_shmem.verdict = MW_TREND_LEAK;
    CHECK_EQ_INT(mw_soak_judge(&r, &c, out), 1);
    CHECK_CONTAINS(out[6].detail, "Shmem");
}

/* Issue 26: soak judges the cgroup's used memory with the engine `leak`
 * uses, in its words. The 19 s spike record (tests/golden/cli_verdict.sh
 * gives it to analyze, leak, report): too short to judge, so the leak
 * criterion is skipped (it passed as "stable" before), and its detail
 * says what leak --system says of the same samples. */
static void test_soak_same_words(void)
{
    struct mw_record rec = {0};
    CHECK_EQ_INT(mw_record_read(MW_FIXTURES "/records/spike-19s.jsonl", &rec), 0);
    struct mw_series s = {.system = true, .series_name = "used"};
    struct mw_run_result *r = calloc(1, sizeof(*r));
    CHECK(r != NULL);
    if (!r)
        return;
    steady_soak(r);
    for (size_t i = 0; i < rec.n; i++)
        CHECK_EQ_INT(mw_series_push(&s, rec.s[i].t_s - rec.s[0].t_s, (double)rec.s[i].mem_used), 0);
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, NULL), 0);
    /* what the runner does with its samples (runner.c used_trend) */
    CHECK_EQ_INT(mw_trend_classify(s.t, s.v, s.n, &p, &r->trend), 0);
    char leak_words[320], want[400];
    mw_trend_words(&s.trend, leak_words, sizeof(leak_words));
    snprintf(want, sizeof(want), "the cgroup's used memory: %s", leak_words);
    struct mw_soak_criteria c = {0};
    struct mw_criterion out[MW_SOAK_CRITERIA];
    CHECK_EQ_INT(mw_soak_judge(r, &c, out), 0);
    CHECK_STR(out[5].name, "leak");
    CHECK_EQ_INT(out[5].result, MW_CRIT_SKIP);
    CHECK_STR(out[5].detail, want);
    CHECK_CONTAINS(out[5].detail, "too short to judge: +30.0 MiB over 19 s");
    mw_series_free(&s);
    mw_record_free(&rec);
    free(r);
}

static void test_junit_hostile(void)
{
    struct mw_criterion crit[2] = {
        {.name = "alive", .result = MW_CRIT_FAIL},
        {.name = "leak", .result = MW_CRIT_SKIP},
    };
    snprintf(crit[0].detail, sizeof(crit[0].detail),
             "exited: \"]]></failure></testcase><x a='1'>&amp;\x01\x1b[31m\xff");
    snprintf(crit[1].detail, sizeof(crit[1].detail), "<skipped/>");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mw_soak_junit(f, "app \"--x=<y>\" & 'z'\n", crit, 2, 12.5, NULL);
    fclose(f);
    CHECK_CONTAINS(buf, "<testsuite name=\"memwarden soak: app &quot;--x=&lt;y&gt;&quot; &amp; "
                        "&#39;z&#39;?\" tests=\"2\" failures=\"1\" skipped=\"1\"");
    CHECK_CONTAINS(buf, "&lt;/failure&gt;&lt;/testcase&gt;&lt;x a=&#39;1&#39;&gt;&amp;amp;");
    CHECK_CONTAINS(buf, "<skipped message=\"&lt;skipped/&gt;\"/>");
    /* exactly one failure element; no raw control bytes; no invalid UTF-8 */
    char *p = strstr(buf, "<failure ");
    CHECK(p && !strstr(p + 1, "<failure "));
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        CHECK(ch >= 0x20 || ch == '\n');
        CHECK(ch < 0x80);
    }
    free(buf);
}

/* Issue 26: an interrupted soak is not a pass: an <error> in its JUnit
 * (errors="1", one testcase more) whatever its criteria say, and the
 * reason says what was collected. */
static void test_junit_interrupted(void)
{
    struct mw_run_result *r = calloc(1, sizeof(*r));
    CHECK(r != NULL);
    if (!r)
        return;
    steady_soak(r);
    char why[160];
    CHECK_STR(mw_soak_interrupted(why, sizeof(why), r, 3600 * 1000), "");
    r->stop_signal = SIGINT;
    r->wall_s = 3.25;
    r->samples = 4;
    CHECK_STR(mw_soak_interrupted(why, sizeof(why), r, 3600 * 1000),
              "interrupted by SIGINT after 3.2 s of 60 min (4 samples)");
    struct mw_criterion crit[1] = {{.name = "alive", .result = MW_CRIT_PASS}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mw_soak_junit(f, "sleep 3600", crit, 1, 3.25, why);
    fclose(f);
    CHECK_CONTAINS(buf, "tests=\"2\" failures=\"0\" skipped=\"0\" errors=\"1\"");
    CHECK_CONTAINS(buf, "<testcase classname=\"memwarden.soak\" name=\"completed\"");
    CHECK_CONTAINS(buf, "<error message=\"interrupted by SIGINT after 3.2 s of 60 min (4 "
                        "samples)\" type=\"interrupted\">");
    free(buf);
    free(r);
}

int main(void)
{
    RUN(test_exit_status);
    RUN(test_text_oom);
    RUN(test_text_swap_not_enforced_and_hostile);
    RUN(test_blame_recorded);
    RUN(test_blame_rules);
    RUN(test_json);
    RUN(test_judge);
    RUN(test_soak_same_words);
    RUN(test_junit_hostile);
    RUN(test_junit_interrupted);
    return TESTS_DONE();
}
