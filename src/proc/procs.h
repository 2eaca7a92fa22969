/* procs: per-process files under /proc/PID, parsed into plain structs,
 * and the oom_score_adj class names of Android's ProcessList. */
#ifndef MW_PROCS_H
#define MW_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

/* /proc/PID/stat, the fields memwarden uses. */
struct mw_proc_stat {
    int pid;
    char comm[64]; /* between the first '(' and the LAST ')', as the kernel wrote it */
    char state;    /* R S D Z T t X I ... */
    int ppid;
    unsigned long flags;   /* PF_* (PF_KTHREAD 0x00200000) */
    uint64_t utime, stime; /* clock ticks */
    uint64_t starttime;    /* clock ticks after boot */
    uint64_t vsize;        /* bytes */
    uint64_t rss_pages;
};

#define MW_PF_KTHREAD 0x00200000UL

/* Parses the text of /proc/PID/stat. The command name may hold spaces,
 * parentheses and even ") Z " (a name faking another state): the name ends
 * at the LAST ')'. Returns 0, -EINVAL when malformed; OUT untouched then. */
int mw_proc_stat_parse_buf(struct mw_proc_stat *out, const char *buf);

/* /proc/PID/status, the fields memwarden uses (kB unless noted). */
struct mw_proc_status {
    int tgid;
    uid_t uid;  /* real uid */
    uid_t euid; /* effective uid (what ps shows as USER); = uid when absent */
    uint64_t vm_rss_kb, rss_anon_kb, rss_file_kb, rss_shmem_kb, vm_swap_kb, vm_size_kb;
    uint64_t vm_hwm_kb;
    uint64_t vm_pte_kb; /* page tables (VmPTE) */
    bool have_rss;      /* kernel threads have no Vm* lines */
    bool kthread;       /* "Kthread: 1" (kernel 6.x); false when the line is absent */
};

/* Parses the text of /proc/PID/status. Returns 0 or -EINVAL (no Uid line). */
int mw_proc_status_parse_buf(struct mw_proc_status *out, const char *buf);

/* /proc/PID/statm: size resident shared text lib data dt, in pages. */
struct mw_proc_statm {
    uint64_t size, resident, shared, text, data;
};

/* Parses the text of /proc/PID/statm. Returns 0 or -EINVAL. */
int mw_proc_statm_parse_buf(struct mw_proc_statm *out, const char *buf);

/* Memory totals of a process from smaps_rollup (or smaps summed), in kB. */
struct mw_proc_smaps {
    uint64_t rss, pss, pss_anon, pss_file, pss_shmem;
    uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
    uint64_t swap, swap_pss;
    bool have_swap_pss, have_pss_split;
};

/* Parses smaps_rollup text, or a whole smaps file (every mapping's lines
 * are added up). Returns 0 or -ENODATA when no Rss/Pss lines were found. */
int mw_proc_smaps_parse_buf(struct mw_proc_smaps *out, const char *buf);

/* Unique set size (private pages) in kB. */
static inline uint64_t mw_proc_smaps_uss(const struct mw_proc_smaps *s)
{
    return s->private_clean + s->private_dirty;
}

/* Parses an oom_score_adj file's text ("-1000".."1000"). Returns 0 or
 * -EINVAL. */
int mw_proc_adj_parse_buf(int *out, const char *buf);

/* Name of the Android oom_score_adj class at or below ADJ: native (-1000),
 * system (-900), persistent_proc (-800), persistent_service (-700),
 * foreground (0), visible (100), perceptible (200), backup (300),
 * heavy_weight (400), service (500), home (600), previous (700),
 * service_b (800), cached (900..1000), unknown (1001: lmkd's UNKNOWN_ADJ,
 * above what the kernel accepts). Values between -700 and 0 belong to
 * persistent_service; 1000 is cached (the nearest class at or below). */
const char *mw_adj_class_name(int adj);

/* Parses a class name (or a number, -1000..1000) to its oom_score_adj
 * value. "unknown" gives 1001, which the kernel refuses: callers that write
 * the value check the range. Returns 0 or -EINVAL. */
int mw_adj_class_parse(const char *s, int *adj);

/* Writes ADJ (-1000..1000) to ROOT/proc/PID/oom_score_adj. Returns 0,
 * -EINVAL (out of range), -ESRCH/-ENOENT (gone), -EACCES (lowering it below
 * the process's floor needs CAP_SYS_RESOURCE; another user's process needs
 * root) or another -errno. */
int mw_proc_adj_write(const struct mw_root *root, int pid, int adj);

/* One oom_score_adj change for mw_proc_adj_apply. */
struct mw_adj_change {
    int pid;
    int old_adj, new_adj; /* -1000..1000 */
    int result;           /* out: 0 written, -errno (see mw_proc_adj_write) */
};

/* Writes CH[0..N) in order. When one fails — other than with -ESRCH or
 * -ENOENT (the process is gone) when TOLERATE_GONE — every change already
 * written is put back to its old value (newest first), *FAILED_AT gets the
 * failing index and its -errno is returned: nothing is left half-applied.
 * Returns 0 when all were written (or were gone and tolerated). */
int mw_proc_adj_apply(const struct mw_root *root, struct mw_adj_change *ch, size_t n,
                      bool tolerate_gone, size_t *failed_at);

/* Joins the raw bytes of /proc/PID/cmdline in place: the NULs between
 * arguments become spaces, trailing NULs are dropped, and BUF[result] is set
 * to NUL (BUF needs LEN + 1 bytes). Returns the new length: 0 for kernel
 * threads and zombies, whose cmdline is empty. */
size_t mw_proc_cmdline_join(char *buf, size_t len);

/* Iterates the numeric entries of ROOT/proc (PIDs 1..INT32_MAX, in
 * directory order). mw_pid_iter_open returns 0 or -errno; then call
 * mw_pid_iter_next, which returns 1 with *pid set, or 0 at the end; then
 * mw_pid_iter_close (safe after a failed open only if IT was zeroed). */
struct mw_pid_iter {
    DIR *dir;
};
int mw_pid_iter_open(struct mw_pid_iter *it, const struct mw_root *root);
int mw_pid_iter_next(struct mw_pid_iter *it, int *pid); /* 1 = got one */
void mw_pid_iter_close(struct mw_pid_iter *it);

/* Reads PROC_FD/PID/NAME (PROC_FD: a descriptor of ROOT/proc) into BUF
 * with mw_read_small_at. Returns the byte count or -errno. */
long mw_proc_read_pid_file(int proc_fd, int pid, const char *name, char *buf, size_t cap);

#endif
