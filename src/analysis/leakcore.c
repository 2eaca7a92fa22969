#include "analysis/leakcore.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "proc/cgroup.h"

/* A process name as text output may show it (base/text.h): anyone can
 * name a process "\e]0;..." or give it bytes that are not UTF-8. OUT has
 * 64 bytes. */
static const char *comm_clean(char out[64], const char *comm)
{
    mw_text_clean(out, 64, comm, strlen(comm));
    return out;
}

static const char *const part_names[MW_PART_COUNT] = {
    [MW_PART_ANON] = "anon",
    [MW_PART_FILE] = "page cache",
    [MW_PART_SHMEM] = "shmem",
    [MW_PART_USER_OTHER] = "user and other",
    [MW_PART_SLAB_RECL] = "slab reclaimable",
    [MW_PART_SLAB_UNRECL] = "slab unreclaimable",
    [MW_PART_PAGE_TABLES] = "page tables",
    [MW_PART_KERNEL_STACK] = "kernel stacks",
    [MW_PART_PERCPU] = "percpu",
    [MW_PART_HUGETLB] = "hugetlb",
    [MW_PART_ZRAM] = "zram",
    [MW_PART_OTHER] = "other kernel",
};

const char *mw_part_name(enum mw_part p)
{
    return (size_t)p < MW_PART_COUNT ? part_names[p] : "?";
}

bool mw_part_is_user(enum mw_part p)
{
    return p == MW_PART_ANON || p == MW_PART_FILE || p == MW_PART_SHMEM || p == MW_PART_USER_OTHER;
}

static void part_set(struct mw_memparts *m, enum mw_part p, int64_t bytes)
{
    m->bytes[p] = bytes;
    m->have[p] = true;
}

void mw_memparts_from_meminfo(const struct mw_meminfo *mi, uint64_t zram_bytes,
                              struct mw_memparts *out)
{
    struct mw_memparts m;
    memset(&m, 0, sizeof(m));
#define MI(f) ((int64_t)mw_meminfo_bytes(mi, f))
    int64_t used = MI(MI_MEM_TOTAL) - MI(MI_MEM_FREE);
    /* Cached includes Shmem (tmpfs pages are page cache that cannot be
     * dropped): count it once, as shmem */
    int64_t file = MI(MI_BUFFERS) + MI(MI_CACHED) - MI(MI_SHMEM);
    int64_t hugetlb = mi->have[MI_HUGETLB]
                          ? MI(MI_HUGETLB)
                          : (int64_t)mi->kb[MI_HUGEPAGES_TOTAL] * MI(MI_HUGEPAGESIZE);
    part_set(&m, MW_PART_ANON, MI(MI_ANON_PAGES));
    part_set(&m, MW_PART_FILE, file > 0 ? file : 0);
    part_set(&m, MW_PART_SHMEM, MI(MI_SHMEM));
    part_set(&m, MW_PART_SLAB_RECL, MI(MI_SRECLAIMABLE));
    part_set(&m, MW_PART_SLAB_UNRECL, MI(MI_SUNRECLAIM));
    part_set(&m, MW_PART_PAGE_TABLES, MI(MI_PAGE_TABLES) + MI(MI_SEC_PAGE_TABLES));
    part_set(&m, MW_PART_KERNEL_STACK, MI(MI_KERNEL_STACK));
    part_set(&m, MW_PART_PERCPU, MI(MI_PERCPU));
    part_set(&m, MW_PART_HUGETLB, hugetlb);
    part_set(&m, MW_PART_ZRAM, (int64_t)zram_bytes);
#undef MI
    int64_t known = 0;
    for (size_t p = 0; p < MW_PART_COUNT; p++)
        known += m.bytes[p];
    part_set(&m, MW_PART_OTHER, used - known);
    *out = m;
}

void mw_memparts_from_sample(const struct mw_sample *s, struct mw_memparts *out)
{
    struct mw_memparts m;
    memset(&m, 0, sizeof(m));
    part_set(&m, MW_PART_SHMEM, (int64_t)s->shmem);
    part_set(&m, MW_PART_SLAB_RECL, (int64_t)s->sreclaimable);
    part_set(&m, MW_PART_SLAB_UNRECL, (int64_t)s->sunreclaim);
    part_set(&m, MW_PART_PAGE_TABLES, (int64_t)s->page_tables);
    part_set(&m, MW_PART_KERNEL_STACK, (int64_t)s->kernel_stack);
    int64_t known = 0;
    for (size_t p = 0; p < MW_PART_COUNT; p++)
        known += m.bytes[p];
    part_set(&m, MW_PART_USER_OTHER, (int64_t)s->mem_used - known);
    *out = m;
}

