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

static int add_file(struct mw_shm_report *r, size_t *cap, const char *path, const struct stat *st)
{
    if (r->nfile == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct mw_shm_file *x = realloc(r->file, nc * sizeof(*x));
        if (!x)
            return -ENOMEM;
        r->file = x;
        *cap = nc;
    }
    struct mw_shm_file *f = &r->file[r->nfile++];
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->size_bytes = (uint64_t)st->st_size;
    f->alloc_bytes = (uint64_t)st->st_blocks * 512;
    f->uid = st->st_uid;
    return 0;
}

/* Lists regular files of /dev/shm and of its direct subdirectories. */
static int walk_devshm(const struct mw_root *root, struct mw_shm_report *r)
{
    DIR *d;
    if (mw_opendir_at(root->fd, "dev/shm", 0, &d) < 0)
        return 0;
    int dfd = dirfd(d);
    r->have_devshm = true;
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char path[256];
        snprintf(path, sizeof(path), "/dev/shm/%.200s", de->d_name);
        if (S_ISREG(st.st_mode)) {
            rc = add_file(r, &cap, path, &st);
        } else if (S_ISDIR(st.st_mode)) {
            DIR *sd;
            if (mw_opendir_at(dfd, de->d_name, O_NOFOLLOW, &sd) < 0)
                continue;
            int sfd = dirfd(sd);
            struct dirent *se;
            while (rc == 0 && (se = readdir(sd))) {
                struct stat sst;
                if (se->d_name[0] == '.' ||
                    fstatat(sfd, se->d_name, &sst, AT_SYMLINK_NOFOLLOW) != 0 ||
                    !S_ISREG(sst.st_mode))
                    continue;
                char sp[256];
                snprintf(sp, sizeof(sp), "%.120s/%.120s", path, se->d_name);
                rc = add_file(r, &cap, sp, &sst);
            }
            closedir(sd);
        }
    }
    closedir(d);
    return rc;
}

/* Marks which /dev/shm files some process holds open or mapped. */
static void find_users(const struct mw_root *root, struct mw_shm_report *r)
{
    if (!r->nfile)
        return;
    struct mw_pid_iter it;
    if (mw_pid_iter_open(&it, root) < 0)
        return;
    int pid;
    unsigned *seen = calloc(r->nfile, sizeof(*seen));
    if (!seen) {
        mw_pid_iter_close(&it);
        return;
    }
    while (mw_pid_iter_next(&it, &pid) == 1) {
        memset(seen, 0, r->nfile * sizeof(*seen));
        char path[64];
        snprintf(path, sizeof(path), "proc/%d/fd", pid);
        DIR *d;
        if (mw_opendir_at(root->fd, path, 0, &d) == 0) {
            int fdd = dirfd(d);
            struct dirent *de;
            while ((de = readdir(d))) {
                char tgt[300];
                ssize_t n = readlinkat(fdd, de->d_name, tgt, sizeof(tgt) - 1);
                if (n <= 0)
                    continue;
                tgt[n] = '\0';
                for (size_t i = 0; i < r->nfile; i++)
                    if (strncmp(tgt, r->file[i].path, strlen(r->file[i].path)) == 0)
                        seen[i] = 1;
            }
            closedir(d);
        }
        snprintf(path, sizeof(path), "/proc/%d/maps", pid);
        char *maps = NULL;
        if (mw_read_file(root, path, &maps, NULL) == 0) {
            for (size_t i = 0; i < r->nfile; i++)
                if (!seen[i] && strstr(maps, r->file[i].path))
                    seen[i] = 1;
            free(maps);
        }
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
    char *buf = NULL;
    if (mw_read_file(root, "/proc/sysvipc/shm", &buf, NULL) == 0) {
        int rc = mw_sysv_shm_parse_buf(&r.seg, &r.nseg, &r.bad_lines, buf);
        free(buf);
        if (rc == -ENOMEM)
            return rc;
        r.have_sysv = rc == 0;
    }
    for (size_t i = 0; i < r.nseg; i++) {
        struct mw_sysv_seg *s = &r.seg[i];
        s->creator_alive = pid_alive(root, s->cpid);
        s->orphan = s->nattch == 0 && !s->creator_alive;
        uint64_t b = s->have_rss ? s->rss_bytes + s->swap_bytes : s->size_bytes;
        r.sysv_bytes += b;
        if (s->orphan) {
            r.sysv_orphans++;
            r.sysv_orphan_bytes += b;
        }
    }
    if (walk_devshm(root, &r) < 0) {
        mw_shm_report_free(&r);
        return -ENOMEM;
    }
    if (r.nfile > 1)
        qsort(r.file, r.nfile, sizeof(*r.file), cmp_file);
    find_users(root, &r);
    for (size_t i = 0; i < r.nfile; i++) {
        r.devshm_bytes += r.file[i].alloc_bytes;
        r.file[i].orphan = r.file[i].users == 0;
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

int mw_shm_remove_file(const char *path)
{
    if (strncmp(path, "/dev/shm/", 9) != 0 || strstr(path, "/../") || strstr(path, "/./"))
        return -EINVAL;
    if (unlink(path) != 0)
        return -errno;
    return 0;
}
