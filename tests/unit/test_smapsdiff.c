#include "cli/cli.h"
#include "harness.h"
#include "analysis/smapsdiff.h"

#include <errno.h>

static void test_classify(void)
{
    CHECK_EQ_INT(mw_region_classify("[heap]", 0), MW_REGION_HEAP);
    CHECK_EQ_INT(mw_region_classify("", 0), MW_REGION_ANON);
    CHECK_EQ_INT(mw_region_classify("", 1), MW_REGION_SHMEM);
    CHECK_EQ_INT(mw_region_classify("[stack]", 0), MW_REGION_STACK);
    CHECK_EQ_INT(mw_region_classify("[stack:1234]", 0), MW_REGION_STACK);
    CHECK_EQ_INT(mw_region_classify("/usr/lib/libc.so.6", 0), MW_REGION_FILE);
    CHECK_EQ_INT(mw_region_classify("/SYSV0000abcd", 1), MW_REGION_SHMEM);
    CHECK_EQ_INT(mw_region_classify("/dev/shm/cam0", 1), MW_REGION_SHMEM);
    CHECK_EQ_INT(mw_region_classify("/memfd:wayland", 0), MW_REGION_SHMEM);
    CHECK_EQ_INT(mw_region_classify("[anon:frame pool]", 0), MW_REGION_NAMED);
    CHECK_EQ_INT(mw_region_classify("[anon_shmem:x]", 1), MW_REGION_SHMEM);
    CHECK_EQ_INT(mw_region_classify("[vdso]", 0), MW_REGION_OTHER);
    CHECK_STR(mw_region_class_name(MW_REGION_NAMED), "named");
}

static void read_fixture(const char *dir, struct mw_regions *r)
{
    struct mw_root root;
    CHECK_EQ_INT(mw_root_open(&root, dir), 0);
    CHECK_EQ_INT(mw_regions_read(&root, 42, r), 0);
    mw_root_close(&root);
}

static const struct mw_region *find(const struct mw_regions *r, const char *label)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->r[i].label, label) == 0)
            return &r->r[i];
    return NULL;
}

static void test_parse_fixture(void)
{
    struct mw_regions a;
    read_fixture(MW_FIXTURES "/smaps-a", &a);
    const struct mw_region *h = find(&a, "[heap]");
    CHECK(h && h->rss == 1000 * 1024 && h->cls == MW_REGION_HEAP);
    /* two anonymous mappings grouped under one label */
    const struct mw_region *an = find(&a, "anon mmap");
    CHECK(an && an->count == 2 && an->rss == (4900 + 20) * 1024 && an->swap == 100 * 1024);
    /* "(deleted)" is not part of the label */
    CHECK(find(&a, "/SYSV0000abcd") != NULL);
    CHECK(find(&a, "/memfd:wayland") != NULL);
    CHECK(find(&a, "shared anon") != NULL);
    const struct mw_region *lib = find(&a, "/usr/lib/libc.so.6");
    CHECK(lib && lib->pss == 300 * 1024 && lib->cls == MW_REGION_FILE);
    CHECK_EQ_U64(a.class_rss[MW_REGION_SHMEM], (1024 + 512 + 64 + 4) * 1024);
    CHECK_EQ_U64(a.class_rss[MW_REGION_NAMED], 2048 * 1024);
    CHECK_EQ_U64(a.class_swap[MW_REGION_ANON], 100 * 1024);
    mw_regions_free(&a);
}

static void test_diff(void)
{
    struct mw_regions a, b;
    read_fixture(MW_FIXTURES "/smaps-a", &a);
    read_fixture(MW_FIXTURES "/smaps-b", &b);
    struct mw_region_delta *d;
    size_t n;
    CHECK_EQ_INT(mw_regions_diff(&a, &b, &d, &n), 0);
    CHECK(n >= 3);
    if (n >= 3) {
        CHECK_STR(d[0].label, "[heap]");
        CHECK_EQ_INT(d[0].delta_bytes, 40000 * 1024);
        CHECK_STR(d[1].label, "/SYSV0000abcd");
        CHECK_EQ_INT(d[1].delta_bytes, 2048 * 1024);
        CHECK_STR(d[2].label, "anon mmap");
        CHECK_EQ_INT(d[2].delta_bytes, 500 * 1024);
    }
    free(d);
    int64_t cd[MW_REGION_COUNT];
    mw_regions_class_diff(&a, &b, cd);
    CHECK_EQ_INT(cd[MW_REGION_HEAP], 40000 * 1024);
    CHECK_EQ_INT(cd[MW_REGION_STACK], 4 * 1024);
    CHECK_EQ_INT(cd[MW_REGION_FILE], 0);
    mw_regions_free(&a);
    mw_regions_free(&b);
}

static void test_live_capture_and_hostile(void)
{
    struct mw_regions r;
    read_fixture(MW_FIXTURES "/smaps-live", &r);
    CHECK(find(&r, "[heap]") != NULL);
    CHECK(find(&r, "[stack]") != NULL);
    CHECK(r.class_rss[MW_REGION_FILE] > 0);
    mw_regions_free(&r);
    CHECK_EQ_INT(mw_regions_parse_buf(&r, ""), -ENODATA);
    CHECK_EQ_INT(mw_regions_parse_buf(&r, "Rss: 5 kB\ngarbage\n"), -ENODATA);
    /* a header cut short, a reversed range, absurd numbers */
    CHECK_EQ_INT(mw_regions_parse_buf(&r, "7f00-7e00 rw-p 0 00:00 0 [heap]\n"), -ENODATA);
    CHECK_EQ_INT(mw_regions_parse_buf(&r, "7f00-7f10 rw-p 0 00:00 0 [heap]\n"
                                          "Rss: 99999999999999999999999 kB\nSwap: 7 kB\n"
                                          "7f20-7f30 rw-\n"),
                 0);
    CHECK_EQ_U64(r.n, 1);
    if (r.n)
        CHECK(r.r[0].rss == 0 && r.r[0].swap == 7 * 1024);
    mw_regions_free(&r);
}

int main(void)
{
    RUN(test_classify);
    RUN(test_parse_fixture);
    RUN(test_diff);
    RUN(test_live_capture_and_hostile);
    return TESTS_DONE();
}
