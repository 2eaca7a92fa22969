/* memwarden top: which process holds the memory — PSS, USS, RSS and swap
 * per process with its oom_score_adj class, cgroup and command line; sorted,
 * filtered, or summed by program, cgroup or class. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/text.h"
#include "model/procmatch.h"
#include "cli/cli.h"
#include "base/json.h"
#include "model/proctable.h"
#include "proc/procs.h"
#include "proc/mwpool.h"
#include "model/procview.h"
#include "model/top.h"
#include "proc/users.h"

static const struct mw_opt top_opts[] = {
    {"sort", 's', MW_OPT_SHORT, "KEY",
     "pss (default), uss, rss, swap, adj (highest first: the\n"
     "order a killer takes them) or pid",
     "pss uss rss swap adj pid"},
    {"by", 'b', MW_OPT_SHORT, "GROUP",
     "sum the processes of one program (like ps_mem), of one\n"
     "cgroup (which service or container holds the memory),\n"
     "of one systemd unit (unit: ssh.service, session-2.scope;\n"
     "a user's unit as user@UID.service/NAME; \"(no unit)\" for\n"
     "the rest), or of one oom_score_adj class, with the PSS\n"
     "a killer could free killing every class down to that one",
     "program cgroup class unit"},
    {"user", 'u', MW_OPT_SHORT, "USER", "only processes of USER (name or uid)", NULL},
    {"cgroup", 'c', MW_OPT_SHORT, "PREFIX", "only processes in cgroup PREFIX or below it", NULL},
    {"match", 'm', MW_OPT_SHORT, "REGEX",
     "only processes whose full command line matches the\n"
     "POSIX extended REGEX (memwarden itself is left out)",
     NULL},
    {"limit", 'n', MW_OPT_SHORT, "N", "show the first N rows", NULL},
    {"all", 'a', MW_OPT_SHORT, NULL, "include kernel threads and zombies", NULL},
    {"wide", 'w', MW_OPT_SHORT, NULL,
     "do not cut the command line and cgroup to the\n"
     "terminal width (120 columns when not a terminal)",
     NULL},
    {"json", 'j', MW_OPT_SHORT, NULL,
     "JSON: {\"processes\": [...], \"total\": {...}}, sizes in\n"
     "bytes; with --by: {\"by\", \"groups\": [...], \"total\"};\n"
     "with --pools: {\"pools\": [...]}",
     NULL},
    {"pools", 'P', 0, NULL, "memory pools (libmwpool) per process, not processes", NULL},
    {"pool-dir", 'D', 0, "DIR",
     "read the pools from DIR/PID/NAME (default\n"
     "ROOT/run/mwpool; a program's MWPOOL_DIR)",
     NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_top_doc = {
    .head = "NAME\n"
            "    memwarden top - processes by memory, with their oom_score_adj class\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden [--root DIR] top [--sort KEY] [--by GROUP] [--user USER]\n"
            "                               [--cgroup PREFIX] [--match REGEX] [-n N]\n"
            "                               [--all] [--wide] [--json]\n"
            "    memwarden [--root DIR] top --pools [--pool-dir DIR] [-n N] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    One row per process: PID, user, PSS (proportional set size: shared pages\n"
            "    divided among their users; the column that adds up to real memory), USS\n"
            "    (private pages: what killing it frees at least), RSS, swap (SwapPss when\n"
            "    the kernel has it), oom_score_adj with its Android class name (native\n"
            "    -1000, system -900, persistent_proc -800, persistent_service -700,\n"
            "    foreground 0, visible 100, perceptible 200, backup 300, heavy_weight 400,\n"
            "    service 500, home 600, previous 700, service_b 800, cached 900-1000),\n"
            "    oom_score, the memory cgroup and the command line. A totals line ends\n"
            "    the table; it covers every process that passed the filters, also when\n"
            "    -n shows fewer.\n"
            "\n"
            "    Memory comes from /proc/PID/smaps_rollup (one read per process), else\n"
            "    smaps; where neither may be read (another user's process, without\n"
            "    root) from statm: those values are marked '~' (PSS shown as RSS, an\n"
            "    upper bound; USS as RSS minus shared pages). '?' marks a value that\n"
            "    could not be read. Kernel threads and zombies hold no memory of their\n"
            "    own and are left out unless --all. A process that exits while it is\n"
            "    read is left out.\n"
            "\n"
            "    With --pools: the memory pools of processes built with libmwpool\n"
            "    (lib/mwpool) that publish their statistics under /run/mwpool/PID/NAME:\n"
            "    one row per pool with PID, command, pool name, block size, blocks\n"
            "    mapped (TOTAL), in use, the high water mark, the growth cap and failed\n"
            "    gets. Blocks in use climbing while RSS stays flat is a leak inside the\n"
            "    pool ('memwarden leak -p PID' judges it). Pages that are not valid, and\n"
            "    pages of processes that no longer run, are skipped.\n",
    .opts = top_opts,
    .exit_ok = "shown",
    .exit_fail = "/proc could not be read",
    .examples = "    memwarden top -n 10\n"
                "    memwarden top --by program\n"
                "    memwarden top --by class          # what each kill level would free\n"
                "    memwarden top --by unit -n 10     # the services and scopes holding most\n"
                "    memwarden top --match 'python.*server' --sort swap\n"
                "    memwarden top --pools\n"
                "    memwarden --root /tmp/capture top --json\n",
};

/* Bytes, with a '~' when estimated. */
static const char *fmt_sz(char *buf, size_t cap, uint64_t v, bool est, bool unknown)
{
    char t[32];
    if (unknown)
        snprintf(buf, cap, "?");
    else
        snprintf(buf, cap, "%s%s", est ? "~" : "", mw_fmt_size(t, sizeof(t), v));
    return buf;
}

