#include "proc/psi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_line(struct mw_psi_line *out, const char *p)
{
    struct mw_psi_line l;
    int n = 0;
    /* %n after the last conversion tells the line really had all four. */
    if (sscanf(p, " avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64 "%n", &l.avg10, &l.avg60,
               &l.avg300, &l.total_us, &n) != 4 ||
        n == 0)
        return -EINVAL;
    if (l.avg10 < 0 || l.avg60 < 0 || l.avg300 < 0 || l.avg10 > 100 || l.avg60 > 100 ||
        l.avg300 > 100)
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
    const char *p = buf;
    while (*p) {
        line++;
        int rc = 0;
        if (strncmp(p, "some", 4) == 0) {
            rc = parse_line(&psi.some, p + 4);
            have_some = rc == 0;
        } else if (strncmp(p, "full", 4) == 0) {
            rc = parse_line(&psi.full, p + 4);
            psi.have_full = rc == 0;
        } else if (*p != '\n') {
            rc = -EINVAL;
        }
        if (rc < 0) {
            if (bad_line)
                *bad_line = line;
            return rc;
        }
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        p = eol + 1;
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
