/* libmwpool, built with -DMWPOOL_DEBUG -DMWPOOL_TRACE_CALLER: the pool's
 * contract (get/put, exhaustion, timeouts, growth, trim, single-thread
 * mode), every debug check triggered once and reported through the error
 * handler (so no check aborts the harness), and publishing. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "mwpool.h"

static struct {
    enum mwpool_error_kind kind[16];
    const void *block[16], *caller[16];
    int n;
} errs;

static void on_error(const struct mwpool_error *e, void *ctx)
{
    (void)ctx;
    if (errs.n < 16) {
        errs.kind[errs.n] = e->kind;
        errs.block[errs.n] = e->block;
        errs.caller[errs.n] = e->caller;
    }
    errs.n++;
}

static struct mwpool *make(size_t size, size_t n, size_t max, unsigned flags)
{
    struct mwpool_config c = {.block_size = size, .blocks = n, .max_blocks = max, .flags = flags};
    struct mwpool *p = NULL;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    return p;
}

static void test_get_put(void)
{
    struct mwpool *p = make(100, 4, 0, 0);
    void *b[5];
    for (int i = 0; i < 4; i++) {
        b[i] = mwpool_try_get(p);
        CHECK(b[i] != NULL);
        CHECK_EQ_U64((uintptr_t)b[i] % 64, 0);
        memset(b[i], i, 100);
    }
    b[4] = mwpool_try_get(p);
    CHECK(b[4] == NULL);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.blocks_total, 4);
    CHECK_EQ_U64(s.blocks_in_use, 4);
    CHECK_EQ_U64(s.high_water, 4);
    CHECK_EQ_U64(s.failed_gets, 1);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(mwpool_put(p, b[i]), 0);
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.blocks_in_use, 0);
    CHECK_EQ_U64(s.high_water, 4);
    CHECK_EQ_INT(mwpool_put(p, NULL), 0);
    mwpool_destroy(p);
    CHECK_EQ_INT(errs.n, 0);
}

static void test_config(void)
{
    struct mwpool *p = NULL;
    struct mwpool_config c = {.block_size = 0, .blocks = 1};
    CHECK_EQ_INT(mwpool_create(&c, &p), -EINVAL);
    c.block_size = 8;
    c.blocks = 0;
    CHECK_EQ_INT(mwpool_create(&c, &p), -EINVAL);
    c.blocks = 1;
    c.align = 48;
    CHECK_EQ_INT(mwpool_create(&c, &p), -EINVAL);
    c.align = 0;
    c.name = "../etc";
    CHECK_EQ_INT(mwpool_create(&c, &p), -EINVAL);
    c.name = NULL;
    c.blocks = (size_t)1 << 31;
    CHECK_EQ_INT(mwpool_create(&c, &p), -EOVERFLOW);
    CHECK(p == NULL);
    c.blocks = 3;
    c.flags = MWPOOL_PAGE_ALIGN | MWPOOL_HUGE_ADVICE | MWPOOL_HUGETLB | MWPOOL_PREFAULT;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    void *a = mwpool_try_get(p), *b = mwpool_try_get(p);
    CHECK_EQ_U64((uintptr_t)a % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    CHECK_EQ_U64((uintptr_t)b % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    mwpool_put(p, a);
    mwpool_put(p, b);
    mwpool_destroy(p);
}

/* Sizes past 2^32 bytes. A cap of 5000 blocks of 1 MiB (4.9 GiB) is a pool
 * on a 64-bit machine (the first block only is mapped) and -EOVERFLOW on a
 * 32-bit one. 2047 blocks of 2 MiB - 64 aligned to 2 MiB are 4 GiB - 2 MiB:
 * the mapping's alignment slack made the length 2^32, 0 in a 32-bit size_t
 * (mmap failed: -ENOMEM, where the contract says -EOVERFLOW). */
