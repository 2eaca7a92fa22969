#include "targets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/logparse.h"
#include "analysis/oomreport.h"
#include "analysis/smapsdiff.h"
#include "analysis/tunebackup.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/report_html.h"
#include "lmk/config.h"
#include "lmk/history.h"
#include "lmk/metricsd.h"
#include "model/daemonstate.h"
#include "model/procmatch.h"
#include "model/rules.h"
#include "model/sample.h"
#include "model/snapshot.h"
#include "proc/cgcreate.h"
#include "proc/cgroup.h"
#include "proc/cgunit.h"
#include "proc/meminfo.h"
#include "proc/mwpool.h"
#include "proc/procs.h"
#include "proc/psi.h"
#include "proc/shm.h"
#include "proc/slab.h"
#include "proc/swaps.h"
#include "proc/users.h"
#include "proc/vmstat.h"
#include "proc/zoneinfo.h"
#include "proc/zram.h"

static void f_meminfo(const char *b, size_t n)
{
    struct mw_meminfo m;
    int bad;
    (void)n;
    mw_meminfo_parse_buf(&m, b, &bad);
}

static void f_vmstat(const char *b, size_t n)
{
    struct mw_vmstat v;
    int bad;
    (void)n;
    mw_vmstat_parse_buf(&v, b, &bad);
}

static void f_zoneinfo(const char *b, size_t n)
{
    struct mw_zoneinfo z;
    int bad;
    (void)n;
    mw_zoneinfo_parse_buf(&z, b, &bad);
}

static void f_psi(const char *b, size_t n)
{
    struct mw_psi p;
    int bad;
    (void)n;
    mw_psi_parse_buf(&p, b, &bad);
}

static void f_swaps(const char *b, size_t n)
{
    struct mw_swaps s;
    int bad;
    (void)n;
    mw_swaps_parse_buf(&s, b, &bad);
}

static void f_zram(const char *b, size_t n)
{
    struct mw_zram_dev d;
    char alg[64];
    (void)n;
    memset(&d, 0, sizeof(d));
    mw_zram_mm_stat_parse_buf(&d, b);
    mw_zram_algorithm_parse_buf(alg, sizeof(alg), b);
}

static void f_slab(const char *b, size_t n)
{
    struct mw_slab_set s;
    (void)n;
    if (mw_slab_parse_buf(&s, b, 4096) == 0)
        mw_slab_set_free(&s);
}

static void f_sysv_shm(const char *b, size_t n)
{
    struct mw_sysv_seg *seg = NULL;
    size_t k = 0;
    unsigned bad = 0;
    (void)n;
    if (mw_sysv_shm_parse_buf(&seg, &k, &bad, b) == 0)
        free(seg);
}

static void f_cgroup(const char *b, size_t n)
{
    struct mw_cg_stat st;
    struct mw_cgroup_mem m;
    char out[256];
    int bad;
    (void)n;
    mw_cg_stat_parse_buf(&st, b, 1, &bad);
    mw_cg_stat_parse_buf(&st, b, 2, &bad);
    memset(&m, 0, sizeof(m));
    mw_cg_events_parse_buf(&m, b);
    mw_proc_cgroup_parse_buf(b, true, out, sizeof(out));
    mw_proc_cgroup_parse_buf(b, false, out, sizeof(out));
}

static void f_procs(const char *b, size_t n)
{
    struct mw_proc_stat st;
    struct mw_proc_status ss;
    struct mw_proc_statm sm;
    struct mw_proc_smaps sp;
    int adj;
    (void)n;
    mw_proc_stat_parse_buf(&st, b);
    mw_proc_status_parse_buf(&ss, b);
    mw_proc_statm_parse_buf(&sm, b);
    mw_proc_smaps_parse_buf(&sp, b);
    mw_proc_adj_parse_buf(&adj, b);
}

static void f_users(const char *b, size_t n)
{
    struct mw_users u;
    (void)n;
    if (mw_users_parse_buf(&u, b) >= 0) /* the number of users */
        mw_users_free(&u);
}

static void f_smaps_regions(const char *b, size_t n)
{
    struct mw_regions r;
    (void)n;
    if (mw_regions_parse_buf(&r, b) == 0)
        mw_regions_free(&r);
}

