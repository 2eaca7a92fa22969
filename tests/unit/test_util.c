#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "base/json.h"
#include "base/util.h"

static void test_parse_size(void)
{
    uint64_t b;
    CHECK_EQ_INT(mw_parse_size("4096", &b), 0);
    CHECK_EQ_U64(b, 4096);
    CHECK_EQ_INT(mw_parse_size("256K", &b), 0);
    CHECK_EQ_U64(b, 256 * 1024);
    CHECK_EQ_INT(mw_parse_size("512M", &b), 0);
    CHECK_EQ_U64(b, 512ull << 20);
    CHECK_EQ_INT(mw_parse_size("4G", &b), 0);
    CHECK_EQ_U64(b, 4ull << 30);
    CHECK_EQ_INT(mw_parse_size("200KB", &b), 0);
    CHECK_EQ_U64(b, 200 * 1024);
    CHECK_EQ_INT(mw_parse_size("1.5GiB", &b), 0);
    CHECK_EQ_U64(b, 3ull << 29);
    CHECK_EQ_INT(mw_parse_size("", &b), -EINVAL);
    CHECK_EQ_INT(mw_parse_size("-1M", &b), -EINVAL);
    CHECK_EQ_INT(mw_parse_size("12Q", &b), -EINVAL);
    CHECK_EQ_INT(mw_parse_size("M", &b), -EINVAL);
    CHECK_EQ_INT(mw_parse_size("99999999999T", &b), -ERANGE);
}

static void test_parse_duration(void)
{
    uint64_t ms;
    CHECK_EQ_INT(mw_parse_duration_ms("30", &ms), 0);
    CHECK_EQ_U64(ms, 30000);
    CHECK_EQ_INT(mw_parse_duration_ms("30s", &ms), 0);
    CHECK_EQ_U64(ms, 30000);
    CHECK_EQ_INT(mw_parse_duration_ms("5m", &ms), 0);
    CHECK_EQ_U64(ms, 300000);
    CHECK_EQ_INT(mw_parse_duration_ms("24h", &ms), 0);
    CHECK_EQ_U64(ms, 86400000);
    CHECK_EQ_INT(mw_parse_duration_ms("250ms", &ms), 0);
    CHECK_EQ_U64(ms, 250);
    CHECK_EQ_INT(mw_parse_duration_ms("0.5s", &ms), 0);
    CHECK_EQ_U64(ms, 500);
    CHECK_EQ_INT(mw_parse_duration_ms("5x", &ms), -EINVAL);
    CHECK_EQ_INT(mw_parse_duration_ms("s", &ms), -EINVAL);
}

/* One vocabulary: decimal digits, at most one '.', a known unit. Hex
 * (strtod read "0x10" as 16), exponents, nan, inf and trailing garbage
 * were accepted before. */
static void test_size_duration_strict(void)
{
    uint64_t v;
    const char *bad[] = {"0x10", "0x10M", "0X1p4", "1e3", "1E3K",       "1.5.2M", "1.M", ".5M",
                         "+5",   "5 M x", "nan",   "inf", "4G garbage", "12,5M",  "\t5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mw_parse_size(bad[i], &v) != -EINVAL)
            fprintf(stderr, "  size '%s' accepted\n", bad[i]);
        CHECK_EQ_INT(mw_parse_size(bad[i], &v), -EINVAL);
    }
    const char *badd[] = {"0x10", "0x10s", "1e2s", "1e2", "nan", "infs", "5m garbage", "1..5s"};
    for (size_t i = 0; i < sizeof(badd) / sizeof(badd[0]); i++) {
        if (mw_parse_duration_ms(badd[i], &v) != -EINVAL)
            fprintf(stderr, "  duration '%s' accepted\n", badd[i]);
        CHECK_EQ_INT(mw_parse_duration_ms(badd[i], &v), -EINVAL);
    }
    CHECK_EQ_INT(mw_parse_size("0", &v), 0);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(mw_parse_size("0010K", &v), 0); /* leading zeros are decimal */
    CHECK_EQ_U64(v, 10240);
    CHECK_EQ_INT(mw_parse_size("18446744073709551616", &v), -ERANGE);
    double d;
    CHECK_EQ_INT(mw_parse_decimal("12.5", &d), 0);
    CHECK_CLOSE(d, 12.5, 0.001);
    CHECK_EQ_INT(mw_parse_decimal("20", &d), 0);
    CHECK_CLOSE(d, 20, 0.001);
    const char *badf[] = {"nan", "inf", "0x10", "1e1", "-1", "12.5%", "", "1."};
    for (size_t i = 0; i < sizeof(badf) / sizeof(badf[0]); i++)
        CHECK_EQ_INT(mw_parse_decimal(badf[i], &d), -EINVAL);
}

