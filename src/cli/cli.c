/* cli: what every subcommand shares: the command table, each command's
 * --help and getopt_long table made from its one option table (struct
 * mw_opt), the exit-status table, messages and option parsing. */
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

/* ---- the command table ---- */

const struct mw_command mw_commands[] = {
    {"status", cli_status, "memory at a glance: free explained, swap/zram, PSI, verdict",
     &cli_status_doc},
    {"snapshot", cli_snapshot, "capture every file memwarden reads into a directory",
     &cli_snapshot_doc},
    {"leak", cli_leak, "is it a leak? trend of a process or the kernel, and where it grows",
     &cli_leak_doc},
    {"watch", cli_watch, "sample a process or the system every N s, with deltas; --record",
     &cli_watch_doc},
    {"slab", cli_slab, "kernel slab caches: biggest, growing, and what to do", &cli_slab_doc},
    {"shm", cli_shm, "SysV segments and /dev/shm files: owners, attaches, orphans", &cli_shm_doc},
    {"analyze", cli_analyze, "free memory over time from a log: too big, declining, stable",
     &cli_analyze_doc},
    {"oom", cli_oom, "what the kernel's OOM killer killed, and why, from its log", &cli_oom_doc},
    {"diff", cli_diff, "what grew and what shrank between two snapshots", &cli_diff_doc},
    {"top", cli_top, "processes by PSS/USS/RSS/swap with oom_score_adj class and cgroup",
     &cli_top_doc},
    {"prio", cli_prio, "show and set oom_score_adj by class name; apply a rules file",
     &cli_prio_doc},
    {"report", cli_report, "one HTML page from records, kill histories, snapshots, logs",
     &cli_report_doc},
    {"metrics", cli_metrics, "Prometheus metrics of memory and the daemon; --textfile DIR",
     &cli_metrics_doc},
    {"run", cli_run, "run a command under a memory limit: peak, OOM kills, leak verdict",
     &cli_run_doc},
    {"soak", cli_soak, "run a command for hours and judge it: alive, OOM, peaks, leak; JUnit",
     &cli_soak_doc},
    {"daemon", cli_daemon, "low-memory killer: acts before the OOM killer, least important first",
     &cli_daemon_doc},
    {"tune", cli_tune, "apply a profile's sysctls and zram swap, with backup and --revert",
     &cli_tune_doc},
    {"zram", cli_zram, "zram swap devices: status, setup, off (refuses to reset one in use)",
     &cli_zram_doc},
    {"drop-caches", cli_drop_caches, "what drop_caches would free (rarely needed); --yes does it",
     &cli_drop_caches_doc},
    {"doctor", cli_doctor, "check swap, zram and vm sysctls against the RAM size; the fixes",
     &cli_doctor_doc},
    {"completion", cli_completion, "shell completion for bash, zsh or fish, from these tables",
     &cli_completion_doc},
};

const size_t mw_ncommands = MW_ARRAY_SIZE(mw_commands);

const struct mw_opt mw_global_opts[] = {
    {"root", 'r', 0, "DIR", "read /proc and /sys under DIR (a 'memwarden snapshot' capture)", NULL},
    {"help", 'h', MW_OPT_SHORT, NULL, "this text", NULL},
    {"version", 'V', 0, NULL, "print the version", NULL},
    {0},
};

const struct mw_command *mw_command_find(const char *name)
{
    for (size_t c = 0; c < mw_ncommands; c++)
        if (strcmp(name, mw_commands[c].name) == 0)
            return &mw_commands[c];
    return NULL;
}

/* ---- --help and getopt from the option tables ---- */

/* An option's label is at most this wide before its text moves to the next
 * line (soak's "--min-available SIZE"): the text keeps 50 columns. */
#define HELP_LABEL_MAX 24

void mw_exit_table(FILE *f)
{
    fputs("Exit status, the same for every command (each command's --help says what\n"
          "each one means for it):\n"
          "  0    success: done, and a check found nothing\n"
          "  1    could not do what was asked (I/O, permission, not root, bad state)\n"
          "  2    usage error (the message says why)\n"
          "  3    a check ran and found something: a leak, a warning, a problem, advice,\n"
          "       OOM events, failed criteria (the JSON says which)\n"
          "  130  stopped by SIGINT or SIGTERM before the end (soak): not a verdict\n"
          "  'run' exits with its program's status instead (128 + N: signal N ended it).\n",
          f);
}

/* Help lines stay within this many columns (a word longer than a line
 * goes past it). */
#define HELP_WIDTH 80

