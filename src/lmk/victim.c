#include "lmk/victim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "model/procmatch.h"
#include "proc/cgroup.h"
#include "proc/procs.h"
#include "base/util.h"

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int mw_scan_ws_init(struct mw_scan_ws *ws, int root_fd, int scope_dir_fd, size_t cap)
{
    memset(ws, 0, sizeof(*ws));
    ws->proc_fd = -1;
    ws->scope_dir_fd = scope_dir_fd;
    ws->pid = calloc(cap, sizeof(int));
    ws->adj = calloc(cap, sizeof(int));
    if (!ws->pid || !ws->adj) {
        mw_scan_ws_free(ws);
        return -ENOMEM;
    }
    ws->cap = cap;
    ws->proc_fd = openat(root_fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ws->proc_fd < 0) {
        int e = -errno;
        mw_scan_ws_free(ws);
        return e;
    }
    ws->self_pid = (int)getpid();
    long page = sysconf(_SC_PAGESIZE);
    ws->page_kb = page >= 1024 ? (unsigned)(page / 1024) : 4;
    ws->hz = sysconf(_SC_CLK_TCK);
    if (ws->hz <= 0)
        ws->hz = 100;
    return 0;
}

void mw_scan_ws_free(struct mw_scan_ws *ws)
{
    free(ws->pid);
    free(ws->adj);
    ws->pid = ws->adj = NULL;
    if (ws->proc_fd >= 0)
        close(ws->proc_fd);
    ws->proc_fd = -1;
}

/* Reads ROOT/proc/PID/NAME into BUF (no allocation). Returns bytes or
 * -errno. */
static long read_pid_file(int proc_fd, int pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "%d/%s", pid, name);
    int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long n = mw_pread_all(fd, buf, cap);
    close(fd);
    return n;
}

static int read_adj(int proc_fd, int pid, int *adj)
{
    char buf[32];
    if (read_pid_file(proc_fd, pid, "oom_score_adj", buf, sizeof(buf)) < 0)
        return -1;
    return mw_proc_adj_parse_buf(adj, buf);
}

/* One member PID of a scoped cgroup: a candidate unless it is init, the
 * daemon, gone, or below MIN_ADJ. */
struct member_ctx {
    struct mw_scan_ws *ws;
    int min_adj;
    size_t *n;
};

static int add_member(uint64_t v, void *arg)
{
    struct member_ctx *m = arg;
    struct mw_scan_ws *ws = m->ws;
    if (*m->n >= ws->cap)
        return 1;
    ws->scanned++;
    int adj;
    if (v <= 1 || v > INT_MAX || (int)v == ws->self_pid || read_adj(ws->proc_fd, (int)v, &adj) < 0)
        return 0;
    if (adj < m->min_adj || adj == -1000)
        return 0;
    ws->pid[*m->n] = (int)v;
    ws->adj[*m->n] = adj;
    (*m->n)++;
    return 0;
}

/* Adds the members of the cgroup at DIR_FD and, down to MAX_CG_DEPTH, of
 * its descendants (v1's cgroup.procs lists direct members only).
 * cgroup.procs is read to its end in chunks (a cgroup of 10,000 tasks
 * writes 80 KiB); a number cut by a chunk is never taken for a PID. */
#define MAX_CG_DEPTH 8
static int collect_cgroup(struct mw_scan_ws *ws, int dir_fd, int depth, int min_adj, size_t *n)
{
    static char dbuf[MAX_CG_DEPTH][4096];
    struct member_ctx m = {ws, min_adj, n};
    long rc = mw_each_u64_at(dir_fd, "cgroup.procs", O_NOFOLLOW, add_member, &m);
    if (rc < 0 && rc != -EBADMSG)        /* EBADMSG: the PIDs before the garbage count */
        return depth == 0 ? (int)rc : 0; /* a child may vanish meanwhile */
    if (depth + 1 >= MAX_CG_DEPTH || lseek(dir_fd, 0, SEEK_SET) < 0)
        return 0;
    for (;;) {
        long got = syscall(SYS_getdents64, dir_fd, dbuf[depth], sizeof(dbuf[depth]));
        if (got <= 0)
            break;
        for (long off = 0; off < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dbuf[depth] + off);
            off += d->d_reclen;
            if (d->d_type != DT_DIR || d->d_name[0] == '.')
                continue;
            int child = openat(dir_fd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (child < 0)
                continue;
            collect_cgroup(ws, child, depth + 1, min_adj, n);
            close(child);
        }
    }
    return 0;
}

