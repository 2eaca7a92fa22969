/* memwarden diff A B: what grew and what shrank between two snapshots
 * (`memwarden snapshot DIR` trees, or any two roots): system fields,
 * processes (matched by PID and start time, then by program), slab
 * caches — each sorted by the size of the change. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "base/json.h"
#include "proc/meminfo.h"
#include "proc/procs.h"
#include "proc/slab.h"
#include "model/snapshot.h"
#include "model/targets.h"

static void diff_usage(FILE *f)
{
    fprintf(f, "NAME\n"
               "    memwarden diff - what grew and what shrank between two snapshots\n"
               "\n"
               "SYNOPSIS\n"
               "    memwarden diff A B [--top N] [--all] [--json]\n"
               "\n"
               "DESCRIPTION\n"
               "    A and B are directories captured by 'memwarden snapshot' (or any two\n"
               "    roots with /proc files, '/' included). Compares:\n"
               "      system     every /proc/meminfo field, and the free(1) view\n"
               "      processes  RSS (and PSS where smaps_rollup was captured) of each process:\n"
               "                 the same PID with the same start time is the same process;\n"
               "                 the rest are paired by program name (a restart: new PID),\n"
               "                 what remains is new (only in B) or gone (only in A)\n"
               "      slab       each slab cache (from proc/slabinfo)\n"
               "    Each list is sorted by the size of the change; unchanged entries are left\n"
               "    out. The VisionCore guide's before/after check: after a program stops,\n"
               "    'available' should come back near where it was; buff/cache may stay high\n"
               "    (that is normal).\n"
               "\n"
               "OPTIONS\n"
               "    -n, --top N   entries per list (default 15)\n"
               "    -a, --all     every changed entry\n"
               "        --json    machine-readable output (bytes, seconds)\n"
               "    -h, --help    this text\n"
               "\n"
               "EXIT STATUS\n"
               "    0 compared, 1 a snapshot is unreadable, 2 usage error.\n"
               "\n"
               "EXAMPLES\n"
               "    memwarden snapshot /tmp/before; run-the-app; memwarden snapshot /tmp/after\n"
               "    memwarden diff /tmp/before /tmp/after\n"
               "    memwarden diff /tmp/before / --json\n");
}

struct proc {
    int pid;
    uint64_t starttime;
    char comm[64];
    char prog[64];           /* basename of argv[0], else comm */
    uint64_t rss, pss, swap; /* bytes */
    bool have_pss, matched;
};

struct procs {
    struct proc *p;
    size_t n;
};

static void prog_name(const struct mw_root *root, struct proc *p)
{
    char cmd[512];
    snprintf(p->prog, sizeof(p->prog), "%s", p->comm);
    if (mw_targets_cmdline(root, p->pid, cmd, sizeof(cmd)) <= 0)
        return;
    char *sp = strchr(cmd, ' ');
    if (sp)
        *sp = '\0';
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    if (*base)
        snprintf(p->prog, sizeof(p->prog), "%.63s", base);
}

static int read_procs(const struct mw_root *root, struct procs *out)
{
    struct mw_pid_iter it;
    struct procs v = {0};
    size_t cap = 0;
    int rc = mw_pid_iter_open(&it, root);
    if (rc < 0) {
        *out = v;
        return 0; /* a snapshot taken with --no-procs */
    }
    int pid;
    while (mw_pid_iter_next(&it, &pid) == 1) {
        char path[64], *buf = NULL;
        struct mw_proc_stat st;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        if (mw_read_file(root, path, &buf, NULL) < 0)
            continue;
        int ok = mw_proc_stat_parse_buf(&st, buf);
        free(buf);
        if (ok < 0 || (st.flags & MW_PF_KTHREAD))
            continue;
        struct proc p;
        memset(&p, 0, sizeof(p));
        p.pid = pid;
        p.starttime = st.starttime;
        snprintf(p.comm, sizeof(p.comm), "%s", st.comm);
        struct mw_proc_status ps;
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            if (mw_proc_status_parse_buf(&ps, buf) == 0 && ps.have_rss) {
                p.rss = ps.vm_rss_kb * 1024;
                p.swap = ps.vm_swap_kb * 1024;
            }
            free(buf);
        }
        struct mw_proc_smaps sm;
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            if (mw_proc_smaps_parse_buf(&sm, buf) == 0) {
                p.pss = sm.pss * 1024;
                p.have_pss = true;
                if (!p.rss)
                    p.rss = sm.rss * 1024;
            }
            free(buf);
        }
        prog_name(root, &p);
        if (v.n == cap) {
            cap = cap ? cap * 2 : 256;
            struct proc *x = realloc(v.p, cap * sizeof(*x));
            if (!x) {
                free(v.p);
                mw_pid_iter_close(&it);
                return -ENOMEM;
            }
            v.p = x;
        }
        v.p[v.n++] = p;
    }
    mw_pid_iter_close(&it);
    *out = v;
    return 0;
}

