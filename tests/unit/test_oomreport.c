/* test_oomreport: the kernel-log line forms (proc/klog) and the OOM report
 * reader (analysis/oomreport) on the committed fixtures of each kernel,
 * field by field, and on near misses built here. */
#include "harness.h"

#include <fcntl.h>
#include <stdint.h>

#include "analysis/oomreport.h"
#include "base/util.h"
#include "proc/klog.h"

#define MAXEV 16

struct got {
    size_t n;
    struct mw_oom_event ev[MAXEV];
};

static void collect(const struct mw_oom_event *ev, void *ctx)
{
    struct got *g = ctx;
    if (g->n < MAXEV)
        g->ev[g->n] = *ev;
    g->n++;
}

static struct got g; /* events are ~3 KiB each: off the stack */

/* Parses the fixture oom/NAME into g; a missing fixture fails the test. */
static bool parse_fixture(const char *name)
{
    char path[512], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/oom/%s", MW_FIXTURES, name);
    memset(&g, 0, sizeof(g));
    int rc = mw_read_file_at(AT_FDCWD, path, 0, 0, &buf, &len);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        return false;
    mw_oom_parse_buf(buf, len, collect, &g);
    free(buf);
    return true;
}

static void parse_text(const char *text)
{
    memset(&g, 0, sizeof(g));
    mw_oom_parse_buf(text, strlen(text), collect, &g);
}

static void test_klog_forms(void)
{
    static const struct {
        const char *line, *msg, *host, *time;
        double boot_s;
        enum mw_klog_form form;
    } cases[] = {
        {"[ 1469.706932] hog invoked", "hog invoked", "", "", 1469.706932, MW_KLOG_DMESG},
        {"<4>[    5.246359] x", "x", "", "", 5.246359, MW_KLOG_DMESG},
        {"[Sun Dec  6 01:17:48 2026] x", "x", "", "Sun Dec  6 01:17:48 2026", -1, MW_KLOG_DMESG_T},
        {"kern  :warn  : [    1.500000] x", "x", "", "", 1.5, MW_KLOG_DMESG},
        {"4,577,2131061367,-;hog invoked", "hog invoked", "", "", 2131.061367, MW_KLOG_KMSG},
        {"Mar  3 04:12:01 web01 kernel: [812345.118012] x y", "x y", "web01", "Mar  3 04:12:01",
         812345.118012, MW_KLOG_SYSLOG},
        {"Dec 06 01:17:42.123456 vm kernel: x", "x", "vm", "Dec 06 01:17:42.123456", -1,
         MW_KLOG_SYSLOG},
        {"2021-04-25T19:05:01+0200 netlogo01 kernel: x", "x", "netlogo01",
         "2021-04-25T19:05:01+0200", -1, MW_KLOG_SYSLOG},
        {"Sat 2025-12-06 01:17:42 UTC vm kernel: x", "x", "vm", "Sat 2025-12-06 01:17:42 UTC", -1,
         MW_KLOG_SYSLOG},
        {"[ 2131.061330] vm kernel: x", "x", "vm", "", 2131.06133, MW_KLOG_SYSLOG},
        {"1764983862.123456 vm kernel: x", "x", "vm", "1764983862.123456", -1, MW_KLOG_SYSLOG},
        {"Dec  6 01:17:42 board kern.warn kernel: x", "x", "board", "Dec  6 01:17:42", -1,
         MW_KLOG_SYSLOG},
        {"2025-12-06T01:17:42,123456+00:00 x", "x", "", "2025-12-06T01:17:42,123456+00:00", -1,
         MW_KLOG_ISO},
        {"[  13268]     0 13268 hog", "[  13268]     0 13268 hog", "", "", -1, MW_KLOG_BARE},
        {"hog invoked oom-killer:", "hog invoked oom-killer:", "", "", -1, MW_KLOG_BARE},
    };
    for (size_t i = 0; i < MW_ARRAY_SIZE(cases); i++) {
        struct mw_klog_line l;
        char msg[128], host[64], tm[64];
        mw_klog_line_parse(cases[i].line, strlen(cases[i].line), &l);
        snprintf(msg, sizeof(msg), "%.*s", (int)l.msg_len, l.msg);
        snprintf(host, sizeof(host), "%.*s", (int)l.host_len, l.host);
        snprintf(tm, sizeof(tm), "%.*s", (int)l.time_len, l.time);
        CHECK_STR(msg, cases[i].msg);
        CHECK_STR(host, cases[i].host);
        CHECK_STR(tm, cases[i].time);
        CHECK_EQ_INT(l.form, cases[i].form);
        CHECK_CLOSE(l.boot_s + 10, cases[i].boot_s + 10, 0.0001);
        CHECK(!l.other);
    }
    struct mw_klog_line l;
    const char *iso = "2021-04-25T19:05:01+0200 h kernel: x";
    mw_klog_line_parse(iso, strlen(iso), &l);
    CHECK(l.have_epoch);
    CHECK_EQ_INT(l.epoch_s, 1619370301);
    const char *other = "Nov 23 15:36:25 localhost systemd[1]: x killed by the OOM killer.";
    mw_klog_line_parse(other, strlen(other), &l);
    CHECK(l.other);
}

