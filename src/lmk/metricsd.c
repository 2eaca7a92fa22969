#include "lmk/metricsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/trend.h"
#include "lmk/history.h"
#include "lmk/state.h"

/* ---- gathering ---------------------------------------------------------- */

int mw_metrics_gather_sys(const struct mw_root *root, struct mw_metrics_sys *out)
{
    static const char *psi_path[3] = {"/proc/pressure/memory", "/proc/pressure/io",
                                      "/proc/pressure/cpu"};
    memset(out, 0, sizeof(*out));
    int rc = mw_meminfo_read(root, &out->mi, NULL);
    out->have_mi = rc == 0;
    out->have_vm = mw_vmstat_read(root, &out->vm, NULL) == 0;
    out->have_swaps = mw_swaps_read(root, &out->swaps, NULL) == 0;
    if (mw_zram_read(root, &out->zram) < 0)
        out->zram.count = 0;
    for (int i = 0; i < 3; i++)
        out->have_psi[i] = mw_psi_read(root, psi_path[i], &out->psi[i], NULL) == 0;
    return rc;
}

/* Adds one history line to the sums in A. */
static void history_line(struct mw_metrics_daemon *a, const char *line, size_t len)
{
    struct mw_kill_entry e;
    if (mw_kill_parse_json(line, len, &e) < 0)
        return;
    const char *result = e.dry_run ? "dry_run" : e.exited ? "exited" : "signalled";
    mw_metrics_count_kill(a, e.reason, result);
    if (e.time_s > 0 && (uint64_t)e.time_s > a->history_last_kill_s && !e.dry_run)
        a->history_last_kill_s = (uint64_t)e.time_s;
    mw_metrics_hist_observe(&a->signal_latency, e.latency_s);
    if (e.dry_run)
        return;
    if (e.exited)
        mw_metrics_hist_observe(&a->exit_latency, e.wait_s);
    if (e.freed > 0)
        a->freed_bytes += (uint64_t)e.freed;
}

/* Reads from H->off to the end of FD into the sums, whole lines only. */
static int history_read_from(int fd, struct mw_metrics_history *h)
{
    static char buf[65536];
    size_t have = 0;
    for (;;) {
        ssize_t r = pread(fd, buf + have, sizeof(buf) - have, h->off + (off_t)have);
        if (r < 0)
            return errno == EINTR ? 0 : -errno;
        if (r == 0)
            return 0;
        have += (size_t)r;
        size_t start = 0;
        for (char *nl; (nl = memchr(buf + start, '\n', have - start));) {
            history_line(&h->agg, buf + start, (size_t)(nl - (buf + start)));
            start = (size_t)(nl - buf) + 1;
        }
        if (start == 0 && have == sizeof(buf))
            start = have; /* a line over 64 KiB is no kill record: skip it */
        h->off += (off_t)start;
        memmove(buf, buf + start, have - start);
        have -= start;
    }
}

int mw_metrics_history_update(const struct mw_root *root, const char *path,
                              struct mw_metrics_history *h, struct mw_metrics_daemon *d)
{
    while (*path == '/')
        path++;
    int fd = mw_open_regular_at(root->fd, path, O_RDONLY);
    if (fd < 0)
        return fd;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0) {
        if (st.st_dev != h->dev || st.st_ino != h->ino || st.st_size < h->off) {
            memset(h, 0, sizeof(*h)); /* rotated or truncated: start over */
            h->dev = st.st_dev;
            h->ino = st.st_ino;
        }
        rc = history_read_from(fd, h);
    }
    close(fd);
    if (rc < 0)
        return rc;
    const struct mw_metrics_daemon *a = &h->agg;
    d->have_history = true;
    d->nkinds = a->nkinds;
    memcpy(d->kinds, a->kinds, sizeof(d->kinds));
    d->freed_bytes = a->freed_bytes;
    d->history_last_kill_s = a->history_last_kill_s;
    d->signal_latency = a->signal_latency;
    d->exit_latency = a->exit_latency;
    return 0;
}

/* VmRSS of PID under ROOT in bytes. Returns 0 or -errno. */
static int pid_rss(const struct mw_root *root, int pid, uint64_t *out)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "proc/%d/status", pid);
    long n = mw_read_small_at(root->fd, path, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    const char *p = strstr(buf, "\nVmRSS:");
    if (!p)
        return -ENODATA; /* a zombie or a kernel thread */
    p += 7;
    uint64_t kb;
    if (mw_scan_u64(&p, &kb) < 0)
        return -EINVAL;
    *out = kb * 1024;
    return 0;
}

int mw_metrics_gather_daemon(const struct mw_root *root, const char *path,
                             struct mw_metrics_daemon *d)
{
    struct mw_daemon_state s;
    int rc = mw_daemon_state_read(root, path, &s);
    if (rc < 0)
        return rc;
    d->have_state = true;
    snprintf(d->source, sizeof(d->source), "%s", s.source);
    snprintf(d->strategy, sizeof(d->strategy), "%s", s.strategy);
    d->scoped = s.scope[0] != '\0';
    d->dry_run = s.dry_run;
    d->started_s = s.started;
    d->last_kill_time_s = s.last_kill_time;
    d->wakeups_timer = s.wakeups_timer;
    d->wakeups_pressure = s.wakeups_pressure;
    d->have_rss = pid_rss(root, s.pid, &d->rss) == 0;
    d->up = d->have_rss;
    return 0;
}

/* ---- the textfile ------------------------------------------------------- */

int mw_metrics_textfile_write(const char *dir, const char *text, size_t len)
{
    char tmp[64];
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    snprintf(tmp, sizeof(tmp), ".memwarden.prom.%d.tmp", (int)getpid());
    if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
        int e = errno;
        close(dfd);
        return -e;
    }
    int rc = 0;
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    for (size_t done = 0; done < len && rc == 0;) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno != EINTR)
            rc = -errno;
        done += w > 0 ? (size_t)w : 0;
    }
    if (rc == 0 && fchmod(fd, 0644) < 0) /* whatever the umask: node_exporter reads it */
        rc = -errno;
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(dfd, tmp, dfd, "memwarden.prom") < 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(dfd, tmp, 0);
    else
        fsync(dfd); /* the rename itself survives a crash */
out:
    close(dfd);
    return rc;
}

/* ---- the listening socket ----------------------------------------------- */

int mw_metrics_listen(const char *spec, char *desc, size_t cap)
{
    char host[128] = "127.0.0.1", port[16];
    const char *colon = strrchr(spec, ':');
    if (!colon) {
        snprintf(port, sizeof(port), "%s", spec);
    } else {
        const char *h = spec, *he = colon;
        if (*h == '[' && he > h && he[-1] == ']') {
            h++;
            he--;
        }
        if ((size_t)(he - h) >= sizeof(host) || he == h)
            return -EINVAL;
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
        snprintf(port, sizeof(port), "%s", colon + 1);
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM},
                    *ai;
    if (!port[0] || getaddrinfo(host, port, &hints, &ai) != 0)
        return -EINVAL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc = 0;
    int one = 1;
    if (fd < 0)
        rc = -errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
             bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0)
        rc = -errno;
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char h2[64] = "?", p2[16] = "?";
    if (rc == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, h2, sizeof(h2), p2, sizeof(p2),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(desc, cap, strchr(h2, ':') ? "[%s]:%s" : "%s:%s", h2, p2);
    if (rc < 0 && fd >= 0)
        close(fd);
    return rc < 0 ? rc : fd;
}

struct mw_metrics_live *mw_metrics_live_new(void)
{
    void *p = mmap(NULL, sizeof(struct mw_metrics_live), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
