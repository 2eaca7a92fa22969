/* report_html: `memwarden report`'s page — one self-contained HTML file
 * (inline CSS and SVG, no script, no network) from the struct the command
 * gathers. Pure: struct in, bytes out; the same struct gives the same
 * bytes (no time of generation unless STAMP is set). Every text that came
 * from an input (names, reasons, file names) is cleaned (base/text.h) and
 * HTML-escaped. */
#ifndef MW_REPORT_HTML_H
#define MW_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/trend.h"
#include "proc/meminfo.h"
#include "proc/psi.h"

/* A (time, value) series; times in seconds (wall clock for records and
 * kill histories, the log's own for a log), values in bytes. */
struct rpt_xy {
    double *t, *v;
    size_t n, cap;
};

/* Appends (T, V). Returns 0 or -ENOMEM. */
int rpt_xy_push(struct rpt_xy *s, double t, double v);
void rpt_xy_free(struct rpt_xy *s);

/* A series with its trend: the verdict, and the fitted line v = a + b t. */
struct rpt_trend {
    bool have;
    struct mw_trend tr;
    double a, b; /* intercept (bytes at t = 0 of the series' time) and slope (bytes/s) */
};

/* Classifies S (with BAND_BYTES when > 0, else the rule's band) and fits
 * its line. */
void rpt_trend_fit(const struct rpt_xy *s, double band_bytes, struct rpt_trend *out);

/* OUT gets the verdict TR (made elsewhere, e.g. on another series of the
 * same samples) and the line of slope SLOPE_BYTES_PER_S through S's
 * median residual. */
void rpt_trend_line(const struct rpt_xy *s, const struct mw_trend *tr, double slope_bytes_per_s,
                    struct rpt_trend *out);

#define RPT_MAX_PROCS 6

struct rpt_proc {
    int pid;
    uint64_t starttime;
    char comm[64];
    struct rpt_xy rss;
    double max_rss;
    struct rpt_trend trend;
};

struct rpt_kill {
    double t;
    int pid;
    bool dry_run;
    char prog[64], reason[48];
    int64_t freed;
    uint64_t rss;
    double psi_some, psi_full; /* < 0 unknown */
};

struct rpt_snap {
    char name[256];
    struct mw_meminfo mi;
    struct mw_psi psi;
    bool have_psi;
    char verdict[256];
};

struct rpt {
    const char *title;
    char stamp[64]; /* "" or the time of generation */
    /* the inputs, as given on the command line */
    const char *const *inputs;
    int ninputs;
    /* a record: the system (or the totals process samples carry) */
    struct rpt_xy used, cache, avail_rest, slab, sunreclaim, shmem, page_tables;
    struct rpt_trend used_trend, slab_trend, sunreclaim_trend, shmem_trend;
    struct rpt_proc *procs; /* every process seen; the biggest RPT_MAX_PROCS drawn */
    size_t nprocs;
    unsigned bad_lines;
    /* kill histories */
    struct rpt_kill *kills;
    size_t nkills;
    /* a log (analyze) */
    bool have_log;
    char log_name[256];
    struct rpt_xy log_free;
    struct rpt_trend log_trend;
    bool log_available;     /* the values are "available", not "free" */
    const char *log_series; /* what the verdict is on: "used", "free", "available" */
    /* snapshots (two: a diff) */
    int nsnap;
    struct rpt_snap snap[2];
    /* the summary box: memwarden's own sentences (leak's verdicts), text */
    char *summary;
};

/* Writes R as one HTML document to F. */
void rpt_render_html(FILE *f, const struct rpt *r);

/* What report makes of an input file's text BUF (LEN bytes, NUL after
 * them): its first non-blank line decides — 'k' a kill history line
 * (lmk/history.h), 'r' a record sample (model/sample.h), 'l' anything
 * else (a log, for analysis/logparse). Pure (cli_report.c; fuzzed). */
char rpt_sniff(const char *buf, size_t len);

#endif
