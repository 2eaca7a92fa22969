#include "lmk/metricsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
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
#include <sys/syscall.h>
#include <unistd.h>

#include "analysis/trend.h"
#include "lmk/history.h"
#include "model/daemonstate.h"
#include "model/procmatch.h"
#include "model/proctable.h"

/* ---- gathering ---------------------------------------------------------- */

int mw_metrics_gather_sys(const struct mw_root *root, struct mw_metrics_sys *out)
{
    static const char *psi_path[3] = {"/proc/pressure/memory", "/proc/pressure/io",
                                      "/proc/pressure/cpu"};
    memset(out, 0, sizeof(*out));
    char *buf;
    int rc = mw_read_file(root, "/proc/meminfo", &buf, NULL);
    if (rc == 0) {
        rc = mw_meminfo_parse_buf(&out->mi, buf, NULL);
        mw_meminfo_parse_all_buf(&out->mi_all, buf, NULL);
        free(buf);
    }
    out->have_mi = rc == 0;
    out->have_vm = mw_vmstat_read(root, &out->vm, NULL) == 0;
    out->have_swaps = mw_swaps_read(root, &out->swaps, NULL) == 0;
    if (mw_zram_read(root, &out->zram) < 0)
        out->zram.count = 0;
    for (int i = 0; i < 3; i++)
        out->have_psi[i] = mw_psi_read(root, psi_path[i], &out->psi[i], NULL) == 0;
    return rc;
}

_Static_assert(MW_METRICS_PHASES == MW_KILL_PHASES, "the phases of history.h are the metrics'");

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
    if (e.have_timing && !e.dry_run) {
        a->have_phases = true;
        for (int i = 0; i < MW_METRICS_PHASES; i++)
            mw_metrics_phase_observe(&a->phase[i], e.phase_s[i]);
    }
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
    d->have_phases = a->have_phases;
    memcpy(d->phase, a->phase, sizeof(d->phase));
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

int mw_metrics_addr_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *salen)
{
    char host[128] = "127.0.0.1", port[16];
    const char *colon = strrchr(spec, ':');
    if (!colon) {
        if (strlen(spec) >= sizeof(port))
            return -EINVAL;
        snprintf(port, sizeof(port), "%s", spec);
    } else {
        const char *h = spec, *he = colon;
        if (*h == '[' && he > h && he[-1] == ']') {
            h++;
            he--;
        }
        if ((size_t)(he - h) >= sizeof(host) || he == h || strlen(colon + 1) >= sizeof(port))
            return -EINVAL;
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
        snprintf(port, sizeof(port), "%s", colon + 1);
    }
    /* numeric only, with inet_pton rather than getaddrinfo: a static glibc
     * build would otherwise need glibc's NSS libraries at run time */
    char *end;
    errno = 0;
    unsigned long pn = strtoul(port, &end, 10);
    if (!port[0] || *end || errno || pn > 65535 || !(port[0] >= '0' && port[0] <= '9'))
        return -EINVAL;
    struct sockaddr_storage a;
    memset(&a, 0, sizeof(a));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)pn);
        *salen = sizeof(*v4);
    } else if (strchr(host, ':') && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)pn);
        *salen = sizeof(*v6);
    } else {
        return -EINVAL;
    }
    *sa = a;
    return 0;
}

int mw_metrics_listen(const char *spec, char *desc, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    if (mw_metrics_addr_parse(spec, &sa, &salen) < 0)
        return -EINVAL;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc = 0;
    int one = 1;
    if (fd < 0)
        rc = -errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
             bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 128) < 0)
        rc = -errno;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char h2[INET6_ADDRSTRLEN] = "?";
    unsigned port_bound = 0;
    if (rc == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h2, sizeof(h2));
            port_bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h2, sizeof(h2));
            port_bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    snprintf(desc, cap, strchr(h2, ':') ? "[%s]:%u" : "%s:%u", h2, port_bound);
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

/* ---- the metrics process ------------------------------------------------ */

