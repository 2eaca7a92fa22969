#include "model/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/procs.h"

/* Rules files are a few lines; a bigger one is a mistake. */
#define RULES_FILE_MAX (1u << 20)

static void rules_free_v(struct mw_rule *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].have_re)
            regfree(&v[i].re);
        free(v[i].pattern);
    }
    free(v);
}

static const char *trim(const char *s, const char **end)
{
    while (s < *end && (*s == ' ' || *s == '\t'))
        s++;
    while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
    return s;
}

/* One rule line, S..END trimmed and not a comment: "pattern -> class" or
 * "pattern = class", split at the rightmost separator; a quoted pattern
 * loses its quotes. Sets *PAT, *PAT_LEN and *ADJ. Returns 0, or -EINVAL
 * with ERR set. */
static int split_line(const char *s, const char *end, const char **pat, size_t *pat_len, int *adj,
                      char *err, size_t cap)
{
    /* The separator: the rightmost "->" or "=". */
    const char *sep = NULL;
    size_t seplen = 0;
    for (const char *q = s; q < end; q++) {
        if (*q == '=') {
            sep = q;
            seplen = 1;
        } else if (*q == '-' && q + 1 < end && q[1] == '>') {
            sep = q;
            seplen = 2;
        }
    }
    if (!sep) {
        snprintf(err, cap, "expected 'pattern -> class' or 'pattern = class'");
        return -EINVAL;
    }
    const char *pend = sep;
    const char *pt = trim(s, &pend);
    const char *cend = end;
    const char *cls = trim(sep + seplen, &cend);
    if (pend - pt >= 2 && (*pt == '"' || *pt == '\'') && pend[-1] == *pt) {
        pt++;
        pend--;
    }
    if (pt == pend) {
        snprintf(err, cap, "empty pattern");
        return -EINVAL;
    }
    char cname[32];
    size_t clen = (size_t)(cend - cls);
    if (clen == 0 || clen >= sizeof(cname)) {
        snprintf(err, cap, "missing or overlong class");
        return -EINVAL;
    }
    memcpy(cname, cls, clen);
    cname[clen] = '\0';
    if (mw_adj_class_parse(cname, adj) < 0 || *adj < -1000 || *adj > 1000) {
        snprintf(err, cap,
                 "'%s' is not a class name or a number from -1000 to 1000 "
                 "(classes: native system persistent_proc persistent_service foreground "
                 "visible perceptible backup heavy_weight service home previous "
                 "service_b cached)",
                 cname);
        return -EINVAL;
    }
    *pat = pt;
    *pat_len = (size_t)(pend - pt);
    return 0;
}

/* R's pattern (its own copy of PAT), its match spec and the regex of its
 * name. Returns 0, or -EINVAL / -ENOMEM with ERR set and nothing in R to
 * free. */
static int rule_init(struct mw_rule *r, const char *pat, size_t pat_len, char *err, size_t cap)
{
    r->pattern = strndup(pat, pat_len);
    if (!r->pattern) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    char why[200];
    if (mw_match_spec_parse(&r->spec, r->pattern, why, sizeof(why)) < 0) {
        snprintf(err, cap, "bad pattern: %s", why);
        free(r->pattern);
        return -EINVAL;
    }
    r->have_re = r->spec.name[0] != '\0';
    if (r->have_re &&
        mw_regcomp_bounded(&r->re, r->spec.name, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
        snprintf(err, cap, "bad pattern '%.80s': %s", r->spec.name, why);
        free(r->pattern);
        return -EINVAL;
    }
    return 0;
}

int mw_rules_parse_buf(struct mw_rules *out, const char *buf, int *bad_line, char *err, size_t cap)
{
    struct mw_rule *v = NULL;
    size_t n = 0, vcap = 0;
    int line = 0, rc = 0;
    const char *c = buf, *p;
    size_t len;
    while (mw_next_line(&c, &p, &len)) {
        line++;
        const char *end = p + len;
        const char *s = trim(p, &end);
        if (s == end || *s == '#')
            continue;
        const char *pat;
        size_t pat_len;
        int adj;
        if ((rc = split_line(s, end, &pat, &pat_len, &adj, err, cap)) < 0)
            goto fail;
        if (n == vcap) {
            size_t ncap = vcap ? vcap * 2 : 16;
            struct mw_rule *nv = realloc(v, ncap * sizeof(*v));
            if (!nv) {
                rc = -ENOMEM;
                snprintf(err, cap, "out of memory");
                goto fail;
            }
            v = nv;
            vcap = ncap;
        }
        if ((rc = rule_init(&v[n], pat, pat_len, err, cap)) < 0)
            goto fail;
        v[n].adj = adj;
        v[n].line = line;
        n++;
    }
    out->v = v;
    out->n = n;
    return (int)n;
fail:
    *bad_line = line;
    rules_free_v(v, n);
    return rc;
}

int mw_rules_load(struct mw_rules *out, const char *path, int *bad_line, char *err, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *bad_line = 0;
    if (fd < 0) {
        int e = errno;
        snprintf(err, cap, "%s", mw_strerror(e));
        return -e;
    }
    char *buf = malloc(RULES_FILE_MAX + 1);
    size_t n = 0;
    int rc = 0;
    if (!buf) {
        rc = -ENOMEM;
        snprintf(err, cap, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, RULES_FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            snprintf(err, cap, "%s", mw_strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == RULES_FILE_MAX) {
            rc = -EFBIG;
            snprintf(err, cap, "larger than %u bytes", RULES_FILE_MAX);
            goto out;
        }
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        rc = -EINVAL;
        snprintf(err, cap, "not a text file (NUL byte)");
        goto out;
    }
    rc = mw_rules_parse_buf(out, buf, bad_line, err, cap);
out:
    free(buf);
    close(fd);
    return rc;
}

unsigned mw_rules_needs(const struct mw_rules *rules)
{
    unsigned need = 0;
    for (size_t i = 0; i < rules->n; i++)
        need |= mw_match_spec_needs(&rules->v[i].spec);
    return need;
}

const struct mw_rule *mw_rules_match(const struct mw_rules *rules, const char *cmdline,
                                     const struct mw_match_facts *facts)
{
    static const struct mw_match_facts none;
    for (size_t i = 0; i < rules->n; i++) {
        const struct mw_rule *r = &rules->v[i];
        if (r->have_re && regexec(&r->re, cmdline, 0, NULL, 0) != 0)
            continue;
        if (mw_match_qualifiers(&r->spec, facts ? facts : &none))
            return r;
    }
    return NULL;
}

void mw_rules_free(struct mw_rules *rules)
{
    rules_free_v(rules->v, rules->n);
    rules->v = NULL;
    rules->n = 0;
}
