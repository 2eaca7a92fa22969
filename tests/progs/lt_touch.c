/* lt_touch: the protected process of the daemon's live test. Joins a
 * cgroup, sets its oom_score_adj, fills SIZE MiB with incompressible data
 * and then touches every page over and over, recording the longest gap
 * between two 1 MiB steps (its worst stall). Writes "ready" to STATUS
 * once filled, then "longest_stall_ms=N passes=N" every 200 ms.
 *
 * usage: lt_touch SIZE_MIB STATUS_FILE [CGROUP_DIR [ADJ]] */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lt_common.h"

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void report(const char *path, uint64_t worst_us, uint64_t passes)
{
    char tmp[600], text[128];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(text, sizeof(text), "longest_stall_ms=%llu passes=%llu\n",
             (unsigned long long)(worst_us / 1000), (unsigned long long)passes);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fputs(text, f);
    if (fclose(f) == 0)
        rename(tmp, path);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lt_touch SIZE_MIB STATUS_FILE [CGROUP_DIR [ADJ]]\n");
        return 2;
    }
    size_t mib = (size_t)strtoul(argv[1], NULL, 10);
    if (lt_setup(argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL) < 0)
        return 1;
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    size_t len = mib << 20;
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uint64_t seed = 88172645463325252ull;
    lt_fill((uint64_t *)mem, len / 8, &seed);
    report(argv[2], 0, 0);
    uint64_t worst = 0, passes = 0, last_report = lt_now_us();
    while (!stop) {
        uint64_t prev = lt_now_us();
        for (size_t off = 0; off < len && !stop; off += 4096) {
            mem[off]++;
            if ((off & ((1u << 20) - 1)) == 0) {
                uint64_t now = lt_now_us();
                if (now - prev > worst)
                    worst = now - prev;
                prev = now;
                if (now - last_report > 200000) {
                    report(argv[2], worst, passes);
                    last_report = now;
                }
            }
        }
        passes++;
        /* about 20 passes a second: a working set in use, not a spin */
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        prev = lt_now_us();
    }
    report(argv[2], worst, passes);
    return 0;
}
