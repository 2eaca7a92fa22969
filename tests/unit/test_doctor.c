#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "analysis/doctor.h"
#include "analysis/tuning.h"
#include "analysis/tuneplan.h"
#include "model/daemonstate.h"

static const struct mw_doc_check *find(const struct mw_doc_report *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->c[i].id, id) == 0)
            return &r->c[i];
    return NULL;
}

/* A 512 MiB machine with a zram swap: MemTotal, swap, the vm knobs. */
static void zram_machine(struct mw_doc_in *in, uint64_t swap_used_kb)
{
    memset(in, 0, sizeof(*in));
    in->mi.kb[MI_MEM_TOTAL] = 468144;
    in->mi.kb[MI_SWAP_TOTAL] = 262140;
    in->mi.kb[MI_SWAP_FREE] = 262140 - swap_used_kb;
    in->mi.have[MI_MEM_TOTAL] = in->mi.have[MI_SWAP_TOTAL] = in->mi.have[MI_SWAP_FREE] = true;
    in->have_swaps = true;
    in->swaps.count = 1;
    strcpy(in->swaps.dev[0].name, "/dev/zram0");
    in->swaps.dev[0].size_kb = 262140;
    in->vm.have[VM_SWAPPINESS] = in->vm.have[VM_PAGE_CLUSTER] = true;
    in->vm.value[VM_SWAPPINESS] = 60;
    in->vm.value[VM_PAGE_CLUSTER] = 0;
    in->have_psi = true;
    in->lru_gen = -1;
    in->min_ttl_ms = -1;
}

static void test_swappiness_for_zram(void)
{
    struct mw_doc_in in;
    struct mw_doc_report r;
    zram_machine(&in, 1000);
    mw_doctor_run(&in, &r);
    CHECK_EQ_INT(r.profile, MW_PROFILE_SMALL);
    const struct mw_doc_check *c = find(&r, "swappiness");
    CHECK(c && c->verdict == MW_DOC_ADVICE);
    CHECK_STR(c ? c->fix : NULL, "sysctl -w vm.swappiness=180");
    CHECK(find(&r, "page_cluster")->verdict == MW_DOC_OK);
    /* near miss: 100 is what vm.rst allows for zram, no advice */
    in.vm.value[VM_SWAPPINESS] = 100;
    mw_doctor_run(&in, &r);
    CHECK(find(&r, "swappiness")->verdict == MW_DOC_OK);
    /* disk swap at 180: advice the other way */
    strcpy(in.swaps.dev[0].name, "/swapfile");
    in.vm.value[VM_SWAPPINESS] = 180;
    mw_doctor_run(&in, &r);
    CHECK_STR(find(&r, "swappiness")->fix, "sysctl -w vm.swappiness=60");
}

static void test_swap_full_is_problem(void)
{
    struct mw_doc_in in;
    struct mw_doc_report r;
    zram_machine(&in, 262140 * 98 / 100);
    mw_doctor_run(&in, &r);
    CHECK(find(&r, "swap")->verdict == MW_DOC_PROBLEM);
    CHECK(mw_doctor_worst(&r) == MW_DOC_PROBLEM);
    zram_machine(&in, 262140 * 89 / 100); /* near miss */
    in.vm.value[VM_SWAPPINESS] = 180;
    mw_doctor_run(&in, &r);
    CHECK(find(&r, "swap")->verdict == MW_DOC_OK);
    CHECK(mw_doctor_worst(&r) == MW_DOC_OK);
}

static void test_min_free_and_missing(void)
{
    struct mw_doc_in in;
    struct mw_doc_report r;
    zram_machine(&in, 0);
    in.vm.have[VM_MIN_FREE_KBYTES] = true;
    in.vm.value[VM_MIN_FREE_KBYTES] = 836787; /* the lmkd seed's value, 5.6 GB */
    in.mi.kb[MI_MEM_TOTAL] = 5630104;
    mw_doctor_run(&in, &r);
    CHECK(find(&r, "min_free_kbytes")->verdict == MW_DOC_ADVICE);
    CHECK_CONTAINS(find(&r, "min_free_kbytes")->fix, "=9491");
    CHECK(find(&r, "mglru")->verdict == MW_DOC_NA);
    CHECK_CONTAINS(find(&r, "thp")->value, "n/a: ");
}

