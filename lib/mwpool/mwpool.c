/* libmwpool: see mwpool.h.
 *
 * Layout. Blocks live in chunks (one mmap each): the first chunk holds
 * cfg.blocks, each growth chunk cfg.grow_blocks. A block is named by its
 * index (0 .. max_blocks-1); the chunk of an index is arithmetic, the
 * block's address is chunk base + slot * stride. Per-block metadata (the
 * free list's link, the debug state, the caller) lives in side arrays, not
 * in the block, so an overrun cannot corrupt the free list and a free block
 * can carry the poison pattern whole.
 *
 * Why a lock-free stack rather than a mutex plus per-thread caches: a
 * per-thread cache strands blocks in the thread that put them (a consumer
 * that only puts fills its cache while the producer starves), hides them
 * from the in-use count, trim and the leak report, and needs a TLS key per
 * pool. A Treiber stack with a 32-bit ABA tag beside the 32-bit index in
 * one 64-bit word needs no double-width CAS, keeps one truth for the
 * statistics and costs one CAS per get or put. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mwpool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NONE         UINT32_MAX
#define IN_USE       (UINT32_MAX - 1) /* next[] of a block handed out (no index is that high) */
#define MAX_BLOCKS   (1u << 30)       /* indices fit 32 bits with room for NONE */
#define HUGE_PAGE    (2u << 20)       /* MAP_HUGETLB's default size on x86-64 and arm64 */
#define POISON_BYTE  0xdb
#define GUARD_WORD   0x6d77706f6f6c2121ull /* "mwpool!!" */
#define PAGE_FILE    4096u
#define DEFAULT_DIR  "/run/mwpool"
#define DEFAULT_NAME "pool"

enum { ST_FRESH = 0, ST_FREE = 1, ST_USED = 2 };

struct chunk {
    char *base;     /* first block */
    void *map;      /* the mapping (base rounded up from it) */
    size_t map_len; /* bytes mapped */
    uint32_t first; /* index of its first block */
    uint32_t n;     /* blocks */
};

struct mwpool {
    char name[MWPOOL_PAGE_NAME];
    size_t block_size, stride, align, page_sz;
    uint32_t blocks0, grow, max_blocks;
    unsigned flags;
    bool st;                /* single thread */
    _Atomic uint64_t head;  /* tag << 32 | index of the first free block */
    _Atomic uint32_t *next; /* [max_blocks] free-list links; IN_USE while handed out */
#ifdef MWPOOL_DEBUG
    _Atomic unsigned char *state; /* [max_blocks] ST_* */
#endif
#ifdef MWPOOL_TRACE_CALLER
    const void **caller; /* [max_blocks] */
#endif
    struct chunk *chunks; /* [max chunks] */
    _Atomic uint32_t nchunks, total;
    _Atomic uint64_t in_use, high_water, failed, waits, trimmed;
    pthread_mutex_t grow_mu; /* growth and trim */
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cv;
    _Atomic int waiters;
    /* publishing */
    struct mwpool_page *page;
    int pub_dirfd, pub_piddirfd;
    char pub_pid[16];
    _Atomic int pub_busy, pub_dirty;
};

/* ---- errors ---- */

static mwpool_error_fn err_fn;
static void *err_ctx;

void mwpool_set_error_handler(mwpool_error_fn fn, void *ctx)
{
    err_fn = fn;
    err_ctx = ctx;
}

const char *mwpool_error_name(enum mwpool_error_kind k)
{
    switch (k) {
    case MWPOOL_ERR_FOREIGN:
        return "foreign pointer";
    case MWPOOL_ERR_DOUBLE_PUT:
        return "double put";
    case MWPOOL_ERR_USE_AFTER_PUT:
        return "use after put";
    case MWPOOL_ERR_OVERRUN:
        return "overrun";
    case MWPOOL_ERR_LEAK:
        return "leak";
    }
    return "error";
}

