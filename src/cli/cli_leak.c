/* memwarden leak: watch a process (or the system) for a while, or read a
 * record, and say whether its memory is stable, growing (warning) or
 * leaking — and where it grows. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model/procmatch.h"
#include "cli/progress.h"
#include "analysis/leakcore.h"
#include "model/proctable.h"
#include "proc/mwpool.h"
#include "proc/procs.h"
#include "proc/zram.h"
#include "model/targets.h"

static const struct mw_opt leak_opts[] = {
    {"pid", 'p', MW_OPT_SHORT, "PID", "watch this process (repeatable)", NULL},
    {"match", 'm', MW_OPT_SHORT, "REGEX", "watch processes whose name or command line matches",
     NULL},
    {"system", 's', MW_OPT_SHORT, NULL, "watch the system and the kernel", NULL},
    {"duration", 'd', MW_OPT_SHORT, "D", "how long to watch (default 5m)", NULL},
    {"interval", 'i', MW_OPT_SHORT, "I", "time between samples (default 5s; 200ms works)", NULL},
    {"from", 'f', MW_OPT_SHORT, "FILE", "read samples from a record instead (FILE.N rotations too)",
     NULL},
    {"metric", 'M', 0, "M", "rss (default), pss or uss", "rss pss uss"},
    {"warn-rate", 'W', 0, "R",
     "warning rate, a size per hour (100M, 100M/h, 2M/m, 5M/s;\n"
     "default 2 bands an hour)",
     NULL},
    {"leak-rate", 'L', 0, "R", "leak rate (default 3 x the warning rate)", NULL},
    {"band", 'B', 0, "SIZE", "stable band, used as given (default 5 % of the max, <= 50M)", NULL},
    {"pool-dir", 'P', 0, "DIR",
     "read published pools from DIR/PID/NAME (default\n"
     "ROOT/run/mwpool; a program's MWPOOL_DIR)",
     NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "machine-readable output (bytes, seconds)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_leak_doc = {
    .head =
        "NAME\n"
        "    memwarden leak - tell a leak from normal behaviour, and say where it grows\n"
        "\n"
        "SYNOPSIS\n"
        "    memwarden leak (-p PID | --match REGEX | --system) [--duration D] [--interval I]\n"
        "    memwarden leak --from FILE [-p PID | --match REGEX | --system]\n"
        "                   [--metric rss|pss|uss] [--warn-rate R] [--leak-rate R] [--band SIZE]\n"
        "                   [--pool-dir DIR] [--json]\n"
        "\n"
        "DESCRIPTION\n"
        "    Samples memory every INTERVAL for DURATION (or reads a 'memwarden watch\n"
        "    --record' file) and fits a robust trend (Theil-Sen: the median slope of\n"
        "    all sample pairs, so spikes do not move it). The verdict, after the\n"
        "    VisionCore memory guide, the same in analyze, watch, report and soak:\n"
        "      band       5 % of the largest value, at most 50 MiB (the guide's band),\n"
        "                 at least 64 KiB; the same for any length of watch\n"
        "      stable     within the band, or growing slower than the warning rate;\n"
        "                 a sawtooth (grows, then falls back: a garbage-collected heap)\n"
        "                 and a step up that then stays flat are stable, with a note\n"
        "      warning    grows faster than 2 bands an hour (100 MiB/h for 50 MiB)\n"
        "      leak       grows faster than 3 x that and never falls back (or its floor\n"
        "                 keeps rising under a sawtooth)\n"
        "      too short  nothing left the band, but the watch is shorter than a leak at\n"
        "                 the warning rate needs to leave it (30 min): no guess is made\n"
        "    For a process, /proc/PID/smaps at the start and the end says where it grew:\n"
        "    [heap], anon mmap, [stack], file-backed mappings, shared memory (/SYSV...,\n"
        "    /dev/shm), named mappings ([anon:NAME]). With --system all of used memory\n"
        "    (MemTotal - MemFree) is accounted at the start and the end: anon, page\n"
        "    cache, shmem, slab, page tables, kernel stacks, percpu, hugetlb, zram and\n"
        "    the rest; the share of each is over all of it, and when processes' memory\n"
        "    grew the processes whose RSS grew most are named. The kernel is also\n"
        "    watched: used memory and the slab total, each slab cache, SUnreclaim,\n"
        "    Shmem, PageTables, /dev/shm and SysV segments: each of SUnreclaim,\n"
        "    SReclaimable, Shmem, PageTables and KernelStack gets its own trend, and the\n"
        "    slab caches that grew are named. The time until memory runs out at the\n"
        "    measured rate is computed against MemAvailable, or against what the\n"
        "    process's memory cgroup limit leaves when that is less.\n"
        "\n"
        "    A process that publishes libmwpool pools (/run/mwpool/PID/NAME, see 'top\n"
        "    --pools') gets one more series per pool: its blocks in use times the\n"
        "    block size, judged the same way, so a leak inside a pool (blocks taken\n"
        "    and never put back) is reported while RSS stays flat; the time until\n"
        "    the pool's cap runs out is given.\n",
    .opts = leak_opts,
    .exit_ok = "stable, or too short to judge",
    .exit_fail = "nothing to sample (no such process, nothing matched, the file\n"
                 "unreadable)",
    .exit_found = "a warning or a leak (the verdict says which)",
    .examples = "    memwarden leak -p 1234 --duration 1h --interval 30s\n"
                "    memwarden leak --match 'python.*main' --duration 10m\n"
                "    memwarden leak --system --duration 2h --interval 1m\n"
                "    memwarden leak --from /var/log/app.mw --json\n",
};

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
    const char *pool_dir;
};

/* What a watch or a record gathered: the series, and for the system the
 * slab total at each of its samples. */
