/* memwarden slab: the kernel's slab caches — the biggest, the ones that
 * grow (between two samples or over a record), and what to do about them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "base/json.h"
#include "proc/meminfo.h"
#include "model/sample.h"
#include "proc/slab.h"
#include "base/text.h"
#include "cli/progress.h"

/* A cache "grows" when it gained at least this much... */
#define GROW_MIN_BYTES (1u << 20)
/* ...and at least this share of what it held. */
#define GROW_MIN_PCT 10.0

static const struct mw_opt slab_opts[] = {
    {"top", 'n', MW_OPT_SHORT, "N", "caches to list (default 15)", NULL},
    {"interval", 'i', MW_OPT_SHORT, "D", "sample twice, D apart, and show growth", NULL},
    {"from", 'f', MW_OPT_SHORT, "FILE", "growth over a record (first vs last system sample)", NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "machine-readable output (bytes, seconds)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_slab_doc = {
    .head = "NAME\n"
            "    memwarden slab - kernel slab caches: the biggest, the growing, what to do\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden slab [--top N] [--interval D | --from FILE] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    Lists the biggest slab caches from /proc/slabinfo (or /sys/kernel/slab when\n"
            "    slabinfo is unreadable) with SReclaimable/SUnreclaim from /proc/meminfo.\n"
            "    With --interval it samples twice, D apart, and sorts by growth; with\n"
            "    --from it compares the first and last system samples of a 'watch --system\n"
            "    --record' file. Caches that grew by at least 1 MiB and 10 % get advice:\n"
            "    dentry/inode growth means a program creates (and deletes) many files\n"
            "    (the lmkd seed's ageing test: open, write, close all day); raising\n"
            "    vm.vfs_cache_pressure makes reclaim prefer them; 'echo 2 >\n"
            "    /proc/sys/vm/drop_caches' frees them once, as a one-off, not a fix.\n"
            "    On a terminal --interval shows a progress line on stderr; Ctrl-C or\n"
            "    SIGTERM ends the wait early and the growth is shown over the time\n"
            "    waited (marked as ended early).\n",
    .opts = slab_opts,
    .exit_ok = "done (also when Ctrl-C ends --interval early)",
    .exit_fail = "no slab data readable",
    .examples = "    memwarden slab\n"
                "    memwarden slab --interval 10m --top 5\n"
                "    memwarden slab --from /var/log/mem.jsonl\n",
};

static bool grows(const struct mw_slab_delta *d)
{
    return d->delta_bytes >= (int64_t)GROW_MIN_BYTES &&
           (d->before_bytes == 0 ||
            (double)d->delta_bytes >= (double)d->before_bytes * GROW_MIN_PCT / 100.0);
}

static const char *source_name(const struct mw_slab_set *s)
{
    return s->source == MW_SLAB_SYSFS ? "/sys/kernel/slab" : "/proc/slabinfo";
}

struct slab_opts {
    unsigned long top;
    uint64_t interval_ms;
    const char *from; /* a record to read instead of the live tree */
    bool json;
    bool help;
};

/* Everything both renderers show, gathered once. */
struct slab_view {
    struct mw_slab_set a, b; /* first and (with growth) last sample */
    struct mw_slab_set *cur; /* the sample the size table shows */
    bool growth;             /* --interval or --from: a, b and d are set */
    double span_s;           /* time between a and b */
    unsigned bad;            /* record lines that did not parse */
    bool have_mi;            /* SReclaimable/SUnreclaim below are known */
    uint64_t sreclaimable, sunreclaim;
    struct mw_slab_delta *d; /* growth, sorted by |change| */
    size_t nd;
    int stopped_by;   /* --interval cut short by this signal, 0 if not */
    double planned_s; /* the --interval asked for */
};

static void slab_view_free(struct slab_view *v)
{
    free(v->d);
    mw_slab_set_free(&v->a);
    mw_slab_set_free(&v->b);
}

/* Parses the command line into O. Returns MW_EXIT_OK to go on (O->help
 * set: the usage was printed) or MW_EXIT_USAGE. */
static int slab_options(int argc, char **argv, struct slab_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_slab_doc)) != -1) {
        switch (c) {
        case 'n':
            if (mw_opt_uint("--top", optarg, 1, 100000, &o->top) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'i':
            if (mw_opt_duration_ms("--interval", optarg, &o->interval_ms) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_slab_doc);
            o->help = true;
            return MW_EXIT_OK;
        default:
            return mw_opt_error("slab", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("slab", "unexpected argument '%s'", argv[optind]);
    if (o->from && o->interval_ms)
        return mw_usage_error("slab", "--interval and --from do not go together");
    return MW_EXIT_OK;
}

/* The first and last system samples with slab caches in the record FROM
 * into V->a and V->b. Returns 0 or -1 (said on stderr). */
static int gather_record(const char *from, struct slab_view *v)
{
    struct mw_record rec = {0};
    int rc = mw_record_read(from, &rec);
    const struct mw_sample *first = NULL, *last = NULL;
    for (size_t i = 0; rc == 0 && i < rec.n; i++)
        if (rec.s[i].kind == MW_SAMPLE_SYSTEM && rec.s[i].nslab) {
            if (!first)
                first = &rec.s[i];
            last = &rec.s[i];
        }
    v->bad = rec.bad_lines;
    if (rc < 0 || !first) {
        mw_err("slab: %s: %s", from,
               rc < 0 ? mw_strerror(-rc) : "no system sample with slab caches in it");
        mw_record_free(&rec);
        return -1;
    }
    mw_sample_slab_set(&rec, first, &v->a);
    mw_sample_slab_set(&rec, last, &v->b);
    v->span_s = last->t_s - first->t_s;
    mw_record_free(&rec);
    return v->a.c && v->b.c ? 0 : -1;
}

/* Slab now (meminfo) against START, for the progress line. */
static void slab_so_far(const struct mw_root *root, uint64_t start, char *buf, size_t cap)
{
    struct mw_meminfo mi;
    char d[32];
    if (mw_meminfo_read(root, &mi, NULL) < 0) {
        buf[0] = 0;
        return;
    }
    uint64_t now = mw_meminfo_bytes(&mi, MI_SLAB);
    snprintf(buf, cap, "Slab %s so far",
             mw_fmt_size_delta(d, sizeof(d), (int64_t)now - (int64_t)start));
}

/* Waits INTERVAL_MS, or until SIGINT/SIGTERM, with a progress line on a
 * terminal (Slab's change so far). Returns the stop signal, 0 if none. */
static int wait_interval(const struct mw_root *root, uint64_t interval_ms)
{
    struct mw_progress p;
    struct mw_meminfo mi;
    uint64_t start = mw_meminfo_read(root, &mi, NULL) == 0 ? mw_meminfo_bytes(&mi, MI_SLAB) : 0;
    char detail[64] = "";
    mw_progress_init(&p, interval_ms);
    mw_progress_show(&p, 1, NULL);
    uint64_t due = p.start_ms + interval_ms;
    while (mw_progress_sleep(&p, due < mw_now_ms() + 5000 ? due : mw_now_ms() + 5000, 1,
                             detail[0] ? detail : NULL)) {
        if (mw_now_ms() >= due)
            break;
        if (p.tty && start)
            slab_so_far(root, start, detail, sizeof(detail));
    }
    mw_progress_clear(&p);
    return mw_stop_signal;
}

/* One sample of the live tree into V->a, and with INTERVAL_MS a second
 * one into V->b (sooner when SIGINT or SIGTERM ends the wait: the growth
 * is then over the time waited). Returns 0 or -1 (said on stderr). */
static int gather_live(const struct mw_root *root, uint64_t interval_ms, struct slab_view *v)
{
    if (interval_ms)
        mw_stop_install();
    int rc = mw_slab_read(root, &v->a);
    if (rc < 0) {
        mw_err("slab: cannot read %s/proc/slabinfo nor /sys/kernel/slab: %s%s",
               strcmp(root->path, "/") ? root->path : "", mw_strerror(-rc),
               rc == -EACCES || rc == -EPERM ? " (both are root-only here: run as root)" : "");
        return -1;
    }
    if (!interval_ms)
        return 0;
    uint64_t t0 = mw_now_ms();
    v->planned_s = (double)interval_ms / 1000.0;
    v->stopped_by = wait_interval(root, interval_ms);
    rc = mw_slab_read(root, &v->b);
    v->span_s = (double)(mw_now_ms() - t0) / 1000.0;
    if (rc < 0) {
        mw_err("slab: second sample: %s", mw_strerror(-rc));
        return -1;
    }
    return 0;
}

/* Gathers what O asks for into V (zeroed by the caller). Returns
 * MW_EXIT_OK or MW_EXIT_FAIL. */
static int slab_gather(const struct mw_root *root, const struct slab_opts *o, struct slab_view *v)
{
    v->growth = o->from || o->interval_ms;
    int rc = o->from ? gather_record(o->from, v) : gather_live(root, o->interval_ms, v);
    if (rc < 0)
        return MW_EXIT_FAIL;
    v->cur = v->growth ? &v->b : &v->a;
    struct mw_meminfo mi;
    v->have_mi = !o->from && mw_meminfo_read(root, &mi, NULL) == 0;
    if (v->have_mi) {
        v->sreclaimable = mw_meminfo_bytes(&mi, MI_SRECLAIMABLE);
        v->sunreclaim = mw_meminfo_bytes(&mi, MI_SUNRECLAIM);
    }
    if (v->growth && mw_slab_diff(&v->a, &v->b, &v->d, &v->nd) < 0)
        return MW_EXIT_FAIL;
    mw_slab_sort_by_size(v->cur);
    return MW_EXIT_OK;
}

/* Bytes per hour at the change D over SPAN_S (> 0), clamped to int64. */
static int64_t per_hour(int64_t d, double span_s)
{
    double ph = (double)d / span_s * 3600;
    if (ph > 9e18)
        ph = 9e18;
    if (ph < -9e18)
        ph = -9e18;
    return (int64_t)ph;
}

static void render_json(const struct slab_opts *o, const struct slab_view *v)
{
    const struct mw_slab_set *cur = v->cur;
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "source", o->from ? "record" : source_name(cur));
    mw_json_u64(&j, "total_bytes", mw_slab_total_bytes(cur));
    if (v->have_mi) {
        mw_json_u64(&j, "sreclaimable_bytes", v->sreclaimable);
        mw_json_u64(&j, "sunreclaim_bytes", v->sunreclaim);
    }
    mw_json_u64(&j, "skipped_lines", cur->bad_lines + v->bad);
    mw_json_array_begin(&j, "caches");
    for (size_t i = 0; i < cur->n && i < o->top; i++) {
        const struct mw_slab_cache *x = &cur->c[i];
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "name", x->name);
        mw_json_u64(&j, "size_bytes", x->size_bytes);
        if (!o->from) {
            mw_json_u64(&j, "active_objs", x->active_objs);
            mw_json_u64(&j, "num_objs", x->num_objs);
            mw_json_u64(&j, "objsize_bytes", x->objsize_bytes);
        }
        if (x->reclaimable >= 0)
            mw_json_bool(&j, "reclaimable", x->reclaimable);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    if (v->growth) {
        mw_json_fixed(&j, "span_s", v->span_s, 3);
        if (v->stopped_by) {
            mw_json_bool(&j, "ended_early", true);
            mw_json_str(&j, "ended_by", mw_stop_name(v->stopped_by));
            mw_json_fixed(&j, "planned_s", v->planned_s, 3);
        }
        mw_json_array_begin(&j, "growth");
        for (size_t i = 0; i < v->nd && i < o->top; i++) {
            const struct mw_slab_delta *d = &v->d[i];
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "name", d->name);
            mw_json_u64(&j, "before_bytes", d->before_bytes);
            mw_json_u64(&j, "after_bytes", d->after_bytes);
            mw_json_i64(&j, "delta_bytes", d->delta_bytes);
            if (!o->from)
                mw_json_i64(&j, "delta_objs", d->delta_objs);
            if (v->span_s > 0)
                mw_json_fixed(&j, "bytes_per_hour", (double)d->delta_bytes / v->span_s * 3600, 0);
            mw_json_bool(&j, "growing", grows(d));
            if (grows(d))
                mw_json_str(&j, "advice", mw_slab_advice(d->name));
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void render_sizes_text(const struct slab_opts *o, const struct slab_view *v)
{
    char s1[32];
    printf("\n%-28s %10s %12s %10s %8s\n", "cache", "size", "objects", "obj size", "use %");
    for (size_t i = 0; i < v->cur->n && i < o->top; i++) {
        const struct mw_slab_cache *x = &v->cur->c[i];
        mw_text_put_cell(stdout, x->name, 28, true);
        printf(" %10s %12llu %10llu %7.0f%%\n", mw_fmt_size(s1, sizeof(s1), x->size_bytes),
               (unsigned long long)x->num_objs, (unsigned long long)x->objsize_bytes,
               mw_pct(x->active_objs, x->num_objs));
    }
}

static void render_growth_text(const struct slab_opts *o, const struct slab_view *v)
{
    char s1[32], s2[32], s3[32];
    printf("Growth over %.1f s", v->span_s);
    if (v->stopped_by)
        printf(" (ended early by %s; %.1f s planned)", mw_stop_name(v->stopped_by), v->planned_s);
    printf(":\n\n%-28s %10s %10s %11s %14s\n", "cache", "before", "after", "change", "per hour");
    for (size_t i = 0; i < v->nd && i < o->top; i++) {
        const struct mw_slab_delta *d = &v->d[i];
        char r[40] = "-";
        if (v->span_s > 0)
            mw_fmt_size_delta(r, sizeof(r), per_hour(d->delta_bytes, v->span_s));
        mw_text_put_cell(stdout, d->name, 28, true);
        printf(" %10s %10s %11s %14s\n", mw_fmt_size(s1, sizeof(s1), d->before_bytes),
               mw_fmt_size(s2, sizeof(s2), d->after_bytes),
               mw_fmt_size_delta(s3, sizeof(s3), d->delta_bytes), r);
    }
    bool any = false;
    for (size_t i = 0; i < v->nd; i++) {
        if (!grows(&v->d[i]))
            continue;
        if (!any)
            printf("\nGrowing:\n");
        any = true;
        printf("  ");
        mw_text_put(stdout, v->d[i].name, strlen(v->d[i].name), 0);
        printf(" %s: %s\n", mw_fmt_size_delta(s1, sizeof(s1), v->d[i].delta_bytes),
               mw_slab_advice(v->d[i].name));
    }
    if (!any)
        printf("\nNo cache grew by 1 MiB and 10 %% or more.\n");
}

static void render_text(const struct slab_opts *o, const struct slab_view *v)
{
    char s1[32], s2[32], s3[32];
    unsigned bad = v->cur->bad_lines + v->bad;
    printf("Slab caches: %s in %zu caches (from ",
           mw_fmt_size(s1, sizeof(s1), mw_slab_total_bytes(v->cur)), v->cur->n);
    if (o->from)
        mw_text_put(stdout, o->from, strlen(o->from), 0);
    else
        fputs(source_name(v->cur), stdout);
    printf(")");
    if (v->have_mi)
        printf("; SReclaimable %s, SUnreclaim %s", mw_fmt_size(s2, sizeof(s2), v->sreclaimable),
               mw_fmt_size(s3, sizeof(s3), v->sunreclaim));
    printf("\n");
    if (bad)
        printf("(skipped %u entr%s that did not parse)\n", bad, bad == 1 ? "y" : "ies");
    if (v->growth)
        render_growth_text(o, v);
    else
        render_sizes_text(o, v);
}

int cli_slab(struct mw_ctx *ctx, int argc, char **argv)
{
    struct slab_opts o = {.top = 15};
    int ret = slab_options(argc, argv, &o);
    if (ret != MW_EXIT_OK || o.help)
        return ret;
    struct slab_view v = {0};
    ret = slab_gather(&ctx->root, &o, &v);
    if (ret == MW_EXIT_OK) {
        if (o.json)
            render_json(&o, &v);
        else
            render_text(&o, &v);
    }
    slab_view_free(&v);
    return ret;
}
