/* memwarden: one binary, many commands. main() parses the global options
 * (--root), then hands the rest of the command line to a subcommand. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/snapshot.h"

#ifndef MW_VERSION
#define MW_VERSION "unknown"
#endif

static const struct mw_command commands[] = {
    {"status", cli_status, "memory at a glance: free explained, swap/zram, PSI, verdict"},
    {"snapshot", cli_snapshot, "capture every file memwarden reads into a directory"},
    {"leak", cli_leak, "is it a leak? trend of a process or the kernel, and where it grows"},
    {"watch", cli_watch, "sample a process or the system every N s, with deltas; --record"},
    {"slab", cli_slab, "kernel slab caches: biggest, growing, and what to do"},
    {"shm", cli_shm, "SysV segments and /dev/shm files: owners, attaches, orphans"},
    {"analyze", cli_analyze, "free memory over time from a log: too big, declining, stable"},
    {"oom", cli_oom, "what the kernel's OOM killer killed, and why, from its log"},
    {"diff", cli_diff, "what grew and what shrank between two snapshots"},
    {"top", cli_top, "processes by PSS/USS/RSS/swap with oom_score_adj class and cgroup"},
    {"prio", cli_prio, "show and set oom_score_adj by class name; apply a rules file"},
    {"report", cli_report, "one HTML page from records, kill histories, snapshots, logs"},
    {"metrics", cli_metrics, "Prometheus metrics of memory and the daemon; --textfile DIR"},
    {"run", cli_run, "run a command under a memory limit: peak, OOM kills, leak verdict"},
    {"soak", cli_soak, "run a command for hours and judge it: alive, OOM, peaks, leak; JUnit"},
    {"daemon", cli_daemon, "low-memory killer: acts before the OOM killer, least important first"},
    {"tune", cli_tune, "apply a profile's sysctls and zram swap, with backup and --revert"},
    {"zram", cli_zram, "zram swap devices: status, setup, off (refuses to reset one in use)"},
    {"drop-caches", cli_drop_caches, "what drop_caches would free (rarely needed); --yes does it"},
    {"doctor", cli_doctor, "check swap, zram and vm sysctls against the RAM size; the fixes"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: memwarden [--root DIR] COMMAND [OPTIONS]\n"
               "       memwarden help [COMMAND]\n"
               "\n"
               "Keeps memory-starved Linux machines alive and explains their memory.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < MW_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "Global options:\n"
               "  --root DIR   read /proc and /sys under DIR (a 'memwarden snapshot' capture);\n"
               "               also accepted after the command\n"
               "  --help       this text; 'memwarden COMMAND --help' for a command\n"
               "  --version    print the version\n"
               "\n"
               "Sizes take binary units (256K, 512M, 4G); durations take a unit (30s, 5m, 24h;\n"
               "a plain number is seconds). Every reporting command has --json, with sizes\n"
               "in bytes and times in seconds.\n"
               "\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 a check found a problem.\n");
}

static const struct mw_command *find_command(const char *name)
{
    for (size_t c = 0; c < MW_ARRAY_SIZE(commands); c++)
        if (strcmp(name, commands[c].name) == 0)
            return &commands[c];
    return NULL;
}

/* Takes "--root DIR" / "--root=DIR" out of the command's own arguments
 * (ARGV[1..*ARGC-1], up to a "--"), so `memwarden status --root DIR` works
 * as `memwarden --root DIR status` does. Returns 0, or MW_EXIT_USAGE after
 * saying why (no directory, or --root given twice). */
static int take_root(int *argc, char **argv, const char **root)
{
    int out = 1;
    for (int k = 1; k < *argc; k++) {
        const char *a = argv[k], *dir = NULL;
        if (strcmp(a, "--") == 0) {
            while (k < *argc)
                argv[out++] = argv[k++];
            break;
        }
        if (strcmp(a, "--root") == 0) {
            if (k + 1 >= *argc)
                return mw_usage_error(NULL, "--root needs a directory");
            dir = argv[++k];
        } else if (strncmp(a, "--root=", 7) == 0) {
            dir = a + 7;
        } else {
            argv[out++] = argv[k];
            continue;
        }
        if (*root)
            return mw_usage_error(NULL, "--root given twice ('%s' and '%s')", *root, dir);
        *root = dir;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    const char *root = NULL;
    int i = 1, rc0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--root") == 0) {
            if (i + 1 >= argc)
                return mw_usage_error(NULL, "--root needs a directory");
            root = argv[++i];
        } else if (strncmp(argv[i], "--root=", 7) == 0) {
            root = argv[i] + 7;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return MW_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("memwarden %s\n", MW_VERSION);
            return MW_EXIT_OK;
        } else {
            return mw_usage_error(NULL, "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return MW_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) { /* memwarden help [COMMAND] */
        if (i + 1 >= argc) {
            usage(stdout);
            return MW_EXIT_OK;
        }
        const struct mw_command *h = find_command(argv[i + 1]);
        if (!h)
            return mw_usage_error(NULL, "help: unknown command '%s'", argv[i + 1]);
        char hname[64], help[] = "--help";
        snprintf(hname, sizeof(hname), "memwarden %s", h->name);
        char *hargv[] = {hname, help, NULL};
        struct mw_ctx hctx = {.root = {.fd = -1, .path = NULL}, .prog = argv[0]};
        return h->fn(&hctx, 2, hargv);
    }
    const struct mw_command *cmd = find_command(argv[i]);
    if (!cmd)
        return mw_usage_error(NULL, "unknown command '%s'", argv[i]);
    int cargc = argc - i;
    rc0 = take_root(&cargc, argv + i, &root);
    if (rc0 != 0)
        return rc0;

    struct mw_ctx ctx = {.root = {.fd = -1, .path = NULL}, .prog = argv[0]};
    int rc = mw_root_open(&ctx.root, root);
    if (rc < 0) {
        mw_err("--root %s: %s", root, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    mw_snapshot_root_page_size(&ctx.root);
    /* Commands report option errors themselves, in one line (mw_opt_error). */
    opterr = 0;
    char name[64];
    snprintf(name, sizeof(name), "memwarden %s", cmd->name);
    argv[i] = name;
    rc = cmd->fn(&ctx, cargc, argv + i);
    mw_root_close(&ctx.root);
    return rc;
}
