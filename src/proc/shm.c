#include "proc/shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "proc/procs.h"

static int scan_signed(const char **p, long long *v)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
    bool neg = **p == '-';
    if (neg)
        (*p)++;
    uint64_t u;
    int rc = mw_scan_u64(p, &u);
    if (rc < 0 || u > (uint64_t)INT64_MAX)
        return -EINVAL;
    *v = neg ? -(long long)u : (long long)u;
    return 0;
}

int mw_sysv_shm_parse_buf(struct mw_sysv_seg **out, size_t *n, unsigned *bad, const char *buf)
{
    const char *p = buf;
    while (*p == ' ')
        p++;
    if (strncmp(p, "key", 3) != 0)
        return -ENODATA;
    bool has_rss = strstr(buf, " rss") != NULL;
    struct mw_sysv_seg *v = NULL;
    size_t k = 0, cap = 0;
    unsigned nbad = 0;
    const char *cur = p;
    size_t len;
    mw_next_line(&cur, &p, &len); /* the header line */
    while (mw_next_line(&cur, &p, &len)) {
        const char *end = p + len;
        const char *q = p;
        while (q < end && *q == ' ')
            q++;
        if (q == end)
            continue;
        long long f[16];
        int nf = 0;
        const char *r = p;
        while (nf < 16 && r < end) {
            while (r < end && *r == ' ')
                r++;
            if (r >= end)
                break;
            if (scan_signed(&r, &f[nf]) < 0 || (r < end && *r != ' '))
                break;
            nf++;
        }
        /* key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime [rss swap] */
        if (nf < 14 || (nf < 16 && has_rss) || f[1] < 0 || f[3] < 0 || f[6] < 0 || f[4] < 0) {
            nbad++;
        } else {
            if (k == cap) {
                cap = cap ? cap * 2 : 16;
                struct mw_sysv_seg *x = realloc(v, cap * sizeof(*x));
                if (!x) {
                    free(v);
                    return -ENOMEM;
                }
                v = x;
            }
            struct mw_sysv_seg *s = &v[k++];
            memset(s, 0, sizeof(*s));
            s->key = (long)f[0];
            s->shmid = f[1] > INT32_MAX ? INT32_MAX : (int)f[1];
            s->perms = (unsigned)f[2];
            s->size_bytes = (uint64_t)f[3];
            s->cpid = f[4] > INT32_MAX ? 0 : (int)f[4];
            s->lpid = f[5] > INT32_MAX || f[5] < 0 ? 0 : (int)f[5];
            s->nattch = (uint64_t)f[6];
            s->uid = (uid_t)f[7];
            s->cuid = (uid_t)f[9];
            if (nf >= 16) {
                s->rss_bytes = (uint64_t)(f[14] < 0 ? 0 : f[14]);
                s->swap_bytes = (uint64_t)(f[15] < 0 ? 0 : f[15]);
                s->have_rss = true;
            }
        }
    }
    *out = v;
    *n = k;
    if (bad)
        *bad = nbad;
    return 0;
}

static bool pid_alive(const struct mw_root *root, int pid)
{
    if (pid <= 0)
        return false;
    char path[32];
    snprintf(path, sizeof(path), "proc/%d", pid);
    struct stat st;
    return fstatat(root->fd, path, &st, 0) == 0;
}

/* True when NAME can be held in a component buffer and acted on as one
 * path component. */