int mw_procmem_add(struct mw_procmem_set *set, const struct mw_procmem *m)
{
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 64;
        struct mw_procmem *p = realloc(set->p, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        set->p = p;
        set->cap = nc;
    }
    set->p[set->n++] = *m;
    return 0;
}

int mw_procmem_put(struct mw_procmem_set *set, const struct mw_procmem *m)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->p[i].pid == m->pid && strcmp(set->p[i].comm, m->comm) == 0) {
            set->p[i] = *m;
            return 0;
        }
    return mw_procmem_add(set, m);
}

void mw_procmem_free(struct mw_procmem_set *set)
{
    free(set->p);
    memset(set, 0, sizeof(*set));
}

static const struct mw_procmem *procmem_find(const struct mw_procmem_set *set, int pid,
                                             const char *comm)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->p[i].pid == pid && strcmp(set->p[i].comm, comm) == 0)
            return &set->p[i];
    return NULL;
}

size_t mw_procmem_growers(const struct mw_procmem_set *first, const struct mw_procmem_set *last,
                          struct mw_grower *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < last->n; i++) {
        const struct mw_procmem *b = &last->p[i];
        const struct mw_procmem *a = procmem_find(first, b->pid, b->comm);
        int64_t d = (int64_t)b->rss_bytes - (a ? (int64_t)a->rss_bytes : 0);
        if (d <= 0)
            continue;
        /* insertion into OUT, largest first, keeping MAX */
        size_t at = n;
        while (at > 0 && out[at - 1].delta_bytes < d)
            at--;
        if (at >= max)
            continue;
        size_t move = n < max ? n - at : n - at - 1;
        memmove(&out[at + 1], &out[at], move * sizeof(*out));
        struct mw_grower *g = &out[at];
        g->pid = b->pid;
        mw_text_clean(g->comm, sizeof(g->comm), b->comm, strlen(b->comm));
        g->delta_bytes = d;
        g->last_bytes = b->rss_bytes;
        g->pss_delta_bytes =
            a && a->pss_bytes && b->pss_bytes ? (int64_t)b->pss_bytes - (int64_t)a->pss_bytes : 0;
        if (n < max)
            n++;
    }
    return n;
}

int mw_series_push(struct mw_series *s, double t_s, double v)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        double *t = realloc(s->t, nc * sizeof(*t));
        if (!t)
            return -ENOMEM;
        s->t = t;
        double *x = realloc(s->v, nc * sizeof(*x));
        if (!x)
            return -ENOMEM;
        s->v = x;
        s->cap = nc;
    }
    s->t[s->n] = t_s;
    s->v[s->n] = v;
    s->n++;
    return 0;
}

int mw_series_keep(struct mw_series *s, const struct mw_sample *smp)
{
    if (s->nhist == s->hist_cap) {
        size_t nc = s->hist_cap ? s->hist_cap * 2 : 64;
        struct mw_sample *h = realloc(s->hist, nc * sizeof(*h));
        if (!h)
            return -ENOMEM;
        s->hist = h;
        s->hist_cap = nc;
    }
    s->hist[s->nhist] = *smp;
    s->hist[s->nhist].slab_bytes = NULL;
    s->hist[s->nhist].nslab = 0;
    s->nhist++;
    return 0;
}

/* The kernel's parts that can leak on their own (the lmkd seed compares
 * them hours apart). */
static void analyze_components(struct mw_series *s, const struct mw_trend_params *p)
{
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
        {"SUnreclaim", offsetof(struct mw_sample, sunreclaim)},
        {"SReclaimable", offsetof(struct mw_sample, sreclaimable)},
        {"Shmem", offsetof(struct mw_sample, shmem)},
        {"PageTables", offsetof(struct mw_sample, page_tables)},
        {"KernelStack", offsetof(struct mw_sample, kernel_stack)},
    };
    if (s->nhist < 3 || s->nhist != s->n)
        return;
    double *v = malloc(s->nhist * sizeof(*v));
    if (!v)
        return;
    for (size_t c = 0; c < sizeof(f) / sizeof(f[0]); c++) {
        for (size_t i = 0; i < s->nhist; i++)
            v[i] = (double)*(const uint64_t *)(const void *)((const char *)&s->hist[i] + f[c].off);
        s->comp[c].name = f[c].name;
        s->comp[c].have = mw_trend_classify(s->t, v, s->n, p, &s->comp[c].trend) == 0;
    }
    free(v);
}

