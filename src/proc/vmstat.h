/* vmstat: the reclaim and refault counters of /proc/vmstat. */
#ifndef MW_VMSTAT_H
#define MW_VMSTAT_H

#include <stdint.h>

#include "base/util.h"

/* Counters memwarden uses (pages or events since boot). Kernels before 4.20
 * name workingset_refault without the _file suffix; it is read into
 * workingset_refault_file. pgscan_* and pgsteal_* of the kswapd / direct /
 * khugepaged kinds are summed. */
struct mw_vmstat {
    uint64_t nr_free_pages;
    uint64_t nr_inactive_file, nr_active_file, nr_inactive_anon, nr_active_anon;
    uint64_t nr_shmem, nr_slab_reclaimable, nr_slab_unreclaimable;
    uint64_t workingset_refault_anon, workingset_refault_file;
    uint64_t pgscan_kswapd, pgscan_direct, pgsteal_kswapd, pgsteal_direct;
    uint64_t allocstall; /* allocstall_* summed */
    uint64_t pswpin, pswpout, pgmajfault, oom_kill;
    uint64_t compact_stall;
};

/* Parses the text of /proc/vmstat ("name value" lines; unknown names are
 * ignored). Returns 0, or -EINVAL when a known name has no number
 * (*bad_line, may be NULL, gets its 1-based line), -ENODATA when no known
 * counter was found. OUT is untouched on failure. */
int mw_vmstat_parse_buf(struct mw_vmstat *out, const char *buf, int *bad_line);

/* Reads ROOT/proc/vmstat. Returns 0 or -errno as above. */
int mw_vmstat_read(const struct mw_root *root, struct mw_vmstat *out, int *bad_line);

#endif
