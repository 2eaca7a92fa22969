#include "cli/cli.h"
#include "harness.h"
#include "analysis/logparse.h"

#include <errno.h>

static void parse(const char *txt, const struct mw_log_opts *o, struct mw_log_series *s)
{
    memset(s, 0, sizeof(*s));
    CHECK_EQ_INT(mw_log_parse_buf(txt, strlen(txt), o, s), 0);
}

static void test_freeheap_lines(void)
{
    struct mw_log_opts o = {.interval_s = 2};
    struct mw_log_series s;
    /* the FAQ's log.info("Mem Free Size KB:", 1433 - collectgarbage("count")) in
     * three spellings, a nil value and an unrelated line */
    parse("[I]-[Mem Free Size KB:] 812.5\n"
          "Mem Free Size KB: 800\n"
          "I/user.Mem Free Size KB: nil\n"
          "I/user.mqtt connected\n"
          "\n"
          "[2023-03-14 10:20:30.405] I/user.Mem Free Size KB: 790\n",
          &o, &s);
    CHECK_EQ_INT(s.format, MW_LOG_FREEHEAP);
    CHECK_EQ_U64(s.n, 3);
    CHECK_EQ_U64(s.skipped, 2);
    CHECK_EQ_U64(s.bad_values, 1);
    CHECK(!s.timestamps); /* not every sample has a time: index x interval */
    if (s.n == 3) {
        CHECK_CLOSE(s.p[0].bytes, 812.5 * 1024, 0.01);
        CHECK_CLOSE(s.p[2].bytes, 790 * 1024, 0.01);
        CHECK_CLOSE(s.p[2].t_s, 4, 0.01);
        CHECK_EQ_U64(s.p[2].line, 6);
    }
    mw_log_series_free(&s);
    /* unit in bytes, all stamped */
    parse("2024-01-01 00:00:00 Mem Free Size B: 2048\n2024-01-01 00:00:10 Mem Free Size B: 1024\n",
          &o, &s);
    CHECK(s.timestamps);
    CHECK_EQ_U64(s.n, 2);
    if (s.n == 2) {
        CHECK_CLOSE(s.p[1].t_s - s.p[0].t_s, 10, 0.01);
        CHECK_CLOSE(s.p[1].bytes, 1024, 0.01);
    }
    mw_log_series_free(&s);
}

static void test_timestamps(void)
{
    double t;
    bool day;
    CHECK(mw_log_timestamp("2024-05-01 12:00:00.5 x", &t, &day));
    CHECK(!day);
    CHECK_CLOSE(t, 1714564800.5, 1e-9);
    CHECK(mw_log_timestamp("[2024-05-01T12:00:00]", &t, &day));
    CHECK(mw_log_timestamp("Wed May  1 12:00:00 UTC 2024", &t, &day));
    CHECK_CLOSE(t, 1714564800, 1e-9);
    CHECK(mw_log_timestamp("23:59:59.250 foo", &t, &day));
    CHECK(day);
    CHECK_CLOSE(t, 86399.25, 1e-9);
    CHECK(!mw_log_timestamp("Mem: 1 2 3", &t, &day));
    CHECK(!mw_log_timestamp("2024-13-01 00:00:00", &t, &day));
    CHECK(!mw_log_timestamp("99:00:00", &t, &day));
    CHECK(!mw_log_timestamp("", &t, &day));
}

static void test_free_formats(void)
{
    struct mw_log_opts o = {.interval_s = 60};
    struct mw_log_series s;
    parse("$ free -m\n"
          "               total        used        free      shared  buff/cache   available\n"
          "Mem:            3934         934        2100          12         900        3000\n"
          "Swap:              0           0           0\n"
          "Mem:            3934         934        2100          12         900        2990\n",
          &o, &s);
    CHECK_EQ_INT(s.format, MW_LOG_FREE);
    CHECK(s.available);
    CHECK_EQ_U64(s.n, 2);
    CHECK_EQ_U64(s.skipped, 0);
    if (s.n == 2) {
        CHECK_CLOSE(s.p[0].bytes, 3000.0 * 1048576, 0.01);
        CHECK_CLOSE(s.p[1].t_s, 60, 0.01);
        CHECK_CLOSE(s.total_bytes, 3934.0 * 1048576, 0.01);
    }
    mw_log_series_free(&s);
    /* free -h suffixes; a plain total of 8000000 (7.6 GiB as KiB) otherwise */
    parse("Mem:   15Gi  3.2Gi  8.5Gi  128Mi  3.8Gi  11Gi\nMem: 8000000 50 20 0 30 70\n", &o, &s);
    CHECK_EQ_U64(s.n, 2);
    if (s.n == 2) {
        CHECK_CLOSE(s.p[0].bytes, 11.0 * 1073741824, 0.01);
        CHECK_CLOSE(s.p[1].bytes, 70.0 * 1024, 0.01);
    }
    mw_log_series_free(&s);
    /* without "available": the free column */
    parse("  total used free shared buffers cached\nMem: 1000000 900 100 0 50 300\n", &o, &s);
    CHECK_EQ_U64(s.n, 1);
    CHECK(!s.available);
    if (s.n)
        CHECK_CLOSE(s.p[0].bytes, 100.0 * 1024, 0.01);
    mw_log_series_free(&s);
}

