/* klog: the kernel's log, one message at a time — as the kernel keeps it
 * (/dev/kmsg under the root) or as a tool saved it: dmesg (with printk
 * times, -t without, -T human times, -r raw, --time-format iso), journalctl
 * -k (short, short-precise, short-iso, short-iso-precise, short-full,
 * short-monotonic, short-unix), syslog files (kern.log, messages, busybox
 * syslogd: the "host kernel: " prefix) and `cat /dev/kmsg` captures.
 *
 * Three layers: mw_klog_line_parse takes the prefix off one line (pure);
 * the stream cuts bytes into lines in bounded memory (a fixed line buffer,
 * NULs and over-long lines counted, never fatal), undoes /dev/kmsg's \xNN
 * escapes and gives each kernel message to a callback; the readers feed a
 * descriptor or ROOT/dev/kmsg into a stream. */
#ifndef MW_KLOG_H
#define MW_KLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* The longest line kept (a kernel message is at most 1 KiB; a syslog
 * prefix and kmsg escapes add to it). Longer lines are counted and
 * skipped. */
#define MW_KLOG_MAX_LINE 4096

/* How the line's prefix was written. */
enum mw_klog_form {
    MW_KLOG_BARE = 0, /* no prefix (dmesg -t), or a continuation line */
    MW_KLOG_DMESG,    /* "[ 1469.706932] msg" (dmesg, journalctl -o short-monotonic) */
    MW_KLOG_DMESG_T,  /* "[Tue Jan  7 03:12:45 2025] msg" (dmesg -T) */
    MW_KLOG_ISO,      /* "2025-01-07T03:12:45,123456+01:00 msg" (dmesg --time-format iso) */
    MW_KLOG_SYSLOG,   /* "TIME host kernel: msg" (syslog, journalctl -k) */
    MW_KLOG_KMSG,     /* "6,1234,1469706932,-;msg" (/dev/kmsg) */
};

/* One line of the log, prefix taken off. Pointers point into the line
 * given (or, from a stream, into its buffers: valid during the callback). */
struct mw_klog_line {
    const char *msg; /* the kernel's text */
    size_t msg_len;
    const char *host; /* the syslog host; "" for the other forms */
    size_t host_len;
    const char *time; /* the wall-clock time as the log wrote it; "" none */
    size_t time_len;
    double boot_s;               /* printk time, seconds since boot; < 0 unknown */
    int64_t epoch_s;             /* wall clock (seconds since 1970); valid when have_epoch */
    bool have_epoch;             /* the time gives a date and time (local time unless it says) */
    bool year_guessed;           /* the log gave no year ("Jan  7 03:12:45"): the stream took
                                  * the year that puts it at or before its now */
    bool no_year;                /* line_parse: a syslog time without a year, in yl_* below */
    int yl_mon, yl_mday, yl_sod; /* its month (0-11), day, second of the day */
    bool cont;                   /* no prefix of its own after a line that had one: a later
                                  * line of the same record (host and times inherited) */
    bool other;                  /* a syslog line of another program (not "kernel:") */
    enum mw_klog_form form;
    unsigned source; /* the stream's source number when the line was read */
    uint64_t lineno; /* 1-based line number in the stream */
};

/* Takes the prefix off LINE (LEN bytes, no '\n'; any bytes) and fills OUT.
 * A line with no prefix it knows is form BARE, msg the whole line with
 * its leading blanks. Wall-clock times without a year get no epoch here
 * (the stream guesses it); times without a zone are local (mktime, TZ).
 * /dev/kmsg escapes are not undone here. Never fails. */
void mw_klog_line_parse(const char *line, size_t len, struct mw_klog_line *out);

/* The message callback: L is valid during the call only. */
typedef void (*mw_klog_fn)(const struct mw_klog_line *l, void *ctx);

/* A stream of log bytes cut into lines. All state is here (no allocation):
 * about 3 x MW_KLOG_MAX_LINE bytes. */
struct mw_klog_stream {
    mw_klog_fn fn;
    void *ctx;
    int64_t now_s;        /* for the year of year-less syslog times; 0: none guessed */
    int64_t boot_epoch_s; /* the live kernel's boot time (wall clock): kmsg records
                           * get epoch_s = it + their boot_s; 0: unknown */
    unsigned source;      /* copied into every line (the caller's file number) */
    uint64_t lineno;
    uint64_t lines;        /* lines read */
    uint64_t kernel_lines; /* given to the callback */
    uint64_t other_lines;  /* syslog lines of other programs (not given) */
    uint64_t long_lines;   /* over MW_KLOG_MAX_LINE bytes (skipped) */
    uint64_t nul_lines;    /* lines cut by NUL bytes (a log written up to a crash
                            * holds runs of them): each NUL run ends a line */
    /* internal */
    size_t part_len;
    bool part_long, in_nul, prev_kmsg, have_prev;
    struct mw_klog_line prev; /* host/time of the last line with a prefix */
    char prev_host[64], prev_time[64];
    char part[MW_KLOG_MAX_LINE];
    char unesc[MW_KLOG_MAX_LINE];
};

/* Starts a stream that gives each kernel line to FN(line, CTX). NOW_S is
 * the wall clock used to place year-less syslog times (0: leave them
 * without an epoch). */
void mw_klog_stream_init(struct mw_klog_stream *s, int64_t now_s, mw_klog_fn fn, void *ctx);

/* Feeds LEN bytes (any bytes). Lines are given as they complete. */
void mw_klog_stream_feed(struct mw_klog_stream *s, const char *buf, size_t len);

/* Ends the input: a last line without '\n' is given. The stream may be fed
 * again afterwards (the next file of a series: its context carries over). */
void mw_klog_stream_end(struct mw_klog_stream *s);

/* Reads FD (a file or a pipe) to its end into S, 64 KiB at a time, and
 * ends the stream. Returns the byte count or -errno (what was read before
 * the error was given). */
long mw_klog_read_fd(int fd, struct mw_klog_stream *s);

/* What mw_klog_read_kmsg saw. */
struct mw_kmsg_info {
    bool device;          /* a character device (the live kernel), else a saved file */
    uint64_t records;     /* records read (device) */
    uint64_t first_seq;   /* sequence number of the oldest record read (device) */
    uint64_t lost;        /* records overwritten while reading (EPIPE) */
    int64_t boot_epoch_s; /* the boot time used for wall-clock times (device) */
};

/* Reads ROOT/dev/kmsg into S and ends the stream: on the live root, the
 * character device — every record the kernel still holds, oldest first,
 * without waiting for new ones (non-blocking), wall-clock times from the
 * boot time (CLOCK_REALTIME - CLOCK_MONOTONIC, as printk times do not count
 * suspend: like dmesg -T, off by the time spent suspended); under a
 * captured root, a regular file holding a saved log of any form above.
 * INFO (may be NULL) says what was read. Returns 0 or -errno: -EPERM or
 * -EACCES when kernel.dmesg_restrict is 1 and the caller has no
 * CAP_SYSLOG, -ENOENT when there is none, -EBADFD for another kind of file. */
int mw_klog_read_kmsg(const struct mw_root *root, struct mw_klog_stream *s,
                      struct mw_kmsg_info *info);

#endif
