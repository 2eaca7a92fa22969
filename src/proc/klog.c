#include "proc/klog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the prefix of one line (pure) ------------------------------------ */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* N digits at P (exactly N, all within E) as a number; false otherwise. */
static bool digits_n(const char *p, const char *e, int n, int *out)
{
    int v = 0;
    if (e - p < n)
        return false;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* An unsigned decimal of 1..19 digits at *P; advances *P. */
static bool scan_num(const char **p, const char *e, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    int n = 0;
    while (q < e && is_digit(*q) && n < 19) {
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
        n++;
    }
    if (n == 0 || (q < e && is_digit(*q)))
        return false;
    *p = q;
    *out = v;
    return true;
}

static const char *skip_blanks(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* "Jan".."Dec" at P: 0..11, or -1. */
static int month_of(const char *p, const char *e)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (e - p < 4 || p[3] != ' ')
        return -1;
    for (int m = 0; m < 12; m++)
        if (memcmp(p, names + 3 * m, 3) == 0)
            return m;
    return -1;
}

static bool weekday_at(const char *p, const char *e)
{
    static const char names[] = "MonTueWedThuFriSatSun";
    if (e - p < 4 || p[3] != ' ')
        return false;
    for (int d = 0; d < 7; d++)
        if (memcmp(p, names + 3 * d, 3) == 0)
            return true;
    return false;
}

/* "HH:MM:SS" at P; the second of the day. */
static bool hms_at(const char *p, const char *e, int *sod)
{
    int h, m, s;
    if (!digits_n(p, e, 2, &h) || e - p < 8 || p[2] != ':' || !digits_n(p + 3, e, 2, &m) ||
        p[5] != ':' || !digits_n(p + 6, e, 2, &s) || h > 23 || m > 59 || s > 60)
        return false;
    *sod = h * 3600 + m * 60 + s;
    return true;
}

/* A fraction ".123456" or ",123456" at *P (skipped). */
static void skip_fraction(const char **p, const char *e)
{
    if (*p < e && (**p == '.' || **p == ',') && *p + 1 < e && is_digit((*p)[1])) {
        (*p)++;
        while (*p < e && is_digit(**p))
            (*p)++;
    }
}

/* Seconds since 1970 of a date and a second of the day; local time
 * (mktime, TZ) unless UTC_OFF_VALID, then that offset east of UTC. */
static bool epoch_of(int year, int mon, int mday, int sod, bool utc_off_valid, int utc_off_s,
                     int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = sod / 3600;
    tm.tm_min = sod / 60 % 60;
    tm.tm_sec = sod % 60;
    tm.tm_isdst = -1;
    time_t t = utc_off_valid ? timegm(&tm) : mktime(&tm);
    if (t == (time_t)-1 || mday < 1 || mday > 31)
        return false;
    *out = (int64_t)t - (utc_off_valid ? utc_off_s : 0);
    return true;
}

/* "[ 1469.706932]" at P (printk time): seconds since boot; *AFTER past it. */
static bool mono_at(const char *p, const char *e, double *boot_s, const char **after)
{
    if (p >= e || *p != '[')
        return false;
    const char *q = skip_blanks(p + 1, e);
    uint64_t sec, frac = 0;
    if (!scan_num(&q, e, &sec))
        return false;
    double div = 1;
    if (q >= e || *q != '.') /* always 6 decimals: "[  13268]" is a task-table row */
        return false;
    const char *f = ++q;
    if (!scan_num(&q, e, &frac))
        return false;
    for (; f < q; f++)
        div *= 10;
    if (q >= e || *q != ']')
        return false;
    *boot_s = (double)sec + (double)frac / div;
    *after = q + 1;
    return true;
}

/* "Tue Jan  7 03:12:45 2025" (ctime: dmesg -T) at P, *AFTER past it. */
static bool ctime_at(const char *p, const char *e, int64_t *epoch, const char **after)
{
    int mon, mday, sod, year;
    if (!weekday_at(p, e) || (mon = month_of(p + 4, e)) < 0)
        return false;
    const char *q = skip_blanks(p + 8, e);
    if (!digits_n(q, e, 1, &mday))
        return false;
    if (digits_n(q, e, 2, &mday))
        q++;
    q++;
    if (q >= e || *q != ' ' || !hms_at(q + 1, e, &sod) || e - q < 14 || q[9] != ' ' ||
        !digits_n(q + 10, e, 4, &year))
        return false;
    if (!epoch_of(year, mon, mday, sod, false, 0, epoch))
        return false;
    *after = q + 14;
    return true;
}

/* "2025-01-07T03:12:45[.frac][Z|+01:00|+0100]" (RFC 3339, journalctl
 * short-iso, dmesg --time-format iso) or "2025-01-07 03:12:45 CET" after a
 * weekday (journalctl short-full) at P; *AFTER past it. */
static bool iso_at(const char *p, const char *e, bool full, int64_t *epoch, const char **after)
{
    int year, mon, mday, sod, oh, om;
    if (!digits_n(p, e, 4, &year) || e - p < 19 || p[4] != '-' || !digits_n(p + 5, e, 2, &mon) ||
        p[7] != '-' || !digits_n(p + 8, e, 2, &mday) || p[10] != (full ? ' ' : 'T') ||
        !hms_at(p + 11, e, &sod) || mon < 1 || mon > 12)
        return false;
    const char *q = p + 19;
    skip_fraction(&q, e);
    bool off = false;
    int off_s = 0;
    if (!full && q < e && *q == 'Z') {
        off = true;
        q++;
    } else if (!full && q < e && (*q == '+' || *q == '-') && digits_n(q + 1, e, 2, &oh)) {
        const char *m = q + 3;
        if (m < e && *m == ':')
            m++;
        if (!digits_n(m, e, 2, &om))
            return false;
        off = true;
        off_s = (oh * 3600 + om * 60) * (*q == '-' ? -1 : 1);
        q = m + 2;
    } else if (full && q < e && *q == ' ') { /* the zone's name: local time */
        const char *z = q + 1;
        while (z < e && *z != ' ')
            z++;
        q = z;
    }
    if (!epoch_of(year, mon - 1, mday, sod, off, off_s, epoch))
        return false;
    *after = q;
    return true;
}

/* The rest of a syslog line after its time: "host kernel: msg", busybox's
 * "host kern.warn kernel: msg", an optional printk time after "kernel: ".
 * Sets host, msg, boot_s (when the printk time is there) and other (a
 * tag that is not "kernel"). False when it is no syslog line. */
static bool syslog_tail(const char *p, const char *e, struct mw_klog_line *out)
{
    const char *tok[3], *tend[3];
    int n = 0;
    p = skip_blanks(p, e);
    while (n < 3 && p < e) {
        tok[n] = p;
        while (p < e && *p != ' ')
            p++;
        tend[n] = p;
        n++;
        if (tend[n - 1] > tok[n - 1] && tend[n - 1][-1] == ':')
            break;
        p = skip_blanks(p, e);
    }
    if (n < 2 || tend[n - 1] == tok[n - 1] || tend[n - 1][-1] != ':')
        return false;
    const char *tag = tok[n - 1];
    size_t tag_len = (size_t)(tend[n - 1] - tag) - 1;
    const char *br = memchr(tag, '[', tag_len);
    if (br) /* "kernel[0]:" */
        tag_len = (size_t)(br - tag);
    out->host = tok[0];
    out->host_len = (size_t)(tend[0] - tok[0]);
    out->form = MW_KLOG_SYSLOG;
    out->other = !(tag_len == 6 && memcmp(tag, "kernel", 6) == 0);
    p = tend[n - 1];
    if (p < e && *p == ' ')
        p++;
    const char *after;
    double b;
    if (!out->other && mono_at(p, e, &b, &after)) {
        out->boot_s = b;
        p = after;
        if (p < e && *p == ' ')
            p++;
    }
    out->msg = p;
    out->msg_len = (size_t)(e - p);
    return true;
}

/* "6,1234,1469706932,-;msg" (/dev/kmsg: priority, sequence, microseconds
 * since boot, flags, maybe more fields, ';'). */
static bool kmsg_at(const char *p, const char *e, struct mw_klog_line *out)
{
    uint64_t prio, seq, usec;
    const char *q = p;
    if (!scan_num(&q, e, &prio) || q >= e || *q != ',' || prio > 1023)
        return false;
    q++;
    if (!scan_num(&q, e, &seq) || q >= e || *q != ',')
        return false;
    q++;
    if (!scan_num(&q, e, &usec) || q >= e || *q != ',')
        return false;
    const char *semi = memchr(q, ';', (size_t)(e - q));
    if (!semi || semi - q > 32)
        return false;
    out->form = MW_KLOG_KMSG;
    out->boot_s = (double)usec / 1e6;
    out->msg = semi + 1;
    out->msg_len = (size_t)(e - semi - 1);
    return true;
}

/* "kern  :warn  : " (dmesg -x) at P: past it, or P. */
static const char *skip_decode(const char *p, const char *e)
{
    const char *q = p;
    for (int part = 0; part < 2; part++) {
        const char *w = q;
        while (q < e && *q >= 'a' && *q <= 'z')
            q++;
        if (q == w || q - w > 8)
            return p;
        q = skip_blanks(q, e);
        if (q >= e || *q != ':')
            return p;
        q++;
    }
    return q < e && *q == ' ' ? q + 1 : p;
}

static void set_time(struct mw_klog_line *out, const char *t, const char *te)
{
    out->time = t;
    out->time_len = (size_t)(te - t);
}

/* A line that starts with a wall-clock time of a syslog or journalctl form
 * (BSD "Jan  7 03:12:45[.frac]", short-full "Tue 2025-01-07 03:12:45 CET",
 * short-iso, short-unix "1736216565.123456"), then "host kernel: ". ISO
 * times without a syslog tail are dmesg --time-format iso. */
static bool wall_prefix(const char *p, const char *e, struct mw_klog_line *out)
{
    const char *after;
    int mon = month_of(p, e), mday, sod;
    if (mon >= 0) {
        const char *q = skip_blanks(p + 4, e);
        if (!digits_n(q, e, 1, &mday))
            return false;
        if (digits_n(q, e, 2, &mday))
            q++;
        q++;
        if (q >= e || *q != ' ' || !hms_at(q + 1, e, &sod))
            return false;
        after = q + 9;
        skip_fraction(&after, e);
        if (!syslog_tail(after, e, out))
            return false;
        set_time(out, p, after);
        out->no_year = true;
        out->yl_mon = mon;
        out->yl_mday = mday;
        out->yl_sod = sod;
        return true;
    }
    bool full = weekday_at(p, e);
    const char *d = full ? p + 4 : p;
    int64_t ep;
    if (iso_at(d, e, full, &ep, &after)) {
        if (!syslog_tail(after, e, out)) {
            if (full || after >= e || *after != ' ')
                return false;
            out->form = MW_KLOG_ISO; /* dmesg --time-format iso */
            out->msg = after + 1;
            out->msg_len = (size_t)(e - after - 1);
        }
        set_time(out, p, after);
        out->have_epoch = true;
        out->epoch_s = ep;
        return true;
    }
    uint64_t sec; /* short-unix */
    const char *q = p;
    if (scan_num(&q, e, &sec) && q - p == 10 && q < e && *q == '.') {
        skip_fraction(&q, e);
        if (syslog_tail(q, e, out)) {
            set_time(out, p, q);
            out->have_epoch = true;
            out->epoch_s = (int64_t)sec;
            return true;
        }
    }
    return false;
}

/*
 * The prefixes, one real line of each (the message after them is the
 * kernel's):
 *   [ 1469.706932] hog invoked oom-killer: ...                 dmesg
 *   <4>[ 1469.706932] hog invoked oom-killer: ...              dmesg -r
 *   [Sat Dec  6 01:17:42 2025] hog invoked oom-killer: ...     dmesg -T
 *   kern  :warn  : [ 1469.706932] hog invoked oom-killer: ...  dmesg -x
 *   2025-12-06T01:17:42,123456+00:00 hog invoked oom-killer:   dmesg --time-format iso
 *   4,1187,2131061330,-;hog invoked oom-killer: ...            /dev/kmsg
 *   Dec  6 01:17:42 vm kernel: [ 2131.061330] hog invoked ...  kern.log (rsyslog)
 *   Dec 06 01:17:42 vm kernel: hog invoked oom-killer: ...     journalctl -k
 *   Dec 06 01:17:42.123456 vm kernel: ...                      -o short-precise
 *   2025-12-06T01:17:42+0000 vm kernel: ...                    -o short-iso
 *   Sat 2025-12-06 01:17:42 UTC vm kernel: ...                 -o short-full
 *   [ 2131.061330] vm kernel: ...                              -o short-monotonic
 *   1764983862.123456 vm kernel: ...                           -o short-unix
 *   Dec  6 01:17:42 board kern.warn kernel: ...                busybox syslogd
 */
void mw_klog_line_parse(const char *line, size_t len, struct mw_klog_line *out)
{
    const char *p = line, *e = line + len, *after;
    memset(out, 0, sizeof(*out));
    out->boot_s = -1;
    out->host = out->time = "";
    out->msg = line;
    out->msg_len = len;
    if (p < e && *p == '<') { /* dmesg -r, /proc/kmsg: "<4>" */
        const char *q = p + 1;
        while (q < e && q - p <= 4 && is_digit(*q))
            q++;
        if (q < e && *q == '>' && q > p + 1)
            p = q + 1;
    }
    if (kmsg_at(p, e, out))
        return;
    p = skip_decode(p, e);
    double b;
    int64_t ep;
    if (mono_at(p, e, &b, &after)) {
        if (after < e && *after == ' ')
            after++;
        struct mw_klog_line tail = *out;
        if (syslog_tail(after, e, &tail) && !tail.other && tail.boot_s < 0 && tail.host_len > 0) {
            *out = tail; /* journalctl -o short-monotonic */
        } else {
            out->form = MW_KLOG_DMESG;
            out->msg = after;
            out->msg_len = (size_t)(e - after);
        }
        out->boot_s = b;
        return;
    }
    if (p < e && *p == '[' && ctime_at(p + 1, e, &ep, &after) && after < e && *after == ']') {
        out->form = MW_KLOG_DMESG_T;
        set_time(out, p + 1, after);
        out->have_epoch = true;
        out->epoch_s = ep;
        after++;
        if (after < e && *after == ' ')
            after++;
        out->msg = after;
        out->msg_len = (size_t)(e - after);
        return;
    }
    struct mw_klog_line w = *out;
    if (wall_prefix(p, e, &w))
        *out = w;
}

/* ---- the stream: bytes -> lines -> kernel messages --------------------- */

void mw_klog_stream_init(struct mw_klog_stream *s, int64_t now_s, mw_klog_fn fn, void *ctx)
{
    memset(s, 0, sizeof(*s));
    s->fn = fn;
    s->ctx = ctx;
    s->now_s = now_s;
}

static int hexval(char c)
{
    return is_digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes /dev/kmsg's escapes ("\x0a" for a newline inside a record, "\x5c"
 * for a backslash) from MSG into S->unesc. Returns the length. */
static size_t kmsg_unescape(struct mw_klog_stream *s, const char *msg, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < sizeof(s->unesc); i++) {
        int h, l;
        if (msg[i] == '\\' && i + 3 < len && msg[i + 1] == 'x' && (h = hexval(msg[i + 2])) >= 0 &&
            (l = hexval(msg[i + 3])) >= 0) {
            s->unesc[o++] = (char)(h * 16 + l);
            i += 3;
        } else {
            s->unesc[o++] = msg[i];
        }
    }
    return o;
}

