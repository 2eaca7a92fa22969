/* memwarden snapshot DIR: capture every file memwarden reads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/json.h"
#include "model/snapshot.h"

static void snapshot_usage(FILE *f)
{
    fputs("NAME\n"
          "    memwarden snapshot - capture the files memwarden reads, for later or elsewhere\n"
          "\n"
          "SYNOPSIS\n"
          "    memwarden [--root DIR] snapshot [--no-procs] [--smaps] [--scope CGROUP]\n"
          "                                    [--json] OUTDIR\n"
          "\n"
          "DESCRIPTION\n"
          "    Copies /proc/meminfo, vmstat, zoneinfo, pressure/*, swaps, slabinfo,\n"
          "    sysvipc/shm, the vm sysctls, /sys/block/zram*, /etc/passwd and, for every\n"
          "    process, /proc/PID/{stat,status,statm,cmdline,smaps_rollup,oom_score_adj,\n"
          "    oom_score,cgroup} into OUTDIR under the same relative paths, plus\n"
          "    memwarden-snapshot.json (time, host, kernel, page size). Then\n"
          "    'memwarden --root OUTDIR status' (or top, slab, diff) shows that moment on\n"
          "    any machine. Files that cannot be read (permissions, a process that just\n"
          "    exited) are skipped and counted. OUTDIR is created; it must not exist or\n"
          "    be empty.\n"
          "\n"
          "OPTIONS\n"
          "    --no-procs      leave out the per-process files\n"
          "    --smaps         also copy each process's full smaps (per-mapping detail)\n"
          "    --scope CGROUP  also copy that cgroup directory's memory files\n"
          "    --json          print the counts as JSON\n"
          "    -h, --help      this text\n"
          "\n"
          "EXIT STATUS\n"
          "    0 captured; 1 OUTDIR not empty or not writable; 2 usage.\n"
          "\n"
          "EXAMPLES\n"
          "    memwarden snapshot /tmp/before; sleep 3600; memwarden snapshot /tmp/after\n"
          "    memwarden --root /tmp/before status\n",
          f);
}

/* Opens OUT as an empty directory, creating it if needed. */
static int open_empty_dir(const char *out)
{
    if (mkdir(out, 0755) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d;
    int rc = mw_opendir_at(fd, ".", 0, &d);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            entries++;
    closedir(d);
    if (entries) {
        close(fd);
        return -ENOTEMPTY;
    }
    return fd;
}

int cli_snapshot(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-procs", no_argument, NULL, 'P'},    {"smaps", no_argument, NULL, 'S'},
        {"scope", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {0},
    };
    struct mw_snapshot_opts so = {.processes = true};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'P':
            so.processes = false;
            break;
        case 'S':
            so.smaps = true;
            break;
        case 's':
            so.scope = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            snapshot_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_usage_error("snapshot", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return mw_usage_error("snapshot", "needs one output directory");
    const char *out = argv[optind];
    int fd = open_empty_dir(out);
    if (fd < 0) {
        mw_err("snapshot: %s: %s", out,
               fd == -ENOTEMPTY ? "directory is not empty" : strerror(-fd));
        return MW_EXIT_FAIL;
    }
    struct mw_snapshot_result res;
    int rc = mw_snapshot_take(&ctx->root, fd, &so, &res);
    close(fd);
    if (rc < 0) {
        mw_err("snapshot: writing into %s: %s", out, strerror(-rc));
        return MW_EXIT_FAIL;
    }
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "directory", out);
        mw_json_u64(&j, "files", res.files);
        mw_json_u64(&j, "processes", res.processes);
        mw_json_u64(&j, "skipped", res.skipped);
        mw_json_object_end(&j);
        mw_json_finish(&j);
    } else {
        printf("captured %u files (%u processes) into %s", res.files, res.processes, out);
        if (res.skipped)
            printf("; %u unreadable or vanished files skipped", res.skipped);
        printf("\nshow it with: memwarden --root %s status\n", out);
    }
    return MW_EXIT_OK;
}
