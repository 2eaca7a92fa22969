#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A host of 23.5 GiB RAM (24684084 kB, the cgroup-v2 fixture's) with SWAP_KB
 * of swap, SWAP_FREE_KB of it free. */
static void host_of(struct mw_meminfo *mi, uint64_t swap_kb, uint64_t swap_free_kb)
{
    memset(mi, 0, sizeof(*mi));
    mi->kb[MI_MEM_TOTAL] = 24684084;
    mi->kb[MI_SWAP_TOTAL] = swap_kb;
    mi->kb[MI_SWAP_FREE] = swap_free_kb;
}

/* A cgroup using 1 GiB, 200 MiB of it clean file cache. */
static void cg_of(struct mw_cgroup_mem *cg, int version, uint64_t limit)
{
    memset(cg, 0, sizeof(*cg));
    cg->version = version;
    cg->usage = 1ull << 30;
    cg->limit = limit;
    cg->high = cg->swap_limit = MW_CG_UNLIMITED;
    cg->stat.inactive_file = cg->stat.file = 200ull << 20;
    cg->have_stat = true;
}

static void test_machine_limit_above_ram(void)
{
    struct mw_meminfo host;
    struct mw_cgroup_mem cg;
    struct mw_cg_machine m;
    host_of(&host, 0, 0);
    cg_of(&cg, 2, 64ull << 30); /* memory.max 64 GiB on a 23.5 GiB host */
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.total, 24684084ull * 1024);
    CHECK_EQ_U64(m.headroom, 24684084ull * 1024 - (1ull << 30));
    CHECK_EQ_U64(m.reclaimable, 200ull << 20);
    CHECK_EQ_U64(m.available, m.headroom + (200ull << 20));
    CHECK_EQ_U64(m.used, (1ull << 30) - (200ull << 20));
    CHECK_EQ_U64(m.swap_total, 0);
    /* a limit below RAM is the total */
    cg_of(&cg, 2, 2ull << 30);
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.total, 2ull << 30);
    CHECK_EQ_U64(m.headroom, 1ull << 30);
    /* usage above the limit (v1 allows it briefly): no headroom, no wrap */
    cg.usage = 3ull << 30;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.headroom, 0);
    CHECK_EQ_U64(m.available, 200ull << 20);
}

static void test_machine_limit_max(void)
{
    struct mw_meminfo host;
    struct mw_cgroup_mem cg;
    struct mw_cg_machine m;
    host_of(&host, 4194304, 4194304);
    cg_of(&cg, 2, MW_CG_UNLIMITED); /* memory.max "max" */
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.total, 24684084ull * 1024);
    CHECK_EQ_U64(m.swap_total, 4194304ull * 1024); /* no swap limit: the host's */
    /* v1's "none": PAGE_COUNTER_MAX pages */
    cg_of(&cg, 1, 9223372036854771712ull);
    mw_cg_v1_memsw(&cg, 9223372036854771712ull, cg.usage);
    CHECK_EQ_U64(cg.limit, MW_CG_UNLIMITED);
    CHECK_EQ_U64(cg.swap_limit, MW_CG_UNLIMITED);
    CHECK_EQ_U64(cg.swap_usage, 0);
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.total, 24684084ull * 1024);
}

static void test_machine_swap_limit_v1(void)
{
    struct mw_meminfo host;
    struct mw_cgroup_mem cg;
    struct mw_cg_machine m;
    host_of(&host, 4194304, 4194304); /* 4 GiB swap, all free */
    cg_of(&cg, 1, 2ull << 30);
    /* memsw.limit 2.5 GiB = 512 MiB of swap; memsw.usage = usage + 100 MiB */
    mw_cg_v1_memsw(&cg, (2ull << 30) + (512ull << 20), (1ull << 30) + (100ull << 20));
    CHECK_EQ_U64(cg.swap_limit, 512ull << 20);
    CHECK_EQ_U64(cg.swap_usage, 100ull << 20);
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_total, 512ull << 20);
    CHECK_EQ_U64(m.swap_used, 100ull << 20);
    CHECK_EQ_U64(m.swap_free, 412ull << 20);
    /* memory.stat's total_swap counts the same pages; memsw unreadable */
    cg_of(&cg, 1, 2ull << 30);
    mw_cg_v1_memsw(&cg, MW_CG_UNLIMITED, 0);
    CHECK_EQ_U64(cg.swap_limit, MW_CG_UNLIMITED);
    cg.stat.swap = 300ull << 20;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_total, 4ull << 30);
    CHECK_EQ_U64(m.swap_used, 300ull << 20);
    /* memsw below the memory limit (a broken setting): no swap limit read */
    cg_of(&cg, 1, 2ull << 30);
    mw_cg_v1_memsw(&cg, 1ull << 30, 0);
    CHECK_EQ_U64(cg.swap_limit, MW_CG_UNLIMITED);
}

