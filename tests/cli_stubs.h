/* cli_stubs: the helpers main.c defines for the commands (mw_err,
 * mw_usage_error, mw_opt_*), for test programs, which link every src/ file
 * but main.c. Weak, so a future src/ home for them wins. Include from one
 * test file per program. */
#ifndef MW_CLI_STUBS_H
#define MW_CLI_STUBS_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

__attribute__((weak)) void mw_err(const char *fmt, ...)
{
    va_list ap;
    fputs("memwarden: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

__attribute__((weak)) int mw_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "memwarden %s: ", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return MW_EXIT_USAGE;
}

__attribute__((weak)) int mw_opt_size(const char *opt, const char *arg, uint64_t *out)
{
    (void)opt;
    return mw_parse_size(arg, out) < 0 ? -EINVAL : 0;
}

__attribute__((weak)) int mw_opt_duration_ms(const char *opt, const char *arg, uint64_t *out)
{
    (void)opt;
    return mw_parse_duration_ms(arg, out) < 0 ? -EINVAL : 0;
}

__attribute__((weak)) int mw_opt_uint(const char *opt, const char *arg, unsigned long lo,
                                      unsigned long hi, unsigned long *out)
{
    (void)opt;
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (end == arg || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

#endif
