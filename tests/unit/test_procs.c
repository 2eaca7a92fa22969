/* procs: the per-process parsers, on real lines from this machine and on
 * hostile ones. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "harness.h"
#include "proc/procs.h"

static void test_stat_real(void)
{
    /* kthreadd on kernel 6.18 */
    struct mw_proc_stat s;
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 "
                                            "20 0 1 0 10 0 0 18446744073709551615 0 0 0\n"),
                 0);
    CHECK_EQ_INT(s.pid, 2);
    CHECK_STR(s.comm, "kthreadd");
    CHECK_EQ_INT(s.state, 'S');
    CHECK_EQ_INT(s.ppid, 0);
    CHECK((s.flags & MW_PF_KTHREAD) != 0);
}

static void test_stat_hostile(void)
{
    struct mw_proc_stat s;
    /* A name faking ") Z ": the state follows the LAST ')'. */
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "103 (x) Z 1 1 1 (y) S 1 10 886 0 -1 4194304 96 0 0 0 "
                                            "7 3 0 0 20 0 1 0 77548 2990080 415 1\n"),
                 0);
    CHECK_STR(s.comm, "x) Z 1 1 1 (y");
    CHECK_EQ_INT(s.state, 'S');
    CHECK_EQ_INT(s.ppid, 1);
    CHECK_EQ_U64(s.utime, 7);
    CHECK_EQ_U64(s.rss_pages, 415);
    /* Spaces and a newline in the name. */
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "5 (a b\nc) R 4 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                                            "1 2 3\n"),
                 0);
    CHECK_STR(s.comm, "a b\nc");
    CHECK_EQ_INT(s.state, 'R');
    struct mw_proc_stat keep = {.pid = 77};
    s = keep;
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "109 garbage without parentheses\n"), -EINVAL);
    CHECK_EQ_INT(s.pid, 77); /* untouched */
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, ""), -EINVAL);
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "12 (trunc) S 1 2"), -EINVAL);
    CHECK_EQ_INT(mw_proc_stat_parse_buf(&s, "0 (zero) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 "
                                            "2 3\n"),
                 -EINVAL);
}

static void test_status(void)
{
    struct mw_proc_status s;
    CHECK_EQ_INT(mw_proc_status_parse_buf(&s, "Name:\tsleep\nTgid:\t10130\nUid:\t1000\t0\t0\t0\n"
                                              "Kthread:\t0\nVmSize:\t    2920 kB\n"
                                              "VmRSS:\t    1660 kB\nRssAnon:\t     112 kB\n"
                                              "VmSwap:\t       8 kB\n"),
                 0);
    CHECK_EQ_INT(s.uid, 1000);
    CHECK_EQ_INT(s.euid, 0);
    CHECK_EQ_INT(s.tgid, 10130);
    CHECK(!s.kthread);
    CHECK(s.have_rss);
    CHECK_EQ_U64(s.vm_rss_kb, 1660);
    CHECK_EQ_U64(s.vm_swap_kb, 8);
    CHECK_EQ_INT(mw_proc_status_parse_buf(&s, "Name:\tkthreadd\nUid:\t0\t0\t0\t0\nKthread:\t1\n"),
                 0);
    CHECK(s.kthread);
    CHECK(!s.have_rss);
    CHECK_EQ_INT(mw_proc_status_parse_buf(&s, "Name:\tx\n"), -EINVAL);
}

static void test_statm(void)
{
    struct mw_proc_statm m;
    CHECK_EQ_INT(mw_proc_statm_parse_buf(&m, "747 415 388 5 0 87 0\n"), 0);
    CHECK_EQ_U64(m.resident, 415);
    CHECK_EQ_U64(m.shared, 388);
    CHECK_EQ_INT(mw_proc_statm_parse_buf(&m, "747 415\n"), -EINVAL);
}