static void test_machine_swap_limit_v2(void)
{
    struct mw_meminfo host;
    struct mw_cgroup_mem cg;
    struct mw_cg_machine m;
    host_of(&host, 8388604, 6291452);
    cg_of(&cg, 2, 2ull << 30);
    cg.swap_limit = 2ull << 30; /* memory.swap.max */
    cg.swap_usage = 512ull << 20;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_total, 2ull << 30);
    CHECK_EQ_U64(m.swap_used, 512ull << 20);
    CHECK_EQ_U64(m.swap_free, 1536ull << 20);
    /* the host's free swap is the tighter bound */
    host.kb[MI_SWAP_FREE] = 1024;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_free, 1024 * 1024);
    /* a swap limit above the host's swap: the host's */
    cg.swap_limit = 64ull << 30;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_total, 8388604ull * 1024);
    /* memory.swap.max 0: no swap at all */
    cg.swap_limit = 0;
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.swap_total, 0);
    CHECK_EQ_U64(m.swap_free, 0);
    /* the files as read: the cgroup-v2-above-ram capture */
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/cgroup-v2-above-ram"), 0);
    CHECK_EQ_INT(mw_cgroup_mem_read(&r, "/sys/fs/cgroup/system.slice/app.service", &cg), 0);
    CHECK_EQ_INT(mw_meminfo_read(&r, &host, NULL), 0);
    mw_root_close(&r);
    CHECK_EQ_U64(cg.limit, 64ull << 30);
    mw_cgroup_machine(&cg, &host, &m);
    CHECK_EQ_U64(m.total, 24684084ull * 1024);
    CHECK_EQ_U64(m.swap_total, 2ull << 30);
    CHECK_EQ_U64(m.swap_used, 512ull << 20);
    CHECK_EQ_U64(m.swap_free, 1536ull << 20);
}

/* memory.events / oom_control: one "name value" a line; a value on the
 * next line or junk after it is malformed (sscanf on the whole buffer let
 * "high\n2" through, issue 17). */
static void test_events_parse(void)
{
    struct mw_cgroup_mem m = {0};
    CHECK_EQ_INT(mw_cg_events_parse_buf(&m, "low 0\nhigh 5\nmax 7\noom 2\noom_kill 1\n"), 0);
    CHECK_EQ_U64(m.ev_high, 5);
    CHECK_EQ_U64(m.ev_oom_kill, 1);
    CHECK_EQ_INT(mw_cg_events_parse_buf(&m, "oom_kill_disable 0\nunder_oom 1\noom_kill 3"), 0);
    CHECK(m.under_oom);
    CHECK_EQ_U64(m.ev_oom_kill, 3);
    CHECK_EQ_INT(mw_cg_events_parse_buf(&m, "low 0\nhigh\n2\n"), -EINVAL);
    CHECK_EQ_INT(mw_cg_events_parse_buf(&m, "low 0 junk\n"), -EINVAL);
    CHECK_EQ_INT(mw_cg_events_parse_buf(&m, "low -1\n"), -EINVAL);
}

