/* procmatch: name matches and qualified (exe / uid / unit / cgroup) ones,
 * the facts read from a captured /proc, and rules built on them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "harness.h"
#include "model/procmatch.h"
#include "model/rules.h"

static void test_parse(void)
{
    struct mw_match_spec s;
    char err[200];
    CHECK_EQ_INT(mw_match_spec_parse(&s, "*sshd*", err, sizeof(err)), 0);
    CHECK(!s.qualified && !mw_match_spec_trusted(&s));
    CHECK_STR(s.name, "*sshd*");
    CHECK_EQ_INT(mw_match_spec_needs(&s), 0);
    CHECK_EQ_INT(mw_match_spec_parse(&s, "exe:/usr/sbin/sshd uid:0", err, sizeof(err)), 0);
    CHECK(s.qualified && mw_match_spec_trusted(&s));
    CHECK_STR(s.exe, "/usr/sbin/sshd");
    CHECK(s.have_uid && s.uid == 0);
    CHECK_STR(s.name, "");
    CHECK_EQ_INT(mw_match_spec_needs(&s), MW_MATCH_NEED_EXE | MW_MATCH_NEED_UID);
    CHECK_EQ_INT(mw_match_spec_parse(&s, "unit:ssh.service\tname:*-D*", err, sizeof(err)), 0);
    CHECK(mw_match_spec_trusted(&s));
    CHECK_STR(s.unit, "ssh.service");
    CHECK_STR(s.name, "*-D*");
    /* exe: alone is not trusted: anyone may run /usr/sbin/sshd */
    CHECK_EQ_INT(mw_match_spec_parse(&s, "exe:/usr/sbin/sshd", err, sizeof(err)), 0);
    CHECK(s.qualified && !mw_match_spec_trusted(&s));
    /* refused */
    const char *bad[] = {
        "exe:/x bogus:1",       "uid:root",       "uid:-1", "uid:", "exe:/a exe:/b", "uid:0 uid:0",
        "unit:/system.slice/x", "uid:4294967295", ""};
    for (size_t i = 0; i < MW_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        CHECK_EQ_INT(mw_match_spec_parse(&s, bad[i], err, sizeof(err)), -EINVAL);
        CHECK(err[0] != '\0');
    }
}

