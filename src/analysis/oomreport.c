#include "analysis/oomreport.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sections of a report; a line's meaning depends on the one it is in. */
enum {
    SEC_NONE = 0,
    SEC_MEMINFO,    /* after "Mem-Info:": "name:pages" pairs */
    SEC_MEMCG_STAT, /* after "Memory cgroup stats for /x:": "name value" lines */
    SEC_TASKS,      /* after "Tasks state" or the table's header: rows */
    SEC_SLAB,       /* after "Unreclaimable slab info:": "name usedKB totalKB" */
    SEC_FOREIGN,    /* a page-allocation-failure report printed in between: its
                     * Mem-Info and zones are not this report's */
};

/* ---- text helpers over [p, e) ------------------------------------------- */

struct span {
    const char *p, *e;
};

static bool has_prefix(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(s.e - s.p) >= n && memcmp(s.p, lit, n) == 0;
}

static const char *find(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if (p >= e || (size_t)(e - p) < n)
        return NULL;
    return memmem(p, (size_t)(e - p), lit, n);
}

/* The last occurrence of LIT in [p, e). */
static const char *rfind(const char *p, const char *e, const char *lit)
{
    const char *last = NULL, *q;
    while ((q = find(p, e, lit)) != NULL) {
        last = q;
        p = q + 1;
    }
    return last;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An unsigned decimal at *P (at most 19 digits); advances *P. */
static bool get_u64(const char **p, const char *e, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;
    while (q < e && is_digit(*q) && q - *p < 19)
        v = v * 10 + (uint64_t)(*q++ - '0');
    if (q == *p || (q < e && is_digit(*q)))
        return false;
    *p = q;
    *out = v;
    return true;
}

static bool get_i64(const char **p, const char *e, int64_t *out)
{
    const char *q = *p;
    bool neg = q < e && *q == '-';
    uint64_t v;
    if (neg)
        q++;
    if (!get_u64(&q, e, &v) || v > INT64_MAX)
        return false;
    *p = q;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* The number after KEY ("anon-rss:"), when KEY is in [p, e). */
static bool u64_after(const char *p, const char *e, const char *key, uint64_t *out)
{
    const char *k = find(p, e, key);
    if (!k)
        return false;
    k += strlen(key);
    return get_u64(&k, e, out);
}

static bool i64_after(const char *p, const char *e, const char *key, int64_t *out)
{
    const char *k = find(p, e, key);
    if (!k)
        return false;
    k += strlen(key);
    return get_i64(&k, e, out);
}

/* Copies [p, e) into DST (CAP bytes), NUL-terminated, cut when longer.
 * Returns false when cut. The bytes are kept as they are: whoever shows
 * them cleans them (base/text.h, the JSON writer). */
static bool put(char *dst, size_t cap, const char *p, const char *e)
{
    size_t n = e > p ? (size_t)(e - p) : 0;
    bool fits = n < cap;
    if (!fits)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return fits;
}

static const char *skip_blanks(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* ---- slots: the open report of each host --------------------------------- */

static void slot_reset(struct mw_oom_parser *ps, struct mw_oom_slot *s,
                       const struct mw_klog_line *l)
{
    memset(s, 0, sizeof(*s));
    s->used = true;
    s->last_line = ++ps->seq;
    struct mw_oom_event *ev = &s->ev;
    put(ev->host, sizeof(ev->host), l->host, l->host + l->host_len);
    put(ev->time, sizeof(ev->time), l->time, l->time + l->time_len);
    ev->boot_s = l->boot_s;
    ev->epoch_s = l->epoch_s;
    ev->have_epoch = l->have_epoch;
    ev->year_guessed = l->year_guessed;
    ev->source = l->source;
    ev->line = l->lineno;
    ev->trigger_adj = 0;
}

/* Settles what the report implied but did not say, and gives the event. */
static void slot_emit(struct mw_oom_parser *ps, struct mw_oom_slot *s)
{
    struct mw_oom_event *ev = &s->ev;
    if (ev->scope == MW_OOM_SCOPE_UNKNOWN) {
        if (ev->have_memcg || ev->oom_memcg[0])
            ev->scope = MW_OOM_SCOPE_MEMCG;
        else if (ev->have_meminfo)
            ev->scope = MW_OOM_SCOPE_GLOBAL; /* show_mem is printed for non-memcg OOMs */
    }
    ev->cut_end = !ev->have_victim && !ev->no_killable && !ev->panic;
    ev->no_header = !ev->have_trigger;
    s->used = false;
    ps->events++;
    ps->fn(ev, ps->ctx);
}

static bool same_host(const struct mw_oom_slot *s, const struct mw_klog_line *l)
{
    size_t n = l->host_len < sizeof(s->ev.host) ? l->host_len : sizeof(s->ev.host) - 1;
    return strlen(s->ev.host) == n && memcmp(s->ev.host, l->host, n) == 0;
}

static struct mw_oom_slot *slot_find(struct mw_oom_parser *ps, const struct mw_klog_line *l)
{
    for (unsigned i = 0; i < MW_OOM_SLOTS; i++)
        if (ps->slot[i].used && same_host(&ps->slot[i], l))
            return &ps->slot[i];
    return NULL;
}

/* A new event for L's host: the host's open one is given first; with every
 * slot taken, the least recently used one is. */
static struct mw_oom_slot *slot_start(struct mw_oom_parser *ps, const struct mw_klog_line *l)
{
    struct mw_oom_slot *s = slot_find(ps, l), *lru = NULL;
    if (!s) {
        for (unsigned i = 0; i < MW_OOM_SLOTS && !s; i++)
            if (!ps->slot[i].used)
                s = &ps->slot[i];
        for (unsigned i = 0; i < MW_OOM_SLOTS && !s; i++)
            if (!lru || ps->slot[i].last_line < lru->last_line)
                lru = &ps->slot[i];
        if (!s)
            s = lru;
    }
    if (s->used)
        slot_emit(ps, s);
    slot_reset(ps, s, l);
    return s;
}

/* ---- the patterns ---------------------------------------------------------
 * Each takes the message (blanks in front taken off) and returns true when
 * the line was its kind. */

/* The trigger, first line of every report:
 *   hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0     (6.18)
 *   thrash invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=(null), order=0,
 *       oom_score_adj=0                                                              (4.19)
 *   taskd invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0             (3.x)
 * The name may hold anything: the last " invoked oom-killer: " ends it. */
static bool pat_trigger(struct mw_oom_parser *ps, const struct mw_klog_line *l, struct span m)
{
    const char *k = rfind(m.p, m.e, " invoked oom-killer: ");
    if (!k)
        return false;
    const char *args = k + 21;
    struct mw_oom_slot *s = slot_start(ps, l);
    struct mw_oom_event *ev = &s->ev;
    ev->have_trigger = true;
    put(ev->trigger_comm, sizeof(ev->trigger_comm), m.p, k);
    const char *g = find(args, m.e, "gfp_mask=");
    if (g) {
        const char *ge = find(g, m.e, ", ");
        put(ev->gfp_mask, sizeof(ev->gfp_mask), g + 9, ge ? ge : m.e);
    }
    int64_t v;
    if (i64_after(args, m.e, "order=", &v) && v >= -1 && v < 64)
        ev->order = (int)v;
    if (i64_after(args, m.e, "oom_score_adj=", &v))
        ev->trigger_adj = v;
    return true;
}

/* The task that asked, and the kernel's release, from dump_stack:
 *   CPU: 1 UID: 0 PID: 13268 Comm: hog Not tainted 6.18.44-fc-v1272 #1 PREEMPT(none)
 *   CPU: 0 PID: 5117 Comm: stress Kdump: loaded Tainted: G    OE  --------  ---
 *       5.14.0-285.el9.x86_64 #1
 * Only right after its trigger, and only for the same name (another CPU's
 * warning prints the same kind of line). */
static void pat_cpu(struct mw_oom_event *ev, struct span m)
{
    const char *c = find(m.p, m.e, " Comm: "), *t;
    int64_t pid;
    if (!has_prefix(m, "CPU: ") || !c || !i64_after(m.p, c, " PID: ", &pid) || ev->trigger_pid)
        return;
    const char *name = c + 7;
    size_t tl = strnlen(ev->trigger_comm, 15);
    if (tl && ((size_t)(m.e - name) < tl || memcmp(name, ev->trigger_comm, tl) != 0))
        return;
    ev->trigger_pid = pid;
    if ((t = find(name, m.e, " Not tainted ")) != NULL)
        t += 13;
    else if ((t = find(name, m.e, " Tainted: ")) != NULL)
        t += 10;
    else
        return;
    while (t < m.e) { /* the taint letters, then the release */
        t = skip_blanks(t, m.e);
        const char *w = t;
        while (t < m.e && *t != ' ')
            t++;
        if (w < t && is_digit(*w) && memchr(w, '.', (size_t)(t - w))) {
            put(ev->kernel, sizeof(ev->kernel), w, t);
            return;
        }
    }
}

/* "Mem-Info:" then pages of the whole machine (show_mem):
 *   active_anon:0 inactive_anon:0 isolated_anon:0
 *    active_file:23 inactive_file:30 isolated_file:0
 *    slab_reclaimable:466670 slab_unreclaimable:534590
 *    mapped:19 shmem:0 pagetables:249 bounce:0
 *    free:31098 free_pcp:23 free_cma:0 */
static void pat_meminfo_pairs(struct mw_oom_event *ev, struct span m)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"active_anon", offsetof(struct mw_oom_event, active_anon_pages)},
        {"inactive_anon", offsetof(struct mw_oom_event, inactive_anon_pages)},
        {"active_file", offsetof(struct mw_oom_event, active_file_pages)},
        {"inactive_file", offsetof(struct mw_oom_event, inactive_file_pages)},
        {"unevictable", offsetof(struct mw_oom_event, unevictable_pages)},
        {"slab_reclaimable", offsetof(struct mw_oom_event, slab_reclaimable_pages)},
        {"slab_unreclaimable", offsetof(struct mw_oom_event, slab_unreclaimable_pages)},
        {"shmem", offsetof(struct mw_oom_event, shmem_pages)},
        {"pagetables", offsetof(struct mw_oom_event, pagetables_pages)},
        {"free", offsetof(struct mw_oom_event, free_pages)},
        {"mapped", offsetof(struct mw_oom_event, mapped_pages)},
    };
    const char *p = m.p;
    while (p < m.e) {
        p = skip_blanks(p, m.e);
        const char *w = p, *colon = NULL;
        while (p < m.e && *p != ' ' && *p != '\t') {
            if (*p == ':' && !colon)
                colon = p;
            p++;
        }
        if (!colon)
            continue;
        const char *v = colon + 1;
        uint64_t n;
        if (!get_u64(&v, p, &n) || v != p)
            continue;
        for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++)
            if (strlen(keys[i].key) == (size_t)(colon - w) &&
                memcmp(keys[i].key, w, (size_t)(colon - w)) == 0) {
                *(uint64_t *)(void *)((char *)ev + keys[i].off) = n;
                ev->have_meminfo = true;
            }
    }
}

