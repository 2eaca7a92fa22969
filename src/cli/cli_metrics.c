/* memwarden metrics: the Prometheus text exposition of the machine's memory
 * and of the daemon (its state file and kill history), printed once or
 * written for node_exporter's textfile collector. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "cli/cli.h"
#include "lmk/config.h"
#include "lmk/metricsd.h"
#include "model/daemonstate.h"
#include "model/metrics.h"

static const struct mw_opt metrics_opts[] = {
    {"textfile", 't', MW_OPT_SHORT, "DIR",
     "write DIR/memwarden.prom atomically instead of printing", NULL},
    {"config", 'c', MW_OPT_SHORT, "FILE",
     "take state_file and history_file from the daemon's config", NULL},
    {"state-file", 's', MW_OPT_SHORT, "FILE",
     "the daemon's state file (default " MW_DAEMON_STATE_FILE ")", NULL},
    {"history", 'H', MW_OPT_SHORT, "FILE", "the daemon's kill history (JSON lines; default: none)",
     NULL},
    {"json", 'j', 0, NULL,
     "the same samples as JSON: {\"families\": [{name, type, help,\n"
     "samples: [{name, labels, value}]}]} (integers exact, other\n"
     "values to 6 decimals, NaN and Inf as null); not with --textfile",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_metrics_doc = {
    .head = "NAME\n"
            "    memwarden metrics - Prometheus metrics of memory and of the daemon\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden metrics [--textfile DIR] [--config FILE] [--state-file FILE]\n"
            "                      [--history FILE]\n"
            "\n"
            "DESCRIPTION\n"
            "    Prints the Prometheus text exposition (format 0.0.4) once. With --textfile\n"
            "    it writes DIR/memwarden.prom instead, atomically (a temporary file in DIR,\n"
            "    fsync, rename), for node_exporter's textfile collector; DIR must not be a\n"
            "    symlink. The daemon can do both on its own (metrics_textfile,\n"
            "    metrics_interval, metrics_listen: see 'memwarden daemon --help').\n"
            "\n"
            "    Names are node_exporter's under the memwarden_ prefix, in base units\n"
            "    (bytes, seconds, ratios 0..1), counters ending in _total; no PID or\n"
            "    command line is a label:\n"
            "      memwarden_memory_<field>_bytes       every /proc/meminfo field the kernel\n"
            "                                           gives, snake_case (MemAvailable ->\n"
            "                                           mem_available, Active(file) ->\n"
            "                                           active_file); a count has no _bytes\n"
            "                                           (HugePages_Free -> huge_pages_free,\n"
            "                                           HugePages_Total -> huge_pages)\n"
            "      memwarden_swap_device_{size,used}_bytes{device,type}   /proc/swaps\n"
            "      memwarden_zram_{disksize,orig_data,compr_data,mem_used,mem_limit}_bytes\n"
            "                                           {device=\"zramN\"}\n"
            "      memwarden_pressure_{memory,io,cpu}_waiting_seconds_total   PSI some total\n"
            "      memwarden_pressure_{memory,io}_stalled_seconds_total       PSI full total\n"
            "      memwarden_pressure_<res>_stall_ratio{kind=some|full,window=10s|60s|300s}\n"
            "      memwarden_vmstat_<counter>_total     oom_kill, pgscan_kswapd, pgscan_direct,\n"
            "                                           pgsteal_kswapd, pgsteal_direct,\n"
            "                                           allocstall, pswpin, pswpout, pgmajfault,\n"
            "                                           workingset_refault_{anon,file},\n"
            "                                           compact_stall\n"
            "    From the daemon's state file and kill history:\n"
            "      memwarden_daemon_up, memwarden_daemon_info{source,strategy,scope,dry_run},\n"
            "      memwarden_daemon_start_time_seconds, memwarden_daemon_wakeups_total{cause},\n"
            "      memwarden_daemon_resident_memory_bytes, memwarden_last_kill_time_seconds,\n"
            "      memwarden_kills_total{reason,result=exited|signalled|dry_run},\n"
            "      memwarden_kill_freed_bytes_total,\n"
            "      memwarden_kill_signal_latency_seconds (histogram: event -> signal),\n"
            "      memwarden_kill_exit_latency_seconds (histogram: signal -> exit),\n"
            "      memwarden_kill_phase_seconds{phase=wake|sample|refresh|choose|signal|exit}\n"
            "        (histograms: where a kill's time went, from 0.1 ms)\n"
            "    Only from the daemon's own metrics process (it shares the counters):\n"
            "      memwarden_kill_failures_total, memwarden_kill_loops_total,\n"
            "      memwarden_alerts_total, memwarden_daemon_cycle_seconds{stat=last|max},\n"
            "      memwarden_leak_verdict{object=slab|shmem} (0 stable, 1 warning, 2 leak),\n"
            "      memwarden_leak_slope_bytes_per_second{object}, memwarden_leak_window_seconds\n",
    .opts = metrics_opts,
    .opts_note = "    Files are read under --root, so a snapshot directory works; a relative\n"
                 "    --history is the working directory's. A file named here must exist.\n",
    .exit_ok = "written",
    .exit_fail = "/proc/meminfo, --history or --state-file unreadable, or the textfile\n"
                 "not written",
    .examples = "    memwarden metrics | promtool check metrics\n"
                "    memwarden metrics --config /etc/memwarden.conf \\\n"
                "        --textfile /var/lib/prometheus/node-exporter\n",
};

struct metrics_opts {
    const char *textfile, *config, *state, *history;
    bool help, json;
};

static int metrics_parse(int argc, char **argv, struct metrics_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_metrics_doc)) != -1) {
        switch (c) {
        case 't':
            o->textfile = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->state = optarg;
            break;
        case 'H':
            o->history = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            o->help = true;
            return 0;
        default:
            return mw_opt_error("metrics", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("metrics", "unexpected argument '%s'", argv[optind]);
    if (o->json && o->textfile)
        return mw_usage_error("metrics", "--json prints; --textfile writes the exposition");
    return 0;
}

/* Renders M into a malloc'd buffer (*TEXT, *LEN). Returns 0 or -ENOMEM. */
static int render_buf(const struct mw_metrics *m, char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (!f)
        return -ENOMEM;
    mw_metrics_render(f, m);
    return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* PATH as given on the command line: a relative one is the working
 * directory's (files are read under the root, which would take "x" for
 * "/x"), made absolute into BUF (PATH_MAX bytes): the state file names a
 * PID that is looked up under the root too. */
