#include "cli/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/safeopen.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "model/sample.h"
#include "proc/meminfo.h"
#include "proc/slab.h"

/* ---- signals: SIGINT / SIGTERM end the run, SIGCHLD wakes the loop ---- */

static volatile sig_atomic_t run_wake, run_nsig, run_sig_tty;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    run_wake = 1;
    if (sig == SIGCHLD)
        return;
    mw_stop_signal = sig;
    /* A terminal's Ctrl-C reaches the command itself (same process
     * group): forwarding it too would deliver it twice. */
    run_sig_tty = si && si->si_code == SI_KERNEL;
    run_nsig++;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: sleeps and reads return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
}

/* ---- the run's state ---- */

struct runner {
    const struct mw_root *root;
    const struct mw_runner_opts *o;
    struct mw_run_result *res;
    struct mw_cg_run cg;
    int daemon_pid, load_pid;
    char tmp_dir[64];      /* the daemon's, private (mkdtemp): its state and history */
    char state_file[96];   /* in tmp_dir */
    char history_file[96]; /* in tmp_dir: its kill records, evidence for runblame */
    uint64_t t0_ms, last_sample_ms;
    double t0_s;
    double t0_boot_s;         /* CLOCK_MONOTONIC at the start: printk times are on it */
    bool run_killed;          /* we sent the command SIGKILL (the grace period ran out) */
    struct mw_cgroup_src src; /* the cgroup's files, open from creation to removal */
    bool have_src;
    struct mw_series used; /* the cgroup's used memory per sample */
    struct mw_series sys;  /* system samples, for SUnreclaim / Shmem */
    uint64_t oom_kill_before;
    bool ending; /* the command was asked to end */
    uint64_t end_deadline_ms;
    int forwarded; /* signals forwarded so far */
    bool record_failed;
    struct mw_sample main_last; /* the command's last process sample (for its GONE line) */
    bool have_main;
};

static void join_argv(char *buf, size_t cap, char **argv)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; argv[i] && off + 1 < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? " " : "", argv[i]);
}

/* Starts ARGV in the cgroup: the child enters it, then execs; a CLOEXEC
 * pipe carries errno back when either fails. Returns the PID or -errno
 * (*IN_CG: the error is from entering the cgroup). */
static int spawn(const struct mw_root *root, const struct mw_cg_run *cg, char **argv,
                 bool reset_adj, bool *in_cg)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid == 0) {
        close(p[0]);
        if (reset_adj) { /* raising one's own adj needs no privilege */
            int fd = openat(root->fd, "proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
            if (fd >= 0 && write(fd, "0", 1) < 0)
                _exit(125);
            close(fd);
        }
        int rc = mw_cg_enter(root, cg, (int)getpid());
        int msg[2] = {1, -rc};
        if (rc == 0) {
            execvp(argv[0], argv);
            msg[0] = 2;
            msg[1] = errno;
        }
        if (write(p[1], msg, sizeof(msg)) < 0)
            _exit(125);
        _exit(msg[0] == 1 ? 125 : msg[1] == ENOENT ? 127 : 126);
    }
    close(p[1]);
    int msg[2];
    ssize_t n;
    do
        n = read(p[0], msg, sizeof(msg));
    while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == (ssize_t)sizeof(msg)) {
        waitpid(pid, NULL, 0);
        *in_cg = msg[0] == 1;
        return -msg[1];
    }
    return (int)pid;
}

/* Whether we run at oom_score_adj -1000 (an init or a service that
 * protects itself): a command inheriting it is one the OOM killer skips,
 * and an OOM in its cgroup then loops forever (seen in the VM, whose init
 * runs at -1000). */
