/* Daemon pieces that are not the policy: the kill log line and JSON
 * history line, restart-loop detection, the state file, PSI trigger lines
 * and the 2 s window fallback, alerts and their rate limit, hooks run with
 * execve and a time limit, and the pidfd kill (on children of this test
 * only, including a stale victim whose start time does not match). */
#include "harness.h"
#include "lmk/sysglue.h"
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <syslog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "lmk/config.h"
#include "lmk/daemon.h"
#include "model/daemonstate.h"
#include "lmk/history.h"
#include "lmk/hooks.h"
#include "lmk/kill.h"
#include "lmk/policy.h"
#include "lmk/pressure.h"
#include "proc/procs.h"
#include "lmk/victim.h"

static struct mw_kill_record sample_record(void)
{
    struct mw_kill_record r;
    memset(&r, 0, sizeof(r));
    r.time_s = 1700000000;
    r.pid = 4242;
    r.uid = 1000;
    r.adj = 900;
    snprintf(r.prog, sizeof(r.prog), "evil prog=\"x\"");
    snprintf(r.cmdline, sizeof(r.cmdline), "/bin/evil \"quoted\"\n\\");
    r.rss_kb = 204800;
    r.swap_kb = 51200;
    r.reason = "low_mem_and_swap";
    r.detail = "min watermark breached";
    r.min_adj = 201;
    r.free_kb = 1024;
    r.avail_kb = 2048;
    r.file_kb = 512;
    r.swap_free_kb = 40000;
    r.total_kb = 262144;
    r.psi_some = 12.3;
    r.psi_full = 3.1;
    r.latency_ms = 12;
    r.wait_ms = 4;
    r.freed_kb = 250000;
    r.exited = true;
    return r;
}

static void test_kill_line(void)
{
    struct mw_kill_record r = sample_record();
    char buf[1024];
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK_STR(buf, "kill pid=4242 uid=1000 adj=900 prog=evil_prog_\"x\" rss=204800kB "
                   "swap=51200kB reason=low_mem_and_swap min_adj=201 free=1024kB avail=2048kB "
                   "file=512kB swapfree=40000kB psi_some=12.30 psi_full=3.10 latency_ms=12 "
                   "wait_ms=4 freed=250000kB exited=yes reaped=no (min watermark breached)");
    /* available memory fell while it died: nothing freed that can be
     * seen, and by how much it fell (was "freed=-6972kB") */
    r.freed_kb = -6972;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, " wait_ms=4 freed=0kB avail_delta=-6972kB exited=yes ");
    CHECK(strstr(buf, "freed=-") == NULL);
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"freed\":0,\"available_delta\":-7139328,");
    r.freed_kb = 250000;
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"freed\":256000000,\"available_delta\":256000000,");
    r.dry_run = true;
    r.psi_some = -1;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK(strncmp(buf, "would-kill pid=4242 ", 20) == 0);
    CHECK_CONTAINS(buf, "psi_some=- psi_full=-");
    CHECK(strstr(buf, "freed=") == NULL);
    /* victims signalled with it: how many, and which */
    static const int pids[] = {4243, 4250};
    r.dry_run = false;
    r.group_n = 2;
    r.group_killed = 1;
    r.group_pid = pids;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, " reaped=no group=1/2 pids=4243,4250 (min watermark breached)");
    CHECK(strstr(buf, "runaway=") == NULL);
    r.runaway = true;
    r.unit_kb = 300;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, " runaway=yes footprint=300kB growth=0kB/s group=1/2 pids=4243,4250 (");
    /* beside systemd: the unit after the program, a unit killed whole, a
     * kept process the last line took */
    r.unit = "mw storm.service";
    r.cgroup_killed = true;
    r.kept = "system";
    r.kept_why = "systemd-logind.service";
    r.last_line = true;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, " prog=evil_prog_\"x\" unit=mw_storm.service rss=204800kB ");
    CHECK_CONTAINS(buf, " reaped=no cgroup_killed=yes last_line=yes kept=system runaway=yes ");
    r.last_line = false;
    r.unit = "";
    r.kept = NULL;
    r.cgroup_killed = false;
    mw_kill_format_line(buf, sizeof(buf), &r);
    CHECK(strstr(buf, "unit=") == NULL && strstr(buf, "kept=") == NULL);
    r.runaway = false;
    r.group_n = 0;
    r.dry_run = true;
    /* truncation keeps a terminated string */
    char small[40];
    size_t n = mw_kill_format_line(small, sizeof(small), &r);
    CHECK(n < sizeof(small));
    CHECK_EQ_U64(strlen(small), n);
}