/* Remembers L's host and time for the continuation lines after it. */
static void keep_prev(struct mw_klog_stream *s, const struct mw_klog_line *l)
{
    s->prev = *l;
    size_t hl = l->host_len < sizeof(s->prev_host) ? l->host_len : sizeof(s->prev_host) - 1;
    size_t tl = l->time_len < sizeof(s->prev_time) ? l->time_len : sizeof(s->prev_time) - 1;
    memcpy(s->prev_host, l->host, hl);
    memcpy(s->prev_time, l->time, tl);
    s->prev.host = s->prev_host;
    s->prev.host_len = hl;
    s->prev.time = s->prev_time;
    s->prev.time_len = tl;
    s->have_prev = true;
}

static void guess_year(struct mw_klog_stream *s, struct mw_klog_line *l)
{
    time_t now = (time_t)s->now_s;
    struct tm tm;
    if (!l->no_year || !s->now_s || !localtime_r(&now, &tm))
        return;
    int64_t ep;
    int year = tm.tm_year + 1900;
    if (!epoch_of(year, l->yl_mon, l->yl_mday, l->yl_sod, false, 0, &ep))
        return;
    if (ep > s->now_s + 86400 &&
        !epoch_of(year - 1, l->yl_mon, l->yl_mday, l->yl_sod, false, 0, &ep))
        return;
    l->epoch_s = ep;
    l->have_epoch = l->year_guessed = true;
}

