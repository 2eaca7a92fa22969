/* sdunit: the victim choice beside systemd (docs/design.md, "Living with
 * systemd"). What a chosen process's unit says, read through the root
 * only for the processes the choice picks (lmk/victim.c), not for every
 * candidate:
 *
 * - keep: a process memwarden spares short of the last line. OMIT
 *   (ManagedOOMPreference=omit on its cgroup) is never killed; AVOID
 *   (ManagedOOMPreference=avoid) and SYSTEM -- journald, dbus(-broker),
 *   logind and a display manager (their system units), systemd --user
 *   (user@UID.service's init.scope, the systemd binary), a login
 *   session's leader (logind's LEADER=) -- only at the last line, and
 *   there only when nobody else is left (systemd-oomd sorts "avoid"
 *   cgroups after all others). Each is a trusted match: a system unit's
 *   cgroup, root-owned cgroup attributes, a file root writes, never a
 *   process name.
 * - the unit's cgroup, and who is in it: the census a runaway's unit
 *   needs before it is killed whole (policy.h, mw_policy_unit_whole). */
#ifndef MW_SDUNIT_H
#define MW_SDUNIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "lmk/policy.h"
#include "model/procmatch.h"
#include "proc/cgunit.h"

enum mw_keep {
    MW_KEEP_NONE,
    MW_KEEP_AVOID,  /* ManagedOOMPreference=avoid: the last line, after everyone else */
    MW_KEEP_SYSTEM, /* the system's own (above): the last line, after everyone else */
    MW_KEEP_OMIT,   /* ManagedOOMPreference=omit: never */
};

/* The processes whose keep was read are remembered for MW_SD_FRESH_MS,
 * so the scan skips a known one without reading it again (a unit's
 * preference changes with `systemctl set-property`, rarely). */
#define MW_SD_SLOTS    1024 /* a power of 2; wiped when 3/4 full */
#define MW_SD_FRESH_MS 5000

struct mw_sd_proc {
    int pid; /* 0: free */
    uint8_t keep;
    uint64_t start; /* its starttime: the same process */
    uint64_t ms;    /* when read (the choice's now_ms clock) */
};

struct mw_sd {
    bool booted; /* the root runs systemd (mw_cgunit_systemd_booted) */
    int root_fd; /* the root (run/systemd/sessions); not owned */
    int v2_fd;   /* the cgroup2 mount (mw_cgunit_v2_open), -1: none */
    struct mw_sd_proc slot[MW_SD_SLOTS];
    size_t used;
};

/* What systemd says of one process. */
struct mw_sd_facts {
    enum mw_keep keep;
    char why[160];            /* "ManagedOOMPreference=avoid", "systemd-logind.service", ... */
    char path[MW_MATCH_PATH]; /* its cgroup in systemd's hierarchy ("" unknown) */
    struct mw_cgunit unit;    /* ... as systemd names it */
};

/* Opens the cgroup2 mount of ROOT (none is fine: no preferences, no
 * unit kills). ROOT must outlive S. Returns 0. */
int mw_sd_init(struct mw_sd *s, const struct mw_root *root);
void mw_sd_free(struct mw_sd *s);

/* The facts of PID (START: its starttime, kept with the answer) from
 * PROC_FD (ROOT/proc): its cgroup, unit and keep -- the preference only
 * when PREFS (cfg->oomd_preference). F holds what procmatch read of it
 * and gets what this reads (the cgroup once for both; zero it first).
 * Remembers the keep at NOW_MS. Returns 0, or -errno when PID's cgroup
 * cannot be read (gone: OUT untouched). */
int mw_sd_facts_read(struct mw_sd *s, int proc_fd, int pid, uint64_t start, bool prefs,
                     uint64_t now_ms, struct mw_match_facts *f, struct mw_sd_facts *out);

/* The keep of PID read within MW_SD_FRESH_MS of NOW_MS, MW_KEEP_NONE when
 * none was. By PID alone (the scan has no start time yet): a PID reused
 * within those 5 s is skipped for what is left of them. */
enum mw_keep mw_sd_known(const struct mw_sd *s, int pid, uint64_t now_ms);

/* The name of K for the log: "avoid", "system", "omit", "none". */
const char *mw_keep_name(enum mw_keep k);

/* Counts who is in the cgroup PATH (systemd's, a v2 path) and below it,
 * at most MW_CENSUS_MAX processes (CUT past them): the MEMBERS[0..N) of a
 * runaway found there, and for each other process CHECK(CTX, PID, &KB):
 * 1 when it may die with the unit (KB its footprint), 0 when it must not
 * (OUT->unsafe, with the PID in OUT->why), -1 when it is gone. Returns 0,
 * or -errno when the cgroup cannot be read (OUT untouched). */
#define MW_CENSUS_MAX 512
int mw_sd_census(const struct mw_sd *s, const char *path, const int *members, int n,
                 int (*check)(void *ctx, int pid, uint64_t *kb), void *ctx,
                 struct mw_unit_census *out);

#endif
