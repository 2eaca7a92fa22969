/* users: uid -> user name from ROOT/etc/passwd, read by memwarden itself
 * (no getpwuid: it must work on a captured tree and in a static musl
 * build, where NSS is not there). */
#ifndef MW_USERS_H
#define MW_USERS_H

#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

struct mw_user {
    uid_t uid;
    char name[33]; /* login names are at most 32 bytes */
};

struct mw_users {
    struct mw_user *v; /* sorted by uid; the first entry wins on duplicates */
    size_t n;
};

/* Parses passwd text ("name:x:uid:gid:gecos:home:shell" lines); comments,
 * blank and malformed lines are skipped. OUT must be zeroed or freed.
 * Returns the number of users (>= 0) or -ENOMEM. */
int mw_users_parse_buf(struct mw_users *out, const char *buf);

/* Reads ROOT/etc/passwd. A missing file gives an empty table (names fall
 * back to numbers). Returns the count or -errno (-ENOMEM). */
int mw_users_read(const struct mw_root *root, struct mw_users *out);

/* The name of UID, or NULL when passwd does not list it. */
const char *mw_users_name(const struct mw_users *u, uid_t uid);

/* Writes the name of UID, or its number, into BUF. Returns BUF. */
const char *mw_users_fmt(const struct mw_users *u, uid_t uid, char *buf, size_t cap);

/* Resolves a user name or a decimal uid. Returns 0 or -ENOENT. */
int mw_users_lookup(const struct mw_users *u, const char *name_or_uid, uid_t *uid);

void mw_users_free(struct mw_users *u);

#endif
