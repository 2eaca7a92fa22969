#include "lmk/victim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "model/procmatch.h"
#include "proc/cgroup.h"
#include "proc/procs.h"
#include "base/util.h"

#define PROC_SUPER_MAGIC_ 0x9fa0 /* linux/magic.h */

/* One refresh or choice: what its samples need, read once. */
struct pass {
    struct mw_scan_ws *ws;
    const struct mw_config *cfg;
    const struct mw_choice *c;
    uint64_t now;         /* c->now_ms, never 0 */
    double up;            /* seconds since boot (ROOT/proc/uptime), < 0 unknown ... */
    bool have_up;         /* ... once read */
    uint64_t deadline_us; /* CLOCK_MONOTONIC; 0: none */
};

static int fp_visit(struct pass *p, struct mw_fp *e);
static bool fp_tracked(const struct pass *p, const struct mw_fp *e);

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
    ws->proc_fd = ws->enum_fd = -1;
    ws->scope_dir_fd = scope_dir_fd;
    ws->pid = calloc(cap, sizeof(int));
    ws->adj = calloc(cap, sizeof(int));
    ws->sd = calloc(1, sizeof(*ws->sd));
    if (!ws->pid || !ws->adj || !ws->sd || mw_fpc_init(&ws->fpc) < 0) {
        mw_scan_ws_free(ws);
        return -ENOMEM;
    }
    ws->cap = cap;
    ws->proc_fd = openat(root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ws->proc_fd >= 0)
        ws->enum_fd = openat(ws->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ws->proc_fd < 0 || ws->enum_fd < 0) {
        int e = -errno;
        mw_scan_ws_free(ws);
        return e;
    }
    struct statfs sf;
    ws->fpc.check_links = fstatfs(ws->proc_fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC_;
    ws->self_pid = (int)getpid();
    mw_sd_init(ws->sd, root);
    ws->page_kb = root->page_size >= 1024 ? (unsigned)(root->page_size / 1024) : 4;
    ws->hz = sysconf(_SC_CLK_TCK);
    if (ws->hz <= 0)
        ws->hz = 100;
    ws->cycle_min_adj = ws->count_min_adj = INT32_MAX;
    ws->load_pid = ws->load_tasks = ws->enum_done_pid = -1;
    ws->forced = true;
    return 0;
}

void mw_scan_ws_free(struct mw_scan_ws *ws)
{
    free(ws->pid);
    free(ws->adj);
    ws->pid = ws->adj = NULL;
    mw_fpc_free(&ws->fpc);
    if (ws->sd)
        mw_sd_free(ws->sd);
    free(ws->sd);
    ws->sd = NULL;
    if (ws->proc_fd >= 0)
        close(ws->proc_fd);
    if (ws->enum_fd >= 0)
        close(ws->enum_fd);
    ws->proc_fd = ws->enum_fd = -1;
}

/* ---- the cache's adj ---------------------------------------------------- */

static bool fresh(uint64_t then_ms, uint64_t now_ms, uint64_t life_ms)
{
    return then_ms != 0 && now_ms >= then_ms && now_ms - then_ms < life_ms;
}

/* Counts ADJ into the layout of the scan (mw_scan_adj_flat). */
static void count_layout(struct mw_scan_ws *ws, int adj)
{
    if (adj <= 0)
        return;
    if (ws->pos_n++ == 0)
        ws->pos_first = adj;
    else if (adj != ws->pos_first)
        ws->pos_two = true;
}

/* Reads E's adj (its held descriptor, or the file): 0, or -1 when the
 * process is gone. A changed adj makes E's sample stale (its effective
 * adj follows). */
static int fp_read_adj(struct mw_scan_ws *ws, struct mw_fp *e, uint64_t now_ms, int *adj)
{
    ws->adj_read++;
    if (mw_fpc_adj_read(&ws->fpc, ws->proc_fd, e, adj) < 0)
        return -1;
    if (e->adj != *adj) {
        e->detailed = false;
        ws->layout_dirty = true;
    }
    e->adj = *adj;
    e->adj_ms = now_ms ? now_ms : 1;
    e->enum_no = ws->enum_no;
    return 0;
}

/* PID's oom_score_adj read once (opened, read, closed): 0, or -1 when
 * it is gone. */
static int read_adj(int proc_fd, int pid, int *adj)
{
    char buf[32];
    if (mw_proc_read_pid_file(proc_fd, pid, "oom_score_adj", buf, sizeof(buf)) < 0)
        return -1;
    return mw_proc_adj_parse_buf(adj, buf);
}

/* The adj of PID: from the cache when read less than MW_FP_FRESH_MS ago
 * (FORCE: always read), else read (an entry made for a new PID). Counts
 * the layout. Returns 0, or -1 when PID is gone. */
