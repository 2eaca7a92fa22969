#include "analysis/logparse.h"
#include "model/procmatch.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/sample.h"
#include "analysis/trend.h"
#include "base/text.h"
#include "base/util.h"

const char *mw_log_format_name(enum mw_log_format f)
{
    switch (f) {
    case MW_LOG_FREEHEAP:
        return "freeheap";
    case MW_LOG_FREE:
        return "free";
    case MW_LOG_RECORD:
        return "record";
    case MW_LOG_PATTERN:
        return "pattern";
    default:
        return "auto";
    }
}

static int push(struct mw_log_series *s, double t, double bytes, unsigned line)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct mw_log_point *p = realloc(s->p, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->p = p;
        s->cap = nc;
    }
    s->p[s->n].t_s = t;
    s->p[s->n].bytes = bytes;
    s->p[s->n].line = line;
    s->p[s->n].raw = false;
    s->n++;
    return 0;
}

void mw_log_series_free(struct mw_log_series *s)
{
    free(s->p);
    memset(s, 0, sizeof(*s));
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static bool num2(const char *p, unsigned *v)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return false;
    *v = (unsigned)((p[0] - '0') * 10 + (p[1] - '0'));
    return true;
}

/* "HH:MM:SS[.frac]" at P: seconds of the day; *END after it. */
static bool clock_at(const char *p, double *sec, const char **end)
{
    unsigned h, m, s;
    if (!num2(p, &h) || p[2] != ':' || !num2(p + 3, &m) || p[5] != ':' || !num2(p + 6, &s) ||
        h > 23 || m > 59 || s > 60)
        return false;
    double v = h * 3600.0 + m * 60.0 + s;
    p += 8;
    if ((*p == '.' || *p == ',') && isdigit((unsigned char)p[1])) {
        double scale = 0.1;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            v += (*p - '0') * scale;
    }
    *sec = v;
    *end = p;
    return true;
}

bool mw_log_timestamp(const char *s, double *t_s, bool *day_only)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *p = s, *e;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[')
        p++;
    double sec;
    /* 2024-05-01 12:00:00 / 2024-05-01T12:00:00 */
    if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
        isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) && p[4] == '-') {
        unsigned mo, d;
        long y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        if (num2(p + 5, &mo) && p[7] == '-' && num2(p + 8, &d) && (p[10] == ' ' || p[10] == 'T') &&
            mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && clock_at(p + 11, &sec, &e)) {
            *t_s = (double)days_from_civil(y, mo, d) * 86400.0 + sec;
            *day_only = false;
            return true;
        }
        return false;
    }
    /* date(1): "Wed May  1 12:00:00 UTC 2024" (each byte checked before
     * the next is read: the line may end anywhere) */
    if (isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
        isalpha((unsigned char)p[2]) && p[3] == ' ') {
        const char *q = p + 4;
        unsigned mo = 0;
        for (unsigned i = 0; i < 12; i++)
            if (strncmp(q, months[i], 3) == 0)
                mo = i + 1;
        if (!mo || q[3] != ' ')
            return false;
        q += 4;
        while (*q == ' ')
            q++;
        char *de;
        unsigned long d = strtoul(q, &de, 10);
        if (de == q || *de != ' ' || d < 1 || d > 31 || !clock_at(de + 1, &sec, &e))
            return false;
        /* the year is the last number on the line */
        const char *yp = e;
        long y = 0;
        while (*yp && *yp != '\n') {
            if (isdigit((unsigned char)*yp) && (yp[-1] == ' ')) {
                char *ye;
                long v = strtol(yp, &ye, 10);
                if (v >= 1970 && v < 10000)
                    y = v;
                yp = ye;
            } else {
                yp++;
            }
        }
        if (!y)
            return false;
        *t_s = (double)days_from_civil(y, mo, (unsigned)d) * 86400.0 + sec;
        *day_only = false;
        return true;
    }
    if (clock_at(p, &sec, &e)) {
        *t_s = sec;
        *day_only = true;
        return true;
    }
    return false;
}

/* Bytes per unit named at P ("KB", "kB", "KiB", "K", "MB", "B"); *LEN gets
 * the unit's length. 0 when none. */