double mw_metric_value(const struct mw_sample *s, enum mw_metric m)
{
    if (m == MW_METRIC_PSS && s->have_pss)
        return (double)s->pss;
    if (m == MW_METRIC_USS && s->have_pss)
        return (double)s->uss;
    return (double)s->rss;
}

static int where_add(struct mw_series *s, size_t *cap, const char *label, const char *kind,
                     int64_t delta)
{
    if (s->nwhere == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct mw_where *w = realloc(s->where, nc * sizeof(*w));
        if (!w)
            return -ENOMEM;
        s->where = w;
        *cap = nc;
    }
    struct mw_where *w = &s->where[s->nwhere++];
    snprintf(w->label, sizeof(w->label), "%s", label);
    snprintf(w->kind, sizeof(w->kind), "%s", kind);
    w->delta_bytes = delta;
    return 0;
}

static int cmp_where(const void *a, const void *b)
{
    const struct mw_where *x = a, *y = b;
    if (x->delta_bytes != y->delta_bytes)
        return x->delta_bytes < y->delta_bytes ? 1 : -1;
    return strcmp(x->label, y->label);
}

static int64_t d64(uint64_t b, uint64_t a)
{
    return (int64_t)b - (int64_t)a;
}

/* The system's parts of used memory and the processes that grew most. */
static int where_add_parts(struct mw_series *s, size_t *cap)
{
    int rc = 0;
    for (size_t p = 0; p < MW_PART_COUNT && rc == 0; p++) {
        if (!s->parts_first.have[p] || !s->parts_last.have[p])
            continue;
        int64_t d = s->parts_last.bytes[p] - s->parts_first.bytes[p];
        if (d)
            rc = where_add(s, cap, part_names[p], "memory", d);
    }
    s->ngrowers = mw_procmem_growers(&s->procs_first, &s->procs_last, s->growers, MW_LEAK_GROWERS);
    for (size_t i = 0; i < s->ngrowers && rc == 0; i++) {
        char l[128], c[64];
        snprintf(l, sizeof(l), "PID %d %s", s->growers[i].pid, comm_clean(c, s->growers[i].comm));
        rc = where_add(s, cap, l, "process", s->growers[i].delta_bytes);
    }
    return rc;
}

static int build_where(struct mw_series *s)
{
    size_t cap = 0;
    int rc = 0;
    if (!s->system && s->have_regions) {
        struct mw_region_delta *d;
        size_t n;
        rc = mw_regions_diff(&s->reg_first, &s->reg_last, &d, &n);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n && rc == 0; i++)
            if (d[i].delta_bytes)
                rc = where_add(s, &cap, d[i].label, mw_region_class_name(d[i].cls),
                               d[i].delta_bytes);
        free(d);
    }
    if (s->system) {
        const struct mw_sample *a = &s->first, *b = &s->last;
        struct {
            const char *name;
            int64_t d;
        } mi[] = {
            {"SUnreclaim", d64(b->sunreclaim, a->sunreclaim)},
            {"SReclaimable", d64(b->sreclaimable, a->sreclaimable)},
            {"Shmem", d64(b->shmem, a->shmem)},
            {"PageTables", d64(b->page_tables, a->page_tables)},
            {"KernelStack", d64(b->kernel_stack, a->kernel_stack)},
        };
        for (size_t i = 0; i < sizeof(mi) / sizeof(mi[0]) && rc == 0; i++)
            if (mi[i].d)
                rc = where_add(s, &cap, mi[i].name, "meminfo", mi[i].d);
        if (s->have_slab && rc == 0) {
            struct mw_slab_delta *d;
            size_t n;
            rc = mw_slab_diff(&s->slab_first, &s->slab_last, &d, &n);
            if (rc < 0)
                return rc;
            for (size_t i = 0; i < n && i < 20 && rc == 0; i++)
                if (d[i].delta_bytes) {
                    char l[128];
                    snprintf(l, sizeof(l), "slab %s", d[i].name);
                    rc = where_add(s, &cap, l, "slab", d[i].delta_bytes);
                }
            free(d);
        }
        if (s->have_shm && rc == 0) {
            int64_t dd = d64(s->shm_last.devshm_bytes, s->shm_first.devshm_bytes);
            int64_t ds = d64(s->shm_last.sysv_bytes, s->shm_first.sysv_bytes);
            if (dd)
                rc = where_add(s, &cap, "/dev/shm", "shm", dd);
            if (ds && rc == 0)
                rc = where_add(s, &cap, "SysV shm", "shm", ds);
        }
        if (s->have_parts && rc == 0)
            rc = where_add_parts(s, &cap);
    }
    if (s->nwhere)
        qsort(s->where, s->nwhere, sizeof(*s->where), cmp_where);
    return rc;
}

