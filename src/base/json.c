#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

/* ---- writer: two sinks ------------------------------------------------- */

void mw_json_init(struct mw_json *j, FILE *f, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
    j->pretty = pretty;
    j->first[0] = true;
}

void mw_json_init_buf(struct mw_json *j, char *buf, size_t cap, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->buf = buf;
    j->cap = cap;
    j->pretty = pretty;
    j->first[0] = true;
    if (cap > 0)
        buf[0] = '\0';
    else
        j->truncated = true;
}

size_t mw_json_buf_len(const struct mw_json *j)
{
    return j->len;
}

bool mw_json_truncated(const struct mw_json *j)
{
    return j->truncated;
}

/* Every byte of output goes through here. */
static void out(struct mw_json *j, const char *s, size_t n)
{
    if (j->f) {
        fwrite(s, 1, n, j->f);
        return;
    }
    if (j->truncated)
        return;
    if (n >= j->cap - j->len) {
        n = j->cap - j->len - 1;
        j->truncated = true;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void out_s(struct mw_json *j, const char *s)
{
    out(j, s, strlen(s));
}

static void out_c(struct mw_json *j, char c)
{
    out(j, &c, 1);
}

/* The one escaper (the rule is in json.h). Runs of bytes that need no
 * escape are written in one piece. */
static void put_string(struct mw_json *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of plain bytes */
    out_c(j, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        char esc[8];
        const char *e = NULL;
        size_t len = 1;
        if (c >= 0x80) {
            len = mw_utf8_seq(u + i, n - i, NULL);
            if (len == 0) {
                e = "\\ufffd";
                len = 1;
            }
        } else if (c == '"') {
            e = "\\\"";
        } else if (c == '\\') {
            e = "\\\\";
        } else if (c == '\n') {
            e = "\\n";
        } else if (c == '\t') {
            e = "\\t";
        } else if (c == '\r') {
            e = "\\r";
        } else if (c == '\b') {
            e = "\\b";
        } else if (c == '\f') {
            e = "\\f";
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc[6] = '\0';
            e = esc;
        }
        if (e) {
            out(j, s + run, i - run);
            out_s(j, e);
            run = i + len;
        }
        i += len;
    }
    out(j, s + run, n - run);
    out_c(j, '"');
}

/* Writes the separator, indentation and "key": before a value. */
static void member(struct mw_json *j, const char *key)
{
    if (!j->first[j->depth])
        out_c(j, ',');
    if (j->pretty && j->depth > 0) {
        out_c(j, '\n');
        for (int i = 0; i < j->depth; i++)
            out(j, "  ", 2);
    }
    j->first[j->depth] = false;
    if (key) {
        put_string(j, key, strlen(key));
        out_s(j, j->pretty ? ": " : ":");
    }
}

static void open_container(struct mw_json *j, const char *key, char c)
{
    member(j, key);
    out_c(j, c);
    if (j->depth + 1 < MW_JSON_MAX_DEPTH)
        j->depth++;
    j->first[j->depth] = true;
}

static void close_container(struct mw_json *j, char c)
{
    bool empty = j->first[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (j->pretty && !empty) {
        out_c(j, '\n');
        for (int i = 0; i < j->depth; i++)
            out(j, "  ", 2);
    }
    out_c(j, c);
}

void mw_json_object_begin(struct mw_json *j, const char *key)
{
    open_container(j, key, '{');
}

void mw_json_object_end(struct mw_json *j)
{
    close_container(j, '}');
}

void mw_json_array_begin(struct mw_json *j, const char *key)
{
    open_container(j, key, '[');
}

void mw_json_array_end(struct mw_json *j)
{
    close_container(j, ']');
}

void mw_json_u64(struct mw_json *j, const char *key, uint64_t v)
{
    char buf[24];
    member(j, key);
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    out_s(j, buf);
}

void mw_json_i64(struct mw_json *j, const char *key, int64_t v)
{
    char buf[24];
    member(j, key);
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    out_s(j, buf);
}

void mw_json_fixed(struct mw_json *j, const char *key, double v, int decimals)
{
    member(j, key);
    if (!isfinite(v)) {
        out_s(j, "null");
        return;
    }
    char buf[400]; /* %f of DBL_MAX has 309 digits */
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    /* Trim trailing zeros so 2.500 prints 2.5 and 3.000 prints 3. */
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
    out_s(j, buf);
}

void mw_json_double(struct mw_json *j, const char *key, double v)
{
    mw_json_fixed(j, key, v, 3);
}

void mw_json_strn(struct mw_json *j, const char *key, const char *v, size_t n)
{
    member(j, key);
    put_string(j, v, n);
}

void mw_json_str(struct mw_json *j, const char *key, const char *v)
{
    if (!v) {
        mw_json_null(j, key);
        return;
    }
    mw_json_strn(j, key, v, strlen(v));
}

void mw_json_bool(struct mw_json *j, const char *key, bool v)
{
    member(j, key);
    out_s(j, v ? "true" : "false");
}

void mw_json_null(struct mw_json *j, const char *key)
{
    member(j, key);
    out_s(j, "null");
}

void mw_json_finish(struct mw_json *j)
{
    out_c(j, '\n');
}

/* ---- reader ------------------------------------------------------------ */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hex_val(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

/* The four hex digits at P (END bounds them): the code unit, or -1. */
static long hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_val(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* A string at P: the position after its closing quote, or NULL. */
static const char *scan_string(const char *p, const char *end)
{
    if (p >= end || *p != '"')
        return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* raw control bytes (NUL too) are not JSON */
        if (c != '\\')
            continue;
        if (++p >= end)
            return NULL;
        if (*p == 'u') {
            if (hex4(p + 1, end) < 0)
                return NULL;
            p += 4;
        } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
            return NULL;
        }
    }
    return NULL;
}

static const char *scan_digits(const char *p, const char *end)
{
    const char *s = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p > s ? p : NULL;
}

/* A number at P (RFC 8259 grammar): the position after it, or NULL. */
static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (!(p = scan_digits(p, end)))
        return NULL;
    if (p < end && *p == '.' && !(p = scan_digits(p + 1, end)))
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!(p = scan_digits(p, end)))
            return NULL;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

static const char *scan_value(const char *p, const char *end, int depth, struct mw_json_val *v);

/* The inside of a container after its opening bracket at depth DEPTH:
 * the position after its closing bracket, or NULL. */
static const char *scan_members(const char *p, const char *end, int depth, bool object)
{
    char close = object ? '}' : ']';
    struct mw_json_val v;
    p = skip_ws(p, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (object) {
            if (!(p = scan_string(p, end)))
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_ws(p + 1, end);
        }
        if (!(p = scan_value(p, end, depth, &v)))
            return NULL;
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

/* One value at P (no leading white space), nested in DEPTH containers:
 * the position after it, or NULL. Recursion is bounded by
 * MW_JSON_MAX_DEPTH. */
static const char *scan_value(const char *p, const char *end, int depth, struct mw_json_val *v)
{
    const char *e = NULL;
    if (p >= end)
        return NULL;
    switch (*p) {
    case '{':
    case '[':
        if (depth >= MW_JSON_MAX_DEPTH)
            return NULL;
        v->type = *p == '{' ? MW_JSON_OBJECT : MW_JSON_ARRAY;
        e = scan_members(p + 1, end, depth + 1, *p == '{');
        break;
    case '"':
        v->type = MW_JSON_STRING;
        e = scan_string(p, end);
        break;
    case 't':
        v->type = MW_JSON_TRUE;
        e = scan_literal(p, end, "true");
        break;
    case 'f':
        v->type = MW_JSON_FALSE;
        e = scan_literal(p, end, "false");
        break;
    case 'n':
        v->type = MW_JSON_NULL;
        e = scan_literal(p, end, "null");
        break;
    default:
        v->type = MW_JSON_NUMBER;
        e = scan_number(p, end);
    }
    if (!e)
        return NULL;
    v->p = p;
    v->n = (size_t)(e - p);
    return e;
}

int mw_json_parse(const char *buf, size_t len, struct mw_json_val *out)
{
    const char *end = buf + len;
    struct mw_json_val v;
    const char *p = skip_ws(buf, end);
    if (!(p = scan_value(p, end, 0, &v)) || skip_ws(p, end) != end)
        return -EINVAL;
    *out = v;
    return 0;
}

int mw_json_iter_init(struct mw_json_iter *it, const struct mw_json_val *v)
{
    if ((v->type != MW_JSON_OBJECT && v->type != MW_JSON_ARRAY) || v->n < 2)
        return -EINVAL;
    it->p = v->p + 1;
    it->end = v->p + v->n - 1; /* the closing bracket */
    it->object = v->type == MW_JSON_OBJECT;
    it->started = false;
    return 0;
}

int mw_json_iter_next(struct mw_json_iter *it, struct mw_json_val *key, struct mw_json_val *val)
{
    const char *p = skip_ws(it->p, it->end);
    if (p >= it->end)
        return 0;
    if (it->started) {
        if (*p != ',')
            return -EINVAL;
        p = skip_ws(p + 1, it->end);
    }
    key->type = MW_JSON_NONE;
    key->p = p;
    key->n = 0;
    if (it->object) {
        const char *k = p;
        if (!(p = scan_string(p, it->end)))
            return -EINVAL;
        key->type = MW_JSON_STRING;
        key->n = (size_t)(p - k);
        p = skip_ws(p, it->end);
        if (p >= it->end || *p != ':')
            return -EINVAL;
        p = skip_ws(p + 1, it->end);
    }
    /* depth 0: the container was checked as a whole by mw_json_parse;
     * a member can only be shallower than it */
    if (!(p = scan_value(p, it->end, 0, val)))
        return -EINVAL;
    it->p = p;
    it->started = true;
    return 1;
}

/* Appends code point CP as UTF-8 to OUT at *O when it fits in CAP (with
 * room for the NUL); *FULL stops all further writing once one did not. */
static void put_cp(char *out, size_t cap, size_t *o, bool *full, unsigned long cp, size_t *total)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    *total += n;
    if (*full || *o + n >= cap) {
        *full = true;
        return;
    }
    memcpy(out + *o, u, n);
    *o += n;
}

/* One escape after the backslash at P (bounded by END): the code point in
 * *CP, the position after the escape returned. */
static const char *unescape(const char *p, const char *end, unsigned long *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (*p != 'u') {
        const char *k = strchr(from, *p);
        *cp = k ? (unsigned char)to[k - from] : 0xfffd;
        return p + 1;
    }
    long hi = hex4(p + 1, end);
    if (hi < 0) { /* cut short: mw_json_parse would have refused it */
        *cp = 0xfffd;
        return end;
    }
    p += 5;
    *cp = hi == 0 ? 0xfffd : (unsigned long)hi;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        *cp = 0xfffd; /* a low surrogate alone */
    } else if (hi >= 0xd800 && hi <= 0xdbff) {
        long lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2, end) : -1;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
            p += 6;
        } else {
            *cp = 0xfffd;
        }
    }
    return p;
}

