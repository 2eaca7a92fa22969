/* memwarden report: one self-contained HTML page from what memwarden
 * records — a watch/run/soak record, a daemon kill history, one snapshot
 * or two (compared), a log `analyze` reads. Each input is read by the
 * module that owns its format (model/sample, lmk/history, model/snapshot's
 * tree with the proc readers, analysis/logparse); cli/report_html draws. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis/leakcore.h"
#include "analysis/logparse.h"
#include "base/safeopen.h"
#include "cli/cli.h"
#include "cli/report_html.h"
#include "lmk/history.h"
#include "model/sample.h"
#include "model/verdict.h"

/* The largest input read whole (a week of 1 s samples is ~100 MiB: such a
 * record is read by mw_record_read, which streams; this bounds the sniff
 * and the kill histories and logs). */
#define REPORT_INPUT_MAX (256u << 20)

static const struct mw_opt report_opts[] = {
    {"output", 'o', MW_OPT_SHORT, "FILE", "where the HTML goes ('-': stdout)", NULL},
    {"title", 't', MW_OPT_SHORT, "TEXT", "the page's title (default \"memwarden report\")", NULL},
    {"stamp", 'S', 0, NULL, "say when the page was generated", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_report_doc = {
    .head = "NAME\n"
            "    memwarden report - one HTML page of memory over time, kills and verdicts\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden report INPUT... -o FILE [--title TEXT] [--stamp]\n"
            "\n"
            "DESCRIPTION\n"
            "    Draws what memwarden recorded into one self-contained HTML file (inline\n"
            "    SVG and CSS, no script, nothing fetched: it opens offline anywhere and\n"
            "    prints). Each INPUT is recognised by its content:\n"
            "      a record ('watch --record', run, soak: JSON lines of samples)\n"
            "        memory over time stacked (used, buff/cache, free), the biggest\n"
            "        processes' RSS with the fitted trend of those that grow, slab and\n"
            "        shmem, and 'memwarden leak --from's verdict sentences on top;\n"
            "      a kill history (the daemon's history_file)\n"
            "        kills as markers (hover: program, reason, RSS, memory freed), PSI\n"
            "        at each kill, a table of kills;\n"
            "      a snapshot directory ('memwarden snapshot'); two of them are compared\n"
            "        field by field, with status's verdict for each;\n"
            "      any other file: a log as 'memwarden analyze' reads it (free(1) output,\n"
            "        free-heap lines), drawn with its trend.\n"
            "    Records and kill histories share one time axis. A summary box in plain\n"
            "    words comes first. Dark and light themes follow the reader's system.\n"
            "    The page is the same for the same inputs (golden-testable) unless\n"
            "    --stamp adds the time it was made. Names and command lines from the\n"
            "    inputs are escaped.\n",
    .opts = report_opts,
    .exit_ok = "written",
    .exit_fail = "an input unreadable or holding nothing to draw, or FILE not written",
    .operands = "@file",
    .examples =
        "    memwarden watch --system --record mem.jsonl -i 5s -n 720\n"
        "    memwarden report mem.jsonl /var/log/memwarden-kills.jsonl -o night.html\n"
        "    memwarden report snap-before snap-after -o diff.html --title \"after update\"\n",
};

struct report_opts {
    const char *out, *title;
    bool stamp, help;
    char **inputs;
    int ninputs;
};

static int report_parse(int argc, char **argv, struct report_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_report_doc)) != -1) {
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case 't':
            o->title = optarg;
            break;
        case 'S':
            o->stamp = true;
            break;
        case 'h':
            o->help = true;
            return 0;
        default:
            return mw_opt_error("report", c, argv);
        }
    }
    o->inputs = argv + optind;
    o->ninputs = argc - optind;
    if (o->ninputs == 0)
        return mw_usage_error("report", "name at least one input (record, kill history, "
                                        "snapshot directory or log)");
    if (!o->out)
        return mw_usage_error("report", "-o FILE is required ('-' for stdout)");
    return 0;
}

/* ---- a record ----------------------------------------------------------- */

static struct rpt_proc *proc_of(struct rpt *r, const struct mw_sample *s)
{
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].pid == s->pid && r->procs[i].starttime == s->starttime)
            return &r->procs[i];
    struct rpt_proc *p = realloc(r->procs, (r->nprocs + 1) * sizeof(*p));
    if (!p)
        return NULL;
    r->procs = p;
    p = &r->procs[r->nprocs++];
    memset(p, 0, sizeof(*p));
    p->pid = s->pid;
    p->starttime = s->starttime;
    snprintf(p->comm, sizeof(p->comm), "%s", s->comm);
    return p;
}