int mw_series_analyze(struct mw_series *s, const struct mw_trend_params *p, const double *slab_v)
{
    int rc = mw_trend_classify(s->t, s->v, s->n, p, &s->trend);
    if (rc == -ENOMEM)
        return rc;
    /* the kernel's parts are judged on the system's scale: the band of
     * its used memory, not 5 % of a small cache */
    struct mw_trend_params ps = *p;
    if (s->system && !p->band_fixed && s->trend.band_bytes > 0) {
        ps.band_fixed = true;
        ps.band_bytes = s->trend.band_bytes;
    }
    p = &ps;
    if (s->system && slab_v && s->n >= 3) {
        struct mw_trend ts;
        if (mw_trend_classify(s->t, slab_v, s->n, p, &ts) == 0 && ts.verdict > s->trend.verdict) {
            s->trend = ts;
            s->series_name = "slab";
            memcpy(s->v, slab_v, s->n * sizeof(*s->v)); /* the samples the verdict rests on */
        }
    }
    if (s->system)
        analyze_components(s, p);
    rc = build_where(s);
    if (rc < 0)
        return rc;
    s->tte_s =
        mw_trend_time_to_exhaustion_s((double)s->headroom_bytes, s->trend.slope_bytes_per_hour);
    return 0;
}

static bool is_kind(const struct mw_where *w, const char *kind)
{
    return strcmp(w->kind, kind) == 0;
}

/* "all of it in TOP" / "most of it in TOP (70%)" / "in A +3 MiB, B +1 MiB"
 * over the items of S that USE says (TOTAL: their positive sum). Returns
 * the length written. */
static size_t share_phrase(const struct mw_series *s, bool (*use)(const struct mw_where *),
                           int64_t total, char *buf, size_t cap)
{
    const struct mw_where *top = NULL;
    for (size_t i = 0; i < s->nwhere && !top; i++)
        if (use(&s->where[i]))
            top = &s->where[i];
    if (!top || total <= 0 || top->delta_bytes <= 0)
        return 0;
    double share = (double)top->delta_bytes / (double)total;
    if (share >= 0.9)
        return (size_t)snprintf(buf, cap, "all of it in %s", top->label);
    if (share >= 0.5)
        return (size_t)snprintf(buf, cap, "most of it in %s (%.0f%%)", top->label, share * 100);
    char d[32];
    size_t off = (size_t)snprintf(buf, cap, "in");
    int shown = 0;
    for (size_t i = 0; i < s->nwhere && shown < 3 && off < cap; i++) {
        const struct mw_where *w = &s->where[i];
        if (w->delta_bytes <= 0 || !use(w))
            continue;
        off += (size_t)snprintf(buf + off, cap - off, "%s %s %s", shown ? "," : "", w->label,
                                mw_fmt_size_delta(d, sizeof(d), w->delta_bytes));
        shown++;
    }
    return off;
}

static bool use_detail(const struct mw_where *w)
{
    /* regions, slab caches, shared memory */
    return !is_kind(w, "meminfo") && !is_kind(w, "memory") && !is_kind(w, "process");
}

static bool use_meminfo(const struct mw_where *w)
{
    return is_kind(w, "meminfo");
}

static bool use_memory(const struct mw_where *w)
{
    return is_kind(w, "memory");
}

static int64_t positive_sum(const struct mw_series *s, bool (*use)(const struct mw_where *))
{
    int64_t total = 0;
    for (size_t i = 0; i < s->nwhere; i++)
        if (s->where[i].delta_bytes > 0 && use(&s->where[i]))
            total += s->where[i].delta_bytes;
    return total;
}

