#include "analysis/tuneplan.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the kernel accepts for each tunable (the handler's extra1/extra2 in
 * kernel/sysctl.c and mm/ as of Linux 6.x; Documentation/admin-guide/
 * sysctl/vm.rst): an int, bounded where the handler bounds it. */
static const struct {
    int64_t lo, hi;
} knob_range[VM_KNOB_COUNT] = {
    [VM_SWAPPINESS] = {0, 200}, /* 0..100 before 5.8 */
    [VM_MIN_FREE_KBYTES] = {0, INT_MAX},
    [VM_WATERMARK_SCALE_FACTOR] = {1, 3000}, /* 1..1000 before 5.15 */
    [VM_WATERMARK_BOOST_FACTOR] = {0, INT_MAX},
    [VM_VFS_CACHE_PRESSURE] = {0, INT_MAX},
    [VM_OVERCOMMIT_MEMORY] = {0, 2},
    [VM_OVERCOMMIT_RATIO] = {0, INT_MAX},
    [VM_PAGE_CLUSTER] = {0, 31}, /* page_cluster_max since 6.2: 2^31 pages per read */
    [VM_DIRTY_RATIO] = {0, 100},
    [VM_DIRTY_BACKGROUND_RATIO] = {0, 100},
    [VM_EXTRA_FREE_KBYTES] = {0, INT_MAX},
    [VM_PANIC_ON_OOM] = {0, 2},
    [VM_OOM_KILL_ALLOCATING_TASK] = {0, INT_MAX},
};

int mw_tune_knob_value_check(enum mw_vm_knob k, const char *v)
{
    if ((unsigned)k >= VM_KNOB_COUNT || !*v || strlen(v) > 10)
        return -EINVAL;
    for (const char *p = v; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
    long long n = strtoll(v, NULL, 10);
    return n >= knob_range[k].lo && n <= knob_range[k].hi ? 0 : -ERANGE;
}

int mw_tune_algo_check(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(((struct mw_tune_zram *)0)->algo))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
            name[i] != '-' && name[i] != '_')
            return -EINVAL;
    return 0;
}

/* Adds (or, for the same path, replaces) an item; OLD from the readings. */
static int item(struct mw_tune_plan *p, const char *key, const char *path, const char *old,
                const char *new_val, const char *why)
{
    struct mw_tune_item *t = NULL;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->it[i].path, path) == 0)
            t = &p->it[i];
    if (!t) {
        if (p->n >= MW_TUNE_MAX)
            return -ENOSPC;
        t = &p->it[p->n++];
    }
    snprintf(t->key, sizeof(t->key), "%s", key);
    snprintf(t->path, sizeof(t->path), "%s", path);
    snprintf(t->old, sizeof(t->old), "%s", old);
    snprintf(t->new_val, sizeof(t->new_val), "%s", new_val);
    t->why = why;
    return 0;
}

static void knob(struct mw_tune_plan *p, const struct mw_doc_in *in, enum mw_vm_knob k, int64_t v,
                 const char *why)
{
    if (v < 0 || !in->vm.have[k] || in->vm.value[k] == v)
        return;
    char key[64], path[128], old[24], nv[24];
    snprintf(key, sizeof(key), "vm.%s", mw_vm_knob_name(k));
    snprintf(path, sizeof(path), "proc/sys/vm/%s", mw_vm_knob_name(k));
    snprintf(old, sizeof(old), "%" PRId64, in->vm.value[k]);
    snprintf(nv, sizeof(nv), "%" PRId64, v);
    item(p, key, path, old, nv, why);
}

static bool zram_swap_active(const struct mw_doc_in *in, char *name, size_t cap)
{
    for (int i = 0; in->have_swaps && i < in->swaps.count; i++)
        if (strstr(in->swaps.dev[i].name, "/zram")) {
            snprintf(name, cap, "%s", in->swaps.dev[i].name);
            return true;
        }
    return false;
}

/* Picks the device: the first zramN with disksize 0, else a hot_add one. */
static void plan_zram(struct mw_tune_plan *p, const struct mw_doc_in *in,
                      const struct mw_tune_env *env, const struct mw_profile_spec *s)
{
    struct mw_tune_zram *z = &p->zram;
    char name[128];
    memset(z, 0, sizeof(*z));
    if (!s->zram_pct || env->zram_off) {
        snprintf(z->note, sizeof(z->note), "no zram in profile %s", s->name);
        return;
    }
    if (zram_swap_active(in, name, sizeof(name))) {
        snprintf(z->note, sizeof(z->note),
                 "%.60s already swap: kept (memwarden zram setup --force "
                 "resizes)",
                 name);
        return;
    }
    z->device = -1;
    for (int i = 0; i < in->zram.count; i++)
        if (in->zram.dev[i].disksize == 0) {
            z->device = in->zram.dev[i].index;
            break;
        }
    if (z->device < 0) {
        if (!env->have_hot_add) {
            snprintf(z->note, sizeof(z->note),
                     "no free zram device and no zram-control "
                     "(modprobe zram)");
            return;
        }
        z->hot_add = true;
        z->device = 0;
        for (int i = 0; i < in->zram.count; i++)
            if (in->zram.dev[i].index >= z->device)
                z->device = in->zram.dev[i].index + 1;
    }
    z->wanted = true;
    z->size = mw_profile_zram_size(s, in->mi.kb[MI_MEM_TOTAL]);
    z->priority = s->zram_priority;
    snprintf(z->algo, sizeof(z->algo), "%s", s->zram_algo);
    /* the kernel lacks the profile's algorithm: keep its own */
    if (env->algos && env->algos[0] && !strstr(env->algos, s->zram_algo))
        mw_zram_algorithm_parse_buf(z->algo, sizeof(z->algo), env->algos);
}