/* The stream: NUL runs end lines, a too-long line is skipped, kmsg
 * escapes are undone (a record with "\x0a" is two lines), a kmsg record's
 * dictionary lines are not messages, and a year-less time gets the year
 * that puts it at or before now. */
static const char *lines_seen[16];
static size_t nseen;
static char seen_buf[16][128];

static void see(const struct mw_klog_line *l, void *ctx)
{
    (void)ctx;
    if (nseen < 16) {
        snprintf(seen_buf[nseen], sizeof(seen_buf[0]), "%.*s%s", (int)l->msg_len, l->msg,
                 l->year_guessed ? " [y]" : "");
        lines_seen[nseen] = seen_buf[nseen];
    }
    nseen++;
}

static void test_klog_stream(void)
{
    static struct mw_klog_stream s;
    static char big[6000];
    nseen = 0;
    mw_klog_stream_init(&s, 1764983862, see, NULL); /* 2025-12-06 */
    const char in[] = "[    1.000000] one\n[    2.000000] tw\0\0\0[    3.000000] three\r\n"
                      "6,10,3000000,-;a\\x0ab\\x5cc\n SUBSYSTEM=cpu\n"
                      "Dec 31 23:00:00 h kernel: late\n";
    mw_klog_stream_feed(&s, in, sizeof(in) - 1);
    memset(big, 'A', sizeof(big));
    mw_klog_stream_feed(&s, big, sizeof(big));
    mw_klog_stream_feed(&s, "\nlast", 5);
    mw_klog_stream_end(&s);
    CHECK_EQ_U64(nseen, 7);
    CHECK_STR(lines_seen[0], "one");
    CHECK_STR(lines_seen[1], "tw");
    CHECK_STR(lines_seen[2], "three");
    CHECK_STR(lines_seen[3], "a");
    CHECK_STR(lines_seen[4], "b\\c");
    CHECK_STR(lines_seen[5], "late [y]");
    CHECK_STR(lines_seen[6], "last [y]"); /* no prefix: the record above goes on */
    CHECK_EQ_U64(s.nul_lines, 1);
    CHECK_EQ_U64(s.long_lines, 1);
}

static void test_618_memcg_v1(void)
{
    static const char *const forms[] = {"6.18-memcg-v1.dmesg", "6.18-memcg-v1.dmesg-T",
                                        "6.18-memcg-v1.kmsg"};
    for (size_t f = 0; f < MW_ARRAY_SIZE(forms); f++) {
        if (!parse_fixture(forms[f]))
            return;
        CHECK_EQ_U64(g.n, 1);
        struct mw_oom_event *ev = &g.ev[0];
        CHECK(ev->have_trigger);
        CHECK_STR(ev->trigger_comm, "hog");
        CHECK_EQ_INT(ev->trigger_pid, 20941);
        CHECK_STR(ev->gfp_mask, "0xcc0(GFP_KERNEL)");
        CHECK_EQ_INT(ev->order, 0);
        CHECK_STR(ev->kernel, "6.18.44-fc-v1272");
        CHECK_EQ_INT(ev->scope, MW_OOM_SCOPE_MEMCG);
        CHECK_STR(ev->constraint, "CONSTRAINT_MEMCG");
        CHECK_STR(ev->oom_memcg, "/mwfx-oom-20929");
        CHECK_STR(ev->task_memcg, "/mwfx-oom-20929");
        CHECK_STR(ev->cpuset, "/");
        CHECK_EQ_U64(ev->mem_usage_kb, 49152);
        CHECK_EQ_U64(ev->mem_limit_kb, 49152);
        CHECK(ev->swap_is_memsw);
        CHECK_EQ_U64(ev->cg_anon, 50167808); /* total_rss */
        CHECK_EQ_U64(ev->ntasks, 1);
        CHECK_EQ_U64(ev->top[0].rss_pages, 12545); /* 6.x: rss before rss_anon/file/shmem */
        CHECK_EQ_INT(ev->victim_pid, 20941);
        CHECK_STR(ev->victim_comm, "hog");
        CHECK_EQ_U64(ev->anon_rss_kb, 48896);
        CHECK_EQ_U64(ev->file_rss_kb, 1284);
        CHECK_EQ_U64(ev->pgtables_kb, 144);
        CHECK(ev->have_victim_adj && ev->victim_adj == 0);
        CHECK(!ev->cut_end && !ev->no_header);
        CHECK_EQ_U64(mw_oom_implied_page_size(ev), 4096);
        CHECK_CLOSE(ev->boot_s, f == 1 ? -1 : 2131.061367, 0.001);
        CHECK(f != 1 || ev->have_epoch);
    }
}