static void test_fmt_size(void)
{
    char b[32];
    CHECK_STR(mw_fmt_size(b, sizeof b, 0), "0 B");
    CHECK_STR(mw_fmt_size(b, sizeof b, 1023), "1023 B");
    CHECK_STR(mw_fmt_size(b, sizeof b, 1024), "1.0 KiB");
    CHECK_STR(mw_fmt_size(b, sizeof b, 3984588800ull), "3.7 GiB");
    CHECK_STR(mw_fmt_size(b, sizeof b, 512ull << 20), "512 MiB");
    CHECK_STR(mw_fmt_size_delta(b, sizeof b, -(int64_t)(38ll << 20)), "-38.0 MiB");
    CHECK_STR(mw_fmt_size_delta(b, sizeof b, 2048), "+2.0 KiB");
}

static void test_scan_u64(void)
{
    const char *p = "  18446744073709551615 x";
    uint64_t v;
    CHECK_EQ_INT(mw_scan_u64(&p, &v), 0);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_STR(p, " x");
    p = "18446744073709551616";
    CHECK_EQ_INT(mw_scan_u64(&p, &v), -ERANGE);
    p = "abc";
    CHECK_EQ_INT(mw_scan_u64(&p, &v), -EINVAL);
}

/* Joins the lines mw_next_line gives as "[line]" for comparison. */
static void lines_of(const char *buf, char *out, size_t cap)
{
    const char *c = buf, *l;
    size_t n, used = 0;
    out[0] = '\0';
    while (mw_next_line(&c, &l, &n))
        used += (size_t)snprintf(out + used, cap - used, "[%.*s]", (int)n, l);
}

static void test_next_line(void)
{
    char s[64];
    lines_of("", s, sizeof(s));
    CHECK_STR(s, "");
    lines_of("a\n\nb", s, sizeof(s));
    CHECK_STR(s, "[a][][b]");
    lines_of("a\nb\n", s, sizeof(s));
    CHECK_STR(s, "[a][b]");
    lines_of("\n", s, sizeof(s));
    CHECK_STR(s, "[]");
    const char *c = "", *l = "untouched";
    size_t n = 7;
    CHECK(!mw_next_line(&c, &l, &n));
    CHECK_STR(l, "untouched");
    CHECK_EQ_U64(n, 7);
}

static void test_root_reads(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/host-24g"), 0);
    char *buf = NULL;
    size_t len = 0;
    /* Leading slashes resolve under the root, never at the real "/". */
    CHECK_EQ_INT(mw_read_file(&r, "/proc/meminfo", &buf, &len), 0);
    CHECK(len > 100);
    CHECK(strncmp(buf, "MemTotal:", 9) == 0);
    free(buf);
    uint64_t v = 0;
    CHECK_EQ_INT(mw_read_u64(&r, "/proc/sys/vm/swappiness", &v), 0);
    CHECK_EQ_U64(v, 60);
    CHECK_EQ_INT(mw_read_file(&r, "/proc/nonexistent", &buf, &len), -ENOENT);
    CHECK(!mw_root_is_live(&r));
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/no-such-dir"), -ENOENT);
}

