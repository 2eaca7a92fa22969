#include "model/targets.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/procmatch.h"
#include "proc/procs.h"

long mw_targets_cmdline(const struct mw_root *root, int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "proc/%d/cmdline", pid);
    int fd = mw_open_regular_at(root->fd, path, 0);
    if (fd < 0)
        return fd;
    long n = mw_pread_all(fd, buf, cap);
    close(fd);
    if (n == -EFBIG)
        n = (long)cap - 1;
    if (n < 0)
        return n;
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (long i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return n;
}

int mw_targets_resolve(const struct mw_root *root, const int *pids, size_t npids, const char *match,
                       int **out, size_t *nout)
{
    size_t cap = npids + 16, n = 0;
    int *v = malloc(cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < npids; i++)
        v[n++] = pids[i];
    if (match) {
        regex_t re;
        if (mw_regcomp_bounded(&re, match, REG_EXTENDED | REG_NOSUB, NULL, 0) < 0) {
            free(v);
            return -EINVAL;
        }
        struct mw_pid_iter it;
        int pid;
        int self = (int)getpid();
        if (mw_pid_iter_open(&it, root) == 0) {
            while (mw_pid_iter_next(&it, &pid) == 1) {
                if (pid == self)
                    continue;
                char cmd[4096], path[64], *st = NULL;
                struct mw_proc_stat ps;
                snprintf(path, sizeof(path), "/proc/%d/stat", pid);
                if (mw_read_file(root, path, &st, NULL) < 0)
                    continue;
                int ok = mw_proc_stat_parse_buf(&ps, st);
                free(st);
                if (ok < 0 || (ps.flags & MW_PF_KTHREAD))
                    continue;
                bool hit = regexec(&re, ps.comm, 0, NULL, 0) == 0;
                if (!hit && mw_targets_cmdline(root, pid, cmd, sizeof(cmd)) > 0)
                    hit = regexec(&re, cmd, 0, NULL, 0) == 0;
                bool dup = false;
                for (size_t i = 0; i < n && !dup; i++)
                    dup = v[i] == pid;
                if (!hit || dup)
                    continue;
                if (n == cap) {
                    cap *= 2;
                    int *p = realloc(v, cap * sizeof(*p));
                    if (!p) {
                        free(v);
                        regfree(&re);
                        mw_pid_iter_close(&it);
                        return -ENOMEM;
                    }
                    v = p;
                }
                v[n++] = pid;
            }
            mw_pid_iter_close(&it);
        }
        regfree(&re);
    }
    *out = v;
    *nout = n;
    return 0;
}

/* Start time of the process behind PID_FD (a descriptor of /proc/PID). */
static int starttime_at(int pid_fd, uint64_t *out)
{
    char buf[1024];
    long n = mw_read_small_at(pid_fd, "stat", buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    struct mw_proc_stat st;
    if (mw_proc_stat_parse_buf(&st, buf) < 0)
        return -EINVAL;
    *out = st.starttime;
    return 0;
}

int mw_targets_starttime(const struct mw_root *root, int pid, uint64_t *out)
{
    char path[32];
    snprintf(path, sizeof(path), "proc/%d", pid);
    int dfd = openat(root->fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int rc = starttime_at(dfd, out);
    close(dfd);
    return rc;
}

/* Writes ADJ to PID's oom_score_adj if PID is still the process that
 * started at STARTTIME. A descriptor of /proc/PID stays bound to that
 * process: once it exits, files opened through it fail, even when a new
 * process gets the PID, so the check and the write see the same process.
 * Returns 0, -ESTALE (another process), or -errno. */
static int write_checked(const struct mw_root *root, int pid, uint64_t starttime, int adj)
{
    if (pid <= 0 || adj < -1000 || adj > 1000)
        return -EINVAL;
    char path[32], v[16];
    snprintf(path, sizeof(path), "proc/%d", pid);
    int dfd = openat(root->fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    uint64_t now = 0;
    int rc = starttime_at(dfd, &now);
    if (rc == 0 && now != starttime)
        rc = -ESTALE;
    if (rc < 0)
        goto out;
    int fd = openat(dfd, "oom_score_adj", O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    int len = snprintf(v, sizeof(v), "%d\n", adj);
    ssize_t w = write(fd, v, (size_t)len);
    rc = w == len ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
out:
    close(dfd);
    return rc;
}

int mw_targets_adj_apply(const struct mw_root *root, struct mw_adj_target *ch, size_t n,
                         bool tolerate_gone, size_t *failed_at)
{
    for (size_t i = 0; i < n; i++)
        ch[i].result = 1; /* not tried */
    for (size_t i = 0; i < n; i++) {
        int e = write_checked(root, ch[i].pid, ch[i].starttime, ch[i].new_adj);
        ch[i].result = e;
        if (e == 0 || e == -ESTALE || (tolerate_gone && (e == -ESRCH || e == -ENOENT)))
            continue;
        for (size_t k = i; k-- > 0;)
            if (ch[k].result == 0)
                write_checked(root, ch[k].pid, ch[k].starttime, ch[k].old_adj);
        *failed_at = i;
        return e;
    }
    return 0;
}
