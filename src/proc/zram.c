#include "proc/zram.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    dev->huge_pages = v[7];
    dev->have_mm_stat = true;
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
