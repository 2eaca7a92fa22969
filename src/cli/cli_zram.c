/* memwarden zram: the compressed swap devices — status, setup, off. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/json.h"
#include "base/text.h"
#include "cli/cli.h"
#include "proc/knobs.h"
#include "proc/meminfo.h"
#include "proc/zram.h"

extern char **environ;

static const struct mw_opt zram_opts[] = {
    {"size", 's', 0, "SIZE", "1G, 512M, or a percentage of RAM (50%)", NULL},
    {"algo", 'a', 0, "NAME", "the compressor (one comp_algorithm lists)", "lz4 zstd lzo-rle lzo"},
    {"priority", 'p', 0, "N", "swap priority, -1 .. 32767", NULL},
    {"device", 'd', 0, "N", "zramN", NULL},
    {"force", 'f', 0, NULL, "reset a device in use (swapoff first)", NULL},
    {"json", 'j', 0, NULL,
     "status as JSON: bytes; used_by null when unused,\n"
     "the mm_stat numbers null when unreadable",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_zram_doc = {
    .head = "NAME\n"
            "    memwarden zram - compressed swap in RAM: status, setup, off\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden [--root DIR] zram [status] [--json]\n"
            "    memwarden zram setup [--size 1G|50%] [--algo lz4] [--priority 100] [--device N]\n"
            "                         [--force]\n"
            "    memwarden zram off [--device N] [--force]\n"
            "\n"
            "DESCRIPTION\n"
            "    status: every /sys/block/zramN: disksize, algorithm, data stored (orig),\n"
            "    compressed, total memory used, ratio, same-filled and huge (incompressible)\n"
            "    pages, writeback (bd_stat) when a backing device is set, and who uses it.\n"
            "    setup: sets up zramN as swap: loads the module (modprobe zram) or makes a\n"
            "    device (zram-control/hot_add) when needed, writes comp_algorithm and\n"
            "    disksize, writes the swap signature and swaps on. Default: the first\n"
            "    unused device, 50% of RAM, lz4, priority 100 (zram-generator's priority).\n"
            "    off: swapoff and reset (all devices, or --device N).\n"
            "    A device in use (in /proc/swaps or mounted) is never reset without\n"
            "    --force; the refusal says who uses it. Changes are for 'memwarden tune'\n"
            "    to undo only when tune made them: setup/off keep no backup.\n",
    .opts = zram_opts,
    .exit_ok = "done",
    .exit_fail = "refused or failed (the message says why)",
    .operands = "status setup off",
};

struct zram_opts {
    const char *size, *algo;
    int priority, device;
    bool force, json;
};

/* ---- status: gather, then render ---------------------------------------- */

/* What `zram status` shows: every device and who uses it. */
struct zram_status {
    struct mw_zram z;
    char who[MW_MAX_ZRAM][200]; /* "swap /dev/zram0, 51% of ...", "" not in use */
};

static void status_gather(const struct mw_root *root, struct zram_status *st)
{
    if (mw_zram_read(root, &st->z) < 0)
        st->z.count = 0;
    for (int i = 0; i < st->z.count; i++)
        if (!mw_zram_user(root, st->z.dev[i].index, st->who[i], sizeof(st->who[i])))
            st->who[i][0] = '\0';
}

