#include "harness.h"
#include "cli/cli.h"
#include "analysis/trend.h"

#define MB (1048576.0)

static double T[2000], V[2000];

static void fill(size_t n, double dt, double (*f)(double t))
{
    for (size_t i = 0; i < n; i++) {
        T[i] = (double)i * dt;
        V[i] = f(T[i]);
    }
}

static double leak_fast(double t)
{
    return 100 * MB + 5 * MB * t; /* 5 MB/s */
}
static double flat_noise(double t)
{
    return 200 * MB + (double)((long)(t * 10) % 3) * 4096.0;
}
static double sawtooth(double t)
{
    double phase = t - 2.0 * (double)(long)(t / 2.0); /* 2 s period */
    return 50 * MB + phase * 15 * MB;
}
static double sawtooth_leaky(double t)
{
    return sawtooth(t) + 10 * MB * t;
}
static double step_flat(double t)
{
    return t < 1.0 ? 30 * MB : 60 * MB;
}
static double step_straddling(double t)
{
    return t < 0.9 ? 30 * MB : t < 1.1 ? 45 * MB : 60 * MB; /* half in each of two intervals */
}
static double slow_hourly(double t)
{
    return 500 * MB + 150 * MB * t / 3600.0; /* 150 MB/h over hours */
}
static double moderate_hourly(double t)
{
    return 500 * MB + 60 * MB * t / 3600.0; /* 60 MB/h: under the warning rate */
}
static double fast_hourly(double t)
{
    return 500 * MB + 400 * MB * t / 3600.0;
}
static double declining(double t)
{
    return 500 * MB - 20 * MB * t;
}

static void test_theil_sen_robust(void)
{
    for (size_t i = 0; i < 20; i++) {
        T[i] = (double)i;
        V[i] = 3.0 * (double)i + 7;
    }
    V[5] = 1e9; /* outliers do not move the median slope */
    V[11] = -1e9;
    double s = 0;
    CHECK_EQ_INT(mw_trend_theil_sen(T, V, 20, &s), 0);
    CHECK_CLOSE(s, 3.0, 1);
    /* no distinct times */
    T[1] = T[0];
    CHECK(mw_trend_theil_sen(T, V, 2, &s) < 0);
    /* many points are subsampled, the slope survives */
    fill(2000, 1.0, leak_fast);
    CHECK_EQ_INT(mw_trend_theil_sen(T, V, 2000, &s), 0);
    CHECK_CLOSE(s, 5 * MB, 1);
}

static void classify(size_t n, double dt, double (*f)(double), struct mw_trend *tr)
{
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    fill(n, dt, f);
    CHECK_EQ_INT(mw_trend_classify(T, V, n, &p, tr), 0);
}

static void test_short_windows(void)
{
    struct mw_trend tr;
    classify(20, 0.2, leak_fast, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_LEAK);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_GROWING);
    CHECK_CLOSE(tr.slope_bytes_per_hour, 5 * MB * 3600, 1);
    CHECK(!tr.falls_back);

    /* nothing left the band in 4 s: no "stable" (a slow leak would not
     * have left it either) */
    classify(20, 0.2, flat_noise, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_FLAT);
    CHECK_CLOSE(tr.band_bytes, 10 * MB, 1);   /* 5 % of 200 MB */
    CHECK_CLOSE(tr.min_window_s, 1800, 1e-6); /* band / (2 bands an hour) */

    classify(40, 0.2, sawtooth, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_SAWTOOTH);
    CHECK(tr.drops >= 2);
    CHECK(tr.falls_back);

    classify(40, 0.2, sawtooth_leaky, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_LEAK);
    CHECK_CLOSE(tr.slope_bytes_per_hour, 10 * MB * 3600, 25);

    classify(20, 0.2, step_flat, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_STEP);
    CHECK_CLOSE(tr.step_bytes, 30 * MB, 1);
    CHECK_CLOSE(tr.step_at_s, 0.8, 1);

    classify(16, 0.2, step_straddling, &tr);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_STEP);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);

    classify(20, 0.2, declining, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_DECLINING);
}

