/* Unit tests of lmk/sysglue's systemd watchdog: the period read from
 * $WATCHDOG_USEC / $WATCHDOG_PID as sd_watchdog_enabled(3) reads it, and the
 * pings (WATCHDOG=1 datagrams on a real $NOTIFY_SOCKET) at half the timeout,
 * with the loop's wait cut so it never outlasts the next ping. And the
 * daemon's two priorities: sampling as SCHED_OTHER at nice -20, deciding
 * and killing at SCHED_FIFO (this process's own, restored after). */
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "lmk/sysglue.h"

/* A datagram socket bound at a fresh path, named in $NOTIFY_SOCKET; returns
 * its fd (non-blocking) or -1. PATH receives the path (to unlink). */
static int notify_socket(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/mw-test-notify.%d", (int)getpid());
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setenv("NOTIFY_SOCKET", path, 1);
    return fd;
}

/* The number of datagrams waiting on FD that read exactly WATCHDOG=1, -1
 * when another message is among them. */
static int pings(int fd)
{
    char buf[64];
    int n = 0;
    ssize_t r;
    while ((r = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
        buf[r] = '\0';
        if (strcmp(buf, "WATCHDOG=1") != 0)
            return -1;
        n++;
    }
    return n;
}

static void set_pid_env(long pid)
{
    char b[32];
    snprintf(b, sizeof(b), "%ld", pid);
    setenv("WATCHDOG_PID", b, 1);
}

static void test_watchdog_period(void)
{
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "30000000", 1); /* WatchdogSec=30s */
    CHECK_EQ_U64(mw_sd_watchdog_init(), 15000);
    set_pid_env((long)getpid());
    CHECK_EQ_U64(mw_sd_watchdog_init(), 15000);
    set_pid_env((long)getpid() + 1); /* meant for another process */
    CHECK_EQ_U64(mw_sd_watchdog_init(), 0);
    setenv("WATCHDOG_PID", "x", 1);
    CHECK_EQ_U64(mw_sd_watchdog_init(), 0);
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "1500", 1); /* under 2 ms: still pings, every 1 ms */
    CHECK_EQ_U64(mw_sd_watchdog_init(), 1);
    const char *bad[] = {"0", "", "-5", " 5", "5s", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        CHECK_EQ_U64(mw_sd_watchdog_init(), 0);
    }
    unsetenv("WATCHDOG_USEC");
    CHECK_EQ_U64(mw_sd_watchdog_init(), 0);
}

static void test_watchdog_pings_at_half_the_timeout(void)
{
    char path[108];
    int fd = notify_socket(path, sizeof(path));
    if (fd < 0)
        SKIP("cannot bind a unix datagram socket under /tmp");
    setenv("WATCHDOG_USEC", "200000", 1); /* 200 ms: a ping every 100 ms */
    set_pid_env((long)getpid());
    CHECK_EQ_U64(mw_sd_watchdog_init(), 100);
    /* the first call pings at once; the wait is cut to the period */
    CHECK_EQ_U64(mw_sd_watchdog_ping(1000, 10000), 100);
    CHECK_EQ_INT(pings(fd), 1);
    /* half a period later: no ping, the wait ends when the next is due */
    CHECK_EQ_U64(mw_sd_watchdog_ping(1050, 10000), 50);
    CHECK_EQ_U64(mw_sd_watchdog_ping(1050, 20), 20); /* a shorter wait stays */
    CHECK_EQ_INT(pings(fd), 0);
    CHECK_EQ_U64(mw_sd_watchdog_ping(1100, 10000), 100);
    CHECK_EQ_INT(pings(fd), 1);
    /* a late turn (a long cycle) pings at once and starts a new period */
    CHECK_EQ_U64(mw_sd_watchdog_ping(1350, 10000), 100);
    CHECK_EQ_INT(pings(fd), 1);
    /* 100 turns over 1 s of loop time, every 10 ms: 10 pings, one a period */
    for (uint64_t t = 1360; t < 2360; t += 10)
        mw_sd_watchdog_ping(t, 10);
    CHECK_EQ_INT(pings(fd), 10);
    close(fd);
    unlink(path);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_off_leaves_the_wait(void)
{
    char path[108];
    int fd = notify_socket(path, sizeof(path));
    if (fd < 0)
        SKIP("cannot bind a unix datagram socket under /tmp");
    unsetenv("WATCHDOG_USEC");
    mw_sd_watchdog_init();
    CHECK_EQ_U64(mw_sd_watchdog_ping(5000, 10000), 10000);
    CHECK_EQ_U64(mw_sd_watchdog_ping(50000, 7), 7);
    CHECK_EQ_INT(pings(fd), 0);
    /* a watchdog meant for another pid: no pings from us either */
    setenv("WATCHDOG_USEC", "200000", 1);
    set_pid_env(1);
    mw_sd_watchdog_init();
    CHECK_EQ_U64(mw_sd_watchdog_ping(60000, 10000), 10000);
    CHECK_EQ_INT(pings(fd), 0);
    close(fd);
    unlink(path);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    unsetenv("NOTIFY_SOCKET");
}

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static int policy_now(void)
{
    return sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
}

/* Without SCHED_FIFO from mw_raise_priority there is nothing to drop:
 * the policy and nice value stay as they are. Runs before the next test. */
static void test_priority_untouched_without_fifo(void)
{
    int nice_before = getpriority(PRIO_PROCESS, 0);
    CHECK(!mw_priority_background(true));
    CHECK_EQ_INT(policy_now(), SCHED_OTHER);
    CHECK(!mw_priority_background(false));
    CHECK_EQ_INT(policy_now(), SCHED_OTHER);
    CHECK_EQ_INT(getpriority(PRIO_PROCESS, 0), nice_before);
}

/* With SCHED_FIFO: sampling drops to SCHED_OTHER at nice -20 (a woken
 * task preempts it), deciding goes back to SCHED_FIFO. */
static void test_priority_sampling_yields(void)
{
    mw_raise_priority();
    if (policy_now() != SCHED_FIFO)
        SKIP("SCHED_FIFO refused here (needs CAP_SYS_NICE or RLIMIT_RTPRIO)");
    CHECK(mw_priority_background(true));
    CHECK_EQ_INT(policy_now(), SCHED_OTHER);
    CHECK_EQ_INT(getpriority(PRIO_PROCESS, 0), -20);
    CHECK(mw_priority_background(false));
    CHECK_EQ_INT(policy_now(), SCHED_FIFO);
    struct sched_param sp = {.sched_priority = 0};
    sched_setscheduler(0, SCHED_OTHER, &sp);
    setpriority(PRIO_PROCESS, 0, 0);
}

int main(void)
{
    RUN(test_watchdog_period);
    RUN(test_watchdog_pings_at_half_the_timeout);
    RUN(test_watchdog_off_leaves_the_wait);
    RUN(test_priority_untouched_without_fifo);
    RUN(test_priority_sampling_yields);
    return TESTS_DONE();
}