/* Prints TEXT from column COL (the cursor is there), wrapped to HELP_WIDTH,
 * every line after the first indented by COL spaces. A '\n' followed by a
 * space is kept (a list, a table); any other is a space: the text was
 * written for some column and flows to this one. */
static void put_wrapped(FILE *f, const char *text, int col)
{
    int avail = HELP_WIDTH - col < 20 ? 20 : HELP_WIDTH - col, used = 0;
    for (const char *p = text; *p;) {
        if (*p == '\n' && p[1] == ' ') {
            fprintf(f, "\n%*s", col, "");
            used = 0;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        int len = (int)strcspn(p, " \n");
        if (used > 0 && used + 1 + len > avail) {
            fprintf(f, "\n%*s", col, "");
            used = 0;
        } else if (used > 0) {
            fputc(' ', f);
            used++;
        }
        fwrite(p, 1, (size_t)len, f);
        used += len;
        p += len;
    }
    fputc('\n', f);
}

/* "-p, --pid PID", "    --band SIZE" (beside short options) or "--json". */
static void opt_label(char *buf, size_t cap, const struct mw_opt *o, bool any_short)
{
    if (o->flags & MW_OPT_SHORT)
        snprintf(buf, cap, "-%c, --%s%s%s", o->val, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    else
        snprintf(buf, cap, "%s--%s%s%s", any_short ? "    " : "", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
}

static void help_options(FILE *f, const struct mw_opt *opts)
{
    bool any_short = false;
    size_t width = 0;
    char label[64];
    for (const struct mw_opt *o = opts; o->name; o++)
        any_short |= (o->flags & MW_OPT_SHORT) != 0;
    for (const struct mw_opt *o = opts; o->name; o++) {
        opt_label(label, sizeof(label), o, any_short);
        if (strlen(label) <= HELP_LABEL_MAX && strlen(label) > width)
            width = strlen(label);
    }
    int col = 4 + (int)width + 2;
    fputs("OPTIONS\n", f);
    for (const struct mw_opt *o = opts; o->name; o++) {
        opt_label(label, sizeof(label), o, any_short);
        if (strlen(label) > width)
            fprintf(f, "    %s\n%*s", label, col, "");
        else
            fprintf(f, "    %-*s  ", (int)width, label);
        put_wrapped(f, o->help, col);
    }
}

static void help_exit(FILE *f, const struct mw_cmd_doc *d)
{
    const struct {
        int status;
        const char *text;
    } rows[] = {
        {MW_EXIT_OK, d->exit_ok},
        {MW_EXIT_FAIL, d->exit_fail},
        {MW_EXIT_USAGE, "usage error (the message says why)"},
        {MW_EXIT_FOUND, d->exit_found},
        {MW_EXIT_INTERRUPTED, d->exit_stopped},
    };
    fputs("EXIT STATUS\n", f);
    for (size_t i = 0; i < MW_ARRAY_SIZE(rows); i++) {
        if (!rows[i].text)
            continue;
        fprintf(f, "    %-3d  ", rows[i].status);
        put_wrapped(f, rows[i].text, 9);
    }
    if (d->exit_note)
        fputs(d->exit_note, f);
}

void mw_help(FILE *f, const struct mw_cmd_doc *d)
{
    fputs(d->head, f);
    fputc('\n', f);
    help_options(f, d->opts);
    if (d->opts_note)
        fprintf(f, "\n%s", d->opts_note);
    fputc('\n', f);
    help_exit(f, d);
    if (d->examples)
        fprintf(f, "\nEXAMPLES\n%s", d->examples);
}

/* getopt_long's tables for the last DOC asked for: "+:" or ":" then the
 * short options; struct option per entry. Commands have about 20 options. */
#define GETOPT_MAX 64

int mw_getopt(int argc, char *const argv[], const struct mw_cmd_doc *doc)
{
    static const struct mw_cmd_doc *built;
    static struct option longs[GETOPT_MAX + 1];
    static char shorts[3 * GETOPT_MAX + 3];
    if (built != doc) {
        size_t n = 0, k = 0;
        if (doc->stop_at_operand)
            shorts[k++] = '+';
        shorts[k++] = ':';
        for (const struct mw_opt *o = doc->opts; o->name; o++) {
            if (n == GETOPT_MAX)
                abort(); /* a table this long is a programming error */
            longs[n++] =
                (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->val};
            if (o->flags & MW_OPT_SHORT) {
                shorts[k++] = (char)o->val;
                if (o->arg)
                    shorts[k++] = ':';
            }
        }
        longs[n] = (struct option){0};
        shorts[k] = '\0';
        built = doc;
    }
    return getopt_long(argc, argv, shorts, longs, NULL);
}