/* Collects (pid, adj) of every candidate into the workspace. */
static int collect(struct mw_scan_ws *ws, int min_adj, size_t *count)
{
    size_t n = 0;
    if (ws->scope_dir_fd >= 0) {
        int rc = collect_cgroup(ws, ws->scope_dir_fd, 0, min_adj, &n);
        *count = n;
        return rc;
    }
    static char dbuf[16 * 1024];
    if (lseek(ws->proc_fd, 0, SEEK_SET) < 0)
        return -errno;
    for (;;) {
        long got = syscall(SYS_getdents64, ws->proc_fd, dbuf, sizeof(dbuf));
        if (got < 0)
            return -errno;
        if (got == 0)
            break;
        for (long off = 0; off < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dbuf + off);
            off += d->d_reclen;
            const char *s = d->d_name;
            if (*s < '1' || *s > '9')
                continue;
            long pid = 0;
            for (; *s >= '0' && *s <= '9' && pid < INT_MAX / 10; s++)
                pid = pid * 10 + (*s - '0');
            if (*s)
                continue;
            ws->scanned++;
            int adj;
            if (pid <= 1 || pid == ws->self_pid || read_adj(ws->proc_fd, (int)pid, &adj) < 0)
                continue;
            if (adj < min_adj || adj == -1000)
                continue;
            if (n == ws->cap)
                break;
            ws->pid[n] = (int)pid;
            ws->adj[n] = adj;
            n++;
        }
    }
    *count = n;
    return 0;
}

static bool needs_cmdline(const struct mw_config *cfg)
{
    return cfg->protect.n > 0 || cfg->prefer.n > 0 || cfg->avoid.n > 0 || cfg->term_first.n > 0;
}

/* V->cmdline: the arguments joined by spaces, truncated. */
static void read_cmdline(struct mw_scan_ws *ws, struct mw_victim *v)
{
    long n = read_pid_file(ws->proc_fd, v->pid, "cmdline", v->cmdline, sizeof(v->cmdline));
    if (n == -EFBIG)
        n = (long)sizeof(v->cmdline) - 1;
    if (n < 0)
        n = 0;
    v->cmdline[n] = '\0';
    for (long i = 0; i < n; i++)
        if (v->cmdline[i] == '\0')
            v->cmdline[i] = ' ';
    while (n > 0 && v->cmdline[n - 1] == ' ')
        v->cmdline[--n] = '\0';
    v->have_cmdline = true;
}

/* True when a pattern of the list P names V: a name match on its command
 * line or name, or a qualified one (procmatch.h) whose exe / uid / cgroup
 * hold, read into F on first need. A pattern the config loader would
 * refuse never matches. */
static bool list_names(struct mw_scan_ws *ws, const struct mw_patterns *p,
                       const struct mw_victim *v, struct mw_match_facts *f)
{
    for (int i = 0; i < p->n; i++) {
        struct mw_match_spec s;
        if (mw_match_spec_parse(&s, p->pat[i], NULL, 0) < 0 ||
            !mw_match_name_glob(&s, v->cmdline, v->comm))
            continue;
        unsigned need = mw_match_spec_needs(&s);
        if (need)
            mw_match_facts_read(ws->proc_fd, v->pid, need, f);
        if (mw_match_qualifiers(&s, f))
            return true;
    }
    return false;
}

