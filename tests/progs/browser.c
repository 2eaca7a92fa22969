/* browser: a browser-like process tree for the distro bed (issue 23): one
 * parent and N renderer children, one of which may grow.
 *
 *   browser [--tabs N] [--tab-size SIZE] [--parent-size SIZE] [--tab-adj N]
 *           [--grow-tab K] [--grow-start SIZE] [--rate 20M/s] [--grow-for D]
 *           [--retouch MS] [--name NAME]
 *
 * The parent ("browser") holds --parent-size and forks N renderers
 * ("renderer"), each holding --tab-size, at --tab-adj (Chromium on Linux
 * gives its renderers oom_score_adj 300; -1 keeps the inherited adj).
 * Every --retouch ms each process rewrites one word per page of what it
 * holds (tabs in use). Renderer K (1-based, 0 = none) is the runaway tab:
 * when it gets SIGUSR1 it adds --grow-start at once, then grows at --rate
 * without bound, or until --grow-for D has passed, when it exits (the
 * harness sends the signal at the draw's start and ends the draw so). Renderers die with the
 * parent (PR_SET_PDEATHSIG, as a renderer dies when its browser's IPC
 * channel closes); the parent outlives a renderer's death, like a browser
 * showing a crashed tab, and logs each death on stderr as one JSON line.
 * Registry roles: the parent NAME, its renderers "renderer", the growing one
 * "renderer-grow"; comm is "browser" and "renderer".
 * Run it only inside the test VM: it does what it says. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define BR_CHUNK    (1024ULL * 1024ULL) /* one mmap per MiB */
#define BR_MAX_TABS 64

struct br_opts {
    long tabs, grow_tab, tab_adj;
    uint64_t tab_bytes, parent_bytes, rate_bps, retouch_ms, grow_start, grow_for_ms;
    const char *name;
};

struct br_mem {
    unsigned char **chunks;
    size_t n, cap;
    uint64_t seed;
};

static volatile sig_atomic_t br_stop, br_go;

static void br_on_signal(int sig)
{
    (void)sig;
    br_stop = 1;
}

static void br_on_usr1(int sig)
{
    (void)sig;
    br_go = 1;
}

static void usage(FILE *f)
{
    fputs("Usage: browser [--tabs N] [--tab-size SIZE] [--parent-size SIZE] [--tab-adj N]\n"
          "               [--grow-tab K] [--grow-start SIZE] [--rate 20M/s] [--grow-for D]\n"
          "               [--retouch MS] [--name NAME]\n"
          "A parent and N renderer children holding memory; on SIGUSR1 renderer K adds\n"
          "--grow-start and grows at RATE.\n"
          "Test-VM tool: do not run it big on a real host.\n",
          f);
}

/* Adds one touched MiB to M. Returns false when the kernel refused it. */
static bool br_grow(struct br_mem *m, size_t page)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        unsigned char **nc = realloc(m->chunks, cap * sizeof(*nc));
        if (!nc)
            return false;
        m->chunks = nc;
        m->cap = cap;
    }
    void *p = mmap(NULL, BR_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    for (size_t off = 0; off < BR_CHUNK; off += page)
        prog_fill_page((unsigned char *)p + off, page, &m->seed);
    m->chunks[m->n++] = p;
    return true;
}

static void br_retouch(struct br_mem *m, size_t page)
{
    for (size_t c = 0; c < m->n; c++)
        for (size_t off = 0; off < BR_CHUNK; off += page)
            m->chunks[c][off]++;
}

/* One process's life: fill BYTES, then retouch every retouch_ms; with
 * RATE_BPS > 0 (the runaway tab), after SIGUSR1 add o->grow_start and keep
 * growing at that rate. */
static void br_live(const struct br_opts *o, uint64_t bytes, uint64_t rate_bps)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct br_mem m = {.seed = (uint64_t)getpid() * (uint64_t)0x9e3779b97f4a7c15ULL + 1};
    while (!br_stop && (uint64_t)m.n * BR_CHUNK < bytes)
        if (!br_grow(&m, page))
            prog_sleep_until(prog_now_ns() + 100000000ULL);
    uint64_t t0 = prog_now_ns(), grown = 0, last_touch = t0;
    uint64_t period_ns = (o->retouch_ms ? o->retouch_ms : 1000) * 1000000ULL;
    bool growing = false;
    uint64_t go_ns = 0;
    while (!br_stop) {
        uint64_t now = prog_now_ns();
        if (o->retouch_ms && now - last_touch >= period_ns) {
            br_retouch(&m, page);
            last_touch = now;
        }
        if (rate_bps && br_go && !growing) {
            growing = true;
            go_ns = now;
            uint64_t target = (uint64_t)m.n * BR_CHUNK + o->grow_start;
            while (!br_stop && (uint64_t)m.n * BR_CHUNK < target)
                if (!br_grow(&m, page))
                    prog_sleep_until(prog_now_ns() + 100000000ULL);
            t0 = now = prog_now_ns();
        }
        if (growing && o->grow_for_ms && now - go_ns >= o->grow_for_ms * 1000000ULL)
            break;
        if (!growing) {
            prog_sleep_until(last_touch + period_ns);
            continue;
        }
        uint64_t due = t0 + (uint64_t)((double)grown / (double)rate_bps * 1e9);
        if (due > now) {
            prog_sleep_until(due < last_touch + period_ns ? due : last_touch + period_ns);
            continue;
        }
        if (br_grow(&m, page))
            grown += BR_CHUNK;
        else
            prog_sleep_until(now + 100000000ULL);
    }
}

