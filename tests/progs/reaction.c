/* reaction: the observer of the killer's-cost benchmark (issue 27), run
 * inside the VM guest by tests/bench/reaction_guest.sh.
 *
 *   reaction hog --line-kb K [--timeout S] [--kill-at-line] -- HOG [ARGS...]
 *       Starts HOG (the hog growing at a fixed rate), holds a pidfd on it,
 *       samples /proc/meminfo's MemAvailable every millisecond and prints
 *       one JSON line: when MemAvailable first fell under K kB ("cross_us"),
 *       when the pidfd said the hog was gone ("exit_us"), both on
 *       CLOCK_MONOTONIC (the daemon's clock: its own timings compare), the
 *       reaction in ms (exit - cross; negative: gone before the line), the
 *       signal that ended it, the kernel's OOM kills meanwhile (vmstat
 *       oom_kill) and MemAvailable's lowest. --kill-at-line: the observer
 *       itself sends SIGKILL the moment it sees the crossing (the floor: a
 *       guardian that takes no time to decide). After --timeout (default
 *       60 s) the hog is ended by its PID and "timeout" is true.
 *   reaction hold --target-kb K --seconds S [--watch PID]...
 *       A ballast that holds MemAvailable within 4 MiB of K, allocating or
 *       freeing 1 MiB chunks every 10 ms, for S seconds after it first got
 *       there (at most 60 s to get there); prints one JSON line per watched
 *       PID: CPU seconds (utime + stime) and context switches (voluntary,
 *       involuntary) over the S seconds, VmRSS and RssAnon at the end, and
 *       MemAvailable's range meanwhile.
 *
 * --cgroup DIR (either mode, before --): the line and the target are on
 * the memory cgroup DIR's headroom (limit - usage: memory.max/current on
 * v2, memory.limit_in_bytes/usage_in_bytes on v1) instead of
 * MemAvailable, and the hog or the ballast runs in DIR (the host's
 * figure, memwarden --scope on a cgroup the benchmark made).
 *
 * It sets its own oom_score_adj to -1000 (the harness outlives every kill).
 * Run it only inside the test VM: "hold" takes what it says. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CHUNK     (1024L * 1024L)
#define MAX_CHUNK 16384 /* 16 GiB of ballast */
#define MAX_WATCH 8

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int meminfo_fd = -1;
static int cg_limit_fd = -1, cg_usage_fd = -1; /* --cgroup */
static const char *cg_dir;

static long long read_ll(int fd)
{
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strncmp(buf, "max", 3) == 0 ? (long long)1 << 50 : atoll(buf);
}

/* Opens --cgroup's limit and usage files (v2's memory.max/current, else
 * v1's limit_in_bytes/usage_in_bytes): -1 when either cannot be opened. */
static int open_cgroup(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/memory.max", cg_dir);
    bool v2 = access(path, F_OK) == 0;
    snprintf(path, sizeof(path), "%s/%s", cg_dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    cg_limit_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof(path), "%s/%s", cg_dir, v2 ? "memory.current" : "memory.usage_in_bytes");
    cg_usage_fd = open(path, O_RDONLY | O_CLOEXEC);
    return cg_limit_fd < 0 || cg_usage_fd < 0 ? -1 : 0;
}

/* Moves the calling process into --cgroup's DIR (nothing without one). */
static int join_cgroup(void)
{
    if (!cg_dir)
        return 0;
    char path[512], pid[24];
    snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
    int fd = open(path, O_WRONLY);
    int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
    int rc = fd >= 0 && write(fd, pid, (size_t)n) == n ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* MemAvailable in kB, from the held /proc/meminfo, or the cgroup's
 * headroom with --cgroup (-1 on error). */
static long avail_kb(void)
{
    if (cg_limit_fd >= 0) {
        long long lim = read_ll(cg_limit_fd), use = read_ll(cg_usage_fd);
        return lim < 0 || use < 0 ? -1 : lim > use ? (long)((lim - use) / 1024) : 0;
    }
    char buf[4096];
    ssize_t n = pread(meminfo_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "MemAvailable:");
    return p ? atol(p + 13) : -1;
}

/* The kernel's OOM kills so far (/proc/vmstat oom_kill; -1 unknown). */
static long oom_kills(void)
{
    char buf[16384];
    int fd = open("/proc/vmstat", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "\noom_kill ");
    return p ? atol(p + 10) : -1;
}

static void sleep_until(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void protect_self(void)
{
    if (cg_dir)
        return; /* the guardian is scoped to DIR: the harness outside it is safe */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "-1000", 5) < 0)
            perror("reaction: oom_score_adj");
        close(fd);
    }
}