static bool unkillable(const struct mw_root *root)
{
    char buf[16];
    long n = mw_read_small_at(root->fd, "proc/self/oom_score_adj", buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return atoi(buf) == -1000;
}

/* Starts `memwarden daemon --scope DIR` beside the command, its state and
 * kill history in a directory of its own (nobody else can put records
 * there that would blame it for a kill). */
static int start_daemon(struct runner *r)
{
    snprintf(r->tmp_dir, sizeof(r->tmp_dir), "/tmp/memwarden-%s-XXXXXX", r->o->who);
    if (!mkdtemp(r->tmp_dir)) {
        r->tmp_dir[0] = '\0';
        return -errno;
    }
    snprintf(r->state_file, sizeof(r->state_file), "%s/state", r->tmp_dir);
    snprintf(r->history_file, sizeof(r->history_file), "%s/history", r->tmp_dir);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        char *argv[] = {"memwarden",    "daemon",      "--foreground", "--scope",       r->cg.dir,
                        "--state-file", r->state_file, "--history",    r->history_file, NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    r->daemon_pid = (int)pid;
    return 0;
}

/* Starts soak's --load command in a process group of its own. */
static int start_load(struct runner *r)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", r->o->load, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so it holds before either runs on */
    r->load_pid = (int)pid;
    return 0;
}

/* Ends a helper we started (PGRP: its whole process group): SIGTERM, up
 * to 5 s, then SIGKILL; reaps it. */
static void stop_helper(int *pid, bool pgrp)
{
    if (*pid <= 0)
        return;
    pid_t target = pgrp ? -*pid : *pid;
    kill(target, SIGTERM);
    uint64_t deadline = mw_now_ms() + 5000;
    while (waitpid(*pid, NULL, WNOHANG) == 0) {
        if (mw_now_ms() >= deadline) {
            kill(target, SIGKILL);
            waitpid(*pid, NULL, 0);
            break;
        }
        usleep(20 * 1000);
    }
    if (pgrp)
        kill(target, SIGKILL); /* whatever of the group outlived its shell */
    *pid = 0;
}

/* ---- sampling ---- */

static void record(struct runner *r, const struct mw_sample *s, const struct mw_slab_set *slab)
{
    if (!r->o->record || r->record_failed)
        return;
    int rc = mw_record_append(r->o->record, 0, 1, s, slab);
    if (rc < 0) {
        mw_err("%s: cannot write %s: %s (recording stops)", r->o->who, r->o->record,
               mw_out_strerror(-rc));
        r->record_failed = true;
    }
}

/* Puts P among RES's largest by PSS (kept sorted, largest first). */
static void top_insert(struct mw_run_result *res, const struct mw_run_proc *p)
{
    size_t k = res->ntop;
    if (k == MW_RUN_TOP) {
        if (res->top[k - 1].pss >= p->pss)
            return;
        k--;
    } else {
        res->ntop++;
    }
    res->top[k] = *p;
    for (; k > 0 && res->top[k].pss > res->top[k - 1].pss; k--) {
        struct mw_run_proc tmp = res->top[k];
        res->top[k] = res->top[k - 1];
        res->top[k - 1] = tmp;
    }
}

/* The cgroup's processes: summed RSS/PSS, the largest by PSS, and a
 * process sample of each (at most MW_RUN_RECORD_PROCS) for the record. */
static void sample_procs(struct runner *r, double now)
{
    struct mw_run_result *res = r->res;
    int *pids = NULL;
    int n = mw_cgroup_pids(r->root, r->cg.dir, &pids);
    uint64_t rss = 0, pss = 0;
    res->ntop = 0;
    for (int i = 0; i < n && i < MW_RUN_RECORD_PROCS; i++) {
        struct mw_sample s;
        if (mw_sample_process(r->root, pids[i], now, &s) < 0)
            continue;
        rss += s.rss;
        pss += s.have_pss ? s.pss : s.rss;
        record(r, &s, NULL);
        if (s.pid == res->pid) {
            r->main_last = s;
            r->have_main = true;
        }
        struct mw_run_proc p = {.pid = s.pid, .rss = s.rss, .pss = s.have_pss ? s.pss : s.rss};
        snprintf(p.comm, sizeof(p.comm), "%s", s.comm);
        top_insert(res, &p);
    }
    free(pids);
    res->peak_rss_sum = rss > res->peak_rss_sum ? rss : res->peak_rss_sum;
    res->peak_pss_sum = pss > res->peak_pss_sum ? pss : res->peak_pss_sum;
}

/* The system: a sample into the record (with every slab cache) and into
 * the series for SUnreclaim / Shmem. Returns MemAvailable (0 unknown). */
static uint64_t sample_system(struct runner *r, double now)
{
    struct mw_sample s;
    if (mw_sample_system(r->root, now, &s) < 0)
        return 0;
    struct mw_slab_set slab;
    bool have_slab = r->o->record && mw_slab_read(r->root, &slab) == 0;
    record(r, &s, have_slab ? &slab : NULL);
    if (have_slab)
        mw_slab_set_free(&slab);
    if (r->sys.n == 0)
        r->sys.first = s;
    r->sys.last = s;
    if (mw_series_push(&r->sys, now - r->t0_s, (double)s.mem_used) < 0 ||
        mw_series_keep(&r->sys, &s) < 0)
        mw_err("%s: out of memory keeping system samples", r->o->who);
    return s.mem_available;
}

/* The leak verdict of the cgroup's used memory so far, into RES->trend. */
static bool used_trend(struct runner *r, const struct mw_trend_params *p)
{
    return r->used.n >= MW_RUN_TREND_MIN_SAMPLES &&
           mw_trend_classify(r->used.t, r->used.v, r->used.n, p, &r->res->trend) == 0;
}

/* One sample of everything at NOW_MS. */
static void sample(struct runner *r, uint64_t now_ms)
{
    struct mw_run_result *res = r->res;
    double now = mw_sample_now_s();
    struct mw_cgroup_mem cg;
    struct mw_meminfo mi;
    uint64_t avail = sample_system(r, now);
    if (!r->have_src || mw_cgroup_src_read(&r->src, &cg) < 0 ||
        mw_meminfo_read(r->root, &mi, NULL) < 0)
        return;
    struct mw_cg_machine m;
    mw_cgroup_machine(&cg, &mi, &m);
    res->samples++;
    res->last_usage = cg.usage;
    res->last_used = m.used;
    res->peak_sampled = cg.usage > res->peak_sampled ? cg.usage : res->peak_sampled;
    uint64_t swap = mw_cgroup_swap_used(&cg);
    res->swap_peak = swap > res->swap_peak ? swap : res->swap_peak;
    uint64_t a = avail && avail < m.available ? avail : m.available;
    res->min_available = res->samples == 1 || a < res->min_available ? a : res->min_available;
    if (res->limit != MW_CG_UNLIMITED && r->last_sample_ms &&
        (double)cg.usage >= (double)res->limit * MW_RUN_ALERT_PCT / 100.0)
        res->above_alert_s += (double)(now_ms - r->last_sample_ms) / 1000.0;
    r->last_sample_ms = now_ms;
    if (mw_series_push(&r->used, now - r->t0_s, (double)m.used) < 0)
        mw_err("%s: out of memory keeping samples", r->o->who);
    /* the verdict so far, for a progress line (final_read has the last word) */
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    res->have_trend = used_trend(r, &p);
    sample_procs(r, now);
}

/* The record says the command exited, as watch does: `leak --from` then
 * knows its series ended. */
static void record_gone(struct runner *r)
{
    if (!r->have_main)
        return;
    struct mw_sample g;
    memset(&g, 0, sizeof(g));
    g.t_s = mw_sample_now_s();
    g.kind = MW_SAMPLE_GONE;
    g.pid = r->main_last.pid;
    g.starttime = r->main_last.starttime;
    snprintf(g.comm, sizeof(g.comm), "%s", r->main_last.comm);
    record(r, &g, NULL);
}

/* ---- the loop ---- */

/* Reaps the command once it has ended (its own rusage with it). Returns
 * true when it has. */
static bool reap(struct runner *r, struct rusage *ru)
{
    struct mw_run_result *res = r->res;
    if (res->reaped)
        return true;
    int st;
    if (wait4(res->pid, &st, WNOHANG, ru) != res->pid)
        return false;
    res->reaped = true;
    res->wait_status = st;
    res->ended_on_request = r->ending;
    return true;
}

/* Asks the command to end with SIG (0: it already got it from the
 * terminal); after the grace period it is killed. */
static void ask_end(struct runner *r, int sig)
{
    if (sig)
        kill(r->res->pid, sig);
    if (!r->ending) {
        r->ending = true;
        r->end_deadline_ms = mw_now_ms() + MW_RUN_GRACE_MS;
    }
}

/* The stop signals memwarden got since the last look: the first is
 * passed on, a second one kills the command now. */
static void handle_stop(struct runner *r, uint64_t now)
{
    if (run_nsig == r->forwarded)
        return;
    r->forwarded = run_nsig;
    r->res->stop_signal = mw_stop_signal;
    r->res->ended_by_signal = true;
    if (r->forwarded > 1 && r->ending)
        r->end_deadline_ms = now;
    else
        ask_end(r, run_sig_tty ? 0 : mw_stop_signal);
}

/* Samples every interval until the command ends (or is ended: duration,
 * a stop signal, then SIGKILL after the grace period). */
static void loop(struct runner *r, struct rusage *ru)
{
    const struct mw_runner_opts *o = r->o;
    uint64_t due = r->t0_ms;
    for (;;) {
        run_wake = 0;
        if (reap(r, ru))
            break;
        uint64_t now = mw_now_ms();
        bool sampled = now >= due;
        if (sampled) {
            sample(r, now);
            due += o->interval_ms;
            if (due <= now)
                due = now + o->interval_ms; /* a slow sample: skip, do not catch up */
        }
        handle_stop(r, now);
        if (o->duration_ms && !r->ending && now - r->t0_ms >= o->duration_ms) {
            r->res->ended_by_duration = true;
            ask_end(r, SIGTERM);
        }
        if (r->ending && now >= r->end_deadline_ms) {
            r->run_killed = kill(r->res->pid, SIGKILL) == 0;
            r->end_deadline_ms = UINT64_MAX;
        }
        r->res->wall_s = (double)(now - r->t0_ms) / 1000.0;
        if (o->tick)
            o->tick(o->tick_ctx, r->res, sampled);
        uint64_t next = due < now + 1000 ? due : now + 1000;
        if (r->ending && r->end_deadline_ms < next)
            next = r->end_deadline_ms;
        mw_sleep_until_ms(next, &run_wake);
    }
}

/* After the command ended: the kernel's own peak, the events, the faults,
 * the exit status, the leak verdicts. */
static void final_read(struct runner *r, const struct rusage *ru)
{
    struct mw_run_result *res = r->res;
    res->wall_s = (double)(mw_now_ms() - r->t0_ms) / 1000.0;
    bool v2 = r->cg.version == 2;
    res->peak = res->peak_sampled;
    res->peak_source = "highest sample";
    res->swap_peak_source = "highest sample";
    uint64_t peak = 0, swap_peak = 0;
    int got = r->have_src ? mw_cgroup_src_peaks(&r->src, &peak, &swap_peak) : 0;
    if (got & 1) {
        res->peak = peak;
        res->peak_source = v2 ? "memory.peak" : "max_usage_in_bytes";
    }
    if (got & 2) {
        res->swap_peak = swap_peak;
        res->swap_peak_source = "memory.swap.peak";
    }
    struct mw_cgroup_mem cg;
    if (r->have_src && mw_cgroup_src_read(&r->src, &cg) == 0) {
        res->ev_high = cg.ev_high;
        res->ev_max = cg.ev_max;
        res->ev_oom = cg.ev_oom;
        res->ev_oom_kill = cg.ev_oom_kill;
        res->failcnt = cg.failcnt;
        res->memsw_failcnt = cg.memsw_failcnt;
        res->have_ev_high = res->have_ev_oom = v2;
        if (cg.have_stat && cg.stat.pgfault) {
            res->faults = cg.stat.pgfault;
            res->major_faults = cg.stat.pgmajfault;
            res->faults_source = "memory.stat";
        }
    }
    if (!res->faults_source && res->reaped) {
        res->faults = (uint64_t)ru->ru_minflt + (uint64_t)ru->ru_majflt;
        res->major_faults = (uint64_t)ru->ru_majflt;
        res->faults_source = "rusage";
    }
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    res->have_trend = used_trend(r, &p);
    if (r->sys.n >= MW_RUN_TREND_MIN_SAMPLES && mw_series_analyze(&r->sys, &p, NULL) == 0 &&
        r->sys.comp[0].have && r->sys.comp[2].have) {
        res->sys_sunreclaim = r->sys.comp[0].trend; /* analyze_components' order */
        res->sys_shmem = r->sys.comp[2].trend;
        res->have_sys = true;
    }
}

/* Who killed the command, when SIGKILL did (runblame.h): after the daemon
 * has stopped, so its last kill record is written. The kernel prints
 * "Killed process" after it has sent the signal: while its log holds fewer
 * kills of the cgroup than the cgroup counted, it is read again, for up to
 * half a second. */
static void blame(struct runner *r)
{
    struct mw_run_result *res = r->res;
    int st = res->wait_status;
    struct mw_run_evidence e = {
        .sigkill = res->reaped && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
        .run_killed = r->run_killed,
        .daemon_kills = -1,
        .have_oom_kill = r->have_src,
        /* the cgroup is fresh: every OOM kill in it happened in this run */
        .oom_kills = res->ev_oom_kill - r->oom_kill_before,
    };
    if (e.sigkill && r->history_file[0] &&
        mw_run_daemon_kills(r->history_file, res->pid, &e.daemon_kills, &e.daemon_main) < 0)
        e.daemon_kills = -1;
    for (int i = 0; e.sigkill && !e.daemon_main && i < 10; i++) {
        e.klog_kills =
            mw_run_klog_kills(r->root, res->dir, res->pid, r->t0_boot_s - 2, &e.klog_main);
        if (e.klog_kills < 0 || e.klog_main || (uint64_t)e.klog_kills >= e.oom_kills)
            break;
        usleep(50 * 1000);
    }
    res->killer = mw_run_blame(&e, res->killer_why, sizeof(res->killer_why));
    res->main_oom_killed = res->killer == MW_RUN_KILLER_KERNEL;
}

/* Fills RES's fields that come from the options and the host. */
static void result_init(const struct mw_root *root, const struct mw_runner_opts *o,
                        struct mw_run_result *res)
{
    memset(res, 0, sizeof(*res));
    res->who = o->who;
    res->limit = o->spec.limit;
    res->swap_limit = o->spec.swap;
    res->high = o->spec.high;
    res->cpus_milli = o->spec.cpus_milli;
    join_argv(res->cmd, sizeof(res->cmd), o->argv);
    struct mw_meminfo mi;
    if (mw_meminfo_read(root, &mi, NULL) == 0) {
        res->host_ram = mi.kb[MI_MEM_TOTAL] * 1024;
        res->host_swap = mi.kb[MI_SWAP_TOTAL] * 1024;
    }
}

int mw_runner_run(const struct mw_root *root, const struct mw_runner_opts *o,
                  struct mw_run_result *res)
{
    struct runner r = {.root = root, .o = o, .res = res};
    struct rusage ru;
    char why[PATH_MAX + 128];
    memset(&ru, 0, sizeof(ru));
    result_init(root, o, res);
    r.sys.system = true;
    r.sys.series_name = "used";
    r.sys.tte_s = -1;
    int rc = mw_cg_create(root, &o->spec, &r.cg, why, sizeof(why));
    if (rc < 0) {
        mw_err("%s: %s", o->who, why);
        return rc;
    }
    res->version = r.cg.version;
    snprintf(res->dir, sizeof(res->dir), "%s", r.cg.dir);
    rc = mw_cgroup_src_open(&r.src, root, r.cg.dir);
    r.have_src = rc == 0;
    if (rc < 0)
        mw_err("%s: cannot read %s: %s (no samples of it)", o->who, r.cg.dir, mw_strerror(-rc));
    res->swap_enforced = r.cg.swap_enforced;
    res->cpu_limited = r.cg.cpu_limited;
    res->high_dropped = r.cg.high_dropped;
    res->kept = o->keep;
    mw_run_warn_host(stderr, res);
    install_signals();
    if (o->daemon && start_daemon(&r) < 0)
        mw_err("%s: cannot start the daemon: %s", o->who, mw_strerror(errno));
    res->daemon_ran = r.daemon_pid > 0;
    if (o->load && start_load(&r) < 0)
        mw_err("%s: cannot start --load: %s", o->who, mw_strerror(errno));
    r.t0_ms = mw_now_ms();
    r.t0_s = mw_sample_now_s();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r.t0_boot_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    bool in_cg = false;
    res->adj_reset = unkillable(root);
    if (res->adj_reset)
        mw_err("%s: note: memwarden runs at oom_score_adj -1000, which the command would "
               "inherit: the OOM killer could not kill it and an OOM in the cgroup would hang; "
               "it runs at 0",
               o->who);
    rc = spawn(root, &r.cg, o->argv, res->adj_reset, &in_cg);
    if (rc < 0) {
        res->exec_errno = -rc;
        res->exec_in_cgroup = in_cg;
    } else {
        res->pid = rc;
        rc = 0;
        loop(&r, &ru);
        final_read(&r, &ru);
        record_gone(&r);
    }
    stop_helper(&r.daemon_pid, false);
    if (res->pid > 0)
        blame(&r);
    stop_helper(&r.load_pid, true);
    int *pids = NULL;
    int left = mw_cgroup_pids(root, r.cg.dir, &pids);
    res->leftovers = left > 0 ? (unsigned)left : 0;
    free(pids);
    if (r.have_src)
        mw_cgroup_src_close(&r.src); /* no descriptor of ours inside it as it goes */
    res->cleanup_rc = mw_cg_destroy(root, &r.cg, 5000, o->keep);
    if (res->cleanup_rc < 0)
        mw_err("%s: could not remove %s: %s", o->who, r.cg.dir, mw_strerror(-res->cleanup_rc));
    if (r.tmp_dir[0]) {
        unlink(r.state_file);
        unlink(r.history_file);
        rmdir(r.tmp_dir);
    }
    mw_series_free(&r.used);
    mw_series_free(&r.sys);
    return rc;
}

/* ---- options ---- */

int mw_runner_option(int c, const char *arg, struct mw_runner_opts *o)
{
    switch (c) {
    case 'l':
        if (mw_opt_size("--limit", arg, &o->spec.limit) < 0)
            return MW_EXIT_USAGE;
        if (!o->spec.limit)
            return mw_usage_error(o->who, "--limit must be more than 0");
        return -1;
    case 'S':
        if (strcmp(arg, "max") == 0)
            o->spec.swap = MW_CG_UNLIMITED;
        else if (mw_opt_size("--swap", arg, &o->spec.swap) < 0)
            return MW_EXIT_USAGE;
        return -1;
    case 'H':
        return mw_opt_size("--high", arg, &o->spec.high) < 0 ? MW_EXIT_USAGE : -1;
    case 'c': {
        double cpus;
        if (mw_parse_decimal(arg, &cpus) < 0 || cpus <= 0 || cpus > 4096)
            return mw_usage_error(o->who, "--cpus: '%s' is not a CPU count (e.g. 1, 1.5)", arg);
        o->spec.cpus_milli = (unsigned)(cpus * 1000 + 0.5);
        return -1;
    }
    case 'N':
        if (!mw_cg_name_valid(arg))
            return mw_usage_error(o->who, "--name: use 1-63 of A-Z a-z 0-9 . _ - (and no '..')");
        snprintf(o->spec.name, sizeof(o->spec.name), "%s", arg);
        return -1;
    case 'k':
        o->keep = true;
        return -1;
    case 'i':
        return mw_opt_interval_ms(o->who, arg, &o->interval_ms) != 0 ? MW_EXIT_USAGE : -1;
    case 'r':
        o->record = arg;
        return -1;
    case 'D':
        o->daemon = true;
        return -1;
    default:
        return mw_usage_error(o->who, "unknown option"); /* callers tell '?' and ':' first */
    }
}

void mw_runner_opts_default(struct mw_runner_opts *o, const char *who)
{
    memset(o, 0, sizeof(*o));
    o->who = who;
    o->spec.limit = MW_CG_UNLIMITED;
    o->spec.swap = 0;
    o->spec.high = MW_CG_UNLIMITED;
    o->interval_ms = 1000;
}

int mw_runner_opts_check(const struct mw_ctx *ctx, struct mw_runner_opts *o, int argc, char **argv)
{
    if (optind >= argc)
        return mw_usage_error(o->who, "no command: put it after '--'");
    o->argv = argv + optind;
    if (!mw_root_is_live(&ctx->root)) {
        mw_err("%s: runs commands on the live system only, not under --root", o->who);
        return MW_EXIT_USAGE;
    }
    if (!o->spec.name[0])
        snprintf(o->spec.name, sizeof(o->spec.name), "memwarden-%s-%d", o->who, (int)getpid());
    return -1;
}

/* ---- the summary (pure: the result in, text or JSON out) ---- */

int mw_run_exit_status(const struct mw_run_result *res)
{
    if (res->exec_errno)
        return res->exec_in_cgroup ? 125 : res->exec_errno == ENOENT ? 127 : 126;
    int st = res->wait_status;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 125;
}

/* The usual names (musl has no sigabbrev_np); NULL for the others. */
static const char *sig_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } t[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
        {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"},
        {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
    };
    for (size_t i = 0; i < MW_ARRAY_SIZE(t); i++)
        if (t[i].sig == sig)
            return t[i].name;
    return NULL;
}

const char *mw_run_end_text(const struct mw_run_result *res, char *buf, size_t cap)
{
    int st = res->wait_status;
    if (res->exec_errno)
        snprintf(buf, cap, "%s: %s",
                 res->exec_in_cgroup ? "could not enter the cgroup" : "could not run",
                 mw_strerror(res->exec_errno));
    else if (!res->reaped)
        snprintf(buf, cap, "did not end");
    else if (WIFEXITED(st))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
    else if (res->killer == MW_RUN_KILLER_UNKNOWN)
        snprintf(buf, cap, "killed by SIGKILL, sender unknown (%s)", res->killer_why);
    else if (res->killer != MW_RUN_KILLER_NONE)
        snprintf(buf, cap, "killed by SIGKILL: %s killed the main process (%s)",
                 mw_run_killer_name(res->killer), res->killer_why);
    else if (WIFSIGNALED(st) && sig_name(WTERMSIG(st)))
        snprintf(buf, cap, "killed by %s", sig_name(WTERMSIG(st)));
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, cap, "ended (wait status %#x)", (unsigned)st);
    return buf;
}

