#include "model/metrics.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

const double mw_metrics_buckets_s[MW_METRICS_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                          0.25,  0.5,  1,     2.5,  5};

const char *const mw_metrics_phase_names[MW_METRICS_PHASES] = {"wake",   "sample", "refresh",
                                                               "choose", "signal", "exit"};
const double mw_metrics_phase_buckets_s[MW_METRICS_NBUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1};

static void observe_in(struct mw_metrics_hist *h, const double *bounds, double v_s)
{
    if (!(v_s >= 0)) /* NaN or negative: not an observation */
        return;
    for (int i = 0; i < MW_METRICS_NBUCKETS; i++)
        if (v_s <= bounds[i]) {
            h->bucket[i]++;
            break;
        }
    h->count++;
    h->sum_s += v_s;
}

void mw_metrics_hist_observe(struct mw_metrics_hist *h, double v_s)
{
    observe_in(h, mw_metrics_buckets_s, v_s);
}

void mw_metrics_phase_observe(struct mw_metrics_hist *h, double v_s)
{
    observe_in(h, mw_metrics_phase_buckets_s, v_s);
}

void mw_metrics_count_kill(struct mw_metrics_daemon *d, const char *reason, const char *result)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < d->nkinds; i++)
            if (strcmp(d->kinds[i].reason, reason) == 0 &&
                strcmp(d->kinds[i].result, result) == 0) {
                d->kinds[i].n++;
                return;
            }
        if (d->nkinds < MW_METRICS_MAX_KILL_KINDS - 1 ||
            (d->nkinds == MW_METRICS_MAX_KILL_KINDS - 1 && strcmp(reason, "other") == 0)) {
            int k = d->nkinds++;
            snprintf(d->kinds[k].reason, sizeof(d->kinds[k].reason), "%s", reason);
            snprintf(d->kinds[k].result, sizeof(d->kinds[k].result), "%s", result);
            d->kinds[k].n = 1;
            return;
        }
        reason = "other"; /* the last slot is kept for the overflow */
    }
}

