#include "cli/cli.h"
#include "harness.h"
#include "model/sample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_process_and_system_from_fixture(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/diff-a"), 0);
    struct mw_sample s;
    CHECK_EQ_INT(mw_sample_process(&r, 100, 1000.5, &s), 0);
    CHECK_EQ_INT(s.kind, MW_SAMPLE_PROCESS);
    CHECK_STR(s.comm, "nginx");
    CHECK_EQ_U64(s.starttime, 5000);
    CHECK(s.have_pss);
    CHECK_EQ_U64(s.pss, 40000ull * 1024);
    CHECK_EQ_U64(s.cpu_ticks, 70);
    CHECK_EQ_U64(s.mem_total, 4028916ull * 1024);
    CHECK_EQ_U64(s.mem_available, 2600000ull * 1024);
    /* process 500 has no smaps_rollup: no PSS, still a sample */
    CHECK_EQ_INT(mw_sample_process(&r, 500, 1000.5, &s), 0);
    CHECK(!s.have_pss);
    CHECK_EQ_INT(mw_sample_process(&r, 999, 1000.5, &s), -ESRCH);
    CHECK_EQ_INT(mw_sample_system(&r, 7, &s), 0);
    CHECK_EQ_INT(s.kind, MW_SAMPLE_SYSTEM);
    CHECK_EQ_U64(s.sreclaimable, 100000ull * 1024);
    CHECK_EQ_U64(s.mem_used, (4028916ull - 2600000) * 1024);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/diff-b"), 0);
    CHECK(mw_sample_process(&r, 800, 1, &s) < 0); /* truncated stat */
    mw_root_close(&r);
}

static void test_cpu_pct(void)
{
    struct mw_sample a = {0}, b = {0};
    a.t_s = 10;
    a.cpu_ticks = 100;
    b.t_s = 12;
    b.cpu_ticks = 150;
    CHECK_CLOSE(mw_sample_cpu_pct(&a, &b, 100), 25.0, 0.01);
    CHECK_CLOSE(mw_sample_cpu_pct(&b, &a, 100), 0, 0.01);
}

static void test_record_round_trip_and_rotation(void)
{
    char dir[] = "/tmp/mw-test-sample.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], p1[300], p2[300], p3[300];
    snprintf(path, sizeof(path), "%s/rec", dir);
    snprintf(p1, sizeof(p1), "%s.1", path);
    snprintf(p2, sizeof(p2), "%s.2", path);
    snprintf(p3, sizeof(p3), "%s.3", path);
    struct mw_slab_set slab = {0};
    struct mw_slab_cache caches[2] = {{.name = "dentry", .size_bytes = 4096},
                                      {.name = "kmalloc-64", .size_bytes = 0}};
    slab.c = caches;
    slab.n = 2;
    for (int i = 0; i < 5; i++) {
        struct mw_sample s = {0};
        s.t_s = 100 + i;
        s.kind = i % 2 ? MW_SAMPLE_SYSTEM : MW_SAMPLE_PROCESS;
        s.pid = 42;
        s.starttime = 7;
        snprintf(s.comm, sizeof(s.comm), "we\"ird\\ name\t%d", i);
        s.rss = 1000000u + (uint64_t)i;
        s.pss = 500;
        s.have_pss = true;
        s.mem_available = 123456789;
        caches[0].size_bytes = 4096u * (uint64_t)(i + 1);
        /* 150 bytes: rotate before almost every line, keep 2 */
        CHECK_EQ_INT(mw_record_append(path, 150, 2, &s, s.kind == MW_SAMPLE_SYSTEM ? &slab : NULL),
                     0);
    }
    struct stat st;
    CHECK(stat(path, &st) == 0 && stat(p1, &st) == 0 && stat(p2, &st) == 0);
    CHECK(stat(p3, &st) != 0);
    struct mw_record rec = {0};
    CHECK_EQ_INT(mw_record_read(path, &rec), 0);
    CHECK_EQ_U64(rec.n, 3); /* the two oldest lines rotated away */
    CHECK_EQ_U64(rec.bad_lines, 0);
    if (rec.n == 3) {
        CHECK_CLOSE(rec.s[0].t_s, 102, 1e-6); /* oldest first */
        CHECK_CLOSE(rec.s[2].t_s, 104, 1e-6);
        CHECK_STR(rec.s[0].comm, "we\"ird\\ name\t2");
        CHECK_EQ_U64(rec.s[0].rss, 1000002);
        CHECK(rec.s[0].have_pss);
        CHECK_EQ_INT(rec.s[1].kind, MW_SAMPLE_SYSTEM);
        long di = mw_record_slab_index(&rec, "dentry");
        CHECK(di >= 0);
        CHECK_EQ_U64(mw_sample_slab(&rec.s[1], (size_t)di), 4096 * 4);
        CHECK(mw_record_slab_index(&rec, "kmalloc-64") < 0); /* empty caches are left out */
        CHECK_EQ_U64(mw_sample_slab(&rec.s[0], 5), 0);
    }
    mw_record_free(&rec);
    unlink(path);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
    CHECK_EQ_INT(mw_record_read("/tmp/mw-test-no-such-record", &rec), -ENOENT);
    mw_record_free(&rec);
}

static void test_hostile_lines(void)
{
    struct mw_record rec = {0};
    const char *txt =
        "{\"t\":1,\"kind\":\"system\",\"mem_available\":5}\n"
        "\n"
        "not json\n"
        "{\"t\":2,\"kind\":\"process\"}\n" /* no pid */
        "{\"kind\":\"system\"}\n"          /* no time */
        "{\"t\":3,\"kind\":\"system\",\"mem_available\":5} trailing\n"
        "{\"t\":4,\"kind\":\"system\",\"x\":{\"y\":1}}\n"              /* unknown object */
        "{\"t\":5,\"kind\":\"system\",\"rss\":-5,\"mem_used\":1e30}\n" /* clamped */
        "{\"t\":6,\"kind\":\"process\",\"pid\":7,\"comm\":\"\\u0041\\u00e9\"}\n"
        "{\"t\":7,\"kind\":\"system\",\"slab_caches\":{\"a\":1,\"b\":}}\n"
        "{\"t\":8,\"kind\":\"gone\",\"pid\":7,\"starttime\":3,\"comm\":\"x\"}\n"
        "{\"t\":9,\"kind\":\"system\"\n"
        "{\"t\":10,\"kind\":\"system\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]}\n"
        "{\"t\":11,\"kind\":\"system\",\"rss\":99999999999999999999999}\n" /* clamped */
        "{\"t\":12,\"kind\":\"process\",\"pid\":-3}";
    CHECK_EQ_INT(mw_record_parse_buf(&rec, txt), 0);
    CHECK_EQ_U64(rec.n, 5);
    CHECK_EQ_U64(rec.bad_lines, 9);
    if (rec.n == 5) {
        CHECK_EQ_U64(rec.s[4].rss, UINT64_MAX);
        CHECK_EQ_U64(rec.s[1].mem_used, UINT64_MAX);
        CHECK_STR(rec.s[2].comm, "A\xc3\xa9"); /* \u escapes decode to UTF-8 */
        CHECK_EQ_INT(rec.s[3].kind, MW_SAMPLE_GONE);
    }
    mw_record_free(&rec);
}

int main(void)
{
    RUN(test_process_and_system_from_fixture);
    RUN(test_cpu_pct);
    RUN(test_record_round_trip_and_rotation);
    RUN(test_hostile_lines);
    return TESTS_DONE();
}