static void test_pattern_and_errors(void)
{
    struct mw_log_opts o = {.interval_s = 1, .pattern = "free=([0-9.]+[KMG]?)"};
    struct mw_log_series s;
    parse("a free=100\nb free=2K\nc nothing\nd free=x\n", &o, &s);
    CHECK_EQ_U64(s.n, 2);
    CHECK_EQ_U64(s.skipped, 2);
    if (s.n == 2)
        CHECK_CLOSE(s.p[1].bytes, 2048, 0.01);
    mw_log_series_free(&s);
    o.pattern = "free=[0-9]+"; /* no capture group */
    CHECK_EQ_INT(mw_log_parse_buf("free=1\n", strlen("free=1\n"), &o, &s), -EINVAL);
    o.pattern = "free=([0-9]+";
    CHECK_EQ_INT(mw_log_parse_buf("free=1\n", strlen("free=1\n"), &o, &s), -EINVAL);
    struct mw_log_opts a = {.interval_s = 1};
    CHECK_EQ_INT(mw_log_parse_buf("nothing to see\n", strlen("nothing to see\n"), &a, &s),
                 -ENODATA);
    CHECK_EQ_INT(mw_log_parse_buf("", strlen(""), &a, &s), -ENODATA);
}

static void test_verdicts(void)
{
    struct mw_log_series s = {0};
    struct mw_log_point p[100];
    s.p = p;
    s.n = 100;
    struct mw_log_analysis a;
    /* steady decline from 1000 KB */
    for (int i = 0; i < 100; i++)
        p[i] = (struct mw_log_point){i * 2.0, (1000 - i * 3) * 1024.0, (unsigned)i + 1, false};
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), 0);
    CHECK_EQ_INT(a.trend.verdict, MW_TREND_LEAK);
    CHECK(a.trend.inverted); /* no total: free memory negated */
    CHECK_STR(a.series, "free");
    CHECK_CLOSE(a.slope_bytes_per_hour, -3 * 1024 * 1800.0, 1);
    CHECK(!a.below_danger);
    CHECK_CLOSE(a.time_to_danger_s, (703 - 200) * 1024 / (3 * 1024 / 2.0), 1);
    CHECK(!a.under_danger_now);
    /* the same decline ending under the danger line: already there */
    CHECK_EQ_INT(mw_log_analyze(&s, 800 * 1024, 0, &a), 0);
    CHECK(a.under_danger_now);
    CHECK_CLOSE(a.time_to_danger_s, 0, 1e-9);
    /* low from the start */
    for (int i = 0; i < 100; i++)
        p[i].bytes = (300 + (i % 5)) * 1024.0;
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), 0);
    CHECK(a.too_big);
    CHECK_STR(mw_log_verdict_name(&a), "too_big");
    /* a collector's sawtooth, over 198 s: too short to call it stable */
    for (int i = 0; i < 100; i++)
        p[i].bytes = (900 - (i % 10) * 30) * 1024.0;
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), 0);
    CHECK_EQ_INT(a.trend.verdict, MW_TREND_TOO_SHORT);
    CHECK_STR(mw_log_verdict_name(&a), "too_short");
    /* ...and over 99 min, a sample a minute */
    for (int i = 0; i < 100; i++)
        p[i].t_s = i * 60.0;
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), 0);
    CHECK_EQ_INT(a.trend.verdict, MW_TREND_STABLE);
    CHECK_EQ_INT(a.trend.shape, MW_SHAPE_SAWTOOTH);
    /* stable but it once dipped under the danger line */
    for (int i = 0; i < 100; i++)
        p[i].bytes = 900 * 1024.0;
    p[50].bytes = 150 * 1024.0;
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), 0);
    CHECK_EQ_INT(a.trend.verdict, MW_TREND_STABLE);
    CHECK(a.below_danger);
    CHECK_EQ_U64(a.min_line, 51);
    s.n = 1;
    CHECK_EQ_INT(mw_log_analyze(&s, 200 * 1024, 0, &a), -EINVAL);
}

