/* top: filters, sort orders and groups over a hand-built table. */
#include "cli/cli.h"
#include "harness.h"
#include "model/top.h"

#define MIB (1024ull * 1024)

static struct mw_proc procs[] = {
    {.pid = 10,
     .uid = 0,
     .oom_score_adj = -1000,
     .pss_bytes = 5 * MIB,
     .uss_bytes = 4 * MIB,
     .rss_bytes = 9 * MIB,
     .swap_bytes = 0,
     .comm = "init",
     .cmdline = "/sbin/init",
     .argv0_len = 10,
     .cgroup = "/"},
    {.pid = 20,
     .uid = 1000,
     .oom_score_adj = 900,
     .pss_bytes = 50 * MIB,
     .uss_bytes = 40 * MIB,
     .rss_bytes = 60 * MIB,
     .swap_bytes = 3 * MIB,
     .comm = "indexer",
     .cmdline = "/usr/bin/indexer --all",
     .argv0_len = 16,
     .cgroup = "/user.slice/user-1000.slice"},
    {.pid = 30,
     .uid = 1000,
     .oom_score_adj = 950,
     .pss_bytes = 20 * MIB,
     .uss_bytes = 30 * MIB,
     .rss_bytes = 25 * MIB,
     .swap_bytes = 9 * MIB,
     .comm = "indexer",
     .cmdline = "indexer --child",
     .argv0_len = 7,
     .cgroup = "/user.slice/user-1000.slice/app"},
    {.pid = 40,
     .uid = 33,
     .oom_score_adj = 0,
     .pss_bytes = 20 * MIB,
     .uss_bytes = 10 * MIB,
     .rss_bytes = 80 * MIB,
     .swap_bytes = 0,
     .comm = "nginx",
     .cmdline = "nginx: worker process",
     .argv0_len = 21,
     .cgroup = "/system.slice/nginx.service"},
    {.pid = 50,
     .uid = 33,
     .oom_score_adj = 0,
     .pss_bytes = 1 * MIB,
     .uss_bytes = 1 * MIB,
     .rss_bytes = 2 * MIB,
     .comm = "nginx",
     .cmdline = "nginx: master process",
     .argv0_len = 21,
     .cgroup = "/system.slice/nginx.service",
     .flags = MW_PROC_MEM_EST},
    {.pid = 60,
     .uid = 0,
     .pss_bytes = 2 * MIB,
     .uss_bytes = 2 * MIB,
     .rss_bytes = 2 * MIB,
     .comm = "noadj",
     .cmdline = "noadj",
     .argv0_len = 5,
     .cgroup = "/user.slicex",
     .flags = MW_PROC_NO_ADJ},
};

static const struct mw_proctable table = {.procs = procs, .n = MW_ARRAY_SIZE(procs)};

static void test_sort(void)
{
    struct mw_top_view v = {0};
    struct mw_top_filter f = {.sort = MW_TOP_SORT_PSS};
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.n, 6);
    /* 30 and 40 tie on PSS: the lower pid first */
    CHECK(v.rows[0]->pid == 20 && v.rows[1]->pid == 30 && v.rows[2]->pid == 40);
    CHECK_EQ_U64(v.total.pss, 98 * MIB);
    CHECK_EQ_U64(v.total.count, 6);
    CHECK_EQ_U64(v.total.estimated, 1);
    mw_top_view_free(&v);
    f.sort = MW_TOP_SORT_ADJ; /* a killer's order; unreadable adj last */
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK(v.rows[0]->pid == 30 && v.rows[1]->pid == 20 && v.rows[2]->pid == 40 &&
          v.rows[4]->pid == 10 && v.rows[5]->pid == 60);
    mw_top_view_free(&v);
    f.sort = MW_TOP_SORT_SWAP;
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK(v.rows[0]->pid == 30);
    mw_top_view_free(&v);
    f.sort = MW_TOP_SORT_PID;
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK(v.rows[0]->pid == 10 && v.rows[5]->pid == 60);
    mw_top_view_free(&v);
    enum mw_top_sort s;
    CHECK_EQ_INT(mw_top_sort_parse("uss", &s), 0);
    CHECK_EQ_INT(s, MW_TOP_SORT_USS);
    CHECK_EQ_INT(mw_top_sort_parse("vsz", &s), -EINVAL);
}

