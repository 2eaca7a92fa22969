/* memwarden prio: show and set oom_score_adj by number or Android class
 * name, for PIDs or every process whose command line matches; apply a
 * rules file once. Nothing is half-applied: every target is checked before
 * the first write, and a failed write rolls back the ones before it. */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "cli/cli.h"
#include "base/json.h"
#include "model/proctable.h"
#include "proc/procs.h"
#include "model/procview.h"
#include "model/procmatch.h"
#include "model/rules.h"
#include "model/targets.h"
#include "proc/users.h"

static const struct mw_opt prio_opts[] = {
    {"match", 'm', MW_OPT_SHORT, "REGEX", "every process whose command line matches", NULL},
    {"dry-run", 'd', MW_OPT_SHORT, NULL, "print what would change, change nothing", NULL},
    {"force", 'f', MW_OPT_SHORT, NULL, "allow PID 1 (init: if it dies, the machine goes down)",
     NULL},
    {"all", 'a', MW_OPT_SHORT, NULL, "show: include kernel threads and zombies", NULL},
    {"json", 'j', MW_OPT_SHORT, NULL,
     "JSON output (show: {\"processes\"}; set/apply: {\"changes\"})", NULL},
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_prio_doc = {
    .head = "NAME\n"
            "    memwarden prio - show and set oom_score_adj by class name\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden [--root DIR] prio [show] [PID...] [--match REGEX] [--all] [--json]\n"
            "    memwarden prio set VALUE (PID... | --match REGEX) [--dry-run] [--force] [--json]\n"
            "    memwarden [--root DIR] prio apply RULES [--dry-run] [--force] [--json]\n"
            "\n"
            "DESCRIPTION\n"
            "    oom_score_adj (-1000..1000) tells the kernel's OOM killer, and\n"
            "    memwarden's daemon, whom to kill first: the highest value goes first,\n"
            "    -1000 never. VALUE is a number or one of Android's class names:\n"
            "      native -1000  system -900  persistent_proc -800  persistent_service -700\n"
            "      foreground 0  visible 100  perceptible 200  backup 300  heavy_weight 400\n"
            "      service 500  home 600  previous 700  service_b 800  cached 900\n"
            "\n"
            "    show lists processes with their value, class and oom_score, highest\n"
            "    first. set changes one or more PIDs, or every process whose full command\n"
            "    line matches the POSIX extended REGEX (memwarden itself, kernel threads\n"
            "    and zombies never match). apply reads a rules file, one rule a line,\n"
            "    the first matching rule wins:\n"
            "      # pattern (regex on the command line)  ->  class or number\n"
            "      ^/usr/bin/camera-daemon                ->  foreground\n"
            "      indexer|thumbnailer                    =   cached\n"
            "    and prints what it changed; this is how a plain Linux board gets the\n"
            "    process classes that Android's ActivityManager gives lmkd.\n"
            "\n"
            "    A regex is a NAME MATCH: any user can give a process any command line\n"
            "    (exec -a \"/usr/sbin/sshd -D\" ...), so a name-match rule may hand its\n"
            "    value to someone else's process; apply warns when such a rule lowers a\n"
            "    value below 0. A TRUSTED MATCH names the program and its owner,\n"
            "    KEY:VALUE words that must all hold: exe:GLOB (/proc/PID/exe), uid:N\n"
            "    (real and effective uid), unit:NAME (a systemd system unit's cgroup),\n"
            "    cgroup:GLOB, name:REGEX (the command line, no blanks):\n"
            "      exe:/usr/sbin/sshd uid:0               ->  native\n"
            "      unit:postgresql.service                ->  system\n"
            "    One with uid:, unit: or cgroup: cannot be forged by another user.\n"
            "    --match is always a name match: check the list with --dry-run.\n"
            "\n"
            "    Every target is checked first (it exists, is not a kernel thread or\n"
            "    zombie, is not PID 1 without --force); if a write then fails, the\n"
            "    values already written are put back. Each target's start time is\n"
            "    recorded when it is chosen and checked again right before its write\n"
            "    (and before a value is put back): a PID that another process took\n"
            "    meanwhile is skipped with a message. Lowering a value below 0 (or\n"
            "    below the floor a privileged process set) needs CAP_SYS_RESOURCE.\n"
            "    Writing works only on the live system, not under --root (--dry-run\n"
            "    does).\n",
    .opts = prio_opts,
    .exit_ok = "done (shown, set or applied)",
    .exit_fail = "no such process, permission denied, or a rules file with an\n"
                 "error (its line said): nothing changed",
    .operands = "show set apply",
    .examples = "    memwarden prio\n"
                "    memwarden prio set foreground 1234\n"
                "    memwarden prio set cached --match 'indexer'\n"
                "    memwarden prio apply /etc/memwarden/prio.rules --dry-run\n",
    .stop_at_operand = true,
};

struct prio_opts {
    const char *match;
    bool dry_run, force, json, all;
};

static int parse_opts(const char *sub, int argc, char **argv, struct prio_opts *o)
{
    int c;
    optind = 1;
    /* "+": stop at the first non-option, so a negative VALUE or a PID list
     * is left alone; options come before or after them (second pass). */
    while ((c = mw_getopt(argc, argv, &cli_prio_doc)) != -1) {
        switch (c) {
        case 'm':
            o->match = optarg;
            break;
        case 'd':
            o->dry_run = true;
            break;
        case 'f':
            o->force = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'a':
            o->all = true;
            break;
        case 'h':
            mw_help(stdout, &cli_prio_doc);
            return 1;
        default:
            return mw_opt_error(sub, c, argv);
        }
    }
    return 0;
}

/* Splits ARGV (after the subcommand) into options and positional words,
 * so "set -500 123 --dry-run" and "set --dry-run cached 123" both work:
 * a word that is a negative number is a value, not an option. */
static int split_args(const char *sub, int argc, char **argv, struct prio_opts *o, char **pos,
                      int *npos)
{
    char *optv[64];
    int nopt = 1;
    optv[0] = argv[0];
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool is_num = a[0] == '-' && a[1] >= '0' && a[1] <= '9';
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                pos[(*npos)++] = argv[i];
            break;
        }
        if (a[0] == '-' && a[1] && !is_num) {
            if (nopt >= 62)
                return mw_usage_error(sub, "too many options");
            optv[nopt++] = argv[i];
            /* options with a value take the next word */
            if ((strcmp(a, "--match") == 0 || strcmp(a, "-m") == 0) && i + 1 < argc)
                optv[nopt++] = argv[++i];
        } else {
            pos[(*npos)++] = argv[i];
        }
    }
    optv[nopt] = NULL;
    return parse_opts(sub, nopt, optv, o);
}