static bool component_ok(const char *name)
{
    size_t n = strnlen(name, NAME_MAX + 1);
    return n > 0 && n <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* Adds the regular file NAME (in subdirectory DIR, "" for dev/shm itself,
 * whose own identity is *DST when DIR is set). Returns 0, 1 (skipped: a
 * name that cannot be held) or -ENOMEM. */
static int add_file(struct mw_shm_report *r, size_t *cap, const char *dir, const struct stat *dst,
                    const char *name, const struct stat *st)
{
    if (!component_ok(name) || (dir[0] && !component_ok(dir))) {
        r->skipped_names++;
        return 1;
    }
    if (r->nfile == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct mw_shm_file *x = realloc(r->file, nc * sizeof(*x));
        if (!x)
            return -ENOMEM;
        r->file = x;
        *cap = nc;
    }
    struct mw_shm_file *f = &r->file[r->nfile];
    memset(f, 0, sizeof(*f));
    int n = dir[0] ? snprintf(f->path, sizeof(f->path), "/dev/shm/%s/%s", dir, name)
                   : snprintf(f->path, sizeof(f->path), "/dev/shm/%s", name);
    if (n < 0 || (size_t)n >= sizeof(f->path)) { /* cannot happen with NAME_MAX names */
        r->skipped_names++;
        return 1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s", dir);
    snprintf(f->name, sizeof(f->name), "%s", name);
    if (dir[0]) {
        f->dir_dev = dst->st_dev;
        f->dir_ino = dst->st_ino;
    }
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size_bytes = (uint64_t)st->st_size;
    f->alloc_bytes = (uint64_t)st->st_blocks * 512;
    f->uid = st->st_uid;
    r->nfile++;
    return 0;
}

/* Lists the regular files of the subdirectory NAME of DFD (opened without
 * following a symlink; must be the directory *DST that was looked at). */
static int walk_subdir(struct mw_shm_report *r, size_t *cap, int dfd, const char *name,
                       const struct stat *dst)
{
    DIR *sd;
    if (mw_opendir_at(dfd, name, O_NOFOLLOW, &sd) < 0)
        return 0;
    int sfd = dirfd(sd);
    struct stat now;
    int rc = 0;
    if (fstat(sfd, &now) != 0 || now.st_dev != dst->st_dev || now.st_ino != dst->st_ino) {
        closedir(sd); /* swapped since the fstatat: not the directory looked at */
        return 0;
    }
    struct dirent *se;
    while (rc >= 0 && (se = readdir(sd))) {
        struct stat sst;
        if (se->d_name[0] == '.' || fstatat(sfd, se->d_name, &sst, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(sst.st_mode))
            continue;
        rc = add_file(r, cap, name, &now, se->d_name, &sst);
    }
    closedir(sd);
    return rc < 0 ? rc : 0;
}

/* Lists regular files of /dev/shm and of its direct subdirectories; keeps
 * a descriptor of dev/shm in R for removal. */
static int walk_devshm(const struct mw_root *root, struct mw_shm_report *r)
{
    DIR *d;
    if (mw_opendir_at(root->fd, "dev/shm", 0, &d) < 0)
        return 0;
    int dfd = dirfd(d);
    r->devshm_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
    if (r->devshm_fd < 0) {
        closedir(d);
        return -errno;
    }
    r->have_devshm = true;
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc >= 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(st.st_mode))
            rc = add_file(r, &cap, "", NULL, de->d_name, &st);
        else if (S_ISDIR(st.st_mode) && component_ok(de->d_name))
            rc = walk_subdir(r, &cap, dfd, de->d_name, &st);
        else if (S_ISDIR(st.st_mode))
            r->skipped_names++;
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

/* A holder as seen in one process: by name (a fd link's target or a
 * mapping's path, exactly) or, on the live root, by device and inode. */
struct holder_seen {
    const char *name; /* NULL when only the identity is known */
    bool have_id;
    dev_t dev;
    ino_t ino;
};

static void mark_seen(const struct mw_shm_report *r, unsigned *seen, const struct holder_seen *h)
{
    for (size_t i = 0; i < r->nfile; i++) {
        const struct mw_shm_file *f = &r->file[i];
        if ((h->name && strcmp(h->name, f->path) == 0) ||
            (h->have_id && h->dev == f->dev && h->ino == f->ino))
            seen[i] = 1;
    }
}

/* Marks the files PID holds open (its fd links). Returns 0, or -errno when
 * its fds could not be read for a reason other than the process being gone. */
static int seen_in_fds(const struct mw_root *root, bool live, int pid,
                       const struct mw_shm_report *r, unsigned *seen)
{
    char path[64];
    snprintf(path, sizeof(path), "proc/%d/fd", pid);
    DIR *d;
    int rc = mw_opendir_at(root->fd, path, 0, &d);
    if (rc < 0)
        return rc == -ENOENT || rc == -ESRCH ? 0 : rc;
    int fdd = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char tgt[MW_SHM_PATH_CAP + 16];
        struct holder_seen h = {0};
        ssize_t n = readlinkat(fdd, de->d_name, tgt, sizeof(tgt) - 1);
        if (n < 0 && (errno == EACCES || errno == EPERM))
            rc = -errno; /* listed but not readable: a holder may hide here */
        if (n > 0) {
            tgt[n] = '\0';
            h.name = tgt;
        }
        struct stat st;
        if (live && fstatat(fdd, de->d_name, &st, 0) == 0) { /* follows the magic link */
            h.have_id = true;
            h.dev = st.st_dev;
            h.ino = st.st_ino;
        }
        mark_seen(r, seen, &h);
    }
    closedir(d);
    return rc;
}

/* Marks the files PID maps: each /proc/PID/maps line
 *   7f0000000000-7f0000001000 rw-s 00000000 00:1a 42    /dev/shm/mapped
 * names the device (hex major:minor), the inode and the path. Returns 0 or
 * -errno as seen_in_fds. */
static int seen_in_maps(const struct mw_root *root, int pid, const struct mw_shm_report *r,
                        unsigned *seen)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    char *maps = NULL;
    int rc = mw_read_file(root, path, &maps, NULL);
    if (rc < 0)
        return rc == -ENOENT || rc == -ESRCH ? 0 : rc;
    const char *cur = maps, *line;
    size_t len;
    while (mw_next_line(&cur, &line, &len)) {
        char buf[MW_SHM_PATH_CAP + 128];
        if (len >= sizeof(buf))
            continue; /* longer than any path of ours */
        memcpy(buf, line, len);
        buf[len] = '\0';
        unsigned maj, min;
        unsigned long long ino;
        int off = 0;
        if (sscanf(buf, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) < 3 || off == 0)
            continue;
        struct holder_seen h = {.name = buf[off] ? buf + off : NULL};
        if (ino) {
            h.have_id = true;
            h.dev = makedev(maj, min);
            h.ino = (ino_t)ino;
        }
        mark_seen(r, seen, &h);
    }
    free(maps);
    return 0;
}

/* Marks which /dev/shm files some process holds open or mapped, and
 * counts the processes that could not be inspected. */
static void find_users(const struct mw_root *root, struct mw_shm_report *r)
{
    if (!r->nfile)
        return;
    struct mw_pid_iter it;
    if (mw_pid_iter_open(&it, root) < 0) {
        r->unreadable_procs++; /* no process list: nobody can be ruled out */
        return;
    }
    bool live = mw_root_is_live(root);
    int pid;
    unsigned *seen = calloc(r->nfile, sizeof(*seen));
    if (!seen) {
        r->unreadable_procs++;
        mw_pid_iter_close(&it);
        return;
    }
    while (mw_pid_iter_next(&it, &pid) == 1) {
        memset(seen, 0, r->nfile * sizeof(*seen));
        int a = seen_in_fds(root, live, pid, r, seen);
        int b = seen_in_maps(root, pid, r, seen);
        if ((a < 0 || b < 0) && r->unreadable_procs++ == 0)
            r->unreadable_pid = pid;
        for (size_t i = 0; i < r->nfile; i++)
            r->file[i].users += seen[i];
    }
    free(seen);
    mw_pid_iter_close(&it);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct mw_shm_file *)a)->path, ((const struct mw_shm_file *)b)->path);
}

