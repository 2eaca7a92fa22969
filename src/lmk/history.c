#include "lmk/history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/text.h"

/* snprintf that appends and never overruns: *len stays < cap. */
static void app(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void app(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len += (size_t)n;
    if (*len >= cap)
        *len = cap - 1;
}

/* Program names may hold spaces and '='; the log line keeps one token. */
static void token(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = c <= ' ' || c == '=' || c == 0x7f ? '_' : (char)c;
    }
    dst[i] = '\0';
}

size_t mw_kill_format_line(char *buf, size_t cap, const struct mw_kill_record *r)
{
    size_t len = 0;
    char prog[64];
    token(prog, sizeof(prog), r->prog);
    buf[0] = '\0';
    app(buf, cap, &len, "%s pid=%d uid=%u adj=%d prog=%s", r->dry_run ? "would-kill" : "kill",
        r->pid, (unsigned)r->uid, r->adj, prog);
    if (r->unit && *r->unit) {
        char unit[128];
        token(unit, sizeof(unit), r->unit);
        app(buf, cap, &len, " unit=%s", unit);
    }
    app(buf, cap, &len, " rss=%llukB swap=%llukB reason=%s", (unsigned long long)r->rss_kb,
        (unsigned long long)r->swap_kb, r->reason);
    app(buf, cap, &len, " min_adj=%d free=%llukB avail=%llukB file=%llukB swapfree=%llukB",
        r->min_adj, (unsigned long long)r->free_kb, (unsigned long long)r->avail_kb,
        (unsigned long long)r->file_kb, (unsigned long long)r->swap_free_kb);
    if (r->psi_some >= 0)
        app(buf, cap, &len, " psi_some=%.2f psi_full=%.2f", r->psi_some, r->psi_full);
    else
        app(buf, cap, &len, " psi_some=- psi_full=-");
    app(buf, cap, &len, " latency_ms=%llu", (unsigned long long)r->latency_ms);
    if (!r->dry_run) {
        app(buf, cap, &len, " wait_ms=%llu freed=%lldkB", (unsigned long long)r->wait_ms,
            (long long)(r->freed_kb > 0 ? r->freed_kb : 0));
        if (r->freed_kb < 0) /* others took more than it gave back meanwhile */
            app(buf, cap, &len, " avail_delta=%lldkB", (long long)r->freed_kb);
        app(buf, cap, &len, " exited=%s reaped=%s%s%s", r->exited ? "yes" : "no",
            r->reaped ? "yes" : "no", r->termed ? " sigterm_first=yes" : "",
            r->cgroup_killed ? " cgroup_killed=yes" : "");
    }
    if (r->last_line)
        app(buf, cap, &len, " last_line=yes");
    if (r->kept)
        app(buf, cap, &len, " kept=%s", r->kept);
    if (r->runaway)
        app(buf, cap, &len, " runaway=yes footprint=%llukB growth=%llukB/s",
            (unsigned long long)r->unit_kb, (unsigned long long)r->growth_kb_s);
    if (r->group_n > 0) {
        app(buf, cap, &len, " group=%d/%d", r->group_killed, r->group_n);
        for (int i = 0; r->group_pid && i < r->group_n; i++)
            app(buf, cap, &len, "%s%d", i ? "," : " pids=", r->group_pid[i]);
    }
    if (r->detail && *r->detail)
        app(buf, cap, &len, " (%s)", r->detail);
    return len;
}

const char *const mw_kill_phase_names[MW_KILL_PHASES] = {"wake",   "sample", "refresh",
                                                         "choose", "signal", "exit"};

/* The "timing" member: where the kill's time went (seconds), and when
 * the daemon woke for it (CLOCK_MONOTONIC seconds); null when not
 * measured. */
