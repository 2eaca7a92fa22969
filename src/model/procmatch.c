#include "model/procmatch.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "proc/cgroup.h"
#include "proc/cgunit.h"
#include "proc/procs.h"

static const char *const keys[] = {"exe:", "uid:", "unit:", "cgroup:", "name:"};

/* The key TEXT starts with (index in keys), or -1. */
static int key_of(const char *text)
{
    for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++)
        if (strncmp(text, keys[i], strlen(keys[i])) == 0)
            return (int)i;
    return -1;
}

static int fail(char *err, size_t cap, const char *fmt, const char *arg)
{
    if (err && cap)
        snprintf(err, cap, fmt, arg);
    return -EINVAL;
}

/* Sets one KEY:VALUE word (WORD, LEN bytes) in S. */
static int set_word(struct mw_match_spec *s, const char *word, size_t len, char *err, size_t cap)
{
    char w[MW_MATCH_TEXT + 16];
    if (len >= sizeof(w))
        return fail(err, cap, "'%.40s...': longer than 256 characters", word);
    memcpy(w, word, len);
    w[len] = '\0';
    int k = key_of(w);
    if (k < 0)
        return fail(err, cap,
                    "'%s': unknown key (exe:PATH, uid:N, unit:NAME, cgroup:GLOB, name:PATTERN)", w);
    const char *v = w + strlen(keys[k]);
    if (!*v)
        return fail(err, cap, "'%s': empty value", w);
    char *dst[] = {s->exe, NULL, s->unit, s->cgroup, s->name};
    if (k == 1) {
        char *end;
        errno = 0;
        unsigned long u = strtoul(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || errno || u >= 0xffffffffUL)
            return fail(err, cap, "'%s': uid: takes a number (uid:0 for root)", w);
        if (s->have_uid)
            return fail(err, cap, "'%s': uid: given twice", w);
        s->have_uid = true;
        s->uid = (uid_t)u;
        return 0;
    }
    if (k == 2 && strchr(v, '/'))
        return fail(err, cap, "'%s': unit: takes a unit name (ssh.service), not a path", w);
    if (dst[k][0])
        return fail(err, cap, "'%s': key given twice", w);
    snprintf(dst[k], MW_MATCH_TEXT, "%s", v);
    return 0;
}

int mw_match_spec_parse(struct mw_match_spec *out, const char *text, char *err, size_t cap)
{
    struct mw_match_spec s;
    memset(&s, 0, sizeof(s));
    if (!*text)
        return fail(err, cap, "%sempty pattern", "");
    if (key_of(text) < 0) {
        if (strlen(text) >= MW_MATCH_TEXT)
            return fail(err, cap, "'%.40s...': longer than 256 characters", text);
        snprintf(s.name, sizeof(s.name), "%s", text);
        *out = s;
        return 0;
    }
    s.qualified = true;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t");
        if (n == 0)
            break;
        int rc = set_word(&s, p, n, err, cap);
        if (rc < 0)
            return rc;
        p += n;
    }
    *out = s;
    return 0;
}

bool mw_match_spec_trusted(const struct mw_match_spec *s)
{
    return s->qualified && (s->have_uid || s->unit[0] || s->cgroup[0]);
}

unsigned mw_match_spec_needs(const struct mw_match_spec *s)
{
    return (s->exe[0] ? MW_MATCH_NEED_EXE : 0u) | (s->have_uid ? MW_MATCH_NEED_UID : 0u) |
           (s->unit[0] ? MW_MATCH_NEED_UNIT : 0u) | (s->cgroup[0] ? MW_MATCH_NEED_CGROUP : 0u);
}

bool mw_match_name_glob(const struct mw_match_spec *s, const char *cmdline, const char *comm)
{
    if (!s->name[0])
        return true;
    if (cmdline && *cmdline && fnmatch(s->name, cmdline, 0) == 0)
        return true;
    return comm && *comm && fnmatch(s->name, comm, 0) == 0;
}