static void test_61_v2_and_global(void)
{
    if (!parse_fixture("6.1-memcg-v2.dmesg"))
        return;
    CHECK_EQ_U64(g.n, 1);
    struct mw_oom_event *ev = &g.ev[0];
    CHECK_STR(ev->oom_memcg, "/fxapp");
    CHECK(ev->have_swap_line && !ev->swap_is_memsw);
    CHECK_EQ_U64(ev->mem_failcnt, 21);
    CHECK_EQ_U64(ev->cg_kernel, 118784);
    CHECK_EQ_U64(ev->shmem_rss_kb, 72);
    if (!parse_fixture("6.1-global-swap.kmsg"))
        return;
    CHECK_EQ_U64(g.n, 2); /* the memcg OOM's kill line before it: its start is cut */
    CHECK(g.ev[0].no_header && g.ev[0].victim_pid == 142);
    ev = &g.ev[1];
    CHECK_EQ_INT(ev->scope, MW_OOM_SCOPE_GLOBAL);
    CHECK_STR(ev->task_memcg, "/");
    CHECK_STR(ev->oom_memcg, "");
    CHECK_EQ_INT(ev->trigger_adj, 300);
    CHECK(ev->have_meminfo && ev->free_pages > 0);
    CHECK_EQ_U64(ev->free_swap_kb, 0);
    CHECK_EQ_U64(ev->total_swap_kb, 262140);
    CHECK_EQ_U64(ev->nzones, 2);
    CHECK_STR(ev->zones[1].name, "DMA32");
    CHECK(ev->zones[1].free_kb < ev->zones[1].min_kb);
    CHECK_EQ_U64(ev->ntasks, 3);
    CHECK_STR(ev->top[0].name, "hog");
    CHECK_EQ_INT(ev->top[1].oom_score_adj, -1000);
    struct mw_oom_why w;
    mw_oom_judge(ev, 4096, &w);
    CHECK_EQ_INT(w.cause, MW_OOM_CAUSE_RAM_SWAP_FULL);
}