static const char *fmt_limit(char *buf, size_t cap, uint64_t v)
{
    if (v == MW_CG_UNLIMITED)
        return snprintf(buf, cap, "none"), buf;
    return mw_fmt_size(buf, cap, v);
}

void mw_run_warn_host(FILE *f, const struct mw_run_result *res)
{
    char a[32], b[32];
    if (res->limit == MW_CG_UNLIMITED || !res->host_ram || res->limit >= res->host_ram)
        return;
    fprintf(f,
            "memwarden: note: the command still sees the host's %s of RAM in /proc/meminfo "
            "and sysinfo(), %s more than its limit; a program that sizes its caches from it "
            "will overshoot\n",
            mw_fmt_size(a, sizeof(a), res->host_ram),
            mw_fmt_size(b, sizeof(b), res->host_ram - res->limit));
}

/* "cgroup  DIR (v1), limit 64 MiB, swap 0 B (memsw = limit + swap), removed" */
static void print_cgroup(FILE *f, const struct mw_run_result *res)
{
    char a[32], b[32], c[32];
    fprintf(f, "  cgroup        ");
    mw_text_put(f, res->dir, strlen(res->dir), 0);
    fprintf(f, " (v%d), %s\n", res->version,
            res->cleanup_rc < 0 ? "NOT removed"
            : res->kept         ? "kept (emptied)"
                                : "removed");
    fprintf(f, "  limit         %s, swap %s", fmt_limit(a, sizeof(a), res->limit),
            fmt_limit(b, sizeof(b), res->swap_limit));
    if (res->limit == MW_CG_UNLIMITED)
        fprintf(f, " (no limit asked)");
    else if (res->swap_enforced)
        fprintf(f, res->version == 1 ? " (memsw.limit_in_bytes = limit + swap)"
                                     : " (memory.swap.max)");
    else if (res->swap_limit != MW_CG_UNLIMITED)
        fprintf(f, " (NOT enforced: no swap accounting; swap can stretch the limit)");
    if (res->high != MW_CG_UNLIMITED)
        fprintf(f, ", high %s%s", mw_fmt_size(c, sizeof(c), res->high),
                res->high_dropped ? " (not applied: v1 has no memory.high)" : "");
    if (res->cpus_milli)
        fprintf(f, ", cpus %.2f%s", res->cpus_milli / 1000.0,
                res->cpu_limited ? "" : " (not applied: no cpu controller)");
    fputc('\n', f);
}

