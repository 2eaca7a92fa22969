/* harness: the unit-test framework. Each tests/test_<module>.c is its own
 * program; RUN() executes one test and prints "ok", "FAIL" or "skip" lines
 * that tests/run.sh counts. Checks do not stop a test: every failed check
 * is reported with its file and line. */
#ifndef MW_HARNESS_H
#define MW_HARNESS_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mw_t_failed_checks;
static const char *mw_t_skip_reason;
static int mw_t_counts[3]; /* passed, failed, skipped */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        unsigned long long mw_a_ = (unsigned long long)(a), mw_b_ = (unsigned long long)(b);       \
        if (mw_a_ != mw_b_) {                                                                      \
            fprintf(stderr, "  %s:%d: %s == %s: %llu != %llu\n", __FILE__, __LINE__, #a, #b,       \
                    mw_a_, mw_b_);                                                                 \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long mw_a_ = (long long)(a), mw_b_ = (long long)(b);                                  \
        if (mw_a_ != mw_b_) {                                                                      \
            fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b,       \
                    mw_a_, mw_b_);                                                                 \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *mw_a_ = (a), *mw_b_ = (b);                                                     \
        if (!mw_a_ || !mw_b_ || strcmp(mw_a_, mw_b_) != 0) {                                       \
            fprintf(stderr, "  %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b,   \
                    mw_a_ ? mw_a_ : "(null)", mw_b_ ? mw_b_ : "(null)");                           \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *mw_h_ = (hay), *mw_n_ = (needle);                                              \
        if (!mw_h_ || !strstr(mw_h_, mw_n_)) {                                                     \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,       \
                    mw_h_ ? mw_h_ : "(null)", mw_n_);                                              \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

/* Tolerant comparison for memory numbers (kselftest's values_close). */
#define CHECK_CLOSE(a, b, err_pct)                                                                 \
    do {                                                                                           \
        double mw_a_ = (double)(a), mw_b_ = (double)(b);                                           \
        if (fabs(mw_a_ - mw_b_) > (fabs(mw_a_) + fabs(mw_b_)) / 2 * (err_pct) / 100.0) {           \
            fprintf(stderr, "  %s:%d: %s ~ %s (%g%%): %g vs %g\n", __FILE__, __LINE__, #a, #b,     \
                    (double)(err_pct), mw_a_, mw_b_);                                              \
            mw_t_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

/* Ends the current test as failed: the committed fixture (or another file
 * of the tree) NAME cannot be read. A missing fixture is a failure, never
 * a skip: deleting or renaming one must not turn the tests it feeds quiet. */
#define FAIL_FIXTURE(name)                                                                         \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: fixture %s missing or unreadable\n", __FILE__, __LINE__,         \
                (name));                                                                           \
        mw_t_failed_checks++;                                                                      \
        return;                                                                                    \
    } while (0)

/* Ends the current test as skipped, with a reason: only for what this
 * machine truly lacks (a kernel feature, a privilege), never for a file of
 * the tree (FAIL_FIXTURE). */
#define SKIP(reason)                                                                               \
    do {                                                                                           \
        mw_t_skip_reason = (reason);                                                               \
        return;                                                                                    \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        mw_t_failed_checks = 0;                                                                    \
        mw_t_skip_reason = NULL;                                                                   \
        fn();                                                                                      \
        if (mw_t_skip_reason) {                                                                    \
            printf("skip %s: %s\n", #fn, mw_t_skip_reason);                                        \
            mw_t_counts[2]++;                                                                      \
        } else if (mw_t_failed_checks) {                                                           \
            printf("FAIL %s\n", #fn);                                                              \
            mw_t_counts[1]++;                                                                      \
        } else {                                                                                   \
            printf("ok   %s\n", #fn);                                                              \
            mw_t_counts[0]++;                                                                      \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

/* Exit status of a test program: non-zero when any test failed. */
#define TESTS_DONE() (mw_t_counts[1] ? 1 : 0)

/* Directory of the committed fixtures (set by the Makefile). */
#ifndef MW_FIXTURES
#define MW_FIXTURES "tests/fixtures"
#endif

#endif