int mw_shm_scan(const struct mw_root *root, struct mw_shm_report *out)
{
    struct mw_shm_report r;
    memset(&r, 0, sizeof(r));
    r.devshm_fd = -1;
    char *buf = NULL;
    if (mw_read_file(root, "/proc/sysvipc/shm", &buf, NULL) == 0) {
        int rc = mw_sysv_shm_parse_buf(&r.seg, &r.nseg, &r.bad_lines, buf);
        free(buf);
        if (rc == -ENOMEM)
            return rc;
        r.have_sysv = rc == 0;
    }
    r.sysv_rss_known = true;
    for (size_t i = 0; i < r.nseg; i++) {
        struct mw_sysv_seg *s = &r.seg[i];
        s->creator_alive = pid_alive(root, s->cpid);
        s->orphan = s->nattch == 0 && !s->creator_alive;
        uint64_t b = s->have_rss ? s->rss_bytes + s->swap_bytes : s->size_bytes;
        r.sysv_bytes += b;
        r.sysv_size_bytes += s->size_bytes;
        r.sysv_rss_bytes += s->rss_bytes;
        r.sysv_swap_bytes += s->swap_bytes;
        r.sysv_rss_known = r.sysv_rss_known && s->have_rss;
        if (s->orphan) {
            r.sysv_orphans++;
            r.sysv_orphan_bytes += b;
            r.sysv_orphan_size_bytes += s->size_bytes;
            r.sysv_orphan_rss_bytes += s->rss_bytes;
            r.sysv_orphan_swap_bytes += s->swap_bytes;
        }
    }
    int wrc = walk_devshm(root, &r);
    if (wrc < 0) {
        mw_shm_report_free(&r);
        return wrc;
    }
    if (r.nfile > 1)
        qsort(r.file, r.nfile, sizeof(*r.file), cmp_file);
    find_users(root, &r);
    for (size_t i = 0; i < r.nfile; i++) {
        r.devshm_bytes += r.file[i].alloc_bytes;
        r.file[i].holders_known = r.unreadable_procs == 0;
        r.file[i].orphan = r.file[i].users == 0 && r.file[i].holders_known;
        if (r.file[i].users == 0 && !r.file[i].holders_known)
            r.devshm_unknown++;
        if (r.file[i].orphan) {
            r.devshm_orphans++;
            r.devshm_orphan_bytes += r.file[i].alloc_bytes;
        }
    }
    *out = r;
    return 0;
}

