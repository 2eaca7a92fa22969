#include "lmk/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

#ifndef SYS_close_range
#define SYS_close_range 436 /* 5.9, the same number on every architecture */
#endif

/* Closes every descriptor above 2: close_range, or (before 5.9) what
 * /proc/self/fd lists, read with getdents64 into a stack buffer (no
 * allocation between fork and exec). Passes repeat until one closes
 * nothing, as closing moves the directory's entries. */
static void close_from_3(void)
{
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
        return;
    for (bool closed = true; closed;) {
        closed = false;
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return;
        char buf[4096];
        long got;
        while ((got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
            for (long off = 0; off < got;) {
                struct linux_dirent64 {
                    uint64_t d_ino;
                    int64_t d_off;
                    unsigned short d_reclen;
                    unsigned char d_type;
                    char d_name[];
                } *d = (void *)(buf + off);
                off += d->d_reclen;
                int fd = atoi(d->d_name);
                if (fd > 2 && fd != dfd && close(fd) == 0)
                    closed = true;
            }
        }
        close(dfd);
    }
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
    close_from_3();
    setpriority(PRIO_PROCESS, 0, 0);
    fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, "0", 1);
        (void)w;
        close(fd);
    }
}

/* ENVP cleaned (base/text.h: control bytes and invalid UTF-8 become '?'):
 * values such as MW_PROG are process names anyone can choose. At most
 * HOOK_ENV_MAX entries of HOOK_ENV_LEN - 1 bytes (cut at a character).
 * Static storage: hooks run one at a time. Returns the NULL-terminated
 * copy, or NULL when ENVP has too many entries. */
#define HOOK_ENV_MAX 32
#define HOOK_ENV_LEN 512
static char *const *clean_env(char *const envp[])
{
    static char store[HOOK_ENV_MAX][HOOK_ENV_LEN];
    static char *out[HOOK_ENV_MAX + 1];
    int n = 0;
    for (; envp && envp[n]; n++) {
        if (n == HOOK_ENV_MAX)
            return NULL;
        mw_text_clean(store[n], sizeof(store[n]), envp[n], strlen(envp[n]));
        out[n] = store[n];
    }
    out[n] = NULL;
    return out;
}

/* Waits up to TIMEOUT_MS for PID. Returns 1 when it exited (not yet
 * reaped; *STATUS set when the fallback reaped it), 0 on timeout. */
static int hook_wait(pid_t pid, uint64_t timeout_ms, int *status, bool *reaped)
{
    int pidfd = mw_pidfd_open(pid);
    if (pidfd >= 0) {
        int rc = mw_pidfd_wait(pidfd, timeout_ms);
        close(pidfd);
        return rc == 1;
    }
    uint64_t t0 = mw_now_ms(); /* kernels before 5.3: poll waitpid */
    while (mw_now_ms() - t0 < timeout_ms) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            *reaped = true;
            return 1;
        }
        mw_sleep_until_ms(mw_now_ms() + 5, NULL);
    }
    return 0;
}

int mw_hook_run(const struct mw_argv *a, char *const envp[], uint64_t timeout_ms)
{
    if (a->n == 0)
        return 0;
    char *argv[MW_CFG_MAX_ARGV + 1];
    for (int i = 0; i < a->n; i++)
        argv[i] = (char *)a->arg[i];
    argv[a->n] = NULL;
    char *const *env = clean_env(envp);
    if (!env)
        return -E2BIG;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        hook_child_setup();
        execve(argv[0], argv, env);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no window before the child's own call */
    int status = 0;
    bool reaped = false;
    if (!hook_wait(pid, timeout_ms, &status, &reaped)) {
        /* the whole group: whatever the hook started dies with it (the
         * unreaped leader keeps the group's ID from reuse) */
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -ETIMEDOUT;
    }
    if (!reaped && waitpid(pid, &status, 0) != pid)
        return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