static void test_smaps(void)
{
    struct mw_proc_smaps s;
    const char *rollup = "55ac304bd000-7fffdcb74000 ---p 00000000 00:00 0   [rollup]\n"
                         "Rss:                1784 kB\nPss:                 450 kB\n"
                         "Pss_Dirty:           112 kB\nPss_Anon:            112 kB\n"
                         "Private_Clean:        76 kB\nPrivate_Dirty:       112 kB\n"
                         "Swap:                 40 kB\nSwapPss:              20 kB\n";
    CHECK_EQ_INT(mw_proc_smaps_parse_buf(&s, rollup), 0);
    CHECK_EQ_U64(s.pss, 450); /* Pss_Dirty is not Pss */
    CHECK_EQ_U64(s.rss, 1784);
    CHECK_EQ_U64(mw_proc_smaps_uss(&s), 188);
    CHECK(s.have_swap_pss);
    CHECK_EQ_U64(s.swap_pss, 20);
    /* Whole smaps: every mapping is added up. */
    const char *smaps = "5600-5601 r--p 00000000 08:01 42 /usr/bin/sleep\n"
                        "Size:                  8 kB\nRss:                   8 kB\n"
                        "Pss:                   4 kB\nPrivate_Dirty:         0 kB\n"
                        "7f00-7f01 rw-p 00000000 00:00 0\n"
                        "Rss:                  12 kB\nPss:                  12 kB\n"
                        "Private_Dirty:        12 kB\nVmFlags: rd wr mr mw me ac sd\n";
    CHECK_EQ_INT(mw_proc_smaps_parse_buf(&s, smaps), 0);
    CHECK_EQ_U64(s.pss, 16);
    CHECK_EQ_U64(s.rss, 20);
    CHECK(!s.have_swap_pss);
    CHECK_EQ_INT(mw_proc_smaps_parse_buf(&s, ""), -ENODATA);
    CHECK_EQ_INT(mw_proc_smaps_parse_buf(&s, "garbage\n\n"), -ENODATA);
}

static void test_adj_and_classes(void)
{
    int v = 5;
    CHECK_EQ_INT(mw_proc_adj_parse_buf(&v, "-1000\n"), 0);
    CHECK_EQ_INT(v, -1000);
    CHECK_EQ_INT(mw_proc_adj_parse_buf(&v, "1001\n"), -EINVAL);
    CHECK_EQ_INT(mw_proc_adj_parse_buf(&v, "12abc"), -EINVAL);
    CHECK_EQ_INT(mw_proc_adj_parse_buf(&v, ""), -EINVAL);
    CHECK_EQ_INT(v, -1000);
    /* The nearest class at or below the value (seed: lmkd's ProcessList). */
    CHECK_STR(mw_adj_class_name(-1000), "native");
    CHECK_STR(mw_adj_class_name(-950), "native");
    CHECK_STR(mw_adj_class_name(-900), "system");
    CHECK_STR(mw_adj_class_name(-701), "persistent_proc");
    CHECK_STR(mw_adj_class_name(-700), "persistent_service");
    CHECK_STR(mw_adj_class_name(-1), "persistent_service");
    CHECK_STR(mw_adj_class_name(0), "foreground");
    CHECK_STR(mw_adj_class_name(250), "perceptible");
    CHECK_STR(mw_adj_class_name(800), "service_b");
    CHECK_STR(mw_adj_class_name(906), "cached");
    CHECK_STR(mw_adj_class_name(999), "cached");
    CHECK_STR(mw_adj_class_name(1000), "cached");
    CHECK_STR(mw_adj_class_name(1001), "unknown");
    CHECK_EQ_INT(mw_adj_class_parse("cached", &v), 0);
    CHECK_EQ_INT(v, 900);
    CHECK_EQ_INT(mw_adj_class_parse("persistent_service", &v), 0);
    CHECK_EQ_INT(v, -700);
    CHECK_EQ_INT(mw_adj_class_parse("unknown", &v), 0);
    CHECK_EQ_INT(v, 1001);
    CHECK_EQ_INT(mw_adj_class_parse("-250", &v), 0);
    CHECK_EQ_INT(v, -250);
    CHECK_EQ_INT(mw_adj_class_parse("Cached", &v), -EINVAL);
    CHECK_EQ_INT(mw_adj_class_parse("2000", &v), -EINVAL);
    CHECK_EQ_INT(v, -250);
}

