/* sleepers N PIDFILE: starts N small children that pause(), in a session
 * of its own (setsid), writes every PID (its own first) to PIDFILE, then
 * waits. SIGTERM to the process group ends the children; this parent reaps
 * every one of them before it exits, so none is left as a zombie for init
 * (which on some machines never reaps). Used by tests/bench/bench_top.sh. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sleepers N PIDFILE\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    if (n < 1 || n > 100000) {
        fprintf(stderr, "sleepers: N must be 1..100000\n");
        return 2;
    }
    if (setsid() < 0)
        perror("sleepers: setsid (continuing in the caller's group)");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    FILE *f = fopen(argv[2], "w");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    fprintf(f, "%d\n", (int)getpid());
    pid_t *kids = calloc((size_t)n, sizeof(*kids));
    if (!kids) {
        perror("sleepers: calloc");
        return 1;
    }
    long started = 0;
    for (; started < n && !stop; started++) {
        pid_t c = fork();
        if (c < 0) {
            perror("sleepers: fork");
            break;
        }
        if (c == 0) {
            /* The child: default SIGTERM, then sleep until killed. */
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            for (;;)
                pause();
        }
        kids[started] = c;
        fprintf(f, "%d\n", (int)c);
    }
    fclose(f);
    /* Tell the caller we are ready: a line on stdout. */
    printf("%ld\n", started);
    fflush(stdout);
    while (!stop)
        pause();
    /* Make sure every child got the signal (by its PID: never a group we
     * might share with the caller), then reap them all. */
    for (long i = 0; i < started; i++)
        kill(kids[i], SIGTERM);
    long reaped = 0;
    for (;;) {
        pid_t w = wait(NULL);
        if (w > 0) {
            reaped++;
            continue;
        }
        if (errno == EINTR)
            continue;
        break;
    }
    fprintf(stderr, "sleepers: reaped %ld of %ld children\n", reaped, started);
    free(kids);
    return reaped == started ? 0 : 1;
}
