/* cli_weak: weak stand-ins for the helpers that live in src/main.c
 * (mw_err, mw_usage_error, mw_opt_*). Unit tests link every source in src/ but
 * main.c, so the cli_*.c objects need these to link; once the helpers move
 * into a module of their own, its strong definitions win and these are
 * unused. Include in exactly one place per test program. */
#ifndef MW_CLI_WEAK_H
#define MW_CLI_WEAK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

__attribute__((weak)) void mw_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

__attribute__((weak)) int mw_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    (void)cmd;
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
    const char *p = arg;
    uint64_t v;
    if (mw_scan_u64(&p, &v) < 0 || *p || v < lo || v > hi)
        return -EINVAL;
    *out = (unsigned long)v;
    return 0;
}

#endif
