/* vmtune: the memory tunables of /proc/sys/vm (sysctl vm.*). */
#ifndef MW_VMTUNE_H
#define MW_VMTUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

enum mw_vm_knob {
    VM_SWAPPINESS,
    VM_MIN_FREE_KBYTES,
    VM_WATERMARK_SCALE_FACTOR,
    VM_WATERMARK_BOOST_FACTOR,
    VM_VFS_CACHE_PRESSURE,
    VM_OVERCOMMIT_MEMORY,
    VM_OVERCOMMIT_RATIO,
    VM_PAGE_CLUSTER,
    VM_DIRTY_RATIO,
    VM_DIRTY_BACKGROUND_RATIO,
    VM_EXTRA_FREE_KBYTES, /* Android / some vendor kernels only */
    VM_PANIC_ON_OOM,
    VM_OOM_KILL_ALLOCATING_TASK,
    VM_KNOB_COUNT
};

struct mw_vmtune {
    int64_t value[VM_KNOB_COUNT];
    bool have[VM_KNOB_COUNT];
};

/* The file name under /proc/sys/vm ("swappiness", "page-cluster"). */
const char *mw_vm_knob_name(enum mw_vm_knob k);

/* Reads every knob that exists; a missing one stays have=false. Returns the
 * number read (0 when /proc/sys/vm is absent or unreadable). */
int mw_vmtune_read(const struct mw_root *root, struct mw_vmtune *out);

#endif
