/* json: memwarden's one JSON module — one writer (to a FILE or into a
 * caller's fixed buffer), one string escaper, and one reader.
 *
 * Writer: output is deterministic (keys in the order written, fixed number
 * formats) so golden files can compare it. Every string is escaped by one
 * rule, so every document written is valid UTF-8 and valid JSON:
 *   - '"' and '\' are escaped with a backslash;
 *   - \n \t \r \b \f use their short forms; every other byte below 0x20,
 *     and DEL (0x7f), is written as \u00XX (lower-case hex);
 *   - a valid UTF-8 sequence (mw_utf8_seq in base/text.h: shortest form,
 *     no surrogates, <= U+10FFFF) passes unchanged;
 *   - each byte that does not start a valid sequence becomes U+FFFD, written
 *     as the six characters \ufffd. So a command line holding byte 0xff
 *     reads back as "\ufffd" (the replacement character), never as 0xff.
 *
 * Reader: bounded and allocation-free. mw_json_parse checks that a buffer
 * (which may hold NUL bytes: it is a length, not a C string) is exactly one
 * JSON value, nested at most MW_JSON_MAX_DEPTH deep; the value is then
 * walked with mw_json_iter_* and read with mw_json_get_*. Nothing reads
 * outside the LEN bytes given. */
#ifndef MW_JSON_H
#define MW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MW_JSON_MAX_DEPTH 32

/* ---- writer ------------------------------------------------------------ */

struct mw_json {
    FILE *f; /* the stream sink; NULL: the buffer sink below */
    char *buf;
    size_t cap, len;
    bool truncated; /* the buffer sink ran out of room */
    bool pretty;    /* indented, one member a line; false: one line (JSON lines) */
    int depth;
    bool first[MW_JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

/* Starts writing to F. PRETTY selects indented output. */
void mw_json_init(struct mw_json *j, FILE *f, bool pretty);

/* Starts writing into BUF (CAP bytes, CAP > 0), for paths that must not
 * allocate (the daemon's kill path). BUF is NUL-terminated after every
 * call. When the document does not fit, BUF keeps what fitted (not valid
 * JSON then) and mw_json_truncated says so. */
void mw_json_init_buf(struct mw_json *j, char *buf, size_t cap, bool pretty);

/* Bytes written into the buffer so far (excluding the NUL). */
size_t mw_json_buf_len(const struct mw_json *j);

/* True when the buffer sink had to drop output. */
bool mw_json_truncated(const struct mw_json *j);

/* Containers. KEY is the member name inside an object, NULL inside an
 * array or at the top level. */
void mw_json_object_begin(struct mw_json *j, const char *key);
void mw_json_object_end(struct mw_json *j);
void mw_json_array_begin(struct mw_json *j, const char *key);
void mw_json_array_end(struct mw_json *j);

/* Scalars; KEY as above. Strings are escaped as the header comment says.
 * Doubles print with at most DECIMALS decimals (mw_json_double uses 3),
 * trailing zeros trimmed; NaN and infinity print null. */
void mw_json_u64(struct mw_json *j, const char *key, uint64_t v);
void mw_json_i64(struct mw_json *j, const char *key, int64_t v);
void mw_json_double(struct mw_json *j, const char *key, double v);
void mw_json_fixed(struct mw_json *j, const char *key, double v, int decimals);
void mw_json_str(struct mw_json *j, const char *key, const char *v);
void mw_json_strn(struct mw_json *j, const char *key, const char *v, size_t n);
void mw_json_bool(struct mw_json *j, const char *key, bool v);
void mw_json_null(struct mw_json *j, const char *key);

/* Ends the document: a newline after the top-level value. */
void mw_json_finish(struct mw_json *j);

/* ---- reader ------------------------------------------------------------ */

enum mw_json_type {
    MW_JSON_NONE = 0, /* no value (an array member's key) */
    MW_JSON_NULL,
    MW_JSON_FALSE,
    MW_JSON_TRUE,
    MW_JSON_NUMBER,
    MW_JSON_STRING,
    MW_JSON_ARRAY,
    MW_JSON_OBJECT,
};

/* One value in the input: its type and its text P[0..N) (a string with its
 * quotes, a container with its brackets). Points into the caller's buffer,
 * which must outlive it. */
struct mw_json_val {
    enum mw_json_type type;
    const char *p;
    size_t n;
};

/* Checks that BUF (LEN bytes; NUL bytes are no terminator, they are
 * invalid) holds exactly one JSON value, with optional white space around
 * it: strict RFC 8259 grammar, raw control bytes inside strings refused,
 * containers nested at most MW_JSON_MAX_DEPTH deep. Raw bytes >= 0x80 in
 * strings are accepted as they are (mw_json_get_str repairs them).
 * Returns 0 and the value in *OUT, or -EINVAL (*OUT untouched). */
int mw_json_parse(const char *buf, size_t len, struct mw_json_val *out);

/* Walks the members of an object or the elements of an array. */
struct mw_json_iter {
    const char *p, *end;
    bool object, started;
};

/* Starts a walk over V. Returns 0, or -EINVAL when V is not a container. */
int mw_json_iter_init(struct mw_json_iter *it, const struct mw_json_val *v);

/* The next member: its key (a string value; type MW_JSON_NONE in an array)
 * and its value. Returns 1, 0 at the end, or -EINVAL on malformed input
 * (never after mw_json_parse accepted the container). */
int mw_json_iter_next(struct mw_json_iter *it, struct mw_json_val *key, struct mw_json_val *val);

/* True when the string value KEY decodes to exactly NAME. */
bool mw_json_key_is(const struct mw_json_val *key, const char *name);

/* The first member of object OBJ named KEY. Returns 0, -ENOENT when there
 * is none, -EINVAL when OBJ is not an object. OUT untouched on failure. */
int mw_json_find(const struct mw_json_val *obj, const char *key, struct mw_json_val *out);

/* Decodes string value V into OUT (CAP bytes, NUL-terminated when CAP > 0),
 * cut at a character boundary when it does not fit. The result is always
 * valid UTF-8: a \u escape becomes its UTF-8 form (surrogate pairs joined),
 * and a lone surrogate, \u0000 (OUT is a C string) and a raw byte that is
 * not valid UTF-8 each become U+FFFD. Returns the decoded length in bytes
 * (as snprintf: >= CAP means OUT was cut), or -EINVAL when V is not a
 * string. */
long mw_json_get_str(const struct mw_json_val *v, char *out, size_t cap);

/* A number that is a plain non-negative integer (no sign, fraction or
 * exponent). Returns 0, -EINVAL (another type or form), -ERANGE (above
 * UINT64_MAX). OUT untouched on failure. */
int mw_json_get_u64(const struct mw_json_val *v, uint64_t *out);

/* Any number. Returns 0, -EINVAL (not a number), -ERANGE (more than 63
 * characters, or beyond the range of a double). OUT untouched on failure. */
int mw_json_get_double(const struct mw_json_val *v, double *out);

/* true or false. Returns 0 or -EINVAL. OUT untouched on failure. */
int mw_json_get_bool(const struct mw_json_val *v, bool *out);

#endif
