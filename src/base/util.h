/* util: the explicit root every path is read through, whole-file reads,
 * stepping through lines and directories, and the one vocabulary of sizes
 * and durations shared by every command. */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The directory that stands for "/" (the live system, or a captured tree).
 * Every reader opens its files with openat(root->fd, relative path). */
struct mw_root {
    int fd;           /* O_PATH|O_DIRECTORY descriptor of the root */
    const char *path; /* as given by the user, for messages */
};

/* Opens PATH (NULL means "/") as a root. Returns 0 or -errno. */
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

/* Opens PATH under DIRFD (a root's fd, or AT_FDCWD) for reading, without
 * blocking (a FIFO would wait for a writer for ever), and only when it is a
 * regular file. FLAGS adds open flags (e.g. O_NOFOLLOW). Returns the fd
 * (close-on-exec, blocking again) or -errno: -EISDIR for a directory,
 * -EBADFD for any other file that is not regular (FIFO, device, socket),
 * as systemd's fd_verify_regular says it. */
int mw_open_regular_at(int dirfd, const char *path, int flags);

/* Reads the whole regular file at PATH under ROOT (mw_open_regular_at) into
 * a NUL-terminated buffer the caller frees. *len (may be NULL) gets the byte
 * count. Returns 0 or -errno (-EFBIG past 64 MiB, -EBADFD not a regular
 * file); *buf is untouched on failure. */
int mw_read_file(const struct mw_root *root, const char *path, char **buf, size_t *len);

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

/* Reads a file holding one unsigned number (or "max", which gives
 * UINT64_MAX). Returns 0 or -errno (-EINVAL when it is not a number). */
int mw_read_u64(const struct mw_root *root, const char *path, uint64_t *out);

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

/* Parses an unsigned decimal at *p, skipping leading blanks, advancing *p.
 * Returns 0 or -EINVAL (no digits) / -ERANGE. */
int mw_scan_u64(const char **p, uint64_t *out);

/* Percentage PART of WHOLE, 0 when WHOLE is 0. */
double mw_pct(uint64_t part, uint64_t whole);

/* Monotonic clock in milliseconds. */
uint64_t mw_now_ms(void);

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
