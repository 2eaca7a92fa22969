#include "model/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

const char *mw_level_name(enum mw_level level)
{
    static const char *const names[] = {"ok", "moderate", "low", "critical"};
    return (unsigned)level < MW_ARRAY_SIZE(names) ? names[level] : "?";
}

/* Appends one reason to the list, joined by " and ". */
static void reason(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reason(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n > 0 && n + 6 < cap) {
        strcpy(buf + n, " and ");
        n += 5;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

void mw_verdict_compute(const struct mw_verdict_input *in, struct mw_verdict *out)
{
    struct mw_verdict v;
    memset(&v, 0, sizeof(v));
    double avail = mw_pct(in->available, in->total);
    bool have_swap = in->swap_total > 0;
    double swap_used = have_swap ? mw_pct(in->swap_total - in->swap_free, in->swap_total) : 0;
    double some = in->have_psi ? in->psi_some_avg10 : 0,
           full = in->have_psi ? in->psi_full_avg10 : 0;
    bool below_low = in->low_wmark && in->free < in->low_wmark;

    char why[MW_VERDICT_TEXT - 32] = ""; /* room for the level's prefix */
    enum mw_level level = MW_LEVEL_OK;
    if (avail < 3 || full >= 10 || (have_swap && swap_used >= 95 && avail < 10))
        level = MW_LEVEL_CRITICAL;
    else if (avail < 10 || some >= 20 || full >= 2 || (have_swap && swap_used >= 90 && avail < 20))
        level = MW_LEVEL_LOW;
    else if (avail < 20 || some >= 5 || (have_swap && swap_used >= 50) || below_low)
        level = MW_LEVEL_MODERATE;

    if (level != MW_LEVEL_OK) {
        /* Name every fact that counted, the most telling first. */
        if (avail < 20)
            reason(why, sizeof(why), "available %.0f %%", avail);
        if (have_swap && swap_used >= 50)
            reason(why, sizeof(why), "swap %.0f %% used", swap_used);
        if (full >= 2)
            reason(why, sizeof(why), "tasks fully stalled %.0f %% of the time", full);
        else if (some >= 5)
            reason(why, sizeof(why), "tasks stalled on memory %.0f %% of the time", some);
        if (below_low)
            reason(why, sizeof(why), "free below the low watermark (kswapd reclaiming)");
    }
    char a[32];
    switch (level) {
    case MW_LEVEL_OK:
        snprintf(v.text, sizeof(v.text), "no pressure: %s of cache is reclaimable",
                 mw_fmt_size(a, sizeof(a), in->reclaimable));
        break;
    case MW_LEVEL_MODERATE:
        snprintf(v.text, sizeof(v.text), "moderate pressure: %s", why);
        break;
    case MW_LEVEL_LOW:
        snprintf(v.text, sizeof(v.text), "low memory: %s", why);
        break;
    case MW_LEVEL_CRITICAL:
        snprintf(v.text, sizeof(v.text), "critical: %s", why);
        break;
    }
    v.level = level;
    if (in->total && mw_pct(in->slab, in->total) > 5) {
        char b[32];
        snprintf(v.notes[v.nr_notes++], MW_VERDICT_TEXT,
                 "slab holds %s (%.0f %% of RAM, %s unreclaimable): compare over time with "
                 "'memwarden slab'",
                 mw_fmt_size(a, sizeof(a), in->slab), mw_pct(in->slab, in->total),
                 mw_fmt_size(b, sizeof(b), in->slab_unreclaimable));
    }
    *out = v;
}

void mw_verdict_input_machine(const struct mw_meminfo *mi, const struct mw_free *fr,
                              const struct mw_cache_split *cs, const struct mw_psi *psi,
                              struct mw_verdict_input *in)
{
    *in = (struct mw_verdict_input){
        .total = fr->total,
        .available = fr->available,
        .free = fr->free,
        .reclaimable = cs->reclaimable_total,
        .swap_total = fr->swap_total,
        .swap_free = fr->swap_free,
        .slab = mw_meminfo_bytes(mi, MI_SLAB),
        .slab_unreclaimable = mw_meminfo_bytes(mi, MI_SUNRECLAIM),
        .have_psi = psi != NULL,
        .psi_some_avg10 = psi ? psi->some.avg10 : 0,
        .psi_full_avg10 = psi && psi->have_full ? psi->full.avg10 : 0,
    };
}
