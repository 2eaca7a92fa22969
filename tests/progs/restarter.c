/* restarter: a supervisor that restarts its child as soon as it dies, like
 * systemd's Restart=always or Android's ActivityManager restarting a sticky
 * service. With a child that is the biggest process at the highest adj, it
 * reproduces the kill-restart loop of the lmkd seed.
 *
 *   restarter [--adj N] [--name NAME] [--delay MS] [--max-restarts N]
 *             [--duration D] -- CMD [ARG...]
 *
 * Every death is logged to stderr ("restarter: child PID killed by signal 9
 * after 3.20 s, restart #4"). On SIGTERM, SIGINT or --duration the restarter
 * SIGKILLs the child it started, and prints one JSON line: the number of
 * starts, and every death with its time since the restarter started, the
 * signal (0 = exited) and how long that child lived. A child that exits with
 * status 127 (exec failed) is not restarted. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progs.h"

#define RS_LOG_MAX 256 /* deaths kept for the JSON summary */

struct rs_death {
    long pid;
    double at_s, lived_s;
    int sig, status;
};

static volatile sig_atomic_t rs_stop;

static void rs_on_signal(int sig)
{
    (void)sig;
    rs_stop = 1;
}

static void usage(FILE *f)
{
    fputs("Usage: restarter [--adj N] [--name NAME] [--delay MS] [--max-restarts N]\n"
          "                 [--duration D] -- CMD [ARG...]\n"
          "Runs CMD and restarts it as soon as it dies; prints a JSON summary at exit.\n",
          f);
}

struct rs_opts {
    uint64_t delay_ms;
    long max_restarts;
};

static int rs_option(int c, const char *arg, void *ctx)
{
    struct rs_opts *o = ctx;
    switch (c) {
    case 'D':
        return prog_parse_ms(arg, &o->delay_ms);
    case 'm':
        return prog_parse_long(arg, 0, 1000000, &o->max_restarts);
    default:
        return -EINVAL;
    }
}

int main(int argc, char **argv)
{
    struct rs_opts o = {.max_restarts = -1};
    static const struct option lo[] = {
        PROG_COMMON_OPTIONS,
        {"delay", required_argument, NULL, 'D'},
        {"max-restarts", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    /* "+": the options end at the command */
    struct prog_cli cli = {
        .prog = "restarter", .shorts = "+h", .lo = lo, .usage = usage, .own = rs_option, .ctx = &o};
    int quit = prog_parse_args(&cli, argc, argv, -1);
    if (quit >= 0)
        return quit;
    char **cmd = argv + optind;
    prog_apply_adj(&cli);
    uint64_t delay_ms = o.delay_ms, duration_ms = cli.duration_ms;
    long max_restarts = o.max_restarts;
    const char *name = cli.name;
    struct sigaction sa = {.sa_handler = rs_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    static struct rs_death log[RS_LOG_MAX];
    size_t nlog = 0;
    long starts = 0, deaths = 0;
    uint64_t t0 = prog_now_ns();
    pid_t child = -1;
    uint64_t child_t = 0;
    while (!rs_stop) {
        uint64_t now = prog_now_ns();
        if (duration_ms && now - t0 >= duration_ms * 1000000ULL)
            break;
        if (child < 0) {
            if (max_restarts >= 0 && starts > max_restarts)
                break;
            child = fork();
            if (child < 0) {
                perror("restarter: fork");
                prog_sleep_until(now + 100000000ULL);
                continue;
            }
            if (child == 0) {
                signal(SIGTERM, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                execvp(cmd[0], cmd);
                fprintf(stderr, "restarter: %s: %s\n", cmd[0], strerror(errno));
                _exit(127);
            }
            starts++;
            child_t = now;
        }
        /* Poll every 10 ms rather than block in waitpid, so --duration and
         * signals are honoured promptly. */
        int st;
        pid_t r = waitpid(child, &st, WNOHANG);
        if (r == 0) {
            prog_sleep_until(prog_now_ns() + 10000000ULL);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        now = prog_now_ns();
        struct rs_death d = {.pid = (long)child,
                             .at_s = (double)(now - t0) / 1e9,
                             .lived_s = (double)(now - child_t) / 1e9,
                             .sig = r > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                             .status = r > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1};
        deaths++;
        if (nlog < RS_LOG_MAX)
            log[nlog++] = d;
        fprintf(stderr, "restarter: child %ld %s %d after %.2f s, restart #%ld\n", d.pid,
                d.sig ? "killed by signal" : "exited with status", d.sig ? d.sig : d.status,
                d.lived_s, starts);
        child = -1;
        if (d.status == 127)
            break;
        if (delay_ms)
            prog_sleep_until(now + delay_ms * 1000000ULL);
    }
    if (child > 0) { /* only the child we started */
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    printf("{\"prog\":\"restarter\",\"name\":\"%s\",\"pid\":%ld,\"starts\":%ld,\"deaths\":%ld,"
           "\"log\":[",
           name, (long)getpid(), starts, deaths);
    for (size_t i = 0; i < nlog; i++)
        printf("%s{\"pid\":%ld,\"at_s\":%.2f,\"lived_s\":%.2f,\"signal\":%d,\"status\":%d}",
               i ? "," : "", log[i].pid, log[i].at_s, log[i].lived_s, log[i].sig, log[i].status);
    printf("]}\n");
    return 0;
}