static void test_kill_json(void)
{
    struct mw_kill_record r = sample_record();
    char buf[2048];
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"prog\":\"evil prog=\\\"x\\\"\"");
    CHECK_CONTAINS(buf, "\"cmdline\":\"/bin/evil \\\"quoted\\\"\\n\\\\\"");
    CHECK_CONTAINS(buf, "\"rss\":209715200");
    CHECK_CONTAINS(buf, "\"reason\":\"low_mem_and_swap\"");
    CHECK_CONTAINS(buf, "\"latency\":0.012");
    CHECK_CONTAINS(buf, "\"freed\":256000000");
    CHECK_CONTAINS(buf, "\"psi_some_avg10\":12.3,");
    CHECK(buf[0] == '{' && buf[strlen(buf) - 1] == '}');
    CHECK_CONTAINS(buf, "\"unit\":null,");
    CHECK_CONTAINS(buf, "\"kept\":null,");
    CHECK_CONTAINS(buf, "\"last_line\":false,");
    r.unit = "db.service";
    r.kept = "avoid";
    r.kept_why = "ManagedOOMPreference=avoid";
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"unit\":\"db.service\",");
    CHECK_CONTAINS(buf, "\"kept\":{\"class\":\"avoid\",\"why\":\"ManagedOOMPreference=avoid\"},");
    r.unit = NULL;
    r.kept = NULL;
    /* bytes that are not UTF-8 become \ufffd: the history is valid JSON */
    snprintf(r.prog, sizeof(r.prog), "bad\xff\xfe");
    snprintf(r.cmdline, sizeof(r.cmdline), "x\xc3(\x1b[31m");
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"prog\":\"bad\\ufffd\\ufffd\"");
    CHECK_CONTAINS(buf, "\"cmdline\":\"x\\ufffd(\\u001b[31m\"");
    struct mw_json_val v;
    CHECK_EQ_INT(mw_json_parse(buf, strlen(buf), &v), 0);
    CHECK_CONTAINS(buf, "\"group_pids\":[]}");
    CHECK_CONTAINS(buf, "\"timing\":null,"); /* not measured */
    /* where the time went: seconds, and the parse gives them back */
    r.woke_at_us = 1234567890;
    for (int i = 0; i < MW_KILL_PHASES; i++)
        r.phase_us[i] = 100u * (unsigned)(i + 1);
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"timing\":{\"woke_at\":1234.56789,\"wake\":0.0001,\"sample\":0.0002,"
                        "\"refresh\":0.0003,\"choose\":0.0004,\"signal\":0.0005,\"exit\":0.0006},");
    struct mw_kill_entry e;
    CHECK_EQ_INT(mw_kill_parse_json(buf, strlen(buf), &e), 0);
    CHECK(e.have_timing);
    CHECK(fabs(e.phase_s[MW_PHASE_CHOOSE] - 0.0004) < 1e-9);
    r.woke_at_us = 0;
    static const int pids[] = {4243, 4250};
    r.group_n = 2;
    r.group_pid = pids;
    mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK_CONTAINS(buf, "\"group_pids\":[4243,4250]}");
    r.group_n = 0;
    /* the longest record fits in 4096 bytes; a cut one is never written */
    memset(r.prog, 0x01, sizeof(r.prog) - 1);
    memset(r.cmdline, 0x01, sizeof(r.cmdline) - 1);
    r.runaway = true;
    /* the longest unit name (systemd's characters: '\\' escapes to two)
     * and the longest reason it was kept */
    char unit[128], why[160];
    memset(unit, '\\', sizeof(unit) - 1);
    unit[sizeof(unit) - 1] = '\0';
    memset(why, '\\', sizeof(why) - 1);
    why[sizeof(why) - 1] = '\0';
    r.unit = unit;
    r.kept = "system";
    r.kept_why = why;
    char big[4096];
    size_t n = mw_kill_format_json(big, sizeof(big), &r);
    CHECK(n > 0 && n < sizeof(big));
    CHECK_EQ_INT(mw_json_parse(big, n, &v), 0);
    char small[300];
    CHECK_EQ_U64(mw_kill_format_json(small, sizeof(small), &r), 0);
    CHECK_STR(small, "");
}

static void test_loop_detection(void)
{
    struct mw_loop_tracker t;
    memset(&t, 0, sizeof(t));
    /* the seed's QQ: killed and restarted about every 80 ms */
    CHECK_EQ_INT(mw_loop_note(&t, "com.tencent.mobileqq", 1000, 900, 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "other", 1050, 10, 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "com.tencent.mobileqq", 1080, 1028, 60000), 2);
    CHECK_EQ_INT(mw_loop_note(&t, "com.tencent.mobileqq", 1160, 1114, 60000), 3);
    /* outside the window the old kills no longer count */
    CHECK_EQ_INT(mw_loop_note(&t, "com.tencent.mobileqq", 70000, 69950, 60000), 1);
    /* three processes of one name that lived side by side (started before
     * the kills), or one killed twice: no restart loop */
    memset(&t, 0, sizeof(t));
    CHECK_EQ_INT(mw_loop_note(&t, "hog", 5000, 100, 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "hog", 5200, 110, 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "hog", 5400, 110, 60000), 1);
    /* then it does restart: the chain grows again */
    CHECK_EQ_INT(mw_loop_note(&t, "hog", 5600, 5450, 60000), 2);
    CHECK_EQ_INT(mw_loop_note(&t, "hog", 5800, 5650, 60000), 3);
    /* a restarter that starts the next copy at once: signalled at 7000 ms,
     * the copy started at 7003 ms, which /proc/PID/stat gives as tick 700
     * (HZ 100): its start is at most 7010 ms, a restart -- once the daemon
     * took its kill time after waiting for the victim (7017 ms) and the
     * start truncated to 7000 ms: live_daemon_scope's loop leg failed */
    CHECK_EQ_U64(mw_loop_start_ms(700, 100), 7010);
    CHECK_EQ_U64(mw_loop_start_ms(699, 1000), 700);
    memset(&t, 0, sizeof(t));
    CHECK_EQ_INT(mw_loop_note(&t, "lt_hog", 6900, mw_loop_start_ms(650, 100), 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "lt_hog", 7000, mw_loop_start_ms(690, 100), 60000), 2);
    CHECK_EQ_INT(mw_loop_note(&t, "lt_hog", 7100, mw_loop_start_ms(700, 100), 60000), 3);
    /* just short: a copy that was running a full tick before the kill */
    memset(&t, 0, sizeof(t));
    CHECK_EQ_INT(mw_loop_note(&t, "lt_hog", 7000, 6000, 60000), 1);
    CHECK_EQ_INT(mw_loop_note(&t, "lt_hog", 7100, mw_loop_start_ms(698, 100), 60000), 1);
}