void mw_metrics_label(FILE *f, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = mw_utf8_seq((const unsigned char *)s + i, n - i, NULL);
        if (k == 0) {
            fputs("\xef\xbf\xbd", f); /* U+FFFD: the exposition must be UTF-8 */
            i++;
            continue;
        }
        if (s[i] == '\\' || s[i] == '"')
            fputc('\\', f);
        if (s[i] == '\n')
            fputs("\\n", f);
        else
            fwrite(s + i, 1, k, f);
        i += k;
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* V exactly: an integer as one (below 2^53 every integer is exact), any
 * other value in the fewest digits that read back as the same double
 * (%.6g printed 1234567.89 s of PSI as 1.23457e+06: rate() saw 10 s steps). */
static void num(FILE *f, double v)
{
    char buf[40];
    if (isnan(v)) {
        fputs("NaN", f);
        return;
    }
    if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", f);
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        fprintf(f, "%.0f", v);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

/* NAME{LABELS} N/10^DIGITS exactly, in decimal without trailing zeros
 * (an integer as one). */
static void sample_fixed(FILE *f, const char *name, const char *labels, uint64_t n, int digits)
{
    uint64_t scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    uint64_t frac = n % scale;
    fprintf(f, "%s%s %" PRIu64, name, labels, n / scale);
    if (frac) {
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        fprintf(f, ".%0*" PRIu64, digits, frac);
    }
    fputc('\n', f);
}

/* A PSI average (a percent the kernel prints with two decimals, "1.23") as
 * the ratio it is, exactly: 0.0123, not 1.23 / 100 = 0.012299999999999998. */
static void sample_pct(FILE *f, const char *name, const char *labels, double pct)
{
    uint64_t h = pct > 0 ? (uint64_t)llround(pct * 100) : 0; /* hundredths of a percent */
    sample_fixed(f, name, labels, h, 4);
}

/* A time counted in microseconds (PSI's totals) as seconds, exactly. */
static void sample_us(FILE *f, const char *name, const char *labels, uint64_t us)
{
    sample_fixed(f, name, labels, us, 6);
}

/* One sample: NAME{LABELS} V, LABELS already formatted (may be ""). */
static void sample_u(FILE *f, const char *name, const char *labels, uint64_t v)
{
    fprintf(f, "%s%s %" PRIu64 "\n", name, labels, v);
}

static void sample_d(FILE *f, const char *name, const char *labels, double v)
{
    fprintf(f, "%s%s ", name, labels);
    num(f, v);
    fputc('\n', f);
}

/* A gauge with one sample and no labels. */
static void gauge_u(FILE *f, const char *name, const char *help, uint64_t v)
{
    family(f, name, "gauge", help);
    sample_u(f, name, "", v);
}

/* The metric name of a /proc/meminfo field into NAME: snake_case, as
 * promtool's lint wants (MemAvailable -> mem_available, Active(file) ->
 * active_file, HugePages_Free -> huge_pages_free, DirectMap2M ->
 * direct_map2m), "_bytes" after a size (a kB field); two names the lint
 * refuses get a longer form: HugePages_Total ("_total" on a gauge) ->
 * huge_pages, SecPageTables ("sec" read as seconds) -> secondary_page_tables. */
static void meminfo_metric_name(char *name, size_t cap, const struct mw_meminfo_field *fl)
{
    const char *src = fl->name;
    size_t o = (size_t)snprintf(name, cap, "memwarden_memory_");
    if (strcmp(src, "HugePages_Total") == 0)
        src = "HugePages";
    else if (strcmp(src, "SecPageTables") == 0)
        src = "SecondaryPageTables";
    for (const char *p = src; *p && o < cap - 8; p++) {
        if (*p == ')')
            continue;
        if (isupper((unsigned char)*p) && p > src && islower((unsigned char)p[-1]))
            name[o++] = '_';
        name[o++] = *p == '(' ? '_' : (char)tolower((unsigned char)*p);
    }
    snprintf(name + o, cap - o, "%s", fl->kb ? "_bytes" : "");
}

static void render_meminfo(FILE *f, const struct mw_meminfo_all *mi)
{
    for (int i = 0; i < mi->n; i++) {
        const struct mw_meminfo_field *fl = &mi->f[i];
        char name[96], help[128];
        meminfo_metric_name(name, sizeof(name), fl);
        snprintf(help, sizeof(help), "Memory information field %s%s.", fl->name,
                 fl->kb ? " in bytes" : " (a count)");
        family(f, name, "gauge", help);
        sample_u(f, name, "", fl->kb ? fl->value * 1024 : fl->value);
    }
}

static void render_swaps(FILE *f, const struct mw_swaps *sw)
{
    static const char *names[2] = {"memwarden_swap_device_size_bytes",
                                   "memwarden_swap_device_used_bytes"};
    static const char *helps[2] = {"Size of a swap device (/proc/swaps).",
                                   "Used space of a swap device (/proc/swaps)."};
    for (int k = 0; k < 2 && sw->count > 0; k++) {
        family(f, names[k], "gauge", helps[k]);
        for (int i = 0; i < sw->count; i++) {
            fprintf(f, "%s{device=\"", names[k]);
            mw_metrics_label(f, sw->dev[i].name);
            fprintf(f, "\",type=\"");
            mw_metrics_label(f, sw->dev[i].type);
            fprintf(f, "\"} %" PRIu64 "\n",
                    (k ? sw->dev[i].used_kb : sw->dev[i].size_kb) * (uint64_t)1024);
        }
    }
}

static void render_zram(FILE *f, const struct mw_zram *z)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } t[] = {
        {"memwarden_zram_disksize_bytes", "Size of a zram device.",
         offsetof(struct mw_zram_dev, disksize)},
        {"memwarden_zram_orig_data_bytes", "Uncompressed data stored in a zram device.",
         offsetof(struct mw_zram_dev, orig_data_size)},
        {"memwarden_zram_compr_data_bytes", "Compressed size of the data in a zram device.",
         offsetof(struct mw_zram_dev, compr_data_size)},
        {"memwarden_zram_mem_used_bytes", "Memory a zram device uses (mm_stat mem_used_total).",
         offsetof(struct mw_zram_dev, mem_used_total)},
        {"memwarden_zram_mem_limit_bytes", "Memory limit of a zram device (0: none).",
         offsetof(struct mw_zram_dev, mem_limit)},
    };
    if (z->count <= 0)
        return;
    for (size_t k = 0; k < MW_ARRAY_SIZE(t); k++) {
        family(f, t[k].name, "gauge", t[k].help);
        for (int i = 0; i < z->count; i++) {
            const struct mw_zram_dev *d = &z->dev[i];
            if (k > 0 && !d->have_mm_stat)
                continue;
            uint64_t v;
            memcpy(&v, (const char *)d + t[k].off, sizeof(v));
            fprintf(f, "%s{device=\"zram%d\"} %" PRIu64 "\n", t[k].name, d->index, v);
        }
    }
}

