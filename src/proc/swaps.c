#include "proc/swaps.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next blank-separated field of LINE[*pos..len) into OUT (capacity
 * CAP). Returns its length, or 0 when there is none or it does not fit. */
static size_t field(const char *line, size_t len, size_t *pos, char *out, size_t cap)
{
    size_t i = *pos;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    size_t n = i - start;
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, line + start, n);
    out[n] = '\0';
    *pos = i;
    return n;
}

/* One device line: "/dev/zram0  partition  262140  1024  100" (what
 * follows the priority is ignored, as the kernel may add columns). Reads
 * only the line, never the rest of the buffer. Returns 0 or -EINVAL. */
static int parse_line(struct mw_swap_dev *d, const char *line, size_t len)
{
    char num[3][24];
    size_t pos = 0;
    memset(d, 0, sizeof(*d));
    if (!field(line, len, &pos, d->name, sizeof(d->name)) ||
        !field(line, len, &pos, d->type, sizeof(d->type)))
        return -EINVAL;
    for (int i = 0; i < 3; i++)
        if (!field(line, len, &pos, num[i], sizeof(num[i])))
            return -EINVAL;
    const char *p = num[0];
    if (mw_scan_u64(&p, &d->size_kb) < 0 || *p)
        return -EINVAL;
    p = num[1];
    if (mw_scan_u64(&p, &d->used_kb) < 0 || *p)
        return -EINVAL;
    char *end;
    errno = 0;
    long prio = strtol(num[2], &end, 10);
    if (errno || end == num[2] || *end || prio < INT_MIN || prio > INT_MAX)
        return -EINVAL;
    d->priority = (int)prio;
    return 0;
}

int mw_swaps_parse_buf(struct mw_swaps *out, const char *buf, int *bad_line)
{
    struct mw_swaps s;
    memset(&s, 0, sizeof(s));
    const char *c = buf, *l;
    size_t len;
    int line = 0;
    while (mw_next_line(&c, &l, &len)) {
        line++;
        struct mw_swap_dev d;
        bool bad = line == 1 ? len < 8 || strncmp(l, "Filename", 8) != 0 /* the header */
                             : parse_line(&d, l, len) < 0;
        if (bad) {
            if (bad_line)
                *bad_line = line;
            return -EINVAL;
        }
        if (line > 1 && s.count < MW_MAX_SWAPS)
            s.dev[s.count++] = d;
    }
    if (line == 0) { /* no header */
        if (bad_line)
            *bad_line = 1;
        return -EINVAL;
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
