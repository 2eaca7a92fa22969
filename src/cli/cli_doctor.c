/* memwarden doctor: the memory settings of this machine (or a capture),
 * checked one line each, with the change that would fix each one. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/doctor.h"
#include "base/json.h"
#include "base/text.h"
#include "cli/cli.h"
#include "lmk/config.h"
#include "model/daemonstate.h"
#include "proc/cgroup.h"
#include "proc/procs.h"
#include "proc/psi.h"
#include "proc/vmstat.h"

static void doctor_usage(FILE *f)
{
    fputs("NAME\n"
          "    memwarden doctor - check the memory settings against the machine's size\n"
          "\n"
          "SYNOPSIS\n"
          "    memwarden [--root DIR] doctor [--sample DURATION] [--json] [--state FILE]\n"
          "                                  [--config FILE]\n"
          "\n"
          "DESCRIPTION\n"
          "    One line per check: swap and zram present and sized for the RAM; zram's\n"
          "    algorithm and the ratio it reaches; swappiness and page-cluster for the swap\n"
          "    kind; min_free_kbytes against 4*sqrt(RAM kB) and the watermarks (low = 5/4\n"
          "    min, high = 3/2 min); watermark_scale_factor / boost_factor; overcommit and\n"
          "    Committed_AS against CommitLimit; dirty ratios against RAM; THP; MGLRU and\n"
          "    min_ttl_ms; PSI; a low-memory killer running (memwarden daemon, earlyoom,\n"
          "    systemd-oomd, lmkd) and its state; large processes at oom_score_adj -1000;\n"
          "    the kernel's and memwarden's kills since boot; cgroups without a limit that\n"
          "    hold most of RAM; the reclaim rate over a short sample. Each verdict that is\n"
          "    not ok says the fix (a command), its source and its reason. A check whose\n"
          "    file the kernel (or the capture) lacks says \"n/a: why\".\n"
          "\n"
          "    The recommendations follow the profile for this RAM size (memwarden tune\n"
          "    --help has the table). Where the sources disagree:\n"
          "      swappiness with zram: the zram recipe's 180 (<= 1 GiB, desktops), 100 on\n"
          "        1-4 GiB boards (kernel vm.rst: > 100 for swap faster than the file\n"
          "        system); not the RK3588 seed's 60, the kernel default meant for disk.\n"
          "      zram size: zram-generator's ram/2 (cap 4 GiB) on <= 1 GiB and desktops;\n"
          "        the RK3588 seed's 1 GiB lz4 priority 10 on 1-4 GiB boards.\n"
          "      overcommit: the kernel default 0, not the RK3588 seed's 1 (never refuses,\n"
          "        so only a kill stops a leak).\n"
          "      min_free_kbytes: the kernel's own 4*sqrt(lowmem kB) (lmkd seed), not a\n"
          "        raised value: raising it only moves memory from programs to the kernel.\n"
          "      watermark_scale_factor 125 / boost 0 (recipe) when swap is zram.\n"
          "\n"
          "OPTIONS\n"
          "    --sample DURATION  measure reclaim for this long (default 5s; 0: skip;\n"
          "                       never on a captured tree)\n"
          "    --json             the checks as JSON\n"
          "    --state FILE       memwarden daemon's state file (" MW_DAEMON_STATE_FILE ")\n"
          "    --config FILE      the daemon's config, for its kill history file\n"
          "    -h, --help         this text\n"
          "\n"
          "EXIT STATUS\n"
          "    0 every check ok (or n/a); 1 advice; 2 a problem (or a usage error,\n"
          "    which prints to stderr); 1 also when /proc/meminfo cannot be read.\n",
          f);
}

struct doctor_opts {
    uint64_t sample_ms;
    bool json;
    const char *state_path, *config_path;
};

/* Killers by their comm; memwarden only as a daemon (not this doctor). */
static const char *const killer_names[] = {"memwarden", "earlyoom", "systemd-oomd", "lmkd", NULL};