static uint64_t unit_at(const char *p, size_t *len)
{
    size_t n = 0;
    while (isalpha((unsigned char)p[n]) && n < 4)
        n++;
    *len = n;
    if (n == 0 || isalpha((unsigned char)p[n]))
        return 0;
    char u[8];
    snprintf(u, sizeof(u), "1%.*s", (int)n, p);
    uint64_t b;
    return mw_parse_size(u, &b) == 0 ? b : 0;
}

/* A plain decimal at P: digits[.digits][e[+-]digits] — never strtod's
 * "inf", "nan" or hex. *END after it. False when P holds none. */
static bool num_at(const char *p, double *v, const char **end)
{
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '.' && isdigit((unsigned char)q[1]))
        for (q++; isdigit((unsigned char)*q); q++)
            ;
    if (q == p)
        return false;
    if ((*q == 'e' || *q == 'E') &&
        (isdigit((unsigned char)q[1]) ||
         ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
        for (q += 2; isdigit((unsigned char)*q); q++)
            ;
    }
    char num[64];
    if ((size_t)(q - p) >= sizeof(num))
        return false;
    memcpy(num, p, (size_t)(q - p));
    num[q - p] = '\0';
    *v = strtod(num, NULL);
    *end = q;
    return true;
}

/* V numbers of UNIT bytes as bytes, when that is an amount of memory a
 * machine can have (finite, at most MW_LOG_MAX_BYTES): 1e300 or a number
 * times a suffix that overflows is a bad value, never cast further on. */
static bool bytes_ok(double v, double unit, double *out)
{
    double b = v * unit;
    if (!isfinite(b) || b < 0 || b > MW_LOG_MAX_BYTES)
        return false;
    *out = b;
    return true;
}

/* A number with an optional binary suffix (free -h: "3.2Gi", "128Mi", "500M").
 * *SFX (may be NULL) tells whether it had one (else it counts in UNIT). */
static bool value_at(const char **pp, uint64_t unit, double *out, bool *sfx)
{
    const char *p = *pp, *e;
    double v;
    if (!num_at(p, &v, &e))
        return false;
    const char *q = e;
    if (sfx)
        *sfx = isalpha((unsigned char)*q);
    if (isalpha((unsigned char)*q)) {
        size_t n;
        uint64_t u = unit_at(q, &n);
        if (!u) {
            /* free -h writes "Gi", "Mi", "Ki" */
            if ((q[0] == 'K' || q[0] == 'M' || q[0] == 'G' || q[0] == 'T') && q[1] == 'i' &&
                !isalpha((unsigned char)q[2])) {
                u = q[0] == 'K'   ? 1ull << 10
                    : q[0] == 'M' ? 1ull << 20
                    : q[0] == 'G' ? 1ull << 30
                                  : 1ull << 40;
                n = 2;
            } else {
                return false;
            }
        }
        *pp = q + n;
        return bytes_ok(v, (double)u, out);
    }
    *pp = e;
    return bytes_ok(v, (double)unit, out);
}

struct acc {
    struct mw_log_series s;
    double pending_t;
    bool have_pending, all_stamped, day_only;
    double day_offset, last_day_t;
    size_t samples;
};

static int add(struct acc *a, double bytes, unsigned line, const char *text, double interval)
{
    double t = 0;
    bool day = false, stamped = mw_log_timestamp(text, &t, &day);
    if (!stamped && a->have_pending) {
        t = a->pending_t;
        day = a->day_only;
        stamped = true;
    }
    a->have_pending = false;
    if (stamped && day) {
        /* a clock without a date: past midnight when it jumps back */
        if (a->s.n && t + a->day_offset < a->last_day_t - 43200)
            a->day_offset += 86400;
        t += a->day_offset;
        a->last_day_t = t;
    }
    if (!stamped)
        a->all_stamped = false;
    int rc = push(&a->s, stamped ? t : (double)a->s.n * interval, bytes, line);
    return rc;
}

static bool is_blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!isspace((unsigned char)*p))
            return false;
    return true;
}

/* "free -m" on a line of its own (a cron job's echo, a shell prompt). */
static uint64_t free_cmd_unit(const char *line)
{
    const char *p = line;
    while (*p == ' ' || *p == '$' || *p == '#' || *p == '>')
        p++;
    if (strncmp(p, "free", 4) != 0 || (p[4] != ' ' && p[4] != '\0'))
        return 0;
    if (strstr(p, " -b") || strstr(p, "--bytes"))
        return 1;
    if (strstr(p, " -m") || strstr(p, "--mebi"))
        return 1ull << 20;
    if (strstr(p, " -g") || strstr(p, "--gibi"))
        return 1ull << 30;
    if (strstr(p, " -k") || strstr(p, "--kibi"))
        return 1ull << 10;
    return 1ull << 10;
}

