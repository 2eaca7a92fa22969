/* leakcore: what `leak` and `watch` share — a watched series (a process or
 * the system) with its samples, the verdict over it and where it grew. */
#ifndef MW_LEAKCORE_H
#define MW_LEAKCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/json.h"
#include "model/sample.h"
#include "proc/shm.h"
#include "proc/slab.h"
#include "analysis/smapsdiff.h"
#include "analysis/trend.h"

enum mw_metric { MW_METRIC_RSS = 0, MW_METRIC_PSS, MW_METRIC_USS };

/* One place memory grew (or shrank). */
struct mw_where {
    char label[128]; /* "[heap]", "anon mmap", "slab dentry", "SUnreclaim", "/dev/shm" */
    char kind[16];   /* region class, "slab", "meminfo", "shm" */
    int64_t delta_bytes;
};

struct mw_series {
    bool system;
    int pid;
    uint64_t starttime;
    char comm[64];
    double *t, *v; /* seconds since the first sample, bytes */
    size_t n, cap;
    bool exited;
    double exited_at_s;
    struct mw_sample first, last; /* copies without slab_bytes */
    /* process: smaps at the start and the end */
    struct mw_regions reg_first, reg_last;
    bool have_regions;
    /* system: caches and shared memory at the start and the end */
    struct mw_slab_set slab_first, slab_last;
    bool have_slab;
    struct mw_shm_report shm_first, shm_last;
    bool have_shm;
    /* results */
    struct mw_trend trend;
    const char *series_name; /* "rss", "pss", "uss", "used", "slab" */
    struct mw_where *where;
    size_t nwhere;
    uint64_t headroom_bytes;
    const char *headroom_source; /* "MemAvailable" or "cgroup limit" */
    double tte_s;                /* time to exhaustion, -1 never */
    /* system: every sample (without slab detail), for the kernel's own
     * trends: SUnreclaim, SReclaimable, Shmem, PageTables, KernelStack */
    struct mw_sample *hist;
    size_t nhist, hist_cap;
    struct mw_component {
        const char *name;
        struct mw_trend trend;
        bool have;
    } comp[5];
};

/* Keeps a system sample for the kernel components' trends (slab_bytes is
 * not kept). Returns 0 or -ENOMEM. */
int mw_series_keep(struct mw_series *s, const struct mw_sample *smp);

/* Appends a (time, value) pair. Returns 0 or -ENOMEM. */
int mw_series_push(struct mw_series *s, double t_s, double v);

/* Value of METRIC in a process sample (RSS when PSS/USS is unreadable). */
double mw_metric_value(const struct mw_sample *s, enum mw_metric m);

/* Classifies S (fills trend, where, headroom, tte). For the system, the
 * verdict is the worse of "used" (MemTotal - MemAvailable) and the slab
 * total, sampled in SLAB_V (may be NULL). Returns 0 or -errno. */
int mw_series_analyze(struct mw_series *s, const struct mw_trend_params *p, const double *slab_v);

/* "all of it in [heap]" / "most of it in [heap] (70%)" / "in [heap] +3 MiB,
 * anon mmap +1 MiB" into BUF. Empty when nothing grew. */
void mw_where_summary(const struct mw_series *s, char *buf, size_t cap);

/* Writes the series' result as a JSON object member/element (KEY may be NULL). */
void mw_series_json(struct mw_json *j, const char *key, const struct mw_series *s);

/* Prints the series' result as text. */
void mw_series_print(FILE *f, const struct mw_series *s);

/* Parses a rate: a size per hour ("100M", "100M/h"), or per minute or
 * second ("2M/m", "5M/s"). Returns 0 or -EINVAL. */
int mw_parse_rate(const char *s, double *bytes_per_hour);

/* Headroom of process PID: the smaller of MEM_AVAILABLE and what its
 * memory cgroup's limit leaves. SOURCE gets which one. */
uint64_t mw_process_headroom(const struct mw_root *root, int pid, uint64_t mem_available,
                             uint64_t mem_total, const char **source);

void mw_series_free(struct mw_series *s);

#endif
