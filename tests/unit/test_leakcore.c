#include "cli/cli.h"
#include "harness.h"
#include "analysis/leakcore.h"
#include "model/targets.h"

#include <errno.h>

static void test_rates(void)
{
    double r;
    CHECK_EQ_INT(mw_parse_rate("100M", &r), 0);
    CHECK_CLOSE(r, 100.0 * 1048576, 0.001);
    CHECK_EQ_INT(mw_parse_rate("100M/h", &r), 0);
    CHECK_CLOSE(r, 100.0 * 1048576, 0.001);
    CHECK_EQ_INT(mw_parse_rate("2M/m", &r), 0);
    CHECK_CLOSE(r, 120.0 * 1048576, 0.001);
    CHECK_EQ_INT(mw_parse_rate("5M/s", &r), 0);
    CHECK_CLOSE(r, 5.0 * 3600 * 1048576, 0.001);
    CHECK_EQ_INT(mw_parse_rate("5M/fortnight", &r), -EINVAL);
    CHECK_EQ_INT(mw_parse_rate("/h", &r), -EINVAL);
    CHECK_EQ_INT(mw_parse_rate("fast", &r), -EINVAL);
}

static void test_process_series_where(void)
{
    struct mw_series s;
    memset(&s, 0, sizeof(s));
    s.pid = 42;
    snprintf(s.comm, sizeof(s.comm), "app");
    s.series_name = "rss";
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(mw_series_push(&s, i * 0.2, 10e6 + i * 2e6), 0);
    struct mw_root a, b;
    CHECK_EQ_INT(mw_root_open(&a, MW_FIXTURES "/smaps-a"), 0);
    CHECK_EQ_INT(mw_root_open(&b, MW_FIXTURES "/smaps-b"), 0);
    CHECK_EQ_INT(mw_regions_read(&a, 42, &s.reg_first), 0);
    CHECK_EQ_INT(mw_regions_read(&b, 42, &s.reg_last), 0);
    s.have_regions = true;
    s.headroom_bytes = 1ull << 30;
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, NULL), 0);
    CHECK_EQ_INT(s.trend.verdict, MW_TREND_LEAK);
    char w[256];
    mw_where_summary(&s, w, sizeof(w));
    CHECK_STR(w, "all of it in [heap]"); /* 94 % of the growth */
    CHECK(s.nwhere >= 3 && strcmp(s.where[0].kind, "heap") == 0);
    /* 1 GiB at 10 MB/s */
    CHECK_CLOSE(s.tte_s, 1073741824.0 / 10e6, 1);
    mw_series_free(&s);
    mw_root_close(&a);
    mw_root_close(&b);
}

/* The verdict line names the process: its comm is anyone's bytes and must
 * not reach a terminal raw (issue 17). */
static void test_series_print_cleans_comm(void)
{
    struct mw_series s;
    memset(&s, 0, sizeof(s));
    s.pid = 42;
    snprintf(s.comm, sizeof(s.comm), "app\033]0;owned\a\xff");
    s.series_name = "rss";
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(mw_series_push(&s, i * 0.2, 10e6 + i * 2e6), 0);
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, NULL), 0);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    mw_series_print(f, &s);
    fclose(f);
    CHECK(strstr(out, "PID 42 app") != NULL);
    CHECK(memchr(out, '\033', n) == NULL);
    CHECK(memchr(out, '\a', n) == NULL);
    CHECK(memchr(out, '\xff', n) == NULL);
    free(out);
    mw_series_free(&s);
}

