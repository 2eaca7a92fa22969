/* memwarden completion: the shell completion scripts for bash, zsh and
 * fish, written from the command table and each command's option table
 * (the ones its --help and getopt use), so they cannot drift apart. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct mw_opt completion_opts[] = {
    MW_OPT_HELP,
    {0},
};

const struct mw_cmd_doc cli_completion_doc = {
    .head = "NAME\n"
            "    memwarden completion - shell completion for bash, zsh or fish\n"
            "\n"
            "SYNOPSIS\n"
            "    memwarden completion bash|zsh|fish\n"
            "\n"
            "DESCRIPTION\n"
            "    Prints the completion script for the shell: every command, every option\n"
            "    of each (from the tables its --help is made from), the words an option\n"
            "    takes (--sort pss, --profile small, ...), files, directories, process ids\n"
            "    and users where an option wants one. make install and the Debian package\n"
            "    put the three scripts where the shells look for them: bash-completion's\n"
            "    completions directory, zsh's site-functions (vendor-completions in the\n"
            "    package), fish's vendor_completions.d.\n",
    .opts = completion_opts,
    .exit_ok = "the script was printed",
    .exit_fail = "it could not be written (stdout closed)",
    .examples = "    source <(memwarden completion bash)\n"
                "    memwarden completion zsh > ~/.zfunc/_memwarden\n"
                "    memwarden completion fish > ~/.config/fish/completions/memwarden.fish\n",
    .operands = "bash zsh fish",
};

/* What an option's value completes to. */
enum kind { K_NONE, K_WORDS, K_FILE, K_DIR, K_PID, K_USER, K_COMMAND };

/* O's value kind: its words, else by the name of its value. */
static enum kind opt_kind(const struct mw_opt *o)
{
    static const struct {
        const char *arg;
        enum kind kind;
    } by_arg[] = {
        {"FILE", K_FILE},  {"RULES", K_FILE}, {"DIR", K_DIR},   {"OUTDIR", K_DIR},
        {"CGROUP", K_DIR}, {"PID", K_PID},    {"USER", K_USER},
    };
    if (o->words)
        return K_WORDS;
    if (!o->arg)
        return K_NONE;
    for (size_t i = 0; i < MW_ARRAY_SIZE(by_arg); i++)
        if (strcmp(o->arg, by_arg[i].arg) == 0)
            return by_arg[i].kind;
    return K_NONE;
}

/* A command's operands: "@file", "@dir", "@command" or words. */
static enum kind operand_kind(const char *operands)
{
    if (!operands)
        return K_NONE;
    if (strcmp(operands, "@file") == 0)
        return K_FILE;
    if (strcmp(operands, "@dir") == 0)
        return K_DIR;
    if (strcmp(operands, "@command") == 0)
        return K_COMMAND;
    return K_WORDS;
}

/* An option's help on one line for a shell's menu: its lines joined, the
 * characters in DROP left out (a shell's quoting), cut after a word at
 * about 60 columns ("..." then); at most CAP - 1 bytes. */
static const char *first_line(char *buf, size_t cap, const char *help, const char *drop)
{
    size_t n = 0, room = cap - 1 < 64 ? cap - 1 : 64;
    const char *p = help;
    for (; *p && n + 1 < room; p++)
        if (!strchr(drop, *p))
            buf[n++] = *p == '\n' ? ' ' : *p;
    if (*p) { /* cut: back to the last blank, and say so */
        while (n > 0 && buf[n - 1] != ' ')
            n--;
        while (n > 0 && buf[n - 1] == ' ')
            n--;
        if (n + 4 <= cap - 1) {
            memcpy(buf + n, "...", 3);
            n += 3;
        }
    }
    buf[n] = '\0';
    return buf;
}

/* ---- bash ---- */

/* Whether O (an option of a table) takes a value of kind K. */
static bool takes_kind(const struct mw_opt *o, enum kind k)
{
    return opt_kind(o) == k && (k != K_NONE || o->arg);
}

static bool any_of_kind(const struct mw_opt *opts, enum kind k)
{
    for (const struct mw_opt *o = opts; o->name; o++)
        if (takes_kind(o, k))
            return true;
    return false;
}

/* "--scope|--state" patterns of one kind for a case arm. */
static void bash_pattern(FILE *f, const struct mw_opt *opts, enum kind k)
{
    bool any = false;
    for (const struct mw_opt *o = opts; o->name; o++) {
        if (!takes_kind(o, k))
            continue;
        fprintf(f, "%s--%s", any ? "|" : "", o->name);
        if (o->flags & MW_OPT_SHORT)
            fprintf(f, "|-%c", o->val);
        any = true;
    }
}

