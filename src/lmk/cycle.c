#include "lmk/cycle.h"

#include <stdio.h>
#include <string.h>

bool mw_cycle_flat(const struct mw_config *cfg, bool scan_flat)
{
    return cfg->adj_mode == MW_ADJ_FLAT || (cfg->adj_mode == MW_ADJ_AUTO && scan_flat);
}

void mw_cycle_init(struct mw_cycle *c, const struct mw_config *cfg, bool dry_run, bool flat)
{
    memset(c, 0, sizeof(*c));
    c->dry_run = dry_run;
    c->adj_flat = flat;
    mw_thrash_init(&c->thrash, cfg);
}

void mw_cycle_reload(struct mw_cycle *c, const struct mw_config *cfg)
{
    mw_thrash_init(&c->thrash, cfg);
}

bool mw_cycle_again(const struct mw_cycle *c, const struct mw_config *cfg, int kills)
{
    return !c->dry_run && !cfg->one_kill_at_a_time && kills < MW_CYCLE_MAX_KILLS;
}

/* The layout after a scan through OPS; OUT says when it changed. */
static void note_layout(struct mw_cycle *c, const struct mw_config *cfg,
                        const struct mw_cycle_ops *ops, struct mw_cycle_out *out)
{
    bool flat = mw_cycle_flat(cfg, ops->scan_flat(ops->ctx));
    out->layout_changed |= flat != c->adj_flat;
    c->adj_flat = flat;
}

/* The alert kinds ST crosses whose last raise is an alert interval ago. */
static void alerts_due(struct mw_cycle *c, const struct mw_config *cfg,
                       const struct mw_mem_state *st, struct mw_cycle_out *out)
{
    unsigned bits = mw_alert_check(cfg, st, out->alert_msg, sizeof(out->alert_msg));
    for (unsigned k = 0; k < MW_ALERT_KINDS; k++)
        if ((bits & (1u << k)) &&
            mw_rate_allow(&c->alert_last[k], st->now_ms, cfg->alert_interval_ms))
            out->alerts |= 1u << k;
}

/* Has the last kill's memory come back (or its settle time passed)? Tells
 * the policy what it freed: memory and swap the shortage needed. */
static bool settled(struct mw_cycle *c, const struct mw_mem_state *st)
{
    bool visible =
        mw_policy_kill_visible(&c->settle_before, st, c->settle_rss_kb, c->settle_swap_kb);
    if (!visible && st->now_ms < c->settle_until_ms)
        return false;
    int64_t freed = (int64_t)st->available_kb - (int64_t)c->settle_before.available_kb +
                    (int64_t)st->swap_free_kb - (int64_t)c->settle_before.swap_free_kb;
    mw_policy_kill_freed(&c->thrash, freed, c->settle_rss_kb + c->settle_swap_kb);
    c->settling = false;
    return true;
}

/* The swap nobody holds, from a footprint sample fresh enough to tell. */
static void held_swap(const struct mw_cycle_ops *ops, struct mw_mem_state *st)
{
    uint64_t sampled_ms = ops->sampled_ms(ops->ctx);
    if (sampled_ms && st->now_ms - sampled_ms < MW_CYCLE_SWAP_FRESH_MS) {
        st->held_swap_kb = mw_state_unowned_swap_kb(st, ops->procs_swap_kb(ops->ctx));
        st->held_swap_known = true;
    }
}

/* Memory held where no kill reaches: said in the log when it stops a
 * kill, and in the state file while it lasts (rewritten when it starts,
 * ends, or at most every MW_CYCLE_NOTE_MS while its numbers move). */
static void note_held(struct mw_cycle *c, const struct mw_mem_state *st, struct mw_cycle_out *out)
{
    const struct mw_decision *dec = &out->dec;
    out->say_held = dec->held && mw_rate_allow(&c->held_log_ms, st->now_ms, MW_CYCLE_NOTE_MS);
    if (strcmp(c->held, dec->held_detail) == 0)
        return;
    bool edge = !c->held[0] != !dec->held_detail[0];
    if (!edge && !mw_rate_allow(&c->held_state_ms, st->now_ms, MW_CYCLE_NOTE_MS))
        return;
    snprintf(c->held, sizeof(c->held), "%s", dec->held_detail);
    out->publish_held = true;
}

/* What V frees: its unit for a runaway, else its memory and swap. */
static uint64_t frees_kb(const struct mw_victim *v)
{
    return v->runaway ? v->unit_kb : v->rss_kb + v->swap_kb;
}

/* Until enough is freed: when the decision's deficit is larger than what
 * V frees, more victims of the same choice join V's group (signalled
 * together, before anyone is waited for) -- at the last line, or when V
 * is a runaway (a storm's other units). lmkd's ordinary class kills stay
 * one at a time: their next victim waits for this one's memory to show.
 * A lead that is not a runaway takes more only from its own class
 * (mw_policy_cover_floor: the bed's g23). */