static pid_t br_fork_tab(const struct br_opts *o, long k)
{
    pid_t ppid = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGTERM, SIG_DFL);
    if (k == o->grow_tab)
        signal(SIGUSR1, br_on_usr1);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != ppid) /* the parent died before prctl */
        _exit(0);
    prctl(PR_SET_NAME, "renderer");
    bool grows = k == o->grow_tab;
    int err = prog_set_adj(o->tab_adj >= 0, o->tab_adj, grows ? "renderer-grow" : "renderer");
    if (err < 0)
        fprintf(stderr, "browser: renderer oom_score_adj: %s\n", strerror(-err));
    br_live(o, o->tab_bytes, grows ? o->rate_bps : 0);
    _exit(0);
}

static int br_parse(int argc, char **argv, struct br_opts *o)
{
    static const struct option opts[] = {
        {"tabs", required_argument, NULL, 't'},
        {"tab-size", required_argument, NULL, 's'},
        {"parent-size", required_argument, NULL, 'p'},
        {"tab-adj", required_argument, NULL, 'a'},
        {"grow-tab", required_argument, NULL, 'g'},
        {"grow-start", required_argument, NULL, 'G'},
        {"grow-for", required_argument, NULL, 'F'},
        {"rate", required_argument, NULL, 'r'},
        {"retouch", required_argument, NULL, 'R'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 't':
            bad = prog_parse_long(optarg, 1, BR_MAX_TABS, &o->tabs);
            break;
        case 's':
            bad = prog_parse_size(optarg, &o->tab_bytes);
            break;
        case 'p':
            bad = prog_parse_size(optarg, &o->parent_bytes);
            break;
        case 'a':
            bad = prog_parse_long(optarg, -1, 1000, &o->tab_adj);
            break;
        case 'g':
            bad = prog_parse_long(optarg, 0, BR_MAX_TABS, &o->grow_tab);
            break;
        case 'F':
            bad = prog_parse_ms(optarg, &o->grow_for_ms);
            break;
        case 'G':
            bad = prog_parse_size(optarg, &o->grow_start);
            break;
        case 'r':
            bad = prog_parse_rate(optarg, &o->rate_bps);
            break;
        case 'R':
            bad = prog_parse_ms(optarg, &o->retouch_ms);
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -EINVAL;
        }
        if (bad) {
            fprintf(stderr, "browser: bad value '%s'\n", optarg);
            return -EINVAL;
        }
    }
    return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct br_opts o = {.tabs = 8,
                        .tab_adj = 300,
                        .tab_bytes = 8 * PROG_MIB,
                        .parent_bytes = 24 * PROG_MIB,
                        .rate_bps = 20 * PROG_MIB,
                        .retouch_ms = 1000,
                        .name = "browser"};
    if (br_parse(argc, argv, &o) < 0)
        return 2;
    signal(SIGTERM, br_on_signal);
    signal(SIGINT, br_on_signal);
    signal(SIGUSR1, SIG_IGN); /* meant for the runaway tab: harmless here */
    prctl(PR_SET_NAME, "browser");
    if (prog_set_adj(0, 0, o.name) < 0)
        perror("browser: registry");
    pid_t tabs[BR_MAX_TABS] = {0};
    for (long k = 1; k <= o.tabs; k++)
        tabs[k - 1] = br_fork_tab(&o, k);
    /* The parent's own memory after the forks, so the tabs do not share it;
     * the parent holds it and reaps crashed tabs between retouches. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct br_mem m = {.seed = 7};
    while (!br_stop && (uint64_t)m.n * BR_CHUNK < o.parent_bytes)
        if (!br_grow(&m, page))
            prog_sleep_until(prog_now_ns() + 100000000ULL);
    fprintf(stderr, "{\"event\":\"ready\",\"tabs\":%ld,\"uptime\":%.2f}\n", o.tabs,
            prog_uptime_s());
    while (!br_stop) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            for (long k = 0; k < o.tabs; k++)
                if (tabs[k] == pid)
                    tabs[k] = 0; /* reaped: never signal a reused pid */
            fprintf(stderr,
                    "{\"event\":\"renderer-died\",\"pid\":%ld,\"signal\":%d,\"uptime\":%.2f}\n",
                    (long)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0, prog_uptime_s());
        }
        prog_sleep_until(prog_now_ns() + (o.retouch_ms ? o.retouch_ms : 1000) * 1000000ULL);
        if (o.retouch_ms)
            br_retouch(&m, page);
    }
    for (long k = 0; k < o.tabs; k++)
        if (tabs[k] > 0)
            kill(tabs[k], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    return 0;
}
