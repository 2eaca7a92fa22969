/* hog: allocates and touches anonymous memory at a given rate, without bound
 * or up to a size, then holds it. The "runaway process" of the VM test bed.
 *
 *   hog [--rate 50M/s] [--max SIZE] [--adj N] [--name NAME] [--exit]
 *       [--retouch MS] [--duration D] [--procs N] [--start SIZE]
 *       [--delay D] [--file PATH]
 *
 * --rate      bytes per second ("50M/s"); "max" or 0 = as fast as possible
 *             (default max).
 * --max       stop growing at SIZE (default: never stop, until killed).
 * --exit      exit once --max is reached instead of holding the memory.
 * --retouch   while holding, rewrite one word in every page every MS
 *             milliseconds (an active service); default idle (a cached app).
 * --duration  exit after D (e.g. 30s); default run until killed or SIGTERM.
 * --procs N   fork storm: start N workers at once, each doing the above. The
 *             parent keeps its own adj, waits, and on SIGTERM/--duration kills
 *             its workers and prints one JSON line: how many reached --max,
 *             how many died (and by which signal), and "settled_s", the time
 *             until every worker had either reached --max or died.
 * --start     allocate SIZE at once, then grow at --rate (a leak that
 *             starts from a working set).
 * --delay     sleep D before growing (a process that is old when it starts
 *             to grow).
 * --file      write the memory into PATH (PATH.N for storm worker N), e.g. on
 *             a tmpfs: memory that no process owns once the writer is gone.
 * --file-index N  use PATH.N (one of several single hogs sharing a PATH).
 *
 * Pages are filled half random / half pattern so zram compresses them ~2:1.
 * Run it only inside the test VM or with tiny sizes: it does what it says. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define HOG_CHUNK     (1024ULL * 1024ULL) /* one mmap per MiB: small steps, cheap pacing */
#define HOG_MAX_PROCS 4096

struct hog_opts {
    uint64_t rate_bps;  /* 0 = unpaced */
    uint64_t max_bytes; /* 0 = unbounded */
    uint64_t retouch_ms;
    uint64_t duration_ms; /* 0 = forever */
    long adj;
    int have_adj;
    long procs; /* 0 = single process */
    bool exit_at_max;
    const char *name;
    uint64_t start_bytes; /* allocated at once before pacing */
    uint64_t delay_ms;    /* before growing */
    const char *file;     /* NULL: anonymous memory */
    long file_index;      /* -1: none; else the file is FILE.N */
};

static volatile sig_atomic_t hog_stop;

static void hog_on_signal(int sig)
{
    (void)sig;
    hog_stop = 1;
}

static void usage(FILE *f)
{
    fputs("Usage: hog [--rate 50M/s] [--max SIZE] [--adj N] [--name NAME] [--exit]\n"
          "           [--retouch MS] [--duration D] [--procs N] [--start SIZE]\n"
          "           [--delay D] [--file PATH [--file-index N]]\n"
          "Allocates and touches memory at RATE up to SIZE (or without bound), then\n"
          "holds it. --procs N starts N such workers at once (fork storm) and prints\n"
          "a JSON summary at exit. Test-VM tool: do not run it big on a real host.\n",
          f);
}

/* Worker body: grow to max (or forever) at the given rate, report READY_FD
 * (when >= 0) with our index once max is reached, then hold. */
