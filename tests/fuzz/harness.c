/* harness: the libFuzzer entry point for one parser of targets.c, chosen at
 * build time with -DFUZZ_NAME='"meminfo"' (tools/fuzz.sh builds one binary
 * per target). The input is copied into a buffer of exactly its size + 1
 * bytes with a NUL at the end, so a read past it is a sanitizer report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME='\"meminfo\"' (see tools/fuzz.sh)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_target *t;
    if (!t) {
        for (size_t i = 0; i < fuzz_target_count && !t; i++)
            if (strcmp(fuzz_targets[i].name, FUZZ_NAME) == 0)
                t = &fuzz_targets[i];
        if (!t) {
            fprintf(stderr, "no fuzz target %s\n", FUZZ_NAME);
            abort();
        }
    }
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    t->run(buf, size);
    free(buf);
    return 0;
}
