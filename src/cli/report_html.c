#include "cli/report_html.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"
#include "base/util.h"

/* The plot area of every chart, in SVG user units. */
#define CH_W  900.0
#define CH_H  220.0
#define CH_ML 70.0 /* room for the y labels */
#define CH_MT 10.0
#define CH_MB 30.0 /* room for the x labels */
#define CH_PW (CH_W - CH_ML - 10.0)
#define CH_PH (CH_H - CH_MT - CH_MB)
/* At most this many points per drawn series (evenly chosen): a day's
 * record at 1 s stays a page a browser opens at once. */
#define CH_MAX_POINTS 1200

int rpt_xy_push(struct rpt_xy *s, double t, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *t2 = realloc(s->t, cap * sizeof(double));
        if (!t2)
            return -ENOMEM;
        s->t = t2;
        double *v2 = realloc(s->v, cap * sizeof(double));
        if (!v2)
            return -ENOMEM;
        s->v = v2;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->v[s->n++] = v;
    return 0;
}

void rpt_xy_free(struct rpt_xy *s)
{
    free(s->t);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

void rpt_trend_line(const struct rpt_xy *s, const struct mw_trend *tr, double slope_bytes_per_s,
                    struct rpt_trend *out)
{
    memset(out, 0, sizeof(*out));
    out->tr = *tr;
    out->b = slope_bytes_per_s;
    double *r = s->n ? malloc(s->n * sizeof(double)) : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < s->n; i++)
        r[i] = s->v[i] - out->b * s->t[i];
    out->a = mw_trend_median(r, s->n);
    free(r);
    out->have = true;
}

void rpt_trend_fit(const struct rpt_xy *s, double band_bytes, struct rpt_trend *out)
{
    struct mw_trend_params p;
    struct mw_trend tr;
    memset(out, 0, sizeof(*out));
    mw_trend_params_default(&p);
    p.band_fixed = band_bytes > 0;
    p.band_bytes = band_bytes;
    if (s->n < 3 || mw_trend_classify(s->t, s->v, s->n, &p, &tr) < 0)
        return;
    /* the line the verdict rests on: its slope, through the median residual */
    rpt_trend_line(s, &tr, tr.slope_bytes_per_hour / 3600.0, out);
}

static void esc(FILE *f, const char *s)
{
    mw_text_put_markup(f, s, strlen(s));
}

/* "1.5 GiB", "300 MiB", "12 KiB", "512 B" (negative with a sign). */
static void fmt_bytes(char *buf, size_t cap, double b)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double a = fabs(b);
    int k = 0;
    while (a >= 1024 && k < 4) {
        a /= 1024;
        k++;
    }
    snprintf(buf, cap, "%s%.*f %s", b < 0 ? "-" : "", a < 10 && k ? 1 : 0, a, u[k]);
}

/* "45s", "12m", "3h20m", "2d4h" */
static void fmt_span(char *buf, size_t cap, double s)
{
    long v = lround(s);
    if (v < 120)
        snprintf(buf, cap, "%lds", v);
    else if (v < 600 && v % 60)
        snprintf(buf, cap, "%ldm%02lds", v / 60, v % 60);
    else if (v < 7200)
        snprintf(buf, cap, "%ldm", v / 60);
    else if (v < 172800)
        snprintf(buf, cap, "%ldh%02ldm", v / 3600, v / 60 % 60);
    else
        snprintf(buf, cap, "%ldd%02ldh", v / 86400, v / 3600 % 24);
}

