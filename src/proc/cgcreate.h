/* cgcreate: a memory cgroup of our own for `run` and `soak` — where it
 * goes (v2 where the memory controller can be delegated to a child of the
 * cgroup2 root, else v1 under our own memory cgroup), the limit files to
 * write (pure: a plan), and the acts: create, enter, empty and remove.
 * Paths are absolute filesystem paths resolved under the root. */
#ifndef MW_CGCREATE_H
#define MW_CGCREATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "proc/cgroup.h"

#define MW_CG_NAME_MAX 64 /* bytes of a --name, NUL included */

/* Whether NAME may name our cgroup: 1..63 bytes of [A-Za-z0-9._-], not
 * "." or "..", and no ".." anywhere (a name is one directory, never a
 * path). */
bool mw_cg_name_valid(const char *name);

/* Where the hierarchies are mounted, from /proc/self/mounts text. */
struct mw_cg_mounts {
    char v2[256];        /* the cgroup2 mount, "" when none */
    char v1_memory[256]; /* the v1 hierarchy with the memory controller, "" none */
    char v1_cpu[256];    /* the v1 hierarchy with the cpu controller, "" none */
};

/* Parses /proc/self/mounts text:
 *   cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
 *   cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
 * into OUT (paths with \040-style escapes decoded). Returns 0, or
 * -ENODATA when no cgroup mount is there (OUT then all ""). */
int mw_cg_mounts_parse_buf(const char *buf, struct mw_cg_mounts *out);

/* From /proc/PID/cgroup text, the path of the v1 hierarchy whose
 * controller list holds CTRL ("memory", "cpu"), or with CTRL NULL the v2
 * line ("0::/path"). Returns 0, -ENODATA, -ENAMETOOLONG. */
int mw_proc_cgroup_ctrl_parse_buf(const char *buf, const char *ctrl, char *out, size_t cap);

/* Whether the space-separated LIST (cgroup.controllers,
 * cgroup.subtree_control) holds WORD. */
bool mw_cg_list_has(const char *list, const char *word);

/* What to create. Sizes in bytes. */
struct mw_cg_spec {
    uint64_t limit;            /* memory.max / limit_in_bytes (required, > 0) */
    uint64_t swap;             /* memory.swap.max / memsw - limit; MW_CG_UNLIMITED: no limit */
    uint64_t high;             /* v2 memory.high; MW_CG_UNLIMITED: not set */
    unsigned cpus_milli;       /* CPU quota in 1/1000 CPUs; 0: none */
    char name[MW_CG_NAME_MAX]; /* directory name, mw_cg_name_valid */
};

/* One write of the plan: VALUE into FILE of the memory cgroup (or of the
 * v1 cpu cgroup when CPU). */
struct mw_cg_write {
    char file[40];
    char value[48];
    bool cpu;
};

#define MW_CG_PLAN_MAX      6
#define MW_CG_CPU_PERIOD_US 100000 /* the kernel's default CFS period */

/* The writes that give a fresh cgroup of VERSION (1 or 2) SPEC's limits,
 * in order (pure). HAVE_SWAP: the swap limit file exists (v2
 * memory.swap.max, v1 memory.memsw.limit_in_bytes: swap accounting is on);
 * HAVE_CPU: the cpu controller is there. v1: limit_in_bytes first, then
 * memsw.limit_in_bytes = limit + swap (a fresh cgroup's memsw is unlimited, so
 * this order never puts memsw below the limit); memory.high has no v1
 * file and is left out (*HIGH_DROPPED). CPU quota: v2 cpu.max "Q P",
 * v1 cpu.cfs_period_us then cpu.cfs_quota_us. Writes *N (<= MW_CG_PLAN_MAX).
 * Returns 0 or -EINVAL (a 0 limit, bad version). */
int mw_cg_plan(const struct mw_cg_spec *spec, int version, bool have_swap, bool have_cpu,
               struct mw_cg_write *w, size_t *n, bool *high_dropped);

/* A created cgroup. */
struct mw_cg_run {
    int version;            /* 1 or 2 */
    char dir[PATH_MAX];     /* the memory cgroup */
    char cpu_dir[PATH_MAX]; /* v1: the cpu cgroup we made too, "" none */
    bool swap_enforced;     /* the swap limit is in force (v2 swap.max, v1 memsw) */
    bool cpu_limited;       /* a CPU quota is in force */
    bool high_dropped;      /* --high asked on v1: not applied */
};

/* Creates SPEC's cgroup: v2 when the cgroup2 mount has the memory
 * controller and its root's subtree_control has it or takes "+memory",
 * else v1 under our own memory cgroup. Writes the plan; on any failure
 * removes what it made. WHY (CAP bytes) gets a one-line reason on
 * failure. OUT untouched on failure. Returns 0, -EEXIST (the name is
 * taken), -ENOENT (no memory controller mounted) or -errno. */
int mw_cg_create(const struct mw_root *root, const struct mw_cg_spec *spec, struct mw_cg_run *out,
                 char *why, size_t cap);

/* Moves PID into CG (both directories). Only open/write/close: safe in a
 * child between fork and exec. Returns 0 or -errno. */
int mw_cg_enter(const struct mw_root *root, const struct mw_cg_run *cg, int pid);

/* Empties and removes CG. Every process still listed in its cgroup.procs
 * is killed (v2 cgroup.kill when the kernel has it, else SIGKILL to each
 * listed PID): this is only right because the cgroup is ours, created
 * fresh, so everything in it descends from the command we started. Waits
 * up to TIMEOUT_MS for it to empty, then rmdir (unless KEEP_DIR: --keep
 * leaves the empty cgroup for inspection). Returns 0, -EBUSY (still not
 * empty) or -errno of rmdir. */
int mw_cg_destroy(const struct mw_root *root, const struct mw_cg_run *cg, uint64_t timeout_ms,
                  bool keep_dir);

#endif
