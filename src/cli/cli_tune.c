/* memwarden tune: the plan of a profile (each sysctl and the zram swap,
 * old -> new), applied with a backup written first, rolled back on a
 * partial failure, reverted byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "analysis/tunebackup.h"
#include "analysis/tuneplan.h"
#include "base/safeopen.h"
#include "base/text.h"
#include "cli/cli.h"
#include "proc/knobs.h"

#define DEFAULT_BACKUP "/var/lib/memwarden/tune-backup.json"
#define MAX_SETS       16

static const struct mw_opt tune_opts[] = {
    {"profile", 'p', 0, "NAME", "small, embedded-4g, desktop or server",
     "small embedded-4g desktop server"},
    {"set", 's', 0, "KEY=VALUE",
     "override one item: vm.NAME=N (a /proc/sys/vm file doctor\n"
     "reads), zram.size=SIZE, zram.algo=NAME, zram.priority=N,\n"
     "zram=off (no zram); repeatable",
     NULL},
    {"apply", 'a', 0, NULL, "write the plan (root only)", NULL},
    {"revert", 'r', 0, NULL, "restore what the backup holds", NULL},
    {"backup", 'b', 0, "FILE", "the backup (default ROOT" DEFAULT_BACKUP ")", NULL},
    {"persist", 'P', 0, NULL,
     "also print the boot-time files: /etc/sysctl.d/90-memwarden.conf\n"
     "and /etc/systemd/zram-generator.conf (systemd) or\n"
     "/etc/init.d/S05memwarden (BusyBox); with --apply, write them\n"
     "(backed up and reverted like the rest)",
     NULL},
    {"json", 'j', 0, NULL,
     "the plan as one JSON object (with --persist, the files'\n"
     "texts too); not with --apply or --revert",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_tune_doc = {
    .head =
        "NAME\n"
        "    memwarden tune - apply (and undo) the memory settings doctor recommends\n"
        "\n"
        "SYNOPSIS\n"
        "    memwarden [--root DIR] tune [--profile NAME] [--set KEY=VALUE]... [--persist]\n"
        "                                [--apply | --revert] [--backup FILE] [--json]\n"
        "\n"
        "DESCRIPTION\n"
        "    Prints the plan: each sysctl and the zram swap device to set up, old -> new.\n"
        "    Nothing is written without --apply. --apply first writes a backup of every\n"
        "    value it will change (JSON, mode 0600; refused while an earlier backup is\n"
        "    not reverted), then writes the values in order, logging each; if one write\n"
        "    fails, the ones done are restored and the backup removed. --revert restores\n"
        "    what the backup holds, byte for byte, tears down a zram device the apply\n"
        "    created (swapoff, reset, zram-control/hot_remove) and renames the backup\n"
        "    to FILE.reverted. Every path is under --root, so a copy of a captured\n"
        "    tree can be tuned and reverted as a test (swapon/mkswap only run on the\n"
        "    live root); no write follows a symbolic link in any component.\n"
        "    --revert trusts a backup only when it is a regular file of root's or\n"
        "    yours that nobody else can write, in a directory of the same kind, and\n"
        "    names only files tune writes, with values they can hold; --apply\n"
        "    refuses a backup directory others can write.\n"
        "\n"
        "PROFILES (default: chosen by RAM size; sources in 'memwarden doctor --help')\n"
        "    profile      RAM          swappiness page-cluster wsf  boost dirty  zram\n"
        "    small        <= 1 GiB     180        0            125  0     10/5   50% lz4 prio 100\n"
        "    embedded-4g  1 .. 4 GiB   100        0            125  0     15/5   50% <= 1 GiB lz4 "
        "prio 10\n"
        "    desktop      > 4 GiB      180        0            125  0     kernel 50% <= 4 GiB zstd "
        "prio 100\n"
        "    server       by name only 10         kernel       kernel     40/10  none\n"
        "    All set min_free_kbytes to 4*sqrt(RAM kB) when it is below 3/4 of that\n"
        "    or above 5% of RAM (doctor's rule);\n"
        "    small sets THP to madvise when it is 'always'. swappiness above 100 is\n"
        "    only set when the swap is (or will be) zram; page-cluster only with zram.\n"
        "    A zram swap already active is kept. The algorithm falls back to the\n"
        "    kernel's own when it lacks the profile's.\n",
    .opts = tune_opts,
    .exit_ok = "planned, applied or reverted",
    .exit_fail = "a write failed (rolled back), no backup to revert, a backup in\n"
                 "the way, or one not trusted",
};

struct tune_opts {
    bool have_profile, apply, revert, persist, json;
    enum mw_profile profile;
    char *sets[MAX_SETS];
    int nsets;
    bool zram_off;
    const char *backup; /* NULL: ROOT + DEFAULT_BACKUP */
};