struct leak_run {
    struct mw_series *v;
    size_t n;
    double *slab_v;
    size_t nslab_v;
    unsigned bad_lines;                            /* record lines that were not samples */
    struct mw_procmem_set procs_first, procs_last; /* a record's processes */
    size_t worst; /* the series whose verdict the exit status follows */
    int pool_fd;  /* the directory of published pools, -1 when none */
};

static void leak_run_free(struct leak_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        mw_series_free(&run->v[i]);
    free(run->v);
    free(run->slab_v);
    mw_procmem_free(&run->procs_first);
    mw_procmem_free(&run->procs_last);
    if (run->pool_fd >= 0)
        close(run->pool_fd);
    memset(run, 0, sizeof(*run));
    run->pool_fd = -1;
}

static const char *metric_name(enum mw_metric m)
{
    return m == MW_METRIC_PSS ? "pss" : m == MW_METRIC_USS ? "uss" : "rss";
}

/* A new empty series at the end of RUN, or NULL when out of memory. */
static struct mw_series *add_series(struct leak_run *run)
{
    struct mw_series *p = realloc(run->v, (run->n + 1) * sizeof(*p));
    if (!p)
        return NULL;
    run->v = p;
    memset(&p[run->n], 0, sizeof(p[run->n]));
    p[run->n].tte_s = -1;
    return &p[run->n++];
}