static void render_psi(FILE *f, const struct mw_metrics_sys *s)
{
    static const char *res[3] = {"memory", "io", "cpu"};
    char name[96], lab[64];
    for (int r = 0; r < 3; r++) {
        if (!s->have_psi[r])
            continue;
        const struct mw_psi *p = &s->psi[r];
        snprintf(name, sizeof(name), "memwarden_pressure_%s_waiting_seconds_total", res[r]);
        family(f, name, "counter", "Time some tasks stalled on the resource (PSI some total).");
        sample_us(f, name, "", p->some.total_us);
        if (p->have_full) {
            snprintf(name, sizeof(name), "memwarden_pressure_%s_stalled_seconds_total", res[r]);
            family(f, name, "counter", "Time all non-idle tasks stalled (PSI full total).");
            sample_us(f, name, "", p->full.total_us);
        }
        snprintf(name, sizeof(name), "memwarden_pressure_%s_stall_ratio", res[r]);
        family(f, name, "gauge", "PSI average share of time stalled (avg10/60/300 as 0..1).");
        for (int k = 0; k < (p->have_full ? 2 : 1); k++) {
            const struct mw_psi_line *l = k ? &p->full : &p->some;
            const char *kind = k ? "full" : "some";
            snprintf(lab, sizeof(lab), "{kind=\"%s\",window=\"10s\"}", kind);
            sample_pct(f, name, lab, l->avg10);
            snprintf(lab, sizeof(lab), "{kind=\"%s\",window=\"60s\"}", kind);
            sample_pct(f, name, lab, l->avg60);
            snprintf(lab, sizeof(lab), "{kind=\"%s\",window=\"300s\"}", kind);
            sample_pct(f, name, lab, l->avg300);
        }
    }
}

static void render_vmstat(FILE *f, const struct mw_vmstat *v)
{
    static const struct {
        const char *name;
        size_t off;
    } t[] = {
        {"oom_kill", offsetof(struct mw_vmstat, oom_kill)},
        {"pgscan_kswapd", offsetof(struct mw_vmstat, pgscan_kswapd)},
        {"pgscan_direct", offsetof(struct mw_vmstat, pgscan_direct)},
        {"pgsteal_kswapd", offsetof(struct mw_vmstat, pgsteal_kswapd)},
        {"pgsteal_direct", offsetof(struct mw_vmstat, pgsteal_direct)},
        {"allocstall", offsetof(struct mw_vmstat, allocstall)},
        {"pswpin", offsetof(struct mw_vmstat, pswpin)},
        {"pswpout", offsetof(struct mw_vmstat, pswpout)},
        {"pgmajfault", offsetof(struct mw_vmstat, pgmajfault)},
        {"workingset_refault_anon", offsetof(struct mw_vmstat, workingset_refault_anon)},
        {"workingset_refault_file", offsetof(struct mw_vmstat, workingset_refault_file)},
        {"compact_stall", offsetof(struct mw_vmstat, compact_stall)},
    };
    char name[96], help[128];
    for (size_t k = 0; k < MW_ARRAY_SIZE(t); k++) {
        uint64_t x;
        memcpy(&x, (const char *)v + t[k].off, sizeof(x));
        snprintf(name, sizeof(name), "memwarden_vmstat_%s_total", t[k].name);
        snprintf(help, sizeof(help), "/proc/vmstat %s%s.", t[k].name,
                 k == 1 || k == 2 || k == 3 || k == 4 ? " (pages, all kinds summed)" : "");
        family(f, name, "counter", help);
        sample_u(f, name, "", x);
    }
}