static int tune_options(int argc, char **argv, struct tune_opts *o)
{
    int c;
    while ((c = mw_getopt(argc, argv, &cli_tune_doc)) != -1) {
        switch (c) {
        case 'p':
            if (mw_profile_parse(optarg, &o->profile) < 0)
                return mw_usage_error("tune",
                                      "--profile: '%s' is not one of small embedded-4g "
                                      "desktop server",
                                      optarg);
            o->have_profile = true;
            break;
        case 's':
            if (strcmp(optarg, "zram=off") == 0) {
                o->zram_off = true;
                break;
            }
            if (o->nsets >= MAX_SETS)
                return mw_usage_error("tune", "at most %d --set", MAX_SETS);
            o->sets[o->nsets++] = optarg;
            break;
        case 'a':
            o->apply = true;
            break;
        case 'r':
            o->revert = true;
            break;
        case 'b':
            o->backup = optarg;
            break;
        case 'P':
            o->persist = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_tune_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("tune", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    if (o->apply && o->revert)
        return mw_usage_error("tune", "--apply and --revert exclude each other");
    if (o->json && (o->apply || o->revert))
        return mw_usage_error("tune", "--json shows the plan: not with --apply or --revert");
    return -1;
}

/* Where the backup lives: its directory (opened, checked) and its name
 * in it. In a --root tree the default is beneath the root (no link
 * followed on the way: the tree may be anyone's); on the live root, and
 * for --backup FILE, the path is opened as given (root's own links, such
 * as a /var that points to a data partition on a board, are followed),
 * and the directory it leads to must be trusted either way. */
struct bk_where {
    int dirfd;        /* the directory, O_PATH; -1 until bk_dir_open */
    const char *name; /* the file's name in it */
    char path[512];   /* for messages: FILE, or ROOT's default */
    bool beneath;     /* the default: REL beneath the root */
    char rel[512];    /* beneath: relative to the root; else as given */
};

static void backup_where(const struct mw_ctx *ctx, const struct tune_opts *o, struct bk_where *w)
{
    bool live = mw_root_is_live(&ctx->root);
    memset(w, 0, sizeof(*w));
    w->dirfd = -1;
    w->beneath = !o->backup && !live;
    snprintf(w->rel, sizeof(w->rel), "%s",
             o->backup    ? o->backup
             : w->beneath ? mw_rel(DEFAULT_BACKUP)
                          : DEFAULT_BACKUP);
    snprintf(w->path, sizeof(w->path), "%s%s", o->backup || live ? "" : ctx->root.path,
             o->backup ? o->backup : DEFAULT_BACKUP);
}

/* mkdir -p of PATH's parent (0700 for the ones it makes), the caller's
 * own path: --backup FILE. */
static void make_parents(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(tmp, 0700);
        *p = '/';
    }
}

/* Why ST (of WHAT: "the backup", "its directory") is not trusted, from
 * mw_stat_trusted's RC, into WHY. */
static void untrusted(char *why, size_t cap, const char *what, const struct stat *st, int rc)
{
    if (rc == -EPERM)
        snprintf(why, cap, "%s is owned by uid %u, not by root or you", what, (unsigned)st->st_uid);
    else
        snprintf(why, cap, "%s is writable by %s (mode %04o)", what,
                 st->st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st->st_mode & 07777));
}

/* Opens W's directory (made first when CREATE) and checks it: owned by
 * root or the caller, writable by nobody else — else anyone could have
 * put a "backup" there. Returns 0, or -errno with WHY said. */
static int bk_dir_open(const struct mw_root *root, struct bk_where *w, bool create, char *why,
                       size_t cap)
{
    int fd, rc;
    struct stat st;
    if (w->beneath) {
        if (create)
            mw_beneath_mkdirs(root->fd, w->rel, 0700);
        fd = mw_beneath_parent(root->fd, w->rel, &w->name);
    } else {
        if (create)
            make_parents(w->rel);
        const char *slash = strrchr(w->rel, '/');
        char dir[512];
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - w->rel) + (slash == w->rel) : 1,
                 slash ? w->rel : ".");
        w->name = slash ? slash + 1 : w->rel;
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = fd < 0 ? -errno : fd;
    }
    if (fd < 0) {
        snprintf(why, cap, "its directory: %s", mw_strerror(-fd));
        return fd;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        snprintf(why, cap, "its directory: %s", mw_strerror(-rc));
    } else if ((rc = mw_stat_trusted(&st)) < 0) {
        untrusted(why, cap, "its directory", &st, rc);
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    w->dirfd = fd;
    return 0;
}

