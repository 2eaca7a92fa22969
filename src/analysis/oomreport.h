/* oomreport: the kernel's OOM-killer reports, read back from its log —
 * what it killed, who asked, in which cgroup or on the whole machine, the
 * memory it printed, its task table's biggest entries, and why it came to
 * that. Pure: kernel log lines (proc/klog.h) in, one struct per OOM event
 * out, in bounded memory (a few fixed slots, however long the log).
 *
 * A report is a run of lines the kernel prints under its oom_lock, so two
 * reports of one kernel never interleave; but syslog files that gather
 * several hosts do, and other CPUs and subsystems print between its
 * lines. Lines are matched to the open report of their host; anything
 * that is not part of a report is passed over. Formats: kernels 2.6.32 to
 * 6.18 (the sample line above each pattern in oomreport.c says which). */
#ifndef MW_OOMREPORT_H
#define MW_OOMREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/klog.h"

#define MW_OOM_COMM  64  /* a task name: the kernel's 16 bytes, room for syslog escapes */
#define MW_OOM_PATH  256 /* a cgroup path; longer ones are cut (path_cut) */
#define MW_OOM_TOP   5   /* task-table rows kept, the largest by rss */
#define MW_OOM_ZONES 8   /* zones kept (Node N Normal, DMA32 ...) */
#define MW_OOM_SLABS 3   /* unreclaimable slab caches kept, the largest */
#define MW_OOM_SLOTS 8   /* hosts whose reports may be open at once */

/* What the OOM killer was confined to: constraint= of the report. */
enum mw_oom_scope {
    MW_OOM_SCOPE_UNKNOWN = 0, /* the report does not say (cut, or kernels before 4.19 with
                               * no cgroup lines) */
    MW_OOM_SCOPE_GLOBAL,      /* CONSTRAINT_NONE: the whole machine */
    MW_OOM_SCOPE_MEMCG,       /* CONSTRAINT_MEMCG: a cgroup at its limit */
    MW_OOM_SCOPE_CPUSET,      /* CONSTRAINT_CPUSET: the nodes of a cpuset */
    MW_OOM_SCOPE_MEMPOLICY,   /* CONSTRAINT_MEMORY_POLICY: the nodes of a mempolicy */
};

/* One row of the task table ("Tasks state (memory values in pages)"). */
struct mw_oom_task {
    int64_t pid, tgid;
    uint64_t uid;
    uint64_t total_vm_pages, rss_pages, swap_pages; /* swapents */
    int64_t oom_score_adj;
    char name[MW_OOM_COMM];
};

/* A zone line: "Node 0 Normal free:...kB min:...kB low:...kB high:...kB". */
struct mw_oom_zone {
    int64_t node;
    char name[16];
    uint64_t free_kb, min_kb, low_kb, high_kb, managed_kb;
};

struct mw_oom_slab {
    char name[40];
    uint64_t used_kb, total_kb;
};

/* The cause read from the report (mw_oom_judge). */
enum mw_oom_cause {
    MW_OOM_CAUSE_UNKNOWN = 0,   /* the report is cut before it says */
    MW_OOM_CAUSE_MEMCG_LIMIT,   /* a cgroup reached its limit (memory, or memory+swap) */
    MW_OOM_CAUSE_RAM_NO_SWAP,   /* the machine's RAM ran out and it has no swap */
    MW_OOM_CAUSE_RAM_SWAP_FULL, /* RAM ran out and swap was full too */
    MW_OOM_CAUSE_RAM,           /* RAM ran out with swap left (unswappable memory, or
                                 * an allocation that may not wait for I/O) */
    MW_OOM_CAUSE_FRAGMENTED,    /* a higher-order allocation failed with memory free */
    MW_OOM_CAUSE_NODES,         /* a cpuset or mempolicy's nodes ran out */
    MW_OOM_CAUSE_SYSRQ,         /* asked for by hand (SysRq f: order=-1) */
};

/* Things worth saying beside the cause (bits of mw_oom_why.notes). */
enum {
    MW_OOM_NOTE_SLAB = 1 << 0,         /* unreclaimable slab above a third of RAM (or the
                                        * kernel dumped its slab list: slab > all LRU) */
    MW_OOM_NOTE_SHMEM = 1 << 1,        /* shmem/tmpfs above a quarter of RAM or the cgroup:
                                        * killing processes does not free it */
    MW_OOM_NOTE_SMALL_VICTIM = 1 << 2, /* the victim held under 5 % of RAM or the limit:
                                        * its kill frees little */
    MW_OOM_NOTE_NO_VICTIM = 1 << 3,    /* no process could be killed (panic or none) */
    MW_OOM_NOTE_PANIC = 1 << 4,        /* the kernel panicked (panic_on_oom, or deadlock) */
};