bool mw_match_qualifiers(const struct mw_match_spec *s, const struct mw_match_facts *f)
{
    if (s->exe[0] && (!f->have_exe || fnmatch(s->exe, f->exe, FNM_PATHNAME) != 0))
        return false;
    if (s->have_uid && (!f->have_uid || f->ruid != s->uid || f->euid != s->uid))
        return false;
    if (s->unit[0] && (!f->have_unit || strcmp(f->unit.unit, s->unit) != 0))
        return false;
    if (s->cgroup[0] && (!f->have_cgroup || fnmatch(s->cgroup, f->cgroup, FNM_PATHNAME) != 0))
        return false;
    return true;
}

static void read_exe(int proc_fd, int pid, struct mw_match_facts *f)
{
    char path[64];
    snprintf(path, sizeof(path), "%d/exe", pid);
    ssize_t n = readlinkat(proc_fd, path, f->exe, sizeof(f->exe) - 1);
    if (n <= 0 || (size_t)n >= sizeof(f->exe) - 1)
        return; /* unreadable, or possibly cut: unknown */
    f->exe[n] = '\0';
    /* An executable replaced by an upgrade reads "/usr/sbin/sshd (deleted)":
     * still the program that was started from that path. */
    static const char del[] = " (deleted)";
    if ((size_t)n > sizeof(del) - 1 && strcmp(f->exe + n - (sizeof(del) - 1), del) == 0)
        f->exe[(size_t)n - (sizeof(del) - 1)] = '\0';
    f->have_exe = true;
}

int mw_match_facts_read(int proc_fd, int pid, unsigned need, struct mw_match_facts *f)
{
    need &= ~f->tried;
    f->tried |= need;
    if (need & MW_MATCH_NEED_EXE)
        read_exe(proc_fd, pid, f);
    char buf[8192];
    if (need & MW_MATCH_NEED_UID) {
        struct mw_proc_status st;
        if (mw_proc_read_pid_file(proc_fd, pid, "status", buf, sizeof(buf)) >= 0 &&
            mw_proc_status_parse_buf(&st, buf) == 0) {
            f->ruid = st.uid;
            f->euid = st.euid;
            f->have_uid = true;
        }
    }
    if (need & (MW_MATCH_NEED_CGROUP | MW_MATCH_NEED_UNIT)) {
        if (mw_proc_read_pid_file(proc_fd, pid, "cgroup", buf, sizeof(buf)) < 0)
            return 0;
        if ((need & MW_MATCH_NEED_CGROUP) &&
            mw_proc_cgroup_parse_buf(buf, false, f->cgroup, sizeof(f->cgroup)) == 0)
            f->have_cgroup = true;
        char path[MW_MATCH_PATH];
        if ((need & MW_MATCH_NEED_UNIT) && mw_cgunit_path_parse_buf(buf, path, sizeof(path)) == 0 &&
            mw_cgunit_parse(path, &f->unit) == 0) {
            snprintf(f->unit_path, sizeof(f->unit_path), "%s", path);
            f->have_unit = true;
        }
    }
    return 0;
}

/* ---- bounded regular expressions --------------------------------------- */

/* Adds A * B to *SUM, saturating above MW_REGEX_MAX_SIZE. */
static size_t sat_mul(size_t a, size_t b)
{
    return a && b > (MW_REGEX_MAX_SIZE + 1) / a ? MW_REGEX_MAX_SIZE + 1 : a * b;
}

/* Parses "{n}", "{n,}", "{n,m}" or "{,m}" (glibc reads it as {0,m}) at P
 * (P[0] == '{'). Sets *COPIES to the copies regcomp makes (m, or n + 1 for
 * "{n,}") and *LARGEST to the larger number; returns the length, or 0
 * when it is not a bound (then regcomp refuses it or reads a literal). */
static size_t parse_bound(const char *p, unsigned long *copies, unsigned long *largest)
{
    const char *q = p + 1;
    char *end;
    unsigned long n = 0, m;
    bool digits = false;
    if (*q >= '0' && *q <= '9') {
        n = strtoul(q, &end, 10);
        q = end;
        digits = true;
    }
    m = n;
    if (*q == ',') {
        q++;
        if (*q >= '0' && *q <= '9') {
            m = strtoul(q, &end, 10);
            q = end;
            digits = true;
        } else {
            m = n + 1;
        }
    }
    if (*q != '}' || !digits)
        return 0;
    *largest = n > m ? n : m;
    *copies = m ? m : 1;
    return (size_t)(q + 1 - p);
}

