/* The JSON module: the escaper's one rule (short forms, \u00XX, invalid
 * UTF-8 as \ufffd), the buffer sink and its truncation, and the reader on
 * good and hostile input (truncated, deeply nested, huge numbers, NUL
 * bytes, bad escapes), including a round trip of every byte value. */
#include "harness.h"

#include <stdint.h>

#include "base/json.h"
#include "base/text.h"

/* Writes one string member into a buffer and returns the buffer. */
static const char *esc(const char *s, size_t n)
{
    static char buf[512];
    struct mw_json j;
    mw_json_init_buf(&j, buf, sizeof(buf), false);
    mw_json_strn(&j, NULL, s, n);
    return buf;
}

static void test_escaper_rule(void)
{
    CHECK_STR(esc("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    CHECK_STR(esc("\n\t\r\b\f", 5), "\"\\n\\t\\r\\b\\f\"");
    CHECK_STR(esc("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
    CHECK_STR(esc("x\0y", 3), "\"x\\u0000y\"");
    /* valid UTF-8 passes, C1 included (JSON allows it; text output does not) */
    CHECK_STR(esc("na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x9b", 18),
              "\"na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x9b\"");
    /* every byte that starts no valid sequence is one U+FFFD */
    CHECK_STR(esc("a\xff"
                  "b",
                  3),
              "\"a\\ufffdb\"");
    CHECK_STR(esc("\xc3", 1), "\"\\ufffd\"");                                  /* cut sequence */
    CHECK_STR(esc("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");                       /* overlong */
    CHECK_STR(esc("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");            /* surrogate */
    CHECK_STR(esc("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > 10FFFF */
}

static void test_buffer_sink(void)
{
    char buf[64];
    struct mw_json j;
    mw_json_init_buf(&j, buf, sizeof(buf), false);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "a", 1);
    mw_json_str(&j, "s", "x");
    mw_json_fixed(&j, "f", 12.30, 2);
    mw_json_bool(&j, "b", true);
    mw_json_object_end(&j);
    mw_json_finish(&j);
    CHECK_STR(buf, "{\"a\":1,\"s\":\"x\",\"f\":12.3,\"b\":true}\n");
    CHECK_EQ_U64(mw_json_buf_len(&j), strlen(buf));
    CHECK(!mw_json_truncated(&j));
    /* the same document through a FILE is byte for byte the same */
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    mw_json_init(&j, f, false);
    mw_json_object_begin(&j, NULL);
    mw_json_u64(&j, "a", 1);
    mw_json_str(&j, "s", "x");
    mw_json_fixed(&j, "f", 12.30, 2);
    mw_json_bool(&j, "b", true);
    mw_json_object_end(&j);
    mw_json_finish(&j);
    fclose(f);
    CHECK_STR(mem, buf);
    free(mem);
    /* too small: a terminated prefix, and it says so */
    char small[10];
    mw_json_init_buf(&j, small, sizeof(small), false);
    mw_json_object_begin(&j, NULL);
    mw_json_str(&j, "key", "a long value");
    mw_json_object_end(&j);
    CHECK(mw_json_truncated(&j));
    CHECK_EQ_U64(strlen(small), 9);
    CHECK_EQ_U64(mw_json_buf_len(&j), 9);
    CHECK_STR(small, "{\"key\":\"a");
    /* a huge double is printed whole, not cut */
    char big[512];
    mw_json_init_buf(&j, big, sizeof(big), false);
    mw_json_double(&j, NULL, 1e300);
    CHECK(!mw_json_truncated(&j));
    CHECK_EQ_U64(strlen(big), 301);
}

static int parse(const char *s, struct mw_json_val *v)
{
    return mw_json_parse(s, strlen(s), v);
}

static void test_reader_members(void)
{
    struct mw_json_val v, k, m;
    const char *doc = " {\"pid\": 42, \"name\": \"a\\\"b\\u00e9\\ud83d\\ude00\", \"ok\": true,"
                      " \"nested\": {\"x\": [1, {\"y\": null}], \"z\": \"}\"}, \"neg\": -1.5e2,"
                      " \"arr\": [], \"last\": false} \n";
    CHECK_EQ_INT(parse(doc, &v), 0);
    CHECK_EQ_INT(v.type, MW_JSON_OBJECT);
    struct mw_json_iter it;
    CHECK_EQ_INT(mw_json_iter_init(&it, &v), 0);
    int n = 0;
    while (mw_json_iter_next(&it, &k, &m) > 0)
        n++;
    CHECK_EQ_INT(n, 7);
    uint64_t u = 0;
    CHECK_EQ_INT(mw_json_find(&v, "pid", &m), 0);
    CHECK_EQ_INT(mw_json_get_u64(&m, &u), 0);
    CHECK_EQ_U64(u, 42);
    char s[64];
    CHECK_EQ_INT(mw_json_find(&v, "name", &m), 0);
    CHECK_EQ_INT(mw_json_get_str(&m, s, sizeof(s)), 9);
    CHECK_STR(s, "a\"b\xc3\xa9\xf0\x9f\x98\x80");
    /* cut at a character boundary, snprintf's return */
    CHECK_EQ_INT(mw_json_get_str(&m, s, 5), 9);
    CHECK_STR(s, "a\"b");
    bool b = false;
    CHECK_EQ_INT(mw_json_find(&v, "ok", &m), 0);
    CHECK_EQ_INT(mw_json_get_bool(&m, &b), 0);
    CHECK(b);
    CHECK_EQ_INT(mw_json_get_u64(&m, &u), -EINVAL);
    double d = 0;
    CHECK_EQ_INT(mw_json_find(&v, "neg", &m), 0);
    CHECK_EQ_INT(mw_json_get_double(&m, &d), 0);
    CHECK_CLOSE(d, -150.0, 0.001);
    CHECK_EQ_INT(mw_json_get_u64(&m, &u), -EINVAL);
    /* members of nested objects are not members of the outer one */
    CHECK_EQ_INT(mw_json_find(&v, "x", &m), -ENOENT);
    CHECK_EQ_INT(mw_json_find(&v, "z", &m), -ENOENT);
    CHECK_EQ_INT(mw_json_find(&v, "nested", &m), 0);
    struct mw_json_val z;
    CHECK_EQ_INT(mw_json_find(&m, "z", &z), 0);
    CHECK_EQ_INT(mw_json_get_str(&z, s, sizeof(s)), 1);
    CHECK_STR(s, "}");
    CHECK_EQ_INT(mw_json_find(&v, "last", &m), 0);
    CHECK_EQ_INT(m.type, MW_JSON_FALSE);
    /* an escaped key still matches */
    CHECK_EQ_INT(parse("{\"p\\u0069d\":7}", &v), 0);
    CHECK_EQ_INT(mw_json_find(&v, "pid", &m), 0);
    /* not an object */
    CHECK_EQ_INT(parse("[1,2]", &v), 0);
    CHECK_EQ_INT(mw_json_find(&v, "pid", &m), -EINVAL);
}

static void test_reader_hostile(void)
{
    struct mw_json_val v;
    static const char *bad[] = {
        "",
        "   ",
        "{",
        "{\"a\":1",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "[1,2",
        "[1 2]",
        "\"unterminated",
        "\"bad escape \\x\"",
        "\"short \\u12\"",
        "\"raw \t tab\"",
        "01",
        "1.",
        "-",
        "1e",
        "+1",
        ".5",
        "tru",
        "nul",
        "{} {}",
        "{\"a\":1} trailing",
        "NaN",
        "Infinity",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i], &v);
        if (rc != -EINVAL)
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK_EQ_INT(rc, -EINVAL);
    }
    /* every prefix of a good document is refused, and reading never runs
     * past the length given (ASan checks the copy is not read beyond) */
    const char *good = "{\"a\":[1,2,{\"b\":\"c\\u00e9\"}],\"d\":-1e5,\"e\":null}";
    for (size_t n = 0; n < strlen(good); n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, good, n);
        CHECK_EQ_INT(mw_json_parse(cut, n, &v), -EINVAL);
        free(cut);
    }
    CHECK_EQ_INT(parse(good, &v), 0);
    /* NUL bytes are data, never a terminator; and never valid */
    CHECK_EQ_INT(mw_json_parse("{\"a\":1}\0garbage", 15, &v), -EINVAL);
    CHECK_EQ_INT(mw_json_parse("{\"a\":\"x\0y\"}", 11, &v), -EINVAL);
    CHECK_EQ_INT(mw_json_parse("{\"a\":1}", 8, &v), -EINVAL); /* the NUL after it */
    /* nesting: the limit holds, and a million brackets do not recurse deep */
    char deep[2 * MW_JSON_MAX_DEPTH + 1];
    for (int i = 0; i < MW_JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * MW_JSON_MAX_DEPTH - 1 - i] = ']';
    }
    deep[2 * MW_JSON_MAX_DEPTH] = '\0';
    CHECK_EQ_INT(parse(deep, &v), 0);
    size_t big = 1000000;
    char *many = malloc(2 * big);
    memset(many, '[', big);
    memset(many + big, ']', big);
    CHECK_EQ_INT(mw_json_parse(many, 2 * big, &v), -EINVAL);
    memset(many, '{', big);
    CHECK_EQ_INT(mw_json_parse(many, big, &v), -EINVAL);
    free(many);
    char over[2 * MW_JSON_MAX_DEPTH + 3];
    snprintf(over, sizeof(over), "[%s]", deep);
    CHECK_EQ_INT(parse(over, &v), -EINVAL);
    /* huge numbers: valid JSON, out of range for the getters */
    uint64_t u = 7;
    double d = 7;
    CHECK_EQ_INT(parse("18446744073709551615", &v), 0);
    CHECK_EQ_INT(mw_json_get_u64(&v, &u), 0);
    CHECK_EQ_U64(u, UINT64_MAX);
    CHECK_EQ_INT(parse("18446744073709551616", &v), 0);
    CHECK_EQ_INT(mw_json_get_u64(&v, &u), -ERANGE);
    CHECK_EQ_U64(u, UINT64_MAX); /* untouched */
    CHECK_EQ_INT(parse("1e999", &v), 0);
    CHECK_EQ_INT(mw_json_get_double(&v, &d), -ERANGE);
    CHECK_EQ_INT(mw_json_get_u64(&v, &u), -EINVAL);
    char digits[200];
    memset(digits, '9', sizeof(digits) - 1);
    digits[sizeof(digits) - 1] = '\0';
    CHECK_EQ_INT(parse(digits, &v), 0);
    CHECK_EQ_INT(mw_json_get_double(&v, &d), -ERANGE);
    CHECK_EQ_INT(mw_json_get_u64(&v, &u), -ERANGE);
    CHECK_EQ_INT(parse("-0", &v), 0);
    CHECK_EQ_INT(mw_json_get_u64(&v, &u), -EINVAL);
    /* lone surrogates and \u0000 decode to U+FFFD: the result is valid UTF-8 */
    char s[32];
    CHECK_EQ_INT(parse("\"\\ud800x\\udc00\\u0000\"", &v), 0);
    CHECK_EQ_INT(mw_json_get_str(&v, s, sizeof(s)), 10);
    CHECK_STR(s, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd");
    /* raw invalid UTF-8 in the input is repaired the same way */
    CHECK_EQ_INT(parse("\"a\xff\"", &v), 0);
    CHECK_EQ_INT(mw_json_get_str(&v, s, sizeof(s)), 4);
    CHECK_STR(s, "a\xef\xbf\xbd");
    CHECK_EQ_INT(mw_json_get_str(&v, s, 0), 4);
    CHECK_EQ_INT(parse("12", &v), 0);
    CHECK_EQ_INT(mw_json_get_str(&v, s, sizeof(s)), -EINVAL);
}

/* Every byte value, written and read back: the JSON is valid UTF-8, and
 * what comes back is the input with each invalid byte as U+FFFD. */
static void test_round_trip_all_bytes(void)
{
    char in[256], buf[2048], back[1024];
    for (int i = 0; i < 256; i++)
        in[i] = (char)(i == 0 ? ' ' : i);
    struct mw_json j;
    mw_json_init_buf(&j, buf, sizeof(buf), false);
    mw_json_object_begin(&j, NULL);
    mw_json_strn(&j, "s", in, sizeof(in));
    mw_json_object_end(&j);
    CHECK(!mw_json_truncated(&j));
    size_t len = mw_json_buf_len(&j);
    for (size_t i = 0; i < len;) {
        size_t l = mw_utf8_seq((const unsigned char *)buf + i, len - i, NULL);
        CHECK(l > 0);
        i += l ? l : 1;
    }
    struct mw_json_val v, s;
    CHECK_EQ_INT(mw_json_parse(buf, len, &v), 0);
    CHECK_EQ_INT(mw_json_find(&v, "s", &s), 0);
    long n = mw_json_get_str(&s, back, sizeof(back));
    CHECK_EQ_INT(n, 128 + 128 * 3); /* ASCII back as it was, 128 x U+FFFD */
    CHECK(memcmp(back, in, 128) == 0);
    CHECK(memcmp(back + 128, "\xef\xbf\xbd", 3) == 0);
}

int main(void)
{
    RUN(test_escaper_rule);
    RUN(test_buffer_sink);
    RUN(test_reader_members);
    RUN(test_reader_hostile);
    RUN(test_round_trip_all_bytes);
    return TESTS_DONE();
}