/* Reads the backup W into B after checking the file (a regular file,
 * opened without following a link, owned by root or the caller and
 * writable by nobody else; W's directory was checked by bk_dir_open) and
 * every part of its content (analysis/tunebackup.h). Returns 0, or
 * -errno with WHY said: -ENOENT none, -EPERM/-EACCES not trusted,
 * -EINVAL content refused. */
static int backup_read(const struct bk_where *w, struct mw_tune_backup *b, char *why, size_t cap)
{
    struct stat st;
    int fd = mw_open_regular_at(w->dirfd, w->name, O_NOFOLLOW);
    if (fd < 0) {
        snprintf(why, cap, "%s", fd == -ELOOP ? "it is a symbolic link" : mw_strerror(-fd));
        return fd;
    }
    int rc = fstat(fd, &st) < 0 ? -errno : mw_stat_trusted(&st);
    if (rc < 0) {
        untrusted(why, cap, "the file", &st, rc);
        close(fd);
        return rc;
    }
    char *buf = NULL;
    size_t bcap = 0;
    bool cut;
    long n = mw_read_fd(fd, &buf, &bcap, 1 << 20, false, &cut);
    close(fd);
    if (n < 0 || cut)
        rc = n < 0 ? (int)n : -EFBIG;
    if (rc < 0)
        snprintf(why, cap, "%s", mw_strerror(-rc));
    else
        rc = mw_tune_backup_parse_buf(buf, (size_t)n, b, why, cap);
    free(buf);
    return rc;
}

/* Writes B to W (a new file beside it, renamed into place), mode 0600. */
static int backup_write(const struct bk_where *w, const struct mw_tune_backup *b)
{
    struct mw_out o;
    int rc = mw_out_begin(w->dirfd, w->name, 0600, &o);
    if (rc < 0)
        return rc;
    mw_tune_backup_format(o.f, b);
    return mw_out_commit(&o);
}

/* Creates or replaces PATH under ROOT with DATA (MODE), parents made;
 * nothing on the way followed through a link. */
