/* memwarden leak: watch a process (or the system) for a while, or read a
 * record, and say whether its memory is stable, growing (warning) or
 * leaking — and where it grows. */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "analysis/leakcore.h"
#include "proc/procs.h"
#include "model/targets.h"

static void leak_usage(FILE *f)
{
    fprintf(
        f,
        "NAME\n"
        "    memwarden leak - tell a leak from normal behaviour, and say where it grows\n"
        "\n"
        "SYNOPSIS\n"
        "    memwarden leak (-p PID | --match REGEX | --system) [--duration D] [--interval I]\n"
        "    memwarden leak --from FILE [-p PID | --match REGEX | --system]\n"
        "                   [--metric rss|pss|uss] [--warn-rate R] [--leak-rate R] [--band SIZE]\n"
        "                   [--json]\n"
        "\n"
        "DESCRIPTION\n"
        "    Samples memory every INTERVAL for DURATION (or reads a 'memwarden watch\n"
        "    --record' file) and fits a robust trend (Theil-Sen: the median slope of\n"
        "    all sample pairs, so spikes do not move it). The verdict, after the\n"
        "    VisionCore memory guide:\n"
        "      stable   within +-50 MB (per hour of watching; a shorter watch gets its\n"
        "               share, at least 1 MiB), or growing slower than the warning rate;\n"
        "               a sawtooth (grows, then falls back: a garbage-collected heap) and\n"
        "               a step up that then stays flat are stable, with a note\n"
        "      warning  grows faster than 100 MB/h\n"
        "      leak     grows faster than 300 MB/h and never falls back (or its floor\n"
        "               keeps rising under a sawtooth)\n"
        "    For a process, /proc/PID/smaps at the start and the end says where it grew:\n"
        "    [heap], anon mmap, [stack], file-backed mappings, shared memory (/SYSV...,\n"
        "    /dev/shm), named mappings ([anon:NAME]). With --system the kernel is\n"
        "    watched: used memory and the slab total, each slab cache, SUnreclaim,\n"
        "    Shmem, PageTables, /dev/shm and SysV segments: each of SUnreclaim,\n"
        "    SReclaimable, Shmem, PageTables and KernelStack gets its own trend, and the\n"
        "    slab caches that grew are named. The time until memory runs out at the\n"
        "    measured rate is computed against MemAvailable, or against what the\n"
        "    process's memory cgroup limit leaves when that is less.\n"
        "\n"
        "OPTIONS\n"
        "    -p, --pid PID        watch this process (repeatable)\n"
        "    -m, --match REGEX    watch processes whose name or command line matches\n"
        "    -s, --system         watch the system and the kernel\n"
        "    -d, --duration D     how long to watch (default 5m)\n"
        "    -i, --interval I     time between samples (default 5s; 200ms works)\n"
        "    -f, --from FILE      read samples from a record instead (FILE.N rotations too)\n"
        "        --metric M       rss (default), pss or uss\n"
        "        --warn-rate R    warning rate, a size per hour (100M, 100M/h, 2M/m, 5M/s)\n"
        "        --leak-rate R    leak rate (default 300M/h)\n"
        "        --band SIZE      stable band, used as given (default 50M per hour, scaled)\n"
        "        --json           machine-readable output (bytes, seconds)\n"
        "    -h, --help           this text\n"
        "\n"
        "EXIT STATUS\n"
        "    0 stable, 3 warning or leak, 1 failure (nothing to sample), 2 usage error.\n"
        "\n"
        "EXAMPLES\n"
        "    memwarden leak -p 1234 --duration 1h --interval 30s\n"
        "    memwarden leak --match 'python.*main' --duration 10m\n"
        "    memwarden leak --system --duration 2h --interval 1m\n"
        "    memwarden leak --from /var/log/app.mw --json\n");
}

struct leak_opts {
    int *pids;
    size_t npids;
    const char *match;
    bool system;
    uint64_t duration_ms, interval_ms;
    const char *from;
    enum mw_metric metric;
    struct mw_trend_params params;
    bool json;
};

static const char *metric_name(enum mw_metric m)
{
    return m == MW_METRIC_PSS ? "pss" : m == MW_METRIC_USS ? "uss" : "rss";
}