static int push_slab(struct leak_run *run, double bytes)
{
    double *p = realloc(run->slab_v, (run->nslab_v + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    run->slab_v = p;
    run->slab_v[run->nslab_v++] = bytes;
    return 0;
}

/* Appends SMP to S (the first sample also becomes S->first). */
static int push_sample(struct mw_series *s, const struct mw_sample *smp, enum mw_metric metric)
{
    if (s->n == 0) {
        s->first = *smp;
        s->first.slab_bytes = NULL;
    }
    s->last = *smp;
    s->last.slab_bytes = NULL;
    double val = s->system ? (double)smp->mem_used : mw_metric_value(smp, metric);
    if (mw_series_push(s, smp->t_s - s->first.t_s, val) < 0 ||
        (s->system && mw_series_keep(s, smp) < 0))
        return -ENOMEM;
    return 0;
}

/* ---- live: sample the targets every interval ---- */

static void slab_sizes(const struct mw_slab_set *from, struct mw_slab_set *to)
{
    mw_slab_set_free(to);
    to->c = malloc((from->n ? from->n : 1) * sizeof(*to->c));
    if (to->c) {
        memcpy(to->c, from->c, from->n * sizeof(*to->c));
        to->n = from->n;
    }
}

/* One series per PID to watch (given or matched), and one for the system. */
static int live_targets(struct mw_ctx *ctx, const struct leak_opts *o, struct leak_run *run)
{
    int *pids = NULL;
    size_t npids = 0;
    int rc = mw_targets_resolve(&ctx->root, o->pids, o->npids, o->match, &pids, &npids);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < npids && rc == 0; i++) {
        struct mw_series *s = add_series(run);
        if (!s) {
            rc = -ENOMEM;
            break;
        }
        s->pid = pids[i];
        s->series_name = metric_name(o->metric);
    }
    free(pids);
    if (rc == 0 && o->system) {
        struct mw_series *s = add_series(run);
        if (!s)
            return -ENOMEM;
        s->system = true;
        s->series_name = "used";
    }
    return rc < 0 ? rc : run->n == 0 ? -ESRCH : 0;
}

/* Every process's memory now, into SET. */
static int scan_procs(struct mw_ctx *ctx, struct mw_procmem_set *set)
{
    struct mw_proctable t;
    int rc = mw_proctable_open(&t, &ctx->root, MW_PT_MEM);
    if (rc == 0)
        rc = mw_proctable_scan(&t);
    for (size_t i = 0; rc >= 0 && i < t.n; i++) {
        const struct mw_proc *p = &t.procs[i];
        struct mw_procmem m = {.pid = p->pid,
                               .rss_bytes = p->rss_bytes,
                               .pss_bytes = p->flags & MW_PROC_MEM_EST ? 0 : p->pss_bytes};
        snprintf(m.comm, sizeof(m.comm), "%s", p->comm);
        rc = mw_procmem_add(set, &m);
    }
    mw_proctable_close(&t);
    return rc < 0 ? rc : 0;
}

/* What the system is compared on first vs last only: its slab caches,
 * shared memory, the parts of used memory and every process's memory. */
static void live_snapshot(struct mw_ctx *ctx, struct mw_series *s, bool first)
{
    struct mw_slab_set slab;
    if (mw_slab_read(&ctx->root, &slab) == 0) {
        slab_sizes(&slab, first ? &s->slab_first : &s->slab_last);
        s->have_slab = true;
        mw_slab_set_free(&slab);
    }
    struct mw_shm_report sh;
    if (mw_shm_scan(&ctx->root, &sh) == 0) {
        struct mw_shm_report *dst = first ? &s->shm_first : &s->shm_last;
        mw_shm_report_free(dst);
        *dst = sh;
        s->have_shm = true;
    }
    struct mw_meminfo mi;
    struct mw_zram z;
    uint64_t zram_bytes = 0;
    if (mw_zram_read(&ctx->root, &z) > 0)
        for (int i = 0; i < z.count; i++)
            zram_bytes += z.dev[i].have_mm_stat ? z.dev[i].mem_used_total : 0;
    if (mw_meminfo_read(&ctx->root, &mi, NULL) == 0) {
        mw_memparts_from_meminfo(&mi, zram_bytes, first ? &s->parts_first : &s->parts_last);
        s->have_parts = first || s->have_parts;
    } else {
        s->have_parts = false;
    }
    struct mw_procmem_set *ps = first ? &s->procs_first : &s->procs_last;
    mw_procmem_free(ps);
    if (scan_procs(ctx, ps) < 0)
        mw_procmem_free(ps);
}

/* Samples the system into *SMP. Returns 0, 1 (no sample this time) or
 * -ENOMEM. */
static int live_system(struct mw_ctx *ctx, double now, struct leak_run *run, struct mw_sample *smp)
{
    if (mw_sample_system(&ctx->root, now, smp) < 0)
        return 1;
    return push_slab(run, (double)smp->slab);
}

/* Samples process S into *SMP. Returns 0, or 1 when there is nothing to
 * sample (it exited, or its PID now names another process). */
static int live_process(struct mw_ctx *ctx, struct mw_series *s, double now, struct mw_sample *smp)
{
    if (s->exited)
        return 1;
    if (mw_sample_process(&ctx->root, s->pid, now, smp) < 0) {
        if (s->n) {
            s->exited = true;
            s->exited_at_s = now - s->first.t_s;
        }
        return 1;
    }
    if (s->n == 0) {
        s->starttime = smp->starttime;
        snprintf(s->comm, sizeof(s->comm), "%s", smp->comm);
        s->have_regions = mw_regions_read(&ctx->root, s->pid, &s->reg_first) == 0;
    } else if (smp->starttime != s->starttime) {
        s->exited = true; /* the PID was reused */
        s->exited_at_s = now - s->first.t_s;
        return 1;
    }
    return 0;
}

/* The series of pool P, added when new; NULL when out of memory. */
static struct mw_series *pool_series(struct leak_run *run, const struct mw_pool *p,
                                     const char *comm, double now)
{
    for (size_t k = 0; k < run->n; k++)
        if (run->v[k].pool[0] && run->v[k].pid == p->pid && strcmp(run->v[k].pool, p->name) == 0)
            return &run->v[k];
    struct mw_series *s = add_series(run);
    if (!s)
        return NULL;
    s->pid = p->pid;
    snprintf(s->comm, sizeof(s->comm), "%s", comm);
    snprintf(s->pool, sizeof(s->pool), "%s", p->name);
    s->series_name = "pool in use";
    s->first.t_s = now;
    return s;
}

/* The pools the watched processes publish, one series each: bytes in use
 * (blocks in use x block size), and what the cap leaves as headroom.
 * Returns 0 or -ENOMEM. */
static int live_pools(struct leak_run *run, double now)
{
    size_t nproc = run->n; /* pool series are added behind */
    for (size_t i = 0; i < nproc && run->pool_fd >= 0; i++) {
        if (run->v[i].system || run->v[i].pool[0] || run->v[i].exited || run->v[i].n == 0)
            continue;
        struct mw_pool_set set = {0};
        int pid = run->v[i].pid;
        char comm[64];
        snprintf(comm, sizeof(comm), "%s", run->v[i].comm);
        if (mw_pool_read_pid(run->pool_fd, pid, &set) == -ENOMEM)
            return -ENOMEM;
        for (size_t k = 0; k < set.n; k++) {
            const struct mw_pool *p = &set.p[k];
            struct mw_series *s = pool_series(run, p, comm, now);
            if (!s || mw_series_push(s, now - s->first.t_s,
                                     (double)(p->blocks_in_use * p->block_size)) < 0) {
                mw_pool_set_free(&set);
                return -ENOMEM;
            }
            s->headroom_bytes = (p->max_blocks - p->blocks_in_use) * p->block_size;
            s->headroom_source = "the pool's cap";
        }
        mw_pool_set_free(&set);
    }
    return 0;
}

/* One round: every series sampled at NOW. Returns 0 or -ENOMEM. */
static int live_round(struct mw_ctx *ctx, const struct leak_opts *o, struct leak_run *run,
                      double now)
{
    for (size_t i = 0; i < run->n; i++) {
        struct mw_series *s = &run->v[i];
        if (s->pool[0])
            continue; /* sampled by live_pools */
        struct mw_sample smp;
        int rc = s->system ? live_system(ctx, now, run, &smp) : live_process(ctx, s, now, &smp);
        if (rc == 0)
            rc = push_sample(s, &smp, o->metric);
        if (rc < 0)
            return rc;
    }
    return live_pools(run, now);
}

/* After the watch: a PID that was never there is said and dropped; the
 * others get their smaps at the end and their headroom. */
static int live_finish(struct mw_ctx *ctx, struct leak_run *run)
{
    size_t kept = 0;
    for (size_t i = 0; i < run->n; i++) {
        if (!run->v[i].system && run->v[i].n == 0) {
            mw_err("leak: PID %d: no such process", run->v[i].pid);
            mw_series_free(&run->v[i]);
            continue;
        }
        run->v[kept++] = run->v[i];
    }
    run->n = kept;
    if (run->n == 0)
        return -ESRCH;
    for (size_t i = 0; i < run->n; i++) {
        struct mw_series *s = &run->v[i];
        if (s->system)
            s->have_slab = s->have_slab && s->slab_last.c;
        if (s->system || s->pool[0] || !s->have_regions)
            continue;
        if (s->exited || mw_regions_read(&ctx->root, s->pid, &s->reg_last) < 0) {
            s->have_regions = false;
            mw_regions_free(&s->reg_first);
        }
        s->headroom_bytes = mw_process_headroom(&ctx->root, s->pid, s->last.mem_available,
                                                s->last.mem_total, &s->headroom_source);
    }
    return 0;
}

/* Takes the system's first or last snapshot. */
static void live_snapshots(struct mw_ctx *ctx, struct leak_run *run, bool first)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->v[i].system)
            live_snapshot(ctx, &run->v[i], first);
}