/* A zone, in kB:
 *   Node 0 DMA32 free:44892kB boost:0kB min:44944kB low:56180kB high:67416kB
 *       reserved_highatomic:0KB active_anon:... present:3653568kB managed:3587844kB ...
 *   Normal free:248784kB boost:202752kB min:292864kB low:315392kB ...   (no NUMA)
 * Not the per-node line ("Node 0 active_anon:...") nor the buddy lists
 * ("Node 0 DMA: 1*4kB (U) ..."). */
static bool pat_zone(struct mw_oom_event *ev, struct span m)
{
    const char *p = m.p;
    int64_t node = 0;
    if (has_prefix(m, "Node ")) {
        p += 5;
        if (!get_i64(&p, m.e, &node) || p >= m.e || *p != ' ')
            return false;
        p++;
    }
    const char *name = p;
    while (p < m.e && *p != ' ' && *p != ':')
        p++;
    if (p == name || p - name >= 16 || !has_prefix((struct span){p, m.e}, " free:"))
        return false;
    struct mw_oom_zone z = {.node = node};
    put(z.name, sizeof(z.name), name, p);
    if (!u64_after(p, m.e, " free:", &z.free_kb) || !u64_after(p, m.e, " min:", &z.min_kb) ||
        !u64_after(p, m.e, " low:", &z.low_kb) || !u64_after(p, m.e, " high:", &z.high_kb))
        return false;
    u64_after(p, m.e, " managed:", &z.managed_kb);
    if (ev->nzones < MW_OOM_ZONES)
        ev->zones[ev->nzones++] = z;
    return true;
}