static void test_cmdline_join(void)
{
    char a[] = "/usr/bin/python3\0/usr/bin/smem\0-t\0";
    CHECK_EQ_U64(mw_proc_cmdline_join(a, sizeof(a) - 1), 33);
    CHECK_STR(a, "/usr/bin/python3 /usr/bin/smem -t");
    char b[] = "";
    CHECK_EQ_U64(mw_proc_cmdline_join(b, 0), 0);
    CHECK_STR(b, "");
    char c[] = "sshd: root@pts/0"; /* rewritten argv without NULs */
    CHECK_EQ_U64(mw_proc_cmdline_join(c, sizeof(c) - 1), 16);
    CHECK_STR(c, "sshd: root@pts/0");
}

/* All or nothing, on a scratch root: pid 10's file takes the write, pid 11's
 * "file" is a directory (the write fails), so pid 10 is put back. */
static void test_adj_apply_rollback(void)
{
    char dir[] = "/tmp/mw-adj-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("cannot make a temporary directory");
    char path[256];
    const char *mk[] = {"proc", "proc/10", "proc/11", "proc/11/oom_score_adj", "proc/12"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(mk); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, mk[i]);
        mkdir(path, 0755);
    }
    snprintf(path, sizeof(path), "%s/proc/10/oom_score_adj", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("0\n", f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/proc/12/oom_score_adj", dir);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, dir), 0);
    struct mw_adj_change ch[] = {
        {.pid = 10, .old_adj = 0, .new_adj = 900},
        {.pid = 11, .old_adj = 0, .new_adj = 900},
        {.pid = 12, .old_adj = 0, .new_adj = 900},
    };
    size_t at = 99;
    CHECK_EQ_INT(mw_proc_adj_apply(&r, ch, 3, true, &at), -EISDIR);
    CHECK_EQ_U64(at, 1);
    CHECK_EQ_INT(ch[0].result, 0);
    CHECK_EQ_INT(ch[2].result, 1); /* never tried */
    char *buf = NULL;
    CHECK_EQ_INT(mw_read_file(&r, "/proc/10/oom_score_adj", &buf, NULL), 0);
    /* put back (a regular file is overwritten in place, not truncated) */
    CHECK(buf && strncmp(buf, "0\n", 2) == 0);
    free(buf);
    /* A gone process (pid 13: no directory) is tolerated when asked. */
    struct mw_adj_change gone[] = {{.pid = 13, .old_adj = 0, .new_adj = 5},
                                   {.pid = 10, .old_adj = 0, .new_adj = 100}};
    CHECK_EQ_INT(mw_proc_adj_apply(&r, gone, 2, true, &at), 0);
    CHECK_EQ_INT(gone[0].result, -ENOENT);
    CHECK_EQ_INT(mw_read_file(&r, "/proc/10/oom_score_adj", &buf, NULL), 0);
    CHECK_STR(buf, "100\n");
    free(buf);
    CHECK_EQ_INT(mw_proc_adj_apply(&r, gone, 2, false, &at), -ENOENT);
    CHECK_EQ_INT(mw_proc_adj_write(&r, 10, 1001), -EINVAL);
    mw_root_close(&r);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_stat_real);
    RUN(test_stat_hostile);
    RUN(test_status);
    RUN(test_statm);
    RUN(test_smaps);
    RUN(test_adj_and_classes);
    RUN(test_cmdline_join);
    RUN(test_adj_apply_rollback);
    return TESTS_DONE();
}