/* The system's totals at S (a system sample, or a process sample's copy). */
static int take_system(struct rpt *r, const struct mw_sample *s, bool kernel)
{
    if (r->used.n && r->used.t[r->used.n - 1] >= s->t_s)
        return 0; /* one point per time: process samples repeat the totals */
    double avail = (double)s->mem_available, cache = (double)s->buff_cache;
    double c = cache < avail ? cache : avail;
    int rc = rpt_xy_push(&r->used, s->t_s, (double)s->mem_used);
    rc |= rpt_xy_push(&r->cache, s->t_s, c);
    rc |= rpt_xy_push(&r->avail_rest, s->t_s, avail - c);
    if (kernel) {
        rc |= rpt_xy_push(&r->slab, s->t_s, (double)s->slab);
        rc |= rpt_xy_push(&r->sunreclaim, s->t_s, (double)s->sunreclaim);
        rc |= rpt_xy_push(&r->shmem, s->t_s, (double)s->shmem);
        rc |= rpt_xy_push(&r->page_tables, s->t_s, (double)s->page_tables);
    }
    return rc ? -ENOMEM : 0;
}

static int by_max_rss(const void *a, const void *b)
{
    const struct rpt_proc *x = a, *y = b;
    if (x->max_rss != y->max_rss)
        return x->max_rss < y->max_rss ? 1 : -1;
    return x->pid - y->pid;
}

/* memwarden leak's own sentences for series S (model: leakcore). */
static void leak_sentences(FILE *f, const struct rpt_xy *xy, bool system, const char *comm, int pid,
                           uint64_t headroom)
{
    struct mw_series s;
    struct mw_trend_params p;
    memset(&s, 0, sizeof(s));
    s.tte_s = -1;
    s.system = system;
    s.pid = pid;
    s.series_name = system ? "used" : "rss";
    snprintf(s.comm, sizeof(s.comm), "%s", comm);
    for (size_t i = 0; i < xy->n; i++)
        if (mw_series_push(&s, xy->t[i] - xy->t[0], xy->v[i]) < 0)
            goto out;
    s.first.t_s = xy->t[0];
    s.last.t_s = xy->t[xy->n - 1];
    s.headroom_bytes = headroom;
    s.headroom_source = "MemAvailable";
    mw_trend_params_default(&p);
    if (mw_series_analyze(&s, &p, NULL) == 0)
        mw_series_print(f, &s);
out:
    mw_series_free(&s);
}

static int read_record(struct rpt *r, const char *path, FILE *sum)
{
    struct mw_record rec = {0};
    int rc = mw_record_read(path, &rec);
    if (rc < 0)
        goto out;
    r->bad_lines += rec.bad_lines;
    bool have_sys = false;
    for (size_t i = 0; i < rec.n; i++)
        have_sys |= rec.s[i].kind == MW_SAMPLE_SYSTEM;
    for (size_t i = 0; i < rec.n && rc == 0; i++) {
        const struct mw_sample *s = &rec.s[i];
        if (s->kind == MW_SAMPLE_SYSTEM) {
            rc = take_system(r, s, true);
        } else if (s->kind == MW_SAMPLE_PROCESS) {
            if (!have_sys && s->mem_total)
                rc = take_system(r, s, false);
            struct rpt_proc *p = proc_of(r, s);
            if (!p || rpt_xy_push(&p->rss, s->t_s, (double)s->rss) < 0)
                rc = -ENOMEM;
            else if ((double)s->rss > p->max_rss)
                p->max_rss = (double)s->rss;
        }
    }
    if (rc < 0)
        goto out;
    if (r->nprocs > 1) /* a system-only record has none: qsort(NULL, 0) is undefined */
        qsort(r->procs, r->nprocs, sizeof(*r->procs), by_max_rss);
    uint64_t headroom = rec.n ? rec.s[rec.n - 1].mem_available : 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        rpt_trend_fit(&r->procs[i].rss, 0, &r->procs[i].trend);
        if (i < RPT_MAX_PROCS && r->procs[i].rss.n >= 3)
            leak_sentences(sum, &r->procs[i].rss, false, r->procs[i].comm, r->procs[i].pid,
                           headroom);
    }
    rpt_trend_fit(&r->used, 0, &r->used_trend);
    /* the kernel's parts on the system's scale, as leak judges them */
    double band = r->used_trend.have ? r->used_trend.tr.band_bytes : 0;
    rpt_trend_fit(&r->slab, band, &r->slab_trend);
    rpt_trend_fit(&r->sunreclaim, band, &r->sunreclaim_trend);
    rpt_trend_fit(&r->shmem, band, &r->shmem_trend);
    if (have_sys && r->used.n >= 3)
        leak_sentences(sum, &r->used, true, "", 0, headroom);
