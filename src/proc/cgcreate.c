#include "proc/cgcreate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc/cgroup.h"

bool mw_cg_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= MW_CG_NAME_MAX || strstr(name, "..") || strcmp(name, ".") == 0)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Copies the mounts-file field P (LEN bytes) into OUT, decoding the
 * kernel's octal escapes ("\040" for a space). */
static void copy_mount_field(char *out, size_t cap, const char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (p[i] == '\\' && i + 3 < len && p[i + 1] >= '0' && p[i + 1] <= '3') {
            out[o++] = (char)((p[i + 1] - '0') * 64 + (p[i + 2] - '0') * 8 + (p[i + 3] - '0'));
            i += 3;
        } else {
            out[o++] = p[i];
        }
    }
    out[o] = '\0';
}

/* Whether the comma-separated OPTS (LEN bytes) holds WORD. */
static bool opts_have(const char *opts, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = opts, *end = opts + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        if ((size_t)(e - p) == wl && memcmp(p, word, wl) == 0)
            return true;
        p = e + 1;
    }
    return false;
}

/*
 * /proc/self/mounts:
 *   cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
 *   cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
 */
int mw_cg_mounts_parse_buf(const char *buf, struct mw_cg_mounts *out)
{
    struct mw_cg_mounts m;
    memset(&m, 0, sizeof(m));
    const char *cur = buf, *line;
    size_t len;
    while (mw_next_line(&cur, &line, &len)) {
        const char *f[4];
        size_t fl[4], nf = 0;
        const char *p = line, *end = line + len;
        while (nf < 4 && p < end) {
            while (p < end && *p == ' ')
                p++;
            const char *s = p;
            while (p < end && *p != ' ')
                p++;
            if (p > s) {
                f[nf] = s;
                fl[nf++] = (size_t)(p - s);
            }
        }
        if (nf < 4)
            continue;
        if (fl[2] == 7 && memcmp(f[2], "cgroup2", 7) == 0 && !m.v2[0])
            copy_mount_field(m.v2, sizeof(m.v2), f[1], fl[1]);
        if (fl[2] != 6 || memcmp(f[2], "cgroup", 6) != 0)
            continue;
        if (opts_have(f[3], fl[3], "memory") && !m.v1_memory[0])
            copy_mount_field(m.v1_memory, sizeof(m.v1_memory), f[1], fl[1]);
        if (opts_have(f[3], fl[3], "cpu") && !m.v1_cpu[0])
            copy_mount_field(m.v1_cpu, sizeof(m.v1_cpu), f[1], fl[1]);
    }
    *out = m;
    return m.v2[0] || m.v1_memory[0] || m.v1_cpu[0] ? 0 : -ENODATA;
}

/*
 * /proc/PID/cgroup:
 *   4:memory:/process_api/048b      (v1: id:controllers:path)
 *   1:cpu,cpuacct:/                 (controllers may be joined)
 *   0::/user.slice/session-1.scope  (v2)
 */
int mw_proc_cgroup_ctrl_parse_buf(const char *buf, const char *ctrl, char *out, size_t cap)
{
    const char *cur = buf, *p;
    size_t len;
    while (mw_next_line(&cur, &p, &len)) {
        const char *c1 = memchr(p, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
        if (!c2)
            continue;
        size_t clen = (size_t)(c2 - c1 - 1);
        bool hit = ctrl ? clen > 0 && opts_have(c1 + 1, clen, ctrl)
                        : clen == 0 && c1 - p == 1 && *p == '0';
        if (!hit)
            continue;
        size_t plen = len - (size_t)(c2 + 1 - p);
        if (plen + 1 > cap)
            return -ENAMETOOLONG;
        memcpy(out, c2 + 1, plen);
        out[plen] = '\0';
        return 0;
    }
    return -ENODATA;
}

bool mw_cg_list_has(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\n' && *p != '\t')
            p++;
        if ((size_t)(p - s) == wl && wl && memcmp(s, word, wl) == 0)
            return true;
    }
    return false;
}

static void plan_add(struct mw_cg_write *w, size_t *n, const char *file, bool cpu,
                     unsigned long long v)
{
    snprintf(w[*n].file, sizeof(w[*n].file), "%s", file);
    snprintf(w[*n].value, sizeof(w[*n].value), "%llu", v);
    w[*n].cpu = cpu;
    (*n)++;
}

