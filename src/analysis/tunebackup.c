#include "analysis/tunebackup.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "base/json.h"
#include "proc/vmtune.h"

/* The zram attributes tune writes, in the order it writes them. */
static const char *const zram_attr[] = {"comp_algorithm", "disksize"};

/* N at S as a device number: decimal, no leading zero, 0..MAX_DEV; *END
 * past it. Returns 0 or -EINVAL. */
static int dev_number(const char *s, int *n, const char **end)
{
    int v = 0, digits = 0;
    for (; isdigit((unsigned char)s[digits]) && digits < 5; digits++)
        v = v * 10 + (s[digits] - '0');
    if (digits == 0 || (s[0] == '0' && digits > 1) || v > MW_TUNE_ZRAM_MAX_DEV)
        return -EINVAL;
    *n = v;
    *end = s + digits;
    return 0;
}

enum mw_tune_path_kind mw_tune_path_kind(const char *path, int *arg)
{
    static const char *const persist[] = {MW_TUNE_PERSIST_SYSCTL, MW_TUNE_PERSIST_ZRAMGEN,
                                          MW_TUNE_PERSIST_INIT};
    for (size_t i = 0; i < sizeof(persist) / sizeof(persist[0]); i++)
        if (strcmp(path, persist[i] + 1) == 0)
            return MW_TP_PERSIST;
    if (strcmp(path, "sys/kernel/mm/transparent_hugepage/enabled") == 0)
        return MW_TP_THP;
    if (strncmp(path, "proc/sys/vm/", 12) == 0) {
        for (int k = 0; k < VM_KNOB_COUNT; k++)
            if (strcmp(path + 12, mw_vm_knob_name((enum mw_vm_knob)k)) == 0) {
                *arg = k;
                return MW_TP_VM;
            }
        return MW_TP_NONE;
    }
    const char *rest;
    int n;
    if (strncmp(path, "sys/block/zram", 14) != 0 || dev_number(path + 14, &n, &rest) < 0 ||
        *rest != '/')
        return MW_TP_NONE;
    *arg = n;
    if (strcmp(rest + 1, zram_attr[0]) == 0)
        return MW_TP_ZRAM_ALGO;
    if (strcmp(rest + 1, zram_attr[1]) == 0)
        return MW_TP_ZRAM_SIZE;
    return MW_TP_NONE;
}

/* S without one trailing newline into BUF. Returns false when it does
 * not fit or holds another newline. */
