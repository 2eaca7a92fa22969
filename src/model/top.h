/* top: the pure half of `memwarden top` — filter a process table, sort it,
 * sum it by program, cgroup, systemd unit or oom_score_adj class. No I/O: tests build a
 * table by hand (or from a fixture) and check the view. */
#ifndef MW_TOP_H
#define MW_TOP_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/proctable.h"

/* Without a terminal the table is this wide, so output is the same on any
 * machine (golden files, pipes). */
#define MW_TOP_PIPE_WIDTH 120
/* The group of processes in no systemd unit (kernel threads, a host
 * without systemd) or whose unit could not be read. */
#define MW_TOP_NO_UNIT "(no unit)"
/* The cgroup column keeps the end of longer paths unless --wide. */
#define MW_TOP_CGROUP_WIDTH 24

enum mw_top_sort {
    MW_TOP_SORT_PSS, /* sizes: largest first */
    MW_TOP_SORT_USS,
    MW_TOP_SORT_RSS,
    MW_TOP_SORT_SWAP,
    MW_TOP_SORT_ADJ, /* highest oom_score_adj first: a killer's order */
    MW_TOP_SORT_PID, /* ascending */
};

enum mw_top_by {
    MW_TOP_BY_NONE,
    MW_TOP_BY_PROGRAM, /* mw_proc_program: all processes of one program */
    MW_TOP_BY_CGROUP,
    MW_TOP_BY_CLASS, /* mw_adj_class_name of oom_score_adj */
    MW_TOP_BY_UNIT,  /* the systemd unit (mw_proc.unit; needs MW_PT_UNIT) */
};

struct mw_top_filter {
    enum mw_top_sort sort;
    enum mw_top_by by;
    bool have_uid;
    uid_t uid;
    const char *cgroup_prefix; /* NULL: any; "/a/b" matches /a/b and /a/b/..., not /a/bc */
    const regex_t *match;      /* NULL: any; else on the full command line */
    int exclude_pid;           /* 0: none (memwarden leaves itself out of --match) */
};

struct mw_top_sum {
    size_t count;
    uint64_t pss, uss, rss, swap; /* bytes */
    size_t estimated;             /* processes whose PSS/USS are statm estimates */
    size_t swap_estimated;        /* processes whose swap is Swap/VmSwap, not SwapPss */
};

struct mw_top_group {
    char *name;
    struct mw_top_sum sum;
    size_t estimated;
    bool have_adj;             /* class groups: false for the "?" group */
    int adj_min, adj_max;      /* class groups: the values seen */
    uint64_t cum_pss, cum_uss; /* class groups: this class and every one above */
};

struct mw_top_view {
    enum mw_top_by by;
    const struct mw_proc **rows; /* filtered, sorted; point into the table */
    size_t n;
    struct mw_top_group *groups; /* by != NONE: sorted (class: highest adj first) */
    size_t ngroups;
    struct mw_top_sum total; /* every filtered row */
};

/* Parses "pss", "uss", "rss", "swap", "adj", "pid". Returns 0 or -EINVAL. */
int mw_top_sort_parse(const char *s, enum mw_top_sort *out);

/* Parses "program", "cgroup", "class", "unit". Returns 0 or -EINVAL. */
int mw_top_by_parse(const char *s, enum mw_top_by *out);
const char *mw_top_by_name(enum mw_top_by by);

/* True when cgroup path CG is PREFIX or lies below it. */
bool mw_top_cgroup_under(const char *cg, const char *prefix);

/* Builds the view of table T under filter F. OUT must be zeroed; free with
 * mw_top_view_free (T must outlive it). Returns 0 or -ENOMEM. */
int mw_top_view_build(struct mw_top_view *out, const struct mw_proctable *t,
                      const struct mw_top_filter *f);

void mw_top_view_free(struct mw_top_view *v);

#endif