/* The samples of histogram H under NAME, with the label LABEL ("" or
 * 'key="value",') before le, and the bucket bounds BOUNDS. */
static void render_hist_series(FILE *f, const char *name, const char *label, const double *bounds,
                               const struct mw_metrics_hist *h)
{
    char n2[128], lab[96];
    uint64_t cum = 0;
    snprintf(n2, sizeof(n2), "%s_bucket", name);
    for (int i = 0; i < MW_METRICS_NBUCKETS; i++) {
        cum += h->bucket[i];
        snprintf(lab, sizeof(lab), "{%sle=\"%g\"}", label, bounds[i]);
        sample_u(f, n2, lab, cum);
    }
    snprintf(lab, sizeof(lab), "{%sle=\"+Inf\"}", label);
    sample_u(f, n2, lab, h->count);
    size_t n = strlen(label);
    snprintf(lab, sizeof(lab), n ? "{%.*s}" : "", (int)(n ? n - 1 : 0), label);
    snprintf(n2, sizeof(n2), "%s_sum", name);
    sample_d(f, n2, lab, h->sum_s);
    snprintf(n2, sizeof(n2), "%s_count", name);
    sample_u(f, n2, lab, h->count);
}

static void render_hist(FILE *f, const char *name, const char *help,
                        const struct mw_metrics_hist *h)
{
    family(f, name, "histogram", help);
    render_hist_series(f, name, "", mw_metrics_buckets_s, h);
}

static void render_kills(FILE *f, const struct mw_metrics_daemon *d)
{
    family(f, "memwarden_kills_total", "counter",
           "Kills from the kill history, by reason and result (exited, signalled, dry_run).");
    for (int i = 0; i < d->nkinds; i++) {
        fputs("memwarden_kills_total{reason=\"", f);
        mw_metrics_label(f, d->kinds[i].reason);
        fputs("\",result=\"", f);
        mw_metrics_label(f, d->kinds[i].result);
        fprintf(f, "\"} %" PRIu64 "\n", d->kinds[i].n);
    }
    family(f, "memwarden_kill_freed_bytes_total", "counter",
           "Memory the kills gave back (MemAvailable after minus before, summed).");
    sample_u(f, "memwarden_kill_freed_bytes_total", "", d->freed_bytes);
    render_hist(f, "memwarden_kill_signal_latency_seconds",
                "From the pressure event (or sample) to the kill signal.", &d->signal_latency);
    render_hist(f, "memwarden_kill_exit_latency_seconds",
                "From the kill signal to the victim's exit.", &d->exit_latency);
    if (!d->have_phases)
        return;
    family(f, "memwarden_kill_phase_seconds", "histogram",
           "Where a kill's time went: wake (late for the timer), sample, refresh (the last "
           "one before it), choose, signal (after the choice), exit (after the signal).");
    for (int i = 0; i < MW_METRICS_PHASES; i++) {
        char lab[48];
        snprintf(lab, sizeof(lab), "phase=\"%s\",", mw_metrics_phase_names[i]);
        render_hist_series(f, "memwarden_kill_phase_seconds", lab, mw_metrics_phase_buckets_s,
                           &d->phase[i]);
    }
}

