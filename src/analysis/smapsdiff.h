/* smapsdiff: where a process's memory lives, by kind of mapping, from
 * /proc/PID/smaps — and where it grew between two reads. */
#ifndef MW_SMAPSDIFF_H
#define MW_SMAPSDIFF_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum mw_region_class {
    MW_REGION_HEAP = 0, /* [heap]: brk, small malloc() blocks */
    MW_REGION_ANON,     /* anonymous mmap: big malloc() blocks, thread arenas, JIT */
    MW_REGION_STACK,    /* [stack], [stack:TID] */
    MW_REGION_FILE,     /* file-backed: libraries, mapped data files */
    MW_REGION_SHMEM,    /* shared memory: /SYSV..., /dev/shm/..., memfd:, shared anon */
    MW_REGION_NAMED,    /* named anonymous mappings: [anon:NAME] (prctl PR_SET_VMA) */
    MW_REGION_OTHER,    /* [vdso], [vvar], [vsyscall], ... */
    MW_REGION_COUNT
};

/* Mappings with the same label added up. */
struct mw_region {
    char label[128]; /* "[heap]", "anon mmap", "/usr/lib/libc.so.6", "[anon:pool]" */
    enum mw_region_class cls;
    uint64_t size, rss, pss, swap; /* bytes */
    unsigned count;                /* mappings */
};

struct mw_regions {
    struct mw_region *r; /* malloc'd */
    size_t n;
    uint64_t class_rss[MW_REGION_COUNT], class_swap[MW_REGION_COUNT];
};

/* Class of a mapping from its smaps header: PATH is what follows the inode
 * ("" for none), SHARED is the 's' in the permissions. */
enum mw_region_class mw_region_classify(const char *path, int shared);

/* "heap", "anon", "stack", "file", "shmem", "named", "other". */
const char *mw_region_class_name(enum mw_region_class c);

/* Parses the text of /proc/PID/smaps. Mapping headers look like
 *   7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0          [heap]
 * and are followed by "Rss:   132 kB"-style lines. Returns 0, -ENODATA
 * (no mapping) or -ENOMEM; OUT untouched on failure. */
int mw_regions_parse_buf(struct mw_regions *out, const char *buf);

/* Reads ROOT/proc/PID/smaps. Returns 0 or -errno. */
int mw_regions_read(const struct mw_root *root, int pid, struct mw_regions *out);

void mw_regions_free(struct mw_regions *r);

/* One label's change from A to B (RSS + swap, so memory pushed to swap
 * still counts as held). */
struct mw_region_delta {
    char label[128];
    enum mw_region_class cls;
    int64_t delta_bytes;
};

/* Changes per label, sorted by delta descending (growth first). *OUT is
 * malloc'd. Returns 0 or -ENOMEM. */
int mw_regions_diff(const struct mw_regions *a, const struct mw_regions *b,
                    struct mw_region_delta **out, size_t *n);

/* Change of each class from A to B (RSS + swap), bytes. */
void mw_regions_class_diff(const struct mw_regions *a, const struct mw_regions *b,
                           int64_t out[MW_REGION_COUNT]);

#endif
