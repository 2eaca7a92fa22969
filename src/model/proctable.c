#include "model/proctable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/cgroup.h"
#include "proc/cgunit.h"
#include "proc/procs.h"

/* String storage: chunks that never move, so a record's cmdline pointer
 * stays valid while the table grows. One malloc per 64 KiB of strings
 * instead of one per process. */
#define PT_CHUNK_BYTES (64u << 10)
/* smaps (the fallback when smaps_rollup is missing) of a big process can
 * run to megabytes; past this the file is hostile. */
#define PT_SMAPS_MAX (64u << 20)
#define PT_SMALL_MAX (64u << 10)

struct mw_pt_chunk {
    struct mw_pt_chunk *next;
    size_t used, cap;
    char data[];
};

struct mw_pt_cgent {
    int pid;
    const char *path;
};

int mw_proctable_open(struct mw_proctable *t, const struct mw_root *root, unsigned what)
{
    memset(t, 0, sizeof(*t));
    t->what = what;
    t->root_fd = fcntl(root->fd, F_DUPFD_CLOEXEC, 0);
    t->live = mw_root_is_live(root);
    t->proc_fd = openat(root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->proc_fd < 0)
        return -errno;
    t->page_size = root->page_size;
    t->scratch_cap = PT_SMALL_MAX;
    t->scratch = malloc(t->scratch_cap);
    if (!t->scratch)
        return -ENOMEM;
    return 0;
}

void mw_proctable_close(struct mw_proctable *t)
{
    if (t->proc_fd >= 0)
        close(t->proc_fd);
    t->proc_fd = -1;
    if (t->root_fd >= 0)
        close(t->root_fd);
    t->root_fd = -1;
    free(t->cgidx);
    t->cgidx = NULL;
    t->cgidx_n = t->cgidx_cap = 0;
    struct mw_pt_chunk *c = t->chunks;
    while (c) {
        struct mw_pt_chunk *next = c->next;
        free(c);
        c = next;
    }
    t->chunks = NULL;
    free(t->procs);
    free(t->scratch);
    t->procs = NULL;
    t->scratch = NULL;
    t->n = t->cap = 0;
}

static const char *pt_strdup(struct mw_proctable *t, const char *s, size_t len)
{
    struct mw_pt_chunk *c = t->chunks;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > PT_CHUNK_BYTES ? len + 1 : PT_CHUNK_BYTES;
        struct mw_pt_chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        /* A big one-off string goes behind the current chunk so that chunk
         * keeps filling. */
        if (c && cap > PT_CHUNK_BYTES) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            t->chunks = nc;
        }
        c = nc;
    }
    char *d = c->data + c->used;
    memcpy(d, s, len);
    d[len] = '\0';
    c->used += len + 1;
    return d;
}

/* Reads NAME under DIRFD into t->scratch (NUL terminated), growing it up to
 * MAX bytes of content; *CUT (may be NULL) tells whether the file was longer.
 * Returns the byte count or -errno. */
static long pt_read(struct mw_proctable *t, int dirfd, const char *name, size_t max, bool *cut)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    /* For the small per-process files (stat, status, statm, smaps_rollup,
     * oom_*, cgroup: one seq_file record, or cmdline, which fills the
     * buffer) a short read is the end; this saves a second read per file, a
     * sixth of top's syscalls. Multi-record files (smaps, cgroup.procs,
     * mountinfo) return about a page per read, so they are read to EOF:
     * their MAX is above PT_SMALL_MAX. */
    long rc = mw_read_fd(fd, &t->scratch, &t->scratch_cap, max, max <= PT_SMALL_MAX, cut);
    close(fd);
    return rc;
}

/* A read that failed because the process is gone (as opposed to a file the
 * kernel does not have, or one we may not read). */
static bool pt_gone(int dirfd, long rc)
{
    if (rc == -ESRCH)
        return true;
    if (rc == -ENOENT)
        return faccessat(dirfd, "stat", F_OK, 0) != 0;
    return false;
}

int mw_proc_mem_from_smaps(struct mw_proc *p, const char *buf)
{
    struct mw_proc_smaps s;
    int rc = mw_proc_smaps_parse_buf(&s, buf);
    if (rc < 0)
        return rc;
    p->pss_bytes = s.pss * 1024;
    p->uss_bytes = mw_proc_smaps_uss(&s) * 1024;
    p->rss_bytes = s.rss * 1024;
    if (s.have_swap_pss) {
        p->swap_bytes = s.swap_pss * 1024;
    } else {
        p->swap_bytes = s.swap * 1024;
        p->flags |= MW_PROC_SWAP_EST;
    }
    return 0;
}