static void render_daemon(FILE *f, const struct mw_metrics_daemon *d)
{
    gauge_u(f, "memwarden_daemon_up", "1 when the daemon's state file names a running process.",
            d->up);
    if (d->have_state) {
        family(f, "memwarden_daemon_info", "gauge",
               "The daemon's pressure source and strategy (value 1).");
        fputs("memwarden_daemon_info{source=\"", f);
        mw_metrics_label(f, d->source);
        fputs("\",strategy=\"", f);
        mw_metrics_label(f, d->strategy);
        fprintf(f, "\",scope=\"%s\",dry_run=\"%s\"} 1\n", d->scoped ? "cgroup" : "machine",
                d->dry_run ? "true" : "false");
        gauge_u(f, "memwarden_daemon_start_time_seconds", "When the daemon started (Unix time).",
                d->started_s);
        family(f, "memwarden_daemon_wakeups_total", "counter",
               "Samples taken, by cause (timer: calm polling; pressure: PSI/vmpressure events).");
        sample_u(f, "memwarden_daemon_wakeups_total", "{cause=\"timer\"}", d->wakeups_timer);
        sample_u(f, "memwarden_daemon_wakeups_total", "{cause=\"pressure\"}", d->wakeups_pressure);
        uint64_t last = d->last_kill_time_s > d->history_last_kill_s ? d->last_kill_time_s
                                                                     : d->history_last_kill_s;
        gauge_u(f, "memwarden_last_kill_time_seconds", "When the last kill happened (0: none).",
                last);
    }
    if (d->have_live) {
        family(f, "memwarden_kill_failures_total", "counter", "Kill signals that failed.");
        sample_u(f, "memwarden_kill_failures_total", "", d->kill_failures);
        family(f, "memwarden_kill_loops_total", "counter",
               "Kill-restart loops detected (a program killed loop_kills times in loop_window).");
        sample_u(f, "memwarden_kill_loops_total", "", d->loops);
        family(f, "memwarden_alerts_total", "counter", "Alert firings (the [alerts] section).");
        sample_u(f, "memwarden_alerts_total", "", d->alerts);
        family(f, "memwarden_daemon_cycle_seconds", "gauge",
               "Duration of a wake-up's cycle (sample, decide, choose, kill): last and max.");
        sample_d(f, "memwarden_daemon_cycle_seconds", "{stat=\"last\"}", d->cycle_s);
        sample_d(f, "memwarden_daemon_cycle_seconds", "{stat=\"max\"}", d->cycle_max_s);
    }
    if (d->have_rss)
        gauge_u(f, "memwarden_daemon_resident_memory_bytes", "The daemon's resident set (VmRSS).",
                d->rss);
    if (d->have_history)
        render_kills(f, d);
}

static void render_leaks(FILE *f, const struct mw_metrics *m)
{
    if (m->nleaks <= 0)
        return;
    static const char *names[3] = {"memwarden_leak_verdict",
                                   "memwarden_leak_slope_bytes_per_second",
                                   "memwarden_leak_window_seconds"};
    static const char *helps[3] = {
        "Leak verdict of a series (-1 too short to judge, 0 stable, 1 warning, 2 leak), "
        "memwarden leak's rule.",
        "Robust (Theil-Sen) slope of the series the verdict rests on.",
        "Time span of the samples the verdict rests on."};
    for (int k = 0; k < 3; k++) {
        family(f, names[k], "gauge", helps[k]);
        for (int i = 0; i < m->nleaks; i++) {
            const struct mw_metrics_leak *l = &m->leaks[i];
            fprintf(f, "%s{object=\"", names[k]);
            mw_metrics_label(f, l->object);
            fputs("\"} ", f);
            num(f, k == 0 ? l->verdict : k == 1 ? l->slope_bytes_per_s : l->window_s);
            fputc('\n', f);
        }
    }
}

void mw_metrics_render(FILE *f, const struct mw_metrics *m)
{
    const struct mw_metrics_sys *s = &m->sys;
    if (s->have_mi)
        render_meminfo(f, &s->mi_all);
    if (s->have_swaps)
        render_swaps(f, &s->swaps);
    render_zram(f, &s->zram);
    render_psi(f, s);
    if (s->have_vm)
        render_vmstat(f, &s->vm);
    render_daemon(f, &m->d);
    render_leaks(f, m);
}