/* Fills the details of one candidate. Returns 0, or -1 when it is not
 * killable (gone, kernel thread, zombie, protected). */
static int detail(struct mw_scan_ws *ws, const struct mw_config *cfg,
                  const struct mw_penalties *pen, uint64_t now_ms, int pid, int adj,
                  struct mw_victim *v)
{
    char buf[1024];
    ws->detailed++;
    memset(v, 0, sizeof(*v));
    v->stat_fd = -1;
    v->pid = pid;
    v->adj = v->eff_adj = adj;
    if (read_pid_file(ws->proc_fd, pid, "stat", buf, sizeof(buf)) < 0)
        return -1;
    struct mw_proc_stat st;
    if (mw_proc_stat_parse_buf(&st, buf) < 0)
        return -1;
    if ((st.flags & MW_PF_KTHREAD) || st.state == 'Z' || st.state == 'X')
        return -1;
    snprintf(v->comm, sizeof(v->comm), "%s", st.comm);
    v->ppid = st.ppid;
    v->starttime = st.starttime;
    v->rss_kb = st.rss_pages * ws->page_kb;
    /* The command line lives in the process's memory: reading it takes
     * its mmap lock and may fault a swapped-out page back in, under
     * the very shortage being handled. Read only when a pattern needs it
     * (finish() reads the victim's for the log). */
    if (needs_cmdline(cfg))
        read_cmdline(ws, v);
    /* An empty command line (a process that cleared its argv, or one
     * being exec'ed) is no reason to spare it: kernel threads and zombies
     * were excluded above by their flags and state. */
    struct mw_match_facts facts = {.tried = 0};
    if (list_names(ws, &cfg->protect, v, &facts))
        return -1;
    if (list_names(ws, &cfg->prefer, v, &facts))
        v->eff_adj += cfg->pattern_adj_shift;
    if (list_names(ws, &cfg->avoid, v, &facts))
        v->eff_adj -= cfg->pattern_adj_shift;
    if (pen) {
        for (int i = 0; i < pen->n; i++) {
            if (pen->p[i].until_ms <= now_ms || strcmp(pen->p[i].comm, v->comm) != 0)
                continue;
            if (pen->p[i].adj_shift == INT32_MAX)
                return -1;
            v->eff_adj -= pen->p[i].adj_shift;
        }
    }
    return 0;
}

/* True when A should die before B. */
static bool better(const struct mw_config *cfg, const struct mw_victim *a,
                   const struct mw_victim *b)
{
    if (a->eff_adj != b->eff_adj)
        return a->eff_adj > b->eff_adj;
    if (cfg->kill_heaviest_task && a->rss_kb != b->rss_kb)
        return a->rss_kb > b->rss_kb;
    return a->starttime > b->starttime; /* most recently started */
}

/* Fills V's uid, swap and (VmRSS, when there) RSS from its status file. */
static void read_status(struct mw_scan_ws *ws, struct mw_victim *v)
{
    char buf[4096];
    struct mw_proc_status s;
    if (read_pid_file(ws->proc_fd, v->pid, "status", buf, sizeof(buf)) < 0 ||
        mw_proc_status_parse_buf(&s, buf) < 0)
        return;
    v->uid = s.uid;
    v->swap_kb = s.vm_swap_kb;
    if (s.have_rss)
        v->rss_kb = s.vm_rss_kb;
}