static void test_sizes_past_32_bits(void)
{
    struct mwpool *p = NULL;
    struct mwpool_config c = {.block_size = 1 << 20, .blocks = 1, .max_blocks = 5000};
    int rc = mwpool_create(&c, &p);
    if (SIZE_MAX <= UINT32_MAX) {
        CHECK_EQ_INT(rc, -EOVERFLOW);
        CHECK(p == NULL);
        c = (struct mwpool_config){.block_size = (2 << 20) - 64, .blocks = 2047, .align = 2 << 20};
        CHECK_EQ_INT(mwpool_create(&c, &p), -EOVERFLOW);
        CHECK(p == NULL);
        return;
    }
    CHECK_EQ_INT(rc, 0);
    void *a = mwpool_try_get(p), *b = mwpool_try_get(p); /* the second one grows */
    CHECK(a != NULL && b != NULL);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.max_blocks * s.block_size, UINT64_C(5000) << 20);
    CHECK_EQ_U64(s.blocks_total, 2);
    CHECK_EQ_INT(mwpool_put(p, a), 0);
    CHECK_EQ_INT(mwpool_put(p, b), 0);
    mwpool_destroy(p);
}

static void test_growth(void)
{
    struct mwpool_config c = {.block_size = 32, .blocks = 2, .max_blocks = 7, .grow_blocks = 3};
    struct mwpool *p = NULL;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    void *b[8];
    int got = 0;
    while (got < 8 && (b[got] = mwpool_try_get(p)) != NULL)
        got++;
    CHECK_EQ_INT(got, 7);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.blocks_total, 7);
    CHECK_EQ_U64(s.max_blocks, 7);
    for (int i = 0; i < got; i++)
        for (int k = i + 1; k < got; k++)
            CHECK(b[i] != b[k]);
    for (int i = 0; i < got; i++)
        CHECK_EQ_INT(mwpool_put(p, b[i]), 0);
    mwpool_destroy(p);
    CHECK_EQ_INT(errs.n, 0);
}

static void *put_later(void *arg)
{
    void **a = arg;
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    mwpool_put(a[0], a[1]);
    return NULL;
}

static void test_timeout(void)
{
    struct mwpool *p = make(64, 1, 0, 0);
    void *b = mwpool_get(p, 0);
    CHECK(b != NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(mwpool_get(p, 60) == NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 55);
    /* a waiter is woken by a put from another thread */
    void *arg[2] = {p, b};
    pthread_t th;
    pthread_create(&th, NULL, put_later, arg);
    void *c = mwpool_get(p, 5000);
    CHECK(c == b);
    pthread_join(th, NULL);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.waits, 2);
    CHECK_EQ_U64(s.failed_gets, 1);
    mwpool_put(p, c);
    mwpool_destroy(p);
}

static void test_single_thread(void)
{
    struct mwpool *p = make(24, 2, 4, MWPOOL_SINGLE_THREAD);
    void *b[4];
    for (int i = 0; i < 4; i++)
        CHECK((b[i] = mwpool_get(p, 100)) != NULL);
    CHECK(mwpool_get(p, 100) == NULL); /* never waits */
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(mwpool_put(p, b[i]), 0);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.blocks_in_use, 0);
    CHECK_EQ_U64(s.high_water, 4);
    CHECK_EQ_U64(s.waits, 0);
    mwpool_destroy(p);
}

static void test_trim(void)
{
    struct mwpool_config c = {
        .block_size = 4096, .blocks = 16, .max_blocks = 32, .grow_blocks = 16};
    struct mwpool *p = NULL;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    void *b[32];
    for (int i = 0; i < 32; i++) {
        b[i] = mwpool_try_get(p);
        memset(b[i], 0x55, 4096);
    }
    mwpool_put(p, b[0]); /* the first chunk stays in use: only the second goes */
    for (int i = 16; i < 32; i++)
        mwpool_put(p, b[i]);
    CHECK_EQ_INT(mwpool_trim(p), 1); /* blocks come in index order: 16..31 are chunk 2 */
    for (int i = 1; i < 16; i++)
        mwpool_put(p, b[i]);
    CHECK_EQ_INT(mwpool_trim(p), 2);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.trimmed_chunks, 3);
    unsigned char *x = mwpool_try_get(p); /* a trimmed block faults in zeroed */
    CHECK(x && x[0] == 0 && x[4095] == 0);
    mwpool_put(p, x);
    mwpool_destroy(p);
    CHECK_EQ_INT(errs.n, 0);
}

