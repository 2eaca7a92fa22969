#include "proc/vmstat.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* How each counter lands in the struct; ADD sums several kernel counters
 * into one field (allocstall_normal + allocstall_movable + ...). */
static const struct {
    const char *name;
    size_t off;
    bool prefix; /* NAME is a prefix: every counter starting with it is added */
} counters[] = {
    {"nr_free_pages", offsetof(struct mw_vmstat, nr_free_pages), false},
    {"nr_inactive_file", offsetof(struct mw_vmstat, nr_inactive_file), false},
    {"nr_active_file", offsetof(struct mw_vmstat, nr_active_file), false},
    {"nr_inactive_anon", offsetof(struct mw_vmstat, nr_inactive_anon), false},
    {"nr_active_anon", offsetof(struct mw_vmstat, nr_active_anon), false},
    {"nr_shmem", offsetof(struct mw_vmstat, nr_shmem), false},
    {"nr_slab_reclaimable", offsetof(struct mw_vmstat, nr_slab_reclaimable), false},
    {"nr_slab_unreclaimable", offsetof(struct mw_vmstat, nr_slab_unreclaimable), false},
    {"workingset_refault_anon", offsetof(struct mw_vmstat, workingset_refault_anon), false},
    {"workingset_refault_file", offsetof(struct mw_vmstat, workingset_refault_file), false},
    {"workingset_refault", offsetof(struct mw_vmstat, workingset_refault_file), false},
    {"pgscan_kswapd", offsetof(struct mw_vmstat, pgscan_kswapd), true},
    {"pgscan_direct", offsetof(struct mw_vmstat, pgscan_direct), true},
    {"pgsteal_kswapd", offsetof(struct mw_vmstat, pgsteal_kswapd), true},
    {"pgsteal_direct", offsetof(struct mw_vmstat, pgsteal_direct), true},
    {"allocstall", offsetof(struct mw_vmstat, allocstall), true},
    {"pswpin", offsetof(struct mw_vmstat, pswpin), false},
    {"pswpout", offsetof(struct mw_vmstat, pswpout), false},
    {"pgmajfault", offsetof(struct mw_vmstat, pgmajfault), false},
    {"oom_kill", offsetof(struct mw_vmstat, oom_kill), false},
    {"compact_stall", offsetof(struct mw_vmstat, compact_stall), false},
};

/*
 * Lines of /proc/vmstat:
 *   workingset_refault_file 48213
 *   pgscan_direct 0
 *   allocstall_normal 0        (4.x+: one per zone type; older: allocstall)
 *   pgscan_direct_throttle 0   (not a scan count: excluded from the sum)
 */
int mw_vmstat_parse_buf(struct mw_vmstat *out, const char *buf, int *bad_line)
{
    struct mw_vmstat v;
    memset(&v, 0, sizeof(v));
    int line = 0, known = 0;
    const char *c = buf, *p;
    size_t llen;
    while (mw_next_line(&c, &p, &llen)) {
        const char *eol = p + llen;
        line++;
        const char *sp = memchr(p, ' ', llen);
        if (sp) {
            size_t len = (size_t)(sp - p);
            for (size_t i = 0; i < MW_ARRAY_SIZE(counters); i++) {
                size_t n = strlen(counters[i].name);
                bool match = counters[i].prefix ? len >= n && memcmp(p, counters[i].name, n) == 0
                                                : len == n && memcmp(p, counters[i].name, n) == 0;
                if (!match || (len == 22 && memcmp(p, "pgscan_direct_throttle", 22) == 0))
                    continue;
                const char *q = sp;
                uint64_t val;
                if (mw_scan_u64(&q, &val) < 0 || q > eol) {
                    if (bad_line)
                        *bad_line = line;
                    return -EINVAL;
                }
                uint64_t *field = (uint64_t *)((char *)&v + counters[i].off);
                *field += val;
                known++;
                break;
            }
        }
    }
    if (!known)
        return -ENODATA;
    *out = v;
    return 0;
}

int mw_vmstat_read(const struct mw_root *root, struct mw_vmstat *out, int *bad_line)
{
    char *buf;
    int rc = mw_read_file(root, "/proc/vmstat", &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_vmstat_parse_buf(out, buf, bad_line);
    free(buf);
    return rc;
}
