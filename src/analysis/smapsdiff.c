#include "analysis/smapsdiff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

enum mw_region_class mw_region_classify(const char *path, int shared)
{
    if (strcmp(path, "[heap]") == 0)
        return MW_REGION_HEAP;
    if (prefix(path, "[stack"))
        return MW_REGION_STACK;
    if (prefix(path, "[anon:") || prefix(path, "[anon_shmem:"))
        return prefix(path, "[anon_shmem:") ? MW_REGION_SHMEM : MW_REGION_NAMED;
    if (prefix(path, "/SYSV") || prefix(path, "/dev/shm/") || prefix(path, "/memfd:") ||
        prefix(path, "/dev/zero") || prefix(path, "/run/shm/"))
        return MW_REGION_SHMEM;
    if (path[0] == '[')
        return MW_REGION_OTHER;
    if (path[0] == '\0')
        return shared ? MW_REGION_SHMEM : MW_REGION_ANON;
    return MW_REGION_FILE;
}

const char *mw_region_class_name(enum mw_region_class c)
{
    static const char *const names[] = {"heap", "anon", "stack", "file", "shmem", "named", "other"};
    return (size_t)c < MW_REGION_COUNT ? names[c] : "other";
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A mapping header: "start-end perms offset dev inode [path]". */
static bool parse_header(const char *line, const char *end, uint64_t *size, int *shared, char *path,
                         size_t cap)
{
    const char *p = line;
    char *e;
    if (!is_hex(*p))
        return false;
    unsigned long long a = strtoull(p, &e, 16);
    if (*e != '-')
        return false;
    p = e + 1;
    unsigned long long b = strtoull(p, &e, 16);
    if (e == p || *e != ' ' || b < a)
        return false;
    p = e + 1;
    if (end - p < 5 || (p[3] != 'p' && p[3] != 's'))
        return false;
    *shared = p[3] == 's';
    p += 4;
    for (int f = 0; f < 3; f++) { /* offset, dev, inode */
        while (p < end && *p == ' ')
            p++;
        if (p >= end)
            return false;
        while (p < end && *p != ' ')
            p++;
    }
    while (p < end && *p == ' ')
        p++;
    size_t n = (size_t)(end - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(path, p, n);
    path[n] = '\0';
    *size = b - a;
    return true;
}

static long find_or_add(struct mw_regions *r, size_t *cap, const char *label,
                        enum mw_region_class cls)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->r[i].cls == cls && strcmp(r->r[i].label, label) == 0)
            return (long)i;
    if (r->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct mw_region *p = realloc(r->r, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        r->r = p;
        *cap = nc;
    }
    struct mw_region *x = &r->r[r->n];
    memset(x, 0, sizeof(*x));
    snprintf(x->label, sizeof(x->label), "%.127s", label);
    x->cls = cls;
    return (long)r->n++;
}

int mw_regions_parse_buf(struct mw_regions *out, const char *buf)
{
    struct mw_regions r;
    memset(&r, 0, sizeof(r));
    size_t cap = 0;
    long cur = -1;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        const char *end = p + len;
        uint64_t size;
        int shared;
        char path[256];
        if (parse_header(p, end, &size, &shared, path, sizeof(path))) {
            /* " (deleted)" is kept off the label so a file replaced on disk
             * still groups with itself */
            size_t pl = strlen(path);
            if (pl > 10 && strcmp(path + pl - 10, " (deleted)") == 0)
                path[pl - 10] = '\0';
            enum mw_region_class cls = mw_region_classify(path, shared);
            const char *label = path;
            if (cls == MW_REGION_ANON)
                label = "anon mmap";
            else if (cls == MW_REGION_SHMEM && !path[0])
                label = "shared anon";
            else if (cls == MW_REGION_STACK)
                label = "[stack]";
            cur = find_or_add(&r, &cap, label, cls);
            if (cur < 0) {
                free(r.r);
                return -ENOMEM;
            }
            r.r[cur].size += size;
            r.r[cur].count++;
        } else if (cur >= 0) {
            uint64_t *dst = NULL;
            const char *q = NULL;
            if (prefix(p, "Rss:")) {
                dst = &r.r[cur].rss;
                q = p + 4;
            } else if (prefix(p, "Pss:")) {
                dst = &r.r[cur].pss;
                q = p + 4;
            } else if (prefix(p, "Swap:")) {
                dst = &r.r[cur].swap;
                q = p + 5;
            }
            uint64_t kb;
            if (dst && mw_scan_u64(&q, &kb) == 0 && kb < (UINT64_MAX >> 11)) {
                *dst += kb * 1024;
                if (dst == &r.r[cur].rss)
                    r.class_rss[r.r[cur].cls] += kb * 1024;
                else if (dst == &r.r[cur].swap)
                    r.class_swap[r.r[cur].cls] += kb * 1024;
            }
        }
    }
    if (r.n == 0) {
        free(r.r);
        return -ENODATA;
    }
    *out = r;
    return 0;
}

int mw_regions_read(const struct mw_root *root, int pid, struct mw_regions *out)
{
    char path[64], *buf = NULL;
    snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_regions_parse_buf(out, buf);
    free(buf);
    return rc;
}

void mw_regions_free(struct mw_regions *r)
{
    free(r->r);
    memset(r, 0, sizeof(*r));
}

static int64_t held(const struct mw_region *x)
{
    uint64_t v = x->rss + x->swap;
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int cmp_rd(const void *a, const void *b)
{
    const struct mw_region_delta *x = a, *y = b;
    if (x->delta_bytes != y->delta_bytes)
        return x->delta_bytes < y->delta_bytes ? 1 : -1;
    return strcmp(x->label, y->label);
}

int mw_regions_diff(const struct mw_regions *a, const struct mw_regions *b,
                    struct mw_region_delta **out, size_t *n)
{
    struct mw_region_delta *d = calloc(a->n + b->n + 1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        int64_t before = 0;
        for (size_t j = 0; j < a->n; j++)
            if (a->r[j].cls == b->r[i].cls && strcmp(a->r[j].label, b->r[i].label) == 0)
                before = held(&a->r[j]);
        snprintf(d[k].label, sizeof(d[k].label), "%s", b->r[i].label);
        d[k].cls = b->r[i].cls;
        d[k].delta_bytes = held(&b->r[i]) - before;
        k++;
    }
    for (size_t j = 0; j < a->n; j++) {
        bool found = false;
        for (size_t i = 0; i < b->n && !found; i++)
            found = a->r[j].cls == b->r[i].cls && strcmp(a->r[j].label, b->r[i].label) == 0;
        if (found)
            continue;
        snprintf(d[k].label, sizeof(d[k].label), "%s", a->r[j].label);
        d[k].cls = a->r[j].cls;
        d[k].delta_bytes = -held(&a->r[j]);
        k++;
    }
    qsort(d, k, sizeof(*d), cmp_rd);
    *out = d;
    *n = k;
    return 0;
}

void mw_regions_class_diff(const struct mw_regions *a, const struct mw_regions *b,
                           int64_t out[MW_REGION_COUNT])
{
    for (int c = 0; c < MW_REGION_COUNT; c++)
        out[c] = (int64_t)(b->class_rss[c] + b->class_swap[c]) -
                 (int64_t)(a->class_rss[c] + a->class_swap[c]);
}
