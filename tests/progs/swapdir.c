/* swapdir: the racer of live_security (the shm race). Exchanges two names in one
 * directory atomically (renameat2 RENAME_EXCHANGE), over and over: a real
 * directory and a symlink pointing outside, so that a program acting on a
 * path sees the directory at one moment and the symlink at the next.
 *
 *   swapdir DIR NAME1 NAME2 [SECONDS [FILE]]
 *
 * Runs until SIGTERM or SECONDS (default 600) and prints the number of
 * exchanges on stderr. With FILE, NAME1 must be a directory: FILE is put
 * back in it (through its descriptor, wherever its name is at the time)
 * whenever something removed it. Exits 1 when the first exchange fails. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: swapdir DIR NAME1 NAME2 [SECONDS]\n");
        return 2;
    }
    int dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        perror(argv[1]);
        return 1;
    }
    int keep = -1;
    if (argc > 5) {
        keep = openat(dfd, argv[2], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (keep < 0) {
            perror(argv[2]);
            return 1;
        }
    }
    unsigned long made = 0;
    time_t end = time(NULL) + (argc > 4 ? atol(argv[4]) : 600);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    unsigned long n = 0;
    while (!stop) {
        if (renameat2(dfd, argv[2], dfd, argv[3], RENAME_EXCHANGE) != 0) {
            if (n == 0) {
                fprintf(stderr, "swapdir: renameat2: %s\n", strerror(errno));
                return 1;
            }
            continue;
        }
        if (keep >= 0 && (n & 0x3f) == 0 && faccessat(keep, argv[5], F_OK, AT_SYMLINK_NOFOLLOW)) {
            int fd = openat(keep, argv[5], O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd >= 0 && write(fd, "x\n", 2) == 2)
                made++;
            if (fd >= 0)
                close(fd);
        }
        if ((++n & 0xfff) == 0 && time(NULL) >= end)
            break;
    }
    fprintf(stderr, "swapdir: %lu exchanges, %s put back %lu times\n", n, argc > 5 ? argv[5] : "-",
            made);
    return 0;
}
