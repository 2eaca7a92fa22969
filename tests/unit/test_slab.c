#include "cli/cli.h"
#include "harness.h"
#include "proc/slab.h"

#include <errno.h>

/* Lines from the lmkd seed (section 8), a board that ran out of memory
 * through slab growth. */
static const char seed_text[] =
    "slabinfo - version: 2.1\n"
    "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "
    "tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
    "<sharedavail>\n"
    "ext4_groupinfo_4k     58     81    296   27    2 : tunables    0    0    0 : slabdata    "
    "  3      3      0\n"
    "squashfs_inode_cache     88    200    640   25    4 : tunables    0    0    0 : slabdata "
    "     8      8      0\n"
    "kmalloc-64         15937  16200    320   25    2 : tunables    0    0    0 : slabdata    "
    "648    648      0\n"
    "kmem_cache           107    126    384   21    2 : tunables    0    0    0 : slabdata    "
    "  6      6      0\n";

static void test_parse_seed(void)
{
    struct mw_slab_set s;
    CHECK_EQ_INT(mw_slab_parse_buf(&s, seed_text, 4096), 0);
    CHECK_EQ_U64(s.n, 4);
    CHECK_EQ_U64(s.bad_lines, 0);
    const struct mw_slab_cache *k = mw_slab_find(&s, "kmalloc-64");
    CHECK(k != NULL);
    if (k) {
        CHECK_EQ_U64(k->active_objs, 15937);
        CHECK_EQ_U64(k->num_objs, 16200);
        CHECK_EQ_U64(k->objsize_bytes, 320);
        CHECK_EQ_U64(k->size_bytes, 648ull * 2 * 4096);
        CHECK_EQ_INT(k->reclaimable, -1);
    }
    CHECK_EQ_U64(mw_slab_total_bytes(&s), (3 * 2 + 8 * 4 + 648 * 2 + 6 * 2) * 4096ull);
    mw_slab_sort_by_size(&s);
    CHECK_STR(s.c[0].name, "kmalloc-64");
    CHECK_STR(s.c[1].name, "squashfs_inode_cache");
    mw_slab_set_free(&s);
}

static void test_bad_headers(void)
{
    struct mw_slab_set s = {0};
    CHECK_EQ_INT(mw_slab_parse_buf(&s, "", 4096), -ENODATA);
    CHECK_EQ_INT(mw_slab_parse_buf(&s, "garbage\n", 4096), -ENODATA);
    CHECK_EQ_INT(mw_slab_parse_buf(&s, "slabinfo - version: 1.1\nx 1 1 1 1 1\n", 4096), -ENOTSUP);
    CHECK(s.c == NULL);
    /* a header alone is an empty set */
    CHECK_EQ_INT(mw_slab_parse_buf(&s, "slabinfo - version: 2.1", 4096), 0);
    CHECK_EQ_U64(s.n, 0);
    mw_slab_set_free(&s);
}

static void test_live_fixture(void)
{
    struct mw_root r;
    struct mw_slab_set s;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-live"), 0);
    CHECK_EQ_INT(mw_slab_read(&r, &s), 0);
    CHECK(s.n > 100);
    CHECK_EQ_U64(s.bad_lines, 0);
    CHECK_EQ_INT(s.source, MW_SLAB_SLABINFO);
    CHECK(mw_slab_find(&s, "dentry") != NULL);
    mw_slab_set_free(&s);
    mw_root_close(&r);
}

/* Slabs are sized with the root's page size, never a constant. */
static void test_page_size(void)
{
    struct mw_root r;
    struct mw_slab_set a, b;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-live"), 0);
    r.page_size = 4096;
    CHECK_EQ_INT(mw_slab_read(&r, &a), 0);
    r.page_size = 65536;
    CHECK_EQ_INT(mw_slab_read(&r, &b), 0);
    CHECK(a.n > 0 && a.n == b.n);
    CHECK(mw_slab_total_bytes(&a) > 0);
    CHECK_EQ_U64(mw_slab_total_bytes(&b), mw_slab_total_bytes(&a) * 16);
    mw_slab_set_free(&a);
    mw_slab_set_free(&b);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_slab_parse_buf(&a, "slabinfo - version: 2.1\n", 0), -EINVAL);
}