static void test_qualifiers(void)
{
    struct mw_match_spec s;
    mw_match_spec_parse(&s, "exe:/usr/sbin/sshd uid:0", NULL, 0);
    struct mw_match_facts real = {.have_exe = true, .have_uid = true, .exe = "/usr/sbin/sshd"};
    CHECK(mw_match_qualifiers(&s, &real));
    struct mw_match_facts spoof = {
        .have_exe = true, .have_uid = true, .exe = "/usr/bin/bash", .ruid = 65534, .euid = 65534};
    CHECK(!mw_match_qualifiers(&s, &spoof));
    /* the right program run by another user; a setuid root program run by one */
    struct mw_match_facts other = real;
    other.ruid = other.euid = 65534;
    CHECK(!mw_match_qualifiers(&s, &other));
    other.euid = 0;
    CHECK(!mw_match_qualifiers(&s, &other));
    /* unreadable facts never match */
    struct mw_match_facts unknown = {.tried = MW_MATCH_NEED_EXE | MW_MATCH_NEED_UID};
    CHECK(!mw_match_qualifiers(&s, &unknown));
    /* units: the system unit's cgroup or below it, in any slice, never a
     * user manager's unit of that name (proc/cgunit.h parses the path) */
    mw_match_spec_parse(&s, "unit:ssh.service", NULL, 0);
    static const struct {
        const char *path;
        bool match;
    } units[] = {
        {"/system.slice/ssh.service", true},
        {"/system.slice/ssh.service/sub", true},
        {"/system.slice/system-ssh.slice/ssh.service", true},
        {"/system.slice/ssh.servicex", false},
        {"/system.slice/xssh.service", false},
        {"/user.slice/user-1000.slice/user@1000.service/app.slice/ssh.service", false},
        {"/ssh.service.d/x", false},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        struct mw_match_facts cg = {.have_unit = true};
        CHECK_EQ_INT(mw_cgunit_parse(units[i].path, &cg.unit), 0);
        if (mw_match_qualifiers(&s, &cg) != units[i].match)
            fprintf(stderr, "  unit:ssh.service on %s\n", units[i].path);
        CHECK(mw_match_qualifiers(&s, &cg) == units[i].match);
    }
    /* the user's manager itself is a system unit: its subtree is the user's */
    mw_match_spec_parse(&s, "unit:user@1000.service", NULL, 0);
    struct mw_match_facts um = {.have_unit = true};
    mw_cgunit_parse("/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope", &um.unit);
    CHECK(mw_match_qualifiers(&s, &um));
    /* no unit known: no match */
    struct mw_match_facts nou = {.have_cgroup = true, .cgroup = "/system.slice/ssh.service"};
    mw_match_spec_parse(&s, "unit:ssh.service", NULL, 0);
    CHECK(!mw_match_qualifiers(&s, &nou));
    /* exe globs do not cross '/' */
    mw_match_spec_parse(&s, "exe:/usr/sbin/* uid:0", NULL, 0);
    snprintf(real.exe, sizeof(real.exe), "/usr/sbin/x/../../../tmp/evil");
    CHECK(!mw_match_qualifiers(&s, &real));
    /* the name part of a config pattern is a glob on command line or name */
    mw_match_spec_parse(&s, "name:*sshd* uid:0", NULL, 0);
    CHECK(mw_match_name_glob(&s, "/usr/sbin/sshd -D", "sshd"));
    CHECK(mw_match_name_glob(&s, "", "sshd"));
    CHECK(!mw_match_name_glob(&s, "/usr/bin/bash", "bash"));
}

/* The spoofer of tests/fixtures/protect-spoof: command line
 * "/usr/sbin/sshd -D", exe /usr/bin/bash, uid 65534; 5002 is the real one. */
static void test_facts_from_fixture(void)
{
    int proc_fd = open(MW_FIXTURES "/protect-spoof/proc", O_RDONLY | O_DIRECTORY);
    CHECK(proc_fd >= 0);
    struct mw_match_spec s;
    mw_match_spec_parse(&s, "exe:/usr/sbin/sshd uid:0", NULL, 0);
    struct mw_match_facts f = {.tried = 0};
    CHECK_EQ_INT(mw_match_facts_read(proc_fd, 5001, mw_match_spec_needs(&s), &f), 0);
    CHECK(f.have_exe && f.have_uid);
    CHECK_STR(f.exe, "/usr/bin/bash");
    CHECK_EQ_INT((int)f.ruid, 65534);
    CHECK(!mw_match_qualifiers(&s, &f));
    struct mw_match_facts g = {.tried = 0};
    mw_match_facts_read(
        proc_fd, 5002,
        MW_MATCH_NEED_EXE | MW_MATCH_NEED_UID | MW_MATCH_NEED_CGROUP | MW_MATCH_NEED_UNIT, &g);
    CHECK(mw_match_qualifiers(&s, &g));
    CHECK_STR(g.cgroup, "/system.slice/ssh.service");
    CHECK(g.have_unit);
    CHECK_STR(g.unit.unit, "ssh.service");
    /* a process that is not there: nothing known, nothing matches */
    struct mw_match_facts h = {.tried = 0};
    mw_match_facts_read(proc_fd, 9999, MW_MATCH_NEED_EXE | MW_MATCH_NEED_UID, &h);
    CHECK(!h.have_exe && !h.have_uid && !mw_match_qualifiers(&s, &h));

    /* rules: the qualified rule gives -1000 to the real sshd only */
    struct mw_rules r = {0};
    int line = 0;
    char err[256];
    CHECK_EQ_INT(mw_rules_parse_buf(&r,
                                    "exe:/usr/sbin/sshd uid:0 -> native\n"
                                    "unit:postgresql.service name:postgres -> system\n"
                                    "sshd -> cached\n",
                                    &line, err, sizeof(err)),
                 3);
    CHECK_EQ_INT(mw_rules_needs(&r), MW_MATCH_NEED_EXE | MW_MATCH_NEED_UID | MW_MATCH_NEED_UNIT);
    const struct mw_rule *m = mw_rules_match(&r, "/usr/sbin/sshd -D", &g);
    CHECK(m && m->adj == -1000);
    m = mw_rules_match(&r, "/usr/sbin/sshd -D", &f);
    CHECK(m && m->adj == 900);
    m = mw_rules_match(&r, "/usr/sbin/sshd -D", NULL);
    CHECK(m && m->adj == 900);
    mw_rules_free(&r);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "exe:/x uid:zero -> native\n", &line, err, sizeof(err)),
                 -EINVAL);
    CHECK_CONTAINS(err, "uid:");
    close(proc_fd);
}

