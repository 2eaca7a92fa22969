/* daemonstate: the daemon's state file (a one-line JSON object) that
 * `status`, `doctor` and `metrics` read: its default path, its format, its
 * parser, and the atomic, symlink-refusing write. In model/, not lmk/, so
 * every room that names the file sees it: the daemon writes it (lmk), the
 * doctor's gather reads it (analysis), a snapshot captures it (model). */
#ifndef MW_DAEMONSTATE_H
#define MW_DAEMONSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Where the daemon writes its state unless its config says state_file =
 * PATH, and so where status, doctor and metrics look without --state. */
#define MW_DAEMON_STATE_FILE "/run/memwarden/state.json"

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
    char warning[192];         /* "" or what the daemon cannot see (and so cannot act on) */
    char held[224];            /* "" or memory held where no kill frees it (what, how much) */
};

/* A buffer of this size holds the state of any S (every string escaped to
 * six bytes a byte at worst). */
#define MW_STATE_JSON_MAX 8192

/* Writes S as the state file's JSON (one line, with its newline) into BUF,
 * without allocating. Returns the length, or 0 (BUF "") when it does not
 * fit in CAP. */
size_t mw_daemon_state_format(char *buf, size_t cap, const struct mw_daemon_state *s);

/* Parses the state file's text. Returns 0, -EINVAL when it is not the
 * daemon's JSON object (not JSON, or no "pid" member that is a PID). Unknown
 * members are ignored. OUT is untouched on failure. */
int mw_daemon_state_parse_buf(struct mw_daemon_state *out, const char *buf);

/* Writes S to PATH atomically: PATH.tmp is created anew (a file or symlink
 * left there is removed first, never followed: O_CREAT | O_EXCL |
 * O_NOFOLLOW), given mode 0644 whatever the umask, written and renamed over
 * PATH (rename replaces a symlink planted at PATH, it does not follow it).
 * The parent directory is created (0755) when missing. No allocation.
 * Returns 0 or -errno (PATH.tmp removed on failure). */
int mw_daemon_state_write(const char *path, const struct mw_daemon_state *s);

/* Reads and parses PATH under ROOT. Returns 0 or -errno (-ENOENT: no
 * daemon has written one). Whether the daemon still runs is the caller's
 * question (kill(pid, 0) or /proc/PID). */
int mw_daemon_state_read(const struct mw_root *root, const char *path, struct mw_daemon_state *out);

#endif
