/* daemon: the low-memory killer's main loop (events -> sample -> policy ->
 * victim -> kill -> log), its self-protection (mlockall, own
 * oom_score_adj, watchdog: sysglue.h), readiness notification, and the
 * state file that `memwarden status` reads (state.h). */
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

/* Runs the daemon until SIGTERM/SIGINT (SIGHUP reloads the config and
 * reopens the history file, SIGUSR1 rewrites the state file with the
 * current counters). CFG is the parsed configuration (reloaded from
 * opts->config_path on SIGHUP; its history_file and state_file apply unless
 * O overrides them). Every failure of setup is logged, naming what failed,
 * and returns 1. Returns an exit code. */
int mw_daemon_run(const struct mw_root *root, const struct mw_daemon_opts *o,
                  struct mw_config *cfg);

/* One victim choice among the candidates (every process, or the scope's),
 * timed, printed (text or JSON) to stdout; kills nothing. MIN_ADJ bounds
 * the candidates. Returns an exit code. */
int mw_daemon_choose_once(const struct mw_root *root, const struct mw_daemon_opts *o,
                          const struct mw_config *cfg, int min_adj, bool json);

#endif
