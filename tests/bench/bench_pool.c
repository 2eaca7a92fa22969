/* bench_pool: libmwpool against malloc/free (of whatever libc this is
 * linked with: glibc normally, musl when built with musl-gcc -static).
 *
 *   bench_pool pairs [pool|malloc|all] [CELL_S]
 *     get/put (malloc/free) pairs per second, 1 and 2 threads, for 64 B,
 *     4 KiB and 3 MiB (1080p NV12, 3110400 B) blocks; each pair writes one
 *     byte of its block. One line per cell:
 *       pairs size=64 threads=1 alloc=pool rate=123456789
 *   bench_pool frames pool|malloc [SECONDS]
 *     a frame-buffer workload of mixed sizes (1080p and 720p NV12 frames,
 *     16..256 KiB thumbnails, each with a malloc'd metadata record of
 *     64..4096 B of which 1 in 64 lives on) on two threads for SECONDS
 *     (default 60), frames from pools or from malloc. RSS at half time and
 *     at the end while frames are in flight (the footprint the program
 *     runs at), after every frame and record went back (for the pool also
 *     after mwpool_trim), and the peak:
 *       frames alloc=pool seconds=60 frames=1234 rss_half_kb=.. rss_end_kb=..
 *              rss_returned_kb=.. hwm_kb=..
 * Timings are never pass/fail (tests/bench/run.sh prints the table). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwpool.h"

#define NV12_1080P 3110400u
#define NV12_720P  1382400u
#define THUMB_MAX  (256u << 10)
#define IN_FLIGHT  24   /* frames a thread holds at most */
#define LIVE_META  4096 /* long-lived metadata records per thread */

static atomic_int stop;
static int use_pool;
static struct mwpool *pool;
static size_t cell_size;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *pairs_thread(void *arg)
{
    uint64_t n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++) {
            char *b = use_pool ? mwpool_try_get(pool) : malloc(cell_size);
            if (!b)
                abort();
            *(volatile char *)b = (char)i;
            if (use_pool)
                mwpool_put(pool, b);
            else
                free(b);
        }
        n += 256;
    }
    *(uint64_t *)arg = n;
    return NULL;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pairs_cell(size_t size, int threads, int pooled, double cell_s)
{
    use_pool = pooled;
    cell_size = size;
    if (pooled) {
        struct mwpool_config c = {
            .block_size = size, .blocks = 8, .flags = MWPOOL_PREFAULT, .name = "bench"};
        if (mwpool_create(&c, &pool) != 0)
            abort();
    }
    pthread_t th[2];
    uint64_t n[2] = {0, 0};
    atomic_store(&stop, 0);
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, pairs_thread, &n[i]);
    sleep_s(cell_s);
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    printf("pairs size=%zu threads=%d alloc=%s rate=%.0f\n", size, threads,
           pooled ? "pool" : "malloc", (double)(n[0] + n[1]) / dt);
    fflush(stdout);
    if (pooled)
        mwpool_destroy(pool);
}

/* ---- the frame workload ---- */

static struct mwpool *frame_pool[3];
static const size_t frame_size[3] = {NV12_1080P, NV12_720P, THUMB_MAX};

struct frame {
    void *buf;
    int cls;
    void *meta;
};

static struct frame frame_get(uint64_t *seed)
{
    uint64_t r = rnd(seed) % 10;
    struct frame f = {.cls = r < 5 ? 0 : r < 8 ? 1 : 2};
    size_t size =
        f.cls < 2 ? frame_size[f.cls] : (16u << 10) + rnd(seed) % (THUMB_MAX - (16u << 10));
    f.buf = use_pool ? mwpool_get(frame_pool[f.cls], -1) : malloc(size);
    f.meta = malloc(64 + rnd(seed) % 4032);
    if (!f.buf || !f.meta)
        abort();
    memset(f.buf, 0x10, size); /* the sensor writes the whole frame */
    memset(f.meta, 1, 64);
    return f;
}

static void frame_put(struct frame *f, void **live, uint64_t *seed)
{
    if (use_pool)
        mwpool_put(frame_pool[f->cls], f->buf);
    else
        free(f->buf);
    if (rnd(seed) % 64 == 0) { /* this record lives on, another one goes */
        size_t k = rnd(seed) % LIVE_META;
        free(live[k]);
        live[k] = f->meta;
    } else {
        free(f->meta);
    }
}

static void *frames_thread(void *arg)
{
    uint64_t seed = 0x2545f4914f6cdd1dull + (uintptr_t)arg, n = 0;
    struct frame ring[IN_FLIGHT];
    void **live = calloc(LIVE_META, sizeof(*live));
    size_t head = 0, held = 0, depth = 4;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (rnd(&seed) % 256 == 0)
            depth = 4 + rnd(&seed) % (IN_FLIGHT - 4); /* the pipeline's depth changes */
        while (held >= depth) {
            frame_put(&ring[head], live, &seed);
            head = (head + 1) % IN_FLIGHT;
            held--;
        }
        ring[(head + held++) % IN_FLIGHT] = frame_get(&seed);
        n++;
    }
    while (held) {
        frame_put(&ring[head], live, &seed);
        head = (head + 1) % IN_FLIGHT;
        held--;
    }
    for (size_t k = 0; k < LIVE_META; k++)
        free(live[k]);
    free(live);
    *(uint64_t *)arg = n;
    return NULL;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0)
            v = strtol(line + kl, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static int frames(int pooled, double secs)
{
    use_pool = pooled;
    for (int i = 0; pooled && i < 3; i++) {
        /* two threads x IN_FLIGHT frames of any class: the pool never waits */
        struct mwpool_config c = {.block_size = frame_size[i],
                                  .blocks = 8,
                                  .max_blocks = 2 * IN_FLIGHT,
                                  .grow_blocks = 8};
        if (mwpool_create(&c, &frame_pool[i]) != 0)
            return 1;
    }
    pthread_t th[2];
    uint64_t n[2] = {1, 2};
    atomic_store(&stop, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, frames_thread, &n[i]);
    sleep_s(secs / 2);
    long half = status_kb("VmRSS:");
    sleep_s(secs / 2);
    long end = status_kb("VmRSS:");
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; pooled && i < 3; i++)
        mwpool_trim(frame_pool[i]);
    printf("frames alloc=%s seconds=%.0f frames=%llu rss_half_kb=%ld rss_end_kb=%ld "
           "rss_returned_kb=%ld hwm_kb=%ld\n",
           pooled ? "pool" : "malloc", secs, (unsigned long long)(n[0] + n[1]), half, end,
           status_kb("VmRSS:"), status_kb("VmHWM:"));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pairs";
    const char *which = argc > 2 ? argv[2] : "all";
    if (strcmp(mode, "frames") == 0)
        return frames(strcmp(which, "pool") == 0, argc > 3 ? atof(argv[3]) : 60);
    double cell_s = argc > 3 ? atof(argv[3]) : 0.5;
    static const size_t sizes[] = {64, 4096, NV12_1080P};
    for (size_t s = 0; s < 3; s++)
        for (int t = 1; t <= 2; t++)
            for (int p = 1; p >= 0; p--)
                if (strcmp(which, "all") == 0 || strcmp(which, p ? "pool" : "malloc") == 0)
                    pairs_cell(sizes[s], t, p, cell_s);
    return 0;
}