static struct mw_series *add_series(struct mw_series **v, size_t *n)
{
    struct mw_series *p = realloc(*v, (*n + 1) * sizeof(*p));
    if (!p)
        return NULL;
    *v = p;
    memset(&p[*n], 0, sizeof(p[*n]));
    p[*n].tte_s = -1;
    return &p[(*n)++];
}

static void slab_sizes(const struct mw_slab_set *from, struct mw_slab_set *to)
{
    mw_slab_set_free(to);
    to->c = malloc((from->n ? from->n : 1) * sizeof(*to->c));
    if (to->c) {
        memcpy(to->c, from->c, from->n * sizeof(*to->c));
        to->n = from->n;
    }
}

static int live(struct mw_ctx *ctx, struct leak_opts *o, struct mw_series **out, size_t *nout,
                double **slab_v)
{
    struct mw_series *v = NULL;
    size_t n = 0;
    int *pids = NULL;
    size_t npids = 0;
    int rc = mw_targets_resolve(&ctx->root, o->pids, o->npids, o->match, &pids, &npids);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < npids; i++) {
        struct mw_series *s = add_series(&v, &n);
        if (!s) {
            rc = -ENOMEM;
            goto out;
        }
        s->pid = pids[i];
        s->series_name = metric_name(o->metric);
    }
    if (o->system) {
        struct mw_series *s = add_series(&v, &n);
        if (!s) {
            rc = -ENOMEM;
            goto out;
        }
        s->system = true;
        s->series_name = "used";
    }
    if (n == 0) {
        rc = -ESRCH;
        goto out;
    }
    double *sv = NULL;
    size_t nsv = 0;
    uint64_t t0 = mw_now_ms();
    for (uint64_t k = 0;; k++) {
        uint64_t due = t0 + k * o->interval_ms;
        if (due - t0 > o->duration_ms)
            break;
        mw_sleep_until_ms(due, NULL);
        /* slab caches and shared memory are compared first vs last only */
        bool ends = k == 0 || due + o->interval_ms - t0 > o->duration_ms;
        double now = mw_sample_now_s();
        for (size_t i = 0; i < n; i++) {
            struct mw_series *s = &v[i];
            struct mw_sample smp;
            if (s->system) {
                if (mw_sample_system(&ctx->root, now, &smp) < 0)
                    continue;
                struct mw_slab_set slab;
                if (ends && mw_slab_read(&ctx->root, &slab) == 0) {
                    slab_sizes(&slab, s->n == 0 ? &s->slab_first : &s->slab_last);
                    s->have_slab = true;
                    mw_slab_set_free(&slab);
                }
                struct mw_shm_report sh;
                if (ends && mw_shm_scan(&ctx->root, &sh) == 0) {
                    struct mw_shm_report *dst = s->n == 0 ? &s->shm_first : &s->shm_last;
                    mw_shm_report_free(dst);
                    *dst = sh;
                    s->have_shm = true;
                }
                double *nsvp = realloc(sv, (nsv + 1) * sizeof(*sv));
                if (!nsvp) {
                    rc = -ENOMEM;
                    free(sv);
                    goto out;
                }
                sv = nsvp;
                sv[nsv++] = (double)smp.slab;
            } else {
                if (s->exited)
                    continue;
                int e = mw_sample_process(&ctx->root, s->pid, now, &smp);
                if (e < 0) {
                    if (s->n) {
                        s->exited = true;
                        s->exited_at_s = now - s->first.t_s;
                    }
                    continue;
                }
                if (s->n == 0) {
                    s->starttime = smp.starttime;
                    snprintf(s->comm, sizeof(s->comm), "%s", smp.comm);
                    s->have_regions = mw_regions_read(&ctx->root, s->pid, &s->reg_first) == 0;
                } else if (smp.starttime != s->starttime) {
                    s->exited = true; /* the PID was reused */
                    s->exited_at_s = now - s->first.t_s;
                    continue;
                }
            }
            if (s->n == 0)
                s->first = smp;
            s->last = smp;
            double val = s->system ? (double)smp.mem_used : mw_metric_value(&smp, o->metric);
            if (mw_series_push(s, now - s->first.t_s, val) < 0 ||
                (s->system && mw_series_keep(s, &smp) < 0)) {
                rc = -ENOMEM;
                free(sv);
                goto out;
            }
        }
    }
    /* a PID that was never there: say so, keep the others */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].system && v[i].n == 0) {
            mw_err("leak: PID %d: no such process", v[i].pid);
            mw_series_free(&v[i]);
            continue;
        }
        v[kept++] = v[i];
    }
    n = kept;
    if (n == 0) {
        free(sv);
        rc = -ESRCH;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct mw_series *s = &v[i];
        if (s->system)
            s->have_slab = s->have_slab && s->slab_last.c;
        if (s->system || !s->have_regions)
            continue;
        if (s->exited || mw_regions_read(&ctx->root, s->pid, &s->reg_last) < 0) {
            s->have_regions = false;
            mw_regions_free(&s->reg_first);
        }
        s->headroom_bytes = mw_process_headroom(&ctx->root, s->pid, s->last.mem_available,
                                                s->last.mem_total, &s->headroom_source);
    }
    *slab_v = sv;