static void test_system_series_where(void)
{
    struct mw_series s;
    memset(&s, 0, sizeof(s));
    s.system = true;
    s.series_name = "used";
    double slab_v[10];
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(mw_series_push(&s, i * 60.0, 1e9), 0);
        slab_v[i] = 100e6 + i * 10e6; /* 600 MB/h of slab */
    }
    s.first.sreclaimable = 50u << 20;
    s.last.sreclaimable = 140u << 20;
    struct mw_slab_cache ca[1] = {{.name = "dentry", .size_bytes = 10u << 20}};
    struct mw_slab_cache cb[1] = {{.name = "dentry", .size_bytes = 100u << 20}};
    s.slab_first.c = malloc(sizeof(ca));
    s.slab_last.c = malloc(sizeof(cb));
    memcpy(s.slab_first.c, ca, sizeof(ca));
    memcpy(s.slab_last.c, cb, sizeof(cb));
    s.slab_first.n = s.slab_last.n = 1;
    s.have_slab = true;
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, slab_v), 0);
    CHECK_STR(s.series_name, "slab"); /* the worse of used and slab */
    CHECK_EQ_INT(s.trend.verdict, MW_TREND_LEAK);
    char w[256];
    mw_where_summary(&s, w, sizeof(w));
    CHECK_STR(w, "all of it in slab dentry"); /* meminfo lines do not compete */
    mw_series_free(&s);
}

static void meminfo_kb(struct mw_meminfo *mi, uint64_t anon_kb, uint64_t sunreclaim_kb)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "MemTotal: 8000000 kB\nMemFree: %llu kB\nMemAvailable: 6000000 kB\n"
             "Buffers: 10000 kB\nCached: 900000 kB\nAnonPages: %llu kB\nShmem: 50000 kB\n"
             "SReclaimable: 100000 kB\nSUnreclaim: %llu kB\nKernelStack: 8000 kB\n"
             "PageTables: 12000 kB\nPercpu: 2000 kB\nHugetlb: 0 kB\n",
             (unsigned long long)(8000000 - 1300000 - anon_kb - sunreclaim_kb),
             (unsigned long long)anon_kb, (unsigned long long)sunreclaim_kb);
    CHECK_EQ_INT(mw_meminfo_parse_buf(mi, buf, NULL), 0);
}

/* Issue 16: one process leaks ~400 MiB while task_struct grows 96 KiB;
 * the system's summary is over all of used memory and names the process,
 * not "most of it in slab task_struct (53 %)". */
static void test_system_user_growth_named(void)
{
    struct mw_series s;
    memset(&s, 0, sizeof(s));
    s.system = true;
    s.series_name = "used";
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(mw_series_push(&s, i * 2.0, 1e9 + i * 44e6), 0);
    struct mw_meminfo a, b;
    meminfo_kb(&a, 500000, 40000);
    meminfo_kb(&b, 500000 + 409600, 40096);
    mw_memparts_from_meminfo(&a, 0, &s.parts_first);
    mw_memparts_from_meminfo(&b, 0, &s.parts_last);
    s.have_parts = true;
    /* the parts add up to MemTotal - MemFree */
    int64_t sum = 0;
    for (size_t p = 0; p < MW_PART_COUNT; p++)
        sum += s.parts_last.bytes[p];
    CHECK_EQ_INT(sum, (int64_t)(1300000 + 500000 + 409600 + 40096) * 1024);
    CHECK_EQ_INT(s.parts_last.bytes[MW_PART_FILE], (10000 + 900000 - 50000) * 1024);
    /* the kernel's view: task_struct +96 KiB, SUnreclaim +96 KiB */
    s.first.sunreclaim = 40000u * 1024;
    s.last.sunreclaim = 40096u * 1024;
    struct mw_slab_cache ca[2] = {{.name = "task_struct", .size_bytes = 1u << 20},
                                  {.name = "kmalloc-64", .size_bytes = 1u << 20}};
    struct mw_slab_cache cb[2] = {{.name = "task_struct", .size_bytes = (1u << 20) + 98304},
                                  {.name = "kmalloc-64", .size_bytes = (1u << 20) + 86016}};
    s.slab_first.c = malloc(sizeof(ca));
    s.slab_last.c = malloc(sizeof(cb));
    memcpy(s.slab_first.c, ca, sizeof(ca));
    memcpy(s.slab_last.c, cb, sizeof(cb));
    s.slab_first.n = s.slab_last.n = 2;
    s.have_slab = true;
    struct mw_procmem p1 = {.pid = 4242, .comm = "leaker", .rss_bytes = 10u << 20};
    struct mw_procmem p2 = {.pid = 7, .comm = "sshd", .rss_bytes = 5u << 20};
    struct mw_procmem p3 = {.pid = 99, .comm = "old", .rss_bytes = 3u << 20};
    CHECK_EQ_INT(mw_procmem_add(&s.procs_first, &p1), 0);
    CHECK_EQ_INT(mw_procmem_add(&s.procs_first, &p2), 0);
    CHECK_EQ_INT(mw_procmem_add(&s.procs_first, &p3), 0);
    p1.rss_bytes += 398u << 20;
    p2.rss_bytes += 1u << 20;
    struct mw_procmem p4 = {
        .pid = 99, .comm = "new\033[2J", .rss_bytes = 2u << 20}; /* PID reused */
    CHECK_EQ_INT(mw_procmem_add(&s.procs_last, &p1), 0);
    CHECK_EQ_INT(mw_procmem_add(&s.procs_last, &p2), 0);
    CHECK_EQ_INT(mw_procmem_add(&s.procs_last, &p4), 0);
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, NULL), 0);
    char w[256];
    mw_where_summary(&s, w, sizeof(w));
    CHECK_STR(w, "all of it in anon: PID 4242 leaker +398 MiB, PID 99 new?[2J +2.0 MiB, "
                 "PID 7 sshd +1.0 MiB");
    CHECK_EQ_U64(s.ngrowers, 3);
    mw_series_free(&s);
}

