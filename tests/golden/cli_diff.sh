#!/bin/sh
# diff on a hand-built pair of snapshot trees (tests/fixtures/diff-a, -b:
# the `memwarden snapshot` layout): a process that grew, one restarted
# under a new PID whose old PID was reused, one gone, new ones (one with a
# hostile name), a truncated stat, dentry growth. Golden outputs.
. tests/lib.sh
G=tests/golden/diff
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
A=tests/fixtures/diff-a B=tests/fixtures/diff-b
golden() { # NAME EXPECTED_RC ARGS...
    n=$1 want=$2; shift 2
    golden_run "diff_$n" "$G/$n.out" "$want" "$MW_BIN" diff "$@"
}
golden text 0 $A $B
golden json 0 $A $B --json
golden top3 0 $A $B --top 3
golden same 0 $A $A

"$MW_BIN" diff $A $B --json >"$tmp/j"
tr -d ' \n' <"$tmp/j" >"$tmp/flat"
check diff_restart_matched_by_program grep -q '"change":"restarted","comm":"visioncore","program":"python3","pid_a":200,"pid_b":300' "$tmp/flat"
check diff_reused_pid_is_new grep -q '"change":"new","comm":"sh","program":"sh","pid_b":200' "$tmp/flat"
check diff_same_process_grew grep -q '"change":"same","comm":"nginx","program":"nginx","pid_a":100,"pid_b":100' "$tmp/flat"
check diff_unchanged_left_out sh -c "! grep -q '\"cron\"' '$tmp/flat'"
check diff_slab_dentry_first sh -c "grep -o '\"slab\":\[{\"cache\":\"[a-z0-9_-]*\"' '$tmp/flat' | grep -q dentry"
"$MW_BIN" diff / / >/dev/null 2>&1; rc=$?
check diff_live_roots test $rc = 0
"$MW_BIN" diff $A >/dev/null 2>&1; r1=$?
"$MW_BIN" diff $A "$tmp/none" >/dev/null 2>&1; r2=$?
"$MW_BIN" diff $A tests/fixtures/slab-live >/dev/null 2>&1; r3=$?
check diff_errors test "$r1$r2$r3" = 211

# issue 17: a snapshot time no clock can show (float-to-integer UB before),
# FIFOs where diff reads files (it hung on them)
cp -R $A "$tmp/a" && cp -R $B "$tmp/b"
sed 's/"time": [0-9]*/"time": 1e300/' $A/memwarden-snapshot.json >"$tmp/a/memwarden-snapshot.json"
sed 's/"time": [0-9]*/"time": 1e19/' $B/memwarden-snapshot.json >"$tmp/b/memwarden-snapshot.json"
"$MW_BIN" diff "$tmp/a" "$tmp/b" >"$tmp/out" 2>&1; rc=$?
check diff_huge_time test "$rc/$(grep -c UTC "$tmp/out")" = "0/0"
"$MW_BIN" diff "$tmp/a" "$tmp/b" --json >"$tmp/out" 2>&1; rc=$?
check diff_huge_time_json sh -c "test $rc = 0 && ! grep -q span_s '$tmp/out'"
rm -f "$tmp/b/memwarden-snapshot.json" "$tmp/b/proc/100/cmdline" "$tmp/b/proc/100/status"
mkfifo "$tmp/b/memwarden-snapshot.json" "$tmp/b/proc/100/cmdline" "$tmp/b/proc/100/status"
timeout 10 "$MW_BIN" diff "$tmp/a" "$tmp/b" >/dev/null 2>&1; rc=$?
check diff_fifo_files_skipped test "$rc" = 0
rm -f "$tmp/b/proc/meminfo" && mkfifo "$tmp/b/proc/meminfo"
timeout 10 "$MW_BIN" diff "$tmp/a" "$tmp/b" >/dev/null 2>"$tmp/err"; rc=$?
check diff_fifo_meminfo_refused sh -c "test $rc = 1 && grep -q 'not a regular file' '$tmp/err'"

# issue 17 / house rule: text from the snapshots (host name, process names,
# slab cache names) goes through the text sanitiser: no terminal escapes
ESC=$(printf '\033') BEL=$(printf '\007')
cp -R $A "$tmp/ea" && cp -R $B "$tmp/eb"
# (in the JSON as \u escapes: a raw control byte makes the file invalid JSON)
sed 's/"hostname": "[^"]*"/"hostname": "evil\\u001b]0;pwned\\u0007\\u001b[2Jhost"/' $B/memwarden-snapshot.json >"$tmp/eb/memwarden-snapshot.json"
sed "s/^700 (evil) Z 1 2 3)/700 (${ESC}[31mred)/" $B/proc/700/stat >"$tmp/eb/proc/700/stat"
sed "s/^dentry /den${ESC}[1mtry /" $B/proc/slabinfo >"$tmp/eb/proc/slabinfo"
"$MW_BIN" diff "$tmp/ea" "$tmp/eb" >"$tmp/out" 2>&1; rc=$?
check diff_text_sanitised sh -c "test $rc = 0 && ! grep -q '$ESC' '$tmp/out' && ! grep -q '$BEL' '$tmp/out' && grep -q 'evil?]0;pwned??\[2Jhost' '$tmp/out' && grep -q '?\[31mred ' '$tmp/out' && grep -q 'den?\[1mtry ' '$tmp/out'"