static void fmt_utc(char *buf, size_t cap, double t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t < 1e8 || !gmtime_r(&tt, &tm)) { /* not a wall clock (a log's own time) */
        snprintf(buf, cap, "t=%.0f s", t);
        return;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* ---- charts ------------------------------------------------------------- */

struct chart {
    const char *id, *title;
    double t0, t1, ymax;
    bool pct;  /* values are percentages, not bytes */
    bool wall; /* times are a wall clock */
};

static double cx(const struct chart *c, double t)
{
    double span = c->t1 > c->t0 ? c->t1 - c->t0 : 1;
    return CH_ML + (t - c->t0) / span * CH_PW;
}

static double cy(const struct chart *c, double v)
{
    double y = CH_MT + CH_PH - v / (c->ymax > 0 ? c->ymax : 1) * CH_PH;
    return y < CH_MT ? CH_MT : y > CH_MT + CH_PH ? CH_MT + CH_PH : y;
}

/* A round top for the y axis: 1, 2 or 5 times a power of ten (of 1024 for
 * bytes above 1 KiB, so the labels read as whole MiB/GiB). */
static double nice_max(double v, bool pct)
{
    if (pct)
        return v <= 10 ? 10 : v <= 25 ? 25 : v <= 50 ? 50 : 100;
    if (v <= 0)
        return 1;
    double base = 1;
    while (base * 1024 <= v)
        base *= 1024;
    double m = v / base, steps[] = {1,  1.5, 2,  3,   4,   6,   8,   12,  16,  24,  32,
                                    48, 64,  96, 128, 192, 256, 384, 512, 768, 1024};
    for (size_t i = 0; i < MW_ARRAY_SIZE(steps); i++)
        if (m <= steps[i])
            return steps[i] * base;
    return 1024 * base;
}

static void chart_begin(FILE *f, const struct chart *c)
{
    char lab[48];
    fprintf(f, "<figure class=\"chart\" id=\"%s\">\n<figcaption>", c->id);
    esc(f, c->title);
    fprintf(f, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", CH_W,
            CH_H);
    esc(f, c->title);
    fputs("\">\n", f);
    for (int i = 0; i <= 4; i++) {
        double v = c->ymax * i / 4, y = cy(c, v);
        if (c->pct)
            snprintf(lab, sizeof(lab), "%.0f %%", v);
        else
            fmt_bytes(lab, sizeof(lab), v);
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"ylab\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                CH_ML, CH_ML + CH_PW, y, y, CH_ML - 6, y + 4, lab);
    }
    for (int i = 0; i <= 4; i++) {
        double t = c->t0 + (c->t1 - c->t0) * i / 4;
        fmt_span(lab, sizeof(lab), t - c->t0);
        fprintf(f, "<text class=\"xlab\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s%s</text>\n",
                cx(c, t), CH_H - 8,
                i == 0   ? "start"
                : i == 4 ? "end"
                         : "middle",
                i ? "+" : "", i ? lab : "0");
    }
}

static void chart_end(FILE *f, const struct chart *c)
{
    char a[48], b[48];
    fmt_utc(a, sizeof(a), c->t0);
    fmt_utc(b, sizeof(b), c->t1);
    fprintf(f, "</svg>\n<p class=\"span\">%s &#8594; %s</p>\n</figure>\n", a, b);
}

/* The points of S drawn: at most CH_MAX_POINTS, evenly chosen, the last kept. */
static void points(FILE *f, const struct chart *c, const struct rpt_xy *s, const double *v)
{
    size_t step = s->n > CH_MAX_POINTS ? (s->n + CH_MAX_POINTS - 1) / CH_MAX_POINTS : 1;
    for (size_t i = 0; i < s->n; i += step) {
        size_t k = i + step >= s->n ? s->n - 1 : i;
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", cx(c, s->t[k]), cy(c, v[k]));
        if (k == s->n - 1)
            break;
    }
}

/* A line; NAME is the legend's and the data-series attribute's text. */
static void line(FILE *f, const struct chart *c, const struct rpt_xy *s, const char *name,
                 int color, const char *extra_class)
{
    if (s->n == 0)
        return;
    fprintf(f, "<polyline class=\"ln c%d%s%s\" data-series=\"", color, extra_class ? " " : "",
            extra_class ? extra_class : "");
    esc(f, name);
    fputs("\" points=\"", f);
    points(f, c, s, s->v);
    fputs("\"><title>", f);
    esc(f, name);
    fputs("</title></polyline>\n", f);
}

/* Stacked areas: LAYERS[0] at the bottom; each drawn from 0 to its running
 * sum, the top first, so the ones below paint over them. */
static void stacked(FILE *f, const struct chart *c, const struct rpt_xy *const *layers,
                    const char *const *names, const int *colors, int n)
{
    size_t np = layers[0]->n;
    double *cum = calloc(np * (size_t)n, sizeof(double));
    if (!cum || np == 0) {
        free(cum);
        return;
    }
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < np; i++)
            cum[(size_t)k * np + i] =
                (k ? cum[(size_t)(k - 1) * np + i] : 0) + (i < layers[k]->n ? layers[k]->v[i] : 0);
    for (int k = n - 1; k >= 0; k--) {
        fprintf(f, "<polygon class=\"area c%d\" data-series=\"", colors[k]);
        esc(f, names[k]);
        fprintf(f, "\" points=\"%.1f,%.1f ", cx(c, layers[0]->t[0]), cy(c, 0));
        points(f, c, layers[0], cum + (size_t)k * np);
        fprintf(f, " %.1f,%.1f\"><title>", cx(c, layers[0]->t[np - 1]), cy(c, 0));
        esc(f, names[k]);
        fputs("</title></polygon>\n", f);
    }
    free(cum);
}

