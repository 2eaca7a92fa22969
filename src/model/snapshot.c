#include "model/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else /* musl-gcc has no kernel headers: the uapi struct of Linux 5.6 */
struct open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT       0x10
#endif
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "model/daemonstate.h"
#include "proc/cgunit.h"
#include "proc/procs.h"

const char *const mw_snapshot_system_files[] = {
    "proc/meminfo",
    "proc/vmstat",
    "proc/zoneinfo",
    "proc/buddyinfo",
    "proc/pressure/memory",
    "proc/pressure/io",
    "proc/pressure/cpu",
    "proc/swaps",
    "proc/mounts",
    "proc/slabinfo",
    "proc/sysvipc/shm",
    "proc/loadavg",
    "proc/uptime",
    "proc/stat",
    "proc/sys/kernel/osrelease", /* the kernel's release: caps that changed (min_free_kbytes) */
    "proc/sys/vm/swappiness",
    "proc/sys/vm/min_free_kbytes",
    "proc/sys/vm/watermark_scale_factor",
    "proc/sys/vm/watermark_boost_factor",
    "proc/sys/vm/vfs_cache_pressure",
    "proc/sys/vm/overcommit_memory",
    "proc/sys/vm/overcommit_ratio",
    "proc/sys/vm/page-cluster",
    "proc/sys/vm/dirty_ratio",
    "proc/sys/vm/dirty_background_ratio",
    "proc/sys/vm/extra_free_kbytes",
    "proc/sys/vm/panic_on_oom",
    "proc/sys/vm/oom_kill_allocating_task",
    "proc/sys/vm/dirty_bytes",
    "proc/sys/vm/dirty_background_bytes",
    "sys/kernel/mm/transparent_hugepage/enabled",
    "sys/kernel/mm/transparent_hugepage/defrag",
    "sys/kernel/mm/lru_gen/enabled",
    "sys/kernel/mm/lru_gen/min_ttl_ms",
    "etc/passwd",
    MW_DAEMON_STATE_FILE + 1, /* relative to the root: no leading "/" */
    NULL,
};

static const char *const zram_files[] = {"disksize", "comp_algorithm", "mm_stat",   "io_stat",
                                         "bd_stat",  "backing_dev",    "mem_limit", NULL};
static const char *const proc_files[] = {"stat",      "status",       "statm",
                                         "cmdline",   "smaps_rollup", "oom_score_adj",
                                         "oom_score", "cgroup",       NULL};
static const char *const cgroup_files[] = {"memory.current",
                                           "memory.max",
                                           "memory.high",
                                           "memory.low",
                                           "memory.min",
                                           "memory.swap.current",
                                           "memory.swap.max",
                                           "memory.stat",
                                           "memory.events",
                                           "memory.pressure",
                                           "memory.usage_in_bytes",
                                           "memory.limit_in_bytes",
                                           "memory.memsw.usage_in_bytes",
                                           "memory.memsw.limit_in_bytes",
                                           "memory.failcnt",
                                           "memory.memsw.failcnt",
                                           "memory.oom_control",
                                           "cgroup.procs",
                                           NULL};

/* Every file is created with O_CREAT | O_EXCL | O_NOFOLLOW and every
 * directory opened with O_NOFOLLOW, each relative to the directory above
 * it, so a symlink planted in the output tree (a racer swapping DIR/proc)
 * makes the snapshot fail instead of writing elsewhere. */
#define SNAP_DIR_MODE  0755
#define SNAP_PROC_MODE 0600 /* per-process files: other users' command lines, maps */
#define SNAP_FILE_MAX  (64u << 20)

/* Opens the subdirectory NAME of DFD, creating it when missing, never
 * through a symlink. Returns the descriptor or -errno. */
