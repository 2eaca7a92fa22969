/* daemon: the low-memory killer's main loop (events -> sample -> policy ->
 * victim -> kill -> log), its self-protection (mlockall, own
 * oom_score_adj, watchdog), readiness notification, and the state file
 * that `memwarden status` reads. */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "lmk/config.h"
#include "base/util.h"

struct mw_daemon_opts {
    const char *config_path; /* NULL: built-in defaults */
    const char *scope;       /* cgroup directory (v1 or v2), NULL: the machine */
    const char *history;     /* overrides cfg history_file */
    const char *state_file;  /* overrides cfg state_file */
    bool dry_run;
    bool foreground;
};

/* Runs the daemon until SIGTERM/SIGINT (SIGHUP reloads the config, SIGUSR1
 * rewrites the state file with the current counters). CFG is the parsed configuration
 * (reloaded from opts->config_path on SIGHUP). Returns an exit code. */
int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o,
                  struct mw_config *cfg);

/* One victim choice among the candidates (every process, or the scope's),
 * timed, printed (text or JSON) to stdout; kills nothing. MIN_ADJ bounds
 * the candidates. Returns an exit code. */
int mw_daemon_choose_once(const struct mw_root *root, const struct mw_daemon_opts *o,
                          const struct mw_config *cfg, int min_adj, bool json);

/* What a running daemon publishes in its state file (JSON object). */
struct mw_daemon_state {
    int pid;
    char source[192];  /* event source in use */
    char strategy[16]; /* "psi" or "minfree" */
    char scope[256];   /* "" : the whole machine */
    bool dry_run;
    uint64_t started; /* wall clock seconds */
    uint64_t updated;
    uint64_t kills;
    uint64_t wakeups_timer;    /* samples on the timer (calm: one per poll_interval_ms) */
    uint64_t wakeups_pressure; /* PSI trigger / vmpressure events */
    uint64_t last_kill_time;   /* 0: none yet */
    char last_kill[512];       /* the last kill's log line */
};

/* Parses the state file's text. Returns 0, -EINVAL when it is not the
 * daemon's JSON object (no "pid"). OUT is untouched on failure. */
int mw_daemon_state_parse_buf(struct mw_daemon_state *out, const char *buf);

/* Reads and parses PATH under ROOT. Returns 0 or -errno (-ENOENT: no
 * daemon has written one). Whether the daemon still runs is the caller's
 * question (kill(pid, 0) or /proc/PID). */
int mw_daemon_state_read(const struct mw_root *root, const char *path, struct mw_daemon_state *out);

/* A buffer of this size holds the state of any S (every string escaped to
 * six bytes a byte at worst). */
#define MW_STATE_JSON_MAX 8192

/* Writes S as the state file's JSON (one line, with its newline) into BUF,
 * without allocating. Returns the length, or 0 (BUF "") when it does not
 * fit in CAP. */
size_t mw_daemon_state_format(char *buf, size_t cap, const struct mw_daemon_state *s);

#endif