static bool one_line(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '\n')
        n--;
    if (n >= cap || memchr(s, '\n', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* "lzo lzo-rle [lz4] zstd": words of [a-z0-9_-], spaces, at most one
 * bracketed (the kernel's selection list). */
static bool selection_list(const char *s)
{
    int open = 0, pairs = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '[') {
            if (open || ++pairs > 1)
                return false;
            open = 1;
        } else if (c == ']') {
            if (!open)
                return false;
            open = 0;
        } else if (!islower(c) && !isdigit(c) && c != '-' && c != '_' && c != ' ') {
            return false;
        }
    }
    return !open;
}

int mw_tune_old_value_check(enum mw_tune_path_kind kind, int arg, const char *raw)
{
    char v[256];
    if (kind == MW_TP_PERSIST)
        return strlen(raw) < MW_TUNE_OLD_MAX ? 0 : -EINVAL;
    if (kind == MW_TP_NONE || !one_line(raw, v, sizeof(v)))
        return -EINVAL;
    switch (kind) {
    case MW_TP_VM:
        return mw_tune_knob_value_check((enum mw_vm_knob)arg, v) == 0 ? 0 : -EINVAL;
    case MW_TP_ZRAM_SIZE:
        if (!v[0] || strlen(v) > 20)
            return -EINVAL;
        for (const char *p = v; *p; p++)
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
        return 0;
    case MW_TP_THP:
    case MW_TP_ZRAM_ALGO:
        return v[0] && selection_list(v) ? 0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

void mw_tune_backup_format(FILE *f, const struct mw_tune_backup *b)
{
    struct mw_json j;
    mw_json_init(&j, f, true);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "version", 1);
    mw_json_array_begin(&j, "items");
    for (int i = 0; i < b->n; i++) {
        mw_json_object_begin(&j, NULL);
        mw_json_str(&j, "path", b->it[i].path);
        if (b->it[i].absent) {
            mw_json_bool(&j, "absent", true);
            mw_json_i64(&j, "new_dirs", b->it[i].new_dirs);
        } else
            mw_json_str(&j, "old", b->it[i].raw);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    if (b->zram) {
        mw_json_object_begin(&j, "zram");
        mw_json_i64(&j, "device", b->zdev);
        mw_json_bool(&j, "hot_add", b->hot_add);
        mw_json_bool(&j, "swapon", b->swapon);
        mw_json_str(&j, "old_algo", b->zalgo);
        if (b->zsize)
            mw_json_u64(&j, "disksize", b->zsize);
        mw_json_object_end(&j);
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static int refuse(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Item I of the backup (OBJ) into B->it[B->n], checked. */
static int bk_item(struct mw_tune_backup *b, const struct mw_json_val *obj, char *why, size_t cap)
{
    struct mw_json_val v;
    int i = b->n, arg = 0;
    if (b->n >= MW_TUNE_BK_MAX)
        return refuse(why, cap, "more than %d items (tune writes fewer)", MW_TUNE_BK_MAX);
    struct mw_tune_bk_item *it = &b->it[b->n];
    memset(it, 0, sizeof(*it));
    if (mw_json_find(obj, "path", &v) < 0 ||
        mw_json_get_str(&v, it->path, sizeof(it->path)) >= (long)sizeof(it->path))
        return refuse(why, cap, "item %d: no \"path\" string (or one too long)", i + 1);
    enum mw_tune_path_kind kind = mw_tune_path_kind(it->path, &arg);
    if (kind == MW_TP_NONE)
        return refuse(why, cap, "item %d: '%.100s' is not a file tune writes", i + 1, it->path);
    uint64_t nd = 0;
    if (mw_json_find(obj, "absent", &v) == 0) {
        int depth = 0;
        for (const char *p = it->path; (p = strchr(p, '/')) != NULL; p++)
            depth++;
        if (kind != MW_TP_PERSIST)
            return refuse(why, cap, "item %d: /%s marked absent (tune only creates boot files)",
                          i + 1, it->path);
        if (mw_json_find(obj, "new_dirs", &v) == 0 &&
            (mw_json_get_u64(&v, &nd) < 0 || nd > 8 || (int)nd > depth))
            return refuse(why, cap, "item %d: new_dirs is not 0..%d", i + 1, depth);
        it->absent = true;
        it->new_dirs = (int)nd;
    } else if (mw_json_find(obj, "old", &v) < 0 ||
               mw_json_get_str(&v, it->raw, sizeof(it->raw)) >= (long)sizeof(it->raw)) {
        return refuse(why, cap, "item %d: no \"old\" string (or one too long)", i + 1);
    } else if (mw_tune_old_value_check(kind, arg, it->raw) < 0) {
        return refuse(why, cap, "item %d: '%.40s' is not a value /%s can have", i + 1, it->raw,
                      it->path);
    }
    if ((kind == MW_TP_ZRAM_ALGO || kind == MW_TP_ZRAM_SIZE) && (!b->zram || arg != b->zdev))
        return refuse(why, cap, "item %d: /%s is not of the zram device this backup's apply set up",
                      i + 1, it->path);
    b->n++;
    return 0;
}

/* The "zram" part Z into B. */
static int bk_zram(struct mw_tune_backup *b, const struct mw_json_val *z, char *why, size_t cap)
{
    struct mw_json_val v;
    uint64_t dev;
    b->zram = true;
    if (mw_json_find(z, "device", &v) < 0 || mw_json_get_u64(&v, &dev) < 0 ||
        dev > MW_TUNE_ZRAM_MAX_DEV)
        return refuse(why, cap, "zram: no device number 0..%d", MW_TUNE_ZRAM_MAX_DEV);
    b->zdev = (int)dev;
    if (mw_json_find(z, "hot_add", &v) == 0)
        mw_json_get_bool(&v, &b->hot_add);
    if (mw_json_find(z, "swapon", &v) == 0)
        mw_json_get_bool(&v, &b->swapon);
    if (mw_json_find(z, "disksize", &v) == 0 && mw_json_get_u64(&v, &b->zsize) < 0)
        return refuse(why, cap, "zram: disksize is not a number");
    if (mw_json_find(z, "old_algo", &v) == 0 &&
        (mw_json_get_str(&v, b->zalgo, sizeof(b->zalgo)) >= (long)sizeof(b->zalgo) ||
         (b->zalgo[0] && mw_tune_algo_check(b->zalgo) < 0)))
        return refuse(why, cap, "zram: old_algo is not a compressor name");
    return 0;
}

/* The zram part names the device whose files the items hold, as the
 * apply leaves them: both attributes, the disksize 0 before. */
static int bk_zram_own(const struct mw_tune_backup *b, char *why, size_t cap)
{
    bool algo = false, size = false;
    for (int i = 0; i < b->n; i++) {
        int arg = 0;
        enum mw_tune_path_kind k = mw_tune_path_kind(b->it[i].path, &arg);
        algo |= k == MW_TP_ZRAM_ALGO;
        if (k == MW_TP_ZRAM_SIZE)
            size = strcmp(b->it[i].raw, "0") == 0 || strcmp(b->it[i].raw, "0\n") == 0;
    }
    if (!algo || !size)
        return refuse(why, cap,
                      "zram: zram%d is not a device this backup's apply set up (its "
                      "comp_algorithm and a disksize of 0 before are not in the backup)",
                      b->zdev);
    return 0;
}

int mw_tune_backup_parse_buf(const char *buf, size_t len, struct mw_tune_backup *out, char *why,
                             size_t cap)
{
    struct mw_json_val doc, items, z, key, val;
    struct mw_json_iter it;
    int r;
    memset(out, 0, sizeof(*out));
    if (mw_json_parse(buf, len, &doc) < 0 || doc.type != MW_JSON_OBJECT)
        return refuse(why, cap, "not a JSON object");
    if (mw_json_find(&doc, "items", &items) < 0 || items.type != MW_JSON_ARRAY ||
        mw_json_iter_init(&it, &items) < 0)
        return refuse(why, cap, "no \"items\" array");
    /* the zram part first: the items are checked against its device */
    if (mw_json_find(&doc, "zram", &z) == 0 && (r = bk_zram(out, &z, why, cap)) < 0)
        return r;
    while ((r = mw_json_iter_next(&it, &key, &val)) == 1)
        if (bk_item(out, &val, why, cap) < 0)
            return -EINVAL;
    if (r < 0)
        return refuse(why, cap, "the items array is malformed");
    return out->zram ? bk_zram_own(out, why, cap) : 0;
}