static void test_state_round_trip(void)
{
    struct mw_daemon_state s, back;
    memset(&s, 0, sizeof(s));
    s.pid = 77;
    snprintf(s.source, sizeof(s.source),
             "psi trigger /proc/pressure/memory some 140ms/2000ms (2 s window fallback)");
    snprintf(s.strategy, sizeof(s.strategy), "psi");
    snprintf(s.scope, sizeof(s.scope), "/sys/fs/cgroup/memory/app");
    s.dry_run = true;
    s.started = 100;
    s.kills = 3;
    s.wakeups_timer = 6;
    s.wakeups_pressure = 2;
    s.last_kill_time = 200;
    snprintf(s.last_kill, sizeof(s.last_kill), "kill pid=5 prog=\"q\" reason=low_mem");
    char buf[4096];
    mw_daemon_state_format(buf, sizeof(buf), &s);
    CHECK(mw_daemon_state_parse_buf(&back, buf) == 0);
    CHECK_EQ_INT(back.pid, 77);
    CHECK_STR(back.source, s.source);
    CHECK_STR(back.scope, s.scope);
    CHECK_STR(back.last_kill, s.last_kill);
    CHECK(back.dry_run);
    CHECK_EQ_U64(back.kills, 3);
    CHECK_EQ_U64(back.wakeups_timer, 6);
    CHECK_EQ_U64(back.wakeups_pressure, 2);
    CHECK_EQ_U64(back.last_kill_time, 200);
    CHECK_STR(back.held, ""); /* absent when nothing is held */
    CHECK(strstr(buf, "\"held\"") == NULL);
    snprintf(s.held, sizeof(s.held), "340000kB of 420000kB used is held where no kill frees it");
    mw_daemon_state_format(buf, sizeof(buf), &s);
    CHECK(mw_daemon_state_parse_buf(&back, buf) == 0);
    CHECK_STR(back.held, s.held);
    s.held[0] = '\0';
    CHECK(mw_daemon_state_parse_buf(&back, "garbage") == -EINVAL);
    CHECK(mw_daemon_state_parse_buf(&back, "{\"pid\":0}") == -EINVAL);
    CHECK(mw_daemon_state_parse_buf(&back, "") == -EINVAL);
    /* keys are keys, not text that looks like one; a cut file is refused */
    CHECK(mw_daemon_state_parse_buf(&back, "{\"scope\":\"\\\"pid\\\":9\",\"pid\":12}") == 0);
    CHECK_EQ_INT(back.pid, 12);
    CHECK_STR(back.scope, "\"pid\":9");
    CHECK(mw_daemon_state_parse_buf(&back, "{\"x\":{\"pid\":9}}") == -EINVAL);
    CHECK(mw_daemon_state_parse_buf(&back, "{\"pid\":12,\"kills\":3") == -EINVAL);
    CHECK(mw_daemon_state_parse_buf(&back, "{\"pid\":99999999999999999999}") == -EINVAL);
    /* the longest state, every byte needing an escape, fits; it reads back
     * as valid UTF-8 (0xff as U+FFFD) */
    memset(s.source, 0x01, sizeof(s.source) - 1);
    memset(s.scope, 0xff, sizeof(s.scope) - 1);
    memset(s.last_kill, '"', sizeof(s.last_kill) - 1);
    static char big[MW_STATE_JSON_MAX];
    size_t n = mw_daemon_state_format(big, sizeof(big), &s);
    CHECK(n > 0 && big[n - 1] == '\n');
    CHECK(mw_daemon_state_parse_buf(&back, big) == 0);
    CHECK_STR(back.source, s.source);
    CHECK_STR(back.last_kill, s.last_kill);
    CHECK(strncmp(back.scope, "\xef\xbf\xbd\xef\xbf\xbd", 6) == 0);
    CHECK_EQ_U64(mw_daemon_state_format(buf, 100, &s), 0);
    CHECK_STR(buf, "");
}

