/* tunebackup: the backup `tune --apply` writes before it changes anything
 * and `tune --revert` puts back — its JSON format, and what a backup may
 * hold. Pure: the CLI reads the file (and decides whether its owner and
 * mode can be trusted), this decides whether its content can.
 *
 *   {"version":1,"items":[{"path":"proc/sys/vm/swappiness","old":"60\n"},
 *     {"path":"etc/sysctl.d/90-memwarden.conf","absent":true,"new_dirs":1}],
 *    "zram":{"device":1,"hot_add":true,"swapon":true,"old_algo":"lzo-rle",
 *            "disksize":251658240}}
 *
 * A revert writes every "old" back and removes every "absent" file, as
 * root: so a backup may only name what tune itself writes (the allowlist
 * below) with values tune itself could have read there. */
#ifndef MW_TUNEBACKUP_H
#define MW_TUNEBACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/tuneplan.h"

#define MW_TUNE_OLD_MAX      4096 /* a tunable's or a boot-time file's old content */
#define MW_TUNE_BK_MAX       (MW_TUNE_MAX + 4)
#define MW_TUNE_ZRAM_MAX_DEV 1000

/* The boot-time files `tune --persist` writes (the only files it creates). */
#define MW_TUNE_PERSIST_SYSCTL  "/etc/sysctl.d/90-memwarden.conf"
#define MW_TUNE_PERSIST_ZRAMGEN "/etc/systemd/zram-generator.conf"
#define MW_TUNE_PERSIST_INIT    "/etc/init.d/S05memwarden"

/* One change as the backup holds it: PATH's content before (RAW), or
 * ABSENT when the apply created it. */
struct mw_tune_bk_item {
    char path[128]; /* relative to the root */
    char raw[MW_TUNE_OLD_MAX];
    bool absent;
    int new_dirs; /* when ABSENT: how many of its parent directories did not exist either */
};

struct mw_tune_backup {
    int n;
    struct mw_tune_bk_item it[MW_TUNE_BK_MAX];
    bool zram;      /* the apply set up a zram device */
    int zdev;       /* zramN */
    bool hot_add;   /* ... which it created */
    bool swapon;    /* ... and swapped on */
    char zalgo[24]; /* its comp_algorithm selection before */
    uint64_t zsize; /* the disksize the apply wrote; 0: not recorded (an older backup) */
};

/* What a path of a backup is: one of the files tune writes, or none. */
enum mw_tune_path_kind {
    MW_TP_NONE,      /* not a file tune writes */
    MW_TP_VM,        /* proc/sys/vm/NAME for a NAME of proc/vmtune.h */
    MW_TP_THP,       /* sys/kernel/mm/transparent_hugepage/enabled */
    MW_TP_ZRAM_ALGO, /* sys/block/zramN/comp_algorithm */
    MW_TP_ZRAM_SIZE, /* sys/block/zramN/disksize */
    MW_TP_PERSIST,   /* one of MW_TUNE_PERSIST_* (without the leading '/') */
};

/* The kind of PATH (relative to the root, no leading '/'). *ARG gets the
 * knob (enum mw_vm_knob) for MW_TP_VM, N for the zram kinds (decimal
 * without leading zeros, 0..MW_TUNE_ZRAM_MAX_DEV). Pure. */
enum mw_tune_path_kind mw_tune_path_kind(const char *path, int *arg);

/* Whether RAW may be the old content of a file of KIND (ARG as above):
 * a tunable's number (one trailing newline allowed) within what
 * mw_tune_knob_value_check accepts, a zram disksize's digits, a
 * selection list ("always [madvise] never", "lzo [lz4] zstd") of
 * [a-z0-9_-] words, spaces and one [] pair, a boot-time file's text
 * (anything but NUL, which a C string cannot hold anyway). Returns 0 or
 * -EINVAL. */
int mw_tune_old_value_check(enum mw_tune_path_kind kind, int arg, const char *raw);

/* Writes B as JSON (one object, pretty) to F. */
void mw_tune_backup_format(FILE *f, const struct mw_tune_backup *b);

/* Parses a backup (LEN bytes) into OUT and checks every part of it:
 * each path has a kind (mw_tune_path_kind), each old value passes
 * mw_tune_old_value_check, only boot-time files may be "absent" (with
 * new_dirs no more than their depth allows), and a "zram" part names a
 * device this backup's own apply set up — the backup holds that device's
 * comp_algorithm and disksize with disksize 0 before (tune only ever sets
 * up a device that was free) and no other device's files. On failure WHY
 * (CAP bytes) says which part was refused and why. Returns 0 or -EINVAL
 * (OUT then undefined). */
int mw_tune_backup_parse_buf(const char *buf, size_t len, struct mw_tune_backup *out, char *why,
                             size_t cap);

#endif