void mw_shm_report_free(struct mw_shm_report *r)
{
    if (r->have_devshm && r->devshm_fd >= 0)
        close(r->devshm_fd);
    free(r->seg);
    free(r->file);
    memset(r, 0, sizeof(*r));
}

int mw_shm_remove_sysv(int shmid)
{
    struct shmid_ds ds;
    if (shmctl(shmid, IPC_STAT, &ds) != 0)
        return -errno;
    if (ds.shm_nattch != 0)
        return -EBUSY;
    if (shmctl(shmid, IPC_RMID, NULL) != 0)
        return -errno;
    return 0;
}

int mw_shm_remove_file(const struct mw_shm_report *r, const struct mw_shm_file *f)
{
    if (!r->have_devshm || r->devshm_fd < 0)
        return -EBADF;
    if (!component_ok(f->name) || (f->dir[0] && !component_ok(f->dir)))
        return -EINVAL;
    int pfd = r->devshm_fd, sfd = -1, rc = 0;
    struct stat st;
    if (f->dir[0]) {
        sfd = openat(r->devshm_fd, f->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0) {
            rc = -errno;
            goto out;
        }
        if (fstat(sfd, &st) != 0) {
            rc = -errno;
            goto out;
        }
        if (st.st_dev != f->dir_dev || st.st_ino != f->dir_ino) {
            rc = -ESTALE;
            goto out;
        }
        pfd = sfd;
    }
    if (fstatat(pfd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_dev != f->dev || st.st_ino != f->ino || st.st_uid != f->uid) {
        rc = -ESTALE;
        goto out;
    }
    /* Between the check and the unlink the name may be swapped for another
     * entry, but only within the directory PFD is: a directory descriptor
     * is not a path, so the removal stays inside the scanned tree. */
    if (unlinkat(pfd, f->name, 0) != 0)
        rc = -errno;
out:
    if (sfd >= 0)
        close(sfd);
    return rc;
}
