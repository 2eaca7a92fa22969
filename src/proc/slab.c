#include "proc/slab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_push(struct mw_slab_set *s, size_t *cap, const struct mw_slab_cache *c)
{
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 128;
        struct mw_slab_cache *p = realloc(s->c, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->c = p;
        *cap = nc;
    }
    s->c[s->n++] = *c;
    return 0;
}

/* Parses one cache line:
 *   dentry  111636 111636  192  21  1 : tunables  0  0  0 : slabdata  5316  5316  0
 * Returns 0 or -EINVAL. */
static int parse_line(struct mw_slab_cache *c, const char *line, const char *end,
                      uint64_t page_size)
{
    memset(c, 0, sizeof(*c));
    const char *p = line;
    size_t n = 0;
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    n = (size_t)(p - line);
    if (n == 0 || n >= sizeof(c->name))
        return -EINVAL;
    memcpy(c->name, line, n);
    c->name[n] = '\0';
    uint64_t f[5];
    for (int i = 0; i < 5; i++)
        if (mw_scan_u64(&p, &f[i]) < 0 || p > end)
            return -EINVAL;
    const char *sd = strstr(p, ": slabdata");
    if (!sd || sd >= end)
        return -EINVAL;
    p = sd + strlen(": slabdata");
    uint64_t d[2];
    for (int i = 0; i < 2; i++)
        if (mw_scan_u64(&p, &d[i]) < 0 || p > end)
            return -EINVAL;
    if (f[0] > f[1] || d[0] > d[1])
        return -EINVAL;
    c->active_objs = f[0];
    c->num_objs = f[1];
    c->objsize_bytes = f[2];
    c->objperslab = f[3];
    c->pagesperslab = f[4];
    c->active_slabs = d[0];
    c->num_slabs = d[1];
    /* overflow-safe: absurd numbers saturate instead of wrapping */
    if (c->pagesperslab && c->num_slabs > UINT64_MAX / c->pagesperslab / page_size)
        c->size_bytes = UINT64_MAX;
    else
        c->size_bytes = c->num_slabs * c->pagesperslab * page_size;
    c->reclaimable = -1;
    return 0;
}

/*
 * /proc/slabinfo:
 *   slabinfo - version: 2.1
 *   # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ...
 *   dentry            111636 111636    192   21    1 : tunables    0    0    0 : slabdata   5316
 * 5316      0
 */
int mw_slab_parse_buf(struct mw_slab_set *out, const char *buf, uint64_t page_size)
{
    struct mw_slab_set s = {0};
    size_t cap = 0;
    if (!page_size)
        return -EINVAL;
    if (strncmp(buf, "slabinfo - version: ", 20) != 0)
        return -ENODATA;
    if (buf[20] != '2')
        return -ENOTSUP;
    const char *cur = buf, *p;
    size_t len;
    mw_next_line(&cur, &p, &len); /* the version line */
    while (mw_next_line(&cur, &p, &len)) {
        const char *end = p + len;
        if (end > p && *p != '#') {
            struct mw_slab_cache c;
            if (parse_line(&c, p, end, page_size) == 0) {
                if (set_push(&s, &cap, &c) < 0) {
                    free(s.c);
                    return -ENOMEM;
                }
            } else {
                s.bad_lines++;
            }
        }
    }
    s.source = MW_SLAB_SLABINFO;
    *out = s;
    return 0;
}

