/* proctable: records from the hostile fixture tree, and from the live
 * system (this process, a zombie child, a child that is gone). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness.h"
#include "model/proctable.h"

static const struct mw_proc *find(const struct mw_proctable *t, int pid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->procs[i].pid == pid)
            return &t->procs[i];
    return NULL;
}

static int scan_fixture(struct mw_proctable *t, unsigned what)
{
    struct mw_root r;
    if (mw_root_open(&r, MW_FIXTURES "/procs-hostile") < 0)
        return -1;
    int rc = mw_proctable_open(t, &r, what);
    if (rc == 0)
        rc = mw_proctable_scan(t);
    mw_root_close(&r);
    return rc;
}

static void test_fixture_default(void)
{
    struct mw_proctable t;
    /* 10 processes: no kernel threads (2, 104), no zombie (105), not the
     * one that vanished (108) nor the garbage stat (109). */
    CHECK_EQ_INT(scan_fixture(&t, MW_PT_ALL_FIELDS), 10);
    CHECK(!find(&t, 2) && !find(&t, 104) && !find(&t, 105));
    CHECK(!find(&t, 108) && !find(&t, 109));
    const struct mw_proc *p = find(&t, 103);
    CHECK(p != NULL);
    if (p) { /* a name faking ") Z " is still a sleeping process */
        CHECK_STR(p->comm, "x) Z 1 1 1 (y");
        CHECK_EQ_INT(p->state, 'S');
        CHECK(!(p->flags & MW_PROC_ZOMBIE));
        CHECK_EQ_INT(p->oom_score_adj, -800);
        CHECK_EQ_U64(p->pss_bytes, 12288 * 1024ull);
    }
    p = find(&t, 102);
    if (p) {
        CHECK_STR(p->comm, "evil\nname");
        CHECK_STR(p->cmdline, "evil\nname --x");
        CHECK_EQ_INT(p->uid, 4242);
    }
    p = find(&t, 100);
    if (p) {
        CHECK_STR(p->cmdline, "/opt/my prog/bin/my prog --name two words");
        CHECK_EQ_U64(p->pss_bytes, 20480 * 1024ull);
        CHECK_EQ_U64(p->uss_bytes, (4096 + 14336) * 1024ull);
        CHECK_EQ_U64(p->rss_bytes, 24576 * 1024ull);
        CHECK_STR(p->cgroup, "/system.slice/app.service"); /* v1 memory line */
        CHECK_EQ_INT(p->uid, 1000);
        CHECK_EQ_INT(p->flags, 0);
    }
    p = find(&t, 101);
    if (p) {
        CHECK_STR(p->comm, "a)b");
        CHECK_STR(p->cgroup, "/system.slice/nginx.service"); /* v2 only */
        CHECK_EQ_U64(p->swap_bytes, 1024 * 1024ull);         /* SwapPss, not Swap */
        CHECK_EQ_INT(p->oom_score, 1266);
    }
    p = find(&t, 106); /* no smaps_rollup: smaps summed (a real bash capture) */
    if (p) {
        CHECK_EQ_INT(p->flags, MW_PROC_MEM_SMAPS);
        CHECK_EQ_U64(p->pss_bytes, 496 * 1024ull);
        CHECK_STR(p->cgroup, "/");
    }
    p = find(&t, 107); /* statm only: estimates, page size from VmRSS */
    if (p) {
        CHECK((p->flags & MW_PROC_MEM_EST) && (p->flags & MW_PROC_SWAP_EST));
        CHECK_EQ_U64(p->rss_bytes, 2000 * 4096ull);
        CHECK_EQ_U64(p->pss_bytes, 2000 * 4096ull);
        CHECK_EQ_U64(p->uss_bytes, 1500 * 4096ull);
        CHECK_EQ_U64(p->swap_bytes, 256 * 1024ull);
    }
    p = find(&t, 110); /* no oom_score_adj, no cgroup file, no SwapPss */
    if (p) {
        CHECK(p->flags & MW_PROC_NO_ADJ);
        CHECK(p->flags & MW_PROC_NO_CGROUP);
        CHECK(p->flags & MW_PROC_SWAP_EST);
        CHECK(!(p->flags & MW_PROC_MEM_EST));
        CHECK_EQ_U64(p->swap_bytes, 4096 * 1024ull);
    }
    p = find(&t, 10131); /* a real capture: python holding 8 MiB */
    if (p) {
        CHECK(p->pss_bytes > 8u << 20);
        CHECK_EQ_INT(p->flags, 0);
    }
    mw_proctable_close(&t);
}

