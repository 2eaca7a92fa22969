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

#include "analysis/tuneplan.h"
#include "base/json.h"
#include "base/text.h"
#include "cli/cli.h"
#include "proc/knobs.h"

#define DEFAULT_BACKUP "/var/lib/memwarden/tune-backup.json"
#define MAX_SETS       16
#define OLD_MAX        4096 /* a tunable's or a config file's old content */

static void tune_usage(FILE *f)
{
    fputs(
        "NAME\n"
        "    memwarden tune - apply (and undo) the memory settings doctor recommends\n"
        "\n"
        "SYNOPSIS\n"
        "    memwarden [--root DIR] tune [--profile NAME] [--set KEY=VALUE]... [--persist]\n"
        "                                [--apply | --revert] [--backup FILE]\n"
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
        "    live root).\n"
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
        "    kernel's own when it lacks the profile's.\n"
        "\n"
        "OPTIONS\n"
        "    --profile NAME    small, embedded-4g, desktop or server\n"
        "    --set KEY=VALUE   override one item: vm.NAME=N (a /proc/sys/vm file doctor\n"
        "                      reads), zram.size=SIZE, zram.algo=NAME, zram.priority=N,\n"
        "                      zram=off (no zram); repeatable\n"
        "    --apply           write the plan (root only)\n"
        "    --revert          restore what the backup holds\n"
        "    --backup FILE     the backup (default ROOT" DEFAULT_BACKUP ")\n"
        "    --persist         also print the boot-time files: /etc/sysctl.d/90-memwarden.conf\n"
        "                      and /etc/systemd/zram-generator.conf (systemd) or\n"
        "                      /etc/init.d/S05memwarden (BusyBox); with --apply, write them\n"
        "                      (backed up and reverted like the rest)\n"
        "    -h, --help        this text\n"
        "\n"
        "EXIT STATUS\n"
        "    0 planned / applied / reverted; 1 a write failed (rolled back), no backup\n"
        "    to revert, or a backup in the way; 2 usage.\n",
        f);
}

struct tune_opts {
    bool have_profile, apply, revert, persist;
    enum mw_profile profile;
    char *sets[MAX_SETS];
    int nsets;
    bool zram_off;
    const char *backup; /* NULL: ROOT + DEFAULT_BACKUP */
};

/* One change as the backup holds it: PATH's content before (RAW), or
 * ABSENT when the apply created it. */
struct bk_item {
    char path[128];
    char raw[OLD_MAX];
    bool absent;
    int new_dirs; /* when ABSENT: how many of its parent directories did not exist either */
};

struct backup {
    int n;
    struct bk_item it[MW_TUNE_MAX + 4];
    bool zram;      /* the apply set up a zram device */
    int zdev;       /* zramN */
    bool hot_add;   /* ... which it created */
    bool swapon;    /* ... and swapped on */
    char zalgo[24]; /* its comp_algorithm selection before */
};

static int tune_options(int argc, char **argv, struct tune_opts *o)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'}, {"set", required_argument, NULL, 's'},
        {"apply", no_argument, NULL, 'a'},         {"revert", no_argument, NULL, 'r'},
        {"backup", required_argument, NULL, 'b'},  {"persist", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
        case 'h':
            tune_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("tune", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    if (o->apply && o->revert)
        return mw_usage_error("tune", "--apply and --revert exclude each other");
    return -1;
}

/* Where the backup lives: (DIRFD, PATH) — the root's fd and the default
 * path, or the working directory and --backup's FILE. */
struct bk_where {
    int dirfd;
    char path[512];
};

static void backup_where(const struct mw_ctx *ctx, const struct tune_opts *o, struct bk_where *w)
{
    w->dirfd = o->backup ? AT_FDCWD : ctx->root.fd;
    snprintf(w->path, sizeof(w->path), "%s", o->backup ? o->backup : mw_rel(DEFAULT_BACKUP));
}

/* mkdir -p of PATH's parent under DIRFD (0700 for the ones it makes). */
static void make_parents(int dirfd, const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdirat(dirfd, tmp, 0700);
        *p = '/';
    }
}

