/* targets: oom_score_adj writes pinned to the process chosen (its start
 * time), on a built tree where proc/PID/oom_score_adj is a plain file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "harness.h"
#include "model/targets.h"

static void put(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void get(const char *dir, const char *rel, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, cap - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
}

static void test_starttime_pinned(void)
{
    char tmpl[] = "/tmp/mw-targets-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return;
    char p[600];
    snprintf(p, sizeof(p), "%s/proc", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/proc/100", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/proc/200", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/proc/200/oom_score_adj", dir); /* writes fail: EISDIR */
    mkdir(p, 0755);
    /* field 22 (starttime) is 5000 and 7000 */
    put(dir, "proc/100/stat",
        "100 (a b) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5000 1000 10 0\n");
    put(dir, "proc/200/stat",
        "200 (c) S 1 200 200 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 7000 1000 10 0\n");
    put(dir, "proc/100/oom_score_adj", "0\n");
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, dir), 0);
    uint64_t t = 0;
    CHECK_EQ_INT(mw_targets_starttime(&r, 100, &t), 0);
    CHECK_EQ_U64(t, 5000);
    CHECK_EQ_INT(mw_targets_starttime(&r, 300, &t), -ENOENT);

    char buf[64];
    size_t at = 99;
    struct mw_adj_target one = {.pid = 100, .starttime = 5000, .old_adj = 0, .new_adj = 500};
    CHECK_EQ_INT(mw_targets_adj_apply(&r, &one, 1, false, &at), 0);
    CHECK_EQ_INT(one.result, 0);
    get(dir, "proc/100/oom_score_adj", buf, sizeof(buf));
    CHECK_STR(buf, "500\n");

    /* PID 100 is another process now (it started at 5000, not 4999): skipped,
     * not written, and no failure even when the PID was named */
    struct mw_adj_target reused = {.pid = 100, .starttime = 4999, .old_adj = 500, .new_adj = 900};
    CHECK_EQ_INT(mw_targets_adj_apply(&r, &reused, 1, false, &at), 0);
    CHECK_EQ_INT(reused.result, -ESTALE);
    get(dir, "proc/100/oom_score_adj", buf, sizeof(buf));
    CHECK_STR(buf, "500\n");

    /* a failed write puts the earlier one back */
    struct mw_adj_target two[] = {
        {.pid = 100, .starttime = 5000, .old_adj = 500, .new_adj = 300},
        {.pid = 200, .starttime = 7000, .old_adj = 0, .new_adj = 100},
    };
    CHECK_EQ_INT(mw_targets_adj_apply(&r, two, 2, true, &at), -EISDIR);
    CHECK_EQ_INT((int)at, 1);
    get(dir, "proc/100/oom_score_adj", buf, sizeof(buf));
    CHECK_STR(buf, "500\n");
    /* a gone process is skipped when tolerated, fails when named */
    struct mw_adj_target gone = {.pid = 300, .starttime = 1, .old_adj = 0, .new_adj = 100};
    CHECK_EQ_INT(mw_targets_adj_apply(&r, &gone, 1, true, &at), 0);
    CHECK_EQ_INT(mw_targets_adj_apply(&r, &gone, 1, false, &at), -ENOENT);
    mw_root_close(&r);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_starttime_pinned);
    return TESTS_DONE();
}