/* Writes TEXT to DIR/NAME (a fresh file each time). */
static void put(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Removes the N files NAMES in DIR. */
static void rm_in(const char *dir, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
}

/* The open-once source: the files are opened once and every read sees
 * what they hold now (the daemon re-reads them every sample); v2's
 * memory.high is read (the daemon's own table skipped it); the peaks;
 * what is not a memory cgroup, and a FIFO where a file should be. */
static void test_src_read_many(void)
{
    char dir[] = "/tmp/mw-test-cgsrc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, "/"), 0);
    struct mw_cgroup_src s;
    CHECK_EQ_INT(mw_cgroup_src_open(&s, &r, dir), -ENOENT); /* no memory files */
    put(dir, "memory.current", "1048576\n");
    put(dir, "memory.max", "max\n");
    put(dir, "memory.high", "8388608\n");
    put(dir, "memory.swap.current", "4096\n");
    put(dir, "memory.stat", "anon 524288\nfile 262144\n");
    put(dir, "memory.peak", "2097152\n");
    char fifo[300];
    snprintf(fifo, sizeof(fifo), "%s/memory.events", dir);
    CHECK_EQ_INT(mkfifo(fifo, 0600), 0); /* refused, never waited on */
    CHECK_EQ_INT(mw_cgroup_src_open(&s, &r, dir), 0);
    CHECK_EQ_INT(s.version, 2);
    struct mw_cgroup_mem m;
    CHECK_EQ_INT(mw_cgroup_src_read(&s, &m), 0);
    CHECK_EQ_U64(m.usage, 1048576);
    CHECK_EQ_U64(m.limit, MW_CG_UNLIMITED);
    CHECK_EQ_U64(m.high, 8388608);
    CHECK_EQ_U64(m.swap_limit, MW_CG_UNLIMITED); /* memory.swap.max missing */
    CHECK(m.have_stat && m.stat.anon == 524288);
    CHECK_EQ_U64(mw_cgroup_swap_used(&m), 4096);
    /* rewritten in place: the same descriptor reads the new value */
    int fd = open(fifo, O_RDONLY | O_NONBLOCK); /* keeps a reader: no SIGPIPE below */
    char cur[300];
    snprintf(cur, sizeof(cur), "%s/memory.current", dir);
    FILE *f = fopen(cur, "r+");
    CHECK(f != NULL);
    if (f) {
        fputs("3145728\n", f);
        fclose(f);
    }
    CHECK_EQ_INT(mw_cgroup_src_read(&s, &m), 0);
    CHECK_EQ_U64(m.usage, 3145728);
    uint64_t peak = 0, swap_peak = 7;
    CHECK_EQ_INT(mw_cgroup_src_peaks(&s, &peak, &swap_peak), 1);
    CHECK_EQ_U64(peak, 2097152);
    CHECK_EQ_U64(swap_peak, 7); /* no memory.swap.peak: untouched */
    /* usage unreadable: the read fails, OUT untouched */
    FILE *g = fopen(cur, "w");
    if (g) {
        fputs("garbage\n", g);
        fclose(g);
    }
    m.usage = 42;
    CHECK_EQ_INT(mw_cgroup_src_read(&s, &m), -EINVAL);
    CHECK_EQ_U64(m.usage, 42);
    mw_cgroup_src_close(&s);
    mw_cgroup_src_close(&s); /* twice: harmless */
    if (fd >= 0)
        close(fd);
    /* v1: memsw turned into swap, failcnt as "max" events */
    const char *v2_files[] = {"memory.current",      "memory.max",  "memory.high",
                              "memory.swap.current", "memory.stat", "memory.peak",
                              "memory.events"};
    rm_in(dir, v2_files, MW_ARRAY_SIZE(v2_files));
    put(dir, "memory.usage_in_bytes", "104857600\n");
    put(dir, "memory.limit_in_bytes", "268435456\n");
    put(dir, "memory.memsw.usage_in_bytes", "115343360\n");
    put(dir, "memory.memsw.limit_in_bytes", "536870912\n");
    put(dir, "memory.failcnt", "12\n");
    put(dir, "memory.memsw.failcnt", "64\n");
    put(dir, "memory.max_usage_in_bytes", "200000000\n");
    put(dir, "memory.stat", "rss 1\ntotal_rss 2\ntotal_swap 20971520\n");
    CHECK_EQ_INT(mw_cgroup_src_open(&s, &r, dir), 0);
    CHECK_EQ_INT(s.version, 1);
    CHECK_EQ_INT(mw_cgroup_src_read(&s, &m), 0);
    CHECK_EQ_U64(m.swap_limit, 268435456);
    CHECK_EQ_U64(m.swap_usage, 10485760);
    /* memsw is charged first: at swap 0 its limit refuses, memory.failcnt
     * stays low (issue 26: "failcnt 0 (limit hit)" beside 64 OOM kills) */
    CHECK_EQ_U64(m.failcnt, 12);
    CHECK_EQ_U64(m.memsw_failcnt, 64);
    CHECK_EQ_U64(m.ev_max, 76);
    CHECK(m.have_stat);
    /* memsw says 10 MiB of swap, memory.stat's total_swap 20: the larger */
    CHECK_EQ_U64(mw_cgroup_swap_used(&m), 20971520);
    CHECK_EQ_INT(mw_cgroup_src_peaks(&s, &peak, &swap_peak), 1);
    CHECK_EQ_U64(peak, 200000000);
    mw_cgroup_src_close(&s);
    const char *v1_files[] = {"memory.usage_in_bytes",
                              "memory.limit_in_bytes",
                              "memory.memsw.usage_in_bytes",
                              "memory.memsw.limit_in_bytes",
                              "memory.failcnt",
                              "memory.memsw.failcnt",
                              "memory.max_usage_in_bytes",
                              "memory.stat"};
    rm_in(dir, v1_files, MW_ARRAY_SIZE(v1_files));
    rmdir(dir);
    /* a path that is not there */
    CHECK_EQ_INT(mw_cgroup_src_open(&s, &r, "/nonexistent/mw-cgroup"), -ENOENT);
    mw_root_close(&r);
}

int main(void)
{
    RUN(test_src_read_many);
    RUN(test_events_parse);
    RUN(test_v1_capture);
    RUN(test_v2);
    RUN(test_stat_parse);
    RUN(test_proc_cgroup);
    RUN(test_machine_limit_above_ram);
    RUN(test_machine_limit_max);
    RUN(test_machine_swap_limit_v1);
    RUN(test_machine_swap_limit_v2);
    return TESTS_DONE();
}
