/* lt_hog: the memory hog of the daemon's live test. Joins a cgroup, sets
 * its oom_score_adj, then allocates CHUNK MiB at a time without bound,
 * filling every page with incompressible data (so zram swap fills as fast
 * as memory would), optionally at most RATE MiB per second (0: as fast as
 * it can). Prints the MiB allocated to stdout after each chunk.
 *
 * usage: lt_hog [CGROUP_DIR [ADJ [CHUNK_MIB [RATE_MIB_PER_S]]]] */
#include <stdlib.h>
#include <sys/mman.h>

#include "lt_common.h"

int main(int argc, char **argv)
{
    if (lt_setup(argc > 1 && argv[1][0] ? argv[1] : NULL, argc > 2 ? argv[2] : NULL) < 0)
        return 1;
    size_t chunk = (size_t)(argc > 3 ? strtoul(argv[3], NULL, 10) : 4) << 20;
    unsigned long rate = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    uint64_t seed = 0x9E3779B97F4A7C15ull, start = lt_now_us();
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t total = 0;;) {
        char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        lt_fill((uint64_t *)p, chunk / 8, &seed);
        total += chunk;
        printf("%zu\n", total >> 20);
        if (rate) {
            uint64_t due = start + (uint64_t)((total >> 20) * 1000000ull / rate);
            uint64_t now = lt_now_us();
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1000000),
                                      (long)((due - now) % 1000000) * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
}
