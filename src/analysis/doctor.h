/* doctor: the system checks of `memwarden doctor` — readings in, one line
 * per check out (what, value found, verdict, the change that fixes it, its
 * source and reason), in the shape of redis's syscheck. Two halves:
 * mw_doctor_gather reads the files (through the proc/ readers) into struct
 * mw_doc_in, for `doctor` and for the plan of `tune`; mw_doctor_run is
 * pure, so tests fill the struct by hand and call it. */
#ifndef MW_DOCTOR_H
#define MW_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/tuning.h"
#include "proc/meminfo.h"
#include "proc/swaps.h"
#include "proc/vmtune.h"
#include "proc/zoneinfo.h"
#include "proc/zram.h"

enum mw_doc_verdict {
    MW_DOC_OK,
    MW_DOC_NA,      /* the kernel or the tree lacks what the check needs */
    MW_DOC_ADVICE,  /* works, could be better */
    MW_DOC_PROBLEM, /* will hurt under memory pressure */
};

/* What the checks read. A have_* false (or an empty string) makes the
 * checks that need it "n/a" with the reason in the *_why fields. */
struct mw_doc_in {
    struct mw_meminfo mi; /* required */
    struct mw_vmtune vm;
    struct mw_zram zram;
    struct mw_swaps swaps;
    bool have_swaps;
    struct mw_zoneinfo zi;
    bool have_zi;
    uint64_t page_size;
    bool have_psi;
    char psi_why[64];       /* why not: "no /proc/pressure/memory (kernel < 4.20 ...)" */
    char thp[24];           /* transparent_hugepage/enabled selected value, "" absent */
    int lru_gen;            /* lru_gen/enabled as a number, -1 absent */
    int64_t min_ttl_ms;     /* lru_gen/min_ttl_ms, -1 absent */
    bool have_procs;        /* ROOT/proc/PID readable */
    char killers[160];      /* "memwarden[812] earlyoom[90]", "" none found */
    bool have_daemon_state; /* memwarden's state file */
    uint64_t daemon_kills;
    bool daemon_dry_run, daemon_running;
    char daemon_warning[192];
    int big_unkillable;           /* processes at adj -1000 holding >= 5% of RAM */
    char big_unkillable_name[80]; /* the largest of them, "name[pid]" */
    int big_unkillable_pid;       /* its PID */
    uint64_t big_unkillable_rss;  /* its RSS, bytes */
    bool have_vmstat;
    uint64_t oom_kill; /* vmstat oom_kill since boot */
    bool have_history;
    uint64_t history_kills; /* lines in the daemon's kill history */
    bool have_cgroups;
    char cg_name[128];        /* the largest unlimited memory cgroup */
    char cg_dir[160];         /* its directory: "/sys/fs/cgroup/NAME" (v1: .../memory/NAME) */
    bool cg_v1;               /* in the v1 memory hierarchy */
    uint64_t cg_usage;        /* its usage, bytes */
    uint64_t sample_ms;       /* 0: no sample (a captured tree) */
    uint64_t min_free_cap_kb; /* the kernel's cap of min_free_kbytes (zoneinfo.h), 0 unknown */
    uint64_t kswapd_scan_pages, kswapd_steal_pages, direct_scan_pages; /* over the sample */
};

#define MW_DOC_MAX 32

struct mw_doc_check {
    const char *id;   /* stable name for --json ("swappiness") */
    const char *what; /* "vm.swappiness" */
    char value[96];
    enum mw_doc_verdict verdict;
    char fix[160];      /* a command, "" when nothing to change */
    const char *source; /* where the recommendation comes from */
    char reason[256];
};

struct mw_doc_report {
    enum mw_profile profile; /* the one chosen for this RAM */
    int n;
    struct mw_doc_check c[MW_DOC_MAX];
};

/* What mw_doctor_gather reads besides the kernel's files. */
struct mw_doc_sources {
    const char *state_path;   /* the daemon's state file; NULL: not read */
    const char *history_path; /* the daemon's kill history (JSON lines); NULL: not read */
    uint64_t sample_ms;       /* measure reclaim this long (live root only); 0: no sample */
};

/* Reads everything the checks need under ROOT into OUT (zeroed by the
 * caller): /proc/meminfo (required), the vm sysctls, zram, swaps,
 * zoneinfo, PSI, THP, MGLRU, every process (killers, big ones at adj
 * -1000), the top-level memory cgroups, SRC's files, and vmstat (twice,
 * SRC->sample_ms apart, which sleeps that long). What is missing leaves its
 * have_* false. Never prints. Returns 0, or the -errno of reading
 * /proc/meminfo, OUT untouched then. */
int mw_doctor_gather(const struct mw_root *root, const struct mw_doc_sources *src,
                     struct mw_doc_in *out);

/* Runs every check on IN. Never fails: a missing reading gives n/a. */
void mw_doctor_run(const struct mw_doc_in *in, struct mw_doc_report *out);

/* "ok", "n/a", "advice", "problem". */
const char *mw_doc_verdict_name(enum mw_doc_verdict v);

/* The worst verdict of R: MW_DOC_OK when every check is ok or n/a, else
 * MW_DOC_ADVICE or MW_DOC_PROBLEM. */
enum mw_doc_verdict mw_doctor_worst(const struct mw_doc_report *r);

#endif