/* "Free swap  = 0kB", "Total swap = 262140kB", "131070 pages RAM". */
static bool pat_swap_ram(struct mw_oom_event *ev, struct span m)
{
    uint64_t v;
    if (has_prefix(m, "Free swap") && u64_after(m.p, m.e, "= ", &v)) {
        ev->free_swap_kb = v;
        ev->have_swap = true;
        return true;
    }
    if (has_prefix(m, "Total swap") && u64_after(m.p, m.e, "= ", &v)) {
        ev->total_swap_kb = v;
        ev->have_swap = true;
        return true;
    }
    const char *p = m.p;
    if (get_u64(&p, m.e, &v) && has_prefix((struct span){p, m.e}, " pages RAM")) {
        ev->ram_pages = v;
        return true;
    }
    return false;
}

/* Unreclaimable slab, when it is larger than all LRU pages:
 *   Unreclaimable slab info:
 *   Name                      Used          Total
 *   kmalloc-4096            98304KB      98304KB */
static void pat_slab_row(struct mw_oom_event *ev, struct span m)
{
    const char *p = m.p;
    while (p < m.e && *p != ' ')
        p++;
    struct mw_oom_slab sl;
    const char *v = skip_blanks(p, m.e);
    if (!get_u64(&v, m.e, &sl.used_kb) || !has_prefix((struct span){v, m.e}, "KB"))
        return;
    v = skip_blanks(v + 2, m.e);
    if (!get_u64(&v, m.e, &sl.total_kb))
        sl.total_kb = sl.used_kb;
    put(sl.name, sizeof(sl.name), m.p, p);
    unsigned i = ev->nslabs < MW_OOM_SLABS ? ev->nslabs++ : MW_OOM_SLABS - 1;
    if (i == MW_OOM_SLABS - 1 && ev->slabs[i].used_kb >= sl.used_kb && ev->nslabs == MW_OOM_SLABS &&
        ev->slabs[i].name[0])
        return;
    ev->slabs[i] = sl;
    for (; i > 0 && ev->slabs[i - 1].used_kb < ev->slabs[i].used_kb; i--) {
        struct mw_oom_slab t = ev->slabs[i - 1];
        ev->slabs[i - 1] = ev->slabs[i];
        ev->slabs[i] = t;
    }
}

/* A cgroup's counters (kB):
 *   memory: usage 65536kB, limit 65536kB, failcnt 0
 *   memory+swap: usage 65536kB, limit 65536kB, failcnt 0      (v1)
 *   swap: usage 0kB, limit 0kB, failcnt 0                     (v2)
 *   kmem: usage 192kB, limit 9007199254740988kB, failcnt 0    (v1: not kept) */
static bool pat_memcg_usage(struct mw_oom_event *ev, struct span m)
{
    uint64_t u, lim, f = 0;
    bool mem = has_prefix(m, "memory: usage "), memsw = has_prefix(m, "memory+swap: usage "),
         swap = has_prefix(m, "swap: usage ");
    if (!mem && !memsw && !swap && !has_prefix(m, "kmem: usage "))
        return false;
    if (!u64_after(m.p, m.e, "usage ", &u) || !u64_after(m.p, m.e, ", limit ", &lim))
        return true;
    u64_after(m.p, m.e, ", failcnt ", &f);
    if (mem) {
        ev->have_memcg = true;
        ev->mem_usage_kb = u;
        ev->mem_limit_kb = lim;
        ev->mem_failcnt = f;
    } else if (memsw || swap) {
        ev->have_swap_line = true;
        ev->swap_is_memsw = memsw;
        ev->swap_usage_kb = u;
        ev->swap_limit_kb = lim;
    }
    return true;
}

/* The cgroup's memory.stat, in bytes, one "name value" a line (v2; v1
 * since 4.19 prints v1's names and total_* for the subtree):
 *   anon 33017856          rss 66912256          total_rss 66912256
 * or, v1 before 4.19, one line per cgroup of the subtree, in KB:
 *   Memory cgroup stats for /docker/ab12: cache:0KB rss:524288KB rss_huge:0KB
 *       shmem:0KB mapped_file:0KB ... swap:0KB inactive_anon:0KB ... */
static void memcg_stat_pair(struct mw_oom_event *ev, const char *k, size_t kn, uint64_t v,
                            unsigned *prio_seen)
{
    static const struct {
        const char *key;
        size_t off;
        unsigned prio; /* total_* (hierarchical) over the cgroup's own */
    } keys[] = {
        {"anon", offsetof(struct mw_oom_event, cg_anon), 2},
        {"total_rss", offsetof(struct mw_oom_event, cg_anon), 2},
        {"rss", offsetof(struct mw_oom_event, cg_anon), 1},
        {"file", offsetof(struct mw_oom_event, cg_file), 2},
        {"total_cache", offsetof(struct mw_oom_event, cg_file), 2},
        {"cache", offsetof(struct mw_oom_event, cg_file), 1},
        {"shmem", offsetof(struct mw_oom_event, cg_shmem), 1},
        {"total_shmem", offsetof(struct mw_oom_event, cg_shmem), 2},
        {"kernel", offsetof(struct mw_oom_event, cg_kernel), 2},
        {"slab", offsetof(struct mw_oom_event, cg_slab), 2},
        {"swap", offsetof(struct mw_oom_event, cg_swap), 1},
        {"total_swap", offsetof(struct mw_oom_event, cg_swap), 2},
    };
    for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++) {
        if (strlen(keys[i].key) != kn || memcmp(keys[i].key, k, kn) != 0)
            continue;
        unsigned slot = (unsigned)(keys[i].off - offsetof(struct mw_oom_event, cg_anon)) / 8;
        if (slot < 6 && prio_seen[slot] > keys[i].prio)
            return;
        if (slot < 6)
            prio_seen[slot] = keys[i].prio;
        *(uint64_t *)(void *)((char *)ev + keys[i].off) = v;
        ev->have_memcg_stat = true;
        return;
    }
}

