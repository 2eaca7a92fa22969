/* verdict: the one-line judgement `status` prints, from a documented rule
 * (pure: numbers in, level and words out). */
#ifndef MW_VERDICT_H
#define MW_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "proc/meminfo.h"
#include "proc/psi.h"

enum mw_level { MW_LEVEL_OK, MW_LEVEL_MODERATE, MW_LEVEL_LOW, MW_LEVEL_CRITICAL };

/* What the rule looks at; bytes, and PSI percentages over 10 s. */
struct mw_verdict_input {
    uint64_t total, available, free;
    uint64_t reclaimable; /* file LRU + reclaimable slab - dirty */
    uint64_t swap_total, swap_free;
    uint64_t slab, slab_unreclaimable;
    uint64_t low_wmark; /* summed low watermarks; 0 = unknown */
    bool have_psi;
    double psi_some_avg10, psi_full_avg10;
};

#define MW_VERDICT_TEXT      256
#define MW_VERDICT_MAX_NOTES 4

struct mw_verdict {
    enum mw_level level;
    char text[MW_VERDICT_TEXT];
    int nr_notes;
    char notes[MW_VERDICT_MAX_NOTES][MW_VERDICT_TEXT];
};

/*
 * The rule. avail = available/total, swap_used = used/total of swap (only
 * when swap exists). The first level whose condition holds wins:
 *   critical  avail < 3 %, or PSI full avg10 >= 10 %, or swap_used >= 95 % with avail < 10 %
 *   low       avail < 10 %, or PSI some avg10 >= 20 % or full >= 2 %, or swap_used >= 90 % with
 *             avail < 20 %
 *   moderate  avail < 20 %, or PSI some avg10 >= 5 %, or swap_used >= 50 %, or free below the
 *             low watermark (kswapd is reclaiming)
 *   ok        otherwise
 * The thresholds follow lmkd's spirit: PSI some 70 ms/s (7 %) is its partial stall and full
 * 700 ms/s its complete one; swap_free_low_percentage 10 (low-RAM) / 20.
 * Notes (not part of the level): slab above 5 % of RAM.
 */
void mw_verdict_compute(const struct mw_verdict_input *in, struct mw_verdict *out);

/* The machine's input: free(1)'s view FR and the cache split CS (both
 * computed from MI), MI's slab, and PSI when not NULL (memory pressure);
 * low_wmark 0 (unknown): the caller sets it when it has the zoneinfo. */
void mw_verdict_input_machine(const struct mw_meminfo *mi, const struct mw_free *fr,
                              const struct mw_cache_split *cs, const struct mw_psi *psi,
                              struct mw_verdict_input *in);

/* "ok", "moderate", "low", "critical". */
const char *mw_level_name(enum mw_level level);

#endif