static int usage(void)
{
    fputs("usage: reaction hog --line-kb K [--timeout S] -- HOG [ARGS...]\n"
          "       reaction hold --target-kb K --seconds S [--watch PID]...\n"
          "       (hog: [--kill-at-line] before --; either: [--cgroup DIR])\n",
          stderr);
    return 2;
}

/* ---- hog ------------------------------------------------------------------ */

static int run_hog(long line_kb, long timeout_s, bool kill_at_line, char **argv)
{
    long oom0 = oom_kills();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (join_cgroup() < 0)
            _exit(125);
        int fd = open("/proc/self/oom_score_adj", O_WRONLY); /* the harness's -1000 is not its */
        if (fd >= 0) {
            if (write(fd, "0", 1) < 0)
                _exit(126);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    uint64_t start = now_us(), cross = 0, gone = 0, next = start;
    long lowest = -1;
    bool timeout = false;
    for (;;) {
        long a = avail_kb();
        uint64_t t = now_us();
        if (a >= 0 && (lowest < 0 || a < lowest))
            lowest = a;
        if (!cross && a >= 0 && a < line_kb) {
            cross = t;
            if (kill_at_line)
                kill(pid, SIGKILL); /* our own child, by its PID */
        }
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        if (pfd >= 0 ? poll(&p, 1, 0) > 0 : waitpid(pid, NULL, WNOHANG) == pid) {
            gone = now_us();
            break;
        }
        if (t - start > (uint64_t)timeout_s * 1000000u) {
            timeout = true;
            kill(pid, SIGKILL); /* our own child, by its PID */
        }
        next += 1000;
        if (next < t)
            next = t + 1000;
        sleep_until(next);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    long oom1 = oom_kills();
    printf("{\"cross_us\":%llu,\"exit_us\":%llu,\"start_us\":%llu,\"reaction_ms\":%.3f,"
           "\"crossed\":%s,\"signal\":%d,\"exit_status\":%d,\"oom_kills\":%ld,\"lowest_kb\":%ld,"
           "\"line_kb\":%ld,\"timeout\":%s}\n",
           (unsigned long long)cross, (unsigned long long)gone, (unsigned long long)start,
           cross ? ((double)gone - (double)cross) / 1000.0 : 0.0, cross ? "true" : "false",
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           oom0 >= 0 && oom1 >= 0 ? oom1 - oom0 : -1, lowest, line_kb, timeout ? "true" : "false");
    return 0;
}

/* ---- hold ----------------------------------------------------------------- */

struct watch {
    int pid;
    unsigned long long cpu_ticks, vcsw, ivcsw;
    long rss_kb, anon_kb;
};

/* The CPU ticks of PID (utime + stime) and, from status, its context
 * switches and memory. Returns 0 or -1 (gone). */
static int watch_read(struct watch *w)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", w->pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    w->cpu_ticks = ut + st;
    snprintf(path, sizeof(path), "/proc/%d/status", w->pid);
    fd = open(path, O_RDONLY);
    n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *q;
    if ((q = strstr(buf, "voluntary_ctxt_switches:")))
        w->vcsw = strtoull(q + 24, NULL, 10);
    if ((q = strstr(buf, "nonvoluntary_ctxt_switches:")))
        w->ivcsw = strtoull(q + 27, NULL, 10);
    if ((q = strstr(buf, "VmRSS:")))
        w->rss_kb = atol(q + 6);
    if ((q = strstr(buf, "RssAnon:")))
        w->anon_kb = atol(q + 8);
    return 0;
}

static char *chunk[MAX_CHUNK];
static int nchunk;

static void grow(void)
{
    if (nchunk >= MAX_CHUNK)
        return;
    char *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return;
    for (long i = 0; i < CHUNK; i += 4096)
        m[i] = (char)(i >> 12 | 1); /* touched: resident */
    chunk[nchunk++] = m;
}

static void shrink(void)
{
    if (nchunk > 0)
        munmap(chunk[--nchunk], CHUNK);
}

static int run_hold(long target_kb, long seconds, struct watch *w, int nw)
{
    if (join_cgroup() < 0)
        return 1;
    const long slack = 4096;
    uint64_t t = now_us(), reached = 0, end = 0, give_up = t + 60u * 1000000u;
    long lo = -1, hi = -1;
    struct watch before[MAX_WATCH];
    for (;;) {
        long a = avail_kb();
        if (a > target_kb + 16 * slack)
            for (long k = (a - target_kb) / 2048; k > 0 && nchunk < MAX_CHUNK; k--)
                grow(); /* far above: half the way at once, never past the target */
        else if (a > target_kb + slack)
            grow();
        else if (a >= 0 && a < target_kb - slack)
            shrink();
        t = now_us();
        if (!reached && a >= 0 && a <= target_kb + slack) {
            reached = t;
            end = t + (uint64_t)seconds * 1000000u;
            for (int i = 0; i < nw; i++) {
                watch_read(&w[i]);
                before[i] = w[i];
            }
        }
        if (reached && a >= 0) {
            lo = lo < 0 || a < lo ? a : lo;
            hi = a > hi ? a : hi;
        }
        if ((reached && t >= end) || (!reached && t >= give_up))
            break;
        sleep_until(t + 10000);
    }
    long hz = sysconf(_SC_CLK_TCK);
    for (int i = 0; i < nw; i++) {
        bool alive = watch_read(&w[i]) == 0;
        printf("{\"pid\":%d,\"alive\":%s,\"reached\":%s,\"seconds\":%ld,\"cpu_s\":%.3f,"
               "\"voluntary\":%llu,\"involuntary\":%llu,\"rss_kb\":%ld,\"anon_kb\":%ld,"
               "\"avail_lo_kb\":%ld,\"avail_hi_kb\":%ld,\"target_kb\":%ld,\"ballast_mb\":%d}\n",
               w[i].pid, alive ? "true" : "false", reached ? "true" : "false", seconds,
               (double)(w[i].cpu_ticks - before[i].cpu_ticks) / (double)(hz > 0 ? hz : 100),
               w[i].vcsw - before[i].vcsw, w[i].ivcsw - before[i].ivcsw, w[i].rss_kb, w[i].anon_kb,
               lo, hi, target_kb, nchunk);
    }
    return reached ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (meminfo_fd < 0)
        return 1;
    long line = -1, timeout = 60, target = -1, seconds = 60;
    bool kill_at_line = false;
    struct watch w[MAX_WATCH];
    int nw = 0, i = 2;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--kill-at-line") == 0) {
            kill_at_line = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--line-kb") == 0)
            line = atol(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0)
            timeout = atol(argv[++i]);
        else if (strcmp(argv[i], "--target-kb") == 0)
            target = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atol(argv[++i]);
        else if (strcmp(argv[i], "--watch") == 0 && nw < MAX_WATCH)
            w[nw++] = (struct watch){.pid = atoi(argv[++i])};
        else if (strcmp(argv[i], "--cgroup") == 0)
            cg_dir = argv[++i];
        else
            return usage();
    }
    if (cg_dir && open_cgroup() < 0)
        return 1;
    protect_self();
    if (strcmp(argv[1], "hog") == 0 && line > 0 && i < argc)
        return run_hog(line, timeout, kill_at_line, argv + i);
    if (strcmp(argv[1], "hold") == 0 && target > 0 && seconds > 0)
        return run_hold(target, seconds, w, nw);
    return usage();
}
