/* rules: the process-class rules file — "pattern = class" or
 * "pattern -> class" lines, the first matching rule wins. The pattern is
 * a POSIX extended regex matched against the full command line (a name
 * match: any user can forge it with `exec -a`), or a qualified match of
 * procmatch.h, KEY:VALUE words where name: is such a regex:
 *   exe:/usr/sbin/sshd uid:0          -> native
 *   unit:postgresql.service           -> system `prio apply`
 * applies it once; the daemon applies it to every new process. This is how
 * a plain Linux board gets the oom_score_adj classes that Android's
 * ActivityManager gives lmkd.
 *
 *   # comments and blank lines are ignored
 *   ^/usr/bin/camera-daemon      -> foreground
 *   indexer|thumbnailer          =  cached
 *   "^python3 .*backup\.py$"     -> 300
 */
#ifndef MW_RULES_H
#define MW_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/procmatch.h"

struct mw_rule {
    char *pattern;             /* as written (quotes removed) */
    struct mw_match_spec spec; /* spec.name is the regex */
    bool have_re;              /* false: a qualified rule without name: */
    regex_t re;                /* REG_EXTENDED | REG_NOSUB, when have_re */
    int adj;                   /* -1000..1000 */
    int line;                  /* 1-based line in the file, for messages */
};

struct mw_rules {
    struct mw_rule *v; /* in file order */
    size_t n;
};

/* Parses rules text. The separator is the last "->" or "=" on the line
 * (class names and numbers hold neither, so patterns may); the pattern may
 * be wrapped in "..." or '...' to keep blanks at its ends. The class is a
 * name of mw_adj_class_name's table or a number, and must lie in
 * -1000..1000 ("unknown", 1001, is refused). On error: -EINVAL (or -ENOMEM)
 * with *BAD_LINE set and a reason in ERR (CAP bytes); OUT untouched.
 * Returns the number of rules (>= 0). Free with mw_rules_free. */
int mw_rules_parse_buf(struct mw_rules *out, const char *buf, int *bad_line, char *err, size_t cap);

/* Reads and parses the rules file at PATH (a path of the user's, relative
 * to the working directory, not to --root). Errors as mw_rules_parse_buf,
 * plus -errno from reading (*BAD_LINE 0). */
int mw_rules_load(struct mw_rules *out, const char *path, int *bad_line, char *err, size_t cap);

/* The MW_MATCH_NEED_* facts the qualified rules read (0: none). */
unsigned mw_rules_needs(const struct mw_rules *rules);

/* The first rule whose pattern matches CMDLINE (arguments joined by
 * spaces, as mw_proc.cmdline) and, for a qualified rule, the process's
 * FACTS (read with mw_match_facts_read for mw_rules_needs; may be NULL
 * when that is 0: a qualified rule then never matches), or NULL. Pure. */
const struct mw_rule *mw_rules_match(const struct mw_rules *rules, const char *cmdline,
                                     const struct mw_match_facts *facts);

void mw_rules_free(struct mw_rules *rules);

#endif