/* A scratch directory for the file tests; removed by rm_dir. */
static void mk_dir(char *dir)
{
    strcpy(dir, "/tmp/mw-files-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void rm_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* The history holds command lines: 0600, no symlink, no FIFO. */
static void test_history_open(void)
{
    char dir[64], p[128], victim[128];
    mk_dir(dir);
    mode_t old = umask(0);
    snprintf(p, sizeof(p), "%s/kills.jsonl", dir);
    int fd = mw_history_open(p);
    CHECK(fd >= 0);
    CHECK_EQ_INT(mode_of(p), 0600);
    CHECK(write(fd, "x\n", 2) == 2);
    close(fd);
    /* an old world-readable history loses "other", keeps its group */
    CHECK_EQ_INT(chmod(p, 0644), 0);
    fd = mw_history_open(p);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(mode_of(p), 0640);
    /* a symlink planted at the path is refused; its target is untouched */
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    put(victim, "precious\n");
    CHECK_EQ_INT(chmod(victim, 0644), 0);
    snprintf(p, sizeof(p), "%s/link.jsonl", dir);
    CHECK_EQ_INT(symlink(victim, p), 0);
    CHECK_EQ_INT(mw_history_open(p), -ELOOP);
    CHECK_EQ_INT(mode_of(victim), 0644);
    /* a FIFO neither hangs nor is taken */
    snprintf(p, sizeof(p), "%s/fifo", dir);
    CHECK_EQ_INT(mkfifo(p, 0600), 0);
    CHECK_EQ_INT(mw_history_open(p), -ENXIO); /* O_NONBLOCK, no reader */
    int rd = open(p, O_RDONLY | O_NONBLOCK);
    CHECK_EQ_INT(mw_history_open(p), -EINVAL); /* with a reader: not a regular file */
    close(rd);
    umask(old);
    rm_dir(dir);
}

/* The state file: written whole through a fresh PATH.tmp, never through a
 * planted symlink, mode 0644 whatever the umask. */
static void test_state_write(void)
{
    char dir[64], p[128], tmp[140], victim[128];
    mk_dir(dir);
    struct mw_daemon_state s, back;
    memset(&s, 0, sizeof(s));
    s.pid = 42;
    snprintf(s.source, sizeof(s.source), "polling");
    mode_t old = umask(077);
    snprintf(p, sizeof(p), "%s/run/state.json", dir); /* run/ does not exist yet */
    CHECK_EQ_INT(mw_daemon_state_write(p, &s), 0);
    CHECK_EQ_INT(mode_of(p), 0644);
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, "/"), 0);
    CHECK_EQ_INT(mw_daemon_state_read(&r, p, &back), 0);
    CHECK_EQ_INT(back.pid, 42);
    /* a symlink planted at PATH.tmp (the old code opened it O_TRUNC) */
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    put(victim, "precious\n");
    snprintf(tmp, sizeof(tmp), "%s.tmp", p);
    CHECK_EQ_INT(symlink(victim, tmp), 0);
    s.kills = 7;
    CHECK_EQ_INT(mw_daemon_state_write(p, &s), 0);
    char *text = NULL;
    CHECK_EQ_INT(mw_read_file(&r, victim, &text, NULL), 0);
    CHECK_STR(text, "precious\n");
    free(text);
    CHECK_EQ_INT(mw_daemon_state_read(&r, p, &back), 0);
    CHECK_EQ_U64(back.kills, 7);
    CHECK(access(tmp, F_OK) != 0);
    /* a symlink planted at PATH is replaced, not followed */
    CHECK_EQ_INT(unlink(p), 0);
    CHECK_EQ_INT(symlink(victim, p), 0);
    CHECK_EQ_INT(mw_daemon_state_write(p, &s), 0);
    CHECK_EQ_INT(mw_read_file(&r, victim, &text, NULL), 0);
    CHECK_STR(text, "precious\n");
    free(text);
    struct stat st;
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
    mw_root_close(&r);
    umask(old);
    rm_dir(dir);
}

static void test_psi_trigger_lines(void)
{
    char buf[64];
    CHECK(mw_psi_trigger_format(buf, sizeof(buf), "some", 70, 1000) > 0);
    CHECK_STR(buf, "some 70000 1000000");
    /* EINVAL fallback: 70 ms per 1 s becomes 140 ms per 2 s */
    CHECK_EQ_U64(mw_psi_scale_to_window(70, 1000, 2000), 140);
    CHECK_EQ_U64(mw_psi_scale_to_window(700, 1000, 2000), 1400);
    CHECK_EQ_U64(mw_psi_scale_to_window(200, 1000, 2000), 400);
    CHECK_EQ_U64(mw_psi_scale_to_window(1, 3000, 2000), 1);
}

