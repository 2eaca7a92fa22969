#include "proc/knobs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "base/safeopen.h"

/* Opens the tunable PATH under ROOT for writing, following no link. On a
 * live kernel /sys/block/zramN is the kernel's own link to
 * /sys/devices/virtual/block/zramN (zram devices are virtual block
 * devices): a zram attribute is opened by that name when it exists, by
 * PATH otherwise (a captured tree keeps the directory at sys/block/zramN).
 * Returns the descriptor or -errno. */
static int knob_open(const struct mw_root *root, const char *path)
{
    const char *rel = mw_rel(path);
    char dev[128];
    unsigned n;
    int used = 0;
    if (sscanf(rel, "sys/block/zram%u/%n", &n, &used) == 1 && used > 0 &&
        (size_t)snprintf(dev, sizeof(dev), "sys/devices/virtual/block/zram%u", n) < sizeof(dev)) {
        int dfd = mw_beneath_open(root->fd, dev, O_PATH | O_DIRECTORY, 0);
        if (dfd >= 0) {
            int fd = mw_beneath_open(dfd, rel + used, O_WRONLY | O_TRUNC, 0);
            close(dfd);
            return fd;
        }
    }
    return mw_beneath_open(root->fd, rel, O_WRONLY | O_TRUNC, 0);
}

int mw_knob_write(const struct mw_root *root, const char *path, const char *data, size_t len)
{
    int fd = knob_open(root, path);
    if (fd < 0)
        return fd;
    ssize_t n = write(fd, data, len);
    int rc = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int mw_knob_write_str(const struct mw_root *root, const char *path, const char *s)
{
    return mw_knob_write(root, path, s, strlen(s));
}

int mw_zram_hot_add(const struct mw_root *root)
{
    uint64_t n;
    int rc = mw_read_u64(root, "/sys/class/zram-control/hot_add", &n);
    if (rc < 0)
        return rc;
    return n > 1000 ? -ERANGE : (int)n;
}

int mw_zram_hot_remove(const struct mw_root *root, int n)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", n);
    return mw_knob_write_str(root, "/sys/class/zram-control/hot_remove", buf);
}

/* union swap_header of include/linux/swap.h: bootbits[1024], then version,
 * last_page, nr_badpages, uuid[16], volume_name[16]; "SWAPSPACE2" in the
 * last 10 bytes of the first page. */
int mw_mkswap_zram(int n, uint64_t size, uint64_t page_size)
{
    if (page_size < 4096 || page_size > 65536 || size / page_size < 10)
        return -EINVAL;
    size_t psz = (size_t)page_size; /* checked: fits a 32-bit size_t */
    unsigned char *page = calloc(1, psz);
    if (!page)
        return -ENOMEM;
    uint32_t hdr[3] = {1, (uint32_t)(size / page_size - 1), 0};
    memcpy(page + 1024, hdr, sizeof(hdr));
    memcpy(page + psz - 10, "SWAPSPACE2", 10);
    char dev[32];
    snprintf(dev, sizeof(dev), "/dev/zram%d", n);
    int rc = 0, fd = open(dev, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
    } else {
        if (pwrite(fd, page, psz, 0) != (ssize_t)psz)
            rc = errno ? -errno : -EIO;
        if (fsync(fd) < 0 && rc == 0)
            rc = -errno;
        close(fd);
    }
    free(page);
    return rc;
}

int mw_swapon_zram(int n, int priority)
{
    char dev[32];
    snprintf(dev, sizeof(dev), "/dev/zram%d", n);
    int flags = 0;
    if (priority >= 0)
        flags = SWAP_FLAG_PREFER | ((priority << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
    return swapon(dev, flags) < 0 ? -errno : 0;
}

int mw_swapoff_zram(int n)
{
    char dev[32];
    snprintf(dev, sizeof(dev), "/dev/zram%d", n);
    return swapoff(dev) < 0 ? -errno : 0;
}
