#include <errno.h>

#include "proc/cgcreate.h"
#include "proc/cgroup.h"
#include "harness.h"

static void test_name_valid(void)
{
    CHECK(mw_cg_name_valid("memwarden-run-123"));
    CHECK(mw_cg_name_valid("app_1.test"));
    CHECK(!mw_cg_name_valid(""));
    CHECK(!mw_cg_name_valid("."));
    CHECK(!mw_cg_name_valid(".."));
    CHECK(!mw_cg_name_valid("a..b"));
    CHECK(!mw_cg_name_valid("../etc"));
    CHECK(!mw_cg_name_valid("a/b"));
    CHECK(!mw_cg_name_valid("a b"));
    CHECK(!mw_cg_name_valid("a\nb"));
    CHECK(!mw_cg_name_valid("caf\xc3\xa9"));
    char longname[MW_CG_NAME_MAX + 1];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[MW_CG_NAME_MAX] = '\0';
    CHECK(!mw_cg_name_valid(longname));
    longname[MW_CG_NAME_MAX - 1] = '\0';
    CHECK(mw_cg_name_valid(longname));
}

static void test_mounts(void)
{
    struct mw_cg_mounts m;
    const char *buf = "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
                      "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n"
                      "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n"
                      "cgroup /sys/fs/cgroup/mem\\040ory cgroup rw,relatime,memory 0 0\n"
                      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
    CHECK_EQ_INT(mw_cg_mounts_parse_buf(buf, &m), 0);
    CHECK_STR(m.v2, "/sys/fs/cgroup/unified");
    CHECK_STR(m.v1_memory, "/sys/fs/cgroup/mem ory");
    CHECK_STR(m.v1_cpu, "/sys/fs/cgroup/cpu,cpuacct");
    CHECK_EQ_INT(mw_cg_mounts_parse_buf("proc /proc proc rw 0 0\n", &m), -ENODATA);
    CHECK_STR(m.v2, "");
    /* a memory controller named only inside another option is not one */
    CHECK_EQ_INT(mw_cg_mounts_parse_buf("cgroup /x cgroup rw,memoryless 0 0\n", &m), -ENODATA);
}

static void test_proc_cgroup_ctrl(void)
{
    const char *buf = "9:name=systemd:/\n4:memory:/process_api/048b\n1:cpu,cpuacct:/grp\n0::/\n";
    char out[64];
    CHECK_EQ_INT(mw_proc_cgroup_ctrl_parse_buf(buf, "memory", out, sizeof(out)), 0);
    CHECK_STR(out, "/process_api/048b");
    CHECK_EQ_INT(mw_proc_cgroup_ctrl_parse_buf(buf, "cpu", out, sizeof(out)), 0);
    CHECK_STR(out, "/grp");
    CHECK_EQ_INT(mw_proc_cgroup_ctrl_parse_buf(buf, NULL, out, sizeof(out)), 0);
    CHECK_STR(out, "/");
    CHECK_EQ_INT(mw_proc_cgroup_ctrl_parse_buf(buf, "pids", out, sizeof(out)), -ENODATA);
    CHECK_EQ_INT(mw_proc_cgroup_ctrl_parse_buf(buf, "memory", out, 5), -ENAMETOOLONG);
}

static void test_list_has(void)
{
    CHECK(mw_cg_list_has("cpuset cpu io memory pids\n", "memory"));
    CHECK(mw_cg_list_has("cpuset cpu io memory pids\n", "cpu"));
    CHECK(!mw_cg_list_has("cpuset io pids\n", "cpu"));
    CHECK(!mw_cg_list_has("", "memory"));
}

static void test_plan_v1(void)
{
    struct mw_cg_spec s = {
        .limit = 64ull << 20, .swap = 0, .high = MW_CG_UNLIMITED, .cpus_milli = 1500};
    struct mw_cg_write w[MW_CG_PLAN_MAX];
    size_t n = 0;
    bool dropped = true;
    CHECK_EQ_INT(mw_cg_plan(&s, 1, true, true, w, &n, &dropped), 0);
    CHECK_EQ_INT(n, 4);
    CHECK_STR(w[0].file, "memory.limit_in_bytes");
    CHECK_STR(w[0].value, "67108864");
    CHECK_STR(w[1].file, "memory.memsw.limit_in_bytes");
    CHECK_STR(w[1].value, "67108864"); /* limit + 0 swap */
    CHECK_STR(w[2].file, "cpu.cfs_period_us");
    CHECK(w[2].cpu);
    CHECK_STR(w[3].file, "cpu.cfs_quota_us");
    CHECK_STR(w[3].value, "150000");
    CHECK(!dropped);
    /* no swap accounting: the swap limit cannot be written */
    s.swap = 32ull << 20;
    s.high = 48ull << 20;
    s.cpus_milli = 0;
    CHECK_EQ_INT(mw_cg_plan(&s, 1, false, true, w, &n, &dropped), 0);
    CHECK_EQ_INT(n, 1);
    CHECK(dropped); /* v1 has no memory.high */
    CHECK_EQ_INT(mw_cg_plan(&s, 1, true, false, w, &n, &dropped), 0);
    CHECK_STR(w[1].value, "100663296");
    s.limit = 0;
    CHECK_EQ_INT(mw_cg_plan(&s, 1, true, false, w, &n, &dropped), -EINVAL);
}

static void test_plan_v2(void)
{
    struct mw_cg_spec s = {.limit = 64ull << 20, .swap = 0, .high = 48ull << 20, .cpus_milli = 500};
    struct mw_cg_write w[MW_CG_PLAN_MAX];
    size_t n = 0;
    bool dropped = true;
    CHECK_EQ_INT(mw_cg_plan(&s, 2, true, true, w, &n, &dropped), 0);
    CHECK_EQ_INT(n, 4);
    CHECK_STR(w[0].file, "memory.max");
    CHECK_STR(w[1].file, "memory.high");
    CHECK_STR(w[1].value, "50331648");
    CHECK_STR(w[2].file, "memory.swap.max");
    CHECK_STR(w[2].value, "0");
    CHECK_STR(w[3].file, "cpu.max");
    CHECK_STR(w[3].value, "50000 100000");
    CHECK(!w[3].cpu); /* v2: the same directory */
    CHECK(!dropped);
    s.swap = MW_CG_UNLIMITED; /* --swap unlimited: nothing written */
    CHECK_EQ_INT(mw_cg_plan(&s, 2, true, false, w, &n, &dropped), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(mw_cg_plan(&s, 3, true, false, w, &n, &dropped), -EINVAL);
}

int main(void)
{
    RUN(test_name_valid);
    RUN(test_mounts);
    RUN(test_proc_cgroup_ctrl);
    RUN(test_list_has);
    RUN(test_plan_v1);
    RUN(test_plan_v2);
    return TESTS_DONE();
}