/* The progress line's figure: the first series' slope so far. */
static void progress_detail(const struct leak_run *run, char *buf, size_t cap)
{
    buf[0] = '\0';
    const struct mw_series *s = run->n ? &run->v[0] : NULL;
    double slope;
    if (!s || s->n < 2 || mw_trend_theil_sen(s->t, s->v, s->n, &slope) < 0)
        return;
    char d[32];
    double ph = slope * 3600.0;
    ph = ph > 9.2e18 ? 9.2e18 : ph < -9.2e18 ? -9.2e18 : ph;
    snprintf(buf, cap, "%s %s/h", s->series_name, mw_fmt_size_delta(d, sizeof(d), (int64_t)ph));
}

static unsigned long samples_taken(const struct leak_run *run)
{
    unsigned long most = 0;
    for (size_t i = 0; i < run->n; i++)
        most = run->v[i].n > most ? run->v[i].n : most;
    return most;
}

/* Samples every interval for the duration, or until SIGINT or SIGTERM:
 * then the verdict is on what was collected. A progress line on stderr
 * while it is a terminal. */
static int live(struct mw_ctx *ctx, const struct leak_opts *o, struct leak_run *run)
{
    int rc = live_targets(ctx, o, run);
    if (rc < 0)
        return rc;
    run->pool_fd = mw_pool_dir_open(&ctx->root, o->pool_dir);
    if (run->pool_fd < 0 && o->pool_dir) {
        mw_err("leak: --pool-dir %s: %s", o->pool_dir, mw_strerror(-run->pool_fd));
        return run->pool_fd;
    }
    struct mw_progress pg;
    mw_stop_install();
    mw_progress_init(&pg, o->duration_ms);
    uint64_t t0 = pg.start_ms;
    /* slab caches, shared memory and processes are compared first vs last */
    live_snapshots(ctx, run, true);
    for (uint64_t k = 0;; k++) {
        uint64_t due = t0 + k * o->interval_ms;
        if (due - t0 > o->duration_ms || !mw_sleep_or_stop(due))
            break;
        rc = live_round(ctx, o, run, mw_sample_now_s());
        if (rc < 0)
            break;
        if (pg.tty) {
            char detail[64];
            progress_detail(run, detail, sizeof(detail));
            mw_progress_show(&pg, samples_taken(run), detail[0] ? detail : NULL);
        }
    }
    mw_progress_clear(&pg);
    if (rc < 0)
        return rc;
    if (mw_stop_signal)
        mw_err("leak: %s after %.1f s: the verdict is on the %lu sample%s taken",
               mw_stop_signal == SIGINT ? "interrupted" : "stopped",
               (double)(mw_now_ms() - t0) / 1000.0, samples_taken(run),
               samples_taken(run) == 1 ? "" : "s");
    live_snapshots(ctx, run, false);
    return live_finish(ctx, run);
}