/* Hostile patterns are refused before regcomp, quickly and without a big
 * allocation (the child runs under a 64 MiB address-space allowance over
 * what it already has: glibc took 900 MB for the second one). */
static void test_regex_bounds(void)
{
    static const char *const hostile[] = {
        "((a{1,1000}){1,1000}){1,1000}",
        "((a{1,100}){1,100}){1,100}",
        "(((a{1,20}){1,20}){1,20}){1,20}",
        "a{1,10}{1,10}{1,10}{1,10}",
        "(.{0,255}){0,255}",
        "x{32767}",
        "((a{,255}){,255}){,255}",             /* glibc reads {,m} as {0,m}: 800 MB */
        "(((((((((((((((((a)))))))))))))))))", /* 17 deep */
        "(a*)*\\1",
        "u+++++++++++++++++++++++++++++++++++", /* 'make fuzz': 2.2 GB in regcomp */
        "a**",
        "a*{2}",
        "(((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+", /* each '+' copies: 2^15 */
    };
    static const char *const fine[] = {
        "^/usr/bin/camera-daemon( |$)",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}",
        "indexer|thumbnailer",
        "python3 .*backup\\.py$",
        "[[:alpha:]]{2,8}[]{}]",
        "a{,5}b",
        "(.{0,255}){0,2}",
        "a+b+c*",
        "(ab)+x?",
    };
    char err[200];
    for (size_t i = 0; i < MW_ARRAY_SIZE(fine); i++) {
        regex_t re;
        int rc = mw_regcomp_bounded(&re, fine[i], REG_EXTENDED | REG_NOSUB, err, sizeof(err));
        CHECK_EQ_INT(rc, 0);
        if (rc == 0)
            regfree(&re);
    }
    char longp[300];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    CHECK_EQ_INT(mw_regex_check(longp, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "256 bytes");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        struct rlimit rl = {.rlim_cur = (rlim_t)(256u << 20), .rlim_max = RLIM_INFINITY};
        setrlimit(RLIMIT_AS, &rl);
        uint64_t t0 = mw_now_ms();
        int bad = 0;
        for (size_t i = 0; i < MW_ARRAY_SIZE(hostile); i++) {
            regex_t re;
            char e2[200] = "";
            if (mw_regcomp_bounded(&re, hostile[i], REG_EXTENDED | REG_NOSUB, e2, sizeof(e2)) !=
                    -EINVAL ||
                !e2[0])
                bad++;
        }
        _exit(bad == 0 && mw_now_ms() - t0 < 100 ? 0 : 1);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* a rules file with one is refused with the reason and its line */
    struct mw_rules r = {0};
    int line = 0;
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "ok -> cached\n((a{1,100}){1,100}){1,100} -> native\n",
                                    &line, err, sizeof(err)),
                 -EINVAL);
    CHECK_EQ_INT(line, 2);
    CHECK_CONTAINS(err, "too large");
}

int main(void)
{
    RUN(test_parse);
    RUN(test_qualifiers);
    RUN(test_facts_from_fixture);
    RUN(test_regex_bounds);
    return TESTS_DONE();
}
