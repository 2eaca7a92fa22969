/* lt_sleepers: N sleeping processes for the victim-choice benchmark. Forks
 * N children that set an oom_score_adj spread over 0..999 (raising needs no
 * privilege), or all ADJ when given, and pause. Prints "ready N" when all exist; on SIGTERM or
 * SIGINT ends every child by the PID it recorded and reaps them.
 *
 * usage: lt_sleepers N [ADJ] */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "lt_common.h"

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    int fixed = argc > 2 ? atoi(argv[2]) : -1; /* -1: the spread */
    if (n <= 0 || n > 100000 || fixed < -1 || fixed > 1000)
        return 2;
    pid_t *kids = calloc((size_t)n, sizeof(pid_t));
    if (!kids)
        return 1;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, &old);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    int made = 0;
    for (; made < n; made++) {
        pid_t p = fork();
        if (p < 0)
            break;
        if (p == 0) {
            char adj[16];
            snprintf(adj, sizeof(adj), "%d", fixed >= 0 ? fixed : (made * 37) % 1000);
            lt_write("/proc/self/oom_score_adj", adj);
            signal(SIGTERM, SIG_DFL);
            sigprocmask(SIG_SETMASK, &old, NULL);
            for (;;)
                pause();
        }
        kids[made] = p;
    }
    printf("ready %d\n", made);
    fflush(stdout);
    while (!stop)
        sigsuspend(&old);
    for (int i = 0; i < made; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < made; i++)
        waitpid(kids[i], NULL, 0);
    return 0;
}
