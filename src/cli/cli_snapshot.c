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

static const struct mw_opt snapshot_opts[] = {
    {"no-procs", 'P', 0, NULL, "leave out the per-process files", NULL},
    {"smaps", 'S', 0, NULL, "also copy each process's full smaps (per-mapping detail)", NULL},
    {"scope", 's', 0, "CGROUP", "also copy that cgroup directory's memory files", NULL},
    {"json", 'j', 0, NULL, "print the counts as JSON", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_snapshot_doc = {
    .head = "NAME\n"
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
            "    symlinks in the captured tree do not lead out of it.\n",
    .opts = snapshot_opts,
    .exit_ok = "captured",
    .exit_fail = "OUTDIR refused (not empty, not yours, writable by others) or\n"
                 "not writable",
    .operands = "@dir",
    .examples = "    memwarden snapshot ~/mw-before; sleep 3600; memwarden snapshot ~/mw-after\n"
                "    memwarden --root ~/mw-before status\n",
};

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

struct snapshot_opts {
    struct mw_snapshot_opts take;
    bool json;
    const char *out; /* OUTDIR */
};

/* Returns 0, 1 after --help, or MW_EXIT_USAGE after saying why. */
static int parse_opts(int argc, char **argv, struct snapshot_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_snapshot_doc)) != -1) {
        switch (c) {
        case 'P':
            o->take.processes = false;
            break;
        case 'S':
            o->take.smaps = true;
            break;
        case 's':
            if (!mw_snapshot_scope_ok(optarg))
                return mw_usage_error("snapshot",
                                      "--scope '%s': a cgroup directory without "
                                      "'.' or '..' components",
                                      optarg);
            o->take.scope = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_snapshot_doc);
            return 1;
        default:
            return mw_opt_error("snapshot", c, argv);
        }
    }
    if (optind + 1 != argc)
        return mw_usage_error("snapshot", "needs one output directory");
    o->out = argv[optind];
    return 0;
}

/* Takes the capture into O->out. Returns MW_EXIT_OK with RES filled, or
 * MW_EXIT_FAIL after saying why. */
static int take(const struct mw_root *root, const struct snapshot_opts *o,
                struct mw_snapshot_result *res)
{
    const char *why;
    int fd = open_output_dir(o->out, &why);
    if (fd < 0) {
        mw_err("snapshot: %s: %s", o->out, why ? why : mw_strerror(-fd));
        return MW_EXIT_FAIL;
    }
    int rc = mw_snapshot_take(root, fd, &o->take, res);
    close(fd);
    if (rc < 0) {
        mw_err("snapshot: writing into %s: %s", o->out, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}

static void print_json(const char *out, const struct mw_snapshot_result *res)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "directory", out);
    mw_json_u64(&j, "files", res->files);
    mw_json_u64(&j, "processes", res->processes);
    mw_json_u64(&j, "skipped", res->skipped);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void print_text(const char *out, const struct mw_snapshot_result *res)
{
    printf("captured %u files (%u processes) into %s", res->files, res->processes, out);
    if (res->skipped)
        printf("; %u unreadable or vanished files skipped", res->skipped);
    printf("\nshow it with: memwarden --root %s status\n", out);
}

int cli_snapshot(struct mw_ctx *ctx, int argc, char **argv)
{
    struct snapshot_opts o = {.take = {.processes = true}};
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? MW_EXIT_OK : rc;
    struct mw_snapshot_result res;
    rc = take(&ctx->root, &o, &res);
    if (rc != MW_EXIT_OK)
        return rc;
    if (o.json)
        print_json(o.out, &res);
    else
        print_text(o.out, &res);
    return MW_EXIT_OK;
}
