/* streamer: reads a file or block device from start to end, over and over,
 * through the page cache: the file-cache thrashing load of the VM test bed
 * (a backup, a log shipper, a media scan). It allocates no memory beyond one
 * buffer, so any pressure it causes is page cache only.
 *
 *   streamer [--bs 1M] [--passes N] [--duration D] [--adj N] [--name NAME] FILE
 *
 * Stops after N passes (default: unlimited), after D, or on SIGTERM/SIGINT,
 * then prints one JSON line: bytes read, passes completed and MiB/s. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progs.h"

static volatile sig_atomic_t st_stop;

static void st_on_signal(int sig)
{
    (void)sig;
    st_stop = 1;
}

static void usage(FILE *f)
{
    fputs("Usage: streamer [--bs 1M] [--passes N] [--duration D] [--adj N] [--name NAME] FILE\n"
          "Reads FILE end to end, again and again, through the page cache.\n",
          f);
}

struct st_opts {
    uint64_t bs;
    long passes;
};

static int st_option(int c, const char *arg, void *ctx)
{
    struct st_opts *o = ctx;
    switch (c) {
    case 'b':
        return prog_parse_size(arg, &o->bs) || o->bs == 0 || o->bs > 64 * PROG_MIB ? -EINVAL : 0;
    case 'p':
        return prog_parse_long(arg, 0, 1000000, &o->passes);
    default:
        return -EINVAL;
    }
}

int main(int argc, char **argv)
{
    struct st_opts o = {.bs = PROG_MIB};
    static const struct option lo[] = {
        PROG_COMMON_OPTIONS,
        {"bs", required_argument, NULL, 'b'},
        {"passes", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct prog_cli cli = {
        .prog = "streamer", .shorts = "h", .lo = lo, .usage = usage, .own = st_option, .ctx = &o};
    int quit = prog_parse_args(&cli, argc, argv, 1);
    if (quit >= 0)
        return quit;
    const char *path = argv[optind];
    prog_apply_adj(&cli);
    uint64_t bs = o.bs, duration_ms = cli.duration_ms;
    long passes = o.passes;
    const char *name = cli.name;
    struct sigaction sa = {.sa_handler = st_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char *buf = malloc((size_t)bs);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!buf || fd < 0) {
        fprintf(stderr, "streamer: %s: %s\n", path, strerror(errno));
        return 1;
    }
    uint64_t t0 = prog_now_ns(), total = 0;
    long done = 0;
    int rc = 0;
    while (!st_stop && (passes == 0 || done < passes)) {
        if (duration_ms && prog_now_ns() - t0 >= duration_ms * 1000000ULL)
            break;
        ssize_t n = read(fd, buf, (size_t)bs);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "streamer: read %s: %s\n", path, strerror(errno));
            rc = 1;
            break;
        }
        if (n == 0) {
            done++;
            if (lseek(fd, 0, SEEK_SET) < 0 || total == 0)
                break; /* not seekable, or empty: nothing more to stream */
            continue;
        }
        total += (uint64_t)n;
    }
    double secs = (double)(prog_now_ns() - t0) / 1e9;
    printf("{\"prog\":\"streamer\",\"name\":\"%s\",\"pid\":%ld,\"read_mib\":%.1f,\"passes\":%ld,"
           "\"elapsed_s\":%.2f,\"mib_per_s\":%.1f}\n",
           name, (long)getpid(), (double)total / (double)PROG_MIB, done, secs,
           secs > 0 ? (double)total / (double)PROG_MIB / secs : 0.0);
    close(fd);
    free(buf);
    return rc;
}
