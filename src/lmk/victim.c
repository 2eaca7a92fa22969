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

int mw_scan_ws_init(struct mw_scan_ws *ws, const struct mw_root *root, int scope_dir_fd, size_t cap)
{
    memset(ws, 0, sizeof(*ws));
    ws->proc_fd = -1;
    ws->scope_dir_fd = scope_dir_fd;
    ws->pid = calloc(cap, sizeof(int));
    ws->adj = calloc(cap, sizeof(int));
    ws->fp = calloc(MW_FP_CACHE, sizeof(*ws->fp));
    ws->sd = calloc(1, sizeof(*ws->sd));
    if (!ws->pid || !ws->adj || !ws->fp || !ws->sd) {
        mw_scan_ws_free(ws);
        return -ENOMEM;
    }
    ws->cap = cap;
    ws->proc_fd = openat(root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ws->proc_fd < 0) {
        int e = -errno;
        mw_scan_ws_free(ws);
        return e;
    }
    ws->self_pid = (int)getpid();
    mw_sd_init(ws->sd, root);
    ws->page_kb = root->page_size >= 1024 ? (unsigned)(root->page_size / 1024) : 4;
    ws->hz = sysconf(_SC_CLK_TCK);
    if (ws->hz <= 0)
        ws->hz = 100;
    return 0;
}

void mw_scan_ws_free(struct mw_scan_ws *ws)
{
    free(ws->pid);
    free(ws->adj);
    free(ws->fp);
    if (ws->sd)
        mw_sd_free(ws->sd);
    free(ws->sd);
    ws->pid = ws->adj = NULL;
    ws->fp = NULL;
    ws->sd = NULL;
    if (ws->proc_fd >= 0)
        close(ws->proc_fd);
    ws->proc_fd = -1;
}

static int read_adj(int proc_fd, int pid, int *adj)
{
    char buf[32];
    if (mw_proc_read_pid_file(proc_fd, pid, "oom_score_adj", buf, sizeof(buf)) < 0)
        return -1;
    return mw_proc_adj_parse_buf(adj, buf);
}

/* ---- the footprint cache ------------------------------------------------ */

/* Drops every entry (a full table: the cheapest way to lose the dead). */
static void fp_wipe(struct mw_scan_ws *ws)
{
    if (ws->fp)
        memset(ws->fp, 0, MW_FP_CACHE * sizeof(*ws->fp));
    ws->fp_used = 0;
}

void mw_victim_forget(struct mw_scan_ws *ws)
{
    for (size_t i = 0; ws->fp && i < MW_FP_CACHE; i++) {
        ws->fp[i].adj_ms = 0;
        ws->fp[i].detailed = false; /* the growth history (kb, prev_kb) stays */
    }
}

/* The entry of PID, made when new (NULL without a cache). A table three
 * quarters full is wiped first: the cheapest way to drop the entries of
 * processes that are gone. */
static struct mw_fp *fp_slot(struct mw_scan_ws *ws, int pid)
{
    if (!ws->fp)
        return NULL;
    if (ws->fp_used >= MW_FP_CACHE * 3 / 4)
        fp_wipe(ws);
    size_t i = ((size_t)pid * 2654435761u) & (MW_FP_CACHE - 1);
    while (ws->fp[i].pid != 0 && ws->fp[i].pid != pid)
        i = (i + 1) & (MW_FP_CACHE - 1);
    if (ws->fp[i].pid == 0) {
        memset(&ws->fp[i], 0, sizeof(ws->fp[i]));
        ws->fp[i].pid = pid;
        ws->fp_used++;
    }
    return &ws->fp[i];
}

static bool fresh(uint64_t then_ms, uint64_t now_ms)
{
    return then_ms != 0 && now_ms >= then_ms && now_ms - then_ms < MW_FP_FRESH_MS;
}

/* The adj of PID: from the cache when read less than MW_FP_FRESH_MS ago
 * (FORCE: always read), else from its file. Counts the layout. */
