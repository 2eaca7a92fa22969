/* cli: what every subcommand shares — the context main() builds, the
 * command table, exit codes and option helpers. */
#ifndef MW_CLI_H
#define MW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/util.h"

/* The exit status, one table for every command: `memwarden --help` prints
 * it (mw_exit_table) and each command's --help says what each status means
 * for it (struct mw_cmd_doc). */
enum {
    MW_EXIT_OK = 0,    /* did what was asked; a check found nothing */
    MW_EXIT_FAIL = 1,  /* could not do what was asked (I/O, permission, not root, bad state) */
    MW_EXIT_USAGE = 2, /* bad command line */
    MW_EXIT_FOUND = 3, /* a check ran and found something (leak, warning, problem, advice,
                          OOM events, failed criteria) */
    MW_EXIT_INTERRUPTED = 130, /* stopped by SIGINT/SIGTERM before the end: not a verdict */
};

/* A number macro as a string literal, for help texts ("at most "
 * MW_STR(MW_HOOKS_MAX) " at once"). */
#define MW_STR_(x) #x
#define MW_STR(x)  MW_STR_(x)

/* struct mw_opt.flags */
#define MW_OPT_SHORT 1 /* VAL is also the short option (-p as --pid) */

/* One option of a command, written once: getopt_long's table (mw_getopt),
 * the OPTIONS of the command's --help (mw_help) and the shell completions
 * (`memwarden completion`) are all made from it. A command's table ends
 * with {0}. */
struct mw_opt {
    const char *name;  /* the long name, without "--" */
    int val;           /* what mw_getopt returns for it */
    int flags;         /* MW_OPT_SHORT */
    const char *arg;   /* the value's name in --help ("PID", "SIZE"); NULL: a flag */
    const char *help;  /* the description; a '\n' goes on in the same column */
    const char *words; /* the values a shell completes ("rss pss uss"); NULL: by
                          ARG's kind (FILE, DIR, CGROUP, PID, USER) */
};

#define MW_OPT_HELP                                                                                \
    {                                                                                              \
        "help", 'h', MW_OPT_SHORT, NULL, "this text", NULL                                         \
    }

/* A command's --help, made by mw_help: HEAD, then OPTIONS from the table
 * (and OPTS_NOTE under them), EXIT STATUS from the exit_* texts (2, the
 * usage error, is the same for all), then EXAMPLES. */
struct mw_cmd_doc {
    const char *head;          /* NAME, SYNOPSIS and DESCRIPTION, as printed */
    const struct mw_opt *opts; /* OPTIONS, ended by {0} */
    const char *opts_note;     /* a paragraph under the options, or NULL */
    const char *exit_ok;       /* what 0 means here */
    const char *exit_fail;     /* what 1 means here */
    const char *exit_found;    /* what 3 means here; NULL: never 3 */
    const char *exit_stopped;  /* what 130 means here; NULL: never 130 */
    const char *exit_note;     /* a paragraph under the statuses (run's own), or NULL */
    const char *examples;      /* the EXAMPLES lines, or NULL */
    const char *operands;      /* what the operands complete to: words ("status setup
                                  off"), "@file", "@dir", "@command"; NULL: none */
    bool stop_at_operand;      /* options end at the first operand (run -- CMD ...) */
};

struct mw_ctx {
    struct mw_root root; /* where /proc and /sys are read from */
    const char *prog;    /* argv[0] for messages */
};

struct mw_command {
    const char *name;
    int (*fn)(struct mw_ctx *ctx, int argc, char **argv);
    const char *summary;          /* one line for the command list */
    const struct mw_cmd_doc *doc; /* its --help and options */
};

/* Every command, in the order `memwarden --help` lists them (commands.c). */
extern const struct mw_command mw_commands[];
extern const size_t mw_ncommands;

/* The global options (--root, --help, --version), for completion. */
extern const struct mw_opt mw_global_opts[];

/* The command named NAME, or NULL. */
const struct mw_command *mw_command_find(const char *name);

/* Prints the exit-status table every command follows (memwarden --help). */
void mw_exit_table(FILE *f);

/* Prints DOC as the command's --help to F. */
void mw_help(FILE *f, const struct mw_cmd_doc *doc);

/* getopt_long over DOC's option table (short options and '+' from it,
 * errors left to the caller: mw_opt_error). Same returns as getopt_long;
 * reset optind to 1 before the first call of a command. */
int mw_getopt(int argc, char *const argv[], const struct mw_cmd_doc *doc);

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
int cli_completion(struct mw_ctx *ctx, int argc, char **argv);

/* Their --help texts and option tables (cli_<name>.c). */
extern const struct mw_cmd_doc cli_status_doc, cli_snapshot_doc, cli_leak_doc, cli_watch_doc,
    cli_slab_doc, cli_shm_doc, cli_analyze_doc, cli_oom_doc, cli_diff_doc, cli_top_doc,
    cli_prio_doc, cli_report_doc, cli_metrics_doc, cli_daemon_doc, cli_doctor_doc, cli_tune_doc,
    cli_zram_doc, cli_drop_caches_doc, cli_run_doc, cli_soak_doc, cli_completion_doc;

#endif
