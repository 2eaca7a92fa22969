/* logparse: free-memory time series from other tools' logs, for
 * `memwarden analyze` — a module printing its free heap ("Mem Free Size
 * KB: 812", the Luat FAQ's every-2-s line), `free -k`/`free -m` output
 * appended by a cron job, memwarden's own --record JSON lines, or any log
 * with a user's regular expression. Pure: text in, series out. */
#ifndef MW_LOGPARSE_H
#define MW_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/trend.h"

enum mw_log_format {
    MW_LOG_AUTO = 0,
    MW_LOG_FREEHEAP, /* "Mem Free Size KB: 812" lines */
    MW_LOG_FREE,     /* repeated free(1) output: the "Mem:" line */
    MW_LOG_RECORD,   /* memwarden --record JSON lines (MemAvailable) */
    MW_LOG_PATTERN,  /* --pattern REGEX, one capture group */
};

/* The largest sample taken for an amount of memory: 2^60 bytes (1 EiB),
 * beyond any machine; a bigger number in a log is a bad value. */
#define MW_LOG_MAX_BYTES 1152921504606846976.0

struct mw_log_opts {
    enum mw_log_format format;
    double interval_s;   /* time between samples when the log has no times (> 0) */
    const char *pattern; /* extended regex with one capture group (MW_LOG_PATTERN) */
    uint64_t unit_bytes; /* bytes per unit of the numbers; 0 = from the log (KB/-k/-m...) */
};

struct mw_log_point {
    double t_s;    /* seconds: from a timestamp, or index * interval */
    double bytes;  /* free (or available) memory */
    unsigned line; /* 1-based line number */
    bool raw;      /* free(1): read without a unit; bytes once it was inferred */
};

/* Where the unit of the numbers came from. */
enum mw_log_unit_from {
    MW_LOG_UNIT_DEFAULT = 0, /* the format's own (pattern: bytes; record: bytes) */
    MW_LOG_UNIT_OPTION,      /* --unit */
    MW_LOG_UNIT_LOG,         /* said in the log: "KB:" label, a "free -m" command line */
    MW_LOG_UNIT_SUFFIX,      /* every number carried its own (free -h) */
    MW_LOG_UNIT_INFERRED,    /* free(1): from the Mem: total (mw_log_guess_unit) */
    MW_LOG_UNIT_UNKNOWN,     /* free(1): the total fits no unit, or two: the caller must say */
};

/* free(1)'s machine sizes for guessing a unit: the smallest and largest
 * RAM a machine running free(1) has (a busybox board; the x86-64 4-level
 * paging limit), and the typical one the guess is nearest to. */
#define MW_LOG_MIN_RAM_BYTES     (16.0 * 1048576)
#define MW_LOG_MAX_RAM_BYTES     (64.0 * 1099511627776)
#define MW_LOG_TYPICAL_RAM_BYTES (8.0 * 1073741824)

struct mw_log_series {
    struct mw_log_point *p; /* malloc'd */
    size_t n, cap;
    enum mw_log_format format;
    bool timestamps;        /* times came from the log */
    bool available;         /* the values are "available" (free(1) with that column, records) */
    double total_bytes;     /* total memory when the log says (free's total), else 0 */
    unsigned skipped;       /* non-blank lines that held no sample and were not structure */
    unsigned bad_values;    /* sample lines whose number did not parse (also in skipped) */
    unsigned garbled_lines; /* lines with bytes that are not text (NUL, controls, bad UTF-8) */
    unsigned long_lines;    /* lines over MW_LOG_MAX_LINE bytes (also in skipped) */
    uint64_t unit_bytes;    /* bytes per number without a suffix (the guess when UNKNOWN; 0 none) */
    enum mw_log_unit_from unit_from;
    uint64_t unit_alt; /* INFERRED: the runner-up unit (0 none); UNKNOWN: the other reading */
    double unit_total; /* INFERRED / UNKNOWN: the Mem: total as written */
};