static enum mw_log_format detect(const char *buf)
{
    const char *c = buf, *p;
    size_t len;
    for (unsigned seen = 0; seen < 500 && mw_next_line(&c, &p, &len); seen++) {
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(len < 511 ? len : 511), p);
        const char *q = line;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncmp(q, "{\"t\":", 5) == 0)
            return MW_LOG_RECORD;
        if (strcasestr(line, "Mem Free Size"))
            return MW_LOG_FREEHEAP;
        const char *m = strstr(line, "Mem:");
        if (m && (m == q || (m > line && m[-1] == ' ')))
            return MW_LOG_FREE;
    }
    return MW_LOG_AUTO;
}

static int parse_record(const char *buf, struct mw_log_series *out)
{
    struct mw_record rec = {0};
    int rc = mw_record_parse_buf(&rec, buf);
    if (rc < 0) {
        mw_record_free(&rec);
        return rc;
    }
    bool any_system = false;
    for (size_t i = 0; i < rec.n; i++)
        any_system = any_system || rec.s[i].kind == MW_SAMPLE_SYSTEM;
    int first_pid = 0;
    double t0 = 0;
    for (size_t i = 0; i < rec.n && rc == 0; i++) {
        const struct mw_sample *s = &rec.s[i];
        if (s->kind == MW_SAMPLE_GONE || (any_system && s->kind != MW_SAMPLE_SYSTEM))
            continue;
        if (!any_system) {
            if (!first_pid)
                first_pid = s->pid;
            if (s->pid != first_pid)
                continue;
        }
        if (!out->n)
            t0 = s->t_s;
        (void)t0;
        rc = push(out, s->t_s, (double)s->mem_available, 0);
        if (s->mem_total)
            out->total_bytes = (double)s->mem_total;
    }
    out->skipped = rec.bad_lines;
    out->timestamps = true;
    out->available = true;
    mw_record_free(&rec);
    return rc;
}

/* The parser's state across lines. */
struct lp {
    const struct mw_log_opts *o;
    enum mw_log_format f;
    double interval;
    struct acc a;
    regex_t re;
    bool have_re;
    uint64_t free_unit;      /* free(1): bytes per number without a suffix; 0 unknown */
    double raw_total;        /* free(1): largest Mem: total read without a unit */
    bool total_raw;          /* free(1): total_bytes is such a number */
    int avail_col, free_col; /* free(1): from the last header line */
    bool old_format;         /* free(1): procps before 3.3.10 (buffers column) */
};

/* "Mem Free Size KB: 812": true when LINE held the label (a sample, or a
 * bad value counted). */
static int line_freeheap(struct lp *st, const char *line, unsigned lineno, bool *used)
{
    const char *lab = strcasestr(line, "Mem Free Size");
    if (!lab)
        return 0;
    const char *q = lab + 13;
    while (*q == ' ')
        q++;
    size_t ul;
    uint64_t unit = unit_at(q, &ul);
    if (!unit) {
        unit = 1024; /* the FAQ's line is in KB */
        ul = 0;
    }
    if (st->o->unit_bytes)
        unit = st->o->unit_bytes;
    q += ul;
    while (*q == ':' || *q == ']' || *q == ' ' || *q == '=' || *q == '\t' || *q == ',' || *q == '"')
        q++;
    const char *e;
    double v, b;
    if (!num_at(q, &v, &e) || isalnum((unsigned char)*e) || *e == '.' ||
        !bytes_ok(v, (double)unit, &b)) {
        st->a.s.bad_values++;
        return 0;
    }
    *used = true;
    return add(&st->a, b, lineno, line, st->interval);
}

/* free(1)'s header: which column holds "available" / "free". */
static void free_header(struct lp *st, const char *line)
{
    int col = 0;
    st->avail_col = st->free_col = -1;
    st->old_format = false;
    for (const char *tok = line; *tok;) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        if (!*tok)
            break;
        const char *te = tok;
        while (*te && *te != ' ' && *te != '\t')
            te++;
        size_t tl = (size_t)(te - tok);
        if (tl == 9 && strncmp(tok, "available", 9) == 0)
            st->avail_col = col;
        if (tl == 4 && strncmp(tok, "free", 4) == 0)
            st->free_col = col;
        if (tl == 7 && strncmp(tok, "buffers", 7) == 0)
            st->old_format = true;
        col++;
        tok = te;
    }
}

