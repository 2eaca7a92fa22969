/* bench_refresh: the footprint refresh of the victim scan (lmk/victim.c)
 * beside the floor, the same fields read in the plainest C loop, in one
 * process and one run (issue 27). Each figure is the median over PASSES
 * passes; the floors and memwarden's whole cycles take turns, INTERVAL ms
 * apart (the daemon refreshes every MW_FP_RATE_MIN_MS while pressure
 * builds), so a load from elsewhere weighs on each alike:
 *
 *   floor, the refresh's fields: opendir/readdir of /proc, then for every
 *     process open/read/close of statm and a pread of oom_score_adj held
 *     open -- what a whole refresh cycle reads, read the plainest way;
 *   floor, all per read: open/read/close of both files (no descriptor held);
 *   floor, all held: pread of both held open (lmkd's reread_file): the
 *     kernel keeps a 4 KiB seq_file page per read statm descriptor, said
 *     with the SUnreclaim it cost;
 *   floor, the old refresh's fields: stat + status + oom_score_adj, each
 *     opened, read, closed (what mw_victim_refresh read before issue 27);
 *   memwarden cold: the first mw_victim_refresh (every process new);
 *   memwarden whole: mw_victim_refresh without a headroom, so every call is
 *     a whole cycle (every candidate's statm and adj read);
 *   memwarden as the daemon runs it: with the headroom and total of
 *     /proc/meminfo and the daemon's slice (MW_FP_SLICE_US);
 *   memwarden's choice right after such a refresh (flat, runaways on).
 *
 * Lines are "key value" (ms, medians; counts) for tests/bench/bench_refresh.sh.
 * usage: bench_refresh [PASSES [INTERVAL_MS]] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "lmk/config.h"
#include "lmk/victim.h"
#include "proc/meminfo.h"

#define MAX_PIDS   65536
#define MAX_PASSES 64

static int pids[MAX_PIDS], statm_fd[MAX_PIDS], adj_fd[MAX_PIDS];
static int npids;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n ? v[(n - 1) / 2] : 0;
}

/* The plainest enumeration: opendir, readdir, atoi. */
static void list_pids(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    npids = 0;
    while (d && (de = readdir(d)) != NULL && npids < MAX_PIDS)
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
            pids[npids++] = atoi(de->d_name);
    if (d)
        closedir(d);
}

static void read_file(int pid, const char *name)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof(buf));
    (void)n;
    close(fd);
}

static void pread_fd(int fd)
{
    char buf[4096];
    if (fd >= 0) {
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        (void)n;
    }
}

/* Opens NAME of every process; returns how many could not be (gone, or
 * out of descriptors). */
static int open_all(int *fds, const char *name)
{
    char path[64];
    int failed = 0;
    for (int i = 0; i < npids; i++) {
        snprintf(path, sizeof(path), "/proc/%d/%s", pids[i], name);
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        failed += fds[i] < 0;
    }
    return failed;
}

