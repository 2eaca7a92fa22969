/* runner: what `run` and `soak` share — a command started in a memory
 * cgroup of its own (proc/cgcreate), sampled every interval (the cgroup,
 * its processes, the system; optionally recorded in the `watch --record`
 * format), signals forwarded, the cgroup always removed; then one result
 * struct that the text and JSON summaries render. */
#ifndef MW_RUNNER_H
#define MW_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/leakcore.h"
#include "analysis/trend.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/runblame.h"
#include "proc/cgcreate.h"

/* The alert line of the RK3588 guide: memory above 85 % of the limit. */
#define MW_RUN_ALERT_PCT 85.0
/* Fewer samples than this give no leak verdict ("too short"). */
#define MW_RUN_TREND_MIN_SAMPLES 10
/* How long the command gets to end after SIGTERM (or a forwarded signal)
 * before everything in its cgroup is killed. */
#define MW_RUN_GRACE_MS 10000
/* Processes of the cgroup sampled into a record, at most. */
#define MW_RUN_RECORD_PROCS 32
#define MW_RUN_TOP          3

struct mw_run_result;

struct mw_runner_opts {
    struct mw_cg_spec spec;
    uint64_t interval_ms;
    uint64_t duration_ms; /* 0: until the command ends; else it is ended then (soak) */
    const char *record;   /* JSONL file, NULL none */
    const char *load;     /* soak --load: a /bin/sh -c command beside it, NULL none */
    bool daemon;          /* run `memwarden daemon --scope` on the cgroup */
    bool keep;            /* leave the (emptied) cgroup */
    char **argv;          /* the command, NULL-terminated, run with execvp */
    const char *who;      /* "run" or "soak", for messages */
    /* called after every sample and about once a second; may be NULL */
    void (*tick)(void *ctx, const struct mw_run_result *res, bool sampled);
    void *tick_ctx;
};

struct mw_run_proc {
    int pid;
    char comm[64];
    uint64_t rss, pss;
};

/* Everything a summary says; sizes in bytes, times in seconds. */
struct mw_run_result {
    /* the cgroup */
    int version;
    char dir[PATH_MAX];
    bool swap_enforced, cpu_limited, high_dropped, kept;
    uint64_t limit, swap_limit, high; /* as asked; MW_CG_UNLIMITED none */
    unsigned cpus_milli;
    uint64_t host_ram, host_swap;
    /* the command */
    const char *who; /* "run" or "soak" */
    char cmd[256];   /* argv joined, for messages (raw: clean on output) */
    int pid;
    int exec_errno;      /* the command could not start: why (0 it did) */
    bool exec_in_cgroup; /* exec_errno is from entering the cgroup, not exec */
    bool reaped;         /* its exit status is known */
    int wait_status;     /* waitpid's */
    int exit_status;     /* as a shell gives it: code, or 128 + signal */
    bool ended_by_duration, ended_by_signal;
    bool ended_on_request; /* it ended after we asked it to (duration, a stop signal) */
    int stop_signal;       /* the signal memwarden itself got, 0 none */
    double wall_s;
    /* memory */
    uint64_t peak;
    const char *peak_source; /* "memory.peak", "max_usage_in_bytes", "highest sample" */
    uint64_t peak_sampled;   /* highest memory.current / usage_in_bytes sampled */
    uint64_t swap_peak;
    const char *swap_peak_source; /* "memory.swap.peak", "highest sample" */
    uint64_t faults, major_faults;
    const char *faults_source; /* "memory.stat" (the cgroup), "rusage" (the main process) */
    uint64_t ev_high, ev_max, ev_oom, ev_oom_kill;
    uint64_t failcnt, memsw_failcnt; /* v1: ev_max's two parts */
    bool have_ev_high, have_ev_oom;  /* v1 has neither: failcnt stands for max */
    bool main_oom_killed;            /* killer is the kernel's OOM killer */
    enum mw_run_killer killer;       /* who sent the main process its SIGKILL (runblame.h) */
    char killer_why[256];            /* the evidence, in words */
    unsigned leftovers;              /* processes still in the cgroup at the end, killed */
    double above_alert_s;
    unsigned long samples;
    uint64_t last_usage, last_used;
    uint64_t peak_rss_sum, peak_pss_sum; /* of the cgroup's processes, per sample */
    uint64_t min_available;              /* min(cgroup's available, MemAvailable) */
    struct mw_run_proc top[MW_RUN_TOP];  /* the largest by PSS at the last sample */
    size_t ntop;
    /* the leak verdict over the cgroup's used memory (usage - reclaimable) */
    struct mw_trend trend;
    bool have_trend;
    /* the system, for soak: SUnreclaim and Shmem trends (leak --system) */
    struct mw_trend sys_sunreclaim, sys_shmem;
    bool have_sys;
    bool daemon_ran;
    bool adj_reset; /* we ran at oom_score_adj -1000: the command got 0 */
    int cleanup_rc; /* mw_cg_destroy's */
};