/* Old procps' "-/+ buffers/cache:  used  free": the free column here is
 * what is available; it replaces the last Mem: sample. */
static void free_buffers_line(struct lp *st, const char *r)
{
    double v[2];
    bool sfx = false;
    int k = 0;
    while (k < 2) {
        while (*r == ' ')
            r++;
        if (!value_at(&r, st->free_unit ? st->free_unit : 1, &v[k], &sfx))
            break;
        k++;
    }
    if (k == 2 && st->a.s.n && st->old_format) {
        st->a.s.p[st->a.s.n - 1].bytes = v[1];
        st->a.s.p[st->a.s.n - 1].raw = !st->free_unit && !sfx;
        st->a.s.available = true;
    }
}

/* "Mem:  total used free shared buff/cache available": one sample. */
static int free_mem_line(struct lp *st, const char *line, unsigned lineno, bool *used)
{
    const char *r = strstr(line, "Mem:") + 4;
    double v[8];
    bool sfx[8];
    int k = 0;
    while (k < 8) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r || !value_at(&r, st->free_unit ? st->free_unit : 1, &v[k], &sfx[k]))
            break;
        k++;
    }
    while (*r == ' ' || *r == '\t')
        r++;
    /* the Mem: line's numbers follow the header's columns */
    int ci = st->avail_col >= 0  ? st->avail_col
             : st->free_col >= 0 ? st->free_col
                                 : (k >= 6 && !st->old_format ? 5 : 2);
    if (k < 3 || ci >= k || *r) {
        st->a.s.bad_values++;
        return 0;
    }
    *used = true;
    /* without a unit yet (no --unit, no free command line, no suffix) the
     * numbers stay as written; the unit is inferred from the total after */
    st->a.s.total_bytes = v[0];
    st->total_raw = !st->free_unit && !sfx[0];
    if (st->total_raw && v[0] > st->raw_total)
        st->raw_total = v[0];
    st->a.s.available = st->avail_col >= 0 || (st->avail_col < 0 && st->free_col < 0 && k >= 6);
    int rc = add(&st->a, v[ci], lineno, line, st->interval);
    if (rc == 0)
        st->a.s.p[st->a.s.n - 1].raw = !st->free_unit && !sfx[ci];
    return rc;
}

static int line_free(struct lp *st, const char *line, unsigned lineno, bool *used)
{
    const char *q = line;
    while (*q == ' ' || *q == '\t')
        q++;
    double t;
    bool day;
    uint64_t cu = free_cmd_unit(line);
    *used = true;
    if (strstr(line, "total") && (strstr(line, "used") || strstr(line, "free"))) {
        free_header(st, line);
    } else if (cu) {
        if (!st->o->unit_bytes) {
            st->free_unit = cu;
            st->a.s.unit_from = MW_LOG_UNIT_LOG;
        }
    } else if (strncmp(q, "Swap:", 5) == 0 || strncmp(q, "Total:", 6) == 0 ||
               strncmp(q, "Low:", 4) == 0 || strncmp(q, "High:", 5) == 0) {
        /* structure */
    } else if (strncmp(q, "-/+ buffers/cache:", 18) == 0) {
        free_buffers_line(st, q + 18);
    } else if (strstr(line, "Mem:")) {
        *used = false;
        return free_mem_line(st, line, lineno, used);
    } else if (mw_log_timestamp(line, &t, &day)) {
        /* a `date` line before the next free output */
        st->a.pending_t = t;
        st->a.have_pending = true;
        st->a.day_only = day;
    } else {
        *used = false;
    }
    return 0;
}

static int line_pattern(struct lp *st, const char *line, unsigned lineno, bool *used)
{
    regmatch_t m[2];
    if (regexec(&st->re, line, 2, m, 0) != 0 || m[1].rm_so < 0)
        return 0;
    char num[64];
    int nl = (int)(m[1].rm_eo - m[1].rm_so);
    snprintf(num, sizeof(num), "%.*s", nl < 63 ? nl : 63, line + m[1].rm_so);
    const char *r = num;
    double v;
    if (!value_at(&r, st->o->unit_bytes ? st->o->unit_bytes : 1, &v, NULL) || *r) {
        st->a.s.bad_values++;
        return 0;
    }
    *used = true;
    return add(&st->a, v, lineno, line, st->interval);
}