long mw_json_get_str(const struct mw_json_val *v, char *out, size_t cap)
{
    if (v->type != MW_JSON_STRING || v->n < 2)
        return -EINVAL;
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    size_t o = 0, total = 0;
    bool full = cap == 0;
    while (p < end) {
        unsigned long cp;
        if (*p == '\\' && p + 1 < end) {
            p = unescape(p + 1, end, &cp);
        } else {
            unsigned u = 0;
            size_t len = mw_utf8_seq((const unsigned char *)p, (size_t)(end - p), &u);
            cp = len ? u : 0xfffd;
            p += len ? len : 1;
        }
        put_cp(out, cap, &o, &full, cp, &total);
    }
    if (cap > 0)
        out[o] = '\0';
    return (long)total;
}

bool mw_json_key_is(const struct mw_json_val *key, const char *name)
{
    char buf[256];
    size_t n = strlen(name);
    if (key->type != MW_JSON_STRING)
        return false;
    if (!memchr(key->p, '\\', key->n)) /* the usual case: compare the raw text */
        return key->n == n + 2 && memcmp(key->p + 1, name, n) == 0;
    long got = mw_json_get_str(key, buf, sizeof(buf));
    return got >= 0 && (size_t)got == n && (size_t)got < sizeof(buf) && memcmp(buf, name, n) == 0;
}

