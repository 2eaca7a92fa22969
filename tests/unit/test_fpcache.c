/* The footprint cache's table (lmk/fpcache.h): entries by PID through an
 * index that deletes without tombstones, and the held oom_score_adj
 * descriptors -- read, re-read after a write, refused once the file is
 * unlinked (a captured tree's process replaced), closed with their entry,
 * and a table without descriptor budget that still reads. */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmk/fpcache.h"

/* The index agrees with the entries: every entry found at its place. */
static bool consistent(const struct mw_fpc *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (mw_fpc_find(t, t->e[i].pid) != &t->e[i])
            return false;
    return true;
}

static void test_add_find_drop(void)
{
    struct mw_fpc t;
    CHECK_EQ_INT(mw_fpc_init(&t), 0);
    /* PIDs that share home slots (the index is MW_FPC_SLOTS wide), and
     * plain ones */
    int pids[4000];
    for (int i = 0; i < 4000; i++) {
        pids[i] = i < 2000 ? 1 + i * MW_FPC_SLOTS : 100000 + 7 * i;
        CHECK(mw_fpc_add(&t, pids[i]) != NULL);
    }
    CHECK_EQ_INT(t.n, 4000);
    CHECK(consistent(&t));
    /* drop every third, in an order that moves entries around */
    for (int i = 3999; i >= 0; i -= 3) {
        struct mw_fp *e = mw_fpc_find(&t, pids[i]);
        CHECK(e != NULL);
        if (e)
            mw_fpc_drop(&t, (size_t)(e - t.e));
    }
    CHECK(consistent(&t));
    for (int i = 0; i < 4000; i++)
        CHECK((mw_fpc_find(&t, pids[i]) != NULL) == ((3999 - i) % 3 != 0));
    CHECK(mw_fpc_find(&t, 424242) == NULL);
    /* full: no entry past 3/4 of the index */
    struct mw_fpc f;
    CHECK_EQ_INT(mw_fpc_init(&f), 0);
    size_t added = 0;
    for (int pid = 2; pid < 2 + MW_FPC_SLOTS; pid++)
        added += mw_fpc_add(&f, pid) != NULL;
    CHECK_EQ_U64(added, MW_FPC_SLOTS / 4 * 3);
    CHECK(consistent(&f));
    mw_fpc_free(&f);
    mw_fpc_free(&t);
}

static char tree[32];

static void put_adj(int pid, const char *text)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/%d", tree, pid);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%d/oom_score_adj", tree, pid);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_held_adj(void)
{
    snprintf(tree, sizeof(tree), "/tmp/mw-fpc-XXXXXX");
    if (!mkdtemp(tree))
        SKIP("no scratch directory");
    put_adj(100, "300\n");
    put_adj(200, "-1000\n");
    int dir = open(tree, O_RDONLY | O_DIRECTORY);
    struct mw_fpc t;
    CHECK_EQ_INT(mw_fpc_init(&t), 0);
    t.check_links = true; /* a tree, not a procfs */
    CHECK(t.fd_max > 0);
    struct mw_fp *e = mw_fpc_add(&t, 100);
    int adj = 0;
    CHECK_EQ_INT(mw_fpc_adj_read(&t, dir, e, &adj), 0);
    CHECK_EQ_INT(adj, 300);
    CHECK(e->adj_fd >= 0);
    CHECK_EQ_INT(t.fds, 1);
    put_adj(100, "900\n"); /* rewritten in place: the held descriptor sees it */
    CHECK_EQ_INT(mw_fpc_adj_read(&t, dir, e, &adj), 0);
    CHECK_EQ_INT(adj, 900);
    CHECK_EQ_INT(t.fds, 1);
    /* the process replaced: its file unlinked, a new one made */
    char path[96];
    snprintf(path, sizeof(path), "%s/100/oom_score_adj", tree);
    unlink(path);
    put_adj(100, "0\n");
    CHECK_EQ_INT(mw_fpc_adj_read(&t, dir, e, &adj), -ENOENT);
    mw_fpc_drop(&t, 0);
    CHECK_EQ_INT(t.fds, 0);
    /* no budget: read per call, nothing held */
    t.fd_max = 0;
    e = mw_fpc_add(&t, 200);
    CHECK_EQ_INT(mw_fpc_adj_read(&t, dir, e, &adj), 0);
    CHECK_EQ_INT(adj, -1000);
    CHECK_EQ_INT(e->adj_fd, -1);
    /* gone */
    e = mw_fpc_add(&t, 300);
    CHECK(mw_fpc_adj_read(&t, dir, e, &adj) < 0);
    mw_fpc_free(&t);
    close(dir);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_add_find_drop);
    RUN(test_held_adj);
    return TESTS_DONE();
}