static void give(struct mw_klog_stream *s, struct mw_klog_line *l)
{
    l->source = s->source;
    l->lineno = s->lineno;
    s->kernel_lines++;
    s->fn(l, s->ctx);
}

/* One record of /dev/kmsg: its text unescaped, each line given. */
static void give_kmsg(struct mw_klog_stream *s, struct mw_klog_line *l)
{
    if (s->boot_epoch_s && l->boot_s >= 0) {
        l->epoch_s = s->boot_epoch_s + (int64_t)l->boot_s;
        l->have_epoch = true;
    }
    keep_prev(s, l);
    size_t n = kmsg_unescape(s, l->msg, l->msg_len);
    const char *c = s->unesc, *end = s->unesc + n;
    while (c <= end) {
        const char *nl = memchr(c, '\n', (size_t)(end - c));
        const char *le = nl ? nl : end;
        struct mw_klog_line part = *l;
        part.msg = c;
        part.msg_len = (size_t)(le - c);
        part.cont = c != s->unesc;
        give(s, &part);
        if (!nl)
            break;
        c = nl + 1;
    }
}

static void line_done(struct mw_klog_stream *s, const char *line, size_t len)
{
    s->lines++;
    s->lineno++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (s->prev_kmsg && len > 0 && line[0] == ' ') /* a kmsg record's " KEY=value" */
        return;
    struct mw_klog_line l;
    mw_klog_line_parse(line, len, &l);
    s->prev_kmsg = l.form == MW_KLOG_KMSG;
    if (l.form == MW_KLOG_KMSG) {
        give_kmsg(s, &l);
        return;
    }
    if (l.form == MW_KLOG_BARE && s->have_prev && len > 0) {
        if (s->prev.other) { /* the next line of another program's message */
            s->other_lines++;
            return;
        }
        struct mw_klog_line c = s->prev;
        c.msg = l.msg;
        c.msg_len = l.msg_len;
        c.cont = true;
        give(s, &c);
        return;
    }
    guess_year(s, &l);
    if (l.form != MW_KLOG_BARE)
        keep_prev(s, &l);
    if (l.other) {
        s->other_lines++;
        return;
    }
    give(s, &l);
}

