#include "model/sample.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/safeopen.h"
#include "proc/meminfo.h"
#include "proc/procs.h"

double mw_sample_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static void fill_system(struct mw_sample *s, const struct mw_meminfo *mi)
{
    struct mw_free fr;
    mw_free_compute(mi, 0, &fr);
    s->mem_total = fr.total;
    s->mem_available = fr.available;
    s->mem_used = fr.used;
    s->buff_cache = fr.buff_cache;
    s->shmem = mw_meminfo_bytes(mi, MI_SHMEM);
    s->slab = mw_meminfo_bytes(mi, MI_SLAB);
    s->sreclaimable = mw_meminfo_bytes(mi, MI_SRECLAIMABLE);
    s->sunreclaim = mw_meminfo_bytes(mi, MI_SUNRECLAIM);
    s->page_tables = mw_meminfo_bytes(mi, MI_PAGE_TABLES);
    s->kernel_stack = mw_meminfo_bytes(mi, MI_KERNEL_STACK);
}

int mw_sample_system(const struct mw_root *root, double t_s, struct mw_sample *out)
{
    struct mw_meminfo mi;
    int rc = mw_meminfo_read(root, &mi, NULL);
    if (rc < 0)
        return rc;
    struct mw_sample s;
    memset(&s, 0, sizeof(s));
    s.t_s = t_s;
    s.kind = MW_SAMPLE_SYSTEM;
    fill_system(&s, &mi);
    *out = s;
    return 0;
}

static int read_pid_file(const struct mw_root *root, int pid, const char *name, char **buf)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
    int rc = mw_read_file(root, path, buf, NULL);
    return rc == -ENOENT ? -ESRCH : rc;
}

int mw_sample_process(const struct mw_root *root, int pid, double t_s, struct mw_sample *out)
{
    struct mw_sample s;
    memset(&s, 0, sizeof(s));
    char *buf = NULL;
    struct mw_proc_stat st;
    int rc = read_pid_file(root, pid, "stat", &buf);
    if (rc < 0)
        return rc;
    rc = mw_proc_stat_parse_buf(&st, buf);
    free(buf);
    buf = NULL;
    if (rc < 0)
        return rc;
    if (st.state == 'Z' || st.state == 'X')
        return -ESRCH;
    s.t_s = t_s;
    s.kind = MW_SAMPLE_PROCESS;
    s.pid = pid;
    s.starttime = st.starttime;
    snprintf(s.comm, sizeof(s.comm), "%s", st.comm);
    s.cpu_ticks = st.utime + st.stime;
    s.vms = st.vsize;
    uint64_t page = root->page_size;
    struct mw_proc_statm sm;
    if (read_pid_file(root, pid, "statm", &buf) == 0 && mw_proc_statm_parse_buf(&sm, buf) == 0) {
        s.rss = sm.resident * page;
        s.shared = sm.shared * page;
    } else {
        s.rss = st.rss_pages * page;
    }
    free(buf);
    buf = NULL;
    struct mw_proc_status status;
    if (read_pid_file(root, pid, "status", &buf) == 0 &&
        mw_proc_status_parse_buf(&status, buf) == 0 && status.have_rss)
        s.swap = status.vm_swap_kb * 1024;
    free(buf);
    buf = NULL;
    struct mw_proc_smaps smp;
    if (read_pid_file(root, pid, "smaps_rollup", &buf) == 0 &&
        mw_proc_smaps_parse_buf(&smp, buf) == 0) {
        s.pss = smp.pss * 1024;
        s.uss = mw_proc_smaps_uss(&smp) * 1024;
        s.have_pss = true;
    }
    free(buf);
    struct mw_meminfo mi;
    if (mw_meminfo_read(root, &mi, NULL) == 0)
        fill_system(&s, &mi);
    *out = s;
    return 0;
}

double mw_sample_cpu_pct(const struct mw_sample *prev, const struct mw_sample *cur, long clk_tck)
{
    double dt = cur->t_s - prev->t_s;
    if (!(dt > 0) || clk_tck <= 0 || cur->cpu_ticks < prev->cpu_ticks)
        return 0;
    return 100.0 * (double)(cur->cpu_ticks - prev->cpu_ticks) / (double)clk_tck / dt;
}