static void finish(struct mw_scan_ws *ws, const struct mw_config *cfg, struct mw_victim *v)
{
    char buf[4096];
    if (!v->have_cmdline)
        read_cmdline(ws, v);
    read_status(ws, v);
    struct mw_match_facts facts = {.tried = 0};
    v->term_first = list_names(ws, &cfg->term_first, v, &facts);
    if (cfg->kill_cgroup.n > 0 &&
        read_pid_file(ws->proc_fd, v->pid, "cgroup", buf, sizeof(buf)) >= 0) {
        /* the v2 path (cgroup.kill) first, then the v1 memory one */
        char v2[256] = "", v1[256] = "";
        mw_proc_cgroup_parse_buf(buf, false, v2, sizeof(v2));
        mw_proc_cgroup_parse_buf(buf, true, v1, sizeof(v1));
        if (v2[0] && strcmp(v2, "/") != 0 && mw_patterns_match(&cfg->kill_cgroup, v2, NULL)) {
            v->kill_cgroup = true;
            v->cgroup_v1 = false;
            snprintf(v->cgroup, sizeof(v->cgroup), "%s", v2);
        } else if (v1[0] && strcmp(v1, "/") != 0 && strcmp(v1, v2) != 0 &&
                   mw_patterns_match(&cfg->kill_cgroup, v1, NULL)) {
            v->kill_cgroup = true;
            v->cgroup_v1 = true;
            snprintf(v->cgroup, sizeof(v->cgroup), "%s", v1);
        }
    }
    char path[64];
    snprintf(path, sizeof(path), "%d/stat", v->pid);
    v->stat_fd = openat(ws->proc_fd, path, O_RDONLY | O_CLOEXEC);
}

/* ---- runaways ---------------------------------------------------------- */

#define RUNAWAY_MAX 4096 /* candidates the runaway pass looks at */

struct rcand {
    int pid, ppid, adj;
    uint64_t start, kb;
    double age_s;
    char comm[64];
};

static int rcand_cmp(const void *pa, const void *pb)
{
    const struct rcand *a = pa, *b = pb;
    if (a->ppid != b->ppid)
        return a->ppid < b->ppid ? -1 : 1;
    if (a->adj != b->adj)
        return a->adj < b->adj ? -1 : 1;
    int c = strcmp(a->comm, b->comm);
    if (c)
        return c;
    return a->start < b->start ? -1 : a->start > b->start;
}

static bool young(const struct rcand *c)
{
    return c->ppid > 1 && c->age_s <= MW_GROUP_AGE_S;
}

static bool same_family(const struct rcand *a, const struct rcand *b)
{
    return young(a) && young(b) && a->ppid == b->ppid && a->adj == b->adj &&
           strcmp(a->comm, b->comm) == 0;
}