out:
    free(pids);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            mw_series_free(&v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int from_record(struct mw_ctx *ctx, struct leak_opts *o, struct mw_series **out,
                       size_t *nout, double **slab_v, unsigned *bad)
{
    (void)ctx;
    struct mw_record rec = {0};
    int rc = mw_record_read(o->from, &rec);
    if (rc < 0) {
        mw_record_free(&rec);
        return rc;
    }
    *bad = rec.bad_lines;
    regex_t re;
    bool have_re = false;
    if (o->match) {
        if (regcomp(&re, o->match, REG_EXTENDED | REG_NOSUB) != 0) {
            mw_record_free(&rec);
            return -EINVAL;
        }
        have_re = true;
    }
    bool any_filter = o->npids || o->match || o->system;
    struct mw_series *v = NULL;
    size_t n = 0;
    double *sv = NULL;
    size_t nsv = 0;
    const struct mw_sample *sys_first = NULL, *sys_last = NULL;
    for (size_t i = 0; i < rec.n && rc == 0; i++) {
        const struct mw_sample *smp = &rec.s[i];
        struct mw_series *s = NULL;
        if (smp->kind == MW_SAMPLE_SYSTEM) {
            if (any_filter && !o->system)
                continue;
            for (size_t k = 0; k < n && !s; k++)
                if (v[k].system)
                    s = &v[k];
            if (!s) {
                if (!(s = add_series(&v, &n))) {
                    rc = -ENOMEM;
                    break;
                }
                s->system = true;
                s->series_name = "used";
            }
            if (!sys_first)
                sys_first = smp;
            sys_last = smp;
            double *p = realloc(sv, (nsv + 1) * sizeof(*sv));
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            sv = p;
            sv[nsv++] = (double)smp->slab;
        } else {
            bool want = !any_filter;
            for (size_t k = 0; k < o->npids; k++)
                want = want || o->pids[k] == smp->pid;
            if (have_re && regexec(&re, smp->comm, 0, NULL, 0) == 0)
                want = true;
            if (!want)
                continue;
            for (size_t k = 0; k < n && !s; k++)
                if (!v[k].system && v[k].pid == smp->pid && v[k].starttime == smp->starttime &&
                    !v[k].exited)
                    s = &v[k];
            if (smp->kind == MW_SAMPLE_GONE) {
                if (s) {
                    s->exited = true;
                    s->exited_at_s = smp->t_s - s->first.t_s;
                }
                continue;
            }
            if (!s) {
                if (!(s = add_series(&v, &n))) {
                    rc = -ENOMEM;
                    break;
                }
                s->pid = smp->pid;
                s->starttime = smp->starttime;
                snprintf(s->comm, sizeof(s->comm), "%s", smp->comm);
                s->series_name = metric_name(o->metric);
            }
        }
        if (s->n == 0) {
            s->first = *smp;
            s->first.slab_bytes = NULL;
        }
        s->last = *smp;
        s->last.slab_bytes = NULL;
        double val = s->system ? (double)smp->mem_used : mw_metric_value(smp, o->metric);
        if (mw_series_push(s, smp->t_s - s->first.t_s, val) < 0 ||
            (s->system && mw_series_keep(s, smp) < 0))
            rc = -ENOMEM;
    }
    for (size_t k = 0; k < n && rc == 0; k++) {
        struct mw_series *s = &v[k];
        s->headroom_bytes = s->last.mem_available;
        s->headroom_source = "MemAvailable";
        if (s->system && sys_first && sys_first->nslab && sys_last->nslab) {
            mw_sample_slab_set(&rec, sys_first, &s->slab_first);
            mw_sample_slab_set(&rec, sys_last, &s->slab_last);
            s->have_slab = s->slab_first.c && s->slab_last.c;
        }
    }
    if (have_re)
        regfree(&re);
    mw_record_free(&rec);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            mw_series_free(&v[i]);
        free(v);
        free(sv);
        return rc;
    }
    *out = v;
    *nout = n;
    *slab_v = sv;
    return 0;
}

