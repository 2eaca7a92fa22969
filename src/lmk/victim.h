/* victim: which process dies. Reads oom_score_adj of every candidate (one
 * small file each), then only for the highest level(s) the files the
 * choice needs (stat, cmdline), so the scan stays cheap with thousands of
 * processes. Never PID 1, kernel threads, the daemon itself, adj -1000, or
 * a `protect` match; `prefer` / `avoid` shift the effective adj by
 * cfg->pattern_adj_shift.
 *
 * Two orders, by the adj layout (mw_scan_adj_flat, cfg->adj_mode):
 * - android (adj carries classes): highest adj first; within a level the
 *   heaviest (kill_heaviest_task) or the most recently started (lmkd);
 * - flat (most processes at 0): the kernel's oom_badness, points = RSS +
 *   swap + page tables + eff_adj x total / 1000 (total: RAM or the scope's
 *   limit), the most points first; ties: the larger footprint, then the
 *   older process. Never "the youngest in the level": on a server that is
 *   an ssh login or a cron job.
 *
 * Runaways come before either order. A unit is one process, or a burst:
 * processes at the same adj, each started within MW_BURST_SPAN_S of the one
 * before it (a loop that starts workers one by one is one burst),
 * whoever their parents are (PID 1 included), that are all growing (their
 * two-sample growth above zero, or grown by 1/64 since first sampled: a
 * slow member of a big storm grows in steps; without a previous sample,
 * younger than MW_GROUP_AGE_S). A member that stopped growing (a storm's
 * worker that reached its size before the first sample) stays in when it
 * is young (MW_GROUP_AGE_S) and a sibling of a growing candidate: same
 * parent, uid and name, at least half the size of the largest growing one
 * (a storm's workers are alike; a browser's idle renderers beside a tab
 * that grows are not its storm); its footprint counts, its growth does not.
 * It is a runaway when its footprint (RSS + swap + page
 * tables) is at least 1/16 of the total and its growth would fill the
 * total within cfg->runaway_fill_ms: the growth between the last two
 * samples when the footprint cache has them (sharper than an average: a
 * process that idled before it grew, or grew and stopped), else the
 * average since its oldest member started. Among the units at
 * cfg->runaway_min_adj or above (any adj >= min_adj with runaway_any_adj)
 * the largest runaway dies first, the whole burst at once.
 *
 * The footprint cache (lmk/fpcache.h) remembers every process's adj,
 * start, parent and footprint between scans; the daemon keeps it current
 * while pressure builds (mw_victim_refresh), so the choice under pressure
 * reads only new processes, stale adjs and the chosen one (its stat and
 * adj read again before it is returned; a start time that differs from
 * the cache's means its PID went to another process: the entry is read
 * again, never taken for the new process).
 *
 * What a refresh reads (the cost of the killer at the floor, issue 27):
 * per process one /proc/PID/statm (opened, read, closed) and one pread of
 * its oom_score_adj, held open (fpcache.h); stat and status (and cmdline
 * when a pattern needs it) only when the statm text changed since the
 * last visit, and for a new process. Who is read when:
 * - every refresh: the processes whose statm moved at their last visit
 *   and the young ones (a storm's members);
 * - a cycle over all the others (an enumeration of ROOT/proc, a visit of
 *   each), when the memory moved in a way those visits do not explain:
 *   C->headroom_kb (available + free swap) fell by MW_FP_MOTION_DIV of the
 *   total more than the footprints read since the last cycle grew; when C
 *   says nothing of the headroom, every refresh is a whole cycle. Between
 *   cycles an unexplained fall under that bound confirms every footprint
 *   as current: memory no process took cannot have made one grow;
 * - an enumeration alone (new processes sampled, gone ones dropped) when
 *   /proc/loadavg's last PID or task count moved, at most every
 *   MW_FP_ENUM_MS;
 * - C->slice_us bounds the time a refresh spends beyond the moving
 *   processes: a cycle goes on at the next refresh. */
#ifndef MW_VICTIM_H
#define MW_VICTIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"
#include "lmk/config.h"
#include "lmk/fpcache.h"
#include "lmk/sdunit.h"

