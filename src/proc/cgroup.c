#include "proc/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* File PATH/NAME under the root, into a malloc'ed string. */
static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    s[a] = '/';
    memcpy(s + a + 1, name, b + 1);
    return s;
}

static int read_in(const struct mw_root *root, const char *dir, const char *name, char **buf)
{
    char *p = join(dir, name);
    if (!p)
        return -ENOMEM;
    int rc = mw_read_file(root, p, buf, NULL);
    free(p);
    return rc;
}

static const struct {
    const char *v2, *v1;
    size_t off;
} stat_keys[] = {
    {"anon", "rss", offsetof(struct mw_cg_stat, anon)},
    {"file", "cache", offsetof(struct mw_cg_stat, file)},
    {"shmem", "shmem", offsetof(struct mw_cg_stat, shmem)},
    {"file_mapped", "mapped_file", offsetof(struct mw_cg_stat, file_mapped)},
    {"file_dirty", "dirty", offsetof(struct mw_cg_stat, file_dirty)},
    {"file_writeback", "writeback", offsetof(struct mw_cg_stat, file_writeback)},
    {"active_anon", "active_anon", offsetof(struct mw_cg_stat, active_anon)},
    {"inactive_anon", "inactive_anon", offsetof(struct mw_cg_stat, inactive_anon)},
    {"active_file", "active_file", offsetof(struct mw_cg_stat, active_file)},
    {"inactive_file", "inactive_file", offsetof(struct mw_cg_stat, inactive_file)},
    {"unevictable", "unevictable", offsetof(struct mw_cg_stat, unevictable)},
    {"slab_reclaimable", NULL, offsetof(struct mw_cg_stat, slab_reclaimable)},
    {"slab_unreclaimable", NULL, offsetof(struct mw_cg_stat, slab_unreclaimable)},
    {"kernel_stack", NULL, offsetof(struct mw_cg_stat, kernel_stack)},
    {"pagetables", NULL, offsetof(struct mw_cg_stat, pagetables)},
    {"sock", NULL, offsetof(struct mw_cg_stat, sock)},
    /* v1 prints it too (5.9+); lmkd's thrashing measure in scope mode */
    {"workingset_refault_file", "workingset_refault_file",
     offsetof(struct mw_cg_stat, workingset_refault_file)},
    {"workingset_refault", NULL, offsetof(struct mw_cg_stat, workingset_refault_file)},
    {"pgfault", "pgfault", offsetof(struct mw_cg_stat, pgfault)},
    {"pgmajfault", "pgmajfault", offsetof(struct mw_cg_stat, pgmajfault)},
    {"pgscan", NULL, offsetof(struct mw_cg_stat, pgscan)},
    {"pgsteal", NULL, offsetof(struct mw_cg_stat, pgsteal)},
    {NULL, "swap", offsetof(struct mw_cg_stat, swap)},
};

/*
 * memory.stat (v2):   anon 1048576        (v1):  cache 4096
 *                     file 20480                 rss 1048576
 *                                                total_rss 1048576  (hierarchical)
 */
int mw_cg_stat_parse_buf(struct mw_cg_stat *out, const char *buf, int version, int *bad_line)
{
    struct mw_cg_stat s, total;
    memset(&s, 0, sizeof(s));
    memset(&total, 0, sizeof(total));
    bool any = false, any_total = false;
    int line = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        line++;
        const char *sp = memchr(p, ' ', len);
        if (len > 0 && !sp) {
            if (bad_line)
                *bad_line = line;
            return -EINVAL;
        }
        if (sp) {
            const char *name = p;
            size_t nlen = (size_t)(sp - p);
            struct mw_cg_stat *dst = &s;
            if (version == 1 && nlen > 6 && memcmp(name, "total_", 6) == 0) {
                name += 6;
                nlen -= 6;
                dst = &total;
            }
            for (size_t i = 0; i < MW_ARRAY_SIZE(stat_keys); i++) {
                const char *k = version == 1 ? stat_keys[i].v1 : stat_keys[i].v2;
                if (!k || strlen(k) != nlen || memcmp(k, name, nlen) != 0)
                    continue;
                const char *q = sp;
                uint64_t v;
                if (mw_scan_u64(&q, &v) < 0) {
                    if (bad_line)
                        *bad_line = line;
                    return -EINVAL;
                }
                *(uint64_t *)((char *)dst + stat_keys[i].off) = v;
                if (dst == &total)
                    any_total = true;
                else
                    any = true;
                break;
            }
        }
    }
    if (!any && !any_total)
        return -ENODATA;
    *out = any_total ? total : s;
    return 0;
}

/*
 * memory.events (v2):        memory.oom_control (v1):
 *   low 0                      oom_kill_disable 0
 *   high 0                     under_oom 0
 *   max 12                     oom_kill 3
 *   oom 1
 *   oom_kill 1
 */
