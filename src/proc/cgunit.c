#include "proc/cgunit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "proc/cgcreate.h"

/* The unit types that have a cgroup of their own, as suffixes. */
static const struct {
    const char *suffix;
    enum mw_unit_type type;
} unit_types[] = {
    {".service", MW_UNIT_SERVICE}, {".scope", MW_UNIT_SCOPE}, {".socket", MW_UNIT_OTHER},
    {".mount", MW_UNIT_OTHER},     {".swap", MW_UNIT_OTHER},
};

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n > m && memcmp(s + n - m, suffix, m) == 0;
}

/* The type of the unit name S (N bytes), MW_UNIT_NONE when it is none:
 * systemd's unit names hold only [0-9A-Za-z:_.\\@-] (VALID_CHARS and '@',
 * src/basic/unit-name.c). */
static enum mw_unit_type unit_type(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr(":_.\\@-", c)))
            return MW_UNIT_NONE;
    }
    for (size_t i = 0; i < MW_ARRAY_SIZE(unit_types); i++)
        if (ends_with(s, n, unit_types[i].suffix))
            return unit_types[i].type;
    return MW_UNIT_NONE;
}

/* "PREFIX-NUMBER.SUFFIX" or "PREFIX@NUMBER.SUFFIX" (user-1000.slice,
 * user@1000.service): the number into *UID. */
static bool uid_of(const char *name, const char *prefix, const char *suffix, uid_t *uid)
{
    size_t p = strlen(prefix), n = strlen(name);
    if (strncmp(name, prefix, p) != 0 || !ends_with(name, n, suffix))
        return false;
    size_t digits = n - p - strlen(suffix);
    if (digits == 0 || digits > 10)
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) {
        char c = name[p + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned long long)(c - '0');
    }
    if (v > 0xfffffffeULL)
        return false;
    *uid = (uid_t)v;
    return true;
}

/* The next component of *P into NAME (systemd's escape, a leading '_',
 * removed): false at the end, or when it does not fit. *P moves past it. */
static bool next_component(const char **p, char *name, size_t cap)
{
    const char *s = *p;
    while (*s == '/')
        s++;
    size_t n = strcspn(s, "/");
    if (n == 0)
        return false;
    const char *c = s;
    size_t m = n;
    if (c[0] == '_') { /* cg_escape: "_cpu.service" was "cpu.service" */
        c++;
        m--;
    }
    if (m == 0 || m >= cap)
        return false;
    memcpy(name, c, m);
    name[m] = '\0';
    *p = s + n;
    return true;
}

int mw_cgunit_parse(const char *path, struct mw_cgunit *out)
{
    if (path[0] != '/')
        return -EINVAL;
    struct mw_cgunit u;
    memset(&u, 0, sizeof(u));
    char slice[MW_CGUNIT_NAME] = "-.slice", name[MW_CGUNIT_NAME];
    const char *p = path;
    bool in_manager = false; /* past user@UID.service: the user manager's tree */
    while (next_component(&p, name, sizeof(name))) {
        size_t n = strlen(name);
        uid_t uid;
        if (ends_with(name, n, ".slice")) {
            if (!in_manager && uid_of(name, "user-", ".slice", &uid)) {
                u.uid = uid;
                u.have_uid = true;
            }
            snprintf(slice, sizeof(slice), "%s", name);
            continue;
        }
        enum mw_unit_type t = unit_type(name, n);
        if (t == MW_UNIT_NONE)
            break; /* below the unit: its own subgroups, or not systemd's at all */
        u.type = t;
        u.unit_len = (size_t)(p - path);
        snprintf(u.slice, sizeof(u.slice), "%s", slice);
        if (in_manager) {
            snprintf(u.user_unit, sizeof(u.user_unit), "%s", name);
            break;
        }
        snprintf(u.unit, sizeof(u.unit), "%s", name);
        if (!uid_of(name, "user@", ".service", &uid))
            break;
        u.uid = uid;
        u.have_uid = true;
        in_manager = true;
        snprintf(slice, sizeof(slice), "-.slice"); /* the user manager's own top */
    }
    *out = u;
    return 0;
}

const char *mw_cgunit_name(const struct mw_cgunit *u)
{
    return u->user_unit[0] ? u->user_unit : u->unit;
}

void mw_cgunit_label(const struct mw_cgunit *u, char *buf, size_t cap)
{
    if (u->user_unit[0])
        snprintf(buf, cap, "%s/%s", u->unit, u->user_unit);
    else
        snprintf(buf, cap, "%s", u->unit);
}

int mw_cgunit_path_parse_buf(const char *buf, char *out, size_t cap)
{
    char v2[4096];
    int rc = mw_proc_cgroup_ctrl_parse_buf(buf, NULL, v2, sizeof(v2));
    if (rc == 0 && strcmp(v2, "/") != 0) {
        if (strlen(v2) >= cap)
            return -ENAMETOOLONG;
        snprintf(out, cap, "%s", v2);
        return 0;
    }
    /* "/" on v2 may only mean that systemd keeps its tree in v1 */
    if (mw_proc_cgroup_ctrl_parse_buf(buf, "name=systemd", out, cap) == 0)
        return 0;
    if (rc < 0)
        return rc;
    if (strlen(v2) >= cap)
        return -ENAMETOOLONG;
    snprintf(out, cap, "%s", v2);
    return 0;
}