/* The old one-line form: "name:NKB" pairs, summed over the subtree's lines. */
static void memcg_stat_oneline(struct mw_oom_event *ev, const char *p, const char *e)
{
    struct mw_oom_event one;
    unsigned prio[6] = {0};
    memset(&one, 0, sizeof(one));
    while (p < e) {
        p = skip_blanks(p, e);
        const char *w = p, *colon = NULL;
        while (p < e && *p != ' ') {
            if (*p == ':' && !colon)
                colon = p;
            p++;
        }
        const char *v = colon ? colon + 1 : p;
        uint64_t n;
        if (colon && get_u64(&v, p, &n) && p - v == 2 && (v[0] == 'K' || v[0] == 'k'))
            memcg_stat_pair(&one, w, (size_t)(colon - w), n * 1024, prio);
    }
    if (!one.have_memcg_stat)
        return;
    ev->cg_anon += one.cg_anon;
    ev->cg_file += one.cg_file;
    ev->cg_shmem += one.cg_shmem;
    ev->cg_swap += one.cg_swap;
    ev->have_memcg_stat = true;
}

static bool pat_memcg_stat_head(struct mw_oom_event *ev, struct span m)
{
    if (!has_prefix(m, "Memory cgroup stats for "))
        return false;
    ev->memcg_stat_groups++;
    const char *path = m.p + 24, *colon;
    if (m.e > path && m.e[-1] == ':') { /* "...for /x:" and the stat below */
        if (!ev->task_memcg[0] && !ev->oom_memcg[0])
            ev->path_cut |= !put(ev->oom_memcg, sizeof(ev->oom_memcg), path, m.e - 1);
        return true;
    }
    if ((colon = find(path, m.e, ": ")) != NULL) {
        if (!ev->task_memcg[0] && !ev->oom_memcg[0])
            ev->path_cut |= !put(ev->oom_memcg, sizeof(ev->oom_memcg), path, colon);
        memcg_stat_oneline(ev, colon + 1, m.e);
    }
    return true;
}

static void pat_memcg_stat_line(struct mw_oom_event *ev, struct span m, unsigned *prio)
{
    const char *p = m.p;
    while (p < m.e && ((*p >= 'a' && *p <= 'z') || *p == '_'))
        p++;
    const char *v = p + 1;
    uint64_t n;
    if (p == m.p || p >= m.e || *p != ' ' || !get_u64(&v, m.e, &n) || v != m.e)
        return;
    memcg_stat_pair(ev, m.p, (size_t)(p - m.p), n, prio);
}

/* The table's header names its columns (they differ by kernel):
 *   [ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name (4.1-4.14)
 *   [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name (4.15+)
 *   [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents
 *       oom_score_adj name                                                          (6.x) */
static bool pat_task_header(struct mw_oom_slot *s, struct span m)
{
    if (!has_prefix(m, "[") || !find(m.p, m.e, "pid") || !find(m.p, m.e, "total_vm") ||
        !find(m.p, m.e, " name"))
        return false;
    const char *p = memchr(m.p, ']', (size_t)(m.e - m.p));
    if (!p)
        return false;
    p++;
    s->col_uid = s->col_tgid = s->col_vm = s->col_rss = s->col_swap = s->col_adj = -1;
    int col = 0;
    while (p < m.e && col < 16) {
        p = skip_blanks(p, m.e);
        const char *w = p;
        while (p < m.e && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0 || (n == 4 && memcmp(w, "name", 4) == 0))
            break;
#define COL(lit, field)                                                                            \
    if (n == strlen(lit) && memcmp(w, lit, n) == 0)                                                \
        s->field = col;
        COL("uid", col_uid)
        COL("tgid", col_tgid)
        COL("total_vm", col_vm)
        COL("rss", col_rss)
        COL("swapents", col_swap)
        COL("oom_score_adj", col_adj)
#undef COL
        col++;
    }
    s->ncols = col;
    s->sec = SEC_TASKS;
    s->ev.have_tasks = true;
    return true;
}

/* Keeps ROW among the MW_OOM_TOP largest by rss (largest first). */
static void top_insert(struct mw_oom_event *ev, const struct mw_oom_task *row)
{
    unsigned i = ev->ntop;
    if (i == MW_OOM_TOP) {
        if (ev->top[MW_OOM_TOP - 1].rss_pages >= row->rss_pages)
            return;
        i = MW_OOM_TOP - 1;
    } else {
        ev->ntop++;
    }
    for (; i > 0 && ev->top[i - 1].rss_pages < row->rss_pages; i--)
        ev->top[i] = ev->top[i - 1];
    ev->top[i] = *row;
}

/* A row, in pages (pgtables_bytes in bytes):
 *   [  13268]     0 13268    17261    16660    16320      340         0   180224        0
 *       0 hog
 * The name is the rest after one space (it may hold blanks). Without a
 * header (the report's start is lost), the row's own count of numbers
 * places uid, tgid, total_vm, rss first and swapents, oom_score_adj last. */
