/* shm: shared memory that outlives its users — System V segments
 * (/proc/sysvipc/shm) and files in /dev/shm — with their owners, attach
 * counts and who still holds them; orphans found and (live only) removed. */
#ifndef MW_SHM_H
#define MW_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

struct mw_shm_file {
    char path[256];       /* "/dev/shm/NAME" (subdirectories walked one level deep) */
    uint64_t size_bytes;  /* st_size */
    uint64_t alloc_bytes; /* st_blocks * 512: memory it really holds */
    uid_t uid;
    unsigned users; /* processes with it open or mapped (filled by mw_shm_scan) */
    bool orphan;    /* no user */
};

struct mw_shm_report {
    struct mw_sysv_seg *seg;
    size_t nseg;
    unsigned bad_lines;
    bool have_sysv; /* /proc/sysvipc/shm was readable */
    struct mw_shm_file *file;
    size_t nfile;
    bool have_devshm;
    uint64_t sysv_bytes, sysv_orphan_bytes;     /* RSS when known, else size */
    uint64_t devshm_bytes, devshm_orphan_bytes; /* allocated */
    size_t sysv_orphans, devshm_orphans;
};

/* Reads ROOT/proc/sysvipc/shm and walks ROOT/dev/shm; checks each creator
 * pid under ROOT/proc and which processes hold each /dev/shm file (their
 * /proc/PID/fd links and /proc/PID/maps). Missing sources leave their
 * have_ flag false. Returns 0 or -ENOMEM. */
int mw_shm_scan(const struct mw_root *root, struct mw_shm_report *out);

void mw_shm_report_free(struct mw_shm_report *r);

/* Removes one orphan SysV segment (IPC_RMID) after checking again that it
 * is unattached. Returns 0 or -errno (-EBUSY when attached now). */
int mw_shm_remove_sysv(int shmid);

/* Unlinks /dev/shm/NAME-style PATH (must start with /dev/shm/ and hold no
 * ".." component). Returns 0 or -errno. */
int mw_shm_remove_file(const char *path);

#endif
