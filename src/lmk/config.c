#include "lmk/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "lmk/metricsd.h"
#include "model/daemonstate.h"
#include "model/procmatch.h"

enum key_type {
    T_BOOL,
    T_INT,
    T_MS,
    T_KB,       /* a size (64M), stored in kB */
    T_KB_PLAIN, /* a plain number of kB (lmkd's *_kb properties) */
    T_DOUBLE,
    T_STRATEGY,
    T_USE_MINFREE,
    T_NEWSTRAT,
    T_LOOP,
    T_ADJMODE,
    T_PATTERNS,
    T_ARGV,
    T_PATH,
    T_MINFREE,
    T_IGNORED,
    T_LISTEN
};

struct key {
    const char *name;
    enum key_type type;
    size_t off;
    long lo, hi; /* T_INT range */
    int id;      /* bit in set_mask: aliases share their key's id */
};

#define OFF(f) offsetof(struct mw_config, f)

/* ids of the keys the low-RAM profile changes */
enum { ID_PARTIAL = 2, ID_THRASH = 5, ID_DECAY = 6, ID_SWAPLOW = 8, ID_ONEKILL = 15 };

static const struct key keys[] = {
    {"strategy", T_STRATEGY, OFF(strategy), 0, 0, 0},
    {"low_ram", T_BOOL, OFF(low_ram), 0, 0, 1},
    {"psi_partial_stall_ms", T_MS, OFF(psi_partial_stall_ms), 1, 10000, ID_PARTIAL},
    {"psi_complete_stall_ms", T_MS, OFF(psi_complete_stall_ms), 1, 10000, 3},
    {"psi_window_ms", T_MS, OFF(psi_window_ms), 500, 10000, 4},
    {"thrashing_limit", T_INT, OFF(thrashing_limit_pct), 0, 10000, ID_THRASH},
    {"thrashing_limit_decay", T_INT, OFF(thrashing_limit_decay_pct), 0, 100, ID_DECAY},
    {"thrashing_min_adj", T_INT, OFF(thrashing_min_adj), -999, 1000, 7},
    {"swap_free_low_percentage", T_INT, OFF(swap_free_low_pct), 0, 100, ID_SWAPLOW},
    {"swap_util_max", T_INT, OFF(swap_util_max_pct), 0, 100, 9},
    {"medium_adj", T_INT, OFF(medium_adj), -999, 1001, 10},
    {"critical_adj", T_INT, OFF(critical_adj), -999, 1001, 11},
    {"filecache_min", T_KB, OFF(filecache_min_kb), 0, 0, 12},
    {"kill_heaviest_task", T_BOOL, OFF(kill_heaviest_task), 0, 0, 13},
    {"kill_timeout_ms", T_MS, OFF(kill_timeout_ms), 0, 60000, 14},
    {"one_kill_at_a_time", T_BOOL, OFF(one_kill_at_a_time), 0, 0, ID_ONEKILL},
    {"minfree_levels", T_MINFREE, 0, 0, 0, 16},
    {"poll_interval_ms", T_MS, OFF(poll_interval_ms), 100, 3600000, 17},
    {"watchdog_ms", T_MS, OFF(watchdog_ms), 0, 600000, 18},
    {"scope_min_percent", T_INT, OFF(scope_min_pct), 0, 50, 19},
    {"scope_low_percent", T_INT, OFF(scope_low_pct), 0, 50, 20},
    {"scope_high_percent", T_INT, OFF(scope_high_pct), 0, 50, 21},
    {"protect", T_PATTERNS, OFF(protect), 0, 0, 22},
    {"prefer", T_PATTERNS, OFF(prefer), 0, 0, 23},
    {"avoid", T_PATTERNS, OFF(avoid), 0, 0, 24},
    {"term_first", T_PATTERNS, OFF(term_first), 0, 0, 25},
    {"kill_cgroup", T_PATTERNS, OFF(kill_cgroup), 0, 0, 26},
    {"pattern_adj_shift", T_INT, OFF(pattern_adj_shift), 0, 2000, 27},
    {"term_grace_ms", T_MS, OFF(term_grace_ms), 0, 60000, 28},
    {"oomd_preference", T_BOOL, OFF(oomd_preference), 0, 0, 58},
    {"kill_units", T_BOOL, OFF(kill_units), 0, 0, 59},
    {"loop_kills", T_INT, OFF(loop_kills), 0, 1000, 29},
    {"loop_window_ms", T_MS, OFF(loop_window_ms), 0, 86400000, 30},
    {"loop_action", T_LOOP, OFF(loop_action), 0, 0, 31},
    {"loop_cooldown_ms", T_MS, OFF(loop_cooldown_ms), 0, 86400000, 32},
    {"loop_protect_adj", T_INT, OFF(loop_protect_adj), 0, 2000, 33},
    {"alert_mem_used_percent", T_INT, OFF(alert_mem_used_pct), 0, 100, 34},
    {"alert_available", T_KB, OFF(alert_available_kb), 0, 0, 35},
    {"alert_swap_used_percent", T_INT, OFF(alert_swap_used_pct), 0, 100, 36},
    {"alert_psi_some_avg10", T_DOUBLE, OFF(alert_psi_some_avg10), 0, 100, 37},
    {"alert_hook", T_ARGV, OFF(alert_hook), 0, 0, 38},
    {"alert_interval_ms", T_MS, OFF(alert_interval_ms), 0, 86400000, 39},
    {"pre_kill_hook", T_ARGV, OFF(pre_kill_hook), 0, 0, 40},
    {"post_kill_hook", T_ARGV, OFF(post_kill_hook), 0, 0, 41},
    {"hook_timeout_ms", T_MS, OFF(hook_timeout_ms), 1, 600000, 42},
    {"kill_settle_ms", T_MS, OFF(kill_settle_ms), 0, 60000, 45},
    {"lowmem_min_adj", T_INT, OFF(lowmem_min_adj), -999, 1001, 46},
    {"available_low_percentage", T_INT, OFF(available_low_pct), 0, 100, 47},
    {"thrashing_psi_full", T_DOUBLE, OFF(thrashing_psi_full), 0, 100, 48},
    {"runaway_fill_time", T_MS, OFF(runaway_fill_ms), 0, 86400000, 49},
    {"runaway_min_adj", T_INT, OFF(runaway_min_adj), -999, 1001, 50},
    {"realtime", T_BOOL, OFF(realtime), 0, 0, 51},
    {"adj_mode", T_ADJMODE, OFF(adj_mode), 0, 0, 52},
    {"ro.lmk.lowmem_min_oom_score", T_INT, OFF(lowmem_min_adj), -999, 1001, 46},
    {"state_file", T_PATH, OFF(state_file), 0, 0, 43},
    {"history_file", T_PATH, OFF(history_file), 0, 0, 44},
    {"metrics_textfile", T_PATH, OFF(metrics_textfile), 0, 0, 53},
    {"metrics_interval", T_MS, OFF(metrics_interval_ms), 1000, 86400000, 54},
    {"metrics_listen", T_LISTEN, OFF(metrics_listen), 0, 0, 55},
    {"watch", T_PATTERNS, OFF(watch), 0, 0, 56},
    {"metrics_leak_window", T_MS, OFF(metrics_leak_window_ms), 10000, 86400000, 57},
    /* lmkd's property names (Android's init properties) as aliases */
    {"ro.config.low_ram", T_BOOL, OFF(low_ram), 0, 0, 1},
    {"ro.lmk.use_minfree_levels", T_USE_MINFREE, OFF(strategy), 0, 0, 0},
    {"ro.lmk.use_new_strategy", T_NEWSTRAT, OFF(strategy), 0, 0, 0},
    {"ro.lmk.psi_partial_stall_ms", T_MS, OFF(psi_partial_stall_ms), 1, 10000, ID_PARTIAL},
    {"ro.lmk.psi_complete_stall_ms", T_MS, OFF(psi_complete_stall_ms), 1, 10000, 3},
    {"ro.lmk.thrashing_limit", T_INT, OFF(thrashing_limit_pct), 0, 10000, ID_THRASH},
    {"ro.lmk.thrashing_limit_decay", T_INT, OFF(thrashing_limit_decay_pct), 0, 100, ID_DECAY},
    {"ro.lmk.thrashing_min_score_adj", T_INT, OFF(thrashing_min_adj), -999, 1000, 7},
    {"ro.lmk.swap_free_low_percentage", T_INT, OFF(swap_free_low_pct), 0, 100, ID_SWAPLOW},
    {"ro.lmk.swap_util_max", T_INT, OFF(swap_util_max_pct), 0, 100, 9},
    {"ro.lmk.medium", T_INT, OFF(medium_adj), -999, 1001, 10},
    {"ro.lmk.critical", T_INT, OFF(critical_adj), -999, 1001, 11},
    {"ro.lmk.filecache_min_kb", T_KB_PLAIN, OFF(filecache_min_kb), 0, 0, 12},
    {"ro.lmk.kill_heaviest_task", T_BOOL, OFF(kill_heaviest_task), 0, 0, 13},
    {"ro.lmk.kill_timeout_ms", T_MS, OFF(kill_timeout_ms), 0, 60000, 14},
    {"sys.lmk.minfree_levels", T_MINFREE, 0, 0, 0, 16},
    /* lmkd properties for its old vmpressure strategy or its own logging:
     * accepted so an Android tuning file loads, without effect here. */
    {"ro.lmk.debug", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.low", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.critical_upgrade", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.upgrade_pressure", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.downgrade_pressure", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.use_psi", T_IGNORED, 0, 0, 0, -1},
    {"ro.lmk.log_stats", T_IGNORED, 0, 0, 0, -1},
};

static const char *const sections[] = {"killer", "victims", "loops",  "alerts",
                                       "hooks",  "files",   "metrics"};

/* The victims, loops, alerts, hooks and files sections. */
static void defaults_victims_and_files(struct mw_config *cfg)
{
    cfg->pattern_adj_shift = 300;
    cfg->term_grace_ms = 2000;
    /* Beside systemd (lmk/sdunit.h): ManagedOOMPreference= as systemd-oomd
     * honours it, and a runaway that is its unit killed as the unit. */
    cfg->oomd_preference = true;
    cfg->kill_units = true;
    cfg->loop_kills = 3;
    cfg->loop_window_ms = 60000;
    /* Protect, not cool-down: a program left alone while it still eats
     * memory makes the killer pick the next, innocent process (the VM bed's
     * restart loop cost the foreground app its life that way). */
    cfg->loop_action = MW_LOOP_PROTECT;
    cfg->loop_cooldown_ms = 300000;
    cfg->loop_protect_adj = 300;
    cfg->alert_mem_used_pct = 0;
    cfg->alert_interval_ms = 300000;
    cfg->hook_timeout_ms = 5000;
    snprintf(cfg->state_file, sizeof(cfg->state_file), "%s", MW_DAEMON_STATE_FILE);
    cfg->metrics_interval_ms = 15000; /* node_exporter's usual scrape interval */
    cfg->metrics_leak_window_ms = 300000;
}

void mw_config_defaults(struct mw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->strategy = MW_STRATEGY_PSI;
    cfg->psi_partial_stall_ms = 70;   /* lmkd default, high-end device */
    cfg->psi_complete_stall_ms = 700; /* lmkd default */
    cfg->psi_window_ms = 1000;        /* lmkd PSI_WINDOW_SIZE_MS */
    cfg->thrashing_limit_pct = 100;   /* lmkd default */
    cfg->thrashing_limit_decay_pct = 10;
    cfg->thrashing_min_adj = 200; /* lmkd ro.lmk.thrashing_min_score_adj (seed table) */
    cfg->swap_free_low_pct = 20;
    /* The zone watermarks of a small machine sit a few MB above zero and
     * kswapd keeps free memory over them until swap is gone (measured in the
     * 512 MiB VM bed: low 3.2 MB while MemAvailable fell to 7 MB), so
     * "free below the low watermark" alone comes too late. MemAvailable
     * under 10 % (earlyoom's default) also counts as low memory. */
    cfg->available_low_pct = 10;
    /* Refaults alone also come from a reader streaming a file larger than
     * RAM, which hurts nobody. A thrashing kill needs tasks that really
     * wait: PSI full avg10 of 20 % (2 s per 10 s). In the VM bed a streamer
     * showed 3-12 % while the foreground app kept its 50 ms budget; the
     * runaway hog's real stalls showed 26 %. */
    cfg->thrashing_psi_full = 20.0;
    /* A process (or a group of young siblings) is a runaway when it holds
     * at least 1/16 of RAM and grew at an average rate that fills RAM within
     * this time since it started. Under memory shortage a runaway dies
     * before any older, smaller process of a higher adj: in the VM bed,
     * killing the idle cached apps first (lmkd's order) gave the hog and the
     * leaker the time to stall the foreground app, and a fork storm of 60
     * small processes outran one kill per cycle. */
    cfg->runaway_fill_ms = 60000;
    cfg->runaway_min_adj = 201; /* above perceptible: foreground and visible apps never */
    /* lmkd runs SCHED_FIFO: in the VM bed's fork storm a SCHED_OTHER daemon
     * waited 5 s for a CPU among 60 busy processes. */
    cfg->realtime = true;
    cfg->swap_util_max_pct = 100;
    cfg->medium_adj = 800; /* lmkd ro.lmk.medium */
    cfg->critical_adj = 0; /* lmkd ro.lmk.critical */
    /* lmkd DEF_LOWMEM_MIN_SCORE: PREVIOUS_APP_ADJ + 1 */
    cfg->lowmem_min_adj = 701;
    cfg->filecache_min_kb = 0;
    cfg->kill_heaviest_task = false;
    cfg->kill_timeout_ms = 100;
    /* A memory cgroup's swap charges drop ~100 ms after the victim's exit
     * (measured here); wait up to 5x that for the kill to show. */
    cfg->kill_settle_ms = 500;
    cfg->one_kill_at_a_time = false;
    /* Android's default table for a 1-2 GB device, in pages (seed §6.1). */
    static const struct mw_minfree_level def[] = {
        {18432 * 4, 0},   {23040 * 4, 100}, {27648 * 4, 200},
        {32256 * 4, 250}, {36864 * 4, 900}, {46080 * 4, 950},
    };
    cfg->minfree_n = (int)MW_ARRAY_SIZE(def);
    memcpy(cfg->minfree, def, sizeof(def));
    cfg->poll_interval_ms = 10000;
    cfg->watchdog_ms = 5000;
    /* A memory cgroup has no zone watermarks; these stand in for them:
     * min/low/high at 2/3/4 % of the limit (the kernel's zones sit near
     * 0.5-2 %; a cgroup fills far faster than a machine, so a wider band). */
    cfg->scope_min_pct = 2;
    cfg->scope_low_pct = 3;
    cfg->scope_high_pct = 4;
    defaults_victims_and_files(cfg);
}

void mw_config_apply_low_ram(struct mw_config *cfg)
{
    if (!cfg->low_ram)
        return;
    /* The seed's parameter table, "LowRam value" column. */
    if (!(cfg->set_mask & (1ull << ID_PARTIAL)))
        cfg->psi_partial_stall_ms = 200;
    if (!(cfg->set_mask & (1ull << ID_THRASH)))
        cfg->thrashing_limit_pct = 30;
    if (!(cfg->set_mask & (1ull << ID_DECAY)))
        cfg->thrashing_limit_decay_pct = 50;
    if (!(cfg->set_mask & (1ull << ID_SWAPLOW)))
        cfg->swap_free_low_pct = 10;
    if (!(cfg->set_mask & (1ull << ID_ONEKILL)))
        cfg->one_kill_at_a_time = true;
}

static int cmp_level(const void *a, const void *b)
{
    const struct mw_minfree_level *x = a, *y = b;
    return x->free_kb < y->free_kb ? -1 : x->free_kb > y->free_kb;
}

/* True when S[0..LEN) is one or more decimal digits and nothing else. */
static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return len > 0;
}