/* The system over all of used memory (issue 16: the shares were taken over
 * the kernel's parts only, so a process leaking 400 MiB read as "most of
 * it in slab task_struct", 96 KiB). The part that grew most leads; slab
 * goes on to its caches, user memory to the processes that grew. Returns
 * false to leave it to the finer items. */
static bool system_summary(const struct mw_series *s, char *buf, size_t cap)
{
    int64_t total = positive_sum(s, use_memory);
    const struct mw_where *top = NULL;
    for (size_t i = 0; i < s->nwhere && !top; i++)
        if (use_memory(&s->where[i]))
            top = &s->where[i];
    if (total <= 0 || !top || top->delta_bytes <= 0 || strcmp(s->series_name, "slab") == 0)
        return false; /* a verdict on the slab total is explained by its caches */
    enum mw_part part = MW_PART_OTHER;
    for (size_t p = 0; p < MW_PART_COUNT; p++)
        if (strcmp(top->label, part_names[p]) == 0)
            part = (enum mw_part)p;
    if ((part == MW_PART_SLAB_RECL || part == MW_PART_SLAB_UNRECL) &&
        positive_sum(s, use_detail) > 0)
        return false; /* the caches say it better */
    size_t off = share_phrase(s, use_memory, total, buf, cap);
    if (!mw_part_is_user(part))
        return off > 0;
    char d[32], c[64];
    for (size_t i = 0; i < s->ngrowers && i < 3 && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%sPID %d %s %s", i ? ", " : ": ",
                                s->growers[i].pid, comm_clean(c, s->growers[i].comm),
                                mw_fmt_size_delta(d, sizeof(d), s->growers[i].delta_bytes));
    return true;
}

void mw_where_summary(const struct mw_series *s, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (s->system && s->have_parts && system_summary(s, buf, cap))
        return;
    /* the system's meminfo lines overlap its slab caches: rank the caches
     * and shared memory only, meminfo only when nothing finer grew */
    int64_t total = positive_sum(s, use_detail);
    if (total > 0)
        share_phrase(s, use_detail, total, buf, cap);
    else
        share_phrase(s, use_meminfo, positive_sum(s, use_meminfo), buf, cap);
}

void mw_series_print(FILE *f, const struct mw_series *s)
{
    const struct mw_trend *t = &s->trend;
    char name[160], r[320], w[256], words[320], a[32], b[32], cc[64], pc[64];
    if (s->system)
        snprintf(name, sizeof(name), "system (%s)", s->series_name);
    else
        snprintf(name, sizeof(name), "PID %d %s (%s%s%s)", s->pid, comm_clean(cc, s->comm),
                 s->pool[0] ? "pool " : "", s->pool[0] ? comm_clean(pc, s->pool) : "",
                 s->pool[0] ? ": blocks in use" : s->series_name);
    mw_trend_words(t, words, sizeof(words));
    fprintf(f, "%s: %s%s\n", name, words,
            t->verdict == MW_TREND_UNKNOWN && s->exited ? " (the process exited)" : "");
    if (t->verdict == MW_TREND_UNKNOWN)
        return;
    mw_where_summary(s, w, sizeof(w));
    fprintf(f, "  %s -> %s over %.1f s (%zu samples)\n",
            mw_fmt_size(a, sizeof(a), (uint64_t)t->first_bytes),
            mw_fmt_size(b, sizeof(b), (uint64_t)t->last_bytes), t->window_s, s->n);
    if (w[0])
        fprintf(f, "  %s: %s\n", t->verdict >= MW_TREND_WARNING ? "grew" : "changed", w);
    if (s->exited)
        fprintf(f, "  the process exited after %.1f s\n", s->exited_at_s);
    for (size_t c = 0; c < MW_ARRAY_SIZE(s->comp); c++) {
        const struct mw_component *k = &s->comp[c];
        if (!k->have || k->trend.verdict < MW_TREND_WARNING)
            continue;
        mw_trend_words(&k->trend, r, sizeof(r));
        fprintf(f, "  kernel: %s %s\n", k->name, r);
    }
    if (s->system && s->have_shm && (s->shm_last.sysv_orphans || s->shm_last.devshm_orphans))
        fprintf(f,
                "  orphaned shared memory: %zu SysV segment%s (%s), %zu /dev/shm file%s (%s); "
                "see 'memwarden shm'\n",
                s->shm_last.sysv_orphans, s->shm_last.sysv_orphans == 1 ? "" : "s",
                mw_fmt_size(a, sizeof(a), s->shm_last.sysv_orphan_bytes),
                s->shm_last.devshm_orphans, s->shm_last.devshm_orphans == 1 ? "" : "s",
                mw_fmt_size(b, sizeof(b), s->shm_last.devshm_orphan_bytes));
    if (t->verdict >= MW_TREND_WARNING && s->tte_s >= 0) {
        double h = s->tte_s / 3600.0;
        if (h >= 48)
            fprintf(f, "  at this rate %s (%s) runs out in %.1f days\n", s->headroom_source,
                    mw_fmt_size(a, sizeof(a), s->headroom_bytes), h / 24);
        else if (h >= 1)
            fprintf(f, "  at this rate %s (%s) runs out in %.1f h\n", s->headroom_source,
                    mw_fmt_size(a, sizeof(a), s->headroom_bytes), h);
        else
            fprintf(f, "  at this rate %s (%s) runs out in %.0f min\n", s->headroom_source,
                    mw_fmt_size(a, sizeof(a), s->headroom_bytes), s->tte_s / 60);
    }
}

