/* soak: the criteria a long run is judged on (pure: a run's result in,
 * pass / fail / skipped per criterion out) and their JUnit XML. */
#ifndef MW_SOAK_H
#define MW_SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/runner.h"

struct mw_soak_criteria {
    uint64_t max_rss, max_pss; /* summed over the cgroup's processes; 0: not judged */
    uint64_t min_available;    /* 0: not judged */
    bool strict;               /* a leak "warning" fails too */
    bool no_system;            /* the host's SUnreclaim and Shmem not judged */
};

enum mw_crit_result { MW_CRIT_PASS = 0, MW_CRIT_FAIL, MW_CRIT_SKIP };

struct mw_criterion {
    const char *name; /* "alive", "no-oom-kill", "max-rss", ... */
    enum mw_crit_result result;
    char detail[256]; /* why: raw text (the command's name may be in it) */
};

#define MW_SOAK_CRITERIA 7

/* Judges RES against C, in a fixed order: alive (the command still ran
 * when the soak ended: ended by the duration or a stop signal; failing
 * detail starts "exited"), no-oom-kill, max-rss, max-pss, min-available
 * (skipped when not asked), leak (the cgroup's used memory: not "leak",
 * with STRICT not "warning"; skipped when too short), system (SUnreclaim
 * and Shmem of the whole system, the `leak --system` rule; skipped when
 * too short or NO_SYSTEM). Fills OUT (MW_SOAK_CRITERIA entries). Returns the number
 * failed. */
size_t mw_soak_judge(const struct mw_run_result *res, const struct mw_soak_criteria *c,
                     struct mw_criterion *out);

/* JUnit XML: one <testsuite name="memwarden soak: CMD"> with a testcase
 * per criterion (classname "memwarden.soak"), a <failure> for each failed
 * one and <skipped/> for each skipped; TIME_S is the run's wall time.
 * INTERRUPTED (NULL: the soak ran its course) says why it ended early: a
 * testcase "completed" with an <error> carrying it (errors="1"), so a
 * cancelled job never reads as passed. */
void mw_soak_junit(FILE *f, const char *cmd, const struct mw_criterion *crit, size_t n,
                   double time_s, const char *interrupted);

/* Into BUF: why RES ended early, "interrupted by SIGINT after 3.2 s of
 * 1 h (4 samples)" (PLANNED_MS the duration asked); "" when it ran its
 * course. Returns BUF. */
char *mw_soak_interrupted(char *buf, size_t cap, const struct mw_run_result *res,
                          uint64_t planned_ms);

#endif
