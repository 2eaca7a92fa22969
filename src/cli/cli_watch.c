/* memwarden watch: sample processes or the system every N seconds; a
 * table with the change since the last line, optionally recorded as JSON
 * lines for `leak --from` and `analyze`. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/json.h"
#include "model/sample.h"
#include "proc/slab.h"
#include "model/targets.h"

static void watch_usage(FILE *f)
{
    fprintf(f, "NAME\n"
               "    memwarden watch - sample memory every N seconds, with the change since the\n"
               "    last line\n"
               "\n"
               "SYNOPSIS\n"
               "    memwarden watch [-p PID]... [--match REGEX] [--system] [-i INTERVAL]\n"
               "                    [--duration D] [--count N] [--record FILE [--max-size SIZE]\n"
               "                    [--keep N]] [--json]\n"
               "\n"
               "DESCRIPTION\n"
               "    For each process: RSS, PSS, VMS, shared, CPU %%, the system's used %%\n"
               "    (MemTotal - MemAvailable) and buff/cache; sizes carry the change since\n"
               "    the last line (an arrow and the amount). Without -p/--match it watches the\n"
               "    system: used, available, buff/cache, Slab, SUnreclaim, Shmem. A process\n"
               "    that exits ends its column with a note; the watch goes on for the others.\n"
               "    buff/cache growing is not a leak: reclaim takes it back; 'available' is\n"
               "    what counts.\n"
               "    --record appends every sample as one JSON line (system samples include\n"
               "    every slab cache) to FILE; when FILE reaches --max-size it is rotated to\n"
               "    FILE.1 (FILE.1 to FILE.2, ... keeping --keep files).\n"
               "\n"
               "OPTIONS\n"
               "    -p, --pid PID        watch this process (repeatable)\n"
               "    -m, --match REGEX    watch processes whose name or command line matches\n"
               "    -s, --system         watch the system (the default without -p/--match)\n"
               "    -i, --interval I     time between samples (default 5s)\n"
               "    -d, --duration D     stop after D (default: until interrupted)\n"
               "    -n, --count N        stop after N samples\n"
               "    -r, --record FILE    append samples to FILE (JSON lines)\n"
               "        --max-size SIZE  rotate FILE at this size (default 10M; 0 never)\n"
               "        --keep N         rotated files kept (default 3)\n"
               "        --json           print samples as JSON lines instead of the table\n"
               "    -h, --help           this text\n"
               "\n"
               "EXIT STATUS\n"
               "    0 done, 1 nothing could be sampled or the record could not be written,\n"
               "    2 usage error.\n"
               "\n"
               "EXAMPLES\n"
               "    memwarden watch -p $(pgrep -f 'python.*main') -i 5\n"
               "    memwarden watch --system -i 1m --record /var/log/mem.jsonl\n"
               "    memwarden leak --from /var/log/mem.jsonl --system\n");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct target {
    int pid;
    uint64_t starttime;
    bool started, gone;
    struct mw_sample prev;
    double t0;
};

/* "256.3 MiB" or "258.4 MiB ↑2.1 MiB" */
static char *with_delta(char *buf, size_t cap, uint64_t cur, uint64_t prev, bool have_prev)
{
    char a[32], b[32];
    mw_fmt_size(a, sizeof(a), cur);
    if (!have_prev || cur == prev) {
        snprintf(buf, cap, "%s", a);
    } else {
        uint64_t d = cur > prev ? cur - prev : prev - cur;
        snprintf(buf, cap, "%s %s%s", a, cur > prev ? "\xe2\x86\x91" : "\xe2\x86\x93",
                 mw_fmt_size(b, sizeof(b), d));
    }
    return buf;
}

/* Prints S padded to WIDTH display columns (UTF-8 arrows are one column
 * but three bytes, so printf's widths do not do). */
static void cell(const char *s, int width, const char *sep)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xc0) != 0x80;
    fputs(s, stdout);
    for (; cols < width; cols++)
        putchar(' ');
    fputs(sep, stdout);
}

static void clock_str(char *buf, size_t cap, double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, cap, "%H:%M:%S", &tm);
}