static const char *kind_name(enum mw_sample_kind k)
{
    return k == MW_SAMPLE_SYSTEM ? "system" : k == MW_SAMPLE_GONE ? "gone" : "process";
}

void mw_sample_write_json(FILE *f, const struct mw_sample *s, const struct mw_slab_set *slab)
{
    struct mw_json j;
    mw_json_init(&j, f, false);
    mw_json_object_begin(&j, NULL);
    mw_json_fixed(&j, "t", s->t_s, 3);
    mw_json_str(&j, "kind", kind_name(s->kind));
    if (s->kind != MW_SAMPLE_SYSTEM) {
        mw_json_i64(&j, "pid", s->pid);
        mw_json_u64(&j, "starttime", s->starttime);
        mw_json_str(&j, "comm", s->comm);
    }
    if (s->kind == MW_SAMPLE_PROCESS) {
        mw_json_u64(&j, "rss", s->rss);
        if (s->have_pss) {
            mw_json_u64(&j, "pss", s->pss);
            mw_json_u64(&j, "uss", s->uss);
        }
        mw_json_u64(&j, "vms", s->vms);
        mw_json_u64(&j, "shared", s->shared);
        mw_json_u64(&j, "swap", s->swap);
        mw_json_u64(&j, "cpu_ticks", s->cpu_ticks);
    }
    if (s->kind != MW_SAMPLE_GONE) {
        mw_json_u64(&j, "mem_total", s->mem_total);
        mw_json_u64(&j, "mem_available", s->mem_available);
        mw_json_u64(&j, "mem_used", s->mem_used);
        mw_json_u64(&j, "buff_cache", s->buff_cache);
    }
    if (s->kind == MW_SAMPLE_SYSTEM) {
        mw_json_u64(&j, "shmem", s->shmem);
        mw_json_u64(&j, "slab", s->slab);
        mw_json_u64(&j, "sreclaimable", s->sreclaimable);
        mw_json_u64(&j, "sunreclaim", s->sunreclaim);
        mw_json_u64(&j, "page_tables", s->page_tables);
        mw_json_u64(&j, "kernel_stack", s->kernel_stack);
        if (slab) {
            mw_json_object_begin(&j, "slab_caches");
            for (size_t i = 0; i < slab->n; i++)
                if (slab->c[i].size_bytes)
                    mw_json_u64(&j, slab->c[i].name, slab->c[i].size_bytes);
            mw_json_object_end(&j);
        }
    }
    mw_json_object_end(&j);
    mw_json_finish(&j);
}

/* Renames PATH to PATH.1, PATH.1 to PATH.2, ... keeping KEEP old files
 * (rename moves a link planted at a name, never what it points to). */
static int record_rotate(const char *path, unsigned keep)
{
    size_t len = strlen(path) + 16;
    char *from = malloc(len), *to = malloc(len);
    int rc = from && to ? 0 : -ENOMEM;
    if (keep < 1)
        keep = 1;
    for (unsigned i = keep; i >= 1 && rc == 0; i--) {
        if (i == 1)
            snprintf(from, len, "%s", path);
        else
            snprintf(from, len, "%s.%u", path, i - 1);
        snprintf(to, len, "%s.%u", path, i);
        if (rename(from, to) != 0 && errno != ENOENT)
            rc = -errno;
    }
    free(from);
    free(to);
    return rc;
}