static void report(const struct mwpool *p, enum mwpool_error_kind k, const void *block,
                   const void *caller)
{
    struct mwpool_error e = {.kind = k, .pool = p->name, .block = block, .caller = caller};
    if (err_fn) {
        err_fn(&e, err_ctx);
        return;
    }
    fprintf(stderr, "mwpool %s: %s: block %p", p->name, mwpool_error_name(k), block);
    if (caller)
        fprintf(stderr, " (got by %p)", caller);
    fputc('\n', stderr);
    if (k != MWPOOL_ERR_LEAK)
        abort();
}

/* ---- counters: atomic read-modify-write unless single-threaded ---- */

static void ctr_add(const struct mwpool *p, _Atomic uint64_t *c, int64_t d)
{
    if (p->st)
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (uint64_t)d,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(c, (uint64_t)d, memory_order_relaxed);
}

static uint64_t in_use_add(struct mwpool *p, int64_t d)
{
    if (p->st) {
        uint64_t v = atomic_load_explicit(&p->in_use, memory_order_relaxed) + (uint64_t)d;
        atomic_store_explicit(&p->in_use, v, memory_order_relaxed);
        return v;
    }
    return atomic_fetch_add_explicit(&p->in_use, (uint64_t)d, memory_order_relaxed) + (uint64_t)d;
}

