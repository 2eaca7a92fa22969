/* memwarden drop-caches: what echo N > /proc/sys/vm/drop_caches would free,
 * why it is rarely needed, and (--yes) doing it and measuring the result. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "cli/cli.h"
#include "proc/knobs.h"
#include "proc/meminfo.h"

static const struct mw_opt drop_caches_opts[] = {
    {"level", 'l', 0, "N", "1 page cache, 2 slab (dentries, inodes), 3 both (default 3)", "1 2 3"},
    {"yes", 'y', 0, NULL, "do it", NULL},
    {"json", 'j', 0, NULL,
     "one JSON object: the estimate (bytes) and, with --yes, what was\n"
     "freed (\"dropped\": null without)",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_drop_caches_doc = {
    .head = "NAME\n"
            "    memwarden drop-caches - what dropping the caches would free; --yes does it\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden [--root DIR] drop-caches [--level 1|2|3] [--yes] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    Estimates from /proc/meminfo what the kernel's drop_caches would free:\n"
            "    level 1 the clean, unmapped page cache (Buffers + Cached - Shmem - Dirty -\n"
            "    Writeback - Mapped), level 2 the reclaimable slab (dentries, inodes:\n"
            "    SReclaimable, of which in-use objects stay), level 3 both. Dirty pages go\n"
            "    only after the sync done first; mapped pages and tmpfs/shm never go.\n"
            "    It is rarely needed (the VisionCore guide's warning): the kernel drops\n"
            "    clean cache by itself the moment memory is needed, and whatever is\n"
            "    dropped is read from disk again on next use. It cures no leak; it only\n"
            "    makes 'free' look better for a while. Useful for a cold-cache benchmark\n"
            "    or to tell cache from a leak (what does not come back is not cache).\n"
            "    With --yes (live system, root): sync, write the level, then report what\n"
            "    was really freed and how long it took.\n",
    .opts = drop_caches_opts,
    .exit_ok = "estimated, or dropped with --yes",
    .exit_fail = "could not (not root, a captured tree, the write failed)",
};

/* What drop_caches LEVEL can free (bytes), and what stays. Pure. */
struct drop_estimate {
    uint64_t pagecache, slab, dirty, mapped, shmem;
};

static void drop_estimate(const struct mw_meminfo *mi, int level, struct drop_estimate *e)
{
    uint64_t cache = mw_meminfo_bytes(mi, MI_BUFFERS) + mw_meminfo_bytes(mi, MI_CACHED);
    e->shmem = mw_meminfo_bytes(mi, MI_SHMEM);
    e->dirty = mw_meminfo_bytes(mi, MI_DIRTY) + mw_meminfo_bytes(mi, MI_WRITEBACK);
    e->mapped = mw_meminfo_bytes(mi, MI_MAPPED);
    e->pagecache = level & 1 ? mw_sub0(cache, e->shmem + e->dirty + e->mapped) : 0;
    e->slab = level & 2 ? mw_meminfo_bytes(mi, MI_SRECLAIMABLE) : 0;
}

static void print_estimate(const struct mw_meminfo *mi, int level)
{
    struct drop_estimate e;
    char a[32], b[32], c[32], d[32];
    drop_estimate(mi, level, &e);
    printf("drop_caches level %d would free about %s:\n", level,
           mw_fmt_size(a, sizeof(a), e.pagecache + e.slab));
    if (level & 1)
        printf("  page cache, clean and unmapped   %s\n", mw_fmt_size(a, sizeof(a), e.pagecache));
    if (level & 2)
        printf("  reclaimable slab (up to)         %s  (dentries, inodes; in-use ones stay)\n",
               mw_fmt_size(a, sizeof(a), e.slab));
    printf("  stays: mapped %s, tmpfs/shm %s; dirty %s goes only after the sync\n",
           mw_fmt_size(b, sizeof(b), e.mapped), mw_fmt_size(c, sizeof(c), e.shmem),
           mw_fmt_size(d, sizeof(d), e.dirty));
    printf("Rarely needed: the kernel frees clean cache itself when memory is needed, and\n"
           "what is dropped is read from disk again; it cures no leak (VisionCore guide).\n");
}

/* What --yes did: MemFree, Cached and SReclaimable after minus before. */
struct drop_done {
    uint64_t ms;
    int64_t memfree, cached, slab;
};

