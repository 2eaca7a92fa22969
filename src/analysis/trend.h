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

/* Defaults from the VisionCore memory guide: RSS stable or within +-50 MB
 * is normal; growing more than 100 MB an hour is a warning; fast growth
 * that never falls back is a leak. "Fast" is not given a number there; we
 * take three times the warning rate. */
#define MW_TREND_BAND_BYTES    (50ull << 20)       /* +-50 MiB, for a 1 h window */
#define MW_TREND_WARN_BYTES_PH (100.0 * 1048576.0) /* 100 MiB per hour */
#define MW_TREND_LEAK_BYTES_PH (300.0 * 1048576.0) /* 3x the warning rate */
#define MW_TREND_BAND_FLOOR    (1ull << 20)        /* scaled band never below 1 MiB */
#define MW_TREND_BAND_WINDOW_S 3600.0              /* the band is stated for an hour */

/* Theil-Sen over at most this many points (evenly subsampled beyond). */
#define MW_TREND_MAX_POINTS 400

struct mw_trend_params {
    double warn_bytes_per_hour; /* slope at or above which growth is a warning */
    double leak_bytes_per_hour; /* slope at or above which monotone growth is a leak */
    double band_bytes;          /* +- allowance for a 1 h window (scaled, see below) */
    bool band_fixed;            /* true: use band_bytes as given, no scaling */
};

/* Fills P with the defaults above. */
void mw_trend_params_default(struct mw_trend_params *p);

enum mw_trend_verdict {
    MW_TREND_UNKNOWN = 0, /* fewer than 3 samples or no time span */
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
    double band_bytes;               /* the band after scaling to the window */
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
 * with the counts it could fill) / -ENOMEM.
 * The band scales with the window: band * min(1, window / 1 h), never below
 * MW_TREND_BAND_FLOOR, unless P->band_fixed. */
int mw_trend_classify(const double *t_s, const double *v, size_t n, const struct mw_trend_params *p,
                      struct mw_trend *out);

/* Seconds until HEADROOM_BYTES is used up at SLOPE_BYTES_PER_HOUR.
 * Negative (-1) when the slope is not positive (never). */
double mw_trend_time_to_exhaustion_s(double headroom_bytes, double slope_bytes_per_hour);

/* "stable", "warning", "leak", "unknown". */
const char *mw_trend_verdict_name(enum mw_trend_verdict v);
/* "flat", "growing", "sawtooth", "step", "declining", "noisy". */
const char *mw_trend_shape_name(enum mw_trend_shape s);

#endif
