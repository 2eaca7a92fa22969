#include "lmk/history.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    app(buf, cap, &len, "%s pid=%d uid=%u adj=%d prog=%s rss=%llukB swap=%llukB reason=%s",
        r->dry_run ? "would-kill" : "kill", r->pid, (unsigned)r->uid, r->adj, prog,
        (unsigned long long)r->rss_kb, (unsigned long long)r->swap_kb, r->reason);
    app(buf, cap, &len, " min_adj=%d free=%llukB avail=%llukB file=%llukB swapfree=%llukB",
        r->min_adj, (unsigned long long)r->free_kb, (unsigned long long)r->avail_kb,
        (unsigned long long)r->file_kb, (unsigned long long)r->swap_free_kb);
    if (r->psi_some >= 0)
        app(buf, cap, &len, " psi_some=%.2f psi_full=%.2f", r->psi_some, r->psi_full);
    else
        app(buf, cap, &len, " psi_some=- psi_full=-");
    app(buf, cap, &len, " latency_ms=%llu", (unsigned long long)r->latency_ms);
    if (!r->dry_run)
        app(buf, cap, &len, " wait_ms=%llu freed=%lldkB exited=%s reaped=%s%s%s",
            (unsigned long long)r->wait_ms, (long long)r->freed_kb, r->exited ? "yes" : "no",
            r->reaped ? "yes" : "no", r->termed ? " sigterm_first=yes" : "",
            r->cgroup_killed ? " cgroup_killed=yes" : "");
    if (r->runaway) {
        app(buf, cap, &len, " runaway=yes unit=%llukB growth=%llukB/s",
            (unsigned long long)r->unit_kb, (unsigned long long)r->growth_kb_s);
        if (r->group_n > 0)
            app(buf, cap, &len, " group=%d/%d", r->group_killed, r->group_n);
    }
    if (r->detail && *r->detail)
        app(buf, cap, &len, " (%s)", r->detail);
    return len;
}

size_t mw_json_escape(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n] = '\0';
    return n;
}

size_t mw_kill_format_json(char *buf, size_t cap, const struct mw_kill_record *r)
{
    char prog[160], cmd[600], detail[400];
    mw_json_escape(prog, sizeof(prog), r->prog);
    mw_json_escape(cmd, sizeof(cmd), r->cmdline);
    mw_json_escape(detail, sizeof(detail), r->detail ? r->detail : "");
    size_t len = 0;
    buf[0] = '\0';
    app(buf, cap, &len,
        "{\"time\":%llu,\"event\":\"%s\",\"pid\":%d,\"uid\":%u,\"adj\":%d,\"prog\":\"%s\","
        "\"cmdline\":\"%s\",\"rss\":%llu,\"swap\":%llu,\"reason\":\"%s\",\"detail\":\"%s\","
        "\"min_adj\":%d,",
        (unsigned long long)r->time_s, r->dry_run ? "would_kill" : "kill", r->pid, (unsigned)r->uid,
        r->adj, prog, cmd, (unsigned long long)r->rss_kb * 1024,
        (unsigned long long)r->swap_kb * 1024, r->reason, detail, r->min_adj);
    app(buf, cap, &len,
        "\"state\":{\"scope\":%s,\"total\":%llu,\"free\":%llu,\"available\":%llu,\"file\":%llu,"
        "\"swap_free\":%llu",
        r->scope ? "true" : "false", (unsigned long long)r->total_kb * 1024,
        (unsigned long long)r->free_kb * 1024, (unsigned long long)r->avail_kb * 1024,
        (unsigned long long)r->file_kb * 1024, (unsigned long long)r->swap_free_kb * 1024);
    if (r->psi_some >= 0)
        app(buf, cap, &len, ",\"psi_some_avg10\":%.2f,\"psi_full_avg10\":%.2f", r->psi_some,
            r->psi_full);
    app(buf, cap, &len,
        "},\"latency\":%.3f,\"wait\":%.3f,\"freed\":%lld,\"exited\":%s,\"reaped\":%s,"
        "\"sigterm_first\":%s,\"cgroup_killed\":%s,",
        (double)r->latency_ms / 1000.0, (double)r->wait_ms / 1000.0, (long long)r->freed_kb * 1024,
        r->exited ? "true" : "false", r->reaped ? "true" : "false", r->termed ? "true" : "false",
        r->cgroup_killed ? "true" : "false");
    if (r->runaway)
        app(buf, cap, &len,
            "\"runaway\":{\"footprint\":%llu,\"growth\":%llu,\"group\":%d,\"group_killed\":%d}}",
            (unsigned long long)r->unit_kb * 1024, (unsigned long long)r->growth_kb_s * 1024,
            r->group_n, r->group_killed);
    else
        app(buf, cap, &len, "\"runaway\":null}");
    return len;
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
