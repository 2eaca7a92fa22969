#include "lmk/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "proc/cgroup.h"
#include "lmk/cycle.h"
#include "lmk/history.h"
#include "lmk/hooks.h"
#include "lmk/kill.h"
#include "lmk/metricsd.h"
#include "lmk/state.h"
#include "lmk/sysglue.h"
#include "proc/meminfo.h"
#include "lmk/policy.h"
#include "lmk/pressure.h"
#include "proc/psi.h"
#include "lmk/victim.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"

#define TAG_SIGNAL 100
/* Watermarks change only with min_free_kbytes or memory hotplug. */
#define ZONEINFO_REFRESH_MS 60000

/* ---- the daemon's world ----------------------------------------------- */

struct daemon {
    const struct mw_root *root;
    const struct mw_daemon_opts *o;
    struct mw_config cfg;
    /* system files, opened once */
    int meminfo_fd, vmstat_fd, zoneinfo_fd, psi_fd;
    struct mw_cgroup_src scope; /* --scope: the cgroup's files, open once */
    struct mw_zoneinfo zi;
    bool have_zi;
    uint64_t zi_read_ms;
    struct mw_zoneinfo_src zsrc; /* zoneinfo_fd with a buffer sized to the file */
    uint64_t zi_said_ms;
    bool zi_stale; /* the last re-read failed: state.warning says so */
    struct mw_scan_ws ws;
    struct mw_pressure pr;
    int epfd, sigfd;
    struct mw_daemon_state state;
    char state_path[MW_CFG_PATH_LEN];
    char history_path[MW_CFG_PATH_LEN];
    int history_fd;
    uint64_t interval_ms;   /* the next wait when nothing happens */
    uint64_t fast_until_ms; /* after an event, sample often for one window */
    /* the kill cycle (cycle.h): its memory, the scan it reads through,
     * and what it decided this sample */
    struct mw_cycle cyc;
    struct mw_cycle_ops ops;
    struct mw_cycle_out out;
    /* the metrics process (lmk/metricsd.h) and the counters it shows */
    struct mw_metrics_live *live;
    pid_t metrics_pid;
    struct mw_metricsd_opts mopts;
};

/* Counter updates for the metrics process: plain relaxed stores into the
 * shared page, nothing to wait on. */
