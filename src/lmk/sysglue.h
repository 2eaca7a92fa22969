/* sysglue: the daemon's glue to the operating system — its log (journald
 * prefix on stderr, or syslog), the watchdog timer, readiness notification
 * (sd_notify without libsystemd), daemonizing, real-time priority, and
 * self-protection (own oom_score_adj, mlockall). Nothing here decides
 * anything; the daemon calls it. */
#ifndef MW_SYSGLUE_H
#define MW_SYSGLUE_H

#include <stdbool.h>
#include <stdint.h>

/* Where mw_dlog writes: TO_STDERR "<prio>message" lines on stderr (what
 * journald reads under systemd), else syslog (openlog "memwarden"). */
void mw_dlog_init(bool to_stderr);

/* One log line at syslog priority PRIO. Formats into a static buffer: no
 * allocation, safe on the kill path (not in a signal handler). */
void mw_dlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Installs the SIGALRM watchdog: each expiry of mw_watchdog_arm's timer is
 * a "strike" reported on stderr; with MAY_EXIT (a supervisor restarts us)
 * the third strike exits with status 70. Returns 0 or -errno. */
int mw_watchdog_install(bool may_exit);

/* Arms the watchdog for MS milliseconds (repeating), 0 disarms it; resets
 * the strikes. Returns 0 or -errno. */
int mw_watchdog_arm(uint64_t ms);

/* Sends MSG ("READY=1", ...) to $NOTIFY_SOCKET when set (path or @abstract).
 * Returns 0 (also when there is no socket to tell) or -errno. */
int mw_sd_notify(const char *msg);

/* systemd's watchdog (WatchdogSec=): (re)reads $WATCHDOG_USEC and
 * $WATCHDOG_PID as sd_watchdog_enabled(3) does (a pid that is not ours
 * means the pings are not asked of us). Returns the ping period in ms, half
 * the timeout as sd_watchdog_enabled(3) advises, or 0 when no pings are
 * wanted (also for a malformed value). */
uint64_t mw_sd_watchdog_init(void);

/* The loop's watchdog ping: sends WATCHDOG=1 to $NOTIFY_SOCKET when no ping
 * was sent yet or a period (mw_sd_watchdog_init, read on the first call)
 * has passed since the last one at NOW_MS (monotonic ms), and returns
 * WAIT_MS cut to the ms left until the next ping is due, so the caller's
 * wait never outlasts it. Without a watchdog returns WAIT_MS unchanged. */
uint64_t mw_sd_watchdog_ping(uint64_t now_ms, uint64_t wait_ms);

/* Forks twice into the background (new session, cwd /, stdio on
 * /dev/null). Returns 0 in the daemon or -errno; the parents _exit(0). */
int mw_daemonize(void);

/* SCHED_FIFO at priority 1 with SCHED_RESET_ON_FORK (lmkd's way), falling
 * back to nice -20; says on the log what it got. */
void mw_raise_priority(void);

/* Work that decides nothing (the footprint samples while pressure builds)
 * runs as SCHED_OTHER at nice -20 (BACKGROUND true), the decision and the
 * kill at SCHED_FIFO (false): a real-time sampler ran each refresh to its
 * end on its CPU -- in the distro bed's 2-vCPU TCG guest a refresh of ~190
 * processes every 250 ms, and the heartbeat's stalls in the seconds
 * before memwarden's kill summed to four times the unguarded run's (d01:
 * 1279 ms against 241, its worst 344 ms). At nice -20 a storm still cannot
 * starve the sampler, but a woken interactive task preempts it. Only when
 * mw_raise_priority got SCHED_FIFO; returns true when the policy was set. */
bool mw_priority_background(bool background);

/* Raises the soft RLIMIT_NOFILE to the hard one: the victim scan holds
 * one oom_score_adj descriptor per process (lmk/fpcache.h). Returns the
 * soft limit in force afterwards (0: unknown). */
uint64_t mw_raise_nofile(void);

/* Own oom_score_adj -1000 and mlockall (MCL_ONFAULT when the kernel has
 * it); logs what it could not do. */
void mw_protect_self(void);

#endif
