#include "lmk/hooks.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lmk/kill.h"
#include "base/text.h"
#include "base/util.h"

const char *mw_alert_name(unsigned bit)
{
    switch (bit) {
    case MW_ALERT_MEM_USED:
        return "mem_used";
    case MW_ALERT_AVAILABLE:
        return "available";
    case MW_ALERT_SWAP_USED:
        return "swap_used";
    case MW_ALERT_PSI:
        return "psi";
    case MW_ALERT_LOOP:
        return "kill_loop";
    }
    return "unknown";
}

unsigned mw_alert_check(const struct mw_config *cfg, const struct mw_mem_state *st, char *msg,
                        size_t cap)
{
    unsigned bits = 0;
    size_t len = 0;
    msg[0] = '\0';
    uint64_t used = st->total_kb > st->available_kb ? st->total_kb - st->available_kb : 0;
    int used_pct = st->total_kb ? (int)(used * 100 / st->total_kb) : 0;
    if (cfg->alert_mem_used_pct > 0 && used_pct >= cfg->alert_mem_used_pct) {
        bits |= MW_ALERT_MEM_USED;
        len += (size_t)snprintf(msg + len, cap - len, "memory used %d%% >= %d%%; ", used_pct,
                                cfg->alert_mem_used_pct);
    }
    if (len < cap && cfg->alert_available_kb > 0 && st->available_kb < cfg->alert_available_kb) {
        bits |= MW_ALERT_AVAILABLE;
        len += (size_t)snprintf(msg + len, cap - len, "available %llukB < %llukB; ",
                                (unsigned long long)st->available_kb,
                                (unsigned long long)cfg->alert_available_kb);
    }
    if (len < cap && cfg->alert_swap_used_pct > 0 && st->swap_total_kb > 0) {
        uint64_t su = st->swap_total_kb -
                      (st->swap_free_kb < st->swap_total_kb ? st->swap_free_kb : st->swap_total_kb);
        int pct = (int)(su * 100 / st->swap_total_kb);
        if (pct >= cfg->alert_swap_used_pct) {
            bits |= MW_ALERT_SWAP_USED;
            len += (size_t)snprintf(msg + len, cap - len, "swap used %d%% >= %d%%; ", pct,
                                    cfg->alert_swap_used_pct);
        }
    }
    if (len < cap && cfg->alert_psi_some_avg10 > 0 && st->have_psi &&
        st->psi_some_avg10 >= cfg->alert_psi_some_avg10) {
        bits |= MW_ALERT_PSI;
        len += (size_t)snprintf(msg + len, cap - len, "psi some avg10 %.2f%% >= %.2f%%; ",
                                st->psi_some_avg10, cfg->alert_psi_some_avg10);
    }
    if (len >= cap)
        len = cap - 1;
    if (len >= 2 && msg[len - 2] == ';')
        msg[len - 2] = '\0';
    return bits;
}

bool mw_rate_allow(uint64_t *last_ms, uint64_t now_ms, uint64_t interval_ms)
{
    if (*last_ms != 0 && now_ms - *last_ms < interval_ms)
        return false;
    *last_ms = now_ms ? now_ms : 1;
    return true;
}

/* The forked child, before execve: a hook starts as a fresh program, not
 * as a copy of the daemon. Its own process group (killed whole on
 * timeout); every signal at its default and none blocked (the daemon
 * ignores SIGPIPE); stdin /dev/null and no descriptor above 2 (the daemon's
 * own, and any it inherited without close-on-exec); nice 0 (the daemon's
 * fallback is -20) and oom_score_adj 0 (the daemon's is -1000, which would
 * make a hook that eats memory unkillable). */
static void hook_child_setup(void)
{
    setpgid(0, 0);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* SIGKILL, SIGSTOP and libc's own fail: fine */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        dup2(fd, 0);
    mw_close_fds_except(NULL, 0);
    setpriority(PRIO_PROCESS, 0, 0);
    fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, "0", 1);
        (void)w;
        close(fd);
    }
}

void mw_hook_env_reset(struct mw_hook_env *e)
{
    e->n = 0;
    e->too_many = false;
    e->envp[0] = NULL;
}