/* Prints cgroup path S padded to WIDTH; a longer path keeps its most
 * specific part: "../app.service", else the end of the last component. */
static void put_cgroup(const char *s, size_t width, bool wide)
{
    size_t n = strlen(s);
    if (wide || n <= width) {
        mw_text_put(stdout, s, n, 0);
    } else {
        const char *last = strrchr(s, '/');
        last = last ? last + 1 : s;
        size_t ll = strlen(last);
        if (ll + 3 <= width) {
            fputs("../", stdout);
            mw_text_put(stdout, last, ll, 0);
            n = ll + 3;
        } else {
            const char *t = s + n - (width - 2);
            while (((unsigned char)*t & 0xc0) == 0x80)
                t++;
            fputs("..", stdout);
            mw_text_put(stdout, t, strlen(t), 0);
            n = 2 + strlen(t);
        }
    }
    for (; n < width; n++)
        putchar(' ');
}

static size_t term_width(void)
{
    if (!isatty(STDOUT_FILENO))
        return MW_TOP_PIPE_WIDTH;
    const char *c = getenv("COLUMNS");
    if (c && atoi(c) > 0)
        return (size_t)atoi(c);
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return MW_TOP_PIPE_WIDTH;
}

static void json_flags(struct mw_json *j, const struct mw_proc *p)
{
    mw_json_array_begin(j, "estimated");
    if (p->flags & MW_PROC_MEM_EST) {
        mw_json_str(j, NULL, "pss");
        mw_json_str(j, NULL, "uss");
    }
    if (p->flags & MW_PROC_SWAP_EST)
        mw_json_str(j, NULL, "swap");
    mw_json_array_end(j);
    mw_json_array_begin(j, "unreadable");
    static const struct {
        unsigned flag;
        const char *name;
    } un[] = {
        {MW_PROC_NO_MEM, "memory"},        {MW_PROC_NO_UID, "user"},
        {MW_PROC_NO_ADJ, "oom_score_adj"}, {MW_PROC_NO_SCORE, "oom_score"},
        {MW_PROC_NO_CGROUP, "cgroup"},     {MW_PROC_NO_CMDLINE, "cmdline"},
    };
    for (size_t i = 0; i < MW_ARRAY_SIZE(un); i++)
        if (p->flags & un[i].flag)
            mw_json_str(j, NULL, un[i].name);
    mw_json_array_end(j);
}

static void json_total(struct mw_json *j, const struct mw_top_sum *t)
{
    mw_json_object_begin(j, "total");
    mw_json_u64(j, "processes", t->count);
    mw_json_u64(j, "pss", t->pss);
    mw_json_u64(j, "uss", t->uss);
    mw_json_u64(j, "rss", t->rss);
    mw_json_u64(j, "swap", t->swap);
    mw_json_object_end(j);
}