/* The fitted line of T over S's span, dashed. */
static void fit_line(FILE *f, const struct chart *c, const struct rpt_xy *s,
                     const struct rpt_trend *t, double t_origin, const char *name)
{
    if (!t->have || s->n < 2)
        return;
    double ta = s->t[0], tb = s->t[s->n - 1];
    fprintf(f,
            "<line class=\"fit\" data-series=\"fit: %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\"><title>",
            name, cx(c, ta + t_origin), cy(c, t->a + t->b * ta), cx(c, tb + t_origin),
            cy(c, t->a + t->b * tb));
    char sl[48], words[320];
    fmt_bytes(sl, sizeof(sl), t->b * 3600.0);
    mw_trend_words(&t->tr, words, sizeof(words));
    fprintf(f, "fitted: %s per hour; ", sl);
    esc(f, words);
    fputs("</title></line>\n", f);
}

/* Kill markers: a dashed rule and a dot with the kill on hover. */
static void kill_marks(FILE *f, const struct chart *c, const struct rpt *r)
{
    char fr[48], rs[48], when[48];
    for (size_t i = 0; i < r->nkills; i++) {
        const struct rpt_kill *k = &r->kills[i];
        if (k->t < c->t0 || k->t > c->t1)
            continue;
        double x = cx(c, k->t);
        fprintf(f,
                "<g class=\"kill%s\" data-kill=\"%zu\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                "y2=\"%.1f\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/><title>",
                k->dry_run ? " dry" : "", i, x, x, CH_MT, CH_MT + CH_PH, x, CH_MT + 5);
        fmt_bytes(fr, sizeof(fr), (double)k->freed);
        fmt_bytes(rs, sizeof(rs), (double)k->rss);
        fmt_utc(when, sizeof(when), k->t);
        fprintf(f, "%s pid %d ", k->dry_run ? "would kill" : "killed", k->pid);
        esc(f, k->prog);
        fputs(": ", f);
        esc(f, k->reason);
        fprintf(f, ", RSS %s, freed %s, %s</title></g>\n", rs, fr, when);
    }
}

/* ---- sections ----------------------------------------------------------- */

/* The wall-clock span of the record and the kills. */
static bool wall_span(const struct rpt *r, double *t0, double *t1)
{
    bool any = false;
    const struct rpt_xy *all[RPT_MAX_PROCS + 1];
    int n = 0;
    all[n++] = &r->used;
    for (size_t i = 0; i < r->nprocs && i < RPT_MAX_PROCS; i++)
        all[n++] = &r->procs[i].rss;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < all[k]->n; i++) {
            double t = all[k]->t[i];
            *t0 = any && *t0 < t ? *t0 : t;
            *t1 = any && *t1 > t ? *t1 : t;
            any = true;
        }
    for (size_t i = 0; i < r->nkills; i++) {
        double t = r->kills[i].t;
        *t0 = any && *t0 < t ? *t0 : t;
        *t1 = any && *t1 > t ? *t1 : t;
        any = true;
    }
    if (any && *t1 <= *t0)
        *t1 = *t0 + 1;
    return any;
}

static double xy_max(const struct rpt_xy *s)
{
    double m = 0;
    for (size_t i = 0; i < s->n; i++)
        m = s->v[i] > m ? s->v[i] : m;
    return m;
}

static void legend(FILE *f, const char *const *names, const int *colors, int n)
{
    fputs("<ul class=\"legend\">", f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "<li><span class=\"sw c%d\"></span>", colors[i]);
        esc(f, names[i]);
        fputs("</li>", f);
    }
    fputs("</ul>\n", f);
}