int mw_record_append(const char *path, uint64_t max_bytes, unsigned keep, const struct mw_sample *s,
                     const struct mw_slab_set *slab)
{
    int fd = mw_out_append_open(path, 0666);
    struct stat st;
    if (fd >= 0 && max_bytes && fstat(fd, &st) == 0 && (uint64_t)st.st_size >= max_bytes) {
        close(fd);
        int rc = record_rotate(path, keep);
        if (rc < 0)
            return rc;
        fd = mw_out_append_open(path, 0666);
    }
    if (fd < 0)
        return fd;
    FILE *f = fdopen(fd, "a");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    mw_sample_write_json(f, s, slab);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

long mw_record_slab_index(const struct mw_record *rec, const char *name)
{
    for (size_t i = 0; i < rec->nslab_names; i++)
        if (strcmp(rec->slab_names[i], name) == 0)
            return (long)i;
    return -1;
}

static long intern(struct mw_record *rec, const char *name, size_t len)
{
    for (size_t i = 0; i < rec->nslab_names; i++)
        if (strlen(rec->slab_names[i]) == len && memcmp(rec->slab_names[i], name, len) == 0)
            return (long)i;
    if (rec->nslab_names == rec->slab_cap) {
        size_t nc = rec->slab_cap ? rec->slab_cap * 2 : 64;
        char **p = realloc(rec->slab_names, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        rec->slab_names = p;
        rec->slab_cap = nc;
    }
    char *c = strndup(name, len);
    if (!c)
        return -ENOMEM;
    rec->slab_names[rec->nslab_names] = c;
    return (long)rec->nslab_names++;
}

static int set_slab(struct mw_record *rec, struct mw_sample *s, const char *name, size_t len,
                    uint64_t bytes)
{
    long idx = intern(rec, name, len);
    if (idx < 0)
        return (int)idx;
    if ((size_t)idx >= s->nslab) {
        size_t nn = rec->nslab_names > (size_t)idx + 1 ? rec->nslab_names : (size_t)idx + 1;
        uint64_t *p = realloc(s->slab_bytes, nn * sizeof(*p));
        if (!p)
            return -ENOMEM;
        memset(p + s->nslab, 0, (nn - s->nslab) * sizeof(*p));
        s->slab_bytes = p;
        s->nslab = nn;
    }
    s->slab_bytes[idx] = bytes;
    return 0;
}

static int push(struct mw_record *rec, const struct mw_sample *s)
{
    if (rec->n == rec->cap) {
        size_t nc = rec->cap ? rec->cap * 2 : 256;
        struct mw_sample *p = realloc(rec->s, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        rec->s = p;
        rec->cap = nc;
    }
    rec->s[rec->n++] = *s;
    return 0;
}

int mw_record_add(struct mw_record *rec, const struct mw_sample *s, const struct mw_slab_set *slab)
{
    struct mw_sample c = *s;
    c.slab_bytes = NULL;
    c.nslab = 0;
    for (size_t i = 0; slab && i < slab->n; i++) {
        int rc = set_slab(rec, &c, slab->c[i].name, strlen(slab->c[i].name), slab->c[i].size_bytes);
        if (rc < 0) {
            free(c.slab_bytes);
            return rc;
        }
    }
    int rc = push(rec, &c);
    if (rc < 0)
        free(c.slab_bytes);
    return rc;
}

uint64_t mw_sample_slab(const struct mw_sample *s, size_t idx)
{
    return idx < s->nslab ? s->slab_bytes[idx] : 0;
}

void mw_sample_slab_set(const struct mw_record *rec, const struct mw_sample *s,
                        struct mw_slab_set *out)
{
    memset(out, 0, sizeof(*out));
    out->c = calloc(s->nslab ? s->nslab : 1, sizeof(*out->c));
    if (!out->c)
        return;
    for (size_t i = 0; i < s->nslab; i++) {
        if (!s->slab_bytes[i])
            continue;
        struct mw_slab_cache *c = &out->c[out->n++];
        snprintf(c->name, sizeof(c->name), "%s", rec->slab_names[i]);
        c->size_bytes = s->slab_bytes[i];
        c->reclaimable = -1;
    }
}

static uint64_t to_u64(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)v;
}

/* A number member as a count: exact for integers, clamped to 0..UINT64_MAX
 * for anything else (negative, fractional, 1e30). */
static int num_u64(const struct mw_json_val *v, uint64_t *out)
{
    double d;
    int rc = mw_json_get_u64(v, out);
    if (rc == -EINVAL && (rc = mw_json_get_double(v, &d)) == 0)
        *out = to_u64(d);
    if (rc == -ERANGE) {
        *out = v->p[0] == '-' ? 0 : UINT64_MAX;
        rc = 0;
    }
    return rc;
}

static int set_slabs(struct mw_record *rec, struct mw_sample *s, const struct mw_json_val *obj)
{
    struct mw_json_iter it;
    struct mw_json_val k, v;
    int rc;
    mw_json_iter_init(&it, obj);
    while ((rc = mw_json_iter_next(&it, &k, &v)) > 0) {
        char name[64];
        uint64_t n;
        if (mw_json_get_str(&k, name, sizeof(name)) < 0 || num_u64(&v, &n) < 0)
            return -EINVAL;
        if ((rc = set_slab(rec, s, name, strlen(name), n)) < 0)
            return rc;
    }
    return rc;
}

/* One member KEY: VAL of a sample line into S. Returns 0, -EINVAL (a value
 * the format does not have), or -ENOMEM. */
static int set_member(struct mw_record *rec, struct mw_sample *s, const struct mw_json_val *key,
                      const struct mw_json_val *val, bool *have_t, bool *have_kind)
{
    static const struct {
        const char *k;
        size_t off;
    } f[] = {
        {"rss", offsetof(struct mw_sample, rss)},
        {"pss", offsetof(struct mw_sample, pss)},
        {"uss", offsetof(struct mw_sample, uss)},
        {"vms", offsetof(struct mw_sample, vms)},
        {"shared", offsetof(struct mw_sample, shared)},
        {"swap", offsetof(struct mw_sample, swap)},
        {"cpu_ticks", offsetof(struct mw_sample, cpu_ticks)},
        {"starttime", offsetof(struct mw_sample, starttime)},
        {"mem_total", offsetof(struct mw_sample, mem_total)},
        {"mem_available", offsetof(struct mw_sample, mem_available)},
        {"mem_used", offsetof(struct mw_sample, mem_used)},
        {"buff_cache", offsetof(struct mw_sample, buff_cache)},
        {"shmem", offsetof(struct mw_sample, shmem)},
        {"slab", offsetof(struct mw_sample, slab)},
        {"sreclaimable", offsetof(struct mw_sample, sreclaimable)},
        {"sunreclaim", offsetof(struct mw_sample, sunreclaim)},
        {"page_tables", offsetof(struct mw_sample, page_tables)},
        {"kernel_stack", offsetof(struct mw_sample, kernel_stack)},
    };
    char str[64];
    switch (val->type) {
    case MW_JSON_OBJECT:
        return mw_json_key_is(key, "slab_caches") ? set_slabs(rec, s, val) : -EINVAL;
    case MW_JSON_STRING:
        mw_json_get_str(val, str, sizeof(str));
        if (mw_json_key_is(key, "kind")) {
            *have_kind = true;
            if (strcmp(str, "process") == 0)
                s->kind = MW_SAMPLE_PROCESS;
            else if (strcmp(str, "system") == 0)
                s->kind = MW_SAMPLE_SYSTEM;
            else if (strcmp(str, "gone") == 0)
                s->kind = MW_SAMPLE_GONE;
            else
                return -EINVAL;
        } else if (mw_json_key_is(key, "comm")) {
            snprintf(s->comm, sizeof(s->comm), "%s", str);
        }
        return 0;
    case MW_JSON_NUMBER:
        break;
    default:
        return -EINVAL;
    }
    double d;
    uint64_t u;
    if (mw_json_key_is(key, "t")) {
        if (mw_json_get_double(val, &d) < 0)
            return -EINVAL;
        s->t_s = d;
        *have_t = true;
        return 0;
    }
    if (num_u64(val, &u) < 0)
        return -EINVAL;
    if (mw_json_key_is(key, "pid")) {
        s->pid = u < 2147483647u && val->p[0] != '-' ? (int)u : 0;
        return 0;
    }
    for (size_t i = 0; i < MW_ARRAY_SIZE(f); i++)
        if (mw_json_key_is(key, f[i].k)) {
            *(uint64_t *)(void *)((char *)s + f[i].off) = u;
            if (f[i].off == offsetof(struct mw_sample, pss))
                s->have_pss = true;
        }
    return 0;
}

/* A line is one JSON object as mw_sample_write_json writes it: numbers,
 * strings and (for "slab_caches") an object of numbers; anything else
 * makes the line "not a sample". */
int mw_record_parse_line(struct mw_record *rec, const char *line, size_t len)
{
    struct mw_sample s;
    struct mw_json_val obj, k, v;
    struct mw_json_iter it;
    bool have_t = false, have_kind = false;
    int rc;
    memset(&s, 0, sizeof(s));
    if (mw_json_parse(line, len, &obj) < 0 || obj.type != MW_JSON_OBJECT)
        return -EINVAL;
    mw_json_iter_init(&it, &obj);
    while ((rc = mw_json_iter_next(&it, &k, &v)) > 0)
        if ((rc = set_member(rec, &s, &k, &v, &have_t, &have_kind)) < 0)
            goto bad;
    if (rc < 0)
        goto bad;
    rc = -EINVAL;
    if (!have_t || !have_kind || (s.kind != MW_SAMPLE_SYSTEM && s.pid <= 0))
        goto bad;
    rc = push(rec, &s);
    if (rc == 0)
        return 0;
bad:
    free(s.slab_bytes);
    return rc;
}

int mw_record_parse_buf(struct mw_record *rec, const char *buf)
{
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        size_t l = len;
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' '))
            l--;
        const char *q = p;
        while (l && (*q == ' ' || *q == '\t')) {
            q++;
            l--;
        }
        if (l) {
            int rc = mw_record_parse_line(rec, q, l);
            if (rc == -ENOMEM)
                return rc;
            if (rc < 0)
                rec->bad_lines++;
        }
    }
    return 0;
}