static int get_adj(struct mw_scan_ws *ws, int pid, uint64_t now_ms, bool force, int *adj)
{
    struct mw_fp *e = fp_slot(ws, pid);
    if (e && !force && fresh(e->adj_ms, now_ms)) {
        *adj = e->adj;
    } else {
        ws->adj_read++;
        if (read_adj(ws->proc_fd, pid, adj) < 0)
            return -1;
        if (e) {
            if (e->adj != *adj)
                e->detailed = false; /* eff_adj follows adj */
            e->adj = *adj;
            e->adj_ms = now_ms ? now_ms : 1;
        }
    }
    if (*adj > 0) {
        if (ws->pos_n++ == 0)
            ws->pos_first = *adj;
        else if (*adj != ws->pos_first)
            ws->pos_two = true;
    }
    return 0;
}

bool mw_scan_adj_flat(const struct mw_scan_ws *ws)
{
    return ws->pos_n < 3 || !ws->pos_two || (ws->sd && ws->sd->booted);
}

/* Excluded by the choice, or -- choosing -- kept (sdunit.h) and known to
 * be: omitted, or spared until the last line outside this pass's licence. */
static bool excluded(const struct mw_scan_ws *ws, const struct mw_choice *c, int pid)
{
    for (int i = 0; i < c->exclude_n; i++)
        if (c->exclude[i] == pid)
            return true;
    if (!ws->choosing || !ws->sd)
        return false;
    enum mw_keep k = mw_sd_known(ws->sd, pid, c->now_ms);
    return k == MW_KEEP_OMIT || (k != MW_KEEP_NONE && !ws->keep_ok);
}

/* One member PID of a scoped cgroup: a candidate unless it is init, the
 * daemon, gone, below the choice's min_adj, or excluded by it. */
struct member_ctx {
    struct mw_scan_ws *ws;
    const struct mw_choice *c;
    bool force;
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
    if (v <= 1 || v > INT_MAX || (int)v == ws->self_pid ||
        get_adj(ws, (int)v, m->c->now_ms, m->force, &adj) < 0)
        return 0;
    if (adj < m->c->min_adj || adj == -1000 || excluded(ws, m->c, (int)v))
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
static int collect_cgroup(struct mw_scan_ws *ws, int dir_fd, int depth, const struct mw_choice *c,
                          bool force, size_t *n)
{
    static char dbuf[MAX_CG_DEPTH][4096];
    struct member_ctx m = {ws, c, force, n};
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
            collect_cgroup(ws, child, depth + 1, c, force, n);
            close(child);
        }
    }
    return 0;
}

/* Collects (pid, adj) of every candidate of C into the workspace (FORCE:
 * read every adj, none from the cache). */