static void bash_values(FILE *f, const struct mw_opt *opts)
{
    static const char *const action[] = {
        [K_FILE] = "COMPREPLY=($(compgen -f -- \"$cur\"))",
        [K_DIR] = "COMPREPLY=($(compgen -d -- \"$cur\"))",
        [K_PID] = "COMPREPLY=($(compgen -W \"$(ps -e -o pid= 2>/dev/null)\" -- \"$cur\"))",
        [K_USER] = "COMPREPLY=($(compgen -u -- \"$cur\"))",
        [K_NONE] = "COMPREPLY=()",
    };
    static const enum kind kinds[] = {K_FILE, K_DIR, K_PID, K_USER, K_NONE};
    fputs("        case $prev in\n", f);
    for (const struct mw_opt *o = opts; o->name; o++) {
        if (opt_kind(o) != K_WORDS)
            continue;
        fprintf(f, "        --%s", o->name);
        if (o->flags & MW_OPT_SHORT)
            fprintf(f, "|-%c", o->val);
        fprintf(f, ") COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n", o->words);
    }
    for (size_t i = 0; i < MW_ARRAY_SIZE(kinds); i++) {
        if (!any_of_kind(opts, kinds[i]))
            continue;
        fputs("        ", f);
        bash_pattern(f, opts, kinds[i]);
        fprintf(f, ") %s; return ;;\n", action[kinds[i]]);
    }
    fputs("        esac\n", f);
}

static void bash_words(FILE *f, const struct mw_opt *opts)
{
    for (const struct mw_opt *o = opts; o->name; o++) {
        fprintf(f, " --%s", o->name);
        if (o->flags & MW_OPT_SHORT)
            fprintf(f, " -%c", o->val);
    }
}

static void bash_operands(FILE *f, const char *operands)
{
    switch (operand_kind(operands)) {
    case K_FILE:
        fputs("        COMPREPLY=($(compgen -f -- \"$cur\"))\n", f);
        break;
    case K_DIR:
        fputs("        COMPREPLY=($(compgen -d -- \"$cur\"))\n", f);
        break;
    case K_COMMAND:
        fputs("        COMPREPLY=($(compgen -c -- \"$cur\"))\n", f);
        break;
    case K_WORDS:
        fprintf(f, "        [ \"$nops\" -eq 0 ] && COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n",
                operands);
        break;
    default:
        break;
    }
}

static void bash_command(FILE *f, const struct mw_command *c)
{
    fprintf(f, "    %s)\n", c->name);
    bash_values(f, c->doc->opts);
    fputs("        if [[ $cur == -* && $dashdash -eq 0 ]]; then\n"
          "            COMPREPLY=($(compgen -W '",
          f);
    bash_words(f, c->doc->opts);
    fputs(" --root' -- \"$cur\"))\n            return\n        fi\n", f);
    bash_operands(f, c->doc->operands);
    fputs("        ;;\n", f);
}

static void bash_script(FILE *f)
{
    fputs(
        "# bash completion for memwarden (made by 'memwarden completion bash')\n"
        "_memwarden() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "    local i cmd= nops=0 dashdash=0\n"
        "    COMPREPLY=()\n"
        "    # the command: the first word that is neither an option nor --root's DIR\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        case ${COMP_WORDS[i]} in\n"
        "        --root) ((i++)) ;;\n"
        "        --) [ -n \"$cmd\" ] && dashdash=1 ;;\n"
        "        -*) ;;\n"
        "        *) if [ -z \"$cmd\" ]; then cmd=${COMP_WORDS[i]}; else nops=$((nops + 1)); fi ;;\n"
        "        esac\n"
        "    done\n"
        "    if [ \"$prev\" = --root ]; then COMPREPLY=($(compgen -d -- \"$cur\")); return; fi\n"
        "    case $cmd in\n"
        "    '')\n"
        "        if [[ $cur == -* ]]; then\n"
        "            COMPREPLY=($(compgen -W '",
        f);
    bash_words(f, mw_global_opts);
    fputs("' -- \"$cur\"))\n        else\n            COMPREPLY=($(compgen -W 'help", f);
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f, " %s", mw_commands[i].name);
    fputs("' -- \"$cur\"))\n        fi\n        ;;\n    help)\n"
          "        [ \"$nops\" -eq 0 ] && COMPREPLY=($(compgen -W '",
          f);
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f, "%s%s", i ? " " : "", mw_commands[i].name);
    fputs("' -- \"$cur\"))\n        ;;\n", f);
    for (size_t i = 0; i < mw_ncommands; i++)
        bash_command(f, &mw_commands[i]);
    fputs("    esac\n}\ncomplete -F _memwarden memwarden\n", f);
}

