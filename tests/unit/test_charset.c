#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "base/charset.h"

static void test_codesets(void)
{
    CHECK(mw_charset_is_utf8(NULL, NULL, "en_US.UTF-8"));
    CHECK(mw_charset_is_utf8(NULL, NULL, "C.utf8"));
    CHECK(mw_charset_is_utf8(NULL, NULL, "C.UTF-8"));
    CHECK(mw_charset_is_utf8(NULL, NULL, "de_DE.utf-8@euro"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, NULL));
    CHECK(!mw_charset_is_utf8(NULL, NULL, ""));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "C"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "POSIX"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "en_US"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "en_US.ISO-8859-1"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "ja_JP.eucJP"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "xx.utf8x"));
    CHECK(!mw_charset_is_utf8(NULL, NULL, "en_US@utf8")); /* a modifier, not the codeset */
}

static void test_precedence(void)
{
    /* LC_ALL over LC_CTYPE over LANG; empty counts as unset */
    CHECK(!mw_charset_is_utf8("C", "en_US.UTF-8", "en_US.UTF-8"));
    CHECK(mw_charset_is_utf8("C.UTF-8", "C", "C"));
    CHECK(!mw_charset_is_utf8(NULL, "POSIX", "en_US.UTF-8"));
    CHECK(mw_charset_is_utf8("", "", "en_US.UTF-8"));
    CHECK(mw_charset_is_utf8("", "C.UTF-8", "C"));
}

static void test_env(void)
{
    setenv("LC_ALL", "", 1);
    setenv("LC_CTYPE", "", 1);
    setenv("LANG", "C.UTF-8", 1);
    CHECK(mw_charset_utf8());
    setenv("LC_ALL", "C", 1);
    CHECK(!mw_charset_utf8());
    unsetenv("LC_ALL");
    unsetenv("LC_CTYPE");
    unsetenv("LANG");
    CHECK(!mw_charset_utf8());
}

int main(void)
{
    RUN(test_codesets);
    RUN(test_precedence);
    RUN(test_env);
    return TESTS_DONE();
}