static int parse_lines(struct lp *st, const char *buf)
{
    unsigned lineno = 0;
    const char *c = buf, *p;
    size_t len;
    int rc = 0;
    while (rc == 0 && mw_next_line(&c, &p, &len)) {
        lineno++;
        char *line = malloc(len + 1);
        if (!line)
            return -ENOMEM;
        memcpy(line, p, len);
        line[len] = '\0';
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (is_blank(line, line + strlen(line))) {
            free(line);
            continue;
        }
        bool used = false;
        if (st->f == MW_LOG_FREEHEAP)
            rc = line_freeheap(st, line, lineno, &used);
        else if (st->f == MW_LOG_FREE)
            rc = line_free(st, line, lineno, &used);
        else if (st->f == MW_LOG_PATTERN)
            rc = line_pattern(st, line, lineno, &used);
        if (!used)
            st->a.s.skipped++;
        free(line);
    }
    return rc;
}

/* Units inferred from a Mem: total: the reading nearest a typical machine
 * (8 GiB, on a log scale) among those a machine running free(1) can have
 * (16 MiB .. 64 TiB), when it is nearer by more than a factor of 4 (2 in
 * log2) than the next; else ambiguous. Why: free(1) prints a machine's
 * MemTotal, and the units are 1024 apart, so a total is rarely plausible in
 * two of them. 24000 is 23.4 GiB as MiB, 23.4 MiB as KiB (a machine running
 * free with 23 MiB is rare: MiB); 4028916 is 3.8 GiB as KiB, 3.8 TiB as MiB
 * (KiB). The tie zone is a lower reading of 128..512 MiB (a small board in
 * KiB, or a 128..512 GiB server in MiB): there the caller must say.
 * A 32 MiB router's busybox free (28000 KiB) reads as MiB: the output says
 * what was assumed and what the other reading would be. */
int mw_log_guess_unit(double total, uint64_t *unit, uint64_t *alt)
{
    /* free -b is taken only for 4 GiB and up (a 500000000 total is a 477 GiB
     * server's plain free far more often than a 477 MiB board's free -b),
     * free -g from 1 GiB (it rounds down: 0 says nothing) */
    static const struct {
        uint64_t unit;
        double min_bytes;
    } units[] = {
        {1, 4.0 * 1073741824},
        {1ull << 10, MW_LOG_MIN_RAM_BYTES},
        {1ull << 20, MW_LOG_MIN_RAM_BYTES},
        {1ull << 30, 1073741824.0},
    };
    double best_d = 1e9, next_d = 1e9;
    uint64_t best = 0, next = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        double r = total * (double)units[i].unit;
        if (!(r >= units[i].min_bytes && r <= MW_LOG_MAX_RAM_BYTES))
            continue;
        double d = fabs(log2(r) - log2(MW_LOG_TYPICAL_RAM_BYTES));
        if (d < best_d) {
            next_d = best_d;
            next = best;
            best_d = d;
            best = units[i].unit;
        } else if (d < next_d) {
            next_d = d;
            next = units[i].unit;
        }
    }
    if (!best)
        return -ERANGE;
    *unit = best;
    *alt = next;
    return next && next_d - best_d <= 2 ? -EAGAIN : 0;
}

/* After a free(1) log: numbers read without a unit get the inferred one. */
static void free_units(struct lp *st)
{
    struct mw_log_series *s = &st->a.s;
    bool any_raw = st->total_raw;
    for (size_t i = 0; i < s->n; i++)
        any_raw = any_raw || s->p[i].raw;
    if (st->free_unit && s->unit_from == MW_LOG_UNIT_LOG)
        s->unit_bytes = st->free_unit;
    if (!any_raw) {
        if (!st->free_unit && s->n)
            s->unit_from = MW_LOG_UNIT_SUFFIX;
        return;
    }
    s->unit_total = st->raw_total;
    int rc = mw_log_guess_unit(st->raw_total, &s->unit_bytes, &s->unit_alt);
    if (rc < 0) {
        s->unit_from = MW_LOG_UNIT_UNKNOWN;
        if (rc == -ERANGE)
            s->unit_bytes = s->unit_alt = 0;
        return;
    }
    s->unit_from = MW_LOG_UNIT_INFERRED;
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i].raw)
            s->p[i].bytes *= (double)s->unit_bytes;
    if (st->total_raw)
        s->total_bytes *= (double)s->unit_bytes;
}

