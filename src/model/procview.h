/* procview: how commands show one process record (struct mw_proc) — the
 * cells `top` and `prio` share, so an unreadable field ("?"), a cut user
 * name and a cleaned command line read the same in every table. */
#ifndef MW_PROCVIEW_H
#define MW_PROCVIEW_H

#include <stddef.h>

#include "base/json.h"
#include "model/proctable.h"
#include "proc/users.h"

/* oom_score_adj as a sort key, highest dies first: an unreadable one
 * (MW_PROC_NO_ADJ) gives -1001, below every real value. */
int mw_proc_adj_key(const struct mw_proc *p);

/* The Android class name of P's oom_score_adj ("cached", "foreground"),
 * or "?" when it was not readable. */
const char *mw_proc_class_cell(const struct mw_proc *p);

/* oom_score_adj / oom_score as decimal text into BUF, "?" when not
 * readable. Return BUF. */
const char *mw_proc_adj_cell(const struct mw_proc *p, char *buf, size_t cap);
const char *mw_proc_score_cell(const struct mw_proc *p, char *buf, size_t cap);

/* P's user name (its uid when passwd has none) into BUF, "?" when its
 * status was not readable. A name longer than WIDTH bytes (0: no limit,
 * else WIDTH >= 1 and < CAP) is cut to WIDTH with a final '+', as ps does.
 * Returns BUF. */
const char *mw_proc_user_cell(const struct mw_proc *p, const struct mw_users *users, size_t width,
                              char *buf, size_t cap);

/* Writes the members "oom_score_adj", "class" and "oom_score" of P to J
 * (JSON null for what was not readable). */
void mw_proc_json_oom(struct mw_json *j, const struct mw_proc *p);

#endif