static void backup_json(FILE *f, const struct backup *b)
{
    struct mw_json j;
    mw_json_init(&j, f, true);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "version", 1);
    mw_json_array_begin(&j, "items");
    for (int i = 0; i < b->n; i++) {
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "path", b->it[i].path);
        if (b->it[i].absent) {
            mw_json_bool(&j, "absent", true);
            mw_json_i64(&j, "new_dirs", b->it[i].new_dirs);
        } else
            mw_json_str(&j, "old", b->it[i].raw);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    if (b->zram) {
        mw_json_object_begin(&j, "zram");
        mw_json_i64(&j, "device", b->zdev);
        mw_json_bool(&j, "hot_add", b->hot_add);
        mw_json_bool(&j, "swapon", b->swapon);
        mw_json_str(&j, "old_algo", b->zalgo);
        mw_json_object_end(&j);
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* Writes B to W atomically (W.tmp, fsync, rename), mode 0600. */
static int backup_write(const struct bk_where *w, const struct backup *b)
{
    char tmp[530];
    snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
    make_parents(w->dirfd, w->path);
    unlinkat(w->dirfd, tmp, 0);
    int fd = openat(w->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    backup_json(f, b);
    int rc = fflush(f) == 0 && fsync(fd) == 0 ? 0 : -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(w->dirfd, tmp, w->dirfd, w->path) < 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(w->dirfd, tmp, 0);
    return rc;
}

static int backup_item(struct backup *b, const struct mw_json_val *obj)
{
    struct mw_json_val v;
    if (b->n >= (int)MW_ARRAY_SIZE(b->it))
        return -ENOSPC;
    struct bk_item *it = &b->it[b->n];
    memset(it, 0, sizeof(*it));
    if (mw_json_find(obj, "path", &v) < 0 ||
        mw_json_get_str(&v, it->path, sizeof(it->path)) >= (long)sizeof(it->path))
        return -EINVAL;
    uint64_t nd;
    if (mw_json_find(obj, "absent", &v) == 0) {
        it->absent = true;
        if (mw_json_find(obj, "new_dirs", &v) == 0 && mw_json_get_u64(&v, &nd) == 0 && nd < 8)
            it->new_dirs = (int)nd;
    } else if (mw_json_find(obj, "old", &v) < 0 ||
               mw_json_get_str(&v, it->raw, sizeof(it->raw)) >= (long)sizeof(it->raw))
        return -EINVAL;
    if (strstr(it->path, "..") || it->path[0] == '/')
        return -EINVAL; /* a backup cannot lead writes out of the root */
    b->n++;
    return 0;
}

static int backup_read(const struct bk_where *w, struct backup *b)
{
    char *buf;
    size_t len;
    int rc = mw_read_file_at(w->dirfd, w->path, O_NOFOLLOW, 1 << 20, &buf, &len);
    if (rc < 0)
        return rc;
    struct mw_json_val doc, items, z, v, key, val;
    struct mw_json_iter it;
    memset(b, 0, sizeof(*b));
    rc = -EINVAL;
    if (mw_json_parse(buf, len, &doc) < 0 || mw_json_find(&doc, "items", &items) < 0 ||
        mw_json_iter_init(&it, &items) < 0)
        goto out;
    int r;
    while ((r = mw_json_iter_next(&it, &key, &val)) == 1)
        if (backup_item(b, &val) < 0)
            goto out;
    if (r < 0)
        goto out;
    if (mw_json_find(&doc, "zram", &z) == 0) {
        uint64_t dev;
        b->zram = true;
        if (mw_json_find(&z, "device", &v) < 0 || mw_json_get_u64(&v, &dev) < 0 || dev > 1000)
            goto out;
        b->zdev = (int)dev;
        if (mw_json_find(&z, "hot_add", &v) == 0)
            mw_json_get_bool(&v, &b->hot_add);
        if (mw_json_find(&z, "swapon", &v) == 0)
            mw_json_get_bool(&v, &b->swapon);
        if (mw_json_find(&z, "old_algo", &v) == 0)
            mw_json_get_str(&v, b->zalgo, sizeof(b->zalgo));
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

/* Creates or replaces PATH under ROOT with DATA (MODE), parents made. */
static int write_created(const struct mw_root *root, const char *path, const char *data,
                         mode_t mode)
{
    make_parents(root->fd, mw_rel(path));
    int fd =
        openat(root->fd, mw_rel(path), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    size_t len = strlen(data);
    int rc = write(fd, data, len) == (ssize_t)len ? 0 : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* Puts ITEM's old content back. A "[selected] other" file gets its
 * selection written; a zram disksize of 0 on the live system is left to
 * the reset; a file the apply created is removed. */
static int restore_item(const struct mw_root *root, const struct bk_item *it, bool persist_file)
{
    if (it->absent) {
        if (unlinkat(root->fd, it->path, 0) < 0 && errno != ENOENT)
            return -errno;
        char dir[128];
        snprintf(dir, sizeof(dir), "%s", it->path);
        for (int i = 0; i < it->new_dirs; i++) { /* the directories the apply made */
            char *slash = strrchr(dir, '/');
            if (!slash)
                break;
            *slash = '\0';
            unlinkat(root->fd, dir, AT_REMOVEDIR);
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
    return strncmp(path, "etc/", 4) == 0;
}

static bool under_zram_dev(const char *path, int n)
{
    char pre[40];
    snprintf(pre, sizeof(pre), "sys/block/zram%d/", n);
    return strncmp(path, pre, strlen(pre)) == 0;
}

/* Undoes B: its first UPTO items (all on revert), and its zram device.
 * Returns the number of restores that failed (each said on stderr). */
static int undo(const struct mw_root *root, const struct backup *b, int upto, bool zram_done)
{
    int failed = 0, rc;
    bool live = mw_root_is_live(root);
    char path[64];
    if (b->zram && zram_done) {
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
        const struct bk_item *it = &b->it[i];
        if (b->zram && zram_done && b->hot_add && under_zram_dev(it->path, b->zdev))
            continue; /* the device goes away below */
        if ((rc = restore_item(root, it, is_persist_path(it->path))) < 0) {
            mw_err("restore /%s: %s", it->path, mw_strerror(-rc));
            failed++;
        } else {
            printf("restored /%s\n", it->path);
        }
    }
    if (b->zram && zram_done && b->hot_add && (rc = mw_zram_hot_remove(root, b->zdev)) < 0) {
        mw_err("zram-control/hot_remove %d: %s", b->zdev, mw_strerror(-rc));
        failed++;
    }
    return failed;
}

/* Reads PATH's current content into a new backup item. */
static int backup_add(const struct mw_root *root, struct backup *b, const char *path, bool may_miss)
{
    if (b->n >= (int)MW_ARRAY_SIZE(b->it))
        return -ENOSPC;
    struct bk_item *it = &b->it[b->n];
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
            if (fstatat(root->fd, dir, &st, 0) == 0)
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

#define PERSIST_SYSCTL  "/etc/sysctl.d/90-memwarden.conf"
#define PERSIST_ZRAMGEN "/etc/systemd/zram-generator.conf"
#define PERSIST_INIT    "/etc/init.d/S05memwarden"

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
    int rc = cli_doctor_gather(root, "/run/memwarden/state.json", NULL, 0, in);
    if (rc != MW_EXIT_OK) {
        free(in);
        return rc;
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

/* ---- apply / revert --------------------------------------------------- */

struct applying {
    const struct mw_root *root;
    const struct bk_where *w;
    struct backup *b;
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
        const struct bk_item *it = &a->b->it[a->done];
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
    struct backup *b = a->b;
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

static int tune_apply(struct mw_ctx *ctx, const struct tune_opts *o, const struct mw_tune_plan *p)
{
    struct bk_where w;
    backup_where(ctx, o, &w);
    struct stat st;
    if (fstatat(w.dirfd, w.path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        mw_err("a backup exists at %s: run 'memwarden tune --revert' first (or --backup "
               "elsewhere)",
               w.path);
        return MW_EXIT_FAIL;
    }
    struct backup *b = calloc(1, sizeof(*b));
    if (!b)
        return MW_EXIT_FAIL;
    b->zram = p->zram.wanted;
    b->zdev = p->zram.device;
    b->hot_add = p->zram.hot_add;
    b->swapon = p->zram.wanted && mw_root_is_live(&ctx->root);
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
        unlinkat(w.dirfd, w.path, 0);
        mw_err("rolled back %d change%s%s", a.done, a.done == 1 ? "" : "s",
               failed ? " (some restores failed, see above)" : "");
        free(b);
        return MW_EXIT_FAIL;
    }
    printf("applied %d change%s; backup: %s%s\n", a.done, a.done == 1 ? "" : "s",
           o->backup || mw_root_is_live(&ctx->root) ? "" : ctx->root.path,
           o->backup ? o->backup : DEFAULT_BACKUP);
    free(b);
    return MW_EXIT_OK;
}

static int tune_revert(struct mw_ctx *ctx, const struct tune_opts *o)
{
    struct bk_where w;
    backup_where(ctx, o, &w);
    struct backup *b = calloc(1, sizeof(*b));
    if (!b)
        return MW_EXIT_FAIL;
    int rc = backup_read(&w, b);
    if (rc < 0) {
        mw_err("cannot read the backup %s: %s", w.path,
               rc == -ENOENT ? "none (nothing applied, or already reverted)" : mw_strerror(-rc));
        free(b);
        return MW_EXIT_FAIL;
    }
    int failed = undo(&ctx->root, b, b->n, true);
    if (b->zram)
        printf("zram%d: %s\n", b->zdev, b->hot_add ? "removed (hot_remove)" : "reset");
    free(b);
    if (failed) {
        mw_err("%d restore%s failed; the backup stays at %s", failed, failed == 1 ? "" : "s",
               w.path);
        return MW_EXIT_FAIL;
    }
    char done[530];
    snprintf(done, sizeof(done), "%s.reverted", w.path);
    renameat(w.dirfd, w.path, w.dirfd, done);
    printf("reverted; backup kept as %s\n", done);
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
    if (rc == MW_EXIT_OK) {
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
