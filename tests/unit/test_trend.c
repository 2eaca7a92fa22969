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
    return 500 * MB - 5 * MB * t;
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

    classify(20, 0.2, flat_noise, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_FLAT);

    classify(40, 0.2, sawtooth, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_SAWTOOTH);
    CHECK(tr.drops >= 2);
    CHECK(tr.falls_back);

    classify(40, 0.2, sawtooth_leaky, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_LEAK);
    CHECK_CLOSE(tr.slope_bytes_per_hour, 10 * MB * 3600, 25);

    classify(20, 0.2, step_flat, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_STEP);
    CHECK_CLOSE(tr.step_bytes, 30 * MB, 1);
    CHECK_CLOSE(tr.step_at_s, 0.8, 1);

    classify(16, 0.2, step_straddling, &tr);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_STEP);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);

    classify(20, 0.2, declining, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_DECLINING);
}

static void test_hour_scale(void)
{
    struct mw_trend tr;
    /* 150 MB/h watched for 2 h, a sample a minute: warning, not a leak */
    classify(121, 60, slow_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_WARNING);
    CHECK_CLOSE(tr.slope_bytes_per_hour, 150 * MB, 1);
    CHECK_CLOSE(tr.band_bytes, 50 * MB, 0.1);
    /* 60 MB/h for 2 h: 120 MB of growth but under the warning rate */
    classify(121, 60, moderate_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(tr.shape, MW_SHAPE_GROWING);
    /* 400 MB/h: fast and never falls back */
    classify(121, 60, fast_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_LEAK);
    /* 150 MB/h watched for 10 min: the band shrinks to 1/6 (8.3 MB), the
     * 25 MB of growth is outside it */
    classify(11, 60, slow_hourly, &tr);
    CHECK_EQ_INT(tr.verdict, MW_TREND_WARNING);
    CHECK_CLOSE(tr.band_bytes, 50 * MB / 6, 1);
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
    CHECK_EQ_INT(tr.verdict, MW_TREND_STABLE);
    CHECK(mw_trend_classify(T, V, 2, &p, &tr) < 0);
    CHECK_EQ_INT(tr.verdict, MW_TREND_UNKNOWN);
    for (int i = 0; i < 5; i++)
        T[i] = 7; /* no time span */
    CHECK(mw_trend_classify(T, V, 5, &p, &tr) < 0);
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
    RUN(test_exhaustion);
    return TESTS_DONE();
}
