#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Files under /proc and /sys are small; a larger one is a hostile fixture. */
#define MW_READ_MAX (64u << 20)

int mw_root_open(struct mw_root *out, const char *path)
{
    const char *p = path && *path ? path : "/";
    int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    out->fd = fd;
    out->path = p;
    /* A capture without a recorded page size is read as 4 KiB, the page of
     * x86 and of most arm64 kernels, whatever this machine uses. */
    out->page_size = 4096;
    if (mw_root_is_live(out)) {
        long ps = sysconf(_SC_PAGESIZE);
        if (ps > 0)
            out->page_size = (uint64_t)ps;
    }
    return 0;
}

void mw_root_close(struct mw_root *root)
{
    if (root->fd >= 0)
        close(root->fd);
    root->fd = -1;
}

bool mw_root_is_live(const struct mw_root *root)
{
    struct stat a, b;
    if (fstat(root->fd, &a) != 0 || stat("/", &b) != 0)
        return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

const char *mw_rel(const char *path)
{
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

long mw_read_fd(int fd, char **buf, size_t *cap, size_t max, bool short_is_eof, bool *cut)
{
    size_t n = 0;
    if (cut)
        *cut = false;
    for (;;) {
        if (n + 1 >= *cap) {
            if (*cap && n >= max) {
                if (cut)
                    *cut = true;
                break;
            }
            size_t ncap = *cap ? *cap * 2 : 4096;
            char *nb = realloc(*buf, ncap);
            if (!nb)
                return -ENOMEM;
            *buf = nb;
            *cap = ncap;
        }
        size_t want = *cap - n - 1;
        if (want > max - n)
            want = max - n;
        if (want == 0) {
            if (cut) {
                char c;
                *cut = read(fd, &c, 1) > 0;
            }
            break;
        }
        ssize_t r = read(fd, *buf + n, want);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if ((size_t)r < want && short_is_eof)
            break;
    }
    (*buf)[n] = '\0';
    return (long)n;
}

long mw_read_small_at(int dirfd, const char *path, char *buf, size_t cap)
{
    int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long n = mw_pread_all(fd, buf, cap);
    close(fd);
    return n;
}

int mw_open_regular_at(int dirfd, const char *path, int flags)
{
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer (for ever,
     * in a captured tree); non-blocking, the open returns and fstat refuses
     * it. A regular file ignores the flag. */
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
    }
    return fd;
}

int mw_read_file_at(int dirfd, const char *path, int flags, size_t max, char **buf, size_t *len)
{
    if (max == 0 || max >= MW_READ_MAX)
        max = MW_READ_MAX - 1;
    int fd = mw_open_regular_at(dirfd, path, flags);
    if (fd < 0)
        return fd;
    char *b = NULL;
    size_t cap = 0;
    bool cut;
    long n = mw_read_fd(fd, &b, &cap, max, false, &cut);
    close(fd);
    if (n >= 0 && cut)
        n = -EFBIG;
    if (n < 0) {
        free(b);
        return (int)n;
    }
    *buf = b;
    if (len)
        *len = (size_t)n;
    return 0;
}

int mw_read_file(const struct mw_root *root, const char *path, char **buf, size_t *len)
{
    return mw_read_file_at(root->fd, mw_rel(path), 0, 0, buf, len);
}

/* The number in S[0..LEN) (all digits). Returns 0 or -ERANGE. */
static int digits_value(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Passes the whole numbers in BUF[0..*HAVE) to FN; a number that touches
 * the end stays (moved to the front, *HAVE its length) unless EOF. Returns
 * 0 to go on, 1 when FN stopped, or -errno. */
static int each_u64_chunk(char *buf, size_t *have, bool eof, int (*fn)(uint64_t, void *), void *ctx,
                          long *count)
{
    size_t i = 0, n = *have;
    for (;;) {
        while (i < n && isspace((unsigned char)buf[i]))
            i++;
        size_t j = i;
        while (j < n && isdigit((unsigned char)buf[j]))
            j++;
        if (i == n || (j == n && !eof)) { /* keep the maybe-cut number */
            memmove(buf, buf + i, n - i);
            *have = n - i;
            return 0;
        }
        if (j == i || (j < n && !isspace((unsigned char)buf[j])))
            return -EBADMSG;
        uint64_t v;
        if (digits_value(buf + i, j - i, &v) < 0)
            return -ERANGE;
        (*count)++;
        if (fn(v, ctx))
            return 1;
        i = j;
    }
}

long mw_each_u64_at(int dirfd, const char *path, int flags, int (*fn)(uint64_t v, void *ctx),
                    void *ctx)
{
    int fd = mw_open_regular_at(dirfd, path, flags);
    if (fd < 0)
        return fd;
    char buf[4096];
    size_t have = 0, total = 0;
    long count = 0;
    int rc = 0;
    while (rc == 0) {
        if (have == sizeof(buf)) { /* one "number" fills the buffer */
            rc = -ERANGE;
            break;
        }
        ssize_t r = read(fd, buf + have, sizeof(buf) - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        total += (size_t)r;
        if (total >= MW_READ_MAX) {
            rc = -EFBIG;
            break;
        }
        have += (size_t)r;
        rc = each_u64_chunk(buf, &have, r == 0, fn, ctx, &count);
        if (r == 0)
            break;
    }
    close(fd);
    return rc < 0 ? rc : count;
}

int mw_opendir_at(int dirfd, const char *path, int flags, DIR **out)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    *out = d;
    return 0;
}

long mw_pread_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return -EINVAL;
    for (;;) {
        if (n + 1 >= cap)
            return -EFBIG;
        ssize_t r = pread(fd, buf + n, cap - n - 1, (off_t)n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (long)n;
}

bool mw_next_line(const char **cursor, const char **line, size_t *len)
{
    const char *p = *cursor;
    if (!*p)
        return false;
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    *line = p;
    *len = n;
    *cursor = eol ? eol + 1 : p + n;
    return true;
}

const char *mw_strerror(int err)
{
    if (err == EBADFD)
        return "not a regular file";
    return strerror(err);
}

bool mw_line_copy(char *dst, size_t cap, const char *line, size_t len)
{
    if (cap == 0)
        return false;
    if (len >= cap) {
        dst[0] = '\0';
        return false;
    }
    memcpy(dst, line, len);
    dst[len] = '\0';
    return true;
}

int mw_scan_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    uint64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
        s++;
    }
    *out = v;
    *p = s;
    return 0;
}

int mw_parse_u64_or_max(const char *buf, uint64_t *out)
{
    const char *p = buf;
    uint64_t v;
    int rc;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, "max", 3) == 0) {
        v = UINT64_MAX;
        p += 3;
    } else if ((rc = mw_scan_u64(&p, &v)) < 0) {
        return rc;
    }
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int mw_read_u64(const struct mw_root *root, const char *path, uint64_t *out)
{
    char *buf;
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_parse_u64_or_max(buf, out);
    free(buf);
    return rc;
}