static void section_memory(FILE *f, const struct rpt *r, double t0, double t1)
{
    if (r->used.n == 0) {
        /* an axis without data would read 0 B..1 B: say it in words */
        if (r->nkills)
            fputs("<section><h2>Memory</h2>\n<p class=\"note\">No memory samples in the inputs: "
                  "a kill history carries memory per kill (the table below); the kills are "
                  "drawn on the pressure chart.</p>\n</section>\n",
                  f);
        return;
    }
    double top = 0;
    for (size_t i = 0; i < r->used.n; i++) {
        double s = r->used.v[i] + r->cache.v[i] + r->avail_rest.v[i];
        top = s > top ? s : top;
    }
    struct chart c = {.id = "memory",
                      .title = "Memory over time (stacked: used, buff/cache, free)",
                      .t0 = t0,
                      .t1 = t1,
                      .ymax = nice_max(top, false),
                      .wall = true};
    const struct rpt_xy *layers[] = {&r->used, &r->cache, &r->avail_rest};
    const char *names[] = {"used", "buff/cache", "free"};
    int colors[] = {1, 2, 3};
    fputs("<section><h2>Memory</h2>\n", f);
    chart_begin(f, &c);
    stacked(f, &c, layers, names, colors, 3);
    fit_line(f, &c, &r->used, &r->used_trend, 0, "used");
    kill_marks(f, &c, r);
    chart_end(f, &c);
    legend(f, names, colors, 3);
    fputs("<p class=\"note\">Swap is not in a watch record; the kill history's entries "
          "carry it per kill (table below).</p>\n",
          f);
    fputs("</section>\n", f);
}

