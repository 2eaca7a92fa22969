/* safeopen: opening files where someone else may have planted a link.
 *
 * Two families, one per way memwarden writes:
 *  - beneath a root (mw_beneath_*): every write into a tree memwarden was
 *    given (--root DIR, or the live "/") — tune's and zram's sysctls and
 *    sysfs attributes, the files tune --persist writes, tune's backup —
 *    follows no symlink in any component, so a link planted in the tree
 *    (DIR/proc -> /etc) cannot lead a write out of it;
 *  - files a user names for output (mw_out_*): report -o, soak --junit,
 *    watch/run --record, tune --backup. A new file is written under a
 *    random name beside it and renamed into place (a link at the name is
 *    replaced, never written through); an append goes only to a regular
 *    file of the caller's own with no other hard link.
 * Every descriptor is close-on-exec. */
#ifndef MW_SAFEOPEN_H
#define MW_SAFEOPEN_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens PATH beneath the directory DIRFD (AT_FDCWD: the working
 * directory), following no symlink in any component, the last one
 * included: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (Linux
 * 5.6), or on an older kernel (or under a seccomp filter that refuses
 * openat2) mw_beneath_open_walk. Leading slashes are ignored, so an
 * absolute path names the same file under the root. FLAGS are open(2)'s
 * (O_NOFOLLOW and O_CLOEXEC are added), MODE is used with O_CREAT.
 * Returns the descriptor or -errno: -ELOOP when a component is a
 * symlink, -EXDEV when PATH has a ".." component or is empty, else
 * open's error. */
int mw_beneath_open(int dirfd, const char *path, int flags, mode_t mode);

/* mw_beneath_open by hand: each directory component opened with O_PATH |
 * O_DIRECTORY | O_NOFOLLOW relative to the one before, the last with
 * O_NOFOLLOW. The same results; exported so tests run it on any kernel. */
int mw_beneath_open_walk(int dirfd, const char *path, int flags, mode_t mode);

/* Makes every missing directory above PATH's last component beneath
 * DIRFD (mode MODE, as mkdir -p; no symlink followed). Returns how many
 * it made (0..) or -errno (-ELOOP, -EXDEV as mw_beneath_open). */
int mw_beneath_mkdirs(int dirfd, const char *path, mode_t mode);

/* unlinkat(2) of PATH beneath DIRFD (FLAGS: 0 or AT_REMOVEDIR), its
 * directory reached as mw_beneath_open reaches it. Returns 0 or -errno. */
int mw_beneath_unlink(int dirfd, const char *path, int flags);

/* Opens the directory that holds PATH's last component, beneath DIRFD as
 * mw_beneath_open does (DIRFD itself, duplicated, when PATH has one
 * component), for a call on one name relative to it; *LAST points at
 * that name inside PATH. Returns the descriptor (O_PATH) or -errno. */
int mw_beneath_parent(int dirfd, const char *path, const char **last);

/* Whether ST may be trusted as written by root or by the caller: owned
 * by root or by the effective uid, and writable by neither group nor
 * others. Returns 0, -EPERM (another owner) or -EACCES (writable by
 * others). */
int mw_stat_trusted(const struct stat *st);

/* An output file being written: the temporary file beside PATH. */
struct mw_out {
    FILE *f;          /* write here */
    int dirfd;        /* PATH's directory */
    char tmp[64];     /* the temporary name in it */
    const char *name; /* PATH's last component (points into PATH) */
};

/* Starts writing PATH (under DIRFD, AT_FDCWD: the working directory;
 * the directory part of PATH is the user's to choose and is opened as
 * given): a new file ".NAME.XXXXXX" with a random suffix is created
 * beside it with O_CREAT | O_EXCL | O_NOFOLLOW and mode MODE (less the
 * umask). Returns 0 with O filled, or -errno (O untouched). */
int mw_out_begin(int dirfd, const char *path, mode_t mode, struct mw_out *o);

/* Finishes O: flushes, fsyncs and closes the file, then renames it to
 * PATH, replacing what was there (a symlink there is replaced, not
 * followed; a directory gives -EISDIR). On any failure the temporary
 * file is removed. Returns 0 or -errno. */
int mw_out_commit(struct mw_out *o);

/* Abandons O: closes and removes the temporary file. */
void mw_out_abort(struct mw_out *o);

/* Opens PATH (relative to the working directory) for appending, created
 * with MODE (less the umask) when missing. A symlink at PATH is refused
 * (O_NOFOLLOW: -ELOOP), so is anything but a regular file (-EBADFD, a FIFO
 * does not hang the open), a file another user owns (-EPERM) and a file
 * with another hard link (-EMLINK: it could be a link to a file of
 * root's in a directory others write). Returns the descriptor or -errno. */
int mw_out_append_open(const char *path, mode_t mode);

/* Words for the errors above ("a symbolic link (never followed)", ...),
 * else mw_strerror's. */
const char *mw_out_strerror(int err);

#endif
