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
#include "base/text.h"
#include "proc/shm.h"
#include "proc/users.h"

static const struct mw_opt shm_opts[] = {
    {"remove-orphans", 'R', 0, NULL, "remove orphans (a dry run without --yes)", NULL},
    {"yes", 'y', MW_OPT_SHORT, NULL, "really remove", NULL},
    {"shmid", 'I', 0, "ID", "only this segment (repeatable)", NULL},
    {"path", 'P', 0, "FILE", "only this /dev/shm file (repeatable)", NULL},
    {"json", 'j', 0, NULL, "machine-readable output (bytes)", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_shm_doc = {
    .head = "NAME\n"
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
            "    It acts through the /dev/shm directory it scanned, never through a\n"
            "    symlink, and only on the very file it looked at (same inode and owner).\n"
            "    A file is an orphan only when every process could be inspected: without\n"
            "    root (or where a process refuses even root), a file with no visible\n"
            "    holder may still be in use, and it is left in place with the reason.\n",
    .opts = shm_opts,
    .exit_ok = "done: no orphans, or all of them removed",
    .exit_fail = "a removal failed, or nothing is readable",
    .exit_found = "orphans found and left in place (the list)",
    .examples = "    memwarden shm\n"
                "    memwarden shm --remove-orphans\n"
                "    memwarden shm --remove-orphans --yes --shmid 32768\n",
};

/* What the command line asked for. */
struct shm_opts {
    bool remove, yes, json;
    int *ids; /* --shmid, repeatable */
    size_t nids;
    const char **paths; /* --path, repeatable (argv strings) */
    size_t npaths;
};

/* Everything shown, gathered once: text, JSON and the removal plan read it. */
struct shm_view {
    struct mw_shm_report rep;
    struct mw_users users;
    const char *rp;        /* root prefix for messages: "" for the live "/" */
    const char *root_path; /* as given */
    char unseen[160];      /* why holders may be hidden ("" when every process was seen) */
};

static void shm_opts_free(struct shm_opts *o)
{
    free(o->ids);
    free(o->paths);
}

/* Parses ARGV into *O. Returns -1 to go on, else the exit code to end with
 * (--help printed, or a usage error reported). */
static int shm_parse_opts(int argc, char **argv, struct shm_opts *o)
{
    unsigned long ul;
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_shm_doc)) != -1) {
        switch (c) {
        case 'R':
            o->remove = true;
            break;
        case 'y':
            o->yes = true;
            break;
        case 'I': {
            if (mw_opt_uint("--shmid", optarg, 0, 0x7fffffff, &ul) < 0)
                return MW_EXIT_USAGE;
            int *p = realloc(o->ids, (o->nids + 1) * sizeof(*p));
            if (!p)
                return MW_EXIT_USAGE;
            o->ids = p;
            o->ids[o->nids++] = (int)ul;
            break;
        }
        case 'P': {
            const char **p = realloc(o->paths, (o->npaths + 1) * sizeof(*p));
            if (!p)
                return MW_EXIT_USAGE;
            o->paths = p;
            o->paths[o->npaths++] = optarg;
            break;
        }
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_shm_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("shm", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("shm", "unexpected argument '%s'", argv[optind]);
    if ((o->yes || o->nids || o->npaths) && !o->remove)
        return mw_usage_error("shm", "--yes, --shmid and --path go with --remove-orphans");
    return -1;
}

/* Scans the root into *V. Returns -1 to go on, else the exit code. */
static int shm_gather(const struct mw_root *root, struct shm_view *v)
{
    v->root_path = root->path;
    v->rp = strcmp(root->path, "/") ? root->path : "";
    if (mw_shm_scan(root, &v->rep) < 0)
        return MW_EXIT_FAIL;
    if (!v->rep.have_sysv && !v->rep.have_devshm) {
        mw_err("shm: neither %s/proc/sysvipc/shm nor %s/dev/shm is readable", v->rp, v->rp);
        return MW_EXIT_FAIL;
    }
    mw_users_read(root, &v->users);
    unsigned n = v->rep.unreadable_procs;
    if (n && v->rep.unreadable_pid)
        snprintf(v->unseen, sizeof(v->unseen),
                 "%u process%s could not be inspected (pid %d%s: reading another process's fds "
                 "and maps needs root, or ptrace access)",
                 n, n == 1 ? "" : "es", v->rep.unreadable_pid, n == 1 ? "" : " first");
    else if (n)
        snprintf(v->unseen, sizeof(v->unseen), "the process list could not be read");
    return -1;
}

static void shm_view_free(struct shm_view *v)
{
    mw_shm_report_free(&v->rep);
    mw_users_free(&v->users);
}

/* ---- text: names from other people, cleaned (base/text.h) ---- */

/* S cleaned for a terminal into BUF (CAP bytes): control characters,
 * escapes and invalid UTF-8 become '?'. Returns BUF. */
static const char *clean(char *buf, size_t cap, const char *s)
{
    mw_text_clean(buf, cap, s, strlen(s));
    return buf;
}

/* The owner of UID by name (or number), cleaned. */
static const char *owner_txt(const struct shm_view *v, uid_t uid, char *buf, size_t cap)
{
    char raw[64];
    return clean(buf, cap, mw_users_fmt(&v->users, uid, raw, sizeof(raw)));
}

/* ---- removal ---- */

static bool wanted_id(int id, const struct shm_opts *o)
{
    if (!o->nids)
        return true;
    for (size_t i = 0; i < o->nids; i++)
        if (o->ids[i] == id)
            return true;
    return false;
}

static bool wanted_path(const char *p, const struct shm_opts *o)
{
    if (!o->npaths)
        return true;
    for (size_t i = 0; i < o->npaths; i++)
        if (strcmp(o->paths[i], p) == 0)
            return true;
    return false;
}

struct shm_tally {
    unsigned done, failed, left; /* left: in place (a dry run's too, and files kept) */
    unsigned would;              /* a dry run: what --yes would remove */
};

static void remove_segments(const struct shm_view *v, const struct shm_opts *o, struct shm_tally *t)
{
    char u[64], s1[32];
    for (size_t i = 0; i < v->rep.nseg; i++) {
        const struct mw_sysv_seg *g = &v->rep.seg[i];
        if (!g->orphan || !wanted_id(g->shmid, o) || (o->npaths && !o->nids))
            continue;
        if (!o->yes) {
            printf("would remove SysV segment shmid %d (key 0x%08lx, size %s, owner %s, "
                   "creator %d gone)\n",
                   g->shmid, (unsigned long)g->key & 0xffffffffUL,
                   mw_fmt_size(s1, sizeof(s1), g->size_bytes), owner_txt(v, g->uid, u, sizeof(u)),
                   g->cpid);
            t->left++;
            t->would++;
            continue;
        }
        int r = mw_shm_remove_sysv(g->shmid);
        if (r == 0) {
            printf("removed SysV segment shmid %d (size %s)\n", g->shmid,
                   mw_fmt_size(s1, sizeof(s1), g->size_bytes));
            t->done++;
        } else {
            mw_err("shm: shmid %d: %s", g->shmid, mw_strerror(-r));
            t->failed++;
        }
    }
}

/* A file with no visible holder while some processes could not be
 * inspected: "can't see a holder" is not "no holder", so it stays. */
static void keep_unknown(const struct shm_view *v, const struct mw_shm_file *f, struct shm_tally *t)
{
    char cp[MW_SHM_PATH_CAP];
    printf("left %s in place: %s, so it may be in use\n", clean(cp, sizeof(cp), f->path),
           v->unseen);
    t->left++;
}

static void remove_files(const struct shm_view *v, const struct shm_opts *o, struct shm_tally *t)
{
    char u[64], s1[32], cp[MW_SHM_PATH_CAP];
    for (size_t i = 0; i < v->rep.nfile; i++) {
        const struct mw_shm_file *f = &v->rep.file[i];
        if (!wanted_path(f->path, o) || (o->nids && !o->npaths))
            continue;
        if (!f->orphan && f->users == 0 && !f->holders_known) {
            keep_unknown(v, f, t);
            continue;
        }
        if (!f->orphan)
            continue;
        if (!o->yes) {
            printf("would remove %s (%s allocated, owner %s, no process has it open or mapped)\n",
                   clean(cp, sizeof(cp), f->path), mw_fmt_size(s1, sizeof(s1), f->alloc_bytes),
                   owner_txt(v, f->uid, u, sizeof(u)));
            t->left++;
            t->would++;
            continue;
        }
        int r = mw_shm_remove_file(&v->rep, f);
        if (r == 0) {
            printf("removed %s (%s allocated)\n", clean(cp, sizeof(cp), f->path),
                   mw_fmt_size(s1, sizeof(s1), f->alloc_bytes));
            t->done++;
        } else if (r == -ESTALE || r == -ELOOP || r == -ENOTDIR) {
            mw_err("shm: %s: changed since the scan (not the file or directory looked at), "
                   "left in place",
                   clean(cp, sizeof(cp), f->path));
            t->left++;
        } else {
            mw_err("shm: %s: %s", clean(cp, sizeof(cp), f->path), mw_strerror(-r));
            t->failed++;
        }
    }
}

/* Removes (or with no --yes, lists) the orphans asked for; the exit code. */
static int shm_remove(const struct shm_view *v, const struct shm_opts *o)
{
    struct shm_tally t = {0};
    remove_segments(v, o, &t);
    remove_files(v, o, &t);
    /* the count is what --yes removes: a file kept in place is no orphan */
    if (!o->yes && t.would)
        printf("%u orphan%s; run again with --yes to remove %s\n", t.would, t.would == 1 ? "" : "s",
               t.would == 1 ? "it" : "them");
    else if (!o->yes || (!t.done && !t.failed))
        printf("no orphans to remove\n");
    return t.failed ? MW_EXIT_FAIL : t.left ? MW_EXIT_FOUND : MW_EXIT_OK;
}

/* ---- render ---- */

static void json_segment(struct mw_json *j, const struct shm_view *v, const struct mw_sysv_seg *g)
{
    char u[64];
    mw_json_object_begin(j, NULL);
    mw_json_i64(j, "shmid", g->shmid);
    mw_json_i64(j, "key", g->key);
    mw_json_u64(j, "size_bytes", g->size_bytes);
    if (g->have_rss) {
        mw_json_u64(j, "rss_bytes", g->rss_bytes);
        mw_json_u64(j, "swap_bytes", g->swap_bytes);
    }
    mw_json_u64(j, "nattch", g->nattch);
    mw_json_u64(j, "uid", g->uid);
    mw_json_str(j, "owner", mw_users_fmt(&v->users, g->uid, u, sizeof(u)));
    mw_json_i64(j, "creator_pid", g->cpid);
    mw_json_bool(j, "creator_alive", g->creator_alive);
    mw_json_i64(j, "last_pid", g->lpid);
    mw_json_bool(j, "orphan", g->orphan);
    mw_json_object_end(j);
}

static void json_file(struct mw_json *j, const struct shm_view *v, const struct mw_shm_file *f)
{
    char u[64];
    mw_json_object_begin(j, NULL);
    mw_json_str(j, "path", f->path);
    mw_json_u64(j, "size_bytes", f->size_bytes);
    mw_json_u64(j, "alloc_bytes", f->alloc_bytes);
    mw_json_u64(j, "uid", f->uid);
    mw_json_str(j, "owner", mw_users_fmt(&v->users, f->uid, u, sizeof(u)));
    mw_json_u64(j, "users", f->users);
    mw_json_bool(j, "holders_known", f->holders_known);
    mw_json_bool(j, "orphan", f->orphan);
    mw_json_object_end(j);
}

static void print_json(const struct shm_view *v)
{
    const struct mw_shm_report *rep = &v->rep;
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_object_begin(&j, "sysv");
    mw_json_bool(&j, "readable", rep->have_sysv);
    mw_json_u64(&j, "bytes", rep->sysv_bytes);
    mw_json_u64(&j, "orphans", rep->sysv_orphans);
    mw_json_u64(&j, "orphan_bytes", rep->sysv_orphan_bytes);
    mw_json_u64(&j, "size_bytes", rep->sysv_size_bytes);
    if (rep->sysv_rss_known) {
        mw_json_u64(&j, "rss_bytes", rep->sysv_rss_bytes);
        mw_json_u64(&j, "swap_bytes", rep->sysv_swap_bytes);
    }
    mw_json_u64(&j, "orphan_size_bytes", rep->sysv_orphan_size_bytes);
    if (rep->sysv_rss_known) {
        mw_json_u64(&j, "orphan_rss_bytes", rep->sysv_orphan_rss_bytes);
        mw_json_u64(&j, "orphan_swap_bytes", rep->sysv_orphan_swap_bytes);
    }
    mw_json_u64(&j, "skipped_lines", rep->bad_lines);
    mw_json_array_begin(&j, "segments");
    for (size_t i = 0; i < rep->nseg; i++)
        json_segment(&j, v, &rep->seg[i]);
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_object_begin(&j, "dev_shm");
    mw_json_bool(&j, "readable", rep->have_devshm);
    mw_json_u64(&j, "bytes", rep->devshm_bytes);
    mw_json_u64(&j, "orphans", rep->devshm_orphans);
    mw_json_u64(&j, "orphan_bytes", rep->devshm_orphan_bytes);
    mw_json_u64(&j, "unreadable_processes", rep->unreadable_procs);
    mw_json_u64(&j, "unknown_holders", rep->devshm_unknown);
    mw_json_u64(&j, "skipped_names", rep->skipped_names);
    mw_json_array_begin(&j, "files");
    for (size_t i = 0; i < rep->nfile; i++)
        json_file(&j, v, &rep->file[i]);
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* " size A, resident B, swapped C" (or only the size on kernels before 4.5). */
static void print_sizes(uint64_t size, uint64_t rss, uint64_t swap, bool rss_known)
{
    char a[32], b[32], c[32];
    printf("size %s", mw_fmt_size(a, sizeof(a), size));
    if (rss_known)
        printf(", resident %s, swapped %s", mw_fmt_size(b, sizeof(b), rss),
               mw_fmt_size(c, sizeof(c), swap));
    else
        printf(" (this kernel reports no resident and swapped figures)");
    printf("\n");
}

static void print_text_sysv(const struct shm_view *v)
{
    const struct mw_shm_report *rep = &v->rep;
    char u[64], s1[32];
    if (!rep->have_sysv) {
        printf("SysV shared memory: %s/proc/sysvipc/shm not readable\n", v->rp);
        return;
    }
    printf("SysV shared memory: %zu segment%s, ", rep->nseg, rep->nseg == 1 ? "" : "s");
    print_sizes(rep->sysv_size_bytes, rep->sysv_rss_bytes, rep->sysv_swap_bytes,
                rep->sysv_rss_known);
    if (rep->sysv_orphans) {
        printf("  orphans: %zu segment%s, ", rep->sysv_orphans, rep->sysv_orphans == 1 ? "" : "s");
        print_sizes(rep->sysv_orphan_size_bytes, rep->sysv_orphan_rss_bytes,
                    rep->sysv_orphan_swap_bytes, rep->sysv_rss_known);
    }
    if (rep->nseg)
        printf("  %-10s %-10s %10s %10s %10s %6s %-10s %-16s\n", "shmid", "key", "size", "resident",
               "swapped", "nattch", "owner", "creator");
    for (size_t i = 0; i < rep->nseg; i++) {
        const struct mw_sysv_seg *g = &rep->seg[i];
        char cr[32], r1[32] = "-", r2[32] = "-";
        snprintf(cr, sizeof(cr), "%d%s", g->cpid, g->creator_alive ? "" : " (gone)");
        if (g->have_rss) {
            mw_fmt_size(r1, sizeof(r1), g->rss_bytes);
            mw_fmt_size(r2, sizeof(r2), g->swap_bytes);
        }
        printf("  %-10d 0x%08lx %10s %10s %10s %6llu ", g->shmid,
               (unsigned long)g->key & 0xffffffffUL, mw_fmt_size(s1, sizeof(s1), g->size_bytes), r1,
               r2, (unsigned long long)g->nattch);
        mw_text_put_cell(stdout, mw_users_fmt(&v->users, g->uid, u, sizeof(u)), 10, false);
        printf(" %-16s%s\n", cr, g->orphan ? " ORPHAN" : "");
    }
    if (rep->bad_lines)
        printf("  (skipped %u line%s that did not parse)\n", rep->bad_lines,
               rep->bad_lines == 1 ? "" : "s");
}

static void print_text_devshm(const struct shm_view *v)
{
    const struct mw_shm_report *rep = &v->rep;
    char u[64], s1[32];
    if (!rep->have_devshm) {
        printf("/dev/shm: not present under %s\n", v->root_path);
        return;
    }
    printf("/dev/shm: %zu file%s, %s allocated\n", rep->nfile, rep->nfile == 1 ? "" : "s",
           mw_fmt_size(s1, sizeof(s1), rep->devshm_bytes));
    if (rep->devshm_orphans)
        printf("  orphans: %zu file%s, %s allocated (no process has %s open or mapped)\n",
               rep->devshm_orphans, rep->devshm_orphans == 1 ? "" : "s",
               mw_fmt_size(s1, sizeof(s1), rep->devshm_orphan_bytes),
               rep->devshm_orphans == 1 ? "it" : "them");
    if (rep->devshm_unknown)
        printf("  unknown: %zu file%s with no visible holder may be in use: %s\n",
               rep->devshm_unknown, rep->devshm_unknown == 1 ? "" : "s", v->unseen);
    if (rep->skipped_names)
        printf("  (skipped %u name%s too long to hold)\n", rep->skipped_names,
               rep->skipped_names == 1 ? "" : "s");
    if (rep->nfile)
        printf("  %-40s %10s %-10s %s\n", "file", "allocated", "owner", "users");
    for (size_t i = 0; i < rep->nfile; i++) {
        const struct mw_shm_file *f = &rep->file[i];
        printf("  ");
        mw_text_put_cell(stdout, f->path, 40, false);
        printf(" %10s ", mw_fmt_size(s1, sizeof(s1), f->alloc_bytes));
        mw_text_put_cell(stdout, mw_users_fmt(&v->users, f->uid, u, sizeof(u)), 10, false);
        if (f->users == 0 && !f->holders_known)
            printf(" ?    \n");
        else
            printf(" %-5u%s\n", f->users, f->orphan ? " ORPHAN" : "");
    }
}

static void print_text(const struct shm_view *v)
{
    print_text_sysv(v);
    print_text_devshm(v);
    if (v->rep.sysv_orphans + v->rep.devshm_orphans)
        printf("Orphans hold memory until removed: 'memwarden shm --remove-orphans' shows "
               "what it would remove.\n");
}

int cli_shm(struct mw_ctx *ctx, int argc, char **argv)
{
    struct shm_opts o = {0};
    struct shm_view v;
    memset(&v, 0, sizeof(v));
    int ret = shm_parse_opts(argc, argv, &o);
    if (ret >= 0)
        goto out;
    if (o.remove && o.yes && !mw_root_is_live(&ctx->root)) {
        mw_err("shm: --remove-orphans acts on the live system only, not on --root %s",
               ctx->root.path);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    ret = shm_gather(&ctx->root, &v);
    if (ret >= 0)
        goto out;
    if (o.remove) {
        ret = shm_remove(&v, &o);
    } else {
        if (o.json)
            print_json(&v);
        else
            print_text(&v);
        ret = MW_EXIT_OK;
    }
out:
    shm_view_free(&v);
    shm_opts_free(&o);
    return ret;
}
