#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "base/text.h"

static void test_utf8_seq(void)
{
    unsigned cp = 0;
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"a", 1, &cp), 1);
    CHECK_EQ_U64(cp, 'a');
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xc3\xa9", 2, &cp), 2); /* é */
    CHECK_EQ_U64(cp, 0xe9);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xe2\x86\x91", 3, &cp), 3); /* ↑ */
    CHECK_EQ_U64(cp, 0x2191);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    CHECK_EQ_U64(cp, 0x1f600);
    /* invalid: lone continuation, 0xff, overlong '/', surrogate, > U+10FFFF, cut */
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\x80", 1, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xff", 1, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xc0\xaf", 2, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"\xe2\x86", 2, NULL), 0);
    CHECK_EQ_U64(mw_utf8_seq((const unsigned char *)"", 0, NULL), 0);
}

static void test_clean(void)
{
    char out[64];
    /* a name that tries to start a journald priority line and move the cursor */
    const char *evil = "x\n<0>\x1b[2J\x9b"
                       "1m\xc2\x9b"
                       "end\xff";
    mw_text_clean(out, sizeof(out), evil, strlen(evil));
    CHECK_STR(out, "x?<0>?[2J?1m?end?");
    mw_text_clean(out, sizeof(out), "caf\xc3\xa9", 5);
    CHECK_STR(out, "caf\xc3\xa9");
    /* a cut never splits a character: "ab" + é needs 5 bytes with the NUL */
    CHECK_EQ_U64(mw_text_clean(out, 4, "ab\xc3\xa9", 4), 2);
    CHECK_STR(out, "ab");
    CHECK_EQ_U64(mw_text_clean(out, 1, "abc", 3), 0);
    CHECK_STR(out, "");
}

static void test_put(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mw_text_put(f, "\xc3\xa9t\xc3\xa9\x07", 6, 2); /* two characters: é and t */
    fputc('|', f);
    mw_text_put(f, "a\tb\x7f", 4, 0);
    fclose(f);
    CHECK_STR(buf, "\xc3\xa9t|a?b?");
    free(buf);
}

int main(void)
{
    RUN(test_utf8_seq);
    RUN(test_clean);
    RUN(test_put);
    return TESTS_DONE();
}