int cli_watch(struct mw_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"pid", required_argument, NULL, 'p'},      {"match", required_argument, NULL, 'm'},
        {"system", no_argument, NULL, 's'},         {"interval", required_argument, NULL, 'i'},
        {"duration", required_argument, NULL, 'd'}, {"count", required_argument, NULL, 'n'},
        {"record", required_argument, NULL, 'r'},   {"max-size", required_argument, NULL, 'S'},
        {"keep", required_argument, NULL, 'K'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {0},
    };
    int *pids = NULL, *resolved = NULL;
    size_t npids = 0, nres = 0;
    const char *match = NULL, *record = NULL;
    bool system = false, json = false;
    uint64_t interval_ms = 5000, duration_ms = 0, max_size = 10u << 20;
    unsigned long count = 0, keep = 3, ul;
    struct target *t = NULL;
    int c, ret = MW_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:m:si:d:n:r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            if (mw_opt_uint("--pid", optarg, 1, 0x7fffffff, &ul) < 0)
                goto out;
            int *p = realloc(pids, (npids + 1) * sizeof(*p));
            if (!p) {
                ret = MW_EXIT_FAIL;
                goto out;
            }
            pids = p;
            pids[npids++] = (int)ul;
            break;
        }
        case 'm':
            match = optarg;
            break;
        case 's':
            system = true;
            break;
        case 'i':
            if (mw_opt_duration_ms("--interval", optarg, &interval_ms) < 0)
                goto out;
            if (!interval_ms) {
                ret = mw_usage_error("watch", "--interval must be more than 0");
                goto out;
            }
            break;
        case 'd':
            if (mw_opt_duration_ms("--duration", optarg, &duration_ms) < 0)
                goto out;
            break;
        case 'n':
            if (mw_opt_uint("--count", optarg, 1, 1000000000, &count) < 0)
                goto out;
            break;
        case 'r':
            record = optarg;
            break;
        case 'S':
            if (mw_opt_size("--max-size", optarg, &max_size) < 0)
                goto out;
            break;
        case 'K':
            if (mw_opt_uint("--keep", optarg, 1, 99, &keep) < 0)
                goto out;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            watch_usage(stdout);
            ret = MW_EXIT_OK;
            goto out;
        default:
            ret = mw_usage_error("watch", "unknown option");
            goto out;
        }
    }
    if (optind < argc) {
        ret = mw_usage_error("watch", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!npids && !match)
        system = true;
    int rc = mw_targets_resolve(&ctx->root, pids, npids, match, &resolved, &nres);
    if (rc < 0) {
        if (rc == -EINVAL)
            ret = mw_usage_error("watch", "--match '%s' is not a valid regular expression", match);
        else
            ret = MW_EXIT_FAIL;
        goto out;
    }
    if (!nres && !system) {
        mw_err("watch: no process matches %s", match);
        ret = MW_EXIT_FAIL;
        goto out;
    }
    t = calloc(nres ? nres : 1, sizeof(*t));
    if (!t) {
        ret = MW_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < nres; i++)
        t[i].pid = resolved[i];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    long clk = sysconf(_SC_CLK_TCK);
    struct mw_sample sys_prev;
    memset(&sys_prev, 0, sizeof(sys_prev));
    bool have_sys_prev = false;
    uint64_t t0 = mw_now_ms();
    size_t sampled = 0;
    ret = MW_EXIT_OK;
    if (!json && nres)
        printf("%-8s | %-7s %-15s | %-20s | %-20s | %-10s | %-10s | %5s | %9s | %s\n", "time",
               "PID", "name", "RSS", "PSS", "VMS", "shared", "CPU%", "sys used%", "buff/cache");
    if (!json && system)
        printf("%-8s | %s%-20s | %-20s | %-20s | %-18s | %-18s | %-18s | %s\n", "time",
               nres ? "system | " : "", "used", "available", "buff/cache", "Slab", "SUnreclaim",
               "Shmem", "used%");
    for (unsigned long k = 0; !stop; k++) {
        uint64_t due = t0 + k * interval_ms;
        if ((count && k >= count) || (duration_ms && due - t0 > duration_ms))
            break;
        mw_sleep_until_ms(due, &stop);
        if (stop)
            break;
        double now = mw_sample_now_s();
        char ts[16], a[48], b[48], cc[48], d[48], e[48], f[48];
        clock_str(ts, sizeof(ts), now);
        size_t alive = 0;
        for (size_t i = 0; i < nres; i++) {
            struct target *x = &t[i];
            if (x->gone)
                continue;
            struct mw_sample s;
            int r = mw_sample_process(&ctx->root, x->pid, now, &s);
            if (r == 0 && x->started && s.starttime != x->starttime)
                r = -ESRCH; /* PID reused by another program */
            if (r < 0) {
                x->gone = true;
                struct mw_sample g;
                memset(&g, 0, sizeof(g));
                g.t_s = now;
                g.kind = MW_SAMPLE_GONE;
                g.pid = x->pid;
                if (x->started) {
                    g.starttime = x->starttime;
                    snprintf(g.comm, sizeof(g.comm), "%s", x->prev.comm);
                }
                if (json)
                    mw_sample_write_json(stdout, &g, NULL);
                else if (x->started)
                    printf("%-8s | %-7d %-15.15s | exited after %.1f s of watching\n", ts, x->pid,
                           x->prev.comm, now - x->t0);
                else
                    printf("%-8s | %-7d %-15s | no such process (%s)\n", ts, x->pid, "-",
                           strerror(-r));
                if (record && x->started &&
                    mw_record_append(record, max_size, (unsigned)keep, &g, NULL) < 0)
                    ret = MW_EXIT_FAIL;
                continue;
            }
            alive++;
            if (json) {
                mw_sample_write_json(stdout, &s, NULL);
            } else {
                double cpu = x->started ? mw_sample_cpu_pct(&x->prev, &s, clk) : 0;
                printf("%-8s | %-7d %-15.15s | ", ts, x->pid, s.comm);
                cell(with_delta(a, sizeof(a), s.rss, x->prev.rss, x->started), 20, " | ");
                cell(s.have_pss ? with_delta(b, sizeof(b), s.pss, x->prev.pss, x->started) : "-",
                     20, " | ");
                cell(mw_fmt_size(cc, sizeof(cc), s.vms), 10, " | ");
                cell(mw_fmt_size(d, sizeof(d), s.shared), 10, " | ");
                printf("%5.1f | %8.1f%% | ", cpu, mw_pct(s.mem_used, s.mem_total));
                cell(with_delta(e, sizeof(e), s.buff_cache, x->prev.buff_cache, x->started), 0,
                     "\n");
            }
            if (record && mw_record_append(record, max_size, (unsigned)keep, &s, NULL) < 0) {
                mw_err("watch: cannot write %s: %s", record, strerror(errno));
                ret = MW_EXIT_FAIL;
                stop = 1;
            }
            if (!x->started) {
                x->started = true;
                x->starttime = s.starttime;
                x->t0 = now;
            }
            x->prev = s;
        }
        if (system) {
            struct mw_sample s;
            if (mw_sample_system(&ctx->root, now, &s) < 0) {
                mw_err("watch: cannot read %s/proc/meminfo",
                       strcmp(ctx->root.path, "/") ? ctx->root.path : "");
                ret = MW_EXIT_FAIL;
                break;
            }
            struct mw_slab_set slab;
            bool have_slab = (record || json) && mw_slab_read(&ctx->root, &slab) == 0;
            if (json) {
                mw_sample_write_json(stdout, &s, have_slab ? &slab : NULL);
            } else {
                bool hp = have_sys_prev;
                /* with processes too, system rows say so */
                printf("%-8s | %s", ts, nres ? "system | " : "");
                cell(with_delta(a, sizeof(a), s.mem_used, sys_prev.mem_used, hp), 20, " | ");
                cell(with_delta(b, sizeof(b), s.mem_available, sys_prev.mem_available, hp), 20,
                     " | ");
                cell(with_delta(cc, sizeof(cc), s.buff_cache, sys_prev.buff_cache, hp), 20, " | ");
                cell(with_delta(d, sizeof(d), s.slab, sys_prev.slab, hp), 18, " | ");
                cell(with_delta(e, sizeof(e), s.sunreclaim, sys_prev.sunreclaim, hp), 18, " | ");
                cell(with_delta(f, sizeof(f), s.shmem, sys_prev.shmem, hp), 18, " | ");
                printf("%.1f%%\n", mw_pct(s.mem_used, s.mem_total));
            }
            if (record && mw_record_append(record, max_size, (unsigned)keep, &s,
                                           have_slab ? &slab : NULL) < 0) {
                mw_err("watch: cannot write %s: %s", record, strerror(errno));
                ret = MW_EXIT_FAIL;
                stop = 1;
            }
            if (have_slab)
                mw_slab_set_free(&slab);
            sys_prev = s;
            have_sys_prev = true;
            alive++;
        }
        fflush(stdout);
        sampled += alive;
        if (!alive)
            break;
    }
    if (!sampled && ret == MW_EXIT_OK && !stop)
        ret = MW_EXIT_FAIL; /* nothing could be sampled */
out:
    free(pids);
    free(resolved);
    free(t);
    return ret;
}
