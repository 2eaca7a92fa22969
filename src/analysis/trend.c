#include "analysis/trend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* A fall of at least this share of the series' range counts as a tooth of
 * a sawtooth (a garbage collection, a cache eviction). */
#define DROP_SHARE 0.4
/* A step: one rise within a tenth of the samples (two intervals at least)
 * carrying at least this
 * share of the net growth... */
#define STEP_SHARE 0.6
/* ...followed by at least this share of the samples that stay flat. */
#define STEP_TAIL_SHARE 0.2

void mw_trend_params_default(struct mw_trend_params *p)
{
    p->warn_bytes_per_hour = 0;
    p->leak_bytes_per_hour = 0;
    p->band_bytes = 0;
    p->band_fixed = false;
    p->inverted = false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mw_trend_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int mw_trend_theil_sen(const double *t_s, const double *v, size_t n, double *slope)
{
    size_t m = n > MW_TREND_MAX_POINTS ? MW_TREND_MAX_POINTS : n;
    if (m < 2)
        return -EINVAL;
    double *s = malloc(m * (m - 1) / 2 * sizeof(*s));
    if (!s)
        return -ENOMEM;
    size_t k = 0;
    for (size_t a = 0; a < m; a++) {
        size_t i = m == n ? a : a * (n - 1) / (m - 1);
        for (size_t b = a + 1; b < m; b++) {
            size_t j = m == n ? b : b * (n - 1) / (m - 1);
            double dt = t_s[j] - t_s[i];
            if (dt != 0.0)
                s[k++] = (v[j] - v[i]) / dt;
        }
    }
    int rc = -EINVAL;
    if (k > 0) {
        *slope = mw_trend_median(s, k);
        rc = 0;
    }
    free(s);
    return rc;
}

/* Median of V[from..to) without touching V. */
static double median_range(const double *v, size_t from, size_t to, double *scratch)
{
    memcpy(scratch, v + from, (to - from) * sizeof(*v));
    return mw_trend_median(scratch, to - from);
}

/* Leak, warning or stable for a slope, against the rates R holds. */
static enum mw_trend_verdict rate_verdict(double slope_bytes_per_hour, const struct mw_trend *r)
{
    if (slope_bytes_per_hour >= r->leak_bytes_per_hour)
        return MW_TREND_LEAK;
    if (slope_bytes_per_hour >= r->warn_bytes_per_hour)
        return MW_TREND_WARNING;
    return MW_TREND_STABLE;
}

/* First, last, least and most value, and the largest fall from an earlier
 * peak. */
static void measure_extent(const double *v, size_t n, struct mw_trend *r)
{
    r->first_bytes = v[0];
    r->last_bytes = v[n - 1];
    r->min_bytes = r->max_bytes = v[0];
    double peak = v[0];
    for (size_t i = 0; i < n; i++) {
        if (v[i] < r->min_bytes)
            r->min_bytes = v[i];
        if (v[i] > r->max_bytes)
            r->max_bytes = v[i];
        if (v[i] > peak)
            peak = v[i];
        if (peak - v[i] > r->max_drawdown_bytes)
            r->max_drawdown_bytes = peak - v[i];
    }
}

/* The band and the rates of the rule (trend.h) for R's extent, unless P
 * gives them; and the window a "stable" needs. */
static void set_rule(const struct mw_trend_params *p, struct mw_trend *r)
{
    double scale =
        fabs(r->max_bytes) > fabs(r->min_bytes) ? fabs(r->max_bytes) : fabs(r->min_bytes);
    double band = MW_TREND_BAND_SHARE * scale;
    if (band > (double)MW_TREND_BAND_MAX_BYTES)
        band = (double)MW_TREND_BAND_MAX_BYTES;
    if (band < (double)MW_TREND_BAND_MIN_BYTES)
        band = (double)MW_TREND_BAND_MIN_BYTES;
    r->band_bytes = p->band_fixed ? p->band_bytes : band;
    /* a band given as 0 (any change counts) keeps the rule's rates */
    double rate_band = r->band_bytes > 0 ? r->band_bytes : band;
    r->warn_bytes_per_hour =
        p->warn_bytes_per_hour > 0 ? p->warn_bytes_per_hour : MW_TREND_WARN_BANDS_PH * rate_band;
    r->leak_bytes_per_hour = p->leak_bytes_per_hour > 0
                                 ? p->leak_bytes_per_hour
                                 : MW_TREND_LEAK_WARNS * r->warn_bytes_per_hour;
    r->min_window_s =
        r->warn_bytes_per_hour > 0 ? r->band_bytes / r->warn_bytes_per_hour * 3600.0 : 0;
}

/* Teeth: falls of DROP_SHARE of the range from the peak since the last
 * tooth. Sets R->drops; returns where the last fall bottomed out (0 when
 * there was none). */
static size_t count_teeth(const double *v, size_t n, struct mw_trend *r)
{
    double range = r->max_bytes - r->min_bytes;
    size_t last_trough = 0;
    if (!(range > r->band_bytes))
        return 0;
    /* BASE: the lowest point before the current peak PK; a tooth needs
     * a rise from BASE and a fall from PK, each of DROP_SHARE of the
     * range (a plain decline has no rise and is no tooth). */
    double pk = v[0], base = v[0];
    bool falling = false;
    double thr = DROP_SHARE * range;
    if (thr < r->band_bytes / 2)
        thr = r->band_bytes / 2;
    for (size_t i = 1; i < n; i++) {
        if (falling) {
            if (v[i] <= v[last_trough]) {
                last_trough = i;
                continue;
            }
            falling = false;
            pk = base = v[last_trough];
        }
        if (v[i] > pk)
            pk = v[i];
        if (pk - v[i] >= thr && pk - base >= thr) {
            r->drops++;
            falling = true;
            last_trough = i;
        } else if (v[i] < base) {
            base = pk = v[i];
        }
    }
    return last_trough;
}

/* The biggest rise of V within SPAN samples: its size, and where it starts
 * (*FROM) and ends (*TO). Returns 0 or -ENOMEM. */
static int biggest_rise(const double *v, size_t n, size_t span, double *best, size_t *from,
                        size_t *to)
{
    /* best rise v[j] - min(v[j-span..j-1]): a sliding-window minimum
     * (monotonic deque of indices) keeps this O(n) for long records */
    size_t *dq = malloc(n * sizeof(*dq));
    if (!dq)
        return -ENOMEM;
    size_t head = 0, tailq = 0;
    *best = 0;
    *from = *to = 0;
    for (size_t j = 1; j < n; j++) {
        /* admit j-1; keep the latest of equal minima (the shortest rise) */
        while (tailq > head && v[dq[tailq - 1]] >= v[j - 1])
            tailq--;
        dq[tailq++] = j - 1;
        while (dq[head] + span < j)
            head++;
        if (v[j] - v[dq[head]] > *best) {
            *best = v[j] - v[dq[head]];
            *from = dq[head];
            *to = j;
        }
    }
    free(dq);
    return 0;
}

/* A step: the biggest rise within a tenth of the samples carries most of
 * the net growth, and what follows stays flat. Fills R's step fields, shape
 * and verdict and returns 1 when it is one, 0 when not, -ENOMEM. */
static int judge_step(const double *t_s, const double *v, size_t n, struct mw_trend *r)
{
    /* two intervals at least: a step that straddles a sample is still one */
    size_t span = n / 10 > 2 ? n / 10 : 2;
    double best;
    size_t bi, bj;
    int rc = biggest_rise(v, n, span, &best, &bi, &bj);
    if (rc < 0)
        return rc;
    size_t tail = n - bj;
    if (best < STEP_SHARE * r->net_bytes || (double)tail < STEP_TAIL_SHARE * (double)n)
        return 0;
    double lo = v[bj], hi = v[bj];
    for (size_t i = bj; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    double tol = 0.25 * best > r->band_bytes ? 0.25 * best : r->band_bytes;
    if (hi - lo > tol)
        return 0;
    r->shape = MW_SHAPE_STEP;
    r->verdict = MW_TREND_STABLE;
    r->step_bytes = best;
    r->step_at_s = t_s[bi] - t_s[0];
    /* what it does after the step is what counts */
    double tail_slope;
    if (tail >= 2 && mw_trend_theil_sen(t_s + bj, v + bj, tail, &tail_slope) == 0)
        r->slope_bytes_per_hour = tail_slope * 3600.0;
    return 1;
}

/* The most the series rises between two consecutive samples: how much
 * it can grow within one sampling interval. */
static double largest_step_rise(const double *v, size_t n)
{
    double most = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] - v[i - 1] > most)
            most = v[i] - v[i - 1];
    return most;
}