static int64_t delta(const struct mw_meminfo *before, const struct mw_meminfo *after,
                     enum mw_mi_field k)
{
    return (int64_t)mw_meminfo_bytes(after, k) - (int64_t)mw_meminfo_bytes(before, k);
}

/* Syncs, writes LEVEL to drop_caches and measures it into *OUT. Returns
 * MW_EXIT_OK, or MW_EXIT_FAIL (said). */
static int drop_now(const struct mw_root *root, int level, struct drop_done *out)
{
    if (!mw_root_is_live(root)) {
        mw_err("drop-caches --yes acts on the live system only, not on a captured tree");
        return MW_EXIT_FAIL;
    }
    struct mw_meminfo before, after;
    char lv[4];
    sync();
    if (mw_meminfo_read(root, &before, NULL) < 0)
        return MW_EXIT_FAIL;
    uint64_t t0 = mw_now_ms();
    snprintf(lv, sizeof(lv), "%d", level);
    int rc = mw_knob_write_str(root, "/proc/sys/vm/drop_caches", lv);
    uint64_t ms = mw_now_ms() - t0;
    if (rc < 0) {
        mw_err("write %s to /proc/sys/vm/drop_caches: %s", lv, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    if (mw_meminfo_read(root, &after, NULL) < 0)
        return MW_EXIT_FAIL;
    *out = (struct drop_done){.ms = ms,
                              .memfree = delta(&before, &after, MI_MEM_FREE),
                              .cached = delta(&before, &after, MI_CACHED),
                              .slab = delta(&before, &after, MI_SRECLAIMABLE)};
    return MW_EXIT_OK;
}

static void print_done(int level, const struct drop_done *d)
{
    char a[32], b[32], c[32];
    printf("dropped (level %d) in %" PRIu64 " ms: MemFree %s, Cached %s, SReclaimable %s\n", level,
           d->ms, mw_fmt_size_delta(a, sizeof(a), d->memfree),
           mw_fmt_size_delta(b, sizeof(b), d->cached), mw_fmt_size_delta(c, sizeof(c), d->slab));
}

/* The estimate and (D non-NULL) what --yes did, as one JSON object. */
static void print_json(const struct mw_meminfo *mi, int level, const struct drop_done *d)
{
    struct drop_estimate e;
    struct mw_json j;
    drop_estimate(mi, level, &e);
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_i64(&j, "level", level);
    mw_json_object_begin(&j, "estimate");
    mw_json_u64(&j, "frees", e.pagecache + e.slab);
    mw_json_u64(&j, "pagecache", e.pagecache);
    mw_json_u64(&j, "slab", e.slab);
    mw_json_u64(&j, "stays_mapped", e.mapped);
    mw_json_u64(&j, "stays_shmem", e.shmem);
    mw_json_u64(&j, "dirty", e.dirty);
    mw_json_object_end(&j);
    if (d) {
        mw_json_object_begin(&j, "dropped");
        mw_json_fixed(&j, "duration", (double)d->ms / 1000.0, 3);
        mw_json_i64(&j, "memfree_delta", d->memfree);
        mw_json_i64(&j, "cached_delta", d->cached);
        mw_json_i64(&j, "sreclaimable_delta", d->slab);
        mw_json_object_end(&j);
    } else {
        mw_json_null(&j, "dropped");
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

int cli_drop_caches(struct mw_ctx *ctx, int argc, char **argv)
{
    unsigned long level = 3;
    bool yes = false, json = false;
    int c;
    while ((c = mw_getopt(argc, argv, &cli_drop_caches_doc)) != -1) {
        switch (c) {
        case 'l':
            if (mw_opt_uint("--level", optarg, 1, 3, &level) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'y':
            yes = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_drop_caches_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("drop-caches", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("drop-caches", "unexpected argument '%s'", argv[optind]);
    struct mw_meminfo mi;
    int rc = mw_meminfo_read(&ctx->root, &mi, NULL);
    if (rc < 0) {
        mw_err("cannot read /proc/meminfo: %s", mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    struct drop_done done;
    if (yes && (rc = drop_now(&ctx->root, (int)level, &done)) != MW_EXIT_OK)
        return rc;
    if (json) {
        print_json(&mi, (int)level, yes ? &done : NULL);
        return MW_EXIT_OK;
    }
    print_estimate(&mi, (int)level);
    if (yes)
        print_done((int)level, &done);
    else
        printf("Nothing done: --yes does it (sync first).\n");
    return MW_EXIT_OK;
}
