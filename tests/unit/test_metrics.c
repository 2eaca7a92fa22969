/* metrics: label escaping, the histogram, kill counting, the history line
 * reader and the shape of the exposition. */
#include "harness.h"

#include "lmk/history.h"
#include "lmk/metricsd.h"
#include "model/metrics.h"

/* Renders into a static buffer. */
static const char *label(const char *s)
{
    static char buf[256];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    mw_metrics_label(f, s);
    fclose(f);
    return buf;
}

static void test_label_escape(void)
{
    CHECK_STR(label("plain"), "plain");
    CHECK_STR(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    CHECK_STR(label("x\xff"), "x\xef\xbf\xbd"); /* not UTF-8: U+FFFD */
    CHECK_STR(label("h\xc3\xa9"), "h\xc3\xa9");
}

static void test_histogram(void)
{
    struct mw_metrics_hist h = {0};
    mw_metrics_hist_observe(&h, 0.001);
    mw_metrics_hist_observe(&h, 0.005); /* on the bound: in that bucket (le) */
    mw_metrics_hist_observe(&h, 7);     /* past the last: only +Inf */
    mw_metrics_hist_observe(&h, -1);    /* not an observation */
    mw_metrics_hist_observe(&h, NAN);
    CHECK_EQ_U64(h.bucket[0], 2);
    CHECK_EQ_U64(h.count, 3);
    CHECK_CLOSE(h.sum_s, 7.006, 1e-9);
}

static void test_count_kill_overflow(void)
{
    static struct mw_metrics_daemon d;
    char r[16];
    for (int i = 0; i < 40; i++) {
        snprintf(r, sizeof(r), "r%d", i);
        mw_metrics_count_kill(&d, r, "exited");
    }
    mw_metrics_count_kill(&d, "r0", "exited");
    CHECK_EQ_INT(d.nkinds, MW_METRICS_MAX_KILL_KINDS);
    CHECK_EQ_U64(d.kinds[0].n, 2);
    CHECK_STR(d.kinds[MW_METRICS_MAX_KILL_KINDS - 1].reason, "other");
    CHECK_EQ_U64(d.kinds[MW_METRICS_MAX_KILL_KINDS - 1].n, 40 - (MW_METRICS_MAX_KILL_KINDS - 1));
}

static void test_history_roundtrip(void)
{
    struct mw_kill_record r = {.time_s = 1700000000,
                               .pid = 42,
                               .prog = "hog\xff",
                               .reason = "low_mem",
                               .latency_ms = 12,
                               .wait_ms = 340,
                               .freed_kb = -4,
                               .exited = true,
                               .rss_kb = 100,
                               .total_kb = 1000,
                               .avail_kb = 10,
                               .psi_some = -1};
    char buf[4096];
    size_t n = mw_kill_format_json(buf, sizeof(buf), &r);
    CHECK(n > 0);
    struct mw_kill_entry e;
    CHECK_EQ_INT(mw_kill_parse_json(buf, n, &e), 0);
    CHECK_CLOSE(e.time_s, 1700000000, 0);
    CHECK_EQ_INT(e.pid, 42);
    CHECK_STR(e.prog, "hog\xef\xbf\xbd");
    CHECK_STR(e.reason, "low_mem");
    CHECK_CLOSE(e.latency_s, 0.012, 1e-9);
    CHECK_CLOSE(e.wait_s, 0.34, 1e-9);
    CHECK_EQ_INT(e.freed, 0); /* available fell by 4 kB: nothing freed (history.h) */
    CHECK(e.exited && !e.dry_run);
    CHECK_EQ_U64(e.rss, 102400);
    CHECK_EQ_U64(e.available, 10240);
    CHECK_EQ_INT(mw_kill_parse_json("{\"time\":1}", 10, &e), -EINVAL);
    CHECK_EQ_INT(mw_kill_parse_json("{\"time\":1,\"event\":\"alert\",\"reason\":\"x\"}", 40, &e),
                 -EINVAL);
    CHECK_EQ_INT(mw_kill_parse_json("garbage", 7, &e), -EINVAL);
}

/* A hostile history (issue 24): numbers no cast may take, names that
 * would reach a terminal or a metrics label raw. */
static void test_history_hostile(void)
{
    static const char *const out_of_range[] = {
        "{\"time\":1,\"event\":\"kill\",\"reason\":\"x\",\"freed\":1e308}",
        "{\"time\":1,\"event\":\"kill\",\"reason\":\"x\",\"rss\":-1}",
        "{\"time\":1,\"event\":\"kill\",\"reason\":\"x\",\"swap\":1e20}",
        "{\"time\":1,\"event\":\"kill\",\"reason\":\"x\",\"pid\":4e9}",
        "{\"time\":1e308,\"event\":\"kill\",\"reason\":\"x\"}",
        "{\"time\":-5,\"event\":\"kill\",\"reason\":\"x\"}",
        "{\"time\":1,\"event\":\"kill\",\"reason\":\"x\",\"state\":{\"total\":1e300}}",
    };
    struct mw_kill_entry e;
    for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
        e.pid = 12345;
        int rc = mw_kill_parse_json(out_of_range[i], strlen(out_of_range[i]), &e);
        if (rc == 0)
            fprintf(stderr, "  accepted: %s\n", out_of_range[i]);
        CHECK_EQ_INT(rc, -EINVAL);
        CHECK_EQ_INT(e.pid, 12345); /* untouched */
    }
    const char *esc = "{\"time\":1,\"event\":\"kill\",\"reason\":\"low\\u001b[2J\","
                      "\"prog\":\"a\\nb\\u001b[2J\\u009b\"}";
    CHECK_EQ_INT(mw_kill_parse_json(esc, strlen(esc), &e), 0);
    CHECK_STR(e.prog, "a?b?[2J?");
    CHECK_STR(e.reason, "low?[2J");
}

