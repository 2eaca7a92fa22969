/* memwarden snapshot: capture every file memwarden reads. */
#include <stdio.h>

#include "cli.h"

int cli_snapshot(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    mw_err("snapshot: not built yet");
    return MW_EXIT_FAIL;
}