static void live_add(struct daemon *d, uint64_t *counter)
{
    if (d->live)
        __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

/* Static buffers for the files read every sample: the sample and the kill
 * path never allocate. */
static char meminfo_buf[8192], vmstat_buf[16384], psi_buf[512];

/* ROOT/proc/NAME, a regular file only (never a FIFO that would hang the
 * daemon). Returns the descriptor or -errno. */
static int open_proc(const struct mw_root *root, const char *name)
{
    char path[64];
    snprintf(path, sizeof(path), "proc/%s", name);
    return mw_open_regular_at(root->fd, path, 0);
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
    int rc = mw_cgroup_src_read(&d->scope, &cg);
    if (rc < 0)
        return rc;
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
    struct mw_psi psi;
    bool have_psi = d->psi_fd >= 0 && mw_pread_all(d->psi_fd, psi_buf, sizeof(psi_buf)) >= 0 &&
                    mw_psi_parse_buf(&psi, psi_buf, NULL) == 0;
    mw_state_from_system(st, &mi, have_vs ? &vs : NULL, d->have_zi ? &d->zi : NULL,
                         have_psi ? &psi : NULL, d->root->page_size, now);
    return 0;
}

/* Re-reads the watermarks every ZONEINFO_REFRESH_MS through the buffer
 * sized at setup (zoneinfo_setup), before sample_system uses them. A
 * zoneinfo grown past the buffer keeps the watermarks read before, and
 * says so. */
static void zoneinfo_refresh(struct daemon *d, uint64_t now)
{
    if (d->zoneinfo_fd < 0 || now - d->zi_read_ms < ZONEINFO_REFRESH_MS)
        return;
    d->zi_read_ms = now;
    int rc = mw_zoneinfo_src_read(&d->zsrc, &d->zi);
    if (rc == 0)
        d->have_zi = true;
    if (rc == 0 && d->zi_stale) {
        d->state.warning[0] = '\0';
        d->zi_stale = false;
    }
    d->zi_stale |= rc < 0;
    if (rc < 0 && mw_rate_allow(&d->zi_said_ms, now, 3600 * 1000)) {
        snprintf(d->state.warning, sizeof(d->state.warning),
                 "/proc/zoneinfo re-read failed (%s; over %zu bytes?): watermarks of %llu s ago "
                 "in use",
                 mw_strerror(-rc), d->zsrc.cap, (unsigned long long)(ZONEINFO_REFRESH_MS / 1000));
        mw_dlog(LOG_CRIT, "%s", d->state.warning);
    }
}

static int sample(struct daemon *d, struct mw_mem_state *st)
{
    uint64_t now = mw_now_ms();
    if (!d->o->scope)
        zoneinfo_refresh(d, now);
    return d->o->scope ? sample_scope(d, st, now) : sample_system(d, st, now);
}

/* ---- state, history, hooks ------------------------------------------- */

/* Rewrites the state file (atomically, never through a symlink: state.h);
 * a failure is said once per path. */
static void state_write(struct daemon *d)
{
    static char said_for[MW_CFG_PATH_LEN];
    if (!d->state_path[0])
        return;
    d->state.updated = (uint64_t)time(NULL);
    int rc = mw_daemon_state_write(d->state_path, &d->state);
    if (rc < 0 && strcmp(said_for, d->state_path) != 0) {
        mw_dlog(LOG_WARNING, "state file %s: %s", d->state_path, mw_strerror(-rc));
        snprintf(said_for, sizeof(said_for), "%s", d->state_path);
    }
}

/* Why the history file could not be opened, in words. */
static const char *history_err(int rc)
{
    return rc == -ELOOP                     ? "it is a symbolic link (refused)"
           : rc == -EINVAL || rc == -EBADFD ? "not a regular file (refused)"
                                            : mw_strerror(-rc);
}

/* The history and state paths from the options (which win) or CFG; opens
 * the history file (history.h: 0600, no symlink). At start a failure is
 * fatal; on SIGHUP (RELOAD) the old file stays in use. Returns 0 or
 * -errno, logged naming the file. */
static int open_outputs(struct daemon *d, const struct mw_config *cfg, bool reload)
{
    const char *hist = d->o->history ? d->o->history : cfg->history_file;
    const char *state = d->o->state_file ? d->o->state_file : cfg->state_file;
    int fd = -1;
    if (hist[0] && (fd = mw_history_open(hist)) < 0) {
        mw_dlog(LOG_ERR, "cannot open the history file %s: %s%s", hist, history_err(fd),
                reload && d->history_fd >= 0 ? "; still writing the one open before" : "");
        return fd;
    }
    if (d->history_fd >= 0)
        close(d->history_fd); /* reopened: logrotate moved it, or the config names another */
    d->history_fd = fd;
    snprintf(d->history_path, sizeof(d->history_path), "%s", hist);
    if (strcmp(state, d->state_path) != 0) {
        if (d->state_path[0])
            unlink(d->state_path);
        snprintf(d->state_path, sizeof(d->state_path), "%s", state);
    }
    return 0;
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
        mw_dlog(LOG_WARNING, "%s hook %s: killed after %llu ms", what, a->arg[0],
                (unsigned long long)d->cfg.hook_timeout_ms);
    else if (rc < 0)
        mw_dlog(LOG_WARNING, "%s hook %s: %s", what, a->arg[0], mw_strerror(-rc));
    else if (rc != 0)
        mw_dlog(LOG_WARNING, "%s hook %s: exit status %d", what, a->arg[0], rc);
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

/* Raises the alerts the cycle found due (OUT->alerts): log, counter, hook. */
static void alerts(struct daemon *d, const struct mw_cycle_out *out, const struct mw_mem_state *st)
{
    for (unsigned k = 0; k < MW_ALERT_KINDS; k++) {
        unsigned bit = 1u << k;
        if (!(out->alerts & bit))
            continue;
        mw_dlog(LOG_WARNING, "alert %s: %s", mw_alert_name(bit), out->alert_msg);
        if (d->live)
            live_add(d, &d->live->alerts);
        hook_env_set(0, "MW_EVENT=alert");
        hook_env_set(1, "MW_ALERT=%s", mw_alert_name(bit));
        hook_env_set(2, "MW_MESSAGE=%s", out->alert_msg);
        hook_env_set(3, "MW_AVAILABLE_KB=%llu", (unsigned long long)st->available_kb);
        hook_env_set(4, "MW_TOTAL_KB=%llu", (unsigned long long)st->total_kb);
        hook_env_set(5, "MW_SWAP_FREE_KB=%llu", (unsigned long long)st->swap_free_kb);
        hook_env_set(6, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        run_hook(d, &d->cfg.alert_hook, "alert");
    }
}

/* Says a kill-restart loop the cycle found (OUT->loop_kills) loudly, at
 * every kill of it; the hook when the cycle says it is due. */
static void loop_report(struct daemon *d, const struct mw_cycle_out *out)
{
    const struct mw_config *c = &d->cfg;
    if (out->loop_kills == 0)
        return;
    if (d->live)
        live_add(d, &d->live->loops);
    const char *act = c->loop_action == MW_LOOP_COOLDOWN  ? "left alone"
                      : c->loop_action == MW_LOOP_PROTECT ? "protected"
                                                          : "still a candidate";
    mw_dlog(LOG_CRIT,
            "KILL LOOP: %s killed %d times within %llu ms (it restarts after each kill); %s for "
            "%llu ms",
            out->victim.comm, out->loop_kills, (unsigned long long)c->loop_window_ms, act,
            (unsigned long long)c->loop_cooldown_ms);
    if (!out->loop_hook)
        return;
    hook_env_set(0, "MW_EVENT=alert");
    hook_env_set(1, "MW_ALERT=kill_loop");
    hook_env_set(2, "MW_PROG=%s", out->victim.comm);
    hook_env_set(3, "MW_KILLS=%d", out->loop_kills);
    hook_env_set(4, "MW_WINDOW_MS=%llu", (unsigned long long)c->loop_window_ms);
    hook_env_set(5, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    run_hook(d, &c->alert_hook, "alert");
}

/* Ms since boot (CLOCK_BOOTTIME: the clock of /proc/PID/stat's start). */
static uint64_t boot_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
    r->group_pid = v->group_pid;
}

/* Says what was done: REC's one-line form into LINE (kept by the caller
 * for the state file) and the log at PRIORITY, its JSON form appended to
 * the history file when there is one. Static buffers: no allocation on the
 * kill path. */
static void report_kill(struct daemon *d, const struct mw_kill_record *rec, int priority,
                        char *line, size_t cap)
{
    static char json[8192]; /* 4096 + a group of 128 pids */
    mw_kill_format_line(line, cap, rec);
    mw_dlog(priority, "%s", line);
    if (d->history_fd >= 0) {
        size_t n = mw_kill_format_json(json, sizeof(json) - 1, rec);
        if (n == 0) {
            mw_dlog(LOG_WARNING, "history: the record of pid %d does not fit, not written",
                    rec->pid);
            return;
        }
        json[n++] = '\n';
        ssize_t w = write(d->history_fd, json, n);
        (void)w;
    }
}

/* The cycle's reads (struct mw_cycle_ops): the victim scan. */
static int op_choose(void *ctx, const struct mw_choice *c, struct mw_victim *out)
{
    struct daemon *d = ctx;
    return mw_victim_choose(&d->ws, &d->cfg, c, out);
}

static void op_put(void *ctx, struct mw_victim *v)
{
    (void)ctx;
    close(v->stat_fd);
    v->stat_fd = -1;
}

static int op_refresh(void *ctx, const struct mw_choice *c)
{
    struct daemon *d = ctx;
    return mw_victim_refresh(&d->ws, &d->cfg, c);
}

static void op_forget(void *ctx)
{
    mw_victim_forget(&((struct daemon *)ctx)->ws);
}

static bool op_scan_flat(void *ctx)
{
    return mw_scan_adj_flat(&((struct daemon *)ctx)->ws);
}

static int64_t op_procs_swap_kb(void *ctx, uint64_t *sampled_ms)
{
    struct daemon *d = ctx;
    *sampled_ms = d->ws.refresh_ms;
    return mw_victim_swap_kb(&d->ws);
}

/* Says the adj layout the cycle uses now. */
static void say_layout(const struct daemon *d)
{
    mw_dlog(LOG_NOTICE, "adj layout: %s%s",
            d->cyc.adj_flat ? "flat (the kernel's oom_badness order)"
                            : "android classes (lmkd's order)",
            d->cfg.adj_mode == MW_ADJ_AUTO ? " (detected)" : " (adj_mode)");
}

/* Says what the cycle noted on the way to its decision: memory held
 * (log, state file), the layout, the victims of a cover, no victim or a
 * kill that cannot help. */
static void say_notes(struct daemon *d, const struct mw_cycle_out *out)
{
    const struct mw_decision *dec = &out->dec;
    const char *reason = mw_reason_name(dec->reason);
    if (out->say_held)
        mw_dlog(LOG_WARNING, "%s (%s) but no kill: %s", reason, dec->detail, dec->held_detail);
    if (out->publish_held) {
        snprintf(d->state.held, sizeof(d->state.held), "%s", d->cyc.held);
        state_write(d);
    }
    if (out->layout_changed)
        say_layout(d);
    if (out->cover_victims > 1)
        mw_dlog(LOG_NOTICE, "deficit %llukB: %d victims (%llukB) signalled together",
                (unsigned long long)dec->deficit_kb, out->cover_victims,
                (unsigned long long)out->covered_kb);
    if (!out->say_note)
        return;
    if (out->note == MW_CYCLE_NOTE_NO_VICTIM)
        mw_dlog(LOG_WARNING, "%s (%s) but no process at adj >= %d may be killed%s%s", reason,
                dec->detail, dec->min_adj, out->choose_rc < 0 ? ": " : "",
                out->choose_rc < 0 ? mw_strerror(-out->choose_rc) : "");
    else if (out->note == MW_CYCLE_NOTE_IN_VAIN)
        mw_dlog(LOG_NOTICE,
                "%s (%s) but no kill: the best victim, pid %d (%s), holds %llukB, under 1/%d of "
                "the %llukB deficit; killing it cannot end the shortage",
                reason, dec->detail, out->victim.pid, out->victim.comm,
                (unsigned long long)out->frees_kb, MW_KILL_USEFUL_DIV,
                (unsigned long long)dec->deficit_kb);
}

/* A kill's (or dry-run choice's) log line: static, the kill path
 * allocates nothing; the state file keeps a copy. */
static char kill_line[2048];

/* Signals the cycle's victim (OUT->victim, chosen for OUT->dec), waits
 * for its memory, tells the cycle, and logs, records and hooks the kill.
 * Returns true when a kill happened (mw_cycle_killed). */
static bool kill_chosen(struct daemon *d, struct mw_cycle_out *out, uint64_t event_ms,
                        struct mw_mem_state *st)
{
    struct mw_victim *v = &out->victim;
    struct mw_kill_record rec;
    record_from(&rec, v, &out->dec, st);
    if (d->cfg.pre_kill_hook.n > 0) {
        kill_hook_env(v, "pre_kill", rec.reason);
        run_hook(d, &d->cfg.pre_kill_hook, "pre-kill");
    }
    uint64_t avail_before = st->available_kb;
    struct mw_kill_result kr;
    struct mw_cycle_kill k = {
        .sig_ms = mw_now_ms(), .sig_boot_ms = boot_ms(), .now_ms = st->now_ms};
    int rc = mw_kill_victim(d->root->fd, v, &d->cfg, false, &kr);
    close(v->stat_fd);
    k.signalled = rc == 0;
    k.gone_before = kr.gone_before;
    k.start_boot_ms = mw_loop_start_ms(v->starttime, d->ws.hz);
    if (rc < 0) {
        mw_dlog(LOG_WARNING, "kill of pid %d (%s) failed: %s", v->pid, v->comm,
                kr.gone_before ? "it exited first" : mw_strerror(-rc));
        if (d->live && !kr.gone_before)
            live_add(d, &d->live->kill_failures);
        return mw_cycle_killed(&d->cyc, &d->cfg, &d->ops, &k, out);
    }
    rec.latency_ms = k.sig_ms - event_ms;
    rec.wait_ms = kr.wait_ms;
    rec.exited = kr.exited;
    rec.reaped = kr.released;
    rec.termed = kr.termed;
    rec.cgroup_killed = kr.cgroup_killed;
    rec.group_killed = kr.group_killed;
    struct mw_mem_state after;
    if (sample(d, &after) == 0) {
        rec.freed_kb = (int64_t)after.available_kb - (int64_t)avail_before;
        *st = after;
        k.now_ms = after.now_ms;
    }
    mw_cycle_killed(&d->cyc, &d->cfg, &d->ops, &k, out);
    report_kill(d, &rec, LOG_ERR, kill_line, sizeof(kill_line));
    d->state.kills++;
    d->state.last_kill_time = rec.time_s;
    size_t ll = strlen(kill_line) < sizeof(d->state.last_kill) - 1 ? strlen(kill_line)
                                                                   : sizeof(d->state.last_kill) - 1;
    memcpy(d->state.last_kill, kill_line, ll);
    d->state.last_kill[ll] = '\0';
    loop_report(d, out);
    if (d->cfg.post_kill_hook.n > 0) {
        kill_hook_env(v, "post_kill", rec.reason);
        run_hook(d, &d->cfg.post_kill_hook, "post-kill");
    }
    state_write(d);
    return true;
}

/* A dry run's choice, said as the kill it would have been. */
static void would_kill(struct daemon *d, const struct mw_cycle_out *out, uint64_t event_ms,
                       const struct mw_mem_state *st)
{
    struct mw_kill_record rec;
    record_from(&rec, &out->victim, &out->dec, st);
    rec.dry_run = true;
    rec.latency_ms = mw_now_ms() - event_ms;
    report_kill(d, &rec, LOG_NOTICE, kill_line, sizeof(kill_line));
}

/* One sample, one turn of the kill cycle, and what it asks for. Returns
 * true when a kill (or a dry-run choice) was made. */
static bool cycle(struct daemon *d, unsigned events, uint64_t event_ms, struct mw_mem_state *st)
{
    if (sample(d, st) < 0)
        return false;
    st->events = events;
    struct mw_cycle_out *out = &d->out;
    mw_cycle_step(&d->cyc, &d->cfg, &d->ops, st, out);
    alerts(d, out, st);
    if (out->act == MW_CYCLE_SETTLING)
        return false; /* the last kill's memory is still on its way back */
    say_notes(d, out);
    if (out->act == MW_CYCLE_WOULD_KILL && out->say)
        would_kill(d, out, event_ms, st);
    if (out->act == MW_CYCLE_KILL)
        return kill_chosen(d, out, event_ms, st);
    return out->act == MW_CYCLE_WOULD_KILL;
}

/* ---- setup ------------------------------------------------------------- */

static void daemon_init_fds(struct daemon *d)
{
    d->meminfo_fd = d->vmstat_fd = d->zoneinfo_fd = d->psi_fd = -1;
    d->scope.dir_fd = -1;
    for (int i = 0; i < MW_CG_SRC_FILES; i++)
        d->scope.fd[i] = -1;
    d->history_fd = d->epfd = d->sigfd = -1;
    d->ws.proc_fd = -1;
}

static void daemon_close(struct daemon *d)
{
    int fds[] = {d->meminfo_fd, d->vmstat_fd, d->zoneinfo_fd, d->psi_fd,
                 d->history_fd, d->epfd,      d->sigfd};
    for (size_t i = 0; i < MW_ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    mw_cgroup_src_close(&d->scope);
    mw_pressure_close(&d->pr);
    mw_scan_ws_free(&d->ws);
    mw_zoneinfo_src_free(&d->zsrc);
}

/* Reads /proc/zoneinfo whole once, with a buffer that grows to fit (it
 * passes 64 KiB at about 120 CPUs), and keeps that size plus a margin for
 * the re-reads. When it cannot be read whole, the watermark reasons cannot
 * fire: that is said loudly, in the log and the state file, and the file
 * is not read again. */
static void zoneinfo_setup(struct daemon *d)
{
    long n = mw_zoneinfo_src_init(&d->zsrc, d->zoneinfo_fd, &d->zi);
    if (n >= 0) {
        d->have_zi = true;
        d->zi_read_ms = mw_now_ms();
        return;
    }
    snprintf(d->state.warning, sizeof(d->state.warning),
             "/proc/zoneinfo cannot be read whole (%s): watermarks unknown, the watermark "
             "reasons cannot fire",
             mw_strerror((int)-n));
    mw_dlog(LOG_CRIT, "%s", d->state.warning);
    close(d->zoneinfo_fd);
    d->zoneinfo_fd = -1;
}

static int daemon_setup(struct daemon *d)
{
    const struct mw_root *root = d->root;
    d->meminfo_fd = open_proc(root, "meminfo");
    if (d->meminfo_fd < 0)
        return d->meminfo_fd;
    d->vmstat_fd = open_proc(root, "vmstat");
    d->zoneinfo_fd = open_proc(root, "zoneinfo");
    if (d->zoneinfo_fd >= 0 && !d->o->scope)
        zoneinfo_setup(d);
    d->psi_fd = open_proc(root, "pressure/memory");
    if (d->o->scope) {
        int rc = mw_cgroup_src_open(&d->scope, root, d->o->scope);
        if (rc < 0)
            return rc;
    }
    /* Room for every PID the scan may meet; pages are touched (and so
     * locked and counted) only as far as the process count reaches. */
    size_t cap = d->o->scope ? 16384 : 4194304 / 8;
    int rc = mw_scan_ws_init(&d->ws, root, d->o->scope ? d->scope.dir_fd : -1, cap);
    if (rc < 0)
        return rc;
    return 0;
}

static void setup_pressure(struct daemon *d)
{
    const char *psi_path = NULL, *vmp_dir = NULL;
    static char psi_scope[600];
    if (d->o->scope) {
        if (d->scope.version == 2) {
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
        mw_dlog(LOG_NOTICE,
                "psi: the kernel refused a %llu ms window (no CAP_SYS_RESOURCE: unprivileged "
                "triggers need multiples of 2 s); using a 2 s window with thresholds scaled to "
                "some %llu ms, full %llu ms",
                (unsigned long long)d->cfg.psi_window_ms, (unsigned long long)d->pr.some_ms,
                (unsigned long long)d->pr.full_ms);
    else if (psi_path && d->pr.source != MW_SRC_PSI)
        mw_dlog(LOG_NOTICE, "psi triggers on %s unavailable (%s)", psi_path,
                mw_strerror(-d->pr.psi_err));
    snprintf(d->state.source, sizeof(d->state.source), "%s", d->pr.desc);
}

static void reload(struct daemon *d)
{
    if (!d->o->config_path) {
        open_outputs(d, &d->cfg, true);
        mw_dlog(LOG_NOTICE, "SIGHUP: history file reopened; no --config file to reload");
        return;
    }
    static struct mw_config next;
    char err[320];
    mw_config_defaults(&next);
    if (mw_config_load(&next, d->o->config_path, err, sizeof(err)) < 0) {
        mw_dlog(LOG_ERR, "reload rejected, the old configuration stays in force: %s", err);
        return;
    }
    open_outputs(d, &next, true); /* reopens the history (logrotate) */
    bool psi_changed = next.psi_partial_stall_ms != d->cfg.psi_partial_stall_ms ||
                       next.psi_complete_stall_ms != d->cfg.psi_complete_stall_ms ||
                       next.psi_window_ms != d->cfg.psi_window_ms;
    d->cfg = next;
    mw_cycle_reload(&d->cyc, &d->cfg);
    snprintf(d->state.strategy, sizeof(d->state.strategy), "%s",
             d->cfg.strategy == MW_STRATEGY_MINFREE ? "minfree" : "psi");
    if (psi_changed) {
        mw_pressure_close(&d->pr);
        setup_pressure(d);
    }
    mw_dlog(LOG_NOTICE, "configuration reloaded from %s", d->o->config_path);
    const char *list, *pat, *why;
    for (int c = 0; mw_config_next_forgeable(&d->cfg, &c, &list, &pat, &why);)
        mw_dlog(LOG_WARNING, "%s = %s: %s; a trusted match names uid:, unit: or cgroup:", list, pat,
                why);
    state_write(d);
}

/* Logs WHAT failed with errno's text and returns -errno. */
static int sys_fail(const char *what)
{
    int e = errno;
    mw_dlog(LOG_ERR, "%s: %s", what, mw_strerror(e));
    return -e;
}

/* The loop's own descriptors and signals: an epoll set holding a signalfd
 * for SIGHUP, SIGTERM, SIGINT and SIGUSR1 (blocked for everything else),
 * the watchdog's SIGALRM handler, and SIGPIPE ignored (a hook's closed pipe
 * must not end the killer). Returns 0 or -errno, logged. */
static int setup_events(struct daemon *d)
{
    sigset_t set;
    if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return sys_fail("epoll_create1");
    if (sigemptyset(&set) < 0 || sigaddset(&set, SIGHUP) < 0 || sigaddset(&set, SIGTERM) < 0 ||
        sigaddset(&set, SIGINT) < 0 || sigaddset(&set, SIGUSR1) < 0)
        return sys_fail("sigaddset");
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return sys_fail("sigprocmask");
    if ((d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        return sys_fail("signalfd");
    struct epoll_event sev = {.events = EPOLLIN, .data.u32 = TAG_SIGNAL};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &sev) < 0)
        return sys_fail("epoll_ctl(signalfd)");
    int rc = mw_watchdog_install(getenv("NOTIFY_SOCKET") != NULL);
    if (rc < 0) {
        errno = -rc;
        return sys_fail("sigaction(SIGALRM) for the watchdog");
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return sys_fail("signal(SIGPIPE)");
    return 0;
}

/* Everything between setup and the loop: the state, the event source,
 * self-protection, the first sample and the "started" line, the state
 * file, readiness. Returns 0 or -errno (logged). */
static int start(struct daemon *d, struct mw_mem_state *st)
{
    const struct mw_daemon_opts *o = d->o;
    d->state.pid = (int)getpid();
    d->state.started = (uint64_t)time(NULL);
    d->state.dry_run = o->dry_run;
    snprintf(d->state.scope, sizeof(d->state.scope), "%s", o->scope ? o->scope : "");
    snprintf(d->state.strategy, sizeof(d->state.strategy), "%s",
             d->cfg.strategy == MW_STRATEGY_MINFREE ? "minfree" : "psi");
    setup_pressure(d);
    struct mw_choice layout = {.min_adj = 1001, .now_ms = mw_now_ms()};
    mw_victim_refresh(&d->ws, &d->cfg, &layout); /* reads every adj: the layout */
    d->ops = (struct mw_cycle_ops){.ctx = d,
                                   .choose = op_choose,
                                   .put = op_put,
                                   .refresh = op_refresh,
                                   .forget = op_forget,
                                   .scan_flat = op_scan_flat,
                                   .procs_swap_kb = op_procs_swap_kb};
    mw_cycle_init(&d->cyc, &d->cfg, o->dry_run, mw_cycle_flat(&d->cfg, mw_scan_adj_flat(&d->ws)));
    say_layout(d);
    mw_protect_self();
    if (d->cfg.realtime)
        mw_raise_priority();
    memset(st, 0, sizeof(*st));
    int rc = sample(d, st);
    if (rc < 0) {
        mw_dlog(LOG_ERR, "cannot read the memory state: %s", mw_strerror(-rc));
        return rc;
    }
    mw_dlog(LOG_NOTICE,
            "started: %s%s, strategy %s%s, event source: %s, total %llukB, watermarks "
            "min/low/high %llu/%llu/%llu kB%s",
            o->scope ? "scope " : "whole machine", o->scope ? o->scope : "", d->state.strategy,
            d->cfg.low_ram ? " (low-RAM profile)" : "", d->pr.desc,
            (unsigned long long)st->total_kb, (unsigned long long)st->wmark_min_kb,
            (unsigned long long)st->wmark_low_kb, (unsigned long long)st->wmark_high_kb,
            o->dry_run ? ", DRY RUN (kills nothing)" : "");
    state_write(d);
    rc = mw_sd_notify("READY=1");
    if (rc < 0)
        mw_dlog(LOG_WARNING, "sd_notify READY=1 to $NOTIFY_SOCKET: %s", mw_strerror(-rc));
    d->interval_ms = mw_policy_interval_ms(&d->cfg, st);
    return 0;
}

/* Reads every pending signal: SIGHUP reloads, SIGUSR1 rewrites the state
 * file, SIGTERM and SIGINT ask to stop. Returns true when asked to stop. */
static bool take_signals(struct daemon *d)
{
    struct signalfd_siginfo si;
    bool stop = false;
    ssize_t r;
    while ((r = read(d->sigfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reload(d);
        else if (si.ssi_signo == SIGUSR1)
            state_write(d);
        else
            stop = true;
    }
    if (r < 0 && errno != EAGAIN && errno != EINTR)
        sys_fail("read(signalfd)");
    return stop;
}

/* Arms (MS > 0) or disarms the watchdog; says once if the timer fails. */
static void watchdog(uint64_t ms)
{
    static bool said;
    int rc = mw_watchdog_arm(ms);
    if (rc < 0 && !said)
        mw_dlog(LOG_WARNING, "watchdog timer (setitimer): %s; running without it",
                mw_strerror(-rc));
    said = said || rc < 0;
}

static uint64_t mw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The counters of the state file, and the cycle's duration, into the page
 * the metrics process reads. */
static void live_publish(struct daemon *d, uint64_t cycle_us)
{
    struct mw_metrics_live *l = d->live;
    if (!l)
        return;
    __atomic_store_n(&l->wakeups_timer, d->state.wakeups_timer, __ATOMIC_RELAXED);
    __atomic_store_n(&l->wakeups_pressure, d->state.wakeups_pressure, __ATOMIC_RELAXED);
    __atomic_store_n(&l->kills, d->state.kills, __ATOMIC_RELAXED);
    __atomic_store_n(&l->last_kill_time_s, d->state.last_kill_time, __ATOMIC_RELAXED);
    __atomic_store_n(&l->cycle_us, cycle_us, __ATOMIC_RELAXED);
    if (cycle_us > l->cycle_max_us)
        __atomic_store_n(&l->cycle_max_us, cycle_us, __ATOMIC_RELAXED);
}

/* Starts the metrics process when the configuration asks for one
 * (metrics_textfile, metrics_listen). Its failures are said and the killer
 * runs on without it: metrics never stop a kill. */
static void metrics_start(struct daemon *d)
{
    const struct mw_config *c = &d->cfg;
    if (!c->metrics_textfile[0] && !c->metrics_listen[0])
        return;
    char desc[96] = "";
    int lfd = -1;
    if (c->metrics_listen[0] &&
        (lfd = mw_metrics_listen(c->metrics_listen, desc, sizeof(desc))) < 0) {
        mw_dlog(LOG_ERR, "metrics_listen = %s: %s; no HTTP metrics", c->metrics_listen,
                mw_strerror(-lfd));
        lfd = -1;
        if (!c->metrics_textfile[0])
            return;
    }
    if (!(d->live = mw_metrics_live_new())) {
        mw_dlog(LOG_ERR, "metrics: mmap: %s; no metrics", mw_strerror(errno));
        goto fail;
    }
    d->mopts = (struct mw_metricsd_opts){.textfile_dir =
                                             c->metrics_textfile[0] ? c->metrics_textfile : NULL,
                                         .interval_ms = c->metrics_interval_ms,
                                         .listen_fd = lfd,
                                         .state_path = d->state_path,
                                         .history_path = d->history_path,
                                         .watch = &c->watch,
                                         .leak_window_ms = c->metrics_leak_window_ms};
    live_publish(d, 0);
    pid_t pid = mw_metricsd_start(d->root, &d->mopts, d->live);
    if (pid < 0) {
        mw_dlog(LOG_ERR, "metrics: fork: %s; no metrics", mw_strerror((int)-pid));
        goto fail;
    }
    d->metrics_pid = pid;
    mw_dlog(LOG_NOTICE, "metrics: process %d%s%s%s%s, every %llu ms", (int)pid,
            lfd >= 0 ? ", serving http://" : "", lfd >= 0 ? desc : "", lfd >= 0 ? "/metrics" : "",
            c->metrics_textfile[0] ? ", textfile in the directory named by metrics_textfile" : "",
            (unsigned long long)c->metrics_interval_ms);
    if (lfd >= 0)
        close(lfd); /* the metrics process holds it */
    return;
fail:
    if (lfd >= 0)
        close(lfd);
}

static void metrics_stop(struct daemon *d)
{
    if (d->metrics_pid <= 0)
        return;
    kill(d->metrics_pid, SIGTERM);
    waitpid(d->metrics_pid, NULL, 0);
    d->metrics_pid = 0;
}

/* One turn of the loop: waits for an event or the sampling interval, then
 * runs cycles until no kill is needed. Returns 1 to go on, 0 when asked to
 * stop, -errno when the wait itself failed (logged). */
static int step(struct daemon *d, struct mw_mem_state *st)
{
    uint64_t now = mw_now_ms();
    uint64_t wait_ms = d->interval_ms;
    if (d->fast_until_ms > now && wait_ms > 100)
        wait_ms = 100;
    wait_ms = mw_sd_watchdog_ping(now, wait_ms); /* systemd's WatchdogSec= */
    struct epoll_event evs[8];
    int n = epoll_wait(d->epfd, evs, 8, (int)wait_ms);
    if (n < 0 && errno != EINTR)
        return sys_fail("epoll_wait");
    uint64_t event_ms = mw_now_ms();
    unsigned events = n == 0 ? MW_EV_TIMER : 0;
    bool stop = false;
    for (int i = 0; i < n; i++) {
        int tag = (int)evs[i].data.u32;
        if (tag == TAG_SIGNAL)
            stop |= take_signals(d);
        else
            events |= mw_pressure_ack(&d->pr, tag);
    }
    if (stop)
        return 0;
    if (events & (MW_EV_PARTIAL_STALL | MW_EV_COMPLETE_STALL)) {
        d->fast_until_ms = event_ms + (d->pr.window_ms ? d->pr.window_ms : 1000);
        d->state.wakeups_pressure++;
    } else if (events & MW_EV_TIMER) {
        d->state.wakeups_timer++;
    }
    if (!events)
        return 1;
    if (d->fast_until_ms > event_ms || d->pr.source == MW_SRC_POLL)
        events |= MW_EV_PRESSURE_WINDOW;
    watchdog(d->cfg.watchdog_ms);
    uint64_t t0_us = mw_now_us();
    int kills = 0;
    while (cycle(d, events, event_ms, st)) {
        if (!mw_cycle_again(&d->cyc, &d->cfg, ++kills))
            break;
        events = MW_EV_TIMER | (events & MW_EV_PRESSURE_WINDOW); /* re-check at once */
        event_ms = mw_now_ms();
    }
    watchdog(0);
    d->interval_ms = mw_policy_interval_ms(&d->cfg, st);
    live_publish(d, mw_now_us() - t0_us);
    return 1;
}

int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o, struct mw_config *cfg)
{
    static struct daemon d; /* static: no stack page holds 100 KiB */
    memset(&d, 0, sizeof(d));
    daemon_init_fds(&d);
    d.root = root;
    d.o = o;
    d.cfg = *cfg;
    mw_dlog_init(o->foreground);
    int rc;
    if (!o->foreground && (rc = mw_daemonize()) < 0) {
        mw_dlog(LOG_ERR, "cannot go to the background: %s", mw_strerror(-rc));
        return 1;
    }
    rc = daemon_setup(&d);
    if (rc < 0) {
        mw_dlog(LOG_ERR, "setup failed%s%s: %s%s", o->scope ? " for scope " : "",
                o->scope ? o->scope : "", mw_strerror(-rc),
                o->scope && rc == -ENOENT ? " (not a memory cgroup: neither memory.current nor "
                                            "memory.usage_in_bytes)"
                                          : "");
        daemon_close(&d);
        return 1;
    }
    struct mw_mem_state st;
    int exit_code = 1;
    if (open_outputs(&d, &d.cfg, false) < 0 || setup_events(&d) < 0 || start(&d, &st) < 0)
        goto out;
    metrics_start(&d);
    while ((rc = step(&d, &st)) > 0)
        ;
    exit_code = rc < 0 ? 1 : 0;
    mw_dlog(LOG_NOTICE, "stopping (%llu kills)", (unsigned long long)d.state.kills);
    if (d.state_path[0])
        unlink(d.state_path);
out:
    metrics_stop(&d);
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
    int rc = daemon_setup(&d);
    if (rc < 0) {
        fprintf(stderr, "memwarden daemon: %s%s: %s\n", o->scope ? "scope " : "",
                o->scope ? o->scope : "/proc", mw_strerror(-rc));
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
    ch.flat = mw_cycle_flat(&d.cfg, mw_scan_adj_flat(&d.ws));
    ch.now_ms = mw_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = mw_victim_choose(&d.ws, &d.cfg, &ch, &v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (rc > 0)
        close(v.stat_fd);
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, false);
        mw_json_object_begin(&j, NULL);
        mw_json_u64(&j, "scanned", d.ws.scanned);
        mw_json_u64(&j, "detailed", d.ws.detailed);
        mw_json_fixed(&j, "choose_time", ms / 1000.0, 6);
        if (rc > 0) {
            mw_json_object_begin(&j, "victim");
            mw_json_i64(&j, "pid", v.pid);
            mw_json_u64(&j, "uid", v.uid);
            mw_json_i64(&j, "adj", v.adj);
            mw_json_i64(&j, "effective_adj", v.eff_adj);
            mw_json_str(&j, "prog", v.comm);
            mw_json_str(&j, "cmdline", v.cmdline);
            mw_json_u64(&j, "rss", v.rss_kb * 1024);
            mw_json_u64(&j, "swap", v.swap_kb * 1024);
            if (v.runaway) {
                mw_json_object_begin(&j, "runaway");
                mw_json_u64(&j, "footprint", v.unit_kb * 1024);
                mw_json_u64(&j, "growth", v.growth_kb_s * 1024);
                mw_json_i64(&j, "group", v.group_n);
                mw_json_object_end(&j);
            } else {
                mw_json_null(&j, "runaway");
            }
            mw_json_object_end(&j);
        } else {
            mw_json_null(&j, "victim");
        }
        mw_json_object_end(&j);
        mw_json_finish(&j);
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