static int read_attr(int dirfd, const char *name, uint64_t *v)
{
    char buf[128];
    long n = mw_read_small_at(dirfd, name, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    const char *p = buf;
    return mw_scan_u64(&p, v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names under /sys/kernel/slab, sorted, without "." entries and the
 * ":t-0000192"-style directories merged caches link to. Returns 0 with
 * *NAMES (*N of them; free each and the array) or -ENOMEM. */
static int cache_names(DIR *d, char ***names, size_t *n)
{
    char **v = NULL;
    size_t nn = 0, ncap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || de->d_name[0] == ':')
            continue;
        if (nn == ncap) {
            ncap = ncap ? ncap * 2 : 256;
            char **p = realloc(v, ncap * sizeof(*p));
            if (!p)
                goto fail;
            v = p;
        }
        if (!(v[nn] = strdup(de->d_name)))
            goto fail;
        nn++;
    }
    if (nn)
        qsort(v, nn, sizeof(*v), cmp_str);
    *names = v;
    *n = nn;
    return 0;
fail:
    while (nn > 0)
        free(v[--nn]);
    free(v);
    return -ENOMEM;
}

/* Merged caches: several names link to one ":t-0000192"-style directory.
 * Keeps NAMES[I]'s link target in TARGETS[I]; true when an earlier name
 * led to the same directory (this name is then left out). */
static bool merged_alias(int dfd, char *const *names, char **targets, size_t i)
{
    char tgt[256];
    ssize_t tl = readlinkat(dfd, names[i], tgt, sizeof(tgt) - 1);
    if (tl <= 0)
        return false;
    tgt[tl] = '\0';
    for (size_t k = 0; k < i; k++)
        if (targets[k] && strcmp(targets[k], tgt) == 0)
            return true;
    targets[i] = strdup(tgt);
    return false;
}

/* One cache from its directory CFD (objects, slabs, object_size required;
 * total_objects, objs_per_slab, order, slab_size, reclaim_account when
 * there). Returns 0, or the -errno of the first required attribute that
 * cannot be read. */
static int read_cache(int cfd, const char *name, uint64_t page_size, struct mw_slab_cache *out)
{
    struct mw_slab_cache c;
    memset(&c, 0, sizeof(c));
    uint64_t order = 0, slab_size = 0, rec = 0;
    int e = read_attr(cfd, "objects", &c.active_objs);
    if (e == 0)
        e = read_attr(cfd, "slabs", &c.num_slabs);
    if (e == 0)
        e = read_attr(cfd, "object_size", &c.objsize_bytes);
    if (e < 0)
        return e;
    if (read_attr(cfd, "total_objects", &c.num_objs) < 0)
        c.num_objs = c.active_objs;
    read_attr(cfd, "objs_per_slab", &c.objperslab);
    read_attr(cfd, "order", &order);
    if (read_attr(cfd, "slab_size", &slab_size) == 0 && slab_size)
        c.objsize_bytes = slab_size;
    c.reclaimable = read_attr(cfd, "reclaim_account", &rec) == 0 ? rec != 0 : -1;
    c.pagesperslab = order < 20 ? 1ull << order : 0;
    c.active_slabs = c.num_slabs;
    c.size_bytes = c.num_slabs * c.pagesperslab * page_size;
    snprintf(c.name, sizeof(c.name), "%s", name);
    *out = c;
    return 0;
}

int mw_slab_read_sysfs(const struct mw_root *root, struct mw_slab_set *out)
{
    DIR *d;
    int rc = mw_opendir_at(root->fd, "sys/kernel/slab", 0, &d);
    if (rc < 0)
        return rc;
    int dfd = dirfd(d);
    struct mw_slab_set s = {0};
    size_t cap = 0, nn = 0;
    char **names = NULL, **targets = NULL;
    int last_err = 0;
    rc = cache_names(d, &names, &nn);
    if (rc == 0 && !(targets = calloc(nn ? nn : 1, sizeof(*targets))))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < nn; i++) {
        if (merged_alias(dfd, names, targets, i))
            continue;
        int cfd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0)
            continue;
        struct mw_slab_cache c;
        int e = read_cache(cfd, names[i], root->page_size, &c);
        close(cfd);
        if (e < 0) {
            s.bad_lines++;
            last_err = e;
        } else if (set_push(&s, &cap, &c) < 0) {
            rc = -ENOMEM;
        }
    }
    if (rc == 0 && s.n == 0)
        rc = last_err == -EACCES || last_err == -EPERM ? last_err : -ENODATA;
    for (size_t i = 0; i < nn; i++) {
        free(names[i]);
        if (targets)
            free(targets[i]);
    }
    free(names);
    free(targets);
    closedir(d);
    if (rc < 0) {
        free(s.c);
        return rc;
    }
    s.source = MW_SLAB_SYSFS;
    *out = s;
    return 0;
}

int mw_slab_read(const struct mw_root *root, struct mw_slab_set *out)
{
    char *buf = NULL;
    int rc = mw_read_file(root, "/proc/slabinfo", &buf, NULL);
    if (rc == 0) {
        rc = mw_slab_parse_buf(out, buf, root->page_size);
        free(buf);
        if (rc == 0)
            return 0;
    }
    if (rc != -EACCES && rc != -EPERM && rc != -ENOENT && rc != -ENODATA)
        return rc;
    return mw_slab_read_sysfs(root, out);
}

void mw_slab_set_free(struct mw_slab_set *s)
{
    free(s->c);
    s->c = NULL;
    s->n = 0;
}

const struct mw_slab_cache *mw_slab_find(const struct mw_slab_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->c[i].name, name) == 0)
            return &s->c[i];
    return NULL;
}

uint64_t mw_slab_total_bytes(const struct mw_slab_set *s)
{
    uint64_t t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->c[i].size_bytes;
    return t;
}

