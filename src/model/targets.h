/* targets: which processes a command watches — given PIDs, or every
 * process whose name or command line matches a regular expression. */
#ifndef MW_TARGETS_H
#define MW_TARGETS_H

#include <stddef.h>

#include "base/util.h"

/* Resolves the targets: the NPIDS PIDS as given, plus (when MATCH is not
 * NULL) every user process under ROOT/proc whose comm or command line
 * (arguments joined by spaces) matches the extended regex MATCH, except
 * the calling process. *OUT is malloc'd. Returns 0, -EINVAL (a bad regex,
 * or one past procmatch.h's bounds: mw_regex_check says why) or -ENOMEM. */
int mw_targets_resolve(const struct mw_root *root, const int *pids, size_t npids, const char *match,
                       int **out, size_t *nout);

/* Reads ROOT/proc/PID/cmdline with NULs turned into spaces into BUF
 * (capacity CAP). Returns the length or -errno. */
long mw_targets_cmdline(const struct mw_root *root, int pid, char *buf, size_t cap);

#endif