int mw_cg_events_parse_buf(struct mw_cgroup_mem *mem, const char *buf)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"low", offsetof(struct mw_cgroup_mem, ev_low)},
        {"high", offsetof(struct mw_cgroup_mem, ev_high)},
        {"max", offsetof(struct mw_cgroup_mem, ev_max)},
        {"oom", offsetof(struct mw_cgroup_mem, ev_oom)},
        {"oom_kill", offsetof(struct mw_cgroup_mem, ev_oom_kill)},
    };
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        char l[96], name[32];
        uint64_t v;
        int n = 0;
        if (len == 0)
            continue;
        if (!mw_line_copy(l, sizeof(l), p, len) || sscanf(l, "%31s%n", name, &n) != 1)
            return -EINVAL;
        const char *q = l + n;
        if (mw_scan_u64(&q, &v) < 0 || q[strspn(q, " ")] != '\0')
            return -EINVAL;
        if (strcmp(name, "oom_kill_disable") == 0)
            mem->oom_kill_disable = v != 0;
        else if (strcmp(name, "under_oom") == 0)
            mem->under_oom = v != 0;
        for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++)
            if (strcmp(name, keys[i].name) == 0)
                *(uint64_t *)((char *)mem + keys[i].off) = (uint64_t)v;
    }
    return 0;
}

int mw_cgroup_version(const struct mw_root *root, const char *path)
{
    char *p = join(path, "memory.current");
    if (!p)
        return -ENOMEM;
    int r2 = faccessat(root->fd, mw_rel(p), F_OK, 0);
    free(p);
    if (r2 == 0)
        return 2;
    p = join(path, "memory.usage_in_bytes");
    if (!p)
        return -ENOMEM;
    int r1 = faccessat(root->fd, mw_rel(p), F_OK, 0);
    free(p);
    if (r1 == 0)
        return 1;
    /* Tell "no such directory" from "a directory without memory files". */
    if (faccessat(root->fd, mw_rel(path), F_OK, 0) != 0)
        return -errno;
    return -ENOENT;
}

/* The memory files of a cgroup, one row per fd slot of struct
 * mw_cgroup_src: the v2 name, the v1 name (NULL: that version has none). */
enum {
    CGF_USAGE,
    CGF_LIMIT,
    CGF_HIGH,
    CGF_SWAP_USAGE, /* v1: memsw (memory + swap) */
    CGF_SWAP_LIMIT, /* v1: memsw */
    CGF_FAILCNT,
    CGF_MEMSW_FAILCNT,
    CGF_EVENTS,
    CGF_STAT,
    CGF_PRESSURE,
};
static const struct {
    const char *v2, *v1;
} cg_files[MW_CG_SRC_FILES] = {
    [CGF_USAGE] = {"memory.current", "memory.usage_in_bytes"},
    [CGF_LIMIT] = {"memory.max", "memory.limit_in_bytes"},
    [CGF_HIGH] = {"memory.high", NULL},
    [CGF_SWAP_USAGE] = {"memory.swap.current", "memory.memsw.usage_in_bytes"},
    [CGF_SWAP_LIMIT] = {"memory.swap.max", "memory.memsw.limit_in_bytes"},
    [CGF_FAILCNT] = {NULL, "memory.failcnt"},
    [CGF_MEMSW_FAILCNT] = {NULL, "memory.memsw.failcnt"},
    [CGF_EVENTS] = {"memory.events", "memory.oom_control"},
    [CGF_STAT] = {"memory.stat", "memory.stat"},
    [CGF_PRESSURE] = {"memory.pressure", NULL},
};

void mw_cgroup_src_close(struct mw_cgroup_src *s)
{
    for (int i = 0; i < MW_CG_SRC_FILES; i++) {
        if (s->fd[i] >= 0)
            close(s->fd[i]);
        s->fd[i] = -1;
    }
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    s->dir_fd = -1;
}

int mw_cgroup_src_open(struct mw_cgroup_src *s, const struct mw_root *root, const char *path)
{
    s->version = 0;
    s->dir_fd = -1;
    for (int i = 0; i < MW_CG_SRC_FILES; i++)
        s->fd[i] = -1;
    s->dir_fd = openat(root->fd, mw_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0)
        return -errno;
    if (faccessat(s->dir_fd, cg_files[CGF_USAGE].v2, F_OK, 0) == 0)
        s->version = 2;
    else if (faccessat(s->dir_fd, cg_files[CGF_USAGE].v1, F_OK, 0) == 0)
        s->version = 1;
    int rc = s->version ? 0 : -ENOENT;
    for (int i = 0; rc == 0 && i < MW_CG_SRC_FILES; i++) {
        const char *name = s->version == 2 ? cg_files[i].v2 : cg_files[i].v1;
        int fd = name ? mw_open_regular_at(s->dir_fd, name, 0) : -ENOENT;
        s->fd[i] = fd >= 0 ? fd : -1;
        if (fd < 0 && (i == CGF_USAGE || i == CGF_LIMIT))
            rc = fd; /* the two a cgroup as a machine cannot do without */
    }
    if (rc < 0)
        mw_cgroup_src_close(s);
    return rc;
}