/* The trend's members of a series' JSON. */
static void trend_json(struct mw_json *j, const struct mw_trend *t)
{
    mw_json_str(j, "verdict", mw_trend_verdict_name(t->verdict));
    mw_json_str(j, "shape", mw_trend_shape_name(t->shape));
    mw_json_fixed(j, "slope_bytes_per_hour", t->slope_bytes_per_hour, 0);
    mw_json_fixed(j, "raw_slope_bytes_per_hour", t->raw_slope_bytes_per_hour, 0);
    mw_json_fixed(j, "net_bytes", t->net_bytes, 0);
    mw_json_fixed(j, "band_bytes", t->band_bytes, 0);
    mw_json_fixed(j, "window_s", t->window_s, 3);
    mw_json_fixed(j, "first_bytes", t->first_bytes, 0);
    mw_json_fixed(j, "last_bytes", t->last_bytes, 0);
    mw_json_fixed(j, "min_bytes", t->min_bytes, 0);
    mw_json_fixed(j, "max_bytes", t->max_bytes, 0);
    mw_json_bool(j, "falls_back", t->falls_back);
    mw_json_u64(j, "drops", t->drops);
    if (t->shape == MW_SHAPE_STEP) {
        mw_json_fixed(j, "step_bytes", t->step_bytes, 0);
        mw_json_fixed(j, "step_at_s", t->step_at_s, 3);
    }
}

/* What only the whole system's series has: the kernel's parts, the
 * processes that grew most, the orphaned shared memory. */
static void system_json(struct mw_json *j, const struct mw_series *s)
{
    mw_json_array_begin(j, "kernel");
    for (size_t c = 0; c < MW_ARRAY_SIZE(s->comp); c++) {
        const struct mw_component *k = &s->comp[c];
        if (!k->have)
            continue;
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "name", k->name);
        mw_json_str(j, "verdict", mw_trend_verdict_name(k->trend.verdict));
        mw_json_str(j, "shape", mw_trend_shape_name(k->trend.shape));
        mw_json_fixed(j, "slope_bytes_per_hour", k->trend.slope_bytes_per_hour, 0);
        mw_json_fixed(j, "net_bytes", k->trend.net_bytes, 0);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    if (s->have_parts) {
        mw_json_array_begin(j, "growers");
        for (size_t i = 0; i < s->ngrowers; i++) {
            const struct mw_grower *g = &s->growers[i];
            mw_json_object_begin(j, NULL);
            mw_json_i64(j, "pid", g->pid);
            mw_json_str(j, "comm", g->comm);
            mw_json_i64(j, "rss_delta_bytes", g->delta_bytes);
            mw_json_u64(j, "rss_bytes", g->last_bytes);
            if (g->pss_delta_bytes)
                mw_json_i64(j, "pss_delta_bytes", g->pss_delta_bytes);
            mw_json_object_end(j);
        }
        mw_json_array_end(j);
    }
    if (s->have_shm) {
        mw_json_u64(j, "sysv_orphans", s->shm_last.sysv_orphans);
        mw_json_u64(j, "sysv_orphan_bytes", s->shm_last.sysv_orphan_bytes);
        mw_json_u64(j, "devshm_orphans", s->shm_last.devshm_orphans);
        mw_json_u64(j, "devshm_orphan_bytes", s->shm_last.devshm_orphan_bytes);
    }
}

