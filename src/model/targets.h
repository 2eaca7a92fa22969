/* targets: which processes a command watches — given PIDs, or every
 * process whose name or command line matches a regular expression. */
#ifndef MW_TARGETS_H
#define MW_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Resolves the targets: the NPIDS PIDS as given, plus (when MATCH is not
 * NULL) every user process under ROOT/proc whose comm or command line
 * (arguments joined by spaces) matches the extended regex MATCH, except
 * the calling process. *OUT is malloc'd. Returns 0, -EINVAL (a bad regex,
 * or one past procmatch.h's bounds: mw_regex_check says why) or -ENOMEM. */
int mw_targets_resolve(const struct mw_root *root, const int *pids, size_t npids, const char *match,
                       int **out, size_t *nout);

/* Reads ROOT/proc/PID/cmdline with NULs turned into spaces into BUF
 * (capacity CAP). Returns the length or -errno. */
long mw_targets_cmdline(const struct mw_root *root, int pid, char *buf, size_t cap);

/* Reads the start time of PID (field 22 of ROOT/proc/PID/stat, clock
 * ticks after boot): with the PID, it names one process, since a PID is
 * reused but never at the same start time. Returns 0 or -errno. */
int mw_targets_starttime(const struct mw_root *root, int pid, uint64_t *out);

/* One oom_score_adj change, pinned to the process it was chosen for. */
struct mw_adj_target {
    int pid;
    uint64_t starttime;   /* from mw_targets_starttime when it was chosen */
    int old_adj, new_adj; /* -1000..1000 */
    int result;           /* out: 0 written; -ESTALE another process has the PID now
                           * (skipped); -ESRCH/-ENOENT gone; other -errno failed */
};

/* Writes CH[0..N) in order, each through a descriptor of ROOT/proc/PID
 * after checking, through that same descriptor, that the start time is
 * still CH[i].starttime: a PID reused since the choice is skipped
 * (-ESTALE), never written. When a write fails — other than -ESTALE, or
 * -ESRCH / -ENOENT (gone) when TOLERATE_GONE — every change already
 * written is put back (newest first, each after the same start-time
 * check), *FAILED_AT gets the index and its -errno is returned. Returns 0
 * when all were written or skipped. */
int mw_targets_adj_apply(const struct mw_root *root, struct mw_adj_target *ch, size_t n,
                         bool tolerate_gone, size_t *failed_at);

#endif
