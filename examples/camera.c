/* camera: a fake camera pipeline on libmwpool. Each stream (--streams N,
 * default 1) has a pool of frames, a producer that takes a frame FPS times
 * a second, fills it and queues it, and two consumers that take frames off
 * the queue, "process" them and put them back. With --leak-every N the
 * second consumer of every stream forgets to put one frame in N: the
 * pool's blocks in use climb while the process's RSS stays flat (the
 * pool is mapped and touched up front), which is what `memwarden top
 * --pools` and `memwarden leak -p PID` see from outside. The queue holds
 * at most --queue frames (default 4): when the consumers lag, the oldest
 * frame is dropped and put back, as a camera drops frames, so the frames
 * in flight stay few and a leak stands out.
 *
 * By default a frame's first page is written and read; --fill writes and
 * reads the whole frame, as a sensor's DMA and an encoder would, so the
 * frames stay in use under memory pressure. Each producer measures how
 * late it woke for each frame (its deadline is absolute, FPS a second):
 * the worst, the 99th percentile and the frames missed (woken more than
 * a frame period late) are printed per stream at the end. --rt PRIO runs
 * the producers SCHED_FIFO at PRIO, as capture threads on a board often do.
 *
 *   camera [--streams N] [--frames N] [--frame-size BYTES] [--fps N]
 *          [--fill] [--rt PRIO] [--leak-every N] [--queue N] [--seconds S]
 *          [--name NAME]
 * Publishes under $MWPOOL_DIR (default /run/mwpool), a pool named NAME
 * (one stream) or NAME-0, NAME-1, ... Stops at SIGINT or SIGTERM or after
 * S seconds, printing each pool's statistics on stderr (as `memwarden run`
 * prints its summary: stdout stays for `run --json`). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mwpool.h"

#define NV12_1080P   (1920 * 1080 * 3 / 2) /* 3110400 bytes: Y plane + interleaved UV */
#define MAX_STREAMS  8
#define LATE_BUCKET  100  /* us per bucket of the lateness histogram */
#define LATE_BUCKETS 2000 /* 0 .. 200 ms; later ones count in the last */

struct queue {
    void **slot;
    size_t cap, head, n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct stream {
    char name[32];
    struct mwpool *pool;
    struct queue q;
    atomic_ulong produced, dropped, consumed, leaked;
    /* the producer's alone: how late it woke for each frame */
    uint64_t late_max_ns, missed, frames_timed;
    uint32_t late_hist[LATE_BUCKETS];
};

struct worker {
    struct stream *s;
    unsigned id; /* consumer 0 or 1 */
};

static atomic_int stop;
static unsigned long fps = 30, leak_every;
static size_t frame_size = NV12_1080P;
static int fill, rt_prio;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop, 1);
}

/* Queues F; returns the oldest frame when the queue was full (to drop). */
static void *q_push(struct queue *q, void *f)
{
    void *old = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->n == q->cap) {
        old = q->slot[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
    }
    q->slot[(q->head + q->n++) % q->cap] = f;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return old;
}

static void *q_pop(struct queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !atomic_load(&stop)) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 100000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q->cv, &q->mu, &dl);
    }
    void *f = NULL;
    if (q->n) {
        f = q->slot[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
    }
    pthread_mutex_unlock(&q->mu);
    return f;
}

static uint64_t ns_of(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* Counts how late the producer woke for a frame due at DUE. */
static void time_frame(struct stream *s, const struct timespec *due)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t d = ns_of(due), n = ns_of(&now), late = n > d ? n - d : 0;
    uint64_t b = late / 1000 / LATE_BUCKET;
    s->late_hist[b < LATE_BUCKETS ? b : LATE_BUCKETS - 1]++;
    s->late_max_ns = late > s->late_max_ns ? late : s->late_max_ns;
    s->missed += late > 1000000000u / fps;
    s->frames_timed++;
}

