#include "lmk/sdunit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc/procs.h"

int mw_sd_init(struct mw_sd *s, const struct mw_root *root)
{
    memset(s, 0, sizeof(*s));
    s->root_fd = root->fd;
    s->booted = mw_cgunit_systemd_booted(root);
    int fd = mw_cgunit_v2_open(root);
    s->v2_fd = fd >= 0 ? fd : -1;
    return 0;
}

void mw_sd_free(struct mw_sd *s)
{
    if (s->v2_fd >= 0)
        close(s->v2_fd);
    s->v2_fd = -1;
}

const char *mw_keep_name(enum mw_keep k)
{
    static const char *const names[] = {"none", "avoid", "system", "omit"};
    return (unsigned)k < MW_ARRAY_SIZE(names) ? names[k] : "?";
}

/* The system's own units: what a desktop or a server cannot lose without
 * losing its logins, its log or its bus (nohang's desktop configuration
 * protects the same by name; these are the units, which no user can
 * enter). A display manager's unit is named after it; display-manager.service
 * is an alias, but a cgroup carries the unit's own name. */
static const char *const system_units[] = {
    "systemd-journald.service",
    "dbus.service",
    "dbus-broker.service",
    "systemd-logind.service",
    "gdm.service",
    "gdm3.service",
    "lightdm.service",
    "sddm.service",
    "lxdm.service",
    "xdm.service",
    "slim.service",
    "display-manager.service",
};

/* The paths the systemd binary has on the distributions memwarden knows
 * (Debian's /lib is a link to /usr/lib since bookworm). */
static bool systemd_exe(const char *exe)
{
    return strcmp(exe, "/usr/lib/systemd/systemd") == 0 || strcmp(exe, "/lib/systemd/systemd") == 0;
}

/* The system's own by its unit (OUT->why set), else false. */
static bool system_process(struct mw_sd *s, int proc_fd, int pid, struct mw_match_facts *f,
                           struct mw_sd_facts *out)
{
    const struct mw_cgunit *u = &out->unit;
    if (u->type == MW_UNIT_NONE)
        return false;
    if (!u->user_unit[0]) {
        for (size_t i = 0; i < MW_ARRAY_SIZE(system_units); i++)
            if (strcmp(u->unit, system_units[i]) == 0) {
                snprintf(out->why, sizeof(out->why), "%s", u->unit);
                return true;
            }
    }
    /* systemd --user (and its "(sd-pam)"): the user manager's init.scope.
     * The user owns that subtree and could move a program there, hence
     * the executable too. */
    if (u->have_uid && strcmp(u->user_unit, "init.scope") == 0) {
        mw_match_facts_read(proc_fd, pid, MW_MATCH_NEED_EXE, f);
        if (f->have_exe && systemd_exe(f->exe)) {
            snprintf(out->why, sizeof(out->why), "systemd --user (%s)", u->unit);
            return true;
        }
        return false;
    }
    /* a login session's leader (login, sshd's session process, the display
     * manager's worker), as logind recorded it */
    char id[32];
    int leader;
    if (!u->user_unit[0] && mw_cgunit_session_id(u->unit, id, sizeof(id)) == 0 &&
        mw_session_leader_read(s->root_fd, id, &leader) == 0 && leader == pid) {
        snprintf(out->why, sizeof(out->why), "the leader of session %s", id);
        return true;
    }
    return false;
}

/* The slot of PID: where it is, or the free one it would take. */
static size_t slot_of(const struct mw_sd *s, int pid)
{
    size_t i = ((size_t)pid * 2654435761u) & (MW_SD_SLOTS - 1);
    while (s->slot[i].pid != 0 && s->slot[i].pid != pid)
        i = (i + 1) & (MW_SD_SLOTS - 1);
    return i;
}

static void remember(struct mw_sd *s, int pid, uint64_t start, enum mw_keep keep, uint64_t now_ms)
{
    if (s->used >= MW_SD_SLOTS * 3 / 4) {
        memset(s->slot, 0, sizeof(s->slot));
        s->used = 0;
    }
    struct mw_sd_proc *p = &s->slot[slot_of(s, pid)];
    if (p->pid == 0)
        s->used++;
    *p = (struct mw_sd_proc){
        .pid = pid, .keep = (uint8_t)keep, .start = start, .ms = now_ms ? now_ms : 1};
}