/* Each text in a heap block of exactly its size: ASan sees any read past
 * the NUL (issue 17: mw_log_timestamp read p[3] of "a"). */
static char *exact(const char *txt)
{
    size_t n = strlen(txt) + 1;
    char *b = malloc(n);
    if (b)
        memcpy(b, txt, n);
    return b;
}

static void test_short_lines_no_overread(void)
{
    static const char *const shorts[] = {"a",
                                         "ab",
                                         "abc",
                                         "Wed",
                                         "Wed ",
                                         "Wed May",
                                         "Wed May  1",
                                         "2024",
                                         "2024-",
                                         "2024-05-0",
                                         "2024-05-01 1",
                                         "12:0",
                                         "[",
                                         " ",
                                         "1",
                                         "12:00:00.",
                                         "Wed May  1 12:00:00 "};
    for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
        char *b = exact(shorts[i]);
        double t;
        bool day;
        if (b)
            (void)mw_log_timestamp(b, &t, &day);
        free(b);
    }
    struct mw_log_opts o = {.interval_s = 1};
    struct mw_log_series s;
    char *b = exact("Mem: 1 2 3\na\n");
    if (b) {
        parse(b, &o, &s);
        CHECK_EQ_U64(s.n, 1);
        mw_log_series_free(&s);
    }
    free(b);
    b = exact("Mem Free Size");
    if (b) {
        parse(b, &o, &s);
        CHECK_EQ_U64(s.n, 0);
        mw_log_series_free(&s);
    }
    free(b);
}

/* 1e300, inf and nan are not amounts of memory: bad values, skipped, never
 * cast to an integer (UB) further on. */
static void test_huge_and_nonfinite_values(void)
{
    struct mw_log_opts o = {.interval_s = 1};
    struct mw_log_series s;
    parse("Mem Free Size KB: 1e300\nMem Free Size KB: inf\nMem Free Size KB: nan\n"
          "Mem Free Size KB: -inf\nMem Free Size KB: 0x10\nMem Free Size KB: 1e16\n"
          "Mem Free Size KB: 800\nMem Free Size KB: 790\n",
          &o, &s);
    CHECK_EQ_U64(s.n, 2);
    CHECK_EQ_U64(s.bad_values, 6);
    mw_log_series_free(&s);
    parse("Mem: 1e300Gi 1Gi 1Gi 0 1Gi 1Gi\nMem: inf 1 1 0 1 1\nMem: 100 50 20 0 30 70\n", &o, &s);
    CHECK_EQ_U64(s.n, 1);
    mw_log_series_free(&s);
    o.pattern = "free=([^ ]+)";
    parse("free=1e300\nfree=infinity\nfree=NAN\nfree=12\n", &o, &s);
    CHECK_EQ_U64(s.n, 1);
    mw_log_series_free(&s);
}

/* issue 16: a `date; free -m` log without the words "free -m" was read as
 * KiB. The unit comes from the Mem: total; a total that fits two units
 * about as well is refused (UNKNOWN), never guessed. */
