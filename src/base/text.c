#include "base/text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t mw_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len;
    unsigned v, min;
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0; /* a continuation byte or 0xf8..0xff */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    if (cp)
        *cp = v;
    return len;
}

/* One character of S at I: its length in S (>= 1) and whether it may be
 * shown as it is. */
static size_t text_char(const unsigned char *s, size_t n, bool *showable)
{
    unsigned cp = 0;
    size_t len = mw_utf8_seq(s, n, &cp);
    if (len == 0) {
        *showable = false;
        return 1;
    }
    *showable = !(cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f));
    return len;
}

size_t mw_text_clean(char *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        bool ok;
        size_t len = text_char(u + i, n - i, &ok);
        size_t need = ok ? len : 1;
        if (o + need >= cap)
            break;
        if (ok) {
            for (size_t k = 0; k < len; k++)
                out[o++] = s[i + k];
        } else {
            out[o++] = '?';
        }
        i += len;
    }
    out[o] = '\0';
    return o;
}

/* mw_text_put, returning the characters written. */
static size_t text_put(FILE *f, const char *s, size_t n, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t chars = 0;
    for (size_t i = 0; i < n && (!max || chars < max); chars++) {
        bool ok;
        size_t len = text_char(u + i, n - i, &ok);
        if (ok)
            fwrite(s + i, 1, len, f);
        else
            fputc('?', f);
        i += len;
    }
    return chars;
}

void mw_text_put(FILE *f, const char *s, size_t n, size_t max)
{
    text_put(f, s, n, max);
}

void mw_text_put_cell(FILE *f, const char *s, size_t width, bool cut)
{
    for (size_t chars = text_put(f, s, strlen(s), cut ? width : 0); chars < width; chars++)
        fputc(' ', f);
}

void mw_text_put_markup(FILE *f, const char *s, size_t n)
{
    char *clean = malloc(n + 1); /* cleaning never lengthens: one '?' a bad byte */
    if (!clean)
        return;
    size_t len = mw_text_clean(clean, n + 1, s, n);
    for (size_t i = 0; i < len; i++) {
        switch (clean[i]) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(clean[i], f);
        }
    }
    free(clean);
}
