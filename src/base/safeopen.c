#include "base/safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

/* openat2(2) (Linux 5.6): the same number on every architecture. Its
 * struct and flags are spelled here: libc headers (glibc before 2.36,
 * musl) and some cross toolchains lack <linux/openat2.h>. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct mw_open_how {
    uint64_t flags, mode, resolve;
};
#define MW_RESOLVE_NO_SYMLINKS 0x04
#define MW_RESOLVE_BENEATH     0x08

#define BENEATH_PATH_MAX 4096

/* PATH without its leading slashes; -EXDEV (via *bad) when it is empty or
 * has a ".." component. */
static const char *beneath_rel(const char *path, int *bad)
{
    while (*path == '/')
        path++;
    *bad = *path ? 0 : -EXDEV;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            *bad = -EXDEV;
        p += n;
        while (*p == '/')
            p++;
    }
    return path;
}

/* Opens the directory component NAME of CUR without following a link.
 * Returns the descriptor or -errno (-ELOOP for a symlink). */
static int walk_dir(int cur, const char *name)
{
    int fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat st;
    if (e == ENOTDIR && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return -ELOOP;
    return -e;
}

/* The walk on REL (checked by beneath_rel): the raw open's result. */
static int walk_raw(int dirfd, const char *rel, int flags, mode_t mode)
{
    char buf[BENEATH_PATH_MAX];
    if (strlen(rel) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, rel);
    int cur = dirfd, rc;
    char *name = buf;
    for (char *s; (s = strchr(name, '/')) != NULL; name = s + 1) {
        *s = '\0';
        while (s[1] == '/')
            *++s = '\0';
        if (!*name || strcmp(name, ".") == 0)
            continue;
        int sub = walk_dir(cur, name);
        if (cur != dirfd)
            close(cur);
        if (sub < 0)
            return sub;
        cur = sub;
    }
    if (!*name) /* "dir/": the directory itself */
        name = ".";
    rc = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    rc = rc < 0 ? -errno : rc;
    if (cur != dirfd)
        close(cur);
    return rc;
}

static int no_openat2; /* the kernel (or a filter) said ENOSYS once */

/* openat2 on REL, or the walk when the kernel lacks it (WALK: always). */
static int beneath_raw(int dirfd, const char *rel, int flags, mode_t mode, bool walk)
{
    if (!walk && !no_openat2) {
        int f = flags | O_NOFOLLOW | O_CLOEXEC;
        struct mw_open_how how = {.flags = (uint64_t)(unsigned)f,
                                  .mode = f & (O_CREAT | O_TMPFILE) ? mode : 0,
                                  .resolve = MW_RESOLVE_BENEATH | MW_RESOLVE_NO_SYMLINKS};
        int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        if (fd >= 0)
            return fd;
        if (errno != ENOSYS && errno != EPERM)
            return -errno;
        if (errno == ENOSYS)
            no_openat2 = 1;
        /* EPERM: a seccomp filter, or a real refusal the walk finds too */
    }
    return walk_raw(dirfd, rel, flags, mode);
}

/* Opens REL beneath DIRFD, with the two ways a link as the last
 * component gets past O_NOFOLLOW made -ELOOP: O_PATH opens the link
 * itself, O_DIRECTORY says ENOTDIR. */
static int beneath(int dirfd, const char *path, int flags, mode_t mode, bool walk)
{
    int bad;
    const char *rel = beneath_rel(path, &bad);
    if (bad < 0)
        return bad;
    int rc = beneath_raw(dirfd, rel, flags, mode, walk);
    struct stat st;
    if (rc >= 0 && (flags & O_PATH) && fstat(rc, &st) == 0 && S_ISLNK(st.st_mode)) {
        close(rc);
        return -ELOOP;
    }
    if (rc == -ENOTDIR && (flags & O_DIRECTORY)) {
        int fd = beneath_raw(dirfd, rel, O_PATH, 0, walk);
        bool link = fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
        if (fd >= 0)
            close(fd);
        if (link)
            return -ELOOP;
    }
    return rc;
}

int mw_beneath_open_walk(int dirfd, const char *path, int flags, mode_t mode)
{
    return beneath(dirfd, path, flags, mode, true);
}

int mw_beneath_open(int dirfd, const char *path, int flags, mode_t mode)
{
    return beneath(dirfd, path, flags, mode, false);
}

int mw_beneath_parent(int dirfd, const char *path, const char **last)
{
    int bad;
    const char *rel = beneath_rel(path, &bad);
    if (bad < 0)
        return bad;
    const char *slash = strrchr(rel, '/');
    if (slash && !slash[1])
        return -EINVAL; /* "dir/": no last name */
    int fd;
    if (!slash) {
        fd = dirfd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)
                               : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
        fd = fd < 0 ? -errno : fd;
    } else {
        char dir[BENEATH_PATH_MAX];
        size_t n = (size_t)(slash - rel);
        if (n >= sizeof(dir))
            return -ENAMETOOLONG;
        memcpy(dir, rel, n);
        dir[n] = '\0';
        fd = mw_beneath_open(dirfd, dir, O_PATH | O_DIRECTORY, 0);
    }
    if (fd >= 0)
        *last = slash ? slash + 1 : rel;
    return fd;
}