static void f_config(const char *b, size_t n)
{
    static struct mw_config cfg;
    char err[320];
    (void)n;
    mw_config_defaults(&cfg);
    mw_config_parse_buf(&cfg, b, err, sizeof(err));
}

static void f_rules(const char *b, size_t n)
{
    struct mw_rules r;
    int bad;
    char err[256];
    (void)n;
    if (mw_rules_parse_buf(&r, b, &bad, err, sizeof(err)) >= 0) /* the number of rules */
        mw_rules_free(&r);
}

static void f_procmatch(const char *b, size_t n)
{
    struct mw_match_spec s;
    char err[200];
    (void)n;
    mw_match_spec_parse(&s, b, err, sizeof(err));
}

/* Every event is judged and checked for its page size, as the command does. */
static void oom_event(const struct mw_oom_event *ev, void *ctx)
{
    struct mw_oom_why w;
    mw_oom_judge(ev, 4096, &w);
    mw_oom_summary_add(ctx, ev, 1);
    (void)mw_oom_implied_page_size(ev);
}

static void f_oomreport(const char *b, size_t n)
{
    static struct mw_oom_summary sum;
    memset(&sum, 0, sizeof(sum));
    mw_oom_parse_buf(b, n, oom_event, &sum);
    mw_oom_summary_sort(&sum);
}

static void f_logparse(const char *b, size_t n)
{
    static const enum mw_log_format formats[] = {MW_LOG_AUTO, MW_LOG_FREEHEAP, MW_LOG_FREE,
                                                 MW_LOG_RECORD};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct mw_log_opts o = {.format = formats[i], .interval_s = 2};
        struct mw_log_series s;
        memset(&s, 0, sizeof(s));
        if (mw_log_parse_buf(b, n, &o, &s) == 0)
            mw_log_series_free(&s);
    }
}

static void f_record(const char *b, size_t n)
{
    struct mw_record r;
    memset(&r, 0, sizeof(r));
    mw_record_parse_line(&r, b, n);
    mw_record_free(&r);
    memset(&r, 0, sizeof(r));
    mw_record_parse_buf(&r, b);
    mw_record_free(&r);
}

static void f_state(const char *b, size_t n)
{
    struct mw_daemon_state s;
    struct mw_snapshot_meta m;
    (void)n;
    mw_daemon_state_parse_buf(&s, b);
    mw_snapshot_meta_parse_buf(&m, b);
}

static void f_json(const char *b, size_t n)
{
    struct mw_json_val v;
    mw_json_parse(b, n, &v);
}

static void f_size_duration(const char *b, size_t n)
{
    uint64_t u;
    double d;
    struct mw_minfree_level lv[16];
    int k;
    (void)n;
    mw_parse_size(b, &u);
    mw_parse_duration_ms(b, &u);
    mw_parse_decimal(b, &d);
    mw_minfree_parse(b, lv, &k);
}

static void f_mwpool(const char *b, size_t n)
{
    struct mw_pool p;
    mw_pool_parse_buf(&p, b, n);
}

/* The metrics server's request check, on a request of any length (the
 * server's buffer is 4 KiB: MAX as it passes it, and smaller). */
static void f_http(const char *b, size_t n)
{
    mw_metrics_http_check(b, n, 4095);
    mw_metrics_http_check(b, n, n);
    struct sockaddr_storage sa;
    socklen_t len;
    mw_metrics_addr_parse(b, &sa, &len); /* metrics_listen, as --check-config checks it */
}

static void f_tune_backup(const char *b, size_t n)
{
    static struct mw_tune_backup bk;
    char why[256];
    mw_tune_backup_parse_buf(b, n, &bk, why, sizeof(why));
}

/* Each line of a kill history, as metrics --history and report read it. */
static void f_history(const char *b, size_t n)
{
    for (size_t off = 0; off < n;) {
        const char *nl = memchr(b + off, '\n', n - off);
        size_t ll = nl ? (size_t)(nl - (b + off)) : n - off;
        struct mw_kill_entry e;
        mw_kill_parse_json(b + off, ll, &e);
        off += ll + 1;
    }
}

