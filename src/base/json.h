/* json: a small streaming JSON writer. Output is deterministic (keys in the
 * order written, fixed number formats) so golden files can compare it. */
#ifndef MW_JSON_H
#define MW_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MW_JSON_MAX_DEPTH 32

struct mw_json {
    FILE *f;
    bool pretty; /* indented, one member a line; false: one line (JSON lines) */
    int depth;
    bool first[MW_JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

/* Starts writing to F. PRETTY selects indented output. */
void mw_json_init(struct mw_json *j, FILE *f, bool pretty);

/* Containers. KEY is the member name inside an object, NULL inside an
 * array or at the top level. */
void mw_json_object_begin(struct mw_json *j, const char *key);
void mw_json_object_end(struct mw_json *j);
void mw_json_array_begin(struct mw_json *j, const char *key);
void mw_json_array_end(struct mw_json *j);

/* Scalars; KEY as above. Strings are escaped (control bytes as \u00XX,
 * invalid UTF-8 passed through byte by byte). Doubles print with at most
 * DECIMALS decimals (mw_json_double uses 3); NaN and infinity print null. */
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

#endif