/* Growth in the page table and kernel parts is named as such, no process. */
static void test_system_kernel_part_named(void)
{
    struct mw_series s;
    memset(&s, 0, sizeof(s));
    s.system = true;
    s.series_name = "used";
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(mw_series_push(&s, i * 2.0, 1e9), 0);
    struct mw_sample a, b;
    memset(&a, 0, sizeof(a));
    a.mem_used = 1000u << 20;
    a.page_tables = 10u << 20;
    b = a;
    b.mem_used += 100u << 20;
    b.page_tables += 70u << 20;
    mw_memparts_from_sample(&a, &s.parts_first);
    mw_memparts_from_sample(&b, &s.parts_last);
    s.have_parts = true;
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    CHECK_EQ_INT(mw_series_analyze(&s, &p, NULL), 0);
    char w[256];
    mw_where_summary(&s, w, sizeof(w));
    CHECK_STR(w, "most of it in page tables (70%)");
    mw_series_free(&s);
}

static void test_targets_and_headroom(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/diff-b"), 0);
    int *pids;
    size_t n;
    int given[] = {4242};
    CHECK_EQ_INT(mw_targets_resolve(&r, given, 1, "nginx|python", &pids, &n), 0);
    CHECK_EQ_U64(n, 3); /* 4242 as given, nginx by name, visioncore by its command line */
    free(pids);
    CHECK_EQ_INT(mw_targets_resolve(&r, NULL, 0, "(", &pids, &n), -EINVAL);
    char cmd[64];
    CHECK(mw_targets_cmdline(&r, 600, cmd, sizeof(cmd)) > 0);
    CHECK_STR(cmd, "/opt/new-agent --daemon");
    const char *src;
    CHECK_EQ_U64(mw_process_headroom(&r, 100, 5000, 10000, &src), 5000);
    CHECK_STR(src, "MemAvailable");
    mw_root_close(&r);
}

int main(void)
{
    RUN(test_rates);
    RUN(test_process_series_where);
    RUN(test_series_print_cleans_comm);
    RUN(test_system_series_where);
    RUN(test_system_user_growth_named);
    RUN(test_system_kernel_part_named);
    RUN(test_targets_and_headroom);
    return TESTS_DONE();
}
