/* slab: the kernel's slab caches, from /proc/slabinfo (version 2.x) or,
 * when that is unreadable (it is root-only), from /sys/kernel/slab; growth
 * between two samples; and what to do about the caches that grow. */
#ifndef MW_SLAB_H
#define MW_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct mw_slab_cache {
    char name[64];
    uint64_t active_objs, num_objs;
    uint64_t objsize_bytes; /* size of one object as the allocator lays it out */
    uint64_t objperslab, pagesperslab;
    uint64_t active_slabs, num_slabs;
    uint64_t size_bytes; /* num_slabs * pagesperslab * page size (as slabtop) */
    int reclaimable;     /* 1 yes, 0 no, -1 unknown (slabinfo does not say) */
};

enum mw_slab_source { MW_SLAB_SLABINFO = 0, MW_SLAB_SYSFS };

struct mw_slab_set {
    struct mw_slab_cache *c; /* malloc'd, N entries in file order */
    size_t n;
    enum mw_slab_source source;
    unsigned bad_lines; /* lines that did not parse and were skipped */
};

/* Parses the text of /proc/slabinfo. The first line must be
 * "slabinfo - version: 2.x"; "#" lines are skipped; a malformed cache line
 * is skipped and counted in OUT->bad_lines. PAGE_SIZE (bytes, the root's:
 * struct mw_root) sizes the slabs. Returns 0, -EINVAL (PAGE_SIZE 0),
 * -ENODATA (no version header), -ENOTSUP (version 1.x) or -ENOMEM; OUT
 * untouched on failure. Free with mw_slab_set_free. */
int mw_slab_parse_buf(struct mw_slab_set *out, const char *buf, uint64_t page_size);

/* Reads ROOT/sys/kernel/slab/<cache>/{objects,total_objects,object_size,
 * slab_size,objs_per_slab,slabs,order,reclaim_account}; slabs are sized
 * with root->page_size. Merged aliases
 * (symlinks to the same ":xxx" cache) are counted once, under the first
 * name in directory order (sorted). Returns 0 or -errno (-ENOENT when the
 * directory is absent, -EACCES when its files are root-only as on recent
 * kernels, -ENODATA when it holds no readable cache). */
int mw_slab_read_sysfs(const struct mw_root *root, struct mw_slab_set *out);

/* Reads ROOT/proc/slabinfo, falling back to /sys/kernel/slab when the
 * file cannot be read (EACCES/EPERM/ENOENT). Returns 0 or -errno of the
 * last source tried. */
int mw_slab_read(const struct mw_root *root, struct mw_slab_set *out);

void mw_slab_set_free(struct mw_slab_set *s);

/* Finds the cache called NAME, or NULL. */
const struct mw_slab_cache *mw_slab_find(const struct mw_slab_set *s, const char *name);

/* Sum of every cache's size_bytes. */
uint64_t mw_slab_total_bytes(const struct mw_slab_set *s);

/* One cache's change between two samples. */
struct mw_slab_delta {
    char name[64];
    uint64_t before_bytes, after_bytes;
    int64_t delta_bytes;
    int64_t delta_objs; /* active objects */
};

/* Changes from A to B for every cache in either (a cache missing on one
 * side counts as 0 there), sorted by |delta_bytes| descending (ties by
 * name). *OUT is malloc'd (free it), *N its length. Returns 0 or -ENOMEM. */
int mw_slab_diff(const struct mw_slab_set *a, const struct mw_slab_set *b,
                 struct mw_slab_delta **out, size_t *n);

/* Sorts S's caches by size_bytes descending (ties by name). */
void mw_slab_sort_by_size(struct mw_slab_set *s);

/* The advice that fits a growing cache (never NULL): what creates such
 * objects and what to do. Dentry/inode caches point at programs that
 * create files, vm.vfs_cache_pressure and a one-off drop_caches 2. */
const char *mw_slab_advice(const char *cache_name);

#endif