/* Length of the decimal number at S: digits, optionally '.' and more
 * digits; 0 when S does not start with one. */
static size_t decimal_len(const char *s)
{
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    if (n == 0 || s[n] != '.')
        return n;
    size_t f = n + 1;
    while (isdigit((unsigned char)s[f]))
        f++;
    return f > n + 1 ? f : 0; /* "1." is not a number */
}

/* The number in S[0..LEN) (checked by decimal_len). strtod reads a copy,
 * so it never sees what follows (an exponent, hex). */
static int decimal_value(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (len >= sizeof(tmp))
        return -ERANGE;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    if (errno != 0 || !isfinite(v))
        return -ERANGE;
    *out = v;
    return 0;
}

int mw_parse_decimal(const char *s, double *out)
{
    size_t len = s ? decimal_len(s) : 0;
    if (len == 0 || s[len] != '\0')
        return -EINVAL;
    return decimal_value(s, len, out);
}

/* Splits "12.5M" into a non-negative decimal number and a suffix (after
 * blanks). */
static int split_number(const char *s, double *num, const char **suffix)
{
    size_t len = s ? decimal_len(s) : 0;
    if (len == 0)
        return -EINVAL;
    int rc = decimal_value(s, len, num);
    if (rc < 0)
        return rc;
    const char *end = s + len;
    while (*end == ' ')
        end++;
    *suffix = end;
    return 0;
}

struct unit {
    const char *name;
    double mult;
};

/* S as a number with a suffix of UNITS (matched in any case when CASEFOLD)
 * times that unit's multiplier, rounded. Results at or above LIMIT give
 * -ERANGE, an unknown suffix -EINVAL. */
