#include "lmk/kill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc/procs.h"
#include "base/util.h"

/* The syscall numbers are the same on every architecture that uses the
 * generic table and on x86_64 (added in 5.1, 5.3 and 5.15). */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

int mw_pidfd_open(int pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int mw_pidfd_send_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int mw_process_mrelease(int pidfd)
{
    return (int)syscall(SYS_process_mrelease, pidfd, 0);
}

int mw_pidfd_wait(int pidfd, uint64_t timeout_ms)
{
    uint64_t start = mw_now_ms();
    for (;;) {
        uint64_t spent = mw_now_ms() - start;
        int left = spent >= timeout_ms ? 0 : (int)(timeout_ms - spent);
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        return n > 0 ? 1 : 0;
    }
}

/* The pidfd names the process chosen when its /proc/PID/stat (STAT_FD,
 * opened at the choice, or after the pidfd) still reads (a dead task's
 * /proc files return ESRCH, even if its PID was reused), shows STARTTIME
 * and is not a zombie. */
static bool same_process(int stat_fd, uint64_t starttime)
{
    char buf[1024];
    struct mw_proc_stat st;
    if (mw_pread_all(stat_fd, buf, sizeof(buf)) < 0 || mw_proc_stat_parse_buf(&st, buf) < 0)
        return false;
    return st.starttime == starttime && st.state != 'Z' && st.state != 'X';
}

/* SIGKILL to one member PID of a v1 memory cgroup (never init, never us). */
static int kill_member(uint64_t pid, void *arg)
{
    struct mw_kill_result *r = arg;
    if (pid > 1 && pid <= INT_MAX && (int)pid != (int)getpid() && kill((int)pid, SIGKILL) == 0)
        r->cgroup_members++;
    return 0;
}

/* SIGKILL to every member of the v2 cgroup DFD and, down to
 * KILL_CG_DEPTH, of its subgroups: cgroup.kill's work on a kernel
 * without it (before 5.14). Fixed buffers: nothing allocates. */
#define KILL_CG_DEPTH 4
static void kill_tree(int dfd, int depth, struct mw_kill_result *r)
{
    static char dbuf[KILL_CG_DEPTH][4096];
    mw_each_u64_at(dfd, "cgroup.procs", O_NOFOLLOW, kill_member, r);
    if (depth + 1 >= KILL_CG_DEPTH || lseek(dfd, 0, SEEK_SET) < 0)
        return;
    long got;
    while ((got = syscall(SYS_getdents64, dfd, dbuf[depth], sizeof(dbuf[depth]))) > 0) {
        for (long off = 0; off < got;) {
            struct mw_dirent64 *d = (struct mw_dirent64 *)(void *)(dbuf[depth] + off);
            off += d->d_reclen;
            if (d->d_type != DT_DIR || d->d_name[0] == '.')
                continue;
            int sub = openat(dfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                continue;
            kill_tree(sub, depth + 1, r);
            close(sub);
        }
    }
}

/* v2: writes "1" to cgroup.kill (the kernel kills every process of the
 * cgroup and its subgroups at once, also those forked meanwhile); before
 * 5.14, without that file, SIGKILL to each member. v1: SIGKILL to every
 * member of the memory cgroup. Opens files: a configured exception to the
 * no-open rule. */
static int kill_cgroup(int root_fd, const struct mw_victim *v, struct mw_kill_result *r)
{
    static const char *const v2_mounts[] = {"sys/fs/cgroup", "sys/fs/cgroup/unified"};
    char path[512];
    for (size_t i = 0; i < MW_ARRAY_SIZE(v2_mounts) && !v->cgroup_v1; i++) {
        snprintf(path, sizeof(path), "%s%s", v2_mounts[i], v->cgroup);
        int dfd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || faccessat(dfd, "cgroup.procs", F_OK, 0) != 0) {
            if (dfd >= 0)
                close(dfd);
            continue; /* not this mount's */
        }
        int fd = openat(dfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
        ssize_t w = fd >= 0 ? write(fd, "1", 1) : -1;
        if (fd >= 0)
            close(fd);
        if (w != 1) {
            kill_tree(dfd, 0, r);
            r->cgroup_killed = r->cgroup_members > 0;
        } else {
            r->cgroup_killed = true;
        }
        close(dfd);
        return r->cgroup_killed ? 0 : -ESRCH;
    }
    if (!v->cgroup_v1)
        return -ENOENT;
    snprintf(path, sizeof(path), "sys/fs/cgroup/memory%s/cgroup.procs", v->cgroup);
    /* Read to the end in chunks: a PID cut by a buffer's end once got the
     * SIGKILL meant for a member. */
    long rc = mw_each_u64_at(root_fd, path, O_NOFOLLOW, kill_member, r);
    r->cgroup_killed = r->cgroup_members > 0;
    return rc < 0 && rc != -EBADMSG ? (int)rc : 0;
}

/* SIGKILLs the other members of a runaway group, each only if its PID
 * still names the process seen at the choice (same_process on a stat file
 * opened after the pidfd). Leaves their pidfds in FDS (-1 when skipped). */
static void kill_group(int root_fd, const struct mw_victim *v, int *fds, struct mw_kill_result *r)
{
    for (int i = 0; i < v->group_n; i++) {
        fds[i] = mw_pidfd_open(v->group_pid[i]);
        if (fds[i] < 0)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "proc/%d/stat", v->group_pid[i]);
        int fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
        bool same = fd >= 0 && same_process(fd, v->group_start[i]);
        if (fd >= 0)
            close(fd);
        if (!same || mw_pidfd_send_signal(fds[i], SIGKILL) < 0) {
            close(fds[i]);
            fds[i] = -1;
            continue;
        }
        r->group_killed++;
    }
}

int mw_kill_victim(int root_fd, const struct mw_victim *v, const struct mw_config *cfg,
                   bool dry_run, struct mw_kill_result *r)
{
    memset(r, 0, sizeof(*r));
    int pidfd = mw_pidfd_open(v->pid);
    if (pidfd < 0) {
        r->gone_before = errno == ESRCH;
        r->err = -errno;
        return r->err;
    }
    int rc = 0;
    if (!same_process(v->stat_fd, v->starttime)) {
        r->gone_before = true;
        rc = r->err = -ESRCH;
        goto out;
    }
    if (dry_run)
        goto out;
    uint64_t t0 = mw_now_ms();
    if (v->term_first && cfg->term_grace_ms > 0 && v->group_n == 0) {
        r->termed = true;
        if (mw_pidfd_send_signal(pidfd, SIGTERM) == 0 && (r->sent_us = mw_now_us()) &&
            mw_pidfd_wait(pidfd, cfg->term_grace_ms) == 1) {
            r->signalled = r->exited = true;
            r->exit_us = mw_now_us();
            r->wait_ms = mw_now_ms() - t0;
            goto out;
        }
    }
    if (v->kill_cgroup) {
        int crc = kill_cgroup(root_fd, v, r);
        if (crc < 0 && !r->err)
            r->err = crc;
    }
    if (mw_pidfd_send_signal(pidfd, SIGKILL) < 0) {
        if (!r->cgroup_killed) {
            rc = r->err = -errno;
            r->gone_before = errno == ESRCH;
            goto out;
        }
    }
    r->signalled = true;
    r->sent_us = mw_now_us();
    int group_fds[MW_VICTIM_GROUP];
    kill_group(root_fd, v, group_fds, r);
    /* Reap the address space now instead of when the exit gets to it
     * (5.15+; ENOSYS before, EINVAL when the mm is already gone). */
    r->released = mw_process_mrelease(pidfd) == 0;
    for (int i = 0; i < v->group_n; i++)
        if (group_fds[i] >= 0)
            mw_process_mrelease(group_fds[i]);
    r->exited = mw_pidfd_wait(pidfd, cfg->kill_timeout_ms) == 1;
    r->exit_us = r->exited ? mw_now_us() : 0;
    /* The group shares the victim's wait: whatever is left of it. */
    for (int i = 0; i < v->group_n; i++) {
        if (group_fds[i] < 0)
            continue;
        uint64_t spent = mw_now_ms() - t0;
        mw_pidfd_wait(group_fds[i],
                      spent < cfg->kill_timeout_ms ? cfg->kill_timeout_ms - spent : 0);
        close(group_fds[i]);
    }
    r->wait_ms = mw_now_ms() - t0;
out:
    close(pidfd);
    return rc;
}