/* ---- from a record ---- */

/* Whether process sample SMP is one the options ask for. */
static bool record_wants(const struct leak_opts *o, const regex_t *re, const struct mw_sample *smp)
{
    if (!o->npids && !o->match && !o->system)
        return true;
    for (size_t k = 0; k < o->npids; k++)
        if (o->pids[k] == smp->pid)
            return true;
    return re && regexec(re, smp->comm, 0, NULL, 0) == 0;
}

/* The series SMP belongs to, added when new; NULL when out of memory. */
static struct mw_series *record_series(const struct leak_opts *o, struct leak_run *run,
                                       const struct mw_sample *smp)
{
    bool sys = smp->kind == MW_SAMPLE_SYSTEM;
    for (size_t k = 0; k < run->n; k++) {
        struct mw_series *s = &run->v[k];
        if (sys ? s->system
                : !s->system && s->pid == smp->pid && s->starttime == smp->starttime && !s->exited)
            return s;
    }
    struct mw_series *s = add_series(run);
    if (!s)
        return NULL;
    s->system = sys;
    s->series_name = sys ? "used" : metric_name(o->metric);
    if (!sys) {
        s->pid = smp->pid;
        s->starttime = smp->starttime;
        snprintf(s->comm, sizeof(s->comm), "%s", smp->comm);
    }
    return s;
}