static void test_guess_unit(void)
{
    static const struct {
        double total;
        int rc;
        uint64_t unit;
    } cases[] = {
        {24000, 0, 1ull << 20},        /* 23.4 GiB, not 23.4 MiB */
        {4028916, 0, 1ull << 10},      /* 3.8 GiB, not 3.8 TiB */
        {1016800, 0, 1ull << 10},      /* old procps on a 1 GiB box */
        {16300000, 0, 1ull << 10},     /* a 16 GiB laptop's plain free */
        {500000000, 0, 1ull << 10},    /* 477 GiB: as MiB past 64 TiB */
        {62, 0, 1ull << 30},           /* free -g on 64 GiB */
        {16000000000.0, 0, 1},         /* free -b on 16 GiB */
        {28000, 0, 1ull << 20},        /* a 32 MiB router reads as 27 GiB: said in the output */
        {480, -EAGAIN, 1ull << 20},    /* 480 MiB board or 480 GiB server */
        {250000, -EAGAIN, 1ull << 10}, /* 244 MiB board or 244 GiB server */
        {3, 0, 1ull << 30},            /* free -g: 3 MiB is no machine running free */
        {251, -EAGAIN, 1ull << 30},    /* free -g on 256 GiB, or a 251 MiB board */
        {0, -ERANGE, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t u = 0, alt = 0;
        int rc = mw_log_guess_unit(cases[i].total, &u, &alt);
        if (rc != cases[i].rc || (rc != -ERANGE && u != cases[i].unit && alt != cases[i].unit))
            printf("  guess_unit(%.0f) = %d, %llu (alt %llu)\n", cases[i].total, rc,
                   (unsigned long long)u, (unsigned long long)alt);
        CHECK_EQ_INT(rc, cases[i].rc);
        if (rc == 0)
            CHECK_EQ_U64(u, cases[i].unit);
    }
}

static void test_free_m_without_command_line(void)
{
    struct mw_log_opts o = {.interval_s = 60};
    struct mw_log_series s;
    parse("Sun Nov 22 10:00:01 UTC 2026\n"
          "               total        used        free      shared  buff/cache   available\n"
          "Mem:           24000        7980        9020          64        7000       18006\n"
          "Sun Nov 22 10:01:01 UTC 2026\n"
          "Mem:           24000        7980        9020          64        7000       18000\n",
          &o, &s);
    CHECK_EQ_U64(s.n, 2);
    CHECK_EQ_INT(s.unit_from, MW_LOG_UNIT_INFERRED);
    CHECK_EQ_U64(s.unit_bytes, 1ull << 20);
    CHECK_CLOSE(s.total_bytes, 24000.0 * 1048576, 0.5);
    if (s.n == 2)
        CHECK_CLOSE(s.p[1].bytes, 18000.0 * 1048576, 0.5);
    mw_log_series_free(&s);
    /* a total that fits two units: refused */
    parse("Mem: 480 100 200 0 180 300\nMem: 480 100 200 0 180 290\n", &o, &s);
    CHECK_EQ_INT(s.unit_from, MW_LOG_UNIT_UNKNOWN);
    mw_log_series_free(&s);
    /* --unit settles it */
    o.unit_bytes = 1ull << 20;
    parse("Mem: 480 100 200 0 180 300\nMem: 480 100 200 0 180 290\n", &o, &s);
    CHECK_EQ_INT(s.unit_from, MW_LOG_UNIT_OPTION);
    if (s.n == 2)
        CHECK_CLOSE(s.p[1].bytes, 290.0 * 1048576, 0.5);
    mw_log_series_free(&s);
    /* free -h: every number has its unit */
    o.unit_bytes = 0;
    parse("Mem:   15Gi  3.2Gi  8.5Gi  128Mi  3.8Gi  11Gi\n", &o, &s);
    CHECK_EQ_INT(s.unit_from, MW_LOG_UNIT_SUFFIX);
    mw_log_series_free(&s);
}

/* issue 16: analyze stopped at the first NUL (51 of 200 samples). NULs,
 * controls and invalid UTF-8 are noise: the line keeps what follows them. */
static void test_noise_is_not_the_end(void)
{
    static const char log[] = "Mem Free Size KB: 900\n"
                              "\0\0\0\0\n"
                              "Mem Free Size KB: 890\r\n"
                              "\xff\xfe\x01Mem Free Size KB: 880\n"
                              "Mem Free Size KB: 12\0003\n"
                              "\xc3\x28 bad \xed\xa0\x80\n"
                              "Mem Free Size KB: 870";
    struct mw_log_opts o = {.interval_s = 1};
    struct mw_log_series s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(mw_log_parse_buf(log, sizeof(log) - 1, &o, &s), 0);
    CHECK_EQ_U64(s.n, 4);
    CHECK_EQ_U64(s.garbled_lines, 4);
    CHECK_EQ_U64(s.skipped, 3); /* the NULs, the number cut by a NUL, the bad UTF-8 */
    if (s.n == 4) {
        CHECK_CLOSE(s.p[2].bytes, 880 * 1024.0, 0.5);
        CHECK_EQ_U64(s.p[2].line, 4);
        CHECK_EQ_U64(s.p[3].line, 7);
    }
    mw_log_series_free(&s);
    /* a line past MW_LOG_MAX_LINE is skipped, the next one read */
    size_t big = MW_LOG_MAX_LINE + 100;
    char *b = malloc(big + 64);
    if (b) {
        memset(b, 'A', big);
        int n = snprintf(b + big, 64, "\nMem Free Size KB: 5\nMem Free Size KB: 4\n");
        memset(&s, 0, sizeof(s));
        CHECK_EQ_INT(mw_log_parse_buf(b, big + (size_t)n, &o, &s), 0);
        CHECK_EQ_U64(s.n, 2);
        CHECK_EQ_U64(s.long_lines, 1);
        mw_log_series_free(&s);
        free(b);
    }
}

int main(void)
{
    RUN(test_freeheap_lines);
    RUN(test_timestamps);
    RUN(test_free_formats);
    RUN(test_pattern_and_errors);
    RUN(test_verdicts);
    RUN(test_short_lines_no_overread);
    RUN(test_huge_and_nonfinite_values);
    RUN(test_guess_unit);
    RUN(test_noise_is_not_the_end);
    RUN(test_free_m_without_command_line);
    return TESTS_DONE();
}
