/* heartbeat: the "foreground app" of the VM test bed. Keeps a working set
 * touched, wakes every period, and measures how late each tick finishes.
 *
 *   heartbeat [--ws 48M] [--period 10ms] [--stall 20ms] [--duration D]
 *             [--adj N] [--name NAME] [--out FILE]
 *
 * Every tick it sleeps until the next multiple of --period (absolute
 * deadlines), then writes one byte in the next slice of its working set so
 * that the whole set is rewritten once per second. A tick's latency is the
 * time from its deadline to the end of its touch: it grows when the process
 * waits for a CPU, for reclaim (direct reclaim, swap-in, refaults) or for a
 * page fault. A latency above --stall counts as one stall; after a stall the
 * schedule restarts from now, so one long freeze is one stall, not many.
 *
 * SIGUSR1 starts the measured window afresh: the figures so far (ticks,
 * stalls, histogram) are dropped, so a harness can measure a storm without
 * the set-up before it (the distro bed sends it at the draw's start).
 *
 * At exit (SIGTERM, SIGINT or --duration) it prints one JSON line:
 *   {"prog":"heartbeat","ticks":N,"stalls":S,"max_stall_ms":M,"p99_ms":P,...}
 * p99 is over all ticks, from a 0.1 ms histogram. With --out FILE it also
 * rewrites FILE with the same line every second, so the figures survive a
 * SIGKILL. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "progs.h"

#define HB_BUCKET_US 100   /* histogram resolution: 0.1 ms */
#define HB_BUCKETS   20000 /* 0..2 s in 0.1 ms steps; longer goes in the last */
#define HB_STALL_LOG 64    /* stalls kept individually (the longest win) */

struct hb_stall {
    double at_s; /* seconds since start */
    double ms;   /* latency of the stalled tick */
};

struct hb_stats {
    uint64_t ticks, stalls;
    uint64_t max_us;
    uint32_t hist[HB_BUCKETS];
    struct hb_stall log[HB_STALL_LOG];
    size_t nlog;
};

static volatile sig_atomic_t hb_stop, hb_reset;

static void hb_on_signal(int sig)
{
    (void)sig;
    hb_stop = 1;
}

static void hb_on_usr1(int sig)
{
    (void)sig;
    hb_reset = 1;
}

static void usage(FILE *f)
{
    fputs("Usage: heartbeat [--ws 48M] [--period 10ms] [--stall 20ms] [--duration D]\n"
          "                 [--adj N] [--name NAME] [--out FILE]\n"
          "Keeps a working set touched, wakes every period, records every tick later\n"
          "than --stall, and prints max/p99/count as one JSON line at exit.\n",
          f);
}

static void hb_record(struct hb_stats *s, uint64_t lat_us, uint64_t stall_us, double at_s)
{
    s->ticks++;
    uint64_t b = lat_us / HB_BUCKET_US;
    s->hist[b < HB_BUCKETS ? b : HB_BUCKETS - 1]++;
    if (lat_us > s->max_us)
        s->max_us = lat_us;
    if (lat_us <= stall_us)
        return;
    s->stalls++;
    struct hb_stall st = {.at_s = at_s, .ms = (double)lat_us / 1000.0};
    if (s->nlog < HB_STALL_LOG) {
        s->log[s->nlog++] = st;
        return;
    }
    size_t min = 0; /* full: replace the shortest kept stall if this one is longer */
    for (size_t i = 1; i < s->nlog; i++)
        if (s->log[i].ms < s->log[min].ms)
            min = i;
    if (st.ms > s->log[min].ms)
        s->log[min] = st;
}

/* Latency (ms) below which a fraction Q of ticks fall, to bucket precision. */
static double hb_quantile_ms(const struct hb_stats *s, double q)
{
    if (!s->ticks)
        return 0;
    uint64_t want = (uint64_t)((double)s->ticks * q + 0.999999), acc = 0;
    for (size_t b = 0; b < HB_BUCKETS; b++) {
        acc += s->hist[b];
        if (acc >= want)
            return (double)((b + 1) * HB_BUCKET_US) / 1000.0;
    }
    return (double)s->max_us / 1000.0;
}

