/* history: the record of one kill — the log line, the JSON line of the
 * kill history file — and kill-restart loop detection (the same program
 * killed N times within M seconds, as the seed's QQ example shows). */
#ifndef MW_HISTORY_H
#define MW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The phases of a kill, in the order they happen (the record's phase_us,
 * the history's "timing", memwarden_kill_phase_seconds):
 * - wake: how late the daemon woke for its timer (0 when an event woke it);
 * - sample: the memory sample of the cycle that decided;
 * - refresh: the last footprint refresh before it (an earlier cycle's:
 *   the time it held the loop);
 * - choose: the victim choice, a cover's further choices included;
 * - signal: from the choice to the signal (a pre-kill hook's wait, the
 *   pidfd);
 * - exit: from the signal to the victim's exit (0: not seen). */
#define MW_KILL_PHASES 6
enum mw_kill_phase {
    MW_PHASE_WAKE,
    MW_PHASE_SAMPLE,
    MW_PHASE_REFRESH,
    MW_PHASE_CHOOSE,
    MW_PHASE_SIGNAL,
    MW_PHASE_EXIT
};
/* Their names, as the history and the metrics say them. */
extern const char *const mw_kill_phase_names[MW_KILL_PHASES];

struct mw_kill_record {
    uint64_t time_s; /* wall clock, seconds since the epoch */
    int pid;
    uid_t uid;
    int adj;
    char prog[64];
    char cmdline[256];
    uint64_t rss_kb, swap_kb;
    const char *reason;
    const char *detail;
    int min_adj;
    /* the memory state that triggered it (kB; for a scope: the cgroup's) */
    uint64_t free_kb, avail_kb, file_kb, swap_free_kb, total_kb;
    double psi_some, psi_full; /* avg10, percent; < 0 unknown */
    uint64_t latency_ms;       /* from the event (or sample) to the signal */
    /* Where its time went (us; MW_KILL_PHASES, 0: not measured), and when
     * the daemon woke for it (CLOCK_MONOTONIC us, 0: unknown). */
    uint64_t woke_at_us, sent_at_us; /* ... and when the signal went out */
    uint64_t phase_us[MW_KILL_PHASES];
    uint64_t wait_ms; /* from the signal to the exit */
    int64_t freed_kb; /* available after minus before (negative: others took
                       * more meanwhile than the victim gave back) */
    bool exited, dry_run, scope, cgroup_killed, termed;
    /* beside systemd (lmk/sdunit.h): its unit ("" none); a process kept
     * until the last line that the last line took: KEPT "avoid" or
     * "system" and why (NULL otherwise) */
    const char *unit;
    const char *kept, *kept_why;
    bool last_line; /* decided at the last line (mw_policy_last_line) */
    bool reaped;    /* process_mrelease returned the memory before the exit */
    /* A runaway (see victim.h): its unit's footprint and growth, and the
     * other members of its group (chosen, signalled). */
    bool runaway;
    uint64_t unit_kb, growth_kb_s;
    /* the victims signalled with it: a runaway's group, or more victims
     * when one did not cover the deficit (pids: group_n of them, or NULL) */
    int group_n, group_killed;
    const int *group_pid;
};

/* The log line, one line without newline:
 *   kill pid=4242 uid=1000 adj=900 prog=lt_hog rss=204800kB swap=51200kB
 *   reason=low_mem_and_swap min_adj=201 free=1024kB avail=2048kB file=512kB
 *   swapfree=40000kB psi_some=12.30 psi_full=3.10 latency_ms=12 wait_ms=4
 *   freed=250000kB exited=yes reaped=yes (dry-run kills say "would-kill");
 *   freed is MemAvailable after the kill minus before, 0 when it fell:
 *   others allocated more while the victim died than it gave back (the
 *   wait is short, its memory may still be on its way), and then
 *   avail_delta=-NkB after it says by how much it fell (issue 26: a
 *   "freed=-6972kB" read as a kill that cost memory);
 *   a process in a systemd unit adds unit=NAME after prog=, a unit killed
 *   whole cgroup_killed=yes, a kill at the last line last_line=yes, a
 *   kept one the last line took kept=CLASS;
 *   a runaway adds runaway=yes footprint=KBkB growth=KBkB/s; victims
 *   signalled with it add group=KILLED/CHOSEN pids=P,P,...
 * Returns the length (truncated to CAP-1). */
