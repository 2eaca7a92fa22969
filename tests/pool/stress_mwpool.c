/* stress_mwpool: THREADS threads get and put at random for SECONDS (argv[1],
 * default 3), each holding up to HOLD blocks, writing its id into every
 * block it holds and checking it is still there before the put: a block
 * handed to two threads at once fails the check. Some gets wait with a
 * timeout, one thread trims now and then, the pool grows to a cap smaller
 * than what all threads may hold, so exhaustion, waiting, growth and trim
 * all race with each other. `make check-pool` runs it under
 * ThreadSanitizer (release and debug builds). Exit 0 when every check held. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwpool.h"

#define THREADS    8
#define HOLD       16
#define BLOCK_SIZE 256

static struct mwpool *pool;
static atomic_int stop, bad;
static atomic_ulong ops;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1);
    unsigned char *held[HOLD];
    int n = 0;
    unsigned long k = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = rnd(&seed);
        if (n < HOLD && (n == 0 || r % 2)) {
            unsigned char *b = r % 7 == 0 ? mwpool_get(pool, 1) : mwpool_try_get(pool);
            if (b) {
                memset(b, (int)id + 1, BLOCK_SIZE);
                held[n++] = b;
            }
        } else {
            int i = (int)(r % (uint64_t)n);
            unsigned char *b = held[i];
            if (b[0] != id + 1 || b[BLOCK_SIZE - 1] != id + 1)
                atomic_store(&bad, 1);
            if (mwpool_put(pool, b) != 0)
                atomic_store(&bad, 1);
            held[i] = held[--n];
        }
        if (id == 0 && r % 5000 == 0)
            mwpool_trim(pool);
        k++;
    }
    while (n)
        mwpool_put(pool, held[--n]);
    atomic_fetch_add(&ops, k);
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3;
    struct mwpool_config c = {.block_size = BLOCK_SIZE,
                              .blocks = 32,
                              .grow_blocks = 16,
                              .max_blocks = THREADS * HOLD * 3 / 4,
                              .name = "stress"};
    if (mwpool_create(&c, &pool) != 0)
        return 2;
    if (getenv("MWPOOL_DIR") && mwpool_publish(pool) != 0) /* the page's writer races too */
        return 2;
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    struct mwpool_stats s;
    mwpool_stats(pool, &s);
    int ok = !atomic_load(&bad) && s.blocks_in_use == 0 && s.blocks_total <= c.max_blocks &&
             s.high_water <= s.blocks_total;
    printf("%s stress_mwpool: %d threads, %.1f s, %lu operations, total %llu, high water %llu, "
           "failed gets %llu, waits %llu, trimmed %llu\n",
           ok ? "ok  " : "FAIL", THREADS, secs, (unsigned long)atomic_load(&ops),
           (unsigned long long)s.blocks_total, (unsigned long long)s.high_water,
           (unsigned long long)s.failed_gets, (unsigned long long)s.waits,
           (unsigned long long)s.trimmed_chunks);
    mwpool_destroy(pool);
    return ok ? 0 : 1;
}
