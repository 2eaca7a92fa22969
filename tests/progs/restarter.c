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

int main(int argc, char **argv)
{
    uint64_t delay_ms = 0, duration_ms = 0;
    long adj = 0, max_restarts = -1;
    int have_adj = 0;
    const char *name = "restarter";
    static const struct option lo[] = {
        {"adj", required_argument, NULL, 'a'},
        {"name", required_argument, NULL, 'n'},
        {"delay", required_argument, NULL, 'D'},
        {"max-restarts", required_argument, NULL, 'm'},
        {"duration", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'a':
            bad = prog_parse_long(optarg, -1000, 1000, &adj);
            have_adj = 1;
            break;
        case 'n':
            name = optarg;
            break;
        case 'D':
            bad = prog_parse_ms(optarg, &delay_ms);
            break;
        case 'm':
            bad = prog_parse_long(optarg, 0, 1000000, &max_restarts);
            break;
        case 'd':
            bad = prog_parse_ms(optarg, &duration_ms);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "restarter: bad value '%s'\n", optarg);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    char **cmd = argv + optind;
    int err = prog_set_adj(have_adj, adj, name);
    if (err < 0)
        fprintf(stderr, "restarter: oom_score_adj: %s\n", strerror(-err));
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