/* Opens PATH for reading if it is a regular file (mw_open_regular_at: a
 * FIFO cannot hang the open). Returns the stream or NULL with errno set
 * (EBADFD or EISDIR: not a regular file). */
static FILE *open_regular(const char *path)
{
    int fd = mw_open_regular_at(AT_FDCWD, path, O_NOCTTY);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

/* Reads one line of F into LINE (capacity MW_RECORD_LINE_MAX + 1) without
 * its newline; NUL bytes are kept. Returns the length, -1 at the end of
 * the file, -EMSGSIZE when the line is longer than the cap. */
static long read_line(FILE *f, char *line)
{
    size_t n = 0;
    int c;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n == MW_RECORD_LINE_MAX)
            return -EMSGSIZE;
        line[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return -1;
    line[n] = '\0';
    return (long)n;
}

/* Streams one file line by line (a record may be far larger than the
 * /proc-sized reads of mw_read_file), each line bounded. */
static int read_stream(const char *path, struct mw_record *rec)
{
    FILE *f = open_regular(path);
    if (!f)
        return -errno;
    char *line = malloc(MW_RECORD_LINE_MAX + 1);
    long n;
    int rc = line ? 0 : -ENOMEM;
    while (rc == 0 && (n = read_line(f, line)) != -1) {
        if (n < 0) {
            rc = (int)n;
            break;
        }
        size_t l = (size_t)n;
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            l--;
        const char *q = line;
        while (l && (*q == ' ' || *q == '\t')) {
            q++;
            l--;
        }
        if (!l)
            continue;
        int e = mw_record_parse_line(rec, q, l);
        if (e == -ENOMEM)
            rc = e;
        else if (e < 0)
            rec->bad_lines++;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(line);
    fclose(f);
    return rc;
}

int mw_record_read(const char *path, struct mw_record *rec)
{
    size_t len = strlen(path) + 16;
    char *rot = malloc(len);
    if (!rot)
        return -ENOMEM;
    unsigned k = 0;
    struct stat st;
    for (unsigned i = 1; i < 100; i++) {
        snprintf(rot, len, "%s.%u", path, i);
        if (stat(rot, &st) != 0)
            break;
        k = i;
    }
    int rc = 0;
    for (unsigned i = k; i >= 1 && rc == 0; i--) {
        snprintf(rot, len, "%s.%u", path, i);
        rc = read_stream(rot, rec);
        if (rc == -ENOENT)
            rc = 0; /* a rotated file that vanished meanwhile is no failure */
    }
    if (rc == 0)
        rc = read_stream(path, rec);
    free(rot);
    return rc;
}

void mw_record_free(struct mw_record *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        free(rec->s[i].slab_bytes);
    for (size_t i = 0; i < rec->nslab_names; i++)
        free(rec->slab_names[i]);
    free(rec->s);
    free(rec->slab_names);
    memset(rec, 0, sizeof(*rec));
}
