/* util: the explicit root every path is read through, whole-file reads,
 * stepping through lines and directories, and the one vocabulary of sizes
 * and durations shared by every command.
 *
 * Units, one rule for the whole tree: a name without a unit suffix holds
 * bytes; otherwise the suffix says it — _kb (KiB), _pages, _ms, _s, _pct
 * (percent, 0..100). JSON output carries bytes and seconds. */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The directory that stands for "/" (the live system, or a captured tree).
 * Every reader opens its files with openat(root->fd, relative path).
 *
 * The page size is a property of the machine the root shows, not of the
 * one memwarden runs on (arm64 kernels use 4, 16 or 64 KiB pages): it is
 * read once, when the root is opened, and carried here. Every conversion
 * of a page count (zoneinfo watermarks, statm, slabinfo, the file LRU)
 * uses root->page_size, or a page_size parameter its caller filled from it
 * (the pure parsers and the policy take it as a value). */
struct mw_root {
    int fd;             /* O_PATH|O_DIRECTORY descriptor of the root */
    const char *path;   /* as given by the user, for messages */
    uint64_t page_size; /* bytes per page: sysconf for the live "/"; for a
                         * capture 4096 until mw_snapshot_root_page_size
                         * (model/snapshot.h) reads what it recorded */
};

/* Opens PATH (NULL means "/") as a root and sets its page_size (see
 * struct mw_root). Returns 0 or -errno. */
int mw_root_open(struct mw_root *out, const char *path);

/* Closes the root's descriptor; safe on a root that failed to open. */
void mw_root_close(struct mw_root *root);

/* True when the root is the live "/" (commands that act, not only read,
 * refuse to act on a captured tree). */
bool mw_root_is_live(const struct mw_root *root);

/* Strips leading slashes so an absolute path resolves under the root. */
const char *mw_rel(const char *path);

/* Reads FD from its current offset into *buf (capacity *cap), NUL
 * terminated: the one read loop of mw_read_file and the process table.
 * *buf grows by doubling with realloc (it may start NULL with *cap 0, and
 * a buffer kept between calls makes repeated reads allocation-free). Reads
 * at most MAX bytes of content; *cut (may be NULL) is set when the read
 * stopped at MAX (the file may have had more; when *buf is not full, one
 * more byte is read to tell). SHORT_IS_EOF stops at the first short read,
 * which saves a syscall on files the kernel produces in one record.
 * Returns the byte count or -errno (-ENOMEM); *buf and *cap stay valid for
 * the caller to free also on failure. */
long mw_read_fd(int fd, char **buf, size_t *cap, size_t max, bool short_is_eof, bool *cut);

/* Opens PATH under DIRFD (AT_FDCWD: the working directory) for reading,
 * non-blocking so a FIFO cannot hang the open, with FLAGS added (e.g.
 * O_NOFOLLOW), and keeps it only when it is a regular file (files in /proc
 * and /sys are). Returns the descriptor (close-on-exec) or -errno:
 * -EISDIR for a directory, -EBADFD for any other file that is not
 * regular (a FIFO, a device, a socket). */
int mw_open_regular_at(int dirfd, const char *path, int flags);

/* Reads the whole regular file PATH under DIRFD (opened as by
 * mw_open_regular_at, FLAGS added) into a NUL-terminated buffer the caller
 * frees. At most MAX bytes (0, or MAX above 64 MiB: 64 MiB - 1); a longer
 * file gives -EFBIG. *len (may be NULL) gets the byte count. Returns 0 or
 * -errno (as mw_open_regular_at, or the read's); *buf is untouched on
 * failure. */
int mw_read_file_at(int dirfd, const char *path, int flags, size_t max, char **buf, size_t *len);

/* Reads the whole file at PATH under ROOT into a NUL-terminated buffer the
 * caller frees (mw_read_file_at on the root: regular files only, symlinks
 * followed). *len (may be NULL) gets the byte count. Returns 0 or -errno
 * (-EFBIG past 64 MiB, -EISDIR, -EBADFD when not a regular file); *buf is
 * untouched on failure. */
int mw_read_file(const struct mw_root *root, const char *path, char **buf, size_t *len);

/* Calls FN(V, CTX) for each unsigned decimal number in the regular file
 * PATH under DIRFD (opened as by mw_open_regular_at, FLAGS added; numbers
 * separated by blanks or newlines, as in cgroup.procs), reading the file
 * to its end in chunks of a fixed buffer: no allocation (safe on the
 * daemon's kill path), no size limit below 64 MiB. A number cut by a
 * chunk's end is joined with the next chunk: a part of a number is never
 * passed. FN returns non-zero to stop early. Returns how many numbers FN
 * got, or -errno: as mw_open_regular_at or read, -EBADMSG at anything
 * but a number (the numbers before it were passed), -ERANGE for a number
 * above UINT64_MAX, -EFBIG past 64 MiB. */
long mw_each_u64_at(int dirfd, const char *path, int flags, int (*fn)(uint64_t v, void *ctx),
                    void *ctx);

/* Opens the directory PATH under DIRFD (a root's fd, or any directory;
 * "." gives a new stream of DIRFD itself, with its own read position) for
 * readdir. FLAGS adds open flags (e.g. O_NOFOLLOW). *out gets a stream the
 * caller closes with closedir, which closes its descriptor; dirfd(*out)
 * serves openat/fstatat meanwhile. Returns 0 or -errno (*out untouched). */
int mw_opendir_at(int dirfd, const char *path, int flags, DIR **out);

