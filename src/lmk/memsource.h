/* memsource: the daemon's memory sample. The files it reads every sample
 * are opened once (ROOT/proc/meminfo, vmstat, pressure/memory and
 * zoneinfo for the whole machine; the cgroup's files through
 * proc/cgroup.h for --scope) and read into fixed buffers: a sample never
 * allocates. What the files say becomes a struct mw_mem_state (policy.h),
 * the one input of the kill cycle. */
#ifndef MW_MEMSOURCE_H
#define MW_MEMSOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "lmk/config.h"
#include "lmk/policy.h"
#include "proc/cgroup.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"

/* Watermarks change only with min_free_kbytes or memory hotplug: they are
 * read again this often. */
#define MW_ZONEINFO_REFRESH_MS 60000

/* vmstat is read again at least this often when no memory stall told
 * to (memsource.c, read_vmstat): lmkd's thrashing windows are seconds
 * long, a counter read up to 1 s late moves a window's end, not its sum. */
#define MW_VMSTAT_REUSE_MS 1000

struct mw_memsource {
    const struct mw_root *root;
    bool scope;                                     /* a cgroup (cg), not the machine */
    int meminfo_fd, vmstat_fd, zoneinfo_fd, psi_fd; /* -1: not open */
    struct mw_cgroup_src cg;
    struct mw_zoneinfo zi; /* the watermarks as last read */
    bool have_zi;
    bool zi_stale; /* the last re-read failed */
    uint64_t zi_read_ms, zi_said_ms;
    struct mw_zoneinfo_src zsrc; /* zoneinfo_fd with a buffer sized to the file */
    char meminfo_buf[8192], vmstat_buf[16384], psi_buf[512];
    /* vmstat as last read, and when; PSI's memory "some" total then
     * (mw_memsource_sample reads vmstat again only when it moved) */
    struct mw_vmstat vs;
    bool have_vs;
    uint64_t vs_ms, vs_psi_total_us;
    /* the headroom (available + free swap, kB) at the start of the fall's
     * window, when, and the fall's rate (kB/s) as it decays */
    uint64_t fall_from_kb, fall_from_ms;
    double fall_kb_s;
    /* What the daemon cannot see (and so cannot act on), for its log and
     * state file: "" or a sentence. */
    char warning[192];
};

/* Marks every descriptor of S closed (before mw_memsource_open, so that
 * mw_memsource_close is safe whatever happened). */
void mw_memsource_init(struct mw_memsource *s);

/* Opens the files under ROOT: the machine's, and SCOPE's (a cgroup
 * directory, or NULL) when given. /proc/zoneinfo is read whole once with
 * a buffer that grows to fit (it passes 64 KiB at about 120 CPUs) and
 * keeps that size plus a margin; when it cannot be read whole, S->warning
 * says the watermark reasons cannot fire. Returns 0 or -errno (meminfo,
 * the cgroup: -ENOENT for a directory that is not a memory cgroup). */
int mw_memsource_open(struct mw_memsource *s, const struct mw_root *root, const char *scope);

/* One sample at NOW_MS into ST (CFG: a scope's watermarks). The machine's
 * watermarks are re-read first every MW_ZONEINFO_REFRESH_MS; a failed
 * re-read keeps the ones read before and says so in S->warning (at most
 * once an hour), a good one after it clears it: *WARNING_CHANGED tells.
 * Returns 0 or -errno (ST untouched). */
int mw_memsource_sample(struct mw_memsource *s, const struct mw_config *cfg, uint64_t now_ms,
                        struct mw_mem_state *st, bool *warning_changed);

/* Closes every descriptor and frees the zoneinfo buffer. */
void mw_memsource_close(struct mw_memsource *s);

#endif
