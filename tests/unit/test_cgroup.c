#include <errno.h>

#include "proc/cgroup.h"
#include "harness.h"

static void test_v1_capture(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/cgroup-v1"), 0);
    const char *cg = "/sys/fs/cgroup/memory/app";
    CHECK_EQ_INT(mw_cgroup_version(&r, cg), 1);
    struct mw_cgroup_mem m;
    CHECK_EQ_INT(mw_cgroup_mem_read(&r, cg, &m), 0);
    CHECK_EQ_INT(m.version, 1);
    CHECK_EQ_U64(m.limit, 268435456);
    CHECK(m.usage > 40ull << 20);
    CHECK(m.have_stat);
    CHECK(m.stat.anon >= 40ull << 20); /* the 40 MiB the process touched */
    CHECK(m.stat.file >= 8ull << 20);  /* and the 8 MiB file it wrote */
    CHECK_EQ_U64(m.swap_limit, MW_CG_UNLIMITED);
    CHECK_EQ_U64(m.ev_oom_kill, 0);
    CHECK(!m.under_oom);
    CHECK_EQ_INT(mw_cgroup_version(&r, "/sys/fs/cgroup/memory/none"), -ENOENT);
    mw_root_close(&r);
}

static void test_v2(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/cgroup-v2"), 0);
    const char *cg = "/sys/fs/cgroup/system.slice/app.service";
    struct mw_cgroup_mem m;
    CHECK_EQ_INT(mw_cgroup_mem_read(&r, cg, &m), 0);
    CHECK_EQ_INT(m.version, 2);
    CHECK_EQ_U64(m.limit, 2147483648ull);
    CHECK_EQ_U64(m.high, MW_CG_UNLIMITED);
    CHECK_EQ_U64(m.ev_max, 1843);
    CHECK_EQ_U64(m.ev_oom_kill, 2);
    CHECK(m.have_psi);
    CHECK_CLOSE(m.psi.full.avg10, 3.1, 0.1);
    CHECK_EQ_U64(m.stat.workingset_refault_file, 88123);
    /* file LRU 150 MiB - 1 MiB dirty + 20 MiB reclaimable slab */
    CHECK_EQ_U64(mw_cgroup_reclaimable(&m), 100663296ull + 50331648 - 1048576 + 20971520);
    int *pids = NULL;
    CHECK_EQ_INT(mw_cgroup_pids(&r, cg, &pids), 2);
    CHECK(pids && pids[0] == 4242 && pids[1] == 4243);
    free(pids);
    mw_root_close(&r);
}

static void test_stat_parse(void)
{
    struct mw_cg_stat s;
    /* v1 prefers the hierarchical total_* values. */
    CHECK_EQ_INT(
        mw_cg_stat_parse_buf(&s, "cache 10\nrss 20\ntotal_cache 100\ntotal_rss 200\n", 1, NULL), 0);
    CHECK_EQ_U64(s.file, 100);
    CHECK_EQ_U64(s.anon, 200);
    int bad = 0;
    CHECK_EQ_INT(mw_cg_stat_parse_buf(&s, "anon 1\nfile\n", 2, &bad), -EINVAL);
    CHECK_EQ_INT(bad, 2);
    CHECK_EQ_INT(mw_cg_stat_parse_buf(&s, "anon x\n", 2, &bad), -EINVAL);
    CHECK_EQ_INT(mw_cg_stat_parse_buf(&s, "", 2, &bad), -ENODATA);
}

static void test_proc_cgroup(void)
{
    char out[64];
    const char *text = "12:pids:/user.slice\n"
                       "7:cpu,cpuacct:/x\n"
                       "4:memory:/app/worker\n"
                       "1:name=systemd:/user.slice\n"
                       "0::/system.slice/app.service\n";
    CHECK_EQ_INT(mw_proc_cgroup_parse_buf(text, false, out, sizeof out), 0);
    CHECK_STR(out, "/system.slice/app.service");
    CHECK_EQ_INT(mw_proc_cgroup_parse_buf(text, true, out, sizeof out), 0);
    CHECK_STR(out, "/app/worker");
    CHECK_EQ_INT(mw_proc_cgroup_parse_buf("3:memory,blkio:/a\n", false, out, sizeof out), 0);
    CHECK_STR(out, "/a");
    CHECK_EQ_INT(mw_proc_cgroup_parse_buf("garbage\n", false, out, sizeof out), -ENODATA);
    CHECK_EQ_INT(mw_proc_cgroup_parse_buf("0::/a/very/long/path\n", false, out, 8), -ENAMETOOLONG);
}

int main(void)
{
    RUN(test_v1_capture);
    RUN(test_v2);
    RUN(test_stat_parse);
    RUN(test_proc_cgroup);
    return TESTS_DONE();
}