static int get_adj(struct mw_scan_ws *ws, int pid, uint64_t now_ms, bool force, int *adj)
{
    struct mw_fp *e = mw_fpc_find(&ws->fpc, pid);
    if (!e)
        e = mw_fpc_add(&ws->fpc, pid);
    if (!e) { /* the table is full: read it, remember nothing */
        ws->adj_read++;
        if (read_adj(ws->proc_fd, pid, adj) < 0)
            return -1;
    } else if (!force && fresh(e->adj_ms, now_ms, MW_FP_FRESH_MS)) {
        *adj = e->adj;
        e->enum_no = ws->enum_no;
    } else if (fp_read_adj(ws, e, now_ms, adj) < 0) {
        mw_fpc_drop(&ws->fpc, (size_t)(e - ws->fpc.e));
        return -1;
    }
    count_layout(ws, *adj);
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

/* Adds PID at ADJ to the candidates of C when it is one: not init, not
 * the daemon, at C->min_adj or above, not -1000, not excluded. */
static void candidate(struct mw_scan_ws *ws, const struct mw_choice *c, int pid, int adj, size_t *n)
{
    if (adj < c->min_adj || adj == -1000 || excluded(ws, c, pid) || *n >= ws->cap)
        return;
    ws->pid[*n] = pid;
    ws->adj[*n] = adj;
    (*n)++;
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
    candidate(ws, m->c, (int)v, adj, m->n);
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

/* A PID from a directory entry of ROOT/proc (0: not a process). */
static int dirent_pid(const struct linux_dirent64 *d)
{
    const char *s = d->d_name;
    if (*s < '1' || *s > '9')
        return 0;
    long pid = 0;
    for (; *s >= '0' && *s <= '9' && pid < INT_MAX / 10; s++)
        pid = pid * 10 + (*s - '0');
    return *s ? 0 : (int)pid;
}

/* /proc/loadavg's last PID and task count ("0.1 0.2 0.3 1/523 4242"):
 * a process started or gone since they were read moves one of them.
 * Returns 0, or -1 when the root has none (a captured tree). */
static int load_marks(const struct mw_scan_ws *ws, long *last_pid, long *tasks)
{
    char buf[128];
    if (mw_read_small_at(ws->proc_fd, "loadavg", buf, sizeof(buf)) <= 0)
        return -1;
    const char *p = strchr(buf, '/');
    char *end;
    if (!p)
        return -1;
    *tasks = strtol(p + 1, &end, 10);
    *last_pid = strtol(end, &end, 10);
    return end == p + 1 || *last_pid <= 0 ? -1 : 0;
}

/* Whether PID is a process (a thread group's leader), from its status:
 * ROOT/proc/TID answers for every thread too, though only leaders are
 * listed. */
static bool is_process(const struct mw_scan_ws *ws, long pid)
{
    char buf[4096];
    struct mw_proc_status s;
    return mw_proc_read_pid_file(ws->proc_fd, (int)pid, "status", buf, sizeof(buf)) > 0 &&
           mw_proc_status_parse_buf(&s, buf) == 0 && s.tgid == pid;
}

/* The processes started since the last look, by PID (victim.h,
 * MW_FP_PROBE_MAX): each gets an entry (its adj read and held), its first
 * sample too when SAMPLE (a refresh: a new process may be the next hog).
 * Returns true when the table now holds every process started since the
 * last complete enumeration; false when that cannot be told this way (the
 * PIDs wrapped or ran far, no loadavg): an enumeration must. */
static bool probe_births(struct pass *p, bool sample)
{
    struct mw_scan_ws *ws = p->ws;
    long last, tasks;
    if (ws->scope_dir_fd >= 0 || ws->enum_done_pid < 0 || load_marks(ws, &last, &tasks) < 0)
        return false;
    if (last < ws->enum_done_pid || last - ws->enum_done_pid > MW_FP_PROBE_MAX)
        return false;
    for (long pid = ws->enum_done_pid + 1; pid <= last; pid++) {
        struct mw_fp *e;
        int adj;
        if (pid == ws->self_pid || mw_fpc_find(&ws->fpc, (int)pid) || !is_process(ws, pid) ||
            !(e = mw_fpc_add(&ws->fpc, (int)pid)))
            continue;
        if (fp_read_adj(ws, e, p->now, &adj) < 0 ||
            (sample && fp_tracked(p, e) && fp_visit(p, e) < 0))
            mw_fpc_drop(&ws->fpc, (size_t)(e - ws->fpc.e)); /* gone already */
    }
    ws->enum_done_pid = last;
    return true;
}

/* Candidates from the cache alone, when every process started since the
 * last complete enumeration is in it (probe_births): the choice under
 * pressure then reads no directory of 5,000 entries. Those gone
 * meanwhile fail their adj read or their details. Returns true when it
 * could. */
static bool collect_cached(struct mw_scan_ws *ws, const struct mw_choice *c, bool force,
                           size_t *count)
{
    struct pass p = {.ws = ws, .c = c, .now = c->now_ms ? c->now_ms : 1};
    if (!probe_births(&p, false))
        return false;
    size_t n = 0;
    for (size_t i = 0; i < ws->fpc.n;) {
        struct mw_fp *e = &ws->fpc.e[i];
        int adj, pid = e->pid;
        if (pid <= 1 || pid == ws->self_pid) {
            i++;
            continue;
        }
        ws->scanned++;
        if (get_adj(ws, pid, c->now_ms, force, &adj) < 0)
            continue; /* gone: the entry was dropped, another one is at I */
        candidate(ws, c, pid, adj, &n);
        i++;
    }
    *count = n;
    return true;
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
    if (collect_cached(ws, c, force, count))
        return 0;
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
            int pid = dirent_pid(d), adj;
            if (pid == 0)
                continue;
            ws->scanned++;
            if (pid <= 1 || pid == ws->self_pid || get_adj(ws, pid, c->now_ms, force, &adj) < 0)
                continue;
            candidate(ws, c, pid, adj, &n);
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

/* ---- sampling a process into the cache ---------------------------------- */

/* FNV-1a of a process name. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* FNV-1a of N bytes of text, never 0 (0: none). */
static uint32_t text_hash(const char *s, long n)
{
    uint32_t h = 2166136261u;
    for (long i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

static double pass_up(struct pass *p)
{
    if (!p->have_up) {
        p->up = uptime_s(p->ws);
        p->have_up = true;
    }
    return p->up;
}

/* A footprint sample of KB at NOW into E: the previous one is kept for
 * the rate when at least MW_FP_RATE_MIN_MS older. */
static void fp_note(struct mw_fp *e, uint64_t kb, uint64_t now)
{
    if (e->ms == 0 || now - e->ms >= MW_FP_RATE_MIN_MS) {
        e->prev_kb = e->kb;
        e->prev_ms = e->ms;
    }
    e->kb = mw_fpc_kb(kb);
    e->ms = now;
    e->valid_ms = now;
}

/* Reads E's stat and status (and its cmdline when a pattern needs it): a
 * new footprint sample, the history reset when the process is another
 * one now (new, gone, or a start time that changed: a recycled PID). Loop
 * penalties are not applied here (gather does: they change by the
 * minute), prefer/avoid are (E->pat_shift). */
static void fp_sample(struct pass *p, struct mw_fp *e, int adj)
{
    struct mw_scan_ws *ws = p->ws;
    struct mw_victim v;
    bool ok = detail(ws, p->cfg, NULL, p->now, e->pid, adj, &v) == 0;
    /* a protected process's swap is owned too (mw_victim_swap_kb) */
    bool alive = ok || v.starttime != 0;
    if (alive)
        read_status(ws, &v);
    uint32_t swap = alive ? mw_fpc_kb(v.swap_kb) : 0;
    if (e >= ws->fpc.e && e < ws->fpc.e + ws->fpc.n)
        mw_fpc_set_swap(&ws->fpc, e, swap); /* the sum mw_victim_swap_kb gives */
    else
        e->swap_kb = swap; /* a table full: an entry of the moment */
    uint64_t kb = v.rss_kb + v.swap_kb + v.pte_kb;
    if (!ok || v.starttime != e->start || e->ms == 0) {
        e->prev_ms = e->ms = 0; /* new, gone, or another process under this pid */
        e->first_kb = ok ? mw_fpc_kb(kb) : 0;
        e->start = ok ? v.starttime : 0;
        double up = ok ? pass_up(p) : -1, age = up - (double)e->start / (double)ws->hz;
        e->young_ms = up >= 0 && age < MW_GROUP_AGE_S
                          ? p->now + (uint64_t)((MW_GROUP_AGE_S - (age > 0 ? age : 0)) * 1000)
                          : 0;
    }
    e->adj = adj;
    e->detailed = true;
    e->killable = ok;
    e->inert = !alive;
    e->valid_ms = p->now;
    if (!ok)
        return;
    e->pat_shift = v.eff_adj - adj;
    e->ppid = v.ppid;
    e->uid = v.uid;
    e->comm_hash = name_hash(v.comm);
    fp_note(e, kb, p->now);
}

/* E is read at every refresh (the hot list) while it moves or is young. */
static void hot_note(struct mw_scan_ws *ws, const struct mw_fp *e, uint64_t now)
{
    if (!e->detailed || e->inert || !(e->moved || e->young_ms > now))
        return;
    for (int i = 0; i < ws->hot_n; i++)
        if (ws->hot[i] == e->pid)
            return;
    if (ws->hot_n < MW_FP_HOT_MAX)
        ws->hot[ws->hot_n++] = e->pid;
    else
        ws->hot_full = true;
}

/* Visits E: its statm, then its adj (a read that also proves the statm
 * came from this very process: fpcache.h). When the statm text and the
 * adj are what they were, the sample is the last one again; otherwise
 * stat and status are read too (fp_sample). A root without statm (a
 * captured tree) gets a whole sample each time. Returns 0, or -1 when the
 * process is gone (the caller drops E). */
static int fp_visit(struct pass *p, struct mw_fp *e)
{
    struct mw_scan_ws *ws = p->ws;
    char buf[192];
    long n = e->inert ? 0 : mw_proc_read_pid_file(ws->proc_fd, e->pid, "statm", buf, sizeof(buf));
    int adj;
    if (fp_read_adj(ws, e, p->now, &adj) < 0)
        return -1;
    e->visit_stamp = ws->stamp;
    ws->visits++;
    if (e->inert && e->detailed)
        return 0; /* a kernel thread or zombie: alive, nothing to sample */
    uint32_t sig = n > 0 ? text_hash(buf, n) : 0;
    if (sig && sig == e->statm_sig && e->detailed) {
        fp_note(e, e->kb, p->now);
        e->moved = false;
        hot_note(ws, e, p->now);
        return 0;
    }
    bool known = e->detailed && e->ms != 0;
    uint32_t before = e->kb;
    uint64_t start = e->start;
    fp_sample(p, e, adj);
    e->moved = known && (sig ? sig != e->statm_sig : e->kb != before);
    e->statm_sig = sig;
    if (known && e->start == start)
        ws->explained_kb += (int64_t)e->kb - (int64_t)before;
    else if (e->killable && p->ws->base_up >= 0 &&
             (double)e->start / (double)ws->hz >= p->ws->base_up)
        ws->explained_kb += e->kb; /* started since the cycle began: all of it is new */
    hot_note(ws, e, p->now);
    return 0;
}

/* Whether E's footprint may be used as it is at NOW: read, or confirmed
 * by a refresh (mw_victim_refresh), within MW_FP_TRUST_MS. */
static bool trusted(const struct mw_scan_ws *ws, const struct mw_fp *e, uint64_t now)
{
    uint64_t known = e->valid_ms > ws->confirm_ms ? e->valid_ms : ws->confirm_ms;
    return fresh(known, now, MW_FP_TRUST_MS);
}

/* Loop penalties valid at NOW by name hash: the shift of a process named
 * HASH (INT32_MAX: left alone), or 0. */
struct pen_hashes {
    int n;
    uint32_t hash[MW_MAX_PENALTIES];
    int shift[MW_MAX_PENALTIES];
};

static void pen_hashes_fill(struct pen_hashes *h, const struct mw_penalties *pen, uint64_t now)
{
    h->n = 0;
    for (int i = 0; pen && i < pen->n; i++) {
        if (pen->p[i].until_ms <= now)
            continue;
        h->hash[h->n] = name_hash(pen->p[i].comm);
        h->shift[h->n++] = pen->p[i].adj_shift;
    }
}

/* E's effective adj: adj, prefer/avoid, loop penalties (*PENALIZED: one
 * applies); false when a penalty leaves it alone. */
static bool effective_adj(const struct pen_hashes *h, const struct mw_fp *e, int *eff,
                          bool *penalized)
{
    *eff = e->adj + e->pat_shift;
    *penalized = false;
    for (int i = 0; i < h->n; i++) {
        if (h->hash[i] != e->comm_hash)
            continue;
        if (h->shift[i] == INT32_MAX)
            return false;
        *eff -= h->shift[i];
        *penalized = true;
    }
    return true;
}

/* E as a runaway candidate into R (UP: seconds since boot). */
static void rcand_fill(struct rcand *r, const struct mw_fp *e, int adj, int eff, double up, long hz)
{
    r->pid = e->pid;
    r->adj = adj;
    r->eff_adj = eff;
    r->ppid = e->ppid;
    r->uid = e->uid;
    r->comm_hash = e->comm_hash;
    r->start = e->start;
    r->kb = e->kb;
    r->age_s = up - (double)e->start / (double)hz;
    r->have_rate = e->prev_ms != 0 && e->ms > e->prev_ms;
    uint64_t step = e->first_kb / 64 > 256 ? e->first_kb / 64 : 256;
    r->grew = e->kb >= e->first_kb + step;
    if (r->have_rate)
        r->rate_kb_s = e->kb > e->prev_kb
                           ? (double)(e->kb - e->prev_kb) * 1000.0 / (double)(e->ms - e->prev_ms)
                           : 0;
    else
        r->rate_kb_s = (double)e->kb / (r->age_s < 1 ? 1 : r->age_s);
    r->member = false;
}

/* May C join a burst: growing between two samples, or (no samples yet)
 * young enough for its average to mean a storm. */
static bool burstable(const struct rcand *c)
{
    return c->have_rate ? c->rate_kb_s > 0 || c->grew : c->age_s <= MW_GROUP_AGE_S;
}

/* The kernel's oom_badness over RC (kB): footprint plus eff_adj x total
 * / 1000 (mm/oom_kill.c: points += adj * totalpages / 1000). */
static int64_t badness(const struct mw_choice *c, const struct rcand *r)
{
    return (int64_t)r->kb + (int64_t)r->eff_adj * (int64_t)(c->total_kb / 1000);
}

/* Whether A comes before B in the flat order: more points; ties: the
 * larger footprint, then the older process. */
static bool flat_before(const struct mw_choice *c, const struct rcand *a, const struct rcand *b)
{
    int64_t pa = badness(c, a), pb = badness(c, b);
    if (pa != pb)
        return pa > pb;
    if (a->kb != b->kb)
        return a->kb > b->kb;
    return a->start < b->start;
}

/* Can R be part of a runaway unit (best_unit): large enough alone, or a
 * burst's member (growing, or young: mark_members' siblings)? Only these
 * and the flat order's head are kept: with 5,000 processes the rest
 * would be sorted for nothing. */
static bool runaway_relevant(const struct mw_choice *c, const struct rcand *r)
{
    return r->kb >= c->total_kb / 16 || burstable(r) || r->age_s <= MW_GROUP_AGE_S;
}

/* The flat order's head among the candidates gather leaves out:
 * choose_flat's next victims when the first one is gone meanwhile. */
#define FLAT_HEAD 8
struct flat_head {
    size_t n;
    struct rcand r[FLAT_HEAD]; /* best first */
};

static void flat_head_offer(struct flat_head *h, const struct mw_choice *c, const struct rcand *r)
{
    size_t at = h->n;
    while (at > 0 && flat_before(c, r, &h->r[at - 1]))
        at--;
    if (at >= FLAT_HEAD)
        return;
    size_t keep = h->n < FLAT_HEAD ? h->n : FLAT_HEAD - 1;
    memmove(&h->r[at + 1], &h->r[at], (keep - at) * sizeof(h->r[0]));
    h->r[at] = *r;
    h->n = keep + 1;
}

/* The candidates at FLOOR or above as runaway candidates into RC, from
 * the cache when it holds them (read or confirmed within MW_FP_TRUST_MS),
 * else visited now: every one that may be part of a runaway, and (FLAT)
 * the head of the flat order. Returns their number. */
static size_t gather(struct pass *p, int floor, size_t n, bool runaways, bool flat,
                     struct rcand *rc)
{
    struct mw_scan_ws *ws = p->ws;
    struct pen_hashes ph;
    pen_hashes_fill(&ph, p->c->pen, p->now);
    static struct flat_head head;
    head.n = 0;
    double up = pass_up(p) < 0 ? 0 : p->up;
    size_t m = 0;
    for (size_t i = 0; i < n && m < RUNAWAY_MAX; i++) {
        if (ws->adj[i] < floor)
            continue;
        struct mw_fp *e = mw_fpc_find(&ws->fpc, ws->pid[i]), tmp;
        if (!e) {
            memset(&tmp, 0, sizeof(tmp));
            tmp.pid = ws->pid[i];
            tmp.adj_fd = -1;
            e = &tmp;
        }
        if (!e->detailed || !trusted(ws, e, p->now)) {
            if (fp_visit(p, e) < 0) {
                if (e != &tmp)
                    mw_fpc_drop(&ws->fpc, (size_t)(e - ws->fpc.e));
                continue;
            }
        }
        int eff;
        bool penalized;
        if (!e->killable || !effective_adj(&ph, e, &eff, &penalized) || eff < floor)
            continue;
        struct rcand r;
        rcand_fill(&r, e, ws->adj[i], eff, up, ws->hz);
        r.penalized = penalized;
        if (runaways && runaway_relevant(p->c, &r))
            rc[m++] = r;
        else if (flat)
            flat_head_offer(&head, p->c, &r);
    }
    for (size_t i = 0; i < head.n && m < RUNAWAY_MAX; i++)
        rc[m++] = head.r[i];
    return m;
}

static int by_adj_start(const void *pa, const void *pb)
{
    const struct rcand *a = pa, *b = pb;
    if (a->adj != b->adj)
        return a->adj < b->adj ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
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

/* Whether the details of a chosen PID (V, read now) are of the process
 * the cache sampled (START): a recycled PID is another process. When not,
 * the entry is sampled afresh at the next look. */
static bool same_process(struct mw_scan_ws *ws, const struct mw_victim *v, uint64_t start)
{
    if (v->starttime == start)
        return true;
    struct mw_fp *e = mw_fpc_find(&ws->fpc, v->pid);
    if (e)
        e->detailed = false;
    return false;
}

/* Fills OUT for the unit U of RC: its largest member stands for it (the
 * log line, the pidfd), the others are killed with it. Returns 1, or 0
 * when that member is gone (or its PID is another process's now). */
static int unit_victim(struct pass *p, int floor, const struct rcand *rc, const struct unit *u,
                       struct mw_victim *out)
{
    struct mw_scan_ws *ws = p->ws;
    size_t lead = u->begin;
    for (size_t i = u->begin; i < u->end; i++)
        if (rc[i].kb > rc[lead].kb && rc[i].eff_adj >= floor && !rc[i].penalized &&
            burstable(&rc[i]))
            lead = i;
    if (detail(ws, p->cfg, p->c->pen, p->now, rc[lead].pid, rc[lead].adj, out) < 0 ||
        !same_process(ws, out, rc[lead].start))
        return 0;
    finish(ws, p->cfg, out);
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

/* Flat order: the most points first (flat_before). Returns 1 with OUT
 * filled, 0 if nobody. */
static int choose_flat(struct pass *p, struct rcand *rc, size_t m, struct mw_victim *out)
{
    for (;;) {
        size_t best = m;
        for (size_t i = 0; i < m; i++)
            if (rc[i].pid != 0 && (best == m || flat_before(p->c, &rc[i], &rc[best])))
                best = i;
        if (best == m)
            return 0;
        if (detail(p->ws, p->cfg, p->c->pen, p->now, rc[best].pid, rc[best].adj, out) == 0 &&
            same_process(p->ws, out, rc[best].start)) {
            finish(p->ws, p->cfg, out);
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
    struct pass p = {.ws = ws, .cfg = cfg, .c = c, .now = c->now_ms ? c->now_ms : 1};
    double up = pass_up(&p);
    bool runaways = cfg->runaway_fill_ms > 0 && c->total_kb > 0 && up >= 0;
    int floor = c->min_adj;
    if (!c->runaway_any_adj && cfg->runaway_min_adj > floor)
        floor = cfg->runaway_min_adj;
    if (c->flat)
        floor = c->min_adj; /* every candidate: the badness order needs them all */
    if (!runaways && !c->flat)
        return 0;
    size_t m = gather(&p, floor, n, runaways, c->flat && !c->runaway_only, rcands);
    qsort(rcands, m, sizeof(rcands[0]), by_adj_start);
    mark_members(rcands, m);
    struct unit u = {0, 0, 0, 0};
    int rfloor = c->runaway_any_adj ? c->min_adj : cfg->runaway_min_adj;
    if (runaways) {
        /* in flat mode the floor was lowered for the order: runaways keep theirs */
        if (best_unit(cfg, c, ws->hz, rfloor, rcands, m, &u) &&
            unit_victim(&p, rfloor, rcands, &u, out) > 0)
            return 1;
    }
    if (c->flat && !c->runaway_only)
        return choose_flat(&p, rcands, m, out);
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

/* The chosen victim's adj read again: true when it still may die. After
 * a choice on cached adjs (STRICT) any change sends the choice round
 * again with every adj read; after one on fresh adjs a change that keeps
 * it eligible is taken. */
static bool adj_holds(struct mw_scan_ws *ws, const struct mw_choice *c, struct mw_victim *v,
                      bool strict)
{
    int adj;
    if (get_adj(ws, v->pid, c->now_ms, true, &adj) < 0)
        return false;
    if (adj == v->adj)
        return true;
    return !strict && adj >= c->min_adj && adj != -1000 && (v->adj = adj, true);
}

/* One pass of the choice (the layout's order, runaways first). */
static int choose_pass(struct mw_scan_ws *ws, const struct mw_config *cfg,
                       const struct mw_choice *c, struct mw_victim *out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t n = 0;
        ws->scanned = ws->detailed = ws->adj_read = ws->visits = 0;
        int rc = collect(ws, c, attempt > 0, &n);
        if (rc < 0)
            return rc;
        rc = choose_detailed(ws, cfg, c, n, out);
        if (rc == 0 && !c->runaway_only && !c->flat)
            rc = choose_levels(ws, cfg, c, n, out);
        if (rc <= 0)
            return rc;
        if (adj_holds(ws, c, out, attempt == 0))
            return 1;
        close(out->stat_fd); /* its adj moved: choose again, reading every adj */
    }
    return 0;
}

/* ---- the refresh: who is read when (victim.h) ---------------------------- */

static bool out_of_time(const struct pass *p)
{
    return p->deadline_us != 0 && mw_now_us() >= p->deadline_us;
}

/* Whether E is one the refresh keeps: a candidate of C (the daemon and
 * init never are). */
static bool fp_candidate(const struct pass *p, const struct mw_fp *e)
{
    return e->pid > 1 && e->pid != p->ws->self_pid && e->adj >= p->c->min_adj && e->adj != -1000 &&
           !excluded(p->ws, p->c, e->pid);
}

/* Whether the refresh reads E: a candidate, or at adj -1000 -- never
 * chosen, but what it takes is memory a read explains (a ballast, a
 * database the owner protected). */
static bool fp_tracked(const struct pass *p, const struct mw_fp *e)
{
    return fp_candidate(p, e) ||
           (e->adj == -1000 && e->pid > 1 && e->pid != p->ws->self_pid && !e->inert);
}

/* The fall of the headroom since the cycle began that no footprint read
 * since explains (kB; negative: it rose). */
static int64_t unexplained_kb(const struct mw_scan_ws *ws, const struct mw_choice *c)
{
    return (int64_t)ws->base_headroom_kb - (int64_t)c->headroom_kb - ws->explained_kb;
}

/* Starts a cycle when one is due (victim.h): a whole one, or an
 * enumeration alone when /proc/loadavg moved. */
static void cycle_start(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    const struct mw_choice *c = p->c;
    if (ws->rebase && c->headroom_kb) {
        ws->base_headroom_kb = c->headroom_kb;
        ws->explained_kb = 0;
        ws->base_up = pass_up(p);
        ws->rebase = false;
    }
    if (ws->cycling)
        return;
    long last_pid = -1, tasks = -1;
    bool load = load_marks(ws, &last_pid, &tasks) == 0;
    int64_t fall = unexplained_kb(ws, c);
    bool moving =
        c->total_kb && fall >= (int64_t)(c->total_kb / MW_FP_MOTION_DIV << ws->gate_shift);
    bool whole = ws->forced || c->headroom_kb == 0 || c->total_kb == 0 ||
                 c->min_adj < ws->cycle_min_adj || moving;
    bool moved = !load || last_pid != ws->load_pid || tasks != ws->load_tasks;
    if (!whole && !(moved && p->now - ws->enum_ms >= MW_FP_ENUM_MS))
        return;
    ws->cycling = ws->enumerating = true;
    ws->visit_all = whole;
    ws->cursor = 0;
    ws->cycle_stamp = ws->stamp;
    ws->enum_no++;
    ws->enum_ms = p->now;
    ws->load_pid = load ? last_pid : -1;
    ws->load_tasks = load ? tasks : -1;
    if (whole) {
        if (ws->forced)
            ws->gate_shift = 0;
        ws->opened_kb = moving && !ws->forced ? fall : 0;
        ws->forced = false;
        ws->rebase = c->headroom_kb == 0; /* unknown: counted from the first one given */
        ws->base_headroom_kb = c->headroom_kb;
        ws->explained_kb = 0;
        ws->base_up = pass_up(p);
    }
    if (ws->scope_dir_fd < 0 && lseek(ws->enum_fd, 0, SEEK_SET) < 0)
        ws->enumerating = false; /* cannot list it: visit what the cache has */
}

/* A PID the enumeration found: marked alive, an entry made (its adj
 * read) when new. */
static void enum_found(struct pass *p, int pid)
{
    struct mw_scan_ws *ws = p->ws;
    if (pid <= 1 || pid == ws->self_pid)
        return;
    ws->scanned++;
    struct mw_fp *e = mw_fpc_find(&ws->fpc, pid);
    if (e) {
        e->enum_no = ws->enum_no;
        return;
    }
    int adj;
    if (!(e = mw_fpc_add(&ws->fpc, pid)))
        return;
    if (fp_read_adj(ws, e, p->now, &adj) < 0)
        mw_fpc_drop(&ws->fpc, ws->fpc.n - 1); /* gone already (the newest entry) */
}

/* The end of an enumeration: whoever it did not find is gone. */
static void enum_done(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    for (size_t i = 0; i < ws->fpc.n;) {
        struct mw_fp *e = &ws->fpc.e[i];
        if (e->enum_no == ws->enum_no) {
            i++;
            continue;
        }
        if (e->detailed && e->killable)
            ws->explained_kb -= e->kb; /* what it held came back */
        mw_fpc_drop(&ws->fpc, i);
    }
    ws->enumerating = false;
    if (ws->load_pid > ws->enum_done_pid || ws->load_pid < 0)
        ws->enum_done_pid = ws->load_pid; /* a probe may have looked further */
}

/* Lists ROOT/proc (or the scope's cgroup) on from where the last slice
 * stopped. Returns 1 when done, 0 when out of time, -errno. */
static int enum_step(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    if (ws->scope_dir_fd >= 0) {
        size_t n = 0;
        int rc = collect_cgroup(ws, ws->scope_dir_fd, 0, p->c, false, &n);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            enum_found(p, ws->pid[i]);
        enum_done(p);
        return 1;
    }
    static char dbuf[16 * 1024];
    for (;;) {
        if (out_of_time(p))
            return 0;
        long got = syscall(SYS_getdents64, ws->enum_fd, dbuf, sizeof(dbuf));
        if (got < 0)
            return -errno;
        if (got == 0)
            break;
        for (long off = 0; off < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dbuf + off);
            off += d->d_reclen;
            int pid = dirent_pid(d);
            if (pid)
                enum_found(p, pid);
        }
    }
    enum_done(p);
    return 1;
}

/* Whether E was read at or after refresh number STAMP (stamps wrap). */
static bool visited_since(const struct mw_fp *e, uint32_t stamp)
{
    return e->visit_stamp != 0 && e->visit_stamp - stamp < UINT32_MAX / 2;
}

/* Visits, from the cycle's cursor on, the candidates it has not read:
 * all of them in a whole cycle, the new ones in an enumeration's. Returns
 * 1 when done, 0 when out of time. */
static int visit_step(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    while (ws->cursor < ws->fpc.n) {
        if (out_of_time(p))
            return 0;
        struct mw_fp *e = &ws->fpc.e[ws->cursor];
        if (visited_since(e, ws->cycle_stamp) || !fp_tracked(p, e) ||
            (!ws->visit_all && e->detailed)) {
            ws->cursor++;
            continue;
        }
        if (fp_visit(p, e) < 0)
            mw_fpc_drop(&ws->fpc, ws->cursor); /* another entry is at the cursor now */
        else
            ws->cursor++;
    }
    return 1;
}

/* The cycle's work for this refresh, as far as the time allows. */
static int cycle_step(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    if (!ws->cycling)
        return 0;
    if (ws->enumerating) {
        int rc = enum_step(p);
        if (rc <= 0)
            return rc;
    }
    if (visit_step(p) == 0)
        return 0;
    ws->cycling = false;
    if (ws->visit_all)
        ws->cycle_min_adj = p->c->min_adj;
    if (ws->visit_all && ws->opened_kb > 0) /* a cycle the fall started: did it find why? */
        ws->gate_shift = ws->explained_kb * 2 >= ws->opened_kb   ? 0
                         : ws->gate_shift < MW_FP_GATE_SHIFT_MAX ? ws->gate_shift + 1
                                                                 : MW_FP_GATE_SHIFT_MAX;
    return 0;
}

/* Reads E again if it is still hot (moved at its last visit, or young
 * while the slice allows), and keeps it on the hot list while it is.
 * Returns false when E's process is gone (E dropped). */
static bool hot_visit(struct pass *p, struct mw_fp *e)
{
    struct mw_scan_ws *ws = p->ws;
    if (!e->detailed || e->inert || !fp_tracked(p, e) || !(e->moved || e->young_ms > p->now))
        return true; /* cold now: off the list until a visit finds it moving */
    if (!e->moved && out_of_time(p)) {
        hot_note(ws, e, p->now); /* young, read at a later refresh */
        return true;
    }
    if (fp_visit(p, e) == 0)
        return true;
    if (e->killable)
        ws->explained_kb -= e->kb;
    mw_fpc_drop(&ws->fpc, (size_t)(e - ws->fpc.e));
    return false;
}

/* Every refresh: the candidates that moved at their last visit are read
 * again, and the young ones as far as the slice allows (5,000 processes
 * just started are not all a storm's members) -- before the cycle's
 * decision: their growth explains what memory they took. They come from
 * the hot list; when it overflowed, from a look at every entry. */
static void hot_step(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    static int pids[MW_FP_HOT_MAX];
    int n = ws->hot_n;
    bool all = ws->hot_full;
    memcpy(pids, ws->hot, (size_t)n * sizeof(pids[0]));
    ws->hot_n = 0;
    ws->hot_full = false;
    if (!all) {
        for (int k = 0; k < n; k++) {
            struct mw_fp *e = mw_fpc_find(&ws->fpc, pids[k]);
            if (e)
                hot_visit(p, e);
        }
        return;
    }
    for (size_t i = 0; i < ws->fpc.n;)
        i += hot_visit(p, &ws->fpc.e[i]); /* dropped: another entry is at I */
}

/* Between whole cycles every footprint is confirmed as current (memory
 * no process took cannot have made one grow): one time for all of them,
 * not a write to each. Counts the candidates and the adj layout again
 * when an entry or an adj changed. Returns the candidates. */
static int confirm_step(struct pass *p)
{
    struct mw_scan_ws *ws = p->ws;
    if (!(ws->cycling && ws->visit_all))
        ws->confirm_ms = p->now;
    if (!ws->layout_dirty && !ws->fpc.changed && ws->count_min_adj == p->c->min_adj &&
        p->c->exclude_n == 0)
        return ws->count_n;
    int n = 0;
    ws->pos_n = 0;
    ws->pos_two = false;
    for (size_t i = 0; i < ws->fpc.n; i++) {
        count_layout(ws, ws->fpc.e[i].adj);
        n += fp_candidate(p, &ws->fpc.e[i]);
    }
    ws->layout_dirty = ws->fpc.changed = false;
    ws->count_min_adj = p->c->min_adj;
    ws->count_n = n;
    return n;
}

int mw_victim_refresh(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c)
{
    struct pass p = {.ws = ws, .cfg = cfg, .c = c, .now = c->now_ms ? c->now_ms : 1};
    ws->scanned = ws->detailed = ws->adj_read = ws->visits = 0;
    ws->stamp++;
    if (c->slice_us)
        p.deadline_us = mw_now_us() + c->slice_us;
    probe_births(&p, true);
    hot_step(&p);
    cycle_start(&p);
    int rc = cycle_step(&p);
    if (rc < 0)
        return rc;
    ws->refresh_ms = p.now;
    return confirm_step(&p);
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
    return ws->refresh_ms == 0 ? -1 : (int64_t)ws->fpc.swap_kb_sum;
}

void mw_victim_forget(struct mw_scan_ws *ws)
{
    for (size_t i = 0; i < ws->fpc.n; i++)
        ws->fpc.e[i].adj_ms = 0; /* the growth history (kb, prev_kb) stays */
    ws->rebase = true;
}