size_t mw_kill_format_line(char *buf, size_t cap, const struct mw_kill_record *r);

/* The same as one JSON object, without newline (sizes in bytes, times in
 * seconds; strings escaped by base/json.h's rule, so always valid UTF-8).
 * Allocates nothing. Returns the length, or 0 (BUF "") when the object
 * does not fit in CAP: a cut line would not be JSON. 4096 bytes suffice
 * for every record whose DETAIL is under 200 bytes (the policy's are),
 * and 12 more for each pid of its group. */
size_t mw_kill_format_json(char *buf, size_t cap, const struct mw_kill_record *r);

/* One kill history line read back (mw_kill_format_json's object): what
 * `memwarden metrics` and `memwarden report` need of it. Sizes in bytes,
 * times in seconds. */
struct mw_kill_entry {
    double time_s;
    bool dry_run; /* "event":"would_kill" */
    int pid;
    char prog[64]; /* decoded and cleaned: valid UTF-8, no control characters */
    char reason[48];
    double latency_s, wait_s; /* event -> signal, signal -> exit */
    int64_t freed;
    bool exited;
    uint64_t rss, swap;
    uint64_t total, available; /* the state that triggered it */
    double psi_some, psi_full; /* avg10 percent then; < 0 unknown */
    bool have_timing;          /* "timing" was there: */
    double phase_s[MW_KILL_PHASES];
};

/* Parses one history line (LEN bytes, no NUL needed). Returns 0, or
 * -EINVAL when it is not a kill record: not JSON, no "time", "event" and
 * "reason", or a number out of what a record can hold (time 0..1e11 s,
 * pid 0..INT_MAX, sizes within +-2^62 bytes, latency and wait 0..1e7 s,
 * PSI 0..100): no cast of an out-of-range number. Missing optional
 * members read as 0 (PSI: -1). PROG and REASON come out cleaned by
 * mw_text_clean (a control character or escape of a hostile history
 * becomes '?'). OUT untouched on failure. */
int mw_kill_parse_json(const char *line, size_t len, struct mw_kill_entry *out);

/* Opens the kill history file PATH for appending (JSON lines): created
 * mode 0600 (it holds command lines); an existing file loses any access for
 * "other" (a group the admin chose stays). A symlink at PATH is refused
 * (O_NOFOLLOW: -ELOOP), so is anything but a regular file (-EINVAL; a FIFO
 * would block the kill path). Returns the descriptor (O_CLOEXEC) or -errno. */
int mw_history_open(const char *path);

#define MW_LOOP_SLOTS 64
struct mw_loop_tracker {
    int next;
    struct {
        char prog[64];
        uint64_t t_ms;
        bool restart; /* the victim started after the previous kill of PROG */
    } slot[MW_LOOP_SLOTS];
};

/* Notes a kill of PROG at NOW_MS (when the signal went: a restarter that
 * starts the next copy as soon as the last one is reaped beats any time
 * taken after it) of a process started at START_MS (the same clock: ms
 * since boot); returns the length of the kill-restart
 * chain of PROG within WINDOW_MS, this kill included: the first kill plus
 * every later one whose victim started after the kill before it. Killing
 * several processes of one name that lived side by side (or one process
 * twice) is no loop and counts 1. */
/* The latest a process whose /proc/PID/stat says STARTTIME_TICKS (clock
 * ticks since boot, HZ a second) can have started, in ms since boot: the
 * kernel truncates to a whole tick, so a process restarted within the tick
 * of the kill would otherwise seem to have started before it. This is the
 * START_MS mw_loop_note wants. Pure. */
uint64_t mw_loop_start_ms(uint64_t starttime_ticks, long hz);

int mw_loop_note(struct mw_loop_tracker *t, const char *prog, uint64_t now_ms, uint64_t start_ms,
                 uint64_t window_ms);

#endif
