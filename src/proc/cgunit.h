/* cgunit: a cgroup path as systemd names it -- the slice, the unit, the
 * user manager's unit, the user -- and what systemd writes on a unit's
 * cgroup for systemd-oomd (the ManagedOOMPreference= attributes) and on
 * /run for logind's sessions, read through the root. The one parser of
 * "which unit is this cgroup": procmatch's unit: patterns, `top --by
 * unit`, `status`'s units and the daemon's unit rules all use it.
 *
 * systemd's layout (cgroup v2, the "0::" line of /proc/PID/cgroup):
 *   /init.scope                                          PID 1
 *   /system.slice/ssh.service                            a system unit
 *   /system.slice/system-getty.slice/getty@tty1.service  slices nest
 *   /user.slice/user-1000.slice/session-2.scope          a login session
 *   /user.slice/user-1000.slice/user@1000.service/init.scope
 *                                                        systemd --user
 *   /user.slice/user-1000.slice/user@1000.service/app.slice/build.scope
 *                                                        a user unit
 * The unit is the first component after the slices; inside user@UID.service
 * the user manager's own slices and unit follow (systemd's
 * cg_path_get_unit and cg_path_get_user_unit; `ps -o unit,uunit`). */
#ifndef MW_CGUNIT_H
#define MW_CGUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

#define MW_CGUNIT_NAME 128 /* longest unit or slice name kept, + 1 (systemd's is 255) */

enum mw_unit_type {
    MW_UNIT_NONE,    /* no unit: "/", or a path systemd did not make */
    MW_UNIT_SERVICE, /* foo.service */
    MW_UNIT_SCOPE,   /* foo.scope (systemd-run --scope, a login session, init.scope) */
    MW_UNIT_OTHER,   /* .socket, .mount, .swap: their control processes */
};

struct mw_cgunit {
    char slice[MW_CGUNIT_NAME]; /* the slice holding the innermost unit ("-.slice" at the top) */
    char unit[MW_CGUNIT_NAME];  /* the system manager's unit; "" none */
    char user_unit[MW_CGUNIT_NAME]; /* inside user@UID.service: the user manager's unit; "" */
    enum mw_unit_type type;         /* of the innermost unit */
    bool have_uid;
    uid_t uid;       /* from user-UID.slice or user@UID.service */
    size_t unit_len; /* the leading bytes of the path that name the innermost unit's cgroup */
};

/* Parses the cgroup PATH ("/system.slice/foo.service/sub") into OUT as the
 * comment above says (systemd's escaping, a leading '_', undone). A path
 * without a unit fills OUT with type MW_UNIT_NONE and returns 0; a
 * component longer than MW_CGUNIT_NAME - 1 ends the parse there. Returns
 * 0, or -EINVAL when PATH does not start with '/'. Pure. */
int mw_cgunit_parse(const char *path, struct mw_cgunit *out);

/* The innermost unit's name: the user unit when there is one, else the
 * system unit ("" for none). */
const char *mw_cgunit_name(const struct mw_cgunit *u);

/* The name `top --by unit` and `status` show and group by: the system
 * unit, and for a user unit "user@UID.service/NAME" (two users' units may
 * share a name). Writes "" for none. */
void mw_cgunit_label(const struct mw_cgunit *u, char *buf, size_t cap);

/* From /proc/PID/cgroup text, the path in systemd's hierarchy: the v2 line
 * ("0::/path") unless it is "/" and a "name=systemd" v1 line exists (a
 * legacy or hybrid host, where systemd keeps its tree there). Returns 0,
 * -ENODATA, -ENAMETOOLONG. Pure. */
int mw_cgunit_path_parse_buf(const char *buf, char *out, size_t cap);

/* True when ROOT runs systemd as its init: ROOT/run/systemd/system is a
 * directory (sd_booted(3)'s test). */
bool mw_cgunit_systemd_booted(const struct mw_root *root);

/* True when PATH is absolute with no empty, "." or ".." component past
 * its leading '/' ("/" itself is fine): a cgroup path that can be looked
 * up under a mount without leaving it. Pure. */
bool mw_cgunit_path_plain(const char *path);

/* Where the cgroup2 mount is under ROOT: the one /proc/self/mounts names
 * when it is readable there, else the first of /sys/fs/cgroup/unified and
 * /sys/fs/cgroup that holds cgroup.controllers (a captured tree). Writes
 * the absolute path into OUT (CAP bytes). Returns 0 or -errno (-ENOENT:
 * no cgroup2). */
int mw_cgunit_v2_path(const struct mw_root *root, char *out, size_t cap);

/* Opens that mount: an O_PATH|O_DIRECTORY descriptor, or -errno. */
int mw_cgunit_v2_open(const struct mw_root *root);

/* systemd-oomd's preference for a cgroup (ManagedOOMPreference=). */
enum mw_oom_pref {
    MW_OOM_PREF_NONE,
    MW_OOM_PREF_AVOID, /* user.oomd_avoid = 1: a candidate only when no other is left */
    MW_OOM_PREF_OMIT,  /* user.oomd_omit = 1: never a candidate */
};

/* The attribute names systemd writes (src/core/cgroup.c,
 * cgroup_oomd_xattr_apply) and systemd-oomd reads (src/oom/oomd-util.c). */
#define MW_XATTR_OOMD_AVOID "user.oomd_avoid"
#define MW_XATTR_OOMD_OMIT  "user.oomd_omit"

/* Reads the preference of the cgroup PATH ("/system.slice/db.service")
 * under the cgroup2 mount V2_FD: the user.oomd_omit / user.oomd_avoid
 * attributes as systemd-oomd reads them (a value of "1", "yes", "true" or
 * "on"; omit wins when both are set). In a captured tree, which git cannot
 * give extended attributes, a regular file of the attribute's name in the
 * cgroup's directory stands for it (no such file can exist in cgroupfs).
 * Only a cgroup owned by the owner of the hierarchy's root counts (root on
 * a live system: PID 1 wrote it); one a user owns (a delegated subtree,
 * user@UID.service) is NONE: that user could shield a process from the
 * machine's killer, and systemd-oomd 252 reads only root-owned cgroups
 * too. PATH with an empty, "." or ".." component is NONE. Returns 0 with
 * *OUT set (NONE when the cgroup is gone or has none), or -errno when
 * V2_FD's root cannot be looked at. */
int mw_cgunit_pref_read(int v2_fd, const char *path, enum mw_oom_pref *out);

/* The name of P: "none", "avoid", "omit". */
const char *mw_oom_pref_name(enum mw_oom_pref p);

/* The session of a login scope: "session-2.scope" -> "2", "session-c1.scope"
 * -> "c1". Returns 0 or -EINVAL when UNIT is not a session scope. Pure. */
int mw_cgunit_session_id(const char *unit, char *id, size_t cap);

/* logind's record of a session (/run/systemd/sessions/ID):
 *   # This is private data. Do not parse.
 *   UID=1000
 *   LEADER=812
 * the leader's PID into *LEADER. Returns 0, or -ENODATA without a
 * LEADER= line (OUT untouched). Pure. */
int mw_session_leader_parse_buf(const char *buf, int *leader);

/* Reads the leader of session ID from ROOT_FD's run/systemd/sessions/ID
 * (written by logind, root's). Returns 0 or -errno. */
int mw_session_leader_read(int root_fd, const char *id, int *leader);

#endif