static void test_hour_scale(void)
{
    struct mw_trend tr;
    /* 150 MB/h watched for 2 h, a sample a minute: warning, not a leak
     * (band 5 % of 800 MB = 40 MB; warning at 80 MB/h, leak at 240) */
    classify(121, 60, slow_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_WARNING);
    CHECK_CLOSE(tr.slope_bytes_per_hour, 150 * MB, 1);
    CHECK_CLOSE(tr.band_bytes, 40 * MB, 0.1);
    CHECK_CLOSE(tr.warn_bytes_per_hour, 80 * MB, 0.1);
    /* 60 MB/h for 2 h: 120 MB of growth but under the warning rate (62 MB/h) */
    classify(121, 60, moderate_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_GROWING);
    /* 400 MB/h: fast and never falls back */
    classify(121, 60, fast_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_LEAK);
    /* 150 MB/h watched for 10 min: 25 MB of growth is inside the 26 MB
     * band, which does not shrink with the window: too short to tell */
    classify(11, 60, slow_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT);
    CHECK_CLOSE(tr.band_bytes, 0.05 * 525 * MB, 1);
    /* the band is at most 50 MiB (a 4 GB process) and at least 64 KiB */
    for (size_t i = 0; i < 20; i++) {
        T[i] = (double)i * 600;
        V[i] = 4096 * MB;
    }
    CHECK_EQ_INT(mw_trend_classify(T, V, 20, &(struct mw_trend_params){0}, &tr), 0);
    CHECK_CLOSE(tr.band_bytes, 50 * MB, 1e-9);
    CHECK_CLOSE(tr.warn_bytes_per_hour, 100 * MB, 1e-9);
    CHECK_CLOSE(tr.leak_bytes_per_hour, 300 * MB, 1e-9);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    for (size_t i = 0; i < 20; i++)
        V[i] = 4096;
    CHECK_EQ_INT(mw_trend_classify(T, V, 20, &(struct mw_trend_params){0}, &tr), 0);
    CHECK_CLOSE(tr.band_bytes, 65536, 1e-9);
}

static void test_fixed_band_and_edges(void)
{
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    p.band_fixed = true;
    p.band_bytes = 100 * MB;
    struct mw_trend tr;
    fill(20, 0.2, leak_fast); /* 19 MB of growth inside a fixed 100 MB band */
    CHECK_EQ_INT(mw_trend_classify(T, V, 20, &p, &tr), 0);
    CHECK_EQ_INT(tr.verdict, MW_TREND_TOO_SHORT); /* in 4 s: "stable" needs 30 min */
    CHECK_CLOSE(tr.band_bytes, 100 * MB, 1e-9);
    /* a leak rate given: the window a "stable" needs follows it */
    p.warn_bytes_per_hour = 100 * MB * 3600; /* the band in a second */
    CHECK_EQ_INT(mw_trend_classify(T, V, 20, &p, &tr), 0);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_CLOSE(tr.min_window_s, 1, 1e-6);
    p.warn_bytes_per_hour = 0;
    CHECK(mw_trend_classify(T, V, 2, &p, &tr) < 0);
    CHECK_EQ_INT(tr.verdict, MW_TREND_UNKNOWN);
    for (int i = 0; i < 5; i++)
        T[i] = 7; /* no time span */
    CHECK(mw_trend_classify(T, V, 5, &p, &tr) < 0);
}

/* A garbage-collected heap: FLOOR + AMP_BYTES grown linearly over PERIOD_S
 * (or, CONCAVE, fast first: most of a cycle's allocation right after the
 * collection), then collected back to the floor, which itself rises at
 * FLOOR_PH bytes an hour. Sampled every INTERVAL_S from PHASE_S on. */
struct gc_heap {
    double period_s, amp_bytes, interval_s, phase_s, floor_ph;
    bool concave;
};

static double gc_value(const struct gc_heap *g, double t)
{
    double x = t / g->period_s - floor(t / g->period_s); /* 0..1 into the cycle */
    double grown = g->concave ? sqrt(x) : x;
    return 200 * MB + g->floor_ph * t / 3600.0 + g->amp_bytes * grown;
}

static double AT[8192], AV[8192];

static enum mw_trend_verdict gc_verdict(const struct gc_heap *g, double window_s,
                                        const struct mw_trend_params *p, struct mw_trend *tr)
{
    size_t n = (size_t)(window_s / g->interval_s) + 1;
    if (n > sizeof(AT) / sizeof(AT[0]))
        n = sizeof(AT) / sizeof(AT[0]);
    for (size_t i = 0; i < n; i++) {
        AT[i] = (double)i * g->interval_s;
        AV[i] = gc_value(g, g->phase_s + AT[i]);
    }
    CHECK_EQ_INT(mw_trend_classify(AT, AV, n, p, tr), 0);
    return tr->verdict;
}

/* Issue 16: a sawtooth whose period does not divide the sampling interval.
 * Each trough is sampled a little later (or earlier) in its cycle than
 * the last, so the troughs seem to rise although the floor never moves.
 * Whatever the ratio and the phase, that is no leak (nor a warning).
 * Set MW_TREND_TABLE=1 to print the table. */
