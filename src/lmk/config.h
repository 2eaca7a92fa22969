/* config: the daemon's configuration file (`key = value` lines in
 * [sections]), lmkd's property names as aliases, the minfree levels table,
 * and the low-RAM profile. Parsing is pure: mw_config_parse_buf works on a
 * string, so tests and --check-config see exactly what the daemon sees.
 * The struct holds no pointers (fixed arrays), so a reload is a struct copy
 * and the daemon's kill path never follows a pointer into freed memory. */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_CFG_MAX_PATTERNS 16 /* per list (protect, prefer, ...) */
#define MW_CFG_PATTERN_LEN  128
#define MW_CFG_MAX_MINFREE  8 /* lmkd's MAX_TARGETS is 6 */
#define MW_CFG_MAX_ARGV     8 /* hook program + arguments */
#define MW_CFG_ARG_LEN      128
#define MW_CFG_PATH_LEN     256

enum mw_strategy {
    MW_STRATEGY_PSI,     /* lmkd's "new strategy" (mp_event_psi) */
    MW_STRATEGY_MINFREE, /* lmkd's minfree levels (ro.lmk.use_minfree_levels) */
};

enum mw_loop_action {
    MW_LOOP_NONE,     /* only report the loop */
    MW_LOOP_COOLDOWN, /* leave the program alone for loop_cooldown_ms */
    MW_LOOP_PROTECT,  /* lower its effective adj by loop_protect_adj for the cool-down */
};

/* Whether oom_score_adj carries classes (victim.h, mw_adj_layout). */
enum mw_adj_mode {
    MW_ADJ_AUTO,    /* detect from the processes' adj values */
    MW_ADJ_ANDROID, /* classes (cached 900+, service 500, ...): lmkd's floors and order */
    MW_ADJ_FLAT,    /* most processes at 0: the kernel's oom_badness order, floors at 0 */
};

/* A list of shell glob patterns (fnmatch) matched against a process's full
 * command line (arguments joined by spaces) and, failing that, its name. */
struct mw_patterns {
    int n;
    char pat[MW_CFG_MAX_PATTERNS][MW_CFG_PATTERN_LEN];
};

/* A program and its arguments, run with execve (never through a shell). */
struct mw_argv {
    int n; /* 0: none configured */
    char arg[MW_CFG_MAX_ARGV][MW_CFG_ARG_LEN];
};

struct mw_minfree_level {
    uint64_t free_kb; /* kill at this adj or above when free and file are below it */
    int adj;
};

struct mw_config {
    /* [killer] */
    enum mw_strategy strategy;
    bool low_ram;
    uint64_t psi_partial_stall_ms;  /* PSI "some" trigger threshold per 1 s window */
    uint64_t psi_complete_stall_ms; /* PSI "full" trigger threshold per 1 s window */
    uint64_t psi_window_ms;
    int thrashing_limit_pct;       /* refaults per file LRU, % per window */
    int thrashing_limit_decay_pct; /* cut after each thrashing kill */
    int thrashing_min_adj;         /* lmkd ro.lmk.thrashing_min_score_adj */
    int swap_free_low_pct;
    int available_low_pct;     /* MemAvailable below this % of total counts as low memory */
    double thrashing_psi_full; /* thrashing kills need PSI full avg10 >= this (0: no check) */
    int swap_util_max_pct;     /* 100 disables */
    uint64_t runaway_fill_ms;  /* growth that fills RAM within this is a runaway (0: off) */
    int runaway_min_adj;       /* runaways are looked for at this adj and above */
    enum mw_adj_mode adj_mode; /* auto (default), android or flat */
    bool realtime;             /* run SCHED_FIFO (lmkd does), falling back to nice -20 */
    int medium_adj;            /* lowest adj killed under medium pressure (ro.lmk.medium) */
    int critical_adj;          /* lowest adj killed under critical pressure (ro.lmk.critical) */
    int lowmem_min_adj;        /* lowest adj killed for low_mem under pressure (1001: never) */
    uint64_t filecache_min_kb; /* file LRU below this counts as "no cache left" */
    bool kill_heaviest_task;
    uint64_t kill_timeout_ms;
    uint64_t kill_settle_ms; /* no new kill until the last one shows, at most this long */
    bool one_kill_at_a_time;
    int minfree_n;
    struct mw_minfree_level minfree[MW_CFG_MAX_MINFREE]; /* ascending free_kb */
    uint64_t poll_interval_ms;                           /* calm sampling period */
    uint64_t watchdog_ms;                                /* a cycle longer than this is "stuck" */
    int scope_min_pct, scope_low_pct, scope_high_pct;    /* scope watermarks, % of total */