static void cover_deficit(struct mw_cycle *c, const struct mw_config *cfg,
                          const struct mw_cycle_ops *ops, struct mw_choice *ch,
                          struct mw_cycle_out *out)
{
    struct mw_victim *v = &out->victim, *more = &c->more;
    uint64_t covered = frees_kb(v);
    int victims = 1;
    if (!cfg->one_kill_at_a_time && (out->dec.last_line || v->runaway)) {
        if (!v->runaway)
            ch->min_adj = mw_policy_cover_floor(v->adj, ch->min_adj, ch->flat);
        while (covered < out->dec.deficit_kb && victims < MW_CYCLE_MAX_KILLS &&
               v->group_n < MW_VICTIM_GROUP) {
            int n = 0;
            c->chosen_pid[n++] = v->pid;
            for (int i = 0; i < v->group_n; i++)
                c->chosen_pid[n++] = v->group_pid[i];
            ch->exclude = c->chosen_pid;
            ch->exclude_n = n;
            if (ops->choose(ops->ctx, ch, more) <= 0)
                break;
            ops->put(ops->ctx, more);
            covered += frees_kb(more);
            victims++;
            v->group_pid[v->group_n] = more->pid;
            v->group_start[v->group_n++] = more->starttime;
            for (int i = 0; i < more->group_n && v->group_n < MW_VICTIM_GROUP; i++) {
                v->group_pid[v->group_n] = more->group_pid[i];
                v->group_start[v->group_n++] = more->group_start[i];
            }
        }
    }
    out->cover_victims = victims;
    out->covered_kb = covered;
}

/* A dry run's choice: said unless it repeats the last one within
 * MW_CYCLE_DRY_REPEAT_MS. */
static void would_kill(struct mw_cycle *c, const struct mw_mem_state *st, struct mw_cycle_out *out)
{
    const struct mw_victim *v = &out->victim;
    out->act = MW_CYCLE_WOULD_KILL;
    out->say = !(v->pid == c->dry_pid && st->now_ms - c->dry_ms < MW_CYCLE_DRY_REPEAT_MS);
    if (out->say) {
        c->dry_pid = v->pid;
        c->dry_ms = st->now_ms;
    }
}

/* The decision kills: who, with whom, and whether it can help. */
static void choose(struct mw_cycle *c, const struct mw_config *cfg, const struct mw_cycle_ops *ops,
                   const struct mw_mem_state *st, struct mw_cycle_out *out)
{
    const struct mw_decision *dec = &out->dec;
    struct mw_choice ch = {.min_adj = dec->min_adj,
                           .runaway_only = dec->runaway_only,
                           .runaway_any_adj = dec->runaway_any_adj,
                           .flat = c->adj_flat,
                           .total_kb = st->total_kb,
                           .pen = &c->pen,
                           .last_line = dec->last_line,
                           .now_ms = st->now_ms};
    int rc = ops->choose(ops->ctx, &ch, &out->victim);
    note_layout(c, cfg, ops, out);
    if (rc > 0 && !c->dry_run)
        cover_deficit(c, cfg, ops, &ch, out);
    if (rc == 0 && dec->runaway_only)
        return; /* no runaway: swap takes the pressure, nobody dies */
    if (rc <= 0) {
        out->note = MW_CYCLE_NOTE_NO_VICTIM;
        out->choose_rc = rc;
        out->say_note = mw_rate_allow(&c->note_ms, st->now_ms, MW_CYCLE_NOTE_MS);
        return;
    }
    out->frees_kb = frees_kb(&out->victim);
    if (!mw_policy_kill_helps(dec, out->frees_kb, out->victim.runaway)) {
        out->note = MW_CYCLE_NOTE_IN_VAIN;
        out->say_note = mw_rate_allow(&c->note_ms, st->now_ms, MW_CYCLE_NOTE_MS);
        ops->put(ops->ctx, &out->victim);
        return;
    }
    if (c->dry_run) {
        ops->put(ops->ctx, &out->victim);
        would_kill(c, st, out);
        return;
    }
    out->act = MW_CYCLE_KILL;
    c->settle_before = *st; /* what mw_cycle_killed measures the kill against */
}

/* While memory runs short, the footprints of the candidates are sampled
 * (at most once per MW_FP_RATE_MIN_MS), so the choice under pressure
 * finds them fresh and has a two-sample growth rate. Every sample that
 * sent no signal does it, also when a kill was decided but nobody could
 * or should be killed: in the bed's g10 a runaway-only decision that
 * found no runaway left them stale for 16 s, so the swap nobody holds
 * went unknown and the held verdict with it -- and a complete stall
 * killed two cached apps while tmpfs grew (21e1fcd). */
