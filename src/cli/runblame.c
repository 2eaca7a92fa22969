#include "cli/runblame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/oomreport.h"
#include "cli/runner.h"
#include "lmk/history.h"
#include "proc/klog.h"

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* Why no rule named a killer: what the counter and the log say. */
static void unknown_why(const struct mw_run_evidence *e, char *why, size_t cap)
{
    const char *daemon = e->daemon_kills >= 0 ? "; the daemon's record has no kill of it" : "";
    if (e->have_oom_kill && e->oom_kills == 0)
        snprintf(why, cap, "not the OOM killer: the cgroup counted no OOM kill%s", daemon);
    else if (!e->have_oom_kill && e->klog_kills < 0)
        snprintf(why, cap,
                 "neither the cgroup's oom_kill counter nor the kernel's log could be read%s",
                 daemon);
    else if (e->klog_kills < 0)
        snprintf(why, cap,
                 "the cgroup counted %llu OOM kill%s, and the kernel's log, which would say "
                 "whose, is not readable (kernel.dmesg_restrict)%s",
                 (unsigned long long)e->oom_kills, plural(e->oom_kills), daemon);
    else if (e->have_oom_kill && e->oom_kills > (uint64_t)e->klog_kills)
        snprintf(why, cap,
                 "the cgroup counted %llu OOM kill%s, the kernel's log holds %d and none of "
                 "it%s",
                 (unsigned long long)e->oom_kills, plural(e->oom_kills), e->klog_kills, daemon);
    else
        snprintf(why, cap, "the kernel's %d OOM kill%s in the cgroup took other processes%s",
                 e->klog_kills, plural((uint64_t)e->klog_kills), daemon);
}

enum mw_run_killer mw_run_blame(const struct mw_run_evidence *e, char *why, size_t cap)
{
    if (!e->sigkill) {
        snprintf(why, cap, "it did not die of SIGKILL");
        return MW_RUN_KILLER_NONE;
    }
    if (e->daemon_main) {
        snprintf(why, cap, "the daemon's kill record names it");
        return MW_RUN_KILLER_DAEMON;
    }
    if (e->klog_main) {
        snprintf(why, cap, "the kernel's log names it as the OOM killer's victim");
        return MW_RUN_KILLER_KERNEL;
    }
    if (e->run_killed) {
        snprintf(why, cap, "it outlived the %d s grace period after it was asked to end",
                 MW_RUN_GRACE_MS / 1000);
        return MW_RUN_KILLER_RUN;
    }
    unknown_why(e, why, cap);
    return MW_RUN_KILLER_UNKNOWN;
}

const char *mw_run_killer_name(enum mw_run_killer k)
{
    switch (k) {
    case MW_RUN_KILLER_DAEMON:
        return "memwarden's daemon";
    case MW_RUN_KILLER_KERNEL:
        return "the kernel's OOM killer";
    case MW_RUN_KILLER_RUN:
        return "memwarden run";
    case MW_RUN_KILLER_UNKNOWN:
        return "unknown";
    default:
        return "none";
    }
}

const char *mw_run_killer_key(enum mw_run_killer k)
{
    switch (k) {
    case MW_RUN_KILLER_DAEMON:
        return "daemon";
    case MW_RUN_KILLER_KERNEL:
        return "kernel_oom";
    case MW_RUN_KILLER_RUN:
        return "run";
    case MW_RUN_KILLER_UNKNOWN:
        return "unknown";
    default:
        return "none";
    }
}

int mw_run_daemon_kills(const char *path, int pid, int *kills, bool *main)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = mw_read_file_at(AT_FDCWD, path, O_NOFOLLOW, 0, &buf, &len);
    if (rc == -ENOENT) {
        *kills = 0;
        *main = false;
        return 0;
    }
    if (rc < 0)
        return rc;
    int n = 0;
    bool m = false;
    const char *c = buf, *l;
    size_t ll;
    while (mw_next_line(&c, &l, &ll)) {
        struct mw_kill_entry k;
        if (mw_kill_parse_json(l, ll, &k) < 0 || k.dry_run)
            continue;
        n++;
        m = m || k.pid == pid;
    }
    free(buf);
    *kills = n;
    *main = m;
    return 0;
}

struct klog_count {
    const char *cg_dir;
    int pid;
    double since;
    int kills;
    bool main;
};

/* Whether the kernel's TASK_MEMCG ("/memwarden-run-1", or a cgroup below
 * it) is the cgroup at DIR ("/sys/fs/cgroup/memory/memwarden-run-1"): a
 * tail of DIR from one of its '/' on starts TASK_MEMCG at a '/' boundary. */
static bool same_cgroup(const char *dir, const char *task_memcg)
{
    for (const char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
        size_t n = strlen(s);
        if (n > 1 && strncmp(task_memcg, s, n) == 0 &&
            (task_memcg[n] == '\0' || task_memcg[n] == '/'))
            return true;
    }
    return false;
}

static void on_event(const struct mw_oom_event *ev, void *ctx)
{
    struct klog_count *k = ctx;
    if (!ev->have_victim || (ev->boot_s >= 0 && ev->boot_s < k->since))
        return;
    bool is_main = ev->victim_pid == k->pid;
    if (ev->task_memcg[0] ? !same_cgroup(k->cg_dir, ev->task_memcg) : !is_main)
        return;
    k->kills++;
    k->main = k->main || is_main;
}

int mw_run_klog_count(const char *buf, size_t len, const char *cg_dir, int pid, double since_boot_s,
                      bool *main)
{
    struct klog_count k = {.cg_dir = cg_dir, .pid = pid, .since = since_boot_s};
    mw_oom_parse_buf(buf, len, on_event, &k);
    *main = k.main;
    return k.kills;
}

static void on_line(const struct mw_klog_line *l, void *ctx)
{
    mw_oom_parser_line(ctx, l);
}

int mw_run_klog_kills(const struct mw_root *root, const char *cg_dir, int pid, double since_boot_s,
                      bool *main)
{
    struct klog_count k = {.cg_dir = cg_dir, .pid = pid, .since = since_boot_s};
    struct mw_klog_stream *st = malloc(sizeof(*st));
    struct mw_oom_parser *ps = malloc(sizeof(*ps));
    int rc = -ENOMEM;
    if (!st || !ps)
        goto out;
    mw_oom_parser_init(ps, on_event, &k);
    mw_klog_stream_init(st, 0, on_line, ps);
    rc = mw_klog_read_kmsg(root, st, NULL);
    if (rc < 0)
        goto out;
    mw_oom_parser_finish(ps);
    *main = k.main;
    rc = k.kills;
out:
    free(st);
    free(ps);
    return rc;
}
