/* progress: what every long-running command shares (watch, leak, slab
 * --interval, and later run/soak) — SIGINT and SIGTERM end the run early so
 * the command reports on what it has collected instead of losing it, a
 * sleep that such a signal cuts short, and one progress line on stderr
 * while stderr is a terminal. */
#ifndef MW_PROGRESS_H
#define MW_PROGRESS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Set by the handlers mw_stop_install installs: the signal that asked the
 * command to finish, 0 while none did. */
extern volatile sig_atomic_t mw_stop_signal;

/* Installs handlers for SIGINT and SIGTERM (without SA_RESTART, so a
 * blocking read or sleep returns) that only set mw_stop_signal. */
void mw_stop_install(void);

/* Sleeps until the monotonic clock reaches WHEN_MS or a stop signal
 * arrives. Returns true when the time was reached. */
bool mw_sleep_or_stop(uint64_t when_ms);

struct mw_progress {
    bool tty;          /* stderr is a terminal: draw the line */
    bool drawn;        /* a line is on the screen (clear it before output) */
    uint64_t start_ms; /* mw_now_ms() at mw_progress_init */
    uint64_t total_ms; /* planned duration, 0: open-ended */
};

/* Starts a progress line for a run planned to last TOTAL_MS (0: until
 * interrupted or a count is reached). */
void mw_progress_init(struct mw_progress *p, uint64_t total_ms);

/* Redraws the line as "elapsed / total · N samples · DETAIL · Ctrl-C ends
 * early" (DETAIL: the command's current figure, e.g. the slope; may be
 * NULL). Does nothing when stderr is not a terminal. */
void mw_progress_show(struct mw_progress *p, unsigned long samples, const char *detail);

/* Erases the line, so normal output starts on a clean row. */
void mw_progress_clear(struct mw_progress *p);

/* Sleeps like mw_sleep_or_stop until WHEN_MS, redrawing the line (as
 * mw_progress_show with SAMPLES and DETAIL) once a second, so the clock
 * moves during a long interval. Returns true when the time was reached,
 * false when a stop signal arrived. */
bool mw_progress_sleep(struct mw_progress *p, uint64_t when_ms, unsigned long samples,
                       const char *detail);

/* The name of a stop signal for messages: "SIGINT", "SIGTERM" or
 * "a signal". */
const char *mw_stop_name(int sig);

#endif
