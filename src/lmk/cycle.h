/* cycle: the kill cycle, pure. One sample of memory goes in; what to do
 * now comes out (nothing, wait for the last kill's memory, kill this
 * victim with these others, or -- dry run -- say who would die), with what
 * to say about it (alerts due, memory held, no victim, a kill in vain, a
 * kill-restart loop). The cycle's memory between samples (what was killed,
 * when, what it freed, the settle state, loop penalties, the rate limits
 * of its notes, the victims chosen in this cycle) is a value the caller
 * owns, as the thrashing state of policy.h is.
 *
 * Nothing here reads a file, the clock, or signals anyone. The victim
 * choice, which must read /proc in the middle of a decision (a second
 * victim is chosen only once the first one's size is known), goes through
 * struct mw_cycle_ops: the daemon fills it with the victim scan
 * (victim.h), tests fake it with a list of processes. The effects (signal,
 * log, history, hooks, state file) come back as struct mw_cycle_out for
 * the daemon to perform; what the kill did is told back with
 * mw_cycle_killed. Rules and the measurements behind them:
 * docs/design.md, "The kill cycle". */
#ifndef MW_CYCLE_H
#define MW_CYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lmk/config.h"
#include "lmk/history.h"
#include "lmk/hooks.h"
#include "lmk/policy.h"
#include "lmk/victim.h"

/* At most this many victims per wakeup: the kills of one step (each
 * re-checked at once) and the victims one cover signals together. From
 * the first daemon (98f2c89), not measured; the bed's largest cover took
 * 4 (g12, g23, g27: a 74 MiB deficit of 24-32 MiB apps), a runaway burst
 * counts once however many processes it holds (s5: 60). */
#define MW_CYCLE_MAX_KILLS 8

/* The footprints are sampled (mw_victim_refresh) while pressure builds:
 * once available memory is under this many times the available_low line,
 * or a PSI event came. Twice the line (20 % of RAM at the default 10 %)
 * leaves the footprint cache at least two samples (a growth rate) before
 * the runaway pass looks, at half the line: in the bed's s1 (a 50 MiB/s
 * hog in 457 MiB) the way from 20 % to 5 % takes 1.4 s, five refreshes
 * at MW_FP_RATE_MIN_MS (victim.h). */
#define MW_CYCLE_BUILDING_LINES 2

/* When memory is not short the footprints are refreshed at most this
 * often (calm samples come every poll_interval_ms, 10 s by default): a
 * refresh then costs a /proc/loadavg read unless processes came or went
 * (victim.h), and the cache is warm when pressure builds -- 5,000
 * processes met for the first time under pressure cost 150 ms of reads
 * on the build host, 3 s in the bed's TCG guest (issue 27). */
#define MW_CYCLE_CALM_REFRESH_MS 10000

/* The swap nobody holds (mw_state_unowned_swap_kb: swap used minus the
 * processes' VmSwap) is known only from a footprint sample younger than
 * this; an older one says held_swap_known = false and the held verdict
 * keeps its last value (MW_HELD_KEEP_MS). Set with the rule in d493b41
 * (the bed's g23: swapped-out tmpfs looked freed and two more kills
 * followed), not measured on its own: while pressure builds the samples
 * come at most MW_FP_RATE_MIN_MS apart, so 2 s is eight refreshes missed;
 * e3973bb then showed on g03 what a stale sample does (swapped-out tmpfs
 * looked freed, and the heartbeat died to a low_mem_and_swap kill outside
 * the last line). */
#define MW_CYCLE_SWAP_FRESH_MS 2000

/* The notes that repeat every sample while their cause lasts (memory
 * held: log, and the state file's "held" while its numbers move; no
 * victim; a kill that cannot help) are said at most once per this. A
 * held verdict lasts as long as tmpfs holds the memory, with samples 10
 * ms apart near the limit (MW_POLL_MIN_MS): 100 lines a second without
 * it. Since 71f5299 / 95746c2; a log rate, not a measurement. */