static void test_psi_live_fallback(void)
{
    /* The machine's own PSI: the daemon gets either the 1 s window (with
     * CAP_SYS_RESOURCE) or the 2 s fallback, never nothing. */
    struct mw_root r;
    if (mw_root_open(&r, NULL) < 0 || access("/proc/pressure/memory", W_OK) != 0)
        SKIP("no writable /proc/pressure/memory");
    int ep = epoll_create1(0);
    struct mw_pressure p;
    mw_pressure_open(&p, r.fd, ep, "/proc/pressure/memory", NULL, 70, 700, 1000);
    CHECK_EQ_INT(p.source, MW_SRC_PSI);
    if (p.window_fallback) {
        CHECK_EQ_U64(p.window_ms, 2000);
        CHECK_EQ_U64(p.some_ms, 140);
        CHECK_CONTAINS(p.desc, "2 s window fallback");
    } else {
        CHECK_EQ_U64(p.window_ms, 1000);
    }
    mw_pressure_close(&p);
    /* a cgroup2 memory.pressure takes triggers the same way */
    if (access("/sys/fs/cgroup/unified/memory.pressure", W_OK) == 0) {
        mw_pressure_open(&p, r.fd, ep, "/sys/fs/cgroup/unified/memory.pressure", NULL, 70, 700,
                         1000);
        CHECK_EQ_INT(p.source, MW_SRC_PSI);
        mw_pressure_close(&p);
    }
    /* without PSI: cgroup v1 vmpressure on the root memory cgroup */
    if (access("/sys/fs/cgroup/memory/memory.pressure_level", R_OK) == 0) {
        mw_pressure_open(&p, r.fd, ep, NULL, "/sys/fs/cgroup/memory", 70, 700, 1000);
        CHECK_EQ_INT(p.source, MW_SRC_VMPRESSURE);
        CHECK(p.vmp_medium_fd >= 0 && p.vmp_crit_fd >= 0);
        mw_pressure_close(&p);
    }
    /* no PSI file and no vmpressure directory: polling */
    mw_pressure_open(&p, r.fd, ep, "/nonexistent/memory.pressure", "/nonexistent", 70, 700, 1000);
    CHECK_EQ_INT(p.source, MW_SRC_POLL);
    CHECK_STR(p.desc, "polling (adaptive)");
    mw_pressure_close(&p);
    close(ep);
    mw_root_close(&r);
}

static void test_alerts(void)
{
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    cfg.alert_mem_used_pct = 85; /* the RK3588 guide's threshold */
    cfg.alert_swap_used_pct = 50;
    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    st.total_kb = 1000000;
    st.available_kb = 150001; /* 84.9 % used */
    char msg[256];
    CHECK_EQ_INT(mw_alert_check(&cfg, &st, msg, sizeof(msg)), 0);
    st.available_kb = 150000; /* 85 % */
    CHECK_EQ_INT(mw_alert_check(&cfg, &st, msg, sizeof(msg)), MW_ALERT_MEM_USED);
    CHECK_STR(msg, "memory used 85% >= 85%");
    st.swap_total_kb = 100;
    st.swap_free_kb = 40;
    CHECK_EQ_INT(mw_alert_check(&cfg, &st, msg, sizeof(msg)),
                 MW_ALERT_MEM_USED | MW_ALERT_SWAP_USED);
    uint64_t last = 0;
    CHECK(mw_rate_allow(&last, 1000, 300000));
    CHECK(!mw_rate_allow(&last, 2000, 300000));
    CHECK(mw_rate_allow(&last, 301000, 300000));
}

static void test_hooks(void)
{
    struct mw_argv a;
    memset(&a, 0, sizeof(a));
    if (access("/bin/sh", X_OK) != 0)
        SKIP("no /bin/sh");
    a.n = 3;
    snprintf(a.arg[0], sizeof(a.arg[0]), "/bin/sh");
    snprintf(a.arg[1], sizeof(a.arg[1]), "-c");
    snprintf(a.arg[2], sizeof(a.arg[2]), "exit $MW_CODE");
    char env0[] = "MW_CODE=7";
    char *envp[] = {env0, NULL};
    CHECK_EQ_INT(mw_hook_run(&a, envp, 5000), 7);
    snprintf(a.arg[2], sizeof(a.arg[2]), "sleep 5");
    uint64_t t0 = mw_now_ms();
    CHECK_EQ_INT(mw_hook_run(&a, envp, 100), -ETIMEDOUT);
    CHECK(mw_now_ms() - t0 < 2000);
    a.n = 1;
    snprintf(a.arg[0], sizeof(a.arg[0]), "/nonexistent/hook");
    CHECK_EQ_INT(mw_hook_run(&a, envp, 1000), 127);
}

/* Runs "/bin/sh -c SCRIPT" as a hook with ENVP; returns its status. */
static int sh_hook(const char *script, char *const envp[], uint64_t timeout_ms)
{
    struct mw_argv a;
    memset(&a, 0, sizeof(a));
    a.n = 3;
    snprintf(a.arg[0], sizeof(a.arg[0]), "/bin/sh");
    snprintf(a.arg[1], sizeof(a.arg[1]), "-c");
    snprintf(a.arg[2], sizeof(a.arg[2]), "%s", script);
    return mw_hook_run(&a, envp, timeout_ms);
}

/* A hook starts clean: no signal the daemon ignores or blocks, no
 * descriptor but 0-2, its own process group (killed whole on timeout), and
 * environment values cleaned of control bytes (MW_PROG is a process name
 * anyone can choose). */