enum mw_keep mw_sd_known(const struct mw_sd *s, int pid, uint64_t now_ms)
{
    const struct mw_sd_proc *p = &s->slot[slot_of(s, pid)];
    if (p->pid != pid || now_ms < p->ms || now_ms - p->ms >= MW_SD_FRESH_MS)
        return MW_KEEP_NONE;
    return (enum mw_keep)p->keep;
}

int mw_sd_facts_read(struct mw_sd *s, int proc_fd, int pid, uint64_t start, bool prefs,
                     uint64_t now_ms, struct mw_match_facts *f, struct mw_sd_facts *out)
{
    mw_match_facts_read(proc_fd, pid, MW_MATCH_NEED_UNIT, f);
    if (!f->have_unit)
        return -ENOENT;
    struct mw_sd_facts r;
    memset(&r, 0, sizeof(r));
    snprintf(r.path, sizeof(r.path), "%s", f->unit_path);
    r.unit = f->unit;
    enum mw_oom_pref pref = MW_OOM_PREF_NONE;
    /* systemd-oomd reads the candidate's own cgroup: a unit's mark is not
     * inherited by the unit's subgroups (systemd.resource-control(5)) */
    if (prefs && s->v2_fd >= 0)
        mw_cgunit_pref_read(s->v2_fd, r.path, &pref);
    if (pref == MW_OOM_PREF_OMIT) {
        r.keep = MW_KEEP_OMIT;
        snprintf(r.why, sizeof(r.why), "ManagedOOMPreference=omit");
    } else if (system_process(s, proc_fd, pid, f, &r)) {
        r.keep = MW_KEEP_SYSTEM;
    } else if (pref == MW_OOM_PREF_AVOID) {
        r.keep = MW_KEEP_AVOID;
        snprintf(r.why, sizeof(r.why), "ManagedOOMPreference=avoid");
    }
    remember(s, pid, start, r.keep, now_ms);
    *out = r;
    return 0;
}

/* ---- the census of a unit's cgroup --------------------------------------- */

struct census {
    const int *members;
    int n;
    int (*check)(void *ctx, int pid, uint64_t *kb);
    void *ctx;
    struct mw_unit_census *out;
};

static int census_pid(uint64_t v, void *arg)
{
    struct census *c = arg;
    struct mw_unit_census *o = c->out;
    if (o->procs >= MW_CENSUS_MAX) {
        o->cut = true;
        return 1;
    }
    o->procs++;
    int pid = v <= INT_MAX ? (int)v : 0;
    for (int i = 0; i < c->n; i++)
        if (c->members[i] == pid) {
            o->members_in++;
            return 0;
        }
    uint64_t kb = 0;
    int ok = pid > 0 ? c->check(c->ctx, pid, &kb) : 0;
    if (ok == 0 && !o->unsafe) {
        o->unsafe = true;
        snprintf(o->why, sizeof(o->why), "pid %d", pid);
    }
    if (ok > 0)
        o->others_kb += kb;
    return o->unsafe; /* one is enough */
}

/* cgroup.procs of DFD and, down to CENSUS_DEPTH, of its subgroups. */
#define CENSUS_DEPTH 8
static int census_dir(int dfd, int depth, struct census *c)
{
    long rc = mw_each_u64_at(dfd, "cgroup.procs", O_NOFOLLOW, census_pid, c);
    if (rc < 0 && rc != -EBADMSG)
        return (int)rc;
    if (c->out->unsafe || c->out->cut)
        return 0;
    DIR *d;
    if (mw_opendir_at(dfd, ".", O_NOFOLLOW, &d) < 0)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && !c->out->unsafe && !c->out->cut) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        if (depth + 1 >= CENSUS_DEPTH) {
            c->out->cut = true; /* deeper than the census looks: not known whole */
            break;
        }
        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue; /* removed meanwhile */
        census_dir(sub, depth + 1, c);
        close(sub);
    }
    closedir(d);
    return 0;
}

int mw_sd_census(const struct mw_sd *s, const char *path, const int *members, int n,
                 int (*check)(void *ctx, int pid, uint64_t *kb), void *ctx,
                 struct mw_unit_census *out)
{
    if (s->v2_fd < 0)
        return -ENOENT;
    if (!mw_cgunit_path_plain(path) || !path[1])
        return -EINVAL;
    int dfd = openat(s->v2_fd, path + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    struct mw_unit_census r;
    memset(&r, 0, sizeof(r));
    struct census c = {members, n, check, ctx, &r};
    int rc = census_dir(dfd, 0, &c);
    close(dfd);
    if (rc < 0)
        return rc;
    *out = r;
    return 0;
}