out:
    mw_record_free(&rec);
    return rc;
}

/* ---- a kill history, a log, a snapshot --------------------------------- */

/* Reads the kill lines of BUF into R. Returns how many. */
static long read_history(struct rpt *r, const char *buf, size_t len)
{
    long n = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - (buf + off)) : len - off;
        struct mw_kill_entry e;
        if (mw_kill_parse_json(buf + off, ll, &e) == 0) {
            struct rpt_kill *k = realloc(r->kills, (r->nkills + 1) * sizeof(*k));
            if (!k)
                return -ENOMEM;
            r->kills = k;
            k = &r->kills[r->nkills++];
            *k = (struct rpt_kill){.t = e.time_s,
                                   .pid = e.pid,
                                   .dry_run = e.dry_run,
                                   .freed = e.freed,
                                   .rss = e.rss,
                                   .psi_some = e.psi_some,
                                   .psi_full = e.psi_full};
            snprintf(k->prog, sizeof(k->prog), "%s", e.prog);
            snprintf(k->reason, sizeof(k->reason), "%s", e.reason);
            n++;
        }
        off += ll + 1;
    }
    return n;
}

static int read_log(struct rpt *r, const char *path, const char *buf, size_t len)
{
    struct mw_log_opts o = {.format = MW_LOG_AUTO, .interval_s = 1};
    struct mw_log_series s;
    int rc = mw_log_parse_buf(buf, len, &o, &s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < s.n && rc == 0; i++)
        rc = rpt_xy_push(&r->log_free, s.p[i].t_s, s.p[i].bytes);
    r->have_log = true;
    r->log_available = s.available;
    snprintf(r->log_name, sizeof(r->log_name), "%s", path);
    /* analyze's verdict (its default danger line), drawn on the log's values */
    struct mw_log_analysis a;
    if (rc == 0 && s.n >= 3 && mw_log_analyze(&s, 200 << 10, 0, &a) == 0) {
        r->log_series = a.series;
        rpt_trend_line(&r->log_free, &a.trend, a.slope_bytes_per_hour / 3600.0, &r->log_trend);
    }
    mw_log_series_free(&s);
    return rc;
}

static int read_snapshot(struct rpt *r, const char *path)
{
    if (r->nsnap == 2)
        return -E2BIG;
    struct rpt_snap *s = &r->snap[r->nsnap];
    struct mw_root root;
    int rc = mw_root_open(&root, path);
    if (rc < 0)
        return rc;
    rc = mw_meminfo_read(&root, &s->mi, NULL);
    if (rc == 0) {
        s->have_psi = mw_psi_read(&root, "/proc/pressure/memory", &s->psi, NULL) == 0;
        struct mw_free fr;
        struct mw_cache_split cs;
        struct mw_verdict_input in;
        struct mw_verdict v;
        mw_free_compute(&s->mi, 0, &fr);
        mw_cache_split_compute(&s->mi, &cs);
        mw_verdict_input_machine(&s->mi, &fr, &cs, s->have_psi ? &s->psi : NULL, &in);
        mw_verdict_compute(&in, &v);
        snprintf(s->verdict, sizeof(s->verdict), "%s: %.200s", mw_level_name(v.level), v.text);
        snprintf(s->name, sizeof(s->name), "%s", path);
        r->nsnap++;
    }
    mw_root_close(&root);
    return rc;
}

char rpt_sniff(const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len && (buf[off] == '\n' || buf[off] == '\r' || buf[off] == ' '))
        off++;
    const char *nl = memchr(buf + off, '\n', len - off);
    size_t ll = nl ? (size_t)(nl - (buf + off)) : len - off;
    struct mw_kill_entry e;
    if (mw_kill_parse_json(buf + off, ll, &e) == 0)
        return 'k';
    struct mw_record one = {0};
    char kind = mw_record_parse_line(&one, buf + off, ll) == 0 ? 'r' : 'l';
    mw_record_free(&one);
    return kind;
}