void mw_series_json(struct mw_json *j, const char *key, const struct mw_series *s)
{
    const struct mw_trend *t = &s->trend;
    char n[320], w[256];
    mw_json_object_begin(j, key);
    mw_json_str(j, "target", s->system ? "system" : "process");
    if (!s->system) {
        mw_json_i64(j, "pid", s->pid);
        mw_json_str(j, "comm", s->comm);
    }
    if (s->pool[0])
        mw_json_str(j, "pool", s->pool);
    mw_json_str(j, "series", s->series_name);
    trend_json(j, t);
    mw_trend_note(t, n, sizeof(n));
    mw_json_str(j, "note", t->verdict == MW_TREND_UNKNOWN ? "not enough samples" : n);
    mw_trend_words(t, n, sizeof(n));
    mw_json_str(j, "words", n);
    mw_where_summary(s, w, sizeof(w));
    mw_json_str(j, "where_summary", w);
    mw_json_array_begin(j, "where");
    for (size_t i = 0; i < s->nwhere; i++) {
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "label", s->where[i].label);
        mw_json_str(j, "kind", s->where[i].kind);
        mw_json_i64(j, "delta_bytes", s->where[i].delta_bytes);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_u64(j, "headroom_bytes", s->headroom_bytes);
    mw_json_str(j, "headroom_source", s->headroom_source ? s->headroom_source : "MemAvailable");
    if (s->tte_s >= 0)
        mw_json_fixed(j, "time_to_exhaustion_s", s->tte_s, 0);
    else
        mw_json_null(j, "time_to_exhaustion_s");
    mw_json_bool(j, "exited", s->exited);
    if (s->system)
        system_json(j, s);
    mw_json_array_begin(j, "samples");
    for (size_t i = 0; i < s->n; i++) {
        mw_json_object_begin(j, NULL);
        mw_json_fixed(j, "t", s->t[i], 3);
        mw_json_fixed(j, "bytes", s->v[i], 0);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_object_end(j);
}

int mw_parse_rate(const char *s, double *bytes_per_hour)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    uint64_t b;
    if (mw_parse_size(buf, &b) < 0)
        return -EINVAL;
    double mult = 1;
    if (slash) {
        const char *u = slash + 1;
        if (strcmp(u, "h") == 0 || strcmp(u, "hour") == 0)
            mult = 1;
        else if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
            mult = 60;
        else if (strcmp(u, "s") == 0 || strcmp(u, "sec") == 0)
            mult = 3600;
        else
            return -EINVAL;
    }
    *bytes_per_hour = (double)b * mult;
    return 0;
}

uint64_t mw_process_headroom(const struct mw_root *root, int pid, uint64_t mem_available,
                             uint64_t mem_total, const char **source)
{
    *source = "MemAvailable";
    char path[64], *buf = NULL, cg[512];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
    if (mw_read_file(root, path, &buf, NULL) < 0)
        return mem_available;
    int rc = mw_proc_cgroup_parse_buf(buf, true, cg, sizeof(cg));
    free(buf);
    if (rc < 0)
        return mem_available;
    static const char *const bases[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified",
                                        "/sys/fs/cgroup"};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        char dir[600];
        snprintf(dir, sizeof(dir), "%s%s", bases[i], strcmp(cg, "/") == 0 ? "" : cg);
        struct mw_cgroup_mem m;
        if (mw_cgroup_mem_read(root, dir, &m) != 0)
            continue;
        if (m.limit != MW_CG_UNLIMITED && m.limit < mem_total) {
            uint64_t left = m.limit > m.usage ? m.limit - m.usage : 0;
            if (left < mem_available) {
                *source = "cgroup limit";
                return left;
            }
        }
        break;
    }
    return mem_available;
}

void mw_series_free(struct mw_series *s)
{
    free(s->t);
    free(s->v);
    free(s->where);
    free(s->hist);
    mw_regions_free(&s->reg_first);
    mw_regions_free(&s->reg_last);
    mw_slab_set_free(&s->slab_first);
    mw_slab_set_free(&s->slab_last);
    mw_shm_report_free(&s->shm_first);
    mw_shm_report_free(&s->shm_last);
    mw_procmem_free(&s->procs_first);
    mw_procmem_free(&s->procs_last);
    memset(s, 0, sizeof(*s));
}