/* The line collected so far is complete. */
static void flush_part(struct mw_klog_stream *s)
{
    if (s->part_long) {
        s->lines++;
        s->lineno++;
        s->long_lines++;
    } else {
        line_done(s, s->part, s->part_len);
    }
    s->part_len = 0;
    s->part_long = false;
}

static void append(struct mw_klog_stream *s, const char *p, size_t n)
{
    if (s->part_long || n > sizeof(s->part) - s->part_len) {
        s->part_long = true;
        return;
    }
    memcpy(s->part + s->part_len, p, n);
    s->part_len += n;
}

void mw_klog_stream_feed(struct mw_klog_stream *s, const char *buf, size_t len)
{
    const char *p = buf, *e = buf + len;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *seg_end = nl ? nl : e;
        /* NUL runs inside the segment end lines (a log written up to a crash) */
        const char *z;
        while ((z = memchr(p, '\0', (size_t)(seg_end - p))) != NULL) {
            append(s, p, (size_t)(z - p));
            if (s->part_len || s->part_long) {
                s->nul_lines++;
                flush_part(s);
            }
            p = z;
            while (p < seg_end && *p == '\0')
                p++;
        }
        append(s, p, (size_t)(seg_end - p));
        if (!nl)
            break;
        flush_part(s);
        p = nl + 1;
    }
}