#define MW_CYCLE_NOTE_MS 10000

/* A dry run repeats its decision every sample: the same victim is said
 * again at most once per this (from the first daemon, 98f2c89). */
#define MW_CYCLE_DRY_REPEAT_MS 1000

/* The reads a decision makes halfway: the victim scan (victim.h) in the
 * daemon, a fake in tests. None of them signals anything. */
struct mw_cycle_ops {
    void *ctx;
    /* mw_victim_choose: 1 and OUT filled (OUT->stat_fd open), 0 nobody,
     * -errno */
    int (*choose)(void *ctx, const struct mw_choice *c, struct mw_victim *out);
    /* the cycle will not kill V, chosen by choose: close V->stat_fd */
    void (*put)(void *ctx, struct mw_victim *v);
    /* mw_victim_refresh: samples every footprint at C->min_adj or above */
    int (*refresh)(void *ctx, const struct mw_choice *c);
    /* mw_victim_forget: after a kill, every cached footprint is stale */
    void (*forget)(void *ctx);
    /* mw_scan_adj_flat of the last scan */
    bool (*scan_flat)(void *ctx);
    /* when the footprints were last sampled (mw_victim_refresh; 0: never) */
    uint64_t (*sampled_ms)(void *ctx);
    /* mw_victim_swap_kb of that sample (-1: none). Called only when the
     * sample is fresh: it sums the whole footprint cache (16384 entries,
     * 1.6 MiB), too much to do at every sample 10 ms apart */
    int64_t (*procs_swap_kb)(void *ctx);
};

/* The cycle's memory between samples. Owned by the caller; initialised
 * by mw_cycle_init. */
struct mw_cycle {
    bool dry_run;
    bool adj_flat; /* the adj layout (cfg->adj_mode, or the last scan's) */
    struct mw_thrash thrash;
    struct mw_penalties pen;      /* kill-restart loops: programs left alone or protected */
    struct mw_loop_tracker loops; /* the kills of each program, for the loop check */
    /* the last kill, until its memory shows (mw_policy_kill_visible) */
    bool settling;
    uint64_t settle_until_ms, settle_rss_kb, settle_swap_kb;
    struct mw_mem_state settle_before; /* the state the kill was decided on */
    uint64_t refresh_ms;               /* the last footprint refresh */
    /* rate limits */
    uint64_t alert_last[MW_ALERT_KINDS];
    uint64_t held_log_ms, held_state_ms, note_ms;
    uint64_t dry_ms;
    int dry_pid;
    char held[224]; /* what holds the memory, as the state file says it ("": nothing) */
    /* scratch of one cycle: its victims (excluded from more choices) */
    int chosen_pid[MW_VICTIM_GROUP + 1];
    struct mw_victim more;
};

enum mw_cycle_act {
    MW_CYCLE_NONE,       /* no kill */
    MW_CYCLE_SETTLING,   /* the last kill's memory is still coming back: no decision */
    MW_CYCLE_KILL,       /* kill out->victim and its group, then call mw_cycle_killed */
    MW_CYCLE_WOULD_KILL, /* dry run: out->victim would have died */
};

enum mw_cycle_note {
    MW_CYCLE_NOTE_NONE,
    MW_CYCLE_NOTE_NO_VICTIM, /* a kill was due, nobody at dec.min_adj may be killed */
    MW_CYCLE_NOTE_IN_VAIN,   /* the best victim frees too little to help (kill_helps) */
};