static void test_hooks_start_clean(void)
{
    if (access("/bin/sh", X_OK) != 0)
        SKIP("no /bin/sh");
    char dir[] = "/tmp/mw-test-hook-XXXXXX", script[256], file[96];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    char env0[] = "PATH=/usr/bin:/bin";
    char env1[] = "MW_PROG=ev\x1b[31mil\n\x9b";
    char *envp[] = {env0, env1, NULL};
    /* signals: SIGPIPE ignored and SIGUSR1 blocked in the daemon */
    struct sigaction old_pipe, ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &old_pipe);
    sigset_t usr1, old_mask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old_mask);
    /* SIGPIPE (bit 12) not ignored, SIGUSR1 (bit 9) not blocked; other
     * bits may stay set: libc's own signals (32, 33) cannot be reset */
    CHECK_EQ_INT(sh_hook("grep -Eq 'Ign:.*[02468ace]...$' /proc/self/status&&"
                         "grep -Eq 'Blk:.*[014589cd]..$' /proc/self/status",
                         envp, 5000),
                 0);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    /* a descriptor the daemon inherited (no close-on-exec) */
    int fd = open("/dev/null", O_RDONLY);
    CHECK(dup2(fd, 57) == 57);
    CHECK_EQ_INT(sh_hook("[ ! -e /proc/$$/fd/57 ]", envp, 5000), 0);
    close(57);
    close(fd);
    /* the environment */
    snprintf(file, sizeof(file), "%s/prog", dir);
    snprintf(script, sizeof(script), "printf %%s \"$MW_PROG\" > %s", file);
    CHECK_EQ_INT(sh_hook(script, envp, 5000), 0);
    char buf[64] = "";
    FILE *f = fopen(file, "r");
    if (f) {
        buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
        fclose(f);
    }
    CHECK_STR(buf, "ev?[31mil??");
    /* a timed-out hook's child dies with it */
    snprintf(file, sizeof(file), "%s/pid", dir);
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait", file);
    /* 2 s: on a loaded machine the shell may need a while to start the
     * sleep and write its PID before the timeout ends the hook */
    CHECK_EQ_INT(sh_hook(script, envp, 2000), -ETIMEDOUT);
    int child = 0;
    f = fopen(file, "r");
    if (f) {
        if (fscanf(f, "%d", &child) != 1)
            child = 0;
        fclose(f);
    }
    CHECK(child > 1);
    bool alive = false;
    for (int i = 0; i < 50 && child > 1; i++) { /* until init reaps it */
        char path[64], st[256] = "";
        snprintf(path, sizeof(path), "/proc/%d/stat", child);
        int sfd = open(path, O_RDONLY);
        alive = sfd >= 0 && read(sfd, st, sizeof(st) - 1) > 0 && strstr(st, "(sleep) S");
        if (sfd >= 0)
            close(sfd);
        if (!alive)
            break;
        usleep(20000);
    }
    CHECK(!alive);
    if (alive)
        kill(child, SIGKILL); /* the sleep this test started */
    unlink(file);
    snprintf(file, sizeof(file), "%s/prog", dir);
    unlink(file);
    rmdir(dir);
}

/* Fills A with PROG and up to two arguments. */
static void argv_of(struct mw_argv *a, const char *prog, const char *a1, const char *a2)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->arg[a->n++], sizeof(a->arg[0]), "%s", prog);
    if (a1)
        snprintf(a->arg[a->n++], sizeof(a->arg[0]), "%s", a1);
    if (a2)
        snprintf(a->arg[a->n++], sizeof(a->arg[0]), "%s", a2);
}

/* Hooks in the background (issue 24: a hook never holds the killer): a
 * start returns at once, at most MW_HOOKS_MAX run, the reaper kills the
 * ones past their time limit (by the NOW it is given: no test waits for
 * a real limit) and leaves none behind; a bounded wait returns while the
 * hook runs on; the one environment builder cleans what it is given. */
static void test_hooks_background(void)
{
    if (access("/bin/sleep", X_OK) != 0 || access("/bin/sh", X_OK) != 0)
        SKIP("no /bin/sleep or /bin/sh");
    static struct mw_hooks h;
    memset(&h, 0, sizeof(h));
    struct mw_argv a;
    argv_of(&a, "/bin/sleep", "30", NULL);
    mw_hook_env_reset(&h.env);
    mw_hook_env_add(&h.env, "PATH=/bin");
    uint64_t t0 = mw_now_ms();
    int pids[MW_HOOKS_MAX];
    for (int i = 0; i < MW_HOOKS_MAX; i++) {
        int slot = mw_hooks_start(&h, &a, "alert", 1000, 5000);
        CHECK_EQ_INT(slot, i);
        pids[i] = h.job[i].pid;
    }
    CHECK_EQ_INT(mw_hooks_start(&h, &a, "alert", 1000, 5000), -EBUSY);
    CHECK(mw_now_ms() - t0 < 2000); /* started, not waited for */
    CHECK_EQ_U64(mw_hooks_next_ms(&h, 2000), 4000);
    struct mw_hook_end ends[MW_HOOKS_MAX];
    CHECK_EQ_INT(mw_hooks_reap(&h, 5999, ends, MW_HOOKS_MAX), 0); /* all still running */
    CHECK_EQ_INT(mw_hooks_reap(&h, 6000, ends, MW_HOOKS_MAX), MW_HOOKS_MAX);
    CHECK_EQ_INT(ends[0].status, -ETIMEDOUT);
    CHECK_STR(ends[0].what, "alert");
    CHECK_STR(ends[0].prog, "/bin/sleep");
    CHECK_EQ_U64(ends[0].ran_ms, 5000);
    for (int i = 0; i < MW_HOOKS_MAX; i++)
        CHECK(kill(pids[i], 0) < 0 && errno == ESRCH); /* killed and reaped */
    CHECK_EQ_U64(mw_hooks_next_ms(&h, 6000), UINT64_MAX);
    /* a pre-kill hook's bounded wait: it returns, the hook runs on */
    int slot = mw_hooks_start(&h, &a, "pre-kill", mw_now_ms(), 5000);
    CHECK(slot >= 0);
    struct mw_hook_end end;
    t0 = mw_now_ms();
    CHECK_EQ_INT(mw_hooks_wait(&h, slot, MW_HOOK_PRE_KILL_WAIT_MS, &end), 0);
    uint64_t waited = mw_now_ms() - t0;
    CHECK(waited >= MW_HOOK_PRE_KILL_WAIT_MS && waited < 2000);
    CHECK(slot >= 0 && kill(h.job[slot].pid, 0) == 0);
    mw_hooks_stop(&h);
    CHECK(slot >= 0 && h.job[slot].pid == 0);
    /* one that ends in time: its status, reaped by the wait */
    argv_of(&a, "/bin/sh", "-c", "exit $MW_CODE");
    mw_hook_env_reset(&h.env);
    mw_hook_env_add(&h.env, "MW_CODE=%d", 3);
    slot = mw_hooks_start(&h, &a, "post-kill", mw_now_ms(), 5000);
    CHECK_EQ_INT(mw_hooks_wait(&h, slot, 5000, &end), 1);
    CHECK_EQ_INT(end.status, 3);
    /* the kill environment, cleaned: a name anyone can choose */
    struct mw_victim v;
    memset(&v, 0, sizeof(v));
    v.pid = 42;
    v.adj = 900;
    snprintf(v.comm, sizeof(v.comm), "ev\x1b[2Jil\n\xff");
    mw_hook_env_kill(&h.env, "pre_kill", &v, "low_mem");
    CHECK_STR(h.env.envp[0], "MW_EVENT=pre_kill");
    CHECK_STR(h.env.envp[4], "MW_PROG=ev?[2Jil??");
    CHECK_STR(h.env.envp[6], "MW_REASON=low_mem");
    CHECK(h.env.envp[8] == NULL);
    /* too many entries: not started */
    for (int i = 0; i < MW_HOOK_ENV_MAX; i++)
        mw_hook_env_add(&h.env, "X%d=1", i);
    CHECK_EQ_INT(mw_hooks_start(&h, &a, "alert", 0, 5000), -E2BIG);
}