static void test_sawtooth_aliasing(void)
{
    static const double ratios[] = {2.3, 3.7, 5.5, 7.9, 12.4};
    static const double phases[] = {0.0, 0.2, 0.45, 0.7, 0.95}; /* of one interval */
    static const double windows[] = {15, 60, 300, 3600};        /* seconds */
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    bool table = getenv("MW_TREND_TABLE") != NULL;
    if (table)
        printf("# aliasing: 60 MB sawtooth, 4 s period, flat floor (want: not leak/warning)\n"
               "# %-6s %-5s %-8s %-6s %-9s %-8s %s\n",
               "ratio", "phase", "window", "shape", "verdict", "drops", "floor slope");
    for (int concave = 0; concave < 2; concave++)
        for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++)
            for (size_t ph = 0; ph < sizeof(phases) / sizeof(phases[0]); ph++)
                for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
                    struct gc_heap g = {
                        .period_s = 4, .amp_bytes = 60 * MB, .concave = concave != 0};
                    g.interval_s = g.period_s / ratios[r];
                    g.phase_s = phases[ph] * g.interval_s;
                    struct mw_trend tr;
                    enum mw_trend_verdict v = gc_verdict(&g, windows[w], &p, &tr);
                    /* stable once the window is long enough to say so */
                    enum mw_trend_verdict want =
                        windows[w] < tr.min_window_s ? MW_TREND_TOO_SHORT : MW_TREND_STABLE;
                    if (v != want)
                        fprintf(stderr, "  aliased %s ratio %.1f phase %.2f window %.0f s: %s\n",
                                concave ? "concave" : "linear", ratios[r], phases[ph], windows[w],
                                mw_trend_verdict_name(v));
                    CHECK_EQ_INT(v, want);
                    if (table)
                        printf("# %-6.1f %-5.2f %-8.0f %-6s %-9s %-8u %+.0f MB/h%s\n", ratios[r],
                               phases[ph], windows[w], mw_trend_shape_name(tr.shape),
                               mw_trend_verdict_name(v), tr.drops, tr.slope_bytes_per_hour / MB,
                               concave ? " (concave)" : "");
                }
}

/* ...and a floor that truly rises under the same sawtooth is still caught,
 * at every ratio and phase: 400 MB/h (above the 300 MB/h leak rate)
 * watched for 10 min (67 MB, against a trough uncertainty of at most
 * 60 MB / 2.3 = 26 MB), and a slow 20 MB/h floor watched for 6 h with a
 * 15 MB/h leak rate (120 MB of rise; a 2 min collector period). */
static void test_sawtooth_rising_floor(void)
{
    static const double ratios[] = {2.3, 3.7, 5.5, 7.9, 12.4};
    static const double phases[] = {0.0, 0.2, 0.45, 0.7, 0.95};
    struct mw_trend_params p, slow;
    mw_trend_params_default(&p);
    mw_trend_params_default(&slow);
    slow.warn_bytes_per_hour = 10 * MB;
    slow.leak_bytes_per_hour = 15 * MB;
    bool table = getenv("MW_TREND_TABLE") != NULL;
    if (table)
        printf("# rising floor under the sawtooth (want: leak)\n"
               "# %-6s %-5s %-14s %-9s %s\n",
               "ratio", "phase", "case", "verdict", "floor slope");
    for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++)
        for (size_t ph = 0; ph < sizeof(phases) / sizeof(phases[0]); ph++) {
            struct gc_heap fast = {.period_s = 4, .amp_bytes = 60 * MB, .floor_ph = 400 * MB};
            fast.interval_s = fast.period_s / ratios[r];
            fast.phase_s = phases[ph] * fast.interval_s;
            struct gc_heap slowg = {.period_s = 120, .amp_bytes = 60 * MB, .floor_ph = 20 * MB};
            slowg.interval_s = slowg.period_s / ratios[r];
            slowg.phase_s = phases[ph] * slowg.interval_s;
            struct mw_trend a, b;
            CHECK_EQ_INT(gc_verdict(&fast, 600, &p, &a), MW_TREND_LEAK);
            CHECK_EQ_INT(gc_verdict(&slowg, 6 * 3600, &slow, &b), MW_TREND_LEAK);
            CHECK(b.slope_bytes_per_hour < 25 * MB); /* no more than what is there */
            if (table) {
                printf("# %-6.1f %-5.2f %-14s %-9s %+.0f MB/h\n", ratios[r], phases[ph],
                       "400MB/h 10min", mw_trend_verdict_name(a.verdict),
                       a.slope_bytes_per_hour / MB);
                printf("# %-6.1f %-5.2f %-14s %-9s %+.0f MB/h\n", ratios[r], phases[ph],
                       "20MB/h 6h", mw_trend_verdict_name(b.verdict), b.slope_bytes_per_hour / MB);
            }
        }
}

static void test_exhaustion(void)
{
    CHECK_CLOSE(mw_trend_time_to_exhaustion_s(100 * MB, 50 * MB), 7200, 0.01);
    CHECK(mw_trend_time_to_exhaustion_s(100 * MB, 0) < 0);
    CHECK(mw_trend_time_to_exhaustion_s(100 * MB, -5) < 0);
    CHECK_STR(mw_trend_verdict_name(MW_TREND_LEAK), "leak");
    CHECK_STR(mw_trend_shape_name(MW_SHAPE_SAWTOOTH), "sawtooth");
}

int main(void)
{
    RUN(test_theil_sen_robust);
    RUN(test_short_windows);
    RUN(test_hour_scale);
    RUN(test_fixed_band_and_edges);
    RUN(test_sawtooth_aliasing);
    RUN(test_sawtooth_rising_floor);
    RUN(test_exhaustion);
    return TESTS_DONE();
}
