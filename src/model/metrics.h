/* metrics: memwarden's readings as Prometheus text exposition (format
 * 0.0.4). Pure: a struct of readings in, text out; gathering them is the
 * caller's (lmk/metricsd.c reads the kernel files, the daemon's state file
 * and its kill history).
 *
 * Names: node_exporter's where it has the same quantity, under the
 * memwarden_ prefix so both exporters can run side by side
 * (memwarden_memory_MemAvailable_bytes is node_memory_MemAvailable_bytes);
 * base units (bytes, seconds, ratios 0..1); counters end in _total; no PID
 * or command line is ever a label. README "Metrics" lists every name. */
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proc/meminfo.h"
#include "proc/psi.h"
#include "proc/swaps.h"
#include "proc/vmstat.h"
#include "proc/zram.h"

/* The kernel's side, each part present when it could be read. */
struct mw_metrics_sys {
    struct mw_meminfo mi;
    struct mw_meminfo_all mi_all; /* every field, for the exposition */
    struct mw_vmstat vm;
    struct mw_swaps swaps;
    struct mw_zram zram;
    struct mw_psi psi[3]; /* memory, io, cpu */
    bool have_mi, have_vm, have_swaps, have_psi[3];
};

/* Kill latency buckets (seconds, upper bounds; +Inf is implicit). From
 * lmkd's targets: a kill within 10 ms of the event is good, one past 1 s
 * is too late to save a foreground app. */
#define MW_METRICS_NBUCKETS 10
extern const double mw_metrics_buckets_s[MW_METRICS_NBUCKETS];

struct mw_metrics_hist {
    uint64_t bucket[MW_METRICS_NBUCKETS]; /* not cumulative: count in (b[i-1], b[i]] */
    uint64_t count;
    double sum_s;
};

/* Adds one observation of V_S seconds to H. */
void mw_metrics_hist_observe(struct mw_metrics_hist *h, double v_s);

/* The phases of a kill (lmk/history.h: wake, sample, refresh, choose,
 * signal, exit), each a histogram memwarden_kill_phase_seconds{phase}
 * with its own buckets: at the floor a phase takes a fraction of a
 * millisecond, under the 5 ms of the first latency bucket. */
#define MW_METRICS_PHASES 6
extern const char *const mw_metrics_phase_names[MW_METRICS_PHASES];
extern const double mw_metrics_phase_buckets_s[MW_METRICS_NBUCKETS];
void mw_metrics_phase_observe(struct mw_metrics_hist *h, double v_s);

#define MW_METRICS_MAX_KILL_KINDS 32

/* The daemon's side: its state file, its kill history, and (when the
 * daemon's own metrics process renders) the live counters. */
struct mw_metrics_daemon {
    bool have_state; /* a state file was read */
    bool up;         /* ... and its PID runs */
    char source[192], strategy[16];
    bool scoped, dry_run;
    uint64_t started_s, last_kill_time_s;
    uint64_t wakeups_timer, wakeups_pressure;
    bool have_live; /* the counters below are known */
    uint64_t kill_failures, loops, alerts;
    double cycle_s, cycle_max_s; /* the last wake-up's cycle (sample, decide, kill) */
    bool have_rss;
    uint64_t rss; /* the daemon's VmRSS */
    /* from the kill history */
    bool have_history;
    int nkinds;
    struct {
        char reason[48];
        char result[16]; /* "exited", "signalled" (no exit seen), "dry_run" */
        uint64_t n;
    } kinds[MW_METRICS_MAX_KILL_KINDS];
    uint64_t freed_bytes; /* sum of the positive "freed" of real kills */
    uint64_t history_last_kill_s;
    struct mw_metrics_hist signal_latency, exit_latency;
    bool have_phases; /* a kill in the history said where its time went: */
    struct mw_metrics_hist phase[MW_METRICS_PHASES];
};

/* Counts one kill of REASON ending in RESULT in D (an unseen pair past
 * MW_METRICS_MAX_KILL_KINDS is counted under reason "other"). */
void mw_metrics_count_kill(struct mw_metrics_daemon *d, const char *reason, const char *result);

/* A leak verdict for one series (a watched process, slab, shmem). */
struct mw_metrics_leak {
    char object[32]; /* label value: "slab", "shmem", or a watched name */
    int verdict;     /* -1 too short, 0 stable, 1 warning, 2 leak (mw_trend_verdict - STABLE) */
    double slope_bytes_per_s;
    double window_s;
};

#define MW_METRICS_MAX_LEAKS 8

struct mw_metrics {
    struct mw_metrics_sys sys;
    struct mw_metrics_daemon d;
    int nleaks;
    struct mw_metrics_leak leaks[MW_METRICS_MAX_LEAKS];
};

/* Writes M as text exposition to F: HELP and TYPE before each family,
 * families in a fixed order, samples of absent parts left out (the
 * families of the daemon only when a state file or history was read).
 * Deterministic: the same M gives the same bytes. */
void mw_metrics_render(FILE *f, const struct mw_metrics *m);

/* Writes S to F as a label value (\\, \" and \n escaped; bytes that are
 * not UTF-8 replaced, as base/text.h does). */
void mw_metrics_label(FILE *f, const char *s);

#endif