static bool is_killer(int proc_fd, int pid, const char *comm)
{
    for (int i = 0; killer_names[i]; i++) {
        if (strcmp(comm, killer_names[i]) != 0)
            continue;
        if (i != 0)
            return true;
        char cmd[512];
        long n = mw_proc_read_pid_file(proc_fd, pid, "cmdline", cmd, sizeof(cmd) - 1);
        if (n <= 0)
            return false;
        mw_proc_cmdline_join(cmd, (size_t)n);
        return strstr(cmd, " daemon") != NULL;
    }
    return false;
}

/* One process: a killer? a large unkillable one? */
static void scan_one(int proc_fd, int pid, uint64_t ram, struct mw_doc_in *in)
{
    char buf[4096];
    struct mw_proc_stat st;
    if (mw_proc_read_pid_file(proc_fd, pid, "stat", buf, sizeof(buf)) <= 0 ||
        mw_proc_stat_parse_buf(&st, buf) < 0 || (st.flags & MW_PF_KTHREAD))
        return;
    in->have_procs = true;
    char name[64];
    mw_text_clean(name, sizeof(name), st.comm, strlen(st.comm));
    if (pid != (int)getpid() && is_killer(proc_fd, pid, st.comm)) {
        size_t o = strlen(in->killers);
        if (o + 40 < sizeof(in->killers))
            snprintf(in->killers + o, sizeof(in->killers) - o, "%s%s[%d]", o ? " " : "", name, pid);
    }
    int adj;
    if (mw_proc_read_pid_file(proc_fd, pid, "oom_score_adj", buf, sizeof(buf)) <= 0 ||
        mw_proc_adj_parse_buf(&adj, buf) < 0 || adj != -1000)
        return;
    struct mw_proc_status ps;
    if (mw_proc_read_pid_file(proc_fd, pid, "status", buf, sizeof(buf)) <= 0 ||
        mw_proc_status_parse_buf(&ps, buf) < 0 || ps.vm_rss_kb * 1024 * 20 < ram)
        return;
    in->big_unkillable++;
    if (ps.vm_rss_kb * 1024 > in->big_unkillable_rss) {
        in->big_unkillable_rss = ps.vm_rss_kb * 1024;
        snprintf(in->big_unkillable_name, sizeof(in->big_unkillable_name), "%s[%d]", name, pid);
    }
}

static void gather_procs(const struct mw_root *root, struct mw_doc_in *in)
{
    struct mw_pid_iter it = {0};
    if (mw_pid_iter_open(&it, root) < 0)
        return;
    int proc_fd = dirfd(it.dir), pid;
    uint64_t ram = in->mi.kb[MI_MEM_TOTAL] * 1024;
    while (mw_pid_iter_next(&it, &pid) == 1)
        scan_one(proc_fd, pid, ram, in);
    mw_pid_iter_close(&it);
}

/* The largest top-level memory cgroup with no memory.max / memory.high
 * (v1: limit_in_bytes): cgroup2 at /sys/fs/cgroup, else the v1 memory
 * hierarchy at /sys/fs/cgroup/memory. */
static void gather_cgroups(const struct mw_root *root, struct mw_doc_in *in)
{
    static const char *const bases[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/memory"};
    static const char *const marks[] = {"sys/fs/cgroup/cgroup.controllers",
                                        "sys/fs/cgroup/memory/memory.usage_in_bytes"};
    DIR *d = NULL;
    int b = 0;
    for (; b < 2; b++)
        if (faccessat(root->fd, marks[b], F_OK, 0) == 0 &&
            mw_opendir_at(root->fd, mw_rel(bases[b]), 0, &d) == 0)
            break;
    if (!d)
        return;
    in->have_cgroups = true;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        char path[320];
        struct mw_cgroup_mem m;
        snprintf(path, sizeof(path), "%s/%s", bases[b], de->d_name);
        if (mw_cgroup_mem_read(root, path, &m) < 0 || m.limit != MW_CG_UNLIMITED ||
            m.high != MW_CG_UNLIMITED || m.usage <= in->cg_usage)
            continue;
        in->cg_usage = m.usage;
        mw_text_clean(in->cg_name, sizeof(in->cg_name), de->d_name, strlen(de->d_name));
    }
    closedir(d);
}

