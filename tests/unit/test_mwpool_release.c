/* libmwpool as released (no -DMWPOOL_DEBUG): a double put is reported as
 * the header says and refused, and the pool stays whole — before issue 24
 * the free list then pointed at itself, six try_gets of a 4-block pool
 * returned one address and the stats said 5 of 4 in use. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mwpool.h"

static struct {
    int n;
    enum mwpool_error_kind kind[8];
    const void *block[8];
} errs;

static void on_error(const struct mwpool_error *e, void *ctx)
{
    (void)ctx;
    int i = __atomic_fetch_add(&errs.n, 1, __ATOMIC_RELAXED); /* two threads in the race */
    if (i < 8) {
        errs.kind[i] = e->kind;
        errs.block[i] = e->block;
    }
}

static void double_put(unsigned flags)
{
    struct mwpool *p;
    struct mwpool_config cfg = {.block_size = 64, .blocks = 4, .flags = flags, .name = "rel"};
    memset(&errs, 0, sizeof(errs));
    CHECK_EQ_INT(mwpool_create(&cfg, &p), 0);
    void *a = mwpool_try_get(p);
    CHECK(a != NULL);
    CHECK_EQ_INT(mwpool_put(p, a), 0);
    CHECK_EQ_INT(mwpool_put(p, a), -EINVAL);
    CHECK_EQ_INT(errs.n, 1);
    CHECK(errs.kind[0] == MWPOOL_ERR_DOUBLE_PUT && errs.block[0] == a);
    /* a block never handed out, put: the same */
    void *got[6] = {0};
    int n = 0;
    for (int i = 0; i < 6; i++)
        if ((got[i] = mwpool_try_get(p)) != NULL)
            n++;
    CHECK_EQ_INT(n, 4); /* the pool holds 4, each once */
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            CHECK(!got[i] || got[i] != got[j]);
    struct mwpool_stats st;
    mwpool_stats(p, &st);
    CHECK_EQ_U64(st.blocks_in_use, 4);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(mwpool_put(p, got[i]), 0);
    mwpool_stats(p, &st);
    CHECK_EQ_U64(st.blocks_in_use, 0);
    CHECK_EQ_INT(mwpool_put(p, got[0]), -EINVAL);
    int x;
    CHECK_EQ_INT(mwpool_put(p, &x), -EINVAL); /* foreign: as before */
    CHECK_EQ_INT(errs.n, 3);
    CHECK(errs.kind[2] == MWPOOL_ERR_FOREIGN);
    mwpool_destroy(p);
}

static void test_release_double_put(void)
{
    double_put(0);
}

static void test_release_double_put_single_thread(void)
{
    double_put(MWPOOL_SINGLE_THREAD);
}

/* Two threads put the same block at once, many times: one put wins. */
static struct mwpool *race_pool;
static void *volatile race_block;
static pthread_barrier_t race_bar;
static int race_ok[2];

static void *racer(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_barrier_wait(&race_bar);
        race_ok[me] += mwpool_put(race_pool, race_block) == 0;
        pthread_barrier_wait(&race_bar);
    }
    return NULL;
}

static void test_release_concurrent_double_put(void)
{
    struct mwpool_config cfg = {.block_size = 64, .blocks = 2, .name = "race"};
    memset(&errs, 0, sizeof(errs));
    CHECK_EQ_INT(mwpool_create(&cfg, &race_pool), 0);
    pthread_barrier_init(&race_bar, NULL, 3);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i);
    for (int i = 0; i < 20000; i++) {
        race_block = mwpool_try_get(race_pool);
        pthread_barrier_wait(&race_bar); /* both put it */
        pthread_barrier_wait(&race_bar);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(race_ok[0] + race_ok[1], 20000); /* one put of each pair won */
    CHECK_EQ_INT(errs.n, 20000);
    struct mwpool_stats st;
    mwpool_stats(race_pool, &st);
    CHECK_EQ_U64(st.blocks_in_use, 0);
    void *a = mwpool_try_get(race_pool), *b = mwpool_try_get(race_pool);
    CHECK(a && b && a != b && !mwpool_try_get(race_pool));
    pthread_barrier_destroy(&race_bar);
    mwpool_destroy(race_pool);
}

int main(void)
{
    mwpool_set_error_handler(on_error, NULL);
    RUN(test_release_double_put);
    RUN(test_release_double_put_single_thread);
    RUN(test_release_concurrent_double_put);
    return TESTS_DONE();
}
