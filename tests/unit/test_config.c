/* Config tests: defaults, every value type, lmkd's property names as
 * aliases, the low-RAM profile, minfree tables, and bad input reported
 * with its line number. */
#include "harness.h"
#include "cli/cli.h"

#include "lmk/config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int parse(struct mw_config *c, const char *text, char *err, size_t cap)
{
    mw_config_defaults(c);
    err[0] = '\0';
    return mw_config_parse_buf(c, text, err, cap);
}

static void test_defaults_are_lmkds(void)
{
    struct mw_config c;
    mw_config_defaults(&c);
    CHECK_EQ_U64(c.psi_partial_stall_ms, 70);
    CHECK_EQ_U64(c.psi_complete_stall_ms, 700);
    CHECK_EQ_INT(c.thrashing_limit_pct, 100);
    CHECK_EQ_INT(c.thrashing_limit_decay_pct, 10);
    CHECK_EQ_INT(c.swap_free_low_pct, 20);
    CHECK_EQ_INT(c.swap_util_max_pct, 100);
    CHECK_EQ_INT(c.medium_adj, 800);
    CHECK_EQ_INT(c.critical_adj, 0);
    CHECK_EQ_U64(c.kill_timeout_ms, 100);
    CHECK(!c.kill_heaviest_task);
    CHECK(!c.one_kill_at_a_time);
    CHECK_EQ_INT(c.strategy, MW_STRATEGY_PSI);
    CHECK_STR(c.state_file, "/run/memwarden/state.json");
}

static void test_lmkd_aliases(void)
{
    struct mw_config c;
    char err[256];
    const char *text = "# an Android tuning file\n"
                       "ro.lmk.medium = 700\n"
                       "ro.lmk.critical = 100\n"
                       "ro.lmk.kill_heaviest_task = true\n"
                       "ro.lmk.kill_timeout_ms = 250\n"
                       "ro.lmk.swap_free_low_percentage = 15\n"
                       "ro.lmk.thrashing_limit = 80\n"
                       "ro.lmk.thrashing_limit_decay = 20\n"
                       "ro.lmk.psi_partial_stall_ms = 100\n"
                       "ro.lmk.psi_complete_stall_ms = 600\n"
                       "ro.lmk.swap_util_max = 90\n"
                       "ro.lmk.filecache_min_kb = 51200\n"
                       "ro.lmk.debug = true\n"
                       "ro.lmk.use_minfree_levels = true\n"
                       "sys.lmk.minfree_levels = 18432:0,23040:100\n";
    CHECK(parse(&c, text, err, sizeof(err)) == 0);
    CHECK_STR(err, "");
    CHECK_EQ_INT(c.medium_adj, 700);
    CHECK_EQ_INT(c.critical_adj, 100);
    CHECK(c.kill_heaviest_task);
    CHECK_EQ_U64(c.kill_timeout_ms, 250);
    CHECK_EQ_INT(c.swap_free_low_pct, 15);
    CHECK_EQ_INT(c.thrashing_limit_pct, 80);
    CHECK_EQ_INT(c.thrashing_limit_decay_pct, 20);
    CHECK_EQ_U64(c.psi_partial_stall_ms, 100);
    CHECK_EQ_U64(c.psi_complete_stall_ms, 600);
    CHECK_EQ_INT(c.swap_util_max_pct, 90);
    CHECK_EQ_U64(c.filecache_min_kb, 51200);
    CHECK_EQ_INT(c.strategy, MW_STRATEGY_MINFREE);
    CHECK_EQ_INT(c.minfree_n, 2);
    CHECK_EQ_U64(c.minfree[0].free_kb, 18432 * 4);
    CHECK_EQ_INT(c.minfree[1].adj, 100);
}

static void test_low_ram_profile(void)
{
    struct mw_config c;
    char err[256];
    CHECK(parse(&c, "ro.config.low_ram = true\nro.lmk.thrashing_limit = 40\n", err, sizeof(err)) ==
          0);
    CHECK(c.low_ram);
    CHECK_EQ_U64(c.psi_partial_stall_ms, 200);
    CHECK_EQ_INT(c.thrashing_limit_pct, 40); /* set explicitly: kept */
    CHECK_EQ_INT(c.thrashing_limit_decay_pct, 50);
    CHECK_EQ_INT(c.swap_free_low_pct, 10);
    CHECK(c.one_kill_at_a_time);
    CHECK_EQ_U64(c.psi_complete_stall_ms, 700); /* the same in both profiles */
    /* the profile applies whatever the order of the lines */
    CHECK(parse(&c, "[killer]\npsi_partial_stall_ms = 90\nlow_ram = yes\n", err, sizeof(err)) == 0);
    CHECK_EQ_U64(c.psi_partial_stall_ms, 90);
    CHECK_EQ_INT(c.thrashing_limit_pct, 30);
}

