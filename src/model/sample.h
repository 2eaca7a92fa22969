/* sample: one measurement of a process or of the whole system, and the
 * JSON-lines record `watch --record` writes and `leak --from` / `analyze`
 * read back (with size-based rotation: FILE, FILE.1, FILE.2, ...). */
#ifndef MW_SAMPLE_H
#define MW_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proc/slab.h"
#include "base/util.h"

enum mw_sample_kind {
    MW_SAMPLE_PROCESS = 0,
    MW_SAMPLE_SYSTEM,
    MW_SAMPLE_GONE, /* the process exited: PID, STARTTIME and COMM say which */
};

/* All sizes in bytes. Process fields are 0 in a system sample and the
 * reverse, except the system fields a process sample also carries
 * (mem_total, mem_available, mem_used, buff_cache) for the watch table. */
struct mw_sample {
    double t_s; /* wall clock, seconds since the epoch */
    enum mw_sample_kind kind;
    int pid;
    uint64_t starttime; /* clock ticks after boot: with PID, names one process */
    char comm[64];
    uint64_t rss, pss, uss, vms, shared, swap;
    bool have_pss;      /* smaps_rollup was readable */
    uint64_t cpu_ticks; /* utime + stime */
    /* system */
    uint64_t mem_total, mem_available, mem_used, buff_cache;
    uint64_t shmem, slab, sreclaimable, sunreclaim, page_tables, kernel_stack;
    uint64_t *slab_bytes; /* per cache, indexed like mw_record.slab_names; may be NULL */
    size_t nslab;
};

/* Samples process PID under ROOT: /proc/PID/stat, statm, status and
 * smaps_rollup (PSS/USS; have_pss false when unreadable), plus meminfo's
 * totals. T_S is the time to stamp. Returns 0, -ESRCH when the process is
 * gone (or a zombie), or -errno. */
int mw_sample_process(const struct mw_root *root, int pid, double t_s, struct mw_sample *out);

/* Samples the system from ROOT/proc/meminfo. Returns 0 or -errno. */
int mw_sample_system(const struct mw_root *root, double t_s, struct mw_sample *out);

/* Wall clock now, seconds since the epoch (millisecond resolution). */
double mw_sample_now_s(void);

/* CPU use between two samples of one process, percent of one CPU
 * (CLK_TCK ticks per second). 0 when the time did not advance. */
double mw_sample_cpu_pct(const struct mw_sample *prev, const struct mw_sample *cur, long clk_tck);

/* Writes S as one JSON line to F. SLAB, when not NULL, adds a "slab"
 * object with every cache's size in bytes. */
void mw_sample_write_json(FILE *f, const struct mw_sample *s, const struct mw_slab_set *slab);

/* Appends S (one line) to PATH, rotating first when PATH is at least
 * MAX_BYTES long: PATH.(KEEP-1) is dropped, PATH.i becomes PATH.(i+1),
 * PATH becomes PATH.1. MAX_BYTES 0 never rotates. PATH is opened by
 * mw_out_append_open (base/safeopen.h): created when missing, else only a
 * regular file of the caller's own with no other link, never through a
 * symlink. Returns 0 or -errno (-ELOOP, -EPERM, -EMLINK, -EBADFD for
 * what it refuses: mw_out_strerror says it in words). */
int mw_record_append(const char *path, uint64_t max_bytes, unsigned keep, const struct mw_sample *s,
                     const struct mw_slab_set *slab);

/* Samples read back (or gathered live), in order. */
struct mw_record {
    struct mw_sample *s;
    size_t n, cap;
    char **slab_names; /* interned cache names */
    size_t nslab_names, slab_cap;
    unsigned bad_lines; /* lines that were not memwarden samples */
};

/* Appends a copy of S to REC; SLAB (may be NULL) fills the copy's
 * slab_bytes by cache name. Returns 0 or -ENOMEM. */
int mw_record_add(struct mw_record *rec, const struct mw_sample *s, const struct mw_slab_set *slab);

/* Parses one JSON line written by mw_sample_write_json into REC.
 * Returns 0, -EINVAL (not a sample: counted in rec->bad_lines by
 * mw_record_parse_buf) or -ENOMEM. */
int mw_record_parse_line(struct mw_record *rec, const char *line, size_t len);

/* Parses a whole record's text; blank lines are skipped, other lines that
 * are not samples are counted in REC->bad_lines. Returns 0 or -ENOMEM. */
int mw_record_parse_buf(struct mw_record *rec, const char *buf);

/* Longest line a record may hold: a sample with every slab cache is a
 * few KiB; a longer line is not a memwarden record (and reading on would
 * let /dev/zero-like input take all memory). */
#define MW_RECORD_LINE_MAX (1u << 20)

/* Reads PATH and its rotated predecessors (PATH.K ... PATH.1, oldest
 * first, then PATH) into REC. Regular files only: a FIFO or a device is
 * -EBADFD, a directory -EISDIR (opened without blocking, never read). A line over
 * MW_RECORD_LINE_MAX bytes is -EMSGSIZE. Returns 0 or -errno (of PATH, or
 * of a rotated file that exists but cannot be read). */
int mw_record_read(const char *path, struct mw_record *rec);

/* Index of the cache NAME in REC->slab_names, or -1. */
long mw_record_slab_index(const struct mw_record *rec, const char *name);

/* Bytes of cache index IDX in S (0 when not recorded). */
uint64_t mw_sample_slab(const struct mw_sample *s, size_t idx);

/* The slab caches of sample S (of REC, which holds their names) as a slab
 * set for mw_slab_diff: caches at 0 bytes are left out, "reclaimable" is
 * unknown (-1). OUT is overwritten; out->c is NULL when out of memory.
 * Free with mw_slab_set_free. */
void mw_sample_slab_set(const struct mw_record *rec, const struct mw_sample *s,
                        struct mw_slab_set *out);

void mw_record_free(struct mw_record *rec);

#endif