/* A series that falls back (a sawtooth, or noise with one fall): the floor
 * decides. Returns 0 or -ENOMEM.
 *
 * Why the floor needs more than "it rose" (issue 16): a trough is only
 * sampled somewhere in the first interval after the collection, so its
 * height is known to within one sampling step of growth (the heap grows
 * between the collection and the next sample). When the period does not
 * divide the interval, each trough lands at another point of that first
 * interval; over a few cycles the troughs can climb by up to that step
 * although the real floor never moves (aliasing: a 60 MB heap with a 4 s
 * period sampled every 1.74 s read as a leak of +3 GB/h at one phase and
 * as stable at another). That error is bounded by the step however many
 * cycles are watched, while a real rise adds up cycle after cycle. So the
 * floor counts as rising only beyond band + one step (the largest rise
 * between two samples: the trough's uncertainty, conservative for a heap
 * that grows fastest right after a collection). Once it does, its rate is
 * the fitted floor slope; when it does not, the slope said is at most the
 * rise beyond that step over the time to the last trough. */
static int judge_floor(const double *t_s, const double *v, size_t n, size_t last_trough,
                       struct mw_trend *r)
{
    /* The floor: the least the series ever comes back down to from here
     * on. A garbage-collected heap has a flat floor; a leak under a
     * collector raises it. */
    double *floor_env = malloc(n * sizeof(*floor_env));
    if (!floor_env)
        return -ENOMEM;
    floor_env[n - 1] = v[n - 1];
    for (size_t i = n - 1; i-- > 0;)
        floor_env[i] = v[i] < floor_env[i + 1] ? v[i] : floor_env[i + 1];
    r->shape = r->drops >= 2 ? MW_SHAPE_SAWTOOTH : MW_SHAPE_NOISY;
    double floor_growth = floor_env[last_trough] - floor_env[0];
    double fs = 0;
    if (last_trough >= 2 && mw_trend_theil_sen(t_s, floor_env, last_trough + 1, &fs) == 0)
        r->slope_bytes_per_hour = fs * 3600.0;
    else
        r->slope_bytes_per_hour = 0;
    free(floor_env);
    r->floor_uncertainty_bytes = largest_step_rise(v, n);
    double beyond = floor_growth - r->floor_uncertainty_bytes;
    if (beyond > r->band_bytes) {
        r->verdict = rate_verdict(r->slope_bytes_per_hour, r);
        return 0;
    }
    /* no evidence: the slope is at most what rose beyond the step */
    double span_s = t_s[last_trough] - t_s[0];
    double evidenced = beyond > 0 && span_s > 0 ? beyond / span_s * 3600.0 : 0;
    if (evidenced < r->slope_bytes_per_hour)
        r->slope_bytes_per_hour = evidenced;
    r->verdict = MW_TREND_STABLE;
    return 0;
}