static void test_debug_double_put(void)
{
    struct mwpool *p = make(64, 2, 0, 0);
    errs.n = 0;
    void *b = mwpool_try_get(p);
    CHECK_EQ_INT(mwpool_put(p, b), 0);
    CHECK_EQ_INT(mwpool_put(p, b), -EINVAL);
    CHECK_EQ_INT(errs.n, 1);
    CHECK(errs.kind[0] == MWPOOL_ERR_DOUBLE_PUT && errs.block[0] == b);
    struct mwpool_stats s;
    mwpool_stats(p, &s);
    CHECK_EQ_U64(s.blocks_in_use, 0);
    mwpool_destroy(p);
    errs.n = 0;
}

static void test_debug_foreign(void)
{
    struct mwpool *p = make(64, 2, 0, 0);
    errs.n = 0;
    char *b = mwpool_try_get(p);
    int local;
    CHECK_EQ_INT(mwpool_put(p, &local), -EINVAL);
    CHECK_EQ_INT(mwpool_put(p, b + 8), -EINVAL); /* inside a block, not its start */
    CHECK_EQ_INT(errs.n, 2);
    CHECK(errs.kind[0] == MWPOOL_ERR_FOREIGN && errs.block[0] == &local);
    CHECK(errs.kind[1] == MWPOOL_ERR_FOREIGN);
    CHECK_EQ_INT(mwpool_put(p, b), 0);
    mwpool_destroy(p);
    errs.n = 0;
}

static void test_debug_use_after_put(void)
{
    struct mwpool *p = make(64, 1, 0, 0);
    errs.n = 0;
    char *b = mwpool_try_get(p);
    mwpool_put(p, b);
    b[10] = 'x'; /* written after put */
    char *c = mwpool_try_get(p);
    CHECK(c == b);
    CHECK_EQ_INT(errs.n, 1);
    CHECK(errs.kind[0] == MWPOOL_ERR_USE_AFTER_PUT && errs.block[0] == b);
    mwpool_put(p, c);
    mwpool_destroy(p);
    errs.n = 0;
}

static void test_debug_overrun(void)
{
    struct mwpool *p = make(61, 2, 0, 0);
    errs.n = 0;
    char *b = mwpool_try_get(p);
    memset(b, 1, 62); /* one byte past the block */
    CHECK_EQ_INT(mwpool_put(p, b), 0);
    CHECK_EQ_INT(errs.n, 1);
    CHECK(errs.kind[0] == MWPOOL_ERR_OVERRUN && errs.block[0] == b);
    mwpool_destroy(p);
    errs.n = 0;
}

static __attribute__((noinline)) void *leaky_get(struct mwpool *p)
{
    void *b = mwpool_try_get(p);
    __asm__ volatile("" ::: "memory"); /* no tail call: the caller is this function */
    return b;
}

static void test_debug_leak(void)
{
    struct mwpool *p = make(64, 4, 0, 0);
    errs.n = 0;
    void *kept = leaky_get(p);
    void *back = mwpool_try_get(p);
    mwpool_put(p, back);
    mwpool_destroy(p);
    CHECK_EQ_INT(errs.n, 1);
    CHECK(errs.kind[0] == MWPOOL_ERR_LEAK && errs.block[0] == kept);
    /* the caller is inside leaky_get (TRACE_CALLER) */
    uintptr_t fn = (uintptr_t)(void *)leaky_get, at = (uintptr_t)errs.caller[0];
    CHECK(at > fn && at < fn + 256);
    CHECK_STR(mwpool_error_name(MWPOOL_ERR_LEAK), "leak");
    errs.n = 0;
}