static void test_fixture_all(void)
{
    struct mw_proctable t;
    CHECK_EQ_INT(scan_fixture(&t, MW_PT_ALL_FIELDS | MW_PT_KTHREADS | MW_PT_ZOMBIES), 13);
    const struct mw_proc *p = find(&t, 2); /* real kthreadd */
    if (p) {
        CHECK(p->flags & MW_PROC_KTHREAD);
        CHECK_STR(p->cmdline, "[kthreadd]");
        CHECK_EQ_U64(p->rss_bytes, 0);
    }
    p = find(&t, 104);
    CHECK(p && (p->flags & MW_PROC_KTHREAD));
    p = find(&t, 105);
    if (p) {
        CHECK(p->flags & MW_PROC_ZOMBIE);
        CHECK_STR(p->cmdline, "[defunct-child]");
        CHECK_EQ_U64(p->pss_bytes, 0);
    }
    mw_proctable_close(&t);
}

static void test_fixture_fields(void)
{
    /* Only what is asked for is read. */
    struct mw_proctable t;
    CHECK_EQ_INT(scan_fixture(&t, MW_PT_ADJ), 10);
    const struct mw_proc *p = find(&t, 100);
    if (p) {
        CHECK_EQ_U64(p->pss_bytes, 0);
        CHECK_STR(p->cmdline, "");
        CHECK_EQ_INT(p->oom_score_adj, 200);
    }
    mw_proctable_close(&t);
}

static void test_program_name(void)
{
    struct mw_proc p = {.cmdline = "/usr/bin/python3 /usr/bin/smem -t", .argv0_len = 16};
    char b[64];
    snprintf(p.comm, sizeof(p.comm), "python3");
    CHECK_STR(mw_proc_program(&p, b, sizeof(b)), "python3");
    p.cmdline = "line_io_tools/binary_backend --uid 0";
    p.argv0_len = 28;
    snprintf(p.comm, sizeof(p.comm), "memfd:sealed-91");
    CHECK_STR(mw_proc_program(&p, b, sizeof(b)), "binary_backend");
    p.cmdline = "sshd: root@pts/0";
    p.argv0_len = 16;
    CHECK_STR(mw_proc_program(&p, b, sizeof(b)), "sshd");
    p.cmdline = "/opt/my prog/bin/my prog --name two words";
    p.argv0_len = 24;
    CHECK_STR(mw_proc_program(&p, b, sizeof(b)), "my prog");
    p.cmdline = "[kworker/0:1]";
    p.argv0_len = 0;
    snprintf(p.comm, sizeof(p.comm), "kworker/0:1");
    CHECK_STR(mw_proc_program(&p, b, sizeof(b)), "kworker/0:1");
}

