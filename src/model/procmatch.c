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
           (s->unit[0] || s->cgroup[0] ? MW_MATCH_NEED_CGROUP : 0u);
}

bool mw_match_name_glob(const struct mw_match_spec *s, const char *cmdline, const char *comm)
{
    if (!s->name[0])
        return true;
    if (cmdline && *cmdline && fnmatch(s->name, cmdline, 0) == 0)
        return true;
    return comm && *comm && fnmatch(s->name, comm, 0) == 0;
}

/* True when CGROUP is the system unit UNIT's cgroup or one below it. */
static bool in_unit(const char *cgroup, const char *unit)
{
    static const char slice[] = "/system.slice/";
    if (strncmp(cgroup, slice, sizeof(slice) - 1) != 0)
        return false;
    const char *rest = cgroup + sizeof(slice) - 1;
    size_t n = strlen(unit);
    return strncmp(rest, unit, n) == 0 && (rest[n] == '\0' || rest[n] == '/');
}

bool mw_match_qualifiers(const struct mw_match_spec *s, const struct mw_match_facts *f)
{
    if (s->exe[0] && (!f->have_exe || fnmatch(s->exe, f->exe, FNM_PATHNAME) != 0))
        return false;
    if (s->have_uid && (!f->have_uid || f->ruid != s->uid || f->euid != s->uid))
        return false;
    if (s->unit[0] && (!f->have_cgroup || !in_unit(f->cgroup, s->unit)))
        return false;
    if (s->cgroup[0] && (!f->have_cgroup || fnmatch(s->cgroup, f->cgroup, FNM_PATHNAME) != 0))
        return false;
    return true;
}

/* Reads PROC_FD/PID/NAME into BUF (CAP bytes, NUL-terminated). */
static long read_pid_file(int proc_fd, int pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "%d/%s", pid, name);
    int fd = openat(proc_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long n = mw_pread_all(fd, buf, cap);
    close(fd);
    return n;
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
        if (read_pid_file(proc_fd, pid, "status", buf, sizeof(buf)) >= 0 &&
            mw_proc_status_parse_buf(&st, buf) == 0) {
            f->ruid = st.uid;
            f->euid = st.euid;
            f->have_uid = true;
        }
    }
    if (need & MW_MATCH_NEED_CGROUP) {
        if (read_pid_file(proc_fd, pid, "cgroup", buf, sizeof(buf)) >= 0 &&
            mw_proc_cgroup_parse_buf(buf, false, f->cgroup, sizeof(f->cgroup)) == 0)
            f->have_cgroup = true;
    }
    return 0;
}