static void print_memory(FILE *f, const struct mw_run_result *res)
{
    char a[32], b[32];
    fprintf(f, "  peak          %s (%s", mw_fmt_size(a, sizeof(a), res->peak), res->peak_source);
    if (strcmp(res->peak_source, "highest sample") != 0)
        fprintf(f, "; highest sample %s", mw_fmt_size(b, sizeof(b), res->peak_sampled));
    fprintf(f, ")");
    if (res->limit != MW_CG_UNLIMITED)
        fprintf(f, ", %.1f%% of the limit", mw_pct(res->peak, res->limit));
    fprintf(f, "\n  peak swap     %s (%s)\n", mw_fmt_size(a, sizeof(a), res->swap_peak),
            res->swap_peak_source);
    if (res->faults_source)
        fprintf(f, "  page faults   %llu, %llu major (%s)\n", (unsigned long long)res->faults,
                (unsigned long long)res->major_faults,
                strcmp(res->faults_source, "memory.stat") == 0
                    ? "memory.stat: every process of the cgroup"
                    : "rusage: the main process only, not its children");
    if (res->version == 2)
        fprintf(f, "  events        high %llu, max %llu, oom %llu, oom_kill %llu\n",
                (unsigned long long)res->ev_high, (unsigned long long)res->ev_max,
                (unsigned long long)res->ev_oom, (unsigned long long)res->ev_oom_kill);
    else
        fprintf(f,
                "  events        charges refused at the limit %llu (failcnt %llu, memsw.failcnt "
                "%llu), oom_kill %llu (v1: no high/oom counts)\n",
                (unsigned long long)res->ev_max, (unsigned long long)res->failcnt,
                (unsigned long long)res->memsw_failcnt, (unsigned long long)res->ev_oom_kill);
    fprintf(f, "  OOM kill      %s\n",
            !res->ev_oom_kill      ? "none"
            : res->main_oom_killed ? "the main process itself"
            : res->killer == MW_RUN_KILLER_UNKNOWN
                ? "in the cgroup; of the main process or not: unknown"
                : "another process of the cgroup (not the main one)");
    if (res->limit != MW_CG_UNLIMITED)
        fprintf(f, "  above %.0f%%     %.1f s of %.1f s\n", MW_RUN_ALERT_PCT, res->above_alert_s,
                res->wall_s);
}