static void test_sections_patterns_hooks(void)
{
    struct mw_config c;
    char err[256];
    const char *text = "[killer]\n"
                       "strategy = psi\n"
                       "kill_timeout_ms = 2s\n"
                       "filecache_min = 64M\n"
                       "[victims]\n"
                       "protect = *sshd*\n"
                       "protect = \"/usr/bin/important --flag\"\n"
                       "prefer = *chrome*\n"
                       "avoid = *Xorg*\n"
                       "[loops]\n"
                       "loop_kills = 5\n"
                       "loop_window_ms = 10s\n"
                       "loop_action = protect\n"
                       "[alerts]\n"
                       "alert_mem_used_percent = 85\n"
                       "alert_available = 256M\n"
                       "alert_psi_some_avg10 = 12.5\n"
                       "alert_hook = /usr/local/bin/notify --level warn\n"
                       "[hooks]\n"
                       "hook_timeout_ms = 1500\n"
                       "[files]\n"
                       "history_file = /var/log/memwarden/kills.jsonl\n";
    CHECK(parse(&c, text, err, sizeof(err)) == 0);
    CHECK_STR(err, "");
    CHECK_EQ_U64(c.kill_timeout_ms, 2000);
    CHECK_EQ_U64(c.filecache_min_kb, 65536);
    CHECK_EQ_INT(c.protect.n, 2);
    CHECK_STR(c.protect.pat[1], "/usr/bin/important --flag");
    CHECK(mw_patterns_match(&c.protect, "/usr/sbin/sshd -D", "sshd"));
    CHECK(!mw_patterns_match(&c.protect, "/usr/bin/bash", "bash"));
    CHECK(mw_patterns_match(&c.prefer, "", "chrome")); /* name when no cmdline */
    CHECK_EQ_INT(c.loop_kills, 5);
    CHECK_EQ_U64(c.loop_window_ms, 10000);
    CHECK_EQ_INT(c.loop_action, MW_LOOP_PROTECT);
    CHECK_EQ_INT(c.alert_mem_used_pct, 85);
    CHECK_EQ_U64(c.alert_available_kb, 262144);
    CHECK_CLOSE(c.alert_psi_some_avg10, 12.5, 0.01);
    CHECK_EQ_INT(c.alert_hook.n, 3);
    CHECK_STR(c.alert_hook.arg[0], "/usr/local/bin/notify");
    CHECK_STR(c.alert_hook.arg[2], "warn");
    CHECK_EQ_U64(c.hook_timeout_ms, 1500);
    CHECK_STR(c.history_file, "/var/log/memwarden/kills.jsonl");
}

