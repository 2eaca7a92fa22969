/* libmwpool: a fixed-block memory pool. Blocks of one size are mapped once
 * (in chunks), handed out and taken back in O(1), so a long-running program
 * (a camera pipeline's frame buffers) stops fragmenting its heap and its
 * footprint stops creeping. C11, libc and pthreads only.
 *
 * Thread safety: by default every call may come from any thread. The free
 * list is a lock-free stack of block indices with an ABA tag in the same
 * 64-bit word (index 32 bits, tag 32 bits), so get and put are one
 * compare-and-swap each and never sleep; a mutex is taken only to grow, to
 * wait (mwpool_get with a timeout) and to wake a waiter. MWPOOL_SINGLE_THREAD
 * drops the read-modify-write atomics (one thread only, no waiting).
 *
 * Every build checks that a put pointer is a block of the pool and that
 * it is in use: a handed-out block's free-list link holds a mark, and a
 * put claims it with one compare-and-swap, so a double put is reported
 * and refused, the free list never holds a block twice and no block is
 * handed out twice (docs/hardening.md has the cost). Debug builds
 * (-DMWPOOL_DEBUG) also check use after put (a poison pattern checked at
 * the next get), overruns (a guard word after each block) and report
 * blocks never put back at destroy (with the caller's address under
 * -DMWPOOL_TRACE_CALLER).
 *
 * Statistics can be published in a small file-backed page,
 * /run/mwpool/PID/NAME (or $MWPOOL_DIR/PID/NAME), that `memwarden top
 * --pools` and `memwarden leak` read. Results: >= 0 ok, -errno failure. */
#ifndef MWPOOL_H
#define MWPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MWPOOL_VERSION 1

/* Flags of struct mwpool_config. */
#define MWPOOL_SINGLE_THREAD 0x01u /* one thread only: no atomics, no locks, no waiting */
#define MWPOOL_PAGE_ALIGN    0x02u /* blocks aligned to the page (DMA-style buffers) */
#define MWPOOL_HUGE_ADVICE   0x04u /* madvise(MADV_HUGEPAGE) on every chunk */
#define MWPOOL_HUGETLB       0x08u /* try MAP_HUGETLB first; fall back to normal pages */
#define MWPOOL_PREFAULT      0x10u /* touch every chunk when mapped (RSS flat from the start) */

struct mwpool_config {
    size_t block_size;  /* bytes per block, > 0 */
    size_t blocks;      /* blocks mapped at create, > 0 */
    size_t max_blocks;  /* growth cap; 0 or <= blocks: no growth */
    size_t grow_blocks; /* blocks per growth chunk; 0: the same as BLOCKS */
    size_t align;       /* power of two; 0: 64 (a cache line), or the page with MWPOOL_PAGE_ALIGN */
    unsigned flags;     /* MWPOOL_* above */
    const char *name;   /* for messages and publishing: [A-Za-z0-9._-], 1..31, NULL: "pool" */
};

struct mwpool_stats {
    uint64_t block_size;
    uint64_t blocks_total;   /* mapped now */
    uint64_t blocks_in_use;  /* handed out and not put back */
    uint64_t high_water;     /* most ever in use at once */
    uint64_t max_blocks;     /* the growth cap */
    uint64_t failed_gets;    /* gets that returned NULL (empty at the cap, or timed out) */
    uint64_t waits;          /* gets that had to wait */
    uint64_t trimmed_chunks; /* chunks given back to the kernel by mwpool_trim */
};

struct mwpool;

/* Creates a pool as CFG says (CFG is not kept; the name is copied).
 * Returns 0 with *out set, or -EINVAL (bad config), -ENOMEM (mapping
 * failed), -EOVERFLOW (sizes overflow); *out untouched on failure. */
int mwpool_create(const struct mwpool_config *cfg, struct mwpool **out);

/* Destroys P: unmaps every chunk and unpublishes. In debug builds, every
 * block still in use is reported (MWPOOL_ERR_LEAK) first. Blocks still in
 * use become invalid. NULL is ignored. */
void mwpool_destroy(struct mwpool *p);

/* A free block, or NULL when none is free and the pool may not grow (or
 * growing failed). Never waits. O(1). */
void *mwpool_try_get(struct mwpool *p);

