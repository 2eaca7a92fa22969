#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

volatile sig_atomic_t mw_stop_signal;

static void on_stop(int sig)
{
    mw_stop_signal = sig;
}

void mw_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool mw_sleep_or_stop(uint64_t when_ms)
{
    return mw_sleep_until_ms(when_ms, &mw_stop_signal);
}

/* Elapsed time as a clock: "0:07", "12:31", "1:02:03". */
static void fmt_clock(char *buf, size_t cap, uint64_t s)
{
    if (s >= 3600)
        snprintf(buf, cap, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    else
        snprintf(buf, cap, "%llu:%02llu", (unsigned long long)(s / 60),
                 (unsigned long long)(s % 60));
}

void mw_progress_init(struct mw_progress *p, uint64_t total_ms)
{
    p->tty = isatty(STDERR_FILENO) == 1;
    p->drawn = false;
    p->start_ms = mw_now_ms();
    p->total_ms = total_ms;
}

void mw_progress_show(struct mw_progress *p, unsigned long samples, const char *detail)
{
    if (!p->tty)
        return;
    char el[32], tot[32] = "";
    fmt_clock(el, sizeof(el), (mw_now_ms() - p->start_ms) / 1000);
    if (p->total_ms)
        fmt_clock(tot, sizeof(tot), p->total_ms / 1000);
    fprintf(stderr, "\r\033[K%s%s%s, %lu sample%s%s%s, Ctrl-C ends early", el, tot[0] ? " / " : "",
            tot, samples, samples == 1 ? "" : "s", detail ? ", " : "", detail ? detail : "");
    fflush(stderr);
    p->drawn = true;
}

void mw_progress_clear(struct mw_progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
}

/* How often the line is redrawn while sleeping. */
#define PROGRESS_TICK_MS 1000u

bool mw_progress_sleep(struct mw_progress *p, uint64_t when_ms, unsigned long samples,
                       const char *detail)
{
    if (!p->tty)
        return mw_sleep_or_stop(when_ms);
    for (;;) {
        uint64_t now = mw_now_ms();
        if (now >= when_ms)
            return !mw_stop_signal;
        uint64_t next = when_ms - now > PROGRESS_TICK_MS ? now + PROGRESS_TICK_MS : when_ms;
        if (!mw_sleep_or_stop(next))
            return false;
        if (next < when_ms)
            mw_progress_show(p, samples, detail);
    }
}

const char *mw_stop_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