static void close_all(int *fds)
{
    for (int i = 0; i < npids; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

enum floor_kind { F_FIELDS, F_PER_READ, F_HELD, F_OLD };

static void floor_pass(enum floor_kind k)
{
    list_pids();
    for (int i = 0; i < npids; i++) {
        switch (k) {
        case F_FIELDS:
            read_file(pids[i], "statm");
            pread_fd(adj_fd[i]);
            break;
        case F_PER_READ:
            read_file(pids[i], "statm");
            read_file(pids[i], "oom_score_adj");
            break;
        case F_HELD:
            pread_fd(statm_fd[i]);
            pread_fd(adj_fd[i]);
            break;
        case F_OLD:
            read_file(pids[i], "stat");
            read_file(pids[i], "status");
            read_file(pids[i], "oom_score_adj");
            break;
        }
    }
}

static long meminfo_kb(const char *key)
{
    char buf[8192];
    int fd = open("/proc/meminfo", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, key);
    return p ? atol(p + strlen(key) + 1) : -1;
}

static int passes = 15, interval = 250;

/* One refresh of WS; DAEMON: with the headroom and slice the daemon
 * gives. Returns its time (ms) and adds what it read to the sums. */
static double refresh_once(struct mw_scan_ws *ws, const struct mw_config *cfg, bool daemon,
                           unsigned *visits, unsigned *listed)
{
    struct mw_choice c = {.min_adj = -999, .now_ms = mw_now_ms()};
    if (daemon) {
        c.total_kb = (uint64_t)meminfo_kb("MemTotal:");
        c.headroom_kb = (uint64_t)(meminfo_kb("MemAvailable:") + meminfo_kb("SwapFree:"));
        c.slice_us = MW_FP_SLICE_US;
    }
    double t0 = now_ms();
    mw_victim_refresh(ws, cfg, &c);
    double t = now_ms() - t0;
    *visits += ws->visits;
    *listed += ws->scanned;
    return t;
}

static double max_of(const double *v, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

static long status_kb(const char *key)
{
    char buf[4096];
    if (mw_read_small_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) < 0)
        return -1;
    const char *p = strstr(buf, key);
    return p ? atol(p + strlen(key) + 1) : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        passes = atoi(argv[1]);
    if (argc > 2)
        interval = atoi(argv[2]);
    if (passes < 1 || passes > MAX_PASSES || interval < 0)
        return 2;
    struct rlimit rl; /* as the daemon does: the soft limit up to the hard one */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    list_pids();
    printf("processes %d\n", npids);
    printf("floor_unopened %d\n", open_all(adj_fd, "oom_score_adj"));
    long slab0 = meminfo_kb("SUnreclaim:");
    printf("floor_held_unopened %d\n", open_all(statm_fd, "statm"));
    floor_pass(F_HELD); /* each statm descriptor keeps its seq_file page from its first read */
    printf("floor_held_sunreclaim_kb %ld\n", meminfo_kb("SUnreclaim:") - slab0);
    struct mw_root root;
    struct mw_config cfg;
    struct mw_scan_ws ws;
    mw_config_defaults(&cfg);
    if (mw_root_open(&root, "/") < 0 || mw_scan_ws_init(&ws, &root, -1, MAX_PIDS) < 0) {
        fprintf(stderr, "bench_refresh: cannot open /proc\n");
        return 1;
    }
    long rss0 = status_kb("VmRSS:");
    struct mw_choice c = {.min_adj = -999, .now_ms = mw_now_ms()};
    double t0 = now_ms();
    int n = mw_victim_refresh(&ws, &cfg, &c);
    printf("mw_cold_ms %.3f\nmw_candidates %d\n", now_ms() - t0, n);
    /* the floors and memwarden's whole cycles by turns: the same load for each */
    static double t[5][MAX_PASSES];
    unsigned visits = 0, listed = 0;
    for (int r = 0; r < passes; r++) {
        for (int k = 0; k < 4; k++) {
            sleep_ms(interval);
            t0 = now_ms();
            floor_pass((enum floor_kind)k);
            t[k][r] = now_ms() - t0;
        }
        sleep_ms(interval);
        t[4][r] = refresh_once(&ws, &cfg, false, &visits, &listed);
    }
    static const char *key[5] = {"floor_fields", "floor_per_read", "floor_held", "floor_old",
                                 "mw_whole"};
    for (int k = 0; k < 5; k++) {
        double max = max_of(t[k], passes);
        printf("%s_ms %.3f\n%s_max_ms %.3f\n", key[k], median(t[k], passes), key[k], max);
    }
    printf("mw_whole_visits %.1f\nmw_whole_listed %.1f\n", (double)visits / passes,
           (double)listed / passes);
    close_all(statm_fd);
    close_all(adj_fd);
    /* as the daemon runs it: 250 ms apart, the headroom and slice given */
    visits = listed = 0;
    for (int r = 0; r < passes; r++) {
        sleep_ms(interval);
        t[0][r] = refresh_once(&ws, &cfg, true, &visits, &listed);
    }
    printf("mw_daemon_max_ms %.3f\n", max_of(t[0], passes));
    printf("mw_daemon_ms %.3f\nmw_daemon_visits %.1f\n", median(t[0], passes),
           (double)visits / passes);
    /* the choice right after a refresh, as at the line: from the cache */
    for (int r = 0; r < passes; r++) {
        sleep_ms(interval);
        refresh_once(&ws, &cfg, true, &visits, &listed);
        struct mw_choice ch = {.min_adj = 0,
                               .flat = true,
                               .runaway_any_adj = true,
                               .total_kb = (uint64_t)meminfo_kb("MemTotal:"),
                               .now_ms = mw_now_ms()};
        struct mw_victim v;
        t0 = now_ms();
        if (mw_victim_choose(&ws, &cfg, &ch, &v) > 0)
            close(v.stat_fd);
        t[1][r] = now_ms() - t0;
    }
    printf("mw_choose_ms %.3f\nmw_choose_max_ms %.3f\n", median(t[1], passes),
           max_of(t[1], passes));
    printf("mw_fds %d\nmw_rss_growth_kb %ld\n", ws.fpc.fds, status_kb("VmRSS:") - rss0);
    printf("mw_entry_bytes %zu\n", sizeof(struct mw_fp));
    mw_scan_ws_free(&ws);
    mw_root_close(&root);
    return 0;
}