    /* [victims] */
    struct mw_patterns protect, prefer, avoid, term_first, kill_cgroup;
    int pattern_adj_shift; /* prefer adds it, avoid subtracts it */
    uint64_t term_grace_ms;
    bool oomd_preference; /* honour ManagedOOMPreference=omit|avoid (lmk/sdunit.h) */
    bool kill_units;      /* a runaway that is its systemd unit dies as the unit (cgroup.kill) */

    /* [loops] */
    int loop_kills;          /* this many kills of one program ... */
    uint64_t loop_window_ms; /* ... within this time is a kill-restart loop */
    enum mw_loop_action loop_action;
    uint64_t loop_cooldown_ms;
    int loop_protect_adj;

    /* [alerts] */
    int alert_mem_used_pct; /* 0: off */
    uint64_t alert_available_kb;
    int alert_swap_used_pct;
    double alert_psi_some_avg10; /* percent, 0: off */
    struct mw_argv alert_hook;
    uint64_t alert_interval_ms;

    /* [hooks] */
    struct mw_argv pre_kill_hook, post_kill_hook;
    uint64_t hook_timeout_ms;

    /* [files] */
    char state_file[MW_CFG_PATH_LEN];
    char history_file[MW_CFG_PATH_LEN]; /* "" : no history */

    /* [metrics] (lmk/metricsd.h; all off by default) */
    char metrics_textfile[MW_CFG_PATH_LEN]; /* "" : none; else DIR for memwarden.prom */
    uint64_t metrics_interval_ms;           /* textfile rewrite and leak sampling period */
    char metrics_listen[64];                /* "" : no HTTP; "PORT", "HOST:PORT", "[V6]:PORT" */
    struct mw_patterns watch; /* processes whose summed RSS gets a leak verdict in the metrics */
    uint64_t metrics_leak_window_ms; /* no leak verdict on less data than this (default 5 min) */

    /* Which keys the file set (so low_ram only changes the defaults). */
    uint64_t set_mask;
};

/* Fills CFG with the defaults (lmkd's, see the seed's parameter table). */
void mw_config_defaults(struct mw_config *cfg);

/* Room for the errors of a whole file (mw_config_parse_buf). */
#define MW_CFG_ERR_LEN 4096

/* Parses config text BUF over the defaults already in CFG (call
 * mw_config_defaults first). Lines: `# comment`, `[section]`,
 * `key = value`; lmkd property names (`ro.lmk.medium`, ...) are aliases
 * and may appear in any section. After the last line the low-RAM profile
 * is applied to keys the text did not set. Every line is parsed: on errors
 * writes each, "line N: message", one a line ('\n' between them), into
 * ERR (capacity ERRCAP, cut there; MW_CFG_ERR_LEN holds many) and returns
 * -EINVAL; CFG may then be partly changed (parse into a scratch copy).
 * Returns 0. */
int mw_config_parse_buf(struct mw_config *cfg, const char *buf, char *err, size_t errcap);

/* Parses a minfree table: comma separated FREE:ADJ pairs, FREE in pages
 * (4 KiB, as sys.lmk.minfree_levels "18432:0,23040:100,...") or a size with
 * a unit ("72M:0"). Sorts by free ascending into OUT (capacity
 * MW_CFG_MAX_MINFREE). Returns the count or -EINVAL / -E2BIG. */
int mw_minfree_parse(const char *s, struct mw_minfree_level *out, int *n);

/* Applies the low-RAM profile (psi_partial_stall_ms 200, thrashing_limit
 * 30, decay 50, swap_free_low_percentage 10, one kill at a time) to every
 * key the file did not set. Called by mw_config_parse_buf. */
void mw_config_apply_low_ram(struct mw_config *cfg);

/* Reads and parses the file at PATH (absolute, not root-relative: a config
 * belongs to the daemon, not to the observed system). Only a regular text
 * file of at most 256 KiB is read: a directory (-EISDIR), a FIFO or device
 * (-EINVAL, refused without waiting), a NUL byte (-EINVAL), a read error
 * or a larger file (-EFBIG) are errors, never an empty config. Returns 0
 * or -errno; ERR explains ("PATH: ...", one line per error of the text;
 * -EINVAL: the text, another: the file). */
int mw_config_load(struct mw_config *cfg, const char *path, char *err, size_t errcap);

/* True when NAME (a command line or a program name) matches a pattern. */
bool mw_patterns_match(const struct mw_patterns *p, const char *cmdline, const char *comm);

/* Steps through the protect and avoid patterns of CFG that another user's
 * process could match (a name match, or a program path without uid:, unit:
 * or cgroup:). *CURSOR starts at 0. Returns true and sets *LIST ("protect"
 * or "avoid"), *PAT and *WHY (a sentence) for the next one; false at the
 * end. The daemon logs them at start and on reload; --check-config prints
 * them. */
bool mw_config_next_forgeable(const struct mw_config *cfg, int *cursor, const char **list,
                              const char **pat, const char **why);

#endif