/* A free block, waiting up to TIMEOUT_MS for one to be put back
 * (TIMEOUT_MS < 0: forever, 0: as mwpool_try_get). NULL on timeout.
 * A single-thread pool never waits. */
void *mwpool_get(struct mwpool *p, long timeout_ms);

/* Puts BLOCK back. Returns 0, or -EINVAL when BLOCK is not a block of P
 * (reported as MWPOOL_ERR_FOREIGN) or is not in use (a double put,
 * reported as MWPOOL_ERR_DOUBLE_PUT in every build; the block is not put
 * back a second time). NULL is ignored (returns 0). O(1) per chunk. */
int mwpool_put(struct mwpool *p, void *block);

/* Gives the memory of every chunk whose blocks are all free back to the
 * kernel (madvise MADV_DONTNEED; the mapping stays, so the next get
 * faults zero pages in). Returns how many chunks were trimmed or -errno.
 * Takes the growth mutex; gets and puts continue meanwhile. */
int mwpool_trim(struct mwpool *p);

/* Copies P's counters into *OUT. */
void mwpool_stats(const struct mwpool *p, struct mwpool_stats *out);

/* The block size as created (what every get hands out). */
size_t mwpool_block_size(const struct mwpool *p);

/* Publishes P's statistics in DIR/PID/NAME (DIR: $MWPOOL_DIR, or
 * /run/mwpool), a file-backed page in the layout below, updated at every
 * get and put. Directories are made 0755, the file 0644; nothing is
 * followed through a symlink and an existing file is not reused (O_EXCL;
 * a stale file of ours with the same name is replaced). Returns 0, or
 * -errno (EACCES/EROFS when the directory is not writable): the pool
 * works the same, unpublished. Removed at mwpool_destroy. */
int mwpool_publish(struct mwpool *p);

/* Error kinds passed to the error handler. */
enum mwpool_error_kind {
    MWPOOL_ERR_FOREIGN = 1,   /* put of a pointer that is not a block of the pool */
    MWPOOL_ERR_DOUBLE_PUT,    /* put of a block that is not in use (every build) */
    MWPOOL_ERR_USE_AFTER_PUT, /* a free block was written (poison broken at get, debug) */
    MWPOOL_ERR_OVERRUN,       /* the guard word after a block was written (at put, debug) */
    MWPOOL_ERR_LEAK,          /* a block still in use at destroy (debug) */
};

struct mwpool_error {
    enum mwpool_error_kind kind;
    const char *pool;   /* the pool's name */
    const void *block;  /* the pointer concerned */
    const void *caller; /* who got the block (-DMWPOOL_TRACE_CALLER), else NULL */
};

/* Called on every error found. The default prints one line to stderr and
 * aborts, except for MWPOOL_ERR_LEAK (printed only). FN NULL restores the
 * default. Process-wide; set it before creating pools. */
typedef void (*mwpool_error_fn)(const struct mwpool_error *e, void *ctx);
void mwpool_set_error_handler(mwpool_error_fn fn, void *ctx);

/* "foreign pointer", "double put", ... */
const char *mwpool_error_name(enum mwpool_error_kind k);

/* ---- the published page (little-endian host order, fixed layout) ----
 * A reader checks magic, version and header_size, then reads seq before
 * and after the counters: an odd or changed seq means a write was under
 * way (read again). */
#define MWPOOL_PAGE_MAGIC   0x4c50574du /* "MWPL" */
#define MWPOOL_PAGE_VERSION 1u
#define MWPOOL_PAGE_NAME    32

struct mwpool_page {
    uint32_t magic;              /* 0 */
    uint32_t version;            /* 4 */
    uint32_t header_size;        /* 8: sizeof(struct mwpool_page) = 128 */
    uint32_t pid;                /* 12 */
    uint64_t seq;                /* 16: even when stable */
    char name[MWPOOL_PAGE_NAME]; /* 24: NUL-terminated */
    uint64_t block_size;         /* 56 */
    uint64_t blocks_total;       /* 64 */
    uint64_t blocks_in_use;      /* 72 */
    uint64_t high_water;         /* 80 */
    uint64_t max_blocks;         /* 88 */
    uint64_t failed_gets;        /* 96 */
    uint64_t waits;              /* 104 */
    uint64_t trimmed_chunks;     /* 112 */
    uint64_t reserved;           /* 120: 0 */
};

#ifdef __cplusplus
}
#endif

#endif