/* Every process sample of a record, wanted or not, for the system's
 * growers: the first and the latest memory of each process. */
static int record_procs(struct leak_run *run, const struct mw_sample *smp)
{
    struct mw_procmem m = {
        .pid = smp->pid, .rss_bytes = smp->rss, .pss_bytes = smp->have_pss ? smp->pss : 0};
    snprintf(m.comm, sizeof(m.comm), "%s", smp->comm);
    for (size_t i = 0; i < run->procs_first.n; i++)
        if (run->procs_first.p[i].pid == m.pid && strcmp(run->procs_first.p[i].comm, m.comm) == 0)
            return mw_procmem_put(&run->procs_last, &m);
    if (mw_procmem_add(&run->procs_first, &m) < 0)
        return -ENOMEM;
    return mw_procmem_put(&run->procs_last, &m);
}

/* Takes one record sample into RUN. Returns 0 or -ENOMEM. */
static int record_take(const struct leak_opts *o, const regex_t *re, struct leak_run *run,
                       const struct mw_sample *smp)
{
    if (smp->kind == MW_SAMPLE_PROCESS && record_procs(run, smp) < 0)
        return -ENOMEM;
    if (smp->kind == MW_SAMPLE_SYSTEM) {
        if ((o->npids || o->match) && !o->system)
            return 0;
    } else if (!record_wants(o, re, smp)) {
        return 0;
    }
    if (smp->kind == MW_SAMPLE_GONE) {
        for (size_t k = 0; k < run->n; k++) {
            struct mw_series *s = &run->v[k];
            if (!s->system && s->pid == smp->pid && s->starttime == smp->starttime && !s->exited) {
                s->exited = true;
                s->exited_at_s = smp->t_s - s->first.t_s;
                break;
            }
        }
        return 0;
    }
    struct mw_series *s = record_series(o, run, smp);
    if (!s || (smp->kind == MW_SAMPLE_SYSTEM && push_slab(run, (double)smp->slab) < 0))
        return -ENOMEM;
    return push_sample(s, smp, o->metric);
}

/* Headroom from the record's MemAvailable; the system's slab caches at its
 * first and last sample. */
static void record_finish(const struct mw_record *rec, struct leak_run *run)
{
    const struct mw_sample *first = NULL, *last = NULL;
    for (size_t i = 0; i < rec->n; i++)
        if (rec->s[i].kind == MW_SAMPLE_SYSTEM) {
            if (!first)
                first = &rec->s[i];
            last = &rec->s[i];
        }
    for (size_t k = 0; k < run->n; k++) {
        struct mw_series *s = &run->v[k];
        s->headroom_bytes = s->last.mem_available;
        s->headroom_source = "MemAvailable";
        if (s->system && first) {
            mw_memparts_from_sample(first, &s->parts_first);
            mw_memparts_from_sample(last, &s->parts_last);
            s->have_parts = true;
        }
        if (s->system && first && first->nslab && last->nslab) {
            mw_sample_slab_set(rec, first, &s->slab_first);
            mw_sample_slab_set(rec, last, &s->slab_last);
            s->have_slab = s->slab_first.c && s->slab_last.c;
        }
        if (s->system) { /* the record's processes move to the system series */
            s->procs_first = run->procs_first;
            s->procs_last = run->procs_last;
            memset(&run->procs_first, 0, sizeof(run->procs_first));
            memset(&run->procs_last, 0, sizeof(run->procs_last));
        }
    }
}