void mw_klog_stream_end(struct mw_klog_stream *s)
{
    if (s->part_len || s->part_long)
        flush_part(s);
}

/* ---- readers ------------------------------------------------------------ */

/* The reading chunk: 64 KiB keeps a huge log to a few thousand reads. */
#define READ_CHUNK (64u << 10)

long mw_klog_read_fd(int fd, struct mw_klog_stream *s)
{
    static char buf[READ_CHUNK];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            mw_klog_stream_end(s);
            return -err;
        }
        if (n == 0)
            break;
        mw_klog_stream_feed(s, buf, (size_t)n);
        total += n;
    }
    mw_klog_stream_end(s);
    return total;
}

/* The wall-clock time of the boot, as printk times count from it. */
static int64_t boot_epoch(void)
{
    struct timespec rt, mono;
    if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_MONOTONIC, &mono) < 0)
        return 0;
    return (int64_t)rt.tv_sec - (int64_t)mono.tv_sec;
}

/* Every record of the kmsg device FD, oldest first, until it has no more
 * (EAGAIN). A record is one read (at most 1 KiB of text, escaped: the
 * buffer is the kernel's CONSOLE_EXT_LOG_MAX, 8 KiB). */
static int read_kmsg_dev(int fd, struct mw_klog_stream *s, struct mw_kmsg_info *info)
{
    char rec[8192];
    info->device = true;
    info->boot_epoch_s = s->boot_epoch_s = boot_epoch();
    for (;;) {
        ssize_t n = read(fd, rec, sizeof(rec));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EPIPE) { /* overwritten while we read: go on */
            info->lost++;
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        if (info->records++ == 0) {
            const char *q = memchr(rec, ',', (size_t)n);
            if (q)
                info->first_seq = strtoull(q + 1, NULL, 10);
        }
        mw_klog_stream_feed(s, rec, (size_t)n);
        if (rec[n - 1] != '\n')
            mw_klog_stream_feed(s, "\n", 1);
    }
    mw_klog_stream_end(s);
    return 0;
}

int mw_klog_read_kmsg(const struct mw_root *root, struct mw_klog_stream *s,
                      struct mw_kmsg_info *info)
{
    struct mw_kmsg_info dummy;
    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    int fd = openat(root->fd, "dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (S_ISCHR(st.st_mode)) {
        rc = read_kmsg_dev(fd, s, info);
    } else if (S_ISREG(st.st_mode)) {
        long n = mw_klog_read_fd(fd, s);
        rc = n < 0 ? (int)n : 0;
    } else {
        rc = -EBADFD;
    }
    close(fd);
    return rc;
}