static int subdir_at(int dfd, const char *name)
{
    if (mkdirat(dfd, name, SNAP_DIR_MODE) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* True when PATH (relative) has no empty, "." or ".." component. */
static bool plain_path(const char *path)
{
    const char *p = path;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

/* Creates the file at the relative PATH under DIR_FD (its directories
 * too) with MODE and writes BUF into it. Fails with -EEXIST when the file
 * is there, -ELOOP/-ENOTDIR when a component is a symlink. */
static int write_all(int dir_fd, const char *path, const char *buf, size_t len, mode_t mode)
{
    if (!plain_path(path))
        return -EINVAL;
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int rc = 0, dfd = dir_fd, fd = -1;
    char *name = p;
    for (char *s; (s = strchr(name, '/')) != NULL; name = s + 1) {
        *s = '\0';
        int sub = subdir_at(dfd, name);
        if (dfd != dir_fd)
            close(dfd);
        dfd = sub;
        if (sub < 0) {
            rc = sub;
            goto out;
        }
    }
    fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
out:
    if (dfd >= 0 && dfd != dir_fd)
        close(dfd);
    free(p);
    return rc;
}

/* Opens the relative PATH under DFD following no symlink in any
 * component: the fallback of open_source before openat2 (Linux 5.6).
 * Returns the descriptor or -errno. */
static int open_nofollow_path(int dfd, const char *path, int flags)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int cur = -1, rc;
    char *name = p;
    for (char *s; (s = strchr(name, '/')) != NULL; name = s + 1) {
        *s = '\0';
        int sub = openat(cur < 0 ? dfd : cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            rc = -errno;
            goto out;
        }
        if (cur >= 0)
            close(cur);
        cur = sub;
    }
    rc = openat(cur < 0 ? dfd : cur, name, flags | O_NOFOLLOW);
    if (rc < 0)
        rc = -errno;
out:
    if (cur >= 0)
        close(cur);
    free(p);
    return rc;
}

/* Opens PATH under SRC for reading. On the live "/" it is an ordinary
 * open; in a captured tree (which anybody may have built) symlinks stay
 * inside the tree: openat2's RESOLVE_IN_ROOT treats "/" and ".." as the
 * tree's root, and a kernel without openat2 follows no symlink at all.
 * Only regular files are read (a FIFO would hang us). Returns the
 * descriptor or -errno. */
static int open_source(const struct mw_root *src, bool live, const char *path)
{
    const char *rel = mw_rel(path);
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, fd;
    if (live) {
        fd = openat(src->fd, rel, flags);
        if (fd < 0)
            return -errno;
    } else {
        struct open_how how = {.flags = (uint64_t)(unsigned)flags,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        fd = (int)syscall(SYS_openat2, src->fd, rel, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS)
            fd = open_nofollow_path(src->fd, rel, flags);
        else if (fd < 0)
            fd = -errno;
        if (fd < 0)
            return fd;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

/* The mode of a copy: per-process files (another user's command line,
 * environment-bearing smaps) only for the owner of the capture; others
 * keep their source's read bits (slabinfo stays 0400). */
static mode_t copy_mode(const char *path, mode_t src_mode)
{
    const char *rel = mw_rel(path);
    if (strncmp(rel, "proc/", 5) == 0 && rel[5] >= '0' && rel[5] <= '9')
        return SNAP_PROC_MODE;
    return (src_mode & 0444) | 0200;
}

/* Copies one file. Returns 1 copied, 0 skipped (unreadable), -errno when
 * writing failed. */
static int copy_one(const struct mw_root *src, bool live, int dir_fd, const char *path,
                    struct mw_snapshot_result *res)
{
    int fd = open_source(src, live, path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        res->skipped++;
        return 0;
    }
    char *buf = NULL;
    size_t cap = 0;
    bool cut = false;
    long n = mw_read_fd(fd, &buf, &cap, SNAP_FILE_MAX, false, &cut);
    close(fd);
    if (n < 0 || cut) {
        free(buf);
        res->skipped++;
        return 0;
    }
    int rc =
        write_all(dir_fd, mw_rel(path), buf ? buf : "", (size_t)n, copy_mode(path, st.st_mode));
    free(buf);
    if (rc < 0)
        return rc;
    res->files++;
    return 1;
}

static int copy_zram(const struct mw_root *src, bool live, int dir_fd,
                     struct mw_snapshot_result *res)
{
    DIR *d;
    if (mw_opendir_at(src->fd, "sys/block", 0, &d) < 0)
        return 0;
    int rc = 0;
    struct dirent *de;
    while (rc >= 0 && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "zram", 4) != 0)
            continue;
        for (int i = 0; zram_files[i] && rc >= 0; i++) {
            char path[300];
            snprintf(path, sizeof(path), "sys/block/%s/%s", de->d_name, zram_files[i]);
            rc = copy_one(src, live, dir_fd, path, res);
        }
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

static int copy_processes(const struct mw_root *src, bool live, int dir_fd, bool smaps,
                          struct mw_snapshot_result *res)
{
    struct mw_pid_iter it;
    if (mw_pid_iter_open(&it, src) < 0)
        return 0;
    int rc = 0, pid;
    while (rc >= 0 && mw_pid_iter_next(&it, &pid) == 1) {
        char path[64];
        /* A process that exits while we copy loses its stat first or last;
         * keep it only when stat was read. */
        snprintf(path, sizeof(path), "proc/%d/stat", pid);
        rc = copy_one(src, live, dir_fd, path, res);
        if (rc <= 0)
            continue;
        res->processes++;
        for (int i = 1; proc_files[i] && rc >= 0; i++) {
            snprintf(path, sizeof(path), "proc/%d/%s", pid, proc_files[i]);
            rc = copy_one(src, live, dir_fd, path, res);
        }
        if (smaps && rc >= 0) {
            snprintf(path, sizeof(path), "proc/%d/smaps", pid);
            rc = copy_one(src, live, dir_fd, path, res);
        }
    }
    mw_pid_iter_close(&it);
    return rc < 0 ? rc : 0;
}

static int copy_scope(const struct mw_root *src, bool live, int dir_fd, const char *scope,
                      struct mw_snapshot_result *res)
{
    size_t n = strlen(scope);
    int rc = 0;
    for (int i = 0; cgroup_files[i] && rc >= 0; i++) {
        size_t m = strlen(cgroup_files[i]);
        char *path = malloc(n + m + 2);
        if (!path)
            return -ENOMEM;
        snprintf(path, n + m + 2, "%s/%s", scope, cgroup_files[i]);
        rc = copy_one(src, live, dir_fd, path, res);
        free(path);
    }
    return rc < 0 ? rc : 0;
}

/* One cgroup of the cgroup2 tree at MNT + PATH (DFD its directory): its
 * members and memory, and the ManagedOOMPreference= mark memwarden would
 * honour there as a file named after the attribute (a capture keeps no
 * extended attributes: proc/cgunit.h). */
static int copy_cgroup(const struct mw_root *src, bool live, int dir_fd, int v2_fd, const char *mnt,
                       const char *path, struct mw_snapshot_result *res)
{
    static const char *const files[] = {"cgroup.procs", "memory.current"};
    char p[4096 + 64];
    int rc = 0;
    for (size_t i = 0; i < MW_ARRAY_SIZE(files) && rc >= 0; i++) {
        snprintf(p, sizeof(p), "%s%s/%s", mnt, path, files[i]);
        if (faccessat(dir_fd, mw_rel(p), F_OK, AT_SYMLINK_NOFOLLOW) != 0) /* not --scope's */
            rc = copy_one(src, live, dir_fd, p, res);
    }
    enum mw_oom_pref pref;
    if (rc < 0 || !path[0] || mw_cgunit_pref_read(v2_fd, path, &pref) < 0 ||
        pref == MW_OOM_PREF_NONE)
        return rc < 0 ? rc : 0;
    snprintf(p, sizeof(p), "%s%s/%s", mnt, path,
             pref == MW_OOM_PREF_OMIT ? MW_XATTR_OOMD_OMIT : MW_XATTR_OOMD_AVOID);
    rc = write_all(dir_fd, mw_rel(p), "1", 1, 0644);
    if (rc >= 0)
        res->files++;
    return rc;
}

/* The cgroup2 tree below PATH (DFD its directory), at most
 * SNAP_CG_DEPTH deep and SNAP_CG_MAX cgroups in all (*LEFT counts down). */
#define SNAP_CG_DEPTH 10
#define SNAP_CG_MAX   4096
static int copy_cg_tree(const struct mw_root *src, bool live, int dir_fd, int v2_fd,
                        const char *mnt, char *path, size_t len, int dfd, int depth, int *left,
                        struct mw_snapshot_result *res)
{
    int rc = copy_cgroup(src, live, dir_fd, v2_fd, mnt, path, res);
    DIR *d;
    if (rc < 0 || depth >= SNAP_CG_DEPTH || mw_opendir_at(dfd, ".", O_NOFOLLOW, &d) < 0)
        return rc;
    struct dirent *de;
    while (rc >= 0 && *left > 0 && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + 1 + n >= 4096)
            continue;
        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        (*left)--;
        path[len] = '/';
        memcpy(path + len + 1, de->d_name, n + 1);
        rc = copy_cg_tree(src, live, dir_fd, v2_fd, mnt, path, len + 1 + n, sub, depth + 1, left,
                          res);
        path[len] = '\0';
        close(sub);
    }
    closedir(d);
    return rc;
}

/* What the daemon's unit rules and status's units read beside the
 * processes: the cgroup2 tree (cgroup.controllers at its top, then each
 * cgroup, copy_cgroup) and logind's session records (their leaders). */
static int copy_units(const struct mw_root *src, bool live, int dir_fd,
                      struct mw_snapshot_result *res)
{
    char mnt[256], path[4096] = "", p[300];
    if (mw_cgunit_v2_path(src, mnt, sizeof(mnt)) < 0)
        return 0;
    int v2_fd = openat(src->fd, mw_rel(mnt), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (v2_fd < 0)
        return 0;
    snprintf(p, sizeof(p), "%s/cgroup.controllers", mnt);
    int left = SNAP_CG_MAX;
    int rc = copy_one(src, live, dir_fd, p, res);
    if (rc >= 0)
        rc = copy_cg_tree(src, live, dir_fd, v2_fd, mnt, path, 0, v2_fd, 0, &left, res);
    close(v2_fd);
    DIR *d;
    if (rc < 0 || mw_opendir_at(src->fd, "run/systemd/sessions", 0, &d) < 0)
        return rc < 0 ? rc : 0;
    struct dirent *de;
    while (rc >= 0 && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_REG || de->d_name[0] == '.' || strlen(de->d_name) > 64)
            continue;
        snprintf(p, sizeof(p), "run/systemd/sessions/%s", de->d_name);
        rc = copy_one(src, live, dir_fd, p, res);
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

static int write_meta(const struct mw_root *src, int dir_fd, const struct mw_snapshot_result *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -errno;
    struct utsname u;
    bool live = mw_root_is_live(src);
    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    struct mw_json j;
    mw_json_init(&j, f, true);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "version", 1);
    mw_json_u64(&j, "time", (uint64_t)time(NULL));
    mw_json_str(&j, "hostname", live ? u.nodename : "");
    mw_json_str(&j, "kernel", live ? u.release : "");
    mw_json_str(&j, "machine", live ? u.machine : "");
    mw_json_u64(&j, "page_size", src->page_size);
    mw_json_u64(&j, "files", res->files);
    mw_json_u64(&j, "processes", res->processes);
    mw_json_u64(&j, "skipped", res->skipped);
    mw_json_object_end(&j);
    mw_json_finish(&j);
    if (fclose(f) != 0) {
        free(buf);
        return -EIO;
    }
    int rc = write_all(dir_fd, "memwarden-snapshot.json", buf, len, 0644);
    free(buf);
    return rc;
}

bool mw_snapshot_scope_ok(const char *scope)
{
    const char *rel = mw_rel(scope);
    size_t n = strlen(rel);
    while (n > 0 && rel[n - 1] == '/')
        n--;
    if (n == 0 || n >= 4096)
        return false;
    char path[4096];
    memcpy(path, rel, n);
    path[n] = '\0';
    return plain_path(path);
}

int mw_snapshot_take(const struct mw_root *src, int dir_fd, const struct mw_snapshot_opts *opts,
                     struct mw_snapshot_result *out)
{
    if (opts->scope && !mw_snapshot_scope_ok(opts->scope))
        return -EINVAL;
    struct mw_snapshot_result res = {0};
    bool live = mw_root_is_live(src);
    int rc = 0;
    for (int i = 0; mw_snapshot_system_files[i] && rc >= 0; i++)
        rc = copy_one(src, live, dir_fd, mw_snapshot_system_files[i], &res);
    if (rc >= 0)
        rc = copy_zram(src, live, dir_fd, &res);
    if (rc >= 0 && opts->processes)
        rc = copy_processes(src, live, dir_fd, opts->smaps, &res);
    if (rc >= 0 && opts->scope)
        rc = copy_scope(src, live, dir_fd, opts->scope, &res);
    if (rc >= 0 && opts->processes)
        rc = copy_units(src, live, dir_fd, &res);
    if (rc >= 0)
        rc = write_meta(src, dir_fd, &res);
    if (rc < 0)
        return rc;
    *out = res;
    return 0;
}

/*
 * memwarden-snapshot.json, as write_meta writes it:
 *   {
 *     "version": 1,
 *     "time": 1795314052,
 *     "hostname": "vm",
 *     ...
 *     "page_size": 4096,
 */
int mw_snapshot_meta_parse_buf(struct mw_snapshot_meta *out, const char *buf)
{
    struct mw_snapshot_meta m;
    struct mw_json_val obj, v;
    uint64_t u;
    memset(&m, 0, sizeof(m));
    if (mw_json_parse(buf, strlen(buf), &obj) == 0 && obj.type == MW_JSON_OBJECT) {
        if (mw_json_find(&obj, "time", &v) == 0 && mw_json_get_double(&v, &m.time) == 0 &&
            !(m.time >= 0))
            m.time = 0;
        if (mw_json_find(&obj, "hostname", &v) == 0 &&
            mw_json_get_str(&v, m.hostname, sizeof(m.hostname)) >= (long)sizeof(m.hostname))
            m.hostname[0] = '\0'; /* cut: not the name */
        if (mw_json_find(&obj, "page_size", &v) == 0 && mw_json_get_u64(&v, &u) == 0 && u >= 4096 &&
            u <= 65536)
            m.page_size = u;
    }
    *out = m;
    return 0;
}

int mw_snapshot_meta_read(const struct mw_root *root, struct mw_snapshot_meta *out)
{
    char *buf;
    int rc = mw_read_file(root, "/memwarden-snapshot.json", &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_snapshot_meta_parse_buf(out, buf);
    free(buf);
    return rc;
}

void mw_snapshot_root_page_size(struct mw_root *root)
{
    struct mw_snapshot_meta meta;
    if (!mw_root_is_live(root) && mw_snapshot_meta_read(root, &meta) == 0 && meta.page_size)
        root->page_size = meta.page_size;
}