static void test_bad_values_name_their_line(void)
{
    struct mw_config c;
    char err[256];
    CHECK(parse(&c, "[killer]\n\nthrashing_limit = lots\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "line 3:");
    CHECK_CONTAINS(err, "thrashing_limit");
    CHECK(parse(&c, "kill_timeout_ms = 100\nno_such_key = 1\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "line 2: unknown key 'no_such_key'");
    CHECK(parse(&c, "[killers]\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "line 1: unknown section [killers]");
    CHECK(parse(&c, "low_ram = maybe\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "not true or false");
    CHECK(parse(&c, "swap_free_low_percentage = 101\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "swap_free_low_percentage = -1\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "kill_timeout_ms = 5 minutes\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "just words\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "expected 'key = value'");
    CHECK(parse(&c, "[killer\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "alert_hook = notify-send hi\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "absolute path");
    CHECK(parse(&c, "state_file = relative/state.json\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "strategy = old\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "scope_min_percent = 5\nscope_low_percent = 4\n", err, sizeof(err)) == -EINVAL);
    CHECK(parse(&c, "minfree_levels = 100\n", err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "FREE:ADJ");
    /* a huge number does not wrap */
    CHECK(parse(&c, "thrashing_limit = 99999999999999999999999\n", err, sizeof(err)) == -EINVAL);
}

/* kill_timeout_ms = 50.0 was 50 s (a bare fraction fell to the seconds
 * parser), nan passed every range check, hex passed as a size. */
static void test_number_quirks_refused(void)
{
    struct mw_config c;
    char err[256];
    const char *bad[] = {
        "kill_timeout_ms = 50.0\n",          "kill_timeout_ms = 0x10\n",
        "poll_interval_ms = 1e3\n",          "thrashing_psi_full = nan\n",
        "thrashing_psi_full = inf\n",        "thrashing_psi_full = 0x10\n",
        "alert_psi_some_avg10 = 1e1\n",      "alert_psi_some_avg10 = NAN\n",
        "filecache_min = 0x100000\n",        "alert_available = 1e6\n",
        "minfree_levels = 0x10M:0\n",        "loop_window_ms = 5m garbage\n",
        "kill_timeout_ms = 50ms trailing\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(&c, bad[i], err, sizeof(err)) != -EINVAL)
            fprintf(stderr, "  accepted: %s", bad[i]);
        CHECK_EQ_INT(parse(&c, bad[i], err, sizeof(err)), -EINVAL);
    }
    /* the vocabulary that stays */
    CHECK(parse(&c,
                "kill_timeout_ms = 50\nloop_window_ms = 5m\nterm_grace_ms = 1.5s\n"
                "thrashing_psi_full = 12.5\nfilecache_min = 1.5G\n",
                err, sizeof(err)) == 0);
    CHECK_EQ_U64(c.kill_timeout_ms, 50);
    CHECK_EQ_U64(c.loop_window_ms, 300000);
    CHECK_EQ_U64(c.term_grace_ms, 1500);
    CHECK_CLOSE(c.thrashing_psi_full, 12.5, 0.001);
    CHECK_EQ_U64(c.filecache_min_kb, 1572864);
}

/* metrics_listen is checked as the daemon will bind it (issue 24):
 * --check-config used to pass a host name or a malformed address that
 * only failed at start. */
static void test_metrics_listen(void)
{
    static const char *const bad[] = {
        "localhost:9338", "1.2.3.4.5:1", "127.0.0.1:65536", "127.0.0.1:-1",
        "[::1:9333",      "127.0.0.1:",  "host:1",          "1.2.3:4"};
    static const char *const good[] = {"9333", "127.0.0.1:9333", "[::1]:0", "0.0.0.0:1"};
    struct mw_config c;
    char err[256], text[128];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "metrics_listen = %s\n", bad[i]);
        if (parse(&c, text, err, sizeof(err)) == 0)
            fprintf(stderr, "  accepted: %s", text);
        CHECK_CONTAINS(err, "metrics_listen");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "metrics_listen = %s\n", good[i]);
        CHECK_EQ_INT(parse(&c, text, err, sizeof(err)), 0);
        CHECK_STR(c.metrics_listen, good[i]);
    }
}

static void test_minfree_parse(void)
{
    struct mw_minfree_level l[MW_CFG_MAX_MINFREE];
    int n = 0;
    CHECK(mw_minfree_parse("18432:0,23040:100,27648:200,32256:250,36864:900,46080:950", l, &n) ==
          6);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_U64(l[0].free_kb, 73728);
    CHECK_EQ_U64(l[5].free_kb, 184320);
    CHECK_EQ_INT(l[5].adj, 950);
    /* sizes with units, spaces, any order: sorted by free */
    CHECK(mw_minfree_parse(" 64M:900 , 8M:0 ", l, &n) == 2);
    CHECK_EQ_U64(l[0].free_kb, 8192);
    CHECK_EQ_INT(l[0].adj, 0);
    CHECK_EQ_U64(l[1].free_kb, 65536);
    CHECK(mw_minfree_parse("", l, &n) < 0);
    CHECK(mw_minfree_parse("1:2:3", l, &n) < 0);
    CHECK(mw_minfree_parse("abc:0", l, &n) < 0);
    CHECK(mw_minfree_parse("100:2000", l, &n) < 0);
    CHECK(mw_minfree_parse("1:0,2:0,3:0,4:0,5:0,6:0,7:0,8:0,9:0", l, &n) == -E2BIG);
}

static void test_example_config_loads(void)
{
    struct mw_config c;
    char err[320];
    mw_config_defaults(&c);
    int rc = mw_config_load(&c, MW_FIXTURES "/../../contrib/memwarden.conf", err, sizeof(err));
    if (rc == -ENOENT)
        FAIL_FIXTURE("contrib/memwarden.conf");
    if (rc < 0)
        fprintf(stderr, "  %s\n", err);
    CHECK(rc == 0);
}

/* Loads PATH into a config whose protect list is set, so "silently became
 * the defaults" shows as rc 0 or an emptied list. Returns the rc. */
static int load_over_protect(const char *path, char *err, size_t cap)
{
    struct mw_config c;
    mw_config_defaults(&c);
    CHECK(mw_config_parse_buf(&c, "protect = *sshd*\n", err, cap) == 0);
    err[0] = '\0';
    return mw_config_load(&c, path, err, cap);
}

/* A NUL byte, a directory and a read error were each taken as an empty
 * file: the defaults, which on SIGHUP dropped protect patterns and hooks. */
static void test_load_rejects_nul_dir_read_error(void)
{
    char dir[] = "/tmp/mw-test-config-XXXXXX", path[64], err[320];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/nul.conf", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fwrite("protect = *sshd*\n\0\nhistory_file = /x\n", 1, 38, f);
        fclose(f);
    }
    CHECK(load_over_protect(path, err, sizeof(err)) == -EINVAL);
    CHECK_CONTAINS(err, "nul.conf: line 2: a NUL byte");
    CHECK(load_over_protect(dir, err, sizeof(err)) == -EISDIR);
    CHECK_CONTAINS(err, "is a directory, not a config file");
    /* /proc/self/mem is a regular file whose read at offset 0 fails (EIO) */
    CHECK(load_over_protect("/proc/self/mem", err, sizeof(err)) < 0);
    CHECK_CONTAINS(err, "/proc/self/mem: ");
    unlink(path);
    rmdir(dir);
}

/* A FIFO given as the config hung the loader (and --check-config) for
 * ever: it is refused at once. Run in a child that an alarm ends. */
static void test_load_refuses_fifo(void)
{
    char dir[] = "/tmp/mw-test-config-XXXXXX", path[64], err[320];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/fifo.conf", dir);
    CHECK(mkfifo(path, 0600) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5);
        int rc = load_over_protect(path, err, sizeof(err));
        _exit(rc == -EBADFD && strstr(err, "not a regular file") ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
    rmdir(dir);
}

/* Every error of the text in one pass, each with its line, in order; the
 * good lines between them are still taken; a full ERR is cut, not overrun. */
static void test_every_error_in_one_pass(void)
{
    struct mw_config c;
    char err[MW_CFG_ERR_LEN], small[40];
    CHECK(parse(&c, "thrashing_limit = lots\nkill_timeout_ms = 250\nno_such = 1\n[bogus]\n", err,
                sizeof(err)) == -EINVAL);
    CHECK_STR(err, "line 1: thrashing_limit: 'lots' is not a whole number from 0 to 10000\n"
                   "line 3: unknown key 'no_such'\n"
                   "line 4: unknown section [bogus] (known: killer, victims, loops, alerts, "
                   "hooks, files, metrics)");
    CHECK(c.kill_timeout_ms == 250);
    memset(small, 'x', sizeof(small));
    CHECK(parse(&c, "a = 1\nb = 2\nc = 3\n", small, sizeof(small)) == -EINVAL);
    CHECK(strlen(small) == sizeof(small) - 1);
    CHECK(strncmp(small, "line 1: unknown key 'a'\nline 2: ", 32) == 0);
}

int main(void)
{
    RUN(test_defaults_are_lmkds);
    RUN(test_lmkd_aliases);
    RUN(test_low_ram_profile);
    RUN(test_sections_patterns_hooks);
    RUN(test_bad_values_name_their_line);
    RUN(test_every_error_in_one_pass);
    RUN(test_number_quirks_refused);
    RUN(test_minfree_parse);
    RUN(test_metrics_listen);
    RUN(test_example_config_loads);
    RUN(test_load_rejects_nul_dir_read_error);
    RUN(test_load_refuses_fifo);
    return TESTS_DONE();
}