static int hog_run(const struct hog_opts *o, int ready_fd, int index)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t cap = 64, n = 0;
    unsigned char **chunks = malloc(cap * sizeof(*chunks));
    uint64_t seed = (uint64_t)getpid() * (uint64_t)0x9e3779b97f4a7c15ULL + 1;
    uint64_t t0 = prog_now_ns(), allocated = 0;
    bool reached = false;
    int file_fd = -1;
    if (!chunks)
        return 1;
    if (o->file) {
        char path[4096];
        if (ready_fd >= 0 || o->file_index >= 0)
            snprintf(path, sizeof(path), "%s.%ld", o->file,
                     ready_fd >= 0 ? (long)index : o->file_index);
        else
            snprintf(path, sizeof(path), "%s", o->file);
        file_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (file_fd < 0) {
            fprintf(stderr, "hog: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    if (o->delay_ms)
        prog_sleep_until(prog_now_ns() + o->delay_ms * 1000000ULL);
    t0 = prog_now_ns();
    while (!hog_stop) {
        uint64_t now = prog_now_ns();
        if (o->duration_ms && now - t0 >= o->duration_ms * 1000000ULL)
            break;
        if (!reached && o->max_bytes && allocated >= o->max_bytes) {
            reached = true;
            if (ready_fd >= 0) {
                if (write(ready_fd, &index, sizeof(index)) < 0)
                    return 1;
            } else {
                fprintf(stderr, "hog: %s reached %llu MiB in %.1f s\n", o->name,
                        (unsigned long long)(allocated / PROG_MIB), (double)(now - t0) / 1e9);
            }
            if (o->exit_at_max)
                break;
        }
        if (reached) {
            uint64_t period = o->retouch_ms ? o->retouch_ms : 1000;
            prog_sleep_until(prog_now_ns() + period * 1000000ULL);
            if (o->retouch_ms)
                for (size_t c = 0; c < n; c++)
                    for (size_t off = 0; off < HOG_CHUNK; off += page)
                        chunks[c][off]++;
            continue;
        }
        if (o->rate_bps && allocated >= o->start_bytes) {
            uint64_t paced = allocated - o->start_bytes;
            uint64_t due = t0 + (uint64_t)((double)paced / (double)o->rate_bps * 1e9);
            if (due > now) {
                prog_sleep_until(due);
                continue;
            }
        }
        if (file_fd >= 0) { /* the memory goes to the file (tmpfs: shmem) */
            static unsigned char buf[HOG_CHUNK];
            for (size_t off = 0; off < HOG_CHUNK; off += page)
                prog_fill_page(buf + off, page, &seed);
            if (write(file_fd, buf, HOG_CHUNK) != (ssize_t)HOG_CHUNK) {
                prog_sleep_until(prog_now_ns() + 100000000ULL); /* full: wait */
                continue;
            }
            allocated += HOG_CHUNK;
            continue;
        }
        if (n == cap) {
            unsigned char **nc = realloc(chunks, cap * 2 * sizeof(*chunks));
            if (!nc) {
                prog_sleep_until(prog_now_ns() + 100000000ULL);
                continue;
            }
            chunks = nc;
            cap *= 2;
        }
        void *p = mmap(NULL, HOG_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { /* overcommit refused: wait, the way a retrying app would */
            prog_sleep_until(prog_now_ns() + 100000000ULL);
            continue;
        }
        for (size_t off = 0; off < HOG_CHUNK; off += page)
            prog_fill_page((unsigned char *)p + off, page, &seed);
        chunks[n++] = p;
        allocated += HOG_CHUNK;
    }
    if (ready_fd < 0)
        printf("{\"prog\":\"hog\",\"name\":\"%s\",\"pid\":%ld,\"allocated_mib\":%llu}\n", o->name,
               (long)getpid(), (unsigned long long)(allocated / PROG_MIB));
    return 0;
}

/* Fork storm: start o->procs workers, track readiness and deaths. */
static int hog_storm(const struct hog_opts *o)
{
    long np = o->procs;
    pid_t *pids = calloc((size_t)np, sizeof(*pids));
    unsigned char *state = calloc((size_t)np, 1); /* bit 0 ready, bit 1 dead */
    int fds[2];
    if (!pids || !state || pipe(fds) < 0) {
        perror("hog: storm setup");
        return 1;
    }
    if (prog_set_adj(0, 0, "storm-parent") < 0)
        perror("hog: registry");
    double start_up = prog_uptime_s();
    uint64_t t0 = prog_now_ns(), settled_ns = 0;
    for (long i = 0; i < np; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("hog: fork");
            state[i] = 2;
            continue;
        }
        if (pid == 0) {
            close(fds[0]);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            int err = prog_set_adj(o->have_adj, o->adj, o->name);
            if (err < 0)
                fprintf(stderr, "hog: oom_score_adj: %s\n", strerror(-err));
            struct hog_opts wo = *o;
            wo.duration_ms = 0;
            _exit(hog_run(&wo, fds[1], (int)i));
        }
        pids[i] = pid;
    }
    close(fds[1]);
    long ready = 0, died = 0, killed = 0, died_before_ready = 0;
    while (!hog_stop) {
        uint64_t now = prog_now_ns();
        if (o->duration_ms && now - t0 >= o->duration_ms * 1000000ULL)
            break;
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        if (poll(&pfd, 1, 20) > 0) {
            int idx;
            ssize_t r = read(fds[0], &idx, sizeof(idx));
            if (r == (ssize_t)sizeof(idx) && idx >= 0 && idx < np && !(state[idx] & 1)) {
                state[idx] |= 1;
                ready++;
            }
        }
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            for (long i = 0; i < np; i++) {
                if (pids[i] != pid)
                    continue;
                if (!(state[i] & 1))
                    died_before_ready++;
                state[i] |= 2;
                died++;
                if (WIFSIGNALED(st))
                    killed++;
            }
        }
        if (!settled_ns && ready + died_before_ready >= np) {
            settled_ns = prog_now_ns() - t0;
            fprintf(stderr, "hog: storm settled in %.2f s: %ld reached --max, %ld died first\n",
                    (double)settled_ns / 1e9, ready, died_before_ready);
        }
    }
    /* Kill only the workers we started and have not reaped. */
    for (long i = 0; i < np; i++)
        if (pids[i] > 0 && !(state[i] & 2))
            kill(pids[i], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    printf("{\"prog\":\"hog\",\"name\":\"%s\",\"procs\":%ld,\"reached\":%ld,\"died\":%ld,"
           "\"killed\":%ld,\"died_before_max\":%ld,\"start_uptime\":%.2f,\"settled_s\":",
           o->name, np, ready, died, killed, died_before_ready, start_up);
    if (settled_ns)
        printf("%.2f}\n", (double)settled_ns / 1e9);
    else
        printf("null}\n");
    return 0;
}

static int hog_option(int c, const char *arg, void *ctx)
{
    struct hog_opts *o = ctx;
    switch (c) {
    case 'r':
        return prog_parse_rate(arg, &o->rate_bps);
    case 'm':
        return prog_parse_size(arg, &o->max_bytes);
    case 'x':
        o->exit_at_max = true;
        return 0;
    case 't':
        return prog_parse_ms(arg, &o->retouch_ms);
    case 'p':
        return prog_parse_long(arg, 1, HOG_MAX_PROCS, &o->procs);
    case 's':
        return prog_parse_size(arg, &o->start_bytes);
    case 'D':
        return prog_parse_ms(arg, &o->delay_ms);
    case 'f':
        o->file = arg;
        return 0;
    case 'I':
        return prog_parse_long(arg, 0, HOG_MAX_PROCS, &o->file_index);
    default:
        return -EINVAL;
    }
}

int main(int argc, char **argv)
{
    struct hog_opts o = {.file_index = -1};
    static const struct option lo[] = {
        PROG_COMMON_OPTIONS,
        {"rate", required_argument, NULL, 'r'},
        {"max", required_argument, NULL, 'm'},
        {"exit", no_argument, NULL, 'x'},
        {"retouch", required_argument, NULL, 't'},
        {"procs", required_argument, NULL, 'p'},
        {"start", required_argument, NULL, 's'},
        {"delay", required_argument, NULL, 'D'},
        {"file", required_argument, NULL, 'f'},
        {"file-index", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    struct prog_cli cli = {
        .prog = "hog", .shorts = "h", .lo = lo, .usage = usage, .own = hog_option, .ctx = &o};
    int quit = prog_parse_args(&cli, argc, argv, 0);
    if (quit >= 0)
        return quit;
    o.adj = cli.adj;
    o.have_adj = cli.have_adj;
    o.name = cli.name;
    o.duration_ms = cli.duration_ms;
    struct sigaction sa = {.sa_handler = hog_on_signal};
    sigemptyset(&sa.sa_mask);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o.procs > 0) {
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        return hog_storm(&o);
    }
    /* A single hog dies on SIGTERM like any victim; only --duration ends it
     * with a summary line. */
    prog_apply_adj(&cli);
    return hog_run(&o, -1, 0);
}
