/* hooks: alert thresholds and the programs run on alerts and around kills.
 * A hook is run with execve (argv from the config, details in MW_*
 * environment variables, never through a shell) and killed when it
 * outlives its time limit. */
#ifndef MW_HOOKS_H
#define MW_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lmk/config.h"
#include "lmk/policy.h"

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

/* Runs A with ENVP (NULL terminated "KEY=value" strings, at most 32, each
 * passed cleaned as base/text.h cleans text: control bytes and invalid
 * UTF-8 become '?') and waits up to TIMEOUT_MS, then SIGKILLs its process
 * group (the hook and whatever it started). The hook starts in its own
 * process group with default signal dispositions, an empty signal mask,
 * stdin /dev/null, no descriptor above 2, nice 0 and oom_score_adj 0.
 * Returns the exit status (>= 0; 128 + N when killed by signal N; 127
 * when it could not be executed), -ETIMEDOUT, -E2BIG, or -errno. */
int mw_hook_run(const struct mw_argv *a, char *const envp[], uint64_t timeout_ms);

#endif