static void json_timing(struct mw_json *j, const struct mw_kill_record *r)
{
    if (r->woke_at_us == 0) {
        mw_json_null(j, "timing");
        return;
    }
    mw_json_object_begin(j, "timing");
    mw_json_fixed(j, "woke_at", (double)r->woke_at_us / 1e6, 6);
    if (r->sent_at_us)
        mw_json_fixed(j, "sent_at", (double)r->sent_at_us / 1e6, 6);
    for (int i = 0; i < MW_KILL_PHASES; i++)
        mw_json_fixed(j, mw_kill_phase_names[i], (double)r->phase_us[i] / 1e6, 6);
    mw_json_object_end(j);
}

/* The "state" member: the memory state that triggered the kill. */
static void json_state(struct mw_json *j, const struct mw_kill_record *r)
{
    mw_json_object_begin(j, "state");
    mw_json_bool(j, "scope", r->scope);
    mw_json_u64(j, "total", r->total_kb * 1024);
    mw_json_u64(j, "free", r->free_kb * 1024);
    mw_json_u64(j, "available", r->avail_kb * 1024);
    mw_json_u64(j, "file", r->file_kb * 1024);
    mw_json_u64(j, "swap_free", r->swap_free_kb * 1024);
    if (r->psi_some >= 0) {
        mw_json_fixed(j, "psi_some_avg10", r->psi_some, 2);
        mw_json_fixed(j, "psi_full_avg10", r->psi_full, 2);
    }
    mw_json_object_end(j);
}

size_t mw_kill_format_json(char *buf, size_t cap, const struct mw_kill_record *r)
{
    struct mw_json j;
    mw_json_init_buf(&j, buf, cap, false);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "time", r->time_s);
    mw_json_str(&j, "event", r->dry_run ? "would_kill" : "kill");
    mw_json_i64(&j, "pid", r->pid);
    mw_json_u64(&j, "uid", r->uid);
    mw_json_i64(&j, "adj", r->adj);
    mw_json_str(&j, "prog", r->prog);
    mw_json_str(&j, "cmdline", r->cmdline);
    if (r->unit && *r->unit)
        mw_json_str(&j, "unit", r->unit);
    else
        mw_json_null(&j, "unit");
    mw_json_u64(&j, "rss", r->rss_kb * 1024);
    mw_json_u64(&j, "swap", r->swap_kb * 1024);
    mw_json_str(&j, "reason", r->reason);
    mw_json_str(&j, "detail", r->detail ? r->detail : "");
    mw_json_i64(&j, "min_adj", r->min_adj);
    json_state(&j, r);
    mw_json_fixed(&j, "latency", (double)r->latency_ms / 1000.0, 3);
    mw_json_fixed(&j, "wait", (double)r->wait_ms / 1000.0, 3);
    json_timing(&j, r);
    mw_json_i64(&j, "freed", (r->freed_kb > 0 ? r->freed_kb : 0) * 1024);
    mw_json_i64(&j, "available_delta", r->freed_kb * 1024);
    mw_json_bool(&j, "exited", r->exited);
    mw_json_bool(&j, "reaped", r->reaped);
    mw_json_bool(&j, "sigterm_first", r->termed);
    mw_json_bool(&j, "cgroup_killed", r->cgroup_killed);
    mw_json_bool(&j, "last_line", r->last_line);
    if (r->kept) { /* kept until the last line (lmk/sdunit.h), and the last line took it */
        mw_json_object_begin(&j, "kept");
        mw_json_str(&j, "class", r->kept);
        mw_json_str(&j, "why", r->kept_why ? r->kept_why : "");
        mw_json_object_end(&j);
    } else {
        mw_json_null(&j, "kept");
    }
    if (r->runaway) {
        mw_json_object_begin(&j, "runaway");
        mw_json_u64(&j, "footprint", r->unit_kb * 1024);
        mw_json_u64(&j, "growth", r->growth_kb_s * 1024);
        mw_json_i64(&j, "group", r->group_n);
        mw_json_i64(&j, "group_killed", r->group_killed);
        mw_json_object_end(&j);
    } else {
        mw_json_null(&j, "runaway");
    }
    mw_json_array_begin(&j, "group_pids"); /* every victim signalled with it */
    for (int i = 0; r->group_pid && i < r->group_n; i++)
        mw_json_i64(&j, NULL, r->group_pid[i]);
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    if (mw_json_truncated(&j)) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return mw_json_buf_len(&j);
}

