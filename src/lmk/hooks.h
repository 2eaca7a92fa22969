/* hooks: alert thresholds and the programs run on alerts and around kills.
 * A hook is run with execve (argv from the config, details in MW_*
 * environment variables, never through a shell), in the background --
 * a killer never waits for one, but for a pre-kill hook's short bounded
 * wait -- and killed when it outlives its time limit. */
#ifndef MW_HOOKS_H
#define MW_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lmk/config.h"
#include "lmk/policy.h"
#include "lmk/victim.h"

/* Alert kinds (bits). */
enum {
    MW_ALERT_MEM_USED = 1,
    MW_ALERT_AVAILABLE = 2,
    MW_ALERT_SWAP_USED = 4,
    MW_ALERT_PSI = 8,
    MW_ALERT_LOOP = 16,
};
#define MW_ALERT_KINDS 5

/* Which thresholds ST crosses (bits above); MSG (capacity CAP) gets a line
 * naming them with their numbers ("memory used 87% >= 85%"). Pure. */
unsigned mw_alert_check(const struct mw_config *cfg, const struct mw_mem_state *st, char *msg,
                        size_t cap);

/* Name of one alert bit ("mem_used"). */
const char *mw_alert_name(unsigned bit);

/* Rate limit: true (and records NOW_MS) when the last allowed event is at
 * least INTERVAL_MS ago. */
bool mw_rate_allow(uint64_t *last_ms, uint64_t now_ms, uint64_t interval_ms);

/* The environment of a hook: "KEY=value" strings, each cleaned as
 * base/text.h cleans text (control bytes and invalid UTF-8 become '?':
 * values such as MW_PROG are process names anyone can choose), at most
 * MW_HOOK_ENV_MAX of MW_HOOK_ENV_LEN - 1 bytes (cut at a character). The
 * one builder of every hook's environment; hooks see it at execve. */
#define MW_HOOK_ENV_MAX 32
#define MW_HOOK_ENV_LEN 512
struct mw_hook_env {
    int n;
    bool too_many; /* an entry past MW_HOOK_ENV_MAX was dropped */
    char store[MW_HOOK_ENV_MAX][MW_HOOK_ENV_LEN];
    char *envp[MW_HOOK_ENV_MAX + 1]; /* NULL-terminated */
};

/* Empties E. */
void mw_hook_env_reset(struct mw_hook_env *e);

