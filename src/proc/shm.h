/* shm: shared memory that outlives its users — System V segments
 * (/proc/sysvipc/shm) and files in /dev/shm — with their owners, attach
 * counts and who still holds them; orphans found and (live only) removed. */
#ifndef MW_SHM_H
#define MW_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>

#include "base/util.h"

struct mw_sysv_seg {
    long key; /* IPC key (0 = IPC_PRIVATE) */
    int shmid;
    unsigned perms;
    uint64_t size_bytes;
    int cpid, lpid; /* creator, last shmat/shmdt */
    uint64_t nattch;
    uid_t uid, cuid;
    uint64_t rss_bytes, swap_bytes; /* kernel >= 4.5; 0 when absent */
    bool have_rss;
    bool creator_alive; /* filled by mw_shm_scan */
    bool orphan;        /* nattch 0 and creator gone */
};

/* Parses the text of /proc/sysvipc/shm:
 *        key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid  atime  dtime
 * ctime   rss  swap 0          3  1600      16384  1234  1234      1  1000  1000  1000  1000  ...
 * The header line is required; malformed lines are skipped and counted in
 * *BAD (may be NULL). *OUT is malloc'd (may be NULL when N is 0).
 * Returns 0, -ENODATA (no header) or -ENOMEM. */
int mw_sysv_shm_parse_buf(struct mw_sysv_seg **out, size_t *n, unsigned *bad, const char *buf);

/* "/dev/shm/" + NAME + "/" + NAME + NUL, NAME at most NAME_MAX (255). */
#define MW_SHM_PATH_CAP (9 + 2 * (NAME_MAX + 1) + 1)

struct mw_shm_file {
    char path[MW_SHM_PATH_CAP]; /* "/dev/shm/NAME" or "/dev/shm/DIR/NAME", never cut: for
                                 * display and --path only, never acted on */
    char dir[NAME_MAX + 1];     /* DIR ("" for a file directly in /dev/shm) */
    char name[NAME_MAX + 1];    /* NAME */
    dev_t dev, dir_dev;         /* identity as scanned: the file's, and DIR's */
    ino_t ino, dir_ino;
    uint64_t size_bytes;  /* st_size */
    uint64_t alloc_bytes; /* st_blocks * 512: memory it really holds */
    uid_t uid;
    unsigned users;     /* processes seen with it open or mapped (filled by mw_shm_scan) */
    bool holders_known; /* every process could be inspected (else users may be too low) */
    bool orphan;        /* no user, and every process was inspected */
};

struct mw_shm_report {
    struct mw_sysv_seg *seg;
    size_t nseg;
    unsigned bad_lines;
    bool have_sysv; /* /proc/sysvipc/shm was readable */
    struct mw_shm_file *file;
    size_t nfile;
    bool have_devshm;          /* dev/shm was opened: devshm_fd is valid */
    int devshm_fd;             /* the scanned dev/shm, kept open: removal acts through it */
    unsigned skipped_names;    /* entries whose name could not be held (not listed) */
    unsigned unreadable_procs; /* processes whose fds or maps could not be read */
    int unreadable_pid;        /* the first of them (0: none, or no process list) */
    uint64_t sysv_bytes, sysv_orphan_bytes; /* resident + swapped when known, else size */
    /* The three figures of ipcs/the kernel, over all segments and over the
     * orphans: size (what was asked for), resident and swapped (kernel >=
     * 4.5; sysv_rss_known false when a segment lacked them). */
    uint64_t sysv_size_bytes, sysv_rss_bytes, sysv_swap_bytes;
    uint64_t sysv_orphan_size_bytes, sysv_orphan_rss_bytes, sysv_orphan_swap_bytes;
    bool sysv_rss_known;
    uint64_t devshm_bytes, devshm_orphan_bytes; /* allocated */
    size_t sysv_orphans, devshm_orphans;
    size_t devshm_unknown; /* files with no visible holder while some process was unreadable */
};

/* Reads ROOT/proc/sysvipc/shm and walks ROOT/dev/shm (and its direct
 * subdirectories, never through a symlink); checks each creator pid under
 * ROOT/proc and which processes hold each /dev/shm file (by name in their
 * /proc/PID/fd links and /proc/PID/maps and, on the live root, by device
 * and inode). A process whose fds or maps cannot be read (another user's,
 * without root) makes every file with no visible holder "unknown", not an
 * orphan. Missing sources leave their have_ flag false. *OUT keeps dev/shm
 * open until mw_shm_report_free. Returns 0 or -ENOMEM (*OUT untouched). */
int mw_shm_scan(const struct mw_root *root, struct mw_shm_report *out);

/* Frees the report and closes its dev/shm descriptor; safe on a zeroed
 * report. */
void mw_shm_report_free(struct mw_shm_report *r);

/* Removes one orphan SysV segment (IPC_RMID) after checking again that it
 * is unattached. Returns 0 or -errno (-EBUSY when attached now). */
int mw_shm_remove_sysv(int shmid);

/* Unlinks file F of report R through R's dev/shm descriptor: DIR is opened
 * with O_NOFOLLOW relative to it and must still be the directory scanned
 * (device and inode); NAME, looked at without following a symlink, must
 * still be a regular file with the device, inode and owner scanned; then
 * unlinkat relative to its parent's descriptor. No path string is built or
 * followed, so nothing outside the scanned directory can be removed.
 * Returns 0 or -errno: -EBADF (R has no dev/shm), -EINVAL (a name that is
 * not one path component), -ESTALE (not what was scanned any more),
 * -ELOOP/-ENOTDIR (DIR became a symlink), or unlinkat's error. */
int mw_shm_remove_file(const struct mw_shm_report *r, const struct mw_shm_file *f);

#endif
