#include "proc/zram.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/swaps.h"

/*
 * mm_stat:
 *   1048576   245760   385024        0   385024      12        0        0        0
 */
int mw_zram_mm_stat_parse_buf(struct mw_zram_dev *dev, const char *buf)
{
    uint64_t v[8] = {0};
    const char *p = buf;
    int n = 0;
    for (; n < 8; n++)
        if (mw_scan_u64(&p, &v[n]) < 0)
            break;
    if (n < 5)
        return -EINVAL;
    dev->orig_data_size = v[0];
    dev->compr_data_size = v[1];
    dev->mem_used_total = v[2];
    dev->mem_limit = v[3];
    dev->mem_used_max = v[4];
    dev->same_pages = v[5];
    dev->pages_compacted = v[6];
    dev->huge_pages = v[7];
    dev->have_mm_stat = true;
    return 0;
}

/* bd_stat:        0        0        0 */
int mw_zram_bd_stat_parse_buf(struct mw_zram_dev *dev, const char *buf)
{
    uint64_t v[3];
    const char *p = buf;
    for (int i = 0; i < 3; i++)
        if (mw_scan_u64(&p, &v[i]) < 0)
            return -EINVAL;
    dev->bd_count = v[0];
    dev->bd_reads = v[1];
    dev->bd_writes = v[2];
    dev->have_bd_stat = true;
    return 0;
}

/* comp_algorithm:  "lzo [lzo-rle] lz4 lz4hc 842 zstd" */
int mw_zram_algorithm_parse_buf(char *out, size_t cap, const char *buf)
{
    const char *a = strchr(buf, '[');
    const char *b = a ? strchr(a, ']') : NULL;
    if (!a || !b || b == a + 1)
        return -EINVAL;
    size_t n = (size_t)(b - a - 1);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, a + 1, n);
    out[n] = '\0';
    return 0;
}

static int cmp_dev(const void *a, const void *b)
{
    return ((const struct mw_zram_dev *)a)->index - ((const struct mw_zram_dev *)b)->index;
}

int mw_zram_read(const struct mw_root *root, struct mw_zram *out)
{
    DIR *d;
    int rc = mw_opendir_at(root->fd, "sys/block", 0, &d);
    if (rc < 0)
        return rc;
    struct mw_zram z;
    memset(&z, 0, sizeof(z));
    struct dirent *de;
    while ((de = readdir(d)) != NULL && z.count < MW_MAX_ZRAM) {
        const char *p = de->d_name;
        uint64_t idx;
        if (strncmp(p, "zram", 4) != 0)
            continue;
        p += 4;
        if (mw_scan_u64(&p, &idx) < 0 || *p || idx > 1000)
            continue;
        struct mw_zram_dev *dev = &z.dev[z.count++];
        dev->index = (int)idx;
        char path[96], *buf;
        snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", dev->index);
        mw_read_u64(root, path, &dev->disksize);
        snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", dev->index);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            mw_zram_algorithm_parse_buf(dev->algorithm, sizeof(dev->algorithm), buf);
            free(buf);
        }
        snprintf(path, sizeof(path), "/sys/block/zram%d/mm_stat", dev->index);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            mw_zram_mm_stat_parse_buf(dev, buf);
            free(buf);
        }
        snprintf(path, sizeof(path), "/sys/block/zram%d/bd_stat", dev->index);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            mw_zram_bd_stat_parse_buf(dev, buf);
            free(buf);
        }
        snprintf(path, sizeof(path), "/sys/block/zram%d/backing_dev", dev->index);
        if (mw_read_file(root, path, &buf, NULL) == 0) {
            snprintf(dev->backing_dev, sizeof(dev->backing_dev), "%.*s", (int)strcspn(buf, "\n"),
                     buf);
            free(buf);
        }
    }
    closedir(d);
    qsort(z.dev, (size_t)z.count, sizeof(z.dev[0]), cmp_dev);
    *out = z;
    return z.count;
}

double mw_zram_ratio(const struct mw_zram_dev *dev)
{
    return dev->compr_data_size ? (double)dev->orig_data_size / (double)dev->compr_data_size : 0.0;
}

int mw_zram_user(const struct mw_root *root, int n, char *who, size_t cap)
{
    char dev[32], *buf;
    struct mw_swaps sw;
    snprintf(dev, sizeof(dev), "/dev/zram%d", n);
    if (mw_swaps_read(root, &sw, NULL) == 0)
        for (int i = 0; i < sw.count; i++) {
            const char *name = sw.dev[i].name, *z = strstr(name, "/zram");
            /* /dev/zram0, /dev/block/zram0 (Android) */
            if (!z || strcmp(z + 1, dev + 5) != 0)
                continue;
            snprintf(who, cap, "swap %s, %.0f%% of %" PRIu64 " kB used", name,
                     mw_pct(sw.dev[i].used_kb, sw.dev[i].size_kb), sw.dev[i].size_kb);
            return 1;
        }
    if (mw_read_file(root, "/proc/mounts", &buf, NULL) < 0)
        return 0;
    const char *c = buf, *l;
    size_t len, dl = strlen(dev);
    int used = 0;
    while (!used && mw_next_line(&c, &l, &len))
        if (len > dl && strncmp(l, dev, dl) == 0 && l[dl] == ' ') {
            size_t m = strcspn(l + dl + 1, " \n");
            snprintf(who, cap, "mounted on %.*s", (int)(m < 128 ? m : 128), l + dl + 1);
            used = 1;
        }
    free(buf);
    return used;
}
