/* daemon: the low-memory killer's descriptors, signals and event loop:
 * setup (the memory source, the victim scan, the pressure source, the
 * signalfd), the wait for an event or the sampling interval, the turns of
 * the kill cycle it runs (act.c performs what they ask), reload on
 * SIGHUP, the state and history files, the metrics process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lmk/daemon_int.h"
#include "lmk/history.h"
#include "lmk/sysglue.h"

#define TAG_SIGNAL 100

/* ---- the state and history files ------------------------------------- */

void daemon_state_write(struct daemon *d)
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

/* ---- setup ------------------------------------------------------------- */

/* A daemon with nothing open, for ROOT, O and CFG. */
static void daemon_init(struct daemon *d, const struct mw_root *root,
                        const struct mw_daemon_opts *o, const struct mw_config *cfg)
{
    memset(d, 0, sizeof(*d));
    mw_memsource_init(&d->src);
    d->history_fd = d->epfd = d->sigfd = -1;
    d->ws.proc_fd = -1;
    d->root = root;
    d->o = o;
    d->cfg = *cfg;
}

static void daemon_close(struct daemon *d)
{
    int fds[] = {d->history_fd, d->epfd, d->sigfd};
    for (size_t i = 0; i < MW_ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    mw_memsource_close(&d->src);
    mw_pressure_close(&d->pr);
    mw_scan_ws_free(&d->ws);
}

/* Says the memory source's warning (what the daemon cannot see) and
 * publishes it in the state file's "warning". */
static void say_warning(struct daemon *d)
{
    snprintf(d->state.warning, sizeof(d->state.warning), "%s", d->src.warning);
    if (d->src.warning[0])
        mw_dlog(LOG_CRIT, "%s", d->src.warning);
}

/* The memory source and the victim scan. Returns 0 or -errno. */
static int daemon_setup(struct daemon *d)
{
    int rc = mw_memsource_open(&d->src, d->root, d->o->scope);
    if (d->src.warning[0])
        say_warning(d);
    if (rc < 0)
        return rc;
    /* Room for every PID the scan may meet; pages are touched (and so
     * locked and counted) only as far as the process count reaches. */
    size_t cap = d->o->scope ? 16384 : 4194304 / 8;
    uint64_t nofile = mw_raise_nofile(); /* the scan holds a descriptor per process */
    rc = mw_scan_ws_init(&d->ws, d->root, d->o->scope ? d->src.cg.dir_fd : -1, cap);
    if (rc == 0 && (size_t)d->ws.fpc.fd_max < d->ws.fpc.cap)
        mw_dlog(LOG_NOTICE,
                "victim scan: the adj of at most %d processes held open (RLIMIT_NOFILE %llu); "
                "past that each is opened per read",
                d->ws.fpc.fd_max, (unsigned long long)nofile);
    return rc;
}

int daemon_sample(struct daemon *d, struct mw_mem_state *st)
{
    bool warned;
    int rc = mw_memsource_sample(&d->src, &d->cfg, mw_now_ms(), st, &warned);
    if (warned)
        say_warning(d);
    return rc;
}

static void setup_pressure(struct daemon *d)
{
    const char *psi_path = NULL, *vmp_dir = NULL;
    static char psi_scope[600];
    if (d->o->scope) {
        if (d->src.cg.version == 2) {
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
        for (char *q = err; (q = strchr(q, '\n')) != NULL;)
            *q = ';'; /* one log line for all the errors */
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
    daemon_state_write(d);
}

/* Logs WHAT failed with errno's text and returns -errno. */
static int sys_fail(const char *what)
{
    int e = errno;
    mw_dlog(LOG_ERR, "%s: %s", what, mw_strerror(e));
    return -e;
}

/* The loop's own descriptors and signals: an epoll set holding a signalfd
 * for SIGHUP, SIGTERM, SIGINT, SIGUSR1 and SIGCHLD (a hook ended; all
 * blocked for everything else),
 * the watchdog's SIGALRM handler, and SIGPIPE ignored (a hook's closed pipe
 * must not end the killer). Returns 0 or -errno, logged. */
static int setup_events(struct daemon *d)
{
    sigset_t set;
    if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return sys_fail("epoll_create1");
    if (sigemptyset(&set) < 0 || sigaddset(&set, SIGHUP) < 0 || sigaddset(&set, SIGTERM) < 0 ||
        sigaddset(&set, SIGINT) < 0 || sigaddset(&set, SIGUSR1) < 0 || sigaddset(&set, SIGCHLD) < 0)
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
    /* every process read once, adj and footprint: the layout, and a cache
     * that is warm when pressure first builds (MW_CYCLE_CALM_REFRESH_MS) */
    struct mw_choice first = {.min_adj = -999, .now_ms = mw_now_ms()};
    mw_victim_refresh(&d->ws, &d->cfg, &first);
    act_ops_init(d);
    mw_cycle_init(&d->cyc, &d->cfg, o->dry_run, mw_cycle_flat(&d->cfg, mw_scan_adj_flat(&d->ws)));
    act_say_layout(d);
    mw_protect_self();
    if (d->cfg.realtime)
        mw_raise_priority();
    memset(st, 0, sizeof(*st));
    int rc = daemon_sample(d, st);
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
    daemon_state_write(d);
    rc = mw_sd_notify("READY=1");
    if (rc < 0)
        mw_dlog(LOG_WARNING, "sd_notify READY=1 to $NOTIFY_SOCKET: %s", mw_strerror(-rc));
    d->interval_ms = mw_policy_interval_ms(&d->cfg, st);
    return 0;
}

/* Reads every pending signal: SIGHUP reloads, SIGUSR1 rewrites the state
 * file, SIGCHLD reaps the hooks that ended, SIGTERM and SIGINT ask to
 * stop. Returns true when asked to stop. */
static bool take_signals(struct daemon *d)
{
    struct signalfd_siginfo si;
    bool stop = false;
    ssize_t r;
    while ((r = read(d->sigfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reload(d);
        else if (si.ssi_signo == SIGUSR1)
            daemon_state_write(d);
        else if (si.ssi_signo == SIGCHLD)
            act_hooks_reap(d);
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

/* The CPU time this thread has used (us): what a wakeup cost the others. */
static uint64_t thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return 0;
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
    if (!d->timer_due_ms) { /* a new wait; one cut short for a ping or a hook goes on */
        uint64_t wait_ms = d->interval_ms;
        if (d->fast_until_ms > now && wait_ms > 100)
            wait_ms = 100;
        d->timer_due_ms = now + wait_ms;
    }
    uint64_t wait_ms = d->timer_due_ms > now ? d->timer_due_ms - now : 0;
    wait_ms = mw_sd_watchdog_ping(now, wait_ms);         /* systemd's WatchdogSec= */
    uint64_t hook_ms = mw_hooks_next_ms(&d->hooks, now); /* a hook's time limit */
    struct epoll_event evs[8];
    int n = epoll_wait(d->epfd, evs, 8, (int)(hook_ms < wait_ms ? hook_ms : wait_ms));
    if (n < 0 && errno != EINTR)
        return sys_fail("epoll_wait");
    d->woke_us = mw_now_us();
    uint64_t event_ms = d->woke_us / 1000;
    bool timer = n == 0 && event_ms >= d->timer_due_ms;
    d->wake_late_us = timer ? mw_sub0(d->woke_us, d->timer_due_ms * 1000) : 0;
    act_hooks_reap(d);
    if (n > 0 || timer)
        d->timer_due_ms = 0;
    unsigned events = timer ? MW_EV_TIMER : 0;
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
    uint64_t t0_us = mw_now_us(), cpu0_us = thread_cpu_us();
    int kills = 0;
    while (act_cycle(d, events, event_ms, st)) {
        if (!mw_cycle_again(&d->cyc, &d->cfg, ++kills))
            break;
        events = MW_EV_TIMER | (events & MW_EV_PRESSURE_WINDOW); /* re-check at once */
        event_ms = mw_now_ms();
    }
    watchdog(0);
    d->interval_ms =
        mw_policy_paced_ms(mw_policy_interval_ms(&d->cfg, st), thread_cpu_us() - cpu0_us);
    live_publish(d, mw_now_us() - t0_us);
    return 1;
}

int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o, struct mw_config *cfg)
{
    static struct daemon d; /* static: no stack page holds 100 KiB */
    daemon_init(&d, root, o, cfg);
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
    mw_hooks_stop(&d.hooks);
    metrics_stop(&d);
    daemon_close(&d);
    return exit_code;
}

/* Milliseconds from T0 to T1 (CLOCK_MONOTONIC). */
static double ms_between(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) * 1e3 + (double)(t1->tv_nsec - t0->tv_nsec) / 1e6;
}

int mw_daemon_choose_once(const struct mw_root *root, const struct mw_daemon_opts *o,
                          const struct mw_config *cfg, int min_adj, struct mw_choose_once *out)
{
    static struct daemon d;
    daemon_init(&d, root, o, cfg);
    int rc = daemon_setup(&d);
    if (rc < 0) {
        daemon_close(&d);
        return rc;
    }
    struct mw_mem_state st;
    memset(&st, 0, sizeof(st));
    if (daemon_sample(&d, &st) < 0)
        st.total_kb = 0; /* no runaway pass without a total */
    /* As the daemon does while pressure builds: sample the footprints
     * first (timed apart), then the choice reads only what changed. */
    struct timespec t0, t1;
    struct mw_choice ch = {.min_adj = min_adj, .total_kb = st.total_kb, .now_ms = mw_now_ms()};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mw_victim_refresh(&d.ws, &d.cfg, &ch);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->refresh_ms = ms_between(&t0, &t1);
    ch.flat = mw_cycle_flat(&d.cfg, mw_scan_adj_flat(&d.ws));
    ch.now_ms = mw_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    out->rc = mw_victim_choose(&d.ws, &d.cfg, &ch, &out->victim);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->choose_ms = ms_between(&t0, &t1);
    if (out->rc > 0)
        close(out->victim.stat_fd);
    out->victim.stat_fd = -1;
    out->min_adj = min_adj;
    out->flat = ch.flat;
    out->scanned = d.ws.scanned;
    out->detailed = d.ws.detailed;
    daemon_close(&d);
    return 0;
}