/* A FIFO in a captured tree hung every whole-file reader for ever (open
 * waits for a writer): regular files only, refused at once. Run in a
 * child that an alarm ends. */
static void test_root_reads_refuse_fifo_and_dirs(void)
{
    char dir[] = "/tmp/mw-test-root-XXXXXX", path[96];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/proc", dir);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/proc/meminfo", dir);
    CHECK(mkfifo(path, 0600) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5);
        struct mw_root r;
        char *buf = NULL;
        uint64_t v;
        int bad = mw_root_open(&r, dir) != 0;
        bad |= mw_read_file(&r, "/proc/meminfo", &buf, NULL) != -EBADFD;
        bad |= mw_read_u64(&r, "/proc/meminfo", &v) != -EBADFD;
        bad |= mw_read_file(&r, "/proc", &buf, NULL) != -EISDIR;
        _exit(bad);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/proc", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_pread_all(void)
{
    int fd = open(MW_FIXTURES "/host-24g/proc/sys/vm/swappiness", O_RDONLY);
    CHECK(fd >= 0);
    char small[2], big[64];
    CHECK_EQ_INT(mw_pread_all(fd, small, sizeof small), -EFBIG);
    CHECK_EQ_INT(mw_pread_all(fd, big, sizeof big), 3);
    CHECK_STR(big, "60\n");
    close(fd);
}

/* mw_read_fd: growth from nothing, the MAX cut and its flag, EOF. */
static void test_read_fd(void)
{
    const char *path = MW_FIXTURES "/host-24g/proc/sys/vm/swappiness"; /* "60\n" */
    char *buf = NULL;
    size_t cap = 0;
    bool cut = true;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ_INT(mw_read_fd(fd, &buf, &cap, 1024, false, &cut), 3);
    CHECK_STR(buf, "60\n");
    CHECK(!cut);
    CHECK(cap >= 4);
    close(fd);
    fd = open(path, O_RDONLY);
    CHECK_EQ_INT(mw_read_fd(fd, &buf, &cap, 2, false, &cut), 2);
    CHECK_STR(buf, "60");
    CHECK(cut);
    close(fd);
    fd = open(path, O_RDONLY);
    CHECK_EQ_INT(mw_read_fd(fd, &buf, &cap, 3, false, &cut), 3);
    CHECK(!cut); /* exactly MAX bytes: not cut */
    close(fd);
    free(buf);
}

static int sum_u64(uint64_t v, void *ctx)
{
    uint64_t *acc = ctx;
    acc[0]++;
    acc[1] += v;
    acc[2] = v;
    return acc[3] && acc[0] == acc[3];
}

/* mw_each_u64_at: numbers of every width straddle the chunk boundaries of
 * a file over 64 KiB; none is passed in parts. Garbage, FIFOs and
 * directories are errors, and a FIFO does not block. */
static void test_each_u64(void)
{
    char dir[] = "/tmp/mw-test-util-XXXXXX", path[80];
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof(path), "%s/procs", dir);
    FILE *f = fopen(path, "w");
    uint64_t want_n = 0, want_sum = 0, last = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t v = (i * 2654435761u) % (1u << (i % 31)); /* 1 to 10 digits */
        fprintf(f, "%llu\n", (unsigned long long)v);
        want_n++;
        want_sum += v;
        last = v;
    }
    fprintf(f, "40051234"); /* the last one without a newline */
    want_n++;
    want_sum += 40051234;
    long size = ftell(f);
    fclose(f);
    CHECK(size > 64 * 1024);
    uint64_t acc[4] = {0, 0, 0, 0};
    CHECK_EQ_INT(mw_each_u64_at(dfd, "procs", O_NOFOLLOW, sum_u64, acc), (long)want_n);
    CHECK_EQ_U64(acc[0], want_n);
    CHECK_EQ_U64(acc[1], want_sum);
    CHECK_EQ_U64(acc[2], 40051234);
    (void)last;
    uint64_t stop[4] = {0, 0, 0, 3}; /* FN stops after three */
    CHECK_EQ_INT(mw_each_u64_at(dfd, "procs", 0, sum_u64, stop), 3);
    f = fopen(path, "w");
    fprintf(f, "12\n34x\n56\n");
    fclose(f);
    uint64_t bad[4] = {0, 0, 0, 0};
    CHECK_EQ_INT(mw_each_u64_at(dfd, "procs", 0, sum_u64, bad), -EBADMSG);
    CHECK_EQ_U64(bad[0], 1);
    CHECK_EQ_INT(mw_each_u64_at(dfd, ".", 0, sum_u64, bad), -EISDIR);
    CHECK(mkfifoat(dfd, "fifo", 0600) == 0);
    CHECK_EQ_INT(mw_each_u64_at(dfd, "fifo", 0, sum_u64, bad), -EBADFD);
    CHECK(symlinkat("procs", dfd, "link") == 0);
    CHECK_EQ_INT(mw_each_u64_at(dfd, "link", O_NOFOLLOW, sum_u64, bad), -ELOOP);
    unlinkat(dfd, "link", 0);
    unlinkat(dfd, "fifo", 0);
    unlinkat(dfd, "procs", 0);
    close(dfd);
    rmdir(dir);
}

