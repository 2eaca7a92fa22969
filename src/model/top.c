#include "model/top.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/procs.h"
#include "model/procview.h"

int mw_top_sort_parse(const char *s, enum mw_top_sort *out)
{
    static const char *const names[] = {"pss", "uss", "rss", "swap", "adj", "pid"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum mw_top_sort)i;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *const by_names[] = {"none", "program", "cgroup", "class", "unit"};

int mw_top_by_parse(const char *s, enum mw_top_by *out)
{
    for (size_t i = 1; i < MW_ARRAY_SIZE(by_names); i++) {
        if (strcmp(s, by_names[i]) == 0) {
            *out = (enum mw_top_by)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *mw_top_by_name(enum mw_top_by by)
{
    return (size_t)by < MW_ARRAY_SIZE(by_names) ? by_names[by] : "?";
}

bool mw_top_cgroup_under(const char *cg, const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    if (n == 1 && prefix[0] == '/')
        return cg[0] == '/';
    return strncmp(cg, prefix, n) == 0 && (cg[n] == '\0' || cg[n] == '/');
}

static uint64_t sort_bytes(const struct mw_proc *p, enum mw_top_sort s)
{
    switch (s) {
    case MW_TOP_SORT_USS:
        return p->uss_bytes;
    case MW_TOP_SORT_RSS:
        return p->rss_bytes;
    case MW_TOP_SORT_SWAP:
        return p->swap_bytes;
    default:
        return p->pss_bytes;
    }
}

/* qsort has no context argument in C11; the sort key travels in a static
 * that only mw_top_view_build sets (the CLI is single-threaded). */
static enum mw_top_sort sort_key;

static int cmp_rows(const void *a, const void *b)
{
    const struct mw_proc *x = *(const struct mw_proc *const *)a;
    const struct mw_proc *y = *(const struct mw_proc *const *)b;
    if (sort_key == MW_TOP_SORT_ADJ) {
        int ax = mw_proc_adj_key(x), ay = mw_proc_adj_key(y);
        if (ax != ay)
            return ax > ay ? -1 : 1;
        if (x->pss_bytes != y->pss_bytes)
            return x->pss_bytes > y->pss_bytes ? -1 : 1;
    } else if (sort_key != MW_TOP_SORT_PID) {
        uint64_t vx = sort_bytes(x, sort_key), vy = sort_bytes(y, sort_key);
        if (vx != vy)
            return vx > vy ? -1 : 1;
    }
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_groups(const void *a, const void *b)
{
    const struct mw_top_group *x = a, *y = b;
    uint64_t vx, vy;
    switch (sort_key) {
    case MW_TOP_SORT_USS:
        vx = x->sum.uss, vy = y->sum.uss;
        break;
    case MW_TOP_SORT_RSS:
        vx = x->sum.rss, vy = y->sum.rss;
        break;
    case MW_TOP_SORT_SWAP:
        vx = x->sum.swap, vy = y->sum.swap;
        break;
    default:
        vx = x->sum.pss, vy = y->sum.pss;
    }
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int class_base(const struct mw_top_group *g)
{
    int adj;
    if (!g->have_adj || mw_adj_class_parse(g->name, &adj) < 0)
        return -2000;
    return adj;
}

static int cmp_class_groups(const void *a, const void *b)
{
    int x = class_base(a), y = class_base(b);
    return x > y ? -1 : x < y;
}

static void sum_add(struct mw_top_sum *s, const struct mw_proc *p)
{
    s->count++;
    s->pss += p->pss_bytes;
    s->uss += p->uss_bytes;
    s->rss += p->rss_bytes;
    s->swap += p->swap_bytes;
    if (p->flags & MW_PROC_MEM_EST)
        s->estimated++;
    if (p->flags & MW_PROC_SWAP_EST)
        s->swap_estimated++;
}

static bool keep(const struct mw_proc *p, const struct mw_top_filter *f)
{
    if (f->exclude_pid && p->pid == f->exclude_pid)
        return false;
    if (f->have_uid && ((p->flags & MW_PROC_NO_UID) || p->uid != f->uid))
        return false;
    if (f->cgroup_prefix &&
        ((p->flags & MW_PROC_NO_CGROUP) || !mw_top_cgroup_under(p->cgroup, f->cgroup_prefix)))
        return false;
    if (f->match && regexec(f->match, p->cmdline, 0, NULL, 0) != 0)
        return false;
    return true;
}

static void group_key(const struct mw_proc *p, enum mw_top_by by, char *buf, size_t cap)
{
    switch (by) {
    case MW_TOP_BY_PROGRAM:
        mw_proc_program(p, buf, cap);
        break;
    case MW_TOP_BY_CGROUP:
        snprintf(buf, cap, "%s", (p->flags & MW_PROC_NO_CGROUP) ? "?" : p->cgroup);
        break;
    case MW_TOP_BY_UNIT:
        snprintf(buf, cap, "%s", p->unit && *p->unit ? p->unit : MW_TOP_NO_UNIT);
        break;
    default:
        snprintf(buf, cap, "%s", mw_proc_class_cell(p));
    }
}

static int build_groups(struct mw_top_view *v, const struct mw_top_filter *f)
{
    /* Few groups in practice (tens): a linear search per row is simpler
     * than a hash and fast enough for thousands of processes. */
    size_t cap = 0;
    char key[4096];
    for (size_t i = 0; i < v->n; i++) {
        const struct mw_proc *p = v->rows[i];
        group_key(p, f->by, key, sizeof(key));
        struct mw_top_group *g = NULL;
        for (size_t k = 0; k < v->ngroups; k++) {
            if (strcmp(v->groups[k].name, key) == 0) {
                g = &v->groups[k];
                break;
            }
        }
        if (!g) {
            if (v->ngroups == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                struct mw_top_group *ng = realloc(v->groups, ncap * sizeof(*ng));
                if (!ng)
                    return -ENOMEM;
                v->groups = ng;
                cap = ncap;
            }
            g = &v->groups[v->ngroups];
            memset(g, 0, sizeof(*g));
            g->name = strdup(key);
            if (!g->name)
                return -ENOMEM;
            v->ngroups++;
        }
        sum_add(&g->sum, p);
        g->estimated = g->sum.estimated;
        if (!(p->flags & MW_PROC_NO_ADJ)) {
            if (!g->have_adj || p->oom_score_adj < g->adj_min)
                g->adj_min = p->oom_score_adj;
            if (!g->have_adj || p->oom_score_adj > g->adj_max)
                g->adj_max = p->oom_score_adj;
            g->have_adj = true;
        }
    }
    if (v->ngroups == 0)
        return 0;
    if (f->by == MW_TOP_BY_CLASS) {
        qsort(v->groups, v->ngroups, sizeof(*v->groups), cmp_class_groups);
        uint64_t cp = 0, cu = 0;
        for (size_t k = 0; k < v->ngroups; k++) {
            if (!v->groups[k].have_adj)
                continue;
            cp += v->groups[k].sum.pss;
            cu += v->groups[k].sum.uss;
            v->groups[k].cum_pss = cp;
            v->groups[k].cum_uss = cu;
        }
    } else {
        qsort(v->groups, v->ngroups, sizeof(*v->groups), cmp_groups);
    }
    return 0;
}

int mw_top_view_build(struct mw_top_view *out, const struct mw_proctable *t,
                      const struct mw_top_filter *f)
{
    struct mw_top_view v;
    memset(&v, 0, sizeof(v));
    v.by = f->by;
    v.rows = malloc((t->n ? t->n : 1) * sizeof(*v.rows));
    if (!v.rows)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        if (keep(&t->procs[i], f)) {
            v.rows[v.n++] = &t->procs[i];
            sum_add(&v.total, &t->procs[i]);
        }
    }
    sort_key = f->sort;
    qsort(v.rows, v.n, sizeof(*v.rows), cmp_rows);
    if (f->by != MW_TOP_BY_NONE && build_groups(&v, f) < 0) {
        mw_top_view_free(&v);
        return -ENOMEM;
    }
    *out = v;
    return 0;
}

void mw_top_view_free(struct mw_top_view *v)
{
    for (size_t k = 0; k < v->ngroups; k++)
        free(v->groups[k].name);
    free(v->groups);
    free(v->rows);
    memset(v, 0, sizeof(*v));
}