static const char *given_path(const char *path, char *buf)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)) ||
        snprintf(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
        return path;
    return buf;
}

/* An input file named by OPT cannot be read: said, exit 1. */
static int input_error(const struct mw_root *root, const char *opt, const char *path, int rc)
{
    mw_err("metrics: %s %s: %s%s", opt, path, mw_strerror(-rc),
           root->fd == AT_FDCWD || mw_root_is_live(root) ? "" : " (read under --root)");
    return MW_EXIT_FAIL;
}

/* ---- --json: the exposition read back into JSON ---- */

/* A sample's value: an integer exactly, another number to 6 decimals,
 * NaN and +-Inf (which JSON lacks) as null. */
static void json_value(struct mw_json *j, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long u = strtoull(v, &end, 10);
    if (*v != '-' && end != v && !*end && errno == 0) {
        mw_json_u64(j, "value", u);
        return;
    }
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d))
        mw_json_null(j, "value");
    else
        mw_json_fixed(j, "value", d, 6);
}

/* The labels of one sample, P just past '{': k="v",... up to '}' (the
 * exposition's escapes \\, \" and \n undone). Returns the text after '}'. */
static const char *json_labels(struct mw_json *j, const char *p)
{
    char key[128], val[512];
    mw_json_object_begin(j, "labels");
    while (*p && *p != '}') {
        size_t k = 0, n = 0;
        while (*p && *p != '=' && k + 1 < sizeof(key))
            key[k++] = *p++;
        key[k] = '\0';
        p += *p == '=' ? 1 : 0;
        p += *p == '"' ? 1 : 0;
        for (; *p && *p != '"'; p++) {
            char ch = *p;
            if (ch == '\\' && p[1]) {
                ch = *++p == 'n' ? '\n' : *p;
            }
            if (n + 1 < sizeof(val))
                val[n++] = ch;
        }
        val[n] = '\0';
        p += *p == '"' ? 1 : 0;
        p += *p == ',' ? 1 : 0;
        mw_json_str(j, key, val);
    }
    mw_json_object_end(j);
    return *p == '}' ? p + 1 : p;
}

static void json_no_labels(struct mw_json *j)
{
    mw_json_object_begin(j, "labels");
    mw_json_object_end(j);
}

