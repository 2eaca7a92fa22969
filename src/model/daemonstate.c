#include "model/daemonstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"

size_t mw_daemon_state_format(char *buf, size_t cap, const struct mw_daemon_state *s)
{
    struct mw_json j;
    mw_json_init_buf(&j, buf, cap, false);
    mw_json_object_begin(&j, NULL);
    mw_json_i64(&j, "pid", s->pid);
    mw_json_str(&j, "source", s->source);
    mw_json_str(&j, "strategy", s->strategy);
    mw_json_str(&j, "scope", s->scope);
    mw_json_bool(&j, "dry_run", s->dry_run);
    mw_json_u64(&j, "started", s->started);
    mw_json_u64(&j, "updated", s->updated);
    mw_json_u64(&j, "kills", s->kills);
    mw_json_u64(&j, "wakeups_timer", s->wakeups_timer);
    mw_json_u64(&j, "wakeups_pressure", s->wakeups_pressure);
    mw_json_u64(&j, "last_kill_time", s->last_kill_time);
    mw_json_str(&j, "last_kill", s->last_kill);
    if (s->warning[0])
        mw_json_str(&j, "warning", s->warning);
    if (s->held[0])
        mw_json_str(&j, "held", s->held);
    mw_json_object_end(&j);
    mw_json_finish(&j);
    if (mw_json_truncated(&j)) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return mw_json_buf_len(&j);
}

/* One member of the state object into S; unknown keys are skipped. */
static void state_member(struct mw_daemon_state *s, const struct mw_json_val *k,
                         const struct mw_json_val *v)
{
    static const struct {
        const char *key;
        size_t off, cap; /* cap 0: a counter */
    } f[] = {
        {"source", offsetof(struct mw_daemon_state, source), sizeof(s->source)},
        {"strategy", offsetof(struct mw_daemon_state, strategy), sizeof(s->strategy)},
        {"scope", offsetof(struct mw_daemon_state, scope), sizeof(s->scope)},
        {"last_kill", offsetof(struct mw_daemon_state, last_kill), sizeof(s->last_kill)},
        {"warning", offsetof(struct mw_daemon_state, warning), sizeof(s->warning)},
        {"held", offsetof(struct mw_daemon_state, held), sizeof(s->held)},
        {"started", offsetof(struct mw_daemon_state, started), 0},
        {"updated", offsetof(struct mw_daemon_state, updated), 0},
        {"kills", offsetof(struct mw_daemon_state, kills), 0},
        {"wakeups_timer", offsetof(struct mw_daemon_state, wakeups_timer), 0},
        {"wakeups_pressure", offsetof(struct mw_daemon_state, wakeups_pressure), 0},
        {"last_kill_time", offsetof(struct mw_daemon_state, last_kill_time), 0},
    };
    if (mw_json_key_is(k, "dry_run")) {
        mw_json_get_bool(v, &s->dry_run);
        return;
    }
    for (size_t i = 0; i < MW_ARRAY_SIZE(f); i++) {
        if (!mw_json_key_is(k, f[i].key))
            continue;
        char *field = (char *)s + f[i].off;
        if (f[i].cap)
            mw_json_get_str(v, field, f[i].cap);
        else
            mw_json_get_u64(v, (uint64_t *)(void *)field);
    }
}

int mw_daemon_state_parse_buf(struct mw_daemon_state *out, const char *buf)
{
    struct mw_daemon_state s;
    struct mw_json_val obj, k, v;
    struct mw_json_iter it;
    uint64_t pid = 0;
    memset(&s, 0, sizeof(s));
    if (mw_json_parse(buf, strlen(buf), &obj) < 0 || obj.type != MW_JSON_OBJECT ||
        mw_json_find(&obj, "pid", &v) < 0 || mw_json_get_u64(&v, &pid) < 0 || pid == 0 ||
        pid > INT_MAX)
        return -EINVAL;
    s.pid = (int)pid;
    mw_json_iter_init(&it, &obj);
    while (mw_json_iter_next(&it, &k, &v) > 0)
        state_member(&s, &k, &v);
    *out = s;
    return 0;
}

/* Creates PATH.tmp (TMP) anew, mode 0644; -errno on failure. */
static int create_tmp(const char *path, const char *tmp)
{
    if (unlink(tmp) < 0 && errno != ENOENT)
        return -errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        /* /run/memwarden may not exist yet */
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        }
    }
    if (fd < 0)
        return -errno;
    if (fchmod(fd, 0644) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return -e;
    }
    return fd;
}

int mw_daemon_state_write(const char *path, const struct mw_daemon_state *s)
{
    static char buf[MW_STATE_JSON_MAX];
    char tmp[PATH_MAX];
    size_t len = mw_daemon_state_format(buf, sizeof(buf), s);
    if (len == 0)
        return -EOVERFLOW; /* cannot happen: MW_STATE_JSON_MAX holds every state */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = create_tmp(path, tmp);
    if (fd < 0)
        return fd;
    int rc = 0;
    ssize_t w = write(fd, buf, len);
    if (w != (ssize_t)len)
        rc = w < 0 ? -errno : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int mw_daemon_state_read(const struct mw_root *root, const char *path, struct mw_daemon_state *out)
{
    char *buf;
    int rc = mw_read_file(root, path, &buf, NULL);
    if (rc < 0)
        return rc;
    rc = mw_daemon_state_parse_buf(out, buf);
    free(buf);
    return rc;
}