static void test_render_shape(void)
{
    static struct mw_metrics m;
    char *buf = NULL;
    size_t len = 0;
    m.sys.have_mi = true;
    mw_meminfo_parse_all_buf(
        &m.sys.mi_all, "MemAvailable: 2 kB\nActive(file):  0 kB\nHugePages_Total:  3\n", NULL);
    m.nleaks = 1;
    snprintf(m.leaks[0].object, sizeof(m.leaks[0].object), "slab");
    m.leaks[0].verdict = 2;
    m.leaks[0].slope_bytes_per_s = 1.5;
    FILE *f = open_memstream(&buf, &len);
    mw_metrics_render(f, &m);
    fclose(f);
    CHECK_CONTAINS(buf, "# TYPE memwarden_memory_mem_available_bytes gauge\n"
                        "memwarden_memory_mem_available_bytes 2048\n");
    CHECK_CONTAINS(buf, "memwarden_memory_active_file_bytes 0\n");
    CHECK_CONTAINS(buf, "memwarden_memory_huge_pages 3\n"); /* a count, not bytes */
    CHECK_CONTAINS(buf, "memwarden_daemon_up 0\n");
    CHECK_CONTAINS(buf, "memwarden_leak_verdict{object=\"slab\"} 2\n");
    CHECK_CONTAINS(buf, "memwarden_leak_slope_bytes_per_second{object=\"slab\"} 1.5\n");
    CHECK(!strstr(buf, "memwarden_kills_total")); /* no history read: not shown */
    free(buf);
    /* a history whose kills said where their time went: one histogram a
     * phase, in buckets from 0.1 ms */
    m.d.have_history = true;
    m.d.have_phases = true;
    mw_metrics_phase_observe(&m.d.phase[3], 0.0003); /* choose: 0.3 ms */
    buf = NULL;
    f = open_memstream(&buf, &len);
    mw_metrics_render(f, &m);
    fclose(f);
    CHECK_CONTAINS(buf, "# TYPE memwarden_kill_phase_seconds histogram\n");
    CHECK_CONTAINS(buf, "memwarden_kill_phase_seconds_bucket{phase=\"choose\",le=\"0.00025\"} 0\n"
                        "memwarden_kill_phase_seconds_bucket{phase=\"choose\",le=\"0.0005\"} 1\n");
    CHECK_CONTAINS(buf, "memwarden_kill_phase_seconds_count{phase=\"choose\"} 1\n");
    CHECK_CONTAINS(buf, "memwarden_kill_phase_seconds_count{phase=\"wake\"} 0\n");
    free(buf);
}

static char *render(const struct mw_metrics *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mw_metrics_render(f, m);
    fclose(f);
    return buf;
}

/* Every field of a 6.18 /proc/meminfo (the fixture has all 65 the kernel
 * can print) is exported, snake_case as the help says: 15 were missing. */
