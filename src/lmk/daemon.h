/* daemon: the low-memory killer's main loop (events -> sample -> policy ->
 * victim -> kill -> log), its self-protection (mlockall, own
 * oom_score_adj, watchdog: sysglue.h), readiness notification, and the
 * state file that `memwarden status` reads (state.h). */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "lmk/config.h"
#include "lmk/victim.h"

struct mw_daemon_opts {
    const char *config_path; /* NULL: built-in defaults */
    const char *scope;       /* cgroup directory (v1 or v2), NULL: the machine */
    const char *history;     /* overrides cfg history_file */
    const char *state_file;  /* overrides cfg state_file */
    bool dry_run;
    bool foreground;
};

/* Runs the daemon until SIGTERM/SIGINT (SIGHUP reloads the config and
 * reopens the history file, SIGUSR1 rewrites the state file with the
 * current counters). CFG is the parsed configuration (reloaded from
 * opts->config_path on SIGHUP; its history_file and state_file apply unless
 * O overrides them). Every failure of setup is logged, naming what failed,
 * and returns 1. Returns an exit code. */
int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o,
                  struct mw_config *cfg);

/* What one victim choice found (mw_daemon_choose_once). */
struct mw_choose_once {
    int rc;      /* 1: VICTIM chosen; 0: nobody at MIN_ADJ or above; -errno: the scan failed */
    int min_adj; /* the lowest adj considered */
    struct mw_victim victim;    /* its stat descriptor closed */
    unsigned scanned, detailed; /* processes scanned, and read in detail */
    double refresh_ms;          /* the footprint sample before the choice */
    double choose_ms;           /* the choice */
    bool flat;                  /* the adj layout it used */
};

/* One victim choice among the candidates (every process, or the scope's),
 * as the daemon makes it under pressure (the footprints sampled first,
 * both timed) into OUT; kills nothing, prints nothing. MIN_ADJ bounds the
 * candidates. Returns 0, or -errno when the daemon's files (ROOT/proc, the
 * scope's cgroup) cannot be opened (OUT untouched). */
int mw_daemon_choose_once(const struct mw_root *root, const struct mw_daemon_opts *o,
                          const struct mw_config *cfg, int min_adj, struct mw_choose_once *out);

#endif
