#include "proc/procs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * /proc/PID/stat:
 *   1234 (my prog) S 1 1234 1234 0 -1 4194560 120 0 0 0 5 3 0 0 20 0 1 0 8312 5459968 309 ...
 * Field 3 (state) follows the last ')'; fields are counted from there.
 */
int mw_proc_stat_parse_buf(struct mw_proc_stat *out, const char *buf)
{
    struct mw_proc_stat s;
    memset(&s, 0, sizeof(s));
    const char *open = strchr(buf, '(');
    const char *close = strrchr(buf, ')');
    if (!open || !close || close < open)
        return -EINVAL;
    const char *p = buf;
    uint64_t pid;
    if (mw_scan_u64(&p, &pid) < 0 || pid == 0 || pid > INT32_MAX || p >= open)
        return -EINVAL;
    s.pid = (int)pid;
    size_t n = (size_t)(close - open - 1);
    if (n >= sizeof(s.comm))
        n = sizeof(s.comm) - 1;
    memcpy(s.comm, open + 1, n);
    s.comm[n] = '\0';
    p = close + 1;
    /* Fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime priority nice threads
     * itrealvalue starttime vsize rss */
    while (*p == ' ')
        p++;
    if (!*p || *p == ' ' || *p == '\n')
        return -EINVAL;
    s.state = *p++;
    uint64_t f[20];
    for (int i = 0; i < 20; i++) {
        while (*p == ' ')
            p++;
        int neg = 0;
        if (*p == '-') { /* tty_nr, tpgid, priority, nice may be negative */
            neg = 1;
            p++;
        }
        if (mw_scan_u64(&p, &f[i]) < 0)
            return -EINVAL;
        if (neg)
            f[i] = 0;
    }
    /* f[0] ppid, f[1] pgrp, f[2] session, f[3] tty, f[4] tpgid, f[5] flags, f[6..9] faults, f[10]
     * utime, f[11] stime, f[12] cutime, f[13] cstime, f[14] priority, f[15] nice, f[16] threads,
     * f[17] itrealvalue, f[18] starttime, f[19] vsize; rss follows. */
    uint64_t rss;
    if (mw_scan_u64(&p, &rss) < 0) {
        while (*p == ' ')
            p++;
        if (*p != '-' || (p++, mw_scan_u64(&p, &rss) < 0))
            return -EINVAL;
        rss = 0;
    }
    s.ppid = (int)f[0];
    s.flags = (unsigned long)f[5];
    s.utime = f[10];
    s.stime = f[11];
    s.starttime = f[18];
    s.vsize = f[19];
    s.rss_pages = rss;
    *out = s;
    return 0;
}

/* Value of "Key:\t  123 kB" lines; returns 1 when the line starts with KEY. */
static int status_kb(const char *line, const char *key, uint64_t *v)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ':')
        return 0;
    const char *p = line + n + 1;
    if (mw_scan_u64(&p, v) < 0)
        return 0;
    return 1;
}

int mw_proc_status_parse_buf(struct mw_proc_status *out, const char *buf)
{
    struct mw_proc_status s;
    memset(&s, 0, sizeof(s));
    bool have_uid = false;
    const char *p = buf;
    while (p && *p) {
        uint64_t v;
        /* Only lines starting T, U, K, V or R hold a field we use: skip the
         * rest without comparing keys (top reads status for every process). */
        if (*p != 'T' && *p != 'U' && *p != 'K' && *p != 'V' && *p != 'R')
            ;
        else if (status_kb(p, "Tgid", &v))
            s.tgid = (int)v;
        else if (status_kb(p, "Uid", &v)) {
            /* "Uid:\t1000\t1000\t1000\t1000": real, effective, saved, fs */
            s.uid = (uid_t)v;
            s.euid = (uid_t)v;
            const char *q = p + 4;
            uint64_t r, e;
            if (mw_scan_u64(&q, &r) == 0 && mw_scan_u64(&q, &e) == 0)
                s.euid = (uid_t)e;
            have_uid = true;
        } else if (status_kb(p, "Kthread", &v))
            s.kthread = v != 0;
        else if (status_kb(p, "VmRSS", &v)) {
            s.vm_rss_kb = v;
            s.have_rss = true;
        } else if (status_kb(p, "RssAnon", &v))
            s.rss_anon_kb = v;
        else if (status_kb(p, "RssFile", &v))
            s.rss_file_kb = v;
        else if (status_kb(p, "RssShmem", &v))
            s.rss_shmem_kb = v;
        else if (status_kb(p, "VmSwap", &v))
            s.vm_swap_kb = v;
        else if (status_kb(p, "VmPTE", &v))
            s.vm_pte_kb = v;
        else if (status_kb(p, "VmSize", &v))
            s.vm_size_kb = v;
        else if (status_kb(p, "VmHWM", &v))
            s.vm_hwm_kb = v;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!have_uid)
        return -EINVAL;
    *out = s;
    return 0;
}

int mw_proc_statm_parse_buf(struct mw_proc_statm *out, const char *buf)
{
    uint64_t v[6];
    const char *p = buf;
    for (int i = 0; i < 6; i++)
        if (mw_scan_u64(&p, &v[i]) < 0)
            return -EINVAL;
    out->size = v[0];
    out->resident = v[1];
    out->shared = v[2];
    out->text = v[3];
    out->data = v[5];
    return 0;
}

/*
 * smaps_rollup:
 *   55d0c0a4b000-7ffd7c5f6000 ---p 00000000 00:00 0   [rollup]
 *   Rss:                1884 kB
 *   Pss:                 342 kB
 *   Pss_Anon:            180 kB
 *   ...
 *   SwapPss:               0 kB
 */