void mw_hook_env_add(struct mw_hook_env *e, const char *fmt, ...)
{
    if (e->n == MW_HOOK_ENV_MAX) {
        e->too_many = true;
        return;
    }
    char raw[2 * MW_HOOK_ENV_LEN]; /* the clean copy below cuts at a character */
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t n = len < 0 ? 0 : (size_t)len < sizeof(raw) ? (size_t)len : sizeof(raw) - 1;
    mw_text_clean(e->store[e->n], sizeof(e->store[e->n]), raw, n);
    e->envp[e->n] = e->store[e->n];
    e->envp[++e->n] = NULL;
}

/* The PATH every hook gets: it starts with no other environment. */
#define HOOK_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

void mw_hook_env_alert(struct mw_hook_env *e, const char *alert, const char *msg,
                       const struct mw_mem_state *st)
{
    mw_hook_env_reset(e);
    mw_hook_env_add(e, "MW_EVENT=alert");
    mw_hook_env_add(e, "MW_ALERT=%s", alert);
    mw_hook_env_add(e, "MW_MESSAGE=%s", msg);
    mw_hook_env_add(e, "MW_AVAILABLE_KB=%llu", (unsigned long long)st->available_kb);
    mw_hook_env_add(e, "MW_TOTAL_KB=%llu", (unsigned long long)st->total_kb);
    mw_hook_env_add(e, "MW_SWAP_FREE_KB=%llu", (unsigned long long)st->swap_free_kb);
    mw_hook_env_add(e, HOOK_PATH);
}

void mw_hook_env_loop(struct mw_hook_env *e, const char *prog, int kills, uint64_t window_ms)
{
    mw_hook_env_reset(e);
    mw_hook_env_add(e, "MW_EVENT=alert");
    mw_hook_env_add(e, "MW_ALERT=kill_loop");
    mw_hook_env_add(e, "MW_PROG=%s", prog);
    mw_hook_env_add(e, "MW_KILLS=%d", kills);
    mw_hook_env_add(e, "MW_WINDOW_MS=%llu", (unsigned long long)window_ms);
    mw_hook_env_add(e, HOOK_PATH);
}

void mw_hook_env_kill(struct mw_hook_env *e, const char *event, const struct mw_victim *v,
                      const char *reason)
{
    mw_hook_env_reset(e);
    mw_hook_env_add(e, "MW_EVENT=%s", event);
    mw_hook_env_add(e, "MW_PID=%d", v->pid);
    mw_hook_env_add(e, "MW_UID=%u", (unsigned)v->uid);
    mw_hook_env_add(e, "MW_ADJ=%d", v->adj);
    mw_hook_env_add(e, "MW_PROG=%s", v->comm);
    mw_hook_env_add(e, "MW_RSS_KB=%llu", (unsigned long long)v->rss_kb);
    mw_hook_env_add(e, "MW_REASON=%s", reason);
    mw_hook_env_add(e, HOOK_PATH);
}

/* Kills the process group of PID (the hook and whatever it started; the
 * unreaped leader keeps the group's ID from reuse) and reaps the leader.
 * Returns its wait status. */