int mw_json_find(const struct mw_json_val *obj, const char *key, struct mw_json_val *out)
{
    struct mw_json_iter it;
    struct mw_json_val k, v;
    int rc;
    if (obj->type != MW_JSON_OBJECT || mw_json_iter_init(&it, obj) < 0)
        return -EINVAL;
    while ((rc = mw_json_iter_next(&it, &k, &v)) > 0) {
        if (mw_json_key_is(&k, key)) {
            *out = v;
            return 0;
        }
    }
    return rc < 0 ? rc : -ENOENT;
}

int mw_json_get_u64(const struct mw_json_val *v, uint64_t *out)
{
    if (v->type != MW_JSON_NUMBER || v->n == 0)
        return -EINVAL;
    uint64_t x = 0;
    for (size_t i = 0; i < v->n; i++) {
        char c = v->p[i];
        if (c < '0' || c > '9')
            return -EINVAL;
        unsigned d = (unsigned)(c - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -ERANGE;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

int mw_json_get_double(const struct mw_json_val *v, double *out)
{
    char tmp[64];
    if (v->type != MW_JSON_NUMBER || v->n == 0)
        return -EINVAL;
    if (v->n >= sizeof(tmp))
        return -ERANGE;
    memcpy(tmp, v->p, v->n);
    tmp[v->n] = '\0';
    char *e;
    errno = 0;
    double d = strtod(tmp, &e);
    if (*e != '\0')
        return -EINVAL;
    if (!isfinite(d))
        return -ERANGE;
    *out = d;
    return 0;
}

int mw_json_get_bool(const struct mw_json_val *v, bool *out)
{
    if (v->type != MW_JSON_TRUE && v->type != MW_JSON_FALSE)
        return -EINVAL;
    *out = v->type == MW_JSON_TRUE;
    return 0;
}