/* The longest line read; longer ones are skipped and counted (a sample
 * line is under 200 bytes; 4 KiB leaves room for any prefix). */
#define MW_LOG_MAX_LINE 4096

/* Parses BUF (LEN bytes: any bytes, NULs included) per O. Bytes that are
 * not text (NUL, controls, invalid UTF-8) are line noise: a line keeps what
 * follows its last such byte, and is counted in garbled_lines (in skipped
 * too when nothing is left); lines over MW_LOG_MAX_LINE are skipped and
 * counted; neither ends the input. Returns 0, -EINVAL (bad regex; or no
 * capture group), -ENODATA (format not recognised in AUTO mode) or
 * -ENOMEM. OUT is untouched on failure; free it with mw_log_series_free. */
int mw_log_parse_buf(const char *buf, size_t len, const struct mw_log_opts *o,
                     struct mw_log_series *out);

void mw_log_series_free(struct mw_log_series *s);

/* The unit of free(1) numbers whose Mem: line says TOTAL without a unit:
 * of B, KiB, MiB and GiB, the one that makes TOTAL the RAM of a plausible
 * machine (MW_LOG_MIN..MAX_RAM_BYTES; B only from 4 GiB, GiB from 1 GiB) nearest
 * MW_LOG_TYPICAL_RAM_BYTES on a log scale. Returns 0 (*UNIT the choice, *ALT the runner-up or 0),
 * -EAGAIN when the runner-up is within a factor of 4 as near (*UNIT and
 * *ALT the two readings), -ERANGE when no unit is plausible (untouched). */
int mw_log_guess_unit(double total, uint64_t *unit, uint64_t *alt);

/* Parses a timestamp at the start of S (after blanks and one '['):
 * "2024-05-01 12:00:00[.123]", "2024-05-01T12:00:00", date(1)'s
 * "Wed May  1 12:00:00 UTC 2024", or a bare "12:00:00[.123]" (seconds of
 * the day). Returns true and *T_S (epoch seconds, or seconds of the day
 * with *DAY_ONLY set). */
bool mw_log_timestamp(const char *s, double *t_s, bool *day_only);

/* "freeheap", "free", "record", "pattern", "auto". */
const char *mw_log_format_name(enum mw_log_format f);

/* What analyze concludes from a free-memory series: too big from the
 * start, or the verdict of analysis/trend (the rule `leak`, `report`,
 * `watch` and `soak` follow) on the memory in use. */
struct mw_log_analysis {
    bool too_big;          /* low right after boot: the program is too big */
    struct mw_trend trend; /* the verdict on the judged series */
    const char *series;    /* "used" (total - the value) or "free"/"available" */
    double first_bytes, last_bytes, max_bytes;
    double min_bytes, min_at_s;
    unsigned min_line;
    bool below_danger;           /* the minimum is at or under the danger line */
    bool under_danger_now;       /* the last sample is at or under it (time_to_danger_s 0) */
    double slope_bytes_per_hour; /* of free memory (negative: declining) */
    double time_to_danger_s;     /* at the slope, from the last sample; -1 never; 0 already */
    double time_to_zero_s;
    double window_s;
};

/* Decides: too_big when the first samples (the first tenth, 1..5 of them)
 * are already under 2 x DANGER_BYTES or under 10 % of the total (or the
 * maximum seen); and the trend verdict (analysis/trend.h: band, rates,
 * too short) on the memory in use — total minus the value when the log
 * gives the total (the series `leak --system` judges), else the value
 * negated (INVERTED: the words give free memory's own rate). BAND_BYTES
 * > 0 replaces the rule's band. Time to the danger line and to zero only
 * at a warning or leak. Returns 0 or -EINVAL (fewer than 2 samples) /
 * -ENOMEM. */
int mw_log_analyze(const struct mw_log_series *s, double danger_bytes, double band_bytes,
                   struct mw_log_analysis *out);

/* "too_big", or the trend verdict's name ("stable", "leak", "too_short", ...). */
const char *mw_log_verdict_name(const struct mw_log_analysis *a);

#endif