#define MW_VICTIM_CMDLINE 256
#define MW_VICTIM_GROUP   128 /* members of a group killed together */
#define MW_GROUP_AGE_S    30  /* without growth samples, a burst's members are this young */
#define MW_BURST_SPAN_S   5   /* a member started within this of the one before */
/* The choice reads an adj read longer ago than this again. The one it
 * chooses is read again before it is returned, and when that moved at
 * all every adj is read afresh and the choice made again: an older one
 * changes which eligible process goes first, never lets a protected one
 * die. 1 s meant 5,000 adj reads at most choices (10-25 ms on the build
 * host, where the rest of the choice took 0.2 ms). */
#define MW_FP_FRESH_MS    10000
#define MW_FP_RATE_MIN_MS 250 /* the two samples of a growth rate are this far apart */
/* The choice reads again a footprint neither read nor confirmed for this
 * long (a cache left alone while pressure did not build). */
#define MW_FP_TRUST_MS 10000
/* A cycle over every process starts when the headroom fell by this
 * fraction of the total beyond what the footprints read explain: 1/128
 * is 16 MiB of a 2 GiB machine, under a tenth of a runaway's least size
 * (1/16) and above the few MiB MemAvailable wanders on an idle one. */
#define MW_FP_MOTION_DIV 128
#define MW_FP_ENUM_MS    5000 /* an enumeration for new and gone processes at most this often */
/* What a refresh may spend beyond the moving processes (C->slice_us) when
 * the daemon asks: the killer is not held longer than this by a cycle. */
#define MW_FP_SLICE_US 5000
/* The processes read at every refresh (moved, or young) are kept in a
 * list of this many, so a refresh where nothing moved touches no entry
 * of 5,000; past it, every entry is looked at (a storm of thousands). */
#define MW_FP_HOT_MAX 256
/* New processes are looked for by PID: loadavg's last PID tells how far
 * the kernel got since the last look, and each PID in between is tried
 * (a process, a thread, or nothing left). Past this many PIDs, or when
 * they wrapped, an enumeration of ROOT/proc does it. */
#define MW_FP_PROBE_MAX 512
/* A cycle that the headroom's fall started but its reads did not explain
 * (tmpfs, the kernel's own memory, a process the scan does not read)
 * doubles the fall the next one needs, up to 1/4 of the total (2^5 x
 * 1/128); one that explains it sets it back. */
#define MW_FP_GATE_SHIFT_MAX 5

struct mw_victim {
    int pid;
    int ppid;
    int adj;        /* oom_score_adj as read */
    int eff_adj;    /* after prefer/avoid/loop protection */
    bool penalized; /* in a kill-restart loop: protected now (no runaway) */
    uid_t uid;
    char comm[64];
    char cmdline[MW_VICTIM_CMDLINE]; /* arguments joined by spaces, truncated */
    bool have_cmdline;
    uint64_t rss_kb, swap_kb;
    uint64_t pte_kb;    /* page tables */
    uint64_t starttime; /* clock ticks after boot: identifies the process */
    int stat_fd;        /* /proc/PID/stat held open since the choice (-1: none) */
    bool term_first;    /* matches cfg->term_first */
    bool kill_cgroup;   /* its cgroup matches cfg->kill_cgroup, or it is its unit */
    bool cgroup_v1;     /* cgroup is a v1 memory cgroup path (else v2) */
    char cgroup[256];   /* the matching cgroup path when kill_cgroup */
    /* Beside systemd (lmk/sdunit.h), read for the chosen ones. */
    char unit[MW_CGUNIT_NAME]; /* its unit as systemd names it ("" none) */
    int keep;                  /* enum mw_keep: spared until the last line, and why */
    char keep_why[160];
    bool unit_whole; /* a runaway that is its unit: the unit's cgroup dies (kill_cgroup) */
    /* Set when chosen as a runaway (else all zero). */
    bool runaway;
    bool burst;           /* the unit is a burst (group_pid: the other members) */
    uint64_t unit_kb;     /* RSS + swap + page tables of the whole unit */
    uint64_t growth_kb_s; /* its growth: two-sample when known, else average since start */
    int group_n;          /* the other members, killed with it */
    int group_pid[MW_VICTIM_GROUP];
    uint64_t group_start[MW_VICTIM_GROUP]; /* their starttime, checked before the signal */
};