/* Memory of a live, non-kernel process: smaps_rollup (one read), else smaps
 * (older kernels: summed over every mapping), else statm (no permission:
 * PSS shown as RSS, an upper bound, and USS as resident - shared).
 * Returns 0, or 1 when the process went away. */
/* The page size of the machine the files come from: status's VmRSS (kB)
 * over statm's resident pages, rounded to a power of two, so a tree
 * captured on a 16K- or 64K-page board reads right even without a
 * recorded page size. Falls back to the root's page size (struct mw_root). */
static uint64_t pt_page_size(const struct mw_proctable *t, const struct mw_proc_status *ps,
                             uint64_t resident)
{
    if (ps && ps->have_rss && resident > 0 && ps->vm_rss_kb > 0) {
        uint64_t ratio = ps->vm_rss_kb * 1024 / resident;
        for (uint64_t pg = 4096; pg <= (1u << 20); pg <<= 1)
            if (ratio >= pg - pg / 4 && ratio <= pg + pg / 2)
                return pg;
    }
    return t->page_size;
}

static int pt_read_mem(struct mw_proctable *t, int dfd, struct mw_proc *p,
                       const struct mw_proc_status *ps)
{
    long n = pt_read(t, dfd, "smaps_rollup", PT_SMALL_MAX, NULL);
    if (n >= 0 && mw_proc_mem_from_smaps(p, t->scratch) == 0)
        return 0;
    if (n < 0 && pt_gone(dfd, n))
        return 1;
    n = pt_read(t, dfd, "smaps", PT_SMAPS_MAX, NULL);
    if (n >= 0 && mw_proc_mem_from_smaps(p, t->scratch) == 0) {
        p->flags |= MW_PROC_MEM_SMAPS;
        return 0;
    }
    if (n < 0 && pt_gone(dfd, n))
        return 1;
    n = pt_read(t, dfd, "statm", 4096, NULL);
    struct mw_proc_statm sm;
    if (n >= 0 && mw_proc_statm_parse_buf(&sm, t->scratch) == 0) {
        uint64_t page = pt_page_size(t, ps, sm.resident);
        p->rss_bytes = sm.resident * page;
        p->uss_bytes = sm.resident > sm.shared ? (sm.resident - sm.shared) * page : 0;
        p->pss_bytes = p->rss_bytes;
        p->swap_bytes = ps ? ps->vm_swap_kb * 1024 : 0;
        p->flags |= MW_PROC_MEM_EST | MW_PROC_SWAP_EST;
        return 0;
    }
    if (n < 0 && pt_gone(dfd, n))
        return 1;
    p->flags |= MW_PROC_NO_MEM;
    return 0;
}

