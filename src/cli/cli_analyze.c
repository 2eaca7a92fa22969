/* memwarden analyze: a free-memory time series from another tool's log
 * (a module's serial log, a cron job's free output, a memwarden record,
 * any log with --pattern) — too big from the start, and the verdict of
 * analysis/trend on the memory in use (the one `leak` gives); the minimum
 * against a danger line; time to run out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/json.h"
#include "analysis/logparse.h"
#include "analysis/oomreport.h"

/* The Luat FAQ: 200 KB or less left is effectively nothing (fragmentation). */
#define DANGER_DEFAULT_BYTES (200u << 10)

static const struct mw_opt analyze_opts[] = {
    {"format", 'F', 0, "F", "force a format (default: detected)", "auto freeheap free record"},
    {"pattern", 'e', MW_OPT_SHORT, "REGEX", "extended regex; capture group 1 is the value", NULL},
    {"unit", 'u', MW_OPT_SHORT, "UNIT", "unit of the numbers without one (B, K, KB, M, MB, G ...)",
     NULL},
    {"interval", 'i', MW_OPT_SHORT, "D", "time between samples without timestamps (default 2s)",
     NULL},
    {"danger", 'D', 0, "SIZE", "danger line (default 200K)", NULL},
    {"band", 'B', 0, "SIZE",
     "changes within this are noise (default 5 % of the max\n"
     "of the judged series, at most 50M, at least 64K)",
     NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "machine-readable output (bytes, seconds)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_analyze_doc = {
    .head = "NAME\n"
            "    memwarden analyze - read free memory over time from a log and judge it\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden analyze FILE|- [--format auto|freeheap|free|record]\n"
            "                      [--pattern REGEX [--unit UNIT]] [--interval D]\n"
            "                      [--danger SIZE] [--band SIZE] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    Reads a log from a device memwarden cannot run on, or from a cron job:\n"
            "      freeheap  lines like 'Mem Free Size KB: 812' (a module printing its free\n"
            "                heap every 2 s, as the Luat FAQ suggests; any prefix, optional\n"
            "                timestamps)\n"
            "      free      repeated 'free -k' / 'free -m' / 'free -h' output: the Mem: line,\n"
            "                'available' when the header has it, else 'free'; 'date' lines\n"
            "                before each output give the times. Units: --unit, else a\n"
            "                'free -m' line in the log, else free -h's suffixes, else\n"
            "                inferred from the Mem: total (B, KiB, MiB or GiB: the reading\n"
            "                that makes it a machine's RAM nearest 8 GiB, by more than a\n"
            "                factor of 4 over the next; 24000 is MiB, 4028916 KiB). The\n"
            "                unit used is printed; when two fit, analyze asks for --unit\n"
            "      record    'memwarden watch --record' JSON lines (MemAvailable)\n"
            "      pattern   any log: --pattern REGEX with one capture group holding the\n"
            "                number, --unit its unit (default bytes; a suffix like 812K wins)\n"
            "    Lines that hold no sample are skipped and counted. Without timestamps,\n"
            "    samples are --interval apart (default 2s).\n"
            "    The verdict: too_big, after the Luat FAQ, when free memory is low right\n"
            "    after boot (under 2 x --danger or 10 % of the total): the program itself\n"
            "    is too big; trim it. Then the trend of the memory in use (total - the\n"
            "    value when the log gives the total, else the value's fall), judged as\n"
            "    'memwarden leak' judges it (see its --help), in the same words:\n"
            "      stable     it holds (a garbage collector's sawtooth included)\n"
            "      warning    it grows (free memory falls) faster than 2 bands an hour\n"
            "      leak       3 x faster, and it does not come back\n"
            "      too short  nothing left the band, but the log is shorter than a leak at\n"
            "                 the warning rate needs to leave it (30 min)\n"
            "    The minimum is compared with --danger (default 200K: at or under it, free\n"
            "    memory is effectively zero because of fragmentation), and at a declining\n"
            "    rate the time until it is reached is given.\n",
    .opts = analyze_opts,
    .exit_ok = "stable or too short to judge, and above the danger line",
    .exit_fail = "the file is unreadable, not a regular file, holds no samples, or\n"
                 "its units are unknown (give --unit)",
    .exit_found = "too_big, warning, leak, or under the danger line (the verdict says\n"
                  "which)",
    .operands = "@file",
    .examples =
        "    memwarden analyze serial.log --danger 200K\n"
        "    memwarden analyze /var/log/free.log\n"
        "    memwarden analyze app.log --pattern 'heap_free=([0-9]+)' --unit B --interval 10s\n",
};

/* The most analyze reads of a log (a day of a 2-s serial log is ~4 MB). */
#define LOG_MAX_BYTES (256u << 20)

/* Reads the log at PATH ("-": stdin) whole, at most LOG_MAX_BYTES: a
 * regular file (a FIFO or a device would block or never end), or stdin as
 * it is. Returns the byte count or -errno (-EBADFD / -EISDIR: not a
 * regular file, -EFBIG: too big); *OUT (NUL-terminated) only on success. */
static long read_all(const char *path, char **out)
{
    bool in = strcmp(path, "-") == 0, cut = false;
    int fd = in ? 0 : mw_open_regular_at(AT_FDCWD, path, 0);
    if (fd < 0)
        return fd;
    char *b = NULL;
    size_t cap = 0;
    long n = mw_read_fd(fd, &b, &cap, LOG_MAX_BYTES, false, &cut);
    if (!in)
        close(fd);
    if (n >= 0 && cut)
        n = -EFBIG;
    if (n < 0) {
        free(b);
        return n;
    }
    *out = b;
    return n;
}

static const char *read_error(long rc)
{
    if (rc == -EBADFD || rc == -EISDIR)
        return "not a regular file (a FIFO, device or directory would block or never end)";
    if (rc == -EFBIG)
        return "larger than 256 MiB; give its tail (tail -c 100M FILE | memwarden analyze -)";
    return mw_strerror((int)-rc);
}

/* A figure for printing as an integer: doubles past the range of the type
 * (or NaN) are clamped, never converted (that is undefined behaviour). */
static uint64_t to_u64(double v)
{
    return !(v > 0) ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

static void fmt_duration(char *buf, size_t cap, double s)
{
    if (s < 120)
        snprintf(buf, cap, "%.0f s", s);
    else if (s < 7200)
        snprintf(buf, cap, "%.0f min", s / 60);
    else if (s < 172800)
        snprintf(buf, cap, "%.1f h", s / 3600);
    else
        snprintf(buf, cap, "%.1f days", s / 86400);
}

static const char *format_desc(enum mw_log_format f)
{
    switch (f) {
    case MW_LOG_FREEHEAP:
        return "'Mem Free Size' lines";
    case MW_LOG_FREE:
        return "free(1) output";
    case MW_LOG_RECORD:
        return "memwarden record";
    default:
        return "--pattern matches";
    }
}

struct analyze_opts {
    struct mw_log_opts log;
    uint64_t danger, band; /* bytes; band 0: the default */
    bool json;
    const char *path; /* FILE or "-" */
};

/* What analyze shows, gathered once; text and JSON render from it. */
struct analyze {
    struct mw_log_series s;
    struct mw_log_analysis a;
};

/* "KiB" for 1024 and the other powers; else "N-byte units". */
static const char *unit_name(char *buf, size_t cap, uint64_t u)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (unsigned i = 0; i < 5; i++)
        if (u == 1ull << (10 * i))
            return names[i];
    snprintf(buf, cap, "%" PRIu64 "-byte units", u);
    return buf;
}

static const char *unit_from_name(enum mw_log_unit_from f)
{
    static const char *const names[] = {"default", "option",   "log",
                                        "suffix",  "inferred", "unknown"};
    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

/* free(1) numbers without a unit the log or --unit gives, and a total that
 * fits no unit or two: say so, never guess. */
static int refuse_unit(const struct analyze_opts *o, const struct mw_log_series *s)
{
    char u1[32], u2[32], b1[32], b2[32];
    if (!s->unit_bytes) {
        mw_err("analyze: %s: cannot tell the unit of free's numbers: a Mem: total of %.0f is "
               "no machine's RAM in B, KiB, MiB or GiB; give --unit (e.g. --unit K)",
               o->path, s->unit_total);
        return MW_EXIT_FAIL;
    }
    uint64_t lo = s->unit_bytes < s->unit_alt ? s->unit_bytes : s->unit_alt;
    uint64_t hi = s->unit_bytes < s->unit_alt ? s->unit_alt : s->unit_bytes;
    mw_err("analyze: %s: cannot tell the unit of free's numbers: a Mem: total of %.0f is %s as "
           "%s or %s as %s; give --unit %.1s or --unit %.1s",
           o->path, s->unit_total, mw_fmt_size(b1, sizeof(b1), to_u64(s->unit_total * (double)lo)),
           unit_name(u1, sizeof(u1), lo),
           mw_fmt_size(b2, sizeof(b2), to_u64(s->unit_total * (double)hi)),
           unit_name(u2, sizeof(u2), hi), unit_name(u1, sizeof(u1), lo),
           unit_name(u2, sizeof(u2), hi));
    return MW_EXIT_FAIL;
}

/* Reads and judges the log. Returns MW_EXIT_OK, or an exit code after
 * saying why (then R holds nothing to free). */
static int gather(const struct analyze_opts *o, struct analyze *r)
{
    char *buf = NULL;
    long n = read_all(o->path, &buf);
    if (n < 0) {
        mw_err("analyze: %s: %s", o->path, read_error(n));
        return MW_EXIT_FAIL;
    }
    int rc;
    rc = mw_log_parse_buf(buf, (size_t)n, &o->log, &r->s);
    bool oom = rc == -ENODATA && mw_oom_buf_has_report(buf, (size_t)n);
    free(buf);
    if (oom) {
        mw_err("analyze: %s: a kernel log with OOM-killer reports, not a free-memory series: "
               "read it with memwarden oom %s",
               o->path, o->path);
        return MW_EXIT_FAIL;
    }
    if (rc == -EINVAL)
        return mw_usage_error("analyze",
                              "--pattern '%s' is not an extended regex with a capture "
                              "group",
                              o->log.pattern);
    if (rc == -ENODATA) {
        mw_err("analyze: %s: no known format (Mem Free Size lines, free output, memwarden "
               "records); use --pattern REGEX",
               o->path);
        return MW_EXIT_FAIL;
    }
    if (rc < 0) {
        mw_err("analyze: %s: %s", o->path, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    if (r->s.unit_from == MW_LOG_UNIT_UNKNOWN) {
        rc = refuse_unit(o, &r->s);
        mw_log_series_free(&r->s);
        return rc;
    }
    rc = mw_log_analyze(&r->s, (double)o->danger, (double)o->band, &r->a);
    if (rc < 0) {
        mw_err("analyze: %s: %zu sample%s found (%u line%s skipped): not enough to judge", o->path,
               r->s.n, r->s.n == 1 ? "" : "s", r->s.skipped, r->s.skipped == 1 ? "" : "s");
        mw_log_series_free(&r->s);
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}

/* free(1) logs: the unit the numbers were read in, and why. */
static void print_unit(const struct mw_log_series *s)
{
    char u1[32], u2[32], b1[32], b2[32];
    switch (s->unit_from) {
    case MW_LOG_UNIT_OPTION:
        printf("  numbers in %s (--unit)\n", unit_name(u1, sizeof(u1), s->unit_bytes));
        break;
    case MW_LOG_UNIT_LOG:
        printf("  numbers in %s (the free command line in the log)\n",
               unit_name(u1, sizeof(u1), s->unit_bytes));
        break;
    case MW_LOG_UNIT_SUFFIX:
        printf("  numbers with their own units (free -h)\n");
        break;
    case MW_LOG_UNIT_INFERRED:
        printf("  numbers in %s, inferred: a Mem: total of %.0f is %s of RAM",
               unit_name(u1, sizeof(u1), s->unit_bytes), s->unit_total,
               mw_fmt_size(b1, sizeof(b1), to_u64(s->unit_total * (double)s->unit_bytes)));
        if (s->unit_alt)
            printf(" (as %s it would be %s)", unit_name(u2, sizeof(u2), s->unit_alt),
                   mw_fmt_size(b2, sizeof(b2), to_u64(s->unit_total * (double)s->unit_alt)));
        printf("; --unit overrides\n");
        break;
    default:
        break;
    }
}

static void print_json(const struct analyze_opts *o, const struct analyze *r)
{
    const struct mw_log_series *s = &r->s;
    const struct mw_log_analysis *a = &r->a;
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "file", o->path);
    mw_json_str(&j, "format", mw_log_format_name(s->format));
    mw_json_str(&j, "value", s->available ? "available" : "free");
    mw_json_u64(&j, "samples", s->n);
    mw_json_u64(&j, "skipped_lines", s->skipped);
    mw_json_u64(&j, "garbled_lines", s->garbled_lines);
    mw_json_u64(&j, "long_lines", s->long_lines);
    if (s->unit_bytes)
        mw_json_u64(&j, "unit_bytes", s->unit_bytes);
    else
        mw_json_null(&j, "unit_bytes");
    mw_json_str(&j, "unit_from", unit_from_name(s->unit_from));
    mw_json_bool(&j, "timestamps", s->timestamps);
    if (!s->timestamps)
        mw_json_fixed(&j, "interval_s", o->log.interval_s, 3);
    mw_json_fixed(&j, "window_s", a->window_s, 3);
    mw_json_str(&j, "verdict", mw_log_verdict_name(a));
    char words[320];
    mw_trend_words(&a->trend, words, sizeof(words));
    mw_json_str(&j, "trend", mw_trend_verdict_name(a->trend.verdict));
    mw_json_str(&j, "trend_words", words);
    mw_json_str(&j, "series", a->series);
    mw_json_str(&j, "shape", mw_trend_shape_name(a->trend.shape));
    mw_json_fixed(&j, "band_bytes", a->trend.band_bytes, 0);
    mw_json_fixed(&j, "slope_bytes_per_hour", a->slope_bytes_per_hour, 0);
    mw_json_fixed(&j, "first_bytes", a->first_bytes, 0);
    mw_json_fixed(&j, "last_bytes", a->last_bytes, 0);
    mw_json_fixed(&j, "max_bytes", a->max_bytes, 0);
    mw_json_fixed(&j, "min_bytes", a->min_bytes, 0);
    mw_json_fixed(&j, "min_at_s", a->min_at_s, 3);
    if (a->min_line)
        mw_json_u64(&j, "min_line", a->min_line);
    mw_json_u64(&j, "danger_bytes", o->danger);
    mw_json_bool(&j, "below_danger", a->below_danger);
    mw_json_bool(&j, "under_danger_now", a->under_danger_now);
    if (s->total_bytes > 0)
        mw_json_fixed(&j, "total_bytes", s->total_bytes, 0);
    if (a->time_to_danger_s >= 0)
        mw_json_fixed(&j, "time_to_danger_s", a->time_to_danger_s, 0);
    else
        mw_json_null(&j, "time_to_danger_s");
    if (a->time_to_zero_s >= 0)
        mw_json_fixed(&j, "time_to_exhaustion_s", a->time_to_zero_s, 0);
    else
        mw_json_null(&j, "time_to_exhaustion_s");
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void print_verdict(const struct analyze *r, const char *what)
{
    char s1[32], words[320];
    if (r->a.too_big)
        printf("Verdict: too_big: %s memory is low from the start (%s): the program itself "
               "is too big for the device; trim it\n",
               what, mw_fmt_size(s1, sizeof(s1), to_u64(r->a.first_bytes)));
    mw_trend_words(&r->a.trend, words, sizeof(words));
    printf("%s %s memory: %s\n", r->a.too_big ? "  trend of" : "Verdict:", r->a.series, words);
    if (r->a.trend.verdict >= MW_TREND_WARNING)
        printf("  it does not come back: find what holds it in the log, or by turning parts of "
               "the program off\n");
}

static void print_text(const struct analyze_opts *o, const struct analyze *r)
{
    const struct mw_log_series *s = &r->s;
    const struct mw_log_analysis *a = &r->a;
    const char *what = s->available ? "available" : "free";
    char s1[32], s2[32], s3[32], s4[32], d1[32], d2[32];
    fmt_duration(d1, sizeof(d1), a->window_s);
    printf("%s: %s, %zu samples over %s (%s)", o->path, format_desc(s->format), s->n, d1,
           s->timestamps ? "times from the log" : "no timestamps: one every --interval");
    if (s->skipped)
        printf("; skipped %u line%s that held no sample", s->skipped, s->skipped == 1 ? "" : "s");
    if (s->garbled_lines)
        printf("; %u line%s with NULs, control or invalid bytes (read after the last)",
               s->garbled_lines, s->garbled_lines == 1 ? "" : "s");
    if (s->long_lines)
        printf("; %u line%s over %u bytes skipped", s->long_lines, s->long_lines == 1 ? "" : "s",
               MW_LOG_MAX_LINE);
    printf("\n");
    if (s->format == MW_LOG_FREE)
        print_unit(s);
    print_verdict(r, what);
    printf("  %s: %s at the start, %s at the end, %s at most, minimum %s", what,
           mw_fmt_size(s1, sizeof(s1), to_u64(a->first_bytes)),
           mw_fmt_size(s2, sizeof(s2), to_u64(a->last_bytes)),
           mw_fmt_size(s3, sizeof(s3), to_u64(a->max_bytes)),
           mw_fmt_size(s4, sizeof(s4), to_u64(a->min_bytes)));
    if (a->min_line)
        printf(" (line %u)", a->min_line);
    printf("\n");
    printf("  danger line %s: %s\n", mw_fmt_size(s1, sizeof(s1), o->danger),
           a->below_danger ? "REACHED: at or under it, free memory is effectively zero "
                             "(fragmentation)"
                           : "not reached");
    if (a->time_to_danger_s >= 0 && a->under_danger_now) {
        fmt_duration(d2, sizeof(d2), a->time_to_zero_s);
        printf("  it is already under the danger line (%s at the end); at this rate it reaches "
               "zero in %s\n",
               mw_fmt_size(s1, sizeof(s1), to_u64(a->last_bytes)), d2);
    } else if (a->time_to_danger_s >= 0) {
        fmt_duration(d1, sizeof(d1), a->time_to_danger_s);
        fmt_duration(d2, sizeof(d2), a->time_to_zero_s);
        printf("  at this rate it reaches the danger line in %s and zero in %s\n", d1, d2);
    }
}

/* --unit: "K", "KB", "MiB", "4096" ... Returns 0 or -EINVAL. */
static int parse_unit(const char *arg, uint64_t *out)
{
    char buf[32];
    uint64_t u;
    snprintf(buf, sizeof(buf), "%s%s", arg[0] >= '0' && arg[0] <= '9' ? "" : "1", arg);
    if (mw_parse_size(buf, &u) < 0 || u == 0)
        return -EINVAL;
    *out = u;
    return 0;
}

static int parse_format(const char *arg, enum mw_log_format *out)
{
    static const enum mw_log_format all[] = {MW_LOG_AUTO, MW_LOG_FREEHEAP, MW_LOG_FREE,
                                             MW_LOG_RECORD};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(arg, mw_log_format_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -EINVAL;
}

/* Returns 0 with O filled, -1 after --help, or an exit code to return. */
static int parse_opts(int argc, char **argv, struct analyze_opts *o)
{
    uint64_t ms;
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_analyze_doc)) != -1) {
        switch (c) {
        case 'F':
            if (parse_format(optarg, &o->log.format) < 0)
                return mw_usage_error("analyze",
                                      "--format: '%s' is not auto, freeheap, free "
                                      "or record",
                                      optarg);
            break;
        case 'e':
            o->log.pattern = optarg;
            break;
        case 'u':
            if (parse_unit(optarg, &o->log.unit_bytes) < 0)
                return mw_usage_error("analyze", "--unit: '%s' is not a unit (B, K, KB, M, ...)",
                                      optarg);
            break;
        case 'i':
            if (mw_opt_interval_ms("analyze", optarg, &ms) != 0)
                return MW_EXIT_USAGE;
            o->log.interval_s = (double)ms / 1000.0;
            break;
        case 'D':
            if (mw_opt_size("--danger", optarg, &o->danger) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'B':
            if (mw_opt_size("--band", optarg, &o->band) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_analyze_doc);
            return -1;
        default:
            return mw_opt_error("analyze", c, argv);
        }
    }
    if (optind + 1 != argc)
        return mw_usage_error("analyze", optind >= argc ? "which log? give a FILE (or - for stdin)"
                                                        : "one log at a time");
    o->path = argv[optind];
    return 0;
}

int cli_analyze(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    struct analyze_opts o = {
        .log = {.format = MW_LOG_AUTO, .interval_s = 2.0},
        .danger = DANGER_DEFAULT_BYTES,
    };
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? MW_EXIT_OK : rc;
    struct analyze r;
    rc = gather(&o, &r);
    if (rc != MW_EXIT_OK)
        return rc;
    if (o.json)
        print_json(&o, &r);
    else
        print_text(&o, &r);
    const struct mw_log_analysis *a = &r.a;
    rc = (a->too_big || a->trend.verdict >= MW_TREND_WARNING || a->below_danger) ? MW_EXIT_FOUND
                                                                                 : MW_EXIT_OK;
    mw_log_series_free(&r.s);
    return rc;
}