static bool pat_task_row(struct mw_oom_slot *s, struct span m)
{
    const char *p = m.p + 1;
    int64_t pid, v[16];
    p = skip_blanks(p, m.e);
    if (!get_i64(&p, m.e, &pid) || p >= m.e || *p != ']')
        return false;
    p++;
    int n = 0, want = s->ncols > 0 ? s->ncols : 16;
    const char *name = p;
    while (n < want) {
        const char *q = skip_blanks(p, m.e), *r = q;
        if (!get_i64(&r, m.e, &v[n]) || (r < m.e && *r != ' '))
            break;
        p = r;
        n++;
        if (s->ncols == 0 && r < m.e && !find(r, m.e, " "))
            break; /* no header: the last token is the name */
    }
    name = p < m.e && *p == ' ' ? p + 1 : p;
    if (n < 4 || (s->ncols > 0 && n != s->ncols))
        return false;
    bool hdr = s->ncols > 0;
    int cu = hdr ? s->col_uid : 0, ct = hdr ? s->col_tgid : 1, cv = hdr ? s->col_vm : 2,
        cr = hdr ? s->col_rss : 3, cs = hdr ? s->col_swap : n - 2, ca = hdr ? s->col_adj : n - 1;
    struct mw_oom_task t;
    memset(&t, 0, sizeof(t));
    t.pid = pid;
    t.uid = cu >= 0 && v[cu] >= 0 ? (uint64_t)v[cu] : 0;
    t.tgid = ct >= 0 ? v[ct] : pid;
    t.total_vm_pages = cv >= 0 && v[cv] >= 0 ? (uint64_t)v[cv] : 0;
    t.rss_pages = cr >= 0 && v[cr] >= 0 ? (uint64_t)v[cr] : 0;
    t.swap_pages = cs >= 0 && v[cs] >= 0 ? (uint64_t)v[cs] : 0;
    t.oom_score_adj = ca >= 0 ? v[ca] : 0;
    put(t.name, sizeof(t.name), name, m.e);
    struct mw_oom_event *ev = &s->ev;
    ev->have_tasks = true;
    ev->ntasks++;
    ev->tasks_rss_pages += t.rss_pages;
    top_insert(ev, &t);
    return true;
}

/* The scope, 4.19 and later (one line, after the table):
 *   oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,
 *       oom_memcg=/mwfx-oom-20929,task_memcg=/mwfx-oom-20929,task=hog,pid=20941,uid=0
 *   oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,
 *       global_oom,task_memcg=/,task=hog,pid=127,uid=0
 * Paths and the name are the user's: fields are cut at the separators
 * nearest the kernel's own (the first ",nodemask=", the last ",pid="). */
static void pat_oomkill(struct mw_oom_event *ev, struct span m)
{
    const char *c = m.p + 20, *ce = find(c, m.e, ",");
    put(ev->constraint, sizeof(ev->constraint), c, ce ? ce : m.e);
    static const struct {
        const char *name;
        enum mw_oom_scope scope;
    } scopes[] = {{"CONSTRAINT_NONE", MW_OOM_SCOPE_GLOBAL},
                  {"CONSTRAINT_MEMCG", MW_OOM_SCOPE_MEMCG},
                  {"CONSTRAINT_CPUSET", MW_OOM_SCOPE_CPUSET},
                  {"CONSTRAINT_MEMORY_POLICY", MW_OOM_SCOPE_MEMPOLICY}};
    for (size_t i = 0; i < MW_ARRAY_SIZE(scopes); i++)
        if (strcmp(ev->constraint, scopes[i].name) == 0)
            ev->scope = scopes[i].scope;
    const char *pid = rfind(m.p, m.e, ",pid="), *task = pid ? rfind(m.p, pid, ",task=") : NULL;
    const char *tm = task ? rfind(m.p, task, ",task_memcg=") : NULL;
    const char *om = find(m.p, tm ? tm : m.e, ",oom_memcg=");
    const char *cs = find(m.p, m.e, ",cpuset="), *ma = cs ? find(cs, m.e, ",mems_allowed=") : NULL;
    if (cs && ma)
        ev->path_cut |= !put(ev->cpuset, sizeof(ev->cpuset), cs + 8, ma);
    if (om && tm)
        ev->path_cut |= !put(ev->oom_memcg, sizeof(ev->oom_memcg), om + 11, tm);
    if (tm && task)
        ev->path_cut |= !put(ev->task_memcg, sizeof(ev->task_memcg), tm + 12, task);
    int64_t v;
    if (task && pid && !ev->have_victim) {
        put(ev->victim_comm, sizeof(ev->victim_comm), task + 6, pid);
        const char *q = pid + 5;
        if (get_i64(&q, m.e, &v)) {
            ev->victim_pid = v;
            ev->have_victim = true;
        }
    }
    uint64_t uid;
    if (u64_after(pid ? pid : m.p, m.e, ",uid=", &uid)) {
        ev->victim_uid = uid;
        ev->have_victim_uid = true;
    }
}

/* Before 4.19, a cgroup OOM said (v1):
 *   Task in /docker/ab12 killed as a result of limit of /docker/ab12 */
static void pat_task_in(struct mw_oom_event *ev, struct span m)
{
    const char *k = find(m.p, m.e, " killed as a result of limit of ");
    if (!k)
        return;
    ev->path_cut |= !put(ev->task_memcg, sizeof(ev->task_memcg), m.p + 8, k);
    ev->path_cut |= !put(ev->oom_memcg, sizeof(ev->oom_memcg), k + 32, m.e);
    ev->scope = MW_OOM_SCOPE_MEMCG;
}

/* The 4.x cpuset line, under the trigger:
 *   thrash cpuset=cc6b369add7d mems_allowed=0-1 */
static bool pat_cpuset_line(struct mw_oom_event *ev, struct span m)
{
    const char *c = find(m.p, m.e, " cpuset="), *ma = c ? rfind(c, m.e, " mems_allowed=") : NULL;
    size_t tl = strlen(ev->trigger_comm);
    if (!ma || !ev->have_trigger || (size_t)(c - m.p) != tl || memcmp(m.p, ev->trigger_comm, tl))
        return false;
    ev->path_cut |= !put(ev->cpuset, sizeof(ev->cpuset), c + 8, ma);
    return true;
}

/* The victim's name in "PID (name)...": from the first " (" to the last
 * ')' before END (the kernel's own text after it holds no ')'). */
static bool pid_and_name(const char *p, const char *end, int64_t *pid, char *name, size_t cap)
{
    if (!get_i64(&p, end, pid) || !has_prefix((struct span){p, end}, " ("))
        return false;
    const char *close = NULL;
    for (const char *q = p + 2; q < end; q++)
        if (*q == ')')
            close = q;
    if (!close)
        return false;
    put(name, cap, p + 2, close);
    return true;
}

