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

/* A cache "grows" when it gained at least this much... */
#define GROW_MIN_BYTES (1u << 20)
/* ...and at least this share of what it held. */
#define GROW_MIN_PCT 10.0

static void slab_usage(FILE *f)
{
    fprintf(f, "NAME\n"
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
               "    --record' file. Caches that grew by at least 1 MiB and 10 %% get advice:\n"
               "    dentry/inode growth means a program creates (and deletes) many files\n"
               "    (the lmkd seed's ageing test: open, write, close all day); raising\n"
               "    vm.vfs_cache_pressure makes reclaim prefer them; 'echo 2 >\n"
               "    /proc/sys/vm/drop_caches' frees them once, as a one-off, not a fix.\n"
               "\n"
               "OPTIONS\n"
               "    -n, --top N          caches to list (default 15)\n"
               "    -i, --interval D     sample twice, D apart, and show growth\n"
               "    -f, --from FILE      growth over a record (first vs last system sample)\n"
               "        --json           machine-readable output (bytes, seconds)\n"
               "    -h, --help           this text\n"
               "\n"
               "EXIT STATUS\n"
               "    0 done, 1 no slab data readable, 2 usage error.\n"
               "\n"
               "EXAMPLES\n"
               "    memwarden slab\n"
               "    memwarden slab --interval 10m --top 5\n"
               "    memwarden slab --from /var/log/mem.jsonl\n");
}

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