/* Programs the daemon treats specially for a while (kill-restart loops). */
#define MW_MAX_PENALTIES 16
struct mw_penalty {
    char comm[64];
    uint64_t until_ms;
    int adj_shift; /* subtracted from the effective adj; INT32_MAX excludes */
};
struct mw_penalties {
    int n;
    struct mw_penalty p[MW_MAX_PENALTIES];
};

/* Workspace of the scan, allocated once (the daemon locks it in memory). */
struct mw_scan_ws {
    int *pid, *adj;
    size_t cap;
    int proc_fd;      /* O_DIRECTORY descriptor of ROOT/proc */
    int enum_fd;      /* another one: the refresh's enumeration, read a slice at a time */
    int scope_dir_fd; /* directory of the scope cgroup, or -1: every process */
    int self_pid;
    struct mw_sd *sd; /* systemd's view (sdunit.h) */
    /* Within mw_victim_choose: the processes known to be kept are skipped
     * (the omitted ones always, the others unless KEEP_OK: the last line's
     * second pass). A refresh samples them all: their swap is owned. */
    bool choosing, keep_ok;
    unsigned page_kb;    /* /proc/PID/stat and statm count in pages (the root's page size) */
    long hz;             /* clock ticks per second of starttime */
    struct mw_fpc fpc;   /* the footprint cache */
    uint64_t refresh_ms; /* the last mw_victim_refresh (0: none) */
    /* The refresh's cycles (victim.h above): the current one, whether it
     * still enumerates or visits, and the headroom it started from. */
    uint32_t stamp, cycle_stamp; /* this refresh's number, the cycle's first */
    uint32_t enum_no;
    bool cycling, enumerating, visit_all, forced;
    bool rebase;               /* the next refresh counts the headroom's fall from where it is */
    int cycle_min_adj;         /* the min_adj of the last whole cycle (INT32_MAX: none) */
    size_t cursor;             /* next entry the cycle visits */
    uint64_t base_headroom_kb; /* C->headroom_kb when the cycle started */
    int64_t explained_kb;      /* the footprints read grew by this since then */
    int64_t opened_kb;         /* the unexplained fall that started the cycle (0: none) */
    int gate_shift;            /* the fall a cycle needs: total / MW_FP_MOTION_DIV << this */
    double base_up;            /* ... and the seconds since boot then (< 0: unknown) */
    uint64_t enum_ms;          /* when the last enumeration started */
    long load_pid, load_tasks; /* /proc/loadavg then (-1: unknown) */
    long enum_done_pid;        /* ... at the start of the last complete enumeration */
    uint64_t confirm_ms;       /* the last refresh that confirmed every footprint */
    int hot[MW_FP_HOT_MAX];    /* the PIDs read at every refresh ... */
    int hot_n;
    bool hot_full;              /* ... unless more were: then every entry is looked at */
    bool layout_dirty;          /* an adj changed: the layout and the count are counted again */
    int count_min_adj, count_n; /* the candidates at count_min_adj, as last counted */
    /* Statistics of the last scan or refresh. */
    unsigned scanned, detailed;
    unsigned adj_read; /* oom_score_adj reads (the others came from the cache) */
    unsigned visits;   /* statm reads of the last refresh */
    unsigned pos_n;    /* processes above adj 0 ... */
    int pos_first;     /* ... the first such adj ... */
    bool pos_two;      /* ... and whether another value was seen */
};

/* Opens ROOT's proc directory and allocates room for CAP processes.
 * SCOPE_DIR_FD (or -1) is the directory of a cgroup whose members
 * (cgroup.procs) are the only candidates. cgroup.procs is opened anew for
 * every scan: on cgroup v1 a descriptor kept open and re-read from offset
 * 0 keeps returning the PID list of its first read for as long as it is
 * read at least once a second (the kernel's cached "pidlist"). Returns 0
 * or -errno. */