/* The number KEY of OBJ into *OUT when it lies in [LO, HI]: 0, or 0 with
 * *OUT = 0 when OBJ lacks it, -EINVAL when it is there but not such a
 * number. Every cast the parser makes is of a number checked here: a
 * double out of the target type's range is undefined behaviour
 * ("freed":1e308 was). */
static int num_in(const struct mw_json_val *obj, const char *key, double lo, double hi, double *out)
{
    struct mw_json_val v;
    double d;
    *out = 0;
    if (mw_json_find(obj, key, &v) < 0)
        return 0;
    if (mw_json_get_double(&v, &d) < 0 || !(d >= lo && d <= hi))
        return -EINVAL;
    *out = d;
    return 0;
}

/* Bounds of what a kill record can hold, each below its type's limit. */
#define H_TIME_MAX  1e11   /* seconds since the epoch: the year 5138 */
#define H_BYTES_MAX 0x1p62 /* 4 EiB: no machine's memory */
#define H_SECS_MAX  1e7    /* a latency or wait: 115 days */

/* The "timing" member of OBJ, when there, into E's phases (seconds).
 * Returns 0 or -EINVAL (one out of range). */
static int entry_timing(const struct mw_json_val *obj, struct mw_kill_entry *e)
{
    struct mw_json_val tm;
    if (mw_json_find(obj, "timing", &tm) < 0 || tm.type != MW_JSON_OBJECT)
        return 0;
    int rc = 0;
    for (int i = 0; i < MW_KILL_PHASES; i++)
        rc |= num_in(&tm, mw_kill_phase_names[i], 0, H_SECS_MAX, &e->phase_s[i]);
    e->have_timing = rc == 0;
    return rc ? -EINVAL : 0;
}

/* The numbers of OBJ into E. Returns 0 or -EINVAL (one out of range). */
static int entry_numbers(const struct mw_json_val *obj, struct mw_kill_entry *e)
{
    struct mw_json_val st, v;
    double pid, freed, rss, swap, total = 0, avail = 0;
    int rc = num_in(obj, "pid", 0, 0x7fffffff, &pid);
    rc |= num_in(obj, "latency", 0, H_SECS_MAX, &e->latency_s);
    rc |= num_in(obj, "wait", 0, H_SECS_MAX, &e->wait_s);
    rc |= num_in(obj, "freed", -H_BYTES_MAX, H_BYTES_MAX, &freed);
    rc |= num_in(obj, "rss", 0, H_BYTES_MAX, &rss);
    rc |= num_in(obj, "swap", 0, H_BYTES_MAX, &swap);
    e->psi_some = e->psi_full = -1;
    if (mw_json_find(obj, "state", &st) == 0 && st.type == MW_JSON_OBJECT) {
        rc |= num_in(&st, "total", 0, H_BYTES_MAX, &total);
        rc |= num_in(&st, "available", 0, H_BYTES_MAX, &avail);
        if (mw_json_find(&st, "psi_some_avg10", &v) == 0 &&
            mw_json_find(&st, "psi_full_avg10", &v) == 0) {
            rc |= num_in(&st, "psi_some_avg10", 0, 100, &e->psi_some);
            rc |= num_in(&st, "psi_full_avg10", 0, 100, &e->psi_full);
        }
    }
    if (rc)
        return -EINVAL;
    e->pid = (int)pid;
    e->freed = (int64_t)freed;
    e->rss = (uint64_t)rss;
    e->swap = (uint64_t)swap;
    e->total = (uint64_t)total;
    e->available = (uint64_t)avail;
    return 0;
}

/* A string member of the history, decoded and then cleaned for display
 * (base/text.h: controls and escapes become '?'): it becomes a label of
 * `memwarden metrics` and a cell of report's table. */