/* report's input detection, then the reader it picks. */
static void f_report(const char *b, size_t n)
{
    char kind = rpt_sniff(b, n);
    if (kind == 'k') {
        f_history(b, n);
    } else if (kind == 'r') {
        struct mw_record r;
        memset(&r, 0, sizeof(r));
        mw_record_parse_buf(&r, b);
        mw_record_free(&r);
    } else {
        struct mw_log_opts o = {.format = MW_LOG_AUTO, .interval_s = 1};
        struct mw_log_series s;
        memset(&s, 0, sizeof(s));
        if (mw_log_parse_buf(b, n, &o, &s) == 0)
            mw_log_series_free(&s);
    }
}

/* run's cgroup parsers: /proc/self/mounts, /proc/self/cgroup, a
 * controller list. */
static void f_cgcreate(const char *b, size_t n)
{
    struct mw_cg_mounts m;
    char path[4096];
    (void)n;
    mw_cg_mounts_parse_buf(b, &m);
    mw_proc_cgroup_ctrl_parse_buf(b, "memory", path, sizeof(path));
    mw_proc_cgroup_ctrl_parse_buf(b, "cpu", path, sizeof(path));
    mw_proc_cgroup_ctrl_parse_buf(b, NULL, path, sizeof(path));
    mw_proc_cgroup_ctrl_parse_buf(b, "memory", path, 8);
    mw_cg_list_has(b, "memory");
    mw_cg_name_valid(b);
}

/* A /proc/PID/cgroup text, or a path, as systemd's units (proc/cgunit.h):
 * the path parse, the unit's name and label, a session id and a logind
 * record. */
static void f_cgunit(const char *b, size_t n)
{
    char path[4096], label[2 * MW_CGUNIT_NAME + 1], id[32];
    struct mw_cgunit u;
    int leader;
    (void)n;
    if (mw_cgunit_path_parse_buf(b, path, sizeof(path)) == 0 && mw_cgunit_parse(path, &u) == 0) {
        mw_cgunit_label(&u, label, sizeof(label));
        mw_cgunit_session_id(mw_cgunit_name(&u), id, sizeof(id));
    }
    if (mw_cgunit_parse(b, &u) == 0 && u.unit_len > strlen(b))
        abort(); /* the unit's cgroup is a prefix of the path */
    mw_cgunit_path_plain(b);
    mw_session_leader_parse_buf(b, &leader);
}

const struct fuzz_target fuzz_targets[] = {
    {"meminfo", f_meminfo, "*/proc/meminfo"},
    {"vmstat", f_vmstat, "*/proc/vmstat"},
    {"zoneinfo", f_zoneinfo, "*/proc/zoneinfo"},
    {"psi", f_psi, "*/proc/pressure/*"},
    {"swaps", f_swaps, "*/proc/swaps"},
    {"zram", f_zram, "*/sys/block/zram*/*"},
    {"slab", f_slab, "*/proc/slabinfo"},
    {"sysv_shm", f_sysv_shm, "*/proc/sysvipc/shm"},
    {"cgroup", f_cgroup, "cgroup-*/sys/fs/cgroup/*/*/memory.stat"},
    {"procs", f_procs, "daemon-procs/proc/*/stat*"},
    {"users", f_users, "*/etc/passwd"},
    {"smaps_regions", f_smaps_regions, "*/proc/*/smaps"},
    {"config", f_config, "../../contrib/*.conf"},
    {"rules", f_rules, "../../contrib/*.rules"},
    {"procmatch", f_procmatch, ""},
    {"logparse", f_logparse, "logs/*"},
    {"oomreport", f_oomreport, "oom/*"},
    {"record", f_record, "records/*"},
    {"state", f_state, "*/memwarden-snapshot.json"},
    {"json", f_json, "*/memwarden-snapshot.json"},
    {"size_duration", f_size_duration, ""},
    {"mwpool", f_mwpool, ""},
    {"http", f_http, ""},
    {"tune_backup", f_tune_backup, ""},
    {"history", f_history, "metrics/var/log/*.jsonl"},
    {"report", f_report, "records/*"},
    {"cgcreate", f_cgcreate, "*/proc/*/cgroup"},
    {"cgunit", f_cgunit, "*/proc/*/cgroup"},
};
const size_t fuzz_target_count = sizeof(fuzz_targets) / sizeof(fuzz_targets[0]);