int mw_cg_plan(const struct mw_cg_spec *spec, int version, bool have_swap, bool have_cpu,
               struct mw_cg_write *w, size_t *n, bool *high_dropped)
{
    if (!spec->limit || (version != 1 && version != 2))
        return -EINVAL;
    bool lim = spec->limit != MW_CG_UNLIMITED; /* soak without --limit: no memory limit */
    size_t k = 0;
    bool dropped = false;
    unsigned long long quota_us =
        (unsigned long long)spec->cpus_milli * MW_CG_CPU_PERIOD_US / 1000ull;
    if (version == 2) {
        if (lim)
            plan_add(w, &k, "memory.max", false, spec->limit);
        if (spec->high != MW_CG_UNLIMITED)
            plan_add(w, &k, "memory.high", false, spec->high);
        if (have_swap && spec->swap != MW_CG_UNLIMITED && lim)
            plan_add(w, &k, "memory.swap.max", false, spec->swap);
        if (have_cpu && spec->cpus_milli) {
            snprintf(w[k].file, sizeof(w[k].file), "cpu.max");
            snprintf(w[k].value, sizeof(w[k].value), "%llu %u", quota_us ? quota_us : 1000,
                     MW_CG_CPU_PERIOD_US);
            w[k++].cpu = false;
        }
    } else {
        if (lim)
            plan_add(w, &k, "memory.limit_in_bytes", false, spec->limit);
        if (have_swap && spec->swap != MW_CG_UNLIMITED && lim) {
            uint64_t sum = spec->limit + spec->swap;
            plan_add(w, &k, "memory.memsw.limit_in_bytes", false,
                     sum < spec->limit ? MW_CG_UNLIMITED : sum);
        }
        dropped = spec->high != MW_CG_UNLIMITED;
        if (have_cpu && spec->cpus_milli) {
            plan_add(w, &k, "cpu.cfs_period_us", true, MW_CG_CPU_PERIOD_US);
            plan_add(w, &k, "cpu.cfs_quota_us", true, quota_us ? quota_us : 1000);
        }
    }
    *n = k;
    *high_dropped = dropped;
    return 0;
}

/* ---- acts ---- */

static int write_str(const struct mw_root *root, const char *dir, const char *file,
                     const char *value)
{
    char path[PATH_MAX + 64];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
        return -ENAMETOOLONG;
    int fd = openat(root->fd, mw_rel(path), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int rc = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

static bool exists_in(const struct mw_root *root, const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
        return false;
    return faccessat(root->fd, mw_rel(path), F_OK, 0) == 0;
}

/* Reads DIR/FILE (small) into BUF; "" when unreadable. */
static void read_str(const struct mw_root *root, const char *dir, const char *file, char *buf,
                     size_t cap)
{
    char path[PATH_MAX + 64];
    buf[0] = '\0';
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
        return;
    long n = mw_read_small_at(root->fd, mw_rel(path), buf, cap);
    buf[n > 0 ? (size_t)n : 0] = '\0';
}

/* The v2 parent: the cgroup2 root, when it has the memory controller and
 * hands it to children (enabling it if needed; cpu too when WANT_CPU). */
static bool v2_parent(const struct mw_root *root, const struct mw_cg_mounts *m, bool want_cpu)
{
    char ctl[512], sub[512];
    if (!m->v2[0])
        return false;
    read_str(root, m->v2, "cgroup.controllers", ctl, sizeof(ctl));
    if (!mw_cg_list_has(ctl, "memory"))
        return false;
    read_str(root, m->v2, "cgroup.subtree_control", sub, sizeof(sub));
    if (!mw_cg_list_has(sub, "memory") &&
        write_str(root, m->v2, "cgroup.subtree_control", "+memory") < 0)
        return false;
    if (want_cpu && mw_cg_list_has(ctl, "cpu") && !mw_cg_list_has(sub, "cpu"))
        write_str(root, m->v2, "cgroup.subtree_control", "+cpu"); /* best effort */
    return true;
}

/* Makes DIR; says why not into WHY. */
static int make_dir(const struct mw_root *root, const char *dir, char *why, size_t cap)
{
    if (mkdirat(root->fd, mw_rel(dir), 0755) == 0)
        return 0;
    int e = errno;
    snprintf(why, cap, "cannot create %s: %s%s", dir, mw_strerror(e),
             e == EEXIST ? " (choose another --name)" : "");
    return -e;
}

/* Fills R's directories (and version) and makes them. */
static int place(const struct mw_root *root, const struct mw_cg_spec *spec, struct mw_cg_run *r,
                 char *why, size_t cap)
{
    char *mounts = NULL, *self = NULL, own[PATH_MAX];
    struct mw_cg_mounts m;
    int rc = mw_read_file(root, "/proc/self/mounts", &mounts, NULL);
    if (rc == 0)
        rc = mw_read_file(root, "/proc/self/cgroup", &self, NULL);
    if (rc < 0) {
        snprintf(why, cap, "cannot read /proc/self/mounts and cgroup: %s", mw_strerror(-rc));
        goto out;
    }
    mw_cg_mounts_parse_buf(mounts, &m);
    rc = -ENAMETOOLONG;
    if (v2_parent(root, &m, spec->cpus_milli > 0)) {
        r->version = 2;
        if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s/%s", m.v2, spec->name) >= sizeof(r->dir))
            goto out;
    } else if (m.v1_memory[0] &&
               mw_proc_cgroup_ctrl_parse_buf(self, "memory", own, sizeof(own)) == 0) {
        r->version = 1;
        if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s%s/%s", m.v1_memory,
                             strcmp(own, "/") ? own : "", spec->name) >= sizeof(r->dir))
            goto out;
        if (spec->cpus_milli && m.v1_cpu[0] &&
            mw_proc_cgroup_ctrl_parse_buf(self, "cpu", own, sizeof(own)) == 0 &&
            (size_t)snprintf(r->cpu_dir, sizeof(r->cpu_dir), "%s%s/%s", m.v1_cpu,
                             strcmp(own, "/") ? own : "", spec->name) >= sizeof(r->cpu_dir))
            goto out;
    } else {
        rc = -ENOENT;
        snprintf(why, cap,
                 "no memory cgroup controller: neither a cgroup2 root that delegates "
                 "'memory' nor a v1 memory hierarchy is mounted");
        goto out;
    }
    rc = make_dir(root, r->dir, why, cap);
    if (rc == 0 && r->cpu_dir[0] && make_dir(root, r->cpu_dir, why, cap) < 0)
        r->cpu_dir[0] = '\0'; /* no CPU limit then; said by cpu_limited */
out:
    free(mounts);
    free(self);
    return rc;
}

