/* memwarden watch: sample processes or the system every N seconds; a
 * table with the change since the last line, optionally recorded as JSON
 * lines for `leak --from` and `analyze`. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/json.h"
#include "model/sample.h"
#include "proc/slab.h"
#include "base/charset.h"
#include "base/safeopen.h"
#include "base/text.h"
#include "cli/progress.h"
#include "model/targets.h"
#include "analysis/leakcore.h"

static const struct mw_opt watch_opts[] = {
    {"pid", 'p', MW_OPT_SHORT, "PID", "watch this process (repeatable)", NULL},
    {"match", 'm', MW_OPT_SHORT, "REGEX", "watch processes whose name or command line matches",
     NULL},
    {"system", 's', MW_OPT_SHORT, NULL, "watch the system (the default without -p/--match)", NULL},
    {"interval", 'i', MW_OPT_SHORT, "I", "time between samples (default 5s)", NULL},
    {"duration", 'd', MW_OPT_SHORT, "D", "stop after D (default: until interrupted)", NULL},
    {"count", 'n', MW_OPT_SHORT, "N", "stop after N samples", NULL},
    {"record", 'r', MW_OPT_SHORT, "FILE", "append samples to FILE (JSON lines)", NULL},
    {"max-size", 'S', 0, "SIZE", "rotate FILE at this size (default 10M; 0 never)", NULL},
    {"keep", 'K', 0, "N", "rotated files kept (default 3)", NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "print samples as JSON lines instead of the table", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_watch_doc = {
    .head = "NAME\n"
            "    memwarden watch - sample memory every N seconds, with the change since the\n"
            "    last line\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden watch [-p PID]... [--match REGEX] [--system] [-i INTERVAL]\n"
            "                    [--duration D] [--count N] [--record FILE [--max-size SIZE]\n"
            "                    [--keep N]] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    For each process: RSS, PSS, VMS, shared, CPU %, the system's used %\n"
            "    (MemTotal - MemAvailable) and buff/cache; sizes carry the change since\n"
            "    the last line (an arrow and the amount; + and - unless the locale is\n"
            "    UTF-8). Without -p/--match it watches the system: used, available,\n"
            "    buff/cache, Slab, SUnreclaim, Shmem. A process that exits ends its\n"
            "    column with a note; the watch goes on for the others.\n"
            "    buff/cache growing is not a leak: reclaim takes it back; 'available' is\n"
            "    what counts.\n"
            "    --record appends every sample as one JSON line (system samples include\n"
            "    every slab cache) to FILE; when FILE reaches --max-size it is rotated to\n"
            "    FILE.1 (FILE.1 to FILE.2, ... keeping --keep files).\n",
    .opts = watch_opts,
    .opts_note = "    On a terminal, a run with --duration or --count (or whose rows go to a\n"
                 "    file) shows a progress line on stderr: elapsed / planned, samples, and\n"
                 "    the system's used memory (or the first process's RSS) with its verdict.\n"
                 "    At the end a line on stderr gives the verdict on that figure, in the\n"
                 "    words 'memwarden leak' uses (often 'too short to judge': see its help).\n"
                 "    Ctrl-C or SIGTERM ends the watch early: every sample taken is already\n"
                 "    in the record, and a summary line on stderr says how many.\n",
    .exit_ok = "done (also when ended by Ctrl-C or SIGTERM)",
    .exit_fail = "nothing could be sampled, or the record could not be written",
    .examples = "    memwarden watch -p $(pgrep -f 'python.*main') -i 5\n"
                "    memwarden watch --system -i 1m --record /var/log/mem.jsonl\n"
                "    memwarden leak --from /var/log/mem.jsonl --system\n",
};

/* The change marks: arrows where the locale is UTF-8, else ASCII. */
static const char *mark_up = "+", *mark_down = "-";

static void marks_init(void)
{
    bool utf8 = mw_charset_utf8();
    mark_up = utf8 ? "\xe2\x86\x91" : "+";   /* ↑ */
    mark_down = utf8 ? "\xe2\x86\x93" : "-"; /* ↓ */
}

/* "256.3 MiB", or with a change "258.4 MiB ↑2.1 MiB" (UTF-8 locale) or
 * "258.4 MiB +2.1 MiB" (any other). */
