/* memwarden soak: run a command for hours (under a limit if given) and
 * judge whether it survived sanely — the same runner as `run`, then the
 * criteria of cli/soak.h, as text, JSON and JUnit XML. */
#include "cli/soak.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/safeopen.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/progress.h"

static const struct mw_opt soak_opts[] = {
    {"duration", 'd', MW_OPT_SHORT, "D", "how long (default 24h)", NULL},
    {"interval", 'i', MW_OPT_SHORT, "I", "time between samples (default 5m)", NULL},
    MW_RUNNER_OPTS,
    {"max-rss", 'R', 0, "SIZE", "fail when the summed RSS went above SIZE", NULL},
    {"max-pss", 'P', 0, "SIZE", "fail when the summed PSS went above SIZE", NULL},
    {"min-available", 'A', 0, "SIZE", "fail when available memory fell below SIZE", NULL},
    {"strict", 's', 0, NULL, "a leak warning fails too", NULL},
    {"no-system", 'n', 0, NULL,
     "do not judge the whole host (system): on a shared\n"
     "machine other programs' slab and shmem are not CMD's",
     NULL},
    {"junit", 'J', 0, "FILE", "write JUnit XML: a test case per criterion", NULL},
    {"json", 'j', 0, NULL, "the report as one JSON object", NULL},
    {"load", 'L', 0, "CMD2", "a load generator run beside it", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_soak_doc = {
    .head = "NAME\n"
            "    memwarden soak - run a command for hours and judge whether it survived sanely\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden soak [--duration D] [--interval I] [--limit SIZE [--swap SIZE]\n"
            "                   [--high SIZE]] [--cpus N] [--max-rss SIZE] [--max-pss SIZE]\n"
            "                   [--min-available SIZE] [--strict] [--no-system] [--junit FILE]\n"
            "                   [--json]\n"
            "                   [--record FILE] [--load CMD] [--daemon] [--name NAME]\n"
            "                   [--keep] -- CMD [ARGS...]\n"
            "\n"
            "DESCRIPTION\n"
            "    Runs CMD the way 'memwarden run' does (a cgroup of its own, with the\n"
            "    limit when --limit is given) for the duration, restarting nothing,\n"
            "    samples every INTERVAL, then ends it (SIGTERM, SIGKILL 10 s later) and\n"
            "    judges it on these criteria:\n"
            "      alive          CMD was still running at the end ('exited' when not)\n"
            "      no-oom-kill    the kernel OOM-killed nothing in the cgroup\n"
            "      max-rss        the cgroup's processes' summed RSS stayed below --max-rss\n"
            "      max-pss        ... and their PSS below --max-pss\n"
            "      min-available  available memory (the cgroup's, and MemAvailable) never\n"
            "                     fell below --min-available\n"
            "      leak           the leak verdict of the cgroup's used memory is not\n"
            "                     'leak' (with --strict, not 'warning' either); the\n"
            "                     rule and words of 'memwarden leak'\n"
            "      system         the system's SUnreclaim and Shmem do not grow (the\n"
            "                     'leak --system' rule; the whole host, other programs\n"
            "                     included)\n"
            "    A criterion not asked for, or a run too short for a trend (10 samples,\n"
            "    or 'too short to judge'), is skipped. On a terminal a progress line\n"
            "    shows elapsed / total, the cgroup's used memory, the verdict so far and\n"
            "    the next sample's time; otherwise each sample logs that line on stderr.\n"
            "    Ctrl-C or SIGTERM ends the soak early: INTERRUPTED, with the criteria\n"
            "    on what was collected. --load runs CMD2 with /bin/sh -c beside it\n"
            "    (e.g. clients that make the load), stopped at the end with its whole\n"
            "    process group. The report goes to stdout.\n",
    .opts = soak_opts,
    .exit_ok = "every criterion passed (or was skipped)",
    .exit_fail = "the cgroup could not be made, CMD could not start, or the JUnit\n"
                 "file could not be written",
    .exit_found = "a criterion failed (listed)",
    .exit_stopped = "interrupted (Ctrl-C or SIGTERM before the duration ended): not a\n"
                    "pass, whatever was collected; the JUnit file has an <error>",
    .examples = "    memwarden soak --duration 24h --limit 4G --junit soak.xml -- ./app\n"
                "    memwarden soak -d 10m -i 10s --max-pss 300M --record app.jsonl -- ./app\n"
                "    memwarden soak -d 1h --load './clients.sh 4' --strict -- ./server\n",
    .operands = "@command",
    .stop_at_operand = true,
};

struct soak_opts {
    struct mw_runner_opts run;
    struct mw_soak_criteria crit;
    const char *junit;
    bool json;
};

/* The progress line (a terminal) or a log line per sample (otherwise). */
struct soak_view {
    struct mw_progress prog;
    uint64_t interval_ms;
    double last_sample_s;
};

static void soak_tick(void *ctx, const struct mw_run_result *res, bool sampled)
{
    struct soak_view *v = ctx;
    char used[32], peak[32], detail[160], next[16] = "";
    if (sampled)
        v->last_sample_s = (double)time(NULL);
    time_t nt = (time_t)(v->last_sample_s + (double)v->interval_ms / 1000.0);
    struct tm tm;
    if (localtime_r(&nt, &tm))
        strftime(next, sizeof(next), "%H:%M:%S", &tm);
    snprintf(detail, sizeof(detail), "used %s, peak %s, verdict %s, next sample %s",
             mw_fmt_size(used, sizeof(used), res->last_used),
             mw_fmt_size(peak, sizeof(peak), res->peak_sampled),
             res->have_trend ? mw_trend_verdict_name(res->trend.verdict) : "not yet", next);
    if (v->prog.tty) {
        mw_progress_show(&v->prog, res->samples, detail);
    } else if (sampled) {
        fprintf(stderr, "soak: %.0f s of %.0f s, %lu samples, %s\n", res->wall_s,
                (double)v->prog.total_ms / 1000.0, res->samples, detail);
    }
}

static int soak_option(int c, const char *arg, struct soak_opts *o)
{
    switch (c) {
    case 'd':
        if (mw_opt_duration_ms("--duration", arg, &o->run.duration_ms) < 0)
            return MW_EXIT_USAGE;
        return o->run.duration_ms ? -1 : mw_usage_error("soak", "--duration must be more than 0");
    case 'R':
        return mw_opt_size("--max-rss", arg, &o->crit.max_rss) < 0 ? MW_EXIT_USAGE : -1;
    case 'P':
        return mw_opt_size("--max-pss", arg, &o->crit.max_pss) < 0 ? MW_EXIT_USAGE : -1;
    case 'A':
        return mw_opt_size("--min-available", arg, &o->crit.min_available) < 0 ? MW_EXIT_USAGE : -1;
    case 's':
        o->crit.strict = true;
        return -1;
    case 'n':
        o->crit.no_system = true;
        return -1;
    case 'J':
        o->junit = arg;
        return -1;
    case 'j':
        o->json = true;
        return -1;
    case 'L':
        o->run.load = arg;
        return -1;
    default:
        return mw_runner_option(c, arg, &o->run);
    }
}

static const char *result_name(enum mw_crit_result r)
{
    return r == MW_CRIT_PASS ? "pass" : r == MW_CRIT_FAIL ? "fail" : "skipped";
}

static void soak_text(FILE *f, const struct mw_run_result *res, const struct mw_criterion *crit,
                      size_t failed, const char *interrupted)
{
    mw_run_print_text(f, res);
    if (interrupted[0])
        fprintf(f, "\nsoak: INTERRUPTED: %s; not a pass. The criteria on what was collected%s:\n",
                interrupted, failed ? " (one failed already)" : "");
    else
        fprintf(f, "\nsoak: %s\n", failed ? "FAIL" : "PASS");
    for (size_t i = 0; i < MW_SOAK_CRITERIA; i++) {
        fprintf(f, "  %-7s %-14s ", result_name(crit[i].result), crit[i].name);
        mw_text_put(f, crit[i].detail, strlen(crit[i].detail), 0);
        fputc('\n', f);
    }
    if (failed) {
        fprintf(f, "failed:");
        for (size_t i = 0; i < MW_SOAK_CRITERIA; i++)
            if (crit[i].result == MW_CRIT_FAIL)
                fprintf(f, " %s", crit[i].name);
        fputc('\n', f);
    }
}

static void soak_json(const struct mw_run_result *res, const struct mw_criterion *crit,
                      size_t failed, const char *interrupted)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "result", interrupted[0] ? "interrupted" : failed ? "fail" : "pass");
    mw_json_bool(&j, "partial", res->stop_signal != 0);
    if (interrupted[0])
        mw_json_str(&j, "interrupted", interrupted);
    else
        mw_json_null(&j, "interrupted");
    mw_json_array_begin(&j, "failed");
    for (size_t i = 0; i < MW_SOAK_CRITERIA; i++)
        if (crit[i].result == MW_CRIT_FAIL)
            mw_json_str(&j, NULL, crit[i].name);
    mw_json_array_end(&j);
    mw_json_array_begin(&j, "criteria");
    for (size_t i = 0; i < MW_SOAK_CRITERIA; i++) {
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "name", crit[i].name);
        mw_json_str(&j, "result", result_name(crit[i].result));
        mw_json_str(&j, "detail", crit[i].detail);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_begin(&j, "run");
    mw_run_json_members(&j, res);
    mw_json_object_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static int write_junit(const char *path, const struct mw_run_result *res,
                       const struct mw_criterion *crit, const char *interrupted)
{
    /* a new file beside PATH, renamed over it: a link planted at PATH is
     * replaced, never written through */
    struct mw_out out;
    int rc = mw_out_begin(AT_FDCWD, path, 0666, &out);
    if (rc == 0) {
        mw_soak_junit(out.f, res->cmd, crit, MW_SOAK_CRITERIA, res->wall_s,
                      interrupted[0] ? interrupted : NULL);
        rc = mw_out_commit(&out);
    }
    if (rc < 0) {
        mw_err("soak: cannot write %s: %s", path, mw_out_strerror(-rc));
        return -1;
    }
    return 0;
}

int cli_soak(struct mw_ctx *ctx, int argc, char **argv)
{
    struct soak_opts o = {0};
    mw_runner_opts_default(&o.run, "soak");
    o.run.interval_ms = 5 * 60 * 1000;
    o.run.duration_ms = 24ull * 3600 * 1000;
    int c, ret;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_soak_doc)) != -1) {
        if (c == '?' || c == ':')
            return mw_opt_error("soak", c, argv);
        if (c == 'h') {
            mw_help(stdout, &cli_soak_doc);
            return MW_EXIT_OK;
        }
        if ((ret = soak_option(c, optarg, &o)) >= 0)
            return ret;
    }
    if ((ret = mw_runner_opts_check(ctx, &o.run, argc, argv)) >= 0)
        return ret;
    struct soak_view view = {.interval_ms = o.run.interval_ms};
    mw_progress_init(&view.prog, o.run.duration_ms);
    o.run.tick = soak_tick;
    o.run.tick_ctx = &view;
    struct mw_run_result *res = calloc(1, sizeof(*res));
    if (!res)
        return MW_EXIT_FAIL;
    int rc = mw_runner_run(&ctx->root, &o.run, res);
    mw_progress_clear(&view.prog);
    if (rc < 0 && !res->exec_errno) {
        free(res);
        return MW_EXIT_FAIL;
    }
    struct mw_criterion crit[MW_SOAK_CRITERIA];
    size_t failed = mw_soak_judge(res, &o.crit, crit);
    char intr[160];
    mw_soak_interrupted(intr, sizeof(intr), res, o.run.duration_ms);
    fflush(stdout);
    if (o.json)
        soak_json(res, crit, failed, intr);
    else
        soak_text(stdout, res, crit, failed, intr);
    /* interrupted is not passed, nor a finding: its own status */
    ret = intr[0] ? MW_EXIT_INTERRUPTED : failed ? MW_EXIT_FOUND : MW_EXIT_OK;
    if (o.junit && write_junit(o.junit, res, crit, intr) < 0)
        ret = MW_EXIT_FAIL;
    free(res);
    return ret;
}