struct mw_oom_why {
    enum mw_oom_cause cause;
    unsigned notes;
};

/* One OOM event: the kernel's report (when the log has it) and its kill. */
struct mw_oom_event {
    /* where and when: the first line of the event */
    char host[64];   /* syslog host, "" otherwise */
    char time[64];   /* the wall-clock time as the log wrote it, "" none */
    double boot_s;   /* printk time, < 0 unknown */
    int64_t epoch_s; /* valid when have_epoch */
    bool have_epoch, year_guessed;
    unsigned source; /* the stream's source number (the file) */
    uint64_t line;   /* its line number there */
    char kernel[64]; /* the release on the "CPU: ... Comm:" line, "" unknown */

    /* the trigger: "COMM invoked oom-killer: gfp_mask=..., order=N, oom_score_adj=N" */
    bool have_trigger;
    char trigger_comm[MW_OOM_COMM];
    int64_t trigger_pid; /* from the CPU: line; 0 unknown */
    char gfp_mask[96];   /* "0xcc0(GFP_KERNEL)" as printed */
    int order;
    int64_t trigger_adj;

    /* scope: "oom-kill:constraint=...,oom_memcg=...,task_memcg=..." (4.19+),
     * "Task in /a killed as a result of limit of /b" (before), the cpuset */
    enum mw_oom_scope scope;
    char constraint[32];
    char oom_memcg[MW_OOM_PATH];  /* the cgroup at its limit ("" global) */
    char task_memcg[MW_OOM_PATH]; /* the victim's cgroup */
    char cpuset[MW_OOM_PATH];
    bool path_cut;

    /* a cgroup OOM: "memory: usage 65536kB, limit 65536kB, failcnt 0" and
     * "memory+swap:" (v1) or "swap:" (v2), and its memory.stat dump */
    bool have_memcg;
    uint64_t mem_usage_kb, mem_limit_kb, mem_failcnt;
    bool have_swap_line, swap_is_memsw; /* memsw: v1's memory+swap (includes memory) */
    uint64_t swap_usage_kb, swap_limit_kb;
    bool have_memcg_stat;
    unsigned memcg_stat_groups; /* "Memory cgroup stats for" lines (v1 before 4.19 prints
                                 * one per cgroup of the subtree: summed) */
    uint64_t cg_anon, cg_file, cg_shmem, cg_kernel, cg_slab, cg_swap; /* bytes */

    /* the machine: "Mem-Info:" (pages), zones (kB), swap (kB), RAM (pages) */
    bool have_meminfo;
    uint64_t active_anon_pages, inactive_anon_pages, active_file_pages, inactive_file_pages;
    uint64_t unevictable_pages, slab_reclaimable_pages, slab_unreclaimable_pages;
    uint64_t shmem_pages, pagetables_pages, free_pages, mapped_pages;
    bool have_swap;
    uint64_t free_swap_kb, total_swap_kb;
    uint64_t ram_pages; /* "N pages RAM", 0 unknown */
    unsigned nzones;
    struct mw_oom_zone zones[MW_OOM_ZONES];
    unsigned nslabs;
    bool slab_dump; /* "Unreclaimable slab info:" was printed */
    struct mw_oom_slab slabs[MW_OOM_SLABS];

    /* the task table */
    bool have_tasks;
    uint64_t ntasks;          /* rows read */
    uint64_t tasks_rss_pages; /* their rss, summed */
    unsigned ntop;            /* rows in top[], largest rss first */
    struct mw_oom_task top[MW_OOM_TOP];

    /* the victim: "Out of memory: Killed process PID (comm) total-vm:..kB, ..." */
    bool have_victim;
    int64_t victim_pid;
    char victim_comm[MW_OOM_COMM];
    bool have_victim_sizes; /* the "Killed process" line (not only "Kill process") */
    uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
    bool have_victim_uid, have_victim_adj;
    uint64_t victim_uid;
    int64_t victim_adj;
    bool have_score;    /* "Kill process PID (comm) score N or sacrifice child" (< 5.1) */
    int64_t chosen_pid; /* that line's pid: the child killed in its place differs */
    char chosen_comm[MW_OOM_COMM];
    uint64_t score;
    unsigned sharing; /* "Killed process N (x) sharing same memory": also killed */
    bool reaped;      /* "oom_reaper: reaped process PID (comm), now anon-rss:..kB" */
    uint64_t reaped_anon_kb, reaped_file_kb, reaped_shmem_kb;
    bool reap_failed; /* "oom_reaper: unable to reap pid:N" */