/* "18432:0,23040:100,27648:200,32256:250,36864:900,46080:950" */
int mw_minfree_parse(const char *s, struct mw_minfree_level *out, int *n)
{
    struct mw_minfree_level tmp[MW_CFG_MAX_MINFREE];
    int count = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *colon = strchr(p, ':');
        if (!colon)
            return -EINVAL;
        char num[32];
        size_t len = (size_t)(colon - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0 || len >= sizeof(num))
            return -EINVAL;
        memcpy(num, p, len);
        num[len] = '\0';
        uint64_t kb;
        if (all_digits(num, len)) {
            const char *q = num;
            uint64_t pages;
            if (mw_scan_u64(&q, &pages) < 0 || pages > (UINT64_MAX >> 13))
                return -EINVAL;
            kb = pages * 4; /* sys.lmk.minfree_levels counts 4 KiB pages */
        } else {
            uint64_t bytes;
            if (mw_parse_size(num, &bytes) < 0)
                return -EINVAL;
            kb = bytes / 1024;
        }
        char *end;
        errno = 0;
        long adj = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || adj < -1000 || adj > 1001)
            return -EINVAL;
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end && *end != ',')
            return -EINVAL;
        if (count == MW_CFG_MAX_MINFREE)
            return -E2BIG;
        tmp[count].free_kb = kb;
        tmp[count].adj = (int)adj;
        count++;
        p = *end ? end + 1 : end;
    }
    if (count == 0)
        return -EINVAL;
    qsort(tmp, (size_t)count, sizeof(tmp[0]), cmp_level);
    memcpy(out, tmp, sizeof(tmp[0]) * (size_t)count);
    *n = count;
    return count;
}