/* ---- zsh ---- */

static const char *zsh_action(const struct mw_opt *o, char *buf, size_t cap)
{
    switch (opt_kind(o)) {
    case K_WORDS:
        snprintf(buf, cap, "(%s)", o->words);
        return buf;
    case K_FILE:
        return "_files";
    case K_DIR:
        return "_files -/";
    case K_PID:
        return "_pids";
    case K_USER:
        return "_users";
    default:
        return " ";
    }
}

/* One _arguments spec: '(-p --pid)'{-p,--pid=}'[watch this process]:PID:_pids' */
static void zsh_spec(FILE *f, const struct mw_opt *o)
{
    char desc[160], act[200];
    first_line(desc, sizeof(desc), o->help, "[]'\\:");
    const char *eq = o->arg ? "=" : "";
    if (o->flags & MW_OPT_SHORT)
        fprintf(f, "        '(-%c --%s)'{-%c,--%s%s}'[%s]", o->val, o->name, o->val, o->name, eq,
                desc);
    else
        fprintf(f, "        '--%s%s[%s]", o->name, eq, desc);
    if (o->arg)
        fprintf(f, ":%s:%s", o->arg, zsh_action(o, act, sizeof(act)));
    fputs("' \\\n", f);
}

static void zsh_command(FILE *f, const struct mw_command *c)
{
    fprintf(f, "    %s)\n        _arguments -S \\\n", c->name);
    for (const struct mw_opt *o = c->doc->opts; o->name; o++)
        zsh_spec(f, o);
    fputs("        '--root=[read /proc and /sys under DIR]:DIR:_files -/' \\\n", f);
    switch (operand_kind(c->doc->operands)) {
    case K_FILE:
        fputs("        '*:file:_files'", f);
        break;
    case K_DIR:
        fputs("        '*:directory:_files -/'", f);
        break;
    case K_COMMAND:
        fputs("        '*::command:_normal'", f);
        break;
    case K_WORDS:
        fprintf(f, "        '1:what:(%s)' '*: :_files'", c->doc->operands);
        break;
    default:
        fputs("       ", f); /* no operands */
        break;
    }
    fputs(" && ret=0\n        ;;\n", f);
}

static void zsh_script(FILE *f)
{
    char desc[160];
    fputs("#compdef memwarden\n"
          "# zsh completion for memwarden (made by 'memwarden completion zsh')\n"
          "_memwarden() {\n"
          "    local curcontext=$curcontext state line ret=1\n"
          "    _arguments -C \\\n"
          "        '--root=[read /proc and /sys under DIR]:DIR:_files -/' \\\n"
          "        '(- *)'{-h,--help}'[list the commands]' \\\n"
          "        '(- *)--version[print the version]' \\\n"
          "        '1:command:->command' \\\n"
          "        '*::arg:->args' && ret=0\n"
          "    case $state in\n"
          "    command)\n"
          "        local -a cmds\n"
          "        cmds=(\n"
          "            'help:the help of a command'\n",
          f);
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f, "            '%s:%s'\n", mw_commands[i].name,
                first_line(desc, sizeof(desc), mw_commands[i].summary, "'"));
    fputs("        )\n"
          "        _describe -t commands 'memwarden command' cmds && ret=0\n"
          "        ;;\n"
          "    args)\n"
          "        case $words[1] in\n"
          "        help) _arguments '1:command:(",
          f);
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f, "%s%s", i ? " " : "", mw_commands[i].name);
    fputs(")' && ret=0 ;;\n", f);
    for (size_t i = 0; i < mw_ncommands; i++)
        zsh_command(f, &mw_commands[i]);
    fputs("        esac\n        ;;\n    esac\n    return ret\n}\n_memwarden \"$@\"\n", f);
}

/* ---- fish ---- */

static void fish_option(FILE *f, const struct mw_command *c, const struct mw_opt *o)
{
    char desc[160];
    fprintf(f, "complete -c memwarden -n '__memwarden_is %s'", c->name);
    if (o->flags & MW_OPT_SHORT)
        fprintf(f, " -s %c", o->val);
    fprintf(f, " -l %s", o->name);
    switch (opt_kind(o)) {
    case K_WORDS:
        fprintf(f, " -x -a '%s'", o->words);
        break;
    case K_FILE:
        fputs(" -r -F", f);
        break;
    case K_DIR:
        fputs(" -x -a '(__fish_complete_directories)'", f);
        break;
    case K_PID:
        fputs(" -x -a '(__fish_complete_pids)'", f);
        break;
    case K_USER:
        fputs(" -x -a '(__fish_complete_users)'", f);
        break;
    default:
        if (o->arg)
            fputs(" -x", f);
        break;
    }
    fprintf(f, " -d '%s'\n", first_line(desc, sizeof(desc), o->help, "'\\"));
}