int mw_cgunit_v2_path(const struct mw_root *root, char *out, size_t cap)
{
    char *buf = NULL;
    struct mw_cg_mounts m;
    if (mw_read_file(root, "/proc/self/mounts", &buf, NULL) == 0) {
        int rc = mw_cg_mounts_parse_buf(buf, &m) == 0 && m.v2[0] ? 0 : -ENOENT;
        free(buf);
        if (rc == 0 && strlen(m.v2) >= cap)
            rc = -ENAMETOOLONG;
        if (rc == 0)
            snprintf(out, cap, "%s", m.v2);
        return rc;
    }
    static const char *const tries[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(tries); i++) {
        char probe[64];
        snprintf(probe, sizeof(probe), "%s/cgroup.controllers", tries[i] + 1);
        if (faccessat(root->fd, probe, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (strlen(tries[i]) >= cap)
            return -ENAMETOOLONG;
        snprintf(out, cap, "%s", tries[i]);
        return 0;
    }
    return -ENOENT;
}

int mw_cgunit_v2_open(const struct mw_root *root)
{
    char path[256];
    int rc = mw_cgunit_v2_path(root, path, sizeof(path));
    if (rc < 0)
        return rc;
    int fd = openat(root->fd, mw_rel(path), O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

bool mw_cgunit_systemd_booted(const struct mw_root *root)
{
    struct stat st;
    return fstatat(root->fd, "run/systemd/system", &st, 0) == 0 && S_ISDIR(st.st_mode);
}

bool mw_cgunit_path_plain(const char *path)
{
    if (path[0] != '/')
        return false;
    for (const char *p = path + 1; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

/* systemd's parse_boolean, the true half (what cg_get_xattr_bool takes). */
static bool xattr_true(const char *v, size_t n)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    for (size_t i = 0; i < MW_ARRAY_SIZE(yes); i++)
        if (strlen(yes[i]) == n && strncasecmp(v, yes[i], n) == 0)
            return true;
    return false;
}

/* Whether the cgroup directory DFD carries NAME set to true: the extended
 * attribute, else (a captured tree) a regular file of that name. */
static bool flag_set(int dfd, const char *name)
{
    char v[16];
    ssize_t n = fgetxattr(dfd, name, v, sizeof(v));
    if (n >= 0)
        return xattr_true(v, (size_t)n);
    if (errno == ERANGE)
        return false; /* longer than any boolean */
    long m = mw_read_small_at(dfd, name, v, sizeof(v));
    return m > 0 && xattr_true(v, (size_t)m);
}

int mw_cgunit_pref_read(int v2_fd, const char *path, enum mw_oom_pref *out)
{
    struct stat top, st;
    if (fstat(v2_fd, &top) < 0)
        return -errno;
    *out = MW_OOM_PREF_NONE;
    if (!mw_cgunit_path_plain(path) || strcmp(path, "/") == 0)
        return 0;
    int dfd = openat(v2_fd, path + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return 0; /* gone: no preference to honour */
    if (fstat(dfd, &st) == 0 && st.st_uid == top.st_uid) {
        if (flag_set(dfd, MW_XATTR_OOMD_OMIT))
            *out = MW_OOM_PREF_OMIT;
        else if (flag_set(dfd, MW_XATTR_OOMD_AVOID))
            *out = MW_OOM_PREF_AVOID;
    }
    close(dfd);
    return 0;
}

const char *mw_oom_pref_name(enum mw_oom_pref p)
{
    return p == MW_OOM_PREF_OMIT ? "omit" : p == MW_OOM_PREF_AVOID ? "avoid" : "none";
}

int mw_cgunit_session_id(const char *unit, char *id, size_t cap)
{
    static const char pre[] = "session-", suf[] = ".scope";
    size_t n = strlen(unit);
    if (strncmp(unit, pre, sizeof(pre) - 1) != 0 || !ends_with(unit, n, suf))
        return -EINVAL;
    size_t m = n - (sizeof(pre) - 1) - (sizeof(suf) - 1);
    if (m == 0 || m >= cap)
        return -EINVAL;
    for (size_t i = 0; i < m; i++) {
        char c = unit[sizeof(pre) - 1 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
            return -EINVAL; /* logind's ids: digits, "c" + digits */
    }
    memcpy(id, unit + sizeof(pre) - 1, m);
    id[m] = '\0';
    return 0;
}

int mw_session_leader_parse_buf(const char *buf, int *leader)
{
    const char *cur = buf, *line;
    size_t len;
    while (mw_next_line(&cur, &line, &len)) {
        if (len <= 7 || memcmp(line, "LEADER=", 7) != 0)
            continue;
        long v = 0;
        size_t i = 7;
        for (; i < len && line[i] >= '0' && line[i] <= '9' && v < 1L << 30; i++)
            v = v * 10 + (line[i] - '0');
        if (i != len || v <= 0 || v >= 1L << 30)
            return -ENODATA;
        *leader = (int)v;
        return 0;
    }
    return -ENODATA;
}

int mw_session_leader_read(int root_fd, const char *id, int *leader)
{
    char path[96], buf[1024];
    snprintf(path, sizeof(path), "run/systemd/sessions/%s", id);
    long n = mw_read_small_at(root_fd, path, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    return mw_session_leader_parse_buf(buf, leader);
}
