/* cli: what every subcommand shares — the context main() builds, the
 * command table, exit codes and option helpers. */
#ifndef MW_CLI_H
#define MW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/util.h"

/* Exit codes, the same for every command (documented in each --help). */
enum {
    MW_EXIT_OK = 0,
    MW_EXIT_FAIL = 1,  /* could not do what was asked (I/O, permission, state) */
    MW_EXIT_USAGE = 2, /* bad command line */
    MW_EXIT_FOUND = 3, /* a check ran and found a problem (leak, failed criteria) */
    MW_EXIT_INTERRUPTED = 130,
};

struct mw_ctx {
    struct mw_root root; /* where /proc and /sys are read from */
    const char *prog;    /* argv[0] for messages */
};

struct mw_command {
    const char *name;
    int (*fn)(struct mw_ctx *ctx, int argc, char **argv);
    const char *summary; /* one line for the command list */
};

/* Prints "memwarden: <message>" to stderr (printf-style). */
void mw_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error and a hint to see --help; returns MW_EXIT_USAGE. */
int mw_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one-line usage error for what getopt_long just returned as C ('?' an
 * unknown option or an unwanted value, ':' a missing value: optstrings start
 * with ':' and main sets opterr = 0 so getopt prints nothing itself), naming
 * CMD and the option, e.g. "memwarden leak: unknown option '--bogus'".
 * Reads optind/optopt and ARGV. Returns MW_EXIT_USAGE. */
int mw_opt_error(const char *cmd, int c, char *const argv[]);

/* Checks a --match PATTERN the way every matcher compiles it (extended,
 * bounded: model/procmatch.h). Returns 0, or MW_EXIT_USAGE after a usage
 * error that says why ("--match '(': Unmatched ( or \(", or the bound it
 * passes). */
int mw_opt_match(const char *cmd, const char *pattern);

/* Option value parsers that print a clear message on bad input and return
 * -EINVAL; 0 on success. OPT names the option for the message. */
int mw_opt_size(const char *opt, const char *arg, uint64_t *out);
int mw_opt_duration_ms(const char *opt, const char *arg, uint64_t *out);

/* --interval of a sampling command: a duration above 0. Returns 0, or
 * MW_EXIT_USAGE after saying why ("memwarden CMD: --interval must be more
 * than 0"); *OUT untouched then. */
int mw_opt_interval_ms(const char *cmd, const char *arg, uint64_t *out);
/* "-p PID" given once more: parses ARG (1 .. 2^31-1) and appends it to
 * *PIDS (*N of them, realloc'd). Returns 0, MW_EXIT_USAGE after saying
 * why, or MW_EXIT_FAIL when out of memory. */
int mw_opt_pid_append(const char *arg, int **pids, size_t *n);
int mw_opt_uint(const char *opt, const char *arg, unsigned long lo, unsigned long hi,
                unsigned long *out);

/* Subcommands (cli_<name>.c). argv[0] is the command name. */
int cli_status(struct mw_ctx *ctx, int argc, char **argv);
int cli_snapshot(struct mw_ctx *ctx, int argc, char **argv);
int cli_leak(struct mw_ctx *ctx, int argc, char **argv);
int cli_watch(struct mw_ctx *ctx, int argc, char **argv);
int cli_slab(struct mw_ctx *ctx, int argc, char **argv);
int cli_shm(struct mw_ctx *ctx, int argc, char **argv);
int cli_analyze(struct mw_ctx *ctx, int argc, char **argv);
int cli_oom(struct mw_ctx *ctx, int argc, char **argv);
int cli_diff(struct mw_ctx *ctx, int argc, char **argv);
int cli_top(struct mw_ctx *ctx, int argc, char **argv);
int cli_prio(struct mw_ctx *ctx, int argc, char **argv);
int cli_report(struct mw_ctx *ctx, int argc, char **argv);
int cli_metrics(struct mw_ctx *ctx, int argc, char **argv);
int cli_daemon(struct mw_ctx *ctx, int argc, char **argv);
int cli_doctor(struct mw_ctx *ctx, int argc, char **argv);
int cli_tune(struct mw_ctx *ctx, int argc, char **argv);
int cli_zram(struct mw_ctx *ctx, int argc, char **argv);
int cli_drop_caches(struct mw_ctx *ctx, int argc, char **argv);
int cli_run(struct mw_ctx *ctx, int argc, char **argv);
int cli_soak(struct mw_ctx *ctx, int argc, char **argv);

#endif