/* ---- the criteria (pure) ---- */

static void crit_set(struct mw_criterion *c, const char *name, enum mw_crit_result r,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void crit_set(struct mw_criterion *c, const char *name, enum mw_crit_result r,
                     const char *fmt, ...)
{
    c->name = name;
    c->result = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
}

/* A size criterion: VALUE below LIMIT (0: not asked). */
static void crit_size(struct mw_criterion *c, const char *name, const char *what, uint64_t value,
                      uint64_t limit, bool below)
{
    char a[32], b[32];
    mw_fmt_size(a, sizeof(a), value);
    mw_fmt_size(b, sizeof(b), limit);
    if (!limit)
        crit_set(c, name, MW_CRIT_SKIP, "not asked (%s %s)", what, a);
    else if (below ? value <= limit : value >= limit)
        crit_set(c, name, MW_CRIT_PASS, "%s %s, %s %s", what, a, below ? "limit" : "floor", b);
    else
        crit_set(c, name, MW_CRIT_FAIL, "%s %s, %s %s", what, a,
                 below ? "above the limit" : "below the floor", b);
}

/* A trend criterion: fails at leak (STRICT: at warning too), skipped when
 * too short to judge. */
static void crit_trend(struct mw_criterion *c, const char *name, const char *what,
                       const struct mw_trend *t, bool strict)
{
    char words[200];
    bool bad = t->verdict == MW_TREND_LEAK || (strict && t->verdict == MW_TREND_WARNING);
    mw_trend_words(t, words, sizeof(words));
    crit_set(c, name,
             bad                            ? MW_CRIT_FAIL
             : t->verdict < MW_TREND_STABLE ? MW_CRIT_SKIP
                                            : MW_CRIT_PASS,
             "%s: %s", what, words);
}

static void crit_alive(const struct mw_run_result *res, struct mw_criterion *c)
{
    char end[160];
    mw_run_end_text(res, end, sizeof(end));
    if (res->exec_errno)
        crit_set(c, "alive", MW_CRIT_FAIL, "exited: never ran (%s)", end);
    else if (res->reaped && !res->ended_on_request)
        crit_set(c, "alive", MW_CRIT_FAIL, "exited: %s after %.1f s", end, res->wall_s);
    else
        crit_set(c, "alive", MW_CRIT_PASS, "running until the %s (%.1f s)",
                 res->ended_by_duration ? "end of the duration" : "soak was stopped", res->wall_s);
}

size_t mw_soak_judge(const struct mw_run_result *res, const struct mw_soak_criteria *cr,
                     struct mw_criterion *out)
{
    crit_alive(res, &out[0]);
    crit_set(&out[1], "no-oom-kill", res->ev_oom_kill ? MW_CRIT_FAIL : MW_CRIT_PASS,
             "oom_kill %llu%s", (unsigned long long)res->ev_oom_kill,
             res->main_oom_killed ? " (the main process itself)" : "");
    crit_size(&out[2], "max-rss", "peak summed RSS", res->peak_rss_sum, cr->max_rss, true);
    crit_size(&out[3], "max-pss", "peak summed PSS", res->peak_pss_sum, cr->max_pss, true);
    crit_size(&out[4], "min-available", "lowest available", res->min_available, cr->min_available,
              false);
    if (res->have_trend)
        crit_trend(&out[5], "leak", "the cgroup's used memory", &res->trend, cr->strict);
    else
        crit_set(&out[5], "leak", MW_CRIT_SKIP, "too short for a trend (%lu samples, %d needed)",
                 res->samples, MW_RUN_TREND_MIN_SAMPLES);
    if (cr->no_system) {
        crit_set(&out[6], "system", MW_CRIT_SKIP, "not asked (--no-system)");
    } else if (!res->have_sys) {
        crit_set(&out[6], "system", MW_CRIT_SKIP, "too short for a trend (%lu samples, %d needed)",
                 res->samples, MW_RUN_TREND_MIN_SAMPLES);
    } else {
        /* the worse of the two speaks */
        bool slab_worse = res->sys_sunreclaim.verdict >= res->sys_shmem.verdict;
        crit_trend(&out[6], "system", slab_worse ? "SUnreclaim" : "Shmem",
                   slab_worse ? &res->sys_sunreclaim : &res->sys_shmem, cr->strict);
    }
    size_t failed = 0;
    for (size_t i = 0; i < MW_SOAK_CRITERIA; i++)
        failed += out[i].result == MW_CRIT_FAIL;
    return failed;
}

/* ---- JUnit XML ---- */

static void xml_str(FILE *f, const char *s)
{
    mw_text_put_markup(f, s, strlen(s));
}

char *mw_soak_interrupted(char *buf, size_t cap, const struct mw_run_result *res,
                          uint64_t planned_ms)
{
    buf[0] = '\0';
    if (!res->stop_signal)
        return buf;
    char plan[32];
    double p = (double)planned_ms / 1000.0;
    if (p < 120)
        snprintf(plan, sizeof(plan), "%.0f s", p);
    else if (p < 7200)
        snprintf(plan, sizeof(plan), "%.0f min", p / 60);
    else
        snprintf(plan, sizeof(plan), "%.1f h", p / 3600);
    snprintf(buf, cap, "interrupted by %s after %.1f s of %s (%lu sample%s)",
             mw_stop_name(res->stop_signal), res->wall_s, plan, res->samples,
             res->samples == 1 ? "" : "s");
    return buf;
}

/* The testcase that says the soak did not run its course. */
static void junit_interrupted(FILE *f, const char *why, double time_s)
{
    fprintf(f, "    <testcase classname=\"memwarden.soak\" name=\"completed\" time=\"%.3f\">\n",
            time_s);
    fprintf(f, "      <error message=\"");
    xml_str(f, why);
    fprintf(f, "\" type=\"interrupted\">");
    xml_str(f, why);
    fprintf(f, "</error>\n    </testcase>\n");
}

void mw_soak_junit(FILE *f, const char *cmd, const struct mw_criterion *crit, size_t n,
                   double time_s, const char *interrupted)
{
    size_t failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        failed += crit[i].result == MW_CRIT_FAIL;
        skipped += crit[i].result == MW_CRIT_SKIP;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites>\n  <testsuite name=\"memwarden soak: ");
    xml_str(f, cmd);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"%d\" time=\"%.3f\">\n",
            n + (interrupted != NULL), failed, skipped, interrupted != NULL, time_s);
    if (interrupted)
        junit_interrupted(f, interrupted, time_s);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    <testcase classname=\"memwarden.soak\" name=\"");
        xml_str(f, crit[i].name);
        fprintf(f, "\" time=\"%.3f\">\n", time_s);
        if (crit[i].result == MW_CRIT_FAIL) {
            fprintf(f, "      <failure message=\"");
            xml_str(f, crit[i].detail);
            fprintf(f, "\" type=\"");
            xml_str(f, crit[i].name);
            fprintf(f, "\">");
            xml_str(f, crit[i].detail);
            fprintf(f, "</failure>\n");
        } else if (crit[i].result == MW_CRIT_SKIP) {
            fprintf(f, "      <skipped message=\"");
            xml_str(f, crit[i].detail);
            fprintf(f, "\"/>\n");
        } else {
            fprintf(f, "      <system-out>");
            xml_str(f, crit[i].detail);
            fprintf(f, "</system-out>\n");
        }
        fprintf(f, "    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
}
