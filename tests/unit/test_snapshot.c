#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "model/snapshot.h"
#include "proc/cgunit.h"

/* Snapshots FIXTURE (with its processes) into a new directory (DIR, at
 * least 20 bytes) and opens the fixture as SRC and the capture as DST.
 * Returns 0, or -1 (checked) when it could not. */
static int snap(const char *fixture, char *dir, struct mw_snapshot_result *res, struct mw_root *src,
                struct mw_root *dst)
{
    snprintf(dir, 20, "/tmp/mw-snap-XXXXXX");
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return -1;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", MW_FIXTURES, fixture);
    CHECK_EQ_INT(mw_root_open(src, path), 0);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    struct mw_snapshot_opts o = {.processes = true};
    CHECK_EQ_INT(mw_snapshot_take(src, fd, &o, res), 0);
    close(fd);
    CHECK_EQ_INT(mw_root_open(dst, dir), 0);
    return 0;
}

static void unsnap(const char *dir, struct mw_root *src, struct mw_root *dst)
{
    mw_root_close(src);
    mw_root_close(dst);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* A snapshot of a captured tree holds the same bytes, and a snapshot of the
 * snapshot again: what --root reads is exactly what was captured. */
static void test_snapshot_of_fixture(void)
{
    char dir[20];
    struct mw_root src, dst;
    struct mw_snapshot_result res;
    if (snap("host-24g", dir, &res, &src, &dst) < 0)
        return;
    CHECK_EQ_U64(res.processes, 1);
    CHECK(res.files > 20);
    const char *files[] = {"/proc/meminfo", "/proc/zoneinfo", "/proc/pressure/memory",
                           "/sys/block/zram0/mm_stat", "/etc/passwd"};
    for (size_t i = 0; i < MW_ARRAY_SIZE(files); i++) {
        char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        CHECK_EQ_INT(mw_read_file(&src, files[i], &a, &la), 0);
        CHECK_EQ_INT(mw_read_file(&dst, files[i], &b, &lb), 0);
        CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
        free(a);
        free(b);
    }
    char *meta = NULL;
    CHECK_EQ_INT(mw_read_file(&dst, "/memwarden-snapshot.json", &meta, NULL), 0);
    CHECK_CONTAINS(meta, "\"page_size\": ");
    free(meta);
    unsnap(dir, &src, &dst);
}

/* A systemd machine's capture keeps what the daemon's unit rules read:
 * the cgroup2 tree's members, the ManagedOOMPreference= marks it honours
 * (files named after the attributes: a capture keeps no xattrs) and
 * logind's session leaders; the capture of the capture reads the same. */
static void test_snapshot_units(void)
{
    char dir[20];
    struct mw_root src, dst;
    struct mw_snapshot_result res;
    if (snap("daemon-systemd", dir, &res, &src, &dst) < 0)
        return;
    int v2 = mw_cgunit_v2_open(&dst);
    CHECK(v2 >= 0);
    enum mw_oom_pref p = MW_OOM_PREF_NONE;
    CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/db-omit.service", &p), 0);
    CHECK_EQ_INT(p, MW_OOM_PREF_OMIT);
    CHECK_EQ_INT(mw_cgunit_pref_read(v2, "/system.slice/db-avoid.service", &p), 0);
    CHECK_EQ_INT(p, MW_OOM_PREF_AVOID);
    /* a mark that says no is not carried: none stays none */
    CHECK(faccessat(v2, "system.slice/db-zero.service/user.oomd_omit", F_OK, 0) != 0);
    char buf[64];
    CHECK(mw_read_small_at(v2, "system.slice/mw-storm.service/cgroup.procs", buf, sizeof(buf)) > 0);
    CHECK(strncmp(buf, "700\n701\n", 8) == 0);
    int leader = 0;
    CHECK_EQ_INT(mw_session_leader_read(dst.fd, "2", &leader), 0);
    CHECK_EQ_INT(leader, 520);
    if (v2 >= 0)
        close(v2);
    unsnap(dir, &src, &dst);
}

static void test_meta_parse(void)
{
    struct mw_snapshot_meta m;
    CHECK_EQ_INT(mw_snapshot_meta_parse_buf(&m, "{\n  \"version\": 1,\n  \"time\": 1795314052,\n"
                                                "  \"hostname\": \"board\",\n"
                                                "  \"page_size\": 16384\n}\n"),
                 0);
    CHECK_CLOSE(m.time, 1795314052.0, 0.0001);
    CHECK_STR(m.hostname, "board");
    CHECK_EQ_U64(m.page_size, 16384);
    /* garbage and out-of-range values stay unknown */
    CHECK_EQ_INT(mw_snapshot_meta_parse_buf(&m, "{\"page_size\": 3}"), 0);
    CHECK_EQ_U64(m.page_size, 0);
    CHECK_STR(m.hostname, "");
    /* a key inside a string or a nested object is not the key */
    CHECK_EQ_INT(mw_snapshot_meta_parse_buf(&m, "{\"hostname\": \"x\\\"page_size\\\": 8192\","
                                                "\"n\": {\"page_size\": 16384}}"),
                 0);
    CHECK_EQ_U64(m.page_size, 0);
    CHECK_STR(m.hostname, "x\"page_size\": 8192");
    CHECK_EQ_INT(mw_snapshot_meta_parse_buf(&m, "{\"page_size\": 16384"), 0); /* cut */
    CHECK_EQ_U64(m.page_size, 0);
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/host-24g"), 0);
    CHECK_EQ_INT(mw_snapshot_meta_read(&r, &m), 0);
    CHECK_STR(m.hostname, "vm");
    CHECK_EQ_U64(m.page_size, 4096);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/seed-480m-slab"), 0);
    CHECK_EQ_INT(mw_snapshot_meta_read(&r, &m), -ENOENT);
    mw_root_close(&r);
}

/* The page size is read once, when the root is opened: sysconf for the
 * live "/", the capture's record, else 4096. */
static void test_root_page_size(void)
{
    struct mw_root r;
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/arm64-64k"), 0);
    CHECK_EQ_U64(r.page_size, 4096); /* until the record is read */
    mw_snapshot_root_page_size(&r);
    CHECK_EQ_U64(r.page_size, 65536);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, MW_FIXTURES "/vm-512m"), 0); /* no record */
    mw_snapshot_root_page_size(&r);
    CHECK_EQ_U64(r.page_size, 4096);
    mw_root_close(&r);
    CHECK_EQ_INT(mw_root_open(&r, "/"), 0);
    mw_snapshot_root_page_size(&r);
    CHECK_EQ_U64(r.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
    mw_root_close(&r);
}

int main(void)
{
    RUN(test_snapshot_of_fixture);
    RUN(test_snapshot_units);
    RUN(test_meta_parse);
    RUN(test_root_page_size);
    return TESTS_DONE();
}
