#!/bin/sh
# CLI tests of `memwarden daemon`: help, usage errors, --check-config on the
# documented example and on bad files, --choose-once on a captured /proc.
. tests/lib.sh
T=cli_daemon
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$MW_BIN" daemon --help >"$TMP/help" 2>&1
check $T.help grep -q '^SYNOPSIS' "$TMP/help"

"$MW_BIN" daemon --no-such-option >/dev/null 2>&1
check $T.unknown_option_is_usage_error [ $? -eq 2 ]

"$MW_BIN" daemon --check-config contrib/memwarden.conf >"$TMP/out" 2>&1
check $T.example_config_passes [ $? -eq 0 ]
check $T.example_config_summary grep -q 'contrib/memwarden.conf: ok (strategy psi' "$TMP/out"

printf '[killer]\nro.lmk.medium = 700\nthrashing_limit = lots\n' >"$TMP/bad.conf"
"$MW_BIN" daemon --check-config "$TMP/bad.conf" >"$TMP/out" 2>&1
st=$?
check $T.bad_config_exit_3 [ $st -eq 3 ]
check $T.bad_config_names_line grep -q 'bad.conf: line 3: thrashing_limit' "$TMP/out"

"$MW_BIN" daemon --check-config "$TMP/missing.conf" >"$TMP/out" 2>&1
check $T.missing_config_exit_1 [ $? -eq 1 ]

# Every error of the file in one pass, each with its line, then the count.
printf '[killer]\nthrashing_limit = lots\nno_such = 1\n[bogus]\nkill_timeout_ms = 100\njust words\nlow_ram = maybe\n' >"$TMP/bad5.conf"
"$MW_BIN" daemon --check-config "$TMP/bad5.conf" >"$TMP/out" 2>&1
st=$?
check $T.every_error_exit_3 [ $st -eq 3 ]
for l in 'line 2: thrashing_limit' "line 3: unknown key 'no_such'" 'line 4: unknown section \[bogus\]' \
    "line 6: expected 'key = value'" "line 7: low_ram: 'maybe'" '5 errors$'; do
    check "$T.every_error: $l" grep -q "bad5.conf: $l" "$TMP/out"
done

printf 'ro.config.low_ram = true\nsys.lmk.minfree_levels = 18432:0,23040:100\nro.lmk.use_minfree_levels = 1\n' >"$TMP/android.conf"
"$MW_BIN" daemon --check-config "$TMP/android.conf" >"$TMP/out" 2>&1
check $T.android_props grep -q 'strategy minfree, low-RAM profile, psi some 200ms' "$TMP/out"

"$MW_BIN" --root "$FIX/daemon-procs" daemon --choose-once >"$TMP/out" 2>&1
check $T.choose_once grep -q '^victim pid=4303 uid=1001 adj=900 ' "$TMP/out"

# the runaway tree: the young culprit (900) before the idle cached app (960)
"$MW_BIN" --root "$FIX/daemon-runaway" daemon --choose-once >"$TMP/out" 2>&1
check $T.choose_once_runaway grep -q '^runaway: 327680kB growing 32768kB/s' "$TMP/out"
"$MW_BIN" --root "$FIX/daemon-runaway" daemon --choose-once --json >"$TMP/out" 2>&1
check $T.choose_once_runaway_json grep -q '"pid":300,.*"runaway":{"footprint":335544320,"growth":33554432,"group":0}}}$' "$TMP/out"

"$MW_BIN" --root "$FIX/daemon-procs" daemon --choose-once --json --min-adj 901 >"$TMP/out" 2>&1
check $T.choose_once_json_none grep -q '"victim":null}' "$TMP/out"

"$MW_BIN" --root "$FIX/daemon-procs" daemon --foreground --dry-run >"$TMP/out" 2>&1
check $T.refuses_captured_tree [ $? -eq 1 ]