static void status_text(const struct zram_status *st)
{
    const struct mw_zram *z = &st->z;
    char a[32], b[32], c[32], d[32];
    if (z->count == 0) {
        printf("no zram devices (modprobe zram, or memwarden zram setup)\n");
        return;
    }
    printf("%-7s %-9s %-8s %-9s %-9s %-9s %-6s %-8s %-8s %s\n", "DEVICE", "DISKSIZE", "ALGO",
           "DATA", "COMPR", "TOTAL", "RATIO", "SAME", "HUGE", "USED BY");
    for (int i = 0; i < z->count; i++) {
        const struct mw_zram_dev *v = &z->dev[i];
        const char *who = st->who[i][0] ? st->who[i] : v->disksize ? "-" : "- (not set up)";
        printf("zram%-3d %-9s ", v->index, mw_fmt_size(a, sizeof(a), v->disksize));
        mw_text_put_cell(stdout, v->algorithm[0] ? v->algorithm : "?", 8, true);
        printf(" %-9s %-9s %-9s %-6.2f %-8" PRIu64 " %-8" PRIu64 " ",
               mw_fmt_size(b, sizeof(b), v->orig_data_size),
               mw_fmt_size(c, sizeof(c), v->compr_data_size),
               mw_fmt_size(d, sizeof(d), v->mem_used_total), mw_zram_ratio(v), v->same_pages,
               v->huge_pages);
        mw_text_put(stdout, who, strlen(who), 0);
        putchar('\n');
        if (v->backing_dev[0] && strcmp(v->backing_dev, "none") != 0) {
            printf("        writeback to ");
            mw_text_put(stdout, v->backing_dev, strlen(v->backing_dev), 64);
            if (v->have_bd_stat)
                printf(": %s on disk, %" PRIu64 " reads, %" PRIu64 " writes (4 KiB units)",
                       mw_fmt_size(a, sizeof(a), v->bd_count * 4096), v->bd_reads, v->bd_writes);
            putchar('\n');
        }
    }
}

/* V's mm_stat number, null when mm_stat could not be read (status's text
 * shows 0 there). */
static void json_mm(struct mw_json *j, const struct mw_zram_dev *v, const char *key, uint64_t n)
{
    if (v->have_mm_stat)
        mw_json_u64(j, key, n);
    else
        mw_json_null(j, key);
}

/* The members status's JSON shares with `status --json`'s "zram" array
 * (index, algorithm, disksize, orig_data_size, compr_data_size,
 * mem_used_total, ratio), then what only this view shows. */