/* "always [madvise] never" -> "madvise"; a number file -> its value. */
static void gather_mm(const struct mw_root *root, struct mw_doc_in *in)
{
    char *buf;
    if (mw_read_file(root, "/sys/kernel/mm/transparent_hugepage/enabled", &buf, NULL) == 0) {
        mw_zram_algorithm_parse_buf(in->thp, sizeof(in->thp), buf); /* the same "[x]" form */
        free(buf);
    }
    in->lru_gen = -1;
    in->min_ttl_ms = -1;
    if (mw_read_file(root, "/sys/kernel/mm/lru_gen/enabled", &buf, NULL) == 0) {
        char *end;
        long v = strtol(buf, &end, 16);
        if (end != buf)
            in->lru_gen = (int)(v & 0xffff);
        free(buf);
    }
    uint64_t ttl;
    if (mw_read_u64(root, "/sys/kernel/mm/lru_gen/min_ttl_ms", &ttl) == 0)
        in->min_ttl_ms = (int64_t)ttl;
}

/* memwarden's own state file and, via its config, its kill history. */
static void gather_daemon(const struct mw_root *root, const struct doctor_opts *o,
                          struct mw_doc_in *in)
{
    struct mw_daemon_state s;
    if (mw_daemon_state_read(root, o->state_path, &s) == 0) {
        in->have_daemon_state = true;
        in->daemon_kills = s.kills;
        in->daemon_dry_run = s.dry_run;
        mw_text_clean(in->daemon_warning, sizeof(in->daemon_warning), s.warning, strlen(s.warning));
    }
    if (!o->config_path)
        return;
    char *buf, err[160];
    struct mw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    mw_config_defaults(cfg);
    if (mw_read_file(root, o->config_path, &buf, NULL) == 0) {
        int rc = mw_config_parse_buf(cfg, buf, err, sizeof(err));
        free(buf);
        if (rc == 0 && cfg->history_file[0] &&
            mw_read_file(root, cfg->history_file, &buf, NULL) == 0) {
            in->have_history = true;
            for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
                in->history_kills++;
            free(buf);
        }
    }
    free(cfg);
}

/* The reclaim counters over O->sample_ms (live root only). */
static void gather_vmstat(const struct mw_root *root, const struct doctor_opts *o,
                          struct mw_doc_in *in)
{
    struct mw_vmstat a, b;
    if (mw_vmstat_read(root, &a, NULL) < 0)
        return;
    in->have_vmstat = true;
    in->oom_kill = a.oom_kill;
    if (!o->sample_ms || !mw_root_is_live(root))
        return;
    uint64_t t0 = mw_now_ms();
    mw_sleep_until_ms(t0 + o->sample_ms, NULL);
    if (mw_vmstat_read(root, &b, NULL) < 0)
        return;
    in->sample_ms = mw_now_ms() - t0;
    in->kswapd_scan_pages = mw_sub0(b.pgscan_kswapd, a.pgscan_kswapd);
    in->kswapd_steal_pages = mw_sub0(b.pgsteal_kswapd, a.pgsteal_kswapd);
    in->direct_scan_pages = mw_sub0(b.pgscan_direct, a.pgscan_direct);
}