static void test_old_kernels(void)
{
    if (!parse_fixture("4.9-global-child.kern.log"))
        return;
    CHECK_EQ_U64(g.n, 1);
    struct mw_oom_event *ev = &g.ev[0];
    CHECK_STR(ev->host, "web01");
    CHECK_STR(ev->kernel, "4.9.0-8-amd64");
    CHECK(ev->have_score && ev->chosen_pid == 2231 && ev->score == 901);
    CHECK_EQ_INT(ev->victim_pid, 2290); /* the child, sacrificed */
    CHECK_STR(ev->victim_comm, "jspawnhelper");
    CHECK(ev->reaped);
    CHECK_EQ_U64(ev->ntasks, 9);
    CHECK_EQ_U64(ev->top[0].rss_pages, 899847); /* nr_ptes nr_pmds columns */
    CHECK_EQ_U64(ev->ram_pages, 1048446);
    CHECK_EQ_INT(ev->scope, MW_OOM_SCOPE_GLOBAL);
    struct mw_oom_why w;
    mw_oom_judge(ev, 4096, &w);
    CHECK_EQ_INT(w.cause, MW_OOM_CAUSE_RAM_NO_SWAP);

    if (!parse_fixture("4.19-memcg-v1.syslog"))
        return;
    CHECK_EQ_U64(g.n, 1);
    ev = &g.ev[0];
    CHECK_STR(ev->task_memcg, "/docker/5b2a9f0e41c7");
    CHECK_STR(ev->cpuset, "5b2a9f0e41c7");
    CHECK_EQ_U64(ev->cg_anon, 260832ull * 1024); /* the one-line KB form */
    CHECK_EQ_U64(ev->swap_limit_kb, 524288);
    CHECK(ev->reaped && ev->reaped_anon_kb == 0);

    if (!parse_fixture("5.4-global.journal-iso"))
        return;
    CHECK_EQ_U64(g.n, 1);
    ev = &g.ev[0];
    CHECK_STR(ev->trigger_comm, "GC Thread#9"); /* a name with a blank */
    CHECK_EQ_INT(ev->trigger_pid, 25671);
    CHECK_EQ_U64(ev->active_file_pages, 75); /* journalctl's indented continuation */
    CHECK_EQ_U64(ev->free_pages, 25236);
    CHECK_STR(ev->task_memcg, "/user.slice/user-1000.slice/session-4.scope");
    CHECK(ev->have_epoch && !ev->year_guessed);

    if (!parse_fixture("5.14-memcg-v2.journal"))
        return;
    CHECK_EQ_U64(g.n, 1);
    ev = &g.ev[0];
    CHECK_STR(ev->kernel, "5.14.0-285.el9.x86_64"); /* after "Tainted: G  OE  --------  ---" */
    CHECK_STR(ev->task_memcg, "/machine.slice/libpod-8f1e52c0a3b4.scope/container");
    CHECK_EQ_U64(ev->cg_slab, 1245848);
    CHECK_EQ_INT(ev->victim_adj, 200);
}

/* The same program killed again and again, the kernel's rate limit
 * leaving only the kill lines; the RHEL 7 "UID N," form. */
static void test_loop_and_rate_limit(void)
{
    if (!parse_fixture("3.10-rhel7-loop.syslog"))
        return;
    CHECK_EQ_U64(g.n, 5);
    CHECK(g.ev[0].have_trigger && g.ev[0].victim_pid == 799402);
    CHECK(g.ev[0].have_victim_uid && g.ev[0].victim_uid == 1000);
    for (size_t i = 1; i < 5; i++) {
        CHECK(g.ev[i].no_header && g.ev[i].have_victim_sizes);
        CHECK_STR(g.ev[i].victim_comm, "node");
    }
    static struct mw_oom_summary s;
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < 5; i++)
        mw_oom_summary_add(&s, &g.ev[i], i + 1);
    CHECK_EQ_U64(s.kills, 5);
    CHECK_EQ_U64(s.nrows, 1);
    CHECK_EQ_U64(s.rows[0].kills, 5);
}

/* The same pid killed twice (a pid reused after a reboot, or two kernels'
 * logs): two events, not one. */
static void test_same_pid_twice(void)
{
    parse_text("[ 1.000000] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
               "oom_score_adj=0\n"
               "[ 1.000001] Out of memory: Killed process 77 (a) total-vm:100kB, anon-rss:50kB, "
               "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
               "[ 2.000001] Out of memory: Killed process 77 (a) total-vm:100kB, anon-rss:60kB, "
               "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
               "[ 2.100000] oom_reaper: reaped process 77 (a), now anon-rss:0kB, file-rss:0kB, "
               "shmem-rss:0kB\n");
    CHECK_EQ_U64(g.n, 2);
    CHECK(g.ev[0].have_trigger && !g.ev[0].reaped);
    CHECK(g.ev[1].no_header && g.ev[1].reaped && g.ev[1].anon_rss_kb == 60);
}

/* Near misses: lines that look like a kill and are not; a name that holds
 * the pattern's own words; another program's syslog line. */
