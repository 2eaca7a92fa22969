/* victim: which process dies. Reads oom_score_adj of every candidate (one
 * small file each), then only for the highest level(s) the files the
 * choice needs (stat, cmdline), so the scan stays cheap with thousands of
 * processes. Highest adj first; within a level the heaviest
 * (kill_heaviest_task) or the most recently started; never PID 1, kernel
 * threads, the daemon itself, adj -1000, or a `protect` match; `prefer` /
 * `avoid` shift the effective adj by cfg->pattern_adj_shift. */
#ifndef MW_VICTIM_H
#define MW_VICTIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define MW_VICTIM_CMDLINE 256

struct mw_victim {
    int pid;
    int adj;     /* oom_score_adj as read */
    int eff_adj; /* after prefer/avoid/loop protection */
    uid_t uid;
    char comm[64];
    char cmdline[MW_VICTIM_CMDLINE]; /* arguments joined by spaces, truncated */
    uint64_t rss_kb, swap_kb;
    uint64_t starttime; /* clock ticks after boot: identifies the process */
    int stat_fd;        /* /proc/PID/stat held open since the choice (-1: none) */
    bool term_first;    /* matches cfg->term_first */
    bool kill_cgroup;   /* its cgroup matches cfg->kill_cgroup */
    bool cgroup_v1;     /* cgroup is a v1 memory cgroup path (else v2) */
    char cgroup[256];   /* the matching cgroup path when kill_cgroup */
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

/* Chooses the victim among processes with adj >= MIN_ADJ. PEN (may be
 * NULL) holds the loop penalties valid at NOW_MS. On success fills OUT
 * (OUT->stat_fd is open: the caller closes it) and returns 1; 0 when
 * nobody may be killed; -errno on failure. */
int mw_victim_choose(struct mw_scan_ws *ws, const struct mw_config *cfg, int min_adj,
                     const struct mw_penalties *pen, uint64_t now_ms, struct mw_victim *out);

#endif
