#include "lmk/fpcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc/procs.h"

int mw_fpc_init(struct mw_fpc *t)
{
    memset(t, 0, sizeof(*t));
    t->cap = MW_FPC_SLOTS / 4 * 3;
    /* calloc of this size maps fresh zero pages: untouched ones cost nothing */
    t->e = calloc(t->cap, sizeof(*t->e));
    t->index = calloc(MW_FPC_SLOTS, sizeof(*t->index));
    if (!t->e || !t->index) {
        mw_fpc_free(t);
        return -ENOMEM;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t room = rl.rlim_cur == RLIM_INFINITY      ? (rlim_t)t->cap
                      : rl.rlim_cur > MW_FPC_FD_RESERVE ? rl.rlim_cur - MW_FPC_FD_RESERVE
                                                        : 0;
        t->fd_max = room > (rlim_t)t->cap ? (int)t->cap : (int)room;
    }
    return 0;
}

void mw_fpc_free(struct mw_fpc *t)
{
    for (size_t i = 0; t->e && i < t->n; i++)
        if (t->e[i].adj_fd >= 0)
            close(t->e[i].adj_fd);
    free(t->e);
    free(t->index);
    memset(t, 0, sizeof(*t));
}

static size_t slot_of(int pid)
{
    return ((size_t)(unsigned)pid * 2654435761u) & (MW_FPC_SLOTS - 1);
}

/* The index slot holding PID's entry, or the empty slot ending its probe. */
static size_t probe(const struct mw_fpc *t, int pid)
{
    size_t s = slot_of(pid);
    while (t->index[s] != 0 && t->e[t->index[s] - 1].pid != pid)
        s = (s + 1) & (MW_FPC_SLOTS - 1);
    return s;
}

struct mw_fp *mw_fpc_find(const struct mw_fpc *t, int pid)
{
    if (!t->index)
        return NULL;
    size_t s = probe(t, pid);
    return t->index[s] ? &t->e[t->index[s] - 1] : NULL;
}

struct mw_fp *mw_fpc_add(struct mw_fpc *t, int pid)
{
    if (!t->index || t->n >= t->cap)
        return NULL;
    size_t s = probe(t, pid);
    struct mw_fp *e = &t->e[t->n];
    memset(e, 0, sizeof(*e));
    e->pid = pid;
    e->adj_fd = -1;
    t->index[s] = (int32_t)(++t->n);
    t->changed = true;
    return e;
}

/* Empties slot S of the index, moving later entries of its probe chain
 * back (linear probing's deletion: no tombstones). */
static void index_delete(struct mw_fpc *t, size_t s)
{
    size_t hole = s;
    for (size_t j = (s + 1) & (MW_FPC_SLOTS - 1); t->index[j] != 0;
         j = (j + 1) & (MW_FPC_SLOTS - 1)) {
        size_t home = slot_of(t->e[t->index[j] - 1].pid);
        /* J may move into HOLE when its home is not cyclically in (HOLE, J] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays)
            continue;
        t->index[hole] = t->index[j];
        hole = j;
    }
    t->index[hole] = 0;
}

void mw_fpc_drop(struct mw_fpc *t, size_t i)
{
    struct mw_fp *e = &t->e[i];
    if (e->adj_fd >= 0) {
        close(e->adj_fd);
        t->fds--;
    }
    index_delete(t, probe(t, e->pid));
    t->swap_kb_sum -= e->swap_kb;
    t->changed = true;
    size_t last = t->n - 1;
    if (i != last) {
        t->index[probe(t, t->e[last].pid)] = (int32_t)(i + 1);
        t->e[i] = t->e[last];
    }
    t->n--;
}

/* Opens E's oom_score_adj for keeps, when the budget allows. */
static void open_held(struct mw_fpc *t, int proc_fd, struct mw_fp *e)
{
    if (t->fds >= t->fd_max)
        return;
    char path[32];
    snprintf(path, sizeof(path), "%d/oom_score_adj", e->pid);
    e->adj_fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (e->adj_fd >= 0)
        t->fds++;
    else if (errno == EMFILE || errno == ENFILE)
        t->fd_max = t->fds; /* out of descriptors: read the rest per visit */
}

int mw_fpc_adj_read(struct mw_fpc *t, int proc_fd, struct mw_fp *e, int *adj)
{
    char buf[32];
    if (e->adj_fd < 0)
        open_held(t, proc_fd, e);
    long n;
    if (e->adj_fd >= 0) {
        n = mw_pread_all(e->adj_fd, buf, sizeof(buf));
        struct stat sb;
        if (n >= 0 && t->check_links && (fstat(e->adj_fd, &sb) < 0 || sb.st_nlink == 0))
            n = -ENOENT;
    } else {
        n = mw_proc_read_pid_file(proc_fd, e->pid, "oom_score_adj", buf, sizeof(buf));
    }
    if (n < 0)
        return (int)n;
    return mw_proc_adj_parse_buf(adj, buf);
}
