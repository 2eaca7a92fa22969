#include "model/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
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
    "proc/slabinfo",
    "proc/sysvipc/shm",
    "proc/loadavg",
    "proc/uptime",
    "proc/stat",
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
    "sys/kernel/mm/transparent_hugepage/enabled",
    "etc/passwd",
    "run/memwarden/state.json",
    NULL,
};

static const char *const zram_files[] = {"disksize", "comp_algorithm", "mm_stat",
                                         "io_stat",  "bd_stat",        NULL};
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
                                           "memory.oom_control",
                                           "cgroup.procs",
                                           NULL};

/* Creates every directory of the relative PATH's parent under DIR_FD. */
static int make_parents(int dir_fd, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int rc = 0;
    for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(dir_fd, p, 0755) < 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *s = '/';
    }
    free(p);
    return rc;
}

static int write_all(int dir_fd, const char *path, const char *buf, size_t len)
{
    int rc = make_parents(dir_fd, path);
    if (rc < 0)
        return rc;
    int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
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
    return rc;
}

/* Copies one file. Returns 1 copied, 0 skipped (unreadable), -errno when
 * writing failed. */
static int copy_one(const struct mw_root *src, int dir_fd, const char *path,
                    struct mw_snapshot_result *res)
{
    char *buf;
    size_t len;
    if (mw_read_file(src, path, &buf, &len) < 0) {
        res->skipped++;
        return 0;
    }
    int rc = write_all(dir_fd, mw_rel(path), buf, len);
    free(buf);
    if (rc < 0)
        return rc;
    res->files++;
    return 1;
}

static int copy_zram(const struct mw_root *src, int dir_fd, struct mw_snapshot_result *res)
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
            rc = copy_one(src, dir_fd, path, res);
        }
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

static int copy_processes(const struct mw_root *src, int dir_fd, bool smaps,
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
        rc = copy_one(src, dir_fd, path, res);
        if (rc <= 0)
            continue;
        res->processes++;
        for (int i = 1; proc_files[i] && rc >= 0; i++) {
            snprintf(path, sizeof(path), "proc/%d/%s", pid, proc_files[i]);
            rc = copy_one(src, dir_fd, path, res);
        }
        if (smaps && rc >= 0) {
            snprintf(path, sizeof(path), "proc/%d/smaps", pid);
            rc = copy_one(src, dir_fd, path, res);
        }
    }
    mw_pid_iter_close(&it);
    return rc < 0 ? rc : 0;
}

static int copy_scope(const struct mw_root *src, int dir_fd, const char *scope,
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
        rc = copy_one(src, dir_fd, path, res);
        free(path);
    }
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
    mw_json_u64(&j, "page_size", (uint64_t)sysconf(_SC_PAGESIZE));
    mw_json_u64(&j, "files", res->files);
    mw_json_u64(&j, "processes", res->processes);
    mw_json_u64(&j, "skipped", res->skipped);
    mw_json_object_end(&j);
    mw_json_finish(&j);
    if (fclose(f) != 0) {
        free(buf);
        return -EIO;
    }
    int rc = write_all(dir_fd, "memwarden-snapshot.json", buf, len);
    free(buf);
    return rc;
}

int mw_snapshot_take(const struct mw_root *src, int dir_fd, const struct mw_snapshot_opts *opts,
                     struct mw_snapshot_result *out)
{
    struct mw_snapshot_result res = {0};
    int rc = 0;
    for (int i = 0; mw_snapshot_system_files[i] && rc >= 0; i++)
        rc = copy_one(src, dir_fd, mw_snapshot_system_files[i], &res);
    if (rc >= 0)
        rc = copy_zram(src, dir_fd, &res);
    if (rc >= 0 && opts->processes)
        rc = copy_processes(src, dir_fd, opts->smaps, &res);
    if (rc >= 0 && opts->scope)
        rc = copy_scope(src, dir_fd, opts->scope, &res);
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