/* The kill. Kernels 5.1 and later print one line:
 *   Memory cgroup out of memory: Killed process 20941 (hog) total-vm:52660kB,
 *       anon-rss:48896kB, file-rss:1284kB, shmem-rss:0kB, UID:0 pgtables:144kB oom_score_adj:0
 * before, two (the first names the one chosen, the second the one killed,
 * its child when it had one):
 *   Out of memory: Kill process 27438 (R) score 31 or sacrifice child
 *   Killed process 27438 (R) total-vm:38349780kB, anon-rss:1041924kB, file-rss:4kB,
 *       shmem-rss:0kB
 * (RHEL 7: "Killed process 799153 (node), UID 1000, total-vm:606096kB, ..."),
 * and processes sharing the victim's memory are killed with it:
 *   Killed process 1235 (worker) sharing same memory */
static bool pat_victim(struct mw_oom_parser *ps, const struct mw_klog_line *l, struct span m)
{
    const char *killed = find(m.p, m.e, "Killed process "), *kill = NULL;
    if (!killed && (kill = find(m.p, m.e, "Kill process ")) == NULL)
        return false;
    const char *num = killed ? killed + 15 : kill + 13;
    struct mw_oom_slot *s = slot_find(ps, l);
    int64_t pid;
    char name[MW_OOM_COMM];
    if (find(num, m.e, " sharing same memory")) {
        if (s && s->ev.have_victim)
            s->ev.sharing++;
        return true;
    }
    const char *vm = killed ? rfind(num, m.e, "total-vm:") : rfind(num, m.e, ") score ");
    if (!vm || !pid_and_name(num, killed ? vm : vm + 1, &pid, name, sizeof(name)))
        return false;
    struct mw_oom_event *ev = s ? &s->ev : NULL;
    /* a new event: none open, or this one's kill was already read (a second
     * kill line is the next, rate-limited, event) */
    bool follow = ev && !s->victim_done &&
                  (killed ? !ev->have_victim_sizes : !ev->have_score && !ev->have_victim_sizes);
    if (!follow) {
        s = slot_start(ps, l);
        ev = &s->ev;
    }
    s->sec = SEC_NONE;
    if (find(m.p, num, "Memory cgroup out of memory") && ev->scope == MW_OOM_SCOPE_UNKNOWN)
        ev->scope = MW_OOM_SCOPE_MEMCG;
    if (kill) {
        ev->have_score = true;
        ev->chosen_pid = pid;
        put(ev->chosen_comm, sizeof(ev->chosen_comm), name, name + strlen(name));
        u64_after(vm, m.e, ") score ", &ev->score);
    }
    ev->have_victim = true;
    ev->victim_pid = pid;
    put(ev->victim_comm, sizeof(ev->victim_comm), name, name + strlen(name));
    if (!killed)
        return true;
    ev->have_victim_sizes = true;
    s->victim_done = true;
    u64_after(vm, m.e, "total-vm:", &ev->total_vm_kb);
    u64_after(vm, m.e, "anon-rss:", &ev->anon_rss_kb);
    u64_after(vm, m.e, "file-rss:", &ev->file_rss_kb);
    u64_after(vm, m.e, "shmem-rss:", &ev->shmem_rss_kb);
    u64_after(vm, m.e, "pgtables:", &ev->pgtables_kb);
    if (u64_after(num, m.e, "UID:", &ev->victim_uid) ||
        u64_after(num, m.e, "UID ", &ev->victim_uid))
        ev->have_victim_uid = true;
    if (i64_after(vm, m.e, "oom_score_adj:", &ev->victim_adj))
        ev->have_victim_adj = true;
    return true;
}

/* After the kill, the reaper frees the victim's memory:
 *   oom_reaper: reaped process 20941 (hog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
 *   oom_reaper: unable to reap pid:20941 (hog) */
static void pat_reaper(struct mw_oom_parser *ps, const struct mw_klog_line *l, struct span m)
{
    struct mw_oom_slot *s = slot_find(ps, l);
    int64_t pid;
    const char *p = m.p + 12;
    bool failed = has_prefix((struct span){p, m.e}, "unable to reap pid:");
    p += failed ? 19 : has_prefix((struct span){p, m.e}, "reaped process ") ? 15 : 0;
    if (!get_i64(&p, m.e, &pid))
        return;
    if (!s || !s->ev.have_victim || s->ev.victim_pid != pid) {
        ps->orphan_reaps++;
        return;
    }
    struct mw_oom_event *ev = &s->ev;
    if (failed) {
        ev->reap_failed = true;
        return;
    }
    ev->reaped = true;
    u64_after(p, m.e, "anon-rss:", &ev->reaped_anon_kb);
    u64_after(p, m.e, "file-rss:", &ev->reaped_file_kb);
    u64_after(p, m.e, "shmem-rss:", &ev->reaped_shmem_kb);
}

/* The ends without a kill:
 *   Out of memory and no killable processes...
 *   Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled
 *   Kernel panic - not syncing: System is deadlocked on memory */
static bool pat_end(struct mw_oom_parser *ps, const struct mw_klog_line *l, struct span m)
{
    bool none = has_prefix(m, "Out of memory and no killable processes");
    bool panic = has_prefix(m, "Kernel panic - not syncing: ") &&
                 (find(m.p, m.e, "Out of memory") || find(m.p, m.e, "deadlocked on memory"));
    if (!none && !panic)
        return false;
    struct mw_oom_slot *s = slot_find(ps, l);
    if (!s || (none && s->victim_done))
        s = slot_start(ps, l);
    s->ev.no_killable |= none;
    s->ev.panic |= panic;
    s->victim_done = true;
    return true;
}

