#include "lmk/memsource.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lmk/hooks.h" /* mw_rate_allow */
#include "proc/meminfo.h"
#include "proc/psi.h"
#include "proc/vmstat.h"

void mw_memsource_init(struct mw_memsource *s)
{
    memset(s, 0, sizeof(*s));
    s->meminfo_fd = s->vmstat_fd = s->zoneinfo_fd = s->psi_fd = -1;
    s->cg.dir_fd = -1;
    for (int i = 0; i < MW_CG_SRC_FILES; i++)
        s->cg.fd[i] = -1;
}

/* ROOT/proc/NAME, a regular file only (never a FIFO that would hang the
 * daemon). Returns the descriptor or -errno. */
static int open_proc(const struct mw_root *root, const char *name)
{
    char path[64];
    snprintf(path, sizeof(path), "proc/%s", name);
    return mw_open_regular_at(root->fd, path, 0);
}

/* The first read of /proc/zoneinfo, whole; when it cannot be, the
 * watermark reasons cannot fire: said in S->warning, and the file is not
 * read again. */
static void zoneinfo_setup(struct mw_memsource *s)
{
    long n = mw_zoneinfo_src_init(&s->zsrc, s->zoneinfo_fd, &s->zi);
    if (n >= 0) {
        s->have_zi = true;
        s->zi_read_ms = mw_now_ms();
        return;
    }
    snprintf(s->warning, sizeof(s->warning),
             "/proc/zoneinfo cannot be read whole (%s): watermarks unknown, the watermark "
             "reasons cannot fire",
             mw_strerror((int)-n));
    close(s->zoneinfo_fd);
    s->zoneinfo_fd = -1;
}

int mw_memsource_open(struct mw_memsource *s, const struct mw_root *root, const char *scope)
{
    s->root = root;
    s->scope = scope != NULL;
    s->meminfo_fd = open_proc(root, "meminfo");
    if (s->meminfo_fd < 0)
        return s->meminfo_fd;
    s->vmstat_fd = open_proc(root, "vmstat");
    s->zoneinfo_fd = open_proc(root, "zoneinfo");
    if (s->zoneinfo_fd >= 0 && !scope)
        zoneinfo_setup(s);
    s->psi_fd = open_proc(root, "pressure/memory");
    return scope ? mw_cgroup_src_open(&s->cg, root, scope) : 0;
}

static int read_meminfo(struct mw_memsource *s, struct mw_meminfo *mi)
{
    long n = mw_pread_all(s->meminfo_fd, s->meminfo_buf, sizeof(s->meminfo_buf));
    if (n < 0)
        return (int)n;
    return mw_meminfo_parse_buf(mi, s->meminfo_buf, NULL);
}

static int sample_scope(struct mw_memsource *s, const struct mw_config *cfg, uint64_t now_ms,
                        struct mw_mem_state *st)
{
    struct mw_cgroup_mem cg;
    int rc = mw_cgroup_src_read(&s->cg, &cg);
    if (rc < 0)
        return rc;
    /* the host's RAM and swap bound the cgroup's (mw_cgroup_machine) */
    struct mw_meminfo host;
    if ((rc = read_meminfo(s, &host)) < 0)
        return rc;
    mw_state_from_scope(st, &cg, &host, cfg, s->root->page_size, now_ms);
    return 0;
}

/* vmstat's counters (direct and kswapd scans, refaults, the file LRU)
 * as of NOW_MS. It is the sample's largest file: 5 KiB of text, 80 us of
 * read and parse on the build host where meminfo takes 20 and the PSI
 * file 8 -- near the limit the daemon samples every 10-100 ms. Direct
 * reclaim and the refaults of the working set that thrashing counts are
 * memory stall time: while PSI's "some" total has not moved, the last
 * values are used again, for at most MW_VMSTAT_REUSE_MS (kswapd's scans
 * and the refaults of pages outside the working set go on without a
 * stall; the counters are cumulative, so the next read counts them). */
static bool read_vmstat(struct mw_memsource *s, uint64_t now_ms, const struct mw_psi *psi)
{
    if (s->have_vs && psi && psi->some.total_us == s->vs_psi_total_us &&
        now_ms - s->vs_ms < MW_VMSTAT_REUSE_MS)
        return true;
    s->have_vs = mw_pread_all(s->vmstat_fd, s->vmstat_buf, sizeof(s->vmstat_buf)) >= 0 &&
                 mw_vmstat_parse_buf(&s->vs, s->vmstat_buf, NULL) == 0;
    s->vs_ms = now_ms;
    s->vs_psi_total_us = psi ? psi->some.total_us : 0;
    return s->have_vs;
}

