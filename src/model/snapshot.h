/* snapshot: copy every file memwarden reads from a root into a directory
 * with the same relative paths, so `memwarden --root DIR ...` reproduces
 * the picture elsewhere (a field device's state, or a test fixture). */
#ifndef MW_SNAPSHOT_H
#define MW_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

struct mw_snapshot_opts {
    bool processes;    /* also /proc/PID/{stat,status,statm,cmdline,...}, the cgroup2
                        * tree's cgroup.procs and memory.current, the
                        * ManagedOOMPreference= marks memwarden honours (as files
                        * named after the attributes: proc/cgunit.h) and logind's
                        * /run/systemd/sessions */
    bool smaps;        /* also the full /proc/PID/smaps (large) */
    const char *scope; /* a cgroup directory to capture too, or NULL */
};

struct mw_snapshot_result {
    unsigned files, processes, skipped; /* skipped: unreadable or vanished */
};

/* The system-wide files a snapshot takes (NULL-terminated), relative to the
 * root. Globs are not used: zram devices and processes are listed apart. */
extern const char *const mw_snapshot_system_files[];

/* True when SCOPE (a cgroup directory, absolute or root-relative) has no
 * ".", ".." or empty component: its files are copied to the same path
 * under the output directory, which must not lead out of it. */
bool mw_snapshot_scope_ok(const char *scope);

/* Copies into the directory DIR_FD (which should be empty, and writable
 * only by its owner: see cli_snapshot) every file of SRC the options ask
 * for, creating subdirectories, and writes memwarden-snapshot.json
 * (version, capture time, hostname, kernel release, page size, counts).
 * Nothing is written through a symlink: each directory is opened with
 * O_NOFOLLOW and each file created with O_EXCL | O_NOFOLLOW relative to
 * its parent, so a symlink planted in the tree fails the snapshot. In a
 * captured SRC (not the live "/"), symlinks resolve inside SRC only, and
 * only regular files are read. Per-process files are written 0600, the
 * others with their source's read bits. A file that cannot be read is
 * skipped and counted; failing to write is an error. Returns 0 or -errno
 * (-EINVAL: a scope that fails mw_snapshot_scope_ok). */
int mw_snapshot_take(const struct mw_root *src, int dir_fd, const struct mw_snapshot_opts *opts,
                     struct mw_snapshot_result *out);

/* What memwarden-snapshot.json says about a capture. */
struct mw_snapshot_meta {
    double time;        /* epoch seconds of the capture; 0 unknown */
    char hostname[128]; /* "" unknown */
    uint64_t page_size; /* bytes; 0 unknown */
};

/* Parses the text of memwarden-snapshot.json. Fields it lacks stay unknown
 * (0 / ""). Returns 0. */
int mw_snapshot_meta_parse_buf(struct mw_snapshot_meta *out, const char *buf);

/* Reads ROOT/memwarden-snapshot.json. Returns 0 or -errno (-ENOENT: not a
 * memwarden capture, or the live system); OUT is untouched on failure. */
int mw_snapshot_meta_read(const struct mw_root *root, struct mw_snapshot_meta *out);

/* Completes ROOT's page size (struct mw_root) for a capture: the page_size
 * its memwarden-snapshot.json recorded, read with mw_snapshot_meta_read.
 * A live root, or a capture that did not record it, keeps what
 * mw_root_open set. Call once, right after mw_root_open. */
void mw_snapshot_root_page_size(struct mw_root *root);

#endif