int mw_proc_smaps_parse_buf(struct mw_proc_smaps *out, const char *buf)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"Rss", offsetof(struct mw_proc_smaps, rss)},
        {"Pss", offsetof(struct mw_proc_smaps, pss)},
        {"Pss_Anon", offsetof(struct mw_proc_smaps, pss_anon)},
        {"Pss_File", offsetof(struct mw_proc_smaps, pss_file)},
        {"Pss_Shmem", offsetof(struct mw_proc_smaps, pss_shmem)},
        {"Shared_Clean", offsetof(struct mw_proc_smaps, shared_clean)},
        {"Shared_Dirty", offsetof(struct mw_proc_smaps, shared_dirty)},
        {"Private_Clean", offsetof(struct mw_proc_smaps, private_clean)},
        {"Private_Dirty", offsetof(struct mw_proc_smaps, private_dirty)},
        {"Swap", offsetof(struct mw_proc_smaps, swap)},
        {"SwapPss", offsetof(struct mw_proc_smaps, swap_pss)},
    };
    struct mw_proc_smaps s;
    memset(&s, 0, sizeof(s));
    bool found = false;
    const char *p = buf;
    while (p && *p) {
        /* Mapping header lines start with a hex address (lowercase); every
         * key we add up starts with R, P or S. */
        if (*p == 'R' || *p == 'P' || *p == 'S') {
            for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++) {
                uint64_t v;
                if (status_kb(p, keys[i].key, &v)) {
                    *(uint64_t *)((char *)&s + keys[i].off) += v;
                    if (i == 1 || i == 0)
                        found = true;
                    if (i == 10)
                        s.have_swap_pss = true;
                    if (i == 2)
                        s.have_pss_split = true;
                    break;
                }
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!found)
        return -ENODATA;
    *out = s;
    return 0;
}

int mw_proc_adj_parse_buf(int *out, const char *buf)
{
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || v < -1000 || v > 1000)
        return -EINVAL;
    while (*end == '\n' || *end == ' ')
        end++;
    if (*end)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

/* Android ProcessList's oom_score_adj levels (seed: android-lmkd-low-memory). */
static const struct {
    int adj;
    const char *name;
} adj_classes[] = {
    {-1000, "native"},
    {-900, "system"},
    {-800, "persistent_proc"},
    {-700, "persistent_service"},
    {0, "foreground"},
    {100, "visible"},
    {200, "perceptible"},
    {300, "backup"},
    {400, "heavy_weight"},
    {500, "service"},
    {600, "home"},
    {700, "previous"},
    {800, "service_b"},
    {900, "cached"},
    {1001, "unknown"},
};

const char *mw_adj_class_name(int adj)
{
    const char *name = adj_classes[0].name;
    for (size_t i = 0; i < MW_ARRAY_SIZE(adj_classes); i++)
        if (adj >= adj_classes[i].adj)
            name = adj_classes[i].name;
    return name;
}

int mw_adj_class_parse(const char *s, int *adj)
{
    for (size_t i = 0; i < MW_ARRAY_SIZE(adj_classes); i++) {
        if (strcmp(s, adj_classes[i].name) == 0) {
            *adj = adj_classes[i].adj;
            return 0;
        }
    }
    return mw_proc_adj_parse_buf(adj, s);
}

int mw_pid_iter_open(struct mw_pid_iter *it, const struct mw_root *root)
{
    return mw_opendir_at(root->fd, "proc", 0, &it->dir);
}

int mw_pid_iter_next(struct mw_pid_iter *it, int *pid)
{
    struct dirent *de;
    while ((de = readdir(it->dir)) != NULL) {
        const char *p = de->d_name;
        uint64_t v;
        if (mw_scan_u64(&p, &v) == 0 && *p == '\0' && v > 0 && v <= INT32_MAX) {
            *pid = (int)v;
            return 1;
        }
    }
    return 0;
}

void mw_pid_iter_close(struct mw_pid_iter *it)
{
    if (it->dir)
        closedir(it->dir);
    it->dir = NULL;
}

/*
 * /proc/PID/cmdline: "/usr/bin/python3\0/usr/bin/smem\0-t\0"
 */
size_t mw_proc_cmdline_join(char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[len] = '\0';
    return len;
}

int mw_proc_adj_write(const struct mw_root *root, int pid, int adj)
{
    if (pid <= 0 || adj < -1000 || adj > 1000)
        return -EINVAL;
    char path[48], v[16];
    snprintf(path, sizeof(path), "proc/%d/oom_score_adj", pid);
    int fd = openat(root->fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int n = snprintf(v, sizeof(v), "%d\n", adj);
    ssize_t w = write(fd, v, (size_t)n);
    int rc = w == n ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

int mw_proc_adj_apply(const struct mw_root *root, struct mw_adj_change *ch, size_t n,
                      bool tolerate_gone, size_t *failed_at)
{
    for (size_t i = 0; i < n; i++)
        ch[i].result = 1; /* not tried */
    for (size_t i = 0; i < n; i++) {
        int e = mw_proc_adj_write(root, ch[i].pid, ch[i].new_adj);
        ch[i].result = e;
        if (e == 0 || (tolerate_gone && (e == -ESRCH || e == -ENOENT)))
            continue;
        for (size_t k = i; k-- > 0;)
            if (ch[k].result == 0)
                mw_proc_adj_write(root, ch[k].pid, ch[k].old_adj);
        *failed_at = i;
        return e;
    }
    return 0;
}

long mw_proc_read_pid_file(int proc_fd, int pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "%d/%s", pid, name);
    return mw_read_small_at(proc_fd, path, buf, cap);
}