static void hb_print(FILE *f, const struct hb_stats *s, const char *name, uint64_t ws,
                     uint64_t stall_ms, double elapsed_s, int final)
{
    fprintf(f,
            "{\"prog\":\"heartbeat\",\"name\":\"%s\",\"pid\":%ld,\"final\":%s,\"ws_mib\":%llu,"
            "\"stall_threshold_ms\":%llu,\"elapsed_s\":%.2f,\"ticks\":%llu,\"stalls\":%llu,"
            "\"max_stall_ms\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"stall_log\":[",
            name, (long)getpid(), final ? "true" : "false", (unsigned long long)(ws / PROG_MIB),
            (unsigned long long)stall_ms, elapsed_s, (unsigned long long)s->ticks,
            (unsigned long long)s->stalls, (double)s->max_us / 1000.0, hb_quantile_ms(s, 0.50),
            hb_quantile_ms(s, 0.99));
    for (size_t i = 0; i < s->nlog; i++)
        fprintf(f, "%s[%.2f,%.1f]", i ? "," : "", s->log[i].at_s, s->log[i].ms);
    fputs("]}\n", f);
}

static void hb_write_out(const char *path, const struct hb_stats *s, const char *name, uint64_t ws,
                         uint64_t stall_ms, double elapsed_s, int final)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    hb_print(f, s, name, ws, stall_ms, elapsed_s, final);
    if (fclose(f) == 0)
        rename(tmp, path);
}

struct hb_opts {
    uint64_t ws, period_ms, stall_ms;
    const char *out;
};

static int hb_option(int c, const char *arg, void *ctx)
{
    struct hb_opts *o = ctx;
    switch (c) {
    case 'w':
        return prog_parse_size(arg, &o->ws);
    case 'p':
        return prog_parse_ms(arg, &o->period_ms) || o->period_ms == 0 ? -EINVAL : 0;
    case 's':
        return prog_parse_ms(arg, &o->stall_ms);
    case 'o':
        o->out = arg;
        return 0;
    default:
        return -EINVAL;
    }
}

int main(int argc, char **argv)
{
    struct hb_opts o = {.ws = 48 * PROG_MIB, .period_ms = 10, .stall_ms = 20};
    static const struct option lo[] = {
        PROG_COMMON_OPTIONS,
        {"ws", required_argument, NULL, 'w'},
        {"period", required_argument, NULL, 'p'},
        {"stall", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct prog_cli cli = {
        .prog = "heartbeat", .shorts = "h", .lo = lo, .usage = usage, .own = hb_option, .ctx = &o};
    int quit = prog_parse_args(&cli, argc, argv, 0);
    if (quit >= 0)
        return quit;
    prog_apply_adj(&cli);
    uint64_t ws = o.ws, period_ms = o.period_ms, stall_ms = o.stall_ms,
             duration_ms = cli.duration_ms;
    const char *name = cli.name, *out = o.out;
    struct sigaction sa = {.sa_handler = hb_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct sigaction su = {.sa_handler = hb_on_usr1};
    sigemptyset(&su.sa_mask);
    sigaction(SIGUSR1, &su, NULL);

    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t npages = ws ? (size_t)(ws / page) : 0;
    unsigned char *mem = NULL;
    if (npages) {
        mem = mmap(NULL, npages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            perror("heartbeat: mmap");
            return 1;
        }
        uint64_t seed = 42;
        for (size_t i = 0; i < npages; i++)
            prog_fill_page(mem + i * page, page, &seed);
    }
    struct hb_stats *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    uint64_t period_ns = period_ms * 1000000ULL, stall_us = stall_ms * 1000ULL;
    size_t ticks_per_s = (size_t)(1000 / period_ms) ? (size_t)(1000 / period_ms) : 1;
    size_t slice = npages / ticks_per_s + 1, cursor = 0;
    uint64_t t0 = prog_now_ns(), next = t0, last_out = t0;
    while (!hb_stop) {
        next += period_ns;
        prog_sleep_until(next);
        if (hb_stop)
            break;
        for (size_t i = 0; i < slice && npages; i++) {
            mem[cursor * page]++;
            cursor = (cursor + 1) % npages;
        }
        uint64_t now = prog_now_ns();
        if (hb_reset) { /* a new measured window from this tick on */
            hb_reset = 0;
            memset(s, 0, sizeof(*s));
            t0 = now;
            next = now;
        }
        uint64_t lat_us = now > next ? (now - next) / 1000 : 0;
        hb_record(s, lat_us, stall_us, (double)(now - t0) / 1e9);
        if (now > next + period_ns) /* fell behind: restart the schedule */
            next = now;
        if (out && now - last_out >= 1000000000ULL) {
            hb_write_out(out, s, name, ws, stall_ms, (double)(now - t0) / 1e9, 0);
            last_out = now;
        }
        if (duration_ms && now - t0 >= duration_ms * 1000000ULL)
            break;
    }
    double elapsed = (double)(prog_now_ns() - t0) / 1e9;
    if (out)
        hb_write_out(out, s, name, ws, stall_ms, elapsed, 1);
    hb_print(stdout, s, name, ws, stall_ms, elapsed, 1);
    free(s);
    return 0;
}