static int parse_scaled(const char *s, const struct unit *units, size_t n, bool casefold,
                        double limit, uint64_t *out)
{
    double v;
    const char *suf;
    int rc = split_number(s, &v, &suf);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((casefold ? strcasecmp(suf, units[i].name) : strcmp(suf, units[i].name)) == 0) {
            double r = v * units[i].mult;
            if (r >= limit)
                return -ERANGE;
            *out = (uint64_t)(r + 0.5);
            return 0;
        }
    }
    return -EINVAL;
}

int mw_parse_size(const char *s, uint64_t *bytes)
{
    /* binary multiples: 0x1p10 is 2^10 */
    static const struct unit units[] = {
        {"", 1},         {"b", 1},       {"k", 0x1p10},   {"kb", 0x1p10},  {"kib", 0x1p10},
        {"m", 0x1p20},   {"mb", 0x1p20}, {"mib", 0x1p20}, {"g", 0x1p30},   {"gb", 0x1p30},
        {"gib", 0x1p30}, {"t", 0x1p40},  {"tb", 0x1p40},  {"tib", 0x1p40},
    };
    return parse_scaled(s, units, MW_ARRAY_SIZE(units), true, 18446744073709551615.0, bytes);
}

int mw_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const struct unit units[] = {
        {"", 1000},   {"ms", 1},      {"s", 1000},    {"sec", 1000},
        {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    return parse_scaled(s, units, MW_ARRAY_SIZE(units), false, 1.8e19, ms);
}

char *mw_fmt_size(char *buf, size_t cap, uint64_t bytes)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < MW_ARRAY_SIZE(names)) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%" PRIu64 " B", bytes);
    else if (v >= 100.0)
        snprintf(buf, cap, "%.0f %s", v, names[u]);
    else
        snprintf(buf, cap, "%.1f %s", v, names[u]);
    return buf;
}

char *mw_fmt_size_delta(char *buf, size_t cap, int64_t bytes)
{
    if (bytes == 0) {
        snprintf(buf, cap, "0 B");
        return buf;
    }
    uint64_t mag = bytes < 0 ? (uint64_t)(-(bytes + 1)) + 1 : (uint64_t)bytes;
    char tmp[32];
    snprintf(buf, cap, "%c%s", bytes < 0 ? '-' : '+', mw_fmt_size(tmp, sizeof(tmp), mag));
    return buf;
}

double mw_pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

uint64_t mw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t mw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool mw_sleep_until_ms(uint64_t when_ms, const volatile sig_atomic_t *stop)
{
    for (;;) {
        if (stop && *stop)
            return false;
        uint64_t now = mw_now_ms();
        if (now >= when_ms)
            return true;
        uint64_t d = when_ms - now;
        struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* EINTR: look at STOP, then sleep the rest */
    }
}

#ifndef SYS_close_range
#define SYS_close_range 436 /* 5.9, the same number on every architecture */
#endif

static bool fd_kept(int fd, const int *keep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (keep[i] == fd)
            return true;
    return false;
}

/* close_range over every gap between the kept descriptors above 2.
 * Returns 0, or -1 when the kernel has no close_range. */
static int close_gaps(const int *keep, size_t n)
{
    unsigned lo = 3;
    for (;;) {
        unsigned next = ~0u; /* the lowest kept descriptor >= LO */
        for (size_t i = 0; i < n; i++)
            if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
                next = (unsigned)keep[i];
        if (next > lo && syscall(SYS_close_range, lo, next == ~0u ? ~0u : next - 1, 0u) != 0)
            return -1;
        if (next == ~0u)
            return 0;
        lo = next + 1;
    }
}

void mw_close_fds_except(const int *keep, size_t n)
{
    if (close_gaps(keep, n) == 0)
        return;
    /* passes repeat until one closes nothing: closing moves the entries */
    for (bool closed = true; closed;) {
        closed = false;
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return;
        char buf[4096];
        long got;
        while ((got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
            for (long off = 0; off < got;) {
                struct mw_dirent64 *d = (void *)(buf + off);
                off += d->d_reclen;
                int fd = atoi(d->d_name);
                if (fd > 2 && fd != dfd && !fd_kept(fd, keep, n) && close(fd) == 0)
                    closed = true;
            }
        }
        close(dfd);
    }
}
