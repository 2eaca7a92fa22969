/* procmatch: the one matcher of "which processes does this pattern name",
 * shared by the daemon's protect / prefer / avoid / term_first lists and
 * by prio's rules, and the bounds on a regular expression from the user.
 *
 * A pattern is either a NAME MATCH, the old form: the whole text matched
 * against the command line and the process name. Any user can give a
 * process any command line (`exec -a "/usr/sbin/sshd -D" sleep 1d`), so a
 * name match is spoofable: it must never be what keeps the killer off a
 * process or gives one -1000.
 *
 * Or a QUALIFIED match, blank-separated KEY:VALUE words, all of which must
 * hold:
 *   exe:GLOB      the executable (/proc/PID/exe; " (deleted)" after an
 *                 upgrade is ignored)
 *   uid:N         the real and the effective uid are both N
 *   unit:NAME     a systemd system unit: the process's cgroup is NAME's or
 *                 one below it, in any slice (proc/cgunit.h: the path in
 *                 systemd's hierarchy; a user manager's units are under
 *                 user@UID.service, whose cgroup PID 1 made)
 *   cgroup:GLOB   the cgroup path (v2 "0::" line, else v1 memory)
 *   name:PATTERN  the command line or name, as the old form
 * e.g. `exe:/usr/sbin/sshd uid:0` or `unit:ssh.service`. A qualified
 * match with uid: or unit:/cgroup: is TRUSTED: no other user can forge
 * it (a process cannot change its uid, or enter a root-owned cgroup,
 * without privilege); exe: alone is not (anyone may run /usr/sbin/sshd). */
#ifndef MW_PROCMATCH_H
#define MW_PROCMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc/cgunit.h"

#define MW_MATCH_TEXT 257 /* longest value of one key, + 1 */
#define MW_MATCH_PATH 512 /* longest exe / cgroup path compared */

/* The facts a qualified pattern needs beyond the command line. */
enum {
    MW_MATCH_NEED_EXE = 1u << 0,
    MW_MATCH_NEED_UID = 1u << 1,
    MW_MATCH_NEED_CGROUP = 1u << 2,
    MW_MATCH_NEED_UNIT = 1u << 3, /* the path in systemd's hierarchy, parsed */
};

struct mw_match_spec {
    bool qualified;             /* written as KEY:VALUE words */
    char name[MW_MATCH_TEXT];   /* command line / name pattern; "" any */
    char exe[MW_MATCH_TEXT];    /* glob on the executable's path; "" any */
    char unit[MW_MATCH_TEXT];   /* systemd system unit; "" any */
    char cgroup[MW_MATCH_TEXT]; /* glob on the cgroup path; "" any */
    bool have_uid;
    uid_t uid;
};

/* What is known of one process (filled by mw_match_facts_read). */
struct mw_match_facts {
    unsigned tried; /* MW_MATCH_NEED_* bits already read, or failed */
    bool have_exe, have_uid, have_cgroup, have_unit;
    char exe[MW_MATCH_PATH];
    uid_t ruid, euid;
    char cgroup[MW_MATCH_PATH];
    char unit_path[MW_MATCH_PATH]; /* systemd's path (mw_cgunit_path_parse_buf) ... */
    struct mw_cgunit unit;         /* ... as systemd names it */
};

/* Parses TEXT (blanks around it already trimmed). Text whose first word
 * does not start with a known "KEY:" is a name match: NAME gets all of it.
 * On error (unknown key, empty or overlong value, a key twice, a uid that
 * is not a number, a unit with '/') returns -EINVAL with a reason in ERR
 * (CAP bytes; ERR may be NULL); OUT untouched. Returns 0. */
int mw_match_spec_parse(struct mw_match_spec *out, const char *text, char *err, size_t cap);

/* True when no other user can make a process match S: a qualified spec
 * with uid: or unit: / cgroup:. */
bool mw_match_spec_trusted(const struct mw_match_spec *s);

/* The MW_MATCH_NEED_* facts S's qualifiers read. */
unsigned mw_match_spec_needs(const struct mw_match_spec *s);

/* True when S's NAME, as a shell glob (fnmatch), matches CMDLINE or COMM
 * (either may be NULL or ""); an empty NAME matches everything. */
bool mw_match_name_glob(const struct mw_match_spec *s, const char *cmdline, const char *comm);

/* True when S's exe / uid / unit / cgroup all hold for F. A fact S needs
 * that F lacks (unreadable) fails the match: an unknown process is never
 * taken for a trusted one. Pure. */
bool mw_match_qualifiers(const struct mw_match_spec *s, const struct mw_match_facts *f);

/* Reads into F the facts of NEED not yet in F->tried, for PID under
 * PROC_FD (a descriptor of ROOT/proc): exe (readlinkat PID/exe), the uids
 * (PID/status), the cgroup and the unit (PID/cgroup). A fact that cannot be read
 * stays absent. Zero F before the first call for a process. Returns 0. */
int mw_match_facts_read(int proc_fd, int pid, unsigned need, struct mw_match_facts *f);

/* Limits on a regular expression from the user (--match, a rules file):
 * glibc's regcomp unrolls bounded repeats, so a short pattern with nested
 * or large ones takes gigabytes ("((a{1,100}){1,100}){1,100}": 900 MB
 * and still growing when a 1 GB limit stopped it). The size estimate is
 * the number of atoms after unrolling every {n,m}. Measured with glibc
 * 2.36: at the limit regcomp takes under 8 MB and 5 ms, and regexec of a
 * worst case ("(a{0,22}){0,22}b") on a 4000-byte command line ~0.2 s;
 * at 2048 atoms that match took 10 s. */
#define MW_REGEX_MAX_LEN    256 /* bytes */
#define MW_REGEX_MAX_DEPTH  16  /* nested parentheses */
#define MW_REGEX_MAX_REPEAT 255 /* largest n or m in {n,m} (RE_DUP_MAX is 32767) */
#define MW_REGEX_MAX_SIZE   512 /* atoms after unrolling the repeats */

/* Checks PATTERN against those limits without compiling it. Returns 0 or
 * -EINVAL with a reason in ERR (CAP bytes; may be NULL). Pure. */
int mw_regex_check(const char *pattern, char *err, size_t cap);

/* mw_regex_check, then regcomp(RE, PATTERN, FLAGS). Returns 0, or -EINVAL
 * with a reason in ERR (RE is then not to be freed). */
int mw_regcomp_bounded(regex_t *re, const char *pattern, int flags, char *err, size_t cap);

#endif
