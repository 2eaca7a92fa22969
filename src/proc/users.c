#include "proc/users.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int user_cmp(const void *a, const void *b)
{
    const struct mw_user *x = a, *y = b;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/*
 * /etc/passwd:
 *   root:x:0:0:root:/root:/bin/bash
 *   www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
 */
int mw_users_parse_buf(struct mw_users *out, const char *buf)
{
    struct mw_user *v = NULL;
    size_t n = 0, cap = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        const char *c1 = memchr(p, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
        size_t nlen = c1 ? (size_t)(c1 - p) : 0;
        if (c2 && nlen > 0 && nlen < sizeof(v->name) && *p != '#' && *p != '+' && *p != '-') {
            const char *q = c2 + 1;
            uint64_t uid;
            if (mw_scan_u64(&q, &uid) == 0 && *q == ':' && uid <= UINT32_MAX) {
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 32;
                    struct mw_user *nv = realloc(v, ncap * sizeof(*v));
                    if (!nv) {
                        free(v);
                        return -ENOMEM;
                    }
                    v = nv;
                    cap = ncap;
                }
                v[n].uid = (uid_t)uid;
                memcpy(v[n].name, p, nlen);
                v[n].name[nlen] = '\0';
                n++;
            }
        }
    }
    /* A stable order keeps the first line for a uid listed twice. */
    for (size_t i = 1; i < n; i++) {
        struct mw_user t = v[i];
        size_t j = i;
        while (j > 0 && user_cmp(&v[j - 1], &t) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
    out->v = v;
    out->n = n;
    return (int)n;
}

int mw_users_read(const struct mw_root *root, struct mw_users *out)
{
    char *buf;
    int rc = mw_read_file(root, "/etc/passwd", &buf, NULL);
    if (rc < 0) {
        out->v = NULL;
        out->n = 0;
        return rc == -ENOMEM ? rc : 0;
    }
    rc = mw_users_parse_buf(out, buf);
    free(buf);
    return rc;
}

const char *mw_users_name(const struct mw_users *u, uid_t uid)
{
    size_t lo = 0, hi = u->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < u->n && u->v[lo].uid == uid ? u->v[lo].name : NULL;
}

const char *mw_users_fmt(const struct mw_users *u, uid_t uid, char *buf, size_t cap)
{
    const char *name = mw_users_name(u, uid);
    if (name)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "%u", (unsigned)uid);
    return buf;
}

int mw_users_lookup(const struct mw_users *u, const char *name_or_uid, uid_t *uid)
{
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->v[i].name, name_or_uid) == 0) {
            *uid = u->v[i].uid;
            return 0;
        }
    }
    const char *p = name_or_uid;
    uint64_t v;
    if (mw_scan_u64(&p, &v) == 0 && *p == '\0' && p != name_or_uid && v <= UINT32_MAX) {
        *uid = (uid_t)v;
        return 0;
    }
    return -ENOENT;
}

void mw_users_free(struct mw_users *u)
{
    free(u->v);
    u->v = NULL;
    u->n = 0;
}
