/* memwarden oom: what the kernel's OOM killer killed, and why — read back
 * from its log (the live kernel's, or saved dmesg / journalctl -k /
 * kern.log files): each event's time, trigger, scope, memory, largest
 * tasks and victim, and which programs it kills again and again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/json.h"
#include "base/text.h"
#include "proc/klog.h"
#include "proc/vmstat.h"
#include "analysis/oomreport.h"

/* Events shown in full by default (the summary counts them all). */
#define LAST_DEFAULT 10
#define LAST_MAX     100000

static const struct mw_opt oom_opts[] = {
    {"since", 'S', 0, "D",
     "only events of the last D (30m, 24h, 7d); events whose\n"
     "time has no date (dmesg without -T) are left out and\n"
     "counted",
     NULL},
    {"last", 'n', MW_OPT_SHORT, "N",
     "show the last N events in full (default " MW_STR(LAST_DEFAULT) "); the\n"
                                                                     "summary counts every event",
     NULL},
    {"page-size", 'P', 0, "SIZE",
     "the page size of the machine that wrote the log (4K,\n"
     "16K, 64K; default the root's)",
     NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "machine-readable output (bytes, seconds)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_oom_doc = {
    .head = "NAME\n"
            "    memwarden oom - what the kernel's OOM killer killed, and why, from its log\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden oom [FILE...|-] [--since D] [--last N] [--page-size SIZE] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    Reads the kernel's OOM-killer reports and tells, for each: when, who asked\n"
            "    (the process, gfp_mask, order, its oom_score_adj), where (a cgroup at its\n"
            "    limit, or the whole machine), why (the limit, RAM with no swap or swap full,\n"
            "    fragmentation, a cpuset), the memory the kernel printed (Mem-Info, zones\n"
            "    and their watermarks, swap; a cgroup's usage, limit and memory.stat), the\n"
            "    largest tasks of its table, and the victim (rss, oom_score_adj, reaped or\n"
            "    not). Then a summary: which programs were killed, how often, in which\n"
            "    cgroup.\n"
            "    Without FILE it reads the live kernel's log (/dev/kmsg under --root): every\n"
            "    message the kernel still holds. With kernel.dmesg_restrict = 1 that needs\n"
            "    root (CAP_SYSLOG); without it, memwarden oom says so and exits 1: give it\n"
            "    a saved log instead (journalctl -k > k.log, for members of adm or\n"
            "    systemd-journal; /var/log/kern.log). The ring buffer is small: after a long\n"
            "    night the report may have left it, and the saved logs keep it.\n"
            "    FILEs (- is stdin; give rotated logs oldest first, gunzip them: zcat\n"
            "    kern.log.2.gz | memwarden oom -) may be the output of dmesg (with or\n"
            "    without times, -T, -r, -x, --time-format iso), journalctl -k (short,\n"
            "    short-precise, short-iso, short-full, short-monotonic, short-unix), syslog\n"
            "    files (kern.log, messages, busybox syslogd: 'host kernel: ' lines; other\n"
            "    programs' lines are passed over), or a copy of /dev/kmsg. Lines of other\n"
            "    hosts, CPUs and subsystems may come in between; NUL runs (a log written up\n"
            "    to a crash) end lines; a report cut by the end of the log or by log rotation\n"
            "    is shown as far as it goes and marked. Memory stays bounded however long\n"
            "    the log.\n"
            "    Pages: the task table and Mem-Info count pages; they are converted with the\n"
            "    page size of the root (--root DIR: the capture's), or --page-size. Where the\n"
            "    log shows it (the victim's kill line in kB against its row in pages), the\n"
            "    page size the log implies is checked and a difference is said.\n",
    .opts = oom_opts,
    .exit_ok = "no OOM event found",
    .exit_fail = "the log could not be read (no permission, no such file, a\n"
                 "directory or device)",
    .exit_found = "OOM events found",
    .examples = "    memwarden oom\n"
                "    memwarden oom /var/log/kern.log --since 24h\n"
                "    journalctl -k -o short-iso --since yesterday | memwarden oom - --json\n",
    .operands = "@file",
};

struct oom_opts {
    char **files; /* NULL: the live kernel's log */
    int nfiles;
    bool have_since;
    uint64_t since_ms;
    unsigned long last;
    uint64_t page_size; /* 0: the root's */
    bool json;
};

/* What one input gave. */
struct oom_source {
    const char *name;
    uint64_t lines, kernel_lines, other_lines, long_lines, nul_lines;
};

/* Everything oom shows, gathered once; text and JSON render from it. */
struct oom_result {
    struct oom_source *src;
    int nsrc;
    bool kmsg; /* the live kernel's log (or the root's dev/kmsg copy) */
    struct mw_kmsg_info kinfo;
    bool have_vmstat;
    uint64_t vmstat_oom_kill;
    uint64_t page_size;
    bool page_size_opt;
    uint64_t log_ps_agree, log_ps_other, log_ps_seen; /* victims whose rows imply one */
    int64_t now_s, since_from_s;
    uint64_t found, undated, older, kept;
    struct mw_oom_event *ring; /* the last opts.last events kept */
    uint64_t *ring_idx;
    size_t cap, n, head;
    struct mw_oom_summary sum;
    uint64_t orphan_reaps;
};

static void on_event(const struct mw_oom_event *ev, void *ctx)
{
    struct oom_result *r = ctx;
    r->found++;
    if (r->since_from_s) {
        if (!ev->have_epoch) {
            r->undated++;
            return;
        }
        if (ev->epoch_s < r->since_from_s) {
            r->older++;
            return;
        }
    }
    uint64_t idx = ++r->kept;
    mw_oom_summary_add(&r->sum, ev, idx);
    uint64_t ps = mw_oom_implied_page_size(ev);
    if (ps) {
        r->log_ps_seen = ps;
        if (ps == r->page_size)
            r->log_ps_agree++;
        else
            r->log_ps_other++;
    }
    size_t slot = (r->head + r->n) % r->cap;
    if (r->n == r->cap)
        r->head = (r->head + 1) % r->cap;
    else
        r->n++;
    r->ring[slot] = *ev;
    r->ring_idx[slot] = idx;
}

static void on_line(const struct mw_klog_line *l, void *ctx)
{
    mw_oom_parser_line(ctx, l);
}

static void source_done(struct oom_source *src, const struct mw_klog_stream *st,
                        const struct mw_klog_stream *before)
{
    src->lines = st->lines - before->lines;
    src->kernel_lines = st->kernel_lines - before->kernel_lines;
    src->other_lines = st->other_lines - before->other_lines;
    src->long_lines = st->long_lines - before->long_lines;
    src->nul_lines = st->nul_lines - before->nul_lines;
}

/* Opens FILE ("-": stdin) for streaming: a regular file or a pipe (zcat ... |,
 * <(...)); a directory or a device is refused (-EISDIR, -EBADFD). */
static int open_input(const char *path)
{
    if (strcmp(path, "-") == 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0                            ? -errno
             : S_ISDIR(st.st_mode)                         ? -EISDIR
             : S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) ? 0
                                                           : -EBADFD;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

static int read_error(const char *what, int err)
{
    if (err == EISDIR || err == EBADFD)
        mw_err("oom: %s: not a log file (a directory or a device; for the kernel's own log "
               "give no FILE)",
               what);
    else
        mw_err("oom: %s: %s", what, mw_strerror(err));
    return MW_EXIT_FAIL;
}

/* The live log could not be opened: say why and what else to read. */
static int kmsg_error(const struct mw_root *root, int err)
{
    uint64_t restrict_on = 0;
    if (err != EPERM && err != EACCES)
        return read_error("the kernel's log (dev/kmsg under the root)", err);
    mw_read_u64(root, "proc/sys/kernel/dmesg_restrict", &restrict_on);
    mw_err("oom: the kernel's log: %s%s; run as root, or give a saved log: "
           "memwarden oom /var/log/kern.log, or journalctl -k | memwarden oom -",
           mw_strerror(err),
           restrict_on ? " (kernel.dmesg_restrict = 1: reading it needs CAP_SYSLOG)" : "");
    return MW_EXIT_FAIL;
}

static int read_inputs(const struct mw_ctx *ctx, const struct oom_opts *o, struct oom_result *r,
                       struct mw_klog_stream *st)
{
    if (!o->files) {
        r->kmsg = true;
        r->src[0].name = "the kernel's log";
        int rc = mw_klog_read_kmsg(&ctx->root, st, &r->kinfo);
        if (rc < 0)
            return kmsg_error(&ctx->root, -rc);
        struct mw_klog_stream zero;
        memset(&zero, 0, sizeof(zero));
        source_done(&r->src[0], st, &zero);
        return MW_EXIT_OK;
    }
    for (int i = 0; i < o->nfiles; i++) {
        const char *name = strcmp(o->files[i], "-") == 0 ? "(stdin)" : o->files[i];
        struct mw_klog_stream before = *st;
        int fd = open_input(o->files[i]);
        if (fd < 0)
            return read_error(name, -fd);
        st->source = (unsigned)i;
        long n = mw_klog_read_fd(fd, st);
        if (fd != 0)
            close(fd);
        if (n < 0)
            return read_error(name, (int)-n);
        r->src[i].name = name;
        source_done(&r->src[i], st, &before);
    }
    return MW_EXIT_OK;
}

static int ev_cmp(const void *a, const void *b)
{
    const struct mw_oom_event *x = a, *y = b;
    if (x->source != y->source)
        return x->source < y->source ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Reads the log(s) into R. Returns MW_EXIT_OK or an exit code after saying
 * why; R's buffers are the caller's to free either way. */
static int gather(const struct mw_ctx *ctx, const struct oom_opts *o, struct oom_result *r)
{
    static struct mw_klog_stream st;
    static struct mw_oom_parser ps;
    r->page_size = o->page_size ? o->page_size : ctx->root.page_size;
    r->page_size_opt = o->page_size != 0;
    r->now_s = (int64_t)time(NULL);
    if (o->have_since)
        r->since_from_s = r->now_s - (int64_t)(o->since_ms / 1000);
    r->cap = o->last;
    r->nsrc = o->files ? o->nfiles : 1;
    r->src = calloc((size_t)r->nsrc, sizeof(*r->src));
    r->ring = calloc(r->cap, sizeof(*r->ring));
    r->ring_idx = calloc(r->cap, sizeof(*r->ring_idx));
    if (!r->src || !r->ring || !r->ring_idx) {
        mw_err("oom: out of memory");
        return MW_EXIT_FAIL;
    }
    mw_oom_parser_init(&ps, on_event, r);
    mw_klog_stream_init(&st, r->now_s, on_line, &ps);
    int rc = read_inputs(ctx, o, r, &st);
    if (rc != MW_EXIT_OK)
        return rc;
    mw_oom_parser_finish(&ps);
    r->orphan_reaps = ps.orphan_reaps;
    struct mw_vmstat vs;
    if (r->kmsg && mw_vmstat_read(&ctx->root, &vs, NULL) == 0) {
        r->have_vmstat = true;
        r->vmstat_oom_kill = vs.oom_kill;
    }
    /* the ring in log order (events of interleaved hosts finish out of it) */
    struct mw_oom_event *lin = malloc((r->n ? r->n : 1) * sizeof(*lin));
    uint64_t *idx = malloc((r->n ? r->n : 1) * sizeof(*idx));
    if (!lin || !idx) {
        free(lin);
        free(idx);
        mw_err("oom: out of memory");
        return MW_EXIT_FAIL;
    }
    for (size_t i = 0; i < r->n; i++)
        lin[i] = r->ring[(r->head + i) % r->cap];
    qsort(lin, r->n, sizeof(*lin), ev_cmp);
    for (size_t i = 0; i < r->n; i++)
        idx[i] = r->kept - r->n + 1 + i;
    free(r->ring);
    free(r->ring_idx);
    r->ring = lin;
    r->ring_idx = idx;
    r->head = 0;
    mw_oom_summary_sort(&r->sum);
    return MW_EXIT_OK;
}

/* ---- text ----------------------------------------------------------------- */

static uint64_t kb(uint64_t v)
{
    return v * 1024;
}

static const char *sz(char *buf, size_t cap, uint64_t bytes)
{
    return mw_fmt_size(buf, cap, bytes);
}

static void put_str(const char *s)
{
    mw_text_put(stdout, s, strlen(s), 0);
}

static const char *cause_text(enum mw_oom_cause c)
{
    switch (c) {
    case MW_OOM_CAUSE_MEMCG_LIMIT:
        return "the cgroup reached its limit";
    case MW_OOM_CAUSE_RAM_NO_SWAP:
        return "the machine's RAM ran out, and it has no swap";
    case MW_OOM_CAUSE_RAM_SWAP_FULL:
        return "the machine's RAM ran out, and swap was full too";
    case MW_OOM_CAUSE_RAM:
        return "the machine's RAM ran out with swap left (memory that cannot be swapped: "
               "shmem, mlock, kernel; or an allocation that may not wait)";
    case MW_OOM_CAUSE_FRAGMENTED:
        return "a higher-order allocation failed with memory free: fragmentation";
    case MW_OOM_CAUSE_NODES:
        return "the NUMA nodes of its cpuset or mempolicy ran out";
    case MW_OOM_CAUSE_SYSRQ:
        return "asked for by hand (SysRq f)";
    default:
        return "the report is cut before it says";
    }
}

static void print_where(const struct mw_oom_event *ev)
{
    printf("    where    ");
    if (ev->scope == MW_OOM_SCOPE_MEMCG) {
        printf("cgroup ");
        put_str(ev->oom_memcg[0] ? ev->oom_memcg : ev->task_memcg[0] ? ev->task_memcg : "?");
        if (ev->task_memcg[0] && ev->oom_memcg[0] && strcmp(ev->task_memcg, ev->oom_memcg)) {
            printf(" (victim in ");
            put_str(ev->task_memcg);
            printf(")");
        }
    } else if (ev->scope == MW_OOM_SCOPE_UNKNOWN) {
        printf("not said (the report is cut)");
    } else {
        printf("%s", ev->scope == MW_OOM_SCOPE_GLOBAL   ? "the whole machine"
                     : ev->scope == MW_OOM_SCOPE_CPUSET ? "a cpuset's nodes, cpuset "
                                                        : "a mempolicy's nodes");
        if (ev->scope == MW_OOM_SCOPE_CPUSET)
            put_str(ev->cpuset);
        if (ev->task_memcg[0]) {
            printf("; victim's cgroup ");
            put_str(ev->task_memcg);
        }
    }
    if (ev->constraint[0]) {
        printf(" (");
        put_str(ev->constraint);
        printf(")");
    }
    printf("%s\n", ev->path_cut ? " [path cut]" : "");
}

static void print_trigger(const struct mw_oom_event *ev)
{
    if (!ev->have_trigger) {
        printf("    trigger  not in the log (%s)\n",
               ev->have_victim ? "the kernel rate-limits its reports, 10 every 5 s, or the log "
                                 "lost the start"
                               : "the log lost the start");
        return;
    }
    printf("    trigger  ");
    put_str(ev->trigger_comm);
    if (ev->trigger_pid)
        printf(" (pid %" PRId64 ")", ev->trigger_pid);
    printf(" gfp_mask=");
    put_str(ev->gfp_mask);
    printf(" order=%d oom_score_adj=%" PRId64, ev->order, ev->trigger_adj);
    if (ev->kernel[0]) {
        printf("; kernel ");
        put_str(ev->kernel);
    }
    printf("\n");
}

static void print_victim(const struct mw_oom_event *ev)
{
    char a[32], b[32], c[32], d[32];
    if (!ev->have_victim) {
        printf("    killed   nothing: %s\n",
               ev->no_killable ? "no killable process (Out of memory and no killable processes)"
               : ev->panic     ? "the kernel panicked"
                               : "the log ends before the kill");
        return;
    }
    printf("    killed   ");
    put_str(ev->victim_comm);
    printf(" (pid %" PRId64, ev->victim_pid);
    if (ev->have_victim_uid)
        printf(", uid %" PRIu64, ev->victim_uid);
    printf(")");
    if (ev->have_victim_sizes)
        printf(" anon-rss %s, file-rss %s, shmem-rss %s, total-vm %s",
               sz(a, 32, kb(ev->anon_rss_kb)), sz(b, 32, kb(ev->file_rss_kb)),
               sz(c, 32, kb(ev->shmem_rss_kb)), sz(d, 32, kb(ev->total_vm_kb)));
    if (ev->have_victim_adj)
        printf(", oom_score_adj %" PRId64, ev->victim_adj);
    printf("\n");
    if (ev->have_score && ev->chosen_pid != ev->victim_pid) {
        printf("             chosen: ");
        put_str(ev->chosen_comm);
        printf(" (pid %" PRId64 ", score %" PRIu64 "); its child killed in its place\n",
               ev->chosen_pid, ev->score);
    } else if (ev->have_score) {
        printf("             score %" PRIu64 "\n", ev->score);
    }
    if (ev->sharing)
        printf("             and %u process%s sharing its memory\n", ev->sharing,
               ev->sharing == 1 ? "" : "es");
    if (ev->reaped)
        printf("             reaped by oom_reaper: anon-rss now %s, file-rss %s, shmem-rss %s\n",
               sz(a, 32, kb(ev->reaped_anon_kb)), sz(b, 32, kb(ev->reaped_file_kb)),
               sz(c, 32, kb(ev->reaped_shmem_kb)));
    if (ev->reap_failed)
        printf("             oom_reaper could not reap it\n");
}

static void print_why(const struct mw_oom_event *ev, uint64_t ps)
{
    struct mw_oom_why w;
    char a[32], b[32], c[32], d[32];
    mw_oom_judge(ev, ps, &w);
    printf("    why      %s: %s", mw_oom_cause_name(w.cause),
           w.cause == MW_OOM_CAUSE_UNKNOWN && ev->no_header && ev->have_victim
               ? "only the kill is in the log (a rate-limited or cut report)"
               : cause_text(w.cause));
    if (w.cause == MW_OOM_CAUSE_MEMCG_LIMIT && ev->have_memcg)
        printf(" (usage %s of %s, failcnt %" PRIu64 ")", sz(a, 32, kb(ev->mem_usage_kb)),
               sz(b, 32, kb(ev->mem_limit_kb)), ev->mem_failcnt);
    if (w.cause == MW_OOM_CAUSE_MEMCG_LIMIT && ev->have_swap_line)
        printf("; %s %s of %s", ev->swap_is_memsw ? "memory+swap" : "swap",
               sz(c, 32, kb(ev->swap_usage_kb)), sz(d, 32, kb(ev->swap_limit_kb)));
    if ((w.cause == MW_OOM_CAUSE_RAM_SWAP_FULL || w.cause == MW_OOM_CAUSE_RAM) && ev->have_swap)
        printf(" (free swap %s of %s)", sz(a, 32, kb(ev->free_swap_kb)),
               sz(b, 32, kb(ev->total_swap_kb)));
    printf("\n");
    if (w.notes & MW_OOM_NOTE_SLAB)
        printf("    note     the kernel's unreclaimable slab is large: a kernel leak; no "
               "process kill frees it\n");
    if (w.notes & MW_OOM_NOTE_SHMEM)
        printf("    note     shmem/tmpfs holds a quarter or more: killing processes does not "
               "free it (remove the files)\n");
    if (w.notes & MW_OOM_NOTE_SMALL_VICTIM)
        printf("    note     the victim held under 5 %% of the memory: its kill frees little\n");
    if (w.notes & MW_OOM_NOTE_PANIC)
        printf("    note     the kernel panicked (panic_on_oom, or nothing could be killed)\n");
}

static void print_zones(const struct mw_oom_event *ev)
{
    char a[32], b[32], c[32], d[32];
    for (unsigned i = 0; i < ev->nzones; i++) {
        const struct mw_oom_zone *z = &ev->zones[i];
        printf("    zone     node %" PRId64 " ", z->node);
        put_str(z->name);
        printf(": free %s, min %s, low %s, high %s%s\n", sz(a, 32, kb(z->free_kb)),
               sz(b, 32, kb(z->min_kb)), sz(c, 32, kb(z->low_kb)), sz(d, 32, kb(z->high_kb)),
               z->free_kb < z->min_kb   ? " (under min)"
               : z->free_kb < z->low_kb ? " (under low)"
                                        : "");
    }
}

static void print_memory(const struct mw_oom_event *ev, uint64_t ps)
{
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    if (ev->have_memcg_stat)
        printf("    memory   cgroup: anon %s, file %s, shmem %s, kernel %s, swap %s\n",
               sz(a, 32, ev->cg_anon), sz(b, 32, ev->cg_file), sz(c, 32, ev->cg_shmem),
               sz(d, 32, ev->cg_kernel), sz(e, 32, ev->cg_swap));
    if (ev->have_meminfo) {
        printf("    memory   free %s, anon %s, file %s, shmem %s, slab %s + %s unreclaimable, "
               "page tables %s",
               sz(a, 32, ev->free_pages * ps),
               sz(b, 32, (ev->active_anon_pages + ev->inactive_anon_pages) * ps),
               sz(c, 32, (ev->active_file_pages + ev->inactive_file_pages) * ps),
               sz(d, 32, ev->shmem_pages * ps), sz(e, 32, ev->slab_reclaimable_pages * ps),
               sz(f, 32, ev->slab_unreclaimable_pages * ps), sz(g, 32, ev->pagetables_pages * ps));
        if (ev->ram_pages)
            printf("; RAM %s", sz(a, 32, ev->ram_pages * ps));
        printf("\n");
    }
    if (ev->have_swap)
        printf("    swap     free %s of %s\n", sz(a, 32, kb(ev->free_swap_kb)),
               sz(b, 32, kb(ev->total_swap_kb)));
    print_zones(ev);
    for (unsigned i = 0; i < ev->nslabs; i++) {
        printf("    slab     ");
        put_str(ev->slabs[i].name);
        printf(" %s\n", sz(a, 32, kb(ev->slabs[i].used_kb)));
    }
}

static void print_tasks(const struct mw_oom_event *ev, uint64_t ps)
{
    char a[32], b[32];
    if (!ev->have_tasks)
        return;
    printf("    tasks    %" PRIu64 " listed, %s rss in all; largest:\n", ev->ntasks,
           sz(a, 32, ev->tasks_rss_pages * ps));
    if (ev->ntop)
        printf("               %8s %6s %10s %10s %5s  name\n", "pid", "uid", "rss", "swap", "adj");
    for (unsigned i = 0; i < ev->ntop; i++) {
        const struct mw_oom_task *t = &ev->top[i];
        printf("               %8" PRId64 " %6" PRIu64 " %10s %10s %5" PRId64 "  ", t->pid, t->uid,
               sz(a, 32, t->rss_pages * ps), sz(b, 32, t->swap_pages * ps), t->oom_score_adj);
        put_str(t->name);
        printf("\n");
    }
}

static void print_event(const struct oom_result *r, const struct mw_oom_event *ev, uint64_t idx)
{
    char when[64] = "";
    time_t t = (time_t)ev->epoch_s;
    struct tm tm;
    if (!ev->time[0] && ev->have_epoch && localtime_r(&t, &tm)) /* the live log's */
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S (estimated, as dmesg -T)", &tm);
    printf("\n#%" PRIu64 "  ", idx);
    put_str(ev->time[0] ? ev->time : when);
    if (ev->boot_s >= 0)
        printf("%s%.3f s after boot", ev->time[0] || when[0] ? ", " : "", ev->boot_s);
    if (!ev->time[0] && !when[0] && ev->boot_s < 0)
        printf("(no time in the log)");
    if (ev->host[0]) {
        printf(", host ");
        put_str(ev->host);
    }
    printf("  [");
    put_str(r->src[ev->source < (unsigned)r->nsrc ? ev->source : 0].name);
    printf(":%" PRIu64 "]%s\n", ev->line, ev->cut_end ? "  CUT: the log ends before the kill" : "");
    print_where(ev);
    print_trigger(ev);
    print_victim(ev);
    print_why(ev, r->page_size);
    print_memory(ev, r->page_size);
    print_tasks(ev, r->page_size);
}

static void print_summary(const struct oom_result *r)
{
    const struct mw_oom_summary *s = &r->sum;
    char a[32];
    printf("\nSummary: %" PRIu64 " event%s, %" PRIu64 " kill%s (%" PRIu64 " in a cgroup, %" PRIu64
           " machine-wide, %" PRIu64 " other or not said), %" PRIu64 " without a kill\n",
           s->events, s->events == 1 ? "" : "s", s->kills, s->kills == 1 ? "" : "s", s->memcg,
           s->global, s->other_scope, s->no_victim);
    if (!s->nrows)
        return;
    printf("  %5s  %-16s %-10s %-16s %s\n", "kills", "victim", "max rss", "last trigger", "where");
    for (unsigned i = 0; i < s->nrows; i++) {
        const struct mw_oom_sum_row *w = &s->rows[i];
        printf("  %5" PRIu64 "  ", w->kills);
        mw_text_put_cell(stdout, w->victim, 16, true);
        printf(" %-10s ", sz(a, 32, kb(w->max_rss_kb)));
        mw_text_put_cell(stdout, w->trigger[0] ? w->trigger : "?", 16, true);
        printf(" ");
        if (w->cgroup[0])
            put_str(w->cgroup);
        else
            printf("%s", w->scope == MW_OOM_SCOPE_GLOBAL ? "the machine" : "not said");
        printf("\n");
    }
    if (s->other_kills)
        printf("  and %" PRIu64 " kills of %d+ other programs\n", s->other_kills, MW_OOM_SUM_ROWS);
    for (unsigned i = 0; i < s->nrows; i++) { /* by name, over its cgroups */
        uint64_t kills = 0, first = UINT64_MAX, last = 0;
        bool seen = false;
        for (unsigned k = 0; k < s->nrows; k++) {
            if (strcmp(s->rows[k].victim, s->rows[i].victim) != 0)
                continue;
            seen |= k < i;
            kills += s->rows[k].kills;
            first = s->rows[k].first_idx < first ? s->rows[k].first_idx : first;
            last = s->rows[k].last_idx > last ? s->rows[k].last_idx : last;
        }
        if (seen || kills < 3)
            continue;
        printf("  again and again: ");
        put_str(s->rows[i].victim);
        printf(" killed %" PRIu64 " times (events #%" PRIu64 " to #%" PRIu64
               "): it comes back and is killed again; give it less to do, more memory, or a "
               "limit of its own\n",
               kills, first, last);
    }
}

static void print_header(const struct oom_opts *o, const struct oom_result *r)
{
    char a[32];
    uint64_t lines = 0, other = 0, lng = 0, nul = 0;
    for (int i = 0; i < r->nsrc; i++) {
        lines += r->src[i].lines;
        other += r->src[i].other_lines;
        lng += r->src[i].long_lines;
        nul += r->src[i].nul_lines;
    }
    printf("OOM events: %" PRIu64 " in ", r->kept);
    if (r->nsrc == 1)
        put_str(r->src[0].name);
    else
        printf("%d files", r->nsrc);
    printf(" (%" PRIu64 " lines", lines);
    if (other)
        printf(", %" PRIu64 " of other programs", other);
    if (lng)
        printf(", %" PRIu64 " over %d bytes skipped", lng, MW_KLOG_MAX_LINE);
    if (nul)
        printf(", %" PRIu64 " cut by NUL bytes", nul);
    printf(")\n");
    if (o->have_since)
        printf("--since: %" PRIu64 " older left out, %" PRIu64
               " without a date left out (dmesg without -T: use dmesg -T or journalctl -k)\n",
               r->older, r->undated);
    printf("pages: %s (%s); the task table and Mem-Info count pages", sz(a, 32, r->page_size),
           r->page_size_opt ? "--page-size" : "the root's page size");
    if (r->log_ps_other)
        printf("; WARNING: the kill lines of %" PRIu64 " victim%s against their rows say %s "
               "pages: give --page-size",
               r->log_ps_other, r->log_ps_other == 1 ? "" : "s", sz(a, 32, r->log_ps_seen));
    else if (r->log_ps_agree)
        printf("; the log agrees (the kill lines of %" PRIu64 " victim%s against their rows)",
               r->log_ps_agree, r->log_ps_agree == 1 ? "" : "s");
    printf("\n");
    if (r->kept > r->n)
        printf("showing the last %zu (--last N)\n", r->n);
}

static void print_kmsg_notes(const struct oom_result *r)
{
    if (!r->kmsg || !r->kinfo.device)
        return;
    if (r->kinfo.first_seq > 0)
        printf("\nThe kernel's log holds messages from number %" PRIu64
               " on; older ones (and their reports) are only in journalctl -k or "
               "/var/log/kern.log\n",
               r->kinfo.first_seq);
    if (r->have_vmstat && r->vmstat_oom_kill > r->sum.kills)
        printf("The kernel counted %" PRIu64 " OOM kill%s since boot (/proc/vmstat oom_kill); "
               "its log shows %" PRIu64 ": the rest rolled out of it\n",
               r->vmstat_oom_kill, r->vmstat_oom_kill == 1 ? "" : "s", r->sum.kills);
}

static void print_text(const struct oom_opts *o, const struct oom_result *r)
{
    print_header(o, r);
    for (size_t i = 0; i < r->n; i++)
        print_event(r, &r->ring[i], r->ring_idx[i]);
    if (r->kept)
        print_summary(r);
    print_kmsg_notes(r);
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_trigger(struct mw_json *j, const struct mw_oom_event *ev)
{
    if (!ev->have_trigger) {
        mw_json_null(j, "trigger");
        return;
    }
    mw_json_object_begin(j, "trigger");
    mw_json_str(j, "comm", ev->trigger_comm);
    if (ev->trigger_pid)
        mw_json_i64(j, "pid", ev->trigger_pid);
    else
        mw_json_null(j, "pid");
    mw_json_str(j, "gfp_mask", ev->gfp_mask);
    mw_json_i64(j, "order", ev->order);
    mw_json_i64(j, "oom_score_adj", ev->trigger_adj);
    mw_json_object_end(j);
}

static void json_victim(struct mw_json *j, const struct mw_oom_event *ev)
{
    if (!ev->have_victim) {
        mw_json_null(j, "victim");
        return;
    }
    mw_json_object_begin(j, "victim");
    mw_json_i64(j, "pid", ev->victim_pid);
    mw_json_str(j, "comm", ev->victim_comm);
    if (ev->have_victim_uid)
        mw_json_u64(j, "uid", ev->victim_uid);
    else
        mw_json_null(j, "uid");
    if (ev->have_victim_sizes) {
        mw_json_u64(j, "total_vm", kb(ev->total_vm_kb));
        mw_json_u64(j, "anon_rss", kb(ev->anon_rss_kb));
        mw_json_u64(j, "file_rss", kb(ev->file_rss_kb));
        mw_json_u64(j, "shmem_rss", kb(ev->shmem_rss_kb));
        mw_json_u64(j, "pgtables", kb(ev->pgtables_kb));
    }
    if (ev->have_victim_adj)
        mw_json_i64(j, "oom_score_adj", ev->victim_adj);
    else
        mw_json_null(j, "oom_score_adj");
    if (ev->have_score) {
        mw_json_u64(j, "score", ev->score);
        mw_json_i64(j, "chosen_pid", ev->chosen_pid);
        mw_json_str(j, "chosen_comm", ev->chosen_comm);
    }
    mw_json_u64(j, "sharing_killed", ev->sharing);
    mw_json_bool(j, "reaped", ev->reaped);
    if (ev->reaped) {
        mw_json_u64(j, "reaped_anon_rss", kb(ev->reaped_anon_kb));
        mw_json_u64(j, "reaped_file_rss", kb(ev->reaped_file_kb));
        mw_json_u64(j, "reaped_shmem_rss", kb(ev->reaped_shmem_kb));
    }
    mw_json_bool(j, "reap_failed", ev->reap_failed);
    mw_json_object_end(j);
}

static void json_memcg(struct mw_json *j, const struct mw_oom_event *ev)
{
    if (!ev->have_memcg && !ev->have_memcg_stat) {
        mw_json_null(j, "memcg");
        return;
    }
    mw_json_object_begin(j, "memcg");
    if (ev->have_memcg) {
        mw_json_u64(j, "usage", kb(ev->mem_usage_kb));
        mw_json_u64(j, "limit", kb(ev->mem_limit_kb));
        mw_json_u64(j, "failcnt", ev->mem_failcnt);
    }
    if (ev->have_swap_line) {
        mw_json_str(j, "swap_kind", ev->swap_is_memsw ? "memory+swap" : "swap");
        mw_json_u64(j, "swap_usage", kb(ev->swap_usage_kb));
        mw_json_u64(j, "swap_limit", kb(ev->swap_limit_kb));
    }
    if (ev->have_memcg_stat) {
        mw_json_object_begin(j, "stat");
        mw_json_u64(j, "anon", ev->cg_anon);
        mw_json_u64(j, "file", ev->cg_file);
        mw_json_u64(j, "shmem", ev->cg_shmem);
        mw_json_u64(j, "kernel", ev->cg_kernel);
        mw_json_u64(j, "slab", ev->cg_slab);
        mw_json_u64(j, "swap", ev->cg_swap);
        mw_json_object_end(j);
    }
    mw_json_object_end(j);
}

static void json_memory(struct mw_json *j, const struct mw_oom_event *ev, uint64_t ps)
{
    if (!ev->have_meminfo && !ev->have_swap && !ev->nzones) {
        mw_json_null(j, "memory");
        return;
    }
    mw_json_object_begin(j, "memory");
    if (ev->have_meminfo) {
        mw_json_u64(j, "free", ev->free_pages * ps);
        mw_json_u64(j, "active_anon", ev->active_anon_pages * ps);
        mw_json_u64(j, "inactive_anon", ev->inactive_anon_pages * ps);
        mw_json_u64(j, "active_file", ev->active_file_pages * ps);
        mw_json_u64(j, "inactive_file", ev->inactive_file_pages * ps);
        mw_json_u64(j, "unevictable", ev->unevictable_pages * ps);
        mw_json_u64(j, "shmem", ev->shmem_pages * ps);
        mw_json_u64(j, "slab_reclaimable", ev->slab_reclaimable_pages * ps);
        mw_json_u64(j, "slab_unreclaimable", ev->slab_unreclaimable_pages * ps);
        mw_json_u64(j, "pagetables", ev->pagetables_pages * ps);
        mw_json_u64(j, "mapped", ev->mapped_pages * ps);
    }
    if (ev->ram_pages)
        mw_json_u64(j, "ram", ev->ram_pages * ps);
    if (ev->have_swap) {
        mw_json_u64(j, "free_swap", kb(ev->free_swap_kb));
        mw_json_u64(j, "total_swap", kb(ev->total_swap_kb));
    }
    mw_json_array_begin(j, "zones");
    for (unsigned i = 0; i < ev->nzones; i++) {
        const struct mw_oom_zone *z = &ev->zones[i];
        mw_json_object_begin(j, NULL);
        mw_json_i64(j, "node", z->node);
        mw_json_str(j, "zone", z->name);
        mw_json_u64(j, "free", kb(z->free_kb));
        mw_json_u64(j, "min", kb(z->min_kb));
        mw_json_u64(j, "low", kb(z->low_kb));
        mw_json_u64(j, "high", kb(z->high_kb));
        mw_json_u64(j, "managed", kb(z->managed_kb));
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_array_begin(j, "unreclaimable_slab");
    for (unsigned i = 0; i < ev->nslabs; i++) {
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "name", ev->slabs[i].name);
        mw_json_u64(j, "used", kb(ev->slabs[i].used_kb));
        mw_json_u64(j, "total", kb(ev->slabs[i].total_kb));
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_object_end(j);
}

static void json_tasks(struct mw_json *j, const struct mw_oom_event *ev, uint64_t ps)
{
    if (!ev->have_tasks) {
        mw_json_null(j, "tasks");
        return;
    }
    mw_json_object_begin(j, "tasks");
    mw_json_u64(j, "listed", ev->ntasks);
    mw_json_u64(j, "rss_total", ev->tasks_rss_pages * ps);
    mw_json_array_begin(j, "largest");
    for (unsigned i = 0; i < ev->ntop; i++) {
        const struct mw_oom_task *t = &ev->top[i];
        mw_json_object_begin(j, NULL);
        mw_json_i64(j, "pid", t->pid);
        mw_json_i64(j, "tgid", t->tgid);
        mw_json_u64(j, "uid", t->uid);
        mw_json_str(j, "name", t->name);
        mw_json_u64(j, "rss", t->rss_pages * ps);
        mw_json_u64(j, "total_vm", t->total_vm_pages * ps);
        mw_json_u64(j, "swap", t->swap_pages * ps);
        mw_json_i64(j, "oom_score_adj", t->oom_score_adj);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_object_end(j);
}

static void json_where(struct mw_json *j, const struct oom_result *r, const struct mw_oom_event *ev,
                       uint64_t idx)
{
    mw_json_u64(j, "index", idx);
    mw_json_str(j, "source", r->src[ev->source < (unsigned)r->nsrc ? ev->source : 0].name);
    mw_json_u64(j, "line", ev->line);
    mw_json_str(j, "time", ev->time);
    if (ev->have_epoch && !ev->year_guessed)
        mw_json_i64(j, "epoch_s", ev->epoch_s);
    else
        mw_json_null(j, "epoch_s");
    if (ev->boot_s >= 0)
        mw_json_fixed(j, "boot_s", ev->boot_s, 6);
    else
        mw_json_null(j, "boot_s");
    mw_json_str(j, "host", ev->host);
    mw_json_str(j, "kernel", ev->kernel);
    mw_json_str(j, "scope", mw_oom_scope_name(ev->scope));
    mw_json_str(j, "constraint", ev->constraint);
    mw_json_str(j, "oom_memcg", ev->oom_memcg);
    mw_json_str(j, "task_memcg", ev->task_memcg);
    mw_json_str(j, "cpuset", ev->cpuset);
}

static void json_event(struct mw_json *j, const struct oom_result *r, const struct mw_oom_event *ev,
                       uint64_t idx)
{
    struct mw_oom_why w;
    mw_oom_judge(ev, r->page_size, &w);
    mw_json_object_begin(j, NULL);
    json_where(j, r, ev, idx);
    json_trigger(j, ev);
    json_victim(j, ev);
    mw_json_str(j, "cause", mw_oom_cause_name(w.cause));
    mw_json_array_begin(j, "notes");
    static const char *const notes[] = {"slab", "shmem", "small_victim", "no_victim", "panic"};
    for (unsigned i = 0; i < MW_ARRAY_SIZE(notes); i++)
        if (w.notes & (1u << i))
            mw_json_str(j, NULL, notes[i]);
    mw_json_array_end(j);
    json_memcg(j, ev);
    json_memory(j, ev, r->page_size);
    json_tasks(j, ev, r->page_size);
    mw_json_bool(j, "cut_end", ev->cut_end);
    mw_json_bool(j, "no_header", ev->no_header);
    mw_json_bool(j, "no_killable", ev->no_killable);
    mw_json_bool(j, "panic", ev->panic);
    mw_json_object_end(j);
}

static void json_summary(struct mw_json *j, const struct oom_result *r)
{
    const struct mw_oom_summary *s = &r->sum;
    mw_json_object_begin(j, "summary");
    mw_json_u64(j, "events", s->events);
    mw_json_u64(j, "kills", s->kills);
    mw_json_u64(j, "memcg", s->memcg);
    mw_json_u64(j, "global", s->global);
    mw_json_u64(j, "other_scope", s->other_scope);
    mw_json_u64(j, "without_kill", s->no_victim);
    mw_json_u64(j, "other_kills", s->other_kills);
    mw_json_array_begin(j, "victims");
    for (unsigned i = 0; i < s->nrows; i++) {
        const struct mw_oom_sum_row *w = &s->rows[i];
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "victim", w->victim);
        if (w->cgroup[0])
            mw_json_str(j, "cgroup", w->cgroup);
        else
            mw_json_null(j, "cgroup");
        mw_json_str(j, "scope", mw_oom_scope_name(w->scope));
        mw_json_u64(j, "kills", w->kills);
        mw_json_str(j, "last_trigger", w->trigger);
        mw_json_u64(j, "max_rss", kb(w->max_rss_kb));
        mw_json_u64(j, "first_event", w->first_idx);
        mw_json_u64(j, "last_event", w->last_idx);
        mw_json_str(j, "first_time", w->first_time);
        mw_json_str(j, "last_time", w->last_time);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    mw_json_object_end(j);
}

static void json_head(struct mw_json *j, const struct oom_opts *o, const struct oom_result *r)
{
    mw_json_array_begin(j, "sources");
    for (int i = 0; i < r->nsrc; i++) {
        const struct oom_source *s = &r->src[i];
        mw_json_object_begin(j, NULL);
        mw_json_str(j, "name", s->name);
        mw_json_u64(j, "lines", s->lines);
        mw_json_u64(j, "kernel_lines", s->kernel_lines);
        mw_json_u64(j, "other_lines", s->other_lines);
        mw_json_u64(j, "long_lines", s->long_lines);
        mw_json_u64(j, "nul_lines", s->nul_lines);
        mw_json_object_end(j);
    }
    mw_json_array_end(j);
    if (r->kmsg && r->kinfo.device) {
        mw_json_object_begin(j, "kernel_log");
        mw_json_u64(j, "records", r->kinfo.records);
        mw_json_u64(j, "first_seq", r->kinfo.first_seq);
        mw_json_u64(j, "lost", r->kinfo.lost);
        mw_json_object_end(j);
    }
    if (r->have_vmstat)
        mw_json_u64(j, "vmstat_oom_kill", r->vmstat_oom_kill);
    mw_json_u64(j, "page_size", r->page_size);
    mw_json_str(j, "page_size_from", r->page_size_opt ? "option" : "root");
    if (r->log_ps_seen)
        mw_json_u64(j, "page_size_log", r->log_ps_seen);
    else
        mw_json_null(j, "page_size_log");
    if (o->have_since)
        mw_json_u64(j, "since_s", o->since_ms / 1000);
    else
        mw_json_null(j, "since_s");
    mw_json_u64(j, "events_found", r->kept);
    mw_json_u64(j, "left_out_older", r->older);
    mw_json_u64(j, "left_out_undated", r->undated);
    mw_json_u64(j, "orphan_reaper_lines", r->orphan_reaps);
}

static void print_json(const struct oom_opts *o, const struct oom_result *r)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    json_head(&j, o, r);
    mw_json_array_begin(&j, "events");
    for (size_t i = 0; i < r->n; i++)
        json_event(&j, r, &r->ring[i], r->ring_idx[i]);
    mw_json_array_end(&j);
    json_summary(&j, r);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* ---- options -------------------------------------------------------------- */

/* Returns 0 with O filled, -1 after --help, or an exit code to return. */
static int parse_opts(int argc, char **argv, struct oom_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_oom_doc)) != -1) {
        switch (c) {
        case 'S':
            if (mw_opt_duration_ms("--since", optarg, &o->since_ms) < 0)
                return MW_EXIT_USAGE;
            o->have_since = true;
            break;
        case 'n':
            if (mw_opt_uint("--last", optarg, 1, LAST_MAX, &o->last) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'P':
            if (mw_opt_size("--page-size", optarg, &o->page_size) < 0)
                return MW_EXIT_USAGE;
            if (o->page_size < 4096 || o->page_size > (256u << 10) ||
                (o->page_size & (o->page_size - 1)))
                return mw_usage_error("oom",
                                      "--page-size: '%s' is not a page size (4K to 256K, "
                                      "a power of two)",
                                      optarg);
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_oom_doc);
            return -1;
        default:
            return mw_opt_error("oom", c, argv);
        }
    }
    if (optind < argc) {
        o->files = argv + optind;
        o->nfiles = argc - optind;
    }
    return 0;
}

int cli_oom(struct mw_ctx *ctx, int argc, char **argv)
{
    struct oom_opts o = {.last = LAST_DEFAULT};
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? MW_EXIT_OK : rc;
    static struct oom_result r; /* the summary is ~20 KiB: off the stack */
    memset(&r, 0, sizeof(r));
    rc = gather(ctx, &o, &r);
    if (rc == MW_EXIT_OK) {
        if (o.json)
            print_json(&o, &r);
        else
            print_text(&o, &r);
        rc = r.kept ? MW_EXIT_FOUND : MW_EXIT_OK;
    }
    free(r.src);
    free(r.ring);
    free(r.ring_idx);
    return rc;
}
