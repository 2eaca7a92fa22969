#include "proc/vmtune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const knob_names[VM_KNOB_COUNT] = {
    [VM_SWAPPINESS] = "swappiness",
    [VM_MIN_FREE_KBYTES] = "min_free_kbytes",
    [VM_WATERMARK_SCALE_FACTOR] = "watermark_scale_factor",
    [VM_WATERMARK_BOOST_FACTOR] = "watermark_boost_factor",
    [VM_VFS_CACHE_PRESSURE] = "vfs_cache_pressure",
    [VM_OVERCOMMIT_MEMORY] = "overcommit_memory",
    [VM_OVERCOMMIT_RATIO] = "overcommit_ratio",
    [VM_PAGE_CLUSTER] = "page-cluster",
    [VM_DIRTY_RATIO] = "dirty_ratio",
    [VM_DIRTY_BACKGROUND_RATIO] = "dirty_background_ratio",
    [VM_EXTRA_FREE_KBYTES] = "extra_free_kbytes",
    [VM_PANIC_ON_OOM] = "panic_on_oom",
    [VM_OOM_KILL_ALLOCATING_TASK] = "oom_kill_allocating_task",
};

const char *mw_vm_knob_name(enum mw_vm_knob k)
{
    return (unsigned)k < VM_KNOB_COUNT ? knob_names[k] : "?";
}

int mw_vmtune_read(const struct mw_root *root, struct mw_vmtune *out)
{
    struct mw_vmtune t;
    memset(&t, 0, sizeof(t));
    int n = 0;
    for (int k = 0; k < VM_KNOB_COUNT; k++) {
        char path[64], *buf, *end;
        snprintf(path, sizeof(path), "/proc/sys/vm/%s", knob_names[k]);
        if (mw_read_file(root, path, &buf, NULL) < 0)
            continue;
        long long v = strtoll(buf, &end, 10);
        if (end != buf && (*end == '\n' || *end == '\0')) {
            t.value[k] = v;
            t.have[k] = true;
            n++;
        }
        free(buf);
    }
    *out = t;
    return n;
}
