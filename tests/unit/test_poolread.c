/* proc/mwpool: the reader of libmwpool's published pages. Valid pages as
 * the library lays them out, hostile bytes (every validation once), and
 * the directory reader on a scratch tree with symlinks, a FIFO, a huge
 * file and a page that names another PID. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "proc/mwpool.h"
#include "../../lib/mwpool/mwpool.h"

static void good_page(struct mwpool_page *g, int pid)
{
    memset(g, 0, sizeof(*g));
    g->magic = MWPOOL_PAGE_MAGIC;
    g->version = MWPOOL_PAGE_VERSION;
    g->header_size = sizeof(*g);
    g->pid = (uint32_t)pid;
    g->seq = 42;
    snprintf(g->name, sizeof(g->name), "frames");
    g->block_size = 3110400;
    g->blocks_total = 8;
    g->blocks_in_use = 5;
    g->high_water = 7;
    g->max_blocks = 16;
    g->failed_gets = 3;
    g->waits = 2;
}

static void test_layout_agrees(void)
{
    CHECK_EQ_U64(sizeof(struct mwpool_page), MW_POOL_HEADER);
    CHECK_EQ_U64(offsetof(struct mwpool_page, seq), 16);
    CHECK_EQ_U64(offsetof(struct mwpool_page, name), 24);
    CHECK_EQ_U64(offsetof(struct mwpool_page, block_size), 56);
    CHECK_EQ_U64(offsetof(struct mwpool_page, trimmed_chunks), 112);
    CHECK_EQ_U64(MWPOOL_PAGE_MAGIC, MW_POOL_MAGIC);
}

static void test_parse_good(void)
{
    struct mwpool_page g;
    good_page(&g, 1234);
    struct mw_pool p;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), 0);
    CHECK_EQ_INT(p.pid, 1234);
    CHECK_STR(p.name, "frames");
    CHECK_EQ_U64(p.block_size, 3110400);
    CHECK_EQ_U64(p.blocks_in_use, 5);
    CHECK_EQ_U64(p.high_water, 7);
    CHECK_EQ_U64(p.failed_gets, 3);
    char big[4096] = {0}; /* the file as published: a page, header first */
    memcpy(big, &g, sizeof(g));
    CHECK_EQ_INT(mw_pool_parse_buf(&p, big, sizeof(big)), 0);
}

/* Each hostile page is refused with the code said, *out untouched. */
static void test_parse_hostile(void)
{
    struct mwpool_page g;
    struct mw_pool p = {.pid = -7};
    good_page(&g, 9);
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, 127), -EBADMSG); /* short */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, NULL, 0), -EBADMSG);
    g.magic = 0x12345678;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.version = 2;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EPROTONOSUPPORT);
    good_page(&g, 9);
    g.header_size = 4096; /* says more than there is */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.seq = 43;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EAGAIN);
    good_page(&g, 9);
    memset(g.name, 'A', sizeof(g.name)); /* no NUL */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.name[0] = '\0';
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.blocks_in_use = 9; /* above the total */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.high_water = 9;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.blocks_total = 17; /* above the cap */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.block_size = 0;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.block_size = UINT64_MAX; /* in_use x block size would overflow */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.block_size = 1ull << 40;
    g.max_blocks = 1ull << 20; /* 2^60 bytes */
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 0);
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    good_page(&g, 9);
    g.pid = 0x80000000u;
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), -EBADMSG);
    CHECK_EQ_INT(p.pid, -7);
    /* a name with bytes a terminal would act on is cleaned, not refused */
    good_page(&g, 9);
    memcpy(g.name, "a\x1b[2Jb", 7);
    CHECK_EQ_INT(mw_pool_parse_buf(&p, &g, sizeof(g)), 0);
    CHECK_STR(p.name, "a??2Jb");
}

static void put_file(const char *path, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, b, n) == (ssize_t)n);
    close(fd);
}

static void test_read_dir(void)
{
    char dir[] = "/tmp/mw-poolread-XXXXXX", p[400];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    struct mwpool_page g;
    snprintf(p, sizeof(p), "%s/100", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/200", dir);
    mkdir(p, 0755);
    good_page(&g, 100);
    snprintf(p, sizeof(p), "%s/100/frames", dir);
    put_file(p, &g, sizeof(g));
    snprintf(g.name, sizeof(g.name), "audio");
    snprintf(p, sizeof(p), "%s/100/audio", dir);
    put_file(p, &g, sizeof(g));
    snprintf(p, sizeof(p), "%s/100/link", dir); /* a symlink to a valid page */
    CHECK_EQ_INT(symlink("audio", p), 0);
    snprintf(p, sizeof(p), "%s/100/fifo", dir);
    CHECK_EQ_INT(mkfifo(p, 0644), 0);
    static char huge[1 << 16];
    memcpy(huge, &g, sizeof(g));
    snprintf(p, sizeof(p), "%s/100/huge", dir);
    put_file(p, huge, sizeof(huge));
    good_page(&g, 100); /* in 200/, but says PID 100 */
    snprintf(p, sizeof(p), "%s/200/liar", dir);
    put_file(p, &g, sizeof(g));
    snprintf(p, sizeof(p), "%s/300", dir); /* a PID directory that is a symlink */
    CHECK_EQ_INT(symlink("100", p), 0);
    snprintf(p, sizeof(p), "%s/junk", dir);
    mkdir(p, 0755);

    int fd = mw_pool_dir_open(NULL, dir);
    CHECK(fd >= 0);
    struct mw_pool_set set = {0};
    CHECK_EQ_INT(mw_pool_scan(fd, &set), 2);
    CHECK_EQ_U64(set.n, 2);
    if (set.n == 2) {
        CHECK_STR(set.p[0].name, "audio"); /* sorted by name within a PID */
        CHECK_STR(set.p[1].name, "frames");
    }
    uint64_t used, room;
    CHECK_EQ_U64(mw_pool_pid_bytes(&set, 100, &used, &room), 2);
    CHECK_EQ_U64(used, 2 * 5 * 3110400ull);
    CHECK_EQ_U64(room, 2 * 11 * 3110400ull);
    int rc = mw_pool_read_pid(fd, 300, &set);
    CHECK(rc == -ELOOP || rc == -ENOTDIR);
    CHECK_EQ_INT(mw_pool_read_pid(fd, 400, &set), -ENOENT);
    mw_pool_set_free(&set);
    close(fd);
    char cmd[500];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_layout_agrees);
    RUN(test_parse_good);
    RUN(test_parse_hostile);
    RUN(test_read_dir);
    return TESTS_DONE();
}
