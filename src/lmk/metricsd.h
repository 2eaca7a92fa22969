/* metricsd: gathering memwarden's metrics (model/metrics.h) from the
 * kernel files, the daemon's state file and its kill history; writing them
 * for node_exporter's textfile collector; and the daemon's metrics process,
 * which serves GET /metrics over HTTP and rewrites the textfile on its own
 * timer, apart from the killer (its own process: no lock, no descriptor
 * and no memory the kill path waits on). */
#ifndef MW_METRICSD_H
#define MW_METRICSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/util.h"
#include "lmk/config.h"
#include "model/metrics.h"

/* Reads ROOT's meminfo, vmstat, swaps, zram and pressure files into OUT
 * (each part flagged when read). Returns 0, or -errno when not even
 * /proc/meminfo could be read (OUT then holds what could). */
int mw_metrics_gather_sys(const struct mw_root *root, struct mw_metrics_sys *out);

/* The kill history read so far: where the next read starts, and the sums. */
struct mw_metrics_history {
    off_t off;
    dev_t dev;
    ino_t ino;
    struct mw_metrics_daemon agg; /* only the history fields are used */
};

/* Reads the lines of the kill history PATH (under ROOT) added since the
 * last call into H (a file that shrank or was replaced starts over: the
 * counters reset, as Prometheus expects of a restart), then copies the
 * sums into D (have_history set). Lines that are not kill records are
 * skipped. Returns 0 or -errno (-ENOENT: no history yet; D untouched). */
int mw_metrics_history_update(const struct mw_root *root, const char *path,
                              struct mw_metrics_history *h, struct mw_metrics_daemon *d);

/* Reads the daemon's state file PATH under ROOT into D (have_state), and
 * whether its PID runs with its VmRSS (up, have_rss: ROOT/proc/PID/status).
 * Returns 0 or -errno (-ENOENT: no daemon has written one). */
int mw_metrics_gather_daemon(const struct mw_root *root, const char *path,
                             struct mw_metrics_daemon *d);

/* Writes TEXT (LEN bytes) to DIR/memwarden.prom atomically: a temporary
 * file created in DIR (O_EXCL | O_NOFOLLOW, mode 0644), written, fsync'd
 * and renamed over memwarden.prom. DIR itself must not be a symlink
 * (opened O_NOFOLLOW | O_DIRECTORY: -ELOOP / -ENOTDIR). Returns 0 or
 * -errno (the temporary file removed on failure). */
int mw_metrics_textfile_write(const char *dir, const char *text, size_t len);

/* The killer's counters the metrics process shows, in memory shared
 * with it (MAP_SHARED, created before the fork). The daemon stores with
 * relaxed atomics and never waits on the reader; a reader may see one
 * counter a cycle older than another, never a torn value. */
struct mw_metrics_live {
    uint64_t wakeups_timer, wakeups_pressure, kills, kill_failures, loops, alerts;
    uint64_t cycle_us, cycle_max_us, last_kill_time_s;
};

/* What the metrics process does. */
struct mw_metricsd_opts {
    const char *textfile_dir;              /* NULL: no textfile */
    uint64_t interval_ms;                  /* textfile rewrite and leak sampling period */
    int listen_fd;                         /* bound, listening socket; -1: no HTTP */
    const char *state_path, *history_path; /* "" or NULL: none */
    const struct mw_patterns *watch;       /* the config's watch list; NULL: none */
    uint64_t leak_window_ms;               /* no leak verdict on less data; 0: 5 min */
};

/* Parses a listen address: "PORT" (on 127.0.0.1), "HOST:PORT" with a
 * numeric IPv4 HOST, or "[V6]:PORT" / "V6:PORT" with a numeric IPv6 HOST
 * ("::1"); PORT decimal 0..65535. No name is looked up ("localhost" is
 * refused: the daemon binds without NSS). Pure: --check-config and the
 * daemon use this one parser. Returns 0 with *SA, *SALEN set, or -EINVAL
 * (SA untouched). */
int mw_metrics_addr_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *salen);

/* Parses a listen address: "PORT", "HOST:PORT" or "[V6]:PORT" (numeric
 * hosts only; a bare port means 127.0.0.1), binds and listens (non-blocking,
 * close-on-exec). DESC (CAP bytes) gets "ADDR:PORT" as bound (the real
 * port when 0 was asked). Returns the descriptor or -errno (-EINVAL: not
 * an address). */
int mw_metrics_listen(const char *spec, char *desc, size_t cap);

/* Checks a request the HTTP server has read so far: REQ, LEN bytes (no
 * NUL needed), from a buffer of MAX bytes. Returns NULL while the request
 * is incomplete (no blank line yet), "200 OK" for a complete
 * `GET /metrics` (or /metrics?...) over HTTP/1.x, else the status to
 * answer with: "400 Bad Request" (a NUL, a control character or a
 * malformed request line), "404 Not Found", "405 Method Not Allowed",
 * "414 URI Too Long" (a request line of 300 bytes or more), "431 Request
 * Header Fields Too Large" (MAX bytes and no end). Pure: the network's
 * input meets this first (tests/fuzz/targets.c fuzzes it). */
const char *mw_metrics_http_check(const char *req, size_t len, size_t max);

/* Allocates the shared counters (MAP_SHARED | MAP_ANONYMOUS). Returns them
 * or NULL (errno set). */
struct mw_metrics_live *mw_metrics_live_new(void);

/* Forks the metrics process: nice 10, SCHED_OTHER, oom_score_adj 0, dies
 * with its parent (PR_SET_PDEATHSIG). It keeps only ROOT's descriptor and
 * the capabilities it reads and writes with (CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE for exe: patterns; bounding set the
 * same), no_new_privs, and rewrites the textfile every O->interval_ms.
 * With O->listen_fd it forks the HTTP server ("memwarden-http"), which
 * holds only the listener and a socketpair to it, runs as the kernel's
 * overflow uid/gid (nobody) with no capability, no_new_privs, not
 * dumpable, and asks the metrics process for the text of each scrape.
 * The server answers only `GET /metrics` (mw_metrics_http_check: 404 for
 * another path, 405 for another method, 400 for a malformed or
 * over-4-KiB request), at most 2 s per client, at most 32 clients at
 * once. Returns the metrics process's PID to the caller or -errno. */
pid_t mw_metricsd_start(const struct mw_root *root, const struct mw_metricsd_opts *o,
                        const struct mw_metrics_live *live);

#endif