/* Seconds since boot from ROOT/proc/uptime, or -1. */
static double uptime_s(const struct mw_scan_ws *ws)
{
    char buf[128];
    int fd = openat(ws->proc_fd, "uptime", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = mw_pread_all(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    double up = strtod(buf, &end);
    return end == buf || up < 0 ? -1 : up;
}

/* Looks among the N collected candidates for the largest runaway unit at
 * FLOOR or above (see victim.h). Returns 1 with OUT filled, 0 if none. */
static int choose_runaway(struct mw_scan_ws *ws, const struct mw_config *cfg,
                          const struct mw_choice *c, int floor, size_t n, struct mw_victim *out)
{
    static struct rcand rc[RUNAWAY_MAX];
    double up = uptime_s(ws);
    if (up < 0)
        return 0;
    size_t m = 0;
    for (size_t i = 0; i < n && m < RUNAWAY_MAX; i++) {
        if (ws->adj[i] < floor)
            continue;
        struct mw_victim v;
        if (detail(ws, cfg, c->pen, c->now_ms, ws->pid[i], ws->adj[i], &v) < 0 || v.eff_adj < floor)
            continue;
        read_status(ws, &v);
        struct rcand *r = &rc[m++];
        r->pid = v.pid;
        r->ppid = v.ppid;
        r->adj = v.adj;
        r->start = v.starttime;
        r->kb = v.rss_kb + v.swap_kb;
        r->age_s = up - (double)v.starttime / (double)ws->hz;
        snprintf(r->comm, sizeof(r->comm), "%s", v.comm);
    }
    qsort(rc, m, sizeof(rc[0]), rcand_cmp);
    uint64_t min_kb = c->total_kb / 16;
    double fill_s = (double)cfg->runaway_fill_ms / 1000.0;
    size_t best = 0, best_end = 0;
    uint64_t best_kb = 0;
    for (size_t i = 0; i < m;) {
        size_t end = i + 1;
        uint64_t kb = rc[i].kb;
        double age = rc[i].age_s;
        while (end < m && same_family(&rc[i], &rc[end])) {
            kb += rc[end].kb;
            if (rc[end].age_s > age)
                age = rc[end].age_s;
            end++;
        }
        if (age < 1)
            age = 1; /* a process of a few ms says nothing about a rate yet */
        bool runaway = kb >= min_kb && (double)kb / age * fill_s >= (double)c->total_kb;
        if (runaway && kb > best_kb) {
            best = i;
            best_end = end;
            best_kb = kb;
        }
        i = end;
    }
    if (best_kb == 0)
        return 0;
    /* The largest member stands for the unit (its log line, its pidfd);
     * the others are killed with it. */
    size_t lead = best;
    double age = 1;
    for (size_t i = best; i < best_end; i++) {
        if (rc[i].kb > rc[lead].kb)
            lead = i;
        if (rc[i].age_s > age)
            age = rc[i].age_s;
    }
    if (detail(ws, cfg, c->pen, c->now_ms, rc[lead].pid, rc[lead].adj, out) < 0)
        return 0;
    finish(ws, cfg, out);
    if (out->stat_fd < 0)
        return 0;
    out->runaway = true;
    out->unit_kb = best_kb;
    out->growth_kb_s = (uint64_t)((double)best_kb / age);
    for (size_t i = best; i < best_end && out->group_n < MW_VICTIM_GROUP; i++) {
        if (i == lead)
            continue;
        out->group_pid[out->group_n] = rc[i].pid;
        out->group_start[out->group_n] = rc[i].start;
        out->group_n++;
    }
    return 1;
}

int mw_victim_choose(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                     struct mw_victim *out)
{
    size_t n = 0;
    ws->scanned = ws->detailed = 0;
    int min_adj = c->min_adj;
    const struct mw_penalties *pen = c->pen;
    uint64_t now_ms = c->now_ms;
    int rc = collect(ws, min_adj, &n);
    if (rc < 0)
        return rc;
    if (cfg->runaway_fill_ms > 0 && c->total_kb > 0) {
        int floor = min_adj > cfg->runaway_min_adj ? min_adj : cfg->runaway_min_adj;
        if (choose_runaway(ws, cfg, c, floor, n, out) > 0)
            return 1;
    }
    if (c->runaway_only)
        return 0;
    /* Without prefer/avoid patterns a level is one adj value; with them a
     * process up to two shifts below the top may still win. */
    int span = 0;
    if (cfg->prefer.n > 0 || cfg->avoid.n > 0)
        span = 2 * cfg->pattern_adj_shift;
    if (pen && pen->n > 0)
        span += cfg->loop_protect_adj;
    int upper = INT_MAX; /* levels at or above this are done */
    for (;;) {
        int top = INT_MIN;
        for (size_t i = 0; i < n; i++)
            if (ws->adj[i] < upper && ws->adj[i] > top)
                top = ws->adj[i];
        if (top == INT_MIN)
            return 0;
        int low = top - span;
        bool found = false;
        struct mw_victim best, cand;
        for (size_t i = 0; i < n; i++) {
            if (ws->adj[i] < low || ws->adj[i] >= upper)
                continue;
            if (detail(ws, cfg, pen, now_ms, ws->pid[i], ws->adj[i], &cand) < 0)
                continue;
            if (!found || better(cfg, &cand, &best)) {
                best = cand;
                found = true;
            }
        }
        if (found) {
            finish(ws, cfg, &best);
            if (best.stat_fd < 0)
                continue; /* it died meanwhile: choose again */
            *out = best;
            return 1;
        }
        upper = low;
    }
}