/* A long command line is cut at MW_PT_CMDLINE_MAX and flagged. */
static void test_cmdline_cut(void)
{
    char dir[] = "/tmp/mw-pt-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("cannot make a temporary directory");
    char path[256];
    snprintf(path, sizeof(path), "%s/proc", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/proc/42", dir);
    mkdir(path, 0755);
    static const char stat[] = "42 (long) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 2 3\n";
    snprintf(path, sizeof(path), "%s/proc/42/stat", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(stat, f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/proc/42/cmdline", dir);
    f = fopen(path, "w");
    if (f) {
        for (int i = 0; i < MW_PT_CMDLINE_MAX + 100; i++)
            fputc(i % 10 == 9 ? '\0' : 'a', f);
        fclose(f);
    }
    struct mw_root r;
    struct mw_proctable t;
    CHECK_EQ_INT(mw_root_open(&r, dir), 0);
    CHECK_EQ_INT(mw_proctable_open(&t, &r, MW_PT_ALL_FIELDS), 0);
    CHECK_EQ_INT(mw_proctable_scan(&t), 1);
    if (t.n == 1) {
        CHECK(t.procs[0].flags & MW_PROC_CMDLINE_CUT);
        CHECK(t.procs[0].flags & MW_PROC_NO_UID); /* no status file */
        CHECK(t.procs[0].flags & MW_PROC_NO_MEM);
        CHECK_EQ_U64(strlen(t.procs[0].cmdline), MW_PT_CMDLINE_MAX);
    }
    mw_proctable_close(&t);
    mw_root_close(&r);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_live_self_zombie_gone(void)
{
    struct mw_root r;
    struct mw_proctable t;
    if (mw_root_open(&r, "/") < 0 || access("/proc/self/smaps_rollup", R_OK) != 0)
        SKIP("no /proc/self/smaps_rollup");
    CHECK_EQ_INT(mw_proctable_open(&t, &r, MW_PT_ALL_FIELDS), 0);
    CHECK_EQ_INT(mw_proctable_add(&t, (int)getpid()), 1);
    if (t.n == 1) {
        const struct mw_proc *p = &t.procs[0];
        CHECK(p->pss_bytes > 0 && p->pss_bytes <= p->rss_bytes);
        CHECK(p->uss_bytes <= p->pss_bytes);
        CHECK_CONTAINS(p->cmdline, "test_proctable");
        CHECK(!(p->flags & (MW_PROC_MEM_EST | MW_PROC_NO_MEM | MW_PROC_NO_ADJ)));
        CHECK_EQ_INT(p->uid, geteuid());
    }
    /* A zombie: left out by default, flagged when asked for. */
    pid_t z = fork();
    if (z == 0)
        _exit(0);
    usleep(100000);
    CHECK_EQ_INT(mw_proctable_add(&t, z), 0);
    mw_proctable_close(&t);
    CHECK_EQ_INT(mw_proctable_open(&t, &r, MW_PT_ALL_FIELDS | MW_PT_ZOMBIES), 0);
    CHECK_EQ_INT(mw_proctable_add(&t, z), 1);
    CHECK(t.n == 1 && (t.procs[0].flags & MW_PROC_ZOMBIE));
    /* Reaped: gone, left out without an error. */
    waitpid(z, NULL, 0);
    CHECK_EQ_INT(mw_proctable_add(&t, z), 0);
    mw_proctable_close(&t);
    mw_root_close(&r);
}

/* The cgroup index of a live scan names the same cgroups as reading
 * /proc/PID/cgroup process by process. */
static void test_live_cgroup_index(void)
{
    struct mw_root r;
    struct mw_proctable a, b;
    if (mw_root_open(&r, "/") < 0)
        SKIP("no root");
    CHECK_EQ_INT(mw_proctable_open(&a, &r, MW_PT_CGROUP), 0);
    CHECK(mw_proctable_scan(&a) > 0);
    if (a.cgidx_n == 0) {
        mw_proctable_close(&a);
        mw_root_close(&r);
        SKIP("no cgroup index on this machine (no memory hierarchy mounted at its root)");
    }
    CHECK_EQ_INT(mw_proctable_open(&b, &r, MW_PT_CGROUP), 0);
    size_t same = 0, compared = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (mw_proctable_add(&b, a.procs[i].pid) != 1)
            continue; /* exited meanwhile */
        compared++;
        if (strcmp(a.procs[i].cgroup, b.procs[b.n - 1].cgroup) == 0)
            same++;
        else
            fprintf(stderr, "  pid %d: index %s, file %s\n", a.procs[i].pid, a.procs[i].cgroup,
                    b.procs[b.n - 1].cgroup);
    }
    CHECK(compared > 0);
    CHECK_EQ_U64(same, compared);
    /* Every process is in one memory cgroup: the walk saw (nearly) all. */
    CHECK(a.cgidx_n + 5 >= a.n);
    CHECK_EQ_U64(b.cgidx_n, 0); /* single adds never use the index */
    mw_proctable_close(&a);
    mw_proctable_close(&b);
    mw_root_close(&r);
}

/* The smaps fallback reads a multi-page seq_file to its end: a scratch root
 * whose proc/PID/smaps links to this process's live smaps (over 4 KiB) and
 * has no smaps_rollup gives the same PSS as the live smaps_rollup. */
static void test_live_smaps_fallback(void)
{
    char dir[] = "/tmp/mw-smaps-XXXXXX", path[256], target[64];
    if (access("/proc/self/smaps_rollup", R_OK) != 0 || !mkdtemp(dir))
        SKIP("no smaps_rollup to compare with, or no temporary directory");
    int pid = (int)getpid();
    snprintf(path, sizeof(path), "%s/proc", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/proc/%d", dir, pid);
    mkdir(path, 0755);
    const char *links[] = {"stat", "smaps"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(links); i++) {
        snprintf(path, sizeof(path), "%s/proc/%d/%s", dir, pid, links[i]);
        snprintf(target, sizeof(target), "/proc/%d/%s", pid, links[i]);
        CHECK_EQ_INT(symlink(target, path), 0);
    }
    struct mw_root scratch, live;
    struct mw_proctable a, b;
    CHECK_EQ_INT(mw_root_open(&scratch, dir), 0);
    CHECK_EQ_INT(mw_root_open(&live, "/"), 0);
    CHECK_EQ_INT(mw_proctable_open(&a, &scratch, MW_PT_MEM), 0);
    CHECK_EQ_INT(mw_proctable_open(&b, &live, MW_PT_MEM), 0);
    CHECK_EQ_INT(mw_proctable_add(&a, pid), 1);
    CHECK_EQ_INT(mw_proctable_add(&b, pid), 1);
    if (a.n == 1 && b.n == 1) {
        CHECK_EQ_INT(a.procs[0].flags & ~(unsigned)MW_PROC_NO_UID, MW_PROC_MEM_SMAPS);
        CHECK_CLOSE(a.procs[0].pss_bytes, b.procs[0].pss_bytes, 5);
        CHECK_CLOSE(a.procs[0].rss_bytes, b.procs[0].rss_bytes, 5);
    }
    mw_proctable_close(&a);
    mw_proctable_close(&b);
    mw_root_close(&scratch);
    mw_root_close(&live);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_fixture_default);
    RUN(test_fixture_all);
    RUN(test_fixture_fields);
    RUN(test_program_name);
    RUN(test_cmdline_cut);
    RUN(test_live_self_zombie_gone);
    RUN(test_live_cgroup_index);
    RUN(test_live_smaps_fallback);
    return TESTS_DONE();
}
