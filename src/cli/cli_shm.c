/* memwarden shm: shared memory that outlives its users — SysV segments
 * and /dev/shm files, with owners, attach counts and orphans; removes
 * orphans only when asked twice (--remove-orphans --yes). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/json.h"
#include "proc/shm.h"
#include "proc/users.h"

static void shm_usage(FILE *f)
{
    fprintf(f, "NAME\n"
               "    memwarden shm - shared memory segments and /dev/shm files, and their orphans\n"
               "\n"
               "SYNOPSIS\n"
               "    memwarden shm [--json]\n"
               "    memwarden shm --remove-orphans [--yes] [--shmid ID]... [--path FILE]...\n"
               "\n"
               "DESCRIPTION\n"
               "    Lists System V shared memory segments (/proc/sysvipc/shm: size, resident\n"
               "    and swapped bytes, attach count, owner, creator) and the files in /dev/shm\n"
               "    (size, owner, how many processes have them open or mapped). Shared memory\n"
               "    counts as 'shared' and buff/cache in free(1) but reclaim cannot drop it.\n"
               "    An orphan is a segment nobody has attached whose creator is gone, or a\n"
               "    /dev/shm file no process has open or mapped: it holds memory until removed\n"
               "    or until reboot.\n"
               "    --remove-orphans shows what it would remove; with --yes it removes them\n"
               "    (IPC_RMID, unlink) and prints each removal. --shmid and --path limit it to\n"
               "    the orphans named. Removal works on the live system only, not on --root.\n"
               "\n"
               "OPTIONS\n"
               "        --remove-orphans remove orphans (a dry run without --yes)\n"
               "    -y, --yes            really remove\n"
               "        --shmid ID       only this segment (repeatable)\n"
               "        --path FILE      only this /dev/shm file (repeatable)\n"
               "        --json           machine-readable output (bytes)\n"
               "    -h, --help           this text\n"
               "\n"
               "EXIT STATUS\n"
               "    0 done (no orphans, or all removed), 3 orphans found and left in place,\n"
               "    1 a removal failed or nothing is readable, 2 usage error.\n"
               "\n"
               "EXAMPLES\n"
               "    memwarden shm\n"
               "    memwarden shm --remove-orphans\n"
               "    memwarden shm --remove-orphans --yes --shmid 32768\n");
}

static bool wanted_id(int id, const int *ids, size_t n)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static bool wanted_path(const char *p, char **paths, size_t n)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(paths[i], p) == 0)
            return true;
    return false;
}

int cli_shm(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"remove-orphans", no_argument, NULL, 'R'},
        {"yes", no_argument, NULL, 'y'},
        {"shmid", required_argument, NULL, 'I'},
        {"path", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool remove = false, yes = false, json = false;
    int *ids = NULL;
    char **paths = NULL;
    size_t nids = 0, npaths = 0;
    unsigned long ul;
    int c, ret = MW_EXIT_USAGE;
    struct mw_users users = {0};
    struct mw_shm_report rep;
    memset(&rep, 0, sizeof(rep));
    optind = 1;
    while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
        switch (c) {
        case 'R':
            remove = true;
            break;
        case 'y':
            yes = true;
            break;
        case 'I': {
            if (mw_opt_uint("--shmid", optarg, 0, 0x7fffffff, &ul) < 0)
                goto out;
            int *p = realloc(ids, (nids + 1) * sizeof(*p));
            if (!p)
                goto out;
            ids = p;
            ids[nids++] = (int)ul;
            break;
        }
        case 'P': {
            char **p = realloc(paths, (npaths + 1) * sizeof(*p));
            if (!p)
                goto out;
            paths = p;
            paths[npaths++] = optarg;
            break;
        }
        case 'j':
            json = true;
            break;
        case 'h':
            shm_usage(stdout);
            ret = MW_EXIT_OK;
            goto out;
        default:
            ret = mw_usage_error("shm", "unknown option");
            goto out;
        }
    }
    if (optind < argc) {
        ret = mw_usage_error("shm", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if ((yes || nids || npaths) && !remove) {
        ret = mw_usage_error("shm", "--yes, --shmid and --path go with --remove-orphans");
        goto out;
    }
    if (remove && yes && !mw_root_is_live(&ctx->root)) {
        mw_err("shm: --remove-orphans acts on the live system only, not on --root %s",
               ctx->root.path);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    const char *rp = strcmp(ctx->root.path, "/") ? ctx->root.path : ""; /* prefix for messages */
    if (mw_shm_scan(&ctx->root, &rep) < 0) {
        ret = MW_EXIT_FAIL;
        goto out;
    }
    if (!rep.have_sysv && !rep.have_devshm) {
        mw_err("shm: neither %s/proc/sysvipc/shm nor %s/dev/shm is readable", rp, rp);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    mw_users_read(&ctx->root, &users);
    ret = MW_EXIT_OK;
    char u[64], s1[32], s2[32];
    if (remove) {
        unsigned done = 0, failed = 0, left = 0;
        for (size_t i = 0; i < rep.nseg; i++) {
            const struct mw_sysv_seg *g = &rep.seg[i];
            if (!g->orphan || !wanted_id(g->shmid, ids, nids) || (npaths && !nids))
                continue;
            if (!yes) {
                printf("would remove SysV segment shmid %d (key 0x%08lx, %s, owner %s, "
                       "creator %d gone)\n",
                       g->shmid, (unsigned long)g->key & 0xffffffffUL,
                       mw_fmt_size(s1, sizeof(s1), g->size_bytes),
                       mw_users_fmt(&users, g->uid, u, sizeof(u)), g->cpid);
                left++;
                continue;
            }
            int r = mw_shm_remove_sysv(g->shmid);
            if (r == 0) {
                printf("removed SysV segment shmid %d (%s)\n", g->shmid,
                       mw_fmt_size(s1, sizeof(s1), g->size_bytes));
                done++;
            } else {
                mw_err("shm: shmid %d: %s", g->shmid, strerror(-r));
                failed++;
            }
        }
        for (size_t i = 0; i < rep.nfile; i++) {
            const struct mw_shm_file *f = &rep.file[i];
            if (!f->orphan || !wanted_path(f->path, paths, npaths) || (nids && !npaths))
                continue;
            if (!yes) {
                printf("would remove %s (%s, owner %s, no process has it open or mapped)\n",
                       f->path, mw_fmt_size(s1, sizeof(s1), f->alloc_bytes),
                       mw_users_fmt(&users, f->uid, u, sizeof(u)));
                left++;
                continue;
            }
            int r = mw_shm_remove_file(f->path);
            if (r == 0) {
                printf("removed %s (%s)\n", f->path, mw_fmt_size(s1, sizeof(s1), f->alloc_bytes));
                done++;
            } else {
                mw_err("shm: %s: %s", f->path, strerror(-r));
                failed++;
            }
        }
        if (!yes && left)
            printf("%u orphan%s; run again with --yes to remove %s\n", left, left == 1 ? "" : "s",
                   left == 1 ? "it" : "them");
        else if (!yes || (!done && !failed))
            printf("no orphans to remove\n");
        ret = failed ? MW_EXIT_FAIL : left ? MW_EXIT_FOUND : MW_EXIT_OK;
        goto out;
    }
    if (json) {
        struct mw_json j;
        mw_json_init(&j, stdout, true);
        mw_json_object_begin(&j, NULL);
        mw_json_object_begin(&j, "sysv");
        mw_json_bool(&j, "readable", rep.have_sysv);
        mw_json_u64(&j, "bytes", rep.sysv_bytes);
        mw_json_u64(&j, "orphans", rep.sysv_orphans);
        mw_json_u64(&j, "orphan_bytes", rep.sysv_orphan_bytes);
        mw_json_u64(&j, "skipped_lines", rep.bad_lines);
        mw_json_array_begin(&j, "segments");
        for (size_t i = 0; i < rep.nseg; i++) {
            const struct mw_sysv_seg *g = &rep.seg[i];
            mw_json_object_begin(&j, NULL);
            mw_json_i64(&j, "shmid", g->shmid);
            mw_json_i64(&j, "key", g->key);
            mw_json_u64(&j, "size_bytes", g->size_bytes);
            if (g->have_rss) {
                mw_json_u64(&j, "rss_bytes", g->rss_bytes);
                mw_json_u64(&j, "swap_bytes", g->swap_bytes);
            }
            mw_json_u64(&j, "nattch", g->nattch);
            mw_json_u64(&j, "uid", g->uid);
            mw_json_str(&j, "owner", mw_users_fmt(&users, g->uid, u, sizeof(u)));
            mw_json_i64(&j, "creator_pid", g->cpid);
            mw_json_bool(&j, "creator_alive", g->creator_alive);
            mw_json_i64(&j, "last_pid", g->lpid);
            mw_json_bool(&j, "orphan", g->orphan);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        mw_json_object_end(&j);
        mw_json_object_begin(&j, "dev_shm");
        mw_json_bool(&j, "readable", rep.have_devshm);
        mw_json_u64(&j, "bytes", rep.devshm_bytes);
        mw_json_u64(&j, "orphans", rep.devshm_orphans);
        mw_json_u64(&j, "orphan_bytes", rep.devshm_orphan_bytes);
        mw_json_array_begin(&j, "files");
        for (size_t i = 0; i < rep.nfile; i++) {
            const struct mw_shm_file *f = &rep.file[i];
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "path", f->path);
            mw_json_u64(&j, "size_bytes", f->size_bytes);
            mw_json_u64(&j, "alloc_bytes", f->alloc_bytes);
            mw_json_u64(&j, "uid", f->uid);
            mw_json_str(&j, "owner", mw_users_fmt(&users, f->uid, u, sizeof(u)));
            mw_json_u64(&j, "users", f->users);
            mw_json_bool(&j, "orphan", f->orphan);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        mw_json_object_end(&j);
        mw_json_object_end(&j);
        mw_json_finish(&j);
    } else {
        if (rep.have_sysv) {
            printf("SysV shared memory: %zu segment%s, %s", rep.nseg, rep.nseg == 1 ? "" : "s",
                   mw_fmt_size(s1, sizeof(s1), rep.sysv_bytes));
            if (rep.sysv_orphans)
                printf(" (%zu orphan%s: %s)", rep.sysv_orphans, rep.sysv_orphans == 1 ? "" : "s",
                       mw_fmt_size(s2, sizeof(s2), rep.sysv_orphan_bytes));
            printf("\n");
            if (rep.nseg)
                printf("  %-10s %-10s %10s %10s %10s %6s %-10s %-16s\n", "shmid", "key", "size",
                       "resident", "swapped", "nattch", "owner", "creator");
            for (size_t i = 0; i < rep.nseg; i++) {
                const struct mw_sysv_seg *g = &rep.seg[i];
                char cr[32], r1[32] = "-", r2[32] = "-";
                snprintf(cr, sizeof(cr), "%d%s", g->cpid, g->creator_alive ? "" : " (gone)");
                if (g->have_rss) {
                    mw_fmt_size(r1, sizeof(r1), g->rss_bytes);
                    mw_fmt_size(r2, sizeof(r2), g->swap_bytes);
                }
                printf("  %-10d 0x%08lx %10s %10s %10s %6llu %-10s %-16s%s\n", g->shmid,
                       (unsigned long)g->key & 0xffffffffUL,
                       mw_fmt_size(s1, sizeof(s1), g->size_bytes), r1, r2,
                       (unsigned long long)g->nattch, mw_users_fmt(&users, g->uid, u, sizeof(u)),
                       cr, g->orphan ? " ORPHAN" : "");
            }
            if (rep.bad_lines)
                printf("  (skipped %u line%s that did not parse)\n", rep.bad_lines,
                       rep.bad_lines == 1 ? "" : "s");
        } else {
            printf("SysV shared memory: %s/proc/sysvipc/shm not readable\n", rp);
        }
        if (rep.have_devshm) {
            printf("/dev/shm: %zu file%s, %s", rep.nfile, rep.nfile == 1 ? "" : "s",
                   mw_fmt_size(s1, sizeof(s1), rep.devshm_bytes));
            if (rep.devshm_orphans)
                printf(" (%zu orphan%s: %s, no process has %s open or mapped)", rep.devshm_orphans,
                       rep.devshm_orphans == 1 ? "" : "s",
                       mw_fmt_size(s2, sizeof(s2), rep.devshm_orphan_bytes),
                       rep.devshm_orphans == 1 ? "it" : "them");
            printf("\n");
            for (size_t i = 0; i < rep.nfile; i++) {
                const struct mw_shm_file *f = &rep.file[i];
                printf("  %-40s %10s %-10s users %-3u%s\n", f->path,
                       mw_fmt_size(s1, sizeof(s1), f->alloc_bytes),
                       mw_users_fmt(&users, f->uid, u, sizeof(u)), f->users,
                       f->orphan ? " ORPHAN" : "");
            }
        } else {
            printf("/dev/shm: not present under %s\n", ctx->root.path);
        }
        if (rep.sysv_orphans + rep.devshm_orphans)
            printf("Orphans hold memory until removed: 'memwarden shm --remove-orphans' shows "
                   "what it would remove.\n");
    }
out:
    mw_shm_report_free(&rep);
    mw_users_free(&users);
    free(ids);
    free(paths);
    return ret;
}