static uint64_t mag(int64_t v)
{
    return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

static int cmp_delta(const void *a, const void *b)
{
    const struct mw_slab_delta *x = a, *y = b;
    uint64_t mx = mag(x->delta_bytes), my = mag(y->delta_bytes);
    if (mx != my)
        return mx < my ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int64_t sub_sat(uint64_t b, uint64_t a)
{
    if (b >= a)
        return b - a > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(b - a);
    return a - b > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(a - b);
}

int mw_slab_diff(const struct mw_slab_set *a, const struct mw_slab_set *b,
                 struct mw_slab_delta **out, size_t *n)
{
    struct mw_slab_delta *d = calloc(a->n + b->n + 1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct mw_slab_cache *ca = mw_slab_find(a, b->c[i].name);
        struct mw_slab_delta *x = &d[k++];
        snprintf(x->name, sizeof(x->name), "%s", b->c[i].name);
        x->after_bytes = b->c[i].size_bytes;
        x->before_bytes = ca ? ca->size_bytes : 0;
        x->delta_bytes = sub_sat(x->after_bytes, x->before_bytes);
        x->delta_objs = sub_sat(b->c[i].active_objs, ca ? ca->active_objs : 0);
    }
    for (size_t i = 0; i < a->n; i++) {
        if (mw_slab_find(b, a->c[i].name))
            continue;
        struct mw_slab_delta *x = &d[k++];
        snprintf(x->name, sizeof(x->name), "%s", a->c[i].name);
        x->before_bytes = a->c[i].size_bytes;
        x->delta_bytes = sub_sat(0, x->before_bytes);
        x->delta_objs = sub_sat(0, a->c[i].active_objs);
    }
    qsort(d, k, sizeof(*d), cmp_delta);
    *out = d;
    *n = k;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    const struct mw_slab_cache *x = a, *y = b;
    if (x->size_bytes != y->size_bytes)
        return x->size_bytes < y->size_bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

void mw_slab_sort_by_size(struct mw_slab_set *s)
{
    if (s->n)
        qsort(s->c, s->n, sizeof(*s->c), cmp_size);
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

const char *mw_slab_advice(const char *n)
{
    /* The lmkd seed's case: an ageing test that opened, wrote and closed
     * files all day filled dentry_cache until the OOM killer struck. */
    if (has_prefix(n, "dentry") || strstr(n, "inode_cache") || has_prefix(n, "inode"))
        return "directory entries/inodes: a program creates, opens or deletes many files "
               "(find it: look for one writing many files, or walking trees); raising "
               "vm.vfs_cache_pressure above 100 makes reclaim prefer these caches; "
               "'echo 2 > /proc/sys/vm/drop_caches' frees them once, as a one-off";
    if (has_prefix(n, "buffer_head") || has_prefix(n, "bio") || has_prefix(n, "biovec"))
        return "block I/O bookkeeping: heavy disk I/O; reclaimed with the page cache";
    if (has_prefix(n, "radix_tree_node") || has_prefix(n, "xfs_") || has_prefix(n, "ext4_") ||
        has_prefix(n, "btrfs_"))
        return "page cache and filesystem metadata: follows file I/O; reclaimable";
    if (has_prefix(n, "kmalloc") || has_prefix(n, "dma-kmalloc") || has_prefix(n, "kmalloc-rcl"))
        return "generic kernel allocations: a driver or subsystem keeps allocating; "
               "compare over hours, check dmesg and recently loaded modules "
               "(kmemleak finds the caller on a debug kernel)";
    if (has_prefix(n, "task_struct") || has_prefix(n, "pid") || has_prefix(n, "signal_cache") ||
        has_prefix(n, "mm_struct") || has_prefix(n, "files_cache") || has_prefix(n, "cred_jar"))
        return "processes and threads: something forks a lot or leaves zombies "
               "(check the process count and for <defunct> entries)";
    if (has_prefix(n, "sock") || has_prefix(n, "TCP") || has_prefix(n, "UDP") ||
        has_prefix(n, "skbuff") || has_prefix(n, "request_sock"))
        return "sockets and network buffers: connections not closed, or a flood "
               "(check ss -s)";
    if (has_prefix(n, "vm_area_struct") || has_prefix(n, "anon_vma"))
        return "memory mappings: a process maps many regions (an mmap leak); see "
               "'memwarden leak' on the biggest processes";
    if (has_prefix(n, "filp") || has_prefix(n, "eventpoll") || has_prefix(n, "fsnotify"))
        return "open files: a program leaks file descriptors (ls /proc/*/fd | wc -l)";
    if (has_prefix(n, "shmem") || has_prefix(n, "tmpfs"))
        return "tmpfs/shared memory inodes: files in /dev/shm or tmpfs; see 'memwarden shm'";
    return "a kernel cache that keeps growing: compare over hours with 'memwarden slab "
           "--record' and look for what started the growth";
}