static void section_procs(FILE *f, const struct rpt *r, double t0, double t1)
{
    size_t n = r->nprocs < RPT_MAX_PROCS ? r->nprocs : RPT_MAX_PROCS;
    if (n == 0)
        return;
    double top = 0;
    for (size_t i = 0; i < n; i++)
        top = r->procs[i].max_rss > top ? r->procs[i].max_rss : top;
    struct chart c = {.id = "processes",
                      .title = "The biggest processes (RSS), with the fitted trend",
                      .t0 = t0,
                      .t1 = t1,
                      .ymax = nice_max(top, false),
                      .wall = true};
    const char *names[RPT_MAX_PROCS];
    char buf[RPT_MAX_PROCS][96];
    int colors[RPT_MAX_PROCS];
    fputs("<section><h2>Processes</h2>\n", f);
    chart_begin(f, &c);
    for (size_t i = 0; i < n; i++) { /* the fitted lines first, under the data */
        const struct rpt_proc *p = &r->procs[i];
        if (p->trend.have && p->trend.tr.verdict >= MW_TREND_WARNING) {
            char nm[16];
            snprintf(nm, sizeof(nm), "%d", p->pid);
            fit_line(f, &c, &p->rss, &p->trend, 0, nm);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct rpt_proc *p = &r->procs[i];
        char comm[64];
        mw_text_clean(comm, sizeof(comm), p->comm, strlen(p->comm));
        snprintf(buf[i], sizeof(buf[i]), "%s (%d)", comm, p->pid);
        names[i] = buf[i];
        colors[i] = 4 + (int)i;
        line(f, &c, &p->rss, buf[i], colors[i], NULL);
    }
    kill_marks(f, &c, r);
    chart_end(f, &c);
    legend(f, names, colors, (int)n);
    fputs("<table><thead><tr><th>process</th><th>PID</th><th>first</th><th>last</th>"
          "<th>max</th><th>slope /h</th><th>verdict</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nprocs && i < 20; i++) {
        const struct rpt_proc *p = &r->procs[i];
        char a[32], b[32], m[32], s[32];
        fmt_bytes(a, sizeof(a), p->rss.n ? p->rss.v[0] : 0);
        fmt_bytes(b, sizeof(b), p->rss.n ? p->rss.v[p->rss.n - 1] : 0);
        fmt_bytes(m, sizeof(m), p->max_rss);
        fmt_bytes(s, sizeof(s), p->trend.have ? p->trend.tr.slope_bytes_per_hour : 0);
        fputs("<tr><td>", f);
        esc(f, p->comm);
        fprintf(f,
                "</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td "
                "class=\"v-%s\">%s</td></tr>\n",
                p->pid, a, b, m, s, mw_trend_verdict_name(p->trend.tr.verdict),
                mw_trend_verdict_name(p->trend.tr.verdict));
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void section_kernel(FILE *f, const struct rpt *r, double t0, double t1)
{
    if (r->slab.n == 0)
        return;
    double top = xy_max(&r->slab);
    double m2 = xy_max(&r->shmem), m3 = xy_max(&r->page_tables);
    top = m2 > top ? m2 : top;
    top = m3 > top ? m3 : top;
    struct chart c = {.id = "kernel",
                      .title = "Kernel memory: slab, unreclaimable slab, shmem, page tables",
                      .t0 = t0,
                      .t1 = t1,
                      .ymax = nice_max(top, false),
                      .wall = true};
    const char *names[] = {"slab", "slab unreclaimable", "shmem", "page tables"};
    int colors[] = {10, 11, 12, 13};
    fputs("<section><h2>Slab and shmem</h2>\n", f);
    chart_begin(f, &c);
    const struct rpt_xy *xs[] = {&r->slab, &r->sunreclaim, &r->shmem};
    const struct rpt_trend *ts[] = {&r->slab_trend, &r->sunreclaim_trend, &r->shmem_trend};
    for (int i = 0; i < 3; i++)
        if (ts[i]->have && ts[i]->tr.verdict >= MW_TREND_WARNING)
            fit_line(f, &c, xs[i], ts[i], 0, names[i]);
    line(f, &c, &r->slab, names[0], colors[0], NULL);
    line(f, &c, &r->sunreclaim, names[1], colors[1], NULL);
    line(f, &c, &r->shmem, names[2], colors[2], NULL);
    line(f, &c, &r->page_tables, names[3], colors[3], NULL);
    chart_end(f, &c);
    legend(f, names, colors, 4);
    fputs("</section>\n", f);
}

static void section_psi(FILE *f, const struct rpt *r, double t0, double t1)
{
    struct rpt_xy some = {0}, full = {0};
    for (size_t i = 0; i < r->nkills; i++)
        if (r->kills[i].psi_some >= 0) {
            rpt_xy_push(&some, r->kills[i].t, r->kills[i].psi_some);
            rpt_xy_push(&full, r->kills[i].t, r->kills[i].psi_full);
        }
    fputs("<section><h2>Pressure (PSI)</h2>\n", f);
    if (some.n == 0) {
        fputs("<p class=\"note\">No PSI in these inputs (a watch record does not carry it; a "
              "kill history carries it per kill, a snapshot once).</p>\n",
              f);
    } else {
        double top = xy_max(&some);
        struct chart c = {.id = "psi",
                          .title = "Memory pressure at each kill (PSI avg10, % of time stalled)",
                          .t0 = t0,
                          .t1 = t1,
                          .ymax = nice_max(top, true),
                          .pct = true,
                          .wall = true};
        const char *names[] = {"some", "full"};
        int colors[] = {14, 15};
        chart_begin(f, &c);
        line(f, &c, &some, names[0], colors[0], "dots");
        line(f, &c, &full, names[1], colors[1], "dots");
        kill_marks(f, &c, r);
        chart_end(f, &c);
        legend(f, names, colors, 2);
    }
    fputs("</section>\n", f);
    rpt_xy_free(&some);
    rpt_xy_free(&full);
}

static void section_kills(FILE *f, const struct rpt *r)
{
    if (r->nkills == 0)
        return;
    fprintf(f,
            "<section><h2>Kills (%zu)</h2>\n<table><thead><tr><th>time</th><th>PID</th>"
            "<th>program</th><th>reason</th><th>RSS</th><th>freed</th><th>PSI some/full</th>"
            "</tr></thead><tbody>\n",
            r->nkills);
    for (size_t i = 0; i < r->nkills && i < 500; i++) {
        const struct rpt_kill *k = &r->kills[i];
        char when[48], rs[32], fr[32];
        fmt_utc(when, sizeof(when), k->t);
        fmt_bytes(rs, sizeof(rs), (double)k->rss);
        fmt_bytes(fr, sizeof(fr), (double)k->freed);
        fprintf(f, "<tr%s><td>%s</td><td>%d</td><td>", k->dry_run ? " class=\"dry\"" : "", when,
                k->pid);
        esc(f, k->prog);
        fputs("</td><td>", f);
        esc(f, k->reason);
        fprintf(f, "%s</td><td>%s</td><td>%s</td>", k->dry_run ? " (dry run)" : "", rs, fr);
        if (k->psi_some >= 0)
            fprintf(f, "<td>%.2f / %.2f</td></tr>\n", k->psi_some, k->psi_full);
        else
            fputs("<td>-</td></tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void section_log(FILE *f, const struct rpt *r)
{
    if (!r->have_log || r->log_free.n == 0)
        return;
    struct chart c = {
        .id = "log",
        .title = r->log_available ? "Available memory from the log" : "Free memory from the log",
        .t0 = r->log_free.t[0],
        .t1 = r->log_free.t[r->log_free.n - 1] > r->log_free.t[0] ? r->log_free.t[r->log_free.n - 1]
                                                                  : r->log_free.t[0] + 1,
        .ymax = nice_max(xy_max(&r->log_free), false)};
    fputs("<section><h2>Log: ", f);
    esc(f, r->log_name);
    fputs("</h2>\n", f);
    chart_begin(f, &c);
    line(f, &c, &r->log_free, r->log_available ? "available" : "free", 1, NULL);
    fit_line(f, &c, &r->log_free, &r->log_trend, 0, "log");
    chart_end(f, &c);
    fputs("</section>\n", f);
}

static void section_snapshots(FILE *f, const struct rpt *r)
{
    static const enum mw_mi_field rows[] = {
        MI_MEM_TOTAL,  MI_MEM_AVAILABLE, MI_MEM_FREE,     MI_BUFFERS,     MI_CACHED,
        MI_SWAP_TOTAL, MI_SWAP_FREE,     MI_ANON_PAGES,   MI_SHMEM,       MI_SLAB,
        MI_SUNRECLAIM, MI_PAGE_TABLES,   MI_KERNEL_STACK, MI_VMALLOC_USED};
    if (r->nsnap == 0)
        return;
    fprintf(f, "<section><h2>%s</h2>\n<table><thead><tr><th>/proc/meminfo</th>",
            r->nsnap == 2 ? "Snapshots compared" : "Snapshot");
    for (int s = 0; s < r->nsnap; s++) {
        fputs("<th>", f);
        esc(f, r->snap[s].name);
        fputs("</th>", f);
    }
    fputs(r->nsnap == 2 ? "<th>change</th></tr></thead><tbody>\n" : "</tr></thead><tbody>\n", f);
    char b[48];
    for (size_t i = 0; i < MW_ARRAY_SIZE(rows); i++) {
        fprintf(f, "<tr><td>%s</td>", mw_meminfo_name(rows[i]));
        for (int s = 0; s < r->nsnap; s++) {
            fmt_bytes(b, sizeof(b), (double)mw_meminfo_bytes(&r->snap[s].mi, rows[i]));
            fprintf(f, "<td>%s</td>", b);
        }
        if (r->nsnap == 2) {
            double d = (double)mw_meminfo_bytes(&r->snap[1].mi, rows[i]) -
                       (double)mw_meminfo_bytes(&r->snap[0].mi, rows[i]);
            fmt_bytes(b, sizeof(b), d);
            fprintf(f, "<td class=\"%s\">%s%s</td>",
                    d > 0   ? "up"
                    : d < 0 ? "down"
                            : "",
                    d > 0 ? "+" : "", b);
        }
        fputs("</tr>\n", f);
    }
    fputs("<tr><td>PSI memory some / full avg10</td>", f);
    for (int s = 0; s < r->nsnap; s++) {
        if (r->snap[s].have_psi)
            fprintf(f, "<td>%.2f %% / %.2f %%</td>", r->snap[s].psi.some.avg10,
                    r->snap[s].psi.full.avg10);
        else
            fputs("<td>-</td>", f);
    }
    fputs(r->nsnap == 2 ? "<td></td></tr>\n" : "</tr>\n", f);
    fputs("</tbody></table>\n", f);
    for (int s = 0; s < r->nsnap; s++) {
        fputs("<p class=\"verdict\">", f);
        esc(f, r->snap[s].name);
        fputs(": ", f);
        esc(f, r->snap[s].verdict);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
}

static const char css[] =
    ":root{--bg:#fff;--fg:#1d2330;--mute:#5b6474;--grid:#e3e6ec;--box:#f4f6f9;--kill:#c62828;"
    "--c1:#5470c6;--c2:#91cc75;--c3:#dfe6f3;--c4:#ee6666;--c5:#3ba272;--c6:#fc8452;"
    "--c7:#9a60b4;--c8:#73c0de;--c9:#fac858;--c10:#5470c6;--c11:#ee6666;--c12:#9a60b4;"
    "--c13:#3ba272;--c14:#fc8452;--c15:#c62828}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#15181e;--fg:#dfe3ea;--mute:#9aa3b2;"
    "--grid:#2c313b;--box:#1f242c;--kill:#ff6b6b;--c1:#6f8be0;--c2:#7fbf62;--c3:#2a3140;"
    "--c3:#2a3344}}\n"
    "body{background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,sans-serif;"
    "max-width:960px;margin:1.5em auto;padding:0 1em}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em}\n"
    ".meta,.span,.note{color:var(--mute);font-size:.85em}\n"
    ".summary{background:var(--box);border-left:4px solid var(--c1);padding:.6em 1em;"
    "margin:1em 0}\n.summary pre{white-space:pre-wrap;margin:.4em 0;font-size:.85em}\n"
    ".summary li{margin:.2em 0}\n"
    "figure{margin:0}figcaption{font-weight:600;margin:.3em 0}svg{width:100%;height:auto}\n"
    ".grid{stroke:var(--grid);stroke-width:1}.ylab{fill:var(--mute);font-size:11px;"
    "text-anchor:end}.xlab{fill:var(--mute);font-size:11px}\n"
    ".ln{fill:none;stroke-width:2}.ln.dots{stroke-dasharray:2 6;stroke-linecap:round;"
    "stroke-width:5}\n.area{stroke:none}\n"
    ".fit{stroke:var(--fg);stroke-width:6;stroke-dasharray:10 6;opacity:.35}\n"
    ".kill line{stroke:var(--kill);stroke-dasharray:3 3}.kill circle{fill:var(--kill)}\n"
    ".kill.dry circle{fill:none;stroke:var(--kill)}\n"
    ".c1{stroke:var(--c1);fill:var(--c1)}.c2{stroke:var(--c2);fill:var(--c2)}"
    ".c3{stroke:var(--c3);fill:var(--c3)}.c4{stroke:var(--c4);fill:var(--c4)}"
    ".c5{stroke:var(--c5);fill:var(--c5)}.c6{stroke:var(--c6);fill:var(--c6)}"
    ".c7{stroke:var(--c7);fill:var(--c7)}.c8{stroke:var(--c8);fill:var(--c8)}"
    ".c9{stroke:var(--c9);fill:var(--c9)}.c10{stroke:var(--c10);fill:var(--c10)}"
    ".c11{stroke:var(--c11);fill:var(--c11)}.c12{stroke:var(--c12);fill:var(--c12)}"
    ".c13{stroke:var(--c13);fill:var(--c13)}.c14{stroke:var(--c14);fill:var(--c14)}"
    ".c15{stroke:var(--c15);fill:var(--c15)}\n"
    ".ln.c1,.ln.c2,.ln.c3,.ln.c4,.ln.c5,.ln.c6,.ln.c7,.ln.c8,.ln.c9,.ln.c10,.ln.c11,.ln.c12,"
    ".ln.c13,.ln.c14,.ln.c15{fill:none}\n"
    ".legend{list-style:none;padding:0;margin:.2em 0;display:flex;flex-wrap:wrap;gap:.3em 1.2em;"
    "font-size:.85em}.sw{display:inline-block;width:.9em;height:.9em;margin-right:.35em;"
    "vertical-align:-.1em;border-radius:2px;border:1px solid var(--grid)}\n"
    ".sw.c1{background:var(--c1)}.sw.c2{background:var(--c2)}.sw.c3{background:var(--c3)}"
    ".sw.c4{background:var(--c4)}.sw.c5{background:var(--c5)}.sw.c6{background:var(--c6)}"
    ".sw.c7{background:var(--c7)}.sw.c8{background:var(--c8)}.sw.c9{background:var(--c9)}"
    ".sw.c10{background:var(--c10)}.sw.c11{background:var(--c11)}.sw.c12{background:var(--c12)}"
    ".sw.c13{background:var(--c13)}.sw.c14{background:var(--c14)}.sw.c15{background:var(--c15)}\n"
    "table{border-collapse:collapse;width:100%;font-size:.85em;margin:.6em 0}"
    "th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--grid)}"
    "td{font-variant-numeric:tabular-nums}\n"
    ".v-leak,.up{color:var(--kill);font-weight:600}.v-warning{color:#d08a00;font-weight:600}"
    "tr.dry{color:var(--mute)}\n"
    "@media print{:root{--bg:#fff;--fg:#000;--mute:#444;--grid:#ccc;--box:#f3f3f3;--c3:#e8ecf4}"
    "body{max-width:none;margin:0;font-size:11pt}section,figure{break-inside:avoid}}\n";

/* "3 kills and 1 dry-run choice between T0 and T1; reasons: a x2, b x1." */
static void summary_kills(FILE *f, const struct rpt *r, double t0, double t1)
{
    char a[48], b[48];
    size_t real = 0;
    for (size_t i = 0; i < r->nkills; i++)
        real += !r->kills[i].dry_run;
    fprintf(f, "<li>%zu kill%s", real, real == 1 ? "" : "s");
    if (r->nkills > real)
        fprintf(f, " and %zu dry-run choice%s", r->nkills - real, r->nkills - real == 1 ? "" : "s");
    fmt_utc(a, sizeof(a), t0);
    fmt_utc(b, sizeof(b), t1);
    fprintf(f, " between %s and %s; reasons: ", a, b);
    for (size_t i = 0; i < r->nkills; i++) {
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first &= strcmp(r->kills[k].reason, r->kills[i].reason) != 0;
        if (!first)
            continue;
        size_t n = 0;
        for (size_t k = i; k < r->nkills; k++)
            n += strcmp(r->kills[k].reason, r->kills[i].reason) == 0;
        if (i)
            fputs(", ", f);
        esc(f, r->kills[i].reason);
        fprintf(f, " &#215;%zu", n);
    }
    fputs(".</li>\n", f);
}

/* The verdicts: the kernel's slab and shmem trends, the log's, each
 * snapshot's. */
static void summary_verdicts(FILE *f, const struct rpt *r)
{
    char b[48], words[320];
    const struct rpt_trend *kt[] = {&r->slab_trend, &r->sunreclaim_trend, &r->shmem_trend};
    static const char *kn[] = {"slab", "unreclaimable slab (SUnreclaim)", "shmem"};
    for (int i = 0; i < 3; i++) {
        if (!kt[i]->have)
            continue;
        fmt_bytes(b, sizeof(b), kt[i]->tr.last_bytes);
        mw_trend_words(&kt[i]->tr, words, sizeof(words));
        fprintf(f, "<li>Kernel %s, now %s: <b class=\"v-%s\">", kn[i], b,
                mw_trend_verdict_name(kt[i]->tr.verdict));
        esc(f, words);
        fputs("</b></li>\n", f);
    }
    if (r->have_log && r->log_trend.have) {
        mw_trend_words(&r->log_trend.tr, words, sizeof(words));
        fprintf(f, "<li>The log's %s memory: <b class=\"v-%s\">", r->log_series,
                mw_trend_verdict_name(r->log_trend.tr.verdict));
        esc(f, words);
        fputs("</b></li>\n", f);
    }
    for (int s = 0; s < r->nsnap; s++) {
        fputs("<li>", f);
        esc(f, r->snap[s].name);
        fputs(": ", f);
        esc(f, r->snap[s].verdict);
        fputs("</li>\n", f);
    }
}

static void summary(FILE *f, const struct rpt *r, double t0, double t1)
{
    char a[48], b[48];
    fputs("<div class=\"summary\">\n<h2>Summary</h2>\n<ul>\n", f);
    if (r->used.n >= 2) {
        double av0 = r->cache.v[0] + r->avail_rest.v[0];
        double av1 = r->cache.v[r->used.n - 1] + r->avail_rest.v[r->used.n - 1];
        fmt_bytes(a, sizeof(a), av0);
        fmt_bytes(b, sizeof(b), av1);
        char span[32];
        fmt_span(span, sizeof(span), r->used.t[r->used.n - 1] - r->used.t[0]);
        fprintf(f, "<li>Available memory went from %s to %s over %s (%zu samples).</li>\n", a, b,
                span, r->used.n);
    }
    if (r->nkills)
        summary_kills(f, r, t0, t1);
    summary_verdicts(f, r);
    if (r->bad_lines)
        fprintf(f, "<li>%u input line%s that were not memwarden samples were skipped.</li>\n",
                r->bad_lines, r->bad_lines == 1 ? "" : "s");
    fputs("</ul>\n", f);
    if (r->summary && r->summary[0]) {
        fputs("<pre>", f);
        for (const char *p = r->summary; *p;) { /* line by line: the newlines stay */
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            mw_text_put_markup(f, p, n);
            fputc('\n', f);
            p += n + (nl ? 1 : 0);
        }
        fputs("</pre>\n", f);
    }
    fputs("</div>\n", f);
}

void rpt_render_html(FILE *f, const struct rpt *r)
{
    double t0 = 0, t1 = 1;
    bool wall = wall_span(r, &t0, &t1);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n<title>",
          f);
    esc(f, r->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    esc(f, r->title);
    fputs("</h1>\n<p class=\"meta\">memwarden report of ", f);
    for (int i = 0; i < r->ninputs; i++) {
        fputs(i ? ", " : "", f);
        esc(f, r->inputs[i]);
    }
    if (r->stamp[0])
        fprintf(f, "; generated %s", r->stamp);
    fputs("</p>\n", f);
    summary(f, r, t0, t1);
    if (wall) {
        section_memory(f, r, t0, t1);
        section_procs(f, r, t0, t1);
        section_kernel(f, r, t0, t1);
        section_psi(f, r, t0, t1);
        section_kills(f, r);
    }
    section_log(f, r);
    section_snapshots(f, r);
    fputs("</body>\n</html>\n", f);
}
