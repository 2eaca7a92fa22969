/* rules: the pattern -> class file that prio apply and the daemon use. */
#include "cli/cli.h"
#include "harness.h"
#include "model/rules.h"

static void test_parse_and_match(void)
{
    struct mw_rules r = {0};
    int line = -1;
    char err[256] = "";
    const char *text = "# memwarden prio rules\n"
                       "\n"
                       "^/usr/bin/camera-daemon( |$)   -> foreground\n"
                       "indexer|thumbnailer            =  cached\n"
                       "  --mode=server  ->  -500   \n"
                       "\"  spaced pattern \" -> 300\n"
                       "a->b -> service_b\r\n"
                       "python3 .*backup\\.py = heavy_weight\n"
                       ". -> 1000";
    CHECK_EQ_INT(mw_rules_parse_buf(&r, text, &line, err, sizeof(err)), 7);
    if (r.n == 7) {
        CHECK_STR(r.v[0].pattern, "^/usr/bin/camera-daemon( |$)");
        CHECK_EQ_INT(r.v[0].adj, 0);
        CHECK_EQ_INT(r.v[0].line, 3);
        CHECK_EQ_INT(r.v[1].adj, 900);
        CHECK_STR(r.v[2].pattern, "--mode=server"); /* '=' inside the pattern */
        CHECK_EQ_INT(r.v[2].adj, -500);
        CHECK_STR(r.v[3].pattern, "  spaced pattern ");
        CHECK_STR(r.v[4].pattern, "a->b");
        CHECK_EQ_INT(r.v[4].adj, 800);
        CHECK_EQ_INT(r.v[6].adj, 1000);
    }
    const struct mw_rule *m = mw_rules_match(&r, "/usr/bin/camera-daemon --profile hd", NULL);
    CHECK(m && m->line == 3);
    m = mw_rules_match(&r, "/usr/bin/camera-daemonX", NULL); /* falls to the catch-all */
    CHECK(m && m->adj == 1000);
    m = mw_rules_match(&r, "/opt/indexer --mode=server", NULL); /* first match wins */
    CHECK(m && m->adj == 900);
    m = mw_rules_match(&r, "db --mode=server", NULL);
    CHECK(m && m->adj == -500);
    m = mw_rules_match(&r, "python3 /srv/backup.py", NULL);
    CHECK(m && m->adj == 400);
    mw_rules_free(&r);

    CHECK_EQ_INT(mw_rules_parse_buf(&r, "only -> cached\n", &line, err, sizeof(err)), 1);
    CHECK(mw_rules_match(&r, "nothing here", NULL) == NULL);
    mw_rules_free(&r);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "# nothing\n\n", &line, err, sizeof(err)), 0);
    CHECK(mw_rules_match(&r, "x", NULL) == NULL);
    mw_rules_free(&r);
}

static void test_errors(void)
{
    struct mw_rules r = {0};
    int line = 0;
    char err[512];
    CHECK_EQ_INT(
        mw_rules_parse_buf(&r, "ok -> cached\nno separator here\n", &line, err, sizeof(err)),
        -EINVAL);
    CHECK_EQ_INT(line, 2);
    CHECK(r.v == NULL); /* untouched */
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "x -> bogus\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "'bogus'");
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "x -> unknown\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "x -> 1001\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "x -> -1001\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "x ->\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, " -> cached\n", &line, err, sizeof(err)), -EINVAL);
    CHECK_EQ_INT(mw_rules_parse_buf(&r, "\n\n(unclosed -> cached\n", &line, err, sizeof(err)),
                 -EINVAL);
    CHECK_EQ_INT(line, 3);
    CHECK_CONTAINS(err, "bad pattern");
    CHECK_EQ_INT(mw_rules_load(&r, "/nonexistent/rules", &line, err, sizeof(err)), -ENOENT);
    CHECK_EQ_INT(line, 0);
}

int main(void)
{
    RUN(test_parse_and_match);
    RUN(test_errors);
    return TESTS_DONE();
}