static int write_created(const struct mw_root *root, const char *path, const char *data,
                         mode_t mode)
{
    int rc = mw_beneath_mkdirs(root->fd, path, 0700);
    if (rc < 0)
        return rc;
    int fd = mw_beneath_open(root->fd, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return fd;
    size_t len = strlen(data);
    rc = write(fd, data, len) == (ssize_t)len ? 0 : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* Puts ITEM's old content back. A "[selected] other" file gets its
 * selection written; a zram disksize of 0 on the live system is left to
 * the reset; a file the apply created is removed. */
static int restore_item(const struct mw_root *root, const struct mw_tune_bk_item *it,
                        bool persist_file)
{
    if (it->absent) {
        int rc = mw_beneath_unlink(root->fd, it->path, 0);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        char dir[128];
        snprintf(dir, sizeof(dir), "%s", it->path);
        for (int i = 0; i < it->new_dirs; i++) { /* the directories the apply made */
            char *slash = strrchr(dir, '/');
            if (!slash)
                break;
            *slash = '\0';
            mw_beneath_unlink(root->fd, dir, AT_REMOVEDIR);
        }
        return 0;
    }
    if (persist_file)
        return write_created(root, it->path, it->raw, 0644);
    char sel[64];
    bool live = mw_root_is_live(root); /* a captured tree gets its bytes back as they were */
    if (live && strchr(it->raw, '[') && mw_zram_algorithm_parse_buf(sel, sizeof(sel), it->raw) == 0)
        return mw_knob_write_str(root, it->path, sel);
    size_t l = strlen(it->path);
    if (live && l > 9 && strcmp(it->path + l - 9, "/disksize") == 0 && strcmp(it->raw, "0\n") == 0)
        return 0;
    return mw_knob_write_str(root, it->path, it->raw);
}

static bool is_persist_path(const char *path)
{
    int arg;
    return mw_tune_path_kind(path, &arg) == MW_TP_PERSIST;
}

static bool under_zram_dev(const char *path, int n)
{
    int arg = -1;
    enum mw_tune_path_kind k = mw_tune_path_kind(path, &arg);
    return (k == MW_TP_ZRAM_ALGO || k == MW_TP_ZRAM_SIZE) && arg == n;
}

/* Whether zramN is still the device B's apply set up: its disksize is
 * the one the apply wrote (when the backup recorded it). A device reset
 * and set up again since (by zram-generator at the next boot, by hand)
 * is someone else's: a revert leaves it alone. */
static bool zram_still_ours(const struct mw_root *root, const struct mw_tune_backup *b)
{
    char path[64];
    uint64_t size;
    if (!b->zsize)
        return true;
    snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", b->zdev);
    if (mw_read_u64(root, path, &size) == 0 && size == b->zsize)
        return true;
    mw_err("zram%d: its disksize is not the %" PRIu64 " bytes this backup's apply set: "
           "another device now, left alone (no swapoff, reset or hot_remove)",
           b->zdev, b->zsize);
    return false;
}

/* Undoes B: its first UPTO items (all on revert), and its zram device
 * when ZRAM_DONE (the apply touched it; on revert: it is still ours).
 * Returns the number of restores that failed (each said on stderr). */
static int undo(const struct mw_root *root, const struct mw_tune_backup *b, int upto,
                bool zram_done)
{
    int failed = 0, rc;
    bool live = mw_root_is_live(root);
    char path[64];
    bool zram = b->zram && zram_done;
    if (zram) {
        if (live && b->swapon && (rc = mw_swapoff_zram(b->zdev)) < 0 && rc != -EINVAL) {
            mw_err("swapoff /dev/zram%d: %s", b->zdev, mw_strerror(-rc));
            failed++;
        }
        snprintf(path, sizeof(path), "/sys/block/zram%d/reset", b->zdev);
        if (live && (rc = mw_knob_write_str(root, path, "1")) < 0) {
            mw_err("reset zram%d: %s", b->zdev, mw_strerror(-rc));
            failed++;
        }
    }
    for (int i = upto - 1; i >= 0; i--) {
        const struct mw_tune_bk_item *it = &b->it[i];
        if (b->zram && under_zram_dev(it->path, b->zdev) && (!zram || b->hot_add))
            continue; /* the device goes away below, or is not ours any more */
        if ((rc = restore_item(root, it, is_persist_path(it->path))) < 0) {
            mw_err("restore /%s: %s", it->path, mw_strerror(-rc));
            failed++;
        } else {
            printf("restored /%s\n", it->path);
        }
    }
    if (zram && b->hot_add && (rc = mw_zram_hot_remove(root, b->zdev)) < 0) {
        mw_err("zram-control/hot_remove %d: %s", b->zdev, mw_strerror(-rc));
        failed++;
    }
    return failed;
}

/* Reads PATH's current content into a new backup item. */
static int backup_add(const struct mw_root *root, struct mw_tune_backup *b, const char *path,
                      bool may_miss)
{
    if (b->n >= MW_TUNE_BK_MAX)
        return -ENOSPC;
    struct mw_tune_bk_item *it = &b->it[b->n];
    memset(it, 0, sizeof(*it));
    snprintf(it->path, sizeof(it->path), "%s", mw_rel(path));
    char *buf;
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc == -ENOENT && may_miss) {
        it->absent = true;
        char dir[128];
        struct stat st;
        snprintf(dir, sizeof(dir), "%s", it->path);
        for (char *slash; (slash = strrchr(dir, '/')) != NULL; it->new_dirs++) {
            *slash = '\0';
            if (fstatat(root->fd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0)
                break;
        }
    } else if (rc < 0) {
        return rc;
    } else {
        int n = snprintf(it->raw, sizeof(it->raw), "%s", buf);
        free(buf);
        if (n >= (int)sizeof(it->raw))
            return -EFBIG;
    }
    b->n++;
    return 0;
}

/* ---- persistence ------------------------------------------------------ */

#define PERSIST_SYSCTL  MW_TUNE_PERSIST_SYSCTL
#define PERSIST_ZRAMGEN MW_TUNE_PERSIST_ZRAMGEN
#define PERSIST_INIT    MW_TUNE_PERSIST_INIT

static bool is_systemd(const struct mw_root *root)
{
    struct stat st;
    return fstatat(root->fd, "run/systemd/system", &st, 0) == 0 ||
           fstatat(root->fd, "lib/systemd/systemd", &st, 0) == 0 ||
           fstatat(root->fd, "usr/lib/systemd/systemd", &st, 0) == 0;
}

/* The boot-time files for PLAN: (path, content) pairs into PATHS/TEXTS
 * (caller frees the texts). Returns how many (0..2). */
static int persist_files(const struct mw_root *root, const struct mw_tune_plan *p,
                         const char *paths[2], char *texts[2])
{
    const struct mw_tune_zram *z = &p->zram;
    bool systemd = is_systemd(root);
    char *buf = NULL;
    size_t len = 0;
    int n = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return 0;
    if (systemd) {
        fprintf(f, "# written by memwarden tune (profile %s); memwarden tune --revert removes it\n",
                mw_profile_get(p->profile)->name);
        for (int i = 0; i < p->n; i++)
            if (strncmp(p->it[i].key, "vm.", 3) == 0)
                fprintf(f, "%s = %s\n", p->it[i].key, p->it[i].new_val);
        fclose(f);
        paths[n] = PERSIST_SYSCTL;
        texts[n++] = buf;
        if (!z->wanted)
            return n;
        buf = NULL;
        if (!(f = open_memstream(&buf, &len)))
            return n;
        fprintf(f,
                "# written by memwarden tune (zram-generator.conf(5))\n[zram%d]\n"
                "zram-size = %" PRIu64 "\ncompression-algorithm = %s\nswap-priority = %d\n",
                z->device, z->size >> 20, z->algo, z->priority);
        fclose(f);
        paths[n] = PERSIST_ZRAMGEN;
        texts[n++] = buf;
        return n;
    }
    fprintf(f, "#!/bin/sh\n# written by memwarden tune (profile %s): memory settings at boot\n",
            mw_profile_get(p->profile)->name);
    for (int i = 0; i < p->n; i++)
        fprintf(f, "echo %s > /%s\n", p->it[i].new_val, p->it[i].path);
    if (z->wanted)
        fprintf(f,
                "z=/sys/block/zram%d\nmodprobe zram 2>/dev/null\n"
                "[ -e $z ] || cat /sys/class/zram-control/hot_add >/dev/null\n"
                "echo %s > $z/comp_algorithm\necho %" PRIu64 " > $z/disksize\n"
                "mkswap /dev/zram%d >/dev/null && swapon -p %d /dev/zram%d\n",
                z->device, z->algo, z->size, z->device, z->priority, z->device);
    fclose(f);
    paths[n] = PERSIST_INIT;
    texts[n++] = buf;
    return n;
}

/* ---- plan ------------------------------------------------------------- */

static int tune_plan(struct mw_ctx *ctx, const struct tune_opts *o, struct mw_tune_plan *plan)
{
    const struct mw_root *root = &ctx->root;
    struct mw_doc_in *in = calloc(1, sizeof(*in));
    if (!in)
        return MW_EXIT_FAIL;
    int rc = mw_doctor_gather(root, &(const struct mw_doc_sources){0}, in);
    if (rc < 0) {
        mw_err("cannot read %s/proc/meminfo: %s", root->path ? root->path : "", mw_strerror(-rc));
        free(in);
        return MW_EXIT_FAIL;
    }
    struct mw_tune_env env = {.zram_off = o->zram_off, .algos = ""};
    struct stat st;
    env.have_hot_add = fstatat(root->fd, "sys/class/zram-control/hot_add", &st, 0) == 0;
    uint64_t db = 0;
    env.dirty_bytes_set = mw_read_u64(root, "/proc/sys/vm/dirty_bytes", &db) == 0 && db != 0;
    char *algos = NULL, path[64];
    for (int i = 0; i < in->zram.count && !algos; i++)
        if (in->zram.dev[i].disksize == 0) {
            snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", in->zram.dev[i].index);
            if (mw_read_file(root, path, &algos, NULL) == 0)
                env.algos = algos;
        }
    enum mw_profile prof =
        o->have_profile ? o->profile : mw_profile_for_ram(in->mi.kb[MI_MEM_TOTAL]);
    const char *bad = NULL;
    rc = mw_tune_plan_build(in, &env, prof, o->sets, o->nsets, plan, &bad);
    free(algos);
    free(in);
    char shown[160]; /* the value as typed may hold a newline or an escape */
    if (rc < 0)
        mw_text_clean(shown, sizeof(shown), bad, strlen(bad));
    if (rc == -ERANGE)
        return mw_usage_error("tune",
                              "--set %s: out of range (vm.* as the kernel takes them, e.g. "
                              "swappiness 0..200, dirty_ratio 0..100; zram.size 1M..1P; "
                              "zram.priority -1..32767)",
                              shown);
    if (rc == -EINVAL)
        return mw_usage_error("tune",
                              "--set %s: not KEY=VALUE with a plain value (vm.*: digits only; "
                              "zram.algo: [a-z0-9_-]; zram.size: 512M, 1G)",
                              shown);
    if (rc < 0)
        return mw_usage_error("tune",
                              "--set %s: not a known vm.NAME present in this tree, or zram.* "
                              "without zram in the plan",
                              shown);
    return MW_EXIT_OK;
}

static void print_plan(const struct mw_tune_plan *p)
{
    const struct mw_profile_spec *s = mw_profile_get(p->profile);
    char a[32];
    printf("memwarden tune: profile %s (%s)\n", s->name, s->fits);
    for (int i = 0; i < p->n; i++)
        printf("  %-28s %s -> %s\n", p->it[i].key, p->it[i].old, p->it[i].new_val);
    if (p->zram.wanted)
        printf("  zram%-24d %s %s, swap priority %d%s\n", p->zram.device,
               mw_fmt_size(a, sizeof(a), p->zram.size), p->zram.algo, p->zram.priority,
               p->zram.hot_add ? " (new device: hot_add)" : "");
    else
        printf("  %-28s %s\n", "zram", p->zram.note);
    if (p->n == 0 && !p->zram.wanted)
        printf("  (nothing to change)\n");
    printf("source: %s\n", s->source);
}

/* The plan P as one JSON object; with PERSIST the boot-time files too. */
static void print_plan_json(const struct mw_root *root, const struct mw_tune_plan *p, bool persist)
{
    const struct mw_profile_spec *s = mw_profile_get(p->profile);
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "profile", s->name);
    mw_json_str(&j, "fits", s->fits);
    mw_json_str(&j, "source", s->source);
    mw_json_array_begin(&j, "changes");
    for (int i = 0; i < p->n; i++) {
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "key", p->it[i].key);
        mw_json_str(&j, "path", p->it[i].path);
        mw_json_str(&j, "old", p->it[i].old);
        mw_json_str(&j, "new", p->it[i].new_val);
        if (p->it[i].why && strcmp(p->it[i].why, s->source) != 0)
            mw_json_str(&j, "why", p->it[i].why); /* "--set" */
        else
            mw_json_null(&j, "why"); /* the profile's source */
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_begin(&j, "zram");
    mw_json_bool(&j, "wanted", p->zram.wanted);
    if (p->zram.wanted) {
        mw_json_i64(&j, "device", p->zram.device);
        mw_json_bool(&j, "hot_add", p->zram.hot_add);
        mw_json_u64(&j, "size", p->zram.size);
        mw_json_str(&j, "algo", p->zram.algo);
        mw_json_i64(&j, "priority", p->zram.priority);
    } else {
        mw_json_str(&j, "note", p->zram.note);
    }
    mw_json_object_end(&j);
    if (persist) {
        const char *paths[2];
        char *texts[2] = {NULL, NULL};
        int n = persist_files(root, p, paths, texts);
        mw_json_array_begin(&j, "persist");
        for (int i = 0; i < n; i++) {
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "path", paths[i]);
            mw_json_str(&j, "text", texts[i]);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
        free(texts[0]);
        free(texts[1]);
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* ---- apply / revert --------------------------------------------------- */

struct applying {
    const struct mw_root *root;
    const struct bk_where *w;
    struct mw_tune_backup *b;
    int done;       /* items of B written */
    bool zram_done; /* the zram device was touched (hot_add or a write) */
};

/* Backs up PATHS (appended to B, then B rewritten), then writes VALUES.
 * Returns 0 or -errno after saying which write failed. */
static int write_group(struct applying *a, const char *const *paths, const char *const *values,
                       int n, bool create)
{
    int rc;
    for (int i = 0; i < n; i++)
        if ((rc = backup_add(a->root, a->b, paths[i], create)) < 0) {
            mw_err("cannot back up /%s: %s", mw_rel(paths[i]), mw_strerror(-rc));
            a->b->n = a->done;
            return rc;
        }
    if ((rc = backup_write(a->w, a->b)) < 0) {
        mw_err("cannot write the backup %s: %s", a->w->path, mw_strerror(-rc));
        a->b->n = a->done;
        return rc;
    }
    for (int i = 0; i < n; i++) {
        const struct mw_tune_bk_item *it = &a->b->it[a->done];
        rc = create ? write_created(a->root, paths[i], values[i],
                                    strcmp(paths[i], PERSIST_INIT) ? 0644 : 0755)
                    : mw_knob_write_str(a->root, paths[i], values[i]);
        if (rc < 0) {
            mw_err("write %s to /%s: %s", values[i], it->path, mw_strerror(-rc));
            a->b->n = a->done; /* this one was not written */
            return rc;
        }
        a->done++;
        if (create)
            printf("wrote /%s (%zu bytes)\n", it->path, strlen(values[i]));
        else
            printf("set /%s: %.*s -> %s\n", it->path, (int)strcspn(it->raw, "\n"), it->raw,
                   values[i]);
    }
    return 0;
}

static int apply_zram(struct applying *a, const struct mw_tune_zram *z)
{
    struct mw_tune_backup *b = a->b;
    int rc, n = z->device;
    bool live = mw_root_is_live(a->root);
    if (z->hot_add) {
        a->zram_done = true;
        if ((n = mw_zram_hot_add(a->root)) < 0) {
            mw_err("zram-control/hot_add: %s", mw_strerror(-n));
            b->hot_add = false;
            return n;
        }
        b->zdev = n;
    }
    char p1[64], p2[64], size[24];
    snprintf(p1, sizeof(p1), "/sys/block/zram%d/comp_algorithm", n);
    snprintf(p2, sizeof(p2), "/sys/block/zram%d/disksize", n);
    snprintf(size, sizeof(size), "%" PRIu64, z->size);
    const char *paths[2] = {p1, p2}, *vals[2] = {z->algo, size};
    a->zram_done = true;
    if ((rc = write_group(a, paths, vals, 2, false)) < 0)
        return rc;
    if (!live) {
        printf("zram%d: mkswap and swapon skipped (not the live root)\n", n);
        return 0;
    }
    if ((rc = mw_mkswap_zram(n, z->size, a->root->page_size)) < 0 ||
        (rc = mw_swapon_zram(n, z->priority)) < 0) {
        mw_err("mkswap/swapon /dev/zram%d: %s", n, mw_strerror(-rc));
        return rc;
    }
    printf("swapon /dev/zram%d priority %d\n", n, z->priority);
    return 0;
}

/* Before an apply: the backup's directory must be one --revert will
 * trust, and no backup may be there already. A file in the way that is
 * not a backup tune trusts is not called one (root is not told to revert
 * it). Returns 0 or MW_EXIT_FAIL after saying why. */
static int apply_check_backup(const struct mw_root *root, struct bk_where *w)
{
    char why[200];
    struct stat st;
    if (bk_dir_open(root, w, true, why, sizeof(why)) < 0) {
        mw_err("refused: the backup would go to %s, but %s: 'tune --revert' would not trust "
               "a backup there. Give --backup FILE in a directory only root (or you) can write",
               w->path, why);
        return MW_EXIT_FAIL;
    }
    if (fstatat(w->dirfd, w->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return MW_EXIT_OK;
    struct mw_tune_backup *b = calloc(1, sizeof(*b));
    int rc = b ? backup_read(w, b, why, sizeof(why)) : -ENOMEM;
    free(b);
    if (rc == 0)
        mw_err("a backup exists at %s: run 'memwarden tune --revert' first (or --backup "
               "elsewhere)",
               w->path);
    else
        mw_err("%s is in the way and is not a backup tune trusts (%s): look at it and remove "
               "it yourself, or give --backup elsewhere ('tune --revert' will not use it)",
               w->path, why);
    return MW_EXIT_FAIL;
}

static int tune_apply(struct mw_ctx *ctx, const struct tune_opts *o, const struct mw_tune_plan *p)
{
    struct bk_where w;
    backup_where(ctx, o, &w);
    if (apply_check_backup(&ctx->root, &w) != MW_EXIT_OK) {
        if (w.dirfd >= 0)
            close(w.dirfd);
        return MW_EXIT_FAIL;
    }
    struct mw_tune_backup *b = calloc(1, sizeof(*b));
    if (!b) {
        close(w.dirfd);
        return MW_EXIT_FAIL;
    }
    b->zram = p->zram.wanted;
    b->zdev = p->zram.device;
    b->hot_add = p->zram.hot_add;
    b->swapon = p->zram.wanted && mw_root_is_live(&ctx->root);
    b->zsize = p->zram.wanted ? p->zram.size : 0;
    struct applying a = {.root = &ctx->root, .w = &w, .b = b};
    const char *paths[MW_TUNE_MAX], *vals[MW_TUNE_MAX];
    for (int i = 0; i < p->n; i++) {
        paths[i] = p->it[i].path;
        vals[i] = p->it[i].new_val;
    }
    int rc = write_group(&a, paths, vals, p->n, false);
    if (rc == 0 && p->zram.wanted)
        rc = apply_zram(&a, &p->zram);
    char *texts[2] = {NULL, NULL};
    const char *pp[2];
    int np = o->persist ? persist_files(&ctx->root, p, pp, texts) : 0;
    if (rc == 0 && np > 0)
        rc = write_group(&a, pp, (const char *const *)texts, np, true);
    free(texts[0]);
    free(texts[1]);
    if (rc < 0) {
        int failed = undo(&ctx->root, b, a.done, a.zram_done);
        unlinkat(w.dirfd, w.name, 0);
        mw_err("rolled back %d change%s%s", a.done, a.done == 1 ? "" : "s",
               failed ? " (some restores failed, see above)" : "");
    } else {
        printf("applied %d change%s; backup: %s\n", a.done, a.done == 1 ? "" : "s", w.path);
    }
    close(w.dirfd);
    free(b);
    return rc < 0 ? MW_EXIT_FAIL : MW_EXIT_OK;
}

static int tune_revert(struct mw_ctx *ctx, const struct tune_opts *o)
{
    struct bk_where w;
    char why[240];
    backup_where(ctx, o, &w);
    struct mw_tune_backup *b = calloc(1, sizeof(*b));
    if (!b)
        return MW_EXIT_FAIL;
    int rc = bk_dir_open(&ctx->root, &w, false, why, sizeof(why));
    if (rc == 0)
        rc = backup_read(&w, b, why, sizeof(why));
    if (rc == -ENOENT) {
        mw_err("cannot read the backup %s: none (nothing applied, or already reverted)", w.path);
    } else if (rc < 0) {
        mw_err("refused to revert from %s: %s. Nothing was changed. Only a backup that "
               "'tune --apply' wrote is used: root's or yours, in a directory nobody else can "
               "write, naming only files tune writes",
               w.path, why);
    }
    if (rc < 0) {
        if (w.dirfd >= 0)
            close(w.dirfd);
        free(b);
        return MW_EXIT_FAIL;
    }
    bool ours = !b->zram || zram_still_ours(&ctx->root, b);
    int failed = undo(&ctx->root, b, b->n, ours) + !ours;
    if (b->zram && ours)
        printf("zram%d: %s\n", b->zdev, b->hot_add ? "removed (hot_remove)" : "reset");
    free(b);
    if (failed) {
        mw_err("%d restore%s failed; the backup stays at %s", failed, failed == 1 ? "" : "s",
               w.path);
        close(w.dirfd);
        return MW_EXIT_FAIL;
    }
    char done[530];
    snprintf(done, sizeof(done), "%s.reverted", w.name);
    renameat(w.dirfd, w.name, w.dirfd, done);
    printf("reverted; backup kept as %s.reverted\n", w.path);
    close(w.dirfd);
    return MW_EXIT_OK;
}

int cli_tune(struct mw_ctx *ctx, int argc, char **argv)
{
    struct tune_opts o = {0};
    int rc = tune_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.revert)
        return tune_revert(ctx, &o);
    struct mw_tune_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return MW_EXIT_FAIL;
    rc = tune_plan(ctx, &o, p);
    if (rc == MW_EXIT_OK && o.json) {
        print_plan_json(&ctx->root, p, o.persist);
    } else if (rc == MW_EXIT_OK) {
        print_plan(p);
        if (o.persist) {
            const char *paths[2];
            char *texts[2] = {NULL, NULL};
            int n = persist_files(&ctx->root, p, paths, texts);
            for (int i = 0; i < n; i++)
                printf("--- %s\n%s", paths[i], texts[i]);
            free(texts[0]);
            free(texts[1]);
        }
        if (o.apply)
            rc = tune_apply(ctx, &o, p);
        else
            printf("nothing written: --apply writes it (a backup first)\n");
    }
    free(p);
    return rc;
}