static void test_profiles(void)
{
    enum mw_profile p;
    CHECK_EQ_INT(mw_profile_parse("embedded-4g", &p), 0);
    CHECK_EQ_INT(p, MW_PROFILE_EMBEDDED_4G);
    CHECK(mw_profile_parse("huge", &p) < 0);
    CHECK_EQ_INT(mw_profile_for_ram(3986012), MW_PROFILE_EMBEDDED_4G);
    CHECK_EQ_INT(mw_profile_for_ram(493184), MW_PROFILE_SMALL);
    /* the RK3588 seed: 1 GiB on a 4 GB board; zram-generator: ram/2 capped at 4 GiB */
    CHECK_EQ_U64(mw_profile_zram_size(mw_profile_get(MW_PROFILE_EMBEDDED_4G), 3986012), 1ull << 30);
    CHECK_EQ_U64(mw_profile_zram_size(mw_profile_get(MW_PROFILE_DESKTOP), 24000000), 4ull << 30);
}

static void test_tune_plan(void)
{
    struct mw_doc_in in;
    struct mw_tune_plan p;
    struct mw_tune_env env = {.have_hot_add = true, .algos = "lzo [lzo-rle]"};
    const char *bad = NULL;
    zram_machine(&in, 0);
    in.have_swaps = false; /* no swap yet: the plan adds zram, so 180 fits */
    in.swaps.count = 0;
    CHECK_EQ_INT(mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, NULL, 0, &p, &bad), 0);
    CHECK(p.zram.wanted && p.zram.hot_add && p.zram.device == 0);
    CHECK_STR(p.zram.algo, "lzo-rle"); /* the kernel lacks lz4: its own */
    CHECK_EQ_U64(p.zram.size, 228ull << 20);
    CHECK_EQ_INT(p.n, 1);
    CHECK_STR(p.it[0].new_val, "180");
    /* --set overrides; zram=off keeps swappiness at <= 100 (no zram) */
    char set1[] = "vm.swappiness=90", set2[] = "vm.nosuch=1";
    char *sets[] = {set1};
    env.zram_off = true;
    CHECK_EQ_INT(mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, sets, 1, &p, &bad), 0);
    CHECK(!p.zram.wanted);
    CHECK_EQ_INT(p.n, 1);
    CHECK_STR(p.it[0].new_val, "90");
    sets[0] = set2;
    CHECK(mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, sets, 1, &p, &bad) < 0);
    CHECK_STR(bad, "vm.nosuch=1");
    /* an active zram swap is kept */
    zram_machine(&in, 0);
    env.zram_off = false;
    CHECK_EQ_INT(mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, NULL, 0, &p, &bad), 0);
    CHECK(!p.zram.wanted);
    CHECK_CONTAINS(p.zram.note, "already swap");
}

/* --set values are checked when the plan is made (issue 24): an integer
 * in the kernel's range for vm.*, a plain name for zram.algo; a newline
 * would add a line to the --persist files. */
static void test_tune_set_values(void)
{
    struct mw_doc_in in;
    struct mw_tune_plan p;
    struct mw_tune_env env = {.have_hot_add = true, .algos = "lzo [lzo-rle]"};
    const char *bad = NULL;
    zram_machine(&in, 0);
    in.have_swaps = false;
    in.swaps.count = 0;
    static const char *const refused[] = {
        "vm.swappiness=abc",       "vm.swappiness=60\n5",       "vm.swappiness=201",
        "vm.swappiness=-1",        "vm.swappiness= 60",         "vm.swappiness=0x10",
        "zram.algo=lz4\nrm -rf /", "zram.algo=lz4 zstd",        "zram.size=1K",
        "zram.priority=1e3",       "vm.swappiness=99999999999",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char set[64];
        snprintf(set, sizeof(set), "%s", refused[i]);
        char *sets[] = {set};
        bad = NULL;
        if (mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, sets, 1, &p, &bad) >= 0)
            fprintf(stderr, "  accepted: %s\n", refused[i]);
        CHECK(bad != NULL);
    }
    char ok1[] = "vm.swappiness=200", ok2[] = "zram.algo=lzo-rle", ok3[] = "zram.priority=-1";
    char *sets[] = {ok1, ok2, ok3};
    CHECK_EQ_INT(mw_tune_plan_build(&in, &env, MW_PROFILE_SMALL, sets, 3, &p, &bad), 0);
    CHECK_STR(p.zram.algo, "lzo-rle");
    CHECK_EQ_INT(p.zram.priority, -1);
}

/* The gather on a captured 480 MB board: what each reading sets, and the
 * n/a markers of what the capture lacks (no PSI, no MGLRU, no cgroups). */
