#include "base/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void mw_json_init(struct mw_json *j, FILE *f, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
    j->pretty = pretty;
    j->first[0] = true;
}

static void put_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Writes the separator, indentation and "key": before a value. */
static void member(struct mw_json *j, const char *key)
{
    if (!j->first[j->depth])
        fputc(',', j->f);
    if (j->pretty && j->depth > 0) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    j->first[j->depth] = false;
    if (key) {
        put_string(j->f, key, strlen(key));
        fputs(j->pretty ? ": " : ":", j->f);
    }
}

static void open_container(struct mw_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
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
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(c, j->f);
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
    member(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void mw_json_i64(struct mw_json *j, const char *key, int64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void mw_json_fixed(struct mw_json *j, const char *key, double v, int decimals)
{
    member(j, key);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    char buf[64];
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
    fputs(buf, j->f);
}

void mw_json_double(struct mw_json *j, const char *key, double v)
{
    mw_json_fixed(j, key, v, 3);
}

void mw_json_strn(struct mw_json *j, const char *key, const char *v, size_t n)
{
    member(j, key);
    put_string(j->f, v, n);
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
    fputs(v ? "true" : "false", j->f);
}

void mw_json_null(struct mw_json *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}

void mw_json_finish(struct mw_json *j)
{
    fputc('\n', j->f);
}