int mw_beneath_mkdirs(int dirfd, const char *path, mode_t mode)
{
    int bad;
    const char *rel = beneath_rel(path, &bad);
    if (bad < 0)
        return bad;
    char buf[BENEATH_PATH_MAX];
    if (strlen(rel) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, rel);
    int cur = dirfd, made = 0;
    char *name = buf;
    for (char *s; (s = strchr(name, '/')) != NULL; name = s + 1) {
        *s = '\0';
        if (!*name || strcmp(name, ".") == 0)
            continue;
        if (mkdirat(cur, name, mode) == 0)
            made++;
        else if (errno != EEXIST)
            made = -errno;
        int sub = made < 0 ? made : walk_dir(cur, name);
        if (cur != dirfd)
            close(cur);
        if (sub < 0)
            return sub;
        cur = sub;
    }
    if (cur != dirfd)
        close(cur);
    return made;
}

int mw_beneath_unlink(int dirfd, const char *path, int flags)
{
    const char *last;
    int pfd = mw_beneath_parent(dirfd, path, &last);
    if (pfd < 0)
        return pfd;
    int rc = unlinkat(pfd, last, flags) < 0 ? -errno : 0;
    close(pfd);
    return rc;
}

int mw_stat_trusted(const struct stat *st)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return -EPERM;
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return -EACCES;
    return 0;
}

/* ---- output files --------------------------------------------------------- */

/* Six characters of [a-z0-9] from the kernel's random pool (or the clock
 * when it has none yet). */
static void random_suffix(char out[7])
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6];
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^ (uint64_t)ts.tv_sec;
        for (size_t i = 0; i < sizeof(r); i++, v >>= 6)
            r[i] = (unsigned char)v;
    }
    for (size_t i = 0; i < sizeof(r); i++)
        out[i] = set[r[i] % (sizeof(set) - 1)];
    out[6] = '\0';
}

int mw_out_begin(int dirfd, const char *path, mode_t mode, struct mw_out *o)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -EISDIR;
    int dfd;
    if (slash) {
        char dir[BENEATH_PATH_MAX];
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof(dir))
            return -ENAMETOOLONG;
        memcpy(dir, path, n);
        dir[n] = '\0';
        dfd = openat(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        dfd = dirfd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)
                                : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    }
    if (dfd < 0)
        return -errno;
    char tmp[sizeof(o->tmp)], sfx[7];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        random_suffix(sfx);
        snprintf(tmp, sizeof(tmp), ".%.48s.%s", name, sfx);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = fd < 0 ? errno : ENOMEM;
        if (fd >= 0) {
            close(fd);
            unlinkat(dfd, tmp, 0);
        }
        close(dfd);
        return -e;
    }
    o->f = f;
    o->dirfd = dfd;
    memcpy(o->tmp, tmp, sizeof(o->tmp));
    o->name = name;
    return 0;
}

int mw_out_commit(struct mw_out *o)
{
    int rc = fflush(o->f) == 0 && !ferror(o->f) ? 0 : (errno ? -errno : -EIO);
    if (rc == 0 && fsync(fileno(o->f)) < 0 && errno != EINVAL)
        rc = -errno; /* EINVAL: a file system without fsync (a pipe-backed FUSE) */
    if (fclose(o->f) != 0 && rc == 0)
        rc = -errno;
    o->f = NULL;
    if (rc == 0 && renameat(o->dirfd, o->tmp, o->dirfd, o->name) < 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(o->dirfd, o->tmp, 0);
    close(o->dirfd);
    o->dirfd = -1;
    return rc;
}

void mw_out_abort(struct mw_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->dirfd >= 0) {
        unlinkat(o->dirfd, o->tmp, 0);
        close(o->dirfd);
    }
    o->dirfd = -1;
}

int mw_out_append_open(const char *path, mode_t mode)
{
    /* O_NONBLOCK: a FIFO at PATH must not hang the open */
    int fd = open(
        path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == ENXIO ? -EBADFD : -errno; /* ENXIO: a FIFO with no reader */
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EBADFD;
    else if (st.st_uid != geteuid())
        rc = -EPERM;
    else if (st.st_nlink > 1)
        rc = -EMLINK;
    else if (fcntl(fd, F_SETFL, O_APPEND) < 0) /* blocking writes again */
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

const char *mw_out_strerror(int err)
{
    switch (err) {
    case ELOOP:
        return "a symbolic link (never followed: remove it or name another file)";
    case EPERM:
        return "owned by another user (only a file of your own is appended to)";
    case EMLINK:
        return "it has another hard link (it could be a link to someone else's file)";
    case EXDEV:
        return "a path with '..' or an empty one";
    default:
        return mw_strerror(err);
    }
}
