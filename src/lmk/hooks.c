#include "lmk/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lmk/kill.h"
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

int mw_hook_run(const struct mw_argv *a, char *const envp[], uint64_t timeout_ms)
{
    if (a->n == 0)
        return 0;
    char *argv[MW_CFG_MAX_ARGV + 1];
    for (int i = 0; i < a->n; i++)
        argv[i] = (char *)a->arg[i];
    argv[a->n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            dup2(fd, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    int pidfd = mw_pidfd_open(pid);
    int status = 0;
    int rc;
    if (pidfd >= 0) {
        rc = mw_pidfd_wait(pidfd, timeout_ms);
        close(pidfd);
    } else { /* kernels before 5.3: poll waitpid */
        uint64_t t0 = mw_now_ms();
        rc = 0;
        while (mw_now_ms() - t0 < timeout_ms) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            mw_sleep_until_ms(mw_now_ms() + 5, NULL);
        }
    }
    if (rc != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -ETIMEDOUT;
    }
    if (waitpid(pid, &status, 0) != pid)
        return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
