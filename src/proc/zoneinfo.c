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

int mw_zoneinfo_parse_buf(struct mw_zoneinfo *out, const char *buf, int *bad_line)
{
    struct mw_zoneinfo *zi = calloc(1, sizeof(*zi));
    if (!zi)
        return -ENOMEM;
    struct mw_zone *z = NULL;
    int line = 0, rc = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        line++;
        int err = 0;
        uint64_t v;
        if (strncmp(p, "Node ", 5) == 0) {
            int node;
            char l[64], name[16];
            if (!mw_line_copy(l, sizeof(l), p, len) ||
                sscanf(l, "Node %d, zone %15s", &node, name) != 2 || node < 0) {
                rc = -EINVAL;
                goto bad;
            }
            if (zi->nr_zones < MW_MAX_ZONES) {
                z = &zi->zones[zi->nr_zones++];
                z->node = node;
                snprintf(z->name, sizeof(z->name), "%s", name);
            } else {
                z = NULL; /* more zones than we keep: ignore the rest */
            }
        } else if (z) {
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
                const char *r = strchr(q, '(');
                if (!r || r - p > (long)len) {
                    err = 1;
                } else {
                    r++;
                    while (*r && *r != ')' && *r != '\n') {
                        if (mw_scan_u64(&r, &v) < 0) {
                            err = 1;
                            break;
                        }
                        if (v > z->protection_max)
                            z->protection_max = v;
                        while (*r == ',' || *r == ' ')
                            r++;
                    }
                }
            }
            if (err) {
                rc = -EINVAL;
                goto bad;
            }
        }
    }
    if (zi->nr_zones == 0) {
        rc = -ENODATA;
        goto out;
    }
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
    *out = *zi;
    goto out;
bad:
    if (bad_line)
        *bad_line = line;
out:
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

uint64_t mw_default_min_free_kbytes(uint64_t lowmem_kb)
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
    if (r > 65536)
        r = 65536;
    return r;
}