static void print_json(const struct mw_top_view *v, const struct mw_users *users, size_t limit)
{
    struct mw_json j;
    char ub[48];
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    if (v->by == MW_TOP_BY_NONE) {
        mw_json_array_begin(&j, "processes");
        for (size_t i = 0; i < v->n && (!limit || i < limit); i++) {
            const struct mw_proc *p = v->rows[i];
            mw_json_object_begin(&j, NULL);
            mw_json_i64(&j, "pid", p->pid);
            mw_json_i64(&j, "ppid", p->ppid);
            if (p->flags & MW_PROC_NO_UID) {
                mw_json_null(&j, "user");
                mw_json_null(&j, "uid");
            } else {
                mw_json_str(&j, "user", mw_users_fmt(users, p->uid, ub, sizeof(ub)));
                mw_json_u64(&j, "uid", p->uid);
            }
            char st[2] = {p->state, 0};
            mw_json_str(&j, "state", st);
            mw_json_u64(&j, "pss", p->pss_bytes);
            mw_json_u64(&j, "uss", p->uss_bytes);
            mw_json_u64(&j, "rss", p->rss_bytes);
            mw_json_u64(&j, "swap", p->swap_bytes);
            mw_proc_json_oom(&j, p);
            if (p->flags & MW_PROC_NO_CGROUP)
                mw_json_null(&j, "cgroup");
            else
                mw_json_str(&j, "cgroup", p->cgroup);
            mw_json_str(&j, "comm", p->comm);
            mw_json_str(&j, "cmdline", p->cmdline);
            mw_json_bool(&j, "kernel_thread", (p->flags & MW_PROC_KTHREAD) != 0);
            json_flags(&j, p);
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
    } else {
        mw_json_str(&j, "by", mw_top_by_name(v->by));
        mw_json_array_begin(&j, "groups");
        for (size_t i = 0; i < v->ngroups && (!limit || i < limit); i++) {
            const struct mw_top_group *g = &v->groups[i];
            mw_json_object_begin(&j, NULL);
            mw_json_str(&j, "name", g->name);
            mw_json_u64(&j, "processes", g->sum.count);
            mw_json_u64(&j, "pss", g->sum.pss);
            mw_json_u64(&j, "uss", g->sum.uss);
            mw_json_u64(&j, "rss", g->sum.rss);
            mw_json_u64(&j, "swap", g->sum.swap);
            mw_json_u64(&j, "estimated_processes", g->estimated);
            if (v->by == MW_TOP_BY_CLASS && g->have_adj) {
                mw_json_i64(&j, "adj_min", g->adj_min);
                mw_json_i64(&j, "adj_max", g->adj_max);
                mw_json_u64(&j, "cumulative_pss", g->cum_pss);
                mw_json_u64(&j, "cumulative_uss", g->cum_uss);
            }
            mw_json_object_end(&j);
        }
        mw_json_array_end(&j);
    }
    json_total(&j, &v->total);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

#define SZW 9 /* "~1023 MiB" */

/* The narrowest command column before the cgroup column gives way. */
#define MIN_CMD_WIDTH 24

static void print_procs(const struct mw_top_view *v, const struct mw_users *users, size_t limit,
                        bool wide)
{
    size_t width = term_width();
    size_t shown = limit && limit < v->n ? limit : v->n;
    /* Column widths follow the rows shown, so a quiet machine's table fits. */
    size_t cgmax = 6, pidw = 3, userw = 4, classw = 5;
    char ub[48];
    for (size_t i = 0; i < shown; i++) {
        const struct mw_proc *p = v->rows[i];
        size_t l = strlen(p->cgroup);
        if (l > cgmax)
            cgmax = l;
        l = (size_t)snprintf(ub, sizeof(ub), "%d", p->pid);
        if (l > pidw)
            pidw = l;
        l = strlen(mw_proc_user_cell(p, users, 0, ub, sizeof(ub)));
        if (l > userw)
            userw = l > 8 ? 8 : l;
        l = strlen(mw_proc_class_cell(p));
        if (l > classw)
            classw = l;
    }
    size_t fixed = pidw + 1 + userw + 1 + 4 * (SZW + 1) + 5 + 1 + classw + 1 + 5 + 1;
    size_t cgw = cgmax;
    if (!wide) {
        size_t room = width > fixed + 1 + MIN_CMD_WIDTH ? width - fixed - 1 - MIN_CMD_WIDTH : 0;
        if (cgw > room)
            cgw = room > 14 ? room : 14;
    }
    size_t cmd_col = fixed + cgw + 1;
    size_t cmdw = width > cmd_col + 10 ? width - cmd_col : 10;
    printf("%*s %-*s %*s %*s %*s %*s %5s %-*s %5s %-*s %s\n", (int)pidw, "PID", (int)userw, "USER",
           SZW, "PSS", SZW, "USS", SZW, "RSS", SZW, "SWAP", "ADJ", (int)classw, "CLASS", "SCORE",
           (int)cgw, "CGROUP", "COMMAND");
    unsigned seen = 0;
    bool seen_swap_only = false;
    for (size_t i = 0; i < shown; i++) {
        const struct mw_proc *p = v->rows[i];
        char a[4][40], adj[16], score[16];
        mw_proc_user_cell(p, users, userw, ub, sizeof(ub));
        bool est = p->flags & MW_PROC_MEM_EST, nomem = p->flags & MW_PROC_NO_MEM;
        fmt_sz(a[0], sizeof(a[0]), p->pss_bytes, est, nomem);
        fmt_sz(a[1], sizeof(a[1]), p->uss_bytes, est, nomem);
        fmt_sz(a[2], sizeof(a[2]), p->rss_bytes, false, nomem);
        fmt_sz(a[3], sizeof(a[3]), p->swap_bytes, (p->flags & MW_PROC_SWAP_EST) != 0, nomem);
        mw_proc_adj_cell(p, adj, sizeof(adj));
        mw_proc_score_cell(p, score, sizeof(score));
        seen |= p->flags;
        if ((p->flags & MW_PROC_SWAP_EST) && !(p->flags & MW_PROC_MEM_EST))
            seen_swap_only = true;
        printf("%*d %-*s %*s %*s %*s %*s %5s %-*s %5s ", (int)pidw, p->pid, (int)userw, ub, SZW,
               a[0], SZW, a[1], SZW, a[2], SZW, a[3], adj, (int)classw, mw_proc_class_cell(p),
               score);
        put_cgroup((p->flags & MW_PROC_NO_CGROUP) ? "?" : p->cgroup, cgw, wide);
        putchar(' ');
        mw_text_put(stdout, p->cmdline, strlen(p->cmdline), wide ? 0 : cmdw);
        putchar('\n');
    }
    char t[4][40];
    printf("%-*s %*s %*s %*s %*s %5s %-*s %5s %-*s %zu process%s\n", (int)(pidw + 1 + userw),
           "total", SZW, fmt_sz(t[0], sizeof(t[0]), v->total.pss, v->total.estimated > 0, false),
           SZW, fmt_sz(t[1], sizeof(t[1]), v->total.uss, v->total.estimated > 0, false), SZW,
           fmt_sz(t[2], sizeof(t[2]), v->total.rss, false, false), SZW,
           fmt_sz(t[3], sizeof(t[3]), v->total.swap, v->total.swap_estimated > 0, false), "",
           (int)classw, "", "", (int)cgw, "", v->total.count, v->total.count == 1 ? "" : "es");
    if (shown < v->n)
        printf("(%zu of %zu processes shown; the total covers all of them)\n", shown, v->n);
    if (seen & MW_PROC_MEM_EST)
        printf("~ estimate from statm (smaps not readable): PSS shown as RSS, an upper bound;\n"
               "  USS as RSS minus shared pages\n");
    if (seen_swap_only)
        printf("~ swap: Swap, not SwapPss (a kernel without SwapPss): shared swap counted\n"
               "  in full\n");
    if (seen & (MW_PROC_NO_MEM | MW_PROC_NO_ADJ | MW_PROC_NO_SCORE | MW_PROC_NO_CGROUP |
                MW_PROC_NO_UID | MW_PROC_NO_CMDLINE))
        printf("? could not be read (permission denied or a missing file)\n");
}

static void print_groups(const struct mw_top_view *v, size_t limit, bool wide)
{
    size_t shown = limit && limit < v->ngroups ? limit : v->ngroups;
    size_t namew = 8;
    for (size_t i = 0; i < shown; i++) {
        size_t l = strlen(v->groups[i].name);
        if (l > namew)
            namew = l;
    }
    size_t width = term_width();
    size_t fixed = 6 + 4 * (SZW + 1) + (v->by == MW_TOP_BY_CLASS ? 12 + SZW + 1 : 0) + 1;
    if (!wide && namew + fixed > width)
        namew = width > fixed + 12 ? width - fixed : 12;
    const char *title = v->by == MW_TOP_BY_CLASS    ? "CLASS"
                        : v->by == MW_TOP_BY_CGROUP ? "CGROUP"
                        : v->by == MW_TOP_BY_UNIT   ? "UNIT"
                                                    : "PROGRAM";
    printf("%-*s %5s %*s %*s %*s %*s", (int)namew, title, "PROCS", SZW, "PSS", SZW, "USS", SZW,
           "RSS", SZW, "SWAP");
    if (v->by == MW_TOP_BY_CLASS)
        printf(" %11s %*s", "ADJ", SZW, "CUM PSS");
    putchar('\n');
    bool est = false;
    for (size_t i = 0; i < shown; i++) {
        const struct mw_top_group *g = &v->groups[i];
        char a[4][40];
        if (v->by == MW_TOP_BY_CGROUP)
            put_cgroup(g->name, namew, wide);
        else {
            size_t l = strlen(g->name);
            mw_text_put(stdout, g->name, l, wide ? 0 : namew);
            for (; l < namew; l++)
                putchar(' ');
        }
        bool e = g->estimated > 0;
        est |= e;
        printf(" %5zu %*s %*s %*s %*s", g->sum.count, SZW,
               fmt_sz(a[0], sizeof(a[0]), g->sum.pss, e, false), SZW,
               fmt_sz(a[1], sizeof(a[1]), g->sum.uss, e, false), SZW,
               fmt_sz(a[2], sizeof(a[2]), g->sum.rss, false, false), SZW,
               fmt_sz(a[3], sizeof(a[3]), g->sum.swap, g->sum.swap_estimated > 0, false));
        if (v->by == MW_TOP_BY_CLASS) {
            char r[24];
            if (!g->have_adj)
                snprintf(r, sizeof(r), "?");
            else if (g->adj_min == g->adj_max)
                snprintf(r, sizeof(r), "%d", g->adj_min);
            else
                snprintf(r, sizeof(r), "%d..%d", g->adj_min, g->adj_max);
            printf(" %11s %*s", r, SZW,
                   g->have_adj ? mw_fmt_size(a[0], sizeof(a[0]), g->cum_pss) : "");
        }
        putchar('\n');
    }
    char t[4][40];
    printf("%-*s %5zu %*s %*s %*s %*s\n", (int)namew, "total", v->total.count, SZW,
           fmt_sz(t[0], sizeof(t[0]), v->total.pss, v->total.estimated > 0, false), SZW,
           fmt_sz(t[1], sizeof(t[1]), v->total.uss, v->total.estimated > 0, false), SZW,
           fmt_sz(t[2], sizeof(t[2]), v->total.rss, false, false), SZW,
           fmt_sz(t[3], sizeof(t[3]), v->total.swap, v->total.swap_estimated > 0, false));
    if (shown < v->ngroups)
        printf("(%zu of %zu groups shown; the total covers all of them)\n", shown, v->ngroups);
    if (v->by == MW_TOP_BY_CLASS)
        printf("CUM PSS: this class and every class above it, killed first: roughly what a\n"
               "killer frees by going down to this level (their USS is the floor)\n");
    if (est)
        printf("~ includes estimates from statm (smaps not readable): PSS counted as RSS\n");
    if (v->total.swap_estimated)
        printf("~ swap includes Swap/VmSwap where SwapPss was missing\n");
}

/* What the command line asked for. */
struct top_opts {
    struct mw_top_filter flt;
    const char *user, *match, *pool_dir;
    bool json, wide, all, pools;
    unsigned long limit;
};

/* Parses the options into O. Returns -1 to go on, else the exit code
 * (--help printed, or a usage error said). */
static int top_options(int argc, char **argv, struct top_opts *o)
{
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_top_doc)) != -1) {
        switch (c) {
        case 'P':
            o->pools = true;
            break;
        case 'D':
            o->pool_dir = optarg;
            break;
        case 's':
            if (mw_top_sort_parse(optarg, &o->flt.sort) < 0)
                return mw_usage_error("top", "--sort: '%s' is not one of pss uss rss swap adj pid",
                                      optarg);
            break;
        case 'b':
            if (mw_top_by_parse(optarg, &o->flt.by) < 0)
                return mw_usage_error("top", "--by: '%s' is not one of program cgroup class unit",
                                      optarg);
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'c':
            o->flt.cgroup_prefix = optarg;
            break;
        case 'm':
            o->match = optarg;
            break;
        case 'n':
            if (mw_opt_uint("-n", optarg, 1, 10000000, &o->limit) < 0)
                return MW_EXIT_USAGE;
            break;
        case 'a':
            o->all = true;
            break;
        case 'w':
            o->wide = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            mw_help(stdout, &cli_top_doc);
            return MW_EXIT_OK;
        default:
            return mw_opt_error("top", c, argv);
        }
    }
    if (optind < argc)
        return mw_usage_error("top", "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Everything `top` shows, gathered before anything is printed. */
struct top {
    regex_t re;
    bool have_re, have_table;
    struct mw_users users;
    struct mw_proctable table;
    struct mw_top_view view;
};

/* Compiles --match, reads the users and the process table, and builds the
 * view O asks for into G (free it with top_free, also on failure).
 * Returns MW_EXIT_OK, or the exit code after saying why. */
static int top_gather(struct mw_ctx *ctx, struct top_opts *o, struct top *g)
{
    int e;
    if (o->match) {
        if ((e = mw_opt_match("top", o->match)) != 0)
            return e;
        if (mw_regcomp_bounded(&g->re, o->match, REG_EXTENDED | REG_NOSUB, NULL, 0) != 0)
            return MW_EXIT_FAIL; /* checked just above */
        g->have_re = true;
        o->flt.match = &g->re;
        if (mw_root_is_live(&ctx->root))
            o->flt.exclude_pid = (int)getpid();
    }
    if ((e = mw_users_read(&ctx->root, &g->users)) < 0) {
        mw_err("%s/etc/passwd: %s", ctx->root.path, mw_strerror(-e));
        return MW_EXIT_FAIL;
    }
    if (o->user) {
        uid_t uid;
        if (mw_users_lookup(&g->users, o->user, &uid) < 0)
            return mw_usage_error("top", "--user: no user '%s' in %s/etc/passwd", o->user,
                                  strcmp(ctx->root.path, "/") ? ctx->root.path : "");
        o->flt.have_uid = true;
        o->flt.uid = uid;
    }
    unsigned what = MW_PT_ALL_FIELDS | (o->all ? MW_PT_KTHREADS | MW_PT_ZOMBIES : 0) |
                    (o->flt.by == MW_TOP_BY_UNIT ? MW_PT_UNIT : 0);
    g->have_table = true;
    if ((e = mw_proctable_open(&g->table, &ctx->root, what)) < 0 ||
        (e = mw_proctable_scan(&g->table)) < 0) {
        mw_err("%s/proc: %s", ctx->root.path, mw_strerror(-e));
        return MW_EXIT_FAIL;
    }
    if ((e = mw_top_view_build(&g->view, &g->table, &o->flt)) < 0) {
        mw_err("top: %s", mw_strerror(-e));
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}

static void top_free(struct top *g)
{
    mw_top_view_free(&g->view);
    if (g->have_table)
        mw_proctable_close(&g->table);
    mw_users_free(&g->users);
    if (g->have_re)
        regfree(&g->re);
}

/* ---- --pools ---- */

/* One published pool with its process's command name. */
struct pool_row {
    const struct mw_pool *p;
    char comm[64];
};

static void pools_json(const struct pool_row *r, size_t n)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_array_begin(&j, "pools");
    for (size_t i = 0; i < n; i++) {
        const struct mw_pool *p = r[i].p;
        mw_json_object_begin(&j, NULL);
        mw_json_i64(&j, "pid", p->pid);
        mw_json_str(&j, "comm", r[i].comm);
        mw_json_str(&j, "pool", p->name);
        mw_json_u64(&j, "block_size", p->block_size);
        mw_json_u64(&j, "blocks_total", p->blocks_total);
        mw_json_u64(&j, "blocks_in_use", p->blocks_in_use);
        mw_json_u64(&j, "high_water", p->high_water);
        mw_json_u64(&j, "max_blocks", p->max_blocks);
        mw_json_u64(&j, "failed_gets", p->failed_gets);
        mw_json_u64(&j, "waits", p->waits);
        mw_json_u64(&j, "in_use_bytes", p->blocks_in_use * p->block_size);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void pools_text(const struct pool_row *r, size_t n, const char *where)
{
    if (n == 0) {
        printf("no published pools in %s\n", where);
        return;
    }
    printf("%7s  %-15s  %-16s %10s %8s %8s %8s %8s %8s\n", "PID", "COMMAND", "POOL", "BLOCK",
           "TOTAL", "IN USE", "HIGH", "MAX", "FAILED");
    for (size_t i = 0; i < n; i++) {
        const struct mw_pool *p = r[i].p;
        char b[32];
        printf("%7d  ", p->pid);
        mw_text_put_cell(stdout, r[i].comm, 15, true);
        printf("  %-16s %10s %8llu %8llu %8llu %8llu %8llu\n", p->name,
               mw_fmt_size(b, sizeof(b), p->block_size), (unsigned long long)p->blocks_total,
               (unsigned long long)p->blocks_in_use, (unsigned long long)p->high_water,
               (unsigned long long)p->max_blocks, (unsigned long long)p->failed_gets);
    }
}

/* top --pools: every published pool, with its process's command. */
static int top_pools(struct mw_ctx *ctx, const struct top_opts *o)
{
    struct mw_pool_set set = {0};
    int fd = mw_pool_dir_open(&ctx->root, o->pool_dir);
    int rc = fd < 0 ? fd : mw_pool_scan(fd, &set);
    if (fd >= 0)
        close(fd);
    if (rc < 0 && rc != -ENOENT) {
        mw_err("top: %s: %s", o->pool_dir ? o->pool_dir : MW_POOL_DIR, mw_strerror(-rc));
        return MW_EXIT_FAIL;
    }
    struct pool_row *r = calloc(set.n ? set.n : 1, sizeof(*r));
    if (!r) {
        mw_pool_set_free(&set);
        mw_err("top: out of memory");
        return MW_EXIT_FAIL;
    }
    size_t n = 0;
    int proc_fd = openat(ctx->root.fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < set.n && (!o->limit || n < o->limit); i++) {
        char comm[64];
        long k = proc_fd < 0
                     ? -ENOENT
                     : mw_proc_read_pid_file(proc_fd, set.p[i].pid, "comm", comm, sizeof(comm));
        if (k == -ENOENT)
            continue; /* the page of a process that exited without destroying its pool */
        r[n].p = &set.p[i];
        if (k > 0 && comm[k - 1] == '\n')
            comm[--k] = '\0';
        mw_text_clean(r[n].comm, sizeof(r[n].comm), k > 0 ? comm : "?", k > 0 ? (size_t)k : 1);
        n++;
    }
    if (proc_fd >= 0)
        close(proc_fd);
    if (o->json)
        pools_json(r, n);
    else
        pools_text(r, n, o->pool_dir ? o->pool_dir : MW_POOL_DIR);
    free(r);
    mw_pool_set_free(&set);
    return MW_EXIT_OK;
}

int cli_top(struct mw_ctx *ctx, int argc, char **argv)
{
    struct top_opts o = {.flt = {.sort = MW_TOP_SORT_PSS}};
    int rc = top_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.pools)
        return top_pools(ctx, &o);
    struct top g = {0};
    rc = top_gather(ctx, &o, &g);
    if (rc == MW_EXIT_OK) {
        if (o.json)
            print_json(&g.view, &g.users, o.limit);
        else if (o.flt.by == MW_TOP_BY_NONE)
            print_procs(&g.view, &g.users, o.limit, o.wide);
        else
            print_groups(&g.view, o.limit, o.wide);
    }
    top_free(&g);
    return rc;
}