/* Lines that belong to an open report before its kill. */
static void in_report(struct mw_oom_slot *s, struct span m)
{
    struct mw_oom_event *ev = &s->ev;
    if (has_prefix(m, "Mem-Info:")) {
        s->sec = SEC_MEMINFO;
    } else if (has_prefix(m, "Tasks state (memory values in pages)")) {
        s->sec = SEC_TASKS;
        ev->have_tasks = true;
    } else if (has_prefix(m, "Unreclaimable slab info:")) {
        s->sec = SEC_SLAB;
        ev->slab_dump = true;
    } else if (find(m.p, m.e, " page allocation failure: order:")) {
        s->sec = SEC_FOREIGN;
    } else if (has_prefix(m, "oom-kill:constraint=")) {
        pat_oomkill(ev, m);
        s->sec = SEC_NONE;
    } else if (has_prefix(m, "Task in ")) {
        pat_task_in(ev, m);
    } else if (pat_memcg_usage(ev, m)) {
        s->sec = SEC_NONE;
    } else if (pat_memcg_stat_head(ev, m)) {
        s->sec = SEC_MEMCG_STAT;
    } else if (has_prefix(m, "CPU: ")) {
        pat_cpu(ev, m);
    } else if (has_prefix(m, "[")) {
        if (!pat_task_header(s, m) && s->sec == SEC_TASKS)
            pat_task_row(s, m);
    } else if (s->sec == SEC_FOREIGN) {
        return;
    } else if (pat_zone(ev, m) || pat_swap_ram(ev, m) || pat_cpuset_line(ev, m)) {
        if (s->sec == SEC_MEMINFO)
            s->sec = SEC_NONE;
    } else if (s->sec == SEC_MEMINFO) {
        pat_meminfo_pairs(ev, m);
    } else if (s->sec == SEC_MEMCG_STAT) {
        pat_memcg_stat_line(ev, m, s->stat_prio);
    } else if (s->sec == SEC_SLAB) {
        pat_slab_row(ev, m);
    }
}

void mw_oom_parser_line(struct mw_oom_parser *ps, const struct mw_klog_line *l)
{
    struct span m = {skip_blanks(l->msg, l->msg + l->msg_len), l->msg + l->msg_len};
    if (m.p == m.e || pat_trigger(ps, l, m))
        return;
    if (has_prefix(m, "oom_reaper: ")) {
        pat_reaper(ps, l, m);
        return;
    }
    if (pat_victim(ps, l, m) || pat_end(ps, l, m))
        return;
    struct mw_oom_slot *s = slot_find(ps, l);
    if (has_prefix(m, "oom-kill:constraint=") && (!s || s->victim_done || s->ev.have_score))
        s = slot_start(ps, l); /* its start is not in the log */
    else if (has_prefix(m, "Task in ") && find(m.p, m.e, " killed as a result of limit of ") &&
             (!s || s->victim_done))
        s = slot_start(ps, l);
    if (!s || s->victim_done)
        return;
    s->last_line = ++ps->seq;
    in_report(s, m);
}

void mw_oom_parser_init(struct mw_oom_parser *ps, mw_oom_fn fn, void *ctx)
{
    memset(ps, 0, sizeof(*ps));
    ps->fn = fn;
    ps->ctx = ctx;
}

void mw_oom_parser_finish(struct mw_oom_parser *ps)
{
    for (;;) { /* in the order they started */
        struct mw_oom_slot *first = NULL;
        for (unsigned i = 0; i < MW_OOM_SLOTS; i++) {
            struct mw_oom_slot *s = &ps->slot[i];
            if (s->used && (!first || s->ev.source < first->ev.source ||
                            (s->ev.source == first->ev.source && s->ev.line < first->ev.line)))
                first = s;
        }
        if (!first)
            return;
        slot_emit(ps, first);
    }
}

static void parse_buf_line(const struct mw_klog_line *l, void *ctx)
{
    mw_oom_parser_line(ctx, l);
}

void mw_oom_parse_buf(const char *buf, size_t len, mw_oom_fn fn, void *ctx)
{
    static struct mw_klog_stream st; /* ~12 KiB: off the stack */
    static struct mw_oom_parser ps;
    mw_oom_parser_init(&ps, fn, ctx);
    mw_klog_stream_init(&st, 0, parse_buf_line, &ps);
    mw_klog_stream_feed(&st, buf, len);
    mw_klog_stream_end(&st);
    mw_oom_parser_finish(&ps);
}

bool mw_oom_buf_has_report(const char *buf, size_t len)
{
    const char *e = buf + len;
    return find(buf, e, " invoked oom-killer: ") || find(buf, e, "Killed process ") ||
           find(buf, e, "oom-kill:constraint=");
}

/* ---- judging ------------------------------------------------------------- */

const char *mw_oom_scope_name(enum mw_oom_scope s)
{
    static const char *const names[] = {"unknown", "global", "memcg", "cpuset", "mempolicy"};
    return (unsigned)s < MW_ARRAY_SIZE(names) ? names[s] : "unknown";
}

const char *mw_oom_cause_name(enum mw_oom_cause c)
{
    static const char *const names[] = {"unknown", "memcg_limit", "ram_no_swap", "ram_swap_full",
                                        "ram",     "fragmented",  "nodes",       "sysrq"};
    return (unsigned)c < MW_ARRAY_SIZE(names) ? names[c] : "unknown";
}

static uint64_t ram_kb(const struct mw_oom_event *ev, uint64_t page_size)
{
    uint64_t managed = 0;
    for (unsigned i = 0; i < ev->nzones; i++)
        managed += ev->zones[i].managed_kb;
    return ev->ram_pages ? ev->ram_pages * (page_size / 1024) : managed;
}

/* Free memory over the zones' high watermarks: a failed order-N allocation
 * with that much free is fragmentation (the kernel OOM-kills for orders up
 * to PAGE_ALLOC_COSTLY_ORDER, 3; a fork's kernel stack is order 2). */
static bool fragmented(const struct mw_oom_event *ev)
{
    uint64_t free_kb = 0, high_kb = 0;
    for (unsigned i = 0; i < ev->nzones; i++) {
        free_kb += ev->zones[i].free_kb;
        high_kb += ev->zones[i].high_kb;
    }
    return ev->order > 0 && ev->nzones > 0 && free_kb > 2 * high_kb;
}

