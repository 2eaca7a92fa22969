/* users: /etc/passwd read by memwarden itself. */
#include "cli/cli.h"
#include "harness.h"
#include "proc/users.h"

static void test_parse(void)
{
    struct mw_users u = {0};
    CHECK_EQ_INT(mw_users_parse_buf(&u, "root:x:0:0:root:/root:/bin/bash\n"
                                        "# comment:x:5:5\n"
                                        "bad line\n"
                                        "www-data:x:33:33::/var/www:/usr/sbin/nologin\n"
                                        "toor:x:0:0:second uid 0:/root:/bin/sh\n"
                                        "neg:x:-1:0::/:/bin/sh\n"
                                        "a-very-long-user-name-over-32-bytes-long:x:7:7::/:/\n"
                                        "nonl:x:1000:1000::/home/n:/bin/sh"),
                 4);
    CHECK_STR(mw_users_name(&u, 0), "root"); /* the first line wins */
    CHECK_STR(mw_users_name(&u, 33), "www-data");
    CHECK_STR(mw_users_name(&u, 1000), "nonl");
    CHECK(mw_users_name(&u, 5) == NULL);
    CHECK(mw_users_name(&u, 7) == NULL);
    char b[32];
    CHECK_STR(mw_users_fmt(&u, 4242, b, sizeof(b)), "4242");
    uid_t id = 99;
    CHECK_EQ_INT(mw_users_lookup(&u, "www-data", &id), 0);
    CHECK_EQ_INT(id, 33);
    CHECK_EQ_INT(mw_users_lookup(&u, "4242", &id), 0);
    CHECK_EQ_INT(id, 4242);
    CHECK_EQ_INT(mw_users_lookup(&u, "nobody", &id), -ENOENT);
    CHECK_EQ_INT(mw_users_lookup(&u, "", &id), -ENOENT);
    mw_users_free(&u);
}

static void test_fixture(void)
{
    struct mw_root r;
    struct mw_users u = {0};
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/procs-hostile"), 0);
    CHECK_EQ_INT(mw_users_read(&r, &u), 6);
    CHECK_STR(mw_users_name(&u, 998), "camera-service-account");
    mw_users_free(&u);
    mw_root_close(&r);
    /* No passwd at all: an empty table, names fall back to numbers. */
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/procs-hostile/proc"), 0);
    CHECK_EQ_INT(mw_users_read(&r, &u), 0);
    CHECK(mw_users_name(&u, 0) == NULL);
    mw_users_free(&u);
    mw_root_close(&r);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_fixture);
    return TESTS_DONE();
}
