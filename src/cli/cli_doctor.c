/* memwarden doctor: the memory settings of this machine (or a capture),
 * checked one line each, with the change that would fix each one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/doctor.h"
#include "base/json.h"
#include "cli/cli.h"
#include "lmk/config.h"
#include "model/daemonstate.h"

static const struct mw_opt doctor_opts[] = {
    {"sample", 's', 0, "DURATION",
     "measure reclaim for this long (default 5s; 0: skip;\n"
     "never on a captured tree)",
     NULL},
    {"json", 'j', 0, NULL, "the checks as JSON", NULL},
    {"state", 'S', 0, "FILE", "memwarden daemon's state file (" MW_DAEMON_STATE_FILE ")", NULL},
    {"config", 'c', 0, "FILE", "the daemon's config, for its kill history file", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_doctor_doc = {
    .head = "NAME\n"
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
            "      watermark_scale_factor 125 / boost 0 (recipe) when swap is zram.\n",
    .opts = doctor_opts,
    .exit_ok = "every check ok (or n/a)",
    .exit_fail = "/proc/meminfo could not be read",
    .exit_found = "advice or a problem (the verdicts say which; \"worst\" in the JSON)",
};

struct doctor_opts {
    uint64_t sample_ms;
    bool json;
    const char *state_path, *config_path;
};

/* The daemon's kill history file, as CONFIG_PATH names it (history_file);
 * "" when there is no config, it does not parse, or it names none. */
static void history_from_config(const struct mw_root *root, const char *config_path, char *out,
                                size_t cap)
{
    out[0] = '\0';
    char *buf, err[160];
    struct mw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    mw_config_defaults(cfg);
    if (mw_read_file(root, config_path, &buf, NULL) == 0) {
        if (mw_config_parse_buf(cfg, buf, err, sizeof(err)) == 0)
            snprintf(out, cap, "%s", cfg->history_file);
        free(buf);
    }
    free(cfg);
}

/* What doctor shows: the readings and the checks run on them. */
struct doctor {
    struct mw_doc_in in;
    struct mw_doc_report r;
};

static int gather(const struct mw_root *root, const struct doctor_opts *o, struct doctor *d)
{
    char history[MW_CFG_PATH_LEN] = "";
    if (o->config_path)
        history_from_config(root, o->config_path, history, sizeof(history));
    const struct mw_doc_sources src = {.state_path = o->state_path,
                                       .history_path = history[0] ? history : NULL,
                                       .sample_ms = o->sample_ms};
    int rc = mw_doctor_gather(root, &src, &d->in);
    if (rc < 0) {
        mw_err("cannot read %s/proc/meminfo: %s", root->path ? root->path : "", mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    mw_doctor_run(&d->in, &d->r);
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

/* The exit status for R: 3 when a check gave advice or found a problem. */
static int doctor_exit(const struct mw_doc_report *r)
{
    return mw_doctor_worst(r) == MW_DOC_OK ? MW_EXIT_OK : MW_EXIT_FOUND;
}

static void print_json(const struct mw_doc_report *r)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "profile", mw_profile_get(r->profile)->name);
    mw_json_str(&j, "worst", mw_doc_verdict_name(mw_doctor_worst(r)));
    mw_json_i64(&j, "exit", doctor_exit(r));
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
    struct doctor_opts o = {.sample_ms = 5000, .state_path = MW_DAEMON_STATE_FILE};
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_doctor_doc)) != -1) {
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
            mw_help(stdout, &cli_doctor_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("doctor", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
    struct doctor *d = calloc(1, sizeof(*d));
    if (!d) {
        mw_err("out of memory");
        return MW_EXIT_FAIL;
    }
    int rc = gather(&ctx->root, &o, d);
    if (rc == MW_EXIT_OK) {
        if (o.json)
            print_json(&d->r);
        else
            print_text(&d->in, &d->r);
        rc = doctor_exit(&d->r);
    }
    free(d);
    return rc;
}
