/* memwarden run: a command under a memory limit, as if on the smaller
 * device — a cgroup of its own, sampled while it runs, then one summary a
 * user can paste into a bug report (cli/runner does the work). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "cli/cli.h"
#include "cli/runner.h"

static const struct mw_opt run_opts[] = {
    MW_RUNNER_OPTS,
    {"interval", 'i', MW_OPT_SHORT, "I", "time between samples (default 1s)", NULL},
    {"json", 'j', MW_OPT_SHORT, NULL, "the summary as one JSON object, on stdout", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_run_doc = {
    .head = "NAME\n"
            "    memwarden run - run a command under a memory limit, as if on a smaller device\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden run --limit SIZE [--swap SIZE] [--high SIZE] [--cpus N] [--name NAME]\n"
            "                  [--keep] [--interval I] [--record FILE] [--daemon] [--json]\n"
            "                  -- CMD [ARGS...]\n"
            "\n"
            "DESCRIPTION\n"
            "    Creates a memory cgroup (v2 where the cgroup2 root delegates the memory\n"
            "    controller, else v1 under memwarden's own memory cgroup), starts CMD in it\n"
            "    (argv as given, no shell), samples it every INTERVAL and removes the\n"
            "    cgroup at the end, also when CMD is killed or memwarden gets SIGINT or\n"
            "    SIGTERM (passed on to CMD; a second one, or 10 s without an exit, kills\n"
            "    everything in the cgroup). Processes CMD left behind in the cgroup are\n"
            "    killed. The summary: how CMD ended, wall time, the peak (memory.peak on\n"
            "    v2, max_usage_in_bytes on v1, else the highest sample: it says which),\n"
            "    peak swap, page faults (the cgroup's memory.stat, else the main process's\n"
            "    rusage), the cgroup's events (v2 memory.events; v1 failcnt and oom_kill),\n"
            "    whether the kernel's OOM killer took the main process itself, the leak\n"
            "    verdict over the cgroup's used memory (usage - reclaimable, as `leak`;\n"
            "    from 10 samples on) and the time above 85% of the limit.\n"
            "    --swap defaults to 0: swap cannot stretch the limit (v1 needs swap\n"
            "    accounting for that; the summary says when it is not enforced).\n"
            "    The command still sees the host's RAM in /proc/meminfo and sysinfo():\n"
            "    memwarden says so once, with how much more than the limit that is.\n"
            "    The summary goes to stderr, as time(1)'s does; --json prints it on stdout.\n",
    .opts = run_opts,
    .exit_fail = "the cgroup could not be made (CMD did not start)",
    .exit_note = "    Once CMD started, its own exit status, or 128 + N when signal N ended it\n"
                 "    (137: SIGKILL, e.g. the OOM killer); 125 it could not be put in the\n"
                 "    cgroup, 126 it could not be executed, 127 not found. run is the one\n"
                 "    command whose status is not the table of 'memwarden --help'.\n",
    .examples = "    memwarden run --limit 4G -- ./app --config prod.yaml\n"
                "    memwarden run --limit 512M --swap 256M --record app.jsonl -- ./app\n"
                "    memwarden run --limit 1G --daemon --json -- python3 main.py\n",
    .stop_at_operand = true,
};

int cli_run(struct mw_ctx *ctx, int argc, char **argv)
{
    struct mw_runner_opts o;
    bool json = false;
    mw_runner_opts_default(&o, "run");
    int c, ret;
    optind = 1;
    /* '+': options end at the command's name, so its own options stay its */
    while ((c = mw_getopt(argc, argv, &cli_run_doc)) != -1) {
        if (c == '?' || c == ':')
            return mw_opt_error("run", c, argv);
        if (c == 'h') {
            mw_help(stdout, &cli_run_doc);
            return MW_EXIT_OK;
        }
        if (c == 'j')
            json = true;
        else if ((ret = mw_runner_option(c, optarg, &o)) >= 0)
            return ret;
    }
    if (o.spec.limit == MW_CG_UNLIMITED)
        return mw_usage_error("run", "--limit SIZE is required");
    if ((ret = mw_runner_opts_check(ctx, &o, argc, argv)) >= 0)
        return ret;
    struct mw_run_result *res = calloc(1, sizeof(*res));
    if (!res)
        return MW_EXIT_FAIL;
    int rc = mw_runner_run(&ctx->root, &o, res);
    if (rc < 0 && !res->exec_errno) {
        free(res);
        return MW_EXIT_FAIL;
    }
    fflush(stdout);
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_run_json_members(&j, res);
        mw_json_object_end(&j);
        mw_json_finish(&j);
    } else {
        mw_run_print_text(stderr, res);
    }
    ret = mw_run_exit_status(res);
    free(res);
    return ret;
}
