/* psi: pressure stall information (/proc/pressure/{memory,io,cpu} and a
 * cgroup2 memory.pressure), read as averages and totals. Triggers (the
 * daemon's event source) live in the daemon's own module. */
#ifndef MW_PSI_H
#define MW_PSI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

struct mw_psi_line {
    double avg10, avg60, avg300; /* percent of wall time stalled */
    uint64_t total_us;           /* cumulative stall time */
};

struct mw_psi {
    struct mw_psi_line some, full;
    bool have_full; /* cpu pressure has no "full" line before 5.13 */
};

/* Parses the text of a pressure file:
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * Returns 0, or -EINVAL on a malformed line (*bad_line gets its number),
 * -ENODATA without a "some" line. OUT is untouched on failure. */
int mw_psi_parse_buf(struct mw_psi *out, const char *buf, int *bad_line);

/* Reads the pressure file at PATH under ROOT (e.g. "/proc/pressure/memory").
 * Returns 0 or -errno (-ENOENT: kernel without PSI; -EOPNOTSUPP: PSI
 * compiled in but disabled, psi=0). */
int mw_psi_read(const struct mw_root *root, const char *path, struct mw_psi *out, int *bad_line);

#endif