enum pchange { P_SAME, P_RESTARTED, P_NEW, P_GONE };

struct pdelta {
    enum pchange kind;
    const struct proc *a, *b; /* either may be NULL */
    int64_t delta_rss, delta_pss;
    bool have_pss;
};

static const char *pchange_name(enum pchange k)
{
    static const char *const n[] = {"same", "restarted", "new", "gone"};
    return n[k];
}

static uint64_t mag(int64_t v)
{
    return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

static int cmp_pdelta(const void *x, const void *y)
{
    const struct pdelta *a = x, *b = y;
    uint64_t ma = mag(a->delta_rss), mb = mag(b->delta_rss);
    if (ma != mb)
        return ma < mb ? 1 : -1;
    const struct proc *pa = a->b ? a->b : a->a, *pb = b->b ? b->b : b->a;
    return pa->pid - pb->pid;
}

struct sysdelta {
    const char *name;
    uint64_t before, after;
    int64_t delta;
};

static int cmp_sys(const void *x, const void *y)
{
    const struct sysdelta *a = x, *b = y;
    uint64_t ma = mag(a->delta), mb = mag(b->delta);
    if (ma != mb)
        return ma < mb ? 1 : -1;
    return strcmp(a->name, b->name);
}

static int64_t sub(uint64_t b, uint64_t a)
{
    return b >= a ? (int64_t)(b - a) : -(int64_t)(a - b);
}

/* "time" (epoch seconds) and "hostname" from memwarden-snapshot.json. */
static void snapshot_meta(const struct mw_root *root, double *t, char *host, size_t cap)
{
    struct mw_snapshot_meta meta;
    *t = 0;
    host[0] = '\0';
    if (mw_snapshot_meta_read(root, &meta) < 0)
        return;
    *t = meta.time;
    if (strlen(meta.hostname) < cap)
        snprintf(host, cap, "%s", meta.hostname);
}

static void describe(char *buf, size_t cap, const char *path, double t, const char *host)
{
    if (t > 0) {
        time_t s = (time_t)t;
        struct tm tm;
        char ts[32];
        gmtime_r(&s, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm);
        snprintf(buf, cap, "%s (%s%s%s)", path, host, host[0] ? ", " : "", ts);
    } else {
        snprintf(buf, cap, "%s", path);
    }
}

int cli_diff(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    static const struct option opts[] = {
        {"top", required_argument, NULL, 'n'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    unsigned long top = 15;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:ajh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (mw_opt_uint("--top", optarg, 1, 1000000, &top) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'a':
            top = (unsigned long)-1;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            diff_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_usage_error("diff", "unknown option");
        }
    }
    if (argc - optind != 2)
        return mw_usage_error("diff", "give two snapshots: A B");
    const char *pa = argv[optind], *pb = argv[optind + 1];
    struct mw_root ra = {.fd = -1}, rb = {.fd = -1};
    struct mw_meminfo ma, mb;
    struct procs xa = {0}, xb = {0};
    struct mw_slab_set sa = {0}, sb = {0};
    struct mw_slab_delta *sd = NULL;
    struct pdelta *pd = NULL;
    size_t nsd = 0, npd = 0;
    int ret = MW_EXIT_FAIL, rc;
    if ((rc = mw_root_open(&ra, pa)) < 0 || (rc = mw_root_open(&rb, pb)) < 0) {
        mw_err("diff: %s: %s", ra.fd < 0 ? pa : pb, strerror(-rc));
        goto out;
    }
    mw_snapshot_root_page_size(&ra);
    mw_snapshot_root_page_size(&rb);
    if ((rc = mw_meminfo_read(&ra, &ma, NULL)) < 0 || (rc = mw_meminfo_read(&rb, &mb, NULL)) < 0) {
        mw_err("diff: cannot read proc/meminfo in %s: %s", rc == 0 ? pb : pa, strerror(-rc));
        goto out;
    }
    double ta, tb;
    char ha[128], hb[128], da[300], db[300];
    snapshot_meta(&ra, &ta, ha, sizeof(ha));
    snapshot_meta(&rb, &tb, hb, sizeof(hb));
    describe(da, sizeof(da), pa, ta, ha);
    describe(db, sizeof(db), pb, tb, hb);
    if (read_procs(&ra, &xa) < 0 || read_procs(&rb, &xb) < 0)
        goto out;
    bool have_slab = mw_slab_read(&ra, &sa) == 0 && mw_slab_read(&rb, &sb) == 0;
    if (have_slab && mw_slab_diff(&sa, &sb, &sd, &nsd) < 0)
        goto out;

    /* system: meminfo fields, then the free(1) view */
    struct sysdelta sys[MI_FIELD_COUNT + 3];
    size_t nsys = 0;
    for (int f = 0; f < MI_FIELD_COUNT; f++) {
        if (!ma.have[f] || !mb.have[f] || f == MI_HUGEPAGES_TOTAL)
            continue;
        uint64_t a = mw_meminfo_bytes(&ma, (enum mw_mi_field)f),
                 b = mw_meminfo_bytes(&mb, (enum mw_mi_field)f);
        if (a != b)
            sys[nsys++] = (struct sysdelta){mw_meminfo_name((enum mw_mi_field)f), a, b, sub(b, a)};
    }
    struct mw_free fa, fb;
    mw_free_compute(&ma, 0, &fa);
    mw_free_compute(&mb, 0, &fb);
    if (fa.used != fb.used)
        sys[nsys++] = (struct sysdelta){"used (free)", fa.used, fb.used, sub(fb.used, fa.used)};
    if (fa.buff_cache != fb.buff_cache)
        sys[nsys++] = (struct sysdelta){"buff/cache (free)", fa.buff_cache, fb.buff_cache,
                                        sub(fb.buff_cache, fa.buff_cache)};
    qsort(sys, nsys, sizeof(*sys), cmp_sys);

    /* processes: PID + start time, then program name, then new/gone */
    pd = calloc(xa.n + xb.n + 1, sizeof(*pd));
    if (!pd)
        goto out;
    for (size_t i = 0; i < xb.n; i++)
        for (size_t k = 0; k < xa.n; k++)
            if (!xa.p[k].matched && xa.p[k].pid == xb.p[i].pid &&
                xa.p[k].starttime == xb.p[i].starttime) {
                xa.p[k].matched = xb.p[i].matched = true;
                pd[npd++] = (struct pdelta){P_SAME, &xa.p[k], &xb.p[i], 0, 0, false};
                break;
            }
    for (size_t i = 0; i < xb.n; i++) {
        if (xb.p[i].matched)
            continue;
        for (size_t k = 0; k < xa.n; k++)
            if (!xa.p[k].matched && strcmp(xa.p[k].prog, xb.p[i].prog) == 0) {
                xa.p[k].matched = xb.p[i].matched = true;
                pd[npd++] = (struct pdelta){P_RESTARTED, &xa.p[k], &xb.p[i], 0, 0, false};
                break;
            }
    }
    for (size_t i = 0; i < xb.n; i++)
        if (!xb.p[i].matched)
            pd[npd++] = (struct pdelta){P_NEW, NULL, &xb.p[i], 0, 0, false};
    for (size_t k = 0; k < xa.n; k++)
        if (!xa.p[k].matched)
            pd[npd++] = (struct pdelta){P_GONE, &xa.p[k], NULL, 0, 0, false};
    size_t keep = 0;
    for (size_t i = 0; i < npd; i++) {
        struct pdelta *d = &pd[i];
        uint64_t ra_ = d->a ? d->a->rss : 0, rb_ = d->b ? d->b->rss : 0;
        d->delta_rss = sub(rb_, ra_);
        d->have_pss = (!d->a || d->a->have_pss) && (!d->b || d->b->have_pss);
        if (d->have_pss)
            d->delta_pss = sub(d->b ? d->b->pss : 0, d->a ? d->a->pss : 0);
        if (d->kind == P_SAME && d->delta_rss == 0 && d->delta_pss == 0)
            continue;
        pd[keep++] = *d;
    }
    npd = keep;
    qsort(pd, npd, sizeof(*pd), cmp_pdelta);
    size_t nslab_changed = 0;
    for (size_t i = 0; i < nsd; i++)
        nslab_changed += sd[i].delta_bytes != 0;

    char s1[32], s2[32], s3[32], s4[32];
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "a", pa);
        mw_json_str(&j, "b", pb);
        if (ta > 0 && tb > 0)
            mw_json_fixed(&j, "span_s", tb - ta, 0);
        mw_json_array_begin(&j, "system");
        for (size_t i = 0; i < nsys && i < top; i++) {
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "field", sys[i].name);
            mw_json_u64(&j, "before_bytes", sys[i].before);
            mw_json_u64(&j, "after_bytes", sys[i].after);
            mw_json_i64(&j, "delta_bytes", sys[i].delta);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        mw_json_array_begin(&j, "processes");
        for (size_t i = 0; i < npd && i < top; i++) {
            const struct pdelta *d = &pd[i];
            const struct proc *p = d->b ? d->b : d->a;
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "change", pchange_name(d->kind));
            mw_json_str(&j, "comm", p->comm);
            mw_json_str(&j, "program", p->prog);
            if (d->a)
                mw_json_i64(&j, "pid_a", d->a->pid);
            if (d->b)
                mw_json_i64(&j, "pid_b", d->b->pid);
            mw_json_u64(&j, "rss_before_bytes", d->a ? d->a->rss : 0);
            mw_json_u64(&j, "rss_after_bytes", d->b ? d->b->rss : 0);
            mw_json_i64(&j, "delta_rss_bytes", d->delta_rss);
            if (d->have_pss)
                mw_json_i64(&j, "delta_pss_bytes", d->delta_pss);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        mw_json_array_begin(&j, "slab");
        for (size_t i = 0, shown = 0; i < nsd && shown < top; i++) {
            if (!sd[i].delta_bytes)
                continue;
            shown++;
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "cache", sd[i].name);
            mw_json_u64(&j, "before_bytes", sd[i].before_bytes);
            mw_json_u64(&j, "after_bytes", sd[i].after_bytes);
            mw_json_i64(&j, "delta_bytes", sd[i].delta_bytes);
            mw_json_i64(&j, "delta_objs", sd[i].delta_objs);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        mw_json_object_end(&j);
        mw_json_finish(&j);
        ret = MW_EXIT_OK;
        goto out;
    }
    printf("diff: %s\n   -> %s", da, db);
    if (ta > 0 && tb > 0) {
        double sp = tb - ta;
        if (sp >= 3600)
            printf(", %.1f h later", sp / 3600);
        else if (sp >= 120)
            printf(", %.0f min later", sp / 60);
        else
            printf(", %.0f s later", sp);
    }
    printf("\n\nSystem (/proc/meminfo), biggest changes first:\n");
    if (!nsys)
        printf("  no change\n");
    for (size_t i = 0; i < nsys && i < top; i++)
        printf("  %-20s %10s -> %10s  %11s\n", sys[i].name,
               mw_fmt_size(s1, sizeof(s1), sys[i].before),
               mw_fmt_size(s2, sizeof(s2), sys[i].after),
               mw_fmt_size_delta(s3, sizeof(s3), sys[i].delta));
    printf("\nProcesses (matched by PID and start time, then by program), by RSS change:\n");
    if (!npd)
        printf("  no change%s\n", xa.n + xb.n ? "" : " (no process files in the snapshots)");
    for (size_t i = 0; i < npd && i < top; i++) {
        const struct pdelta *d = &pd[i];
        const struct proc *p = d->b ? d->b : d->a;
        char pids[48];
        if (d->kind == P_RESTARTED)
            snprintf(pids, sizeof(pids), "%d -> %d", d->a->pid, d->b->pid);
        else
            snprintf(pids, sizeof(pids), "%d", p->pid);
        int64_t sign = d->delta_rss ? d->delta_rss : d->delta_pss;
        const char *label =
            d->kind == P_SAME ? (sign >= 0 ? "grew" : "shrank") : pchange_name(d->kind);
        printf("  %-9s %-16.16s %-14s %10s -> %10s  %11s RSS", label, p->comm, pids,
               mw_fmt_size(s1, sizeof(s1), d->a ? d->a->rss : 0),
               mw_fmt_size(s2, sizeof(s2), d->b ? d->b->rss : 0),
               mw_fmt_size_delta(s3, sizeof(s3), d->delta_rss));
        if (d->have_pss && d->delta_pss)
            printf(", %s PSS", mw_fmt_size_delta(s4, sizeof(s4), d->delta_pss));
        printf("\n");
    }
    printf("\nSlab caches, by change:\n");
    if (!have_slab)
        printf("  not compared (proc/slabinfo missing in a snapshot)\n");
    else if (!nslab_changed)
        printf("  no change\n");
    for (size_t i = 0, shown = 0; i < nsd && shown < top; i++) {
        if (!sd[i].delta_bytes)
            continue;
        shown++;
        printf("  %-28.28s %10s -> %10s  %11s\n", sd[i].name,
               mw_fmt_size(s1, sizeof(s1), sd[i].before_bytes),
               mw_fmt_size(s2, sizeof(s2), sd[i].after_bytes),
               mw_fmt_size_delta(s3, sizeof(s3), sd[i].delta_bytes));
    }
    ret = MW_EXIT_OK;
out:
    free(pd);
    free(sd);
    free(xa.p);
    free(xb.p);
    mw_slab_set_free(&sa);
    mw_slab_set_free(&sb);
    mw_root_close(&ra);
    mw_root_close(&rb);
    return ret;
}