/* Reads an open descriptor from offset 0 into BUF (capacity CAP, NUL
 * terminated, no allocation: safe on the daemon's kill path).
 * Returns the byte count or -errno; -EFBIG when the file did not fit. */
long mw_pread_all(int fd, char *buf, size_t cap);

/* Reads the small file PATH under DIRFD into BUF (CAP bytes, always
 * NUL-terminated), allocating nothing: the per-process and per-attribute
 * reads of the daemon's scan and of the CLI. The open does not block, so a
 * FIFO planted in a captured tree gives an error or an empty read, never a
 * hang. Returns the byte count or -errno (-EFBIG when it did not fit, as
 * mw_pread_all). */
long mw_read_small_at(int dirfd, const char *path, char *buf, size_t cap);

/* Parses the text of a file holding one unsigned number ("268435456\n"),
 * or "max" (cgroup v2's no limit), which gives UINT64_MAX; blanks around
 * it are allowed, anything else is not. Returns 0 or -EINVAL / -ERANGE;
 * OUT untouched on failure. Pure. */
int mw_parse_u64_or_max(const char *buf, uint64_t *out);

/* Reads a file holding one unsigned number (mw_parse_u64_or_max).
 * Returns 0 or -errno (-EINVAL when it is not a number). */
int mw_read_u64(const struct mw_root *root, const char *path, uint64_t *out);

/* Parses a non-negative decimal number: digits, optionally a '.' and more
 * digits ("20", "12.5"). No sign, exponent, hex, nan, inf or anything
 * after it. Returns 0 or -EINVAL / -ERANGE (too many digits). */
int mw_parse_decimal(const char *s, double *out);

/* Parses a size: a plain number is bytes; suffixes K, M, G, T (also KB,
 * KiB, ...) are binary multiples. Returns 0 or -EINVAL / -ERANGE. */
int mw_parse_size(const char *s, uint64_t *bytes);

/* Parses a duration: a plain number is seconds; suffixes ms, s, m, h, d.
 * Returns 0 or -EINVAL / -ERANGE; result in milliseconds. */
int mw_parse_duration_ms(const char *s, uint64_t *ms);

/* Formats BYTES with a binary unit ("3.8 GiB", "512 KiB", "0 B") into BUF.
 * Returns BUF. */
char *mw_fmt_size(char *buf, size_t cap, uint64_t bytes);

/* Same for a signed change: "+38.0 MiB", "-1.2 GiB", "0 B". */
char *mw_fmt_size_delta(char *buf, size_t cap, int64_t bytes);

/* Steps through the lines of a NUL-terminated buffer: sets *line to the
 * line at *cursor and *len to its length without the '\n', and moves
 * *cursor past the '\n' (the last line need not have one). Returns false,
 * outputs untouched, when *cursor is at the end; an empty buffer has no
 * lines, "a\n\nb" has three. The one line loop of the text parsers:
 *   const char *c = buf, *l;  size_t n;
 *   while (mw_next_line(&c, &l, &n)) ...                                  */
bool mw_next_line(const char **cursor, const char **line, size_t *len);

/* strerror for memwarden's own codes too: EBADFD is what the readers return
 * for a path that is not a regular file (mw_open_regular_at), which libc
 * calls "File descriptor in bad state". */
const char *mw_strerror(int err);

/* Copies the line LINE (LEN bytes, as mw_next_line gives it) into DST (CAP
 * bytes) NUL-terminated, so sscanf can read it: sscanf on a whole buffer
 * measures the rest of the buffer on every call (quadratic on a long file)
 * and lets a conversion run into the next line. Returns false, DST an empty
 * string, when the line does not fit: no line a kernel file of that kind
 * writes is that long, so the caller takes it as malformed. */
bool mw_line_copy(char *dst, size_t cap, const char *line, size_t len);

/* One record of getdents64(2), for the loops that must not allocate (the
 * daemon's scan, a hook's child closing its fds): the kernel's
 * linux_dirent64, which libc does not declare. */
struct mw_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Closes every descriptor above 2 except the N in KEEP (KEEP may be NULL
 * when N is 0): close_range(2) (Linux 5.9) over the gaps between them,
 * or before 5.9 what /proc/self/fd lists, read with getdents64 into a
 * stack buffer. Allocates nothing: safe between fork and exec. The
 * metrics process uses it to shed the daemon's descriptors, a hook's
 * child (lmk/hooks.c) with no KEEP. */
void mw_close_fds_except(const int *keep, size_t n);

/* Parses an unsigned decimal at *p, skipping leading blanks, advancing *p.
 * Returns 0 or -EINVAL (no digits) / -ERANGE. */
int mw_scan_u64(const char **p, uint64_t *out);

/* Percentage PART of WHOLE, 0 when WHOLE is 0. */
double mw_pct(uint64_t part, uint64_t whole);

/* Monotonic clock in milliseconds. */
uint64_t mw_now_ms(void);

/* The same clock in microseconds (the daemon's timings of a kill). */
uint64_t mw_now_us(void);

/* A - B, or 0 when B > A (a counter that went backwards, a usage above
 * its limit): the one saturating subtraction of the tree. */
static inline uint64_t mw_sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Sleeps until the monotonic clock (mw_now_ms) reaches WHEN_MS. A signal
 * that interrupts the sleep resumes it, unless STOP is not NULL and *STOP
 * became non-zero (a handler asked the caller to finish). Returns true
 * when the time was reached, false when *STOP ended the sleep. */
bool mw_sleep_until_ms(uint64_t when_ms, const volatile sig_atomic_t *stop);

#endif