/* Reads input PATH into R, by what it holds. Returns 0 or -errno (said). */
static int read_input(struct rpt *r, const char *path, FILE *sum)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        mw_err("report: %s: %s", path, mw_strerror(errno));
        return -errno;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = read_snapshot(r, path);
        if (rc < 0)
            mw_err("report: %s: %s", path,
                   rc == -E2BIG ? "at most two snapshots (they are compared)"
                                : "not a snapshot directory (no readable proc/meminfo)");
        return rc;
    }
    char *buf;
    size_t len;
    rc = mw_read_file_at(AT_FDCWD, path, 0, REPORT_INPUT_MAX, &buf, &len);
    if (rc < 0) {
        mw_err("report: %s: %s", path, mw_strerror(-rc));
        return rc;
    }
    char kind = rpt_sniff(buf, len);
    if (kind == 'k') {
        long n = read_history(r, buf, len);
        rc = n < 0 ? (int)n : 0;
    } else if (kind == 'r') {
        rc = read_record(r, path, sum);
    } else {
        rc = read_log(r, path, buf, len);
        if (rc == -ENODATA)
            mw_err("report: %s: neither a record, a kill history nor a log memwarden "
                   "analyze reads",
                   path);
    }
    free(buf);
    if (rc < 0 && rc != -ENODATA)
        mw_err("report: %s: %s", path, mw_strerror(-rc));
    return rc;
}

static void report_free(struct rpt *r)
{
    struct rpt_xy *xs[] = {&r->used,       &r->cache, &r->avail_rest,  &r->slab,
                           &r->sunreclaim, &r->shmem, &r->page_tables, &r->log_free};
    for (size_t i = 0; i < MW_ARRAY_SIZE(xs); i++)
        rpt_xy_free(xs[i]);
    for (size_t i = 0; i < r->nprocs; i++)
        rpt_xy_free(&r->procs[i].rss);
    free(r->procs);
    free(r->kills);
    free(r->summary);
}

static int by_time(const void *a, const void *b)
{
    const struct rpt_kill *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t ? 1 : x->pid - y->pid;
}

static int report_write(const struct report_opts *o, const struct rpt *r)
{
    if (strcmp(o->out, "-") == 0) {
        rpt_render_html(stdout, r);
        if (ferror(stdout) || fflush(stdout) != 0) {
            mw_err("report: writing stdout failed");
            return MW_EXIT_FAIL;
        }
        return MW_EXIT_OK;
    }
    /* a new file beside FILE, renamed over it: a link planted at FILE is
     * replaced, never written through */
    struct mw_out out;
    int rc = mw_out_begin(AT_FDCWD, o->out, 0666, &out);
    if (rc == 0) {
        rpt_render_html(out.f, r);
        rc = mw_out_commit(&out);
    }
    if (rc < 0) {
        mw_err("report: cannot write %s: %s", o->out, mw_out_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}

int cli_report(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    struct report_opts o = {.title = "memwarden report"};
    int rc = report_parse(argc, argv, &o);
    if (rc != 0 || o.help) {
        if (o.help)
            mw_help(stdout, &cli_report_doc);
        return rc;
    }
    struct rpt r;
    memset(&r, 0, sizeof(r));
    r.title = o.title;
    r.inputs = (const char *const *)o.inputs;
    r.ninputs = o.ninputs;
    if (o.stamp) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(r.stamp, sizeof(r.stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    size_t sumlen = 0;
    FILE *sum = open_memstream(&r.summary, &sumlen);
    int ret = MW_EXIT_OK;
    for (int i = 0; i < o.ninputs && ret == MW_EXIT_OK; i++)
        if (read_input(&r, o.inputs[i], sum) < 0)
            ret = MW_EXIT_FAIL;
    if (sum)
        fclose(sum);
    if (ret == MW_EXIT_OK && !r.used.n && !r.nprocs && !r.nkills && !r.have_log && !r.nsnap) {
        mw_err("report: nothing to draw in the inputs");
        ret = MW_EXIT_FAIL;
    }
    if (ret == MW_EXIT_OK) {
        if (r.nkills > 1)
            qsort(r.kills, r.nkills, sizeof(*r.kills), by_time);
        ret = report_write(&o, &r);
    }
    report_free(&r);
    return ret;
}