/* The zram part of --set KEY=V. Returns 0, -EINVAL (malformed), -ERANGE,
 * -ENOENT (an unknown key, or no zram in the plan). */
static int set_zram(struct mw_tune_zram *z, const char *key, const char *v)
{
    if (!z->wanted)
        return -ENOENT;
    if (strcmp(key, "zram.size") == 0) {
        uint64_t size;
        int rc = mw_parse_size(v, &size);
        if (rc == 0 && (size < (1u << 20) || size > (1ull << 50)))
            rc = -ERANGE; /* a MiB .. a PiB: a disksize the kernel takes */
        if (rc == 0)
            z->size = size;
        return rc;
    }
    if (strcmp(key, "zram.algo") == 0) {
        int rc = mw_tune_algo_check(v);
        if (rc == 0)
            snprintf(z->algo, sizeof(z->algo), "%s", v);
        return rc;
    }
    if (strcmp(key, "zram.priority") != 0)
        return -ENOENT;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*end || end == v || errno || !(isdigit((unsigned char)v[0]) || v[0] == '-'))
        return -EINVAL;
    if (n < -1 || n > 32767)
        return -ERANGE;
    z->priority = (int)n;
    return 0;
}

/* "vm.NAME" -> proc/sys/vm/NAME; "zram.*" into the zram part. The value
 * is checked here, when the plan is made, not when it is written: it goes
 * into the sysctl, and with --persist into a boot-time file. */
static int apply_set(struct mw_tune_plan *p, const struct mw_doc_in *in, const char *set)
{
    const char *eq = strchr(set, '=');
    if (!eq || eq == set || !eq[1] || strlen(eq + 1) >= sizeof(p->it[0].new_val))
        return -EINVAL;
    char key[64];
    size_t kl = (size_t)(eq - set);
    if (kl >= sizeof(key))
        return -EINVAL;
    memcpy(key, set, kl);
    key[kl] = '\0';
    const char *v = eq + 1;
    if (strncmp(key, "zram.", 5) == 0)
        return set_zram(&p->zram, key, v);
    if (strncmp(key, "vm.", 3) != 0 || strchr(key + 3, '/') || strstr(key, ".."))
        return -ENOENT;
    for (int k = 0; k < VM_KNOB_COUNT; k++)
        if (strcmp(key + 3, mw_vm_knob_name((enum mw_vm_knob)k)) == 0) {
            if (!in->vm.have[k])
                return -ENOENT;
            int rc = mw_tune_knob_value_check((enum mw_vm_knob)k, v);
            if (rc < 0)
                return rc;
            char old[24], path[128];
            snprintf(old, sizeof(old), "%" PRId64, in->vm.value[k]);
            snprintf(path, sizeof(path), "proc/sys/vm/%s", key + 3);
            return item(p, key, path, old, v, "--set");
        }
    return -ENOENT; /* a vm file memwarden does not read: refuse, no blind writes */
}

int mw_tune_plan_build(const struct mw_doc_in *in, const struct mw_tune_env *env,
                       enum mw_profile profile, char *const *sets, int nsets,
                       struct mw_tune_plan *out, const char **bad)
{
    const struct mw_profile_spec *s = mw_profile_get(profile);
    memset(out, 0, sizeof(*out));
    out->profile = profile;
    plan_zram(out, in, env, s);
    char name[128];
    bool zram = out->zram.wanted || zram_swap_active(in, name, sizeof(name));
    /* swappiness above 100 only when the swap is (or will be) zram */
    int sw = s->swappiness > 100 && !zram ? -1 : s->swappiness;
    knob(out, in, VM_SWAPPINESS, sw, s->source);
    knob(out, in, VM_PAGE_CLUSTER, zram ? s->page_cluster : -1, s->source);
    knob(out, in, VM_WATERMARK_SCALE_FACTOR, s->watermark_scale_factor, s->source);
    knob(out, in, VM_WATERMARK_BOOST_FACTOR, s->watermark_boost_factor, s->source);
    if (!env->dirty_bytes_set) { /* writing a ratio would zero dirty_bytes */
        knob(out, in, VM_DIRTY_RATIO, s->dirty_ratio, s->source);
        knob(out, in, VM_DIRTY_BACKGROUND_RATIO, s->dirty_background_ratio, s->source);
    }
    uint64_t want = mw_default_min_free_kbytes(in->mi.kb[MI_MEM_TOTAL], in->min_free_cap_kb);
    uint64_t mf = in->vm.have[VM_MIN_FREE_KBYTES] ? (uint64_t)in->vm.value[VM_MIN_FREE_KBYTES] : 0;
    /* doctor's rule: below 3/4 of the kernel's default, or above 5% of RAM */
    if (mf && (mf < want * 3 / 4 || mf > in->mi.kb[MI_MEM_TOTAL] / 20))
        knob(out, in, VM_MIN_FREE_KBYTES, (int64_t)want, "kernel default 4*sqrt(lowmem kB)");
    if (profile == MW_PROFILE_SMALL && strcmp(in->thp, "always") == 0)
        item(out, "thp", "sys/kernel/mm/transparent_hugepage/enabled", "always", "madvise",
             "transhuge.rst: THP bloat on <= 1 GiB");
    for (int i = 0; i < nsets; i++) {
        int rc = apply_set(out, in, sets[i]);
        if (rc < 0) {
            *bad = sets[i];
            return rc;
        }
    }
    return 0;
}