int mw_cg_create(const struct mw_root *root, const struct mw_cg_spec *spec, struct mw_cg_run *out,
                 char *why, size_t cap)
{
    struct mw_cg_run *r = calloc(1, sizeof(*r));
    struct mw_cg_write w[MW_CG_PLAN_MAX];
    size_t n = 0;
    if (!r)
        return -ENOMEM;
    int rc = place(root, spec, r, why, cap);
    if (rc < 0) {
        free(r);
        return rc;
    }
    bool v2 = r->version == 2;
    bool have_swap =
        exists_in(root, r->dir, v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
    bool have_cpu = v2 ? exists_in(root, r->dir, "cpu.max") : r->cpu_dir[0] != '\0';
    rc = mw_cg_plan(spec, r->version, have_swap, have_cpu, w, &n, &r->high_dropped);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = write_str(root, w[i].cpu ? r->cpu_dir : r->dir, w[i].file, w[i].value);
        if (rc < 0)
            snprintf(why, cap, "cannot write %s to %s/%s: %s", w[i].value,
                     w[i].cpu ? r->cpu_dir : r->dir, w[i].file, mw_strerror(-rc));
    }
    if (rc < 0) {
        mw_cg_destroy(root, r, 1000, false);
        free(r);
        return rc;
    }
    r->swap_enforced = have_swap && spec->swap != MW_CG_UNLIMITED && spec->limit != MW_CG_UNLIMITED;
    r->cpu_limited = have_cpu && spec->cpus_milli;
    *out = *r;
    free(r);
    return 0;
}

int mw_cg_enter(const struct mw_root *root, const struct mw_cg_run *cg, int pid)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", pid);
    int rc = write_str(root, cg->dir, "cgroup.procs", v);
    if (rc == 0 && cg->cpu_dir[0])
        rc = write_str(root, cg->cpu_dir, "cgroup.procs", v);
    return rc;
}

/* Kills what is left in DIR and removes it, by DEADLINE_MS. */
static int destroy_dir(const struct mw_root *root, const char *dir, bool v2, bool keep_dir,
                       uint64_t deadline_ms)
{
    if (v2 && exists_in(root, dir, "cgroup.kill"))
        write_str(root, dir, "cgroup.kill", "1");
    for (;;) {
        int *pids = NULL;
        int n = mw_cgroup_pids(root, dir, &pids);
        if (n == -ENOENT) /* already gone */
            return 0;
        for (int i = 0; i < n; i++)
            if (pids[i] > 0)
                kill(pids[i], SIGKILL); /* ours: see mw_cg_destroy */
        free(pids);
        if (n == 0 && keep_dir)
            return 0;
        if (n <= 0 && unlinkat(root->fd, mw_rel(dir), AT_REMOVEDIR) == 0)
            return 0;
        int e = n > 0 ? EBUSY : errno;
        if (e == ENOENT)
            return 0;
        if (mw_now_ms() >= deadline_ms)
            return -e;
        usleep(20 * 1000);
    }
}

int mw_cg_destroy(const struct mw_root *root, const struct mw_cg_run *cg, uint64_t timeout_ms,
                  bool keep_dir)
{
    uint64_t deadline = mw_now_ms() + timeout_ms;
    int rc = destroy_dir(root, cg->dir, cg->version == 2, keep_dir, deadline);
    if (cg->cpu_dir[0]) {
        int rc2 = destroy_dir(root, cg->cpu_dir, false, keep_dir, deadline);
        rc = rc < 0 ? rc : rc2;
    }
    return rc;
}