/* File I of S into S->buf. Returns 0 or -errno (-EBADF: not open). */
static int src_text(struct mw_cgroup_src *s, int i)
{
    if (s->fd[i] < 0)
        return -EBADF;
    long n = mw_pread_all(s->fd[i], s->buf, sizeof(s->buf));
    return n < 0 ? (int)n : 0;
}

/* File I of S as one number ("max": MW_CG_UNLIMITED). */
static int src_u64(struct mw_cgroup_src *s, int i, uint64_t *v)
{
    int rc = src_text(s, i);
    return rc < 0 ? rc : mw_parse_u64_or_max(s->buf, v);
}

int mw_cgroup_src_read(struct mw_cgroup_src *s, struct mw_cgroup_mem *out)
{
    struct mw_cgroup_mem m;
    memset(&m, 0, sizeof(m));
    m.version = s->version;
    m.high = m.swap_limit = MW_CG_UNLIMITED;
    int rc;
    if ((rc = src_u64(s, CGF_USAGE, &m.usage)) < 0 || (rc = src_u64(s, CGF_LIMIT, &m.limit)) < 0)
        return rc;
    if (m.version == 2) {
        src_u64(s, CGF_HIGH, &m.high);
        src_u64(s, CGF_SWAP_LIMIT, &m.swap_limit);
        src_u64(s, CGF_SWAP_USAGE, &m.swap_usage);
        if (src_text(s, CGF_PRESSURE) == 0)
            m.have_psi = mw_psi_parse_buf(&m.psi, s->buf, NULL) == 0;
    } else {
        /* v1 counts memory and swap together in memsw */
        uint64_t memsw_limit = MW_CG_UNLIMITED, memsw_usage = 0;
        src_u64(s, CGF_SWAP_LIMIT, &memsw_limit);
        src_u64(s, CGF_SWAP_USAGE, &memsw_usage);
        mw_cg_v1_memsw(&m, memsw_limit, memsw_usage);
        /* A charge tries memsw first: with memsw at the memory limit (swap 0)
         * every refusal counts there and memory.failcnt stays 0 (seen: 0
         * beside 64 OOM kills). ev_max is their sum: the limit was hit. */
        src_u64(s, CGF_FAILCNT, &m.failcnt);
        src_u64(s, CGF_MEMSW_FAILCNT, &m.memsw_failcnt);
        m.ev_max = m.failcnt + m.memsw_failcnt;
    }
    if (src_text(s, CGF_EVENTS) == 0)
        mw_cg_events_parse_buf(&m, s->buf);
    if (src_text(s, CGF_STAT) == 0)
        m.have_stat = mw_cg_stat_parse_buf(&m.stat, s->buf, m.version, NULL) == 0;
    *out = m;
    return 0;
}

/* NAME under the cgroup's directory as one number. */
static int src_u64_at(struct mw_cgroup_src *s, const char *name, uint64_t *v)
{
    long n = mw_read_small_at(s->dir_fd, name, s->buf, sizeof(s->buf));
    return n < 0 ? (int)n : mw_parse_u64_or_max(s->buf, v);
}