/* Appends one entry, formatted and cleaned, to E. */
void mw_hook_env_add(struct mw_hook_env *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* E for an alert of kind ALERT (mw_alert_name) with its line MSG on ST:
 * MW_EVENT=alert, MW_ALERT, MW_MESSAGE, MW_AVAILABLE_KB, MW_TOTAL_KB,
 * MW_SWAP_FREE_KB, PATH. */
void mw_hook_env_alert(struct mw_hook_env *e, const char *alert, const char *msg,
                       const struct mw_mem_state *st);

/* E for a kill-restart loop of PROG killed KILLS times within WINDOW_MS:
 * MW_EVENT=alert, MW_ALERT=kill_loop, MW_PROG, MW_KILLS, MW_WINDOW_MS,
 * PATH. */
void mw_hook_env_loop(struct mw_hook_env *e, const char *prog, int kills, uint64_t window_ms);

/* E for the kill of V for REASON; EVENT is "pre_kill" or "post_kill":
 * MW_EVENT, MW_PID, MW_UID, MW_ADJ, MW_PROG, MW_RSS_KB, MW_REASON, PATH. */
void mw_hook_env_kill(struct mw_hook_env *e, const char *event, const struct mw_victim *v,
                      const char *reason);

/* Hooks never hold the killer: each runs in the background, started with
 * execve (argv from the config, never through a shell) in its own process
 * group with default signal dispositions, an empty signal mask, stdin
 * /dev/null, no descriptor above 2, nice 0 and oom_score_adj 0. The
 * daemon reaps them from its event loop (SIGCHLD on its signalfd, and
 * every wakeup) and SIGKILLs the whole group of one that outlives its
 * time limit (hook_timeout_ms). */

/* At most this many hooks run at once; one more is not started (and
 * said). One wakeup kills at most MW_CYCLE_MAX_KILLS (8) victims: their
 * post-kill hooks fit, while a hook that hangs (alert_hook =
 * /bin/sleep 30) holds a slot only until its time limit. */
#define MW_HOOKS_MAX 8

/* A pre-kill hook is waited for at most this long (never longer than
 * hook_timeout_ms), counted in the kill's latency; then the kill goes
 * ahead and the hook runs on in the background like the others. On this
 * project's 2-core host a /bin/sh -c hook that writes one line ran in 2.1
 * ms and logger(1) in 4.2 ms (100 and 50 runs): 100 ms lets such a hook
 * finish 25 times over on a loaded machine, and is 1/50 of the watchdog's
 * default 5 s. */
#define MW_HOOK_PRE_KILL_WAIT_MS 100

struct mw_hook_job {
    int pid; /* 0: a free slot */
    int pidfd;
    uint64_t started_ms, deadline_ms;
    char what[16];  /* "alert", "pre-kill", "post-kill" */
    char prog[128]; /* argv[0] */
};

/* The hooks running now, and the environment the next one gets (built
 * with the mw_hook_env_* functions above). Owned by the caller; zeroed
 * is empty. */
struct mw_hooks {
    struct mw_hook_job job[MW_HOOKS_MAX];
    struct mw_hook_env env;
};

/* How a hook ended. */
struct mw_hook_end {
    char what[16];
    char prog[128];
    int status; /* as mw_hook_run returns it (>= 0), or -ETIMEDOUT */
    uint64_t ran_ms;
};

/* Starts A with H->env in the background at NOW_MS, to be killed at NOW_MS
 * + TIMEOUT_MS; WHAT names it in the daemon's log. Returns the job's slot
 * (>= 0), or -EBUSY when MW_HOOKS_MAX run already (nothing started),
 * -E2BIG (H->env had too many entries), -errno (fork). A->n == 0: -EINVAL. */
int mw_hooks_start(struct mw_hooks *h, const struct mw_argv *a, const char *what, uint64_t now_ms,
                   uint64_t timeout_ms);

/* Waits up to WAIT_MS for the job in SLOT to end. Returns 1 when it did
 * (reaped; END filled), 0 when it still runs (it stays H's). */
int mw_hooks_wait(struct mw_hooks *h, int slot, uint64_t wait_ms, struct mw_hook_end *end);

/* Reaps every job that ended (waitpid on its own PID: no other child is
 * touched) and kills the process group of every job past its deadline at
 * NOW_MS, reaping it too. Fills END with up to MAX of them. Returns how
 * many ended. */
int mw_hooks_reap(struct mw_hooks *h, uint64_t now_ms, struct mw_hook_end *end, int max);

/* Milliseconds from NOW_MS to the nearest deadline (0: one is due),
 * UINT64_MAX when no hook runs. */
uint64_t mw_hooks_next_ms(const struct mw_hooks *h, uint64_t now_ms);

/* Kills and reaps every job (the daemon stops). */
void mw_hooks_stop(struct mw_hooks *h);

/* Runs A with ENVP (NULL-terminated "KEY=value" strings, cleaned as in
 * struct mw_hook_env) and waits up to TIMEOUT_MS, then SIGKILLs its
 * process group (the hook and whatever it started): the hooks above,
 * waited for. Returns the exit status (>= 0; 128 + N when killed by
 * signal N; 127 when it could not be executed), -ETIMEDOUT, -E2BIG, or
 * -errno. */
int mw_hook_run(const struct mw_argv *a, char *const envp[], uint64_t timeout_ms);

#endif
