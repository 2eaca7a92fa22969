#include "proc/swaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_swaps_parse_buf(struct mw_swaps *out, const char *buf, int *bad_line)
{
    struct mw_swaps s;
    memset(&s, 0, sizeof(s));
    if (strncmp(buf, "Filename", 8) != 0) {
        if (bad_line)
            *bad_line = 1;
        return -EINVAL;
    }
    const char *p = strchr(buf, '\n');
    int line = 1;
    while (p && *++p) {
        line++;
        struct mw_swap_dev d;
        memset(&d, 0, sizeof(d));
        unsigned long long size, used;
        int n = 0;
        if (sscanf(p, "%127s %15s %llu %llu %d%n", d.name, d.type, &size, &used, &d.priority, &n) !=
            5) {
            if (bad_line)
                *bad_line = line;
            return -EINVAL;
        }
        d.size_kb = size;
        d.used_kb = used;
        if (s.count < MW_MAX_SWAPS)
            s.dev[s.count++] = d;
        p = strchr(p + n, '\n');
    }
    *out = s;
    return 0;
}

int mw_swaps_read(const struct mw_root *root, struct mw_swaps *out, int *bad_line)
{
    char *buf;
    int rc = mw_read_file(root, "/proc/swaps", &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_swaps_parse_buf(out, buf, bad_line);
    free(buf);
    return rc;
}