/* A series that never falls back: flat, declining or growing. */
static void judge_monotone(struct mw_trend *r)
{
    if (r->net_bytes < -r->band_bytes) {
        r->shape = MW_SHAPE_DECLINING;
        r->verdict = MW_TREND_STABLE;
    } else if (r->net_bytes <= r->band_bytes) {
        r->shape = MW_SHAPE_FLAT;
        r->verdict = MW_TREND_STABLE;
    } else {
        r->shape = MW_SHAPE_GROWING;
        r->verdict = rate_verdict(r->slope_bytes_per_hour, r);
    }
}

int mw_trend_classify(const double *t_s, const double *v, size_t n, const struct mw_trend_params *p,
                      struct mw_trend *out)
{
    struct mw_trend r;
    memset(&r, 0, sizeof(r));
    r.n = n;
    r.inverted = p->inverted;
    if (n == 0) {
        *out = r;
        return -EINVAL;
    }
    r.window_s = t_s[n - 1] - t_s[0];
    measure_extent(v, n, &r);
    if (n < 3 || !(r.window_s > 0)) {
        *out = r;
        return -EINVAL;
    }
    double *scratch = malloc(n * sizeof(*scratch));
    if (!scratch)
        return -ENOMEM;
    set_rule(p, &r);
    size_t k = n / 5 ? n / 5 : 1;
    r.net_bytes = median_range(v, n - k, n, scratch) - median_range(v, 0, k, scratch);
    free(scratch);
    double ts;
    int rc = mw_trend_theil_sen(t_s, v, n, &ts);
    if (rc < 0)
        return rc;
    r.raw_slope_bytes_per_hour = ts * 3600.0;
    r.slope_bytes_per_hour = r.raw_slope_bytes_per_hour;
    size_t last_trough = count_teeth(v, n, &r);
    r.falls_back = r.drops > 0;

    if (r.net_bytes > r.band_bytes && !r.falls_back)
        rc = judge_step(t_s, v, n, &r);
    if (rc == 0 && r.falls_back)
        rc = judge_floor(t_s, v, n, last_trough, &r);
    else if (rc == 0)
        judge_monotone(&r);
    if (rc < 0)
        return rc;
    /* nothing left the band: "stable" only once a slow leak would have */
    if (r.verdict == MW_TREND_STABLE && r.window_s < r.min_window_s)
        r.verdict = MW_TREND_TOO_SHORT;
    *out = r;
    return 0;
}

double mw_trend_time_to_exhaustion_s(double headroom_bytes, double slope_bytes_per_hour)
{
    if (!(slope_bytes_per_hour > 0) || headroom_bytes < 0)
        return -1;
    return headroom_bytes / slope_bytes_per_hour * 3600.0;
}