int cli_doctor_gather(const struct mw_root *root, const char *state_path, const char *config_path,
                      uint64_t sample_ms, struct mw_doc_in *in)
{
    const struct doctor_opts opts = {.sample_ms = sample_ms,
                                     .state_path = state_path,
                                     .config_path = config_path},
                             *o = &opts;
    int rc = mw_meminfo_read(root, &in->mi, NULL);
    if (rc < 0) {
        mw_err("cannot read %s/proc/meminfo: %s", root->path ? root->path : "", mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    mw_vmtune_read(root, &in->vm);
    if (mw_zram_read(root, &in->zram) < 0)
        in->zram.count = 0;
    in->have_swaps = mw_swaps_read(root, &in->swaps, NULL) == 0;
    in->have_zi = mw_zoneinfo_read(root, &in->zi, NULL) == 0;
    in->page_size = root->page_size;
    struct mw_psi psi;
    rc = mw_psi_read(root, "/proc/pressure/memory", &psi, NULL);
    in->have_psi = rc == 0;
    snprintf(in->psi_why, sizeof(in->psi_why), "%s",
             rc == -ENOENT       ? "no /proc/pressure/memory (kernel < 4.20 or no CONFIG_PSI)"
             : rc == -EOPNOTSUPP ? "PSI disabled (psi=0 on the command line)"
                                 : "unreadable /proc/pressure/memory");
    gather_mm(root, in);
    gather_procs(root, in);
    gather_cgroups(root, in);
    gather_daemon(root, o, in);
    gather_vmstat(root, o, in);
    return MW_EXIT_OK;
}

static void print_text(const struct mw_doc_in *in, const struct mw_doc_report *r)
{
    const struct mw_profile_spec *p = mw_profile_get(r->profile);
    int count[4] = {0};
    char a[32];
    for (int i = 0; i < r->n; i++)
        count[r->c[i].verdict]++;
    printf("memwarden doctor: RAM %s, profile %s (%s); %d ok, %d advice, %d problem, %d n/a\n\n",
           mw_fmt_size(a, sizeof(a), in->mi.kb[MI_MEM_TOTAL] * 1024), p->name, p->fits,
           count[MW_DOC_OK], count[MW_DOC_ADVICE], count[MW_DOC_PROBLEM], count[MW_DOC_NA]);
    printf("%-8s %-16s %s\n", "VERDICT", "CHECK", "VALUE");
    for (int i = 0; i < r->n; i++) {
        const struct mw_doc_check *c = &r->c[i];
        printf("%-8s %-16s %s\n", mw_doc_verdict_name(c->verdict), c->id, c->value);
        if (c->verdict < MW_DOC_ADVICE)
            continue;
        if (c->fix[0])
            printf("%26sfix: %s\n", "", c->fix);
        printf("%26swhy: %s\n%26ssrc: %s\n", "", c->reason, "", c->source);
    }
}

static void print_json(const struct mw_doc_report *r)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "profile", mw_profile_get(r->profile)->name);
    mw_json_i64(&j, "exit", mw_doctor_exit(r));
    mw_json_array_begin(&j, "checks");
    for (int i = 0; i < r->n; i++) {
        const struct mw_doc_check *c = &r->c[i];
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "id", c->id);
        mw_json_str(&j, "what", c->what);
        mw_json_str(&j, "value", c->value);
        mw_json_str(&j, "verdict", mw_doc_verdict_name(c->verdict));
        mw_json_str(&j, "fix", c->fix);
        mw_json_str(&j, "source", c->source);
        mw_json_str(&j, "reason", c->reason);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

int cli_doctor(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"sample", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"state", required_argument, NULL, 'S'},  {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {0},
    };
    struct doctor_opts o = {.sample_ms = 5000, .state_path = MW_DAEMON_STATE_FILE};
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (mw_opt_duration_ms("--sample", optarg, &o.sample_ms) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'j':
            o.json = true;
            break;
        case 'S':
            o.state_path = optarg;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'h':
            doctor_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("doctor", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
    struct mw_doc_in *in = calloc(1, sizeof(*in));
    struct mw_doc_report *r = calloc(1, sizeof(*r));
    int rc = MW_EXIT_FAIL;
    if (!in || !r) {
        mw_err("out of memory");
        goto out;
    }
    rc = cli_doctor_gather(&ctx->root, o.state_path, o.config_path, o.sample_ms, in);
    if (rc != MW_EXIT_OK)
        goto out;
    mw_doctor_run(in, r);
    if (o.json)
        print_json(r);
    else
        print_text(in, r);
    rc = mw_doctor_exit(r);
out:
    free(in);
    free(r);
    return rc;
}
