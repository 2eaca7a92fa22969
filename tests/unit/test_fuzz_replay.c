/* Replays the fuzzing corpus (tests/fuzz/corpus/<target>/: every crash
 * `make fuzz` found and the inputs it kept) through the same parsers, with
 * no clang needed: under `make check` this is the regression test of every
 * fuzzer finding. One test per target; a target without a corpus directory
 * still runs its parser on a few hostile inputs written here. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../fuzz/targets.h"

#ifndef MW_FUZZ_CORPUS
#define MW_FUZZ_CORPUS "tests/fuzz/corpus"
#endif

static const char *const always[] = {
    "",
    "\n",
    "a",
    "Mem: 1 2 3\na\n",
    "\xff\xfe\x00",
    "1e300",
    "inf",
    "nan",
    "-1",
    "18446744073709551616",
    "0x10",
    "{\"a\":",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
};

/* Feeds one input through T as a malloc'd copy of exactly LEN + 1 bytes. */
static void feed(const struct fuzz_target *t, const char *data, size_t len)
{
    char *b = malloc(len + 1);
    if (!b)
        return;
    memcpy(b, data, len);
    b[len] = '\0';
    t->run(b, len);
    free(b);
}

static size_t replay_dir(const struct fuzz_target *t)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", MW_FUZZ_CORPUS, t->name);
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc(1 << 20);
        size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
        if (buf)
            feed(t, buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

int main(void)
{
    for (size_t i = 0; i < fuzz_target_count; i++) {
        const struct fuzz_target *t = &fuzz_targets[i];
        mw_t_failed_checks = 0;
        mw_t_skip_reason = NULL;
        for (size_t k = 0; k < sizeof(always) / sizeof(always[0]); k++)
            feed(t, always[k], k == 4 ? 3 : strlen(always[k]));
        size_t n = replay_dir(t);
        printf("ok   replay_%s (%zu corpus inputs)\n", t->name, n);
        mw_t_counts[0]++;
    }
    return TESTS_DONE();
}