static void test_filters(void)
{
    struct mw_top_view v = {0};
    struct mw_top_filter f = {.have_uid = true, .uid = 33};
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.n, 2);
    CHECK_EQ_U64(v.total.pss, 21 * MIB);
    mw_top_view_free(&v);
    /* a cgroup prefix is whole components: /user.slice is not /user.slicex */
    f = (struct mw_top_filter){.cgroup_prefix = "/user.slice/"};
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.n, 2);
    mw_top_view_free(&v);
    f.cgroup_prefix = "/";
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.n, 6);
    mw_top_view_free(&v);
    CHECK(mw_top_cgroup_under("/a/b", "/a/b"));
    CHECK(mw_top_cgroup_under("/a/b/c", "/a/b"));
    CHECK(!mw_top_cgroup_under("/a/bc", "/a/b"));
    CHECK(!mw_top_cgroup_under("", "/"));
    regex_t re;
    CHECK_EQ_INT(regcomp(&re, "indexer( |$)", REG_EXTENDED | REG_NOSUB), 0);
    f = (struct mw_top_filter){.match = &re, .exclude_pid = 30};
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK(v.n == 1 && v.rows[0]->pid == 20);
    mw_top_view_free(&v);
    regfree(&re);
}

static void test_groups(void)
{
    struct mw_top_view v = {0};
    struct mw_top_filter f = {.by = MW_TOP_BY_PROGRAM};
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.ngroups, 4);
    if (v.ngroups == 4) {
        CHECK_STR(v.groups[0].name, "indexer"); /* 70 MiB over two processes */
        CHECK_EQ_U64(v.groups[0].sum.pss, 70 * MIB);
        CHECK_EQ_U64(v.groups[0].sum.count, 2);
        CHECK_STR(v.groups[1].name, "nginx"); /* "nginx: worker" -> nginx */
        CHECK_EQ_U64(v.groups[1].sum.rss, 82 * MIB);
        CHECK_EQ_U64(v.groups[1].estimated, 1);
    }
    mw_top_view_free(&v);
    f.by = MW_TOP_BY_CGROUP;
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    CHECK_EQ_U64(v.ngroups, 5);
    mw_top_view_free(&v);
    f.by = MW_TOP_BY_CLASS;
    CHECK_EQ_INT(mw_top_view_build(&v, &table, &f), 0);
    /* cached (900, 950), foreground, native, then "?" */
    CHECK_EQ_U64(v.ngroups, 4);
    if (v.ngroups == 4) {
        CHECK_STR(v.groups[0].name, "cached");
        CHECK_EQ_INT(v.groups[0].adj_min, 900);
        CHECK_EQ_INT(v.groups[0].adj_max, 950);
        CHECK_EQ_U64(v.groups[0].cum_pss, 70 * MIB);
        CHECK_STR(v.groups[1].name, "foreground");
        CHECK_EQ_U64(v.groups[1].cum_pss, 91 * MIB);
        CHECK_EQ_U64(v.groups[1].cum_uss, 81 * MIB);
        CHECK_STR(v.groups[2].name, "native");
        CHECK_EQ_U64(v.groups[2].cum_pss, 96 * MIB);
        CHECK_STR(v.groups[3].name, "?");
        CHECK(!v.groups[3].have_adj);
    }
    mw_top_view_free(&v);
}

static void test_empty(void)
{
    struct mw_proctable empty = {0};
    struct mw_top_view v = {0};
    struct mw_top_filter f = {.by = MW_TOP_BY_CLASS};
    CHECK_EQ_INT(mw_top_view_build(&v, &empty, &f), 0);
    CHECK_EQ_U64(v.n, 0);
    CHECK_EQ_U64(v.ngroups, 0);
    CHECK_EQ_U64(v.total.pss, 0);
    mw_top_view_free(&v);
}

int main(void)
{
    RUN(test_sort);
    RUN(test_filters);
    RUN(test_groups);
    RUN(test_empty);
    return TESTS_DONE();
}
