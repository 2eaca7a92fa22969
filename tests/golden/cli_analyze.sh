#!/bin/sh
# analyze on committed logs of every format (golden outputs): Luat-style
# "Mem Free Size KB" lines (decline, too big from the start, a collector's
# sawtooth), free -k from a cron job with dates, free -m, old procps free,
# a memwarden record, and --pattern; garbage lines are skipped and counted.
. tests/lib.sh
G=tests/golden/analyze
L=tests/fixtures/logs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
golden() { # NAME EXPECTED_RC ARGS...
    n=$1 want=$2; shift 2
    golden_run "analyze_$n" "$G/$n.out" "$want" "$MW_BIN" analyze "$@"
}
golden luat_decline 3 $L/luat-decline.log
golden luat_toobig 3 $L/luat-toobig.log
golden luat_stable 0 $L/luat-stable.log
golden free_k_cron 3 $L/free-k-cron.log
golden free_m_stable 0 $L/free-m-stable.log
golden free_old 3 $L/free-old.log
golden record 3 tests/fixtures/records/visioncore-2h.jsonl
golden pattern 3 $L/rtos-pattern.log --pattern 'heap_free=([0-9a-z]+)' --interval 10s
golden luat_decline_json 3 $L/luat-decline.log --json
golden luat_toobig_json 0 $L/luat-toobig.log --json --danger 100K
golden free_k_cron_json 3 $L/free-k-cron.log --json

member() { grep -m1 "^  \"$2\": " "$1" | sed 's/^  "[^"]*": //; s/,$//; s/"//g'; }
"$MW_BIN" analyze $L/luat-decline.log --json >"$tmp/j"
check analyze_counts_garbage test "$(member "$tmp/j" skipped_lines)" = 15
"$MW_BIN" analyze $L/free-k-cron.log --json >"$tmp/j"
check analyze_free_garbage test "$(member "$tmp/j" skipped_lines)" = 2
check analyze_free_uses_dates test "$(member "$tmp/j" timestamps)" = true
"$MW_BIN" analyze $L/luat-stable.log --danger 700K --json >"$tmp/j"; rc=$?
check analyze_danger_option test "$rc/$(member "$tmp/j" below_danger)/$(member "$tmp/j" verdict)" = "3/true/too_big"
cat $L/luat-toobig.log | "$MW_BIN" analyze - --json >"$tmp/j"
check analyze_stdin test "$(member "$tmp/j" verdict)" = too_big
"$MW_BIN" analyze $L/luat-toobig.log --interval 1m --json >"$tmp/j"
check analyze_interval_option test "$(member "$tmp/j" window_s)" = 3540

# errors
"$MW_BIN" analyze >/dev/null 2>&1; r1=$?
"$MW_BIN" analyze $L/rtos-pattern.log --pattern 'heap_free=[0-9]+' >/dev/null 2>&1; r2=$?
"$MW_BIN" analyze "$tmp/missing.log" >/dev/null 2>&1; r3=$?
printf 'hello\nworld\n' >"$tmp/unknown.log"
"$MW_BIN" analyze "$tmp/unknown.log" >/dev/null 2>&1; r4=$?
printf 'Mem Free Size KB: 5\n' >"$tmp/one.log"
"$MW_BIN" analyze "$tmp/one.log" >/dev/null 2>&1; r5=$?
"$MW_BIN" analyze $L/luat-stable.log --unit parsecs >/dev/null 2>&1; r6=$?
check analyze_errors test "$r1$r2$r3$r4$r5$r6" = 221112

