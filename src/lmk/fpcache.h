/* fpcache: the table behind the victim scan's footprint cache (victim.h).
 * One entry per process the scan has met, in a dense array (the pages
 * touched grow with the processes, not with the table's capacity: the
 * daemon locks what it touches) behind an open-addressing index by PID.
 *
 * Each entry may hold its process's oom_score_adj open. One pread then
 * reads it, and that read fails with ESRCH once the process is gone, even
 * when its PID was handed to another: the descriptor names the kernel's
 * struct pid, not the number. That is the cache's identity check, at
 * about 240 bytes of kernel memory a process (measured: 5,123 descriptors
 * read once, SUnreclaim +1,212 kB). A /proc/PID/statm or stat descriptor
 * would cost 4.5 KiB each once read (the seq_file page it keeps until
 * closed: +22,532 kB for 5,125), so those files are opened per read.
 *
 * Per-process facts live in struct mw_fp: a new fact is a field there,
 * filled where victim.c samples a process (fp_sample). */
#ifndef MW_FPCACHE_H
#define MW_FPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Slots of the PID index (a power of 2); the table holds at most 3/4 as
 * many entries. */
#define MW_FPC_SLOTS 16384
/* Descriptors left to the rest of the process (its files, sockets, a
 * hook's pipes) when the adj descriptors are counted against
 * RLIMIT_NOFILE. */
#define MW_FPC_FD_RESERVE 256

/* One process as the last samples saw it. Sizes in kB (saturated at
 * 4 TiB), times on the caller's now_ms clock. */
struct mw_fp {
    int pid;
    int adj_fd; /* ROOT/proc/PID/oom_score_adj held open, or -1 */
    int adj;
    int pat_shift; /* prefer/avoid: the effective adj is adj + this (before loop penalties) */
    int ppid;
    uid_t uid;
    uint32_t comm_hash;   /* of its name: siblings of a storm share it; loop penalties find it */
    uint32_t statm_sig;   /* hash of its statm text at the last visit (0: none) */
    bool detailed;        /* sampled: the fields below are known */
    bool killable;        /* not a kernel thread, zombie or protected */
    bool inert;           /* a kernel thread or zombie: a visit checks only that it lives */
    bool moved;           /* its statm changed at the last visit: visited every pass */
    uint32_t kb, prev_kb; /* footprint (RSS + swap + page tables) at the last two samples */
    uint32_t first_kb;    /* ... and when first sampled */
    uint32_t swap_kb;     /* VmSwap at the last sample, protected processes too */
    uint64_t start;       /* starttime (clock ticks after boot) */
    uint64_t ms, prev_ms; /* times of the last two samples (0: none) */
    uint64_t adj_ms;      /* when adj was read */
    uint64_t valid_ms;    /* the footprint was known current then: sampled, or confirmed */
    uint64_t young_ms;    /* until then it is young (victim.h, MW_GROUP_AGE_S) */
    uint32_t visit_stamp; /* the refresh that last read it (victim.c's stamps) */
    uint32_t enum_no;     /* the enumeration of ROOT/proc that last found it */
};

struct mw_fpc {
    struct mw_fp *e; /* e[0..n) */
    size_t n, cap;
    int32_t *index;       /* MW_FPC_SLOTS slots: entry index + 1, 0 empty */
    uint64_t swap_kb_sum; /* the entries' swap_kb, summed (mw_fpc_set_swap) */
    bool changed;         /* entries were added or dropped (the caller clears it) */
    int fds;              /* adj descriptors held */
    int fd_max;           /* ... and the most that may be (RLIMIT_NOFILE - MW_FPC_FD_RESERVE) */
    /* Not a procfs (a captured tree): a held file outlives its process's
     * directory without an error, so a read also checks that the file is
     * still linked (a tree's process replaced by another removes it). */
    bool check_links;
};

/* Allocates an empty table (MW_FPC_SLOTS * 3 / 4 entries) and sets the
 * descriptor budget from the soft RLIMIT_NOFILE. Returns 0 or -ENOMEM. */
int mw_fpc_init(struct mw_fpc *t);

/* Closes every held descriptor and frees the table. Safe on a zeroed T. */
void mw_fpc_free(struct mw_fpc *t);

/* The entry of PID, or NULL. */
struct mw_fp *mw_fpc_find(const struct mw_fpc *t, int pid);

/* A new zeroed entry for PID (adj_fd -1), which must not have one yet.
 * NULL when the table is full. */
struct mw_fp *mw_fpc_add(struct mw_fpc *t, int pid);

/* Removes entry I (closing its descriptor); the last entry moves to I,
 * so a loop over the table looks at I again. */
void mw_fpc_drop(struct mw_fpc *t, size_t i);

/* Sets E's swap_kb, keeping the table's sum. */
static inline void mw_fpc_set_swap(struct mw_fpc *t, struct mw_fp *e, uint32_t swap_kb)
{
    t->swap_kb_sum = t->swap_kb_sum - e->swap_kb + swap_kb;
    e->swap_kb = swap_kb;
}

/* E's oom_score_adj through its held descriptor, opened (from PROC_FD, a
 * descriptor of ROOT/proc) when the budget allows; without one, opened and
 * closed for this read. Returns 0 with *ADJ set, or -errno: -ESRCH or
 * -ENOENT when the process is gone (the entry is then stale: drop it). */
int mw_fpc_adj_read(struct mw_fpc *t, int proc_fd, struct mw_fp *e, int *adj);

/* A footprint in kB as an entry keeps it (saturated). */
static inline uint32_t mw_fpc_kb(uint64_t kb)
{
    return kb > UINT32_MAX ? UINT32_MAX : (uint32_t)kb;
}

#endif