static enum mw_oom_cause cause_of(const struct mw_oom_event *ev)
{
    if (ev->have_trigger && ev->order < 0)
        return MW_OOM_CAUSE_SYSRQ;
    if (ev->scope == MW_OOM_SCOPE_MEMCG)
        return MW_OOM_CAUSE_MEMCG_LIMIT;
    if (ev->scope == MW_OOM_SCOPE_CPUSET || ev->scope == MW_OOM_SCOPE_MEMPOLICY)
        return MW_OOM_CAUSE_NODES;
    if (fragmented(ev))
        return MW_OOM_CAUSE_FRAGMENTED;
    if (ev->have_swap && ev->total_swap_kb == 0)
        return MW_OOM_CAUSE_RAM_NO_SWAP;
    /* "full": what is left is under 1 % of it (a few pages stay reserved) */
    if (ev->have_swap && ev->free_swap_kb <= ev->total_swap_kb / 100)
        return MW_OOM_CAUSE_RAM_SWAP_FULL;
    if (ev->have_swap || ev->scope == MW_OOM_SCOPE_GLOBAL)
        return MW_OOM_CAUSE_RAM;
    return MW_OOM_CAUSE_UNKNOWN;
}

void mw_oom_judge(const struct mw_oom_event *ev, uint64_t page_size, struct mw_oom_why *out)
{
    struct mw_oom_why w = {.cause = cause_of(ev)};
    uint64_t ram = ram_kb(ev, page_size), kpp = page_size / 1024;
    bool memcg = ev->scope == MW_OOM_SCOPE_MEMCG && ev->have_memcg;
    uint64_t whole_kb = memcg ? ev->mem_limit_kb : ram;
    /* slab the kernel cannot reclaim, a third of RAM or more: a kernel leak
     * (the kernel itself dumps its slab list when slab exceeds all LRU pages) */
    if (ev->slab_dump || (!memcg && ram && ev->slab_unreclaimable_pages * kpp * 3 >= ram))
        w.notes |= MW_OOM_NOTE_SLAB;
    uint64_t shmem_kb = memcg ? ev->cg_shmem / 1024 : ev->shmem_pages * kpp;
    if (whole_kb && shmem_kb * 4 >= whole_kb)
        w.notes |= MW_OOM_NOTE_SHMEM;
    uint64_t vrss = ev->anon_rss_kb + ev->file_rss_kb + ev->shmem_rss_kb;
    if (ev->have_victim_sizes && whole_kb && vrss * 20 < whole_kb)
        w.notes |= MW_OOM_NOTE_SMALL_VICTIM;
    if (!ev->have_victim && (ev->no_killable || ev->panic))
        w.notes |= MW_OOM_NOTE_NO_VICTIM;
    if (ev->panic)
        w.notes |= MW_OOM_NOTE_PANIC;
    *out = w;
}

uint64_t mw_oom_implied_page_size(const struct mw_oom_event *ev)
{
    if (!ev->have_victim_sizes)
        return 0;
    uint64_t kb = ev->anon_rss_kb + ev->file_rss_kb + ev->shmem_rss_kb;
    for (unsigned i = 0; i < ev->ntop; i++) {
        const struct mw_oom_task *t = &ev->top[i];
        if (t->pid != ev->victim_pid || t->rss_pages <= 256)
            continue;
        double ps = (double)kb * 1024.0 / (double)t->rss_pages;
        static const uint64_t sizes[] = {4096, 16384, 65536};
        for (size_t k = 0; k < MW_ARRAY_SIZE(sizes); k++)
            if (ps > (double)sizes[k] * 0.9 && ps < (double)sizes[k] * 1.1)
                return sizes[k];
        return 0;
    }
    return 0;
}

/* ---- the summary ---------------------------------------------------------- */

void mw_oom_summary_add(struct mw_oom_summary *s, const struct mw_oom_event *ev, uint64_t idx)
{
    s->events++;
    if (ev->scope == MW_OOM_SCOPE_MEMCG)
        s->memcg++;
    else if (ev->scope == MW_OOM_SCOPE_GLOBAL)
        s->global++;
    else
        s->other_scope++;
    if (!ev->have_victim) {
        s->no_victim++;
        return;
    }
    s->kills++;
    const char *cg =
        ev->scope == MW_OOM_SCOPE_MEMCG ? (ev->task_memcg[0] ? ev->task_memcg : ev->oom_memcg) : "";
    struct mw_oom_sum_row *r = NULL;
    for (unsigned i = 0; i < s->nrows && !r; i++)
        if (strcmp(s->rows[i].victim, ev->victim_comm) == 0 && strcmp(s->rows[i].cgroup, cg) == 0)
            r = &s->rows[i];
    if (!r) {
        if (s->nrows == MW_OOM_SUM_ROWS) {
            s->other_kills++;
            return;
        }
        r = &s->rows[s->nrows++];
        memset(r, 0, sizeof(*r));
        snprintf(r->victim, sizeof(r->victim), "%s", ev->victim_comm);
        snprintf(r->cgroup, sizeof(r->cgroup), "%s", cg);
        r->first_idx = idx;
        snprintf(r->first_time, sizeof(r->first_time), "%s", ev->time);
    }
    r->kills++;
    r->scope = ev->scope;
    r->last_idx = idx;
    snprintf(r->last_time, sizeof(r->last_time), "%s", ev->time);
    snprintf(r->trigger, sizeof(r->trigger), "%s", ev->trigger_comm);
    uint64_t rss = ev->anon_rss_kb + ev->file_rss_kb + ev->shmem_rss_kb;
    if (rss > r->max_rss_kb)
        r->max_rss_kb = rss;
}

static int row_cmp(const void *a, const void *b)
{
    const struct mw_oom_sum_row *x = a, *y = b;
    if (x->kills != y->kills)
        return x->kills > y->kills ? -1 : 1;
    return x->last_idx > y->last_idx ? -1 : x->last_idx < y->last_idx;
}

void mw_oom_summary_sort(struct mw_oom_summary *s)
{
    qsort(s->rows, s->nrows, sizeof(s->rows[0]), row_cmp);
}
