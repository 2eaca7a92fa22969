/* trend: is a memory series stable, slowly growing or leaking? Pure
 * functions over (time, value) samples: a robust slope (Theil-Sen), the
 * "does it ever fall back" check, sawtooth and step detection, the verdict
 * with thresholds scaled to the observation window, and the time until a
 * budget runs out at the measured rate. No I/O. */
#ifndef MW_TREND_H
#define MW_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rule every verdict on a memory series follows (analyze, leak, watch,
 * report, soak): from the VisionCore memory guide — RSS stable or within
 * +-50 MB is normal, growing more than 100 MB an hour is a warning, fast
 * growth that never falls back is a leak ("fast" has no number there; we
 * take three times the warning rate) — and the Luat FAQ's 5 % of the
 * most free memory seen as the noise of a small device. So:
 *   band     5 % of the series' largest value, at most 50 MiB, at least
 *            64 KiB (16 pages: page-sized jitter is no trend); not scaled
 *            by the window (noise does not shrink in a short watch)
 *   warning  growth of at least twice the band an hour (100 MiB/h for a
 *            band of 50 MiB)
 *   leak     three times the warning rate
 *   too short  nothing left the band and the window is shorter than a
 *            leak at the warning rate needs to leave it (band / warning
 *            rate: 30 min with the defaults): no "stable" is said then. */
#define MW_TREND_BAND_SHARE     0.05          /* of the largest value */
#define MW_TREND_BAND_MAX_BYTES (50ull << 20) /* the guide's +-50 MB */
#define MW_TREND_BAND_MIN_BYTES (64ull << 10) /* 16 pages of 4 KiB */
#define MW_TREND_WARN_BANDS_PH  2.0           /* warning: this many bands an hour */
#define MW_TREND_LEAK_WARNS     3.0           /* leak: this many warning rates */

/* Theil-Sen over at most this many points (evenly subsampled beyond). */
#define MW_TREND_MAX_POINTS 400

struct mw_trend_params {
    /* rates (slopes at or above which growth is a warning, a leak) and the
     * band; 0 / band_fixed false: the rule's */
    double warn_bytes_per_hour, leak_bytes_per_hour;
    double band_bytes;
    bool band_fixed;
    /* the samples are memory left (free, available) negated, so that
     * growth is use: words say the rate of what was measured (falling) */
    bool inverted;
};

/* Fills P with the rule above (band and rates from the series). */
void mw_trend_params_default(struct mw_trend_params *p);

enum mw_trend_verdict {
    MW_TREND_UNKNOWN = 0, /* fewer than 3 samples or no time span */
    MW_TREND_TOO_SHORT,   /* nothing left the band, but a slow leak would not have yet */
    MW_TREND_STABLE,
    MW_TREND_WARNING,
    MW_TREND_LEAK,
};

enum mw_trend_shape {
    MW_SHAPE_FLAT = 0,  /* within the band */
    MW_SHAPE_GROWING,   /* grows and never falls back */
    MW_SHAPE_SAWTOOTH,  /* grows and falls back, again and again */
    MW_SHAPE_STEP,      /* one step up, then flat */
    MW_SHAPE_DECLINING, /* shrinks */
    MW_SHAPE_NOISY,     /* grows but falls back (not a clean sawtooth) */
};

struct mw_trend {
    enum mw_trend_verdict verdict;
    enum mw_trend_shape shape;
    size_t n;                    /* samples used */
    double window_s;             /* last time - first time */
    double slope_bytes_per_hour; /* the slope the verdict rests on (floor slope for a sawtooth) */
    double raw_slope_bytes_per_hour; /* Theil-Sen over all samples */
    double net_bytes;                /* median of the last fifth - median of the first fifth */
    double band_bytes;               /* the band the verdict used */
    double warn_bytes_per_hour, leak_bytes_per_hour; /* the rates it used */
    double min_window_s; /* the window "stable" needs: band / warning rate */
    bool inverted;       /* from the params: the samples are negated memory left */
    double first_bytes, last_bytes, min_bytes, max_bytes;
    double max_drawdown_bytes;    /* largest fall from an earlier value */
    unsigned drops;               /* falls of >= 40 % of the range (sawtooth teeth) */
    bool falls_back;              /* the series went back toward its earlier level */
    double step_bytes, step_at_s; /* the step, for MW_SHAPE_STEP */
    /* what a trough's height is known to within (one sampling step of
     * growth): a rising floor counts only beyond it and the band */
    double floor_uncertainty_bytes;
};

/* Median of N doubles (the array is reordered). 0 when N is 0. */
double mw_trend_median(double *v, size_t n);

/* Theil-Sen slope of V over T (seconds), in value units per second: the
 * median of the slopes of all pairs with distinct times (over at most
 * MW_TREND_MAX_POINTS evenly chosen points). Returns 0 or -EINVAL (fewer
 * than 2 distinct times) / -ENOMEM; *slope untouched on failure. */
int mw_trend_theil_sen(const double *t_s, const double *v, size_t n, double *slope);

/* Classifies the series V (bytes) over T (seconds, ascending) with P.
 * Returns 0 or -EINVAL (N < 3 or no time span: OUT gets verdict UNKNOWN
 * with the counts it could fill) / -ENOMEM. The band and the rates follow
 * the rule above unless P gives them. This is the one function that
 * decides a verdict on a memory series. */
int mw_trend_classify(const double *t_s, const double *v, size_t n, const struct mw_trend_params *p,
                      struct mw_trend *out);

/* Seconds until HEADROOM_BYTES is used up at SLOPE_BYTES_PER_HOUR.
 * Negative (-1) when the slope is not positive (never). */
double mw_trend_time_to_exhaustion_s(double headroom_bytes, double slope_bytes_per_hour);

/* "stable", "warning", "leak", "too_short", "unknown". */
const char *mw_trend_verdict_name(enum mw_trend_verdict v);

/* The shape in words into BUF: "sawtooth: grows and falls back (3 times),
 * like a garbage-collected heap", "within the +-50 MiB band", ... */
void mw_trend_note(const struct mw_trend *t, char *buf, size_t cap);

/* The verdict in words into BUF, the sentence every command prints for a
 * trend (the one table of words):
 *   "stable: NOTE"
 *   "warning: +150 MiB/h, NOTE" / "leak: +2.0 GiB/h, NOTE"
 *   "too short to judge: +30.0 MiB over 19 s (NOTE); a leak of 100 MiB/h
 *    needs 30 min to leave the +-50.0 MiB band" (the change is the net one:
 *    the median of the last fifth of the samples less that of the first)
 *   "unknown: 2 samples, not enough to tell"
 * Rates and changes are of what was measured (an inverted series: memory
 * left, so a leak's rate is negative). */
void mw_trend_words(const struct mw_trend *t, char *buf, size_t cap);
/* "flat", "growing", "sawtooth", "step", "declining", "noisy". */
const char *mw_trend_shape_name(enum mw_trend_shape s);

#endif