static void test_hostile_fixture(void)
{
    struct mw_root r;
    struct mw_slab_set s;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-hostile"), 0);
    CHECK_EQ_INT(mw_slab_read(&r, &s), 0);
    /* dentry, huge, kmalloc-64 parse; the rest is skipped and counted */
    CHECK_EQ_U64(s.n, 3);
    CHECK_EQ_U64(s.bad_lines, 9);
    const struct mw_slab_cache *h = mw_slab_find(&s, "huge");
    CHECK(h && h->size_bytes == UINT64_MAX);
    CHECK(mw_slab_find(&s, "truncated") == NULL);
    mw_slab_set_free(&s);
    mw_root_close(&r);

    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-v1"), 0);
    CHECK_EQ_INT(mw_slab_read(&r, &s), -ENOTSUP);
    mw_root_close(&r);
    /* empty slabinfo and no /sys: the sysfs fallback's ENOENT */
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-empty"), 0);
    CHECK_EQ_INT(mw_slab_read(&r, &s), -ENOENT);
    mw_root_close(&r);
}

static void test_sysfs_fallback(void)
{
    struct mw_root r;
    struct mw_slab_set s;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/slab-sysfs"), 0);
    CHECK_EQ_INT(mw_slab_read(&r, &s), 0);
    CHECK_EQ_INT(s.source, MW_SLAB_SYSFS);
    /* dentry, dma-kmalloc-64 (first alias of :0000064), ext4_inode_cache;
     * kmalloc-64 is the same cache; "broken" is skipped */
    CHECK_EQ_U64(s.n, 3);
    CHECK_EQ_U64(s.bad_lines, 1);
    CHECK(mw_slab_find(&s, "kmalloc-64") == NULL);
    const struct mw_slab_cache *d = mw_slab_find(&s, "dentry");
    CHECK(d != NULL);
    if (d) {
        CHECK_EQ_U64(d->active_objs, 112854);
        CHECK_EQ_U64(d->num_slabs, 5374);
        CHECK_EQ_U64(d->objsize_bytes, 192);
        CHECK_EQ_U64(d->pagesperslab, 1);
        CHECK_EQ_INT(d->reclaimable, 1);
    }
    const struct mw_slab_cache *k = mw_slab_find(&s, "dma-kmalloc-64");
    CHECK(k && k->num_objs == 4096 && k->reclaimable == 0);
    mw_slab_set_free(&s);
    mw_root_close(&r);
}

static void test_diff_and_advice(void)
{
    struct mw_slab_set a, b;
    CHECK_EQ_INT(mw_slab_parse_buf(&a, seed_text, 4096), 0);
    CHECK_EQ_INT(
        mw_slab_parse_buf(&b,
                          "slabinfo - version: 2.1\n"
                          "dentry 500000 500000 192 21 1 : tunables 0 0 0 : slabdata "
                          "23810 23810 0\n"
                          "kmalloc-64 15000 16200 320 25 2 : tunables 0 0 0 : slabdata "
                          "640 640 0\n"
                          "kmem_cache 107 126 384 21 2 : tunables 0 0 0 : slabdata 6 6 0\n",
                          4096),
        0);
    struct mw_slab_delta *d;
    size_t n;
    CHECK_EQ_INT(mw_slab_diff(&a, &b, &d, &n), 0);
    CHECK_EQ_U64(n, 5);
    CHECK_STR(d[0].name, "dentry");
    CHECK_EQ_INT(d[0].delta_bytes, 23810ll * 4096);
    CHECK_EQ_INT(d[0].delta_objs, 500000);
    CHECK_STR(d[1].name, "squashfs_inode_cache"); /* gone: counts as 0 */
    CHECK_EQ_INT(d[1].delta_bytes, -8ll * 4 * 4096);
    CHECK_STR(d[2].name, "kmalloc-64");
    CHECK_EQ_INT(d[2].delta_bytes, -8ll * 2 * 4096);
    CHECK_STR(d[n - 1].name, "kmem_cache");
    CHECK_EQ_INT(d[n - 1].delta_bytes, 0);
    free(d);
    CHECK_CONTAINS(mw_slab_advice("dentry"), "vfs_cache_pressure");
    CHECK_CONTAINS(mw_slab_advice("dentry"), "drop_caches");
    CHECK_CONTAINS(mw_slab_advice("ext4_inode_cache"), "files");
    CHECK_CONTAINS(mw_slab_advice("kmalloc-64"), "driver");
    CHECK(mw_slab_advice("zz_unknown") != NULL);
    mw_slab_set_free(&a);
    mw_slab_set_free(&b);
}

int main(void)
{
    RUN(test_parse_seed);
    RUN(test_bad_headers);
    RUN(test_live_fixture);
    RUN(test_page_size);
    RUN(test_hostile_fixture);
    RUN(test_sysfs_fallback);
    RUN(test_diff_and_advice);
    return TESTS_DONE();
}
