#include "model/targets.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        if (regcomp(&re, match, REG_EXTENDED | REG_NOSUB) != 0) {
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