# issue 17: short lines after a sample (a heap over-read under ASan), numbers
# no memory can hold (float-to-integer UB), a FIFO or a device as the log
printf 'Mem: 1 2 3\na\n' >"$tmp/overread.log"
"$MW_BIN" analyze "$tmp/overread.log" >/dev/null 2>"$tmp/err"; rc=$?
check analyze_short_line_overread test "$rc" = 1
printf 'Mem Free Size KB: %s\n' 900 1e300 inf nan 880 1e30 860 >"$tmp/huge.log"
"$MW_BIN" analyze "$tmp/huge.log" --json >"$tmp/j" 2>"$tmp/err"; rc=$?
check analyze_huge_values_skipped test "$rc/$(member "$tmp/j" samples)/$(member "$tmp/j" skipped_lines)" = "0/3/4"
mkfifo "$tmp/fifo"
timeout 10 "$MW_BIN" analyze "$tmp/fifo" >/dev/null 2>"$tmp/err"; rc=$?
check analyze_fifo_refused sh -c "test $rc = 1 && grep -q 'not a regular file' '$tmp/err'"
timeout 10 "$MW_BIN" analyze /dev/zero >/dev/null 2>"$tmp/err"; rc=$?
check analyze_device_refused sh -c "test $rc = 1 && grep -q 'not a regular file' '$tmp/err'"

# issue 16: `date; free -m` from a cron job, no "free -m" text in the log:
# MiB from the totals (24000 is 23.4 GiB), said in the output; a total that
# fits two units is refused with the two readings, --unit settles it
golden free_m_cron 0 $L/free-m-cron.log
"$MW_BIN" analyze $L/free-m-cron.log --json >"$tmp/j"
check analyze_free_m_inferred test "$(member "$tmp/j" total_bytes)/$(member "$tmp/j" unit_from)" = "25165824000/inferred"
printf 'Mem: 480 100 200 0 180 300\nMem: 480 100 200 0 180 290\nMem: 480 100 200 0 180 280\n' >"$tmp/amb.log"
"$MW_BIN" analyze "$tmp/amb.log" >"$tmp/out" 2>"$tmp/err"; rc=$?
check analyze_unit_ambiguous_refused sh -c "test $rc = 1 && grep -q 'cannot tell the unit' '$tmp/err' && grep -q -- '--unit M or --unit G' '$tmp/err' && ! test -s '$tmp/out'"
"$MW_BIN" analyze "$tmp/amb.log" --unit M --json >"$tmp/j"; rc=$?
check analyze_unit_option test "$(member "$tmp/j" unit_bytes)/$(member "$tmp/j" unit_from)/$(member "$tmp/j" total_bytes)" = "1048576/option/503316480"

# issue 16: a serial log with line noise: NULs, binary garbage, invalid
# UTF-8, \r\n, a 10 KB line, noise before a sample on its line; every one
# of the 200 samples is read, the noise lines are skipped and counted
golden luat_noise 0 $L/luat-noise.log
"$MW_BIN" analyze $L/luat-noise.log --json >"$tmp/j"
check analyze_noise_all_samples test "$(member "$tmp/j" samples)/$(member "$tmp/j" skipped_lines)/$(member "$tmp/j" garbled_lines)/$(member "$tmp/j" long_lines)" = "200/5/6/1"
printf 'Mem Free Size KB: 900\n\000\000\000\nMem Free Size KB: 890\nMem Free Size KB: 880\n' >"$tmp/nul.log"
"$MW_BIN" analyze "$tmp/nul.log" --json >"$tmp/j"
check analyze_nul_not_end test "$(member "$tmp/j" samples)" = 3
printf '\000\000 noise\nMem Free Size KB: 900\nMem Free Size KB: 890\n' >"$tmp/nul1.log"
"$MW_BIN" analyze "$tmp/nul1.log" --json >"$tmp/j"
check analyze_nul_first_line test "$(member "$tmp/j" samples)" = 2

# issue 16: a decline that already ended under the danger line: "already
# under it", never "reaches the danger line in 0 s"
golden luat_below 3 $L/luat-below.log
"$MW_BIN" analyze $L/luat-below.log >"$tmp/out"
check analyze_already_below sh -c "grep -q 'already under the danger line' '$tmp/out' && ! grep -q 'danger line in 0 s' '$tmp/out'"
"$MW_BIN" analyze $L/luat-below.log --json >"$tmp/j"
check analyze_already_below_json test "$(member "$tmp/j" under_danger_now)/$(member "$tmp/j" time_to_danger_s)" = "true/0"