static void test_json(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct mw_json j;
    mw_json_init(&j, f, false);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "a", 1);
    mw_json_str(&j, "s", "q\"\\\n\x01");
    mw_json_array_begin(&j, "l");
    mw_json_double(&j, NULL, 2.5);
    mw_json_fixed(&j, NULL, 3.0, 2);
    mw_json_i64(&j, NULL, -4);
    mw_json_array_end(&j);
    mw_json_object_begin(&j, "e");
    mw_json_object_end(&j);
    mw_json_double(&j, "nan", 0.0 / 0.0);
    mw_json_object_end(&j);
    fclose(f);
    CHECK_STR(buf,
              "{\"a\":1,\"s\":\"q\\\"\\\\\\n\\u0001\",\"l\":[2.5,3,-4],\"e\":{},\"nan\":null}");
    free(buf);
}

static void test_sub0_and_sleep(void)
{
    CHECK_EQ_U64(mw_sub0(5, 3), 2);
    CHECK_EQ_U64(mw_sub0(3, 5), 0);
    uint64_t t0 = mw_now_ms();
    CHECK(mw_sleep_until_ms(t0 + 20, NULL));
    CHECK(mw_now_ms() >= t0 + 20);
    volatile sig_atomic_t stop = 1;
    t0 = mw_now_ms();
    CHECK(!mw_sleep_until_ms(t0 + 5000, &stop)); /* a stop request ends it at once */
    CHECK(mw_now_ms() < t0 + 1000);
}

/* Every descriptor above 2 goes but the kept ones, in a child (the
 * closing would take the test's own otherwise). */
static void test_close_fds_except(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd[6];
        for (int i = 0; i < 6; i++)
            fd[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int keep[2] = {fd[1], fd[4]};
        mw_close_fds_except(keep, 2);
        int bad = 0;
        for (int i = 0; i < 6; i++) {
            bool open_now = fcntl(fd[i], F_GETFD) >= 0;
            bad += open_now != (i == 1 || i == 4);
        }
        bad += fcntl(2, F_GETFD) < 0; /* stdio stays */
        mw_close_fds_except(NULL, 0);
        bad += fcntl(fd[1], F_GETFD) >= 0 || fcntl(fd[4], F_GETFD) >= 0;
        _exit(bad);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    RUN(test_close_fds_except);
    RUN(test_parse_size);
    RUN(test_parse_duration);
    RUN(test_size_duration_strict);
    RUN(test_fmt_size);
    RUN(test_scan_u64);
    RUN(test_next_line);
    RUN(test_root_reads);
    RUN(test_root_reads_refuse_fifo_and_dirs);
    RUN(test_pread_all);
    RUN(test_read_fd);
    RUN(test_each_u64);
    RUN(test_json);
    RUN(test_sub0_and_sleep);
    return TESTS_DONE();
}
