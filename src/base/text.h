/* text: bytes from other people (process names, command lines, host names,
 * log lines) made safe to show. One rule for every text output: valid UTF-8
 * passes, everything a terminal could act on does not — C0 controls, DEL,
 * the C1 range (U+0080..U+009F, which includes the 8-bit CSI), and bytes
 * that are not valid UTF-8 each become one '?'. The JSON writer uses the
 * same UTF-8 decoder, so text and JSON agree on what a character is. */
#ifndef MW_TEXT_H
#define MW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at S (at most N bytes available):
 * 1..4, or 0 when S[0] does not start a valid, shortest-form sequence of
 * a scalar value (overlong forms, surrogates and > U+10FFFF are invalid).
 * The decoded code point goes to *CP when CP is not NULL and the result
 * is > 0. N == 0 returns 0. */
size_t mw_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* Writes S (N bytes) cleaned as above into OUT (CAP bytes, NUL-terminated
 * when CAP > 0), cut at a character boundary when it does not fit.
 * Returns the number of bytes written, excluding the NUL. */
size_t mw_text_clean(char *out, size_t cap, const char *s, size_t n);

/* Writes S (N bytes) cleaned to F. MAX > 0 caps the number of characters
 * written (a character is a valid sequence or one replaced byte); 0: no cap. */
void mw_text_put(FILE *f, const char *s, size_t n, size_t max);

/* Writes S cleaned to F as one table cell of WIDTH characters: cut to WIDTH
 * when CUT (never inside a character), then padded with spaces to WIDTH
 * (columns are counted in characters, not bytes, so UTF-8 names line up). */
void mw_text_put_cell(FILE *f, const char *s, size_t width, bool cut);

/* Writes S (N bytes) cleaned as above, then escaped for HTML and XML text
 * and attribute values (& < > " ' as entities), to F: the one escaper of
 * the report's page and the soak's JUnit file. */
void mw_text_put_markup(FILE *f, const char *s, size_t n);

#endif