static char *with_delta(char *buf, size_t cap, uint64_t cur, uint64_t prev, bool have_prev)
{
    char a[32], b[32];
    mw_fmt_size(a, sizeof(a), cur);
    if (!have_prev || cur == prev) {
        snprintf(buf, cap, "%s", a);
    } else {
        uint64_t d = cur > prev ? cur - prev : prev - cur;
        snprintf(buf, cap, "%s %s%s", a, cur > prev ? mark_up : mark_down,
                 mw_fmt_size(b, sizeof(b), d));
    }
    return buf;
}

/* Prints S padded to WIDTH display columns (UTF-8 arrows are one column
 * but three bytes, so printf's widths do not do). */
static void cell(const char *s, int width, const char *sep)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xc0) != 0x80;
    fputs(s, stdout);
    for (; cols < width; cols++)
        putchar(' ');
    fputs(sep, stdout);
}

static void clock_str(char *buf, size_t cap, double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, cap, "%H:%M:%S", &tm);
}

struct watch_opts {
    int *pids; /* -p, malloc'd */
    size_t npids;
    const char *match, *record;
    bool system, json, help;
    uint64_t interval_ms, duration_ms, max_size;
    unsigned long count, keep;
};

struct target {
    int pid;
    uint64_t starttime;
    bool started, gone;
    struct mw_sample prev;
    double t0;
};

/* The run: what was resolved, the previous samples, and the counts. */
struct watch_run {
    const struct watch_opts *o;
    const struct mw_root *root;
    struct target *t; /* the watched processes */
    size_t nt;
    struct mw_sample sys_prev;
    bool have_sys_prev;
    long clk;
    unsigned long samples;  /* samples taken (processes and system) */
    unsigned long recorded; /* of them, appended to the record */
    int ret;
    struct mw_progress prog; /* the line on stderr (a terminal only) */
    bool progress;           /* draw it: a planned run, or rows go elsewhere */
    /* The figure: system used memory, else the first process's RSS, every
     * sample of it; its verdict (analysis/trend, as `leak` says it) is on
     * the progress line and in the summary. */
    int fig_pid; /* 0: the system */
    struct mw_series fig;
    char detail[96];
};

/* One row, gathered before it is shown: a process or system sample, or a
 * process that is gone (or never was: ERR). */
struct watch_row {
    char ts[16]; /* time of day */
    struct mw_sample s;
    const struct mw_sample *prev; /* NULL: first sample, no change shown */
    const struct target *x;       /* process rows */
    struct mw_slab_set slab;
    bool have_slab;
    int err; /* gone rows that never started: why */
};

/* Parses the command line into O. Returns MW_EXIT_OK to go on (O->help
 * set: the usage was printed), MW_EXIT_USAGE or MW_EXIT_FAIL. */