static int sample_system(struct mw_memsource *s, uint64_t now_ms, struct mw_mem_state *st)
{
    struct mw_meminfo mi;
    int rc = read_meminfo(s, &mi);
    if (rc < 0)
        return rc;
    struct mw_psi psi;
    bool have_psi = s->psi_fd >= 0 &&
                    mw_pread_all(s->psi_fd, s->psi_buf, sizeof(s->psi_buf)) >= 0 &&
                    mw_psi_parse_buf(&psi, s->psi_buf, NULL) == 0;
    bool have_vs = read_vmstat(s, now_ms, have_psi ? &psi : NULL);
    mw_state_from_system(st, &mi, have_vs ? &s->vs : NULL, s->have_zi ? &s->zi : NULL,
                         have_psi ? &psi : NULL, s->root->page_size, now_ms);
    return 0;
}

/* Re-reads the watermarks every MW_ZONEINFO_REFRESH_MS through the buffer
 * sized at setup. A zoneinfo grown past the buffer keeps the watermarks
 * read before, and says so. Returns true when S->warning changed. */
static bool zoneinfo_refresh(struct mw_memsource *s, uint64_t now_ms)
{
    if (s->zoneinfo_fd < 0 || now_ms - s->zi_read_ms < MW_ZONEINFO_REFRESH_MS)
        return false;
    s->zi_read_ms = now_ms;
    int rc = mw_zoneinfo_src_read(&s->zsrc, &s->zi);
    bool changed = false;
    if (rc == 0)
        s->have_zi = true;
    if (rc == 0 && s->zi_stale) {
        s->warning[0] = '\0';
        s->zi_stale = false;
        changed = true;
    }
    s->zi_stale |= rc < 0;
    if (rc < 0 && mw_rate_allow(&s->zi_said_ms, now_ms, 3600 * 1000)) {
        snprintf(s->warning, sizeof(s->warning),
                 "/proc/zoneinfo re-read failed (%s; over %zu bytes?): watermarks of %llu s ago "
                 "in use",
                 mw_strerror(-rc), s->zsrc.cap,
                 (unsigned long long)(MW_ZONEINFO_REFRESH_MS / 1000));
        changed = true;
    }
    return changed;
}

/* How fast the headroom (available memory plus free swap) fell lately,
 * into ST->fall_kb_s: measured over windows of MW_FALL_WINDOW_MS (samples
 * near the limit come 10 ms apart, and MemAvailable wanders by a MiB
 * between two of them), a rise decaying it by half a window, a faster
 * fall taking over at once. */
#define MW_FALL_WINDOW_MS 100
static void note_fall(struct mw_memsource *s, struct mw_mem_state *st)
{
    uint64_t head = st->available_kb + st->swap_free_kb;
    uint64_t dt = st->now_ms - s->fall_from_ms;
    if (s->fall_from_ms == 0 || st->now_ms < s->fall_from_ms) {
        s->fall_from_ms = st->now_ms;
        s->fall_from_kb = head;
    } else if (dt >= MW_FALL_WINDOW_MS) {
        double fall =
            head < s->fall_from_kb ? (double)(s->fall_from_kb - head) * 1000.0 / (double)dt : 0;
        s->fall_kb_s = fall > s->fall_kb_s / 2 ? fall : s->fall_kb_s / 2;
        s->fall_from_ms = st->now_ms;
        s->fall_from_kb = head;
    }
    st->fall_kb_s = (uint64_t)s->fall_kb_s;
}

int mw_memsource_sample(struct mw_memsource *s, const struct mw_config *cfg, uint64_t now_ms,
                        struct mw_mem_state *st, bool *warning_changed)
{
    *warning_changed = !s->scope && zoneinfo_refresh(s, now_ms);
    int rc = s->scope ? sample_scope(s, cfg, now_ms, st) : sample_system(s, now_ms, st);
    if (rc == 0)
        note_fall(s, st);
    return rc;
}

void mw_memsource_close(struct mw_memsource *s)
{
    int fds[] = {s->meminfo_fd, s->vmstat_fd, s->zoneinfo_fd, s->psi_fd};
    for (size_t i = 0; i < MW_ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    s->meminfo_fd = s->vmstat_fd = s->zoneinfo_fd = s->psi_fd = -1;
    mw_cgroup_src_close(&s->cg);
    mw_zoneinfo_src_free(&s->zsrc);
}
