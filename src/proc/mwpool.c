/* mwpool: see mwpool.h. */
#include "proc/mwpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

/* Field offsets of the version-1 page (struct mwpool_page). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_HEADER = 8,
    OFF_PID = 12,
    OFF_SEQ = 16,
    OFF_NAME = 24,
    OFF_BSIZE = 56,
    OFF_TOTAL = 64,
    OFF_IN_USE = 72,
    OFF_HIGH = 80,
    OFF_MAX = 88,
    OFF_FAILED = 96,
    OFF_WAITS = 104,
    OFF_TRIMMED = 112,
};

#define PAGE_READ_CAP 8192 /* a page file is 4096 bytes; more is not ours */
#define READ_TRIES    4    /* re-reads while a write is under way */

static uint32_t u32_at(const unsigned char *b, size_t off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof(v));
    return v;
}

static uint64_t u64_at(const unsigned char *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, sizeof(v));
    return v;
}

static void name_copy(char *out, const unsigned char *b)
{
    size_t i = 0;
    for (; i < MW_POOL_NAME - 1 && b[i]; i++) {
        unsigned char c = b[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[i] = ok ? (char)c : '?';
    }
    out[i] = '\0';
}

int mw_pool_parse_buf(struct mw_pool *out, const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (!b || len < MW_POOL_HEADER || u32_at(b, OFF_MAGIC) != MW_POOL_MAGIC)
        return -EBADMSG;
    if (u32_at(b, OFF_VERSION) != MW_POOL_VERSION)
        return -EPROTONOSUPPORT;
    uint32_t hdr = u32_at(b, OFF_HEADER);
    if (hdr < MW_POOL_HEADER || hdr > len)
        return -EBADMSG;
    if (memchr(b + OFF_NAME, '\0', MW_POOL_NAME) == NULL || b[OFF_NAME] == '\0')
        return -EBADMSG;
    struct mw_pool p;
    memset(&p, 0, sizeof(p));
    p.seq = u64_at(b, OFF_SEQ);
    if (p.seq % 2)
        return -EAGAIN;
    uint32_t pid = u32_at(b, OFF_PID);
    p.block_size = u64_at(b, OFF_BSIZE);
    p.blocks_total = u64_at(b, OFF_TOTAL);
    p.blocks_in_use = u64_at(b, OFF_IN_USE);
    p.high_water = u64_at(b, OFF_HIGH);
    p.max_blocks = u64_at(b, OFF_MAX);
    p.failed_gets = u64_at(b, OFF_FAILED);
    p.waits = u64_at(b, OFF_WAITS);
    p.trimmed_chunks = u64_at(b, OFF_TRIMMED);
    if (pid == 0 || pid > INT32_MAX || p.block_size == 0 || p.block_size > MW_POOL_MAX_BSIZE ||
        p.max_blocks > MW_POOL_MAX_BLOCKS || p.max_blocks > MW_POOL_MAX_BYTES / p.block_size ||
        p.blocks_total > p.max_blocks || p.blocks_in_use > p.blocks_total ||
        p.high_water > p.blocks_total)
        return -EBADMSG;
    p.pid = (int)pid;
    name_copy(p.name, b + OFF_NAME);
    *out = p;
    return 0;
}

static int set_add(struct mw_pool_set *set, const struct mw_pool *p)
{
    if (set->n == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 8;
        struct mw_pool *np = realloc(set->p, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        set->p = np;
        set->cap = ncap;
    }
    set->p[set->n++] = *p;
    return 0;
}

/* Reads one page file NAME under DIRFD: read, parse, and read again while
 * a write was under way or the seq moved. Returns 0 or -errno. */
static int read_page(int dirfd, const char *name, struct mw_pool *out)
{
    char *buf = malloc(PAGE_READ_CAP);
    int rc = buf ? -EAGAIN : -ENOMEM;
    int fd = buf ? mw_open_regular_at(dirfd, name, O_NOFOLLOW) : -ENOMEM;
    if (fd < 0) {
        free(buf);
        return fd;
    }
    for (int i = 0; i < READ_TRIES && rc == -EAGAIN; i++) {
        long n = mw_pread_all(fd, buf, PAGE_READ_CAP);
        struct mw_pool p;
        uint64_t seq;
        if (n < 0) {
            rc = (int)n;
            break;
        }
        rc = mw_pool_parse_buf(&p, buf, (size_t)n);
        if (rc == 0 && (pread(fd, &seq, sizeof(seq), 16) != (ssize_t)sizeof(seq) || seq != p.seq))
            rc = -EAGAIN; /* written meanwhile */
        if (rc == 0)
            *out = p;
    }
    close(fd);
    free(buf);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct mw_pool *)a)->name, ((const struct mw_pool *)b)->name);
}

int mw_pool_read_pid(int pools_fd, int pid, struct mw_pool_set *set)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", pid);
    DIR *d;
    int rc = mw_opendir_at(pools_fd, num, O_NOFOLLOW, &d);
    if (rc < 0)
        return rc;
    size_t start = set->n;
    struct dirent *e;
    int added = 0;
    while ((e = readdir(d)) != NULL && added < MW_POOL_MAX_PER_PID) {
        struct mw_pool p;
        if (e->d_name[0] == '.' || read_page(dirfd(d), e->d_name, &p) < 0 || p.pid != pid)
            continue;
        if (set_add(set, &p) < 0) {
            closedir(d);
            return -ENOMEM;
        }
        added++;
    }
    closedir(d);
    qsort(set->p + start, set->n - start, sizeof(*set->p), cmp_name);
    return added;
}

int mw_pool_dir_open(const struct mw_root *root, const char *dir)
{
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                 : openat(root->fd, mw_rel(MW_POOL_DIR), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int cmp_pid(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The numeric entries of DIRFD, sorted, into *PIDS (*N). Returns 0 or -errno. */
static int list_pids(int dirfd, int **pids, size_t *n)
{
    DIR *d;
    int rc = mw_opendir_at(dirfd, ".", 0, &d);
    if (rc < 0)
        return rc;
    int *v = NULL;
    size_t k = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || pid > INT32_MAX)
            continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 32;
            int *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = nv;
        }
        v[k++] = (int)pid;
    }
    closedir(d);
    if (k)
        qsort(v, k, sizeof(*v), cmp_pid);
    *pids = v;
    *n = k;
    return 0;
}

int mw_pool_scan(int dirfd, struct mw_pool_set *set)
{
    int *pids = NULL;
    size_t n = 0;
    int rc = list_pids(dirfd, &pids, &n);
    if (rc < 0)
        return rc;
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        int k = mw_pool_read_pid(dirfd, pids[i], set);
        if (k == -ENOMEM) {
            free(pids);
            return k;
        }
        total += k > 0 ? k : 0;
    }
    free(pids);
    return total;
}

size_t mw_pool_pid_bytes(const struct mw_pool_set *set, int pid, uint64_t *in_use_bytes,
                         uint64_t *room_bytes)
{
    size_t k = 0;
    uint64_t used = 0, room = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct mw_pool *p = &set->p[i];
        if (p->pid != pid)
            continue;
        /* validated: a pool's cap is at most 2^52 bytes, 256 pools: no overflow */
        used += p->blocks_in_use * p->block_size;
        room += (p->max_blocks - p->blocks_in_use) * p->block_size;
        k++;
    }
    *in_use_bytes = used;
    *room_bytes = room;
    return k;
}

void mw_pool_set_free(struct mw_pool_set *set)
{
    free(set->p);
    memset(set, 0, sizeof(*set));
}