int cli_leak(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"match", required_argument, NULL, 'm'},
        {"system", no_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'},
        {"interval", required_argument, NULL, 'i'},
        {"from", required_argument, NULL, 'f'},
        {"metric", required_argument, NULL, 'M'},
        {"warn-rate", required_argument, NULL, 'W'},
        {"leak-rate", required_argument, NULL, 'L'},
        {"band", required_argument, NULL, 'B'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct leak_opts o;
    memset(&o, 0, sizeof(o));
    o.duration_ms = 5 * 60 * 1000;
    o.interval_ms = 5000;
    mw_trend_params_default(&o.params);
    int c, ret = MW_EXIT_USAGE;
    unsigned long ul;
    uint64_t u;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:m:sd:i:f:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            if (mw_opt_uint("--pid", optarg, 1, 0x7fffffff, &ul) < 0)
                goto out;
            int *p = realloc(o.pids, (o.npids + 1) * sizeof(*p));
            if (!p) {
                ret = MW_EXIT_FAIL;
                goto out;
            }
            o.pids = p;
            o.pids[o.npids++] = (int)ul;
            break;
        }
        case 'm':
            o.match = optarg;
            break;
        case 's':
            o.system = true;
            break;
        case 'd':
            if (mw_opt_duration_ms("--duration", optarg, &o.duration_ms) < 0)
                goto out;
            break;
        case 'i':
            if (mw_opt_duration_ms("--interval", optarg, &o.interval_ms) < 0)
                goto out;
            if (o.interval_ms == 0) {
                ret = mw_usage_error("leak", "--interval must be more than 0");
                goto out;
            }
            break;
        case 'f':
            o.from = optarg;
            break;
        case 'M':
            if (strcmp(optarg, "rss") == 0)
                o.metric = MW_METRIC_RSS;
            else if (strcmp(optarg, "pss") == 0)
                o.metric = MW_METRIC_PSS;
            else if (strcmp(optarg, "uss") == 0)
                o.metric = MW_METRIC_USS;
            else {
                ret = mw_usage_error("leak", "--metric: '%s' is not rss, pss or uss", optarg);
                goto out;
            }
            break;
        case 'W':
        case 'L':
            if (mw_parse_rate(optarg, c == 'W' ? &o.params.warn_bytes_per_hour
                                               : &o.params.leak_bytes_per_hour) < 0) {
                ret = mw_usage_error("leak", "%s: '%s' is not a rate (100M, 100M/h, 5M/s)",
                                     c == 'W' ? "--warn-rate" : "--leak-rate", optarg);
                goto out;
            }
            break;
        case 'B':
            if (mw_opt_size("--band", optarg, &u) < 0)
                goto out;
            o.params.band_bytes = (double)u;
            o.params.band_fixed = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            leak_usage(stdout);
            ret = MW_EXIT_OK;
            goto out;
        default:
            ret = mw_usage_error("leak", "unknown option");
            goto out;
        }
    }
    if (optind < argc) {
        ret = mw_usage_error("leak", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!o.from && !o.npids && !o.match && !o.system) {
        ret = mw_usage_error("leak", "say what to watch: -p PID, --match REGEX, --system or "
                                     "--from FILE");
        goto out;
    }
    if (o.params.leak_bytes_per_hour < o.params.warn_bytes_per_hour)
        o.params.leak_bytes_per_hour = o.params.warn_bytes_per_hour;
    struct mw_series *v = NULL;
    size_t n = 0;
    double *slab_v = NULL;
    unsigned bad = 0;
    int rc = o.from ? from_record(ctx, &o, &v, &n, &slab_v, &bad) : live(ctx, &o, &v, &n, &slab_v);
    if (rc < 0) {
        if (rc == -ESRCH)
            mw_err("leak: no process to watch%s%s", o.match ? " matches " : "",
                   o.match ? o.match : "");
        else if (rc == -EINVAL && o.match)
            mw_err("leak: --match '%s' is not a valid regular expression", o.match);
        else
            mw_err("leak: %s: %s", o.from ? o.from : "sampling", strerror(-rc));
        ret = rc == -EINVAL ? MW_EXIT_USAGE : MW_EXIT_FAIL;
        goto out;
    }
    if (n == 0) {
        mw_err("leak: %s holds no matching sample%s", o.from ? o.from : "the watch",
               bad ? " (only lines that are not memwarden samples)" : "");
        free(slab_v);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].system)
            v[i].headroom_bytes = v[i].last.mem_available, v[i].headroom_source = "MemAvailable";
        if (mw_series_analyze(&v[i], &o.params, v[i].system ? slab_v : NULL) < 0) {
            mw_err("leak: out of memory");
            ret = MW_EXIT_FAIL;
            break;
        }
        if (v[i].trend.verdict > v[worst].trend.verdict ||
            (v[i].trend.verdict == v[worst].trend.verdict &&
             v[i].trend.slope_bytes_per_hour > v[worst].trend.slope_bytes_per_hour))
            worst = i;
    }
    if (ret != MW_EXIT_FAIL) {
        if (o.json) {
            struct mw_json j;
            mw_json_init(&j, stdout, true);
            mw_json_object_begin(&j, NULL);
            const struct mw_series *w = &v[worst];
            mw_json_str(&j, "verdict", mw_trend_verdict_name(w->trend.verdict));
            mw_json_fixed(&j, "slope_bytes_per_hour", w->trend.slope_bytes_per_hour, 0);
            char ws[256];
            mw_where_summary(w, ws, sizeof(ws));
            mw_json_str(&j, "where_summary", ws);
            mw_json_array_begin(&j, "where");
            for (size_t i = 0; i < w->nwhere; i++) {
                mw_json_object_begin(&j, NULL);
                mw_json_str(&j, "label", w->where[i].label);
                mw_json_str(&j, "kind", w->where[i].kind);
                mw_json_i64(&j, "delta_bytes", w->where[i].delta_bytes);
                mw_json_object_end(&j);
            }
            mw_json_array_end(&j);
            mw_json_u64(&j, "sample_count", w->n);
            mw_json_array_begin(&j, "samples");
            for (size_t i = 0; i < w->n; i++) {
                mw_json_object_begin(&j, NULL);
                mw_json_fixed(&j, "t", w->t[i], 3);
                mw_json_fixed(&j, "bytes", w->v[i], 0);
                mw_json_object_end(&j);
            }
            mw_json_array_end(&j);
            if (o.from)
                mw_json_u64(&j, "skipped_lines", bad);
            mw_json_array_begin(&j, "targets");
            for (size_t i = 0; i < n; i++)
                mw_series_json(&j, NULL, &v[i]);
            mw_json_array_end(&j);
            mw_json_object_end(&j);
            mw_json_finish(&j);
        } else {
            for (size_t i = 0; i < n; i++)
                mw_series_print(stdout, &v[i]);
            if (bad)
                printf("(skipped %u line%s of %s that were not samples)\n", bad,
                       bad == 1 ? "" : "s", o.from);
        }
        ret = v[worst].trend.verdict >= MW_TREND_WARNING ? MW_EXIT_FOUND : MW_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++)
        mw_series_free(&v[i]);
    free(v);
    free(slab_v);
out:
    free(o.pids);
    return ret;
}