#define MD_MAX_CLIENTS 32   /* more wait in the listen backlog */
#define MD_REQ_MAX     4096 /* a scraper's request is a few hundred bytes */
#define MD_CLIENT_MS   2000 /* a client has this long to ask and to be answered */
#define MD_EVICT_MS    250  /* when full, one still asking after this makes room */
#define MD_LEAK_POINTS 240  /* an hour of samples at the default 15 s */
#define MD_LEAK_MIN_S  300  /* no leak verdict on less than 5 minutes (metrics_leak_window) */
#define MD_WATCH_MAX   (MW_METRICS_MAX_LEAKS - 2) /* slab and shmem take two */

struct md_client {
    int fd;
    uint64_t deadline_ms;
    size_t got;
    char req[MD_REQ_MAX];
    char *out; /* the response being sent (malloc'd) */
    size_t out_len, out_off;
};

/* A series sampled on the metrics process's timer, for the leak verdict. */
struct md_series {
    size_t n;
    double t[MD_LEAK_POINTS], v[MD_LEAK_POINTS];
};

struct md {
    const struct mw_root *root;
    const struct mw_metricsd_opts *o;
    const struct mw_metrics_live *live;
    pid_t parent;
    struct md_client c[MD_MAX_CLIENTS];
    struct mw_metrics_history hist;
    struct md_series slab, shmem;
    struct md_series watch[MD_WATCH_MAX];          /* one per pattern of o->watch */
    struct mw_match_spec watch_spec[MD_WATCH_MAX]; /* ... parsed once, at start */
    const char *watch_name[MD_WATCH_MAX];          /* ... as configured: the label */
    int nwatch;
    struct mw_metrics m;
    int link;     /* the socketpair between the gatherer and the server; -1 none */
    uint32_t seq; /* the server's last request on it */
};

static void series_add(struct md_series *s, double t, double v)
{
    if (s->n == MD_LEAK_POINTS) { /* drop the oldest */
        memmove(s->t, s->t + 1, (MD_LEAK_POINTS - 1) * sizeof(double));
        memmove(s->v, s->v + 1, (MD_LEAK_POINTS - 1) * sizeof(double));
        s->n--;
    }
    s->t[s->n] = t;
    s->v[s->n++] = v;
}

static void series_leak(struct mw_metrics *m, const char *object, const struct md_series *s,
                        double min_s)
{
    struct mw_trend_params p;
    struct mw_trend tr;
    mw_trend_params_default(&p);
    /* a verdict on minutes of data says little: wait for MD_LEAK_MIN_S */
    if (s->n < 8 || s->t[s->n - 1] - s->t[0] < min_s ||
        mw_trend_classify(s->t, s->v, s->n, &p, &tr) < 0 || tr.verdict == MW_TREND_UNKNOWN ||
        m->nleaks >= MW_METRICS_MAX_LEAKS)
        return;
    struct mw_metrics_leak *l = &m->leaks[m->nleaks++];
    snprintf(l->object, sizeof(l->object), "%s", object);
    l->verdict = (int)tr.verdict - MW_TREND_STABLE; /* too short: -1 */
    l->slope_bytes_per_s = tr.slope_bytes_per_hour / 3600.0;
    l->window_s = tr.window_s;
}

/* Everything a scrape shows, read now. */
static void md_gather(struct md *md)
{
    struct mw_metrics *m = &md->m;
    memset(m, 0, sizeof(*m));
    mw_metrics_gather_sys(md->root, &m->sys);
    struct mw_metrics_daemon *d = &m->d;
    if (md->o->state_path && md->o->state_path[0])
        mw_metrics_gather_daemon(md->root, md->o->state_path, d);
    if (md->o->history_path && md->o->history_path[0])
        mw_metrics_history_update(md->root, md->o->history_path, &md->hist, d);
    const struct mw_metrics_live *l = md->live;
    d->up = true; /* this process dies with the daemon */
    d->have_live = true;
    d->wakeups_timer = __atomic_load_n(&l->wakeups_timer, __ATOMIC_RELAXED);
    d->wakeups_pressure = __atomic_load_n(&l->wakeups_pressure, __ATOMIC_RELAXED);
    d->kill_failures = __atomic_load_n(&l->kill_failures, __ATOMIC_RELAXED);
    d->loops = __atomic_load_n(&l->loops, __ATOMIC_RELAXED);
    d->alerts = __atomic_load_n(&l->alerts, __ATOMIC_RELAXED);
    d->cycle_s = (double)__atomic_load_n(&l->cycle_us, __ATOMIC_RELAXED) / 1e6;
    d->cycle_max_s = (double)__atomic_load_n(&l->cycle_max_us, __ATOMIC_RELAXED) / 1e6;
    uint64_t lk = __atomic_load_n(&l->last_kill_time_s, __ATOMIC_RELAXED);
    if (lk > d->last_kill_time_s)
        d->last_kill_time_s = lk;
    if (!d->have_state)
        d->have_rss = pid_rss(md->root, md->parent, &d->rss) == 0;
    double min_s = md->o->leak_window_ms ? (double)md->o->leak_window_ms / 1000.0 : MD_LEAK_MIN_S;
    series_leak(m, "slab", &md->slab, min_s);
    series_leak(m, "shmem", &md->shmem, min_s);
    for (int i = 0; i < md->nwatch; i++)
        series_leak(m, md->watch_name[i], &md->watch[i], min_s);
}

