/* memwarden daemon: the command line of the low-memory killer. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "cli/cli.h"
#include "lmk/config.h"
#include "lmk/daemon.h"
#include "lmk/hooks.h"
#include "lmk/policy.h"

/* The help text (memwarden(8) is made from it: tools/mkman.sh). */

static const struct mw_opt daemon_opts[] = {
    {"config", 'c', MW_OPT_SHORT, "FILE", "configuration file (default: built-in defaults)", NULL},
    {"scope", 's', MW_OPT_SHORT, "CGROUP",
     "manage one memory cgroup (v1 or v2 directory, e.g.\n"
     "/sys/fs/cgroup/memory/app) as if it were the machine:\n"
     "its limit (at most the host's RAM) is the total, only its\n"
     "processes are candidates",
     NULL},
    {"dry-run", 'n', MW_OPT_SHORT, NULL, "decide and choose, log \"would-kill\", kill nothing",
     NULL},
    {"foreground", 'f', MW_OPT_SHORT, NULL, "stay in the foreground, log to stderr", NULL},
    {"history", 'H', MW_OPT_SHORT, "FILE", "append each kill as a JSON line to FILE", NULL},
    {"state-file", 'S', MW_OPT_SHORT, "FILE",
     "where the state for 'memwarden status' goes\n"
     "(default /run/memwarden/state.json)",
     NULL},
    {"low-ram", 'L', MW_OPT_SHORT, NULL, "the low-RAM profile (as low_ram = true)", NULL},
    {"check-config", 'C', MW_OPT_SHORT, "FILE",
     "parse FILE and print every error with its line (or the\nsettings it gives), then exit", NULL},
    {"choose-once", 'o', MW_OPT_SHORT, NULL,
     "scan once, print the victim and the time taken, exit\n"
     "(kills nothing; a diagnostic and benchmark mode)",
     NULL},
    {"min-adj", 'm', MW_OPT_SHORT, "N", "with --choose-once: lowest adj considered (default -999)",
     NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "with --choose-once: JSON output", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_daemon_doc = {
    .head =
        "NAME\n"
        "    memwarden daemon - a low-memory killer that acts before the kernel's OOM killer\n"
        "\n"
        "SYNOPSIS\n"
        "    memwarden daemon [--config FILE] [--scope CGROUP] [--dry-run] [--foreground]\n"
        "                     [--history FILE] [--state-file FILE] [--low-ram]\n"
        "    memwarden daemon --check-config FILE\n"
        "    memwarden daemon --choose-once [--scope CGROUP] [--min-adj N] [--json]\n"
        "\n"
        "DESCRIPTION\n"
        "    Watches memory pressure (PSI triggers on /proc/pressure/memory or a cgroup2\n"
        "    memory.pressure; cgroup v1 vmpressure events; else adaptive polling of\n"
        "    meminfo) and, when lmkd's rules say so, kills the least important process.\n"
        "    Which one depends on the adj layout (adj_mode = auto | android | flat;\n"
        "    auto: android when 3 or more processes sit above adj 0 in 2 or more\n"
        "    values, else flat; flat on a machine that runs systemd, where adj is\n"
        "    OOMScoreAdjust=, a hint to the kernel, not a class):\n"
        "      android  oom_score_adj carries classes (cached 900+, service 500,\n"
        "               perceptible 200, foreground 0): lmkd's floors per reason and\n"
        "               its order, highest adj first, the heaviest or the youngest\n"
        "               within a level;\n"
        "      flat     most processes at 0 (a distribution where nobody manages adj):\n"
        "               the classes mean nothing, every reason may kill down to adj 0,\n"
        "               lmkd's low_mem for cached apps never fires, and the victim is\n"
        "               the kernel's oom_badness choice (RSS + swap + page tables +\n"
        "               adj x total / 1000, the most points first), never the youngest.\n"
        "    A runaway dies before either order: a process, or a burst (processes\n"
        "    at one adj, each started within 5 s of the one before, whoever the\n"
        "    parents, PID 1 included, all growing), holding 1/16 of RAM and growing\n"
        "    (between the last two samples, else on average since its start) at a\n"
        "    rate that fills RAM within runaway_fill_time (default 60 s), at\n"
        "    runaway_min_adj (201) or above (flat, or at the last line: any adj >=\n"
        "    0); a burst dies at once.\n"
        "    The last line: when MemAvailable is under half the available_low line\n"
        "    (5 %) and free swap under swap_free_low_percentage (20 %; no swap\n"
        "    counts), the kernel's OOM killer is next: whatever the reason, any\n"
        "    process at adj >= 0 may die (never below 0). When the memory to free\n"
        "    (back to the available and swap lines) is more than one victim holds,\n"
        "    more victims of its class (after a cached app, cached apps only) are\n"
        "    signalled with it (at most 8; at the last line or for runaways). No\n"
        "    kill is made in vain: when half of the used memory (anon, tmpfs, slab,\n"
        "    hugepages, swap), or of its growth in the last 0-10 or 10-20 s, is held\n"
        "    where no kill frees it (tmpfs, slab, hugepages) or the last two kills\n"
        "    freed nothing, the daemon says so (log, state, status: HELD) and kills\n"
        "    only at the last line, its free swap line then at 5 % (tmpfs fills swap).\n"
        "    Beside systemd: a unit's ManagedOOMPreference= (the user.oomd_omit and\n"
        "    user.oomd_avoid attributes systemd puts on its cgroup, as systemd-oomd\n"
        "    reads them: a root-owned cgroup's own marks) is honoured: omit is never\n"
        "    killed, avoid only at the last line; journald, dbus(-broker), logind, a\n"
        "    display manager (their system units), systemd --user (user@UID.service's\n"
        "    init.scope) and a login session's leader (logind's) are also killed only\n"
        "    at the last line, and there only when nobody else is left, said in the\n"
        "    log (kept=). A runaway that is its unit as a whole (a service or scope,\n"
        "    not a session, whose cgroup holds nothing else of weight and nobody\n"
        "    protected) dies by its unit's cgroup (cgroup.kill; cgroup_killed=yes).\n"
        "    oomd_preference = false and kill_units = false turn these off.\n"
        "    Each kill has a named reason (low_mem_and_swap, low_swap_and_thrashing,\n"
        "    low_mem_and_thrashing, direct_reclaim_and_thrashing, low_mem_and_swap_util,\n"
        "    critical_stall, pressure_after_kill, low_mem, minfree,\n"
        "    low_mem_and_runaway: memory short under pressure, swap still there, only a\n"
        "    runaway may die, and last_line) and one log line:\n"
        "      kill pid=N uid=U adj=A prog=NAME [unit=UNIT] rss=NkB swap=NkB reason=R\n"
        "      min_adj=M free=NkB avail=NkB file=NkB swapfree=NkB psi_some=X psi_full=Y\n"
        "      latency_ms=N wait_ms=N freed=NkB exited=yes|no reaped=yes|no\n"
        "      [cgroup_killed=yes] [last_line=yes] [kept=avoid|system]\n"
        "      [runaway=yes footprint=NkB growth=NkB/s] [group=K/N pids=P,...] (details)\n"
        "    (\"would-kill\" in a dry run). Logs go to stderr with journald priority\n"
        "    prefixes (<3>) with --foreground, to syslog otherwise. SIGHUP reloads the\n"
        "    configuration (history_file and state_file too; an invalid one is\n"
        "    rejected and the old one stays) and reopens the history file, for\n"
        "    logrotate. The history file is created mode 0600 (it holds command\n"
        "    lines); a symbolic link at its path or the state file's is refused.\n"
        "    It runs SCHED_FIFO at priority 1 as lmkd does (realtime = false: no),\n"
        "    falling back to nice -20; it locks itself in memory (mlockall).\n"
        "    Hooks (alert_hook, pre_kill_hook, post_kill_hook; execve) run in the\n"
        "    background, at most " MW_STR(
            MW_HOOKS_MAX) " at once, killed after hook_timeout_ms: the killer\n"
                          "    waits only for a pre-kill hook, at most " MW_STR(
                              MW_HOOK_PRE_KILL_WAIT_MS) " ms (counted in latency_ms).\n"
                                                        "    protect / avoid / prefer / term_first "
                                                        "patterns come in two forms. A\n"
                                                        "    NAME MATCH (\"*sshd*\") is a glob on "
                                                        "the command line or name: any user\n"
                                                        "    can give a process any command line "
                                                        "(exec -a), so it can be forged and\n"
                                                        "    a name match in protect or avoid "
                                                        "draws a warning. A TRUSTED MATCH\n"
                                                        "    names the program and its owner, "
                                                        "KEY:VALUE words that must all hold:\n"
                                                        "    exe:GLOB (/proc/PID/exe), uid:N (real "
                                                        "and effective uid), unit:NAME (a\n"
                                                        "    systemd system unit, in any slice), "
                                                        "cgroup:GLOB, "
                                                        "name:GLOB; e.g.\n"
                                                        "    \"protect = exe:/usr/sbin/sshd "
                                                        "uid:0\". One with uid:, unit: or cgroup:\n"
                                                        "    cannot be forged by another user; "
                                                        "exe: alone can (anyone may run sshd).\n"
                                                        "    METRICS ([metrics] section; all off "
                                                        "by default): metrics_textfile = DIR\n"
                                                        "    rewrites DIR/memwarden.prom "
                                                        "(node_exporter's textfile collector; "
                                                        "atomic,\n"
                                                        "    a symlinked DIR refused) every "
                                                        "metrics_interval (default 15s);\n"
                                                        "    metrics_listen = 127.0.0.1:9333 "
                                                        "serves GET /metrics over HTTP (a bare\n"
                                                        "    port means 127.0.0.1; another address "
                                                        "only when written out). Both run\n"
                                                        "    in a separate metrics process (nice "
                                                        "10, not real-time, killable, dies\n"
                                                        "    with the daemon) that shares no lock "
                                                        "with the killer: it reads the state\n"
                                                        "    file, the kill history and a page of "
                                                        "counters the daemon stores into.\n"
                                                        "    The server answers only GET /metrics "
                                                        "(404 another path, 405 another\n"
                                                        "    method, 400 a malformed request, 431 "
                                                        "over 4 KiB), gives each client 2 s\n"
                                                        "    and serves at most 32 at once. It "
                                                        "adds the kill failures, kill-restart\n"
                                                        "    loops, alerts, the cycle's duration "
                                                        "and slab/shmem leak verdicts (after\n"
                                                        "    metrics_leak_window, default 5m, of "
                                                        "samples) to what 'memwarden metrics'\n"
                                                        "    shows, and one for each 'watch = "
                                                        "PATTERN' line (the summed RSS of the\n"
                                                        "    processes the pattern matches, "
                                                        "labelled with the pattern).\n"
                                                        "    The configuration file is described "
                                                        "in contrib/memwarden.conf; lmkd's\n"
                                                        "    property names (ro.lmk.*, "
                                                        "ro.config.low_ram, "
                                                        "sys.lmk.minfree_levels) are\n"
                                                        "    accepted as aliases.\n",
    .opts = daemon_opts,
    .exit_ok = "stopped by SIGTERM or SIGINT; --check-config: the file is valid;\n"
               "--choose-once: done",
    .exit_fail = "could not start or run (the config file missing or unreadable,\n"
                 "not root, the scope unusable)",
    .exit_found = "--check-config found errors in the file (each with its line)",
    .examples = "    memwarden daemon --check-config /etc/memwarden.conf\n"
                "    memwarden daemon --foreground --config /etc/memwarden.conf\n"
                "    memwarden daemon --foreground --scope /sys/fs/cgroup/memory/app --dry-run\n"
                "    memwarden daemon --choose-once --json\n",
};

/* Says which protect / avoid patterns another user could forge
 * (procmatch.h): a process named so is spared, someone else dies. */
static void warn_forgeable(const struct mw_config *cfg)
{
    const char *list, *pat, *why;
    for (int c = 0; mw_config_next_forgeable(cfg, &c, &list, &pat, &why);)
        fprintf(stderr,
                "memwarden daemon: warning: %s = %s: %s; use a trusted match such as "
                "'exe:/usr/sbin/sshd uid:0' or 'unit:ssh.service'\n",
                list, pat, why);
}

static int check_config(const char *path)
{
    struct mw_config cfg;
    char err[MW_CFG_ERR_LEN + 256];
    mw_config_defaults(&cfg);
    int rc = mw_config_load(&cfg, path, err, sizeof(err));
    if (rc < 0) {
        int n = 0;
        for (const char *l = err; *l; n++) {
            size_t len = strcspn(l, "\n");
            fprintf(stderr, "memwarden daemon: %.*s\n", (int)len, l);
            l += len + (l[len] == '\n');
        }
        if (rc != -EINVAL) /* the file itself: missing, unreadable, not a file */
            return MW_EXIT_FAIL;
        fprintf(stderr, "memwarden daemon: %s: %d error%s\n", path, n, n == 1 ? "" : "s");
        return MW_EXIT_FOUND;
    }
    warn_forgeable(&cfg);
    printf("%s: ok (strategy %s%s, psi some %llums full %llums, thrashing_limit %d%% decay "
           "%d%%, swap_free_low %d%%, kill_timeout %llums, %d protect / %d prefer / %d avoid "
           "patterns)\n",
           path, cfg.strategy == MW_STRATEGY_MINFREE ? "minfree" : "psi",
           cfg.low_ram ? ", low-RAM profile" : "", (unsigned long long)cfg.psi_partial_stall_ms,
           (unsigned long long)cfg.psi_complete_stall_ms, cfg.thrashing_limit_pct,
           cfg.thrashing_limit_decay_pct, cfg.swap_free_low_pct,
           (unsigned long long)cfg.kill_timeout_ms, cfg.protect.n, cfg.prefer.n, cfg.avoid.n);
    return MW_EXIT_OK;
}

/* ---- options ---- */

struct daemon_cli {
    struct mw_daemon_opts o;
    bool choose_once, json, low_ram;
    int min_adj;
};

/* --min-adj N: -1000 to 1001. Returns 0, or the usage error's exit code. */
static int parse_min_adj(const char *arg, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || end == arg || v < -1000 || v > 1001)
        return mw_usage_error("daemon", "--min-adj: '%s' is not from -1000 to 1001", arg);
    *out = (int)v;
    return 0;
}

/* Fills C from the command line. Returns -1 to go on, else an exit code
 * (--help, --check-config, a usage error). */
static int parse_opts(int argc, char **argv, struct daemon_cli *c)
{
    int opt, rc;
    optind = 1;
    while ((opt = mw_getopt(argc, argv, &cli_daemon_doc)) != -1) {
        switch (opt) {
        case 'c':
            c->o.config_path = optarg;
            break;
        case 's':
            c->o.scope = optarg;
            break;
        case 'n':
            c->o.dry_run = true;
            break;
        case 'f':
            c->o.foreground = true;
            break;
        case 'H':
            c->o.history = optarg;
            break;
        case 'S':
            c->o.state_file = optarg;
            break;
        case 'L':
            c->low_ram = true;
            break;
        case 'C':
            return check_config(optarg);
        case 'o':
            c->choose_once = true;
            break;
        case 'm':
            if ((rc = parse_min_adj(optarg, &c->min_adj)) != 0)
                return rc;
            break;
        case 'j':
            c->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_daemon_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("daemon", opt, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("daemon", "unexpected argument '%s'", argv[optind]);
    if (c->json && !c->choose_once)
        return mw_usage_error("daemon", "--json goes with --choose-once");
    return -1;
}

/* The configuration: the defaults, the --config file over them, then
 * --low-ram. Returns 0, or MW_EXIT_FAIL (said). */
static int load_config(const struct daemon_cli *c, struct mw_config *cfg)
{
    mw_config_defaults(cfg);
    if (c->o.config_path) {
        char err[MW_CFG_ERR_LEN + 256];
        if (mw_config_load(cfg, c->o.config_path, err, sizeof(err)) < 0) {
            mw_err("daemon: %s", err);
            return MW_EXIT_FAIL;
        }
        warn_forgeable(cfg);
    }
    if (c->low_ram) {
        cfg->low_ram = true;
        mw_config_apply_low_ram(cfg);
    }
    return 0;
}

/* ---- --choose-once: gather, then render ---- */

static void choose_text(const struct mw_choose_once *r)
{
    const struct mw_victim *v = &r->victim;
    char prog[sizeof(v->comm)];
    mw_text_clean(prog, sizeof(prog), v->comm, strlen(v->comm));
    if (r->rc > 0)
        printf("victim pid=%d uid=%u adj=%d effective_adj=%d prog=%s rss=%llukB swap=%llukB\n",
               v->pid, (unsigned)v->uid, v->adj, v->eff_adj, prog, (unsigned long long)v->rss_kb,
               (unsigned long long)v->swap_kb);
    if (r->rc > 0 && v->runaway)
        printf("runaway: %llukB growing %llukB/s on average since it started\n",
               (unsigned long long)v->unit_kb, (unsigned long long)v->growth_kb_s);
    if (r->rc > 0 && v->runaway && v->group_n > 0)
        printf("group: %d young siblings of the same name die with it\n", v->group_n);
    if (r->rc > 0 && v->unit[0]) {
        char unit[sizeof(v->unit)], cg[sizeof(v->cgroup)];
        mw_text_clean(unit, sizeof(unit), v->unit, strlen(v->unit));
        mw_text_clean(cg, sizeof(cg), v->cgroup, strlen(v->cgroup));
        printf("unit: %s%s%s\n", unit, v->unit_whole ? ", killed as a whole: its cgroup " : "",
               v->unit_whole ? cg : "");
    }
    if (r->rc <= 0)
        printf("victim none (no process at adj >= %d may be killed)\n", r->min_adj);
    printf("scanned %u processes, read details of %u, in %.3f ms (dry run: nothing killed)\n",
           r->scanned, r->detailed, r->choose_ms);
    printf("adj layout %s; footprint cache sampled before the choice in %.3f ms (the daemon "
           "does that while pressure builds)\n",
           r->flat ? "flat" : "android", r->refresh_ms);
}

static void choose_json_victim(struct mw_json *j, const struct mw_victim *v)
{
    mw_json_object_begin(j, "victim");
    mw_json_i64(j, "pid", v->pid);
    mw_json_u64(j, "uid", v->uid);
    mw_json_i64(j, "adj", v->adj);
    mw_json_i64(j, "effective_adj", v->eff_adj);
    mw_json_str(j, "prog", v->comm);
    mw_json_str(j, "cmdline", v->cmdline);
    mw_json_u64(j, "rss", v->rss_kb * 1024);
    mw_json_u64(j, "swap", v->swap_kb * 1024);
    if (v->unit[0])
        mw_json_str(j, "unit", v->unit);
    else
        mw_json_null(j, "unit");
    if (v->unit_whole)
        mw_json_str(j, "unit_cgroup", v->cgroup); /* killed as a whole */
    else
        mw_json_null(j, "unit_cgroup");
    if (v->runaway) {
        mw_json_object_begin(j, "runaway");
        mw_json_u64(j, "footprint", v->unit_kb * 1024);
        mw_json_u64(j, "growth", v->growth_kb_s * 1024);
        mw_json_i64(j, "group", v->group_n);
        mw_json_object_end(j);
    } else {
        mw_json_null(j, "runaway");
    }
    mw_json_object_end(j);
}

static void choose_json(const struct mw_choose_once *r)
{
    struct mw_json j;
    mw_json_init(&j, stdout, false);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "scanned", r->scanned);
    mw_json_u64(&j, "detailed", r->detailed);
    mw_json_fixed(&j, "choose_time", r->choose_ms / 1000.0, 6);
    if (r->rc > 0)
        choose_json_victim(&j, &r->victim);
    else
        mw_json_null(&j, "victim");
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* One victim choice, rendered as text or JSON. Returns an exit code. */
static int choose_once(struct mw_ctx *ctx, const struct daemon_cli *c, const struct mw_config *cfg)
{
    static struct mw_choose_once r; /* 3 KiB of victim: off the stack */
    int rc = mw_daemon_choose_once(&ctx->root, &c->o, cfg, c->min_adj, &r);
    if (rc < 0) {
        fprintf(stderr, "memwarden daemon: %s%s: %s\n", c->o.scope ? "scope " : "",
                c->o.scope ? c->o.scope : "/proc", mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    if (c->json)
        choose_json(&r);
    else
        choose_text(&r);
    return r.rc < 0 ? MW_EXIT_FAIL : MW_EXIT_OK;
}

int cli_daemon(struct mw_ctx *ctx, int argc, char **argv)
{
    struct daemon_cli c = {.min_adj = -999};
    int rc = parse_opts(argc, argv, &c);
    if (rc >= 0)
        return rc;
    static struct mw_config cfg;
    if ((rc = load_config(&c, &cfg)) != 0)
        return rc;
    if (c.choose_once)
        return choose_once(ctx, &c, &cfg);
    if (!mw_root_is_live(&ctx->root)) {
        mw_err("daemon: refusing to run on a captured tree (--root); use --choose-once");
        return MW_EXIT_FAIL;
    }
    return mw_daemon_run(&ctx->root, &c.o, &cfg);
}