/* The default handler aborts: checked in a child so the harness lives. */
static void test_default_handler_aborts(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        mwpool_set_error_handler(NULL, NULL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        struct mwpool *p = make(64, 1, 0, 0);
        void *b = mwpool_try_get(p);
        mwpool_put(p, b);
        mwpool_put(p, b);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static char tmpdir[] = "/tmp/mwpool-test-XXXXXX";

static void test_publish(void)
{
    if (!mkdtemp(tmpdir))
        SKIP("mkdtemp failed");
    setenv("MWPOOL_DIR", tmpdir, 1);
    umask(077);
    struct mwpool_config c = {.block_size = 3110400, .blocks = 2, .name = "frames"};
    struct mwpool *p = NULL;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    CHECK_EQ_INT(mwpool_publish(p), 0);
    void *b = mwpool_try_get(p);
    char path[256];
    snprintf(path, sizeof(path), "%s/%d/frames", tmpdir, (int)getpid());
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_U64(st.st_mode & 0777, 0644);
    struct mwpool_page g;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, &g, sizeof(g), 0) == (ssize_t)sizeof(g));
    close(fd);
    CHECK_EQ_U64(g.magic, MWPOOL_PAGE_MAGIC);
    CHECK_EQ_U64(g.version, MWPOOL_PAGE_VERSION);
    CHECK_EQ_U64(g.header_size, 128);
    CHECK_EQ_U64(g.seq % 2, 0);
    CHECK_EQ_U64(g.pid, (uint64_t)getpid());
    CHECK_STR(g.name, "frames");
    CHECK_EQ_U64(g.block_size, 3110400);
    CHECK_EQ_U64(g.blocks_total, 2);
    CHECK_EQ_U64(g.blocks_in_use, 1);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/%d", tmpdir, (int)getpid());
    CHECK_EQ_INT(stat(dir, &st), 0);
    CHECK_EQ_U64(st.st_mode & 0777, 0755);
    mwpool_put(p, b);
    mwpool_destroy(p);
    CHECK(access(path, F_OK) != 0);
    CHECK(access(dir, F_OK) != 0);
    umask(022);
}

static void test_publish_hostile(void)
{
    char target[300], link[300], path[320];
    snprintf(target, sizeof(target), "%s/target", tmpdir);
    snprintf(link, sizeof(link), "%s/%d", tmpdir, (int)getpid());
    /* the PID directory is a symlink: not followed */
    mkdir(target, 0755);
    CHECK_EQ_INT(symlink(target, link), 0);
    struct mwpool_config c = {.block_size = 64, .blocks = 2, .name = "x"};
    struct mwpool *p = NULL;
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    int rc = mwpool_publish(p);
    CHECK(rc == -ELOOP || rc == -ENOTDIR);
    snprintf(path, sizeof(path), "%s/x", target);
    CHECK(access(path, F_OK) != 0);
    void *b = mwpool_try_get(p); /* works unpublished */
    CHECK(b != NULL);
    mwpool_put(p, b);
    mwpool_destroy(p);
    unlink(link);
    rmdir(target);
    /* a directory that cannot be made: an error code, no message, no crash */
    setenv("MWPOOL_DIR", "/proc/no/such/dir", 1);
    CHECK_EQ_INT(mwpool_create(&c, &p), 0);
    CHECK(mwpool_publish(p) < 0);
    mwpool_destroy(p);
    rmdir(tmpdir);
}

int main(void)
{
    mwpool_set_error_handler(on_error, NULL);
    RUN(test_get_put);
    RUN(test_config);
    RUN(test_sizes_past_32_bits);
    RUN(test_growth);
    RUN(test_timeout);
    RUN(test_single_thread);
    RUN(test_trim);
    RUN(test_debug_double_put);
    RUN(test_debug_foreign);
    RUN(test_debug_use_after_put);
    RUN(test_debug_overrun);
    RUN(test_debug_leak);
    RUN(test_default_handler_aborts);
    RUN(test_publish);
    RUN(test_publish_hostile);
    return TESTS_DONE();
}