/* Whether the character at P (N bytes left) is text: valid UTF-8 and not a
 * control (tab aside), DEL or C1 character. *LEN gets its length (1 for a
 * byte that is not text). */
static bool text_at(const char *p, size_t n, size_t *len)
{
    if (n >= 2 && p[0] == '\x1b' && p[1] == '[') {
        /* a terminal's CSI sequence (ESC [ params intermediates final) is
         * noise as a whole: "\x1b[31m" leaves no "[31m" behind */
        size_t k = 2;
        while (k < n && p[k] >= 0x20 && p[k] <= 0x3f)
            k++;
        *len = k < n && p[k] >= 0x40 && p[k] <= 0x7e ? k + 1 : k;
        return false;
    }
    unsigned cp = 0;
    size_t k = mw_utf8_seq((const unsigned char *)p, n, &cp);
    *len = k ? k : 1;
    return k && (cp >= 0x20 || cp == '\t') && !(cp >= 0x7f && cp < 0xa0);
}

/* Serial logs carry line noise: a copy of BUF (LEN bytes) that holds text
 * only, line for line (line numbers stay). A line with bytes that are not
 * text (NUL, controls, invalid UTF-8, a terminal escape) keeps what follows
 * the last of them — the noise came first, then the line (as a carriage
 * return shows it); lines over MW_LOG_MAX_LINE bytes become empty. A
 * trailing \r (\r\n) goes. Counts go to S. Returns NULL without memory. */
static char *text_copy(const char *buf, size_t len, struct mw_log_series *s)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p), k;
        if (n && p[n - 1] == '\r')
            n--;
        if (n > MW_LOG_MAX_LINE) {
            s->long_lines++;
            s->skipped++;
            n = 0;
        }
        const char *start = p;
        for (size_t i = 0; i < n; i += k)
            if (!text_at(p + i, n - i, &k))
                start = p + i + k;
        size_t tn = (size_t)(p + n - start);
        if (start != p) {
            s->garbled_lines++;
            if (is_blank(start, start + tn))
                s->skipped++;
        }
        memcpy(out + o, start, tn);
        o += tn;
        if (nl)
            out[o++] = '\n';
        p = nl ? nl + 1 : end;
    }
    out[o] = '\0';
    return out;
}

static int parse_text(const char *buf, const struct mw_log_opts *o, struct mw_log_series *out)
{
    struct lp st;
    memset(&st, 0, sizeof(st));
    st.o = o;
    st.f = o->pattern ? MW_LOG_PATTERN : o->format;
    if (st.f == MW_LOG_AUTO)
        st.f = detect(buf);
    if (st.f == MW_LOG_AUTO)
        return -ENODATA;
    st.interval = o->interval_s > 0 ? o->interval_s : 2.0;
    st.a.all_stamped = true;
    st.a.s.format = st.f;
    st.free_unit = o->unit_bytes;
    st.a.s.unit_bytes = o->unit_bytes ? o->unit_bytes : st.f == MW_LOG_FREEHEAP ? 1024 : 1;
    st.a.s.unit_from = o->unit_bytes             ? MW_LOG_UNIT_OPTION
                       : st.f == MW_LOG_FREEHEAP ? MW_LOG_UNIT_LOG
                                                 : MW_LOG_UNIT_DEFAULT;
    st.avail_col = st.free_col = -1;
    int rc;
    if (st.f == MW_LOG_RECORD) {
        rc = parse_record(buf, &st.a.s);
        goto done;
    }
    if (st.f == MW_LOG_PATTERN) {
        if (!o->pattern || mw_regcomp_bounded(&st.re, o->pattern, REG_EXTENDED, NULL, 0) != 0)
            return -EINVAL;
        st.have_re = true;
        if (st.re.re_nsub < 1) {
            regfree(&st.re);
            return -EINVAL;
        }
    }
    rc = parse_lines(&st, buf);
    if (st.have_re)
        regfree(&st.re);
    if (st.f == MW_LOG_FREE)
        free_units(&st);
    if (rc == 0 && (!st.a.all_stamped || st.a.s.n == 0)) {
        for (size_t i = 0; i < st.a.s.n; i++)
            st.a.s.p[i].t_s = (double)i * st.interval;
        st.a.s.timestamps = false;
    } else if (rc == 0) {
        st.a.s.timestamps = true;
    }
done:
    if (rc < 0) {
        free(st.a.s.p);
        return rc;
    }
    *out = st.a.s;
    return 0;
}

