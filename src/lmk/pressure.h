/* pressure: what wakes the daemon. In order of preference:
 *   1. PSI triggers on /proc/pressure/memory or a cgroup2 memory.pressure:
 *      "some" (partial stall) and "full" (complete stall) thresholds per
 *      window, waited on with epoll (EPOLLPRI). Without CAP_SYS_RESOURCE the
 *      kernel accepts only windows that are multiples of 2 s (EINVAL
 *      otherwise): then the window becomes 2 s and the thresholds scale.
 *   2. cgroup v1 vmpressure: memory.pressure_level registered through
 *      cgroup.event_control with an eventfd per level (medium, critical).
 *   3. none: the daemon samples on a timer that speeds up near the limit.
 * The timer runs in every mode (the calm period is 10 s by default). */
#ifndef MW_PRESSURE_H
#define MW_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What woke the daemon for this sample. */
enum {
    MW_EV_PARTIAL_STALL = 1,  /* PSI "some" trigger (or vmpressure medium) */
    MW_EV_COMPLETE_STALL = 2, /* PSI "full" trigger (or vmpressure critical) */
    MW_EV_TIMER = 4,
    MW_EV_PRESSURE_WINDOW = 8, /* within one window after such an event, or no event source */
};

enum mw_source { MW_SRC_POLL, MW_SRC_PSI, MW_SRC_VMPRESSURE };

/* epoll data tags of the registered descriptors */
enum { MW_TAG_PSI_SOME = 1, MW_TAG_PSI_FULL, MW_TAG_VMP_MEDIUM, MW_TAG_VMP_CRITICAL };

struct mw_pressure {
    enum mw_source source;
    int some_fd, full_fd;                 /* PSI trigger descriptors */
    int vmp_medium_fd, vmp_crit_fd;       /* eventfds */
    int vmp_level_fd, vmp_control_fd;     /* memory.pressure_level, cgroup.event_control */
    uint64_t window_ms, some_ms, full_ms; /* as the kernel accepted them */
    bool window_fallback;                 /* EINVAL: the 2 s window was used instead */
    int psi_err, vmp_err;                 /* why a better source was not used (-errno) */
    char desc[192]; /* "psi trigger /proc/pressure/memory some 70ms/1000ms ..." */
};

/* Writes the PSI trigger line the kernel expects, "some 70000 1000000"
 * (KIND, then stall and window in microseconds), into BUF. Returns its
 * length, or -ENAMETOOLONG when CAP is too small. */
int mw_psi_trigger_format(char *buf, size_t cap, const char *kind, uint64_t stall_ms,
                          uint64_t window_ms);

/* Scales a threshold to a 2 s window: the same share of the window. */
uint64_t mw_psi_scale_to_window(uint64_t stall_ms, uint64_t window_ms, uint64_t new_window_ms);

/* Sets up the best source and registers it with EPFD. PSI_PATH (may be
 * NULL: skip PSI) is the pressure file, VMP_DIR (may be NULL) a cgroup v1
 * memory directory, both relative to ROOT_FD. Thresholds in ms. Always
 * succeeds (falls back to MW_SRC_POLL); P->desc says what is in use. */
void mw_pressure_open(struct mw_pressure *p, int root_fd, int epfd, const char *psi_path,
                      const char *vmp_dir, uint64_t some_ms, uint64_t full_ms, uint64_t window_ms);

/* Consumes the event of the descriptor tagged TAG; returns the
 * MW_EV_* flags it means. */
unsigned mw_pressure_ack(struct mw_pressure *p, int tag);

/* Closes every descriptor. */
void mw_pressure_close(struct mw_pressure *p);

#endif