static void status_json(const struct zram_status *st)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_array_begin(&j, "devices");
    for (int i = 0; i < st->z.count; i++) {
        const struct mw_zram_dev *v = &st->z.dev[i];
        mw_json_object_begin(&j, NULL);
        mw_json_u64(&j, "index", (uint64_t)v->index);
        mw_json_str(&j, "algorithm", v->algorithm);
        mw_json_u64(&j, "disksize", v->disksize);
        json_mm(&j, v, "orig_data_size", v->orig_data_size);
        json_mm(&j, v, "compr_data_size", v->compr_data_size);
        json_mm(&j, v, "mem_used_total", v->mem_used_total);
        if (v->have_mm_stat)
            mw_json_fixed(&j, "ratio", mw_zram_ratio(v), 2);
        else
            mw_json_null(&j, "ratio");
        json_mm(&j, v, "mem_limit", v->mem_limit);
        json_mm(&j, v, "same_pages", v->same_pages);
        json_mm(&j, v, "huge_pages", v->huge_pages);
        if (st->who[i][0])
            mw_json_str(&j, "used_by", st->who[i]);
        else
            mw_json_null(&j, "used_by");
        if (v->backing_dev[0] && strcmp(v->backing_dev, "none") != 0) {
            mw_json_object_begin(&j, "writeback");
            mw_json_str(&j, "backing_dev", v->backing_dev);
            if (v->have_bd_stat) { /* bd_stat counts 4 KiB units */
                mw_json_u64(&j, "stored", v->bd_count * 4096);
                mw_json_u64(&j, "read", v->bd_reads * 4096);
                mw_json_u64(&j, "written", v->bd_writes * 4096);
            }
            mw_json_object_end(&j);
        }
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static int zram_status(const struct mw_root *root, const struct zram_opts *o)
{
    struct zram_status *st = calloc(1, sizeof(*st));
    if (!st) {
        mw_err("out of memory");
        return MW_EXIT_FAIL;
    }
    status_gather(root, st);
    if (o->json)
        status_json(st);
    else
        status_text(st);
    free(st);
    return MW_EXIT_OK;
}

/* ---- setup and off: they act, and say each step as they take it --------- */

static const struct mw_zram_dev *find_dev(const struct mw_zram *z, int n)
{
    for (int i = 0; i < z->count; i++)
        if (z->dev[i].index == n)
            return &z->dev[i];
    return NULL;
}

/* modprobe zram (live only): 0 when zram-control or a device appears. */
static int load_module(const struct mw_root *root)
{
    struct stat st;
    if (fstatat(root->fd, "sys/class/zram-control", &st, 0) == 0)
        return 0;
    if (!mw_root_is_live(root))
        return -ENOENT;
    char *argv[] = {"modprobe", "zram", NULL};
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -ENOENT;
    printf("loaded the zram module\n");
    return fstatat(root->fd, "sys/class/zram-control", &st, 0) == 0 ? 0 : -ENOENT;
}

/* Makes zramN free to set up: refuses when in use unless FORCE (then
 * swapoff), resets it when set up. Returns 0 or MW_EXIT_FAIL after saying. */
static int free_device(const struct mw_root *root, const struct mw_zram_dev *v, bool force)
{
    char who[200], path[64];
    int rc;
    if (mw_zram_user(root, v->index, who, sizeof(who))) {
        if (!force || strncmp(who, "mounted", 7) == 0) {
            mw_err("zram%d is in use (%s): %s", v->index, who,
                   force ? "unmount it first" : "not reset without --force");
            return MW_EXIT_FAIL;
        }
        if (mw_root_is_live(root) && (rc = mw_swapoff_zram(v->index)) < 0) {
            mw_err("swapoff /dev/zram%d: %s", v->index, mw_strerror(-rc));
            return MW_EXIT_FAIL;
        }
        printf("swapoff /dev/zram%d (--force)\n", v->index);
    }
    if (!v->disksize)
        return MW_EXIT_OK;
    snprintf(path, sizeof(path), "/sys/block/zram%d/reset", v->index);
    if ((rc = mw_knob_write_str(root, path, "1")) < 0) {
        mw_err("reset zram%d: %s", v->index, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    printf("reset zram%d\n", v->index);
    return MW_EXIT_OK;
}

/* --size: "1G" or "50%" of MemTotal. Returns 0 or -EINVAL. */
static int parse_size(const struct mw_root *root, const char *s, uint64_t *out)
{
    size_t l = strlen(s);
    if (l > 1 && s[l - 1] == '%') {
        char num[16];
        double pct;
        struct mw_meminfo mi;
        if (l - 1 >= sizeof(num))
            return -EINVAL;
        memcpy(num, s, l - 1);
        num[l - 1] = '\0';
        if (mw_parse_decimal(num, &pct) < 0 || pct <= 0 || pct > 400 ||
            mw_meminfo_read(root, &mi, NULL) < 0)
            return -EINVAL;
        *out = (uint64_t)((double)mi.kb[MI_MEM_TOTAL] * 1024 * pct / 100) >> 20 << 20;
        return 0;
    }
    return mw_parse_size(s, out);
}

static int zram_setup(const struct mw_root *root, const struct zram_opts *o)
{
    struct mw_zram z;
    uint64_t size;
    int rc, n = o->device;
    if (parse_size(root, o->size, &size) < 0 || size < (1 << 20))
        return mw_usage_error("zram", "--size: '%s' is not a size (1G, 512M) or a percentage",
                              o->size);
    load_module(root);
    if (mw_zram_read(root, &z) < 0)
        z.count = 0;
    if (n < 0) /* the first device not set up */
        for (int i = 0; i < z.count && n < 0; i++)
            if (!z.dev[i].disksize)
                n = z.dev[i].index;
    const struct mw_zram_dev *v = n >= 0 ? find_dev(&z, n) : NULL;
    if (v && free_device(root, v, o->force) != MW_EXIT_OK)
        return MW_EXIT_FAIL;
    if (!v) {
        int got = mw_zram_hot_add(root);
        if (got < 0) {
            mw_err("no zram%s device and zram-control/hot_add failed: %s (modprobe zram)",
                   n >= 0 ? " such" : " free", mw_strerror(-got));
            return MW_EXIT_FAIL;
        }
        if (n >= 0 && got != n)
            printf("zram%d does not exist: hot_add made zram%d\n", n, got);
        else
            printf("hot_add made zram%d\n", got);
        n = got;
    }
    char path[64], val[24];
    snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", n);
    if ((rc = mw_knob_write_str(root, path, o->algo)) < 0) {
        mw_err("zram%d: algorithm '%s' refused: %s (see %s)", n, o->algo, mw_strerror(-rc), path);
        return MW_EXIT_FAIL;
    }
    snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", n);
    snprintf(val, sizeof(val), "%" PRIu64, size);
    if ((rc = mw_knob_write_str(root, path, val)) < 0) {
        mw_err("zram%d: disksize %s refused: %s", n, val, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    char a[32];
    printf("zram%d: %s, %s\n", n, mw_fmt_size(a, sizeof(a), size), o->algo);
    if (!mw_root_is_live(root)) {
        printf("zram%d: mkswap and swapon skipped (not the live root)\n", n);
        return MW_EXIT_OK;
    }
    if ((rc = mw_mkswap_zram(n, size, root->page_size)) < 0 ||
        (rc = mw_swapon_zram(n, o->priority)) < 0) {
        mw_err("mkswap/swapon /dev/zram%d: %s", n, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    printf("swapon /dev/zram%d priority %d\n", n, o->priority);
    return MW_EXIT_OK;
}

static int zram_off(const struct mw_root *root, const struct zram_opts *o)
{
    struct mw_zram z;
    if (mw_zram_read(root, &z) < 0 || z.count == 0) {
        printf("no zram devices\n");
        return MW_EXIT_OK;
    }
    if (o->device >= 0 && !find_dev(&z, o->device)) {
        mw_err("no zram%d", o->device);
        return MW_EXIT_FAIL;
    }
    int rc = MW_EXIT_OK;
    for (int i = 0; i < z.count; i++)
        if ((o->device < 0 || z.dev[i].index == o->device) &&
            free_device(root, &z.dev[i], o->force) != MW_EXIT_OK)
            rc = MW_EXIT_FAIL;
    return rc;
}

int cli_zram(struct mw_ctx *ctx, int argc, char **argv)
{
    struct zram_opts o = {.size = "50%", .algo = "lz4", .priority = 100, .device = -1};
    unsigned long v;
    int c;
    while ((c = mw_getopt(argc, argv, &cli_zram_doc)) != -1) {
        switch (c) {
        case 's':
            o.size = optarg;
            break;
        case 'a':
            if (!optarg[0] || strlen(optarg) > 23 || strpbrk(optarg, " /\n"))
                return mw_usage_error("zram", "--algo: '%s' is not a compressor name", optarg);
            o.algo = optarg;
            break;
        case 'p':
            if (strcmp(optarg, "-1") == 0)
                o.priority = -1;
            else if (mw_opt_uint("--priority", optarg, 0, 32767, &v) < 0)
                return MW_EXIT_USAGE;
            else
                o.priority = (int)v;
            break;
        case 'd':
            if (mw_opt_uint("--device", optarg, 0, 1000, &v) < 0)
                return MW_EXIT_USAGE;
            o.device = (int)v;
            break;
        case 'f':
            o.force = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_zram_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("zram", c, argv);
        }
    }
    const char *sub = optind < argc ? argv[optind++] : "status";
    if (optind < argc)
        return mw_usage_error("zram", "unexpected argument '%s'", argv[optind]);
    if (strcmp(sub, "status") == 0)
        return zram_status(&ctx->root, &o);
    if (strcmp(sub, "setup") != 0 && strcmp(sub, "off") != 0)
        return mw_usage_error("zram", "'%s' is not one of status, setup, off", sub);
    if (o.json)
        return mw_usage_error("zram", "--json is for status (%s says each step as it takes it)",
                              sub);
    return strcmp(sub, "setup") == 0 ? zram_setup(&ctx->root, &o) : zram_off(&ctx->root, &o);
}