/* A child that sleeps; its victim record as the scan would make it. */
static pid_t child_victim(struct mw_victim *v)
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    memset(v, 0, sizeof(*v));
    v->pid = pid;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    v->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
    struct mw_proc_stat st;
    if (v->stat_fd >= 0 && mw_pread_all(v->stat_fd, buf, sizeof(buf)) > 0 &&
        mw_proc_stat_parse_buf(&st, buf) == 0)
        v->starttime = st.starttime;
    return pid;
}

static void test_pidfd_kill(void)
{
    if (mw_pidfd_open(getpid()) < 0 && errno == ENOSYS)
        SKIP("no pidfd_open (kernel < 5.3)");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    /* The exit is awaited up to this long and seen as soon as it comes:
     * 100 ms (the default) is short for a machine busy beside make test. */
    cfg.kill_timeout_ms = 10000;
    struct mw_victim v;
    struct mw_kill_result r;
    pid_t pid = child_victim(&v);
    CHECK(v.stat_fd >= 0);
    /* dry run: identified, not signalled */
    CHECK_EQ_INT(mw_kill_victim(-1, &v, &cfg, true, &r), 0);
    CHECK(!r.signalled);
    CHECK(kill(pid, 0) == 0);
    /* a stale record (another start time) is refused: PID reuse safety */
    v.starttime++;
    CHECK_EQ_INT(mw_kill_victim(-1, &v, &cfg, false, &r), -ESRCH);
    CHECK(kill(pid, 0) == 0);
    v.starttime--;
    CHECK_EQ_INT(mw_kill_victim(-1, &v, &cfg, false, &r), 0);
    CHECK(r.signalled);
    CHECK(r.exited);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* once dead, its held stat descriptor no longer reads: refused */
    CHECK(mw_kill_victim(-1, &v, &cfg, false, &r) < 0);
    close(v.stat_fd);
    /* SIGTERM first when configured: a child that exits on SIGTERM */
    pid = child_victim(&v);
    v.term_first = true;
    cfg.term_grace_ms = 2000;
    CHECK_EQ_INT(mw_kill_victim(-1, &v, &cfg, false, &r), 0);
    CHECK(r.termed && r.exited);
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    close(v.stat_fd);
}

/* The v1 whole-cgroup kill read cgroup.procs into 16 KiB (not NUL
 * terminated when cut) and sent SIGKILL to the cut PID's head. Here a
 * member's PID, zero-padded so that its head is 0 (which no code kills),
 * straddles byte 16383: it must be read whole and killed. (Run before the
 * fix only inside `unshare --pid --fork`: the unterminated buffer read
 * stack bytes as digits.) */
