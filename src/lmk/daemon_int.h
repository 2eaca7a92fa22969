/* daemon_int: the daemon's world, shared by its two halves -- daemon.c
 * (descriptors, signals, the event loop, setup and reload) and act.c
 * (what one turn of the kill cycle asks for: alerts, notes, hooks, the
 * kill and its record). Not for other modules: daemon.h is the daemon's
 * interface. */
#ifndef MW_DAEMON_INT_H
#define MW_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lmk/config.h"
#include "lmk/cycle.h"
#include "lmk/daemon.h"
#include "lmk/hooks.h"
#include "lmk/memsource.h"
#include "lmk/metricsd.h"
#include "lmk/pressure.h"
#include "model/daemonstate.h"
#include "lmk/victim.h"

struct daemon {
    const struct mw_root *root;
    const struct mw_daemon_opts *o;
    struct mw_config cfg;
    struct mw_memsource src; /* the files of every sample, open once */
    struct mw_scan_ws ws;    /* the victim scan */
    struct mw_pressure pr;   /* what wakes it */
    int epfd, sigfd;
    struct mw_daemon_state state;
    char state_path[MW_CFG_PATH_LEN];
    char history_path[MW_CFG_PATH_LEN];
    int history_fd;
    uint64_t interval_ms;   /* the next wait when nothing happens */
    uint64_t fast_until_ms; /* after an event, sample often for one window */
    uint64_t timer_due_ms;  /* when the current wait for an event ends (0: a new wait) */
    /* the kill cycle (cycle.h): its memory, the scan it reads through,
     * and what it decided this sample */
    struct mw_cycle cyc;
    struct mw_cycle_ops ops;
    struct mw_cycle_out out;
    struct mw_hooks hooks; /* the hooks running in the background */
    /* the timings of this wake-up's kill (history.h's phases, us): when it
     * woke and how late for its timer, its sample, the last refresh, the
     * choices and when the last one ended */
    uint64_t woke_us, wake_late_us, sample_us, refresh_us, choose_us, chosen_at_us;
    uint64_t cycle_us; /* the refreshes of the footprints' current whole cycle */
    /* the metrics process (lmk/metricsd.h) and the counters it shows */
    struct mw_metrics_live *live;
    pid_t metrics_pid;
    struct mw_metricsd_opts mopts;
};

/* daemon.c: one memory sample into ST (its warning, when it changes, said
 * and published). Returns 0 or -errno. */
int daemon_sample(struct daemon *d, struct mw_mem_state *st);

/* daemon.c: rewrites the state file (atomically, never through a symlink:
 * state.h); a failure is said once per path. */
void daemon_state_write(struct daemon *d);

/* act.c: fills D->ops, the victim scan the kill cycle reads through. */
void act_ops_init(struct daemon *d);

/* act.c: one sample, one turn of the kill cycle, and what it asks for
 * (EVENTS woke the daemon at EVENT_MS). Returns true when a kill (or a
 * dry-run choice) was made. */
bool act_cycle(struct daemon *d, unsigned events, uint64_t event_ms, struct mw_mem_state *st);

/* act.c: reaps the hooks that ended, kills those past their time limit,
 * says how the ones that failed ended. */
void act_hooks_reap(struct daemon *d);

/* act.c: says the adj layout the kill cycle uses now. */
void act_say_layout(const struct daemon *d);

#endif