static void test_gather_capture(void)
{
    struct mw_root root;
    if (mw_root_open(&root, MW_FIXTURES "/doctor-480m") < 0)
        FAIL_FIXTURE("doctor-480m");
    struct mw_doc_in in = {0};
    const struct mw_doc_sources src = {.state_path = MW_DAEMON_STATE_FILE,
                                       .history_path = "/var/log/memwarden-history.jsonl",
                                       .sample_ms = 5000};
    CHECK_EQ_INT(mw_doctor_gather(&root, &src, &in), 0);
    mw_root_close(&root);
    CHECK_EQ_U64(in.mi.kb[MI_MEM_TOTAL], 493184);
    CHECK_EQ_INT(in.zram.count, 1);
    CHECK(in.have_swaps && in.swaps.count == 0);
    CHECK_STR(in.thp, "always");
    CHECK(!in.have_psi);
    CHECK_CONTAINS(in.psi_why, "no /proc/pressure/memory");
    CHECK_EQ_INT(in.lru_gen, -1);
    CHECK_EQ_INT(in.min_ttl_ms, -1);
    CHECK(in.have_procs);
    CHECK_STR(in.killers, "");
    CHECK_EQ_INT(in.big_unkillable, 0);
    CHECK(!in.have_cgroups && !in.have_daemon_state && !in.have_history);
    CHECK(in.have_vmstat);
    CHECK_EQ_U64(in.sample_ms, 0); /* never sampled on a capture */
}

/* The daemon's files: its state file at the default path and its kill
 * history (five lines, five kills); without a path neither is read. */
static void test_gather_daemon_files(void)
{
    struct mw_root root;
    if (mw_root_open(&root, MW_FIXTURES "/metrics") < 0)
        FAIL_FIXTURE("metrics");
    struct mw_doc_in in = {0};
    struct mw_doc_sources src = {.state_path = MW_DAEMON_STATE_FILE,
                                 .history_path = "/var/log/memwarden-history.jsonl"};
    CHECK_EQ_INT(mw_doctor_gather(&root, &src, &in), 0);
    CHECK(in.have_daemon_state && !in.daemon_dry_run);
    CHECK_EQ_U64(in.daemon_kills, 3);
    CHECK(in.have_history);
    CHECK_EQ_U64(in.history_kills, 5);
    memset(&in, 0, sizeof(in));
    src = (struct mw_doc_sources){0};
    CHECK_EQ_INT(mw_doctor_gather(&root, &src, &in), 0);
    CHECK(!in.have_daemon_state && !in.have_history);
    mw_root_close(&root);
}

/* No /proc/meminfo: the one reading that is required. OUT is untouched. */
static void test_gather_no_meminfo(void)
{
    struct mw_root root;
    if (mw_root_open(&root, MW_FIXTURES "/hostile-empty") < 0)
        FAIL_FIXTURE("hostile-empty");
    struct mw_doc_in in, before;
    memset(&in, 0x5a, sizeof(in));
    before = in;
    int rc = mw_doctor_gather(&root, &(const struct mw_doc_sources){0}, &in);
    mw_root_close(&root);
    CHECK(rc < 0);
    CHECK(memcmp(&in, &before, sizeof(in)) == 0);
}

/* The fixes of every report below, distinct, kept for the dump. */
static char fixes[64][160];
static int nfixes;

static void collect(const struct mw_doc_in *in)
{
    struct mw_doc_report r;
    mw_doctor_run(in, &r);
    for (int i = 0; i < r.n; i++) {
        const char *f = r.c[i].fix;
        bool seen = !f[0];
        for (int k = 0; k < nfixes && !seen; k++)
            seen = strcmp(fixes[k], f) == 0;
        if (!seen && nfixes < 64)
            snprintf(fixes[nfixes++], sizeof(fixes[0]), "%s", f);
    }
}

/* Every fix doctor prints, each reached from inputs that call for it, is a
 * command one can paste: no placeholder ("...", "<unit>"), no prose
 * ("boot with", "(without --dry-run)"): issue 26 found `memwarden analyze
 * /var/log/kern.log # or dmesg`, which analyze refuses, and `memwarden prio
 * --adj -900 ...`, an option prio never had. With MW_DOCTOR_FIXES=FILE the
 * fixes are written there, one a line: tests/golden/cli_doctor_fixes.sh
 * runs each of them. */