    /* how complete the report is */
    bool no_killable; /* "Out of memory and no killable processes..." */
    bool panic;       /* "Kernel panic - not syncing: ... Out of memory" */
    bool cut_end;     /* the log ends (or the next report starts) before the kill */
    bool no_header;   /* no "invoked oom-killer" line: the kernel rate-limits its reports
                       * (10 every 5 s) or the log lost the start */
};

/* The parser: open reports (one per host) and the callback that gets each
 * finished event. About MW_OOM_SLOTS x sizeof(struct mw_oom_event). */
typedef void (*mw_oom_fn)(const struct mw_oom_event *ev, void *ctx);

struct mw_oom_slot {
    bool used, victim_done, header_sec_tasks;
    int sec;   /* the section being read (oomreport.c) */
    int ncols; /* task table: numbers per row (0: guess from the row) */
    int col_uid, col_tgid, col_vm, col_rss, col_swap, col_adj;
    unsigned stat_prio[6]; /* memcg stat: total_* seen over the cgroup's own */
    uint64_t last_line;    /* for the least recently used slot */
    struct mw_oom_event ev;
};

struct mw_oom_parser {
    mw_oom_fn fn;
    void *ctx;
    uint64_t events;       /* events given */
    uint64_t orphan_reaps; /* oom_reaper lines whose kill is not in the log */
    uint64_t seq;
    struct mw_oom_slot slot[MW_OOM_SLOTS];
};

/* Starts a parser that gives each finished event to FN(ev, CTX). */
void mw_oom_parser_init(struct mw_oom_parser *p, mw_oom_fn fn, void *ctx);

/* Reads one kernel log line (as a klog stream gives it). An event is given
 * when the next report of its host starts, or at mw_oom_parser_finish. */
void mw_oom_parser_line(struct mw_oom_parser *p, const struct mw_klog_line *l);

/* Gives the events still open (in the order they started), those without
 * their kill marked cut_end. */
void mw_oom_parser_finish(struct mw_oom_parser *p);

/* Parses a whole buffer (any bytes) as a klog stream with no wall clock
 * (year-less times get no epoch) and gives its events to FN. For tests and
 * the fuzzer; the command streams instead. */
void mw_oom_parse_buf(const char *buf, size_t len, mw_oom_fn fn, void *ctx);

/* True when BUF (LEN bytes) holds a line of an OOM report (the trigger or
 * a kill line): for `analyze` to point to `memwarden oom`. */
bool mw_oom_buf_has_report(const char *buf, size_t len);

/* Why the event happened, from what the report printed. PAGE_SIZE converts
 * the Mem-Info pages. Pure. */
void mw_oom_judge(const struct mw_oom_event *ev, uint64_t page_size, struct mw_oom_why *out);

/* "global", "memcg", "cpuset", "mempolicy", "unknown". */
const char *mw_oom_scope_name(enum mw_oom_scope s);
/* "memcg_limit", "ram_no_swap", "ram_swap_full", "ram", "fragmented", "nodes", "sysrq",
 * "unknown". */
const char *mw_oom_cause_name(enum mw_oom_cause c);

/* The page size the event's own numbers imply: the victim's kill line (kB)
 * against its task-table row (pages), when the victim is among the top rows
 * with more than 256 pages — 4096, 16384 or 65536 when within 10 % of one,
 * else 0. For checking the page size used against the log's. */
uint64_t mw_oom_implied_page_size(const struct mw_oom_event *ev);

/* ---- a summary over many events ----------------------------------------- */

#define MW_OOM_SUM_ROWS 64 /* distinct (victim, cgroup) pairs kept; the rest counted */

struct mw_oom_sum_row {
    char victim[MW_OOM_COMM];
    char cgroup[MW_OOM_PATH]; /* the victim's cgroup (memcg OOMs) or "" the machine */
    enum mw_oom_scope scope;  /* of the last kill */
    uint64_t kills;
    char trigger[MW_OOM_COMM];    /* the last kill's trigger ("" unknown) */
    uint64_t max_rss_kb;          /* the largest anon+file+shmem rss at a kill */
    uint64_t first_idx, last_idx; /* event numbers (1-based, in log order) */
    char first_time[64], last_time[64];
};

struct mw_oom_summary {
    uint64_t events, kills, memcg, global, other_scope, no_victim;
    unsigned nrows;
    uint64_t other_kills; /* kills of pairs past MW_OOM_SUM_ROWS */
    struct mw_oom_sum_row rows[MW_OOM_SUM_ROWS];
};

/* Adds event EV (the IDX-th, 1-based) to S (zeroed by the caller). */
void mw_oom_summary_add(struct mw_oom_summary *s, const struct mw_oom_event *ev, uint64_t idx);

/* Sorts S's rows: most kills first, then the latest. */
void mw_oom_summary_sort(struct mw_oom_summary *s);

#endif
