#include "lmk/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "proc/cgroup.h"
#include "lmk/history.h"
#include "lmk/hooks.h"
#include "lmk/kill.h"
#include "proc/meminfo.h"
#include "lmk/policy.h"
#include "lmk/pressure.h"
#include "proc/psi.h"
#include "lmk/victim.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#define TAG_SIGNAL          100
#define MAX_KILLS_PER_CYCLE 8
/* Watermarks change only with min_free_kbytes or memory hotplug. */
#define ZONEINFO_REFRESH_MS 60000
/* A dry run repeats its decision every sample: say it once a second. */
#define DRY_RUN_REPEAT_MS 1000

/* ---- logging ---------------------------------------------------------- */

static bool log_to_stderr = true;

/* One log line: "<prio>message" on stderr (journald reads the prefix), or
 * syslog. Formats into a static buffer: no allocation on the kill path. */
static void dlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dlog(int prio, const char *fmt, ...)
{
    static char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int off = log_to_stderr ? snprintf(line, sizeof(line), "<%d>", prio) : 0;
    int n = vsnprintf(line + off, sizeof(line) - (size_t)off - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = strlen(line);
    if (log_to_stderr) {
        line[len++] = '\n';
        ssize_t w = write(2, line, len);
        (void)w;
    } else {
        syslog(prio, "%s", line);
    }
}

/* ---- state file ------------------------------------------------------- */

size_t mw_daemon_state_format(char *buf, size_t cap, const struct mw_daemon_state *s)
{
    char src[400], scope[520], last[1100];
    mw_json_escape(src, sizeof(src), s->source);
    mw_json_escape(scope, sizeof(scope), s->scope);
    mw_json_escape(last, sizeof(last), s->last_kill);
    int n = snprintf(buf, cap,
                     "{\"pid\":%d,\"source\":\"%s\",\"strategy\":\"%s\",\"scope\":\"%s\","
                     "\"dry_run\":%s,\"started\":%llu,\"updated\":%llu,\"kills\":%llu,"
                     "\"wakeups_timer\":%llu,\"wakeups_pressure\":%llu,"
                     "\"last_kill_time\":%llu,\"last_kill\":\"%s\"}\n",
                     s->pid, src, s->strategy, scope, s->dry_run ? "true" : "false",
                     (unsigned long long)s->started, (unsigned long long)s->updated,
                     (unsigned long long)s->kills, (unsigned long long)s->wakeups_timer,
                     (unsigned long long)s->wakeups_pressure, (unsigned long long)s->last_kill_time,
                     last);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Finds "key": in a flat JSON object; returns the value's start or NULL. */
static const char *json_find(const char *buf, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(buf, pat);
    return p ? p + strlen(pat) : NULL;
}

static void json_get_str(const char *buf, const char *key, char *out, size_t cap)
{
    const char *p = json_find(buf, key);
    out[0] = '\0';
    if (!p || *p != '"')
        return;
    p++;
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < cap) {
        if (*p == '\\' && p[1]) {
            p++;
            char c = *p;
            if (c == 'u' && strlen(p) >= 5) {
                unsigned v = 0;
                sscanf(p + 1, "%4x", &v);
                out[n++] = v < 0x80 ? (char)v : '?';
                p += 5;
                continue;
            }
            out[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c;
            p++;
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
}

static uint64_t json_get_u64(const char *buf, const char *key, bool *found)
{
    const char *p = json_find(buf, key);
    uint64_t v = 0;
    if (found)
        *found = p && mw_scan_u64(&p, &v) == 0;
    else if (p)
        mw_scan_u64(&p, &v);
    return v;
}

int mw_daemon_state_parse_buf(struct mw_daemon_state *out, const char *buf)
{
    struct mw_daemon_state s;
    memset(&s, 0, sizeof(s));
    bool have_pid;
    uint64_t pid = json_get_u64(buf, "pid", &have_pid);
    if (!have_pid || pid == 0 || pid > INT_MAX)
        return -EINVAL;
    s.pid = (int)pid;
    json_get_str(buf, "source", s.source, sizeof(s.source));
    json_get_str(buf, "strategy", s.strategy, sizeof(s.strategy));
    json_get_str(buf, "scope", s.scope, sizeof(s.scope));
    const char *d = json_find(buf, "dry_run");
    s.dry_run = d && strncmp(d, "true", 4) == 0;
    s.started = json_get_u64(buf, "started", NULL);
    s.updated = json_get_u64(buf, "updated", NULL);
    s.kills = json_get_u64(buf, "kills", NULL);
    s.wakeups_timer = json_get_u64(buf, "wakeups_timer", NULL);
    s.wakeups_pressure = json_get_u64(buf, "wakeups_pressure", NULL);
    s.last_kill_time = json_get_u64(buf, "last_kill_time", NULL);
    json_get_str(buf, "last_kill", s.last_kill, sizeof(s.last_kill));
    *out = s;
    return 0;
}

int mw_daemon_state_read(const struct mw_root *root, const char *path, struct mw_daemon_state *out)
{
    char *buf;
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_daemon_state_parse_buf(out, buf);
    free(buf);
    return rc;
}

/* ---- the daemon's world ----------------------------------------------- */

struct daemon {
    const struct mw_root *root;
    const struct mw_daemon_opts *o;
    struct mw_config cfg;
    /* system files, opened once */
    int meminfo_fd, vmstat_fd, zoneinfo_fd, psi_fd;
    /* scope files */
    int scope_version;
    int cg_usage_fd, cg_limit_fd, cg_swap_usage_fd, cg_swap_limit_fd, cg_stat_fd, cg_events_fd,
        cg_failcnt_fd, cg_psi_fd, cg_dir_fd;
    struct mw_zoneinfo zi;
    bool have_zi;
    uint64_t zi_read_ms;
    struct mw_thrash thrash;
    struct mw_scan_ws ws;
    struct mw_pressure pr;
    int epfd, sigfd;
    struct mw_penalties pen;
    struct mw_loop_tracker loops;
    struct mw_daemon_state state;
    char state_path[MW_CFG_PATH_LEN];
    char history_path[MW_CFG_PATH_LEN];
    int history_fd;
    uint64_t alert_last[MW_ALERT_KINDS];
    uint64_t last_dry_ms;
    int last_dry_pid;
    uint64_t no_victim_last_ms;
    bool adj_flat;                       /* the adj layout (cfg->adj_mode, or as last detected) */
    uint64_t refresh_ms;                 /* last footprint refresh (mw_victim_refresh) */
    int chosen_pid[MW_VICTIM_GROUP + 1]; /* this cycle's victims, excluded from more choices */
    /* the last kill, until its effect shows (mw_policy_kill_visible) */
    bool settling;
    uint64_t settle_until_ms, settle_rss_kb, settle_swap_kb;
    struct mw_mem_state settle_before;
};

/* Static buffers for the files read every sample: the sample and the kill
 * path never allocate. */
static char meminfo_buf[8192], vmstat_buf[16384], zoneinfo_buf[65536], psi_buf[512];
static char cg_stat_buf[8192], cg_small_buf[256], cg_events_buf[512];

static int open_rel(const struct mw_root *root, const char *dir, const char *name, int flags)
{
    char path[600];
    while (*dir == '/')
        dir++;
    snprintf(path, sizeof(path), "%s%s%s", dir, *dir && *name ? "/" : "", name);
    return openat(root->fd, path, flags | O_CLOEXEC);
}

static int read_u64_fd(int fd, uint64_t *v)
{
    if (fd < 0)
        return -EBADF;
    long n = mw_pread_all(fd, cg_small_buf, sizeof(cg_small_buf));
    if (n < 0)
        return (int)n;
    if (strncmp(cg_small_buf, "max", 3) == 0) {
        *v = MW_CG_UNLIMITED;
        return 0;
    }
    const char *p = cg_small_buf;
    return mw_scan_u64(&p, v);
}

static int read_host_meminfo(struct daemon *d, struct mw_meminfo *mi)
{
    long n = mw_pread_all(d->meminfo_fd, meminfo_buf, sizeof(meminfo_buf));
    if (n < 0)
        return (int)n;
    return mw_meminfo_parse_buf(mi, meminfo_buf, NULL);
}

static int sample_scope(struct daemon *d, struct mw_mem_state *st, uint64_t now)
{
    struct mw_cgroup_mem cg;
    memset(&cg, 0, sizeof(cg));
    cg.version = d->scope_version;
    cg.high = cg.swap_limit = MW_CG_UNLIMITED;
    int rc;
    if ((rc = read_u64_fd(d->cg_usage_fd, &cg.usage)) < 0 ||
        (rc = read_u64_fd(d->cg_limit_fd, &cg.limit)) < 0)
        return rc;
    uint64_t sw_use = 0, sw_lim = MW_CG_UNLIMITED;
    bool have_sw_use = read_u64_fd(d->cg_swap_usage_fd, &sw_use) == 0;
    bool have_sw_lim = read_u64_fd(d->cg_swap_limit_fd, &sw_lim) == 0;
    if (d->scope_version == 1) {
        /* v1 counts memory+swap together in memsw */
        mw_cg_v1_memsw(&cg, have_sw_lim ? sw_lim : MW_CG_UNLIMITED, have_sw_use ? sw_use : 0);
        read_u64_fd(d->cg_failcnt_fd, &cg.ev_max);
    } else {
        if (have_sw_lim)
            cg.swap_limit = sw_lim;
        if (have_sw_use)
            cg.swap_usage = sw_use;
    }
    if (d->cg_events_fd >= 0 &&
        mw_pread_all(d->cg_events_fd, cg_events_buf, sizeof(cg_events_buf)) >= 0)
        mw_cg_events_parse_buf(&cg, cg_events_buf);
    if (mw_pread_all(d->cg_stat_fd, cg_stat_buf, sizeof(cg_stat_buf)) >= 0)
        cg.have_stat = mw_cg_stat_parse_buf(&cg.stat, cg_stat_buf, cg.version, NULL) == 0;
    if (d->cg_psi_fd >= 0 && mw_pread_all(d->cg_psi_fd, psi_buf, sizeof(psi_buf)) >= 0)
        cg.have_psi = mw_psi_parse_buf(&cg.psi, psi_buf, NULL) == 0;
    /* the host's RAM and swap bound the cgroup's (mw_cgroup_machine) */
    struct mw_meminfo host;
    if ((rc = read_host_meminfo(d, &host)) < 0)
        return rc;
    mw_state_from_scope(st, &cg, &host, &d->cfg, d->root->page_size, now);
    return 0;
}

static int sample_system(struct daemon *d, struct mw_mem_state *st, uint64_t now)
{
    struct mw_meminfo mi;
    int rc = read_host_meminfo(d, &mi);
    if (rc < 0)
        return rc;
    struct mw_vmstat vs;
    bool have_vs = mw_pread_all(d->vmstat_fd, vmstat_buf, sizeof(vmstat_buf)) >= 0 &&
                   mw_vmstat_parse_buf(&vs, vmstat_buf, NULL) == 0;
    if (d->zoneinfo_fd >= 0 && (!d->have_zi || now - d->zi_read_ms >= ZONEINFO_REFRESH_MS)) {
        if (mw_pread_all(d->zoneinfo_fd, zoneinfo_buf, sizeof(zoneinfo_buf)) >= 0 &&
            mw_zoneinfo_parse_buf(&d->zi, zoneinfo_buf, NULL) == 0)
            d->have_zi = true;
        d->zi_read_ms = now;
    }
    struct mw_psi psi;
    bool have_psi = d->psi_fd >= 0 && mw_pread_all(d->psi_fd, psi_buf, sizeof(psi_buf)) >= 0 &&
                    mw_psi_parse_buf(&psi, psi_buf, NULL) == 0;
    mw_state_from_system(st, &mi, have_vs ? &vs : NULL, d->have_zi ? &d->zi : NULL,
                         have_psi ? &psi : NULL, d->root->page_size, now);
    return 0;
}

static int sample(struct daemon *d, struct mw_mem_state *st)
{
    uint64_t now = mw_now_ms();
    return d->o->scope ? sample_scope(d, st, now) : sample_system(d, st, now);
}

/* ---- state, history, hooks ------------------------------------------- */

static void state_write(struct daemon *d)
{
    if (!d->state_path[0])
        return;
    static char buf[4096];
    static char tmp[MW_CFG_PATH_LEN + 8];
    d->state.updated = (uint64_t)time(NULL);
    size_t len = mw_daemon_state_format(buf, sizeof(buf), &d->state);
    snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        /* /run/memwarden may not exist yet */
        char dir[MW_CFG_PATH_LEN];
        snprintf(dir, sizeof(dir), "%s", d->state_path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            mkdir(dir, 0755);
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        }
    }
    if (fd < 0) {
        static bool said;
        if (!said)
            dlog(LOG_WARNING, "state file %s: %s", d->state_path, strerror(errno));
        said = true;
        return;
    }
    ssize_t w = write(fd, buf, len);
    close(fd);
    if (w == (ssize_t)len)
        rename(tmp, d->state_path);
    else
        unlink(tmp);
}

/* Environment of a hook: static storage, filled per call. */
static char hook_env_store[12][320];
static char *hook_envp[13];

static void hook_env_set(int i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hook_env_set(int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hook_env_store[i], sizeof(hook_env_store[i]), fmt, ap);
    va_end(ap);
    hook_envp[i] = hook_env_store[i];
    hook_envp[i + 1] = NULL;
}

static void run_hook(struct daemon *d, const struct mw_argv *a, const char *what)
{
    if (a->n == 0)
        return;
    int rc = mw_hook_run(a, hook_envp, d->cfg.hook_timeout_ms);
    if (rc == -ETIMEDOUT)
        dlog(LOG_WARNING, "%s hook %s: killed after %llu ms", what, a->arg[0],
             (unsigned long long)d->cfg.hook_timeout_ms);
    else if (rc < 0)
        dlog(LOG_WARNING, "%s hook %s: %s", what, a->arg[0], strerror(-rc));
    else if (rc != 0)
        dlog(LOG_WARNING, "%s hook %s: exit status %d", what, a->arg[0], rc);
}

static void kill_hook_env(const struct mw_victim *v, const char *event, const char *reason)
{
    hook_env_set(0, "MW_EVENT=%s", event);
    hook_env_set(1, "MW_PID=%d", v->pid);
    hook_env_set(2, "MW_UID=%u", (unsigned)v->uid);
    hook_env_set(3, "MW_ADJ=%d", v->adj);
    hook_env_set(4, "MW_PROG=%s", v->comm);
    hook_env_set(5, "MW_RSS_KB=%llu", (unsigned long long)v->rss_kb);
    hook_env_set(6, "MW_REASON=%s", reason);
    hook_env_set(7, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
}

static void alerts(struct daemon *d, const struct mw_mem_state *st)
{
    char msg[512];
    unsigned bits = mw_alert_check(&d->cfg, st, msg, sizeof(msg));
    for (unsigned k = 0; k < MW_ALERT_KINDS; k++) {
        unsigned bit = 1u << k;
        if (!(bits & bit) ||
            !mw_rate_allow(&d->alert_last[k], st->now_ms, d->cfg.alert_interval_ms))
            continue;
        dlog(LOG_WARNING, "alert %s: %s", mw_alert_name(bit), msg);
        hook_env_set(0, "MW_EVENT=alert");
        hook_env_set(1, "MW_ALERT=%s", mw_alert_name(bit));
        hook_env_set(2, "MW_MESSAGE=%s", msg);
        hook_env_set(3, "MW_AVAILABLE_KB=%llu", (unsigned long long)st->available_kb);
        hook_env_set(4, "MW_TOTAL_KB=%llu", (unsigned long long)st->total_kb);
        hook_env_set(5, "MW_SWAP_FREE_KB=%llu", (unsigned long long)st->swap_free_kb);
        hook_env_set(6, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        run_hook(d, &d->cfg.alert_hook, "alert");
    }
}

static void loop_check(struct daemon *d, const struct mw_victim *v, uint64_t now)
{
    if (d->cfg.loop_kills <= 0)
        return;
    /* Kill time and the victim's start, both in ms since boot. */
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    uint64_t boot_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t start_ms = v->starttime * 1000u / (uint64_t)d->ws.hz;
    int n = mw_loop_note(&d->loops, v->comm, boot_ms, start_ms, d->cfg.loop_window_ms);
    if (n < d->cfg.loop_kills)
        return;
    const char *act = d->cfg.loop_action == MW_LOOP_COOLDOWN  ? "left alone"
                      : d->cfg.loop_action == MW_LOOP_PROTECT ? "protected"
                                                              : "still a candidate";
    dlog(LOG_CRIT,
         "KILL LOOP: %s killed %d times within %llu ms (it restarts after each kill); %s for "
         "%llu ms",
         v->comm, n, (unsigned long long)d->cfg.loop_window_ms, act,
         (unsigned long long)d->cfg.loop_cooldown_ms);
    if (d->cfg.loop_action != MW_LOOP_NONE) {
        int slot = -1;
        for (int i = 0; i < d->pen.n; i++)
            if (strcmp(d->pen.p[i].comm, v->comm) == 0 || d->pen.p[i].until_ms <= now)
                slot = i;
        if (slot < 0 && d->pen.n < MW_MAX_PENALTIES)
            slot = d->pen.n++;
        if (slot >= 0) {
            snprintf(d->pen.p[slot].comm, sizeof(d->pen.p[slot].comm), "%s", v->comm);
            d->pen.p[slot].until_ms = now + d->cfg.loop_cooldown_ms;
            d->pen.p[slot].adj_shift =
                d->cfg.loop_action == MW_LOOP_COOLDOWN ? INT32_MAX : d->cfg.loop_protect_adj;
        }
    }
    /* the log says it at every kill of the loop; the hook at most once an
     * alert interval */
    if (!mw_rate_allow(&d->alert_last[4], now, d->cfg.alert_interval_ms))
        return;
    hook_env_set(0, "MW_EVENT=alert");
    hook_env_set(1, "MW_ALERT=kill_loop");
    hook_env_set(2, "MW_PROG=%s", v->comm);
    hook_env_set(3, "MW_KILLS=%d", n);
    hook_env_set(4, "MW_WINDOW_MS=%llu", (unsigned long long)d->cfg.loop_window_ms);
    hook_env_set(5, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    run_hook(d, &d->cfg.alert_hook, "alert");
}

/* ---- one cycle ---------------------------------------------------------- */

static void record_from(struct mw_kill_record *r, const struct mw_victim *v,
                        const struct mw_decision *dec, const struct mw_mem_state *st)
{
    memset(r, 0, sizeof(*r));
    r->time_s = (uint64_t)time(NULL);
    r->pid = v->pid;
    r->uid = v->uid;
    r->adj = v->adj;
    snprintf(r->prog, sizeof(r->prog), "%s", v->comm);
    snprintf(r->cmdline, sizeof(r->cmdline), "%s", v->cmdline);
    r->rss_kb = v->rss_kb;
    r->swap_kb = v->swap_kb;
    r->reason = mw_reason_name(dec->reason);
    r->detail = dec->detail;
    r->min_adj = dec->min_adj;
    r->free_kb = st->free_kb;
    r->avail_kb = st->available_kb;
    r->file_kb = st->file_kb;
    r->swap_free_kb = st->swap_free_kb;
    r->total_kb = st->total_kb;
    r->psi_some = st->have_psi ? st->psi_some_avg10 : -1;
    r->psi_full = st->have_psi ? st->psi_full_avg10 : -1;
    r->scope = st->is_scope;
    r->runaway = v->runaway;
    r->unit_kb = v->unit_kb;
    r->growth_kb_s = v->growth_kb_s;
    r->group_n = v->group_n;
}

/* Says what was done: REC's one-line form into LINE (kept by the caller
 * for the state file) and the log at PRIORITY, its JSON form appended to
 * the history file when there is one. Static buffers: no allocation on the
 * kill path. */
static void report_kill(struct daemon *d, const struct mw_kill_record *rec, int priority,
                        char *line, size_t cap)
{
    static char json[4096];
    mw_kill_format_line(line, cap, rec);
    dlog(priority, "%s", line);
    if (d->history_fd >= 0) {
        size_t n = mw_kill_format_json(json, sizeof(json), rec);
        json[n++] = '\n';
        ssize_t w = write(d->history_fd, json, n);
        (void)w;
    }
}

/* The adj layout for the next decision: as configured, or detected by
 * the last scan. */
static void note_layout(struct daemon *d)
{
    bool flat = d->cfg.adj_mode == MW_ADJ_FLAT ||
                (d->cfg.adj_mode == MW_ADJ_AUTO && mw_scan_adj_flat(&d->ws));
    if (flat != d->adj_flat)
        dlog(LOG_NOTICE, "adj layout: %s%s",
             flat ? "flat (the kernel's oom_badness order)" : "android classes (lmkd's order)",
             d->cfg.adj_mode == MW_ADJ_AUTO ? " (detected)" : " (adj_mode)");
    d->adj_flat = flat;
}

/* While memory runs short, the footprints of the candidates are sampled
 * (at most once per MW_FP_RATE_MIN_MS), so the choice under pressure
 * finds them fresh and has a two-sample growth rate. */
static void refresh_footprints(struct daemon *d, const struct mw_mem_state *st)
{
    uint64_t line = st->total_kb * (uint64_t)d->cfg.available_low_pct / 100;
    bool building =
        st->available_kb < 2 * line || (st->events & (MW_EV_PARTIAL_STALL | MW_EV_COMPLETE_STALL));
    if (!building || st->now_ms - d->refresh_ms < MW_FP_RATE_MIN_MS)
        return;
    d->refresh_ms = st->now_ms;
    struct mw_choice ch = {.min_adj = 0, .now_ms = st->now_ms, .pen = &d->pen};
    mw_victim_refresh(&d->ws, &d->cfg, &ch);
    note_layout(d);
}

/* Until enough is freed: when DEC's deficit is larger than what V frees,
 * more victims of the same choice join V's group (signalled together,
 * before anyone is waited for). */
static void cover_deficit(struct daemon *d, const struct mw_decision *dec, struct mw_choice *ch,
                          struct mw_victim *v)
{
    static struct mw_victim more;
    if (d->cfg.one_kill_at_a_time)
        return;
    uint64_t covered = v->runaway ? v->unit_kb : v->rss_kb + v->swap_kb;
    int victims = 1;
    while (covered < dec->deficit_kb && victims < MAX_KILLS_PER_CYCLE &&
           v->group_n < MW_VICTIM_GROUP) {
        int n = 0;
        d->chosen_pid[n++] = v->pid;
        for (int i = 0; i < v->group_n; i++)
            d->chosen_pid[n++] = v->group_pid[i];
        ch->exclude = d->chosen_pid;
        ch->exclude_n = n;
        if (mw_victim_choose(&d->ws, &d->cfg, ch, &more) <= 0)
            break;
        close(more.stat_fd);
        covered += more.runaway ? more.unit_kb : more.rss_kb + more.swap_kb;
        victims++;
        v->group_pid[v->group_n] = more.pid;
        v->group_start[v->group_n++] = more.starttime;
        for (int i = 0; i < more.group_n && v->group_n < MW_VICTIM_GROUP; i++) {
            v->group_pid[v->group_n] = more.group_pid[i];
            v->group_start[v->group_n++] = more.group_start[i];
        }
    }
    if (victims > 1)
        dlog(LOG_NOTICE, "deficit %llukB: %d victims (%llukB) signalled together",
             (unsigned long long)dec->deficit_kb, victims, (unsigned long long)covered);
    ch->exclude = NULL;
    ch->exclude_n = 0;
}

/* Returns true when a kill (or a dry-run choice) was made. */
static bool cycle(struct daemon *d, unsigned events, uint64_t event_ms, struct mw_mem_state *st)
{
    static char line[2048];
    if (sample(d, st) < 0)
        return false;
    st->events = events;
    alerts(d, st);
    if (d->settling) {
        if (st->now_ms >= d->settle_until_ms ||
            mw_policy_kill_visible(&d->settle_before, st, d->settle_rss_kb, d->settle_swap_kb))
            d->settling = false;
        else
            return false; /* the last kill's memory is still on its way back */
    }
    st->adj_flat = d->adj_flat;
    struct mw_decision dec;
    mw_policy_decide(&d->cfg, st, &d->thrash, &dec);
    if (!dec.kill) {
        refresh_footprints(d, st);
        return false;
    }

    static struct mw_victim v; /* static: 3 KiB, and the kill path allocates nothing */
    struct mw_choice ch = {.min_adj = dec.min_adj,
                           .runaway_only = dec.runaway_only,
                           .runaway_any_adj = dec.runaway_any_adj,
                           .flat = d->adj_flat,
                           .total_kb = st->total_kb,
                           .pen = &d->pen,
                           .now_ms = st->now_ms};
    int rc = mw_victim_choose(&d->ws, &d->cfg, &ch, &v);
    note_layout(d);
    if (rc > 0 && !d->o->dry_run)
        cover_deficit(d, &dec, &ch, &v);
    if (rc == 0 && dec.runaway_only)
        return false; /* no runaway: swap takes the pressure, nobody dies */
    if (rc <= 0) {
        if (mw_rate_allow(&d->no_victim_last_ms, st->now_ms, 10000))
            dlog(LOG_WARNING, "%s (%s) but no process at adj >= %d may be killed%s%s",
                 mw_reason_name(dec.reason), dec.detail, dec.min_adj, rc < 0 ? ": " : "",
                 rc < 0 ? strerror(-rc) : "");
        return false;
    }
    struct mw_kill_record rec;
    record_from(&rec, &v, &dec, st);
    if (d->o->dry_run) {
        bool repeat = v.pid == d->last_dry_pid && st->now_ms - d->last_dry_ms < DRY_RUN_REPEAT_MS;
        close(v.stat_fd);
        if (repeat)
            return true;
        d->last_dry_pid = v.pid;
        d->last_dry_ms = st->now_ms;
        rec.dry_run = true;
        rec.latency_ms = mw_now_ms() - event_ms;
        report_kill(d, &rec, LOG_NOTICE, line, sizeof(line));
        return true;
    }
    if (d->cfg.pre_kill_hook.n > 0) {
        kill_hook_env(&v, "pre_kill", rec.reason);
        run_hook(d, &d->cfg.pre_kill_hook, "pre-kill");
    }
    uint64_t avail_before = st->available_kb;
    struct mw_kill_result kr;
    uint64_t t_sig = mw_now_ms();
    rc = mw_kill_victim(d->root->fd, &v, &d->cfg, false, &kr);
    close(v.stat_fd);
    if (rc < 0) {
        dlog(LOG_WARNING, "kill of pid %d (%s) failed: %s", v.pid, v.comm,
             kr.gone_before ? "it exited first" : strerror(-rc));
        return kr.gone_before; /* gone: memory came back anyway, re-sample */
    }
    rec.latency_ms = t_sig - event_ms;
    rec.wait_ms = kr.wait_ms;
    rec.exited = kr.exited;
    rec.reaped = kr.released;
    rec.termed = kr.termed;
    rec.cgroup_killed = kr.cgroup_killed;
    rec.group_killed = kr.group_killed;
    mw_policy_killed(&d->cfg, &d->thrash, &dec);
    mw_victim_forget(&d->ws); /* footprints moved; penalties may change below */
    d->settling = d->cfg.kill_settle_ms > 0;
    d->settle_until_ms = t_sig + d->cfg.kill_settle_ms;
    d->settle_before = *st;
    d->settle_rss_kb = v.rss_kb;
    d->settle_swap_kb = v.swap_kb;
    struct mw_mem_state after;
    if (sample(d, &after) == 0) {
        rec.freed_kb = (int64_t)after.available_kb - (int64_t)avail_before;
        *st = after;
    }
    report_kill(d, &rec, LOG_ERR, line, sizeof(line));
    d->state.kills++;
    d->state.last_kill_time = rec.time_s;
    size_t ll = strlen(line) < sizeof(d->state.last_kill) - 1 ? strlen(line)
                                                              : sizeof(d->state.last_kill) - 1;
    memcpy(d->state.last_kill, line, ll);
    d->state.last_kill[ll] = '\0';
    loop_check(d, &v, st->now_ms);
    if (d->cfg.post_kill_hook.n > 0) {
        kill_hook_env(&v, "post_kill", rec.reason);
        run_hook(d, &d->cfg.post_kill_hook, "post-kill");
    }
    state_write(d);
    return true;
}

/* ---- watchdog ------------------------------------------------------------ */

static volatile sig_atomic_t watchdog_strikes;
/* Exiting for a restart only helps under a supervisor that restarts us
 * (systemd: NOTIFY_SOCKET set). Elsewhere a stuck cycle is only reported:
 * in the VM bed's fork storm a 5 s stall made an unsupervised daemon quit
 * exactly when it was needed. */
static bool watchdog_may_exit;

static void watchdog_fire(int sig)
{
    (void)sig;
    static const char msg[] = "<2>memwarden: watchdog: a cycle is stuck (blocked in the kernel?)\n";
    static const char bye[] = "<2>memwarden: watchdog: still stuck, exiting for a restart\n";
    watchdog_strikes++;
    if (watchdog_strikes >= 3 && watchdog_may_exit) {
        ssize_t w = write(2, bye, sizeof(bye) - 1);
        (void)w;
        _exit(70);
    }
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w;
}

static void watchdog_arm(uint64_t ms)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    if (ms) {
        it.it_value.tv_sec = (time_t)(ms / 1000);
        it.it_value.tv_usec = (suseconds_t)((ms % 1000) * 1000);
        it.it_interval = it.it_value;
    }
    watchdog_strikes = 0;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- readiness (sd_notify without libsystemd) --------------------------- */

static void sd_notify_msg(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= 108)
        return;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    close(fd);
}

/* ---- setup ------------------------------------------------------------- */

static int open_scope(struct daemon *d, const char *scope)
{
    int v = mw_cgroup_version(d->root, scope);
    if (v < 0)
        return v;
    d->scope_version = v;
    if (v == 1) {
        d->cg_usage_fd = open_rel(d->root, scope, "memory.usage_in_bytes", O_RDONLY);
        d->cg_limit_fd = open_rel(d->root, scope, "memory.limit_in_bytes", O_RDONLY);
        d->cg_swap_usage_fd = open_rel(d->root, scope, "memory.memsw.usage_in_bytes", O_RDONLY);
        d->cg_swap_limit_fd = open_rel(d->root, scope, "memory.memsw.limit_in_bytes", O_RDONLY);
        d->cg_failcnt_fd = open_rel(d->root, scope, "memory.failcnt", O_RDONLY);
        d->cg_events_fd = open_rel(d->root, scope, "memory.oom_control", O_RDONLY);
    } else {
        d->cg_usage_fd = open_rel(d->root, scope, "memory.current", O_RDONLY);
        d->cg_limit_fd = open_rel(d->root, scope, "memory.max", O_RDONLY);
        d->cg_swap_usage_fd = open_rel(d->root, scope, "memory.swap.current", O_RDONLY);
        d->cg_swap_limit_fd = open_rel(d->root, scope, "memory.swap.max", O_RDONLY);
        d->cg_events_fd = open_rel(d->root, scope, "memory.events", O_RDONLY);
        d->cg_psi_fd = open_rel(d->root, scope, "memory.pressure", O_RDONLY);
    }
    d->cg_stat_fd = open_rel(d->root, scope, "memory.stat", O_RDONLY);
    d->cg_dir_fd = open_rel(d->root, scope, "", O_RDONLY | O_DIRECTORY);
    if (d->cg_usage_fd < 0 || d->cg_limit_fd < 0 || d->cg_stat_fd < 0 || d->cg_dir_fd < 0)
        return -errno ? -errno : -ENOENT;
    return 0;
}

static void daemon_init_fds(struct daemon *d)
{
    d->meminfo_fd = d->vmstat_fd = d->zoneinfo_fd = d->psi_fd = -1;
    d->cg_usage_fd = d->cg_limit_fd = d->cg_swap_usage_fd = d->cg_swap_limit_fd = -1;
    d->cg_stat_fd = d->cg_events_fd = d->cg_failcnt_fd = d->cg_psi_fd = d->cg_dir_fd = -1;
    d->history_fd = d->epfd = d->sigfd = -1;
    d->ws.proc_fd = -1;
}

static void daemon_close(struct daemon *d)
{
    int fds[] = {
        d->meminfo_fd,    d->vmstat_fd,        d->zoneinfo_fd,      d->psi_fd,     d->cg_usage_fd,
        d->cg_limit_fd,   d->cg_swap_usage_fd, d->cg_swap_limit_fd, d->cg_stat_fd, d->cg_events_fd,
        d->cg_failcnt_fd, d->cg_psi_fd,        d->cg_dir_fd,        d->history_fd, d->epfd,
        d->sigfd};
    for (size_t i = 0; i < MW_ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    mw_pressure_close(&d->pr);
    mw_scan_ws_free(&d->ws);
}

static int daemon_setup(struct daemon *d, bool for_choice)
{
    const struct mw_root *root = d->root;
    d->meminfo_fd = open_rel(root, "proc", "meminfo", O_RDONLY);
    if (d->meminfo_fd < 0)
        return -errno;
    d->vmstat_fd = open_rel(root, "proc", "vmstat", O_RDONLY);
    d->zoneinfo_fd = open_rel(root, "proc", "zoneinfo", O_RDONLY);
    d->psi_fd = open_rel(root, "proc", "pressure/memory", O_RDONLY);
    if (d->o->scope) {
        int rc = open_scope(d, d->o->scope);
        if (rc < 0)
            return rc;
    }
    /* Room for every PID the scan may meet; pages are touched (and so
     * locked and counted) only as far as the process count reaches. */
    size_t cap = d->o->scope ? 16384 : 4194304 / 8;
    int rc = mw_scan_ws_init(&d->ws, root, d->o->scope ? d->cg_dir_fd : -1, cap);
    if (rc < 0)
        return rc;
    if (for_choice)
        return 0;
    const char *hist = d->o->history ? d->o->history : d->cfg.history_file;
    snprintf(d->history_path, sizeof(d->history_path), "%s", hist);
    if (d->history_path[0]) {
        d->history_fd = open(d->history_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (d->history_fd < 0)
            return -errno;
    }
    snprintf(d->state_path, sizeof(d->state_path), "%s",
             d->o->state_file ? d->o->state_file : d->cfg.state_file);
    return 0;
}

static void setup_pressure(struct daemon *d)
{
    const char *psi_path = NULL, *vmp_dir = NULL;
    static char psi_scope[600];
    if (d->o->scope) {
        if (d->scope_version == 2) {
            snprintf(psi_scope, sizeof(psi_scope), "%s/memory.pressure", d->o->scope);
            psi_path = psi_scope;
        } else {
            vmp_dir = d->o->scope;
        }
    } else {
        psi_path = "/proc/pressure/memory";
        vmp_dir = "/sys/fs/cgroup/memory";
    }
    mw_pressure_open(&d->pr, d->root->fd, d->epfd, psi_path, vmp_dir, d->cfg.psi_partial_stall_ms,
                     d->cfg.psi_complete_stall_ms, d->cfg.psi_window_ms);
    if (d->pr.window_fallback)
        dlog(LOG_NOTICE,
             "psi: the kernel refused a %llu ms window (no CAP_SYS_RESOURCE: unprivileged "
             "triggers need multiples of 2 s); using a 2 s window with thresholds scaled to "
             "some %llu ms, full %llu ms",
             (unsigned long long)d->cfg.psi_window_ms, (unsigned long long)d->pr.some_ms,
             (unsigned long long)d->pr.full_ms);
    else if (psi_path && d->pr.source != MW_SRC_PSI)
        dlog(LOG_NOTICE, "psi triggers on %s unavailable (%s)", psi_path, strerror(-d->pr.psi_err));
    snprintf(d->state.source, sizeof(d->state.source), "%s", d->pr.desc);
}

/* lmkd's way: SCHED_FIFO at the lowest real-time priority, so a machine
 * busy with the processes eating its memory still runs the killer at once.
 * SCHED_RESET_ON_FORK: hooks start as normal processes. The kernel's RT
 * throttling (sched_rt_runtime_us) keeps 5 % of every CPU for the rest
 * even if a cycle spun. Falls back to nice -20, then says so. */
static void raise_priority(const struct mw_config *cfg)
{
    if (!cfg->realtime)
        return;
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
    struct sched_param sp = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
        return;
    int e = errno;
    if (setpriority(PRIO_PROCESS, 0, -20) == 0)
        dlog(LOG_NOTICE, "SCHED_FIFO refused (%s): running at nice -20 instead", strerror(e));
    else
        dlog(LOG_WARNING,
             "SCHED_FIFO refused (%s) and nice -20 too: a busy machine may delay kills "
             "(needs CAP_SYS_NICE; realtime = false silences this)",
             strerror(e));
}

static void protect_self(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "-1000", 5) != 5)
        dlog(LOG_WARNING,
             "cannot set own oom_score_adj to -1000 (%s): the kernel's OOM killer may pick "
             "memwarden (needs CAP_SYS_RESOURCE; systemd: OOMScoreAdjust=-1000)",
             strerror(errno));
    if (fd >= 0)
        close(fd);
    /* Only what is touched gets locked (MCL_ONFAULT, 4.4+): the daemon's
     * working set stays resident without pinning untouched buffers. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0 &&
        mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        dlog(LOG_WARNING, "mlockall: %s (memwarden itself may be swapped out)", strerror(errno));
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    setsid();
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

static void reload(struct daemon *d)
{
    if (!d->o->config_path) {
        dlog(LOG_NOTICE, "SIGHUP: no --config file; nothing to reload");
        return;
    }
    static struct mw_config next;
    char err[320];
    mw_config_defaults(&next);
    if (mw_config_load(&next, d->o->config_path, err, sizeof(err)) < 0) {
        dlog(LOG_ERR, "reload rejected, the old configuration stays in force: %s", err);
        return;
    }
    bool psi_changed = next.psi_partial_stall_ms != d->cfg.psi_partial_stall_ms ||
                       next.psi_complete_stall_ms != d->cfg.psi_complete_stall_ms ||
                       next.psi_window_ms != d->cfg.psi_window_ms;
    d->cfg = next;
    mw_thrash_init(&d->thrash, &d->cfg);
    snprintf(d->state.strategy, sizeof(d->state.strategy), "%s",
             d->cfg.strategy == MW_STRATEGY_MINFREE ? "minfree" : "psi");
    if (psi_changed) {
        mw_pressure_close(&d->pr);
        setup_pressure(d);
    }
    dlog(LOG_NOTICE, "configuration reloaded from %s", d->o->config_path);
    state_write(d);
}

int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o, struct mw_config *cfg)
{
    static struct daemon d; /* static: no stack page holds 100 KiB */
    memset(&d, 0, sizeof(d));
    daemon_init_fds(&d);
    d.root = root;
    d.o = o;
    d.cfg = *cfg;
    log_to_stderr = o->foreground;
    if (!o->foreground) {
        openlog("memwarden", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        if (daemonize() < 0)
            return 1;
    }
    int rc = daemon_setup(&d, false);
    if (rc < 0) {
        dlog(LOG_ERR, "setup failed%s%s: %s%s", o->scope ? " for scope " : "",
             o->scope ? o->scope : "", strerror(-rc),
             o->scope && rc == -ENOENT ? " (not a memory cgroup: neither memory.current nor "
                                         "memory.usage_in_bytes)"
                                       : "");
        daemon_close(&d);
        return 1;
    }
    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    d.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    struct epoll_event sev = {.events = EPOLLIN, .data.u32 = TAG_SIGNAL};
    epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.sigfd, &sev);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    watchdog_may_exit = getenv("NOTIFY_SOCKET") != NULL;
    sa.sa_handler = watchdog_fire;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    d.state.pid = (int)getpid();
    d.state.started = (uint64_t)time(NULL);
    d.state.dry_run = o->dry_run;
    snprintf(d.state.scope, sizeof(d.state.scope), "%s", o->scope ? o->scope : "");
    snprintf(d.state.strategy, sizeof(d.state.strategy), "%s",
             d.cfg.strategy == MW_STRATEGY_MINFREE ? "minfree" : "psi");
    setup_pressure(&d);
    struct mw_choice layout = {.min_adj = 1001, .now_ms = mw_now_ms()};
    mw_victim_refresh(&d.ws, &d.cfg, &layout); /* reads every adj: the layout */
    d.adj_flat = !(d.cfg.adj_mode == MW_ADJ_FLAT ||
                   (d.cfg.adj_mode == MW_ADJ_AUTO && mw_scan_adj_flat(&d.ws)));
    note_layout(&d); /* says it */
    protect_self();
    raise_priority(&d.cfg);
    mw_thrash_init(&d.thrash, &d.cfg);

    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    if (sample(&d, &st) < 0) {
        dlog(LOG_ERR, "cannot read the memory state");
        daemon_close(&d);
        return 1;
    }
    dlog(LOG_NOTICE,
         "started: %s%s, strategy %s%s, event source: %s, total %llukB, watermarks "
         "min/low/high %llu/%llu/%llu kB%s",
         o->scope ? "scope " : "whole machine", o->scope ? o->scope : "", d.state.strategy,
         d.cfg.low_ram ? " (low-RAM profile)" : "", d.pr.desc, (unsigned long long)st.total_kb,
         (unsigned long long)st.wmark_min_kb, (unsigned long long)st.wmark_low_kb,
         (unsigned long long)st.wmark_high_kb, o->dry_run ? ", DRY RUN (kills nothing)" : "");
    state_write(&d);
    sd_notify_msg("READY=1");

    uint64_t interval = mw_policy_interval_ms(&d.cfg, &st);
    uint64_t fast_until = 0; /* after an event, sample often for one window */
    int exit_code = 0;
    for (;;) {
        uint64_t now = mw_now_ms();
        uint64_t wait_ms = interval;
        if (fast_until > now && wait_ms > 100)
            wait_ms = 100;
        struct epoll_event evs[8];
        int n = epoll_wait(d.epfd, evs, 8, (int)wait_ms);
        if (n < 0 && errno != EINTR) {
            dlog(LOG_ERR, "epoll_wait: %s", strerror(errno));
            exit_code = 1;
            break;
        }
        uint64_t event_ms = mw_now_ms();
        unsigned events = n == 0 ? MW_EV_TIMER : 0;
        bool stop = false;
        for (int i = 0; i < n; i++) {
            int tag = (int)evs[i].data.u32;
            if (tag == TAG_SIGNAL) {
                struct signalfd_siginfo si;
                while (read(d.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    if (si.ssi_signo == SIGHUP)
                        reload(&d);
                    else if (si.ssi_signo == SIGUSR1)
                        state_write(&d);
                    else
                        stop = true;
                }
                continue;
            }
            events |= mw_pressure_ack(&d.pr, tag);
        }
        if (stop)
            break;
        if (events & (MW_EV_PARTIAL_STALL | MW_EV_COMPLETE_STALL)) {
            fast_until = event_ms + (d.pr.window_ms ? d.pr.window_ms : 1000);
            d.state.wakeups_pressure++;
        } else if (events & MW_EV_TIMER) {
            d.state.wakeups_timer++;
        }
        if (!events)
            continue;
        if (fast_until > event_ms || d.pr.source == MW_SRC_POLL)
            events |= MW_EV_PRESSURE_WINDOW;
        watchdog_arm(d.cfg.watchdog_ms);
        int kills = 0;
        while (cycle(&d, events, event_ms, &st)) {
            if (o->dry_run || d.cfg.one_kill_at_a_time || ++kills >= MAX_KILLS_PER_CYCLE)
                break;
            events = MW_EV_TIMER | (events & MW_EV_PRESSURE_WINDOW); /* re-check at once */
            event_ms = mw_now_ms();
        }
        watchdog_arm(0);
        interval = mw_policy_interval_ms(&d.cfg, &st);
    }
    dlog(LOG_NOTICE, "stopping (%llu kills)", (unsigned long long)d.state.kills);
    if (d.state_path[0])
        unlink(d.state_path);
    daemon_close(&d);
    return exit_code;
}

int mw_daemon_choose_once(const struct mw_root *root, const struct mw_daemon_opts *o,
                          const struct mw_config *cfg, int min_adj, bool json)
{
    static struct daemon d;
    memset(&d, 0, sizeof(d));
    daemon_init_fds(&d);
    d.root = root;
    d.o = o;
    d.cfg = *cfg;
    int rc = daemon_setup(&d, true);
    if (rc < 0) {
        fprintf(stderr, "memwarden daemon: %s%s: %s\n", o->scope ? "scope " : "",
                o->scope ? o->scope : "/proc", strerror(-rc));
        daemon_close(&d);
        return 1;
    }
    static struct mw_victim v;
    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    if (sample(&d, &st) < 0)
        st.total_kb = 0; /* no runaway pass without a total */
    /* As the daemon does while pressure builds: sample the footprints
     * first (timed apart), then the choice reads only what changed. */
    struct timespec t0, t1;
    struct mw_choice ch = {.min_adj = min_adj, .total_kb = st.total_kb, .now_ms = mw_now_ms()};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mw_victim_refresh(&d.ws, &d.cfg, &ch);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double refresh_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    ch.flat =
        d.cfg.adj_mode == MW_ADJ_FLAT || (d.cfg.adj_mode == MW_ADJ_AUTO && mw_scan_adj_flat(&d.ws));
    ch.now_ms = mw_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = mw_victim_choose(&d.ws, &d.cfg, &ch, &v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (rc > 0)
        close(v.stat_fd);
    char prog[160] = "", cmd[600] = "";
    if (rc > 0) {
        mw_json_escape(prog, sizeof(prog), v.comm);
        mw_json_escape(cmd, sizeof(cmd), v.cmdline);
    }
    if (json) {
        printf("{\"scanned\":%u,\"detailed\":%u,\"choose_time\":%.6f,", d.ws.scanned, d.ws.detailed,
               ms / 1000.0);
        if (rc > 0)
            printf("\"victim\":{\"pid\":%d,\"uid\":%u,\"adj\":%d,\"effective_adj\":%d,"
                   "\"prog\":\"%s\",\"cmdline\":\"%s\",\"rss\":%llu,\"swap\":%llu,",
                   v.pid, (unsigned)v.uid, v.adj, v.eff_adj, prog, cmd,
                   (unsigned long long)v.rss_kb * 1024, (unsigned long long)v.swap_kb * 1024);
        if (rc > 0 && v.runaway)
            printf("\"runaway\":{\"footprint\":%llu,\"growth\":%llu,\"group\":%d}}}\n",
                   (unsigned long long)v.unit_kb * 1024, (unsigned long long)v.growth_kb_s * 1024,
                   v.group_n);
        else if (rc > 0)
            printf("\"runaway\":null}}\n");
        else
            printf("\"victim\":null}\n");
    } else {
        if (rc > 0)
            printf("victim pid=%d uid=%u adj=%d effective_adj=%d prog=%s rss=%llukB "
                   "swap=%llukB\n",
                   v.pid, (unsigned)v.uid, v.adj, v.eff_adj, v.comm, (unsigned long long)v.rss_kb,
                   (unsigned long long)v.swap_kb);
        if (rc > 0 && v.runaway)
            printf("runaway: %llukB growing %llukB/s on average since it started\n",
                   (unsigned long long)v.unit_kb, (unsigned long long)v.growth_kb_s);
        if (rc > 0 && v.runaway && v.group_n > 0)
            printf("group: %d young siblings of the same name die with it\n", v.group_n);
        if (rc <= 0)
            printf("victim none (no process at adj >= %d may be killed)\n", min_adj);
        printf("scanned %u processes, read details of %u, in %.3f ms (dry run: nothing "
               "killed)\n",
               d.ws.scanned, d.ws.detailed, ms);
        printf("adj layout %s; footprint cache sampled before the choice in %.3f ms (the "
               "daemon does that while pressure builds)\n",
               ch.flat ? "flat" : "android", refresh_ms);
    }
    daemon_close(&d);
    return rc < 0 ? 1 : 0;
}
