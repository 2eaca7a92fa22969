/* leaker: a service that leaks slowly, the way a real leak does: small heap
 * blocks allocated, written once and never freed, on top of a working set the
 * service keeps using.
 *
 *   leaker [--rate 2M/s] [--start SIZE] [--max SIZE] [--block 64K] [--adj N]
 *          [--name NAME] [--duration D]
 *
 * --start     working set allocated at start and rewritten every 10 s
 *             (default 16M): the part of the service that is not leaking.
 * --rate      leak rate (default 2M/s), in --block sized malloc()s.
 * --max       stop leaking at SIZE of leaked memory (default: never).
 * --duration  exit after D with one JSON line; default run until killed.
 *
 * Run it only inside the test VM or with tiny sizes. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progs.h"

#define LK_TOUCH_PERIOD_MS 100 /* the working set is rewritten in 100 slices, one per 100 ms */

static void usage(FILE *f)
{
    fputs("Usage: leaker [--rate 2M/s] [--start SIZE] [--max SIZE] [--block 64K] [--adj N]\n"
          "              [--name NAME] [--duration D]\n"
          "Keeps a working set of --start bytes in use and leaks heap blocks at --rate.\n",
          f);
}

struct lk_opts {
    uint64_t rate, start, max, block;
};

static int lk_option(int c, const char *arg, void *ctx)
{
    struct lk_opts *o = ctx;
    switch (c) {
    case 'r':
        return prog_parse_rate(arg, &o->rate) || o->rate == 0 ? -EINVAL : 0;
    case 's':
        return prog_parse_size(arg, &o->start);
    case 'm':
        return prog_parse_size(arg, &o->max);
    case 'b':
        return prog_parse_size(arg, &o->block) || o->block < 64 ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

int main(int argc, char **argv)
{
    struct lk_opts o = {.rate = 2 * PROG_MIB, .start = 16 * PROG_MIB, .block = 64 * 1024};
    static const struct option lo[] = {
        PROG_COMMON_OPTIONS,
        {"rate", required_argument, NULL, 'r'},
        {"start", required_argument, NULL, 's'},
        {"max", required_argument, NULL, 'm'},
        {"block", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct prog_cli cli = {
        .prog = "leaker", .shorts = "h", .lo = lo, .usage = usage, .own = lk_option, .ctx = &o};
    int quit = prog_parse_args(&cli, argc, argv, 0);
    if (quit >= 0)
        return quit;
    prog_apply_adj(&cli);
    uint64_t rate = o.rate, start = o.start, max = o.max, block = o.block,
             duration_ms = cli.duration_ms;
    const char *name = cli.name;
    setvbuf(stdout, NULL, _IOLBF, 0);

    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t seed = (uint64_t)getpid() | 1;
    unsigned char *ws = start ? malloc((size_t)start) : NULL;
    size_t ws_pages = start ? (size_t)(start / page) : 0;
    if (start && !ws) {
        perror("leaker: working set");
        return 1;
    }
    for (size_t i = 0; i < ws_pages; i++)
        prog_fill_page(ws + i * page, page, &seed);

    uint64_t t0 = prog_now_ns(), leaked = 0, next_touch = t0;
    size_t cursor = 0, slice = ws_pages / 100 + 1;
    for (;;) {
        uint64_t now = prog_now_ns();
        if (duration_ms && now - t0 >= duration_ms * 1000000ULL)
            break;
        if (now >= next_touch) {
            for (size_t i = 0; i < slice && ws_pages; i++) {
                ws[cursor * page]++;
                cursor = (cursor + 1) % ws_pages;
            }
            next_touch = now + LK_TOUCH_PERIOD_MS * 1000000ULL;
        }
        uint64_t due = t0 + (uint64_t)((double)leaked / (double)rate * 1e9);
        if ((max && leaked >= max) || due > now) {
            uint64_t wake = next_touch;
            if (!(max && leaked >= max) && due < wake)
                wake = due;
            prog_sleep_until(wake);
            continue;
        }
        unsigned char *b = malloc((size_t)block); /* never freed: that is the leak */
        if (!b) {
            prog_sleep_until(now + 100000000ULL);
            continue;
        }
        for (size_t off = 0; off < block; off += page) {
            size_t len = block - off < page ? (size_t)(block - off) : page;
            if (len == page)
                prog_fill_page(b + off, page, &seed);
            else
                memset(b + off, 0x5a, len);
        }
        leaked += block;
    }
    printf("{\"prog\":\"leaker\",\"name\":\"%s\",\"pid\":%ld,\"start_mib\":%llu,"
           "\"leaked_mib\":%.1f}\n",
           name, (long)getpid(), (unsigned long long)(start / PROG_MIB),
           (double)leaked / (double)PROG_MIB);
    return 0;
}
