#include "proc/psi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A PSI average: a percentage, finite (sscanf's %lf also takes "nan",
 * "inf" and hex floats, and nan passes every < and > test). */
static bool psi_pct(double v)
{
    return v >= 0.0 && v <= 100.0;
}

static int parse_line(struct mw_psi_line *out, const char *p)
{
    struct mw_psi_line l;
    int n = 0;
    /* %n after the last conversion tells the line really had all four. */
    if (sscanf(p, " avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64 "%n", &l.avg10, &l.avg60,
               &l.avg300, &l.total_us, &n) != 4 ||
        n == 0 || p[(size_t)n + strspn(p + n, " ")] != '\0')
        return -EINVAL;
    if (!psi_pct(l.avg10) || !psi_pct(l.avg60) || !psi_pct(l.avg300))
        return -EINVAL;
    *out = l;
    return 0;
}

int mw_psi_parse_buf(struct mw_psi *out, const char *buf, int *bad_line)
{
    struct mw_psi psi;
    memset(&psi, 0, sizeof(psi));
    bool have_some = false;
    int line = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        line++;
        char l[128];
        int rc = 0;
        if (len == 0)
            continue;
        if (!mw_line_copy(l, sizeof(l), p, len)) {
            rc = -EINVAL;
        } else if (strncmp(l, "some ", 5) == 0) {
            rc = parse_line(&psi.some, l + 4);
            have_some = rc == 0;
        } else if (strncmp(l, "full ", 5) == 0) {
            rc = parse_line(&psi.full, l + 4);
            psi.have_full = rc == 0;
        } else {
            rc = -EINVAL;
        }
        if (rc < 0) {
            if (bad_line)
                *bad_line = line;
            return rc;
        }
    }
    if (!have_some)
        return -ENODATA;
    *out = psi;
    return 0;
}

int mw_psi_read(const struct mw_root *root, const char *path, struct mw_psi *out, int *bad_line)
{
    char *buf;
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_psi_parse_buf(out, buf, bad_line);
    free(buf);
    return rc;
}
