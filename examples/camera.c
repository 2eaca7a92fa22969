/* camera: a fake camera pipeline on libmwpool. A producer takes a frame
 * from a pool FPS times a second, fills it and queues it; two consumers
 * take frames off the queue, "process" them and put them back. With
 * --leak-every N the second consumer forgets to put one frame in N: the
 * pool's blocks in use climb while the process's RSS stays flat (the
 * pool is mapped and touched up front), which is what `memwarden top
 * --pools` and `memwarden leak -p PID` see from outside. The queue holds
 * at most --queue frames (default 4): when the consumers lag, the oldest
 * frame is dropped and put back, as a camera drops frames, so the frames
 * in flight stay few and a leak stands out.
 *
 *   camera [--frames N] [--frame-size BYTES] [--fps N] [--leak-every N]
 *          [--queue N] [--seconds S] [--name NAME]
 * Publishes under $MWPOOL_DIR (default /run/mwpool). Stops at SIGINT or
 * SIGTERM or after S seconds, printing the pool's statistics. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mwpool.h"

#define NV12_1080P (1920 * 1080 * 3 / 2) /* 3110400 bytes: Y plane + interleaved UV */

struct queue {
    void **slot;
    size_t cap, head, n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static struct mwpool *pool;
static struct queue q;
static atomic_int stop;
static atomic_ulong produced, dropped, consumed, leaked;
static unsigned long fps = 30, leak_every;
static size_t frame_size = NV12_1080P;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop, 1);
}

/* Queues F; returns the oldest frame when the queue was full (to drop). */
static void *q_push(void *f)
{
    void *old = NULL;
    pthread_mutex_lock(&q.mu);
    if (q.n == q.cap) {
        old = q.slot[q.head];
        q.head = (q.head + 1) % q.cap;
        q.n--;
    }
    q.slot[(q.head + q.n++) % q.cap] = f;
    pthread_cond_signal(&q.cv);
    pthread_mutex_unlock(&q.mu);
    return old;
}

static void *q_pop(void)
{
    pthread_mutex_lock(&q.mu);
    while (q.n == 0 && !atomic_load(&stop)) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 100000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q.cv, &q.mu, &dl);
    }
    void *f = NULL;
    if (q.n) {
        f = q.slot[q.head];
        q.head = (q.head + 1) % q.cap;
        q.n--;
    }
    pthread_mutex_unlock(&q.mu);
    return f;
}

static void *producer(void *arg)
{
    (void)arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t seq = 0; !atomic_load(&stop); seq++) {
        unsigned char *f = mwpool_get(pool, 100);
        if (!f) {
            atomic_fetch_add(&dropped, 1); /* every frame is held: the sensor drops one */
        } else {
            memcpy(f, &seq, sizeof(seq));
            memset(f + sizeof(seq), (int)(seq & 0xff),
                   frame_size > 4096 ? 4096 - sizeof(seq) : frame_size - sizeof(seq));
            void *old = q_push(f);
            atomic_fetch_add(&produced, 1);
            if (old) {
                mwpool_put(pool, old); /* the consumers lag: drop the oldest frame */
                atomic_fetch_add(&dropped, 1);
            }
        }
        next.tv_nsec += (long)(1000000000UL / fps);
        while (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned long handled = 0;
    while (!atomic_load(&stop)) {
        unsigned char *f = q_pop();
        if (!f)
            continue;
        volatile unsigned sum = 0;
        for (size_t i = 0; i < 4096 && i < frame_size; i += 64)
            sum += f[i];
        handled++;
        if (id == 1 && leak_every && handled % leak_every == 0) {
            atomic_fetch_add(&leaked, 1); /* the bug: an early return skips the put */
            continue;
        }
        mwpool_put(pool, f);
        atomic_fetch_add(&consumed, 1);
    }
    return NULL;
}

static unsigned long num_arg(const char *opt, const char *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v ? v : "", &end, 10);
    if (!v || errno || *end || end == v) {
        fprintf(stderr, "camera: %s needs a number\n", opt);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    unsigned long frames = 32, seconds = 0, depth = 4;
    const char *name = "frames";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--frames") == 0)
            frames = num_arg(a, v);
        else if (strcmp(a, "--frame-size") == 0)
            frame_size = num_arg(a, v);
        else if (strcmp(a, "--fps") == 0)
            fps = num_arg(a, v);
        else if (strcmp(a, "--leak-every") == 0)
            leak_every = num_arg(a, v);
        else if (strcmp(a, "--queue") == 0)
            depth = num_arg(a, v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = num_arg(a, v);
        else if (strcmp(a, "--name") == 0 && v)
            name = v;
        else {
            fprintf(stderr, "usage: camera [--frames N] [--frame-size BYTES] [--fps N] "
                            "[--leak-every N] [--queue N] [--seconds S] [--name NAME]\n");
            return 2;
        }
        i++;
    }
    if (!frames || frame_size < 16 || !fps || fps > 100000 || !depth || depth > 1000000) {
        fprintf(stderr, "camera: --frames, --fps, --queue must be > 0, --frame-size >= 16\n");
        return 2;
    }
    struct mwpool_config c = {.block_size = frame_size,
                              .blocks = frames,
                              .flags = MWPOOL_PAGE_ALIGN | MWPOOL_PREFAULT,
                              .name = name};
    int rc = mwpool_create(&c, &pool);
    if (rc < 0) {
        fprintf(stderr, "camera: mwpool_create: %s\n", strerror(-rc));
        return 1;
    }
    if ((rc = mwpool_publish(pool)) < 0)
        fprintf(stderr, "camera: not publishing the pool's statistics: %s\n", strerror(-rc));
    q.cap = depth;
    q.slot = calloc(depth, sizeof(*q.slot));
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_t th[3];
    pthread_create(&th[0], NULL, producer, NULL);
    pthread_create(&th[1], NULL, consumer, (void *)0);
    pthread_create(&th[2], NULL, consumer, (void *)1);
    for (unsigned long t = 0; !atomic_load(&stop) && (!seconds || t < seconds * 10); t++)
        usleep(100000);
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    while (q.n)
        mwpool_put(pool, q_pop());
    /* the frames the consumers were holding when stopped are theirs: a real
     * program would put them; the leaked ones stay in use */
    struct mwpool_stats s;
    mwpool_stats(pool, &s);
    printf("camera: %lu frames produced, %lu dropped, %lu consumed, %lu leaked; pool %s: "
           "%llu blocks of %zu bytes, %llu in use, high water %llu, failed gets %llu\n",
           atomic_load(&produced), atomic_load(&dropped), atomic_load(&consumed),
           atomic_load(&leaked), name, (unsigned long long)s.blocks_total, frame_size,
           (unsigned long long)s.blocks_in_use, (unsigned long long)s.high_water,
           (unsigned long long)s.failed_gets);
    mwpool_destroy(pool);
    free(q.slot);
    return 0;
}
