/* kill: ending a chosen victim safely and quickly. pidfd_open +
 * pidfd_send_signal (a recycled PID can never be hit: the held stat
 * descriptor from the choice proves the pidfd names the same process),
 * then process_mrelease so the victim's memory comes back before its exit
 * finishes, then a bounded wait for the exit. Optionally SIGTERM first with
 * a grace period, or the victim's whole cgroup (cgroup.kill on v2, every
 * member on v1), and the other members of a runaway group (each checked by
 * its starttime, all signalled before anyone is waited for). Nothing here
 * allocates. */
#ifndef MW_KILL_H
#define MW_KILL_H

#include <stdbool.h>
#include <stdint.h>

#include "lmk/config.h"
#include "lmk/victim.h"

struct mw_kill_result {
    bool gone_before;   /* the victim exited or was replaced before the signal */
    bool signalled;     /* SIGKILL (or SIGTERM that sufficed) was sent */
    bool termed;        /* SIGTERM was tried first */
    bool released;      /* process_mrelease succeeded */
    bool exited;        /* the exit was seen within the wait */
    bool cgroup_killed; /* the whole cgroup was killed */
    int cgroup_members; /* v1: processes signalled */
    int group_killed;   /* other members of a runaway group signalled */
    uint64_t wait_ms;   /* from the signal to the exit (or the timeout) */
    uint64_t sent_us;   /* CLOCK_MONOTONIC when the signal went out (0: none) */
    uint64_t exit_us;   /* ... when the victim's exit was seen (0: not seen) */
    int err;            /* -errno of the first failure, 0 if none */
};

/* Kills V (v->stat_fd must be open). ROOT_FD is the root the cgroup
 * filesystems are found under. With DRY_RUN nothing is signalled and
 * R->signalled stays false. Returns 0 when the victim was signalled (or,
 * dry run, would have been), -ESRCH when it was gone, -errno otherwise. */
int mw_kill_victim(int root_fd, const struct mw_victim *v, const struct mw_config *cfg,
                   bool dry_run, struct mw_kill_result *r);

/* Waits up to TIMEOUT_MS for the process behind PIDFD to exit. Returns 1
 * when it exited, 0 on timeout, -errno. */
int mw_pidfd_wait(int pidfd, uint64_t timeout_ms);

/* Thin syscall wrappers (musl and old glibc lack some): return as the
 * syscalls do (-1 and errno on failure). */
int mw_pidfd_open(int pid);
int mw_pidfd_send_signal(int pidfd, int sig);
int mw_process_mrelease(int pidfd);

#endif