int mw_scan_ws_init(struct mw_scan_ws *ws, const struct mw_root *root, int scope_dir_fd,
                    size_t cap);
void mw_scan_ws_free(struct mw_scan_ws *ws);

/* True when the last scan found the adj layout flat: fewer than 3
 * processes above adj 0, or all of them at one value (a flat machine
 * with one prio'd program, or a storm that inherited one adj). Kernel
 * threads sit at 0, so they need not be told apart. Android's classes
 * give many processes at 100-999 in several values. A machine that runs
 * systemd is flat too, whatever its values: there adj is OOMScoreAdjust=,
 * a hint to the kernel's oom_badness (user@UID.service 100, its units
 * 200, a browser's renderers 300), not a class -- every system service
 * sits at 0 with no foreground app among them, and the runaway floor of
 * the classes (runaway_min_adj) kept the distro bed's leaking service,
 * fork storm and root scope out of the runaway pass until the last line
 * while idle renderers died (docs/design.md, "Living with systemd"). */
bool mw_scan_adj_flat(const struct mw_scan_ws *ws);

/* The sum of VmSwap over the processes the last mw_victim_refresh
 * sampled (those at its min_adj or above, protected ones too; adj -1000
 * and PID 1 are not sampled), or -1 when there was none. */
int64_t mw_victim_swap_kb(const struct mw_scan_ws *ws);

/* After a kill: every cached adj is stale (loop penalties may have
 * changed who is left alone), and the next refresh counts the headroom's
 * fall afresh from where it is (the victim's memory coming back must not
 * hide a process growing meanwhile). The footprints stay: a kill moves
 * the victim's, which its next read finds gone; a whole cycle of 5,000
 * reads after each kill (what this did first) held the bed's TCG guest
 * 25 s in slices, and the next hog's choice found every footprint
 * stale. Growth rates survive the kill. */
void mw_victim_forget(struct mw_scan_ws *ws);

/* What the choice is asked for. */
struct mw_choice {
    int min_adj;          /* only processes at this adj or above */
    bool runaway_only;    /* a runaway or nobody */
    bool runaway_any_adj; /* runaways at any adj >= min_adj (flat, or the last line) */
    bool flat;            /* the kernel's oom_badness order instead of lmkd's */
    const int *exclude;   /* PIDs already chosen in this cycle (may be NULL) */
    int exclude_n;
    uint64_t total_kb; /* the scale of a runaway (RAM, or the scope's limit); 0: no runaways */
    const struct mw_penalties *pen; /* loop penalties valid at now_ms (may be NULL) */
    bool last_line; /* the last line: the kept ones (sdunit.h) when nobody else is left */
    uint64_t now_ms;
    /* mw_victim_refresh only: available memory plus free swap (kB) at
     * now_ms (0: unknown, every refresh a whole cycle), and its time
     * budget beyond the moving processes (0: none). */
    uint64_t headroom_kb;
    uint64_t slice_us;
};

/* Chooses the victim for C. The runaway pass needs ROOT/proc/uptime (a
 * process's age). Beside systemd (sdunit.h): a chosen process that
 * ManagedOOMPreference=omit names is never taken, nor one memwarden keeps
 * until the last line (avoid, the system's own) outside it; at the last
 * line those come after everyone else (a second pass); a runaway that is
 * its unit as a whole (mw_policy_unit_whole, cfg->kill_units) gets its
 * unit's cgroup to kill. On success fills OUT (OUT->stat_fd is open: the
 * caller closes it) and returns 1; 0 when nobody may be killed; -errno on
 * failure. */
int mw_victim_choose(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                     struct mw_victim *out);

/* Keeps the footprint cache current for the candidates at C->min_adj or
 * above (what is read when: the header above), without choosing. The
 * daemon calls it while pressure builds. Returns the number of
 * candidates, or -errno. */
int mw_victim_refresh(struct mw_scan_ws *ws, const struct mw_config *cfg,
                      const struct mw_choice *c);

#endif