/* Does process P match the watch pattern SPEC? Name globs on the command
 * line and comm; exe:/uid:/unit:/cgroup: read from /proc when asked. */
static bool watch_match(const struct mw_proctable *t, const struct mw_proc *p,
                        const struct mw_match_spec *spec)
{
    if (!mw_match_name_glob(spec, p->cmdline, p->comm))
        return false;
    unsigned need = mw_match_spec_needs(spec);
    if (!need)
        return true;
    struct mw_match_facts f;
    memset(&f, 0, sizeof(f));
    mw_match_facts_read(t->proc_fd, p->pid, need, &f);
    return mw_match_qualifiers(spec, &f);
}

/* One sample of each watched pattern: the summed RSS of the processes it
 * matches (0 when none runs: a series that drops to 0 and stays is
 * stable, not a leak). The label is the pattern as configured, never a
 * PID or a command line (cardinality). */
static void watch_sample(struct md *md, double t)
{
    if (md->nwatch == 0)
        return;
    struct mw_proctable pt;
    if (mw_proctable_open(&pt, md->root, MW_PT_MEM | MW_PT_CMDLINE) < 0 ||
        mw_proctable_scan(&pt) < 0) {
        mw_proctable_close(&pt);
        return;
    }
    for (int w = 0; w < md->nwatch; w++) {
        double sum = 0;
        for (size_t i = 0; i < pt.n; i++)
            if (watch_match(&pt, &pt.procs[i], &md->watch_spec[w]))
                sum += (double)pt.procs[i].rss_bytes;
        series_add(&md->watch[w], t, sum);
    }
    mw_proctable_close(&pt);
}

/* Renders the current metrics into a malloc'd buffer; NULL when out of memory. */
static char *md_render(struct md *md, size_t *len)
{
    char *text = NULL;
    md_gather(md);
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    mw_metrics_render(f, &md->m);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The timer: a leak sample, and the textfile when one is configured. */
static void md_tick(struct md *md)
{
    struct mw_meminfo mi;
    if (mw_meminfo_read(md->root, &mi, NULL) == 0) {
        double t = (double)mw_now_ms() / 1000.0;
        series_add(&md->slab, t, (double)mw_meminfo_bytes(&mi, MI_SLAB));
        series_add(&md->shmem, t, (double)mw_meminfo_bytes(&mi, MI_SHMEM));
        watch_sample(md, t);
    }
    if (!md->o->textfile_dir)
        return;
    size_t len = 0;
    char *text = md_render(md, &len);
    if (text)
        mw_metrics_textfile_write(md->o->textfile_dir, text, len);
    free(text);
}

static void md_close(struct md_client *c)
{
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Sets C's response: STATUS with BODY (malloc'd, taken) as CTYPE. */
static void md_respond(struct md_client *c, const char *status, char *body, size_t blen,
                       const char *ctype)
{
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                      "Connection: close\r\n\r\n",
                      status, ctype, blen, strncmp(status, "405", 3) == 0 ? "Allow: GET\r\n" : "");
    c->out = malloc((size_t)hl + blen);
    if (c->out) {
        memcpy(c->out, head, (size_t)hl);
        if (blen)
            memcpy(c->out + hl, body, blen);
        c->out_len = (size_t)hl + blen;
    }
    free(body);
    c->out_off = 0;
}

static void md_error(struct md_client *c, const char *status)
{
    size_t n = strlen(status) + 1;
    char *body = malloc(n + 1);
    if (body)
        snprintf(body, n + 1, "%s\n", status);
    md_respond(c, status, body, body ? n : 0, "text/plain; charset=utf-8");
}

