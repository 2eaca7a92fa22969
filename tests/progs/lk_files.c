/* lk_files: the lmkd seed's ageing test in small — opens, writes, closes
 * and deletes N files in DIR, one after another (each leaves a negative
 * dentry behind, so the dentry cache grows).
 *   lk_files DIR N      (N at most 500000) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lk_files DIR N\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    if (n < 0 || n > 500000)
        n = 500000;
    char path[4096];
    long done = 0;
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%ld", argv[1], i);
        int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            continue;
        if (write(fd, "x", 1) == 1)
            done++;
        close(fd);
        unlink(path);
    }
    printf("%ld\n", done);
    return done == n ? 0 : 1;
}
