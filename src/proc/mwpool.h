/* mwpool: the statistics pages libmwpool publishes (lib/mwpool/mwpool.h,
 * struct mwpool_page), one file per pool under <root>/run/mwpool/PID/NAME.
 * A pure parser of the page's bytes, and readers through a root so
 * --root and a captured tree work. Everything read is validated: the
 * files are written by other processes. */
#ifndef MW_PROC_MWPOOL_H
#define MW_PROC_MWPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* The page layout, version 1 (byte offsets; host byte order). */
#define MW_POOL_MAGIC       0x4c50574du /* "MWPL" */
#define MW_POOL_VERSION     1u
#define MW_POOL_HEADER      128u /* bytes of the version-1 page */
#define MW_POOL_NAME        32u
#define MW_POOL_DIR         "/run/mwpool"
#define MW_POOL_MAX_BLOCKS  (1ull << 30) /* libmwpool's own cap on blocks */
#define MW_POOL_MAX_BSIZE   (1ull << 40) /* a block larger than 1 TiB is not real */
#define MW_POOL_MAX_BYTES   (1ull << 52) /* nor a pool larger than 4 PiB */
#define MW_POOL_MAX_PER_PID 256          /* pools read per process */

struct mw_pool {
    int pid;
    char name[MW_POOL_NAME]; /* [A-Za-z0-9._-] only (others become '?') */
    uint64_t block_size, blocks_total, blocks_in_use, high_water, max_blocks;
    uint64_t failed_gets, waits, trimmed_chunks;
    uint64_t seq; /* the page's seqlock counter when read */
};

struct mw_pool_set {
    struct mw_pool *p;
    size_t n, cap;
};

/* Parses a page of LEN bytes:
 *   magic "MWPL", version 1, header_size >= 128, seq even, pid, name[32]
 *   (NUL within), block_size, blocks_total, in_use, high_water, max_blocks,
 *   failed_gets, waits, trimmed_chunks (u64 each).
 * Returns 0, or -EBADMSG (short, wrong magic, a count out of range:
 * in use or high water above the total, total above the cap, a zero or
 * absurd block size, a cap beyond 4 PiB), -EPROTONOSUPPORT (another version), -EAGAIN (a
 * write was under way: read again). *out untouched on failure. */
int mw_pool_parse_buf(struct mw_pool *out, const void *buf, size_t len);

/* Reads the pools of process PID under DIRFD (the directory holding the
 * PID directories), never following a symlink, appending each valid page
 * to SET (a page whose pid is not PID is skipped). Returns how many were
 * added, or -errno (-ENOENT: PID publishes nothing; -ENOMEM). */
int mw_pool_read_pid(int dirfd, int pid, struct mw_pool_set *set);

/* Opens the directory of published pools: DIR (a path of its own, for
 * tests and --pool-dir) or else <root>/run/mwpool. Returns a descriptor
 * or -errno. */
int mw_pool_dir_open(const struct mw_root *root, const char *dir);

/* Reads every process's pools under DIRFD into SET (PIDs in numeric
 * order). Returns how many pools, or -errno (-ENOMEM). */
int mw_pool_scan(int dirfd, struct mw_pool_set *set);

/* Sum of the pools of PID in SET: bytes in use (in_use x block size),
 * and the bytes that could still be handed out (to the cap). Returns
 * how many pools PID has in SET. */
size_t mw_pool_pid_bytes(const struct mw_pool_set *set, int pid, uint64_t *in_use_bytes,
                         uint64_t *room_bytes);

void mw_pool_set_free(struct mw_pool_set *set);

#endif