const char *mw_metrics_http_check(const char *req, size_t len, size_t max)
{
    if (memchr(req, '\0', len))
        return "400 Bad Request";
    if (!memmem(req, len, "\r\n\r\n", 4) && !memmem(req, len, "\n\n", 2))
        return len >= max ? "431 Request Header Fields Too Large" : NULL;
    const char *eol = memchr(req, '\n', len);
    size_t ll = (size_t)(eol - req);
    if (ll > 0 && req[ll - 1] == '\r')
        ll--;
    char line[300], method[16], target[256], version[16], extra;
    if (ll >= sizeof(line))
        return "414 URI Too Long";
    memcpy(line, req, ll);
    line[ll] = '\0';
    for (size_t i = 0; i < ll; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] == 0x7f)
            return "400 Bad Request";
    if (sscanf(line, "%15s %255s %15s %c", method, target, version, &extra) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/')
        return "400 Bad Request";
    if (strcmp(method, "GET") != 0)
        return "405 Method Not Allowed";
    if (strcmp(target, "/metrics") != 0 && strncmp(target, "/metrics?", 9) != 0)
        return "404 Not Found";
    return "200 OK";
}

/* What the gatherer sends back for request SEQ: LEN bytes of text follow
 * (0: it could not make them). */
struct md_reply {
    uint32_t seq, pad;
    uint64_t len;
};

/* Reads exactly LEN bytes of MD->link into BUF (NULL: discards them) by
 * DEADLINE (ms). Returns 0 or -1. */