int mw_cgroup_src_peaks(struct mw_cgroup_src *s, uint64_t *peak, uint64_t *swap_peak)
{
    int got = 0;
    if (src_u64_at(s, s->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes", peak) == 0)
        got |= 1;
    if (s->version == 2 && src_u64_at(s, "memory.swap.peak", swap_peak) == 0)
        got |= 2;
    return got;
}

int mw_cgroup_mem_read(const struct mw_root *root, const char *path, struct mw_cgroup_mem *out)
{
    struct mw_cgroup_src s;
    int rc = mw_cgroup_src_open(&s, root, path);
    if (rc < 0)
        return rc;
    rc = mw_cgroup_src_read(&s, out);
    mw_cgroup_src_close(&s);
    return rc;
}

int mw_cgroup_pids(const struct mw_root *root, const char *path, int **pids)
{
    char *buf;
    int rc = read_in(root, path, "cgroup.procs", &buf);
    if (rc < 0)
        return rc;
    size_t cap = 16, n = 0;
    int *a = malloc(cap * sizeof(*a));
    if (!a) {
        free(buf);
        return -ENOMEM;
    }
    const char *p = buf;
    uint64_t v;
    while (mw_scan_u64(&p, &v) == 0) {
        if (n == cap) {
            int *na = realloc(a, cap * 2 * sizeof(*a));
            if (!na) {
                free(a);
                free(buf);
                return -ENOMEM;
            }
            a = na;
            cap *= 2;
        }
        a[n++] = (int)v;
        while (*p == '\n')
            p++;
    }
    free(buf);
    *pids = a;
    return (int)n;
}

/*
 * /proc/PID/cgroup:
 *   12:memory:/user.slice      (v1: id:controllers:path)
 *   0::/user.slice/session-1   (v2)
 */
int mw_proc_cgroup_parse_buf(const char *buf, bool prefer_v1_memory, char *out, size_t cap)
{
    const char *v1 = NULL, *v2 = NULL;
    size_t v1len = 0, v2len = 0;
    const char *cur = buf, *p;
    size_t len;
    while (mw_next_line(&cur, &p, &len)) {
        const char *c1 = memchr(p, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
        if (c2) {
            size_t clen = (size_t)(c2 - c1 - 1);
            const char *path = c2 + 1;
            size_t plen = len - (size_t)(path - p);
            if (clen == 0 && c1 - p == 1 && *p == '0') {
                v2 = path;
                v2len = plen;
            } else {
                /* The controller list is comma separated: "cpu,cpuacct". */
                const char *c = c1 + 1;
                while (c < c2) {
                    const char *comma = memchr(c, ',', (size_t)(c2 - c));
                    const char *end = comma ? comma : c2;
                    if (end - c == 6 && memcmp(c, "memory", 6) == 0) {
                        v1 = path;
                        v1len = plen;
                    }
                    c = end + 1;
                }
            }
        }
    }
    const char *pick = (prefer_v1_memory && v1) || !v2 ? v1 : v2;
    size_t plen = pick == v1 ? v1len : v2len;
    if (!pick)
        return -ENODATA;
    if (plen + 1 > cap)
        return -ENAMETOOLONG;
    memcpy(out, pick, plen);
    out[plen] = '\0';
    return 0;
}

uint64_t mw_cgroup_reclaimable(const struct mw_cgroup_mem *mem)
{
    const struct mw_cg_stat *s = &mem->stat;
    uint64_t file = s->active_file + s->inactive_file;
    uint64_t busy = s->file_dirty + s->file_writeback;
    uint64_t r = file > busy ? file - busy : 0;
    return r + s->slab_reclaimable;
}

/* v1 reports "no limit" as PAGE_COUNTER_MAX pages, about 2^63. */
#define V1_NO_LIMIT (1ull << 62)

void mw_cg_v1_memsw(struct mw_cgroup_mem *mem, uint64_t memsw_limit, uint64_t memsw_usage)
{
    if (mem->limit >= V1_NO_LIMIT)
        mem->limit = MW_CG_UNLIMITED;
    if (mem->limit != MW_CG_UNLIMITED && memsw_limit < V1_NO_LIMIT && memsw_limit >= mem->limit)
        mem->swap_limit = memsw_limit - mem->limit;
    if (memsw_usage >= mem->usage)
        mem->swap_usage = memsw_usage - mem->usage;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t mw_cgroup_swap_used(const struct mw_cgroup_mem *cg)
{
    return cg->swap_usage > cg->stat.swap ? cg->swap_usage : cg->stat.swap;
}

void mw_cgroup_machine(const struct mw_cgroup_mem *cg, const struct mw_meminfo *host,
                       struct mw_cg_machine *out)
{
    const struct mw_cg_stat *s = &cg->stat;
    struct mw_cg_machine m;
    memset(&m, 0, sizeof(m));
    uint64_t ram = host->kb[MI_MEM_TOTAL] * 1024;
    m.total = cg->limit == MW_CG_UNLIMITED ? ram : min_u64(cg->limit, ram);
    uint64_t usage = min_u64(cg->usage, m.total);
    m.headroom = m.total - usage;
    m.reclaimable = min_u64(mw_cgroup_reclaimable(cg), usage);
    m.available = m.headroom + m.reclaimable;
    m.used = m.total - m.available;
    m.clean_file = mw_sub0(s->active_file + s->inactive_file, s->file_dirty + s->file_writeback);
    m.cache = s->file + s->slab_reclaimable;
    m.shared = s->shmem;
    uint64_t host_swap = host->kb[MI_SWAP_TOTAL] * 1024;
    m.swap_total =
        cg->swap_limit == MW_CG_UNLIMITED ? host_swap : min_u64(cg->swap_limit, host_swap);
    m.swap_used = min_u64(mw_cgroup_swap_used(cg), m.swap_total);
    m.swap_free = min_u64(m.swap_total - m.swap_used, host->kb[MI_SWAP_FREE] * 1024);
    *out = m;
}