static void test_every_fix_is_a_command(void)
{
    struct mw_doc_in in;
    zram_machine(&in, 1000); /* zram, swappiness 60: swappiness */
    static const enum mw_vm_knob knobs[] = {VM_MIN_FREE_KBYTES,
                                            VM_WATERMARK_SCALE_FACTOR,
                                            VM_WATERMARK_BOOST_FACTOR,
                                            VM_OVERCOMMIT_MEMORY,
                                            VM_DIRTY_RATIO,
                                            VM_DIRTY_BACKGROUND_RATIO};
    static const int64_t calm[] = {8000, 125, 0, 0, 20, 10};
    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
        in.vm.have[knobs[i]] = true;
        in.vm.value[knobs[i]] = calm[i];
    }
    collect(&in);
    struct mw_doc_in v = in;
    v.mi.kb[MI_SWAP_FREE] = 1000; /* swap nearly full */
    collect(&v);
    v = in; /* no swap at all */
    v.mi.kb[MI_SWAP_TOTAL] = v.mi.kb[MI_SWAP_FREE] = 0;
    v.swaps.count = 0;
    collect(&v);
    v = in; /* a zram device at 2 % of RAM */
    v.zram.count = 1;
    v.zram.dev[0].disksize = 8ull << 20;
    strcpy(v.zram.dev[0].algorithm, "lz4");
    collect(&v);
    v = in; /* disk swap at 180; readahead off for zram */
    strcpy(v.swaps.dev[0].name, "/swapfile");
    v.vm.value[VM_SWAPPINESS] = 180;
    collect(&v);
    v = in;
    v.vm.value[VM_PAGE_CLUSTER] = 3;
    v.vm.value[VM_MIN_FREE_KBYTES] = 100;
    v.vm.value[VM_WATERMARK_SCALE_FACTOR] = 10;
    v.vm.value[VM_WATERMARK_BOOST_FACTOR] = 15000;
    v.vm.value[VM_OVERCOMMIT_MEMORY] = 1;
    v.vm.value[VM_DIRTY_BACKGROUND_RATIO] = 20;
    strcpy(v.thp, "always");
    v.lru_gen = 0;
    collect(&v);
    v = in; /* strict overcommit at its limit, 2 GiB dirty, MGLRU without min_ttl */
    v.vm.value[VM_OVERCOMMIT_MEMORY] = 2;
    v.mi.kb[MI_COMMIT_LIMIT] = 1000;
    v.mi.kb[MI_COMMITTED_AS] = 990;
    v.mi.kb[MI_MEM_AVAILABLE] = 10ull << 20;
    v.mi.have[MI_COMMIT_LIMIT] = v.mi.have[MI_COMMITTED_AS] = v.mi.have[MI_MEM_AVAILABLE] = true;
    v.lru_gen = 7;
    v.min_ttl_ms = 0;
    v.have_procs = true; /* and no killer */
    collect(&v);
    v = in; /* memwarden in dry-run; a big process at -1000; kernel kills; reclaim */
    v.have_procs = true;
    strcpy(v.killers, "memwarden[5]");
    v.have_daemon_state = v.daemon_dry_run = true;
    v.big_unkillable = 1;
    v.big_unkillable_pid = 700;
    strcpy(v.big_unkillable_name, "db[700]");
    v.have_vmstat = true;
    v.oom_kill = 3;
    v.sample_ms = 1000;
    v.direct_scan_pages = 10;
    v.have_cgroups = true; /* a unit without a limit holding most of RAM */
    strcpy(v.cg_name, "system.slice");
    strcpy(v.cg_dir, "/sys/fs/cgroup/system.slice");
    v.cg_usage = 400ull << 20;
    collect(&v);
    strcpy(v.cg_name, "docker"); /* a cgroup of no unit (v1) */
    strcpy(v.cg_dir, "/sys/fs/cgroup/memory/docker");
    v.cg_v1 = true;
    collect(&v);

    static const char *const starts[] = {"memwarden ", "sysctl -w ", "echo ",
                                         "systemctl set-property "};
    const char *out = getenv("MW_DOCTOR_FIXES");
    FILE *f = out ? fopen(out, "a") : NULL;
    for (int k = 0; k < nfixes; k++) {
        const char *x = fixes[k];
        bool cmd = false;
        for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
            cmd = cmd || strncmp(x, starts[i], strlen(starts[i])) == 0;
        if (!cmd || strstr(x, "...") || strchr(x, '<') || strstr(x, "(without"))
            fprintf(stderr, "  not a command: %s\n", x);
        CHECK(cmd && !strstr(x, "...") && !strchr(x, '<') && !strstr(x, "(without"));
        if (f)
            fprintf(f, "%s\n", x);
    }
    if (f)
        fclose(f);
    CHECK(nfixes >= 20); /* each branch above reached its fix */
}

int main(void)
{
    RUN(test_gather_capture);
    RUN(test_gather_daemon_files);
    RUN(test_gather_no_meminfo);
    RUN(test_tune_plan);
    RUN(test_tune_set_values);
    RUN(test_swappiness_for_zram);
    RUN(test_swap_full_is_problem);
    RUN(test_min_free_and_missing);
    RUN(test_profiles);
    RUN(test_every_fix_is_a_command);
    return TESTS_DONE();
}