/* What to do now, and what to say. */
struct mw_cycle_out {
    enum mw_cycle_act act;
    struct mw_decision dec;
    /* KILL: the victim (stat_fd open until the daemon's kill closes it),
     * group_pid its other members and the cover's victims; WOULD_KILL and
     * NOTE_IN_VAIN: who it was (stat_fd closed) */
    struct mw_victim victim;
    uint64_t frees_kb; /* what the victim (its unit, for a runaway) holds */
    bool say;          /* WOULD_KILL: not the repeat of the last choice */
    /* alert kinds (bits, hooks.h) to raise now, past their rate limit,
     * and the line naming their numbers */
    unsigned alerts;
    char alert_msg[512];
    bool say_held;     /* log dec.held_detail (dec.held: it stopped a kill) */
    bool publish_held; /* the cycle's held text changed: rewrite the state file */
    bool layout_changed;
    enum mw_cycle_note note;
    bool say_note;       /* the note is past its rate limit */
    int choose_rc;       /* NOTE_NO_VICTIM: the choice's result (0, or -errno) */
    int cover_victims;   /* KILL: victims signalled together (1: the victim alone) */
    uint64_t covered_kb; /* ... and what they hold */
    /* set by mw_cycle_killed */
    int loop_kills; /* >= cfg->loop_kills: the victim's program is in a kill-restart loop */
    bool loop_hook; /* ... and the alert hook is due (once per alert interval) */
};

/* What the daemon's kill did with a MW_CYCLE_KILL. */
struct mw_cycle_kill {
    bool signalled;         /* SIGKILL went out (or a SIGTERM that sufficed) */
    bool gone_before;       /* the victim was gone before the signal (its memory came back) */
    uint64_t sig_ms;        /* the signal's time (the samples' clock, now_ms) */
    uint64_t sig_boot_ms;   /* ... in ms since boot, the clock of ... */
    uint64_t start_boot_ms; /* ... the victim's start (mw_loop_start_ms) */
    uint64_t now_ms;        /* the sample after the kill (its now_ms; the decision's without) */
};

/* True when the adj layout is flat: as configured, or (auto) as the last
 * scan found it (SCAN_FLAT, mw_scan_adj_flat). Pure. */
bool mw_cycle_flat(const struct mw_config *cfg, bool scan_flat);

/* Starts the cycle's memory: nothing killed, the thrashing state at
 * CFG's limit, the layout FLAT; DRY_RUN: choose, never kill. */
void mw_cycle_init(struct mw_cycle *c, const struct mw_config *cfg, bool dry_run, bool flat);

/* A reloaded CFG: thrashing bookkeeping starts again at its limit; what
 * was killed and the loop penalties stay. */
void mw_cycle_reload(struct mw_cycle *c, const struct mw_config *cfg);

/* One sample ST (its events set): the alerts due, then -- unless the last
 * kill is still settling -- the decision (policy.h) and, when it kills,
 * the victim through OPS, the more victims of the cover, and whether the
 * kill can help. ST is completed with what the cycle knows (adj_flat, the
 * swap nobody holds). OUT is always filled. When OUT->act is not
 * MW_CYCLE_KILL the footprints are refreshed through OPS while pressure
 * builds; after a KILL the daemon signals, then calls mw_cycle_killed. */
void mw_cycle_step(struct mw_cycle *c, const struct mw_config *cfg, const struct mw_cycle_ops *ops,
                   struct mw_mem_state *st, struct mw_cycle_out *out);

/* What the daemon's kill of OUT->victim did (K). Signalled: the policy
 * hears of it, the footprint cache is forgotten, the next decision waits
 * until the memory shows or cfg->kill_settle_ms passes, and the loop
 * check runs (OUT->loop_*; a loop adds a penalty as cfg->loop_action
 * says). Gone before the signal: nothing to remember. Failed: the
 * footprints are refreshed as after a sample that killed nobody. Returns
 * true when a kill happened (signalled, or gone: memory came back), as
 * the step's loop wants it. */
bool mw_cycle_killed(struct mw_cycle *c, const struct mw_config *cfg,
                     const struct mw_cycle_ops *ops, const struct mw_cycle_kill *k,
                     struct mw_cycle_out *out);

/* Whether one wakeup goes on sampling at once after its KILLS-th kill:
 * not in a dry run, not with one_kill_at_a_time, and at most
 * MW_CYCLE_MAX_KILLS. */
bool mw_cycle_again(const struct mw_cycle *c, const struct mw_config *cfg, int kills);

#endif