/* The options `run` and `soak` share, as entries of their option tables
 * (struct mw_opt; --interval is each command's own: its default differs). */
#define MW_RUNNER_OPTS                                                                             \
    {"limit", 'l', MW_OPT_SHORT, "SIZE", "the memory limit (memory.max / limit_in_bytes)", NULL},  \
        {"swap", 'S', 0, "SIZE", "swap the cgroup may use (default 0; 'max': no limit)", "max"},   \
        {"high", 'H', 0, "SIZE", "v2 memory.high (throttling threshold)", NULL},                   \
        {"cpus", 'c', 0, "N", "CPU quota, e.g. 1.5 (cpu.max / cfs_quota_us)", NULL},               \
        {"name",                                                                                   \
         'N',                                                                                      \
         0,                                                                                        \
         "NAME",                                                                                   \
         "the cgroup's name (default memwarden-COMMAND-PID;\n"                                     \
         "letters, digits, '.', '_', '-')",                                                        \
         NULL},                                                                                    \
        {"keep", 'k', 0, NULL, "leave the (emptied) cgroup for inspection", NULL},                 \
        {"record",                                                                                 \
         'r',                                                                                      \
         MW_OPT_SHORT,                                                                             \
         "FILE",                                                                                   \
         "append samples to FILE as 'watch --record' does (the\n"                                  \
         "system, with slab caches, and each process of the\n"                                     \
         "cgroup), for 'leak --from' and 'analyze'",                                               \
         NULL},                                                                                    \
    {                                                                                              \
        "daemon", 'D', 0, NULL, "run 'memwarden daemon --scope' on the cgroup meanwhile", NULL     \
    }

/* Applies the shared option C (argument ARG) to O. Returns -1 when taken,
 * or the exit status to end with (the message said): MW_EXIT_USAGE for a
 * bad value or an option that is not one of them. */
int mw_runner_option(int c, const char *arg, struct mw_runner_opts *o);

/* Fills O with the defaults `run` and `soak` share: no limit yet, swap 0,
 * no memory.high, 1 s between samples; WHO names the command. */
void mw_runner_opts_default(struct mw_runner_opts *o, const char *who);

/* After getopt (optind at the command): takes ARGV + optind as the
 * command, refuses a captured --root, names the cgroup memwarden-WHO-PID
 * unless --name did. Returns -1 to go on, or the exit status to end with
 * (the message said). */
int mw_runner_opts_check(const struct mw_ctx *ctx, struct mw_runner_opts *o, int argc, char **argv);

/* Runs O's command as the module comment says and fills RES. MW (the
 * memwarden binary, for --daemon) is /proc/self/exe's target. Returns 0
 * when the command ran (whatever its exit), -errno when the cgroup could
 * not be made (said on stderr) or the command could not start
 * (RES->exec_errno). The cgroup is removed on every path. */
int mw_runner_run(const struct mw_root *root, const struct mw_runner_opts *o,
                  struct mw_run_result *res);

/* The exit status `run` passes on: the command's (128 + N for signal N),
 * 126 / 127 when it could not be executed / found. */
int mw_run_exit_status(const struct mw_run_result *res);

/* "exited with status 0", "killed by SIGKILL (the kernel's OOM killer)",
 * ... into BUF. */
const char *mw_run_end_text(const struct mw_run_result *res, char *buf, size_t cap);

/* The summary, text (pure: RES in, F out). */
void mw_run_print_text(FILE *f, const struct mw_run_result *res);

/* The summary as members of the JSON object being written. */
void mw_run_json_members(struct mw_json *j, const struct mw_run_result *res);

/* The one-time warning: the command sees the host's RAM in /proc/meminfo
 * and sysinfo(), and how much more than its limit that is. */
void mw_run_warn_host(FILE *f, const struct mw_run_result *res);

#endif
