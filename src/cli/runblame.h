/* runblame: who killed `run`'s main process when it died of SIGKILL —
 * memwarden's own daemon (run --daemon), run itself (the grace period after
 * it asked the command to end ran out), the kernel's OOM killer, or nobody
 * the evidence names. The evidence: the daemon's kill history (a file of
 * the run's own), the cgroup's oom_kill counter (memory.events on v2,
 * memory.oom_control on v1: every OOM kill of a process of the cgroup, of
 * the cgroup's limit or of the whole machine) and the kernel's log when it
 * is readable (its "Killed process PID" lines, analysis/oomreport).
 *
 * A PID alone names the main process here: it is run's child and is not
 * reaped until it has died, so no other process can hold its PID between
 * its start and its death, and the history file is fresh (made for this
 * run). Kernel-log kills are taken from the run's time on only. */
#ifndef MW_RUNBLAME_H
#define MW_RUNBLAME_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

enum mw_run_killer {
    MW_RUN_KILLER_NONE = 0, /* it did not die of SIGKILL */
    MW_RUN_KILLER_DAEMON,   /* the daemon's kill record names it */
    MW_RUN_KILLER_KERNEL,   /* the kernel's log names it as an OOM victim */
    MW_RUN_KILLER_RUN,      /* run sent it SIGKILL after the grace period */
    MW_RUN_KILLER_UNKNOWN,  /* the evidence does not decide */
};

/* What is known when the main process has ended. */
struct mw_run_evidence {
    bool sigkill;    /* it died of SIGKILL */
    bool run_killed; /* run itself sent it SIGKILL */
    /* the daemon's history: -1 no daemon ran (or its file was unreadable),
     * else the kills it recorded, DAEMON_MAIN of them of the main process */
    int daemon_kills;
    bool daemon_main;
    /* the cgroup's oom_kill counter: kills during the run; have_ unread */
    bool have_oom_kill;
    uint64_t oom_kills;
    /* the kernel's log: -1 unreadable, else the OOM kills it holds of the
     * run's cgroup since the run began, KLOG_MAIN of them of the main one */
    int klog_kills;
    bool klog_main;
};

/* The killer the evidence E names, and in WHY (CAP bytes) the reason in
 * words, e.g. "the kernel's log has no OOM kill of it; 2 OOM kills in the
 * cgroup took other processes". Pure. */
enum mw_run_killer mw_run_blame(const struct mw_run_evidence *e, char *why, size_t cap);

/* "memwarden's daemon", "the kernel's OOM killer", "memwarden run", "unknown",
 * "none" (for JSON: "daemon", "kernel_oom", "run", "unknown", "none" with
 * mw_run_killer_key). */
const char *mw_run_killer_name(enum mw_run_killer k);
const char *mw_run_killer_key(enum mw_run_killer k);

/* Reads the daemon's kill history PATH (JSON lines, lmk/history.h): the
 * real kills (not dry-run) into *KILLS, and whether one has PID into
 * *MAIN. Returns 0, or -errno (outputs untouched) when it cannot be read;
 * a missing file is 0 kills (the daemon writes it at its first kill). */
int mw_run_daemon_kills(const char *path, int pid, int *kills, bool *main);

/* Counts the OOM kills in the kernel log BUF (LEN bytes, any form klog
 * reads) at or after SINCE_BOOT_S (printk time; kills without one count)
 * whose victim's cgroup (task_memcg) is the tail of CG_DIR, or that name
 * PID when the report gives no cgroup; *MAIN: one of them is PID. Pure. */
int mw_run_klog_count(const char *buf, size_t len, const char *cg_dir, int pid, double since_boot_s,
                      bool *main);

/* The same on the kernel's live log (ROOT/dev/kmsg). Returns the count,
 * or -errno when it cannot be read (dmesg_restrict). */
int mw_run_klog_kills(const struct mw_root *root, const char *cg_dir, int pid, double since_boot_s,
                      bool *main);

#endif
