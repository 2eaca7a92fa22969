#include "lmk/pressure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/util.h"

int mw_psi_trigger_format(char *buf, size_t cap, const char *kind, uint64_t stall_ms,
                          uint64_t window_ms)
{
    int n = snprintf(buf, cap, "%s %llu %llu", kind, (unsigned long long)(stall_ms * 1000),
                     (unsigned long long)(window_ms * 1000));
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

uint64_t mw_psi_scale_to_window(uint64_t stall_ms, uint64_t window_ms, uint64_t new_window_ms)
{
    if (window_ms == 0)
        return stall_ms;
    uint64_t s = (stall_ms * new_window_ms + window_ms / 2) / window_ms;
    return s ? s : 1;
}

/* Opens one trigger. Returns the descriptor or -errno. */
static int psi_trigger(int root_fd, const char *path, const char *kind, uint64_t stall_ms,
                       uint64_t window_ms)
{
    char line[64];
    mw_psi_trigger_format(line, sizeof(line), kind, stall_ms, window_ms);
    int fd = openat(root_fd, mw_rel(path), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* The trigger line includes its NUL (the kernel's own example does). */
    if (write(fd, line, strlen(line) + 1) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static int epoll_add(int epfd, int fd, uint32_t events, int tag)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)tag};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup_psi(struct mw_pressure *p, int root_fd, int epfd, const char *path,
                     uint64_t some_ms, uint64_t full_ms, uint64_t window_ms)
{
    int some = psi_trigger(root_fd, path, "some", some_ms, window_ms);
    if (some == -EINVAL && window_ms % 2000 != 0) {
        /* Unprivileged triggers (no CAP_SYS_RESOURCE) need 2 s multiples. */
        uint64_t w = 2000;
        some_ms = mw_psi_scale_to_window(some_ms, window_ms, w);
        full_ms = mw_psi_scale_to_window(full_ms, window_ms, w);
        window_ms = w;
        p->window_fallback = true;
        some = psi_trigger(root_fd, path, "some", some_ms, window_ms);
    }
    if (some < 0)
        return some;
    int full = psi_trigger(root_fd, path, "full", full_ms, window_ms);
    if (full < 0) {
        close(some);
        return full;
    }
    int rc;
    if ((rc = epoll_add(epfd, some, EPOLLPRI, MW_TAG_PSI_SOME)) < 0 ||
        (rc = epoll_add(epfd, full, EPOLLPRI, MW_TAG_PSI_FULL)) < 0) {
        close(some);
        close(full);
        return rc;
    }
    p->some_fd = some;
    p->full_fd = full;
    p->some_ms = some_ms;
    p->full_ms = full_ms;
    p->window_ms = window_ms;
    return 0;
}

static int vmp_register(int control_fd, int level_fd, const char *level)
{
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0)
        return -errno;
    char line[64];
    int n = snprintf(line, sizeof(line), "%d %d %s", efd, level_fd, level);
    if (write(control_fd, line, (size_t)n + 1) < 0) {
        int e = -errno;
        close(efd);
        return e;
    }
    return efd;
}

static int setup_vmp(struct mw_pressure *p, int root_fd, int epfd, const char *dir)
{
    char path[512];
    dir = mw_rel(dir);
    snprintf(path, sizeof(path), "%s/memory.pressure_level", dir);
    int level = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
    if (level < 0)
        return -errno;
    snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
    int control = openat(root_fd, path, O_WRONLY | O_CLOEXEC);
    if (control < 0) {
        int e = -errno;
        close(level);
        return e;
    }
    int med = vmp_register(control, level, "medium");
    int crit = med >= 0 ? vmp_register(control, level, "critical") : -1;
    int rc = med < 0 ? med : crit < 0 ? crit : 0;
    if (rc == 0)
        rc = epoll_add(epfd, med, EPOLLIN, MW_TAG_VMP_MEDIUM);
    if (rc == 0)
        rc = epoll_add(epfd, crit, EPOLLIN, MW_TAG_VMP_CRITICAL);
    if (rc < 0) {
        if (med >= 0)
            close(med);
        if (crit >= 0)
            close(crit);
        close(level);
        close(control);
        return rc;
    }
    p->vmp_medium_fd = med;
    p->vmp_crit_fd = crit;
    p->vmp_level_fd = level;
    p->vmp_control_fd = control;
    return 0;
}

void mw_pressure_open(struct mw_pressure *p, int root_fd, int epfd, const char *psi_path,
                      const char *vmp_dir, uint64_t some_ms, uint64_t full_ms, uint64_t window_ms)
{
    memset(p, 0, sizeof(*p));
    p->some_fd = p->full_fd = p->vmp_medium_fd = p->vmp_crit_fd = -1;
    p->vmp_level_fd = p->vmp_control_fd = -1;
    p->source = MW_SRC_POLL;
    p->psi_err = p->vmp_err = -ENOENT;
    if (psi_path) {
        p->psi_err = setup_psi(p, root_fd, epfd, psi_path, some_ms, full_ms, window_ms);
        if (p->psi_err == 0) {
            p->source = MW_SRC_PSI;
            snprintf(p->desc, sizeof(p->desc),
                     "psi trigger %s some %llums/%llums full %llums/%llums%s", psi_path,
                     (unsigned long long)p->some_ms, (unsigned long long)p->window_ms,
                     (unsigned long long)p->full_ms, (unsigned long long)p->window_ms,
                     p->window_fallback ? " (2 s window fallback)" : "");
            return;
        }
    }
    if (vmp_dir) {
        p->vmp_err = setup_vmp(p, root_fd, epfd, vmp_dir);
        if (p->vmp_err == 0) {
            p->source = MW_SRC_VMPRESSURE;
            snprintf(p->desc, sizeof(p->desc),
                     "vmpressure %s/memory.pressure_level medium+critical", vmp_dir);
            return;
        }
    }
    snprintf(p->desc, sizeof(p->desc), "polling (adaptive)");
}

unsigned mw_pressure_ack(struct mw_pressure *p, int tag)
{
    uint64_t v;
    switch (tag) {
    case MW_TAG_PSI_SOME:
        return MW_EV_PARTIAL_STALL;
    case MW_TAG_PSI_FULL:
        return MW_EV_COMPLETE_STALL;
    case MW_TAG_VMP_MEDIUM:
        if (read(p->vmp_medium_fd, &v, sizeof(v)) < 0)
            return 0;
        return MW_EV_PARTIAL_STALL;
    case MW_TAG_VMP_CRITICAL:
        if (read(p->vmp_crit_fd, &v, sizeof(v)) < 0)
            return 0;
        /* vmpressure "critical" means reclaim is failing, not that every
         * task stalls: treat it as partial pressure that samples fast. */
        return MW_EV_PARTIAL_STALL;
    }
    return 0;
}

void mw_pressure_close(struct mw_pressure *p)
{
    int *fds[] = {&p->some_fd,     &p->full_fd,      &p->vmp_medium_fd,
                  &p->vmp_crit_fd, &p->vmp_level_fd, &p->vmp_control_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}