int cli_slab(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 'n'},  {"interval", required_argument, NULL, 'i'},
        {"from", required_argument, NULL, 'f'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {0},
    };
    unsigned long top = 15;
    uint64_t interval_ms = 0;
    const char *from = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:i:f:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (mw_opt_uint("--top", optarg, 1, 100000, &top) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'i':
            if (mw_opt_duration_ms("--interval", optarg, &interval_ms) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'f':
            from = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            slab_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_usage_error("slab", "unknown option");
        }
    }
    if (optind < argc)
        return mw_usage_error("slab", "unexpected argument '%s'", argv[optind]);
    if (from && interval_ms)
        return mw_usage_error("slab", "--interval and --from do not go together");

    struct mw_slab_set a = {0}, b = {0};
    double span_s = 0;
    bool growth = from || interval_ms;
    int rc, ret = MW_EXIT_OK;
    unsigned bad = 0;
    if (from) {
        struct mw_record rec = {0};
        rc = mw_record_read(from, &rec);
        const struct mw_sample *first = NULL, *last = NULL;
        for (size_t i = 0; rc == 0 && i < rec.n; i++)
            if (rec.s[i].kind == MW_SAMPLE_SYSTEM && rec.s[i].nslab) {
                if (!first)
                    first = &rec.s[i];
                last = &rec.s[i];
            }
        bad = rec.bad_lines;
        if (rc < 0 || !first) {
            mw_err("slab: %s: %s", from,
                   rc < 0 ? strerror(-rc) : "no system sample with slab caches in it");
            mw_record_free(&rec);
            return MW_EXIT_FAIL;
        }
        mw_sample_slab_set(&rec, first, &a);
        mw_sample_slab_set(&rec, last, &b);
        span_s = last->t_s - first->t_s;
        mw_record_free(&rec);
        if (!a.c || !b.c) {
            mw_slab_set_free(&a);
            mw_slab_set_free(&b);
            return MW_EXIT_FAIL;
        }
    } else {
        rc = mw_slab_read(&ctx->root, &a);
        if (rc < 0) {
            mw_err("slab: cannot read %s/proc/slabinfo nor /sys/kernel/slab: %s%s",
                   strcmp(ctx->root.path, "/") ? ctx->root.path : "", strerror(-rc),
                   rc == -EACCES || rc == -EPERM ? " (both are root-only here: run as root)" : "");
            return MW_EXIT_FAIL;
        }
        if (interval_ms) {
            uint64_t t0 = mw_now_ms();
            mw_sleep_until_ms(mw_now_ms() + (interval_ms), NULL);
            rc = mw_slab_read(&ctx->root, &b);
            span_s = (double)(mw_now_ms() - t0) / 1000.0;
            if (rc < 0) {
                mw_err("slab: second sample: %s", strerror(-rc));
                mw_slab_set_free(&a);
                return MW_EXIT_FAIL;
            }
        }
    }
    struct mw_slab_set *cur = growth ? &b : &a;
    struct mw_meminfo mi;
    bool have_mi = !from && mw_meminfo_read(&ctx->root, &mi, NULL) == 0;
    struct mw_slab_delta *d = NULL;
    size_t nd = 0;
    if (growth && mw_slab_diff(&a, &b, &d, &nd) < 0) {
        ret = MW_EXIT_FAIL;
        goto out;
    }
    mw_slab_sort_by_size(cur);
    uint64_t total = mw_slab_total_bytes(cur);
    char s1[32], s2[32], s3[32];
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "source", from ? "record" : source_name(cur));
        mw_json_u64(&j, "total_bytes", total);
        if (have_mi) {
            mw_json_u64(&j, "sreclaimable_bytes", mw_meminfo_bytes(&mi, MI_SRECLAIMABLE));
            mw_json_u64(&j, "sunreclaim_bytes", mw_meminfo_bytes(&mi, MI_SUNRECLAIM));
        }
        mw_json_u64(&j, "skipped_lines", cur->bad_lines + bad);
        mw_json_array_begin(&j, "caches");
        for (size_t i = 0; i < cur->n && i < top; i++) {
            const struct mw_slab_cache *x = &cur->c[i];
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "name", x->name);
            mw_json_u64(&j, "size_bytes", x->size_bytes);
            if (!from) {
                mw_json_u64(&j, "active_objs", x->active_objs);
                mw_json_u64(&j, "num_objs", x->num_objs);
                mw_json_u64(&j, "objsize_bytes", x->objsize_bytes);
            }
            if (x->reclaimable >= 0)
                mw_json_bool(&j, "reclaimable", x->reclaimable);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        if (growth) {
            mw_json_fixed(&j, "span_s", span_s, 3);
            mw_json_array_begin(&j, "growth");
            for (size_t i = 0; i < nd && i < top; i++) {
                mw_json_object_begin(&j, NULL);
                mw_json_str(&j, "name", d[i].name);
                mw_json_u64(&j, "before_bytes", d[i].before_bytes);
                mw_json_u64(&j, "after_bytes", d[i].after_bytes);
                mw_json_i64(&j, "delta_bytes", d[i].delta_bytes);
                if (!from)
                    mw_json_i64(&j, "delta_objs", d[i].delta_objs);
                if (span_s > 0)
                    mw_json_fixed(&j, "bytes_per_hour", (double)d[i].delta_bytes / span_s * 3600,
                                  0);
                mw_json_bool(&j, "growing", grows(&d[i]));
                if (grows(&d[i]))
                    mw_json_str(&j, "advice", mw_slab_advice(d[i].name));
                mw_json_object_end(&j);
            }
            mw_json_array_end(&j);
        }
        mw_json_object_end(&j);
        mw_json_finish(&j);
        goto out;
    }
    printf("Slab caches: %s in %zu caches (from %s)", mw_fmt_size(s1, sizeof(s1), total), cur->n,
           from ? from : source_name(cur));
    if (have_mi)
        printf("; SReclaimable %s, SUnreclaim %s",
               mw_fmt_size(s2, sizeof(s2), mw_meminfo_bytes(&mi, MI_SRECLAIMABLE)),
               mw_fmt_size(s3, sizeof(s3), mw_meminfo_bytes(&mi, MI_SUNRECLAIM)));
    printf("\n");
    if (cur->bad_lines + bad)
        printf("(skipped %u entr%s that did not parse)\n", cur->bad_lines + bad,
               cur->bad_lines + bad == 1 ? "y" : "ies");
    if (!growth) {
        printf("\n%-28s %10s %12s %10s %8s\n", "cache", "size", "objects", "obj size", "use %");
        for (size_t i = 0; i < cur->n && i < top; i++) {
            const struct mw_slab_cache *x = &cur->c[i];
            printf("%-28.28s %10s %12llu %10llu %7.0f%%\n", x->name,
                   mw_fmt_size(s1, sizeof(s1), x->size_bytes), (unsigned long long)x->num_objs,
                   (unsigned long long)x->objsize_bytes, mw_pct(x->active_objs, x->num_objs));
        }
        goto out;
    }
    printf("Growth over %.1f s:\n\n%-28s %10s %10s %11s %14s\n", span_s, "cache", "before", "after",
           "change", "per hour");
    size_t shown = 0;
    for (size_t i = 0; i < nd && shown < top; i++, shown++) {
        char r[40] = "-";
        if (span_s > 0) {
            double ph = (double)d[i].delta_bytes / span_s * 3600;
            if (ph > 9e18)
                ph = 9e18;
            if (ph < -9e18)
                ph = -9e18;
            mw_fmt_size_delta(r, sizeof(r), (int64_t)ph);
        }
        printf("%-28.28s %10s %10s %11s %14s\n", d[i].name,
               mw_fmt_size(s1, sizeof(s1), d[i].before_bytes),
               mw_fmt_size(s2, sizeof(s2), d[i].after_bytes),
               mw_fmt_size_delta(s3, sizeof(s3), d[i].delta_bytes), r);
    }
    bool any = false;
    for (size_t i = 0; i < nd; i++) {
        if (!grows(&d[i]))
            continue;
        if (!any)
            printf("\nGrowing:\n");
        any = true;
        printf("  %s %s: %s\n", d[i].name, mw_fmt_size_delta(s1, sizeof(s1), d[i].delta_bytes),
               mw_slab_advice(d[i].name));
    }
    if (!any)
        printf("\nNo cache grew by 1 MiB and 10 %% or more.\n");
out:
    free(d);
    mw_slab_set_free(&a);
    mw_slab_set_free(&b);
    return ret;
}
