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
#include "base/text.h"
#include "base/json.h"
#include "proc/meminfo.h"
#include "proc/procs.h"
#include "proc/slab.h"
#include "model/snapshot.h"
#include "model/targets.h"

static const struct mw_opt diff_opts[] = {
    {"top", 'n', MW_OPT_SHORT, "N", "entries per list (default 15)", NULL},
    {"all", 'a', MW_OPT_SHORT, NULL, "every changed entry", NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "machine-readable output (bytes, seconds)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_diff_doc = {
    .head = "NAME\n"
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
            "    (that is normal).\n",
    .opts = diff_opts,
    .exit_ok = "compared",
    .exit_fail = "a snapshot is unreadable",
    .operands = "@dir",
    .examples = "    memwarden snapshot /tmp/before; run-the-app; memwarden snapshot /tmp/after\n"
                "    memwarden diff /tmp/before /tmp/after\n"
                "    memwarden diff /tmp/before / --json\n",
};

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

/* 10000-01-01 00:00:00 UTC: the first time strftime's %Y would not show
 * in four digits. */
#define MAX_TIME_S 253402300800.0

/* "time" (epoch seconds) and "hostname" from memwarden-snapshot.json. */
static void snapshot_meta(const struct mw_root *root, double *t, char *host, size_t cap)
{
    struct mw_snapshot_meta meta;
    *t = 0;
    host[0] = '\0';
    if (mw_snapshot_meta_read(root, &meta) < 0)
        return;
    /* a time a clock can show (1970 .. 9999): 1e300 or inf in the file
     * would overflow time_t (undefined behaviour); such a time is unknown */
    if (meta.time > 0 && meta.time < MAX_TIME_S)
        *t = meta.time;
    if (strlen(meta.hostname) < cap)
        snprintf(host, cap, "%s", meta.hostname);
}

/* S (text from a snapshot: a process or cache name) cleaned of what a
 * terminal would act on (base/text.h), cut at WIDTH characters and padded
 * to WIDTH, as printf's "%-W.Ws" does for ASCII. */
static void put_col(const char *s, size_t width)
{
    char buf[256];
    size_t n = mw_text_clean(buf, sizeof(buf), s, strlen(s)), chars = 0, i = 0;
    for (; i < n && chars < width; chars++)
        for (i++; i < n && ((unsigned char)buf[i] & 0xc0) == 0x80; i++)
            ;
    fwrite(buf, 1, i, stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

static void describe(char *buf, size_t cap, const char *path_raw, double t, const char *host_raw)
{
    char path[256], host[128];
    mw_text_clean(path, sizeof(path), path_raw, strlen(path_raw));
    mw_text_clean(host, sizeof(host), host_raw, strlen(host_raw));
    time_t s = t > 0 && t < MAX_TIME_S ? (time_t)t : 0;
    struct tm tm;
    char ts[32];
    if (s > 0 && gmtime_r(&s, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm)) {
        snprintf(buf, cap, "%s (%s%s%s)", path, host, host[0] ? ", " : "", ts);
    } else {
        snprintf(buf, cap, "%s", path);
    }
}

struct diff_opts {
    unsigned long top; /* entries per list */
    bool json;
    const char *pa, *pb; /* the two snapshot paths */
};

/* Everything diff shows, gathered once; text and JSON render from it. */
struct diff {
    struct mw_root ra, rb;
    double ta, tb;         /* snapshot times (epoch s), 0 when unknown */
    char ha[128], hb[128]; /* snapshot host names, "" when unknown */
    struct sysdelta sys[MI_FIELD_COUNT + 3];
    size_t nsys;
    struct procs xa, xb;
    struct pdelta *pd;
    size_t npd;
    struct mw_slab_set sa, sb;
    struct mw_slab_delta *sd;
    size_t nsd, nslab_changed;
    bool have_slab;
};

static void diff_free(struct diff *d)
{
    free(d->pd);
    free(d->sd);
    free(d->xa.p);
    free(d->xb.p);
    mw_slab_set_free(&d->sa);
    mw_slab_set_free(&d->sb);
    mw_root_close(&d->ra);
    mw_root_close(&d->rb);
}

/* System: meminfo fields that changed, then the free(1) view. */
static void gather_system(struct diff *d, const struct mw_meminfo *ma, const struct mw_meminfo *mb)
{
    for (int f = 0; f < MI_FIELD_COUNT; f++) {
        if (!ma->have[f] || !mb->have[f] || f == MI_HUGEPAGES_TOTAL)
            continue;
        uint64_t a = mw_meminfo_bytes(ma, (enum mw_mi_field)f),
                 b = mw_meminfo_bytes(mb, (enum mw_mi_field)f);
        if (a != b)
            d->sys[d->nsys++] =
                (struct sysdelta){mw_meminfo_name((enum mw_mi_field)f), a, b, sub(b, a)};
    }
    struct mw_free fa, fb;
    mw_free_compute(ma, 0, &fa);
    mw_free_compute(mb, 0, &fb);
    if (fa.used != fb.used)
        d->sys[d->nsys++] =
            (struct sysdelta){"used (free)", fa.used, fb.used, sub(fb.used, fa.used)};
    if (fa.buff_cache != fb.buff_cache)
        d->sys[d->nsys++] = (struct sysdelta){"buff/cache (free)", fa.buff_cache, fb.buff_cache,
                                              sub(fb.buff_cache, fa.buff_cache)};
    qsort(d->sys, d->nsys, sizeof(*d->sys), cmp_sys);
}

/* Processes: PID + start time, then program name, then new/gone; the
 * unchanged ones left out, the rest sorted by RSS change. */
static int gather_procs(struct diff *d)
{
    struct procs *xa = &d->xa, *xb = &d->xb;
    struct pdelta *pd = calloc(xa->n + xb->n + 1, sizeof(*pd));
    size_t npd = 0;
    if (!pd)
        return -ENOMEM;
    for (size_t i = 0; i < xb->n; i++)
        for (size_t k = 0; k < xa->n; k++)
            if (!xa->p[k].matched && xa->p[k].pid == xb->p[i].pid &&
                xa->p[k].starttime == xb->p[i].starttime) {
                xa->p[k].matched = xb->p[i].matched = true;
                pd[npd++] = (struct pdelta){P_SAME, &xa->p[k], &xb->p[i], 0, 0, false};
                break;
            }
    for (size_t i = 0; i < xb->n; i++) {
        if (xb->p[i].matched)
            continue;
        for (size_t k = 0; k < xa->n; k++)
            if (!xa->p[k].matched && strcmp(xa->p[k].prog, xb->p[i].prog) == 0) {
                xa->p[k].matched = xb->p[i].matched = true;
                pd[npd++] = (struct pdelta){P_RESTARTED, &xa->p[k], &xb->p[i], 0, 0, false};
                break;
            }
    }
    for (size_t i = 0; i < xb->n; i++)
        if (!xb->p[i].matched)
            pd[npd++] = (struct pdelta){P_NEW, NULL, &xb->p[i], 0, 0, false};
    for (size_t k = 0; k < xa->n; k++)
        if (!xa->p[k].matched)
            pd[npd++] = (struct pdelta){P_GONE, &xa->p[k], NULL, 0, 0, false};
    size_t keep = 0;
    for (size_t i = 0; i < npd; i++) {
        struct pdelta *x = &pd[i];
        x->delta_rss = sub(x->b ? x->b->rss : 0, x->a ? x->a->rss : 0);
        x->have_pss = (!x->a || x->a->have_pss) && (!x->b || x->b->have_pss);
        if (x->have_pss)
            x->delta_pss = sub(x->b ? x->b->pss : 0, x->a ? x->a->pss : 0);
        if (x->kind == P_SAME && x->delta_rss == 0 && x->delta_pss == 0)
            continue;
        pd[keep++] = *x;
    }
    qsort(pd, keep, sizeof(*pd), cmp_pdelta);
    d->pd = pd;
    d->npd = keep;
    return 0;
}

/* Reads both snapshots and compares them. Returns MW_EXIT_OK or
 * MW_EXIT_FAIL (after saying why); D is freed by the caller either way. */
static int gather(const struct diff_opts *o, struct diff *d)
{
    struct mw_meminfo ma, mb;
    int rc;
    if ((rc = mw_root_open(&d->ra, o->pa)) < 0 || (rc = mw_root_open(&d->rb, o->pb)) < 0) {
        mw_err("diff: %s: %s", d->ra.fd < 0 ? o->pa : o->pb, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    mw_snapshot_root_page_size(&d->ra);
    mw_snapshot_root_page_size(&d->rb);
    if ((rc = mw_meminfo_read(&d->ra, &ma, NULL)) < 0 ||
        (rc = mw_meminfo_read(&d->rb, &mb, NULL)) < 0) {
        mw_err("diff: cannot read proc/meminfo in %s: %s", rc == 0 ? o->pb : o->pa,
               rc == -EBADFD ? "not a regular file" : mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    snapshot_meta(&d->ra, &d->ta, d->ha, sizeof(d->ha));
    snapshot_meta(&d->rb, &d->tb, d->hb, sizeof(d->hb));
    if (read_procs(&d->ra, &d->xa) < 0 || read_procs(&d->rb, &d->xb) < 0)
        return MW_EXIT_FAIL;
    d->have_slab = mw_slab_read(&d->ra, &d->sa) == 0 && mw_slab_read(&d->rb, &d->sb) == 0;
    if (d->have_slab && mw_slab_diff(&d->sa, &d->sb, &d->sd, &d->nsd) < 0)
        return MW_EXIT_FAIL;
    gather_system(d, &ma, &mb);
    if (gather_procs(d) < 0)
        return MW_EXIT_FAIL;
    for (size_t i = 0; i < d->nsd; i++)
        d->nslab_changed += d->sd[i].delta_bytes != 0;
    return MW_EXIT_OK;
}

static void print_json(const struct diff_opts *o, const struct diff *d)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "a", o->pa);
    mw_json_str(&j, "b", o->pb);
    if (d->ta > 0 && d->tb > 0)
        mw_json_fixed(&j, "span_s", d->tb - d->ta, 0);
    mw_json_array_begin(&j, "system");
    for (size_t i = 0; i < d->nsys && i < o->top; i++) {
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "field", d->sys[i].name);
        mw_json_u64(&j, "before_bytes", d->sys[i].before);
        mw_json_u64(&j, "after_bytes", d->sys[i].after);
        mw_json_i64(&j, "delta_bytes", d->sys[i].delta);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_array_begin(&j, "processes");
    for (size_t i = 0; i < d->npd && i < o->top; i++) {
        const struct pdelta *x = &d->pd[i];
        const struct proc *p = x->b ? x->b : x->a;
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "change", pchange_name(x->kind));
        mw_json_str(&j, "comm", p->comm);
        mw_json_str(&j, "program", p->prog);
        if (x->a)
            mw_json_i64(&j, "pid_a", x->a->pid);
        if (x->b)
            mw_json_i64(&j, "pid_b", x->b->pid);
        mw_json_u64(&j, "rss_before_bytes", x->a ? x->a->rss : 0);
        mw_json_u64(&j, "rss_after_bytes", x->b ? x->b->rss : 0);
        mw_json_i64(&j, "delta_rss_bytes", x->delta_rss);
        if (x->have_pss)
            mw_json_i64(&j, "delta_pss_bytes", x->delta_pss);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_array_begin(&j, "slab");
    for (size_t i = 0, shown = 0; i < d->nsd && shown < o->top; i++) {
        if (!d->sd[i].delta_bytes)
            continue;
        shown++;
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "cache", d->sd[i].name);
        mw_json_u64(&j, "before_bytes", d->sd[i].before_bytes);
        mw_json_u64(&j, "after_bytes", d->sd[i].after_bytes);
        mw_json_i64(&j, "delta_bytes", d->sd[i].delta_bytes);
        mw_json_i64(&j, "delta_objs", d->sd[i].delta_objs);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void print_text_procs(const struct diff_opts *o, const struct diff *d)
{
    char s1[32], s2[32], s3[32], s4[32];
    printf("\nProcesses (matched by PID and start time, then by program), by RSS change:\n");
    if (!d->npd)
        printf("  no change%s\n", d->xa.n + d->xb.n ? "" : " (no process files in the snapshots)");
    for (size_t i = 0; i < d->npd && i < o->top; i++) {
        const struct pdelta *x = &d->pd[i];
        const struct proc *p = x->b ? x->b : x->a;
        char pids[48];
        if (x->kind == P_RESTARTED)
            snprintf(pids, sizeof(pids), "%d -> %d", x->a->pid, x->b->pid);
        else
            snprintf(pids, sizeof(pids), "%d", p->pid);
        int64_t sign = x->delta_rss ? x->delta_rss : x->delta_pss;
        const char *label =
            x->kind == P_SAME ? (sign >= 0 ? "grew" : "shrank") : pchange_name(x->kind);
        printf("  %-9s ", label);
        put_col(p->comm, 16);
        printf(" %-14s %10s -> %10s  %11s RSS", pids,
               mw_fmt_size(s1, sizeof(s1), x->a ? x->a->rss : 0),
               mw_fmt_size(s2, sizeof(s2), x->b ? x->b->rss : 0),
               mw_fmt_size_delta(s3, sizeof(s3), x->delta_rss));
        if (x->have_pss && x->delta_pss)
            printf(", %s PSS", mw_fmt_size_delta(s4, sizeof(s4), x->delta_pss));
        printf("\n");
    }
}

static void print_text(const struct diff_opts *o, const struct diff *d)
{
    char s1[32], s2[32], s3[32], da[440], db[440];
    describe(da, sizeof(da), o->pa, d->ta, d->ha);
    describe(db, sizeof(db), o->pb, d->tb, d->hb);
    printf("diff: %s\n   -> %s", da, db);
    if (d->ta > 0 && d->tb > 0) {
        double sp = d->tb - d->ta;
        if (sp >= 3600)
            printf(", %.1f h later", sp / 3600);
        else if (sp >= 120)
            printf(", %.0f min later", sp / 60);
        else
            printf(", %.0f s later", sp);
    }
    printf("\n\nSystem (/proc/meminfo), biggest changes first:\n");
    if (!d->nsys)
        printf("  no change\n");
    for (size_t i = 0; i < d->nsys && i < o->top; i++)
        printf("  %-20s %10s -> %10s  %11s\n", d->sys[i].name,
               mw_fmt_size(s1, sizeof(s1), d->sys[i].before),
               mw_fmt_size(s2, sizeof(s2), d->sys[i].after),
               mw_fmt_size_delta(s3, sizeof(s3), d->sys[i].delta));
    print_text_procs(o, d);
    printf("\nSlab caches, by change:\n");
    if (!d->have_slab)
        printf("  not compared (proc/slabinfo missing in a snapshot)\n");
    else if (!d->nslab_changed)
        printf("  no change\n");
    for (size_t i = 0, shown = 0; i < d->nsd && shown < o->top; i++) {
        if (!d->sd[i].delta_bytes)
            continue;
        shown++;
        printf("  ");
        put_col(d->sd[i].name, 28);
        printf(" %10s -> %10s  %11s\n", mw_fmt_size(s1, sizeof(s1), d->sd[i].before_bytes),
               mw_fmt_size(s2, sizeof(s2), d->sd[i].after_bytes),
               mw_fmt_size_delta(s3, sizeof(s3), d->sd[i].delta_bytes));
    }
}

/* Returns 0 with O filled, or an exit code (> 0) to return at once. */
static int parse_opts(int argc, char **argv, struct diff_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_diff_doc)) != -1) {
        switch (c) {
        case 'n':
            if (mw_opt_uint("--top", optarg, 1, 1000000, &o->top) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'a':
            o->top = (unsigned long)-1;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_diff_doc);
            return -1;
        default:
            return mw_opt_error("diff", c, argv);
        }
    }
    if (argc - optind != 2)
        return mw_usage_error("diff", "give two snapshots: A B");
    o->pa = argv[optind];
    o->pb = argv[optind + 1];
    return 0;
}

int cli_diff(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    struct diff_opts o = {.top = 15};
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? MW_EXIT_OK : rc;
    struct diff *d = calloc(1, sizeof(*d));
    if (!d) {
        mw_err("diff: %s", mw_strerror(ENOMEM));
        return MW_EXIT_FAIL;
    }
    d->ra.fd = d->rb.fd = -1;
    rc = gather(&o, d);
    if (rc == MW_EXIT_OK) {
        if (o.json)
            print_json(&o, d);
        else
            print_text(&o, d);
    }
    diff_free(d);
    free(d);
    return rc;
}
