/* memwarden status: one screen that explains the machine's memory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "meminfo.h"

static void status_usage(FILE *f)
{
    fprintf(f, "Usage: memwarden [--root DIR] status [--json]\n");
}

int cli_status(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            status_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_usage_error("status", "bad option");
        }
    }
    struct mw_meminfo mi;
    int bad = 0;
    int rc = mw_meminfo_read(&ctx->root, &mi, &bad);
    if (rc < 0) {
        mw_err("%s/proc/meminfo: %s", ctx->root.path, strerror(-rc));
        return MW_EXIT_FAIL;
    }
    struct mw_free fr;
    mw_free_compute(&mi, 0, &fr);
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_json_object_begin(&j, "memory");
        mw_json_u64(&j, "total", fr.total);
        mw_json_u64(&j, "used", fr.used);
        mw_json_u64(&j, "free", fr.free);
        mw_json_u64(&j, "shared", fr.shared);
        mw_json_u64(&j, "buff_cache", fr.buff_cache);
        mw_json_u64(&j, "available", fr.available);
        mw_json_object_end(&j);
        mw_json_object_end(&j);
        mw_json_finish(&j);
    } else {
        char a[32], b[32];
        printf("total %s available %s\n", mw_fmt_size(a, sizeof a, fr.total),
               mw_fmt_size(b, sizeof b, fr.available));
    }
    return MW_EXIT_OK;
}
