/* safeopen: opens beneath a root that follow no link, output files that
 * replace a link instead of writing through it, appends only to a file of
 * one's own. Each case on a scratch tree with a planted link that points
 * at a "victim" file outside it; the victim must never change. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safeopen.h"
#include "harness.h"

static char top[64]; /* scratch: TOP/tree (the root), TOP/victim (outside) */

static int at(const char *rel, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%s/%s", top, rel);
}

static void put(const char *rel, const char *text)
{
    char p[256];
    at(rel, p, sizeof(p));
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *get(const char *rel)
{
    static char buf[256];
    char p[256];
    at(rel, p, sizeof(p));
    buf[0] = '\0';
    FILE *f = fopen(p, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static void setup(void)
{
    char p[256], q[256];
    snprintf(top, sizeof(top), "/tmp/mw-safeopen-XXXXXX");
    if (!mkdtemp(top))
        abort();
    at("tree/proc/sys/vm", p, sizeof(p));
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/outside/sys/vm", p, top);
    if (system(cmd) != 0)
        abort();
    put("tree/proc/sys/vm/swappiness", "60\n");
    put("outside/sys/vm/swappiness", "victim\n");
    put("victim", "victim\n");
    /* tree/etc -> ../outside (a link in a middle component) */
    at("tree/etc", p, sizeof(p));
    if (symlink("../outside", p) < 0)
        abort();
    /* tree/proc/sys/vm/link -> ../../../../victim (a link as the last component) */
    at("tree/proc/sys/vm/link", q, sizeof(q));
    if (symlink("../../../../victim", q) < 0)
        abort();
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", top);
}

static int tree_fd(void)
{
    char p[256];
    at("tree", p, sizeof(p));
    return open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Both ways in: openat2 (when the kernel has it) and the component walk. */
typedef int (*open_fn)(int, const char *, int, mode_t);

static void beneath_cases(open_fn fn)
{
    int root = tree_fd();
    int fd = fn(root, "/proc/sys/vm/swappiness", O_WRONLY | O_TRUNC, 0);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "100\n", 4) == 4);
        close(fd);
    }
    CHECK_STR(get("tree/proc/sys/vm/swappiness"), "100\n");
    /* a middle component that is a link: refused, nothing written outside */
    CHECK_EQ_INT(fn(root, "etc/sys/vm/swappiness", O_WRONLY | O_TRUNC, 0), -ELOOP);
    CHECK_EQ_INT(fn(root, "etc/sys/vm/new", O_WRONLY | O_CREAT, 0644), -ELOOP);
    CHECK_STR(get("outside/sys/vm/swappiness"), "victim\n");
    /* the last component a link: refused, also for O_PATH */
    CHECK_EQ_INT(fn(root, "proc/sys/vm/link", O_WRONLY | O_TRUNC, 0), -ELOOP);
    CHECK_EQ_INT(fn(root, "proc/sys/vm/link", O_PATH, 0), -ELOOP);
    CHECK_EQ_INT(fn(root, "etc", O_PATH | O_DIRECTORY, 0), -ELOOP);
    CHECK_STR(get("victim"), "victim\n");
    /* ".." never, even when it would stay inside */
    CHECK_EQ_INT(fn(root, "proc/../proc/sys/vm/swappiness", O_RDONLY, 0), -EXDEV);
    CHECK_EQ_INT(fn(root, "..", O_PATH, 0), -EXDEV);
    CHECK_EQ_INT(fn(root, "", O_PATH, 0), -EXDEV);
    /* a missing file is ENOENT, not created without O_CREAT */
    CHECK_EQ_INT(fn(root, "proc/sys/vm/nosuch", O_WRONLY, 0), -ENOENT);
    close(root);
}

static void test_beneath_openat2(void)
{
    beneath_cases(mw_beneath_open);
}

static void test_beneath_walk(void)
{
    beneath_cases(mw_beneath_open_walk);
}

static void test_beneath_mkdirs_unlink(void)
{
    int root = tree_fd();
    CHECK_EQ_INT(mw_beneath_mkdirs(root, "var/lib/memwarden/backup.json", 0700), 3);
    CHECK_EQ_INT(mw_beneath_mkdirs(root, "var/lib/memwarden/backup.json", 0700), 0);
    struct stat st;
    char p[256];
    at("tree/var/lib/memwarden", p, sizeof(p));
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    /* through the link: refused, nothing made outside */
    CHECK_EQ_INT(mw_beneath_mkdirs(root, "etc/sysctl.d/90-memwarden.conf", 0700), -ELOOP);
    at("outside/sysctl.d", p, sizeof(p));
    CHECK(stat(p, &st) < 0);
    /* unlink: the link's target stays, a name under a link is refused */
    CHECK_EQ_INT(mw_beneath_unlink(root, "etc/sys/vm/swappiness", 0), -ELOOP);
    CHECK_STR(get("outside/sys/vm/swappiness"), "victim\n");
    CHECK_EQ_INT(mw_beneath_unlink(root, "var/lib/memwarden", AT_REMOVEDIR), 0);
    CHECK_EQ_INT(mw_beneath_unlink(root, "proc/sys/vm/link", 0), 0); /* the link itself */
    CHECK_STR(get("victim"), "victim\n");
    close(root);
}

static void test_trusted(void)
{
    struct stat st = {.st_uid = 0, .st_mode = S_IFREG | 0600};
    CHECK_EQ_INT(mw_stat_trusted(&st), 0);
    st.st_uid = geteuid();
    CHECK_EQ_INT(mw_stat_trusted(&st), 0);
    st.st_mode = S_IFDIR | 01777;
    CHECK_EQ_INT(mw_stat_trusted(&st), -EACCES);
    st.st_mode = S_IFREG | 0620;
    CHECK_EQ_INT(mw_stat_trusted(&st), -EACCES);
    st.st_mode = S_IFREG | 0644;
    st.st_uid = geteuid() + 4242;
    CHECK_EQ_INT(mw_stat_trusted(&st), -EPERM);
}

static void test_out_replace(void)
{
    char p[256], v[256];
    at("report.html", p, sizeof(p));
    at("victim", v, sizeof(v));
    CHECK(symlink(v, p) == 0);
    struct mw_out o;
    CHECK_EQ_INT(mw_out_begin(AT_FDCWD, p, 0644, &o), 0);
    fputs("<html>\n", o.f);
    CHECK_EQ_INT(mw_out_commit(&o), 0);
    struct stat st;
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode)); /* the link replaced */
    CHECK_STR(get("report.html"), "<html>\n");
    CHECK_STR(get("victim"), "victim\n");
    /* again over the file: replaced; no temporary left behind */
    CHECK_EQ_INT(mw_out_begin(AT_FDCWD, p, 0644, &o), 0);
    fputs("two\n", o.f);
    CHECK_EQ_INT(mw_out_commit(&o), 0);
    CHECK_STR(get("report.html"), "two\n");
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s | grep '^\\.')\"", top);
    CHECK(system(cmd) == 0);
    /* aborted: nothing changes; a directory in the way: an error */
    CHECK_EQ_INT(mw_out_begin(AT_FDCWD, p, 0644, &o), 0);
    fputs("three\n", o.f);
    mw_out_abort(&o);
    CHECK_STR(get("report.html"), "two\n");
    at("tree", p, sizeof(p));
    CHECK_EQ_INT(mw_out_begin(AT_FDCWD, p, 0644, &o), 0);
    CHECK(mw_out_commit(&o) < 0);
}