static void print_trend(FILE *f, const struct mw_run_result *res)
{
    if (!res->have_trend) {
        fprintf(f, "  leak verdict  too short to tell (%lu sample%s, %d needed)\n", res->samples,
                res->samples == 1 ? "" : "s", MW_RUN_TREND_MIN_SAMPLES);
        return;
    }
    char words[320];
    mw_trend_words(&res->trend, words, sizeof(words));
    fprintf(f, "  leak verdict  used (usage - reclaimable): %s\n", words);
}

void mw_run_print_text(FILE *f, const struct mw_run_result *res)
{
    char buf[256], a[32];
    fprintf(f, "memwarden %s: ", res->who ? res->who : "run");
    mw_text_put(f, res->cmd, strlen(res->cmd), 200);
    fputc('\n', f);
    print_cgroup(f, res);
    fprintf(f, "  ended         %s -> exit %d", mw_run_end_text(res, buf, sizeof(buf)),
            mw_run_exit_status(res));
    if (res->ended_by_duration)
        fprintf(f, " (ended at the end of the duration)");
    else if (res->stop_signal)
        fprintf(f, " (memwarden got %s)", mw_stop_name(res->stop_signal));
    fputc('\n', f);
    if (res->exec_errno)
        return;
    fprintf(f, "  wall time     %.1f s, %lu sample%s\n", res->wall_s, res->samples,
            res->samples == 1 ? "" : "s");
    print_memory(f, res);
    print_trend(f, res);
    for (size_t i = 0; i < res->ntop; i++) {
        char comm[64];
        mw_text_clean(comm, sizeof(comm), res->top[i].comm, strlen(res->top[i].comm));
        fprintf(f, "  %-13s PID %d %s, PSS %s\n", i ? "" : "largest (end)", res->top[i].pid, comm,
                mw_fmt_size(a, sizeof(a), res->top[i].pss));
    }
    if (res->leftovers)
        fprintf(f, "  left over     %u process%s still in the cgroup, killed\n", res->leftovers,
                res->leftovers == 1 ? "" : "es");
    if (res->adj_reset)
        fprintf(f, "  oom_score_adj 0 (memwarden's -1000 would have made it unkillable)\n");
    if (res->daemon_ran)
        fprintf(f, "  daemon        memwarden daemon --scope ran on the cgroup\n");
}

