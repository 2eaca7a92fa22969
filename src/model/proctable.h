/* proctable: one record per process, collected from ROOT/proc — memory
 * (PSS, USS, RSS, swap), oom_score_adj and oom_score, cgroup, command line.
 * Used by `top` and `prio`, and meant for `snapshot`/`diff` and the PSS sums
 * of `status`. Library code: it never prints; a process that exits while it
 * is read is left out, a file that cannot be read is marked in the record. */
#ifndef MW_PROCTABLE_H
#define MW_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

/* What to read (mw_proctable_open's WHAT). Every record has pid, ppid,
 * state, comm, uid and flags; the rest only when asked for. */
enum {
    MW_PT_MEM = 1u << 0,      /* pss, uss, rss, swap */
    MW_PT_ADJ = 1u << 1,      /* oom_score_adj */
    MW_PT_SCORE = 1u << 2,    /* oom_score */
    MW_PT_CGROUP = 1u << 3,   /* cgroup path */
    MW_PT_CMDLINE = 1u << 4,  /* full command line */
    MW_PT_KTHREADS = 1u << 5, /* keep kernel threads (left out otherwise) */
    MW_PT_ZOMBIES = 1u << 6,  /* keep zombies (left out otherwise) */
    MW_PT_UNIT = 1u << 7,     /* systemd unit (proc/cgunit.h) */
    MW_PT_ALL_FIELDS = 0x1fu,
};

/* mw_proc.flags */
enum {
    MW_PROC_KTHREAD = 1u << 0,      /* kernel thread (PF_KTHREAD) */
    MW_PROC_ZOMBIE = 1u << 1,       /* state Z or X: no memory */
    MW_PROC_MEM_SMAPS = 1u << 2,    /* totals added up from smaps (no smaps_rollup) */
    MW_PROC_MEM_EST = 1u << 3,      /* pss and uss are estimates from statm */
    MW_PROC_SWAP_EST = 1u << 4,     /* swap is Swap/VmSwap, not SwapPss */
    MW_PROC_NO_MEM = 1u << 5,       /* no memory file could be read: zeros */
    MW_PROC_NO_ADJ = 1u << 6,       /* oom_score_adj unreadable */
    MW_PROC_NO_SCORE = 1u << 7,     /* oom_score unreadable */
    MW_PROC_NO_CGROUP = 1u << 8,    /* /proc/PID/cgroup unreadable or empty */
    MW_PROC_NO_CMDLINE = 1u << 9,   /* cmdline unreadable: "[comm]" shown */
    MW_PROC_NO_UID = 1u << 10,      /* status unreadable: uid is 0 */
    MW_PROC_CMDLINE_CUT = 1u << 11, /* command line longer than MW_PT_CMDLINE_MAX */
};

/* Longest command line kept (bytes); longer ones are cut and flagged. */
#define MW_PT_CMDLINE_MAX 16384

struct mw_proc {
    int pid, ppid;
    uid_t uid; /* effective uid, as ps shows */
    char state;
    unsigned flags;      /* MW_PROC_* */
    int oom_score_adj;   /* -1000..1000 */
    long oom_score;      /* 0..2000 */
    uint64_t pss_bytes;  /* proportional set size */
    uint64_t uss_bytes;  /* private (unique) pages */
    uint64_t rss_bytes;  /* resident */
    uint64_t swap_bytes; /* SwapPss when the kernel has it, else Swap */
    char comm[64];       /* kernel's name, may hold any byte but NUL */
    const char *cmdline; /* arguments joined by spaces; "[comm]" when empty */
    size_t argv0_len;    /* bytes of cmdline that are argv[0] (0 for "[comm]") */
    const char *cgroup;  /* v1 memory cgroup when mounted, else v2 path; "" unknown */
    const char *unit;    /* its systemd unit (mw_cgunit_label: "ssh.service",
                          * "user@1000.service/app.scope"); "" none or unknown */
};

struct mw_pt_chunk; /* string storage, never moved once written */
struct mw_pt_cgent; /* pid -> cgroup path, from a walk of cgroup.procs files */

struct mw_proctable {
    struct mw_proc *procs; /* in /proc order until the caller sorts */
    size_t n, cap;
    unsigned what;      /* MW_PT_* */
    int proc_fd;        /* ROOT/proc */
    uint64_t page_size; /* bytes, for statm: the root's (struct mw_root) */
    struct mw_pt_chunk *chunks;
    char *scratch; /* per-file read buffer, reused for every process */
    size_t scratch_cap;
    int root_fd; /* a copy of the root's descriptor */
    bool live;   /* the root is the running system's "/" */
    /* mw_proctable_scan on the live system reads every memory cgroup's
     * cgroup.procs once instead of /proc/PID/cgroup per process (a tenth
     * of top's time on a cgroup v1 host); sorted by pid. */
    struct mw_pt_cgent *cgidx;
    size_t cgidx_n, cgidx_cap;
    bool cgidx_v2; /* ... of the cgroup2 mount: its paths are systemd's too */
};

/* Opens ROOT/proc for reading records with the fields WHAT (MW_PT_*).
 * Returns 0 or -errno; T is ready for mw_proctable_close either way. */
int mw_proctable_open(struct mw_proctable *t, const struct mw_root *root, unsigned what);

/* Reads process PID and appends its record. Returns 1 when added, 0 when
 * left out (gone, exited while read, a kernel thread or zombie not asked
 * for, a garbage stat file), -ENOMEM. Records' strings stay valid until
 * mw_proctable_close, also across later adds. */
int mw_proctable_add(struct mw_proctable *t, int pid);

/* Adds every process in ROOT/proc. Returns the number added or -errno.
 * On the live system, cgroup paths come from one walk of the memory cgroup
 * hierarchy (falling back to /proc/PID/cgroup for a process the walk did
 * not see, or when the walk cannot be trusted: a cgroup namespace, no
 * mountinfo). */
int mw_proctable_scan(struct mw_proctable *t);

/* Frees everything; safe on a table whose open failed. */
void mw_proctable_close(struct mw_proctable *t);

/* The program a process runs, for grouping like ps_mem: the basename of
 * argv[0] (a title a process wrote over its arguments, "sshd: user@pts/0",
 * gives its first word without the ':'), or comm when the command line is
 * empty or unreadable.
 * Writes into BUF (CAP bytes). Returns BUF. */
const char *mw_proc_program(const struct mw_proc *p, char *buf, size_t cap);

/* Splits the text of a smaps_rollup / smaps file into a record's memory
 * fields (bytes): pss, uss = Private_Clean + Private_Dirty, rss, swap =
 * SwapPss (or Swap, setting MW_PROC_SWAP_EST). Returns 0 or -ENODATA. */
int mw_proc_mem_from_smaps(struct mw_proc *p, const char *buf);

#endif