static int watch_options(int argc, char **argv, struct watch_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_watch_doc)) != -1) {
        switch (c) {
        case 'p': {
            int rc = mw_opt_pid_append(optarg, &o->pids, &o->npids);
            if (rc)
                return rc;
            break;
        }
        case 'm':
            o->match = optarg;
            break;
        case 's':
            o->system = true;
            break;
        case 'i':
            if (mw_opt_interval_ms("watch", optarg, &o->interval_ms) != 0)
                return MW_EXIT_USAGE;
            break;
        case 'd':
            if (mw_opt_duration_ms("--duration", optarg, &o->duration_ms) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'n':
            if (mw_opt_uint("--count", optarg, 1, 1000000000, &o->count) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'r':
            o->record = optarg;
            break;
        case 'S':
            if (mw_opt_size("--max-size", optarg, &o->max_size) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'K':
            if (mw_opt_uint("--keep", optarg, 1, 99, &o->keep) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_watch_doc);
            o->help = true;
            return MW_EXIT_OK;
        default:
            return mw_opt_error("watch", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("watch", "unexpected argument '%s'", argv[optind]);
    if (o->match && mw_opt_match("watch", o->match) != 0)
        return MW_EXIT_USAGE;
    if (!o->npids && !o->match)
        o->system = true;
    return MW_EXIT_OK;
}

/* Appends S (and SLAB) to the record, if any; a failure ends the watch. */
static void record(struct watch_run *r, const struct mw_sample *s, const struct mw_slab_set *slab)
{
    const struct watch_opts *o = r->o;
    if (!o->record)
        return;
    int rc = mw_record_append(o->record, o->max_size, (unsigned)o->keep, s, slab);
    if (rc == 0)
        r->recorded++;
    if (rc < 0) {
        mw_err("watch: cannot write %s: %s", o->record, mw_out_strerror(-rc));
        r->ret = MW_EXIT_FAIL; /* ends the watch after this round */
    }
}

static void header_text(const struct watch_run *r)
{
    if (r->nt)
        printf("%-8s | %-7s %-15s | %-20s | %-20s | %-10s | %-10s | %5s | %9s | %s\n", "time",
               "PID", "name", "RSS", "PSS", "VMS", "shared", "CPU%", "sys used%", "buff/cache");
    if (r->o->system)
        printf("%-8s | %s%-20s | %-20s | %-20s | %-18s | %-18s | %-18s | %s\n", "time",
               r->nt ? "system | " : "", "used", "available", "buff/cache", "Slab", "SUnreclaim",
               "Shmem", "used%");
}

static void render_gone(const struct watch_run *r, const struct watch_row *w)
{
    const struct target *x = w->x;
    if (r->o->json) {
        mw_sample_write_json(stdout, &w->s, NULL);
    } else if (x->started) {
        printf("%-8s | %-7d ", w->ts, x->pid);
        mw_text_put_cell(stdout, x->prev.comm, 15, true);
        printf(" | exited after %.1f s of watching\n", w->s.t_s - x->t0);
    } else {
        printf("%-8s | %-7d %-15s | no such process (%s)\n", w->ts, x->pid, "-",
               mw_strerror(-w->err));
    }
}

static void render_process(const struct watch_run *r, const struct watch_row *w)
{
    if (r->o->json) {
        mw_sample_write_json(stdout, &w->s, NULL);
        return;
    }
    const struct mw_sample *s = &w->s, *p = w->prev;
    char a[48], b[48], c[48], d[48], e[48];
    bool hp = p != NULL;
    double cpu = hp ? mw_sample_cpu_pct(p, s, r->clk) : 0;
    printf("%-8s | %-7d ", w->ts, s->pid);
    mw_text_put_cell(stdout, s->comm, 15, true);
    printf(" | ");
    cell(with_delta(a, sizeof(a), s->rss, hp ? p->rss : 0, hp), 20, " | ");
    cell(s->have_pss ? with_delta(b, sizeof(b), s->pss, hp ? p->pss : 0, hp) : "-", 20, " | ");
    cell(mw_fmt_size(c, sizeof(c), s->vms), 10, " | ");
    cell(mw_fmt_size(d, sizeof(d), s->shared), 10, " | ");
    printf("%5.1f | %8.1f%% | ", cpu, mw_pct(s->mem_used, s->mem_total));
    cell(with_delta(e, sizeof(e), s->buff_cache, hp ? p->buff_cache : 0, hp), 0, "\n");
}

static void render_system(const struct watch_run *r, const struct watch_row *w)
{
    if (r->o->json) {
        mw_sample_write_json(stdout, &w->s, w->have_slab ? &w->slab : NULL);
        return;
    }
    const struct mw_sample *s = &w->s, *p = w->prev;
    static const struct mw_sample zero;
    bool hp = p != NULL;
    if (!hp)
        p = &zero;
    char a[48], b[48], c[48], d[48], e[48], f[48];
    /* with processes too, system rows say so */
    printf("%-8s | %s", w->ts, r->nt ? "system | " : "");
    cell(with_delta(a, sizeof(a), s->mem_used, p->mem_used, hp), 20, " | ");
    cell(with_delta(b, sizeof(b), s->mem_available, p->mem_available, hp), 20, " | ");
    cell(with_delta(c, sizeof(c), s->buff_cache, p->buff_cache, hp), 20, " | ");
    cell(with_delta(d, sizeof(d), s->slab, p->slab, hp), 18, " | ");
    cell(with_delta(e, sizeof(e), s->sunreclaim, p->sunreclaim, hp), 18, " | ");
    cell(with_delta(f, sizeof(f), s->shmem, p->shmem, hp), 18, " | ");
    printf("%.1f%%\n", mw_pct(s->mem_used, s->mem_total));
}

/* The figure's verdict so far into OUT (analysis/trend). */
static void figure_trend(const struct watch_run *r, struct mw_trend *out)
{
    struct mw_trend_params p;
    mw_trend_params_default(&p);
    mw_trend_classify(r->fig.t, r->fig.v, r->fig.n, &p, out);
}

/* Feeds the figure with V (bytes) of PID (0: system) at T_S; the progress
 * line says "used 1.2 GiB, too_short so far". */
static void figure(struct watch_run *r, int pid, const char *what, uint64_t v, double t_s)
{
    if (pid != r->fig_pid)
        return;
    if (!r->fig.n)
        r->fig.first.t_s = t_s;
    if (mw_series_push(&r->fig, t_s - r->fig.first.t_s, (double)v) < 0)
        return;
    r->fig.series_name = what;
    if (!r->progress)
        return;
    struct mw_trend tr;
    char a[32];
    figure_trend(r, &tr);
    snprintf(r->detail, sizeof(r->detail), "%s %s, %s so far", what, mw_fmt_size(a, sizeof(a), v),
             mw_trend_verdict_name(tr.verdict));
}

/* Samples process X at NOW: shows and records the row. Returns true while
 * the process is alive. */
static bool watch_target(struct watch_run *r, struct target *x, double now, const char *ts)
{
    struct watch_row w = {.x = x};
    snprintf(w.ts, sizeof(w.ts), "%s", ts);
    int rc = mw_sample_process(r->root, x->pid, now, &w.s);
    if (rc == 0 && x->started && w.s.starttime != x->starttime)
        rc = -ESRCH; /* PID reused by another program */
    if (rc < 0) {
        x->gone = true;
        memset(&w.s, 0, sizeof(w.s));
        w.s.t_s = now;
        w.s.kind = MW_SAMPLE_GONE;
        w.s.pid = x->pid;
        w.err = rc;
        if (x->started) {
            w.s.starttime = x->starttime;
            snprintf(w.s.comm, sizeof(w.s.comm), "%s", x->prev.comm);
        }
        render_gone(r, &w);
        if (x->started)
            record(r, &w.s, NULL);
        return false;
    }
    w.prev = x->started ? &x->prev : NULL;
    render_process(r, &w);
    figure(r, x->pid, "rss", w.s.rss, now);
    record(r, &w.s, NULL);
    if (!x->started) {
        x->started = true;
        x->starttime = w.s.starttime;
        x->t0 = now;
    }
    x->prev = w.s;
    return true;
}

/* Samples the system at NOW: shows and records the row. Returns false
 * when meminfo cannot be read (said on stderr). */
static bool watch_system(struct watch_run *r, double now, const char *ts)
{
    struct watch_row w = {0};
    snprintf(w.ts, sizeof(w.ts), "%s", ts);
    if (mw_sample_system(r->root, now, &w.s) < 0) {
        mw_err("watch: cannot read %s/proc/meminfo",
               strcmp(r->root->path, "/") ? r->root->path : "");
        r->ret = MW_EXIT_FAIL;
        return false;
    }
    w.have_slab = (r->o->record || r->o->json) && mw_slab_read(r->root, &w.slab) == 0;
    w.prev = r->have_sys_prev ? &r->sys_prev : NULL;
    render_system(r, &w);
    figure(r, 0, "used", w.s.mem_used, now);
    record(r, &w.s, w.have_slab ? &w.slab : NULL);
    if (w.have_slab)
        mw_slab_set_free(&w.slab);
    r->sys_prev = w.s;
    r->have_sys_prev = true;
    return true;
}

/* Samples every interval until the count or duration is reached, every
 * process is gone, or a stop signal arrives. */
static void watch_loop(struct watch_run *r)
{
    const struct watch_opts *o = r->o;
    uint64_t planned_ms = o->duration_ms ? o->duration_ms
                          : o->count > 1 ? (o->count - 1) * o->interval_ms
                                         : 0;
    mw_progress_init(&r->prog, planned_ms);
    /* An open-ended watch on a terminal shows its rows: no line needed. */
    r->progress = r->prog.tty && (planned_ms || !isatty(STDOUT_FILENO));
    r->fig_pid = o->system || !r->nt ? 0 : r->t[0].pid;
    uint64_t t0 = r->prog.start_ms;
    for (unsigned long k = 0; !mw_stop_signal && r->ret == MW_EXIT_OK; k++) {
        uint64_t due = t0 + k * o->interval_ms;
        if ((o->count && k >= o->count) || (o->duration_ms && due - t0 > o->duration_ms))
            break;
        bool on_time = r->progress ? mw_progress_sleep(&r->prog, due, r->samples,
                                                       r->detail[0] ? r->detail : NULL)
                                   : mw_sleep_or_stop(due);
        if (!on_time)
            break;
        mw_progress_clear(&r->prog);
        double now = mw_sample_now_s();
        char ts[16];
        clock_str(ts, sizeof(ts), now);
        size_t alive = 0;
        for (size_t i = 0; i < r->nt; i++)
            if (!r->t[i].gone)
                alive += watch_target(r, &r->t[i], now, ts);
        if (o->system) {
            if (!watch_system(r, now, ts))
                break;
            alive++;
        }
        fflush(stdout);
        r->samples += alive;
        if (r->progress)
            mw_progress_show(&r->prog, r->samples, r->detail[0] ? r->detail : NULL);
        if (!alive)
            break;
    }
}

/* At the end, on stderr (stdout may be JSON lines): after a stop signal
 * how long it ran, what it sampled and what the record holds, so an early
 * end is never a silent one; and the figure's verdict in `leak`'s words. */
static void watch_summary(const struct watch_run *r)
{
    if (mw_stop_signal) {
        double ran_s = (double)(mw_now_ms() - r->prog.start_ms) / 1000.0;
        fprintf(stderr, "watch: ended by %s after %.1f s: %lu sample%s",
                mw_stop_name(mw_stop_signal), ran_s, r->samples, r->samples == 1 ? "" : "s");
        if (r->o->record) {
            fprintf(stderr, ", %lu recorded in ", r->recorded);
            mw_text_put(stderr, r->o->record, strlen(r->o->record), 0);
        }
        fputc('\n', stderr);
    }
    if (!r->fig.n)
        return;
    struct mw_trend tr;
    char words[320];
    figure_trend(r, &tr);
    mw_trend_words(&tr, words, sizeof(words));
    if (r->fig_pid)
        fprintf(stderr, "watch: PID %d (%s): %s\n", r->fig_pid, r->fig.series_name, words);
    else
        fprintf(stderr, "watch: system (%s): %s\n", r->fig.series_name, words);
}

int cli_watch(struct mw_ctx *ctx, int argc, char **argv)
{
    struct watch_opts o = {.interval_ms = 5000, .max_size = 10u << 20, .keep = 3};
    struct watch_run r = {.o = &o, .root = &ctx->root};
    int *resolved = NULL;
    size_t nres = 0;
    int ret = watch_options(argc, argv, &o);
    if (ret != MW_EXIT_OK || o.help)
        goto out;
    int rc = mw_targets_resolve(&ctx->root, o.pids, o.npids, o.match, &resolved, &nres);
    if (rc < 0) {
        ret =
            rc == -EINVAL
                ? mw_usage_error("watch", "--match '%s' is not a valid regular expression", o.match)
                : MW_EXIT_FAIL;
        goto out;
    }
    if (!nres && !o.system) {
        mw_err("watch: no process matches %s", o.match);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    r.t = calloc(nres ? nres : 1, sizeof(*r.t));
    if (!r.t) {
        ret = MW_EXIT_FAIL;
        goto out;
    }
    r.nt = nres;
    for (size_t i = 0; i < nres; i++)
        r.t[i].pid = resolved[i];
    r.clk = sysconf(_SC_CLK_TCK);
    marks_init();
    mw_stop_install();
    if (!o.json)
        header_text(&r);
    watch_loop(&r);
    mw_progress_clear(&r.prog);
    watch_summary(&r);
    ret = r.ret;
    if (!r.samples && ret == MW_EXIT_OK && !mw_stop_signal)
        ret = MW_EXIT_FAIL; /* nothing could be sampled */
out:
    free(o.pids);
    free(resolved);
    free(r.t);
    mw_series_free(&r.fig);
    return ret;
}