static void test_meminfo_every_field(void)
{
    static struct mw_metrics m;
    struct mw_root root;
    if (mw_root_open(&root, MW_FIXTURES "/meminfo-all") < 0)
        FAIL_FIXTURE("meminfo-all");
    CHECK_EQ_INT(mw_metrics_gather_sys(&root, &m.sys), 0);
    mw_root_close(&root);
    CHECK_EQ_INT(m.sys.mi_all.n, 65);
    char *buf = render(&m);
    int families = 0;
    for (const char *p = buf; (p = strstr(p, "# TYPE memwarden_memory_")); p++)
        families++;
    CHECK_EQ_INT(families, 65);
    static const char *const want[] = {
        "memwarden_memory_mem_total_bytes 4398046511104\n",
        "memwarden_memory_active_file_bytes 1098487628800\n",
        "memwarden_memory_huge_pages 1024\n", /* HugePages_Total: a count */
        "memwarden_memory_huge_pages_free 512\n",
        "memwarden_memory_huge_pages_rsvd 17\n",
        "memwarden_memory_huge_pages_surp 3\n",
        "memwarden_memory_hugepagesize_bytes 2097152\n",
        "memwarden_memory_direct_map4k_bytes 1264582656\n",
        "memwarden_memory_direct_map2m_bytes 24398266368\n",
        "memwarden_memory_direct_map1g_bytes 4374424190976\n",
        "memwarden_memory_vmalloc_total_bytes 35184372087808\n",
        "memwarden_memory_vmalloc_chunk_bytes 4096\n",
        "memwarden_memory_bounce_bytes 2048\n",
        "memwarden_memory_nfs_unstable_bytes 1024\n",
        "memwarden_memory_writeback_tmp_bytes 3072\n",
        "memwarden_memory_file_huge_pages_bytes 6291456\n",
        "memwarden_memory_file_pmd_mapped_bytes 8388608\n",
        "memwarden_memory_shmem_pmd_mapped_bytes 4194304\n",
        "memwarden_memory_balloon_bytes 7168\n",
        "memwarden_memory_unaccepted_bytes 6144\n",
        "memwarden_memory_hardware_corrupted_bytes 5120\n",
        "memwarden_memory_secondary_page_tables_bytes 2401280\n",
        "memwarden_memory_committed_as_bytes 3379200000000\n",
        "memwarden_memory_swap_total_bytes 70368744177664\n",
        "# HELP memwarden_memory_huge_pages_free Memory information field HugePages_Free (a "
        "count).\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK_CONTAINS(buf, want[i]);
    CHECK(!strstr(buf, "_total_bytes_total")); /* no counter suffix on a gauge */
    free(buf);
    /* hostile lines are skipped, not exported raw */
    int skipped = 0;
    struct mw_meminfo_all all;
    CHECK_EQ_INT(mw_meminfo_parse_all_buf(&all,
                                          "MemTotal: 1 kB\nEvil{x=\"1\"}: 2 kB\nNoNumber: kB\n"
                                          "Trailing: 3 kB junk\nCount:  4\n",
                                          &skipped),
                 2);
    CHECK_EQ_INT(skipped, 3);
    CHECK_STR(all.f[1].name, "Count");
    CHECK(!all.f[1].kb);
}

/* Values print exactly (issue 26: %.6g printed 1234567.89 s of PSI as
 * 1.23457e+06, and rate() saw 10 s steps). */
static void test_render_exact(void)
{
    static struct mw_metrics m;
    m.sys.have_psi[0] = true;
    m.sys.psi[0].some.total_us = 1234567890123; /* 14 days of stall */
    m.sys.psi[0].some.avg10 = 1.23;
    m.sys.psi[0].have_full = true;
    m.sys.psi[0].full.total_us = 5;
    m.sys.psi[0].full.avg300 = 100;
    m.d.have_history = true;
    m.d.signal_latency.count = 1;
    m.d.signal_latency.sum_s = 1234567.891;
    m.d.have_live = true;
    m.d.cycle_s = 0.000123;
    m.d.cycle_max_s = 123456789.25;
    m.nleaks = 1;
    snprintf(m.leaks[0].object, sizeof(m.leaks[0].object), "shmem");
    m.leaks[0].slope_bytes_per_s = 12345678.9;
    m.leaks[0].window_s = 86400 * 400; /* an integer: as one */
    char *buf = render(&m);
    CHECK_CONTAINS(buf, "memwarden_pressure_memory_waiting_seconds_total 1234567.890123\n");
    CHECK_CONTAINS(buf, "memwarden_pressure_memory_stalled_seconds_total 0.000005\n");
    CHECK_CONTAINS(buf,
                   "memwarden_pressure_memory_stall_ratio{kind=\"some\",window=\"10s\"} 0.0123\n");
    CHECK_CONTAINS(buf, "memwarden_pressure_memory_stall_ratio{kind=\"full\",window=\"300s\"} 1\n");
    CHECK_CONTAINS(buf, "memwarden_kill_signal_latency_seconds_sum 1234567.891\n");
    CHECK_CONTAINS(buf, "memwarden_daemon_cycle_seconds{stat=\"last\"} 0.000123\n");
    CHECK_CONTAINS(buf, "memwarden_daemon_cycle_seconds{stat=\"max\"} 123456789.25\n");
    CHECK_CONTAINS(buf, "memwarden_leak_slope_bytes_per_second{object=\"shmem\"} 12345678.9\n");
    CHECK_CONTAINS(buf, "memwarden_leak_window_seconds{object=\"shmem\"} 34560000\n");
    CHECK(!strstr(buf, "e+")); /* no exponent anywhere */
    free(buf);
}

int main(void)
{
    RUN(test_history_hostile);
    RUN(test_label_escape);
    RUN(test_histogram);
    RUN(test_count_kill_overflow);
    RUN(test_history_roundtrip);
    RUN(test_render_shape);
    RUN(test_meminfo_every_field);
    RUN(test_render_exact);
    return TESTS_DONE();
}