const char *mw_trend_verdict_name(enum mw_trend_verdict v)
{
    switch (v) {
    case MW_TREND_STABLE:
        return "stable";
    case MW_TREND_WARNING:
        return "warning";
    case MW_TREND_LEAK:
        return "leak";
    case MW_TREND_TOO_SHORT:
        return "too_short";
    default:
        return "unknown";
    }
}

const char *mw_trend_shape_name(enum mw_trend_shape s)
{
    static const char *const names[] = {"flat", "growing",   "sawtooth",
                                        "step", "declining", "noisy"};
    return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "flat";
}

/* BYTES of the series as a change of what was measured ("+3.0 MiB"). */
static char *measured_delta(char *buf, size_t cap, const struct mw_trend *t, double bytes)
{
    double v = t->inverted ? -bytes : bytes;
    v = v > 9.2e18 ? 9.2e18 : v < -9.2e18 ? -9.2e18 : v;
    return mw_fmt_size_delta(buf, cap, (int64_t)llround(v));
}

void mw_trend_note(const struct mw_trend *t, char *buf, size_t cap)
{
    char a[32];
    bool inv = t->inverted, holds = t->verdict < MW_TREND_WARNING;
    const char *drift = inv ? "its ceiling keeps falling" : "its floor keeps rising";
    switch (t->shape) {
    case MW_SHAPE_STEP:
        snprintf(buf, cap, "stepped %s %s at %.1f s, then stayed flat", inv ? "down" : "up",
                 measured_delta(a, sizeof(a), t, t->step_bytes), t->step_at_s);
        break;
    case MW_SHAPE_SAWTOOTH:
        snprintf(buf, cap, "sawtooth: %s (%u times), %s%s",
                 inv ? "falls and comes back" : "grows and falls back", t->drops,
                 holds ? "like a garbage-collected heap" : "but ", holds ? "" : drift);
        break;
    case MW_SHAPE_NOISY:
        snprintf(buf, cap, "%s%s%s", inv ? "falls but came back once" : "grows but fell back once",
                 holds ? "" : "; ", holds ? "" : drift);
        break;
    case MW_SHAPE_DECLINING:
        snprintf(buf, cap, "%s: %s", inv ? "rising" : "shrinking",
                 measured_delta(a, sizeof(a), t, t->net_bytes));
        break;
    case MW_SHAPE_FLAT:
        snprintf(buf, cap, "within the +-%s band",
                 mw_fmt_size(a, sizeof(a), (uint64_t)t->band_bytes));
        break;
    case MW_SHAPE_GROWING:
        snprintf(buf, cap, "%s%s", inv ? "falling, never comes back" : "growing, never falls back",
                 holds ? " (below the warning rate)" : "");
        break;
    }
}

/* "1 min", "30 min", "19 s", "2.0 h" */
static void fmt_span(char *buf, size_t cap, double s)
{
    if (s < 120)
        snprintf(buf, cap, "%.0f s", s);
    else if (s < 7200)
        snprintf(buf, cap, "%.0f min", s / 60);
    else
        snprintf(buf, cap, "%.1f h", s / 3600);
}

void mw_trend_words(const struct mw_trend *t, char *buf, size_t cap)
{
    char n[160], r[32], w[32], band[32], need[32], d[32];
    if (t->verdict == MW_TREND_UNKNOWN) {
        snprintf(buf, cap, "unknown: %zu sample%s, not enough to tell", t->n, t->n == 1 ? "" : "s");
        return;
    }
    mw_trend_note(t, n, sizeof(n));
    measured_delta(r, sizeof(r), t, t->slope_bytes_per_hour);
    if (t->verdict == MW_TREND_STABLE) {
        snprintf(buf, cap, "stable: %s", n);
    } else if (t->verdict == MW_TREND_TOO_SHORT) {
        fmt_span(w, sizeof(w), t->window_s);
        fmt_span(need, sizeof(need), t->min_window_s);
        char shape[176] = "";
        if (t->shape != MW_SHAPE_FLAT)
            snprintf(shape, sizeof(shape), " (%s)", n);
        snprintf(buf, cap,
                 "too short to judge: %s over %s%s; a leak of %s/h needs %s to leave the +-%s "
                 "band",
                 measured_delta(d, sizeof(d), t, t->net_bytes), w, shape,
                 mw_fmt_size(r, sizeof(r), (uint64_t)t->warn_bytes_per_hour), need,
                 mw_fmt_size(band, sizeof(band), (uint64_t)t->band_bytes));
    } else {
        snprintf(buf, cap, "%s: %s/h, %s", mw_trend_verdict_name(t->verdict), r, n);
    }
}