int mw_log_parse_buf(const char *buf, size_t len, const struct mw_log_opts *o,
                     struct mw_log_series *out)
{
    struct mw_log_series noise;
    memset(&noise, 0, sizeof(noise));
    char *text = text_copy(buf, len, &noise);
    if (!text)
        return -ENOMEM;
    int rc = parse_text(text, o, out);
    free(text);
    if (rc == 0) {
        out->skipped += noise.skipped;
        out->garbled_lines = noise.garbled_lines;
        out->long_lines = noise.long_lines;
    }
    return rc;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The level right after boot: the median of the first tenth of the
 * samples (1 to 5 of them). */
static double boot_level(const struct mw_log_series *s)
{
    size_t k = s->n / 10;
    if (k < 1)
        k = 1;
    if (k > 5)
        k = 5;
    double head[5];
    for (size_t i = 0; i < k; i++)
        head[i] = s->p[i].bytes;
    qsort(head, k, sizeof(head[0]), cmp_d);
    return k % 2 ? head[k / 2] : (head[k / 2 - 1] + head[k / 2]) / 2;
}

int mw_log_analyze(const struct mw_log_series *s, double danger_bytes, double band_bytes,
                   struct mw_log_analysis *out)
{
    if (s->n < 2)
        return -EINVAL;
    struct mw_log_analysis r;
    memset(&r, 0, sizeof(r));
    r.time_to_danger_s = r.time_to_zero_s = -1;
    double *t = malloc(s->n * sizeof(*t)), *v = malloc(s->n * sizeof(*v));
    if (!t || !v) {
        free(t);
        free(v);
        return -ENOMEM;
    }
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    /* memory in use, as leak judges it: total - the value; without a
     * total the value negated (growth is use either way) */
    double total = s->total_bytes;
    p.inverted = !(total > 0);
    r.series = p.inverted ? (s->available ? "available" : "free") : "used";
    r.min_bytes = r.max_bytes = s->p[0].bytes;
    r.min_line = s->p[0].line;
    for (size_t i = 0; i < s->n; i++) {
        t[i] = s->p[i].t_s - s->p[0].t_s;
        v[i] = p.inverted ? -s->p[i].bytes : total - s->p[i].bytes;
        if (s->p[i].bytes < r.min_bytes) {
            r.min_bytes = s->p[i].bytes;
            r.min_at_s = t[i];
            r.min_line = s->p[i].line;
        }
        if (s->p[i].bytes > r.max_bytes)
            r.max_bytes = s->p[i].bytes;
    }
    r.first_bytes = s->p[0].bytes;
    r.last_bytes = s->p[s->n - 1].bytes;
    r.window_s = t[s->n - 1];
    r.below_danger = r.min_bytes <= danger_bytes;
    r.under_danger_now = r.last_bytes <= danger_bytes;
    double start = boot_level(s);
    double whole = total > 0 ? total : r.max_bytes;
    if (band_bytes > 0) {
        p.band_fixed = true;
        p.band_bytes = band_bytes;
    }
    int rc = mw_trend_classify(t, v, s->n, &p, &r.trend);
    free(t);
    free(v);
    if (rc == -ENOMEM)
        return rc;
    r.slope_bytes_per_hour = rc == 0 ? -r.trend.slope_bytes_per_hour : 0;
    r.too_big = start <= 2 * danger_bytes || start < 0.10 * whole;
    if (r.slope_bytes_per_hour < 0 && (r.too_big || r.trend.verdict >= MW_TREND_WARNING)) {
        double rate = -r.slope_bytes_per_hour / 3600.0;
        r.time_to_danger_s = r.last_bytes > danger_bytes ? (r.last_bytes - danger_bytes) / rate : 0;
        r.time_to_zero_s = r.last_bytes / rate;
    }
    *out = r;
    return 0;
}

const char *mw_log_verdict_name(const struct mw_log_analysis *a)
{
    return a->too_big ? "too_big" : mw_trend_verdict_name(a->trend.verdict);
}