static void json_limit(struct mw_json *j, const char *key, uint64_t v)
{
    if (v == MW_CG_UNLIMITED)
        mw_json_null(j, key);
    else
        mw_json_u64(j, key, v);
}

void mw_run_json_members(struct mw_json *j, const struct mw_run_result *res)
{
    char buf[256];
    mw_json_str(j, "command", res->cmd);
    mw_json_object_begin(j, "cgroup");
    mw_json_str(j, "path", res->dir);
    mw_json_i64(j, "version", res->version);
    json_limit(j, "limit", res->limit);
    json_limit(j, "swap_limit", res->swap_limit);
    mw_json_bool(j, "swap_enforced", res->swap_enforced);
    json_limit(j, "high", res->high);
    mw_json_bool(j, "high_applied", res->high != MW_CG_UNLIMITED && !res->high_dropped);
    mw_json_fixed(j, "cpus", res->cpus_milli / 1000.0, 3);
    mw_json_bool(j, "cpu_limited", res->cpu_limited);
    mw_json_bool(j, "removed", res->cleanup_rc == 0 && !res->kept);
    mw_json_object_end(j);
    mw_json_i64(j, "pid", res->pid);
    mw_json_str(j, "end", mw_run_end_text(res, buf, sizeof(buf)));
    mw_json_i64(j, "exit_status", mw_run_exit_status(res));
    mw_json_bool(j, "ended_by_duration", res->ended_by_duration);
    if (res->stop_signal)
        mw_json_str(j, "stop_signal", mw_stop_name(res->stop_signal));
    else
        mw_json_null(j, "stop_signal");
    mw_json_fixed(j, "wall_s", res->wall_s, 3);
    mw_json_u64(j, "samples", res->samples);
    mw_json_u64(j, "peak", res->peak);
    mw_json_str(j, "peak_source", res->peak_source ? res->peak_source : "none");
    mw_json_u64(j, "peak_sampled", res->peak_sampled);
    mw_json_u64(j, "swap_peak", res->swap_peak);
    mw_json_str(j, "swap_peak_source", res->swap_peak_source ? res->swap_peak_source : "none");
    mw_json_u64(j, "page_faults", res->faults);
    mw_json_u64(j, "major_faults", res->major_faults);
    mw_json_str(j, "page_faults_source", res->faults_source ? res->faults_source : "none");
    mw_json_object_begin(j, "events");
    if (res->have_ev_high)
        mw_json_u64(j, "high", res->ev_high);
    else
        mw_json_null(j, "high");
    if (res->version == 1) { /* charges refused at each of v1's two limits */
        mw_json_u64(j, "failcnt", res->failcnt);
        mw_json_u64(j, "memsw_failcnt", res->memsw_failcnt);
    } else {
        mw_json_u64(j, "max", res->ev_max);
    }
    if (res->have_ev_oom)
        mw_json_u64(j, "oom", res->ev_oom);
    else
        mw_json_null(j, "oom");
    mw_json_u64(j, "oom_kill", res->ev_oom_kill);
    mw_json_object_end(j);
    mw_json_bool(j, "main_oom_killed", res->main_oom_killed);
    mw_json_str(j, "killed_by", mw_run_killer_key(res->killer));
    mw_json_str(j, "killed_by_why", res->killer == MW_RUN_KILLER_NONE ? "" : res->killer_why);
    mw_json_fixed(j, "above_85pct_s", res->above_alert_s, 3);
    mw_json_u64(j, "peak_rss_sum", res->peak_rss_sum);
    mw_json_u64(j, "peak_pss_sum", res->peak_pss_sum);
    mw_json_u64(j, "min_available", res->min_available);
    if (res->have_trend) {
        mw_json_object_begin(j, "leak");
        mw_json_str(j, "verdict", mw_trend_verdict_name(res->trend.verdict));
        mw_json_str(j, "shape", mw_trend_shape_name(res->trend.shape));
        char words[320];
        mw_trend_words(&res->trend, words, sizeof(words));
        mw_json_str(j, "words", words);
        mw_json_fixed(j, "slope_bytes_per_hour", res->trend.slope_bytes_per_hour, 0);
        mw_json_fixed(j, "window_s", res->trend.window_s, 3);
        mw_json_object_end(j);
    } else {
        mw_json_null(j, "leak");
    }
    mw_json_u64(j, "leftovers_killed", res->leftovers);
    mw_json_bool(j, "daemon", res->daemon_ran);
    mw_json_bool(j, "oom_score_adj_reset", res->adj_reset);
}
