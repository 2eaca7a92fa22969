/* cgroup: a memory cgroup's files, v1 (memory.usage_in_bytes, ...) and v2
 * (memory.current, ...), read into one struct so a cgroup can be shown and
 * guarded as if it were a machine. Paths are filesystem paths of the cgroup
 * directory (e.g. /sys/fs/cgroup/memory/app or /sys/fs/cgroup/unified/app),
 * resolved under the root. */
#ifndef MW_CGROUP_H
#define MW_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "proc/meminfo.h"
#include "proc/psi.h"

#define MW_CG_UNLIMITED UINT64_MAX

/* memory.stat, the fields memwarden uses, in bytes. v1 names in brackets:
 * anon [rss], file [cache], shmem [shmem], file_mapped [mapped_file],
 * active_file, inactive_file, active_anon, inactive_anon, unevictable,
 * slab_reclaimable / slab_unreclaimable (v2 only), workingset_refault_file
 * (v2, and v1 since 5.9), pgfault, pgmajfault. v1's total_* (hierarchical) values are
 * preferred when present. */
struct mw_cg_stat {
    uint64_t anon, file, shmem, file_mapped, file_dirty, file_writeback;
    uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable;
    uint64_t slab_reclaimable, slab_unreclaimable, kernel_stack, pagetables, sock;
    uint64_t workingset_refault_file, pgfault, pgmajfault, pgscan, pgsteal;
    uint64_t swap; /* v1 total_swap; v2 from memory.swap.current */
};

struct mw_cgroup_mem {
    int version;         /* 1 or 2 */
    uint64_t usage;      /* bytes */
    uint64_t limit;      /* bytes, MW_CG_UNLIMITED when none */
    uint64_t high;       /* v2 memory.high, else MW_CG_UNLIMITED */
    uint64_t swap_limit; /* v2 memory.swap.max / v1 memsw limit - limit; unlimited if none */
    uint64_t swap_usage;
    struct mw_cg_stat stat;
    bool have_stat;
    /* v2 memory.events / v1 memory.oom_control + failcnt */
    uint64_t ev_low, ev_high, ev_max, ev_oom, ev_oom_kill;
    /* v1: charges refused at memory.limit_in_bytes and at memsw's limit
     * (ev_max is their sum) */
    uint64_t failcnt, memsw_failcnt;
    bool oom_kill_disable, under_oom; /* v1 */
    struct mw_psi psi;                /* v2 memory.pressure */
    bool have_psi;
};

/* Parses memory.stat text ("name value" lines) of either version into OUT.
 * Returns 0, -EINVAL on a malformed line (*bad_line), -ENODATA when empty. */
int mw_cg_stat_parse_buf(struct mw_cg_stat *out, const char *buf, int version, int *bad_line);

/* Parses v2 memory.events or v1 memory.oom_control text into MEM's event
 * fields. Returns 0 or -EINVAL. */
int mw_cg_events_parse_buf(struct mw_cgroup_mem *mem, const char *buf);

/* Which version the cgroup directory PATH is: 2 when memory.current exists,
 * 1 when memory.usage_in_bytes does. Returns 1 or 2, or -ENOENT (not a
 * memory cgroup) / -errno. */
int mw_cgroup_version(const struct mw_root *root, const char *path);

/* Reads every memory file of the cgroup at PATH once (mw_cgroup_src_open,
 * _read, _close). Usage and limit are required; the others are filled when
 * readable. Returns 0 or -errno. */
int mw_cgroup_mem_read(const struct mw_root *root, const char *path, struct mw_cgroup_mem *out);

/* The memory files of one cgroup, opened once and read many times without
 * allocating: the daemon's --scope every sample, `run` every interval,
 * `status --scope` once. Every file is opened beneath the cgroup's
 * directory as a regular file (never a FIFO that would hang a reader).
 * The one table of the files of either version is in cgroup.c. */
#define MW_CG_SRC_FILES 10
#define MW_CG_SRC_BUF   16384 /* memory.stat of a 6.x kernel is about 1.5 KiB */
struct mw_cgroup_src {
    int version;             /* 1 or 2 */
    int dir_fd;              /* the cgroup's directory (cgroup.procs, the peaks) */
    int fd[MW_CG_SRC_FILES]; /* -1: the file is not there (or not of this version) */
    char buf[MW_CG_SRC_BUF]; /* each file is read here and parsed before the next */
};

/* Opens the cgroup directory PATH under ROOT and its memory files. The
 * version is 2 when memory.current exists, 1 when memory.usage_in_bytes
 * does. Returns 0 or -errno: -ENOENT for a directory that is not a memory
 * cgroup (or whose usage or limit file is missing), the open's error for
 * PATH itself. On failure nothing stays open. */
int mw_cgroup_src_open(struct mw_cgroup_src *s, const struct mw_root *root, const char *path);

