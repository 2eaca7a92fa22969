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
          "    exited) are skipped and counted. OUTDIR is created with mode 0700; an\n"
          "    existing one must be empty, yours, not a symlink and writable by nobody\n"
          "    else (a shared directory such as /tmp itself is refused: others could\n"
          "    plant symlinks in it). Nothing is written through a symlink; per-process\n"
          "    files (command lines, smaps) are written mode 0600. Under --root,\n"
          "    symlinks in the captured tree do not lead out of it.\n"
          "\n"
          "OPTIONS\n"
          "    --no-procs      leave out the per-process files\n"
          "    --smaps         also copy each process's full smaps (per-mapping detail)\n"
          "    --scope CGROUP  also copy that cgroup directory's memory files\n"
          "    --json          print the counts as JSON\n"
          "    -h, --help      this text\n"
          "\n"
          "EXIT STATUS\n"
          "    0 captured; 1 OUTDIR refused (not empty, not yours, writable by others)\n"
          "    or not writable; 2 usage.\n"
          "\n"
          "EXAMPLES\n"
          "    memwarden snapshot ~/mw-before; sleep 3600; memwarden snapshot ~/mw-after\n"
          "    memwarden --root ~/mw-before status\n",
          f);
}

/* Opens OUT as the capture's directory: created here with mode 0700 when
 * it does not exist; an existing one must be empty, not a symlink, owned
 * by the caller and writable by nobody else (in a directory others may
 * write, they could plant symlinks while root writes the tree). Returns
 * the descriptor, or -errno with WHY set to a reason for the message. */
static int open_output_dir(const char *out, const char **why)
{
    *why = NULL;
    if (mkdir(out, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            *why = "not a directory (or a symlink): give a directory of your own";
        return -errno;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (st.st_uid != geteuid()) {
        *why = "owned by another user: give a directory of your own (or one that does not exist)";
        rc = -EPERM;
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        *why = "writable by other users: give a directory only you can write (or one that "
               "does not exist; it is created with mode 0700)";
        rc = -EPERM;
    } else {
        DIR *d;
        rc = mw_opendir_at(fd, ".", 0, &d);
        if (rc == 0) {
            struct dirent *de;
            while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                    rc = -ENOTEMPTY;
            closedir(d);
        }
        if (rc == -ENOTEMPTY)
            *why = "directory is not empty";
    }
    if (rc < 0) {
        close(fd);
        return rc;
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
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'P':
            so.processes = false;
            break;
        case 'S':
            so.smaps = true;
            break;
        case 's':
            if (!mw_snapshot_scope_ok(optarg))
                return mw_usage_error("snapshot",
                                      "--scope '%s': a cgroup directory without "
                                      "'.' or '..' components",
                                      optarg);
            so.scope = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            snapshot_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("snapshot", c, argv);
        }
    }
    if (optind + 1 != argc)
        return mw_usage_error("snapshot", "needs one output directory");
    const char *out = argv[optind];
    const char *why;
    int fd = open_output_dir(out, &why);
    if (fd < 0) {
        mw_err("snapshot: %s: %s", out, why ? why : mw_strerror(-fd));
        return MW_EXIT_FAIL;
    }
    struct mw_snapshot_result res;
    int rc = mw_snapshot_take(&ctx->root, fd, &so, &res);
    close(fd);
    if (rc < 0) {
        mw_err("snapshot: writing into %s: %s", out, mw_strerror(-rc));
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
