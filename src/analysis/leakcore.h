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
#include "proc/meminfo.h"
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

/* Where used memory is: the parts of MemTotal - MemFree, in bytes. */
enum mw_part {
    MW_PART_ANON = 0,    /* AnonPages: processes' private memory */
    MW_PART_FILE,        /* Buffers + Cached - Shmem: the page cache */
    MW_PART_SHMEM,       /* Shmem: tmpfs, /dev/shm, SysV, shared anonymous */
    MW_PART_USER_OTHER,  /* records only: used - Shmem - slab - tables - stacks */
    MW_PART_SLAB_RECL,   /* SReclaimable */
    MW_PART_SLAB_UNRECL, /* SUnreclaim */
    MW_PART_PAGE_TABLES, /* PageTables + SecPageTables */
    MW_PART_KERNEL_STACK,
    MW_PART_PERCPU,
    MW_PART_HUGETLB, /* reserved huge pages */
    MW_PART_ZRAM,    /* compressed swap held in RAM (zram mem_used_total) */
    MW_PART_OTHER,   /* the rest of MemTotal - MemFree (vmalloc, drivers, ...) */
    MW_PART_COUNT
};

struct mw_memparts {
    int64_t bytes[MW_PART_COUNT];
    bool have[MW_PART_COUNT];
};

/* The parts of used memory from a full meminfo and the zram devices'
 * memory (ZRAM_BYTES). OTHER is what MemTotal - MemFree leaves, so the
 * parts add up to all of it. */
void mw_memparts_from_meminfo(const struct mw_meminfo *mi, uint64_t zram_bytes,
                              struct mw_memparts *out);

/* The parts a record's system sample can tell: Shmem, slab, page tables,
 * kernel stacks, and the rest of "used" (MemTotal - MemAvailable) as
 * MW_PART_USER_OTHER (processes' memory and what the kernel does not
 * break down). */
void mw_memparts_from_sample(const struct mw_sample *s, struct mw_memparts *out);

/* "anon", "page cache", "shmem", ... */
const char *mw_part_name(enum mw_part p);

/* Whether growth in part P is memory of processes (anon, shmem, the
 * record's user-and-other), so processes should be named. */
bool mw_part_is_user(enum mw_part p);

/* One process's memory at one time. */
struct mw_procmem {
    int pid;
    char comm[64];
    uint64_t rss_bytes, pss_bytes; /* pss 0 when unknown */
};

struct mw_procmem_set {
    struct mw_procmem *p;
    size_t n, cap;
};

/* Appends a copy of M. Returns 0 or -ENOMEM. */
int mw_procmem_add(struct mw_procmem_set *set, const struct mw_procmem *m);

/* Sets the entry of PID (same comm) to M, appending when new. Returns 0
 * or -ENOMEM. */
int mw_procmem_put(struct mw_procmem_set *set, const struct mw_procmem *m);

void mw_procmem_free(struct mw_procmem_set *set);

/* A process whose memory grew between two process sets. */
struct mw_grower {
    int pid;
    char comm[64];           /* cleaned for output (base/text) */
    int64_t delta_bytes;     /* RSS last - first (first 0: started during the watch) */
    uint64_t last_bytes;     /* RSS at the end */
    int64_t pss_delta_bytes; /* PSS last - first, 0 when unknown */
};

/* The up to MAX processes of LAST whose RSS grew most since FIRST (a PID
 * with another comm is another process), largest first; only growth.
 * Returns how many were written to OUT. */
size_t mw_procmem_growers(const struct mw_procmem_set *first, const struct mw_procmem_set *last,
                          struct mw_grower *out, size_t max);

#define MW_LEAK_GROWERS 5

struct mw_series {
    bool system;
    int pid;
    /* a libmwpool pool of process PID (proc/mwpool.h): the series is its
     * blocks in use x block size, headroom what its cap leaves */
    char pool[32];
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
    /* system: where used memory is at the start and the end, and every
     * process's memory then (to name who grew when user memory did) */
    struct mw_memparts parts_first, parts_last;
    bool have_parts;
    struct mw_procmem_set procs_first, procs_last;
    /* results */
    struct mw_trend trend;
    const char *series_name; /* "rss", "pss", "uss", "used", "slab", "pool in use" */
    struct mw_where *where;
    size_t nwhere;
    struct mw_grower growers[MW_LEAK_GROWERS]; /* system: the processes that grew most */
    size_t ngrowers;
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
 * total, sampled in SLAB_V (may be NULL); the slab total and the kernel's
 * parts are judged with the band of "used" (the system's scale) unless P
 * fixes one. Returns 0 or -errno. */
int mw_series_analyze(struct mw_series *s, const struct mw_trend_params *p, const double *slab_v);

/* "all of it in [heap]" / "most of it in [heap] (70%)" / "in [heap] +3 MiB,
 * anon mmap +1 MiB" into BUF. Empty when nothing grew. For the system with
 * its memory parts, the shares are over all of used memory: the part
 * that grew most is named, with the slab caches within it when it is
 * slab, or the processes that grew when it is user memory ("most of it
 * in anon (96%): PID 42 app +398 MiB, ..."). */
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