static int link_read(struct md *md, char *buf, size_t len, uint64_t deadline)
{
    char sink[4096];
    for (size_t got = 0; got < len;) {
        uint64_t now = mw_now_ms();
        struct pollfd p = {.fd = md->link, .events = POLLIN};
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
            return -1;
        size_t want = len - got;
        if (!buf && want > sizeof(sink))
            want = sizeof(sink);
        ssize_t r = recv(md->link, buf ? buf + got : sink, want, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Asks the gatherer for the metrics over MD->link (the request's number),
 * and reads its answer within MD_CLIENT_MS; a late answer to an earlier
 * request is read and dropped. Returns the text (malloc'd) or NULL. */
static char *md_fetch(struct md *md, size_t *len)
{
    uint64_t deadline = mw_now_ms() + MD_CLIENT_MS;
    uint32_t seq = ++md->seq;
    if (send(md->link, &seq, sizeof(seq), MSG_NOSIGNAL) != (ssize_t)sizeof(seq))
        return NULL;
    for (;;) {
        struct md_reply h;
        if (link_read(md, (char *)&h, sizeof(h), deadline) < 0 || h.len > (64u << 20))
            return NULL;
        char *text = h.seq == seq && h.len ? malloc((size_t)h.len) : NULL;
        if (link_read(md, text, (size_t)h.len, deadline) < 0 || h.seq == seq) {
            if (text)
                *len = (size_t)h.len;
            return text; /* NULL when the gatherer said 0, or the read failed */
        }
    }
}

/* Reads what C sent; answers once the request is complete. */
static void md_read(struct md *md, struct md_client *c)
{
    ssize_t r = recv(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        md_close(c);
        return;
    }
    c->got += (size_t)r;
    const char *status = mw_metrics_http_check(c->req, c->got, sizeof(c->req) - 1);
    if (!status)
        return;
    if (strcmp(status, "200 OK") != 0) {
        md_error(c, status);
        return;
    }
    size_t len = 0;
    char *text = md_fetch(md, &len);
    if (!text)
        md_error(c, "500 Internal Server Error");
    else
        md_respond(c, status, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

static void md_write(struct md_client *c)
{
    ssize_t w =
        send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (w <= 0) {
        md_close(c);
        return;
    }
    c->out_off += (size_t)w;
    if (c->out_off == c->out_len) {
        shutdown(c->fd, SHUT_WR);
        md_close(c);
    }
}

/* With every slot taken, the client that has been sending its request
 * longest (at least MD_EVICT_MS) makes room: slow clients cannot hold the
 * scrapers off for their whole 2 s. Returns its slot or -1. */
static int md_evict(struct md *md, uint64_t now)
{
    int old = -1;
    for (int i = 0; i < MD_MAX_CLIENTS; i++) {
        const struct md_client *c = &md->c[i];
        if (c->fd >= 0 && !c->out && c->deadline_ms <= now + MD_CLIENT_MS - MD_EVICT_MS &&
            (old < 0 || c->deadline_ms < md->c[old].deadline_ms))
            old = i;
    }
    if (old >= 0)
        md_close(&md->c[old]);
    return old;
}

static bool md_full(const struct md *md)
{
    for (int i = 0; i < MD_MAX_CLIENTS; i++)
        if (md->c[i].fd < 0)
            return false;
    return true;
}

static void md_accept(struct md *md, uint64_t now)
{
    if (md_full(md))
        md_evict(md, now);
    for (int i = 0; i < MD_MAX_CLIENTS; i++) {
        if (md->c[i].fd >= 0)
            continue;
        int fd = accept4(md->o->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        md->c[i].fd = fd;
        md->c[i].deadline_ms = now + MD_CLIENT_MS;
    }
}

/* The poll set: the listener while a slot is free, every client. Returns
 * the count and the wait (ms) until the next deadline or tick. */
static int md_pollset(struct md *md, struct pollfd *p, int *map, uint64_t now, uint64_t tick,
                      int *wait)
{
    int n = 0, free_slot = 0;
    uint64_t next = tick;
    for (int i = 0; i < MD_MAX_CLIENTS; i++) {
        struct md_client *c = &md->c[i];
        if (c->fd < 0) {
            free_slot = 1;
            continue;
        }
        if (c->deadline_ms <= now) {
            md_close(c); /* slow or stuck: its time is up */
            free_slot = 1;
            continue;
        }
        p[n] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
        map[n++] = i;
        next = c->deadline_ms < next ? c->deadline_ms : next;
    }
    if (md->o->listen_fd >= 0 && !free_slot) {
        /* full: listen again once the oldest request-sender may be evicted */
        for (int i = 0; i < MD_MAX_CLIENTS; i++)
            if (md->c[i].fd >= 0 && !md->c[i].out) {
                uint64_t at = md->c[i].deadline_ms - (MD_CLIENT_MS - MD_EVICT_MS);
                free_slot |= at <= now;
                next = at > now && at < next ? at : next;
            }
    }
    if (md->o->listen_fd >= 0 && free_slot) {
        p[n] = (struct pollfd){.fd = md->o->listen_fd, .events = POLLIN};
        map[n++] = -1;
    }
    *wait = next > now ? (int)(next - now) : 0;
    return n;
}

/* The server's loop: the listener and the clients, until the gatherer
 * is gone. */
static void md_serve(struct md *md)
{
    struct pollfd p[MD_MAX_CLIENTS + 2];
    int map[MD_MAX_CLIENTS + 2], wait;
    for (;;) {
        if (getppid() != md->parent)
            return; /* the gatherer is gone (PR_SET_PDEATHSIG's race) */
        uint64_t now = mw_now_ms();
        int n = md_pollset(md, p, map, now, now + 60000, &wait);
        /* the link wakes us only when the gatherer is gone: its death
         * signal needs CAP_KILL, which it dropped, to reach another uid */
        p[n] = (struct pollfd){.fd = md->link, .events = POLLIN};
        if (poll(p, (nfds_t)n + 1, wait) < 0 && errno != EINTR)
            return;
        if (p[n].revents)
            return;
        now = mw_now_ms();
        for (int k = 0; k < n; k++) {
            if (!p[k].revents)
                continue;
            if (map[k] < 0)
                md_accept(md, now);
            else if (md->c[map[k]].out)
                md_write(&md->c[map[k]]);
            else
                md_read(md, &md->c[map[k]]);
        }
    }
}

/* Sends all of BUF (LEN bytes) down the blocking LINK. Returns 0 or -1. */
static int send_all(int link, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = send(link, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* The gatherer's loop: the timer (leak samples, the textfile) and the
 * server's requests on MD->link (-1: none): each a 4-byte number,
 * answered with struct md_reply and the text. Ends with the
 * daemon, or when the server hung up. */
static void md_gather_loop(struct md *md)
{
    uint64_t tick = mw_now_ms();
    for (;;) {
        if (getppid() != md->parent)
            return; /* the daemon is gone (PR_SET_PDEATHSIG's race) */
        uint64_t now = mw_now_ms();
        if (now >= tick) {
            md_tick(md);
            tick = now + md->o->interval_ms;
        }
        struct pollfd p = {.fd = md->link, .events = POLLIN};
        int r = poll(&p, md->link >= 0, tick > now ? (int)(tick - now) : 0);
        if (r < 0 && errno != EINTR)
            return;
        uint32_t seq;
        if (r <= 0 || recv(md->link, &seq, sizeof(seq), MSG_WAITALL) != (ssize_t)sizeof(seq)) {
            if (r > 0) { /* the server is gone: textfile only from now */
                close(md->link);
                md->link = -1;
            }
            continue;
        }
        size_t len = 0;
        char *text = md_render(md, &len);
        struct md_reply h = {.seq = seq, .len = text ? len : 0};
        if (send_all(md->link, &h, sizeof(h)) == 0 && h.len)
            send_all(md->link, text, len);
        free(text);
    }
}

/* ---- the metrics processes' privileges ----------------------------------- */

/* capget/capset's structs (linux/capability.h, version 3: two 32-bit
 * words a set), spelled here for libcs that lack the header. */
#define CAP_V3               0x20080522
#define CAP_DAC_OVERRIDE_    1
#define CAP_DAC_READ_SEARCH_ 2
#define CAP_SYS_PTRACE_      19
struct md_cap_header {
    uint32_t version;
    int pid;
};
struct md_cap_data {
    uint32_t effective, permitted, inheritable;
};

/* Drops from the bounding set every capability not in KEEP (a mask of
 * the first 32): no exec can gain them back. Needs CAP_SETPCAP, so it
 * comes before any other drop; without it (not root) nothing happens. */
static void md_bset_keep(uint32_t keep)
{
    for (int c = 0; c < 64; c++)
        if (!(c < 32 && keep & (1u << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
            errno == EINVAL)
            break; /* past the kernel's last capability */
}

/* Sets no_new_privs, then keeps only the capabilities in KEEP in the
 * permitted and effective sets, none inheritable or ambient. Returns 0 or
 * -errno (capset refused: a sandbox's seccomp filter may refuse it, and
 * the sets stay as they were). */
static int md_caps_keep(uint32_t keep)
{
    int rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct md_cap_header h = {CAP_V3, 0};
    struct md_cap_data d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return -errno;
    d[0].permitted &= keep;
    d[0].effective = d[0].permitted;
    d[0].inheritable = 0;
    memset(&d[1], 0, sizeof(d[1]));
    if (syscall(SYS_capset, &h, d) < 0)
        return -errno;
    return rc;
}

/* The kernel's overflow id (/proc/sys/kernel/overflowuid: 65534, "nobody"
 * on most distributions): an id that owns no file of the system. */
static unsigned overflow_id(const struct mw_root *root, const char *name)
{
    char path[64];
    uint64_t v;
    snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
    return mw_read_u64(root, path, &v) == 0 && v > 0 && v < 65536 ? (unsigned)v : 65534;
}

/* The server's footing, before it reads a byte from the network: only
 * the listener and the link to the gatherer open (stdio on /dev/null),
 * the overflow uid and gid with no supplementary group, no capability
 * (bounding set too), no_new_privs, not dumpable (another process of that
 * uid cannot ptrace it), dead with the gatherer. A sandbox that refuses
 * the uid change (EPERM: systemd's SystemCallFilter=~@privileged, a
 * bounding set without CAP_SETUID) leaves it uid 0 with no capability.
 * Returns 0, or -errno when it would keep a capability (no server then). */
static int md_confine_server(const struct mw_root *root, int listen_fd, int link, pid_t gatherer)
{
    int keep[2] = {listen_fd, link}, null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3 && null >= 0; fd++)
        dup2(null, fd);
    if (null > 2)
        close(null);
    mw_close_fds_except(keep, 2);
    unsigned uid = overflow_id(root, "overflowuid"), gid = overflow_id(root, "overflowgid");
    int rc = 0;
    md_bset_keep(0);
    if (geteuid() == 0 &&
        (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) &&
        errno != EPERM)
        rc = -errno;
    if (rc == 0) /* after a uid change the sets are empty already: say so anyway */
        rc = md_caps_keep(0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by the uid change; md_serve watches the link too */
    prctl(PR_SET_NAME, "memwarden-http");
    if (getppid() != gatherer)
        _exit(0);
    return rc;
}

/* The gatherer's footing: only the root and the link to the server open;
 * of root's capabilities only those it reads and writes with — reading
 * /proc and the 0600 history (CAP_DAC_READ_SEARCH), writing the textfile
 * into a directory node_exporter's user may own (CAP_DAC_OVERRIDE), a
 * watch pattern's exe: of another user's process (CAP_SYS_PTRACE) —
 * and no_new_privs. Best effort: a sandbox that refuses capset leaves
 * the sets its unit gave (it serves no network). */
static void md_confine_gatherer(const struct mw_root *root, int link)
{
    int keep[2] = {root->fd, link};
    mw_close_fds_except(keep, link >= 0 ? 2 : 1);
    uint32_t need = 1u << CAP_DAC_OVERRIDE_ | 1u << CAP_DAC_READ_SEARCH_ | 1u << CAP_SYS_PTRACE_;
    md_bset_keep(need);
    md_caps_keep(need);
}

/* Forks the server: it gets the listener, the gatherer (this process)
 * the other end of a socketpair. Returns the gatherer's end, or -1 when
 * there is no HTTP (no listener, or the split failed: then no server
 * rather than one with root's privileges). */
static int md_split(struct md *md)
{
    int sp[2];
    if (md->o->listen_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return -1;
    pid_t gatherer = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sp[0]);
        close(sp[1]);
        return -1;
    }
    if (pid == 0) {
        close(sp[0]);
        if (md_confine_server(md->root, md->o->listen_fd, sp[1], gatherer) < 0)
            _exit(70);
        md->link = sp[1];
        md->parent = gatherer;
        md_serve(md);
        _exit(0);
    }
    close(sp[1]);
    close(md->o->listen_fd);
    return sp[0];
}

/* The child's own footing: signals back to default, unblocked; no real-time
 * class and a lower priority than the killer; killable; dies with it. */
static void md_detach(pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0);
    struct sched_param sp = {0};
    sched_setscheduler(0, SCHED_OTHER, &sp);
    setpriority(PRIO_PROCESS, 0, 10);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, "0", 1) < 0) { /* best effort: the daemon's -1000 is not for us */
        }
        close(fd);
    }
    prctl(PR_SET_NAME, "memwarden-metr");
}

#ifndef SYS_close_range
#define SYS_close_range 436 /* 5.9, the same number on every architecture */
#endif

/* Closes the killer's descriptors, which are not this process's: the
 * victim scan holds an oom_score_adj per process (lmk/fpcache.h), and a
 * copy held here would keep every process that exits pinned in the
 * kernel for as long as the metrics process runs. Keeps 0-2 and A < B
 * (either may be -1). */
static void md_close_inherited(int a, int b)
{
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    unsigned from = 3;
    int keep[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (keep[i] < (int)from)
            continue;
        if (keep[i] > (int)from)
            syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0u);
        from = (unsigned)keep[i] + 1;
    }
    if (syscall(SYS_close_range, from, ~0u, 0u) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX); /* before 5.9: one by one */
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        if (fd != a && fd != b)
            close((int)fd);
}

pid_t mw_metricsd_start(const struct mw_root *root, const struct mw_metricsd_opts *o,
                        const struct mw_metrics_live *live)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -errno : pid;
    md_detach(parent);
    md_close_inherited(root->fd, o->listen_fd);
    static struct md md;
    md.root = root;
    md.o = o;
    md.live = live;
    md.parent = parent;
    /* the config loader has parsed every pattern once already: none fails */
    for (int i = 0; o->watch && i < o->watch->n && md.nwatch < MD_WATCH_MAX; i++)
        if (mw_match_spec_parse(&md.watch_spec[md.nwatch], o->watch->pat[i], NULL, 0) == 0)
            md.watch_name[md.nwatch++] = o->watch->pat[i];
    for (int i = 0; i < MD_MAX_CLIENTS; i++)
        md.c[i].fd = -1;
    md.link = md_split(&md);
    md_confine_gatherer(root, md.link);
    md_gather_loop(&md);
    _exit(0);
}