static int kill_group(int pid)
{
    int status = 0;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* A wait status as mw_hook_run returns it. */
static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int mw_hooks_start(struct mw_hooks *h, const struct mw_argv *a, const char *what, uint64_t now_ms,
                   uint64_t timeout_ms)
{
    if (a->n == 0)
        return -EINVAL;
    if (h->env.too_many)
        return -E2BIG;
    int slot = 0;
    while (slot < MW_HOOKS_MAX && h->job[slot].pid > 0)
        slot++;
    if (slot == MW_HOOKS_MAX)
        return -EBUSY;
    char *argv[MW_CFG_MAX_ARGV + 1];
    for (int i = 0; i < a->n; i++)
        argv[i] = (char *)a->arg[i];
    argv[a->n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        hook_child_setup();
        execve(argv[0], argv, h->env.envp);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no window before the child's own call */
    struct mw_hook_job *j = &h->job[slot];
    j->pid = (int)pid;
    j->pidfd = mw_pidfd_open(j->pid); /* -1 before 5.3: waitpid is polled */
    j->started_ms = now_ms;
    j->deadline_ms = now_ms + timeout_ms;
    snprintf(j->what, sizeof(j->what), "%s", what);
    snprintf(j->prog, sizeof(j->prog), "%s", a->arg[0]);
    return slot;
}

/* Frees SLOT of a job that ended with STATUS (or -ETIMEDOUT) at NOW_MS,
 * into END. */
static void job_done(struct mw_hooks *h, int slot, int status, uint64_t now_ms,
                     struct mw_hook_end *end)
{
    struct mw_hook_job *j = &h->job[slot];
    if (end) {
        snprintf(end->what, sizeof(end->what), "%s", j->what);
        snprintf(end->prog, sizeof(end->prog), "%s", j->prog);
        end->status = status;
        end->ran_ms = now_ms - j->started_ms;
    }
    if (j->pidfd >= 0)
        close(j->pidfd);
    memset(j, 0, sizeof(*j));
}

/* Reaps the job in SLOT when it has ended. Returns 1 (END filled) or 0. */
static int job_reap(struct mw_hooks *h, int slot, uint64_t now_ms, struct mw_hook_end *end)
{
    int status;
    pid_t r = waitpid(h->job[slot].pid, &status, WNOHANG);
    if (r != h->job[slot].pid)
        return 0;
    job_done(h, slot, exit_code(status), now_ms, end);
    return 1;
}

int mw_hooks_wait(struct mw_hooks *h, int slot, uint64_t wait_ms, struct mw_hook_end *end)
{
    struct mw_hook_job *j = &h->job[slot];
    uint64_t t0 = mw_now_ms();
    if (j->pidfd >= 0)
        mw_pidfd_wait(j->pidfd, wait_ms);
    else /* kernels before 5.3: poll waitpid */
        while (!job_reap(h, slot, mw_now_ms(), end) && mw_now_ms() - t0 < wait_ms)
            mw_sleep_until_ms(mw_now_ms() + 5, NULL);
    return j->pid == 0 ? 1 : job_reap(h, slot, mw_now_ms(), end);
}

int mw_hooks_reap(struct mw_hooks *h, uint64_t now_ms, struct mw_hook_end *end, int max)
{
    int n = 0;
    for (int i = 0; i < MW_HOOKS_MAX && n < max; i++) {
        if (h->job[i].pid <= 0)
            continue;
        if (job_reap(h, i, now_ms, &end[n])) {
            n++;
        } else if (now_ms >= h->job[i].deadline_ms) {
            kill_group(h->job[i].pid);
            job_done(h, i, -ETIMEDOUT, now_ms, &end[n++]);
        }
    }
    return n;
}

uint64_t mw_hooks_next_ms(const struct mw_hooks *h, uint64_t now_ms)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < MW_HOOKS_MAX; i++) {
        const struct mw_hook_job *j = &h->job[i];
        if (j->pid <= 0)
            continue;
        uint64_t left = j->deadline_ms > now_ms ? j->deadline_ms - now_ms : 0;
        next = left < next ? left : next;
    }
    return next;
}

void mw_hooks_stop(struct mw_hooks *h)
{
    for (int i = 0; i < MW_HOOKS_MAX; i++)
        if (h->job[i].pid > 0) {
            kill_group(h->job[i].pid);
            job_done(h, i, -ETIMEDOUT, 0, NULL);
        }
}

int mw_hook_run(const struct mw_argv *a, char *const envp[], uint64_t timeout_ms)
{
    static struct mw_hooks h; /* 16 KiB of environment: off the stack */
    if (a->n == 0)
        return 0;
    mw_hook_env_reset(&h.env);
    for (int i = 0; envp && envp[i]; i++)
        mw_hook_env_add(&h.env, "%s", envp[i]);
    int slot = mw_hooks_start(&h, a, "hook", mw_now_ms(), timeout_ms);
    if (slot < 0)
        return slot;
    struct mw_hook_end end;
    if (mw_hooks_wait(&h, slot, timeout_ms, &end) == 1)
        return end.status;
    kill_group(h.job[slot].pid);
    job_done(&h, slot, -ETIMEDOUT, 0, NULL);
    return -ETIMEDOUT;
}
