/* victim: which process dies. Reads oom_score_adj of every candidate (one
 * small file each), then only for the highest level(s) the files the
 * choice needs (stat, cmdline), so the scan stays cheap with thousands of
 * processes. Highest adj first; within a level the heaviest
 * (kill_heaviest_task) or the most recently started; never PID 1, kernel
 * threads, the daemon itself, adj -1000, or a `protect` match; `prefer` /
 * `avoid` shift the effective adj by cfg->pattern_adj_shift.
 *
 * Runaways come before that order. A unit is one process, or a group of
 * young siblings (same parent other than PID 1, same name and adj, each
 * started within the last MW_GROUP_AGE_S seconds: a fork storm). It is a
 * runaway when its footprint (RSS + swap) is at least 1/16 of the total and
 * its average growth since it started (footprint / age of its oldest member)
 * would fill the total within cfg->runaway_fill_ms. Among the units at
 * cfg->runaway_min_adj or above (and at the decision's min_adj), the
 * largest runaway dies first, the whole group at once. */
#ifndef MW_VICTIM_H
#define MW_VICTIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lmk/config.h"

#define MW_VICTIM_CMDLINE 256
#define MW_VICTIM_GROUP   128 /* members of a group killed together */
#define MW_GROUP_AGE_S    30  /* siblings younger than this may form a group */

struct mw_victim {
    int pid;
    int ppid;
    int adj;     /* oom_score_adj as read */
    int eff_adj; /* after prefer/avoid/loop protection */
    uid_t uid;
    char comm[64];
    char cmdline[MW_VICTIM_CMDLINE]; /* arguments joined by spaces, truncated */
    bool have_cmdline;
    uint64_t rss_kb, swap_kb;
    uint64_t starttime; /* clock ticks after boot: identifies the process */
    int stat_fd;        /* /proc/PID/stat held open since the choice (-1: none) */
    bool term_first;    /* matches cfg->term_first */
    bool kill_cgroup;   /* its cgroup matches cfg->kill_cgroup */
    bool cgroup_v1;     /* cgroup is a v1 memory cgroup path (else v2) */
    char cgroup[256];   /* the matching cgroup path when kill_cgroup */
    /* Set when chosen as a runaway (else all zero). */
    bool runaway;
    uint64_t unit_kb;     /* RSS + swap of the whole unit */
    uint64_t growth_kb_s; /* its average growth since it started */
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
    int scope_dir_fd; /* directory of the scope cgroup, or -1: every process */
    int self_pid;
    unsigned page_kb; /* /proc/PID/stat counts RSS in pages */
    long hz;          /* clock ticks per second of starttime */
    /* Statistics of the last scan. */
    unsigned scanned, detailed;
};

/* Opens ROOT's proc directory and allocates room for CAP processes.
 * SCOPE_DIR_FD (or -1) is the directory of a cgroup whose members
 * (cgroup.procs) are the only candidates. cgroup.procs is opened anew for
 * every scan: on cgroup v1 a descriptor kept open and re-read from offset
 * 0 keeps returning the PID list of its first read for as long as it is
 * read at least once a second (the kernel's cached "pidlist"). Returns 0
 * or -errno. */
int mw_scan_ws_init(struct mw_scan_ws *ws, int root_fd, int scope_dir_fd, size_t cap);
void mw_scan_ws_free(struct mw_scan_ws *ws);

/* What the choice is asked for. */
struct mw_choice {
    int min_adj;       /* only processes at this adj or above */
    bool runaway_only; /* a runaway or nobody */
    uint64_t total_kb; /* the scale of a runaway (RAM, or the scope's limit); 0: no runaways */
    const struct mw_penalties *pen; /* loop penalties valid at now_ms (may be NULL) */
    uint64_t now_ms;
};

/* Chooses the victim for C. The runaway pass needs ROOT/proc/uptime (a
 * process's age). On success fills OUT (OUT->stat_fd is open: the caller
 * closes it) and returns 1; 0 when nobody may be killed; -errno on
 * failure. */
int mw_victim_choose(struct mw_scan_ws *ws, const struct mw_config *cfg, const struct mw_choice *c,
                     struct mw_victim *out);

#endif
