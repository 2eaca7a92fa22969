#include "lmk/sysglue.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/text.h"
#include "base/util.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* ---- logging ---------------------------------------------------------- */

static bool log_to_stderr = true;

void mw_dlog_init(bool to_stderr)
{
    log_to_stderr = to_stderr;
    if (!to_stderr)
        openlog("memwarden", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void mw_dlog(int prio, const char *fmt, ...)
{
    /* Every line goes through the one sanitiser (base/text.h): process
     * names and command lines are other people's bytes, and a name holding
     * "\n<0>" would otherwise start an emergency-priority journal entry. */
    static char raw[2048], line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    int off = log_to_stderr ? snprintf(line, sizeof(line), "<%d>", prio) : 0;
    mw_text_clean(line + off, sizeof(line) - (size_t)off - 1, raw, strlen(raw));
    size_t len = strlen(line);
    if (log_to_stderr) {
        line[len++] = '\n';
        ssize_t w = write(2, line, len);
        (void)w;
    } else {
        syslog(prio, "%s", line);
    }
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

int mw_watchdog_install(bool may_exit)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    watchdog_may_exit = may_exit;
    sa.sa_handler = watchdog_fire;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGALRM, &sa, NULL) < 0 ? -errno : 0;
}

int mw_watchdog_arm(uint64_t ms)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    if (ms) {
        it.it_value.tv_sec = (time_t)(ms / 1000);
        it.it_value.tv_usec = (suseconds_t)((ms % 1000) * 1000);
        it.it_interval = it.it_value;
    }
    watchdog_strikes = 0;
    return setitimer(ITIMER_REAL, &it, NULL) < 0 ? -errno : 0;
}

/* ---- readiness (sd_notify without libsystemd) --------------------------- */

int mw_sd_notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    int rc = 0;
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* ---- systemd's watchdog (WatchdogSec=) ---------------------------------- */

static struct {
    bool read;          /* the environment was read */
    bool sent;          /* a ping was sent (last_ms holds when) */
    uint64_t period_ms; /* 0: no pings wanted */
    uint64_t last_ms;
} sd_wd;

/* A decimal u64 filling all of S (no sign, no space). Returns 0 or -EINVAL. */
static int parse_u64_exact(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

uint64_t mw_sd_watchdog_init(void)
{
    uint64_t usec = 0, pid = 0;
    sd_wd.read = true;
    sd_wd.sent = false;
    sd_wd.period_ms = 0;
    if (parse_u64_exact(getenv("WATCHDOG_USEC"), &usec) < 0 || usec == 0)
        return 0;
    const char *p = getenv("WATCHDOG_PID");
    if (p && (parse_u64_exact(p, &pid) < 0 || pid != (uint64_t)getpid()))
        return 0;
    sd_wd.period_ms = usec / 2000 ? usec / 2000 : 1;
    return sd_wd.period_ms;
}

uint64_t mw_sd_watchdog_ping(uint64_t now_ms, uint64_t wait_ms)
{
    if (!sd_wd.read)
        mw_sd_watchdog_init();
    if (!sd_wd.period_ms)
        return wait_ms;
    if (!sd_wd.sent || now_ms - sd_wd.last_ms >= sd_wd.period_ms) {
        int rc = mw_sd_notify("WATCHDOG=1");
        if (rc < 0 && !sd_wd.sent)
            mw_dlog(LOG_WARNING, "sd_notify WATCHDOG=1 to $NOTIFY_SOCKET: %s", mw_strerror(-rc));
        sd_wd.sent = true;
        sd_wd.last_ms = now_ms;
    }
    uint64_t left = sd_wd.last_ms + sd_wd.period_ms - now_ms;
    return wait_ms < left ? wait_ms : left;
}

/* ---- process ----------------------------------------------------------- */

/* lmkd's way: SCHED_FIFO at the lowest real-time priority, so a machine
 * busy with the processes eating its memory still runs the killer at once.
 * SCHED_RESET_ON_FORK: hooks start as normal processes. The kernel's RT
 * throttling (sched_rt_runtime_us) keeps 5 % of every CPU for the rest
 * even if a cycle spun. Falls back to nice -20, then says so. */
static bool fifo_held; /* mw_raise_priority got SCHED_FIFO */

void mw_raise_priority(void)
{
    struct sched_param sp = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
        fifo_held = true;
        /* the nice value mw_priority_background's SCHED_OTHER runs at */
        setpriority(PRIO_PROCESS, 0, -20);
        return;
    }
    int e = errno;
    if (setpriority(PRIO_PROCESS, 0, -20) == 0)
        mw_dlog(LOG_NOTICE, "SCHED_FIFO refused (%s): running at nice -20 instead", mw_strerror(e));
    else
        mw_dlog(LOG_WARNING,
                "SCHED_FIFO refused (%s) and nice -20 too: a busy machine may delay kills "
                "(needs CAP_SYS_NICE; realtime = false silences this)",
                mw_strerror(e));
}

bool mw_priority_background(bool background)
{
    if (!fifo_held)
        return false;
    struct sched_param sp = {.sched_priority = background ? 0 : 1};
    int policy = (background ? SCHED_OTHER : SCHED_FIFO) | SCHED_RESET_ON_FORK;
    if (sched_setscheduler(0, policy, &sp) == 0)
        return true;
    if (!background) {
        fifo_held = false; /* lost (a changed RLIMIT_RTPRIO): said once */
        mw_dlog(LOG_WARNING, "SCHED_FIFO lost (%s): running at nice -20", mw_strerror(errno));
    }
    return false;
}

uint64_t mw_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return 0;
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

void mw_protect_self(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "-1000", 5) != 5)
        mw_dlog(LOG_WARNING,
                "cannot set own oom_score_adj to -1000 (%s): the kernel's OOM killer may pick "
                "memwarden (needs CAP_SYS_RESOURCE; systemd: OOMScoreAdjust=-1000)",
                mw_strerror(errno));
    if (fd >= 0)
        close(fd);
    /* Only what is touched gets locked (MCL_ONFAULT, 4.4+): the daemon's
     * working set stays resident without pinning untouched buffers. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0 &&
        mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        mw_dlog(LOG_WARNING, "mlockall: %s (memwarden itself may be swapped out)",
                mw_strerror(errno));
}

int mw_daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (int i = 0; i < 3; i++)
        if (dup2(fd, i) < 0)
            rc = -errno;
    if (fd > 2)
        close(fd);
    return rc;
}