static void test_out_append(void)
{
    char p[256], v[256];
    at("rec.jsonl", p, sizeof(p));
    int fd = mw_out_append_open(p, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "a\n", 2) == 2);
        close(fd);
    }
    fd = mw_out_append_open(p, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "b\n", 2) == 2);
        close(fd);
    }
    CHECK_STR(get("rec.jsonl"), "a\nb\n");
    /* a link at the name, a hard link, a FIFO: refused */
    at("victim", v, sizeof(v));
    at("link.jsonl", p, sizeof(p));
    CHECK(symlink(v, p) == 0);
    CHECK_EQ_INT(mw_out_append_open(p, 0644), -ELOOP);
    at("hard.jsonl", p, sizeof(p));
    CHECK(link(v, p) == 0);
    CHECK_EQ_INT(mw_out_append_open(p, 0644), -EMLINK);
    CHECK_STR(get("victim"), "victim\n");
    at("fifo", p, sizeof(p));
    CHECK(mkfifo(p, 0600) == 0);
    CHECK_EQ_INT(mw_out_append_open(p, 0644), -EBADFD);
    if (geteuid() == 0) { /* another user's file */
        at("theirs.jsonl", p, sizeof(p));
        put("theirs.jsonl", "x\n");
        CHECK(chown(p, 65534, 65534) == 0);
        CHECK_EQ_INT(mw_out_append_open(p, 0644), -EPERM);
    }
    CHECK_CONTAINS(mw_out_strerror(ELOOP), "symbolic link");
}

int main(void)
{
    setup();
    RUN(test_beneath_openat2);
    RUN(test_beneath_walk);
    RUN(test_beneath_mkdirs_unlink);
    RUN(test_trusted);
    RUN(test_out_replace);
    RUN(test_out_append);
    teardown();
    return TESTS_DONE();
}
