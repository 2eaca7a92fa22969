/* rules: the process-class rules file — "pattern = class" or
 * "pattern -> class" lines, the pattern a POSIX extended regex matched
 * against the full command line, the first matching rule wins. `prio apply`
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
#include <stddef.h>

struct mw_rule {
    char *pattern; /* as written (quotes removed) */
    regex_t re;    /* REG_EXTENDED | REG_NOSUB */
    int adj;       /* -1000..1000 */
    int line;      /* 1-based line in the file, for messages */
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

/* The first rule whose pattern matches CMDLINE (arguments joined by
 * spaces, as mw_proc.cmdline), or NULL. Pure; safe to call from the
 * daemon's loop. */
const struct mw_rule *mw_rules_match(const struct mw_rules *rules, const char *cmdline);

void mw_rules_free(struct mw_rules *rules);

#endif