/* Ends the family object open in J (its samples array, then itself). */
static void json_family_end(struct mw_json *j)
{
    mw_json_array_end(j);
    mw_json_object_end(j);
}

/* One sample line "name{labels} value" as an object of the samples array. */
static void json_sample(struct mw_json *j, const char *line)
{
    size_t n = strcspn(line, "{ ");
    mw_json_object_begin(j, NULL);
    mw_json_strn(j, "name", line, n);
    const char *p = line + n;
    if (*p == '{')
        p = json_labels(j, p + 1);
    else
        json_no_labels(j);
    while (*p == ' ')
        p++;
    json_value(j, p);
    mw_json_object_end(j);
}

/* TEXT (the exposition, NUL-terminated) as JSON on stdout: one family per
 * "# HELP" line, which the renderer writes before its TYPE and samples. */
static void print_json(char *text)
{
    struct mw_json j;
    bool open = false;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_array_begin(&j, "families");
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (open)
                json_family_end(&j);
            size_t n = strcspn(line + 7, " ");
            mw_json_object_begin(&j, NULL);
            mw_json_strn(&j, "name", line + 7, n);
            mw_json_str(&j, "help", line[7 + n] ? line + 8 + n : "");
            open = true;
        } else if (strncmp(line, "# TYPE ", 7) == 0 && open) {
            const char *type = strchr(line + 7, ' ');
            mw_json_str(&j, "type", type ? type + 1 : "untyped");
            mw_json_array_begin(&j, "samples");
        } else if (line[0] != '#' && open) {
            json_sample(&j, line);
        }
    }
    if (open)
        json_family_end(&j);
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

int cli_metrics(struct mw_ctx *ctx, int argc, char **argv)
{
    struct metrics_opts o = {0};
    int rc = metrics_parse(argc, argv, &o);
    if (rc != 0 || o.help) {
        if (o.help)
            mw_help(stdout, &cli_metrics_doc);
        return rc;
    }
    static struct mw_config cfg;
    char err[320];
    mw_config_defaults(&cfg);
    if (o.config && mw_config_load(&cfg, o.config, err, sizeof(err)) < 0) {
        mw_err("%s", err);
        return MW_EXIT_FAIL;
    }
    char state_buf[PATH_MAX];
    const char *state = o.state ? given_path(o.state, state_buf) : cfg.state_file;
    const char *hist = o.history ? o.history : cfg.history_file;
    /* a relative --history is the working directory's, whatever the root */
    struct mw_root cwd = {.fd = AT_FDCWD, .path = ".", .page_size = ctx->root.page_size};
    const struct mw_root *hist_root = hist[0] == '/' ? &ctx->root : &cwd;
    static struct mw_metrics m;
    static struct mw_metrics_history h;
    if ((rc = mw_metrics_gather_sys(&ctx->root, &m.sys)) < 0) {
        mw_err("cannot read /proc/meminfo: %s", mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    /* A file named on the command line must be there; the config's (or the
     * default) may not be yet: no daemon has run, or it has killed nothing. */
    if (state[0] && (rc = mw_metrics_gather_daemon(&ctx->root, state, &m.d)) < 0 && o.state)
        return input_error(&ctx->root, "--state-file", state, rc);
    if (hist[0] && (rc = mw_metrics_history_update(hist_root, hist, &h, &m.d)) < 0) {
        if (o.history)
            return input_error(hist_root, "--history", hist, rc);
        if (rc != -ENOENT)
            mw_err("kill history %s: %s (left out)", hist, mw_strerror(-rc));
    }
    if (!o.textfile && !o.json) {
        mw_metrics_render(stdout, &m);
        return fflush(stdout) == 0 ? MW_EXIT_OK : MW_EXIT_FAIL;
    }
    char *text = NULL;
    size_t len = 0;
    rc = render_buf(&m, &text, &len);
    if (rc == 0 && o.json) {
        print_json(text);
        free(text);
        return fflush(stdout) == 0 ? MW_EXIT_OK : MW_EXIT_FAIL;
    }
    if (rc == 0)
        rc = mw_metrics_textfile_write(o.textfile, text, len);
    free(text);
    if (rc < 0) {
        mw_err("--textfile %s: %s%s", o.textfile, mw_strerror(-rc),
               rc == -ELOOP || rc == -ENOTDIR ? " (not a directory, or a symlink: refused)" : "");
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}
