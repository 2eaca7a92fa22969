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

static int sample_system(struct mw_memsource *s, uint64_t now_ms, struct mw_mem_state *st)
{
    struct mw_meminfo mi;
    int rc = read_meminfo(s, &mi);
    if (rc < 0)
        return rc;
    struct mw_vmstat vs;
    bool have_vs = mw_pread_all(s->vmstat_fd, s->vmstat_buf, sizeof(s->vmstat_buf)) >= 0 &&
                   mw_vmstat_parse_buf(&vs, s->vmstat_buf, NULL) == 0;
    struct mw_psi psi;
    bool have_psi = s->psi_fd >= 0 &&
                    mw_pread_all(s->psi_fd, s->psi_buf, sizeof(s->psi_buf)) >= 0 &&
                    mw_psi_parse_buf(&psi, s->psi_buf, NULL) == 0;
    mw_state_from_system(st, &mi, have_vs ? &vs : NULL, s->have_zi ? &s->zi : NULL,
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

int mw_memsource_sample(struct mw_memsource *s, const struct mw_config *cfg, uint64_t now_ms,
                        struct mw_mem_state *st, bool *warning_changed)
{
    *warning_changed = !s->scope && zoneinfo_refresh(s, now_ms);
    return s->scope ? sample_scope(s, cfg, now_ms, st) : sample_system(s, now_ms, st);
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