static void fish_operands(FILE *f, const struct mw_command *c)
{
    const char *is = "complete -c memwarden -n '__memwarden_is";
    switch (operand_kind(c->doc->operands)) {
    case K_FILE:
        fprintf(f, "%s %s' -F\n", is, c->name);
        break;
    case K_DIR:
        fprintf(f, "%s %s' -x -a '(__fish_complete_directories)'\n", is, c->name);
        break;
    case K_COMMAND:
        fprintf(f, "%s %s' -x -a '(__fish_complete_command)'\n", is, c->name);
        break;
    case K_WORDS:
        fprintf(f, "%s %s; and __memwarden_first' -x -a '%s'\n", is, c->name, c->doc->operands);
        break;
    default:
        break;
    }
}

static void fish_script(FILE *f)
{
    char desc[160];
    fputs("# fish completion for memwarden (made by 'memwarden completion fish')\n"
          "# the command: the first word that is neither an option nor --root's DIR\n"
          "function __memwarden_words\n"
          "    set -l w (commandline -opc)\n"
          "    set -e w[1]\n"
          "    set -l skip 0\n"
          "    for x in $w\n"
          "        if test $skip = 1; set skip 0; continue; end\n"
          "        switch $x\n"
          "            case --root; set skip 1\n"
          "            case '-*'\n"
          "            case '*'; echo $x\n"
          "        end\n"
          "    end\n"
          "end\n"
          "function __memwarden_is\n"
          "    set -l w (__memwarden_words)\n"
          "    test \"$w[1]\" = \"$argv[1]\"\n"
          "end\n"
          "function __memwarden_first\n"
          "    test (count (__memwarden_words)) -eq 1\n"
          "end\n"
          "complete -c memwarden -f\n"
          "complete -c memwarden -n 'test (count (__memwarden_words)) -eq 0' -l root -x -a "
          "'(__fish_complete_directories)' -d 'read /proc and /sys under DIR'\n"
          "complete -c memwarden -n 'test (count (__memwarden_words)) -eq 0' -s h -l help "
          "-d 'list the commands'\n"
          "complete -c memwarden -n 'test (count (__memwarden_words)) -eq 0' -l version "
          "-d 'print the version'\n"
          "complete -c memwarden -n 'test (count (__memwarden_words)) -eq 0' -a help "
          "-d 'the help of a command'\n",
          f);
    for (size_t i = 0; i < mw_ncommands; i++)
        fprintf(f,
                "complete -c memwarden -n 'test (count (__memwarden_words)) -eq 0' -a %s "
                "-d '%s'\n",
                mw_commands[i].name, first_line(desc, sizeof(desc), mw_commands[i].summary, "'"));
    for (size_t i = 0; i < mw_ncommands; i++) {
        const struct mw_command *c = &mw_commands[i];
        fprintf(f, "complete -c memwarden -n '__memwarden_is help; and __memwarden_first' -a %s\n",
                c->name);
        for (const struct mw_opt *o = c->doc->opts; o->name; o++)
            fish_option(f, c, o);
        fish_operands(f, c);
    }
}

int cli_completion(struct mw_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    int c;
    optind = 1;
    while ((c = mw_getopt(argc, argv, &cli_completion_doc)) != -1) {
        if (c != 'h')
            return mw_opt_error("completion", c, argv);
        mw_help(stdout, &cli_completion_doc);
        return MW_EXIT_OK;
    }
    if (optind + 1 != argc)
        return mw_usage_error("completion", "name one shell: bash, zsh or fish");
    const char *sh = argv[optind];
    if (strcmp(sh, "bash") == 0)
        bash_script(stdout);
    else if (strcmp(sh, "zsh") == 0)
        zsh_script(stdout);
    else if (strcmp(sh, "fish") == 0)
        fish_script(stdout);
    else
        return mw_usage_error("completion", "'%s': the shells are bash, zsh and fish", sh);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        mw_err("completion: cannot write the script: %s", mw_strerror(errno));
        return MW_EXIT_FAIL;
    }
    return MW_EXIT_OK;
}
