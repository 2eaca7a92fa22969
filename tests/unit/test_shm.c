#include "cli/cli.h"
#include "harness.h"
#include "proc/shm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A scratch root: dev/shm with "keep", "gone", "sub/f", and an empty proc
 * (no process can hold anything, so every file is a known orphan). */
static int make_root(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/mw-test-shm.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char p[256];
    const char *dirs[] = {"dev", "dev/shm", "dev/shm/sub", "proc", "outside"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, dirs[i]);
        if (mkdir(p, 0755) != 0)
            return -1;
    }
    const char *files[] = {"dev/shm/keep", "dev/shm/gone", "dev/shm/sub/f", "outside/f"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        if (!f)
            return -1;
        fputs("x\n", f);
        fclose(f);
    }
    return 0;
}

static const struct mw_shm_file *find_file(const struct mw_shm_report *r, const char *path)
{
    for (size_t i = 0; i < r->nfile; i++)
        if (strcmp(r->file[i].path, path) == 0)
            return &r->file[i];
    return NULL;
}

static bool exists(const char *dir, const char *rel)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    return lstat(p, &st) == 0;
}

static void test_remove_through_fd(void)
{
    char dir[64], p[256], q[256];
    struct mw_root r;
    struct mw_shm_report rep;
    if (make_root(dir, sizeof(dir)) != 0) {
        SKIP("cannot make a scratch root in /tmp");
        return;
    }
    CHECK_EQ_INT(mw_root_open(&r, dir), 0);
    CHECK_EQ_INT(mw_shm_scan(&r, &rep), 0);
    CHECK_EQ_U64(rep.nfile, 3);
    CHECK_EQ_U64(rep.unreadable_procs, 0);
    const struct mw_shm_file *keep = find_file(&rep, "/dev/shm/keep");
    const struct mw_shm_file *gone = find_file(&rep, "/dev/shm/gone");
    const struct mw_shm_file *sub = find_file(&rep, "/dev/shm/sub/f");
    CHECK(keep && gone && sub);
    if (keep && gone && sub) {
        CHECK(keep->orphan && keep->holders_known);
        CHECK_EQ_INT(strcmp(sub->dir, "sub"), 0);
        CHECK_EQ_INT(strcmp(sub->name, "f"), 0);
        /* "keep" replaced by another file: not the file decided on */
        snprintf(p, sizeof(p), "%s/dev/shm/keep", dir);
        snprintf(q, sizeof(q), "%s/dev/shm/keep.new", dir);
        FILE *f = fopen(q, "w");
        if (f)
            fclose(f);
        CHECK_EQ_INT(rename(q, p), 0);
        CHECK_EQ_INT(mw_shm_remove_file(&rep, keep), -ESTALE);
        CHECK(exists(dir, "dev/shm/keep"));
        /* "sub" swapped for a symlink to a directory outside holding "f" */
        snprintf(p, sizeof(p), "%s/dev/shm/sub", dir);
        snprintf(q, sizeof(q), "%s/dev/shm/sub.real", dir);
        CHECK_EQ_INT(rename(p, q), 0);
        snprintf(q, sizeof(q), "%s/outside", dir);
        CHECK_EQ_INT(symlink(q, p), 0);
        int rc = mw_shm_remove_file(&rep, sub);
        CHECK(rc == -ELOOP || rc == -ENOTDIR);
        CHECK(exists(dir, "outside/f"));
        /* a name that is not one component is refused */
        struct mw_shm_file bad = *gone;
        snprintf(bad.name, sizeof(bad.name), "..");
        CHECK_EQ_INT(mw_shm_remove_file(&rep, &bad), -EINVAL);
        snprintf(bad.name, sizeof(bad.name), "../outside/f");
        CHECK_EQ_INT(mw_shm_remove_file(&rep, &bad), -EINVAL);
        /* the file as scanned goes */
        CHECK_EQ_INT(mw_shm_remove_file(&rep, gone), 0);
        CHECK(!exists(dir, "dev/shm/gone"));
        CHECK_EQ_INT(mw_shm_remove_file(&rep, gone), -ENOENT);
    }
    mw_shm_report_free(&rep);
    mw_root_close(&r);
    /* a report with no dev/shm acts on nothing */
    struct mw_shm_report none;
    memset(&none, 0, sizeof(none));
    struct mw_shm_file nf;
    memset(&nf, 0, sizeof(nf));
    snprintf(nf.name, sizeof(nf.name), "x");
    CHECK_EQ_INT(mw_shm_remove_file(&none, &nf), -EBADF);
    CHECK(mw_shm_remove_sysv(-1) < 0);
    const char *rm[] = {"dev/shm/keep",     "dev/shm/sub", "dev/shm/sub.real/f",
                        "dev/shm/sub.real", "dev/shm",     "dev",
                        "outside/f",        "outside",     "proc"};
    for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, rm[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(dir);
}

int main(void)
{
    RUN(test_parse_sysv);
    RUN(test_scan_fixture);
    RUN(test_old_kernel_and_bad);
    RUN(test_remove_through_fd);
    return TESTS_DONE();
}