/* Reads the files into OUT, as mw_cgroup_mem_read describes (v1's memsw
 * turned into swap by mw_cg_v1_memsw). Usage and limit must read; the
 * others are filled when they do. Returns 0 or -errno; OUT untouched on
 * failure. */
int mw_cgroup_src_read(struct mw_cgroup_src *s, struct mw_cgroup_mem *out);

/* The kernel's own high-water marks, read once (run's summary): v2
 * memory.peak and memory.swap.peak, v1 memory.max_usage_in_bytes (v1 has
 * no swap peak). Each out-parameter is set only when its file read.
 * Returns a bit mask: 1 PEAK was read, 2 SWAP_PEAK was. */
int mw_cgroup_src_peaks(struct mw_cgroup_src *s, uint64_t *peak, uint64_t *swap_peak);

/* Closes every descriptor (safe on a closed or failed source). */
void mw_cgroup_src_close(struct mw_cgroup_src *s);

/* Reads cgroup.procs of PATH into a malloc'ed array of PIDs.
 * Returns the count (>= 0) or -errno. */
int mw_cgroup_pids(const struct mw_root *root, const char *path, int **pids);

/* From the text of /proc/PID/cgroup, the cgroup's path: the v2 line
 * ("0::/path") when PREFER_V1_MEMORY is false or no v1 memory line exists,
 * else the v1 memory controller's line ("7:memory:/path"). Copies into OUT
 * (capacity CAP). Returns 0, -ENODATA when neither is present, -ENAMETOOLONG. */
int mw_proc_cgroup_parse_buf(const char *buf, bool prefer_v1_memory, char *out, size_t cap);

/* Reclaimable memory in the cgroup in bytes: inactive + active file minus
 * dirty/writeback, plus reclaimable slab (v2). */
uint64_t mw_cgroup_reclaimable(const struct mw_cgroup_mem *mem);

/* v1 has no swap files of its own: memory.memsw.* count memory and swap
 * together. Turns MEM's raw v1 limit and the memsw values into the
 * version-neutral fields:
 *   limit      = MW_CG_UNLIMITED when v1's "none" (PAGE_COUNTER_MAX pages,
 *                about 2^63: anything >= 2^62)
 *   swap_limit = memsw.limit - limit  (left as is when either has no limit
 *                or memsw.limit < limit)
 *   swap_usage = memsw.usage - usage  (left as is when memsw.usage < usage)
 * Pass MW_CG_UNLIMITED / 0 for a memsw file that could not be read (the
 * kernel was booted without swap accounting). MEM->usage must be set. */
void mw_cg_v1_memsw(struct mw_cgroup_mem *mem, uint64_t memsw_limit, uint64_t memsw_usage);

/* Swap the cgroup uses: v1's memory.stat total_swap and memsw.usage -
 * usage count the same pages, and memsw may be unreadable (swap
 * accounting off): the larger of swap_usage and stat.swap is the safe one.
 * Bytes. */
uint64_t mw_cgroup_swap_used(const struct mw_cgroup_mem *cg);

/* A memory cgroup seen as a machine: what `status --scope` shows and what
 * the daemon's scope mode decides on (mw_state_from_scope). Bytes. */
struct mw_cg_machine {
    uint64_t total;       /* min(limit, host MemTotal); MemTotal when no limit */
    uint64_t headroom;    /* total - min(usage, total): "free" */
    uint64_t reclaimable; /* min(mw_cgroup_reclaimable, usage) */
    uint64_t available;   /* headroom + reclaimable */
    uint64_t used;        /* total - available */
    uint64_t clean_file;  /* file LRU (active + inactive) - dirty - writeback */
    uint64_t cache;       /* file + reclaimable slab: free(1)'s buff/cache */
    uint64_t shared;      /* shmem */
    uint64_t swap_total;  /* min(swap limit, host SwapTotal); SwapTotal when no limit */
    uint64_t swap_used;   /* min(max(swap usage, memory.stat swap), swap_total) */
    uint64_t swap_free;   /* min(swap_total - swap_used, host SwapFree) */
};

/* The one formula for "a cgroup as a machine", pure: from CG (either
 * version, as mw_cgroup_mem_read or the daemon fills it) and the host's
 * parsed /proc/meminfo HOST, fills OUT as the fields above say. A limit
 * above the host's RAM (a v2 memory.max of 64 GiB on a 24 GiB host) is
 * bounded by the RAM, so the machine is never larger than the one it runs
 * on; swap is bounded by both the cgroup's swap limit and the host's swap
 * (a cgroup cannot swap to a device that is full). */
void mw_cgroup_machine(const struct mw_cgroup_mem *cg, const struct mw_meminfo *host,
                       struct mw_cg_machine *out);

#endif
