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

static void usage(FILE *f)
{
    fprintf(f, "Usage: memwarden [--root DIR] COMMAND [OPTIONS]\n"
               "       memwarden help [COMMAND]\n"
               "\n"
               "Keeps memory-starved Linux machines alive and explains their memory.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f, "  %-12s %s\n", mw_commands[i].name, mw_commands[i].summary);
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
               "\n");
    mw_exit_table(f);
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
        const struct mw_command *h = mw_command_find(argv[i + 1]);
        if (!h)
            return mw_usage_error(NULL, "help: unknown command '%s'", argv[i + 1]);
        mw_help(stdout, h->doc);
        return MW_EXIT_OK;
    }
    const struct mw_command *cmd = mw_command_find(argv[i]);
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