static void vseterr(char *err, size_t cap, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vseterr(char *err, size_t cap, int line, const char *fmt, va_list ap)
{
    if (!err || cap == 0)
        return;
    size_t used = strnlen(err, cap - 1);
    int n = snprintf(err + used, cap - used, "%sline %d: ", used ? "\n" : "", line);
    if (n < 0 || (size_t)n >= cap - used)
        return;
    used += (size_t)n;
    vsnprintf(err + used, cap - used, fmt, ap);
}

static void seterr(char *err, size_t cap, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void seterr(char *err, size_t cap, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vseterr(err, cap, line, fmt, ap);
    va_end(ap);
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"};
    static const char *const f[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* A duration for a key named *_ms: a plain number is milliseconds, a unit
 * (500ms, 2s, 5m) is honoured. A bare fraction ("50.0") is refused: it
 * read as seconds, 1000 times the milliseconds the key's name promises. */
static int parse_ms(const char *v, uint64_t *out)
{
    size_t n = strlen(v);
    if (all_digits(v, n)) {
        const char *q = v;
        return mw_scan_u64(&q, out);
    }
    if (n > 0 && (isdigit((unsigned char)v[n - 1]) || v[n - 1] == '.'))
        return -EINVAL;
    return mw_parse_duration_ms(v, out);
}

static int parse_argv(const char *v, struct mw_argv *out)
{
    struct mw_argv a;
    memset(&a, 0, sizeof(a));
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        if (a.n == MW_CFG_MAX_ARGV || (size_t)(e - p) >= MW_CFG_ARG_LEN)
            return -E2BIG;
        memcpy(a.arg[a.n], p, (size_t)(e - p));
        a.n++;
        p = e;
    }
    if (a.n > 0 && a.arg[0][0] != '/')
        return -EINVAL; /* execve needs a path: no PATH search, no shell */
    *out = a;
    return 0;
}

/* What a value setter sees: the key, its value text, the field it sets,
 * and where to explain a refusal. */
struct setctx {
    struct mw_config *cfg;
    const struct key *k;
    const char *v;
    void *f; /* the field at k->off */
    char *err;
    size_t errcap;
    int line;
};

/* Writes "line N: " + FMT into the context's error and returns -EINVAL. */
static int refuse(const struct setctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int refuse(const struct setctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vseterr(c->err, c->errcap, c->line, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int set_ignored(const struct setctx *c)
{
    (void)c;
    return 0;
}

/* A bool, or -EINVAL with the key's "not true or false" message. */
static int want_bool(const struct setctx *c, bool *b)
{
    if (parse_bool(c->v, b) < 0)
        return refuse(c, "%s: '%s' is not true or false", c->k->name, c->v);
    return 0;
}

static int set_bool(const struct setctx *c)
{
    bool b;
    int rc = want_bool(c, &b);
    if (rc == 0)
        *(bool *)c->f = b;
    return rc;
}

static int set_strategy(const struct setctx *c)
{
    if (strcmp(c->v, "psi") == 0)
        c->cfg->strategy = MW_STRATEGY_PSI;
    else if (strcmp(c->v, "minfree") == 0)
        c->cfg->strategy = MW_STRATEGY_MINFREE;
    else
        return refuse(c, "strategy: '%s' is not psi or minfree", c->v);
    return 0;
}

/* ro.lmk.use_minfree_levels = bool */
static int set_use_minfree(const struct setctx *c)
{
    bool b;
    int rc = want_bool(c, &b);
    if (rc == 0)
        c->cfg->strategy = b ? MW_STRATEGY_MINFREE : MW_STRATEGY_PSI;
    return rc;
}

/* ro.lmk.use_new_strategy = bool: true selects PSI, false changes nothing */
static int set_new_strategy(const struct setctx *c)
{
    bool b;
    int rc = want_bool(c, &b);
    if (rc == 0 && b)
        c->cfg->strategy = MW_STRATEGY_PSI;
    return rc;
}

static int set_loop(const struct setctx *c)
{
    if (strcmp(c->v, "none") == 0)
        c->cfg->loop_action = MW_LOOP_NONE;
    else if (strcmp(c->v, "cooldown") == 0 || strcmp(c->v, "protect") == 0)
        /* Protect, not cool-down: a program left alone while it still eats
         * memory makes the killer pick the next, innocent process (the VM bed's
         * restart loop cost the foreground app its life that way). */
        c->cfg->loop_action = MW_LOOP_PROTECT;
    else
        return refuse(c, "loop_action: '%s' is not none, cooldown or protect", c->v);
    return 0;
}

static int set_int(const struct setctx *c)
{
    char *end;
    errno = 0;
    long n = strtol(c->v, &end, 10);
    if (errno || end == c->v || *end || n < c->k->lo || n > c->k->hi)
        return refuse(c, "%s: '%s' is not a whole number from %ld to %ld", c->k->name, c->v,
                      c->k->lo, c->k->hi);
    *(int *)c->f = (int)n;
    return 0;
}

static int set_double(const struct setctx *c)
{
    double d;
    if (mw_parse_decimal(c->v, &d) < 0 || d < (double)c->k->lo || d > (double)c->k->hi)
        return refuse(c, "%s: '%s' is not a number from %ld to %ld", c->k->name, c->v, c->k->lo,
                      c->k->hi);
    *(double *)c->f = d;
    return 0;
}

static int set_ms(const struct setctx *c)
{
    uint64_t u;
    if (parse_ms(c->v, &u) < 0 || u < (uint64_t)c->k->lo || u > (uint64_t)c->k->hi)
        return refuse(c,
                      "%s: '%s' is not a duration from %ld ms to %ld ms (examples: 100, 500ms, 2s)",
                      c->k->name, c->v, c->k->lo, c->k->hi);
    *(uint64_t *)c->f = u;
    return 0;
}

/* adj_mode = auto | android | flat (see config.h). */
static int set_adj_mode(const struct setctx *c)
{
    static const char *const names[] = {
        [MW_ADJ_AUTO] = "auto", [MW_ADJ_ANDROID] = "android", [MW_ADJ_FLAT] = "flat"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(names); i++) {
        if (strcmp(c->v, names[i]) == 0) {
            c->cfg->adj_mode = (enum mw_adj_mode)i;
            return 0;
        }
    }
    return refuse(c, "adj_mode: '%s' is not auto, android or flat", c->v);
}

static int set_kb(const struct setctx *c)
{
    uint64_t u;
    if (mw_parse_size(c->v, &u) < 0)
        return refuse(c, "%s: '%s' is not a size (examples: 65536, 64M, 1G)", c->k->name, c->v);
    *(uint64_t *)c->f = u / 1024;
    return 0;
}

/* lmkd's *_kb properties are plain kB */
static int set_kb_plain(const struct setctx *c)
{
    uint64_t u;
    const char *q = c->v;
    if (mw_scan_u64(&q, &u) < 0 || *q)
        return refuse(c, "%s: '%s' is not a number of kB", c->k->name, c->v);
    *(uint64_t *)c->f = u;
    return 0;
}

static int set_patterns(const struct setctx *c)
{
    struct mw_patterns *p = c->f;
    if (!*c->v) { /* "protect =" empties the list */
        p->n = 0;
        return 0;
    }
    if (p->n == MW_CFG_MAX_PATTERNS || strlen(c->v) >= MW_CFG_PATTERN_LEN)
        return refuse(c, "%s: at most %d patterns of %d characters", c->k->name,
                      MW_CFG_MAX_PATTERNS, MW_CFG_PATTERN_LEN - 1);
    struct mw_match_spec spec; /* kill_cgroup is a plain glob on a cgroup path */
    char why[200];
    if (c->k->off != OFF(kill_cgroup) && mw_match_spec_parse(&spec, c->v, why, sizeof(why)) < 0)
        return refuse(c, "%s: %s", c->k->name, why);
    snprintf(p->pat[p->n++], MW_CFG_PATTERN_LEN, "%s", c->v);
    return 0;
}

static int set_argv(const struct setctx *c)
{
    int rc = parse_argv(c->v, c->f);
    if (rc == -E2BIG)
        return refuse(c, "%s: at most %d arguments of %d characters", c->k->name, MW_CFG_MAX_ARGV,
                      MW_CFG_ARG_LEN - 1);
    if (rc < 0)
        return refuse(c,
                      "%s: '%s': the program must be an absolute path (it is run with execve, "
                      "not through a shell)",
                      c->k->name, c->v);
    return 0;
}

static int set_path(const struct setctx *c)
{
    if (strlen(c->v) >= MW_CFG_PATH_LEN || (*c->v && *c->v != '/'))
        return refuse(c, "%s: '%s' is not an absolute path (or too long)", c->k->name, c->v);
    snprintf(c->f, MW_CFG_PATH_LEN, "%s", c->v);
    return 0;
}

/* "PORT", "HOST:PORT" or "[V6]:PORT", numeric: checked by the parser the
 * daemon binds with (lmk/metricsd.h), so --check-config refuses what the
 * start would. */
static int set_listen(const struct setctx *c)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (strlen(c->v) >= sizeof(c->cfg->metrics_listen) ||
        mw_metrics_addr_parse(c->v, &sa, &len) < 0)
        return refuse(c,
                      "%s: '%s' is not PORT, IPv4:PORT or [IPv6]:PORT with a numeric address "
                      "(e.g. 127.0.0.1:9333 or [::1]:9333; no host names)",
                      c->k->name, c->v);
    snprintf(c->f, sizeof(c->cfg->metrics_listen), "%s", c->v);
    return 0;
}

static int set_minfree(const struct setctx *c)
{
    int n = 0;
    if (mw_minfree_parse(c->v, c->cfg->minfree, &n) < 0)
        return refuse(c,
                      "%s: '%s' is not a table of FREE:ADJ pairs (FREE in 4 KiB pages or with a "
                      "unit, at most %d pairs; example: 18432:0,23040:100,36864:900)",
                      c->k->name, c->v, MW_CFG_MAX_MINFREE);
    c->cfg->minfree_n = n;
    return 0;
}

/* One setter per value type: a new type is a function and a line here. */
static int (*const setters[])(const struct setctx *) = {
    [T_BOOL] = set_bool,
    [T_INT] = set_int,
    [T_MS] = set_ms,
    [T_KB] = set_kb,
    [T_KB_PLAIN] = set_kb_plain,
    [T_DOUBLE] = set_double,
    [T_STRATEGY] = set_strategy,
    [T_USE_MINFREE] = set_use_minfree,
    [T_NEWSTRAT] = set_new_strategy,
    [T_LOOP] = set_loop,
    [T_ADJMODE] = set_adj_mode,
    [T_PATTERNS] = set_patterns,
    [T_ARGV] = set_argv,
    [T_PATH] = set_path,
    [T_LISTEN] = set_listen,
    [T_MINFREE] = set_minfree,
    [T_IGNORED] = set_ignored,
};

static int set_value(struct mw_config *cfg, const struct key *k, const char *v, char *err,
                     size_t errcap, int line)
{
    struct setctx c = {cfg, k, v, (char *)cfg + k->off, err, errcap, line};
    return setters[k->type](&c);
}

/* A "[section]" line S (E its end): a section memwarden knows. Returns 0
 * or -EINVAL after saying why (ERR). */
static int parse_section(char *s, char *e, char *err, size_t errcap, int line)
{
    if (e[-1] != ']') {
        seterr(err, errcap, line, "section header '%s' lacks its ']'", s);
        return -EINVAL;
    }
    e[-1] = '\0';
    for (size_t i = 0; i < MW_ARRAY_SIZE(sections); i++)
        if (strcmp(s + 1, sections[i]) == 0)
            return 0;
    seterr(err, errcap, line,
           "unknown section [%s] (known: killer, victims, loops, alerts, hooks, files, metrics)",
           s + 1);
    return -EINVAL;
}

/* A "key = value" line S (trimmed) into CFG. Returns 0 or -EINVAL after
 * saying why (ERR). */
static int parse_setting(struct mw_config *cfg, char *s, char *err, size_t errcap, int line)
{
    char *eq = strchr(s, '=');
    if (!eq) {
        seterr(err, errcap, line, "expected 'key = value', got '%s'", s);
        return -EINVAL;
    }
    char *ke = eq;
    while (ke > s && isspace((unsigned char)ke[-1]))
        ke--;
    *ke = '\0';
    char *v = eq + 1;
    while (isspace((unsigned char)*v))
        v++;
    size_t vl = strlen(v);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v[vl - 1] = '\0';
        v++;
    }
    const struct key *k = NULL;
    for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++)
        if (strcmp(keys[i].name, s) == 0)
            k = &keys[i];
    if (!k) {
        seterr(err, errcap, line, "unknown key '%s'", s);
        return -EINVAL;
    }
    if (set_value(cfg, k, v, err, errcap, line) < 0)
        return -EINVAL;
    if (k->id >= 0)
        cfg->set_mask |= 1ull << k->id;
    return 0;
}

int mw_config_parse_buf(struct mw_config *cfg, const char *buf, char *err, size_t errcap)
{
    int line = 0, nerr = 0;
    const char *c = buf, *p;
    size_t len;
    char text[1024];
    if (err && errcap)
        err[0] = '\0';
    while (mw_next_line(&c, &p, &len)) {
        line++;
        if (len >= sizeof(text)) {
            seterr(err, errcap, line, "line longer than %zu characters", sizeof(text) - 1);
            nerr++;
            continue;
        }
        memcpy(text, p, len);
        text[len] = '\0';
        /* trim */
        char *s = text;
        while (isspace((unsigned char)*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        int rc = *s == '[' ? parse_section(s, e, err, errcap, line)
                           : parse_setting(cfg, s, err, errcap, line);
        nerr += rc < 0;
    }
    if (!(cfg->scope_min_pct <= cfg->scope_low_pct && cfg->scope_low_pct <= cfg->scope_high_pct)) {
        seterr(err, errcap, line,
               "scope_min_percent <= scope_low_percent <= scope_high_percent "
               "must hold");
        nerr++;
    }
    if (nerr > 0)
        return -EINVAL;
    mw_config_apply_low_ram(cfg);
    return 0;
}

/* A config is a small text file; a larger one is a mistake. */
#define MW_CFG_MAX_BYTES (256 * 1024 - 1)

int mw_config_load(struct mw_config *cfg, const char *path, char *err, size_t errcap)
{
    /* Opened as given (relative to the working directory): a config file
     * belongs to the daemon, not to the observed root. Anything but a whole
     * regular text file is an error, never "no settings": on SIGHUP an
     * empty read would drop protect patterns and hooks. */
    char *buf = NULL;
    size_t n = 0;
    int rc = mw_read_file_at(AT_FDCWD, path, 0, MW_CFG_MAX_BYTES, &buf, &n);
    if (rc == -EISDIR)
        snprintf(err, errcap, "%s: is a directory, not a config file", path);
    else if (rc == -EBADFD)
        snprintf(err, errcap, "%s: not a regular file (a FIFO, a device or a socket)", path);
    else if (rc == -EFBIG)
        snprintf(err, errcap, "%s: larger than %d bytes", path, MW_CFG_MAX_BYTES);
    else if (rc < 0)
        snprintf(err, errcap, "%s: %s", path, mw_strerror(-rc));
    if (rc < 0)
        return rc;
    const char *nul = memchr(buf, '\0', n);
    if (nul) {
        int line = 1;
        for (const char *p = buf; p < nul; p++)
            line += *p == '\n';
        snprintf(err, errcap, "%s: line %d: a NUL byte (a config file is text)", path, line);
        free(buf);
        return -EINVAL;
    }
    char e2[MW_CFG_ERR_LEN];
    rc = mw_config_parse_buf(cfg, buf, e2, sizeof(e2));
    free(buf);
    if (rc < 0 && err && errcap) {
        /* "PATH: line N: ..." for each error */
        size_t used = 0;
        err[0] = '\0';
        for (const char *l = e2; *l && used + 1 < errcap;) {
            size_t len = strcspn(l, "\n");
            int k = snprintf(err + used, errcap - used, "%s%s: %.*s", used ? "\n" : "", path,
                             (int)len, l);
            if (k < 0 || (size_t)k >= errcap - used)
                break; /* cut at ERRCAP */
            used += (size_t)k;
            l += len + (l[len] == '\n');
        }
    }
    return rc;
}

bool mw_patterns_match(const struct mw_patterns *p, const char *cmdline, const char *comm)
{
    for (int i = 0; i < p->n; i++) {
        if (cmdline && *cmdline && fnmatch(p->pat[i], cmdline, 0) == 0)
            return true;
        if (comm && *comm && fnmatch(p->pat[i], comm, 0) == 0)
            return true;
    }
    return false;
}

bool mw_config_next_forgeable(const struct mw_config *cfg, int *cursor, const char **list,
                              const char **pat, const char **why)
{
    const struct mw_patterns *lists[] = {&cfg->protect, &cfg->avoid};
    static const char *const names[] = {"protect", "avoid"};
    for (; *cursor < 2 * MW_CFG_MAX_PATTERNS; (*cursor)++) {
        int l = *cursor / MW_CFG_MAX_PATTERNS, i = *cursor % MW_CFG_MAX_PATTERNS;
        if (i >= lists[l]->n)
            continue;
        struct mw_match_spec s;
        if (mw_match_spec_parse(&s, lists[l]->pat[i], NULL, 0) < 0 || mw_match_spec_trusted(&s))
            continue;
        *list = names[l];
        *pat = lists[l]->pat[i];
        *why = s.qualified ? "without uid:, unit: or cgroup: any user running that program matches"
                           : "a name match, which any user's process can forge (exec -a)";
        (*cursor)++;
        return true;
    }
    return false;
}