static int from_record(const struct leak_opts *o, struct leak_run *run)
{
    struct mw_record rec = {0};
    regex_t re;
    bool have_re = false;
    int rc = mw_record_read(o->from, &rec);
    if (rc < 0)
        goto out;
    run->bad_lines = rec.bad_lines;
    if (o->match) {
        if (mw_regcomp_bounded(&re, o->match, REG_EXTENDED | REG_NOSUB, NULL, 0) != 0) {
            rc = -EINVAL;
            goto out;
        }
        have_re = true;
    }
    for (size_t i = 0; i < rec.n && rc == 0; i++)
        rc = record_take(o, have_re ? &re : NULL, run, &rec.s[i]);
    if (rc == 0)
        record_finish(&rec, run);
out:
    if (have_re)
        regfree(&re);
    mw_record_free(&rec);
    return rc;
}

/* ---- options ---- */

/* Applies option C with argument ARG. Returns -1 to go on, or the exit
 * status to end with. */
static int leak_option(int c, const char *arg, struct leak_opts *o)
{
    uint64_t u;
    switch (c) {
    case 'p': {
        int rc = mw_opt_pid_append(arg, &o->pids, &o->npids);
        return rc ? rc : -1;
    }
    case 'm':
        o->match = arg;
        return -1;
    case 's':
        o->system = true;
        return -1;
    case 'd':
        return mw_opt_duration_ms("--duration", arg, &o->duration_ms) < 0 ? MW_EXIT_USAGE : -1;
    case 'i':
        return mw_opt_interval_ms("leak", arg, &o->interval_ms) != 0 ? MW_EXIT_USAGE : -1;
    case 'f':
        o->from = arg;
        return -1;
    case 'M':
        if (strcmp(arg, "rss") == 0)
            o->metric = MW_METRIC_RSS;
        else if (strcmp(arg, "pss") == 0)
            o->metric = MW_METRIC_PSS;
        else if (strcmp(arg, "uss") == 0)
            o->metric = MW_METRIC_USS;
        else
            return mw_usage_error("leak", "--metric: '%s' is not rss, pss or uss", arg);
        return -1;
    case 'W':
    case 'L':
        if (mw_parse_rate(arg, c == 'W' ? &o->params.warn_bytes_per_hour
                                        : &o->params.leak_bytes_per_hour) < 0)
            return mw_usage_error("leak", "%s: '%s' is not a rate (100M, 100M/h, 5M/s)",
                                  c == 'W' ? "--warn-rate" : "--leak-rate", arg);
        return -1;
    case 'B':
        if (mw_opt_size("--band", arg, &u) < 0)
            return MW_EXIT_USAGE;
        o->params.band_bytes = (double)u;
        o->params.band_fixed = true;
        return -1;
    case 'j':
        o->json = true;
        return -1;
    case 'P':
        o->pool_dir = arg;
        return -1;
    case 'h':
        mw_help(stdout, &cli_leak_doc);
        return MW_EXIT_OK;
    default:
        return MW_EXIT_USAGE; /* '?' and ':' are told by the caller */
    }
}

/* Parses the command line into O. Returns -1 to go on, or the exit status
 * to end with. */
static int leak_options(int argc, char **argv, struct leak_opts *o)
{
    o->duration_ms = 5 * 60 * 1000;
    o->interval_ms = 5000;
    mw_trend_params_default(&o->params);
    int c, ret;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_leak_doc)) != -1) {
        if (c == '?' || c == ':')
            return mw_opt_error("leak", c, argv);
        if ((ret = leak_option(c, optarg, o)) >= 0)
            return ret;
    }
    if (optind < argc)
        return mw_usage_error("leak", "unexpected argument '%s'", argv[optind]);
    if (o->match && (ret = mw_opt_match("leak", o->match)) != 0)
        return ret;
    if (!o->from && !o->npids && !o->match && !o->system)
        return mw_usage_error("leak", "say what to watch: -p PID, --match REGEX, --system or "
                                      "--from FILE");
    if (o->params.leak_bytes_per_hour < o->params.warn_bytes_per_hour)
        o->params.leak_bytes_per_hour = o->params.warn_bytes_per_hour;
    return -1;
}