static void entry_text(const struct mw_json_val *v, char *out, size_t cap)
{
    char raw[256];
    long n = mw_json_get_str(v, raw, sizeof(raw));
    if (n < 0) {
        out[0] = '\0';
        return;
    }
    mw_text_clean(out, cap, raw, strlen(raw));
}

int mw_kill_parse_json(const char *line, size_t len, struct mw_kill_entry *out)
{
    struct mw_json_val obj, v;
    struct mw_kill_entry e;
    char ev[16];
    memset(&e, 0, sizeof(e));
    if (mw_json_parse(line, len, &obj) < 0 || obj.type != MW_JSON_OBJECT ||
        mw_json_find(&obj, "time", &v) < 0 || mw_json_get_double(&v, &e.time_s) < 0 ||
        !(e.time_s >= 0 && e.time_s <= H_TIME_MAX) || mw_json_find(&obj, "event", &v) < 0 ||
        mw_json_get_str(&v, ev, sizeof(ev)) < 0 || mw_json_find(&obj, "reason", &v) < 0 ||
        v.type != MW_JSON_STRING)
        return -EINVAL;
    entry_text(&v, e.reason, sizeof(e.reason));
    if (strcmp(ev, "kill") != 0 && strcmp(ev, "would_kill") != 0)
        return -EINVAL;
    e.dry_run = strcmp(ev, "would_kill") == 0;
    if (mw_json_find(&obj, "prog", &v) == 0)
        entry_text(&v, e.prog, sizeof(e.prog));
    if (mw_json_find(&obj, "exited", &v) == 0)
        mw_json_get_bool(&v, &e.exited);
    if (entry_numbers(&obj, &e) < 0 || entry_timing(&obj, &e) < 0)
        return -EINVAL;
    *out = e;
    return 0;
}

int mw_history_open(const char *path)
{
    /* O_NONBLOCK: a FIFO planted at PATH must not hang the open */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((st.st_mode & 0007) && fchmod(fd, st.st_mode & 0770) < 0)
        rc = -errno;
    else if (fcntl(fd, F_SETFL, O_APPEND) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

uint64_t mw_loop_start_ms(uint64_t starttime_ticks, long hz)
{
    return hz > 0 ? (starttime_ticks + 1) * 1000u / (uint64_t)hz : 0;
}

int mw_loop_note(struct mw_loop_tracker *t, const char *prog, uint64_t now_ms, uint64_t start_ms,
                 uint64_t window_ms)
{
    /* The previous kill of PROG within the window, if any. */
    uint64_t last = 0;
    bool have_last = false;
    for (int i = 0; i < MW_LOOP_SLOTS; i++) {
        if (t->slot[i].prog[0] == '\0' || strcmp(t->slot[i].prog, prog) != 0 ||
            now_ms - t->slot[i].t_ms > window_ms)
            continue;
        if (!have_last || t->slot[i].t_ms > last)
            last = t->slot[i].t_ms;
        have_last = true;
    }
    bool restart = have_last && start_ms >= last;
    if (have_last && !restart) {
        /* side by side, not restarted: the chain starts again here */
        for (int i = 0; i < MW_LOOP_SLOTS; i++)
            if (strcmp(t->slot[i].prog, prog) == 0)
                t->slot[i].prog[0] = '\0';
    }
    snprintf(t->slot[t->next].prog, sizeof(t->slot[0].prog), "%s", prog);
    t->slot[t->next].t_ms = now_ms;
    t->slot[t->next].restart = restart;
    t->next = (t->next + 1) % MW_LOOP_SLOTS;
    int n = 1;
    for (int i = 0; i < MW_LOOP_SLOTS; i++) {
        if (t->slot[i].prog[0] == '\0' || strcmp(t->slot[i].prog, prog) != 0)
            continue;
        if (now_ms - t->slot[i].t_ms <= window_ms && t->slot[i].restart)
            n++;
    }
    return n;
}
