/* act: what one turn of the kill cycle asks the daemon for (cycle.h's
 * struct mw_cycle_out): the alerts raised (log, counter, hook), the notes
 * said (memory held, the layout, a cover, no victim, a kill in vain), the
 * kill performed -- the pre-kill hook's bounded wait, the signal
 * (kill.h), the memory after it, the record in the log, the history and
 * the state file, the loop report, the post-kill hook -- or, dry run, the
 * victim said. Hooks run in the background (hooks.h). The other half of
 * the daemon is daemon.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lmk/daemon_int.h"
#include "lmk/history.h"
#include "lmk/kill.h"
#include "lmk/sysglue.h"

/* Counter updates for the metrics process: plain relaxed stores into the
 * shared page, nothing to wait on. */
static void live_add(struct daemon *d, uint64_t *counter)
{
    if (d->live)
        __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

/* Says how a hook ended when it did not end well (a time limit, an
 * error, a non-zero exit status). */
static void hook_said(const struct daemon *d, const struct mw_hook_end *e)
{
    if (e->status == -ETIMEDOUT)
        mw_dlog(LOG_WARNING, "%s hook %s: killed after %llu ms", e->what, e->prog,
                (unsigned long long)d->cfg.hook_timeout_ms);
    else if (e->status != 0)
        mw_dlog(LOG_WARNING, "%s hook %s: exit status %d", e->what, e->prog, e->status);
}

/* Reaps the hooks that ended and kills those past their time limit. */
void act_hooks_reap(struct daemon *d)
{
    struct mw_hook_end ends[MW_HOOKS_MAX];
    int n = mw_hooks_reap(&d->hooks, mw_now_ms(), ends, MW_HOOKS_MAX);
    for (int i = 0; i < n; i++)
        hook_said(d, &ends[i]);
}

/* Starts hook A (WHAT: "alert", "pre-kill", "post-kill") with the
 * environment built in d->hooks.env, in the background. Returns its slot,
 * or -errno (said). */
static int hook_start(struct daemon *d, const struct mw_argv *a, const char *what)
{
    act_hooks_reap(d); /* a slot freed by a hook that ended since */
    int rc = mw_hooks_start(&d->hooks, a, what, mw_now_ms(), d->cfg.hook_timeout_ms);
    if (rc == -EBUSY)
        mw_dlog(LOG_WARNING, "%s hook %s not run: %d hooks still running", what, a->arg[0],
                MW_HOOKS_MAX);
    else if (rc < 0)
        mw_dlog(LOG_WARNING, "%s hook %s: %s", what, a->arg[0], mw_strerror(-rc));
    return rc;
}

/* The pre-kill hook: started, and waited for at most
 * MW_HOOK_PRE_KILL_WAIT_MS (counted in the kill's latency); then the kill
 * goes ahead and the hook runs on. */
static void pre_kill_hook(struct daemon *d, const struct mw_victim *v, const char *reason)
{
    mw_hook_env_kill(&d->hooks.env, "pre_kill", v, reason);
    int slot = hook_start(d, &d->cfg.pre_kill_hook, "pre-kill");
    if (slot < 0)
        return;
    uint64_t wait_ms = d->cfg.hook_timeout_ms < MW_HOOK_PRE_KILL_WAIT_MS ? d->cfg.hook_timeout_ms
                                                                         : MW_HOOK_PRE_KILL_WAIT_MS;
    struct mw_hook_end end;
    if (mw_hooks_wait(&d->hooks, slot, wait_ms, &end) == 1)
        hook_said(d, &end);
    else
        mw_dlog(LOG_NOTICE, "pre-kill hook %s still running after %llu ms: the kill goes ahead",
                d->cfg.pre_kill_hook.arg[0], (unsigned long long)wait_ms);
}

/* Raises the alerts the cycle found due (OUT->alerts): log, counter, hook. */
static void alerts(struct daemon *d, const struct mw_cycle_out *out, const struct mw_mem_state *st)
{
    for (unsigned k = 0; k < MW_ALERT_KINDS; k++) {
        unsigned bit = 1u << k;
        if (!(out->alerts & bit))
            continue;
        mw_dlog(LOG_WARNING, "alert %s: %s", mw_alert_name(bit), out->alert_msg);
        if (d->live)
            live_add(d, &d->live->alerts);
        if (d->cfg.alert_hook.n == 0)
            continue;
        mw_hook_env_alert(&d->hooks.env, mw_alert_name(bit), out->alert_msg, st);
        hook_start(d, &d->cfg.alert_hook, "alert");
    }
}

/* Says a kill-restart loop the cycle found (OUT->loop_kills) loudly, at
 * every kill of it; the hook when the cycle says it is due. */
static void loop_report(struct daemon *d, const struct mw_cycle_out *out)
{
    const struct mw_config *c = &d->cfg;
    if (out->loop_kills == 0)
        return;
    if (d->live)
        live_add(d, &d->live->loops);
    char act[80] = "still a candidate";
    if (c->loop_action == MW_LOOP_COOLDOWN)
        snprintf(act, sizeof(act), "left alone");
    else if (c->loop_action == MW_LOOP_PROTECT) /* what the choice does with it (victim.c) */
        snprintf(act, sizeof(act), "protected (adj lowered by %d, no runaway)",
                 c->loop_protect_adj);
    mw_dlog(LOG_CRIT,
            "KILL LOOP: %s killed %d times within %llu ms (it restarts after each kill); %s for "
            "%llu ms",
            out->victim.comm, out->loop_kills, (unsigned long long)c->loop_window_ms, act,
            (unsigned long long)c->loop_cooldown_ms);
    if (!out->loop_hook || c->alert_hook.n == 0)
        return;
    mw_hook_env_loop(&d->hooks.env, out->victim.comm, out->loop_kills, c->loop_window_ms);
    hook_start(d, &c->alert_hook, "alert");
}

/* Ms since boot (CLOCK_BOOTTIME: the clock of /proc/PID/stat's start). */
static uint64_t boot_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void record_from(struct mw_kill_record *r, const struct mw_victim *v,
                        const struct mw_decision *dec, const struct mw_mem_state *st)
{
    memset(r, 0, sizeof(*r));
    r->time_s = (uint64_t)time(NULL);
    r->pid = v->pid;
    r->uid = v->uid;
    r->adj = v->adj;
    snprintf(r->prog, sizeof(r->prog), "%s", v->comm);
    snprintf(r->cmdline, sizeof(r->cmdline), "%s", v->cmdline);
    r->rss_kb = v->rss_kb;
    r->swap_kb = v->swap_kb;
    r->reason = mw_reason_name(dec->reason);
    r->detail = dec->detail;
    r->min_adj = dec->min_adj;
    r->last_line = dec->last_line;
    r->free_kb = st->free_kb;
    r->avail_kb = st->available_kb;
    r->file_kb = st->file_kb;
    r->swap_free_kb = st->swap_free_kb;
    r->total_kb = st->total_kb;
    r->psi_some = st->have_psi ? st->psi_some_avg10 : -1;
    r->psi_full = st->have_psi ? st->psi_full_avg10 : -1;
    r->scope = st->is_scope;
    r->unit = v->unit;
    if (v->keep != MW_KEEP_NONE) {
        r->kept = mw_keep_name((enum mw_keep)v->keep);
        r->kept_why = v->keep_why;
    }
    r->runaway = v->runaway;
    r->unit_kb = v->unit_kb;
    r->growth_kb_s = v->growth_kb_s;
    r->group_n = v->group_n;
    r->group_pid = v->group_pid;
}

/* Says what was done: REC's one-line form into LINE (kept by the caller
 * for the state file) and the log at PRIORITY, its JSON form appended to
 * the history file when there is one. Static buffers: no allocation on the
 * kill path. */
static void report_kill(struct daemon *d, const struct mw_kill_record *rec, int priority,
                        char *line, size_t cap)
{
    static char json[8192]; /* 4096 + a group of 128 pids */
    mw_kill_format_line(line, cap, rec);
    mw_dlog(priority, "%s", line);
    if (d->history_fd >= 0) {
        size_t n = mw_kill_format_json(json, sizeof(json) - 1, rec);
        if (n == 0) {
            mw_dlog(LOG_WARNING, "history: the record of pid %d does not fit, not written",
                    rec->pid);
            return;
        }
        json[n++] = '\n';
        ssize_t w = write(d->history_fd, json, n);
        (void)w;
    }
}

/* The cycle's reads (struct mw_cycle_ops): the victim scan. */
static int op_choose(void *ctx, const struct mw_choice *c, struct mw_victim *out)
{
    struct daemon *d = ctx;
    uint64_t t0 = mw_now_us();
    int rc = mw_victim_choose(&d->ws, &d->cfg, c, out);
    d->chosen_at_us = mw_now_us();
    d->choose_us += d->chosen_at_us - t0;
    return rc;
}

static void op_put(void *ctx, struct mw_victim *v)
{
    (void)ctx;
    close(v->stat_fd);
    v->stat_fd = -1;
}

/* Sampling decides nothing: it yields to woken tasks (sysglue.h). */
static int op_refresh(void *ctx, const struct mw_choice *c)
{
    struct daemon *d = ctx;
    bool whole = d->ws.cycling && d->ws.visit_all;
    bool dropped = mw_priority_background(true);
    uint64_t t0 = mw_now_us();
    int rc = mw_victim_refresh(&d->ws, &d->cfg, c);
    d->refresh_us = mw_now_us() - t0;
    if (dropped)
        mw_priority_background(false);
    d->cycle_us += d->refresh_us;
    if (!whole && d->ws.cycling && d->ws.visit_all) {
        d->cycle_us = d->refresh_us;
        mw_dlog(LOG_DEBUG, "footprints: reading every process (%s%lld kB of the fall unexplained)",
                d->ws.opened_kb ? "" : "started, or ", (long long)d->ws.opened_kb);
    } else if (whole && !d->ws.cycling) {
        mw_dlog(LOG_DEBUG,
                "footprints: every process read, %llu ms of refreshes; the next cycle "
                "needs a fall of 1/%d of the total",
                (unsigned long long)(d->cycle_us / 1000), MW_FP_MOTION_DIV >> d->ws.gate_shift);
    }
    return rc;
}

static void op_forget(void *ctx)
{
    mw_victim_forget(&((struct daemon *)ctx)->ws);
}

static bool op_scan_flat(void *ctx)
{
    return mw_scan_adj_flat(&((struct daemon *)ctx)->ws);
}

static uint64_t op_sampled_ms(void *ctx)
{
    return ((struct daemon *)ctx)->ws.refresh_ms;
}

static int64_t op_procs_swap_kb(void *ctx)
{
    return mw_victim_swap_kb(&((struct daemon *)ctx)->ws);
}

void act_ops_init(struct daemon *d)
{
    d->ops = (struct mw_cycle_ops){.ctx = d,
                                   .choose = op_choose,
                                   .put = op_put,
                                   .refresh = op_refresh,
                                   .forget = op_forget,
                                   .scan_flat = op_scan_flat,
                                   .sampled_ms = op_sampled_ms,
                                   .procs_swap_kb = op_procs_swap_kb};
}

void act_say_layout(const struct daemon *d)
{
    bool sd = d->cfg.adj_mode == MW_ADJ_AUTO && d->ws.sd && d->ws.sd->booted;
    mw_dlog(LOG_NOTICE, "adj layout: %s%s",
            d->cyc.adj_flat ? "flat (the kernel's oom_badness order)"
                            : "android classes (lmkd's order)",
            sd                               ? " (systemd: adj is OOMScoreAdjust=, no class)"
            : d->cfg.adj_mode == MW_ADJ_AUTO ? " (detected)"
                                             : " (adj_mode)");
}

/* Says what the cycle noted on the way to its decision: memory held
 * (log, state file), the layout, the victims of a cover, no victim or a
 * kill that cannot help. */
static void say_notes(struct daemon *d, const struct mw_cycle_out *out)
{
    const struct mw_decision *dec = &out->dec;
    const char *reason = mw_reason_name(dec->reason);
    if (out->say_held)
        mw_dlog(LOG_WARNING, "%s (%s) but no kill: %s", reason, dec->detail, dec->held_detail);
    if (out->publish_held) {
        snprintf(d->state.held, sizeof(d->state.held), "%s", d->cyc.held);
        daemon_state_write(d);
    }
    if (out->layout_changed)
        act_say_layout(d);
    if (out->cover_victims > 1)
        mw_dlog(LOG_NOTICE, "deficit %llukB: %d victims (%llukB) signalled together",
                (unsigned long long)dec->deficit_kb, out->cover_victims,
                (unsigned long long)out->covered_kb);
    if (!out->say_note)
        return;
    if (out->note == MW_CYCLE_NOTE_NO_VICTIM)
        mw_dlog(LOG_WARNING, "%s (%s) but no process at adj >= %d may be killed%s%s", reason,
                dec->detail, dec->min_adj, out->choose_rc < 0 ? ": " : "",
                out->choose_rc < 0 ? mw_strerror(-out->choose_rc) : "");
    else if (out->note == MW_CYCLE_NOTE_IN_VAIN)
        mw_dlog(LOG_NOTICE,
                "%s (%s) but no kill: the best victim, pid %d (%s), holds %llukB, under 1/%d of "
                "the %llukB deficit; killing it cannot end the shortage",
                reason, dec->detail, out->victim.pid, out->victim.comm,
                (unsigned long long)out->frees_kb, MW_KILL_USEFUL_DIV,
                (unsigned long long)dec->deficit_kb);
}

/* Where the kill's time went (history.h's phases). A re-check after a
 * kill in the same wake-up did not wake: its wake-up is the first one's. */
static void timing(const struct daemon *d, const struct mw_kill_result *kr,
                   struct mw_kill_record *rec)
{
    rec->woke_at_us = d->woke_us;
    rec->sent_at_us = kr->sent_us;
    rec->phase_us[MW_PHASE_WAKE] = d->wake_late_us;
    rec->phase_us[MW_PHASE_SAMPLE] = d->sample_us;
    rec->phase_us[MW_PHASE_REFRESH] = d->refresh_us;
    rec->phase_us[MW_PHASE_CHOOSE] = d->choose_us;
    rec->phase_us[MW_PHASE_SIGNAL] = mw_sub0(kr->sent_us, d->chosen_at_us);
    rec->phase_us[MW_PHASE_EXIT] = kr->exit_us ? mw_sub0(kr->exit_us, kr->sent_us) : 0;
}

/* A kill's (or dry-run choice's) log line: static, the kill path
 * allocates nothing; the state file keeps a copy. */
static char kill_line[2048];

/* Signals the cycle's victim (OUT->victim, chosen for OUT->dec), waits
 * for its memory, tells the cycle, and logs, records and hooks the kill.
 * Returns true when a kill happened (mw_cycle_killed). */
static bool kill_chosen(struct daemon *d, struct mw_cycle_out *out, uint64_t event_ms,
                        struct mw_mem_state *st)
{
    struct mw_victim *v = &out->victim;
    struct mw_kill_record rec;
    record_from(&rec, v, &out->dec, st);
    if (v->keep != MW_KEEP_NONE)
        mw_dlog(LOG_CRIT,
                "last line: pid %d (%s) dies though memwarden spares it short of the "
                "last line (%s) -- nobody else is left",
                v->pid, v->comm, v->keep_why);
    if (v->unit_whole)
        mw_dlog(LOG_NOTICE, "the runaway of pid %d (%s) is %s as a whole: its cgroup %s dies",
                v->pid, v->comm, v->unit, v->cgroup);
    if (d->cfg.pre_kill_hook.n > 0)
        pre_kill_hook(d, v, rec.reason);
    uint64_t avail_before = st->available_kb;
    struct mw_kill_result kr;
    struct mw_cycle_kill k = {
        .sig_ms = mw_now_ms(), .sig_boot_ms = boot_ms(), .now_ms = st->now_ms};
    int rc = mw_kill_victim(d->root->fd, v, &d->cfg, false, &kr);
    close(v->stat_fd);
    k.signalled = rc == 0;
    k.gone_before = kr.gone_before;
    k.start_boot_ms = mw_loop_start_ms(v->starttime, d->ws.hz);
    if (rc < 0) {
        mw_dlog(LOG_WARNING, "kill of pid %d (%s) failed: %s", v->pid, v->comm,
                kr.gone_before ? "it exited first" : mw_strerror(-rc));
        if (d->live && !kr.gone_before)
            live_add(d, &d->live->kill_failures);
        return mw_cycle_killed(&d->cyc, &d->cfg, &d->ops, &k, out);
    }
    rec.latency_ms = k.sig_ms - event_ms;
    rec.wait_ms = kr.wait_ms;
    timing(d, &kr, &rec);
    rec.exited = kr.exited;
    rec.reaped = kr.released;
    rec.termed = kr.termed;
    rec.cgroup_killed = kr.cgroup_killed;
    rec.group_killed = kr.group_killed;
    struct mw_mem_state after;
    if (daemon_sample(d, &after) == 0) {
        rec.freed_kb = (int64_t)after.available_kb - (int64_t)avail_before;
        *st = after;
        k.now_ms = after.now_ms;
    }
    mw_cycle_killed(&d->cyc, &d->cfg, &d->ops, &k, out);
    report_kill(d, &rec, LOG_ERR, kill_line, sizeof(kill_line));
    d->state.kills++;
    d->state.last_kill_time = rec.time_s;
    size_t ll = strlen(kill_line) < sizeof(d->state.last_kill) - 1 ? strlen(kill_line)
                                                                   : sizeof(d->state.last_kill) - 1;
    memcpy(d->state.last_kill, kill_line, ll);
    d->state.last_kill[ll] = '\0';
    loop_report(d, out);
    if (d->cfg.post_kill_hook.n > 0) {
        mw_hook_env_kill(&d->hooks.env, "post_kill", v, rec.reason);
        hook_start(d, &d->cfg.post_kill_hook, "post-kill");
    }
    daemon_state_write(d);
    return true;
}

/* A dry run's choice, said as the kill it would have been. */
static void would_kill(struct daemon *d, const struct mw_cycle_out *out, uint64_t event_ms,
                       const struct mw_mem_state *st)
{
    struct mw_kill_record rec;
    record_from(&rec, &out->victim, &out->dec, st);
    rec.dry_run = true;
    rec.latency_ms = mw_now_ms() - event_ms;
    struct mw_kill_result none = {0};
    timing(d, &none, &rec);
    report_kill(d, &rec, LOG_NOTICE, kill_line, sizeof(kill_line));
}

bool act_cycle(struct daemon *d, unsigned events, uint64_t event_ms, struct mw_mem_state *st)
{
    uint64_t t0 = mw_now_us();
    if (daemon_sample(d, st) < 0)
        return false;
    d->sample_us = mw_now_us() - t0;
    d->choose_us = 0;
    st->events = events;
    struct mw_cycle_out *out = &d->out;
    mw_cycle_step(&d->cyc, &d->cfg, &d->ops, st, out);
    alerts(d, out, st);
    if (out->act == MW_CYCLE_SETTLING)
        return false; /* the last kill's memory is still on its way back */
    say_notes(d, out);
    if (out->act == MW_CYCLE_WOULD_KILL && out->say)
        would_kill(d, out, event_ms, st);
    if (out->act == MW_CYCLE_KILL)
        return kill_chosen(d, out, event_ms, st);
    return out->act == MW_CYCLE_WOULD_KILL;
}