static int pt_grow(struct mw_proctable *t)
{
    if (t->n < t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap * 2 : 256;
    struct mw_proc *nv = realloc(t->procs, ncap * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    t->procs = nv;
    t->cap = ncap;
    return 0;
}

/* --- the cgroup index: one walk of the memory hierarchy ---------------- */

#define PT_CG_MAX_DEPTH 32

static int pt_cgent_cmp(const void *a, const void *b)
{
    const struct mw_pt_cgent *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct mw_pt_cgent *pt_cgidx_find(const struct mw_proctable *t, int pid)
{
    if (!t->cgidx_n)
        return NULL;
    struct mw_pt_cgent key = {.pid = pid};
    return bsearch(&key, t->cgidx, t->cgidx_n, sizeof(key), pt_cgent_cmp);
}

/* Reads cgroup.procs of the directory DFD (cgroup PATH) and of every
 * directory below it. Returns 0 or -errno (-ENOMEM). */
static int pt_cg_walk(struct mw_proctable *t, int dfd, char *path, size_t len, int depth)
{
    long n = pt_read(t, dfd, "cgroup.procs", PT_SMAPS_MAX, NULL);
    if (n > 0) {
        const char *ipath = pt_strdup(t, len ? path : "/", len ? len : 1);
        if (!ipath)
            return -ENOMEM;
        const char *q = t->scratch;
        uint64_t v;
        while (mw_scan_u64(&q, &v) == 0) {
            while (*q == '\n')
                q++;
            if (v == 0 || v > INT32_MAX)
                continue;
            if (t->cgidx_n == t->cgidx_cap) {
                size_t ncap = t->cgidx_cap ? t->cgidx_cap * 2 : 1024;
                struct mw_pt_cgent *nv = realloc(t->cgidx, ncap * sizeof(*nv));
                if (!nv)
                    return -ENOMEM;
                t->cgidx = nv;
                t->cgidx_cap = ncap;
            }
            t->cgidx[t->cgidx_n++] = (struct mw_pt_cgent){.pid = (int)v, .path = ipath};
        }
    }
    if (depth >= PT_CG_MAX_DEPTH)
        return 0;
    DIR *d;
    if (mw_opendir_at(dfd, ".", 0, &d) < 0)
        return 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        size_t nl = strlen(de->d_name);
        if (len + 1 + nl >= 4096)
            continue;
        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
            continue;
        path[len] = '/';
        memcpy(path + len + 1, de->d_name, nl + 1);
        rc = pt_cg_walk(t, sub, path, len + 1 + nl, depth + 1);
        path[len] = '\0';
        close(sub);
    }
    closedir(d);
    return rc;
}

/*
 * /proc/self/mountinfo:
 *   35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
 *   41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
 * The mount point of the v1 memory hierarchy, else of cgroup2 — the same
 * choice as mw_proc_cgroup_parse_buf(prefer_v1_memory). Mounts of a
 * subtree (root field not "/", as in a cgroup namespace) do not count.
 */
static int pt_cg_mount(const char *buf, char *out, size_t cap)
{
    bool have_v2 = false;
    char v2[4096];
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        char line[4096 + 512];
        if (len < sizeof(line)) {
            memcpy(line, p, len);
            line[len] = '\0';
            char *f[6] = {0};
            char *save = NULL, *tok;
            for (int i = 0; i < 6 && (tok = strtok_r(i ? NULL : line, " ", &save)); i++)
                f[i] = tok;
            char *dash = save ? strstr(save, "- ") : NULL;
            if (f[4] && dash && strcmp(f[3], "/") == 0 && !strchr(f[4], '\\')) {
                char *fstype = strtok_r(dash + 2, " ", &save);
                char *src = fstype ? strtok_r(NULL, " ", &save) : NULL;
                char *sopts = src ? strtok_r(NULL, " ", &save) : NULL;
                if (fstype && strcmp(fstype, "cgroup") == 0 && sopts) {
                    char *s2 = NULL;
                    for (char *o = strtok_r(sopts, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
                        if (strcmp(o, "memory") == 0) {
                            snprintf(out, cap, "%s", f[4]);
                            return 1;
                        }
                    }
                } else if (fstype && strcmp(fstype, "cgroup2") == 0 && !have_v2) {
                    snprintf(v2, sizeof(v2), "%s", f[4]);
                    have_v2 = true;
                }
            }
        }
    }
    if (have_v2) {
        snprintf(out, cap, "%s", v2);
        return 2;
    }
    return 0;
}

/* Builds t->cgidx, or leaves it empty when it cannot be trusted. */
static void pt_cg_index(struct mw_proctable *t)
{
    char mnt[4096], path[4096] = "", self[4096];
    long n = pt_read(t, t->root_fd, "proc/self/mountinfo", PT_SMAPS_MAX, NULL);
    int kind;
    if (n <= 0 || (kind = pt_cg_mount(t->scratch, mnt, sizeof(mnt))) <= 0)
        return;
    /* Our own cgroup as the kernel names it, to check the walk against. */
    n = pt_read(t, t->root_fd, "proc/self/cgroup", PT_SMALL_MAX, NULL);
    if (n <= 0 || mw_proc_cgroup_parse_buf(t->scratch, true, self, sizeof(self)) < 0)
        return;
    int fd = openat(t->root_fd, mw_rel(mnt), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    int rc = pt_cg_walk(t, fd, path, 0, 0);
    close(fd);
    t->cgidx_v2 = kind == 2;
    if (rc == 0 && t->cgidx_n) {
        qsort(t->cgidx, t->cgidx_n, sizeof(*t->cgidx), pt_cgent_cmp);
        const struct mw_pt_cgent *me = pt_cgidx_find(t, (int)getpid());
        if (me && strcmp(me->path, self) == 0)
            return;
    }
    t->cgidx_n = 0; /* not trusted: read /proc/PID/cgroup per process */
}

/* oom_score_adj and oom_score, as T->what asks. Returns 0, or 1 when the
 * process went away. */
static int pt_read_scores(struct mw_proctable *t, int dfd, struct mw_proc *p)
{
    long n;
    if (t->what & MW_PT_ADJ) {
        n = pt_read(t, dfd, "oom_score_adj", 64, NULL);
        if (n < 0 && pt_gone(dfd, n))
            return 1;
        if (n < 0 || mw_proc_adj_parse_buf(&p->oom_score_adj, t->scratch) < 0)
            p->flags |= MW_PROC_NO_ADJ;
    }
    if (t->what & MW_PT_SCORE) {
        n = pt_read(t, dfd, "oom_score", 64, NULL);
        if (n < 0 && pt_gone(dfd, n))
            return 1;
        const char *q = t->scratch;
        uint64_t v;
        if (n < 0 || mw_scan_u64(&q, &v) < 0 || v > 100000)
            p->flags |= MW_PROC_NO_SCORE;
        else
            p->oom_score = (long)v;
    }
    return 0;
}

/* The process's cgroup path: from the index of cgroup.procs files when it
 * is there, else /proc/PID/cgroup. Returns 0, 1 when the process went
 * away, or -ENOMEM. */
static int pt_read_cgroup(struct mw_proctable *t, int dfd, struct mw_proc *p)
{
    const struct mw_pt_cgent *ce = pt_cgidx_find(t, p->pid);
    if (ce) {
        p->cgroup = ce->path;
        return 0;
    }
    long n = pt_read(t, dfd, "cgroup", PT_SMALL_MAX, NULL);
    if (n < 0 && pt_gone(dfd, n))
        return 1;
    char cg[4096];
    /* On a hybrid host (v1 memory controller + v2 for the rest) the v1
     * memory line says where the memory is charged; on pure v2 the only
     * line is "0::/path". */
    if (n >= 0 && mw_proc_cgroup_parse_buf(t->scratch, true, cg, sizeof(cg)) == 0) {
        p->cgroup = pt_strdup(t, cg, strlen(cg));
        if (!p->cgroup)
            return -ENOMEM;
    } else {
        p->flags |= MW_PROC_NO_CGROUP;
    }
    return 0;
}

/* The process's systemd unit (proc/cgunit.h): from its cgroup when that
 * came from the cgroup2 walk (systemd's own paths), else from
 * /proc/PID/cgroup. Returns 0, 1 when the process went away, or -ENOMEM. */
static int pt_read_unit(struct mw_proctable *t, int dfd, struct mw_proc *p)
{
    char path[4096], label[2 * MW_CGUNIT_NAME + 1];
    struct mw_cgunit u;
    const struct mw_pt_cgent *ce = t->cgidx_v2 ? pt_cgidx_find(t, p->pid) : NULL;
    if (ce) {
        snprintf(path, sizeof(path), "%s", ce->path);
    } else {
        long n = pt_read(t, dfd, "cgroup", PT_SMALL_MAX, NULL);
        if (n < 0 && pt_gone(dfd, n))
            return 1;
        if (n < 0 || mw_cgunit_path_parse_buf(t->scratch, path, sizeof(path)) < 0)
            return 0; /* unknown: "" */
    }
    if (mw_cgunit_parse(path, &u) < 0)
        return 0;
    mw_cgunit_label(&u, label, sizeof(label));
    p->unit = pt_strdup(t, label, strlen(label));
    return p->unit ? 0 : -ENOMEM;
}

/* The command line, its words joined by spaces ("[comm]" when empty, as ps
 * shows kernel threads and zombies). Returns 0, 1 when the process went
 * away, or -ENOMEM. */
static int pt_read_cmdline(struct mw_proctable *t, int dfd, struct mw_proc *p)
{
    bool cut = false;
    long n = pt_read(t, dfd, "cmdline", MW_PT_CMDLINE_MAX, &cut);
    if (n < 0 && pt_gone(dfd, n))
        return 1;
    /* argv[0] ends at the first NUL, before the join hides it. */
    p->argv0_len = n > 0 ? strnlen(t->scratch, (size_t)n) : 0;
    size_t len = n > 0 ? mw_proc_cmdline_join(t->scratch, (size_t)n) : 0;
    if (p->argv0_len > len)
        p->argv0_len = len;
    if (n < 0)
        p->flags |= MW_PROC_NO_CMDLINE;
    if (cut)
        p->flags |= MW_PROC_CMDLINE_CUT;
    if (len == 0) {
        len = (size_t)snprintf(t->scratch, t->scratch_cap, "[%s]", p->comm);
        p->argv0_len = 0;
    }
    p->cmdline = pt_strdup(t, t->scratch, len);
    return p->cmdline ? 0 : -ENOMEM;
}

int mw_proctable_add(struct mw_proctable *t, int pid)
{
    char name[16];
    snprintf(name, sizeof(name), "%d", pid);
    int dfd = openat(t->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    int rc = 0;
    struct mw_proc p;
    memset(&p, 0, sizeof(p));
    p.pid = pid;
    p.cmdline = "";
    p.cgroup = "";
    p.unit = "";

    long n = pt_read(t, dfd, "stat", 4096, NULL);
    struct mw_proc_stat st;
    if (n <= 0 || mw_proc_stat_parse_buf(&st, t->scratch) < 0 || st.pid != pid)
        goto out; /* gone, or a stat file that is not one */
    p.ppid = st.ppid;
    p.state = st.state;
    memcpy(p.comm, st.comm, sizeof(p.comm));
    bool kthread = (st.flags & MW_PF_KTHREAD) != 0;
    bool zombie = st.state == 'Z' || st.state == 'X';

    struct mw_proc_status ps;
    bool have_status = false;
    memset(&ps, 0, sizeof(ps));
    n = pt_read(t, dfd, "status", PT_SMALL_MAX, NULL);
    if (n >= 0 && mw_proc_status_parse_buf(&ps, t->scratch) == 0) {
        have_status = true;
        p.uid = ps.euid;
        /* kthreadd is pid 2 and the parent of every kernel thread; without
         * PF_KTHREAD in stat (a hand-made tree), no Vm* lines tell. */
        if (ps.kthread || ((pid == 2 || st.ppid == 2) && !ps.have_rss))
            kthread = true;
    } else if (n < 0 && pt_gone(dfd, n)) {
        goto out;
    } else {
        p.flags |= MW_PROC_NO_UID;
    }
    if (kthread)
        p.flags |= MW_PROC_KTHREAD;
    if (zombie)
        p.flags |= MW_PROC_ZOMBIE;
    if ((kthread && !(t->what & MW_PT_KTHREADS)) || (zombie && !(t->what & MW_PT_ZOMBIES)))
        goto out;

    /* each reader: 0 read, 1 the process went away, < 0 an error */
    int r = 0;
    if ((t->what & MW_PT_MEM) && !kthread && !zombie)
        r = pt_read_mem(t, dfd, &p, have_status ? &ps : NULL);
    if (r == 0)
        r = pt_read_scores(t, dfd, &p);
    if (r == 0 && (t->what & MW_PT_CGROUP))
        r = pt_read_cgroup(t, dfd, &p);
    if (r == 0 && (t->what & MW_PT_UNIT))
        r = pt_read_unit(t, dfd, &p);
    if (r == 0 && (t->what & MW_PT_CMDLINE))
        r = pt_read_cmdline(t, dfd, &p);
    if (r == 0 && pt_grow(t) < 0)
        r = -ENOMEM;
    if (r != 0) {
        rc = r < 0 ? r : 0;
        goto out;
    }
    t->procs[t->n++] = p;
    rc = 1;
out:
    close(dfd);
    return rc;
}

int mw_proctable_scan(struct mw_proctable *t)
{
    /* A second descriptor of the same directory: closedir closes it, and
     * proc_fd stays open for the per-process openat calls. */
    struct mw_pid_iter it;
    int e = mw_opendir_at(t->proc_fd, ".", 0, &it.dir);
    if (e < 0)
        return e;
    if ((t->what & (MW_PT_CGROUP | MW_PT_UNIT)) && t->live && t->root_fd >= 0 && !t->cgidx_n)
        pt_cg_index(t);
    int added = 0, pid, rc;
    while ((rc = mw_pid_iter_next(&it, &pid)) == 1) {
        int a = mw_proctable_add(t, pid);
        if (a < 0) {
            rc = a;
            break;
        }
        added += a;
    }
    mw_pid_iter_close(&it);
    return rc < 0 ? rc : added;
}

const char *mw_proc_program(const struct mw_proc *p, char *buf, size_t cap)
{
    const char *a0 = p->cmdline ? p->cmdline : "";
    size_t len = p->argv0_len;
    if (len == 0 || (p->flags & MW_PROC_NO_CMDLINE)) {
        snprintf(buf, cap, "%s", p->comm);
        return buf;
    }
    /* One argument holding blanks and nothing after it: a title the process
     * wrote over its arguments ("sshd: root@pts/0", "nginx: worker
     * process"); its program is the first word. */
    if (a0[len] == '\0' && memchr(a0, ' ', len))
        len = strcspn(a0, " ");
    const char *base = a0;
    for (const char *s = a0; s < a0 + len; s++)
        if (*s == '/' && s + 1 < a0 + len)
            base = s + 1;
    size_t blen = (size_t)(a0 + len - base);
    if (blen > 1 && base[blen - 1] == ':')
        blen--;
    snprintf(buf, cap, "%.*s", (int)blen, base);
    return buf;
}