static void high_water(struct mwpool *p, uint64_t n)
{
    uint64_t hw = atomic_load_explicit(&p->high_water, memory_order_relaxed);
    while (n > hw) {
        if (p->st) {
            atomic_store_explicit(&p->high_water, n, memory_order_relaxed);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&p->high_water, &hw, n, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

/* ---- block index <-> address ---- */

static uint32_t chunk_of(const struct mwpool *p, uint32_t idx)
{
    return idx < p->blocks0 ? 0 : 1 + (idx - p->blocks0) / p->grow;
}

static char *block_addr(const struct mwpool *p, uint32_t idx)
{
    const struct chunk *c = &p->chunks[chunk_of(p, idx)];
    return c->base + (size_t)(idx - c->first) * p->stride;
}

/* The index of BLOCK, or NONE when it is not the start of a block of P. */
static uint32_t block_index(const struct mwpool *p, const void *block)
{
    uint32_t n = atomic_load_explicit(&p->nchunks, memory_order_acquire);
    uintptr_t a = (uintptr_t)block;
    for (uint32_t k = 0; k < n; k++) {
        const struct chunk *c = &p->chunks[k];
        uintptr_t b = (uintptr_t)c->base;
        if (a < b || a - b >= (uintptr_t)c->n * p->stride) /* b + len may wrap on 32 bits */
            continue;
        if ((a - b) % p->stride)
            return NONE;
        return c->first + (uint32_t)((a - b) / p->stride);
    }
    return NONE;
}

/* ---- the free list ---- */

/* Pushes the chain FIRST .. LAST (linked through next[]) on the list. */
static void push_chain(struct mwpool *p, uint32_t first, uint32_t last)
{
    uint64_t h = atomic_load_explicit(&p->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&p->next[last], (uint32_t)h, memory_order_relaxed);
        uint64_t nh = ((h >> 32) + 1) << 32 | first;
        if (p->st) {
            atomic_store_explicit(&p->head, nh, memory_order_relaxed);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&p->head, &h, nh, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static uint32_t pop(struct mwpool *p)
{
    uint64_t h = atomic_load_explicit(&p->head, memory_order_acquire);
    for (;;) {
        uint32_t idx = (uint32_t)h;
        if (idx == NONE)
            return NONE;
        uint32_t nx = atomic_load_explicit(&p->next[idx], memory_order_relaxed);
        uint64_t nh = ((h >> 32) + 1) << 32 | nx;
        if (p->st) {
            atomic_store_explicit(&p->head, nh, memory_order_relaxed);
            return idx;
        }
        if (atomic_compare_exchange_weak_explicit(&p->head, &h, nh, memory_order_acquire,
                                                  memory_order_acquire))
            return idx;
    }
}

/* ---- chunks ---- */

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* Maps chunk K of N blocks starting at index FIRST and pushes its blocks.
 * Returns 0 or -ENOMEM. Called with grow_mu held (or at create). */
static int chunk_add(struct mwpool *p, uint32_t k, uint32_t first, uint32_t n)
{
    size_t body = (size_t)n * p->stride;
    size_t extra = p->align > p->page_sz ? p->align : 0;
    int mflags = MAP_PRIVATE | MAP_ANONYMOUS | (p->flags & MWPOOL_PREFAULT ? MAP_POPULATE : 0);
    size_t len = 0;
    void *m = MAP_FAILED;
    if (p->flags & MWPOOL_HUGETLB) {
        len = round_up(body + extra, HUGE_PAGE);
        m = mmap(NULL, len, PROT_READ | PROT_WRITE, mflags | MAP_HUGETLB, -1, 0);
    }
    if (m == MAP_FAILED) { /* no huge pages reserved: normal pages */
        len = round_up(body + extra, p->page_sz);
        m = mmap(NULL, len, PROT_READ | PROT_WRITE, mflags, -1, 0);
    }
    if (m == MAP_FAILED)
        return -ENOMEM;
    if (p->flags & MWPOOL_HUGE_ADVICE)
        (void)madvise(m, len, MADV_HUGEPAGE); /* advice: THP may be off */
    struct chunk *c = &p->chunks[k];
    c->map = m;
    c->map_len = len;
    c->base = (char *)round_up((uintptr_t)m, p->align);
    c->first = first;
    c->n = n;
    for (uint32_t i = 0; i + 1 < n; i++)
        atomic_store_explicit(&p->next[first + i], first + i + 1, memory_order_relaxed);
    atomic_store_explicit(&p->total, first + n, memory_order_relaxed);
    atomic_store_explicit(&p->nchunks, k + 1, memory_order_release);
    push_chain(p, first, first + n - 1);
    return 0;
}

/* Adds one growth chunk unless at the cap. Returns 0, -ENOSPC at the cap
 * or -ENOMEM. */
static int grow(struct mwpool *p)
{
    uint32_t total = atomic_load_explicit(&p->total, memory_order_relaxed);
    if (total >= p->max_blocks)
        return -ENOSPC;
    uint32_t n = p->max_blocks - total < p->grow ? p->max_blocks - total : p->grow;
    return chunk_add(p, atomic_load_explicit(&p->nchunks, memory_order_relaxed), total, n);
}

/* ---- publishing ---- */

static void page_store(uint64_t *f, uint64_t v)
{
    /* release: the odd seq before it is seen first (no fence needed) */
    __atomic_store_n(f, v, __ATOMIC_RELEASE);
}

static void page_write(struct mwpool *p)
{
    struct mwpool_page *g = p->page;
    uint64_t s = __atomic_load_n(&g->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&g->seq, s + 1, __ATOMIC_RELAXED);
    page_store(&g->blocks_total, atomic_load_explicit(&p->total, memory_order_relaxed));
    page_store(&g->blocks_in_use, atomic_load_explicit(&p->in_use, memory_order_relaxed));
    page_store(&g->high_water, atomic_load_explicit(&p->high_water, memory_order_relaxed));
    page_store(&g->failed_gets, atomic_load_explicit(&p->failed, memory_order_relaxed));
    page_store(&g->waits, atomic_load_explicit(&p->waits, memory_order_relaxed));
    page_store(&g->trimmed_chunks, atomic_load_explicit(&p->trimmed, memory_order_relaxed));
    __atomic_store_n(&g->seq, s + 2, __ATOMIC_RELEASE);
}

/* Brings the page up to date. One writer at a time; a caller that finds
 * the writer busy marks the page dirty and the writer goes round again. */
static void publish_update(struct mwpool *p)
{
    if (!p->page)
        return;
    if (p->st) {
        page_write(p);
        return;
    }
    atomic_store(&p->pub_dirty, 1);
    while (atomic_load(&p->pub_dirty) && !atomic_exchange(&p->pub_busy, 1)) {
        atomic_store(&p->pub_dirty, 0);
        page_write(p);
        atomic_store(&p->pub_busy, 0);
    }
}

/* Opens (making it 0755 when missing) the directory NAME under DIRFD,
 * never through a symlink. Returns the descriptor or -errno. */
static int dir_at(int dirfd, const char *name)
{
    if (mkdirat(dirfd, name, 0755) == 0) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            (void)fchmod(fd, 0755); /* a strict umask would hide it from readers */
        return fd < 0 ? -errno : fd;
    }
    if (errno != EEXIST)
        return -errno;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Creates the page file NAME under DIRFD (O_EXCL, replacing a stale one
 * once). Returns the descriptor or -errno. */
static int page_file(int dirfd, const char *name)
{
    int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, name, flags, 0644);
    if (fd < 0 && errno == EEXIST && unlinkat(dirfd, name, 0) == 0)
        fd = openat(dirfd, name, flags, 0644);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, 0644) < 0 || ftruncate(fd, PAGE_FILE) < 0) {
        int e = -errno;
        close(fd);
        unlinkat(dirfd, name, 0);
        return e;
    }
    return fd;
}

int mwpool_publish(struct mwpool *p)
{
    if (p->page)
        return 0;
    const char *env = getenv("MWPOOL_DIR");
    const char *dir = env && *env ? env : DEFAULT_DIR;
    int rc, fd = -1;
    int dfd = dir_at(AT_FDCWD, dir);
    int pfd = -1;
    if (dfd < 0)
        return dfd;
    snprintf(p->pub_pid, sizeof(p->pub_pid), "%ld", (long)getpid());
    pfd = rc = dir_at(dfd, p->pub_pid);
    if (rc < 0)
        goto fail;
    fd = rc = page_file(pfd, p->name);
    if (rc < 0)
        goto fail;
    void *m = mmap(NULL, PAGE_FILE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        rc = -errno;
        unlinkat(pfd, p->name, 0);
        goto fail;
    }
    close(fd);
    struct mwpool_page *g = m;
    memset(g, 0, sizeof(*g));
    g->version = MWPOOL_PAGE_VERSION;
    g->header_size = sizeof(*g);
    g->pid = (uint32_t)getpid();
    memcpy(g->name, p->name, sizeof(g->name));
    g->block_size = p->block_size;
    g->max_blocks = p->max_blocks;
    __atomic_store_n(&g->magic, MWPOOL_PAGE_MAGIC, __ATOMIC_RELEASE);
    p->pub_dirfd = dfd;
    p->pub_piddirfd = pfd;
    p->page = g;
    publish_update(p);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    if (pfd >= 0)
        close(pfd);
    close(dfd);
    return rc;
}

static void unpublish(struct mwpool *p)
{
    if (!p->page)
        return;
    munmap(p->page, PAGE_FILE);
    unlinkat(p->pub_piddirfd, p->name, 0);
    unlinkat(p->pub_dirfd, p->pub_pid, AT_REMOVEDIR); /* fails while other pools remain */
    close(p->pub_piddirfd);
    close(p->pub_dirfd);
    p->page = NULL;
}

/* ---- create / destroy ---- */

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MWPOOL_PAGE_NAME || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* Checks CFG and fills P's geometry. Returns 0 or -EINVAL / -EOVERFLOW. */
static int geometry(struct mwpool *p, const struct mwpool_config *cfg)
{
    long pg = sysconf(_SC_PAGESIZE);
    p->page_sz = pg > 0 ? (size_t)pg : 4096;
    if (!cfg->block_size || !cfg->blocks || (cfg->name && !name_ok(cfg->name)))
        return -EINVAL;
    p->align = cfg->align ? cfg->align : cfg->flags & MWPOOL_PAGE_ALIGN ? p->page_sz : 64;
    if (p->align & (p->align - 1) || p->align > HUGE_PAGE)
        return -EINVAL;
    size_t max = cfg->max_blocks > cfg->blocks ? cfg->max_blocks : cfg->blocks;
    if (max >= MAX_BLOCKS || cfg->block_size > SIZE_MAX / 4)
        return -EOVERFLOW;
    size_t need = cfg->block_size;
#ifdef MWPOOL_DEBUG
    need += sizeof(uint64_t); /* the guard word right after the block */
#endif
    p->block_size = cfg->block_size;
    p->stride = round_up(need, p->align);
    /* a chunk maps its blocks plus the alignment's slack, rounded up to the
     * (huge) page: on 32 bits that sum must not wrap to 0 either */
    if (p->stride > (SIZE_MAX - 2 * (size_t)HUGE_PAGE) / max)
        return -EOVERFLOW;
    p->blocks0 = (uint32_t)cfg->blocks;
    p->max_blocks = (uint32_t)max;
    p->grow =
        cfg->grow_blocks ? (uint32_t)(cfg->grow_blocks < max ? cfg->grow_blocks : max) : p->blocks0;
    p->flags = cfg->flags;
    p->st = cfg->flags & MWPOOL_SINGLE_THREAD;
    snprintf(p->name, sizeof(p->name), "%s", cfg->name ? cfg->name : DEFAULT_NAME);
    return 0;
}

static void pool_free(struct mwpool *p)
{
    uint32_t n = atomic_load(&p->nchunks);
    for (uint32_t k = 0; k < n; k++)
        munmap(p->chunks[k].map, p->chunks[k].map_len);
    free(p->chunks);
    free((void *)p->next);
#ifdef MWPOOL_DEBUG
    free((void *)p->state);
#endif
#ifdef MWPOOL_TRACE_CALLER
    free(p->caller);
#endif
    if (!p->st) {
        pthread_mutex_destroy(&p->grow_mu);
        pthread_mutex_destroy(&p->wait_mu);
        pthread_cond_destroy(&p->wait_cv);
    }
    free(p);
}

/* The side arrays and the locks. Returns 0 or -ENOMEM. */
static int pool_alloc(struct mwpool *p)
{
    uint32_t nchunks = 1 + (p->max_blocks - p->blocks0 + p->grow - 1) / p->grow;
    /* calloc: the untouched tail of a large cap costs address space only */
    p->chunks = calloc(nchunks, sizeof(*p->chunks));
    p->next = calloc(p->max_blocks, sizeof(*p->next));
    if (!p->chunks || !p->next)
        return -ENOMEM;
#ifdef MWPOOL_DEBUG
    if (!(p->state = calloc(p->max_blocks, 1)))
        return -ENOMEM;
#endif
#ifdef MWPOOL_TRACE_CALLER
    if (!(p->caller = calloc(p->max_blocks, sizeof(*p->caller))))
        return -ENOMEM;
#endif
    if (!p->st) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&p->grow_mu, NULL);
        pthread_mutex_init(&p->wait_mu, NULL);
        pthread_cond_init(&p->wait_cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    return 0;
}

int mwpool_create(const struct mwpool_config *cfg, struct mwpool **out)
{
    struct mwpool *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    bool st = cfg->flags & MWPOOL_SINGLE_THREAD;
    int rc = geometry(p, cfg);
    if (rc < 0) {
        free(p);
        return rc;
    }
    atomic_init(&p->head, NONE);
    rc = pool_alloc(p);
    if (rc == 0)
        rc = chunk_add(p, 0, 0, p->blocks0);
    if (rc < 0) {
        p->st = st;
        pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void mwpool_destroy(struct mwpool *p)
{
    if (!p)
        return;
#ifdef MWPOOL_DEBUG
    uint32_t total = atomic_load(&p->total);
    for (uint32_t i = 0; i < total; i++) {
        if (atomic_load_explicit(&p->state[i], memory_order_relaxed) != ST_USED)
            continue;
        const void *caller = NULL;
#ifdef MWPOOL_TRACE_CALLER
        caller = p->caller[i];
#endif
        report(p, MWPOOL_ERR_LEAK, block_addr(p, i), caller);
    }
#endif
    unpublish(p);
    pool_free(p);
}

/* ---- get / put ---- */

#ifdef MWPOOL_DEBUG
/* Debug checks at get: a block put before must still hold the poison. */
static void debug_got(struct mwpool *p, uint32_t idx, char *b, const void *caller)
{
    unsigned char old = atomic_exchange(&p->state[idx], ST_USED);
    if (old == ST_FREE)
        for (size_t i = 0; i < p->block_size; i++)
            if ((unsigned char)b[i] != POISON_BYTE) {
                report(p, MWPOOL_ERR_USE_AFTER_PUT, b, caller);
                break;
            }
    uint64_t g = GUARD_WORD;
    memcpy(b + p->block_size, &g, sizeof(g));
}

/* Debug checks at put (the block was claimed): the guard word, then the
 * poison the next get checks. */
static void debug_put(struct mwpool *p, uint32_t idx, char *b, const void *caller)
{
    atomic_store(&p->state[idx], ST_FREE);
    uint64_t g;
    memcpy(&g, b + p->block_size, sizeof(g));
    if (g != GUARD_WORD)
        report(p, MWPOOL_ERR_OVERRUN, b, caller);
    memset(b, POISON_BYTE, p->block_size);
}
#endif

/* Claims IDX for a put: its link goes from IN_USE (set when it was handed
 * out) to NONE, in one compare-and-swap, so of two puts of one block (one
 * after the other, or two threads at once) exactly one gets it; a block
 * on the free list has a real link and is never claimed. Returns false
 * for a double put. Every build: the free list then never holds a block
 * twice, so no block is handed out twice. */
static bool claim(struct mwpool *p, uint32_t idx)
{
    uint32_t want = IN_USE;
    if (p->st) {
        if (atomic_load_explicit(&p->next[idx], memory_order_relaxed) != IN_USE)
            return false;
        atomic_store_explicit(&p->next[idx], NONE, memory_order_relaxed);
        return true;
    }
    return atomic_compare_exchange_strong_explicit(&p->next[idx], &want, NONE, memory_order_relaxed,
                                                   memory_order_relaxed);
}

/* Pops a block, growing once when the list is empty. NONE when none. */
static uint32_t take(struct mwpool *p)
{
    uint32_t idx = pop(p);
    if (idx != NONE)
        return idx;
    if (p->st)
        return grow(p) == 0 ? pop(p) : NONE;
    /* the mutex also waits out a trim that holds every free block */
    pthread_mutex_lock(&p->grow_mu);
    idx = pop(p);
    if (idx == NONE && grow(p) == 0)
        idx = pop(p);
    pthread_mutex_unlock(&p->grow_mu);
    return idx;
}

static void *hand_out(struct mwpool *p, uint32_t idx, const void *caller)
{
    char *b = block_addr(p, idx);
    /* ours alone now (popped): a plain store marks it handed out */
    atomic_store_explicit(&p->next[idx], IN_USE, memory_order_relaxed);
    high_water(p, in_use_add(p, 1));
#ifdef MWPOOL_DEBUG
    debug_got(p, idx, b, caller);
#endif
#ifdef MWPOOL_TRACE_CALLER
    p->caller[idx] = caller;
#endif
    (void)caller;
    publish_update(p);
    return b;
}

static void *get_impl(struct mwpool *p, long timeout_ms, const void *caller)
{
    uint32_t idx = take(p);
    if (idx == NONE && timeout_ms != 0 && !p->st) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        if (timeout_ms > 0) {
            dl.tv_sec += timeout_ms / 1000;
            dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
            dl.tv_sec += dl.tv_nsec / 1000000000L;
            dl.tv_nsec %= 1000000000L;
        }
        ctr_add(p, &p->waits, 1);
        pthread_mutex_lock(&p->wait_mu);
        atomic_fetch_add(&p->waiters, 1);
        int rc = 0;
        while ((idx = pop(p)) == NONE && rc != ETIMEDOUT)
            rc = timeout_ms < 0 ? pthread_cond_wait(&p->wait_cv, &p->wait_mu)
                                : pthread_cond_timedwait(&p->wait_cv, &p->wait_mu, &dl);
        atomic_fetch_sub(&p->waiters, 1);
        pthread_mutex_unlock(&p->wait_mu);
    }
    if (idx == NONE) {
        ctr_add(p, &p->failed, 1);
        publish_update(p);
        return NULL;
    }
    return hand_out(p, idx, caller);
}

void *mwpool_try_get(struct mwpool *p)
{
    return get_impl(p, 0, __builtin_return_address(0));
}

void *mwpool_get(struct mwpool *p, long timeout_ms)
{
    return get_impl(p, timeout_ms, __builtin_return_address(0));
}

int mwpool_put(struct mwpool *p, void *block)
{
    if (!block)
        return 0;
    const void *caller = __builtin_return_address(0);
    uint32_t idx = block_index(p, block);
    if (idx == NONE) {
        report(p, MWPOOL_ERR_FOREIGN, block, caller);
        return -EINVAL;
    }
    if (!claim(p, idx)) {
        report(p, MWPOOL_ERR_DOUBLE_PUT, block, caller);
        return -EINVAL; /* not pushed: the free list holds each block once */
    }
#ifdef MWPOOL_DEBUG
    debug_put(p, idx, block, caller);
#endif
    (void)caller;
    in_use_add(p, -1);
    push_chain(p, idx, idx);
    if (!p->st && atomic_load(&p->waiters) > 0) {
        pthread_mutex_lock(&p->wait_mu);
        pthread_cond_signal(&p->wait_cv);
        pthread_mutex_unlock(&p->wait_mu);
    }
    publish_update(p);
    return 0;
}

/* ---- trim and stats ---- */

/* Takes the whole free list, gives back the chunks it holds entirely and
 * pushes it back. Called with grow_mu held: a get that finds the list
 * empty meanwhile waits on grow_mu (take) instead of failing. */
static int trim_locked(struct mwpool *p)
{
    uint32_t n = atomic_load(&p->nchunks);
    uint32_t *cnt = calloc(n, sizeof(*cnt));
    if (!cnt)
        return -ENOMEM;
    uint64_t h = atomic_load(&p->head), empty;
    do /* the tag only ever grows */
        empty = ((h >> 32) + 1) << 32 | NONE;
    while (!atomic_compare_exchange_weak(&p->head, &h, empty));
    uint32_t first = (uint32_t)h, last = NONE;
    for (uint32_t i = first; i != NONE;
         i = atomic_load_explicit(&p->next[i], memory_order_relaxed)) {
        cnt[chunk_of(p, i)]++;
        last = i;
    }
    int trimmed = 0;
    for (uint32_t k = 0; k < n; k++) {
        struct chunk *c = &p->chunks[k];
        if (cnt[k] != c->n)
            continue;
        if (madvise(c->map, c->map_len, MADV_DONTNEED) == 0)
            trimmed++;
#ifdef MWPOOL_DEBUG
        for (uint32_t i = 0; i < c->n; i++) /* zero pages now: no poison to check */
            atomic_store(&p->state[c->first + i], ST_FRESH);
#endif
    }
    if (first != NONE)
        push_chain(p, first, last);
    free(cnt);
    ctr_add(p, &p->trimmed, trimmed);
    return trimmed;
}

int mwpool_trim(struct mwpool *p)
{
    if (p->st)
        return trim_locked(p);
    pthread_mutex_lock(&p->grow_mu);
    int rc = trim_locked(p);
    pthread_mutex_unlock(&p->grow_mu);
    publish_update(p);
    return rc;
}

void mwpool_stats(const struct mwpool *p, struct mwpool_stats *out)
{
    struct mwpool *q = (struct mwpool *)p; /* atomic loads take non-const pointers in C11 */
    memset(out, 0, sizeof(*out));
    out->block_size = p->block_size;
    out->blocks_total = atomic_load(&q->total);
    out->blocks_in_use = atomic_load(&q->in_use);
    out->high_water = atomic_load(&q->high_water);
    out->max_blocks = p->max_blocks;
    out->failed_gets = atomic_load(&q->failed);
    out->waits = atomic_load(&q->waits);
    out->trimmed_chunks = atomic_load(&q->trimmed);
}

size_t mwpool_block_size(const struct mwpool *p)
{
    return p->block_size;
}