static int cmp_adj_desc(const void *a, const void *b)
{
    const struct mw_proc *x = a, *y = b;
    int ax = mw_proc_adj_key(x), ay = mw_proc_adj_key(y);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* ---- show: gather, then render ---------------------------------------- */

/* What `prio show` lists: the table it read and the rows it shows,
 * highest oom_score_adj first (who dies first), then by pid. */
struct prio_list {
    struct mw_proctable t;
    struct mw_users users;
    const struct mw_proc **rows; /* point into t */
    size_t n;
};

/* Compiles --match (bounded: model/procmatch.h). Returns 0, or
 * MW_EXIT_USAGE after saying why. */
static int compile_match(const struct prio_opts *o, regex_t *re)
{
    char why[200];
    if (mw_regcomp_bounded(re, o->match, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0)
        return mw_usage_error("prio", "--match '%.80s': %s", o->match, why);
    return 0;
}

/* The processes POS names (every one when NPOS is 0), read with their
 * class and score, sorted, then those RE matches (when RE). Returns
 * MW_EXIT_OK, or MW_EXIT_USAGE / MW_EXIT_FAIL after saying why; L is
 * ready for list_free either way. */
static int list_gather(const struct mw_root *root, const struct prio_opts *o, const regex_t *re,
                       char **pos, int npos, struct prio_list *l)
{
    unsigned what = MW_PT_ADJ | MW_PT_SCORE | MW_PT_CMDLINE |
                    (o->all || npos ? MW_PT_KTHREADS | MW_PT_ZOMBIES : 0);
    int e;
    mw_users_read(root, &l->users);
    if ((e = mw_proctable_open(&l->t, root, what)) < 0) {
        mw_err("%s/proc: %s", root->path, mw_strerror(-e));
        return MW_EXIT_FAIL;
    }
    for (int i = 0; i < npos; i++) {
        unsigned long pid;
        if (mw_opt_uint("PID", pos[i], 1, 0x7fffffff, &pid) < 0)
            return MW_EXIT_USAGE;
        if (mw_proctable_add(&l->t, (int)pid) <= 0) {
            mw_err("no process %lu", pid);
            return MW_EXIT_FAIL;
        }
    }
    if (npos == 0 && (e = mw_proctable_scan(&l->t)) < 0) {
        mw_err("%s/proc: %s", root->path, mw_strerror(-e));
        return MW_EXIT_FAIL;
    }
    if (l->t.n) /* qsort's array may not be NULL, even empty */
        qsort(l->t.procs, l->t.n, sizeof(*l->t.procs), cmp_adj_desc);
    l->rows = calloc(l->t.n ? l->t.n : 1, sizeof(*l->rows));
    if (!l->rows) {
        mw_err("out of memory");
        return MW_EXIT_FAIL;
    }
    int self = mw_root_is_live(root) ? (int)getpid() : 0;
    for (size_t i = 0; i < l->t.n; i++) {
        const struct mw_proc *p = &l->t.procs[i];
        if (!re || (p->pid != self && regexec(re, p->cmdline, 0, NULL, 0) == 0))
            l->rows[l->n++] = p;
    }
    return MW_EXIT_OK;
}

static void list_free(struct prio_list *l)
{
    free(l->rows);
    mw_proctable_close(&l->t);
    mw_users_free(&l->users);
}

static void list_text(const struct prio_list *l)
{
    char adj[16], score[16], ub[48];
    size_t width = isatty(STDOUT_FILENO) ? 0 : 200;
    printf("%7s %5s %-18s %5s %-8s %s\n", "PID", "ADJ", "CLASS", "SCORE", "USER", "COMMAND");
    for (size_t i = 0; i < l->n; i++) {
        const struct mw_proc *p = l->rows[i];
        printf("%7d %5s %-18s %5s %-8s ", p->pid, mw_proc_adj_cell(p, adj, sizeof(adj)),
               mw_proc_class_cell(p), mw_proc_score_cell(p, score, sizeof(score)),
               mw_proc_user_cell(p, &l->users, 8, ub, sizeof(ub)));
        mw_text_put(stdout, p->cmdline, strlen(p->cmdline), width);
        putchar('\n');
    }
}

static void list_json(const struct prio_list *l)
{
    struct mw_json j;
    char ub[48];
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_array_begin(&j, "processes");
    for (size_t i = 0; i < l->n; i++) {
        const struct mw_proc *p = l->rows[i];
        mw_json_object_begin(&j, NULL);
        mw_json_i64(&j, "pid", p->pid);
        mw_json_str(&j, "user", mw_proc_user_cell(p, &l->users, 0, ub, sizeof(ub)));
        mw_proc_json_oom(&j, p);
        mw_json_str(&j, "cmdline", p->cmdline);
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static int prio_show(struct mw_ctx *ctx, const struct prio_opts *o, char **pos, int npos)
{
    regex_t re;
    int rc;
    if (o->match && (rc = compile_match(o, &re)) != 0)
        return rc;
    struct prio_list l = {.n = 0};
    rc = list_gather(&ctx->root, o, o->match ? &re : NULL, pos, npos, &l);
    if (rc == MW_EXIT_OK) {
        if (o->json)
            list_json(&l);
        else
            list_text(&l);
    }
    list_free(&l);
    if (o->match)
        regfree(&re);
    return rc;
}

/* ---- set and apply: plan, write, then render --------------------------- */

struct prio_change {
    const struct mw_proc *p;
    uint64_t starttime; /* when chosen (UINT64_MAX: unknown, never written) */
    int old_adj, new_adj;
    const struct mw_rule *rule; /* apply: the rule that matched */
    int result;                 /* 0 written (or would be), -errno */
};

/* What set and apply change, every target checked before the first write,
 * and how the writing went. */
struct prio_plan {
    struct mw_proctable t;
    struct prio_change *ch; /* one per process to change */
    size_t n, unchanged;    /* unchanged: already at the value */
    char pid1[128];         /* apply: PID 1 matched a rule, left out without --force */
    int failed;             /* the write's -errno, 0 */
    size_t failed_at;
};

static void plan_free(struct prio_plan *pl)
{
    free(pl->ch);
    mw_proctable_close(&pl->t);
}

/* Room for a change per process of the table. Returns 0, or MW_EXIT_FAIL
 * after saying why. */
static int plan_alloc(struct prio_plan *pl)
{
    pl->ch = calloc(pl->t.n ? pl->t.n : 1, sizeof(*pl->ch));
    if (pl->ch)
        return 0;
    mw_err("out of memory");
    return MW_EXIT_FAIL;
}

/* Start time of P when it was chosen: the write checks it again, so a
 * PID that a new process took meanwhile is skipped, not changed. */
static uint64_t chosen_start(const struct mw_root *root, const struct mw_proc *p)
{
    uint64_t t;
    return mw_targets_starttime(root, p->pid, &t) == 0 ? t : UINT64_MAX;
}

/* P goes to NEW_ADJ (RULE: the rule that said so, or NULL). */
static void plan_add(const struct mw_root *root, struct prio_plan *pl, const struct mw_proc *p,
                     int new_adj, const struct mw_rule *rule)
{
    pl->ch[pl->n++] = (struct prio_change){.p = p,
                                           .starttime = chosen_start(root, p),
                                           .old_adj = p->oom_score_adj,
                                           .new_adj = new_adj,
                                           .rule = rule};
}

/* The processes a pattern or a rules file may touch. */
static bool eligible(const struct mw_proc *p, int self)
{
    return p->pid != self && !(p->flags & (MW_PROC_KTHREAD | MW_PROC_ZOMBIE | MW_PROC_NO_ADJ));
}

/* set and apply write only on the live system. Returns 0, or MW_EXIT_FAIL
 * after saying why. */
static int refuse_capture(const struct mw_root *root, const struct prio_opts *o, const char *sub)
{
    if (mw_root_is_live(root) || o->dry_run)
        return 0;
    mw_err("prio %s: %s is a captured tree, not the live system; nothing to write "
           "(--dry-run shows what would change)",
           sub, root->path);
    return MW_EXIT_FAIL;
}

/* set's VALUE (POS[0]) and the choice of PIDs or --match. Returns 0 with
 * *ADJ set, or MW_EXIT_USAGE after saying why. */
static int set_value(const struct prio_opts *o, char **pos, int npos, int *adj)
{
    if (npos < 1)
        return mw_usage_error("prio", "set needs a VALUE (a class name or -1000..1000)");
    if (mw_adj_class_parse(pos[0], adj) < 0 || *adj < -1000 || *adj > 1000) {
        if (*adj == 1001 && strcmp(pos[0], "unknown") == 0)
            return mw_usage_error("prio", "'unknown' is lmkd's 1001, above the kernel's "
                                          "limit of 1000: use 'cached' or 1000");
        return mw_usage_error("prio", "'%s' is not a class name or a number from -1000 to 1000",
                              pos[0]);
    }
    if (npos == 1 && !o->match)
        return mw_usage_error("prio", "set %s: which processes? Give PIDs or --match REGEX",
                              pos[0]);
    if (npos > 1 && o->match)
        return mw_usage_error("prio", "give PIDs or --match, not both");
    return 0;
}

/* Reads every PID of PIDS into T, checking each before any is written: it
 * exists, is no kernel thread or zombie, its oom_score_adj is readable.
 * Returns 0, or MW_EXIT_USAGE / MW_EXIT_FAIL after saying why. */
static int read_named(struct mw_proctable *t, char **pids, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned long pid;
        if (mw_opt_uint("PID", pids[i], 1, 0x7fffffff, &pid) < 0)
            return MW_EXIT_USAGE;
        int e = mw_proctable_add(t, (int)pid);
        if (e < 0) {
            mw_err("%s", mw_strerror(-e));
            return MW_EXIT_FAIL;
        }
        if (e == 0) {
            mw_err("no process %lu: nothing changed", pid);
            return MW_EXIT_FAIL;
        }
        const struct mw_proc *p = &t->procs[t->n - 1];
        if (p->flags & (MW_PROC_KTHREAD | MW_PROC_ZOMBIE)) {
            mw_err("PID %d is a %s: it has no memory to free and no oom_score_adj to "
                   "set; nothing changed",
                   p->pid, (p->flags & MW_PROC_KTHREAD) ? "kernel thread" : "zombie");
            return MW_EXIT_FAIL;
        }
        if (p->flags & MW_PROC_NO_ADJ) {
            mw_err("PID %d: cannot read its oom_score_adj; nothing changed", p->pid);
            return MW_EXIT_FAIL;
        }
    }
    return 0;
}

/* set's changes: every process of the table (those RE matches, when RE)
 * to ADJ. PID 1 without --force refuses the whole set. Returns 0, or
 * MW_EXIT_FAIL after saying why. */
static int set_plan(const struct mw_root *root, const struct prio_opts *o, const regex_t *re,
                    int adj, struct prio_plan *pl)
{
    if (plan_alloc(pl) != 0)
        return MW_EXIT_FAIL;
    int self = mw_root_is_live(root) ? (int)getpid() : 0;
    size_t matched = 0;
    for (size_t i = 0; i < pl->t.n; i++) {
        const struct mw_proc *p = &pl->t.procs[i];
        if (re && (!eligible(p, self) || regexec(re, p->cmdline, 0, NULL, 0) != 0))
            continue;
        matched++;
        if (p->pid == 1 && !o->force) {
            mw_err("PID 1 (%s) %s: init's death takes the machine down, so memwarden does "
                   "not touch it without --force; nothing changed",
                   p->comm, re ? "matches the pattern" : "was named");
            return MW_EXIT_FAIL;
        }
        bool named_twice = false;
        for (size_t k = 0; k < pl->n; k++)
            named_twice |= pl->ch[k].p->pid == p->pid;
        if (named_twice)
            continue;
        if (p->oom_score_adj == adj)
            pl->unchanged++;
        else
            plan_add(root, pl, p, adj, NULL);
    }
    if (re && matched == 0) {
        mw_err("no process matches '%s'", o->match);
        return MW_EXIT_FAIL;
    }
    return 0;
}

/* apply's changes: every eligible process to the value of the first rule
 * that matches it; PID 1 without --force is left out and said. */
static void rules_plan(const struct mw_root *root, const struct prio_opts *o,
                       const struct mw_rules *rules, struct prio_plan *pl)
{
    int self = mw_root_is_live(root) ? (int)getpid() : 0;
    unsigned need = mw_rules_needs(rules);
    for (size_t i = 0; i < pl->t.n; i++) {
        const struct mw_proc *p = &pl->t.procs[i];
        if (!eligible(p, self))
            continue;
        struct mw_match_facts facts = {.tried = 0};
        if (need)
            mw_match_facts_read(pl->t.proc_fd, p->pid, need, &facts);
        const struct mw_rule *r = mw_rules_match(rules, p->cmdline, &facts);
        if (!r)
            continue;
        if (p->oom_score_adj == r->adj) {
            pl->unchanged++;
            continue;
        }
        if (p->pid == 1 && !o->force) {
            snprintf(pl->pid1, sizeof(pl->pid1), "%s matches rule line %d", p->comm, r->line);
            continue;
        }
        plan_add(root, pl, p, r->adj, r);
    }
}

/* Writes every change through mw_targets_adj_apply (all or nothing, each
 * pinned to the process chosen). A process that exited meanwhile is not a
 * failure when TOLERATE_GONE (targets found by pattern). Returns 0 or the
 * failing -errno. */
static int write_changes(const struct mw_root *root, struct prio_change *ch, size_t n,
                         bool tolerate_gone, size_t *failed_at)
{
    struct mw_adj_target *c = calloc(n ? n : 1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        c[i] = (struct mw_adj_target){.pid = ch[i].p->pid,
                                      .starttime = ch[i].starttime,
                                      .old_adj = ch[i].old_adj,
                                      .new_adj = ch[i].new_adj};
    int e = mw_targets_adj_apply(root, c, n, tolerate_gone, failed_at);
    for (size_t i = 0; i < n; i++)
        ch[i].result = c[i].result;
    free(c);
    return e;
}

/* One change's outcome in words: what the JSON's "result" says. */
static const char *change_result(const struct prio_plan *pl, size_t i)
{
    if (pl->failed)
        return i == pl->failed_at ? mw_strerror(-pl->failed) : "rolled back";
    return pl->ch[i].result == 0 ? "ok" : pl->ch[i].result == -ESTALE ? "replaced" : "exited";
}

static void changes_json(const struct prio_opts *o, const struct prio_plan *pl)
{
    struct mw_json j;
    mw_json_init(&j, stdout, true);
    mw_json_object_begin(&j, NULL);
    mw_json_bool(&j, "dry_run", o->dry_run);
    mw_json_bool(&j, "applied", !o->dry_run && !pl->failed);
    mw_json_array_begin(&j, "changes");
    for (size_t i = 0; i < pl->n; i++) {
        const struct prio_change *c = &pl->ch[i];
        mw_json_object_begin(&j, NULL);
        mw_json_i64(&j, "pid", c->p->pid);
        mw_json_i64(&j, "old", c->old_adj);
        mw_json_str(&j, "old_class", mw_adj_class_name(c->old_adj));
        mw_json_i64(&j, "new", c->new_adj);
        mw_json_str(&j, "new_class", mw_adj_class_name(c->new_adj));
        if (c->rule) {
            mw_json_i64(&j, "rule_line", c->rule->line);
            mw_json_str(&j, "rule", c->rule->pattern);
        }
        mw_json_str(&j, "cmdline", c->p->cmdline);
        if (!o->dry_run)
            mw_json_str(&j, "result", change_result(pl, i));
        mw_json_object_end(&j);
    }
    mw_json_array_end(&j);
    mw_json_u64(&j, "unchanged", pl->unchanged);
    if (pl->pid1[0])
        mw_json_str(&j, "skipped_pid1", pl->pid1);
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

static void changes_text(const struct prio_opts *o, const struct prio_plan *pl)
{
    const char *verb = o->dry_run ? "would set" : pl->failed ? "not set" : "set";
    bool written = !o->dry_run && !pl->failed;
    for (size_t i = 0; i < pl->n; i++) {
        const struct prio_change *c = &pl->ch[i];
        if (written && c->result == -ESTALE) {
            printf("%7d not changed: another process has this PID now (its start time "
                   "changed since it was chosen)\n",
                   c->p->pid);
            continue;
        }
        if (written && c->result != 0) {
            printf("%7d exited before it was changed\n", c->p->pid);
            continue;
        }
        printf("%7d %s %d (%s) -> %d (%s)", c->p->pid, verb, c->old_adj,
               mw_adj_class_name(c->old_adj), c->new_adj, mw_adj_class_name(c->new_adj));
        if (c->rule)
            printf(" [rule line %d]", c->rule->line);
        fputs("  ", stdout);
        mw_text_put(stdout, c->p->cmdline, strlen(c->p->cmdline), 80);
        putchar('\n');
    }
    if (pl->pid1[0])
        printf("PID 1 skipped (%s); --force to include it\n", pl->pid1);
    printf("%zu %s, %zu already at that value\n", pl->n,
           o->dry_run   ? "would change"
           : pl->failed ? "rolled back"
                        : "changed",
           pl->unchanged);
}

static int explain_failure(const struct prio_change *c, int e)
{
    if (e == -EACCES || e == -EPERM) {
        if (c->new_adj < c->old_adj)
            mw_err("PID %d: cannot lower oom_score_adj from %d to %d: %s (lowering below "
                   "the process's floor needs CAP_SYS_RESOURCE)",
                   c->p->pid, c->old_adj, c->new_adj, mw_strerror(-e));
        else
            mw_err("PID %d: cannot write oom_score_adj: %s (another user's process needs root)",
                   c->p->pid, mw_strerror(-e));
    } else {
        mw_err("PID %d: cannot write oom_score_adj: %s", c->p->pid, mw_strerror(-e));
    }
    mw_err("nothing changed: the values already written were put back");
    return MW_EXIT_FAIL;
}

/* Writes the plan (unless --dry-run), says what changed, and why not
 * when a write failed. Returns the exit code. */
static int plan_apply(const struct mw_root *root, const struct prio_opts *o, bool tolerate_gone,
                      struct prio_plan *pl)
{
    pl->failed = o->dry_run ? 0 : write_changes(root, pl->ch, pl->n, tolerate_gone, &pl->failed_at);
    if (o->json)
        changes_json(o, pl);
    else
        changes_text(o, pl);
    return pl->failed ? explain_failure(&pl->ch[pl->failed_at], pl->failed) : MW_EXIT_OK;
}

static int prio_set(struct mw_ctx *ctx, const struct prio_opts *o, char **pos, int npos)
{
    const struct mw_root *root = &ctx->root;
    int adj = 0, rc, e;
    if ((rc = set_value(o, pos, npos, &adj)) != 0 || (rc = refuse_capture(root, o, "set")) != 0)
        return rc;
    regex_t re;
    bool have_re = false;
    struct prio_plan pl = {.n = 0};
    rc = MW_EXIT_FAIL;
    unsigned what = MW_PT_ADJ | MW_PT_CMDLINE | MW_PT_KTHREADS | MW_PT_ZOMBIES;
    if ((e = mw_proctable_open(&pl.t, root, what)) < 0) {
        mw_err("%s/proc: %s", root->path, mw_strerror(-e));
        goto out;
    }
    if (o->match) {
        if ((rc = compile_match(o, &re)) != 0)
            goto out;
        have_re = true;
        if ((e = mw_proctable_scan(&pl.t)) < 0) {
            mw_err("%s/proc: %s", root->path, mw_strerror(-e));
            goto out;
        }
    } else if ((rc = read_named(&pl.t, pos + 1, npos - 1)) != 0) {
        goto out;
    }
    rc = set_plan(root, o, have_re ? &re : NULL, adj, &pl);
    if (rc == 0)
        rc = plan_apply(root, o, have_re, &pl);
out:
    plan_free(&pl);
    if (have_re)
        regfree(&re);
    return rc;
}

/* A rule that lowers a value below 0 by a name match hands that value to
 * any process that names itself so: say it once per rule. */
static void warn_forgeable_rules(const char *path, const struct mw_rules *rules)
{
    for (size_t i = 0; i < rules->n; i++) {
        const struct mw_rule *r = &rules->v[i];
        if (r->adj >= 0 || mw_match_spec_trusted(&r->spec))
            continue;
        mw_err("warning: %s:%d: '%s' gives %d by %s, which any user's process can match "
               "(exec -a); name the program and its owner: 'exe:/usr/sbin/sshd uid:0 -> %d'",
               path, r->line, r->pattern, r->adj,
               r->spec.qualified ? "exe: or name: alone" : "a name match", r->adj);
    }
}

static int prio_apply(struct mw_ctx *ctx, const struct prio_opts *o, char **pos, int npos)
{
    const struct mw_root *root = &ctx->root;
    if (npos != 1)
        return mw_usage_error("prio", "apply needs one RULES file");
    if (o->match)
        return mw_usage_error("prio", "apply takes its patterns from the rules file, not --match");
    int rc = refuse_capture(root, o, "apply");
    if (rc != 0)
        return rc;
    struct mw_rules rules = {0};
    char err[512];
    int line = 0;
    int e = mw_rules_load(&rules, pos[0], &line, err, sizeof(err));
    if (e < 0) {
        if (line > 0) {
            mw_err("%s:%d: %s", pos[0], line, err);
            return MW_EXIT_FAIL; /* the file, not the command line */
        }
        mw_err("%s: %s", pos[0], err);
        return MW_EXIT_FAIL;
    }
    struct prio_plan pl = {.n = 0};
    rc = MW_EXIT_FAIL;
    if ((e = mw_proctable_open(&pl.t, root, MW_PT_ADJ | MW_PT_CMDLINE)) < 0 ||
        (e = mw_proctable_scan(&pl.t)) < 0) {
        mw_err("%s/proc: %s", root->path, mw_strerror(-e));
    } else if (plan_alloc(&pl) == 0) {
        warn_forgeable_rules(pos[0], &rules);
        rules_plan(root, o, &rules, &pl);
        rc = plan_apply(root, o, true, &pl);
    }
    plan_free(&pl);
    mw_rules_free(&rules);
    return rc;
}

int cli_prio(struct mw_ctx *ctx, int argc, char **argv)
{
    struct prio_opts o = {0};
    char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    int npos = 0;
    if (!pos)
        return MW_EXIT_FAIL;
    int rc = split_args("prio", argc, argv, &o, pos, &npos);
    if (rc != 0) {
        free(pos);
        return rc == 1 ? MW_EXIT_OK : rc;
    }
    const char *sub = npos > 0 ? pos[0] : "show";
    if (npos == 0)
        rc = prio_show(ctx, &o, pos, 0);
    else if (strcmp(sub, "set") == 0)
        rc = prio_set(ctx, &o, pos + 1, npos - 1);
    else if (strcmp(sub, "apply") == 0)
        rc = prio_apply(ctx, &o, pos + 1, npos - 1);
    else if (strcmp(sub, "show") == 0)
        rc = prio_show(ctx, &o, pos + 1, npos - 1);
    else if (sub[0] >= '0' && sub[0] <= '9')
        rc = prio_show(ctx, &o, pos, npos);
    else
        rc = mw_usage_error("prio", "unknown subcommand '%s' (show, set, apply)", sub);
    free(pos);
    return rc;
}
