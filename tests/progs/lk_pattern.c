/* lk_pattern: a process with a known memory pattern for the leak tests.
 *   lk_pattern --pattern heap|mmap|sawtooth|flat|step [--rate BYTES/S]
 *              [--cap BYTES] [--period MS] [--seconds N]
 * Prints its PID on stdout, then: heap grows the brk heap by 64 KiB
 * sbrk() steps, mmap grows anonymous 1 MiB mappings, sawtooth grows mappings
 * for a period then unmaps them all (a collected heap), flat allocates
 * once before printing its PID, step allocates half the cap one second
 * after starting and then holds still. Growth stops at the cap (default
 * 40 MiB); the process exits by itself after --seconds (default 20). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS  50
#define MAX_MAPS 4096

static void *maps[MAX_MAPS];
static size_t nmaps;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void map_one(size_t sz)
{
    if (nmaps >= MAX_MAPS)
        return;
    void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    memset(p, 0x5a, sz);
    maps[nmaps++] = p;
}

/* The brk heap grows by sbrk() itself: malloc() may serve from mmap (a
 * sanitizer's allocator always does), the leak must land in [heap]. */
static void touch_heap(size_t sz)
{
    void *p = sbrk((intptr_t)sz);
    if (p == (void *)-1)
        return;
    memset(p, 0x5a, sz);
}

int main(int argc, char **argv)
{
    const char *pattern = "flat";
    size_t rate = 5u << 20, cap = 40u << 20;
    long period_ms = 1000, seconds = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pattern") == 0)
            pattern = argv[i + 1];
        else if (strcmp(argv[i], "--rate") == 0)
            rate = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--cap") == 0)
            cap = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--period") == 0)
            period_ms = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtol(argv[i + 1], NULL, 10);
    }
    if (cap > (200u << 20))
        cap = 200u << 20; /* never a hog */
    if (seconds > 120)
        seconds = 120;
    size_t chunk = strcmp(pattern, "heap") == 0 ? 64u << 10 : 1u << 20;
    size_t per_tick = rate / (1000 / TICK_MS);
    if (strcmp(pattern, "flat") == 0 || strcmp(pattern, "step") == 0)
        for (size_t held = 0; held < cap / 2; held += 1u << 20)
            map_one(1u << 20);
    printf("%d\n", (int)getpid());
    fflush(stdout);
    size_t held = 0, acc = 0;
    long elapsed = 0, since_drop = 0;
    while (elapsed < seconds * 1000L) {
        sleep_ms(TICK_MS);
        elapsed += TICK_MS;
        if (strcmp(pattern, "heap") == 0 || strcmp(pattern, "mmap") == 0 ||
            strcmp(pattern, "sawtooth") == 0) {
            acc += per_tick;
            while (acc >= chunk && held + chunk <= cap) {
                if (chunk == (64u << 10))
                    touch_heap(chunk);
                else
                    map_one(chunk);
                held += chunk;
                acc -= chunk;
            }
            if (held + chunk > cap)
                acc = 0;
        }
        if (strcmp(pattern, "sawtooth") == 0 && (since_drop += TICK_MS) >= period_ms) {
            for (size_t i = 0; i < nmaps; i++)
                munmap(maps[i], 1u << 20);
            nmaps = 0;
            held = 0;
            since_drop = 0;
        }
        if (strcmp(pattern, "step") == 0 && elapsed == 1000)
            for (size_t h = 0; h < cap / 2; h += 1u << 20)
                map_one(1u << 20);
    }
    return 0;
}
