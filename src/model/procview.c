#include "model/procview.h"

#include <stdio.h>
#include <string.h>

#include "proc/procs.h"

int mw_proc_adj_key(const struct mw_proc *p)
{
    return (p->flags & MW_PROC_NO_ADJ) ? -1001 : p->oom_score_adj;
}

const char *mw_proc_class_cell(const struct mw_proc *p)
{
    return (p->flags & MW_PROC_NO_ADJ) ? "?" : mw_adj_class_name(p->oom_score_adj);
}

const char *mw_proc_adj_cell(const struct mw_proc *p, char *buf, size_t cap)
{
    if (p->flags & MW_PROC_NO_ADJ)
        snprintf(buf, cap, "?");
    else
        snprintf(buf, cap, "%d", p->oom_score_adj);
    return buf;
}

const char *mw_proc_score_cell(const struct mw_proc *p, char *buf, size_t cap)
{
    if (p->flags & MW_PROC_NO_SCORE)
        snprintf(buf, cap, "?");
    else
        snprintf(buf, cap, "%ld", p->oom_score);
    return buf;
}

const char *mw_proc_user_cell(const struct mw_proc *p, const struct mw_users *users, size_t width,
                              char *buf, size_t cap)
{
    if (p->flags & MW_PROC_NO_UID) {
        snprintf(buf, cap, "?");
        return buf;
    }
    mw_users_fmt(users, p->uid, buf, cap);
    if (width && strlen(buf) > width) {
        buf[width - 1] = '+';
        buf[width] = '\0';
    }
    return buf;
}

void mw_proc_json_oom(struct mw_json *j, const struct mw_proc *p)
{
    if (p->flags & MW_PROC_NO_ADJ) {
        mw_json_null(j, "oom_score_adj");
        mw_json_null(j, "class");
    } else {
        mw_json_i64(j, "oom_score_adj", p->oom_score_adj);
        mw_json_str(j, "class", mw_adj_class_name(p->oom_score_adj));
    }
    if (p->flags & MW_PROC_NO_SCORE)
        mw_json_null(j, "oom_score");
    else
        mw_json_i64(j, "oom_score", p->oom_score);
}
