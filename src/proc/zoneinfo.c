#include "proc/zoneinfo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads "key value" after leading blanks; returns 1 when KEY matched. */
static int key_value(const char *p, const char *key, uint64_t *v, int *err)
{
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(key);
    if (strncmp(p, key, n) != 0 || (p[n] != ' ' && p[n] != '\t'))
        return 0;
    p += n;
    if (mw_scan_u64(&p, v) < 0)
        *err = 1;
    return 1;
}

/* "Node 0, zone   Normal": a new zone in ZI (or *Z NULL when ZI holds
 * MW_MAX_ZONES already: the rest is ignored). Returns 0 or -EINVAL. */
static int zone_header(struct mw_zoneinfo *zi, const char *p, size_t len, struct mw_zone **z)
{
    int node;
    char l[64], name[16];
    if (!mw_line_copy(l, sizeof(l), p, len) || sscanf(l, "Node %d, zone %15s", &node, name) != 2 ||
        node < 0)
        return -EINVAL;
    if (zi->nr_zones >= MW_MAX_ZONES) {
        *z = NULL;
        return 0;
    }
    *z = &zi->zones[zi->nr_zones++];
    (*z)->node = node;
    snprintf((*z)->name, sizeof((*z)->name), "%s", name);
    return 0;
}

/* "        protection: (0, 2633, 23761, 23761, 23761)" from Q (the text
 * after the blanks) to the line's end END: the largest entry into *MAX.
 * Returns 0 or -EINVAL. */
static int protection(const char *q, const char *end, uint64_t *max)
{
    const char *r = strchr(q, '(');
    if (!r || r > end)
        return -EINVAL;
    r++;
    uint64_t v;
    while (*r && *r != ')' && *r != '\n') {
        if (mw_scan_u64(&r, &v) < 0)
            return -EINVAL;
        if (v > *max)
            *max = v;
        while (*r == ',' || *r == ' ')
            r++;
    }
    return 0;
}

/* One line of a zone's block into Z: "  pages free     3840", "        min
 * 2803" (and low, high, managed, present), "protection: (...)"; other
 * lines (per-node stats, nr_* counters, pagesets) are not ours. Returns 0
 * or -EINVAL for one of ours that is malformed. */
static int zone_line(struct mw_zone *z, const char *p, size_t len)
{
    int err = 0;
    uint64_t v;
    const char *q = p;
    while (*q == ' ')
        q++;
    if (strncmp(q, "pages free", 10) == 0) {
        q += 10;
        if (mw_scan_u64(&q, &v) < 0)
            err = 1;
        else
            z->free = v;
    } else if (key_value(p, "min", &v, &err)) {
        z->min = v;
    } else if (key_value(p, "low", &v, &err)) {
        z->low = v;
    } else if (key_value(p, "high", &v, &err)) {
        z->high = v;
    } else if (key_value(p, "managed", &v, &err)) {
        z->managed = v;
    } else if (key_value(p, "present", &v, &err)) {
        z->present = v;
    } else if (strncmp(q, "protection:", 11) == 0) {
        err = protection(q, p + len, &z->protection_max) < 0;
    }
    return err ? -EINVAL : 0;
}

/* The machine's sums over the zones that manage pages. */
static void sum_zones(struct mw_zoneinfo *zi)
{
    for (int i = 0; i < zi->nr_zones; i++) {
        const struct mw_zone *s = &zi->zones[i];
        if (s->managed == 0)
            continue;
        zi->free += s->free;
        zi->min += s->min;
        zi->low += s->low;
        zi->high += s->high;
        zi->managed += s->managed;
        zi->high_plus_protection += s->high + s->protection_max;
    }
}

int mw_zoneinfo_parse_buf(struct mw_zoneinfo *out, const char *buf, int *bad_line)
{
    struct mw_zoneinfo *zi = calloc(1, sizeof(*zi));
    if (!zi)
        return -ENOMEM;
    struct mw_zone *z = NULL;
    int line = 0, rc = 0;
    const char *c = buf, *p;
    size_t len;
    while (rc == 0 && mw_next_line(&c, &p, &len)) {
        line++;
        if (strncmp(p, "Node ", 5) == 0)
            rc = zone_header(zi, p, len, &z);
        else if (z)
            rc = zone_line(z, p, len);
    }
    if (rc < 0) {
        if (bad_line)
            *bad_line = line;
    } else if (zi->nr_zones == 0) {
        rc = -ENODATA;
    } else {
        sum_zones(zi);
        *out = *zi;
    }
    free(zi);
    return rc;
}

int mw_zoneinfo_read(const struct mw_root *root, struct mw_zoneinfo *out, int *bad_line)
{
    char *buf;
    int rc = mw_read_file(root, "/proc/zoneinfo", &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_zoneinfo_parse_buf(out, buf, bad_line);
    free(buf);
    return rc;
}

long mw_zoneinfo_src_init(struct mw_zoneinfo_src *s, int fd, struct mw_zoneinfo *out)
{
    char *buf = NULL;
    size_t cap = 0;
    bool cut = false;
    struct mw_zoneinfo zi;
    long n = lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
    if (n == 0)
        n = mw_read_fd(fd, &buf, &cap, MW_ZONEINFO_MAX, false, &cut);
    if (n >= 0 && cut)
        n = -EFBIG;
    if (n >= 0) {
        int rc = mw_zoneinfo_parse_buf(&zi, buf, NULL);
        if (rc < 0)
            n = rc;
    }
    size_t want = (size_t)(n > 0 ? n : 0);
    want += want / 2 > 16384 ? want / 2 : 16384;
    char *nb = n >= 0 ? realloc(buf, want) : NULL;
    if (n >= 0 && !nb)
        n = -ENOMEM;
    if (n < 0) {
        free(buf);
        return n;
    }
    s->fd = fd;
    s->buf = nb;
    s->cap = want;
    *out = zi;
    return n;
}

int mw_zoneinfo_src_read(struct mw_zoneinfo_src *s, struct mw_zoneinfo *out)
{
    if (!s->buf)
        return -EBADF;
    long n = mw_pread_all(s->fd, s->buf, s->cap);
    if (n < 0)
        return (int)n;
    return mw_zoneinfo_parse_buf(out, s->buf, NULL);
}

void mw_zoneinfo_src_free(struct mw_zoneinfo_src *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

uint64_t mw_min_free_cap_kb(const char *osrelease)
{
    unsigned major, minor;
    if (sscanf(osrelease, "%u.%u", &major, &minor) != 2)
        return 0;
    return major > 5 || (major == 5 && minor >= 7) ? MW_MIN_FREE_CAP_KB_5_7
                                                   : MW_MIN_FREE_CAP_KB_OLD;
}

uint64_t mw_min_free_cap_read(const struct mw_root *root)
{
    char buf[128];
    long n = mw_read_small_at(root->fd, "proc/sys/kernel/osrelease", buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return mw_min_free_cap_kb(buf);
}

uint64_t mw_default_min_free_kbytes(uint64_t lowmem_kb, uint64_t cap_kb)
{
    /* Integer square root of lowmem_kb * 16, as the kernel's int_sqrt. */
    uint64_t x = lowmem_kb * 16, r = 0, bit = 1ull << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    if (r < 128)
        r = 128;
    uint64_t cap = cap_kb ? cap_kb : MW_MIN_FREE_CAP_KB_OLD;
    if (r > cap)
        r = cap;
    return r;
}