static int collect(struct mw_scan_ws *ws, const struct mw_choice *c, bool force, size_t *count)
{
    size_t n = 0;
    ws->pos_n = 0;
    ws->pos_two = false;
    if (ws->scope_dir_fd >= 0) {
        int rc = collect_cgroup(ws, ws->scope_dir_fd, 0, c, force, &n);
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
            if (pid <= 1 || pid == ws->self_pid ||
                get_adj(ws, (int)pid, c->now_ms, force, &adj) < 0)
                continue;
            if (adj < c->min_adj || adj == -1000 || excluded(ws, c, (int)pid))
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
    long n = mw_proc_read_pid_file(ws->proc_fd, v->pid, "cmdline", v->cmdline, sizeof(v->cmdline));
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
    if (mw_proc_read_pid_file(ws->proc_fd, pid, "stat", buf, sizeof(buf)) < 0)
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
            v->penalized = true;
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
    if (mw_proc_read_pid_file(ws->proc_fd, v->pid, "status", buf, sizeof(buf)) < 0 ||
        mw_proc_status_parse_buf(&s, buf) < 0)
        return;
    v->uid = s.uid;
    v->swap_kb = s.vm_swap_kb;
    v->pte_kb = s.vm_pte_kb;
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
        mw_proc_read_pid_file(ws->proc_fd, v->pid, "cgroup", buf, sizeof(buf)) >= 0) {
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

/* ---- runaways, bursts and the flat order -------------------------------- */

#define RUNAWAY_MAX 4096 /* candidates the runaway pass looks at */

struct rcand {
    int pid, adj, eff_adj, ppid;
    uid_t uid;
    uint32_t comm_hash;
    uint64_t start, kb;
    double age_s;
    double rate_kb_s; /* growth: two-sample when have_rate, else average since start */
    bool have_rate;
    bool grew;   /* grown by 1/64 (at least 256 kB) since first sampled */
    bool member; /* may join a burst (mark_members) */
    /* in a kill-restart loop (a penalty): never a runaway. The penalty is
     * an adj shift, and the runaway pass passes over the adj order: it
     * held only when the shift put the program under the runaway floor,
     * never on a flat layout (floor min_adj), while each restart grows
     * from nothing, fast -- a runaway again at every copy. */
    bool penalized;
};

/* Seconds since boot from ROOT/proc/uptime, or -1. */
static double uptime_s(const struct mw_scan_ws *ws)
{
    char buf[128];
    if (mw_read_small_at(ws->proc_fd, "uptime", buf, sizeof(buf)) <= 0)
        return -1;
    char *end;
    double up = strtod(buf, &end);
    return end == buf || up < 0 ? -1 : up;
}

/* FNV-1a of a process name. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Reads PID's stat and status into its cache entry E: a new footprint
 * sample (the previous one kept for the rate when at least
 * MW_FP_RATE_MIN_MS older, or when the process is another one now). */
static void fp_sample(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                      struct mw_fp *e, int adj)
{
    struct mw_victim v;
    uint64_t now = c->now_ms ? c->now_ms : 1;
    bool ok = detail(ws, cfg, c->pen, c->now_ms, e->pid, adj, &v) == 0;
    /* a protected process's swap is owned too (mw_victim_swap_kb) */
    bool alive = ok || v.starttime != 0;
    if (alive)
        read_status(ws, &v);
    e->swap_kb = alive ? v.swap_kb : 0;
    e->swap_ms = now;
    if (!ok || v.starttime != e->start || e->ms == 0) {
        e->prev_ms = e->ms = 0; /* new, gone, or another process under this pid */
        e->first_kb = ok ? v.rss_kb + v.swap_kb + v.pte_kb : 0;
        e->start = ok ? v.starttime : 0;
    }
    e->detailed = true;
    e->killable = ok;
    if (!ok)
        return;
    e->eff_adj = v.eff_adj;
    e->penalized = v.penalized;
    e->ppid = v.ppid;
    e->uid = v.uid;
    e->comm_hash = name_hash(v.comm);
    uint64_t kb = v.rss_kb + v.swap_kb + v.pte_kb;
    if (e->ms == 0 || now - e->ms >= MW_FP_RATE_MIN_MS) {
        e->prev_kb = e->kb;
        e->prev_ms = e->ms;
    }
    e->kb = kb;
    e->ms = now;
}

/* The candidates at FLOOR or above as runaway candidates, from the cache
 * when fresh, else sampled now. Returns their number. */
static size_t gather(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                     int floor, size_t n, double up, struct rcand *rc)
{
    size_t m = 0;
    for (size_t i = 0; i < n && m < RUNAWAY_MAX; i++) {
        if (ws->adj[i] < floor)
            continue;
        struct mw_fp *e = fp_slot(ws, ws->pid[i]), tmp;
        if (!e) {
            memset(&tmp, 0, sizeof(tmp));
            tmp.pid = ws->pid[i];
            e = &tmp;
        }
        if (!e->detailed || !fresh(e->ms, c->now_ms))
            fp_sample(ws, cfg, c, e, ws->adj[i]);
        if (!e->killable || e->eff_adj < floor)
            continue;
        struct rcand *r = &rc[m++];
        r->pid = e->pid;
        r->adj = ws->adj[i];
        r->eff_adj = e->eff_adj;
        r->penalized = e->penalized;
        r->ppid = e->ppid;
        r->uid = e->uid;
        r->comm_hash = e->comm_hash;
        r->start = e->start;
        r->kb = e->kb;
        r->age_s = up - (double)e->start / (double)ws->hz;
        r->have_rate = e->prev_ms != 0 && e->ms > e->prev_ms;
        uint64_t step = e->first_kb / 64 > 256 ? e->first_kb / 64 : 256;
        r->grew = e->kb >= e->first_kb + step;
        if (r->have_rate)
            r->rate_kb_s = e->kb > e->prev_kb ? (double)(e->kb - e->prev_kb) * 1000.0 /
                                                    (double)(e->ms - e->prev_ms)
                                              : 0;
        else
            r->rate_kb_s = (double)e->kb / (r->age_s < 1 ? 1 : r->age_s);
    }
    return m;
}

static int by_adj_start(const void *pa, const void *pb)
{
    const struct rcand *a = pa, *b = pb;
    if (a->adj != b->adj)
        return a->adj < b->adj ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* May C join a burst: growing between two samples, or (no samples yet)
 * young enough for its average to mean a storm. */
static bool burstable(const struct rcand *c)
{
    return c->have_rate ? c->rate_kb_s > 0 || c->grew : c->age_s <= MW_GROUP_AGE_S;
}

/* Marks the candidates that may join a burst: the burstable ones, and
 * young siblings of a burstable one that stopped growing (same parent,
 * uid and name: a storm's worker that reached its size before the first
 * sample) and hold at least 1/MW_SIBLING_DIV of the largest burstable
 * sibling: a storm's workers are alike, while a browser's idle renderers
 * (4-7 MiB) beside the one tab that grows (140 MiB and more) are no storm
 * -- in the distro bed's d05 eleven of them died with the tab. One pass
 * over a small hash set of the burstable ones' keys and largest sizes. */
#define MW_SIBLING_DIV 2
#define SIB_SLOTS      (2 * RUNAWAY_MAX) /* a power of 2 */
static uint64_t sib_key(const struct rcand *c)
{
    uint64_t k = ((uint64_t)(uint32_t)c->ppid << 32 | c->comm_hash) ^
                 ((uint64_t)c->uid * 0x9e3779b97f4a7c15u);
    return k ? k : 1;
}

/* The slot of key K in SET: where it is, or the empty one it would take. */
static size_t sib_slot(const uint64_t *set, uint64_t k)
{
    size_t h = (size_t)(k * 0x9e3779b97f4a7c15u >> 40) & (SIB_SLOTS - 1);
    while (set[h] && set[h] != k)
        h = (h + 1) & (SIB_SLOTS - 1);
    return h;
}

static void mark_members(struct rcand *rc, size_t m)
{
    static uint64_t set[SIB_SLOTS], set_kb[SIB_SLOTS];
    memset(set, 0, sizeof(set));
    memset(set_kb, 0, sizeof(set_kb));
    for (size_t i = 0; i < m; i++) {
        rc[i].member = burstable(&rc[i]);
        if (!rc[i].member)
            continue;
        uint64_t k = sib_key(&rc[i]);
        size_t h = sib_slot(set, k);
        set[h] = k;
        if (rc[i].kb > set_kb[h])
            set_kb[h] = rc[i].kb;
    }
    for (size_t i = 0; i < m; i++) {
        if (rc[i].member || rc[i].age_s > MW_GROUP_AGE_S)
            continue;
        uint64_t k = sib_key(&rc[i]);
        size_t h = sib_slot(set, k);
        rc[i].member = set[h] == k && rc[i].kb * MW_SIBLING_DIV >= set_kb[h];
    }
}

struct unit {
    size_t begin, end; /* rc[begin..end) after the sort; a single: end = begin + 1 */
    uint64_t kb;
    double rate_kb_s;
};

/* Is U a runaway: at least 1/16 of the total, growing fast enough to fill
 * it within runaway_fill_ms. */
static bool is_runaway(const struct mw_config *cfg, const struct mw_choice *c, const struct unit *u)
{
    double fill_s = (double)cfg->runaway_fill_ms / 1000.0;
    return u->kb >= c->total_kb / 16 && u->rate_kb_s * fill_s >= (double)c->total_kb;
}

/* The largest runaway unit among RC[0..M) (sorted by adj and start):
 * single processes and bursts. Returns true with BEST filled. */
static bool best_unit(const struct mw_config *cfg, const struct mw_choice *c, long hz, int floor,
                      const struct rcand *rc, size_t m, struct unit *best)
{
    bool found = false;
    uint64_t span = (uint64_t)MW_BURST_SPAN_S * (uint64_t)hz;
    for (size_t i = 0; i < m;) {
        if (rc[i].eff_adj < floor || rc[i].penalized) {
            i++;
            continue;
        }
        struct unit u = {i, i + 1, rc[i].kb, rc[i].rate_kb_s};
        if (is_runaway(cfg, c, &u) && (!found || u.kb > best->kb)) {
            *best = u;
            found = true;
        }
        /* a burst from here: same adj, each member started within the span
         * of the member before it (a loop starting workers one by one),
         * growing */
        size_t end = i + 1;
        if (rc[i].member) {
            struct unit b = u;
            size_t last = i;
            for (size_t j = i + 1; j < m && rc[j].adj == rc[i].adj; j++) {
                if (rc[j].start - rc[last].start > span)
                    break;
                end = j + 1;
                if (!rc[j].member || rc[j].eff_adj < floor || rc[j].penalized)
                    continue;
                last = j;
                b.kb += rc[j].kb;
                b.rate_kb_s += rc[j].have_rate ? rc[j].rate_kb_s : 0;
                b.end = j + 1;
            }
            if (!rc[i].have_rate) /* averages: the burst's footprint over its oldest's age */
                b.rate_kb_s = (double)b.kb / (rc[i].age_s < 1 ? 1 : rc[i].age_s);
            if (b.end > i + 1 && is_runaway(cfg, c, &b) && (!found || b.kb > best->kb)) {
                *best = b;
                found = true;
            }
        }
        i = end > i + 1 ? end : i + 1;
    }
    return found;
}

/* Fills OUT for the unit U of RC: its largest member stands for it (the
 * log line, the pidfd), the others are killed with it. Returns 1, or 0
 * when that member is gone. */
static int unit_victim(struct mw_scan_ws *ws, const struct mw_config *cfg,
                       const struct mw_choice *c, int floor, const struct rcand *rc,
                       const struct unit *u, struct mw_victim *out)
{
    size_t lead = u->begin;
    for (size_t i = u->begin; i < u->end; i++)
        if (rc[i].kb > rc[lead].kb && rc[i].eff_adj >= floor && !rc[i].penalized &&
            burstable(&rc[i]))
            lead = i;
    if (detail(ws, cfg, c->pen, c->now_ms, rc[lead].pid, rc[lead].adj, out) < 0)
        return 0;
    finish(ws, cfg, out);
    if (out->stat_fd < 0)
        return 0;
    out->runaway = true;
    out->unit_kb = u->kb;
    out->growth_kb_s = (uint64_t)u->rate_kb_s;
    for (size_t i = u->begin; i < u->end && out->group_n < MW_VICTIM_GROUP; i++) {
        if (i == lead || !rc[i].member || rc[i].eff_adj < floor || rc[i].penalized)
            continue;
        out->group_pid[out->group_n] = rc[i].pid;
        out->group_start[out->group_n] = rc[i].start;
        out->group_n++;
    }
    out->burst = out->group_n > 0;
    return 1;
}

/* The kernel's oom_badness over RC (kB): footprint plus eff_adj x total
 * / 1000 (mm/oom_kill.c: points += adj * totalpages / 1000). */
static int64_t badness(const struct mw_choice *c, const struct rcand *r)
{
    return (int64_t)r->kb + (int64_t)r->eff_adj * (int64_t)(c->total_kb / 1000);
}

/* Flat order: the most points first; ties: the larger footprint, then
 * the older process. Returns 1 with OUT filled, 0 if nobody. */
static int choose_flat(struct mw_scan_ws *ws, const struct mw_config *cfg,
                       const struct mw_choice *c, struct rcand *rc, size_t m, struct mw_victim *out)
{
    for (;;) {
        size_t best = m;
        for (size_t i = 0; i < m; i++) {
            if (rc[i].pid == 0)
                continue;
            if (best == m || badness(c, &rc[i]) > badness(c, &rc[best]) ||
                (badness(c, &rc[i]) == badness(c, &rc[best]) &&
                 (rc[i].kb > rc[best].kb ||
                  (rc[i].kb == rc[best].kb && rc[i].start < rc[best].start))))
                best = i;
        }
        if (best == m)
            return 0;
        if (detail(ws, cfg, c->pen, c->now_ms, rc[best].pid, rc[best].adj, out) == 0) {
            finish(ws, cfg, out);
            if (out->stat_fd >= 0)
                return 1;
        }
        rc[best].pid = 0; /* gone meanwhile: the next */
    }
}

static struct rcand rcands[RUNAWAY_MAX];

/* The runaway pass (and, flat, the badness order) over the N collected
 * candidates. Returns 1 with OUT filled, 0 if none. */
static int choose_detailed(struct mw_scan_ws *ws, const struct mw_config *cfg,
                           const struct mw_choice *c, size_t n, struct mw_victim *out)
{
    double up = uptime_s(ws);
    bool runaways = cfg->runaway_fill_ms > 0 && c->total_kb > 0 && up >= 0;
    int floor = c->min_adj;
    if (!c->runaway_any_adj && cfg->runaway_min_adj > floor)
        floor = cfg->runaway_min_adj;
    if (c->flat)
        floor = c->min_adj; /* every candidate: the badness order needs them all */
    if (!runaways && !c->flat)
        return 0;
    size_t m = gather(ws, cfg, c, floor, n, up < 0 ? 0 : up, rcands);
    qsort(rcands, m, sizeof(rcands[0]), by_adj_start);
    mark_members(rcands, m);
    struct unit u = {0, 0, 0, 0};
    int rfloor = c->runaway_any_adj ? c->min_adj : cfg->runaway_min_adj;
    if (runaways) {
        /* in flat mode the floor was lowered for the order: runaways keep theirs */
        if (best_unit(cfg, c, ws->hz, rfloor, rcands, m, &u) &&
            unit_victim(ws, cfg, c, rfloor, rcands, &u, out) > 0)
            return 1;
    }
    if (c->flat && !c->runaway_only)
        return choose_flat(ws, cfg, c, rcands, m, out);
    return 0;
}

/* lmkd's order: the highest level first; within it the heaviest or the
 * most recently started. Returns 1 with OUT filled, 0 if nobody. */
static int choose_levels(struct mw_scan_ws *ws, const struct mw_config *cfg,
                         const struct mw_choice *c, size_t n, struct mw_victim *out)
{
    /* Without prefer/avoid patterns a level is one adj value; with them a
     * process up to two shifts below the top may still win. */
    int span = 0;
    if (cfg->prefer.n > 0 || cfg->avoid.n > 0)
        span = 2 * cfg->pattern_adj_shift;
    if (c->pen && c->pen->n > 0)
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
            if (detail(ws, cfg, c->pen, c->now_ms, ws->pid[i], ws->adj[i], &cand) < 0)
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

/* The chosen victim's adj read again when the choice used the cache's:
 * true when it still may die. */
static bool adj_holds(struct mw_scan_ws *ws, const struct mw_choice *c, struct mw_victim *v)
{
    int adj;
    if (get_adj(ws, v->pid, c->now_ms, true, &adj) < 0)
        return false;
    if (adj == v->adj)
        return true;
    return adj >= c->min_adj && adj != -1000 && (v->adj = adj, true);
}

/* One pass of the choice (the layout's order, runaways first). */
static int choose_pass(struct mw_scan_ws *ws, const struct mw_config *cfg,
                       const struct mw_choice *c, struct mw_victim *out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t n = 0;
        ws->scanned = ws->detailed = ws->adj_read = 0;
        int rc = collect(ws, c, attempt > 0, &n);
        if (rc < 0)
            return rc;
        rc = choose_detailed(ws, cfg, c, n, out);
        if (rc == 0 && !c->runaway_only && !c->flat)
            rc = choose_levels(ws, cfg, c, n, out);
        if (rc <= 0)
            return rc;
        if (adj_holds(ws, c, out))
            return 1;
        close(out->stat_fd); /* its adj moved under the floor: choose again, reading all */
    }
    return 0;
}

/* Reads what systemd says of the chosen V (sdunit.h): its unit, and
 * whether it is kept. True when it may die in this pass; then its group
 * keeps only the members that may too. */
static bool sd_allows(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                      struct mw_victim *v)
{
    struct mw_match_facts f = {.tried = 0};
    struct mw_sd_facts sf;
    if (mw_sd_facts_read(ws->sd, ws->proc_fd, v->pid, v->starttime, cfg->oomd_preference, c->now_ms,
                         &f, &sf) < 0)
        return true; /* no cgroup to read: nothing systemd says */
    snprintf(v->unit, sizeof(v->unit), "%s", mw_cgunit_name(&sf.unit));
    v->keep = sf.keep;
    snprintf(v->keep_why, sizeof(v->keep_why), "%s", sf.why);
    if (sf.keep == MW_KEEP_OMIT || (sf.keep != MW_KEEP_NONE && !ws->keep_ok))
        return false;
    int kept = 0;
    for (int i = 0; i < v->group_n; i++) {
        struct mw_match_facts g = {.tried = 0};
        if (mw_sd_facts_read(ws->sd, ws->proc_fd, v->group_pid[i], v->group_start[i],
                             cfg->oomd_preference, c->now_ms, &g, &sf) == 0 &&
            (sf.keep == MW_KEEP_OMIT || (sf.keep != MW_KEEP_NONE && !ws->keep_ok)))
            continue;
        v->group_pid[kept] = v->group_pid[i];
        v->group_start[kept++] = v->group_start[i];
    }
    v->group_n = kept;
    v->burst = kept > 0;
    return true;
}

/* A pass that skips the kept ones it meets: a chosen one that is kept is
 * remembered (sdunit.h) and the pass runs again without it, at most
 * MW_SD_RECHOOSE times (each pass meets at most one new kept process). */
#define MW_SD_RECHOOSE 16
static int choose_unkept(struct mw_scan_ws *ws, const struct mw_config *cfg,
                         const struct mw_choice *c, struct mw_victim *out)
{
    for (int i = 0; i < MW_SD_RECHOOSE; i++) {
        int rc = choose_pass(ws, cfg, c, out);
        if (rc <= 0 || sd_allows(ws, cfg, c, out))
            return rc;
        close(out->stat_fd);
    }
    return 0;
}

/* The census check of one process in a runaway's unit that is not the
 * runaway's (mw_sd_census): 1 when it may die with the unit (KB: its
 * footprint), 0 when not, -1 when gone. */
struct census_ctx {
    struct mw_scan_ws *ws;
    const struct mw_config *cfg;
    const struct mw_choice *c;
};

static int census_check(void *arg, int pid, uint64_t *kb)
{
    struct census_ctx *x = arg;
    struct mw_scan_ws *ws = x->ws;
    int adj;
    if (pid <= 1 || pid == ws->self_pid)
        return 0;
    if (read_adj(ws->proc_fd, pid, &adj) < 0)
        return -1;
    struct mw_victim v;
    if (adj == -1000 || detail(ws, x->cfg, x->c->pen, x->c->now_ms, pid, adj, &v) < 0)
        return adj == -1000 || v.starttime != 0 ? 0 : -1; /* protected, or gone */
    struct mw_match_facts f = {.tried = 0};
    struct mw_sd_facts sf;
    if (mw_sd_facts_read(ws->sd, ws->proc_fd, pid, v.starttime, x->cfg->oomd_preference,
                         x->c->now_ms, &f, &sf) == 0 &&
        sf.keep != MW_KEEP_NONE)
        return 0;
    read_status(ws, &v);
    *kb = v.rss_kb + v.swap_kb + v.pte_kb;
    return 1;
}

/* A runaway that is its unit as a whole (mw_policy_unit_whole): its
 * unit's cgroup is what dies. */
static void unit_whole(struct mw_scan_ws *ws, const struct mw_config *cfg,
                       const struct mw_choice *c, struct mw_victim *v)
{
    struct mw_match_facts f = {.tried = 0};
    struct mw_sd_facts sf;
    if (!cfg->kill_units || !v->runaway || v->kill_cgroup ||
        mw_sd_facts_read(ws->sd, ws->proc_fd, v->pid, v->starttime, cfg->oomd_preference, c->now_ms,
                         &f, &sf) < 0 ||
        sf.unit.type == MW_UNIT_NONE || sf.unit.unit_len >= sizeof(v->cgroup))
        return;
    char path[sizeof(v->cgroup)];
    memcpy(path, sf.path, sf.unit.unit_len);
    path[sf.unit.unit_len] = '\0';
    int members[MW_VICTIM_GROUP + 1];
    int n = 0;
    members[n++] = v->pid;
    for (int i = 0; i < v->group_n; i++)
        members[n++] = v->group_pid[i];
    struct census_ctx x = {ws, cfg, c};
    struct mw_unit_census census;
    if (mw_sd_census(ws->sd, path, members, n, census_check, &x, &census) < 0 ||
        !mw_policy_unit_whole(&sf.unit, &census, n, v->unit_kb))
        return;
    v->kill_cgroup = v->unit_whole = true;
    v->cgroup_v1 = false;
    snprintf(v->cgroup, sizeof(v->cgroup), "%s", path);
}

int mw_victim_choose(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                     struct mw_victim *out)
{
    ws->choosing = true;
    ws->keep_ok = false;
    int rc = choose_unkept(ws, cfg, c, out);
    if (rc == 0 && c->last_line) {
        ws->keep_ok = true; /* nobody else is left: the kept ones, omit never */
        rc = choose_unkept(ws, cfg, c, out);
        ws->keep_ok = false;
    }
    ws->choosing = false;
    if (rc > 0)
        unit_whole(ws, cfg, c, out);
    return rc;
}

int64_t mw_victim_swap_kb(const struct mw_scan_ws *ws)
{
    if (!ws->fp || ws->refresh_ms == 0)
        return -1;
    uint64_t sum = 0;
    for (size_t i = 0; i < MW_FP_CACHE; i++)
        if (ws->fp[i].pid && ws->fp[i].swap_ms == ws->refresh_ms)
            sum += ws->fp[i].swap_kb;
    return (int64_t)sum;
}

int mw_victim_refresh(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c)
{
    size_t n = 0;
    ws->scanned = ws->detailed = ws->adj_read = 0;
    int rc = collect(ws, c, true, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct mw_fp *e = fp_slot(ws, ws->pid[i]);
        if (e)
            fp_sample(ws, cfg, c, e, ws->adj[i]);
    }
    ws->refresh_ms = c->now_ms ? c->now_ms : 1;
    return (int)n;
}
