/* cgunit: cgroup paths as systemd names them, the path in systemd's
 * hierarchy from /proc/PID/cgroup, ManagedOOMPreference= on a captured
 * tree (tests/fixtures/daemon-systemd) and on real directories, logind's
 * session leaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "proc/cgunit.h"

static void check_parse(const char *path, const char *slice, const char *unit,
                        const char *user_unit, long uid, enum mw_unit_type type, size_t len)
{
    struct mw_cgunit u;
    CHECK_EQ_INT(mw_cgunit_parse(path, &u), 0);
    CHECK_STR(u.slice, slice);
    CHECK_STR(u.unit, unit);
    CHECK_STR(u.user_unit, user_unit);
    CHECK_EQ_INT(u.have_uid ? (long)u.uid : -1, uid);
    CHECK_EQ_INT(u.type, type);
    CHECK_EQ_U64(u.unit_len, len);
}

static void test_parse_paths(void)
{
    check_parse("/", "", "", "", -1, MW_UNIT_NONE, 0);
    check_parse("/init.scope", "-.slice", "init.scope", "", -1, MW_UNIT_SCOPE, 11);
    check_parse("/system.slice/ssh.service", "system.slice", "ssh.service", "", -1, MW_UNIT_SERVICE,
                25);
    /* slices nest; a unit's own subgroups are the unit */
    check_parse("/system.slice/system-getty.slice/getty@tty1.service", "system-getty.slice",
                "getty@tty1.service", "", -1, MW_UNIT_SERVICE, 51);
    check_parse("/system.slice/docker.service/payload/x", "system.slice", "docker.service", "", -1,
                MW_UNIT_SERVICE, 28);
    check_parse("/user.slice/user-1000.slice/session-2.scope", "user-1000.slice", "session-2.scope",
                "", 1000, MW_UNIT_SCOPE, 43);
    check_parse("/user.slice/user-1000.slice/user@1000.service/init.scope", "-.slice",
                "user@1000.service", "init.scope", 1000, MW_UNIT_SCOPE, 56);
    check_parse("/user.slice/user-1000.slice/user@1000.service/app.slice/mw-build.scope",
                "app.slice", "user@1000.service", "mw-build.scope", 1000, MW_UNIT_SCOPE, 70);
    /* the user manager alone, no user unit below it */
    check_parse("/user.slice/user-7.slice/user@7.service", "user-7.slice", "user@7.service", "", 7,
                MW_UNIT_SERVICE, 39);
    /* not systemd's: no unit */
    check_parse("/process_api/4a3c045fe557", "", "", "", -1, MW_UNIT_NONE, 0);
    check_parse("/system.slice", "", "", "", -1, MW_UNIT_NONE, 0);
    /* systemd's escape: "_" before a name that could clash */
    check_parse("/system.slice/_cpu.service", "system.slice", "cpu.service", "", -1,
                MW_UNIT_SERVICE, 26);
    /* a name systemd cannot give a unit is none: what a user names a
     * delegated subgroup is not a unit */
    check_parse("/system.slice/a.service/b c.scope", "system.slice", "a.service", "", -1,
                MW_UNIT_SERVICE, 23);
    check_parse("/system.slice/x\x01y.service", "", "", "", -1, MW_UNIT_NONE, 0);
    check_parse("/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service",
                "system-serial\\x2dgetty.slice", "serial-getty@ttyS0.service", "", -1,
                MW_UNIT_SERVICE, 69);
    /* a user-NAME slice that is not a uid gives no uid */
    check_parse("/user.slice/user-x1.slice/session-3.scope", "user-x1.slice", "session-3.scope", "",
                -1, MW_UNIT_SCOPE, 41);
    struct mw_cgunit u;
    CHECK_EQ_INT(mw_cgunit_parse("system.slice/a.service", &u), -EINVAL);
    char label[300];
    mw_cgunit_parse("/user.slice/user-1000.slice/user@1000.service/app.slice/b.scope", &u);
    mw_cgunit_label(&u, label, sizeof(label));
    CHECK_STR(label, "user@1000.service/b.scope");
    CHECK_STR(mw_cgunit_name(&u), "b.scope");
    mw_cgunit_parse("/system.slice/db.service", &u);
    mw_cgunit_label(&u, label, sizeof(label));
    CHECK_STR(label, "db.service");
}

static void test_path_from_proc(void)
{
    char p[256];
    /* pure v2 */
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("0::/system.slice/a.service\n", p, sizeof(p)), 0);
    CHECK_STR(p, "/system.slice/a.service");
    /* hybrid: v2 in use wins over the v1 lines */
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("4:memory:/x\n1:name=systemd:/system.slice/a.service\n"
                                          "0::/system.slice/a.service\n",
                                          p, sizeof(p)),
                 0);
    CHECK_STR(p, "/system.slice/a.service");
    /* legacy: "0::/" says nothing, systemd's tree is name=systemd's */
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("4:memory:/\n1:name=systemd:/system.slice/b.service\n"
                                          "0::/\n",
                                          p, sizeof(p)),
                 0);
    CHECK_STR(p, "/system.slice/b.service");
    /* this machine: no systemd, "/" it is */
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("9:name=systemd:/\n0::/\n", p, sizeof(p)), 0);
    CHECK_STR(p, "/");
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("4:memory:/x\n", p, sizeof(p)), -ENODATA);
    CHECK_EQ_INT(mw_cgunit_path_parse_buf("0::/system.slice/a.service\n", p, 8), -ENAMETOOLONG);
}