static void test_v1_cgroup_kill_reads_all(void)
{
    if (mw_pidfd_open(getpid()) < 0 && errno == ENOSYS)
        SKIP("no pidfd_open (kernel < 5.3)");
    char dir[] = "/tmp/mw-test-cgkill-XXXXXX", path[128];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/sys/fs/cgroup/memory/t", dir);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
    CHECK(system(cmd) == 0);
    struct mw_victim v;
    pid_t victim = child_victim(&v);
    pid_t member = fork();
    if (member == 0) {
        pause();
        _exit(0);
    }
    strcat(path, "/cgroup.procs");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 8180; i++) /* 16360 bytes of PID 0 */
        fputs("0\n", f);
    fprintf(f, "%040d\n", (int)member); /* bytes 16360..16399 */
    for (int i = 0; i < 8000; i++)
        fputs("0\n", f);
    fclose(f);
    v.kill_cgroup = v.cgroup_v1 = true;
    snprintf(v.cgroup, sizeof(v.cgroup), "/t");
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    int root_fd = open(dir, O_PATH | O_DIRECTORY);
    struct mw_kill_result r;
    CHECK_EQ_INT(mw_kill_victim(root_fd, &v, &cfg, false, &r), 0);
    CHECK_EQ_INT(r.cgroup_members, 1);
    CHECK(r.cgroup_killed);
    int status = 0;
    CHECK(waitpid(victim, &status, 0) == victim);
    /* the member: killed by the cgroup kill, or (failing) ended here */
    if (r.cgroup_members != 1)
        kill(member, SIGKILL);
    CHECK(waitpid(member, &status, 0) == member && WIFSIGNALED(status) &&
          WTERMSIG(status) == SIGKILL);
    close(v.stat_fd);
    close(root_fd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* A unit killed whole (lmk/sdunit.h) on cgroup v2: "1" into cgroup.kill
 * when the kernel has it (5.14+), else SIGKILL to every member of the
 * cgroup and of its subgroups. A tree in /tmp stands for cgroupfs: the
 * file cgroup.kill, when there, is written and nobody else is signalled. */
static void test_v2_unit_kill(void)
{
    if (mw_pidfd_open(getpid()) < 0 && errno == ENOSYS)
        SKIP("no pidfd_open (kernel < 5.3)");
    char dir[] = "/tmp/mw-test-unitkill-XXXXXX", path[256], cmd[512];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/sys/fs/cgroup/system.slice/u.service", dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/sub", path);
    CHECK(system(cmd) == 0);
    struct mw_config cfg;
    mw_config_defaults(&cfg);
    int root_fd = open(dir, O_PATH | O_DIRECTORY);
    for (int with_kill_file = 0; with_kill_file < 2; with_kill_file++) {
        struct mw_victim v;
        pid_t victim = child_victim(&v);
        pid_t member[2];
        for (int i = 0; i < 2; i++)
            if ((member[i] = fork()) == 0) {
                pause();
                _exit(0);
            }
        char file[320];
        snprintf(file, sizeof(file), "%s/cgroup.procs", path);
        FILE *f = fopen(file, "w");
        fprintf(f, "%d\n%d\n", (int)victim, (int)member[0]);
        fclose(f);
        snprintf(file, sizeof(file), "%s/sub/cgroup.procs", path);
        f = fopen(file, "w");
        fprintf(f, "%d\n", (int)member[1]);
        fclose(f);
        snprintf(file, sizeof(file), "%s/cgroup.kill", path);
        if (with_kill_file)
            fclose(fopen(file, "w"));
        v.kill_cgroup = true;
        snprintf(v.cgroup, sizeof(v.cgroup), "/system.slice/u.service");
        struct mw_kill_result r;
        CHECK_EQ_INT(mw_kill_victim(root_fd, &v, &cfg, false, &r), 0);
        CHECK(r.cgroup_killed);
        CHECK_EQ_INT(r.cgroup_members, with_kill_file ? 0 : 3);
        int status = 0;
        CHECK(waitpid(victim, &status, 0) == victim);
        for (int i = 0; i < 2; i++) {
            if (with_kill_file)
                kill(member[i], SIGKILL); /* the kernel's work, here ours */
            CHECK(waitpid(member[i], &status, 0) == member[i] && WIFSIGNALED(status) &&
                  WTERMSIG(status) == SIGKILL);
        }
        if (with_kill_file) {
            char one[4] = "";
            f = fopen(file, "r");
            CHECK(f && fgets(one, sizeof(one), f) && strcmp(one, "1") == 0);
            if (f)
                fclose(f);
        }
        close(v.stat_fd);
    }
    close(root_fd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Issue 17: a process name holding "\n<0>" must not start a second,
 * emergency-priority line in the log; every log line is sanitised. */
static void test_log_injection(void)
{
    char path[] = "/tmp/mw-dlog-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        SKIP("mkstemp failed");
    int saved = dup(2);
    dup2(fd, 2);
    mw_dlog_init(true);
    mw_dlog(LOG_CRIT, "KILL LOOP: %s killed %d times", "evil\n<0>root\x1b[2J\xff", 3);
    dup2(saved, 2);
    close(saved);
    char buf[256] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    CHECK(n > 0);
    CHECK_STR(buf, "<2>KILL LOOP: evil?<0>root?[2J? killed 3 times\n");
}

int main(void)
{
    RUN(test_log_injection);
    RUN(test_v2_unit_kill);
    RUN(test_kill_line);
    RUN(test_kill_json);
    RUN(test_loop_detection);
    RUN(test_state_round_trip);
    RUN(test_history_open);
    RUN(test_state_write);
    RUN(test_psi_trigger_lines);
    RUN(test_psi_live_fallback);
    RUN(test_alerts);
    RUN(test_hooks);
    RUN(test_hooks_start_clean);
    RUN(test_hooks_background);
    RUN(test_pidfd_kill);
    RUN(test_v1_cgroup_kill_reads_all);
    return TESTS_DONE();
}