/* ---- gather and render ---- */

/* Watches or reads, then classifies every series. Returns -1 to go on to
 * the output, or the exit status to end with (the error said). */
static int leak_gather(struct mw_ctx *ctx, const struct leak_opts *o, struct leak_run *run)
{
    int rc = o->from ? from_record(o, run) : live(ctx, o, run);
    if (rc < 0) {
        if (rc == -ESRCH)
            mw_err("leak: no process to watch%s%s", o->match ? " matches " : "",
                   o->match ? o->match : "");
        else if ((rc == -EBADFD || rc == -EISDIR) && o->from)
            mw_err("leak: %s: not a regular file (a record is a file 'memwarden watch "
                   "--record' writes)",
                   o->from);
        else if (rc == -EMSGSIZE && o->from)
            mw_err("leak: %s: a line longer than 1 MiB: not a memwarden record", o->from);
        else if (rc == -EINVAL && o->match)
            mw_err("leak: --match '%s' is not a valid regular expression", o->match);
        else
            mw_err("leak: %s: %s", o->from ? o->from : "sampling", mw_strerror(-rc));
        return rc == -EINVAL ? MW_EXIT_USAGE : MW_EXIT_FAIL;
    }
    if (run->n == 0) {
        mw_err("leak: %s holds no matching sample%s", o->from ? o->from : "the watch",
               run->bad_lines ? " (only lines that are not memwarden samples)" : "");
        return MW_EXIT_FAIL;
    }
    for (size_t i = 0; i < run->n; i++) {
        struct mw_series *s = &run->v[i];
        const struct mw_series *w = &run->v[run->worst];
        if (s->system) {
            s->headroom_bytes = s->last.mem_available;
            s->headroom_source = "MemAvailable";
        }
        if (mw_series_analyze(s, &o->params, s->system ? run->slab_v : NULL) < 0) {
            mw_err("leak: out of memory");
            return MW_EXIT_FAIL;
        }
        if (s->trend.verdict > w->trend.verdict ||
            (s->trend.verdict == w->trend.verdict &&
             s->trend.slope_bytes_per_hour > w->trend.slope_bytes_per_hour))
            run->worst = i;
    }
    return -1;
}

static void render_json(const struct leak_opts *o, const struct leak_run *run)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    const struct mw_series *w = &run->v[run->worst];
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
    if (o->from)
        mw_json_u64(&j, "skipped_lines", run->bad_lines);
    mw_json_array_begin(&j, "targets");
    for (size_t i = 0; i < run->n; i++)
        mw_series_json(&j, NULL, &run->v[i]);
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void render_text(const struct leak_opts *o, const struct leak_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        mw_series_print(stdout, &run->v[i]);
    if (run->bad_lines)
        printf("(skipped %u line%s of %s that were not samples)\n", run->bad_lines,
               run->bad_lines == 1 ? "" : "s", o->from);
}

int cli_leak(struct mw_ctx *ctx, int argc, char **argv)
{
    struct leak_opts o;
    struct leak_run run;
    memset(&o, 0, sizeof(o));
    memset(&run, 0, sizeof(run));
    run.pool_fd = -1;
    int ret = leak_options(argc, argv, &o);
    if (ret < 0)
        ret = leak_gather(ctx, &o, &run);
    if (ret < 0) {
        if (o.json)
            render_json(&o, &run);
        else
            render_text(&o, &run);
        ret = run.v[run.worst].trend.verdict >= MW_TREND_WARNING ? MW_EXIT_FOUND : MW_EXIT_OK;
    }
    leak_run_free(&run);
    free(o.pids);
    return ret;
}
