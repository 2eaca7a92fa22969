#include "cli/cli.h"
#include "harness.h"
#include "proc/shm.h"

#include <errno.h>
#include <string.h>

static void test_parse_sysv(void)
{
    struct mw_sysv_seg *s = NULL;
    size_t n = 0;
    unsigned bad = 0;
    const char *txt =
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid "
        " cgid      atime      dtime      ctime                   rss                  swap\n"
        "1364328463          4   644               4194304   999   999      0  1000  1000  1000 "
        " 1000          0          0 1732240000               4194304                     0\n"
        "        -1          7   600                  4096   5     5      3     0     0     0 "
        "    0          0          0          0                  4096                     0\n"
        "         0          9   600                  4096   5     5      3\n";
    CHECK_EQ_INT(mw_sysv_shm_parse_buf(&s, &n, &bad, txt), 0);
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(bad, 1); /* the truncated line */
    if (n == 2) {
        CHECK_EQ_INT(s[0].key, 1364328463);
        CHECK_EQ_INT(s[0].shmid, 4);
        CHECK_EQ_U64(s[0].size_bytes, 4194304);
        CHECK_EQ_INT(s[0].cpid, 999);
        CHECK_EQ_U64(s[0].nattch, 0);
        CHECK_EQ_INT(s[0].uid, 1000);
        CHECK(s[0].have_rss);
        CHECK_EQ_INT(s[1].key, -1); /* keys print signed */
        CHECK_EQ_U64(s[1].nattch, 3);
    }
    free(s);
    CHECK_EQ_INT(mw_sysv_shm_parse_buf(&s, &n, &bad, ""), -ENODATA);
    CHECK_EQ_INT(mw_sysv_shm_parse_buf(&s, &n, &bad, "garbage\n1 2 3\n"), -ENODATA);
}

static void test_scan_fixture(void)
{
    struct mw_root r;
    struct mw_shm_report rep;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/shm-a"), 0);
    CHECK_EQ_INT(mw_shm_scan(&r, &rep), 0);
    CHECK(rep.have_sysv);
    CHECK_EQ_U64(rep.nseg, 3);
    CHECK_EQ_U64(rep.bad_lines, 2);
    if (rep.nseg == 3) {
        /* shmid 3: attached, creator 100 alive */
        CHECK(rep.seg[0].creator_alive);
        CHECK(!rep.seg[0].orphan);
        /* shmid 4: nattch 0, creator 999 gone: orphan */
        CHECK(!rep.seg[1].creator_alive);
        CHECK(rep.seg[1].orphan);
        /* shmid 5: swapped out entirely, still an orphan, counted by rss+swap */
        CHECK(rep.seg[2].orphan);
    }
    CHECK_EQ_U64(rep.sysv_orphans, 2);
    CHECK_EQ_U64(rep.sysv_orphan_bytes, 4194304 + 65536);
    CHECK_EQ_U64(rep.sysv_bytes, 8192 + 4194304 + 65536);
    CHECK(rep.have_devshm);
    CHECK_EQ_U64(rep.nfile, 4);
    unsigned orphans = 0;
    for (size_t i = 0; i < rep.nfile; i++) {
        const struct mw_shm_file *f = &rep.file[i];
        if (strcmp(f->path, "/dev/shm/held") == 0) {
            CHECK_EQ_U64(f->users, 1); /* open by 200 */
            CHECK_EQ_U64(f->size_bytes, 8192);
        } else if (strcmp(f->path, "/dev/shm/mapped") == 0) {
            CHECK_EQ_U64(f->users, 1); /* mapped by 201 */
        } else {
            CHECK(strcmp(f->path, "/dev/shm/orphan") == 0 ||
                  strcmp(f->path, "/dev/shm/sub/deep") == 0);
            CHECK(f->orphan);
        }
        orphans += f->orphan;
    }
    CHECK_EQ_U64(orphans, 2);
    CHECK_EQ_U64(rep.devshm_orphans, 2);
    mw_shm_report_free(&rep);
    mw_root_close(&r);
}

static void test_old_kernel_and_bad(void)
{
    struct mw_root r;
    struct mw_shm_report rep;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/shm-old"), 0);
    CHECK_EQ_INT(mw_shm_scan(&r, &rep), 0);
    CHECK_EQ_U64(rep.nseg, 1);
    if (rep.nseg == 1) {
        CHECK(!rep.seg[0].have_rss);
        CHECK_EQ_U64(rep.sysv_bytes, 393216); /* no rss column: size counts */
        CHECK(!rep.seg[0].orphan);            /* attached twice */
    }
    CHECK(!rep.have_devshm);
    mw_shm_report_free(&rep);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/shm-bad"), 0);
    CHECK_EQ_INT(mw_shm_scan(&r, &rep), 0);
    CHECK(!rep.have_sysv);
    CHECK_EQ_U64(rep.nseg, 0);
    mw_shm_report_free(&rep);
    mw_root_close(&r);
}

static void test_remove_guards(void)
{
    CHECK_EQ_INT(mw_shm_remove_file("/etc/passwd"), -EINVAL);
    CHECK_EQ_INT(mw_shm_remove_file("/dev/shm/../../etc/passwd"), -EINVAL);
    CHECK_EQ_INT(mw_shm_remove_file("/dev/shm/mw-no-such-file-here"), -ENOENT);
    CHECK(mw_shm_remove_sysv(-1) < 0);
}

int main(void)
{
    RUN(test_parse_sysv);
    RUN(test_scan_fixture);
    RUN(test_old_kernel_and_bad);
    RUN(test_remove_guards);
    return TESTS_DONE();
}
