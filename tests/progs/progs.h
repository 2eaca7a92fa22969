/* progs.h: helpers shared by the VM test programs (hog, heartbeat, leaker,
 * restarter, streamer). Header-only (static inline) because the Makefile
 * builds every tests/progs/NAME.c as a stand-alone program; nothing here links
 * against memwarden itself, so the programs also build with musl-gcc -static
 * for the guest.
 *
 * Conventions shared by every program (prog_parse_args):
 *   --adj N      writes N to /proc/self/oom_score_adj (-1000..1000).
 *   --name NAME  the role name written to the registry (default: program name).
 *   --duration D stops after D ("250ms", "2s", "1.5m"; default: never).
 *   --help       the usage on stdout, exit 0; a bad option or value: exit 2.
 *   MW_REGISTRY  if set, the program appends "PID ADJ NAME\n" to that file once
 *                its oom_score_adj is set, so the VM harness can map a killed
 *                PID back to its role and adj class. */
#ifndef MW_PROGS_H
#define MW_PROGS_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG_MIB (1024ULL * 1024ULL)

/* Parses "4096", "512K", "48M", "1G" (binary units, optional trailing "B" or
 * "iB") into bytes. Returns 0, or -EINVAL with *out untouched. */
static inline int prog_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -EINVAL;
    uint64_t mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024ULL;
        end++;
        break;
    case 'm':
    case 'M':
        mult = PROG_MIB;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024ULL * PROG_MIB;
        end++;
        break;
    default:
        break;
    }
    if (mult > 1 && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0')
        return -EINVAL;
    *out = (uint64_t)v * mult;
    return 0;
}

/* Parses a rate "50M/s" (or "50M", read as per second) into bytes per second;
 * "0" or "max" means unpaced (as fast as the machine goes, returned as 0). */
static inline int prog_parse_rate(const char *s, uint64_t *out)
{
    char buf[64];
    if (strcmp(s, "max") == 0) {
        *out = 0;
        return 0;
    }
    size_t n = strlen(s);
    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n + 1);
    if (n > 2 && strcmp(buf + n - 2, "/s") == 0)
        buf[n - 2] = '\0';
    return prog_parse_size(buf, out);
}

/* Parses a whole number within [lo, hi]. */
static inline int prog_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses a duration in milliseconds: "250ms", "2s", "1.5s", or a plain
 * number of seconds. */
static inline int prog_parse_ms(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -EINVAL;
    if (strcmp(end, "ms") == 0)
        *out = (uint64_t)v;
    else if (*end == '\0' || strcmp(end, "s") == 0)
        *out = (uint64_t)(v * 1000.0);
    else if (strcmp(end, "m") == 0)
        *out = (uint64_t)(v * 60000.0);
    else
        return -EINVAL;
    return 0;
}

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline uint64_t prog_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Seconds since boot (CLOCK_BOOTTIME: the clock of /proc/uptime), so times the
 * programs print line up with the guest harness's timestamps. */
static inline double prog_uptime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes ADJ to /proc/self/oom_score_adj, then appends "PID ADJ NAME" to
 * $MW_REGISTRY when set. Returns 0 or -errno (the caller reports it). */
static inline int prog_set_adj(int have_adj, long adj, const char *name)
{
    if (have_adj) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%ld\n", adj);
        ssize_t w = write(fd, buf, (size_t)n);
        int err = w < 0 ? -errno : 0;
        close(fd);
        if (err)
            return err;
    } else {
        FILE *f = fopen("/proc/self/oom_score_adj", "re");
        if (f) {
            if (fscanf(f, "%ld", &adj) != 1)
                adj = 0;
            fclose(f);
        }
    }
    const char *reg = getenv("MW_REGISTRY");
    if (reg && *reg) {
        int fd = open(reg, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char line[160];
            int n = snprintf(line, sizeof(line), "%ld %ld %s\n", (long)getpid(), adj, name);
            if (n > 0 && write(fd, line, (size_t)n) < 0)
                n = 0; /* best effort: the registry is a diagnostic aid */
            close(fd);
        }
    }
    return 0;
}

/* Fills one page so zram compresses it about 2:1, like real heap data: the
 * first half pseudo-random (xorshift), the second half a repeating pattern.
 * Pure zero pages would be stored by zram as "same-filled" at no cost and make
 * the swap look infinitely large. */
static inline void prog_fill_page(unsigned char *p, size_t page, uint64_t *seed)
{
    uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ULL;
    size_t half = page / 2, i;
    for (i = 0; i + 8 <= half; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < page; i++)
        p[i] = (unsigned char)(i & 0x3f);
    *seed = x;
}

/* Sleeps until the monotonic deadline DEADLINE_NS (absolute). Returns early
 * when a signal arrives, so callers can check their stop flag. */
static inline void prog_sleep_until(uint64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ULL),
                          .tv_nsec = (long)(deadline_ns % 1000000000ULL)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* ---- the command line every program shares ------------------------------ */

/* The common options' entries: every program's table begins with them,
 * goes on with its own and ends with {NULL, 0, NULL, 0}. */
#define PROG_COMMON_OPTIONS                                                                        \
    {"adj", required_argument, NULL, 'a'}, {"name", required_argument, NULL, 'n'},                 \
        {"duration", required_argument, NULL, 'd'},                                                \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

struct prog_cli {
    const char *prog;        /* the messages' prefix and the default --name */
    const char *shorts;      /* getopt's: "h", or "+h" to stop at the first operand */
    const struct option *lo; /* PROG_COMMON_OPTIONS, the program's own, the end */
    void (*usage)(FILE *f);
    /* the program's own option C with ARG into CTX: 0, or -EINVAL */
    int (*own)(int c, const char *arg, void *ctx);
    void *ctx;
    /* what the common options gave */
    long adj;
    int have_adj;
    const char *name;
    uint64_t duration_ms;
};

/* Parses ARGV's options through CLI, then checks the operands: exactly
 * OPERANDS of them (-1: at least one). Returns -1 to go on (optind at the
 * first operand), else the exit status: 0 after --help, 2 after a usage
 * error (said on stderr). */
static inline int prog_parse_args(struct prog_cli *cli, int argc, char **argv, int operands)
{
    if (!cli->name)
        cli->name = cli->prog;
    int c;
    while ((c = getopt_long(argc, argv, cli->shorts, cli->lo, NULL)) != -1) {
        int bad = 0;
        if (c == 'h') {
            cli->usage(stdout);
            return 0;
        }
        if (c == '?' || c == ':') {
            cli->usage(stderr);
            return 2;
        }
        if (c == 'a') {
            bad = prog_parse_long(optarg, -1000, 1000, &cli->adj);
            cli->have_adj = 1;
        } else if (c == 'n') {
            cli->name = optarg;
        } else if (c == 'd') {
            bad = prog_parse_ms(optarg, &cli->duration_ms);
        } else {
            bad = cli->own(c, optarg, cli->ctx);
        }
        if (bad) {
            fprintf(stderr, "%s: bad value '%s'\n", cli->prog, optarg);
            return 2;
        }
    }
    int left = argc - optind;
    if (operands >= 0 ? left != operands : left < 1) {
        cli->usage(stderr);
        return 2;
    }
    return -1;
}

/* Writes the adj the options gave and registers the program
 * (prog_set_adj); a failure is said on stderr and the program goes on. */
static inline void prog_apply_adj(const struct prog_cli *cli)
{
    int err = prog_set_adj(cli->have_adj, cli->adj, cli->name);
    if (err < 0)
        fprintf(stderr, "%s: oom_score_adj: %s\n", cli->prog, strerror(-err));
}

#endif