static void test_near_misses(void)
{
    parse_text("[ 1.0] Out of memory: Killed process 12 (x) without its sizes\n"
               "[ 1.000000] Out of memory: Killed process 12 (x) without its sizes\n"
               "[ 1.000001] TCP: out of memory -- consider tuning tcp_mem\n"
               "[ 1.000002] a line that mentions invoked oom-killer in passing\n"
               "[ 1.000003] oom_reaper: reaped process 99 (y), now anon-rss:0kB\n"
               "Dec  1 00:00:00 h app[1]: Killed process 3 (z) total-vm:1kB, anon-rss:1kB, "
               "file-rss:0kB, shmem-rss:0kB\n");
    CHECK_EQ_U64(g.n, 0);
    parse_text("[ 1.000000] a) total-vm:1kB invoked oom-killer: gfp_mask=0x0(), order=0, "
               "oom_score_adj=0\n"
               "[ 1.000001] Out of memory: Killed process 5 (a) total-vm:1kB) total-vm:9kB, "
               "anon-rss:8kB, file-rss:0kB, shmem-rss:0kB\n");
    CHECK_EQ_U64(g.n, 1);
    CHECK_STR(g.ev[0].trigger_comm, "a) total-vm:1kB");
    CHECK_STR(g.ev[0].victim_comm, "a) total-vm:1kB");
    CHECK_EQ_U64(g.ev[0].total_vm_kb, 9);
}

/* Two hosts' reports interleaved line by line in one syslog file, with
 * other subsystems and programs in between: each report is whole. */
static void test_interleaved(void)
{
    if (!parse_fixture("interleaved-hosts.syslog"))
        return;
    CHECK_EQ_U64(g.n, 2);
    const struct mw_oom_event *a = strcmp(g.ev[0].host, "board") == 0 ? &g.ev[0] : &g.ev[1];
    const struct mw_oom_event *b = a == &g.ev[0] ? &g.ev[1] : &g.ev[0];
    CHECK_STR(a->host, "board");
    CHECK_STR(a->oom_memcg, "/fxapp");
    CHECK_EQ_INT(a->victim_pid, 142);
    CHECK_EQ_U64(a->ntasks, 1);
    CHECK_STR(b->host, "node-a");
    CHECK_STR(b->task_memcg, "/docker/5b2a9f0e41c7");
    CHECK_EQ_INT(b->victim_pid, 32276);
    CHECK_EQ_U64(b->ntasks, 2);
}

/* Cut reports: one whose start is lost, one the log ends in; a crash's NUL
 * run; binary lines; a hostile name kept as bytes (the renderers clean). */
static void test_cut_and_garbage(void)
{
    if (!parse_fixture("truncated.dmesg"))
        return;
    CHECK_EQ_U64(g.n, 2);
    CHECK(g.ev[0].no_header && g.ev[0].victim_pid == 20941);
    CHECK_STR(g.ev[0].oom_memcg, "/mwfx-oom-20929");
    CHECK(g.ev[1].cut_end && !g.ev[1].have_victim && g.ev[1].have_trigger);
    if (!parse_fixture("garbage-nul.dmesg"))
        return;
    CHECK_EQ_U64(g.n, 2);
    CHECK(g.ev[0].cut_end);
    CHECK_STR(g.ev[1].victim_comm, "\x1b[31mev\xffil");
    CHECK_EQ_INT(g.ev[1].victim_pid, 142);
}

/* A huge input: memory is the parser's fixed slots, time is linear. */
static void test_many_events(void)
{
    const char *one = "[ 9.000000] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
                      "oom_score_adj=0\n[ 9.000001] Out of memory: Killed process 7 (x) "
                      "total-vm:4kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB\n";
    size_t n1 = strlen(one), reps = 20000;
    char *buf = malloc(n1 * reps);
    if (!buf)
        return;
    for (size_t i = 0; i < reps; i++)
        memcpy(buf + i * n1, one, n1);
    memset(&g, 0, sizeof(g));
    uint64_t t0 = mw_now_ms();
    mw_oom_parse_buf(buf, n1 * reps, collect, &g);
    CHECK_EQ_U64(g.n, reps);
    CHECK(mw_now_ms() - t0 < 10000);
    free(buf);
}

int main(void)
{
    RUN(test_klog_forms);
    RUN(test_klog_stream);
    RUN(test_618_memcg_v1);
    RUN(test_61_v2_and_global);
    RUN(test_old_kernels);
    RUN(test_loop_and_rate_limit);
    RUN(test_same_pid_twice);
    RUN(test_near_misses);
    RUN(test_interleaved);
    RUN(test_cut_and_garbage);
    RUN(test_many_events);
    return TESTS_DONE();
}