/* The fixture's cgroup2 tree: db-omit.service and db-avoid.service carry
 * the attributes as files (git keeps no xattrs), plain.service none. */
static void test_pref_fixture(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/daemon-systemd"), 0);
    int v2 = mw_cgunit_v2_open(&r);
    CHECK(v2 >= 0);
    static const struct {
        const char *path;
        enum mw_oom_pref want;
    } cases[] = {
        {"/system.slice/db-omit.service", MW_OOM_PREF_OMIT},
        {"/system.slice/db-avoid.service", MW_OOM_PREF_AVOID},
        {"/system.slice/plain.service", MW_OOM_PREF_NONE},
        /* "0" is no; a cgroup that is gone has none; ".." never leaves */
        {"/system.slice/db-zero.service", MW_OOM_PREF_NONE},
        {"/system.slice/gone.service", MW_OOM_PREF_NONE},
        {"/system.slice/../system.slice/db-omit.service", MW_OOM_PREF_NONE},
        /* not inherited: systemd-oomd reads the candidate's own cgroup */
        {"/system.slice/db-omit.service/sub", MW_OOM_PREF_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum mw_oom_pref p = MW_OOM_PREF_AVOID;
        CHECK_EQ_INT(mw_cgunit_pref_read(v2, cases[i].path, &p), 0);
        if (p != cases[i].want)
            fprintf(stderr, "  %s: %s\n", cases[i].path, mw_oom_pref_name(p));
        CHECK_EQ_INT(p, cases[i].want);
    }
    close(v2);
    mw_root_close(&r);
}

static int rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

/* The attribute itself, and the owner rule, on real directories. */
static void test_pref_xattr_and_owner(void)
{
    char dir[] = "/tmp/mw-cgunit-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    char p[600];
    snprintf(p, sizeof(p), "%s/sys/fs/cgroup/system.slice/x.service", dir);
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && touch '%s/../../cgroup.controllers'", p, p);
    CHECK_EQ_INT(system(cmd), 0);
    if (setxattr(p, MW_XATTR_OOMD_AVOID, "1", 1, 0) < 0) {
        rm_tree(dir);
        SKIP("no user.* extended attributes on /tmp's filesystem");
    }
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, dir), 0);
    int v2 = mw_cgunit_v2_open(&r);
    CHECK(v2 >= 0);
    enum mw_oom_pref pref;
    CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/x.service", &pref), 0);
    CHECK_EQ_INT(pref, MW_OOM_PREF_AVOID);
    CHECK_EQ_INT(setxattr(p, MW_XATTR_OOMD_OMIT, "yes", 3, 0), 0);
    CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/x.service", &pref), 0);
    CHECK_EQ_INT(pref, MW_OOM_PREF_OMIT); /* omit wins, as in systemd-oomd */
    CHECK_EQ_INT(setxattr(p, MW_XATTR_OOMD_OMIT, "0", 1, 0), 0);
    CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/x.service", &pref), 0);
    CHECK_EQ_INT(pref, MW_OOM_PREF_AVOID);
    /* a cgroup another user owns (delegated): its marks do not count */
    if (geteuid() == 0 && chown(p, 1000, 1000) == 0) {
        CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/x.service", &pref), 0);
        CHECK_EQ_INT(pref, MW_OOM_PREF_NONE);
    }
    close(v2);
    mw_root_close(&r);
    rm_tree(dir);
    if (geteuid() != 0)
        SKIP("the owner rule needs root to chown (the attribute half ran)");
}

static void test_sessions(void)
{
    char id[16];
    CHECK_EQ_INT(mw_cgunit_session_id("session-2.scope", id, sizeof(id)), 0);
    CHECK_STR(id, "2");
    CHECK_EQ_INT(mw_cgunit_session_id("session-c1.scope", id, sizeof(id)), 0);
    CHECK_STR(id, "c1");
    CHECK_EQ_INT(mw_cgunit_session_id("session-.scope", id, sizeof(id)), -EINVAL);
    CHECK_EQ_INT(mw_cgunit_session_id("session-../x.scope", id, sizeof(id)), -EINVAL);
    CHECK_EQ_INT(mw_cgunit_session_id("build.scope", id, sizeof(id)), -EINVAL);
    int leader = -1;
    CHECK_EQ_INT(mw_session_leader_parse_buf("# This is private data. Do not parse.\nUID=1000\n"
                                             "USER=mwuser\nLEADER=812\nTYPE=tty\n",
                                             &leader),
                 0);
    CHECK_EQ_INT(leader, 812);
    leader = 5;
    CHECK_EQ_INT(mw_session_leader_parse_buf("UID=1000\nLEADER=81x\n", &leader), -ENODATA);
    CHECK_EQ_INT(mw_session_leader_parse_buf("UID=1000\n", &leader), -ENODATA);
    CHECK_EQ_INT(leader, 5);
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/daemon-systemd"), 0);
    CHECK_EQ_INT(mw_session_leader_read(r.fd, "2", &leader), 0);
    CHECK_EQ_INT(leader, 520);
    CHECK_EQ_INT(mw_session_leader_read(r.fd, "9", &leader), -ENOENT);
    mw_root_close(&r);
}

int main(void)
{
    RUN(test_parse_paths);
    RUN(test_path_from_proc);
    RUN(test_pref_fixture);
    RUN(test_pref_xattr_and_owner);
    RUN(test_sessions);
    return TESTS_DONE();
}