static void refresh_footprints(struct mw_cycle *c, const struct mw_config *cfg,
                               const struct mw_cycle_ops *ops, const struct mw_mem_state *st,
                               struct mw_cycle_out *out)
{
    uint64_t line = st->total_kb * (uint64_t)cfg->available_low_pct / 100;
    bool building = st->available_kb < MW_CYCLE_BUILDING_LINES * line ||
                    (st->events & (MW_EV_PARTIAL_STALL | MW_EV_COMPLETE_STALL));
    if (st->now_ms - c->refresh_ms < (building ? MW_FP_RATE_MIN_MS : MW_CYCLE_CALM_REFRESH_MS))
        return;
    c->refresh_ms = st->now_ms;
    /* every process (-999): their swap tells what swap nobody holds; the
     * headroom lets the refresh read only what moved (victim.h), the
     * slice bounds what it reads beyond that */
    uint64_t headroom = st->available_kb + st->swap_free_kb;
    struct mw_choice ch = {.min_adj = -999,
                           .now_ms = st->now_ms,
                           .pen = &c->pen,
                           .total_kb = st->total_kb,
                           .headroom_kb = headroom ? headroom : 1,
                           .slice_us = MW_FP_SLICE_US};
    ops->refresh(ops->ctx, &ch);
    note_layout(c, cfg, ops, out);
}

void mw_cycle_step(struct mw_cycle *c, const struct mw_config *cfg, const struct mw_cycle_ops *ops,
                   struct mw_mem_state *st, struct mw_cycle_out *out)
{
    memset(out, 0, sizeof(*out));
    alerts_due(c, cfg, st, out);
    if (c->settling && !settled(c, st)) {
        out->act = MW_CYCLE_SETTLING; /* the last kill's memory is on its way back */
        return;
    }
    st->adj_flat = c->adj_flat;
    held_swap(ops, st);
    mw_policy_decide(cfg, st, &c->thrash, &out->dec);
    note_held(c, st, out);
    if (out->dec.kill)
        choose(c, cfg, ops, st, out);
    if (out->act != MW_CYCLE_KILL)
        refresh_footprints(c, cfg, ops, st, out);
}

/* A kill-restart loop of PROG: a penalty as cfg->loop_action says (left
 * alone, or protected by loop_protect_adj) for loop_cooldown_ms, in the
 * slot of PROG, else of an expired penalty, else a new one (never a
 * second slot of PROG: both would shift its adj). */
static void penalize(struct mw_cycle *c, const struct mw_config *cfg, const char *prog,
                     uint64_t now_ms)
{
    if (cfg->loop_action == MW_LOOP_NONE)
        return;
    int slot = -1;
    for (int i = 0; i < c->pen.n; i++) {
        if (strcmp(c->pen.p[i].comm, prog) == 0) {
            slot = i;
            break;
        }
        if (slot < 0 && c->pen.p[i].until_ms <= now_ms)
            slot = i;
    }
    if (slot < 0 && c->pen.n < MW_MAX_PENALTIES)
        slot = c->pen.n++;
    if (slot < 0)
        return;
    snprintf(c->pen.p[slot].comm, sizeof(c->pen.p[slot].comm), "%s", prog);
    c->pen.p[slot].until_ms = now_ms + cfg->loop_cooldown_ms;
    c->pen.p[slot].adj_shift =
        cfg->loop_action == MW_LOOP_COOLDOWN ? INT32_MAX : cfg->loop_protect_adj;
}

/* The kill of OUT->victim in the loop tracker: a program killed
 * cfg->loop_kills times within loop_window_ms, restarting after each kill
 * (the seed's QQ, every 80 ms), is a loop: said at every kill of it, the
 * hook at most once an alert interval, and penalized. */
static void loop_check(struct mw_cycle *c, const struct mw_config *cfg,
                       const struct mw_cycle_kill *k, struct mw_cycle_out *out)
{
    const struct mw_victim *v = &out->victim;
    if (cfg->loop_kills <= 0)
        return;
    int n = mw_loop_note(&c->loops, v->comm, k->sig_boot_ms, k->start_boot_ms, cfg->loop_window_ms);
    if (n < cfg->loop_kills)
        return;
    out->loop_kills = n;
    penalize(c, cfg, v->comm, k->now_ms);
    unsigned kind = 0; /* the index of MW_ALERT_LOOP among the alert bits */
    while ((1u << kind) != MW_ALERT_LOOP)
        kind++;
    out->loop_hook = mw_rate_allow(&c->alert_last[kind], k->now_ms, cfg->alert_interval_ms);
}

bool mw_cycle_killed(struct mw_cycle *c, const struct mw_config *cfg,
                     const struct mw_cycle_ops *ops, const struct mw_cycle_kill *k,
                     struct mw_cycle_out *out)
{
    if (!k->signalled) {
        if (!k->gone_before)
            refresh_footprints(c, cfg, ops, &c->settle_before, out);
        return k->gone_before; /* gone: its memory came back anyway */
    }
    mw_policy_killed(cfg, &c->thrash, &out->dec);
    ops->forget(ops->ctx); /* footprints moved; penalties may change below */
    c->settling = cfg->kill_settle_ms > 0;
    c->settle_until_ms = k->sig_ms + cfg->kill_settle_ms;
    c->settle_rss_kb = out->victim.rss_kb;
    c->settle_swap_kb = out->victim.swap_kb;
    loop_check(c, cfg, k, out);
    return true;
}