static void *producer(void *arg)
{
    struct stream *s = arg;
    if (rt_prio) {
        struct sched_param sp = {.sched_priority = rt_prio};
        int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
        if (rc)
            fprintf(stderr, "camera: %s: SCHED_FIFO %d refused: %s\n", s->name, rt_prio,
                    strerror(rc));
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t seq = 0; !atomic_load(&stop); seq++) {
        unsigned char *f = mwpool_get(s->pool, 100);
        if (!f) {
            atomic_fetch_add(&s->dropped, 1); /* every frame is held: the sensor drops one */
        } else {
            size_t n = fill ? frame_size : frame_size > 4096 ? 4096 : frame_size;
            memcpy(f, &seq, sizeof(seq));
            memset(f + sizeof(seq), (int)(seq & 0xff), n - sizeof(seq));
            void *old = q_push(&s->q, f);
            atomic_fetch_add(&s->produced, 1);
            if (old) {
                mwpool_put(s->pool, old); /* the consumers lag: drop the oldest frame */
                atomic_fetch_add(&s->dropped, 1);
            }
        }
        next.tv_nsec += (long)(1000000000UL / fps);
        while (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        time_frame(s, &next);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct worker *w = arg;
    struct stream *s = w->s;
    unsigned long handled = 0;
    size_t n = fill ? frame_size : frame_size > 4096 ? 4096 : frame_size;
    while (!atomic_load(&stop)) {
        unsigned char *f = q_pop(&s->q);
        if (!f)
            continue;
        volatile unsigned sum = 0;
        for (size_t i = 0; i < n; i += 64)
            sum += f[i];
        (void)sum;
        handled++;
        if (w->id == 1 && leak_every && handled % leak_every == 0) {
            atomic_fetch_add(&s->leaked, 1); /* the bug: an early return skips the put */
            continue;
        }
        mwpool_put(s->pool, f);
        atomic_fetch_add(&s->consumed, 1);
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

/* The lateness below which 99 % of S's frames woke, in ms. */
static double late_p99_ms(const struct stream *s)
{
    uint64_t want = s->frames_timed - s->frames_timed / 100, seen = 0;
    for (size_t b = 0; b < LATE_BUCKETS; b++)
        if ((seen += s->late_hist[b]) >= want && want)
            return (double)((b + 1) * LATE_BUCKET) / 1000.0;
    return 0;
}

static void report(const struct stream *s)
{
    struct mwpool_stats st;
    mwpool_stats(s->pool, &st);
    fprintf(stderr,
            "camera: %lu frames produced, %lu dropped, %lu consumed, %lu leaked; pool %s: "
            "%llu blocks of %zu bytes, %llu in use, high water %llu, failed gets %llu; "
            "woke late max %.1f ms, p99 %.1f ms, %llu frames missed\n",
            atomic_load(&s->produced), atomic_load(&s->dropped), atomic_load(&s->consumed),
            atomic_load(&s->leaked), s->name, (unsigned long long)st.blocks_total, frame_size,
            (unsigned long long)st.blocks_in_use, (unsigned long long)st.high_water,
            (unsigned long long)st.failed_gets, (double)s->late_max_ns / 1e6, late_p99_ms(s),
            (unsigned long long)s->missed);
}

/* Creates stream K's pool (publishing it) and queue. Returns 0 or 1. */
static int stream_open(struct stream *s, const char *name, unsigned long k, unsigned long n,
                       unsigned long frames, unsigned long depth)
{
    if (n == 1)
        snprintf(s->name, sizeof(s->name), "%s", name);
    else
        snprintf(s->name, sizeof(s->name), "%.28s-%lu", name, k);
    struct mwpool_config c = {.block_size = frame_size,
                              .blocks = frames,
                              .flags = MWPOOL_PAGE_ALIGN | MWPOOL_PREFAULT,
                              .name = s->name};
    int rc = mwpool_create(&c, &s->pool);
    if (rc < 0) {
        fprintf(stderr, "camera: mwpool_create %s: %s\n", s->name, strerror(-rc));
        return 1;
    }
    if ((rc = mwpool_publish(s->pool)) < 0)
        fprintf(stderr, "camera: not publishing the pool's statistics: %s\n", strerror(-rc));
    s->q.cap = depth;
    s->q.slot = calloc(depth, sizeof(*s->q.slot));
    pthread_mutex_init(&s->q.mu, NULL);
    pthread_cond_init(&s->q.cv, NULL);
    return s->q.slot ? 0 : 1;
}

/* After the threads stopped: queued frames back, statistics, pool gone.
 * The frames the consumers were holding when stopped are theirs: a real
 * program would put them; the leaked ones stay in use. */
static void stream_close(struct stream *s)
{
    while (s->q.n)
        mwpool_put(s->pool, q_pop(&s->q));
    report(s);
    mwpool_destroy(s->pool);
    free(s->q.slot);
}

int main(int argc, char **argv)
{
    unsigned long frames = 32, seconds = 0, depth = 4, nstreams = 1;
    const char *name = "frames";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--fill") == 0) {
            fill = 1;
            continue;
        }
        if (strcmp(a, "--streams") == 0)
            nstreams = num_arg(a, v);
        else if (strcmp(a, "--frames") == 0)
            frames = num_arg(a, v);
        else if (strcmp(a, "--frame-size") == 0)
            frame_size = num_arg(a, v);
        else if (strcmp(a, "--fps") == 0)
            fps = num_arg(a, v);
        else if (strcmp(a, "--rt") == 0)
            rt_prio = (int)num_arg(a, v);
        else if (strcmp(a, "--leak-every") == 0)
            leak_every = num_arg(a, v);
        else if (strcmp(a, "--queue") == 0)
            depth = num_arg(a, v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = num_arg(a, v);
        else if (strcmp(a, "--name") == 0 && v)
            name = v;
        else {
            fprintf(stderr,
                    "usage: camera [--streams N] [--frames N] [--frame-size BYTES] "
                    "[--fps N] [--fill] [--rt PRIO] [--leak-every N] [--queue N] [--seconds S] "
                    "[--name NAME]\n");
            return 2;
        }
        i++;
    }
    if (!frames || frame_size < 16 || !fps || fps > 100000 || !depth || depth > 1000000 ||
        !nstreams || nstreams > MAX_STREAMS || rt_prio > 99) {
        fprintf(stderr, "camera: --frames, --fps, --queue must be > 0, --frame-size >= 16, "
                        "--streams 1 to 8, --rt 0 to 99\n");
        return 2;
    }
    static struct stream st[MAX_STREAMS];
    static struct worker wk[MAX_STREAMS][2];
    for (unsigned long k = 0; k < nstreams; k++)
        if (stream_open(&st[k], name, k, nstreams, frames, depth))
            return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_t th[MAX_STREAMS][3];
    for (unsigned long k = 0; k < nstreams; k++) {
        wk[k][0] = (struct worker){&st[k], 0};
        wk[k][1] = (struct worker){&st[k], 1};
        pthread_create(&th[k][0], NULL, producer, &st[k]);
        pthread_create(&th[k][1], NULL, consumer, &wk[k][0]);
        pthread_create(&th[k][2], NULL, consumer, &wk[k][1]);
    }
    for (unsigned long t = 0; !atomic_load(&stop) && (!seconds || t < seconds * 10); t++)
        usleep(100000);
    atomic_store(&stop, 1);
    for (unsigned long k = 0; k < nstreams; k++)
        for (int i = 0; i < 3; i++)
            pthread_join(th[k][i], NULL);
    for (unsigned long k = 0; k < nstreams; k++)
        stream_close(&st[k]);
    return 0;
}
