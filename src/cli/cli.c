/* cli: messages and option parsing shared by every subcommand. */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "model/procmatch.h"
#include "cli/cli.h"

void mw_err(const char *fmt, ...)
{
    va_list ap;
    fputs("memwarden: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int mw_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "memwarden%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'memwarden %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    return MW_EXIT_USAGE;
}

int mw_opt_error(const char *cmd, int c, char *const argv[])
{
    const char *tok = optind > 0 ? argv[optind - 1] : "";
    bool is_long = tok && strncmp(tok, "--", 2) == 0;
    char raw[48], name[64];
    if (c == '?' && optopt && !(is_long && strchr(tok, '=')))
        is_long = false; /* an unknown short option, maybe inside a cluster */
    if (is_long)
        snprintf(raw, sizeof(raw), "%.*s", (int)strcspn(tok, "="), tok);
    else
        snprintf(raw, sizeof(raw), "-%c", optopt > 32 && optopt < 127 ? optopt : '?');
    mw_text_clean(name, sizeof(name), raw, strlen(raw));
    if (c == ':')
        return mw_usage_error(cmd, "option '%s' needs a value", name);
    if (is_long && strchr(tok, '=') && optopt)
        return mw_usage_error(cmd, "option '%s' takes no value", name);
    return mw_usage_error(cmd, "unknown option '%s'", name);
}

int mw_opt_match(const char *cmd, const char *pattern)
{
    regex_t re;
    char why[160], shown[96];
    if (mw_regcomp_bounded(&re, pattern, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) != 0) {
        mw_text_clean(shown, sizeof(shown), pattern, strlen(pattern));
        return mw_usage_error(cmd, "--match '%s': %s", shown, why);
    }
    regfree(&re);
    return 0;
}

int mw_opt_size(const char *opt, const char *arg, uint64_t *out)
{
    if (mw_parse_size(arg, out) < 0) {
        mw_err("%s: '%s' is not a size (examples: 4096, 256K, 512M, 4G)", opt, arg);
        return -EINVAL;
    }
    return 0;
}

int mw_opt_duration_ms(const char *opt, const char *arg, uint64_t *out)
{
    if (mw_parse_duration_ms(arg, out) < 0) {
        mw_err("%s: '%s' is not a duration (examples: 30, 30s, 500ms, 5m, 24h)", opt, arg);
        return -EINVAL;
    }
    return 0;
}

int mw_opt_interval_ms(const char *cmd, const char *arg, uint64_t *out)
{
    uint64_t ms;
    if (mw_opt_duration_ms("--interval", arg, &ms) < 0)
        return MW_EXIT_USAGE;
    if (ms == 0)
        return mw_usage_error(cmd, "--interval must be more than 0");
    *out = ms;
    return 0;
}

int mw_opt_uint(const char *opt, const char *arg, unsigned long lo, unsigned long hi,
                unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
        mw_err("%s: '%s' is not a whole number from %lu to %lu", opt, arg, lo, hi);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int mw_opt_pid_append(const char *arg, int **pids, size_t *n)
{
    unsigned long ul;
    if (mw_opt_uint("--pid", arg, 1, 0x7fffffff, &ul) < 0)
        return MW_EXIT_USAGE;
    int *p = realloc(*pids, (*n + 1) * sizeof(*p));
    if (!p)
        return MW_EXIT_FAIL;
    *pids = p;
    p[(*n)++] = (int)ul;
    return 0;
}
