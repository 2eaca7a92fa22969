/* metrics: label escaping, the histogram, kill counting, the history line
 * reader and the shape of the exposition. */
#include "harness.h"

#include "lmk/history.h"
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
    CHECK_EQ_INT(e.freed, -4096);
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
    m.sys.mi.have[MI_MEM_AVAILABLE] = true;
    m.sys.mi.kb[MI_MEM_AVAILABLE] = 2;
    m.sys.mi.have[MI_ACTIVE_FILE] = true;
    m.sys.mi.have[MI_HUGEPAGES_TOTAL] = true;
    m.sys.mi.kb[MI_HUGEPAGES_TOTAL] = 3;
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
}

int main(void)
{
    RUN(test_history_hostile);
    RUN(test_label_escape);
    RUN(test_histogram);
    RUN(test_count_kill_overflow);
    RUN(test_history_roundtrip);
    RUN(test_render_shape);
    return TESTS_DONE();
}
