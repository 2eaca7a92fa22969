/* Shared by the live-test programs lt_*.c: join a cgroup and set
 * oom_score_adj before allocating anything. */
#ifndef LT_COMMON_H
#define LT_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int lt_write(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Moves this process into CGROUP_DIR (if not NULL) and sets its
 * oom_score_adj (a lower value needs CAP_SYS_RESOURCE: then the lowest
 * allowed stays and a note goes to stderr). */
static inline int lt_setup(const char *cgroup_dir, const char *adj)
{
    char buf[512];
    if (cgroup_dir) {
        snprintf(buf, sizeof(buf), "%s/cgroup.procs", cgroup_dir);
        char pid[32];
        snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        if (lt_write(buf, pid) < 0) {
            perror(buf);
            return -1;
        }
    }
    if (adj && lt_write("/proc/self/oom_score_adj", adj) < 0)
        fprintf(stderr, "note: cannot set oom_score_adj %s (no CAP_SYS_RESOURCE?)\n", adj);
    return 0;
}

static inline uint64_t lt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Incompressible page contents (zram cannot store them as "same" pages). */
static inline void lt_fill(uint64_t *p, size_t words, uint64_t *seed)
{
    uint64_t x = *seed;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = x;
    }
    *seed = x;
}

#endif