/* The length of the bracket expression at P (P[0] == '['), to its ']'. */
static size_t bracket_len(const char *p)
{
    size_t i = 1;
    if (p[i] == '^')
        i++;
    if (p[i] == ']')
        i++;
    for (; p[i] && p[i] != ']'; i++)
        if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
            const char *e = strstr(p + i + 2, (char[]){p[i + 1], ']', '\0'});
            if (!e)
                return strlen(p);
            i = (size_t)(e - p) + 1;
        }
    return p[i] ? i + 1 : i;
}

/* The pattern's size after glibc unrolls its repeats, and its shape:
 * {n,m} copies the piece it follows m times (n when m is open), '+'
 * copies it once (a+ is aa*), and a repeat of a repeat ("a++", "a*{3}",
 * which POSIX leaves undefined) is refused: glibc copies the whole
 * repeated tree for each, so 35 '+' in a row took 2.2 GB ('make fuzz'). */
int mw_regex_check(const char *pattern, char *err, size_t cap)
{
    size_t len = strlen(pattern);
    if (len > MW_REGEX_MAX_LEN)
        return fail(err, cap, "%s: longer than 256 bytes", "pattern");
    size_t acc[MW_REGEX_MAX_DEPTH + 1] = {0};  /* atoms so far in each open group */
    size_t last[MW_REGEX_MAX_DEPTH + 1] = {0}; /* atoms of the last piece */
    int d = 0;
    bool quantified = false; /* the last thing read was a repeat */
    for (size_t i = 0; i < len;) {
        char c = pattern[i];
        size_t bound_len = 0;
        unsigned long copies = 1, largest = 0;
        if (c == '{')
            bound_len = parse_bound(pattern + i, &copies, &largest);
        bool quant = c == '*' || c == '+' || c == '?' || bound_len > 0;
        if (quant && quantified)
            return fail(err, cap, "%s: a repeat of a repeat (a++, a*{2}): write one", "pattern");
        quantified = quant;
        if (c == '(') {
            if (++d > MW_REGEX_MAX_DEPTH)
                return fail(err, cap, "%s: parentheses nested deeper than 16", "pattern");
            acc[d] = last[d] = 0;
            i++;
        } else if (c == ')' && d > 0) {
            size_t g = acc[d--] + 1;
            acc[d] += g;
            last[d] = g;
            i++;
        } else if (quant && c != '*' && c != '?') {
            if (largest > MW_REGEX_MAX_REPEAT)
                return fail(err, cap, "%s: a repeat {n,m} above 255", "pattern");
            size_t grown = sat_mul(last[d], c == '+' ? 2 : copies);
            acc[d] = acc[d] - last[d] + grown;
            last[d] = grown;
            i += c == '+' ? 1 : bound_len;
        } else if (c == '*' || c == '?' || c == '|' || c == '^' || c == '$') {
            acc[d] += 1;
            i++;
        } else {
            if (c == '\\' && pattern[i + 1] >= '1' && pattern[i + 1] <= '9')
                return fail(err, cap,
                            "%s: back-references (\\1 ...) are not allowed: "
                            "matching them can take exponential time",
                            "pattern");
            size_t n = c == '[' ? bracket_len(pattern + i) : c == '\\' && i + 1 < len ? 2 : 1;
            acc[d] += 1;
            last[d] = 1;
            i += n;
        }
        if (acc[d] > MW_REGEX_MAX_SIZE)
            return fail(err, cap,
                        "%s: too large once its repeats are unrolled (at most 512 atoms: "
                        "use fewer or smaller {n,m})",
                        "pattern");
    }
    return 0;
}

int mw_regcomp_bounded(regex_t *re, const char *pattern, int flags, char *err, size_t cap)
{
    int rc = mw_regex_check(pattern, err, cap);
    if (rc < 0)
        return rc;
    int e = regcomp(re, pattern, flags);
    if (e != 0) {
        if (err && cap) {
            char msg[128];
            regerror(e, re, msg, sizeof(msg));
            snprintf(err, cap, "%s", msg);
        }
        return -EINVAL;
    }
    return 0;
}
