/* tunebackup: what `tune --revert` accepts from a backup. A backup tune
 * writes reads back whole; each way a planted one could lead root's
 * writes elsewhere is refused with a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tunebackup.h"
#include "harness.h"

static int parse(const char *text, struct mw_tune_backup *b, char *why, size_t cap)
{
    why[0] = '\0';
    return mw_tune_backup_parse_buf(text, strlen(text), b, why, cap);
}

/* A backup as tune --apply --persist writes it reads back as it was. */
static void test_round_trip(void)
{
    static struct mw_tune_backup b, back;
    memset(&b, 0, sizeof(b));
    const char *paths[] = {"proc/sys/vm/swappiness", "sys/kernel/mm/transparent_hugepage/enabled",
                           "sys/block/zram1/comp_algorithm", "sys/block/zram1/disksize",
                           "etc/sysctl.d/90-memwarden.conf"};
    const char *olds[] = {"60\n", "[always] madvise never\n", "lzo [lzo-rle] lz4 zstd\n", "0\n",
                          ""};
    for (int i = 0; i < 5; i++) {
        snprintf(b.it[i].path, sizeof(b.it[i].path), "%s", paths[i]);
        snprintf(b.it[i].raw, sizeof(b.it[i].raw), "%s", olds[i]);
    }
    b.it[4].absent = true;
    b.it[4].new_dirs = 1;
    b.n = 5;
    b.zram = b.hot_add = b.swapon = true;
    b.zdev = 1;
    b.zsize = 251658240;
    snprintf(b.zalgo, sizeof(b.zalgo), "lzo-rle");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    mw_tune_backup_format(f, &b);
    fclose(f);
    char why[200];
    CHECK_EQ_INT(mw_tune_backup_parse_buf(text, len, &back, why, sizeof(why)), 0);
    CHECK_EQ_INT(back.n, 5);
    CHECK_STR(back.it[2].raw, "lzo [lzo-rle] lz4 zstd\n");
    CHECK(back.it[4].absent && back.it[4].new_dirs == 1);
    CHECK(back.zram && back.hot_add && back.zdev == 1 && back.zsize == 251658240);
    free(text);
}

/* Each hostile backup and the word its refusal must carry. */
static void test_refused(void)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        /* a path tune never writes: any file of root's */
        {"{\"items\":[{\"path\":\"etc/shadow\",\"old\":\"root::0:0\\n\"}]}", "not a file tune"},
        {"{\"items\":[{\"path\":\"etc/cron.d/x\",\"absent\":true}]}", "not a file tune"},
        {"{\"items\":[{\"path\":\"proc/sys/vm/../../../etc/passwd\",\"old\":\"1\"}]}",
         "not a file tune"},
        {"{\"items\":[{\"path\":\"proc/sys/kernel/core_pattern\",\"old\":\"|/tmp/x\"}]}",
         "not a file tune"},
        {"{\"items\":[{\"path\":\"/proc/sys/vm/swappiness\",\"old\":\"60\"}]}", "not a file tune"},
        /* a tunable removed, or given a value it cannot have */
        {"{\"items\":[{\"path\":\"proc/sys/vm/swappiness\",\"absent\":true}]}", "absent"},
        {"{\"items\":[{\"path\":\"proc/sys/vm/swappiness\",\"old\":\"60\\n5\\n\"}]}",
         "not a value"},
        {"{\"items\":[{\"path\":\"proc/sys/vm/swappiness\",\"old\":\"999\"}]}", "not a value"},
        {"{\"items\":[{\"path\":\"sys/block/zram0/disksize\",\"old\":\"-1\"}]}", "not a value"},
        {"{\"items\":[{\"path\":\"etc/sysctl.d/90-memwarden.conf\",\"absent\":true,"
         "\"new_dirs\":7}]}",
         "new_dirs"},
        /* zram: a device the backup's apply did not set up */
        {"{\"items\":[],\"zram\":{\"device\":0,\"hot_add\":true,\"swapon\":true}}", "not a device"},
        {"{\"items\":[{\"path\":\"sys/block/zram0/comp_algorithm\",\"old\":\"lz4\"},"
         "{\"path\":\"sys/block/zram0/disksize\",\"old\":\"0\"}],\"zram\":{\"device\":1}}",
         "not of the zram device"},
        {"{\"items\":[{\"path\":\"sys/block/zram0/comp_algorithm\",\"old\":\"lz4\"},"
         "{\"path\":\"sys/block/zram0/disksize\",\"old\":\"4096\"}],\"zram\":{\"device\":0}}",
         "not a device"},
        {"{\"items\":[{\"path\":\"sys/block/zram0/disksize\",\"old\":\"0\"}]}",
         "not of the zram device"},
        {"{\"items\":[],\"zram\":{\"device\":100000}}", "device number"},
        {"{\"items\":[{\"path\":\"sys/block/zram007/disksize\",\"old\":\"0\"}]}",
         "not a file tune"},
        {"[1]", "not a JSON object"},
        {"{\"items\":{}}", "items"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static struct mw_tune_backup b;
        char why[200];
        int rc = parse(cases[i].text, &b, why, sizeof(why));
        if (rc == 0)
            fprintf(stderr, "  accepted: %s\n", cases[i].text);
        CHECK(rc < 0);
        CHECK_CONTAINS(why, cases[i].why);
    }
}

static void test_path_kind(void)
{
    int arg = -1;
    CHECK_EQ_INT(mw_tune_path_kind("proc/sys/vm/page-cluster", &arg), MW_TP_VM);
    CHECK_EQ_INT(mw_tune_path_kind("sys/block/zram12/disksize", &arg), MW_TP_ZRAM_SIZE);
    CHECK_EQ_INT(arg, 12);
    CHECK_EQ_INT(mw_tune_path_kind("sys/block/zram1/reset", &arg), MW_TP_NONE);
    CHECK_EQ_INT(mw_tune_path_kind("etc/init.d/S05memwarden", &arg), MW_TP_PERSIST);
    CHECK_EQ_INT(mw_tune_path_kind("etc/init.d/S05memwarden/x", &arg), MW_TP_NONE);
    CHECK_EQ_INT(mw_tune_old_value_check(MW_TP_THP, 0, "always madvise [never]\n"), 0);
    CHECK(mw_tune_old_value_check(MW_TP_THP, 0, "[always] [never]\n") < 0);
    CHECK(mw_tune_old_value_check(MW_TP_ZRAM_ALGO, 0, "lz4;reboot\n") < 0);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_refused);
    RUN(test_path_kind);
    return TESTS_DONE();
}
